//! Certificate and federated-token credentials: loading every supported shape, the
//! assertion's header and claims (verified with the certificate's public key), reuse, and
//! every error, none of which may carry key material or a password.

use std::path::Path;
use std::sync::OnceLock;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use sha2::{Digest, Sha256};

use super::parse::{pem_encode, read_tlv};
use super::*;
use crate::problem::{Problem, assert_keeps_convention};

/// An RSA key and a certificate for it, in every encoding the tests write.
struct Generated {
    cert_der: Vec<u8>,
    cert_pem: String,
    key_pkcs8_der: Vec<u8>,
    key_pkcs8_pem: String,
    key_pkcs1_pem: String,
    /// PKCS#1 `RSAPublicKey` DER (from rcgen, not from the code under test).
    public_pkcs1: Vec<u8>,
}

fn params(cn: &str, from_year: i32, to_year: i32) -> rcgen::CertificateParams {
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("params");
    params.distinguished_name = rcgen::DistinguishedName::new();
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, cn);
    params.not_before = rcgen::date_time_ymd(from_year, 1, 1);
    params.not_after = rcgen::date_time_ymd(to_year, 1, 1);
    params
}

fn rsa_key() -> rcgen::KeyPair {
    rcgen::KeyPair::generate_rsa_for(&rcgen::PKCS_RSA_SHA256, rcgen::RsaKeySize::_2048)
        .expect("RSA key")
}

fn pkcs1_of(pkcs8: &[u8]) -> Vec<u8> {
    // PrivateKeyInfo { version, algorithm, OCTET STRING { RSAPrivateKey } }
    let (seq, _) = read_tlv(pkcs8).expect("sequence");
    let (_, rest) = read_tlv(seq.content).expect("version");
    let (_, rest) = read_tlv(rest).expect("algorithm");
    let (octets, _) = read_tlv(rest).expect("key");
    octets.content.to_vec()
}

fn generated(key: &rcgen::KeyPair, cert: &rcgen::Certificate) -> Generated {
    let key_pkcs8_der = key.serialize_der();
    Generated {
        cert_der: cert.der().to_vec(),
        cert_pem: cert.pem(),
        key_pkcs8_pem: key.serialize_pem(),
        key_pkcs1_pem: pem_encode("RSA PRIVATE KEY", &pkcs1_of(&key_pkcs8_der)),
        key_pkcs8_der,
        public_pkcs1: key.public_key_raw().to_vec(),
    }
}

fn self_signed(cn: &str, from_year: i32, to_year: i32) -> Generated {
    let key = rsa_key();
    let cert = params(cn, from_year, to_year)
        .self_signed(&key)
        .expect("self-signed");
    generated(&key, &cert)
}

/// The main test certificate (generated once; RSA key generation is the slow part).
fn primary() -> &'static Generated {
    static CELL: OnceLock<Generated> = OnceLock::new();
    CELL.get_or_init(|| self_signed("console-cert", 2020, 2090))
}

/// Another certificate, for the mismatched-key case.
fn other() -> &'static Generated {
    static CELL: OnceLock<Generated> = OnceLock::new();
    CELL.get_or_init(|| self_signed("someone-else", 2020, 2090))
}

/// A leaf issued by a CA: (leaf, CA certificate DER/PEM).
fn chained() -> &'static (Generated, Vec<u8>, String) {
    static CELL: OnceLock<(Generated, Vec<u8>, String)> = OnceLock::new();
    CELL.get_or_init(|| {
        let ca_key = rsa_key();
        let mut ca_params = params("tokenscope test CA", 2020, 2090);
        ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        let ca_cert = ca_params.self_signed(&ca_key).expect("CA");
        let issuer = rcgen::Issuer::new(ca_params, &ca_key);
        let leaf_key = rsa_key();
        let leaf = params("chained-leaf", 2020, 2090)
            .signed_by(&leaf_key, &issuer)
            .expect("leaf");
        (
            generated(&leaf_key, &leaf),
            ca_cert.der().to_vec(),
            ca_cert.pem(),
        )
    })
}

fn write(dir: &Path, name: &str, content: impl AsRef<[u8]>) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, content).expect("write");
    path
}

