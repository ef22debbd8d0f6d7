//! The certificate credential: a certificate (PEM or PKCS#12) whose RSA key signs the client
//! assertion JWT (RFC 7523), with `x5t#S256` (PS256) or `x5t` (RS256) and optionally the
//! chain as `x5c`.
//!
//! Owns [`ClientCertificate`] (loading in [`load`], the leaf/key match, signing and reusing
//! assertions), [`CertificateInfo`] and [`CertificateError`]. It reads only the files it is
//! given and knows nothing of profiles or token requests. Secret material (the private key, a
//! PKCS#12 password, a signed assertion) never reaches a `Debug` or `Display` text or an error
//! message.

mod load;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, TimeDelta, Utc};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use thiserror::Error;

use super::parse::{self, RsaKey};
use super::{AssertionAlg, Thumbprints};
use crate::problem::Problem;
use crate::secret::ClientSecret;

/// How long a signed client assertion is valid (`exp` = `iat` + this).
const ASSERTION_LIFETIME: TimeDelta = TimeDelta::minutes(10);
/// A kept assertion is signed anew this long before its `exp`.
const ASSERTION_REUSE_MARGIN: TimeDelta = TimeDelta::seconds(60);

/// How the certificate file is encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CertFormat {
    Pem,
    Pkcs12,
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

const PASSWORD_SETTINGS: &str = "AZURE_CLIENT_CERTIFICATE_PASSWORD, or the variable named by \
                                 client_certificate_password_env";

/// Why a certificate could not be used; each says what to do in its [`Problem::hint`]. None
/// of them contains key material or a password.
#[derive(Debug, Clone, Error)]
pub enum CertificateError {
    /// The certificate or key file is missing or cannot be read.
    #[error("cannot read the {what} file {path}: {source}")]
    Unreadable {
        /// "certificate" or "private key".
        what: &'static str,
        path: PathBuf,
        hint: String,
        source: Arc<std::io::Error>,
    },
    /// The file holds no certificate (or is not a certificate file at all).
    #[error("{path} contains no certificate{note}")]
    NoCertificate {
        path: PathBuf,
        /// What the file holds instead, starting with a separator (may be empty).
        note: String,
        hint: String,
    },
    /// The file looks like a certificate/key/PKCS#12 but cannot be parsed.
    #[error("{path}: {message}")]
    Malformed {
        path: PathBuf,
        message: String,
        hint: String,
    },
    /// There is a certificate but no private key.
    #[error("no private key for the certificate in {path}")]
    NoPrivateKey { path: PathBuf, hint: String },
    /// The PEM private key is password-protected.
    #[error("the private key in {path} is encrypted (password-protected PEM)")]
    EncryptedKey { path: PathBuf },
    /// The PKCS#12 password is wrong, or one is needed and none was given.
    #[error("{}", if *.given {
        format!("the password for the PKCS#12 file {} is wrong", .path.display())
    } else {
        format!("the PKCS#12 file {} is password-protected and no password was given", .path.display())
    })]
    Pkcs12Password {
        path: PathBuf,
        /// Whether a password was given.
        given: bool,
    },
    /// The key (or the certificate's public key) is not RSA.
    #[error(
        "{what} in {path} is {algorithm}; Entra ID accepts only RSA certificates for client \
         assertions"
    )]
    NotRsa {
        /// "the private key" or "the certificate's public key".
        what: &'static str,
        path: PathBuf,
        /// e.g. "an EC (ECDSA) key".
        algorithm: String,
    },
    /// The private key does not belong to the certificate.
    #[error(
        "the private key in {key_path} does not match the certificate in {cert_path} (the public \
         keys differ)"
    )]
    KeyMismatch {
        cert_path: PathBuf,
        key_path: PathBuf,
    },
    /// The key was read but cannot sign (e.g. too short for the signer).
    #[error("the RSA key in {path} cannot sign a client assertion: {message}")]
    KeyUnusable { path: PathBuf, message: String },
    /// Signing the assertion failed.
    #[error("could not sign the client assertion: {message}")]
    Signing { message: String, hint: String },
}

