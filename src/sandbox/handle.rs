//! [`SandboxHandle`]: a running sandbox as its caller holds it — its URLs, the live admin
//! operations (grants, configured permissions, role definitions, token version, assignment
//! required, grant delay, secrets, lifetimes, key rotation, clock, certificates, federated
//! credentials) and shutdown. `handle/config.rs` writes tokenscope configurations for it.
//!
//! Owns the server task's lifetime. Must not hold tenant state of its own: every operation
//! goes through the shared state, so the HTTP admin routes and the handle always agree.

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};

use super::client_info::ClientInfo;
use super::credentials::{self, CertificateCredential, ClientCertFiles};
use super::error::SandboxError;
use super::federation;
use super::model::{AppRole, TokenVersion};
use super::state::Shared;
use super::stats::Endpoint;
use super::tls;

mod config;

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
    pub(super) fn new(
        shared: Arc<Shared>,
        server: axum_server::Handle<SocketAddr>,
        task: tokio::task::JoinHandle<io::Result<()>>,
        rotation: tokio::task::JoinHandle<()>,
        ca: Option<(tls::CaFile, String)>,
    ) -> SandboxHandle {
        let (ca_file, ca_pem) = match ca {
            Some((file, pem)) => (Some(file), Some(pem)),
            None => (None, None),
        };
        SandboxHandle {
            shared,
            server,
            task: Some(task),
            rotation: Some(rotation),
            ca_file,
            ca_pem,
        }
    }

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

    /// `{base}/graph/v1.0`: the sandbox's Microsoft Graph (what a profile's `graph_url`
    /// names). Its token scope is Graph's own, `https://graph.microsoft.com/.default`.
    pub fn graph_url(&self) -> String {
        format!("{}/graph/v1.0", self.shared.base_url)
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

    /// The directory the sandbox keeps its generated keys in across runs
    /// ([`SandboxOptions::key_store`](super::SandboxOptions::key_store)); `None` when it
    /// has none (not asked for, or unusable: then a warning was logged).
    pub fn key_store(&self) -> Option<PathBuf> {
        self.shared
            .key_store
            .as_ref()
            .map(|s| s.dir().to_path_buf())
    }

    /// The tenant's clients, in model order.
    pub fn clients(&self) -> Vec<ClientInfo> {
        self.shared.clients()
    }

    /// A client by name or client id.
    pub fn client(&self, name_or_id: &str) -> Option<ClientInfo> {
        self.shared.client(name_or_id)
    }

    /// The API's app roles, as the tenant defines them now.
    pub fn app_roles(&self) -> Vec<AppRole> {
        self.shared.read().model.api.app_roles.clone()
    }

    /// Grants an app role to a client (by name or id): admin consent, an app-role
    /// assignment with `createdDateTime` = the sandbox's now, reaching tokens after the
    /// [grant delay](SandboxHandle::set_grant_delay). Configures the permission too when
    /// the client lacks it. `role` is an API role or Graph's `Application.Read.All`; a
    /// User-only role is refused, as Entra refuses it. Idempotent.
    pub fn grant_role(&self, client: &str, role: &str) -> Result<(), SandboxError> {
        self.shared.grant_role(client, role)
    }

    /// Revokes an app role from a client: the assignment goes, the permission stays
    /// configured (consent missing). Idempotent.
    pub fn revoke_role(&self, client: &str, role: &str) -> Result<(), SandboxError> {
        self.shared.revoke_role(client, role)
    }

    /// Configures a permission on the client without granting it: it shows under the
    /// client's API permissions (`requiredResourceAccess`) with no assignment, as when
    /// admin consent was never given. Any role, User-only ones included. Idempotent.
    pub fn configure_role(&self, client: &str, role: &str) -> Result<(), SandboxError> {
        self.shared.configure_role(client, role)
    }

    /// Removes a permission from the client's API permissions; a grant of it stays.
    pub fn unconfigure_role(&self, client: &str, role: &str) -> Result<(), SandboxError> {
        self.shared.unconfigure_role(client, role)
    }

    /// Defines an app role on the API, or changes an existing one's `allowedMemberTypes`
    /// (`"Application"`, `"User"` or both). `["User"]` makes a role no client can be
    /// granted (it never shows under Application permissions), e.g. `Weather.Audit`.
    pub fn define_app_role(&self, role: &str, member_types: &[&str]) -> Result<(), SandboxError> {
        self.shared.define_app_role(role, member_types)
    }

    /// Deletes one of the API's app roles with its grants and configured permissions
    /// (refused for the role the weather API requires).
    pub fn remove_app_role(&self, role: &str) -> Result<(), SandboxError> {
        self.shared.remove_app_role(role)
    }

    /// Defines `role` on the client's own registration instead of the API's, and points
    /// the client's API permissions at the API for it: the mistake tokenscope's Setup view
    /// names. No token ever carries it.
    pub fn add_client_role(&self, client: &str, role: &str) -> Result<(), SandboxError> {
        self.shared.add_client_role(client, role)
    }

    /// Undoes [`SandboxHandle::add_client_role`].
    pub fn remove_client_role(&self, client: &str, role: &str) -> Result<(), SandboxError> {
        self.shared.remove_client_role(client, role)
    }

    /// Simulates Entra's propagation: a grant made from now on reaches tokens only `delay`
    /// after its `createdDateTime` (at most a day; zero = at once, the default). Tokens
    /// issued in between lack the role. Grants already made keep their moment; move the
    /// [clock](SandboxHandle::set_clock_offset) to get past it without waiting.
    pub fn set_grant_delay(&self, delay: Duration) {
        self.shared.set_grant_delay(delay)
    }

    /// The current propagation delay of new grants.
    pub fn grant_delay(&self) -> Duration {
        self.shared.grant_delay()
    }

    /// Changes the role the weather API requires (must be one of the API's app roles).
    pub fn set_required_role(&self, role: &str) -> Result<(), SandboxError> {
        self.shared.set_required_role(role)
    }

    /// Fixes the lifetime of new tokens (clamped to 1 s – 24 h); `None` = random 60–90 min.
    pub fn set_token_lifetime(&self, lifetime: Option<Duration>) {
        self.shared.set_token_lifetime(lifetime)
    }

    /// Switches the API's `accessTokenAcceptedVersion` for new tokens. Graph shows
    /// [`TokenVersion::V1`] as `api.requestedAccessTokenVersion: null` (the portal's
    /// default, which gives v1 tokens).
    pub fn set_access_token_version(&self, version: TokenVersion) {
        self.shared.set_access_token_version(version)
    }

    /// The API's current token version.
    pub fn access_token_version(&self) -> TokenVersion {
        self.shared.read().model.api.access_token_version
    }

    /// Switches "assignment required" on the API's enterprise application (Graph's
    /// `appRoleAssignmentRequired`).
    pub fn set_assignment_required(&self, required: bool) {
        self.shared.set_assignment_required(required)
    }

    /// Whether the API's enterprise application requires an assignment.
    pub fn assignment_required(&self) -> bool {
        self.shared.read().model.api.assignment_required
    }

    /// Generates a new signing key and signs new tokens with it. The old key stays in JWKS
    /// (and keeps validating at the API) for the grace period. Returns the new `kid`.
    pub async fn rotate_signing_key(&self) -> Result<String, SandboxError> {
        self.shared.rotate_key().await
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

    /// How far the sandbox's clock is moved from the real one ([`SandboxHandle::set_clock_offset`]).
    pub fn clock_offset(&self) -> TimeDelta {
        self.shared.clock_offset()
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
