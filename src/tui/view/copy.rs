//! The copy prompt: what is about to go to the clipboard, wrapped to the popup's width, and
//! the keys that answer it on a line of their own, so neither is ever cut.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};

use super::{popup, wrap};
use crate::tui::app::App;

/// "Copy the access token?" with why it matters and `y` / `n`.
pub fn confirm(app: &App, f: &mut Frame, area: Rect) {
    let th = &app.theme;
    let w = area.width.saturating_sub(4).min(64);
    let inner = w.saturating_sub(4) as usize;
    let mut lines: Vec<Line> = Vec::new();
    for l in wrap::styled(
        "The access token is a credential: anyone holding it can call the API as this client until it expires. It goes to the terminal's clipboard (OSC 52).",
        inner,
        ratatui::style::Style::new(),
    ) {
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
    popup(f, area, w, lines, " Copy the access token? ", " y / n ", th);
}
