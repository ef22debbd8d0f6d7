//! Live admin operations over HTTP, under `/_sandbox/…`, for the standalone sandbox.
//! Only loopback peers may use them, only with a loopback `Host` (no DNS rebinding), and
//! never from another web origin (no cross-site requests from a browser).
//!
//! Owns the HTTP shape of those operations (routes, bodies, the guard). Must not implement
//! an operation itself: each one calls the shared state, as [`super::SandboxHandle`] does,
//! so both always behave the same.

use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, Path, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use chrono::TimeDelta;
use serde_json::{Value, json};

use super::credentials::TOKEN_EXCHANGE_AUDIENCE;
use super::error::SandboxError;
use super::federation::TOKEN_FILE_LIFETIME;
use super::model::TokenVersion;
use super::state::{AppState, MAX_CLOCK_OFFSET};
use super::stats::Endpoint;

pub(crate) fn router(state: AppState) -> Router<AppState> {
    Router::new()
        .route("/stats", get(stats))
        .route("/clients", get(clients))
        .route(
            "/clients/{client}/roles/{role}",
            post(grant_role).delete(revoke_role),
        )
        .route(
            "/clients/{client}/permissions/{role}",
            post(configure_role).delete(unconfigure_role),
        )
        .route(
            "/clients/{client}/own-roles/{role}",
            post(add_client_role).delete(remove_client_role),
        )
        .route(
            "/app-roles/{role}",
            put(define_app_role).delete(remove_app_role),
        )
        .route("/grant-delay", put(set_grant_delay))
        .route("/clients/{client}/expire-secret", post(expire_secret))
        .route("/clients/{client}/renew-secret", post(renew_secret))
        .route("/clients/{client}/federated-token", post(federated_token))
        .route("/required-role", put(set_required_role))
        .route("/token-lifetime", put(set_token_lifetime))
        .route("/access-token-version", put(set_access_token_version))
        .route("/assignment-required", put(set_assignment_required))
        .route("/clock-offset", put(set_clock_offset))
        .route("/rotate-key", post(rotate_key_route))
        .route_layer(axum::middleware::from_fn_with_state(state, guard))
}

/// The admin routes as documented by `tokenscope sandbox`.
pub(crate) const ROUTES: &[&str] = &[
    "GET    /_sandbox/stats                              request counts, every knob's setting, the API's app roles",
    "GET    /_sandbox/clients                            clients, roles, secrets",
    "POST   /_sandbox/clients/{client}/roles/{role}      grant an app role (admin consent)",
    "DELETE /_sandbox/clients/{client}/roles/{role}      revoke it (stays configured)",
    "POST   /_sandbox/clients/{client}/permissions/{role} configure it without consent",
    "DELETE /_sandbox/clients/{client}/permissions/{role} remove it from API permissions",
    "POST   /_sandbox/clients/{client}/own-roles/{role}  define it on the client's own app (wrong place)",
    "DELETE /_sandbox/clients/{client}/own-roles/{role}  remove that role again",
    "PUT    /_sandbox/app-roles/{role}       body: User | Application | Application,User",
    "DELETE /_sandbox/app-roles/{role}                   delete one of the API's app roles",
    "PUT    /_sandbox/grant-delay            body: 30s | 0  (new grants reach tokens that late)",
    "POST   /_sandbox/clients/{client}/expire-secret     make its secrets expire now",
    "POST   /_sandbox/clients/{client}/renew-secret      add a fresh secret (printed)",
    "POST   /_sandbox/clients/{client}/federated-token   a 1-hour workload token for its federated credential",
    "PUT    /_sandbox/required-role          body: Weather.Write",
    "PUT    /_sandbox/token-lifetime         body: 90s | 10m | random",
    "PUT    /_sandbox/access-token-version   body: 1 | 2",
    "PUT    /_sandbox/assignment-required    body: true | false",
    "PUT    /_sandbox/clock-offset           body: +10m | -1h | 0",
    "POST   /_sandbox/rotate-key                         new signing key; old one kept for the grace period",
];

fn refuse(text: &str) -> Response {
    (
        StatusCode::FORBIDDEN,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        format!("{text}\n"),
    )
        .into_response()
}

