//! `tokenscope demo`'s glue: what the admin popup offers ([`AdminOp`], [`DemoState`]) and
//! how an operation is carried out against the in-process sandbox ([`DemoSetup`]).
//!
//! The only part of the TUI that talks to the sandbox; the runtime calls it for
//! [`super::Effect::Admin`] and [`super::Effect::DemoState`] and keeps no demo state of its
//! own beyond the [`DemoSetup`].

use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::config::Profile;
use crate::sandbox::SandboxHandle;
use crate::time::human_secs;

/// The sandbox the demo runs against.
#[derive(Clone)]
pub struct DemoSetup {
    pub sandbox: Arc<SandboxHandle>,
    /// The API's app roles (the sandbox's tenant model).
    pub api_roles: Vec<String>,
    /// The lifetime of new tokens the popup set (the sandbox does not report it back).
    lifetime: Arc<Mutex<Option<Duration>>>,
}

impl DemoSetup {
    pub fn new(sandbox: Arc<SandboxHandle>, api_roles: Vec<String>) -> DemoSetup {
        DemoSetup {
            sandbox,
            api_roles,
            lifetime: Arc::new(Mutex::new(None)),
        }
    }

    /// The sandbox client `profile` signs in as (by client id, else by profile name).
    pub fn client_of(&self, profile: &Profile) -> String {
        self.sandbox
            .client(&profile.client_id)
            .map(|c| c.name)
            .unwrap_or_else(|| profile.name.clone())
    }

    /// The tenant as `client` sees it, for the popup.
    pub fn state(&self, client: &str) -> Option<DemoState> {
        let c = self.sandbox.client(client)?;
        let has_secret = c.has_secret();
        Some(DemoState {
            client: c.name,
            api_roles: self.api_roles.clone(),
            granted: c.granted_roles,
            required_role: self.sandbox.required_role(),
            token_lifetime: self.lifetime.lock().ok().and_then(|l| *l),
            secret_expired: c.secret_expired,
            has_secret,
        })
    }

    /// The current secret of `client` (after [`AdminOp::RenewSecret`]).
    pub fn secret_of(&self, client: &str) -> Option<String> {
        self.sandbox.client(client).map(|c| c.secret)
    }

    /// Carry out `op` for `client`; the text says what changed.
    pub async fn apply(&self, client: &str, op: &AdminOp) -> Result<String, String> {
        let sb = &self.sandbox;
        let err = |e: crate::sandbox::SandboxError| e.report();
        match op {
            AdminOp::GrantRole(r) => sb
                .grant_role(client, r)
                .map(|()| format!("granted {r} to {client}"))
                .map_err(err),
            AdminOp::RevokeRole(r) => sb
                .revoke_role(client, r)
                .map(|()| format!("revoked {r} from {client}"))
                .map_err(err),
            AdminOp::RequireRole(r) => sb
                .set_required_role(r)
                .map(|()| format!("the weather API now requires {r}"))
                .map_err(err),
            AdminOp::TokenLifetime(d) => {
                sb.set_token_lifetime(*d);
                if let Ok(mut l) = self.lifetime.lock() {
                    *l = *d;
                }
                Ok(match d {
                    Some(d) => format!("new tokens live {}", human_secs(d.as_secs() as i64)),
                    None => "new tokens live 60–90 minutes again".into(),
                })
            }
            AdminOp::RotateKey => sb
                .rotate_signing_key()
                .await
                .map(|kid| {
                    format!(
                        "rotated the signing key (new kid {kid}); the old key stays published, so current tokens still validate"
                    )
                })
                .map_err(err),
            AdminOp::ExpireSecret => sb
                .expire_secret(client)
                .map(|()| {
                    format!(
                        "{client}'s secrets expired: the next token request fails (AADSTS7000222)"
                    )
                })
                .map_err(err),
            AdminOp::RenewSecret => sb
                .renew_secret(client)
                .map(|_| format!("added a new secret to {client}; the dashboard switches to it"))
                .map_err(err),
        }
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
}

impl DemoState {
    /// The operations that make sense now, in popup order.
    pub fn ops(&self) -> Vec<AdminOp> {
        let mut ops = Vec::new();
        for r in &self.api_roles {
            if self.granted.iter().any(|g| g.eq_ignore_ascii_case(r)) {
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
        ops
    }
}
