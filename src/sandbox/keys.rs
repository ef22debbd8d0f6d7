//! Token-signing keys: an RSA-2048 key pair (aws-lc via rcgen), a self-signed certificate
//! for it (published as `x5c`, thumbprint `x5t`), and the JWK components. Like Entra, the
//! key id (`kid`) is the certificate thumbprint.
//!
//! Owns one key's material and signing with it. Must not touch files (the key store reads
//! and writes them), the tenant or HTTP.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use chrono::{DateTime, Datelike, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header};

use super::error::SandboxError;
use super::pki;

/// One RSA signing key with everything needed to sign and to publish it.
pub(crate) struct SigningKey {
    /// Key id, equal to `x5t` (as Entra does).
    pub kid: String,
    /// base64url SHA-1 thumbprint of the certificate DER.
    pub x5t: String,
    /// RSA modulus, base64url without padding.
    pub n: String,
    /// RSA public exponent, base64url without padding.
    pub e: String,
    /// The certificate DER, standard base64 (the `x5c` entry).
    pub x5c: String,
    /// Until when the certificate is valid (a stored key past it is replaced).
    pub not_after: DateTime<Utc>,
    encoding: EncodingKey,
    /// The public key, for the weather API's own validation.
    pub decoding: DecodingKey,
    /// PKCS#8 PEM of the private key and the certificate DER, for the key store.
    key_pem: String,
    cert_der: Vec<u8>,
}

impl SigningKey {
    /// Generates a fresh RSA-2048 key and a self-signed certificate for it.
    pub fn generate(now: DateTime<Utc>) -> Result<Self, SandboxError> {
        let (key_pair, cert) = pki::self_signed_rsa(
            "token-signing key",
            "tokenscope sandbox token signing (sandbox-only)",
            |params| {
                let (y, m, d) = (now.year(), now.month() as u8, now.day() as u8);
                params.not_before = rcgen::date_time_ymd(y - 1, m, d.min(28));
                params.not_after = rcgen::date_time_ymd(y + 5, m, d.min(28));
            },
        )?;
        SigningKey::from_parts(&key_pair.serialize_pem(), cert.der()).map_err(|detail| {
            SandboxError::Crypto {
                what: "token-signing key",
                detail,
            }
        })
    }

    /// A key from its private key (PEM) and certificate (DER), which must belong together.
    pub fn from_parts(key_pem: &str, cert_der: &[u8]) -> Result<Self, String> {
        let cert = pki::rsa_cert(cert_der)?;
        let (encoding, public) = pki::rsa_private_key(key_pem)?;
        if public != cert.public {
            return Err("the private key does not belong to the certificate".into());
        }
        let n = URL_SAFE_NO_PAD.encode(&public.n);
        let e = URL_SAFE_NO_PAD.encode(&public.e);
        let decoding = DecodingKey::from_rsa_components(&n, &e).map_err(|e| e.to_string())?;
        let x5t = crate::credential::Thumbprints::of(cert_der).x5t;
        Ok(SigningKey {
            kid: x5t.clone(),
            x5t,
            n,
            e,
            x5c: STANDARD.encode(cert_der),
            not_after: cert.not_after,
            encoding,
            decoding,
            key_pem: key_pem.to_string(),
            cert_der: cert_der.to_vec(),
        })
    }

    /// The private key (PKCS#8 PEM) and the certificate (DER), as `from_parts` takes them.
    pub fn parts(&self) -> (&str, &[u8]) {
        (&self.key_pem, &self.cert_der)
    }

    /// Signs `claims` with RS256. `with_x5t` adds the `x5t` header (v1 tokens carry it).
    pub fn sign(
        &self,
        claims: &serde_json::Value,
        with_x5t: bool,
    ) -> Result<String, jsonwebtoken::errors::Error> {
        let mut header = Header::new(Algorithm::RS256);
        header.typ = Some("JWT".into());
        header.kid = Some(self.kid.clone());
        if with_x5t {
            header.x5t = Some(self.x5t.clone());
        }
        jsonwebtoken::encode(&header, claims, &self.encoding)
    }

    /// Signs `claims` with RS256 under a header with `x5t` and a `nonce`, as Microsoft
    /// Graph's tokens have it.
    pub fn sign_with_nonce(
        &self,
        claims: &serde_json::Value,
        nonce: &str,
    ) -> Result<String, jsonwebtoken::errors::Error> {
        let mut header = Header::new(Algorithm::RS256);
        header.typ = Some("JWT".into());
        header.nonce = Some(nonce.to_string());
        header.x5t = Some(self.x5t.clone());
        header.kid = Some(self.kid.clone());
        jsonwebtoken::encode(&header, claims, &self.encoding)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_key_signs_tokens_its_public_half_verifies() {
        let key = SigningKey::generate(Utc::now()).expect("key generation");
        assert_eq!(key.kid, key.x5t);
        assert_eq!(key.e, "AQAB");
        let token = key
            .sign(&serde_json::json!({"exp": 4_000_000_000u64}), true)
            .expect("sign");
        let header = jsonwebtoken::decode_header(&token).expect("header");
        assert_eq!(header.kid.as_deref(), Some(key.kid.as_str()));
        assert_eq!(header.x5t.as_deref(), Some(key.x5t.as_str()));
        let validation = jsonwebtoken::Validation::new(Algorithm::RS256);
        jsonwebtoken::decode::<serde_json::Value>(&token, &key.decoding, &validation)
            .expect("verifies with the published key");
        // x5t is the SHA-1 of the published certificate.
        let der = STANDARD.decode(&key.x5c).expect("x5c is base64");
        assert_eq!(crate::credential::Thumbprints::of(&der).x5t, key.x5t);
    }

    #[test]
    fn a_key_rebuilt_from_its_parts_is_the_same_key_and_parts_must_match() {
        let key = SigningKey::generate(Utc::now()).expect("key generation");
        let (pem, der) = key.parts();
        let again = SigningKey::from_parts(pem, der).expect("same parts");
        assert_eq!((&again.kid, &again.n), (&key.kid, &key.n));
        let token = again
            .sign(&serde_json::json!({"exp": 4_000_000_000u64}), false)
            .expect("sign");
        let validation = jsonwebtoken::Validation::new(Algorithm::RS256);
        jsonwebtoken::decode::<serde_json::Value>(&token, &key.decoding, &validation)
            .expect("the rebuilt key signs like the original");

        let other = SigningKey::generate(Utc::now()).expect("key generation");
        let err = SigningKey::from_parts(pem, other.parts().1)
            .err()
            .expect("a certificate of another key is refused");
        assert!(err.contains("does not belong"), "{err}");
    }
}
