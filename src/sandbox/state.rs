//! The sandbox's shared state: the tenant (behind one lock), the signing keys, the clock
//! and the request counters. Handlers and the handle's admin operations both act on it.
//!
//! Owns every mutation of the tenant at run time (roles, secrets, certificates, federated
//! records, key rotation) and the one clock; `state/roles.rs` holds the operations on app
//! roles, permissions and grants. Must not know about HTTP (no axum types) or routes: the
//! handlers above it translate requests into these calls.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use rand::Rng as _;

use super::client_info::ClientInfo;
use super::credentials::{CertificateCredential, FederatedCredential, SANDBOX_ISSUER_PLACEHOLDER};
use super::error::SandboxError;
use super::keys::SigningKey;
use super::keystore::{KeyRole, KeyStore};
use super::model::{ClientApp, PasswordCredential, TenantModel, TokenVersion};
use super::options::IssuerStyle;
use super::stats::{Counters, Endpoint};

mod roles;

/// Longest fixed token lifetime the sandbox accepts (Entra's configurable maximum is a day).
const MAX_LIFETIME: Duration = Duration::from_secs(24 * 3600);

/// The furthest the sandbox's clock may be moved from the system's, either way: past it,
/// token times and certificate windows stop meaning anything.
pub(crate) const MAX_CLOCK_OFFSET: TimeDelta = TimeDelta::days(3653);

/// The state every route handler gets (axum's `State`).
pub(crate) type AppState = Arc<Shared>;

/// What the server settled at start, for [`Shared::new`].
pub(crate) struct Setup {
    pub base_url: String,
    pub local_addr: SocketAddr,
    pub tls: bool,
    pub issuer_style: IssuerStyle,
    pub key_grace: Duration,
    pub token_lifetime: Option<Duration>,
    /// Where a rotated signing key is stored for the next start.
    pub key_store: Option<KeyStore>,
    /// Graph's page size when a request names no `$top`.
    pub graph_page_size: usize,
}

pub(crate) struct Shared {
    pub base_url: String,
    pub issuer_style: IssuerStyle,
    pub key_grace: Duration,
    pub tls: bool,
    pub local_addr: SocketAddr,
    pub key_store: Option<KeyStore>,
    /// When the sandbox started (the `createdDateTime` of the tenant file's grants).
    pub started_at: DateTime<Utc>,
    /// Graph's page size when a request names no `$top` (1–999).
    pub graph_page_size: usize,
    counters: Counters,
    clock_offset_ms: AtomicI64,
    tenant: RwLock<TenantState>,
    /// `{base}/federation`: the sandbox's stand-in for a Kubernetes service-account issuer.
    pub federation_issuer: String,
    /// The federation issuer's signing key (never rotated).
    pub federation_key: SigningKey,
    /// Federated token files to rewrite periodically: (client id, path).
    token_files: Mutex<Vec<(String, PathBuf)>>,
    /// Keys of other federation issuers, by issuer: (fetched at, keys).
    pub external_jwks: Mutex<HashMap<String, CachedKeys>>,
}

/// Another issuer's keys as fetched: (fetched at, (kid, key) pairs).
pub(crate) type CachedKeys = (
    std::time::Instant,
    Vec<(Option<String>, jsonwebtoken::DecodingKey)>,
);

pub(crate) struct TenantState {
    pub model: TenantModel,
    pub token_lifetime: Option<Duration>,
    pub current_key: Arc<SigningKey>,
    /// Keys rotated out, with the time they were retired.
    pub retired_keys: Vec<(Arc<SigningKey>, DateTime<Utc>)>,
    /// How long a new grant takes to reach tokens (Entra's propagation, simulated).
    pub grant_delay: Duration,
}

impl Shared {
    pub fn new(
        setup: Setup,
        model: TenantModel,
        key: SigningKey,
        federation_key: SigningKey,
    ) -> Shared {
        let Setup {
            base_url,
            local_addr,
            tls,
            issuer_style,
            key_grace,
            token_lifetime,
            key_store,
            graph_page_size,
        } = setup;
        let federation_issuer = format!("{base_url}/federation");
        let started_at = Utc::now();
        let mut model = model;
        for client in &mut model.clients {
            for fic in &mut client.federated_credentials {
                if fic.issuer == SANDBOX_ISSUER_PLACEHOLDER {
                    fic.issuer = federation_issuer.clone();
                }
            }
            stamp(client, started_at);
        }
        Shared {
            federation_issuer,
            federation_key,
            token_files: Mutex::new(Vec::new()),
            external_jwks: Mutex::new(HashMap::new()),
            base_url,
            issuer_style,
            key_grace,
            tls,
            local_addr,
            key_store,
            started_at,
            graph_page_size: graph_page_size.clamp(1, MAX_PAGE_SIZE),
            counters: Default::default(),
            clock_offset_ms: AtomicI64::new(0),
            tenant: RwLock::new(TenantState {
                model,
                token_lifetime: token_lifetime.map(clamp_lifetime),
                current_key: Arc::new(key),
                retired_keys: Vec::new(),
                grant_delay: Duration::ZERO,
            }),
        }
    }

