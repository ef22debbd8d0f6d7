//! `tokenscope sandbox`: run the sandbox tenant in the foreground until Ctrl-C, printing
//! what a user needs (URLs, clients, secrets, admin routes) and errors with their hints.
//!
//! Owns the command's flags and its text. Must not reach into the sandbox's internals: it
//! uses the same [`Sandbox`] / [`SandboxHandle`] API as any other caller (plus the admin
//! route list for the banner).

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context as _;

use super::admin;
use super::client_info::ClientInfo;
use super::error::SandboxError;
use super::handle::SandboxHandle;
use super::model::{TenantModel, TokenVersion};
use super::options::{IssuerStyle, SandboxOptions, default_key_store};
use super::server::Sandbox;

/// Run a local, Entra-faithful tenant: identity provider + protected weather API.
#[derive(Debug, Clone, clap::Args)]
pub struct SandboxArgs {
    /// Address to listen on; port 0 picks a free port.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:0")]
    pub addr: SocketAddr,

    /// Serve HTTPS with a throwaway CA (MSAL requires https); the CA's PEM path is printed.
    #[arg(long)]
    pub tls: bool,

    /// Tenant model to serve instead of the built-in one (see assets/sandbox.toml).
    #[arg(long, value_name = "FILE")]
    pub tenant: Option<PathBuf>,

    /// Fixed token lifetime (e.g. 90s, 10m); default: random 60-90 minutes, like Entra.
    #[arg(long, value_name = "DUR", value_parser = humantime::parse_duration)]
    pub token_lifetime: Option<Duration>,

    /// Issuer strings in tokens: the sandbox's own URL, or Entra's real ones.
    #[arg(long, value_enum, value_name = "STYLE", default_value = "local")]
    pub issuer_style: IssuerStyle,

    /// Write a tokenscope config with one profile per sandbox client to PATH, and the
    /// certificate and federated token files of clients without a secret next to it.
    #[arg(long, value_name = "PATH")]
    pub write_config: Option<PathBuf>,

    /// Keep the sandbox's generated keys (signing keys, generated client certificates) in
    /// DIR across runs instead of the default, sandbox-keys in the data directory (e.g.
    /// ~/.local/share/tokenscope/sandbox-keys).
    #[arg(long, value_name = "DIR", conflicts_with = "no_key_store")]
    pub key_store: Option<PathBuf>,

    /// Generate fresh keys for this run only, in memory. By default they are kept in the
    /// key store and reused: a start skips RSA key generation (most of its time) and the
    /// certificate thumbprints stay the same. The keys protect nothing either way, and
    /// rotate-key always makes a new signing key.
    #[arg(long)]
    pub no_key_store: bool,
}

/// Starts the sandbox, prints how to use it (through `print`, one call per block of lines:
/// the front end's printer, which sanitises and survives a closed pipe), waits for Ctrl-C
/// and shuts down cleanly.
pub async fn run(args: SandboxArgs, print: &dyn Fn(&str)) -> anyhow::Result<()> {
    // Listening for Ctrl-C from the start: a SIGINT while the sandbox starts, or right after
    // its banner says to press it, stops it cleanly instead of killing the process.
    let ctrl_c = tokio::signal::ctrl_c();
    tokio::pin!(ctrl_c);
    let early = futures_util::poll!(&mut ctrl_c);
    let tenant = match &args.tenant {
        Some(path) => TenantModel::from_file(path).map_err(reported)?,
        None => TenantModel::builtin(),
    };
    let handle = Sandbox::start(SandboxOptions {
        addr: args.addr,
        tls: args.tls,
        tenant,
        token_lifetime: args.token_lifetime,
        issuer_style: args.issuer_style,
        key_store: if args.no_key_store {
            None
        } else {
            args.key_store.clone().or_else(default_key_store)
        },
        ..SandboxOptions::default()
    })
    .await
    .map_err(reported)?;

    if let Some(path) = &args.write_config
        && let Err(e) = handle.write_config(path)
    {
        handle.shutdown().await;
        return Err(config_not_written(path, &e));
    }

    print(summary(&handle, args.write_config.as_deref()).trim_end_matches('\n'));
    let waited = match early {
        std::task::Poll::Ready(result) => result,
        std::task::Poll::Pending => ctrl_c.await,
    };
    print("\nstopping the sandbox…");
    handle.shutdown().await;
    waited.context("cannot listen for Ctrl-C; the sandbox was stopped")?;
    Ok(())
}

/// The error as the terminal shows it: what happened, the cause, and the hint last.
fn reported(e: SandboxError) -> anyhow::Error {
    anyhow::anyhow!(e.report())
}

fn config_not_written(path: &Path, e: &std::io::Error) -> anyhow::Error {
    let detail = match e
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<SandboxError>())
    {
        Some(sandbox) => sandbox.report(),
        None => format!("{e}\n  hint: check that the directory exists and is writable"),
    };
    anyhow::anyhow!(
        "cannot write the sandbox config to {}: {detail}",
        path.display()
    )
}

