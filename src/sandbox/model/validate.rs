//! What a valid tenant is: [`TenantModel::validate`], for tenant files and for models built
//! in code alike — GUIDs, a usable App ID URI, unique role values and client names, member
//! types, every grant and configured permission naming a role that exists (and a grant one
//! an application may hold), a credential for every client.
//!
//! Owns those rules and their messages. Must not parse files (`model/file.rs` does) or
//! change the model.

use super::{AppRole, ClientApp, MEMBER_APPLICATION, MEMBER_USER, Resource, TenantModel};
use crate::sandbox::error::SandboxError;

impl TenantModel {
    /// Checks the invariants the sandbox relies on.
    pub fn validate(&self, origin: &str) -> Result<(), SandboxError> {
        let bad = |problem: String, hint: &str| inconsistent(origin, problem, hint);
        check_guid(&self.tenant.id).map_err(|_| {
            bad(
                format!("tenant.id '{}' is not a GUID", self.tenant.id),
                GUID_HINT,
            )
        })?;
        self.validate_api(origin)?;
        if self.clients.is_empty() {
            return Err(bad(
                "the tenant has no clients".into(),
                "add at least one [[clients]] entry",
            ));
        }
        for (i, client) in self.clients.iter().enumerate() {
            self.validate_client(origin, client, &self.clients[..i])?;
        }
        Ok(())
    }

    fn validate_api(&self, origin: &str) -> Result<(), SandboxError> {
        let bad = |problem: String, hint: &str| inconsistent(origin, problem, hint);
        check_guid(&self.api.client_id).map_err(|_| {
            bad(
                format!("api.client_id '{}' is not a GUID", self.api.client_id),
                GUID_HINT,
            )
        })?;
        if self.api.app_id_uri.trim().is_empty()
            || self.api.app_id_uri.ends_with('/')
            || self.api.app_id_uri.contains(char::is_whitespace)
        {
            return Err(bad(
                format!("api.app_id_uri '{}' is not usable", self.api.app_id_uri),
                "use a URI without spaces or a trailing slash, e.g. api://<api client id>",
            ));
        }
        if self.api.app_roles.is_empty() {
            return Err(bad(
                "the API defines no app roles".into(),
                "add at least one [[api.app_roles]] entry",
            ));
        }
        for (i, role) in self.api.app_roles.iter().enumerate() {
            if role.value.is_empty() || role.value.contains(char::is_whitespace) {
                return Err(bad(
                    format!("app role value '{}' is empty or has spaces", role.value),
                    "role values look like Weather.Read",
                ));
            }
            if self.api.app_roles[..i]
                .iter()
                .any(|r| r.value.eq_ignore_ascii_case(&role.value))
            {
                return Err(bad(
                    format!("app role '{}' is defined twice", role.value),
                    "role values must be unique (case-insensitively)",
                ));
            }
            check_member_types(role).map_err(|problem| bad(problem, MEMBER_TYPES_HINT))?;
            if self.graph_role_named(&role.value) {
                return Err(bad(
                    format!("app role '{}' is one of Microsoft Graph's", role.value),
                    "give the API's roles their own values, e.g. Weather.Read",
                ));
            }
        }
        if self.api.role(&self.api.required_role).is_none() {
            return Err(bad(
                format!(
                    "api.required_role '{}' is not one of the API's app roles",
                    self.api.required_role
                ),
                "set it to the value of one of the [[api.app_roles]]",
            ));
        }
        Ok(())
    }

