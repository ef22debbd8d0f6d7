//! Test fixtures: a profile, tokens, snapshots and responses with fixed values, so the
//! screen renders the same on every machine (fixed `now`, UTC display offset).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, FixedOffset, TimeZone, Utc};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use serde_json::json;

use super::app::{App, AppOptions};
use super::demo::DemoState;
use super::msg::{Msg, ProfileId};
use super::theme::Theme;
use crate::api::{ApiResponse, classify_body, parse_www_authenticate};
use crate::auth::{
    CachedToken, EntraError, Phase, TokenError, TokenEvent, TokenSnapshot, TokenSource, TokenUpdate,
};
use crate::config::{Credential, Origin, Profile, SecretSource};
use crate::diagnose::Severity;
use crate::http::NetworkKind;
use crate::jwt::Check;
use crate::jwt::b64url;
use crate::secret::{AccessToken, ClientSecret};

pub const TENANT: &str = "ec184e30-7605-46d6-97ce-0b8dfa8e6682";
pub const CLIENT: &str = "a5947bad-c48d-423f-8e81-4681cdd00957";
pub const API: &str = "6c6f687a-96c8-4280-bba3-d11cc0b19b67";

pub fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 6, 1, 12, 0, 0).unwrap()
}

pub fn profile() -> Profile {
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
            secret: ClientSecret::new("sbx-secret-canary"),
            source: SecretSource::EnvVar("WEATHER_CLIENT_SECRET".into()),
        },
        scope: format!("api://{API}/.default"),
        api_url: "http://127.0.0.1:8400/api/weather/{city}".into(),
        expected_roles: vec!["Weather.Read".into()],
        ca_file: None,
        connect_timeout: Duration::from_secs(10),
        timeout: Duration::from_secs(30),
        cache: false,
        secret_expires: None,
        graph: Default::default(),
        config_path: Some(PathBuf::from("/home/ada/.config/tokenscope/config.toml")),
    }
}

pub fn demo_state() -> DemoState {
    DemoState {
        client: "console-rw".into(),
        api_roles: vec![
            "Weather.Read".into(),
            "Weather.Write".into(),
            "Weather.Admin".into(),
        ],
        granted: vec!["Weather.Read".into(), "Weather.Write".into()],
        required_role: "Weather.Read".into(),
        token_lifetime: None,
        secret_expired: false,
        has_secret: true,
        situations: Default::default(),
        remote: None,
    }
}

pub fn options(demo: bool) -> AppOptions {
    AppOptions {
        theme: Theme::new(false),
        utc_offset: FixedOffset::east_opt(0).unwrap(),
        now: now(),
        demo: demo.then(demo_state),
        sandbox_admin: false,
    }
}

pub fn app(demo: bool) -> App {
    App::new(&profile(), options(demo))
}

/// A v2 app-only JWT acquired 5 minutes before [`now`], living one hour.
pub fn jwt(roles: &[&str]) -> String {
    jwt_acr(roles, "1")
}

/// [`jwt`] with `azpacr` = `acr` (1 secret, 2 certificate or federated credential).
pub fn jwt_acr(roles: &[&str], acr: &str) -> String {
    let iat = (now() - chrono::Duration::minutes(5)).timestamp();
    let header = json!({"typ": "JWT", "alg": "RS256", "kid": "sbx-key-1"});
    let payload = json!({
        "aud": API,
        "iss": format!("http://127.0.0.1:8400/{TENANT}/v2.0"),
        "iat": iat, "nbf": iat, "exp": iat + 3600,
        "aio": "sbx-aio",
        "azp": CLIENT,
        "azpacr": acr,
        "idtyp": "app",
        "oid": "6cd8d0a5-66d8-43d4-87e7-81db44d2fa71",
        "roles": roles,
        "sub": "6cd8d0a5-66d8-43d4-87e7-81db44d2fa71",
        "tid": TENANT,
        "ver": "2.0",
    });
    format!(
        "{}.{}.{}",
        b64url(header.to_string().as_bytes()),
        b64url(payload.to_string().as_bytes()),
        b64url(b"signature")
    )
}

