//! The help overlay, the command palette and the sandbox admin popup.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};

use super::{centered, clear, popup, popup_block, record_popup, wrap};
use crate::tui::app::App;
use crate::tui::keymap::{self, help_rows};

/// The keys, from the key table; scrolls (↑/↓, the wheel) when the screen is too short.
/// Returns how far it can scroll.
pub fn help(app: &App, f: &mut Frame, area: Rect) -> u16 {
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
    lines.extend(wrap::styled(
        " Mouse: a click focuses a pane or picks a row, the wheel scrolls what is under it; Shift+drag selects text (or start with --no-mouse).",
        inner_w,
        th.dim(),
    ));
    // Taller than the screen: scrolled, with what is hidden on the border.
    let inner_h = area.height.saturating_sub(2);
    let s = super::Scrolled::of(lines.len(), inner_h, app.help_scroll);
    let shown: Vec<Line> = lines.into_iter().skip(usize::from(s.offset)).collect();
    let keys = if s.max > 0 {
        " ↑↓ scroll · Esc close "
    } else {
        " Esc close "
    };
    let rect = popup(f, area, w, shown, " Keys ", keys, th);
    s.mark(f, rect, th);
    app.hits.borrow_mut().popup(rect);
    s.max
}

/// The command palette: the filter on top, then the matching commands (key, what it does),
/// the selected one highlighted; the list scrolls to keep it in view.
pub fn palette(app: &App, f: &mut Frame, area: Rect) {
    let th = &app.theme;
    let entries = app.palette_entries();
    let w = area.width.saturating_sub(4).min(84);
    let inner_w = w.saturating_sub(2) as usize;
    let key_w = entries
        .iter()
        .map(|b| wrap::width(b.label))
        .max()
        .unwrap_or(0);
    // Border, the filter and a rule above the list.
    let room = area.height.saturating_sub(4).max(1) as usize;
    let shown = entries.len().clamp(1, room);
    let h = (shown + 4) as u16;
    let rect = centered(area, w, h);
    clear(f, rect);
    let block = popup_block(" Commands ", " Enter run · Esc close ", th);
    let inner = block.inner(rect);
    f.render_widget(block, rect);
    let filter = app.palette.input.value();
    let scroll = app.palette.input.visual_scroll(inner_w.saturating_sub(3));
    let typed: String = filter.chars().skip(scroll).collect();
    let mut lines = vec![
        Line::from(vec![
            Span::styled("› ", th.label()),
            Span::raw(crate::text::sanitize(&typed, false)),
        ]),
        Line::from(Span::styled("─".repeat(inner_w), th.dim())),
    ];
    if entries.is_empty() {
        lines.push(Line::from(Span::styled(
            " no command matches; Backspace to widen the filter",
            th.dim(),
        )));
    }
    let selected = app.palette.selected.min(entries.len().saturating_sub(1));
    let first = (selected + 1).saturating_sub(shown);
    let mut rows = Vec::new();
    for (i, b) in entries.iter().enumerate().skip(first).take(shown) {
        rows.push((i, lines.len(), 1));
        let style = if i == selected {
            th.selected().add_modifier(Modifier::BOLD)
        } else {
            Style::new()
        };
        let mark = if i == selected { "▶" } else { " " };
        let lead = format!("{mark}{:<key_w$}  ", b.label);
        let room = inner_w.saturating_sub(wrap::width(&lead));
        let mut help: String = b.help.to_string();
        if wrap::width(&help) > room {
            help = help
                .chars()
                .take(room.saturating_sub(1))
                .collect::<String>()
                + "…";
        }
        let pad = room.saturating_sub(wrap::width(&help));
        lines.push(Line::from(vec![
            Span::styled(lead, style.patch(th.label())),
            Span::styled(format!("{help}{}", " ".repeat(pad)), style),
        ]));
    }
    f.render_widget(ratatui::widgets::Paragraph::new(lines), inner);
    record_popup(app, rect, Some(inner), rows);
    let x = (app.palette.input.visual_cursor().saturating_sub(scroll) as u16)
        .min(inner.width.saturating_sub(3));
    f.set_cursor_position((inner.x + 2 + x, inner.y));
}

