//! The token endpoints (`/{tenant}/oauth2/v2.0/token` and v1's `/{tenant}/oauth2/token`):
//! the client-credentials grant as Entra runs it — tenant, grant type, client, its
//! credential (secret, certificate assertion or federated token), resource (the weather API
//! or Microsoft Graph), roles — failing with Entra's AADSTS codes and wording.
//!
//! Owns the decision whether a request gets a token. Must not build the token itself
//! (`mint` does) or check assertions itself (`assertion` does).

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, Utc};
use rand::Rng as _;
use serde_json::Value;

use super::mint::{Flavor, Grant, mint};
use super::tenant::{TenantRef, resolve_tenant, tenant_error};
use crate::sandbox::assertion::{self, ClientAuth, ExternalKeys};
use crate::sandbox::federation;
use crate::sandbox::model::{
    ClientApp, GRAPH_APP_ID, GRAPH_RESOURCE, Resource, TenantModel, TokenVersion,
};
use crate::sandbox::oauth::{
    AadError, correlation_id, is_form, json_body, parse_form, sts_headers,
};
use crate::sandbox::state::{AppState, Shared};
use crate::sandbox::stats::Endpoint;

pub(crate) async fn token_v2(
    State(shared): State<AppState>,
    Path(tenant): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    token_request(&shared, &tenant, &headers, &body, Flavor::V2).await
}

pub(crate) async fn token_v1(
    State(shared): State<AppState>,
    Path(tenant): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    token_request(&shared, &tenant, &headers, &body, Flavor::V1).await
}

/// Either token endpoint: counts the request, fetches an external federation issuer's keys
/// when the assertion names one (before any tenant lock is taken), then answers.
async fn token_request(
    shared: &Shared,
    segment: &str,
    headers: &HeaderMap,
    body: &Bytes,
    flavor: Flavor,
) -> Response {
    shared.count(Endpoint::Token);
    let external = federation::external_keys(shared, headers, body).await;
    let request = TokenRequest {
        segment,
        headers,
        params: if is_form(headers) {
            parse_form(body)
        } else {
            HashMap::new()
        },
        now: shared.now(),
        external: external.as_ref(),
    };
    let correlation = correlation_id(headers);
    match issue(shared, &request, flavor) {
        Ok(doc) => {
            let trace_id = uuid::Uuid::new_v4().to_string();
            let mut response = json_body(&doc).into_response();
            sts_headers(response.headers_mut(), &trace_id, &correlation);
            response
        }
        Err(e) => e.render(request.now, &shared.base_url, &correlation),
    }
}

/// One token request, as the checks read it.
struct TokenRequest<'a> {
    /// The `{tenant}` path segment.
    segment: &'a str,
    headers: &'a HeaderMap,
    /// The form fields (none when the body is not a form).
    params: HashMap<String, String>,
    now: DateTime<Utc>,
    /// Another federation issuer's keys, fetched before the tenant lock was taken.
    external: Option<&'a ExternalKeys>,
}

/// Entra's checks in Entra's order (the first failing one is the error a client sees):
/// tenant, grant type, client, credential, resource, role assignment.
fn issue(shared: &Shared, req: &TokenRequest<'_>, flavor: Flavor) -> Result<Value, AadError> {
    let grant = {
        let state = shared.read();
        let model = &state.model;
        check_tenant_and_grant_type(model, req)?;
        let (client, auth) = authenticate_client(shared, model, req)?;
        let resource = requested_resource(&req.params, flavor)?;
        grant_for(
            model,
            client,
            auth,
            &resource,
            state.token_lifetime,
            req.now,
        )?
    };
    mint(shared, &grant, req.now, flavor)
}

fn check_tenant_and_grant_type(
    model: &TenantModel,
    req: &TokenRequest<'_>,
) -> Result<(), AadError> {
    let multi = match resolve_tenant(model, req.segment) {
        TenantRef::Ours => false,
        TenantRef::Multi => true,
        TenantRef::NotFound | TenantRef::Invalid => {
            return Err(tenant_error(req.segment, "invalid_request"));
        }
    };
    let grant_type = req
        .params
        .get("grant_type")
        .filter(|g| !g.is_empty())
        .ok_or_else(|| AadError::missing_parameter("grant_type"))?;
    if grant_type != "client_credentials" {
        return Err(AadError::new(
            "unsupported_grant_type",
            70003,
            format!("The app requested an unsupported grant type '{grant_type}'."),
        ));
    }
    if multi {
        return Err(AadError::new(
            "invalid_request",
            50059,
            "No tenant-identifying information found in either the request or implied by any provided credentials.",
        ));
    }
    Ok(())
}

