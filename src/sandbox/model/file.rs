//! The tenant file format: the TOML shape of `assets/sandbox.toml` (or `--tenant FILE`),
//! read strictly (unknown keys are errors) and turned into a [`TenantModel`] with every
//! omitted id derived and every default filled in.
//!
//! Owns parsing and defaults. Must not decide what a valid tenant is ([`TenantModel::validate`]
//! does, for files and for models built in code alike) or hold state.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::{
    ApiApp, AppRole, ClientApp, PasswordCredential, TenantInfo, TenantModel, TokenVersion,
    derived_guid,
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
        let text = std::fs::read_to_string(path).map_err(|cause| SandboxError::ModelRead {
            path: path.to_path_buf(),
            cause,
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
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawClient {
    name: String,
    display_name: Option<String>,
    client_id: String,
    object_id: Option<String>,
    #[serde(default)]
    granted_roles: Vec<String>,
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
        let clients = self
            .clients
            .into_iter()
            .map(|c| c.into_client(origin, dir, &tenant_id))
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
            clients,
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
        let app_roles =
            self.app_roles
                .into_iter()
                .map(|r| AppRole {
                    id: r.id.map(|s| normalise_guid(&s)).unwrap_or_else(|| {
                        derived_guid(&format!("role:{api_client_id}:{}", r.value))
                    }),
                    display_name: r.display_name.unwrap_or_else(|| r.value.clone()),
                    value: r.value,
                    description: r.description,
                })
                .collect();
        Ok(ApiApp {
            display_name: self.display_name.unwrap_or_else(|| "Weather API".into()),
            app_id_uri: self
                .app_id_uri
                .unwrap_or_else(|| format!("api://{api_client_id}")),
            object_id: self
                .object_id
                .map(|s| normalise_guid(&s))
                .unwrap_or_else(|| derived_guid(&format!("sp:{tenant_id}:{api_client_id}"))),
            client_id: api_client_id,
            access_token_version: version,
            assignment_required: self.assignment_required,
            required_role: self.required_role,
            app_roles,
        })
    }
}

impl RawClient {
    fn into_client(
        self,
        origin: &str,
        dir: &Path,
        tenant_id: &str,
    ) -> Result<ClientApp, SandboxError> {
        let client_id = normalise_guid(&self.client_id);
        let name = self.name;
        let mut secrets = Vec::new();
        for (i, s) in self.secrets.into_iter().enumerate() {
            let expires = s.expires.parse().ok_or_else(|| {
                invalid(
                    origin,
                    format!("a secret of client '{name}' has an unreadable expiry"),
                    "write expiry dates in RFC 3339, e.g. \"2099-12-31T23:59:59Z\"",
                )
            })?;
            secrets.push(PasswordCredential {
                id: s
                    .id
                    .map(|id| normalise_guid(&id))
                    .unwrap_or_else(|| derived_guid(&format!("secret:{client_id}:{i}"))),
                value: s.value,
                expires,
            });
        }
        let mut certificates = Vec::new();
        let mut generate_certificate = false;
        for raw in self.certificates {
            match (raw.path, raw.generate) {
                (Some(path), false) => {
                    certificates.push(load_certificate(origin, &dir.join(&path), &name)?)
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
        Ok(ClientApp {
            object_id: self
                .object_id
                .map(|s| normalise_guid(&s))
                .unwrap_or_else(|| derived_guid(&format!("sp:{tenant_id}:{client_id}"))),
            display_name: self.display_name.unwrap_or_else(|| name.clone()),
            name,
            client_id,
            granted_roles: self.granted_roles,
            secrets,
            certificates,
            generate_certificate,
            federated_credentials,
        })
    }
}

/// A certificate file a tenant names (`path`, relative to the tenant file).
fn load_certificate(
    origin: &str,
    full: &PathBuf,
    client: &str,
) -> Result<CertificateCredential, SandboxError> {
    let hint = "certificate paths are relative to the tenant file and name a PEM file with a \
                -----BEGIN CERTIFICATE----- block";
    let pem = std::fs::read(full).map_err(|e| {
        invalid(
            origin,
            format!(
                "cannot read certificate {} of client '{client}': {e}",
                full.display()
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
