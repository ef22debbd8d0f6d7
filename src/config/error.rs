//! Config errors: each names the file (and line/column where it can), what is wrong and
//! what to do (as a [`Problem`] hint), and [`Ctx`], the profile being resolved that errors
//! point at.
//!
//! Holds no resolving logic; a credential that cannot be loaded is wrapped, not re-worded.

use std::path::{Path, PathBuf};

use thiserror::Error;

use crate::credential::CredentialError;
use crate::problem::Problem;

/// Why a profile could not be loaded; each says what to do in its [`Problem::hint`] (an
/// invalid value's text already says what is allowed).
#[derive(Debug, Error)]
pub enum ConfigError {
    #[error("no config file found (looked at: {})", searched_list(.searched))]
    NotFound {
        searched: Vec<(PathBuf, &'static str)>,
    },

    #[error("cannot read config file {}: it {}", .path.display(), .source.reason())]
    Read {
        path: PathBuf,
        source: crate::files::ReadError,
    },

    #[error("{}:{line}:{column}: {message}", .path.display())]
    Parse {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
        hint: Option<String>,
    },

    #[error("{}: no profile named `{name}`{}", .path.display(), .suggestion.as_ref().map(|s| format!(" (did you mean `{s}`?)")).unwrap_or_default())]
    NoSuchProfile {
        path: PathBuf,
        name: String,
        available: Vec<String>,
        suggestion: Option<String>,
    },

    #[error("{}: which profile? there is no default_profile and the file has {}", .path.display(), if .available.is_empty() { "no profiles" } else { "several" })]
    NoDefaultProfile {
        path: PathBuf,
        available: Vec<String>,
    },

    #[error("{}: profile `{profile}` has no `{field}`", .path.display())]
    Missing {
        path: PathBuf,
        profile: String,
        field: &'static str,
        hint: &'static str,
    },

    #[error("{}: profile `{profile}`: `{field}` = {value:?} is not valid: {reason}", .path.display())]
    Invalid {
        path: PathBuf,
        profile: String,
        field: &'static str,
        value: String,
        reason: String,
    },

    #[error("{}\n{}", missing_secret_summary(.path, .profile), looked_list(.looked))]
    MissingSecret {
        path: PathBuf,
        profile: String,
        looked: Vec<String>,
    },

    #[error("{}: profile `{profile}` sets {} — which credential is meant is ambiguous", .path.display(), .fields.join(" and "))]
    AmbiguousSecret {
        path: PathBuf,
        profile: String,
        fields: Vec<&'static str>,
    },

    /// The certificate or federated token file named by the profile cannot be used.
    #[error("{}: profile `{profile}`: {problem}", .path.display())]
    Credential {
        path: PathBuf,
        profile: String,
        #[source]
        problem: Box<CredentialError>,
    },

    /// `client_certificate_password_env` names a variable that is not set.
    #[error("{}: profile `{profile}`: client_certificate_password_env names the environment variable {var}, which is not set or empty", .path.display())]
    PasswordEnvUnset {
        path: PathBuf,
        profile: String,
        /// The variable's name, sanitised.
        var: String,
    },

    /// No config file, and the environment names some but not all of an implicit profile.
    #[error(
        "no config file found (looked at: {}), and the environment does not make a complete `env` profile: {} not set",
        searched_list(.searched),
        .missing.join(", ")
    )]
    IncompleteEnv {
        searched: Vec<(PathBuf, &'static str)>,
        missing: Vec<&'static str>,
    },
}

impl Problem for ConfigError {
    fn summary(&self) -> String {
        match self {
            ConfigError::MissingSecret { path, profile, .. } => {
                missing_secret_summary(path, profile)
            }
            ConfigError::Credential {
                path,
                profile,
                problem,
            } => format!(
                "{}: profile `{profile}`: {}",
                path.display(),
                problem.summary()
            ),
            other => other.to_string(),
        }
    }

    fn detail(&self) -> Option<String> {
        match self {
            ConfigError::MissingSecret { looked, .. } => Some(looked_list(looked)),
            ConfigError::Credential { problem, .. } => problem.detail(),
            _ => None,
        }
    }

