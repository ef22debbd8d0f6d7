//! The tenant model: what `assets/sandbox.toml` (or `--tenant FILE`) describes — the
//! directory, the protected API's app registration and roles, Microsoft Graph as the
//! tenant sees it, the daemon clients with the permissions they have *configured* ("API
//! permissions", Graph's `requiredResourceAccess`), the app roles actually *granted* to them
//! (app-role assignments, what admin consent creates) and their credentials — and the
//! invariants the sandbox relies on ([`TenantModel::validate`], in `model/validate.rs`).
//! `model/file.rs` reads the TOML file format into it.
//!
//! Owns the tenant's shape and its lookups. Must not hold run-time state (the shared state
//! does: a running sandbox changes its own copy) or know about HTTP.

use std::fmt;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use sha2::{Digest, Sha256};

use super::credentials::{CertificateCredential, FederatedCredential};

mod file;
mod validate;

/// Microsoft Graph's application (client) id, the same in every tenant.
pub const GRAPH_APP_ID: &str = "00000003-0000-0000-c000-000000000000";

/// Microsoft Graph's App ID URI in the public cloud: the resource of the scope
/// `https://graph.microsoft.com/.default` and the `aud` of the tokens it gets.
pub const GRAPH_RESOURCE: &str = "https://graph.microsoft.com";

/// The Graph application permission that reads app registrations and service principals.
pub const APPLICATION_READ_ALL: &str = "Application.Read.All";

/// `Application.Read.All`'s id, Microsoft's and the same in every tenant.
const APPLICATION_READ_ALL_ID: &str = "9a5d68dd-52b0-4cc2-bd40-abcf44ac3a30";

/// `allowedMemberTypes` values: an app role for applications (an "application permission")…
pub const MEMBER_APPLICATION: &str = "Application";
/// …or for users and groups (it never shows under Application permissions).
pub const MEMBER_USER: &str = "User";

/// Which access-token format the API asks for (`accessTokenAcceptedVersion`, Graph's
/// `api.requestedAccessTokenVersion`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenVersion {
    /// v1.0 tokens: `iss` = `…/{tid}/`, `aud` = App ID URI, `appid`/`appidacr`. What an
    /// API gets whose `requestedAccessTokenVersion` is null (the default) or 1.
    V1,
    /// v2.0 tokens: `iss` = `…/{tid}/v2.0`, `aud` = API client id, `azp`/`azpacr`.
    V2,
}

impl TokenVersion {
    /// The `ver` claim value.
    pub fn claim(self) -> &'static str {
        match self {
            TokenVersion::V1 => "1.0",
            TokenVersion::V2 => "2.0",
        }
    }
}

/// A whole sandbox tenant.
#[derive(Debug, Clone)]
pub struct TenantModel {
    pub tenant: TenantInfo,
    pub api: ApiApp,
    /// Microsoft Graph's service principal in this tenant.
    pub graph: GraphApp,
    pub clients: Vec<ClientApp>,
}

/// The directory itself.
#[derive(Debug, Clone)]
pub struct TenantInfo {
    /// Tenant id, lower-case hyphenated GUID.
    pub id: String,
    /// Optional verified domain, accepted in place of the GUID in URLs.
    pub domain: Option<String>,
    pub display_name: String,
}

/// The protected API's app registration.
#[derive(Debug, Clone)]
pub struct ApiApp {
    pub display_name: String,
    /// Application (client) id GUID: the `aud` of v2 tokens.
    pub client_id: String,
    /// App ID URI (`api://…`): the `aud` of v1 tokens, the scope prefix.
    pub app_id_uri: String,
    /// Service principal object id.
    pub object_id: String,
    /// Object id of the application object (Graph's `application.id`).
    pub app_object_id: String,
    pub access_token_version: TokenVersion,
    pub assignment_required: bool,
    /// The role the weather API requires.
    pub required_role: String,
    pub app_roles: Vec<AppRole>,
}

/// Microsoft Graph as a resource of the tenant: its service principal (the application
/// lives in Microsoft's tenant) and the one app role the sandbox models.
#[derive(Debug, Clone)]
pub struct GraphApp {
    /// Object id of Graph's service principal in this tenant.
    pub object_id: String,
    pub app_roles: Vec<AppRole>,
}

