//! `doctor`'s checklist: config lint → credential → discovery → token → verification →
//! roles → API call, each a [`Check`] with its cause and fix.
//!
//! Two steps kept apart: [`gather`] does the I/O (discovery, a token from the network, the
//! verification, one API call) through `auth`, `api` and `jwt::Verifier`, and records what
//! happened as [`Facts`]; [`judge`] turns facts into checks and touches nothing. The only
//! module of `diagnose` that does I/O. It prints nothing: the CLI renders the report.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::{Severity, aadsts, lint, refusal, roles};
use crate::api::{self, ApiError, ApiResponse, Outcome};
use crate::auth::{CachedToken, ManagerOptions, TokenError, TokenManager};
use crate::config::{Credential, PathSource, Profile};
use crate::jwt::{self, Expectations, TokenFormat, Verifier};
use crate::problem::Problem;
use crate::text::sanitize;
use crate::time;

/// One line of the checklist (`doctor --json`'s `checks[]`, as README documents it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Check {
    pub stage: &'static str,
    pub severity: Severity,
    /// What was found. It may quote servers and tokens: print it sanitised.
    pub detail: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cause: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
}

impl Check {
    fn new(stage: &'static str, severity: Severity, detail: impl Into<String>) -> Check {
        Check {
            stage,
            severity,
            detail: detail.into(),
            cause: None,
            fix: None,
        }
    }
    fn fix(mut self, fix: impl Into<String>) -> Check {
        self.fix = Some(fix.into());
        self
    }
}

/// The checklist for one profile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DoctorReport {
    pub profile: String,
    pub checks: Vec<Check>,
}

impl DoctorReport {
    /// A check failed (doctor exits 1).
    pub fn failed(&self) -> bool {
        self.checks.iter().any(|c| c.severity == Severity::Error)
    }
}

/// What `doctor` saw, before any judgement.
#[derive(Debug)]
pub struct Facts {
    /// When the run started: lint and the credential's expiry are graded at this instant.
    pub now: DateTime<Utc>,
    /// The v2 discovery document's URL and its issuer, or why it could not be read.
    pub discovery_url: String,
    pub discovery: Result<String, String>,
    /// The token request (always from the network: doctor checks the credential itself).
    pub token: Result<Arc<CachedToken>, TokenError>,
    /// How long the token request took, and when it ended.
    pub token_took: Duration,
    pub token_at: DateTime<Utc>,
    /// How far the identity provider's clock is from this machine's, when it said.
    pub clock_skew: Option<chrono::Duration>,
    /// The token's verification (`None` without a token, or for an opaque one).
    pub verification: Option<Vec<jwt::Check>>,
    /// The API call with the token (`None` without a token).
    pub api: Option<Result<ApiResponse, ApiError>>,
}

/// Gather the facts and judge them.
pub async fn run(profile: &Profile, city: &str, client: &reqwest::Client) -> DoctorReport {
    let facts = gather(profile, city, client).await;
    DoctorReport {
        profile: profile.name.clone(),
        checks: judge(profile, &facts),
    }
}

/// Talk to the identity provider and the API once each way `doctor` needs.
pub async fn gather(profile: &Profile, city: &str, client: &reqwest::Client) -> Facts {
    let now = time::now();
    let verifier = Verifier::new(client.clone());
    // The v2 document; the verification below reuses it (or fetches v1's for a v1 token).
    let discovery_url = format!(
        "{}/v2.0/.well-known/openid-configuration",
        profile.authority
    );
    let discovery = verifier
        .discover(&discovery_url)
        .await
        .map(|(issuer, _)| issuer);
    let manager =
        TokenManager::for_profile(profile, client.clone(), None, ManagerOptions::default());
    let started = Instant::now();
    let token = manager.token().await;
    let token_took = started.elapsed();
    let token_at = time::now();
    let clock_skew = manager.snapshot().clock_skew;
    let (mut verification, mut api) = (None, None);
    if let Ok(t) = &token {
        let raw = t.access_token.expose();
        if let TokenFormat::Jwt(j) = jwt::inspect(raw) {
            verification = Some(verifier.verify(raw, &j, &Expectations::from(profile)).await);
        }
        api = Some(api::call_weather(client, &profile.api_url, city, &t.access_token).await);
    }
    Facts {
        now,
        discovery_url,
        discovery,
        token,
        token_took,
        token_at,
        clock_skew,
        verification,
        api,
    }
}

