//! The key store ([`super::SandboxOptions::key_store`]): a directory where the sandbox keeps
//! the keys it generates, so the next start reuses them instead of spending most of its
//! start-up on RSA key generation. It holds the current token-signing key, the federation
//! issuer's key and the certificates of `generate = true` clients, one PEM file each
//! (PKCS#8 private key, then the certificate).
//!
//! The sandbox's keys protect nothing, so the store is a cache, never a source of failure:
//! an unreadable, oversized, corrupt, mismatched or expired file is logged (`tracing::warn!`,
//! never its content) and replaced by a freshly generated key; anything that is not a
//! regular file (a FIFO, a directory, a symlink) is never waited on, followed or read
//! (`crate::files::read_no_follow`). Files are written 0600 in a 0700 directory, atomically
//! (temp file + rename), so a concurrent sandbox never reads half a key.
//!
//! Owns the files in that directory. Must not decide which keys exist or when they rotate
//! (the server and the shared state do), and must not touch anything outside the directory.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use chrono::{DateTime, TimeDelta, Utc};

use super::credentials::{self, CertificateCredential};
use super::error::SandboxError;
use super::keys::SigningKey;
use super::pki;
use crate::files::{FileKind, ReadError};

/// A stored client certificate with less validity left than this is replaced: the
/// dashboard's config pane would start warning about its expiry (30 days) otherwise.
const CLIENT_CERT_MIN_REMAINING: TimeDelta = TimeDelta::days(30);

/// Which signing key a file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KeyRole {
    /// The key tokens are signed with now (rotation replaces it).
    TokenSigning,
    /// The federation issuer's key (never rotated).
    Federation,
}

impl KeyRole {
    fn file_name(self) -> &'static str {
        match self {
            KeyRole::TokenSigning => "token-signing-key.pem",
            KeyRole::Federation => "federation-key.pem",
        }
    }

    fn what(self) -> &'static str {
        match self {
            KeyRole::TokenSigning => "token-signing key",
            KeyRole::Federation => "federation issuer key",
        }
    }
}

/// An opened key store directory.
#[derive(Debug, Clone)]
pub(crate) struct KeyStore {
    dir: PathBuf,
}

