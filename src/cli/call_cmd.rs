//! `tokenscope call CITY`: a token, the call, the answer and, for a refusal, why
//! (`diagnose::refusal`, with the set-up read after a 403 and where the token came from);
//! `--wait-for-role` first asks for fresh tokens until a role reaches them; `--curl` prints
//! the call as a curl command instead of making it.
//!
//! Printing and exit codes only; tokens come from `auth`, explanations and the wait from
//! `diagnose`, the curl line from `api::curl`.

use std::path::Path;
use std::sync::Arc;

use serde_json::json;

use super::out::{errln, outln};
use super::setup_cmd::SetupAccess;
use super::token_cmd::{acquire, api_failure, manager, not_a_token, token_failure};
use super::{EXIT_API, EXIT_REFUSED, EXIT_TOKEN, Failure, render};
use crate::api::{self, ApiResponse, Body, Outcome};
use crate::auth::{CachedToken, TokenSource};
use crate::config::Profile;
use crate::diagnose::refusal::{Renew, TokenUse};
use crate::diagnose::setup::wait::{self, WaitError};
use crate::jwt::{self, TokenFormat};
use crate::text::{sanitize, shell_quote};
use crate::time;

/// What `call` was asked to do.
#[derive(Debug, Clone)]
pub struct CallArgs {
    pub city: String,
    pub json: bool,
    pub wait: Option<WaitFor>,
    /// Print the call as a curl command instead of making it.
    pub curl: bool,
    /// With `curl`: the real access token in the command instead of `$TOKEN`.
    pub show_token: bool,
}

/// How this command line was started, for the commands a message names: the `--config`
/// given (none: found the usual way), the `--profile` given.
#[derive(Debug, Clone, Copy)]
pub struct Invocation<'a> {
    pub config: Option<&'a Path>,
    pub profile: Option<&'a str>,
}

impl Invocation<'_> {
    /// `tokenscope [--config PATH] [-p NAME]`, each part shell-quoted.
    fn prefix(&self) -> String {
        let mut words = vec!["tokenscope".to_string()];
        if let Some(c) = self.config {
            words.push("--config".into());
            words.push(shell_quote(&c.to_string_lossy()));
        }
        if let Some(p) = self.profile {
            words.push("-p".into());
            words.push(shell_quote(p));
        }
        words.join(" ")
    }
    /// The same call again with a fresh token, and the command that empties the profile's
    /// cache entry.
    pub fn renew_commands(&self, profile: &str, city: &str) -> (String, String) {
        // A city that starts with `-` would be read as an option.
        let sep = if city.starts_with('-') { "-- " } else { "" };
        (
            format!(
                "{} call --no-cache {sep}{}",
                self.prefix(),
                shell_quote(city)
            ),
            format!("tokenscope cache clear -p {}", shell_quote(profile)),
        )
    }
    /// The command that prints the access token alone.
    fn raw_token_command(&self) -> String {
        format!("{} token --raw", self.prefix())
    }
}

/// `--wait-for-role ROLE [--wait-timeout DUR]`.
#[derive(Debug, Clone)]
pub struct WaitFor {
    pub role: String,
    pub bound: std::time::Duration,
}

/// Fresh tokens until one carries the role, progress on stderr; Ctrl-C stops the wait.
/// Ending without the role (the bound, Ctrl-C, a refusal waiting cannot fix) exits 3: no
/// token with the role could be had.
async fn acquire_with_role(
    profile: &Profile,
    no_cache: bool,
    w: &WaitFor,
) -> Result<(reqwest::Client, Arc<CachedToken>), Failure> {
    let (client, manager) = manager(profile, no_cache)?;
    let role = sanitize(&w.role, false);
    let progress = |a: &wait::Attempt| {
        let has = if a.roles.is_empty() {
            "no roles".to_string()
        } else {
            sanitize(&a.roles.join(", "), false)
        };
        let token = match a.error {
            Some(e) => format!("token request failed: {}", e.short_reason()),
            None => format!("token has {has}"),
        };
        let next = a
            .next_in
            .map(|d| {
                format!(
                    "; next in {}",
                    time::human_secs(d.as_secs_f64().round() as i64)
                )
            })
            .unwrap_or_default();
        errln!(
            "waiting for {role} in new tokens: attempt {}, {} so far; {token}{next}",
            a.attempt,
            time::human_secs(a.elapsed.as_secs() as i64)
        );
    };
    let waited = tokio::select! {
        r = wait::wait_for_role(&manager, &w.role, w.bound, progress) => r,
        _ = tokio::signal::ctrl_c() => {
            return Err(Failure::new(
                EXIT_TOKEN,
                "token",
                "wait_stopped",
                format!("stopped waiting for {role} in new tokens (Ctrl-C); the API was not called"),
            ));
        }
    };
    match waited {
        Ok(done) => {
            errln!(
                "{role} is in the token (attempt {}, after {}); calling the API",
                done.attempts,
                time::human_secs(done.elapsed.as_secs() as i64)
            );
            Ok((client, done.token))
        }
        Err(WaitError::Token(e)) => Err(token_failure(&e)),
        Err(WaitError::TimedOut {
            attempts,
            elapsed,
            roles,
        }) => {
            let has = if roles.is_empty() {
                "no roles".to_string()
            } else {
                sanitize(&roles.join(", "), false)
            };
            Err(Failure::new(
                EXIT_TOKEN,
                "token",
                "role_not_in_token",
                format!(
                    "{role} did not reach new tokens within {} ({attempts} attempts; the last \
                     token has {has}); the API was not called",
                    time::human_secs(elapsed.as_secs() as i64)
                ),
            )
            .with_hint(format!(
                "`tokenscope setup` shows whether {role} is granted at all (a grant never given \
                 never arrives); a real grant can take longer: raise --wait-timeout"
            )))
        }
    }
}

