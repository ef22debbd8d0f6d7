//! The profile picker and the compare view: every profile of the config file, its token and
//! its roles side by side against the roles the API requires.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row, Table};

use super::{centered, clear, popup, popup_block, record_popup, wrap};
use crate::diagnose::roles::{self, same_role};
use crate::text::sanitize;
use crate::tui::Theme;
use crate::tui::app::{App, Level, ProfileState, SetupRead};

fn level_style(th: &Theme, level: Level) -> Style {
    match level {
        Level::Good => th.ok(),
        Level::Warn => th.warn(),
        Level::Error => th.err(),
        Level::Info => th.dim(),
    }
}

/// "roles Weather.Read, Weather.Write", "no roles", or nothing before a token.
fn roles_summary(p: &ProfileState) -> Option<String> {
    match p.roles()? {
        [] => Some("no roles".into()),
        r => Some(format!(
            "roles {}",
            r.iter()
                .map(|r| sanitize(r, false))
                .collect::<Vec<_>>()
                .join(", ")
        )),
    }
}

pub fn picker(app: &App, f: &mut Frame, area: Rect, selected: usize) {
    let th = &app.theme;
    let w = area.width.saturating_sub(4).min(110);
    let inner_w = w.saturating_sub(2) as usize;
    let name_w = app
        .profiles
        .iter()
        .map(|p| wrap::width(&p.name))
        .max()
        .unwrap_or(0)
        .clamp(7, 20);
    let kind_w = 15;
    let mut lines = Vec::new();
    for (i, p) in app.profiles.iter().enumerate() {
        let sel = i == selected;
        let mark = if sel { "▶" } else { " " };
        let num = if i < 9 {
            format!("{}", i + 1)
        } else {
            " ".into()
        };
        let name: String = p.name.chars().take(name_w).collect();
        let lead = format!("{mark}{num} {name:<name_w$} ");
        let (level, state) = p.token_summary(app.now);
        let mut rest = if p.error.is_some() {
            state
        } else {
            let mut s = format!("{:<kind_w$} ", p.credential.kind);
            if i == app.active.0 {
                s.push_str("active · ");
            }
            s.push_str(&state);
            if let Some(r) = roles_summary(p) {
                s.push_str(&format!(" · {r}"));
            }
            s
        };
        let room = inner_w.saturating_sub(wrap::width(&lead));
        if wrap::width(&rest) > room {
            rest = rest
                .chars()
                .take(room.saturating_sub(1))
                .collect::<String>()
                + "…";
        }
        let base = if sel {
            th.selected().add_modifier(Modifier::BOLD)
        } else {
            Style::new()
        };
        let style = if p.error.is_some() {
            base.patch(th.err())
        } else if sel {
            base
        } else {
            base.patch(level_style(th, level).remove_modifier(Modifier::BOLD))
        };
        let pad = inner_w.saturating_sub(wrap::width(&lead) + wrap::width(&rest));
        lines.push(Line::from(vec![
            Span::styled(lead, base),
            Span::styled(rest, style),
            Span::styled(" ".repeat(pad), base),
        ]));
    }
    lines.push(Line::default());
    lines.extend(wrap::styled(
        " Every profile you visit keeps its own token manager refreshing in the background; a profile that does not load cannot be activated.",
        inner_w,
        th.dim(),
    ));
    let rect = popup(
        f,
        area,
        w,
        lines,
        " Profiles ",
        " Enter switch · c compare · Esc close ",
        th,
    );
    // One line per profile, from the top.
    record_popup(app, rect, None, (0..app.profiles.len()).map(|i| (i, i, 1)));
}

/// The role columns: the API's app roles (demo), then every role a profile expects or a
/// token carries, each once (case-insensitive), in first-seen order.
pub fn role_columns(app: &App) -> Vec<String> {
    let mut roles: Vec<String> = Vec::new();
    let mut add = |r: &str| {
        if !roles.iter().any(|x| same_role(x, r)) {
            roles.push(r.to_string());
        }
    };
    if let Some(d) = &app.demo {
        d.api_roles.iter().for_each(|r| add(r));
    }
    for p in &app.profiles {
        p.expected_roles.iter().for_each(|r| add(r));
    }
    for p in &app.profiles {
        p.roles().unwrap_or_default().iter().for_each(|r| add(r));
    }
    roles
}

/// Roles the API itself named as required in a 403 answer to any profile's last call
/// (IDW10203, fastapi-azure-auth, …), first seen first, without duplicates. Read from the
/// diagnosis made when each answer landed.
fn roles_named_by_the_api(app: &App) -> Vec<String> {
    let mut named: Vec<String> = Vec::new();
    let diagnosed = app
        .profiles
        .iter()
        .filter_map(|p| p.last.as_ref()?.advice.as_ref());
    for role in diagnosed.filter_map(|a| a.required_role.as_ref()) {
        if !named.iter().any(|r| same_role(r, role)) {
            named.push(role.clone());
        }
    }
    named
}

