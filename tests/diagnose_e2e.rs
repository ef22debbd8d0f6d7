//! Diagnosis reproduced through the sandbox: each failure a user meets, named with its cause
//! and fix; `doctor` exit codes and JSON.

use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Duration;

use serde_json::Value;
use tokenscope::api;
use tokenscope::auth;
use tokenscope::config::{self, Env, LoadOptions, Profile};
use tokenscope::diagnose::{Severity, aadsts, refusal};
use tokenscope::jwt::{self, Expectations, Verifier};
use tokenscope::sandbox::{Endpoint, Sandbox, SandboxHandle, SandboxOptions, TokenVersion};

const WAIT: Duration = Duration::from_secs(30);

async fn sandbox() -> SandboxHandle {
    tokio::time::timeout(WAIT, Sandbox::start(SandboxOptions::default()))
        .await
        .unwrap()
        .unwrap()
}

fn config(sb: &SandboxHandle, dir: &Path) -> PathBuf {
    let p = dir.join("config.toml");
    sb.write_config(&p).unwrap();
    p
}

fn profile(cfg: &Path, name: &str) -> Profile {
    config::load(
        &LoadOptions {
            config: Some(cfg.into()),
            profile: Some(name.into()),
        },
        &Env::default(),
    )
    .unwrap()
}

fn http() -> reqwest::Client {
    tokenscope::http::client(&tokenscope::http::HttpOptions {
        connect_timeout: Duration::from_secs(5),
        timeout: Duration::from_secs(10),
        ca_file: None,
    })
    .unwrap()
}

async fn doctor(cfg: &Path, name: &str) -> (Option<i32>, Value) {
    let out: Output = tokio::time::timeout(
        WAIT,
        tokio::process::Command::new(env!("CARGO_BIN_EXE_tokenscope"))
            .args(["doctor", "--json", "-p", name])
            .env("TOKENSCOPE_CONFIG", cfg)
            .env("XDG_CACHE_HOME", cfg.parent().unwrap().join("cache"))
            .env_remove("AZURE_CLIENT_SECRET")
            .env_remove("AZURE_CLIENT_ID")
            .env_remove("AZURE_TENANT_ID")
            .env_remove("AZURE_AUTHORITY_HOST")
            .output(),
    )
    .await
    .unwrap()
    .unwrap();
    let j = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)));
    (out.status.code(), j)
}

fn check<'a>(j: &'a Value, stage: &str) -> &'a Value {
    j["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["stage"] == stage)
        .unwrap_or_else(|| panic!("no {stage} in {j:#}"))
}

#[tokio::test]
async fn doctor_all_green_then_each_failure() {
    let sb = sandbox().await;
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(&sb, dir.path());

    let (code, j) = doctor(&cfg, "console-rw").await;
    assert_eq!(code, Some(0), "{j:#}");
    assert_eq!(j["ok"], true);
    for stage in [
        "discovery",
        "token",
        "signature",
        "issuer",
        "audience",
        "tenant",
        "lifetime",
        "roles",
        "api",
    ] {
        assert_eq!(check(&j, stage)["severity"], "ok", "{stage}: {j:#}");
    }
    assert_eq!(
        check(&j, "config")["severity"],
        "warning",
        "inline sandbox secret is linted"
    );

    // Expired secret.
    let (code, j) = doctor(&cfg, "expired-secret").await;
    assert_eq!(code, Some(1));
    let t = check(&j, "token");
    assert!(
        t["detail"].as_str().unwrap().starts_with("AADSTS7000222"),
        "{t}"
    );
    assert!(
        t["fix"]
            .as_str()
            .unwrap()
            .contains("Certificates & secrets")
    );

    // Revoked role → the API refuses and says which role.
    sb.revoke_role("mobile-ro", "Weather.Read").unwrap();
    let (code, j) = doctor(&cfg, "mobile-ro").await;
    assert_eq!(code, Some(1));
    let a = check(&j, "api");
    assert!(a["detail"].as_str().unwrap().contains("403"), "{a}");
    assert!(
        a["detail"]
            .as_str()
            .unwrap()
            .contains("the API requires Weather.Read"),
        "{a}"
    );
    assert_eq!(check(&j, "roles")["severity"], "error");

    // Changed required role → both roles named.
    sb.set_required_role("Weather.Write").unwrap();
    sb.grant_role("mobile-ro", "Weather.Read").unwrap();
    let (_, j) = doctor(&cfg, "mobile-ro").await;
    let a = check(&j, "api")["detail"].as_str().unwrap().to_string();
    assert!(
        a.ends_with("the token carries Weather.Read; the API requires Weather.Write"),
        "{a}"
    );
    sb.shutdown().await;
}

