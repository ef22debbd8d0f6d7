//! How a sandbox is started: [`SandboxOptions`] and the choices it names.
//!
//! Plain data. Must not start anything or read files; the server acts on these.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
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
