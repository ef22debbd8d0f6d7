//! Making text that came from outside (servers, tokens, files) safe to show in a terminal,
//! and safe to show at all: [`sanitize`] makes control characters, escape sequences and bidi
//! overrides visible; [`mask`] replaces anything token-shaped (credential fields, JWT-like
//! runs, long random-looking runs) before an excerpt of a server's answer is shown or logged;
//! [`shell_quote`] makes any string one word of a POSIX shell command line.
//!
//! A base module: pure string functions, importing nothing of the crate.

/// Replace control characters (including ESC, so no escape sequence is ever interpreted)
/// with a visible escape such as `\u{1b}`. Newlines and tabs are kept when `keep_newlines`.
pub fn sanitize(s: &str, keep_newlines: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\n' | '\t' if keep_newlines => out.push(c),
            '\r' if keep_newlines => {}
            c if c.is_control() || is_bidi_override(c) => {
                out.push_str(&format!("\\u{{{:x}}}", c as u32));
            }
            c => out.push(c),
        }
    }
    out
}

/// Serialise JSON for a terminal: like `serde_json::to_string_pretty`, but DEL, C1 controls
/// (U+0080–U+009F; U+009B starts a control sequence on some terminals) and bidi overrides are
/// written as `\uXXXX` escapes too (serde_json escapes only C0). Those characters can only
/// occur inside JSON strings, so escaping them keeps the JSON valid and equal in value, and
/// [`sanitize`] finds nothing left to change in the result.
pub fn inert_json(value: &serde_json::Value) -> String {
    let text = serde_json::to_string_pretty(value).unwrap_or_default();
    if !text.chars().any(needs_json_escape) {
        return text;
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        if needs_json_escape(c) {
            out.push_str(&format!("\\u{:04x}", c as u32));
        } else {
            out.push(c);
        }
    }
    out
}

/// What [`sanitize`] would make visible, bar the newlines of the layout: serde_json has
/// escaped C0 inside strings already, so what is left is DEL, C1 and the bidi overrides.
fn needs_json_escape(c: char) -> bool {
    (c.is_control() && c != '\n') || is_bidi_override(c)
}

