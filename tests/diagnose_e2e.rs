//! Diagnosis reproduced through the sandbox: each failure a user meets, named with its cause
//! and fix; `doctor` exit codes and JSON; what `call` and `doctor` print for a refusal, an
//! HTTP error, the latency and the temperature unit.

#[path = "fixtures/support.rs"]
mod support;
use support::{client, profile, run_cli, sandbox_config as config};

use std::path::Path;

use serde_json::Value;
use tokenscope::api;
use tokenscope::auth;
use tokenscope::diagnose::{Severity, aadsts, refusal};
use tokenscope::jwt::{self, Expectations, Verifier};
use tokenscope::sandbox::{Endpoint, SandboxHandle, SandboxOptions, TokenVersion};

async fn sandbox() -> SandboxHandle {
    support::sandbox(SandboxOptions::default()).await
}

/// `tokenscope doctor --json -p NAME` with the config at `cfg`: (exit code, the report).
async fn doctor(cfg: &Path, name: &str) -> (Option<i32>, Value) {
    let home = cfg.parent().expect("the config's directory");
    let cfg = cfg.to_str().expect("a UTF-8 path");
    let o = run_cli(
        home,
        &["--config", cfg, "doctor", "--json", "-p", name],
        &[],
    )
    .await;
    (o.status.code(), support::stdout_json(&o))
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
    let e = auth::request_token(&client(&p), &p).await.unwrap_err();
    assert_eq!(e.aadsts_code(), Some(500011));
    let advice = aadsts::advise(&e);
    assert!(advice.fix.contains("Expose an API"), "{advice:?}");

    let mut p = profile(&cfg, "console-rw");
    p.scope = p.scope.trim_end_matches("/.default").to_string() + "/Weather.Read";
    let e = auth::request_token(&client(&p), &p).await.unwrap_err();
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
    let verifier = Verifier::new(client(&p));
    let expect = Expectations::from(&p);
    let all_ok = |checks: &[jwt::Check]| checks.iter().all(|c| c.severity == Severity::Ok);

    let t = auth::request_token(&client(&p), &p).await.unwrap();
    let raw = t.access_token.expose().to_string();
    let j = jwt::decode(&raw).unwrap();
    let checks = verifier.verify(&raw, &j, &expect).await;
    assert!(all_ok(&checks), "{checks:#?}");

    // v1 token: verified against the v1 discovery document, aud = App ID URI.
    sb.set_access_token_version(TokenVersion::V1);
    let t1 = auth::request_token(&client(&p), &p).await.unwrap();
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
    let t2 = auth::request_token(&client(&p), &p).await.unwrap();
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
    let old = auth::request_token(&client(&p), &p).await.unwrap();
    sb.set_clock_offset(chrono::TimeDelta::zero());
    let raw_old = old.access_token.expose().to_string();
    let jo = jwt::decode(&raw_old).unwrap();
    let checks = verifier.verify(&raw_old, &jo, &expect).await;
    let life = checks.iter().find(|c| c.name == "lifetime").unwrap();
    assert_eq!(life.severity, Severity::Error);
    assert!(life.detail.starts_with("expired"), "{life:?}");
    // …and the API's 401 is explained as expiry.
    let resp = api::call_weather(&client(&p), &p.api_url, "Seattle", &old.access_token)
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

/// `cfg`'s text with `edit` applied, written next to it as `name`.
fn edited_config(cfg: &Path, name: &str, edit: impl FnOnce(String) -> String) -> String {
    let text = std::fs::read_to_string(cfg).unwrap();
    let path = cfg.with_file_name(name);
    std::fs::write(&path, edit(text)).unwrap();
    path.to_str().unwrap().to_string()
}

fn stdout(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[tokio::test]
async fn call_prints_latency_and_the_temperature_unit_as_the_dashboard_does() {
    let sb = sandbox().await;
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(&sb, dir.path());
    let cfg = cfg.to_str().unwrap();
    let o = run_cli(dir.path(), &["--config", cfg, "call", "Seattle"], &[]).await;
    assert_eq!(o.status.code(), Some(0), "{}", support::all_output(&o));
    let out = stdout(&o);

    // "GET …/api/weather/Seattle → 200 in 0.6 ms": a decimal below 10 ms, never "0 ms".
    let line = out
        .lines()
        .find(|l| l.starts_with("GET "))
        .expect("a GET line");
    let shown = line.split(" → 200 in ").nth(1).expect("status and latency");
    let ms = shown.strip_suffix(" ms").expect("in ms");
    let value: f64 = ms.parse().unwrap_or_else(|e| panic!("{ms:?}: {e}"));
    if value < 10.0 {
        assert!(
            ms.split_once('.').is_some_and(|(_, d)| d.len() == 1),
            "{line}"
        );
    } else {
        assert!(!ms.contains('.'), "{line}");
    }

    // The sandbox's api_url sets no units=: the API's default, metric, so °C (as the
    // dashboard's weather card says), not a bare °.
    let weather = out
        .lines()
        .find_map(|l| l.strip_prefix("Seattle: "))
        .unwrap_or_else(|| panic!("a weather line in {out}"));
    let temps: Vec<&str> = weather.split(", ").filter(|p| p.contains('°')).collect();
    assert_eq!(temps.len(), 4, "{weather}");
    assert!(temps.iter().all(|t| t.ends_with("°C")), "{weather}");
    sb.shutdown().await;
}

#[tokio::test]
async fn doctor_grades_the_credential_line_by_its_expiry() {
    let sb = sandbox().await;
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(&sb, dir.path());

    let (_, j) = doctor(&cfg, "console-rw").await;
    assert_eq!(check(&j, "credential")["severity"], "ok", "{j:#}");

    // The expired secret: ✗ on its credential line too, not only in the lint line.
    let (code, j) = doctor(&cfg, "expired-secret").await;
    assert_eq!(code, Some(1));
    let c = check(&j, "credential");
    assert_eq!(c["severity"], "error", "{c}");
    assert!(c["detail"].as_str().unwrap().contains(" ago)"), "{c}");
    let home = dir.path();
    let path = cfg.to_str().unwrap();
    let o = run_cli(
        home,
        &["--config", path, "-p", "expired-secret", "doctor"],
        &[],
    )
    .await;
    let out = stdout(&o);
    let line = out
        .lines()
        .find(|l| l.contains(" credential "))
        .unwrap_or_else(|| panic!("a credential line in {out}"));
    assert!(line.starts_with("✗ credential"), "{out}");

    // A secret that expires in ten days: ⚠, and doctor still passes.
    let soon = (chrono::Utc::now() + chrono::Duration::days(10) + chrono::Duration::hours(1))
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let renewing = edited_config(&cfg, "soon.toml", |text| {
        let (head, tail) = text.split_once("[profiles.console-rw]").unwrap();
        let (old, rest) = tail.split_once("secret_expires = ").unwrap();
        let (_, rest) = rest.split_once('\n').unwrap();
        format!("{head}[profiles.console-rw]{old}secret_expires = \"{soon}\"\n{rest}")
    });
    let (code, j) = doctor(Path::new(&renewing), "console-rw").await;
    assert_eq!(code, Some(0), "{j:#}");
    let c = check(&j, "credential");
    assert_eq!(c["severity"], "warning", "{c}");
    assert!(
        c["detail"].as_str().unwrap().ends_with("(in 10 days)"),
        "{c}"
    );
    sb.shutdown().await;
}

#[tokio::test]
async fn call_and_doctor_explain_an_http_error() {
    let sb = sandbox().await;
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(&sb, dir.path());
    let wrong_path = edited_config(&cfg, "404.toml", |text| {
        text.replace("/api/weather/{city}", "/api/nowhere/{city}")
    });
    let cfg = wrong_path.as_str();

    let o = run_cli(dir.path(), &["--config", cfg, "call", "Seattle"], &[]).await;
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert_eq!(o.status.code(), Some(5), "{}", support::all_output(&o));
    assert!(
        err.starts_with(
            "error: the API has no such resource (HTTP 404)\nwhy: Not an authorisation problem."
        ),
        "{err}"
    );
    assert!(err.contains("\nfix: Check api_url"), "{err}");

    let o = run_cli(
        dir.path(),
        &["--config", cfg, "call", "Seattle", "--json"],
        &[],
    )
    .await;
    let j = support::stdout_json(&o);
    assert_eq!(
        j["diagnosis"]["summary"], "the API has no such resource (HTTP 404)",
        "{j:#}"
    );

    let (code, j) = doctor(Path::new(cfg), "console-rw").await;
    assert_eq!(code, Some(1));
    let a = check(&j, "api");
    let detail = a["detail"].as_str().unwrap();
    assert!(
        detail.contains("→ 404 in ")
            && detail.ends_with(" ms: the API has no such resource (HTTP 404)"),
        "{a}"
    );
    assert!(a["fix"].as_str().unwrap().contains("api_url"), "{a}");
    sb.shutdown().await;
}
