//! Client credentials other than secrets: certificates (public key + thumbprints, like the
//! portal's "Certificates" list) and federated identity credentials (issuer, subject,
//! audiences). Also generates throwaway client certificates and writes them to files.
//!
//! Owns those credential types and their files (0600). Must not know which client holds
//! them (the tenant model does) or decide whether a request's proof is valid (the
//! assertion checks do).

use std::fmt;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, TimeDelta, Utc};
use rand::RngCore as _;

use super::error::SandboxError;
use super::pki;
use crate::credential::sha1;

/// The audience Entra expects in a federated (workload identity) token.
pub const TOKEN_EXCHANGE_AUDIENCE: &str = "api://AzureADTokenExchange";

/// The `issuer` placeholder in a tenant file that stands for the sandbox's own federation
/// issuer (`{base}/federation`), resolved when the sandbox starts.
pub const SANDBOX_ISSUER_PLACEHOLDER: &str = "sandbox";

/// A certificate registered on a client (the public half only, like the portal's list),
/// plus, for certificates the sandbox generated itself, the private key so it can be
/// written out again.
#[derive(Clone)]
pub struct CertificateCredential {
    /// Subject DN, e.g. `CN=console-cert`.
    pub subject: String,
    /// SHA-1 thumbprint of the DER, upper-case hex (what the portal shows).
    pub thumbprint: String,
    /// base64url SHA-1 thumbprint: the assertion header `x5t`.
    pub x5t: String,
    /// base64url SHA-256 thumbprint: the assertion header `x5t#S256`.
    pub x5t_s256: String,
    pub not_before: DateTime<Utc>,
    pub not_after: DateTime<Utc>,
    /// The certificate, DER.
    pub der: Vec<u8>,
    /// RSA modulus and exponent (big-endian bytes) for signature checks.
    pub(crate) rsa_n: Vec<u8>,
    pub(crate) rsa_e: Vec<u8>,
    /// PKCS#8 PEM of the private key, for certificates the sandbox generated.
    pub(crate) private_key_pem: Option<String>,
}

impl fmt::Debug for CertificateCredential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CertificateCredential")
            .field("subject", &self.subject)
            .field("thumbprint", &self.thumbprint)
            .field("not_before", &self.not_before)
            .field("not_after", &self.not_after)
            .field(
                "private_key",
                &self.private_key_pem.as_ref().map(|_| "[redacted]"),
            )
            .finish()
    }
}

impl CertificateCredential {
    /// Parses an RSA certificate from DER.
    pub fn from_der(der: &[u8]) -> Result<CertificateCredential, String> {
        let cert = pki::rsa_cert(der)?;
        let thumbprints = crate::credential::Thumbprints::of(der);
        Ok(CertificateCredential {
            subject: cert.subject,
            thumbprint: thumbprints.hex,
            x5t: thumbprints.x5t,
            x5t_s256: thumbprints.x5t_s256,
            not_before: cert.not_before,
            not_after: cert.not_after,
            der: der.to_vec(),
            rsa_n: cert.public.n,
            rsa_e: cert.public.e,
            private_key_pem: None,
        })
    }

    /// Parses the first `CERTIFICATE` block of a PEM text (other blocks, such as a private
    /// key, are ignored: the sandbox only needs the public half).
    pub fn from_pem(pem: &[u8]) -> Result<CertificateCredential, String> {
        for block in x509_parser::pem::Pem::iter_from_buffer(pem) {
            let block = block.map_err(|e| format!("not a PEM file: {e}"))?;
            if block.label == "CERTIFICATE" {
                return CertificateCredential::from_der(&block.contents);
            }
        }
        Err("no -----BEGIN CERTIFICATE----- block".into())
    }

    /// The certificate as PEM.
    pub fn cert_pem(&self) -> String {
        pki::pem_block("CERTIFICATE", &self.der)
    }

    /// Whether the sandbox holds this certificate's private key (it generated it).
    pub fn has_private_key(&self) -> bool {
        self.private_key_pem.is_some()
    }

    pub(crate) fn decoding_key(&self) -> jsonwebtoken::DecodingKey {
        jsonwebtoken::DecodingKey::from_rsa_raw_components(&self.rsa_n, &self.rsa_e)
    }
}

