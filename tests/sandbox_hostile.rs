//! The sandbox as a server facing hostile clients (issue 15, defect 9): half-sent and silent
//! connections are dropped after the header timeout (plain and TLS), the loopback-only
//! admin routes take exactly one `Host` and only loopback names, Basic credentials plus
//! credentials in the body are `invalid_request` (RFC 6749 §2.3), and the clock offset is
//! bounded with a clear error.

#[path = "fixtures/support.rs"]
mod support;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use support::{http, post_form, within};
use tokenscope::sandbox::{SandboxHandle, SandboxOptions};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const TIMEOUT: Duration = Duration::from_millis(400);

async fn sandbox(tls: bool) -> SandboxHandle {
    support::sandbox(SandboxOptions {
        tls,
        header_timeout: TIMEOUT,
        ..SandboxOptions::default()
    })
    .await
}

/// Write `sent`, then wait for the server to close the connection; how long it took.
async fn closed_after(addr: SocketAddr, sent: &[u8]) -> Duration {
    let mut sock = TcpStream::connect(addr).await.expect("connects");
    sock.write_all(sent).await.expect("written");
    let started = Instant::now();
    let mut buf = [0u8; 1024];
    loop {
        match tokio::time::timeout(Duration::from_secs(10), sock.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return started.elapsed(),
            // A `408` (or TLS alert) before the close is fine; keep reading to the end.
            Ok(Ok(_)) => {}
            Err(_) => panic!("the connection was still open 10 s after {sent:?}"),
        }
    }
}

