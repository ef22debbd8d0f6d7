//! Local, Entra-faithful sandbox tenant (identity provider + protected weather API).
//!
//! [`Sandbox::start`] serves, on one listener:
//!
//! - the identity provider on Entra's paths (`/{tenant}/v2.0/.well-known/openid-configuration`,
//!   `/{tenant}/discovery/v2.0/keys`, `/{tenant}/oauth2/v2.0/token`, their v1 twins), issuing
//!   RS256 app-only tokens shaped like Entra's and failing with Entra's AADSTS errors;
//!   clients authenticate with a secret, a certificate-signed client assertion (PS256 with
//!   `x5t#S256` or RS256 with `x5t`) or a federated token (workload identity);
//! - a federation issuer (`/federation/.well-known/openid-configuration`, `/federation/keys`)
//!   standing in for a Kubernetes service-account issuer, for workload identity federation;
//! - the protected weather API (`/api/weather/{city}`), validating tokens like a real
//!   resource server;
//! - loopback-only admin routes (`/_sandbox/…`) mirroring the [`SandboxHandle`] operations.
//!
//! The tenant (apps, roles, secrets, certificates, federated credentials) comes from
//! [`TenantModel`]; signing keys (and `generate = true` client certificates) are generated
//! at start and live only in memory until written with
//! [`SandboxHandle::write_client_certificate`] or [`SandboxHandle::write_config`].

pub mod cli;

mod admin;
mod api;
mod assertion;
mod credentials;
mod error;
mod federation;
mod idp;
mod keys;
mod model;
mod state;
mod tls;

use std::fmt;
use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use chrono::{DateTime, TimeDelta, Utc};
use serde_json::{Value, json};

pub use credentials::{
    CertificateCredential, ClientCertFiles, FederatedCredential, TOKEN_EXCHANGE_AUDIENCE,
};
pub use error::SandboxError;
pub use model::{ApiApp, AppRole, ClientApp, ClientSecret, TenantInfo, TenantModel, TokenVersion};

use idp::AppState;
use state::Shared;

/// How long a rotated-out signing key stays in JWKS by default: longer than the longest
/// token it can have signed (90 minutes), so no valid token is orphaned.
pub const DEFAULT_KEY_GRACE: Duration = Duration::from_secs(2 * 3600);

/// Which issuer strings tokens (and discovery) carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum IssuerStyle {
    /// The sandbox's own URL: `{base}/{tid}/v2.0` and `{base}/{tid}/`.
    #[default]
    Local,
    /// Entra's real issuers: `https://login.microsoftonline.com/{tid}/v2.0` and
    /// `https://sts.windows.net/{tid}/`, for APIs that hard-code them.
    Entra,
}

/// How to start a sandbox.
#[derive(Debug, Clone)]
pub struct SandboxOptions {
    /// Where to listen. Port 0 picks a free port. Default `127.0.0.1:0`.
    pub addr: SocketAddr,
    /// Serve HTTPS with a throwaway CA (see [`SandboxHandle::ca_pem_path`]).
    pub tls: bool,
    /// The tenant to serve. Default: [`TenantModel::builtin`].
    pub tenant: TenantModel,
    /// Fixed token lifetime; `None` = random 60–90 minutes, like Entra.
    pub token_lifetime: Option<Duration>,
    pub issuer_style: IssuerStyle,
    /// How long a rotated-out signing key stays published. Default [`DEFAULT_KEY_GRACE`].
    pub key_grace: Duration,
}

impl Default for SandboxOptions {
    fn default() -> Self {
        SandboxOptions {
            addr: SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 0),
            tls: false,
            tenant: TenantModel::builtin(),
            token_lifetime: None,
            issuer_style: IssuerStyle::Local,
            key_grace: DEFAULT_KEY_GRACE,
        }
    }
}