fn pkcs12(key_pkcs8: &[u8], certs: &[&[u8]], password: &str) -> Vec<u8> {
    use p12_keystore::{Certificate, KeyStore, KeyStoreEntry, PrivateKey, PrivateKeyChain};
    let chain = PrivateKeyChain::new(
        b"tokenscope-test".as_slice(),
        PrivateKey::from_der(key_pkcs8).expect("PKCS#8"),
        certs
            .iter()
            .map(|der| Certificate::from_der(der).expect("cert"))
            .collect::<Vec<_>>(),
    );
    let mut store = KeyStore::new();
    store.add_entry("console-cert", KeyStoreEntry::PrivateKeyChain(chain));
    store.writer(password).write().expect("PKCS#12")
}

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2030, 6, 1, 12, 0, 0).unwrap()
}

const CLIENT: &str = "11111111-2222-3333-4444-555555555555";
const AUDIENCE: &str = "https://login.example/tenant/oauth2/v2.0/token";

/// Verifies the signature with the generated public key and returns (header, claims).
fn verify(
    jwt: &str,
    public_pkcs1: &[u8],
    alg: Algorithm,
) -> (jsonwebtoken::Header, serde_json::Value) {
    let mut validation = Validation::new(alg);
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.required_spec_claims.clear();
    validation.set_audience(&[AUDIENCE]);
    validation.set_issuer(&[CLIENT]);
    let data = jsonwebtoken::decode::<serde_json::Value>(
        jwt,
        &DecodingKey::from_rsa_der(public_pkcs1),
        &validation,
    )
    .expect("the assertion verifies with the certificate's public key");
    (data.header, data.claims)
}

/// A line from the middle of a PEM body: if an error text contained the key, it would
/// contain this.
fn key_canaries(g: &Generated) -> Vec<String> {
    [&g.key_pkcs8_pem, &g.key_pkcs1_pem]
        .iter()
        .map(|pem| pem.lines().nth(3).expect("a body line").to_string())
        .collect()
}

fn assert_clean(text: &str, canaries: &[&str]) {
    for c in canaries {
        assert!(!text.contains(c), "secret material in: {text}");
    }
}

// ---- loading ----------------------------------------------------------------------------

#[test]
fn combined_pem_with_pkcs8_key_loads_with_independently_computed_info() {
    let g = primary();
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        dir.path(),
        "cert.pem",
        format!("{}{}", g.cert_pem, g.key_pkcs8_pem),
    );
    let cert = ClientCertificate::load(&path, None, None).expect("loads");
    let info = cert.info();
    assert_eq!(info.path, path);
    assert_eq!(info.format, CertFormat::Pem);
    assert_eq!(info.subject, "CN=console-cert");
    assert_eq!(info.issuer, "CN=console-cert");
    let sha1 = sha1(&g.cert_der);
    assert_eq!(info.thumbprint, hex::encode(sha1).to_uppercase());
    assert_eq!(info.thumbprint.len(), 40);
    assert_eq!(info.x5t, URL_SAFE_NO_PAD.encode(sha1));
    assert_eq!(
        info.x5t_s256,
        URL_SAFE_NO_PAD.encode(Sha256::digest(&g.cert_der))
    );
    assert_eq!(
        info.not_before,
        Utc.with_ymd_and_hms(2020, 1, 1, 0, 0, 0).unwrap()
    );
    assert_eq!(
        info.not_after,
        Utc.with_ymd_and_hms(2090, 1, 1, 0, 0, 0).unwrap()
    );
}

#[test]
fn pkcs1_key_first_then_certificate_loads() {
    let g = primary();
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        dir.path(),
        "both.pem",
        format!("{}\n{}", g.key_pkcs1_pem, g.cert_pem).replace('\n', "\r\n"),
    );
    let cert = ClientCertificate::load(&path, None, None).expect("loads");
    assert_eq!(cert.info().subject, "CN=console-cert");
}

#[test]
fn split_pem_loads_with_pkcs1_and_pkcs8_keys() {
    let g = primary();
    let dir = tempfile::tempdir().unwrap();
    let cert_path = write(dir.path(), "cert.pem", &g.cert_pem);
    for (name, key) in [("k1.pem", &g.key_pkcs1_pem), ("k8.pem", &g.key_pkcs8_pem)] {
        let key_path = write(dir.path(), name, key);
        let cert = ClientCertificate::load(&cert_path, Some(&key_path), None).expect(name);
        assert_eq!(cert.info().format, CertFormat::Pem);
        let jwt = cert
            .assertion(CLIENT, AUDIENCE, AssertionAlg::Ps256, false, Utc::now())
            .expect("signs");
        verify(jwt.expose(), &g.public_pkcs1, Algorithm::PS256);
    }
}

