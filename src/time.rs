//! The one place the wall clock is read, and human formatting of times and durations.
//!
//! A base module: it imports nothing of the crate.

use chrono::{DateTime, Local, TimeDelta, Utc};

/// Now, UTC, from the system clock.
pub fn now() -> DateTime<Utc> {
    Utc::now()
}

/// The clock long-running components read. `System` is the wall clock; `Tokio` derives wall
/// time from tokio's clock, so tests with paused time (`tokio::time::pause`) control it.
#[derive(Debug, Clone, Copy)]
pub enum Clock {
    System,
    Tokio {
        wall: DateTime<Utc>,
        at: tokio::time::Instant,
    },
}

impl Clock {
    /// A clock that follows tokio's (possibly paused) time, starting at `wall`.
    pub fn tokio_at(wall: DateTime<Utc>) -> Self {
        Clock::Tokio {
            wall,
            at: tokio::time::Instant::now(),
        }
    }
    pub fn now(&self) -> DateTime<Utc> {
        match self {
            Clock::System => Utc::now(),
            Clock::Tokio { wall, at } => {
                let elapsed = tokio::time::Instant::now().saturating_duration_since(*at);
                add_std(*wall, elapsed)
            }
        }
    }
}

/// `t + d`, saturating at the ends of chrono's range instead of panicking. Every duration
/// added to a time here may come from a server or a file (`expires_in`, `Retry-After`, a
/// cached expiry), so no date arithmetic uses the panicking `+`/`-` on such values.
pub fn add(t: DateTime<Utc>, d: TimeDelta) -> DateTime<Utc> {
    t.checked_add_signed(d).unwrap_or(if d < TimeDelta::zero() {
        DateTime::<Utc>::MIN_UTC
    } else {
        DateTime::<Utc>::MAX_UTC
    })
}

/// `t + secs` seconds (saturating; any `i64` is fine).
pub fn add_secs(t: DateTime<Utc>, secs: i64) -> DateTime<Utc> {
    add(
        t,
        TimeDelta::try_seconds(secs).unwrap_or(if secs < 0 {
            TimeDelta::MIN
        } else {
            TimeDelta::MAX
        }),
    )
}

/// `t + d` for a std duration (saturating).
pub fn add_std(t: DateTime<Utc>, d: std::time::Duration) -> DateTime<Utc> {
    add(t, TimeDelta::from_std(d).unwrap_or(TimeDelta::MAX))
}

/// `t - d` for a std duration (saturating).
pub fn sub_std(t: DateTime<Utc>, d: std::time::Duration) -> DateTime<Utc> {
    add(t, -TimeDelta::from_std(d).unwrap_or(TimeDelta::MAX))
}

/// `1h 2m 3s`, `4m 0s`, `12s` for a number of seconds (sign ignored).
pub fn human_secs(secs: i64) -> String {
    let s = secs.unsigned_abs();
    let (h, m, s) = (s / 3600, (s % 3600) / 60, s % 60);
    if h > 0 {
        format!("{h}h {m}m {s}s")
    } else if m > 0 {
        format!("{m}m {s}s")
    } else {
        format!("{s}s")
    }
}

/// "in 54m 10s" or "3m 2s ago", relative to `now`.
pub fn relative(t: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let d = (t - now).num_seconds();
    if d >= 0 {
        format!("in {}", human_secs(d))
    } else {
        format!("{} ago", human_secs(d))
    }
}

/// For dates days away (credential expiry): "in 94 days", "in 1 day", "3 days ago"; under
/// a day, [`relative`]'s "in 5h 0m 0s".
pub fn countdown(at: DateTime<Utc>, now: DateTime<Utc>) -> String {
    match (at - now).num_days() {
        0 => relative(at, now),
        1 => "in 1 day".into(),
        -1 => "1 day ago".into(),
        d if d > 0 => format!("in {d} days"),
        d => format!("{} days ago", -d),
    }
}

/// How long a request took: "42 ms", or "0.4 ms" below 10 ms, where whole milliseconds
/// would round a loopback call down to a meaningless "0 ms". One rule for the CLI and the TUI.
pub fn latency(d: std::time::Duration) -> String {
    if d < std::time::Duration::from_millis(10) {
        format!("{:.1} ms", d.as_secs_f64() * 1000.0)
    } else {
        format!("{} ms", d.as_millis())
    }
}

/// A Unix time as local `YYYY-MM-DD HH:MM:SS ±ZZ:ZZ`, or the number if out of range.
pub fn local(ts: i64) -> String {
    match DateTime::from_timestamp(ts, 0) {
        Some(t) => t
            .with_timezone(&Local)
            .format("%Y-%m-%d %H:%M:%S %:z")
            .to_string(),
        None => ts.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn date_arithmetic_saturates_instead_of_panicking() {
        let now = DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        assert_eq!(add_secs(now, i64::MAX), DateTime::<Utc>::MAX_UTC);
        assert_eq!(add_secs(now, i64::MIN), DateTime::<Utc>::MIN_UTC);
        assert_eq!(
            add_secs(DateTime::<Utc>::MAX_UTC, 1),
            DateTime::<Utc>::MAX_UTC
        );
        assert_eq!(
            add_std(now, std::time::Duration::MAX),
            DateTime::<Utc>::MAX_UTC
        );
        assert_eq!(
            sub_std(DateTime::<Utc>::MIN_UTC, std::time::Duration::from_secs(1)),
            DateTime::<Utc>::MIN_UTC
        );
        assert_eq!(add_secs(now, 60) - now, TimeDelta::seconds(60));
        // Formatting the extremes does not panic either.
        let _ = relative(DateTime::<Utc>::MAX_UTC, DateTime::<Utc>::MIN_UTC);
        let _ = countdown(DateTime::<Utc>::MIN_UTC, DateTime::<Utc>::MAX_UTC);
    }

    #[test]
    fn countdowns_in_days() {
        let now = DateTime::parse_from_rfc3339("2026-11-27T12:00:00Z")
            .unwrap()
            .to_utc();
        let d = |h: i64| now + chrono::Duration::hours(h);
        assert_eq!(countdown(d(94 * 24 + 3), now), "in 94 days");
        assert_eq!(countdown(d(30), now), "in 1 day");
        assert_eq!(countdown(d(5), now), "in 5h 0m 0s");
        assert_eq!(countdown(d(-5), now), "5h 0m 0s ago");
        assert_eq!(countdown(d(-30), now), "1 day ago");
        assert_eq!(countdown(d(-72), now), "3 days ago");
    }

    #[test]
    fn formats() {
        assert_eq!(human_secs(3 * 3600 + 62), "3h 1m 2s");
        assert_eq!(human_secs(-240), "4m 0s");
        assert_eq!(human_secs(9), "9s");
        let now = DateTime::from_timestamp(1_000_000, 0).unwrap();
        assert_eq!(
            relative(now + chrono::Duration::seconds(3250), now),
            "in 54m 10s"
        );
        assert_eq!(
            relative(now - chrono::Duration::seconds(182), now),
            "3m 2s ago"
        );
        assert_eq!(local(i64::MAX), i64::MAX.to_string());
    }

    #[test]
    fn latency_keeps_precision_below_ten_milliseconds() {
        use std::time::Duration;
        assert_eq!(latency(Duration::from_micros(620)), "0.6 ms");
        assert_eq!(latency(Duration::from_micros(9_940)), "9.9 ms");
        assert_eq!(latency(Duration::from_millis(10)), "10 ms");
        assert_eq!(latency(Duration::from_millis(1234)), "1234 ms");
    }
}
