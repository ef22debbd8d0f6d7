//! The tenant model as Microsoft Graph v1.0 shows it: `application`, `servicePrincipal`,
//! `federatedIdentityCredential` and `appRoleAssignment` objects, with Graph's property
//! names, order and types (dates in RFC 3339 UTC, absent values `null`).
//!
//! Owns that mapping. Must not answer requests, filter or page (the route does), and never
//! puts a secret's value in an object: `passwordCredentials` carry Graph's three-character
//! `hint` and `secretText: null`, as Graph does on read.

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Value, json};

use crate::sandbox::credentials::CertificateCredential;
use crate::sandbox::model::{
    AppRole, ClientApp, GRAPH_APP_ID, GRAPH_RESOURCE, PasswordCredential, Resource, TenantModel,
    TokenVersion, derived_guid,
};

/// Microsoft's own tenant, which owns Graph's application.
const MICROSOFT_TENANT: &str = "f8cdef31-a31e-4b4a-93e4-5f571e91255a";

/// The directory at one moment.
pub(super) struct Directory<'a> {
    pub model: &'a TenantModel,
    /// When the sandbox started: the registrations' `createdDateTime`.
    pub started_at: DateTime<Utc>,
}

/// Whole seconds when that is all a time has (the tenant file's dates), else as precise as
/// it is (a secret the sandbox renewed), so the value reads back exactly.
fn date(d: DateTime<Utc>) -> String {
    d.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

/// Assignments carry sub-second times, as Graph's do, so a grant a moment after a token
/// compares as later.
fn precise_date(d: DateTime<Utc>) -> String {
    d.to_rfc3339_opts(SecondsFormat::Micros, true)
}

fn app_role(role: &AppRole) -> Value {
    json!({
        "allowedMemberTypes": role.allowed_member_types,
        "description": role.description,
        "displayName": role.display_name,
        "id": role.id,
        "isEnabled": role.enabled,
        "origin": "Application",
        "value": role.value,
    })
}

fn password_credential(secret: &PasswordCredential) -> Value {
    json!({
        "customKeyIdentifier": null,
        "displayName": secret.display_name,
        "endDateTime": date(secret.expires),
        "hint": secret.hint(),
        "keyId": secret.id,
        "secretText": null,
        "startDateTime": secret.start.map(date),
    })
}

fn key_credential(cert: &CertificateCredential) -> Value {
    json!({
        "customKeyIdentifier": cert.thumbprint,
        "displayName": cert.subject,
        "endDateTime": date(cert.not_after),
        "key": null,
        "keyId": derived_guid(&format!("key:{}", cert.thumbprint)),
        "startDateTime": date(cert.not_before),
        "type": "AsymmetricX509Cert",
        "usage": "Verify",
    })
}

impl Directory<'_> {
    fn tenant_domain(&self) -> String {
        self.model
            .tenant
            .domain
            .clone()
            .unwrap_or_else(|| format!("{}.onmicrosoft.com", self.model.tenant.id))
    }

    /// Every application registered in the tenant: the API's, then the clients'. Graph's
    /// own application lives in Microsoft's tenant, so it is not among them.
    pub fn applications(&self) -> Vec<Value> {
        let api = &self.model.api;
        let version = match api.access_token_version {
            // The portal's default: null, which means v1 tokens.
            TokenVersion::V1 => Value::Null,
            TokenVersion::V2 => json!(2),
        };
        let mut out = vec![self.application(Registration {
            object_id: &api.app_object_id,
            app_id: &api.client_id,
            display_name: &api.display_name,
            identifier_uris: vec![api.app_id_uri.clone()],
            token_version: version,
            app_roles: &api.app_roles,
            required: Vec::new(),
            passwords: Vec::new(),
            keys: Vec::new(),
        })];
        for client in &self.model.clients {
            out.push(self.application(Registration {
                object_id: &client.app_object_id,
                app_id: &client.client_id,
                display_name: &client.display_name,
                identifier_uris: Vec::new(),
                token_version: Value::Null,
                app_roles: &client.app_roles,
                required: self.required_resource_access(client),
                passwords: client.secrets.iter().map(password_credential).collect(),
                keys: client.certificates.iter().map(key_credential).collect(),
            }));
        }
        out
    }

    fn application(&self, r: Registration<'_>) -> Value {
        json!({
            "id": r.object_id,
            "deletedDateTime": null,
            "appId": r.app_id,
            "createdDateTime": date(self.started_at),
            "displayName": r.display_name,
            "identifierUris": r.identifier_uris,
            "publisherDomain": self.tenant_domain(),
            "signInAudience": "AzureADMyOrg",
            "api": {
                "acceptMappedClaims": null,
                "knownClientApplications": [],
                "requestedAccessTokenVersion": r.token_version,
                "oauth2PermissionScopes": [],
                "preAuthorizedApplications": [],
            },
            "appRoles": r.app_roles.iter().map(app_role).collect::<Vec<_>>(),
            "keyCredentials": r.keys,
            "passwordCredentials": r.passwords,
            "requiredResourceAccess": r.required,
        })
    }

    /// "API permissions": the configured permissions, one entry per resource.
    fn required_resource_access(&self, client: &ClientApp) -> Vec<Value> {
        [
            (Resource::Api, self.model.api.client_id.as_str()),
            (Resource::Graph, GRAPH_APP_ID),
        ]
        .into_iter()
        .filter_map(|(resource, app_id)| {
            let access: Vec<Value> = client
                .configured
                .iter()
                .filter(|c| c.resource == resource)
                .map(|c| json!({ "id": c.role_id, "type": "Role" }))
                .collect();
            (!access.is_empty())
                .then(|| json!({ "resourceAppId": app_id, "resourceAccess": access }))
        })
        .collect()
    }

    /// Every service principal: the API's, Microsoft Graph's, then the clients'.
    pub fn service_principals(&self) -> Vec<Value> {
        let model = self.model;
        let api = &model.api;
        let tenant = model.tenant.id.as_str();
        let mut out = vec![
            service_principal(Principal {
                id: &api.object_id,
                app_id: &api.client_id,
                display_name: &api.display_name,
                owner: tenant,
                assignment_required: api.assignment_required,
                names: vec![api.app_id_uri.clone(), api.client_id.clone()],
                app_roles: &api.app_roles,
            }),
            service_principal(Principal {
                id: &model.graph.object_id,
                app_id: GRAPH_APP_ID,
                display_name: "Microsoft Graph",
                owner: MICROSOFT_TENANT,
                assignment_required: false,
                names: vec![
                    format!("{GRAPH_RESOURCE}/"),
                    GRAPH_RESOURCE.to_string(),
                    GRAPH_APP_ID.to_string(),
                ],
                app_roles: &model.graph.app_roles,
            }),
        ];
        for client in &model.clients {
            out.push(service_principal(Principal {
                id: &client.object_id,
                app_id: &client.client_id,
                display_name: &client.display_name,
                owner: tenant,
                assignment_required: false,
                names: vec![client.client_id.clone()],
                app_roles: &client.app_roles,
            }));
        }
        out
    }

    /// The federated identity credentials of the application with this object id.
    pub fn federated_credentials(&self, app_object_id: &str) -> Vec<Value> {
        let Some(client) = self
            .model
            .clients
            .iter()
            .find(|c| c.app_object_id.eq_ignore_ascii_case(app_object_id))
        else {
            return Vec::new();
        };
        client
            .federated_credentials
            .iter()
            .map(|f| {
                json!({
                    "id": derived_guid(&format!("fic:{}:{}", client.client_id, f.name)),
                    "name": f.name,
                    "issuer": f.issuer,
                    "subject": f.subject,
                    "description": null,
                    "audiences": f.audiences,
                })
            })
            .collect()
    }

    /// The app-role assignments held by the service principal `sp_id`
    /// (`/appRoleAssignments`), or granted on it as a resource (`/appRoleAssignedTo`),
    /// oldest first.
    pub fn assignments(&self, sp_id: &str, held: bool) -> Vec<Value> {
        let model = self.model;
        let mut found: Vec<(DateTime<Utc>, Value)> = Vec::new();
        for client in &model.clients {
            for grant in &client.grants {
                let resource_id = model.resource_sp_id(grant.resource);
                let party = if held { &client.object_id } else { resource_id };
                if !party.eq_ignore_ascii_case(sp_id) {
                    continue;
                }
                let created = grant.created.unwrap_or(self.started_at);
                found.push((
                    created,
                    json!({
                        "id": grant.id,
                        "deletedDateTime": null,
                        "appRoleId": grant.role_id,
                        "createdDateTime": precise_date(created),
                        "principalDisplayName": client.display_name,
                        "principalId": client.object_id,
                        "principalType": "ServicePrincipal",
                        "resourceDisplayName": model.resource_name(grant.resource),
                        "resourceId": resource_id,
                    }),
                ));
            }
        }
        found.sort_by_key(|(created, _)| *created);
        found.into_iter().map(|(_, v)| v).collect()
    }
}

