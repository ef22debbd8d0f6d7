//! The identity-provider half: OpenID discovery (v1 and v2), JWKS, the token endpoint
//! (client credentials) and Entra-shaped errors, on Entra's paths.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use chrono::{DateTime, Utc};
use rand::{Rng as _, RngCore as _};
use serde_json::{Map, Value, json};

use super::Endpoint;
use super::assertion::{self, ClientAuth};
use super::model::{ClientApp, TenantModel, TokenVersion};
use super::state::Shared;

pub(crate) type AppState = Arc<Shared>;

/// Entra backdates `iat`/`nbf` by five minutes to absorb clock skew.
const BACKDATE_SECS: i64 = 300;

// ---- Errors ---------------------------------------------------------------------------

/// An error exactly as Entra's token and metadata endpoints return it.
pub(crate) struct AadError {
    pub(crate) status: StatusCode,
    pub(crate) error: &'static str,
    pub(crate) code: u32,
    pub(crate) message: String,
}

impl AadError {
    pub(crate) fn new(error: &'static str, code: u32, message: impl Into<String>) -> AadError {
        let status = if error == "invalid_client" {
            StatusCode::UNAUTHORIZED
        } else {
            StatusCode::BAD_REQUEST
        };
        AadError {
            status,
            error,
            code,
            message: message.into(),
        }
    }

    fn missing_parameter(name: &str) -> AadError {
        AadError::new(
            "invalid_request",
            900144,
            format!("The request body must contain the following parameter: '{name}'."),
        )
    }

    fn render(&self, shared: &Shared, correlation_id: &str) -> Response {
        let trace_id = uuid::Uuid::new_v4().to_string();
        let timestamp = shared.now().format("%Y-%m-%d %H:%M:%SZ").to_string();
        let body = json!({
            "error": self.error,
            "error_description": format!(
                "AADSTS{}: {} Trace ID: {trace_id} Correlation ID: {correlation_id} Timestamp: {timestamp}",
                self.code, self.message
            ),
            "error_codes": [self.code],
            "timestamp": timestamp,
            "trace_id": trace_id,
            "correlation_id": correlation_id,
            "error_uri": format!("{}/error?code={}", shared.base_url, self.code),
        });
        let mut response = (self.status, json_body(&body)).into_response();
        sts_headers(response.headers_mut(), &trace_id, correlation_id);
        response
    }
}

/// The correlation id: the client's `client-request-id` when it is a GUID (as Entra does
/// for MSAL), otherwise a fresh one.
fn correlation_id(headers: &HeaderMap) -> String {
    headers
        .get("client-request-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| uuid::Uuid::parse_str(v.trim()).ok())
        .map(|u| u.hyphenated().to_string())
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string())
}

fn json_body(value: &Value) -> ([(header::HeaderName, &'static str); 1], String) {
    (
        [(header::CONTENT_TYPE, "application/json; charset=utf-8")],
        value.to_string(),
    )
}

fn sts_headers(headers: &mut HeaderMap, trace_id: &str, correlation_id: &str) {
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("no-store, no-cache"),
    );
    headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    if let Ok(v) = HeaderValue::from_str(trace_id) {
        headers.insert("x-ms-request-id", v);
    }
    if let Ok(v) = HeaderValue::from_str(correlation_id) {
        headers.insert("client-request-id", v);
    }
    headers.insert(
        "x-ms-ests-server",
        HeaderValue::from_static("tokenscope-sandbox"),
    );
}

// ---- Tenants ---------------------------------------------------------------------------

enum TenantRef {
    Ours,
    /// `common`, `organizations` or `consumers`.
    Multi,
    NotFound,
    Invalid,
}

fn resolve_tenant(model: &TenantModel, segment: &str) -> TenantRef {
    let lower = segment.to_ascii_lowercase();
    if lower == model.tenant.id || model.tenant.domain.as_deref() == Some(lower.as_str()) {
        return TenantRef::Ours;
    }
    if matches!(lower.as_str(), "common" | "organizations" | "consumers") {
        return TenantRef::Multi;
    }
    if uuid::Uuid::parse_str(&lower).is_ok() {
        return TenantRef::NotFound;
    }
    let dns_like = lower.contains('.')
        && lower
            .split('.')
            .all(|l| !l.is_empty() && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'));
    if dns_like {
        TenantRef::NotFound
    } else {
        TenantRef::Invalid
    }
}

fn tenant_error(segment: &str, not_found_error: &'static str) -> AadError {
    match uuid::Uuid::parse_str(segment) {
        Err(_) if !segment.contains('.') => AadError::new(
            "invalid_request",
            900023,
            format!(
                "Specified tenant identifier '{segment}' is neither a valid DNS name, nor a valid external domain."
            ),
        ),
        _ => AadError::new(
            not_found_error,
            90002,
            format!(
                "Tenant '{segment}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant."
            ),
        ),
    }
}

/// For metadata routes: the tenant path segment to put in URLs and issuers, or an error.
fn metadata_tenant(shared: &Shared, segment: &str) -> Result<(String, bool), AadError> {
    let state = shared.read();
    match resolve_tenant(&state.model, segment) {
        TenantRef::Ours => Ok((state.model.tenant.id.clone(), false)),
        TenantRef::Multi => Ok((segment.to_ascii_lowercase(), true)),
        TenantRef::NotFound | TenantRef::Invalid => Err(tenant_error(segment, "invalid_tenant")),
    }
}

// ---- Discovery -------------------------------------------------------------------------

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
        Err(e) => return e.render(shared, &correlation_id(headers)),
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
        Err(e) => return e.render(shared, &correlation_id(headers)),
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

// ---- Token endpoint ----------------------------------------------------------------------

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
    tenant: &str,
    headers: &HeaderMap,
    body: &Bytes,
    flavor: Flavor,
) -> Response {
    shared.count(Endpoint::Token);
    let external = super::federation::external_keys(shared, headers, body).await;
    token(shared, tenant, headers, body, flavor, external.as_ref())
}

/// Which token endpoint: v2 takes `scope`, v1 takes `resource` and answers with strings.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Flavor {
    V1,
    V2,
}

