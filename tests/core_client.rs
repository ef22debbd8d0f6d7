//! The core client (token request, API call, CLI) against small servers started on 127.0.0.1
//! inside the test: each route plays one identity-provider or API behaviour.

#[path = "fixtures/support.rs"]
mod support;
use support::{all_output, client, stdout_json};

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::{Form, Path as UrlPath, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::json;
use tokenscope::api::{self, ApiError, Body, Outcome};
use tokenscope::auth::{self, TokenError};
use tokenscope::config::{Env, Profile};
use tokenscope::jwt::b64url;
use tokenscope::problem::Problem;
use tokenscope::secret::AccessToken;

const SECRET: &str = "canary-secret-0xC0FFEE";
const CLIENT_ID: &str = "11111111-2222-3333-4444-555555555555";
const WAIT: Duration = Duration::from_secs(20);

fn jwt(roles: &[&str]) -> String {
    let header = json!({"typ": "JWT", "alg": "RS256", "kid": "test-kid"});
    let now = chrono::Utc::now().timestamp();
    let payload = json!({
        "aud": "api-guid", "iss": "https://login.microsoftonline.com/tid/v2.0",
        "iat": now, "nbf": now, "exp": now + 3600,
        "azp": CLIENT_ID, "azpacr": "1", "idtyp": "app", "roles": roles, "tid": "tid",
        "ver": "2.0", "x-custom": "kept",
    });
    format!(
        "{}.{}.{}",
        b64url(header.to_string().as_bytes()),
        b64url(payload.to_string().as_bytes()),
        b64url(b"not-a-real-signature")
    )
}

type FormFields = Vec<(String, String)>;

#[derive(Clone, Default)]
struct Seen {
    forms: Arc<Mutex<Vec<FormFields>>>,
    echo_auth: Arc<Mutex<Vec<Option<String>>>>,
}

async fn token_route(
    UrlPath(mode): UrlPath<String>,
    State(seen): State<Seen>,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    seen.forms.lock().unwrap().push(form.clone());
    let field = |k: &str| form.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    if field("client_secret").as_deref() != Some(SECRET) {
        return (
            StatusCode::UNAUTHORIZED,
            axum::Json(json!({
                "error": "invalid_client",
                "error_description": "AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID. Trace ID: 0b5e Correlation ID: c0rr Timestamp: 2026-11-27 18:00:00Z",
                "error_codes": [7000215],
                "timestamp": "2026-11-27 18:00:00Z",
                "trace_id": "0b5e", "correlation_id": "c0rr",
                "error_uri": "https://login.microsoftonline.com/error?code=7000215"
            })),
        )
            .into_response();
    }
    match mode.as_str() {
        "ok" => axum::Json(json!({
            "token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599,
            "access_token": jwt(&["Weather.Read"])
        }))
        .into_response(),
        "strexp" => axum::Json(json!({
            "token_type": "Bearer", "expires_in": "3599", "refresh_in": "1800",
            "access_token": jwt(&[])
        }))
        .into_response(),
        "opaque" => axum::Json(json!({
            "token_type": "Bearer", "expires_in": 600, "access_token": "opaque-reference-value"
        }))
        .into_response(),
        "html" => (
            StatusCode::BAD_GATEWAY,
            [(header::CONTENT_TYPE, "text/html")],
            "<html><head><title>502 Bad Gateway</title></head><body><h1>Bad Gateway</h1><hr>nginx</body></html>",
        )
            .into_response(),
        "empty" => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
        "slow" => {
            tokio::time::sleep(Duration::from_secs(30)).await;
            StatusCode::OK.into_response()
        }
        "redirect" => (StatusCode::TEMPORARY_REDIRECT, [(header::LOCATION, "https://elsewhere.example/token")]).into_response(),
        _ => StatusCode::NOT_FOUND.into_response(),
    }
}

fn bearer(headers: &HeaderMap) -> Option<String> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

async fn weather_route(UrlPath(city): UrlPath<String>, headers: HeaderMap) -> Response {
    let Some(auth) = bearer(&headers) else {
        return (
            StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, "Bearer")],
            "",
        )
            .into_response();
    };
    let roles: Vec<String> = tokenscope::jwt::decode(&auth)
        .map(|j| j.claims.roles)
        .unwrap_or_default();
    match city.as_str() {
        "Slow" => {
            tokio::time::sleep(Duration::from_secs(30)).await;
            StatusCode::OK.into_response()
        }
        "Teapot" => (StatusCode::IM_A_TEAPOT, "short and stout").into_response(),
        "Big" => (StatusCode::OK, "x".repeat(2 * 1024 * 1024)).into_response(),
        "AzureAuth" => (
            StatusCode::FORBIDDEN,
            axum::Json(json!({"detail": {"error": "Forbidden", "message": "Missing required role Weather.Admin"}})),
        )
            .into_response(),
        "Quirk" => (
            StatusCode::UNAUTHORIZED,
            axum::Json(json!({"detail": "Unable to find appropriate key"})),
        )
            .into_response(),
        "Idw10201" => (
            StatusCode::FORBIDDEN,
            "IDW10201: Neither scope or roles claim was found in the bearer token.",
        )
            .into_response(),
        "Expired" => (
            StatusCode::UNAUTHORIZED,
            [(
                header::WWW_AUTHENTICATE,
                "Bearer error=\"invalid_token\", error_description=\"The issuer 'https://sts.windows.net/tid/' is invalid\"",
            )],
            "",
        )
            .into_response(),
        "Escape" => (StatusCode::OK, [(header::CONTENT_TYPE, "text/plain")], "sunny\x1b[2J\x1b]52;c;ZXZpbA==\x07").into_response(),
        _ if !roles.iter().any(|r| r == "Weather.Read") => (
            StatusCode::FORBIDDEN,
            [(
                header::WWW_AUTHENTICATE,
                "Bearer error=\"insufficient_scope\", error_description=\"The token lacks role Weather.Read\"",
            )],
            "IDW10203: The \"role\" claim does not contain role Weather.Read or was not found",
        )
            .into_response(),
        _ => axum::Json(json!({
            "temp": 8.5, "feels_like": 6.1, "temp_min": 7.0, "temp_max": 10.2,
            "pressure": 1014, "humidity": 81, "city": city
        }))
        .into_response(),
    }
}

