//! Every profile's own state (its token, its last call, its Config pane rows), the facts about
//! its credential the Config pane shows, and the short summaries the profile picker and the
//! compare view draw.
//!
//! Built from plain data derived from a [`Profile`] (never from the certificate object
//! itself), so tests can construct any state directly with fixed values.

use chrono::{DateTime, Utc};

use super::{Completed, Decoded, InFlight, Level};
use crate::api::{ApiResponse, Body};
use crate::auth::{Phase, TokenSnapshot};
use crate::config::{Credential, Origin, PathSource, Profile, SecretSource};
use crate::credential::CertificateInfo;
use crate::diagnose::Severity;
use crate::text::sanitize;
use crate::time::{countdown, human_secs, relative};

/// Below this a secret or certificate expiry is shown as a warning (the lint's rule).
pub use crate::diagnose::lint::RENEW_WITHIN_DAYS;

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

/// What the Config pane shows about the client credential. No secret material.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CredentialFacts {
    /// "client secret", "certificate", "federated token".
    pub kind: &'static str,
    /// Where it comes from, in words (sanitised), to follow the kind: ", from environment
    /// variable X", " /path/to/cert.pem".
    pub from: String,
    /// The certificate's subject, thumbprint and validity, for a certificate credential.
    pub certificate: Option<CertificateInfo>,
    /// When the client secret expires (`secret_expires` in the profile).
    pub secret_expires: Option<DateTime<Utc>>,
}

impl CredentialFacts {
    /// The facts of `profile`'s credential. `demo`: the inline secret came from the sandbox.
    pub fn of(profile: &Profile, demo: bool) -> CredentialFacts {
        let s = |v: &str| sanitize(v, false);
        let path_from = |source: &PathSource| match source {
            PathSource::File => String::new(),
            PathSource::EnvVar(v) => format!(" (from {v})"),
        };
        let (from, certificate) = match &profile.credential {
            Credential::Secret { source, .. } if demo && *source == SecretSource::Inline => (
                ", from the sandbox tenant (inline in the generated demo config)".to_string(),
                None,
            ),
            Credential::Secret { source, .. } => {
                (format!(", from {}", s(&source.to_string())), None)
            }
            Credential::Certificate { cert, source, .. } => (
                format!(
                    " {}{}",
                    s(&cert.info().path.display().to_string()),
                    path_from(source)
                ),
                Some(cert.info().clone()),
            ),
            Credential::Federated { token, source } => (
                format!(
                    " file {}{}",
                    s(&token.path().display().to_string()),
                    path_from(source)
                ),
                None,
            ),
        };
        CredentialFacts {
            kind: profile.credential.kind(),
            from,
            certificate,
            secret_expires: profile.secret_expires,
        }
    }

    /// The Config pane rows for the credential: how it authenticates, the certificate's
    /// subject and thumbprint, and the expiry dates (counted down when drawn).
    pub fn rows(&self) -> Vec<ConfigRow> {
        let mut rows = vec![ConfigRow::new(
            "auth",
            format!("{}{}", self.kind, self.from),
        )];
        // The expiry first: it is what needs doing something about (and a short pane shows it).
        if let Some(c) = &self.certificate {
            rows.push(ConfigRow {
                label: "expires",
                value: String::new(),
                expires: Some(c.not_after),
            });
            rows.push(ConfigRow::new("subject", sanitize(&c.subject, false)));
            rows.push(ConfigRow::new(
                "SHA-1",
                format!("{} (thumbprint)", sanitize(&c.thumbprint, false)),
            ));
        }
        if let Some(at) = self.secret_expires {
            rows.push(ConfigRow {
                label: if self.certificate.is_some() {
                    "secret"
                } else {
                    "expires"
                },
                value: String::new(),
                expires: Some(at),
            });
        }
        rows
    }
}

