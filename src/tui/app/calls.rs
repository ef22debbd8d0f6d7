//! Calls to the protected API per profile: the call in flight, the last answer with its
//! diagnosis, and how answers are logged.
//!
//! A refusal is judged against the token the call was actually sent with (its generation
//! comes back with the answer), not whichever token the profile holds when the answer lands.
//! Starts calls only as [`Effect`]s; performs no I/O.

use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::{App, Level, profiles};
use crate::api::ApiResponse;
use crate::auth::CachedToken;
use crate::jwt::{Claims, TokenFormat};
use crate::problem::Problem as _;
use crate::text::sanitize;
use crate::tui::msg::{CallError, Effect, ProfileId};

/// A call in flight.
#[derive(Debug, Clone)]
pub struct InFlight {
    pub seq: u64,
    pub city: String,
    pub started: DateTime<Utc>,
}

/// The last finished call.
#[derive(Debug, Clone)]
pub struct Completed {
    pub city: String,
    pub at: DateTime<Utc>,
    /// The response, or why there is none.
    pub result: Result<Box<ApiResponse>, CallError>,
    /// Why the API refused, judged against the token the call was sent with. `None` for a
    /// success.
    pub advice: Option<crate::diagnose::refusal::Refusal>,
    /// The outcome in a few words ("200 Seattle 14 °C", "403 IDW10203") and how it reads.
    pub summary: String,
    pub level: Level,
}

/// The keys that refresh the token from where a refusal is read (keymap: F5 everywhere, `r`
/// outside the city box, where it would be typed), for the cached-token note.
const REFRESH_KEYS: &str = "F5, or r outside the city box";

/// The CLI's latency formatting too: one rule, kept in `time`.
pub use crate::time::latency;

impl App {
    /// Enter: call the API for the city in the box as the active profile.
    pub(super) fn submit(&mut self) {
        match self.city.take() {
            Ok(city) => self.call_as(self.active, city),
            Err(_) => self.focus = super::Focus::City,
        }
    }

    /// Call the API for `city` as profile `id` (replacing that profile's call in flight).
    pub(super) fn call_as(&mut self, id: ProfileId, city: String) {
        if let Some(old) = self.profiles[id.0].call.take() {
            let text = format!("cancelled the call for {}", old.city);
            self.plog(id, Level::Info, text);
        }
        self.seq += 1;
        let p = &mut self.profiles[id.0];
        p.started = true;
        p.call = Some(InFlight {
            seq: self.seq,
            city: city.clone(),
            started: self.now,
        });
        self.effects.push(Effect::CallApi {
            profile: id,
            seq: self.seq,
            city,
        });
    }

    /// The compare view's Enter: call the API as every profile that loads, with the city in
    /// the box (or the last one called when the box is empty).
    pub(super) fn call_all(&mut self) {
        if self.city.value().trim().is_empty()
            && let Some(last) = self.city.last().map(str::to_string)
        {
            self.city.set(last);
        }
        if self.city.value().trim().is_empty() {
            self.set_status(
                Level::Warn,
                "type a city in the box first (Esc, type, then F3 to come back)",
            );
            return;
        }
        let city = match self.city.take() {
            Ok(c) => c,
            Err(e) => {
                self.set_status(Level::Warn, e);
                return;
            }
        };
        let ready: Vec<ProfileId> = self.ids().filter(|id| self.loads(*id)).collect();
        self.glog(
            Level::Info,
            format!("calling the API for {city} as {} profiles", ready.len()),
        );
        for id in ready {
            self.call_as(id, city.clone());
        }
    }

    /// The city the compare view's Enter would call for: the box's, else the last called.
    pub fn compare_city(&self) -> Option<String> {
        let typed = self.city.value().trim();
        if typed.is_empty() {
            self.city.last().map(str::to_string)
        } else {
            Some(typed.to_string())
        }
    }

