//! Client assertions for a certificate credential: loading a PEM certificate + key, signing a
//! fresh PS256 assertion (RSA-2048), and serving the reused one (the common case: an
//! assertion is reused until 60 s before its 10-minute expiry).

use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;
use tokenscope::credential::{AssertionAlg, ClientCertificate};

fn write_cert(dir: &std::path::Path) -> std::path::PathBuf {
    let key = rcgen::KeyPair::generate_rsa_for(&rcgen::PKCS_RSA_SHA256, rcgen::RsaKeySize::_2048)
        .unwrap();
    let mut params = rcgen::CertificateParams::default();
    params.distinguished_name = rcgen::DistinguishedName::new();
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "bench");
    let cert = params.self_signed(&key).unwrap();
    let path = dir.join("bench.pem");
    std::fs::write(&path, format!("{}{}", cert.pem(), key.serialize_pem())).unwrap();
    path
}

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let pem = write_cert(dir.path());
    let endpoint =
        "https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47/oauth2/v2.0/token";
    let client = "c44b4083-3bb0-49c1-b47d-974e53cbdf3c";

    c.bench_function("certificate_load_pem", |b| {
        b.iter(|| ClientCertificate::load(black_box(&pem), None, None).unwrap())
    });

    let cert = ClientCertificate::load(&pem, None, None).unwrap();
    let t0 = chrono::Utc::now();
    let mut step = 0i64;
    c.bench_function("assertion_sign_ps256_fresh", |b| {
        b.iter(|| {
            // A new audience each time defeats reuse: every iteration signs.
            step += 1;
            let aud = format!("{endpoint}?{step}");
            cert.assertion(client, &aud, AssertionAlg::Ps256, false, t0)
                .unwrap()
        })
    });
    c.bench_function("assertion_reused", |b| {
        b.iter(|| {
            cert.assertion(client, black_box(endpoint), AssertionAlg::Ps256, false, t0)
                .unwrap()
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