/// The endpoints whose requests are counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Endpoint {
    /// OpenID discovery documents (v1, v2) and instance discovery.
    Discovery,
    /// JWKS (v1, v2).
    Jwks,
    /// Token endpoints (v1, v2), successful or not.
    Token,
    /// The weather API, authorised or not.
    Api,
    /// The `/_sandbox/…` admin routes (including refused ones).
    Admin,
    /// Anything else.
    Other,
}

impl Endpoint {
    pub const ALL: [Endpoint; 6] = [
        Endpoint::Discovery,
        Endpoint::Jwks,
        Endpoint::Token,
        Endpoint::Api,
        Endpoint::Admin,
        Endpoint::Other,
    ];

    fn index(self) -> usize {
        self as usize
    }

    /// The name used in `/_sandbox/stats`.
    pub fn name(self) -> &'static str {
        match self {
            Endpoint::Discovery => "discovery",
            Endpoint::Jwks => "jwks",
            Endpoint::Token => "token",
            Endpoint::Api => "api",
            Endpoint::Admin => "admin",
            Endpoint::Other => "other",
        }
    }
}

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
    fn from_model(c: &ClientApp, now: DateTime<Utc>) -> ClientInfo {
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

    fn to_json(&self) -> Value {
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

/// Starts sandboxes.
pub struct Sandbox;

impl Sandbox {
    /// Generates the keys (and TLS material), binds the listener and starts serving. The
    /// sandbox answers as soon as this returns.
    pub async fn start(opts: SandboxOptions) -> Result<SandboxHandle, SandboxError> {
        opts.tenant.validate("the sandbox options")?;
        let now = Utc::now();
        // RSA key generation is the slow part; run it while the socket and TLS are set up.
        let key_task = tokio::task::spawn_blocking(move || keys::SigningKey::generate(now));
        let federation_task = tokio::task::spawn_blocking(move || keys::SigningKey::generate(now));
        // Certificates the tenant asks to generate (`generate = true`).
        let mut tenant = opts.tenant;
        let wanted: Vec<String> = tenant
            .clients
            .iter()
            .filter(|c| {
                c.generate_certificate && !c.certificates.iter().any(|k| k.has_private_key())
            })
            .map(|c| c.name.clone())
            .collect();
        let cert_task = tokio::task::spawn_blocking(move || {
            wanted
                .into_iter()
                .map(|name| credentials::generate_certificate(&name, now).map(|c| (name, c)))
                .collect::<Result<Vec<_>, _>>()
        });

        let listener =
            std::net::TcpListener::bind(opts.addr).map_err(|cause| SandboxError::Bind {
                addr: opts.addr,
                cause,
            })?;
        let local_addr = listener.local_addr().map_err(|cause| SandboxError::Bind {
            addr: opts.addr,
            cause,
        })?;
        let base_url = base_url(local_addr, opts.tls);

        let tls = if opts.tls {
            Some(tls::generate(now, local_addr.ip())?)
        } else {
            None
        };
        let key = key_task.await.map_err(|e| SandboxError::Crypto {
            what: "token-signing key",
            detail: e.to_string(),
        })??;
        let federation_key = federation_task.await.map_err(|e| SandboxError::Crypto {
            what: "federation issuer key",
            detail: e.to_string(),
        })??;
        let generated = cert_task.await.map_err(|e| SandboxError::Crypto {
            what: "client certificate",
            detail: e.to_string(),
        })??;
        for (name, cert) in generated {
            if let Some(client) = tenant.client_mut(&name) {
                client.certificates.push(cert);
            }
        }

        let shared = Arc::new(Shared::new(
            base_url,
            opts.issuer_style,
            opts.key_grace,
            opts.tls,
            local_addr,
            tenant,
            opts.token_lifetime,
            key,
            federation_key,
        ));
        let app = router(shared.clone()).into_make_service_with_connect_info::<SocketAddr>();
        let server = axum_server::Handle::<SocketAddr>::new();
        let bind_err = |cause| SandboxError::Bind {
            addr: local_addr,
            cause,
        };

        let (task, ca) = match tls {
            Some(material) => {
                let ca_file = tls::CaFile::write(&material.ca_pem)?;
                let config = axum_server::tls_rustls::RustlsConfig::from_pem(
                    material.server_cert_pem.into_bytes(),
                    material.server_key_pem.into_bytes(),
                )
                .await
                .map_err(|e| SandboxError::Tls {
                    detail: e.to_string(),
                })?;
                let serve = axum_server::from_tcp_rustls(listener, config)
                    .map_err(bind_err)?
                    .handle(server.clone())
                    .serve(app);
                (tokio::spawn(serve), Some((ca_file, material.ca_pem)))
            }
            None => {
                let serve = axum_server::from_tcp(listener)
                    .map_err(bind_err)?
                    .handle(server.clone())
                    .serve(app);
                (tokio::spawn(serve), None)
            }
        };
        tracing::info!(base_url = %shared.base_url, tls = opts.tls, "sandbox started");
        let (ca_file, ca_pem) = match ca {
            Some((file, pem)) => (Some(file), Some(pem)),
            None => (None, None),
        };
        let rotation = tokio::spawn(federation::rotate_token_files(shared.clone()));
        Ok(SandboxHandle {
            shared,
            server,
            task: Some(task),
            rotation: Some(rotation),
            ca_file,
            ca_pem,
        })
    }
}

fn base_url(addr: SocketAddr, tls: bool) -> String {
    let ip = addr.ip();
    let host = if tls && (ip.is_loopback() || ip.is_unspecified()) {
        "localhost".to_string()
    } else if ip.is_unspecified() {
        match ip {
            IpAddr::V4(_) => "127.0.0.1".to_string(),
            IpAddr::V6(_) => "[::1]".to_string(),
        }
    } else {
        match ip {
            IpAddr::V4(v4) => v4.to_string(),
            IpAddr::V6(v6) => format!("[{v6}]"),
        }
    };
    let scheme = if tls { "https" } else { "http" };
    format!("{scheme}://{host}:{}", addr.port())
}

fn router(shared: AppState) -> Router {
    Router::new()
        .route("/", get(root))
        .route("/error", get(idp::error_page))
        .route(
            "/{tenant}/v2.0/.well-known/openid-configuration",
            get(idp::discovery_v2),
        )
        .route(
            "/{tenant}/.well-known/openid-configuration",
            get(idp::discovery_v1),
        )
        .route("/{tenant}/discovery/v2.0/keys", get(idp::keys_v2))
        .route("/{tenant}/discovery/keys", get(idp::keys_v1))
        .route("/{tenant}/discovery/instance", get(idp::instance_discovery))
        .route("/{tenant}/oauth2/v2.0/token", post(idp::token_v2))
        .route("/{tenant}/oauth2/token", post(idp::token_v1))
        .route(
            "/federation/.well-known/openid-configuration",
            get(federation::discovery),
        )
        .route("/federation/keys", get(federation::keys))
        .route("/api/weather/{city}", get(api::weather))
        .nest("/_sandbox", admin::router(shared.clone()))
        .fallback(not_found)
        .with_state(shared)
}

async fn root(axum::extract::State(shared): axum::extract::State<AppState>) -> Response {
    shared.count(Endpoint::Other);
    let tid = shared.tenant_id();
    let base = &shared.base_url;
    (
        [(header::CONTENT_TYPE, "application/json")],
        json!({
            "sandbox": "tokenscope sandbox tenant (sandbox-only: its keys and secrets protect nothing)",
            "authority": format!("{base}/{tid}"),
            "openid_configuration": format!("{base}/{tid}/v2.0/.well-known/openid-configuration"),
            "token_endpoint": format!("{base}/{tid}/oauth2/v2.0/token"),
            "jwks_uri": format!("{base}/{tid}/discovery/v2.0/keys"),
            "weather_api": format!("{base}/api/weather/{{city}}?country=US&units=metric"),
        })
        .to_string(),
    )
        .into_response()
}

async fn not_found(axum::extract::State(shared): axum::extract::State<AppState>) -> Response {
    shared.count(Endpoint::Other);
    (StatusCode::NOT_FOUND, "Not Found\n").into_response()
}

/// How a profile written by [`SandboxHandle::config_toml_in`] authenticates, when not with
/// a secret.
enum ProfileCredential {
    Certificate(PathBuf),
    Federated(PathBuf),
}

/// The file name of a path written next to the config (relative to the config's dir).
fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string())
}