async fn guard(State(shared): State<AppState>, request: Request, next: Next) -> Response {
    shared.count(Endpoint::Admin);
    let peer_is_loopback = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| match addr.ip() {
            std::net::IpAddr::V4(v4) => v4.is_loopback(),
            std::net::IpAddr::V6(v6) => {
                v6.is_loopback() || v6.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback())
            }
        })
        .unwrap_or(false);
    if !peer_is_loopback {
        return refuse("sandbox admin routes only answer loopback clients");
    }
    // HTTP/1.1 names the host in `Host`; HTTP/2 in the `:authority` pseudo-header, which
    // hyper puts in the request URI. Every name given must be loopback, and `Host` may be
    // given once: a second one is how a proxy or a rebinding page slips another name past.
    let hosts = request.headers().get_all(header::HOST).iter().count();
    if hosts > 1 {
        return refuse("sandbox admin routes refuse a request with more than one Host header");
    }
    let names: Vec<Option<String>> = request
        .headers()
        .get_all(header::HOST)
        .iter()
        .map(|h| h.to_str().ok().map(str::to_string))
        .chain(
            request
                .uri()
                .authority()
                .map(|a| Some(a.as_str().to_string())),
        )
        .collect();
    let loopback_name = |h: &str| {
        let host = match h.rsplit_once(':') {
            Some((host, port)) if port.chars().all(|c| c.is_ascii_digit()) => host,
            _ => h,
        };
        let host = host.trim_start_matches('[').trim_end_matches(']');
        host.eq_ignore_ascii_case("localhost")
            || host
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_loopback() || ip == shared.local_addr.ip())
    };
    let host_is_loopback = !names.is_empty()
        && names
            .iter()
            .all(|n| n.as_deref().is_some_and(loopback_name));
    if !host_is_loopback {
        return refuse("sandbox admin routes only answer requests addressed to localhost");
    }
    if let Some(origin) = request.headers().get(header::ORIGIN) {
        let same_origin = origin
            .to_str()
            .is_ok_and(|o| o.eq_ignore_ascii_case(&shared.base_url));
        if !same_origin {
            return refuse("sandbox admin routes refuse cross-origin requests");
        }
    }
    next.run(request).await
}

fn ok(value: Value) -> Response {
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json")],
        value.to_string(),
    )
        .into_response()
}

fn failed(err: SandboxError) -> Response {
    let status = match err {
        SandboxError::UnknownClient { .. } | SandboxError::UnknownRole { .. } => {
            StatusCode::NOT_FOUND
        }
        _ => StatusCode::BAD_REQUEST,
    };
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        // The whole report, hint included: this is what a curl user reads.
        json!({ "error": err.report() }).to_string(),
    )
        .into_response()
}

fn respond(result: Result<Value, SandboxError>) -> Response {
    match result {
        Ok(v) => ok(v),
        Err(e) => failed(e),
    }
}

/// The value in a request body: `{"<key>": …}`, a JSON string/number/bool, or plain text.
fn body_value(body: &[u8], key: &str) -> String {
    let text = String::from_utf8_lossy(body);
    match serde_json::from_str::<Value>(&text) {
        Ok(Value::Object(map)) => match map.get(key) {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Null) | None => String::new(),
            Some(other) => other.to_string(),
        },
        Ok(Value::String(s)) => s,
        Ok(Value::Number(n)) => n.to_string(),
        Ok(Value::Bool(b)) => b.to_string(),
        _ => text.trim().to_string(),
    }
}

fn invalid(problem: String, hint: &str) -> SandboxError {
    SandboxError::InvalidValue {
        problem,
        hint: hint.to_string(),
    }
}

async fn stats(State(shared): State<AppState>) -> Response {
    let mut counts = serde_json::Map::new();
    for e in Endpoint::ALL {
        counts.insert(e.name().into(), shared.request_count(e).into());
    }
    let keys: Vec<String> = shared
        .published_keys()
        .iter()
        .map(|k| k.kid.clone())
        .collect();
    let state = shared.read();
    ok(json!({
        "base_url": shared.base_url,
        "tls": shared.tls,
        "requests": counts,
        "signing_keys": keys,
        "required_role": state.model.api.required_role,
        "access_token_version": match state.model.api.access_token_version {
            TokenVersion::V1 => 1,
            TokenVersion::V2 => 2,
        },
        "assignment_required": state.model.api.assignment_required,
        "grant_delay_seconds": state.grant_delay.as_secs(),
        "token_lifetime_seconds": state.token_lifetime.map(|d| d.as_secs()),
        "clock_offset_seconds": shared.clock_offset().num_seconds(),
        // What the dashboard's admin popup offers to grant, require and configure.
        "app_roles": state.model.api.app_roles.iter().map(|r| json!({
            "value": r.value,
            "allowed_member_types": r.allowed_member_types,
        })).collect::<Vec<_>>(),
    }))
}

async fn clients(State(shared): State<AppState>) -> Response {
    let list: Vec<Value> = shared.clients().iter().map(|c| c.to_json()).collect();
    ok(json!({ "clients": list }))
}

