//! The app-role set-up as plain data: what Microsoft Graph (or an exported file) says about
//! the API's and the client's registrations, service principals and grants. The contract
//! between the reader, the offline files, the diagnosis chain and the front ends.
//!
//! Plain data only, `Serialize` for `--json`: no parsing (that is `wire`'s, from Graph's
//! JSON), no judgement (that is `diagnose::setup`'s). Text in here has been sanitised and
//! capped when it was read.

use chrono::{DateTime, Utc};
use serde::Serialize;

/// An app role an application (or its service principal) defines.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct AppRoleDef {
    pub id: String,
    pub value: String,
    pub display_name: String,
    /// "Application" and/or "User".
    pub allowed_member_types: Vec<String>,
    pub is_enabled: bool,
}

/// One permission a client has configured ("API permissions").
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ResourceAccess {
    /// The app role's (or delegated scope's) id.
    pub id: String,
    /// "Role" (application permission) or "Scope" (delegated).
    pub kind: String,
}

/// The permissions a client has configured on one resource (API).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RequiredResource {
    pub resource_app_id: String,
    pub access: Vec<ResourceAccess>,
}

/// A client secret's metadata (the secret itself is never readable).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PasswordCred {
    pub key_id: String,
    pub display_name: Option<String>,
    /// The secret's first characters, as the portal shows them.
    pub hint: Option<String>,
    pub start: Option<DateTime<Utc>>,
    pub end: Option<DateTime<Utc>>,
}

/// A certificate registered on an application.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct KeyCred {
    pub key_id: String,
    pub display_name: Option<String>,
    /// The certificate's SHA-1 thumbprint, upper-case hex.
    pub thumbprint_sha1_hex: Option<String>,
    pub end: Option<DateTime<Utc>>,
}

/// A federated identity credential: tokens of `issuer` with `subject` and one of
/// `audiences` may be exchanged for this application's tokens.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct FederatedCred {
    pub name: String,
    pub issuer: String,
    pub subject: String,
    pub audiences: Vec<String>,
}

/// An app registration.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Application {
    pub object_id: String,
    pub app_id: String,
    pub display_name: String,
    pub identifier_uris: Vec<String>,
    /// `api.requestedAccessTokenVersion` (or the old manifest's `accessTokenAcceptedVersion`):
    /// `None` and 1 mean v1 tokens, 2 v2 tokens.
    pub requested_token_version: Option<u8>,
    pub app_roles: Vec<AppRoleDef>,
    pub required_resource_access: Vec<RequiredResource>,
    pub password_credentials: Vec<PasswordCred>,
    pub key_credentials: Vec<KeyCred>,
    pub federated: Vec<FederatedCred>,
}

/// An application's instance in a tenant (enterprise application).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ServicePrincipal {
    pub id: String,
    pub app_id: String,
    pub display_name: String,
    /// `appRoleAssignmentRequired`: only assigned principals get tokens (AADSTS501051).
    pub assignment_required: bool,
    pub app_roles: Vec<AppRoleDef>,
    pub service_principal_names: Vec<String>,
}

/// A granted app role (what admin consent creates).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Assignment {
    pub id: String,
    pub app_role_id: String,
    /// The service principal holding the grant.
    pub principal_id: String,
    /// The resource's (API's) service principal.
    pub resource_id: String,
    pub resource_display_name: Option<String>,
    pub created: Option<DateTime<Utc>>,
}

/// Everything read for one profile. `None` = could not be read (the reason is in `notes`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SetupFacts {
    /// The API's registration (None: in another tenant, or not found).
    pub api_app: Option<Application>,
    pub api_sp: Option<ServicePrincipal>,
    pub client_app: Option<Application>,
    pub client_sp: Option<ServicePrincipal>,
    /// Held by the client's service principal (all resources).
    pub assignments: Vec<Assignment>,
    /// "Microsoft Graph https://…/v1.0 (token from azure-cli)", "files a.json, b.json".
    pub source: String,
    pub read_at: DateTime<Utc>,
    /// Non-fatal: "the API's application is not in this tenant".
    pub notes: Vec<String>,
}

impl SetupFacts {
    /// The values of the API's app roles granted to the client (assignments on the API's
    /// service principal), in the API's role order. Empty when the API's service principal
    /// was not read.
    pub fn granted_api_roles(&self) -> Vec<String> {
        let Some(sp) = &self.api_sp else {
            return Vec::new();
        };
        let roles = match &self.api_app {
            Some(app) if !app.app_roles.is_empty() => &app.app_roles,
            _ => &sp.app_roles,
        };
        roles
            .iter()
            .filter(|r| {
                self.assignments
                    .iter()
                    .any(|a| a.resource_id == sp.id && a.app_role_id == r.id)
            })
            .map(|r| r.value.clone())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn granted_roles_are_the_assignments_on_the_api() {
        let role = |id: &str, value: &str| AppRoleDef {
            id: id.into(),
            value: value.into(),
            ..Default::default()
        };
        let grant = |role: &str, resource: &str| Assignment {
            app_role_id: role.into(),
            resource_id: resource.into(),
            ..Default::default()
        };
        let facts = SetupFacts {
            api_app: Some(Application {
                app_roles: vec![role("r", "Weather.Read"), role("w", "Weather.Write")],
                ..Default::default()
            }),
            api_sp: Some(ServicePrincipal {
                id: "api-sp".into(),
                ..Default::default()
            }),
            // A grant of the same role id on another resource does not count.
            assignments: vec![grant("w", "api-sp"), grant("r", "graph-sp")],
            ..Default::default()
        };
        assert_eq!(facts.granted_api_roles(), ["Weather.Write"]);
        assert!(SetupFacts::default().granted_api_roles().is_empty());
    }
}
