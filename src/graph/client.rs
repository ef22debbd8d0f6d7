//! GET against Microsoft Graph with a bearer token: the transport rule (no bearer over plain
//! http to a remote host), capped bodies, 429/503 with `Retry-After` (at most
//! [`MAX_RETRIES`] waits of at most [`MAX_WAIT`]), paging through `@odata.nextLink` (same
//! origin only, at most [`MAX_PAGES`] pages), and Graph's error JSON read leniently into
//! [`GraphError::Api`]. Also the OData pieces of a request (`(appId='…')`, `$filter`).
//!
//! Knows nothing of profiles or which objects matter (that is `reader`'s); never logs or
//! quotes the token or a body.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};
use serde_json::Value;
use url::Url;

use super::error::GraphError;
use crate::http;
use crate::secret::AccessToken;
use crate::text::{mask, sanitize};

/// Retries after 429 / 503.
pub const MAX_RETRIES: u32 = 3;
/// The longest wait for one retry, whatever `Retry-After` says.
pub const MAX_WAIT: Duration = Duration::from_secs(30);
/// Pages followed through `@odata.nextLink`.
pub const MAX_PAGES: usize = 50;
/// Characters of a non-JSON body quoted in an error.
const EXCERPT: usize = 200;

/// Everything but RFC 3986's unreserved characters: for a `$filter` value.
const QUERY_VALUE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');
/// For a key in parentheses or an id as a path segment: `'` stays (OData's quote; a quote in
/// the value is doubled first).
const PATH_VALUE: &AsciiSet = &QUERY_VALUE.remove(b'\'');

/// How the client waits before a retry (tokio's sleep; tests record instead).
pub type Sleeper = Arc<dyn Fn(Duration) -> Pin<Box<dyn Future<Output = ()> + Send>> + Send + Sync>;

/// A Microsoft Graph client for one base URL and one token.
#[derive(Clone)]
pub struct GraphClient {
    http: reqwest::Client,
    base: Url,
    token: AccessToken,
    sleeper: Sleeper,
}

impl std::fmt::Debug for GraphClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GraphClient")
            .field("base", &self.base.as_str())
            .field("token", &self.token)
            .finish()
    }
}

impl GraphClient {
    /// `base` is Graph's v1.0 URL (`https://graph.microsoft.com/v1.0`); `http` is the
    /// profile's client (timeouts, no automatic redirects).
    pub fn new(http: reqwest::Client, base: Url, token: AccessToken) -> Self {
        GraphClient {
            http,
            base,
            token,
            sleeper: Arc::new(|d| Box::pin(tokio::time::sleep(d))),
        }
    }

    /// Wait with `sleeper` instead of tokio's clock.
    pub fn with_sleeper(mut self, sleeper: Sleeper) -> Self {
        self.sleeper = sleeper;
        self
    }

    pub fn base(&self) -> &Url {
        &self.base
    }

    /// GET `{base}{path_and_query}` (which starts with `/`) as JSON.
    pub async fn get(&self, path_and_query: &str) -> Result<Value, GraphError> {
        let url = self.url_for(path_and_query)?;
        self.get_url(url, &shown(path_and_query)).await
    }

    /// GET a collection and every further page: the `value` items, in order.
    pub async fn get_all(&self, path: &str) -> Result<Vec<Value>, GraphError> {
        let shown_path = shown(path);
        let mut url = self.url_for(path)?;
        let mut items = Vec::new();
        for _ in 0..MAX_PAGES {
            let page = self.get_url(url, &shown_path).await?;
            match page.get("value") {
                Some(Value::Array(v)) => items.extend(v.iter().cloned()),
                _ => {
                    return Err(GraphError::Malformed {
                        path: shown_path,
                        detail: "a collection without a `value` list".into(),
                    });
                }
            }
            url = match page.get("@odata.nextLink") {
                None | Some(Value::Null) => return Ok(items),
                Some(Value::String(link)) => self.next_link(link, &shown_path)?,
                Some(_) => {
                    return Err(GraphError::Malformed {
                        path: shown_path,
                        detail: "@odata.nextLink is not a link".into(),
                    });
                }
            };
        }
        Err(GraphError::TooManyPages {
            path: shown_path,
            pages: MAX_PAGES,
        })
    }

