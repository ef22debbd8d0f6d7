//! The small amount of PEM and DER reading that certificate loading needs: PEM blocks (with
//! the legacy `Proc-Type: 4,ENCRYPTED` header noticed), PKCS#8 and PKCS#1 RSA private keys
//! (modulus and exponent, to compare with the certificate), and the DER helpers the tests
//! build fixtures with.
//!
//! Owns byte-level parsing only: no file access, no errors a user reads (callers turn a
//! failure into a `CertificateError`). Nothing here ever formats key material into a message.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

/// One `-----BEGIN label-----` … `-----END label-----` block.
pub(super) struct PemBlock {
    pub label: String,
    /// The block has RFC 1421 headers saying it is encrypted (`Proc-Type: 4,ENCRYPTED`).
    pub encrypted: bool,
    pub der: Vec<u8>,
}

/// Every PEM block in `text`, in order. Text outside blocks is ignored. The error names the
/// block that could not be decoded (never its content).
pub(super) fn pem_blocks(text: &str) -> Result<Vec<PemBlock>, String> {
    let mut blocks = Vec::new();
    let mut lines = text.lines().map(str::trim);
    while let Some(line) = lines.next() {
        let Some(label) = line
            .strip_prefix("-----BEGIN ")
            .and_then(|rest| rest.strip_suffix("-----"))
        else {
            continue;
        };
        let label = label.trim().to_string();
        let mut encrypted = false;
        let mut body = String::new();
        let mut ended = false;
        for line in lines.by_ref() {
            if line.starts_with("-----END ") {
                ended = true;
                break;
            }
            if let Some((name, value)) = line.split_once(':') {
                if name.trim().eq_ignore_ascii_case("Proc-Type") && value.contains("ENCRYPTED") {
                    encrypted = true;
                }
                continue;
            }
            body.push_str(line);
        }
        if !ended {
            return Err(format!("the {label} block has no -----END line"));
        }
        let der = STANDARD
            .decode(body.as_bytes())
            .map_err(|_| format!("the {label} block is not valid base64"))?;
        blocks.push(PemBlock {
            label,
            encrypted,
            der,
        });
    }
    Ok(blocks)
}

/// PEM-encodes `der` under `label` (64-column lines).
#[cfg(test)]
pub(super) fn pem_encode(label: &str, der: &[u8]) -> String {
    let b64 = STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(chunk).unwrap_or_default());
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

/// A DER tag-length-value; `content` borrows from the input.
pub(super) struct Tlv<'a> {
    pub tag: u8,
    pub content: &'a [u8],
}

/// Reads one DER element from the front of `input`, returning it and the rest.
pub(super) fn read_tlv(input: &[u8]) -> Option<(Tlv<'_>, &[u8])> {
    let (&tag, rest) = input.split_first()?;
    if tag & 0x1f == 0x1f {
        return None; // multi-byte tags: not used by the structures read here
    }
    let (&first, mut rest) = rest.split_first()?;
    let len = if first < 0x80 {
        usize::from(first)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 || rest.len() < n {
            return None;
        }
        let mut len = 0usize;
        for &b in &rest[..n] {
            len = (len << 8) | usize::from(b);
        }
        rest = &rest[n..];
        len
    };
    if rest.len() < len {
        return None;
    }
    let (content, rest) = rest.split_at(len);
    Some((Tlv { tag, content }, rest))
}

const SEQUENCE: u8 = 0x30;
const INTEGER: u8 = 0x02;
const OCTET_STRING: u8 = 0x04;
const OID: u8 = 0x06;

/// rsaEncryption, 1.2.840.113549.1.1.1.
const OID_RSA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];
/// id-RSASSA-PSS, 1.2.840.113549.1.1.10.
const OID_RSA_PSS: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0a];
/// id-ecPublicKey, 1.2.840.10045.2.1.
const OID_EC: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];
/// id-Ed25519 / id-Ed448, 1.3.101.112 / 113.
const OID_ED25519: &[u8] = &[0x2b, 0x65, 0x70];
const OID_ED448: &[u8] = &[0x2b, 0x65, 0x71];
/// id-dsa, 1.2.840.10040.4.1.
const OID_DSA: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x38, 0x04, 0x01];

/// An RSA private key, as PKCS#1 DER (what the signer takes), with its public half.
pub(super) struct RsaKey {
    pub pkcs1: Vec<u8>,
    /// Big-endian, without leading zero bytes.
    pub modulus: Vec<u8>,
    pub exponent: Vec<u8>,
}

/// Why a key could not be read as an RSA private key.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum KeyProblem {
    /// A key of another algorithm, named for the user (e.g. "an EC (ECDSA) key").
    NotRsa(String),
    /// Not a DER structure we understand.
    Malformed,
}

/// Strips leading zero bytes of a DER INTEGER's content.
pub(super) fn unsigned(bytes: &[u8]) -> &[u8] {
    let zeros = bytes.iter().take_while(|&&b| b == 0).count();
    &bytes[zeros.min(bytes.len().saturating_sub(1))..]
}

