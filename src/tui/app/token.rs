//! Token state per profile as the dashboard shows it: the decoded token, its verification,
//! the claim list and the selected claim, and what each token-manager event means for the
//! log.
//!
//! Reacts to [`TokenUpdate`]s (what the manager did, with its state) — it never compares
//! snapshots to work out what happened. Owns no network work: verification is asked for as an
//! [`Effect`].

use std::cell::Cell;

use super::{App, Level};
use crate::auth::{TokenEvent, TokenSource, TokenUpdate};
use crate::diagnose::Severity;
use crate::jwt::{Check, Claims, DecodedJwt, TokenFormat};
use crate::problem::Problem as _;
use crate::secret::AccessToken;
use crate::time::relative;
use crate::tui::msg::{Effect, ProfileId};

/// The token as decoded for display.
#[derive(Debug, Clone)]
pub struct Decoded {
    pub generation: u64,
    pub format: TokenFormat,
    /// Verification of a JWT against discovery + JWKS and the profile; `None` for an opaque
    /// token (nothing to verify).
    pub verification: Option<Verification>,
}

impl Decoded {
    pub fn jwt(&self) -> Option<&DecodedJwt> {
        match &self.format {
            TokenFormat::Jwt(j) => Some(j),
            TokenFormat::Opaque { .. } => None,
        }
    }
}

/// Where the verification of the current token stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verification {
    /// Asked for; the checks have not come back yet.
    Pending,
    /// Discovery, signature, issuer, audience, tenant, lifetime — each passed or not.
    Done(Vec<Check>),
}

impl Verification {
    /// The worst severity among the checks (`None` while pending).
    pub fn worst(&self) -> Option<Severity> {
        match self {
            Verification::Pending => None,
            Verification::Done(checks) => checks.iter().map(|c| c.severity).max(),
        }
    }
}

/// Claims the Token pane shows on rows of their own, in this order (`azp`/`appid` is
/// whichever the token carries); every other payload claim follows in token order.
const MAIN_CLAIMS: [&str; 10] = [
    "roles", "aud", "iss", "azp", "appid", "tid", "idtyp", "iat", "nbf", "exp",
];

/// The Token pane's claim selection.
#[derive(Debug, Default)]
pub struct ClaimCursor {
    /// The selected claim (index into [`claim_names`]), explained at the bottom of the pane
    /// while it has focus.
    pub(in crate::tui) selected: usize,
    /// First line of the claims list drawn in the last frame. Written by the view, which moves
    /// it just enough to keep the selected claim visible.
    pub(in crate::tui) offset: Cell<u16>,
}

impl ClaimCursor {
    fn reset(&mut self) {
        self.selected = 0;
        self.offset.set(0);
    }
}

/// The claims the Token pane lists, in order: the ones that decide access first
/// ([`MAIN_CLAIMS`]), then every other payload claim. `ver` and the `…acr` of the client
/// claim share a row with `idtyp` and `azp`/`appid`.
pub fn claim_names(j: &DecodedJwt) -> Vec<String> {
    let c = &j.claims;
    let client = if c.azp.is_some() {
        Some(("azp", "azpacr"))
    } else if c.appid.is_some() {
        Some(("appid", "appidacr"))
    } else {
        None
    };
    let mut names: Vec<String> = Vec::new();
    for name in MAIN_CLAIMS {
        let shown = match name {
            "roles" | "aud" | "idtyp" => true,
            "iss" => c.iss.is_some(),
            "azp" | "appid" => client.is_some_and(|(n, _)| n == name),
            "tid" => c.tid.is_some(),
            "iat" => c.iat.is_some(),
            "nbf" => c.nbf.is_some() && c.nbf != c.iat,
            "exp" => c.exp.is_some(),
            _ => false,
        };
        if shown {
            names.push(name.to_string());
        }
    }
    let merged = |k: &str| {
        k == "ver"
            || client.is_some_and(|(n, acr)| k == n || k == acr)
            || (MAIN_CLAIMS.contains(&k) && k != "azp" && k != "appid")
    };
    // The signing key's id, from the header: which JWKS key the API must find.
    if j.header.get("kid").is_some_and(|v| v.is_string()) {
        names.push("kid".to_string());
    }
    names.extend(
        j.payload
            .keys()
            .filter(|k| !merged(k) && *k != "kid")
            .cloned(),
    );
    names
}

impl App {
    /// The decoded claims of the active profile's token, when it is a JWT.
    pub fn claims(&self) -> Option<&Claims> {
        self.jwt().map(|j| &j.claims)
    }

    /// The active profile's token, decoded, when it is a JWT.
    pub fn jwt(&self) -> Option<&DecodedJwt> {
        self.cur().decoded.as_ref()?.jwt()
    }

    /// Where the verification of the active profile's token stands.
    pub fn verification(&self) -> Option<&Verification> {
        self.cur().decoded.as_ref()?.verification.as_ref()
    }

    /// See [`claim_names`]; empty without a JWT.
    pub fn claim_names(&self) -> Vec<String> {
        self.jwt().map(claim_names).unwrap_or_default()
    }

    /// The selected claim's name, when the token is a JWT.
    pub fn selected_claim(&self) -> Option<String> {
        self.claim_names().into_iter().nth(self.claims.selected)
    }

