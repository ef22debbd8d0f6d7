//! No number a token endpoint sends can crash tokenscope (issue 15, defect 1).
//!
//! Every numeric field of a token response (`expires_in`, `ext_expires_in`, `refresh_in`)
//! gets values from −2⁶³ to 2⁶³−1, past u64, floats, exponents, strings and the non-JSON
//! literals `NaN` / `Infinity`: through the token manager (which turns them into dates, the
//! refresh schedule and the status line) nothing panics; through the binary, every command
//! ends with an exit code from README's table and no "panicked" on stderr, and every `--json`
//! output (`token`, `call`, `doctor`) is one JSON document of its documented shape — also with
//! those numbers in the token's `exp`/`nbf`/`iat` and the API's weather fields.

#[path = "fixtures/support.rs"]
mod support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::routing::{get, post};
use proptest::prelude::*;
use tokenscope::auth::{ManagerOptions, TokenManager};
use tokenscope::config::{self, Env, LoadOptions, Profile};

/// A token endpoint answering `{"token_type":"Bearer","access_token":JWT, FIELD: VALUE}` with
/// the field and raw JSON value of the current case, and a weather API that answers 200.
struct Server {
    rt: tokio::runtime::Runtime,
    body: Arc<Mutex<String>>,
    /// The weather API's answer.
    api: Arc<Mutex<String>>,
    dir: tempfile::TempDir,
    config: std::path::PathBuf,
    turn: Mutex<()>,
}

const JWT: &str = "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.eyJhdWQiOiJhcGkiLCJyb2xlcyI6WyJXZWF0aGVyLlJlYWQiXSwiZXhwIjo5MjIzMzcyMDM2ODU0Nzc1ODA3LCJpYXQiOi05MjIzMzcyMDM2ODU0Nzc1ODA4fQ.c2ln";