#[test]
fn pkcs12_with_password_loads_detected_by_content_not_extension() {
    let g = primary();
    let dir = tempfile::tempdir().unwrap();
    // A misleading extension: PKCS#12 is recognised by its content.
    let path = write(
        dir.path(),
        "cert.pem",
        pkcs12(&g.key_pkcs8_der, &[&g.cert_der], "pfx-pass-canary"),
    );
    let pw = ClientSecret::new("pfx-pass-canary");
    let cert = ClientCertificate::load(&path, None, Some(&pw)).expect("loads");
    assert_eq!(cert.info().format, CertFormat::Pkcs12);
    assert_eq!(cert.info().subject, "CN=console-cert");
    assert_eq!(cert.info().thumbprint, hex::encode_upper(sha1(&g.cert_der)));
    let jwt = cert
        .assertion(CLIENT, AUDIENCE, AssertionAlg::Rs256, false, Utc::now())
        .expect("signs");
    verify(jwt.expose(), &g.public_pkcs1, Algorithm::RS256);
}

#[test]
fn base64_text_of_a_pkcs12_loads_as_pkcs12() {
    let g = primary();
    let dir = tempfile::tempdir().unwrap();
    let der = pkcs12(&g.key_pkcs8_der, &[&g.cert_der], "pw");
    let b64 = STANDARD.encode(der);
    let wrapped: Vec<&str> = b64
        .as_bytes()
        .chunks(76)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect();
    let path = write(dir.path(), "kv-secret.txt", wrapped.join("\n") + "\n");
    let cert = ClientCertificate::load(&path, None, Some(&ClientSecret::new("pw"))).expect("loads");
    assert_eq!(cert.info().format, CertFormat::Pkcs12);
    assert_eq!(cert.chain_len(), 1);
}

#[test]
fn pkcs12_without_password_loads_with_none() {
    let g = primary();
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        dir.path(),
        "cert.pfx",
        pkcs12(&g.key_pkcs8_der, &[&g.cert_der], ""),
    );
    let cert = ClientCertificate::load(&path, None, None).expect("loads");
    assert_eq!(cert.info().format, CertFormat::Pkcs12);
}

#[test]
fn chain_in_pem_and_pkcs12_is_sent_leaf_first_only_with_send_chain() {
    let (leaf, ca_der, ca_pem) = chained();
    let dir = tempfile::tempdir().unwrap();
    // The CA comes first in the file: the leaf is the certificate that matches the key.
    let pem = write(
        dir.path(),
        "chain.pem",
        format!("{ca_pem}{}{}", leaf.cert_pem, leaf.key_pkcs8_pem),
    );
    let pfx = write(
        dir.path(),
        "chain.pfx",
        pkcs12(&leaf.key_pkcs8_der, &[&leaf.cert_der, ca_der], "pw"),
    );
    let pw = ClientSecret::new("pw");
    for (path, password) in [(&pem, None), (&pfx, Some(&pw))] {
        let cert = ClientCertificate::load(path, None, password).expect("loads");
        assert_eq!(cert.chain_len(), 2);
        assert_eq!(cert.info().subject, "CN=chained-leaf");
        assert_eq!(cert.info().issuer, "CN=tokenscope test CA");
        let jwt = cert
            .assertion(CLIENT, AUDIENCE, AssertionAlg::Ps256, true, Utc::now())
            .expect("signs");
        let (header, _) = verify(jwt.expose(), &leaf.public_pkcs1, Algorithm::PS256);
        let x5c = header.x5c.expect("x5c with send_chain");
        assert_eq!(
            x5c,
            vec![STANDARD.encode(&leaf.cert_der), STANDARD.encode(ca_der)],
            "{}",
            path.display()
        );
        let jwt = cert
            .assertion(CLIENT, AUDIENCE, AssertionAlg::Ps256, false, Utc::now())
            .expect("signs");
        assert!(
            jsonwebtoken::decode_header(jwt.expose())
                .unwrap()
                .x5c
                .is_none()
        );
    }
}

