//! Waiting for a grant to propagate: ask a token manager for fresh tokens (bypassing the
//! cache), backing off 2 s, 4 s, … up to 30 s with jitter, until a role shows up in the
//! token or a bound passes. Entra takes seconds to minutes to put a new grant into tokens,
//! and a token issued before the grant never gains it.
//!
//! Used by `tokenscope call --wait-for-role` and the dashboard. Owns the schedule only: it
//! prints nothing (each attempt is reported to the caller's callback) and stops when the
//! caller drops its future (Ctrl-C, Esc). Times come from tokio's clock, so tests run it in
//! paused time.

use std::sync::Arc;
use std::time::Duration;

use crate::auth::{CachedToken, TokenError, TokenHandle};
use crate::jwt::{self, TokenFormat};

/// The first wait between attempts; each later one doubles, up to [`MAX_DELAY`].
pub const FIRST_DELAY: Duration = Duration::from_secs(2);
/// The longest wait between attempts.
pub const MAX_DELAY: Duration = Duration::from_secs(30);
/// The default bound of a wait.
pub const DEFAULT_BOUND: Duration = Duration::from_secs(600);

/// One attempt that did not (yet) bring the role.
#[derive(Debug, Clone)]
pub struct Attempt<'a> {
    /// 1 for the first token asked for.
    pub attempt: u32,
    /// Since the wait began.
    pub elapsed: Duration,
    /// The roles the attempt's token carries (empty: none, or no token).
    pub roles: &'a [String],
    /// A transient failure of this attempt (the wait goes on).
    pub error: Option<&'a TokenError>,
    /// When the next attempt is, from now (`None`: this was the last).
    pub next_in: Option<Duration>,
}

/// A token with the role.
#[derive(Debug, Clone)]
pub struct WaitDone {
    pub token: Arc<CachedToken>,
    /// How many tokens were looked at (1: the current one already had it).
    pub attempts: u32,
    pub elapsed: Duration,
}

/// Why the wait ended without the role.
#[derive(Debug, Clone)]
pub enum WaitError {
    /// The bound passed; the last token carried `roles`.
    TimedOut {
        attempts: u32,
        elapsed: Duration,
        roles: Vec<String>,
    },
    /// The token endpoint refused in a way waiting does not fix (a wrong secret, …).
    Token(TokenError),
}

/// The wait before attempt `attempt + 1` (1-based `attempt`): `2 s · 2^(attempt-1)`, ±20 %
/// jitter (`unit` in 0..1), at most [`MAX_DELAY`].
pub fn delay(attempt: u32, unit: f64) -> Duration {
    let base = FIRST_DELAY.saturating_mul(1u32 << attempt.saturating_sub(1).min(8));
    let jitter = 0.8 + 0.4 * unit.clamp(0.0, 1.0);
    base.min(MAX_DELAY).mul_f64(jitter).min(MAX_DELAY)
}

/// The roles a token carries (none for an opaque one).
fn roles_of(token: &CachedToken) -> Vec<String> {
    match jwt::inspect(token.access_token.expose()) {
        TokenFormat::Jwt(j) => j.claims.roles,
        TokenFormat::Opaque { .. } => Vec::new(),
    }
}

fn has(roles: &[String], role: &str) -> bool {
    roles.iter().any(|r| r.eq_ignore_ascii_case(role))
}