pub async fn call(
    profile: &Profile,
    no_cache: bool,
    args: &CallArgs,
    setup: &SetupAccess,
    how: Invocation<'_>,
) -> Result<(), Failure> {
    let city = args.city.trim();
    // Check the city, the URL and the transport before spending a token request on them.
    let url = api::weather_target(&profile.api_url, city).map_err(|e| api_failure(&e))?;
    if args.curl {
        return print_curl(profile, no_cache, &url, args.show_token, how).await;
    }
    let (client, tok) = match &args.wait {
        Some(w) => acquire_with_role(profile, no_cache, w).await?,
        None => acquire(profile, no_cache).await?,
    };
    if let Some(skew) = crate::diagnose::skew::of_token(&tok) {
        errln!("warning: {}\nhint: {}", skew.summary, skew.fix);
    }
    let resp = api::get_with_bearer(&client, url, &tok.access_token)
        .await
        .map_err(|e| api_failure(&e))?;
    let claims = match jwt::inspect(tok.access_token.expose()) {
        TokenFormat::Jwt(j) => Some(j.claims),
        TokenFormat::Opaque { .. } => None,
    };
    let roles: Vec<String> = claims.as_ref().map(|c| c.roles.clone()).unwrap_or_default();
    // The set-up is read only after a 403: a call that succeeds costs nothing extra.
    let facts = match resp.outcome() {
        Outcome::Forbidden => setup.facts_for_refusal(profile).await,
        _ => None,
    };
    let (fresh, clear) = how.renew_commands(&profile.name, city);
    let token = TokenUse {
        cached_at: (tok.source == TokenSource::Cache).then_some(tok.acquired_at),
        renew: Renew::Commands {
            fresh: &fresh,
            clear: &clear,
        },
        now: time::now(),
    };
    let advice = crate::diagnose::refusal::explain_with_setup(
        &resp,
        claims.as_ref(),
        &profile.expected_roles,
        &profile.scope,
        facts.as_ref(),
        token,
    );
    if args.json {
        let mut out = render::api_json(&resp);
        if let Some(o) = out.as_object_mut() {
            o.insert("profile".into(), json!(profile.name));
            o.insert("city".into(), json!(city));
            o.insert("token_source".into(), json!(tok.source));
            o.insert("token_roles".into(), json!(roles));
            o.insert("diagnosis".into(), json!(advice));
        }
        outln!("{}", crate::text::inert_json(&out));
    } else {
        print_response(&resp, city);
    }
    let (code, summary) = match resp.outcome() {
        Outcome::Success => return Ok(()),
        Outcome::Unauthorized | Outcome::Forbidden => (
            EXIT_REFUSED,
            format!("the API refused the call ({})", resp.status),
        ),
        Outcome::HttpError => (EXIT_API, format!("the API answered HTTP {}", resp.status)),
    };
    let Some(a) = &advice else {
        return Err(Failure::after_output(code, summary));
    };
    // Advice for other statuses names the status itself ("the API has no such resource
    // (HTTP 404)"); a refusal's advice is about the token, so the status leads.
    let headline = if code == EXIT_REFUSED {
        format!("{summary}: {}", a.summary)
    } else {
        a.summary.clone()
    };
    Err(Failure::after_output(code, headline)
        .with_detail(format!("why: {}\nfix: {}", a.cause, a.fix)))
}

/// `--curl`: the call as a curl command, `$TOKEN` in the token's place, and the line that
/// sets it first; no token is requested for that. With `--show-token`, the token itself
/// (acquired as `call` would) and no second line.
async fn print_curl(
    profile: &Profile,
    no_cache: bool,
    url: &url::Url,
    show_token: bool,
    how: Invocation<'_>,
) -> Result<(), Failure> {
    use crate::api::curl::{CurlToken, TOKEN_VAR, curl_command};
    let ca = profile.ca_file.as_deref();
    if show_token {
        let (_, tok) = acquire(profile, no_cache).await?;
        if !tok.access_token.is_b64token() {
            return Err(not_a_token(&tok));
        }
        outln!(
            "{}",
            curl_command(url, CurlToken::Real(&tok.access_token), ca)
        );
        return Ok(());
    }
    outln!("{TOKEN_VAR}=\"$({})\"", how.raw_token_command());
    outln!("{}", curl_command(url, CurlToken::Variable, ca));
    Ok(())
}

fn print_response(resp: &ApiResponse, city: &str) {
    outln!(
        "GET {} → {} in {}",
        resp.url,
        resp.status,
        time::latency(resp.latency)
    );
    if let Some(u) = &resp.authorization_dropped_at {
        outln!("note: redirected to another origin ({u}); the bearer token was not sent there");
    }
    for h in &resp.www_authenticate {
        outln!("WWW-Authenticate: {h}");
    }
    match &resp.body {
        Body::Weather(w) => {
            outln!(
                "{}: {}",
                sanitize(city, false),
                render::weather_line(w, &resp.units())
            );
        }
        Body::Empty => outln!("(empty body)"),
        _ => outln!("{}", resp.body_text()),
    }
    if resp.truncated {
        outln!("(body cut at {} bytes)", crate::http::MAX_BODY);
    }
}
