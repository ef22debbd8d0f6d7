//! The app-role chain: for each role the API requires, the five links from the tenant's
//! set-up to the API's decision — the API defines the role → the client has it configured →
//! it is granted (admin consent) → it is in the token → the API requires it — each ✓ / ⚠ / ✗
//! with its cause and fix, and the findings around the chain (token version, audience form,
//! assignment required, roles defined on the client, secret and certificate expiry by the
//! tenant, the certificate's thumbprint, the federated credential).
//!
//! [`analyse`] is pure: it reads [`SetupFacts`] (from `graph`), the token's claims and what
//! the caller knows (the required roles, the profile's certificate thumbprint and federated
//! token claims), and returns a [`SetupReport`] for the front ends to render. The links are
//! in `links`, the findings in `findings`, the case-sensitive comparison that points out
//! differing characters in `compare`. [`wait`] is the one part that does I/O: asking a token
//! manager for fresh tokens until a role reaches them.
//!
//! Must not read Graph, files or the network (the caller brings the facts), and must not
//! print. It uses `graph::model`, `jwt::Claims` and `diagnose::lint`'s expiry rule only.

mod compare;
mod findings;
mod links;
pub mod wait;

use chrono::{DateTime, Local, Utc};
use serde::Serialize;

use super::Severity;
use crate::graph::model::{AppRoleDef, SetupFacts};
use crate::jwt::Claims;
use crate::text::sanitize;

pub use compare::mark_difference;
pub use wait::{Attempt, DEFAULT_BOUND, WaitDone, WaitError, wait_for_role};

/// Everything the chain is judged from.
#[derive(Debug, Clone)]
pub struct SetupInput<'a> {
    pub facts: &'a SetupFacts,
    /// The token on screen / just acquired (`None`: no token yet).
    pub claims: Option<&'a Claims>,
    /// When the token was issued (its `iat`; `claims.iat` when `None`).
    pub token_issued: Option<DateTime<Utc>>,
    /// Which role(s) the API requires, and how that is known.
    pub required: Required,
    /// The profile's scope (`api://…/.default`).
    pub scope: &'a str,
    /// The profile's client id.
    pub client_id: &'a str,
    /// SHA-1 hex thumbprint of the profile's certificate, when it signs in with one.
    pub presented_thumbprint: Option<&'a str>,
    /// `iss` / `sub` / `aud` of the profile's federated token, when it presents one.
    pub federated: Option<FederatedClaims<'a>>,
    pub now: DateTime<Utc>,
}

/// What a federated token (workload identity) claims to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FederatedClaims<'a> {
    pub issuer: &'a str,
    pub subject: &'a str,
    pub audiences: &'a [String],
}

/// How the required roles are known.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RequiredFrom {
    /// The API named it in its last 403.
    Api403,
    /// The profile's `expected_roles`.
    ExpectedRoles,
    /// Nothing says: the chain is drawn for the roles the client holds or the token carries.
    Nothing,
}

/// Which role(s) the API requires.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Required {
    pub roles: Vec<String>,
    pub from: RequiredFrom,
}

impl Required {
    /// The role a 403 named (`diagnose::refusal` reads it from the API's answer).
    pub fn from_403(role: &str) -> Required {
        Required {
            roles: vec![role.to_string()],
            from: RequiredFrom::Api403,
        }
    }
    /// The profile's `expected_roles` ([`RequiredFrom::Nothing`] when there are none).
    pub fn expected(roles: &[String]) -> Required {
        Required {
            roles: roles.to_vec(),
            from: if roles.is_empty() {
                RequiredFrom::Nothing
            } else {
                RequiredFrom::ExpectedRoles
            },
        }
    }
}

/// The links of a role's chain, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LinkKind {
    /// The API's registration defines the role (enabled, for applications).
    Defined,
    /// The client's "API permissions" list it (`requiredResourceAccess`, type Role).
    Configured,
    /// An app-role assignment exists (admin consent).
    Granted,
    /// The token's `roles` carry it.
    InToken,
    /// The API requires it.
    Required,
}

impl LinkKind {
    pub const ALL: [LinkKind; 5] = [
        LinkKind::Defined,
        LinkKind::Configured,
        LinkKind::Granted,
        LinkKind::InToken,
        LinkKind::Required,
    ];

    /// A short name for a checklist column: "defined", "configured", "granted", "in token",
    /// "required".
    pub fn label(self) -> &'static str {
        match self {
            LinkKind::Defined => "defined",
            LinkKind::Configured => "configured",
            LinkKind::Granted => "granted",
            LinkKind::InToken => "in token",
            LinkKind::Required => "required",
        }
    }
}