/// What `tokenscope sandbox` prints at start.
pub fn summary(handle: &SandboxHandle, config: Option<&Path>) -> String {
    let mut s = String::new();
    let authority = handle.authority();
    let _ = writeln!(
        s,
        "tokenscope sandbox: a local, Entra-faithful tenant. Everything it holds is\n\
         sandbox-only: its keys and secrets protect nothing, so secrets are printed below.\n"
    );
    let _ = writeln!(s, "  authority       {authority}");
    let _ = writeln!(s, "  tenant id       {}", handle.tenant_id());
    let _ = writeln!(s, "  discovery       {}", handle.discovery_url());
    let _ = writeln!(s, "  token endpoint  {}", handle.token_endpoint());
    let _ = writeln!(s, "  JWKS            {}", handle.jwks_uri());
    let _ = writeln!(s, "  issuer (v2)     {}", handle.issuer(TokenVersion::V2));
    let _ = writeln!(
        s,
        "  weather API     {}?country=US&units=metric",
        handle.api_url_template()
    );
    let _ = writeln!(s, "  scope           {}", handle.api_scope());
    let readers: Vec<String> = handle
        .clients()
        .into_iter()
        .filter(ClientInfo::reads_graph)
        .map(|c| c.name)
        .collect();
    let _ = writeln!(
        s,
        "  Microsoft Graph {}  (Application.Read.All: {})",
        handle.graph_url(),
        if readers.is_empty() {
            "no client".to_string()
        } else {
            readers.join(", ")
        }
    );
    let _ = writeln!(s, "  required role   {}", handle.required_role());
    if let Some(ca) = handle.ca_pem_path() {
        let _ = writeln!(
            s,
            "  CA certificate  {}  (trust it as ca_file; removed when the sandbox stops)",
            ca.display()
        );
    }
    if let Some(path) = config {
        let _ = writeln!(
            s,
            "  config written  {}  (use it with --config)",
            path.display()
        );
    }
    let _ = writeln!(
        s,
        "  federation      {}  (workload token issuer)",
        handle.federation_issuer()
    );
    match handle.key_store() {
        Some(dir) => {
            let _ = writeln!(
                s,
                "  key store       {}  (keys reused across runs; --no-key-store for fresh ones)",
                dir.display()
            );
        }
        None => {
            let _ = writeln!(
                s,
                "  key store       none: keys generated for this run only"
            );
        }
    }
    let config_dir = config.map(|p| match p.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    });
    let _ = writeln!(s, "\nclients:");
    for c in handle.clients() {
        client_lines(&mut s, &c, config_dir.as_deref());
    }
    let cacert = handle
        .ca_pem_path()
        .map(|p| format!("--cacert {} ", p.display()))
        .unwrap_or_default();
    let _ = writeln!(
        s,
        "\nadmin routes (loopback only), e.g. curl {cacert}-X POST {}/_sandbox/rotate-key:",
        handle.base_url()
    );
    for route in admin::ROUTES {
        let _ = writeln!(s, "  {route}");
    }
    let _ = writeln!(s, "\nPress Ctrl-C to stop.");
    s
}

/// A client's lines in the banner: id, roles, and each credential (with the file a
/// written config refers to, for clients without a secret).
fn client_lines(s: &mut String, c: &ClientInfo, config_dir: Option<&Path>) {
    let roles = if c.granted_roles.is_empty() {
        "(no roles granted)".to_string()
    } else {
        c.granted_roles.join(", ")
    };
    let _ = writeln!(s, "  {:<16} client_id {}", c.name, c.client_id);
    let _ = writeln!(s, "  {:<16} roles     {roles}", "");
    let not_granted: Vec<&str> = c
        .configured_roles
        .iter()
        .filter(|r| !c.granted_roles.contains(r))
        .map(String::as_str)
        .collect();
    if !not_granted.is_empty() {
        let _ = writeln!(
            s,
            "  {:<16} configured, not granted: {}",
            "",
            not_granted.join(", ")
        );
    }
    if !c.graph_roles.is_empty() {
        let _ = writeln!(s, "  {:<16} graph     {}", "", c.graph_roles.join(", "));
    }
    if c.has_secret() {
        let _ = writeln!(
            s,
            "  {:<16} secret    {}  ({} {})",
            "",
            c.secret,
            if c.secret_expired {
                "EXPIRED"
            } else {
                "expires"
            },
            c.secret_expires.format("%Y-%m-%d")
        );
    }
    for thumbprint in &c.certificate_thumbprints {
        let _ = writeln!(s, "  {:<16} cert      thumbprint {thumbprint}", "");
    }
    if !c.has_secret()
        && !c.certificate_thumbprints.is_empty()
        && let Some(dir) = config_dir
    {
        let _ = writeln!(
            s,
            "  {:<16} cert file {}  (certificate + key; also .crt.pem, .key.pem, .pfx)",
            "",
            dir.join(format!("{}.pem", c.name)).display()
        );
    }
    for fic in &c.federated_credentials {
        let _ = writeln!(
            s,
            "  {:<16} federated issuer {}  subject {}  audience {}",
            "",
            fic.issuer,
            fic.subject,
            fic.audiences.join(",")
        );
    }
    if !c.has_secret()
        && c.certificate_thumbprints.is_empty()
        && !c.federated_credentials.is_empty()
        && let Some(dir) = config_dir
    {
        let _ = writeln!(
            s,
            "  {:<16} token file {}  (rewritten every 10 minutes)",
            "",
            dir.join(format!("{}.token", c.name)).display()
        );
    }
}