    fn hint(&self) -> Option<String> {
        Some(match self {
            ConfigError::NotFound { searched } => format!(
                "run `tokenscope demo` to try the sandbox, or `tokenscope config init` to write a \
                 starter config to {} and fill it in, or export AZURE_TENANT_ID, AZURE_CLIENT_ID, a credential \
                 (AZURE_CLIENT_SECRET, AZURE_CLIENT_CERTIFICATE_PATH or \
                 AZURE_FEDERATED_TOKEN_FILE), TOKENSCOPE_SCOPE and TOKENSCOPE_API_URL",
                searched
                    .last()
                    .map(|(p, _)| p.display().to_string())
                    .unwrap_or_else(|| "the path given by --config".into())
            ),
            ConfigError::Read {
                source: crate::files::ReadError::NotRegular { .. }
                    | crate::files::ReadError::TooLarge { .. },
                ..
            } => "point --config or $TOKENSCOPE_CONFIG at the config file itself (a TOML file of at most 1 MiB)".into(),
            ConfigError::Read { .. } => {
                "check the path given by --config or $TOKENSCOPE_CONFIG".into()
            }
            ConfigError::Parse { hint, .. } => return hint.clone(),
            ConfigError::NoSuchProfile { available, .. } => {
                format!("profiles in this file: {}", list_or_none(available))
            }
            ConfigError::NoDefaultProfile { available, .. } => format!(
                "pass --profile NAME or set default_profile = \"NAME\" (profiles: {})",
                list_or_none(available)
            ),
            ConfigError::Missing { hint, .. } => (*hint).to_string(),
            // The reason already says what is allowed.
            ConfigError::Invalid { .. } => return None,
            ConfigError::MissingSecret { .. } => {
                "set client_secret_env = \"NAME\" and export NAME \
                 (or AZURE_CLIENT_SECRET), or client_certificate_path, or federated_token_file"
                    .into()
            }
            ConfigError::AmbiguousSecret { .. } => "keep exactly one of client_secret_env, \
                 client_secret_file, client_secret, client_certificate_path, federated_token_file"
                .into(),
            ConfigError::Credential { problem, .. } => return problem.hint(),
            ConfigError::PasswordEnvUnset { var, .. } => {
                format!("export {var} with the PKCS#12 password")
            }
            ConfigError::IncompleteEnv { missing, .. } => format!(
                "export {}, or create a config file (`tokenscope config init`)",
                missing.join(" and ")
            ),
        })
    }
}

/// The profile being resolved: what errors name, and where relative paths start.
pub(super) struct Ctx<'a> {
    pub path: &'a Path,
    pub profile: &'a str,
    /// The config file's directory: paths in the profile are relative to it.
    pub base_dir: PathBuf,
}

impl Ctx<'_> {
    /// `field` is required and absent.
    pub fn missing(&self, field: &'static str, hint: &'static str) -> ConfigError {
        ConfigError::Missing {
            path: self.path.to_path_buf(),
            profile: self.profile.to_string(),
            field,
            hint,
        }
    }
    /// `field` = `value` is not allowed, because `reason`.
    pub fn invalid(
        &self,
        field: &'static str,
        value: &str,
        reason: impl Into<String>,
    ) -> ConfigError {
        ConfigError::Invalid {
            path: self.path.to_path_buf(),
            profile: self.profile.to_string(),
            field,
            value: crate::text::sanitize(value, false),
            reason: reason.into(),
        }
    }
}

fn missing_secret_summary(path: &Path, profile: &str) -> String {
    format!(
        "{}: profile `{profile}` has no client credential. Looked at:",
        path.display()
    )
}

