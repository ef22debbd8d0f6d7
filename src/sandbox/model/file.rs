//! The tenant file format: the TOML shape of `assets/sandbox.toml` (or `--tenant FILE`),
//! read strictly (unknown keys are errors) and turned into a [`TenantModel`] with every
//! omitted id derived and every default filled in.
//!
//! Owns parsing and defaults. Must not decide what a valid tenant is ([`TenantModel::validate`]
//! does, for files and for models built in code alike) or hold state.

use std::path::Path;

use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::{
    ApiApp, AppRole, ClientApp, ConfiguredRole, GraphApp, MEMBER_APPLICATION, PasswordCredential,
    Resource, RoleGrant, TenantInfo, TenantModel, TokenVersion, assignment_id, derived_guid,
    member_type,
};
use crate::sandbox::credentials::{
    CertificateCredential, FederatedCredential, TOKEN_EXCHANGE_AUDIENCE,
};
use crate::sandbox::error::SandboxError;

/// The built-in tenant, shipped in the binary.
const BUILTIN: &str = include_str!("../../../assets/sandbox.toml");

impl TenantModel {
    /// The tenant shipped in the binary (`assets/sandbox.toml`).
    pub fn builtin() -> TenantModel {
        // The embedded asset is a compile-time constant covered by a unit test; failing to
        // parse it is a build defect, not an input error.
        #[allow(clippy::expect_used)]
        TenantModel::from_toml_str(BUILTIN, "the built-in tenant (assets/sandbox.toml)")
            .expect("the embedded assets/sandbox.toml is valid")
    }

    /// Reads a tenant model from a TOML file.
    pub fn from_file(path: impl AsRef<Path>) -> Result<TenantModel, SandboxError> {
        let path = path.as_ref();
        // Bounded, and never blocked on a FIFO (`crate::files`); the reason names the problem.
        let text = crate::files::read_to_string(path, crate::files::FileKind::TenantModel)
            .map_err(|e| SandboxError::ModelRead {
                path: path.to_path_buf(),
                cause: e.into_io(),
            })?;
        let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        TenantModel::parse(&text, &path.display().to_string(), &dir)
    }

    /// Parses a tenant model from TOML text; `origin` names it in error messages.
    /// Certificate paths are relative to the current directory.
    pub fn from_toml_str(text: &str, origin: &str) -> Result<TenantModel, SandboxError> {
        TenantModel::parse(text, origin, Path::new(""))
    }

    /// Parses TOML text; relative certificate paths are resolved against `dir`.
    fn parse(text: &str, origin: &str, dir: &Path) -> Result<TenantModel, SandboxError> {
        let raw: RawModel = toml::from_str(text).map_err(|e| SandboxError::ModelParse {
            origin: origin.to_string(),
            message: e.to_string().trim_end().to_string(),
        })?;
        let model = raw.into_model(origin, dir)?;
        model.validate(origin)?;
        Ok(model)
    }
}

