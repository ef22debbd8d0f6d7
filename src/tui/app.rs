//! Dashboard state and the one place it changes: [`App::update`].
//!
//! `update` is synchronous and never touches the network or the terminal: it changes state,
//! marks the screen dirty and queues [`Effect`]s for the runtime. That keeps every key and
//! every background message unit-testable without a terminal.

use std::collections::VecDeque;

use chrono::{DateTime, FixedOffset, Offset, Utc};
use crossterm::event::{Event, KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use tui_input::Input;
use tui_input::backend::crossterm::EventHandler;

mod profiles;

pub use profiles::{
    ConfigRow, CredentialFacts, ProfileState, RENEW_WITHIN_DAYS, expiry, response_summary,
};

use super::msg::{AdminOp, DemoState, Effect, Msg};
use super::theme::Theme;
use crate::api::ApiResponse;
use crate::auth::{Phase, TokenSnapshot, TokenSource};
use crate::config::Profile;
use crate::diagnose::Severity;
use crate::jwt::{Check, Claims, DecodedJwt, TokenFormat};
use crate::problem::Problem;
use crate::text::sanitize;
use crate::time::relative;

/// Entries kept in the activity log; older ones are dropped.
pub const ACTIVITY_CAP: usize = 500;
/// Cities remembered for ↑/↓.
pub const HISTORY_CAP: usize = 50;

/// The panes that take focus, in Tab order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Focus {
    City,
    Token,
    Weather,
    Activity,
    Config,
}

impl Focus {
    const ORDER: [Focus; 5] = [
        Focus::City,
        Focus::Token,
        Focus::Weather,
        Focus::Activity,
        Focus::Config,
    ];
    fn step(self, forward: bool) -> Focus {
        let i = Focus::ORDER.iter().position(|f| *f == self).unwrap_or(0);
        let n = Focus::ORDER.len();
        Focus::ORDER[if forward {
            (i + 1) % n
        } else {
            (i + n - 1) % n
        }]
    }
}

/// What is drawn over the panes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Overlay {
    None,
    Help,
    /// The demo admin popup, with the selected action.
    Admin {
        selected: usize,
    },
    /// "Copy the access token? y/n".
    ConfirmCopy,
    /// The profile picker, with the selected row.
    Profiles {
        selected: usize,
    },
    /// Every profile's roles side by side against the roles the API requires.
    Compare,
}

/// How an activity entry is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Info,
    Good,
    Warn,
    Error,
}

/// One line of the activity log.
#[derive(Debug, Clone)]
pub struct Entry {
    pub at: DateTime<Utc>,
    pub level: Level,
    pub text: String,
    /// (wrap width, lines) as of the last frame: the view counts every entry's lines on each
    /// frame (for the scroll limit) but wraps only the ones it shows.
    pub(super) wrapped: std::cell::Cell<Option<(usize, usize)>>,
}

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
    /// The response, or why there is none (sanitised text).
    pub result: Result<Box<ApiResponse>, String>,
    /// Why the API refused, judged against the token current when the answer came (so a
    /// later refresh does not rewrite the diagnosis of this call). `None` for a success.
    pub advice: Option<crate::diagnose::Advice>,
    /// The outcome in a few words ("200 Seattle 14 °C", "403 IDW10203") and how it reads.
    pub summary: String,
    pub level: Level,
}

/// The token as decoded for display.
#[derive(Debug, Clone)]
pub struct Decoded {
    pub generation: u64,
    pub format: TokenFormat,
    /// Verification of a JWT against discovery + JWKS and the profile; `None` for an opaque
    /// token (nothing to verify).
    pub verification: Option<Verification>,
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

/// One config-lint finding as the Config pane shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LintLine {
    pub severity: Severity,
    /// What is wrong, sanitised.
    pub text: String,
    pub fix: String,
    /// Harmless here: the demo's generated config holds its sandbox-only secret inline.
    pub sandbox: bool,
}

/// Claims the Token pane shows on rows of their own, in this order (`azp`/`appid` is
/// whichever the token carries); every other payload claim follows in token order.
const MAIN_CLAIMS: [&str; 10] = [
    "roles", "aud", "iss", "azp", "appid", "tid", "idtyp", "iat", "nbf", "exp",
];

/// Per-pane scroll offsets (lines from the top; for Activity, lines up from the newest).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Scroll {
    pub token: u16,
    pub weather: u16,
    pub activity: u16,
    pub config: u16,
}

/// Settings for a new [`App`].
#[derive(Debug, Clone)]
pub struct AppOptions {
    pub theme: Theme,
    /// Offset used to show times as local time (fixed so tests are stable).
    pub utc_offset: FixedOffset,
    pub now: DateTime<Utc>,
    /// Demo mode: the sandbox tenant's state (enables the `a` popup).
    pub demo: Option<DemoState>,
}