fn looked_list(looked: &[String]) -> String {
    looked
        .iter()
        .map(|l| format!("  - {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

fn searched_list(s: &[(PathBuf, &'static str)]) -> String {
    if s.is_empty() {
        return "no platform config directory could be determined".into();
    }
    s.iter()
        .map(|(p, how)| format!("{} ({how})", p.display()))
        .collect::<Vec<_>>()
        .join(", ")
}

fn list_or_none(v: &[String]) -> String {
    if v.is_empty() {
        "none".into()
    } else {
        v.join(", ")
    }
}

/// The candidate closest to `word`, if it is close enough to be a plausible typo.
pub fn closest<'a>(word: &str, candidates: impl Iterator<Item = &'a str>) -> Option<String> {
    let word_l = word.to_ascii_lowercase();
    candidates
        .map(|c| (strsim::jaro_winkler(&word_l, &c.to_ascii_lowercase()), c))
        .filter(|(score, _)| *score >= 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::credential::FederatedError;
    use crate::problem::assert_keeps_convention;

    fn path() -> PathBuf {
        PathBuf::from("/etc/ts.toml")
    }

    #[test]
    fn every_variant_is_summary_detail_and_hint() {
        let all = [
            ConfigError::NotFound {
                searched: vec![(path(), "--config")],
            },
            ConfigError::Read {
                path: path(),
                source: crate::files::ReadError::Io {
                    kind: crate::files::FileKind::Config,
                    path: path(),
                    source: std::io::Error::from(std::io::ErrorKind::PermissionDenied),
                },
            },
            ConfigError::Parse {
                path: path(),
                line: 2,
                column: 3,
                message: "unknown field".into(),
                hint: Some("did you mean `scope`?".into()),
            },
            ConfigError::NoSuchProfile {
                path: path(),
                name: "mobil".into(),
                available: vec!["mobile".into()],
                suggestion: Some("mobile".into()),
            },
            ConfigError::NoDefaultProfile {
                path: path(),
                available: vec!["a".into(), "b".into()],
            },
            ConfigError::Missing {
                path: path(),
                profile: "p".into(),
                field: "scope",
                hint: "set scope",
            },
            ConfigError::Invalid {
                path: path(),
                profile: "p".into(),
                field: "cloud",
                value: "mars".into(),
                reason: "use public, usgov or china".into(),
            },
            ConfigError::MissingSecret {
                path: path(),
                profile: "p".into(),
                looked: vec!["a (not set)".into(), "b (empty)".into()],
            },
            ConfigError::AmbiguousSecret {
                path: path(),
                profile: "p".into(),
                fields: vec!["client_secret", "client_secret_env"],
            },
            ConfigError::Credential {
                path: path(),
                profile: "p".into(),
                problem: Box::new(
                    FederatedError::Missing {
                        path: "/var/run/token".into(),
                    }
                    .into(),
                ),
            },
            ConfigError::PasswordEnvUnset {
                path: path(),
                profile: "p".into(),
                var: "PFX_PW".into(),
            },
            ConfigError::IncompleteEnv {
                searched: vec![],
                missing: vec!["AZURE_CLIENT_ID", "TOKENSCOPE_SCOPE"],
            },
        ];
        for e in &all {
            assert_keeps_convention(e);
            // Only an invalid value goes without a hint: its reason says what is allowed.
            assert_eq!(
                e.hint().is_none(),
                matches!(e, ConfigError::Invalid { .. }),
                "{e}"
            );
        }
    }

    #[test]
    fn the_text_a_user_reads_is_unchanged() {
        let e = ConfigError::MissingSecret {
            path: path(),
            profile: "p".into(),
            looked: vec!["a (not set)".into(), "b (empty)".into()],
        };
        assert_eq!(
            e.full_text(),
            "/etc/ts.toml: profile `p` has no client credential. Looked at:\n  - a (not set)\n  - b (empty)\nhint: set client_secret_env = \"NAME\" and export NAME (or AZURE_CLIENT_SECRET), or client_certificate_path, or federated_token_file"
        );
        let e = ConfigError::Credential {
            path: path(),
            profile: "p".into(),
            problem: Box::new(
                FederatedError::Missing {
                    path: "/var/run/token".into(),
                }
                .into(),
            ),
        };
        assert_eq!(
            e.full_text(),
            "/etc/ts.toml: profile `p`: the federated token file /var/run/token does not exist\nhint: in Kubernetes the workload identity webhook mounts it (check the pod's azure.workload.identity/use label and AZURE_FEDERATED_TOKEN_FILE); elsewhere write the other identity provider's token there"
        );
        assert!(
            std::error::Error::source(&e).is_some(),
            "the credential error"
        );
        let e = ConfigError::PasswordEnvUnset {
            path: path(),
            profile: "p".into(),
            var: "PFX_PW".into(),
        };
        assert_eq!(
            e.full_text(),
            "/etc/ts.toml: profile `p`: client_certificate_password_env names the environment variable PFX_PW, which is not set or empty\nhint: export PFX_PW with the PKCS#12 password"
        );
    }
}
