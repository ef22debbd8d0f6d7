//! Diagnosis: naming the cause of a failure and the fix, the way an experienced identity
//! engineer would — config lint and credential expiry ([`lint`]), the role check
//! ([`roles`]), token-endpoint failures and the AADSTS knowledge base ([`aadsts`]), refused
//! API calls ([`refusal`]), the app-role chain from the tenant's set-up to the token
//! ([`setup`]), clock skew between this machine, the token endpoint and the token
//! ([`skew`]), `doctor`'s checklist ([`doctor`]), and what well-known claims mean.
//!
//! Every judgement the front ends show is made here once and returned typed ([`Advice`],
//! [`roles::RoleCheck`], [`refusal::Refusal`], [`setup::SetupReport`],
//! [`doctor::DoctorReport`]); the CLI and the TUI only render. Pure functions over core
//! types, except [`doctor::gather`], which fetches the facts `doctor` judges through `auth`,
//! `api`, `graph` and `jwt`, and [`setup::wait_for_role`], which asks a token manager for
//! fresh tokens. Nothing here prints. Layer: above `config`, `auth`, `api`, `graph` and
//! `jwt`; it must not import the front ends.

pub mod aadsts;
pub mod doctor;
pub mod lint;
pub mod refusal;
pub mod roles;
pub mod setup;
pub mod skew;
#[cfg(test)]
mod testing;

use serde::Serialize;

/// Kept at this path for the front ends, which grade findings with it; it lives in
/// `severity` so that `jwt` can use it without depending on this layer.
pub use crate::severity::Severity;

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