pub fn cached(roles: &[&str]) -> Arc<CachedToken> {
    let acquired = now() - chrono::Duration::minutes(5);
    Arc::new(CachedToken {
        access_token: AccessToken::new(jwt(roles)),
        token_type: "Bearer".into(),
        acquired_at: acquired,
        expires_on: acquired + chrono::Duration::hours(1),
        ext_expires_on: None,
        refresh_on: None,
        source: TokenSource::Network,
        generation: 1,
        server_date: None,
    })
}

pub fn empty_snapshot(phase: Phase) -> TokenSnapshot {
    TokenSnapshot {
        phase,
        token: None,
        last_error: None,
        next_refresh: None,
        warnings: Vec::new(),
        network_requests: 0,
        generation: 0,
    }
}

pub fn fresh(roles: &[&str], generation: u64) -> TokenSnapshot {
    let mut t = cached(roles);
    Arc::make_mut(&mut t).generation = generation;
    TokenSnapshot {
        phase: Phase::Fresh,
        next_refresh: Some(t.expires_on - chrono::Duration::minutes(5)),
        token: Some(t),
        network_requests: generation,
        generation,
        ..empty_snapshot(Phase::Fresh)
    }
}

/// The fixtures' first profile (active unless a test switches).
pub const P0: ProfileId = ProfileId(0);

/// `event` from profile `profile`'s token manager, which is now in `state`.
pub fn token_msg(profile: ProfileId, event: TokenEvent, state: TokenSnapshot) -> Msg {
    Msg::Token {
        profile,
        update: Box::new(TokenUpdate { event, state }),
    }
}

/// Bring profile `id` of `app` to the manager state `snap` with the events a token manager
/// would have published on the way from the state the App last heard of: a first request,
/// a new token (a new generation), a failure (or the same failure again), a retry, the
/// next refresh, new warnings. Test scaffolding: the App itself never compares states.
pub fn step(app: &mut App, id: ProfileId, snap: TokenSnapshot) {
    let prev = app.profiles()[id.0].snapshot.clone();
    let prev_gen = prev.as_ref().map(|p| p.generation).unwrap_or(0);
    let prev_phase = prev.as_ref().map(|p| p.phase.clone());
    let prev_err = prev
        .as_ref()
        .and_then(|p| p.last_error.as_ref())
        .map(|e| e.to_string());
    let mut events = Vec::new();
    if snap.phase == Phase::Acquiring && matches!(prev_phase, None | Some(Phase::Idle)) {
        events.push(TokenEvent::Requesting { first: true });
    }
    if snap.generation != prev_gen
        && let Some(t) = &snap.token
    {
        events.push(TokenEvent::NewToken(t.clone()));
    }
    if let Some(e) = &snap.last_error {
        let repeat = prev_err.as_deref() == Some(e.to_string().as_str());
        events.push(TokenEvent::Failed {
            error: e.clone(),
            repeat,
        });
    }
    if prev_phase.as_ref() != Some(&snap.phase) {
        match &snap.phase {
            Phase::Retrying { at, attempt } => events.push(TokenEvent::Scheduled {
                at: *at,
                retry: Some(*attempt),
            }),
            Phase::Expired => events.push(TokenEvent::Expired),
            _ => {}
        }
    }
    if !matches!(snap.phase, Phase::Retrying { .. })
        && snap.next_refresh != prev.as_ref().and_then(|p| p.next_refresh)
        && let Some(at) = snap.next_refresh
    {
        events.push(TokenEvent::Scheduled { at, retry: None });
    }
    let seen = prev.as_ref().map(|p| p.warnings.len()).unwrap_or(0);
    events.extend(
        snap.warnings
            .iter()
            .skip(seen)
            .cloned()
            .map(TokenEvent::Warning),
    );
    for e in events {
        app.update(token_msg(id, e, snap.clone()));
    }
}