/// One row of the Config pane.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigRow {
    pub label: &'static str,
    /// Sanitised.
    pub value: String,
    /// An expiry date: the value is drawn from it and the clock ("2027-03-01 (in 94 days)"),
    /// as a warning within [`RENEW_WITHIN_DAYS`] and as an error once past.
    pub expires: Option<DateTime<Utc>>,
}

impl ConfigRow {
    pub fn new(label: &'static str, value: impl Into<String>) -> ConfigRow {
        ConfigRow {
            label,
            value: value.into(),
            expires: None,
        }
    }
}

/// How an expiry date reads now: the countdown text and how alarming it is.
pub fn expiry(at: DateTime<Utc>, now: DateTime<Utc>) -> (Level, String) {
    if at <= now {
        (
            Level::Error,
            format!("({}) ✗ expired: renew it", countdown(at, now)),
        )
    } else if at - now < chrono::Duration::days(RENEW_WITHIN_DAYS) {
        (
            Level::Warn,
            format!(
                "({}) ⚠ renew within {RENEW_WITHIN_DAYS} days",
                countdown(at, now)
            ),
        )
    } else {
        (Level::Info, format!("({})", countdown(at, now)))
    }
}

/// One profile of the config file, as the dashboard knows it.
#[derive(Debug, Clone)]
pub struct ProfileState {
    /// Sanitised.
    pub name: String,
    /// Why the profile does not load (one sanitised line). Such a profile is listed but
    /// cannot be activated; every other field is empty.
    pub error: Option<String>,
    pub credential: CredentialFacts,
    /// Config pane rows above the credential rows (profile, authority, tenant, client id).
    pub(in crate::tui) config_head: Vec<ConfigRow>,
    /// Config pane rows below them (scope, API, …).
    pub(in crate::tui) config_tail: Vec<ConfigRow>,
    pub(in crate::tui) token_endpoint: String,
    pub(in crate::tui) api_url: String,
    pub expected_roles: Vec<String>,
    /// The profile's scope (raw; for diagnosis, not display).
    pub(in crate::tui) scope: String,
    /// Its CA file, for the copied curl command's `--cacert`.
    pub(in crate::tui) ca_file: Option<std::path::PathBuf>,
    /// Config lint, errors first.
    pub(in crate::tui) lint: Vec<LintLine>,
    /// Its token manager runs (started when first activated, or for the compare view).
    pub started: bool,
    /// Its config problems were logged (at start for the first profile, on first switch for
    /// the others).
    pub(in crate::tui) lint_logged: bool,
    pub(in crate::tui) snapshot: Option<TokenSnapshot>,
    pub(in crate::tui) decoded: Option<Decoded>,
    pub(in crate::tui) call: Option<InFlight>,
    pub(in crate::tui) last: Option<Completed>,
    /// Its app-role set-up, read from Microsoft Graph when the Setup view asks.
    pub(in crate::tui) setup: super::SetupRead,
    /// The chain worked out from the set-up, the token and the last answer.
    pub(in crate::tui) setup_report: Option<crate::diagnose::setup::SetupReport>,
    /// The client id (for the chain: which application is the client).
    pub(in crate::tui) client_id: String,
    /// A wait for a role to reach its tokens, while one runs.
    pub(in crate::tui) wait: Option<super::setup::RoleWait>,
}

impl ProfileState {
    /// A profile that did not load: `error` is shown in the picker and the compare view.
    pub fn broken(name: &str, error: &str) -> ProfileState {
        let first = error
            .lines()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("does not load");
        ProfileState {
            name: sanitize(name, false),
            error: Some(sanitize(first.trim(), false)),
            credential: CredentialFacts {
                kind: "",
                from: String::new(),
                certificate: None,
                secret_expires: None,
            },
            config_head: Vec::new(),
            config_tail: Vec::new(),
            token_endpoint: String::new(),
            api_url: String::new(),
            expected_roles: Vec::new(),
            scope: String::new(),
            ca_file: None,
            lint: Vec::new(),
            started: false,
            lint_logged: false,
            snapshot: None,
            decoded: None,
            call: None,
            last: None,
            setup: super::SetupRead::NotConfigured,
            setup_report: None,
            client_id: String::new(),
            wait: None,
        }
    }