async fn start(app: Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    addr
}

/// The fake IdP + API, and a second origin that echoes the Authorization header it got.
async fn servers() -> (SocketAddr, SocketAddr, Seen) {
    let seen = Seen::default();
    let echo = Router::new()
        .route(
            "/echo",
            get(|State(seen): State<Seen>, headers: HeaderMap| async move {
                seen.echo_auth.lock().unwrap().push(bearer(&headers));
                axum::Json(json!({"temp": 1.0}))
            }),
        )
        .with_state(seen.clone());
    let other = start(echo).await;
    let main = Router::new()
        .route("/{mode}/oauth2/v2.0/token", post(token_route))
        .route("/api/weather/{city}", get(weather_route))
        .route(
            "/moved/{city}",
            get(move |UrlPath(city): UrlPath<String>| async move {
                let to = if city == "Same" {
                    "/api/weather/Seattle".to_string()
                } else {
                    format!("http://{other}/echo")
                };
                (StatusCode::FOUND, [(header::LOCATION, to)])
            }),
        )
        .with_state(seen.clone());
    (start(main).await, other, seen)
}

fn config_text(addr: SocketAddr, mode: &str, extra: &str) -> String {
    format!(
        r#"
default_profile = "console"
[profiles.console]
authority = "http://{addr}/{mode}"
client_id = "{CLIENT_ID}"
client_secret_env = "TS_TEST_SECRET"
scope = "api://api-guid/.default"
api_url = "http://{addr}/api/weather/{{city}}?units=metric"
expected_roles = ["Weather.Read", "Weather.Write"]
connect_timeout = "2s"
timeout = "1s"
{extra}
"#
    )
}

