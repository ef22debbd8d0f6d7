//! The run-time operations on app roles: grants (admin consent) and their propagation
//! delay, configured permissions ("API permissions"), the API's role definitions and roles
//! on a client's own registration.
//!
//! Owns those mutations and their rules (what Entra refuses: a User-only role for an
//! application, removing the role the API requires). Must not know about HTTP, and leaves
//! everything else about the tenant to `state.rs`.

use std::time::Duration;

use rand::RngCore as _;

use super::{Shared, find_client_mut};
use crate::sandbox::error::SandboxError;
use crate::sandbox::model::{
    AppRole, ConfiguredRole, MEMBER_APPLICATION, Resource, RoleGrant, TenantModel, derived_guid,
    member_type,
};

/// The longest propagation delay the sandbox simulates.
const MAX_GRANT_DELAY: Duration = Duration::from_secs(24 * 3600);

impl Shared {
    /// Admin consent for one role: the client gets an assignment (`createdDateTime` = now,
    /// reaching tokens after the current grant delay) and, if it lacked it, the permission
    /// configured — the portal's "Add a permission" then "Grant admin consent". Idempotent:
    /// an existing grant keeps its time. `role` is one of the API's roles or Graph's.
    pub fn grant_role(&self, client: &str, role: &str) -> Result<(), SandboxError> {
        let now = self.now();
        let mut state = self.write();
        let delay = state.grant_delay;
        let (resource, role) = role_for_grant(&state.model, role)?;
        let client = find_client_mut(&mut state.model, client)?;
        if !client.is_configured(resource, &role.id) {
            client.configured.push(ConfiguredRole {
                resource,
                role_id: role.id.clone(),
            });
        }
        if !client.is_granted(resource, &role.id) {
            client.grants.push(RoleGrant {
                id: new_assignment_id(),
                resource,
                role_id: role.id,
                created: Some(now),
                propagation: delay,
            });
        }
        Ok(())
    }

    /// Revokes admin consent for one role: the assignment goes (at once), the permission
    /// stays configured, as the portal's "Revoke admin consent" leaves it. Idempotent.
    pub fn revoke_role(&self, client: &str, role: &str) -> Result<(), SandboxError> {
        let mut state = self.write();
        let (resource, id) = role_id(&state.model, role)?;
        let client = find_client_mut(&mut state.model, client)?;
        client
            .grants
            .retain(|g| !(g.resource == resource && g.role_id.eq_ignore_ascii_case(&id)));
        Ok(())
    }

    /// Adds a permission to the client's "API permissions" without consenting to it (no
    /// assignment). Any role of the API or Graph, User-only ones included. Idempotent.
    pub fn configure_role(&self, client: &str, role: &str) -> Result<(), SandboxError> {
        let mut state = self.write();
        let (resource, id) = role_id(&state.model, role)?;
        let client = find_client_mut(&mut state.model, client)?;
        if !client.is_configured(resource, &id) {
            client.configured.push(ConfiguredRole {
                resource,
                role_id: id,
            });
        }
        Ok(())
    }

    /// Removes a permission from the client's "API permissions". A grant of it stays (the
    /// portal lists it under "other permissions granted"). Idempotent.
    pub fn unconfigure_role(&self, client: &str, role: &str) -> Result<(), SandboxError> {
        let mut state = self.write();
        let (resource, id) = role_id(&state.model, role)?;
        let client = find_client_mut(&mut state.model, client)?;
        client
            .configured
            .retain(|c| !(c.resource == resource && c.role_id.eq_ignore_ascii_case(&id)));
        Ok(())
    }

    pub fn set_required_role(&self, role: &str) -> Result<(), SandboxError> {
        let mut state = self.write();
        let role = canonical_role(&state.model, role)?;
        state.model.api.required_role = role;
        Ok(())
    }