/// The roles the API requires: in the demo the sandbox's required role; otherwise the role
/// the API named in a 403, else the roles every profile (that configures any) lists in
/// `expected_roles`.
pub fn required_roles(app: &App) -> Vec<String> {
    if let Some(d) = &app.demo {
        return vec![d.required_role.clone()];
    }
    let named = roles_named_by_the_api(app);
    if !named.is_empty() {
        return named;
    }
    let mut lists = app
        .profiles
        .iter()
        .filter(|p| p.error.is_none() && !p.expected_roles.is_empty())
        .map(|p| &p.expected_roles);
    let Some(first) = lists.next() else {
        return Vec::new();
    };
    let rest: Vec<_> = lists.collect();
    first
        .iter()
        .filter(|r| rest.iter().all(|l| l.iter().any(|x| same_role(x, r))))
        .cloned()
        .collect()
}

/// `Weather.Read` → `Read` when every role shares the `Weather.` prefix (narrow screens).
fn short_names(roles: &[String]) -> Vec<String> {
    let prefix = roles
        .first()
        .and_then(|r| r.rfind('.').map(|i| &r[..=i]))
        .filter(|p| roles.iter().all(|r| r.starts_with(p) && r.len() > p.len()));
    roles
        .iter()
        .map(|r| match prefix {
            Some(p) => r[p.len()..].to_string(),
            None => r.clone(),
        })
        .collect()
}

/// One profile's role columns: ✓ in its token, ✗ missing (red when it matters), — no token;
/// with the set-up read, a second mark for what the tenant granted. Also says whether that
/// set-up was read.
fn role_cells(
    app: &App,
    p: &crate::tui::app::ProfileState,
    roles: &[String],
    is_required: &dyn Fn(&str) -> bool,
) -> (Vec<Cell<'static>>, bool) {
    let th = &app.theme;
    let mut cells = Vec::new();
    let check = p
        .decoded
        .as_ref()
        .and_then(|d| d.jwt())
        .filter(|_| p.error.is_none())
        .map(|j| roles::check(Some(&j.claims), &p.expected_roles));
    // What Microsoft Graph says is granted, when the set-up was read.
    let granted = match &p.setup {
        SetupRead::Read { facts, .. } => Some(facts.granted_api_roles()),
        _ => None,
    };
    for r in roles {
        let in_grant = granted.as_ref().map(|g| g.iter().any(|x| same_role(x, r)));
        let grant_mark = match in_grant {
            None => "",
            Some(true) => "✓",
            Some(false) => "✗",
        };
        let cell = match &check {
            None => Cell::from(Span::styled(format!("—{grant_mark}"), th.dim())),
            Some(c) if c.grants(r) => Cell::from(Span::styled(format!("✓{grant_mark}"), th.ok())),
            Some(c) => {
                // A missing role the API needs, or the profile expects, is the problem;
                // any other missing role is just not granted. Granted but not in the
                // token: the token predates the grant.
                let matters = is_required(r) || c.missing.iter().any(|m| same_role(m, r));
                let style = match in_grant {
                    Some(true) => th.warn(),
                    _ if matters => th.err(),
                    _ => th.dim(),
                };
                Cell::from(Span::styled(format!("✗{grant_mark}"), style))
            }
        };
        cells.push(cell);
    }
    (cells, granted.is_some())
}

/// The compare table's columns: the name, the credential (when wide), one per role, then the
/// token column and the last call. The token column gets what it needs unless the last call
/// would then be cut; when both cannot fit, they share.
fn compare_widths(
    name_w: u16,
    narrow: bool,
    role_heads: &[String],
    inner_w: u16,
    token_w: usize,
    outcome_w: usize,
) -> Vec<Constraint> {
    let mut widths = vec![Constraint::Length(name_w)];
    let mut used = name_w + 1;
    if !narrow {
        widths.push(Constraint::Length(15));
        used += 16;
    }
    for h in role_heads {
        let w = (wrap::width(h) as u16).max(3);
        widths.push(Constraint::Length(w));
        used += w + 1;
    }
    // The token column gets what it needs unless the last call would then be cut; when both
    // cannot fit, they share.
    let left = inner_w.saturating_sub(used + 1);
    let token_w = token_w as u16;
    let token_w = if token_w + outcome_w as u16 <= left {
        token_w
    } else {
        token_w
            .min(left.saturating_sub(outcome_w as u16).max(left / 2))
            .max(5)
    };
    widths.push(Constraint::Length(token_w));
    widths.push(Constraint::Fill(1));
    widths
}