/// The checklist, in doctor's order. Pure.
pub fn judge(profile: &Profile, facts: &Facts) -> Vec<Check> {
    let mut out = config_checks(profile, facts.now);
    out.push(credential_check(profile, facts.now));
    out.push(match &facts.discovery {
        Ok(issuer) => Check::new(
            "discovery",
            Severity::Ok,
            format!("issuer {}", sanitize(issuer, false)),
        ),
        Err(e) => Check::new(
            "discovery",
            Severity::Error,
            format!("{}: {e}", facts.discovery_url),
        )
        .fix("check authority: it must be https://<host>/<tenant id>, and the host reachable"),
    });
    out.push(token_check(facts));
    if let Some(skew) = facts.clock_skew {
        out.push(
            Check::new(
                "clock",
                Severity::Warning,
                format!(
                    "the identity provider's clock differs from this machine's by {}",
                    time::human_secs(skew.num_seconds())
                ),
            )
            .fix("synchronise this machine's clock (NTP)"),
        );
    }
    let format = facts
        .token
        .as_ref()
        .ok()
        .map(|t| jwt::inspect(t.access_token.expose()));
    let claims = match &format {
        Some(TokenFormat::Jwt(j)) => {
            out.extend(verification_checks(facts.verification.as_deref()));
            out.extend(role_checks(&roles::check(
                Some(&j.claims),
                &profile.expected_roles,
            )));
            Some(&j.claims)
        }
        Some(TokenFormat::Opaque { .. }) => {
            out.push(Check::new(
                "verify",
                Severity::Info,
                "opaque (non-JWT) token: nothing to verify locally",
            ));
            None
        }
        None => None,
    };
    out.push(api_check(profile, facts.api.as_ref(), claims));
    out
}

fn config_checks(profile: &Profile, now: DateTime<Utc>) -> Vec<Check> {
    let findings = lint::lint(profile, now);
    if findings.is_empty() {
        return vec![Check::new("config", Severity::Ok, "no problems found")];
    }
    findings
        .into_iter()
        .map(|f| Check::new("config", f.severity, format!("{}: {}", f.field, f.message)).fix(f.fix))
        .collect()
}

/// The credential in one line, graded by its expiry as lint grades it (the lint line above
/// says what to do, so this one carries no fix of its own).
fn credential_check(profile: &Profile, now: DateTime<Utc>) -> Check {
    let severity = lint::credential_validity(profile, now).map_or(Severity::Ok, |v| v.severity());
    Check::new("credential", severity, credential_line(profile, now))
}

/// What the profile authenticates with, in one line (never the secret itself). Also the
/// `auth` line of `tokenscope token`.
pub fn credential_line(profile: &Profile, now: DateTime<Utc>) -> String {
    let from = |s: &PathSource| match s {
        PathSource::File => "from the profile".to_string(),
        PathSource::EnvVar(v) => format!("from {v}"),
    };
    match &profile.credential {
        Credential::Secret { source, .. } => {
            let expiry = profile
                .secret_expires
                .map(|e| {
                    format!(
                        ", expires {} ({})",
                        e.format("%Y-%m-%d"),
                        time::countdown(e, now)
                    )
                })
                .unwrap_or_default();
            format!(
                "client secret from {}{expiry}",
                sanitize(&source.to_string(), false)
            )
        }
        Credential::Certificate {
            cert, source, alg, ..
        } => {
            let i = cert.info();
            format!(
                "certificate {} ({}), subject {}, thumbprint {}, expires {} ({}); {} assertions",
                sanitize(&i.path.display().to_string(), false),
                from(source),
                sanitize(&i.subject, false),
                i.thumbprint,
                i.not_after.format("%Y-%m-%d"),
                time::countdown(i.not_after, now),
                alg.name()
            )
        }
        Credential::Federated { token, source } => format!(
            "federated token file {} ({})",
            sanitize(&token.path().display().to_string(), false),
            from(source)
        ),
    }
}

