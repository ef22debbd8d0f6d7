//! Parsing token endpoint answers: success (`expires_in` as number or string) and Entra's
//! error JSON, read field by field (a field of the wrong type is dropped, never the whole
//! error); anything else becomes a short sanitised excerpt. Every excerpt and parser message
//! quoting the body is [masked](crate::text::mask): a token in a broken answer is never shown.
//!
//! Pure parsing of bytes already read (size-capped by the caller); no I/O.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer};

use super::TokenError;
use crate::secret::AccessToken;
use crate::text::{excerpt, mask, sanitize};

/// A successful token response.
#[derive(Debug, Clone)]
pub struct TokenResponse {
    pub access_token: AccessToken,
    pub token_type: String,
    /// Seconds the token is valid from when it was issued.
    pub expires_in: u64,
    /// Extended lifetime (Entra's resilience feature), seconds.
    pub ext_expires_in: Option<u64>,
    /// When Entra suggests refreshing, seconds.
    pub refresh_in: Option<u64>,
    /// Local time the request was sent (expiry is counted from here, as MSAL does).
    pub requested_at: DateTime<Utc>,
    /// The server's `Date` header, for clock-skew checks.
    pub server_date: Option<DateTime<Utc>>,
}

impl TokenResponse {
    pub fn expires_on(&self) -> DateTime<Utc> {
        after(self.requested_at, self.expires_in)
    }
    pub fn ext_expires_on(&self) -> Option<DateTime<Utc>> {
        self.ext_expires_in.map(|s| after(self.requested_at, s))
    }
    pub fn refresh_on(&self) -> Option<DateTime<Utc>> {
        self.refresh_in.map(|s| after(self.requested_at, s))
    }
    /// Half the lifetime from the request (MSAL refreshes long-lived tokens then).
    pub fn half_life(&self) -> DateTime<Utc> {
        after(self.requested_at, self.expires_in / 2)
    }
}

/// Longest lifetime taken at face value: Entra's tokens live at most a day; a server saying
/// more is capped here (and a hostile `1e15` never reaches date arithmetic).
pub const MAX_LIFETIME_SECS: u64 = 100 * 365 * 86_400;

fn after(t: DateTime<Utc>, secs: u64) -> DateTime<Utc> {
    crate::time::add_secs(t, secs.min(MAX_LIFETIME_SECS) as i64)
}

/// An OAuth 2.0 error response as Entra sends it. `error`, the one field that makes it an
/// OAuth error, must be a string; every other field is read leniently, field by field: one
/// of an unexpected type (`"error_codes":[-1]`, `"trace_id":7`, `null`) is dropped or
/// written as text, so the rest — the AADSTS code in the description above all — survives.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize, serde::Serialize)]
pub struct EntraError {
    pub error: String,
    #[serde(default, deserialize_with = "lenient_text")]
    pub error_description: Option<String>,
    #[serde(default, deserialize_with = "lenient_codes")]
    pub error_codes: Vec<u64>,
    #[serde(default, deserialize_with = "lenient_text")]
    pub timestamp: Option<String>,
    #[serde(default, deserialize_with = "lenient_text")]
    pub trace_id: Option<String>,
    #[serde(default, deserialize_with = "lenient_text")]
    pub correlation_id: Option<String>,
    #[serde(default, deserialize_with = "lenient_text")]
    pub error_uri: Option<String>,
}

/// Longest text kept from one error field (Entra's descriptions are a few hundred bytes).
const MAX_FIELD: usize = 4096;

/// A string as it is; a number or boolean as its text; anything else (null, an array, an
/// object) as nothing. Cut at [`MAX_FIELD`] characters and masked.
fn lenient_text<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    let text = match serde_json::Value::deserialize(d)? {
        serde_json::Value::String(s) => s,
        serde_json::Value::Number(n) => n.to_string(),
        serde_json::Value::Bool(b) => b.to_string(),
        _ => return Ok(None),
    };
    let cut: String = text.chars().take(MAX_FIELD).collect();
    Ok(Some(mask(&cut, &[])))
}

