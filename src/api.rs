//! Calling the protected API: building the URL, sending the bearer token safely, and
//! classifying what came back (status, body shape, `WWW-Authenticate` challenges).
//!
//! Layer: above `http` and the base modules; it takes a template URL and a token, not a
//! profile. It must not import `config`, `auth`, `diagnose` or the front ends (why a call
//! was refused is `diagnose::refusal`'s business).

mod challenge;
pub mod curl;
mod weather;

use std::sync::Arc;
use std::time::{Duration, Instant};

use percent_encoding::{AsciiSet, CONTROLS, utf8_percent_encode};
use thiserror::Error;
use url::Url;

pub use challenge::{Challenge, parse_www_authenticate};
pub use weather::{Units, Weather};

use crate::http::{self, InsecureTransport, NetworkKind};
use crate::problem::Problem;
use crate::secret::AccessToken;

/// Longest city name accepted.
pub const MAX_CITY_LEN: usize = 100;
/// Redirects followed before giving up.
pub const MAX_REDIRECTS: usize = 5;

/// Characters escaped in a path segment (RFC 3986 pchar complement, plus `%`).
const SEGMENT: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'/')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'[')
    .add(b'\\')
    .add(b']')
    .add(b'^')
    .add(b'`')
    .add(b'{')
    .add(b'|')
    .add(b'}');

/// Why the API call produced no response; each says what to do in its [`Problem::hint`].
#[derive(Debug, Clone, Error)]
pub enum ApiError {
    /// The city name cannot go into the URL; the text says why.
    #[error("{0}")]
    InvalidCity(String),
    #[error("api_url {template:?} does not make a valid URL: {reason}")]
    BadUrl { template: String, reason: String },
    #[error(transparent)]
    Insecure(InsecureTransport),
    #[error("{} the API at {url}: {message}", .kind.failed_to())]
    Network {
        kind: NetworkKind,
        url: String,
        /// The most specific words of the error chain, sanitised.
        message: String,
        #[source]
        source: Option<Arc<reqwest::Error>>,
    },
    #[error("the API redirected more than {MAX_REDIRECTS} times (last: {last})")]
    TooManyRedirects { last: String },
    /// The API answered a redirect whose `Location` is not a usable http(s) URL: the API's
    /// fault, not the profile's.
    #[error("the API at {url} redirected to {location:?}, which is not a usable URL: {reason}")]
    BadRedirect {
        url: String,
        location: String,
        reason: String,
    },
}

impl Problem for ApiError {
    fn summary(&self) -> String {
        self.to_string()
    }
    fn hint(&self) -> Option<String> {
        let hint = match self {
            // The text is already what to do ("type a city name, e.g. Seattle").
            ApiError::InvalidCity(_) => return None,
            ApiError::Insecure(e) => return e.hint(),
            ApiError::BadUrl { .. } => "check api_url in the profile",
            ApiError::Network { kind, .. } => match kind {
                NetworkKind::Connect => "is the API running? check api_url",
                NetworkKind::Timeout => {
                    "the API is slow or unreachable; raise timeout in the profile if needed"
                }
                NetworkKind::Other => "check api_url and your network",
            },
            ApiError::TooManyRedirects { .. } => "point api_url at the final URL",
            ApiError::BadRedirect { .. } => {
                "the API, or a proxy in front of it, sent a redirect that cannot be followed (only http and https redirects are); ask its owners"
            }
        };
        Some(hint.to_string())
    }
}

/// Check a city name typed by a user.
pub fn validate_city(city: &str) -> Result<&str, ApiError> {
    let c = city.trim();
    if c.is_empty() {
        return Err(ApiError::InvalidCity(
            "type a city name, e.g. Seattle".into(),
        ));
    }
    if c.chars().count() > MAX_CITY_LEN {
        return Err(ApiError::InvalidCity(format!(
            "the city name is longer than {MAX_CITY_LEN} characters"
        )));
    }
    if c.chars().all(|ch| ch == '.') {
        // "." and ".." would be normalised away by URL parsing and change the path.
        return Err(ApiError::InvalidCity(format!("{c:?} is not a city name")));
    }
    if c.chars().any(char::is_control) {
        return Err(ApiError::InvalidCity(
            "the city name contains control characters".into(),
        ));
    }
    Ok(c)
}