impl GraphApp {
    /// Graph's service principal in the tenant `tenant_id`, with `Application.Read.All`.
    pub fn new(tenant_id: &str) -> GraphApp {
        GraphApp {
            object_id: derived_guid(&format!("sp:{tenant_id}:{GRAPH_APP_ID}")),
            app_roles: vec![AppRole {
                value: APPLICATION_READ_ALL.into(),
                id: APPLICATION_READ_ALL_ID.into(),
                display_name: "Read all applications".into(),
                description: "Allows the app to read all applications and service principals \
                              without a signed-in user."
                    .into(),
                allowed_member_types: vec![MEMBER_APPLICATION.into()],
                enabled: true,
            }],
        }
    }
}

/// An app role a resource (or a client's own registration) defines.
#[derive(Debug, Clone)]
pub struct AppRole {
    pub value: String,
    pub id: String,
    pub display_name: String,
    pub description: String,
    /// `allowedMemberTypes`: [`MEMBER_APPLICATION`], [`MEMBER_USER`] or both.
    pub allowed_member_types: Vec<String>,
    /// `isEnabled`: a disabled role cannot be granted and never reaches a token.
    pub enabled: bool,
}

impl AppRole {
    /// Whether applications can be granted it (it is an application permission).
    pub fn allows_applications(&self) -> bool {
        self.allowed_member_types
            .iter()
            .any(|m| m == MEMBER_APPLICATION)
    }
}

/// Which resource a permission or a grant is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resource {
    /// The protected weather API.
    Api,
    /// Microsoft Graph.
    Graph,
}

/// An application permission configured on a client: one `resourceAccess` entry of type
/// `Role` in its `requiredResourceAccess`, what the portal lists under "API permissions",
/// consented or not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfiguredRole {
    pub resource: Resource,
    /// The role's id: normally one of the resource's roles; for [`Resource::Api`] it may be
    /// a role of the client's own registration (the mistake of defining it there).
    pub role_id: String,
}

/// An app-role assignment: what admin consent creates, and what tokens are built from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleGrant {
    /// The assignment's id (Graph's `appRoleAssignment.id`).
    pub id: String,
    pub resource: Resource,
    pub role_id: String,
    /// When it was granted (`createdDateTime`). `None` in a tenant file or a model built in
    /// code: the sandbox fills in its start time.
    pub created: Option<DateTime<Utc>>,
    /// How long after `created` it reaches tokens (the propagation delay in force when it
    /// was made; zero for grants of a tenant file).
    pub propagation: Duration,
}

impl RoleGrant {
    /// When tokens start to carry it (`None` until the sandbox has stamped `created`).
    pub fn reaches_tokens(&self) -> Option<DateTime<Utc>> {
        let delay = TimeDelta::from_std(self.propagation).unwrap_or(TimeDelta::MAX);
        self.created.and_then(|c| c.checked_add_signed(delay))
    }
}

/// A daemon client.
#[derive(Debug, Clone)]
pub struct ClientApp {
    /// Short name, used for profiles and admin operations.
    pub name: String,
    pub display_name: String,
    pub client_id: String,
    /// Object id of the client's service principal: the token's `oid` and `sub`.
    pub object_id: String,
    /// Object id of the client's application object (Graph's `application.id`).
    pub app_object_id: String,
    /// Application permissions configured ("API permissions"), consented or not.
    pub configured: Vec<ConfiguredRole>,
    /// App roles granted (admin-consented): the app-role assignments the client holds.
    pub grants: Vec<RoleGrant>,
    /// App roles defined on the client's own registration (normally none: roles belong on
    /// the API's registration).
    pub app_roles: Vec<AppRole>,
    /// Client secrets; the last one is the "current" one.
    pub secrets: Vec<PasswordCredential>,
    /// Certificates registered on the client (public halves; the private key too for
    /// certificates the sandbox generated).
    pub certificates: Vec<CertificateCredential>,
    /// Generate a certificate for this client when the sandbox starts
    /// (`[[clients.certificates]] generate = true`).
    pub generate_certificate: bool,
    /// Federated identity credentials (workload identity).
    pub federated_credentials: Vec<FederatedCredential>,
}