impl KeyStore {
    /// Creates `dir` (0700) if needed. `None`, with a warning, when it cannot be used: the
    /// sandbox then generates its keys in memory as without a store.
    pub fn open(dir: &Path) -> Option<KeyStore> {
        match prepare_dir(dir) {
            Ok(()) => Some(KeyStore {
                dir: dir.to_path_buf(),
            }),
            Err(reason) => {
                tracing::warn!(dir = %dir.display(), %reason, "sandbox key store unusable; generating keys in memory");
                None
            }
        }
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The stored key for `role`, or a fresh one (then stored).
    pub fn signing_key(
        &self,
        role: KeyRole,
        now: DateTime<Utc>,
    ) -> Result<SigningKey, SandboxError> {
        let path = self.dir.join(role.file_name());
        if let Some((key_pem, cert_der)) = self.read_pair(&path) {
            match SigningKey::from_parts(&key_pem, &cert_der) {
                Ok(key) if key.not_after > now => return Ok(key),
                Ok(_) => replacing(&path, "its certificate has expired"),
                Err(reason) => replacing(&path, &reason),
            }
        }
        let key = SigningKey::generate(now)?;
        self.store_signing_key(role, &key);
        Ok(key)
    }

    /// Stores `key` as the one for `role` (after a rotation). A failure is only logged.
    pub fn store_signing_key(&self, role: KeyRole, key: &SigningKey) {
        let (key_pem, cert_der) = key.parts();
        self.write(role.file_name(), key_pem, cert_der, role.what());
    }

    /// The stored certificate generated for client `name`, or a fresh one (then stored).
    /// `name` is a validated client name (letters, digits, `-`, `_`), safe in a file name.
    pub fn client_certificate(
        &self,
        name: &str,
        now: DateTime<Utc>,
    ) -> Result<CertificateCredential, SandboxError> {
        let file = client_file_name(name);
        let path = self.dir.join(&file);
        if let Some((key_pem, cert_der)) = self.read_pair(&path) {
            match stored_certificate(key_pem, &cert_der) {
                Ok(cert) if cert.not_after - now > CLIENT_CERT_MIN_REMAINING => return Ok(cert),
                Ok(_) => replacing(&path, "its certificate expires within 30 days"),
                Err(reason) => replacing(&path, &reason),
            }
        }
        let cert = credentials::generate_certificate(name, now)?;
        if let Some(key_pem) = cert.private_key_pem.as_deref() {
            self.write(&file, key_pem, &cert.der, "client certificate");
        }
        Ok(cert)
    }

    /// The (PKCS#8 PEM private key, certificate DER) in `path`; `None` when there is no
    /// usable file (logged, except when there is no file at all).
    fn read_pair(&self, path: &Path) -> Option<(String, Vec<u8>)> {
        let bytes = match read_regular_file(path) {
            Ok(Some(bytes)) => bytes,
            Ok(None) => return None,
            Err(reason) => {
                replacing(path, &reason);
                return None;
            }
        };
        match split_pair(&bytes) {
            Ok(pair) => Some(pair),
            Err(reason) => {
                replacing(path, &reason);
                None
            }
        }
    }

    fn write(&self, file: &str, key_pem: &str, cert_der: &[u8], what: &str) {
        let text = format!("{key_pem}{}", pki::pem_block("CERTIFICATE", cert_der));
        if let Err(reason) = write_atomically(&self.dir, file, text.as_bytes()) {
            tracing::warn!(path = %self.dir.join(file).display(), %reason, "sandbox key store: cannot store the {what}; the next start generates a new one");
        }
    }
}

fn client_file_name(name: &str) -> String {
    format!("client-{name}.pem")
}

fn replacing(path: &Path, reason: &str) {
    tracing::warn!(path = %path.display(), %reason, "sandbox key store: ignoring a stored key; generating a new one");
}

/// A client certificate with its private key, checked to belong together.
fn stored_certificate(key_pem: String, cert_der: &[u8]) -> Result<CertificateCredential, String> {
    let mut cert = CertificateCredential::from_der(cert_der)?;
    let (_, public) = pki::rsa_private_key(&key_pem)?;
    if public.n != cert.rsa_n || public.e != cert.rsa_e {
        return Err("the private key does not belong to the certificate".into());
    }
    cert.private_key_pem = Some(key_pem);
    Ok(cert)
}

/// Exactly one PKCS#8 `PRIVATE KEY` block and one `CERTIFICATE` block.
fn split_pair(bytes: &[u8]) -> Result<(String, Vec<u8>), String> {
    let mut key = None;
    let mut cert = None;
    for block in x509_parser::pem::Pem::iter_from_buffer(bytes) {
        let block = block.map_err(|e| format!("not a PEM file: {e}"))?;
        let slot = match block.label.as_str() {
            "PRIVATE KEY" => &mut key,
            "CERTIFICATE" => &mut cert,
            other => return Err(format!("unexpected PEM block {other}")),
        };
        if slot.replace(block.contents).is_some() {
            return Err(format!("more than one {} block", block.label));
        }
    }
    match (key, cert) {
        (Some(key), Some(cert)) => Ok((pki::pem_block("PRIVATE KEY", &key), cert)),
        _ => Err("needs a PRIVATE KEY and a CERTIFICATE block".into()),
    }
}

/// The file's bytes; `Ok(None)` when it does not exist. A FIFO is never waited on, a
/// symlink never followed, and at most [`FileKind::SandboxKey`]'s cap is read (64 KiB; an
/// RSA-2048 key and its certificate take about 3 KiB).
fn read_regular_file(path: &Path) -> Result<Option<Vec<u8>>, String> {
    match crate::files::read_no_follow(path, FileKind::SandboxKey) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(ReadError::NotFound { .. }) => Ok(None),
        Err(e) => Err(format!("it {}", e.reason())),
    }
}

/// Writes `dir/file` through a fresh temporary file (0600) renamed over it, so readers see
/// the old content or the new, never a part.
fn write_atomically(dir: &Path, file: &str, data: &[u8]) -> Result<(), String> {
    let target = dir.join(file);
    let temp = dir.join(format!(
        ".{file}.{}.{}.tmp",
        std::process::id(),
        uuid::Uuid::new_v4().simple()
    ));
    let written = (|| -> std::io::Result<()> {
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt as _;
            options.mode(0o600);
        }
        let mut out = options.open(&temp)?;
        out.write_all(data)?;
        out.sync_all()?;
        std::fs::rename(&temp, &target)
    })();
    written.map_err(|e| {
        let _ = std::fs::remove_file(&temp);
        e.to_string()
    })
}

