//! `--tls`: a throwaway CA and a server certificate for localhost / 127.0.0.1 signed by it.
//! The CA's PEM is written to a private temporary directory that is removed when the
//! sandbox stops; nothing else touches the disk.
//!
//! Owns that material and the CA file. Must not configure the server (the server module
//! hands the PEMs to rustls).

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Datelike, Utc};
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose,
};

use super::error::SandboxError;

/// The TLS material for one sandbox run.
pub(crate) struct TlsMaterial {
    pub ca_pem: String,
    pub server_cert_pem: String,
    pub server_key_pem: String,
}

/// Generates a CA and a server certificate valid for localhost, 127.0.0.1, ::1 and
/// `bound_ip` (when it is a specific, non-loopback address).
pub(crate) fn generate(now: DateTime<Utc>, bound_ip: IpAddr) -> Result<TlsMaterial, SandboxError> {
    let crypto = |what: &'static str| {
        move |e: rcgen::Error| SandboxError::Crypto {
            what,
            detail: e.to_string(),
        }
    };
    let (y, m, d) = (now.year(), now.month() as u8, now.day() as u8);
    let not_before = rcgen::date_time_ymd(y - 1, m, d.min(28));
    let not_after = rcgen::date_time_ymd(y + 1, m, d.min(28));

    let ca_key = KeyPair::generate().map_err(crypto("TLS CA key"))?;
    let mut ca_params = CertificateParams::default();
    ca_params.distinguished_name = DistinguishedName::new();
    ca_params.distinguished_name.push(
        DnType::CommonName,
        "tokenscope sandbox CA (sandbox-only, do not trust system-wide)",
    );
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    ca_params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    ca_params.not_before = not_before;
    ca_params.not_after = not_after;
    let ca_cert = ca_params
        .self_signed(&ca_key)
        .map_err(crypto("TLS CA certificate"))?;
    let issuer = Issuer::new(ca_params, &ca_key);

    let mut names = vec![
        "localhost".to_string(),
        "127.0.0.1".to_string(),
        "::1".to_string(),
    ];
    if !bound_ip.is_loopback() && !bound_ip.is_unspecified() {
        names.push(bound_ip.to_string());
    }
    let server_key = KeyPair::generate().map_err(crypto("TLS server key"))?;
    let mut server_params =
        CertificateParams::new(names).map_err(crypto("TLS server certificate"))?;
    server_params.distinguished_name = DistinguishedName::new();
    server_params
        .distinguished_name
        .push(DnType::CommonName, "localhost");
    server_params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    server_params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    server_params.use_authority_key_identifier_extension = true;
    server_params.not_before = not_before;
    server_params.not_after = not_after;
    let server_cert = server_params
        .signed_by(&server_key, &issuer)
        .map_err(crypto("TLS server certificate"))?;

    Ok(TlsMaterial {
        ca_pem: ca_cert.pem(),
        server_cert_pem: server_cert.pem(),
        server_key_pem: server_key.serialize_pem(),
    })
}

/// A private temporary directory holding `ca.pem`, deleted on drop.
pub(crate) struct CaFile {
    dir: PathBuf,
    path: PathBuf,
}

impl CaFile {
    pub fn write(ca_pem: &str) -> Result<CaFile, SandboxError> {
        let dir = std::env::temp_dir().join(format!(
            "tokenscope-sandbox-{}-{}",
            std::process::id(),
            uuid::Uuid::new_v4().simple()
        ));
        let fail = |path: &Path| {
            let path = path.to_path_buf();
            move |cause| SandboxError::TempFile { path, cause }
        };
        create_private_dir(&dir).map_err(fail(&dir))?;
        let path = dir.join("ca.pem");
        let file = CaFile { dir, path };
        std::fs::write(&file.path, ca_pem).map_err(fail(&file.path))?;
        Ok(file)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for CaFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[cfg(unix)]
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt as _;
    std::fs::DirBuilder::new().mode(0o700).create(dir)
}

#[cfg(not(unix))]
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir(dir)
}
