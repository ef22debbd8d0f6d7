//! The Weather pane: the last call's status and latency, then a weather card, a refusal
//! explained, or whatever the API sent.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::wrap::{kv, styled};
use crate::api::{ApiResponse, Body, Outcome, Weather};
use crate::text::sanitize;
use crate::tui::app::App;

const LABEL_W: usize = 12;

fn reason_phrase(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        204 => "No Content",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "",
    }
}

fn card(w: &Weather, resp: &ApiResponse, width: usize, label: Style) -> Vec<Line<'static>> {
    let units = resp.units();
    let t = units.temperature();
    let num = |v: f64| {
        if v.fract() == 0.0 {
            format!("{v:.0}")
        } else {
            format!("{v:.1}")
        }
    };
    let temp = |v: Option<f64>| v.map(|v| format!("{} {t}", num(v)));
    let mut rows: Vec<(&str, String)> = Vec::new();
    if let Some(v) = temp(w.temp) {
        rows.push(("temperature", v));
    }
    if let Some(v) = temp(w.feels_like) {
        rows.push(("feels like", v));
    }
    match (w.temp_min, w.temp_max) {
        (Some(lo), Some(hi)) => rows.push(("min / max", format!("{} / {} {t}", num(lo), num(hi)))),
        (Some(lo), None) => rows.push(("min", format!("{} {t}", num(lo)))),
        (None, Some(hi)) => rows.push(("max", format!("{} {t}", num(hi)))),
        (None, None) => {}
    }
    if let Some(v) = w.pressure {
        rows.push(("pressure", format!("{} hPa", num(v))));
    }
    if let Some(v) = w.humidity {
        rows.push(("humidity", format!("{} %", num(v))));
    }
    rows.push(("units", units.describe()));
    rows.into_iter()
        .flat_map(|(l, v)| {
            kv(
                l,
                &v,
                LABEL_W,
                width,
                label,
                Style::new().add_modifier(Modifier::BOLD),
            )
        })
        .collect()
}

/// The request's path and query, as sent.
fn path_of(resp: &ApiResponse) -> String {
    match resp.url.query() {
        Some(q) => format!("{}?{}", resp.url.path(), q),
        None => resp.url.path().to_string(),
    }
}

/// "403 Forbidden · 42 ms · 12:00:00".
fn status_line(app: &App, resp: &ApiResponse, at: chrono::DateTime<chrono::Utc>) -> Line<'static> {
    let th = &app.theme;
    let style = match resp.outcome() {
        Outcome::Success => th.ok(),
        Outcome::Unauthorized | Outcome::Forbidden | Outcome::HttpError => th.err(),
    }
    .add_modifier(Modifier::BOLD);
    Line::from(vec![
        Span::styled(
            format!("{} {}", resp.status, reason_phrase(resp.status))
                .trim_end()
                .to_string(),
            style,
        ),
        Span::styled(
            format!(
                " · {} · {}",
                crate::tui::app::latency(resp.latency),
                app.clock(at)
            ),
            th.dim(),
        ),
    ])
}

/// Every line of the pane.
pub fn lines(app: &App, width: usize) -> Vec<Line<'static>> {
    let th = &app.theme;
    let mut out = Vec::new();
    if let Some(call) = &app.cur().call {
        let secs = (app.now - call.started).num_seconds().max(0);
        out.push(Line::from(Span::styled(
            format!(
                "⟳ calling the API for {} … {secs}s (Enter again cancels and restarts)",
                call.city
            ),
            th.warn(),
        )));
    }
    let Some(last) = &app.cur().last else {
        if app.cur().call.is_none() {
            out.extend(styled(
                &format!(
                    "Type a city in the box above and press Enter to call {}",
                    app.cur().api_url
                ),
                width,
                th.dim(),
            ));
        }
        return out;
    };
    let resp = match &last.result {
        Ok(r) => r,
        Err(e) => {
            out.push(Line::from(Span::styled(
                format!("{} · no response · {}", last.city, app.clock(last.at)),
                th.err(),
            )));
            let text = crate::text::sanitize(&crate::problem::Problem::full_text(e), true);
            for line in text.lines() {
                let style = if line.starts_with("hint:") {
                    th.warn()
                } else {
                    th.err()
                };
                out.extend(styled(line, width, style));
            }
            return out;
        }
    };
    let outcome = resp.outcome();
    out.push(status_line(app, resp, last.at));
    let request = styled(
        &format!("GET {}", sanitize(&path_of(resp), false)),
        width,
        th.dim(),
    );
    // A refusal explained, the most important first: the one-line reason and the fix right
    // under the status, then why, then the request and what the API sent.
    if let Some(advice) = &last.advice {
        out.extend(styled(
            &format!("✗ {}", advice.summary),
            width,
            th.err().add_modifier(Modifier::BOLD),
        ));
        out.extend(kv("fix", &advice.fix, 4, width, th.label(), th.warn()));
        out.extend(kv("why", &advice.cause, 4, width, th.label(), Style::new()));
        out.push(Line::default());
        out.extend(request);
    } else {
        out.extend(request);
        out.push(Line::default());
    }
    if !resp.www_authenticate.is_empty() {
        out.push(Line::from(Span::styled("WWW-Authenticate", th.label())));
        for h in &resp.www_authenticate {
            out.extend(styled(&sanitize(h, false), width, th.err()));
        }
        out.push(Line::default());
    }
    match &resp.body {
        Body::Weather(w) if outcome == Outcome::Success => {
            out.push(Line::from(Span::styled(
                last.city.clone(),
                Style::new().add_modifier(Modifier::BOLD),
            )));
            out.extend(card(w, resp, width, th.label()));
        }
        Body::Empty => out.push(Line::from(Span::styled("(empty body)", th.dim()))),
        _ => {
            if outcome != Outcome::Success {
                out.push(Line::from(Span::styled("body", th.label())));
            }
            out.extend(styled(
                &sanitize(&resp.body_text(), true),
                width,
                Style::new(),
            ));
        }
    }
    if resp.truncated {
        out.push(Line::from(Span::styled(
            format!("(body cut at {} bytes)", resp.body_len),
            th.warn(),
        )));
    }
    if let Some(at) = &resp.authorization_dropped_at {
        out.extend(styled(
            &format!(
                "redirected to another origin ({}); the token was not sent there",
                sanitize(at.as_str(), false)
            ),
            width,
            th.warn(),
        ));
    }
    out
}

pub fn render(app: &App, f: &mut Frame, area: Rect) -> super::Scrolled {
    let lines = lines(app, area.width as usize);
    let s = super::Scrolled::of(lines.len(), area.height, app.scroll.weather);
    f.render_widget(Paragraph::new(lines).scroll((s.offset, 0)), area);
    s
}
