//! Configuration: the TOML model, where it is looked for, environment overrides, and the
//! resolved [`Profile`] every command works from.
//!
//! Precedence for a value of the selected profile, highest first:
//! 1. azure-identity's environment variables (`AZURE_CLIENT_SECRET`, `AZURE_CLIENT_ID`,
//!    `AZURE_TENANT_ID`, `AZURE_AUTHORITY_HOST`),
//! 2. the profile in the config file.
//!
//! The config file itself is found by `--config PATH`, then `$TOKENSCOPE_CONFIG`, then
//! `config.toml` in the platform config directory.

mod error;
mod file;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

pub use error::ConfigError;
pub use file::{ConfigFile, ProfileFile, Seconds};

use crate::secret::ClientSecret;

/// Default connect timeout for every HTTP request.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Default total timeout for every HTTP request.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// Default Entra authority host (public cloud).
pub const DEFAULT_AUTHORITY_HOST: &str = "https://login.microsoftonline.com";

/// National cloud authority hosts: (names accepted, host). Names are matched
/// case-insensitively; the Azure CLI's cloud names are accepted too.
pub const CLOUDS: &[(&[&str], &str)] = &[
    (
        &["public", "azurecloud", "azurepubliccloud"],
        "https://login.microsoftonline.com",
    ),
    (
        &["usgov", "usgovernment", "azureusgovernment"],
        "https://login.microsoftonline.us",
    ),
    (
        &["china", "azurechinacloud"],
        "https://login.chinacloudapi.cn",
    ),
];

/// The authority host for a cloud name (`public`, `usgov`, `china`, or an Azure CLI cloud
/// name) or a host URL (`https://login.example.com`), without a trailing slash.
pub fn authority_host(cloud: &str) -> Result<String, String> {
    let c = cloud.trim();
    let lower = c.to_ascii_lowercase();
    if let Some((_, host)) = CLOUDS
        .iter()
        .find(|(names, _)| names.contains(&lower.as_str()))
    {
        return Ok((*host).to_string());
    }
    if c.contains("://") {
        let url = check_http_url(c)?;
        if url.path().trim_matches('/').is_empty() {
            return Ok(c.trim_end_matches('/').to_string());
        }
        return Err("an authority host has no path; put the tenant in `tenant`".into());
    }
    Err("use public, usgov, china, or an authority host URL such as https://login.microsoftonline.us".into())
}

/// A snapshot of the environment variables the config reads, so tests can inject them
/// without touching the process environment.
#[derive(Debug, Clone, Default)]
pub struct Env(HashMap<String, String>);

impl Env {
    /// Read the variables tokenscope cares about from the process environment.
    pub fn from_process() -> Self {
        Self(std::env::vars().collect())
    }
    pub fn from_pairs<I, K, V>(pairs: I) -> Self
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<String>,
        V: Into<String>,
    {
        Self(
            pairs
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        )
    }
    /// The same environment without azure-identity's per-app variables (client id, tenant,
    /// authority host, credential): what profiles other than the selected one resolve with.
    /// `AZURE_CLIENT_CERTIFICATE_PASSWORD` stays: it is also the default PKCS#12 password of
    /// a profile's own certificate.
    pub fn without_azure_overrides(&self) -> Env {
        const APP: &[&str] = &[
            "AZURE_CLIENT_ID",
            "AZURE_TENANT_ID",
            "AZURE_AUTHORITY_HOST",
            "AZURE_CLIENT_SECRET",
            "AZURE_CLIENT_CERTIFICATE_PATH",
            "AZURE_CLIENT_SEND_CERTIFICATE_CHAIN",
            "AZURE_FEDERATED_TOKEN_FILE",
        ];
        Env(self
            .0
            .iter()
            .filter(|(k, _)| !APP.contains(&k.as_str()))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect())
    }
    /// A non-empty variable's value.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }
}

