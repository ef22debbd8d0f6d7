//! Config lint: mistakes that make client credentials fail, found before any request.
//!
//! Reads the resolved profile only (no files, no network); one flat checklist of rules.

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

/// Lint a profile at `now`.
pub fn lint(p: &Profile, now: chrono::DateTime<chrono::Utc>) -> Vec<Finding> {
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
    if let Some(exp) = p.secret_expires {
        let days = (exp - now).num_days();
        if exp <= now {
            push(
                Severity::Error,
                "secret_expires",
                format!(
                    "the client secret expired on {} (AADSTS7000222)",
                    exp.format("%Y-%m-%d")
                ),
                "create a new secret under Certificates & secrets and update this profile",
            );
        } else if days < RENEW_WITHIN_DAYS {
            push(
                Severity::Warning,
                "secret_expires",
                format!(
                    "the client secret expires in {days} days ({})",
                    exp.format("%Y-%m-%d")
                ),
                "create a new secret before then and update this profile",
            );
        }
    }
    if let Credential::Certificate { cert, .. } = &p.credential {
        let info = cert.info();
        let days = (info.not_after - now).num_days();
        let what = format!(
            "the certificate {} (thumbprint {})",
            sanitize(&info.subject, false),
            info.thumbprint
        );
        if info.not_after <= now {
            push(
                Severity::Error,
                "client_certificate_path",
                format!("{what} expired on {}", info.not_after.format("%Y-%m-%d")),
                "create a new certificate, upload it under Certificates & secrets, and point this profile at it",
            );
        } else if info.not_before > now {
            push(
                Severity::Error,
                "client_certificate_path",
                format!(
                    "{what} is not valid before {}",
                    info.not_before.format("%Y-%m-%d %H:%M UTC")
                ),
                "check this machine's clock, or wait until the certificate becomes valid",
            );
        } else if days < RENEW_WITHIN_DAYS {
            push(
                Severity::Warning,
                "client_certificate_path",
                format!(
                    "{what} expires in {days} days ({})",
                    info.not_after.format("%Y-%m-%d")
                ),
                "create and upload a new certificate before then, and update this profile",
            );
        }
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
    use crate::config::{Credential, Origin};
    use crate::secret::ClientSecret;

    fn profile() -> Profile {
        Profile {
            name: "p".into(),
            authority: "https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47"
                .into(),
            authority_origin: Origin::File,
            tenant: Some("72f988bf-86f1-41af-91ab-2d7cd011db47".into()),
            token_endpoint: String::new(),
            client_id: "c44b4083-3bb0-49c1-b47d-974e53cbdf3c".into(),
            client_id_origin: Origin::File,
            credential: Credential::Secret {
                secret: ClientSecret::new("x"),
                source: SecretSource::EnvVar("S".into()),
            },
            scope: "api://c44b4083-3bb0-49c1-b47d-974e53cbdf3c/.default".into(),
            api_url: "https://api.contoso.com/api/weather/{city}".into(),
            expected_roles: vec![],
            ca_file: None,
            connect_timeout: std::time::Duration::from_secs(1),
            timeout: std::time::Duration::from_secs(1),
            cache: true,
            secret_expires: None,
            graph: Default::default(),
            config_path: None,
        }
    }

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