/// Ask `handle` for tokens until one carries `role` or `bound` passes. The current token
/// counts as the first attempt when it already has the role; every later attempt is a fresh
/// token from the token endpoint (which the manager stores in its cache, if it has one).
/// Transient failures (network, 429, 5xx) are reported and waited out; any other failure
/// ends the wait.
pub async fn wait_for_role(
    handle: &TokenHandle,
    role: &str,
    bound: Duration,
    mut on_attempt: impl FnMut(&Attempt),
) -> Result<WaitDone, WaitError> {
    let started = tokio::time::Instant::now();
    // A bound from the command line can be anything (`--wait-timeout 1000000y`).
    let deadline = started
        .checked_add(bound)
        .or_else(|| started.checked_add(Duration::from_secs(365 * 86_400)))
        .unwrap_or(started);
    // The token in hand: free when it is cached, and enough when it has the role already.
    let before = handle.snapshot().network_requests;
    let current = handle.token().await;
    let fetched_now = handle.snapshot().network_requests > before;
    if let Ok(t) = &current
        && has(&roles_of(t), role)
    {
        return Ok(WaitDone {
            token: t.clone(),
            attempts: 1,
            elapsed: started.elapsed(),
        });
    }
    let mut attempt = 0u32;
    // A token just fetched by `token()` is this wait's first attempt; a cached one is not.
    let mut pending = fetched_now.then_some(current);
    loop {
        let got = match pending.take() {
            Some(r) => r,
            None => handle.refresh_now().await,
        };
        attempt += 1;
        // refresh_now serves the old token when the fetch fails: the snapshot says which.
        let failed = handle.snapshot().last_error;
        let (roles, error) = match (&got, failed) {
            (Ok(t), None) => (roles_of(t), None),
            (_, Some(e)) => (Vec::new(), Some(e)),
            (Err(e), None) => (Vec::new(), Some(e.clone())),
        };
        if let (Ok(t), None) = (&got, &error)
            && has(&roles, role)
        {
            return Ok(WaitDone {
                token: t.clone(),
                attempts: attempt,
                elapsed: started.elapsed(),
            });
        }
        if let Some(e) = &error
            && !e.is_transient()
        {
            return Err(WaitError::Token(e.clone()));
        }
        let now = tokio::time::Instant::now();
        let wait = delay(attempt, rand::random::<f64>()).max(
            error
                .as_ref()
                .and_then(TokenError::retry_after)
                .unwrap_or_default(),
        );
        let next_in = (now < deadline).then(|| wait.min(deadline - now));
        on_attempt(&Attempt {
            attempt,
            elapsed: now - started,
            roles: &roles,
            error: error.as_ref(),
            next_in,
        });
        let Some(next_in) = next_in else {
            return Err(WaitError::TimedOut {
                attempts: attempt,
                elapsed: now - started,
                roles,
            });
        };
        tokio::time::sleep(next_in).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::{ManagerOptions, TokenManager, TokenResponse};
    use crate::secret::AccessToken;
    use std::sync::Mutex;

    fn jwt_with(roles: &[&str]) -> String {
        let payload = serde_json::json!({"roles": roles, "aud": "api"});
        format!(
            "{}.{}.{}",
            jwt::b64url(br#"{"alg":"RS256","typ":"JWT"}"#),
            jwt::b64url(payload.to_string().as_bytes()),
            jwt::b64url(b"sig")
        )
    }

    fn response(roles: &[&str]) -> TokenResponse {
        TokenResponse {
            access_token: AccessToken::new(jwt_with(roles)),
            token_type: "Bearer".into(),
            expires_in: 3600,
            ext_expires_in: None,
            refresh_in: None,
            requested_at: crate::time::now(),
            server_date: None,
        }
    }

    /// A manager whose token endpoint answers from `script` in turn (the last repeats), and
    /// a log of when (tokio time since start) each request came.
    fn scripted(
        script: Vec<Result<Vec<&'static str>, TokenError>>,
    ) -> (TokenHandle, Arc<Mutex<Vec<Duration>>>) {
        let calls = Arc::new(Mutex::new(Vec::new()));
        let start = tokio::time::Instant::now();
        let script = Arc::new(Mutex::new(script));
        let log = calls.clone();
        type Fetch = std::pin::Pin<
            Box<dyn std::future::Future<Output = Result<TokenResponse, TokenError>> + Send>,
        >;
        let fetcher = Arc::new(move || -> Fetch {
            log.lock().unwrap().push(start.elapsed());
            let mut s = script.lock().unwrap();
            let next = if s.len() > 1 {
                s.remove(0)
            } else {
                s[0].clone()
            };
            Box::pin(async move { next.map(|roles| response(&roles)) })
        });
        let handle = TokenManager::with_fetcher(fetcher, None, ManagerOptions::default());
        (handle, calls)
    }

    fn network() -> TokenError {
        TokenError::Network {
            kind: crate::http::NetworkKind::Connect,
            url: "http://127.0.0.1:1/t".into(),
            message: "Connection refused".into(),
            source: None,
        }
    }

    #[test]
    fn delays_double_from_two_seconds_up_to_thirty_with_jitter() {
        let mid = |n| delay(n, 0.5);
        assert_eq!(
            [mid(1), mid(2), mid(3), mid(4), mid(5), mid(9), mid(40)],
            [2, 4, 8, 16, 30, 30, 30].map(Duration::from_secs)
        );
        assert_eq!(delay(1, 0.0), Duration::from_millis(1600));
        assert_eq!(delay(1, 1.0), Duration::from_millis(2400));
        assert_eq!(delay(5, 1.0), MAX_DELAY, "jitter never passes the cap");
    }

    #[tokio::test(start_paused = true)]
    async fn fresh_tokens_until_the_role_shows_up() {
        let (h, calls) = scripted(vec![
            Ok(vec!["Weather.Read"]),
            Ok(vec!["Weather.Read"]),
            Ok(vec!["Weather.Read"]),
            Ok(vec!["Weather.Read", "Weather.Admin"]),
        ]);
        let mut seen = Vec::new();
        let done = wait_for_role(&h, "weather.admin", DEFAULT_BOUND, |a| {
            seen.push((a.attempt, a.elapsed, a.roles.to_vec(), a.next_in));
        })
        .await
        .unwrap();
        assert_eq!(done.attempts, 4);
        assert!(has(&roles_of(&done.token), "Weather.Admin"));
        // Attempt 1 is token() (nothing cached: a network request), then 2 s, 4 s, 8 s ±20 %.
        let calls = calls.lock().unwrap().clone();
        assert_eq!(calls.len(), 4, "{calls:?}");
        let gaps: Vec<f64> = calls
            .windows(2)
            .map(|w| (w[1] - w[0]).as_secs_f64())
            .collect();
        for (gap, want) in gaps.iter().zip([2.0, 4.0, 8.0]) {
            assert!((want * 0.8..=want * 1.2).contains(gap), "{gaps:?}");
        }
        assert_eq!(seen.len(), 3);
        assert_eq!(seen[0].0, 1);
        assert_eq!(seen[0].2, ["Weather.Read"]);
        assert!(seen.iter().all(|s| s.3.is_some()));
        assert_eq!(done.elapsed, calls[3]);
    }

    #[tokio::test(start_paused = true)]
    async fn a_token_that_has_the_role_needs_no_wait() {
        let (h, calls) = scripted(vec![Ok(vec!["Weather.Admin"])]);
        let done = wait_for_role(&h, "Weather.Admin", DEFAULT_BOUND, |_| panic!("no attempt"))
            .await
            .unwrap();
        assert_eq!((done.attempts, calls.lock().unwrap().len()), (1, 1));
    }

    #[tokio::test(start_paused = true)]
    async fn the_bound_ends_the_wait_with_the_last_roles() {
        let (h, calls) = scripted(vec![Ok(vec!["Weather.Read"])]);
        let mut last = None;
        let e = wait_for_role(&h, "Weather.Admin", Duration::from_secs(60), |a| {
            last = Some((a.attempt, a.next_in));
        })
        .await
        .unwrap_err();
        let WaitError::TimedOut {
            attempts,
            elapsed,
            roles,
        } = e
        else {
            panic!("{e:?}")
        };
        assert_eq!(roles, ["Weather.Read"]);
        assert_eq!(
            elapsed,
            Duration::from_secs(60),
            "the last attempt is at the bound"
        );
        // 0, 2, 6, 14, 30, then 60 (the bound): six tokens, give or take the jitter.
        assert!((5..=7).contains(&attempts), "{attempts}");
        assert_eq!(calls.lock().unwrap().len() as u32, attempts);
        assert_eq!(last, Some((attempts, None)));
    }

    #[tokio::test(start_paused = true)]
    async fn transient_failures_are_waited_out_and_others_end_the_wait() {
        let (h, _) = scripted(vec![Ok(vec![]), Err(network()), Ok(vec!["Weather.Admin"])]);
        let mut errors = 0;
        let done = wait_for_role(&h, "Weather.Admin", DEFAULT_BOUND, |a| {
            errors += usize::from(a.error.is_some());
        })
        .await
        .unwrap();
        assert_eq!((done.attempts, errors), (3, 1));

        let refused = TokenError::BadEndpoint {
            url: "x".into(),
            reason: "y".into(),
        };
        let (h, calls) = scripted(vec![Ok(vec![]), Err(refused)]);
        let e = wait_for_role(&h, "Weather.Admin", DEFAULT_BOUND, |_| {})
            .await
            .unwrap_err();
        assert!(
            matches!(e, WaitError::Token(TokenError::BadEndpoint { .. })),
            "{e:?}"
        );
        assert_eq!(calls.lock().unwrap().len(), 2);
    }

    #[tokio::test(start_paused = true)]
    async fn an_enormous_bound_does_not_overflow() {
        let (h, _) = scripted(vec![Ok(vec![]), Ok(vec!["Weather.Admin"])]);
        let done = wait_for_role(&h, "Weather.Admin", Duration::MAX, |_| {})
            .await
            .unwrap();
        assert_eq!(done.attempts, 2);
    }

    #[tokio::test(start_paused = true)]
    async fn dropping_the_wait_stops_it() {
        let (h, calls) = scripted(vec![Ok(vec![])]);
        let wait = wait_for_role(&h, "Weather.Admin", DEFAULT_BOUND, |_| {});
        let stopped = tokio::time::timeout(Duration::from_secs(5), wait).await;
        assert!(stopped.is_err());
        let n = calls.lock().unwrap().len();
        tokio::time::sleep(Duration::from_secs(120)).await;
        assert_eq!(
            calls.lock().unwrap().len(),
            n,
            "no request after the wait was dropped"
        );
    }
}