    // ---- clock ----------------------------------------------------------------------

    /// "Now" as the sandbox sees it: the system clock plus the test-controlled offset.
    /// Every time-dependent decision (token times, expiry checks, secret expiry, key grace)
    /// reads the time here.
    pub fn now(&self) -> DateTime<Utc> {
        let offset = TimeDelta::milliseconds(self.clock_offset_ms.load(Ordering::Relaxed));
        let now = Utc::now();
        now.checked_add_signed(offset).unwrap_or(now)
    }

    /// Shift the clock by `offset`, at most [`MAX_CLOCK_OFFSET`] either way (the admin route
    /// refuses more; a caller in code gets it clamped).
    pub fn set_clock_offset(&self, offset: TimeDelta) {
        let offset = offset.clamp(-MAX_CLOCK_OFFSET, MAX_CLOCK_OFFSET);
        self.clock_offset_ms
            .store(offset.num_milliseconds(), Ordering::Relaxed);
    }

    pub fn clock_offset(&self) -> TimeDelta {
        TimeDelta::milliseconds(self.clock_offset_ms.load(Ordering::Relaxed))
    }

    // ---- counters -------------------------------------------------------------------

    pub fn count(&self, endpoint: Endpoint) {
        self.counters.count(endpoint);
    }

    pub fn request_count(&self, endpoint: Endpoint) -> u64 {
        self.counters.get(endpoint)
    }

    // ---- lock -----------------------------------------------------------------------

    /// Reads the tenant. A poisoned lock (a panic while writing) still yields the data:
    /// every write leaves the state consistent before anything can panic.
    pub fn read(&self) -> RwLockReadGuard<'_, TenantState> {
        self.tenant.read().unwrap_or_else(|e| e.into_inner())
    }

    pub fn write(&self) -> RwLockWriteGuard<'_, TenantState> {
        self.tenant.write().unwrap_or_else(|e| e.into_inner())
    }

    // ---- identities -----------------------------------------------------------------

    pub fn tenant_id(&self) -> String {
        self.read().model.tenant.id.clone()
    }

    /// The issuer a token of `version` carries (and the discovery document advertises).
    pub fn issuer(&self, version: TokenVersion, tenant: &str) -> String {
        match (self.issuer_style, version) {
            (IssuerStyle::Local, TokenVersion::V2) => format!("{}/{tenant}/v2.0", self.base_url),
            (IssuerStyle::Local, TokenVersion::V1) => format!("{}/{tenant}/", self.base_url),
            (IssuerStyle::Entra, TokenVersion::V2) => {
                format!("https://login.microsoftonline.com/{tenant}/v2.0")
            }
            (IssuerStyle::Entra, TokenVersion::V1) => format!("https://sts.windows.net/{tenant}/"),
        }
    }

    // ---- keys -----------------------------------------------------------------------

    /// The keys published in JWKS: the current one first, then retired ones still in grace.
    pub fn published_keys(&self) -> Vec<Arc<SigningKey>> {
        let now = self.now();
        let grace = TimeDelta::from_std(self.key_grace).unwrap_or(TimeDelta::MAX);
        let state = self.read();
        let mut keys = vec![state.current_key.clone()];
        keys.extend(
            state
                .retired_keys
                .iter()
                .filter(|(_, retired)| now < *retired + grace)
                .map(|(k, _)| k.clone()),
        );
        keys
    }

    /// A published key by `kid`.
    pub fn find_key(&self, kid: &str) -> Option<Arc<SigningKey>> {
        self.published_keys().into_iter().find(|k| k.kid == kid)
    }

    /// Installs `key` as the signing key; the old one stays published for the grace period.
    pub fn install_key(&self, key: SigningKey) -> String {
        let now = self.now();
        let grace = TimeDelta::from_std(self.key_grace).unwrap_or(TimeDelta::MAX);
        let mut state = self.write();
        let old = std::mem::replace(&mut state.current_key, Arc::new(key));
        state.retired_keys.push((old, now));
        state
            .retired_keys
            .retain(|(_, retired)| now < *retired + grace);
        state.current_key.kid.clone()
    }

    /// Generates a new signing key off the async threads (storing it as the current one
    /// when there is a key store) and makes it current. Returns its `kid`.
    pub async fn rotate_key(&self) -> Result<String, SandboxError> {
        let now = self.now();
        let store = self.key_store.clone();
        let key = tokio::task::spawn_blocking(move || {
            let key = SigningKey::generate(now)?;
            if let Some(store) = &store {
                store.store_signing_key(KeyRole::TokenSigning, &key);
            }
            Ok::<_, SandboxError>(key)
        })
        .await
        .map_err(|e| SandboxError::Crypto {
            what: "token-signing key",
            detail: e.to_string(),
        })??;
        Ok(self.install_key(key))
    }

    // ---- admin operations -----------------------------------------------------------

    pub fn clients(&self) -> Vec<ClientInfo> {
        let now = self.now();
        let state = self.read();
        state
            .model
            .clients
            .iter()
            .map(|c| ClientInfo::from_model(&state.model, c, now))
            .collect()
    }

    pub fn client(&self, name_or_id: &str) -> Option<ClientInfo> {
        let now = self.now();
        let state = self.read();
        state
            .model
            .client(name_or_id)
            .map(|c| ClientInfo::from_model(&state.model, c, now))
    }

    pub fn set_token_lifetime(&self, lifetime: Option<Duration>) {
        self.write().token_lifetime = lifetime.map(clamp_lifetime);
    }

    pub fn set_access_token_version(&self, version: TokenVersion) {
        self.write().model.api.access_token_version = version;
    }

    pub fn set_assignment_required(&self, required: bool) {
        self.write().model.api.assignment_required = required;
    }

    /// Makes every secret of the client expire one second ago.
    pub fn expire_secret(&self, client: &str) -> Result<(), SandboxError> {
        let expired = self.now() - TimeDelta::seconds(1);
        let mut state = self.write();
        let client = find_client_mut(&mut state.model, client)?;
        for secret in &mut client.secrets {
            if secret.expires > expired {
                secret.expires = expired;
            }
        }
        Ok(())
    }

    /// Adds a fresh secret (valid 180 days, like the portal's default) and makes it the
    /// current one. Old secrets stay, as in Entra, until they expire.
    pub fn renew_secret(&self, client: &str) -> Result<ClientInfo, SandboxError> {
        let now = self.now();
        let mut state = self.write();
        let client = find_client_mut(&mut state.model, client)?;
        client.secrets.push(PasswordCredential {
            id: uuid::Uuid::new_v4().to_string(),
            value: new_secret_value(),
            display_name: Some("renewed by the sandbox".into()),
            start: Some(now),
            expires: now + TimeDelta::days(180),
        });
        let name = client.name.clone();
        let model = &state.model;
        model
            .client(&name)
            .map(|c| ClientInfo::from_model(model, c, now))
            .ok_or_else(|| SandboxError::UnknownClient {
                client: name,
                known: model.client_names(),
            })
    }
}

