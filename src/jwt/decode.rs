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

/// What to do about a JWT cut short or mangled.
const COPY_AGAIN: &str = "copy the whole token again: one line of three base64url parts, header.payload.signature (terminals, chat tools and log viewers cut or wrap long lines)";

/// Why a string could not be decoded as a JWT; each says what to do in its
/// [`Problem::hint`].
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DecodeError {
    #[error("the token is empty")]
    Empty,
    #[error("the token is {len} bytes, over the {max} byte limit")]
    TooLarge { len: usize, max: usize },
    /// Not three parts, and not a JWT cut short either: no dots at all (an opaque token), or
    /// five (an encrypted JWE).
    #[error("{}", segment_text(*.found))]
    SegmentCount { found: usize, hint: &'static str },
    /// Shaped like a JWT (it starts with a JSON header, or has dots) but cut short or
    /// mangled: what is wrong with it.
    #[error("a truncated or damaged JWT: {what}")]
    Damaged { what: String },
    #[error("a truncated or damaged JWT: the {part} is not valid base64url ({detail})")]
    Base64 { part: &'static str, detail: String },
    #[error("a truncated or damaged JWT: the {part} is not valid JSON ({detail})")]
    Json { part: &'static str, detail: String },
    #[error("the {part} is JSON but not an object")]
    NotObject { part: &'static str },
}

fn segment_text(found: usize) -> String {
    match found {
        1 => "not a JWT (it has no dots): an opaque token, which only the API it is for can read"
            .into(),
        5 => "not a JWT but an encrypted token (JWE: five dot-separated parts)".into(),
        n => format!("a truncated or damaged JWT: {n} dot-separated parts, a JWT has 3"),
    }
}

impl DecodeError {
    /// The input looks like a JWT that was cut short or mangled (as opposed to a token that
    /// is simply not a JWT: opaque, encrypted, empty).
    pub fn is_damaged_jwt(&self) -> bool {
        match self {
            DecodeError::Damaged { .. }
            | DecodeError::Base64 { .. }
            | DecodeError::Json { .. }
            | DecodeError::NotObject { .. } => true,
            DecodeError::SegmentCount { found, .. } => !matches!(found, 1 | 5),
            DecodeError::Empty | DecodeError::TooLarge { .. } => false,
        }
    }
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
            DecodeError::Damaged { .. } | DecodeError::Base64 { .. } | DecodeError::Json { .. } => {
                COPY_AGAIN
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
/// Accepts what a paste brings along (see [`strip_pasted`]): whitespace, quotes, `Bearer `,
/// a whole `Authorization: Bearer …` header line.
pub fn decode(token: &str) -> Result<DecodedJwt, DecodeError> {
    if token.len() > MAX_TOKEN_LEN {
        return Err(DecodeError::TooLarge {
            len: token.len(),
            max: MAX_TOKEN_LEN,
        });
    }
    let token = strip_pasted(token);
    if token.is_empty() {
        return Err(DecodeError::Empty);
    }
    let parts: Vec<&str> = token.split('.').collect();
    let [h, p, s] = parts[..] else {
        return Err(wrong_parts(&parts));
    };
    let header = object(h, "header")?;
    let payload = object(p, "payload")?;
    let signature = B64URL.decode(s).map_err(|e| DecodeError::Damaged {
        what: format!("the signature is cut short or altered (it is not valid base64url: {e})"),
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
    let bytes = B64URL.decode(segment).map_err(|e| match e {
        // Only the end is wrong: the segment was cut.
        base64::DecodeError::InvalidLength(_) | base64::DecodeError::InvalidLastSymbol(..) => {
            DecodeError::Damaged {
                what: format!("the {part} is cut short (its base64url ends mid-character)"),
            }
        }
        e => DecodeError::Base64 {
            part,
            detail: e.to_string(),
        },
    })?;
    match serde_json::from_slice::<Value>(&bytes) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(DecodeError::NotObject { part }),
        Err(e) if e.is_eof() => Err(DecodeError::Damaged {
            what: format!("the {part} is cut short (its JSON ends early)"),
        }),
        Err(e) => Err(DecodeError::Json {
            part,
            detail: e.to_string(),
        }),
    }
}

/// The token inside what was pasted: surrounding whitespace and quotes (`"…"`, `'…'`,
/// `` `…` ``), an `Authorization:` header name and the `Bearer` scheme, in any case, in any
/// nesting (`Authorization: "Bearer eyJ…"`).
pub fn strip_pasted(input: &str) -> &str {
    let mut t = input.trim();
    // Each round removes at least one layer; a handful covers any real paste.
    for _ in 0..8 {
        let before = t.len();
        for q in ['"', '\'', '`'] {
            if t.len() >= 2 && t.starts_with(q) && t.ends_with(q) {
                t = t[1..t.len() - 1].trim();
            }
        }
        if let Some(rest) = strip_word(t, "authorization")
            && let Some(after) = rest.trim_start().strip_prefix(':')
        {
            t = after.trim();
        }
        if let Some(rest) = strip_word(t, "bearer")
            && (rest.is_empty() || rest.starts_with(char::is_whitespace))
        {
            t = rest.trim();
        }
        if t.len() == before {
            break;
        }
    }
    t
}

/// `t` without a leading `word` in any case (ASCII), when it starts with it.
fn strip_word<'a>(t: &'a str, word: &str) -> Option<&'a str> {
    let head = t.get(..word.len())?;
    head.eq_ignore_ascii_case(word).then(|| &t[word.len()..])
}

/// Not three parts: a JWT cut short (its header is there, a part is missing), an opaque token
/// or a JWE.
fn wrong_parts(parts: &[&str]) -> DecodeError {
    let found = parts.len();
    let header = parts.first().is_some_and(|h| object(h, "header").is_ok());
    match found {
        // `eyJ` is base64url for `{"`: the start of a JWT header, cut short.
        1 if header || parts[0].starts_with("eyJ") => DecodeError::Damaged {
            what: if header {
                "only the header is there: the payload and the signature are missing (two dots and everything after them)".into()
            } else {
                "it stops inside the header (it starts like one, `eyJ`, and has no dots)".into()
            },
        },
        1 => DecodeError::SegmentCount {
            found,
            hint: "an opaque token cannot be decoded; if you expected a JWT, the identity provider or API sends reference tokens",
        },
        5 => DecodeError::SegmentCount {
            found,
            hint: "only the API it is for can read an encrypted token",
        },
        2 => DecodeError::Damaged {
            what: match object(parts[1], "payload") {
                Ok(_) => "the signature is missing (one dot and everything after it)".into(),
                Err(_) if parts[1].is_empty() => "the payload and the signature are missing".into(),
                Err(_) => "the payload is cut short and the signature is missing".into(),
            },
        },
        _ => DecodeError::SegmentCount {
            found,
            hint: COPY_AGAIN,
        },
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
        assert!(matches!(decode("a.b"), Err(DecodeError::Damaged { .. })));
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
        assert!(matches!(decode(&bad_sig), Err(DecodeError::Damaged { .. })));
    }

    #[test]
    fn a_pasted_header_line_is_stripped_in_any_case_and_any_quotes() {
        let t = token(r#"{"alg":"RS256"}"#, r#"{"aud":"api"}"#);
        for pasted in [
            format!("Authorization: Bearer {t}"),
            format!("authorization:bearer\t{t}"),
            format!("AUTHORIZATION :  BEARER {t}  "),
            format!("Bearer {t}"),
            format!("bEaReR {t}"),
            format!("\"Bearer {t}\""),
            format!("'{t}'"),
            format!("`{t}`"),
            format!("  \n Authorization: \"Bearer {t}\"\r\n"),
            format!("\"Authorization: Bearer {t}\""),
            t.clone(),
        ] {
            assert_eq!(strip_pasted(&pasted), t, "{pasted:?}");
            assert_eq!(
                decode(&pasted).map(|j| j.payload["aud"].clone()),
                Ok("api".into())
            );
        }
        // Not a paste to strip: left as it is, and reported for what it is.
        assert_eq!(strip_pasted("Bearerx"), "Bearerx");
        assert_eq!(strip_pasted("\""), "\"");
        assert_eq!(strip_pasted("Authorization"), "Authorization");
        assert_eq!(strip_pasted(""), "");
        assert_eq!(decode("Authorization: Bearer "), Err(DecodeError::Empty));
        assert_eq!(decode("\"\""), Err(DecodeError::Empty));
        // Deep nesting ends (bounded) instead of looping.
        let deep = format!("{}x{}", "\"Bearer ".repeat(50), "\"".repeat(50));
        let _ = strip_pasted(&deep);
    }

    #[test]
    fn a_truncated_jwt_is_called_that_not_opaque() {
        let t = token(
            r#"{"typ":"JWT","alg":"RS256"}"#,
            r#"{"aud":"api","roles":["Weather.Read"]}"#,
        );
        let (h, rest) = t.split_once('.').unwrap();
        let (p, _sig) = rest.split_once('.').unwrap();
        let damaged = |input: &str| {
            let e = decode(input).expect_err(input);
            assert!(e.is_damaged_jwt(), "{input}: {e:?}");
            let text = e.to_string();
            assert!(text.starts_with("a truncated or damaged JWT: "), "{text}");
            assert!(!text.contains("opaque"), "{text}");
            assert!(
                e.hint().unwrap().contains("copy the whole token again"),
                "{e:?}"
            );
            text
        };
        assert!(damaged(h).contains("only the header is there"));
        assert!(damaged(&h[..10]).contains("stops inside the header"));
        assert!(damaged(&format!("{h}.{p}")).contains("the signature is missing"));
        assert!(damaged(&format!("{h}.{}", &p[..p.len() - 6])).contains("payload is cut short"));
        assert!(damaged(&format!("{h}.")).contains("payload and the signature are missing"));
        for cut in 1..8 {
            let text = damaged(&format!("{h}.{}.c2ln", &p[..p.len() - cut]));
            assert!(text.contains("payload is cut short"), "{cut}: {text}");
        }
        // A signature cut at a length base64url cannot end on.
        assert!(damaged(&format!("{h}.{p}.c2lnX")).contains("signature is cut short or altered"));
        assert!(damaged(&format!("{h}.{p}.s.x")).contains("4 dot-separated parts"));
        // Not JWTs at all: said so, never "damaged".
        for (input, words) in [
            ("opaque-reference-token", "opaque"),
            ("a.b.c.d.e", "encrypted"),
        ] {
            let e = decode(input).unwrap_err();
            assert!(!e.is_damaged_jwt() && e.to_string().contains(words), "{e}");
        }
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