    /// What profile `id`'s token manager did.
    pub(super) fn on_token_update(&mut self, id: ProfileId, update: TokenUpdate) {
        let active = id == self.active;
        let TokenUpdate { event, state } = update;
        self.profiles[id.0].snapshot = Some(state);
        match event {
            TokenEvent::Requesting { first } => {
                if first && active {
                    self.log(Level::Info, "requesting a token");
                }
            }
            TokenEvent::NewToken(t) => {
                let had = self.profiles[id.0].decoded.is_some();
                self.decode(id, t.generation, &t.access_token);
                let roles = match self.profiles[id.0].roles() {
                    Some([]) => "no roles".to_string(),
                    Some(r) => format!("roles {}", r.join(", ")),
                    None => "opaque token".to_string(),
                };
                let verb = match t.source {
                    TokenSource::Network if had => "refreshed: new token",
                    TokenSource::Network => "new token from the token endpoint",
                    TokenSource::Cache => "token served from the cache",
                };
                let text = format!(
                    "{verb}, expires {} · {roles}",
                    relative(t.expires_on, self.now)
                );
                self.plog(id, Level::Good, text);
                self.refresh_setup_report(id);
            }
            TokenEvent::Failed { error, repeat } => {
                if !repeat {
                    let text = format!("token request failed: {}", error.summary());
                    self.plog(id, Level::Error, text);
                }
            }
            TokenEvent::Scheduled {
                at,
                retry: Some(attempt),
            } => {
                if active {
                    let text = format!("retry #{attempt} scheduled {}", relative(at, self.now));
                    self.plog_fold(id, Level::Warn, Some("retry"), text);
                }
            }
            TokenEvent::Scheduled { at, retry: None } => {
                let has_token = self.profiles[id.0]
                    .snapshot
                    .as_ref()
                    .is_some_and(|s| s.token.is_some());
                if active && has_token {
                    let text = format!(
                        "next refresh at {} ({})",
                        self.clock(at),
                        relative(at, self.now)
                    );
                    self.log(Level::Info, text);
                }
            }
            TokenEvent::Stopped { error } => {
                let text = format!(
                    "token requests stopped: {} — retrying cannot fix this; fix the credential or the profile, then refresh (r)",
                    error.short_reason()
                );
                self.plog(id, Level::Error, text);
            }
            TokenEvent::Expired => self.plog(
                id,
                Level::Error,
                "the token expired and no new one could be had",
            ),
            TokenEvent::Warning(w) => {
                if active {
                    self.log(Level::Warn, w);
                }
            }
        }
    }

    /// Decode profile `id`'s new token of `generation` and ask for its verification.
    fn decode(&mut self, id: ProfileId, generation: u64, token: &AccessToken) {
        let active = id == self.active;
        let selected = active.then(|| self.selected_claim()).flatten();
        self.profiles[id.0].decoded = Some(Decoded {
            generation,
            format: crate::jwt::inspect(token.expose()),
            verification: None,
        });
        if active {
            self.scroll.token = 0;
            self.claims.offset.set(0);
            // Keep the same claim selected across refreshes.
            self.claims.selected = selected
                .and_then(|name| self.claim_names().iter().position(|n| *n == name))
                .unwrap_or(0);
        }
        self.verify_token(id, token.clone());
    }

    /// Ask the runtime to verify the active profile's token (again).
    pub(super) fn verify_current(&mut self) {
        let id = self.active;
        if let Some(t) = self.profiles[id.0]
            .snapshot
            .as_ref()
            .and_then(|s| s.token.clone())
        {
            self.verify_token(id, t.access_token.clone());
        }
    }

    fn verify_token(&mut self, id: ProfileId, token: AccessToken) {
        let Some(d) = self.profiles[id.0].decoded.as_mut() else {
            return;
        };
        let TokenFormat::Jwt(jwt) = &d.format else {
            return;
        };
        d.verification = Some(Verification::Pending);
        self.effects.push(Effect::VerifyToken {
            profile: id,
            generation: d.generation,
            token,
            jwt: jwt.clone(),
        });
    }

    pub(super) fn on_verified(&mut self, id: ProfileId, generation: u64, checks: Vec<Check>) {
        let active = id == self.active;
        let Some(d) = self
            .profiles
            .get_mut(id.0)
            .and_then(|p| p.decoded.as_mut())
            .filter(|d| d.generation == generation)
        else {
            // A replaced token's late result.
            self.dirty = false;
            return;
        };
        let problems: Vec<(Level, String)> = checks
            .iter()
            .filter(|c| c.severity >= Severity::Warning)
            .map(|c| {
                let level = if c.severity == Severity::Error {
                    Level::Error
                } else {
                    Level::Warn
                };
                (
                    level,
                    format!("verify: {} {}: {}", c.severity.mark(), c.name, c.detail),
                )
            })
            .collect();
        // Discovery is implied by the checks that follow it.
        let names: Vec<&str> = checks
            .iter()
            .map(|c| c.name)
            .filter(|n| *n != "discovery")
            .collect();
        let names = names.join(", ");
        d.verification = Some(Verification::Done(checks));
        if problems.is_empty() && active {
            self.log(Level::Good, format!("token verified: {names} ✓"));
        }
        for (level, text) in problems {
            self.plog(id, level, text);
        }
    }

    /// Move the claim selection by `delta` (clamped to the list).
    pub(super) fn select_claim(&mut self, delta: i32) {
        let n = self.claim_names().len();
        if n == 0 {
            self.dirty = false;
            return;
        }
        if self.claims.selected == 0 && delta < 0 {
            // Above the first claim: scroll up to what precedes it (token errors, warnings).
            let up = delta.unsigned_abs().min(u16::MAX as u32) as u16;
            self.claims
                .offset
                .set(self.claims.offset.get().saturating_sub(up));
            return;
        }
        self.claims.selected =
            (self.claims.selected as i64 + delta as i64).clamp(0, n as i64 - 1) as usize;
    }

    /// Back to the first claim (a new profile, Home).
    pub(super) fn first_claim(&mut self) {
        self.claims.reset();
    }
}
