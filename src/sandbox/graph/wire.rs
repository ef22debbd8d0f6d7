//! Microsoft Graph's envelope: its error JSON (`{"error": {"code", "message", "innerError":
//! {"date", "request-id", "client-request-id"}}}`), the `request-id` / `client-request-id`
//! headers, the OData content type and the `WWW-Authenticate` challenge of a 401.
//!
//! A leaf of `graph/`: it knows the wire format only. Must not read the tenant or decide
//! what a request gets.

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde_json::{Value, json};

/// Graph's JSON content type, as it sends it.
const CONTENT_TYPE: &str = "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8";

/// The longest piece of a request an error message repeats (a path segment, an id).
const ECHO_MAX: usize = 200;

/// A refusal, as Graph words it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct GraphError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
}

impl GraphError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> GraphError {
        GraphError {
            status,
            code,
            message: message.into(),
        }
    }

    /// 401 `InvalidAuthenticationToken`.
    pub fn unauthenticated(message: impl Into<String>) -> GraphError {
        GraphError::new(
            StatusCode::UNAUTHORIZED,
            "InvalidAuthenticationToken",
            message,
        )
    }

    /// 403 `Authorization_RequestDenied`: the token lacks the permission.
    pub fn denied() -> GraphError {
        GraphError::new(
            StatusCode::FORBIDDEN,
            "Authorization_RequestDenied",
            "Insufficient privileges to complete the operation.",
        )
    }

    /// 404 `Request_ResourceNotFound`.
    pub fn not_found(key: &str) -> GraphError {
        GraphError::new(
            StatusCode::NOT_FOUND,
            "Request_ResourceNotFound",
            format!(
                "Resource '{}' does not exist or one of its queried reference-property objects are not present.",
                echo(key)
            ),
        )
    }

    /// 400 `BadRequest`: a query or path Graph does not understand.
    pub fn bad_request(message: impl Into<String>) -> GraphError {
        GraphError::new(StatusCode::BAD_REQUEST, "BadRequest", message)
    }

    /// 400 for a path segment that names nothing.
    pub fn no_segment(segment: &str) -> GraphError {
        GraphError::bad_request(format!(
            "Resource not found for the segment '{}'.",
            echo(segment)
        ))
    }

    /// 400 `Request_BadRequest` for an id that is not a GUID.
    pub fn invalid_id(id: &str) -> GraphError {
        GraphError::new(
            StatusCode::BAD_REQUEST,
            "Request_BadRequest",
            format!("Invalid object identifier '{}'.", echo(id)),
        )
    }
}

/// A request's side of the envelope: its ids and time, and where to sign in (for 401s).
pub(crate) struct Exchange {
    request_id: String,
    client_request_id: String,
    date: String,
    authorize_uri: String,
}

impl Exchange {
    /// `client-request-id` is echoed when it is a GUID, as Graph does; else a fresh one.
    pub fn new(headers: &HeaderMap, now: DateTime<Utc>, base_url: &str) -> Exchange {
        let request_id = uuid::Uuid::new_v4().to_string();
        let client_request_id = headers
            .get("client-request-id")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| uuid::Uuid::parse_str(v.trim()).ok())
            .map(|u| u.hyphenated().to_string())
            .unwrap_or_else(|| request_id.clone());
        Exchange {
            request_id,
            client_request_id,
            date: now.format("%Y-%m-%dT%H:%M:%S").to_string(),
            authorize_uri: format!("{base_url}/common/oauth2/authorize"),
        }
    }

    /// A 200 with `body`.
    pub fn ok(&self, body: &Value) -> Response {
        self.respond(StatusCode::OK, body)
    }

    /// The error JSON, with Graph's challenge on a 401.
    pub fn error(&self, e: &GraphError) -> Response {
        let body = json!({
            "error": {
                "code": e.code,
                "message": e.message,
                "innerError": {
                    "date": self.date,
                    "request-id": self.request_id,
                    "client-request-id": self.client_request_id,
                },
            }
        });
        let mut response = self.respond(e.status, &body);
        if e.status == StatusCode::UNAUTHORIZED {
            let challenge = format!(
                "Bearer realm=\"\", authorization_uri=\"{}\", client_id=\"{}\"",
                self.authorize_uri,
                crate::sandbox::model::GRAPH_APP_ID
            );
            if let Ok(v) = HeaderValue::from_str(&challenge) {
                response.headers_mut().insert(header::WWW_AUTHENTICATE, v);
            }
        }
        response
    }

    fn respond(&self, status: StatusCode, body: &Value) -> Response {
        let mut response = (status, body.to_string()).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE));
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
        for (name, value) in [
            ("request-id", &self.request_id),
            ("client-request-id", &self.client_request_id),
        ] {
            if let Ok(v) = HeaderValue::from_str(value) {
                headers.insert(name, v);
            }
        }
        response
    }
}

/// A piece of the request for an error message: at most [`ECHO_MAX`] characters (the JSON
/// encoder escapes whatever it holds).
pub(crate) fn echo(text: &str) -> String {
    if text.chars().count() <= ECHO_MAX {
        text.to_string()
    } else {
        let mut cut: String = text.chars().take(ECHO_MAX).collect();
        cut.push('…');
        cut
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_have_graphs_shape_and_echo_little() {
        let ex = Exchange::new(&HeaderMap::new(), Utc::now(), "http://127.0.0.1:9");
        let response = ex.error(&GraphError::unauthenticated("Access token is empty."));
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        let challenge = response
            .headers()
            .get(header::WWW_AUTHENTICATE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        assert!(
            challenge.contains("client_id=\"00000003-0000-0000-c000-000000000000\""),
            "{challenge}"
        );
        let long = "x".repeat(5000);
        let e = GraphError::not_found(&long);
        assert!(e.message.chars().count() < 400, "{}", e.message);
    }
}
