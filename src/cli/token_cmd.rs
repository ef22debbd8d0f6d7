//! `tokenscope token`, and what `call` shares with it: the token manager, acquiring a token
//! with its warnings, and how a token or API failure is reported.
//!
//! Printing and exit codes only; tokens come from `auth`, explanations and the wait from
//! `diagnose`.

use serde_json::{Value, json};

use super::out::{errln, outln};
use super::{EXIT_API, EXIT_TOKEN, EXIT_USAGE, Failure, http_client, render};
use crate::api::ApiError;
use std::sync::Arc;

use crate::auth::{
    CachedToken, ManagerOptions, TokenCache, TokenError, TokenHandle, TokenManager, TokenSource,
};
use crate::config::Profile;
use crate::jwt::{self, TokenFormat};
use crate::problem::Problem;
use crate::text::sanitize;
use crate::time;

/// Failure for a token that could not be acquired.
pub(super) fn token_failure(e: &TokenError) -> Failure {
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
    // What Entra's refusal means comes from the knowledge base (its fallback for an unknown
    // code too); any other failure says what to do in its hint.
    if matches!(e, TokenError::Rejected { .. }) {
        f = f.with_diagnosis(crate::diagnose::aadsts::advise(e));
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

pub(super) fn api_failure(e: &ApiError) -> Failure {
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
pub(super) fn manager(
    profile: &Profile,
    no_cache: bool,
) -> Result<(reqwest::Client, TokenHandle), Failure> {
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
pub(super) async fn acquire(
    profile: &Profile,
    no_cache: bool,
) -> Result<(reqwest::Client, Arc<CachedToken>), Failure> {
    let (client, manager) = self::manager(profile, no_cache)?;
    let result = manager.token().await;
    let snap = manager.snapshot();
    for w in &snap.warnings {
        errln!("warning: {w}");
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
        "clock_skew": crate::diagnose::skew::of_token(tok),
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
        TokenFormat::Opaque { reason } if reason.is_damaged_jwt() => {
            obj.insert("format".into(), json!("damaged_jwt"));
            obj.insert("damage".into(), json!(reason.summary()));
        }
        TokenFormat::Opaque { reason } => {
            obj.insert("format".into(), json!("opaque"));
            obj.insert("opaque_reason".into(), json!(reason.summary()));
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
    if let Some(skew) = crate::diagnose::skew::of_token(&tok) {
        outln!("clock    ⚠ {}", skew.summary);
        outln!("         why: {}", skew.cause);
        outln!("         fix: {}", skew.fix);
    }
    match jwt::inspect(tok.access_token.expose()) {
        TokenFormat::Jwt(j) => {
            for line in render::jwt_lines(&j, &profile.expected_roles) {
                outln!("{line}");
            }
        }
        TokenFormat::Opaque { reason } if reason.is_damaged_jwt() => {
            outln!(
                "format   {} — the identity provider, or something between it and tokenscope, cut or changed it",
                reason.summary()
            );
        }
        TokenFormat::Opaque { reason } => {
            outln!(
                "format   opaque (not a JWT, so there are no claims to show): {}",
                reason.summary()
            );
        }
    }
    outln!("(the access token itself is not shown; add --raw to print it)");
    Ok(())
}

/// `--raw` prints a token only when it looks like one: what the identity provider sent
/// instead (controls, spaces, a whole document) is not written to a terminal or a script.
pub(super) fn not_a_token(tok: &CachedToken) -> Failure {
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
