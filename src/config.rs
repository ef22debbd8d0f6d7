//! Configuration: the TOML model, where it is looked for, environment overrides, and the
//! resolved [`Profile`] every command works from.
//!
//! Precedence for a value of the selected profile, highest first:
//! 1. azure-identity's environment variables (`AZURE_CLIENT_SECRET`, `AZURE_CLIENT_ID`,
//!    `AZURE_TENANT_ID`, `AZURE_AUTHORITY_HOST`),
//! 2. the profile in the config file,
//! 3. for the Graph keys (`graph_credential`, `graph_url`, `graph_cli_command`,
//!    `setup_files`), the file's top-level defaults.
//!
//! The config file itself is found by `--config PATH`, then `$TOKENSCOPE_CONFIG`, then
//! `config.toml` in the platform config directory.
//!
//! Layer: above `credential` (config decides which credential a profile uses; loading it is
//! `credential`'s job), `http` and `jwt` (a profile's [`HttpOptions`] and
//! [`Expectations`]). It must not import `auth`, `api`, `diagnose` or the front ends. Lint
//! rules live in `diagnose::lint`.

mod authority;
mod error;
mod file;
mod graph;
mod resolve;
mod resolve_credential;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The resolved profile's credential (config decides which; `credential` owns the types).
pub use crate::credential::{Credential, PathSource, SecretSource};
pub use authority::{CLOUDS, DEFAULT_AUTHORITY_HOST, authority_host};
pub use error::ConfigError;
pub use file::{ConfigFile, ProfileFile, Seconds};
pub use graph::{
    DEFAULT_GRAPH_CLI_COMMAND, GRAPH_HOSTS, GraphSettings, GraphSource, GraphUrlOrigin,
    PUBLIC_GRAPH_HOST, graph_host_for_authority,
};
pub use resolve::resolve;

use crate::http::HttpOptions;
use crate::jwt::Expectations;

/// Default connect timeout for every HTTP request.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Default total timeout for every HTTP request.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

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
    /// Where and how the app-role set-up is read (`graph_credential`, `graph_url`, …).
    pub graph: GraphSettings,
    /// The config file this profile came from.
    pub config_path: Option<PathBuf>,
}

impl Profile {
    /// The HTTP settings for this profile's requests: its timeouts and extra root.
    pub fn http_options(&self) -> HttpOptions<'_> {
        HttpOptions {
            connect_timeout: self.connect_timeout,
            timeout: self.timeout,
            ca_file: self.ca_file.as_deref(),
        }
    }
}

/// What a token for this profile is verified against: its authority and tenant, and the
/// resource of its scope (`api://…` without `/.default`).
impl From<&Profile> for Expectations {
    fn from(p: &Profile) -> Self {
        Expectations {
            authority: p.authority.clone(),
            tenant: p.tenant.clone(),
            resource: p.scope.trim().trim_end_matches("/.default").to_string(),
        }
    }
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
    let text =
        crate::files::read_to_string(&path, crate::files::FileKind::Config).map_err(|source| {
            ConfigError::Read {
                path: path.clone(),
                source,
            }
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

/// The resolved "admin reader" profile a profile's `graph_credential` names, if it names
/// one. It resolves like any profile other than the selected one: without azure-identity's
/// per-app environment variables (they belong to the selected profile).
pub fn resolve_graph_reader(
    loaded: &Loaded,
    profile: &Profile,
    env: &Env,
) -> Result<Option<Profile>, ConfigError> {
    match &profile.graph.source {
        GraphSource::Reader(name) => {
            resolve(loaded, Some(name), &env.without_azure_overrides()).map(Some)
        }
        _ => Ok(None),
    }
}

#[cfg(test)]
pub(crate) mod tests;
