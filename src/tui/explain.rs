//! Why the API refused a call: [`crate::diagnose::refusal::explain`], with a plainer line for
//! HTTP errors that have nothing to do with the token (404 → check `api_url`, …).

use crate::api::{ApiResponse, Outcome};
use crate::diagnose::Advice;
use crate::diagnose::refusal;
use crate::jwt::Claims;
use crate::text::sanitize;

/// What went wrong with a call, why, and what to do; `None` for a success.
pub fn advice(
    resp: &ApiResponse,
    claims: Option<&Claims>,
    expected_roles: &[String],
    scope: &str,
) -> Option<Advice> {
    let mut advice = refusal::explain(resp, claims, expected_roles, scope)?;
    if resp.outcome() == Outcome::HttpError {
        let (summary, fix) = match resp.status {
            400 => (
                "the API refused the request itself (HTTP 400), not the token",
                "Check the city and the query parameters in api_url.",
            ),
            404 => (
                "the API has no such resource (HTTP 404)",
                "Check api_url (the path, and where {city} goes) and the city's spelling.",
            ),
            429 => (
                "the API is throttling calls (HTTP 429)",
                "Wait a moment and call again.",
            ),
            s if s >= 500 => (
                "the API failed (HTTP 5xx); the token was not the problem",
                "Look at the API's logs; call again later.",
            ),
            _ => ("", ""),
        };
        if !summary.is_empty() {
            advice.summary = summary.replace("5xx", &resp.status.to_string());
            advice.fix = fix.to_string();
        }
    }
    advice.summary = sanitize(&advice.summary, false);
    advice.cause = sanitize(&advice.cause, false);
    advice.fix = sanitize(&advice.fix, false);
    Some(advice)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tui::fixtures::{forbidden, response, weather_ok};

    fn claims(roles: &[&str]) -> Claims {
        let v = serde_json::json!({ "aud": "api-guid", "roles": roles });
        Claims::from_payload(v.as_object().unwrap())
    }

    #[test]
    fn a_403_names_the_roles_held_and_required() {
        let c = claims(&["Weather.Read", "Weather.Write"]);
        let a = advice(
            &forbidden("Weather.Admin"),
            Some(&c),
            &["Weather.Read".into()],
            "api://api-guid/.default",
        )
        .unwrap();
        assert_eq!(
            a.summary,
            "the token carries Weather.Read, Weather.Write; the API requires Weather.Admin"
        );
        assert!(a.fix.contains("Grant the app role Weather.Admin"), "{a:?}");
    }

    #[test]
    fn success_needs_no_advice_and_http_errors_name_the_url() {
        assert_eq!(advice(&weather_ok(), None, &[], "x/.default"), None);
        let a = advice(
            &response(404, "text/plain", "nope", &[]),
            None,
            &[],
            "x/.default",
        )
        .unwrap();
        assert!(
            a.summary.contains("404") && a.fix.contains("api_url"),
            "{a:?}"
        );
        let a = advice(
            &response(503, "text/plain", "down", &[]),
            None,
            &[],
            "x/.default",
        )
        .unwrap();
        assert_eq!(
            a.summary,
            "the API failed (HTTP 503); the token was not the problem"
        );
    }
}
