//! The Token pane: state line, lifetime gauge, token errors as advice, decoded claims with
//! their verification (or raw JSON), and the selected claim explained.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Gauge, Paragraph};

use std::ops::Range;

use super::wrap::{self, kv, styled};
use crate::auth::{Phase, TokenError, TokenSnapshot, TokenSource};
use crate::diagnose::{Severity, aadsts, claim_doc, roles};
use crate::jwt::TokenFormat;
use crate::problem::Problem;
use crate::text::sanitize;
use crate::time::relative;
use crate::tui::Theme;
use crate::tui::app::{App, Focus, Overlay, Verification};

const LABEL_W: usize = 10;

/// The state: "● fresh · next refresh in 49m 10s", on one line when it fits, wrapped (never
/// cut) when it does not — a failure's reason can be long.
fn state_lines(app: &App, snap: Option<&TokenSnapshot>, width: usize) -> Vec<Line<'static>> {
    let line = state_line(app, snap);
    if line.width() <= width {
        return vec![line];
    }
    let mut out = Vec::new();
    for span in line.spans {
        let text = span.content.trim_start_matches(" · ").to_string();
        out.extend(styled(&text, width, span.style));
    }
    out
}

fn state_line(app: &App, snap: Option<&TokenSnapshot>) -> Line<'static> {
    let th = &app.theme;
    let Some(s) = snap else {
        return Line::from(Span::styled("● starting", th.warn()));
    };
    // The whole error is drawn right below: the state names it by its code.
    let text = sanitize(&s.status_line_brief(app.now), false);
    let text = text.lines().next().unwrap_or_default().to_string();
    let expired = s.token.as_ref().is_some_and(|t| !t.valid(app.now));
    let style = match &s.phase {
        _ if expired => th.err(),
        Phase::Fresh if s.last_error.is_some() => th.warn(),
        Phase::Fresh => th.ok(),
        Phase::Idle | Phase::Acquiring | Phase::Refreshing | Phase::Retrying { .. } => th.warn(),
        Phase::Expired | Phase::Failed => th.err(),
        Phase::Stopped if s.token.is_some() => th.warn(),
        Phase::Stopped => th.err(),
    };
    let mut spans = vec![Span::styled(
        format!("● {text}"),
        style.add_modifier(Modifier::BOLD),
    )];
    if !matches!(s.phase, Phase::Retrying { .. })
        && s.token.is_some()
        && let Some(at) = s.next_refresh
    {
        spans.push(Span::styled(
            format!(" · next refresh {}", relative(at, app.now)),
            th.dim(),
        ));
    }
    Line::from(spans)
}

/// The scrollable part of the pane: its lines, and which lines each claim row occupies
/// (indexed like [`App::claim_names`]).
pub struct PaneLines {
    pub lines: Vec<Line<'static>>,
    pub rows: Vec<Range<usize>>,
}

/// A token request failure as advice: the AADSTS code and Entra's first sentence (or what
/// went wrong on the network), why, and what to do.
fn token_error(err: &TokenError, width: usize, th: &Theme) -> Vec<Line<'static>> {
    let mut out = Vec::new();
    let advice = aadsts::advise(err);
    out.extend(styled(
        &format!("✗ {}", sanitize(&advice.summary, false)),
        width,
        th.err(),
    ));
    if !matches!(err, TokenError::Rejected { .. }) {
        // The advice generalises; the error says which URL and what the OS said.
        let first = sanitize(&err.summary(), false);
        if first != advice.summary {
            out.extend(styled(&first, width, th.dim()));
        }
    }
    for (label, text, style) in [
        ("why", &advice.cause, Style::new()),
        ("fix", &advice.fix, th.warn()),
    ] {
        if !text.trim().is_empty() {
            out.extend(kv(
                label,
                &sanitize(text, false),
                4,
                width,
                th.label(),
                style,
            ));
        }
    }
    out
}