/// A federated identity credential on a client ("Certificates & secrets → Federated
/// credentials"): tokens from `issuer` with this `subject` and one of `audiences` may be
/// exchanged for the client's tokens. Matching is case-sensitive, as in Entra.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FederatedCredential {
    pub name: String,
    pub issuer: String,
    pub subject: String,
    pub audiences: Vec<String>,
}

/// Generates an RSA-2048 self-signed client certificate, CN = `common_name`, valid from
/// `now − 1 day` to `now + 1 year`, keeping its private key.
pub(crate) fn generate_certificate(
    common_name: &str,
    now: DateTime<Utc>,
) -> Result<CertificateCredential, SandboxError> {
    let (key_pair, cert) = pki::self_signed_rsa("client certificate", common_name, |params| {
        let at = |t: DateTime<Utc>| {
            // rcgen takes `time` values; build them from the Unix epoch to avoid a direct
            // dependency on the `time` crate.
            let secs = u64::try_from(t.timestamp()).unwrap_or(0);
            rcgen::date_time_ymd(1970, 1, 1) + std::time::Duration::from_secs(secs)
        };
        params.not_before = at(now - TimeDelta::days(1));
        params.not_after = at(now + TimeDelta::days(365));
        let mut serial = [0u8; 16];
        rand::rng().fill_bytes(&mut serial);
        serial[0] &= 0x7f;
        params.serial_number = Some(rcgen::SerialNumber::from_slice(&serial));
    })?;
    let mut credential =
        CertificateCredential::from_der(cert.der().as_ref()).map_err(|detail| {
            SandboxError::Crypto {
                what: "client certificate",
                detail,
            }
        })?;
    credential.private_key_pem = Some(key_pair.serialize_pem());
    Ok(credential)
}

/// The files [`super::SandboxHandle::write_client_certificate`] wrote.
#[derive(Clone, PartialEq, Eq)]
pub struct ClientCertFiles {
    /// `{client}.pem`: certificate then PKCS#8 private key.
    pub combined_pem: PathBuf,
    /// `{client}.crt.pem`: the certificate alone (what you upload to the portal).
    pub cert_pem: PathBuf,
    /// `{client}.key.pem`: the PKCS#8 private key alone.
    pub key_pem: PathBuf,
    /// `{client}.pfx`: PKCS#12 with key and certificate, protected by `pfx_password`.
    pub pfx: PathBuf,
    pub pfx_password: String,
    /// SHA-1 thumbprint, upper-case hex.
    pub thumbprint: String,
    /// base64url SHA-256 thumbprint (`x5t#S256`).
    pub x5t_s256: String,
    pub not_after: DateTime<Utc>,
}

impl fmt::Debug for ClientCertFiles {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientCertFiles")
            .field("combined_pem", &self.combined_pem)
            .field("cert_pem", &self.cert_pem)
            .field("key_pem", &self.key_pem)
            .field("pfx", &self.pfx)
            .field("pfx_password", &"[redacted]")
            .field("thumbprint", &self.thumbprint)
            .field("x5t_s256", &self.x5t_s256)
            .field("not_after", &self.not_after)
            .finish()
    }
}

/// Writes the four files for a certificate the sandbox holds the key of.
pub(crate) fn write_cert_files(
    client: &str,
    cert: &CertificateCredential,
    dir: &Path,
) -> Result<ClientCertFiles, SandboxError> {
    let key_pem = cert
        .private_key_pem
        .as_deref()
        .ok_or_else(|| SandboxError::InvalidValue {
            problem: format!(
                "the sandbox does not hold the private key of certificate {} of client '{client}'",
                cert.thumbprint
            ),
            hint: "use SandboxHandle::write_client_certificate to generate one it can write".into(),
        })?;
    let cert_pem = cert.cert_pem();
    let pfx_password = random_password();
    let pfx = pkcs12(client, cert, key_pem, &pfx_password)?;

    let combined_path = dir.join(format!("{client}.pem"));
    let cert_path = dir.join(format!("{client}.crt.pem"));
    let key_path = dir.join(format!("{client}.key.pem"));
    let pfx_path = dir.join(format!("{client}.pfx"));
    write_private(&combined_path, format!("{cert_pem}{key_pem}").as_bytes())?;
    write_private(&cert_path, cert_pem.as_bytes())?;
    write_private(&key_path, key_pem.as_bytes())?;
    write_private(&pfx_path, &pfx)?;
    Ok(ClientCertFiles {
        combined_pem: combined_path,
        cert_pem: cert_path,
        key_pem: key_path,
        pfx: pfx_path,
        pfx_password,
        thumbprint: cert.thumbprint.clone(),
        x5t_s256: cert.x5t_s256.clone(),
        not_after: cert.not_after,
    })
}

