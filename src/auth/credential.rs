//! Client credentials other than a secret: a certificate (PEM or PKCS#12) that signs a client
//! assertion JWT, and a federated token file (workload identity) sent as the assertion.
//!
//! SKELETON (lead): types and signatures are fixed; bodies are being filled in.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use chrono::{DateTime, Utc};
use thiserror::Error;

use crate::secret::ClientSecret;

/// The JWT-bearer assertion type sent as `client_assertion_type`.
pub const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// How the certificate file is encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CertFormat {
    Pem,
    Pkcs12,
}

/// The signature algorithm of a client assertion.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AssertionAlg {
    /// PS256 with an `x5t#S256` header: what Entra ID expects today.
    #[default]
    Ps256,
    /// RS256 with an `x5t` (SHA-1) header: for servers that do not take PS256.
    Rs256,
}

/// What the Config pane and `doctor` show about a certificate. No secret material.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateInfo {
    /// The file the certificate was read from.
    pub path: PathBuf,
    pub format: CertFormat,
    /// Subject distinguished name, e.g. `CN=console-cert`.
    pub subject: String,
    pub issuer: String,
    /// SHA-1 thumbprint of the DER, upper-case hex (what the Azure portal shows).
    pub thumbprint: String,
    /// base64url SHA-1 thumbprint (`x5t`).
    pub x5t: String,
    /// base64url SHA-256 thumbprint (`x5t#S256`).
    pub x5t_s256: String,
    pub not_before: DateTime<Utc>,
    pub not_after: DateTime<Utc>,
}

/// Why a certificate could not be used. Texts end with a hint of what to do.
#[derive(Debug, Clone, Error)]
pub enum CertificateError {
    #[error("cannot read the certificate file {path}: {message}\nhint: {hint}")]
    Unreadable {
        path: PathBuf,
        message: String,
        hint: String,
    },
}

/// A loaded client certificate: the leaf (and chain) plus its RSA private key.
pub struct ClientCertificate {
    info: CertificateInfo,
    /// A signed assertion kept for reuse until 60 s before it expires: (audience, jwt, exp).
    reuse: Mutex<Option<(String, String, DateTime<Utc>)>>,
}

impl std::fmt::Debug for ClientCertificate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientCertificate")
            .field("info", &self.info)
            .finish_non_exhaustive()
    }
}

impl ClientCertificate {
    /// Load a PEM file (certificate and key in one file, or the key in `key_path`) or a
    /// PKCS#12 file (`.pfx`/`.p12`, decided by content) with an optional password.
    pub fn load(
        cert_path: &Path,
        key_path: Option<&Path>,
        password: Option<&ClientSecret>,
    ) -> Result<Self, CertificateError> {
        let _ = (key_path, password, &Self::assertion);
        Err(CertificateError::Unreadable {
            path: cert_path.to_path_buf(),
            message: "certificate credentials are not implemented yet".into(),
            hint: "use a client secret".into(),
        })
    }

    pub fn info(&self) -> &CertificateInfo {
        &self.info
    }

    /// A client assertion for `audience` (the token endpoint): `iss` = `sub` = client id,
    /// `jti`, `nbf`, `iat`, `exp` = now + 10 min; reused until 60 s before it expires.
    pub fn assertion(
        &self,
        client_id: &str,
        audience: &str,
        alg: AssertionAlg,
        send_chain: bool,
        now: DateTime<Utc>,
    ) -> Result<ClientSecret, CertificateError> {
        let _ = (client_id, audience, alg, send_chain, now, &self.reuse);
        Err(CertificateError::Unreadable {
            path: self.info.path.clone(),
            message: "not implemented yet".into(),
            hint: "use a client secret".into(),
        })
    }
}

/// A federated token file (e.g. a Kubernetes projected service-account token), re-read
/// when the copy in memory is older than 10 minutes.
pub struct FederatedToken {
    path: PathBuf,
    /// (read at, token).
    copy: Mutex<Option<(DateTime<Utc>, ClientSecret)>>,
}

impl std::fmt::Debug for FederatedToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FederatedToken")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

/// Why the federated token file could not be used.
#[derive(Debug, Clone, Error)]
pub enum FederatedError {
    #[error("cannot read the federated token file {path}: {message}\nhint: {hint}")]
    Unreadable {
        path: PathBuf,
        message: String,
        hint: String,
    },
}

impl FederatedToken {
    pub fn new(path: PathBuf) -> Self {
        FederatedToken {
            path,
            copy: Mutex::new(None),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The token to send as `client_assertion`; read from the file when there is no copy or
    /// the copy is older than 10 minutes.
    pub fn assertion(&self, now: DateTime<Utc>) -> Result<ClientSecret, FederatedError> {
        let _ = (now, &self.copy);
        Err(FederatedError::Unreadable {
            path: self.path.clone(),
            message: "not implemented yet".into(),
            hint: "use a client secret".into(),
        })
    }
}
