//! Why did the API refuse? 401 vs 403, RFC 6750 challenges, Microsoft.Identity.Web bodies
//! (IDW10201/IDW10202/IDW10203), fastapi-azure-auth's `{"detail":{"error","message"}}`, and
//! the lecture library's (fastapi-microsoft-identity) catch-all "Unable to find appropriate
//! key" — checked against what the token actually carries; and for statuses that are not
//! about the token (400, 404, 429, 5xx), what to look at instead.
//!
//! With the app-role set-up at hand ([`explain_with_setup`]), a 403 for a role the token
//! lacks is explained by the chain `diagnose::setup` draws (configured but never consented,
//! not defined on the API, User members only, a token older than the grant, …) instead of a
//! guess.
//!
//! A refusal made with a token served from the persistent cache says so, with the token's
//! age, and names how the front end showing it gets a fresh one ([`TokenUse`]): a role
//! granted or a setting changed after the token was cached is not in it, the most common
//! app-role mistake there is.
//!
//! One explanation for `call`, `doctor` and the dashboard. Pure: it reads a response,
//! claims, where the token came from and (optionally) the set-up, and returns a [`Refusal`]
//! for the front ends to render.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::Advice;
use super::roles::{self, RoleCheck};
use super::setup::{self, LinkKind, Required, SetupInput};
use crate::api::{ApiResponse, Body, Outcome};
use crate::graph::SetupFacts;
use crate::jwt::Claims;
use crate::text::sanitize;

const GRANT_ROLE: &str = "App registrations → your client app → API permissions → Add a permission → My APIs → the API → Application permissions: tick the role, then 'Grant admin consent'";

/// What the API said, reduced to the parts that matter.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ApiSays {
    /// The role the API says it requires (IDW10203, fastapi-azure-auth), if it names one.
    pub required_role: Option<String>,
    /// A short quote of the API's own message.
    pub message: Option<String>,
    /// RFC 6750 `error` from `WWW-Authenticate`.
    pub challenge_error: Option<String>,
    /// The lecture library's catch-all 401.
    pub key_quirk: bool,
}

/// Pull the API's reason out of the response.
pub fn read_api(resp: &ApiResponse) -> ApiSays {
    let mut says = ApiSays {
        challenge_error: resp
            .bearer_challenge()
            .and_then(|c| c.error())
            .map(str::to_string),
        ..Default::default()
    };
    let text = match &resp.body {
        Body::Text(t) => t.clone(),
        Body::Json(v) => {
            // fastapi-azure-auth: {"detail": {"error": "...", "message": "..."}}; FastAPI: {"detail": "..."}
            let detail = v.get("detail");
            match detail {
                Some(serde_json::Value::Object(d)) => d
                    .get("message")
                    .or_else(|| d.get("error"))
                    .and_then(|m| m.as_str())
                    .unwrap_or_default()
                    .to_string(),
                Some(serde_json::Value::String(s)) => s.clone(),
                _ => v
                    .get("message")
                    .or_else(|| v.get("error"))
                    .and_then(|m| m.as_str())
                    .unwrap_or_default()
                    .to_string(),
            }
        }
        _ => String::new(),
    };
    let text = text.trim();
    if !text.is_empty() {
        let first = text.lines().next().unwrap_or_default();
        says.message = Some(sanitize(
            &first.chars().take(300).collect::<String>(),
            false,
        ));
    }
    says.required_role = required_role_in(text).or_else(|| {
        resp.bearer_challenge()
            .and_then(|c| c.error_description())
            .and_then(required_role_in)
    });
    says.key_quirk = text.contains("Unable to find appropriate key");
    says
}

/// "IDW10203: The "role" claim does not contain role Weather.Read or was not found" → Weather.Read;
/// fastapi-azure-auth "Missing required role Weather.Read" → Weather.Read.
fn required_role_in(text: &str) -> Option<String> {
    for marker in [
        "does not contain role ",
        "Missing required role ",
        "requires role ",
        "required role: ",
    ] {
        if let Some(i) = text.find(marker) {
            let rest = &text[i + marker.len()..];
            let role: String = rest
                .trim_start_matches(['\'', '"'])
                .chars()
                .take_while(|c| !c.is_whitespace() && !matches!(c, '\'' | '"' | ',' | ';'))
                .collect();
            let role = role.trim_end_matches('.').to_string();
            if !role.is_empty() {
                return Some(sanitize(&role, false));
            }
        }
    }
    None
}

