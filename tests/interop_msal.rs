//! An unmodified MSAL Python client (pinned in tests/fixtures/fastapi/requirements.txt,
//! installed on first use by `support::python_venv`) against the sandbox over TLS: the
//! lecture's console app, pointed at the sandbox instead of Entra.

#[path = "fixtures/support.rs"]
mod support;

use std::process::Stdio;

use serde_json::Value;
use tokenscope::sandbox::{Sandbox, SandboxOptions};

async fn msal(config: &std::path::Path, profile: &str) -> Value {
    msal_with(config, profile, None, &[]).await
}

async fn msal_with(
    config: &std::path::Path,
    profile: &str,
    credential: Option<&str>,
    envs: &[(&str, &str)],
) -> Value {
    let python = support::off_runtime(support::python_venv).await;
    let out = tokio::time::timeout(
        support::WAIT,
        tokio::process::Command::new(&python)
            .arg(support::fixtures().join("msal_client.py"))
            .arg(config)
            .arg(profile)
            .args(credential)
            .envs(envs.iter().copied())
            .stdin(Stdio::null())
            .output(),
    )
    .await
    .expect("MSAL client hung")
    .unwrap();
    assert!(
        out.status.success(),
        "msal_client.py failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)))
}

#[tokio::test]
async fn unmodified_msal_gets_tokens_the_api_accepts() {
    let sb = Sandbox::start(SandboxOptions {
        tls: true,
        ..SandboxOptions::default()
    })
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("config.toml");
    sb.write_config(&cfg).unwrap();

    let ok = msal(&cfg, "console-rw").await;
    assert_eq!(ok["error"], Value::Null, "{ok}");
    assert_eq!(ok["first_source"], "identity_provider", "{ok}");
    assert_eq!(ok["second_source"], "cache", "MSAL reuses the token: {ok}");
    assert_eq!(ok["same_token"], true);
    assert_eq!(ok["api_status"], 200, "{ok}");
    assert!(
        ok["api_body"].as_str().unwrap().contains("\"temp\""),
        "{ok}"
    );

    // The lecture's 403: a client without the required role.
    let no = msal(&cfg, "no-roles").await;
    assert_eq!(no["api_status"], 403, "{no}");
    assert!(
        no["api_body"].as_str().unwrap().starts_with("IDW10203"),
        "{no}"
    );

    // Entra's errors reach MSAL in the shape it parses.
    let expired = msal(&cfg, "expired-secret").await;
    assert_eq!(expired["error"], "invalid_client", "{expired}");
    assert_eq!(
        expired["error_codes"],
        serde_json::json!([7000222]),
        "{expired}"
    );
    sb.shutdown().await;
}

/// MSAL's own client assertions (PS256 + x5t#S256 from a PKCS#12; RS256 + x5t from a PEM key
/// and a SHA-1 thumbprint) against the sandbox's certificate validation, and the
/// PKCS#12 file the sandbox writes read by Python's `cryptography`.
#[tokio::test]
async fn unmodified_msal_with_a_certificate() {
    let sb = Sandbox::start(SandboxOptions {
        tls: true,
        ..SandboxOptions::default()
    })
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("config.toml");
    sb.write_config(&cfg).unwrap();
    let files = sb
        .write_client_certificate("console-cert", dir.path())
        .unwrap();

    let pfx = format!("pfx:{}", files.pfx.display());
    let ok = msal_with(
        &cfg,
        "console-cert",
        Some(&pfx),
        &[("MSAL_PFX_PASSWORD", files.pfx_password.as_str())],
    )
    .await;
    assert_eq!(ok["error"], Value::Null, "{ok}");
    assert_eq!(ok["azpacr"], "2", "a certificate token: {ok}");
    assert_eq!(ok["second_source"], "cache", "{ok}");
    assert_eq!(ok["api_status"], 200, "{ok}");

    let sha1 = format!("pem-sha1:{}:{}", files.key_pem.display(), files.thumbprint);
    let ok = msal_with(&cfg, "console-cert", Some(&sha1), &[]).await;
    assert_eq!(ok["error"], Value::Null, "{ok}");
    assert_eq!(ok["azpacr"], "2", "{ok}");
    assert_eq!(ok["api_status"], 200, "{ok}");

    // A certificate the client never registered: Entra's AADSTS700027, as MSAL reports it.
    let other = tempfile::tempdir().unwrap();
    let stranger = sb
        .write_client_certificate("console-rw", other.path())
        .unwrap();
    let wrong = format!(
        "pem-sha1:{}:{}",
        stranger.key_pem.display(),
        stranger.thumbprint
    );
    let refused = msal_with(&cfg, "console-cert", Some(&wrong), &[]).await;
    assert_eq!(refused["error"], "invalid_client", "{refused}");
    assert_eq!(
        refused["error_codes"],
        serde_json::json!([700027]),
        "{refused}"
    );
    sb.shutdown().await;
}
