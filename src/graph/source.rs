//! Where the Microsoft Graph token comes from: a profile's own credential (or another
//! profile's, an "admin reader" app) through the token endpoint with Graph's scope, or the
//! signed-in developer's Azure CLI (`az account get-access-token`, read as azure-identity's
//! AzureCliCredential reads it). Which one a profile uses is `config::GraphSource`.
//!
//! Produces a token and words for where it came from; never logs, prints or quotes it (the
//! CLI's stdout is parsed, never echoed). Reading Graph with it is `client`'s job.

use std::process::Stdio;
use std::time::Duration;

use chrono::{DateTime, Local, NaiveDateTime, TimeZone, Utc};
use serde_json::Value;
use tokio::io::{AsyncRead, AsyncReadExt};

use super::error::{CliError, GraphError};
/// Which source a profile uses (resolved by `config`).
pub use crate::config::GraphSource;

use crate::auth::{ManagerOptions, TokenCache, TokenManager};
use crate::config::{DEFAULT_GRAPH_CLI_COMMAND, Profile};
use crate::secret::AccessToken;
use crate::text::sanitize;

/// How long the Azure CLI may take.
pub const CLI_TIMEOUT: Duration = Duration::from_secs(30);
/// Output kept from the Azure CLI (its JSON is well under 8 KiB).
pub const CLI_OUTPUT_CAP: usize = 64 * 1024;
/// Characters of the CLI's stderr quoted in an error.
const STDERR_EXCERPT: usize = 300;

/// A Graph token and where it came from.
#[derive(Debug, Clone)]
pub struct GraphToken {
    pub token: AccessToken,
    pub expires_on: Option<DateTime<Utc>>,
    /// For messages: "profile `console-rw`", "azure-cli".
    pub from: String,
    /// The tenant the Azure CLI says the token is for.
    pub tenant: Option<String>,
}

/// A Graph token from `profile`'s credential: a copy of the profile asking for `scope`
/// (Graph's `/.default`), through the token manager so the cache (when given and the
/// profile allows it) keeps it under its own key. `fresh` skips the cache (a permission just
/// granted reaches only new tokens).
pub async fn token_from_profile(
    http: &reqwest::Client,
    profile: &Profile,
    scope: &str,
    cache: Option<TokenCache>,
    fresh: bool,
) -> Result<GraphToken, GraphError> {
    let mut graph_profile = profile.clone();
    graph_profile.scope = scope.to_string();
    let cache = cache.filter(|_| profile.cache);
    let manager = TokenManager::for_profile(
        &graph_profile,
        http.clone(),
        cache,
        ManagerOptions::default(),
    );
    let got = if fresh {
        manager.refresh_now().await
    } else {
        manager.token().await
    };
    let t = got.map_err(|error| GraphError::Token {
        profile: profile.name.clone(),
        error: Box::new(error),
    })?;
    Ok(GraphToken {
        token: t.access_token.clone(),
        expires_on: Some(t.expires_on),
        from: format!("profile `{}`", profile.name),
        tenant: None,
    })
}

/// The argv to run: `argv` as configured, with `--tenant {tenant}` added to the default
/// command when the profile names a tenant (as AzureCliCredential does with a tenant id).
pub fn cli_argv(argv: &[String], tenant: Option<&str>) -> Vec<String> {
    let mut out = argv.to_vec();
    let is_default = argv
        .iter()
        .map(String::as_str)
        .eq(DEFAULT_GRAPH_CLI_COMMAND.iter().copied());
    let tenant = tenant
        .map(str::trim)
        .filter(|t| !t.is_empty() && !matches!(*t, "common" | "organizations" | "consumers"))
        .filter(|t| {
            t.chars()
                .all(|c| c.is_ascii_alphanumeric() || "-.".contains(c))
        });
    if is_default && let Some(t) = tenant {
        out.extend(["--tenant".to_string(), t.to_string()]);
    }
    out
}