impl AppOptions {
    /// Colour unless `NO_COLOR`, the local time zone's current offset, the system clock.
    pub fn from_env() -> Self {
        AppOptions {
            theme: Theme::from_env(),
            utc_offset: chrono::Local::now().offset().fix(),
            now: crate::time::now(),
            demo: None,
        }
    }
}

/// "42 ms", or "0.4 ms" below 10 ms (loopback calls are that fast).
pub fn latency(d: std::time::Duration) -> String {
    if d < std::time::Duration::from_millis(10) {
        format!("{:.1} ms", d.as_secs_f64() * 1000.0)
    } else {
        format!("{} ms", d.as_millis())
    }
}

/// The whole dashboard state.
pub struct App {
    pub(super) now: DateTime<Utc>,
    pub(super) offset: FixedOffset,
    pub(super) theme: Theme,
    /// Every profile of the config file, in file order; broken ones keep their error.
    pub(super) profiles: Vec<ProfileState>,
    /// The profile the Token, Weather and Config panes show (never a broken one).
    pub(super) active: usize,
    pub(super) focus: Focus,
    pub(super) overlay: Overlay,
    pub(super) raw: bool,
    pub(super) scroll: Scroll,
    /// The selected claim (index into [`App::claim_names`]), explained at the bottom of
    /// the Token pane while it has focus.
    pub(super) claim: usize,
    /// First line of the claims list drawn in the last frame. Written by the view, which
    /// moves it just enough to keep the selected claim visible.
    pub(super) claim_offset: std::cell::Cell<u16>,
    /// The largest useful scroll offset per pane, as of the last frame drawn. Written by the
    /// view (it alone knows the pane sizes), read by `update` to clamp scrolling.
    pub(super) max_scroll: std::cell::Cell<Scroll>,
    pub(super) input: Input,
    history: Vec<String>,
    history_pos: Option<usize>,
    draft: String,
    /// A message for the city box (refused input), cleared by the next key there.
    pub(super) input_error: Option<String>,
    /// Numbers calls across all profiles, so an answer finds its profile and a cancelled
    /// call's late answer is recognised.
    seq: u64,
    pub(super) activity: VecDeque<Entry>,
    /// A one-line message in the footer, cleared by the next key.
    pub(super) status: Option<(Level, String)>,
    pub(super) demo: Option<DemoState>,
    effects: Vec<Effect>,
    dirty: bool,
    quit: bool,
}

impl App {
    /// A dashboard for one profile.
    pub fn new(profile: &Profile, opts: AppOptions) -> App {
        App::with_profiles(&[(profile.name.clone(), Ok(profile.clone()))], 0, opts)
    }

    /// A dashboard for every profile of a config file (in file order; a profile that did
    /// not resolve carries its error text), with `active` shown first. `active` must be a
    /// profile that resolved; when it is not, the first one that did is used.
    pub fn with_profiles(
        profiles: &[(String, Result<Profile, String>)],
        active: usize,
        opts: AppOptions,
    ) -> App {
        let demo = opts.demo.is_some();
        let mut states: Vec<ProfileState> = profiles
            .iter()
            .map(|(name, p)| match p {
                Ok(p) => ProfileState::new(p, demo, opts.now),
                Err(e) => ProfileState::broken(name, e),
            })
            .collect();
        if states.is_empty() {
            states.push(ProfileState::broken("(none)", "no profile"));
        }
        let active = if states.get(active).is_some_and(|p| p.error.is_none()) {
            active
        } else {
            states.iter().position(|p| p.error.is_none()).unwrap_or(0)
        };
        states[active].started = true;
        let mut app = App {
            now: opts.now,
            offset: opts.utc_offset,
            theme: opts.theme,
            profiles: states,
            active,
            focus: Focus::City,
            overlay: Overlay::None,
            raw: false,
            scroll: Scroll::default(),
            claim: 0,
            claim_offset: std::cell::Cell::new(0),
            max_scroll: std::cell::Cell::new(Scroll::default()),
            input: Input::default(),
            history: Vec::new(),
            history_pos: None,
            draft: String::new(),
            input_error: None,
            seq: 0,
            activity: VecDeque::new(),
            status: None,
            demo: opts.demo,
            effects: Vec::new(),
            dirty: true,
            quit: false,
        };
        // Config problems belong in the log too: at 80 columns the Config pane is hidden.
        app.log_problems(active);
        app
    }

    /// Log `i`'s config problems, once.
    fn log_problems(&mut self, i: usize) {
        let Some(p) = self.profiles.get_mut(i) else {
            return;
        };
        if p.lint_logged {
            return;
        }
        p.lint_logged = true;
        for (level, text) in p.problems(self.now) {
            self.plog(i, level, text);
        }
    }

    /// The active profile.
    pub(super) fn cur(&self) -> &ProfileState {
        &self.profiles[self.active]
    }
    fn cur_mut(&mut self) -> &mut ProfileState {
        &mut self.profiles[self.active]
    }