/// Where the config file was found, and every place that was considered.
#[derive(Debug, Clone)]
pub struct Lookup {
    /// (path, how it was chosen, exists)
    pub candidates: Vec<(PathBuf, &'static str, bool)>,
    /// The file that will be used, if any.
    pub chosen: Option<PathBuf>,
}

/// The platform's default config file (`…/tokenscope/config.toml`).
pub fn default_config_path() -> Option<PathBuf> {
    directories::ProjectDirs::from("", "", "tokenscope").map(|d| d.config_dir().join("config.toml"))
}

/// Find the config file: `--config`, then `$TOKENSCOPE_CONFIG`, then the platform default.
/// An explicit path (flag or variable) is used even if it does not exist, so that the error
/// names it instead of silently falling back.
pub fn locate(explicit: Option<&Path>, env: &Env) -> Lookup {
    let mut candidates = Vec::new();
    if let Some(p) = explicit {
        candidates.push((p.to_path_buf(), "--config", p.exists()));
        return Lookup {
            chosen: Some(p.to_path_buf()),
            candidates,
        };
    }
    if let Some(p) = env.get("TOKENSCOPE_CONFIG") {
        let p = PathBuf::from(p);
        let exists = p.exists();
        candidates.push((p.clone(), "$TOKENSCOPE_CONFIG", exists));
        return Lookup {
            chosen: Some(p),
            candidates,
        };
    }
    if let Some(p) = default_config_path() {
        let exists = p.exists();
        candidates.push((p.clone(), "platform config dir", exists));
        return Lookup {
            chosen: exists.then_some(p),
            candidates,
        };
    }
    Lookup {
        candidates,
        chosen: None,
    }
}

/// Where a value came from, for display ("from AZURE_CLIENT_ID").
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    File,
    EnvVar(&'static str),
}

/// Where the client secret came from. Shown to the user; the value never is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretSource {
    /// `client_secret_env = "NAME"`.
    EnvVar(String),
    /// `client_secret_file = "PATH"`.
    File(PathBuf),
    /// `client_secret = "…"` inline in the config file.
    Inline,
    /// `AZURE_CLIENT_SECRET` overriding the profile.
    AzureEnv,
}

impl std::fmt::Display for SecretSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SecretSource::EnvVar(v) => write!(f, "environment variable {v}"),
            SecretSource::File(p) => write!(f, "file {}", p.display()),
            SecretSource::Inline => f.write_str("inline client_secret in the config file"),
            SecretSource::AzureEnv => f.write_str("environment variable AZURE_CLIENT_SECRET"),
        }
    }
}

/// Where a certificate or federated-token path came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathSource {
    /// A key in the profile (`client_certificate_path`, `federated_token_file`).
    File,
    /// An environment variable (`AZURE_CLIENT_CERTIFICATE_PATH`, `AZURE_FEDERATED_TOKEN_FILE`).
    EnvVar(&'static str),
}

/// How the client proves its identity.
#[derive(Debug, Clone)]
pub enum Credential {
    Secret {
        secret: ClientSecret,
        source: SecretSource,
    },
    /// A certificate signs a client assertion (`client_assertion_type` jwt-bearer).
    Certificate {
        cert: std::sync::Arc<crate::auth::ClientCertificate>,
        source: PathSource,
        /// Send the chain as `x5c` (`send_certificate_chain = true`).
        send_chain: bool,
        alg: crate::auth::AssertionAlg,
    },
    /// A token file from another identity provider (workload identity) is the assertion.
    Federated {
        token: std::sync::Arc<crate::auth::FederatedToken>,
        source: PathSource,
    },
}

impl Credential {
    /// Short name for display.
    pub fn kind(&self) -> &'static str {
        match self {
            Credential::Secret { .. } => "client secret",
            Credential::Certificate { .. } => "certificate",
            Credential::Federated { .. } => "federated token",
        }
    }
    /// A fingerprint of the credential (SHA-256, hex, first 16 chars): lets a cache tell a
    /// rotated secret or certificate apart without ever storing the secret.
    pub fn fingerprint(&self) -> String {
        use sha2::{Digest, Sha256};
        let digest = match self {
            Credential::Secret { secret, .. } => Sha256::digest(secret.expose().as_bytes()),
            Credential::Certificate { cert, .. } => {
                Sha256::digest(format!("cert:{}", cert.info().x5t_s256).as_bytes())
            }
            Credential::Federated { token, .. } => {
                Sha256::digest(format!("federated:{}", token.path().display()).as_bytes())
            }
        };
        hex::encode(&digest[..8])
    }
}