fn token(
    shared: &Shared,
    segment: &str,
    headers: &HeaderMap,
    body: &[u8],
    f: Flavor,
    external: Option<&super::federation::ExternalKeys>,
) -> Response {
    let correlation = correlation_id(headers);
    match issue(shared, segment, headers, body, f, external) {
        Ok(doc) => {
            let trace_id = uuid::Uuid::new_v4().to_string();
            let mut response = json_body(&doc).into_response();
            sts_headers(response.headers_mut(), &trace_id, &correlation);
            response
        }
        Err(e) => e.render(shared, &correlation),
    }
}

/// Parses `application/x-www-form-urlencoded`; the first occurrence of a name wins.
pub(crate) fn parse_form(body: &[u8]) -> HashMap<String, String> {
    let mut map = HashMap::new();
    for (k, v) in url::form_urlencoded::parse(body) {
        map.entry(k.into_owned()).or_insert_with(|| v.into_owned());
    }
    map
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

pub(crate) fn is_form(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        })
        .unwrap_or(false)
}

/// Constant-time comparison, so secret checks do not leak through timing.
fn same_secret(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// What a successful request resolves to, copied out of the lock before signing.
struct Grant {
    tenant_id: String,
    api_client_id: String,
    client_id: String,
    client_oid: String,
    audience: String,
    version: TokenVersion,
    roles: Vec<String>,
    lifetime_secs: i64,
    resource: String,
    /// `azpacr` / `appidacr`.
    acr: &'static str,
}

fn issue(
    shared: &Shared,
    segment: &str,
    headers: &HeaderMap,
    body: &[u8],
    flavor: Flavor,
    external: Option<&super::federation::ExternalKeys>,
) -> Result<Value, AadError> {
    let now = shared.now();
    let params = if is_form(headers) {
        parse_form(body)
    } else {
        HashMap::new()
    };
    let grant = {
        let state = shared.read();
        let model = &state.model;

        let multi = match resolve_tenant(model, segment) {
            TenantRef::Ours => false,
            TenantRef::Multi => true,
            TenantRef::NotFound | TenantRef::Invalid => {
                return Err(tenant_error(segment, "invalid_request"));
            }
        };

        let grant_type = params
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

        let basic = basic_credentials(headers);
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
                match params.get("client_assertion_type").map(|t| t.trim()) {
                    Some(assertion::JWT_BEARER) => {}
                    Some(other) if !other.is_empty() => {
                        return Err(AadError::new(
                            "invalid_request",
                            900144,
                            format!(
                                "The request body must contain the following parameter: 'client_assertion_type' with the value '{}' (got '{other}').",
                                assertion::JWT_BEARER
                            ),
                        ));
                    }
                    _ => return Err(AadError::missing_parameter("client_assertion_type")),
                }
                let audiences = token_endpoint_audiences(shared, model, segment);
                let ctx = assertion::Context {
                    now,
                    audiences,
                    federation_issuer: &shared.federation_issuer,
                    federation_key: &shared.federation_key,
                    requested_client_id: requested_client_id.as_deref(),
                    external_keys: external,
                };
                assertion::authenticate(client, text, &ctx)?
            }
            _ => {
                authenticate(client, secret.as_deref(), now)?;
                ClientAuth::Secret
            }
        };

        let resource = match flavor {
            Flavor::V2 => resource_from_scope(params.get("scope"))?,
            Flavor::V1 => params
                .get("resource")
                .map(|r| r.trim().to_string())
                .filter(|r| !r.is_empty())
                .ok_or_else(|| AadError::missing_parameter("resource"))?,
        };
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

        let roles: Vec<String> = api
            .app_roles
            .iter()
            .filter(|r| {
                client
                    .granted_roles
                    .iter()
                    .any(|g| g.eq_ignore_ascii_case(&r.value))
            })
            .map(|r| r.value.clone())
            .collect();
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
        let lifetime_secs = match state.token_lifetime {
            Some(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
            None => rand::rng().random_range(3600..=5400),
        };
        Grant {
            tenant_id: model.tenant.id.clone(),
            api_client_id: api.client_id.clone(),
            client_id: client.client_id.clone(),
            client_oid: client.object_id.clone(),
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
        }
    };
    mint(shared, &grant, now, flavor)
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

fn random_b64(bytes: usize, url: bool) -> String {
    let mut buf = vec![0u8; bytes];
    rand::rng().fill_bytes(&mut buf);
    if url {
        URL_SAFE_NO_PAD.encode(buf)
    } else {
        STANDARD.encode(buf)
    }
}

fn guid_bytes(s: &str) -> [u8; 16] {
    uuid::Uuid::parse_str(s)
        .map(|u| u.to_bytes_le())
        .unwrap_or_default()
}

fn mint(shared: &Shared, g: &Grant, now: DateTime<Utc>, flavor: Flavor) -> Result<Value, AadError> {
    let iat = now.timestamp() - BACKDATE_SECS;
    let exp = now.timestamp() + g.lifetime_secs;
    let iss = shared.issuer(g.version, &g.tenant_id);
    // `rh` is an opaque internal claim; this one is shaped like Entra's and derived from
    // the tenant, client and API so it is stable for the same trio.
    let mut rh_bytes = Vec::with_capacity(48);
    rh_bytes.extend_from_slice(&guid_bytes(&g.tenant_id));
    rh_bytes.extend_from_slice(&guid_bytes(&g.client_id));
    rh_bytes.extend_from_slice(&guid_bytes(&g.api_client_id));
    let rh = format!("1.A{}AA.", URL_SAFE_NO_PAD.encode(rh_bytes));

    let mut c = Map::new();
    c.insert("aud".into(), g.audience.clone().into());
    c.insert("iss".into(), iss.clone().into());
    c.insert("iat".into(), iat.into());
    c.insert("nbf".into(), iat.into());
    c.insert("exp".into(), exp.into());
    c.insert("aio".into(), random_b64(40, false).into());
    match g.version {
        TokenVersion::V2 => {
            c.insert("azp".into(), g.client_id.clone().into());
            c.insert("azpacr".into(), g.acr.into());
        }
        TokenVersion::V1 => {
            c.insert("appid".into(), g.client_id.clone().into());
            c.insert("appidacr".into(), g.acr.into());
            c.insert("idp".into(), iss.into());
        }
    }
    c.insert("idtyp".into(), "app".into());
    c.insert("oid".into(), g.client_oid.clone().into());
    c.insert("rh".into(), rh.into());
    if !g.roles.is_empty() {
        c.insert("roles".into(), g.roles.clone().into());
    }
    c.insert("sub".into(), g.client_oid.clone().into());
    c.insert("tid".into(), g.tenant_id.clone().into());
    c.insert("uti".into(), random_b64(16, true).into());
    c.insert("ver".into(), g.version.claim().into());

    let key = shared.read().current_key.clone();
    let token = key
        .sign(&Value::Object(c), g.version == TokenVersion::V1)
        .map_err(|e| {
            tracing::error!(error = %e, "sandbox: signing a token failed");
            AadError {
                status: StatusCode::INTERNAL_SERVER_ERROR,
                error: "temporarily_unavailable",
                code: 90033,
                message: "A transient error has occurred. Please try again.".into(),
            }
        })?;
    let expires_in = exp - now.timestamp();
    Ok(match flavor {
        Flavor::V2 => json!({
            "token_type": "Bearer",
            "expires_in": expires_in,
            "ext_expires_in": expires_in,
            "access_token": token,
        }),
        Flavor::V1 => json!({
            "token_type": "Bearer",
            "expires_in": expires_in.to_string(),
            "ext_expires_in": expires_in.to_string(),
            "expires_on": exp.to_string(),
            "not_before": iat.to_string(),
            "resource": g.resource,
            "access_token": token,
        }),
    })
}

// ---- Error lookup page ---------------------------------------------------------------------

/// `GET /error?code=N` — the target of `error_uri`, like login.microsoftonline.com/error.
pub(crate) async fn error_page(
    State(shared): State<AppState>,
    RawQuery(query): RawQuery,
) -> Response {
    shared.count(Endpoint::Other);
    let params = parse_form(query.as_deref().unwrap_or("").as_bytes());
    let code = params.get("code").map(String::as_str).unwrap_or("");
    let text = match code {
        "90002" => {
            "The tenant in the authority URL does not exist. Use the tenant id (GUID) or a verified domain of the tenant."
        }
        "900023" => "The tenant segment of the authority URL is neither a GUID nor a domain name.",
        "900144" => {
            "A required form parameter is missing (grant_type, client_id, scope or resource)."
        }
        "700016" => {
            "No application with this client id exists in the tenant. Check client_id and the tenant in the authority."
        }
        "7000215" => {
            "The client secret is wrong. Send the secret's value, not its ID; check for stray whitespace or an old value."
        }
        "7000222" => {
            "The client secret has expired. Create a new secret (tokenscope sandbox: renew-secret) and update the configuration."
        }
        "7000218" => "The request carried neither client_secret nor client_assertion.",
        "700027" => {
            "The client assertion's key is not registered on the application, has expired, or its signature does not verify. Upload the certificate (tokenscope sandbox: write-config writes one) or check the key file matches it."
        }
        "50027" => "The client assertion is not a JWT, or misses required claims (exp).",
        "50048" => "The client assertion's iss and sub differ; both must be the client id.",
        "700021" => "The client assertion's sub is not the client_id of the request.",
        "700023" => {
            "The client assertion's aud is not this tenant's token endpoint ({authority}/oauth2/v2.0/token)."
        }
        "700024" => {
            "The client assertion has expired or is not yet valid (5 minutes of clock skew are allowed). Check the clock."
        }
        "70021" => {
            "The application has no federated credential. Add one with the workload token's issuer, subject and audience api://AzureADTokenExchange."
        }
        "700211" => "No federated credential of the application has the token's issuer.",
        "700212" => {
            "No federated credential matching issuer and subject has the token's audience (use api://AzureADTokenExchange)."
        }
        "700213" => "No federated credential with the token's issuer has the token's subject.",
        "50166" => {
            "The token's issuer could not be queried for its keys. The sandbox verifies tokens of its own federation issuer only."
        }
        "1002012" => {
            "Client credentials need scope={resource}/.default, e.g. api://<api client id>/.default."
        }
        "700022" => "The scope names more than one resource. Request one token per API.",
        "500011" => {
            "No API with this App ID URI or client id exists in the tenant. Check the scope."
        }
        "501051" => {
            "The API requires assignment and this client has no app role granted. Grant a role to the client."
        }
        "50059" => {
            "Client credentials need a tenant-specific authority, not common, organizations or consumers."
        }
        "70003" => "The sandbox token endpoint supports grant_type=client_credentials only.",
        _ => "Unknown error code. The sandbox documents the codes it can return.",
    };
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        format!("AADSTS{code}: {text}\n"),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
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
    fn tenant_segments_resolve_like_entra() {
        let m = TenantModel::builtin();
        assert!(matches!(
            resolve_tenant(&m, &m.tenant.id.to_uppercase()),
            TenantRef::Ours
        ));
        assert!(matches!(
            resolve_tenant(&m, "TOKENSCOPE-SANDBOX.onmicrosoft.com"),
            TenantRef::Ours
        ));
        assert!(matches!(resolve_tenant(&m, "Common"), TenantRef::Multi));
        assert!(matches!(
            resolve_tenant(&m, "00000000-0000-0000-0000-000000000001"),
            TenantRef::NotFound
        ));
        assert!(matches!(
            resolve_tenant(&m, "contoso.com"),
            TenantRef::NotFound
        ));
        assert!(matches!(resolve_tenant(&m, "nonsense"), TenantRef::Invalid));
        assert_eq!(tenant_error("nonsense", "invalid_request").code, 900023);
        assert_eq!(tenant_error("contoso.com", "invalid_request").code, 90002);
    }

    #[test]
    fn secret_comparison() {
        assert!(same_secret("abc", "abc"));
        assert!(!same_secret("abc", "abd"));
        assert!(!same_secret("abc", "abcd"));
    }
}
