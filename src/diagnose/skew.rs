//! Clock skew: is this machine's clock, or the identity provider's, off — and by how much?
//!
//! Three clocks speak: this machine's (when the token arrived), the token endpoint's `Date`
//! header, and the token's own `iat` / `nbf` (the clock that signed it). Entra backdates
//! `iat` and `nbf` by 5 minutes to absorb skew, so a token whose `iat` is 5 minutes before
//! its arrival is normal and says nothing; one whose `nbf` lies in the future, or whose
//! `iat` is older than the backdating explains, does. With a `Date` header the two
//! server-side clocks can be told apart from this machine's: when `Date` and the token
//! agree with each other but not with this machine, this machine is off; when `Date` agrees
//! with this machine but the token does not, the identity provider's token clock is.
//!
//! [`check`] is pure: claims, the local time the token arrived, the server's `Date` (if it
//! sent one) in, a [`SkewFinding`] out. `token`, `doctor`, `--json` and the dashboard's Token
//! pane render it.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::auth::CachedToken;
use crate::jwt::{self, Claims, TokenFormat};
use crate::time::human_secs;

/// Differences up to this are normal (network latency, `Date`'s whole seconds, ordinary
/// drift) and not reported.
pub const THRESHOLD_SECS: i64 = 120;

/// How far Entra backdates `iat` / `nbf`.
pub const BACKDATE_SECS: i64 = 300;

/// Which clock is off.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OffClock {
    /// This machine's: the server's `Date` and the token's times agree with each other.
    ThisMachine,
    /// The identity provider's token clock: its `iat` / `nbf` disagree with this machine
    /// and with its own `Date` header.
    IdentityProvider,
    /// Only the `Date` header (a proxy's clock?): the token's times agree with this machine.
    ServerDate,
    /// This machine's or the identity provider's: no `Date` header to tell which (or all
    /// three disagree).
    Unknown,
}

/// A clock that is off, by how much, and what to do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SkewFinding {
    pub clock: OffClock,
    /// The clock named is ahead (`true`) or behind the others.
    pub ahead: bool,
    /// By how much, in whole seconds, at least (a token's times give a lower bound: whether
    /// its issuer backdates is not known).
    pub seconds: i64,
    /// One line: which clock is off and by how much.
    pub summary: String,
    /// What shows it.
    pub cause: String,
    /// What to do.
    pub fix: String,
}

/// How the token's times sit against a reference clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TokenVs {
    Agrees,
    /// `nbf` / `iat` lies this many seconds in the reference clock's future.
    Ahead(i64),
    /// `iat` is this many seconds older than backdating explains.
    Behind(i64),
}

fn token_vs(iat: Option<i64>, nbf: Option<i64>, reference: i64) -> Option<TokenVs> {
    let start = match (iat, nbf) {
        (Some(i), Some(n)) => i.max(n),
        (Some(t), None) | (None, Some(t)) => t,
        (None, None) => return None,
    };
    let ahead = start.checked_sub(reference)?;
    if ahead > THRESHOLD_SECS {
        return Some(TokenVs::Ahead(ahead));
    }
    // `iat` when given (nbf may be set later on purpose), else `nbf`.
    let issued = iat.unwrap_or(start);
    let behind = reference.checked_sub(issued)?.checked_sub(BACKDATE_SECS)?;
    Some(if behind > THRESHOLD_SECS {
        TokenVs::Behind(behind)
    } else {
        TokenVs::Agrees
    })
}

/// The token's claims against the local time it arrived at and the token endpoint's `Date`:
/// `None` when the clocks agree (within [`THRESHOLD_SECS`], Entra's 5-minute backdating
/// allowed for), or when there is nothing to compare.
pub fn check(
    claims: &Claims,
    received_local: DateTime<Utc>,
    server_date: Option<DateTime<Utc>>,
) -> Option<SkewFinding> {
    // Hostile claims may hold any number: one that is no time at all compares with nothing.
    let plausible = |t: i64| DateTime::from_timestamp(t, 0).map(|_| t);
    let iat = claims.iat.and_then(plausible);
    let nbf = claims.nbf.and_then(plausible);
    let local = received_local.timestamp();
    let vs_local = token_vs(iat, nbf, local);
    let date_off = server_date
        .map(|d| d.timestamp().saturating_sub(local))
        .filter(|d| d.abs() > THRESHOLD_SECS);
    match (date_off, server_date) {
        (Some(off), Some(date)) => Some(match token_vs(iat, nbf, date.timestamp()) {
            // Date and token agree (or the token says nothing): this machine is off.
            Some(TokenVs::Agrees) | None => this_machine(off, vs_local.is_some()),
            _ if vs_local == Some(TokenVs::Agrees) => server_date_off(off),
            _ => all_disagree(off, vs_local),
        }),
        // No Date, or one that agrees with this machine: only the token can be off.
        (None, date) => match vs_local? {
            TokenVs::Agrees => None,
            vs => Some(token_clock(vs, date.is_some())),
        },
        (Some(_), None) => None,
    }
}

