//! The admin popup's glue: what it offers ([`AdminOp`], [`DemoState`]) and how an operation
//! is carried out ([`DemoSetup`]) — on the in-process sandbox of `tokenscope demo`, or over the
//! loopback admin routes of a `tokenscope sandbox` the dashboard's profiles point at
//! ([`remote`]).
//!
//! The only part of the TUI that talks to a sandbox; the runtime calls it for
//! [`super::Effect::Admin`] and [`super::Effect::DemoState`] and keeps no admin state of its
//! own beyond the [`DemoSetup`].

use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::TimeDelta;

use crate::config::Profile;
use crate::sandbox::{MEMBER_USER, SandboxError, SandboxHandle, TokenVersion};
use crate::time::human_secs;

mod remote;

/// The User-only app role the popup can add to the API (and configure on the client).
pub const USER_ONLY_ROLE: &str = "Weather.Audit";

/// The propagation delay the popup switches on.
pub const DEMO_GRANT_DELAY: Duration = Duration::from_secs(30);

/// The clock skew the popup switches on (seconds the sandbox's clock runs ahead).
pub const DEMO_CLOCK_SKEW: i64 = 600;

/// The sandbox the admin popup changes.
#[derive(Clone)]
pub struct DemoSetup {
    backend: Backend,
    /// The lifetime of new tokens the popup set (the in-process sandbox does not report it).
    lifetime: Arc<Mutex<Option<Duration>>>,
}

#[derive(Clone)]
enum Backend {
    /// `tokenscope demo`'s own sandbox. `api_roles`: the API's app roles in popup order;
    /// roles the popup adds later (the User-only one) follow them.
    Local {
        sandbox: Arc<SandboxHandle>,
        api_roles: Vec<String>,
    },
    /// Whichever `tokenscope sandbox` a profile's loopback authority names.
    Remote(remote::RemoteAdmin),
}

impl DemoSetup {
    /// The in-process sandbox of `tokenscope demo`.
    pub fn new(sandbox: Arc<SandboxHandle>, api_roles: Vec<String>) -> DemoSetup {
        DemoSetup {
            backend: Backend::Local { sandbox, api_roles },
            lifetime: Arc::new(Mutex::new(None)),
        }
    }

    /// The admin routes of a running `tokenscope sandbox`, for profiles whose authority is a
    /// loopback address (others get no popup, and no request is sent for them).
    pub fn remote() -> DemoSetup {
        DemoSetup {
            backend: Backend::Remote(remote::RemoteAdmin::default()),
            lifetime: Arc::new(Mutex::new(None)),
        }
    }

    /// The tenant as `profile`'s client sees it, without waiting (the in-process sandbox
    /// only; a remote one answers through [`DemoSetup::state`]).
    pub fn state_now(&self, profile: &Profile) -> Option<DemoState> {
        match &self.backend {
            Backend::Local { sandbox, api_roles } => {
                self.local_state(sandbox, api_roles, &local_client(sandbox, profile))
            }
            Backend::Remote(_) => None,
        }
    }

    /// The tenant as `profile`'s client sees it; `None` when there is no sandbox to change
    /// for it (for a remote one: the authority is not loopback, or no sandbox answers there).
    pub async fn state(&self, profile: &Profile, http: &reqwest::Client) -> Option<DemoState> {
        match &self.backend {
            Backend::Local { .. } => self.state_now(profile),
            Backend::Remote(r) => r.state(profile, http).await,
        }
    }

    /// The current secret of `profile`'s client (after [`AdminOp::RenewSecret`]).
    pub fn secret_of(&self, profile: &Profile) -> Option<String> {
        match &self.backend {
            Backend::Local { sandbox, .. } => sandbox
                .client(&local_client(sandbox, profile))
                .map(|c| c.secret),
            Backend::Remote(r) => r.secret_of(profile),
        }
    }

    /// Carry out `op` for `profile`'s client; the text says what changed.
    pub async fn apply(
        &self,
        profile: &Profile,
        http: &reqwest::Client,
        op: &AdminOp,
    ) -> Result<String, String> {
        if let AdminOp::TokenLifetime(d) = op
            && let Ok(mut l) = self.lifetime.lock()
        {
            *l = *d;
        }
        match &self.backend {
            Backend::Local { sandbox, .. } => {
                let client = local_client(sandbox, profile);
                local_apply(sandbox, &client, op)
                    .await
                    .map(|text| text.unwrap_or_else(|| done_text(op, &client)))
                    .map_err(|e| e.report())
            }
            Backend::Remote(r) => {
                let client = match r.state(profile, http).await {
                    Some(s) => s.client,
                    None => {
                        return Err(format!(
                            "no tokenscope sandbox answers at {}'s authority any more",
                            profile.name
                        ));
                    }
                };
                r.apply(profile, http, &client, op).await
            }
        }
    }

