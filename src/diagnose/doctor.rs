//! `doctor`'s checklist: config lint → credential → discovery → token → verification →
//! roles → app-role set-up → API call, each a [`Check`] with its cause and fix.
//!
//! Two steps kept apart: [`gather`] does the I/O (discovery, a token from the network, the
//! verification, one API call, the set-up from `graph`) through `auth`, `api`, `graph` and
//! `jwt::Verifier`, and records what happened as [`Facts`]; [`judge`] turns facts into checks
//! and touches nothing. Also what a profile presents that the set-up is checked against
//! ([`Presented`]: its certificate's thumbprint, its federated token's claims), for `doctor`
//! and `tokenscope setup`. The only module of `diagnose` that does I/O besides
//! `setup::wait`. It prints nothing: the CLI renders the report.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::setup::{self, FederatedClaims, Required, SetupInput};
use super::{Severity, aadsts, lint, refusal, roles};
use crate::api::{self, ApiError, ApiResponse, Outcome};
use crate::auth::{CachedToken, ManagerOptions, TokenError, TokenManager};
use crate::config::{Credential, GraphSource, PathSource, Profile};
use crate::graph::{self, ReadOptions, SetupFacts};
use crate::jwt::{self, Claims, Expectations, TokenFormat, Verifier};
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
    /// The token's verification (`None` without a token, or for an opaque one).
    pub verification: Option<Vec<jwt::Check>>,
    /// The API call with the token (`None` without a token).
    pub api: Option<Result<ApiResponse, ApiError>>,
    /// The app-role set-up, read after the API call.
    pub setup: SetupSeen,
    /// What the profile presents that the set-up is checked against.
    pub presented: Presented,
}

/// Where `doctor` reads the app-role set-up from.
pub enum SetupSource<'a> {
    /// No Graph source and no `setup_files`: the stage is skipped with a note.
    NotConfigured,
    /// Read through `graph::read_for_profile` with these options.
    Read(ReadOptions<'a>),
    /// Configured, but it cannot be used (the reader profile does not resolve).
    Unusable {
        summary: String,
        hint: Option<String>,
    },
}

/// What came of reading the set-up.
#[derive(Debug, Clone)]
pub enum SetupSeen {
    Skipped,
    Failed {
        summary: String,
        hint: Option<String>,
    },
    Read(Box<SetupFacts>),
}

impl SetupSeen {
    pub fn facts(&self) -> Option<&SetupFacts> {
        match self {
            SetupSeen::Read(f) => Some(f),
            _ => None,
        }
    }
}

/// What a profile presents to Entra that the set-up can be checked against: its
/// certificate's thumbprint, its federated token's issuer, subject and audience.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Presented {
    /// SHA-1 hex (upper case), for a certificate credential.
    pub thumbprint: Option<String>,
    pub federated: Option<FederatedSeen>,
}

/// The claims of a federated token that Entra matches against federated credentials.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FederatedSeen {
    pub issuer: String,
    pub subject: String,
    pub audiences: Vec<String>,
}

impl Presented {
    /// Read from the profile's credential; the federated token file is read (never shown)
    /// and decoded without verification. A token that cannot be read or decoded presents
    /// nothing (the token request says why).
    pub fn of(profile: &Profile, now: DateTime<Utc>) -> Presented {
        match &profile.credential {
            Credential::Certificate { cert, .. } => Presented {
                thumbprint: Some(cert.info().thumbprint.clone()),
                federated: None,
            },
            Credential::Federated { token, .. } => {
                let claims = token
                    .assertion(now)
                    .ok()
                    .and_then(|t| jwt::decode(t.expose()).ok())
                    .map(|d| d.claims);
                Presented {
                    thumbprint: None,
                    federated: claims.map(|c| FederatedSeen {
                        issuer: c.iss.unwrap_or_default(),
                        subject: c.sub.unwrap_or_default(),
                        audiences: c.aud.0,
                    }),
                }
            }
            Credential::Secret { .. } => Presented::default(),
        }
    }

    pub fn federated_claims(&self) -> Option<FederatedClaims<'_>> {
        self.federated.as_ref().map(|f| FederatedClaims {
            issuer: &f.issuer,
            subject: &f.subject,
            audiences: &f.audiences,
        })
    }
}

/// The chain's input for `profile`: its facts, its token's claims, what it presents.
pub fn setup_input<'a>(
    profile: &'a Profile,
    facts: &'a SetupFacts,
    claims: Option<&'a Claims>,
    required: Required,
    presented: &'a Presented,
    now: DateTime<Utc>,
) -> SetupInput<'a> {
    SetupInput {
        facts,
        claims,
        token_issued: None,
        required,
        scope: &profile.scope,
        client_id: &profile.client_id,
        presented_thumbprint: presented.thumbprint.as_deref(),
        federated: presented.federated_claims(),
        now,
    }
}