/// Every code that is a non-negative integer (or a string of one); a single number is a
/// list of one; anything else is dropped.
fn lenient_codes<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u64>, D::Error> {
    fn code(v: &serde_json::Value) -> Option<u64> {
        match v {
            serde_json::Value::Number(n) => n.as_u64(),
            serde_json::Value::String(s) => s.trim().parse().ok(),
            _ => None,
        }
    }
    Ok(match serde_json::Value::deserialize(d)? {
        serde_json::Value::Array(items) => items.iter().filter_map(code).take(16).collect(),
        other => code(&other).into_iter().collect(),
    })
}

impl EntraError {
    /// The AADSTS code: the first of `error_codes`, else parsed from the description.
    pub fn code(&self) -> Option<u64> {
        if let Some(c) = self.error_codes.first() {
            return Some(*c);
        }
        let d = self.error_description.as_deref()?;
        let rest = &d[d.find("AADSTS")? + 6..];
        let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
        digits.parse().ok()
    }

    /// "AADSTS7000215: Invalid client secret provided." — the code and the first sentence of
    /// the description (without Entra's trace/correlation/timestamp tail), sanitised.
    pub fn summary(&self) -> String {
        let desc = self.error_description.as_deref().unwrap_or("").trim();
        let body = match desc.find(": ") {
            Some(i) if desc.starts_with("AADSTS") => &desc[i + 2..],
            _ => desc,
        };
        let sentence = first_sentence(body);
        let text = match (self.code(), sentence.is_empty()) {
            (Some(c), false) => format!("AADSTS{c}: {sentence}"),
            (Some(c), true) => format!("AADSTS{c}"),
            (None, false) => sentence.to_string(),
            (None, true) => self.error.clone(),
        };
        sanitize(&text, false)
    }
}

/// Up to and including the first ". " (or the whole text, minus Entra's "Trace ID:" tail).
fn first_sentence(s: &str) -> &str {
    let s = s.split("\r\n").next().unwrap_or(s);
    let s = match s.find(" Trace ID:") {
        Some(i) => &s[..i],
        None => s,
    };
    match s.find(". ") {
        Some(i) => &s[..=i],
        None => s.trim(),
    }
}

#[derive(Deserialize)]
struct Success {
    access_token: Option<String>,
    #[serde(default)]
    token_type: Option<String>,
    #[serde(default, deserialize_with = "num_or_string")]
    expires_in: Option<u64>,
    #[serde(default, deserialize_with = "num_or_string")]
    ext_expires_in: Option<u64>,
    #[serde(default, deserialize_with = "num_or_string")]
    refresh_in: Option<u64>,
}

/// `3599` or `"3599"` (Entra's v1 endpoint sends strings).
fn num_or_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum N {
        U(u64),
        F(f64),
        S(String),
    }
    Ok(match Option::<N>::deserialize(d)? {
        None => None,
        Some(N::U(n)) => Some(n),
        Some(N::F(f)) if f.is_finite() && f >= 0.0 => Some(f as u64),
        Some(N::F(_)) => return Err(serde::de::Error::custom("a negative or non-finite number")),
        // Not quoted: a server confused enough to put a token here gets it masked anyway,
        // but a short one would not look like one.
        Some(N::S(s)) => Some(s.trim().parse().map_err(|_| {
            serde::de::Error::custom(format!(
                "a text of {} characters that is not a whole number of seconds",
                s.chars().count()
            ))
        })?),
    })
}