/// One link of a role's chain. Text is sanitised.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Link {
    #[serde(rename = "link")]
    pub kind: LinkKind,
    pub severity: Severity,
    pub summary: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cause: Option<String>,
    /// What to do: the portal path and, where there is one, the `az` command.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
}

impl Link {
    fn new(kind: LinkKind, severity: Severity, summary: impl Into<String>) -> Link {
        Link {
            kind,
            severity,
            summary: sanitize(&summary.into(), false),
            cause: None,
            fix: None,
        }
    }
    fn ok(kind: LinkKind, summary: impl Into<String>) -> Link {
        Link::new(kind, Severity::Ok, summary)
    }
    fn warn(kind: LinkKind, summary: impl Into<String>) -> Link {
        Link::new(kind, Severity::Warning, summary)
    }
    fn broken(kind: LinkKind, summary: impl Into<String>) -> Link {
        Link::new(kind, Severity::Error, summary)
    }
    fn cause(mut self, cause: impl Into<String>) -> Link {
        self.cause = Some(sanitize(&cause.into(), false));
        self
    }
    fn fix(mut self, fix: impl Into<String>) -> Link {
        self.fix = Some(sanitize(&fix.into(), false));
        self
    }
}

/// One role's chain: five links, in [`LinkKind`] order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RoleChain {
    /// As the API or the profile names it, sanitised.
    pub role: String,
    pub links: Vec<Link>,
}

impl RoleChain {
    /// The first ✗ link: where the chain breaks.
    pub fn first_broken(&self) -> Option<&Link> {
        self.links.iter().find(|l| l.severity == Severity::Error)
    }
    pub fn link(&self, kind: LinkKind) -> Option<&Link> {
        self.links.iter().find(|l| l.kind == kind)
    }
}

/// Something around the chain (`topic`: `token_version`, `audience`,
/// `assignment_required`, `role_on_client`, `secret`, `certificate`, `thumbprint`,
/// `federated`, `roles`). Text is sanitised.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub topic: &'static str,
    pub severity: Severity,
    pub summary: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
}

impl Finding {
    fn new(topic: &'static str, severity: Severity, summary: impl Into<String>) -> Self {
        Finding {
            topic,
            severity,
            summary: sanitize(&summary.into(), false),
            fix: None,
        }
    }
    fn fix(mut self, fix: impl Into<String>) -> Self {
        self.fix = Some(sanitize(&fix.into(), false));
        self
    }
}

/// The chain for every required role, and the findings around it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SetupReport {
    pub chains: Vec<RoleChain>,
    pub findings: Vec<Finding>,
}

impl SetupReport {
    /// The worst severity of any link or finding (`Ok` for an empty report).
    pub fn worst(&self) -> Severity {
        self.chains
            .iter()
            .flat_map(|c| c.links.iter().map(|l| l.severity))
            .chain(self.findings.iter().map(|f| f.severity))
            .max()
            .unwrap_or(Severity::Ok)
    }
    /// A link or a finding is ✗ (`tokenscope setup` exits 1).
    pub fn failed(&self) -> bool {
        self.worst() == Severity::Error
    }
    /// The chain of `role` (case-insensitively, as roles compare).
    pub fn chain(&self, role: &str) -> Option<&RoleChain> {
        self.chains
            .iter()
            .find(|c| c.role.eq_ignore_ascii_case(role))
    }
}

/// Judge the set-up. Pure.
pub fn analyse(input: &SetupInput) -> SetupReport {
    let seen = Seen::new(input);
    let chains: Vec<RoleChain> = roles_to_check(&seen)
        .iter()
        .map(|role| links::chain(&seen, role))
        .collect();
    let mut findings = findings::all(&seen);
    if chains.is_empty() {
        findings.insert(
            0,
            Finding::new(
                "roles",
                Severity::Warning,
                "no role to check: nothing says which role the API requires, and the client \
                 holds none of the API's roles",
            )
            .fix("list the roles the API requires in the profile's expected_roles"),
        );
    }
    SetupReport { chains, findings }
}

/// The required roles; with none, every role the client has configured or granted for the
/// API, or the token carries (so the chain still shows what the set-up holds).
fn roles_to_check(seen: &Seen) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut push = |r: &str| {
        if !r.is_empty() && !out.iter().any(|o| o.eq_ignore_ascii_case(r)) {
            out.push(r.to_string());
        }
    };
    let required = &seen.input.required;
    if !required.roles.is_empty() {
        required.roles.iter().for_each(|r| push(r));
        return out;
    }
    let by_id = |id: &str| {
        seen.api_roles
            .iter()
            .find(|r| r.id.eq_ignore_ascii_case(id))
    };
    if let Some(app) = &seen.facts.client_app {
        for access in app
            .required_resource_access
            .iter()
            .filter(|r| seen.is_api_app_id(&r.resource_app_id))
            .flat_map(|r| &r.access)
        {
            if let Some(def) = by_id(&access.id) {
                push(&def.value);
            }
        }
    }
    for a in seen.grants_on_api() {
        if let Some(def) = by_id(&a.app_role_id) {
            push(&def.value);
        }
    }
    if let Some(c) = seen.input.claims {
        c.roles.iter().for_each(|r| push(r));
    }
    out
}

