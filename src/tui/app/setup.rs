//! The Setup view's state per profile: the app-role set-up read from Microsoft Graph (or
//! exported files) and where the reading stands.
//!
//! Reading is asked for as an [`Effect`]; the facts come back as `Msg::Setup`. What the
//! view draws from them (the chain) is worked out here when an input changes — the facts,
//! the token, the API's last answer — never in `view`.

use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::{App, Level, Overlay};
use crate::config::GraphSource;
use crate::diagnose::setup::{Required, SetupInput, analyse};
use crate::graph::{GraphError, SetupFacts};
use crate::problem::Problem as _;
use crate::tui::msg::{Effect, ProfileId};

/// A wait for a role to reach a profile's tokens (a grant propagating).
#[derive(Debug, Clone)]
pub struct RoleWait {
    pub role: String,
    pub since: DateTime<Utc>,
    /// The last attempt, in words.
    pub progress: Option<String>,
}

/// Where a profile's set-up reading stands.
#[derive(Debug, Clone, Default)]
pub enum SetupRead {
    /// `graph_credential` is "none" and there are no `setup_files`.
    #[default]
    NotConfigured,
    /// Configured; not read yet.
    Unread,
    /// A read is under way (`since` for the view's "reading…").
    Reading { since: DateTime<Utc> },
    Read {
        facts: Arc<SetupFacts>,
        at: DateTime<Utc>,
    },
    Failed {
        error: Arc<GraphError>,
        at: DateTime<Utc>,
    },
}

impl SetupRead {
    /// The starting state for a profile with this Graph source.
    pub fn for_source(source: &GraphSource) -> SetupRead {
        match source {
            GraphSource::None => SetupRead::NotConfigured,
            _ => SetupRead::Unread,
        }
    }
}

impl App {
    /// F4 / `s`: the Setup view for the active profile, reading the set-up if not read yet.
    pub(super) fn open_setup(&mut self) {
        self.overlay = Overlay::Setup;
        self.setup_scroll = 0;
        let id = self.active;
        if matches!(self.profiles[id.0].setup, SetupRead::Unread) {
            self.read_setup(id, false);
        }
    }

    /// Ask for profile `id`'s set-up (again).
    pub(super) fn read_setup(&mut self, id: ProfileId, fresh: bool) {
        let p = &mut self.profiles[id.0];
        if matches!(p.setup, SetupRead::NotConfigured) {
            self.set_status(
                Level::Info,
                "no app-role set-up source: set graph_credential (profile, azure-cli or a reader profile) or setup_files in the profile",
            );
            return;
        }
        if matches!(p.setup, SetupRead::Reading { .. }) {
            return;
        }
        p.setup = SetupRead::Reading { since: self.now };
        let text = if fresh {
            "reading the app-role set-up from Microsoft Graph (new Graph token)"
        } else {
            "reading the app-role set-up from Microsoft Graph"
        };
        self.plog(id, Level::Info, text);
        self.effects.push(Effect::ReadSetup { profile: id, fresh });
    }

    pub(super) fn on_setup(&mut self, id: ProfileId, result: Result<Box<SetupFacts>, GraphError>) {
        let Some(p) = self.profiles.get_mut(id.0) else {
            self.dirty = false;
            return;
        };
        match result {
            Ok(facts) => {
                let notes = facts.notes.len();
                p.setup = SetupRead::Read {
                    facts: Arc::new(*facts),
                    at: self.now,
                };
                let mut text = "read the app-role set-up".to_string();
                if notes > 0 {
                    text.push_str(&format!(" ({notes} notes in the Setup view)"));
                }
                self.plog(id, Level::Good, text);
            }
            Err(e) => {
                let text = format!("reading the app-role set-up failed: {}", e.summary());
                p.setup = SetupRead::Failed {
                    error: Arc::new(e),
                    at: self.now,
                };
                self.plog(id, Level::Error, text);
            }
        }
        self.refresh_setup_report(id);
    }

