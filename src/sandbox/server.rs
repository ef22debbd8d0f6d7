//! Starting a sandbox: [`Sandbox::start`] makes the keys (and TLS material), binds the
//! listener and serves the router (identity provider, federation issuer, weather API,
//! Microsoft Graph, admin routes) on one port.
//!
//! Owns start-up and the route table. Must not answer requests itself (the handler modules
//! do) nor hold on to the server afterwards (the [`SandboxHandle`] does).

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};
use chrono::{DateTime, Utc};
use serde_json::json;

use super::credentials::{self, CertificateCredential};
use super::error::SandboxError;
use super::handle::SandboxHandle;
use super::keys::SigningKey;
use super::keystore::{KeyRole, KeyStore};
use super::model::TenantModel;
use super::options::SandboxOptions;
use super::state::{AppState, Setup, Shared};
use super::stats::Endpoint;
use super::{admin, api, federation, graph, idp, tls};

/// Starts sandboxes.
pub struct Sandbox;

impl Sandbox {
    /// Generates the keys (and TLS material), binds the listener and starts serving. The
    /// sandbox answers as soon as this returns.
    pub async fn start(opts: SandboxOptions) -> Result<SandboxHandle, SandboxError> {
        opts.tenant.validate("the sandbox options")?;
        let now = Utc::now();
        let mut tenant = opts.tenant;
        let key_store = opts.key_store.as_deref().and_then(KeyStore::open);
        // RSA key generation is the slow part; run it (or the key store's reads) while the
        // socket and TLS are set up.
        let keys = KeyTasks::spawn(&tenant, now, key_store.clone());

        let listener =
            std::net::TcpListener::bind(opts.addr).map_err(|cause| SandboxError::Bind {
                addr: opts.addr,
                cause,
            })?;
        let local_addr = listener.local_addr().map_err(|cause| SandboxError::Bind {
            addr: opts.addr,
            cause,
        })?;
        let tls = if opts.tls {
            Some(tls::generate(now, local_addr.ip())?)
        } else {
            None
        };

        let (key, federation_key, certificates) = keys.join().await?;
        for (name, cert) in certificates {
            if let Some(client) = tenant.client_mut(&name) {
                client.certificates.push(cert);
            }
        }
        let setup = Setup {
            base_url: base_url(local_addr, opts.tls),
            local_addr,
            tls: opts.tls,
            issuer_style: opts.issuer_style,
            key_grace: opts.key_grace,
            token_lifetime: opts.token_lifetime,
            key_store,
            graph_page_size: opts.graph_page_size,
        };
        let shared = Arc::new(Shared::new(setup, tenant, key, federation_key));
        serve(shared, listener, tls, opts.header_timeout).await
    }
}

/// The key generation running in the background while the listener is set up.
struct KeyTasks {
    signing: tokio::task::JoinHandle<Result<SigningKey, SandboxError>>,
    federation: tokio::task::JoinHandle<Result<SigningKey, SandboxError>>,
    certificates:
        tokio::task::JoinHandle<Result<Vec<(String, CertificateCredential)>, SandboxError>>,
}

impl KeyTasks {
    /// Loads the keys from `store` (generating and storing what it lacks), or generates
    /// them all in memory without one.
    fn spawn(tenant: &TenantModel, now: DateTime<Utc>, store: Option<KeyStore>) -> KeyTasks {
        // Certificates the tenant asks to generate (`generate = true`).
        let wanted: Vec<String> = tenant
            .clients
            .iter()
            .filter(|c| {
                c.generate_certificate && !c.certificates.iter().any(|k| k.has_private_key())
            })
            .map(|c| c.name.clone())
            .collect();
        let signing_key = |role: KeyRole, store: Option<KeyStore>| {
            tokio::task::spawn_blocking(move || match &store {
                Some(store) => store.signing_key(role, now),
                None => SigningKey::generate(now),
            })
        };
        KeyTasks {
            signing: signing_key(KeyRole::TokenSigning, store.clone()),
            federation: signing_key(KeyRole::Federation, store.clone()),
            certificates: tokio::task::spawn_blocking(move || {
                wanted
                    .into_iter()
                    .map(|name| {
                        let cert = match &store {
                            Some(store) => store.client_certificate(&name, now),
                            None => credentials::generate_certificate(&name, now),
                        };
                        cert.map(|c| (name, c))
                    })
                    .collect()
            }),
        }
    }

    /// The token-signing key, the federation issuer's key and the generated certificates.
    async fn join(
        self,
    ) -> Result<(SigningKey, SigningKey, Vec<(String, CertificateCredential)>), SandboxError> {
        let failed = |what: &'static str| {
            move |e: tokio::task::JoinError| SandboxError::Crypto {
                what,
                detail: e.to_string(),
            }
        };
        let key = self.signing.await.map_err(failed("token-signing key"))??;
        let federation = self
            .federation
            .await
            .map_err(failed("federation issuer key"))??;
        let certificates = self
            .certificates
            .await
            .map_err(failed("client certificate"))??;
        Ok((key, federation, certificates))
    }
}

/// Serves the router on `listener` (with TLS when `tls` holds material) and hands back the
/// running sandbox.
async fn serve(
    shared: Arc<Shared>,
    listener: std::net::TcpListener,
    tls: Option<tls::TlsMaterial>,
    timeout: std::time::Duration,
) -> Result<SandboxHandle, SandboxError> {
    let app = router(shared.clone()).into_make_service_with_connect_info::<SocketAddr>();
    let handle = axum_server::Handle::<SocketAddr>::new();
    let bind_err = |cause| SandboxError::Bind {
        addr: shared.local_addr,
        cause,
    };
    // A half-sent request (or a connection that sends nothing) is dropped after `timeout`:
    // the TLS handshake by the acceptor, the first request by axum-server, later ones on a
    // kept-alive HTTP/1.1 connection by hyper (which closes an idle one then too).
    let server = |listener| -> Result<_, SandboxError> {
        let mut s = axum_server::from_tcp(listener)
            .map_err(bind_err)?
            .first_request_timeout(timeout)
            .handle(handle.clone());
        s.http_builder().http1().header_read_timeout(timeout);
        Ok(s)
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
            // TCP_NODELAY: without it Nagle's algorithm meets the client's delayed ACK and
            // about one response in three waits ~40 ms for nothing.
            let acceptor = axum_server::tls_rustls::RustlsAcceptor::new(config)
                .handshake_timeout(timeout)
                .acceptor(axum_server::accept::NoDelayAcceptor::new());
            let serve = server(listener)?.acceptor(acceptor).serve(app);
            (tokio::spawn(serve), Some((ca_file, material.ca_pem)))
        }
        None => {
            let serve = server(listener)?
                .acceptor(axum_server::accept::NoDelayAcceptor::new())
                .serve(app);
            (tokio::spawn(serve), None)
        }
    };
    tracing::info!(base_url = %shared.base_url, tls = shared.tls, "sandbox started");
    let rotation = tokio::spawn(federation::rotate_token_files(shared.clone()));
    Ok(SandboxHandle::new(shared, handle, task, rotation, ca))
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
        .route("/graph/v1.0/{*path}", any(graph::serve))
        .nest("/_sandbox", admin::router(shared.clone()))
        .fallback(not_found)
        .with_state(shared)
}

async fn root(State(shared): State<AppState>) -> Response {
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
            "microsoft_graph": format!("{base}/graph/v1.0"),
        })
        .to_string(),
    )
        .into_response()
}

async fn not_found(State(shared): State<AppState>) -> Response {
    shared.count(Endpoint::Other);
    (StatusCode::NOT_FOUND, "Not Found\n").into_response()
}