#[tokio::test]
async fn half_sent_and_silent_connections_are_dropped() {
    for tls in [false, true] {
        let sb = sandbox(tls).await;
        let addr = sb.local_addr();
        let mut partial: Vec<&[u8]> = vec![
            b"",
            b"G",
            b"GET /api/weather/Seattle HTTP/1.1\r\n",
            b"GET /api/weather/Seattle HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: 1",
            b"POST /x/oauth2/v2.0/token HTTP/1.1\r\nHost: 127.0.0.1\r\n",
            // Half of HTTP/2's preface.
            b"PRI * HTTP/2.0\r\n",
        ];
        if tls {
            // Half a TLS ClientHello record header.
            partial = vec![b"", b"\x16\x03\x01"];
        }
        for sent in partial {
            let took = closed_after(addr, sent).await;
            assert!(
                took >= TIMEOUT / 2 && took < TIMEOUT * 10,
                "tls={tls} {sent:?}: closed after {took:?}"
            );
        }
        // A whole request is still answered, and a kept-alive connection that then goes
        // quiet is closed too.
        let mut sock = TcpStream::connect(addr).await.expect("connects");
        if !tls {
            sock.write_all(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
                .await
                .expect("written");
            let mut buf = vec![0u8; 4096];
            let n = sock.read(&mut buf).await.expect("answered");
            assert!(buf[..n].starts_with(b"HTTP/1.1 200"), "{:?}", &buf[..n]);
            let took = closed_after(addr, b"GET / HTTP/1.1\r\n").await;
            assert!(took < TIMEOUT * 10, "{took:?}");
        }
        sb.shutdown().await;
    }
}

/// A raw HTTP/1.1 request with the given header lines; the status code answered.
async fn status_of(addr: SocketAddr, request_line: &str, headers: &[&str]) -> u16 {
    let mut sock = TcpStream::connect(addr).await.expect("connects");
    let mut req = format!("{request_line}\r\n");
    for h in headers {
        req.push_str(h);
        req.push_str("\r\n");
    }
    req.push_str("Connection: close\r\n\r\n");
    sock.write_all(req.as_bytes()).await.expect("written");
    let mut out = Vec::new();
    let _ = within("answer", sock.read_to_end(&mut out)).await;
    let text = String::from_utf8_lossy(&out);
    text.split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status in {text:?}"))
}

#[tokio::test]
async fn admin_routes_take_one_loopback_host() {
    let sb = sandbox(false).await;
    let addr = sb.local_addr();
    let port = addr.port();
    let stats = "GET /_sandbox/stats HTTP/1.1";
    let here = format!("Host: 127.0.0.1:{port}");
    let localhost = format!("Host: localhost:{port}");
    let v6 = format!("Host: [::1]:{port}");
    for ok in [&here, &localhost, &v6] {
        assert_eq!(status_of(addr, stats, &[ok]).await, 200, "{ok}");
    }
    let evil = format!("Host: evil.example:{port}");
    let dotted = format!("Host: localhost.:{port}");
    let sub = format!("Host: a.localhost:{port}");
    for refused in [
        vec![here.as_str(), evil.as_str()],
        vec![evil.as_str(), here.as_str()],
        vec![here.as_str(), here.as_str()],
        vec![here.as_str(), localhost.as_str()],
        vec![evil.as_str()],
        vec![dotted.as_str()],
        vec![sub.as_str()],
        vec!["Host: 127.0.0.1@evil.example"],
    ] {
        assert_eq!(status_of(addr, stats, &refused).await, 403, "{refused:?}");
    }
    // An absolute request URI names the host too: it must be loopback as well.
    let absolute = "GET http://evil.example/_sandbox/stats HTTP/1.1";
    assert_eq!(status_of(addr, absolute, &[&here]).await, 403);
    sb.shutdown().await;
}

#[tokio::test]
async fn basic_credentials_and_body_credentials_do_not_mix() {
    let sb = sandbox(false).await;
    let http = http();
    let rw = sb.client("console-rw").expect("client");
    let ro = sb.client("mobile-ro").expect("client");
    let scope = sb.api_scope();
    let post = |basic: (&str, &str), form: Vec<(&str, &str)>| {
        let req = http
            .post(sb.token_endpoint())
            .basic_auth(basic.0.to_string(), Some(basic.1.to_string()))
            .form(&form);
        async move {
            let resp = within("token request", req.send()).await.expect("sent");
            let status = resp.status();
            let body: serde_json::Value =
                serde_json::from_str(&resp.text().await.expect("body")).expect("JSON");
            (status, body)
        }
    };
    let grant = ("grant_type", "client_credentials");
    let scope_p = ("scope", scope.as_str());
    // (Basic credentials, body parameters besides grant_type and scope)
    type Pairs<'a> = Vec<(&'a str, &'a str)>;
    let mixed: Vec<((&str, &str), Pairs)> = vec![
        // The other client's secret in the body.
        (
            (&rw.client_id, &rw.secret),
            vec![("client_id", &ro.client_id), ("client_secret", &ro.secret)],
        ),
        // Another client named in the body.
        (
            (&rw.client_id, &rw.secret),
            vec![("client_id", &ro.client_id)],
        ),
        // The same client's secret twice: still two methods.
        (
            (&rw.client_id, &rw.secret),
            vec![("client_secret", &rw.secret)],
        ),
        // An assertion besides Basic.
        (
            (&rw.client_id, &rw.secret),
            vec![
                (
                    "client_assertion_type",
                    "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                ),
                ("client_assertion", "eyJhbGciOiJub25lIn0.e30."),
            ],
        ),
        // A wrong Basic secret with the right one in the body is not rescued either.
        (
            (&rw.client_id, "wrong"),
            vec![("client_secret", &rw.secret)],
        ),
    ];
    for (basic, extra) in mixed {
        let mut form = vec![grant, scope_p];
        form.extend(extra.iter().copied());
        let (status, body) = post(basic, form).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{extra:?}: {body}");
        assert_eq!(body["error"], "invalid_request", "{extra:?}: {body}");
        assert_eq!(body["error_codes"][0], 90023, "{body}");
        let desc = body["error_description"].as_str().unwrap_or_default();
        assert!(desc.contains("Basic"), "{desc}");
    }
    // Basic alone, and Basic with the same client_id in the body, still work.
    for extra in [vec![], vec![("client_id", rw.client_id.as_str())]] {
        let mut form = vec![grant, scope_p];
        form.extend(extra.iter().copied());
        let (status, body) = post((&rw.client_id, &rw.secret), form).await;
        assert_eq!(status, StatusCode::OK, "{extra:?}: {body}");
    }
    // Body credentials alone are unchanged.
    let (status, body) = post_form(
        &http,
        &sb.token_endpoint(),
        &[
            grant,
            scope_p,
            ("client_id", &ro.client_id),
            ("client_secret", &ro.secret),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    sb.shutdown().await;
}

/// The sandbox's clock minus this machine's, in whole seconds (a second's slack).
fn offset(sb: &SandboxHandle) -> i64 {
    let secs = (sb.now() - chrono::Utc::now()).num_milliseconds() as f64 / 1000.0;
    secs.round() as i64
}

#[tokio::test]
async fn the_clock_offset_is_bounded() {
    let sb = sandbox(false).await;
    let http = http();
    let url = format!("{}/_sandbox/clock-offset", sb.base_url());
    for far in [
        "+11000y",
        "-11000 years",
        "+3654d",
        "-100y",
        "+18446744073709551615s",
    ] {
        let resp = within("put", http.put(&url).body(far).send())
            .await
            .expect("sent");
        assert_eq!(resp.status(), StatusCode::BAD_REQUEST, "{far}");
        let body: serde_json::Value = resp.json().await.expect("JSON");
        let text = body["error"].as_str().unwrap_or_default();
        assert!(
            text.contains("at most 10 years") && text.contains("hint:"),
            "{far}: {text}"
        );
        assert_eq!(offset(&sb), 0, "{far} changed nothing");
    }
    for (near, secs) in [("+1h", 3600), ("-3650d", -3650 * 86_400), ("0", 0)] {
        let resp = within("put", http.put(&url).body(near).send())
            .await
            .expect("sent");
        assert_eq!(resp.status(), StatusCode::OK, "{near}");
        assert_eq!(offset(&sb), secs, "{near}");
    }
    // The handle clamps what code asks for.
    sb.set_clock_offset(chrono::TimeDelta::days(-400_000));
    assert_eq!(offset(&sb), -3653 * 86_400);
    sb.shutdown().await;
}