/// Bidirectional overrides can reorder what a terminal shows; show them as escapes too.
fn is_bidi_override(c: char) -> bool {
    matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// `s` as one shell word: as it is when it is plain (letters, digits, `_-./:=@%+,`), else in
/// single quotes (`'` written `'\''`), so `$()`, backquotes, globs, `;` and spaces stay
/// text. A string with control characters or bidi overrides is written with ANSI-C quoting
/// (`$'…\n…'`, understood by bash, zsh and ksh), so the command stays one line and
/// [`sanitize`] finds nothing to change in it.
pub fn shell_quote(s: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "_-./:=@%+,".contains(c);
    if !s.is_empty() && s.chars().all(plain) {
        return s.to_string();
    }
    if !s.chars().any(|c| c.is_control() || is_bidi_override(c)) {
        return format!("'{}'", s.replace('\'', r"'\''"));
    }
    let mut out = String::from("$'");
    for c in s.chars() {
        match c {
            '\\' => out.push_str(r"\\"),
            '\'' => out.push_str(r"\'"),
            '\n' => out.push_str(r"\n"),
            '\t' => out.push_str(r"\t"),
            '\r' => out.push_str(r"\r"),
            c if (c as u32) < 0x80 && c.is_control() => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
            c if c.is_control() || is_bidi_override(c) => {
                out.push_str(&format!("\\u{:04x}", c as u32))
            }
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

/// What [`mask`] puts where a token was.
pub const MASK: &str = "[redacted]";

/// Field names whose values are credentials, wherever they appear: JSON (`"access_token":
/// "…"`, also cut short or not quite JSON), forms and queries (`access_token=…`).
/// `accessToken` is the Azure CLI's spelling.
const SECRET_FIELDS: [&str; 6] = [
    "access_token",
    "accesstoken",
    "refresh_token",
    "id_token",
    "client_secret",
    "client_assertion",
];

/// A mixed-case-and-digit run at least this long is taken for a token (a GUID has no
/// capitals; words have no digits).
const MIXED_RUN: usize = 24;
/// Any base64url run with a digit at least this long is taken for a token (hex secrets,
/// base64 without capitals); a GUID is 36.
const LONG_RUN: usize = 48;

/// `text` with every token-shaped part replaced by [`MASK`]: the values of credential
/// fields ([`SECRET_FIELDS`]), each of `known` (a token the caller holds, at least 8
/// characters), JWT-like runs (`eyJ…` with a dot, or three dot-separated base64url parts of
/// 10+ characters each, so host names stay), and long random-looking base64url runs. For
/// every excerpt of what a server or a command said, before it is shown or logged.
pub fn mask(text: &str, known: &[&str]) -> String {
    let mut out = text.to_string();
    for k in known.iter().filter(|k| k.len() >= 8) {
        out = out.replace(k, MASK);
    }
    let out = mask_fields(&out);
    mask_runs(&out)
}

fn is_b64url(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'-' || c == b'_'
}

/// Replace the value after each credential field name (`name":"value"`, `name": value`,
/// `name=value`).
fn mask_fields(text: &str) -> String {
    let lower = text.to_ascii_lowercase().into_bytes();
    let b = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    let mut i = 0;
    while i < b.len() {
        let name = SECRET_FIELDS
            .iter()
            .find(|f| lower[i..].starts_with(f.as_bytes()) && (i == 0 || !is_b64url(b[i - 1])));
        let Some(name) = name else {
            i += 1;
            continue;
        };
        let Some((start, end)) = field_value(b, i + name.len()) else {
            i += name.len();
            continue;
        };
        out.push_str(&text[copied..start]);
        out.push_str(match &b[start..end] {
            [b'\\', b'"', ..] => "\\\"[redacted]\\\"",
            [b'"', ..] => "\"[redacted]\"",
            [b'[' | b'{', ..] => "\"[redacted]\"",
            _ => MASK,
        });
        copied = end;
        i = end;
    }
    out.push_str(&text[copied..]);
    out
}

/// The byte range of the value after a field name ending at `j`: past a closing quote
/// (plain or JSON-escaped), `:` or `=`, and whitespace; a JSON string to its closing quote
/// (or to the end of a body cut short), else up to the next delimiter. Always on character
/// boundaries: every byte it stops at is ASCII.
fn field_value(b: &[u8], mut j: usize) -> Option<(usize, usize)> {
    let at = |k: usize| b.get(k).copied();
    if at(j) == Some(b'\\') && at(j + 1) == Some(b'"') {
        j += 2;
    } else if at(j) == Some(b'"') {
        j += 1;
    }
    while matches!(at(j), Some(b' ' | b'\t')) {
        j += 1;
    }
    if !matches!(at(j), Some(b':' | b'=')) {
        return None;
    }
    j += 1;
    while at(j).is_some_and(|c| c.is_ascii_whitespace()) {
        j += 1;
    }
    let start = j;
    let end = match (at(j), at(j + 1)) {
        (Some(b'\\'), Some(b'"')) => {
            // A string inside a JSON string: to the next `\"`.
            let mut k = j + 2;
            while k < b.len() && !(b[k] == b'"' && b[k - 1] == b'\\') {
                k += 1;
            }
            (k + 1).min(b.len())
        }
        (Some(b'"'), _) => {
            let mut k = j + 1;
            while k < b.len() && b[k] != b'"' {
                k += if b[k] == b'\\' { 2 } else { 1 };
            }
            (k + 1).min(b.len())
        }
        (Some(b'[' | b'{'), _) => {
            // A list or object (of tokens?): to its matching bracket, strings skipped.
            let (mut depth, mut k, mut in_str) = (0usize, j, false);
            while k < b.len() {
                match (in_str, b[k]) {
                    (true, b'\\') => k += 1,
                    (_, b'"') => in_str = !in_str,
                    (false, b'[' | b'{') => depth += 1,
                    (false, b']' | b'}') => {
                        depth -= 1;
                        if depth == 0 {
                            break;
                        }
                    }
                    _ => {}
                }
                k += 1;
            }
            (k + 1).min(b.len())
        }
        _ => {
            let mut k = j;
            while k < b.len()
                && !matches!(b[k], b'&' | b',' | b'}' | b']' | b';' | b'"' | b'\\')
                && !b[k].is_ascii_whitespace()
            {
                k += 1;
            }
            k
        }
    };
    (end > start).then_some((start, end))
}

/// Replace JWT-like and long random-looking base64url runs.
fn mask_runs(text: &str) -> String {
    let b = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    let mut i = 0;
    while i < b.len() {
        if !is_b64url(b[i]) || (i > 0 && is_b64url(b[i - 1])) {
            i += 1;
            continue;
        }
        // A run of base64url parts joined by single dots.
        let mut parts: Vec<&[u8]> = Vec::new();
        let mut j = i;
        loop {
            let start = j;
            while j < b.len() && is_b64url(b[j]) {
                j += 1;
            }
            parts.push(&b[start..j]);
            if j + 1 < b.len() && b[j] == b'.' && is_b64url(b[j + 1]) {
                j += 1;
            } else {
                break;
            }
        }
        if token_shaped(&parts) {
            out.push_str(&text[copied..i]);
            out.push_str(MASK);
            copied = j;
        }
        i = j.max(i + 1);
    }
    out.push_str(&text[copied..]);
    out
}

fn token_shaped(parts: &[&[u8]]) -> bool {
    let len: usize = parts.iter().map(|p| p.len()).sum::<usize>() + parts.len() - 1;
    let jws_header = parts.len() >= 2 && parts[0].starts_with(b"eyJ") && len >= 16;
    let jwt_like = parts.len() >= 3 && parts.iter().take(2).all(|p| p.len() >= 10);
    jws_header || jwt_like || parts.iter().any(|p| random_looking(p))
}

fn random_looking(run: &[u8]) -> bool {
    let digit = run.iter().any(u8::is_ascii_digit);
    let upper = run.iter().any(u8::is_ascii_uppercase);
    let lower = run.iter().any(u8::is_ascii_lowercase);
    (run.len() >= MIXED_RUN && digit && upper && lower) || (run.len() >= LONG_RUN && digit)
}

/// A short, single-line, sanitised excerpt of a body that is not the JSON we expected
/// (an HTML error page from a proxy, say): tags dropped, whitespace collapsed, tokens
/// [masked](mask), cut at `max` characters with an ellipsis.
pub fn excerpt(body: &str, max: usize) -> String {
    let mut plain = String::with_capacity(body.len().min(4 * max));
    let mut in_tag = false;
    let mut in_script = false;
    let lower = body.to_ascii_lowercase();
    let mut i = 0;
    let bytes = body.as_bytes();
    while i < bytes.len() {
        if !in_tag && bytes[i] == b'<' {
            in_tag = true;
            if lower[i..].starts_with("<script") || lower[i..].starts_with("<style") {
                in_script = true;
            } else if lower[i..].starts_with("</script") || lower[i..].starts_with("</style") {
                in_script = false;
            }
            plain.push(' ');
        } else if in_tag && bytes[i] == b'>' {
            in_tag = false;
        } else if !in_tag && !in_script {
            // Push the whole char starting here.
            if let Some(c) = body[i..].chars().next() {
                plain.push(c);
                i += c.len_utf8();
                if plain.len() > 8 * max {
                    break;
                }
                continue;
            }
        }
        i += 1;
        while i < bytes.len() && !body.is_char_boundary(i) {
            i += 1;
        }
    }
    let collapsed = plain.split_whitespace().collect::<Vec<_>>().join(" ");
    // Masked before the cut, so half a token is never left showing.
    let clean = sanitize(&mask(&collapsed, &[]), false);
    if clean.chars().count() > max {
        let cut: String = clean.chars().take(max).collect();
        format!("{cut}…")
    } else {
        clean
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn shell_quote_keeps_every_string_one_inert_word() {
        use super::shell_quote as q;
        assert_eq!(q("Seattle"), "Seattle");
        assert_eq!(q("https://h/api?x=1"), "'https://h/api?x=1'");
        assert_eq!(q(""), "''");
        assert_eq!(q("New York"), "'New York'");
        assert_eq!(q("O'Hare"), r"'O'\''Hare'");
        assert_eq!(q("$(rm -rf ~)"), "'$(rm -rf ~)'");
        assert_eq!(q("`id`;|&*?"), "'`id`;|&*?'");
        assert_eq!(q("São Paulo"), "'São Paulo'");
        assert_eq!(q("a\nb"), r"$'a\nb'");
        assert_eq!(q("x\u{1b}[2J'\\"), r"$'x\x1b[2J\'\\'");
        assert_eq!(q("\u{202e}evil"), r"$'\u202eevil'");
        for s in ["a\nb", "\u{1b}]0;t\u{7}", "\u{9b}31m", "x\u{2066}y"] {
            let quoted = q(s);
            assert_eq!(super::sanitize(&quoted, false), quoted, "{s:?}");
        }
    }

    use super::*;

    #[test]
    fn escapes_are_made_visible() {
        let s = sanitize("red\x1b[31m bell\x07 ok\nnext", true);
        assert_eq!(s, "red\\u{1b}[31m bell\\u{7} ok\nnext");
        assert_eq!(sanitize("a\nb", false), "a\\u{a}b");
        assert_eq!(sanitize("x\u{202e}y", false), "x\\u{202e}y");
    }

    #[test]
    fn json_for_terminals_escapes_c1_and_bidi() {
        let v = serde_json::json!({"a": "x\u{9b}31my\u{202e}z\u{1b}\u{7f}\u{2069}"});
        let text = inert_json(&v);
        assert!(
            !text.chars().any(|c| c.is_control() && c != '\n'),
            "{text:?}"
        );
        assert!(text.contains("\\u009b") && text.contains("\\u202e") && text.contains("\\u001b"));
        let back: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(back, v);
        assert_eq!(sanitize(&text, true), text, "nothing left for sanitize");
    }

    #[test]
    fn html_excerpt() {
        let html = "<html><head><style>body{color:red}</style><title>502 Bad Gateway</title></head>\
                    <body><h1>Bad   Gateway</h1><script>alert(1)</script><p>nginx</p></body></html>";
        assert_eq!(excerpt(html, 200), "502 Bad Gateway Bad Gateway nginx");
        assert_eq!(excerpt("ééééé", 3), "ééé…");
        assert_eq!(excerpt("", 10), "");
    }

    #[test]
    fn credential_fields_are_masked_in_json_forms_and_broken_bodies() {
        for (body, shown) in [
            (
                r#"{"token_type":"Bearer","access_token":"opaque-canary","expires_in":NaN}"#,
                r#"{"token_type":"Bearer","access_token":"[redacted]","expires_in":NaN}"#,
            ),
            (
                r#"{"access_token" : "a\"b-canary", "x":1}"#,
                r#"{"access_token" : "[redacted]", "x":1}"#,
            ),
            // Cut at the cap, inside the value.
            (
                r#"{"access_token":"opaque-cana"#,
                r#"{"access_token":"[redacted]""#,
            ),
            (
                r#"{"access_token": opaque-canary}"#,
                r#"{"access_token": [redacted]}"#,
            ),
            (
                "access_token=opaque-canary&x=1",
                "access_token=[redacted]&x=1",
            ),
            (
                r#"{"accessToken":"opaque-canary"}"#,
                r#"{"accessToken":"[redacted]"}"#,
            ),
            (
                r#""{\"access_token\":\"opaque-canary\"}""#,
                r#""{\"access_token\":\"[redacted]\"}""#,
            ),
            ("client_secret=hunter2", "client_secret=[redacted]"),
            // Not a field: the word alone, or part of a longer name.
            ("no access_token here", "no access_token here"),
            ("my_access_token=1", "my_access_token=1"),
        ] {
            assert_eq!(mask(body, &[]), shown, "{body}");
        }
    }

    #[test]
    fn token_shaped_runs_are_masked_and_ordinary_text_is_not() {
        let jwt = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl";
        assert_eq!(mask(&format!("a {jwt} b"), &[]), "a [redacted] b");
        assert_eq!(mask("eyJhbGciOiJSUzI1NiJ9.eyJzdWIi", &[]), "[redacted]");
        assert_eq!(
            mask("t=abcdefghij12.klmnopqrst34.uv", &[]),
            "t=[redacted]",
            "three dotted parts"
        );
        assert_eq!(
            mask("x 9f8A7b6C5d4E3f2A1b0C9d8E7f y", &[]),
            "x [redacted] y"
        );
        let hex = "0123456789abcdef".repeat(4);
        assert_eq!(mask(&hex, &[]), MASK);
        assert_eq!(
            mask("token=opaque-canary-1", &["opaque-canary-1"]),
            "token=[redacted]"
        );
        for keep in [
            "AADSTS7000215: Invalid client secret provided.",
            "trace id ec184e30-7605-46d6-97ce-0b8dfa8e6682",
            "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token",
            "management.core.windows.net graph.microsoft.com",
            "Authorization_RequestDenied ServicePrincipalNotFound",
            "eyJ short",
            "no tokens here.",
            "é€ multi-byte text ünïcödé",
            "",
        ] {
            assert_eq!(mask(keep, &[]), keep);
        }
    }

    #[test]
    fn an_excerpt_masks_before_it_cuts() {
        let body = format!(
            "<p>{}{}</p>",
            "x ".repeat(80),
            r#"access_token=abcdefghijklmnop"#
        );
        let e = excerpt(&body, 200);
        assert!(e.ends_with("access_token=[redacted]"), "{e}");
        let e = excerpt(
            &format!("{} access_token=abcdefghijklmnop", "y".repeat(190)),
            200,
        );
        assert!(!e.contains("abcdef"), "{e}");
    }
}
