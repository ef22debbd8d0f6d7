//! Timing and single-flight tests with a scripted fetcher and tokio's paused clock (no sleeps
//! in real time, no network).

use std::collections::VecDeque;
use std::sync::Mutex as StdMutex;
use std::sync::atomic::{AtomicU64, Ordering};

use super::*;
use crate::auth::EntraError;
use crate::secret::AccessToken;

struct Script {
    clock: Clock,
    calls: AtomicU64,
    /// Results to hand out in order; when empty, succeed with a 1-hour token.
    queue: StdMutex<VecDeque<Result<u64, TokenError>>>,
    /// tokio time of every call.
    times: StdMutex<Vec<tokio::time::Instant>>,
    delay: Duration,
}

fn ok_response(clock: &Clock, expires_in: u64, n: u64) -> TokenResponse {
    TokenResponse {
        access_token: AccessToken::new(format!("token-{n}")),
        token_type: "Bearer".into(),
        expires_in,
        ext_expires_in: Some(expires_in),
        refresh_in: None,
        requested_at: clock.now(),
        server_date: None,
    }
}

fn refused() -> TokenError {
    TokenError::Network {
        kind: crate::http::NetworkKind::Connect,
        url: "http://127.0.0.1:1/t".into(),
        message: "Connection refused".into(),
        source: None,
    }
}

fn throttled(secs: u64) -> TokenError {
    TokenError::Rejected {
        status: 429,
        entra: Box::new(EntraError {
            error: "temporarily_unavailable".into(),
            ..Default::default()
        }),
        retry_after: Some(secs),
    }
}

fn manager(script: Arc<Script>, opts: ManagerOptions) -> TokenHandle {
    let s = script.clone();
    let fetcher: Fetcher = Arc::new(move || {
        let s = s.clone();
        Box::pin(async move {
            let n = s.calls.fetch_add(1, Ordering::SeqCst) + 1;
            s.times.lock().unwrap().push(tokio::time::Instant::now());
            if !s.delay.is_zero() {
                tokio::time::sleep(s.delay).await;
            }
            let next = s.queue.lock().unwrap().pop_front();
            match next {
                Some(Ok(expires_in)) => Ok(ok_response(&s.clock, expires_in, n)),
                Some(Err(e)) => Err(e),
                None => Ok(ok_response(&s.clock, 3600, n)),
            }
        })
    });
    TokenManager::with_fetcher(fetcher, None, opts)
}

fn setup(queue: Vec<Result<u64, TokenError>>, delay: Duration) -> (Arc<Script>, TokenHandle) {
    let clock = Clock::tokio_at(DateTime::from_timestamp(1_800_000_000, 0).unwrap());
    let script = Arc::new(Script {
        clock,
        calls: AtomicU64::new(0),
        queue: StdMutex::new(queue.into()),
        times: StdMutex::new(Vec::new()),
        delay,
    });
    let opts = ManagerOptions {
        clock,
        ..ManagerOptions::default()
    };
    (script.clone(), manager(script, opts))
}

async fn advance(d: Duration) {
    tokio::time::advance(d).await;
    // Let woken tasks run.
    for _ in 0..10 {
        tokio::task::yield_now().await;
    }
}

#[tokio::test(start_paused = true)]
async fn fifty_concurrent_callers_make_one_request() {
    let (script, h) = setup(vec![], Duration::from_millis(200));
    let tasks: Vec<_> = (0..50)
        .map(|_| {
            let h = h.clone();
            tokio::spawn(
                async move { h.token().await.map(|t| t.access_token.expose().to_string()) },
            )
        })
        .collect();
    for t in tasks {
        assert_eq!(t.await.unwrap().unwrap(), "token-1");
    }
    assert_eq!(script.calls.load(Ordering::SeqCst), 1);
    // Warm: no further request.
    h.token().await.unwrap();
    assert_eq!(script.calls.load(Ordering::SeqCst), 1);
    assert_eq!(h.snapshot().phase, Phase::Fresh);
    assert_eq!(h.snapshot().network_requests, 1);
}

