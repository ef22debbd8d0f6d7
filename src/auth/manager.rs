//! The token manager: one owner of "the current token for a profile", shared by the headless
//! commands and the TUI.
//!
//! - Serves a token by MSAL's rules: only while it expires more than 5 minutes from now; after
//!   `refresh_on` a refresh is attempted first and, if it fails, the still-valid token is
//!   served and the failure reported.
//! - Single flight: however many callers ask at once, at most one token request is in flight
//!   — across processes too, with a persistent cache: the entry's lock is taken before the
//!   cache is read for a missing token, so processes started together make one request and
//!   the others read its result.
//! - An optional background refresher fetches a new token at the earlier of `refresh_on` and
//!   `expires_on − refresh_margin` (at most at half life for short tokens), backing off
//!   exponentially with jitter on failure (2 s … 60 s, honouring `Retry-After`), while the
//!   current token keeps being served until it really expires.
//! - Publishes what happened as a [`TokenUpdate`] (a [`TokenEvent`] and the state it left
//!   behind) on a broadcast channel, and the latest [`TokenSnapshot`] on a `watch` channel.
//!   Front ends log and react to events; they never diff snapshots to find out what changed.
//!
//! Owns the serving rules and the refresh schedule. Fetches through the token endpoint
//! client (or a test's fetcher) and the cache; it knows nothing of how its state is shown.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::{Mutex, broadcast, watch};

use super::cache::{CACHE_VERSION, CacheEntry, CacheKey, TokenCache};
use super::{TokenError, TokenResponse};
use crate::config::Profile;
use crate::problem::Problem;
use crate::time::{Clock, add_std};

mod state;
pub use state::{CachedToken, Phase, TokenEvent, TokenSnapshot, TokenSource, TokenUpdate};

/// How long a process waits for another one's token request on the same cache entry
/// (longer than the default request timeout, so a slow identity provider is waited for).
const CACHE_LOCK_WAIT: Duration = Duration::from_secs(40);

/// Updates a subscriber can fall behind by before it misses some (it then gets
/// `RecvError::Lagged` and can resynchronise from [`TokenHandle::snapshot`]).
const EVENT_CAPACITY: usize = 256;

/// Tunables.
#[derive(Debug, Clone, Copy)]
pub struct ManagerOptions {
    /// Serve a token only while it expires more than this from now (MSAL: 5 minutes).
    pub expiry_buffer: Duration,
    /// The background refresher fetches this long before expiry (default 5 minutes).
    pub refresh_margin: Duration,
    pub backoff_initial: Duration,
    pub backoff_max: Duration,
    pub clock: Clock,
}

impl Default for ManagerOptions {
    fn default() -> Self {
        ManagerOptions {
            expiry_buffer: Duration::from_secs(300),
            refresh_margin: Duration::from_secs(300),
            backoff_initial: Duration::from_secs(2),
            backoff_max: Duration::from_secs(60),
            clock: Clock::System,
        }
    }
}

type FetchFuture = Pin<Box<dyn Future<Output = Result<TokenResponse, TokenError>> + Send>>;
/// How a token is fetched from the network (the real token endpoint in production).
pub type Fetcher = Arc<dyn Fn() -> FetchFuture + Send + Sync>;

struct Inner {
    fetcher: Fetcher,
    cache: Option<(TokenCache, CacheKey, String)>,
    opts: ManagerOptions,
    state: watch::Sender<TokenSnapshot>,
    events: broadcast::Sender<TokenUpdate>,
    /// The generation of the last token whose expiry (with no replacement) was announced.
    expired_announced: AtomicU64,
    /// Held while a fetch is in flight: single flight.
    flight: Mutex<()>,
}

/// Builds token managers.
pub struct TokenManager;

impl TokenManager {
    /// A manager for `profile` that fetches with the real token endpoint.
    pub fn for_profile(
        profile: &Profile,
        http: reqwest::Client,
        cache: Option<TokenCache>,
        opts: ManagerOptions,
    ) -> TokenHandle {
        let p = Arc::new(profile.clone());
        let fetcher: Fetcher = Arc::new(move || {
            let p = p.clone();
            let http = http.clone();
            Box::pin(async move { super::request_token(&http, &p).await })
        });
        let cache = cache.map(|c| (c, CacheKey::for_profile(profile), profile.name.clone()));
        Self::with_fetcher(fetcher, cache, opts)
    }

