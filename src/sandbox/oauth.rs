//! OAuth wire helpers the identity-provider routes share: the error exactly as Entra's token
//! and metadata endpoints return it ([`AadError`]), the STS response headers, correlation
//! ids and `application/x-www-form-urlencoded` parsing; and, for the resource servers (the
//! weather API and Graph), the bearer token of a request.
//!
//! A leaf: it knows the wire format only. Must not read the tenant, the keys or the shared
//! state (callers pass the time and base URL in), so every handler module can use it.

use std::collections::HashMap;

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde_json::{Value, json};

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

    pub(crate) fn missing_parameter(name: &str) -> AadError {
        AadError::new(
            "invalid_request",
            900144,
            format!("The request body must contain the following parameter: '{name}'."),
        )
    }

    /// The body, status and headers Entra sends; `error_uri` points at `{base_url}/error`.
    pub(crate) fn render(
        &self,
        now: DateTime<Utc>,
        base_url: &str,
        correlation_id: &str,
    ) -> Response {
        let trace_id = uuid::Uuid::new_v4().to_string();
        let timestamp = now.format("%Y-%m-%d %H:%M:%SZ").to_string();
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
            "error_uri": format!("{base_url}/error?code={}", self.code),
        });
        let mut response = (self.status, json_body(&body)).into_response();
        sts_headers(response.headers_mut(), &trace_id, correlation_id);
        response
    }
}

/// The correlation id: the client's `client-request-id` when it is a GUID (as Entra does
/// for MSAL), otherwise a fresh one.
pub(crate) fn correlation_id(headers: &HeaderMap) -> String {
    headers
        .get("client-request-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| uuid::Uuid::parse_str(v.trim()).ok())
        .map(|u| u.hyphenated().to_string())
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string())
}

pub(crate) fn json_body(value: &Value) -> ([(header::HeaderName, &'static str); 1], String) {
    (
        [(header::CONTENT_TYPE, "application/json; charset=utf-8")],
        value.to_string(),
    )
}

pub(crate) fn sts_headers(headers: &mut HeaderMap, trace_id: &str, correlation_id: &str) {
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

/// The token of `Authorization: Bearer …` (RFC 6750 §2.1), if the request sends one.
pub(crate) fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// Parses `application/x-www-form-urlencoded`; the first occurrence of a name wins.
pub(crate) fn parse_form(body: &[u8]) -> HashMap<String, String> {
    let mut map = HashMap::new();
    for (k, v) in url::form_urlencoded::parse(body) {
        map.entry(k.into_owned()).or_insert_with(|| v.into_owned());
    }
    map
}

/// Whether the request declares a form body (token requests must).
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