/// Parses a PKCS#1 `RSAPrivateKey` (SEQUENCE { version, n, e, d, … }).
pub(super) fn rsa_from_pkcs1(der: &[u8]) -> Result<RsaKey, KeyProblem> {
    let (seq, _) = read_tlv(der).ok_or(KeyProblem::Malformed)?;
    if seq.tag != SEQUENCE {
        return Err(KeyProblem::Malformed);
    }
    let (version, rest) = read_tlv(seq.content).ok_or(KeyProblem::Malformed)?;
    let (n, rest) = read_tlv(rest).ok_or(KeyProblem::Malformed)?;
    let (e, rest) = read_tlv(rest).ok_or(KeyProblem::Malformed)?;
    let (d, _) = read_tlv(rest).ok_or(KeyProblem::Malformed)?;
    if [version.tag, n.tag, e.tag, d.tag] != [INTEGER; 4] {
        return Err(KeyProblem::Malformed);
    }
    Ok(RsaKey {
        pkcs1: der.to_vec(),
        modulus: unsigned(n.content).to_vec(),
        exponent: unsigned(e.content).to_vec(),
    })
}

/// Parses a PKCS#8 `PrivateKeyInfo` holding an RSA key; other algorithms are named.
pub(super) fn rsa_from_pkcs8(der: &[u8]) -> Result<RsaKey, KeyProblem> {
    let (seq, _) = read_tlv(der).ok_or(KeyProblem::Malformed)?;
    if seq.tag != SEQUENCE {
        return Err(KeyProblem::Malformed);
    }
    let (version, rest) = read_tlv(seq.content).ok_or(KeyProblem::Malformed)?;
    let (alg, rest) = read_tlv(rest).ok_or(KeyProblem::Malformed)?;
    let (key, _) = read_tlv(rest).ok_or(KeyProblem::Malformed)?;
    if version.tag != INTEGER || alg.tag != SEQUENCE || key.tag != OCTET_STRING {
        return Err(KeyProblem::Malformed);
    }
    let (oid, _) = read_tlv(alg.content).ok_or(KeyProblem::Malformed)?;
    if oid.tag != OID {
        return Err(KeyProblem::Malformed);
    }
    match oid.content {
        OID_RSA => rsa_from_pkcs1(key.content),
        other => Err(KeyProblem::NotRsa(algorithm_name(other))),
    }
}

/// A readable name for a key algorithm OID.
pub(super) fn algorithm_name(oid: &[u8]) -> String {
    match oid {
        OID_RSA => "an RSA key".into(),
        OID_RSA_PSS => "an RSASSA-PSS-only key".into(),
        OID_EC => "an EC (ECDSA) key".into(),
        OID_ED25519 => "an Ed25519 key".into(),
        OID_ED448 => "an Ed448 key".into(),
        OID_DSA => "a DSA key".into(),
        other => format!("a key of algorithm OID {}", hex::encode(other)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pem_blocks_reads_labels_crlf_and_the_encrypted_header() {
        let text = "junk before\r\n-----BEGIN CERTIFICATE-----\r\nAQID\r\n-----END CERTIFICATE-----\r\n\
                    -----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,00\n\nBAUG\n-----END RSA PRIVATE KEY-----\n";
        let blocks = pem_blocks(text).expect("parses");
        assert_eq!(blocks.len(), 2);
        assert_eq!(blocks[0].label, "CERTIFICATE");
        assert_eq!(blocks[0].der, vec![1, 2, 3]);
        assert!(!blocks[0].encrypted);
        assert_eq!(blocks[1].label, "RSA PRIVATE KEY");
        assert!(blocks[1].encrypted);
        assert!(pem_blocks("-----BEGIN X-----\nAQID\n").is_err());
        assert!(pem_blocks("-----BEGIN X-----\n!!!\n-----END X-----\n").is_err());
        assert!(pem_blocks("no blocks").expect("ok").is_empty());
    }

    #[test]
    fn read_tlv_handles_long_lengths_and_truncation() {
        let mut der = vec![0x04, 0x81, 0x80];
        der.extend(std::iter::repeat_n(7u8, 0x80));
        let (tlv, rest) = read_tlv(&der).expect("long form");
        assert_eq!((tlv.tag, tlv.content.len(), rest.len()), (0x04, 0x80, 0));
        assert!(read_tlv(&der[..10]).is_none());
        assert!(read_tlv(&[]).is_none());
        assert_eq!(unsigned(&[0, 0, 0x80]), &[0x80]);
        assert_eq!(unsigned(&[0]), &[0]);
    }

    #[test]
    fn pkcs8_of_another_algorithm_is_named() {
        // PrivateKeyInfo { 0, { id-ecPublicKey }, OCTET STRING {} }
        let der = [
            0x30, 0x10, 0x02, 0x01, 0x00, 0x30, 0x09, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d,
            0x02, 0x01, 0x04, 0x00,
        ];
        assert_eq!(
            rsa_from_pkcs8(&der).err(),
            Some(KeyProblem::NotRsa("an EC (ECDSA) key".into()))
        );
        assert_eq!(
            rsa_from_pkcs8(b"garbage").err(),
            Some(KeyProblem::Malformed)
        );
    }
}
