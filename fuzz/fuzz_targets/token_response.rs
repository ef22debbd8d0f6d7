//! Token endpoint answers: whatever bytes come back, `auth::request_token` returns a token
//! or a typed error whose text carries no raw control character.
//!
//! The parser (`auth::response::parse`) is private, so each input is served by a loopback
//! server (127.0.0.1, started once) as the body of an HTTP 200/400/429/500 answer. The first
//! input byte picks the status. If the parser is ever made public, call it directly instead:
//! it is ~100x faster.
#![no_main]

use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use libfuzzer_sys::fuzz_target;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

struct Harness {
    rt: tokio::runtime::Runtime,
    next: Arc<Mutex<Vec<u8>>>,
    profile: tokenscope::config::Profile,
    client: reqwest::Client,
}

fn harness() -> &'static Harness {
    static H: OnceLock<Harness> = OnceLock::new();
    H.get_or_init(|| {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let next = Arc::new(Mutex::new(Vec::new()));
        let served = next.clone();
        let addr = rt.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
            let addr = listener.local_addr().expect("addr");
            tokio::spawn(async move {
                while let Ok((mut sock, _)) = listener.accept().await {
                    let response = served.lock().expect("lock").clone();
                    tokio::spawn(async move {
                        let mut buf = vec![0u8; 8192];
                        let mut got = Vec::new();
                        while let Ok(Ok(n)) =
                            tokio::time::timeout(Duration::from_secs(5), sock.read(&mut buf)).await
                        {
                            if n == 0 {
                                break;
                            }
                            got.extend_from_slice(&buf[..n]);
                            // The form body is small: head + body arrive together.
                            if got.windows(4).any(|w| w == b"\r\n\r\n") && got.ends_with(b"default") {
                                break;
                            }
                        }
                        let _ = sock.write_all(&response).await;
                        let _ = sock.shutdown().await;
                    });
                }
            });
            addr
        });
        let text = format!(
            "[profiles.p]\nauthority = \"http://{addr}/tid\"\nclient_id = \"11111111-2222-3333-4444-555555555555\"\nclient_secret = \"fuzz\"\nscope = \"api://api/.default\"\napi_url = \"http://{addr}/{{city}}\"\ntimeout = \"5s\"\n"
        );
        let dir = std::env::temp_dir().join(format!("tokenscope-fuzz-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let path = dir.join("config.toml");
        std::fs::write(&path, text).expect("config");
        let profile = tokenscope::config::load(
            &tokenscope::config::LoadOptions { config: Some(path), profile: None },
            &tokenscope::config::Env::default(),
        )
        .expect("profile");
        let client = tokenscope::http::client(&tokenscope::http::HttpOptions {
            connect_timeout: Duration::from_secs(5),
            timeout: Duration::from_secs(5),
            ca_file: None,
        })
        .expect("client");
        Harness { rt, next, profile, client }
    })
}

fuzz_target!(|data: &[u8]| {
    let h = harness();
    let (status, body) = match data.split_first() {
        Some((s, rest)) => ([200, 400, 401, 429, 500, 503][*s as usize % 6], rest),
        None => (200, data),
    };
    let mut response = format!(
        "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    response.extend_from_slice(body);
    *h.next.lock().expect("lock") = response;
    let result =
        h.rt.block_on(tokenscope::auth::request_token(&h.client, &h.profile));
    if let Err(e) = result {
        let _ = (
            e.short_reason(),
            e.is_transient(),
            e.retry_after(),
            e.aadsts_code(),
        );
        let _ = e.to_string();
    }
});