#[tokio::test(start_paused = true)]
async fn within_five_minutes_of_expiry_a_new_token_is_fetched() {
    let (script, h) = setup(vec![], Duration::ZERO);
    h.token().await.unwrap();
    advance(Duration::from_secs(54 * 60)).await;
    assert_eq!(h.token().await.unwrap().access_token.expose(), "token-1");
    advance(Duration::from_secs(61)).await; // 55m01s: inside the 5-minute buffer
    assert_eq!(h.token().await.unwrap().access_token.expose(), "token-2");
    assert_eq!(script.calls.load(Ordering::SeqCst), 2);
}

#[tokio::test(start_paused = true)]
async fn failed_refresh_serves_the_valid_token_and_reports() {
    let (script, h) = setup(vec![Ok(3600), Err(refused())], Duration::ZERO);
    h.token().await.unwrap();
    advance(Duration::from_secs(56 * 60)).await; // needs refresh, still valid for 4 minutes
    let t = h.token().await.unwrap();
    assert_eq!(t.access_token.expose(), "token-1");
    let snap = h.snapshot();
    assert!(snap.last_error.is_some());
    assert!(
        snap.status_line(script.clock.now())
            .starts_with("stale (refresh failed"),
        "{}",
        snap.status_line(script.clock.now())
    );
    // Once it really expires and the fetch keeps failing, the error surfaces.
    script.queue.lock().unwrap().push_back(Err(refused()));
    advance(Duration::from_secs(5 * 60)).await;
    assert!(h.token().await.is_err());
    assert_eq!(h.snapshot().phase, Phase::Expired);
}

#[tokio::test(start_paused = true)]
async fn refresher_fetches_before_expiry() {
    let (script, h) = setup(vec![], Duration::ZERO);
    let _guard = h.spawn_refresher();
    advance(Duration::from_millis(10)).await;
    assert_eq!(
        script.calls.load(Ordering::SeqCst),
        1,
        "initial acquisition"
    );
    let expected = h.snapshot().token.unwrap().expires_on - chrono::Duration::minutes(5);
    assert_eq!(h.snapshot().next_refresh, Some(expected));
    advance(Duration::from_secs(55 * 60 - 1)).await;
    assert_eq!(script.calls.load(Ordering::SeqCst), 1);
    advance(Duration::from_secs(2)).await;
    assert_eq!(script.calls.load(Ordering::SeqCst), 2);
    assert_eq!(h.snapshot().token.unwrap().access_token.expose(), "token-2");
}

#[tokio::test(start_paused = true)]
async fn short_tokens_refresh_at_half_life() {
    let (script, h) = setup(vec![Ok(120), Ok(120)], Duration::ZERO);
    let _guard = h.spawn_refresher();
    advance(Duration::from_millis(10)).await;
    // A 2-minute token is servable (the 5-minute buffer shrinks to half its life).
    h.token().await.unwrap();
    assert_eq!(script.calls.load(Ordering::SeqCst), 1);
    advance(Duration::from_secs(59)).await;
    assert_eq!(script.calls.load(Ordering::SeqCst), 1);
    advance(Duration::from_secs(2)).await;
    assert_eq!(script.calls.load(Ordering::SeqCst), 2);
}