/// [`check`] for a token the manager holds: its claims (none for a token that is not a JWT),
/// the local time it was requested at, the `Date` that came with it.
pub fn of_token(token: &CachedToken) -> Option<SkewFinding> {
    match jwt::inspect(token.access_token.expose()) {
        TokenFormat::Jwt(j) => check(&j.claims, token.acquired_at, token.server_date),
        TokenFormat::Opaque { .. } => None,
    }
}

fn this_machine(date_off: i64, token_agrees_too: bool) -> SkewFinding {
    // The server is ahead of this machine: this machine is behind.
    let ahead = date_off < 0;
    let by = human_secs(date_off);
    SkewFinding {
        clock: OffClock::ThisMachine,
        ahead,
        seconds: date_off.abs(),
        summary: format!(
            "this machine's clock is {by} {} the identity provider's",
            if ahead { "ahead of" } else { "behind" }
        ),
        cause: if token_agrees_too {
            format!(
                "The token endpoint's Date header and the token's iat/nbf agree with each other, and both differ from this machine's clock by {by}."
            )
        } else {
            format!("The token endpoint's Date header differs from this machine's clock by {by}.")
        },
        fix: "Synchronise this machine's clock (NTP: `timedatectl set-ntp true` on Linux, \
              `sntp -sS time.apple.com` on macOS, `w32tm /resync` on Windows); token times and \
              expiry countdowns are off until then."
            .into(),
    }
}

fn server_date_off(date_off: i64) -> SkewFinding {
    let by = human_secs(date_off);
    SkewFinding {
        clock: OffClock::ServerDate,
        ahead: date_off > 0,
        seconds: date_off.abs(),
        summary: format!(
            "the token endpoint's Date header is {by} {} this machine's clock; the token's times agree with this machine",
            if date_off > 0 { "ahead of" } else { "behind" }
        ),
        cause: "The token's iat/nbf match this machine's clock, so the identity provider signs with the right time; what answered the HTTP request (a proxy, a gateway) has a wrong clock.".into(),
        fix: "Nothing needed for tokens; tell whoever runs the proxy or gateway in front of the identity provider.".into(),
    }
}

fn all_disagree(date_off: i64, vs_local: Option<TokenVs>) -> SkewFinding {
    let token = match vs_local {
        Some(TokenVs::Ahead(s)) => {
            format!("the token's nbf/iat is {} in the future", human_secs(s))
        }
        Some(TokenVs::Behind(s)) => format!(
            "the token's iat is {} older than Entra's 5-minute backdating explains",
            human_secs(s)
        ),
        _ => "the token's times differ again".into(),
    };
    SkewFinding {
        clock: OffClock::Unknown,
        ahead: date_off < 0,
        seconds: date_off.abs(),
        summary: format!(
            "the clocks disagree: the token endpoint's Date is {} {} this machine's, and {token}",
            human_secs(date_off),
            if date_off > 0 { "ahead of" } else { "behind" }
        ),
        cause: "This machine's clock, the token endpoint's Date header and the token's iat/nbf all differ by more than 2 minutes.".into(),
        fix: "Check this machine's clock against a time source first (NTP); then the identity provider's.".into(),
    }
}