/// The resource of a `…/.default` scope.
fn resource_of(scope: &str) -> &str {
    scope
        .trim()
        .strip_suffix("/.default")
        .unwrap_or(scope.trim())
}

/// A refused call explained: what happened, why, and what to do (as [`Advice`] says them,
/// sanitised), and the role the API named as required in a 403, for the front ends that
/// draw it (the compare view marks it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Refusal {
    pub summary: String,
    pub cause: String,
    pub fix: String,
    /// The role a 403 named (IDW10203, fastapi-azure-auth), sanitised; `None` for any other
    /// answer. Not part of `call --json`'s documented `diagnosis`.
    #[serde(skip)]
    pub required_role: Option<String>,
    /// Set when the token came from the persistent cache (`call --json`'s
    /// `diagnosis.cached_token`); the cause and the fix say it in words too.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cached_token: Option<CachedNote>,
}

/// A refused call's token was served from the persistent cache.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CachedNote {
    /// When the token was put in the cache (RFC 3339).
    pub cached_at: DateTime<Utc>,
    /// How long before the refusal that was, in whole seconds (never negative).
    pub age_seconds: i64,
    /// What gets a fresh token: a command line, or the dashboard's key.
    pub fresh: String,
}

/// The token a refused call was sent with, as far as the explanation needs it.
#[derive(Debug, Clone, Copy)]
pub struct TokenUse<'a> {
    /// When it went into the persistent cache, for a token served from there; `None` for a
    /// token fresh from the token endpoint.
    pub cached_at: Option<DateTime<Utc>>,
    /// How the front end that shows the explanation gets a fresh token.
    pub renew: Renew<'a>,
    /// The time the answer is judged at (the token's age is counted to it).
    pub now: DateTime<Utc>,
}

impl TokenUse<'_> {
    /// A token of unknown origin, renewed by unnamed means (library callers, tests).
    pub fn unknown() -> TokenUse<'static> {
        TokenUse {
            cached_at: None,
            renew: Renew::Unknown,
            now: crate::time::now(),
        }
    }
}

/// How a fresh token is had where the explanation is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Renew<'a> {
    /// A key of the dashboard (`r`).
    Key(&'a str),
    /// Command lines: `fresh` repeats the call with a new token (`… --no-cache`), `clear`
    /// empties the profile's cache entry.
    Commands { fresh: &'a str, clear: &'a str },
    /// Not known: "get a new token".
    Unknown,
}

impl Renew<'_> {
    /// "get a new token (press r)", "get a new token (`tokenscope … --no-cache`)", "get a
    /// new token".
    fn get_new(&self) -> String {
        match self {
            Renew::Key(k) => format!("get a new token (press {k})"),
            Renew::Commands { fresh, .. } => format!("get a new token (`{fresh}`)"),
            Renew::Unknown => "get a new token".into(),
        }
    }
    /// For [`CachedNote::fresh`]: the command, or "press r".
    fn fresh(&self) -> String {
        match self {
            Renew::Key(k) => format!("press {k}"),
            Renew::Commands { fresh, .. } => (*fresh).to_string(),
            Renew::Unknown => "get a new token".into(),
        }
    }
    /// The sentence a cached token's fix ends with.
    fn cached_fix(&self) -> String {
        match self {
            Renew::Key(k) => format!(
                "This token came from the cache: press {k} for a fresh one, then call again."
            ),
            Renew::Commands { fresh, clear } => format!(
                "This token came from the cache: `{fresh}` calls again with a fresh one (or `{clear}` empties the cache)."
            ),
            Renew::Unknown => {
                "This token came from the cache: get a fresh one and call again.".into()
            }
        }
    }
}

