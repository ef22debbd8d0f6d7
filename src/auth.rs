//! Getting an app-only token: the client-credentials request, typed success and error
//! responses (Entra's error JSON, or whatever a proxy put in the way), the persistent token
//! cache and the token manager (single flight, background refresh).
//!
//! Layer: above `config` (a resolved [`Profile`]), `credential` (the proof a request
//! carries) and `http`. It must not import `api`, `diagnose` or the front ends.

mod cache;
mod manager;
mod response;

use std::sync::Arc;

use chrono::{DateTime, Utc};
use thiserror::Error;
use url::Url;

pub use cache::{CacheEntry, CacheError, CacheKey, EntryLock, TokenCache};
pub use manager::{
    CachedToken, ManagerOptions, Phase, TokenEvent, TokenHandle, TokenManager, TokenSnapshot,
    TokenSource, TokenUpdate,
};
pub use response::{EntraError, TokenResponse};

use crate::config::Profile;
use crate::credential::{ASSERTION_TYPE, ClientProof, CredentialError};
use crate::http::{self, InsecureTransport, NetworkKind};
use crate::problem::Problem;
use crate::text::sanitize;

/// The longest `Retry-After` honoured.
pub const MAX_RETRY_AFTER: std::time::Duration = std::time::Duration::from_secs(3600);

/// Why no token was obtained. Each says what to do in its [`Problem::hint`], except an
/// identity provider's refusal, which the AADSTS knowledge base explains.
#[derive(Debug, Clone, Error)]
pub enum TokenError {
    /// The identity provider answered with an OAuth error (Entra's JSON).
    #[error("{}", rejected_text(*.status, .entra))]
    Rejected {
        status: u16,
        entra: Box<EntraError>,
        /// `Retry-After` seconds (429/503).
        retry_after: Option<u64>,
    },
    /// An answer that is not the JSON an identity provider sends (an HTML page from a proxy,
    /// an empty body, …).
    #[error("the token endpoint answered HTTP {status} with {}", if .excerpt.is_empty() { "an empty body".to_string() } else { format!("a non-JSON body: \"{}\"", .excerpt) })]
    UnexpectedResponse {
        status: u16,
        excerpt: String,
        /// `Retry-After` seconds (429/503).
        retry_after: Option<u64>,
    },
    /// JSON, but not a usable token response.
    #[error(
        "the token endpoint answered HTTP {status} with JSON that is not a token response: {detail}"
    )]
    Malformed { status: u16, detail: String },
    /// The token endpoint redirected; token requests are never re-sent elsewhere.
    #[error("the token endpoint answered HTTP {status} redirecting to {location}")]
    Redirected { status: u16, location: String },
    #[error("{} the token endpoint {url}: {message}", .kind.failed_to())]
    Network {
        kind: NetworkKind,
        url: String,
        /// The most specific words of the error chain, sanitised.
        message: String,
        #[source]
        source: Option<Arc<reqwest::Error>>,
    },
    #[error(transparent)]
    Insecure(InsecureTransport),
    /// The certificate or federated token could not be turned into a client assertion.
    #[error(transparent)]
    Credential(CredentialError),
    #[error("the token endpoint URL {url:?} is not valid: {reason}")]
    BadEndpoint { url: String, reason: String },
}

impl Problem for TokenError {
    fn summary(&self) -> String {
        match self {
            TokenError::Rejected { status, entra, .. } => rejected_summary(*status, entra),
            TokenError::Insecure(e) => e.summary(),
            TokenError::Credential(e) => e.summary(),
            other => other.to_string(),
        }
    }
    fn detail(&self) -> Option<String> {
        match self {
            TokenError::Rejected { entra, .. } => rejected_ids(entra),
            TokenError::Credential(e) => e.detail(),
            _ => None,
        }
    }
    fn hint(&self) -> Option<String> {
        let hint = match self {
            // What to do depends on the code: the knowledge base says (diagnose::aadsts).
            TokenError::Rejected { .. } => return None,
            TokenError::Insecure(e) => return e.hint(),
            TokenError::Credential(e) => return e.hint(),
            TokenError::UnexpectedResponse { .. } => {
                "check token_endpoint / authority; something other than the identity provider (a proxy, a wrong URL) answered"
            }
            TokenError::Malformed { .. } => {
                "check that token_endpoint points at an OAuth 2.0 token endpoint"
            }
            TokenError::Redirected { .. } => {
                "set authority (or token_endpoint) to the final URL; a client secret is never re-sent to a redirect target"
            }
            TokenError::Network { kind, .. } => match kind {
                NetworkKind::Connect => {
                    "check the authority host and your network; is the identity provider running?"
                }
                NetworkKind::Timeout => {
                    "the identity provider is slow or unreachable; raise connect_timeout/timeout in the profile if needed"
                }
                NetworkKind::Other => "check the authority URL and your network",
            },
            TokenError::BadEndpoint { .. } => "check authority / token_endpoint in the profile",
        };
        Some(hint.to_string())
    }
}

