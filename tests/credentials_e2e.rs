//! Certificate and federated credentials end to end: a profile written as a config file
//! (the keys a user writes), `ClientCertificate`/`FederatedToken` behind it, the in-process
//! sandbox as the identity provider checking the assertion, and the weather API.
//! Offline; every await is under a timeout.

#[path = "fixtures/support.rs"]
mod support;
use support::{client as http, sandbox as start, within};

use std::path::{Path, PathBuf};
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{TimeDelta, Utc};
use serde_json::Value;
use tokenscope::api;
use tokenscope::auth::{self, TokenError};
use tokenscope::config::{self, Credential, Env, LoadOptions, Profile};
use tokenscope::credential::{AssertionAlg, CertFormat, ClientCertificate};
use tokenscope::problem::Problem;
use tokenscope::sandbox::{SandboxHandle, SandboxOptions, TokenVersion};

const SUBJECT: &str = "system:serviceaccount:weather:console";
const EXCHANGE_AUDIENCE: &str = "api://AzureADTokenExchange";

fn q(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

/// Writes a one-profile config file into `dir` with the given credential lines and loads
/// it as a user would (`--config`, `--profile`).
fn profile(
    sb: &SandboxHandle,
    dir: &Path,
    client: &str,
    credential_lines: &[(&str, String)],
    env: &Env,
) -> Result<Profile, config::ConfigError> {
    let client_id = sb.client(client).expect("shipped client").client_id;
    let mut text = format!(
        "[profiles.{client}]\nauthority = {}\nclient_id = {}\nscope = {}\napi_url = {}\n",
        q(&sb.authority()),
        q(&client_id),
        q(&sb.api_scope()),
        q(&sb.api_url_template()),
    );
    for (key, value) in credential_lines {
        text.push_str(&format!("{key} = {value}\n"));
    }
    let path = dir.join(format!("{client}.toml"));
    std::fs::write(&path, text).expect("config written");
    config::load(
        &LoadOptions {
            config: Some(path),
            profile: Some(client.to_string()),
        },
        env,
    )
}

fn path_value(p: &Path) -> String {
    q(&p.display().to_string())
}

fn claims(jwt: &str) -> Value {
    let payload = jwt.split('.').nth(1).expect("a JWT");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).expect("base64url")).expect("JSON")
}

fn header(jwt: &str) -> Value {
    let h = jwt.split('.').next().expect("a JWT");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(h).expect("base64url")).expect("JSON")
}

/// Token from the sandbox, then the weather API with it: (access-token claims, API status).
async fn token_and_weather(p: &Profile) -> (Value, u16) {
    let client = http(p);
    let token = within("token", auth::request_token(&client, p))
        .await
        .unwrap_or_else(|e| panic!("token for {}: {e}", p.name));
    let claims = claims(token.access_token.expose());
    let resp = within(
        "weather",
        api::call_weather(&client, &p.api_url, "Seattle", &token.access_token),
    )
    .await
    .expect("weather call");
    (claims, resp.status)
}

async fn rejected_code(p: &Profile) -> (u64, String) {
    let e = within("token", auth::request_token(&http(p), p))
        .await
        .expect_err("the sandbox refuses");
    match &e {
        TokenError::Rejected { entra, .. } => (
            entra.error_codes.first().copied().unwrap_or_default(),
            e.to_string(),
        ),
        other => panic!("expected an Entra rejection, got {other:?}"),
    }
}