    /// The state of a resolved profile, nothing fetched yet.
    pub fn new(profile: &Profile, demo: bool, now: DateTime<Utc>) -> ProfileState {
        let origin = |o: &Origin| match o {
            Origin::File => String::new(),
            Origin::EnvVar(v) => format!(" (from {v})"),
        };
        let s = |v: &str| sanitize(v, false);
        let config_head = vec![
            ConfigRow::new("profile", s(&profile.name)),
            ConfigRow::new(
                "authority",
                format!(
                    "{}{}",
                    s(&profile.authority),
                    origin(&profile.authority_origin)
                ),
            ),
            ConfigRow::new(
                "tenant",
                profile
                    .tenant
                    .as_deref()
                    .map(s)
                    .unwrap_or_else(|| "(none)".into()),
            ),
            ConfigRow::new(
                "client id",
                format!(
                    "{}{}",
                    s(&profile.client_id),
                    origin(&profile.client_id_origin)
                ),
            ),
        ];
        let mut config_tail = vec![
            ConfigRow::new("scope", s(&profile.scope)),
            ConfigRow::new("API", s(&profile.api_url)),
            ConfigRow::new(
                "expects",
                if profile.expected_roles.is_empty() {
                    "(no expected_roles configured)".into()
                } else {
                    s(&profile.expected_roles.join(", "))
                },
            ),
            ConfigRow::new(
                "timeouts",
                format!(
                    "connect {} · total {}",
                    human_secs(profile.connect_timeout.as_secs() as i64),
                    human_secs(profile.timeout.as_secs() as i64)
                ),
            ),
        ];
        if let Some(ca) = &profile.ca_file {
            config_tail.push(ConfigRow::new("CA file", s(&ca.display().to_string())));
        }
        config_tail.push(ConfigRow::new(
            "file",
            profile
                .config_path
                .as_ref()
                .map(|p| s(&p.display().to_string()))
                .unwrap_or_else(|| "(none)".into()),
        ));
        let mut lint: Vec<LintLine> = crate::diagnose::lint::lint(profile, now)
            .into_iter()
            .map(|f| LintLine {
                sandbox: demo && f.field == "client_secret",
                severity: f.severity,
                text: s(&f.message),
                fix: s(&f.fix),
            })
            .collect();
        lint.sort_by_key(|l| std::cmp::Reverse(l.severity));
        ProfileState {
            name: s(&profile.name),
            error: None,
            credential: CredentialFacts::of(profile, demo),
            config_head,
            config_tail,
            token_endpoint: s(&profile.token_endpoint),
            api_url: s(&profile.api_url),
            expected_roles: profile.expected_roles.clone(),
            scope: profile.scope.clone(),
            ca_file: profile.ca_file.clone(),
            lint,
            started: false,
            lint_logged: false,
            snapshot: None,
            decoded: None,
            call: None,
            last: None,
            setup: super::SetupRead::for_source(&profile.graph.source),
            setup_report: None,
            client_id: profile.client_id.clone(),
            wait: None,
        }
    }

    /// Every Config pane row, in order.
    pub fn config_rows(&self) -> Vec<ConfigRow> {
        let mut rows = self.config_head.clone();
        rows.extend(self.credential.rows());
        rows.extend(self.config_tail.iter().cloned());
        rows
    }

