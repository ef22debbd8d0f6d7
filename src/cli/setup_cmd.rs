//! `tokenscope setup`: reads a profile's app-role set-up (Microsoft Graph or exported files),
//! gets a token (through the token manager and the cache, as `token` does) for its claims,
//! and prints `diagnose::setup`'s chain — one block per role, the first broken link marked
//! with its cause and fix under it, then the findings — or `--json`. Exit 0 when nothing is
//! ✗, 1 when something is, 2 for a config without a set-up source, 3 when Graph gives no
//! token or refuses, 5 for other Graph failures.
//!
//! Also what `doctor` and `call` need to read the same set-up ([`SetupAccess`]). Printing,
//! exit codes and wiring only: the reading is `graph`'s, the judging `diagnose::setup`'s.

use std::sync::Arc;

use serde_json::json;

use super::out::{errln, outln};
use super::{EXIT_API, EXIT_TOKEN, EXIT_USAGE, Failure, http_client};
use crate::auth::{CachedToken, ManagerOptions, TokenCache, TokenError, TokenManager};
use crate::config::{ConfigError, GraphSource, Profile};
use crate::diagnose::Severity;
use crate::diagnose::doctor::{self, Presented, SetupSource};
use crate::diagnose::setup::{self, Finding, LinkKind, Required, RequiredFrom, SetupReport};
use crate::graph::{self, GraphError, ReadOptions, SetupFacts};
use crate::jwt::{self, TokenFormat};
use crate::problem::Problem;
use crate::text::sanitize;
use crate::time;

/// Exit code of `setup` when a link or a finding is ✗.
pub const EXIT_SETUP_BROKEN: u8 = 1;

/// What reading a profile's set-up needs besides the profile.
pub struct SetupAccess {
    /// The profile `graph_credential` names, resolved (or why it does not resolve).
    pub reader: Result<Option<Profile>, ConfigError>,
    pub no_cache: bool,
}

impl SetupAccess {
    /// Graph read options for `profile` (its HTTP client, the reader, the token cache).
    pub fn options<'a>(&'a self, profile: &Profile) -> Result<ReadOptions<'a>, Failure> {
        let reader = match &self.reader {
            Ok(r) => r.as_ref(),
            Err(e) => return Err(Failure::problem(EXIT_USAGE, "config", "config", e)),
        };
        let mut opts = ReadOptions::new(http_client(profile)?);
        opts.reader = reader;
        opts.cache = open_cache(self.no_cache);
        Ok(opts)
    }

    /// Where `doctor` reads the set-up from.
    pub fn for_doctor<'a>(&'a self, profile: &Profile) -> SetupSource<'a> {
        if !doctor::setup_configured(profile) {
            return SetupSource::NotConfigured;
        }
        match self.options(profile) {
            Ok(o) => SetupSource::Read(o),
            Err(f) => SetupSource::Unusable {
                summary: f.summary(),
                hint: f.hint(),
            },
        }
    }

    /// The set-up, for explaining a refusal: `None` when no source is configured, or (with
    /// a warning on stderr) when it cannot be read.
    pub async fn facts_for_refusal(&self, profile: &Profile) -> Option<SetupFacts> {
        if !doctor::setup_configured(profile) {
            return None;
        }
        let read = match self.options(profile) {
            Ok(o) => graph::read_for_profile(profile, &o)
                .await
                .map_err(|e| e.full_text()),
            Err(f) => Err(f.full_text()),
        };
        read.map_err(|e| {
            errln!(
                "warning: the app-role set-up could not be read, so the refusal is explained \
                 from the token alone: {}",
                sanitize(&e, true)
            )
        })
        .ok()
    }
}

fn open_cache(no_cache: bool) -> Option<TokenCache> {
    if no_cache {
        return None;
    }
    match TokenCache::open_default() {
        Ok(c) => Some(c),
        Err(e) => {
            errln!("warning: {}", e.full_text());
            None
        }
    }
}