#[test]
fn expired_and_not_yet_valid_certificates_load_and_expose_their_dates() {
    let dir = tempfile::tempdir().unwrap();
    for (name, from, to) in [("expired", 2001, 2002), ("future", 2080, 2090)] {
        let g = self_signed(name, from, to);
        let path = write(
            dir.path(),
            name,
            format!("{}{}", g.cert_pem, g.key_pkcs8_pem),
        );
        let cert = ClientCertificate::load(&path, None, None).expect("dates are not a load error");
        assert_eq!(
            cert.info().not_before.format("%Y").to_string(),
            from.to_string()
        );
        assert_eq!(
            cert.info().not_after.format("%Y").to_string(),
            to.to_string()
        );
    }
}

// ---- the assertion ----------------------------------------------------------------------

#[test]
fn ps256_assertion_has_x5t_s256_header_and_the_entra_claims() {
    let g = primary();
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        dir.path(),
        "c.pem",
        format!("{}{}", g.cert_pem, g.key_pkcs8_pem),
    );
    let cert = ClientCertificate::load(&path, None, None).unwrap();
    let at = Utc::now();
    let jwt = cert
        .assertion(CLIENT, AUDIENCE, AssertionAlg::Ps256, false, at)
        .unwrap();
    let (header, claims) = verify(jwt.expose(), &g.public_pkcs1, Algorithm::PS256);
    assert_eq!(header.alg, Algorithm::PS256);
    assert_eq!(header.typ.as_deref(), Some("JWT"));
    assert_eq!(
        header.x5t_s256.as_deref(),
        Some(URL_SAFE_NO_PAD.encode(Sha256::digest(&g.cert_der)).as_str())
    );
    assert!(header.x5t.is_none());
    assert!(header.x5c.is_none());
    assert_eq!(claims["aud"], AUDIENCE);
    assert_eq!(claims["iss"], CLIENT);
    assert_eq!(claims["sub"], CLIENT);
    let jti = claims["jti"].as_str().expect("jti");
    assert_eq!(uuid::Uuid::parse_str(jti).unwrap().get_version_num(), 4);
    assert_eq!(claims["iat"], at.timestamp());
    assert_eq!(claims["nbf"], at.timestamp());
    assert_eq!(claims["exp"], at.timestamp() + 600);
    // Both PS256 and RS256 must not verify under the other algorithm.
    let mut v = Validation::new(Algorithm::RS256);
    v.validate_aud = false;
    assert!(
        jsonwebtoken::decode::<serde_json::Value>(
            jwt.expose(),
            &DecodingKey::from_rsa_der(&g.public_pkcs1),
            &v
        )
        .is_err()
    );
}

#[test]
fn rs256_assertion_has_x5t_sha1_header() {
    let g = primary();
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        dir.path(),
        "c.pem",
        format!("{}{}", g.cert_pem, g.key_pkcs1_pem),
    );
    let cert = ClientCertificate::load(&path, None, None).unwrap();
    let jwt = cert
        .assertion(CLIENT, AUDIENCE, AssertionAlg::Rs256, true, Utc::now())
        .unwrap();
    let (header, claims) = verify(jwt.expose(), &g.public_pkcs1, Algorithm::RS256);
    assert_eq!(header.typ.as_deref(), Some("JWT"));
    assert_eq!(
        header.x5t.as_deref(),
        Some(URL_SAFE_NO_PAD.encode(sha1(&g.cert_der)).as_str())
    );
    assert!(header.x5t_s256.is_none());
    assert_eq!(header.x5c, Some(vec![STANDARD.encode(&g.cert_der)]));
    assert_eq!(claims["sub"], CLIENT);
}