fn write_config(dir: &Path, text: &str) -> PathBuf {
    let path = dir.join("config.toml");
    std::fs::write(&path, text).unwrap();
    path
}

fn profile(addr: SocketAddr, mode: &str, secret: &str) -> (tempfile::TempDir, Profile) {
    let dir = tempfile::tempdir().unwrap();
    let path = write_config(dir.path(), &config_text(addr, mode, ""));
    let p = support::load_profile(&path, None, &Env::from_pairs([("TS_TEST_SECRET", secret)]));
    (dir, p)
}

async fn get_token(
    addr: SocketAddr,
    mode: &str,
    secret: &str,
) -> Result<auth::TokenResponse, TokenError> {
    let (_d, p) = profile(addr, mode, secret);
    tokio::time::timeout(WAIT, auth::request_token(&client(&p), &p))
        .await
        .expect("no hang")
}

#[tokio::test]
async fn token_success_sends_the_right_form() {
    let (addr, _, seen) = servers().await;
    let tok = get_token(addr, "ok", SECRET).await.unwrap();
    assert_eq!(tok.expires_in, 3599);
    assert_eq!(tok.ext_expires_in, Some(3599));
    let form = seen.forms.lock().unwrap()[0].clone();
    let get = |k: &str| form.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    assert_eq!(get("grant_type"), Some("client_credentials"));
    assert_eq!(get("client_id"), Some(CLIENT_ID));
    assert_eq!(get("scope"), Some("api://api-guid/.default"));
    assert_eq!(get("client_secret"), Some(SECRET));
    let jwt = tokenscope::jwt::decode(tok.access_token.expose()).unwrap();
    assert_eq!(jwt.claims.roles, ["Weather.Read"]);
    // Unknown claims are kept, in order.
    assert_eq!(
        jwt.payload.keys().next_back().map(String::as_str),
        Some("x-custom")
    );
}

#[tokio::test]
async fn token_string_expires_in_and_refresh_in() {
    let (addr, _, _) = servers().await;
    let tok = get_token(addr, "strexp", SECRET).await.unwrap();
    assert_eq!((tok.expires_in, tok.refresh_in), (3599, Some(1800)));
    assert!(tok.refresh_on().unwrap() < tok.expires_on());
}

#[tokio::test]
async fn token_error_shapes() {
    let (addr, _, _) = servers().await;
    let e = get_token(addr, "ok", "wrong").await.unwrap_err();
    assert_eq!(e.aadsts_code(), Some(7000215));
    let shown = e.to_string();
    assert!(shown.starts_with("token request refused (HTTP 401, invalid_client): AADSTS7000215: Invalid client secret provided.\n"), "{shown}");
    assert!(
        !shown.contains("Ensure the secret"),
        "only the first sentence: {shown}"
    );
    assert!(
        !shown.contains("wrong"),
        "the secret sent is never echoed: {shown}"
    );

    let e = get_token(addr, "html", SECRET).await.unwrap_err();
    let TokenError::UnexpectedResponse {
        status, excerpt, ..
    } = &e
    else {
        panic!("{e:?}")
    };
    assert_eq!(
        (*status, excerpt.as_str()),
        (502, "502 Bad Gateway Bad Gateway nginx")
    );

    let e = get_token(addr, "empty", SECRET).await.unwrap_err();
    assert!(e.to_string().contains("HTTP 500 with an empty body"), "{e}");
    assert!(e.is_transient());

    let e = get_token(addr, "redirect", SECRET).await.unwrap_err();
    assert!(
        matches!(e, TokenError::Redirected { status: 307, .. }),
        "{e:?}"
    );

    let e = get_token(addr, "nope", SECRET).await.unwrap_err();
    assert!(
        matches!(e, TokenError::UnexpectedResponse { status: 404, .. }),
        "{e:?}"
    );
}

