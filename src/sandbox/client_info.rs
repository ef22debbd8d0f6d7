//! [`ClientInfo`]: a client as callers of the sandbox see it (the handle, `/_sandbox/clients`,
//! `tokenscope sandbox`'s banner), copied out of the tenant model.
//!
//! A read-only view. Must not change the model or reach the shared state.

use std::fmt;

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::credentials::FederatedCredential;
use super::model::ClientApp;

/// A client as the sandbox currently sees it. `secret` is the current secret's value (the
/// sandbox's secrets protect nothing); `Debug` redacts it anyway.
#[derive(Clone, PartialEq, Eq)]
pub struct ClientInfo {
    pub name: String,
    pub display_name: String,
    pub client_id: String,
    /// Service principal object id: the token's `oid` and `sub`.
    pub object_id: String,
    /// The current (most recently added) secret's value.
    pub secret: String,
    /// The current secret's id ("secret ID" in the portal; not usable as a credential).
    pub secret_id: String,
    pub secret_expires: DateTime<Utc>,
    pub secret_expired: bool,
    pub granted_roles: Vec<String>,
    /// SHA-1 thumbprints (upper-case hex) of the client's certificates, oldest first.
    pub certificate_thumbprints: Vec<String>,
    /// The client's federated identity credentials.
    pub federated_credentials: Vec<FederatedCredential>,
}

impl fmt::Debug for ClientInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientInfo")
            .field("name", &self.name)
            .field("client_id", &self.client_id)
            .field("object_id", &self.object_id)
            .field("secret", &"[redacted]")
            .field("secret_id", &self.secret_id)
            .field("secret_expires", &self.secret_expires)
            .field("secret_expired", &self.secret_expired)
            .field("granted_roles", &self.granted_roles)
            .field("certificate_thumbprints", &self.certificate_thumbprints)
            .field("federated_credentials", &self.federated_credentials)
            .finish()
    }
}

impl ClientInfo {
    pub(crate) fn from_model(c: &ClientApp, now: DateTime<Utc>) -> ClientInfo {
        let current = c.current_secret();
        ClientInfo {
            name: c.name.clone(),
            display_name: c.display_name.clone(),
            client_id: c.client_id.clone(),
            object_id: c.object_id.clone(),
            secret: current.map(|s| s.value.clone()).unwrap_or_default(),
            secret_id: current.map(|s| s.id.clone()).unwrap_or_default(),
            secret_expires: current.map(|s| s.expires).unwrap_or(now),
            secret_expired: current.is_none_or(|s| s.expires <= now),
            granted_roles: c.granted_roles.clone(),
            certificate_thumbprints: c
                .certificates
                .iter()
                .map(|c| c.thumbprint.clone())
                .collect(),
            federated_credentials: c.federated_credentials.clone(),
        }
    }

    /// Whether the client has a secret at all.
    pub fn has_secret(&self) -> bool {
        !self.secret.is_empty()
    }

    /// The shape `/_sandbox/clients` and `renew-secret` answer with.
    pub(crate) fn to_json(&self) -> Value {
        json!({
            "name": self.name,
            "display_name": self.display_name,
            "client_id": self.client_id,
            "object_id": self.object_id,
            "granted_roles": self.granted_roles,
            "secret": self.secret,
            "secret_id": self.secret_id,
            "secret_expires": self.secret_expires.to_rfc3339(),
            "secret_expired": self.secret_expired,
            "certificate_thumbprints": self.certificate_thumbprints,
            "federated_credentials": self.federated_credentials.iter().map(|f| json!({
                "name": f.name,
                "issuer": f.issuer,
                "subject": f.subject,
                "audiences": f.audiences,
            })).collect::<Vec<_>>(),
        })
    }
}
