//! Dashboard state and the one place it changes: [`App::update`].
//!
//! `update` is synchronous and never touches the network or the terminal: it changes state,
//! marks the screen dirty and queues [`Effect`]s for the runtime. That keeps every key and
//! every background message unit-testable without a terminal.
//!
//! The state is split by concern: the city box ([`city`]), the activity log ([`activity`]),
//! each profile's token, calls and Config rows ([`profiles`], [`token`], [`calls`]), and key
//! handling ([`keys`], driven by the key table in [`crate::tui::keymap`]), the mouse
//! ([`mouse`]). This file holds
//! what ties them together: focus, popups, scrolling, the active profile, effects.

use chrono::{DateTime, FixedOffset, Offset, Utc};

mod activity;
mod calls;
mod city;
mod copy;
mod keys;
mod mouse;
mod palette;
mod profiles;
mod setup;
mod token;

pub use activity::{ACTIVITY_CAP, ActivityLog, Entry, Level};
pub use calls::{Completed, InFlight, latency};
pub use city::{CityBox, HISTORY_CAP};
pub use copy::CopyWhat;
pub use mouse::HitMap;
pub use palette::Palette;
pub use profiles::{
    ConfigRow, CredentialFacts, LintLine, ProfileState, RENEW_WITHIN_DAYS, expiry, response_summary,
};
pub use setup::SetupRead;
pub use token::{ClaimCursor, Decoded, Verification};

use super::demo::{AdminOp, DemoState};
use super::msg::{Effect, Msg, ProfileId};
use super::theme::Theme;
use crate::auth::TokenSnapshot;
use crate::config::Profile;
use crate::problem::Problem as _;
use crate::text::sanitize;

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
    /// What to copy (`y`), with the selected row.
    Copy {
        selected: usize,
    },
    /// "Copy the access token? y/n" (or the curl line holding it).
    ConfirmCopy(CopyWhat),
    /// The profile picker, with the selected row.
    Profiles {
        selected: usize,
    },
    /// Every profile's roles side by side against the roles the API requires.
    Compare,
    /// The app-role set-up of the active profile, read from Microsoft Graph, as a chain.
    Setup,
    /// The command palette (its filter and selection are in [`App::palette`]).
    Palette,
}

/// Per-pane scroll offsets (lines from the top; for Activity, lines up from the newest).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Scroll {
    pub token: u16,
    pub weather: u16,
    pub activity: u16,
    pub config: u16,
    /// The Setup view (when open).
    pub setup: u16,
    /// The help overlay (when open and taller than the screen).
    pub help: u16,
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
    /// Ask the runtime, at start and on every switch, whether the active profile's authority
    /// is a local `tokenscope sandbox` whose admin routes answer (the `a` popup works there).
    pub sandbox_admin: bool,
}

impl AppOptions {
    /// Colour unless `NO_COLOR`, the local time zone's current offset, the system clock.
    pub fn from_env() -> Self {
        AppOptions {
            theme: Theme::from_env(),
            utc_offset: chrono::Local::now().offset().fix(),
            now: crate::time::now(),
            demo: None,
            sandbox_admin: false,
        }
    }
}

