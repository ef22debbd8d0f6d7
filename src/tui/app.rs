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

use super::msg::{AdminOp, DemoState, Effect, Msg};
use super::theme::Theme;
use crate::api::ApiResponse;
use crate::auth::{Phase, TokenSnapshot, TokenSource};
use crate::config::{Origin, Profile};
use crate::diagnose::Severity;
use crate::jwt::{Check, Claims, DecodedJwt, TokenFormat};
use crate::text::sanitize;
use crate::time::{human_secs, relative};

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
    /// (label, value) rows of the Config pane, sanitised.
    pub(super) config: Vec<(&'static str, String)>,
    pub(super) profile_name: String,
    pub(super) token_endpoint: String,
    pub(super) api_url: String,
    pub(super) expected_roles: Vec<String>,
    /// The profile's scope (raw; for diagnosis, not display).
    pub(super) scope: String,
    /// Config lint, errors first.
    pub(super) lint: Vec<LintLine>,
    pub(super) focus: Focus,
    pub(super) overlay: Overlay,
    pub(super) snapshot: Option<TokenSnapshot>,
    pub(super) decoded: Option<Decoded>,
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
    seq: u64,
    pub(super) call: Option<InFlight>,
    pub(super) last: Option<Completed>,
    pub(super) activity: VecDeque<Entry>,
    /// A one-line message in the footer, cleared by the next key.
    pub(super) status: Option<(Level, String)>,
    pub(super) demo: Option<DemoState>,
    effects: Vec<Effect>,
    dirty: bool,
    quit: bool,
}