    /// The in-process tenant as `client` sees it, for the popup.
    fn local_state(
        &self,
        sb: &SandboxHandle,
        popup_roles: &[String],
        client: &str,
    ) -> Option<DemoState> {
        let c = sb.client(client)?;
        let has_secret = c.has_secret();
        let live = sb.app_roles();
        let mut api_roles: Vec<String> = popup_roles
            .iter()
            .filter(|r| live.iter().any(|l| l.value.eq_ignore_ascii_case(r)))
            .cloned()
            .collect();
        for role in &live {
            if !api_roles
                .iter()
                .any(|r| r.eq_ignore_ascii_case(&role.value))
            {
                api_roles.push(role.value.clone());
            }
        }
        let user_only = live
            .iter()
            .filter(|r| !r.allows_applications())
            .map(|r| r.value.clone())
            .collect();
        let grant_delay = sb.grant_delay();
        Some(DemoState {
            client: c.name,
            api_roles,
            granted: c.granted_roles,
            required_role: sb.required_role(),
            token_lifetime: self.lifetime.lock().ok().and_then(|l| *l),
            secret_expired: c.secret_expired,
            has_secret,
            situations: Situations {
                configured: c.configured_roles,
                user_only,
                v1_tokens: sb.access_token_version() == TokenVersion::V1,
                assignment_required: sb.assignment_required(),
                grant_delay: (!grant_delay.is_zero()).then_some(grant_delay),
                clock_offset: sb.clock_offset().num_seconds(),
            },
            remote: None,
        })
    }
}

/// The in-process sandbox client `profile` signs in as (by client id, else by profile name).
fn local_client(sb: &SandboxHandle, profile: &Profile) -> String {
    sb.client(&profile.client_id)
        .map(|c| c.name)
        .unwrap_or_else(|| profile.name.clone())
}

/// Carry out `op` on the in-process sandbox: `Some(text)` when the result adds to what
/// [`done_text`] says (the new key's id, the grant delay).
async fn local_apply(
    sb: &SandboxHandle,
    client: &str,
    op: &AdminOp,
) -> Result<Option<String>, SandboxError> {
    match op {
        AdminOp::GrantRole(r) => sb.grant_role(client, r).map(|()| {
            let delay = sb.grant_delay();
            (!delay.is_zero()).then(|| {
                format!(
                    "granted {r} to {client}; it reaches new tokens in {}",
                    human_secs(delay.as_secs() as i64)
                )
            })
        }),
        AdminOp::RevokeRole(r) => sb.revoke_role(client, r).map(|()| None),
        AdminOp::RequireRole(r) => sb.set_required_role(r).map(|()| None),
        AdminOp::TokenLifetime(d) => {
            sb.set_token_lifetime(*d);
            Ok(None)
        }
        AdminOp::RotateKey => sb.rotate_signing_key().await.map(|kid| {
            Some(format!(
                "rotated the signing key (new kid {kid}); the old key stays published, so current tokens still validate"
            ))
        }),
        AdminOp::ExpireSecret => sb.expire_secret(client).map(|()| None),
        AdminOp::RenewSecret => sb.renew_secret(client).map(|_| None),
        AdminOp::ConfigureRole(r) => sb.configure_role(client, r).map(|()| None),
        AdminOp::UnconfigureRole(r) => sb.unconfigure_role(client, r).map(|()| None),
        AdminOp::UserOnlyRole(true) => sb
            .define_app_role(USER_ONLY_ROLE, &[MEMBER_USER])
            .and_then(|()| sb.configure_role(client, USER_ONLY_ROLE))
            .map(|()| None),
        AdminOp::UserOnlyRole(false) => sb.remove_app_role(USER_ONLY_ROLE).map(|()| None),
        AdminOp::AcceptedTokenVersion(v) => {
            sb.set_access_token_version(*v);
            Ok(None)
        }
        AdminOp::AssignmentRequired(on) => {
            sb.set_assignment_required(*on);
            Ok(None)
        }
        AdminOp::GrantDelay(delay) => {
            sb.set_grant_delay(delay.unwrap_or_default());
            Ok(None)
        }
        AdminOp::ClockOffset(secs) => {
            sb.set_clock_offset(TimeDelta::seconds(*secs));
            Ok(None)
        }
    }
}