/// The sandbox admin popup: the tenant as the client sees it, then every operation with its
/// key (1–9, then letters); when they do not all fit (80×24), the list scrolls with the
/// selection and says how many are above and below.
pub fn admin(app: &App, f: &mut Frame, area: Rect, selected: usize) {
    let th = &app.theme;
    let Some(demo) = &app.demo else { return };
    let w = (area.width.saturating_sub(4)).min(76);
    let inner_w = w.saturating_sub(2) as usize;
    let s = &demo.situations;
    let granted = if demo.granted.is_empty() {
        "(none)".to_string()
    } else {
        demo.granted.join(", ")
    };
    let lifetime = match demo.token_lifetime {
        Some(d) => crate::time::human_secs(d.as_secs() as i64),
        None => "Entra default (60–90 min)".into(),
    };
    let secret = if !demo.has_secret {
        "none (certificate or federated)"
    } else if demo.secret_expired {
        "expired"
    } else {
        "valid"
    };
    let clock = match s.clock_offset {
        0 => "right".to_string(),
        n => format!(
            "{} {}",
            crate::time::human_secs(n.abs()),
            if n > 0 { "ahead" } else { "behind" }
        ),
    };
    let tenant = format!(
        "clock {clock} · {} tokens · {} · grants {}",
        if s.v1_tokens { "v1" } else { "v2" },
        if s.assignment_required {
            "assignment required"
        } else {
            "no assignment"
        },
        match s.grant_delay {
            Some(d) => format!("after {}", crate::time::human_secs(d.as_secs() as i64)),
            None => "at once".into(),
        }
    );
    let mut lines = Vec::new();
    for (l, v) in [
        ("client", format!("{} · secret {secret}", demo.client)),
        ("granted", granted),
        (
            "API needs",
            format!("{} · lifetime {lifetime}", demo.required_role),
        ),
        ("tenant", tenant),
    ] {
        lines.extend(wrap::kv(
            &format!(" {l}"),
            &crate::text::sanitize(&v, false),
            10,
            inner_w,
            th.label(),
            Style::new(),
        ));
    }
    lines.push(Line::default());
    let note = wrap::styled(
        " Changes apply to new tokens: refresh (r) to see them in the token.",
        inner_w,
        th.dim(),
    );
    let ops = demo.ops();
    // What is left for the list once the tenant lines, the note and the border are drawn.
    let fixed = lines.len() + 1 + note.len() + 2;
    // The footer line stays visible (it names the popup's keys).
    let room = (area.height as usize).saturating_sub(fixed + 1).max(3);
    let (first, shown) = if ops.len() <= room {
        (0, ops.len())
    } else {
        // One line each for "↑ n more" and "↓ n more".
        let shown = room.saturating_sub(2).max(1);
        let first = (selected + 1).saturating_sub(shown).min(ops.len() - shown);
        (first, shown)
    };
    let scrolls = shown < ops.len();
    if scrolls {
        lines.push(more_line(first, "↑", th, inner_w));
    }
    let mut rows = Vec::new();
    for (i, op) in ops.iter().enumerate().skip(first).take(shown) {
        rows.push((i, lines.len(), 1));
        let mark = if i == selected { "▶" } else { " " };
        let key = keymap::pick_key(i)
            .map(String::from)
            .unwrap_or_else(|| " ".into());
        let label = crate::text::sanitize(&op.label(&demo.client), false);
        let text = format!("{mark}{key}  {label}");
        let style = if i == selected {
            th.selected().add_modifier(Modifier::BOLD)
        } else {
            Style::new()
        };
        lines.push(Line::from(Span::styled(format!("{text:<inner_w$}"), style)));
    }
    if scrolls {
        let below = ops.len() - first - shown;
        lines.push(more_line(below, "↓", th, inner_w));
    }
    lines.push(Line::default());
    lines.extend(note);
    let title = match &demo.remote {
        Some(at) => format!(" Sandbox admin · {} ", crate::text::sanitize(at, false)),
        None => " Demo admin · sandbox tenant ".into(),
    };
    let rect = popup(f, area, w, lines, &title, " Esc close ", th);
    record_popup(app, rect, None, rows);
}

/// "↓ 3 more (↑↓ scroll)", or a blank line when nothing is hidden that way.
fn more_line(n: usize, arrow: &str, th: &crate::tui::Theme, width: usize) -> Line<'static> {
    if n == 0 {
        return Line::default();
    }
    let text = format!("  {arrow} {n} more (↑↓ scroll)");
    Line::from(Span::styled(format!("{text:<width$}"), th.warn()))
}