    /// A manager with any fetcher (tests drive timing with a scripted one).
    pub fn with_fetcher(
        fetcher: Fetcher,
        cache: Option<(TokenCache, CacheKey, String)>,
        opts: ManagerOptions,
    ) -> TokenHandle {
        let (state, _) = watch::channel(TokenSnapshot::initial());
        let (events, _) = broadcast::channel(EVENT_CAPACITY);
        TokenHandle {
            inner: Arc::new(Inner {
                fetcher,
                cache,
                opts,
                state,
                events,
                expired_announced: AtomicU64::new(0),
                flight: Mutex::new(()),
            }),
        }
    }
}

/// A cheap, clonable handle to one manager.
#[derive(Clone)]
pub struct TokenHandle {
    inner: Arc<Inner>,
}

impl TokenHandle {
    /// Follow the manager's state.
    pub fn subscribe(&self) -> watch::Receiver<TokenSnapshot> {
        self.inner.state.subscribe()
    }

    /// Follow what the manager does, from now on.
    pub fn events(&self) -> broadcast::Receiver<TokenUpdate> {
        self.inner.events.subscribe()
    }

    pub fn snapshot(&self) -> TokenSnapshot {
        self.inner.state.borrow().clone()
    }

    /// Change the state and tell subscribers what happened.
    fn publish(&self, event: TokenEvent, change: impl FnOnce(&mut TokenSnapshot)) {
        self.inner.state.send_modify(change);
        let state = self.inner.state.borrow().clone();
        // No subscriber is fine: the CLI only reads the state.
        let _ = self.inner.events.send(TokenUpdate { event, state });
    }

    fn next_generation(&self) -> u64 {
        self.inner.state.borrow().generation + 1
    }

    fn now(&self) -> DateTime<Utc> {
        self.inner.opts.clock.now()
    }

    fn current(&self) -> Option<Arc<CachedToken>> {
        self.inner.state.borrow().token.clone()
    }

    fn good(&self, t: &CachedToken, now: DateTime<Utc>) -> bool {
        t.servable(now, self.inner.opts.expiry_buffer) && !t.wants_refresh(now)
    }

    /// The token to use now, fetching one only when needed (single flight).
    pub async fn token(&self) -> Result<Arc<CachedToken>, TokenError> {
        if let Some(t) = self.current()
            && self.good(&t, self.now())
        {
            return Ok(t);
        }
        let _flight = self.inner.flight.lock().await;
        let now = self.now();
        if let Some(t) = self.current()
            && self.good(&t, now)
        {
            return Ok(t);
        }
        // Held until this fetch is stored: another process waits, then finds it on disk.
        let _entry = self.lock_entry().await;
        let now = self.now();
        if self.current().is_none()
            && let Some(t) = self.load_from_disk(now)
            && self.good(&t, now)
        {
            return Ok(t);
        }
        self.fetch_locked().await
    }

    /// The cross-process lock of this manager's cache entry, waited for up to
    /// [`CACHE_LOCK_WAIT`]; `None` without a cache, or when it cannot be had (then this
    /// process fetches on its own, with a warning).
    async fn lock_entry(&self) -> Option<super::EntryLock> {
        let (cache, key, _) = self.inner.cache.as_ref()?;
        let started = std::time::Instant::now();
        let mut pause = Duration::from_millis(5);
        loop {
            let problem = match cache.try_lock(key) {
                Ok(Some(lock)) => return Some(lock),
                Ok(None) if started.elapsed() < CACHE_LOCK_WAIT => {
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(Duration::from_millis(100));
                    continue;
                }
                Ok(None) => format!(
                    "another tokenscope has held the token cache lock for {}s; requesting a token without waiting",
                    CACHE_LOCK_WAIT.as_secs()
                ),
                Err(e) => e.full_text(),
            };
            self.publish(TokenEvent::Warning(problem.clone()), |s| {
                s.warnings.push(problem)
            });
            return None;
        }
    }

