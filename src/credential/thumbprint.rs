//! Certificate thumbprints as JOSE (RFC 7515 `x5t`, `x5t#S256`) and Entra use them: one
//! place for the client's certificate credential and the sandbox's registered certificates
//! and signing keys.
//!
//! Pure hashing of DER bytes; imports nothing of the crate (the sandbox uses it too).

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest as _, Sha256};

/// The thumbprints of a certificate's DER.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Thumbprints {
    /// SHA-1, upper-case hex: what the Azure portal shows.
    pub hex: String,
    /// base64url SHA-1: the `x5t` header.
    pub x5t: String,
    /// base64url SHA-256: the `x5t#S256` header.
    pub x5t_s256: String,
}

impl Thumbprints {
    pub fn of(der: &[u8]) -> Thumbprints {
        let sha1 = sha1(der);
        Thumbprints {
            hex: hex::encode_upper(sha1),
            x5t: URL_SAFE_NO_PAD.encode(sha1),
            x5t_s256: URL_SAFE_NO_PAD.encode(Sha256::digest(der)),
        }
    }
}

/// SHA-1 (FIPS 180-4). Only for thumbprints (and PKCS#12 local key ids), which are defined
/// with SHA-1; never for anything security-relevant.
pub fn sha1(data: &[u8]) -> [u8; 20] {
    use ::sha1::Digest as _;
    ::sha1::Sha1::digest(data).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha1_matches_fips_vectors() {
        assert_eq!(
            hex::encode(sha1(b"abc")),
            "a9993e364706816aba3e25717850c26c9cd0d89d"
        );
        assert_eq!(
            hex::encode(sha1(b"")),
            "da39a3ee5e6b4b0d3255bfef95601890afd80709"
        );
        assert_eq!(
            hex::encode(sha1(
                b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"
            )),
            "84983e441c3bd26ebaae4aa1f95129e5e54670f1"
        );
        let million_a = vec![b'a'; 1_000_000];
        assert_eq!(
            hex::encode(sha1(&million_a)),
            "34aa973cd4c4daa4f61eeb2bdbad27316534016f"
        );
    }

    #[test]
    fn thumbprints_of_a_der() {
        let t = Thumbprints::of(b"abc");
        assert_eq!(t.hex, "A9993E364706816ABA3E25717850C26C9CD0D89D");
        assert_eq!(t.x5t, "qZk-NkcGgWq6PiVxeFDCbJzQ2J0");
        // SHA-256("abc") = ba7816bf…15ad
        assert_eq!(t.x5t_s256, "ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0");
    }
}
