//! The protected weather API: validates bearer tokens the way a real resource server does
//! (signature by `kid` against the sandbox's own keys, lifetime with 5 minutes of skew,
//! audience, issuer, then the required app role) and answers like the lecture's API.
//!
//! Owns the resource server's checks and its refusals (401 / 403 with `WWW-Authenticate`).
//! Must not reach into the identity provider's code: like a real API it knows only the
//! published keys, the issuer and the audience, through the shared state.

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use jsonwebtoken::{Algorithm, Validation};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::model::TokenVersion;
use super::oauth::bearer_token;
use super::state::{AppState, Shared};
use super::stats::Endpoint;

/// Clock skew tolerated on `exp` and `nbf`, as ASP.NET / Microsoft.IdentityModel do.
const SKEW_SECS: i64 = 300;

/// Why a request was refused.
enum Refusal {
    /// No bearer token at all: `WWW-Authenticate: Bearer`, nothing else (RFC 6750 §3.1).
    NoToken,
    /// 401 `invalid_token` with a description naming what failed.
    InvalidToken(String),
    /// 403 `insufficient_scope`: the role is missing.
    MissingRole(String),
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        match self {
            Refusal::NoToken => (
                StatusCode::UNAUTHORIZED,
                [(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"))],
            )
                .into_response(),
            Refusal::InvalidToken(description) => (
                StatusCode::UNAUTHORIZED,
                [(
                    header::WWW_AUTHENTICATE,
                    challenge("invalid_token", &description),
                )],
            )
                .into_response(),
            Refusal::MissingRole(role) => {
                let text = format!(
                    "IDW10203: The \"role\" claim does not contain role {role} or was not found"
                );
                (
                    StatusCode::FORBIDDEN,
                    [
                        (
                            header::WWW_AUTHENTICATE,
                            challenge("insufficient_scope", &text),
                        ),
                        (
                            header::CONTENT_TYPE,
                            HeaderValue::from_static("text/plain; charset=utf-8"),
                        ),
                    ],
                    text,
                )
                    .into_response()
            }
        }
    }
}

/// `Bearer error="…", error_description="…"`, with the description made header-safe:
/// quotes and backslashes escaped (RFC 7230 quoted-string), anything outside printable
/// ASCII replaced, since it may echo claims from the token.
fn challenge(error: &str, description: &str) -> HeaderValue {
    let mut safe = String::with_capacity(description.len());
    for c in description.chars() {
        match c {
            '"' | '\\' => {
                safe.push('\\');
                safe.push(c);
            }
            ' '..='~' => safe.push(c),
            _ => safe.push('?'),
        }
    }
    HeaderValue::from_str(&format!(
        "Bearer error=\"{error}\", error_description=\"{safe}\""
    ))
    .unwrap_or_else(|_| HeaderValue::from_static("Bearer error=\"invalid_token\""))
}

/// ASP.NET's invariant-culture date format, as in "The token expired at '…'".
fn dotnet_date(ts: i64) -> String {
    DateTime::<Utc>::from_timestamp(ts, 0)
        .map(|d| d.format("%m/%d/%Y %H:%M:%S").to_string())
        .unwrap_or_else(|| ts.to_string())
}

fn string_claim<'a>(claims: &'a Value, name: &str) -> Option<&'a str> {
    claims.get(name).and_then(Value::as_str)
}

