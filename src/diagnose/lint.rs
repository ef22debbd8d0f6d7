//! Config lint: mistakes that make client credentials fail, or leave them exposed, found
//! before any request.
//!
//! Reads the resolved profile, and the permission bits of a secret file it names (never a
//! file's content, never the network); one flat checklist of rules.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::Severity;
use crate::config::{Credential, Profile, SecretSource};
use crate::text::sanitize;

/// One finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub severity: Severity,
    /// The config field concerned.
    pub field: &'static str,
    pub message: String,
    pub fix: String,
}

fn is_guid(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 36
        && b.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_hexdigit(),
        })
}

fn is_entra_host(host: &str) -> bool {
    [
        "login.microsoftonline.com",
        "login.microsoftonline.us",
        "login.chinacloudapi.cn",
        "login.partner.microsoftonline.cn",
    ]
    .contains(&host)
}

/// A secret or certificate that expires within this many days is warned about (lint,
/// `doctor`, the Config pane and the dashboard's log).
pub const RENEW_WITHIN_DAYS: i64 = 30;

/// Where a credential stands in its validity window: the one rule lint, `doctor`'s
/// credential line and anything else that grades an expiry date follow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Validity {
    /// Past its end (checked first: an expired certificate is reported as expired even if
    /// the clock also puts it before its start).
    Expired,
    /// Before its start (certificates only).
    NotYetValid,
    /// Valid, but ends in fewer than [`RENEW_WITHIN_DAYS`] whole days.
    RenewSoon {
        days: i64,
    },
    Valid,
}

impl Validity {
    /// ✗ for expired or not yet valid, ⚠ for renew soon, ✓ otherwise.
    pub fn severity(self) -> Severity {
        match self {
            Validity::Expired | Validity::NotYetValid => Severity::Error,
            Validity::RenewSoon { .. } => Severity::Warning,
            Validity::Valid => Severity::Ok,
        }
    }
}

