//! Client credentials: how a daemon app proves who it is to the token endpoint — a client
//! secret, a certificate that signs a client assertion, or a federated token file sent as the
//! assertion — and the certificate thumbprints Entra and JOSE name certificates by.
//!
//! Owns [`Credential`] (with where it came from and its cache [`fingerprint`]), the
//! certificate ([`ClientCertificate`], PEM/PKCS#12 reading, assertion signing), the federated
//! token file ([`FederatedToken`]), [`AssertionAlg`], [`Thumbprints`] and their errors.
//!
//! Layer: below `config` (which decides which credential a profile uses and calls
//! [`ClientCertificate::load`] / [`FederatedToken::open`]) and `auth` (which puts
//! [`Credential::proof`] into the token request); above the base modules (`secret`,
//! `problem`). It must not import `config`, `auth`, `http` or anything above them, so the
//! sandbox can share [`Thumbprints`] without pulling in the client side.
//!
//! [`fingerprint`]: Credential::fingerprint

mod certificate;
mod federated;
mod parse;
#[cfg(test)]
mod tests;
mod thumbprint;

use std::path::PathBuf;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use thiserror::Error;

pub use certificate::{CertFormat, CertificateError, CertificateInfo, ClientCertificate};
pub use federated::{FederatedError, FederatedToken};
pub use thumbprint::{Thumbprints, sha1};

use crate::problem::Problem;
use crate::secret::ClientSecret;

/// The JWT-bearer assertion type sent as `client_assertion_type`.
pub const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// The signature algorithm of a client assertion.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AssertionAlg {
    /// PS256 with an `x5t#S256` header: what Entra ID expects today.
    #[default]
    Ps256,
    /// RS256 with an `x5t` (SHA-1) header: for servers that do not take PS256.
    Rs256,
}

impl AssertionAlg {
    /// The JOSE `alg` name, as written in `assertion_algorithm`.
    pub fn name(self) -> &'static str {
        match self {
            AssertionAlg::Ps256 => "PS256",
            AssertionAlg::Rs256 => "RS256",
        }
    }
    /// The algorithm named `name` (`PS256` / `RS256`, any case).
    pub fn from_name(name: &str) -> Option<Self> {
        [AssertionAlg::Ps256, AssertionAlg::Rs256]
            .into_iter()
            .find(|a| a.name().eq_ignore_ascii_case(name.trim()))
    }
    /// The other one: what to suggest when this one cannot sign.
    pub fn other(self) -> Self {
        match self {
            AssertionAlg::Ps256 => AssertionAlg::Rs256,
            AssertionAlg::Rs256 => AssertionAlg::Ps256,
        }
    }
}

/// Where the client secret came from. Shown to the user; the value never is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretSource {
    /// `client_secret_env = "NAME"`.
    EnvVar(String),
    /// `client_secret_file = "PATH"`.
    File(PathBuf),
    /// `client_secret = "…"` inline in the config file.
    Inline,
    /// `AZURE_CLIENT_SECRET` overriding the profile.
    AzureEnv,
}

impl std::fmt::Display for SecretSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SecretSource::EnvVar(v) => write!(f, "environment variable {v}"),
            SecretSource::File(p) => write!(f, "file {}", p.display()),
            SecretSource::Inline => f.write_str("inline client_secret in the config file"),
            SecretSource::AzureEnv => f.write_str("environment variable AZURE_CLIENT_SECRET"),
        }
    }
}

/// Where a certificate or federated-token path came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathSource {
    /// A key in the profile (`client_certificate_path`, `federated_token_file`).
    File,
    /// An environment variable (`AZURE_CLIENT_CERTIFICATE_PATH`, `AZURE_FEDERATED_TOKEN_FILE`).
    EnvVar(&'static str),
}

/// How the client proves its identity.
#[derive(Debug, Clone)]
pub enum Credential {
    Secret {
        secret: ClientSecret,
        source: SecretSource,
    },
    /// A certificate signs a client assertion (`client_assertion_type` jwt-bearer).
    Certificate {
        cert: Arc<ClientCertificate>,
        source: PathSource,
        /// Send the chain as `x5c` (`send_certificate_chain = true`).
        send_chain: bool,
        alg: AssertionAlg,
    },
    /// A token file from another identity provider (workload identity) is the assertion.
    Federated {
        token: Arc<FederatedToken>,
        source: PathSource,
    },
}

/// What a token request carries to prove the client: the form field it goes in, and the
/// value (redacted in `Debug`/`Display`).
#[derive(Debug, Clone)]
pub enum ClientProof {
    /// `client_secret`.
    Secret(ClientSecret),
    /// `client_assertion` (with `client_assertion_type` = [`ASSERTION_TYPE`]).
    Assertion(ClientSecret),
}

impl Credential {
    /// Short name for display.
    pub fn kind(&self) -> &'static str {
        match self {
            Credential::Secret { .. } => "client secret",
            Credential::Certificate { .. } => "certificate",
            Credential::Federated { .. } => "federated token",
        }
    }

    /// A fingerprint of the credential (SHA-256, hex, first 16 chars): lets a cache tell a
    /// rotated secret or certificate apart without ever storing the secret.
    pub fn fingerprint(&self) -> String {
        use sha2::{Digest, Sha256};
        let digest = match self {
            Credential::Secret { secret, .. } => Sha256::digest(secret.expose().as_bytes()),
            Credential::Certificate { cert, .. } => {
                Sha256::digest(format!("cert:{}", cert.info().x5t_s256).as_bytes())
            }
            Credential::Federated { token, .. } => {
                Sha256::digest(format!("federated:{}", token.path().display()).as_bytes())
            }
        };
        hex::encode(&digest[..8])
    }

    /// The proof for one token request from `client_id` to `token_endpoint` (the audience
    /// of a signed assertion) at `now`: the secret, a (possibly reused) signed assertion, or
    /// the federated token as read from its file.
    pub fn proof(
        &self,
        client_id: &str,
        token_endpoint: &str,
        now: DateTime<Utc>,
    ) -> Result<ClientProof, CredentialError> {
        match self {
            Credential::Secret { secret, .. } => Ok(ClientProof::Secret(secret.clone())),
            Credential::Certificate {
                cert,
                send_chain,
                alg,
                ..
            } => Ok(ClientProof::Assertion(cert.assertion(
                client_id,
                token_endpoint,
                *alg,
                *send_chain,
                now,
            )?)),
            Credential::Federated { token, .. } => {
                Ok(ClientProof::Assertion(token.assertion(now)?))
            }
        }
    }
}

/// Why a certificate or federated token could not be used (loaded, or turned into an
/// assertion).
#[derive(Debug, Clone, Error)]
pub enum CredentialError {
    #[error(transparent)]
    Certificate(#[from] CertificateError),
    #[error(transparent)]
    Federated(#[from] FederatedError),
}

impl CredentialError {
    fn inner(&self) -> &dyn Problem {
        match self {
            CredentialError::Certificate(e) => e,
            CredentialError::Federated(e) => e,
        }
    }
}

impl Problem for CredentialError {
    fn summary(&self) -> String {
        self.inner().summary()
    }
    fn detail(&self) -> Option<String> {
        self.inner().detail()
    }
    fn hint(&self) -> Option<String> {
        self.inner().hint()
    }
}