/// A Graph token from the Azure CLI: run `argv` (no shell), wait at most `timeout`, read
/// at most [`CLI_OUTPUT_CAP`] of each stream; the process is killed on timeout or drop.
pub async fn token_from_cli(argv: &[String], timeout: Duration) -> Result<GraphToken, GraphError> {
    let command = sanitize(&argv.join(" "), false);
    let Some((program, args)) = argv.split_first() else {
        return Err(CliError::NotInstalled {
            program: String::new(),
        }
        .into());
    };
    let mut child = tokio::process::Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => CliError::NotInstalled {
                program: sanitize(program, false),
            },
            _ => CliError::Io {
                command: command.clone(),
                message: sanitize(&e.to_string(), false),
            },
        })?;
    let (Some(stdout), Some(stderr)) = (child.stdout.take(), child.stderr.take()) else {
        return Err(CliError::Io {
            command,
            message: "no pipes to the process".into(),
        }
        .into());
    };
    // The program only: arguments are the user's to show, not the log's.
    let shown_program = sanitize(program, false);
    tracing::debug!(target: "tokenscope::graph", program = %shown_program, "running the Azure CLI");
    let run = async {
        let (out, err, status) =
            tokio::join!(read_capped(stdout), read_capped(stderr), child.wait());
        (out, err, status)
    };
    let (out, err, status) = match tokio::time::timeout(timeout, run).await {
        Ok(done) => done,
        Err(_) => {
            let _ = child.start_kill();
            let _ = tokio::time::timeout(Duration::from_secs(2), child.wait()).await;
            return Err(CliError::Timeout {
                command,
                after: timeout,
            }
            .into());
        }
    };
    let io = |e: std::io::Error| CliError::Io {
        command: command.clone(),
        message: sanitize(&e.to_string(), false),
    };
    let status = status.map_err(io)?;
    let (stdout, stdout_cut) = out.map_err(io)?;
    let (stderr, _) = err.map_err(io)?;
    let stderr = String::from_utf8_lossy(&stderr);
    tracing::debug!(target: "tokenscope::graph", program = %shown_program, code = ?status.code(), "the Azure CLI finished");
    if !status.success() {
        return Err(failure(&command, program, status.code(), &stderr).into());
    }
    if stdout_cut {
        return Err(CliError::NotJson {
            command,
            detail: format!("more than {} KiB", CLI_OUTPUT_CAP / 1024),
        }
        .into());
    }
    Ok(parse_cli_output(&stdout, &command)?)
}

/// What a failed run means: not installed (a shell wrapper's 127), not signed in (the CLI
/// asks for `az login`), or another failure quoting stderr.
fn failure(command: &str, program: &str, code: Option<i32>, stderr: &str) -> CliError {
    let lower = stderr.to_ascii_lowercase();
    let excerpt = stderr_excerpt(stderr);
    if lower.contains("az login") || lower.contains("az account set") {
        return CliError::NotLoggedIn {
            command: command.to_string(),
            excerpt,
        };
    }
    if code == Some(127) || lower.contains("not recognized as an internal or external command") {
        return CliError::NotInstalled {
            program: sanitize(program, false),
        };
    }
    CliError::Failed {
        command: command.to_string(),
        status: code,
        excerpt,
    }
}

/// One line of stderr, tokens redacted, control characters made visible, cut.
fn stderr_excerpt(stderr: &str) -> String {
    let redacted = crate::text::mask(stderr, &[]);
    let line = redacted.split_whitespace().collect::<Vec<_>>().join(" ");
    let clean = sanitize(&line, false);
    if clean.chars().count() > STDERR_EXCERPT {
        format!(
            "{}…",
            clean.chars().take(STDERR_EXCERPT).collect::<String>()
        )
    } else {
        clean
    }
}

/// `az account get-access-token -o json`'s output: `accessToken`, `expires_on` (epoch
/// seconds; since CLI 2.54) else `expiresOn` (local time text), `tenant`. Errors never
/// quote the output.
pub fn parse_cli_output(stdout: &[u8], command: &str) -> Result<GraphToken, CliError> {
    let v: Value = serde_json::from_slice(stdout).map_err(|e| CliError::NotJson {
        command: command.to_string(),
        // serde_json's message names a position, never the input.
        detail: e.to_string(),
    })?;
    let token = v
        .get("accessToken")
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| CliError::NoToken {
            command: command.to_string(),
        })?;
    let expires_on = match v.get("expires_on") {
        Some(Value::Number(n)) => n.as_i64(),
        Some(Value::String(s)) => s.trim().parse().ok(),
        _ => None,
    }
    .and_then(|secs| DateTime::from_timestamp(secs, 0))
    .or_else(|| {
        v.get("expiresOn")
            .and_then(Value::as_str)
            .and_then(local_time)
    });
    Ok(GraphToken {
        token: AccessToken::new(token),
        expires_on,
        from: "azure-cli".into(),
        tenant: v
            .get("tenant")
            .and_then(Value::as_str)
            .map(super::wire::clean),
    })
}