/// The client the request names (form, Basic, or a certificate assertion's `sub`) and how
/// it proved who it is.
fn authenticate_client<'m>(
    shared: &Shared,
    model: &'m TenantModel,
    req: &TokenRequest<'_>,
) -> Result<(&'m ClientApp, ClientAuth), AadError> {
    let params = &req.params;
    let basic = basic_credentials(req.headers);
    if let Some(Ok((basic_id, _))) = &basic {
        refuse_second_method(params, basic_id)?;
    }
    let (client_id, secret) = match basic {
        Some(Ok((id, secret))) => (Some(id), Some(secret)),
        Some(Err(())) => (params.get("client_id").cloned(), None),
        None => (
            params.get("client_id").cloned(),
            params.get("client_secret").cloned(),
        ),
    };
    let requested_client_id = client_id.filter(|c| !c.is_empty());
    let assertion_text = params
        .get("client_assertion")
        .filter(|a| !a.trim().is_empty());
    // Like Entra, `client_id` may be left out when a certificate assertion names the
    // client in `sub`.
    let client_id = requested_client_id
        .clone()
        .or_else(|| assertion_text.and_then(|a| assertion::unverified_client_id(a)))
        .ok_or_else(|| AadError::missing_parameter("client_id"))?;
    let client = model.client(&client_id).ok_or_else(|| {
        AadError::new(
            "unauthorized_client",
            700016,
            format!(
                "Application with identifier '{client_id}' was not found in the directory '{}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.",
                model.tenant.display_name
            ),
        )
    })?;

    let auth = match (secret.as_deref().filter(|s| !s.is_empty()), assertion_text) {
        (None, Some(text)) => {
            check_assertion_type(params)?;
            let ctx = assertion::Context {
                now: req.now,
                audiences: token_endpoint_audiences(shared, model, req.segment),
                federation_issuer: &shared.federation_issuer,
                federation_key: &shared.federation_key,
                requested_client_id: requested_client_id.as_deref(),
                external_keys: req.external,
            };
            assertion::authenticate(client, text, &ctx)?
        }
        _ => {
            authenticate(client, secret.as_deref(), req.now)?;
            ClientAuth::Secret
        }
    };
    Ok((client, auth))
}

/// RFC 6749 §2.3: a client uses one authentication method per request. With Basic
/// credentials, a secret or an assertion in the body is a second one, and a body
/// `client_id` naming another client a contradiction; neither silently loses.
fn refuse_second_method(params: &HashMap<String, String>, basic_id: &str) -> Result<(), AadError> {
    let given = |k: &str| params.get(k).is_some_and(|v| !v.trim().is_empty());
    let second = ["client_secret", "client_assertion"]
        .into_iter()
        .find(|k| given(k));
    let other_client = params
        .get("client_id")
        .filter(|id| !id.is_empty() && id.as_str() != basic_id);
    let problem = match (second, other_client) {
        (Some(field), _) => format!(
            "The request authenticates the client twice: with an Authorization: Basic header and with '{field}' in the body. Use one method."
        ),
        (None, Some(id)) => format!(
            "The request names client '{basic_id}' in its Authorization: Basic header and client '{id}' in the body."
        ),
        (None, None) => return Ok(()),
    };
    Err(AadError::new("invalid_request", 90023, problem))
}

fn check_assertion_type(params: &HashMap<String, String>) -> Result<(), AadError> {
    match params.get("client_assertion_type").map(|t| t.trim()) {
        Some(assertion::JWT_BEARER) => Ok(()),
        Some(other) if !other.is_empty() => Err(AadError::new(
            "invalid_request",
            900144,
            format!(
                "The request body must contain the following parameter: 'client_assertion_type' with the value '{}' (got '{other}').",
                assertion::JWT_BEARER
            ),
        )),
        _ => Err(AadError::missing_parameter("client_assertion_type")),
    }
}

/// v2 names the resource in `scope` (`{resource}/.default`), v1 in `resource`.
fn requested_resource(
    params: &HashMap<String, String>,
    flavor: Flavor,
) -> Result<String, AadError> {
    match flavor {
        Flavor::V2 => resource_from_scope(params.get("scope")),
        Flavor::V1 => params
            .get("resource")
            .map(|r| r.trim().to_string())
            .filter(|r| !r.is_empty())
            .ok_or_else(|| AadError::missing_parameter("resource")),
    }
}