/// A fully resolved profile: everything a command needs, validated.
#[derive(Debug, Clone)]
pub struct Profile {
    pub name: String,
    /// e.g. `https://login.microsoftonline.com/{tenant}`, no trailing slash.
    pub authority: String,
    pub authority_origin: Origin,
    /// The tenant segment of the authority (a GUID or a domain), if any.
    pub tenant: Option<String>,
    /// `{authority}/oauth2/v2.0/token` unless overridden.
    pub token_endpoint: String,
    pub client_id: String,
    pub client_id_origin: Origin,
    pub credential: Credential,
    pub scope: String,
    /// With a `{city}` placeholder.
    pub api_url: String,
    pub expected_roles: Vec<String>,
    pub ca_file: Option<PathBuf>,
    pub connect_timeout: Duration,
    pub timeout: Duration,
    /// Use the persistent token cache (`cache = false` turns it off).
    pub cache: bool,
    /// When the client secret expires, if the profile says.
    pub secret_expires: Option<chrono::DateTime<chrono::Utc>>,
    /// The config file this profile came from.
    pub config_path: Option<PathBuf>,
}

/// What a command asked for.
#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    pub config: Option<PathBuf>,
    pub profile: Option<String>,
}

/// A parsed config file and where it came from.
#[derive(Debug, Clone)]
pub struct Loaded {
    /// The file, or [`ENV_PROFILE_PATH`] for the implicit `env` profile.
    pub path: PathBuf,
    pub file: ConfigFile,
    /// No config file: the profile was made from environment variables alone.
    pub implicit: bool,
}

/// The name of the profile made from environment variables when there is no config file.
pub const ENV_PROFILE: &str = "env";
/// What errors name as the "file" of the implicit `env` profile.
pub const ENV_PROFILE_PATH: &str = "(environment variables)";

/// Variables that make the implicit `env` profile (with no config file): azure-identity's
/// names for the tenant, client and credential, and tokenscope's for the API.
pub const ENV_PROFILE_VARS: &[&str] = &[
    "AZURE_TENANT_ID",
    "AZURE_CLIENT_ID",
    "AZURE_CLIENT_SECRET | AZURE_CLIENT_CERTIFICATE_PATH | AZURE_FEDERATED_TOKEN_FILE",
    "TOKENSCOPE_SCOPE",
    "TOKENSCOPE_API_URL",
];