    /// Defines an app role on the API, or changes who may hold an existing one
    /// (`allowedMemberTypes`: "Application", "User" or both).
    pub fn define_app_role(&self, role: &str, member_types: &[&str]) -> Result<(), SandboxError> {
        let value = role.trim();
        if value.is_empty() || value.contains(char::is_whitespace) {
            return Err(SandboxError::InvalidValue {
                problem: format!("'{role}' is not an app role value"),
                hint: "role values look like Weather.Audit".into(),
            });
        }
        let mut types: Vec<String> = Vec::new();
        for text in member_types {
            let canonical = member_type(text).ok_or_else(|| SandboxError::InvalidValue {
                problem: format!("'{text}' is not a member type"),
                hint: "send Application, User, or Application,User".into(),
            })?;
            if !types.iter().any(|t| t == canonical) {
                types.push(canonical.to_string());
            }
        }
        if types.is_empty() {
            return Err(SandboxError::InvalidValue {
                problem: format!("no member types given for '{value}'"),
                hint: "send Application, User, or Application,User".into(),
            });
        }
        let mut state = self.write();
        if state.model.graph_role_named(value) {
            return Err(SandboxError::InvalidValue {
                problem: format!("{value} is one of Microsoft Graph's app roles"),
                hint: "give the API's roles their own values, e.g. Weather.Audit".into(),
            });
        }
        let api = &mut state.model.api;
        match api
            .app_roles
            .iter_mut()
            .find(|r| r.value.eq_ignore_ascii_case(value))
        {
            Some(existing) => existing.allowed_member_types = types,
            None => {
                let id = derived_guid(&format!("role:{}:{value}", api.client_id));
                api.app_roles.push(AppRole {
                    value: value.to_string(),
                    id,
                    display_name: value.to_string(),
                    description: String::new(),
                    allowed_member_types: types,
                    enabled: true,
                });
            }
        }
        Ok(())
    }

    /// Deletes one of the API's app roles, with every grant and configured permission of it.
    pub fn remove_app_role(&self, role: &str) -> Result<(), SandboxError> {
        let mut state = self.write();
        let value = canonical_role(&state.model, role)?;
        let model = &mut state.model;
        if model.api.required_role.eq_ignore_ascii_case(&value) {
            return Err(SandboxError::InvalidValue {
                problem: format!("the weather API requires {value}"),
                hint: "make it require another role first (PUT /_sandbox/required-role)".into(),
            });
        }
        if model.api.app_roles.len() == 1 {
            return Err(SandboxError::InvalidValue {
                problem: format!("{value} is the API's only app role"),
                hint: "define another role first".into(),
            });
        }
        let Some(at) = model.api.app_roles.iter().position(|r| r.value == value) else {
            return Ok(());
        };
        let id = model.api.app_roles.remove(at).id;
        for client in &mut model.clients {
            client
                .grants
                .retain(|g| !(g.resource == Resource::Api && g.role_id == id));
            client
                .configured
                .retain(|c| !(c.resource == Resource::Api && c.role_id == id));
        }
        Ok(())
    }

    /// Defines `role` on the client's *own* registration and points the client's API
    /// permissions at the API for it: the mistake of defining a role in the wrong place.
    /// No token ever carries it.
    pub fn add_client_role(&self, client: &str, role: &str) -> Result<(), SandboxError> {
        let value = role.trim();
        if value.is_empty() || value.contains(char::is_whitespace) {
            return Err(SandboxError::InvalidValue {
                problem: format!("'{role}' is not an app role value"),
                hint: "role values look like Weather.Export".into(),
            });
        }
        let mut state = self.write();
        let client = find_client_mut(&mut state.model, client)?;
        let id = match client
            .app_roles
            .iter()
            .find(|r| r.value.eq_ignore_ascii_case(value))
        {
            Some(existing) => existing.id.clone(),
            None => {
                let id = derived_guid(&format!("role:{}:{value}", client.client_id));
                client.app_roles.push(AppRole {
                    value: value.to_string(),
                    id: id.clone(),
                    display_name: value.to_string(),
                    description: String::new(),
                    allowed_member_types: vec![MEMBER_APPLICATION.into()],
                    enabled: true,
                });
                id
            }
        };
        if !client.is_configured(Resource::Api, &id) {
            client.configured.push(ConfiguredRole {
                resource: Resource::Api,
                role_id: id,
            });
        }
        Ok(())
    }

    /// Removes a role from the client's own registration (and the permission pointing at
    /// it). Idempotent.
    pub fn remove_client_role(&self, client: &str, role: &str) -> Result<(), SandboxError> {
        let mut state = self.write();
        let client = find_client_mut(&mut state.model, client)?;
        let ids: Vec<String> = client
            .app_roles
            .iter()
            .filter(|r| r.value.eq_ignore_ascii_case(role.trim()))
            .map(|r| r.id.clone())
            .collect();
        client.app_roles.retain(|r| !ids.contains(&r.id));
        client
            .configured
            .retain(|c| !(c.resource == Resource::Api && ids.contains(&c.role_id)));
        Ok(())
    }

    /// How long grants made from now on take to reach tokens (at most a day). Grants
    /// already made keep the moment they reach tokens.
    pub fn set_grant_delay(&self, delay: Duration) {
        self.write().grant_delay = delay.min(MAX_GRANT_DELAY);
    }

    pub fn grant_delay(&self) -> Duration {
        self.read().grant_delay
    }
}