fn token_clock(vs: TokenVs, date_agrees: bool) -> SkewFinding {
    let (ahead, secs) = match vs {
        TokenVs::Ahead(s) => (true, s),
        TokenVs::Behind(s) => (false, s),
        TokenVs::Agrees => (false, 0),
    };
    let by = human_secs(secs);
    let evidence = if ahead {
        format!(
            "The token's nbf/iat is {by} in the future by this machine's clock (Entra backdates iat by 5 minutes, so with Entra the difference is about {}).",
            human_secs(secs.saturating_add(BACKDATE_SECS))
        )
    } else {
        format!(
            "The token's iat is {by} older than Entra's 5-minute backdating explains, for a token just received."
        )
    };
    let direction = if ahead { "ahead of" } else { "behind" };
    if date_agrees {
        SkewFinding {
            clock: OffClock::IdentityProvider,
            ahead,
            seconds: secs,
            summary: format!(
                "the identity provider's token clock is at least {by} {direction} this machine's (and its own Date header)"
            ),
            cause: format!(
                "{evidence} The token endpoint's Date header agrees with this machine, so the clock that signs tokens is off."
            ),
            fix: "Fix the identity provider's clock (NTP). APIs refuse tokens whose nbf is further in the future than their skew allowance (5 minutes in Microsoft.Identity.Web).".into(),
        }
    } else {
        SkewFinding {
            clock: OffClock::Unknown,
            ahead,
            seconds: secs,
            summary: format!(
                "this machine's clock and the identity provider's differ by at least {by} (the token's times are {direction} this machine's)"
            ),
            cause: format!(
                "{evidence} The token endpoint sent no Date header, so which clock is off cannot be told."
            ),
            fix: "Check this machine's clock against a time source (NTP); if it is right, the identity provider's clock is off.".into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnose::testing::claims;
    use serde_json::json;

    const NOW: i64 = 1_800_000_000;

    fn at(offset: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(NOW + offset, 0).unwrap()
    }

    /// A token issued by a clock `offset` seconds off, backdated as Entra does.
    fn entra(offset: i64) -> Claims {
        let iat = NOW + offset - BACKDATE_SECS;
        claims(json!({"iat": iat, "nbf": iat, "exp": iat + 3900}))
    }

    #[test]
    fn entra_backdating_and_small_differences_are_normal() {
        for off in [0, 60, -60, 119, -119] {
            assert_eq!(check(&entra(off), at(0), Some(at(0))), None, "{off}");
            assert_eq!(check(&entra(off), at(0), None), None, "{off}");
            assert_eq!(check(&entra(0), at(0), Some(at(off))), None, "{off}");
        }
        // An issuer that does not backdate is fine too.
        let plain = claims(json!({"iat": NOW, "nbf": NOW}));
        assert_eq!(check(&plain, at(0), Some(at(1))), None);
        // Nothing to compare.
        assert_eq!(check(&claims(json!({})), at(0), None), None);
    }

    #[test]
    fn an_identity_provider_ten_minutes_ahead_is_named_with_its_date_header() {
        // The sandbox's clock-offset knob: token times move, the Date header does not.
        let f = check(&entra(600), at(0), Some(at(0))).expect("a finding");
        assert_eq!(f.clock, OffClock::IdentityProvider);
        assert!(f.ahead);
        assert_eq!(f.seconds, 300, "at least: nbf is 5 minutes in the future");
        assert_eq!(
            f.summary,
            "the identity provider's token clock is at least 5m 0s ahead of this machine's (and its own Date header)"
        );
        assert!(f.cause.contains("about 10m 0s"), "{f:?}");
        // Behind: iat older than backdating explains.
        let f = check(&entra(-900), at(0), Some(at(0))).expect("a finding");
        assert_eq!(
            (f.clock, f.ahead, f.seconds),
            (OffClock::IdentityProvider, false, 900)
        );
    }

    #[test]
    fn this_machine_off_when_date_and_token_agree() {
        // The server side is 10 minutes ahead of this machine: this machine is behind.
        let f = check(&entra(600), at(0), Some(at(600))).expect("a finding");
        assert_eq!(f.clock, OffClock::ThisMachine);
        assert!(!f.ahead);
        assert_eq!(f.seconds, 600);
        assert_eq!(
            f.summary,
            "this machine's clock is 10m 0s behind the identity provider's"
        );
        assert!(f.fix.contains("NTP"), "{f:?}");
        let f = check(&entra(-3600), at(0), Some(at(-3600))).expect("a finding");
        assert_eq!(
            (f.clock, f.ahead, f.seconds),
            (OffClock::ThisMachine, true, 3600)
        );
        // A Date header alone is enough.
        let f = check(&claims(json!({})), at(0), Some(at(400))).expect("a finding");
        assert_eq!(f.clock, OffClock::ThisMachine);
    }

    #[test]
    fn a_wrong_date_header_or_no_date_header() {
        let f = check(&entra(0), at(0), Some(at(900))).expect("a finding");
        assert_eq!(f.clock, OffClock::ServerDate);
        let f = check(&entra(600), at(0), None).expect("a finding");
        assert_eq!(f.clock, OffClock::Unknown);
        assert!(f.cause.contains("no Date header"), "{f:?}");
        let f = check(&entra(1200), at(0), Some(at(-900))).expect("a finding");
        assert_eq!(f.clock, OffClock::Unknown);
        assert!(f.summary.starts_with("the clocks disagree"), "{f:?}");
    }

    #[test]
    fn hostile_times_never_panic_or_overflow() {
        let dates = [
            None,
            Some(DateTime::<Utc>::MIN_UTC),
            Some(DateTime::<Utc>::MAX_UTC),
            Some(at(0)),
        ];
        for v in [
            json!(i64::MAX),
            json!(i64::MIN),
            json!(-1),
            json!(0),
            json!(253_402_300_800_i64),
            json!("soon"),
            json!(1.5e300),
        ] {
            let c = claims(json!({"iat": v, "nbf": v}));
            for d in dates {
                for local in [at(0), DateTime::<Utc>::MIN_UTC, DateTime::<Utc>::MAX_UTC] {
                    if let Some(f) = check(&c, local, d) {
                        assert!(f.seconds >= 0, "{f:?}");
                        assert!(!f.summary.is_empty());
                    }
                }
            }
        }
    }

    #[test]
    fn a_finding_serialises_for_json() {
        let f = check(&entra(600), at(0), Some(at(0))).unwrap();
        let j = serde_json::to_value(&f).unwrap();
        assert_eq!(j["clock"], "identity_provider");
        assert_eq!(j["ahead"], true);
        assert_eq!(j["seconds"], 300);
        for k in ["summary", "cause", "fix"] {
            assert!(j[k].as_str().is_some_and(|s| !s.is_empty()), "{k}");
        }
    }
}
