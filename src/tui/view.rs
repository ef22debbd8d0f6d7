//! Drawing: a pure function of [`App`]. Nothing here changes state except what the frame
//! reports back: the scroll limits (`App::max_scroll`) and where it drew what a click can
//! land on (`App::hits`).

mod copy;
mod overlay;
mod profiles;
mod setup;
mod token;
mod weather;
mod wrap;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph, Wrap};

use super::app::{App, Entry, Focus, Level, LintLine, Overlay, Scroll};
use super::keymap;
use crate::diagnose::Severity;

/// Below this size the dashboard shows a message instead of a broken layout.
pub const MIN_WIDTH: u16 = 64;
pub const MIN_HEIGHT: u16 = 20;

/// Draw the whole screen.
pub fn view(app: &App, f: &mut Frame) {
    let area = f.area();
    app.hits.borrow_mut().clear();
    if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
        let msg = format!(
            "tokenscope needs at least {MIN_WIDTH}×{MIN_HEIGHT}; this terminal is {}×{}.\nMake it larger, or press Ctrl-C to quit.",
            area.width, area.height
        );
        f.render_widget(
            Paragraph::new(msg)
                .wrap(Wrap { trim: true })
                .style(app.theme.warn()),
            area,
        );
        return;
    }
    let rest = area.height - 5;
    let top_h = (rest / 2).max(7);
    let [title, top, city, bottom, footer] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(top_h),
        Constraint::Length(3),
        Constraint::Min(5),
        Constraint::Length(1),
    ])
    .areas(area);
    // Narrow terminals show Config or Token in the top row, whichever has focus.
    let narrow = area.width < 100;
    let [config_area, token_area] = if !narrow {
        Layout::horizontal([Constraint::Percentage(40), Constraint::Percentage(60)]).areas(top)
    } else if app.focus == Focus::Config {
        [top, Rect::default()]
    } else {
        [Rect::default(), top]
    };
    let [weather_area, activity_area] =
        Layout::horizontal([Constraint::Percentage(58), Constraint::Percentage(42)]).areas(bottom);

    {
        let mut hits = app.hits.borrow_mut();
        hits.pane(Focus::Config, config_area);
        hits.pane(Focus::Token, token_area);
        hits.pane(Focus::City, city);
        hits.pane(Focus::Weather, weather_area);
        hits.pane(Focus::Activity, activity_area);
    }
    title_bar(app, f, title);
    // What each pane hides, unless a popup covers the panes (its edges would show bits).
    let marks = |s: Scrolled, f: &mut Frame, area: Rect| {
        if app.overlay == Overlay::None {
            s.mark(f, area, &app.theme);
        }
    };
    let config = if config_area.is_empty() {
        app.max_scroll.get().config
    } else {
        let s = config(app, f, config_area);
        marks(s, f, config_area);
        s.max
    };
    let token = if token_area.is_empty() {
        app.max_scroll.get().token
    } else {
        let hint = token_title(app, narrow);
        let inner = pane(app, f, token_area, " Token ", Focus::Token, hint);
        let s = token::render(app, f, inner);
        marks(s, f, token_area);
        s.max
    };
    city_box(app, f, city);
    let inner = pane(app, f, weather_area, " Weather ", Focus::Weather, None);
    let s = weather::render(app, f, inner);
    marks(s, f, weather_area);
    let weather = s.max;
    let s = activity(app, f, activity_area);
    marks(s, f, activity_area);
    let activity = s.max;
    footer_line(app, f, footer);
    let mut setup = 0;
    let mut help = 0;
    match app.overlay {
        Overlay::Help => help = overlay::help(app, f, area),
        Overlay::Admin { selected } => overlay::admin(app, f, area, selected),
        Overlay::Profiles { selected } => profiles::picker(app, f, area, selected),
        Overlay::Compare => profiles::compare(app, f, area),
        Overlay::Setup => setup = setup::render(app, f, area),
        Overlay::Palette => overlay::palette(app, f, area),
        Overlay::ConfirmCopy(what) => copy::confirm(app, f, area, what),
        Overlay::Copy { selected } => copy::menu(app, f, area, selected),
        Overlay::None => {}
    }
    app.max_scroll.set(Scroll {
        token,
        weather,
        activity,
        config,
        setup,
        help,
    });
}

fn token_title(app: &App, narrow: bool) -> Option<&'static str> {
    Some(match (app.cur().decoded.is_some(), app.raw, narrow) {
        (false, _, false) => return None,
        (false, _, true) => " Config: Shift-Tab… ",
        (true, true, false) => " raw JSON · t claims ",
        (true, false, false) => " claims · t raw JSON ",
        (true, true, true) => " t claims · Config: Shift-Tab… ",
        (true, false, true) => " t raw · Config: Shift-Tab… ",
    })
}