#[tokio::test]
async fn token_timeout_and_refused_connection() {
    let (addr, _, _) = servers().await;
    let e = get_token(addr, "slow", SECRET).await.unwrap_err();
    let TokenError::Network { kind, .. } = &e else {
        panic!("{e:?}")
    };
    assert_eq!(*kind, tokenscope::http::NetworkKind::Timeout);
    assert!(e.to_string().contains("timed out"), "{e}");

    // A port nobody listens on.
    let dead = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let e = get_token(dead, "ok", SECRET).await.unwrap_err();
    let TokenError::Network { kind, .. } = &e else {
        panic!("{e:?}")
    };
    assert_eq!(*kind, tokenscope::http::NetworkKind::Connect);
}

#[tokio::test]
async fn plain_http_to_remote_hosts_is_refused_before_sending() {
    let (addr, _, _) = servers().await;
    let (_d, mut p) = profile(addr, "ok", SECRET);
    p.token_endpoint = "http://login.example.com/t/oauth2/v2.0/token".into();
    let e = auth::request_token(&client(&p), &p).await.unwrap_err();
    assert!(matches!(e, TokenError::Insecure(_)), "{e:?}");
    // The hint says what to do; the error's Display is the summary alone.
    assert!(!e.to_string().contains("hint:"), "{e}");
    assert!(e.hint().is_some_and(|h| h.contains("https://")), "{e}");

    let token = AccessToken::new("t");
    let e = api::call_weather(
        &client(&p),
        "http://api.example.com/w/{city}",
        "Seattle",
        &token,
    )
    .await
    .unwrap_err();
    assert!(matches!(e, ApiError::Insecure(_)), "{e:?}");
}

#[tokio::test]
async fn api_outcomes() {
    let (addr, _, _) = servers().await;
    let (_d, p) = profile(addr, "ok", SECRET);
    let c = client(&p);
    let call = |city: &'static str, roles: &'static [&'static str]| {
        let c = c.clone();
        let url = p.api_url.clone();
        async move {
            let t = AccessToken::new(jwt(roles));
            tokio::time::timeout(WAIT, api::call_weather(&c, &url, city, &t))
                .await
                .expect("no hang")
        }
    };
    let ok = call("Seattle", &["Weather.Read"]).await.unwrap();
    assert_eq!(ok.outcome(), Outcome::Success);
    let Body::Weather(w) = ok.body else {
        panic!("{:?}", ok.body)
    };
    assert_eq!((w.temp, w.humidity), (Some(8.5), Some(81.0)));

    let no = call("Seattle", &[]).await.unwrap();
    assert_eq!((no.status, no.outcome()), (403, Outcome::Forbidden));
    assert_eq!(
        no.bearer_challenge().and_then(|c| c.error()),
        Some("insufficient_scope")
    );
    assert!(no.body_text().starts_with("IDW10203: The \"role\" claim"));

    let teapot = call("Teapot", &["Weather.Read"]).await.unwrap();
    assert_eq!(teapot.outcome(), Outcome::HttpError);
    assert_eq!(teapot.body, Body::Text("short and stout".into()));

    let big = call("Big", &["Weather.Read"]).await.unwrap();
    assert!(big.truncated);
    assert_eq!(big.body_len, tokenscope::http::MAX_BODY);

    let esc = call("Escape", &["Weather.Read"]).await.unwrap();
    assert_eq!(
        esc.body_text(),
        "sunny\\u{1b}[2J\\u{1b}]52;c;ZXZpbA==\\u{7}"
    );

    let slow = call("Slow", &["Weather.Read"]).await.unwrap_err();
    assert!(matches!(
        slow,
        ApiError::Network {
            kind: tokenscope::http::NetworkKind::Timeout,
            ..
        }
    ));
}