    fn url_for(&self, path_and_query: &str) -> Result<Url, GraphError> {
        let bad = |reason: String| GraphError::BadUrl {
            url: sanitize(&format!("{}{path_and_query}", self.base), false),
            reason,
        };
        if !path_and_query.starts_with('/') {
            return Err(bad("the path does not start with /".into()));
        }
        let base = self.base.as_str().trim_end_matches('/');
        let url = Url::parse(&format!("{base}{path_and_query}")).map_err(|e| bad(e.to_string()))?;
        if !http::same_origin(&url, &self.base) {
            return Err(bad("it leaves Microsoft Graph's origin".into()));
        }
        Ok(url)
    }

    fn next_link(&self, link: &str, path: &str) -> Result<Url, GraphError> {
        let next = self.base.join(link).map_err(|e| GraphError::Malformed {
            path: path.to_string(),
            detail: format!("@odata.nextLink is not a URL ({e})"),
        })?;
        if !http::same_origin(&next, &self.base) {
            return Err(GraphError::ForeignNextLink {
                path: path.to_string(),
                origin: sanitize(&next.origin().ascii_serialization(), false),
            });
        }
        Ok(next)
    }

    /// One GET, retried after 429 / 503.
    async fn get_url(&self, url: Url, path: &str) -> Result<Value, GraphError> {
        http::check_transport(&url, "a bearer token").map_err(GraphError::Insecure)?;
        let mut retries = 0;
        loop {
            let resp = self
                .http
                .get(url.clone())
                .bearer_auth(self.token.expose())
                .header(reqwest::header::ACCEPT, "application/json")
                .send()
                .await
                .map_err(|e| network_error(&url, e))?;
            let status = resp.status().as_u16();
            tracing::debug!(target: "tokenscope::graph", path, status, "Graph GET");
            if status == 429 || status == 503 {
                if retries == MAX_RETRIES {
                    return Err(GraphError::Throttled {
                        status,
                        retries,
                        path: path.to_string(),
                    });
                }
                let wait = retry_after(resp.headers(), retries);
                tracing::debug!(target: "tokenscope::graph", path, wait_secs = wait.as_secs_f64(), "Graph throttled; waiting");
                (self.sleeper)(wait).await;
                retries += 1;
                continue;
            }
            if resp.status().is_redirection() {
                let location = resp
                    .headers()
                    .get(reqwest::header::LOCATION)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("(no Location header)");
                return Err(GraphError::Redirected {
                    status,
                    path: path.to_string(),
                    location: sanitize(&mask(location, &[self.token.expose()]), false),
                });
            }
            let body = http::read_capped(resp, http::MAX_BODY)
                .await
                .map_err(|e| network_error(&url, e))?;
            if body.truncated {
                return Err(GraphError::TooLarge {
                    path: path.to_string(),
                    cap: http::MAX_BODY,
                });
            }
            return self.interpret(status, &body.bytes, path);
        }
    }

    fn interpret(&self, status: u16, bytes: &[u8], path: &str) -> Result<Value, GraphError> {
        let json = serde_json::from_slice::<Value>(bytes).ok();
        match (status, json) {
            (200..=299, Some(v)) => Ok(v),
            (200..=299, None) => Err(self.unexpected(status, bytes, path)),
            (_, Some(v)) => Err(self.redacted(api_error(status, &v, path))),
            (_, None) => Err(self.unexpected(status, bytes, path)),
        }
    }

    /// Graph's error text with the token taken out, should a server echo it.
    fn redacted(&self, mut e: GraphError) -> GraphError {
        if let GraphError::Api {
            code,
            message,
            request_id,
            ..
        } = &mut e
        {
            for field in [code, message, request_id].into_iter().flatten() {
                *field = mask(field, &[self.token.expose()]);
            }
        }
        e
    }

    fn unexpected(&self, status: u16, bytes: &[u8], path: &str) -> GraphError {
        let text = String::from_utf8_lossy(bytes);
        GraphError::UnexpectedBody {
            status,
            path: path.to_string(),
            excerpt: crate::text::excerpt(&mask(&text, &[self.token.expose()]), EXCERPT),
        }
    }
}