/// A bordered pane; returns the inner area.
fn pane(
    app: &App,
    f: &mut Frame,
    area: Rect,
    title: &str,
    focus: Focus,
    hint: Option<&str>,
) -> Rect {
    let focused = app.focus == focus && app.overlay == Overlay::None;
    let mut block = Block::bordered()
        .border_style(app.theme.border(focused))
        .title(Span::styled(
            title.to_string(),
            if focused {
                app.theme.title().add_modifier(Modifier::REVERSED)
            } else {
                app.theme.title()
            },
        ));
    if let Some(h) = hint {
        block =
            block.title(Line::from(Span::styled(h.to_string(), app.theme.dim())).right_aligned());
    }
    let inner = block.inner(area);
    f.render_widget(block, area);
    inner
}

fn title_bar(app: &App, f: &mut Frame, area: Rect) {
    // With several profiles: which one of how many, and how to switch.
    let count = match app.profiles.len() {
        0 | 1 => String::new(),
        n => format!(" ({} of {n})", app.active.0 + 1),
    };
    let mode = match app.demo.as_ref().map(|d| d.remote.as_deref()) {
        Some(None) => " · demo: local sandbox tenant".to_string(),
        Some(Some(at)) => format!(" · sandbox at {}", crate::text::sanitize(at, false)),
        None => String::new(),
    };
    let left = Line::from(vec![
        Span::styled(
            " tokenscope ",
            app.theme.title().add_modifier(Modifier::REVERSED),
        ),
        Span::raw(format!(" profile {}{}{mode}", app.cur().name, count)),
    ]);
    f.render_widget(Paragraph::new(left), area);
    f.render_widget(
        Paragraph::new(Line::from(Span::styled("? help ", app.theme.dim())).right_aligned()),
        area,
    );
}

fn config(app: &App, f: &mut Frame, area: Rect) -> Scrolled {
    let inner = pane(app, f, area, " Config ", Focus::Config, None);
    let width = inner.width as usize;
    let th = &app.theme;
    // Problems first (they explain failures before any request is made); the demo's
    // harmless inline secret and the all-clear go last.
    let finding = |l: &LintLine| -> Vec<Line<'static>> {
        let (mark, style) = match l.severity {
            _ if l.sandbox => ("·", th.dim()),
            Severity::Error => ("✗", th.err()),
            Severity::Warning => ("⚠", th.warn()),
            Severity::Ok | Severity::Info => ("·", th.dim()),
        };
        let text = if l.sandbox {
            "the client secret is inline in the generated demo config: harmless, it is a sandbox-only value".to_string()
        } else {
            l.text.clone()
        };
        let mut out = wrap::hang(&format!("{mark} "), &text, width, style);
        if !l.sandbox {
            out.extend(wrap::hang("  → ", &l.fix, width, th.dim()));
        }
        out
    };
    let mut lines: Vec<Line> = Vec::new();
    let cur = app.cur();
    let problems = cur
        .lint
        .iter()
        .filter(|l| !l.sandbox && l.severity >= Severity::Warning);
    let mut any = false;
    for l in problems {
        lines.extend(finding(l));
        any = true;
    }
    if any {
        lines.push(Line::default());
    }
    let refused_as_expired = cur
        .snapshot
        .as_ref()
        .and_then(|s| s.last_error.as_ref())
        .is_some_and(crate::diagnose::aadsts::secret_expired);
    // The secret's expiry row ("secret" beside a certificate, else "expires").
    let secret_row = if cur.credential.certificate.is_some() {
        "secret"
    } else {
        "expires"
    };
    for row in cur.config_rows() {
        match row.expires {
            None => lines.extend(wrap::kv(
                row.label,
                &row.value,
                9,
                width,
                th.label(),
                Style::new(),
            )),
            // An expiry date counted down with the App's clock: a warning within 30 days,
            // an error once past.
            // Entra refused the secret as expired: the date in the config is not the truth.
            Some(at) if refused_as_expired && row.label == secret_row => {
                let date = at.with_timezone(&app.offset).format("%Y-%m-%d");
                lines.extend(wrap::kv(
                    row.label,
                    &format!(
                        "✗ expired (Entra: AADSTS7000222); secret_expires = {date} in the config is out of date"
                    ),
                    9,
                    width,
                    th.label(),
                    th.err(),
                ));
            }
            Some(at) => {
                let (level, note) = super::app::expiry(at, app.now);
                let style = match level {
                    Level::Error => th.err(),
                    Level::Warn => th.warn(),
                    _ => Style::new(),
                };
                let date = at.with_timezone(&app.offset).format("%Y-%m-%d");
                lines.extend(wrap::kv(
                    row.label,
                    &format!("{date} {note}"),
                    9,
                    width,
                    th.label(),
                    style,
                ));
            }
        }
    }
    let notes: Vec<&LintLine> = cur
        .lint
        .iter()
        .filter(|l| l.sandbox || l.severity < Severity::Warning)
        .collect();
    if !any {
        lines.push(Line::default());
        if notes.is_empty() {
            lines.push(Line::from(Span::styled(
                "✓ lint: no problems found in this profile",
                th.ok(),
            )));
        }
    } else if !notes.is_empty() {
        lines.push(Line::default());
    }
    for l in notes {
        lines.extend(finding(l));
    }
    let s = Scrolled::of(lines.len(), inner.height, app.scroll.config);
    f.render_widget(Paragraph::new(lines).scroll((s.offset, 0)), inner);
    s
}