#[tokio::test]
async fn cross_origin_redirect_drops_the_token() {
    let (addr, _other, seen) = servers().await;
    let (_d, p) = profile(addr, "ok", SECRET);
    let token = AccessToken::new(jwt(&["Weather.Read"]));
    let template = format!("http://{addr}/moved/{{city}}");
    let resp = api::call_weather(&client(&p), &template, "Away", &token)
        .await
        .unwrap();
    assert_eq!(resp.status, 200);
    assert!(resp.authorization_dropped_at.is_some());
    assert_eq!(seen.echo_auth.lock().unwrap().as_slice(), &[None]);

    // Same origin: the token is carried and the call succeeds.
    let resp = api::call_weather(&client(&p), &template, "Same", &token)
        .await
        .unwrap();
    assert_eq!(resp.outcome(), Outcome::Success);
    assert!(resp.authorization_dropped_at.is_none());
}

// ---- The binary: exit codes and --json shapes. ----

/// The binary with the config at `config` in $TOKENSCOPE_CONFIG (its cache beside it), the
/// secret in $TS_TEST_SECRET, and `stdin` on its standard input.
async fn run_cli(
    args: &[&str],
    config: Option<&Path>,
    secret: Option<&str>,
    stdin: Option<&str>,
) -> Output {
    let home = match config {
        Some(c) => c.parent().unwrap().to_path_buf(),
        None => std::env::temp_dir().join("tokenscope-test-no-cache"),
    };
    let mut envs = Vec::new();
    if let Some(c) = config {
        envs.push(("TOKENSCOPE_CONFIG", c.to_str().unwrap()));
    }
    if let Some(s) = secret {
        envs.push(("TS_TEST_SECRET", s));
    }
    support::run_cli_with_input(&home, args, &envs, stdin).await
}

#[tokio::test]
async fn cli_token_and_call() {
    let (addr, _, _) = servers().await;
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(dir.path(), &config_text(addr, "ok", ""));

    let o = run_cli(&["token", "--json"], Some(&cfg), Some(SECRET), None).await;
    assert_eq!(o.status.code(), Some(0), "{}", all_output(&o));
    let j = stdout_json(&o);
    assert_eq!(j["format"], "jwt");
    assert_eq!(j["claims"]["roles"], json!(["Weather.Read"]));
    assert_eq!(
        j["expected_roles"],
        json!({"Weather.Read": true, "Weather.Write": false})
    );
    let left = j["expires_in"].as_i64().unwrap();
    assert!((3590..=3599).contains(&left), "seconds left: {left}");
    assert_eq!(j["source"], "network");
    assert!(
        j.get("access_token").is_none(),
        "no raw token without --raw"
    );

    let o = run_cli(&["token"], Some(&cfg), Some(SECRET), None).await;
    let text = all_output(&o);
    assert_eq!(o.status.code(), Some(0), "{text}");
    assert!(
        text.contains("Weather.Read ✓, Weather.Write ✗ missing"),
        "{text}"
    );
    assert!(
        !text.contains(SECRET) && !text.contains("eyJ"),
        "no secret or token: {text}"
    );

    let o = run_cli(&["token", "--raw"], Some(&cfg), Some(SECRET), None).await;
    let raw = String::from_utf8_lossy(&o.stdout);
    assert!(tokenscope::jwt::decode(raw.trim()).is_ok(), "{raw}");

    let o = run_cli(
        &["call", "Seattle", "--json"],
        Some(&cfg),
        Some(SECRET),
        None,
    )
    .await;
    assert_eq!(o.status.code(), Some(0), "{}", all_output(&o));
    let j = stdout_json(&o);
    assert_eq!(j["status"], 200);
    assert_eq!(j["outcome"], "success");
    assert_eq!(j["body"]["kind"], "weather");
    assert_eq!(j["body"]["value"]["pressure"], 1014.0);
    assert_eq!(j["city"], "Seattle");
    assert!(j["latency_ms"].as_f64().is_some());

    let o = run_cli(&["call", "Seattle"], Some(&cfg), Some(SECRET), None).await;
    let text = all_output(&o);
    assert!(text.contains("Seattle: 8.5°C, feels like 6.1°C, min 7.0°C, max 10.2°C, pressure 1014 hPa, humidity 81%"), "{text}");

    let o = run_cli(&["call", "Teapot"], Some(&cfg), Some(SECRET), None).await;
    assert_eq!(o.status.code(), Some(5), "{}", all_output(&o));
    let o = run_cli(&["call", "Slow", "--json"], Some(&cfg), Some(SECRET), None).await;
    assert_eq!(o.status.code(), Some(5), "{}", all_output(&o));
    assert_eq!(stdout_json(&o)["error"]["kind"], "network");
    let o = run_cli(&["call", "  "], Some(&cfg), Some(SECRET), None).await;
    assert_eq!(o.status.code(), Some(2), "{}", all_output(&o));
}

