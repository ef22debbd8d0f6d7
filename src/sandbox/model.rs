//! The tenant model: what `assets/sandbox.toml` (or `--tenant FILE`) describes — the
//! directory, the protected API's app registration and roles, the daemon clients and their
//! credentials — and the invariants the sandbox relies on ([`TenantModel::validate`]).
//! `model/file.rs` reads the TOML file format into it.
//!
//! Owns the tenant's shape and its lookups. Must not hold run-time state (the shared state
//! does: a running sandbox changes its own copy) or know about HTTP.

use std::fmt;

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

use super::credentials::{CertificateCredential, FederatedCredential};
use super::error::SandboxError;

mod file;

/// Which access-token format the API asks for (`accessTokenAcceptedVersion`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenVersion {
    /// v1.0 tokens: `iss` = `…/{tid}/`, `aud` = App ID URI, `appid`/`appidacr`.
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
    pub access_token_version: TokenVersion,
    pub assignment_required: bool,
    /// The role the weather API requires.
    pub required_role: String,
    pub app_roles: Vec<AppRole>,
}

/// An app role the API defines.
#[derive(Debug, Clone)]
pub struct AppRole {
    pub value: String,
    pub id: String,
    pub display_name: String,
    pub description: String,
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
    /// App roles granted (admin-consented) to this client, by value.
    pub granted_roles: Vec<String>,
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
    pub expires: DateTime<Utc>,
}

impl fmt::Debug for PasswordCredential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PasswordCredential")
            .field("id", &self.id)
            .field("value", &"[redacted]")
            .field("expires", &self.expires)
            .finish()
    }
}

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
        for role in &client.granted_roles {
            if self.api.role(role).is_none() {
                return Err(bad(
                    format!(
                        "client '{}' is granted role '{}', which the API does not define",
                        client.name, role
                    ),
                    "grant only values of the [[api.app_roles]]",
                ));
            }
        }
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

    /// The current (most recently added) secret.
    pub fn current_secret(&self) -> Option<&PasswordCredential> {
        self.secrets.last()
    }
}

const GUID_HINT: &str = "GUIDs look like 6c6f687a-96c8-4280-bba3-d11cc0b19b67";

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
        assert_eq!(rw.granted_roles, ["Weather.Read", "Weather.Write"]);
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