/// Validates the token and the role. Returns the claims on success.
fn authorize(shared: &Shared, headers: &HeaderMap) -> Result<Value, Refusal> {
    let token = bearer_token(headers).ok_or(Refusal::NoToken)?;
    let malformed = || Refusal::InvalidToken("The token is malformed".into());
    let header = jsonwebtoken::decode_header(token).map_err(|_| malformed())?;
    if header.alg != Algorithm::RS256 {
        return Err(Refusal::InvalidToken(format!(
            "The algorithm '{:?}' is not supported",
            header.alg
        )));
    }
    let not_found = || Refusal::InvalidToken("The signature key was not found".into());
    let kid = header.kid.as_deref().ok_or_else(not_found)?;
    let key = shared.find_key(kid).ok_or_else(not_found)?;

    // jsonwebtoken checks the signature only; times, audience and issuer are checked below
    // against the sandbox clock, with ASP.NET's wording.
    let mut validation = Validation::new(Algorithm::RS256);
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.validate_aud = false;
    validation.required_spec_claims.clear();
    let claims = jsonwebtoken::decode::<Value>(token, &key.decoding, &validation)
        .map_err(|e| match e.kind() {
            jsonwebtoken::errors::ErrorKind::InvalidSignature => {
                Refusal::InvalidToken("The signature is invalid".into())
            }
            _ => malformed(),
        })?
        .claims;

    let now = shared.now().timestamp();
    let exp = claims
        .get("exp")
        .and_then(Value::as_i64)
        .ok_or_else(|| Refusal::InvalidToken("The token has no expiration".into()))?;
    if now > exp + SKEW_SECS {
        return Err(Refusal::InvalidToken(format!(
            "The token expired at '{}'",
            dotnet_date(exp)
        )));
    }
    if let Some(nbf) = claims.get("nbf").and_then(Value::as_i64)
        && now + SKEW_SECS < nbf
    {
        return Err(Refusal::InvalidToken(format!(
            "The token is not valid before '{}'",
            dotnet_date(nbf)
        )));
    }

    let (tenant_id, api_client_id, app_id_uri, required_role) = {
        let state = shared.read();
        let m = &state.model;
        (
            m.tenant.id.clone(),
            m.api.client_id.clone(),
            m.api.app_id_uri.clone(),
            m.api.required_role.clone(),
        )
    };
    let version = match string_claim(&claims, "ver") {
        Some("1.0") => TokenVersion::V1,
        Some("2.0") => TokenVersion::V2,
        other => {
            return Err(Refusal::InvalidToken(format!(
                "The token version '{}' is not supported",
                other.unwrap_or("")
            )));
        }
    };
    let audiences: Vec<&str> = match claims.get("aud") {
        Some(Value::String(s)) => vec![s.as_str()],
        Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    let aud_ok = audiences.iter().any(|aud| match version {
        TokenVersion::V2 => aud.eq_ignore_ascii_case(&api_client_id),
        TokenVersion::V1 => {
            aud.eq_ignore_ascii_case(&app_id_uri) || aud.eq_ignore_ascii_case(&api_client_id)
        }
    });
    if !aud_ok {
        return Err(Refusal::InvalidToken(format!(
            "The audience '{}' is invalid",
            audiences.join(", ")
        )));
    }
    let iss = string_claim(&claims, "iss").unwrap_or("");
    if iss != shared.issuer(version, &tenant_id) {
        return Err(Refusal::InvalidToken(format!(
            "The issuer '{iss}' is invalid"
        )));
    }

    let has_role = match claims.get("roles") {
        Some(Value::Array(roles)) => roles
            .iter()
            .filter_map(Value::as_str)
            .any(|r| r.eq_ignore_ascii_case(&required_role)),
        Some(Value::String(r)) => r.eq_ignore_ascii_case(&required_role),
        _ => false,
    };
    if !has_role {
        return Err(Refusal::MissingRole(required_role));
    }
    Ok(claims)
}

/// Units the API accepts, as in OpenWeather.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Units {
    Metric,
    Imperial,
    Standard,
}

fn bad_request(text: String) -> Response {
    (
        StatusCode::BAD_REQUEST,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        text,
    )
        .into_response()
}

/// `GET /api/weather/{city}?country=US&units=metric`
pub(crate) async fn weather(
    State(shared): State<AppState>,
    city: Result<Path<String>, PathRejection>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    shared.count(Endpoint::Api);
    if let Err(refusal) = authorize(&shared, &headers) {
        return refusal.into_response();
    }
    let Ok(Path(city)) = city else {
        return bad_request("Invalid city: the path is not valid percent-encoded UTF-8".into());
    };
    let mut country = "US".to_string();
    let mut units = "metric".to_string();
    for (k, v) in url::form_urlencoded::parse(query.as_deref().unwrap_or("").as_bytes()) {
        match k.as_ref() {
            "country" => country = v.into_owned(),
            "units" => units = v.into_owned(),
            _ => {}
        }
    }
    if country.len() != 2 || !country.chars().all(|c| c.is_ascii_alphabetic()) {
        return bad_request(format!(
            "Invalid country code '{}': expected a two-letter ISO 3166 code such as US or GB",
            country.escape_debug()
        ));
    }
    let units = match units.as_str() {
        "metric" => Units::Metric,
        "imperial" => Units::Imperial,
        "standard" => Units::Standard,
        other => {
            return bad_request(format!(
                "Invalid units '{}': expected one of metric, imperial, standard",
                other.escape_debug()
            ));
        }
    };
    let city = city.trim();
    if city.is_empty() || city.chars().count() > 100 || city.chars().any(char::is_control) {
        return bad_request("Invalid city: expected a city name of 1 to 100 characters".into());
    }
    let date = shared.now().date_naive().to_string();
    let body = synthetic_weather(city, &country, &date, units);
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json; charset=utf-8")],
        body.to_string(),
    )
        .into_response()
}