impl App {
    pub fn new(profile: &Profile, opts: AppOptions) -> App {
        let origin = |o: &Origin| match o {
            Origin::File => String::new(),
            Origin::EnvVar(v) => format!(" (from {v})"),
        };
        let s = |v: &str| sanitize(v, false);
        let mut config = vec![
            ("profile", s(&profile.name)),
            (
                "authority",
                format!(
                    "{}{}",
                    s(&profile.authority),
                    origin(&profile.authority_origin)
                ),
            ),
            (
                "tenant",
                profile
                    .tenant
                    .as_deref()
                    .map(s)
                    .unwrap_or_else(|| "(none)".into()),
            ),
            (
                "client id",
                format!(
                    "{}{}",
                    s(&profile.client_id),
                    origin(&profile.client_id_origin)
                ),
            ),
            ("auth", {
                use crate::config::{Credential, PathSource, SecretSource};
                let kind = profile.credential.kind();
                match &profile.credential {
                    Credential::Secret { source, .. }
                        if opts.demo.is_some() && *source == SecretSource::Inline =>
                    {
                        format!(
                            "{kind}, from the sandbox tenant (inline in the generated demo config)"
                        )
                    }
                    Credential::Secret { source, .. } => {
                        format!("{kind}, from {}", s(&source.to_string()))
                    }
                    Credential::Certificate { cert, source, .. } => {
                        let from = match source {
                            PathSource::File => String::new(),
                            PathSource::EnvVar(v) => format!(" (from {v})"),
                        };
                        format!(
                            "{kind} {}{from}",
                            s(&cert.info().path.display().to_string())
                        )
                    }
                    Credential::Federated { token, source } => {
                        let from = match source {
                            PathSource::File => String::new(),
                            PathSource::EnvVar(v) => format!(" (from {v})"),
                        };
                        format!(
                            "{kind} file {}{from}",
                            s(&token.path().display().to_string())
                        )
                    }
                }
            }),
            ("scope", s(&profile.scope)),
        ];
        if let Some(exp) = profile.secret_expires {
            let when = exp
                .with_timezone(&opts.utc_offset)
                .format("%Y-%m-%d")
                .to_string();
            let note = if exp <= opts.now {
                format!("{when} (EXPIRED {})", relative(exp, opts.now))
            } else if exp - opts.now < chrono::Duration::days(30) {
                format!("{when} (soon: {})", relative(exp, opts.now))
            } else {
                when
            };
            config.push(("renew by", note));
        }
        config.extend([
            ("API", s(&profile.api_url)),
            (
                "expects",
                if profile.expected_roles.is_empty() {
                    "(no expected_roles configured)".into()
                } else {
                    s(&profile.expected_roles.join(", "))
                },
            ),
            (
                "timeouts",
                format!(
                    "connect {} · total {}",
                    human_secs(profile.connect_timeout.as_secs() as i64),
                    human_secs(profile.timeout.as_secs() as i64)
                ),
            ),
        ]);
        if let Some(ca) = &profile.ca_file {
            config.push(("CA file", s(&ca.display().to_string())));
        }
        config.push((
            "file",
            profile
                .config_path
                .as_ref()
                .map(|p| s(&p.display().to_string()))
                .unwrap_or_else(|| "(none)".into()),
        ));
        let mut lint: Vec<LintLine> = crate::diagnose::lint::lint(profile, opts.now)
            .into_iter()
            .map(|f| LintLine {
                sandbox: opts.demo.is_some() && f.field == "client_secret",
                severity: f.severity,
                text: s(&f.message),
                fix: s(&f.fix),
            })
            .collect();
        lint.sort_by_key(|l| std::cmp::Reverse(l.severity));
        let mut app = App {
            now: opts.now,
            offset: opts.utc_offset,
            theme: opts.theme,
            config,
            profile_name: s(&profile.name),
            token_endpoint: s(&profile.token_endpoint),
            api_url: s(&profile.api_url),
            expected_roles: profile.expected_roles.clone(),
            scope: profile.scope.clone(),
            lint,
            focus: Focus::City,
            overlay: Overlay::None,
            snapshot: None,
            decoded: None,
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
            call: None,
            last: None,
            activity: VecDeque::new(),
            status: None,
            demo: opts.demo,
            effects: Vec::new(),
            dirty: true,
            quit: false,
        };
        // Config problems belong in the log too: at 80 columns the Config pane is hidden.
        let problems: Vec<(Level, String)> = app
            .lint
            .iter()
            .filter(|l| !l.sandbox && l.severity >= Severity::Warning)
            .map(|l| {
                let level = if l.severity == Severity::Error {
                    Level::Error
                } else {
                    Level::Warn
                };
                (level, format!("config: {} — {}", l.text, l.fix))
            })
            .collect();
        for (level, text) in problems {
            app.log(level, text);
        }
        app
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
    pub fn in_flight(&self) -> Option<&InFlight> {
        self.call.as_ref()
    }
    pub fn last_call(&self) -> Option<&Completed> {
        self.last.as_ref()
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
        match &self.decoded.as_ref()?.format {
            TokenFormat::Jwt(j) => Some(j),
            TokenFormat::Opaque { .. } => None,
        }
    }

    /// Where the verification of the current token stands.
    pub fn verification(&self) -> Option<&Verification> {
        self.decoded.as_ref()?.verification.as_ref()
    }

    /// Config lint findings, errors first.
    pub fn lint(&self) -> &[LintLine] {
        &self.lint
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
            Msg::Token(snap) => self.on_token(*snap),
            Msg::ApiResult { seq, result } => {
                let Some(call) = self.call.take_if(|c| c.seq == seq) else {
                    // A cancelled call's late answer.
                    self.dirty = false;
                    return;
                };
                let advice = result.as_ref().ok().and_then(|r| {
                    super::explain::advice(r, self.claims(), &self.expected_roles, &self.scope)
                });
                match &result {
                    Ok(r) => {
                        let why = advice.as_ref().map(|a| a.summary.clone());
                        let level = match r.status {
                            200..=299 => Level::Good,
                            401 | 403 => Level::Warn,
                            _ => Level::Error,
                        };
                        let mut text = format!("GET {} → {} in {}", call.city, r.status, latency(r.latency));
                        if let Some(why) = why {
                            text.push_str(&format!(": {why}"));
                        }
                        self.log(level, text);
                    }
                    Err(e) => {
                        let first = e.to_string();
                        let first = first.lines().next().unwrap_or_default().to_string();
                        self.log(Level::Error, format!("GET {} failed: {first}", call.city));
                    }
                }
                self.scroll.weather = 0;
                self.last = Some(Completed {
                    city: call.city,
                    at: self.now,
                    result: result.map_err(|e| sanitize(&e.to_string(), true)),
                    advice,
                });
            }
            Msg::Verified { generation, checks } => self.on_verified(generation, checks),
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

    fn on_token(&mut self, snap: TokenSnapshot) {
        let prev = self.snapshot.take();
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
            let selected = self.selected_claim();
            self.decoded = Some(Decoded {
                generation: snap.generation,
                format: crate::jwt::inspect(t.access_token.expose()),
                verification: None,
            });
            self.scroll.token = 0;
            self.claim_offset.set(0);
            // Keep the same claim selected across refreshes.
            self.claim = selected
                .and_then(|name| self.claim_names().iter().position(|n| *n == name))
                .unwrap_or(0);
            self.verify_token(t.access_token.clone());
            let roles = match self.claims() {
                Some(c) if c.roles.is_empty() => "no roles".to_string(),
                Some(c) => format!("roles {}", c.roles.join(", ")),
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
            self.log(
                Level::Good,
                format!(
                    "{verb}, expires {} · {roles}",
                    relative(t.expires_on, self.now)
                ),
            );
        }
        let err = snap.last_error.as_ref().map(|e| e.to_string());
        if let Some(e) = &err
            && Some(e) != prev_err.as_ref()
        {
            let first = e.lines().next().unwrap_or_default();
            self.log(Level::Error, format!("token request failed: {first}"));
        }
        if prev_phase.as_ref() != Some(&snap.phase) {
            match &snap.phase {
                Phase::Retrying { at, attempt } => self.log(
                    Level::Warn,
                    format!("retry #{attempt} scheduled {}", relative(*at, self.now)),
                ),
                Phase::Expired => self.log(
                    Level::Error,
                    "the token expired and no new one could be had",
                ),
                Phase::Acquiring if prev_phase.is_none() || prev_phase == Some(Phase::Idle) => {
                    self.log(Level::Info, "requesting a token")
                }
                _ => {}
            }
        }
        if snap.next_refresh != prev_next
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
        for w in snap.warnings.iter().skip(prev_warnings) {
            let w = w.clone();
            self.log(Level::Warn, w);
        }
        self.snapshot = Some(snap);
    }

    /// Ask the runtime to verify the current token (again).
    fn verify_current(&mut self) {
        if let Some(t) = self.snapshot.as_ref().and_then(|s| s.token.clone()) {
            self.verify_token(t.access_token.clone());
        }
    }

    fn verify_token(&mut self, token: crate::secret::AccessToken) {
        let Some(d) = self.decoded.as_mut() else {
            return;
        };
        let TokenFormat::Jwt(jwt) = &d.format else {
            return;
        };
        d.verification = Some(Verification::Pending);
        self.effects.push(Effect::VerifyToken {
            generation: d.generation,
            token,
            jwt: jwt.clone(),
        });
    }

    fn on_verified(&mut self, generation: u64, checks: Vec<Check>) {
        let Some(d) = self.decoded.as_mut().filter(|d| d.generation == generation) else {
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
        d.verification = Some(Verification::Done(checks.clone()));
        if problems.is_empty() {
            self.log(
                Level::Good,
                format!("token verified: {} ✓", names.join(", ")),
            );
        }
        for (level, text) in problems {
            self.log(level, text);
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
                    match self.snapshot.as_ref().and_then(|s| s.token.clone()) {
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
                if self.snapshot.as_ref().is_some_and(|s| s.token.is_some()) {
                    self.overlay = Overlay::ConfirmCopy;
                } else {
                    self.set_status(Level::Warn, "no token to copy yet");
                }
            }
            KeyCode::Char('?') => self.overlay = Overlay::Help,
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
        let raw = self.input.value().to_string();
        let city = match crate::api::validate_city(&raw) {
            Ok(c) => c.to_string(),
            Err(e) => {
                let text = e.to_string();
                self.input_error = Some(sanitize(&text, false));
                self.focus = Focus::City;
                return;
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
        if let Some(old) = self.call.take() {
            self.log(Level::Info, format!("cancelled the call for {}", old.city));
        }
        self.seq += 1;
        self.call = Some(InFlight {
            seq: self.seq,
            city: city.clone(),
            started: self.now,
        });
        self.effects.push(Effect::CallApi {
            seq: self.seq,
            city,
        });
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
        self.snapshot.as_ref()
    }
}

#[cfg(test)]
mod tests;
