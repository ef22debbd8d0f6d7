//! Rendering one full dashboard frame at 200×60 (ratatui `TestBackend`) in realistic states:
//! a verified token with all its claims, a weather card or an explained 403, and an activity
//! log filled to its cap. Target (issue 5): under 1 ms per frame.
//!
//! Run: `cargo bench --bench render`.

use std::hint::black_box;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, FixedOffset, TimeZone, Utc};
use criterion::{Criterion, criterion_group, criterion_main};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use serde_json::json;
use tokenscope::api::{ApiResponse, classify_body, parse_www_authenticate};
use tokenscope::auth::{CachedToken, Phase, TokenEvent, TokenSnapshot, TokenSource, TokenUpdate};
use tokenscope::config::{Credential, Origin, Profile, SecretSource};
use tokenscope::diagnose::Severity;
use tokenscope::jwt::{Check, b64url};
use tokenscope::secret::{AccessToken, ClientSecret};
use tokenscope::tui::{ACTIVITY_CAP, App, AppOptions, Msg, ProfileId, Theme, view};

const TENANT: &str = "ec184e30-7605-46d6-97ce-0b8dfa8e6682";
const CLIENT: &str = "a5947bad-c48d-423f-8e81-4681cdd00957";
const API: &str = "6c6f687a-96c8-4280-bba3-d11cc0b19b67";

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 6, 1, 12, 0, 0).unwrap()
}

fn profile() -> Profile {
    let authority = format!("http://127.0.0.1:8400/{TENANT}");
    Profile {
        name: "console-rw".into(),
        token_endpoint: format!("{authority}/oauth2/v2.0/token"),
        authority,
        authority_origin: Origin::File,
        tenant: Some(TENANT.into()),
        client_id: CLIENT.into(),
        client_id_origin: Origin::File,
        credential: Credential::Secret {
            secret: ClientSecret::new("bench-secret"),
            source: SecretSource::EnvVar("WEATHER_CLIENT_SECRET".into()),
        },
        scope: format!("api://{API}/.default"),
        api_url: "http://127.0.0.1:8400/api/weather/{city}".into(),
        expected_roles: vec!["Weather.Read".into(), "Weather.Write".into()],
        ca_file: None,
        connect_timeout: Duration::from_secs(10),
        timeout: Duration::from_secs(30),
        cache: false,
        secret_expires: None,
        graph: Default::default(),
        config_path: Some(PathBuf::from("/home/ada/.config/tokenscope/config.toml")),
    }
}

/// A v2 app-only token shaped like Entra's (every claim an app-only token carries).
fn jwt(roles: &[&str]) -> String {
    let iat = (now() - chrono::Duration::minutes(5)).timestamp();
    let header = json!({"typ": "JWT", "alg": "RS256", "kid": "sbx-key-1"});
    let payload = json!({
        "aud": API,
        "iss": format!("https://login.microsoftonline.com/{TENANT}/v2.0"),
        "iat": iat, "nbf": iat, "exp": iat + 3600,
        "aio": "k2BgYPj1bWn0sdf8GdAAA=",
        "azp": CLIENT,
        "azpacr": "1",
        "idtyp": "app",
        "oid": "6cd8d0a5-66d8-43d4-87e7-81db44d2fa71",
        "rh": "1.AME4Y7AV21kaXzguN-o5mgq17lKWNxD9CjoFGgc3QCVd6aG9syJaAQruj0RzAsZtnAA.",
        "roles": roles,
        "sub": "6cd8d0a5-66d8-43d4-87e7-81db44d2fa71",
        "tid": TENANT,
        "uti": "0eJCgKg0znFCBRMNvgtVfQ",
        "ver": "2.0",
    });
    format!(
        "{}.{}.{}",
        b64url(header.to_string().as_bytes()),
        b64url(payload.to_string().as_bytes()),
        b64url(&[7u8; 256])
    )
}

fn snapshot(generation: u64) -> TokenSnapshot {
    let acquired = now() - chrono::Duration::minutes(5);
    let token = Arc::new(CachedToken {
        access_token: AccessToken::new(jwt(&["Weather.Read", "Weather.Write"])),
        token_type: "Bearer".into(),
        acquired_at: acquired,
        expires_on: acquired + chrono::Duration::hours(1),
        ext_expires_on: None,
        refresh_on: None,
        source: TokenSource::Network,
        generation,
        server_date: None,
    });
    TokenSnapshot {
        phase: Phase::Fresh,
        next_refresh: Some(token.expires_on - chrono::Duration::minutes(5)),
        token: Some(token),
        last_error: None,
        warnings: Vec::new(),
        network_requests: generation,
        generation,
    }
}

