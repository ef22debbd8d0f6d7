//! The main loop and the effects it performs.
//!
//! One `tokio::select!` over the terminal's events, the background channel of [`Msg`]s, the
//! token manager's `watch` channel and a 1 Hz tick. Every message goes through
//! [`App::update`]; the effects it queues are performed here by spawning tasks that report
//! back on the channel. Nothing that can wait on the network runs on this task, so typing
//! stays responsive while an identity provider or API stalls.

use std::io;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crossterm::event::Event;
use futures_util::{Stream, StreamExt};
use ratatui::Terminal;
use ratatui::backend::Backend;
use ratatui::buffer::Buffer;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

use super::app::App;
use super::msg::{AdminOp, CallError, DemoState, Effect, Msg};
use super::view::view;
use crate::auth::{ManagerOptions, TokenCache, TokenHandle, TokenManager, TokenSnapshot};
use crate::config::{Credential, Profile, SecretSource};
use crate::jwt::{Expectations, Verifier};
use crate::problem::Problem as _;
use crate::sandbox::SandboxHandle;
use crate::secret::ClientSecret;
use crate::time::{Clock, human_secs};

/// Test hook for start-up benchmarks (`benches/tui_startup.sh`): when the environment
/// variable `TOKENSCOPE_EXIT_AFTER_FIRST_FRAME` is `1`, the dashboard quits right after
/// drawing its first frame; when it is `token`, after the first frame that shows a token.
/// Not a user feature.
pub const EXIT_HOOK_ENV: &str = "TOKENSCOPE_EXIT_AFTER_FIRST_FRAME";

/// Test hook for the terminal-safety tests (`tests/terminal_pty.rs`): when
/// `TOKENSCOPE_TEST_PANIC=1`, the first key press panics inside the loop, so the test can
/// check that the panic hook gives the terminal back. Not a user feature.
pub const PANIC_HOOK_ENV: &str = "TOKENSCOPE_TEST_PANIC";

/// When the test hook ends the loop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ExitAfter {
    FirstFrame,
    FirstToken,
}

/// Capacity of the background channel. Tasks wait when it is full; the loop drains it.
const CHANNEL: usize = 256;

/// Where `y` sends the access token.
#[derive(Debug, Clone)]
pub enum Clipboard {
    /// OSC 52 written to standard output (the terminal the dashboard draws on).
    Osc52,
    /// Kept in memory (tests).
    Memory(Arc<Mutex<Vec<String>>>),
}

impl Clipboard {
    fn copy(&self, text: &str) -> Result<usize, String> {
        match self {
            Clipboard::Osc52 => {
                use base64::Engine as _;
                use std::io::Write as _;
                let b64 = base64::engine::general_purpose::STANDARD.encode(text);
                let mut out = io::stdout().lock();
                write!(out, "\x1b]52;c;{b64}\x07")
                    .and_then(|()| out.flush())
                    .map_err(|e| e.to_string())?;
                Ok(text.len())
            }
            Clipboard::Memory(m) => {
                m.lock()
                    .map_err(|_| "clipboard lock poisoned".to_string())?
                    .push(text.to_string());
                Ok(text.len())
            }
        }
    }
}

/// The sandbox the demo runs against.
#[derive(Clone)]
pub struct DemoSetup {
    pub sandbox: Arc<SandboxHandle>,
    /// The API's app roles (the sandbox's tenant model).
    pub api_roles: Vec<String>,
}

struct Demo {
    setup: DemoSetup,
    /// The client the profile signs in as (name in the sandbox).
    client: String,
    lifetime: Arc<Mutex<Option<Duration>>>,
}

impl Demo {
    fn state(&self) -> Option<DemoState> {
        demo_state(&self.setup, &self.client, &self.lifetime)
    }
}

