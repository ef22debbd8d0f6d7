//! The fault matrix: what a network and a hostile server can throw at tokenscope, each with
//! the outcome a user sees — never a panic, never a hang, never an interpreted escape.
//!
//! Already covered in tests/core_client.rs (not repeated here): identity provider 502 with
//! HTML, 500 with an empty body, stalling, refused connection, redirect, 404, an opaque
//! token in `token --json`; API 2 MiB body, an escape-laden body through `body_text`,
//! stalling, 418. tests/tui_stall.rs covers typing while the identity provider stalls.

#[path = "fixtures/support.rs"]
mod support;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Duration;

use crossterm::event::KeyCode;
use serde_json::json;
use support::{
    Dashboard, all_output, client, dead_addr, http_response, raw_server, run_cli, stalling_server,
};
use tokenscope::api::{self, ApiError, Body, Outcome};
use tokenscope::auth::{self, TokenError};
use tokenscope::config::{Env, Profile};
use tokenscope::diagnose::refusal;
use tokenscope::http::{MAX_BODY, NetworkKind};
use tokenscope::jwt::b64url;
use tokenscope::problem::Problem;
use tokenscope::secret::AccessToken;

const WAIT: Duration = Duration::from_secs(20);
const SECRET: &str = "faults-secret";
const TEN_MIB: usize = 10 * 1024 * 1024;

