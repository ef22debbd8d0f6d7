//! Client credentials other than a secret: a certificate (PEM or PKCS#12) that signs a client
//! assertion JWT, and a federated token file (workload identity) sent as the assertion.
//!
//! Secret material (the private key, a PKCS#12 password, a signed assertion, a federated
//! token) never reaches a `Debug` or `Display` text or an error message.

mod parse;
#[cfg(test)]
mod tests;

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, TimeDelta, Utc};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use thiserror::Error;

use crate::secret::ClientSecret;
use parse::{KeyProblem, RsaKey};

/// The JWT-bearer assertion type sent as `client_assertion_type`.
pub const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// How long a signed client assertion is valid (`exp` = `iat` + this).
const ASSERTION_LIFETIME: TimeDelta = TimeDelta::minutes(10);
/// A kept assertion is signed anew this long before its `exp`.
const ASSERTION_REUSE_MARGIN: TimeDelta = TimeDelta::seconds(60);
/// A federated token read from its file is re-read after this long.
const FEDERATED_REREAD_AFTER: TimeDelta = TimeDelta::minutes(10);

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

impl AssertionAlg {
    /// The JOSE `alg` name, as written in `assertion_algorithm`.
    pub fn name(self) -> &'static str {
        match self {
            AssertionAlg::Ps256 => "PS256",
            AssertionAlg::Rs256 => "RS256",
        }
    }
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

/// Why a certificate could not be used. Texts end with a hint of what to do. None of them
/// contains key material or a password.
#[derive(Debug, Clone, Error)]
pub enum CertificateError {
    /// The certificate or key file is missing or cannot be read.
    #[error("cannot read the {what} file {path}: {message}\nhint: {hint}")]
    Unreadable {
        /// "certificate" or "private key".
        what: &'static str,
        path: PathBuf,
        message: String,
        hint: String,
    },
    /// The file holds no certificate (or is not a certificate file at all).
    #[error("{path} contains no certificate{detail}\nhint: {hint}")]
    NoCertificate {
        path: PathBuf,
        /// Extra detail, starting with a separator (may be empty).
        detail: String,
        hint: String,
    },
    /// The file looks like a certificate/key/PKCS#12 but cannot be parsed.
    #[error("{path}: {message}\nhint: {hint}")]
    Malformed {
        path: PathBuf,
        message: String,
        hint: String,
    },
    /// There is a certificate but no private key.
    #[error("no private key for the certificate in {path}\nhint: {hint}")]
    NoPrivateKey { path: PathBuf, hint: String },
    /// The PEM private key is password-protected.
    #[error(
        "the private key in {path} is encrypted (password-protected PEM)\nhint: decrypt it with \
         `openssl pkcs8 -topk8 -nocrypt -in {path} -out key.pem` and set \
         client_certificate_key_path to key.pem, or use a PKCS#12 (.pfx) file with its password \
         in {PASSWORD_SETTINGS}"
    )]
    EncryptedKey { path: PathBuf },
    /// The PKCS#12 password is wrong, or one is needed and none was given.
    #[error("{}", pkcs12_password_text(.path, *.given))]
    Pkcs12Password {
        path: PathBuf,
        /// Whether a password was given.
        given: bool,
    },
    /// The key (or the certificate's public key) is not RSA.
    #[error(
        "{what} in {path} is {algorithm}; Entra ID accepts only RSA certificates for client \
         assertions\nhint: create an RSA certificate (e.g. `openssl req -x509 -newkey rsa:2048 \
         -nodes -keyout key.pem -out cert.pem -subj /CN=tokenscope`) and upload its public part \
         to the app registration"
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
         keys differ)\nhint: use the key that was generated with this certificate; check \
         client_certificate_key_path, or compare `openssl x509 -noout -modulus -in CERT` with \
         `openssl rsa -noout -modulus -in KEY`"
    )]
    KeyMismatch {
        cert_path: PathBuf,
        key_path: PathBuf,
    },
    /// The key was read but cannot sign (e.g. too short for the signer).
    #[error(
        "the RSA key in {path} cannot sign a client assertion: {message}\nhint: use an RSA key \
         of 2048 bits or more"
    )]
    KeyUnusable { path: PathBuf, message: String },
    /// Signing the assertion failed.
    #[error("could not sign the client assertion: {message}\nhint: {hint}")]
    Signing { message: String, hint: String },
}

