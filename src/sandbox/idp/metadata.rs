//! The identity provider's metadata routes: OpenID discovery (v1 and v2), MSAL's instance
//! discovery and JWKS, on Entra's paths and with Entra's caching headers.
//!
//! Owns what those documents say. Must not issue tokens or change the tenant; the keys it
//! publishes come from the shared state.

use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::tenant::metadata_tenant;
use crate::sandbox::model::TokenVersion;
use crate::sandbox::oauth::{correlation_id, json_body, parse_form};
use crate::sandbox::state::{AppState, Shared};
use crate::sandbox::stats::Endpoint;

pub(crate) async fn discovery_v2(
    State(shared): State<AppState>,
    Path(tenant): Path<String>,
    headers: HeaderMap,
) -> Response {
    shared.count(Endpoint::Discovery);
    discovery(&shared, &tenant, &headers, TokenVersion::V2)
}

pub(crate) async fn discovery_v1(
    State(shared): State<AppState>,
    Path(tenant): Path<String>,
    headers: HeaderMap,
) -> Response {
    shared.count(Endpoint::Discovery);
    discovery(&shared, &tenant, &headers, TokenVersion::V1)
}

fn discovery(shared: &Shared, segment: &str, headers: &HeaderMap, v: TokenVersion) -> Response {
    let (tenant, multi) = match metadata_tenant(shared, segment) {
        Ok(t) => t,
        Err(e) => return e.render(shared.now(), &shared.base_url, &correlation_id(headers)),
    };
    let base = format!("{}/{tenant}", shared.base_url);
    let issuer = if multi {
        shared.issuer(v, "{tenantid}")
    } else {
        shared.issuer(v, &tenant)
    };
    let auth_methods = [
        "client_secret_post",
        "private_key_jwt",
        "client_secret_basic",
    ];
    let doc = match v {
        TokenVersion::V2 => json!({
            "token_endpoint": format!("{base}/oauth2/v2.0/token"),
            "token_endpoint_auth_methods_supported": auth_methods,
            "jwks_uri": format!("{base}/discovery/v2.0/keys"),
            "response_modes_supported": ["query", "fragment", "form_post"],
            "subject_types_supported": ["pairwise"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
            "scopes_supported": ["openid", "profile", "email", "offline_access"],
            "issuer": issuer,
            "request_uri_parameter_supported": false,
            "userinfo_endpoint": format!("{base}/openid/v2.0/userinfo"),
            "authorization_endpoint": format!("{base}/oauth2/v2.0/authorize"),
            "device_authorization_endpoint": format!("{base}/oauth2/v2.0/devicecode"),
            "http_logout_supported": true,
            "frontchannel_logout_supported": true,
            "end_session_endpoint": format!("{base}/oauth2/v2.0/logout"),
            "claims_supported": ["sub", "iss", "cloud_instance_name", "cloud_instance_host_name",
                "cloud_graph_host_name", "msgraph_host", "aud", "exp", "iat", "auth_time", "acr",
                "nonce", "preferred_username", "name", "tid", "ver", "at_hash", "c_hash", "email"],
            "kerberos_endpoint": format!("{base}/kerberos"),
            "tenant_region_scope": "NA",
            "cloud_instance_name": "microsoftonline.com",
            "cloud_graph_host_name": "graph.windows.net",
            "msgraph_host": "graph.microsoft.com",
            "rbac_url": "https://pas.windows.net",
        }),
        TokenVersion::V1 => json!({
            "token_endpoint": format!("{base}/oauth2/token"),
            "token_endpoint_auth_methods_supported": auth_methods,
            "jwks_uri": format!("{base}/discovery/keys"),
            "response_modes_supported": ["query", "fragment", "form_post"],
            "subject_types_supported": ["pairwise"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "response_types_supported": ["code", "id_token", "code id_token", "token id_token", "token"],
            "scopes_supported": ["openid"],
            "issuer": issuer,
            "microsoft_multi_refresh_token": true,
            "authorization_endpoint": format!("{base}/oauth2/authorize"),
            "device_authorization_endpoint": format!("{base}/oauth2/devicecode"),
            "http_logout_supported": true,
            "frontchannel_logout_supported": true,
            "end_session_endpoint": format!("{base}/oauth2/logout"),
            "claims_supported": ["sub", "iss", "cloud_instance_name", "cloud_instance_host_name",
                "cloud_graph_host_name", "msgraph_host", "aud", "exp", "iat", "auth_time", "acr",
                "amr", "nonce", "email", "given_name", "family_name", "nickname"],
            "check_session_iframe": format!("{base}/oauth2/checksession"),
            "userinfo_endpoint": format!("{base}/openid/userinfo"),
            "kerberos_endpoint": format!("{base}/kerberos"),
            "tenant_region_scope": "NA",
            "cloud_instance_name": "microsoftonline.com",
            "cloud_graph_host_name": "graph.windows.net",
            "msgraph_host": "graph.microsoft.com",
            "rbac_url": "https://pas.windows.net",
        }),
    };
    metadata_response(&doc)
}

fn metadata_response(doc: &Value) -> Response {
    let mut response = json_body(doc).into_response();
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("max-age=86400, private"),
    );
    response.headers_mut().insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    response
}

/// `GET /{tenant}/discovery/instance` — MSAL's instance discovery, answered for this host.
pub(crate) async fn instance_discovery(
    State(shared): State<AppState>,
    Path(tenant): Path<String>,
    RawQuery(query): RawQuery,
) -> Response {
    shared.count(Endpoint::Discovery);
    let params = parse_form(query.as_deref().unwrap_or("").as_bytes());
    let host = shared
        .base_url
        .split("://")
        .nth(1)
        .unwrap_or(&shared.base_url)
        .to_string();
    let tenant_for_doc = params
        .get("authorization_endpoint")
        .and_then(|url| url.strip_prefix(&format!("{}/", shared.base_url)))
        .and_then(|rest| rest.split('/').next())
        .map(str::to_string)
        .unwrap_or(tenant);
    let doc = json!({
        "tenant_discovery_endpoint": format!(
            "{}/{tenant_for_doc}/v2.0/.well-known/openid-configuration", shared.base_url
        ),
        "api-version": "1.1",
        "metadata": [{
            "preferred_network": host,
            "preferred_cache": host,
            "aliases": [host],
        }],
    });
    metadata_response(&doc)
}

// ---- JWKS ------------------------------------------------------------------------------

pub(crate) async fn keys_v2(
    State(shared): State<AppState>,
    Path(tenant): Path<String>,
    headers: HeaderMap,
) -> Response {
    shared.count(Endpoint::Jwks);
    jwks(&shared, &tenant, &headers, TokenVersion::V2)
}

pub(crate) async fn keys_v1(
    State(shared): State<AppState>,
    Path(tenant): Path<String>,
    headers: HeaderMap,
) -> Response {
    shared.count(Endpoint::Jwks);
    jwks(&shared, &tenant, &headers, TokenVersion::V1)
}

fn jwks(shared: &Shared, segment: &str, headers: &HeaderMap, v: TokenVersion) -> Response {
    let (tenant, multi) = match metadata_tenant(shared, segment) {
        Ok(t) => t,
        Err(e) => return e.render(shared.now(), &shared.base_url, &correlation_id(headers)),
    };
    let issuer = shared.issuer(
        TokenVersion::V2,
        if multi { "{tenantid}" } else { tenant.as_str() },
    );
    let keys: Vec<Value> = shared
        .published_keys()
        .iter()
        .map(|k| {
            let mut jwk = json!({
                "kty": "RSA",
                "use": "sig",
                "kid": k.kid,
                "x5t": k.x5t,
                "n": k.n,
                "e": k.e,
                "x5c": [k.x5c],
            });
            if v == TokenVersion::V2
                && let Some(obj) = jwk.as_object_mut()
            {
                obj.insert("cloud_instance_name".into(), "microsoftonline.com".into());
                obj.insert("issuer".into(), issuer.clone().into());
            }
            jwk
        })
        .collect();
    metadata_response(&json!({ "keys": keys }))
}
