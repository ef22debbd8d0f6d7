//! Types that hold secrets (client secrets, access tokens). Their `Debug` and `Display` are
//! redacted so a secret can only reach output through an explicit `expose()` call.
//!
//! A base module: it imports nothing of the crate and never stores or logs a value.

use std::fmt;

use secrecy::{ExposeSecret, SecretString};

/// A client secret. Never printed; `expose()` is called only where the secret is sent.
#[derive(Clone)]
pub struct ClientSecret(SecretString);

impl ClientSecret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(SecretString::from(value.into()))
    }
    /// The secret value, for the token request body only.
    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }
}

impl fmt::Debug for ClientSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ClientSecret(<redacted>)")
    }
}

impl fmt::Display for ClientSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// An access token. Redacted in `Debug`/`Display`; `expose()` is for the `Authorization`
/// header, the decoder and an explicit `--raw`.
#[derive(Clone)]
pub struct AccessToken(SecretString);

impl AccessToken {
    pub fn new(value: impl Into<String>) -> Self {
        Self(SecretString::from(value.into()))
    }
    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }
    /// Shaped like a bearer token (RFC 6750 §2.1 `b64token`: letters, digits, `-._~+/`, then
    /// `=` padding), as every JWT and any sane opaque token is: nothing a terminal or a
    /// shell would act on.
    pub fn is_b64token(&self) -> bool {
        let t = self.expose().as_bytes();
        let body = t.iter().rposition(|&c| c != b'=').map_or(0, |i| i + 1);
        body > 0
            && t[..body]
                .iter()
                .all(|&c| c.is_ascii_alphanumeric() || b"-._~+/".contains(&c))
    }
}

impl fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AccessToken(<redacted, {} bytes>)", self.expose().len())
    }
}

impl fmt::Display for AccessToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted access token>")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_and_display_never_show_the_value() {
        let s = ClientSecret::new("hunter2-canary");
        let t = AccessToken::new("eyJ-canary-token");
        for text in [
            format!("{s:?}"),
            format!("{s}"),
            format!("{t:?}"),
            format!("{t}"),
        ] {
            assert!(!text.contains("canary"), "{text}");
        }
        assert_eq!(s.expose(), "hunter2-canary");
    }

    #[test]
    fn bearer_token_shape() {
        for ok in ["eyJ0eXAi.eyJhdWQi.c2ln", "abc-._~+/def==", "x"] {
            assert!(AccessToken::new(ok).is_b64token(), "{ok}");
        }
        for bad in [
            "",
            "==",
            "a b",
            "a\u{1b}[2J",
            "a=b",
            "tok\n",
            "é",
            "a\u{9b}b",
            "\u{202e}x",
        ] {
            assert!(!AccessToken::new(bad).is_b64token(), "{bad:?}");
        }
    }
}