/// `label` then `spans` flowed over as many lines as `width` needs, continuation lines
/// indented under the first span.
fn flow(label: Span<'static>, spans: Vec<Span<'static>>, width: usize) -> Vec<Line<'static>> {
    let mut out = Vec::new();
    let mut line = vec![label];
    let mut used = wrap::width(&line[0].content);
    let indent = used;
    for span in spans {
        let w = wrap::width(&span.content);
        if used + w > width && line.len() > 1 {
            out.push(Line::from(std::mem::take(&mut line)));
            line.push(Span::raw(" ".repeat(indent)));
            used = indent;
        }
        used += w;
        line.push(span);
    }
    out.push(Line::from(line));
    out
}

/// The verification summary ("verified ✓ discovery ✓ signature …") and a line for every
/// check that did not pass.
fn verification(app: &App, v: &Verification, width: usize) -> Vec<Line<'static>> {
    let th = &app.theme;
    let checks = match v {
        Verification::Pending => {
            return kv(
                "verify",
                "checking discovery, signature, issuer, audience, tenant, lifetime …",
                LABEL_W,
                width,
                th.label(),
                th.dim(),
            );
        }
        Verification::Done(checks) => checks,
    };
    let style = |s: Severity| match s {
        Severity::Ok | Severity::Info => th.ok(),
        Severity::Warning => th.warn(),
        Severity::Error => th.err(),
    };
    let worst = v.worst().unwrap_or(Severity::Ok);
    let label = if worst <= Severity::Info {
        Span::styled(format!("{:<LABEL_W$} ", "verified"), th.label())
    } else {
        Span::styled(format!("{:<LABEL_W$} ", "verify"), style(worst))
    };
    // A passing discovery is implied by the checks after it; it only needs room when it fails.
    let spans = checks
        .iter()
        .filter(|c| !(c.name == "discovery" && c.severity <= Severity::Info))
        .map(|c| {
            Span::styled(
                format!("{} {} ", c.severity.mark(), c.name),
                style(c.severity),
            )
        })
        .collect();
    let mut out = flow(label, spans, width);
    for c in checks.iter().filter(|c| c.severity >= Severity::Warning) {
        out.extend(kv(
            "",
            &format!(
                "{} {}: {}",
                c.severity.mark(),
                c.name,
                sanitize(&c.detail, false)
            ),
            LABEL_W,
            width,
            th.label(),
            style(c.severity),
        ));
    }
    out
}

/// Every line of the scrollable part of the pane.
pub fn body(app: &App, width: usize) -> PaneLines {
    let mut pane = claim_lines(app, width);
    if selecting(app)
        && let Some(name) = app.selected_claim()
        && let Some(row) = pane.rows.get(app.claims.selected).cloned()
    {
        let doc = claim_doc_lines(&name, width, &app.theme);
        let n = doc.len();
        pane.lines.splice(row.end..row.end, doc);
        pane.rows[app.claims.selected] = row.start..row.end + n;
        for r in pane.rows.iter_mut().skip(app.claims.selected + 1) {
            *r = r.start + n..r.end + n;
        }
    }
    pane
}

/// Above the claims: the last token request's failure as advice, the manager's warnings,
/// clock skew.
fn notices(app: &App, snap: Option<&TokenSnapshot>, width: usize) -> Vec<Line<'static>> {
    let th = &app.theme;
    let mut out: Vec<Line<'static>> = Vec::new();
    if let Some(err) = snap.and_then(|s| s.last_error.as_ref()) {
        out.extend(token_error(err, width, th));
        if snap.is_some_and(|s| s.token.is_some()) {
            out.push(Line::from(Span::styled(
                "the current token is still served until it expires",
                th.dim(),
            )));
        }
        out.push(Line::default());
    }
    for w in snap.map(|s| s.warnings.as_slice()).unwrap_or_default() {
        out.extend(styled(
            &format!("warning: {}", sanitize(w, false)),
            width,
            th.warn(),
        ));
    }
    if let Some(skew) = snap
        .and_then(|s| s.token.as_deref())
        .and_then(crate::diagnose::skew::of_token)
    {
        out.extend(styled(
            &format!("clock skew: {}", skew.summary),
            width,
            th.warn(),
        ));
    }

    out
}

