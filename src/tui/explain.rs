//! One plain sentence on why the API refused a call, from the response and the token.

use crate::api::{ApiResponse, Body, Outcome};
use crate::jwt::Claims;

/// The role named in a Microsoft.Identity.Web refusal:
/// `IDW10203: The "role" claim does not contain role Weather.Read or was not found`.
pub fn idw10203_role(text: &str) -> Option<String> {
    let at = text.find("IDW10203")?;
    let rest = &text[at..];
    let after = rest.split_once("does not contain role ")?.1;
    let role: String = after
        .split_whitespace()
        .next()?
        .trim_matches(|c: char| c == '\'' || c == '"' || c == '.' || c == ',')
        .to_string();
    (!role.is_empty()).then_some(role)
}

/// Why the API said no, in one line; `None` for a success.
pub fn reason(resp: &ApiResponse, claims: Option<&Claims>) -> Option<String> {
    let challenge = resp.bearer_challenge();
    let description = challenge.and_then(|c| c.error_description()).unwrap_or("");
    let body = match &resp.body {
        Body::Text(t) => t.clone(),
        Body::Json(v) => v.to_string(),
        _ => String::new(),
    };
    let role = idw10203_role(&body).or_else(|| idw10203_role(description));
    let carried = claims
        .map(|c| {
            if c.roles.is_empty() {
                "the token has no roles claim".to_string()
            } else {
                format!("the token carries {}", c.roles.join(", "))
            }
        })
        .unwrap_or_default();
    let text = match resp.outcome() {
        Outcome::Success => return None,
        Outcome::Forbidden => match role {
            Some(role) => {
                let has = claims.is_some_and(|c| c.has_role(&role));
                if has {
                    format!(
                        "the API requires role {role} and the token carries it; the API may check a different token or tenant"
                    )
                } else {
                    let mut s = format!("token has no role {role}; the API requires it");
                    if !carried.is_empty() {
                        s.push_str(&format!(" ({carried})"));
                    }
                    s.push_str(&format!(
                        ". Grant {role} to this client and give admin consent, then refresh (r) — or fix the role the API requires"
                    ));
                    s
                }
            }
            None => {
                let mut s = "the token is valid but lacks what the API requires (a role or scope)"
                    .to_string();
                if !carried.is_empty() {
                    s.push_str(&format!("; {carried}"));
                }
                s
            }
        },
        Outcome::Unauthorized => {
            let d = description.to_ascii_lowercase();
            if challenge.is_none() {
                "the API refused the token and sent no Bearer challenge".to_string()
            } else if d.contains("expired") {
                format!("the token has expired ({description}); refresh it (r)")
            } else if d.contains("signature key was not found") || d.contains("signature") {
                format!(
                    "the API cannot verify the token's signature ({description}); the signing key may have rotated — refresh (r)"
                )
            } else if d.contains("audience") {
                format!(
                    "the token is for another API ({description}); check scope ({{App ID URI}}/.default) and the API's accepted token version"
                )
            } else if d.contains("issuer") {
                format!(
                    "the token's issuer is not one the API trusts ({description}); check the tenant and token version"
                )
            } else if description.is_empty() {
                match challenge.and_then(|c| c.error()) {
                    Some(e) => format!("the API refused the token ({e})"),
                    None => "the API wants a bearer token and got none it accepts".to_string(),
                }
            } else {
                format!("the API refused the token: {description}")
            }
        }
        Outcome::HttpError => match resp.status {
            400 => "the API refused the request itself (HTTP 400), not the token".to_string(),
            404 => "the API has no such resource (HTTP 404); check api_url".to_string(),
            429 => "the API is throttling calls (HTTP 429); wait and retry".to_string(),
            s if s >= 500 => format!("the API failed (HTTP {s}); the token was not the problem"),
            s => format!("the API answered HTTP {s}"),
        },
    };
    Some(crate::text::sanitize(&text, false))
}

/// The first clause of a reason, for the one-line activity log.
pub fn short(reason: &str) -> &str {
    let cut = [" (", ". ", "; refresh", " — "]
        .iter()
        .filter_map(|p| reason.find(p))
        .min()
        .unwrap_or(reason.len());
    &reason[..cut]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_is_parsed_from_idw10203() {
        assert_eq!(
            idw10203_role(
                "IDW10203: The \"role\" claim does not contain role Weather.Write or was not found"
            ),
            Some("Weather.Write".into())
        );
        assert_eq!(idw10203_role("IDW10203: something else"), None);
        assert_eq!(idw10203_role("does not contain role X"), None);
    }
}