/// Creates the directory (0700) or checks an existing one: it must be a directory, and on
/// Unix it is made private to its owner, since it holds private keys.
fn prepare_dir(dir: &Path) -> Result<(), String> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt as _;
        builder.mode(0o700);
    }
    builder
        .create(dir)
        .map_err(|e| format!("cannot create it: {e}"))?;
    let meta = std::fs::metadata(dir).map_err(|e| format!("cannot inspect it: {e}"))?;
    if !meta.is_dir() {
        return Err("it is not a directory".into());
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        if meta.permissions().mode() & 0o077 != 0 {
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
                .map_err(|e| format!("cannot make it private (0700): {e}"))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store() -> (tempfile::TempDir, KeyStore) {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = KeyStore::open(&dir.path().join("keys")).expect("usable");
        (dir, store)
    }

    #[test]
    fn a_stored_key_is_reused_and_written_private() {
        let (_dir, store) = store();
        let now = Utc::now();
        let first = store
            .signing_key(KeyRole::TokenSigning, now)
            .expect("generated");
        let again = store
            .signing_key(KeyRole::TokenSigning, now)
            .expect("loaded");
        assert_eq!(again.kid, first.kid);
        let federation = store
            .signing_key(KeyRole::Federation, now)
            .expect("generated");
        assert_ne!(federation.kid, first.kid, "each role has its own key");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = |p: &Path| std::fs::metadata(p).expect("meta").permissions().mode() & 0o777;
            assert_eq!(mode(&store.dir), 0o700);
            assert_eq!(mode(&store.dir.join("token-signing-key.pem")), 0o600);
        }
        let leftovers: Vec<_> = std::fs::read_dir(&store.dir)
            .expect("dir")
            .filter_map(Result::ok)
            .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
            .collect();
        assert!(leftovers.is_empty(), "no temporary files left behind");
    }

    #[test]
    fn expired_or_mismatched_keys_are_replaced() {
        let (_dir, store) = store();
        let now = Utc::now();
        let first = store
            .signing_key(KeyRole::TokenSigning, now)
            .expect("generated");
        // Ten years on, the stored certificate (valid five years) has expired.
        let later = now + TimeDelta::days(3650);
        let renewed = store
            .signing_key(KeyRole::TokenSigning, later)
            .expect("renewed");
        assert_ne!(renewed.kid, first.kid);

        // A private key with someone else's certificate is not a key pair.
        let other = SigningKey::generate(now).expect("generated");
        let text = format!(
            "{}{}",
            renewed.parts().0,
            pki::pem_block("CERTIFICATE", other.parts().1)
        );
        std::fs::write(store.dir.join("token-signing-key.pem"), text).expect("write");
        let replaced = store
            .signing_key(KeyRole::TokenSigning, now)
            .expect("replaced");
        assert_ne!(replaced.kid, other.kid);
        assert_ne!(replaced.kid, renewed.kid);
    }

    #[test]
    fn client_certificates_are_reused_until_thirty_days_before_expiry() {
        let (_dir, store) = store();
        let now = Utc::now();
        let first = store
            .client_certificate("console-cert", now)
            .expect("generated");
        assert!(first.has_private_key());
        let again = store
            .client_certificate("console-cert", now)
            .expect("loaded");
        assert_eq!(again.thumbprint, first.thumbprint);
        let out = tempfile::tempdir().expect("tempdir");
        credentials::write_cert_files("console-cert", &again, out.path())
            .expect("a stored certificate can be written out (PEM and PKCS#12) again");
        let near_expiry = first.not_after - TimeDelta::days(10);
        let renewed = store
            .client_certificate("console-cert", near_expiry)
            .expect("renewed");
        assert_ne!(renewed.thumbprint, first.thumbprint);
    }

    #[test]
    fn pem_pairs_need_exactly_one_key_and_one_certificate() {
        assert!(split_pair(b"").is_err());
        assert!(split_pair(b"garbage").is_err());
        let cert = pki::pem_block("CERTIFICATE", b"x");
        let key = pki::pem_block("PRIVATE KEY", b"k");
        assert!(split_pair(cert.as_bytes()).is_err());
        assert!(split_pair(format!("{key}{cert}{cert}").as_bytes()).is_err());
        let rsa = pki::pem_block("RSA PRIVATE KEY", b"k");
        assert!(split_pair(format!("{rsa}{cert}").as_bytes()).is_err());
        let (pem, der) = split_pair(format!("{key}{cert}").as_bytes()).expect("pair");
        assert_eq!((pem, der), (key, b"x".to_vec()));
    }

    #[test]
    fn oversized_files_are_not_read() {
        let (_dir, store) = store();
        let path = store.dir.join("big.pem");
        let big = vec![b'a'; FileKind::SandboxKey.cap() as usize + 1];
        std::fs::write(&path, big).expect("write");
        assert!(read_regular_file(&path).is_err());
        assert_eq!(read_regular_file(&store.dir.join("absent.pem")), Ok(None));
    }

    #[cfg(unix)]
    #[test]
    fn a_symlinked_key_file_is_not_followed() {
        let (dir, store) = store();
        let now = Utc::now();
        let key = SigningKey::generate(now).expect("generated");
        let elsewhere = dir.path().join("elsewhere.pem");
        let text = format!(
            "{}{}",
            key.parts().0,
            pki::pem_block("CERTIFICATE", key.parts().1)
        );
        std::fs::write(&elsewhere, &text).expect("write");
        std::os::unix::fs::symlink(&elsewhere, store.dir.join("token-signing-key.pem"))
            .expect("symlink");
        let loaded = store
            .signing_key(KeyRole::TokenSigning, now)
            .expect("generated");
        assert_ne!(loaded.kid, key.kid, "the symlink's target is not used");
        assert_eq!(
            std::fs::read_to_string(&elsewhere).expect("read"),
            text,
            "nor overwritten"
        );
    }

    #[test]
    fn a_store_path_that_is_a_file_is_unusable() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("keys");
        std::fs::write(&file, "not a directory").expect("write");
        assert!(KeyStore::open(&file).is_none());
    }
}
