//! Reading a certificate file into DER certificates and an RSA key: PEM (certificate and key
//! in one file, or the key in its own file), PKCS#12 (binary or base64 text), told apart by
//! content, not by the file name. Every failure says which setting names the file and what
//! to do; none quotes key material or a password.

use std::path::Path;
use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use super::{CertFormat, CertificateError, ClientCertificate};
use crate::credential::parse::{self, KeyProblem, RsaKey};
use crate::secret::ClientSecret;

/// Reads a whole file, with an error that says which setting points at it.
fn read_file(path: &Path, what: &'static str) -> Result<Vec<u8>, CertificateError> {
    let kind = if what == "certificate" {
        crate::files::FileKind::Certificate
    } else {
        crate::files::FileKind::PrivateKey
    };
    crate::files::read(path, kind).map_err(|e| {
        let e = e.into_io();
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
            std::io::ErrorKind::InvalidInput => {
                format!("{setting} must name a regular file of at most 1 MiB")
            }
            _ => format!("check {setting}"),
        };
        CertificateError::Unreadable {
            what,
            path: path.to_path_buf(),
            hint,
            source: Arc::new(e),
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
                note: if data.is_empty() {
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
                note: if has_key {
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
                        note: " (it is binary but not a PKCS#12 file)".into(),
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
                note: " (the PKCS#12 holds a private key without its certificate)".into(),
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
}