/// What the authenticated client gets for `resource` (the API or Graph): the roles granted
/// to it that have reached tokens by `now`, and the token's audience and lifetime, or why
/// not.
fn grant_for(
    model: &TenantModel,
    client: &ClientApp,
    auth: ClientAuth,
    resource: &str,
    token_lifetime: Option<std::time::Duration>,
    now: DateTime<Utc>,
) -> Result<Grant, AadError> {
    let lifetime_secs = match token_lifetime {
        Some(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        None => rand::rng().random_range(3600..=5400),
    };
    if let Some(audience) = graph_audience(resource) {
        // Graph's own tokens are v1-shaped whatever endpoint issued them, and Graph
        // requires no assignment.
        return Ok(Grant {
            tenant_id: model.tenant.id.clone(),
            api_client_id: GRAPH_APP_ID.to_string(),
            client_id: client.client_id.clone(),
            client_oid: client.object_id.clone(),
            client_display_name: client.display_name.clone(),
            resource: audience.to_string(),
            audience: audience.to_string(),
            version: TokenVersion::V1,
            roles: model.token_roles(client, Resource::Graph, now),
            lifetime_secs,
            acr: auth.acr(),
            graph: true,
        });
    }
    let api = &model.api;
    let by_uri = resource.eq_ignore_ascii_case(&api.app_id_uri);
    let by_id = resource.eq_ignore_ascii_case(&api.client_id);
    if !by_uri && !by_id {
        return Err(AadError::new(
            "invalid_resource",
            500011,
            format!(
                "The resource principal named {resource} was not found in the tenant named {}. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant.",
                model.tenant.display_name
            ),
        ));
    }

    let roles = model.token_roles(client, Resource::Api, now);
    if api.assignment_required && roles.is_empty() {
        return Err(AadError::new(
            "invalid_grant",
            501051,
            format!(
                "Application '{}'({}) is not assigned to a role for the application '{resource}'({}).",
                client.client_id, client.display_name, api.display_name
            ),
        ));
    }

    let version = api.access_token_version;
    let audience = match version {
        TokenVersion::V2 => api.client_id.clone(),
        // v1 tokens carry the resource as requested: the App ID URI, or the GUID.
        TokenVersion::V1 if by_uri => api.app_id_uri.clone(),
        TokenVersion::V1 => api.client_id.clone(),
    };
    Ok(Grant {
        tenant_id: model.tenant.id.clone(),
        api_client_id: api.client_id.clone(),
        client_id: client.client_id.clone(),
        client_oid: client.object_id.clone(),
        client_display_name: client.display_name.clone(),
        audience,
        version,
        roles,
        lifetime_secs,
        resource: if by_uri {
            api.app_id_uri.clone()
        } else {
            api.client_id.clone()
        },
        acr: auth.acr(),
        graph: false,
    })
}

/// The `aud` of a Graph token when `resource` names Microsoft Graph (its App ID URI, with
/// or without the trailing slash, or its application id), as requested.
fn graph_audience(resource: &str) -> Option<&'static str> {
    let uri = resource.strip_suffix('/').unwrap_or(resource);
    if uri.eq_ignore_ascii_case(GRAPH_RESOURCE) {
        Some(GRAPH_RESOURCE)
    } else if resource.eq_ignore_ascii_case(GRAPH_APP_ID) {
        Some(GRAPH_APP_ID)
    } else {
        None
    }
}

/// Credentials from `Authorization: Basic`, URL-decoded per RFC 6749 §2.3.1.
/// `Some(Err(()))` means the header is there but unusable.
fn basic_credentials(headers: &HeaderMap) -> Option<Result<(String, String), ()>> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, rest) = value.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decode = || -> Option<(String, String)> {
        let raw = STANDARD.decode(rest.trim()).ok()?;
        let text = String::from_utf8(raw).ok()?;
        let (id, secret) = text.split_once(':')?;
        let unescape = |s: &str| {
            percent_encoding::percent_decode_str(&s.replace('+', " "))
                .decode_utf8()
                .ok()
                .map(|c| c.into_owned())
        };
        Some((unescape(id)?, unescape(secret)?))
    };
    Some(decode().ok_or(()))
}