    /// `w` in the Setup view: wait for the role of the first broken chain (or the role the
    /// API requires) to reach the tokens; `w` or Esc again stops it.
    pub(super) fn toggle_wait(&mut self) {
        let id = self.active;
        if self.profiles[id.0].wait.is_some() {
            self.stop_wait(id, "stopped waiting");
            return;
        }
        let report = self.profiles[id.0].setup_report.as_ref();
        let role = report
            .and_then(|r| r.chains.iter().find(|c| c.first_broken().is_some()))
            .or_else(|| report.and_then(|r| r.chains.first()))
            .map(|c| c.role.clone())
            .or_else(|| self.profiles[id.0].expected_roles.first().cloned());
        let Some(role) = role else {
            self.set_status(
                Level::Warn,
                "no role to wait for: the API named none in a 403 and the profile expects none",
            );
            return;
        };
        self.profiles[id.0].wait = Some(RoleWait {
            role: role.clone(),
            since: self.now,
            progress: None,
        });
        self.plog(
            id,
            Level::Info,
            format!("waiting for {role} to reach new tokens (w or Esc stops)"),
        );
        self.effects.push(Effect::WaitForRole { profile: id, role });
    }

    pub(super) fn stop_wait(&mut self, id: ProfileId, why: &str) {
        if self.profiles[id.0].wait.take().is_some() {
            self.plog(id, Level::Info, why.to_string());
            self.effects.push(Effect::CancelWait { profile: id });
        }
    }

    pub(super) fn on_waiting(&mut self, id: ProfileId, progress: String) {
        match self.profiles.get_mut(id.0).and_then(|p| p.wait.as_mut()) {
            Some(w) => w.progress = Some(crate::text::sanitize(&progress, false)),
            None => self.dirty = false,
        }
    }

    /// The wait ended: on success call the API again for the last city, as scenario 7 does.
    pub(super) fn on_wait_done(&mut self, id: ProfileId, role: String, result: Result<(), String>) {
        if self
            .profiles
            .get_mut(id.0)
            .and_then(|p| p.wait.take())
            .is_none()
        {
            self.dirty = false;
            return;
        }
        match result {
            Ok(()) => {
                let city = self.profiles[id.0].last.as_ref().map(|l| l.city.clone());
                let text = match &city {
                    Some(c) => format!("{role} is in the new token; calling the API for {c} again"),
                    None => format!("{role} is in the new token"),
                };
                self.plog(id, Level::Good, text.clone());
                if id == self.active {
                    self.set_status(Level::Good, text);
                }
                if let Some(city) = city {
                    self.call_as(id, city);
                }
            }
            Err(e) => {
                let text = format!("waiting for {role}: {e}");
                self.plog(id, Level::Warn, text.clone());
                if id == self.active {
                    self.set_status(Level::Warn, text);
                }
            }
        }
    }

    /// Work out the chain again for profile `id`: its facts, its token or the API's last
    /// answer changed. Cheap (a walk over the facts), and done here so `view` only draws.
    pub(super) fn refresh_setup_report(&mut self, id: ProfileId) {
        let now = self.now;
        let Some(p) = self.profiles.get_mut(id.0) else {
            return;
        };
        let SetupRead::Read { facts, .. } = &p.setup else {
            p.setup_report = None;
            return;
        };
        let claims = p.decoded.as_ref().and_then(|d| d.jwt()).map(|j| &j.claims);
        let token_issued = claims
            .and_then(|c| c.iat)
            .and_then(|t| DateTime::from_timestamp(t, 0));
        // The role the API named in its last 403, else what the profile expects.
        let named = p
            .last
            .as_ref()
            .and_then(|l| l.advice.as_ref())
            .and_then(|a| a.required_role.as_deref());
        let required = match named {
            Some(role) => Required::from_403(role),
            None => Required::expected(&p.expected_roles),
        };
        let thumbprint = p
            .credential
            .certificate
            .as_ref()
            .map(|c| c.thumbprint.clone());
        let input = SetupInput {
            facts,
            claims,
            token_issued,
            required,
            scope: &p.scope,
            client_id: &p.client_id,
            presented_thumbprint: thumbprint.as_deref(),
            federated: None,
            now,
        };
        let report = analyse(&input);
        p.setup_report = Some(report);
    }
}