/// An unsigned JWT with the given extra claims (the API servers here do not verify).
fn jwt(extra: serde_json::Value) -> String {
    let now = chrono::Utc::now().timestamp();
    let mut payload = json!({
        "aud": "api-guid", "iss": "https://login.microsoftonline.com/tid/v2.0",
        "iat": now, "nbf": now, "exp": now + 3600, "tid": "tid", "ver": "2.0",
        "idtyp": "app", "roles": ["Weather.Read"],
    });
    if let (Some(p), Some(e)) = (payload.as_object_mut(), extra.as_object()) {
        p.extend(e.clone());
    }
    format!(
        "{}.{}.{}",
        b64url(br#"{"typ":"JWT","alg":"RS256","kid":"k"}"#),
        b64url(payload.to_string().as_bytes()),
        b64url(b"sig")
    )
}

fn token_body(access_token: &str) -> Vec<u8> {
    http_response(
        "200 OK",
        &[("Content-Type", "application/json")],
        json!({"token_type": "Bearer", "expires_in": 3599, "access_token": access_token})
            .to_string()
            .as_bytes(),
    )
}

fn write_config(dir: &Path, idp: SocketAddr, api: SocketAddr, timeout: &str) -> PathBuf {
    let path = dir.join("config.toml");
    std::fs::write(
        &path,
        format!(
            r#"
[profiles.faults]
authority = "http://{idp}/tid"
client_id = "11111111-2222-3333-4444-555555555555"
client_secret_env = "TS_FAULTS_SECRET"
scope = "api://api-guid/.default"
api_url = "http://{api}/api/weather/{{city}}"
expected_roles = ["Weather.Read"]
connect_timeout = "2s"
timeout = "{timeout}"
cache = false
"#
        ),
    )
    .unwrap();
    path
}

fn profile(dir: &Path, idp: SocketAddr, api: SocketAddr, timeout: &str) -> Profile {
    let cfg = write_config(dir, idp, api, timeout);
    support::load_profile(&cfg, None, &Env::from_pairs([("TS_FAULTS_SECRET", SECRET)]))
}

/// Token request against an identity provider answering `response` to everything.
async fn token_from(response: Vec<u8>) -> Result<auth::TokenResponse, TokenError> {
    let idp = raw_server(response).await;
    let dir = tempfile::tempdir().unwrap();
    let p = profile(dir.path(), idp, dead_addr(), "5s");
    tokio::time::timeout(WAIT, auth::request_token(&client(&p), &p))
        .await
        .expect("no hang")
}

/// API call against a server answering `response` to everything.
async fn call_with(
    response: Vec<u8>,
    token: &str,
) -> (Result<api::ApiResponse, ApiError>, Profile) {
    let api = raw_server(response).await;
    let dir = tempfile::tempdir().unwrap();
    let p = profile(dir.path(), dead_addr(), api, "5s");
    let r = tokio::time::timeout(
        WAIT,
        api::call_weather(&client(&p), &p.api_url, "Seattle", &AccessToken::new(token)),
    )
    .await
    .expect("no hang");
    (r, p)
}

fn cli_env() -> [(&'static str, &'static str); 1] {
    [("TS_FAULTS_SECRET", SECRET)]
}

/// `tokenscope --config CFG ARGS…` with the profile's secret in the environment.
async fn cli(home: &Path, cfg: &Path, args: &[&str]) -> Output {
    let cfg = cfg.to_str().expect("a UTF-8 path");
    run_cli(home, &[&["--config", cfg], args].concat(), &cli_env()).await
}

/// A config whose identity provider hands out a plain token and whose API is at `api`.
async fn token_ok_config(dir: &Path, api: SocketAddr, timeout: &str) -> PathBuf {
    let idp = raw_server(token_body(&jwt(json!({})))).await;
    write_config(dir, idp, api, timeout)
}

/// The first character a terminal could act on: a C0 control other than newline and tab,
/// DEL, a C1 control (U+0080–U+009F: U+009B is CSI), or a bidi override.
fn active_char(bytes: &[u8]) -> Option<char> {
    String::from_utf8_lossy(bytes).chars().find(|&c| {
        (c.is_control() && c != '\n' && c != '\t')
            || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
    })
}

/// Nothing on stdout or stderr that a terminal would interpret.
fn assert_inert(o: &std::process::Output) {
    for (name, bytes) in [("stdout", &o.stdout), ("stderr", &o.stderr)] {
        if let Some(c) = active_char(bytes) {
            panic!("{name} carries {c:?} raw:\n{}", all_output(o));
        }
    }
}

/// C0 controls never appear raw (JSON escapes them as \u001b); C1 and bidi are checked by
/// [`assert_inert`] for text output and by the ignored JSON test below.
fn assert_no_c0(o: &std::process::Output) {
    for (name, bytes) in [("stdout", &o.stdout), ("stderr", &o.stderr)] {
        if let Some(c) = String::from_utf8_lossy(bytes)
            .chars()
            .find(|&c| (c as u32) < 0x20 && c != '\n' && c != '\t' || c == '\u{7f}')
        {
            panic!("{name} carries {c:?} raw:\n{}", all_output(o));
        }
    }
}

// ------------------------------------------------------------------ identity provider

#[tokio::test]
async fn idp_500_with_an_html_page() {
    let e = token_from(http_response(
        "500 Internal Server Error",
        &[("Content-Type", "text/html")],
        b"<!DOCTYPE html><html><head><title>Runtime Error</title><style>p{}</style></head><body><h1>Server Error in '/' Application.</h1><p>\x1b[31mboom</p></body></html>",
    ))
    .await
    .unwrap_err();
    let TokenError::UnexpectedResponse {
        status, excerpt, ..
    } = &e
    else {
        panic!("{e:?}")
    };
    assert_eq!(*status, 500);
    assert_eq!(
        excerpt,
        "Runtime Error Server Error in '/' Application. \\u{1b}[31mboom"
    );
    assert!(e.is_transient(), "a 500 is worth retrying");
    assert!(
        e.hint().is_some() && e.full_text().contains("\nhint: "),
        "{e}"
    );
}

#[tokio::test]
async fn idp_429_with_retry_after() {
    // Entra's throttling error JSON…
    let e = token_from(http_response(
        "429 Too Many Requests",
        &[("Content-Type", "application/json"), ("Retry-After", "120")],
        br#"{"error":"temporarily_unavailable","error_description":"AADSTS50196: The server terminated an operation because it encountered a client request loop. Trace ID: t","error_codes":[50196]}"#,
    ))
    .await
    .unwrap_err();
    assert_eq!(e.retry_after(), Some(Duration::from_secs(120)));
    assert!(e.is_transient());
    assert_eq!(e.aadsts_code(), Some(50196));
    assert!(e.to_string().contains("HTTP 429"), "{e}");

    // …and a gateway's plain-text 429.
    let e = token_from(http_response(
        "429 Too Many Requests",
        &[("Retry-After", " 7 ")],
        b"slow down",
    ))
    .await
    .unwrap_err();
    assert!(
        matches!(e, TokenError::UnexpectedResponse { status: 429, .. }),
        "{e:?}"
    );
    assert_eq!(e.retry_after(), Some(Duration::from_secs(7)));
    assert!(e.is_transient());

    // An HTTP-date Retry-After is not understood as seconds: no bogus value.
    let e = token_from(http_response(
        "429 Too Many Requests",
        &[("Retry-After", "Wed, 21 Oct 2015 07:28:00 GMT")],
        b"",
    ))
    .await
    .unwrap_err();
    assert_eq!(e.retry_after(), None);
}

#[tokio::test]
async fn idp_malformed_json() {
    // Cut off mid-object: not JSON at all.
    let e = token_from(http_response(
        "200 OK",
        &[("Content-Type", "application/json")],
        br#"{"token_type":"Bearer","expires_in":3599,"access_tok"#,
    ))
    .await
    .unwrap_err();
    assert!(
        matches!(e, TokenError::UnexpectedResponse { status: 200, .. }),
        "{e:?}"
    );
    assert!(e.to_string().contains("non-JSON body"), "{e}");

    // JSON, wrong types.
    for body in [
        r#"{"token_type":"Bearer","expires_in":3599,"access_token":42}"#,
        r#"{"token_type":"Bearer","expires_in":-5,"access_token":"x"}"#,
        r#"{"token_type":"Bearer","expires_in":{"s":1},"access_token":"x"}"#,
        r#"{"error":17}"#,
    ] {
        let e = token_from(http_response("200 OK", &[], body.as_bytes()))
            .await
            .unwrap_err();
        assert!(
            matches!(e, TokenError::Malformed { status: 200, .. }),
            "{body}: {e:?}"
        );
        assert!(e.to_string().contains("not a token response"), "{e}");
    }

    // A JSON array, a JSON string.
    for body in ["[1,2,3]", "\"token\""] {
        let e = token_from(http_response("200 OK", &[], body.as_bytes()))
            .await
            .unwrap_err();
        assert!(
            matches!(e, TokenError::UnexpectedResponse { .. }),
            "{body}: {e:?}"
        );
    }
}

#[tokio::test]
async fn idp_10_mib_body_is_capped() {
    // A 10 MiB token response: read up to the 1 MiB cap, then refused as not JSON.
    let mut body = br#"{"token_type":"Bearer","expires_in":3599,"access_token":""#.to_vec();
    body.resize(TEN_MIB, b'A');
    body.extend_from_slice(b"\"}");
    let e = token_from(http_response("200 OK", &[], &body))
        .await
        .unwrap_err();
    let TokenError::UnexpectedResponse { excerpt, .. } = &e else {
        panic!("{e:?}")
    };
    assert!(
        excerpt.chars().count() <= 201,
        "a short excerpt, not 10 MiB"
    );
    assert!(e.to_string().len() < 1000);

    // A 10 MiB HTML error page.
    let page = format!("<html><body>{}</body></html>", "x".repeat(TEN_MIB));
    let e = token_from(http_response(
        "503 Service Unavailable",
        &[],
        page.as_bytes(),
    ))
    .await
    .unwrap_err();
    assert!(e.to_string().len() < 1000);
    assert!(e.is_transient());
}

#[tokio::test]
async fn idp_faults_through_the_cli() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path();
    // Refused.
    let cfg = write_config(home, dead_addr(), dead_addr(), "1s");
    let o = cli(home, &cfg, &["token"]).await;
    assert_eq!(o.status.code(), Some(3), "{}", all_output(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("could not connect to the token endpoint"),
        "{}",
        all_output(&o)
    );
    let o = cli(home, &cfg, &["call", "Seattle", "--json"]).await;
    assert_eq!(o.status.code(), Some(3), "{}", all_output(&o));
    let j = support::stdout_json(&o);
    assert_eq!(j["error"]["stage"], "token", "{j:#}");

    // Stalled past the timeout.
    let (stall, task) = stalling_server().await;
    let cfg = write_config(home, stall, dead_addr(), "1s");
    let o = cli(home, &cfg, &["token"]).await;
    assert_eq!(o.status.code(), Some(3), "{}", all_output(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("timed out"),
        "{}",
        all_output(&o)
    );
    task.abort();

    // 429 with Retry-After, through --json.
    let idp = raw_server(http_response(
        "429 Too Many Requests",
        &[("Retry-After", "30")],
        b"<html><body>Too Many Requests</body></html>",
    ))
    .await;
    let cfg = write_config(home, idp, dead_addr(), "5s");
    let o = cli(home, &cfg, &["token", "--json"]).await;
    assert_eq!(o.status.code(), Some(3), "{}", all_output(&o));
    let j = support::stdout_json(&o);
    assert!(
        j["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("429") && m.contains("Too Many Requests")),
        "{j:#}"
    );
    assert_inert(&o);
}

// ------------------------------------------------------------------ API

#[tokio::test]
async fn opaque_token_refused_by_the_api_is_still_explained() {
    let (r, p) = call_with(
        http_response(
            "403 Forbidden",
            &[("WWW-Authenticate", "Bearer error=\"insufficient_scope\"")],
            b"IDW10203: The \"role\" claim does not contain role Weather.Read or was not found",
        ),
        "opaque-reference-token",
    )
    .await;
    let resp = r.unwrap();
    assert!(tokenscope::jwt::decode("opaque-reference-token").is_err());
    let advice = refusal::explain(&resp, None, &p.expected_roles, &p.scope).unwrap();
    assert!(
        advice.summary.contains("requires Weather.Read"),
        "{advice:?}"
    );
}

#[tokio::test]
async fn api_refusing_connections() {
    let dir = tempfile::tempdir().unwrap();
    let p = profile(dir.path(), dead_addr(), dead_addr(), "2s");
    let e = api::call_weather(&client(&p), &p.api_url, "Seattle", &AccessToken::new("t"))
        .await
        .unwrap_err();
    assert!(
        matches!(
            e,
            ApiError::Network {
                kind: NetworkKind::Connect,
                ..
            }
        ),
        "{e:?}"
    );
    assert!(e.full_text().contains("is the API running?"), "{e}");

    // Through the CLI: token fine, API down → exit 5.
    let cfg = token_ok_config(dir.path(), dead_addr(), "2s").await;
    let o = cli(dir.path(), &cfg, &["call", "Seattle"]).await;
    assert_eq!(o.status.code(), Some(5), "{}", all_output(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("could not connect to the API"),
        "{}",
        all_output(&o)
    );
}

#[tokio::test]
async fn api_stalling_through_the_cli() {
    let dir = tempfile::tempdir().unwrap();
    let (stall, task) = stalling_server().await;
    let cfg = token_ok_config(dir.path(), stall, "1s").await;
    let o = cli(dir.path(), &cfg, &["call", "Seattle", "--json"]).await;
    assert_eq!(o.status.code(), Some(5), "{}", all_output(&o));
    let j = support::stdout_json(&o);
    assert_eq!(j["error"]["stage"], "api", "{j:#}");
    assert!(
        j["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("timed out")),
        "{j:#}"
    );
    task.abort();
}

#[tokio::test]
async fn api_500() {
    let response = http_response(
        "500 Internal Server Error",
        &[("Content-Type", "text/html")],
        b"<html><body><h1>Internal Server Error</h1></body></html>",
    );
    let (r, p) = call_with(response.clone(), &jwt(json!({}))).await;
    let resp = r.unwrap();
    assert_eq!((resp.status, resp.outcome()), (500, Outcome::HttpError));
    let claims = tokenscope::jwt::decode(&jwt(json!({}))).unwrap().claims;
    let advice = refusal::explain(&resp, Some(&claims), &p.expected_roles, &p.scope).unwrap();
    assert_eq!(
        advice.summary,
        "the API failed (HTTP 500); the token was not the problem"
    );
    assert!(
        advice.cause.contains("Not an authorisation problem"),
        "{advice:?}"
    );

    let dir = tempfile::tempdir().unwrap();
    let api = raw_server(response).await;
    let cfg = token_ok_config(dir.path(), api, "5s").await;
    let o = cli(dir.path(), &cfg, &["call", "Seattle", "--json"]).await;
    assert_eq!(o.status.code(), Some(5), "{}", all_output(&o));
    let j = support::stdout_json(&o);
    assert_eq!(
        (j["status"].as_u64(), &j["outcome"]),
        (Some(500), &json!("http_error"))
    );
}

#[tokio::test]
async fn api_non_utf8_body() {
    let body: &[u8] = b"caf\xe9 \xff\xfe\x00 ok \xc3\x28";
    let (r, _) = call_with(
        http_response(
            "200 OK",
            &[("Content-Type", "text/plain; charset=utf-8")],
            body,
        ),
        &jwt(json!({})),
    )
    .await;
    let resp = r.unwrap();
    let Body::Text(t) = &resp.body else {
        panic!("{:?}", resp.body)
    };
    assert!(t.contains('\u{fffd}'), "invalid bytes replaced: {t:?}");
    let shown = resp.body_text();
    assert!(shown.contains("\\u{0}"), "NUL made visible: {shown:?}");
    assert!(
        !shown
            .chars()
            .any(|c| c.is_control() && c != '\n' && c != '\t')
    );

    // Through the CLI, as text and as JSON.
    let dir = tempfile::tempdir().unwrap();
    let api = raw_server(http_response("200 OK", &[], body)).await;
    let cfg = token_ok_config(dir.path(), api, "5s").await;
    for json_flag in [false, true] {
        let args: &[&str] = if json_flag {
            &["call", "Seattle", "--json"]
        } else {
            &["call", "Seattle"]
        };
        let o = cli(dir.path(), &cfg, args).await;
        assert_eq!(o.status.code(), Some(0), "{}", all_output(&o));
        assert!(std::str::from_utf8(&o.stdout).is_ok(), "stdout stays UTF-8");
        assert!(!o.stdout.contains(&0), "no NUL byte on stdout");
        if json_flag {
            assert_eq!(support::stdout_json(&o)["body"]["kind"], "text");
        }
    }
}

const HOSTILE: &str = "\x1b[2J\x1b]0;pwned\x07\x1b]52;c;ZXZpbA==\x07\u{9b}31m\u{202e}evil\r";

/// A token with escape sequences in its claims, and an API echoing them in its 403 body.
async fn hostile_servers(roles: serde_json::Value) -> (tempfile::TempDir, PathBuf, String) {
    let token = jwt(json!({
        "roles": roles,
        "x-note": HOSTILE,
        "appid": format!("app{HOSTILE}"),
    }));
    let body = format!(r#"{{"detail":"Missing required role Weather.Read{HOSTILE}"}}"#);
    let dir = tempfile::tempdir().unwrap();
    let idp = raw_server(token_body(&token)).await;
    let api = raw_server(http_response(
        "403 Forbidden",
        &[
            ("Content-Type", "application/json"),
            ("WWW-Authenticate", "Bearer error=\"insufficient_scope\""),
        ],
        body.as_bytes(),
    ))
    .await;
    let cfg = write_config(dir.path(), idp, api, "5s");
    (dir, cfg, token)
}

#[tokio::test]
async fn escape_sequences_in_body_and_claims_are_shown_inert() {
    let (dir, cfg, token) = hostile_servers(json!(["Weather.Write"])).await;
    let cfg = cfg.to_str().unwrap();
    for args in [
        vec!["--config", cfg, "token"],
        vec!["--config", cfg, "token", "--json"],
        vec!["--config", cfg, "call", "Seattle"],
        vec!["--config", cfg, "call", "Seattle", "--json"],
        vec!["decode", &token],
        vec!["decode", "--explain", &token],
        vec!["decode", "--json", &token],
    ] {
        let o = run_cli(dir.path(), &args, &cli_env()).await;
        assert!(o.status.code().is_some(), "no crash: {args:?}");
        if args.contains(&"--json") {
            assert_no_c0(&o);
        } else {
            assert_inert(&o);
        }
        let out = all_output(&o);
        assert!(
            out.contains("\\u{1b}") || out.contains("\\u001b"),
            "{args:?}: the escapes are shown, made visible:\n{out}"
        );
    }

    // The library: body_text and the refusal explanation are sanitised.
    let (r, p) = call_with(
        http_response(
            "403 Forbidden",
            &[("Content-Type", "text/plain")],
            format!("IDW10203: The \"role\" claim does not contain role Weather.Read{HOSTILE}")
                .as_bytes(),
        ),
        &token,
    )
    .await;
    let resp = r.unwrap();
    let shown = resp.body_text();
    assert!(
        !shown.contains('\x1b') && shown.contains("\\u{1b}"),
        "{shown:?}"
    );
    let claims = tokenscope::jwt::decode(&token).unwrap().claims;
    let advice = refusal::explain(&resp, Some(&claims), &p.expected_roles, &p.scope).unwrap();
    for text in [&advice.summary, &advice.cause, &advice.fix] {
        assert!(active_char(text.as_bytes()).is_none(), "{text:?}");
    }
    assert_eq!(
        tokenscope::text::sanitize(HOSTILE, false),
        "\\u{1b}[2J\\u{1b}]0;pwned\\u{7}\\u{1b}]52;c;ZXZpbA==\\u{7}\\u{9b}31m\\u{202e}evil\\u{d}"
    );
}

/// A role name carrying escape sequences reaches the terminal raw in `call`'s 403 message
/// ("token roles: …", src/cli/token_cmd.rs) and in the refusal advice ("the token carries …",
/// src/diagnose/refusal.rs): both join `claims.roles` without `text::sanitize`.
#[tokio::test]
async fn escape_sequences_in_role_names_are_shown_inert() {
    let (dir, cfg, token) = hostile_servers(json!([format!("Weather.Write{HOSTILE}")])).await;
    let o = cli(dir.path(), &cfg, &["call", "Seattle"]).await;
    assert_eq!(o.status.code(), Some(4), "{}", all_output(&o));
    assert_inert(&o);
    let (r, p) = call_with(
        http_response(
            "403 Forbidden",
            &[],
            b"IDW10203: The \"role\" claim does not contain role Weather.Read",
        ),
        &token,
    )
    .await;
    let claims = tokenscope::jwt::decode(&token).unwrap().claims;
    let advice = refusal::explain(&r.unwrap(), Some(&claims), &p.expected_roles, &p.scope).unwrap();
    for text in [&advice.summary, &advice.cause, &advice.fix] {
        assert!(active_char(text.as_bytes()).is_none(), "{text:?}");
    }
}

/// `--json` output escapes C0 controls (JSON requires it) but prints C1 controls (U+009B is
/// CSI on terminals that honour 8-bit controls) and bidi overrides raw, so
/// `tokenscope token --json` on a hostile token can still act on a terminal.
#[tokio::test]
async fn json_output_escapes_c1_controls_and_bidi_overrides() {
    let token = jwt(json!({ "x-note": HOSTILE }));
    let dir = tempfile::tempdir().unwrap();
    let idp = raw_server(token_body(&token)).await;
    let api = raw_server(http_response("200 OK", &[], HOSTILE.as_bytes())).await;
    let cfg = write_config(dir.path(), idp, api, "5s");
    let cfg = cfg.to_str().unwrap();
    for args in [
        vec!["--config", cfg, "token", "--json"],
        vec!["--config", cfg, "call", "Seattle", "--json"],
        vec!["decode", "--json", &token],
    ] {
        let o = run_cli(dir.path(), &args, &cli_env()).await;
        assert_inert(&o);
    }
}

#[tokio::test]
async fn api_10_mib_body_is_capped_at_1_mib() {
    let mut body = b"{\"temp\": 1, \"pad\": \"".to_vec();
    body.resize(TEN_MIB, b'z');
    let (r, _) = call_with(
        http_response("200 OK", &[("Content-Type", "application/json")], &body),
        &jwt(json!({})),
    )
    .await;
    let resp = r.unwrap();
    assert!(resp.truncated);
    assert_eq!(resp.body_len, MAX_BODY);
    assert!(
        matches!(resp.body, Body::Text(_)),
        "cut JSON is shown as text"
    );

    let dir = tempfile::tempdir().unwrap();
    let api = raw_server(http_response("200 OK", &[], &body)).await;
    let cfg = token_ok_config(dir.path(), api, "10s").await;
    let o = cli(dir.path(), &cfg, &["call", "Seattle", "--json"]).await;
    assert_eq!(o.status.code(), Some(0), "{}", all_output(&o));
    let j = support::stdout_json(&o);
    assert_eq!(j["truncated"], true);
    assert!(
        o.stdout.len() < 2 * MAX_BODY,
        "output is bounded by the cap"
    );
    let o = cli(dir.path(), &cfg, &["call", "Seattle"]).await;
    assert!(
        all_output(&o).contains("MiB")
            || all_output(&o).contains("truncated")
            || all_output(&o).contains("cut"),
        "a visible note about the cap:\n{}",
        all_output(&o).chars().take(2000).collect::<String>()
    );
    assert!(o.stdout.len() < 2 * MAX_BODY);
}

// ------------------------------------------------------------------ TUI with a stalled API

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tui_keeps_accepting_input_while_the_api_stalls() {
    let idp = raw_server(token_body(&jwt(json!({})))).await;
    let (stall, task) = stalling_server().await;
    let dir = tempfile::tempdir().unwrap();
    let p = profile(dir.path(), idp, stall, "60s");
    let mut ui = Dashboard::start(&p);

    // The token arrives (the identity provider is fine)…
    ui.wait_for(&["Weather.Read"]).await;
    ui.typed("Oslo");
    ui.keys([KeyCode::Enter]);
    // …the API never answers, and typing still lands at once.
    ui.wait_for(&["calling the API for Oslo"]).await;
    ui.typed("Bergen");
    ui.wait_for(&["Bergen", "calling the API for Oslo"]).await;
    // Help opens and closes while the call hangs.
    ui.keys([KeyCode::F(1)]);
    ui.wait_for(&["this help"]).await;
    ui.keys([KeyCode::Esc]);
    // The app quits while the API still stalls.
    ui.quit().await;
    task.abort();
}