/// What `op` changed for `client`, in words (the Activity pane's line after it succeeded).
fn done_text(op: &AdminOp, client: &str) -> String {
    match op {
        AdminOp::GrantRole(r) => format!("granted {r} to {client}"),
        AdminOp::RevokeRole(r) => format!("revoked {r} from {client}"),
        AdminOp::RequireRole(r) => format!("the weather API now requires {r}"),
        AdminOp::TokenLifetime(Some(d)) => {
            format!("new tokens live {}", human_secs(d.as_secs() as i64))
        }
        AdminOp::TokenLifetime(None) => "new tokens live 60–90 minutes again".into(),
        AdminOp::RotateKey => {
            "rotated the signing key; the old key stays published, so current tokens still validate"
                .into()
        }
        AdminOp::ExpireSecret => {
            format!("{client}'s secrets expired: the next token request fails (AADSTS7000222)")
        }
        AdminOp::RenewSecret => {
            format!("added a new secret to {client}; the dashboard switches to it")
        }
        AdminOp::ConfigureRole(r) => format!(
            "{r} is configured on {client} without admin consent: no grant, so no token carries it"
        ),
        AdminOp::UnconfigureRole(r) => format!("removed {r} from {client}'s API permissions"),
        AdminOp::UserOnlyRole(true) => format!(
            "the API defines {USER_ONLY_ROLE} for User members only; {client} has it configured, but no application can be granted it"
        ),
        AdminOp::UserOnlyRole(false) => format!("the API no longer defines {USER_ONLY_ROLE}"),
        AdminOp::AcceptedTokenVersion(TokenVersion::V1) => {
            "the API's requestedAccessTokenVersion is null: new tokens are v1".into()
        }
        AdminOp::AcceptedTokenVersion(TokenVersion::V2) => {
            "the API's requestedAccessTokenVersion is 2: new tokens are v2".into()
        }
        AdminOp::AssignmentRequired(true) => {
            "the API requires assignment: a client with no role gets AADSTS501051".into()
        }
        AdminOp::AssignmentRequired(false) => "the API no longer requires assignment".into(),
        AdminOp::GrantDelay(Some(d)) => format!(
            "new grants reach tokens {} after they are made, as in a real tenant",
            human_secs(d.as_secs() as i64)
        ),
        AdminOp::GrantDelay(None) => "new grants reach tokens at once".into(),
        AdminOp::ClockOffset(0) => "the sandbox's clock is right again".into(),
        AdminOp::ClockOffset(s) => format!(
            "the sandbox's clock runs {} {}: its tokens' iat/nbf/exp are off by as much",
            human_secs(s.abs()),
            if *s > 0 { "ahead" } else { "behind" }
        ),
    }
}

/// A demo admin operation on the sandbox tenant, for the dashboard's client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AdminOp {
    GrantRole(String),
    RevokeRole(String),
    RequireRole(String),
    /// `None` = Entra's random 60–90 minutes.
    TokenLifetime(Option<Duration>),
    RotateKey,
    ExpireSecret,
    RenewSecret,
    /// Configure the role on the client without granting it (consent missing).
    ConfigureRole(String),
    /// Remove the role from the client's API permissions.
    UnconfigureRole(String),
    /// `true`: define [`USER_ONLY_ROLE`] for User members only and configure it on the
    /// client; `false`: delete it again.
    UserOnlyRole(bool),
    /// Set the API's `requestedAccessTokenVersion` (V1: null).
    AcceptedTokenVersion(TokenVersion),
    AssignmentRequired(bool),
    /// Delay new grants' propagation to tokens (`None`: at once).
    GrantDelay(Option<Duration>),
    /// Move the sandbox's clock this many seconds ahead (negative: behind; 0: right again).
    ClockOffset(i64),
}

