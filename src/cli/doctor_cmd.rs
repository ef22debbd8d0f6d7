//! `tokenscope doctor`: lint → discovery → token → verification → roles → API call, as a
//! checklist, each failure with its fix. Exit 0 when nothing failed, 1 when a check failed.
//!
//! Runs the steps and prints; the judgements come from `diagnose` and `jwt::Verifier`.

use std::time::Instant;

use serde::Serialize;
use serde_json::json;

use super::{Failure, http_client};
use crate::api::{self, Outcome};
use crate::auth::{ManagerOptions, TokenManager};
use crate::config::Profile;
use crate::diagnose::{Severity, aadsts, lint, refusal};
use crate::jwt::{self, Expectations, TokenFormat, Verifier};
use crate::problem::Problem;
use crate::text::sanitize;
use crate::time;

/// Exit code of `doctor` when a check failed.
pub const EXIT_DOCTOR_FAILED: u8 = 1;

#[derive(Debug, Clone, Serialize)]
struct Item {
    stage: &'static str,
    severity: Severity,
    detail: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    cause: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    fix: Option<String>,
}

fn item(stage: &'static str, severity: Severity, detail: impl Into<String>) -> Item {
    Item {
        stage,
        severity,
        detail: detail.into(),
        cause: None,
        fix: None,
    }
}

