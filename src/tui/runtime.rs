//! The main loop and the effects it performs.
//!
//! One `tokio::select!` over the terminal's events, the background channel of [`Msg`]s and a
//! 1 Hz tick. Every message goes through [`App::update`]; the effects it queues are performed
//! here by spawning tasks that report back on the channel. Nothing that can wait on the
//! network runs on this task, so typing stays responsive while an identity provider or API
//! stalls.
//!
//! The runtime holds no UI state: every effect names the profile it is about, and each
//! profile's token manager reports through its own forwarding task as [`Msg::Token`] with
//! the profile's id. Demo-only work is in [`super::demo`].

use std::io;
use std::sync::Arc;
use std::time::Duration;

use crossterm::event::Event;
use futures_util::{FutureExt as _, Stream, StreamExt};
use ratatui::Terminal;
use ratatui::backend::Backend;
use ratatui::buffer::Buffer;
use tokio::sync::{broadcast, mpsc, watch};
use tokio::task::JoinHandle;

mod clipboard;
mod effects;
mod input;

pub use clipboard::Clipboard;
use input::{from_input, next_interrupt};

use super::app::App;
use super::demo::DemoSetup;
use super::msg::{Effect, Msg, ProfileId};
use super::terminal::Interrupt;
use super::view::view;
use crate::auth::{ManagerOptions, TokenCache, TokenHandle, TokenManager};
use crate::config::{Credential, Profile, SecretSource};
use crate::jwt::{Expectations, Verifier};
use crate::problem::Problem as _;
use crate::secret::ClientSecret;
use crate::time::Clock;

/// Test hook for start-up benchmarks (`benches/tui_startup.sh`): when the environment
/// variable `TOKENSCOPE_EXIT_AFTER_FIRST_FRAME` is `1`, the dashboard quits right after
/// drawing its first frame; when it is `token`, after the first frame that shows a token
/// whose verification passed. Not a user feature.
pub const EXIT_HOOK_ENV: &str = "TOKENSCOPE_EXIT_AFTER_FIRST_FRAME";

/// Test hook for the terminal-safety tests (`tests/terminal_pty.rs`): when
/// `TOKENSCOPE_TEST_PANIC=1`, the first key press panics inside the loop; with `task`, it
/// panics in a background task. The tests check that the terminal is given back and the
/// dashboard ends. Not a user feature.
pub const PANIC_HOOK_ENV: &str = "TOKENSCOPE_TEST_PANIC";

/// Where [`PANIC_HOOK_ENV`] makes the dashboard panic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PanicIn {
    Loop,
    Task,
}

/// When the test hook ends the loop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ExitAfter {
    FirstFrame,
    VerifiedToken,
}

/// Capacity of the background channel. Tasks wait when it is full; the loop drains it.
const CHANNEL: usize = 256;

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
    /// The first token fetch, then the background refresher, and the task forwarding the
    /// manager's events into the loop (all aborted on drop).
    _tasks: [AbortOnDrop; 2],
}

/// One profile as the runtime knows it: `profile` is `None` for one that did not load.
struct Slot {
    profile: Option<Profile>,
    /// Built on first use (a profile's CA file and timeouts shape its client).
    http: Option<reqwest::Client>,
    manager: Option<Manager>,
    /// The call in flight for this profile (a new call for it replaces it).
    call: Option<JoinHandle<()>>,
    /// The verification in flight; a newer token's replaces it.
    verify: Option<JoinHandle<()>>,
    /// A wait for a role to reach the tokens (Setup view, `w`).
    wait: Option<JoinHandle<()>>,
}

/// Everything the loop needs besides the [`App`]: a token manager per profile started so
/// far (they all keep refreshing), the HTTP clients, the background channel, the calls in
/// flight.
pub struct Runtime {
    /// Indexed by [`ProfileId`].
    slots: Vec<Slot>,
    cache: Option<TokenCache>,
    demo: Option<DemoSetup>,
    tx: mpsc::Sender<Msg>,
    rx: mpsc::Receiver<Msg>,
    /// One verifier for the whole session, so its discovery and JWKS caches work across
    /// tokens (a rotated key costs one refetch, not one per token).
    verifier: Arc<Verifier>,
    clipboard: Clipboard,
    clock: Clock,
    frames: Option<watch::Sender<Buffer>>,
    exit_after: Option<ExitAfter>,
    /// Signals and panics from the terminal session; `None` in tests (no real terminal, so
    /// no suspending either).
    interrupts: Option<mpsc::UnboundedReceiver<Interrupt>>,
}

