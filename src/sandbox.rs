//! Local, Entra-faithful sandbox tenant (identity provider + protected weather API).
//!
//! [`Sandbox::start`] serves, on one listener:
//!
//! - the identity provider on Entra's paths (`/{tenant}/v2.0/.well-known/openid-configuration`,
//!   `/{tenant}/discovery/v2.0/keys`, `/{tenant}/oauth2/v2.0/token`, their v1 twins), issuing
//!   RS256 app-only tokens shaped like Entra's and failing with Entra's AADSTS errors;
//! - the protected weather API (`/api/weather/{city}`), validating tokens like a real
//!   resource server;
//! - loopback-only admin routes (`/_sandbox/…`) mirroring the [`SandboxHandle`] operations.
//!
//! The tenant (apps, roles, secrets) comes from [`TenantModel`]; signing keys are generated
//! at start and live only in memory.

pub mod cli;

mod admin;
mod api;
mod error;
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
        }
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

        let shared = Arc::new(Shared::new(
            base_url,
            opts.issuer_style,
            opts.key_grace,
            opts.tls,
            local_addr,
            opts.tenant,
            opts.token_lifetime,
            key,
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
        Ok(SandboxHandle {
            shared,
            server,
            task: Some(task),
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

/// A running sandbox. Dropping it stops the server abruptly; [`SandboxHandle::shutdown`]
/// stops it gracefully and waits until the port is free.
pub struct SandboxHandle {
    shared: Arc<Shared>,
    server: axum_server::Handle<SocketAddr>,
    task: Option<tokio::task::JoinHandle<io::Result<()>>>,
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

    /// A tokenscope configuration with one profile per client (inline sandbox secrets).
    pub fn config_toml(&self) -> String {
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
        if let Some(first) = clients
            .iter()
            .find(|c| c.name == "console-rw")
            .or(clients.first())
        {
            out.push_str(&format!("default_profile = {}\n", q(&first.name)));
        }
        for c in &clients {
            let roles = if c.granted_roles.is_empty() {
                vec![required.clone()]
            } else {
                c.granted_roles.clone()
            };
            let roles = toml::Value::Array(roles.into_iter().map(toml::Value::String).collect());
            out.push_str(&format!("\n[profiles.{}]\n", c.name));
            out.push_str(&format!("authority = {}\n", q(&authority)));
            out.push_str(&format!("client_id = {}\n", q(&c.client_id)));
            out.push_str(&format!("client_secret = {}\n", q(&c.secret)));
            out.push_str(&format!("scope = {}\n", q(&scope)));
            out.push_str(&format!("api_url = {}\n", q(&api_url)));
            out.push_str(&format!("expected_roles = {roles}\n"));
            if let Some(ca) = &ca {
                out.push_str(&format!("ca_file = {}\n", q(&ca.display().to_string())));
            }
        }
        out
    }

    /// Writes [`SandboxHandle::config_toml`] to `path` (mode 0600 on Unix: it holds secrets).
    pub fn write_config(&self, path: &Path) -> io::Result<()> {
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
        file.write_all(self.config_toml().as_bytes())?;
        file.sync_all()
    }

    /// Stops accepting connections, lets in-flight requests finish (up to 3 s), waits for
    /// the server task and removes the CA file. The port is free when this returns.
    pub async fn shutdown(mut self) {
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
        if let Some(task) = self.task.take() {
            self.server.shutdown();
            task.abort();
        }
    }
}
