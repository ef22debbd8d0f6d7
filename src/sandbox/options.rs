//! How a sandbox is started: [`SandboxOptions`] and the choices it names.
//!
//! Plain data (and where the commands keep the key store). Must not start anything or
//! touch files; the server acts on these.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use super::model::TenantModel;

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
    /// Serve HTTPS with a throwaway CA (see [`super::SandboxHandle::ca_pem_path`]).
    pub tls: bool,
    /// The tenant to serve. Default: [`TenantModel::builtin`].
    pub tenant: TenantModel,
    /// Fixed token lifetime; `None` = random 60–90 minutes, like Entra.
    pub token_lifetime: Option<Duration>,
    pub issuer_style: IssuerStyle,
    /// How long a rotated-out signing key stays published. Default [`DEFAULT_KEY_GRACE`].
    pub key_grace: Duration,
    /// A directory where the sandbox keeps the keys it generates (the current signing key,
    /// the federation issuer's key, `generate = true` client certificates) across runs, so
    /// a start reuses them instead of spending most of its time on RSA key generation.
    /// Created 0700 if missing; an unusable file in it is replaced, never a failure.
    /// [`SandboxHandle::rotate_signing_key`](super::SandboxHandle::rotate_signing_key)
    /// still makes a new key (and stores it). Default `None`: keys live in memory only.
    pub key_store: Option<PathBuf>,
    /// How many objects a page of the sandbox's Microsoft Graph holds when a request names
    /// no `$top` (clamped to Graph's 1–999). Default [`DEFAULT_GRAPH_PAGE_SIZE`], Graph's
    /// own; tests set it low to get `@odata.nextLink` paging with a small tenant.
    pub graph_page_size: usize,
    /// How long a connection may take to send a request's head (the first one, then each
    /// on a kept-alive connection) before it is dropped, so half-sent requests hold nothing
    /// for long. Default [`DEFAULT_HEADER_TIMEOUT`].
    pub header_timeout: Duration,
}

/// How long a client may take to send a request's head by default.
pub const DEFAULT_HEADER_TIMEOUT: Duration = Duration::from_secs(5);

/// Microsoft Graph's default page size for directory objects.
pub const DEFAULT_GRAPH_PAGE_SIZE: usize = 100;

/// Where the `tokenscope` commands keep the sandbox's generated keys: `sandbox-keys` in the
/// platform's data directory (e.g. `~/.local/share/tokenscope/sandbox-keys` on Linux).
/// `None` when the platform has no home directory.
pub fn default_key_store() -> Option<PathBuf> {
    directories::ProjectDirs::from("", "", "tokenscope")
        .map(|dirs| dirs.data_dir().join("sandbox-keys"))
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
            key_store: None,
            graph_page_size: DEFAULT_GRAPH_PAGE_SIZE,
            header_timeout: DEFAULT_HEADER_TIMEOUT,
        }
    }
}