/// A failure to read the set-up: 2 for the config, 3 when no Graph token came or Graph
/// refused it, 5 for the network and anything else Graph did.
pub fn graph_failure(e: &GraphError) -> Failure {
    let (code, kind) = match e {
        GraphError::NotConfigured { .. } => (EXIT_USAGE, "not_configured"),
        GraphError::NoGraphUrl { .. } => (EXIT_USAGE, "no_graph_url"),
        GraphError::ReaderNotLoaded { .. } => (EXIT_USAGE, "reader_not_loaded"),
        GraphError::BadUrl { .. } => (EXIT_USAGE, "bad_url"),
        GraphError::Insecure(_) => (EXIT_USAGE, "insecure"),
        GraphError::File(_) => (EXIT_USAGE, "setup_file"),
        GraphError::Token { .. } => (EXIT_TOKEN, "graph_token"),
        GraphError::Cli(_) => (EXIT_TOKEN, "azure_cli"),
        GraphError::Api {
            status: 401 | 403, ..
        } => (EXIT_TOKEN, "refused"),
        GraphError::Api { .. } => (EXIT_API, "graph_error"),
        GraphError::Throttled { .. } => (EXIT_API, "throttled"),
        GraphError::Network { .. } => (EXIT_API, "network"),
        GraphError::UnexpectedBody { .. }
        | GraphError::Malformed { .. }
        | GraphError::TooLarge { .. }
        | GraphError::Redirected { .. }
        | GraphError::ForeignNextLink { .. }
        | GraphError::TooManyPages { .. } => (EXIT_API, "unexpected_response"),
    };
    let mut f = Failure::problem(code, "graph", kind, e);
    if let Some(t) = e
        .token_error()
        .filter(|t| matches!(t, TokenError::Rejected { .. }))
    {
        f = f.with_diagnosis(crate::diagnose::aadsts::advise(t));
    }
    if let GraphError::Api { status, code, .. } = e {
        f = f.with("status", json!(status)).with("code", json!(code));
    }
    f
}

/// The profile's API token, from the cache when it is good (as `token` gets it).
async fn api_token(
    profile: &Profile,
    client: reqwest::Client,
    no_cache: bool,
) -> Result<Arc<CachedToken>, TokenError> {
    let cache = open_cache(no_cache || !profile.cache);
    let manager = TokenManager::for_profile(profile, client, cache, ManagerOptions::default());
    let got = manager.token().await;
    for w in &manager.snapshot().warnings {
        errln!("warning: {w}");
    }
    got
}

pub async fn setup(profile: &Profile, access: &SetupAccess, json_out: bool) -> Result<(), Failure> {
    if profile.graph.source == GraphSource::None {
        return Err(graph_failure(&GraphError::NotConfigured {
            profile: profile.name.clone(),
        }));
    }
    // Checked first: a config that cannot read the set-up costs no token.
    let opts = access.options(profile)?;
    let (facts, token) = tokio::join!(
        graph::read_for_profile(profile, &opts),
        api_token(profile, opts.http.clone(), access.no_cache)
    );
    let facts = facts.map_err(|e| graph_failure(&e))?;
    let now = time::now();
    let claims = token
        .as_ref()
        .ok()
        .and_then(|t| match jwt::inspect(t.access_token.expose()) {
            TokenFormat::Jwt(j) => Some(j.claims),
            TokenFormat::Opaque { .. } => None,
        });
    let presented = Presented::of(profile, now);
    let required = Required::expected(&profile.expected_roles);
    let input = doctor::setup_input(
        profile,
        &facts,
        claims.as_ref(),
        required.clone(),
        &presented,
        now,
    );
    let mut report = setup::analyse(&input);
    if let Err(e) = &token {
        report.findings.insert(0, token_finding(e));
    }
    if json_out {
        let out = json!({
            "profile": profile.name,
            "ok": !report.failed(),
            "source": facts.source,
            "read_at": facts.read_at,
            "chains": report.chains,
            "findings": report.findings,
            "notes": facts.notes,
        });
        outln!("{}", crate::text::inert_json(&out));
    } else {
        let token_line = match (&token, &claims) {
            (Ok(t), Some(c)) => token_words(t, c, now),
            (Ok(_), None) => "opaque (not a JWT): no roles to check".to_string(),
            (Err(_), _) => "none (see the token finding below)".to_string(),
        };
        let head = Head {
            profile: &profile.name,
            facts: &facts,
            token: token_line,
            required: &required,
        };
        for line in render(&head, &report) {
            outln!("{line}");
        }
    }
    if report.failed() {
        return Err(Failure::after_output(
            EXIT_SETUP_BROKEN,
            "the app-role set-up has a broken link (see above)",
        ));
    }
    Ok(())
}