#[tokio::test]
async fn cli_refusals_and_token_failures() {
    let (addr, _, _) = servers().await;
    let dir = tempfile::tempdir().unwrap();
    // A profile whose token has no roles → the API answers 403.
    let cfg = write_config(dir.path(), &config_text(addr, "strexp", ""));
    let o = run_cli(
        &["call", "Seattle", "--json"],
        Some(&cfg),
        Some(SECRET),
        None,
    )
    .await;
    assert_eq!(o.status.code(), Some(4), "{}", all_output(&o));
    let j = stdout_json(&o);
    assert_eq!(j["outcome"], "forbidden");
    assert_eq!(
        j["www_authenticate"][0]["params"]["error"],
        "insufficient_scope"
    );
    assert_eq!(j["body"]["kind"], "text");
    let o = run_cli(&["call", "Seattle"], Some(&cfg), Some(SECRET), None).await;
    let text = all_output(&o);
    assert!(
        text.contains("403")
            && text.contains("IDW10203")
            && text.contains("the token carries no roles; the API requires Weather.Read")
            && text.contains("fix: Grant the app role Weather.Read"),
        "{text}"
    );

    // Wrong secret → exit 3 with the AADSTS code.
    let o = run_cli(&["token", "--json"], Some(&cfg), Some("wrong-secret"), None).await;
    assert_eq!(o.status.code(), Some(3), "{}", all_output(&o));
    let j = stdout_json(&o);
    assert_eq!(j["error"]["stage"], "token");
    assert_eq!(j["error"]["aadsts"], 7000215);
    assert_eq!(j["error"]["status"], 401);
    assert_eq!(j["error"]["correlation_id"], "c0rr");
    let o = run_cli(&["token"], Some(&cfg), Some("wrong-secret"), None).await;
    let text = all_output(&o);
    assert!(
        text.contains("AADSTS7000215: Invalid client secret provided."),
        "{text}"
    );
    assert!(!text.contains("wrong-secret"), "{text}");

    // Opaque token: reported, still usable.
    let cfg = write_config(dir.path(), &config_text(addr, "opaque", ""));
    let o = run_cli(&["token", "--json"], Some(&cfg), Some(SECRET), None).await;
    assert_eq!(o.status.code(), Some(0), "{}", all_output(&o));
    assert_eq!(stdout_json(&o)["format"], "opaque");
}