/// What an `application` object is made of.
struct Registration<'a> {
    object_id: &'a str,
    app_id: &'a str,
    display_name: &'a str,
    identifier_uris: Vec<String>,
    token_version: Value,
    app_roles: &'a [AppRole],
    required: Vec<Value>,
    passwords: Vec<Value>,
    keys: Vec<Value>,
}

/// What a `servicePrincipal` object is made of.
struct Principal<'a> {
    id: &'a str,
    app_id: &'a str,
    display_name: &'a str,
    /// `appOwnerOrganizationId`: the tenant the application is registered in.
    owner: &'a str,
    assignment_required: bool,
    names: Vec<String>,
    app_roles: &'a [AppRole],
}

fn service_principal(p: Principal<'_>) -> Value {
    json!({
        "id": p.id,
        "deletedDateTime": null,
        "accountEnabled": true,
        "appDisplayName": p.display_name,
        "appId": p.app_id,
        "appOwnerOrganizationId": p.owner,
        "appRoleAssignmentRequired": p.assignment_required,
        "displayName": p.display_name,
        "servicePrincipalNames": p.names,
        "servicePrincipalType": "Application",
        "signInAudience": "AzureADMyOrg",
        "tags": [],
        "appRoles": p.app_roles.iter().map(app_role).collect::<Vec<_>>(),
        "keyCredentials": [],
        "oauth2PermissionScopes": [],
        "passwordCredentials": [],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_builtin_tenant_as_graph_shows_it() {
        let model = TenantModel::builtin();
        let started_at = Utc::now();
        let dir = Directory {
            model: &model,
            started_at,
        };
        let apps = dir.applications();
        assert_eq!(apps.len(), 1 + model.clients.len());
        assert_eq!(apps[0]["appId"], model.api.client_id.as_str());
        assert_eq!(apps[0]["api"]["requestedAccessTokenVersion"], 2);
        let rw = apps
            .iter()
            .find(|a| a["displayName"] == "Weather console (read-write)")
            .expect("console-rw's application");
        assert_eq!(
            rw["requiredResourceAccess"][1],
            json!({
                "resourceAppId": GRAPH_APP_ID,
                "resourceAccess": [{"id": "9a5d68dd-52b0-4cc2-bd40-abcf44ac3a30", "type": "Role"}]
            })
        );
        let secret = &rw["passwordCredentials"][0];
        assert_eq!(secret["hint"], "sbx");
        assert_eq!(secret["secretText"], Value::Null);
        assert!(!rw.to_string().contains("not-a-real-secret"));

        let sps = dir.service_principals();
        assert_eq!(sps[1]["appId"], GRAPH_APP_ID);
        assert_eq!(sps[1]["appRoles"][0]["value"], "Application.Read.All");
        let rw_sp = &model.clients[0].object_id;
        let held = dir.assignments(rw_sp, true);
        assert_eq!(
            held.len(),
            3,
            "Weather.Read, Weather.Write, Application.Read.All"
        );
        assert!(held.iter().all(|a| a["principalId"] == rw_sp.as_str()));
        let on_api = dir.assignments(&model.api.object_id, false);
        assert!(
            on_api
                .iter()
                .all(|a| a["resourceDisplayName"] == "Weather API")
        );
        assert_eq!(
            dir.federated_credentials(&model.api.app_object_id),
            Vec::<Value>::new()
        );
    }
}