fn cert_of(p: &Profile) -> (&ClientCertificate, bool, AssertionAlg) {
    match &p.credential {
        Credential::Certificate {
            cert,
            send_chain,
            alg,
            ..
        } => (cert, *send_chain, *alg),
        other => panic!("expected a certificate credential, got {}", other.kind()),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pem_and_pkcs12_certificates_get_a_certificate_token_and_the_weather() {
    let sb = start(SandboxOptions::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let files = sb
        .write_client_certificate("console-cert", dir.path())
        .expect("certificate files");

    let combined = profile(
        &sb,
        dir.path(),
        "console-cert",
        &[("client_certificate_path", path_value(&files.combined_pem))],
        &Env::default(),
    )
    .expect("combined PEM profile");
    let (cert, send_chain, alg) = cert_of(&combined);
    assert_eq!(cert.info().format, CertFormat::Pem);
    assert_eq!(cert.info().thumbprint, files.thumbprint);
    assert_eq!(cert.info().x5t_s256, files.x5t_s256);
    assert_eq!((send_chain, alg), (false, AssertionAlg::Ps256));
    let (claims, status) = token_and_weather(&combined).await;
    assert_eq!(claims["azpacr"], "2", "a certificate token: {claims}");
    assert_eq!(claims["azp"], combined.client_id.as_str());
    assert_eq!(status, 200);

    let split = profile(
        &sb,
        dir.path(),
        "console-cert",
        &[
            ("client_certificate_path", path_value(&files.cert_pem)),
            ("client_certificate_key_path", path_value(&files.key_pem)),
        ],
        &Env::default(),
    )
    .expect("split PEM profile");
    let (claims, status) = token_and_weather(&split).await;
    assert_eq!((claims["azpacr"].as_str(), status), (Some("2"), 200));

    let env = Env::from_pairs([("PFX_PASSWORD", files.pfx_password.as_str())]);
    let pfx = profile(
        &sb,
        dir.path(),
        "console-cert",
        &[
            ("client_certificate_path", path_value(&files.pfx)),
            ("client_certificate_password_env", q("PFX_PASSWORD")),
        ],
        &env,
    )
    .expect("PKCS#12 profile");
    assert_eq!(cert_of(&pfx).0.info().format, CertFormat::Pkcs12);
    assert_eq!(cert_of(&pfx).0.info().thumbprint, files.thumbprint);
    let (claims, status) = token_and_weather(&pfx).await;
    assert_eq!((claims["azpacr"].as_str(), status), (Some("2"), 200));

    // The azure-identity variables work without any credential key in the file.
    let env = Env::from_pairs([
        (
            "AZURE_CLIENT_CERTIFICATE_PATH",
            files.pfx.display().to_string(),
        ),
        (
            "AZURE_CLIENT_CERTIFICATE_PASSWORD",
            files.pfx_password.clone(),
        ),
    ]);
    let from_env = profile(&sb, dir.path(), "console-cert", &[], &env).expect("env profile");
    let (claims, status) = token_and_weather(&from_env).await;
    assert_eq!((claims["azpacr"].as_str(), status), (Some("2"), 200));

    // A wrong PKCS#12 password is a config-time error naming the variable, without the value.
    let env = Env::from_pairs([("PFX_PASSWORD", "not-the-password-canary")]);
    let e = profile(
        &sb,
        dir.path(),
        "console-cert",
        &[
            ("client_certificate_path", path_value(&files.pfx)),
            ("client_certificate_password_env", q("PFX_PASSWORD")),
        ],
        &env,
    )
    .expect_err("wrong password")
    .full_text();
    assert!(e.contains("AZURE_CLIENT_CERTIFICATE_PASSWORD"), "{e}");
    assert!(
        !e.contains("not-the-password-canary") && !e.contains(&files.pfx_password),
        "{e}"
    );
    sb.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rs256_with_x5t_and_the_chain_in_x5c_are_accepted() {
    let sb = start(SandboxOptions::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let files = sb
        .write_client_certificate("console-cert", dir.path())
        .expect("certificate files");
    let p = profile(
        &sb,
        dir.path(),
        "console-cert",
        &[
            ("client_certificate_path", path_value(&files.combined_pem)),
            ("assertion_algorithm", q("RS256")),
            ("send_certificate_chain", "true".into()),
        ],
        &Env::default(),
    )
    .expect("profile");
    let (cert, send_chain, alg) = cert_of(&p);
    assert_eq!((send_chain, alg), (true, AssertionAlg::Rs256));
    let assertion = cert
        .assertion(&p.client_id, &p.token_endpoint, alg, send_chain, Utc::now())
        .expect("assertion");
    let h = header(assertion.expose());
    assert_eq!(h["alg"], "RS256");
    assert_eq!(h["x5t"], cert.info().x5t.as_str());
    assert!(h.get("x5t#S256").is_none(), "{h}");
    assert_eq!(h["x5c"].as_array().map(Vec::len), Some(1), "{h}");
    let (claims, status) = token_and_weather(&p).await;
    assert_eq!((claims["azpacr"].as_str(), status), (Some("2"), 200));
    sb.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unregistered_certificate_is_refused_with_700027() {
    let sb = start(SandboxOptions::default()).await;
    let dir = tempfile::tempdir().unwrap();
    // A certificate the app registration has never seen.
    let key = rcgen::KeyPair::generate_rsa_for(&rcgen::PKCS_RSA_SHA256, rcgen::RsaKeySize::_2048)
        .unwrap();
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    params.distinguished_name = rcgen::DistinguishedName::new();
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "not-registered");
    let cert = params.self_signed(&key).unwrap();
    let path = dir.path().join("stranger.pem");
    std::fs::write(&path, format!("{}{}", cert.pem(), key.serialize_pem())).unwrap();
    let p = profile(
        &sb,
        dir.path(),
        "console-cert",
        &[("client_certificate_path", path_value(&path))],
        &Env::default(),
    )
    .expect("profile loads: registration is the identity provider's business");
    let (code, text) = rejected_code(&p).await;
    assert_eq!(code, 700027, "{text}");
    assert!(text.contains("AADSTS700027"), "{text}");
    sb.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_assertion_is_reused_across_token_requests_within_its_window() {
    let sb = start(SandboxOptions::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let files = sb
        .write_client_certificate("console-cert", dir.path())
        .expect("certificate files");
    let p = profile(
        &sb,
        dir.path(),
        "console-cert",
        &[("client_certificate_path", path_value(&files.combined_pem))],
        &Env::default(),
    )
    .expect("profile");
    let (cert, send_chain, alg) = cert_of(&p);
    let before = cert
        .assertion(&p.client_id, &p.token_endpoint, alg, send_chain, Utc::now())
        .expect("assertion");
    let client = http(&p);
    for i in 0..2 {
        within("token", auth::request_token(&client, &p))
            .await
            .unwrap_or_else(|e| panic!("token request {i}: {e}"));
    }
    let after = cert
        .assertion(&p.client_id, &p.token_endpoint, alg, send_chain, Utc::now())
        .expect("assertion");
    // Had either request signed a new assertion, it would have replaced the kept one.
    assert_eq!(before.expose(), after.expose());
    let c = claims(after.expose());
    assert_eq!(c["aud"], p.token_endpoint.as_str());
    assert_eq!(c["iss"], p.client_id.as_str());
    assert_eq!(c["sub"], p.client_id.as_str());
    assert_eq!(c["exp"].as_i64().unwrap() - c["iat"].as_i64().unwrap(), 600);
    sb.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_federated_token_file_gets_a_token_and_a_wrong_subject_is_refused() {
    let sb = start(SandboxOptions::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let token_path = dir.path().join("workload.token");
    let token = sb
        .mint_federated_token(SUBJECT, EXCHANGE_AUDIENCE, Duration::from_secs(3600))
        .expect("federated token");
    std::fs::write(&token_path, format!("{token}\n")).unwrap();
    let p = profile(
        &sb,
        dir.path(),
        "workload",
        &[("federated_token_file", path_value(&token_path))],
        &Env::default(),
    )
    .expect("federated profile");
    assert_eq!(p.credential.kind(), "federated token");
    let (claims, status) = token_and_weather(&p).await;
    assert_eq!(claims["azpacr"], "2", "{claims}");
    assert_eq!(claims["azp"], p.client_id.as_str());
    assert_eq!(status, 200);

    // The same through AZURE_FEDERATED_TOKEN_FILE.
    let env = Env::from_pairs([(
        "AZURE_FEDERATED_TOKEN_FILE",
        token_path.display().to_string(),
    )]);
    let from_env = profile(&sb, dir.path(), "workload", &[], &env).expect("env profile");
    let (claims, status) = token_and_weather(&from_env).await;
    assert_eq!((claims["azpacr"].as_str(), status), (Some("2"), 200));

    // A token for another service account: no federated credential has that subject.
    let other_path = dir.path().join("other.token");
    let other = sb
        .mint_federated_token(
            "system:serviceaccount:weather:intruder",
            EXCHANGE_AUDIENCE,
            Duration::from_secs(3600),
        )
        .expect("federated token");
    std::fs::write(&other_path, &other).unwrap();
    let p = profile(
        &sb,
        dir.path(),
        "workload",
        &[("federated_token_file", path_value(&other_path))],
        &Env::default(),
    )
    .expect("profile");
    let (code, text) = rejected_code(&p).await;
    assert_eq!(code, 700213, "{text}");
    assert!(
        !text.contains(&other),
        "the token must not be echoed: {text}"
    );
    sb.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_calls_the_api_with_a_certificate_profile() {
    let sb = start(SandboxOptions::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let files = sb
        .write_client_certificate("console-cert", dir.path())
        .expect("certificate files");
    profile(
        &sb,
        dir.path(),
        "console-cert",
        &[("client_certificate_path", path_value(&files.combined_pem))],
        &Env::default(),
    )
    .expect("profile");
    let config: PathBuf = dir.path().join("console-cert.toml");
    let out = within(
        "tokenscope call",
        tokio::process::Command::new(env!("CARGO_BIN_EXE_tokenscope"))
            .args(["call", "Seattle", "--profile", "console-cert", "--config"])
            .arg(&config)
            .env_remove("AZURE_CLIENT_SECRET")
            .env_remove("AZURE_CLIENT_ID")
            .env_remove("AZURE_TENANT_ID")
            .env_remove("AZURE_CLIENT_CERTIFICATE_PATH")
            .env_remove("AZURE_FEDERATED_TOKEN_FILE")
            .env_remove("TOKENSCOPE_CONFIG")
            .env("NO_COLOR", "1")
            .env("XDG_CACHE_HOME", dir.path().join("cache"))
            .env("HOME", dir.path())
            .stdin(std::process::Stdio::null())
            .output(),
    )
    .await
    .expect("runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "stdout:\n{stdout}\nstderr:\n{stderr}");
    assert!(stdout.contains("200"), "{stdout}");
    assert!(!stdout.contains("PRIVATE KEY") && !stderr.contains("PRIVATE KEY"));
    sb.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn v1_tokens_say_appidacr_2_and_a_skewed_clock_gives_700024() {
    let sb = start(SandboxOptions::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let files = sb
        .write_client_certificate("console-cert", dir.path())
        .expect("certificate files");
    let lines = [("client_certificate_path", path_value(&files.combined_pem))];
    sb.set_access_token_version(TokenVersion::V1);
    let p = profile(&sb, dir.path(), "console-cert", &lines, &Env::default()).expect("profile");
    let (claims, status) = token_and_weather(&p).await;
    assert_eq!(claims["appidacr"], "2", "{claims}");
    assert_eq!(claims["ver"], "1.0", "{claims}");
    assert_eq!(status, 200);

    // The identity provider's clock is an hour ahead: the 10-minute assertion has expired
    // (beyond the 5-minute skew) by its reckoning.
    sb.set_clock_offset(TimeDelta::hours(1));
    let p = profile(&sb, dir.path(), "console-cert", &lines, &Env::default()).expect("profile");
    let (code, text) = rejected_code(&p).await;
    assert_eq!(code, 700024, "{text}");
    sb.shutdown().await;
}
