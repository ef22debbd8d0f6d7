//! `tokenscope token` and `tokenscope call` (with `--wait-for-role`: fresh tokens until a
//! role reaches them, then the call).
//!
//! Printing and exit codes only; tokens come from `auth`, explanations and the wait from
//! `diagnose`.

use serde_json::{Value, json};

use super::out::{errln, outln};
use super::setup_cmd::SetupAccess;
use super::{EXIT_API, EXIT_REFUSED, EXIT_TOKEN, EXIT_USAGE, Failure, http_client, render};
use crate::api::{self, ApiError, ApiResponse, Body, Outcome};
use std::sync::Arc;

use crate::auth::{
    CachedToken, ManagerOptions, TokenCache, TokenError, TokenHandle, TokenManager, TokenSource,
};
use crate::config::Profile;
use crate::diagnose::setup::wait::{self, WaitError};
use crate::jwt::{self, TokenFormat};
use crate::problem::Problem;
use crate::text::sanitize;
use crate::time;

/// Failure for a token that could not be acquired.
fn token_failure(e: &TokenError) -> Failure {
    let kind = match e {
        TokenError::Rejected { .. } => "rejected",
        TokenError::UnexpectedResponse { .. } => "unexpected_response",
        TokenError::Malformed { .. } => "malformed_response",
        TokenError::Redirected { .. } => "redirected",
        TokenError::Network { .. } => "network",
        TokenError::Insecure(_) => "insecure",
        TokenError::BadEndpoint { .. } => "bad_endpoint",
        TokenError::Credential(_) => "credential",
    };
    let code = if matches!(
        e,
        TokenError::Insecure(_) | TokenError::BadEndpoint { .. } | TokenError::Credential(_)
    ) {
        EXIT_USAGE
    } else {
        EXIT_TOKEN
    };
    let mut f = Failure::problem(code, "token", kind, e);
    if let Some(kb) = e.aadsts_code().and_then(crate::diagnose::aadsts::lookup) {
        f = f.with_detail(format!("why: {}\nfix: {}", kb.cause, kb.fix));
    }
    if let TokenError::Rejected { status, entra, .. } = e {
        f = f
            .with("status", json!(status))
            .with("error", json!(entra.error))
            .with("aadsts", json!(entra.code()))
            .with("summary", json!(entra.summary()))
            .with("trace_id", json!(entra.trace_id))
            .with("correlation_id", json!(entra.correlation_id));
    }
    if let TokenError::UnexpectedResponse { status, .. } | TokenError::Malformed { status, .. } = e
    {
        f = f.with("status", json!(status));
    }
    f
}

fn api_failure(e: &ApiError) -> Failure {
    let (code, kind) = match e {
        ApiError::InvalidCity(_) => (EXIT_USAGE, "invalid_city"),
        ApiError::BadUrl { .. } => (EXIT_USAGE, "bad_url"),
        ApiError::Insecure(_) => (EXIT_USAGE, "insecure"),
        ApiError::Network { .. } => (EXIT_API, "network"),
        ApiError::TooManyRedirects { .. } => (EXIT_API, "too_many_redirects"),
        ApiError::BadRedirect { .. } => (EXIT_API, "bad_redirect"),
    };
    Failure::problem(code, "api", kind, e)
}

/// The profile's HTTP client and token manager, with the persistent cache unless it is off.
fn manager(profile: &Profile, no_cache: bool) -> Result<(reqwest::Client, TokenHandle), Failure> {
    let client = http_client(profile)?;
    let cache = if no_cache || !profile.cache {
        None
    } else {
        match TokenCache::open_default() {
            Ok(c) => Some(c),
            Err(e) => {
                errln!("warning: {}", e.full_text());
                None
            }
        }
    };
    let manager =
        TokenManager::for_profile(profile, client.clone(), cache, ManagerOptions::default());
    Ok((client, manager))
}