#[test]
fn assertion_is_reused_until_sixty_seconds_before_exp_and_per_parameters() {
    let g = primary();
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        dir.path(),
        "c.pem",
        format!("{}{}", g.cert_pem, g.key_pkcs8_pem),
    );
    let cert = ClientCertificate::load(&path, None, None).unwrap();
    let t0 = now();
    let sign = |at: DateTime<Utc>| {
        cert.assertion(CLIENT, AUDIENCE, AssertionAlg::Ps256, false, at)
            .unwrap()
            .expose()
            .to_string()
    };
    let first = sign(t0);
    assert_eq!(sign(t0 + TimeDelta::seconds(30)), first);
    assert_eq!(
        sign(t0 + TimeDelta::seconds(539)),
        first,
        "exp-61 s: still kept"
    );
    let renewed = sign(t0 + TimeDelta::seconds(540));
    assert_ne!(renewed, first, "exp-60 s: signed anew");
    let claims: serde_json::Value = serde_json::from_slice(
        &URL_SAFE_NO_PAD
            .decode(renewed.split('.').nth(1).unwrap())
            .unwrap(),
    )
    .unwrap();
    assert_eq!(claims["iat"], (t0 + TimeDelta::seconds(540)).timestamp());

    // A different audience, client, algorithm or chain choice is signed anew.
    let t1 = t0 + TimeDelta::seconds(541);
    for jwt in [
        cert.assertion(
            CLIENT,
            "https://other/token",
            AssertionAlg::Ps256,
            false,
            t1,
        ),
        cert.assertion("other-client", AUDIENCE, AssertionAlg::Ps256, false, t1),
        cert.assertion(CLIENT, AUDIENCE, AssertionAlg::Rs256, false, t1),
        cert.assertion(CLIENT, AUDIENCE, AssertionAlg::Ps256, true, t1),
    ] {
        assert_ne!(jwt.unwrap().expose(), renewed);
    }
    // A clock that went backwards does not get an assertion from its future.
    let back = sign(t0 - TimeDelta::seconds(5));
    assert_ne!(back, renewed);
}

// ---- errors -----------------------------------------------------------------------------

fn load_err(cert: &Path, key: Option<&Path>, pw: Option<&str>) -> CertificateError {
    let pw = pw.map(ClientSecret::new);
    ClientCertificate::load(cert, key, pw.as_ref()).expect_err("must fail")
}

/// The whole text a user reads; the error must carry a hint, as data.
fn hint_of(e: &CertificateError) -> String {
    assert_keeps_convention(e);
    assert!(e.hint().is_some(), "no hint: {e}");
    e.full_text()
}

#[test]
fn wrong_and_missing_pkcs12_password_name_the_setting() {
    let g = primary();
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        dir.path(),
        "c.pfx",
        pkcs12(&g.key_pkcs8_der, &[&g.cert_der], "right-canary-pw"),
    );
    let wrong = load_err(&path, None, Some("wrong-canary-pw"));
    assert!(
        matches!(wrong, CertificateError::Pkcs12Password { given: true, .. }),
        "{wrong:?}"
    );
    let text = hint_of(&wrong);
    assert!(text.contains("wrong"), "{text}");
    assert!(text.contains("AZURE_CLIENT_CERTIFICATE_PASSWORD"), "{text}");
    assert!(text.contains("client_certificate_password_env"), "{text}");
    let missing = load_err(&path, None, None);
    assert!(
        matches!(
            missing,
            CertificateError::Pkcs12Password { given: false, .. }
        ),
        "{missing:?}"
    );
    assert!(hint_of(&missing).contains("no password was given"));
    for e in [&wrong, &missing] {
        for text in [e.full_text(), format!("{e:?}")] {
            assert_clean(&text, &["right-canary-pw", "wrong-canary-pw"]);
        }
    }
}

#[test]
fn ec_key_is_refused_as_not_rsa() {
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let cert = params("ec-cert", 2020, 2090).self_signed(&key).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let combined = write(
        dir.path(),
        "ec.pem",
        format!("{}{}", cert.pem(), key.serialize_pem()),
    );
    let e = load_err(&combined, None, None);
    assert!(
        matches!(&e, CertificateError::NotRsa { algorithm, .. } if algorithm.contains("EC")),
        "{e:?}"
    );
    assert!(hint_of(&e).contains("RSA"));
    // In a PKCS#12 too.
    let pfx = write(
        dir.path(),
        "ec.pfx",
        pkcs12(&key.serialize_der(), &[cert.der()], "pw"),
    );
    let e = load_err(&pfx, None, Some("pw"));
    assert!(matches!(e, CertificateError::NotRsa { .. }), "{e:?}");
    // An EC certificate with someone's RSA key: the certificate is named.
    let rsa = primary();
    let mixed = write(dir.path(), "k.pem", &rsa.key_pkcs8_pem);
    let cert_only = write(dir.path(), "ec-cert.pem", cert.pem());
    let e = load_err(&cert_only, Some(&mixed), None);
    assert!(
        matches!(e, CertificateError::NotRsa { what, .. } if what.contains("certificate")),
        "{e:?}"
    );
    assert_clean(
        &e.full_text(),
        &key_canaries(rsa)
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>(),
    );
}