/// The URL a call for `city` goes to, checked for everything that needs no token: the
/// city, the URL, and the transport rule (no bearer token over plain http to a host that
/// is not loopback). Every front end calls this before it asks for a token.
pub fn weather_target(template: &str, city: &str) -> Result<Url, ApiError> {
    let url = weather_url(template, city)?;
    http::check_transport(&url, "a bearer token").map_err(ApiError::Insecure)?;
    Ok(url)
}

/// Fill `{city}` in the template, percent-encoded as one path segment.
pub fn weather_url(template: &str, city: &str) -> Result<Url, ApiError> {
    let city = validate_city(city)?;
    let encoded = utf8_percent_encode(city, SEGMENT).to_string();
    let filled = template.replace("{city}", &encoded);
    Url::parse(&filled).map_err(|e| ApiError::BadUrl {
        template: crate::text::sanitize(template, false),
        reason: e.to_string(),
    })
}

/// What the body turned out to be.
#[derive(Debug, Clone, PartialEq)]
pub enum Body {
    Empty,
    /// The lecture's weather shape.
    Weather(Weather),
    /// Other JSON.
    Json(serde_json::Value),
    /// Anything else, decoded as UTF-8 (invalid bytes replaced). Not yet sanitised: use
    /// [`crate::text::sanitize`] before display.
    Text(String),
}

/// How the call ended, as a user thinks of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// 2xx.
    Success,
    /// 401: the token was missing, invalid or expired.
    Unauthorized,
    /// 403: the token is fine but lacks what the API requires (a role).
    Forbidden,
    /// Any other status.
    HttpError,
}

/// A response from the API.
#[derive(Debug, Clone)]
pub struct ApiResponse {
    /// The URL that answered (after redirects).
    pub url: Url,
    pub status: u16,
    /// From sending the request to the end of the body.
    pub latency: Duration,
    pub content_type: Option<String>,
    pub body: Body,
    /// Bytes of body read (at most [`http::MAX_BODY`]).
    pub body_len: usize,
    /// The body was longer than [`http::MAX_BODY`] and was cut.
    pub truncated: bool,
    /// Raw `WWW-Authenticate` header values (sanitised).
    pub www_authenticate: Vec<String>,
    /// Parsed challenges.
    pub challenges: Vec<Challenge>,
    /// Set when a redirect crossed origins: the token was not sent there.
    pub authorization_dropped_at: Option<Url>,
}

impl ApiResponse {
    pub fn outcome(&self) -> Outcome {
        match self.status {
            200..=299 => Outcome::Success,
            401 => Outcome::Unauthorized,
            403 => Outcome::Forbidden,
            _ => Outcome::HttpError,
        }
    }
    /// The unit system the answer's numbers are in (from the URL's `units=`).
    pub fn units(&self) -> Units {
        Units::of(&self.url)
    }
    /// The first Bearer challenge, if any.
    pub fn bearer_challenge(&self) -> Option<&Challenge> {
        self.challenges
            .iter()
            .find(|c| c.scheme.eq_ignore_ascii_case("bearer"))
    }
    /// The body as display text (sanitised), for text and JSON bodies.
    pub fn body_text(&self) -> String {
        match &self.body {
            Body::Empty => String::new(),
            // Pretty JSON escapes C0 controls only: C1 and bidi overrides are escaped too.
            Body::Weather(w) => serde_json::to_value(w)
                .map(|v| crate::text::inert_json(&v))
                .unwrap_or_default(),
            Body::Json(v) => crate::text::inert_json(v),
            Body::Text(t) => crate::text::sanitize(t, true),
        }
    }
}

/// GET the weather for `city` with the bearer token.
pub async fn call_weather(
    client: &reqwest::Client,
    template: &str,
    city: &str,
    token: &AccessToken,
) -> Result<ApiResponse, ApiError> {
    let url = weather_target(template, city)?;
    get_with_bearer(client, url, token).await
}

