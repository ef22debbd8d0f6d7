//! Token-signing keys: an RSA-2048 key pair generated in memory (aws-lc via rcgen), a
//! self-signed certificate for it (published as `x5c`, thumbprint `x5t`), and the JWK
//! components. Like Entra, the key id (`kid`) is the certificate thumbprint.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, Datelike, Utc};
use jsonwebtoken::jwk::{AlgorithmParameters, Jwk};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header};

use super::error::SandboxError;

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
    encoding: EncodingKey,
    /// The public key, for the weather API's own validation.
    pub decoding: DecodingKey,
}

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

impl SigningKey {
    /// Generates a fresh RSA-2048 key and a self-signed certificate for it.
    pub fn generate(now: DateTime<Utc>) -> Result<Self, SandboxError> {
        let crypto = |detail: String| SandboxError::Crypto {
            what: "token-signing key",
            detail,
        };
        let (key_pair, cert) = self_signed_rsa(
            "token-signing key",
            "tokenscope sandbox token signing (sandbox-only)",
            |params| {
                let (y, m, d) = (now.year(), now.month() as u8, now.day() as u8);
                params.not_before = rcgen::date_time_ymd(y - 1, m, d.min(28));
                params.not_after = rcgen::date_time_ymd(y + 5, m, d.min(28));
            },
        )?;
        let der: &[u8] = cert.der().as_ref();

        let encoding = EncodingKey::from_rsa_pem(key_pair.serialize_pem().as_bytes())
            .map_err(|e| crypto(e.to_string()))?;
        let jwk = Jwk::from_encoding_key(&encoding, Algorithm::RS256)
            .map_err(|e| crypto(e.to_string()))?;
        let (n, e) = match jwk.algorithm {
            AlgorithmParameters::RSA(rsa) => (rsa.n, rsa.e),
            _ => return Err(crypto("the generated key is not an RSA key".into())),
        };
        let decoding =
            DecodingKey::from_rsa_components(&n, &e).map_err(|e| crypto(e.to_string()))?;
        let x5t = crate::credential::Thumbprints::of(der).x5t;
        Ok(SigningKey {
            kid: x5t.clone(),
            x5t,
            n,
            e,
            x5c: STANDARD.encode(der),
            encoding,
            decoding,
        })
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
}