    /// Every profile, in file order.
    pub fn profiles(&self) -> &[ProfileState] {
        &self.profiles
    }
    /// Index of the active profile in [`App::profiles`].
    pub fn active(&self) -> usize {
        self.active
    }

    /// Set the time used for countdowns and log stamps (the main loop does this before
    /// every update; tests pin it).
    pub fn set_now(&mut self, now: DateTime<Utc>) {
        if now != self.now {
            self.now = now;
        }
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.now
    }
    pub fn focus(&self) -> Focus {
        self.focus
    }
    pub fn overlay(&self) -> Overlay {
        self.overlay
    }
    pub fn city(&self) -> &str {
        self.input.value()
    }
    pub fn raw(&self) -> bool {
        self.raw
    }
    pub fn scroll(&self) -> Scroll {
        self.scroll
    }
    pub fn activity(&self) -> impl Iterator<Item = &Entry> {
        self.activity.iter()
    }
    pub fn status(&self) -> Option<&str> {
        self.status.as_ref().map(|(_, s)| s.as_str())
    }
    pub fn input_error(&self) -> Option<&str> {
        self.input_error.as_deref()
    }
    /// The active profile's call in flight.
    pub fn in_flight(&self) -> Option<&InFlight> {
        self.cur().call.as_ref()
    }
    /// The active profile's last finished call.
    pub fn last_call(&self) -> Option<&Completed> {
        self.cur().last.as_ref()
    }
    /// The city the compare view's Enter would call for: the box's, else the last called.
    pub fn compare_city(&self) -> Option<String> {
        let typed = self.input.value().trim();
        if typed.is_empty() {
            self.history.last().cloned()
        } else {
            Some(typed.to_string())
        }
    }
    pub fn is_demo(&self) -> bool {
        self.demo.is_some()
    }

    /// The decoded claims of the current token, when it is a JWT.
    pub fn claims(&self) -> Option<&Claims> {
        self.jwt().map(|j| &j.claims)
    }

    /// The current token, decoded, when it is a JWT.
    pub fn jwt(&self) -> Option<&DecodedJwt> {
        match &self.cur().decoded.as_ref()?.format {
            TokenFormat::Jwt(j) => Some(j),
            TokenFormat::Opaque { .. } => None,
        }
    }

    /// Where the verification of the current token stands.
    pub fn verification(&self) -> Option<&Verification> {
        self.cur().decoded.as_ref()?.verification.as_ref()
    }

    /// Config lint findings, errors first.
    pub fn lint(&self) -> &[LintLine] {
        &self.cur().lint
    }

    /// The claims the Token pane lists, in order: the ones that decide access first
    /// ([`MAIN_CLAIMS`]), then every other payload claim. `ver` and the `…acr` of the
    /// client claim share a row with `idtyp` and `azp`/`appid`.
    pub fn claim_names(&self) -> Vec<String> {
        let Some(j) = self.jwt() else {
            return Vec::new();
        };
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
        names.extend(j.payload.keys().filter(|k| !merged(k)).cloned());
        names
    }

    /// The selected claim's name, when the token is a JWT.
    pub fn selected_claim(&self) -> Option<String> {
        self.claim_names().into_iter().nth(self.claim)
    }

    /// Effects queued by `update` since the last call.
    pub fn take_effects(&mut self) -> Vec<Effect> {
        std::mem::take(&mut self.effects)
    }

    /// True (once) when the screen should be redrawn.
    pub fn needs_redraw(&mut self) -> bool {
        std::mem::take(&mut self.dirty)
    }

    pub fn should_quit(&self) -> bool {
        self.quit
    }

    pub(super) fn local(&self, t: DateTime<Utc>) -> String {
        t.with_timezone(&self.offset)
            .format("%Y-%m-%d %H:%M:%S")
            .to_string()
    }
    pub(super) fn clock(&self, t: DateTime<Utc>) -> String {
        t.with_timezone(&self.offset).format("%H:%M:%S").to_string()
    }

    fn log(&mut self, level: Level, text: impl Into<String>) {
        let text = sanitize(&text.into(), false);
        tracing::info!(target: "tokenscope::tui::activity", "{text}");
        self.activity.push_back(Entry {
            at: self.now,
            level,
            text,
            wrapped: std::cell::Cell::new(None),
        });
        while self.activity.len() > ACTIVITY_CAP {
            self.activity.pop_front();
        }
        // Keep a scrolled-back view on the same entries.
        if self.scroll.activity > 0 {
            self.scroll.activity = self.scroll.activity.saturating_add(1);
        }
    }

    /// Log a line about profile `i`: tagged with its name unless it is the active one.
    fn plog(&mut self, i: usize, level: Level, text: impl Into<String>) {
        let text = text.into();
        if i == self.active {
            self.log(level, text);
        } else {
            let name = self
                .profiles
                .get(i)
                .map(|p| p.name.clone())
                .unwrap_or_default();
            self.log(level, format!("[{name}] {text}"));
        }
    }