    /// Config problems worth a log line (warnings and errors, not the demo's inline secret),
    /// and a certificate that expires within [`RENEW_WITHIN_DAYS`] or has expired.
    pub(in crate::tui) fn problems(&self, now: DateTime<Utc>) -> Vec<(Level, String)> {
        let mut out = Vec::new();
        if let Some(c) = &self.credential.certificate
            && !self
                .lint
                .iter()
                .any(|l| l.text.contains("certificate") && l.text.contains("expire"))
        {
            let when = c.not_after.format("%Y-%m-%d");
            let subject = sanitize(&c.subject, false);
            let text = if c.not_after <= now {
                Some((
                    Level::Error,
                    format!(
                        "certificate {subject} expired {} ({when}): Entra refuses its assertions — create a new one and upload it to the app registration",
                        countdown(c.not_after, now)
                    ),
                ))
            } else if c.not_after - now < chrono::Duration::days(RENEW_WITHIN_DAYS) {
                Some((
                    Level::Warn,
                    format!(
                        "certificate {subject} expires {} ({when}): renew it and upload the new one to the app registration",
                        countdown(c.not_after, now)
                    ),
                ))
            } else {
                None
            };
            out.extend(text);
        }
        let lint = self
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
            });
        out.extend(lint);
        out
    }

    /// The roles of the current token: `None` while there is no (decodable) token.
    pub fn roles(&self) -> Option<&[String]> {
        match &self.decoded.as_ref()?.format {
            crate::jwt::TokenFormat::Jwt(j) => Some(&j.claims.roles),
            crate::jwt::TokenFormat::Opaque { .. } => None,
        }
    }

    /// The token's state in a few words: "valid, expires in 55m 0s", "✗ AADSTS7000222: …".
    pub fn token_summary(&self, now: DateTime<Utc>) -> (Level, String) {
        if let Some(e) = &self.error {
            return (Level::Error, format!("✗ does not load: {e}"));
        }
        if !self.started {
            return (Level::Info, "— not visited yet".into());
        }
        let Some(s) = &self.snapshot else {
            return (Level::Warn, "starting…".into());
        };
        let reason = s
            .last_error
            .as_ref()
            .map(|e| sanitize(&e.short_reason(), false));
        match (&s.token, reason) {
            (Some(t), None) if t.valid(now) => (
                Level::Good,
                format!("valid, expires {}", relative(t.expires_on, now)),
            ),
            (Some(t), Some(r)) if t.valid(now) => (Level::Warn, format!("⚠ stale: {r}")),
            (_, Some(r)) => (Level::Error, format!("✗ {r}")),
            (Some(_), None) => (Level::Error, "✗ expired".into()),
            (None, None) => match s.phase {
                Phase::Idle | Phase::Acquiring | Phase::Refreshing => {
                    (Level::Warn, "acquiring…".into())
                }
                _ => (Level::Warn, sanitize(&s.status_line(now), false)),
            },
        }
    }

    /// [`ProfileState::token_summary`] for a table cell: "valid · 1h 11m", "✗ AADSTS7000222".
    pub fn token_brief(&self, now: DateTime<Utc>) -> (Level, String) {
        let code = self
            .snapshot
            .as_ref()
            .and_then(|s| s.last_error.as_ref())
            .map(|e| match e.aadsts_code() {
                Some(c) => format!("AADSTS{c}"),
                None => sanitize(&e.short_reason(), false),
            });
        match self.token_summary(now) {
            (Level::Error, _) if self.error.is_some() => (Level::Error, "✗ does not load".into()),
            (Level::Good, _) => {
                let left = self
                    .snapshot
                    .as_ref()
                    .and_then(|s| s.token.as_ref())
                    .map(|t| (t.expires_on - now).num_seconds())
                    .unwrap_or_default();
                (Level::Good, format!("valid · {} left", brief_secs(left)))
            }
            (Level::Warn, _) if code.is_some() => (
                Level::Warn,
                format!("⚠ stale: {}", code.unwrap_or_default()),
            ),
            (Level::Error, _) if code.is_some() => {
                (Level::Error, format!("✗ {}", code.unwrap_or_default()))
            }
            other => other,
        }
    }

    /// The last call in a few words: "200 Seattle 14 °C", "403 IDW10203", "calling…", "—".
    pub fn outcome_summary(&self) -> (Level, String) {
        if let Some(c) = &self.call {
            return (Level::Warn, format!("calling for {}…", c.city));
        }
        match &self.last {
            None => (Level::Info, "—".into()),
            // The call found no token, but one came since (a renewed secret, a retry that
            // worked): "no token" would contradict the token column.
            Some(l)
                if matches!(l.result, Err(crate::tui::msg::CallError::Token(_)))
                    && self
                        .snapshot
                        .as_ref()
                        .and_then(|s| s.token.as_ref())
                        .is_some_and(|t| t.acquired_at >= l.at) =>
            {
                (Level::Info, "— not called with this token".into())
            }
            Some(l) => (l.level, l.summary.clone()),
        }
    }
}