#[tokio::test]
async fn cli_config_errors_exit_2() {
    let (addr, _, _) = servers().await;
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(dir.path(), &config_text(addr, "ok", "scopee = \"x\""));
    let o = run_cli(&["token"], Some(&cfg), Some(SECRET), None).await;
    assert_eq!(o.status.code(), Some(2));
    let text = all_output(&o);
    assert!(
        text.contains("config.toml:12:1") && text.contains("did you mean `scope`?"),
        "{text}"
    );

    let cfg = write_config(dir.path(), &config_text(addr, "ok", ""));
    let o = run_cli(&["token", "--json"], Some(&cfg), None, None).await;
    assert_eq!(o.status.code(), Some(2));
    let j = stdout_json(&o);
    assert_eq!(j["error"]["stage"], "config");
    // The variables looked at are the lines under the one-line message.
    assert!(!j["error"]["message"].as_str().unwrap().contains('\n'));
    assert!(
        j["error"]["details"]
            .as_array()
            .unwrap()
            .iter()
            .any(|l| l.as_str().unwrap().contains("TS_TEST_SECRET")),
        "{j:#}"
    );

    let o = run_cli(
        &["--config", "/nonexistent/tokenscope.toml", "token"],
        None,
        None,
        None,
    )
    .await;
    assert_eq!(o.status.code(), Some(2));
    assert!(all_output(&o).contains("/nonexistent/tokenscope.toml"));

    let o = run_cli(&["token", "--bogus"], None, None, None).await;
    assert_eq!(o.status.code(), Some(2));

    let o = run_cli(&["config", "path"], Some(&cfg), None, None).await;
    assert_eq!(o.status.code(), Some(0));
    let text = all_output(&o);
    assert!(
        text.contains("$TOKENSCOPE_CONFIG") && text.contains("(found)"),
        "{text}"
    );
}

#[tokio::test]
async fn cli_decode() {
    let t = jwt(&["Weather.Read"]);
    let o = run_cli(&["decode", &t, "--json"], None, None, None).await;
    assert_eq!(o.status.code(), Some(0), "{}", all_output(&o));
    let j = stdout_json(&o);
    assert_eq!(j["header"]["kid"], "test-kid");
    assert_eq!(j["claims"]["roles"], json!(["Weather.Read"]));

    let o = run_cli(&["decode", "-"], None, None, Some(&format!("{t}\n"))).await;
    assert_eq!(o.status.code(), Some(0), "{}", all_output(&o));
    let text = all_output(&o);
    assert!(
        text.contains("Weather.Read") && text.contains("signature is not checked"),
        "{text}"
    );

    let o = run_cli(&["decode", "not.a.jwt"], None, None, None).await;
    assert_eq!(o.status.code(), Some(2));
    assert!(
        all_output(&o).contains("a truncated or damaged JWT: the header"),
        "{}",
        all_output(&o)
    );

    let big = "a".repeat(70 * 1024);
    let o = run_cli(&["decode"], None, None, Some(&big)).await;
    assert_eq!(o.status.code(), Some(2));
    assert!(
        all_output(&o).contains("over the 65536 byte limit"),
        "{}",
        all_output(&o)
    );
}

#[tokio::test]
async fn api_refusal_bodies_are_explained() {
    use tokenscope::diagnose::refusal;
    let (addr, _, _) = servers().await;
    let (_d, p) = profile(addr, "ok", SECRET);
    let c = client(&p);
    let token = AccessToken::new(jwt(&["Weather.Read"]));
    let claims = tokenscope::jwt::decode(token.expose()).unwrap().claims;
    let explain = |city: &'static str| {
        let c = c.clone();
        let p = p.clone();
        let token = token.clone();
        let claims = claims.clone();
        async move {
            let resp = api::call_weather(&c, &p.api_url, city, &token)
                .await
                .unwrap();
            refusal::explain(
                &resp,
                Some(&claims),
                &p.expected_roles,
                "api://api-guid/.default",
            )
            .unwrap()
        }
    };
    // fastapi-azure-auth's {"detail": {"error", "message"}}.
    assert_eq!(
        explain("AzureAuth").await.summary,
        "the token carries Weather.Read; the API requires Weather.Admin"
    );
    // The lecture library's catch-all 401.
    assert!(
        explain("Quirk")
            .await
            .cause
            .contains("fastapi-microsoft-identity")
    );
    // Microsoft.Identity.Web IDW10201: no role named, expected roles checked.
    let a = explain("Idw10201").await;
    assert!(
        a.summary.contains("lacks expected role(s) Weather.Write"),
        "{a:?}"
    );
    assert!(a.cause.contains("IDW10201"), "{a:?}");
    // RFC 6750 invalid_token with an issuer complaint.
    let a = explain("Expired").await;
    assert!(a.summary.contains("The issuer"), "{a:?}");
}