/// The raw view: header and payload JSON, pretty-printed and sanitised.
fn raw_json(jwt: &crate::jwt::DecodedJwt, width: usize, th: &Theme) -> Vec<Line<'static>> {
    let mut out: Vec<Line<'static>> = Vec::new();
    for (name, map) in [("header", &jwt.header), ("payload", &jwt.payload)] {
        out.push(Line::from(Span::styled(name.to_string(), th.label())));
        let pretty = serde_json::to_string_pretty(map).unwrap_or_default();
        out.extend(styled(&sanitize(&pretty, true), width, Style::new()));
    }
    out.push(Line::from(Span::styled(
        format!("signature: {} bytes (not verified here)", jwt.signature_len),
        th.dim(),
    )));
    out
}

/// A claim row that is one label and one value: its label and the value as shown
/// (sanitised), with what the pane knows beside the raw claim.
fn plain_row(app: &App, jwt: &crate::jwt::DecodedJwt, name: &str) -> (String, String) {
    let c = &jwt.claims;
    let s = |v: &Option<String>| v.as_deref().map(|v| sanitize(v, false)).unwrap_or_default();
    let when = |ts: Option<i64>| {
        ts.and_then(|t| chrono::DateTime::from_timestamp(t, 0))
            .map(|t| format!("{} ({})", app.local(t), relative(t, app.now)))
            .unwrap_or_default()
    };
    let value = match name {
        "kid" => {
            let header = |k: &str| jwt.header.get(k).and_then(|v| v.as_str());
            let mut value = sanitize(header("kid").unwrap_or_default(), false);
            if let Some(alg) = header("alg") {
                value.push_str(&format!(" · alg {}", sanitize(alg, false)));
            }
            value
        }
        "iss" => s(&c.iss),
        "azp" | "appid" => {
            let (client, acr) = if name == "azp" {
                (&c.azp, &c.azpacr)
            } else {
                (&c.appid, &c.appidacr)
            };
            // 2 is a certificate *or* a federated credential: the profile knows which.
            let how = match (acr.as_deref(), app.cur().credential.kind) {
                (Some("1"), _) => " (client secret)",
                (Some("2"), "certificate") => " (certificate)",
                (Some("2"), "federated token") => " (federated credential)",
                (Some("2"), _) => " (certificate or federated credential)",
                (Some("0"), _) => " (public client)",
                _ => "",
            };
            format!("{}{how}", s(client))
        }
        "tid" => s(&c.tid),
        "idtyp" => format!(
            "{} · ver {}",
            c.idtyp
                .as_deref()
                .map(|v| sanitize(v, false))
                .unwrap_or_else(|| "(none)".into()),
            c.ver
                .as_deref()
                .map(|v| sanitize(v, false))
                .unwrap_or_else(|| "?".into())
        ),
        "iat" => return ("issued".into(), when(c.iat)),
        "nbf" => return ("not before".into(), when(c.nbf)),
        other => {
            let value = match jwt.payload.get(other) {
                Some(serde_json::Value::String(v)) => v.clone(),
                Some(v) => v.to_string(),
                None => String::new(),
            };
            sanitize(&value, false)
        }
    };
    (sanitize(name, false), value)
}