/// What every explanation reads: the answer, the token's claims and roles, what the API said.
struct Seen<'a> {
    resp: &'a ApiResponse,
    claims: Option<&'a Claims>,
    roles: RoleCheck,
    says: ApiSays,
    /// ` The API said: "…".`, or nothing.
    quote: String,
    /// The app-role set-up, when the caller read it.
    setup: Option<&'a SetupFacts>,
    scope: &'a str,
    token: TokenUse<'a>,
}

impl Seen<'_> {
    /// The roles the token carries, for a sentence: "Weather.Read, Weather.Write" or "no roles".
    fn held(&self) -> String {
        if self.roles.held.is_empty() {
            "no roles".to_string()
        } else {
            sanitize(&self.roles.held.join(", "), false)
        }
    }
    /// "get a new token", as the front end says it.
    fn get_new(&self) -> String {
        self.token.renew.get_new()
    }
}

fn advice(summary: impl Into<String>, cause: impl Into<String>, fix: impl Into<String>) -> Advice {
    Advice {
        summary: summary.into(),
        cause: cause.into(),
        fix: fix.into(),
    }
}

/// Explain a refused call, made with a token of unknown origin. `None` when the call
/// succeeded.
pub fn explain(
    resp: &ApiResponse,
    claims: Option<&Claims>,
    expected_roles: &[String],
    scope: &str,
) -> Option<Refusal> {
    explain_with_setup(
        resp,
        claims,
        expected_roles,
        scope,
        None,
        TokenUse::unknown(),
    )
}

/// [`explain`], with the app-role set-up when the caller has read it (`call` after a 403,
/// `doctor`, the dashboard): a missing role is then explained by the first broken link of its
/// chain, with that link's fix. `token` says where the token came from: a refusal made with
/// a cached one says so, with its age, and how to get a fresh one.
pub fn explain_with_setup(
    resp: &ApiResponse,
    claims: Option<&Claims>,
    expected_roles: &[String],
    scope: &str,
    setup: Option<&SetupFacts>,
    token: TokenUse<'_>,
) -> Option<Refusal> {
    let outcome = resp.outcome();
    if outcome == Outcome::Success {
        return None;
    }
    let says = read_api(resp);
    let quote = says
        .message
        .as_ref()
        .map(|m| format!(" The API said: \"{m}\"."))
        .unwrap_or_default();
    let seen = Seen {
        resp,
        claims,
        roles: roles::check(claims, expected_roles),
        says,
        quote,
        setup,
        scope,
        token,
    };
    let mut a = match delegated(&seen) {
        Some(a) => a,
        None => match outcome {
            Outcome::Forbidden => forbidden(&seen),
            Outcome::Unauthorized => unauthorized(&seen),
            Outcome::Success | Outcome::HttpError => http_error(&seen),
        },
    };
    let refused = matches!(outcome, Outcome::Forbidden | Outcome::Unauthorized);
    let cached_token = token
        .cached_at
        .filter(|_| refused)
        .map(|at| cached_note(&mut a, at, &token));
    Some(Refusal {
        summary: sanitize(&a.summary, false),
        cause: sanitize(&a.cause, false),
        fix: sanitize(&a.fix, false),
        required_role: seen
            .says
            .required_role
            .filter(|_| outcome == Outcome::Forbidden),
        cached_token,
    })
}

/// A refusal made with a cached token: the cause says where the token came from and how
/// old it is, the fix ends with how to get a fresh one (unless it already names it).
fn cached_note(a: &mut Advice, cached_at: DateTime<Utc>, token: &TokenUse) -> CachedNote {
    let age = (token.now - cached_at).num_seconds().max(0);
    let local = cached_at.with_timezone(&chrono::Local);
    a.cause.push_str(&format!(
        " This token came from tokenscope's token cache, cached {} ago ({}): a role granted or \
         a setting changed since then is not in it.",
        crate::time::human_secs(age),
        local.format("%Y-%m-%d %H:%M:%S")
    ));
    let fresh = token.renew.fresh();
    if !a.fix.contains(&fresh) {
        a.fix = format!("{} {}", a.fix.trim_end(), token.renew.cached_fix());
    }
    CachedNote {
        cached_at,
        age_seconds: age,
        fresh,
    }
}

