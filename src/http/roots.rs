//! The system's trusted root certificates, read the way curl and OpenSSL read them on Linux
//! and the BSDs: the distribution's CA bundle file, not every file of the hashed certificate
//! directory beside it.
//!
//! Why: reqwest's platform verifier loads the bundle *and* parses every entry of
//! `/etc/ssl/certs` (about 300 files that repeat the bundle) in every process — about 3 ms of
//! CPU, half of a whole warm `tokenscope call` over TLS. The bundle is what
//! `update-ca-certificates` / `update-ca-trust` maintain (the hashed directory is generated
//! from the same source), so the trust is the same. `SSL_CERT_FILE` names the bundle to read.
//! An `SSL_CERT_DIR` other than the bundle's own directory asks for a directory of extra
//! certificates: then the platform verifier reads it, as before. Other platforms (macOS,
//! Windows) keep the platform verifier, which asks the OS.
//!
//! Owns only the choice and loading of that file; the client is built in [`super::client`].

use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// Where distributions keep their CA bundle (openssl-probe's list, in its order).
#[cfg(all(
    unix,
    not(any(target_os = "macos", target_os = "ios", target_os = "android"))
))]
const BUNDLES: &[&str] = &[
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",
    "/etc/pki/tls/certs/ca-bundle.crt",
    "/etc/ssl/ca-bundle.pem",
    "/etc/pki/tls/cacert.pem",
    "/etc/ssl/cert.pem",
    "/usr/local/etc/ssl/cert.pem",
    "/usr/local/share/certs/ca-root-nss.crt",
    "/etc/openssl/certs/ca-certificates.crt",
];
#[cfg(not(all(
    unix,
    not(any(target_os = "macos", target_os = "ios", target_os = "android"))
)))]
const BUNDLES: &[&str] = &[];

/// The bundle file to read, given `SSL_CERT_FILE` / `SSL_CERT_DIR` and the candidates;
/// `None` means "use the platform verifier".
fn choose(
    cert_file: Option<OsString>,
    cert_dir: Option<OsString>,
    candidates: &[&str],
) -> Option<PathBuf> {
    let file = match cert_file.filter(|f| !f.is_empty()) {
        Some(f) => PathBuf::from(f),
        None => candidates
            .iter()
            .map(Path::new)
            .find(|p| p.is_file())?
            .to_path_buf(),
    };
    // The distribution's hashed directory beside its bundle (`/etc/ssl/certs` for
    // `/etc/ssl/certs/ca-certificates.crt`) holds the same certificates; any other directory
    // (or several) may hold more.
    let beside = |dir: &OsString| {
        std::env::split_paths(dir)
            .all(|d| d.as_os_str().is_empty() || Some(d.as_path()) == file.parent())
    };
    match cert_dir {
        Some(dir) if !beside(&dir) => None,
        _ => Some(file),
    }
}

/// The certificates of one PEM bundle file, when it is a readable regular file of sane size
/// holding at least one certificate.
fn load(path: &Path) -> Option<Vec<reqwest::Certificate>> {
    let pem = crate::files::read(path, crate::files::FileKind::CaBundle).ok()?;
    let certs = reqwest::Certificate::from_pem_bundle(&pem).ok()?;
    (!certs.is_empty()).then_some(certs)
}

/// The system's roots from its CA bundle, or `None` when the platform verifier should decide
/// (another OS, `SSL_CERT_DIR` set, no usable bundle — it then reports its own errors).
pub(super) fn system_bundle() -> Option<Vec<reqwest::Certificate>> {
    let path = choose(
        std::env::var_os("SSL_CERT_FILE"),
        std::env::var_os("SSL_CERT_DIR"),
        BUNDLES,
    )?;
    let certs = load(&path);
    if certs.is_none() {
        tracing::debug!(path = %path.display(), "no usable CA bundle; using the platform verifier");
    }
    certs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bundle_is_chosen_like_openssl_does() {
        let dir = tempfile::tempdir().unwrap();
        let bundle = dir.path().join("ca.pem");
        std::fs::write(&bundle, "x").unwrap();
        let b = bundle.to_str().unwrap();
        let missing = dir.path().join("missing.pem");
        let m = missing.to_str().unwrap();
        // The first existing candidate.
        assert_eq!(choose(None, None, &[m, b]), Some(bundle.clone()));
        assert_eq!(choose(None, None, &[m]), None);
        // SSL_CERT_FILE wins; another SSL_CERT_DIR hands the choice to the platform verifier;
        // the bundle's own directory (what Debian's images export) does not.
        assert_eq!(choose(Some(m.into()), None, &[b]), Some(missing));
        assert_eq!(choose(None, Some("/etc/ssl/certs".into()), &[b]), None);
        let own = dir.path().as_os_str().to_owned();
        assert_eq!(choose(None, Some(own.clone()), &[b]), Some(bundle.clone()));
        assert_eq!(choose(Some(b.into()), Some(own), &[]), Some(bundle.clone()));
        assert_eq!(choose(Some("".into()), Some("".into()), &[b]), Some(bundle));
    }

    #[test]
    fn only_a_regular_file_with_certificates_loads() {
        let dir = tempfile::tempdir().unwrap();
        let empty = dir.path().join("empty.pem");
        std::fs::write(&empty, "no certificates here").unwrap();
        assert!(load(&empty).is_none());
        assert!(load(dir.path()).is_none(), "a directory");
        assert!(load(&dir.path().join("nope")).is_none());
        let ca = rcgen::generate_simple_self_signed(vec!["ca".into()]).unwrap();
        let good = dir.path().join("good.pem");
        std::fs::write(&good, ca.cert.pem().repeat(2)).unwrap();
        assert_eq!(load(&good).map(|c| c.len()), Some(2));
    }
}
