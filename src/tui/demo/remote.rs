//! The admin popup against a running `tokenscope sandbox`: the same [`AdminOp`]s carried out
//! over its loopback admin routes (`/_sandbox/…`, see `crate::sandbox::admin`) instead of on
//! an in-process handle.
//!
//! Only for a profile whose authority is a loopback address (`127.0.0.0/8`, `::1`,
//! `localhost`): a real Entra host is never asked. Everything the routes answer is treated as
//! hostile: bodies are capped, JSON that does not have the expected shape means "no sandbox
//! here", names are sanitised and lists capped before they reach the screen.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::Method;
use serde_json::Value;
use url::Url;

use super::{AdminOp, DemoState, Situations, USER_ONLY_ROLE, done_text};
use crate::config::Profile;
use crate::sandbox::TokenVersion;
use crate::text::sanitize;

/// Largest admin answer read (the client list of a big tenant model is a few KiB).
const BODY_CAP: usize = 256 * 1024;
/// Longest a probe or an operation may take: the sandbox is on this machine.
const TIMEOUT: Duration = Duration::from_secs(5);
/// At most this many roles and clients are taken from an answer.
const LIST_CAP: usize = 64;
/// Longest name (role, client) taken from an answer.
const NAME_CAP: usize = 80;

/// The admin routes of whichever local sandbox a profile's authority names.
#[derive(Clone, Default)]
pub(super) struct RemoteAdmin {
    /// Secrets the sandbox handed out for `renew-secret`, by client id (lower case), for the
    /// profile's next token manager.
    secrets: Arc<Mutex<HashMap<String, String>>>,
}

/// `http://127.0.0.1:8443/_sandbox/` for a profile whose authority is on a loopback host.
pub(super) fn admin_base(profile: &Profile) -> Option<Url> {
    let authority = Url::parse(&profile.authority).ok()?;
    if !crate::http::is_loopback(&authority) || !matches!(authority.scheme(), "http" | "https") {
        return None;
    }
    let mut base = authority;
    base.set_path("/_sandbox/");
    base.set_query(None);
    base.set_fragment(None);
    Some(base)
}

/// A name from an answer, fit to show: sanitised, at most [`NAME_CAP`] characters.
fn name(v: &Value) -> Option<String> {
    let s = v.as_str()?;
    Some(sanitize(s, false).chars().take(NAME_CAP).collect())
}

fn names(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| a.iter().take(LIST_CAP).filter_map(name).collect())
        .unwrap_or_default()
}

impl RemoteAdmin {
    /// The tenant as `profile`'s client sees it, or `None` when no sandbox answers there (not
    /// loopback, nothing listening, not a tokenscope sandbox, the client not in it).
    pub(super) async fn state(
        &self,
        profile: &Profile,
        http: &reqwest::Client,
    ) -> Option<DemoState> {
        let base = admin_base(profile)?;
        let stats = self
            .call(http, &base, Method::GET, &["stats"], None)
            .await
            .ok()?;
        let clients = self
            .call(http, &base, Method::GET, &["clients"], None)
            .await
            .ok()?;
        let list = clients.get("clients")?.as_array()?;
        let client = list.iter().take(1024).find(|c| {
            c.get("client_id")
                .and_then(Value::as_str)
                .is_some_and(|id| id.eq_ignore_ascii_case(&profile.client_id))
        })?;
        let roles = stats.get("app_roles")?.as_array()?;
        let mut api_roles = Vec::new();
        let mut user_only = Vec::new();
        for r in roles.iter().take(LIST_CAP) {
            let Some(value) = r.get("value").and_then(name) else {
                continue;
            };
            let types = names(r.get("allowed_member_types").unwrap_or(&Value::Null));
            if !types
                .iter()
                .any(|t| t == crate::sandbox::MEMBER_APPLICATION)
            {
                user_only.push(value.clone());
            }
            api_roles.push(value);
        }
        let secs = |key: &str| stats.get(key).and_then(Value::as_u64).filter(|s| *s > 0);
        Some(DemoState {
            client: client.get("name").and_then(name)?,
            api_roles,
            granted: names(client.get("granted_roles")?),
            required_role: stats.get("required_role").and_then(name)?,
            token_lifetime: secs("token_lifetime_seconds").map(Duration::from_secs),
            secret_expired: client.get("secret_expired").and_then(Value::as_bool)?,
            has_secret: client
                .get("secret")
                .and_then(Value::as_str)
                .is_some_and(|s| !s.is_empty()),
            situations: Situations {
                configured: names(client.get("configured_roles")?),
                user_only,
                v1_tokens: stats.get("access_token_version").and_then(Value::as_u64) == Some(1),
                assignment_required: stats.get("assignment_required")?.as_bool()?,
                grant_delay: secs("grant_delay_seconds").map(Duration::from_secs),
                clock_offset: stats
                    .get("clock_offset_seconds")
                    .and_then(Value::as_i64)
                    .unwrap_or_default(),
            },
            remote: Some(format!(
                "{}:{}",
                base.host_str().unwrap_or("?"),
                base.port_or_known_default().unwrap_or_default()
            )),
        })
    }