/// The token request's failure as a finding, with the AADSTS knowledge base's fix.
fn token_finding(e: &TokenError) -> Finding {
    let advice = crate::diagnose::aadsts::advise(e);
    Finding {
        topic: "token",
        severity: Severity::Error,
        summary: sanitize(&format!("no token: {}", advice.summary), false),
        fix: Some(sanitize(&advice.fix, false)),
    }
}

/// "from the cache, iat 12m 3s ago, roles Weather.Read, Weather.Write" (Entra backdates
/// `iat` by 5 minutes).
fn token_words(t: &CachedToken, c: &jwt::Claims, now: chrono::DateTime<chrono::Utc>) -> String {
    let from = match t.source {
        crate::auth::TokenSource::Network => "from the token endpoint",
        crate::auth::TokenSource::Cache => "from the cache",
    };
    let issued = c
        .iat
        .and_then(|i| chrono::DateTime::from_timestamp(i, 0))
        .map(|i| format!(", iat {}", time::relative(i, now)))
        .unwrap_or_default();
    let roles = if c.roles.is_empty() {
        "no roles".to_string()
    } else {
        format!("roles {}", c.roles.join(", "))
    };
    sanitize(&format!("{from}{issued}, {roles}"), false)
}

/// What the checklist's header says.
struct Head<'a> {
    profile: &'a str,
    facts: &'a SetupFacts,
    token: String,
    required: &'a Required,
}