impl TokenError {
    /// The AADSTS code, when the identity provider gave one.
    pub fn aadsts_code(&self) -> Option<u64> {
        match self {
            TokenError::Rejected { entra, .. } => entra.code(),
            _ => None,
        }
    }
    /// A few words for a status line: "connection refused", "AADSTS7000222: …", "HTTP 502".
    pub fn short_reason(&self) -> String {
        match self {
            TokenError::Rejected { entra, .. } => entra.summary(),
            TokenError::UnexpectedResponse { status, .. }
            | TokenError::Malformed { status, .. } => {
                format!("HTTP {status} from the token endpoint")
            }
            TokenError::Redirected { status, .. } => format!("HTTP {status} redirect"),
            TokenError::Network {
                kind: NetworkKind::Timeout,
                ..
            } => "timed out".into(),
            TokenError::Network { message, .. } => {
                // "Connection refused (os error 111)" → "connection refused"
                let m = message.split(" (os error").next().unwrap_or(message);
                let mut c = m.chars();
                match c.next() {
                    Some(f) => f.to_lowercase().chain(c).collect(),
                    None => "network error".into(),
                }
            }
            TokenError::Insecure(_) => "refused: plain http to a remote host".into(),
            TokenError::BadEndpoint { .. } => "invalid token endpoint URL".into(),
            TokenError::Credential(_) => "the client credential could not be used".into(),
        }
    }

    /// The server's `Retry-After`, at most [`MAX_RETRY_AFTER`] (a server asking for days
    /// is asking too much; the back-off still honours everything up to it).
    pub fn retry_after(&self) -> Option<std::time::Duration> {
        match self {
            TokenError::Rejected { retry_after, .. }
            | TokenError::UnexpectedResponse { retry_after, .. } => {
                retry_after.map(|s| std::time::Duration::from_secs(s).min(MAX_RETRY_AFTER))
            }
            _ => None,
        }
    }
    /// True for failures worth retrying later (network trouble, 429, 5xx).
    pub fn is_transient(&self) -> bool {
        match self {
            TokenError::Network { .. } => true,
            TokenError::Rejected { status, .. }
            | TokenError::UnexpectedResponse { status, .. }
            | TokenError::Malformed { status, .. } => *status == 429 || *status >= 500,
            _ => false,
        }
    }
}

/// "token request refused (HTTP 401, invalid_client): AADSTS7000215: …" and, on the next
/// line, Entra's trace and correlation ids.
fn rejected_text(status: u16, e: &EntraError) -> String {
    let summary = rejected_summary(status, e);
    match rejected_ids(e) {
        Some(ids) => format!("{summary}\n{ids}"),
        None => summary,
    }
}

fn rejected_summary(status: u16, e: &EntraError) -> String {
    format!(
        "token request refused (HTTP {status}, {}): {}",
        sanitize(&e.error, false),
        e.summary()
    )
}

/// "(trace id …, correlation id …)", when Entra sent either.
fn rejected_ids(e: &EntraError) -> Option<String> {
    let ids: Vec<String> = [
        ("trace id", &e.trace_id),
        ("correlation id", &e.correlation_id),
    ]
    .into_iter()
    .filter_map(|(k, v)| v.as_ref().map(|v| format!("{k} {}", sanitize(v, false))))
    .collect();
    (!ids.is_empty()).then(|| format!("({})", ids.join(", ")))
}

