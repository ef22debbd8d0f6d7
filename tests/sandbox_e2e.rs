//! End-to-end tests of the sandbox tenant over real HTTP on 127.0.0.1, with plain reqwest
//! as the client and jsonwebtoken + the sandbox's published JWKS as the independent
//! verifier. Offline; every await is under a timeout.

#[path = "fixtures/support.rs"]
mod support;
use support::{http, post_form, sandbox as start, secret_grant, token_for, within};

use std::collections::HashSet;
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use chrono::{TimeDelta, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use reqwest::StatusCode;
use serde_json::{Value, json};
use tokenscope::sandbox::{
    Endpoint, IssuerStyle, SandboxError, SandboxHandle, SandboxOptions, TokenVersion,
};

async fn json_of(resp: reqwest::Response) -> (StatusCode, reqwest::header::HeaderMap, Value) {
    let status = resp.status();
    let headers = resp.headers().clone();
    let text = within("body", resp.text()).await.expect("body");
    let value = serde_json::from_str(&text).unwrap_or(Value::String(text));
    (status, headers, value)
}

async fn access_token(http: &reqwest::Client, sb: &SandboxHandle, client: &str) -> String {
    let (status, body) = token_for(http, sb, client).await;
    assert_eq!(status, StatusCode::OK, "token for {client}: {body}");
    body["access_token"]
        .as_str()
        .expect("access_token")
        .to_string()
}

async fn get_json(http: &reqwest::Client, url: &str) -> (StatusCode, Value) {
    let resp = within("GET", http.get(url).send()).await.expect("GET sent");
    let (status, _, body) = json_of(resp).await;
    (status, body)
}

async fn jwks(http: &reqwest::Client, sb: &SandboxHandle) -> Vec<Value> {
    let (status, body) = get_json(http, &sb.jwks_uri()).await;
    assert_eq!(status, StatusCode::OK);
    body["keys"].as_array().expect("keys").clone()
}

/// Verifies `token` with jsonwebtoken against the published JWKS, by `kid`.
fn verify(token: &str, keys: &[Value], iss: &str, aud: &str) -> (jsonwebtoken::Header, Value) {
    let header = jsonwebtoken::decode_header(token).expect("JWT header");
    let kid = header.kid.clone().expect("kid");
    let jwk = keys
        .iter()
        .find(|k| k["kid"] == kid.as_str())
        .unwrap_or_else(|| panic!("kid {kid} not in JWKS"));
    let key = DecodingKey::from_rsa_components(
        jwk["n"].as_str().expect("n"),
        jwk["e"].as_str().expect("e"),
    )
    .expect("RSA key from JWKS");
    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_issuer(&[iss]);
    validation.set_audience(&[aud]);
    validation.validate_nbf = true;
    validation.set_required_spec_claims(&["exp", "nbf", "iss", "aud", "sub"]);
    let data = jsonwebtoken::decode::<Value>(token, &key, &validation).expect("token verifies");
    (header, data.claims)
}

fn claim_names(claims: &Value) -> Vec<&str> {
    claims
        .as_object()
        .expect("claims object")
        .keys()
        .map(String::as_str)
        .collect()
}

async fn call_api(
    http: &reqwest::Client,
    sb: &SandboxHandle,
    token: Option<&str>,
    path_and_query: &str,
) -> (StatusCode, reqwest::header::HeaderMap, String) {
    let url = format!("{}/api/weather/{path_and_query}", sb.base_url());
    let mut req = http.get(url);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let resp = within("API call", req.send()).await.expect("API call sent");
    let status = resp.status();
    let headers = resp.headers().clone();
    let body = within("API body", resp.text()).await.expect("API body");
    (status, headers, body)
}

fn www_authenticate(headers: &reqwest::header::HeaderMap) -> String {
    headers
        .get("www-authenticate")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string()
}

fn assert_aadsts(body: &Value, code: u64, error: &str) {
    assert_eq!(body["error"], error, "{body}");
    assert_eq!(body["error_codes"], json!([code]), "{body}");
    let description = body["error_description"].as_str().expect("description");
    assert!(
        description.starts_with(&format!("AADSTS{code}: ")),
        "{description}"
    );
    let trace = body["trace_id"].as_str().expect("trace_id");
    let correlation = body["correlation_id"].as_str().expect("correlation_id");
    let timestamp = body["timestamp"].as_str().expect("timestamp");
    assert!(
        description.ends_with(&format!(
            " Trace ID: {trace} Correlation ID: {correlation} Timestamp: {timestamp}"
        )),
        "{description}"
    );
    assert!(uuid::Uuid::parse_str(trace).is_ok());
    assert!(uuid::Uuid::parse_str(correlation).is_ok());
    assert!(
        chrono::NaiveDateTime::parse_from_str(timestamp, "%Y-%m-%d %H:%M:%SZ").is_ok(),
        "{timestamp}"
    );
    assert!(
        body["error_uri"]
            .as_str()
            .is_some_and(|u| u.ends_with(&format!("/error?code={code}"))),
        "{body}"
    );
    assert_eq!(
        claim_names(body),
        [
            "error",
            "error_description",
            "error_codes",
            "timestamp",
            "trace_id",
            "correlation_id",
            "error_uri"
        ]
    );
}

// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn startup_time_and_clean_shutdown() {
    // Start-up time is reported, not asserted (see BENCHMARKS.md for recorded figures):
    // `cargo test --release --test sandbox_e2e startup -- --nocapture`.
    let mut plain_times = Vec::new();
    for _ in 0..8 {
        let began = Instant::now();
        let sb = start(SandboxOptions::default()).await;
        plain_times.push(began.elapsed());
        within("shutdown", sb.shutdown()).await;
    }
    plain_times.sort();
    let sb = start(SandboxOptions::default()).await;
    let began = Instant::now();
    let tls = start(SandboxOptions {
        tls: true,
        ..SandboxOptions::default()
    })
    .await;
    let with_tls = began.elapsed();
    println!(
        "sandbox startup (ready to serve), {} runs: min {:?}, median {:?}, max {:?}; with TLS {with_tls:?}",
        plain_times.len(),
        plain_times[0],
        plain_times[plain_times.len() / 2],
        plain_times[plain_times.len() - 1],
    );
    // The same with a key store that already holds the keys (what `tokenscope sandbox` and
    // `demo` see from their second run on).
    let store = tempfile::tempdir().expect("key store dir");
    let warm = || SandboxOptions {
        key_store: Some(store.path().join("keys")),
        ..SandboxOptions::default()
    };
    within("shutdown", start(warm()).await.shutdown()).await;
    let mut warm_times = Vec::new();
    for _ in 0..8 {
        let began = Instant::now();
        let sb = start(warm()).await;
        warm_times.push(began.elapsed());
        within("shutdown", sb.shutdown()).await;
    }
    warm_times.sort();
    let began = Instant::now();
    let warm_tls = start(SandboxOptions {
        tls: true,
        ..warm()
    })
    .await;
    let warm_tls_time = began.elapsed();
    within("shutdown", warm_tls.shutdown()).await;
    println!(
        "sandbox startup with a warm key store, {} runs: min {:?}, median {:?}, max {:?}; with TLS {warm_tls_time:?}",
        warm_times.len(),
        warm_times[0],
        warm_times[warm_times.len() / 2],
        warm_times[warm_times.len() - 1],
    );

    let http = http();
    let (status, root) = get_json(&http, &sb.base_url()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(root["authority"], sb.authority());

    let addr = sb.local_addr();
    let ca = tls.ca_pem_path().expect("CA path in TLS mode");
    assert!(ca.exists());
    within("shutdown", sb.shutdown()).await;
    within("shutdown", tls.shutdown()).await;
    assert!(!ca.exists(), "the CA file is removed at shutdown");
    // The port is free again and nothing answers on it.
    let rebound = std::net::TcpListener::bind(addr).expect("port is free after shutdown");
    drop(rebound);
    assert!(
        within(
            "connect after shutdown",
            http.get(format!("http://{addr}/")).send()
        )
        .await
        .is_err()
    );
}

#[tokio::test]
async fn a_key_store_keeps_keys_across_starts_and_rotation_replaces_the_stored_one() {
    within("test", async {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = dir.path().join("keys");
        let opts = || SandboxOptions {
            key_store: Some(store.clone()),
            ..SandboxOptions::default()
        };
        let thumbprints = |sb: &SandboxHandle| {
            sb.client("console-cert")
                .expect("client")
                .certificate_thumbprints
        };
        let http = http();

        let first = start(opts()).await;
        assert_eq!(first.key_store().as_deref(), Some(store.as_path()));
        let kid = first.signing_key_ids()[0].clone();
        let cert = thumbprints(&first);
        assert_eq!(cert.len(), 1, "console-cert's generated certificate");
        within("shutdown", first.shutdown()).await;

        // The next start reuses the signing key (same kid, nothing else published) and the
        // generated certificate, and tokens signed with the stored key verify.
        let second = start(opts()).await;
        assert_eq!(second.signing_key_ids(), std::slice::from_ref(&kid));
        assert_eq!(thumbprints(&second), cert);
        let token = access_token(&http, &second, "console-rw").await;
        let keys = jwks(&http, &second).await;
        let (header, _) = verify(
            &token,
            &keys,
            &second.issuer(TokenVersion::V2),
            &second.api_client_id(),
        );
        assert_eq!(header.kid.as_deref(), Some(kid.as_str()));
        // A config written now names the stored certificate, private key included.
        let config_dir = tempfile::tempdir().expect("tempdir");
        second
            .write_config(&config_dir.path().join("config.toml"))
            .expect("config written");
        let pem = std::fs::read(config_dir.path().join("console-cert.pem")).expect("cert file");
        let written = tokenscope::sandbox::CertificateCredential::from_pem(&pem).expect("PEM");
        assert_eq!([written.thumbprint], cert.as_slice());

        // Rotation still makes a brand-new key, and stores it as the current one.
        let rotated = within("rotate", second.rotate_signing_key())
            .await
            .expect("rotated");
        assert_ne!(rotated, kid);
        assert_eq!(second.signing_key_ids(), [rotated.clone(), kid.clone()]);
        within("shutdown", second.shutdown()).await;

        let third = start(opts()).await;
        assert_eq!(third.signing_key_ids(), std::slice::from_ref(&rotated));
        assert_eq!(thumbprints(&third), cert);
        within("shutdown", third.shutdown()).await;

        // Without a store (the default) every start has fresh keys, as before.
        let fresh = start(SandboxOptions::default()).await;
        assert_eq!(fresh.key_store(), None);
        assert_ne!(fresh.signing_key_ids(), [rotated]);
        assert_ne!(thumbprints(&fresh), cert);
        within("shutdown", fresh.shutdown()).await;
    })
    .await;
}

#[tokio::test]
async fn a_damaged_key_store_is_regenerated_and_never_stops_a_start() {
    within("test", async {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = dir.path().join("keys");
        let opts = || SandboxOptions {
            key_store: Some(store.clone()),
            ..SandboxOptions::default()
        };
        let kid_of = |sb: &SandboxHandle| sb.signing_key_ids()[0].clone();
        let signing = store.join("token-signing-key.pem");
        let federation = store.join("federation-key.pem");
        let certificate = store.join("client-console-cert.pem");

        let sb = start(opts()).await;
        let kid = kid_of(&sb);
        within("shutdown", sb.shutdown()).await;

        // Garbage, or a truncated key, is replaced by a fresh key the next start reuses.
        std::fs::write(&signing, "-----BEGIN PRIVATE KEY-----\ngarbage\n").expect("write");
        let good = std::fs::read(&certificate).expect("stored certificate");
        std::fs::write(&certificate, &good[..good.len() / 2]).expect("write");
        let sb = start(opts()).await;
        let regenerated = kid_of(&sb);
        assert_ne!(regenerated, kid);
        within("shutdown", sb.shutdown()).await;
        let sb = start(opts()).await;
        assert_eq!(kid_of(&sb), regenerated, "the regenerated key was stored");
        within("shutdown", sb.shutdown()).await;

        // An oversized file is not read.
        std::fs::write(&signing, vec![b'A'; 65 * 1024]).expect("write");
        let sb = start(opts()).await;
        assert_ne!(kid_of(&sb), regenerated);
        within("shutdown", sb.shutdown()).await;

        // A FIFO is never opened (opening one blocks until a writer comes), a directory
        // cannot be replaced: the sandbox starts with fresh keys all the same.
        std::fs::remove_file(&signing).expect("remove");
        let made = std::process::Command::new("mkfifo")
            .arg(&signing)
            .status()
            .expect("mkfifo runs");
        assert!(made.success(), "mkfifo {}", signing.display());
        std::fs::remove_file(&federation).expect("remove");
        std::fs::create_dir(&federation).expect("a directory in the key's place");
        let sb = start(opts()).await;
        let with_fifo = kid_of(&sb);
        within("shutdown", sb.shutdown()).await;
        assert!(
            std::fs::symlink_metadata(&signing)
                .expect("meta")
                .file_type()
                .is_file(),
            "the FIFO was replaced by the new key"
        );
        let sb = start(opts()).await;
        assert_eq!(kid_of(&sb), with_fifo);
        assert!(federation.is_dir(), "the directory is left alone");
        within("shutdown", sb.shutdown()).await;

        // A store path that cannot be a directory: keys in memory, as without a store.
        let file = dir.path().join("not-a-dir");
        std::fs::write(&file, "x").expect("write");
        let sb = start(SandboxOptions {
            key_store: Some(file),
            ..SandboxOptions::default()
        })
        .await;
        assert_eq!(sb.key_store(), None);
        assert_eq!(sb.signing_key_ids().len(), 1);
        within("shutdown", sb.shutdown()).await;
    })
    .await;
}

#[tokio::test]
async fn every_shipped_client_gets_the_token_entra_would_issue() {
    within("test", async {
        let sb = start(SandboxOptions::default()).await;
        let http = http();
        let tid = sb.tenant_id();
        let api_id = sb.api_client_id();

        // Discovery documents agree with the handle and with the tokens.
        let (status, v2) = get_json(&http, &sb.discovery_url()).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(v2["issuer"], format!("{}/{tid}/v2.0", sb.base_url()));
        assert_eq!(v2["token_endpoint"], sb.token_endpoint());
        assert_eq!(v2["jwks_uri"], sb.jwks_uri());
        assert_eq!(
            v2["authorization_endpoint"],
            format!("{}/oauth2/v2.0/authorize", sb.authority())
        );
        assert_eq!(
            v2["token_endpoint_auth_methods_supported"],
            json!([
                "client_secret_post",
                "private_key_jwt",
                "client_secret_basic"
            ])
        );
        for key in [
            "response_types_supported",
            "subject_types_supported",
            "id_token_signing_alg_values_supported",
            "tenant_region_scope",
        ] {
            assert!(v2.get(key).is_some(), "v2 discovery lacks {key}");
        }
        let (_, v1) = get_json(
            &http,
            &format!("{}/.well-known/openid-configuration", sb.authority()),
        )
        .await;
        assert_eq!(v1["issuer"], format!("{}/{tid}/", sb.base_url()));
        assert_eq!(
            v1["token_endpoint"],
            format!("{}/oauth2/token", sb.authority())
        );
        // The tenant's domain works in place of its GUID.
        let (status, by_domain) = get_json(
            &http,
            &format!(
                "{}/tokenscope-sandbox.onmicrosoft.com/v2.0/.well-known/openid-configuration",
                sb.base_url()
            ),
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(by_domain["issuer"], v2["issuer"]);

        // JWKS entries are shaped like Entra's.
        let keys = jwks(&http, &sb).await;
        assert_eq!(keys.len(), 1);
        let k = &keys[0];
        assert_eq!(k["kty"], "RSA");
        assert_eq!(k["use"], "sig");
        assert_eq!(k["e"], "AQAB");
        assert_eq!(k["kid"], k["x5t"]);
        let x5t = URL_SAFE_NO_PAD
            .decode(k["x5t"].as_str().expect("x5t"))
            .expect("x5t is base64url");
        assert_eq!(x5t.len(), 20, "x5t is a SHA-1 thumbprint");
        let n = URL_SAFE_NO_PAD
            .decode(k["n"].as_str().expect("n"))
            .expect("n is base64url");
        assert_eq!(n.len(), 256, "RSA-2048 modulus");
        let cert = STANDARD
            .decode(k["x5c"][0].as_str().expect("x5c"))
            .expect("x5c is standard base64");
        assert_eq!(cert[0], 0x30, "x5c holds a DER certificate");
        let (_, v1_keys) = get_json(&http, &format!("{}/discovery/keys", sb.authority())).await;
        assert_eq!(v1_keys["keys"][0]["kid"], k["kid"]);

        let iss = v2["issuer"].as_str().expect("issuer").to_string();
        for (client, roles) in [
            ("console-rw", Some(json!(["Weather.Read", "Weather.Write"]))),
            ("mobile-ro", Some(json!(["Weather.Read"]))),
            ("no-roles", None),
        ] {
            let info = sb.client(client).expect("client");
            let before = Utc::now().timestamp();
            let (status, body) = token_for(&http, &sb, client).await;
            assert_eq!(status, StatusCode::OK, "{client}: {body}");
            assert_eq!(
                claim_names(&body),
                ["token_type", "expires_in", "ext_expires_in", "access_token"]
            );
            assert_eq!(body["token_type"], "Bearer");
            let expires_in = body["expires_in"].as_i64().expect("expires_in is a number");
            assert!((3600..=5400).contains(&expires_in), "{expires_in}");
            assert_eq!(body["ext_expires_in"], body["expires_in"]);

            let token = body["access_token"].as_str().expect("token");
            let (header, claims) = verify(token, &keys, &iss, &api_id);
            assert_eq!(header.typ.as_deref(), Some("JWT"));
            assert_eq!(header.alg, Algorithm::RS256);
            assert_eq!(header.x5t, None, "v2 tokens carry no x5t header");

            let mut expected = vec![
                "aud", "iss", "iat", "nbf", "exp", "aio", "azp", "azpacr", "idtyp", "oid", "rh",
                "roles", "sub", "tid", "uti", "ver",
            ];
            if roles.is_none() {
                expected.retain(|c| *c != "roles");
            }
            assert_eq!(claim_names(&claims), expected, "{client}");
            assert_eq!(claims["aud"], api_id);
            assert_eq!(claims["azp"], info.client_id);
            assert_eq!(claims["azpacr"], "1");
            assert_eq!(claims["idtyp"], "app");
            assert_eq!(claims["oid"], info.object_id);
            assert_eq!(claims["sub"], info.object_id);
            assert_eq!(claims["tid"], tid);
            assert_eq!(claims["ver"], "2.0");
            assert_eq!(claims.get("roles").cloned(), roles, "{client}");
            let exp = claims["exp"].as_i64().expect("exp");
            let iat = claims["iat"].as_i64().expect("iat");
            assert_eq!(claims["nbf"], claims["iat"]);
            assert!(
                (exp - before - expires_in).abs() <= 2,
                "exp = now + expires_in"
            );
            assert!(iat <= before, "iat is backdated");
        }

        // The secret may come in HTTP Basic, URL-encoded (RFC 6749 §2.3.1): `~` and `.`
        // are in the sandbox secrets, and encoding them must not break anything.
        let rw = sb.client("console-rw").expect("client");
        let encode =
            |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
        let resp = within(
            "basic",
            http.post(sb.token_endpoint())
                .basic_auth(
                    encode(&rw.client_id),
                    Some(encode(&rw.secret).replace('~', "%7E")),
                )
                .form(&[
                    ("grant_type", "client_credentials"),
                    ("scope", sb.api_scope().as_str()),
                ])
                .send(),
        )
        .await
        .expect("sent");
        let (status, _, body) = json_of(resp).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        verify(
            body["access_token"].as_str().expect("token"),
            &keys,
            &iss,
            &api_id,
        );

        // A GUID resource identifier is accepted as scope too.
        let guid_scope = format!("{api_id}/.default");
        let (status, body) = secret_grant(&http, &sb, &rw.client_id, &rw.secret, &guid_scope).await;
        assert_eq!(status, StatusCode::OK, "{body}");

        assert_eq!(sb.request_count(Endpoint::Token), 5);
        assert_eq!(sb.request_count(Endpoint::Discovery), 3);
        sb.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn the_weather_api_validates_like_a_resource_server() {
    within("test", async {
        let sb = start(SandboxOptions::default()).await;
        let http = http();
        let rw = access_token(&http, &sb, "console-rw").await;

        let (status, headers, body) = call_api(&http, &sb, Some(&rw), "London?country=GB").await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert!(
            headers["content-type"]
                .to_str()
                .is_ok_and(|c| c.starts_with("application/json"))
        );
        let metric: Value = serde_json::from_str(&body).expect("json");
        assert_eq!(
            claim_names(&metric),
            [
                "temp",
                "feels_like",
                "temp_min",
                "temp_max",
                "pressure",
                "humidity"
            ]
        );
        let t = metric["temp"].as_f64().expect("temp");
        assert!((-15.0..=45.0).contains(&t), "{t} °C");
        let p = metric["pressure"].as_f64().expect("pressure");
        assert!((980.0..=1040.0).contains(&p));
        let h = metric["humidity"].as_u64().expect("integer humidity");
        assert!((20..=100).contains(&h));
        // Deterministic per city (case-insensitive), day and units.
        let (_, _, again) = call_api(&http, &sb, Some(&rw), "lOnDoN?country=GB&units=metric").await;
        assert_eq!(serde_json::from_str::<Value>(&again).expect("json"), metric);
        let (_, _, f) = call_api(&http, &sb, Some(&rw), "London?country=GB&units=imperial").await;
        let f: Value = serde_json::from_str(&f).expect("json");
        assert!((f["temp"].as_f64().expect("°F") - (t * 1.8 + 32.0)).abs() < 0.05);
        let (_, _, k) = call_api(&http, &sb, Some(&rw), "London?country=GB&units=standard").await;
        let k: Value = serde_json::from_str(&k).expect("json");
        assert!((k["temp"].as_f64().expect("K") - (t + 273.15)).abs() < 0.05);
        // URL-encoded city names work; the default country is US.
        let (status, _, _) = call_api(&http, &sb, Some(&rw), "New%20York").await;
        assert_eq!(status, StatusCode::OK);

        // 400 plain text for bad parameters.
        for query in [
            "London?country=GBR",
            "London?country=1A",
            "London?units=kelvin",
            "%FF%FE?country=GB",
        ] {
            let (status, headers, body) = call_api(&http, &sb, Some(&rw), query).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{query}");
            assert!(
                headers["content-type"]
                    .to_str()
                    .is_ok_and(|c| c.starts_with("text/plain"))
            );
            assert!(body.starts_with("Invalid "), "{body}");
        }

        // No token: 401 with a bare Bearer challenge (RFC 6750 §3.1).
        let (status, headers, _) = call_api(&http, &sb, None, "London").await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(www_authenticate(&headers), "Bearer");

        // A token whose payload was edited (a role added) fails signature validation.
        let parts: Vec<&str> = rw.split('.').collect();
        let mut claims: Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).expect("payload"))
                .expect("claims");
        claims["roles"] = json!(["Weather.Read", "Weather.Admin"]);
        let forged = format!(
            "{}.{}.{}",
            parts[0],
            URL_SAFE_NO_PAD.encode(claims.to_string()),
            parts[2]
        );
        let (status, headers, _) = call_api(&http, &sb, Some(&forged), "London").await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(
            www_authenticate(&headers),
            "Bearer error=\"invalid_token\", error_description=\"The signature is invalid\""
        );

        // A kid the sandbox never published.
        let header = json!({"typ": "JWT", "alg": "RS256", "kid": "not-a-sandbox-key"});
        let unknown_kid = format!(
            "{}.{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            parts[1],
            parts[2]
        );
        let (status, headers, _) = call_api(&http, &sb, Some(&unknown_kid), "London").await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(
            www_authenticate(&headers),
            "Bearer error=\"invalid_token\", error_description=\"The signature key was not found\""
        );

        // Garbage.
        let (status, headers, _) = call_api(&http, &sb, Some("not.a.jwt"), "London").await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert!(www_authenticate(&headers).starts_with("Bearer error=\"invalid_token\""));

        // A valid token without the role: 403 with Microsoft.Identity.Web's text.
        let none = access_token(&http, &sb, "no-roles").await;
        let (status, headers, body) = call_api(&http, &sb, Some(&none), "London").await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        assert_eq!(
            body,
            "IDW10203: The \"role\" claim does not contain role Weather.Read or was not found"
        );
        assert!(
            www_authenticate(&headers).starts_with("Bearer error=\"insufficient_scope\""),
            "{headers:?}"
        );

        // Authorisation is checked before parameters: no leak to unauthenticated callers.
        let (status, _, _) = call_api(&http, &sb, None, "London?units=kelvin").await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);

        assert_eq!(sb.request_count(Endpoint::Api), 15);
        sb.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn every_error_has_its_aadsts_code_and_status() {
    within("test", async {
        let sb = start(SandboxOptions::default()).await;
        let http = http();
        let rw = sb.client("console-rw").expect("client");
        let expired = sb.client("expired-secret").expect("client");
        let scope = sb.api_scope();
        let cc = "client_credentials";
        let base = sb.base_url();
        let endpoint = sb.token_endpoint();
        let for_tenant = |t: &str| format!("{base}/{t}/oauth2/v2.0/token");

        struct Case {
            name: &'static str,
            url: String,
            form: Vec<(&'static str, String)>,
            status: StatusCode,
            error: &'static str,
            code: u64,
        }
        let good = |extra: &[(&'static str, String)]| -> Vec<(&'static str, String)> {
            let mut f = vec![
                ("grant_type", cc.to_string()),
                ("client_id", rw.client_id.clone()),
                ("client_secret", rw.secret.clone()),
                ("scope", scope.clone()),
            ];
            for (k, v) in extra {
                f.retain(|(fk, _)| fk != k);
                if !v.is_empty() {
                    f.push((k, v.clone()));
                }
            }
            f
        };
        let bad = StatusCode::BAD_REQUEST;
        let unauthorized = StatusCode::UNAUTHORIZED;
        let cases = vec![
            Case {
                name: "unknown tenant",
                url: for_tenant("00000000-0000-0000-0000-00000000beef"),
                form: good(&[]),
                status: bad,
                error: "invalid_request",
                code: 90002,
            },
            Case {
                name: "malformed tenant",
                url: for_tenant("not_a_tenant"),
                form: good(&[]),
                status: bad,
                error: "invalid_request",
                code: 900023,
            },
            Case {
                name: "common",
                url: for_tenant("common"),
                form: good(&[]),
                status: bad,
                error: "invalid_request",
                code: 50059,
            },
            Case {
                name: "organizations",
                url: for_tenant("organizations"),
                form: good(&[]),
                status: bad,
                error: "invalid_request",
                code: 50059,
            },
            Case {
                name: "consumers",
                url: for_tenant("consumers"),
                form: good(&[]),
                status: bad,
                error: "invalid_request",
                code: 50059,
            },
            Case {
                name: "unknown client",
                url: endpoint.clone(),
                form: good(&[("client_id", "11111111-2222-3333-4444-555555555555".into())]),
                status: bad,
                error: "unauthorized_client",
                code: 700016,
            },
            Case {
                name: "wrong secret",
                url: endpoint.clone(),
                form: good(&[("client_secret", "wrong".into())]),
                status: unauthorized,
                error: "invalid_client",
                code: 7000215,
            },
            Case {
                name: "secret id instead of value",
                url: endpoint.clone(),
                form: good(&[("client_secret", rw.secret_id.clone())]),
                status: unauthorized,
                error: "invalid_client",
                code: 7000215,
            },
            Case {
                name: "expired secret",
                url: endpoint.clone(),
                form: good(&[
                    ("client_id", expired.client_id.clone()),
                    ("client_secret", expired.secret.clone()),
                ]),
                status: unauthorized,
                error: "invalid_client",
                code: 7000222,
            },
            Case {
                name: "no credential",
                url: endpoint.clone(),
                form: good(&[("client_secret", String::new())]),
                status: unauthorized,
                error: "invalid_client",
                code: 7000218,
            },
            Case {
                name: "certificate credential the app does not have",
                url: endpoint.clone(),
                form: good(&[
                    ("client_secret", String::new()),
                    (
                        "client_assertion_type",
                        "urn:ietf:params:oauth:client-assertion-type:jwt-bearer".into(),
                    ),
                    ("client_assertion", "eyJhbGciOiJSUzI1NiJ9.e30.c2ln".into()),
                ]),
                status: unauthorized,
                error: "invalid_client",
                code: 700027,
            },
            Case {
                name: "scope without /.default",
                url: endpoint.clone(),
                form: good(&[("scope", format!("{}/Weather.Read", sb.app_id_uri()))]),
                status: bad,
                error: "invalid_scope",
                code: 1002012,
            },
            Case {
                name: "unknown resource",
                url: endpoint.clone(),
                form: good(&[("scope", "api://not-in-this-tenant/.default".into())]),
                status: bad,
                error: "invalid_resource",
                code: 500011,
            },
            Case {
                name: "two resources",
                url: endpoint.clone(),
                form: good(&[(
                    "scope",
                    format!("{scope} https://graph.microsoft.com/.default"),
                )]),
                status: bad,
                error: "invalid_scope",
                code: 700022,
            },
            Case {
                name: "missing scope",
                url: endpoint.clone(),
                form: good(&[("scope", String::new())]),
                status: bad,
                error: "invalid_request",
                code: 900144,
            },
            Case {
                name: "unsupported grant type",
                url: endpoint.clone(),
                form: good(&[("grant_type", "password".into())]),
                status: bad,
                error: "unsupported_grant_type",
                code: 70003,
            },
            Case {
                name: "missing grant type",
                url: endpoint.clone(),
                form: good(&[("grant_type", String::new())]),
                status: bad,
                error: "invalid_request",
                code: 900144,
            },
        ];
        let mut tokens_requested = 0;
        for case in &cases {
            let form: Vec<(&str, &str)> = case.form.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let (status, body) = post_form(&http, &case.url, &form).await;
            tokens_requested += 1;
            assert_eq!(status, case.status, "{}: {body}", case.name);
            assert_aadsts(&body, case.code, case.error);
        }

        // The exact wording of the most common one.
        let (_, body) = post_form(
            &http,
            &endpoint,
            &[
                ("grant_type", cc),
                ("client_id", &rw.client_id),
                ("client_secret", "nope"),
                ("scope", &scope),
            ],
        )
        .await;
        tokens_requested += 1;
        let description = body["error_description"].as_str().expect("description");
        assert!(description.starts_with(&format!(
            "AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '{}'. Trace ID: ",
            rw.client_id
        )), "{description}");

        // MSAL's client-request-id becomes the correlation id, and is echoed.
        let correlation = "0b5d3c1e-7d8f-4b7a-9c2e-3f4a5b6c7d8e";
        let resp = within(
            "correlated",
            http.post(&endpoint)
                .header("client-request-id", correlation)
                .form(&[("grant_type", "client_credentials")])
                .send(),
        )
        .await
        .expect("sent");
        tokens_requested += 1;
        let (status, headers, body) = json_of(resp).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(body["correlation_id"], correlation);
        assert_eq!(headers["client-request-id"], correlation);
        assert_eq!(headers["cache-control"], "no-store, no-cache");

        // "Assignment required" with no role granted.
        sb.set_assignment_required(true);
        let (status, body) = token_for(&http, &sb, "no-roles").await;
        tokens_requested += 1;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_aadsts(&body, 501051, "invalid_grant");
        let nr = sb.client("no-roles").expect("client");
        assert!(
            body["error_description"]
                .as_str()
                .expect("description")
                .starts_with(&format!(
                    "AADSTS501051: Application '{}'({}) is not assigned to a role for the application '{}'(Weather API).",
                    nr.client_id, nr.display_name, sb.app_id_uri()
                )),
            "{body}"
        );
        // Clients with a role still get tokens.
        let (status, _) = token_for(&http, &sb, "mobile-ro").await;
        tokens_requested += 1;
        assert_eq!(status, StatusCode::OK);

        // Metadata for an unknown tenant fails like Entra's.
        let (status, body) = get_json(
            &http,
            &format!("{base}/00000000-0000-0000-0000-00000000beef/v2.0/.well-known/openid-configuration"),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_aadsts(&body, 90002, "invalid_tenant");

        // The error_uri page explains the code.
        let resp = within("error page", http.get(format!("{base}/error?code=7000222")).send())
            .await
            .expect("sent");
        assert_eq!(resp.status(), StatusCode::OK);
        let text = within("text", resp.text()).await.expect("text");
        assert!(text.starts_with("AADSTS7000222: "), "{text}");

        assert_eq!(sb.request_count(Endpoint::Token), tokens_requested);
        sb.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn revoked_roles_and_a_changed_required_role_give_403() {
    within("test", async {
        let sb = start(SandboxOptions::default()).await;
        let http = http();
        let ro = access_token(&http, &sb, "mobile-ro").await;
        let (status, _, _) = call_api(&http, &sb, Some(&ro), "Paris?country=FR").await;
        assert_eq!(status, StatusCode::OK);

        // The API now wants Weather.Write: the same token is refused.
        sb.set_required_role("weather.write").expect("defined role");
        assert_eq!(sb.required_role(), "Weather.Write", "canonical spelling");
        let (status, headers, body) = call_api(&http, &sb, Some(&ro), "Paris?country=FR").await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        assert_eq!(
            body,
            "IDW10203: The \"role\" claim does not contain role Weather.Write or was not found"
        );
        assert_eq!(
            www_authenticate(&headers),
            "Bearer error=\"insufficient_scope\", error_description=\"IDW10203: The \\\"role\\\" claim does not contain role Weather.Write or was not found\""
        );
        // console-rw has Weather.Write.
        let rw = access_token(&http, &sb, "console-rw").await;
        let (status, _, _) = call_api(&http, &sb, Some(&rw), "Paris?country=FR").await;
        assert_eq!(status, StatusCode::OK);
        sb.set_required_role("Weather.Read").expect("defined role");
        assert!(matches!(
            sb.set_required_role("Weather.Delete"),
            Err(SandboxError::UnknownRole { .. })
        ));

        // Revoke Weather.Read from mobile-ro: the next token has no roles claim at all.
        sb.revoke_role("mobile-ro", "Weather.Read").expect("revoke");
        assert!(sb.client("mobile-ro").expect("client").granted_roles.is_empty());
        let revoked = access_token(&http, &sb, "mobile-ro").await;
        let keys = jwks(&http, &sb).await;
        let (_, claims) = verify(
            &revoked,
            &keys,
            &sb.issuer(TokenVersion::V2),
            &sb.api_client_id(),
        );
        assert!(claims.get("roles").is_none(), "{claims}");
        let (status, _, body) = call_api(&http, &sb, Some(&revoked), "Paris?country=FR").await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        assert_eq!(
            body,
            "IDW10203: The \"role\" claim does not contain role Weather.Read or was not found"
        );
        // The token issued before the revocation still works until it expires, as in Entra.
        let (status, _, _) = call_api(&http, &sb, Some(&ro), "Paris?country=FR").await;
        assert_eq!(status, StatusCode::OK);

        // Grant it back (by client id, role case-insensitively).
        let id = sb.client("mobile-ro").expect("client").client_id;
        sb.grant_role(&id, "WEATHER.READ").expect("grant");
        let regranted = access_token(&http, &sb, "mobile-ro").await;
        let (status, _, _) = call_api(&http, &sb, Some(&regranted), "Paris?country=FR").await;
        assert_eq!(status, StatusCode::OK);
        assert!(matches!(
            sb.grant_role("nobody", "Weather.Read"),
            Err(SandboxError::UnknownClient { .. })
        ));
        sb.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn key_rotation_keeps_old_tokens_valid_for_the_grace_period() {
    within("test", async {
        let sb = start(SandboxOptions {
            key_grace: Duration::from_secs(600),
            ..SandboxOptions::default()
        })
        .await;
        let http = http();
        let (iss, aud) = (sb.issuer(TokenVersion::V2), sb.api_client_id());
        let old = access_token(&http, &sb, "console-rw").await;
        let old_kid = jsonwebtoken::decode_header(&old)
            .expect("header")
            .kid
            .expect("kid");

        let new_kid = sb.rotate_signing_key().await.expect("rotation");
        assert_ne!(new_kid, old_kid);
        assert_eq!(sb.signing_key_ids(), [new_kid.clone(), old_kid.clone()]);
        let keys = jwks(&http, &sb).await;
        let kids: Vec<&str> = keys.iter().filter_map(|k| k["kid"].as_str()).collect();
        assert_eq!(kids, [new_kid.as_str(), old_kid.as_str()]);

        let new = access_token(&http, &sb, "console-rw").await;
        let (header, _) = verify(&new, &keys, &iss, &aud);
        assert_eq!(header.kid.as_deref(), Some(new_kid.as_str()));
        verify(&old, &keys, &iss, &aud);
        for token in [&old, &new] {
            let (status, _, _) = call_api(&http, &sb, Some(token), "Oslo?country=NO").await;
            assert_eq!(status, StatusCode::OK);
        }

        // After the grace period the old key leaves JWKS and its tokens stop validating,
        // although they have not expired.
        sb.set_clock_offset(TimeDelta::minutes(11));
        let keys = jwks(&http, &sb).await;
        let kids: Vec<&str> = keys.iter().filter_map(|k| k["kid"].as_str()).collect();
        assert_eq!(kids, [new_kid.as_str()]);
        let (status, headers, _) = call_api(&http, &sb, Some(&old), "Oslo?country=NO").await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(
            www_authenticate(&headers),
            "Bearer error=\"invalid_token\", error_description=\"The signature key was not found\""
        );
        let (status, _, _) = call_api(&http, &sb, Some(&new), "Oslo?country=NO").await;
        assert_eq!(status, StatusCode::OK);
        sb.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn expired_tokens_and_secrets_are_refused() {
    within("test", async {
        let sb = start(SandboxOptions::default()).await;
        let http = http();
        sb.set_token_lifetime(Some(Duration::from_secs(60)));
        let (status, body) = token_for(&http, &sb, "console-rw").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body["expires_in"], 60);
        let token = body["access_token"].as_str().expect("token").to_string();
        let payload: Value = serde_json::from_slice(
            &URL_SAFE_NO_PAD
                .decode(token.split('.').nth(1).expect("payload"))
                .expect("b64"),
        )
        .expect("json");
        let exp = payload["exp"].as_i64().expect("exp");

        // Expired, but within the 5 minutes of skew: still accepted.
        sb.set_clock_offset(TimeDelta::minutes(4));
        let (status, _, _) = call_api(&http, &sb, Some(&token), "Rome?country=IT").await;
        assert_eq!(status, StatusCode::OK);
        // Beyond the skew: 401 naming the expiry time the way ASP.NET does.
        sb.set_clock_offset(TimeDelta::minutes(7));
        let (status, headers, _) = call_api(&http, &sb, Some(&token), "Rome?country=IT").await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        let when = chrono::DateTime::from_timestamp(exp, 0)
            .expect("exp")
            .format("%m/%d/%Y %H:%M:%S");
        assert_eq!(
            www_authenticate(&headers),
            format!(
                "Bearer error=\"invalid_token\", error_description=\"The token expired at '{when}'\""
            )
        );
        sb.set_clock_offset(TimeDelta::zero());
        sb.set_token_lifetime(None);
        let (_, body) = token_for(&http, &sb, "console-rw").await;
        let expires_in = body["expires_in"].as_i64().expect("expires_in");
        assert!((3600..=5400).contains(&expires_in), "random again: {expires_in}");

        // Secrets: expire, then renew.
        let old = sb.client("mobile-ro").expect("client");
        assert!(!old.secret_expired);
        sb.expire_secret("mobile-ro").expect("expire");
        assert!(sb.client("mobile-ro").expect("client").secret_expired);
        let (status, body) = token_for(&http, &sb, "mobile-ro").await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_aadsts(&body, 7000222, "invalid_client");
        let renewed = sb.renew_secret("mobile-ro").expect("renew");
        assert_ne!(renewed.secret, old.secret);
        assert!(!renewed.secret_expired);
        assert_eq!(sb.client("mobile-ro").expect("client"), renewed);
        let (status, _) = token_for(&http, &sb, "mobile-ro").await;
        assert_eq!(status, StatusCode::OK);
        // The old value stays expired.
        let scope = sb.api_scope();
        let (status, body) = secret_grant(&http, &sb, &old.client_id, &old.secret, &scope).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_aadsts(&body, 7000222, "invalid_client");
        // The shipped expired client can be revived the same way.
        sb.renew_secret("expired-secret").expect("renew");
        let (status, _) = token_for(&http, &sb, "expired-secret").await;
        assert_eq!(status, StatusCode::OK);
        sb.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn v1_tokens_and_entra_issuers() {
    within("test", async {
        let sb = start(SandboxOptions::default()).await;
        let http = http();
        let tid = sb.tenant_id();
        sb.set_access_token_version(TokenVersion::V1);
        let v1_iss = format!("{}/{tid}/", sb.base_url());
        assert_eq!(sb.issuer(TokenVersion::V1), v1_iss);

        // Requested on the v2 endpoint, shaped by the API's accessTokenAcceptedVersion.
        let token = access_token(&http, &sb, "console-rw").await;
        let keys = jwks(&http, &sb).await;
        let (header, claims) = verify(&token, &keys, &v1_iss, &sb.app_id_uri());
        assert_eq!(header.x5t, header.kid, "v1 tokens carry x5t = kid");
        let rw = sb.client("console-rw").expect("client");
        assert_eq!(
            claim_names(&claims),
            [
                "aud", "iss", "iat", "nbf", "exp", "aio", "appid", "appidacr", "idp", "idtyp",
                "oid", "rh", "roles", "sub", "tid", "uti", "ver"
            ]
        );
        assert_eq!(claims["appid"], rw.client_id);
        assert_eq!(claims["appidacr"], "1");
        assert_eq!(claims["idp"], v1_iss);
        assert_eq!(claims["ver"], "1.0");
        let (status, _, _) = call_api(&http, &sb, Some(&token), "Berlin?country=DE").await;
        assert_eq!(status, StatusCode::OK);

        // The v1 endpoint: `resource`, string numbers, expires_on.
        let v1_endpoint = format!("{}/oauth2/token", sb.authority());
        let api_id = sb.api_client_id();
        let (status, body) = post_form(
            &http,
            &v1_endpoint,
            &[
                ("grant_type", "client_credentials"),
                ("client_id", &rw.client_id),
                ("client_secret", &rw.secret),
                ("resource", &api_id),
            ],
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert!(body["expires_in"].is_string(), "{body}");
        assert!(body["expires_on"].is_string());
        assert_eq!(body["resource"], api_id);
        let (_, claims) = verify(
            body["access_token"].as_str().expect("token"),
            &keys,
            &v1_iss,
            &api_id,
        );
        assert_eq!(
            claims["aud"], api_id,
            "the GUID resource becomes the audience"
        );
        sb.shutdown().await;

        // --issuer-style entra: the real Entra issuers, in tokens and discovery alike.
        let sb = start(SandboxOptions {
            issuer_style: IssuerStyle::Entra,
            ..SandboxOptions::default()
        })
        .await;
        let v2_iss = format!("https://login.microsoftonline.com/{tid}/v2.0");
        let (_, doc) = get_json(&http, &sb.discovery_url()).await;
        assert_eq!(doc["issuer"], v2_iss);
        assert_eq!(doc["token_endpoint"], sb.token_endpoint());
        let token = access_token(&http, &sb, "mobile-ro").await;
        let keys = jwks(&http, &sb).await;
        assert_eq!(keys[0]["issuer"], v2_iss);
        verify(&token, &keys, &v2_iss, &sb.api_client_id());
        let (status, _, _) = call_api(&http, &sb, Some(&token), "Berlin?country=DE").await;
        assert_eq!(status, StatusCode::OK);
        sb.set_access_token_version(TokenVersion::V1);
        let token = access_token(&http, &sb, "mobile-ro").await;
        verify(
            &token,
            &keys,
            &format!("https://sts.windows.net/{tid}/"),
            &sb.app_id_uri(),
        );
        let (status, _, _) = call_api(&http, &sb, Some(&token), "Berlin?country=DE").await;
        assert_eq!(status, StatusCode::OK);
        sb.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn tls_mode_is_trusted_through_the_ca_file() {
    within("test", async {
        let sb = start(SandboxOptions {
            tls: true,
            ..SandboxOptions::default()
        })
        .await;
        assert!(
            sb.base_url().starts_with("https://localhost:"),
            "{}",
            sb.base_url()
        );
        let ca_path = sb.ca_pem_path().expect("CA path");
        let pem = std::fs::read(&ca_path).expect("CA file readable");
        assert_eq!(
            Some(String::from_utf8_lossy(&pem).into_owned()),
            sb.ca_pem()
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let dir = ca_path.parent().expect("dir");
            let mode = std::fs::metadata(dir).expect("meta").permissions().mode();
            assert_eq!(mode & 0o077, 0, "the CA directory is private");
        }

        let trusted = reqwest::Client::builder()
            .no_proxy()
            .timeout(Duration::from_secs(20))
            .tls_certs_only([reqwest::Certificate::from_pem(&pem).expect("PEM")])
            .build()
            .expect("client");
        let (status, doc) = get_json(&trusted, &sb.discovery_url()).await;
        assert_eq!(status, StatusCode::OK);
        assert!(
            doc["token_endpoint"]
                .as_str()
                .expect("url")
                .starts_with("https://localhost:")
        );
        let token = access_token(&trusted, &sb, "console-rw").await;
        let (status, _, _) = call_api(&trusted, &sb, Some(&token), "Lisbon?country=PT").await;
        assert_eq!(status, StatusCode::OK);
        // 127.0.0.1 is in the certificate too.
        let by_ip = format!("https://127.0.0.1:{}/", sb.local_addr().port());
        let (status, _) = get_json(&trusted, &by_ip).await;
        assert_eq!(status, StatusCode::OK);

        // Admin routes work over TLS too (HTTP/2 carries the host in :authority).
        let resp = within(
            "admin over TLS",
            trusted
                .get(format!("{}/_sandbox/stats", sb.base_url()))
                .send(),
        )
        .await
        .expect("sent");
        assert_eq!(resp.version(), reqwest::Version::HTTP_2);
        let (status, _, stats) = json_of(resp).await;
        assert_eq!(status, StatusCode::OK, "{stats}");
        assert_eq!(stats["tls"], true);

        // A client that does not trust the CA cannot connect.
        let untrusting = reqwest::Client::builder()
            .no_proxy()
            .timeout(Duration::from_secs(20))
            .tls_certs_only(Vec::new())
            .build()
            .expect("client");
        let refused = within("untrusted", untrusting.get(sb.discovery_url()).send()).await;
        assert!(refused.is_err(), "an untrusted CA must fail the handshake");

        let config: toml::Table = sb.config_toml().parse().expect("config TOML");
        let profile = &config["profiles"]["console-rw"];
        assert_eq!(profile["ca_file"].as_str(), ca_path.to_str());
        assert!(
            profile["authority"]
                .as_str()
                .expect("authority")
                .starts_with("https://localhost:")
        );
        sb.shutdown().await;
        assert!(!ca_path.exists());
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_concurrent_token_requests_all_succeed() {
    within("test", async {
        let sb = start(SandboxOptions::default()).await;
        let http = http();
        let rw = sb.client("console-rw").expect("client");
        let scope = sb.api_scope();
        let endpoint = sb.token_endpoint();
        let requests = (0..200).map(|_| {
            let http = http.clone();
            let (endpoint, id, secret, scope) = (
                endpoint.clone(),
                rw.client_id.clone(),
                rw.secret.clone(),
                scope.clone(),
            );
            tokio::spawn(async move {
                let resp = http
                    .post(&endpoint)
                    .form(&[
                        ("grant_type", "client_credentials"),
                        ("client_id", id.as_str()),
                        ("client_secret", secret.as_str()),
                        ("scope", scope.as_str()),
                    ])
                    .send()
                    .await?;
                let status = resp.status();
                let body: Value = resp.json().await?;
                Ok::<_, reqwest::Error>((status, body))
            })
        });
        let results = futures_util::future::join_all(requests).await;
        let keys = jwks(&http, &sb).await;
        let mut utis = HashSet::new();
        for result in results {
            let (status, body) = result.expect("task").expect("request");
            assert_eq!(status, StatusCode::OK, "{body}");
            let (_, claims) = verify(
                body["access_token"].as_str().expect("token"),
                &keys,
                &sb.issuer(TokenVersion::V2),
                &sb.api_client_id(),
            );
            utis.insert(claims["uti"].as_str().expect("uti").to_string());
        }
        assert_eq!(utis.len(), 200, "every token has its own uti");
        assert_eq!(sb.request_count(Endpoint::Token), 200);
        sb.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn admin_routes_act_live_and_count_requests() {
    within("test", async {
        let sb = start(SandboxOptions::default()).await;
        let http = http();
        let admin = |path: &str| format!("{}/_sandbox{path}", sb.base_url());

        // Calling the API with a token does not touch the token endpoint.
        let token = access_token(&http, &sb, "console-rw").await;
        let tokens_before = sb.request_count(Endpoint::Token);
        for _ in 0..3 {
            call_api(&http, &sb, Some(&token), "Vienna?country=AT").await;
        }
        assert_eq!(sb.request_count(Endpoint::Token), tokens_before);
        assert_eq!(sb.request_count(Endpoint::Api), 3);

        let (status, stats) = get_json(&http, &admin("/stats")).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(stats["requests"]["token"], 1);
        assert_eq!(stats["requests"]["api"], 3);
        assert_eq!(stats["required_role"], "Weather.Read");

        let send = |method: reqwest::Method, path: &str, body: &str| {
            http.request(method, admin(path))
                .body(body.to_string())
                .send()
        };
        // Revoke over HTTP, by client name.
        let resp = within(
            "revoke",
            send(
                reqwest::Method::DELETE,
                "/clients/console-rw/roles/Weather.Write",
                "",
            ),
        )
        .await
        .expect("sent");
        assert_eq!(resp.status(), StatusCode::OK);
        assert_eq!(
            sb.client("console-rw").expect("client").granted_roles,
            ["Weather.Read"]
        );
        let resp = within(
            "grant",
            send(
                reqwest::Method::POST,
                "/clients/console-rw/roles/Weather.Write",
                "",
            ),
        )
        .await
        .expect("sent");
        assert_eq!(resp.status(), StatusCode::OK);
        assert_eq!(
            sb.client("console-rw").expect("client").granted_roles,
            ["Weather.Read", "Weather.Write"]
        );
        // Unknown names are 404s that say what exists.
        let resp = within(
            "unknown",
            send(
                reqwest::Method::POST,
                "/clients/nobody/roles/Weather.Read",
                "",
            ),
        )
        .await
        .expect("sent");
        assert_eq!(resp.status(), StatusCode::NOT_FOUND);
        let (_, _, body) = json_of(resp).await;
        assert!(
            body["error"]
                .as_str()
                .expect("error")
                .contains("console-rw"),
            "{body}"
        );

        let resp = within(
            "required",
            send(
                reqwest::Method::PUT,
                "/required-role",
                "{\"role\":\"Weather.Write\"}",
            ),
        )
        .await
        .expect("sent");
        assert_eq!(resp.status(), StatusCode::OK);
        assert_eq!(sb.required_role(), "Weather.Write");
        let mobile = access_token(&http, &sb, "mobile-ro").await;
        let (status, _, _) = call_api(&http, &sb, Some(&mobile), "Vienna?country=AT").await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        within(
            "required",
            send(reqwest::Method::PUT, "/required-role", "Weather.Read"),
        )
        .await
        .expect("sent");

        let resp = within(
            "lifetime",
            send(reqwest::Method::PUT, "/token-lifetime", "90s"),
        )
        .await
        .expect("sent");
        assert_eq!(resp.status(), StatusCode::OK);
        let (_, body) = token_for(&http, &sb, "console-rw").await;
        assert_eq!(body["expires_in"], 90);
        let resp = within(
            "lifetime",
            send(reqwest::Method::PUT, "/token-lifetime", "soon"),
        )
        .await
        .expect("sent");
        assert_eq!(resp.status(), StatusCode::BAD_REQUEST);

        let old_kids = sb.signing_key_ids();
        let resp = within("rotate", send(reqwest::Method::POST, "/rotate-key", ""))
            .await
            .expect("sent");
        let (status, _, body) = json_of(resp).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(
            sb.signing_key_ids()[0],
            body["signing_key"].as_str().expect("kid")
        );
        assert_eq!(sb.signing_key_ids()[1], old_kids[0]);

        let resp = within(
            "expire",
            send(
                reqwest::Method::POST,
                "/clients/console-rw/expire-secret",
                "",
            ),
        )
        .await
        .expect("sent");
        assert_eq!(resp.status(), StatusCode::OK);
        let (status, _) = token_for(&http, &sb, "console-rw").await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        let resp = within(
            "renew",
            send(
                reqwest::Method::POST,
                "/clients/console-rw/renew-secret",
                "",
            ),
        )
        .await
        .expect("sent");
        let (status, _, body) = json_of(resp).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(
            body["secret"],
            sb.client("console-rw").expect("client").secret
        );
        let (status, _) = token_for(&http, &sb, "console-rw").await;
        assert_eq!(status, StatusCode::OK);

        let resp = within(
            "version",
            send(reqwest::Method::PUT, "/access-token-version", "1"),
        )
        .await
        .expect("sent");
        assert_eq!(resp.status(), StatusCode::OK);
        let v1 = access_token(&http, &sb, "console-rw").await;
        let claims: Value = serde_json::from_slice(
            &URL_SAFE_NO_PAD
                .decode(v1.split('.').nth(1).expect("payload"))
                .expect("b64"),
        )
        .expect("json");
        assert_eq!(claims["ver"], "1.0");

        let resp = within(
            "assignment",
            send(reqwest::Method::PUT, "/assignment-required", "true"),
        )
        .await
        .expect("sent");
        assert_eq!(resp.status(), StatusCode::OK);
        let (status, body) = token_for(&http, &sb, "no-roles").await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(body["error_codes"], json!([501051]));

        let resp = within("clock", send(reqwest::Method::PUT, "/clock-offset", "+10m"))
            .await
            .expect("sent");
        assert_eq!(resp.status(), StatusCode::OK);
        assert!(
            (sb.now() - Utc::now() - TimeDelta::minutes(10))
                .num_seconds()
                .abs()
                <= 1
        );

        // Browsers on other origins, and requests not addressed to localhost, are refused.
        let resp = within(
            "cross-origin",
            http.post(admin("/rotate-key"))
                .header("origin", "https://evil.example")
                .send(),
        )
        .await
        .expect("sent");
        assert_eq!(resp.status(), StatusCode::FORBIDDEN);
        let resp = within(
            "rebinding",
            http.get(admin("/stats"))
                .header("host", "evil.example")
                .send(),
        )
        .await
        .expect("sent");
        assert_eq!(resp.status(), StatusCode::FORBIDDEN);

        let (_, stats) = get_json(&http, &admin("/stats")).await;
        assert_eq!(
            stats["requests"]["token"],
            sb.request_count(Endpoint::Token)
        );
        assert_eq!(
            stats["requests"]["admin"],
            sb.request_count(Endpoint::Admin)
        );
        assert_eq!(stats["signing_keys"].as_array().map(Vec::len), Some(2));
        sb.shutdown().await;
    })
    .await;
}

/// A non-loopback address of this machine, if it has one (found without sending anything).
fn non_loopback_ip() -> Option<std::net::IpAddr> {
    let socket = std::net::UdpSocket::bind("0.0.0.0:0").ok()?;
    socket.connect("10.255.255.255:9").ok()?;
    let ip = socket.local_addr().ok()?.ip();
    (!ip.is_loopback() && !ip.is_unspecified()).then_some(ip)
}

#[tokio::test]
async fn admin_routes_refuse_non_loopback_peers() {
    within("test", async {
        let Some(ip) = non_loopback_ip() else {
            println!("no non-loopback interface: skipping the remote-peer check");
            return;
        };
        let sb = start(SandboxOptions {
            addr: std::net::SocketAddr::new(ip, 0),
            ..SandboxOptions::default()
        })
        .await;
        let http = http();
        // The peer address is `ip`, not loopback: admin is refused, the IdP still answers.
        let resp = within(
            "admin",
            http.get(format!("{}/_sandbox/stats", sb.base_url())).send(),
        )
        .await
        .expect("sent");
        assert_eq!(resp.status(), StatusCode::FORBIDDEN);
        let (status, _) = get_json(&http, &sb.discovery_url()).await;
        assert_eq!(status, StatusCode::OK);
        sb.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn write_config_produces_a_profile_per_client() {
    within("test", async {
        let sb = start(SandboxOptions::default()).await;
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("tokenscope.toml");
        std::fs::write(&path, "stale, world-readable").expect("pre-existing file");
        sb.write_config(&path).expect("config written");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(&path).expect("meta").permissions().mode();
            assert_eq!(mode & 0o777, 0o600, "the config holds secrets");
        }
        let text = std::fs::read_to_string(&path).expect("readable");
        let config: toml::Table = text.parse().expect("valid TOML");
        assert_eq!(config["default_profile"].as_str(), Some("console-rw"));
        let profiles = config["profiles"].as_table().expect("profiles");
        assert_eq!(
            profiles.keys().collect::<HashSet<_>>(),
            [
                "console-rw",
                "mobile-ro",
                "no-roles",
                "expired-secret",
                "console-cert",
                "workload"
            ]
            .iter()
            .map(|s| s.to_string())
            .collect::<HashSet<_>>()
            .iter()
            .collect()
        );
        for client in sb.clients() {
            let p = profiles[&client.name].as_table().expect("profile");
            let keys: HashSet<&str> = p.keys().map(String::as_str).collect();
            // Secret clients carry the secret inline; the others name a file next to the
            // config, which write_config wrote.
            let credential_key = match client.name.as_str() {
                "console-cert" => "client_certificate_path",
                "workload" => "federated_token_file",
                _ => "client_secret",
            };
            let mut expected = HashSet::from([
                "authority",
                "client_id",
                credential_key,
                "scope",
                "api_url",
                "expected_roles",
                "graph_url",
                "graph_credential",
            ]);
            // Every profile reads the set-up through the sandbox's Graph: console-rw with
            // its own credential (it holds Application.Read.All), the others through it.
            assert_eq!(p["graph_url"].as_str(), Some(sb.graph_url().as_str()));
            let reader = if client.name == "console-rw" {
                "profile"
            } else {
                "console-rw"
            };
            assert_eq!(
                p["graph_credential"].as_str(),
                Some(reader),
                "{}",
                client.name
            );
            if credential_key == "client_secret" {
                expected.insert("secret_expires");
                let written = p["secret_expires"].as_str().expect("secret_expires");
                let written = chrono::DateTime::parse_from_rfc3339(written).unwrap();
                assert_eq!(written.to_utc(), client.secret_expires, "{}", client.name);
            }
            assert_eq!(keys, expected);
            if credential_key != "client_secret" {
                let file = dir.path().join(p[credential_key].as_str().expect("path"));
                assert!(file.is_file(), "{} exists", file.display());
                continue;
            }
            assert_eq!(p["authority"].as_str(), Some(sb.authority().as_str()));
            assert_eq!(p["client_id"].as_str(), Some(client.client_id.as_str()));
            assert_eq!(p["client_secret"].as_str(), Some(client.secret.as_str()));
            assert_eq!(p["scope"].as_str(), Some(sb.api_scope().as_str()));
            assert_eq!(p["api_url"].as_str(), Some(sb.api_url_template().as_str()));
        }
        let roles = |name: &str| -> Vec<String> {
            profiles[name]["expected_roles"]
                .as_array()
                .expect("array")
                .iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect()
        };
        assert_eq!(roles("console-rw"), ["Weather.Read", "Weather.Write"]);
        assert_eq!(
            roles("no-roles"),
            ["Weather.Read"],
            "the API's required role"
        );

        // The CLI banner lists what a user needs, and says the secrets are sandbox-only.
        let banner = tokenscope::sandbox::cli::summary(&sb, Some(&path));
        assert!(banner.contains("sandbox-only"));
        for client in sb.clients() {
            assert!(banner.contains(&client.client_id));
            assert!(banner.contains(&client.secret));
        }
        assert!(banner.contains("console-cert.pem"), "{banner}");
        assert!(banner.contains("workload.token"), "{banner}");
        assert!(banner.contains("/_sandbox/rotate-key"));
        assert!(banner.contains(&sb.token_endpoint()));
        sb.shutdown().await;
    })
    .await;
}