/// What the profile authenticates with, in one line (never the secret itself).
pub(crate) fn credential_line(profile: &Profile, now: chrono::DateTime<chrono::Utc>) -> String {
    use crate::config::{Credential, PathSource};
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

pub async fn doctor(profile: &Profile, city: &str, json_out: bool) -> Result<(), Failure> {
    let mut items = Vec::new();
    let now = time::now();

    // 1. Lint.
    let findings = lint::lint(profile, now);
    if findings.is_empty() {
        items.push(item("config", Severity::Ok, "no problems found"));
    }
    for f in findings {
        items.push(Item {
            fix: Some(f.fix),
            ..item("config", f.severity, format!("{}: {}", f.field, f.message))
        });
    }

    items.push(item(
        "credential",
        Severity::Ok,
        credential_line(profile, now),
    ));

    let client = http_client(profile)?;
    let verifier = Verifier::new(client.clone());

    // 2. Discovery (v2 document; the verification below reuses it, or fetches v1 for v1 tokens).
    let discovery_url = format!(
        "{}/v2.0/.well-known/openid-configuration",
        profile.authority
    );
    match verifier.discover(&discovery_url).await {
        Ok((issuer, _)) => items.push(item(
            "discovery",
            Severity::Ok,
            format!("issuer {}", sanitize(&issuer, false)),
        )),
        Err(e) => items.push(Item {
            fix: Some(
                "check authority: it must be https://<host>/<tenant id>, and the host reachable"
                    .into(),
            ),
            ..item(
                "discovery",
                Severity::Error,
                format!("{discovery_url}: {e}"),
            )
        }),
    }

    // 3. Token (always from the network: doctor checks the credential itself).
    let manager =
        TokenManager::for_profile(profile, client.clone(), None, ManagerOptions::default());
    let started = Instant::now();
    let token = match manager.token().await {
        Ok(t) => {
            items.push(item(
                "token",
                Severity::Ok,
                format!(
                    "acquired in {} ms, expires {}",
                    started.elapsed().as_millis(),
                    time::relative(t.expires_on, time::now())
                ),
            ));
            Some(t)
        }
        Err(e) => {
            let a = aadsts::advise(&e);
            items.push(Item {
                cause: Some(a.cause),
                fix: Some(a.fix),
                ..item("token", Severity::Error, a.summary)
            });
            None
        }
    };
    if let Some(skew) = manager.snapshot().clock_skew {
        items.push(Item {
            fix: Some("synchronise this machine's clock (NTP)".into()),
            ..item(
                "clock",
                Severity::Warning,
                format!(
                    "the identity provider's clock differs from this machine's by {}",
                    time::human_secs(skew.num_seconds())
                ),
            )
        });
    }

    // 4. Verification + 5. roles.
    let mut claims = None;
    if let Some(t) = &token {
        match jwt::inspect(t.access_token.expose()) {
            TokenFormat::Jwt(j) => {
                for c in verifier
                    .verify(t.access_token.expose(), &j, &Expectations::from(profile))
                    .await
                {
                    // The v2 discovery was reported above; a v1 token's document is reported here.
                    if c.name == "discovery"
                        && c.severity == Severity::Ok
                        && c.detail.starts_with("v2")
                    {
                        continue;
                    }
                    items.push(item(c.name, c.severity, c.detail));
                }
                if j.claims.scp.is_some() {
                    items.push(item(
                        "roles",
                        Severity::Error,
                        "the token has scp (delegated scopes): not an app-only token",
                    ));
                }
                let roles = &j.claims.roles;
                if roles.is_empty() {
                    items.push(Item {
                        fix: Some("grant an application permission (app role) of the API to this client and give admin consent".into()),
                        ..item("roles", if profile.expected_roles.is_empty() { Severity::Warning } else { Severity::Error }, "the token has no roles claim: no app role granted, or admin consent missing")
                    });
                } else {
                    let missing: Vec<&String> = profile
                        .expected_roles
                        .iter()
                        .filter(|r| !j.claims.has_role(r))
                        .collect();
                    if missing.is_empty() {
                        items.push(item(
                            "roles",
                            Severity::Ok,
                            sanitize(&roles.join(", "), false),
                        ));
                    } else {
                        items.push(Item {
                            fix: Some("grant the missing app role(s) to this client and give admin consent".into()),
                            ..item("roles", Severity::Error, format!("missing {} (token has {})", missing.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", "), sanitize(&roles.join(", "), false)))
                        });
                    }
                }
                claims = Some(j.claims.clone());
            }
            TokenFormat::Opaque { .. } => {
                items.push(item(
                    "verify",
                    Severity::Info,
                    "opaque (non-JWT) token: nothing to verify locally",
                ));
            }
        }
    }

    // 6. API call.
    if let Some(t) = &token {
        match api::call_weather(&client, &profile.api_url, city, &t.access_token).await {
            Ok(resp) => {
                let line = format!(
                    "GET {} → {} in {} ms",
                    resp.url,
                    resp.status,
                    resp.latency.as_millis()
                );
                if resp.outcome() == Outcome::Success {
                    items.push(item("api", Severity::Ok, line));
                } else {
                    let advice = refusal::explain(
                        &resp,
                        claims.as_ref(),
                        &profile.expected_roles,
                        &profile.scope,
                    );
                    let mut it = item("api", Severity::Error, line);
                    if let Some(a) = advice {
                        it.detail = format!("{}: {}", it.detail, a.summary);
                        it.cause = Some(a.cause);
                        it.fix = Some(a.fix);
                    }
                    items.push(it);
                }
            }
            Err(e) => items.push(Item {
                fix: e.hint(),
                ..item("api", Severity::Error, e.summary())
            }),
        }
    } else {
        items.push(item("api", Severity::Warning, "not called: no token"));
    }

    let failed = items.iter().any(|i| i.severity == Severity::Error);
    if json_out {
        let out = json!({"profile": profile.name, "ok": !failed, "checks": items});
        println!("{}", crate::text::inert_json(&out));
    } else {
        println!(
            "tokenscope doctor — profile {}",
            sanitize(&profile.name, false)
        );
        for i in &items {
            // Details quote servers and tokens: print them inert.
            let detail = sanitize(&i.detail, false);
            println!("{} {:<10} {detail}", i.severity.mark(), i.stage);
            if let Some(c) = &i.cause {
                println!("  {:<10} why: {}", "", sanitize(c, false));
            }
            if let Some(f) = &i.fix {
                println!("  {:<10} fix: {}", "", sanitize(f, false));
            }
        }
        println!(
            "{}",
            if failed {
                "some checks failed"
            } else {
                "all checks passed"
            }
        );
    }
    if failed {
        return Err(Failure::after_output(
            EXIT_DOCTOR_FAILED,
            "doctor found problems (see above)",
        ));
    }
    Ok(())
}