/// The CLI's `expiresOn`: `2025-06-01 13:04:05.000000` in local time.
fn local_time(s: &str) -> Option<DateTime<Utc>> {
    let naive = NaiveDateTime::parse_from_str(s.trim(), "%Y-%m-%d %H:%M:%S%.f").ok()?;
    Local
        .from_local_datetime(&naive)
        .earliest()
        .map(|t| t.with_timezone(&Utc))
}

/// Read a stream to its end, keeping the first [`CLI_OUTPUT_CAP`] bytes (the rest is
/// drained so the process never blocks on a full pipe). True when something was cut.
async fn read_capped(mut r: impl AsyncRead + Unpin) -> std::io::Result<(Vec<u8>, bool)> {
    let mut kept = Vec::new();
    let mut cut = false;
    let mut buf = [0u8; 8192];
    loop {
        let n = r.read(&mut buf).await?;
        if n == 0 {
            return Ok((kept, cut));
        }
        let room = CLI_OUTPUT_CAP - kept.len();
        if n > room {
            cut = true;
        }
        kept.extend_from_slice(&buf[..n.min(room)]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cli_json_as_azure_identity_reads_it() {
        let t = parse_cli_output(
            br#"{"accessToken": "eyJ0.eyJ1.sig", "expiresOn": "2099-01-01 00:00:00.000000",
                "expires_on": 1767225600, "subscription": "s", "tenant": "t-1",
                "tokenType": "Bearer"}"#,
            "az",
        )
        .unwrap();
        assert_eq!(t.token.expose(), "eyJ0.eyJ1.sig");
        assert_eq!(t.expires_on.map(|e| e.timestamp()), Some(1_767_225_600));
        assert_eq!(t.tenant.as_deref(), Some("t-1"));
        // Older CLIs: no expires_on, local-time expiresOn.
        let t = parse_cli_output(
            br#"{"accessToken": "x", "expiresOn": "2030-01-02 03:04:05.000000"}"#,
            "az",
        )
        .unwrap();
        let want = Local
            .with_ymd_and_hms(2030, 1, 2, 3, 4, 5)
            .earliest()
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(t.expires_on, Some(want));
        let t =
            parse_cli_output(br#"{"accessToken": "x", "expires_on": "1767225600"}"#, "az").unwrap();
        assert!(t.expires_on.is_some());
    }

    #[test]
    fn bad_output_is_never_quoted() {
        let e = parse_cli_output(b"secret-canary-abc not json", "az").unwrap_err();
        assert!(matches!(e, CliError::NotJson { .. }));
        assert!(!e.to_string().contains("canary"), "{e}");
        let e = parse_cli_output(br#"{"token": "secret-canary-abc"}"#, "az").unwrap_err();
        assert!(matches!(e, CliError::NoToken { .. }));
        assert!(!e.to_string().contains("canary"), "{e}");
    }

    #[test]
    fn failures_are_told_apart() {
        let e = failure(
            "az",
            "az",
            Some(1),
            "ERROR: Please run 'az login' to setup account.\n",
        );
        assert!(matches!(e, CliError::NotLoggedIn { .. }), "{e}");
        let e = failure("az", "az", Some(127), "sh: az: not found");
        assert!(matches!(e, CliError::NotInstalled { .. }), "{e}");
        let e = failure(
            "az",
            "az",
            Some(2),
            "ERROR: bad \u{1b}[31m eyJhbGciOi.eyJzdWIiOiJ4In0.sig\n",
        );
        let text = e.to_string();
        assert!(
            text.contains("exit code 2") && text.contains("\\u{1b}"),
            "{text}"
        );
        assert!(!text.contains("eyJhbGciOi"), "{text}");
    }

    #[test]
    fn the_default_command_gets_the_tenant() {
        let default: Vec<String> = DEFAULT_GRAPH_CLI_COMMAND
            .iter()
            .map(|s| s.to_string())
            .collect();
        let argv = cli_argv(&default, Some("contoso.onmicrosoft.com"));
        assert_eq!(
            &argv[argv.len() - 2..],
            ["--tenant", "contoso.onmicrosoft.com"]
        );
        assert_eq!(cli_argv(&default, Some("common")), default);
        assert_eq!(cli_argv(&default, Some("x; rm -rf /")), default);
        let custom = vec!["./fake-az".to_string()];
        assert_eq!(cli_argv(&custom, Some("t")), custom);
    }
}
