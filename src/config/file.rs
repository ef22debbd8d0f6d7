//! The config file's TOML model and its parser with precise, helpful errors.

use std::path::Path;
use std::time::Duration;

use indexmap::IndexMap;
use serde::{Deserialize, Deserializer};

use super::error::{self, ConfigError};

/// Keys allowed at the top level of the file.
pub const TOP_LEVEL_KEYS: &[&str] = &[
    "default_profile",
    "profiles",
    "graph_credential",
    "graph_url",
    "graph_cli_command",
    "setup_files",
    "mouse",
];

/// Keys allowed in a `[profiles.NAME]` table.
pub const PROFILE_KEYS: &[&str] = &[
    "authority",
    "tenant",
    "cloud",
    "token_endpoint",
    "client_id",
    "client_secret_env",
    "client_secret_file",
    "client_secret",
    "client_certificate_path",
    "client_certificate_key_path",
    "client_certificate_password_env",
    "send_certificate_chain",
    "assertion_algorithm",
    "federated_token_file",
    "scope",
    "api_url",
    "expected_roles",
    "ca_file",
    "connect_timeout",
    "timeout",
    "cache",
    "secret_expires",
    "graph_credential",
    "graph_url",
    "graph_cli_command",
    "setup_files",
];

/// The whole file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    pub default_profile: Option<String>,
    /// Defaults of the Graph keys for every profile (see [`ProfileFile::graph_credential`]).
    pub graph_credential: Option<String>,
    pub graph_url: Option<String>,
    pub graph_cli_command: Option<Vec<String>>,
    pub setup_files: Option<Vec<String>>,
    /// The dashboard captures the mouse (click to focus, wheel to scroll); `false` leaves
    /// it to the terminal for selecting text, as `--no-mouse` does. Default true.
    pub mouse: Option<bool>,
    /// Profiles in file order.
    #[serde(default)]
    pub profiles: IndexMap<String, ProfileFile>,
}

/// One `[profiles.NAME]` table as written.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProfileFile {
    pub authority: Option<String>,
    /// The tenant (GUID or domain), with `cloud`: an alternative to `authority`.
    pub tenant: Option<String>,
    /// `public`, `usgov`, `china` or an authority host URL (default public).
    pub cloud: Option<String>,
    pub token_endpoint: Option<String>,
    pub client_id: Option<String>,
    pub client_secret_env: Option<String>,
    pub client_secret_file: Option<String>,
    pub client_secret: Option<String>,
    /// A PEM (certificate + key) or PKCS#12 file.
    pub client_certificate_path: Option<String>,
    /// The private key, when the PEM certificate file does not hold it.
    pub client_certificate_key_path: Option<String>,
    /// The name of an environment variable holding the PKCS#12 password.
    pub client_certificate_password_env: Option<String>,
    /// Send the certificate chain (`x5c`) in the client assertion (subject name/issuer auth).
    pub send_certificate_chain: Option<bool>,
    /// `PS256` (default, `x5t#S256`) or `RS256` (`x5t`).
    pub assertion_algorithm: Option<String>,
    /// A token file from another identity provider (workload identity).
    pub federated_token_file: Option<String>,
    pub scope: Option<String>,
    pub api_url: Option<String>,
    #[serde(default)]
    pub expected_roles: Vec<String>,
    pub ca_file: Option<String>,
    pub connect_timeout: Option<Seconds>,
    pub timeout: Option<Seconds>,
    /// Keep tokens in the persistent cache (default true).
    pub cache: Option<bool>,
    /// When the client secret expires (`2027-02-27` or RFC 3339), for expiry warnings.
    pub secret_expires: Option<String>,
    /// Where the app-role set-up is read from: `none` (default), `profile`, `azure-cli` or
    /// another profile's name.
    pub graph_credential: Option<String>,
    /// Microsoft Graph's v1.0 base URL (default: the cloud's).
    pub graph_url: Option<String>,
    /// The Azure CLI command line for `graph_credential = "azure-cli"`.
    pub graph_cli_command: Option<Vec<String>>,
    /// Exported JSON (az / portal manifest), relative to the config file; Graph is then not
    /// called.
    pub setup_files: Option<Vec<String>>,
}

/// A duration written as `"10s"`, `"1m 30s"` or a number of seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Seconds(pub Duration);

impl<'de> Deserialize<'de> for Seconds {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Int(u64),
            Float(f64),
            Text(String),
        }
        let bad = || {
            serde::de::Error::custom(
                "expected a duration such as \"10s\", \"1m 30s\" or a number of seconds greater than 0",
            )
        };
        let d = match Raw::deserialize(d)? {
            Raw::Int(n) => Duration::from_secs(n),
            Raw::Float(f) if f.is_finite() && f > 0.0 && f < 1e9 => Duration::from_secs_f64(f),
            Raw::Float(_) => return Err(bad()),
            Raw::Text(s) => humantime::parse_duration(s.trim()).map_err(|_| bad())?,
        };
        if d.is_zero() {
            return Err(bad());
        }
        Ok(Seconds(d))
    }
}

impl ConfigFile {
    /// Parse the text of the file at `path` (the path is only used in errors).
    pub fn parse(text: &str, path: &Path) -> Result<Self, ConfigError> {
        toml::from_str::<ConfigFile>(text).map_err(|e| {
            let (line, column) = e
                .span()
                .map(|span| line_col(text, span.start))
                .unwrap_or((1, 1));
            let message = e.message().trim().to_string();
            let hint = unknown_key_hint(&message);
            ConfigError::Parse {
                path: path.to_path_buf(),
                line,
                column,
                message,
                hint,
            }
        })
    }
}

/// 1-based line and column (in characters) of a byte offset.
fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let mut start = offset;
    while start > 0 && !text.is_char_boundary(start) {
        start -= 1;
    }
    let before = &text[..start];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before[line_start..].chars().count() + 1;
    (line, column)
}

/// For serde's "unknown field `x`, expected one of …", suggest the closest valid key.
fn unknown_key_hint(message: &str) -> Option<String> {
    let rest = message.split("unknown field `").nth(1)?;
    let key = rest.split('`').next()?;
    let keys: &[&str] = if message.contains("`profiles`") {
        TOP_LEVEL_KEYS
    } else {
        PROFILE_KEYS
    };
    match error::closest(key, keys.iter().copied()) {
        Some(s) => Some(format!("did you mean `{s}`?")),
        None => Some(format!("valid keys here are: {}", keys.join(", "))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_counts_chars() {
        let t = "a = 1\nbé = 2\n";
        assert_eq!(line_col(t, 0), (1, 1));
        assert_eq!(line_col(t, 6), (2, 1));
        assert_eq!(line_col(t, 9), (2, 3));
        assert_eq!(line_col(t, 1000), (3, 1));
    }

    #[test]
    fn durations() {
        #[derive(Deserialize)]
        struct T {
            d: Seconds,
        }
        let p = |s: &str| toml::from_str::<T>(s).map(|t| t.d.0);
        assert_eq!(p("d = 5").unwrap(), Duration::from_secs(5));
        assert_eq!(p("d = \"1m 30s\"").unwrap(), Duration::from_secs(90));
        assert_eq!(p("d = 0.5").unwrap(), Duration::from_millis(500));
        assert!(p("d = 0").is_err());
        assert!(p("d = \"soon\"").is_err());
        assert!(p("d = -3").is_err());
    }
}