#[tokio::test]
async fn scope_for_another_api_and_common_authority() {
    let sb = sandbox().await;
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(&sb, dir.path());
    let mut p = profile(&cfg, "console-rw");
    p.scope = "api://00000000-1111-2222-3333-444444444444/.default".into();
    let e = auth::request_token(&http(), &p).await.unwrap_err();
    assert_eq!(e.aadsts_code(), Some(500011));
    let advice = aadsts::advise(&e);
    assert!(advice.fix.contains("Expose an API"), "{advice:?}");

    let mut p = profile(&cfg, "console-rw");
    p.scope = p.scope.trim_end_matches("/.default").to_string() + "/Weather.Read";
    let e = auth::request_token(&http(), &p).await.unwrap_err();
    assert_eq!(e.aadsts_code(), Some(1002012));
    assert!(aadsts::advise(&e).fix.contains("/.default"));
    sb.shutdown().await;
}

#[tokio::test]
async fn verification_v1_rotation_and_expiry() {
    let sb = sandbox().await;
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(&sb, dir.path());
    let p = profile(&cfg, "console-rw");
    let verifier = Verifier::new(http());
    let expect = Expectations::from(&p);
    let all_ok = |checks: &[jwt::Check]| checks.iter().all(|c| c.severity == Severity::Ok);

    let t = auth::request_token(&http(), &p).await.unwrap();
    let raw = t.access_token.expose().to_string();
    let j = jwt::decode(&raw).unwrap();
    let checks = verifier.verify(&raw, &j, &expect).await;
    assert!(all_ok(&checks), "{checks:#?}");

    // v1 token: verified against the v1 discovery document, aud = App ID URI.
    sb.set_access_token_version(TokenVersion::V1);
    let t1 = auth::request_token(&http(), &p).await.unwrap();
    let raw1 = t1.access_token.expose().to_string();
    let j1 = jwt::decode(&raw1).unwrap();
    assert_eq!(j1.claims.ver.as_deref(), Some("1.0"));
    let checks = verifier.verify(&raw1, &j1, &expect).await;
    assert!(all_ok(&checks), "{checks:#?}");
    assert!(checks[0].detail.starts_with("v1 document"));
    sb.set_access_token_version(TokenVersion::V2);

    // Rotation: the old token still verifies (grace), the new kid is fetched right away.
    let jwks_before = sb.request_count(Endpoint::Jwks);
    sb.rotate_signing_key().await.unwrap();
    assert!(all_ok(&verifier.verify(&raw, &j, &expect).await));
    let t2 = auth::request_token(&http(), &p).await.unwrap();
    let raw2 = t2.access_token.expose().to_string();
    let j2 = jwt::decode(&raw2).unwrap();
    assert_ne!(j2.kid(), j.kid());
    let checks = verifier.verify(&raw2, &j2, &expect).await;
    assert!(all_ok(&checks), "{checks:#?}");
    assert_eq!(
        sb.request_count(Endpoint::Jwks),
        jwks_before + 1,
        "one refetch for the new kid"
    );

    // A tampered token fails the signature check, not the others.
    let mut parts: Vec<&str> = raw2.split('.').collect();
    let forged_payload = jwt::b64url(
        serde_json::to_string(&j.payload)
            .unwrap()
            .replace("Weather.Read", "Weather.Admin")
            .as_bytes(),
    );
    parts[1] = &forged_payload;
    let forged = parts.join(".");
    let jf = jwt::decode(&forged).unwrap();
    let checks = verifier.verify(&forged, &jf, &expect).await;
    let sig = checks.iter().find(|c| c.name == "signature").unwrap();
    assert_eq!(sig.severity, Severity::Error, "{sig:?}");

    // A token past expiry: minted with the sandbox clock 3 hours behind.
    sb.set_clock_offset(chrono::TimeDelta::hours(-3));
    let old = auth::request_token(&http(), &p).await.unwrap();
    sb.set_clock_offset(chrono::TimeDelta::zero());
    let raw_old = old.access_token.expose().to_string();
    let jo = jwt::decode(&raw_old).unwrap();
    let checks = verifier.verify(&raw_old, &jo, &expect).await;
    let life = checks.iter().find(|c| c.name == "lifetime").unwrap();
    assert_eq!(life.severity, Severity::Error);
    assert!(life.detail.starts_with("expired"), "{life:?}");
    // …and the API's 401 is explained as expiry.
    let resp = api::call_weather(&http(), &p.api_url, "Seattle", &old.access_token)
        .await
        .unwrap();
    assert_eq!(resp.status, 401);
    assert_eq!(
        resp.bearer_challenge().and_then(|c| c.error()),
        Some("invalid_token")
    );
    let advice = refusal::explain(&resp, Some(&jo.claims), &p.expected_roles, &p.scope).unwrap();
    assert_eq!(advice.summary, "the token has expired");
    sb.shutdown().await;
}