/// A user token where an app-only one belongs: whatever the status, that is the cause.
fn delegated(seen: &Seen) -> Option<Advice> {
    let scp = seen.claims?.scp.as_ref()?;
    Some(advice(
        format!(
            "the token is a delegated (user) token with scp \"{}\", not an app-only token",
            sanitize(scp, false)
        ),
        "The API authorises app-only calls by app roles; a user token carries scopes instead.",
        "Use the client-credentials flow (scope \"<App ID URI>/.default\") for a daemon app.",
    ))
}

/// 403: a role the API names, no roles at all, an expected role missing, or something else.
fn forbidden(seen: &Seen) -> Advice {
    let (held, quote) = (seen.held(), &seen.quote);
    if let Some(required) = &seen.says.required_role {
        if !seen.roles.grants(required) {
            if let Some(a) = chain_says(seen, required, Required::from_403(required)) {
                return a;
            }
            return advice(
                format!("the token carries {held}; the API requires {required}"),
                format!(
                    "The role {required} is not granted to this client (or admin consent is missing).{quote}"
                ),
                format!(
                    "Grant the app role {required} to this client and give admin consent ({GRANT_ROLE}), or fix the API's required role if {required} is a mistake; then {}.",
                    seen.get_new()
                ),
            );
        }
        return advice(
            format!("the token does carry {required}, yet the API answers 403"),
            format!(
                "The API requires something else than the role it names, or checks roles in another claim.{quote}"
            ),
            "Check the API's authorisation code and its configured role names (case, spelling).",
        );
    }
    if let Some(missing) = seen.roles.missing.first()
        && let Some(a) = chain_says(
            seen,
            missing,
            Required::expected(std::slice::from_ref(missing)),
        )
    {
        return a;
    }
    if seen.roles.no_roles_claim {
        return advice(
            "the token has no roles claim: no app role is granted to this client",
            format!(
                "No application permission of this API was granted to the client, or admin consent is missing.{quote}"
            ),
            format!("{GRANT_ROLE}; then {}.", seen.get_new()),
        );
    }
    if !seen.roles.missing.is_empty() {
        let m = sanitize(&seen.roles.missing.join(", "), false);
        return advice(
            format!("the token lacks expected role(s) {m}; it carries {held}"),
            format!("The roles this profile expects are not all granted.{quote}"),
            format!("{GRANT_ROLE}."),
        );
    }
    advice(
        format!("the API refused a token carrying {held} (403)"),
        format!("The API requires a role or permission the token does not have.{quote}"),
        "Find the role the API requires (its code or configuration) and grant it to this client.",
    )
}

/// What the set-up says about `role`, the token lacking it: the first broken link of its
/// chain, as the cause, and that link's fix. `None` without a set-up, or when the chain
/// breaks nowhere before the API's own requirement.
fn chain_says(seen: &Seen, role: &str, required: Required) -> Option<Advice> {
    let facts = seen.setup?;
    let input = SetupInput {
        facts,
        claims: seen.claims,
        token_issued: None,
        required,
        scope: seen.scope,
        client_id: seen.claims.and_then(Claims::client_id).unwrap_or_default(),
        presented_thumbprint: None,
        federated: None,
        now: seen.token.now,
    };
    let report = setup::analyse(&input);
    let link = report.chain(role)?.first_broken()?;
    if link.kind == LinkKind::Required {
        return None;
    }
    let summary = if seen.roles.missing.iter().any(|m| roles::same_role(m, role))
        && seen.says.required_role.is_none()
    {
        format!(
            "the token lacks expected role(s) {}; it carries {}",
            sanitize(&seen.roles.missing.join(", "), false),
            seen.held()
        )
    } else {
        format!(
            "the token carries {}; the API requires {}",
            seen.held(),
            sanitize(role, false)
        )
    };
    let because = link
        .cause
        .as_ref()
        .map(|c| format!(" {c}"))
        .unwrap_or_default();
    let fix = match &link.fix {
        Some(f) => format!(
            "{}{}.",
            upper_first(f),
            if f.contains("new token") {
                String::new()
            } else {
                format!("; then {}", seen.get_new())
            }
        ),
        None => format!("{GRANT_ROLE}; then {}.", seen.get_new()),
    };
    Some(advice(
        summary,
        format!(
            "{} (according to the app-role set-up).{because}{}",
            upper_first(&link.summary),
            seen.quote
        ),
        fix,
    ))
}

