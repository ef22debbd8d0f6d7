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
//! - Microsoft Graph v1.0 (`/graph/v1.0/…`): the tenant's applications, service principals,
//!   federated identity credentials and app-role assignments as Graph serves them, for a
//!   token of the sandbox's with `Application.Read.All` (the token endpoint issues Graph
//!   tokens for `https://graph.microsoft.com/.default`);
//! - loopback-only admin routes (`/_sandbox/…`) mirroring the [`SandboxHandle`] operations.
//!
//! The tenant (apps, roles, secrets, certificates, federated credentials) comes from
//! [`TenantModel`]; signing keys (and `generate = true` client certificates) are generated
//! at start and live only in memory until written with
//! [`SandboxHandle::write_client_certificate`] or [`SandboxHandle::write_config`] — unless
//! [`SandboxOptions::key_store`] names a directory, where they are kept across runs (most
//! of a start is RSA key generation otherwise).
//!
//! # Layers
//!
//! Modules only use modules on lower lines (never a sibling on their own line, never one
//! above), so the graph inside `sandbox/` has no cycle:
//!
//! ```text
//! cli                          `tokenscope sandbox`: run in the foreground, print the banner
//! server                       Sandbox::start, the route table
//! handle (+ handle/config)     SandboxHandle: URLs, admin operations, config files, shutdown
//! idp/ api graph/ admin        HTTP handlers: identity provider, weather API, Microsoft Graph,
//!                              /_sandbox admin
//! federation                   the federation issuer, token files, other issuers' keys
//! assertion                    client assertions (certificates, federated tokens)
//! state (+ state/roles)        Shared: the tenant behind one lock, keys, clock, counters
//! client_info options          ClientInfo view; SandboxOptions, IssuerStyle
//! keystore                     generated keys kept across runs (SandboxOptions::key_store)
//! model (+ file, validate)     the tenant model, its TOML file format and its invariants
//! keys credentials tls         signing keys; client certificates and federated records; TLS
//! pki                          RSA and X.509 helpers
//! error stats oauth            leaves: SandboxError, Endpoint counters, AADSTS errors and
//!                              form helpers
//! ```
//!
//! Outside the sandbox it uses only `crate::jwt`'s thumbprint helpers; it never imports the
//! client side (`auth`, `api`, `config`, `diagnose`, `tui`, `cli`), so the sandbox stays an
//! independent party to the code it tests.

pub mod cli;

mod admin;
mod api;
mod assertion;
mod client_info;
mod credentials;
mod error;
mod federation;
mod graph;
mod handle;
mod idp;
mod keys;
mod keystore;
mod model;
mod oauth;
mod options;
mod pki;
mod server;
mod state;
mod stats;
mod tls;

pub use client_info::ClientInfo;
pub use credentials::{
    CertificateCredential, ClientCertFiles, FederatedCredential, TOKEN_EXCHANGE_AUDIENCE,
};
pub use error::SandboxError;
pub use handle::SandboxHandle;
pub use model::{
    APPLICATION_READ_ALL, ApiApp, AppRole, ClientApp, ConfiguredRole, GRAPH_APP_ID, GRAPH_RESOURCE,
    GraphApp, MEMBER_APPLICATION, MEMBER_USER, PasswordCredential, Resource, RoleGrant, TenantInfo,
    TenantModel, TokenVersion,
};
pub use options::{
    DEFAULT_GRAPH_PAGE_SIZE, DEFAULT_HEADER_TIMEOUT, DEFAULT_KEY_GRACE, IssuerStyle,
    SandboxOptions, default_key_store,
};
pub use server::Sandbox;
pub use stats::Endpoint;