// ---- Raw TOML shape ---------------------------------------------------------------------

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawModel {
    tenant: RawTenant,
    api: RawApi,
    #[serde(default)]
    clients: Vec<RawClient>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTenant {
    id: String,
    domain: Option<String>,
    display_name: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawApi {
    display_name: Option<String>,
    client_id: String,
    app_id_uri: Option<String>,
    object_id: Option<String>,
    application_object_id: Option<String>,
    access_token_version: Option<u8>,
    #[serde(default)]
    assignment_required: bool,
    required_role: String,
    #[serde(default)]
    app_roles: Vec<RawRole>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRole {
    value: String,
    id: Option<String>,
    display_name: Option<String>,
    #[serde(default)]
    description: String,
    /// Default `["Application"]`.
    allowed_member_types: Option<Vec<String>>,
    /// Default true.
    enabled: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawClient {
    name: String,
    display_name: Option<String>,
    client_id: String,
    object_id: Option<String>,
    application_object_id: Option<String>,
    /// Granted (and, unless `configured_roles` says otherwise, configured) API roles.
    #[serde(default)]
    granted_roles: Vec<String>,
    /// API roles under "API permissions", consented or not. Default: `granted_roles`.
    configured_roles: Option<Vec<String>>,
    /// Microsoft Graph application permissions, configured and granted.
    #[serde(default)]
    graph_roles: Vec<String>,
    /// Roles defined on the client's own registration (a mistake the sandbox can show).
    #[serde(default)]
    app_roles: Vec<RawRole>,
    #[serde(default)]
    secrets: Vec<RawSecret>,
    #[serde(default)]
    certificates: Vec<RawCertificate>,
    #[serde(default)]
    federated_credentials: Vec<RawFederated>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCertificate {
    /// A PEM certificate, relative to the tenant file.
    path: Option<String>,
    /// Generate one when the sandbox starts.
    #[serde(default)]
    generate: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFederated {
    name: Option<String>,
    issuer: String,
    subject: String,
    audiences: Option<Vec<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSecret {
    id: Option<String>,
    value: String,
    display_name: Option<String>,
    start: Option<RawDate>,
    expires: RawDate,
}

/// A date written either as a quoted RFC 3339 string or as a TOML datetime.
#[derive(Deserialize)]
#[serde(untagged)]
enum RawDate {
    Text(String),
    Toml(toml::value::Datetime),
}

impl RawDate {
    fn parse(&self) -> Option<DateTime<Utc>> {
        let text = match self {
            RawDate::Text(s) => s.clone(),
            RawDate::Toml(d) => d.to_string(),
        };
        DateTime::parse_from_rfc3339(text.trim())
            .ok()
            .map(|d| d.with_timezone(&Utc))
    }
}

fn normalise_guid(s: &str) -> String {
    match uuid::Uuid::parse_str(s.trim()) {
        Ok(u) => u.hyphenated().to_string(),
        Err(_) => s.to_string(),
    }
}

fn invalid(origin: &str, problem: String, hint: &str) -> SandboxError {
    SandboxError::ModelInvalid {
        origin: origin.to_string(),
        problem,
        hint: hint.to_string(),
    }
}

impl RawModel {
    fn into_model(self, origin: &str, dir: &Path) -> Result<TenantModel, SandboxError> {
        let tenant_id = normalise_guid(&self.tenant.id);
        let api = self.api.into_api(origin, &tenant_id)?;
        let graph = GraphApp::new(&tenant_id);
        let resources = Resources {
            api: &api,
            graph: &graph,
            origin,
            dir,
            tenant_id: &tenant_id,
        };
        let clients = self
            .clients
            .into_iter()
            .map(|c| c.into_client(&resources))
            .collect::<Result<_, _>>()?;
        Ok(TenantModel {
            tenant: TenantInfo {
                display_name: self
                    .tenant
                    .display_name
                    .unwrap_or_else(|| "tokenscope sandbox".into()),
                domain: self.tenant.domain.map(|d| d.to_ascii_lowercase()),
                id: tenant_id,
            },
            api,
            graph,
            clients,
        })
    }
}

/// What a client's entries are resolved against.
struct Resources<'a> {
    api: &'a ApiApp,
    graph: &'a GraphApp,
    origin: &'a str,
    /// The tenant file's directory (certificate paths are relative to it).
    dir: &'a Path,
    tenant_id: &'a str,
}

impl RawRole {
    /// `owner` (an application id) and the value derive the id when the file gives none.
    fn into_role(self, origin: &str, owner: &str) -> Result<AppRole, SandboxError> {
        let allowed_member_types = match self.allowed_member_types {
            None => vec![MEMBER_APPLICATION.to_string()],
            Some(types) => types
                .iter()
                .map(|t| member_type(t).map(str::to_string))
                .collect::<Option<Vec<_>>>()
                .ok_or_else(|| {
                    invalid(
                        origin,
                        format!(
                            "app role '{}' has allowed_member_types {types:?}",
                            self.value
                        ),
                        "use [\"Application\"], [\"User\"] or both",
                    )
                })?,
        };
        Ok(AppRole {
            id: self
                .id
                .map(|s| normalise_guid(&s))
                .unwrap_or_else(|| derived_guid(&format!("role:{owner}:{}", self.value))),
            display_name: self.display_name.unwrap_or_else(|| self.value.clone()),
            value: self.value,
            description: self.description,
            allowed_member_types,
            enabled: self.enabled.unwrap_or(true),
        })
    }
}

impl RawApi {
    fn into_api(self, origin: &str, tenant_id: &str) -> Result<ApiApp, SandboxError> {
        let api_client_id = normalise_guid(&self.client_id);
        let version = match self.access_token_version.unwrap_or(2) {
            1 => TokenVersion::V1,
            2 => TokenVersion::V2,
            other => {
                return Err(invalid(
                    origin,
                    format!("api.access_token_version is {other}"),
                    "use 1 (v1.0 tokens) or 2 (v2.0 tokens)",
                ));
            }
        };
        let app_roles = self
            .app_roles
            .into_iter()
            .map(|r| r.into_role(origin, &api_client_id))
            .collect::<Result<_, _>>()?;
        Ok(ApiApp {
            display_name: self.display_name.unwrap_or_else(|| "Weather API".into()),
            app_id_uri: self
                .app_id_uri
                .unwrap_or_else(|| format!("api://{api_client_id}")),
            object_id: self
                .object_id
                .map(|s| normalise_guid(&s))
                .unwrap_or_else(|| derived_guid(&format!("sp:{tenant_id}:{api_client_id}"))),
            app_object_id: self
                .application_object_id
                .map(|s| normalise_guid(&s))
                .unwrap_or_else(|| derived_guid(&format!("app:{tenant_id}:{api_client_id}"))),
            client_id: api_client_id,
            access_token_version: version,
            assignment_required: self.assignment_required,
            required_role: self.required_role,
            app_roles,
        })
    }
}

impl RawClient {
    fn into_client(self, res: &Resources<'_>) -> Result<ClientApp, SandboxError> {
        let origin = res.origin;
        let client_id = normalise_guid(&self.client_id);
        let name = self.name.clone();
        let secrets = self
            .secrets
            .into_iter()
            .enumerate()
            .map(|(i, s)| s.into_secret(origin, &name, &client_id, i))
            .collect::<Result<_, _>>()?;
        let mut certificates = Vec::new();
        let mut generate_certificate = false;
        for raw in self.certificates {
            match (raw.path, raw.generate) {
                (Some(path), false) => {
                    certificates.push(load_certificate(origin, &res.dir.join(&path), &name)?)
                }
                (None, true) => generate_certificate = true,
                _ => {
                    return Err(invalid(
                        origin,
                        format!(
                            "a certificate of client '{name}' has neither or both of path and generate"
                        ),
                        "write either path = \"client.pem\" or generate = true",
                    ));
                }
            }
        }
        let federated_credentials = self
            .federated_credentials
            .into_iter()
            .enumerate()
            .map(|(i, f)| FederatedCredential {
                name: f
                    .name
                    .unwrap_or_else(|| format!("{name}-federated-{}", i + 1)),
                issuer: f.issuer,
                subject: f.subject,
                audiences: f
                    .audiences
                    .unwrap_or_else(|| vec![TOKEN_EXCHANGE_AUDIENCE.to_string()]),
            })
            .collect();
        let app_roles: Vec<AppRole> = self
            .app_roles
            .into_iter()
            .map(|r| r.into_role(origin, &client_id))
            .collect::<Result<_, _>>()?;
        let permissions = Permissions {
            name: &name,
            client_id: &client_id,
            own: &app_roles,
            res,
        };
        let mut grants = permissions.grants(Resource::Api, &self.granted_roles)?;
        let mut configured = permissions.configured(
            Resource::Api,
            self.configured_roles
                .as_ref()
                .unwrap_or(&self.granted_roles),
        )?;
        grants.extend(permissions.grants(Resource::Graph, &self.graph_roles)?);
        configured.extend(permissions.configured(Resource::Graph, &self.graph_roles)?);
        Ok(ClientApp {
            object_id: self
                .object_id
                .map(|s| normalise_guid(&s))
                .unwrap_or_else(|| derived_guid(&format!("sp:{}:{client_id}", res.tenant_id))),
            app_object_id: self
                .application_object_id
                .map(|s| normalise_guid(&s))
                .unwrap_or_else(|| derived_guid(&format!("app:{}:{client_id}", res.tenant_id))),
            display_name: self.display_name.unwrap_or_else(|| name.clone()),
            name,
            client_id,
            configured,
            grants,
            app_roles,
            secrets,
            certificates,
            generate_certificate,
            federated_credentials,
        })
    }
}

impl RawSecret {
    fn into_secret(
        self,
        origin: &str,
        name: &str,
        client_id: &str,
        index: usize,
    ) -> Result<PasswordCredential, SandboxError> {
        let date = |raw: &RawDate, what: &str| {
            raw.parse().ok_or_else(|| {
                invalid(
                    origin,
                    format!("a secret of client '{name}' has an unreadable {what}"),
                    "write dates in RFC 3339, e.g. \"2099-12-31T23:59:59Z\"",
                )
            })
        };
        Ok(PasswordCredential {
            id: self
                .id
                .map(|id| normalise_guid(&id))
                .unwrap_or_else(|| derived_guid(&format!("secret:{client_id}:{index}"))),
            value: self.value,
            display_name: self.display_name,
            start: self.start.as_ref().map(|d| date(d, "start")).transpose()?,
            expires: date(&self.expires, "expiry")?,
        })
    }
}

/// Resolves a client's role values (granted, configured) to role ids.
struct Permissions<'a> {
    name: &'a str,
    client_id: &'a str,
    /// The roles of the client's own registration.
    own: &'a [AppRole],
    res: &'a Resources<'a>,
}

impl Permissions<'_> {
    fn roles(&self, resource: Resource) -> &[AppRole] {
        match resource {
            Resource::Api => &self.res.api.app_roles,
            Resource::Graph => &self.res.graph.app_roles,
        }
    }

    fn unknown(&self, resource: Resource, what: &str, value: &str) -> SandboxError {
        let (owner, hint) = match resource {
            Resource::Api => (
                "the API does not define",
                format!("{what} only values of the [[api.app_roles]]"),
            ),
            Resource::Graph => (
                "Microsoft Graph has no such application permission in the sandbox",
                "the sandbox's Graph defines only Application.Read.All".to_string(),
            ),
        };
        let verb = if what == "grant" {
            "is granted"
        } else {
            "has configured"
        };
        invalid(
            self.res.origin,
            format!(
                "client '{}' {verb} role '{value}', which {owner}",
                self.name
            ),
            &hint,
        )
    }

    /// Grants from a tenant file: made when the sandbox starts, in effect at once.
    fn grants(
        &self,
        resource: Resource,
        values: &[String],
    ) -> Result<Vec<RoleGrant>, SandboxError> {
        let mut out: Vec<RoleGrant> = Vec::new();
        for value in values {
            let role = self
                .roles(resource)
                .iter()
                .find(|r| r.value.eq_ignore_ascii_case(value))
                .ok_or_else(|| self.unknown(resource, "grant", value))?;
            if out.iter().any(|g| g.role_id == role.id) {
                continue;
            }
            out.push(RoleGrant {
                id: assignment_id(&format!("grant:{}:{}", self.client_id, role.id)),
                resource,
                role_id: role.id.clone(),
                created: None,
                propagation: std::time::Duration::ZERO,
            });
        }
        Ok(out)
    }

    /// Configured permissions: a role of the resource, or (for the API) of the client's
    /// own registration.
    fn configured(
        &self,
        resource: Resource,
        values: &[String],
    ) -> Result<Vec<ConfiguredRole>, SandboxError> {
        let own = match resource {
            Resource::Api => self.own,
            Resource::Graph => &[],
        };
        let mut out: Vec<ConfiguredRole> = Vec::new();
        for value in values {
            let role = self
                .roles(resource)
                .iter()
                .chain(own)
                .find(|r| r.value.eq_ignore_ascii_case(value))
                .ok_or_else(|| self.unknown(resource, "configure", value))?;
            if !out.iter().any(|c| c.role_id == role.id) {
                out.push(ConfiguredRole {
                    resource,
                    role_id: role.id.clone(),
                });
            }
        }
        Ok(out)
    }
}

/// A certificate file a tenant names (`path`, relative to the tenant file).
fn load_certificate(
    origin: &str,
    full: &Path,
    client: &str,
) -> Result<CertificateCredential, SandboxError> {
    let hint = "certificate paths are relative to the tenant file and name a PEM file with a \
                -----BEGIN CERTIFICATE----- block";
    let pem = crate::files::read(full, crate::files::FileKind::Certificate).map_err(|e| {
        invalid(
            origin,
            format!(
                "cannot read certificate {} of client '{client}': it {}",
                full.display(),
                e.reason()
            ),
            hint,
        )
    })?;
    CertificateCredential::from_pem(&pem).map_err(|e| {
        invalid(
            origin,
            format!("certificate {} of client '{client}': {e}", full.display()),
            hint,
        )
    })
}