    /// A call's answer. `sent` is the token the call went out with (`None` when none could
    /// be had).
    pub(super) fn on_api_result(
        &mut self,
        id: ProfileId,
        seq: u64,
        sent: Option<Arc<CachedToken>>,
        result: Result<Box<ApiResponse>, CallError>,
    ) {
        let current = self
            .profiles
            .get(id.0)
            .and_then(|p| p.call.as_ref())
            .is_some_and(|c| c.seq == seq);
        if !current {
            // A cancelled call's late answer.
            self.dirty = false;
            return;
        }
        let Some(call) = self.profiles[id.0].call.take() else {
            return;
        };
        let p = &self.profiles[id.0];
        // The claims of the token that was sent: the decoded one when it is the same
        // generation, else decode what was sent.
        let decoded_sent;
        let claims: Option<&Claims> = match (&sent, &p.decoded) {
            (Some(t), Some(d)) if d.generation == t.generation => d.jwt().map(|j| &j.claims),
            (Some(t), _) => {
                decoded_sent = crate::jwt::inspect(t.access_token.expose());
                match &decoded_sent {
                    TokenFormat::Jwt(j) => Some(&j.claims),
                    TokenFormat::Opaque { .. } => None,
                }
            }
            (None, _) => None,
        };
        let advice = result.as_ref().ok().and_then(|r| {
            // With the set-up read, a 403 is explained by the broken link, not a guess.
            let facts = match &p.setup {
                super::SetupRead::Read { facts, .. } => Some(facts.as_ref()),
                _ => None,
            };
            // A token served from the persistent cache says so, with its age and the key.
            let token = crate::diagnose::refusal::TokenUse {
                cached_at: sent
                    .as_ref()
                    .filter(|t| t.source == crate::auth::TokenSource::Cache)
                    .map(|t| t.acquired_at),
                renew: crate::diagnose::refusal::Renew::Key(REFRESH_KEYS),
                now: self.now,
            };
            crate::diagnose::refusal::explain_with_setup(
                r,
                claims,
                &p.expected_roles,
                &p.scope,
                facts,
                token,
            )
        });
        let (level, summary) = match &result {
            Ok(r) => {
                let level = match r.status {
                    200..=299 => Level::Good,
                    401 | 403 => Level::Warn,
                    _ => Level::Error,
                };
                let mut text =
                    format!("GET {} → {} in {}", call.city, r.status, latency(r.latency));
                if let Some(a) = &advice {
                    text.push_str(&format!(": {}", a.summary));
                }
                self.plog(id, level, text);
                profiles::response_summary(&call.city, r)
            }
            Err(e) => {
                let first = e.summary();
                self.plog(
                    id,
                    Level::Error,
                    format!("GET {} failed: {first}", call.city),
                );
                let short = match e {
                    // The token column says why.
                    CallError::Token(_) => "✗ no token".to_string(),
                    CallError::Api(_) | CallError::Setup(_) => format!("✗ {first}"),
                };
                (Level::Error, sanitize(&short, false))
            }
        };
        if id == self.active {
            self.scroll.weather = 0;
        }
        self.profiles[id.0].last = Some(Completed {
            city: call.city,
            at: self.now,
            result,
            advice,
            level,
            summary,
        });
        // A 403 may name the role the API requires: the chain is drawn for it.
        self.refresh_setup_report(id);
    }
}

/// The last call as plain text for the clipboard: the request and its status, then the
/// diagnosis (reason, why, fix) and the API's `WWW-Authenticate`. Sanitised: what a server
/// sent cannot carry terminal escapes into a later paste.
pub fn diagnosis_text(last: &Completed) -> String {
    use crate::problem::Problem as _;
    let clean = |s: &str| crate::text::sanitize(s, false);
    let mut out = Vec::new();
    match &last.result {
        Ok(r) => out.push(format!(
            "GET {} → HTTP {} in {}",
            clean(r.url.as_str()),
            r.status,
            latency(r.latency)
        )),
        Err(e) => out.push(format!(
            "{}: no response: {}",
            clean(&last.city),
            clean(&e.summary())
        )),
    }
    match &last.advice {
        Some(a) => {
            out.push(format!("✗ {}", clean(&a.summary)));
            out.push(format!("why: {}", clean(&a.cause)));
            out.push(format!("fix: {}", clean(&a.fix)));
        }
        None => out.push(clean(&last.summary)),
    }
    if let Ok(r) = &last.result {
        for h in &r.www_authenticate {
            out.push(format!("WWW-Authenticate: {}", clean(h)));
        }
    }
    out.join("\n")
}