/// Constant-time comparison, so secret checks do not leak through timing.
fn same_secret(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The token endpoint URLs a client assertion may name as `aud`: v2 and v1, with the tenant
/// id, the verified domain and the path segment of this request, on the sandbox's host and
/// (for assertions built for the real cloud) on login.microsoftonline.com.
fn token_endpoint_audiences(shared: &Shared, model: &TenantModel, segment: &str) -> Vec<String> {
    let mut tenants = vec![model.tenant.id.clone(), segment.to_string()];
    tenants.extend(model.tenant.domain.clone());
    let mut out = Vec::new();
    for host in [
        shared.base_url.as_str(),
        "https://login.microsoftonline.com",
    ] {
        for tenant in &tenants {
            out.push(format!("{host}/{tenant}/oauth2/v2.0/token"));
            out.push(format!("{host}/{tenant}/oauth2/token"));
        }
    }
    out
}

/// Checks a client secret.
fn authenticate(
    client: &ClientApp,
    secret: Option<&str>,
    now: DateTime<Utc>,
) -> Result<(), AadError> {
    let Some(secret) = secret.filter(|s| !s.is_empty()) else {
        return Err(AadError::new(
            "invalid_client",
            7000218,
            "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
        ));
    };
    match client
        .secrets
        .iter()
        .find(|s| same_secret(&s.value, secret))
    {
        Some(s) if s.expires > now => Ok(()),
        Some(_) => Err(AadError::new(
            "invalid_client",
            7000222,
            format!(
                "The provided client secret keys for app '{}' are expired. Visit the Azure portal to create new keys for your app: https://aka.ms/NewClientSecret, or consider using certificate credentials for added security: https://aka.ms/certCreds.",
                client.client_id
            ),
        )),
        None => Err(AadError::new(
            "invalid_client",
            7000215,
            format!(
                "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '{}'.",
                client.client_id
            ),
        )),
    }
}

/// The single resource a client-credentials `scope` names (`{resource}/.default`).
fn resource_from_scope(scope: Option<&String>) -> Result<String, AadError> {
    let scope = scope
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
        .ok_or_else(|| AadError::missing_parameter("scope"))?;
    let mut resources: Vec<&str> = Vec::new();
    for item in scope.split_whitespace() {
        let Some(resource) = item.strip_suffix("/.default").filter(|r| !r.is_empty()) else {
            return Err(AadError::new(
                "invalid_scope",
                1002012,
                format!(
                    "The provided value for scope {scope} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI)."
                ),
            ));
        };
        if !resources.iter().any(|r| r.eq_ignore_ascii_case(resource)) {
            resources.push(resource);
        }
    }
    match resources.as_slice() {
        [one] => Ok((*one).to_string()),
        _ => Err(AadError::new(
            "invalid_scope",
            700022,
            format!(
                "Provided value for the input parameter scope is not valid because it contains more than one resource. Scope {scope} is not valid."
            ),
        )),
    }
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    #[test]
    fn scope_parsing_follows_entra() {
        let s = |v: &str| resource_from_scope(Some(&v.to_string()));
        assert_eq!(s("api://x/.default").ok().as_deref(), Some("api://x"));
        assert_eq!(
            s("api://x/.default API://X/.default").ok().as_deref(),
            Some("api://x")
        );
        assert_eq!(
            s("api://x/Weather.Read").err().map(|e| e.code),
            Some(1002012)
        );
        assert_eq!(
            s("api://x/.default api://y/.default").err().map(|e| e.code),
            Some(700022)
        );
        assert_eq!(s("  ").err().map(|e| e.code), Some(900144));
        assert_eq!(s("/.default").err().map(|e| e.code), Some(1002012));
    }

    #[test]
    fn basic_credentials_are_url_decoded() {
        let mut headers = HeaderMap::new();
        let encoded = STANDARD.encode("my%3Aid:p%40ss+word%7E");
        headers.insert(
            header::AUTHORIZATION,
            HeaderValue::from_str(&format!("Basic {encoded}")).expect("header"),
        );
        assert_eq!(
            basic_credentials(&headers),
            Some(Ok(("my:id".to_string(), "p@ss word~".to_string())))
        );
        headers.insert(header::AUTHORIZATION, HeaderValue::from_static("Basic !!!"));
        assert_eq!(basic_credentials(&headers), Some(Err(())));
        headers.insert(header::AUTHORIZATION, HeaderValue::from_static("Bearer x"));
        assert_eq!(basic_credentials(&headers), None);
    }

    #[test]
    fn secret_comparison() {
        assert!(same_secret("abc", "abc"));
        assert!(!same_secret("abc", "abd"));
        assert!(!same_secret("abc", "abcd"));
    }
}