/// A client secret as registered on an app: Graph's `passwordCredentials` entry, the
/// portal's "Client secrets" row. Named after Graph, like [`CertificateCredential`] and
/// [`FederatedCredential`], and not `ClientSecret`, which is the core's redacted secret string
/// (`crate::secret::ClientSecret`) a client sends.
#[derive(Clone)]
pub struct PasswordCredential {
    /// The secret's key id (what Entra calls the "secret ID").
    pub id: String,
    /// The secret value.
    pub value: String,
    /// The portal's "Description".
    pub display_name: Option<String>,
    /// When it became valid; `None`: the sandbox fills in its start time, or two years
    /// before `expires` when that is earlier (Entra's longest secret lifetime).
    pub start: Option<DateTime<Utc>>,
    pub expires: DateTime<Utc>,
}

impl PasswordCredential {
    /// Graph's `hint`: the first three characters of the value (all Graph ever shows).
    pub fn hint(&self) -> String {
        self.value.chars().take(3).collect()
    }
}

impl fmt::Debug for PasswordCredential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PasswordCredential")
            .field("id", &self.id)
            .field("value", &"[redacted]")
            .field("display_name", &self.display_name)
            .field("start", &self.start)
            .field("expires", &self.expires)
            .finish()
    }
}

impl TenantModel {
    /// The roles a resource defines.
    pub fn roles(&self, resource: Resource) -> &[AppRole] {
        match resource {
            Resource::Api => &self.api.app_roles,
            Resource::Graph => &self.graph.app_roles,
        }
    }

    /// A resource's role by id.
    pub fn role_by_id(&self, resource: Resource, id: &str) -> Option<&AppRole> {
        self.roles(resource)
            .iter()
            .find(|r| r.id.eq_ignore_ascii_case(id))
    }

    /// A role by value (case-insensitive): the API's, else Graph's.
    pub fn find_role(&self, value: &str) -> Option<(Resource, &AppRole)> {
        [Resource::Api, Resource::Graph]
            .into_iter()
            .find_map(|resource| {
                self.roles(resource)
                    .iter()
                    .find(|r| r.value.eq_ignore_ascii_case(value))
                    .map(|r| (resource, r))
            })
    }

    /// The resource's display name, as Graph's `resourceDisplayName` has it.
    pub fn resource_name(&self, resource: Resource) -> &str {
        match resource {
            Resource::Api => &self.api.display_name,
            Resource::Graph => "Microsoft Graph",
        }
    }

    /// The service principal object id of a resource.
    pub fn resource_sp_id(&self, resource: Resource) -> &str {
        match resource {
            Resource::Api => &self.api.object_id,
            Resource::Graph => &self.graph.object_id,
        }
    }

    /// The values of the resource's roles granted to `client`, in the resource's order.
    pub fn granted_values(&self, client: &ClientApp, resource: Resource) -> Vec<String> {
        self.roles(resource)
            .iter()
            .filter(|r| client.is_granted(resource, &r.id))
            .map(|r| r.value.clone())
            .collect()
    }

    /// The values of the permissions `client` has configured for `resource`, in the
    /// resource's order, then the client's own roles it points at the API for.
    pub fn configured_values(&self, client: &ClientApp, resource: Resource) -> Vec<String> {
        let own = match resource {
            Resource::Api => client.app_roles.as_slice(),
            Resource::Graph => &[],
        };
        self.roles(resource)
            .iter()
            .chain(own)
            .filter(|r| client.is_configured(resource, &r.id))
            .map(|r| r.value.clone())
            .collect()
    }

    /// The `roles` a token for `resource` issued to `client` at `now` carries: granted,
    /// enabled, open to applications, and propagated by `now`.
    pub fn token_roles(
        &self,
        client: &ClientApp,
        resource: Resource,
        now: DateTime<Utc>,
    ) -> Vec<String> {
        self.roles(resource)
            .iter()
            .filter(|r| r.enabled && r.allows_applications())
            .filter(|r| {
                client.grants.iter().any(|g| {
                    g.resource == resource
                        && g.role_id.eq_ignore_ascii_case(&r.id)
                        && g.reaches_tokens().is_none_or(|at| at <= now)
                })
            })
            .map(|r| r.value.clone())
            .collect()
    }

    /// Finds a client by name or client id (case-insensitive id).
    pub fn client(&self, name_or_id: &str) -> Option<&ClientApp> {
        self.clients.iter().find(|c| c.matches(name_or_id))
    }

