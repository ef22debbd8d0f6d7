//! Diagnosis: naming the cause of a refusal and the fix, the way an experienced identity
//! engineer would. Pure functions over core types; no I/O except in `doctor`.

pub mod aadsts;
pub mod lint;
pub mod refusal;

use serde::Serialize;

/// One piece of advice: what happened, why, and what to do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Advice {
    /// One line: what is wrong, in plain words.
    pub summary: String,
    /// The likely cause in this set-up.
    pub cause: String,
    /// What to do.
    pub fix: String,
}

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Ok,
    Info,
    Warning,
    Error,
}

impl Severity {
    /// ✓ / ⚠ / ✗ marks for checklists.
    pub fn mark(self) -> &'static str {
        match self {
            Severity::Ok | Severity::Info => "✓",
            Severity::Warning => "⚠",
            Severity::Error => "✗",
        }
    }
}

/// One-line explanations of well-known claims (assets/claims.toml).
pub fn claim_doc(name: &str) -> Option<&'static str> {
    use std::collections::HashMap;
    use std::sync::OnceLock;
    static DOCS: OnceLock<HashMap<String, String>> = OnceLock::new();
    DOCS.get_or_init(|| toml::from_str(include_str!("../assets/claims.toml")).unwrap_or_default())
        .get(name)
        .map(String::as_str)
}

#[cfg(test)]
mod tests {
    #[test]
    fn claim_docs_cover_the_app_token_claims() {
        for c in [
            "aud", "iss", "roles", "azp", "appid", "azpacr", "appidacr", "idtyp", "tid", "oid",
            "sub", "ver", "exp", "nbf", "iat", "scp", "uti", "rh", "aio",
        ] {
            assert!(super::claim_doc(c).is_some_and(|d| !d.is_empty()), "{c}");
        }
        assert_eq!(super::claim_doc("nonexistent"), None);
    }
}