/// The input with the objects every link and finding looks up, found once.
struct Seen<'a> {
    pub input: &'a SetupInput<'a>,
    pub facts: &'a SetupFacts,
    /// The API's app roles: its application's, else its service principal's.
    pub api_roles: &'a [AppRoleDef],
    pub api_app_id: Option<&'a str>,
    pub api_sp_id: Option<&'a str>,
    /// "Weather API", for sentences.
    pub api: String,
    /// The client's display name, for sentences.
    pub client: String,
    /// When the token was issued.
    pub issued: Option<DateTime<Utc>>,
}

impl<'a> Seen<'a> {
    fn new(input: &'a SetupInput<'a>) -> Seen<'a> {
        let facts = input.facts;
        let (app, sp) = (facts.api_app.as_ref(), facts.api_sp.as_ref());
        let api_roles: &[AppRoleDef] = match (app, sp) {
            (Some(a), _) if !a.app_roles.is_empty() => &a.app_roles,
            (_, Some(s)) => &s.app_roles,
            (Some(a), None) => &a.app_roles,
            (None, None) => &[],
        };
        let nonempty = |s: &'a str| Some(s).filter(|s| !s.trim().is_empty());
        let api_app_id = app
            .and_then(|a| nonempty(&a.app_id))
            .or_else(|| sp.and_then(|s| nonempty(&s.app_id)));
        let api = app
            .and_then(|a| nonempty(&a.display_name))
            .or_else(|| sp.and_then(|s| nonempty(&s.display_name)))
            .map(str::to_string)
            .unwrap_or_else(|| {
                format!(
                    "the API {}",
                    crate::graph::reader::scope_resource(input.scope)
                )
            });
        let client = facts
            .client_app
            .as_ref()
            .and_then(|a| nonempty(&a.display_name))
            .or_else(|| {
                facts
                    .client_sp
                    .as_ref()
                    .and_then(|s| nonempty(&s.display_name))
            })
            .map(str::to_string)
            .unwrap_or_else(|| format!("the client {}", input.client_id));
        let issued = input.token_issued.or_else(|| {
            input
                .claims
                .and_then(|c| c.iat)
                .and_then(|t| DateTime::from_timestamp(t, 0))
        });
        Seen {
            input,
            facts,
            api_roles,
            api_app_id,
            api_sp_id: sp.map(|s| s.id.as_str()).filter(|s| !s.is_empty()),
            api: sanitize(&api, false),
            client: sanitize(&client, false),
            issued,
        }
    }

    pub fn is_api_app_id(&self, id: &str) -> bool {
        self.api_app_id.is_some_and(|a| a.eq_ignore_ascii_case(id))
    }

    /// The API's appId for a command line, or a placeholder.
    pub fn api_app_id_or(&self) -> &str {
        self.api_app_id.unwrap_or("<API application id>")
    }

    /// The client's service principal id, when it was read.
    pub fn client_sp_id(&self) -> Option<&'a str> {
        self.facts
            .client_sp
            .as_ref()
            .map(|s| s.id.as_str())
            .filter(|s| !s.is_empty())
    }

    /// The assignments the client holds on the API's service principal.
    pub fn grants_on_api(&self) -> impl Iterator<Item = &'a crate::graph::Assignment> + '_ {
        let principal = self.client_sp_id();
        let resource = self.api_sp_id;
        self.facts.assignments.iter().filter(move |a| {
            resource.is_some_and(|r| a.resource_id.eq_ignore_ascii_case(r))
                && (a.principal_id.is_empty()
                    || principal.is_none_or(|p| a.principal_id.eq_ignore_ascii_case(p)))
        })
    }
}

/// A moment for a sentence: local `12:03:10` on the day of `now`, else `2025-06-01 12:03`.
fn when(t: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let (t, now) = (t.with_timezone(&Local), now.with_timezone(&Local));
    if t.date_naive() == now.date_naive() {
        t.format("%H:%M:%S").to_string()
    } else {
        t.format("%Y-%m-%d %H:%M").to_string()
    }
}

#[cfg(test)]
mod tests;
