//! What the token manager publishes: the token it holds ([`CachedToken`]), the state it is
//! in ([`Phase`], [`TokenSnapshot`] with its status line) and what just happened
//! ([`TokenEvent`], [`TokenUpdate`]). Plain data with the rules for reading it (servable,
//! due for refresh); the serving and refreshing itself is in the parent module.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::auth::cache::CacheEntry;
use crate::auth::{TokenError, TokenResponse};
use crate::secret::AccessToken;
use crate::time::sub_std;

/// A token the manager holds.
#[derive(Debug, Clone)]
pub struct CachedToken {
    pub access_token: AccessToken,
    pub token_type: String,
    pub acquired_at: DateTime<Utc>,
    pub expires_on: DateTime<Utc>,
    pub ext_expires_on: Option<DateTime<Utc>>,
    pub refresh_on: Option<DateTime<Utc>>,
    pub source: TokenSource,
    /// Which of the manager's tokens this is (1 for the first; see
    /// [`TokenSnapshot::generation`]). Lets a front end tell which token a call was sent with.
    pub generation: u64,
    /// The token endpoint's `Date` header, when it sent a usable one with this token (none
    /// for a token read from the persistent cache): `diagnose::skew` compares it with
    /// [`acquired_at`](Self::acquired_at) and the token's own times.
    pub server_date: Option<DateTime<Utc>>,
}

/// Where the current token came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenSource {
    Network,
    Cache,
}

impl CachedToken {
    pub(super) fn from_response(r: &TokenResponse, generation: u64) -> Self {
        CachedToken {
            generation,
            access_token: r.access_token.clone(),
            token_type: r.token_type.clone(),
            acquired_at: r.requested_at,
            expires_on: r.expires_on(),
            ext_expires_on: r.ext_expires_on(),
            refresh_on: r.refresh_on().or_else(|| {
                // MSAL: tokens living 2 hours or more refresh at half life.
                (r.expires_in >= 7200).then(|| r.half_life())
            }),
            source: TokenSource::Network,
            server_date: r.server_date,
        }
    }

    pub(super) fn from_entry(e: CacheEntry, generation: u64) -> Self {
        CachedToken {
            generation,
            access_token: AccessToken::new(e.access_token),
            token_type: e.token_type,
            acquired_at: e.acquired_at,
            expires_on: e.expires_on,
            ext_expires_on: e.ext_expires_on,
            refresh_on: e.refresh_on,
            source: TokenSource::Cache,
            server_date: None,
        }
    }

    /// Servable by MSAL's rule: expires more than `buffer` from `now`.
    pub fn servable(&self, now: DateTime<Utc>, buffer: Duration) -> bool {
        sub_std(self.expires_on, self.buffer_for(buffer)) > now
    }
    /// Not yet expired at all.
    pub fn valid(&self, now: DateTime<Utc>) -> bool {
        self.expires_on > now
    }
    /// Past `refresh_on`.
    pub fn wants_refresh(&self, now: DateTime<Utc>) -> bool {
        self.refresh_on.is_some_and(|r| now >= r)
    }
    /// Total lifetime.
    pub fn lifetime(&self) -> chrono::Duration {
        self.expires_on - self.acquired_at
    }
    /// When the background refresher should fetch a new one: the earlier of `refresh_on` and
    /// `expires_on − margin`, but never before half life (so a token shorter than twice the
    /// margin is refreshed at half life instead of immediately, over and over).
    pub fn next_refresh(&self, margin: Duration) -> DateTime<Utc> {
        let half_life = crate::time::add(self.acquired_at, self.lifetime() / 2);
        let by_margin = sub_std(self.expires_on, margin).max(half_life);
        match self.refresh_on {
            Some(r) => by_margin.min(r),
            None => by_margin,
        }
    }

    /// The MSAL expiry buffer, shrunk to half the lifetime for very short tokens (otherwise a
    /// 4-minute token would never be servable and every call would fetch a new one).
    fn buffer_for(&self, buffer: Duration) -> Duration {
        let half = (self.lifetime() / 2).to_std().unwrap_or(Duration::ZERO);
        buffer.min(half)
    }
}