/// Below the compare table: what the marks mean, where the required role comes from, the
/// keys, and the profiles that do not load.
fn compare_notes(
    app: &App,
    required: &[String],
    any_graph: bool,
    width: usize,
) -> Vec<Line<'static>> {
    let th = &app.theme;
    let mut notes: Vec<Line> = Vec::new();
    notes.push(Line::default());
    let req = if required.is_empty() {
        "no role marked as required: no profile lists expected_roles".to_string()
    } else if let Some(d) = &app.demo {
        format!(
            "* the role the API requires now: {} (the sandbox's weather API)",
            sanitize(&d.required_role, false)
        )
    } else if !roles_named_by_the_api(app).is_empty() {
        format!(
            "* named by the API in its 403 answer: {}",
            sanitize(&required.join(", "), false)
        )
    } else {
        format!(
            "* expected by every profile (expected_roles): {}",
            sanitize(&required.join(", "), false)
        )
    };
    notes.extend(wrap::styled(&req, width, th.dim()));
    notes.extend(wrap::styled(
        "✓ in the roles claim · ✗ missing (bold red: needed) · — no token · ◀ active · ▶ selected",
        width,
        th.dim(),
    ));
    if any_graph {
        notes.extend(wrap::styled(
            "second mark: granted in the tenant (Microsoft Graph) · ✗✓ granted but not in the token: it predates the grant (r)",
            width,
            th.dim(),
        ));
    }
    let next = match app.compare_city() {
        Some(city) => format!(
            "↑↓ select · Enter switches to that profile · a calls the API for {} as every profile, each with its own token.",
            sanitize(&city, false)
        ),
        None => "↑↓ select · Enter switches to that profile · a calls the API as every profile, once a city is typed (Esc, then the city box).".into(),
    };
    notes.extend(wrap::styled(&next, width, th.dim()));
    for p in app.profiles.iter().filter(|p| p.error.is_some()) {
        notes.extend(wrap::hang(
            &format!("✗ {}: ", p.name),
            &format!("does not load: {}", p.error.as_deref().unwrap_or_default()),
            width,
            th.err(),
        ));
    }
    notes
}

pub fn compare(app: &App, f: &mut Frame, area: Rect) {
    let th = &app.theme;
    let width = area.width.saturating_sub(2);
    let inner_w = width.saturating_sub(2);
    let narrow = inner_w < 100;

    let roles = role_columns(app);
    let required = required_roles(app);
    let is_required = |r: &str| required.iter().any(|x| same_role(x, r));
    let names: Vec<String> = if narrow {
        short_names(&roles)
    } else {
        roles.clone()
    };
    let role_heads: Vec<String> = roles
        .iter()
        .zip(&names)
        .map(|(r, n)| {
            let n = sanitize(n, false);
            if is_required(r) { format!("{n}*") } else { n }
        })
        .collect();

    let mut header = vec![Cell::from(" profile")];
    if !narrow {
        header.push(Cell::from("credential"));
    }
    header.extend(role_heads.iter().map(|h| Cell::from(h.clone())));
    header.push(Cell::from("token"));
    header.push(Cell::from("last call"));
    let header = Row::new(header).style(th.label().add_modifier(Modifier::BOLD));

    let mut rows = Vec::new();
    let mut token_w = 5;
    let mut outcome_w = 9;
    let mut any_graph = false;
    for (i, p) in app.profiles.iter().enumerate() {
        let mut cells = Vec::new();
        let mark = if i == app.compare_selected {
            "▶"
        } else {
            " "
        };
        let name = if i == app.active.0 {
            format!("{mark}{} ◀", p.name)
        } else {
            format!("{mark}{}", p.name)
        };
        cells.push(Cell::from(name));
        if !narrow {
            cells.push(Cell::from(p.credential.kind));
        }
        let (role_cells, graph) = role_cells(app, p, &roles, &is_required);
        any_graph |= graph;
        cells.extend(role_cells);
        let (level, token) = p.token_brief(app.now);
        token_w = token_w.max(wrap::width(&token));
        cells.push(Cell::from(Span::styled(token, level_style(th, level))));
        let (level, outcome) = if p.error.is_some() {
            (Level::Info, "—".to_string())
        } else {
            p.outcome_summary()
        };
        outcome_w = outcome_w.max(wrap::width(&outcome));
        cells.push(Cell::from(Span::styled(outcome, level_style(th, level))));
        let row = Row::new(cells);
        rows.push(if i == app.compare_selected {
            row.style(th.selected().add_modifier(Modifier::BOLD))
        } else {
            row
        });
    }

    let name_w = app
        .profiles
        .iter()
        .map(|p| wrap::width(&p.name) + 3)
        .max()
        .unwrap_or(8)
        .clamp(8, 19) as u16;
    let widths = compare_widths(name_w, narrow, &role_heads, inner_w, token_w, outcome_w);

    let notes = compare_notes(app, &required, any_graph, inner_w as usize);
    // As tall as the table and the notes need, centred.
    let table_h = rows.len() as u16 + 1;
    let h = (table_h + notes.len() as u16 + 2).min(area.height);
    let rect = centered(area, width, h);
    clear(f, rect);
    let block = popup_block(
        " Compare profiles ",
        " Enter switch · a call as all · r refresh all · Esc close ",
        th,
    );
    let inner = block.inner(rect);
    f.render_widget(block, rect);
    let [table_area, notes_area] = Layout::vertical([
        Constraint::Length(table_h.min(inner.height)),
        Constraint::Min(0),
    ])
    .areas(inner);
    let count = rows.len();
    f.render_widget(
        Table::new(rows, widths).header(header).column_spacing(1),
        table_area,
    );
    // Under the header line, one line per profile.
    record_popup(
        app,
        rect,
        Some(table_area),
        (0..count).map(|i| (i, i + 1, 1)),
    );
    f.render_widget(Paragraph::new(notes), notes_area);
}