/// Turn a status and body into a token or a typed error.
pub(super) fn parse(
    status: u16,
    body: &[u8],
    requested_at: DateTime<Utc>,
    server_date: Option<DateTime<Utc>>,
) -> Result<TokenResponse, TokenError> {
    let value: Option<serde_json::Value> = serde_json::from_slice(body).ok();
    let Some(serde_json::Value::Object(obj)) = value else {
        return Err(TokenError::UnexpectedResponse {
            status,
            excerpt: excerpt(&String::from_utf8_lossy(body), 200),
            retry_after: None,
        });
    };
    if obj.contains_key("error") {
        return match serde_json::from_value::<EntraError>(serde_json::Value::Object(obj)) {
            Ok(entra) => Err(TokenError::Rejected {
                status,
                entra: Box::new(entra),
                retry_after: None,
            }),
            Err(e) => Err(TokenError::Malformed {
                status,
                detail: mask(&e.to_string(), &[]),
            }),
        };
    }
    if !(200..300).contains(&status) {
        // The token itself, wherever else in the answer it is repeated, is masked too.
        let token = obj
            .get("access_token")
            .and_then(|t| t.as_str())
            .unwrap_or("");
        let text = mask(
            &serde_json::Value::Object(obj.clone()).to_string(),
            &[token],
        );
        return Err(TokenError::UnexpectedResponse {
            status,
            excerpt: excerpt(&text, 200),
            retry_after: None,
        });
    }
    // serde's words can quote a value (`invalid type: string "…"`): masked.
    let s: Success = serde_json::from_value(serde_json::Value::Object(obj)).map_err(|e| {
        TokenError::Malformed {
            status,
            detail: mask(&e.to_string(), &[]),
        }
    })?;
    let Some(token) = s.access_token.filter(|t| !t.is_empty()) else {
        return Err(TokenError::Malformed {
            status,
            detail: "no access_token in the response".into(),
        });
    };
    let Some(expires_in) = s.expires_in else {
        return Err(TokenError::Malformed {
            status,
            detail: "no expires_in in the response".into(),
        });
    };
    Ok(TokenResponse {
        access_token: AccessToken::new(token),
        token_type: s.token_type.unwrap_or_else(|| "Bearer".into()),
        expires_in,
        ext_expires_in: s.ext_expires_in,
        refresh_in: s.refresh_in,
        requested_at,
        server_date,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::problem::Problem;

    fn p(status: u16, body: &str) -> Result<TokenResponse, TokenError> {
        parse(status, body.as_bytes(), Utc::now(), None)
    }

    #[test]
    fn success_with_numbers_or_strings() {
        let t = p(200, r#"{"token_type":"Bearer","expires_in":3599,"ext_expires_in":3599,"access_token":"abc"}"#).unwrap();
        assert_eq!(
            (t.expires_in, t.ext_expires_in, t.refresh_in),
            (3599, Some(3599), None)
        );
        assert_eq!(t.access_token.expose(), "abc");
        let t = p(200, r#"{"token_type":"Bearer","expires_in":"3599","refresh_in":"1799","access_token":"abc"}"#).unwrap();
        assert_eq!((t.expires_in, t.refresh_in), (3599, Some(1799)));
        assert_eq!(
            t.expires_on() - t.requested_at,
            chrono::Duration::seconds(3599)
        );
        assert!(matches!(
            p(200, r#"{"expires_in":"soon","access_token":"a"}"#),
            Err(TokenError::Malformed { .. })
        ));
        assert!(matches!(
            p(200, r#"{"expires_in":1}"#),
            Err(TokenError::Malformed { .. })
        ));
    }

    #[test]
    fn entra_error_summary() {
        let body = r#"{"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app 'x'. Trace ID: 1 Correlation ID: 2 Timestamp: 2026-11-27 18:00:00Z","error_codes":[7000215],"timestamp":"2026-11-27 18:00:00Z","trace_id":"t-1","correlation_id":"c-2","error_uri":"https://login.microsoftonline.com/error?code=7000215"}"#;
        let Err(TokenError::Rejected { status, entra, .. }) = p(401, body) else {
            panic!()
        };
        assert_eq!(status, 401);
        assert_eq!(entra.code(), Some(7000215));
        assert_eq!(
            entra.summary(),
            "AADSTS7000215: Invalid client secret provided."
        );
        let shown = TokenError::Rejected {
            status,
            entra,
            retry_after: None,
        }
        .to_string();
        assert!(shown.contains("HTTP 401, invalid_client"), "{shown}");
        assert!(
            shown.contains("trace id t-1, correlation id c-2"),
            "{shown}"
        );
    }

    #[test]
    fn code_from_description_and_single_sentence() {
        let e = EntraError {
            error: "invalid_scope".into(),
            error_description: Some(
                "AADSTS1002012: The provided value for scope x is not valid Trace ID: 1".into(),
            ),
            ..Default::default()
        };
        assert_eq!(e.code(), Some(1002012));
        assert_eq!(
            e.summary(),
            "AADSTS1002012: The provided value for scope x is not valid"
        );
        let plain = EntraError {
            error: "invalid_client".into(),
            ..Default::default()
        };
        assert_eq!(plain.summary(), "invalid_client");
    }

    #[test]
    fn html_and_empty_bodies() {
        let Err(TokenError::UnexpectedResponse {
            status, excerpt, ..
        }) = p(
            502,
            "<html><body><h1>502 Bad Gateway</h1>\x1b[2J</body></html>",
        )
        else {
            panic!()
        };
        assert_eq!(status, 502);
        assert_eq!(excerpt, "502 Bad Gateway \\u{1b}[2J");
        let e = p(500, "").unwrap_err().to_string();
        assert!(e.contains("HTTP 500 with an empty body"), "{e}");
        let e = p(503, r#"{"message":"down"}"#).unwrap_err();
        assert!(matches!(
            e,
            TokenError::UnexpectedResponse { status: 503, .. }
        ));
        assert!(e.is_transient());
    }

    #[test]
    fn an_error_with_odd_fields_keeps_its_aadsts_explanation() {
        let desc = "AADSTS7000215: Invalid client secret provided. More.";
        for codes in [
            "[-1]",
            r#"["x"]"#,
            "null",
            r#""a string""#,
            "{}",
            "[7000215, -1]",
            r#"["7000215"]"#,
            "7000215",
        ] {
            let body = format!(
                r#"{{"error":"invalid_client","error_description":"{desc}","error_codes":{codes},"trace_id":7,"correlation_id":null,"timestamp":["x"]}}"#
            );
            let Err(TokenError::Rejected { entra, .. }) = p(401, &body) else {
                panic!("{codes}: {:?}", p(401, &body).err());
            };
            assert_eq!(entra.code(), Some(7000215), "{codes}");
            assert_eq!(
                entra.summary(),
                "AADSTS7000215: Invalid client secret provided.",
                "{codes}"
            );
            assert_eq!(entra.trace_id.as_deref(), Some("7"));
            assert_eq!(
                (entra.correlation_id.clone(), entra.timestamp.clone()),
                (None, None)
            );
        }
        // Without a string `error` it is no OAuth error: "not a token response".
        for error in ["null", "5", r#"{"code":"x"}"#, "[]"] {
            let body = format!(r#"{{"error":{error},"error_description":"{desc}"}}"#);
            assert!(
                matches!(p(400, &body), Err(TokenError::Malformed { .. })),
                "error = {error}"
            );
        }
    }

    #[test]
    fn a_broken_success_never_quotes_its_token() {
        let canary = "opaque-canary-7f3a";
        for body in [
            format!(r#"{{"token_type":"Bearer","access_token":"{canary}","expires_in":NaN}}"#),
            format!(r#"{{"access_token":"{canary}","expires_in":Infinity}}"#),
            format!(r#"{{"access_token":"{canary}","expires_in":36"#),
            format!("{{\"access_token\":\"{canary}\",\"x\":\"\u{fffd}\"\x00}}"),
            format!(r#"{{"access_token":"{canary}","expires_in":"{canary}"}}"#),
            format!(r#"{{"access_token":["{canary}"],"expires_in":1}}"#),
            format!(r#"{{"error":{{"access_token":"{canary}"}}}}"#),
        ] {
            for status in [200, 400, 500] {
                let e = p(status, &body).unwrap_err();
                let shown = format!("{} {}", e, e.full_text());
                assert!(!shown.contains(canary), "{status} {body}: {shown}");
            }
        }
        let mut bytes = format!(r#"{{"access_token":"{canary}","x":""#).into_bytes();
        bytes.extend_from_slice(&[0xff, 0xfe, b'"', b'}']);
        let e = parse(200, &bytes, Utc::now(), None).unwrap_err();
        assert!(!e.to_string().contains(canary), "{e}");
    }
}