/// The body without the selected claim's explanation.
fn claim_lines(app: &App, width: usize) -> PaneLines {
    let th = &app.theme;
    let mut out: Vec<Line<'static>> = Vec::new();
    let mut rows: Vec<Range<usize>> = Vec::new();
    let snap = app.cur().snapshot.as_ref();
    let kvl = |label: &str, value: &str| kv(label, value, LABEL_W, width, th.label(), Style::new());
    let done = |lines, rows| PaneLines { lines, rows };

    out.extend(notices(app, snap, width));
    let token = snap.and_then(|s| s.token.clone());
    let Some(token) = token else {
        if snap.is_none_or(|s| s.last_error.is_none()) {
            out.extend(styled(
                &format!("requesting a token from {} …", app.cur().token_endpoint),
                width,
                th.dim(),
            ));
        }
        return done(out, rows);
    };
    let Some(decoded) = &app.cur().decoded else {
        return done(out, rows);
    };
    let jwt = match &decoded.format {
        TokenFormat::Jwt(j) => j,
        TokenFormat::Opaque { reason } => {
            let r = sanitize(&reason.summary(), false);
            out.extend(styled(
                &format!(
                    "the access token is not a JWT ({r}); it still works as a bearer token but cannot be inspected"
                ),
                width,
                th.warn(),
            ));
            return done(out, rows);
        }
    };
    if app.raw {
        out.extend(raw_json(jwt, width, th));
        return done(out, rows);
    }
    let c = &jwt.claims;
    let when = |ts: Option<i64>| {
        ts.and_then(|t| chrono::DateTime::from_timestamp(t, 0))
            .map(|t| format!("{} ({})", app.local(t), relative(t, app.now)))
    };
    for name in app.claim_names() {
        let first = out.len();
        match name.as_str() {
            // Roles first: they decide 403 or 200.
            "roles" => {
                out.extend(roles(app, c, width));
                // Verification right under the roles: the two things that decide access.
                if let Some(v) = &decoded.verification {
                    rows.push(first..out.len());
                    out.extend(verification(app, v, width));
                    continue;
                }
            }
            "aud" => {
                out.extend(kvl("aud", &sanitize(&c.aud.to_string(), false)));
                // Beside it, the scope it answers: the App ID URI (or GUID) asked for.
                if !app.cur().scope.is_empty() {
                    out.extend(kv(
                        "  scope",
                        &sanitize(&app.cur().scope, false),
                        LABEL_W,
                        width,
                        th.dim(),
                        th.dim(),
                    ));
                }
            }
            "exp" => {
                out.extend(kvl("expires", &when(c.exp).unwrap_or_default()));
                rows.push(first..out.len());
                let source = match token.source {
                    TokenSource::Network => "token endpoint",
                    TokenSource::Cache => "persistent cache",
                };
                out.extend(kvl(
                    "from",
                    &format!("{source}, acquired {}", app.clock(token.acquired_at)),
                ));
                continue;
            }
            other => {
                let (label, value) = plain_row(app, jwt, other);
                out.extend(kvl(&label, &value));
            }
        }
        rows.push(first..out.len());
    }
    done(out, rows)
}

/// The roles row: each expected role ticked or crossed, then any other role the token
/// carries.
fn roles(app: &App, c: &crate::jwt::Claims, width: usize) -> Vec<Line<'static>> {
    let th = &app.theme;
    // The role the API named in its last 403 counts as required too, even when the profile's
    // expected_roles does not list it.
    let named = app
        .cur()
        .last
        .as_ref()
        .and_then(|l| l.advice.as_ref())
        .and_then(|a| a.required_role.clone());
    let mut required = app.cur().expected_roles.clone();
    let extra_named = named
        .as_ref()
        .filter(|r| !required.iter().any(|e| e.eq_ignore_ascii_case(r)));
    required.extend(extra_named.cloned());
    let check = roles::check(Some(c), &required);
    let mut spans = vec![Span::styled(format!("{:<LABEL_W$} ", "roles"), th.label())];
    for m in &check.expected {
        let (mark, style) = if m.granted {
            ("✓", th.ok())
        } else {
            ("✗", th.err())
        };
        spans.push(Span::styled(
            format!("{mark} {} ", sanitize(&m.role, false)),
            style,
        ));
        if !m.granted
            && named
                .as_ref()
                .is_some_and(|r| r.eq_ignore_ascii_case(&m.role))
        {
            spans.push(Span::styled("(the API's 403 asked for it) ", th.err()));
        }
    }
    if !check.extra.is_empty() {
        let prefix = if check.expected.is_empty() {
            ""
        } else {
            "· also "
        };
        let extra: Vec<String> = check.extra.iter().map(|r| sanitize(r, false)).collect();
        spans.push(Span::raw(format!("{prefix}{}", extra.join(", "))));
    }
    if check.no_roles_claim {
        spans.push(Span::styled(
            "(no roles claim: none granted, or admin consent missing)",
            th.warn(),
        ));
    }
    // Roles can be many: wrap the spans by hand only when they overflow.
    let roles_line = Line::from(spans);
    if roles_line.width() <= width {
        vec![roles_line]
    } else {
        let plain: String = roles_line.spans[1..]
            .iter()
            .map(|s| s.content.as_ref())
            .collect();
        kv(
            "roles",
            plain.trim_end(),
            LABEL_W,
            width,
            th.label(),
            Style::new(),
        )
    }
}