/// GET `url` with `Authorization: Bearer`, following redirects by hand: the header is
/// dropped as soon as a redirect leaves the original origin.
pub async fn get_with_bearer(
    client: &reqwest::Client,
    url: Url,
    token: &AccessToken,
) -> Result<ApiResponse, ApiError> {
    http::check_transport(&url, "a bearer token").map_err(ApiError::Insecure)?;
    let origin = url.clone();
    let mut current = url;
    let mut carry = true;
    let mut dropped_at = None;
    let started = Instant::now();
    for _ in 0..=MAX_REDIRECTS {
        let mut req = client.get(current.clone());
        if carry {
            req = req.bearer_auth(token.expose());
        }
        let resp = req.send().await.map_err(|e| network_error(&current, e))?;
        if resp.status().is_redirection()
            && let Some(loc) = resp.headers().get(reqwest::header::LOCATION)
        {
            let next = redirect_target(&current, loc)?;
            if carry && !http::same_origin(&origin, &next) {
                carry = false;
                dropped_at = Some(next.clone());
            }
            current = next;
            continue;
        }
        let status = resp.status().as_u16();
        let content_type = resp
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|s| crate::text::sanitize(s, false));
        let www_authenticate: Vec<String> = resp
            .headers()
            .get_all(reqwest::header::WWW_AUTHENTICATE)
            .iter()
            .map(|v| crate::text::sanitize(&String::from_utf8_lossy(v.as_bytes()), false))
            .collect();
        let challenges = www_authenticate
            .iter()
            .flat_map(|h| parse_www_authenticate(h))
            .collect();
        let body = http::read_capped(resp, http::MAX_BODY)
            .await
            .map_err(|e| network_error(&current, e))?;
        let latency = started.elapsed();
        return Ok(ApiResponse {
            url: current,
            status,
            latency,
            body: classify_body(&body.bytes, content_type.as_deref()),
            content_type,
            body_len: body.bytes.len(),
            truncated: body.truncated,
            www_authenticate,
            challenges,
            authorization_dropped_at: dropped_at,
        });
    }
    Err(ApiError::TooManyRedirects {
        last: current.to_string(),
    })
}

/// Where a redirect's `Location` points: an http(s) URL, relative ones resolved.
fn redirect_target(current: &Url, loc: &reqwest::header::HeaderValue) -> Result<Url, ApiError> {
    let bad = |location: &str, reason: String| ApiError::BadRedirect {
        url: current.to_string(),
        location: crate::text::sanitize(&crate::text::mask(location, &[]), false),
        reason,
    };
    let Ok(loc) = loc.to_str() else {
        let raw = String::from_utf8_lossy(loc.as_bytes()).into_owned();
        return Err(bad(&raw, "it is not ASCII text".into()));
    };
    let next = current.join(loc).map_err(|e| bad(loc, e.to_string()))?;
    if !matches!(next.scheme(), "http" | "https") {
        return Err(bad(loc, format!("{}: is not http or https", next.scheme())));
    }
    Ok(next)
}

fn network_error(url: &Url, e: reqwest::Error) -> ApiError {
    let (kind, message) = http::describe_reqwest_error(&e);
    ApiError::Network {
        kind,
        url: url.to_string(),
        message,
        source: Some(Arc::new(e)),
    }
}

