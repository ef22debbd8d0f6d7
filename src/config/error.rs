//! Config errors: each names the file (and line/column where it can), what is wrong and
//! what to do.

use std::path::PathBuf;

use thiserror::Error;

#[derive(Debug, Error)]
pub enum ConfigError {
    #[error(
        "no config file found (looked at: {})\nhint: run `tokenscope demo` to try the sandbox, or copy config.example.toml to {} and fill it in, or export AZURE_TENANT_ID, AZURE_CLIENT_ID, a credential (AZURE_CLIENT_SECRET, AZURE_CLIENT_CERTIFICATE_PATH or AZURE_FEDERATED_TOKEN_FILE), TOKENSCOPE_SCOPE and TOKENSCOPE_API_URL",
        searched_list(.searched),
        .searched.last().map(|(p, _)| p.display().to_string()).unwrap_or_else(|| "the path given by --config".into())
    )]
    NotFound {
        searched: Vec<(PathBuf, &'static str)>,
    },

    #[error("cannot read config file {}: {source}\nhint: check the path given by --config or $TOKENSCOPE_CONFIG", .path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },

    #[error("{}:{line}:{column}: {message}{}", .path.display(), .hint.as_ref().map(|h| format!("\nhint: {h}")).unwrap_or_default())]
    Parse {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
        hint: Option<String>,
    },

    #[error("{}: no profile named `{name}`{}\nhint: profiles in this file: {}", .path.display(), .suggestion.as_ref().map(|s| format!(" (did you mean `{s}`?)")).unwrap_or_default(), list_or_none(.available))]
    NoSuchProfile {
        path: PathBuf,
        name: String,
        available: Vec<String>,
        suggestion: Option<String>,
    },

    #[error("{}: which profile? there is no default_profile and the file has {}\nhint: pass --profile NAME or set default_profile = \"NAME\" (profiles: {})", .path.display(), if .available.is_empty() { "no profiles" } else { "several" }, list_or_none(.available))]
    NoDefaultProfile {
        path: PathBuf,
        available: Vec<String>,
    },

    #[error("{}: profile `{profile}` has no `{field}`\nhint: {hint}", .path.display())]
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

    #[error("{}: profile `{profile}` has no client credential. Looked at:\n{}\nhint: set client_secret_env = \"NAME\" and export NAME (or AZURE_CLIENT_SECRET), or client_certificate_path, or federated_token_file", .path.display(), .looked.iter().map(|l| format!("  - {l}")).collect::<Vec<_>>().join("\n"))]
    MissingSecret {
        path: PathBuf,
        profile: String,
        looked: Vec<String>,
    },

    #[error("{}: profile `{profile}` sets {} — which credential is meant is ambiguous\nhint: keep exactly one of client_secret_env, client_secret_file, client_secret, client_certificate_path, federated_token_file", .path.display(), .fields.join(" and "))]
    AmbiguousSecret {
        path: PathBuf,
        profile: String,
        fields: Vec<&'static str>,
    },

    /// The certificate or federated token file named by the profile cannot be used.
    #[error("{}: profile `{profile}`: {message}", .path.display())]
    Credential {
        path: PathBuf,
        profile: String,
        message: String,
    },

    /// No config file, and the environment names some but not all of an implicit profile.
    #[error(
        "no config file found (looked at: {}), and the environment does not make a complete `env` profile: {} not set\nhint: export {}, or create a config file (copy config.example.toml)",
        searched_list(.searched),
        .missing.join(", "),
        .missing.join(" and ")
    )]
    IncompleteEnv {
        searched: Vec<(PathBuf, &'static str)>,
        missing: Vec<&'static str>,
    },
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