impl AdminOp {
    /// What the popup offers, in words.
    pub fn label(&self, client: &str) -> String {
        match self {
            AdminOp::GrantRole(r) => format!("Grant {r} to {client}"),
            AdminOp::RevokeRole(r) => format!("Revoke {r} from {client}"),
            AdminOp::RequireRole(r) => format!("Make the API require {r}"),
            AdminOp::TokenLifetime(Some(d)) => {
                format!(
                    "Shorten token lifetime to {}",
                    crate::time::human_secs(d.as_secs() as i64)
                )
            }
            AdminOp::TokenLifetime(None) => "Restore Entra token lifetime (60–90 min)".into(),
            AdminOp::RotateKey => "Rotate the signing key".into(),
            AdminOp::ExpireSecret => format!("Expire {client}'s client secret"),
            AdminOp::RenewSecret => format!("Renew {client}'s client secret"),
            AdminOp::ConfigureRole(r) => {
                format!("Configure {r} on {client} without admin consent")
            }
            AdminOp::UnconfigureRole(r) => format!("Remove {r} from {client}'s API permissions"),
            AdminOp::UserOnlyRole(true) => {
                format!("Configure User-only role {USER_ONLY_ROLE} on {client}")
            }
            AdminOp::UserOnlyRole(false) => format!("Delete the User-only role {USER_ONLY_ROLE}"),
            AdminOp::AcceptedTokenVersion(TokenVersion::V1) => {
                "Set requestedAccessTokenVersion to null (v1 tokens)".into()
            }
            AdminOp::AcceptedTokenVersion(TokenVersion::V2) => {
                "Set requestedAccessTokenVersion to 2 (v2 tokens)".into()
            }
            AdminOp::AssignmentRequired(true) => "Require assignment on the API".into(),
            AdminOp::AssignmentRequired(false) => "Stop requiring assignment on the API".into(),
            AdminOp::GrantDelay(Some(d)) => format!(
                "Delay new grants by {} (propagation)",
                human_secs(d.as_secs() as i64)
            ),
            AdminOp::GrantDelay(None) => "Let new grants reach tokens at once".into(),
            AdminOp::ClockOffset(0) => "Set the sandbox's clock right again".into(),
            AdminOp::ClockOffset(s) => format!(
                "Move the sandbox's clock {} {} (clock skew)",
                human_secs(s.abs()),
                if *s > 0 { "ahead" } else { "behind" }
            ),
        }
    }
}

/// What the demo popup needs to know about the sandbox tenant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoState {
    /// The sandbox client the dashboard's profile signs in as.
    pub client: String,
    /// The API's app roles.
    pub api_roles: Vec<String>,
    /// Roles granted to the client.
    pub granted: Vec<String>,
    /// The role the weather API requires.
    pub required_role: String,
    /// Lifetime of new tokens, when shortened.
    pub token_lifetime: Option<Duration>,
    pub secret_expired: bool,
    /// The client has a client secret (certificate and federated clients have none).
    pub has_secret: bool,
    /// How the tenant is set up beyond grants (what the situation ops toggle).
    pub situations: Situations,
    /// `host:port` of the `tokenscope sandbox` changed over its admin routes; `None` for the
    /// demo's own in-process sandbox.
    pub remote: Option<String>,
}

/// The tenant set-up the popup's situation operations toggle.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Situations {
    /// API roles configured on the client (API permissions), granted or not.
    pub configured: Vec<String>,
    /// API roles that allow only User members.
    pub user_only: Vec<String>,
    /// The API's `requestedAccessTokenVersion` is null: v1 tokens.
    pub v1_tokens: bool,
    pub assignment_required: bool,
    /// New grants reach tokens only this long after they are made.
    pub grant_delay: Option<Duration>,
    /// Seconds the sandbox's clock runs ahead of the real one (negative: behind).
    pub clock_offset: i64,
}

