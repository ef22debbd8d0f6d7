//! Property tests for token response parsing, the `cargo test` twin of
//! fuzz/fuzz_targets/token_response.rs: whatever a token endpoint answers (any status, any
//! bytes, hostile JSON), `auth::request_token` returns a token or a typed error — no panic —
//! and the error text is short and carries no terminal control characters.
//!
//! `auth::response::parse` is private, so the answers are served by a raw HTTP server on
//! 127.0.0.1 whose next response each case sets.

#[path = "fixtures/support.rs"]
mod support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use proptest::prelude::*;
use tokenscope::auth::{self, TokenError};
use tokenscope::config::Profile;
use tokenscope::problem::Problem;

struct Harness {
    rt: tokio::runtime::Runtime,
    next: Arc<Mutex<Vec<u8>>>,
    /// The proptest functions run on parallel threads and share one server: one at a time.
    turn: Mutex<()>,
    profile: Profile,
    client: reqwest::Client,
    _dir: tempfile::TempDir,
}

impl Harness {
    fn new() -> Harness {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let next = Arc::new(Mutex::new(Vec::new()));
        let served = next.clone();
        let addr = rt.block_on(support::serve_raw(move || served.lock().unwrap().clone()));
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        std::fs::write(
            &path,
            format!(
                r#"
[profiles.p]
authority = "http://{addr}/tid"
client_id = "11111111-2222-3333-4444-555555555555"
client_secret = "props-secret"
scope = "api://api-guid/.default"
api_url = "http://{addr}/api/weather/{{city}}"
timeout = "5s"
"#
            ),
        )
        .unwrap();
        let profile = support::profile(&path, "p");
        let client = support::client(&profile);
        Harness {
            rt,
            next,
            turn: Mutex::new(()),
            profile,
            client,
            _dir: dir,
        }
    }

    fn answer(
        &self,
        status: u16,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Result<auth::TokenResponse, TokenError> {
        let _turn = self.turn.lock().unwrap_or_else(|p| p.into_inner());
        *self.next.lock().unwrap() = support::http_response(&format!("{status} X"), headers, body);
        self.rt.block_on(async {
            tokio::time::timeout(
                Duration::from_secs(20),
                auth::request_token(&self.client, &self.profile),
            )
            .await
            .expect("no hang")
        })
    }
}

fn harness() -> &'static Harness {
    static H: std::sync::OnceLock<Harness> = std::sync::OnceLock::new();
    H.get_or_init(Harness::new)
}

fn assert_error_shown_safely(e: &TokenError) {
    // What a user reads: the error, its detail and its hint.
    let mut shown = e.full_text();
    if let TokenError::Rejected { entra, .. } = e {
        // Known bug, see `oauth_error_code_is_shown_inert` below: the OAuth `error` code is
        // printed as received. Everything else must be inert.
        if !entra.error.is_empty() {
            shown = shown.replace(&entra.error, "<error>");
        }
    }
    assert!(
        shown.len() < 4000,
        "error text is bounded: {} bytes",
        shown.len()
    );
    assert!(
        !shown.chars().any(|c| c.is_control() && c != '\n'),
        "error text has a raw control character: {shown:?}"
    );
    assert!(
        shown.contains("hint:") || matches!(e, TokenError::Rejected { .. }),
        "{shown}"
    );
    assert!(
        !shown.contains("props-secret"),
        "the secret is never echoed"
    );
    let _ = e.short_reason();
    let _ = e.is_transient();
}

fn json_value() -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::from),
        any::<i64>().prop_map(serde_json::Value::from),
        any::<f64>().prop_map(|f| serde_json::Number::from_f64(f)
            .map_or(serde_json::Value::Null, serde_json::Value::Number)),
        ".{0,40}".prop_map(serde_json::Value::from),
    ];
    leaf.prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(serde_json::Value::from),
            proptest::collection::btree_map(
                prop_oneof![
                    Just("access_token".to_string()),
                    Just("expires_in".to_string()),
                    Just("token_type".to_string()),
                    Just("error".to_string()),
                    Just("error_description".to_string()),
                    Just("error_codes".to_string()),
                    Just("refresh_in".to_string()),
                    "[a-z_]{1,12}",
                ],
                inner,
                0..6
            )
            .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(150))]

    #[test]
    fn any_bytes_any_status_never_panic(
        status in prop_oneof![Just(200u16), Just(400), Just(401), Just(429), Just(500), Just(503), 200u16..600],
        body in proptest::collection::vec(any::<u8>(), 0..600),
    ) {
        if let Err(e) = harness().answer(status, &[], &body) {
            assert_error_shown_safely(&e);
        }
    }

    #[test]
    fn any_json_never_panics(status in prop_oneof![Just(200u16), Just(400), Just(401)], v in json_value()) {
        match harness().answer(status, &[("Content-Type", "application/json")], v.to_string().as_bytes()) {
            Ok(t) => {
                prop_assert!((200..300).contains(&status));
                prop_assert!(!t.access_token.expose().is_empty());
            }
            Err(e) => assert_error_shown_safely(&e),
        }
    }

    #[test]
    fn a_valid_success_round_trips(
        token in "[A-Za-z0-9._~+/=-]{1,300}",
        expires_in in 0u64..10_000_000,
        as_string in any::<bool>(),
        refresh_in in proptest::option::of(0u64..100_000),
    ) {
        let mut v = serde_json::json!({"token_type": "Bearer", "access_token": token});
        v["expires_in"] = if as_string { expires_in.to_string().into() } else { expires_in.into() };
        if let Some(r) = refresh_in {
            v["refresh_in"] = r.into();
        }
        let t = harness().answer(200, &[], v.to_string().as_bytes()).unwrap();
        prop_assert_eq!(t.access_token.expose(), token.as_str());
        prop_assert_eq!(t.expires_in, expires_in);
        prop_assert_eq!(t.refresh_in, refresh_in);
    }

    #[test]
    fn entra_errors_are_summarised_inert(
        code in 1u64..10_000_000,
        desc in ".{0,200}",
        retry in proptest::option::of(0u64..100_000),
    ) {
        let body = serde_json::json!({
            "error": "invalid_client",
            "error_description": format!("AADSTS{code}: {desc}"),
            "error_codes": [code],
        });
        let retry_s = retry.map(|r| r.to_string());
        let headers: Vec<(&str, &str)> = retry_s.iter().map(|r| ("Retry-After", r.as_str())).collect();
        let e = harness().answer(429, &headers, body.to_string().as_bytes()).unwrap_err();
        prop_assert_eq!(e.aadsts_code(), Some(code));
        // Honoured up to an hour: a server asking for days is asking too much.
        prop_assert_eq!(
            e.retry_after(),
            retry.map(|r| Duration::from_secs(r).min(tokenscope::auth::MAX_RETRY_AFTER))
        );
        prop_assert!(e.is_transient());
        assert_error_shown_safely(&e);
    }
}

/// The OAuth `error` field is printed unsanitised in `TokenError::Rejected`'s text
/// ("token request refused (HTTP 400, {error}): …", `rejected_text` in src/auth.rs), so an
/// identity provider (or anything in the way) can put escape sequences on the user's terminal.
#[test]
fn oauth_error_code_is_shown_inert() {
    let e = harness()
        .answer(
            400,
            &[],
            br#"{"error":"invalid_client\u001b]0;pwned\u0007"}"#,
        )
        .unwrap_err();
    let shown = e.to_string();
    assert!(
        !shown.chars().any(|c| c.is_control() && c != '\n'),
        "{shown:?}"
    );
}
