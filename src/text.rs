//! Making text that came from outside (servers, tokens, files) safe to show in a terminal.
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

/// Serialise JSON for a terminal: like `serde_json::to_string_pretty`, but C1 controls
/// (U+0080–U+009F; U+009B starts a control sequence on some terminals) and bidi overrides are
/// written as `\uXXXX` escapes too (serde_json escapes only C0). Those characters can only
/// occur inside JSON strings, so escaping them keeps the JSON valid and equal in value.
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

fn needs_json_escape(c: char) -> bool {
    matches!(c, '\u{80}'..='\u{9f}') || is_bidi_override(c)
}

/// Bidirectional overrides can reorder what a terminal shows; show them as escapes too.
fn is_bidi_override(c: char) -> bool {
    matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// A short, single-line, sanitised excerpt of a body that is not the JSON we expected
/// (an HTML error page from a proxy, say): tags dropped, whitespace collapsed, cut at
/// `max` characters with an ellipsis.
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
    let clean = sanitize(&collapsed, false);
    if clean.chars().count() > max {
        let cut: String = clean.chars().take(max).collect();
        format!("{cut}…")
    } else {
        clean
    }
}

#[cfg(test)]
mod tests {
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
        let v = serde_json::json!({"a": "x\u{9b}31my\u{202e}z\u{1b}"});
        let text = inert_json(&v);
        assert!(
            !text.chars().any(|c| c.is_control() && c != '\n'),
            "{text:?}"
        );
        assert!(text.contains("\\u009b") && text.contains("\\u202e") && text.contains("\\u001b"));
        let back: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(back, v);
    }

    #[test]
    fn html_excerpt() {
        let html = "<html><head><style>body{color:red}</style><title>502 Bad Gateway</title></head>\
                    <body><h1>Bad   Gateway</h1><script>alert(1)</script><p>nginx</p></body></html>";
        assert_eq!(excerpt(html, 200), "502 Bad Gateway Bad Gateway nginx");
        assert_eq!(excerpt("ééééé", 3), "ééé…");
        assert_eq!(excerpt("", 10), "");
    }
}
