//! The Setup view: the app-role set-up read from Microsoft Graph, drawn as a chain per role —
//! the API defines the role → the client has it configured → it is granted → it is in the
//! token → the API requires it — with the first broken link marked and its fix under it,
//! then the findings around the chain (token version, audience, credentials, …).
//!
//! Wide screens get boxes joined by arrows; narrow ones the same links one under another.
//! Arrows take the colour of the link they lead to and every link carries ✓ / ⚠ / ✗, so the
//! chain reads without colour too. Draws from the App's state only; the chain itself is
//! worked out in `app::setup` when its inputs change.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::{centered, clear, popup_block, wrap};
use crate::problem::Problem as _;
use crate::text::sanitize;
use crate::tui::Theme;
use crate::tui::app::{App, SetupRead};

/// Draw the view over `area`; returns the largest useful scroll offset.
pub fn render(app: &App, f: &mut Frame, area: Rect) -> u16 {
    let th = &app.theme;
    let rect = centered(
        area,
        area.width.saturating_sub(2),
        area.height.saturating_sub(2),
    );
    clear(f, rect);
    let p = app.cur();
    let title = format!(" Setup · {} ", p.name);
    let block = popup_block(&title, " r read again · F5 token · Esc close ", th);
    let inner = block.inner(rect);
    f.render_widget(block, rect);
    let width = inner.width as usize;
    let mut lines: Vec<Line<'static>> = Vec::new();
    match &p.setup {
        SetupRead::NotConfigured => lines.extend(not_configured(width, th)),
        SetupRead::Unread => lines.push(Line::from(Span::styled("not read yet", th.dim()))),
        SetupRead::Reading { since } => lines.push(Line::from(Span::styled(
            format!(
                "reading the app-role set-up … (since {})",
                app.clock(*since)
            ),
            th.dim(),
        ))),
        SetupRead::Failed { error, at } => {
            lines.extend(wrap::styled(
                &format!("✗ {}", sanitize(&error.summary(), false)),
                width,
                th.err(),
            ));
            if let Some(d) = error.detail() {
                lines.extend(wrap::styled(&sanitize(&d, true), width, th.dim()));
            }
            if let Some(h) = error.hint() {
                lines.extend(wrap::kv(
                    "fix",
                    &sanitize(&h, false),
                    4,
                    width,
                    th.label(),
                    th.warn(),
                ));
            }
            lines.push(Line::from(Span::styled(
                format!("read at {} · r to try again", app.clock(*at)),
                th.dim(),
            )));
        }
        SetupRead::Read { facts, at } => {
            lines.extend(wrap::styled(
                &format!(
                    "{} · read {}",
                    sanitize(&facts.source, false),
                    app.clock(*at)
                ),
                width,
                th.dim(),
            ));
            lines.extend(facts_lines(facts, width, th));
            for n in &facts.notes {
                lines.extend(wrap::hang("note: ", &sanitize(n, false), width, th.dim()));
            }
        }
    }
    let max = (lines.len() as u16).saturating_sub(inner.height);
    f.render_widget(
        Paragraph::new(lines).scroll((app.setup_scroll.min(max), 0)),
        inner,
    );
    max
}

fn not_configured(width: usize, th: &Theme) -> Vec<Line<'static>> {
    let mut out = wrap::styled(
        "No source for this profile's app-role set-up. tokenscope reads it from Microsoft Graph (the API's app roles and token version, the client's permissions and grants) when the profile says how:",
        width,
        Style::new(),
    );
    for (k, v) in [
        (
            "graph_credential = \"profile\"",
            "the profile's own app, if it holds Application.Read.All",
        ),
        (
            "graph_credential = \"azure-cli\"",
            "your `az login` session",
        ),
        (
            "graph_credential = \"<profile>\"",
            "another profile's app (an admin reader)",
        ),
        (
            "setup_files = [...]",
            "JSON exported with az ad app show / az ad sp show, or the portal's manifest",
        ),
    ] {
        out.extend(wrap::hang(&format!("  {k}  "), v, width, th.dim()));
    }
    out
}

/// What was read, until the chain is drawn from it.
fn facts_lines(facts: &crate::graph::SetupFacts, width: usize, th: &Theme) -> Vec<Line<'static>> {
    let mut out = Vec::new();
    if let Some(api) = &facts.api_app {
        let roles: Vec<String> = api
            .app_roles
            .iter()
            .map(|r| sanitize(&r.value, false))
            .collect();
        out.extend(wrap::kv(
            "API",
            &format!(
                "{} · roles {}",
                sanitize(&api.display_name, false),
                roles.join(", ")
            ),
            8,
            width,
            th.label(),
            Style::new(),
        ));
    }
    out.extend(wrap::kv(
        "grants",
        &facts.assignments.len().to_string(),
        8,
        width,
        th.label(),
        Style::new(),
    ));
    out
}