/// The checklist, line by line (sanitised).
fn render(head: &Head, report: &SetupReport) -> Vec<String> {
    let clean = |s: &str| sanitize(s, false);
    let mut out = vec![
        format!("tokenscope setup — profile {}", clean(head.profile)),
        format!(
            "set-up    {}, read at {}",
            clean(&head.facts.source),
            head.facts
                .read_at
                .with_timezone(&chrono::Local)
                .format("%H:%M:%S")
        ),
        format!("token     {}", head.token),
        format!(
            "required  {}",
            match head.required.from {
                RequiredFrom::ExpectedRoles => format!(
                    "{} (expected_roles)",
                    clean(&head.required.roles.join(", "))
                ),
                RequiredFrom::Api403 =>
                    format!("{} (the API's 403)", clean(&head.required.roles.join(", "))),
                RequiredFrom::Nothing =>
                    "nothing says (no expected_roles): the roles the client holds are shown".into(),
            }
        ),
    ];
    let width = LinkKind::ALL
        .iter()
        .map(|k| k.label().len())
        .max()
        .unwrap_or(0);
    for chain in &report.chains {
        out.push(String::new());
        out.push(clean(&chain.role));
        let broken = chain.first_broken().map(|l| l.kind);
        for link in &chain.links {
            let first = Some(link.kind) == broken;
            out.push(format!(
                "  {} {:<width$}  {}{}",
                link.severity.mark(),
                link.kind.label(),
                clean(&link.summary),
                if first {
                    "   ← the chain breaks here"
                } else {
                    ""
                }
            ));
            let pad = " ".repeat(width + 6);
            if first && let Some(cause) = &link.cause {
                out.push(format!("{pad}why: {}", clean(cause)));
            }
            if (first || link.severity == Severity::Warning)
                && let Some(fix) = &link.fix
            {
                out.push(format!("{pad}fix: {}", clean(fix)));
            }
        }
    }
    if !report.findings.is_empty() {
        out.push(String::new());
        out.push("around the chain".into());
        let width = report
            .findings
            .iter()
            .map(|f| f.topic.len())
            .max()
            .unwrap_or(0);
        for f in &report.findings {
            out.push(format!(
                "  {} {:<width$}  {}",
                f.severity.mark(),
                f.topic.replace('_', " "),
                clean(&f.summary)
            ));
            if f.severity != Severity::Ok
                && let Some(fix) = &f.fix
            {
                out.push(format!("{}fix: {}", " ".repeat(width + 6), clean(fix)));
            }
        }
    }
    if !head.facts.notes.is_empty() {
        out.push(String::new());
        out.push("notes".into());
        out.extend(head.facts.notes.iter().map(|n| format!("  - {}", clean(n))));
    }
    out.push(String::new());
    let broken = report
        .chains
        .iter()
        .filter(|c| c.first_broken().is_some())
        .count();
    let bad_findings = report
        .findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .count();
    out.push(match (broken, bad_findings) {
        (0, 0) => "the set-up holds: no broken link".to_string(),
        (b, f) => format!(
            "broken: {b} of {} role chain(s), {f} finding(s)",
            report.chains.len()
        ),
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnose::setup::{Link, RoleChain};

    fn link(kind: LinkKind, severity: Severity, summary: &str) -> Link {
        Link {
            kind,
            severity,
            summary: summary.into(),
            cause: Some(format!("cause of {summary}")),
            fix: Some(format!("fix for {summary}")),
        }
    }

    #[test]
    fn the_checklist_marks_the_first_broken_link_and_its_fix() {
        let now = time::now();
        let facts = SetupFacts {
            source: "files a.json".into(),
            read_at: now,
            notes: vec!["the API's application is not in this tenant".into()],
            ..Default::default()
        };
        let chain = RoleChain {
            role: "Weather.Admin".into(),
            links: vec![
                link(LinkKind::Defined, Severity::Ok, "defined"),
                link(LinkKind::Configured, Severity::Ok, "configured"),
                link(LinkKind::Granted, Severity::Error, "never consented"),
                link(LinkKind::InToken, Severity::Error, "not in the token"),
                link(LinkKind::Required, Severity::Warning, "nothing says"),
            ],
        };
        let report = SetupReport {
            chains: vec![chain],
            findings: vec![Finding {
                topic: "token_version",
                severity: Severity::Warning,
                summary: "v1 \u{1b}[2J tokens".into(),
                fix: Some("set it to 2".into()),
            }],
        };
        let required = Required::from_403("Weather.Admin");
        let head = Head {
            profile: "p",
            facts: &facts,
            token: "from the cache, roles Weather.Read".into(),
            required: &required,
        };
        let text = render(&head, &report).join("\n");
        let want = "\
Weather.Admin
  ✓ defined     defined
  ✓ configured  configured
  ✗ granted     never consented   ← the chain breaks here
                why: cause of never consented
                fix: fix for never consented
  ✗ in token    not in the token
  ⚠ required    nothing says
                fix: fix for nothing says

around the chain
  ⚠ token version  v1 \\u{1b}[2J tokens
                   fix: set it to 2

notes
  - the API's application is not in this tenant

broken: 1 of 1 role chain(s), 0 finding(s)";
        assert!(text.ends_with(want), "{text}");
        let read = now.with_timezone(&chrono::Local).format("%H:%M:%S");
        assert!(text.starts_with(&format!("tokenscope setup — profile p\nset-up    files a.json, read at {read}\ntoken     from the cache, roles Weather.Read\nrequired  Weather.Admin (the API's 403)\n")), "{text}");
    }

    #[test]
    fn graph_failures_map_to_the_documented_exit_codes() {
        let api = |status| GraphError::Api {
            status,
            code: Some("Authorization_RequestDenied".into()),
            message: None,
            request_id: None,
            path: "/applications".into(),
            token_from: None,
        };
        assert_eq!(graph_failure(&api(403)).code, EXIT_TOKEN);
        assert_eq!(graph_failure(&api(401)).code, EXIT_TOKEN);
        assert_eq!(graph_failure(&api(500)).code, EXIT_API);
        let f = graph_failure(&GraphError::NotConfigured {
            profile: "p".into(),
        });
        assert_eq!(f.code, EXIT_USAGE);
        assert_eq!(f.json["error"]["kind"], "not_configured");
        assert!(
            f.hint().is_some_and(|h| h.contains("graph_credential")),
            "{}",
            f.full_text()
        );
        assert_eq!(graph_failure(&api(403)).json["error"]["status"], 403);
    }
}