/// Gather the facts and judge them.
pub async fn run(
    profile: &Profile,
    city: &str,
    client: &reqwest::Client,
    setup: SetupSource<'_>,
) -> DoctorReport {
    let facts = gather(profile, city, client, setup).await;
    DoctorReport {
        profile: profile.name.clone(),
        checks: judge(profile, &facts),
    }
}

/// Talk to the identity provider, the API and Graph once each way `doctor` needs.
pub async fn gather(
    profile: &Profile,
    city: &str,
    client: &reqwest::Client,
    setup: SetupSource<'_>,
) -> Facts {
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
    let (mut verification, mut api) = (None, None);
    if let Ok(t) = &token {
        let raw = t.access_token.expose();
        if let TokenFormat::Jwt(j) = jwt::inspect(raw) {
            verification = Some(verifier.verify(raw, &j, &Expectations::from(profile)).await);
        }
        api = Some(api::call_weather(client, &profile.api_url, city, &t.access_token).await);
    }
    let setup = match setup {
        SetupSource::NotConfigured => SetupSeen::Skipped,
        SetupSource::Unusable { summary, hint } => SetupSeen::Failed { summary, hint },
        SetupSource::Read(opts) => match graph::read_for_profile(profile, &opts).await {
            Ok(f) => SetupSeen::Read(Box::new(f)),
            Err(e) => SetupSeen::Failed {
                summary: e.summary(),
                hint: e.hint(),
            },
        },
    };
    Facts {
        now,
        discovery_url,
        discovery,
        token,
        token_took,
        token_at,
        verification,
        api,
        setup,
        presented: Presented::of(profile, now),
    }
}

/// Where a profile's set-up is read from, when it is configured at all.
pub fn setup_configured(profile: &Profile) -> bool {
    profile.graph.source != GraphSource::None
}

