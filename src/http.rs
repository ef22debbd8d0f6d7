//! The HTTP client every request goes through, and the transport safety rules:
//! a bearer token or client secret never goes over plain http to a non-loopback host, and
//! redirects are never followed automatically (the API client follows them itself and drops
//! `Authorization` when the origin changes). Loopback means a literal loopback address or
//! the exact name `localhost`, which this client resolves itself, to 127.0.0.1 and ::1
//! only: no resolver is ever asked about it (`localhost.`, `api.localhost` are ordinary
//! names and need https).
//!
//! Layer: just above the base modules. It takes plain [`HttpOptions`] and must not import
//! `config` (a profile's options come from `Profile::http_options`), `auth`, `api` or
//! anything above them.

use std::net::IpAddr;
use std::path::Path;
use std::time::Duration;

use thiserror::Error;
use url::Url;

use crate::problem::Problem;

mod roots;

/// Bodies larger than this are cut (with a visible note) instead of read whole.
pub const MAX_BODY: usize = 1024 * 1024;

/// Why the HTTP client could not be built.
#[derive(Debug, Error)]
pub enum HttpSetupError {
    #[error("cannot read ca_file {}: {source}", .path.display())]
    CaRead {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
    #[error("ca_file {} holds no usable PEM certificate: {detail}", .path.display())]
    CaParse {
        path: std::path::PathBuf,
        detail: String,
    },
    #[error("cannot set up the HTTP client: {0}")]
    Build(#[source] reqwest::Error),
}

impl Problem for HttpSetupError {
    fn summary(&self) -> String {
        self.to_string()
    }
    fn hint(&self) -> Option<String> {
        match self {
            HttpSetupError::CaRead { .. } => {
                Some("give the path of a PEM file holding the extra root certificate".into())
            }
            HttpSetupError::CaParse { .. } => {
                Some("the file must contain -----BEGIN CERTIFICATE----- blocks".into())
            }
            HttpSetupError::Build(_) => None,
        }
    }
}

/// Credentials were about to go over plain http to a host that is not loopback.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("refusing to send {what} over plain http to {host}: anyone on the network could read it")]
pub struct InsecureTransport {
    /// What would have been sent: "a bearer token", "the client credential".
    pub what: &'static str,
    pub host: String,
}

impl Problem for InsecureTransport {
    fn summary(&self) -> String {
        self.to_string()
    }
    fn hint(&self) -> Option<String> {
        Some(
            "use https:// for this URL (plain http is allowed only for localhost / 127.0.0.1 / ::1)"
                .into(),
        )
    }
}

/// Settings for [`client`].
#[derive(Debug, Clone)]
pub struct HttpOptions<'a> {
    pub connect_timeout: Duration,
    pub timeout: Duration,
    pub ca_file: Option<&'a Path>,
}

/// Build the HTTP client: rustls, the given timeouts, optional extra root, no automatic
/// redirects, a recognisable user agent.
pub fn client(opts: &HttpOptions<'_>) -> Result<reqwest::Client, HttpSetupError> {
    let loopback = [
        std::net::SocketAddr::from((std::net::Ipv4Addr::LOCALHOST, 0)),
        std::net::SocketAddr::from((std::net::Ipv6Addr::LOCALHOST, 0)),
    ];
    let mut b = reqwest::Client::builder()
        // `localhost` may get plain http (see `is_loopback`): it must never be whatever a
        // resolver says it is.
        .resolve_to_addrs("localhost", &loopback)
        .connect_timeout(opts.connect_timeout)
        .timeout(opts.timeout)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("tokenscope/", env!("CARGO_PKG_VERSION")));
    let mut extra = Vec::new();
    if let Some(path) = opts.ca_file {
        let pem = crate::files::read(path, crate::files::FileKind::CaBundle).map_err(|e| {
            HttpSetupError::CaRead {
                path: path.to_path_buf(),
                source: e.into_io(),
            }
        })?;
        let certs =
            reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| HttpSetupError::CaParse {
                path: path.to_path_buf(),
                detail: e.to_string(),
            })?;
        if certs.is_empty() {
            return Err(HttpSetupError::CaParse {
                path: path.to_path_buf(),
                detail: "no certificate found".into(),
            });
        }
        extra = certs;
    }
    b = match roots::system_bundle() {
        // The system bundle plus the profile's extra root, and nothing else.
        Some(mut system) => {
            system.extend(extra);
            b.tls_certs_only(system)
        }
        None => b.tls_certs_merge(extra),
    };
    b.build().map_err(HttpSetupError::Build)
}