    /// Fetch a new token now, whatever the current one's state (the `r` key).
    pub async fn refresh_now(&self) -> Result<Arc<CachedToken>, TokenError> {
        let _flight = self.inner.flight.lock().await;
        self.fetch_locked().await
    }

    /// Load a servable token from the persistent cache into the state.
    fn load_from_disk(&self, now: DateTime<Utc>) -> Option<Arc<CachedToken>> {
        let (cache, key, _) = self.inner.cache.as_ref()?;
        match cache.load(key) {
            Ok(Some(entry)) => {
                let t = CachedToken::from_entry(entry, self.next_generation());
                if !t.servable(now, self.inner.opts.expiry_buffer) {
                    return None;
                }
                let t = Arc::new(t);
                self.publish(TokenEvent::NewToken(t.clone()), |s| {
                    s.token = Some(t.clone());
                    s.phase = Phase::Fresh;
                    s.generation = t.generation;
                });
                Some(t)
            }
            Ok(None) => None,
            Err(e) => {
                let w = e.full_text();
                self.publish(TokenEvent::Warning(w.clone()), |s| s.warnings.push(w));
                None
            }
        }
    }

    /// Fetch from the network; the caller holds the flight lock.
    async fn fetch_locked(&self) -> Result<Arc<CachedToken>, TokenError> {
        let had = self.current();
        let first = self.inner.state.borrow().network_requests == 0;
        self.publish(TokenEvent::Requesting { first }, |s| {
            s.phase = if had.is_some() {
                Phase::Refreshing
            } else {
                Phase::Acquiring
            };
            s.network_requests += 1;
        });
        let result = (self.inner.fetcher)().await;
        let now = self.now();
        match result {
            Ok(resp) => {
                let t = Arc::new(CachedToken::from_response(&resp, self.next_generation()));
                let mut warning = None;
                if let Some((cache, key, profile)) = &self.inner.cache {
                    let entry = CacheEntry {
                        version: CACHE_VERSION,
                        key: key.clone(),
                        profile: profile.clone(),
                        token_type: t.token_type.clone(),
                        access_token: t.access_token.expose().to_string(),
                        acquired_at: t.acquired_at,
                        expires_on: t.expires_on,
                        ext_expires_on: t.ext_expires_on,
                        refresh_on: t.refresh_on,
                    };
                    if let Err(e) = cache.store(&entry) {
                        warning = Some(e.full_text());
                    }
                }
                self.publish(TokenEvent::NewToken(t.clone()), |s| {
                    s.token = Some(t.clone());
                    s.phase = Phase::Fresh;
                    s.last_error = None;
                    s.generation = t.generation;
                });
                if let Some(w) = warning {
                    self.publish(TokenEvent::Warning(w.clone()), |s| s.warnings.push(w));
                }
                Ok(t)
            }
            Err(e) => {
                let fallback = had.clone().filter(|t| t.valid(now));
                let repeat = self
                    .inner
                    .state
                    .borrow()
                    .last_error
                    .as_ref()
                    .is_some_and(|prev| prev.to_string() == e.to_string());
                let phase = match (&fallback, &had) {
                    (Some(_), _) => Phase::Fresh,
                    (None, Some(_)) => Phase::Expired,
                    (None, None) => Phase::Failed,
                };
                // Say once per token that it expired with no replacement, not on every retry.
                let newly_expired = phase == Phase::Expired
                    && had.as_ref().is_some_and(|t| {
                        self.inner
                            .expired_announced
                            .swap(t.generation, Ordering::Relaxed)
                            != t.generation
                    });
                let error = e.clone();
                self.publish(TokenEvent::Failed { error, repeat }, |s| {
                    s.last_error = Some(e.clone());
                    s.phase = phase;
                });
                if newly_expired {
                    self.publish(TokenEvent::Expired, |_| {});
                }
                fallback.ok_or(e)
            }
        }
    }

    /// Run the background refresher until the returned guard is dropped.
    pub fn spawn_refresher(&self) -> RefresherGuard {
        let this = self.clone();
        RefresherGuard(tokio::spawn(async move { this.refresher().await }))
    }

