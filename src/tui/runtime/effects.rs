//! The runtime's network effects: a call to the weather API, a wait for a role to reach the
//! tokens, a read of the app-role set-up. Each runs off the UI task and reports back as a
//! [`Msg`] naming its profile. Owns no state of its own; it must not touch the terminal.

use super::Runtime;
use crate::tui::msg::{CallError, Msg, ProfileId};

impl Runtime {
    /// Call the weather API for `city` as profile `id` (replacing its call in flight).
    pub(super) fn call(&mut self, id: ProfileId, seq: u64, city: String) {
        self.ensure_started(id);
        let tx = self.tx.clone();
        let Some(slot) = self.slots.get_mut(id.0) else {
            return;
        };
        if let Some(old) = slot.call.take() {
            old.abort();
        }
        let (Some(p), Some(http), Some(m)) = (&slot.profile, &slot.http, &slot.manager) else {
            let _ = tx.try_send(Msg::ApiResult {
                profile: id,
                seq,
                sent: None,
                result: Err(CallError::Setup(
                    "this profile's token manager could not start".into(),
                )),
            });
            return;
        };
        let token = m.token.clone();
        let http = http.clone();
        let template = p.api_url.clone();
        slot.call = Some(tokio::spawn(async move {
            // The city, the URL and the transport rule are checked before a token is asked for.
            let target = crate::api::weather_target(&template, &city);
            let (sent, result) = match target {
                Err(e) => (None, Err(CallError::Api(e))),
                Ok(url) => match token.token().await {
                    Ok(t) => {
                        let r = crate::api::get_with_bearer(&http, url, &t.access_token)
                            .await
                            .map(Box::new)
                            .map_err(CallError::Api);
                        (Some(t), r)
                    }
                    Err(e) => (None, Err(CallError::Token(e))),
                },
            };
            let msg = Msg::ApiResult {
                profile: id,
                seq,
                sent,
                result,
            };
            let _ = tx.send(msg).await;
        }));
    }

    /// Ask for fresh tokens until `role` is in them (see [`crate::diagnose::setup::wait_for_role`]),
    /// reporting every attempt; the token manager publishes each new token as usual.
    pub(super) fn wait_for_role(&mut self, id: ProfileId, role: String) {
        self.ensure_started(id);
        let tx = self.tx.clone();
        let Some(slot) = self.slots.get_mut(id.0) else {
            return;
        };
        let Some(handle) = slot.manager.as_ref().map(|m| m.token.clone()) else {
            return;
        };
        if let Some(old) = slot.wait.take() {
            old.abort();
        }
        slot.wait = Some(tokio::spawn(async move {
            use crate::diagnose::setup::{DEFAULT_BOUND, WaitError, wait_for_role};
            let progress = |a: &crate::diagnose::setup::Attempt| {
                let has = if a.roles.is_empty() {
                    "no roles".to_string()
                } else {
                    a.roles.join(", ")
                };
                let next = a
                    .next_in
                    .map(|d| format!("; next try in {}s", d.as_secs()))
                    .unwrap_or_default();
                let text = format!(
                    "attempt {}, {}s so far: the token has {has}{next}",
                    a.attempt,
                    a.elapsed.as_secs()
                );
                let _ = tx.try_send(Msg::Waiting {
                    profile: id,
                    progress: text,
                });
            };
            let result = wait_for_role(&handle, &role, DEFAULT_BOUND, progress)
                .await
                .map(|_| ())
                .map_err(|e| match e {
                    WaitError::TimedOut {
                        attempts, elapsed, ..
                    } => format!(
                        "not in new tokens after {attempts} tries in {}s: check the grant (Setup view) or wait longer",
                        elapsed.as_secs()
                    ),
                    WaitError::Token(e) => e.short_reason(),
                });
            let _ = tx
                .send(Msg::WaitDone {
                    profile: id,
                    role,
                    result,
                })
                .await;
        }));
    }

    /// Read profile `id`'s app-role set-up off the UI task; the facts (or why not) come back
    /// as [`Msg::Setup`].
    pub(super) fn read_setup(&mut self, id: ProfileId, fresh: bool) {
        self.ensure_started(id);
        let Some(slot) = self.slots.get(id.0) else {
            return;
        };
        let (Some(profile), Some(http)) = (slot.profile.clone(), slot.http.clone()) else {
            return;
        };
        // An "admin reader" profile of the same file reads Graph for this one.
        let reader = match &profile.graph.source {
            crate::config::GraphSource::Reader(name) => self
                .slots
                .iter()
                .filter_map(|s| s.profile.as_ref())
                .find(|p| p.name == *name)
                .cloned(),
            _ => None,
        };
        let cache = self.cache.clone().filter(|_| profile.cache);
        let tx = self.tx.clone();
        tokio::spawn(async move {
            let mut opts = crate::graph::ReadOptions::new(http);
            opts.reader = reader.as_ref();
            opts.cache = cache;
            opts.fresh_token = fresh;
            let result = crate::graph::read_for_profile(&profile, &opts)
                .await
                .map(Box::new);
            let _ = tx
                .send(Msg::Setup {
                    profile: id,
                    result,
                })
                .await;
        });
    }
}