/// Messages handled between two frames at most: a burst of input (a paste, a flood of
/// background results) costs one frame, and still cannot hold the screen back for long.
const BATCH: usize = 4096;

impl Runtime {
    /// A runtime for one profile. Must be called inside a tokio runtime.
    pub fn new(
        profile: Profile,
        http: reqwest::Client,
        cache: Option<TokenCache>,
        demo: Option<DemoSetup>,
        clipboard: Clipboard,
    ) -> Runtime {
        Runtime::with_profiles(vec![Some(profile)], 0, http, cache, demo, clipboard)
    }

    /// A runtime for every profile of a config file (`None` for one that did not load), in
    /// the order [`App::with_profiles`] got them; `http` is profile `first`'s client (and
    /// the verifier's). Only `first`'s token manager starts now; the others start when the
    /// App asks ([`Effect::StartProfiles`]). Must be called inside a tokio runtime.
    pub fn with_profiles(
        profiles: Vec<Option<Profile>>,
        first: usize,
        http: reqwest::Client,
        cache: Option<TokenCache>,
        demo: Option<DemoSetup>,
        clipboard: Clipboard,
    ) -> Runtime {
        let (tx, rx) = mpsc::channel(CHANNEL);
        let slots = profiles
            .into_iter()
            .enumerate()
            .map(|(i, profile)| Slot {
                http: (i == first && profile.is_some()).then(|| http.clone()),
                profile,
                manager: None,
                call: None,
                verify: None,
                wait: None,
            })
            .collect();
        let mut rt = Runtime {
            verifier: Arc::new(Verifier::new(http)),
            slots,
            cache,
            demo,
            tx,
            rx,
            clipboard,
            clock: Clock::System,
            frames: None,
            exit_after: None,
            interrupts: None,
        };
        rt.ensure_started(ProfileId(first));
        rt
    }