fn demo_state(
    setup: &DemoSetup,
    client: &str,
    lifetime: &Mutex<Option<Duration>>,
) -> Option<DemoState> {
    let c = setup.sandbox.client(client)?;
    let has_secret = c.has_secret();
    Some(DemoState {
        client: c.name,
        api_roles: setup.api_roles.clone(),
        granted: c.granted_roles,
        required_role: setup.sandbox.required_role(),
        token_lifetime: lifetime.lock().ok().and_then(|l| *l),
        secret_expired: c.secret_expired,
        has_secret,
    })
}

/// Aborts a task when dropped.
struct AbortOnDrop(JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// One profile's running token manager.
struct Manager {
    token: TokenHandle,
    rx: watch::Receiver<TokenSnapshot>,
    /// The first token fetch, then the background refresher (aborted on drop).
    _refresher: AbortOnDrop,
}

/// One profile as the runtime knows it: `None` for a profile that did not load.
struct Slot {
    profile: Option<Profile>,
    /// Built on first use (a profile's CA file and timeouts shape its client).
    http: Option<reqwest::Client>,
    manager: Option<Manager>,
    /// The call in flight for this profile (a new call for it replaces it).
    call: Option<JoinHandle<()>>,
    /// The verification in flight; a newer token's replaces it.
    verify: Option<JoinHandle<()>>,
}

/// Everything the loop needs besides the [`App`]: a token manager per profile started so
/// far (they all keep refreshing; the active one drives the panes), the HTTP clients, the
/// background channel, the calls in flight.
pub struct Runtime {
    slots: Vec<Slot>,
    /// Index of the active profile in `slots`.
    active: usize,
    cache: Option<TokenCache>,
    demo: Option<Demo>,
    tx: mpsc::Sender<Msg>,
    rx: mpsc::Receiver<Msg>,
    /// One verifier for the whole session, so its discovery and JWKS caches work across
    /// tokens (a rotated key costs one refetch, not one per token).
    verifier: Arc<Verifier>,
    clipboard: Clipboard,
    clock: Clock,
    frames: Option<watch::Sender<Buffer>>,
    exit_after: Option<ExitAfter>,
}

impl Runtime {
    /// Start the token manager for `profile` (first fetch right away, then the background
    /// refresher). Must be called inside a tokio runtime.
    pub fn new(
        profile: Profile,
        http: reqwest::Client,
        cache: Option<TokenCache>,
        demo: Option<DemoSetup>,
        clipboard: Clipboard,
    ) -> Runtime {
        let slot = Slot {
            profile: Some(profile),
            http: Some(http),
            manager: None,
            call: None,
            verify: None,
        };
        Runtime::build(vec![slot], 0, cache, demo, clipboard)
    }

    /// A runtime for every profile of a config file (`None` for one that did not load), in
    /// the order [`App::with_profiles`] got them; `http` is the active profile's client.
    /// Only `active`'s token manager starts now; the others start when first switched to or
    /// when the compare view asks.
    pub fn with_profiles(
        profiles: Vec<Option<Profile>>,
        active: usize,
        http: reqwest::Client,
        cache: Option<TokenCache>,
        demo: Option<DemoSetup>,
        clipboard: Clipboard,
    ) -> Runtime {
        let slots = profiles
            .into_iter()
            .enumerate()
            .map(|(i, profile)| Slot {
                http: (i == active && profile.is_some()).then(|| http.clone()),
                profile,
                manager: None,
                call: None,
                verify: None,
            })
            .collect();
        Runtime::build(slots, active, cache, demo, clipboard)
    }

    fn build(
        slots: Vec<Slot>,
        active: usize,
        cache: Option<TokenCache>,
        demo: Option<DemoSetup>,
        clipboard: Clipboard,
    ) -> Runtime {
        let (tx, rx) = mpsc::channel(CHANNEL);
        let active = if slots.get(active).is_some_and(|s| s.profile.is_some()) {
            active
        } else {
            slots.iter().position(|s| s.profile.is_some()).unwrap_or(0)
        };
        let verifier_http = slots
            .get(active)
            .and_then(|s| s.http.clone())
            .or_else(|| {
                slots
                    .get(active)
                    .and_then(|s| s.profile.as_ref())
                    .and_then(|p| crate::http::client(&p.http_options()).ok())
            })
            .unwrap_or_default();
        let mut rt = Runtime {
            verifier: Arc::new(Verifier::new(verifier_http)),
            slots,
            active,
            cache,
            demo: None,
            tx,
            rx,
            clipboard,
            clock: Clock::System,
            frames: None,
            exit_after: None,
        };
        rt.ensure_started(active);
        // The initial state is handed over by `run`, not as a change.
        if let Some(m) = rt.slots.get_mut(active).and_then(|s| s.manager.as_mut()) {
            m.rx.borrow_and_update();
        }
        rt.demo = demo.map(|setup| {
            let client = rt.demo_client(&setup, active);
            Demo {
                setup,
                client,
                lifetime: Arc::new(Mutex::new(None)),
            }
        });
        rt
    }

    /// The sandbox client profile `i` signs in as.
    fn demo_client(&self, setup: &DemoSetup, i: usize) -> String {
        let profile = self.slots.get(i).and_then(|s| s.profile.as_ref());
        profile
            .and_then(|p| setup.sandbox.client(&p.client_id).map(|c| c.name))
            .or_else(|| profile.map(|p| p.name.clone()))
            .unwrap_or_default()
    }

    /// Start profile `i`'s token manager unless it runs already. Its first state reaches the
    /// loop as a change.
    fn ensure_started(&mut self, i: usize) {
        let cache = self.cache.clone();
        let Some(slot) = self.slots.get_mut(i) else {
            return;
        };
        if slot.manager.is_some() {
            return;
        }
        let Some(profile) = &slot.profile else { return };
        if slot.http.is_none() {
            match crate::http::client(&profile.http_options()) {
                Ok(c) => slot.http = Some(c),
                Err(e) => {
                    tracing::warn!(profile = %profile.name, error = %e, "cannot build the HTTP client");
                    let _ = self.tx.try_send(Msg::Warning(format!(
                        "[{}] cannot set up the HTTP client: {}",
                        profile.name,
                        e.full_text()
                    )));
                    return;
                }
            }
        }
        let Some(http) = &slot.http else { return };
        // A profile with `cache = false` stays out of the shared token cache.
        let cache = cache.filter(|_| profile.cache);
        let (token, mut rx, refresher) = start_manager(profile, http, cache);
        rx.mark_changed();
        slot.manager = Some(Manager {
            token,
            rx,
            _refresher: refresher,
        });
    }

    /// A sender into the loop (signal handlers, tests).
    pub fn sender(&self) -> mpsc::Sender<Msg> {
        self.tx.clone()
    }

    /// The active profile's token manager.
    ///
    /// # Panics
    /// Never in practice: the active profile's manager starts with the runtime.
    pub fn token_handle(&self) -> &TokenHandle {
        match self.slots.get(self.active).and_then(|s| s.manager.as_ref()) {
            Some(m) => &m.token,
            None => unreachable!("the active profile's token manager runs from the start"),
        }
    }

    /// The sandbox state for a new [`App`] in demo mode.
    pub fn demo_state(&self) -> Option<DemoState> {
        self.demo.as_ref().and_then(Demo::state)
    }

    /// Read [`EXIT_HOOK_ENV`] (the start-up benchmark's hook).
    pub(crate) fn exit_hook_from_env(&mut self) {
        self.exit_after = match std::env::var(EXIT_HOOK_ENV).ok().as_deref() {
            Some("1") => Some(ExitAfter::FirstFrame),
            Some("token") => Some(ExitAfter::FirstToken),
            _ => None,
        };
    }

    /// Every frame drawn from now on is published here (tests read the screen from it).
    pub fn frames(&mut self) -> watch::Receiver<Buffer> {
        let (tx, rx) = watch::channel(Buffer::default());
        self.frames = Some(tx);
        rx
    }

    /// Perform one effect. Never blocks on the network.
    pub fn perform(&mut self, effect: Effect) {
        match effect {
            Effect::CallApi { profile, seq, city } => {
                self.ensure_started(profile);
                let tx = self.tx.clone();
                let Some(slot) = self.slots.get_mut(profile) else {
                    return;
                };
                // A new call replaces the one in flight for the same profile.
                if let Some(old) = slot.call.take() {
                    old.abort();
                }
                let (Some(p), Some(http), Some(m)) = (&slot.profile, &slot.http, &slot.manager)
                else {
                    let _ = tx.try_send(Msg::ApiResult {
                        seq,
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
                    let result = match token.token().await {
                        Ok(t) => crate::api::call_weather(&http, &template, &city, &t.access_token)
                            .await
                            .map(Box::new)
                            .map_err(CallError::Api),
                        Err(e) => Err(CallError::Token(e)),
                    };
                    let _ = tx.send(Msg::ApiResult { seq, result }).await;
                }));
            }
            Effect::RefreshToken => {
                let token = self.token_handle().clone();
                let tx = self.tx.clone();
                tokio::spawn(async move {
                    let r = token.refresh_now().await;
                    let _ = tx
                        .send(Msg::RefreshDone(r.map(|_| ()).map_err(|e| e.to_string())))
                        .await;
                });
            }
            Effect::RefreshAll => {
                for (i, slot) in self.slots.iter().enumerate() {
                    let Some(m) = &slot.manager else { continue };
                    let token = m.token.clone();
                    // Only the active profile's outcome goes to the footer; the others'
                    // failures show in their token state.
                    let tx = (i == self.active).then(|| self.tx.clone());
                    tokio::spawn(async move {
                        let r = token.refresh_now().await;
                        if let Some(tx) = tx {
                            let r = r.map(|_| ()).map_err(|e| e.to_string());
                            let _ = tx.send(Msg::RefreshDone(r)).await;
                        }
                    });
                }
            }
            Effect::VerifyToken {
                profile,
                generation,
                token,
                jwt,
            } => {
                let Some(slot) = self.slots.get_mut(profile) else {
                    return;
                };
                let Some(p) = &slot.profile else { return };
                if let Some(old) = slot.verify.take() {
                    old.abort();
                }
                let verifier = self.verifier.clone();
                let expect = Expectations::from(p);
                let tx = self.tx.clone();
                slot.verify = Some(tokio::spawn(async move {
                    let checks = verifier.verify(token.expose(), &jwt, &expect).await;
                    let _ = tx
                        .send(Msg::Verified {
                            profile,
                            generation,
                            checks,
                        })
                        .await;
                }));
            }
            Effect::CopyToken(t) => {
                let r = self.clipboard.copy(t.expose());
                let _ = self.tx.try_send(Msg::Copied(r));
            }
            Effect::Admin(op) => self.admin(op),
            Effect::ReloadCredential => self.reload_credential(),
            Effect::SwitchProfile(i) => self.switch(i),
            Effect::StartProfiles(list) => {
                for i in list {
                    self.ensure_started(i);
                }
            }
        }
    }

    /// Make profile `i` the active one: `r` and the demo popup act on it from now on.
    fn switch(&mut self, i: usize) {
        if self.slots.get(i).is_none_or(|s| s.profile.is_none()) {
            return;
        }
        let fresh = self.slots[i].manager.is_none();
        self.ensure_started(i);
        self.active = i;
        if !fresh && let Some(m) = self.slots[i].manager.as_mut() {
            // Hand the App the manager's current state even if it has not changed since
            // the App last heard of it as a background profile.
            m.rx.mark_changed();
        }
        let client = self.demo.as_ref().map(|d| self.demo_client(&d.setup, i));
        if let (Some(demo), Some(client)) = (self.demo.as_mut(), client) {
            demo.client = client;
            if let Some(state) = demo.state() {
                let _ = self.tx.try_send(Msg::Demo(Box::new(state)));
            }
        }
    }

    fn admin(&mut self, op: AdminOp) {
        let Some(demo) = &self.demo else {
            let _ = self.tx.try_send(Msg::AdminDone {
                op,
                result: Err("admin operations need `tokenscope demo`".into()),
            });
            return;
        };
        let setup = demo.setup.clone();
        let client = demo.client.clone();
        let lifetime = demo.lifetime.clone();
        let tx = self.tx.clone();
        tokio::spawn(async move {
            let sb = &setup.sandbox;
            let err = |e: crate::sandbox::SandboxError| e.to_string();
            let result = match &op {
                AdminOp::GrantRole(r) => sb
                    .grant_role(&client, r)
                    .map(|()| format!("granted {r} to {client}"))
                    .map_err(err),
                AdminOp::RevokeRole(r) => sb
                    .revoke_role(&client, r)
                    .map(|()| format!("revoked {r} from {client}"))
                    .map_err(err),
                AdminOp::RequireRole(r) => sb
                    .set_required_role(r)
                    .map(|()| format!("the weather API now requires {r}"))
                    .map_err(err),
                AdminOp::TokenLifetime(d) => {
                    sb.set_token_lifetime(*d);
                    if let Ok(mut l) = lifetime.lock() {
                        *l = *d;
                    }
                    Ok(match d {
                        Some(d) => format!("new tokens live {}", human_secs(d.as_secs() as i64)),
                        None => "new tokens live 60–90 minutes again".into(),
                    })
                }
                AdminOp::RotateKey => sb
                    .rotate_signing_key()
                    .await
                    .map(|kid| {
                        format!(
                            "rotated the signing key (new kid {kid}); the old key stays published, so current tokens still validate"
                        )
                    })
                    .map_err(err),
                AdminOp::ExpireSecret => sb
                    .expire_secret(&client)
                    .map(|()| {
                        format!("{client}'s secrets expired: the next token request fails (AADSTS7000222)")
                    })
                    .map_err(err),
                AdminOp::RenewSecret => sb
                    .renew_secret(&client)
                    .map(|_| format!("added a new secret to {client}; the dashboard switches to it"))
                    .map_err(err),
            };
            let _ = tx.send(Msg::AdminDone { op, result }).await;
            if let Some(state) = demo_state(&setup, &client, &lifetime) {
                let _ = tx.send(Msg::Demo(Box::new(state))).await;
            }
        });
    }

    /// The demo client's secret was renewed: the active profile signs in with the new one
    /// from now on.
    fn reload_credential(&mut self) {
        let Some(demo) = &self.demo else { return };
        let Some(info) = demo.setup.sandbox.client(&demo.client) else {
            return;
        };
        let cache = self.cache.clone();
        let Some(slot) = self.slots.get_mut(self.active) else {
            return;
        };
        let (Some(profile), Some(http)) = (slot.profile.as_mut(), slot.http.as_ref()) else {
            return;
        };
        profile.credential = Credential::Secret {
            secret: ClientSecret::new(info.secret.clone()),
            source: SecretSource::Inline,
        };
        let (token, rx, refresher) = start_manager(profile, http, cache);
        // Replacing the manager aborts the old refresher.
        slot.manager = Some(Manager {
            token,
            rx,
            _refresher: refresher,
        });
    }

    /// The loop. Returns when the app wants to quit or the input ends.
    async fn run<B, S>(
        &mut self,
        app: &mut App,
        terminal: &mut Terminal<B>,
        input: S,
    ) -> anyhow::Result<()>
    where
        B: Backend,
        B::Error: Send + Sync + 'static,
        S: Stream<Item = io::Result<Event>>,
    {
        let mut input = std::pin::pin!(input);
        let panic_on_key = std::env::var(PANIC_HOOK_ENV).is_ok_and(|v| v == "1");
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        app.set_now(self.clock.now());
        if let Some(m) = self
            .slots
            .get_mut(self.active)
            .and_then(|s| s.manager.as_mut())
        {
            let first = m.rx.borrow_and_update().clone();
            app.update(Msg::Token(Box::new(first)));
        }
        loop {
            for effect in app.take_effects() {
                self.perform(effect);
            }
            if app.should_quit() {
                break;
            }
            if app.needs_redraw() {
                let frame = terminal.draw(|f| view(app, f))?;
                if let Some(frames) = &self.frames {
                    frames.send_replace(frame.buffer.clone());
                }
                let done = match self.exit_after {
                    None => false,
                    Some(ExitAfter::FirstFrame) => true,
                    Some(ExitAfter::FirstToken) => app.claims().is_some(),
                };
                if done {
                    break;
                }
            }
            // Not biased: a busy channel must not starve keys, nor keys the channel.
            let msg = tokio::select! {
                ev = input.next() => match ev {
                    Some(Ok(Event::Key(_))) if panic_on_key => {
                        panic!("{PANIC_HOOK_ENV}=1: forced panic on the first key (test hook)")
                    }
                    Some(Ok(ev)) => match from_event(ev) {
                        Some(m) => m,
                        None => continue,
                    },
                    Some(Err(e)) => {
                        tracing::error!(error = %e, "terminal input failed");
                        return Err(anyhow::Error::new(e).context("reading terminal input"));
                    }
                    None => Msg::Quit,
                },
                Some(msg) = self.rx.recv() => msg,
                changed = token_changed(&mut self.slots) => match changed {
                    Some(i) => match self.slots[i].manager.as_mut() {
                        Some(m) => {
                            let snap = Box::new(m.rx.borrow_and_update().clone());
                            if i == self.active {
                                Msg::Token(snap)
                            } else {
                                Msg::ProfileToken { profile: i, snap }
                            }
                        }
                        None => continue,
                    },
                    // The manager is gone (it is being replaced); nothing to show.
                    None => continue,
                },
                _ = tick.tick() => Msg::Tick,
            };
            app.set_now(self.clock.now());
            app.update(msg);
        }
        for slot in &mut self.slots {
            for task in [slot.call.take(), slot.verify.take()].into_iter().flatten() {
                task.abort();
            }
        }
        Ok(())
    }
}

impl App {
    /// Run the dashboard: draw on `terminal`, read `input` (crossterm's `EventStream`, or a
    /// scripted stream in tests), until quit.
    pub async fn run<B, S>(
        &mut self,
        runtime: &mut Runtime,
        terminal: &mut Terminal<B>,
        input: S,
    ) -> anyhow::Result<()>
    where
        B: Backend,
        B::Error: Send + Sync + 'static,
        S: Stream<Item = io::Result<Event>>,
    {
        runtime.run(self, terminal, input).await
    }
}

/// A terminal event as a message; `None` for events the dashboard ignores.
fn from_event(ev: Event) -> Option<Msg> {
    match ev {
        Event::Key(k) => Some(Msg::Key(k)),
        Event::Paste(p) => Some(Msg::Paste(p)),
        Event::Resize(..) => Some(Msg::Resize),
        _ => None,
    }
}

/// Wait until one of the running token managers publishes a new state; its index, or `None`
/// when that manager is gone. Never resolves while no manager runs.
async fn token_changed(slots: &mut [Slot]) -> Option<usize> {
    let waits: Vec<_> = slots
        .iter_mut()
        .enumerate()
        .filter_map(|(i, s)| s.manager.as_mut().map(|m| (i, m)))
        .map(|(i, m)| Box::pin(async move { m.rx.changed().await.ok().map(|()| i) }))
        .collect();
    if waits.is_empty() {
        return std::future::pending().await;
    }
    futures_util::future::select_all(waits).await.0
}

fn start_manager(
    profile: &Profile,
    http: &reqwest::Client,
    cache: Option<TokenCache>,
) -> (TokenHandle, watch::Receiver<TokenSnapshot>, AbortOnDrop) {
    let token = TokenManager::for_profile(profile, http.clone(), cache, ManagerOptions::default());
    let rx = token.subscribe();
    let h = token.clone();
    let task = tokio::spawn(async move {
        // The first token right away (from the cache when it is good), then keep it fresh.
        let _ = h.token().await;
        let _refresher = h.spawn_refresher();
        std::future::pending::<()>().await;
    });
    (token, rx, AbortOnDrop(task))
}
