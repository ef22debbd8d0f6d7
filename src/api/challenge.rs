//! `WWW-Authenticate` parsing (RFC 9110 §11.6.1, RFC 6750 §3).

use serde::Serialize;

/// One challenge, e.g. `Bearer error="invalid_token", error_description="…"`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Challenge {
    pub scheme: String,
    /// Parameters in order; names lower-cased.
    pub params: Vec<(String, String)>,
}

impl Challenge {
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
    /// RFC 6750 `error` (`invalid_token`, `insufficient_scope`, `invalid_request`).
    pub fn error(&self) -> Option<&str> {
        self.param("error")
    }
    pub fn error_description(&self) -> Option<&str> {
        self.param("error_description")
    }
    pub fn scope(&self) -> Option<&str> {
        self.param("scope")
    }
}

/// Parse a header value into its challenges. Never panics; junk is skipped.
pub fn parse_www_authenticate(header: &str) -> Vec<Challenge> {
    let mut p = Parser {
        s: header.as_bytes(),
        i: 0,
    };
    let mut out: Vec<Challenge> = Vec::new();
    loop {
        p.skip(|c| c == b' ' || c == b'\t' || c == b',');
        let Some(tok) = p.token() else {
            if p.i >= p.s.len() {
                break;
            }
            p.i += 1; // skip an unexpected byte
            continue;
        };
        let save = p.i;
        p.skip_ws();
        if p.peek() == Some(b'=') && !out.is_empty() {
            // An auth-param of the current challenge.
            p.i += 1;
            // token68 padding ("abc==") belongs to a token68, not a param.
            if matches!(p.peek(), Some(b'=') | None | Some(b',')) {
                p.skip(|c| c == b'=');
                continue;
            }
            p.skip_ws();
            let value = if p.peek() == Some(b'"') {
                p.quoted()
            } else {
                p.token().unwrap_or_default()
            };
            if let Some(last) = out.last_mut() {
                last.params.push((tok.to_ascii_lowercase(), value));
            }
        } else {
            p.i = save;
            out.push(Challenge {
                scheme: tok,
                params: Vec::new(),
            });
            // A token68 credential right after the scheme.
            p.skip_ws();
            let before = p.i;
            if let Some(t68) = p.token() {
                p.skip_ws();
                let after = p.i;
                p.skip(|c| c == b'=');
                let padded = p.i > after;
                p.skip_ws();
                let ends = matches!(p.peek(), None | Some(b','));
                if padded && !ends {
                    p.i = before; // it was a param name after all
                } else if let Some(last) = out.last_mut() {
                    last.params.push(("token68".into(), t68));
                }
            }
        }
    }
    out
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }
    fn skip(&mut self, f: impl Fn(u8) -> bool) {
        while self.peek().is_some_and(&f) {
            self.i += 1;
        }
    }
    fn skip_ws(&mut self) {
        self.skip(|c| c == b' ' || c == b'\t');
    }
    fn token(&mut self) -> Option<String> {
        let start = self.i;
        self.skip(|c| c.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~/:".contains(&c));
        (self.i > start).then(|| String::from_utf8_lossy(&self.s[start..self.i]).into_owned())
    }
    fn quoted(&mut self) -> String {
        self.i += 1; // opening quote
        let mut out = Vec::new();
        while let Some(c) = self.peek() {
            self.i += 1;
            match c {
                b'"' => break,
                b'\\' => {
                    if let Some(n) = self.peek() {
                        out.push(n);
                        self.i += 1;
                    }
                }
                c => out.push(c),
            }
        }
        String::from_utf8_lossy(&out).into_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc6750_examples() {
        let c = parse_www_authenticate(
            r#"Bearer realm="example", error="invalid_token", error_description="The token expired at '11/27/2026 18:00:00'""#,
        );
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].scheme, "Bearer");
        assert_eq!(c[0].param("realm"), Some("example"));
        assert_eq!(c[0].error(), Some("invalid_token"));
        assert_eq!(
            c[0].error_description(),
            Some("The token expired at '11/27/2026 18:00:00'")
        );

        let c = parse_www_authenticate(
            r#"Bearer error="insufficient_scope", scope="api://x/.default""#,
        );
        assert_eq!(c[0].scope(), Some("api://x/.default"));
        assert_eq!(parse_www_authenticate("Bearer")[0].params.len(), 0);
    }

    #[test]
    fn several_challenges_token68_and_escapes() {
        let c = parse_www_authenticate(
            r#"Basic abc==, Bearer error=invalid_token, error_description="a \"q\" b""#,
        );
        assert_eq!(c.len(), 2);
        assert_eq!(c[0].param("token68"), Some("abc"));
        assert_eq!(c[1].error(), Some("invalid_token"));
        assert_eq!(c[1].error_description(), Some("a \"q\" b"));
        let c = parse_www_authenticate(r#"Negotiate, Bearer authorization_uri="https://login/x""#);
        assert_eq!(c.len(), 2);
        assert_eq!(c[1].param("authorization_uri"), Some("https://login/x"));
    }

    #[test]
    fn junk_does_not_panic() {
        for s in [
            "",
            "=",
            "\"",
            "Bearer error=\"unterminated",
            ",,,",
            "Bearer ==,=",
            "é ü",
        ] {
            let _ = parse_www_authenticate(s);
        }
    }
}