/// Plausible, deterministic weather for (city, country, UTC date); the same conditions
/// expressed in the requested units.
pub(crate) fn synthetic_weather(city: &str, country: &str, date: &str, units: Units) -> Value {
    let seed = Sha256::digest(
        format!(
            "{}|{}|{date}",
            city.to_lowercase(),
            country.to_ascii_uppercase()
        )
        .as_bytes(),
    );
    let unit = |i: usize| f64::from(u16::from_be_bytes([seed[i], seed[i + 1]])) / 65535.0;
    let temp_c = -10.0 + 45.0 * unit(0);
    let feels_c = temp_c + (unit(2) - 0.5) * 6.0;
    let min_c = temp_c - 4.0 * unit(4);
    let max_c = temp_c + 4.0 * unit(6);
    let pressure = 980 + (unit(8) * 60.0).round() as i64;
    let humidity = 20 + (unit(10) * 80.0).round() as i64;
    let convert = |c: f64| {
        let v = match units {
            Units::Metric => c,
            Units::Imperial => c * 9.0 / 5.0 + 32.0,
            Units::Standard => c + 273.15,
        };
        (v * 100.0).round() / 100.0
    };
    json!({
        "temp": convert(temp_c),
        "feels_like": convert(feels_c),
        "temp_min": convert(min_c),
        "temp_max": convert(max_c),
        "pressure": pressure,
        "humidity": humidity,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sandbox() -> Shared {
        Shared::for_tests()
    }

    /// Valid v2 claims for the built-in tenant, which tests then break one at a time.
    fn v2_claims(shared: &Shared) -> Value {
        let state = shared.read();
        let m = &state.model;
        let now = shared.now().timestamp();
        json!({
            "aud": m.api.client_id,
            "iss": format!("http://127.0.0.1:9/{}/v2.0", m.tenant.id),
            "iat": now - 300, "nbf": now - 300, "exp": now + 3600,
            "roles": ["Weather.Read"],
            "tid": m.tenant.id,
            "ver": "2.0",
        })
    }

    fn check(shared: &Shared, claims: &Value) -> Result<Value, String> {
        let token = shared.read().current_key.sign(claims, false).expect("sign");
        let mut headers = HeaderMap::new();
        headers.insert(
            header::AUTHORIZATION,
            HeaderValue::from_str(&format!("Bearer {token}")).expect("header"),
        );
        authorize(shared, &headers).map_err(|r| match r {
            Refusal::NoToken => "no token".to_string(),
            Refusal::InvalidToken(d) => d,
            Refusal::MissingRole(role) => format!("missing {role}"),
        })
    }

    #[test]
    fn each_validation_step_names_what_failed() {
        let shared = sandbox();
        let good = v2_claims(&shared);
        assert!(check(&shared, &good).is_ok());

        let with = |key: &str, value: Value| {
            let mut c = good.clone();
            c[key] = value;
            c
        };
        assert_eq!(
            check(&shared, &with("iss", json!("https://evil.example/v2.0"))),
            Err("The issuer 'https://evil.example/v2.0' is invalid".into())
        );
        // A v1 issuer on a v2 token is wrong too.
        let v1_iss = format!("http://127.0.0.1:9/{}/", shared.tenant_id());
        assert_eq!(
            check(&shared, &with("iss", json!(v1_iss.clone()))),
            Err(format!("The issuer '{v1_iss}' is invalid"))
        );
        assert_eq!(
            check(&shared, &with("aud", json!("api://someone-else"))),
            Err("The audience 'api://someone-else' is invalid".into())
        );
        // v2 tokens must use the GUID audience, not the App ID URI.
        let app_id_uri = shared.read().model.api.app_id_uri.clone();
        assert!(check(&shared, &with("aud", json!(app_id_uri.clone()))).is_err());
        let future = shared.now().timestamp() + 600;
        assert_eq!(
            check(&shared, &with("nbf", json!(future))),
            Err(format!(
                "The token is not valid before '{}'",
                dotnet_date(future)
            ))
        );
        let mut no_exp = good.clone();
        no_exp.as_object_mut().expect("object").remove("exp");
        assert_eq!(
            check(&shared, &no_exp),
            Err("The token has no expiration".into())
        );
        assert_eq!(
            check(&shared, &with("ver", json!("3.0"))),
            Err("The token version '3.0' is not supported".into())
        );
        // Roles compare case-insensitively and may be a single string.
        assert!(check(&shared, &with("roles", json!(["WEATHER.READ"]))).is_ok());
        assert!(check(&shared, &with("roles", json!("weather.read"))).is_ok());
        assert_eq!(
            check(&shared, &with("roles", json!(["Weather.Write"]))),
            Err("missing Weather.Read".into())
        );

        // v1 tokens: v1 issuer, App ID URI or GUID audience.
        let mut v1 = with("ver", json!("1.0"));
        v1["iss"] = json!(v1_iss);
        v1["aud"] = json!(app_id_uri);
        assert!(check(&shared, &v1).is_ok());
        v1["aud"] = json!(shared.read().model.api.client_id.clone());
        assert!(check(&shared, &v1).is_ok());
    }

    #[test]
    fn a_missing_or_foreign_scheme_is_no_token() {
        let shared = sandbox();
        let mut headers = HeaderMap::new();
        assert!(matches!(
            authorize(&shared, &headers),
            Err(Refusal::NoToken)
        ));
        headers.insert(header::AUTHORIZATION, HeaderValue::from_static("Basic abc"));
        assert!(matches!(
            authorize(&shared, &headers),
            Err(Refusal::NoToken)
        ));
        headers.insert(header::AUTHORIZATION, HeaderValue::from_static("Bearer "));
        assert!(matches!(
            authorize(&shared, &headers),
            Err(Refusal::NoToken)
        ));
    }

    #[test]
    fn weather_is_deterministic_plausible_and_consistent_across_units() {
        let a = synthetic_weather("London", "GB", "2026-11-27", Units::Metric);
        let b = synthetic_weather("lONDON", "gb", "2026-11-27", Units::Metric);
        assert_eq!(a, b);
        let other_day = synthetic_weather("London", "GB", "2026-11-28", Units::Metric);
        assert_ne!(a, other_day);
        let num = |v: &Value, k: &str| v[k].as_f64().expect("number");
        assert!((-15.0..=45.0).contains(&num(&a, "temp")));
        assert!(num(&a, "temp_min") <= num(&a, "temp"));
        assert!(num(&a, "temp") <= num(&a, "temp_max"));
        assert!((980.0..=1040.0).contains(&num(&a, "pressure")));
        let humidity = a["humidity"].as_i64().expect("integer humidity");
        assert!((20..=100).contains(&humidity));

        let f = synthetic_weather("London", "GB", "2026-11-27", Units::Imperial);
        let k = synthetic_weather("London", "GB", "2026-11-27", Units::Standard);
        assert!((num(&f, "temp") - (num(&a, "temp") * 1.8 + 32.0)).abs() < 0.05);
        assert!((num(&k, "temp") - (num(&a, "temp") + 273.15)).abs() < 0.05);
        assert_eq!(f["pressure"], a["pressure"]);
    }

    #[test]
    fn challenges_are_header_safe() {
        let v = challenge("insufficient_scope", "a \"role\" \u{1b}[31m");
        assert_eq!(
            v.to_str().expect("ascii"),
            "Bearer error=\"insufficient_scope\", error_description=\"a \\\"role\\\" ?[31m\""
        );
        assert_eq!(dotnet_date(1_795_802_400), "11/27/2026 18:00:00");
    }
}