/// Graph's `{"error": {"code", "message", "innerError": {"request-id"}}}`, each field read
/// on its own: a missing or oddly typed field is left out, the rest kept.
pub(crate) fn api_error(status: u16, v: &Value, path: &str) -> GraphError {
    let error = v.get("error");
    let field = |obj: Option<&Value>, key: &str| -> Option<String> {
        let value = obj?.get(key)?;
        let text = match value {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            Value::Bool(b) => b.to_string(),
            _ => return None,
        };
        let text = super::wire::clean(text.trim());
        let cut: String = text.chars().take(500).collect();
        (!cut.is_empty()).then_some(cut)
    };
    // `"error": "invalid_request"` (OAuth style) is a code too.
    let code = match error {
        Some(Value::String(s)) => Some(super::wire::clean(s)),
        _ => field(error, "code"),
    };
    let inner = error.and_then(|e| e.get("innerError").or_else(|| e.get("innererror")));
    GraphError::Api {
        status,
        code,
        message: field(error, "message"),
        request_id: field(inner, "request-id"),
        path: path.to_string(),
        token_from: None,
    }
}

/// The wait before retry number `retries + 1`: `Retry-After` seconds (or an HTTP date),
/// else 1 s, 2 s, 4 s; never more than [`MAX_WAIT`].
fn retry_after(headers: &reqwest::header::HeaderMap, retries: u32) -> Duration {
    let said = headers
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .and_then(|v| {
            if let Ok(secs) = v.parse::<u64>() {
                return Some(Duration::from_secs(secs));
            }
            let at = chrono::DateTime::parse_from_rfc2822(v).ok()?;
            (at.to_utc() - crate::time::now()).to_std().ok()
        });
    said.unwrap_or(Duration::from_secs(1 << retries.min(5)))
        .min(MAX_WAIT)
}

fn network_error(url: &Url, e: reqwest::Error) -> GraphError {
    let (kind, message) = http::describe_reqwest_error(&e);
    let mut shown = url.clone();
    shown.set_query(None);
    GraphError::Network {
        kind,
        url: shown.to_string(),
        message,
        source: Some(Arc::new(e)),
    }
}

/// A request path as errors show it: percent-decoded, sanitised.
fn shown(path: &str) -> String {
    sanitize(&percent_decode_str(path).decode_utf8_lossy(), false)
}

/// An OData string literal: single-quoted, quotes doubled.
pub fn odata_string(value: &str) -> String {
    format!("'{}'", value.replace('\'', "''"))
}

/// `/{collection}(appId='{app_id}')`.
pub fn by_app_id(collection: &str, app_id: &str) -> String {
    let literal = utf8_percent_encode(&odata_string(app_id), PATH_VALUE).to_string();
    format!("/{collection}(appId={literal})")
}

/// `/{collection}?$filter={property}/any(x:x eq '{value}')`, the filter percent-encoded.
pub fn filter_any_eq(collection: &str, property: &str, value: &str) -> String {
    let filter = format!("{property}/any(x:x eq {})", odata_string(value));
    format!(
        "/{collection}?$filter={}",
        utf8_percent_encode(&filter, QUERY_VALUE)
    )
}