/// The answer to call `seq`, as the runtime sends it: for the profile that made the call,
/// with that profile's current token as the one sent (profile 0 for a call no longer in
/// flight).
pub fn answer(app: &mut App, seq: u64, result: Result<Box<ApiResponse>, super::msg::CallError>) {
    let i = app
        .profiles()
        .iter()
        .position(|p| p.call.as_ref().is_some_and(|c| c.seq == seq))
        .unwrap_or(0);
    let sent = app.profiles()[i]
        .snapshot
        .as_ref()
        .and_then(|s| s.token.clone());
    app.update(Msg::ApiResult {
        profile: ProfileId(i),
        seq,
        sent,
        result,
    });
}

/// What the verifier says about a good sandbox token.
pub fn checks_ok() -> Vec<Check> {
    let c = |name, detail: &str| Check {
        name,
        severity: Severity::Ok,
        detail: detail.into(),
    };
    vec![
        c(
            "discovery",
            &format!("v2 document: issuer http://127.0.0.1:8400/{TENANT}/v2.0"),
        ),
        c("signature", "RS256, key sbx-key-1"),
        c("issuer", &format!("http://127.0.0.1:8400/{TENANT}/v2.0")),
        c("audience", &format!("{API} matches the scope api://{API}")),
        c("tenant", TENANT),
        c("lifetime", "expires in 55m 0s"),
    ]
}

/// The active profile's token of `generation` verified with `checks` (the fixtures' active
/// profile is the first).
pub fn verified(generation: u64, checks: Vec<Check>) -> Msg {
    Msg::Verified {
        profile: P0,
        generation,
        checks,
    }
}

/// Entra's answer when every secret of the client has expired.
pub fn expired_secret_error() -> TokenError {
    TokenError::Rejected {
        status: 401,
        entra: Box::new(EntraError {
            error: "invalid_client".into(),
            error_description: Some(format!(
                "AADSTS7000222: The provided client secret keys for app '{CLIENT}' are expired. Visit the Azure portal to create new keys for your app. Trace ID: 0c1d Correlation ID: 9f2e Timestamp: 2025-06-01 12:00:00Z"
            )),
            error_codes: vec![7000222],
            ..Default::default()
        }),
        retry_after: None,
    }
}

pub fn connect_error() -> TokenError {
    TokenError::Network {
        kind: NetworkKind::Connect,
        url: format!("http://127.0.0.1:8400/{TENANT}/oauth2/v2.0/token"),
        message: "connection refused".into(),
        source: None,
    }
}

pub fn retrying(roles: &[&str]) -> TokenSnapshot {
    let at = now() + chrono::Duration::seconds(4);
    TokenSnapshot {
        phase: Phase::Retrying { at, attempt: 2 },
        last_error: Some(connect_error()),
        next_refresh: Some(at),
        network_requests: 3,
        ..fresh(roles, 1)
    }
}

pub fn response(status: u16, content_type: &str, body: &str, www: &[&str]) -> ApiResponse {
    let www: Vec<String> = www.iter().map(|s| s.to_string()).collect();
    ApiResponse {
        url: "http://127.0.0.1:8400/api/weather/Seattle".parse().unwrap(),
        status,
        latency: Duration::from_millis(42),
        content_type: Some(content_type.into()),
        body: classify_body(body.as_bytes(), Some(content_type)),
        body_len: body.len(),
        truncated: false,
        challenges: www.iter().flat_map(|h| parse_www_authenticate(h)).collect(),
        www_authenticate: www,
        authorization_dropped_at: None,
    }
}

pub fn weather_ok() -> ApiResponse {
    response(
        200,
        "application/json",
        r#"{"temp":12.5,"feels_like":11.2,"temp_min":10.1,"temp_max":14,"pressure":1012,"humidity":81}"#,
        &[],
    )
}

