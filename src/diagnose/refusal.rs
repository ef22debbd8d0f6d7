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
//! One explanation for `call`, `doctor` and the dashboard. Pure: it reads a response,
//! claims and (optionally) the set-up, and returns a [`Refusal`] for the front ends to
//! render.

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
}

fn advice(summary: impl Into<String>, cause: impl Into<String>, fix: impl Into<String>) -> Advice {
    Advice {
        summary: summary.into(),
        cause: cause.into(),
        fix: fix.into(),
    }
}

/// Explain a refused call. `None` when the call succeeded.
pub fn explain(
    resp: &ApiResponse,
    claims: Option<&Claims>,
    expected_roles: &[String],
    scope: &str,
) -> Option<Refusal> {
    explain_with_setup(resp, claims, expected_roles, scope, None)
}

/// [`explain`], with the app-role set-up when the caller has read it (`call` after a 403,
/// `doctor`, the dashboard): a missing role is then explained by the first broken link of its
/// chain, with that link's fix.
pub fn explain_with_setup(
    resp: &ApiResponse,
    claims: Option<&Claims>,
    expected_roles: &[String],
    scope: &str,
    setup: Option<&SetupFacts>,
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
    };
    let a = match delegated(&seen) {
        Some(a) => a,
        None => match outcome {
            Outcome::Forbidden => forbidden(&seen),
            Outcome::Unauthorized => unauthorized(&seen),
            Outcome::Success | Outcome::HttpError => http_error(&seen),
        },
    };
    Some(Refusal {
        summary: sanitize(&a.summary, false),
        cause: sanitize(&a.cause, false),
        fix: sanitize(&a.fix, false),
        required_role: seen
            .says
            .required_role
            .filter(|_| outcome == Outcome::Forbidden),
    })
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
                    "Grant the app role {required} to this client and give admin consent ({GRANT_ROLE}), or fix the API's required role if {required} is a mistake; then get a new token."
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
            format!("{GRANT_ROLE}; then get a new token (r)."),
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
        now: crate::time::now(),
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
                ""
            } else {
                "; then get a new token"
            }
        ),
        None => format!("{GRANT_ROLE}; then get a new token."),
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
    let now = crate::time::now();
    if let Some(exp) = claims.and_then(|c| c.exp)
        && exp + 300 < now.timestamp()
    {
        let at = chrono::DateTime::from_timestamp(exp, 0).unwrap_or_default();
        return advice(
            "the token has expired",
            format!("It expired {}.{quote}", crate::time::relative(at, now)),
            "Get a new token (r); tokenscope refreshes before expiry when the identity provider is reachable.",
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
            "Set accessTokenAcceptedVersion to 2 in the API's app registration manifest, then get a new token.",
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
mod tests {
    use super::*;
    use crate::diagnose::testing::{claims, response as resp};
    use serde_json::json;

    const SCOPE: &str = "api://api-guid/.default";

    #[test]
    fn idw10203_names_both_roles() {
        let r = resp(
            403,
            "IDW10203: The \"role\" claim does not contain role Weather.Admin or was not found",
            Some("Bearer error=\"insufficient_scope\""),
        );
        let c = claims(json!({"aud": "api-guid", "roles": ["Weather.Read"]}));
        let a = explain(&r, Some(&c), &[], SCOPE).unwrap();
        assert_eq!(
            a.summary,
            "the token carries Weather.Read; the API requires Weather.Admin"
        );
        assert!(
            a.fix.contains("Grant the app role Weather.Admin") && a.fix.contains("admin consent")
        );
    }

    #[test]
    fn no_roles_at_all() {
        let r = resp(403, "Forbidden", None);
        let c = claims(json!({"aud": "api-guid"}));
        let a = explain(&r, Some(&c), &["Weather.Read".into()], SCOPE).unwrap();
        assert!(a.summary.contains("no roles claim"), "{a:?}");
        assert!(a.fix.contains("Grant admin consent"));
    }

    #[test]
    fn fastapi_azure_auth_body() {
        let r = resp(
            403,
            r#"{"detail":{"error":"Forbidden","message":"Missing required role Weather.Write"}}"#,
            None,
        );
        let c = claims(json!({"roles": ["Weather.Read"]}));
        let says = read_api(&r);
        assert_eq!(says.required_role.as_deref(), Some("Weather.Write"));
        let a = explain(&r, Some(&c), &[], SCOPE).unwrap();
        assert!(a.summary.ends_with("requires Weather.Write"));
    }

    #[test]
    fn role_present_but_still_403() {
        let r = resp(
            403,
            "IDW10203: The \"role\" claim does not contain role weather.read or was not found",
            None,
        );
        let c = claims(json!({"roles": ["Weather.Read"]}));
        let a = explain(&r, Some(&c), &[], SCOPE).unwrap();
        assert!(a.summary.contains("does carry"), "{a:?}");
    }

    #[test]
    fn delegated_token() {
        let r = resp(403, "", None);
        let c = claims(json!({"scp": "User.Read"}));
        assert!(
            explain(&r, Some(&c), &[], SCOPE)
                .unwrap()
                .summary
                .contains("delegated")
        );
    }

    #[test]
    fn unauthorized_cases() {
        let expired = claims(json!({"aud": "api-guid", "exp": 1000}));
        let r = resp(
            401,
            "",
            Some("Bearer error=\"invalid_token\", error_description=\"The token expired\""),
        );
        assert_eq!(
            explain(&r, Some(&expired), &[], SCOPE).unwrap().summary,
            "the token has expired"
        );

        let future = crate::time::now().timestamp() + 3000;
        let other_api = claims(json!({"aud": "other-guid", "exp": future}));
        let a = explain(&r, Some(&other_api), &[], SCOPE).unwrap();
        assert!(a.summary.contains("not for api://api-guid"), "{a:?}");

        let ok_aud = claims(json!({"aud": "api-guid", "exp": future, "ver": "1.0"}));
        let quirk = resp(401, r#"{"detail":"Unable to find appropriate key"}"#, None);
        assert!(
            explain(&quirk, Some(&ok_aud), &[], SCOPE)
                .unwrap()
                .cause
                .contains("fastapi-microsoft-identity")
        );

        let v1 = resp(
            401,
            "",
            Some(
                "Bearer error=\"invalid_token\", error_description=\"The issuer 'https://sts.windows.net/t/' is invalid\"",
            ),
        );
        assert!(
            explain(&v1, Some(&ok_aud), &[], SCOPE)
                .unwrap()
                .fix
                .contains("accessTokenAcceptedVersion")
        );
    }

    #[test]
    fn success_needs_no_explanation() {
        assert!(explain(&resp(200, "{\"temp\":1}", None), None, &[], SCOPE).is_none());
    }

    #[test]
    fn a_403_names_the_roles_held_and_required_and_keeps_the_required_one() {
        let r = resp(
            403,
            "IDW10203: The \"role\" claim does not contain role Weather.Admin or was not found",
            None,
        );
        let c = claims(json!({"aud": "api-guid", "roles": ["Weather.Read", "Weather.Write"]}));
        let a = explain(&r, Some(&c), &["Weather.Read".into()], SCOPE).unwrap();
        assert_eq!(
            a.summary,
            "the token carries Weather.Read, Weather.Write; the API requires Weather.Admin"
        );
        assert_eq!(a.required_role.as_deref(), Some("Weather.Admin"));
        assert!(a.fix.contains("Grant the app role Weather.Admin"), "{a:?}");
        // Only a 403 names a required role; the same words in a 401 do not.
        let r = resp(401, "does not contain role Weather.Admin", None);
        assert_eq!(
            explain(&r, Some(&c), &[], SCOPE).unwrap().required_role,
            None
        );
    }

    #[test]
    fn statuses_that_are_not_about_the_token_say_what_to_check() {
        let c = claims(json!({"aud": "api-guid", "roles": ["Weather.Read"]}));
        let say = |status: u16, body: &str| {
            explain(&resp(status, body, None), Some(&c), &[], SCOPE).unwrap()
        };
        let a = say(404, "nope");
        assert_eq!(a.summary, "the API has no such resource (HTTP 404)");
        assert!(a.fix.contains("api_url"), "{a:?}");
        assert_eq!(
            a.cause,
            "Not an authorisation problem. The API said: \"nope\"."
        );
        assert!(say(400, "").summary.contains("HTTP 400"));
        assert_eq!(say(429, "").fix, "Wait a moment and call again.");
        assert_eq!(
            say(503, "down").summary,
            "the API failed (HTTP 503); the token was not the problem"
        );
        let other = say(418, "teapot");
        assert_eq!(other.summary, "the API answered HTTP 418");
        assert_eq!(other.fix, "Look at the API's logs.");
    }

    #[test]
    fn with_the_set_up_a_403_says_what_the_chain_says() {
        use crate::diagnose::testing::setup::*;
        let r = resp(
            403,
            "IDW10203: The \"role\" claim does not contain role Weather.Admin or was not found",
            None,
        );
        let c = claims(
            json!({"aud": API_ID, "roles": ["Weather.Read", "Weather.Write"],
                              "iat": iat().timestamp(), "azp": CLIENT_ID}),
        );
        let explain =
            |facts: &SetupFacts| explain_with_setup(&r, Some(&c), &[], SCOPE, Some(facts)).unwrap();
        // Configured, never consented.
        let mut facts = healthy();
        facts.client_app.as_mut().unwrap().required_resource_access[0]
            .access
            .push(access(ADMIN, "Role"));
        let a = explain(&facts);
        assert_eq!(
            a.summary,
            "the token carries Weather.Read, Weather.Write; the API requires Weather.Admin"
        );
        assert!(
            a.cause.starts_with(
                "Weather.Admin is configured on the client but admin consent was never granted \
                 (according to the app-role set-up)."
            ) && a.cause.ends_with("The API said: \"IDW10203: The \"role\" claim does not contain role Weather.Admin or was not found\"."),
            "{a:?}"
        );
        assert!(!a.cause.contains("(or admin consent is missing)"), "{a:?}");
        assert!(
            a.fix.contains("az ad app permission admin-consent"),
            "{a:?}"
        );
        assert_eq!(a.required_role.as_deref(), Some("Weather.Admin"));
        // Granted after the token was issued.
        facts
            .assignments
            .push(grant(ADMIN, iat() + chrono::TimeDelta::seconds(30)));
        let a = explain(&facts);
        assert!(
            a.cause.starts_with("This token predates the grant ("),
            "{a:?}"
        );
        assert!(a.cause.contains(") — refresh (according to"), "{a:?}");
        assert!(a.fix.contains("--wait-for-role Weather.Admin"), "{a:?}");
        // Not defined on the API, or for users only.
        let mut facts = healthy();
        facts.api_app.as_mut().unwrap().app_roles.pop();
        facts.api_sp.as_mut().unwrap().app_roles.pop();
        assert!(
            explain(&facts)
                .cause
                .starts_with("Weather.Admin is not defined on the API")
        );
        let mut facts = healthy();
        facts.api_app.as_mut().unwrap().app_roles[2].allowed_member_types = vec!["User".into()];
        assert!(
            explain(&facts)
                .cause
                .starts_with("Weather.Admin allows only User members")
        );
        // A missing expected role, no role named by the API.
        let plain = resp(403, "Forbidden", None);
        let none = claims(json!({"aud": API_ID}));
        let a = explain_with_setup(
            &plain,
            Some(&none),
            &["Weather.Admin".into()],
            SCOPE,
            Some(&facts),
        )
        .unwrap();
        assert_eq!(
            a.summary,
            "the token lacks expected role(s) Weather.Admin; it carries no roles"
        );
        assert!(
            a.cause
                .starts_with("Weather.Admin allows only User members"),
            "{a:?}"
        );
        // Without the set-up: the guess, as before.
        let a = explain(&healthy());
        assert!(
            a.cause
                .starts_with("Weather.Admin is not configured on the client"),
            "{a:?}"
        );
        let a = explain_with_setup(&r, Some(&c), &[], SCOPE, None).unwrap();
        assert!(a.cause.contains("(or admin consent is missing)"), "{a:?}");
    }

    #[test]
    fn what_the_api_says_is_shown_inert() {
        let r = resp(404, "gone\u{1b}[2J", None);
        let a = explain(&r, None, &[], SCOPE).unwrap();
        assert!(!a.cause.contains('\u{1b}'), "{a:?}");
        assert!(a.cause.contains("gone\\u{1b}[2J"), "{a:?}");
    }
}
