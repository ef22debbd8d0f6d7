//! Writing tokenscope configurations for a running sandbox: one profile per client, with
//! its secret inline or its certificate / federated token file next to the config, and
//! where the profile reads the app-role set-up (the sandbox's Graph, with the profile's own
//! credential when its client holds Application.Read.All, else another profile's).
//!
//! Owns the config's text and the files written with it. Must not change the tenant beyond
//! registering a certificate it generates for a client that has none it can write.

use std::io;
use std::path::{Path, PathBuf};

use super::SandboxHandle;
use crate::sandbox::credentials;
use crate::sandbox::error::SandboxError;

/// How a profile written by [`SandboxHandle::config_toml_in`] authenticates, when not with
/// a secret.
enum ProfileCredential {
    Certificate(PathBuf),
    Federated(PathBuf),
}

/// The file name of a path written next to the config (relative to the config's dir).
fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string())
}

impl SandboxHandle {
    /// A tokenscope configuration with one profile per client that has a secret (inline
    /// sandbox secrets). Certificate and federated clients need files next to the config:
    /// see [`SandboxHandle::config_toml_in`] and [`SandboxHandle::write_config`].
    pub fn config_toml(&self) -> String {
        self.render_config(&[])
    }

    /// Like [`SandboxHandle::config_toml`], plus profiles for clients without a secret:
    /// writes their credential files into `dir` (`{client}.pem` for a certificate,
    /// `{client}.token` for a federated token) and refers to them by file name, relative to
    /// the config file, which is expected in `dir`.
    pub fn config_toml_in(&self, dir: &Path) -> Result<String, SandboxError> {
        let mut extra = Vec::new();
        for c in self.clients() {
            if c.has_secret() {
                continue;
            }
            if !c.certificate_thumbprints.is_empty() {
                let file = match self.shared.own_certificate(&c.name)? {
                    Some(cert) => credentials::write_cert_files(&c.name, &cert, dir)?,
                    None => self.write_client_certificate(&c.name, dir)?,
                };
                extra.push((
                    c.name.clone(),
                    ProfileCredential::Certificate(file.combined_pem),
                ));
            } else if !c.federated_credentials.is_empty() {
                let path = dir.join(format!("{}.token", c.name));
                self.write_federated_token(&c.name, &path)?;
                extra.push((c.name.clone(), ProfileCredential::Federated(path)));
            }
        }
        Ok(self.render_config(&extra))
    }

    fn render_config(&self, extra: &[(String, ProfileCredential)]) -> String {
        let clients = self.clients();
        let required = self.required_role();
        let authority = self.authority();
        let scope = self.api_scope();
        let api_url = self.api_url_template();
        let graph_url = self.graph_url();
        let ca = self.ca_pem_path();
        let written = |c: &crate::sandbox::ClientInfo| {
            c.has_secret() || extra.iter().any(|(n, _)| *n == c.name)
        };
        // The profile that reads Graph for those whose client cannot.
        let graph_reader = clients
            .iter()
            .find(|c| c.reads_graph() && written(c))
            .map(|c| c.name.clone());
        let q = |s: &str| toml::Value::String(s.to_string()).to_string();

        let mut out = String::new();
        out.push_str("# tokenscope configuration for the local sandbox tenant, written by\n");
        out.push_str("# `tokenscope sandbox`. The secrets below are sandbox-only values that\n");
        out.push_str("# protect nothing; never put a real secret inline like this.\n");
        if let Some(first) = clients.iter().find(|c| c.name == "console-rw").or(clients
            .iter()
            .find(|c| c.has_secret() || extra.iter().any(|(n, _)| *n == c.name)))
        {
            out.push_str(&format!("default_profile = {}\n", q(&first.name)));
        }
        for c in &clients {
            let file_credential = extra
                .iter()
                .find(|(name, _)| *name == c.name)
                .map(|(_, f)| f);
            if !c.has_secret() && file_credential.is_none() {
                continue;
            }
            let roles = if c.granted_roles.is_empty() {
                vec![required.clone()]
            } else {
                c.granted_roles.clone()
            };
            let roles = toml::Value::Array(roles.into_iter().map(toml::Value::String).collect());
            out.push_str(&format!("\n[profiles.{}]\n", c.name));
            out.push_str(&format!("authority = {}\n", q(&authority)));
            out.push_str(&format!("client_id = {}\n", q(&c.client_id)));
            match file_credential {
                Some(ProfileCredential::Certificate(path)) => out.push_str(&format!(
                    "client_certificate_path = {}\n",
                    q(&file_name(path))
                )),
                Some(ProfileCredential::Federated(path)) => {
                    out.push_str(&format!("federated_token_file = {}\n", q(&file_name(path))))
                }
                None => {
                    out.push_str(&format!("client_secret = {}\n", q(&c.secret)));
                    // As the portal shows it under Certificates & secrets: the Config pane
                    // counts it down (and flags the expired-secret client).
                    out.push_str(&format!(
                        "secret_expires = {}\n",
                        q(&c.secret_expires
                            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
                    ));
                }
            }
            out.push_str(&format!("scope = {}\n", q(&scope)));
            out.push_str(&format!("api_url = {}\n", q(&api_url)));
            out.push_str(&format!("expected_roles = {roles}\n"));
            out.push_str(&format!("graph_url = {}\n", q(&graph_url)));
            match (&graph_reader, c.reads_graph()) {
                (_, true) => out.push_str("graph_credential = \"profile\"\n"),
                (Some(reader), false) => {
                    out.push_str(&format!("graph_credential = {}\n", q(reader)))
                }
                // No client can read Graph: the profile keeps the default (none).
                (None, false) => {}
            }
            if let Some(ca) = &ca {
                out.push_str(&format!("ca_file = {}\n", q(&ca.display().to_string())));
            }
        }
        out
    }

    /// Writes [`SandboxHandle::config_toml_in`] to `path` (mode 0600 on Unix: it holds
    /// secrets), with the certificate and token files in the same directory.
    pub fn write_config(&self, path: &Path) -> io::Result<()> {
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let text = self.config_toml_in(&dir).map_err(io::Error::other)?;
        use std::io::Write as _;
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt as _;
            options.mode(0o600);
        }
        let mut file = options.open(path)?;
        #[cfg(unix)]
        {
            // `mode` only applies when the file is created; tighten an existing one too.
            use std::os::unix::fs::PermissionsExt as _;
            file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
        }
        file.write_all(text.as_bytes())?;
        file.sync_all()
    }
}
