//! Human and JSON renderings shared by the headless commands.
//!
//! Renders what the core found (claims, role checks, responses); judges nothing itself.

use serde_json::{Map, Value, json};

use crate::api::{ApiResponse, Body, Units, Weather};
use crate::diagnose::roles;
use crate::jwt::DecodedJwt;
use crate::text::sanitize;
use crate::time;

/// Claims that hold Unix times, annotated with local time and "in …/… ago".
const TIME_CLAIMS: [&str; 3] = ["iat", "nbf", "exp"];

/// Lines describing a decoded token: header summary, then every claim in order.
pub fn jwt_lines(jwt: &DecodedJwt, expected_roles: &[String]) -> Vec<String> {
    let now = time::now();
    let mut out = Vec::new();
    let header: Vec<String> = jwt
        .header
        .iter()
        .map(|(k, v)| format!("{k}={}", sanitize(&compact(v), false)))
        .collect();
    out.push(format!("header   {}", header.join("  ")));
    let width = jwt
        .payload
        .keys()
        .map(|k| k.chars().count())
        .max()
        .unwrap_or(3)
        .max(5);
    for (k, v) in &jwt.payload {
        let mut line = format!(
            "  {:<width$}  {}",
            sanitize(k, false),
            sanitize(&compact(v), false)
        );
        if TIME_CLAIMS.contains(&k.as_str())
            && let Some(ts) = v.as_i64()
            && let Some(t) = chrono::DateTime::from_timestamp(ts, 0)
        {
            line.push_str(&format!(
                "  ({}, {})",
                time::local(ts),
                time::relative(t, now)
            ));
        }
        out.push(line);
    }
    let roles = roles::check(Some(&jwt.claims), expected_roles);
    if !roles.expected.is_empty() {
        let marks: Vec<String> = roles
            .expected
            .iter()
            .map(|m| {
                let mark = if m.granted { "✓" } else { "✗ missing" };
                format!("{} {mark}", sanitize(&m.role, false))
            })
            .collect();
        out.push(format!("expected roles: {}", marks.join(", ")));
    }
    out
}

fn compact(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Array(items) if items.iter().all(Value::is_string) => items
            .iter()
            .filter_map(Value::as_str)
            .collect::<Vec<_>>()
            .join(", "),
        other => other.to_string(),
    }
}

/// `{"Weather.Read": true, …}`.
pub fn expected_roles_json(jwt: Option<&DecodedJwt>, expected: &[String]) -> Value {
    let roles = roles::check(jwt.map(|j| &j.claims), expected);
    let m: Map<String, Value> = roles
        .expected
        .into_iter()
        .map(|m| (m.role, Value::Bool(m.granted)))
        .collect();
    Value::Object(m)
}

/// One line for a weather card: "8.5°C, feels like 6.1°C, …, humidity 81%".
pub fn weather_line(w: &Weather, units: &Units) -> String {
    // A degree sign hugs the number ("8.5°C"); a unit letter does not ("281.6 K").
    let deg = match units.temperature() {
        symbol if symbol.starts_with('°') => symbol.to_string(),
        symbol => format!(" {symbol}"),
    };
    let t = |v: Option<f64>| v.map(|x| format!("{x:.1}{deg}"));
    let mut parts = Vec::new();
    if let Some(x) = t(w.temp) {
        parts.push(x);
    }
    if let Some(x) = t(w.feels_like) {
        parts.push(format!("feels like {x}"));
    }
    if let Some(x) = t(w.temp_min) {
        parts.push(format!("min {x}"));
    }
    if let Some(x) = t(w.temp_max) {
        parts.push(format!("max {x}"));
    }
    if let Some(p) = w.pressure {
        parts.push(format!("pressure {p:.0} hPa"));
    }
    if let Some(h) = w.humidity {
        parts.push(format!("humidity {h:.0}%"));
    }
    parts.join(", ")
}

/// The JSON form of an API response (documented in README).
pub fn api_json(resp: &ApiResponse) -> Value {
    let body = match &resp.body {
        Body::Empty => json!({"kind": "empty"}),
        Body::Weather(w) => json!({"kind": "weather", "value": w}),
        Body::Json(v) => json!({"kind": "json", "value": v}),
        Body::Text(t) => json!({"kind": "text", "value": t}),
    };
    let challenges: Vec<Value> = resp
        .challenges
        .iter()
        .map(|c| {
            let params: Map<String, Value> = c
                .params
                .iter()
                .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                .collect();
            json!({"scheme": c.scheme, "params": params})
        })
        .collect();
    json!({
        "url": resp.url.as_str(),
        "status": resp.status,
        "outcome": resp.outcome(),
        "latency_ms": (resp.latency.as_secs_f64() * 1000.0 * 10.0).round() / 10.0,
        "content_type": resp.content_type,
        "truncated": resp.truncated,
        "body": body,
        "www_authenticate": challenges,
        "authorization_dropped_at": resp.authorization_dropped_at.as_ref().map(|u| u.as_str()),
    })
}