impl DemoState {
    /// The operations that make sense now, in popup order: grants, the API's requirement,
    /// tokens and keys, the secret, then the set-up situations (after the others, so their
    /// number keys stay put).
    pub fn ops(&self) -> Vec<AdminOp> {
        let has = |list: &[String], r: &str| list.iter().any(|g| g.eq_ignore_ascii_case(r));
        let s = &self.situations;
        let mut ops = Vec::new();
        for r in &self.api_roles {
            if has(&s.user_only, r) {
                // Entra cannot grant it to an application.
                continue;
            }
            if has(&self.granted, r) {
                ops.push(AdminOp::RevokeRole(r.clone()));
            } else {
                ops.push(AdminOp::GrantRole(r.clone()));
            }
        }
        for r in &self.api_roles {
            if !r.eq_ignore_ascii_case(&self.required_role) {
                ops.push(AdminOp::RequireRole(r.clone()));
            }
        }
        ops.push(match self.token_lifetime {
            None => AdminOp::TokenLifetime(Some(Duration::from_secs(120))),
            Some(_) => AdminOp::TokenLifetime(None),
        });
        ops.push(AdminOp::RotateKey);
        if self.has_secret {
            ops.push(if self.secret_expired {
                AdminOp::RenewSecret
            } else {
                AdminOp::ExpireSecret
            });
        }
        for r in &self.api_roles {
            if has(&s.user_only, r) || has(&self.granted, r) {
                continue;
            }
            ops.push(if has(&s.configured, r) {
                AdminOp::UnconfigureRole(r.clone())
            } else {
                AdminOp::ConfigureRole(r.clone())
            });
        }
        ops.push(AdminOp::UserOnlyRole(
            !self.api_roles.iter().any(|r| r == USER_ONLY_ROLE),
        ));
        ops.push(AdminOp::AcceptedTokenVersion(if s.v1_tokens {
            TokenVersion::V2
        } else {
            TokenVersion::V1
        }));
        ops.push(AdminOp::AssignmentRequired(!s.assignment_required));
        ops.push(AdminOp::GrantDelay(match s.grant_delay {
            Some(_) => None,
            None => Some(DEMO_GRANT_DELAY),
        }));
        ops.push(AdminOp::ClockOffset(if s.clock_offset == 0 {
            DEMO_CLOCK_SKEW
        } else {
            0
        }));
        ops
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state() -> DemoState {
        DemoState {
            client: "console-rw".into(),
            api_roles: vec![
                "Weather.Read".into(),
                "Weather.Write".into(),
                "Weather.Admin".into(),
            ],
            granted: vec!["Weather.Read".into(), "Weather.Write".into()],
            required_role: "Weather.Read".into(),
            token_lifetime: None,
            secret_expired: false,
            has_secret: true,
            situations: Situations::default(),
            remote: None,
        }
    }

    /// The ops after the eight that were there first, where the situations live.
    fn situation_ops(state: &DemoState) -> Vec<AdminOp> {
        state.ops().split_off(8)
    }

    #[test]
    fn situations_come_last_and_each_toggles_back() {
        let fresh = state();
        assert_eq!(
            situation_ops(&fresh),
            [
                AdminOp::ConfigureRole("Weather.Admin".into()),
                AdminOp::UserOnlyRole(true),
                AdminOp::AcceptedTokenVersion(TokenVersion::V1),
                AdminOp::AssignmentRequired(true),
                AdminOp::GrantDelay(Some(DEMO_GRANT_DELAY)),
                AdminOp::ClockOffset(DEMO_CLOCK_SKEW),
            ]
        );
        let mut set_up = fresh.clone();
        set_up.api_roles.push(USER_ONLY_ROLE.into());
        set_up.situations = Situations {
            configured: vec![
                "Weather.Read".into(),
                "Weather.Write".into(),
                "Weather.Admin".into(),
                USER_ONLY_ROLE.into(),
            ],
            user_only: vec![USER_ONLY_ROLE.into()],
            v1_tokens: true,
            assignment_required: true,
            grant_delay: Some(DEMO_GRANT_DELAY),
            clock_offset: DEMO_CLOCK_SKEW,
        };
        let ops = set_up.ops();
        // The User-only role can be required, never granted.
        assert!(ops.contains(&AdminOp::RequireRole(USER_ONLY_ROLE.into())));
        assert!(!ops.contains(&AdminOp::GrantRole(USER_ONLY_ROLE.into())));
        assert_eq!(
            ops[ops.len() - 6..],
            [
                AdminOp::UnconfigureRole("Weather.Admin".into()),
                AdminOp::UserOnlyRole(false),
                AdminOp::AcceptedTokenVersion(TokenVersion::V2),
                AdminOp::AssignmentRequired(false),
                AdminOp::GrantDelay(None),
                AdminOp::ClockOffset(0),
            ]
        );
        for op in &ops {
            assert!(
                op.label("console-rw").chars().count() <= 66,
                "{op:?} fits the popup"
            );
        }
    }
}
