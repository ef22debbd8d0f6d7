//! RSA and X.509 building blocks for the sandbox's signing keys and client certificates:
//! a fresh self-signed RSA-2048 certificate, PEM text, and reading back the public half of a
//! certificate or a private key (to check that the two belong together).
//!
//! Owns no key and keeps no state. Must not know about tokens, tenants, files or HTTP: the
//! signing keys (`keys`), client certificates (`credentials`) and the key store build on it.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use chrono::{DateTime, Utc};
use jsonwebtoken::jwk::{AlgorithmParameters, Jwk};
use jsonwebtoken::{Algorithm, EncodingKey};

use super::error::SandboxError;

/// A fresh RSA-2048 key pair and a self-signed certificate for it with CN = `common_name`;
/// `configure` sets the rest (validity, serial). `what` names the key in errors.
pub(crate) fn self_signed_rsa(
    what: &'static str,
    common_name: &str,
    configure: impl FnOnce(&mut rcgen::CertificateParams),
) -> Result<(rcgen::KeyPair, rcgen::Certificate), SandboxError> {
    let crypto = |e: rcgen::Error| SandboxError::Crypto {
        what,
        detail: e.to_string(),
    };
    let key_pair =
        rcgen::KeyPair::generate_rsa_for(&rcgen::PKCS_RSA_SHA256, rcgen::RsaKeySize::_2048)
            .map_err(crypto)?;
    let mut params = rcgen::CertificateParams::default();
    params.distinguished_name = rcgen::DistinguishedName::new();
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, common_name);
    configure(&mut params);
    let cert = params.self_signed(&key_pair).map_err(crypto)?;
    Ok((key_pair, cert))
}

/// An RSA public key: modulus and exponent, big-endian, without leading zero bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RsaPublic {
    pub n: Vec<u8>,
    pub e: Vec<u8>,
}

/// What the sandbox reads from an RSA certificate.
pub(crate) struct RsaCert {
    pub subject: String,
    pub public: RsaPublic,
    pub not_before: DateTime<Utc>,
    pub not_after: DateTime<Utc>,
}

/// Parses an X.509 certificate (DER) whose key is RSA.
pub(crate) fn rsa_cert(der: &[u8]) -> Result<RsaCert, String> {
    use x509_parser::prelude::FromDer as _;
    let (_, cert) = x509_parser::certificate::X509Certificate::from_der(der)
        .map_err(|e| format!("not an X.509 certificate: {e}"))?;
    let public = match cert.public_key().parsed() {
        Ok(x509_parser::public_key::PublicKey::RSA(rsa)) => RsaPublic {
            n: strip_zeros(rsa.modulus).to_vec(),
            e: strip_zeros(rsa.exponent).to_vec(),
        },
        Ok(_) => return Err("the certificate's key is not an RSA key".into()),
        Err(e) => return Err(format!("unreadable public key: {e}")),
    };
    let validity = cert.validity();
    let time = |t: i64| DateTime::<Utc>::from_timestamp(t, 0).unwrap_or_default();
    Ok(RsaCert {
        subject: cert.subject().to_string(),
        public,
        not_before: time(validity.not_before.timestamp()),
        not_after: time(validity.not_after.timestamp()),
    })
}

/// An RSA private key (PKCS#8 or PKCS#1 PEM) ready to sign RS256, and its public half.
pub(crate) fn rsa_private_key(key_pem: &str) -> Result<(EncodingKey, RsaPublic), String> {
    let encoding = EncodingKey::from_rsa_pem(key_pem.as_bytes()).map_err(|e| e.to_string())?;
    let jwk = Jwk::from_encoding_key(&encoding, Algorithm::RS256).map_err(|e| e.to_string())?;
    let AlgorithmParameters::RSA(rsa) = jwk.algorithm else {
        return Err("the key is not an RSA key".into());
    };
    let decode = |b64: &str| {
        URL_SAFE_NO_PAD
            .decode(b64)
            .map(|bytes| strip_zeros(&bytes).to_vec())
            .map_err(|e| format!("unreadable RSA component: {e}"))
    };
    let public = RsaPublic {
        n: decode(&rsa.n)?,
        e: decode(&rsa.e)?,
    };
    Ok((encoding, public))
}

fn strip_zeros(bytes: &[u8]) -> &[u8] {
    let start = bytes
        .iter()
        .position(|b| *b != 0)
        .unwrap_or(bytes.len().saturating_sub(1));
    &bytes[start..]
}

/// `der` as a PEM block with `label` (64-character lines).
pub(crate) fn pem_block(label: &str, der: &[u8]) -> String {
    let b64 = STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(chunk));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_private_key_and_its_certificate_share_the_public_half() {
        let (key, cert) = self_signed_rsa("test key", "pki-test", |_| {}).expect("generated");
        let parsed = rsa_cert(cert.der()).expect("certificate");
        assert_eq!(parsed.subject, "CN=pki-test");
        let (_, public) = rsa_private_key(&key.serialize_pem()).expect("private key");
        assert_eq!(public, parsed.public);
        assert_eq!(public.e, [1, 0, 1]);
        let (other, _) = self_signed_rsa("test key", "other", |_| {}).expect("generated");
        let (_, other) = rsa_private_key(&other.serialize_pem()).expect("private key");
        assert_ne!(other, parsed.public);
        assert!(rsa_private_key("not a key").is_err());
        assert!(rsa_cert(b"not a certificate").is_err());
    }
}
