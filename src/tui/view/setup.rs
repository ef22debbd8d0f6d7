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
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::{centered, clear, popup_block, wrap};
use crate::diagnose::Severity;
use crate::diagnose::setup::{Link, LinkKind, RoleChain, SetupReport};
use crate::problem::Problem as _;
use crate::text::sanitize;
use crate::tui::Theme;
use crate::tui::app::{App, SetupRead};

/// The boxes' titles, in chain order.
fn title(kind: LinkKind) -> &'static str {
    match kind {
        LinkKind::Defined => "API defines",
        LinkKind::Configured => "configured",
        LinkKind::Granted => "granted",
        LinkKind::InToken => "in token",
        LinkKind::Required => "API requires",
    }
}

fn style(th: &Theme, s: Severity) -> Style {
    match s {
        Severity::Ok | Severity::Info => th.ok(),
        Severity::Warning => th.warn(),
        Severity::Error => th.err(),
    }
}

/// Draw the view over `area`; returns the largest useful scroll offset.
pub fn render(app: &App, f: &mut Frame, area: Rect) -> u16 {
    let th = &app.theme;
    let rect = centered(
        area,
        area.width.saturating_sub(2),
        area.height.saturating_sub(2),
    );
    clear(f, rect);
    app.hits.borrow_mut().popup(rect);
    let p = app.cur();
    let title = format!(" Setup · {} ", p.name);
    let block = popup_block(&title, " r read again · w wait · Esc close ", th);
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
            if let Some(w) = &p.wait {
                let text = format!(
                    "waiting for {} to reach new tokens (since {}){} · w or Esc stops",
                    sanitize(&w.role, false),
                    app.clock(w.since),
                    w.progress
                        .as_ref()
                        .map(|p| format!(": {p}"))
                        .unwrap_or_default()
                );
                lines.extend(wrap::styled(&text, width, th.warn()));
            }
            lines.extend(wrap::styled(
                &format!(
                    "{} · read {}",
                    sanitize(&facts.source, false),
                    app.clock(*at)
                ),
                width,
                th.dim(),
            ));
            match &p.setup_report {
                Some(report) => lines.extend(report_lines(report, width, th)),
                None => lines.push(Line::from(Span::styled(
                    "waiting for a token to compare the set-up with",
                    th.dim(),
                ))),
            }
            for n in &facts.notes {
                lines.extend(wrap::hang("note: ", &sanitize(n, false), width, th.dim()));
            }
        }
    }
    let s = super::Scrolled::of(lines.len(), inner.height, app.setup_scroll);
    f.render_widget(Paragraph::new(lines).scroll((s.offset, 0)), inner);
    s.mark(f, rect, th);
    s.max
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

/// Every role's chain (the first broken one drawn as the diagram), then the findings.
fn report_lines(report: &SetupReport, width: usize, th: &Theme) -> Vec<Line<'static>> {
    let mut out = vec![Line::default()];
    let first_broken = report
        .chains
        .iter()
        .position(|c| c.first_broken().is_some())
        .unwrap_or(0);
    for (i, chain) in report.chains.iter().enumerate() {
        if i == first_broken {
            out.extend(diagram(chain, width, th));
        } else {
            out.push(compact(chain, th));
        }
    }
    if report.chains.is_empty() {
        out.push(Line::from(Span::styled(
            "no role to check: the API named none in a 403 and the profile lists no expected_roles",
            th.dim(),
        )));
    }
    if !report.findings.is_empty() {
        out.push(Line::default());
        out.push(Line::from(Span::styled("around the chain", th.label())));
    }
    for finding in &report.findings {
        let topic = finding.topic.replace('_', " ");
        let mark = format!("{} {topic:<20} ", finding.severity.mark());
        out.extend(wrap::hang(
            &mark,
            &sanitize(&finding.summary, false),
            width,
            style(th, finding.severity),
        ));
        if let Some(fix) = finding
            .fix
            .as_ref()
            .filter(|_| finding.severity >= Severity::Warning)
        {
            out.extend(wrap::hang(
                "    fix: ",
                &sanitize(fix, false),
                width,
                th.dim(),
            ));
        }
    }
    out
}

/// One line for a chain that is not the one drawn: "Weather.Read  ✓ → ✓ → ✓ → ✓ → ✓".
fn compact(chain: &RoleChain, th: &Theme) -> Line<'static> {
    let mut spans = vec![Span::styled(
        format!("{:<18} ", sanitize(&chain.role, false)),
        th.label(),
    )];
    for (i, link) in chain.links.iter().enumerate() {
        if i > 0 {
            spans.push(Span::styled(" → ", style(th, link.severity)));
        }
        spans.push(Span::styled(
            format!("{} {}", link.severity.mark(), title(link.kind)),
            style(th, link.severity),
        ));
    }
    Line::from(spans)
}

/// The chain of one role: boxes with arrows when there is room, else one link per line;
/// then the first broken link's summary, cause and fix.
fn diagram(chain: &RoleChain, width: usize, th: &Theme) -> Vec<Line<'static>> {
    let mut out = vec![Line::from(Span::styled(
        sanitize(&chain.role, false),
        th.title().add_modifier(Modifier::BOLD),
    ))];
    let broken = chain.first_broken().map(|l| l.kind);
    const ARROW: usize = 4;
    let n = chain.links.len().max(1);
    let box_w = (width.saturating_sub(ARROW * (n - 1))) / n;
    if box_w >= 18 {
        out.extend(boxes(chain, box_w, broken, th));
        if let Some(link) = chain.first_broken() {
            out.extend(explain(link, width, th, false));
        }
    } else {
        // Narrow: what is broken and the fix first, where a small screen still shows them.
        if let Some(link) = chain.first_broken() {
            out.extend(explain(link, width, th, true));
            out.push(Line::default());
        }
        out.extend(vertical(chain, width, broken, th));
        if let Some(cause) = chain.first_broken().and_then(|l| l.cause.as_ref()) {
            out.push(Line::default());
            out.extend(wrap::kv(
                "why",
                &sanitize(cause, false),
                4,
                width,
                th.label(),
                Style::new(),
            ));
        }
    }
    out.push(Line::default());
    out
}