/// Request an app-only token with the client-credentials grant.
pub async fn request_token(
    http_client: &reqwest::Client,
    profile: &Profile,
) -> Result<TokenResponse, TokenError> {
    let endpoint = &profile.token_endpoint;
    let url = Url::parse(endpoint).map_err(|e| TokenError::BadEndpoint {
        url: sanitize(endpoint, false),
        reason: e.to_string(),
    })?;
    http::check_transport(&url, "the client credential").map_err(TokenError::Insecure)?;

    let mut form: Vec<(&str, &str)> = vec![
        ("grant_type", "client_credentials"),
        ("client_id", &profile.client_id),
        ("scope", &profile.scope),
    ];
    let proof = profile
        .credential
        .proof(&profile.client_id, endpoint, Utc::now())
        .map_err(TokenError::Credential)?;
    match &proof {
        ClientProof::Secret(secret) => form.push(("client_secret", secret.expose())),
        ClientProof::Assertion(assertion) => {
            form.push(("client_assertion_type", ASSERTION_TYPE));
            form.push(("client_assertion", assertion.expose()));
        }
    }

    let sent_at = Utc::now();
    let resp = http_client
        .post(url.clone())
        .header(reqwest::header::ACCEPT, "application/json")
        .form(&form)
        .send()
        .await
        .map_err(|e| network_error(&url, e))?;
    let status = resp.status().as_u16();
    if resp.status().is_redirection() {
        let location = resp
            .headers()
            .get(reqwest::header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("(no Location header)");
        return Err(TokenError::Redirected {
            status,
            location: sanitize(&crate::text::mask(location, &[]), false),
        });
    }
    let server_date = resp
        .headers()
        .get(reqwest::header::DATE)
        .and_then(|v| server_date(v.as_bytes()));
    let retry_after = resp
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    let body = http::read_capped(resp, http::MAX_BODY)
        .await
        .map_err(|e| network_error(&url, e))?;
    response::parse(status, &body.bytes, sent_at, server_date).map_err(|mut e| {
        if let TokenError::Rejected { retry_after: r, .. }
        | TokenError::UnexpectedResponse { retry_after: r, .. } = &mut e
        {
            *r = retry_after;
        }
        e
    })
}

/// The longest `Date` header value read (an IMF-fixdate is 29 bytes).
const MAX_DATE_LEN: usize = 64;

/// An HTTP `Date` header (RFC 9110's IMF-fixdate, which RFC 2822 parsing reads), when it is
/// one: anything longer than [`MAX_DATE_LEN`], not text, or not a date is no date.
pub fn server_date(value: &[u8]) -> Option<DateTime<Utc>> {
    if value.len() > MAX_DATE_LEN {
        return None;
    }
    let text = std::str::from_utf8(value).ok()?;
    DateTime::parse_from_rfc2822(text.trim())
        .ok()
        .map(|d| d.with_timezone(&Utc))
}

fn network_error(url: &Url, e: reqwest::Error) -> TokenError {
    let (kind, message) = http::describe_reqwest_error(&e);
    TokenError::Network {
        kind,
        url: url.to_string(),
        message,
        source: Some(Arc::new(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::problem::assert_keeps_convention;

    fn rejected(trace: bool) -> TokenError {
        TokenError::Rejected {
            status: 401,
            entra: Box::new(EntraError {
                error: "invalid_client".into(),
                error_description: Some(
                    "AADSTS7000215: Invalid client secret provided. More.".into(),
                ),
                error_codes: vec![7000215],
                trace_id: trace.then(|| "t-1".into()),
                correlation_id: trace.then(|| "c-2".into()),
                ..Default::default()
            }),
            retry_after: None,
        }
    }

    #[test]
    fn token_errors_are_summary_detail_and_hint() {
        let all = [
            rejected(true),
            rejected(false),
            TokenError::UnexpectedResponse {
                status: 502,
                excerpt: String::new(),
                retry_after: None,
            },
            TokenError::Malformed {
                status: 200,
                detail: "missing access_token".into(),
            },
            TokenError::Redirected {
                status: 302,
                location: "https://elsewhere/".into(),
            },
            TokenError::Network {
                kind: NetworkKind::Timeout,
                url: "https://login.example/t".into(),
                message: "operation timed out".into(),
                source: None,
            },
            TokenError::Insecure(InsecureTransport {
                what: "the client credential",
                host: "login.example".into(),
            }),
            TokenError::Credential(
                crate::credential::FederatedError::Empty {
                    path: "/var/run/t".into(),
                }
                .into(),
            ),
            TokenError::BadEndpoint {
                url: "nope".into(),
                reason: "relative URL without a base".into(),
            },
        ];
        for e in &all {
            assert_keeps_convention(e);
            // A refusal is explained by the AADSTS knowledge base, not a hint.
            assert_eq!(
                e.hint().is_none(),
                matches!(e, TokenError::Rejected { .. }),
                "{e}"
            );
        }
    }

    #[test]
    fn a_date_header_is_read_only_when_it_is_a_short_date() {
        let d = server_date(b"Wed, 02 Dec 2026 03:04:50 GMT").unwrap();
        assert_eq!(d.to_rfc3339(), "2026-12-02T03:04:50+00:00");
        for bad in [
            &b""[..],
            b"yesterday",
            b"Wed, 02 Dec 2026 03:04:50 GMT                                      padding",
            b"\xff\xfe",
            b"Wed, 32 Dec 2026 03:04:50 GMT",
        ] {
            assert_eq!(server_date(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn the_text_a_user_reads_is_unchanged() {
        assert_eq!(
            rejected(true).full_text(),
            "token request refused (HTTP 401, invalid_client): AADSTS7000215: Invalid client secret provided.\n(trace id t-1, correlation id c-2)"
        );
        assert_eq!(rejected(false).detail(), None);
        let e = TokenError::Network {
            kind: NetworkKind::Connect,
            url: "http://127.0.0.1:1/t".into(),
            message: "Connection refused".into(),
            source: None,
        };
        assert_eq!(
            e.full_text(),
            "could not connect to the token endpoint http://127.0.0.1:1/t: Connection refused\nhint: check the authority host and your network; is the identity provider running?"
        );
        let e = TokenError::Insecure(InsecureTransport {
            what: "the client credential",
            host: "login.example".into(),
        });
        assert_eq!(
            e.full_text(),
            "refusing to send the client credential over plain http to login.example: anyone on the network could read it\nhint: use https:// for this URL (plain http is allowed only for localhost / 127.0.0.1 / ::1)"
        );
    }
}
