//! [`ClientInfo`]: a client as callers of the sandbox see it (the handle, `/_sandbox/clients`,
//! `tokenscope sandbox`'s banner), copied out of the tenant model.
//!
//! A read-only view. Must not change the model or reach the shared state.

use std::fmt;

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::credentials::FederatedCredential;
use super::model::{APPLICATION_READ_ALL, ClientApp, Resource, TenantModel};

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
    /// The API's app roles granted (admin-consented) to the client.
    pub granted_roles: Vec<String>,
    /// The API permissions configured on the client, consented or not (roles of its own
    /// registration pointed at the API included).
    pub configured_roles: Vec<String>,
    /// Microsoft Graph application permissions granted to the client.
    pub graph_roles: Vec<String>,
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
            .field("configured_roles", &self.configured_roles)
            .field("graph_roles", &self.graph_roles)
            .field("certificate_thumbprints", &self.certificate_thumbprints)
            .field("federated_credentials", &self.federated_credentials)
            .finish()
    }
}

impl ClientInfo {
    pub(crate) fn from_model(model: &TenantModel, c: &ClientApp, now: DateTime<Utc>) -> ClientInfo {
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
            granted_roles: model.granted_values(c, Resource::Api),
            configured_roles: model.configured_values(c, Resource::Api),
            graph_roles: model.granted_values(c, Resource::Graph),
            certificate_thumbprints: c
                .certificates
                .iter()
                .map(|c| c.thumbprint.clone())
                .collect(),
            federated_credentials: c.federated_credentials.clone(),
        }
    }

    /// Whether the client holds Microsoft Graph's `Application.Read.All` (it can read the
    /// app registrations through the sandbox's Graph).
    pub fn reads_graph(&self) -> bool {
        self.graph_roles.iter().any(|r| r == APPLICATION_READ_ALL)
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
            "configured_roles": self.configured_roles,
            "graph_roles": self.graph_roles,
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