fn pkcs12(
    alias: &str,
    cert: &CertificateCredential,
    key_pem: &str,
    password: &str,
) -> Result<Vec<u8>, SandboxError> {
    let crypto = |detail: String| SandboxError::Crypto {
        what: "PKCS#12 file",
        detail,
    };
    let key_der = x509_parser::pem::Pem::iter_from_buffer(key_pem.as_bytes())
        .filter_map(Result::ok)
        .find(|p| p.label == "PRIVATE KEY")
        .map(|p| p.contents)
        .ok_or_else(|| crypto("the private key is not PKCS#8 PEM".into()))?;
    let key = p12_keystore::PrivateKey::from_der(&key_der).map_err(|e| crypto(e.to_string()))?;
    let certificate =
        p12_keystore::Certificate::from_der(&cert.der).map_err(|e| crypto(e.to_string()))?;
    let local_key_id = sha1(&cert.der).to_vec();
    let chain = p12_keystore::PrivateKeyChain::new(local_key_id, key, [certificate]);
    let mut store = p12_keystore::KeyStore::new();
    store.add_entry(alias, p12_keystore::KeyStoreEntry::PrivateKeyChain(chain));
    store
        .writer(password)
        .write()
        .map_err(|e| crypto(e.to_string()))
}

/// 24 random URL-safe characters.
fn random_password() -> String {
    let mut bytes = [0u8; 18];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Writes `data` to `path` with mode 0600 (also tightening an existing file), atomically
/// enough for readers polling the file: the content is replaced in one write.
pub(crate) fn write_private(path: &Path, data: &[u8]) -> Result<(), SandboxError> {
    let err = |cause| SandboxError::WriteFile {
        path: path.to_path_buf(),
        cause,
    };
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let mut file = options.open(path).map_err(err)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        file.set_permissions(std::fs::Permissions::from_mode(0o600))
            .map_err(err)?;
    }
    file.write_all(data).map_err(err)?;
    file.sync_all().map_err(err)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_certificate_round_trips_through_pem_and_pkcs12() {
        let now = Utc::now();
        let cert = generate_certificate("unit", now).expect("generate");
        assert_eq!(cert.subject, "CN=unit");
        assert_eq!(cert.thumbprint.len(), 40);
        assert!(cert.not_before < now && cert.not_after > now + TimeDelta::days(364));
        let again = CertificateCredential::from_pem(cert.cert_pem().as_bytes()).expect("pem");
        assert_eq!(again.thumbprint, cert.thumbprint);
        assert_eq!(again.x5t_s256, cert.x5t_s256);
        assert!(!again.has_private_key());

        let dir = tempfile::tempdir().expect("tempdir");
        let files = write_cert_files("unit", &cert, dir.path()).expect("write");
        let pfx = std::fs::read(&files.pfx).expect("pfx");
        let store = p12_keystore::KeyStore::from_pkcs12(
            &pfx,
            &files.pfx_password,
            p12_keystore::Pkcs12ImportPolicy::Relaxed,
        )
        .expect("pfx opens with the password");
        let (_, chain) = store.private_key_chain().expect("key chain");
        assert_eq!(chain.certs()[0].as_der(), cert.der.as_slice());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            for p in [&files.combined_pem, &files.key_pem, &files.pfx] {
                let mode = std::fs::metadata(p).expect("meta").permissions().mode();
                assert_eq!(mode & 0o777, 0o600, "{}", p.display());
            }
        }
        let combined = std::fs::read_to_string(&files.combined_pem).expect("pem");
        assert!(combined.contains("BEGIN CERTIFICATE") && combined.contains("BEGIN PRIVATE KEY"));
    }
}