    fn set_status(&mut self, level: Level, text: impl Into<String>) {
        self.status = Some((level, sanitize(&text.into(), false)));
    }

    /// Handle one message.
    pub fn update(&mut self, msg: Msg) {
        self.dirty = true;
        match msg {
            Msg::Key(k) => self.on_key(k),
            Msg::Paste(text) => {
                if self.focus == Focus::City && self.overlay == Overlay::None {
                    let clean: String = text.chars().filter(|c| !c.is_control()).collect();
                    let value = format!("{}{}", self.input.value(), clean);
                    self.input = Input::new(value);
                    self.input_error = None;
                }
            }
            Msg::Resize | Msg::Tick => {}
            Msg::Token(snap) => self.on_token(self.active, *snap),
            Msg::ProfileToken { profile, snap } => {
                if profile < self.profiles.len() {
                    self.on_token(profile, *snap);
                } else {
                    self.dirty = false;
                }
            }
            Msg::ApiResult { seq, result } => self.on_api_result(seq, result),
            Msg::Verified {
                profile,
                generation,
                checks,
            } => self.on_verified(profile, generation, checks),
            Msg::RefreshDone(r) => {
                if let Err(e) = r {
                    let first = e.lines().next().unwrap_or_default().to_string();
                    self.set_status(Level::Error, format!("refresh failed: {first}"));
                }
            }
            Msg::Copied(Ok(n)) => self.set_status(
                Level::Good,
                format!(
                    "copied the access token ({n} bytes) with OSC 52 — your terminal must allow clipboard writes"
                ),
            ),
            Msg::Copied(Err(e)) => self.set_status(Level::Error, format!("copy failed: {e}")),
            Msg::AdminDone { op, result } => match result {
                Ok(text) => {
                    self.log(Level::Info, format!("sandbox: {text}"));
                    match op {
                        AdminOp::RenewSecret => self.effects.push(Effect::ReloadCredential),
                        AdminOp::TokenLifetime(_) => {
                            self.log(Level::Info, "fetching a token with the new lifetime");
                            self.effects.push(Effect::RefreshToken);
                        }
                        AdminOp::GrantRole(_) | AdminOp::RevokeRole(_) => self.log(
                            Level::Info,
                            "the current token keeps its old roles until it is refreshed (r)",
                        ),
                        // The token's key may be gone from the JWKS; check again.
                        AdminOp::RotateKey => self.verify_current(),
                        _ => {}
                    }
                }
                Err(e) => {
                    self.log(Level::Error, format!("sandbox: {e}"));
                    self.set_status(Level::Error, e);
                }
            },
            Msg::Demo(state) => self.demo = Some(*state),
            Msg::Warning(w) => self.log(Level::Warn, w),
            Msg::Quit => self.quit = true,
        }
    }

    fn on_api_result(&mut self, seq: u64, result: Result<Box<ApiResponse>, super::msg::CallError>) {
        let Some(i) = self
            .profiles
            .iter()
            .position(|p| p.call.as_ref().is_some_and(|c| c.seq == seq))
        else {
            // A cancelled call's late answer.
            self.dirty = false;
            return;
        };
        let Some(call) = self.profiles[i].call.take() else {
            return;
        };
        let p = &self.profiles[i];
        let claims = p.decoded.as_ref().and_then(|d| match &d.format {
            TokenFormat::Jwt(j) => Some(&j.claims),
            TokenFormat::Opaque { .. } => None,
        });
        let advice = result
            .as_ref()
            .ok()
            .and_then(|r| super::explain::advice(r, claims, &p.expected_roles, &p.scope));
        let (level, summary) = match &result {
            Ok(r) => {
                let why = advice.as_ref().map(|a| a.summary.clone());
                let level = match r.status {
                    200..=299 => Level::Good,
                    401 | 403 => Level::Warn,
                    _ => Level::Error,
                };
                let mut text =
                    format!("GET {} → {} in {}", call.city, r.status, latency(r.latency));
                if let Some(why) = why {
                    text.push_str(&format!(": {why}"));
                }
                self.plog(i, level, text);
                profiles::response_summary(&call.city, r)
            }
            Err(e) => {
                let first = e.summary();
                self.plog(
                    i,
                    Level::Error,
                    format!("GET {} failed: {first}", call.city),
                );
                let short = match e {
                    // The token column says why.
                    super::msg::CallError::Token(_) => "✗ no token".to_string(),
                    super::msg::CallError::Api(_) | super::msg::CallError::Setup(_) => {
                        format!("✗ {first}")
                    }
                };
                (Level::Error, sanitize(&short, false))
            }
        };
        if i == self.active {
            self.scroll.weather = 0;
        }
        self.profiles[i].last = Some(Completed {
            city: call.city,
            at: self.now,
            result: result.map_err(|e| sanitize(&e.full_text(), true)),
            advice,
            level,
            summary,
        });
    }