/// The whole dashboard state. The view reads its fields (all `pub(in crate::tui)`); the
/// public getters are for tests and the front end outside `tui`.
pub struct App {
    pub(in crate::tui) now: DateTime<Utc>,
    pub(in crate::tui) offset: FixedOffset,
    pub(in crate::tui) theme: Theme,
    /// Every profile of the config file, in file order; broken ones keep their error.
    /// Indexed by [`ProfileId`].
    pub(in crate::tui) profiles: Vec<ProfileState>,
    /// The profile the Token, Weather and Config panes show (never a broken one).
    pub(in crate::tui) active: ProfileId,
    pub(in crate::tui) focus: Focus,
    pub(in crate::tui) overlay: Overlay,
    /// The Token pane shows raw header/payload JSON instead of the claims.
    pub(in crate::tui) raw: bool,
    /// Scroll offsets of Token, Weather and Config (Activity's is in [`ActivityLog`]).
    pub(in crate::tui) scroll: Scroll,
    pub(in crate::tui) claims: ClaimCursor,
    /// Lines scrolled in the Setup view.
    pub(in crate::tui) setup_scroll: u16,
    /// Lines scrolled in the help overlay.
    pub(in crate::tui) help_scroll: u16,
    /// The compare view's selected row (a profile index; Enter switches to it).
    pub(in crate::tui) compare_selected: usize,
    /// The command palette's filter and selection (shown while [`Overlay::Palette`]).
    pub(in crate::tui) palette: Palette,
    /// The largest useful scroll offset per pane, as of the last frame drawn. Written by the
    /// view (it alone knows the pane sizes), read by `update` to clamp scrolling.
    pub(in crate::tui) max_scroll: std::cell::Cell<Scroll>,
    /// Where the last frame drew each pane, popup and popup row: written by the view, read
    /// by the mouse (a click lands on what was drawn, with no second copy of the layout).
    pub(in crate::tui) hits: std::cell::RefCell<HitMap>,
    pub(in crate::tui) city: CityBox,
    /// The city histories of the profiles not active now, by name (the active one's is in
    /// `city`); swapped on every switch, remembered across runs.
    pub(in crate::tui) histories: std::collections::HashMap<String, Vec<String>>,
    pub(in crate::tui) activity: ActivityLog,
    /// A one-line message in the footer, cleared by the next key.
    pub(in crate::tui) status: Option<(Level, String)>,
    /// The sandbox tenant as the active profile's client sees it (demo, or a local sandbox).
    pub(in crate::tui) demo: Option<DemoState>,
    /// Probe for a local sandbox's admin routes at start and on every switch.
    sandbox_admin: bool,
    /// Numbers calls across all profiles, so a cancelled call's late answer is recognised.
    seq: u64,
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
            active: ProfileId(active),
            focus: Focus::City,
            overlay: Overlay::None,
            raw: false,
            scroll: Scroll::default(),
            claims: ClaimCursor::default(),
            setup_scroll: 0,
            help_scroll: 0,
            compare_selected: active,
            palette: Palette::default(),
            max_scroll: std::cell::Cell::new(Scroll::default()),
            hits: Default::default(),
            city: CityBox::default(),
            histories: Default::default(),
            activity: ActivityLog::default(),
            status: None,
            demo: opts.demo,
            sandbox_admin: opts.sandbox_admin,
            seq: 0,
            effects: Vec::new(),
            dirty: true,
            quit: false,
        };
        // Config problems belong in the log too: at 80 columns the Config pane is hidden.
        app.log_problems(ProfileId(active));
        if app.sandbox_admin {
            app.effects.push(Effect::DemoState {
                profile: ProfileId(active),
            });
        }
        app
    }

    /// Log profile `id`'s config problems, once.
    fn log_problems(&mut self, id: ProfileId) {
        let Some(p) = self.profiles.get_mut(id.0) else {
            return;
        };
        if p.lint_logged {
            return;
        }
        p.lint_logged = true;
        for (level, text) in p.problems(self.now) {
            self.plog(id, level, text);
        }
    }

    /// The active profile.
    pub(in crate::tui) fn cur(&self) -> &ProfileState {
        &self.profiles[self.active.0]
    }

    /// Every profile id, in file order.
    fn ids(&self) -> impl Iterator<Item = ProfileId> + use<> {
        (0..self.profiles.len()).map(ProfileId)
    }

    /// Profile `id` resolved (it can be activated and called).
    fn loads(&self, id: ProfileId) -> bool {
        self.profiles.get(id.0).is_some_and(|p| p.error.is_none())
    }

    /// Every profile, in file order.
    pub fn profiles(&self) -> &[ProfileState] {
        &self.profiles
    }
    /// Index of the active profile in [`App::profiles`].
    pub fn active(&self) -> usize {
        self.active.0
    }

    /// Set the time used for countdowns and log stamps (the main loop does this before
    /// every update; tests pin it).
    pub fn set_now(&mut self, now: DateTime<Utc>) {
        self.now = now;
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
        self.city.value()
    }
    pub fn raw(&self) -> bool {
        self.raw
    }
    pub fn scroll(&self) -> Scroll {
        Scroll {
            activity: self.activity.back,
            ..self.scroll
        }
    }
    pub fn activity(&self) -> impl Iterator<Item = &Entry> {
        self.activity.iter()
    }
    pub fn status(&self) -> Option<&str> {
        self.status.as_ref().map(|(_, s)| s.as_str())
    }
    pub fn input_error(&self) -> Option<&str> {
        self.city.error.as_deref()
    }
    /// The active profile's call in flight.
    pub fn in_flight(&self) -> Option<&InFlight> {
        self.cur().call.as_ref()
    }
    /// The active profile's last finished call.
    pub fn last_call(&self) -> Option<&Completed> {
        self.cur().last.as_ref()
    }
    pub fn is_demo(&self) -> bool {
        self.demo.is_some()
    }
    /// Config lint findings of the active profile, errors first.
    pub fn lint(&self) -> &[LintLine] {
        &self.cur().lint
    }
    /// The active profile's token manager state, as last published.
    pub fn token_snapshot(&self) -> Option<&TokenSnapshot> {
        self.cur().snapshot.as_ref()
    }
    /// The active profile's token was verified and every check passed.
    pub fn token_verified(&self) -> bool {
        matches!(self.verification(), Some(v @ Verification::Done(_))
            if v.worst() <= Some(crate::diagnose::Severity::Info))
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

    pub(in crate::tui) fn local(&self, t: DateTime<Utc>) -> String {
        t.with_timezone(&self.offset)
            .format("%Y-%m-%d %H:%M:%S")
            .to_string()
    }
    pub(in crate::tui) fn clock(&self, t: DateTime<Utc>) -> String {
        t.with_timezone(&self.offset).format("%H:%M:%S").to_string()
    }

    /// Log a line about the active profile.
    fn log(&mut self, level: Level, text: impl Into<String>) {
        self.plog(self.active, level, text);
    }

    /// Log a line about the dashboard as a whole (shown whichever profile is active).
    fn glog(&mut self, level: Level, text: impl Into<String>) {
        self.activity.push(self.now, level, text, None, None);
    }

    /// Log a line about profile `id`: tagged with its name unless it is the active one.
    fn plog(&mut self, id: ProfileId, level: Level, text: impl Into<String>) {
        self.plog_fold(id, level, None, text);
    }

    /// [`App::plog`], folding into the previous line when it has the same `fold` key.
    fn plog_fold(
        &mut self,
        id: ProfileId,
        level: Level,
        fold: Option<&'static str>,
        text: impl Into<String>,
    ) {
        let text = text.into();
        let text = if id == self.active {
            text
        } else {
            let name = self
                .profiles
                .get(id.0)
                .map(|p| p.name.clone())
                .unwrap_or_default();
            format!("[{name}] {text}")
        };
        self.activity.push(self.now, level, text, Some(id), fold);
    }

    fn set_status(&mut self, level: Level, text: impl Into<String>) {
        self.status = Some((level, sanitize(&text.into(), false)));
    }

    /// Handle one message.
    pub fn update(&mut self, msg: Msg) {
        self.dirty = true;
        match msg {
            Msg::Key(k) => self.on_key(k),
            Msg::Mouse(m) => self.on_mouse(m),
            Msg::Paste(text) => {
                if self.focus == Focus::City && self.overlay == Overlay::None {
                    self.city.paste(&text);
                }
            }
            Msg::Resize | Msg::Tick => {}
            Msg::Token { profile, update } if profile.0 < self.profiles.len() => {
                self.on_token_update(profile, *update)
            }
            Msg::Token { .. } => self.dirty = false,
            Msg::ApiResult {
                profile,
                seq,
                sent,
                result,
            } => self.on_api_result(profile, seq, sent, result),
            Msg::Verified {
                profile,
                generation,
                checks,
            } => self.on_verified(profile, generation, checks),
            Msg::RefreshDone { profile, result } => {
                // Background profiles' failures show in their token state.
                if let Err(e) = result
                    && profile == self.active
                {
                    self.set_status(Level::Error, format!("refresh failed: {}", e.summary()));
                }
            }
            Msg::Copied { what, result } => self.on_copied(what, result),
            Msg::AdminDone {
                profile,
                op,
                result,
            } => self.on_admin_done(profile, op, result),
            Msg::Demo { profile, state } => {
                if profile == self.active {
                    self.demo = state.map(|s| *s);
                }
            }
            Msg::Setup { profile, result } if profile.0 < self.profiles.len() => {
                self.on_setup(profile, result)
            }
            Msg::Setup { .. } => self.dirty = false,
            Msg::Waiting { profile, progress } if profile.0 < self.profiles.len() => {
                self.on_waiting(profile, progress)
            }
            Msg::WaitDone {
                profile,
                role,
                result,
            } if profile.0 < self.profiles.len() => self.on_wait_done(profile, role, result),
            Msg::Waiting { .. } | Msg::WaitDone { .. } => self.dirty = false,
            Msg::Warning(w) => self.glog(Level::Warn, w),
            Msg::Quit => self.quit = true,
        }
    }

    fn on_admin_done(&mut self, id: ProfileId, op: AdminOp, result: Result<String, String>) {
        match result {
            Ok(text) => {
                self.log(Level::Info, format!("sandbox: {text}"));
                match op {
                    AdminOp::RenewSecret => {
                        self.effects.push(Effect::ReloadCredential { profile: id })
                    }
                    AdminOp::TokenLifetime(_) => {
                        self.log(Level::Info, "fetching a token with the new lifetime");
                        self.effects.push(Effect::Refresh { profile: id });
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
        }
    }

    /// The demo popup's operations, in order.
    fn admin_ops(&self) -> Vec<AdminOp> {
        self.demo.as_ref().map(DemoState::ops).unwrap_or_default()
    }

    fn apply_admin(&mut self, i: usize) {
        let Some(op) = self.admin_ops().get(i).cloned() else {
            return;
        };
        self.overlay = Overlay::None;
        self.effects.push(Effect::Admin {
            profile: self.active,
            op,
        });
    }

    fn refresh(&mut self, id: ProfileId) {
        self.log(Level::Info, "refresh requested");
        self.effects.push(Effect::Refresh { profile: id });
    }

    /// Open the profile picker on the active profile.
    fn open_picker(&mut self) {
        self.overlay = Overlay::Profiles {
            selected: self.active.0,
        };
    }

    /// Open the compare view, starting the token managers it needs to fill every row (and
    /// reading each profile's set-up, for the "granted" column).
    fn open_compare(&mut self) {
        self.overlay = Overlay::Compare;
        self.compare_selected = self.active.0;
        let unread: Vec<ProfileId> = self
            .ids()
            .filter(|id| self.loads(*id) && matches!(self.profiles[id.0].setup, SetupRead::Unread))
            .collect();
        for id in unread {
            self.read_setup(id, false);
        }
        let start: Vec<ProfileId> = self
            .ids()
            .filter(|id| self.loads(*id) && !self.profiles[id.0].started)
            .collect();
        if !start.is_empty() {
            for id in &start {
                self.profiles[id.0].started = true;
            }
            self.glog(
                Level::Info,
                format!(
                    "compare: requesting tokens for {} more profiles",
                    start.len()
                ),
            );
            self.effects.push(Effect::StartProfiles(start));
        }
    }

    /// Make profile `id` the active one (its token manager starts if it has not yet; the
    /// others keep running).
    fn switch_to(&mut self, id: ProfileId) {
        let Some(p) = self.profiles.get(id.0) else {
            return;
        };
        if let Some(e) = &p.error {
            let text = format!("cannot switch to {}: it does not load: {e}", p.name);
            self.set_status(Level::Error, text);
            return;
        }
        self.overlay = Overlay::None;
        if id == self.active {
            let text = format!("{} is already the active profile", p.name);
            self.set_status(Level::Info, text);
            return;
        }
        // Each profile has its own city history.
        let old = self.cur().name.clone();
        let mine = self.histories.remove(&self.profiles[id.0].name);
        self.histories.insert(old, self.city.history().to_vec());
        self.city.set_history(mine.unwrap_or_default());
        self.active = id;
        self.first_claim();
        self.scroll.token = 0;
        self.scroll.weather = 0;
        self.scroll.config = 0;
        let started = self.cur().started;
        let name = self.cur().name.clone();
        let state = match self.cur().token_summary(self.now) {
            (_, s) if started => s,
            _ => "requesting a token".into(),
        };
        self.profiles[id.0].started = true;
        self.log(Level::Info, format!("switched to profile {name} ({state})"));
        self.log_problems(id);
        if !started {
            self.effects.push(Effect::StartProfiles(vec![id]));
        }
        if self.demo.is_some() || self.sandbox_admin {
            self.effects.push(Effect::DemoState { profile: id });
        }
    }
}

#[cfg(test)]
mod tests;