    async fn refresher(self) {
        let mut rx = self.subscribe();
        let mut attempt: u32 = 0;
        let mut retry_at: Option<DateTime<Utc>> = None;
        loop {
            let now = self.now();
            let target = match (retry_at, self.current()) {
                (Some(at), _) => at,
                (None, Some(t)) => t.next_refresh(self.inner.opts.refresh_margin),
                (None, None) => now,
            };
            if retry_at.is_none() && self.inner.state.borrow().next_refresh != Some(target) {
                self.publish(
                    TokenEvent::Scheduled {
                        at: target,
                        retry: None,
                    },
                    |s| s.next_refresh = Some(target),
                );
            }
            let wait = (target - now).to_std().unwrap_or(Duration::ZERO);
            let gen_before = rx.borrow_and_update().generation;
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                changed = rx.changed() => {
                    if changed.is_err() { return; }
                    // A new token arrived by another path (refresh_now, token()): reschedule.
                    if rx.borrow().generation != gen_before {
                        attempt = 0;
                        retry_at = None;
                    }
                    continue;
                }
            }
            let _flight = self.inner.flight.lock().await;
            // Someone else may have refreshed while we waited for the lock.
            if let Some(t) = self.current()
                && retry_at.is_none()
                && self.now() < t.next_refresh(self.inner.opts.refresh_margin)
            {
                continue;
            }
            let _ = self.fetch_locked().await;
            match self.snapshot().last_error {
                None => {
                    attempt = 0;
                    retry_at = None;
                }
                Some(e) if !e.is_transient() => {
                    drop(_flight);
                    attempt = 0;
                    retry_at = None;
                    let error = e.clone();
                    self.publish(TokenEvent::Stopped { error }, |s| {
                        s.phase = Phase::Stopped;
                        s.next_refresh = None;
                    });
                    // Until a new token arrives by another path (`r`, a call): then the
                    // schedule starts again from it.
                    loop {
                        let gen_before = rx.borrow_and_update().generation;
                        if rx.changed().await.is_err() {
                            return;
                        }
                        if rx.borrow().generation != gen_before {
                            break;
                        }
                        // A request by hand failed the same way: still stopped.
                        let again = {
                            let s = rx.borrow();
                            s.phase != Phase::Stopped
                                && !matches!(s.phase, Phase::Acquiring | Phase::Refreshing)
                                && s.last_error.as_ref().is_some_and(|e| !e.is_transient())
                        };
                        if again {
                            self.inner.state.send_modify(|s| s.phase = Phase::Stopped);
                        }
                    }
                }
                Some(_) => {
                    attempt += 1;
                    let err = self.snapshot().last_error;
                    let delay = backoff(
                        attempt,
                        self.inner.opts.backoff_initial,
                        self.inner.opts.backoff_max,
                        err.as_ref().and_then(TokenError::retry_after),
                        rand::random::<f64>(),
                    );
                    let at = add_std(self.now(), delay);
                    retry_at = Some(at);
                    let event = TokenEvent::Scheduled {
                        at,
                        retry: Some(attempt),
                    };
                    self.publish(event, |s| {
                        s.phase = Phase::Retrying { at, attempt };
                        s.next_refresh = Some(at);
                    });
                }
            }
        }
    }
}

/// Delay before retry `attempt` (1-based): `initial · 2^(attempt-1)` capped at `max`, with
/// ±20 % jitter (`unit` in 0..1), never below the server's `Retry-After`.
pub fn backoff(
    attempt: u32,
    initial: Duration,
    max: Duration,
    retry_after: Option<Duration>,
    unit: f64,
) -> Duration {
    let exp = initial.saturating_mul(1u32 << attempt.saturating_sub(1).min(16));
    let base = exp.min(max);
    let jitter = 0.8 + 0.4 * unit.clamp(0.0, 1.0);
    let d = base.mul_f64(jitter).min(max);
    match retry_after {
        Some(r) => d.max(r),
        None => d,
    }
}

/// Stops the background refresher when dropped.
pub struct RefresherGuard(tokio::task::JoinHandle<()>);

impl Drop for RefresherGuard {
    fn drop(&mut self) {
        self.0.abort();
    }
}

#[cfg(test)]
mod tests;