fn pkcs12_password_text(path: &Path, given: bool) -> String {
    if given {
        format!(
            "the password for the PKCS#12 file {} is wrong\nhint: check the value of \
             {PASSWORD_SETTINGS} (the password used when the .pfx was exported)",
            path.display()
        )
    } else {
        format!(
            "the PKCS#12 file {} is password-protected and no password was given\nhint: put the \
             password in {PASSWORD_SETTINGS}",
            path.display()
        )
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

/// Reads a whole file, with an error that says which setting points at it.
fn read_file(path: &Path, what: &'static str) -> Result<Vec<u8>, CertificateError> {
    std::fs::read(path).map_err(|e| {
        let setting = if what == "certificate" {
            "client_certificate_path (or AZURE_CLIENT_CERTIFICATE_PATH)"
        } else {
            "client_certificate_key_path"
        };
        let hint = match e.kind() {
            std::io::ErrorKind::NotFound => {
                format!(
                    "check {setting}; the path is relative to the current directory unless absolute"
                )
            }
            std::io::ErrorKind::PermissionDenied => {
                "make the file readable by the user running tokenscope".to_string()
            }
            std::io::ErrorKind::IsADirectory => format!("{setting} must name a file"),
            _ => format!("check {setting}"),
        };
        CertificateError::Unreadable {
            what,
            path: path.to_path_buf(),
            message: e.to_string(),
            hint,
        }
    })
}

/// The file as DER if it is nothing but standard base64 of a DER SEQUENCE.
fn base64_der(data: &[u8]) -> Option<Vec<u8>> {
    let compact: Vec<u8> = data
        .iter()
        .copied()
        .filter(|b| !b.is_ascii_whitespace())
        .collect();
    if compact.len() < 16 {
        return None;
    }
    let der = STANDARD.decode(&compact).ok()?;
    (der.first() == Some(&0x30)).then_some(der)
}

fn is_pem(data: &[u8]) -> bool {
    data.windows(11).any(|w| w == b"-----BEGIN ")
}

/// The private key found in a PEM file.
enum PemKey {
    Found(RsaKey),
    Encrypted,
    NotRsa(String),
    Malformed(String),
    None,
}

/// The first private key block of a PEM file.
fn pem_key(blocks: &[parse::PemBlock]) -> PemKey {
    for block in blocks {
        let result = match block.label.as_str() {
            "RSA PRIVATE KEY" if block.encrypted => return PemKey::Encrypted,
            "RSA PRIVATE KEY" => parse::rsa_from_pkcs1(&block.der),
            "PRIVATE KEY" => parse::rsa_from_pkcs8(&block.der),
            "ENCRYPTED PRIVATE KEY" => return PemKey::Encrypted,
            "EC PRIVATE KEY" => return PemKey::NotRsa("an EC (ECDSA) key".into()),
            "DSA PRIVATE KEY" => return PemKey::NotRsa("a DSA key".into()),
            "OPENSSH PRIVATE KEY" => {
                return PemKey::Malformed(
                    "the private key is in OpenSSH format, not PEM (PKCS#1/PKCS#8)".into(),
                );
            }
            label if label.ends_with("PRIVATE KEY") && block.encrypted => {
                return PemKey::Encrypted;
            }
            _ => continue,
        };
        return match result {
            Ok(key) => PemKey::Found(key),
            Err(KeyProblem::NotRsa(alg)) => PemKey::NotRsa(alg),
            Err(KeyProblem::Malformed) => {
                PemKey::Malformed(format!("the {} block cannot be parsed", block.label))
            }
        };
    }
    PemKey::None
}

impl ClientCertificate {
    /// Load a PEM file (certificate and key in one file, or the key in `key_path`) or a
    /// PKCS#12 file (`.pfx`/`.p12`, decided by content) with an optional password.
    ///
    /// A certificate outside its validity period still loads (the dates are in [`info`]);
    /// Entra ID is the one to refuse it.
    ///
    /// [`info`]: ClientCertificate::info
    pub fn load(
        cert_path: &Path,
        key_path: Option<&Path>,
        password: Option<&ClientSecret>,
    ) -> Result<Self, CertificateError> {
        let data = read_file(cert_path, "certificate")?;
        if is_pem(&data) {
            Self::load_pem(cert_path, &data, key_path)
        } else if data.first() == Some(&0x30) {
            Self::load_der(cert_path, &data, key_path, password)
        } else if let Some(der) = base64_der(&data) {
            // A PKCS#12 stored as base64 text (as Key Vault hands out a .pfx secret).
            Self::load_der(cert_path, &der, key_path, password)
        } else {
            Err(CertificateError::NoCertificate {
                path: cert_path.to_path_buf(),
                detail: if data.is_empty() {
                    " (the file is empty)".into()
                } else {
                    " (it is neither PEM nor PKCS#12)".into()
                },
                hint: "client_certificate_path must name a PEM file (-----BEGIN CERTIFICATE-----, \
                       with the key) or a PKCS#12 (.pfx/.p12) file"
                    .into(),
            })
        }
    }

    fn load_pem(
        cert_path: &Path,
        data: &[u8],
        key_path: Option<&Path>,
    ) -> Result<Self, CertificateError> {
        let malformed = |path: &Path, message: String| CertificateError::Malformed {
            path: path.to_path_buf(),
            message,
            hint: "re-export the file as PEM (openssl x509 -outform pem / openssl pkey)".into(),
        };
        let text = String::from_utf8_lossy(data);
        let blocks = parse::pem_blocks(&text).map_err(|m| malformed(cert_path, m))?;
        let certs: Vec<Vec<u8>> = blocks
            .iter()
            .filter(|b| b.label == "CERTIFICATE" || b.label == "X509 CERTIFICATE")
            .map(|b| b.der.clone())
            .collect();
        if certs.is_empty() {
            let has_key = !matches!(pem_key(&blocks), PemKey::None);
            return Err(CertificateError::NoCertificate {
                path: cert_path.to_path_buf(),
                detail: if has_key {
                    " (only a private key)".into()
                } else {
                    String::new()
                },
                hint: "client_certificate_path must name the PEM with the -----BEGIN \
                       CERTIFICATE----- block (the key may be in the same file or in \
                       client_certificate_key_path)"
                    .into(),
            });
        }
        let (key_blocks, key_file) = match key_path {
            Some(kp) => {
                let key_data = read_file(kp, "private key")?;
                let key_text = String::from_utf8_lossy(&key_data);
                let blocks = parse::pem_blocks(&key_text).map_err(|m| malformed(kp, m))?;
                (blocks, kp)
            }
            None => (blocks, cert_path),
        };
        let key = match pem_key(&key_blocks) {
            PemKey::Found(key) => key,
            PemKey::Encrypted => {
                return Err(CertificateError::EncryptedKey {
                    path: key_file.to_path_buf(),
                });
            }
            PemKey::NotRsa(algorithm) => {
                return Err(CertificateError::NotRsa {
                    what: "the private key",
                    path: key_file.to_path_buf(),
                    algorithm,
                });
            }
            PemKey::Malformed(message) => return Err(malformed(key_file, message)),
            PemKey::None => {
                return Err(CertificateError::NoPrivateKey {
                    path: key_file.to_path_buf(),
                    hint: if key_path.is_some() {
                        "client_certificate_key_path must name a PEM file with a -----BEGIN \
                         PRIVATE KEY----- or -----BEGIN RSA PRIVATE KEY----- block"
                            .into()
                    } else {
                        "add the private key (-----BEGIN PRIVATE KEY-----) to the PEM file, or \
                         set client_certificate_key_path to the key file"
                            .into()
                    },
                });
            }
        };
        Self::assemble(cert_path, key_file, CertFormat::Pem, certs, key)
    }

    fn load_der(
        cert_path: &Path,
        data: &[u8],
        key_path: Option<&Path>,
        password: Option<&ClientSecret>,
    ) -> Result<Self, CertificateError> {
        use p12_keystore::{KeyStore, Pkcs12ImportPolicy, error::Error as P12};

        if x509_parser::parse_x509_certificate(data).is_ok() {
            return Err(CertificateError::NoPrivateKey {
                path: cert_path.to_path_buf(),
                hint: "this is a DER certificate without its key; convert it with `openssl x509 \
                       -inform der -in CERT -out cert.pem` and add the key (or set \
                       client_certificate_key_path), or use a PKCS#12 (.pfx) file"
                    .into(),
            });
        }
        let pw = password.map(ClientSecret::expose).unwrap_or("");
        let store =
            KeyStore::from_pkcs12(data, pw, Pkcs12ImportPolicy::Relaxed).map_err(|e| match e {
                P12::MacError(_) | P12::UnpadError | P12::Pkcs5Error(_) => {
                    CertificateError::Pkcs12Password {
                        path: cert_path.to_path_buf(),
                        given: password.is_some(),
                    }
                }
                P12::DerError(_) | P12::InvalidVersion | P12::UnsupportedContentType => {
                    CertificateError::NoCertificate {
                        path: cert_path.to_path_buf(),
                        detail: " (it is binary but not a PKCS#12 file)".into(),
                        hint: "client_certificate_path must name a PEM file or a PKCS#12 \
                               (.pfx/.p12) file"
                            .into(),
                    }
                }
                other => CertificateError::Malformed {
                    path: cert_path.to_path_buf(),
                    message: format!("the PKCS#12 file cannot be read: {other}"),
                    hint: "re-export it (e.g. `openssl pkcs12 -export -in cert.pem -inkey \
                           key.pem -out cert.pfx`)"
                        .into(),
                },
            })?;
        let Some((_, chain)) = store.private_key_chain() else {
            return Err(CertificateError::NoPrivateKey {
                path: cert_path.to_path_buf(),
                hint: "export the PKCS#12 with its private key (in Windows: \"Yes, export the \
                       private key\"; with openssl: `openssl pkcs12 -export -in cert.pem -inkey \
                       key.pem -out cert.pfx`)"
                    .into(),
            });
        };
        if key_path.is_some() {
            return Err(CertificateError::Malformed {
                path: cert_path.to_path_buf(),
                message: "client_certificate_key_path is set but the PKCS#12 file carries its \
                          own private key"
                    .into(),
                hint: "remove client_certificate_key_path (it is for PEM certificates)".into(),
            });
        }
        let certs: Vec<Vec<u8>> = chain.certs().iter().map(|c| c.as_der().to_vec()).collect();
        if certs.is_empty() {
            return Err(CertificateError::NoCertificate {
                path: cert_path.to_path_buf(),
                detail: " (the PKCS#12 holds a private key without its certificate)".into(),
                hint: "re-export the PKCS#12 with the certificate".into(),
            });
        }
        let key = parse::rsa_from_pkcs8(chain.key().as_der()).map_err(|p| match p {
            KeyProblem::NotRsa(algorithm) => CertificateError::NotRsa {
                what: "the private key",
                path: cert_path.to_path_buf(),
                algorithm,
            },
            KeyProblem::Malformed => CertificateError::Malformed {
                path: cert_path.to_path_buf(),
                message: "the private key in the PKCS#12 file cannot be parsed".into(),
                hint: "re-export the PKCS#12 file".into(),
            },
        })?;
        Self::assemble(cert_path, cert_path, CertFormat::Pkcs12, certs, key)
    }

    /// Picks the certificate that belongs to the key as the leaf (the rest is the chain),
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
        let thumbprints = crate::jwt::Thumbprints::of(&certs[0]);
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
                    match alg {
                        AssertionAlg::Ps256 => AssertionAlg::Rs256,
                        AssertionAlg::Rs256 => AssertionAlg::Ps256,
                    }
                    .name(),
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

const FEDERATED_SETTINGS: &str = "AZURE_FEDERATED_TOKEN_FILE or federated_token_file";

/// Why the federated token file could not be used. No text contains the token.
#[derive(Debug, Clone, Error)]
pub enum FederatedError {
    /// The file is missing or cannot be read (first read).
    #[error("cannot read the federated token file {path}: {message}\nhint: {hint}")]
    Unreadable {
        path: PathBuf,
        message: String,
        hint: String,
    },
    /// The file is there but holds nothing (only whitespace).
    #[error(
        "the federated token file {path} is empty\nhint: the token is written by whoever \
         provides it (on Kubernetes, the workload identity webhook's projected service-account \
         token); check that the pod's service account is set up for workload identity and \
         that {FEDERATED_SETTINGS} names the projected file"
    )]
    Empty { path: PathBuf },
    /// The file was read before but cannot be read again now that the copy is stale.
    #[error(
        "cannot re-read the federated token file {path} (last read {read_at}): {message}\n\
         hint: the token is rotated in place; the file may have been replaced or its volume \
         unmounted. Check that it still exists at {FEDERATED_SETTINGS}; the old copy is not \
         used since it may have expired"
    )]
    Reread {
        path: PathBuf,
        message: String,
        read_at: DateTime<Utc>,
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

    /// When the copy in memory was read, if there is one.
    pub fn read_at(&self) -> Option<DateTime<Utc>> {
        let copy = self.copy.lock().unwrap_or_else(|e| e.into_inner());
        copy.as_ref().map(|(at, _)| *at)
    }

    /// The token to send as `client_assertion`; read from the file when there is no copy or
    /// the copy is older than 10 minutes.
    pub fn assertion(&self, now: DateTime<Utc>) -> Result<ClientSecret, FederatedError> {
        let mut copy = self.copy.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((read_at, token)) = copy.as_ref()
            && *read_at <= now
            && now - *read_at < FEDERATED_REREAD_AFTER
        {
            return Ok(token.clone());
        }
        let previous = copy.as_ref().map(|(at, _)| *at);
        let read = std::fs::read(&self.path).map_err(|e| match previous {
            Some(read_at) => FederatedError::Reread {
                path: self.path.clone(),
                message: e.to_string(),
                read_at,
            },
            None => FederatedError::Unreadable {
                path: self.path.clone(),
                message: e.to_string(),
                hint: match e.kind() {
                    std::io::ErrorKind::NotFound => format!(
                        "on Kubernetes the workload identity webhook mounts the token file \
                         (azure.workload.identity/use: \"true\" on the pod); elsewhere check \
                         {FEDERATED_SETTINGS}"
                    ),
                    std::io::ErrorKind::PermissionDenied => {
                        "make the file readable by the user running tokenscope".into()
                    }
                    _ => format!("check {FEDERATED_SETTINGS}"),
                },
            },
        })?;
        let Ok(text) = String::from_utf8(read) else {
            return Err(FederatedError::Unreadable {
                path: self.path.clone(),
                message: "the file is not text".into(),
                hint: format!(
                    "{FEDERATED_SETTINGS} must name a file holding a JWT (three base64url parts)"
                ),
            });
        };
        let token = text.trim();
        if token.is_empty() {
            return Err(FederatedError::Empty {
                path: self.path.clone(),
            });
        }
        let token = ClientSecret::new(token);
        *copy = Some((now, token.clone()));
        Ok(token)
    }
}