fn checks() -> Vec<Check> {
    let c = |name, detail: String| Check {
        name,
        severity: Severity::Ok,
        detail,
    };
    vec![
        c(
            "discovery",
            format!("v2 document: issuer https://login.microsoftonline.com/{TENANT}/v2.0"),
        ),
        c("signature", "RS256, key sbx-key-1".into()),
        c(
            "issuer",
            format!("https://login.microsoftonline.com/{TENANT}/v2.0"),
        ),
        c("audience", format!("{API} matches the scope api://{API}")),
        c("tenant", TENANT.into()),
        c("lifetime", "expires in 55m 0s".into()),
    ]
}

fn response(status: u16, body: &str, www: &[&str]) -> ApiResponse {
    let www: Vec<String> = www.iter().map(|s| s.to_string()).collect();
    ApiResponse {
        url: "http://127.0.0.1:8400/api/weather/Seattle".parse().unwrap(),
        status,
        latency: Duration::from_micros(700),
        content_type: Some("application/json".into()),
        body: classify_body(body.as_bytes(), Some("application/json")),
        body_len: body.len(),
        truncated: false,
        challenges: www.iter().flat_map(|h| parse_www_authenticate(h)).collect(),
        www_authenticate: www,
        authorization_dropped_at: None,
    }
}

fn key(code: KeyCode) -> Msg {
    Msg::Key(KeyEvent::new(code, KeyModifiers::NONE))
}

/// A dashboard that has been running a while: many refreshes and calls in the log (the log
/// is full), a verified token, and the last call's answer.
fn app(last: ApiResponse) -> App {
    let mut app = App::new(
        &profile(),
        AppOptions {
            theme: Theme::new(true),
            utc_offset: FixedOffset::east_opt(3600).unwrap(),
            now: now(),
            demo: None,
            sandbox_admin: false,
        },
    );
    let mut generation = 0;
    while app.activity().count() < ACTIVITY_CAP {
        generation += 1;
        let state = snapshot(generation);
        let token = state.token.clone().expect("the snapshot holds a token");
        app.update(Msg::Token {
            profile: ProfileId(0),
            update: Box::new(TokenUpdate {
                event: TokenEvent::NewToken(token.clone()),
                state,
            }),
        });
        app.update(Msg::Verified {
            profile: ProfileId(0),
            generation,
            checks: checks(),
        });
        for c in "Seattle".chars() {
            app.update(key(KeyCode::Char(c)));
        }
        app.update(key(KeyCode::Enter));
        app.update(Msg::ApiResult {
            profile: ProfileId(0),
            seq: generation,
            sent: Some(token),
            result: Ok(Box::new(response(
                200,
                r#"{"temp":12.5,"feels_like":11.2,"temp_min":10.1,"temp_max":14,"pressure":1012,"humidity":81}"#,
                &[],
            ))),
        });
        app.update(key(KeyCode::Esc));
    }
    for c in "Seattle".chars() {
        app.update(key(KeyCode::Char(c)));
    }
    app.update(key(KeyCode::Enter));
    let seq = app.in_flight().map(|c| c.seq).unwrap_or_default();
    app.update(Msg::ApiResult {
        profile: ProfileId(0),
        seq,
        sent: app.token_snapshot().and_then(|s| s.token.clone()),
        result: Ok(Box::new(last)),
    });
    // The Token pane focused, a claim selected: the claim's explanation is drawn too.
    app.update(key(KeyCode::Tab));
    app.update(key(KeyCode::Down));
    app.update(key(KeyCode::Down));
    app
}

fn bench(c: &mut Criterion) {
    let weather = app(response(
        200,
        r#"{"temp":12.5,"feels_like":11.2,"temp_min":10.1,"temp_max":14,"pressure":1012,"humidity":81}"#,
        &[],
    ));
    let idw = "IDW10203: The \"role\" claim does not contain role Weather.Admin or was not found";
    let refused = app(response(
        403,
        &json!({ "message": idw }).to_string(),
        &[&format!(
            "Bearer error=\"insufficient_scope\", error_description=\"{}\"",
            idw.replace('"', "\\\"")
        )],
    ));
    let mut group = c.benchmark_group("render");
    for (name, app) in [
        ("frame_200x60_weather_card", &weather),
        ("frame_200x60_403_explained", &refused),
    ] {
        let mut terminal = Terminal::new(TestBackend::new(200, 60)).unwrap();
        group.bench_function(name, |b| {
            b.iter(|| {
                terminal.draw(|f| view(black_box(app), f)).unwrap();
            })
        });
    }
    let mut terminal = Terminal::new(TestBackend::new(120, 40)).unwrap();
    group.bench_function("frame_120x40_weather_card", |b| {
        b.iter(|| {
            terminal.draw(|f| view(black_box(&weather), f)).unwrap();
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