fn upper_first(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// 401: expired, for another audience, the lecture library's catch-all, a v1 token where v2
/// is expected, or the API's own words.
fn unauthorized(seen: &Seen) -> Advice {
    let (claims, quote, scope) = (seen.claims, &seen.quote, seen.scope);
    let now = seen.token.now;
    if let Some(exp) = claims.and_then(|c| c.exp)
        && exp + 300 < now.timestamp()
    {
        let at = chrono::DateTime::from_timestamp(exp, 0).unwrap_or_default();
        return advice(
            "the token has expired",
            format!("It expired {}.{quote}", crate::time::relative(at, now)),
            format!(
                "{}; tokenscope refreshes before expiry when the identity provider is reachable.",
                upper_first(&seen.get_new())
            ),
        );
    }
    let resource = resource_of(scope);
    if let Some(c) = claims
        && !c.aud.is_empty()
        && !c
            .aud
            .0
            .iter()
            .any(|a| a == resource || resource.ends_with(a.as_str()))
    {
        return advice(
            format!(
                "the token is for audience {}, not for {resource}",
                sanitize(&c.aud.to_string(), false)
            ),
            format!("The scope names another API's App ID URI.{quote}"),
            "Set scope to this API's Application ID URI + /.default (App registrations → the API → Expose an API).",
        );
    }
    if seen.says.key_quirk {
        return advice(
            "the API could not validate the token (\"Unable to find appropriate key\")",
            "fastapi-microsoft-identity gives this one message for an unknown signing key, but also for a wrong issuer or audience, an expired token, or a v1 token where it expects v2.",
            "Compare the token's iss, aud and ver with what the API is configured for (accessTokenAcceptedVersion = 2 in the API's manifest for v2 tokens).",
        );
    }
    let desc = seen
        .resp
        .bearer_challenge()
        .and_then(|c| c.error_description())
        .map(|d| sanitize(d, false));
    if let (Some(c), Some(d)) = (claims, &desc)
        && (d.contains("issuer") || d.contains("audience"))
        && c.ver.as_deref() == Some("1.0")
    {
        return advice(
            "the API rejected a v1 token",
            format!("The API validates v2 issuers/audiences but got a v1 token ({d})."),
            format!(
                "Set accessTokenAcceptedVersion to 2 in the API's app registration manifest, then {}.",
                seen.get_new()
            ),
        );
    }
    advice(
        match &desc {
            Some(d) => format!("the API rejected the token: {d}"),
            None if seen.resp.www_authenticate.is_empty() => {
                "the API answered 401 without saying why".into()
            }
            None => "the API rejected the token (401)".into(),
        },
        format!(
            "401 means the token itself is missing, invalid or expired (not a missing role).{quote}"
        ),
        "Check the API's expected issuer, audience and token version against the token's iss, aud and ver.",
    )
}

/// Any other status: not the token's fault; a plainer line for the common ones (404 → check
/// `api_url`, …).
fn http_error(seen: &Seen) -> Advice {
    let status = seen.resp.status;
    let cause = format!("Not an authorisation problem.{}", seen.quote);
    let (summary, fix) = match status {
        400 => (
            "the API refused the request itself (HTTP 400), not the token".to_string(),
            "Check the city and the query parameters in api_url.",
        ),
        404 => (
            "the API has no such resource (HTTP 404)".to_string(),
            "Check api_url (the path, and where {city} goes) and the city's spelling.",
        ),
        429 => (
            "the API is throttling calls (HTTP 429)".to_string(),
            "Wait a moment and call again.",
        ),
        500.. => (
            format!("the API failed (HTTP {status}); the token was not the problem"),
            "Look at the API's logs; call again later.",
        ),
        _ => (
            format!("the API answered HTTP {status}"),
            "Look at the API's logs.",
        ),
    };
    advice(summary, cause, fix)
}

#[cfg(test)]
mod tests;