/// The API role's canonical value (case-insensitive lookup).
pub(super) fn canonical_role(model: &TenantModel, role: &str) -> Result<String, SandboxError> {
    model
        .api
        .role(role.trim())
        .map(|r| r.value.clone())
        .ok_or_else(|| unknown_role(model, role))
}

fn unknown_role(model: &TenantModel, role: &str) -> SandboxError {
    SandboxError::UnknownRole {
        role: role.to_string(),
        known: format!(
            "{} (or Microsoft Graph's Application.Read.All)",
            model.api.role_names()
        ),
    }
}

/// A role of the API or Graph by value: its resource and id.
fn role_id(model: &TenantModel, role: &str) -> Result<(Resource, String), SandboxError> {
    model
        .find_role(role.trim())
        .map(|(resource, r)| (resource, r.id.clone()))
        .ok_or_else(|| unknown_role(model, role))
}

/// A role that can be granted to an application.
fn role_for_grant(model: &TenantModel, role: &str) -> Result<(Resource, AppRole), SandboxError> {
    let (resource, found) = model
        .find_role(role.trim())
        .ok_or_else(|| unknown_role(model, role))?;
    if !found.allows_applications() {
        return Err(SandboxError::InvalidValue {
            problem: format!(
                "{} allows only User members: Entra cannot grant it to an application",
                found.value
            ),
            hint: format!(
                "let applications hold it: PUT /_sandbox/app-roles/{} with body Application,User",
                found.value
            ),
        });
    }
    if !found.enabled {
        return Err(SandboxError::InvalidValue {
            problem: format!("{} is disabled", found.value),
            hint: "enable the role before granting it".into(),
        });
    }
    Ok((resource, found.clone()))
}

/// A fresh assignment id, shaped like Graph's (43 base64url characters).
fn new_assignment_id() -> String {
    use base64::Engine as _;
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sandbox::model::APPLICATION_READ_ALL;

    fn client<'a>(model: &'a TenantModel, name: &str) -> &'a crate::sandbox::model::ClientApp {
        model.client(name).expect("client")
    }

    #[test]
    fn consent_configuration_and_definitions_follow_entras_rules() {
        let shared = Shared::for_tests();
        // Revoking consent leaves the permission configured; granting again restores it.
        shared
            .revoke_role("mobile-ro", "weather.read")
            .expect("revoke");
        {
            let state = shared.read();
            let m = &state.model;
            assert!(
                m.granted_values(client(m, "mobile-ro"), Resource::Api)
                    .is_empty()
            );
            assert_eq!(
                m.configured_values(client(m, "mobile-ro"), Resource::Api),
                ["Weather.Read"]
            );
        }
        shared.set_grant_delay(Duration::from_secs(90));
        shared
            .grant_role("mobile-ro", "Weather.Read")
            .expect("grant");
        shared
            .grant_role("mobile-ro", "Weather.Read")
            .expect("idempotent");
        {
            let state = shared.read();
            let grants = &client(&state.model, "mobile-ro").grants;
            assert_eq!(grants.len(), 1);
            assert_eq!(grants[0].propagation, Duration::from_secs(90));
            assert!(grants[0].created.is_some());
        }

        // Graph's permission is granted like any other role.
        shared
            .grant_role("no-roles", APPLICATION_READ_ALL)
            .expect("Graph role");
        let state = shared.read();
        assert_eq!(
            state
                .model
                .granted_values(client(&state.model, "no-roles"), Resource::Graph),
            [APPLICATION_READ_ALL]
        );
        drop(state);

        // A User-only role can be configured, never granted.
        shared
            .define_app_role("Weather.Audit", &["user"])
            .expect("define");
        shared
            .configure_role("console-rw", "Weather.Audit")
            .expect("configure");
        let refused = shared
            .grant_role("console-rw", "Weather.Audit")
            .expect_err("User-only");
        assert!(
            refused.to_string().contains("allows only User members"),
            "{refused}"
        );
        for bad in [&["Robot"][..], &[]] {
            assert!(
                shared.define_app_role("Weather.Audit", bad).is_err(),
                "{bad:?}"
            );
        }
        assert!(
            shared
                .define_app_role("Application.Read.All", &["User"])
                .is_err()
        );
        assert!(shared.define_app_role("has space", &["User"]).is_err());

        // The required role stays; another goes with its permissions.
        assert!(shared.remove_app_role("Weather.Read").is_err());
        shared.remove_app_role("Weather.Audit").expect("remove");
        let state = shared.read();
        assert!(state.model.api.role("Weather.Audit").is_none());
        assert_eq!(
            state
                .model
                .configured_values(client(&state.model, "console-rw"), Resource::Api),
            ["Weather.Read", "Weather.Write"]
        );
    }
}