    pub(crate) fn client_mut(&mut self, name_or_id: &str) -> Option<&mut ClientApp> {
        self.clients.iter_mut().find(|c| c.matches(name_or_id))
    }

    /// Comma-separated client names, for error hints.
    pub(crate) fn client_names(&self) -> String {
        self.clients
            .iter()
            .map(|c| c.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

impl ApiApp {
    /// The app role with this value (case-insensitive).
    pub fn role(&self, value: &str) -> Option<&AppRole> {
        self.app_roles
            .iter()
            .find(|r| r.value.eq_ignore_ascii_case(value))
    }

    /// Comma-separated role values, for error hints.
    pub(crate) fn role_names(&self) -> String {
        self.app_roles
            .iter()
            .map(|r| r.value.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

impl ClientApp {
    fn matches(&self, name_or_id: &str) -> bool {
        self.name == name_or_id || self.client_id.eq_ignore_ascii_case(name_or_id)
    }

    /// Whether the client holds an assignment of this role.
    pub fn is_granted(&self, resource: Resource, role_id: &str) -> bool {
        self.grants
            .iter()
            .any(|g| g.resource == resource && g.role_id.eq_ignore_ascii_case(role_id))
    }

    /// Whether the client has this permission configured.
    pub fn is_configured(&self, resource: Resource, role_id: &str) -> bool {
        self.configured
            .iter()
            .any(|c| c.resource == resource && c.role_id.eq_ignore_ascii_case(role_id))
    }

    /// The current (most recently added) secret.
    pub fn current_secret(&self) -> Option<&PasswordCredential> {
        self.secrets.last()
    }
}

/// The canonical spelling of an `allowedMemberTypes` value (`user` → `User`).
pub(crate) fn member_type(text: &str) -> Option<&'static str> {
    [MEMBER_APPLICATION, MEMBER_USER]
        .into_iter()
        .find(|m| m.eq_ignore_ascii_case(text.trim()))
}

/// An app-role assignment id shaped like Graph's (43 base64url characters), stable for
/// `label`.
pub(crate) fn assignment_id(label: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(label.as_bytes()))
}

/// A stable GUID derived from a label, for ids the model leaves out.
pub(crate) fn derived_guid(label: &str) -> String {
    let digest = Sha256::digest(label.as_bytes());
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    uuid::Builder::from_random_bytes(bytes)
        .into_uuid()
        .hyphenated()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sandbox::error::SandboxError;

    #[test]
    fn builtin_tenant_has_the_lecture_clients() {
        let m = TenantModel::builtin();
        assert_eq!(m.api.access_token_version, TokenVersion::V2);
        assert_eq!(m.api.required_role, "Weather.Read");
        assert_eq!(m.api.app_id_uri, format!("api://{}", m.api.client_id));
        let names: Vec<_> = m.clients.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "console-rw",
                "mobile-ro",
                "no-roles",
                "expired-secret",
                "console-cert",
                "workload"
            ]
        );
        let cert = m.client("console-cert").expect("client");
        assert!(cert.secrets.is_empty() && cert.generate_certificate);
        let workload = m.client("workload").expect("client");
        assert!(workload.secrets.is_empty() && workload.certificates.is_empty());
        assert_eq!(
            workload.federated_credentials[0].audiences,
            ["api://AzureADTokenExchange"]
        );
        let expired = m.client("expired-secret").expect("client");
        assert!(expired.current_secret().expect("secret").expires < Utc::now());
        let rw = m
            .client(&m.clients[0].client_id.to_uppercase())
            .expect("by id");
        assert_eq!(
            m.granted_values(rw, Resource::Api),
            ["Weather.Read", "Weather.Write"]
        );
        // Today's clients have what they are granted configured, and nothing more.
        for c in &m.clients {
            assert_eq!(
                m.configured_values(c, Resource::Api),
                m.granted_values(c, Resource::Api),
                "{}",
                c.name
            );
        }
        // console-rw reads the set-up through Graph; no other client can.
        let readers: Vec<&str> = m
            .clients
            .iter()
            .filter(|c| m.granted_values(c, Resource::Graph) == [APPLICATION_READ_ALL])
            .map(|c| c.name.as_str())
            .collect();
        assert_eq!(readers, ["console-rw"]);
        assert!(m.api.app_roles.iter().all(AppRole::allows_applications));
    }

    #[test]
    fn roles_can_be_user_only_configured_apart_and_granted_with_a_time() {
        let text = r#"
            [tenant]
            id = "ec184e30-7605-46d6-97ce-0b8dfa8e6682"
            [api]
            client_id = "6c6f687a-96c8-4280-bba3-d11cc0b19b67"
            required_role = "R"
            [[api.app_roles]]
            value = "R"
            [[api.app_roles]]
            value = "Audit"
            allowed_member_types = ["user"]
            [[clients]]
            name = "c"
            client_id = "a5947bad-c48d-423f-8e81-4681cdd00957"
            granted_roles = ["R"]
            configured_roles = ["R", "Audit", "Own"]
            [[clients.app_roles]]
            value = "Own"
            [[clients.secrets]]
            value = "s"
            expires = "2030-01-01T00:00:00Z"
        "#;
        let m = TenantModel::from_toml_str(text, "t.toml").expect("valid");
        let audit = m.api.role("audit").expect("defined");
        assert_eq!(audit.allowed_member_types, [MEMBER_USER]);
        assert!(!audit.allows_applications());
        let c = &m.clients[0];
        assert_eq!(m.configured_values(c, Resource::Api), ["R", "Audit", "Own"]);
        assert_eq!(m.granted_values(c, Resource::Api), ["R"]);
        assert_eq!(c.grants[0].created, None, "stamped when the sandbox starts");

        // A grant reaches tokens after its propagation delay, and only then.
        let mut late = c.clone();
        let made = Utc::now();
        late.grants[0].created = Some(made);
        late.grants[0].propagation = Duration::from_secs(30);
        assert!(m.token_roles(&late, Resource::Api, made).is_empty());
        assert_eq!(
            m.token_roles(&late, Resource::Api, made + TimeDelta::seconds(30)),
            ["R"]
        );

        let granted_user_only =
            text.replace("granted_roles = [\"R\"]", "granted_roles = [\"Audit\"]");
        let err = TenantModel::from_toml_str(&granted_user_only, "t.toml").expect_err("user-only");
        assert!(
            err.to_string().contains("allows only User members"),
            "{err}"
        );
        let bad_type = text.replace("[\"user\"]", "[\"Robot\"]");
        let err = TenantModel::from_toml_str(&bad_type, "t.toml").expect_err("member type");
        assert!(err.to_string().contains("Robot"), "{err}");
        let unknown_graph = text.replace(
            "granted_roles = [\"R\"]",
            "graph_roles = [\"User.Read.All\"]",
        );
        let err = TenantModel::from_toml_str(&unknown_graph, "t.toml").expect_err("graph role");
        assert!(err.to_string().contains("'User.Read.All'"), "{err}");
    }

    #[test]
    fn toml_datetimes_and_defaults_are_accepted() {
        let text = r#"
            [tenant]
            id = "EC184E30-7605-46D6-97CE-0B8DFA8E6682"
            [api]
            client_id = "6c6f687a-96c8-4280-bba3-d11cc0b19b67"
            required_role = "R"
            access_token_version = 1
            [[api.app_roles]]
            value = "R"
            [[clients]]
            name = "c"
            client_id = "a5947bad-c48d-423f-8e81-4681cdd00957"
            [[clients.secrets]]
            value = "s"
            expires = 2030-01-01T00:00:00Z
        "#;
        let m = TenantModel::from_toml_str(text, "test").expect("valid");
        assert_eq!(m.tenant.id, "ec184e30-7605-46d6-97ce-0b8dfa8e6682");
        assert_eq!(m.api.access_token_version, TokenVersion::V1);
        assert_eq!(
            m.api.app_id_uri,
            "api://6c6f687a-96c8-4280-bba3-d11cc0b19b67"
        );
        assert_eq!(
            m.clients[0].secrets[0].expires.to_rfc3339(),
            "2030-01-01T00:00:00+00:00"
        );
        // Derived ids are stable.
        let again = TenantModel::from_toml_str(text, "test").expect("valid");
        assert_eq!(m.clients[0].object_id, again.clients[0].object_id);
    }

    #[test]
    fn inconsistencies_are_reported_with_a_hint() {
        let text = r#"
            [tenant]
            id = "not-a-guid"
            [api]
            client_id = "6c6f687a-96c8-4280-bba3-d11cc0b19b67"
            required_role = "R"
            [[api.app_roles]]
            value = "R"
            [[clients]]
            name = "c"
            client_id = "a5947bad-c48d-423f-8e81-4681cdd00957"
            [[clients.secrets]]
            value = "s"
            expires = "2030-01-01T00:00:00Z"
        "#;
        let err = TenantModel::from_toml_str(text, "t.toml").expect_err("bad guid");
        let msg = err.to_string();
        assert!(
            msg.contains("tenant.id 'not-a-guid' is not a GUID"),
            "{msg}"
        );
        assert_eq!(
            err.hint().as_deref(),
            Some("GUIDs look like 6c6f687a-96c8-4280-bba3-d11cc0b19b67")
        );
        assert!(
            err.report()
                .ends_with("\n  hint: GUIDs look like 6c6f687a-96c8-4280-bba3-d11cc0b19b67")
        );

        let unknown_role = text
            .replace("not-a-guid", "ec184e30-7605-46d6-97ce-0b8dfa8e6682")
            .replace("name = \"c\"", "name = \"c\"\ngranted_roles = [\"Nope\"]");
        let err = TenantModel::from_toml_str(&unknown_role, "t.toml").expect_err("bad role");
        assert!(err.to_string().contains("'Nope'"), "{err}");

        let err = TenantModel::from_toml_str("[tenant]\nidd = 1", "t.toml").expect_err("shape");
        assert!(matches!(err, SandboxError::ModelParse { .. }), "{err}");
    }

    #[test]
    fn certificates_load_relative_to_the_tenant_file_and_federated_defaults_apply() {
        let dir = tempfile::tempdir().expect("tempdir");
        let cert = super::super::credentials::generate_certificate("from-file", Utc::now())
            .expect("certificate");
        std::fs::create_dir(dir.path().join("certs")).expect("mkdir");
        std::fs::write(dir.path().join("certs/c.crt.pem"), cert.cert_pem()).expect("write");
        let text = r#"
            [tenant]
            id = "ec184e30-7605-46d6-97ce-0b8dfa8e6682"
            [api]
            client_id = "6c6f687a-96c8-4280-bba3-d11cc0b19b67"
            required_role = "R"
            [[api.app_roles]]
            value = "R"
            [[clients]]
            name = "c"
            client_id = "a5947bad-c48d-423f-8e81-4681cdd00957"
            [[clients.certificates]]
            path = "certs/c.crt.pem"
            [[clients.federated_credentials]]
            issuer = "https://issuer.example"
            subject = "s"
        "#;
        let path = dir.path().join("tenant.toml");
        std::fs::write(&path, text).expect("write");
        let m = TenantModel::from_file(&path).expect("valid");
        let c = &m.clients[0];
        assert!(c.secrets.is_empty(), "a certificate is credential enough");
        assert_eq!(c.certificates[0].thumbprint, cert.thumbprint);
        assert!(!c.certificates[0].has_private_key());
        assert_eq!(c.federated_credentials[0].name, "c-federated-1");
        assert_eq!(
            c.federated_credentials[0].audiences,
            ["api://AzureADTokenExchange"]
        );

        let both = text.replace(
            "path = \"certs/c.crt.pem\"",
            "path = \"certs/c.crt.pem\"\ngenerate = true",
        );
        std::fs::write(&path, both).expect("write");
        let err = TenantModel::from_file(&path).expect_err("path and generate");
        assert!(err.to_string().contains("neither or both"), "{err}");

        let missing = text.replace("certs/c.crt.pem", "certs/nope.pem");
        std::fs::write(&path, missing).expect("write");
        let err = TenantModel::from_file(&path).expect_err("missing file");
        assert!(err.to_string().contains("nope.pem"), "{err}");

        let bare = text
            .split("[[clients.certificates]]")
            .next()
            .expect("head")
            .to_string();
        let err = TenantModel::from_toml_str(&bare, "t.toml").expect_err("no credential");
        assert!(err.to_string().contains("has no credential"), "{err}");
    }

    #[test]
    fn secret_debug_is_redacted() {
        let m = TenantModel::builtin();
        let dbg = format!("{m:?}");
        assert!(!dbg.contains("not-a-real-secret"), "{dbg}");
    }
}