/// True for a literal loopback address (127.0.0.0/8, ::1, ::ffff:127.x) and the exact name
/// `localhost` ([`client`] resolves it to loopback itself). Not `localhost.` or
/// `*.localhost`: those go to a resolver, which could send them anywhere.
pub fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(url::Host::Ipv6(ip)) => {
            ip.is_loopback() || ip.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback())
        }
        None => false,
    }
}

/// Refuse to send credentials (what: "a bearer token", "the client credential") over plain
/// http to a host that is not loopback.
pub fn check_transport(url: &Url, what: &'static str) -> Result<(), InsecureTransport> {
    if url.scheme() == "http" && !is_loopback(url) {
        return Err(InsecureTransport {
            what,
            host: url.host_str().unwrap_or("?").to_string(),
        });
    }
    Ok(())
}

/// Same origin = same scheme, host and port.
pub fn same_origin(a: &Url, b: &Url) -> bool {
    a.scheme() == b.scheme()
        && a.host() == b.host()
        && a.port_or_known_default() == b.port_or_known_default()
}

/// A body read with a size cap.
#[derive(Debug, Clone)]
pub struct CappedBody {
    pub bytes: Vec<u8>,
    /// True when the body was longer than the cap and was cut.
    pub truncated: bool,
}

/// Read a response body, keeping at most `cap` bytes.
pub async fn read_capped(
    mut resp: reqwest::Response,
    cap: usize,
) -> Result<CappedBody, reqwest::Error> {
    let mut bytes = Vec::new();
    let mut truncated = false;
    while let Some(chunk) = resp.chunk().await? {
        let room = cap - bytes.len();
        if chunk.len() > room {
            bytes.extend_from_slice(&chunk[..room]);
            truncated = true;
            break;
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(CappedBody { bytes, truncated })
}

/// What went wrong on the wire, in words a user can act on.
pub fn describe_reqwest_error(e: &reqwest::Error) -> (NetworkKind, String) {
    let kind = if e.is_timeout() {
        NetworkKind::Timeout
    } else if e.is_connect() {
        NetworkKind::Connect
    } else {
        NetworkKind::Other
    };
    // Walk the source chain for the most specific message (e.g. "Connection refused").
    let mut msg = e.to_string();
    let mut src = std::error::Error::source(e);
    while let Some(s) = src {
        msg = s.to_string();
        src = s.source();
    }
    (kind, crate::text::sanitize(&msg, false))
}

/// Rough class of a network failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NetworkKind {
    Connect,
    Timeout,
    Other,
}

impl NetworkKind {
    /// The words before what could not be reached: "could not connect to the API at …".
    pub fn failed_to(self) -> &'static str {
        match self {
            NetworkKind::Connect => "could not connect to",
            NetworkKind::Timeout => "timed out waiting for",
            NetworkKind::Other => "request failed to",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_and_transport_rules() {
        let u = |s: &str| Url::parse(s).unwrap();
        assert!(is_loopback(&u("http://localhost:8000/x")));
        assert!(is_loopback(&u("http://127.0.0.5/x")));
        assert!(is_loopback(&u("http://[::1]:80/x")));
        assert!(!is_loopback(&u("http://10.0.0.1/x")));
        assert!(!is_loopback(&u("http://localhost.evil.com/x")));
        for name in [
            "http://api.localhost/x",
            "http://localhost./x",
            "http://LOCALHOST.:80/x",
            "http://x.y.localhost/x",
            "http://127.0.0.1.nip.io/x",
            "http://[::2]/x",
            "http://0.0.0.0/x",
        ] {
            assert!(!is_loopback(&u(name)), "{name}");
        }
        assert!(is_loopback(&u("http://LocalHost:1/x")));
        assert!(is_loopback(&u("http://[::ffff:127.0.0.1]/x")));
        assert!(check_transport(&u("http://127.0.0.1:1/x"), "a bearer token").is_ok());
        assert!(check_transport(&u("https://api.contoso.com/x"), "a bearer token").is_ok());
        let e = check_transport(&u("http://api.contoso.com/x"), "a bearer token").unwrap_err();
        crate::problem::assert_keeps_convention(&e);
        let e = e.full_text();
        assert!(
            e.contains("api.contoso.com") && e.contains("https://"),
            "{e}"
        );
    }

    #[test]
    fn origins() {
        let u = |s: &str| Url::parse(s).unwrap();
        assert!(same_origin(
            &u("https://a.com/x"),
            &u("https://a.com:443/y")
        ));
        assert!(!same_origin(&u("https://a.com/x"), &u("http://a.com/x")));
        assert!(!same_origin(&u("https://a.com/x"), &u("https://b.com/x")));
        assert!(!same_origin(
            &u("http://127.0.0.1:1/"),
            &u("http://127.0.0.1:2/")
        ));
    }
}