/// An id as one path segment (`/applications/{id}/…`); ids come from Graph's answers.
pub fn segment(id: &str) -> String {
    utf8_percent_encode(id, PATH_VALUE).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn odata_requests_quote_and_encode() {
        assert_eq!(
            by_app_id("applications", "6c6f687a-96c8-4280-bba3-d11cc0b19b67"),
            "/applications(appId='6c6f687a-96c8-4280-bba3-d11cc0b19b67')"
        );
        assert_eq!(
            by_app_id("servicePrincipals", "o'brien/../x"),
            "/servicePrincipals(appId='o''brien%2F..%2Fx')"
        );
        assert_eq!(
            filter_any_eq("applications", "identifierUris", "api://weather"),
            "/applications?$filter=identifierUris%2Fany%28x%3Ax%20eq%20%27api%3A%2F%2Fweather%27%29"
        );
        let q = filter_any_eq(
            "servicePrincipals",
            "servicePrincipalNames",
            "api://it's&x=1#",
        );
        assert_eq!(
            percent_decode_str(&q).decode_utf8_lossy(),
            "/servicePrincipals?$filter=servicePrincipalNames/any(x:x eq 'api://it''s&x=1#')"
        );
        assert!(!q.contains('&') && !q.contains('#') && !q.contains(' '));
        assert_eq!(segment("a/b?c"), "a%2Fb%3Fc");
        // The URL parser keeps what was encoded.
        let u = Url::parse(&format!("https://graph.microsoft.com/v1.0{q}")).unwrap();
        assert_eq!(u.query_pairs().count(), 1);
        let (k, v) = u.query_pairs().next().unwrap();
        assert_eq!(k, "$filter");
        assert_eq!(v, "servicePrincipalNames/any(x:x eq 'api://it''s&x=1#')");
    }

    #[test]
    fn error_json_is_read_field_by_field() {
        let full = json!({"error": {"code": "Authorization_RequestDenied",
            "message": "Insufficient privileges to complete the operation.",
            "innerError": {"date": "2025-06-01T12:00:00", "request-id": "rid-1",
                           "client-request-id": "cid"}}});
        let GraphError::Api {
            status,
            code,
            message,
            request_id,
            ..
        } = api_error(403, &full, "/x")
        else {
            panic!()
        };
        assert_eq!(status, 403);
        assert_eq!(code.as_deref(), Some("Authorization_RequestDenied"));
        assert_eq!(
            message.as_deref(),
            Some("Insufficient privileges to complete the operation.")
        );
        assert_eq!(request_id.as_deref(), Some("rid-1"));

        let odd = json!({"error": {"code": 5, "message": {"nested": true},
                                    "innererror": {"request-id": "r\u{1b}[2J"}}});
        let GraphError::Api {
            code,
            message,
            request_id,
            ..
        } = api_error(500, &odd, "/x")
        else {
            panic!()
        };
        assert_eq!(code.as_deref(), Some("5"));
        assert_eq!(message, None);
        assert_eq!(request_id.as_deref(), Some("r\\u{1b}[2J"));

        for v in [json!({}), json!([]), json!({"error": null}), json!("text")] {
            let GraphError::Api { code, message, .. } = api_error(400, &v, "/x") else {
                panic!()
            };
            assert_eq!((code, message), (None, None), "{v}");
        }
        let GraphError::Api { code, .. } = api_error(400, &json!({"error": "bad"}), "/x") else {
            panic!()
        };
        assert_eq!(code.as_deref(), Some("bad"));
    }

    #[test]
    fn not_json_is_an_excerpt_without_the_token() {
        let c = GraphClient::new(
            reqwest::Client::new(),
            Url::parse("https://graph.microsoft.com/v1.0").unwrap(),
            AccessToken::new("opaque-canary-token"),
        );
        let e = c.interpret(
            502,
            b"<h1>Bad Gateway</h1> you sent opaque-canary-token",
            "/x",
        );
        let text = e.unwrap_err().to_string();
        assert!(
            text.contains("Bad Gateway") && text.contains("[redacted]"),
            "{text}"
        );
        assert!(!text.contains("canary"), "{text}");
        let echoed = br#"{"error": {"code": "x", "message": "bad token opaque-canary-token"}}"#;
        let text = c.interpret(403, echoed, "/x").unwrap_err().to_string();
        assert!(
            text.contains("bad token [redacted]") && !text.contains("canary"),
            "{text}"
        );
        let e = c.interpret(200, b"", "/x");
        assert!(e.unwrap_err().to_string().contains("an empty body"));
        assert!(c.interpret(200, b"{\"value\": []}", "/x").is_ok());
    }

    #[test]
    fn retry_waits_are_capped() {
        let mut h = reqwest::header::HeaderMap::new();
        assert_eq!(retry_after(&h, 0), Duration::from_secs(1));
        assert_eq!(retry_after(&h, 2), Duration::from_secs(4));
        h.insert(reqwest::header::RETRY_AFTER, "7".parse().unwrap());
        assert_eq!(retry_after(&h, 0), Duration::from_secs(7));
        h.insert(reqwest::header::RETRY_AFTER, "86400".parse().unwrap());
        assert_eq!(retry_after(&h, 0), MAX_WAIT);
        h.insert(reqwest::header::RETRY_AFTER, "soon".parse().unwrap());
        assert_eq!(retry_after(&h, 1), Duration::from_secs(2));
    }

    #[test]
    fn paths_stay_on_the_base() {
        let c = GraphClient::new(
            reqwest::Client::new(),
            Url::parse("https://graph.microsoft.com/v1.0").unwrap(),
            AccessToken::new("t"),
        );
        assert_eq!(
            c.url_for("/applications").unwrap().as_str(),
            "https://graph.microsoft.com/v1.0/applications"
        );
        assert!(c.url_for("applications").is_err());
        assert!(c.url_for("@evil.com/x").is_err());
        assert!(matches!(
            c.next_link("https://evil.example/v1.0/x?$skiptoken=1", "/x"),
            Err(GraphError::ForeignNextLink { .. })
        ));
        assert!(
            c.next_link("https://graph.microsoft.com/v1.0/x?$skiptoken=1", "/x")
                .is_ok()
        );
    }
}
