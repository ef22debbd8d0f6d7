//! The AADSTS knowledge base (assets/aadsts.toml) and advice for token failures.
//!
//! Add a code by adding its entry to assets/aadsts.toml (the test below lists the codes
//! that must be there).

use std::collections::HashMap;
use std::sync::OnceLock;

use serde::Deserialize;

use super::Advice;
use crate::auth::TokenError;
use crate::http::NetworkKind;
use crate::problem::Problem;
use crate::text::sanitize;

/// What the knowledge base knows about one AADSTS code.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct KnownCode {
    pub meaning: String,
    pub cause: String,
    pub fix: String,
}

const KB_TOML: &str = include_str!("../../assets/aadsts.toml");

/// All entries, parsed once.
pub fn knowledge_base() -> &'static HashMap<u64, KnownCode> {
    static KB: OnceLock<HashMap<u64, KnownCode>> = OnceLock::new();
    KB.get_or_init(|| {
        // The file ships with the binary and is checked by a test, so a parse failure here
        // can only come from a broken build; fall back to an empty base rather than panic.
        toml::from_str::<HashMap<String, KnownCode>>(KB_TOML)
            .map(|m| {
                m.into_iter()
                    .filter_map(|(k, v)| Some((k.parse().ok()?, v)))
                    .collect()
            })
            .unwrap_or_default()
    })
}

/// The entry for a code.
pub fn lookup(code: u64) -> Option<&'static KnownCode> {
    knowledge_base().get(&code)
}

/// The token endpoint refused the client secret as expired (AADSTS7000222): whatever date a
/// config says, Entra's is the one that counts.
pub fn secret_expired(e: &TokenError) -> bool {
    e.aadsts_code() == Some(7000222)
}

/// Advice for a failed token request.
pub fn advise(e: &TokenError) -> Advice {
    match e {
        TokenError::Rejected { entra, .. } => match entra.code().and_then(lookup) {
            Some(kb) => Advice {
                summary: entra.summary(),
                cause: kb.cause.clone(),
                fix: kb.fix.clone(),
            },
            None => Advice {
                summary: entra.summary(),
                cause: format!("Entra answered `{}`; this code is not in tokenscope's knowledge base.", sanitize(&entra.error, false)),
                fix: match &entra.error_uri {
                    Some(u) => format!("Read the full description and {}", sanitize(u, false)),
                    None => "Read the full error description; search the AADSTS code in Microsoft's error reference.".into(),
                },
            },
        },
        TokenError::Network { kind: NetworkKind::Connect, .. } => Advice {
            summary: "Could not connect to the identity provider.".into(),
            cause: "The authority host is wrong, unreachable from here, or (for the sandbox) not running.".into(),
            fix: "Check authority / token_endpoint and the network (proxy, firewall, DNS).".into(),
        },
        TokenError::Network { kind: NetworkKind::Timeout, .. } => Advice {
            summary: "The identity provider did not answer in time.".into(),
            cause: "A slow network, a proxy holding the connection, or an unreachable host.".into(),
            fix: "Retry; raise connect_timeout / timeout in the profile if the network is slow.".into(),
        },
        other => Advice {
            summary: other.summary(),
            cause: "The answer did not come from an OAuth 2.0 token endpoint as expected.".into(),
            fix: other.hint().unwrap_or_default(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::EntraError;

    #[test]
    fn knowledge_base_has_every_code_met_in_client_credentials_work() {
        let kb = knowledge_base();
        for code in [
            7000215, 7000222, 7000218, 700016, 500011, 90002, 1002012, 70011, 700022, 9001023,
            501051, 700024, 700027, 50027, 7000112, 700025, 70021, 700211, 700212, 700213, 50049,
            50059, 900023, 70003, 900144, 700023, 50048, 700021, 50166,
        ] {
            let e = kb
                .get(&code)
                .unwrap_or_else(|| panic!("AADSTS{code} missing"));
            assert!(!e.meaning.is_empty() && !e.cause.is_empty() && !e.fix.is_empty());
        }
        // The file parses completely (no entry silently dropped).
        let raw: HashMap<String, toml::Value> = toml::from_str(KB_TOML).unwrap();
        assert_eq!(raw.len(), kb.len());
    }

    #[test]
    fn known_and_unknown_codes() {
        let rejected = |code: u64, uri: Option<&str>| TokenError::Rejected {
            status: 400,
            entra: Box::new(EntraError {
                error: "invalid_request".into(),
                error_description: Some(format!("AADSTS{code}: Something happened. More text.")),
                error_codes: vec![code],
                error_uri: uri.map(str::to_string),
                ..Default::default()
            }),
            retry_after: None,
        };
        let a = advise(&rejected(7000222, None));
        assert_eq!(a.summary, "AADSTS7000222: Something happened.");
        assert!(a.fix.contains("Certificates & secrets"));
        let a = advise(&rejected(
            1234567,
            Some("https://login.microsoftonline.com/error?code=1234567"),
        ));
        assert!(a.cause.contains("not in tokenscope's knowledge base"));
        assert!(a.fix.contains("error?code=1234567"));
    }
}