fn token_check(facts: &Facts) -> Check {
    match &facts.token {
        Ok(t) => Check::new(
            "token",
            Severity::Ok,
            format!(
                "acquired in {}, expires {}",
                time::latency(facts.token_took),
                time::relative(t.expires_on, facts.token_at)
            ),
        ),
        Err(e) => {
            let a = aadsts::advise(e);
            Check {
                cause: Some(a.cause),
                ..Check::new("token", Severity::Error, a.summary).fix(a.fix)
            }
        }
    }
}

/// The verifier's checks, but not a passing v2 discovery again (reported above); a v1
/// token's document is reported here.
fn verification_checks(checks: Option<&[jwt::Check]>) -> Vec<Check> {
    checks
        .unwrap_or_default()
        .iter()
        .filter(|c| {
            !(c.name == "discovery" && c.severity == Severity::Ok && c.detail.starts_with("v2"))
        })
        .map(|c| Check::new(c.name, c.severity, c.detail.clone()))
        .collect()
}

fn role_checks(r: &roles::RoleCheck) -> Vec<Check> {
    let mut out = Vec::new();
    if r.delegated {
        out.push(Check::new(
            "roles",
            Severity::Error,
            "the token has scp (delegated scopes): not an app-only token",
        ));
    }
    let held = || sanitize(&r.held.join(", "), false);
    out.push(if r.no_roles_claim {
        // Without expected roles nobody said a role is needed: a warning, not a failure.
        let severity = if r.expected.is_empty() {
            Severity::Warning
        } else {
            Severity::Error
        };
        Check::new(
            "roles",
            severity,
            "the token has no roles claim: no app role granted, or admin consent missing",
        )
        .fix("grant an application permission (app role) of the API to this client and give admin consent")
    } else if r.missing.is_empty() {
        Check::new("roles", Severity::Ok, held())
    } else {
        Check::new(
            "roles",
            Severity::Error,
            format!("missing {} (token has {})", r.missing.join(", "), held()),
        )
        .fix("grant the missing app role(s) to this client and give admin consent")
    });
    out
}