/// "1h 11m", "11m 35s", "35s": a countdown without the noise.
pub fn brief_secs(secs: i64) -> String {
    let s = secs.max(0);
    match (s / 3600, (s % 3600) / 60, s % 60) {
        (0, 0, s) => format!("{s}s"),
        (0, m, s) => format!("{m}m {s}s"),
        (h, m, _) => format!("{h}h {m}m"),
    }
}

/// A call's answer in a few words for the compare view and the log: "200 Seattle 14 °C",
/// "403 IDW10203", "401 invalid_token", "500".
pub fn response_summary(city: &str, r: &ApiResponse) -> (Level, String) {
    let status = r.status;
    if (200..300).contains(&status) {
        if let Body::Weather(w) = &r.body
            && let Some(t) = w.temp
        {
            let unit = match r
                .url
                .query_pairs()
                .find(|(k, _)| k == "units")
                .map(|(_, v)| v.into_owned())
                .as_deref()
            {
                Some("imperial") => "°F",
                Some("standard") => "K",
                _ => "°C",
            };
            return (Level::Good, format!("{status} {city} {t:.0} {unit}"));
        }
        return (Level::Good, format!("{status} {city}"));
    }
    let level = if matches!(status, 401 | 403) {
        Level::Warn
    } else {
        Level::Error
    };
    // The API's own code (Microsoft.Identity.Web's IDWnnnnn), else the challenge's error.
    let text = r.body_text();
    let idw = text.find("IDW").and_then(|i| {
        let digits: String = text[i + 3..]
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        (!digits.is_empty()).then(|| format!("IDW{digits}"))
    });
    let why = idw.or_else(|| {
        r.bearer_challenge()
            .and_then(|c| c.param("error"))
            .map(|e| sanitize(e, false))
    });
    match why {
        Some(w) => (level, format!("{status} {w}")),
        None => (level, format!("{status}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tui::fixtures::{forbidden, now, weather_ok};

    #[test]
    fn countdowns_read_in_days() {
        let n = now();
        assert_eq!(countdown(n + chrono::Duration::days(94), n), "in 94 days");
        assert_eq!(countdown(n + chrono::Duration::hours(30), n), "in 1 day");
        assert_eq!(countdown(n + chrono::Duration::hours(5), n), "in 5h 0m 0s");
        assert_eq!(countdown(n - chrono::Duration::days(3), n), "3 days ago");
        assert_eq!(expiry(n + chrono::Duration::days(94), n).0, Level::Info);
        assert_eq!(
            expiry(n + chrono::Duration::days(29), n),
            (
                Level::Warn,
                "(in 29 days) ⚠ renew within 30 days".to_string()
            )
        );
        assert_eq!(expiry(n, n).0, Level::Error);
    }

    #[test]
    fn responses_summarised() {
        assert_eq!(
            response_summary("Seattle", &weather_ok()),
            (Level::Good, "200 Seattle 12 °C".to_string())
        );
        assert_eq!(
            response_summary("Seattle", &forbidden("Weather.Write")),
            (Level::Warn, "403 IDW10203".to_string())
        );
    }

    #[test]
    fn a_broken_profile_keeps_one_sanitised_line() {
        let p = ProfileState::broken("bad\u{1b}[2J", "\nno client_id in profile\nhint: add it");
        assert_eq!(p.error.as_deref(), Some("no client_id in profile"));
        assert!(!p.name.contains('\u{1b}'));
    }
}