/// The implicit `env` profile, when the environment names one: `None` when none of its
/// variables is set, an error naming the missing ones when only some are.
fn env_profile(
    env: &Env,
    searched: &[(PathBuf, &'static str)],
) -> Option<Result<Loaded, ConfigError>> {
    let credential = [
        "AZURE_CLIENT_SECRET",
        "AZURE_CLIENT_CERTIFICATE_PATH",
        "AZURE_FEDERATED_TOKEN_FILE",
    ]
    .iter()
    .any(|v| env.get(v).is_some());
    let present = [
        env.get("AZURE_TENANT_ID").is_some(),
        env.get("AZURE_CLIENT_ID").is_some(),
        credential,
        env.get("TOKENSCOPE_SCOPE").is_some(),
        env.get("TOKENSCOPE_API_URL").is_some(),
    ];
    if !present[..3].iter().any(|p| *p) {
        return None;
    }
    let missing: Vec<&'static str> = ENV_PROFILE_VARS
        .iter()
        .zip(present)
        .filter_map(|(v, p)| (!p).then_some(*v))
        .collect();
    if !missing.is_empty() {
        return Some(Err(ConfigError::IncompleteEnv {
            searched: searched.to_vec(),
            missing,
        }));
    }
    let roles = env
        .get("TOKENSCOPE_EXPECTED_ROLES")
        .map(|r| {
            r.split([',', ' '])
                .map(str::trim)
                .filter(|r| !r.is_empty())
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    let profile = ProfileFile {
        scope: env.get("TOKENSCOPE_SCOPE").map(str::to_string),
        api_url: env.get("TOKENSCOPE_API_URL").map(str::to_string),
        expected_roles: roles,
        ..ProfileFile::default()
    };
    let mut file = ConfigFile::default();
    file.profiles.insert(ENV_PROFILE.to_string(), profile);
    Some(Ok(Loaded {
        path: PathBuf::from(ENV_PROFILE_PATH),
        file,
        implicit: true,
    }))
}

/// Read and parse the config file chosen by [`locate`].
pub fn load_file(opts: &LoadOptions, env: &Env) -> Result<Loaded, ConfigError> {
    load_located(locate(opts.config.as_deref(), env), env)
}

fn load_located(lookup: Lookup, env: &Env) -> Result<Loaded, ConfigError> {
    let searched: Vec<(PathBuf, &'static str)> = lookup
        .candidates
        .iter()
        .map(|(p, how, _)| (p.clone(), *how))
        .collect();
    let Some(path) = lookup.chosen.clone() else {
        if let Some(implicit) = env_profile(env, &searched) {
            return implicit;
        }
        return Err(ConfigError::NotFound { searched });
    };
    let text = std::fs::read_to_string(&path).map_err(|source| ConfigError::Read {
        path: path.clone(),
        source,
    })?;
    let file = ConfigFile::parse(&text, &path)?;
    Ok(Loaded {
        path,
        file,
        implicit: false,
    })
}

/// Load the config and resolve the selected profile, applying environment overrides.
pub fn load(opts: &LoadOptions, env: &Env) -> Result<Profile, ConfigError> {
    let loaded = load_file(opts, env)?;
    resolve(&loaded, opts.profile.as_deref(), env)
}

/// Resolve every profile of a parsed file, in file order (for profile switching and the
/// compare view). A profile that does not resolve keeps its error; the others still work.
pub fn resolve_all(loaded: &Loaded, env: &Env) -> Vec<(String, Result<Profile, ConfigError>)> {
    loaded
        .file
        .profiles
        .keys()
        .map(|name| (name.clone(), resolve(loaded, Some(name), env)))
        .collect()
}

/// Resolve one profile of a parsed file.
pub fn resolve(loaded: &Loaded, profile: Option<&str>, env: &Env) -> Result<Profile, ConfigError> {
    let path = &loaded.path;
    let file = &loaded.file;
    let available: Vec<String> = file.profiles.keys().cloned().collect();
    let name = match profile.or(file.default_profile.as_deref()) {
        Some(n) => n.to_string(),
        None if available.len() == 1 => available[0].clone(),
        None => {
            return Err(ConfigError::NoDefaultProfile {
                path: path.clone(),
                available,
            });
        }
    };
    let Some(p) = file.profiles.get(&name) else {
        return Err(ConfigError::NoSuchProfile {
            path: path.clone(),
            suggestion: error::closest(&name, available.iter().map(String::as_str)),
            name,
            available,
        });
    };
    let base_dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
    let missing = |field: &'static str, hint: &'static str| ConfigError::Missing {
        path: path.clone(),
        profile: name.clone(),
        field,
        hint,
    };
    let invalid = |field: &'static str, value: &str, reason: String| ConfigError::Invalid {
        path: path.clone(),
        profile: name.clone(),
        field,
        value: crate::text::sanitize(value, false),
        reason,
    };

    // Authority, with AZURE_AUTHORITY_HOST / AZURE_TENANT_ID applied.
    let host_env = env.get("AZURE_AUTHORITY_HOST");
    let tenant_env = env.get("AZURE_TENANT_ID");
    let tenant_cloud_authority = match (p.authority.as_deref(), p.tenant.as_deref().map(str::trim))
    {
        (Some(_), Some(_)) => {
            return Err(invalid(
                "tenant",
                p.tenant.as_deref().unwrap_or_default(),
                "the profile sets both authority and tenant; keep authority, or replace it with tenant (+ cloud)".into(),
            ));
        }
        (None, Some(t)) if !t.is_empty() => {
            let cloud = p.cloud.as_deref().unwrap_or("public");
            let host = authority_host(cloud).map_err(|r| invalid("cloud", cloud, r))?;
            Some(format!("{host}/{t}"))
        }
        _ => {
            if p.authority.is_some()
                && let Some(c) = &p.cloud
            {
                return Err(invalid(
                    "cloud",
                    c,
                    "cloud goes with tenant; with authority the host is already given".into(),
                ));
            }
            None
        }
    };
    let file_authority = p
        .authority
        .as_deref()
        .or(tenant_cloud_authority.as_deref())
        .map(|a| a.trim().trim_end_matches('/'));
    let (authority, authority_origin) = match (file_authority, host_env, tenant_env) {
        (None, None, None) => {
            return Err(missing(
                "authority",
                "set authority = \"https://login.microsoftonline.com/<tenant-id>\", or tenant = \"<tenant-id>\" (+ cloud), or AZURE_TENANT_ID",
            ));
        }
        (Some(a), None, None) => (a.to_string(), Origin::File),
        (a, host, tenant) => {
            let (file_host, file_tenant) = match a {
                Some(a) => split_authority(a).map_err(|r| invalid("authority", a, r))?,
                None => (DEFAULT_AUTHORITY_HOST.to_string(), None),
            };
            let host = match host {
                Some(h) => authority_host(h).map_err(|r| invalid("AZURE_AUTHORITY_HOST", h, r))?,
                None => file_host,
            };
            let tenant = tenant.map(str::to_string).or(file_tenant);
            let Some(tenant) = tenant else {
                return Err(missing(
                    "authority",
                    "AZURE_AUTHORITY_HOST gives the host only; set AZURE_TENANT_ID or an authority with the tenant",
                ));
            };
            let origin = if tenant_env.is_some() {
                Origin::EnvVar("AZURE_TENANT_ID")
            } else {
                Origin::EnvVar("AZURE_AUTHORITY_HOST")
            };
            (format!("{host}/{tenant}"), origin)
        }
    };
    let (_, tenant) =
        split_authority(&authority).map_err(|r| invalid("authority", &authority, r))?;

    let token_endpoint = match p.token_endpoint.as_deref() {
        Some(t) => {
            let t = t.trim();
            check_http_url(t).map_err(|r| invalid("token_endpoint", t, r))?;
            t.to_string()
        }
        None => format!("{authority}/oauth2/v2.0/token"),
    };

    let (client_id, client_id_origin) = match (env.get("AZURE_CLIENT_ID"), p.client_id.as_deref()) {
        (Some(id), _) => (id.trim().to_string(), Origin::EnvVar("AZURE_CLIENT_ID")),
        (None, Some(id)) if !id.trim().is_empty() => (id.trim().to_string(), Origin::File),
        _ => {
            return Err(missing(
                "client_id",
                "set client_id to the Application (client) ID from the app registration's Overview page",
            ));
        }
    };

    let credential = resolve_credential(p, &name, path, &base_dir, env)?;

    let scope = match p.scope.as_deref().map(str::trim) {
        Some(s) if !s.is_empty() => s.to_string(),
        _ => {
            return Err(missing(
                "scope",
                "set scope to the API's App ID URI followed by /.default, e.g. \"api://<api-client-id>/.default\"",
            ));
        }
    };
    let api_url = match p.api_url.as_deref().map(str::trim) {
        Some(u) if !u.is_empty() => u.to_string(),
        _ => {
            return Err(missing(
                "api_url",
                "set api_url to the protected API with a {city} placeholder, e.g. \"http://localhost:8000/api/weather/{city}\"",
            ));
        }
    };
    if !api_url.contains("{city}") {
        return Err(invalid(
            "api_url",
            &api_url,
            "it has no {city} placeholder; write it where the city goes, e.g. …/api/weather/{city}"
                .into(),
        ));
    }
    check_http_url(&api_url.replace("{city}", "x")).map_err(|r| invalid("api_url", &api_url, r))?;

    let ca_file = p.ca_file.as_ref().map(|c| base_dir.join(c));
    if let Some(ca) = &ca_file
        && !ca.is_file()
    {
        return Err(invalid(
            "ca_file",
            &ca.display().to_string(),
            "the file does not exist; give the path of a PEM file with the extra root certificate"
                .into(),
        ));
    }

    let secret_expires = match p.secret_expires.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(v) => Some(parse_date(v).ok_or_else(|| {
            invalid(
                "secret_expires",
                v,
                "use a date like \"2027-02-27\" or an RFC 3339 time".into(),
            )
        })?),
    };

    Ok(Profile {
        name,
        authority,
        authority_origin,
        tenant,
        token_endpoint,
        client_id,
        client_id_origin,
        credential,
        scope,
        api_url,
        expected_roles: p.expected_roles.clone(),
        ca_file,
        connect_timeout: p.connect_timeout.map_or(DEFAULT_CONNECT_TIMEOUT, |s| s.0),
        timeout: p.timeout.map_or(DEFAULT_TIMEOUT, |s| s.0),
        cache: p.cache.unwrap_or(true),
        secret_expires,
        config_path: (!loaded.implicit).then(|| path.clone()),
    })
}

fn resolve_credential(
    p: &ProfileFile,
    profile: &str,
    path: &Path,
    base_dir: &Path,
    env: &Env,
) -> Result<Credential, ConfigError> {
    let cred_error = |message: String| ConfigError::Credential {
        path: path.to_path_buf(),
        profile: profile.to_string(),
        message,
    };
    let alg = match p.assertion_algorithm.as_deref().map(str::trim) {
        None => crate::auth::AssertionAlg::default(),
        Some(a) if a.eq_ignore_ascii_case("PS256") => crate::auth::AssertionAlg::Ps256,
        Some(a) if a.eq_ignore_ascii_case("RS256") => crate::auth::AssertionAlg::Rs256,
        Some(a) => {
            return Err(ConfigError::Invalid {
                path: path.to_path_buf(),
                profile: profile.to_string(),
                field: "assertion_algorithm",
                value: crate::text::sanitize(a, false),
                reason: "use \"PS256\" (Entra ID, x5t#S256) or \"RS256\" (x5t, for other servers)"
                    .into(),
            });
        }
    };
    let send_chain = match env.get("AZURE_CLIENT_SEND_CERTIFICATE_CHAIN") {
        Some(v) => matches!(v.trim().to_ascii_lowercase().as_str(), "1" | "true"),
        None => p.send_certificate_chain.unwrap_or(false),
    };
    let certificate = |cert_path: PathBuf,
                       key_path: Option<PathBuf>,
                       password: Option<ClientSecret>,
                       source: PathSource| {
        let cert = crate::auth::ClientCertificate::load(
            &cert_path,
            key_path.as_deref(),
            password.as_ref(),
        )
        .map_err(|e| cred_error(e.to_string()))?;
        Ok::<_, ConfigError>(Credential::Certificate {
            cert: std::sync::Arc::new(cert),
            source,
            send_chain,
            alg,
        })
    };
    let federated = |file: PathBuf, source: PathSource| {
        if !file.is_file() {
            return Err(cred_error(format!(
                "the federated token file {} does not exist\nhint: in Kubernetes the workload identity webhook mounts it (check the pod's azure.workload.identity/use label and AZURE_FEDERATED_TOKEN_FILE); elsewhere write the other identity provider's token there",
                file.display()
            )));
        }
        Ok(Credential::Federated {
            token: std::sync::Arc::new(crate::auth::FederatedToken::new(file)),
            source,
        })
    };

    // azure-identity's environment variables first (EnvironmentCredential's order: secret,
    // then certificate; then WorkloadIdentityCredential's token file).
    if let Some(v) = env.get("AZURE_CLIENT_SECRET") {
        return Ok(Credential::Secret {
            secret: ClientSecret::new(v),
            source: SecretSource::AzureEnv,
        });
    }
    if let Some(c) = env.get("AZURE_CLIENT_CERTIFICATE_PATH") {
        let password = env
            .get("AZURE_CLIENT_CERTIFICATE_PASSWORD")
            .map(ClientSecret::new);
        return certificate(
            PathBuf::from(c),
            None,
            password,
            PathSource::EnvVar("AZURE_CLIENT_CERTIFICATE_PATH"),
        );
    }
    if let Some(f) = env.get("AZURE_FEDERATED_TOKEN_FILE") {
        return federated(
            PathBuf::from(f),
            PathSource::EnvVar("AZURE_FEDERATED_TOKEN_FILE"),
        );
    }

    let set: Vec<&'static str> = [
        ("client_secret_env", p.client_secret_env.is_some()),
        ("client_secret_file", p.client_secret_file.is_some()),
        ("client_secret", p.client_secret.is_some()),
        (
            "client_certificate_path",
            p.client_certificate_path.is_some(),
        ),
        ("federated_token_file", p.federated_token_file.is_some()),
    ]
    .into_iter()
    .filter_map(|(k, on)| on.then_some(k))
    .collect();
    if set.len() > 1 {
        return Err(ConfigError::AmbiguousSecret {
            path: path.to_path_buf(),
            profile: profile.to_string(),
            fields: set,
        });
    }
    for (key, given) in [
        (
            "client_certificate_key_path",
            p.client_certificate_key_path.is_some(),
        ),
        (
            "client_certificate_password_env",
            p.client_certificate_password_env.is_some(),
        ),
        ("send_certificate_chain", p.send_certificate_chain.is_some()),
        ("assertion_algorithm", p.assertion_algorithm.is_some()),
    ] {
        if given && p.client_certificate_path.is_none() {
            return Err(ConfigError::Invalid {
                path: path.to_path_buf(),
                profile: profile.to_string(),
                field: key,
                value: String::new(),
                reason: "it only applies to a certificate; set client_certificate_path too, or remove it".into(),
            });
        }
    }
    if let Some(c) = &p.client_certificate_path {
        let password = match &p.client_certificate_password_env {
            Some(var) => match env.get(var) {
                Some(v) => Some(ClientSecret::new(v)),
                None => {
                    return Err(cred_error(format!(
                        "client_certificate_password_env names the environment variable {}, which is not set or empty\nhint: export {} with the PKCS#12 password",
                        crate::text::sanitize(var, false),
                        crate::text::sanitize(var, false)
                    )));
                }
            },
            None => env
                .get("AZURE_CLIENT_CERTIFICATE_PASSWORD")
                .map(ClientSecret::new),
        };
        return certificate(
            base_dir.join(c),
            p.client_certificate_key_path
                .as_ref()
                .map(|k| base_dir.join(k)),
            password,
            PathSource::File,
        );
    }
    if let Some(f) = &p.federated_token_file {
        return federated(base_dir.join(f), PathSource::File);
    }

    let mut looked = vec![
        "environment variables AZURE_CLIENT_SECRET, AZURE_CLIENT_CERTIFICATE_PATH, AZURE_FEDERATED_TOKEN_FILE (not set)".to_string(),
    ];
    if let Some(var) = &p.client_secret_env {
        match env.get(var) {
            Some(v) => {
                return Ok(Credential::Secret {
                    secret: ClientSecret::new(v),
                    source: SecretSource::EnvVar(var.clone()),
                });
            }
            None => looked.push(format!(
                "environment variable {} named by client_secret_env (not set or empty)",
                crate::text::sanitize(var, false)
            )),
        }
    } else {
        looked.push("client_secret_env in the profile (not set)".into());
    }
    if let Some(file) = &p.client_secret_file {
        let full = base_dir.join(file);
        match std::fs::read_to_string(&full) {
            Ok(text) => {
                let value = text.trim_end_matches(['\n', '\r']);
                if !value.is_empty() {
                    return Ok(Credential::Secret {
                        secret: ClientSecret::new(value),
                        source: SecretSource::File(full),
                    });
                }
                looked.push(format!(
                    "file {} named by client_secret_file (empty)",
                    full.display()
                ));
            }
            Err(e) => looked.push(format!(
                "file {} named by client_secret_file ({e})",
                full.display()
            )),
        }
    } else {
        looked.push("client_secret_file in the profile (not set)".into());
    }
    match &p.client_secret {
        Some(v) if !v.is_empty() => {
            return Ok(Credential::Secret {
                secret: ClientSecret::new(v.clone()),
                source: SecretSource::Inline,
            });
        }
        Some(_) => looked.push("client_secret in the profile (empty)".into()),
        None => looked.push("client_secret in the profile (not set)".into()),
    }
    looked.push("client_certificate_path, federated_token_file in the profile (not set)".into());
    Err(ConfigError::MissingSecret {
        path: path.to_path_buf(),
        profile: profile.to_string(),
        looked,
    })
}

/// `2027-02-27` (end of that day, UTC) or an RFC 3339 time.
fn parse_date(v: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(v) {
        return Some(t.with_timezone(&chrono::Utc));
    }
    let d = chrono::NaiveDate::parse_from_str(v, "%Y-%m-%d").ok()?;
    Some(d.and_hms_opt(23, 59, 59)?.and_utc())
}

/// Split `https://host/tenant[/…]` into (`https://host`, tenant).
fn split_authority(authority: &str) -> Result<(String, Option<String>), String> {
    let url = check_http_url(authority)?;
    let host = url.host_str().unwrap_or_default();
    let origin = match url.port() {
        Some(port) => format!("{}://{host}:{port}", url.scheme()),
        None => format!("{}://{host}", url.scheme()),
    };
    let tenant = url
        .path_segments()
        .and_then(|mut s| s.next())
        .filter(|s| !s.is_empty())
        .map(str::to_string);
    Ok((origin, tenant))
}

fn check_http_url(s: &str) -> Result<url::Url, String> {
    let url = url::Url::parse(s).map_err(|e| format!("it is not a valid URL ({e})"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!("the scheme is {:?}; use https://", url.scheme()));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err("it has no host".into());
    }
    Ok(url)
}

#[cfg(test)]
pub(crate) mod tests;