    /// A new state from profile `i`'s token manager: decode a new token (and ask for its
    /// verification), log what changed.
    fn on_token(&mut self, i: usize, snap: TokenSnapshot) {
        let active = i == self.active;
        let prev = self.profiles[i].snapshot.take();
        let prev_gen = prev.as_ref().map(|p| p.generation).unwrap_or(0);
        let prev_err = prev
            .as_ref()
            .and_then(|p| p.last_error.as_ref())
            .map(|e| e.to_string());
        let prev_phase = prev.as_ref().map(|p| p.phase.clone());
        let prev_warnings = prev.as_ref().map(|p| p.warnings.len()).unwrap_or(0);
        let prev_next = prev.as_ref().and_then(|p| p.next_refresh);

        if snap.generation != prev_gen
            && let Some(t) = &snap.token
        {
            let selected = active.then(|| self.selected_claim()).flatten();
            self.profiles[i].decoded = Some(Decoded {
                generation: snap.generation,
                format: crate::jwt::inspect(t.access_token.expose()),
                verification: None,
            });
            if active {
                self.scroll.token = 0;
                self.claim_offset.set(0);
                // Keep the same claim selected across refreshes.
                self.claim = selected
                    .and_then(|name| self.claim_names().iter().position(|n| *n == name))
                    .unwrap_or(0);
            }
            self.verify_token(i, t.access_token.clone());
            let roles = match self.profiles[i].roles() {
                Some([]) => "no roles".to_string(),
                Some(r) => format!("roles {}", r.join(", ")),
                None => "opaque token".to_string(),
            };
            let how = match t.source {
                TokenSource::Network => "new token from the token endpoint",
                TokenSource::Cache => "token served from the cache",
            };
            let verb = if prev_gen > 0 && t.source == TokenSource::Network {
                "refreshed: new token"
            } else {
                how
            };
            self.plog(
                i,
                Level::Good,
                format!(
                    "{verb}, expires {} · {roles}",
                    relative(t.expires_on, self.now)
                ),
            );
        }
        if let Some(e) = &snap.last_error
            && Some(e.to_string()) != prev_err
        {
            let first = e.summary();
            self.plog(i, Level::Error, format!("token request failed: {first}"));
        }
        if prev_phase.as_ref() != Some(&snap.phase) {
            match &snap.phase {
                Phase::Retrying { at, attempt } if active => self.log(
                    Level::Warn,
                    format!("retry #{attempt} scheduled {}", relative(*at, self.now)),
                ),
                Phase::Expired => self.plog(
                    i,
                    Level::Error,
                    "the token expired and no new one could be had",
                ),
                Phase::Acquiring
                    if active && (prev_phase.is_none() || prev_phase == Some(Phase::Idle)) =>
                {
                    self.log(Level::Info, "requesting a token")
                }
                _ => {}
            }
        }
        // Background profiles log only what matters: new tokens and failures.
        if active
            && snap.next_refresh != prev_next
            && !matches!(snap.phase, Phase::Retrying { .. })
            && let Some(at) = snap.next_refresh
            && snap.token.is_some()
        {
            self.log(
                Level::Info,
                format!(
                    "next refresh at {} ({})",
                    self.clock(at),
                    relative(at, self.now)
                ),
            );
        }
        if active {
            for w in snap.warnings.iter().skip(prev_warnings) {
                let w = w.clone();
                self.log(Level::Warn, w);
            }
        }
        self.profiles[i].snapshot = Some(snap);
    }

    /// Ask the runtime to verify the active profile's token (again).
    fn verify_current(&mut self) {
        let i = self.active;
        if let Some(t) = self.profiles[i]
            .snapshot
            .as_ref()
            .and_then(|s| s.token.clone())
        {
            self.verify_token(i, t.access_token.clone());
        }
    }

    fn verify_token(&mut self, i: usize, token: crate::secret::AccessToken) {
        let Some(d) = self.profiles[i].decoded.as_mut() else {
            return;
        };
        let TokenFormat::Jwt(jwt) = &d.format else {
            return;
        };
        d.verification = Some(Verification::Pending);
        self.effects.push(Effect::VerifyToken {
            profile: i,
            generation: d.generation,
            token,
            jwt: jwt.clone(),
        });
    }