/// Get a token through the token manager: served from the persistent cache when it is
/// still good (no network), fetched otherwise.
async fn acquire(
    profile: &Profile,
    no_cache: bool,
) -> Result<(reqwest::Client, Arc<CachedToken>), Failure> {
    let (client, manager) = self::manager(profile, no_cache)?;
    let result = manager.token().await;
    let snap = manager.snapshot();
    for w in &snap.warnings {
        errln!("warning: {w}");
    }
    if let Some(skew) = snap.clock_skew {
        errln!(
            "warning: the identity provider's clock differs from this machine's by {} ({}); token times may look off\nhint: synchronise this machine's clock (NTP)",
            time::human_secs(skew.num_seconds()),
            if skew.num_seconds() > 0 {
                "server ahead"
            } else {
                "server behind"
            }
        );
    }
    let tok = result.map_err(|e| token_failure(&e))?;
    if let (Some(e), true) = (&snap.last_error, tok.valid(time::now())) {
        errln!(
            "warning: refreshing the token failed; using the cached one, still valid: {}",
            e.summary()
        );
    }
    Ok((client, tok))
}

/// What the profile authenticated with, for `--json` (no secret material).
fn credential_json(profile: &Profile) -> Value {
    use crate::config::{Credential, PathSource};
    let from = |s: &PathSource| match s {
        PathSource::File => "profile".to_string(),
        PathSource::EnvVar(v) => (*v).to_string(),
    };
    match &profile.credential {
        Credential::Secret { source, .. } => json!({
            "kind": "client_secret",
            "source": source.to_string(),
            "expires_on": profile.secret_expires,
        }),
        Credential::Certificate {
            cert,
            source,
            alg,
            send_chain,
        } => {
            let i = cert.info();
            json!({
                "kind": "certificate",
                "source": from(source),
                "path": i.path,
                "subject": i.subject,
                "thumbprint": i.thumbprint,
                "x5t_s256": i.x5t_s256,
                "not_after": i.not_after,
                "algorithm": alg.name(),
                "send_certificate_chain": send_chain,
            })
        }
        Credential::Federated { token, source } => json!({
            "kind": "federated",
            "source": from(source),
            "path": token.path(),
        }),
    }
}

fn token_json(profile: &Profile, tok: &CachedToken, raw: bool) -> Value {
    let now = time::now();
    let secs_until = |t: chrono::DateTime<chrono::Utc>| (t - now).num_seconds().max(0);
    let format = jwt::inspect(tok.access_token.expose());
    let mut out = json!({
        "profile": profile.name,
        "token_endpoint": profile.token_endpoint,
        "client_id": profile.client_id,
        "scope": profile.scope,
        "credential": credential_json(profile),
        "source": tok.source,
        "token_type": tok.token_type,
        "expires_in": secs_until(tok.expires_on),
        "ext_expires_in": tok.ext_expires_on.map(secs_until),
        "refresh_in": tok.refresh_on.map(secs_until),
        "acquired_at": tok.acquired_at.to_rfc3339(),
        "expires_on": tok.expires_on.to_rfc3339(),
    });
    let obj = out.as_object_mut().expect("json! object");
    match &format {
        TokenFormat::Jwt(j) => {
            obj.insert("format".into(), json!("jwt"));
            obj.insert("header".into(), Value::Object(j.header.clone()));
            obj.insert("claims".into(), Value::Object(j.payload.clone()));
            obj.insert(
                "expected_roles".into(),
                render::expected_roles_json(Some(j), &profile.expected_roles),
            );
        }
        TokenFormat::Opaque { reason } => {
            obj.insert("format".into(), json!("opaque"));
            obj.insert("opaque_reason".into(), json!(reason.full_text()));
        }
    }
    if raw {
        obj.insert("access_token".into(), json!(tok.access_token.expose()));
    }
    out
}