async fn grant_role(
    State(shared): State<AppState>,
    Path((client, role)): Path<(String, String)>,
) -> Response {
    respond(
        shared
            .grant_role(&client, &role)
            .map(|()| json!({ "granted": role, "client": client })),
    )
}

async fn revoke_role(
    State(shared): State<AppState>,
    Path((client, role)): Path<(String, String)>,
) -> Response {
    respond(
        shared
            .revoke_role(&client, &role)
            .map(|()| json!({ "revoked": role, "client": client })),
    )
}

async fn configure_role(
    State(shared): State<AppState>,
    Path((client, role)): Path<(String, String)>,
) -> Response {
    respond(
        shared
            .configure_role(&client, &role)
            .map(|()| json!({ "configured": role, "client": client, "granted": false })),
    )
}

async fn unconfigure_role(
    State(shared): State<AppState>,
    Path((client, role)): Path<(String, String)>,
) -> Response {
    respond(
        shared
            .unconfigure_role(&client, &role)
            .map(|()| json!({ "unconfigured": role, "client": client })),
    )
}

async fn add_client_role(
    State(shared): State<AppState>,
    Path((client, role)): Path<(String, String)>,
) -> Response {
    respond(
        shared
            .add_client_role(&client, &role)
            .map(|()| json!({ "defined_on_client": role, "client": client })),
    )
}

async fn remove_client_role(
    State(shared): State<AppState>,
    Path((client, role)): Path<(String, String)>,
) -> Response {
    respond(
        shared
            .remove_client_role(&client, &role)
            .map(|()| json!({ "removed_from_client": role, "client": client })),
    )
}

async fn define_app_role(
    State(shared): State<AppState>,
    Path(role): Path<String>,
    body: Bytes,
) -> Response {
    let text = body_value(&body, "allowed_member_types");
    let types: Vec<&str> = text
        .split([',', ' '])
        .map(|t| t.trim_matches(|c: char| c == '"' || c == '[' || c == ']' || c.is_whitespace()))
        .filter(|t| !t.is_empty())
        .collect();
    respond(
        shared
            .define_app_role(&role, &types)
            .map(|()| json!({ "app_role": role, "allowed_member_types": types })),
    )
}

async fn remove_app_role(State(shared): State<AppState>, Path(role): Path<String>) -> Response {
    respond(
        shared
            .remove_app_role(&role)
            .map(|()| json!({ "removed_app_role": role })),
    )
}

async fn set_grant_delay(State(shared): State<AppState>, body: Bytes) -> Response {
    let text = body_value(&body, "delay");
    let parsed = match text.trim() {
        "" | "0" | "none" => Ok(Duration::ZERO),
        t => humantime::parse_duration(t).map_err(|e| {
            invalid(
                format!("'{t}' is not a duration: {e}"),
                "send e.g. 30s or 2m, or 0 for grants that reach tokens at once",
            )
        }),
    };
    respond(parsed.map(|delay| {
        shared.set_grant_delay(delay);
        json!({ "grant_delay_seconds": shared.grant_delay().as_secs() })
    }))
}

async fn expire_secret(State(shared): State<AppState>, Path(client): Path<String>) -> Response {
    respond(
        shared
            .expire_secret(&client)
            .map(|()| json!({ "expired": client })),
    )
}

async fn renew_secret(State(shared): State<AppState>, Path(client): Path<String>) -> Response {
    respond(shared.renew_secret(&client).map(|c| c.to_json()))
}

async fn federated_token(State(shared): State<AppState>, Path(client): Path<String>) -> Response {
    let minted = shared
        .federated_credentials(&client)
        .and_then(|(client_id, records)| {
            let record = records.first().ok_or_else(|| {
                invalid(
                    format!("client '{client}' has no federated credential"),
                    "use a client with [[clients.federated_credentials]], e.g. workload",
                )
            })?;
            let audience = record
                .audiences
                .first()
                .cloned()
                .unwrap_or_else(|| TOKEN_EXCHANGE_AUDIENCE.to_string());
            let lifetime = TOKEN_FILE_LIFETIME;
            let token = shared.mint_federated(&record.subject, &audience, lifetime)?;
            Ok(json!({
                "client_id": client_id,
                "issuer": record.issuer,
                "subject": record.subject,
                "audience": audience,
                "expires_in": lifetime.as_secs(),
                "token": token,
            }))
        });
    respond(minted)
}

async fn set_required_role(State(shared): State<AppState>, body: Bytes) -> Response {
    let role = body_value(&body, "role");
    respond(
        shared
            .set_required_role(&role)
            .map(|()| json!({ "required_role": role })),
    )
}