impl Shared {
    // ---- credentials ----------------------------------------------------------------

    /// Registers a certificate on a client. Returns the client's id.
    pub fn add_certificate(
        &self,
        client: &str,
        cert: CertificateCredential,
    ) -> Result<String, SandboxError> {
        let mut state = self.write();
        let client = find_client_mut(&mut state.model, client)?;
        if !client
            .certificates
            .iter()
            .any(|c| c.thumbprint == cert.thumbprint)
        {
            client.certificates.push(cert);
        }
        Ok(client.client_id.clone())
    }

    /// The most recently added certificate of a client whose private key the sandbox holds.
    pub fn own_certificate(
        &self,
        client: &str,
    ) -> Result<Option<CertificateCredential>, SandboxError> {
        let state = self.read();
        let client = find_client(&state.model, client)?;
        Ok(client
            .certificates
            .iter()
            .rev()
            .find(|c| c.has_private_key())
            .cloned())
    }

    /// Adds a federated identity credential (idempotent for an identical record).
    pub fn add_federated_credential(
        &self,
        client: &str,
        issuer: &str,
        subject: &str,
        audience: &str,
    ) -> Result<(), SandboxError> {
        if issuer.trim().is_empty() || subject.trim().is_empty() || audience.trim().is_empty() {
            return Err(SandboxError::InvalidValue {
                problem: "a federated credential needs an issuer, a subject and an audience".into(),
                hint: "e.g. issuer = SandboxHandle::federation_issuer(), subject = \
                       system:serviceaccount:weather:console, audience = api://AzureADTokenExchange"
                    .into(),
            });
        }
        let issuer = if issuer == SANDBOX_ISSUER_PLACEHOLDER {
            self.federation_issuer.clone()
        } else {
            issuer.to_string()
        };
        let mut state = self.write();
        let client = find_client_mut(&mut state.model, client)?;
        let record = FederatedCredential {
            name: format!(
                "{}-federated-{}",
                client.name,
                client.federated_credentials.len() + 1
            ),
            issuer,
            subject: subject.to_string(),
            audiences: vec![audience.to_string()],
        };
        if !client.federated_credentials.iter().any(|f| {
            f.issuer == record.issuer
                && f.subject == record.subject
                && f.audiences == record.audiences
        }) {
            client.federated_credentials.push(record);
        }
        Ok(())
    }