    fn on_verified(&mut self, i: usize, generation: u64, checks: Vec<Check>) {
        let active = i == self.active;
        let Some(d) = self
            .profiles
            .get_mut(i)
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
            self.plog(i, level, text);
        }
    }

    /// Move the claim selection by `delta` (clamped to the list).
    fn select_claim(&mut self, delta: i32) {
        let n = self.claim_names().len();
        if n == 0 {
            self.dirty = false;
            return;
        }
        if self.claim == 0 && delta < 0 {
            // Above the first claim: scroll up to what precedes it (token errors, warnings).
            let up = delta.unsigned_abs().min(u16::MAX as u32) as u16;
            self.claim_offset
                .set(self.claim_offset.get().saturating_sub(up));
            return;
        }
        self.claim = (self.claim as i64 + delta as i64).clamp(0, n as i64 - 1) as usize;
    }

    fn on_key(&mut self, k: KeyEvent) {
        if k.kind == KeyEventKind::Release {
            self.dirty = false;
            return;
        }
        let ctrl = k.modifiers.contains(KeyModifiers::CONTROL);
        if ctrl && matches!(k.code, KeyCode::Char('c') | KeyCode::Char('C')) {
            self.quit = true;
            return;
        }
        self.status = None;
        match self.overlay {
            Overlay::ConfirmCopy => {
                self.overlay = Overlay::None;
                if matches!(k.code, KeyCode::Char('y') | KeyCode::Char('Y')) {
                    match self.cur().snapshot.as_ref().and_then(|s| s.token.clone()) {
                        Some(t) => self.effects.push(Effect::CopyToken(t.access_token.clone())),
                        None => self.set_status(Level::Warn, "no token to copy"),
                    }
                } else {
                    self.set_status(Level::Info, "copy cancelled");
                }
                return;
            }
            Overlay::Help => {
                if matches!(
                    k.code,
                    KeyCode::Esc
                        | KeyCode::Char('?')
                        | KeyCode::Char('q')
                        | KeyCode::F(1)
                        | KeyCode::Enter
                ) {
                    self.overlay = Overlay::None;
                }
                return;
            }
            Overlay::Admin { selected } => {
                self.on_admin_key(k, selected);
                return;
            }
            Overlay::Profiles { selected } => {
                self.on_picker_key(k, selected);
                return;
            }
            Overlay::Compare => {
                self.on_compare_key(k);
                return;
            }
            Overlay::None => {}
        }
        // Keys that work from every pane.
        match k.code {
            KeyCode::Tab => {
                self.focus = self.focus.step(true);
                return;
            }
            KeyCode::BackTab => {
                self.focus = self.focus.step(false);
                return;
            }
            KeyCode::Enter => {
                self.submit();
                return;
            }
            KeyCode::F(1) => {
                self.overlay = Overlay::Help;
                return;
            }
            KeyCode::F(2) => {
                self.open_picker();
                return;
            }
            KeyCode::F(3) => {
                self.open_compare();
                return;
            }
            KeyCode::F(5) => {
                self.refresh();
                return;
            }
            _ => {}
        }
        if self.focus == Focus::City {
            self.on_city_key(k);
            return;
        }
        match k.code {
            KeyCode::Char('q') => self.quit = true,
            KeyCode::Char('r') => self.refresh(),
            KeyCode::Char('t') => {
                self.raw = !self.raw;
                self.scroll.token = 0;
                self.focus = Focus::Token;
            }
            KeyCode::Char('y') => {
                if self
                    .cur()
                    .snapshot
                    .as_ref()
                    .is_some_and(|s| s.token.is_some())
                {
                    self.overlay = Overlay::ConfirmCopy;
                } else {
                    self.set_status(Level::Warn, "no token to copy yet");
                }
            }
            KeyCode::Char('?') => self.overlay = Overlay::Help,
            KeyCode::Char('p') => self.open_picker(),
            KeyCode::Char('c') => self.open_compare(),
            KeyCode::Char('a') => {
                if self.demo.is_some() {
                    self.overlay = Overlay::Admin { selected: 0 };
                } else {
                    self.set_status(
                        Level::Info,
                        "the admin popup is only available in `tokenscope demo`",
                    );
                }
            }
            KeyCode::Esc => self.focus = Focus::City,
            // In the claims view ↑/↓ select a claim (the view scrolls to keep it visible).
            _ if self.focus == Focus::Token && !self.raw && self.jwt().is_some() => match k.code {
                KeyCode::Up | KeyCode::Char('k') => self.select_claim(-1),
                KeyCode::Down | KeyCode::Char('j') => self.select_claim(1),
                KeyCode::PageUp => self.select_claim(-10),
                KeyCode::PageDown => self.select_claim(10),
                KeyCode::Home => {
                    self.claim = 0;
                    self.claim_offset.set(0);
                }
                KeyCode::End => self.select_claim(i32::MAX / 2),
                _ => self.dirty = false,
            },
            KeyCode::Up | KeyCode::Char('k') => self.scroll_by(-1),
            KeyCode::Down | KeyCode::Char('j') => self.scroll_by(1),
            KeyCode::PageUp => self.scroll_by(-10),
            KeyCode::PageDown => self.scroll_by(10),
            KeyCode::Home => self.scroll_by(i32::MIN / 2),
            KeyCode::End => self.scroll_by(i32::MAX / 2),
            _ => self.dirty = false,
        }
    }

    fn on_admin_key(&mut self, k: KeyEvent, selected: usize) {
        let ops = self.demo.as_ref().map(DemoState::ops).unwrap_or_default();
        let n = ops.len().max(1);
        match k.code {
            KeyCode::Esc | KeyCode::Char('a') | KeyCode::Char('q') => self.overlay = Overlay::None,
            KeyCode::Up | KeyCode::Char('k') => {
                self.overlay = Overlay::Admin {
                    selected: (selected + n - 1) % n,
                }
            }
            KeyCode::Down | KeyCode::Char('j') => {
                self.overlay = Overlay::Admin {
                    selected: (selected + 1) % n,
                }
            }
            KeyCode::Enter => self.apply_admin(ops.get(selected).cloned()),
            KeyCode::Char(c @ '1'..='9') => {
                let i = c as usize - '1' as usize;
                self.apply_admin(ops.get(i).cloned());
            }
            _ => self.dirty = false,
        }
    }

    fn apply_admin(&mut self, op: Option<AdminOp>) {
        let Some(op) = op else { return };
        self.overlay = Overlay::None;
        self.effects.push(Effect::Admin(op));
    }

    fn on_city_key(&mut self, k: KeyEvent) {
        match k.code {
            KeyCode::Esc => {
                self.input.reset();
                self.input_error = None;
                self.history_pos = None;
            }
            KeyCode::Up => self.history_step(true),
            KeyCode::Down => self.history_step(false),
            KeyCode::PageUp => self.scroll.weather = self.scroll.weather.saturating_sub(10),
            KeyCode::PageDown => {
                self.scroll.weather =
                    (self.scroll.weather.saturating_add(10)).min(self.max_scroll.get().weather)
            }
            _ => {
                if self.input.handle_event(&Event::Key(k)).is_some() {
                    self.input_error = None;
                    self.history_pos = None;
                } else {
                    self.dirty = false;
                }
            }
        }
    }

    fn history_step(&mut self, back: bool) {
        if self.history.is_empty() {
            return;
        }
        let last = self.history.len() - 1;
        let next = match (self.history_pos, back) {
            (None, true) => {
                self.draft = self.input.value().to_string();
                Some(last)
            }
            (None, false) => return,
            (Some(i), true) => Some(i.saturating_sub(1)),
            (Some(i), false) if i >= last => None,
            (Some(i), false) => Some(i + 1),
        };
        self.history_pos = next;
        let value = match next {
            Some(i) => self.history[i].clone(),
            None => std::mem::take(&mut self.draft),
        };
        self.input = Input::new(value);
    }

    fn submit(&mut self) {
        if let Some(city) = self.take_city() {
            self.call_as(self.active, city);
        }
    }

    /// The city in the box, validated and remembered; `None` (with a message under the box)
    /// when it is not a city name.
    fn take_city(&mut self) -> Option<String> {
        let raw = self.input.value().to_string();
        let city = match crate::api::validate_city(&raw) {
            Ok(c) => c.to_string(),
            Err(e) => {
                let text = e.to_string();
                self.input_error = Some(sanitize(&text, false));
                self.focus = Focus::City;
                return None;
            }
        };
        self.input_error = None;
        self.history_pos = None;
        if self.history.last() != Some(&city) {
            self.history.retain(|h| h != &city);
            self.history.push(city.clone());
            if self.history.len() > HISTORY_CAP {
                self.history.remove(0);
            }
        }
        Some(city)
    }

    /// Call the API for `city` as profile `i` (replacing that profile's call in flight).
    fn call_as(&mut self, i: usize, city: String) {
        if let Some(old) = self.profiles[i].call.take() {
            self.plog(
                i,
                Level::Info,
                format!("cancelled the call for {}", old.city),
            );
        }
        self.seq += 1;
        let p = &mut self.profiles[i];
        p.started = true;
        p.call = Some(InFlight {
            seq: self.seq,
            city: city.clone(),
            started: self.now,
        });
        self.effects.push(Effect::CallApi {
            profile: i,
            seq: self.seq,
            city,
        });
    }

    /// The compare view's Enter: call the API as every profile that loads, with the city in
    /// the box (or the last one called when the box is empty).
    fn call_all(&mut self) {
        if self.input.value().trim().is_empty()
            && let Some(last) = self.history.last().cloned()
        {
            self.input = Input::new(last);
        }
        if self.input.value().trim().is_empty() {
            self.set_status(
                Level::Warn,
                "type a city in the box first (Esc, type, then F3 to come back)",
            );
            return;
        }
        let Some(city) = self.take_city() else {
            let e = self.input_error.clone().unwrap_or_default();
            self.set_status(Level::Warn, e);
            return;
        };
        let ready: Vec<usize> = (0..self.profiles.len())
            .filter(|&i| self.profiles[i].error.is_none())
            .collect();
        self.log(
            Level::Info,
            format!("calling the API for {city} as {} profiles", ready.len()),
        );
        for i in ready {
            self.call_as(i, city.clone());
        }
    }

    /// Open the profile picker on the active profile.
    fn open_picker(&mut self) {
        self.overlay = Overlay::Profiles {
            selected: self.active,
        };
    }

    /// Open the compare view, starting the token managers it needs to fill every row.
    fn open_compare(&mut self) {
        self.overlay = Overlay::Compare;
        let start: Vec<usize> = self
            .profiles
            .iter_mut()
            .enumerate()
            .filter(|(_, p)| p.error.is_none() && !p.started)
            .map(|(i, p)| {
                p.started = true;
                i
            })
            .collect();
        if !start.is_empty() {
            self.log(
                Level::Info,
                format!(
                    "compare: requesting tokens for {} more profiles",
                    start.len()
                ),
            );
            self.effects.push(Effect::StartProfiles(start));
        }
    }

    /// Make profile `i` the active one (its token manager starts if it has not yet; the
    /// others keep running).
    fn switch_to(&mut self, i: usize) {
        let Some(p) = self.profiles.get(i) else {
            return;
        };
        if let Some(e) = &p.error {
            let text = format!("cannot switch to {}: it does not load: {e}", p.name);
            self.set_status(Level::Error, text);
            return;
        }
        self.overlay = Overlay::None;
        if i == self.active {
            let text = format!("{} is already the active profile", p.name);
            self.set_status(Level::Info, text);
            return;
        }
        self.active = i;
        self.claim = 0;
        self.claim_offset.set(0);
        self.scroll.token = 0;
        self.scroll.weather = 0;
        self.scroll.config = 0;
        let name = self.cur().name.clone();
        let state = match self.cur().token_summary(self.now) {
            (_, s) if self.cur().started => s,
            _ => "requesting a token".into(),
        };
        self.cur_mut().started = true;
        self.log(Level::Info, format!("switched to profile {name} ({state})"));
        self.log_problems(i);
        self.effects.push(Effect::SwitchProfile(i));
    }

    fn on_picker_key(&mut self, k: KeyEvent, selected: usize) {
        let n = self.profiles.len().max(1);
        match k.code {
            KeyCode::Esc | KeyCode::Char('p') | KeyCode::Char('q') | KeyCode::F(2) => {
                self.overlay = Overlay::None
            }
            KeyCode::Up | KeyCode::Char('k') => {
                self.overlay = Overlay::Profiles {
                    selected: (selected + n - 1) % n,
                }
            }
            KeyCode::Down | KeyCode::Char('j') => {
                self.overlay = Overlay::Profiles {
                    selected: (selected + 1) % n,
                }
            }
            KeyCode::Enter => self.switch_to(selected),
            KeyCode::Char(c @ '1'..='9') => {
                let i = c as usize - '1' as usize;
                if i < self.profiles.len() {
                    self.overlay = Overlay::Profiles { selected: i };
                    self.switch_to(i);
                } else {
                    self.dirty = false;
                }
            }
            KeyCode::F(3) | KeyCode::Char('c') => self.open_compare(),
            _ => self.dirty = false,
        }
    }

    fn on_compare_key(&mut self, k: KeyEvent) {
        match k.code {
            KeyCode::Esc | KeyCode::Char('c') | KeyCode::Char('q') | KeyCode::F(3) => {
                self.overlay = Overlay::None
            }
            KeyCode::Enter => self.call_all(),
            KeyCode::Char('r') | KeyCode::F(5) => {
                self.log(Level::Info, "refresh requested for every running profile");
                self.effects.push(Effect::RefreshAll);
            }
            KeyCode::F(2) | KeyCode::Char('p') => self.open_picker(),
            _ => self.dirty = false,
        }
    }

    fn refresh(&mut self) {
        self.log(Level::Info, "refresh requested");
        self.effects.push(Effect::RefreshToken);
    }

    fn scroll_by(&mut self, delta: i32) {
        // The limits are what the last frame could show; see `max_scroll`.
        let max = self.max_scroll.get();
        let apply = |v: u16, max: u16| -> u16 { (v as i32 + delta).clamp(0, max as i32) as u16 };
        match self.focus {
            Focus::Token => self.scroll.token = apply(self.scroll.token, max.token),
            Focus::Weather => self.scroll.weather = apply(self.scroll.weather, max.weather),
            Focus::Config => self.scroll.config = apply(self.scroll.config, max.config),
            // Activity scrolls from the newest entry: "up" goes back in time.
            Focus::Activity => {
                self.scroll.activity =
                    (self.scroll.activity as i32 - delta).clamp(0, max.activity as i32) as u16
            }
            Focus::City => {}
        }
    }

    /// The token manager's latest state.
    pub fn token_snapshot(&self) -> Option<&TokenSnapshot> {
        self.cur().snapshot.as_ref()
    }
}

#[cfg(test)]
mod tests;