async fn set_token_lifetime(State(shared): State<AppState>, body: Bytes) -> Response {
    let text = body_value(&body, "lifetime");
    let parsed = match text.as_str() {
        "" | "random" | "default" => Ok(None),
        t => humantime::parse_duration(t).map(Some).map_err(|e| {
            invalid(
                format!("'{t}' is not a duration: {e}"),
                "send e.g. 90s, 10m or 1h, or 'random' for Entra's 60-90 minutes",
            )
        }),
    };
    respond(parsed.map(|lifetime| {
        shared.set_token_lifetime(lifetime);
        json!({ "token_lifetime_seconds": shared.read().token_lifetime.map(|d| d.as_secs()) })
    }))
}

async fn set_access_token_version(State(shared): State<AppState>, body: Bytes) -> Response {
    let text = body_value(&body, "version");
    let version = match text.as_str() {
        "1" | "1.0" => Ok(TokenVersion::V1),
        "2" | "2.0" => Ok(TokenVersion::V2),
        other => Err(invalid(
            format!("'{other}' is not a token version"),
            "send 1 or 2",
        )),
    };
    respond(version.map(|v| {
        shared.set_access_token_version(v);
        json!({ "access_token_version": v.claim() })
    }))
}

async fn set_assignment_required(State(shared): State<AppState>, body: Bytes) -> Response {
    let text = body_value(&body, "required");
    let required = match text.to_ascii_lowercase().as_str() {
        "true" | "yes" | "1" | "on" => Ok(true),
        "false" | "no" | "0" | "off" => Ok(false),
        other => Err(invalid(
            format!("'{other}' is not a boolean"),
            "send true or false",
        )),
    };
    respond(required.map(|r| {
        shared.set_assignment_required(r);
        json!({ "assignment_required": r })
    }))
}

async fn set_clock_offset(State(shared): State<AppState>, body: Bytes) -> Response {
    let text = body_value(&body, "offset");
    respond(parse_offset(&text).map(|offset| {
        shared.set_clock_offset(offset);
        json!({ "clock_offset_seconds": offset.num_seconds() })
    }))
}

/// `+10m`, `-1h 30m`, `0`.
pub(crate) fn parse_offset(text: &str) -> Result<TimeDelta, SandboxError> {
    let text = text.trim();
    let (negative, magnitude) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    let magnitude = if magnitude.trim() == "0" {
        Duration::ZERO
    } else {
        humantime::parse_duration(magnitude.trim()).map_err(|e| {
            invalid(
                format!("'{text}' is not a clock offset: {e}"),
                "send e.g. +10m, -1h or 0",
            )
        })?
    };
    let too_far = || {
        invalid(
            format!(
                "'{text}' is too large a clock offset: the sandbox's clock moves at most 10 years either way"
            ),
            "send e.g. +10m, -1h, +400d or 0",
        )
    };
    let delta = TimeDelta::from_std(magnitude).map_err(|_| too_far())?;
    if delta > MAX_CLOCK_OFFSET {
        return Err(too_far());
    }
    Ok(if negative { -delta } else { delta })
}

async fn rotate_key_route(State(shared): State<AppState>) -> Response {
    respond(
        shared
            .rotate_key()
            .await
            .map(|kid| json!({ "signing_key": kid, "grace_seconds": shared.key_grace.as_secs() })),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_parse_with_sign() {
        assert_eq!(parse_offset("+10m").ok(), Some(TimeDelta::minutes(10)));
        assert_eq!(parse_offset("-1h").ok(), Some(TimeDelta::hours(-1)));
        assert_eq!(parse_offset("0").ok(), Some(TimeDelta::zero()));
        assert!(parse_offset("soon").is_err());
        assert_eq!(parse_offset("-3650d").ok(), Some(TimeDelta::days(-3650)));
        for far in [
            "+3654d",
            "-11000years",
            "+100y",
            "-1000000000000s",
            "18446744073709551615s",
        ] {
            let e = parse_offset(far).expect_err(far);
            assert!(e.to_string().contains("at most 10 years"), "{far}: {e}");
            assert!(e.hint().is_some());
        }
    }

    #[test]
    fn body_values_accept_json_or_text() {
        assert_eq!(
            body_value(b"{\"role\":\"Weather.Write\"}", "role"),
            "Weather.Write"
        );
        assert_eq!(body_value(b"Weather.Write\n", "role"), "Weather.Write");
        assert_eq!(body_value(b"\"10m\"", "lifetime"), "10m");
        assert_eq!(body_value(b"{\"lifetime\":null}", "lifetime"), "");
        assert_eq!(body_value(b"2", "version"), "2");
    }
}