#[tokio::test(start_paused = true)]
async fn backoff_sequence_and_retry_after() {
    let mut queue: Vec<Result<u64, TokenError>> = (0..8).map(|_| Err(refused())).collect();
    queue.push(Err(throttled(90)));
    let (script, h) = setup(queue, Duration::ZERO);
    let mut rx = h.subscribe();
    let _guard = h.spawn_refresher();
    // Run until 10 attempts have been made (8 refused, one 429, then success).
    for _ in 0..2000 {
        if script.calls.load(Ordering::SeqCst) >= 10 {
            break;
        }
        advance(Duration::from_millis(500)).await;
    }
    let times = script.times.lock().unwrap().clone();
    assert_eq!(times.len(), 10);
    let gaps: Vec<f64> = times
        .windows(2)
        .map(|w| (w[1] - w[0]).as_secs_f64())
        .collect();
    let expected = [2.0, 4.0, 8.0, 16.0, 32.0, 60.0, 60.0, 60.0];
    for (i, (gap, want)) in gaps.iter().zip(expected).enumerate() {
        let lo = (want * 0.8_f64).min(60.0) - 0.6;
        let hi = (want * 1.2_f64).min(60.0) + 0.6;
        assert!(
            (lo..=hi).contains(gap),
            "gap {i}: {gap}s, want about {want}s ({gaps:?})"
        );
    }
    assert!(gaps[8] >= 90.0, "Retry-After 90 honoured: {gaps:?}");
    // Recovered.
    rx.borrow_and_update();
    assert_eq!(h.snapshot().phase, Phase::Fresh);
    assert!(h.snapshot().last_error.is_none());
}

#[tokio::test(start_paused = true)]
async fn retrying_state_is_published_with_the_reason() {
    let (script, h) = setup(vec![Err(refused())], Duration::ZERO);
    let _guard = h.spawn_refresher();
    advance(Duration::from_millis(10)).await;
    let snap = h.snapshot();
    assert!(
        matches!(snap.phase, Phase::Retrying { attempt: 1, .. }),
        "{:?}",
        snap.phase
    );
    let line = snap.status_line(script.clock.now());
    assert!(
        line.starts_with("retrying in ") && line.ends_with(": connection refused"),
        "{line}"
    );
}

#[tokio::test(start_paused = true)]
async fn refresh_now_always_fetches() {
    let (script, h) = setup(vec![], Duration::ZERO);
    h.token().await.unwrap();
    h.refresh_now().await.unwrap();
    assert_eq!(script.calls.load(Ordering::SeqCst), 2);
    assert_eq!(h.snapshot().generation, 2);
}

#[test]
fn backoff_bounds() {
    let i = Duration::from_secs(2);
    let m = Duration::from_secs(60);
    assert_eq!(backoff(1, i, m, None, 0.5), Duration::from_secs(2));
    assert_eq!(backoff(3, i, m, None, 0.5), Duration::from_secs(8));
    assert_eq!(backoff(10, i, m, None, 1.0), m);
    assert_eq!(backoff(40, i, m, None, 0.0), Duration::from_secs(48));
    assert_eq!(
        backoff(1, i, m, Some(Duration::from_secs(30)), 0.5),
        Duration::from_secs(30)
    );
}

/// What the manager publishes, in order, so a front end never has to compare states.
fn drain(rx: &mut broadcast::Receiver<TokenUpdate>) -> Vec<String> {
    let mut out = Vec::new();
    while let Ok(u) = rx.try_recv() {
        out.push(match u.event {
            TokenEvent::Requesting { first } => format!("requesting first={first}"),
            TokenEvent::NewToken(t) => {
                assert_eq!(
                    u.state.generation, t.generation,
                    "the state holds the new token"
                );
                format!("new gen={} {:?}", t.generation, t.source)
            }
            TokenEvent::Failed { repeat, .. } => format!("failed repeat={repeat}"),
            TokenEvent::Scheduled { retry, .. } => format!("scheduled retry={retry:?}"),
            TokenEvent::Expired => "expired".into(),
            TokenEvent::Stopped { .. } => "stopped".into(),
            TokenEvent::Warning(_) => "warning".into(),
        });
    }
    out
}