/// A running sandbox. Dropping it stops the server abruptly; [`SandboxHandle::shutdown`]
/// stops it gracefully and waits until the port is free.
pub struct SandboxHandle {
    shared: Arc<Shared>,
    server: axum_server::Handle<SocketAddr>,
    task: Option<tokio::task::JoinHandle<io::Result<()>>>,
    /// Rewrites registered federated token files every 10 minutes.
    rotation: Option<tokio::task::JoinHandle<()>>,
    ca_file: Option<tls::CaFile>,
    ca_pem: Option<String>,
}

impl fmt::Debug for SandboxHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SandboxHandle")
            .field("base_url", &self.shared.base_url)
            .field("tenant_id", &self.tenant_id())
            .finish_non_exhaustive()
    }
}

impl SandboxHandle {
    /// `http://127.0.0.1:PORT`, or `https://localhost:PORT` with TLS.
    pub fn base_url(&self) -> String {
        self.shared.base_url.clone()
    }

    /// The socket the sandbox listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.shared.local_addr
    }

    pub fn tenant_id(&self) -> String {
        self.shared.tenant_id()
    }

    /// `{base}/{tenant id}`.
    pub fn authority(&self) -> String {
        format!("{}/{}", self.shared.base_url, self.tenant_id())
    }

    /// `{authority}/oauth2/v2.0/token`.
    pub fn token_endpoint(&self) -> String {
        format!("{}/oauth2/v2.0/token", self.authority())
    }

    /// `{authority}/v2.0/.well-known/openid-configuration`.
    pub fn discovery_url(&self) -> String {
        format!("{}/v2.0/.well-known/openid-configuration", self.authority())
    }

    /// `{authority}/discovery/v2.0/keys`.
    pub fn jwks_uri(&self) -> String {
        format!("{}/discovery/v2.0/keys", self.authority())
    }

    /// The `iss` of tokens of this version (depends on the issuer style).
    pub fn issuer(&self, version: TokenVersion) -> String {
        self.shared.issuer(version, &self.tenant_id())
    }

    /// `{base}/api/weather/{city}` (with the literal `{city}` placeholder).
    pub fn api_url_template(&self) -> String {
        format!("{}/api/weather/{{city}}", self.shared.base_url)
    }

    /// The API's application (client) id: the `aud` of v2 tokens.
    pub fn api_client_id(&self) -> String {
        self.shared.read().model.api.client_id.clone()
    }

    /// The API's App ID URI: the `aud` of v1 tokens.
    pub fn app_id_uri(&self) -> String {
        self.shared.read().model.api.app_id_uri.clone()
    }

    /// `{App ID URI}/.default`.
    pub fn api_scope(&self) -> String {
        format!("{}/.default", self.app_id_uri())
    }

    /// The role the weather API currently requires.
    pub fn required_role(&self) -> String {
        self.shared.read().model.api.required_role.clone()
    }

    /// The CA certificate file to trust (TLS mode only). Removed at shutdown.
    pub fn ca_pem_path(&self) -> Option<PathBuf> {
        self.ca_file.as_ref().map(|f| f.path().to_path_buf())
    }

    /// The CA certificate PEM (TLS mode only).
    pub fn ca_pem(&self) -> Option<String> {
        self.ca_pem.clone()
    }

    /// The tenant's clients, in model order.
    pub fn clients(&self) -> Vec<ClientInfo> {
        self.shared.clients()
    }

    /// A client by name or client id.
    pub fn client(&self, name_or_id: &str) -> Option<ClientInfo> {
        self.shared.client(name_or_id)
    }

    /// Grants an app role to a client (by name or id). Idempotent.
    pub fn grant_role(&self, client: &str, role: &str) -> Result<(), SandboxError> {
        self.shared.grant_role(client, role)
    }

    /// Revokes an app role from a client. Idempotent.
    pub fn revoke_role(&self, client: &str, role: &str) -> Result<(), SandboxError> {
        self.shared.revoke_role(client, role)
    }

    /// Changes the role the weather API requires (must be one of the API's app roles).
    pub fn set_required_role(&self, role: &str) -> Result<(), SandboxError> {
        self.shared.set_required_role(role)
    }

    /// Fixes the lifetime of new tokens (clamped to 1 s – 24 h); `None` = random 60–90 min.
    pub fn set_token_lifetime(&self, lifetime: Option<Duration>) {
        self.shared.set_token_lifetime(lifetime)
    }

    /// Switches the API's `accessTokenAcceptedVersion` for new tokens.
    pub fn set_access_token_version(&self, version: TokenVersion) {
        self.shared.set_access_token_version(version)
    }

    /// Switches "assignment required" on the API's enterprise application.
    pub fn set_assignment_required(&self, required: bool) {
        self.shared.set_assignment_required(required)
    }

    /// Generates a new signing key and signs new tokens with it. The old key stays in JWKS
    /// (and keeps validating at the API) for the grace period. Returns the new `kid`.
    pub async fn rotate_signing_key(&self) -> Result<String, SandboxError> {
        admin::rotate_key(&self.shared).await
    }

    /// The `kid`s currently published in JWKS, the signing key first.
    pub fn signing_key_ids(&self) -> Vec<String> {
        self.shared
            .published_keys()
            .iter()
            .map(|k| k.kid.clone())
            .collect()
    }

    /// Makes all of the client's secrets expire now (next token request: AADSTS7000222).
    pub fn expire_secret(&self, client: &str) -> Result<(), SandboxError> {
        self.shared.expire_secret(client)
    }

    /// Adds a fresh secret to the client and makes it the current one.
    pub fn renew_secret(&self, client: &str) -> Result<ClientInfo, SandboxError> {
        self.shared.renew_secret(client)
    }

    /// Shifts the sandbox's clock (tokens, expiry checks, secret expiry, key grace).
    pub fn set_clock_offset(&self, offset: TimeDelta) {
        self.shared.set_clock_offset(offset)
    }

    /// The sandbox's "now".
    pub fn now(&self) -> DateTime<Utc> {
        self.shared.now()
    }

    /// Requests received by an endpoint since start.
    pub fn request_count(&self, endpoint: Endpoint) -> u64 {
        self.shared.request_count(endpoint)
    }

    // ---- certificates and federated credentials ------------------------------------

    /// Generates an RSA-2048 self-signed certificate (CN = the client's name, valid from a
    /// day ago for a year), registers it on the client and writes `{client}.pem` (certificate
    /// then PKCS#8 key), `{client}.crt.pem`, `{client}.key.pem` and `{client}.pfx` (with a
    /// random password, returned) into `dir`, all mode 0600. `client` is a name or client id;
    /// the files are named after the client's name.
    pub fn write_client_certificate(
        &self,
        client: &str,
        dir: &Path,
    ) -> Result<ClientCertFiles, SandboxError> {
        let name = self.client_name(client)?;
        let cert = credentials::generate_certificate(&name, self.now())?;
        self.shared.add_certificate(&name, cert.clone())?;
        credentials::write_cert_files(&name, &cert, dir)
    }

    /// Registers an existing certificate (PEM, the public half is enough) on a client.
    /// Returns its SHA-1 thumbprint (upper-case hex).
    pub fn add_client_certificate(&self, client: &str, pem: &[u8]) -> Result<String, SandboxError> {
        let cert =
            CertificateCredential::from_pem(pem).map_err(|problem| SandboxError::InvalidValue {
                problem: format!("cannot register the certificate: {problem}"),
                hint: "pass a PEM file with a -----BEGIN CERTIFICATE----- block (RSA key)".into(),
            })?;
        let thumbprint = cert.thumbprint.clone();
        self.shared.add_certificate(client, cert)?;
        Ok(thumbprint)
    }

    /// The federation issuer: `{base}/federation` (discovery at
    /// `{base}/federation/.well-known/openid-configuration`, keys at `{base}/federation/keys`).
    pub fn federation_issuer(&self) -> String {
        self.shared.federation_issuer.clone()
    }

    /// A token of the federation issuer (RS256, `kid`, `aud` as an array like Kubernetes),
    /// valid from the sandbox's now for `lifetime`.
    pub fn mint_federated_token(
        &self,
        subject: &str,
        audience: &str,
        lifetime: Duration,
    ) -> Result<String, SandboxError> {
        self.shared.mint_federated(subject, audience, lifetime)
    }

    /// Adds a federated identity credential to a client. `issuer = "sandbox"` stands for
    /// [`SandboxHandle::federation_issuer`].
    pub fn add_federated_credential(
        &self,
        client: &str,
        issuer: &str,
        subject: &str,
        audience: &str,
    ) -> Result<(), SandboxError> {
        self.shared
            .add_federated_credential(client, issuer, subject, audience)
    }

    /// Mints a 1-hour token for the client's first federated record and writes it to
    /// `path` (mode 0600). While the sandbox runs, the file is rewritten every 10 minutes,
    /// as the kubelet rotates projected service-account tokens.
    pub fn write_federated_token(
        &self,
        client: &str,
        path: &Path,
    ) -> Result<PathBuf, SandboxError> {
        let client_id = federation::write_token_file(&self.shared, client, path)?;
        self.shared
            .register_token_file(&client_id, path.to_path_buf());
        Ok(path.to_path_buf())
    }

    fn client_name(&self, client: &str) -> Result<String, SandboxError> {
        self.client(client.trim())
            .map(|c| c.name)
            .ok_or_else(|| SandboxError::UnknownClient {
                client: client.to_string(),
                known: self
                    .clients()
                    .iter()
                    .map(|c| c.name.clone())
                    .collect::<Vec<_>>()
                    .join(", "),
            })
    }

    /// A tokenscope configuration with one profile per client that has a secret (inline
    /// sandbox secrets). Certificate and federated clients need files next to the config:
    /// see [`SandboxHandle::config_toml_in`] and [`SandboxHandle::write_config`].
    pub fn config_toml(&self) -> String {
        self.render_config(&[])
    }

    /// Like [`SandboxHandle::config_toml`], plus profiles for clients without a secret:
    /// writes their credential files into `dir` (`{client}.pem` for a certificate,
    /// `{client}.token` for a federated token) and refers to them by file name, relative to
    /// the config file, which is expected in `dir`.
    pub fn config_toml_in(&self, dir: &Path) -> Result<String, SandboxError> {
        let mut extra = Vec::new();
        for c in self.clients() {
            if c.has_secret() {
                continue;
            }
            if !c.certificate_thumbprints.is_empty() {
                let file = match self.shared.own_certificate(&c.name)? {
                    Some(cert) => credentials::write_cert_files(&c.name, &cert, dir)?,
                    None => self.write_client_certificate(&c.name, dir)?,
                };
                extra.push((
                    c.name.clone(),
                    ProfileCredential::Certificate(file.combined_pem),
                ));
            } else if !c.federated_credentials.is_empty() {
                let path = dir.join(format!("{}.token", c.name));
                self.write_federated_token(&c.name, &path)?;
                extra.push((c.name.clone(), ProfileCredential::Federated(path)));
            }
        }
        Ok(self.render_config(&extra))
    }

    fn render_config(&self, extra: &[(String, ProfileCredential)]) -> String {
        let clients = self.clients();
        let required = self.required_role();
        let authority = self.authority();
        let scope = self.api_scope();
        let api_url = self.api_url_template();
        let ca = self.ca_pem_path();
        let q = |s: &str| toml::Value::String(s.to_string()).to_string();

        let mut out = String::new();
        out.push_str("# tokenscope configuration for the local sandbox tenant, written by\n");
        out.push_str("# `tokenscope sandbox`. The secrets below are sandbox-only values that\n");
        out.push_str("# protect nothing; never put a real secret inline like this.\n");
        if let Some(first) = clients.iter().find(|c| c.name == "console-rw").or(clients
            .iter()
            .find(|c| c.has_secret() || extra.iter().any(|(n, _)| *n == c.name)))
        {
            out.push_str(&format!("default_profile = {}\n", q(&first.name)));
        }
        for c in &clients {
            let file_credential = extra
                .iter()
                .find(|(name, _)| *name == c.name)
                .map(|(_, f)| f);
            if !c.has_secret() && file_credential.is_none() {
                continue;
            }
            let roles = if c.granted_roles.is_empty() {
                vec![required.clone()]
            } else {
                c.granted_roles.clone()
            };
            let roles = toml::Value::Array(roles.into_iter().map(toml::Value::String).collect());
            out.push_str(&format!("\n[profiles.{}]\n", c.name));
            out.push_str(&format!("authority = {}\n", q(&authority)));
            out.push_str(&format!("client_id = {}\n", q(&c.client_id)));
            match file_credential {
                Some(ProfileCredential::Certificate(path)) => out.push_str(&format!(
                    "client_certificate_path = {}\n",
                    q(&file_name(path))
                )),
                Some(ProfileCredential::Federated(path)) => {
                    out.push_str(&format!("federated_token_file = {}\n", q(&file_name(path))))
                }
                None => {
                    out.push_str(&format!("client_secret = {}\n", q(&c.secret)));
                    // As the portal shows it under Certificates & secrets: the Config pane
                    // counts it down (and flags the expired-secret client).
                    out.push_str(&format!(
                        "secret_expires = {}\n",
                        q(&c.secret_expires
                            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
                    ));
                }
            }
            out.push_str(&format!("scope = {}\n", q(&scope)));
            out.push_str(&format!("api_url = {}\n", q(&api_url)));
            out.push_str(&format!("expected_roles = {roles}\n"));
            if let Some(ca) = &ca {
                out.push_str(&format!("ca_file = {}\n", q(&ca.display().to_string())));
            }
        }
        out
    }

    /// Writes [`SandboxHandle::config_toml_in`] to `path` (mode 0600 on Unix: it holds
    /// secrets), with the certificate and token files in the same directory.
    pub fn write_config(&self, path: &Path) -> io::Result<()> {
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let text = self.config_toml_in(&dir).map_err(io::Error::other)?;
        use std::io::Write as _;
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt as _;
            options.mode(0o600);
        }
        let mut file = options.open(path)?;
        #[cfg(unix)]
        {
            // `mode` only applies when the file is created; tighten an existing one too.
            use std::os::unix::fs::PermissionsExt as _;
            file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
        }
        file.write_all(text.as_bytes())?;
        file.sync_all()
    }

    /// Stops accepting connections, lets in-flight requests finish (up to 3 s), waits for
    /// the server task and removes the CA file. The port is free when this returns.
    pub async fn shutdown(mut self) {
        if let Some(rotation) = self.rotation.take() {
            rotation.abort();
        }
        self.server.graceful_shutdown(Some(Duration::from_secs(3)));
        if let Some(task) = self.task.take() {
            match tokio::time::timeout(Duration::from_secs(5), task).await {
                Ok(Ok(Ok(()))) => {}
                Ok(Ok(Err(e))) => {
                    tracing::warn!(error = %e, "sandbox server stopped with an error")
                }
                Ok(Err(e)) => tracing::warn!(error = %e, "sandbox server task failed"),
                Err(_) => tracing::warn!("sandbox server did not stop within 5 s"),
            }
        }
        tracing::info!(base_url = %self.shared.base_url, "sandbox stopped");
    }
}

impl Drop for SandboxHandle {
    fn drop(&mut self) {
        if let Some(rotation) = self.rotation.take() {
            rotation.abort();
        }
        if let Some(task) = self.task.take() {
            self.server.shutdown();
            task.abort();
        }
    }
}
