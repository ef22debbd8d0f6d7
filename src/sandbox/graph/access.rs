//! Who may read the sandbox's Graph: a bearer token signed by the sandbox (any key it
//! publishes), within its lifetime, for Graph (`aud` `https://graph.microsoft.com` or
//! `00000003-0000-0000-c000-000000000000`), issued by this tenant, carrying an application
//! permission that reads app registrations (`Application.Read.All` or a wider one).
//!
//! Owns that check and its refusals (401 `InvalidAuthenticationToken`, 403
//! `Authorization_RequestDenied`, in Graph's words). Must not read the directory itself.

use axum::http::HeaderMap;
use jsonwebtoken::{Algorithm, Validation};
use serde_json::Value;

use super::wire::GraphError;
use crate::sandbox::model::{APPLICATION_READ_ALL, GRAPH_APP_ID, GRAPH_RESOURCE, TokenVersion};
use crate::sandbox::oauth::bearer_token;
use crate::sandbox::state::Shared;

/// Clock skew Graph tolerates on `exp` and `nbf`.
const SKEW_SECS: i64 = 300;

/// The application permissions that let an app read applications and service principals.
const READ_ROLES: &[&str] = &[
    APPLICATION_READ_ALL,
    "Application.ReadWrite.All",
    "Directory.Read.All",
    "Directory.ReadWrite.All",
];

/// Checks the request's token, in Graph's order: present, a JWT, signed, in time, for
/// Graph, from this tenant — then the permission (a 403, not a 401).
pub(super) fn check(shared: &Shared, headers: &HeaderMap) -> Result<(), GraphError> {
    let token = bearer_token(headers)
        .ok_or_else(|| GraphError::unauthenticated("Access token is empty."))?;
    let malformed =
        || GraphError::unauthenticated("CompactToken parsing failed with error code: 80049217");
    let invalid =
        |why: &str| GraphError::unauthenticated(format!("Access token validation failure. {why}"));
    let header = jsonwebtoken::decode_header(token).map_err(|_| malformed())?;
    if header.alg != Algorithm::RS256 {
        return Err(invalid("Invalid signature."));
    }
    let key = header
        .kid
        .as_deref()
        .and_then(|kid| shared.find_key(kid))
        .ok_or_else(|| invalid("Invalid signature."))?;
    let mut validation = Validation::new(Algorithm::RS256);
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.validate_aud = false;
    validation.required_spec_claims.clear();
    let claims = jsonwebtoken::decode::<Value>(token, &key.decoding, &validation)
        .map_err(|e| match e.kind() {
            jsonwebtoken::errors::ErrorKind::InvalidSignature => invalid("Invalid signature."),
            _ => malformed(),
        })?
        .claims;

    let now = shared.now().timestamp();
    let exp = claims.get("exp").and_then(Value::as_i64).unwrap_or(0);
    if now > exp.saturating_add(SKEW_SECS) {
        return Err(GraphError::unauthenticated(
            "Lifetime validation failed, the token is expired.",
        ));
    }
    if let Some(nbf) = claims.get("nbf").and_then(Value::as_i64)
        && now.saturating_add(SKEW_SECS) < nbf
    {
        return Err(GraphError::unauthenticated(
            "Lifetime validation failed, the token is not yet valid.",
        ));
    }
    if !for_graph(&claims) {
        return Err(invalid("Invalid audience."));
    }
    let tenant = shared.tenant_id();
    let iss = claims.get("iss").and_then(Value::as_str).unwrap_or("");
    if iss != shared.issuer(TokenVersion::V1, &tenant)
        && iss != shared.issuer(TokenVersion::V2, &tenant)
    {
        return Err(invalid("Invalid issuer."));
    }
    let may_read = match claims.get("roles") {
        Some(Value::Array(roles)) => roles
            .iter()
            .filter_map(Value::as_str)
            .any(|r| READ_ROLES.contains(&r)),
        _ => false,
    };
    if !may_read {
        return Err(GraphError::denied());
    }
    Ok(())
}

/// `aud` names Graph: its App ID URI (with or without the trailing slash) or its app id.
fn for_graph(claims: &Value) -> bool {
    let audiences: Vec<&str> = match claims.get("aud") {
        Some(Value::String(s)) => vec![s.as_str()],
        Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    audiences.iter().any(|aud| {
        let uri = aud.strip_suffix('/').unwrap_or(aud);
        uri.eq_ignore_ascii_case(GRAPH_RESOURCE) || aud.eq_ignore_ascii_case(GRAPH_APP_ID)
    })
}

#[cfg(test)]
mod tests {
    use axum::http::{HeaderValue, header};
    use serde_json::json;

    use super::*;

    fn with_token(shared: &Shared, claims: &Value) -> Result<(), GraphError> {
        let token = shared
            .read()
            .current_key
            .sign_with_nonce(claims, "n")
            .expect("sign");
        let mut headers = HeaderMap::new();
        headers.insert(
            header::AUTHORIZATION,
            HeaderValue::from_str(&format!("Bearer {token}")).expect("header"),
        );
        check(shared, &headers)
    }

    #[test]
    fn each_check_answers_as_graph_does() {
        let shared = Shared::for_tests();
        let now = shared.now().timestamp();
        let good = json!({
            "aud": GRAPH_RESOURCE,
            "iss": shared.issuer(TokenVersion::V1, &shared.tenant_id()),
            "iat": now - 300, "nbf": now - 300, "exp": now + 3600,
            "roles": [APPLICATION_READ_ALL],
        });
        assert_eq!(with_token(&shared, &good), Ok(()));
        let with = |key: &str, value: Value| {
            let mut c = good.clone();
            c[key] = value;
            c
        };
        assert_eq!(
            with_token(&shared, &with("aud", json!(GRAPH_APP_ID))),
            Ok(())
        );
        let message = |r: Result<(), GraphError>| r.err().map(|e| (e.status.as_u16(), e.message));
        assert_eq!(
            message(with_token(&shared, &with("aud", json!("api://weather")))),
            Some((
                401,
                "Access token validation failure. Invalid audience.".into()
            ))
        );
        assert_eq!(
            message(with_token(&shared, &with("exp", json!(now - 3600)))),
            Some((
                401,
                "Lifetime validation failed, the token is expired.".into()
            ))
        );
        assert_eq!(
            message(with_token(
                &shared,
                &with("iss", json!("https://sts.windows.net/x/"))
            )),
            Some((
                401,
                "Access token validation failure. Invalid issuer.".into()
            ))
        );
        // Roles compare exactly, as Graph's do.
        assert_eq!(
            message(with_token(
                &shared,
                &with("roles", json!(["application.read.all"]))
            )),
            Some((
                403,
                "Insufficient privileges to complete the operation.".into()
            ))
        );
        assert_eq!(
            message(check(&shared, &HeaderMap::new())),
            Some((401, "Access token is empty.".into()))
        );
        let mut headers = HeaderMap::new();
        headers.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Bearer abc"),
        );
        assert_eq!(
            message(check(&shared, &headers)),
            Some((
                401,
                "CompactToken parsing failed with error code: 80049217".into()
            ))
        );
    }
}