#[test]
fn mismatched_key_is_refused_in_pem_and_split_files() {
    let (g, o) = (primary(), other());
    let dir = tempfile::tempdir().unwrap();
    let combined = write(
        dir.path(),
        "m.pem",
        format!("{}{}", g.cert_pem, o.key_pkcs8_pem),
    );
    let e = load_err(&combined, None, None);
    assert!(matches!(e, CertificateError::KeyMismatch { .. }), "{e:?}");
    assert!(hint_of(&e).contains("does not match"));
    let cert = write(dir.path(), "c.pem", &g.cert_pem);
    let key = write(dir.path(), "k.pem", &o.key_pkcs1_pem);
    let e = load_err(&cert, Some(&key), None);
    assert!(
        matches!(&e, CertificateError::KeyMismatch { key_path, .. } if key_path == &key),
        "{e:?}"
    );
    let canaries = key_canaries(o);
    let canaries: Vec<&str> = canaries.iter().map(String::as_str).collect();
    assert_clean(&e.full_text(), &canaries);
    assert_clean(&format!("{e:?}"), &canaries);
}

#[test]
fn certificate_without_key_says_where_to_put_the_key() {
    let g = primary();
    let dir = tempfile::tempdir().unwrap();
    let cert = write(dir.path(), "c.pem", &g.cert_pem);
    let e = load_err(&cert, None, None);
    assert!(matches!(e, CertificateError::NoPrivateKey { .. }), "{e:?}");
    let text = hint_of(&e);
    assert!(text.contains("client_certificate_key_path"), "{text}");
    // A key file without a key.
    let e = load_err(&cert, Some(&cert), None);
    assert!(matches!(e, CertificateError::NoPrivateKey { .. }), "{e:?}");
    // A DER certificate (binary, but not PKCS#12).
    let der = write(dir.path(), "c.cer", &g.cert_der);
    let e = load_err(&der, None, None);
    assert!(matches!(e, CertificateError::NoPrivateKey { .. }), "{e:?}");
    assert!(hint_of(&e).contains("openssl x509 -inform der"));
}

#[test]
fn key_only_garbage_empty_and_missing_files_are_explained() {
    let g = primary();
    let dir = tempfile::tempdir().unwrap();
    let key_only = write(dir.path(), "k.pem", &g.key_pkcs8_pem);
    let e = load_err(&key_only, None, None);
    assert!(matches!(e, CertificateError::NoCertificate { .. }), "{e:?}");
    assert!(hint_of(&e).contains("only a private key"));
    let canaries = key_canaries(g);
    let canaries: Vec<&str> = canaries.iter().map(String::as_str).collect();
    assert_clean(&e.full_text(), &canaries);

    let garbage = write(dir.path(), "g.pem", "this is not a certificate\n");
    let e = load_err(&garbage, None, None);
    assert!(matches!(e, CertificateError::NoCertificate { .. }), "{e:?}");
    hint_of(&e);
    let binary = write(dir.path(), "g.pfx", [0x30u8, 0x03, 0x02, 0x01, 0x07, 0xff]);
    let e = load_err(&binary, None, Some("pw"));
    assert!(matches!(e, CertificateError::NoCertificate { .. }), "{e:?}");
    let empty = write(dir.path(), "e.pem", "");
    let e = load_err(&empty, None, None);
    assert!(hint_of(&e).contains("empty"), "{e}");
    let bad_b64 = write(
        dir.path(),
        "b.pem",
        "-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n",
    );
    let e = load_err(&bad_b64, None, None);
    assert!(matches!(e, CertificateError::Malformed { .. }), "{e:?}");

    let missing = dir.path().join("nope.pem");
    let e = load_err(&missing, None, None);
    assert!(
        matches!(
            e,
            CertificateError::Unreadable {
                what: "certificate",
                ..
            }
        ),
        "{e:?}"
    );
    assert!(hint_of(&e).contains("client_certificate_path"));
    let cert = write(dir.path(), "c.pem", &g.cert_pem);
    let e = load_err(&cert, Some(&missing), None);
    assert!(
        matches!(
            e,
            CertificateError::Unreadable {
                what: "private key",
                ..
            }
        ),
        "{e:?}"
    );
    assert!(hint_of(&e).contains("client_certificate_key_path"));
}