fn city_box(app: &App, f: &mut Frame, area: Rect) {
    let focused = app.focus == Focus::City && app.overlay == Overlay::None;
    let mut block = Block::bordered()
        .border_style(app.theme.border(focused))
        .title(Span::styled(
            " City ",
            if focused {
                app.theme.title().add_modifier(Modifier::REVERSED)
            } else {
                app.theme.title()
            },
        ))
        .title(
            Line::from(Span::styled(
                " Enter call · ↑↓ history · Esc clear ",
                app.theme.dim(),
            ))
            .right_aligned(),
        );
    if let Some(e) = &app.city.error {
        block = block.title_bottom(Line::from(Span::styled(format!(" {e} "), app.theme.err())));
    }
    let inner = block.inner(area);
    f.render_widget(block, area);
    let width = inner.width.saturating_sub(3) as usize;
    let scroll = app.city.input.visual_scroll(width);
    let value: String = app.city.input.value().chars().skip(scroll).collect();
    f.render_widget(
        Paragraph::new(Line::from(vec![
            Span::styled("› ", app.theme.label()),
            Span::raw(value),
        ])),
        inner,
    );
    if focused {
        let x = (app.city.input.visual_cursor().saturating_sub(scroll) as u16)
            .min(inner.width.saturating_sub(3));
        f.set_cursor_position((inner.x + 2 + x, inner.y));
    }
}

fn activity(app: &App, f: &mut Frame, area: Rect) -> Scrolled {
    // Which entries, and whether scrolled back: both said in the title.
    let multi = app.profiles.len() > 1;
    let hint = match (app.activity.back > 0, multi, app.activity.all) {
        (true, _, _) => Some(" scrolled · End newest "),
        (false, true, false) => Some(" this profile · f all "),
        (false, true, true) => Some(" all profiles · f this one "),
        (false, false, _) => None,
    };
    let inner = pane(app, f, area, " Activity ", Focus::Activity, hint);
    let width = inner.width as usize;
    let th = &app.theme;
    // "HH:MM:SS " before every entry; continuation lines are indented as far.
    let pad = wrap::width(&app.clock(app.now)) + 1;
    let avail = width.saturating_sub(pad).max(8);
    // The log holds up to ACTIVITY_CAP entries but the pane shows a few: count every
    // entry's lines (cached per width) for the scroll limit, wrap only the visible ones.
    let count = |e: &Entry| match e.wrapped.get() {
        Some((w, c, n)) if w == avail && c == e.count => n,
        _ => {
            let n = wrap::wrap(&e.shown(), avail).len();
            e.wrapped.set(Some((avail, e.count, n)));
            n
        }
    };
    let total: usize = app.activity.visible(app.active).map(count).sum();
    let h = inner.height as usize;
    let max = total.saturating_sub(h);
    let back = (app.activity.back as usize).min(max);
    let (start, end) = (max - back, max - back + h);
    let mut shown: Vec<Line> = Vec::new();
    let mut pos = total;
    for e in app.activity.visible(app.active).rev() {
        if pos <= start {
            break;
        }
        let first = pos - count(e);
        pos = first;
        if first >= end {
            continue;
        }
        let style = match e.level {
            Level::Info => Style::new(),
            Level::Good => th.ok(),
            Level::Warn => th.warn(),
            Level::Error => th.err(),
        };
        let stamp = format!("{} ", app.clock(e.at));
        let lines = wrap::wrap(&e.shown(), avail).into_iter().enumerate();
        let mut entry: Vec<Line> = lines
            .filter(|(i, _)| (start..end).contains(&(first + i)))
            .map(|(i, chunk)| {
                let lead = if i == 0 {
                    stamp.clone()
                } else {
                    " ".repeat(pad)
                };
                Line::from(vec![
                    Span::styled(lead, th.dim()),
                    Span::styled(chunk, style),
                ])
            })
            .collect();
        entry.append(&mut shown);
        shown = entry;
    }
    f.render_widget(Paragraph::new(shown), inner);
    // Scrolled back from the newest: `back` lines are below, the rest of the log above.
    let max = u16::try_from(max).unwrap_or(u16::MAX);
    Scrolled {
        offset: max.saturating_sub(u16::try_from(back).unwrap_or(u16::MAX)),
        max,
    }
}