    /// A client's federated records and its id.
    pub fn federated_credentials(
        &self,
        client: &str,
    ) -> Result<(String, Vec<FederatedCredential>), SandboxError> {
        let state = self.read();
        let client = find_client(&state.model, client)?;
        Ok((
            client.client_id.clone(),
            client.federated_credentials.clone(),
        ))
    }

    /// Signs a token of the federation issuer (shaped like a Kubernetes projected
    /// service-account token).
    pub fn mint_federated(
        &self,
        subject: &str,
        audience: &str,
        lifetime: Duration,
    ) -> Result<String, SandboxError> {
        let now = self.now().timestamp();
        let lifetime = i64::try_from(lifetime.as_secs()).unwrap_or(i64::MAX / 2);
        let exp = now.saturating_add(lifetime.max(1));
        let mut claims = serde_json::json!({
            "aud": [audience],
            "exp": exp,
            "iat": now,
            "iss": self.federation_issuer,
            "jti": uuid::Uuid::new_v4().to_string(),
            "nbf": now,
            "sub": subject,
        });
        // system:serviceaccount:{namespace}:{name} → the kubernetes.io claim too.
        let parts: Vec<&str> = subject.split(':').collect();
        if let (["system", "serviceaccount", namespace, name], Some(obj)) =
            (parts.as_slice(), claims.as_object_mut())
        {
            obj.insert(
                "kubernetes.io".into(),
                serde_json::json!({
                    "namespace": namespace,
                    "serviceaccount": { "name": name, "uid": super::model::derived_guid(subject) },
                }),
            );
        }
        self.federation_key
            .sign(&claims, false)
            .map_err(|e| SandboxError::Crypto {
                what: "federated token",
                detail: e.to_string(),
            })
    }

    /// Remembers a federated token file so the rotation task rewrites it.
    pub fn register_token_file(&self, client_id: &str, path: PathBuf) {
        let mut files = self.token_files.lock().unwrap_or_else(|e| e.into_inner());
        files.retain(|(_, p)| *p != path);
        files.push((client_id.to_string(), path));
    }

    pub fn token_files(&self) -> Vec<(String, PathBuf)> {
        self.token_files
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

/// Graph's largest page (`$top` maximum).
pub(crate) const MAX_PAGE_SIZE: usize = 999;

/// Gives a client's grants and secrets of the tenant file the start time they lack.
fn stamp(client: &mut ClientApp, started_at: DateTime<Utc>) {
    for grant in &mut client.grants {
        grant.created.get_or_insert(started_at);
    }
    for secret in &mut client.secrets {
        // Entra's longest secret lifetime is two years.
        let earliest = secret.expires - TimeDelta::days(730);
        secret.start.get_or_insert(started_at.min(earliest));
    }
}

fn clamp_lifetime(d: Duration) -> Duration {
    d.clamp(Duration::from_secs(1), MAX_LIFETIME)
}

fn find_client<'a>(model: &'a TenantModel, client: &str) -> Result<&'a ClientApp, SandboxError> {
    model
        .client(client.trim())
        .ok_or_else(|| SandboxError::UnknownClient {
            client: client.to_string(),
            known: model.client_names(),
        })
}

fn find_client_mut<'a>(
    model: &'a mut TenantModel,
    client: &str,
) -> Result<&'a mut ClientApp, SandboxError> {
    let known = model.client_names();
    model
        .client_mut(client.trim())
        .ok_or_else(|| SandboxError::UnknownClient {
            client: client.to_string(),
            known,
        })
}

/// A secret value shaped like the portal's: three characters, `8Q~`, then 34 more.
fn new_secret_value() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-~";
    let mut rng = rand::rng();
    let mut pick = |n: usize| -> String {
        (0..n)
            .map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())]))
            .collect()
    };
    let head = pick(3);
    let tail = pick(34);
    format!("{head}8Q~{tail}")
}

#[cfg(test)]
impl Shared {
    /// A sandbox state for unit tests: the built-in tenant on a base URL nothing listens on.
    pub fn for_tests() -> Shared {
        let now = Utc::now();
        Shared::new(
            Setup {
                base_url: "http://127.0.0.1:9".into(),
                local_addr: SocketAddr::from(([127, 0, 0, 1], 9)),
                tls: false,
                issuer_style: IssuerStyle::Local,
                key_grace: Duration::from_secs(60),
                token_lifetime: None,
                key_store: None,
                graph_page_size: 100,
            },
            TenantModel::builtin(),
            SigningKey::generate(now).expect("signing key"),
            SigningKey::generate(now).expect("federation key"),
        )
    }
}
