//! The Token pane: state line, lifetime gauge, decoded claims (or raw JSON), errors.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Gauge, Paragraph};

use super::wrap::{kv, styled};
use crate::auth::{Phase, TokenSnapshot, TokenSource};
use crate::jwt::TokenFormat;
use crate::text::sanitize;
use crate::time::relative;
use crate::tui::app::App;

const LABEL_W: usize = 10;

/// The one-line state: "● fresh · next refresh in 49m 10s".
fn state_line(app: &App, snap: Option<&TokenSnapshot>) -> Line<'static> {
    let th = &app.theme;
    let Some(s) = snap else {
        return Line::from(Span::styled("● starting", th.warn()));
    };
    let text = sanitize(&s.status_line(app.now), false);
    let text = text.lines().next().unwrap_or_default().to_string();
    let expired = s.token.as_ref().is_some_and(|t| !t.valid(app.now));
    let style = match &s.phase {
        _ if expired => th.err(),
        Phase::Fresh if s.last_error.is_some() => th.warn(),
        Phase::Fresh => th.ok(),
        Phase::Idle | Phase::Acquiring | Phase::Refreshing | Phase::Retrying { .. } => th.warn(),
        Phase::Expired | Phase::Failed => th.err(),
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

/// Every line of the scrollable part of the pane.
pub fn body_lines(app: &App, width: usize) -> Vec<Line<'static>> {
    let th = &app.theme;
    let mut out: Vec<Line<'static>> = Vec::new();
    let snap = app.snapshot.as_ref();
    let kvl = |label: &str, value: &str| kv(label, value, LABEL_W, width, th.label(), Style::new());

    if let Some(err) = snap.and_then(|s| s.last_error.as_ref()) {
        let text = sanitize(&err.to_string(), true);
        for (i, line) in text.lines().enumerate() {
            let style = if line.starts_with("hint:") {
                th.warn()
            } else if i == 0 {
                th.err()
            } else {
                th.dim()
            };
            out.extend(styled(line, width, style));
        }
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
    if let Some(skew) = snap.and_then(|s| s.clock_skew) {
        out.extend(styled(
            &format!(
                "clock skew: the identity provider's clock is {} {} this machine's",
                crate::time::human_secs(skew.num_seconds()),
                if skew.num_seconds() > 0 {
                    "ahead of"
                } else {
                    "behind"
                }
            ),
            width,
            th.warn(),
        ));
    }

    let token = snap.and_then(|s| s.token.clone());
    let Some(token) = token else {
        if snap.is_none_or(|s| s.last_error.is_none()) {
            out.extend(styled(
                &format!("requesting a token from {} …", app.token_endpoint),
                width,
                th.dim(),
            ));
        }
        return out;
    };
    let Some(decoded) = &app.decoded else {
        return out;
    };
    let jwt = match &decoded.format {
        TokenFormat::Jwt(j) => j,
        TokenFormat::Opaque { reason } => {
            let r = sanitize(&reason.to_string(), false);
            out.extend(styled(
                &format!(
                    "the access token is not a JWT ({}); it still works as a bearer token but cannot be inspected",
                    r.lines().next().unwrap_or_default()
                ),
                width,
                th.warn(),
            ));
            return out;
        }
    };
    if app.raw {
        for (name, map) in [("header", &jwt.header), ("payload", &jwt.payload)] {
            out.push(Line::from(Span::styled(name.to_string(), th.label())));
            let pretty = serde_json::to_string_pretty(map).unwrap_or_default();
            out.extend(styled(&sanitize(&pretty, true), width, Style::new()));
        }
        out.push(Line::from(Span::styled(
            format!("signature: {} bytes (not verified)", jwt.signature_len),
            th.dim(),
        )));
        return out;
    }
    let c = &jwt.claims;
    // Roles first: they decide 403 or 200.
    let mut spans = vec![Span::styled(format!("{:<LABEL_W$} ", "roles"), th.label())];
    for r in &app.expected_roles {
        let (mark, style) = if c.has_role(r) {
            ("✓", th.ok())
        } else {
            ("✗", th.err())
        };
        spans.push(Span::styled(
            format!("{mark} {} ", sanitize(r, false)),
            style,
        ));
    }
    let extra: Vec<String> = c
        .roles
        .iter()
        .filter(|r| !app.expected_roles.iter().any(|e| e.eq_ignore_ascii_case(r)))
        .map(|r| sanitize(r, false))
        .collect();
    if !extra.is_empty() {
        let prefix = if app.expected_roles.is_empty() {
            ""
        } else {
            "· also "
        };
        spans.push(Span::raw(format!("{prefix}{}", extra.join(", "))));
    }
    if c.roles.is_empty() {
        spans.push(Span::styled(
            "(no roles claim: none granted, or admin consent missing)",
            th.warn(),
        ));
    }
    // Roles can be many: wrap the spans by hand only when they overflow.
    let roles_line = Line::from(spans);
    if roles_line.width() <= width {
        out.push(roles_line);
    } else {
        let plain: String = roles_line.spans[1..]
            .iter()
            .map(|s| s.content.as_ref())
            .collect();
        out.extend(kvl("roles", plain.trim_end()));
    }
    let s = |v: &Option<String>| v.as_deref().map(|v| sanitize(v, false));
    out.extend(kvl("aud", &sanitize(&c.aud.to_string(), false)));
    if let Some(iss) = s(&c.iss) {
        out.extend(kvl("iss", &iss));
    }
    let (client_claim, client, acr) = match (&c.azp, &c.appid) {
        (Some(azp), _) => ("azp", Some(azp.clone()), c.azpacr.clone()),
        (None, Some(appid)) => ("appid", Some(appid.clone()), c.appidacr.clone()),
        _ => ("azp", None, None),
    };
    if let Some(client) = client {
        let how = match acr.as_deref() {
            Some("1") => " (client secret)",
            Some("2") => " (certificate)",
            Some("0") => " (public client)",
            _ => "",
        };
        out.extend(kvl(
            client_claim,
            &format!("{}{how}", sanitize(&client, false)),
        ));
    }
    if let Some(tid) = s(&c.tid) {
        out.extend(kvl("tid", &tid));
    }
    let typ = format!(
        "{} · ver {}",
        s(&c.idtyp).unwrap_or_else(|| "(none)".into()),
        s(&c.ver).unwrap_or_else(|| "?".into())
    );
    out.extend(kvl("idtyp", &typ));
    let when = |ts: Option<i64>| {
        ts.and_then(|t| chrono::DateTime::from_timestamp(t, 0))
            .map(|t| format!("{} ({})", app.local(t), relative(t, app.now)))
    };
    if let Some(v) = when(c.iat) {
        out.extend(kvl("issued", &v));
    }
    if let Some(v) = when(c.nbf)
        && c.nbf != c.iat
    {
        out.extend(kvl("not before", &v));
    }
    if let Some(v) = when(c.exp) {
        out.extend(kvl("expires", &v));
    }
    let source = match token.source {
        TokenSource::Network => "token endpoint",
        TokenSource::Cache => "persistent cache",
    };
    out.extend(kvl(
        "from",
        &format!("{source}, acquired {}", app.clock(token.acquired_at)),
    ));
    out
}

pub fn render(app: &App, f: &mut Frame, area: Rect) -> u16 {
    let snap = app.snapshot.as_ref();
    let token = snap.and_then(|s| s.token.clone());
    let [state_area, gauge_area, body_area] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(if token.is_some() { 1 } else { 0 }),
        Constraint::Min(0),
    ])
    .areas(area);
    f.render_widget(Paragraph::new(state_line(app, snap)), state_area);
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
                .gauge_style(app.theme.gauge(ratio)),
            gauge_area,
        );
    }
    let lines = body_lines(app, body_area.width as usize);
    let max = (lines.len() as u16).saturating_sub(body_area.height);
    let scroll = app.scroll.token.min(max);
    f.render_widget(Paragraph::new(lines).scroll((scroll, 0)), body_area);
    max
}