    /// Start profile `id`'s token manager unless it runs already (or the profile did not
    /// load).
    fn ensure_started(&mut self, id: ProfileId) {
        let cache = self.cache.clone();
        let tx = self.tx.clone();
        let Some(slot) = self.slots.get_mut(id.0) else {
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
                    let _ = tx.try_send(Msg::Warning(format!(
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
        slot.manager = Some(start_manager(id, profile, http, cache, tx));
    }

    /// A sender into the loop (signal handlers, tests).
    pub fn sender(&self) -> mpsc::Sender<Msg> {
        self.tx.clone()
    }

    /// Profile `id`'s token manager, once started.
    pub fn token_handle(&self, id: usize) -> Option<&TokenHandle> {
        self.slots.get(id)?.manager.as_ref().map(|m| &m.token)
    }

    /// The sandbox state for a new [`App`] in demo mode, as profile `id`'s client sees it
    /// (the in-process sandbox; a remote one answers [`Effect::DemoState`] later).
    pub fn demo_state(&self, id: usize) -> Option<super::demo::DemoState> {
        let demo = self.demo.as_ref()?;
        let profile = self.slots.get(id)?.profile.as_ref()?;
        demo.state_now(profile)
    }

    /// What an admin task needs for profile `id`: the sandbox glue, the profile and its HTTP
    /// client (its CA file reaches a TLS sandbox). `None` without a sandbox or a client.
    fn admin_parts(&mut self, id: ProfileId) -> Option<(DemoSetup, Profile, reqwest::Client)> {
        let demo = self.demo.clone()?;
        self.ensure_started(id);
        let slot = self.slots.get(id.0)?;
        Some((demo, slot.profile.clone()?, slot.http.clone()?))
    }

    /// Read [`EXIT_HOOK_ENV`] (the start-up benchmark's hook).
    pub(crate) fn exit_hook_from_env(&mut self) {
        self.exit_after = match std::env::var(EXIT_HOOK_ENV).ok().as_deref() {
            Some("1") => Some(ExitAfter::FirstFrame),
            Some("token") => Some(ExitAfter::VerifiedToken),
            _ => None,
        };
    }

    /// Take the terminal session's interrupts (signals, panics): the loop quits, suspends or
    /// redraws for them.
    pub fn attach(&mut self, interrupts: mpsc::UnboundedReceiver<Interrupt>) {
        self.interrupts = Some(interrupts);
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
            Effect::CallApi { profile, seq, city } => self.call(profile, seq, city),
            Effect::Refresh { profile } => {
                let Some(token) = self.token_handle(profile.0).cloned() else {
                    return;
                };
                let tx = self.tx.clone();
                tokio::spawn(async move {
                    let result = token.refresh_now().await.map(|_| ());
                    let _ = tx.send(Msg::RefreshDone { profile, result }).await;
                });
            }
            Effect::VerifyToken {
                profile,
                generation,
                token,
                jwt,
            } => {
                let Some(slot) = self.slots.get_mut(profile.0) else {
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
                    let msg = Msg::Verified {
                        profile,
                        generation,
                        checks,
                    };
                    let _ = tx.send(msg).await;
                }));
            }
            Effect::Copy { what, clip } => {
                let result = self.clipboard.copy(clip.expose());
                let _ = self.tx.try_send(Msg::Copied { what, result });
            }
            Effect::Admin { profile, op } => {
                let Some((demo, p, http)) = self.admin_parts(profile) else {
                    let _ = self.tx.try_send(Msg::AdminDone {
                        profile,
                        op,
                        result: Err("admin operations need `tokenscope demo` or a local `tokenscope sandbox`".into()),
                    });
                    return;
                };
                let tx = self.tx.clone();
                tokio::spawn(async move {
                    let result = demo.apply(&p, &http, &op).await;
                    let _ = tx
                        .send(Msg::AdminDone {
                            profile,
                            op,
                            result,
                        })
                        .await;
                    let state = demo.state(&p, &http).await.map(Box::new);
                    let _ = tx.send(Msg::Demo { profile, state }).await;
                });
            }
            Effect::DemoState { profile } => {
                let Some((demo, p, http)) = self.admin_parts(profile) else {
                    return;
                };
                let tx = self.tx.clone();
                tokio::spawn(async move {
                    let state = demo.state(&p, &http).await.map(Box::new);
                    let _ = tx.send(Msg::Demo { profile, state }).await;
                });
            }
            Effect::ReloadCredential { profile } => self.reload_credential(profile),
            Effect::StartProfiles(list) => {
                for id in list {
                    self.ensure_started(id);
                }
            }
            Effect::ReadSetup { profile, fresh } => self.read_setup(profile, fresh),
            Effect::WaitForRole { profile, role } => self.wait_for_role(profile, role),
            Effect::CancelWait { profile } => {
                if let Some(w) = self.slots.get_mut(profile.0).and_then(|s| s.wait.take()) {
                    w.abort();
                }
            }
            // Needs the terminal: the loop performs it (see `run`).
            Effect::Suspend => {}
        }
    }

    /// Ctrl-Z / SIGTSTP: stop with the terminal given back, then take it again and redraw
    /// everything. Only with a real terminal session.
    fn suspend<B>(&mut self, terminal: &mut Terminal<B>) -> anyhow::Result<()>
    where
        B: Backend,
        B::Error: Send + Sync + 'static,
    {
        if self.interrupts.is_none() {
            return Ok(());
        }
        tracing::info!("suspended");
        super::terminal::suspend()?;
        repaint(terminal)?;
        Ok(())
    }

    /// Profile `id`'s sandbox client got a new secret: it signs in with it from now on.
    fn reload_credential(&mut self, id: ProfileId) {
        let Some(secret) = self.slots.get(id.0).and_then(|slot| {
            let profile = slot.profile.as_ref()?;
            self.demo.as_ref()?.secret_of(profile)
        }) else {
            return;
        };
        let cache = self.cache.clone();
        let tx = self.tx.clone();
        let Some(slot) = self.slots.get_mut(id.0) else {
            return;
        };
        let (Some(profile), Some(http)) = (slot.profile.as_mut(), slot.http.as_ref()) else {
            return;
        };
        profile.credential = Credential::Secret {
            secret: ClientSecret::new(secret),
            source: SecretSource::Inline,
        };
        // Replacing the manager aborts the old one's tasks.
        let cache = cache.filter(|_| profile.cache);
        slot.manager = Some(start_manager(id, profile, http, cache, tx));
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
        // Fused: the batch loop may poll again after the stream ended.
        let mut input = std::pin::pin!(input.fuse());
        let panic_on_key = match std::env::var(PANIC_HOOK_ENV).ok().as_deref() {
            Some("1") => Some(PanicIn::Loop),
            Some("task") => Some(PanicIn::Task),
            _ => None,
        };
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        app.set_now(self.clock.now());
        loop {
            for effect in app.take_effects() {
                if matches!(effect, Effect::Suspend) {
                    self.suspend(terminal)?;
                    app.update(Msg::Resize);
                } else {
                    self.perform(effect);
                }
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
                    Some(ExitAfter::VerifiedToken) => app.token_verified(),
                };
                if done {
                    break;
                }
            }
            // Not biased: a busy channel must not starve keys, nor keys the channel.
            let msg = tokio::select! {
                ev = input.next() => match from_input(ev, panic_on_key)? {
                    Some(m) => m,
                    None => continue,
                },
                Some(msg) = self.rx.recv() => msg,
                Some(i) = next_interrupt(&mut self.interrupts) => match i {
                    Interrupt::Quit(_) => Msg::Quit,
                    Interrupt::Panicked => {
                        anyhow::bail!("a background task panicked (its message is above); the dashboard stopped")
                    }
                    Interrupt::Suspend => {
                        self.suspend(terminal)?;
                        Msg::Resize
                    }
                    Interrupt::Resumed => {
                        super::terminal::resume()?;
                        repaint(terminal)?;
                        Msg::Resize
                    }
                },
                _ = tick.tick() => Msg::Tick,
            };
            app.set_now(self.clock.now());
            app.update(msg);
            // Whatever else is ready now goes in before the next frame.
            for _ in 0..BATCH {
                let ready = match input.next().now_or_never() {
                    Some(ev) => from_input(ev, panic_on_key)?,
                    None => self.rx.try_recv().ok(),
                };
                let Some(msg) = ready else { break };
                app.update(msg);
                if app.should_quit() {
                    break;
                }
            }
        }
        for slot in &mut self.slots {
            for task in [slot.call.take(), slot.verify.take(), slot.wait.take()]
                .into_iter()
                .flatten()
            {
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

/// Blank the screen and forget what was drawn, so the next frame writes every cell (after a
/// stop the shell may have drawn over it). Not `Terminal::clear`, which asks the terminal
/// for the cursor position while the event stream is reading the answer away.
fn repaint<B>(terminal: &mut Terminal<B>) -> anyhow::Result<()>
where
    B: Backend,
    B::Error: Send + Sync + 'static,
{
    terminal
        .backend_mut()
        .clear_region(ratatui::backend::ClearType::All)?;
    // Each swap resets the buffer it leaves behind: after two, both are blank.
    terminal.swap_buffers();
    terminal.swap_buffers();
    Ok(())
}

/// Start profile `id`'s token manager: its events are forwarded into the loop as
/// [`Msg::Token`], then the first token is fetched (from the cache when it is good) and the
/// background refresher keeps it fresh.
fn start_manager(
    id: ProfileId,
    profile: &Profile,
    http: &reqwest::Client,
    cache: Option<TokenCache>,
    tx: mpsc::Sender<Msg>,
) -> Manager {
    let token = TokenManager::for_profile(profile, http.clone(), cache, ManagerOptions::default());
    // Subscribed before the first fetch starts, so no event is missed.
    let mut events = token.events();
    let resync = token.clone();
    let forward = tokio::spawn(async move {
        loop {
            let update = match events.recv().await {
                Ok(u) => u,
                // Fell behind (the loop was busy): the latest state stands in for what was
                // missed, as a warning the user can see.
                Err(broadcast::error::RecvError::Lagged(n)) => crate::auth::TokenUpdate {
                    event: crate::auth::TokenEvent::Warning(format!(
                        "{n} token-manager events were not shown (the dashboard was busy)"
                    )),
                    state: resync.snapshot(),
                },
                Err(broadcast::error::RecvError::Closed) => return,
            };
            let msg = Msg::Token {
                profile: id,
                update: Box::new(update),
            };
            if tx.send(msg).await.is_err() {
                return;
            }
        }
    });
    let h = token.clone();
    let fetch = tokio::spawn(async move {
        let _ = h.token().await;
        let _refresher = h.spawn_refresher();
        std::future::pending::<()>().await;
    });
    Manager {
        token,
        _tasks: [AbortOnDrop(fetch), AbortOnDrop(forward)],
    }
}
