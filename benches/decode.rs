//! Decoding a realistic Entra v2 app-only access token (header + payload + typed claims).

use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;
use tokenscope::jwt::{b64url, decode};

fn entra_v2_token() -> String {
    let header = r#"{"typ":"JWT","alg":"RS256","kid":"JDNa_4i4r7FgigL3sHIlI3xV-IU"}"#;
    let payload = r#"{"aud":"6e74172b-be56-4843-9ff4-e66a39bb12e3","iss":"https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47/v2.0","iat":1764266400,"nbf":1764266400,"exp":1764270900,"aio":"k2BgYGiZrH3lN7Lh3u0+fWoKkw8HAA==","azp":"c44b4083-3bb0-49c1-b47d-974e53cbdf3c","azpacr":"1","idtyp":"app","oid":"3f5a2b64-0d9e-4a35-8f7d-5c2a1e6b9d10","rh":"1.AXwAv4j5cvGGr0GRqy180BHbRysXdG5WvkNIn_TmajmWEuN8AAB8AA.","roles":["Weather.Read","Weather.Write"],"sub":"3f5a2b64-0d9e-4a35-8f7d-5c2a1e6b9d10","tid":"72f988bf-86f1-41af-91ab-2d7cd011db47","uti":"Q2lFbUxpNW9kVUNxR3dQY0FBQUFBQQ","ver":"2.0","xms_ftd":"ZXVyb3BlLW5vcnRoLWRzbXM","xms_idrel":"7 12"}"#;
    let sig = vec![0x5au8; 256]; // RS256 signatures are 256 bytes
    format!(
        "{}.{}.{}",
        b64url(header.as_bytes()),
        b64url(payload.as_bytes()),
        b64url(&sig)
    )
}

fn bench(c: &mut Criterion) {
    let token = entra_v2_token();
    assert!(decode(&token).is_ok());
    c.bench_function("decode_entra_v2_app_token", |b| {
        b.iter(|| decode(black_box(&token)))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