fn footer_line(app: &App, f: &mut Frame, area: Rect) {
    let th = &app.theme;
    let line = if let Some((level, text)) = &app.status {
        let style = match level {
            Level::Good => th.ok(),
            Level::Warn => th.warn(),
            Level::Error => th.err(),
            Level::Info => Style::new(),
        };
        Line::from(Span::styled(format!(" {text}"), style))
    } else {
        let width = (area.width as usize).saturating_sub(1);
        let hint = keymap::hints(&app.key_context(), width);
        Line::from(Span::styled(format!(" {hint}"), th.dim()))
    };
    f.render_widget(Paragraph::new(line), area);
}

/// What a scrolled pane hides, on the bottom border of the bordered `area`: "↓ 4 more" when
/// lines are below what it shows, "↑ 3 above" when scrolled past some, both when both.
/// Every pane that can hold more than it shows draws this, so nothing is hidden silently.
fn scroll_marks(f: &mut Frame, area: Rect, above: u16, below: u16, th: &super::Theme) {
    let text = match (above, below) {
        (0, 0) => return,
        (a, 0) => format!(" ↑ {a} above "),
        (0, b) => format!(" ↓ {b} more "),
        (a, b) => format!(" ↑ {a} · ↓ {b} more "),
    };
    if area.height < 2 || area.width < 16 {
        return;
    }
    let w = (wrap::width(&text) as u16).min(area.width.saturating_sub(2));
    let at = Rect {
        x: area.x + area.width.saturating_sub(w + 1),
        y: area.y + area.height - 1,
        width: w,
        height: 1,
    };
    f.render_widget(Paragraph::new(Span::styled(text, th.warn())), at);
}

/// How far a pane is scrolled and how far it could be: what [`scroll_marks`] needs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Scrolled {
    pub offset: u16,
    pub max: u16,
}

impl Scrolled {
    /// `len` lines in `height` rows, asked to start at `wanted` (clamped).
    pub fn of(len: usize, height: u16, wanted: u16) -> Scrolled {
        let max = u16::try_from(len)
            .unwrap_or(u16::MAX)
            .saturating_sub(height);
        Scrolled {
            offset: wanted.min(max),
            max,
        }
    }

    fn mark(self, f: &mut Frame, area: Rect, th: &super::Theme) {
        scroll_marks(f, area, self.offset, self.max - self.offset, th);
    }
}

/// A rectangle of at most `w`×`h` centred in `area`.
fn centered(area: Rect, w: u16, h: u16) -> Rect {
    let w = w.min(area.width);
    let h = h.min(area.height);
    Rect {
        x: area.x + (area.width - w) / 2,
        y: area.y + (area.height - h) / 2,
        width: w,
        height: h,
    }
}

fn clear(f: &mut Frame, area: Rect) {
    f.render_widget(Clear, area);
}

/// The frame of every popup: bordered, `title` on the left, the keys it takes on the right.
fn popup_block<'a>(title: &'a str, keys: &'a str, th: &super::Theme) -> Block<'a> {
    Block::bordered()
        .title(Span::styled(title, th.title()))
        .title(Line::from(Span::styled(keys, th.dim())).right_aligned())
}

/// A popup of `lines`, `w` wide and as tall as they need (at most the screen), centred in
/// `area` over whatever is drawn there. Returns where it was drawn.
fn popup(
    f: &mut Frame,
    area: Rect,
    w: u16,
    lines: Vec<Line<'_>>,
    title: &str,
    keys: &str,
    th: &super::Theme,
) -> Rect {
    let h = (lines.len() as u16 + 2).min(area.height);
    let rect = centered(area, w, h);
    clear(f, rect);
    f.render_widget(
        Paragraph::new(lines).block(popup_block(title, keys, th)),
        rect,
    );
    rect
}

/// Tell the mouse where popup `rect` is and, for a list, where its rows are: `rows` as
/// [`super::app::HitMap::rows`] takes them, counted in lines from the top of `list` (the
/// popup's inner area when `None`).
fn record_popup(
    app: &App,
    rect: Rect,
    list: Option<Rect>,
    rows: impl IntoIterator<Item = (usize, usize, usize)>,
) {
    let mut hits = app.hits.borrow_mut();
    hits.popup(rect);
    hits.rows(list.unwrap_or_else(|| Block::bordered().inner(rect)), rows);
}
