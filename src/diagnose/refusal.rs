//! Why did the API refuse? 401 vs 403, RFC 6750 challenges, Microsoft.Identity.Web bodies
//! (IDW10201/IDW10202/IDW10203), fastapi-azure-auth's `{"detail":{"error","message"}}`, and
//! the lecture library's (fastapi-microsoft-identity) catch-all "Unable to find appropriate
//! key" — checked against what the token actually carries.

use super::Advice;
use crate::api::{ApiResponse, Body, Outcome};
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

/// Explain a refused call. `None` when the call succeeded.
pub fn explain(
    resp: &ApiResponse,
    claims: Option<&Claims>,
    expected_roles: &[String],
    scope: &str,
) -> Option<Advice> {
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
    let roles_held = claims.map(|c| c.roles.clone()).unwrap_or_default();
    let held = if roles_held.is_empty() {
        "no roles".to_string()
    } else {
        sanitize(&roles_held.join(", "), false)
    };

    if let Some(c) = claims
        && let Some(scp) = &c.scp
    {
        return Some(Advice {
            summary: format!("the token is a delegated (user) token with scp \"{}\", not an app-only token", sanitize(scp, false)),
            cause: "The API authorises app-only calls by app roles; a user token carries scopes instead.".into(),
            fix: "Use the client-credentials flow (scope \"<App ID URI>/.default\") for a daemon app.".into(),
        });
    }

    match outcome {
        Outcome::Forbidden => {
            if let Some(required) = &says.required_role {
                let has = claims.is_some_and(|c| c.has_role(required));
                if !has {
                    return Some(Advice {
                        summary: format!("the token carries {held}; the API requires {required}"),
                        cause: format!(
                            "The role {required} is not granted to this client (or admin consent is missing).{quote}"
                        ),
                        fix: format!(
                            "Grant the app role {required} to this client and give admin consent ({GRANT_ROLE}), or fix the API's required role if {required} is a mistake; then get a new token."
                        ),
                    });
                }
                return Some(Advice {
                    summary: format!("the token does carry {required}, yet the API answers 403"),
                    cause: format!("The API requires something else than the role it names, or checks roles in another claim.{quote}"),
                    fix: "Check the API's authorisation code and its configured role names (case, spelling).".into(),
                });
            }
            if roles_held.is_empty() {
                return Some(Advice {
                    summary: "the token has no roles claim: no app role is granted to this client"
                        .into(),
                    cause: format!(
                        "No application permission of this API was granted to the client, or admin consent is missing.{quote}"
                    ),
                    fix: format!("{GRANT_ROLE}; then get a new token (r)."),
                });
            }
            let missing: Vec<&String> = expected_roles
                .iter()
                .filter(|r| !claims.is_some_and(|c| c.has_role(r)))
                .collect();
            if !missing.is_empty() {
                let m = missing
                    .iter()
                    .map(|s| sanitize(s, false))
                    .collect::<Vec<_>>()
                    .join(", ");
                return Some(Advice {
                    summary: format!("the token lacks expected role(s) {m}; it carries {held}"),
                    cause: format!("The roles this profile expects are not all granted.{quote}"),
                    fix: format!("{GRANT_ROLE}."),
                });
            }
            Some(Advice {
                summary: format!("the API refused a token carrying {held} (403)"),
                cause: format!("The API requires a role or permission the token does not have.{quote}"),
                fix: "Find the role the API requires (its code or configuration) and grant it to this client.".into(),
            })
        }
        Outcome::Unauthorized => {
            let now = crate::time::now().timestamp();
            if let Some(exp) = claims.and_then(|c| c.exp)
                && exp + 300 < now
            {
                return Some(Advice {
                    summary: "the token has expired".into(),
                    cause: format!("It expired {}.{quote}", crate::time::relative(chrono::DateTime::from_timestamp(exp, 0).unwrap_or_default(), crate::time::now())),
                    fix: "Get a new token (r); tokenscope refreshes before expiry when the identity provider is reachable.".into(),
                });
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
                return Some(Advice {
                    summary: format!("the token is for audience {}, not for {resource}", sanitize(&c.aud.to_string(), false)),
                    cause: format!("The scope names another API's App ID URI.{quote}"),
                    fix: "Set scope to this API's Application ID URI + /.default (App registrations → the API → Expose an API).".into(),
                });
            }
            if says.key_quirk {
                return Some(Advice {
                    summary: "the API could not validate the token (\"Unable to find appropriate key\")".into(),
                    cause: "fastapi-microsoft-identity gives this one message for an unknown signing key, but also for a wrong issuer or audience, an expired token, or a v1 token where it expects v2.".into(),
                    fix: "Compare the token's iss, aud and ver with what the API is configured for (accessTokenAcceptedVersion = 2 in the API's manifest for v2 tokens).".into(),
                });
            }
            let desc = resp
                .bearer_challenge()
                .and_then(|c| c.error_description())
                .map(|d| sanitize(d, false));
            if let (Some(c), Some(d)) = (claims, &desc)
                && (d.contains("issuer") || d.contains("audience"))
                && c.ver.as_deref() == Some("1.0")
            {
                return Some(Advice {
                    summary: "the API rejected a v1 token".into(),
                    cause: format!("The API validates v2 issuers/audiences but got a v1 token ({d})."),
                    fix: "Set accessTokenAcceptedVersion to 2 in the API's app registration manifest, then get a new token.".into(),
                });
            }
            Some(Advice {
                summary: match &desc {
                    Some(d) => format!("the API rejected the token: {d}"),
                    None if resp.www_authenticate.is_empty() => "the API answered 401 without saying why".into(),
                    None => "the API rejected the token (401)".into(),
                },
                cause: format!("401 means the token itself is missing, invalid or expired (not a missing role).{quote}"),
                fix: "Check the API's expected issuer, audience and token version against the token's iss, aud and ver.".into(),
            })
        }
        _ => Some(Advice {
            summary: format!("the API answered HTTP {}", resp.status),
            cause: format!("Not an authorisation problem.{quote}"),
            fix: "Look at the API's logs.".into(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::{classify_body, parse_www_authenticate};
    use serde_json::json;

    fn resp(status: u16, body: &str, www: Option<&str>) -> ApiResponse {
        let www_authenticate: Vec<String> = www.map(|w| vec![w.to_string()]).unwrap_or_default();
        ApiResponse {
            url: url::Url::parse("http://localhost/api/weather/Seattle").unwrap(),
            status,
            latency: std::time::Duration::from_millis(3),
            content_type: None,
            body: classify_body(body.as_bytes(), None),
            body_len: body.len(),
            truncated: false,
            challenges: www_authenticate
                .iter()
                .flat_map(|w| parse_www_authenticate(w))
                .collect(),
            www_authenticate,
            authorization_dropped_at: None,
        }
    }

    fn claims(v: serde_json::Value) -> Claims {
        Claims::from_payload(v.as_object().unwrap())
    }

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
}
