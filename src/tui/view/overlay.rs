//! The help overlay and the demo admin popup.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};

use super::{popup, wrap};
use crate::tui::app::App;
use crate::tui::keymap::help_rows;

pub fn help(app: &App, f: &mut Frame, area: Rect) {
    let th = &app.theme;
    let keys = help_rows(app.demo.is_some());
    let key_w = keys.iter().map(|(k, _)| wrap::width(k)).max().unwrap_or(0);
    let w = (area.width.saturating_sub(4)).min(84);
    let inner_w = w.saturating_sub(2) as usize;
    let mut lines = Vec::new();
    for (k, what) in keys {
        for (i, chunk) in wrap::wrap(what, inner_w.saturating_sub(key_w + 3).max(10))
            .into_iter()
            .enumerate()
        {
            let key = if i == 0 { k } else { "" };
            lines.push(Line::from(vec![
                Span::styled(format!(" {key:<key_w$}  "), th.label()),
                Span::raw(chunk),
            ]));
        }
    }
    lines.push(Line::default());
    lines.extend(wrap::styled(
        " In the city box every printable key types; the letter keys above act when another pane has focus (Tab). The F-keys work everywhere.",
        inner_w,
        th.dim(),
    ));
    popup(f, area, w, lines, " Keys ", " Esc close ", th);
}

pub fn admin(app: &App, f: &mut Frame, area: Rect, selected: usize) {
    let th = &app.theme;
    let Some(demo) = &app.demo else { return };
    let w = (area.width.saturating_sub(4)).min(72);
    let inner_w = w.saturating_sub(2) as usize;
    let granted = if demo.granted.is_empty() {
        "(none)".to_string()
    } else {
        demo.granted.join(", ")
    };
    let lifetime = match demo.token_lifetime {
        Some(d) => crate::time::human_secs(d.as_secs() as i64),
        None => "Entra default (60–90 min)".into(),
    };
    let mut lines = Vec::new();
    for (l, v) in [
        ("client", demo.client.clone()),
        ("granted", granted),
        ("API needs", demo.required_role.clone()),
        ("lifetime", lifetime),
        (
            "secret",
            if !demo.has_secret {
                "none (certificate or federated credential)"
            } else if demo.secret_expired {
                "expired"
            } else {
                "valid"
            }
            .to_string(),
        ),
    ] {
        lines.extend(wrap::kv(
            &format!(" {l}"),
            &v,
            10,
            inner_w,
            th.label(),
            Style::new(),
        ));
    }
    lines.push(Line::default());
    for (i, op) in demo.ops().iter().enumerate() {
        let mark = if i == selected { "▶" } else { " " };
        let text = format!("{mark}{}  {}", i + 1, op.label(&demo.client));
        let style = if i == selected {
            th.selected().add_modifier(Modifier::BOLD)
        } else {
            Style::new()
        };
        lines.push(Line::from(Span::styled(format!("{text:<inner_w$}"), style)));
    }
    lines.push(Line::default());
    lines.extend(wrap::styled(
        " Changes apply to new tokens: refresh (r) to see them in the token.",
        inner_w,
        th.dim(),
    ));
    popup(
        f,
        area,
        w,
        lines,
        " Demo admin · sandbox tenant ",
        " Esc close ",
        th,
    );
}