    /// The checks of one client, including against the clients listed before it.
    fn validate_client(
        &self,
        origin: &str,
        client: &ClientApp,
        earlier: &[ClientApp],
    ) -> Result<(), SandboxError> {
        let bad = |problem: String, hint: &str| inconsistent(origin, problem, hint);
        if client.name.is_empty()
            || !client
                .name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err(bad(
                format!("client name '{}' is not usable", client.name),
                "client names are used as profile names: letters, digits, '-' and '_'",
            ));
        }
        check_guid(&client.client_id).map_err(|_| {
            bad(
                format!(
                    "client '{}' has client_id '{}', which is not a GUID",
                    client.name, client.client_id
                ),
                GUID_HINT,
            )
        })?;
        if client.client_id.eq_ignore_ascii_case(&self.api.client_id) {
            return Err(bad(
                format!("client '{}' has the API's client id", client.name),
                "give every client its own GUID",
            ));
        }
        for other in earlier {
            if other.name == client.name {
                return Err(bad(
                    format!("two clients are named '{}'", client.name),
                    "client names must be unique",
                ));
            }
            if other.client_id.eq_ignore_ascii_case(&client.client_id) {
                return Err(bad(
                    format!(
                        "clients '{}' and '{}' share client id {}",
                        other.name, client.name, client.client_id
                    ),
                    "give every client its own GUID",
                ));
            }
        }
        self.validate_permissions(origin, client)?;
        if client.secrets.is_empty()
            && client.certificates.is_empty()
            && !client.generate_certificate
            && client.federated_credentials.is_empty()
        {
            return Err(bad(
                format!("client '{}' has no credential", client.name),
                "add a [[clients.secrets]] entry with value and expires, a \
                     [[clients.certificates]] entry (path or generate = true) or a \
                     [[clients.federated_credentials]] entry",
            ));
        }
        for fic in &client.federated_credentials {
            if fic.issuer.trim().is_empty()
                || fic.subject.trim().is_empty()
                || fic.audiences.iter().all(|a| a.trim().is_empty())
            {
                return Err(bad(
                    format!(
                        "federated credential '{}' of client '{}' lacks an issuer, subject or audience",
                        fic.name, client.name
                    ),
                    "give it issuer, subject and audiences = [\"api://AzureADTokenExchange\"]",
                ));
            }
        }
        if client.secrets.iter().any(|s| s.value.is_empty()) {
            return Err(bad(
                format!("client '{}' has an empty secret value", client.name),
                "give every secret a value",
            ));
        }
        Ok(())
    }

    /// Whether Graph defines a role with this value (case-insensitively).
    pub(crate) fn graph_role_named(&self, value: &str) -> bool {
        self.graph
            .app_roles
            .iter()
            .any(|r| r.value.eq_ignore_ascii_case(value))
    }

    /// A client's own roles are well-formed; every grant names a role of its resource that
    /// applications can hold; every configured permission names a role of its resource (or,
    /// for the API, one of the client's own roles).
    fn validate_permissions(&self, origin: &str, client: &ClientApp) -> Result<(), SandboxError> {
        let bad = |problem: String, hint: &str| inconsistent(origin, problem, hint);
        for role in &client.app_roles {
            if role.value.is_empty() || role.value.contains(char::is_whitespace) {
                return Err(bad(
                    format!(
                        "client '{}' defines app role '{}', which is empty or has spaces",
                        client.name, role.value
                    ),
                    "role values look like Weather.Read",
                ));
            }
            check_member_types(role).map_err(|problem| bad(problem, MEMBER_TYPES_HINT))?;
        }
        for grant in &client.grants {
            let Some(role) = self.role_by_id(grant.resource, &grant.role_id) else {
                return Err(bad(
                    format!(
                        "client '{}' is granted role id {}, which {} does not define",
                        client.name,
                        grant.role_id,
                        self.resource_name(grant.resource)
                    ),
                    "grant only values of the [[api.app_roles]] (or Application.Read.All)",
                ));
            };
            if !role.allows_applications() {
                return Err(bad(
                    format!(
                        "client '{}' is granted role '{}', which allows only User members",
                        client.name, role.value
                    ),
                    "Entra cannot assign it to an application: add \"Application\" to the \
                     role's allowed_member_types, or do not grant it",
                ));
            }
        }
        for permission in &client.configured {
            let known = self
                .role_by_id(permission.resource, &permission.role_id)
                .is_some()
                || (permission.resource == Resource::Api
                    && client.app_roles.iter().any(|r| r.id == permission.role_id));
            if !known {
                return Err(bad(
                    format!(
                        "client '{}' has permission id {} configured, which {} does not define",
                        client.name,
                        permission.role_id,
                        self.resource_name(permission.resource)
                    ),
                    "configure only values of the [[api.app_roles]] (or Application.Read.All)",
                ));
            }
        }
        Ok(())
    }
}

const GUID_HINT: &str = "GUIDs look like 6c6f687a-96c8-4280-bba3-d11cc0b19b67";

const MEMBER_TYPES_HINT: &str = "allowed_member_types takes \"Application\" (application permissions), \"User\" (users \
     and groups) or both";

/// `allowedMemberTypes` is one or both of Application and User.
fn check_member_types(role: &AppRole) -> Result<(), String> {
    if role.allowed_member_types.is_empty()
        || role
            .allowed_member_types
            .iter()
            .any(|m| m != MEMBER_APPLICATION && m != MEMBER_USER)
    {
        return Err(format!(
            "app role '{}' has allowed member types {:?}",
            role.value, role.allowed_member_types
        ));
    }
    Ok(())
}

fn inconsistent(origin: &str, problem: String, hint: &str) -> SandboxError {
    SandboxError::ModelInvalid {
        origin: origin.to_string(),
        problem,
        hint: hint.to_string(),
    }
}

fn check_guid(s: &str) -> Result<(), uuid::Error> {
    uuid::Uuid::parse_str(s).map(|_| ())
}