pub fn idw(role: &str) -> String {
    format!("IDW10203: The \"role\" claim does not contain role {role} or was not found")
}

pub fn forbidden(role: &str) -> ApiResponse {
    let text = idw(role);
    response(
        403,
        "text/plain; charset=utf-8",
        &text,
        &[&format!(
            "Bearer error=\"insufficient_scope\", error_description=\"{}\"",
            text.replace('"', "\\\"")
        )],
    )
}

pub fn key(code: KeyCode) -> Msg {
    Msg::Key(KeyEvent::new(code, KeyModifiers::NONE))
}

pub fn ch(c: char) -> Msg {
    key(KeyCode::Char(c))
}

pub fn ctrl(c: char) -> Msg {
    Msg::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL))
}

pub fn type_str(app: &mut App, s: &str) {
    for c in s.chars() {
        app.update(ch(c));
    }
}

/// The screen as text, one line per row, trailing spaces trimmed.
pub fn text(buf: &Buffer) -> String {
    let area = buf.area;
    let mut out = String::new();
    for y in area.top()..area.bottom() {
        let mut line = String::new();
        for x in area.left()..area.right() {
            line.push_str(buf[(x, y)].symbol());
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

pub fn render(app: &App, w: u16, h: u16) -> String {
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    let frame = t.draw(|f| super::view(app, f)).unwrap();
    text(frame.buffer)
}

/// A certificate's facts as the loader reports them, expiring `days` after [`now`].
pub fn certificate(days: i64) -> crate::credential::CertificateInfo {
    crate::credential::CertificateInfo {
        path: PathBuf::from("/home/ada/.config/tokenscope/console-cert.pem"),
        format: crate::credential::CertFormat::Pem,
        subject: "CN=console-cert".into(),
        issuer: "CN=console-cert".into(),
        thumbprint: "3F2A9C0D5E7B1A4C8D6E2F0A9B3C5D7E1F4A6B8C".into(),
        x5t: "PyqcDV57GkyNbi8KmzxdfeH0prg".into(),
        x5t_s256: "n4bQgYhMfWWaL-qgxVrQFaO_TxsrC4Is0V1sFbDwCgg".into(),
        not_before: now() - chrono::Duration::days(365),
        not_after: now() + chrono::Duration::days(days),
    }
}

/// A profile of the sandbox's config: `name` signs in as its own client.
pub fn named(name: &str, client_id: &str, expected: &[&str]) -> Profile {
    Profile {
        name: name.into(),
        client_id: client_id.into(),
        expected_roles: expected.iter().map(|r| r.to_string()).collect(),
        ..profile()
    }
}

/// The demo's profiles (console-rw active), plus one that does not load.
pub fn profiles() -> Vec<(String, Result<Profile, String>)> {
    let ok = |p: Profile| (p.name.clone(), Ok(p));
    vec![
        ok(profile()),
        ok(named(
            "mobile-ro",
            "808a3c2d-4fbd-48a8-88f6-bcaa4da45e28",
            &["Weather.Read"],
        )),
        ok(named(
            "no-roles",
            "1c4e7a2b-3d5f-4e6a-8b9c-0d1e2f3a4b5c",
            &["Weather.Read"],
        )),
        ok(named(
            "console-cert",
            "3f1d2c4b-8e7a-4b6c-9d5e-2a1b0c9d8e7f",
            &["Weather.Read", "Weather.Write"],
        )),
        (
            "typo".into(),
            Err(
                "profile \"typo\" in /home/ada/.config/tokenscope/config.toml has no client_id\nhint: add client_id = \"<GUID>\""
                    .into(),
            ),
        ),
    ]
}

/// A dashboard over [`profiles`]; console-cert signs in with a certificate expiring in
/// `cert_days` days.
pub fn profiles_app(demo: bool, cert_days: i64) -> App {
    let mut app = App::with_profiles(&profiles(), 0, options(demo));
    app.profiles[3].credential = super::app::CredentialFacts {
        kind: "certificate",
        from: " /home/ada/.config/tokenscope/console-cert.pem".into(),
        certificate: Some(certificate(cert_days)),
        secret_expires: None,
    };
    app
}

/// The API's app roles in the fixtures' tenant: (id, value).
pub const API_ROLES: [(&str, &str); 3] = [
    ("4c0bd6f6-0000-4000-8000-000000000001", "Weather.Read"),
    ("4c0bd6f6-0000-4000-8000-000000000002", "Weather.Write"),
    ("4c0bd6f6-0000-4000-8000-000000000003", "Weather.Admin"),
];
const API_SP: &str = "9f1c2b3a-0000-4000-8000-0000000000a1";
const CLIENT_SP: &str = "6cd8d0a5-66d8-43d4-87e7-81db44d2fa71";

/// The set-up Microsoft Graph would report for the fixtures' profile: the API defines its
/// three roles for applications (v2 tokens); the client has `configured` under API
/// permissions and holds a grant of each of `granted`, made at the time given.
pub fn setup_facts(
    configured: &[&str],
    granted: &[(&str, DateTime<Utc>)],
) -> crate::graph::SetupFacts {
    use crate::graph::{
        AppRoleDef, Application, Assignment, RequiredResource, ResourceAccess, ServicePrincipal,
        SetupFacts,
    };
    let id_of = |v: &str| {
        API_ROLES
            .iter()
            .find(|(_, value)| *value == v)
            .map(|(id, _)| id.to_string())
            .unwrap_or_default()
    };
    let roles: Vec<AppRoleDef> = API_ROLES
        .iter()
        .map(|(id, value)| AppRoleDef {
            id: id.to_string(),
            value: value.to_string(),
            display_name: value.to_string(),
            allowed_member_types: vec!["Application".into()],
            is_enabled: true,
        })
        .collect();
    SetupFacts {
        api_app: Some(Application {
            object_id: "b1d4a5c6-0000-4000-8000-0000000000b1".into(),
            app_id: API.into(),
            display_name: "Weather API".into(),
            identifier_uris: vec![format!("api://{API}")],
            requested_token_version: Some(2),
            app_roles: roles.clone(),
            ..Default::default()
        }),
        api_sp: Some(ServicePrincipal {
            id: API_SP.into(),
            app_id: API.into(),
            display_name: "Weather API".into(),
            app_roles: roles,
            ..Default::default()
        }),
        client_app: Some(Application {
            object_id: "c2e5b6d7-0000-4000-8000-0000000000c2".into(),
            app_id: CLIENT.into(),
            display_name: "Weather console".into(),
            required_resource_access: vec![RequiredResource {
                resource_app_id: API.into(),
                access: configured
                    .iter()
                    .map(|r| ResourceAccess {
                        id: id_of(r),
                        kind: "Role".into(),
                    })
                    .collect(),
            }],
            ..Default::default()
        }),
        client_sp: Some(ServicePrincipal {
            id: CLIENT_SP.into(),
            app_id: CLIENT.into(),
            display_name: "Weather console".into(),
            ..Default::default()
        }),
        assignments: granted
            .iter()
            .enumerate()
            .map(|(i, (r, at))| Assignment {
                id: format!("assignment-{i}"),
                app_role_id: id_of(r),
                principal_id: CLIENT_SP.into(),
                resource_id: API_SP.into(),
                resource_display_name: Some("Weather API".into()),
                created: Some(*at),
            })
            .collect(),
        source:
            "Microsoft Graph https://graph.microsoft.com/v1.0 (token from profile `console-rw`)"
                .into(),
        read_at: now(),
        notes: Vec::new(),
    }
}

/// `app` read `facts` for its active profile (as the runtime reports it).
pub fn read_setup(app: &mut App, facts: crate::graph::SetupFacts) {
    let profile = ProfileId(app.active());
    app.update(Msg::Setup {
        profile,
        result: Ok(Box::new(facts)),
    });
}