#[test]
fn encrypted_pem_keys_get_the_conversion_hint() {
    let g = primary();
    let dir = tempfile::tempdir().unwrap();
    let pkcs8_encrypted = pem_encode("ENCRYPTED PRIVATE KEY", &[0x30, 0x00]);
    let legacy = "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: \
                  AES-256-CBC,0011\n\nAAAA\n-----END RSA PRIVATE KEY-----\n";
    for (name, key) in [("p8.pem", pkcs8_encrypted.as_str()), ("legacy.pem", legacy)] {
        let path = write(dir.path(), name, format!("{}{key}", g.cert_pem));
        let e = load_err(&path, None, Some("irrelevant-canary"));
        assert!(matches!(e, CertificateError::EncryptedKey { .. }), "{e:?}");
        let text = hint_of(&e);
        assert!(text.contains("openssl pkcs8 -topk8 -nocrypt"), "{text}");
        assert!(text.contains("PKCS#12"), "{text}");
        assert_clean(&text, &["irrelevant-canary"]);
    }
}

#[test]
fn pkcs12_with_a_key_path_too_is_ambiguous() {
    let g = primary();
    let dir = tempfile::tempdir().unwrap();
    let pfx = write(
        dir.path(),
        "c.pfx",
        pkcs12(&g.key_pkcs8_der, &[&g.cert_der], "pw"),
    );
    let key = write(dir.path(), "k.pem", &g.key_pkcs8_pem);
    let e = load_err(&pfx, Some(&key), Some("pw"));
    assert!(
        hint_of(&e).contains("remove client_certificate_key_path"),
        "{e}"
    );
}

#[test]
fn debug_of_a_loaded_certificate_and_its_assertion_show_no_secrets() {
    let g = primary();
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        dir.path(),
        "c.pem",
        format!("{}{}", g.cert_pem, g.key_pkcs8_pem),
    );
    let cert = ClientCertificate::load(&path, None, None).unwrap();
    let jwt = cert
        .assertion(CLIENT, AUDIENCE, AssertionAlg::Ps256, true, Utc::now())
        .unwrap();
    let debug = format!("{cert:?} {jwt:?} {jwt}");
    let canaries = key_canaries(g);
    let mut canaries: Vec<&str> = canaries.iter().map(String::as_str).collect();
    canaries.push(jwt.expose());
    canaries.push(jwt.expose().split('.').nth(2).unwrap());
    assert_clean(&debug, &canaries);
    assert!(debug.contains("console-cert"), "{debug}");
}

/// `openssl` interop, when the tool is installed: a PKCS#12 exported by OpenSSL 3 (AES,
/// PBKDF2) and its SHA-1 fingerprint, computed by OpenSSL.
#[test]
fn openssl_exported_pkcs12_and_fingerprint_agree() {
    let Ok(version) = std::process::Command::new("openssl")
        .arg("version")
        .output()
    else {
        // .ci/run installs openssl, so in CI a missing tool is a failure, not a skip.
        assert!(
            std::env::var_os("CI").is_none(),
            "openssl is not installed (.ci/run should have installed it)"
        );
        eprintln!("openssl not installed; skipped");
        return;
    };
    if !version.status.success() {
        return;
    }
    let g = primary();
    let dir = tempfile::tempdir().unwrap();
    let cert = write(dir.path(), "c.pem", &g.cert_pem);
    let key = write(dir.path(), "k.pem", &g.key_pkcs8_pem);
    let pfx = dir.path().join("c.pfx");
    let out = std::process::Command::new("openssl")
        .args(["pkcs12", "-export", "-passout", "pass:ossl-pw", "-in"])
        .arg(&cert)
        .arg("-inkey")
        .arg(&key)
        .arg("-out")
        .arg(&pfx)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let loaded = ClientCertificate::load(&pfx, None, Some(&ClientSecret::new("ossl-pw")))
        .expect("an OpenSSL PKCS#12 loads");
    let fp = std::process::Command::new("openssl")
        .args(["x509", "-noout", "-fingerprint", "-sha1", "-in"])
        .arg(&cert)
        .output()
        .unwrap();
    let fp = String::from_utf8_lossy(&fp.stdout);
    let fp: String = fp
        .split('=')
        .nth(1)
        .unwrap_or_default()
        .trim()
        .replace(':', "");
    assert_eq!(loaded.info().thumbprint, fp);
    // An encrypted PKCS#8 key written by OpenSSL gets the conversion hint.
    let enc = dir.path().join("enc.pem");
    let out = std::process::Command::new("openssl")
        .args(["pkcs8", "-topk8", "-passout", "pass:ossl-pw", "-in"])
        .arg(&key)
        .arg("-out")
        .arg(&enc)
        .output()
        .unwrap();
    assert!(out.status.success());
    let e = load_err(&cert, Some(&enc), None);
    assert!(matches!(e, CertificateError::EncryptedKey { .. }), "{e:?}");
}