pub async fn token(
    profile: &Profile,
    no_cache: bool,
    json_out: bool,
    raw: bool,
) -> Result<(), Failure> {
    let (_, tok) = acquire(profile, no_cache).await?;
    if raw && !tok.access_token.is_b64token() {
        return Err(not_a_token(&tok));
    }
    if json_out {
        let out = token_json(profile, &tok, raw);
        outln!("{}", crate::text::inert_json(&out));
        return Ok(());
    }
    if raw {
        outln!("{}", tok.access_token.expose());
        return Ok(());
    }
    let now = time::now();
    outln!(
        "profile  {}  (client {})",
        profile.name,
        sanitize(&profile.client_id, false)
    );
    outln!("scope    {}", sanitize(&profile.scope, false));
    outln!(
        "auth     {}",
        crate::diagnose::doctor::credential_line(profile, now)
    );
    outln!(
        "token    {}, from the {}, expires {} ({})",
        sanitize(&tok.token_type, false),
        match tok.source {
            TokenSource::Network => "token endpoint",
            TokenSource::Cache => "cache",
        },
        tok.expires_on
            .with_timezone(&chrono::Local)
            .format("%Y-%m-%d %H:%M:%S"),
        time::relative(tok.expires_on, now)
    );
    match jwt::inspect(tok.access_token.expose()) {
        TokenFormat::Jwt(j) => {
            for line in render::jwt_lines(&j, &profile.expected_roles) {
                outln!("{line}");
            }
        }
        TokenFormat::Opaque { reason } => {
            outln!(
                "format   opaque (not a JWT, so there are no claims to show): {}",
                reason.full_text()
            );
        }
    }
    outln!("(the access token itself is not shown; add --raw to print it)");
    Ok(())
}

/// `--wait-for-role ROLE [--wait-timeout DUR]`.
#[derive(Debug, Clone)]
pub struct WaitFor {
    pub role: String,
    pub bound: std::time::Duration,
}

/// Fresh tokens until one carries the role, progress on stderr; Ctrl-C stops the wait.
/// Ending without the role (the bound, Ctrl-C, a refusal waiting cannot fix) exits 3: no
/// token with the role could be had.
async fn acquire_with_role(
    profile: &Profile,
    no_cache: bool,
    w: &WaitFor,
) -> Result<(reqwest::Client, Arc<CachedToken>), Failure> {
    let (client, manager) = self::manager(profile, no_cache)?;
    let role = sanitize(&w.role, false);
    let progress = |a: &wait::Attempt| {
        let has = if a.roles.is_empty() {
            "no roles".to_string()
        } else {
            sanitize(&a.roles.join(", "), false)
        };
        let token = match a.error {
            Some(e) => format!("token request failed: {}", e.short_reason()),
            None => format!("token has {has}"),
        };
        let next = a
            .next_in
            .map(|d| {
                format!(
                    "; next in {}",
                    time::human_secs(d.as_secs_f64().round() as i64)
                )
            })
            .unwrap_or_default();
        errln!(
            "waiting for {role} in new tokens: attempt {}, {} so far; {token}{next}",
            a.attempt,
            time::human_secs(a.elapsed.as_secs() as i64)
        );
    };
    let waited = tokio::select! {
        r = wait::wait_for_role(&manager, &w.role, w.bound, progress) => r,
        _ = tokio::signal::ctrl_c() => {
            return Err(Failure::new(
                EXIT_TOKEN,
                "token",
                "wait_stopped",
                format!("stopped waiting for {role} in new tokens (Ctrl-C); the API was not called"),
            ));
        }
    };
    match waited {
        Ok(done) => {
            errln!(
                "{role} is in the token (attempt {}, after {}); calling the API",
                done.attempts,
                time::human_secs(done.elapsed.as_secs() as i64)
            );
            Ok((client, done.token))
        }
        Err(WaitError::Token(e)) => Err(token_failure(&e)),
        Err(WaitError::TimedOut {
            attempts,
            elapsed,
            roles,
        }) => {
            let has = if roles.is_empty() {
                "no roles".to_string()
            } else {
                sanitize(&roles.join(", "), false)
            };
            Err(Failure::new(
                EXIT_TOKEN,
                "token",
                "role_not_in_token",
                format!(
                    "{role} did not reach new tokens within {} ({attempts} attempts; the last \
                     token has {has}); the API was not called",
                    time::human_secs(elapsed.as_secs() as i64)
                ),
            )
            .with_hint(format!(
                "`tokenscope setup` shows whether {role} is granted at all (a grant never given \
                 never arrives); a real grant can take longer: raise --wait-timeout"
            )))
        }
    }
}