/// The claims view has focus: ↑/↓ select a claim, explained under its row.
fn selecting(app: &App) -> bool {
    app.focus == Focus::Token && app.overlay == Overlay::None && !app.raw && app.jwt().is_some()
}

/// What the selected claim means, in full (the body scrolls, so it is never cut), indented
/// under its row.
fn claim_doc_lines(name: &str, width: usize, th: &Theme) -> Vec<Line<'static>> {
    let text = match claim_doc(name) {
        Some(d) => d.to_string(),
        None => "not a claim tokenscope knows; see the API's documentation".to_string(),
    };
    let style = th.label().add_modifier(Modifier::ITALIC);
    kv("", &sanitize(&text, false), LABEL_W, width, style, style)
}

pub fn render(app: &App, f: &mut Frame, area: Rect) -> super::Scrolled {
    let th = &app.theme;
    let snap = app.cur().snapshot.as_ref();
    let token = snap.and_then(|s| s.token.clone());
    let selecting = selecting(app);
    // At most a third of the pane for the state, so the claims keep room.
    let mut state = state_lines(app, snap, area.width as usize);
    state.truncate(usize::from((area.height / 3).max(1)));
    let [state_area, gauge_area, body_area] = Layout::vertical([
        Constraint::Length(state.len() as u16),
        Constraint::Length(if token.is_some() { 1 } else { 0 }),
        Constraint::Min(0),
    ])
    .areas(area);
    f.render_widget(Paragraph::new(state), state_area);
    if let Some(t) = &token {
        let total = t.lifetime().num_seconds().max(1) as f64;
        let left = (t.expires_on - app.now).num_seconds().max(0) as f64;
        let ratio = (left / total).clamp(0.0, 1.0);
        let label = if left > 0.0 {
            format!(
                "expires {} · {}",
                relative(t.expires_on, app.now),
                app.clock(t.expires_on)
            )
        } else {
            format!("expired {}", relative(t.expires_on, app.now))
        };
        f.render_widget(
            Gauge::default()
                .ratio(ratio)
                .label(label)
                .use_unicode(true)
                .gauge_style(th.gauge(ratio)),
            gauge_area,
        );
    }
    let PaneLines { mut lines, rows } = body(app, body_area.width as usize);
    let h = body_area.height;
    let max = (lines.len() as u16).saturating_sub(h);
    let scroll = if app.raw {
        app.scroll.token.min(max)
    } else {
        // The claims view scrolls with the selection: from where the last frame was, move
        // just enough to show the selected row.
        let mut offset = app.claims.offset.get().min(max);
        if selecting
            && let Some(row) = rows.get(app.claims.selected.min(rows.len().saturating_sub(1)))
        {
            let (start, end) = (row.start as u16, row.end as u16);
            if start < offset {
                offset = start;
            } else if end > offset + h && app.claims.selected > 0 {
                // The first claim does not pull the view down: what is above it (a token
                // error, warnings) stays readable, and ↑ on it scrolls up further.
                offset = end.saturating_sub(h).min(start);
            }
            if let Some(label) = lines.get_mut(row.start).and_then(|l| l.spans.first_mut()) {
                label.style = label.style.patch(th.selected());
            }
        }
        let offset = offset.min(max);
        app.claims.offset.set(offset);
        offset
    };
    f.render_widget(Paragraph::new(lines).scroll((scroll, 0)), body_area);
    super::Scrolled {
        offset: scroll,
        max,
    }
}