fn api_check(
    profile: &Profile,
    api: Option<&Result<ApiResponse, ApiError>>,
    claims: Option<&jwt::Claims>,
) -> Check {
    let resp = match api {
        None => return Check::new("api", Severity::Warning, "not called: no token"),
        Some(Err(e)) => {
            return Check {
                fix: e.hint(),
                ..Check::new("api", Severity::Error, e.summary())
            };
        }
        Some(Ok(resp)) => resp,
    };
    let line = format!(
        "GET {} → {} in {}",
        resp.url,
        resp.status,
        time::latency(resp.latency)
    );
    if resp.outcome() == Outcome::Success {
        return Check::new("api", Severity::Ok, line);
    }
    match refusal::explain(resp, claims, &profile.expected_roles, &profile.scope) {
        Some(a) => Check {
            cause: Some(a.cause),
            fix: Some(a.fix),
            ..Check::new("api", Severity::Error, format!("{line}: {}", a.summary))
        },
        None => Check::new("api", Severity::Error, line),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::TokenSource;
    use crate::diagnose::testing::{profile, response};
    use crate::secret::AccessToken;
    use serde_json::json;

    fn token(payload: serde_json::Value) -> Arc<CachedToken> {
        let now = time::now();
        let raw = format!(
            "{}.{}.{}",
            jwt::b64url(br#"{"alg":"RS256","typ":"JWT"}"#),
            jwt::b64url(payload.to_string().as_bytes()),
            jwt::b64url(b"sig")
        );
        Arc::new(CachedToken {
            access_token: AccessToken::new(raw),
            token_type: "Bearer".into(),
            acquired_at: now,
            expires_on: now + chrono::Duration::hours(1),
            ext_expires_on: None,
            refresh_on: None,
            source: TokenSource::Network,
            generation: 1,
        })
    }

    fn no_token() -> TokenError {
        TokenError::Insecure(crate::http::InsecureTransport {
            what: "the client credential",
            host: "login.example".into(),
        })
    }

    fn facts(token: Result<Arc<CachedToken>, TokenError>, api: Option<ApiResponse>) -> Facts {
        let now = time::now();
        Facts {
            now,
            discovery_url: "https://login.example/t/v2.0/.well-known/openid-configuration".into(),
            discovery: Ok("https://login.example/t/v2.0".into()),
            verification: token.as_ref().ok().map(|_| Vec::new()),
            token,
            token_took: Duration::from_micros(2_400),
            token_at: now,
            clock_skew: None,
            api: api.map(Ok),
        }
    }

    fn stage<'a>(checks: &'a [Check], stage: &str) -> &'a Check {
        checks
            .iter()
            .find(|c| c.stage == stage)
            .unwrap_or_else(|| panic!("no {stage} in {checks:#?}"))
    }

    #[test]
    fn the_credential_line_is_graded_by_its_expiry_as_lint_grades_it() {
        let mut p = profile();
        let now = time::now();
        let f = facts(Err(no_token()), None);
        assert_eq!(stage(&judge(&p, &f), "credential").severity, Severity::Ok);

        p.secret_expires = Some(now - chrono::Duration::days(884));
        let checks = judge(&p, &f);
        let c = stage(&checks, "credential");
        assert_eq!(c.severity, Severity::Error, "{c:?}");
        assert!(c.detail.contains("884 days ago"), "{c:?}");
        assert_eq!(stage(&checks, "config").severity, Severity::Error);

        p.secret_expires = Some(now + chrono::Duration::days(10) + chrono::Duration::hours(1));
        let c = stage(&judge(&p, &f), "credential").clone();
        assert_eq!(c.severity, Severity::Warning, "{c:?}");
        assert!(c.detail.contains("in 10 days"), "{c:?}");
    }

    #[test]
    fn roles_latency_and_an_http_error_explained() {
        let mut p = profile();
        p.expected_roles = vec!["Weather.Read".into(), "Weather.Write".into()];
        let t = token(json!({"roles": ["weather.read"], "aud": "x"}));
        let checks = judge(&p, &facts(Ok(t), Some(response(404, "no such city", None))));
        let token = stage(&checks, "token");
        assert!(token.detail.starts_with("acquired in 2.4 ms"), "{token:?}");
        let roles = stage(&checks, "roles");
        assert_eq!(roles.severity, Severity::Error);
        assert_eq!(
            roles.detail,
            "missing Weather.Write (token has weather.read)"
        );
        let api = stage(&checks, "api");
        assert_eq!(api.severity, Severity::Error);
        assert_eq!(
            api.detail,
            "GET http://localhost/api/weather/Seattle → 404 in 3.0 ms: the API has no such resource (HTTP 404)"
        );
        assert!(
            api.fix.as_deref().is_some_and(|f| f.contains("api_url")),
            "{api:?}"
        );
    }

    #[test]
    fn without_a_token_the_api_is_not_called_and_the_report_fails() {
        let f = facts(Err(no_token()), None);
        let report = DoctorReport {
            profile: "p".into(),
            checks: judge(&profile(), &f),
        };
        assert!(report.failed());
        let api = stage(&report.checks, "api");
        assert_eq!(
            (api.severity, api.detail.as_str()),
            (Severity::Warning, "not called: no token")
        );
        assert!(!report.checks.iter().any(|c| c.stage == "roles"));
    }
}