#[tokio::test(start_paused = true)]
async fn events_say_what_happened_once() {
    let (script, h) = setup(
        vec![Ok(3600), Err(refused()), Err(refused())],
        Duration::ZERO,
    );
    let mut rx = h.events();
    h.token().await.unwrap();
    assert_eq!(
        drain(&mut rx),
        ["requesting first=true", "new gen=1 Network"]
    );
    let _guard = h.spawn_refresher();
    advance(Duration::from_millis(10)).await;
    assert_eq!(drain(&mut rx), ["scheduled retry=None"]);
    // The refresh fails twice: the second failure is a repeat, each schedules a retry.
    advance(Duration::from_secs(55 * 60)).await;
    advance(Duration::from_secs(3)).await;
    let seen = drain(&mut rx);
    assert_eq!(
        seen,
        [
            "requesting first=false",
            "failed repeat=false",
            "scheduled retry=Some(1)",
            "requesting first=false",
            "failed repeat=true",
            "scheduled retry=Some(2)",
        ]
    );
    // Past expiry with every attempt failing: "expired" is said once, not per retry.
    script
        .queue
        .lock()
        .unwrap()
        .extend([Err(refused()), Err(refused()), Err(refused())]);
    advance(Duration::from_secs(6 * 60)).await;
    let mut seen = drain(&mut rx);
    for _ in 0..6 {
        advance(Duration::from_secs(61)).await;
        seen.extend(drain(&mut rx));
    }
    assert_eq!(
        seen.iter().filter(|s| *s == "expired").count(),
        1,
        "{seen:?}"
    );
    assert!(
        seen.iter().filter(|s| s.starts_with("failed")).count() >= 2,
        "{seen:?}"
    );
    // Then the queue is empty and the next attempt succeeds: a new generation.
    let expired = seen.iter().position(|s| s == "expired");
    let recovered = seen.iter().position(|s| s == "new gen=2 Network");
    assert!(expired < recovered && recovered.is_some(), "{seen:?}");
}

fn expired_secret() -> TokenError {
    TokenError::Rejected {
        status: 401,
        entra: Box::new(EntraError {
            error: "invalid_client".into(),
            error_description: Some(
                "AADSTS7000222: The provided client secret keys are expired.".into(),
            ),
            error_codes: vec![7000222],
            ..Default::default()
        }),
        retry_after: None,
    }
}

/// A failure no retry can fix (an expired secret) stops the background refresher instead of
/// retrying for as long as the dashboard is open; a request by hand starts it again.
#[tokio::test(start_paused = true)]
async fn a_permanent_failure_stops_the_refresher_until_asked_by_hand() {
    let (script, h) = setup(vec![Ok(3600), Err(expired_secret())], Duration::ZERO);
    let mut rx = h.events();
    h.token().await.unwrap();
    let _guard = h.spawn_refresher();
    advance(Duration::from_millis(10)).await;
    advance(Duration::from_secs(55 * 60 + 1)).await;
    assert_eq!(
        script.calls.load(Ordering::SeqCst),
        2,
        "the refresh was tried"
    );
    assert_eq!(h.snapshot().phase, Phase::Stopped);
    let seen = drain(&mut rx);
    assert!(seen.iter().any(|s| s.starts_with("failed")), "{seen:?}");
    assert!(
        !seen.iter().any(|s| s.starts_with("scheduled retry=Some")),
        "{seen:?}"
    );
    // An hour later: no retry was made, the valid token was served while it lasted.
    for _ in 0..60 {
        advance(Duration::from_secs(60)).await;
    }
    assert_eq!(
        script.calls.load(Ordering::SeqCst),
        2,
        "no retries while stopped"
    );
    // The same failure by hand keeps it stopped; a success starts the schedule again.
    script
        .queue
        .lock()
        .unwrap()
        .push_back(Err(expired_secret()));
    assert!(h.refresh_now().await.is_err());
    advance(Duration::from_millis(10)).await;
    assert_eq!(h.snapshot().phase, Phase::Stopped);
    h.refresh_now().await.unwrap();
    advance(Duration::from_millis(10)).await;
    assert!(h.snapshot().next_refresh.is_some(), "scheduled again");
    assert_eq!(h.snapshot().phase, Phase::Fresh);
}