// ---- federated token --------------------------------------------------------------------

#[test]
fn federated_token_is_trimmed_kept_and_reread_after_ten_minutes() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "token", "  eyJ.first.canary \n");
    let token = FederatedToken::new(path.clone());
    assert_eq!(token.path(), path);
    let t0 = now();
    assert_eq!(token.assertion(t0).unwrap().expose(), "eyJ.first.canary");
    assert_eq!(token.read_at(), Some(t0));
    std::fs::write(&path, "eyJ.second.canary\n").unwrap();
    assert_eq!(
        token
            .assertion(t0 + TimeDelta::seconds(599))
            .unwrap()
            .expose(),
        "eyJ.first.canary",
        "the copy is kept for 10 minutes"
    );
    assert_eq!(
        token
            .assertion(t0 + TimeDelta::seconds(600))
            .unwrap()
            .expose(),
        "eyJ.second.canary",
        "re-read after 10 minutes"
    );
    assert_eq!(token.read_at(), Some(t0 + TimeDelta::seconds(600)));
    assert!(!format!("{token:?}").contains("canary"));
}

#[test]
fn federated_missing_empty_and_vanished_files_are_errors_with_hints() {
    let dir = tempfile::tempdir().unwrap();
    let missing = FederatedToken::new(dir.path().join("absent"));
    let e = missing.assertion(now()).unwrap_err();
    assert!(matches!(e, FederatedError::Unreadable { .. }), "{e:?}");
    assert_keeps_convention(&e);
    let text = e.full_text();
    assert!(text.contains("\nhint: "), "{text}");
    assert!(text.contains("AZURE_FEDERATED_TOKEN_FILE"), "{text}");
    assert!(text.contains("webhook"), "{text}");

    let empty_path = write(dir.path(), "empty", " \n\t");
    let e = FederatedToken::new(empty_path)
        .assertion(now())
        .unwrap_err();
    assert!(matches!(e, FederatedError::Empty { .. }), "{e:?}");
    assert_keeps_convention(&e);
    assert!(e.full_text().contains("\nhint: "));

    let path = write(dir.path(), "token", "eyJ.vanishing.canary");
    let token = FederatedToken::new(path.clone());
    token.assertion(now()).unwrap();
    std::fs::remove_file(&path).unwrap();
    // Within 10 minutes the copy serves; after that a failed re-read is an error.
    token.assertion(now() + TimeDelta::minutes(5)).unwrap();
    let e = token.assertion(now() + TimeDelta::minutes(10)).unwrap_err();
    assert!(matches!(e, FederatedError::Reread { .. }), "{e:?}");
    assert_keeps_convention(&e);
    let text = e.full_text();
    assert!(
        text.contains("re-read") && text.contains("\nhint: "),
        "{text}"
    );
    for t in [text, format!("{e:?}")] {
        assert!(!t.contains("canary"), "{t}");
    }
    // And it stays an error (the old copy is not used) until the file is back.
    assert!(token.assertion(now() + TimeDelta::minutes(11)).is_err());
    std::fs::write(&path, "eyJ.back").unwrap();
    assert_eq!(
        token
            .assertion(now() + TimeDelta::minutes(12))
            .unwrap()
            .expose(),
        "eyJ.back"
    );
}