/// The checklist, in doctor's order. Pure.
pub fn judge(profile: &Profile, facts: &Facts) -> Vec<Check> {
    let mut out = config_checks(profile, facts.now);
    out.push(credential_check(profile, facts));
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
    // Which clock is off, from the token's times and the token endpoint's Date.
    if let Some(skew) = facts
        .token
        .as_ref()
        .ok()
        .and_then(|t| super::skew::of_token(t))
    {
        out.push(Check {
            cause: Some(skew.cause),
            ..Check::new("clock", Severity::Warning, skew.summary).fix(skew.fix)
        });
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
        Some(TokenFormat::Opaque { reason }) if reason.is_damaged_jwt() => {
            out.push(
                Check::new(
                    "verify",
                    Severity::Error,
                    format!("the access token is {}", reason.summary()),
                )
                .fix("the identity provider, or a proxy between it and this machine, cuts or changes the token; the API will refuse it"),
            );
            None
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
    out.extend(setup_checks(profile, facts, claims));
    out.push(api_check(profile, facts, claims));
    out
}

/// The `setup` stage: skipped with a note without a source; otherwise each role's first
/// broken link and every ✗ finding is a check, or one ✓ line when nothing is broken.
fn setup_checks(profile: &Profile, facts: &Facts, claims: Option<&Claims>) -> Vec<Check> {
    let set_up = match &facts.setup {
        SetupSeen::Skipped => {
            return vec![Check::new(
                "setup",
                Severity::Info,
                "skipped: set graph_credential (\"profile\", \"azure-cli\" or an admin reader \
                 profile) or setup_files to check the app-role set-up too",
            )];
        }
        SetupSeen::Failed { summary, hint } => {
            return vec![Check {
                fix: hint.clone(),
                ..Check::new(
                    "setup",
                    Severity::Warning,
                    format!("could not read the app-role set-up: {summary}"),
                )
            }];
        }
        SetupSeen::Read(f) => f,
    };
    let required = match facts
        .api
        .as_ref()
        .and_then(|r| r.as_ref().ok())
        .filter(|r| r.outcome() == Outcome::Forbidden)
        .and_then(|r| refusal::read_api(r).required_role)
    {
        Some(role) => Required::from_403(&role),
        None => Required::expected(&profile.expected_roles),
    };
    let input = setup_input(
        profile,
        set_up,
        claims,
        required,
        &facts.presented,
        facts.now,
    );
    let report = setup::analyse(&input);
    let mut out: Vec<Check> = report
        .chains
        .iter()
        .filter_map(|c| c.first_broken().map(|l| (c, l)))
        .map(|(c, l)| Check {
            cause: l.cause.clone(),
            fix: l.fix.clone(),
            ..Check::new(
                "setup",
                Severity::Error,
                format!("{} ({}): {}", c.role, l.kind.label(), l.summary),
            )
        })
        .collect();
    out.extend(
        report
            .findings
            .iter()
            .filter(|f| f.severity == Severity::Error)
            .map(|f| Check {
                fix: f.fix.clone(),
                ..Check::new(
                    "setup",
                    Severity::Error,
                    format!("{}: {}", f.topic.replace('_', " "), f.summary),
                )
            }),
    );
    if out.is_empty() {
        let warnings = report
            .chains
            .iter()
            .flat_map(|c| &c.links)
            .map(|l| l.severity)
            .chain(report.findings.iter().map(|f| f.severity))
            .filter(|s| *s == Severity::Warning)
            .count();
        let roles: Vec<&str> = report.chains.iter().map(|c| c.role.as_str()).collect();
        let note = match warnings {
            0 => String::new(),
            1 => "; 1 warning (`tokenscope setup` shows it)".into(),
            n => format!("; {n} warnings (`tokenscope setup` shows them)"),
        };
        out.push(Check::new(
            "setup",
            Severity::Ok,
            format!(
                "{} from {}: no broken link{note}",
                if roles.is_empty() {
                    "no role to check".to_string()
                } else {
                    roles.join(", ")
                },
                set_up.source
            ),
        ));
    }
    out
}

/// Lint's findings, but not the credential's validity: the credential line gives that
/// verdict (one verdict per fact).
fn config_checks(profile: &Profile, now: DateTime<Utc>) -> Vec<Check> {
    let validity = lint::credential_finding(profile, now);
    let findings: Vec<lint::Finding> = lint::lint(profile, now)
        .into_iter()
        .filter(|f| Some(f) != validity.as_ref())
        .collect();
    if findings.is_empty() {
        return vec![Check::new("config", Severity::Ok, "no problems found")];
    }
    findings
        .into_iter()
        .map(|f| Check::new("config", f.severity, format!("{}: {}", f.field, f.message)).fix(f.fix))
        .collect()
}

/// AADSTS codes for which the identity provider refused the credential itself (the secret,
/// the certificate, the federated token), whatever the profile says about its validity.
const CREDENTIAL_REFUSED: [u64; 9] = [
    7000215, 7000222, 700027, 700024, 70021, 700211, 700212, 700213, 50027,
];

/// The credential in one line with one verdict: its validity as lint grades it (with lint's
/// fix), or ✗ when the identity provider refused it — a secret Entra calls expired is never ✓
/// because the profile's `secret_expires` says 2099.
fn credential_check(profile: &Profile, facts: &Facts) -> Check {
    let now = facts.now;
    let line = credential_line(profile, now);
    let refused = facts
        .token
        .as_ref()
        .err()
        .and_then(TokenError::aadsts_code)
        .filter(|c| CREDENTIAL_REFUSED.contains(c));
    if let Some(code) = refused {
        // The profile says it is still valid, the identity provider that it expired: say the
        // latter once, and that the profile's date is wrong, instead of "expires in 73 years".
        if let (7000222, Credential::Secret { source, .. }, Some(e)) =
            (code, &profile.credential, profile.secret_expires)
            && e > now
        {
            return Check::new(
                "credential",
                Severity::Error,
                format!(
                    "client secret from {}: expired, says the identity provider (AADSTS7000222); \
                     the profile's secret_expires ({}) is out of date",
                    sanitize(&source.to_string(), false),
                    e.format("%Y-%m-%d")
                ),
            )
            .fix("set secret_expires to the new secret's expiry when you put it in the profile");
        }
        return Check::new(
            "credential",
            Severity::Error,
            format!("{line} — refused by the identity provider (AADSTS{code}, see token)"),
        );
    }
    match lint::credential_finding(profile, now) {
        Some(f) => Check::new("credential", f.severity, line).fix(f.fix),
        None => Check::new("credential", Severity::Ok, line),
    }
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
                        ", {} {} ({})",
                        expires_verb(e, now),
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
                "certificate {} ({}), subject {}, thumbprint {}, {} {} ({}); {} assertions",
                sanitize(&i.path.display().to_string(), false),
                from(source),
                sanitize(&i.subject, false),
                i.thumbprint,
                expires_verb(i.not_after, now),
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

/// "expires" for a date to come, "expired" for one past.
fn expires_verb(at: DateTime<Utc>, now: DateTime<Utc>) -> &'static str {
    if at > now { "expires" } else { "expired" }
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

fn api_check(profile: &Profile, facts: &Facts, claims: Option<&jwt::Claims>) -> Check {
    let resp = match facts.api.as_ref() {
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
    // doctor's token always comes from the token endpoint, never the cache.
    let token = refusal::TokenUse {
        cached_at: None,
        renew: refusal::Renew::Unknown,
        now: facts.token_at,
    };
    let explained = refusal::explain_with_setup(
        resp,
        claims,
        &profile.expected_roles,
        &profile.scope,
        facts.setup.facts(),
        token,
    );
    match explained {
        Some(a) => Check {
            cause: Some(a.cause),
            fix: Some(a.fix),
            ..Check::new("api", Severity::Error, format!("{line}: {}", a.summary))
        },
        None => Check::new("api", Severity::Error, line),
    }
}

#[cfg(test)]
mod tests;