/// Weather JSON → [`Body::Weather`], other JSON → [`Body::Json`], the rest → text.
pub fn classify_body(bytes: &[u8], content_type: Option<&str>) -> Body {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Body::Empty;
    }
    let looks_json = content_type.is_some_and(|c| c.contains("json"))
        || matches!(
            bytes.iter().find(|b| !b.is_ascii_whitespace()),
            Some(b'{' | b'[')
        );
    if looks_json && let Ok(v) = serde_json::from_slice::<serde_json::Value>(bytes) {
        return match Weather::from_json(&v) {
            Some(w) => Body::Weather(w),
            None => Body::Json(v),
        };
    }
    Body::Text(String::from_utf8_lossy(bytes).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn city_is_one_encoded_segment() {
        let t = "http://localhost:8000/api/weather/{city}?units=metric";
        assert_eq!(
            weather_url(t, "  Seattle ").unwrap().as_str(),
            "http://localhost:8000/api/weather/Seattle?units=metric"
        );
        assert_eq!(
            weather_url(t, "São Paulo/../x?y#z").unwrap().as_str(),
            "http://localhost:8000/api/weather/S%C3%A3o%20Paulo%2F..%2Fx%3Fy%23z?units=metric"
        );
        assert!(matches!(
            weather_url(t, ".."),
            Err(ApiError::InvalidCity(_))
        ));
        assert_eq!(
            weather_url(t, "St. Louis").unwrap().path(),
            "/api/weather/St.%20Louis"
        );
        assert!(matches!(weather_url(t, " "), Err(ApiError::InvalidCity(_))));
        assert!(matches!(
            weather_url(t, "a\u{1b}b"),
            Err(ApiError::InvalidCity(_))
        ));
        assert!(matches!(
            weather_url(t, &"x".repeat(101)),
            Err(ApiError::InvalidCity(_))
        ));
    }

    #[test]
    fn api_errors_are_summary_and_hint() {
        let network = ApiError::Network {
            kind: NetworkKind::Connect,
            url: "http://127.0.0.1:1/api/weather/x".into(),
            message: "Connection refused".into(),
            source: None,
        };
        assert_eq!(
            network.full_text(),
            "could not connect to the API at http://127.0.0.1:1/api/weather/x: Connection refused\nhint: is the API running? check api_url"
        );
        for e in [
            network,
            ApiError::InvalidCity("type a city name, e.g. Seattle".into()),
            ApiError::BadUrl {
                template: "x{city}".into(),
                reason: "relative URL without a base".into(),
            },
            ApiError::TooManyRedirects {
                last: "https://a/".into(),
            },
        ] {
            crate::problem::assert_keeps_convention(&e);
        }
    }

    #[test]
    fn bodies_are_classified() {
        let w = classify_body(br#"{"temp":12.5,"humidity":80}"#, Some("application/json"));
        assert!(matches!(
            w,
            Body::Weather(Weather {
                temp: Some(12.5),
                humidity: Some(80.0),
                ..
            })
        ));
        let j = classify_body(br#"{"detail":"nope"}"#, None);
        assert!(matches!(j, Body::Json(_)));
        let t = classify_body(b"IDW10203: The \"role\" claim", Some("text/plain"));
        assert!(matches!(t, Body::Text(_)));
        assert_eq!(classify_body(b"  \n", None), Body::Empty);
        let bad = classify_body(&[0xff, 0xfe, b'a'], None);
        assert_eq!(bad, Body::Text("\u{fffd}\u{fffd}a".into()));
    }

    #[test]
    fn the_target_is_checked_before_any_token() {
        let ok = weather_target("http://127.0.0.1:8000/api/weather/{city}", "Seattle").unwrap();
        assert_eq!(ok.as_str(), "http://127.0.0.1:8000/api/weather/Seattle");
        for remote in [
            "http://api.contoso.com/api/weather/{city}",
            "http://localhost.evil.example/api/weather/{city}",
            "http://api.localhost/api/weather/{city}",
            "http://localhost./api/weather/{city}",
        ] {
            assert!(
                matches!(
                    weather_target(remote, "Seattle"),
                    Err(ApiError::Insecure(_))
                ),
                "{remote}"
            );
        }
        assert!(matches!(
            weather_target("https://api.contoso.com/{city}", ""),
            Err(ApiError::InvalidCity(_))
        ));
    }

    #[test]
    fn a_broken_location_is_the_apis_fault() {
        use reqwest::header::HeaderValue;
        let here = Url::parse("https://api.contoso.com/api/weather/x").unwrap();
        for loc in [
            HeaderValue::from_static("http://[::zz/"),
            HeaderValue::from_static("file:///etc/passwd"),
            HeaderValue::from_static("javascript:alert(1)"),
            HeaderValue::from_bytes(b"/caf\xe9").unwrap(),
        ] {
            let e = redirect_target(&here, &loc).unwrap_err();
            assert!(matches!(e, ApiError::BadRedirect { .. }), "{loc:?}: {e}");
            crate::problem::assert_keeps_convention(&e);
        }
        let rel = redirect_target(&here, &HeaderValue::from_static("/v2/x?y=1")).unwrap();
        assert_eq!(rel.as_str(), "https://api.contoso.com/v2/x?y=1");
    }

    #[test]
    fn json_bodies_are_shown_with_c1_and_bidi_escaped() {
        let v = classify_body(
            "{\"detail\":\"a\u{9b}31m\u{202e}b\\u001bc\u{2066}\"}".as_bytes(),
            Some("application/json"),
        );
        let resp = ApiResponse {
            url: Url::parse("http://localhost/x").unwrap(),
            status: 403,
            latency: Duration::ZERO,
            content_type: None,
            body: v,
            body_len: 0,
            truncated: false,
            www_authenticate: vec![],
            challenges: vec![],
            authorization_dropped_at: None,
        };
        let text = resp.body_text();
        assert!(
            !text.chars().any(|c| (c.is_control() && c != '\n')
                || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')),
            "{text:?}"
        );
        assert!(matches!(resp.body, Body::Json(_)), "{:?}", resp.body);
        assert!(
            text.contains("\\u009b") && text.contains("\\u202e"),
            "{text}"
        );
    }
}