/// What the manager is doing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Phase {
    /// Nothing requested yet.
    Idle,
    /// First acquisition in flight.
    Acquiring,
    /// A token is held and nothing is wrong.
    Fresh,
    /// A refresh is in flight (the current token is still served).
    Refreshing,
    /// The last fetch failed; the next attempt is at `at`.
    Retrying { at: DateTime<Utc>, attempt: u32 },
    /// The last fetch failed in a way no retry can fix (a wrong or expired secret, an
    /// unknown app, a bad scope, …): the background refresher waits for a new attempt asked
    /// for by hand (`r`) instead of filling the tenant's sign-in log. A valid token is still
    /// served.
    Stopped,
    /// The token expired and no new one could be had.
    Expired,
    /// No token could be acquired.
    Failed,
}

/// Everything the UI needs to show about the token, published on every change.
#[derive(Debug, Clone)]
pub struct TokenSnapshot {
    pub phase: Phase,
    pub token: Option<Arc<CachedToken>>,
    /// The most recent failure, cleared by the next success.
    pub last_error: Option<TokenError>,
    /// When the background refresher will fetch next (when running).
    pub next_refresh: Option<DateTime<Utc>>,
    /// Cache problems and similar non-fatal notes.
    pub warnings: Vec<String>,
    /// Token-endpoint requests made by this manager.
    pub network_requests: u64,
    /// Bumped on every new token.
    pub generation: u64,
}

impl TokenSnapshot {
    pub(super) fn initial() -> Self {
        TokenSnapshot {
            phase: Phase::Idle,
            token: None,
            last_error: None,
            next_refresh: None,
            warnings: Vec::new(),
            network_requests: 0,
            generation: 0,
        }
    }

    /// "fresh", "refreshing", "retrying in 4s: connection refused", "expired", …
    pub fn status_line(&self, now: DateTime<Utc>) -> String {
        self.status_with(now, TokenError::short_reason)
    }

    /// [`Self::status_line`] naming a refusal by its AADSTS code alone ("stale (refresh
    /// failed: AADSTS7000222)"), for a front end that shows the whole error beside it.
    pub fn status_line_brief(&self, now: DateTime<Utc>) -> String {
        self.status_with(now, |e| match e.aadsts_code() {
            Some(code) => format!("AADSTS{code}"),
            None => e.short_reason(),
        })
    }

    fn status_with(&self, now: DateTime<Utc>, why: impl Fn(&TokenError) -> String) -> String {
        let reason = || self.last_error.as_ref().map(&why).unwrap_or_default();
        let expired = self.token.as_ref().is_some_and(|t| !t.valid(now));
        match &self.phase {
            Phase::Idle => "no token yet".into(),
            Phase::Acquiring => "acquiring".into(),
            Phase::Fresh if expired => "expired".into(),
            Phase::Fresh if self.last_error.is_some() => {
                format!("stale (refresh failed: {})", reason())
            }
            Phase::Fresh => "fresh".into(),
            Phase::Refreshing => "refreshing".into(),
            Phase::Retrying { at, .. } => {
                let secs = (*at - now).num_seconds().max(0);
                let prefix = if expired { "expired; " } else { "" };
                format!("{prefix}retrying in {secs}s: {}", reason())
            }
            Phase::Expired => "expired".into(),
            Phase::Failed => format!("failed: {}", reason()),
            Phase::Stopped if expired || self.token.is_none() => {
                format!("stopped: {} (fix it, then refresh)", reason())
            }
            Phase::Stopped => format!(
                "stale: {} · the current token is served until it expires",
                reason()
            ),
        }
    }
}

/// Something the manager did. Published with the state it left behind ([`TokenUpdate`]).
#[derive(Debug, Clone)]
pub enum TokenEvent {
    /// A token request started. `first`: the manager's first request ever.
    Requesting { first: bool },
    /// A new token, from the token endpoint or the persistent cache (see
    /// [`CachedToken::source`]).
    NewToken(Arc<CachedToken>),
    /// A token request failed; a still-valid token keeps being served. `repeat`: the same
    /// failure as the previous request's (so a front end need not say it again).
    Failed { error: TokenError, repeat: bool },
    /// The background refresher's next fetch: on schedule, or retry number `retry` after a
    /// failure.
    Scheduled {
        at: DateTime<Utc>,
        retry: Option<u32>,
    },
    /// The background refresher stopped after a failure no retry can fix; it starts again
    /// when a token is asked for by hand.
    Stopped { error: TokenError },
    /// The token expired and no new one could be had.
    Expired,
    /// A non-fatal problem (the token cache could not be read or written).
    Warning(String),
}

/// One [`TokenEvent`] and the manager's state right after it.
#[derive(Debug, Clone)]
pub struct TokenUpdate {
    pub event: TokenEvent,
    pub state: TokenSnapshot,
}