/// Lines of text inside a box: as many as the longest summary needs, at least
/// [`MIN_BOX_LINES`] (the boxes line up) and at most [`MAX_BOX_LINES`].
const MIN_BOX_LINES: usize = 3;
const MAX_BOX_LINES: usize = 8;

fn box_lines(chain: &RoleChain, w: usize) -> usize {
    chain
        .links
        .iter()
        .map(|l| wrap::wrap(&sanitize(&l.summary, false), w).len())
        .max()
        .unwrap_or(0)
        .clamp(MIN_BOX_LINES, MAX_BOX_LINES)
}

/// The words inside a box: the link's summary in `n` lines (cut with "…" only past
/// [`MAX_BOX_LINES`]; the explanation below the boxes says it in full for a broken link).
fn box_text(link: &Link, w: usize, n: usize) -> Vec<String> {
    let mut lines = wrap::wrap(&sanitize(&link.summary, false), w);
    if lines.len() > n {
        lines.truncate(n);
        if let Some(last) = lines.last_mut() {
            let keep: String = last.chars().take(w.saturating_sub(1)).collect();
            *last = keep + "…";
        }
    }
    while lines.len() < n {
        lines.push(String::new());
    }
    lines
}

fn boxes(
    chain: &RoleChain,
    box_w: usize,
    broken: Option<LinkKind>,
    th: &Theme,
) -> Vec<Line<'static>> {
    let inner = box_w.saturating_sub(2);
    // Top border, the text lines, bottom border.
    let n = box_lines(chain, inner.saturating_sub(1));
    let mut rows: Vec<Vec<Span<'static>>> = vec![Vec::new(); n + 2];
    let middle = n.div_ceil(2);
    for (i, link) in chain.links.iter().enumerate() {
        let st = style(th, link.severity);
        let border = if Some(link.kind) == broken {
            st.add_modifier(Modifier::BOLD)
        } else {
            th.dim()
        };
        if i > 0 {
            // The arrow into this link takes its colour.
            for (r, row) in rows.iter_mut().enumerate() {
                row.push(if r == middle {
                    Span::styled(" ━▶ ", st)
                } else {
                    Span::raw("    ")
                });
            }
        }
        let head = format!(" {} {} ", link.severity.mark(), title(link.kind));
        let head: String = head.chars().take(inner).collect();
        let fill = inner.saturating_sub(wrap::width(&head));
        rows[0].push(Span::styled("┌".to_string(), border));
        rows[0].push(Span::styled(head, st.add_modifier(Modifier::BOLD)));
        rows[0].push(Span::styled(format!("{}┐", "─".repeat(fill)), border));
        let text = box_text(link, inner.saturating_sub(1), n);
        for (r, t) in text.iter().enumerate() {
            let pad = inner.saturating_sub(wrap::width(t) + 1);
            rows[1 + r].push(Span::styled("│ ".to_string(), border));
            rows[1 + r].push(Span::styled(t.clone(), st));
            rows[1 + r].push(Span::styled(format!("{}│", " ".repeat(pad)), border));
        }
        let mark = if Some(link.kind) == broken {
            format!("┴ broken here {}", "─".repeat(inner.saturating_sub(14)))
        } else {
            "─".repeat(inner)
        };
        let mark: String = mark.chars().take(inner).collect();
        rows[n + 1].push(Span::styled(format!("└{mark}┘"), border));
    }
    rows.into_iter().map(Line::from).collect()
}

fn vertical(
    chain: &RoleChain,
    width: usize,
    broken: Option<LinkKind>,
    th: &Theme,
) -> Vec<Line<'static>> {
    let mut out = Vec::new();
    for (i, link) in chain.links.iter().enumerate() {
        let st = style(th, link.severity);
        if i > 0 {
            out.push(Line::from(Span::styled("  ↓", st)));
        }
        let here = if Some(link.kind) == broken {
            " ◀ broken here"
        } else {
            ""
        };
        let lead = format!("{} {:<18} ", link.severity.mark(), title(link.kind));
        let text = format!("{}{here}", sanitize(&link.summary, false));
        let mut lines = wrap::hang(&lead, &text, width, st);
        if Some(link.kind) == broken
            && let Some(first) = lines.first_mut()
        {
            for span in &mut first.spans {
                span.style = span.style.add_modifier(Modifier::BOLD);
            }
        }
        out.extend(lines);
    }
    out
}

/// The broken link in words: what, why (unless `brief`: the caller shows it later), the fix.
fn explain(link: &Link, width: usize, th: &Theme, brief: bool) -> Vec<Line<'static>> {
    let mut out = Vec::new();
    if !brief {
        out.push(Line::default());
    }
    out.extend(wrap::hang(
        &format!("{} ", link.severity.mark()),
        &sanitize(&link.summary, false),
        width,
        style(th, link.severity).add_modifier(Modifier::BOLD),
    ));
    if let Some(c) = link.cause.as_ref().filter(|_| !brief) {
        out.extend(wrap::kv(
            "why",
            &sanitize(c, false),
            4,
            width,
            th.label(),
            Style::new(),
        ));
    }
    if let Some(fix) = &link.fix {
        out.extend(wrap::kv(
            "fix",
            &sanitize(fix, false),
            4,
            width,
            th.label(),
            th.warn(),
        ));
    }
    out
}