    /// Carry out `op` for `client` (the sandbox's name for the profile's app); the text says
    /// what changed, or what the sandbox said was wrong.
    pub(super) async fn apply(
        &self,
        profile: &Profile,
        http: &reqwest::Client,
        client: &str,
        op: &AdminOp,
    ) -> Result<String, String> {
        let base = admin_base(profile).ok_or_else(|| {
            format!(
                "{}'s authority is not on this machine: the admin popup only changes a local `tokenscope sandbox`",
                profile.name
            )
        })?;
        let secs = |d: &Duration| format!("{}s", d.as_secs());
        let (method, path, body): (Method, Vec<&str>, Option<String>) = match op {
            AdminOp::GrantRole(r) => (Method::POST, vec!["clients", client, "roles", r], None),
            AdminOp::RevokeRole(r) => (Method::DELETE, vec!["clients", client, "roles", r], None),
            AdminOp::RequireRole(r) => (Method::PUT, vec!["required-role"], Some(r.clone())),
            AdminOp::TokenLifetime(d) => (
                Method::PUT,
                vec!["token-lifetime"],
                Some(d.as_ref().map(secs).unwrap_or_else(|| "random".into())),
            ),
            AdminOp::RotateKey => (Method::POST, vec!["rotate-key"], None),
            AdminOp::ExpireSecret => (Method::POST, vec!["clients", client, "expire-secret"], None),
            AdminOp::RenewSecret => (Method::POST, vec!["clients", client, "renew-secret"], None),
            AdminOp::ConfigureRole(r) => (
                Method::POST,
                vec!["clients", client, "permissions", r],
                None,
            ),
            AdminOp::UnconfigureRole(r) => (
                Method::DELETE,
                vec!["clients", client, "permissions", r],
                None,
            ),
            AdminOp::UserOnlyRole(true) => {
                let define = vec!["app-roles", USER_ONLY_ROLE];
                self.call(http, &base, Method::PUT, &define, Some("User".into()))
                    .await?;
                let path = vec!["clients", client, "permissions", USER_ONLY_ROLE];
                (Method::POST, path, None)
            }
            AdminOp::UserOnlyRole(false) => {
                (Method::DELETE, vec!["app-roles", USER_ONLY_ROLE], None)
            }
            AdminOp::AcceptedTokenVersion(v) => (
                Method::PUT,
                vec!["access-token-version"],
                Some(match v {
                    TokenVersion::V1 => "1".into(),
                    TokenVersion::V2 => "2".into(),
                }),
            ),
            AdminOp::AssignmentRequired(on) => (
                Method::PUT,
                vec!["assignment-required"],
                Some(on.to_string()),
            ),
            AdminOp::GrantDelay(d) => (
                Method::PUT,
                vec!["grant-delay"],
                Some(d.as_ref().map(secs).unwrap_or_else(|| "0".into())),
            ),
            AdminOp::ClockOffset(s) => (
                Method::PUT,
                vec!["clock-offset"],
                Some(if *s == 0 {
                    "0".into()
                } else {
                    format!("{s:+}s")
                }),
            ),
        };
        let answer = self.call(http, &base, method, &path, body).await?;
        if *op == AdminOp::RenewSecret
            && let Some(secret) = answer.get("secret").and_then(Value::as_str)
            && let Ok(mut secrets) = self.secrets.lock()
        {
            secrets.insert(profile.client_id.to_ascii_lowercase(), secret.to_string());
        }
        Ok(done_text(op, client))
    }