/// `--raw` prints a token only when it looks like one: what the identity provider sent
/// instead (controls, spaces, a whole document) is not written to a terminal or a script.
fn not_a_token(tok: &CachedToken) -> Failure {
    let t = tok.access_token.expose();
    Failure::new(
        EXIT_TOKEN,
        "token",
        "malformed_token",
        format!(
            "the identity provider's access_token ({} bytes) is not a bearer token (RFC 6750: letters, digits and -._~+/ with = at the end), so --raw does not print it",
            t.len()
        ),
    )
    .with_hint("run `tokenscope token` (without --raw) to see what it is; the identity provider or a proxy in front of it is sending something else")
}

pub async fn call(
    profile: &Profile,
    no_cache: bool,
    city: &str,
    json_out: bool,
    wait: Option<WaitFor>,
    setup: &SetupAccess,
) -> Result<(), Failure> {
    // Check the city, the URL and the transport before spending a token request on them.
    let url = api::weather_target(&profile.api_url, city).map_err(|e| api_failure(&e))?;
    let (client, tok) = match &wait {
        Some(w) => acquire_with_role(profile, no_cache, w).await?,
        None => acquire(profile, no_cache).await?,
    };
    let resp = api::get_with_bearer(&client, url, &tok.access_token)
        .await
        .map_err(|e| api_failure(&e))?;
    let claims = match jwt::inspect(tok.access_token.expose()) {
        TokenFormat::Jwt(j) => Some(j.claims),
        TokenFormat::Opaque { .. } => None,
    };
    let roles: Vec<String> = claims.as_ref().map(|c| c.roles.clone()).unwrap_or_default();
    // The set-up is read only after a 403: a call that succeeds costs nothing extra.
    let facts = match resp.outcome() {
        Outcome::Forbidden => setup.facts_for_refusal(profile).await,
        _ => None,
    };
    let advice = crate::diagnose::refusal::explain_with_setup(
        &resp,
        claims.as_ref(),
        &profile.expected_roles,
        &profile.scope,
        facts.as_ref(),
    );
    if json_out {
        let mut out = render::api_json(&resp);
        if let Some(o) = out.as_object_mut() {
            o.insert("profile".into(), json!(profile.name));
            o.insert("city".into(), json!(city.trim()));
            o.insert("token_roles".into(), json!(roles));
            o.insert("diagnosis".into(), json!(advice));
        }
        outln!("{}", crate::text::inert_json(&out));
    } else {
        print_response(&resp, city.trim());
    }
    let (code, summary) = match resp.outcome() {
        Outcome::Success => return Ok(()),
        Outcome::Unauthorized | Outcome::Forbidden => (
            EXIT_REFUSED,
            format!("the API refused the call ({})", resp.status),
        ),
        Outcome::HttpError => (EXIT_API, format!("the API answered HTTP {}", resp.status)),
    };
    let Some(a) = &advice else {
        return Err(Failure::after_output(code, summary));
    };
    // Advice for other statuses names the status itself ("the API has no such resource
    // (HTTP 404)"); a refusal's advice is about the token, so the status leads.
    let headline = if code == EXIT_REFUSED {
        format!("{summary}: {}", a.summary)
    } else {
        a.summary.clone()
    };
    Err(Failure::after_output(code, headline)
        .with_detail(format!("why: {}\nfix: {}", a.cause, a.fix)))
}

fn print_response(resp: &ApiResponse, city: &str) {
    outln!(
        "GET {} → {} in {}",
        resp.url,
        resp.status,
        time::latency(resp.latency)
    );
    if let Some(u) = &resp.authorization_dropped_at {
        outln!("note: redirected to another origin ({u}); the bearer token was not sent there");
    }
    for h in &resp.www_authenticate {
        outln!("WWW-Authenticate: {h}");
    }
    match &resp.body {
        Body::Weather(w) => {
            outln!(
                "{}: {}",
                sanitize(city, false),
                render::weather_line(w, &resp.units())
            );
        }
        Body::Empty => outln!("(empty body)"),
        _ => outln!("{}", resp.body_text()),
    }
    if resp.truncated {
        outln!("(body cut at {} bytes)", crate::http::MAX_BODY);
    }
}
