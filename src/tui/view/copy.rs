//! The copy popup (`y`: what to copy, each row saying why it cannot be copied yet) and the
//! prompt before a credential is copied: the text wrapped to the popup's width and the keys
//! that answer it on a line of their own, so neither is ever cut.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};

use super::{popup, record_popup, wrap};
use crate::tui::app::{App, CopyWhat};

/// What to copy: numbered rows, the unavailable ones dimmed with the reason.
pub fn menu(app: &App, f: &mut Frame, area: Rect, selected: usize) {
    let th = &app.theme;
    let w = area.width.saturating_sub(4).min(76);
    let inner = w.saturating_sub(2) as usize;
    let mut lines: Vec<Line> = Vec::new();
    let mut rows = Vec::new();
    for (i, (what, why)) in app.copy_choices().into_iter().enumerate() {
        let start = lines.len();
        let marker = if i == selected { "▶" } else { " " };
        let mut label = what.label().to_string();
        if what.holds_token() {
            label.push_str(" (asks first)");
        }
        let style = match why {
            None if i == selected => th.selected(),
            None => ratatui::style::Style::new(),
            Some(_) => th.dim(),
        };
        for (j, l) in wrap::wrap(&label, inner.saturating_sub(5).max(10))
            .into_iter()
            .enumerate()
        {
            let lead = if j == 0 {
                format!("{marker}{} ", i + 1)
            } else {
                "   ".to_string()
            };
            lines.push(Line::from(vec![
                Span::styled(lead, th.label()),
                Span::styled(l, style),
            ]));
        }
        if let Some(why) = why {
            lines.extend(wrap::hang("     ", why, inner, th.dim()));
        }
        rows.push((i, start, lines.len() - start));
    }
    lines.push(Line::default());
    lines.extend(wrap::styled(
        " Copied with OSC 52 to the terminal's clipboard (tmux: set-clipboard on).",
        inner,
        th.dim(),
    ));
    let rect = popup(
        f,
        area,
        w,
        lines,
        " Copy ",
        " Enter or 1-5 · Esc close ",
        th,
    );
    record_popup(app, rect, None, rows);
}

/// "Copy the access token?" with why it matters and `y` / `n`.
pub fn confirm(app: &App, f: &mut Frame, area: Rect, what: CopyWhat) {
    let th = &app.theme;
    let w = area.width.saturating_sub(4).min(64);
    let inner = w.saturating_sub(4) as usize;
    let mut lines: Vec<Line> = Vec::new();
    let text = match what {
        CopyWhat::CurlWithToken => {
            "The curl command holds the access token, a credential: anyone holding it can call the API as this client until it expires. It goes to the terminal's clipboard (OSC 52)."
        }
        _ => {
            "The access token is a credential: anyone holding it can call the API as this client until it expires. It goes to the terminal's clipboard (OSC 52)."
        }
    };
    for l in wrap::styled(text, inner, ratatui::style::Style::new()) {
        let mut spans = vec![Span::raw(" ")];
        spans.extend(l.spans);
        lines.push(Line::from(spans));
    }
    lines.push(Line::default());
    lines.push(Line::from(vec![
        Span::raw(" "),
        Span::styled("y", th.warn().add_modifier(Modifier::BOLD)),
        Span::raw(" copy it   "),
        Span::styled("n", th.label().add_modifier(Modifier::BOLD)),
        Span::raw(" or any other key: cancel"),
    ]));
    let title = match what {
        CopyWhat::CurlWithToken => " Copy the curl command with the token? ",
        _ => " Copy the access token? ",
    };
    let rect = popup(f, area, w, lines, title, " y / n ", th);
    app.hits.borrow_mut().popup(rect);
}