/// Grade a validity window (`not_before` when the credential has one) at `now`.
pub fn validity(
    not_before: Option<DateTime<Utc>>,
    not_after: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Validity {
    let days = (not_after - now).num_days();
    if not_after <= now {
        Validity::Expired
    } else if not_before.is_some_and(|nb| nb > now) {
        Validity::NotYetValid
    } else if days < RENEW_WITHIN_DAYS {
        Validity::RenewSoon { days }
    } else {
        Validity::Valid
    }
}

/// The credential's own validity at `now`: a secret's `secret_expires`, a certificate's
/// window; `None` when nothing says when it ends (a federated token file, a secret without
/// `secret_expires`).
pub fn credential_validity(p: &Profile, now: DateTime<Utc>) -> Option<Validity> {
    match &p.credential {
        Credential::Secret { .. } => p.secret_expires.map(|e| validity(None, e, now)),
        Credential::Certificate { cert, .. } => {
            let info = cert.info();
            Some(validity(Some(info.not_before), info.not_after, now))
        }
        Credential::Federated { .. } => None,
    }
}

/// What lint says about the credential's own validity (a secret's `secret_expires`, a
/// certificate's window) when there is something to say. One finding: `doctor` shows it as
/// the verdict of its credential line instead of a second line about the same fact.
pub fn credential_finding(p: &Profile, now: DateTime<Utc>) -> Option<Finding> {
    let finding = |severity, field, message: String, fix: &str| {
        Some(Finding {
            severity,
            field,
            message,
            fix: fix.to_string(),
        })
    };
    if let Some(exp) = p.secret_expires {
        let day = exp.format("%Y-%m-%d");
        return match validity(None, exp, now) {
            Validity::Expired => finding(
                Severity::Error,
                "secret_expires",
                format!("the client secret expired on {day} (AADSTS7000222)"),
                "create a new secret under Certificates & secrets and update this profile",
            ),
            Validity::RenewSoon { days } => finding(
                Severity::Warning,
                "secret_expires",
                format!("the client secret expires in {days} days ({day})"),
                "create a new secret before then and update this profile",
            ),
            Validity::NotYetValid | Validity::Valid => None,
        };
    }
    let Credential::Certificate { cert, .. } = &p.credential else {
        return None;
    };
    let info = cert.info();
    let what = format!(
        "the certificate {} (thumbprint {})",
        sanitize(&info.subject, false),
        info.thumbprint
    );
    let field = "client_certificate_path";
    match validity(Some(info.not_before), info.not_after, now) {
        Validity::Expired => finding(
            Severity::Error,
            field,
            format!("{what} expired on {}", info.not_after.format("%Y-%m-%d")),
            "create a new certificate, upload it under Certificates & secrets, and point this profile at it",
        ),
        Validity::NotYetValid => finding(
            Severity::Error,
            field,
            format!(
                "{what} is not valid before {}",
                info.not_before.format("%Y-%m-%d %H:%M UTC")
            ),
            "check this machine's clock, or wait until the certificate becomes valid",
        ),
        Validity::RenewSoon { days } => finding(
            Severity::Warning,
            field,
            format!(
                "{what} expires in {days} days ({})",
                info.not_after.format("%Y-%m-%d")
            ),
            "create and upload a new certificate before then, and update this profile",
        ),
        Validity::Valid => None,
    }
}

/// Lint a profile at `now`.
pub fn lint(p: &Profile, now: DateTime<Utc>) -> Vec<Finding> {
    let mut out = Vec::new();
    let mut push = |severity, field, message: String, fix: &str| {
        out.push(Finding {
            severity,
            field,
            message,
            fix: fix.to_string(),
        })
    };
    let authority = url::Url::parse(&p.authority).ok();
    let host = authority
        .as_ref()
        .and_then(|u| u.host_str())
        .unwrap_or_default()
        .to_ascii_lowercase();
    let tenant = p.tenant.clone().unwrap_or_default();

    if matches!(
        tenant.to_ascii_lowercase().as_str(),
        "common" | "organizations" | "consumers"
    ) {
        push(
            Severity::Error,
            "authority",
            format!(
                "authority uses /{tenant}, which client credentials cannot use (AADSTS50059 / 9001023)"
            ),
            "use https://login.microsoftonline.com/<your tenant id>",
        );
    } else if is_entra_host(&host)
        && !tenant.is_empty()
        && !is_guid(&tenant)
        && !tenant.contains('.')
    {
        push(
            Severity::Warning,
            "authority",
            format!(
                "the tenant {:?} is neither a GUID nor a domain name",
                sanitize(&tenant, false)
            ),
            "use the Directory (tenant) ID from Entra ID → Overview",
        );
    }
    if !p.scope.trim().ends_with("/.default") {
        push(
            Severity::Error,
            "scope",
            format!(
                "scope {:?} does not end in /.default (AADSTS1002012)",
                sanitize(&p.scope, false)
            ),
            "client credentials request app roles with \"<App ID URI>/.default\"",
        );
    }
    if p.scope.split_whitespace().count() > 1 {
        push(
            Severity::Error,
            "scope",
            "scope names more than one resource (AADSTS700022)".into(),
            "request one API per token",
        );
    }
    if let Credential::Secret { source, .. } = &p.credential
        && *source == SecretSource::Inline
    {
        push(
            Severity::Warning,
            "client_secret",
            "the client secret is written inline in the config file".into(),
            "move it to an environment variable (client_secret_env) or a 0600 file (client_secret_file)",
        );
    }
    if let Credential::Secret {
        source: SecretSource::File(path),
        ..
    } = &p.credential
        && let Some(mode) = crate::files::readable_by_others(path)
    {
        push(
            Severity::Warning,
            "client_secret_file",
            format!(
                "the client secret file {} is readable by other users (mode {mode:04o})",
                path.display()
            ),
            &format!(
                "chmod 600 {}",
                crate::text::sanitize(&path.display().to_string(), false)
            ),
        );
    }
    if let Some(f) = credential_finding(p, now) {
        push(f.severity, f.field, f.message, &f.fix);
    }
    for (field, url) in [
        ("authority", p.authority.as_str()),
        ("api_url", p.api_url.as_str()),
    ] {
        if let Ok(u) = url::Url::parse(&url.replace("{city}", "x"))
            && u.scheme() == "http"
            && !crate::http::is_loopback(&u)
        {
            push(
                Severity::Error,
                field,
                format!(
                    "{field} is plain http to {}: credentials would travel unencrypted",
                    u.host_str().unwrap_or("?")
                ),
                "use https:// (plain http is allowed only for localhost)",
            );
        }
    }
    if is_entra_host(&host) && !is_guid(&p.client_id) {
        push(
            Severity::Warning,
            "client_id",
            format!(
                "client_id {:?} is not a GUID",
                sanitize(&p.client_id, false)
            ),
            "use the Application (client) ID from the app registration's Overview page",
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnose::testing::profile;
    use crate::secret::ClientSecret;

    fn fields(p: &Profile) -> Vec<(&'static str, Severity)> {
        lint(p, chrono::Utc::now())
            .into_iter()
            .map(|f| (f.field, f.severity))
            .collect()
    }

    #[test]
    fn certificate_expiry_warns_at_30_days_and_fails_when_expired() {
        let dir = tempfile::tempdir().unwrap();
        let pem = crate::config::tests::write_test_cert(dir.path(), "lint-cert");
        let cert = crate::credential::ClientCertificate::load(&pem, None, None).unwrap();
        let mut p = profile();
        p.credential = Credential::Certificate {
            cert: std::sync::Arc::new(cert),
            source: crate::config::PathSource::File,
            send_chain: false,
            alg: crate::credential::AssertionAlg::Ps256,
        };
        let at = |date: &str| {
            let now = chrono::DateTime::parse_from_rfc3339(date).unwrap().to_utc();
            lint(&p, now)
                .into_iter()
                .map(|f| (f.severity, f.message))
                .collect::<Vec<_>>()
        };
        // Valid 2026-01-01 … 2027-01-01.
        assert!(at("2026-06-01T00:00:00Z").is_empty());
        let soon = at("2026-12-20T00:00:00Z");
        assert_eq!(soon.len(), 1, "{soon:?}");
        assert_eq!(soon[0].0, Severity::Warning);
        assert!(soon[0].1.contains("expires in 12 days"), "{soon:?}");
        assert!(soon[0].1.contains("CN=lint-cert"), "{soon:?}");
        let expired = at("2027-02-01T00:00:00Z");
        assert_eq!(expired[0].0, Severity::Error);
        assert!(
            expired[0].1.contains("expired on 2027-01-01"),
            "{expired:?}"
        );
        let early = at("2025-12-01T00:00:00Z");
        assert_eq!(early[0].0, Severity::Error);
        assert!(early[0].1.contains("not valid before"), "{early:?}");
    }

    #[test]
    fn validity_grades_the_window_once_for_everybody() {
        let now = chrono::Utc::now();
        let d = chrono::Duration::days;
        assert_eq!(validity(None, now, now), Validity::Expired);
        assert_eq!(
            validity(Some(now + d(1)), now - d(1), now),
            Validity::Expired
        );
        assert_eq!(
            validity(Some(now + d(1)), now + d(90), now),
            Validity::NotYetValid
        );
        assert_eq!(
            validity(None, now + d(29), now),
            Validity::RenewSoon { days: 29 }
        );
        assert_eq!(validity(None, now + d(30), now), Validity::Valid);
        assert_eq!(Validity::Expired.severity(), Severity::Error);
        assert_eq!(Validity::NotYetValid.severity(), Severity::Error);
        assert_eq!(
            Validity::RenewSoon { days: 3 }.severity(),
            Severity::Warning
        );
        assert_eq!(Validity::Valid.severity(), Severity::Ok);

        let mut p = profile();
        assert_eq!(credential_validity(&p, now), None);
        p.secret_expires = Some(now - d(884));
        assert_eq!(credential_validity(&p, now), Some(Validity::Expired));
    }

    #[test]
    fn clean_profile_has_no_findings() {
        assert!(fields(&profile()).is_empty());
    }

    #[test]
    fn each_rule() {
        let mut p = profile();
        p.tenant = Some("common".into());
        assert_eq!(fields(&p), [("authority", Severity::Error)]);
        let mut p = profile();
        p.scope = "api://x/Weather.Read".into();
        assert_eq!(fields(&p), [("scope", Severity::Error)]);
        let mut p = profile();
        p.credential = Credential::Secret {
            secret: ClientSecret::new("x"),
            source: SecretSource::Inline,
        };
        assert_eq!(fields(&p), [("client_secret", Severity::Warning)]);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let dir = tempfile::tempdir().unwrap();
            let file = dir.path().join("secret");
            std::fs::write(&file, "s").unwrap();
            let mut p = profile();
            p.credential = Credential::Secret {
                secret: ClientSecret::new("s"),
                source: SecretSource::File(file.clone()),
            };
            for (mode, warned) in [(0o644, true), (0o640, true), (0o604, true), (0o600, false)] {
                std::fs::set_permissions(&file, std::fs::Permissions::from_mode(mode)).unwrap();
                let found = lint(&p, chrono::Utc::now());
                assert_eq!(found.len(), usize::from(warned), "{mode:o}: {found:?}");
                if warned {
                    assert_eq!(found[0].field, "client_secret_file");
                    assert_eq!(found[0].severity, Severity::Warning);
                    assert!(found[0].message.contains(&format!("{mode:04o}")));
                    assert_eq!(found[0].fix, format!("chmod 600 {}", file.display()));
                }
            }
        }
        let mut p = profile();
        p.secret_expires = Some(chrono::Utc::now() + chrono::Duration::days(10));
        assert_eq!(fields(&p), [("secret_expires", Severity::Warning)]);
        p.secret_expires = Some(chrono::Utc::now() - chrono::Duration::days(1));
        assert_eq!(fields(&p), [("secret_expires", Severity::Error)]);
        let mut p = profile();
        p.api_url = "http://api.contoso.com/w/{city}".into();
        assert_eq!(fields(&p), [("api_url", Severity::Error)]);
        p.api_url = "http://localhost:8000/w/{city}".into();
        assert!(fields(&p).is_empty());
        let mut p = profile();
        p.client_id = "console-app".into();
        assert_eq!(fields(&p), [("client_id", Severity::Warning)]);
        let mut p = profile();
        p.tenant = Some("contoso".into());
        assert_eq!(fields(&p), [("authority", Severity::Warning)]);
    }
}
