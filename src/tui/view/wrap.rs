//! Word wrapping done by hand, so each pane knows exactly how many lines it has (for scroll
//! limits and for following the newest activity entry).

use ratatui::style::Style;
use ratatui::text::{Line, Span};

/// Display width of a string, counting each char as one cell (tokenscope's text is ASCII
/// plus a few single-width symbols).
pub fn width(s: &str) -> usize {
    s.chars().count()
}

/// Greedy word wrap to `max` cells; words longer than a line are cut. Always at least one
/// line. Existing newlines are kept.
pub fn wrap(text: &str, max: usize) -> Vec<String> {
    let max = max.max(1);
    let mut out = Vec::new();
    for para in text.split('\n') {
        let mut line = String::new();
        let mut len = 0;
        // Keep leading indentation (pretty JSON).
        let indent_len = para.len() - para.trim_start_matches(' ').len();
        let indent = &para[..indent_len.min(max.saturating_sub(1))];
        let mut first = true;
        for word in para[indent_len..].split(' ') {
            let wlen = width(word);
            let sep = if first { 0 } else { 1 };
            if !first && len + sep + wlen > max {
                out.push(std::mem::take(&mut line));
                len = 0;
                first = true;
            }
            if first {
                line.push_str(indent);
                len = width(indent);
            } else {
                line.push(' ');
                len += 1;
            }
            first = false;
            // Hard-break a word that does not fit on a line of its own.
            let mut rest: &str = word;
            while len + width(rest) > max {
                let room = max.saturating_sub(len);
                if room == 0 {
                    out.push(std::mem::take(&mut line));
                    len = 0;
                    continue;
                }
                let hard = rest
                    .char_indices()
                    .nth(room)
                    .map(|(i, _)| i)
                    .unwrap_or(rest.len());
                // Prefer to break a URL or GUID after a separator in the second half.
                let cut = rest[..hard]
                    .char_indices()
                    .filter(|(_, c)| matches!(c, '/' | '-' | '.' | '?' | '&' | '=' | '_' | ','))
                    .map(|(i, c)| i + c.len_utf8())
                    .rfind(|&i| width(&rest[..i]) * 2 >= room)
                    .unwrap_or(hard);
                line.push_str(&rest[..cut]);
                out.push(std::mem::take(&mut line));
                len = 0;
                rest = &rest[cut..];
            }
            line.push_str(rest);
            len += width(rest);
        }
        out.push(line);
    }
    out
}

/// `label  value` rows, the value wrapped under itself.
pub fn kv(
    label: &str,
    value: &str,
    label_w: usize,
    width: usize,
    label_style: Style,
    value_style: Style,
) -> Vec<Line<'static>> {
    let avail = width.saturating_sub(label_w + 1).max(8);
    wrap(value, avail)
        .into_iter()
        .enumerate()
        .map(|(i, chunk)| {
            let l = if i == 0 { label } else { "" };
            Line::from(vec![
                Span::styled(format!("{l:<label_w$} "), label_style),
                Span::styled(chunk, value_style),
            ])
        })
        .collect()
}

/// `prefix` then `text` wrapped with a hanging indent: continuation lines start under the
/// text, not under the prefix ("✗ message", "  → fix").
pub fn hang(prefix: &str, text: &str, max: usize, style: Style) -> Vec<Line<'static>> {
    let pad = width(prefix);
    wrap(text, max.saturating_sub(pad).max(8))
        .into_iter()
        .enumerate()
        .map(|(i, chunk)| {
            let lead = if i == 0 {
                prefix.to_string()
            } else {
                " ".repeat(pad)
            };
            Line::from(Span::styled(format!("{lead}{chunk}"), style))
        })
        .collect()
}

/// Wrap `text` and style every line the same.
pub fn styled(text: &str, width: usize, style: Style) -> Vec<Line<'static>> {
    wrap(text, width)
        .into_iter()
        .map(|l| Line::from(Span::styled(l, style)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wraps_words_and_cuts_long_ones() {
        assert_eq!(wrap("aa bb cc", 5), ["aa bb", "cc"]);
        assert_eq!(wrap("abcdefgh", 3), ["abc", "def", "gh"]);
        assert_eq!(wrap("http://h/abc-def", 12), ["http://h/", "abc-def"]);
        assert_eq!(wrap("", 3), [""]);
        assert_eq!(wrap("a\nb", 3), ["a", "b"]);
        assert_eq!(wrap("  \"k\": 1", 20), ["  \"k\": 1"]);
        for l in wrap("x yyyyyyyyyyyyy zz", 4) {
            assert!(width(&l) <= 4, "{l:?}");
        }
    }
}