    /// The secret the sandbox gave `profile`'s client in its last `renew-secret`.
    pub(super) fn secret_of(&self, profile: &Profile) -> Option<String> {
        let secrets = self.secrets.lock().ok()?;
        secrets
            .get(&profile.client_id.to_ascii_lowercase())
            .cloned()
    }

    /// One admin request: the JSON it answered, or the sandbox's error in words.
    async fn call(
        &self,
        http: &reqwest::Client,
        base: &Url,
        method: Method,
        path: &[&str],
        body: Option<String>,
    ) -> Result<Value, String> {
        let mut url = base.clone();
        if let Ok(mut segments) = url.path_segments_mut() {
            segments.pop_if_empty().extend(path);
        }
        let mut req = http.request(method, url.clone()).timeout(TIMEOUT);
        if let Some(b) = body {
            req = req.body(b);
        }
        let what = format!("the sandbox admin route /_sandbox/{}", path.join("/"));
        let resp = req.send().await.map_err(|e| {
            let (_, text) = crate::http::describe_reqwest_error(&e);
            format!("{what} did not answer: {text}")
        })?;
        let status = resp.status();
        let body = crate::http::read_capped(resp, BODY_CAP)
            .await
            .map_err(|e| format!("{what} broke off its answer: {e}"))?;
        if body.truncated {
            return Err(format!("{what} answered more than {BODY_CAP} bytes"));
        }
        let json: Value = serde_json::from_slice(&body.bytes).map_err(|_| {
            format!("{what} answered {status} without JSON: not a tokenscope sandbox?")
        })?;
        if status.is_success() {
            return Ok(json);
        }
        let said = json
            .get("error")
            .and_then(Value::as_str)
            .map(|e| sanitize(e, false).chars().take(300).collect::<String>())
            .unwrap_or_else(|| format!("status {status}"));
        Err(format!("the sandbox refused: {said}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn profile(authority: &str) -> Profile {
        let mut p = crate::tui::fixtures::profile();
        p.authority = authority.into();
        p
    }

    #[test]
    fn only_loopback_authorities_are_asked() {
        let base = |a: &str| admin_base(&profile(a)).map(|u| u.to_string());
        assert_eq!(
            base("http://127.0.0.1:8400/ec184e30-7605-46d6-97ce-0b8dfa8e6682").as_deref(),
            Some("http://127.0.0.1:8400/_sandbox/")
        );
        assert_eq!(
            base("https://localhost:9443/tenant?x=1").as_deref(),
            Some("https://localhost:9443/_sandbox/")
        );
        assert!(base("http://[::1]:8400/t").is_some());
        for far in [
            "https://login.microsoftonline.com/ec184e30-7605-46d6-97ce-0b8dfa8e6682",
            "https://localhost.evil.example/t",
            "http://10.0.0.1:8400/t",
            "not a url",
        ] {
            assert_eq!(base(far), None, "{far}");
        }
    }

    #[test]
    fn names_from_an_answer_are_sanitised_and_capped() {
        let long = "R".repeat(500);
        let v = serde_json::json!(["Weather.Read", "\u{1b}[31mred", long, 7]);
        let got = names(&v);
        assert_eq!(got.len(), 3, "a number is not a name");
        assert!(!got[1].contains('\u{1b}'), "{got:?}");
        assert_eq!(got[2].chars().count(), NAME_CAP);
    }
}