impl Problem for CertificateError {
    fn summary(&self) -> String {
        self.to_string()
    }
    fn hint(&self) -> Option<String> {
        Some(match self {
            CertificateError::Unreadable { hint, .. }
            | CertificateError::NoCertificate { hint, .. }
            | CertificateError::Malformed { hint, .. }
            | CertificateError::NoPrivateKey { hint, .. }
            | CertificateError::Signing { hint, .. } => hint.clone(),
            CertificateError::EncryptedKey { path } => format!(
                "decrypt it with `openssl pkcs8 -topk8 -nocrypt -in {} -out key.pem` and set \
                 client_certificate_key_path to key.pem, or use a PKCS#12 (.pfx) file with its \
                 password in {PASSWORD_SETTINGS}",
                path.display()
            ),
            CertificateError::Pkcs12Password { given: true, .. } => format!(
                "check the value of {PASSWORD_SETTINGS} (the password used when the .pfx was \
                 exported)"
            ),
            CertificateError::Pkcs12Password { given: false, .. } => {
                format!("put the password in {PASSWORD_SETTINGS}")
            }
            CertificateError::NotRsa { .. } => "create an RSA certificate (e.g. `openssl req \
                 -x509 -newkey rsa:2048 -nodes -keyout key.pem -out cert.pem -subj \
                 /CN=tokenscope`) and upload its public part to the app registration"
                .into(),
            CertificateError::KeyMismatch { .. } => "use the key that was generated with this \
                 certificate; check client_certificate_key_path, or compare `openssl x509 \
                 -noout -modulus -in CERT` with `openssl rsa -noout -modulus -in KEY`"
                .into(),
            CertificateError::KeyUnusable { .. } => "use an RSA key of 2048 bits or more".into(),
        })
    }
}

/// A signed assertion kept for reuse, with what it was signed for.
struct KeptAssertion {
    client_id: String,
    audience: String,
    alg: AssertionAlg,
    send_chain: bool,
    issued: DateTime<Utc>,
    expires: DateTime<Utc>,
    jwt: ClientSecret,
}

/// A loaded client certificate: the leaf (and chain) plus its RSA private key.
pub struct ClientCertificate {
    info: CertificateInfo,
    /// DER of the leaf then the rest of the chain.
    chain: Vec<Vec<u8>>,
    key: EncodingKey,
    /// A signed assertion kept for reuse until 60 s before it expires.
    reuse: Mutex<Option<KeptAssertion>>,
}

impl std::fmt::Debug for ClientCertificate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientCertificate")
            .field("info", &self.info)
            .field("chain_len", &self.chain.len())
            .finish_non_exhaustive()
    }
}

