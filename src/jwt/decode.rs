//! Base64url + JSON decoding of a compact JWS, with no signature check.
//!
//! Pure functions over the token text; trust (signature, issuer, audience) is `verify`'s.

use base64::Engine;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::{DecodePaddingMode, general_purpose};
use serde_json::{Map, Value};
use thiserror::Error;

use super::claims::Claims;
use crate::problem::Problem;

/// Tokens longer than this are refused before any decoding (Entra tokens are a few KiB).
pub const MAX_TOKEN_LEN: usize = 64 * 1024;

/// base64url that accepts the segment with or without `=` padding.
const B64URL: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::URL_SAFE,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Why a string could not be decoded as a JWT; each says what to do in its
/// [`Problem::hint`].
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DecodeError {
    #[error("the token is empty")]
    Empty,
    #[error("the token is {len} bytes, over the {max} byte limit")]
    TooLarge { len: usize, max: usize },
    #[error("a JWT has 3 dot-separated parts, this has {found}")]
    SegmentCount { found: usize, hint: &'static str },
    #[error("the {part} is not valid base64url: {detail}")]
    Base64 { part: &'static str, detail: String },
    #[error("the {part} is not valid JSON: {detail}")]
    Json { part: &'static str, detail: String },
    #[error("the {part} is JSON but not an object")]
    NotObject { part: &'static str },
}

impl Problem for DecodeError {
    fn summary(&self) -> String {
        self.to_string()
    }
    fn hint(&self) -> Option<String> {
        let hint = match self {
            DecodeError::Empty => {
                "pass the access token itself (three base64url parts separated by dots)"
            }
            DecodeError::TooLarge { .. } => "this is not an access token; check what was pasted",
            DecodeError::SegmentCount { hint, .. } => hint,
            DecodeError::Base64 { .. } | DecodeError::Json { .. } => {
                "the token may have been cut or mangled when copied"
            }
            DecodeError::NotObject { .. } => "a JWT's header and payload are JSON objects",
        };
        Some(hint.to_string())
    }
}

/// A decoded (not verified) JWT.
#[derive(Debug, Clone, PartialEq)]
pub struct DecodedJwt {
    /// The JOSE header, keys in their original order.
    pub header: Map<String, Value>,
    /// Every claim, in its original order.
    pub payload: Map<String, Value>,
    /// Typed view of the well-known claims.
    pub claims: Claims,
    /// Length in bytes of the decoded signature.
    pub signature_len: usize,
}

impl DecodedJwt {
    /// The `alg` header, if any.
    pub fn alg(&self) -> Option<&str> {
        self.header.get("alg").and_then(Value::as_str)
    }
    /// The `kid` header, if any.
    pub fn kid(&self) -> Option<&str> {
        self.header.get("kid").and_then(Value::as_str)
    }
}

/// What an access token turned out to be.
#[derive(Debug, Clone, PartialEq)]
pub enum TokenFormat {
    Jwt(Box<DecodedJwt>),
    /// Not a JWT (an opaque reference token, or an encrypted JWE). Still usable as a bearer
    /// token; it just cannot be inspected.
    Opaque {
        reason: DecodeError,
    },
}

/// Decode an access token if it is a JWT; otherwise report it as opaque.
pub fn inspect(token: &str) -> TokenFormat {
    match decode(token) {
        Ok(jwt) => TokenFormat::Jwt(Box::new(jwt)),
        Err(reason) => TokenFormat::Opaque { reason },
    }
}

/// Decode a compact JWS without checking its signature.
///
/// Accepts surrounding whitespace and a leading `Bearer ` (as copied from a header).
pub fn decode(token: &str) -> Result<DecodedJwt, DecodeError> {
    if token.len() > MAX_TOKEN_LEN {
        return Err(DecodeError::TooLarge {
            len: token.len(),
            max: MAX_TOKEN_LEN,
        });
    }
    let mut token = token.trim();
    if let Some(rest) = token
        .strip_prefix("Bearer ")
        .or_else(|| token.strip_prefix("bearer "))
    {
        token = rest.trim();
    }
    if token.is_empty() {
        return Err(DecodeError::Empty);
    }
    let mut parts = token.split('.');
    let (Some(h), Some(p), Some(s), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        let found = token.split('.').count();
        let hint = match found {
            1 => "this looks like an opaque token, not a JWT",
            5 => "this is an encrypted token (JWE); only the API it is for can read it",
            _ => "the token may have been cut or mangled when copied",
        };
        return Err(DecodeError::SegmentCount { found, hint });
    };
    let header = object(h, "header")?;
    let payload = object(p, "payload")?;
    let signature = B64URL.decode(s).map_err(|e| DecodeError::Base64 {
        part: "signature",
        detail: e.to_string(),
    })?;
    let claims = Claims::from_payload(&payload);
    Ok(DecodedJwt {
        header,
        payload,
        claims,
        signature_len: signature.len(),
    })
}

fn object(segment: &str, part: &'static str) -> Result<Map<String, Value>, DecodeError> {
    if segment.is_empty() {
        return Err(DecodeError::Base64 {
            part,
            detail: "the part is empty".into(),
        });
    }
    let bytes = B64URL.decode(segment).map_err(|e| DecodeError::Base64 {
        part,
        detail: e.to_string(),
    })?;
    match serde_json::from_slice::<Value>(&bytes) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(DecodeError::NotObject { part }),
        Err(e) => Err(DecodeError::Json {
            part,
            detail: e.to_string(),
        }),
    }
}

/// Encode bytes as unpadded base64url (used by tests and by tools that build tokens).
pub fn b64url(bytes: &[u8]) -> String {
    general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token(header: &str, payload: &str) -> String {
        format!(
            "{}.{}.{}",
            b64url(header.as_bytes()),
            b64url(payload.as_bytes()),
            b64url(b"sig")
        )
    }

    #[test]
    fn decodes_header_and_payload_in_order() {
        let t = token(
            r#"{"typ":"JWT","alg":"RS256","kid":"k1"}"#,
            r#"{"zeta":1,"aud":"api://x","alpha":2,"roles":["Weather.Read"]}"#,
        );
        let jwt = decode(&t).unwrap();
        assert_eq!(jwt.alg(), Some("RS256"));
        assert_eq!(jwt.kid(), Some("k1"));
        let keys: Vec<_> = jwt.payload.keys().cloned().collect();
        assert_eq!(keys, ["zeta", "aud", "alpha", "roles"]);
        assert_eq!(jwt.claims.roles, ["Weather.Read"]);
        assert_eq!(jwt.signature_len, 3);
    }

    #[test]
    fn accepts_padding_whitespace_and_bearer_prefix() {
        use base64::engine::general_purpose::URL_SAFE;
        let h = URL_SAFE.encode(br#"{"alg":"none"}"#);
        let p = URL_SAFE.encode(br#"{"a":1}"#);
        assert!(h.ends_with('=') || p.ends_with('='), "test needs padding");
        let t = format!("  Bearer {h}.{p}.  \n");
        let jwt = decode(&t).unwrap();
        assert_eq!(jwt.payload["a"], 1);
        assert_eq!(jwt.signature_len, 0);
    }

    #[test]
    fn errors_name_the_problem() {
        assert_eq!(decode("   "), Err(DecodeError::Empty));
        assert!(matches!(
            decode("abc"),
            Err(DecodeError::SegmentCount { found: 1, .. })
        ));
        assert!(matches!(
            decode("a.b.c.d.e"),
            Err(DecodeError::SegmentCount { found: 5, .. })
        ));
        assert!(matches!(
            decode("a.b"),
            Err(DecodeError::SegmentCount { found: 2, .. })
        ));
        assert!(matches!(
            decode("!!.e30.x"),
            Err(DecodeError::Base64 { part: "header", .. })
        ));
        let not_json = format!("{}.e30.", b64url(b"not json"));
        assert!(matches!(
            decode(&not_json),
            Err(DecodeError::Json { part: "header", .. })
        ));
        let array = format!("e30.{}.", b64url(b"[1,2]"));
        assert!(matches!(
            decode(&array),
            Err(DecodeError::NotObject { part: "payload" })
        ));
        let big = "a".repeat(MAX_TOKEN_LEN + 1);
        assert!(matches!(decode(&big), Err(DecodeError::TooLarge { .. })));
        for e in [
            DecodeError::Empty,
            DecodeError::TooLarge { len: 9, max: 1 },
            DecodeError::NotObject { part: "payload" },
        ]
        .iter()
        .chain(decode("abc").err().iter())
        {
            crate::problem::assert_keeps_convention(e);
        }
        let bad_sig = format!("e30.e30.{}", "%%%");
        assert!(matches!(
            decode(&bad_sig),
            Err(DecodeError::Base64 {
                part: "signature",
                ..
            })
        ));
    }

    #[test]
    fn opaque_tokens_are_reported_not_rejected() {
        match inspect("opaque-reference-token") {
            TokenFormat::Opaque { reason } => {
                assert!(reason.full_text().contains("opaque"), "{reason}")
            }
            other => panic!("expected opaque, got {other:?}"),
        }
    }
}