impl Server {
    fn new() -> Server {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let body = Arc::new(Mutex::new(String::new()));
        let served = body.clone();
        let api = Arc::new(Mutex::new(r#"{"temp":1}"#.to_string()));
        let weather = api.clone();
        let addr = rt.block_on(async move {
            let app = Router::new()
                .route(
                    "/t/oauth2/v2.0/token",
                    post(move || {
                        let b = served.lock().unwrap().clone();
                        async move { ([("content-type", "application/json")], b) }
                    }),
                )
                .route(
                    "/api/weather/{city}",
                    get(move || {
                        let b = weather.lock().unwrap().clone();
                        async move { ([("content-type", "application/json")], b) }
                    }),
                );
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            tokio::spawn(async move { axum::serve(listener, app).await });
            addr
        });
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("config.toml");
        std::fs::write(
            &config,
            format!(
                r#"[profiles.p]
authority = "http://{addr}/t"
client_id = "c"
client_secret_env = "HOSTILE_SECRET"
scope = "api://api/.default"
api_url = "http://{addr}/api/weather/{{city}}"
expected_roles = ["Weather.Read"]
cache = false
"#
            ),
        )
        .unwrap();
        Server {
            rt,
            body,
            api,
            dir,
            config,
            turn: Mutex::new(()),
        }
    }

    fn profile(&self) -> Profile {
        let env = Env::from_pairs([("HOSTILE_SECRET", "s")]);
        config::load(
            &LoadOptions {
                config: Some(self.config.clone()),
                profile: None,
            },
            &env,
        )
        .unwrap()
    }

    fn serve(&self, field: &str, value: &str) {
        let mut extra = String::new();
        if field != "expires_in" {
            extra = r#","expires_in":3599"#.into();
        }
        *self.body.lock().unwrap() =
            format!(r#"{{"token_type":"Bearer","access_token":"{JWT}"{extra},"{field}":{value}}}"#);
    }
}

fn server() -> &'static Server {
    static S: std::sync::OnceLock<Server> = std::sync::OnceLock::new();
    S.get_or_init(Server::new)
}

/// Everything the dashboard and the CLI derive from a token, with a refresher running.
fn exercise(field: &str, value: &str) {
    let s = server();
    let _turn = s.turn.lock().unwrap_or_else(|e| e.into_inner());
    s.serve(field, value);
    let profile = s.profile();
    s.rt.block_on(async {
        let http = support::http();
        let m = TokenManager::for_profile(&profile, http, None, ManagerOptions::default());
        let _ = tokio::time::timeout(Duration::from_secs(10), m.token()).await;
        let refresher = m.spawn_refresher();
        tokio::time::sleep(Duration::from_millis(2)).await;
        let snap = m.snapshot();
        let now = tokenscope::time::now();
        let _ = snap.status_line(now);
        if let Some(t) = &snap.token {
            let _ = (t.servable(now, Duration::from_secs(300)), t.valid(now));
            let _ = t.next_refresh(Duration::from_secs(300));
            let _ = tokenscope::time::relative(t.expires_on, now);
            let _ = tokenscope::time::countdown(t.expires_on, now);
        }
        drop(refresher);
    });
}

/// Raw JSON values for a numeric field: integers across i64 and past u64, floats, exponents,
/// strings of numbers and of junk.
fn hostile_value() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<i64>().prop_map(|n| n.to_string()),
        any::<u64>().prop_map(|n| n.to_string()),
        any::<f64>()
            .prop_filter("JSON has no NaN/inf", |f| f.is_finite())
            .prop_map(|f| format!("{f:e}")),
        (0u32..400).prop_map(|e| format!("1e{e}")),
        any::<i64>().prop_map(|n| format!("\"{n}\"")),
        "[a-z0-9 .e+-]{0,12}".prop_map(|s| format!("{s:?}")),
        Just("18446744073709551616".to_string()),
        Just("-9223372036854775809".to_string()),
        Just("NaN".to_string()),
        Just("Infinity".to_string()),
        Just("-Infinity".to_string()),
        Just("1e15".to_string()),
        Just("null".to_string()),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn no_expires_in_panics(v in hostile_value()) {
        exercise("expires_in", &v);
    }

    #[test]
    fn no_ext_expires_in_panics(v in hostile_value()) {
        exercise("ext_expires_in", &v);
    }

    #[test]
    fn no_refresh_in_panics(v in hostile_value()) {
        exercise("refresh_in", &v);
    }
}

/// The values that crashed every command before (issue 15), and their neighbours, through
/// the binary: each command exits with a documented code and never panics.
#[test]
fn every_command_survives_the_extremes() {
    let s = server();
    let home = s.dir.path().join("home");
    std::fs::create_dir_all(&home).unwrap();
    let cfg = s.config.to_str().unwrap().to_string();
    for value in [
        "1e15",
        "9223372036854775807",
        "-9223372036854775808",
        "18446744073709551615",
        "1e308",
        "-1",
        "0",
        "\"9223372036854775807\"",
    ] {
        for field in ["expires_in", "ext_expires_in", "refresh_in"] {
            let _turn = s.turn.lock().unwrap_or_else(|e| e.into_inner());
            s.serve(field, value);
            for (args, codes) in [
                (&["token"][..], &[0, 3][..]),
                (&["token", "--json"][..], &[0, 3][..]),
                (&["call", "Seattle"][..], &[0, 3][..]),
                (&["doctor", "--json"][..], &[0, 1][..]),
            ] {
                let mut full = vec!["--config", cfg.as_str(), "--no-cache"];
                full.extend_from_slice(args);
                let o =
                    s.rt.block_on(support::run_cli(&home, &full, &[("HOSTILE_SECRET", "s")]));
                let text = support::all_output(&o);
                assert!(
                    !text.contains("panicked"),
                    "{field}={value} {args:?} panicked:\n{text}"
                );
                let code = o.status.code().unwrap_or(-1);
                assert!(
                    codes.contains(&code),
                    "{field}={value} {args:?}: exit {code}, expected one of {codes:?}:\n{text}"
                );
            }
        }
    }
}

/// A token whose `claim` holds the raw JSON number or literal `value` (payload JSON written
/// by hand: `1e400` or `-0` must reach the decoder as sent).
fn jwt_with(claim: &str, value: &str) -> String {
    use base64::Engine as _;
    let b64 = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
    let header = b64(r#"{"typ":"JWT","alg":"RS256"}"#);
    let payload = b64(&format!(
        r#"{{"aud":"api","roles":["Weather.Read"],"exp":1900000000,"{claim}":{value}}}"#
    ));
    format!("{header}.{payload}.c2ln")
}

/// One `--json` run: a documented exit code, no panic, and one JSON document — the result
/// (with `keys`) or `{"error": {"stage", "kind", "message"}}`.
fn json_run(s: &Server, args: &[&str], codes: &[i32], keys: &[&str], case: &str) {
    let home = s.dir.path().join("home");
    let cfg = s.config.to_str().unwrap().to_string();
    let mut full = vec!["--config", cfg.as_str(), "--no-cache"];
    full.extend_from_slice(args);
    let o =
        s.rt.block_on(support::run_cli(&home, &full, &[("HOSTILE_SECRET", "s")]));
    let text = support::all_output(&o);
    assert!(
        !text.contains("panicked"),
        "{case} {args:?} panicked:\n{text}"
    );
    let code = o.status.code().unwrap_or(-1);
    assert!(
        codes.contains(&code),
        "{case} {args:?}: exit {code}:\n{text}"
    );
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap_or_else(|e| {
        panic!("{case} {args:?}: stdout is not one JSON document ({e}):\n{text}")
    });
    if let Some(e) = v.get("error") {
        for k in ["stage", "kind", "message"] {
            assert!(
                e.get(k).is_some(),
                "{case} {args:?}: error without {k}: {v}"
            );
        }
    } else {
        for k in keys {
            assert!(v.get(*k).is_some(), "{case} {args:?}: no {k}: {v}");
        }
    }
}

/// Where a hostile number goes: a token-response field, a claim of the token, a weather field.
fn hostile_place() -> impl Strategy<Value = (&'static str, &'static str)> {
    prop_oneof![
        Just(("response", "expires_in")),
        Just(("response", "ext_expires_in")),
        Just(("response", "refresh_in")),
        Just(("claim", "exp")),
        Just(("claim", "nbf")),
        Just(("claim", "iat")),
        Just(("weather", "temp")),
        Just(("weather", "humidity")),
        Just(("weather", "pressure")),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn every_json_output_stays_json(place in hostile_place(), v in hostile_value()) {
        let s = server();
        let _turn = s.turn.lock().unwrap_or_else(|e| e.into_inner());
        let (kind, field) = place;
        match kind {
            "response" => s.serve(field, &v),
            "claim" => {
                *s.body.lock().unwrap() = format!(
                    r#"{{"token_type":"Bearer","access_token":"{}","expires_in":3599}}"#,
                    jwt_with(field, &v)
                );
            }
            _ => {
                s.serve("ext_expires_in", "3599");
                *s.api.lock().unwrap() = format!(r#"{{"temp":1,"{field}":{v}}}"#);
            }
        }
        let case = format!("{field}={v}");
        json_run(s, &["token", "--json"], &[0, 3], &["profile", "expires_on", "format"], &case);
        json_run(s, &["call", "Seattle", "--json"], &[0, 3], &["status", "body", "outcome"], &case);
        json_run(s, &["doctor", "--json"], &[0, 1], &["profile", "ok", "checks"], &case);
        *s.api.lock().unwrap() = r#"{"temp":1}"#.to_string();
    }
}