impl ClientCertificate {
    /// fills in the info and checks that the key can sign.
    fn assemble(
        cert_path: &Path,
        key_path: &Path,
        format: CertFormat,
        mut certs: Vec<Vec<u8>>,
        key: RsaKey,
    ) -> Result<Self, CertificateError> {
        let malformed = |message: String| CertificateError::Malformed {
            path: cert_path.to_path_buf(),
            message,
            hint: "re-export the certificate".into(),
        };
        let mut leaf_index = None;
        let mut first_not_rsa = None;
        for (i, der) in certs.iter().enumerate() {
            let (_, cert) = x509_parser::parse_x509_certificate(der)
                .map_err(|e| malformed(format!("certificate #{} cannot be parsed: {e}", i + 1)))?;
            match cert.public_key().parsed() {
                Ok(x509_parser::public_key::PublicKey::RSA(rsa)) => {
                    if parse::unsigned(rsa.modulus) == key.modulus.as_slice()
                        && parse::unsigned(rsa.exponent) == key.exponent.as_slice()
                    {
                        leaf_index = Some(i);
                        break;
                    }
                }
                other => {
                    if i == 0 {
                        first_not_rsa = Some(match other {
                            Ok(x509_parser::public_key::PublicKey::EC(_)) => {
                                "an EC (ECDSA) key".to_string()
                            }
                            _ => parse::algorithm_name(
                                cert.public_key().algorithm.algorithm.as_bytes(),
                            ),
                        });
                    }
                }
            }
        }
        let Some(leaf_index) = leaf_index else {
            if let Some(algorithm) = first_not_rsa {
                return Err(CertificateError::NotRsa {
                    what: "the certificate's public key",
                    path: cert_path.to_path_buf(),
                    algorithm,
                });
            }
            return Err(CertificateError::KeyMismatch {
                cert_path: cert_path.to_path_buf(),
                key_path: key_path.to_path_buf(),
            });
        };
        let leaf = certs.remove(leaf_index);
        certs.insert(0, leaf);

        let (_, cert) = x509_parser::parse_x509_certificate(&certs[0])
            .map_err(|e| malformed(format!("the certificate cannot be parsed: {e}")))?;
        let validity = cert.validity();
        let date = |t: &x509_parser::time::ASN1Time| {
            DateTime::from_timestamp(t.timestamp(), 0).unwrap_or(DateTime::<Utc>::MIN_UTC)
        };
        let thumbprints = Thumbprints::of(&certs[0]);
        let info = CertificateInfo {
            path: cert_path.to_path_buf(),
            format,
            subject: cert.subject().to_string(),
            issuer: cert.issuer().to_string(),
            thumbprint: thumbprints.hex,
            x5t: thumbprints.x5t,
            x5t_s256: thumbprints.x5t_s256,
            not_before: date(&validity.not_before),
            not_after: date(&validity.not_after),
        };
        let key_bytes = key.pkcs1;
        let encoding = EncodingKey::from_rsa_der(&key_bytes);
        // Sign once now so a key the signer refuses is reported at load, not at first use.
        jsonwebtoken::encode(
            &Header::new(Algorithm::PS256),
            &serde_json::json!({}),
            &encoding,
        )
        .map_err(|e| CertificateError::KeyUnusable {
            path: key_path.to_path_buf(),
            message: e.to_string(),
        })?;
        Ok(ClientCertificate {
            info,
            chain: certs,
            key: encoding,
            reuse: Mutex::new(None),
        })
    }

    pub fn info(&self) -> &CertificateInfo {
        &self.info
    }

    /// How many certificates `x5c` carries with `send_chain`: the leaf plus the rest of the
    /// chain found in the file.
    pub fn chain_len(&self) -> usize {
        self.chain.len()
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
        let mut kept = self.reuse.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(k) = kept.as_ref()
            && k.client_id == client_id
            && k.audience == audience
            && k.alg == alg
            && k.send_chain == send_chain
            && k.issued <= now
            && now < k.expires - ASSERTION_REUSE_MARGIN
        {
            return Ok(k.jwt.clone());
        }
        let mut header = match alg {
            AssertionAlg::Ps256 => {
                let mut h = Header::new(Algorithm::PS256);
                h.x5t_s256 = Some(self.info.x5t_s256.clone());
                h
            }
            AssertionAlg::Rs256 => {
                let mut h = Header::new(Algorithm::RS256);
                h.x5t = Some(self.info.x5t.clone());
                h
            }
        };
        header.typ = Some("JWT".into());
        if send_chain {
            header.x5c = Some(self.chain.iter().map(|der| STANDARD.encode(der)).collect());
        }
        let issued = DateTime::from_timestamp(now.timestamp(), 0).unwrap_or(now);
        let expires = issued + ASSERTION_LIFETIME;
        let claims = serde_json::json!({
            "aud": audience,
            "iss": client_id,
            "sub": client_id,
            "jti": uuid::Uuid::new_v4().to_string(),
            "nbf": issued.timestamp(),
            "iat": issued.timestamp(),
            "exp": expires.timestamp(),
        });
        let jwt = jsonwebtoken::encode(&header, &claims, &self.key).map_err(|e| {
            CertificateError::Signing {
                message: e.to_string(),
                hint: format!(
                    "the key of {} could not sign with {}; try assertion_algorithm = \"{}\"",
                    self.info.path.display(),
                    alg.name(),
                    alg.other().name(),
                ),
            }
        })?;
        let jwt = ClientSecret::new(jwt);
        *kept = Some(KeptAssertion {
            client_id: client_id.to_string(),
            audience: audience.to_string(),
            alg,
            send_chain,
            issued,
            expires,
            jwt: jwt.clone(),
        });
        Ok(jwt)
    }
}
