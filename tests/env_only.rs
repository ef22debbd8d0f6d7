//! Operation with no config file at all: azure-identity's environment variables (secret,
//! certificate, federated token file) plus TOKENSCOPE_SCOPE / TOKENSCOPE_API_URL make the
//! implicit `env` profile, end to end against the sandbox through the real binary.

#[path = "fixtures/support.rs"]
mod support;

use serde_json::Value;
use tokenscope::sandbox::{Sandbox, SandboxHandle, SandboxOptions};

/// The variables every env-only run shares: the sandbox's host and tenant, the API.
fn base_env(sb: &SandboxHandle, client: &str) -> Vec<(&'static str, String)> {
    let c = sb.client(client).expect("built-in client");
    vec![
        ("AZURE_AUTHORITY_HOST", sb.base_url()),
        ("AZURE_TENANT_ID", sb.tenant_id()),
        ("AZURE_CLIENT_ID", c.client_id),
        ("TOKENSCOPE_SCOPE", sb.api_scope()),
        ("TOKENSCOPE_API_URL", sb.api_url_template()),
        ("TOKENSCOPE_EXPECTED_ROLES", "Weather.Read".into()),
    ]
}

async fn run(
    home: &std::path::Path,
    args: &[&str],
    env: &[(&'static str, String)],
) -> std::process::Output {
    let pairs: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    support::run_cli(home, args, &pairs).await
}

fn claims(token_json: &Value) -> &Value {
    &token_json["claims"]
}

#[tokio::test]
async fn env_only_with_a_secret_a_certificate_and_a_federated_token() {
    let sb = Sandbox::start(SandboxOptions::default()).await.unwrap();
    let home = tempfile::tempdir().unwrap();
    let creds = tempfile::tempdir().unwrap();

    // 1. A client secret.
    let mut env = base_env(&sb, "console-rw");
    let secret = sb.client("console-rw").unwrap().secret;
    env.push(("AZURE_CLIENT_SECRET", secret.clone()));
    let out = run(
        home.path(),
        &["call", "Seattle", "--json", "--no-cache"],
        &env,
    )
    .await;
    assert!(out.status.success(), "{}", support::all_output(&out));
    let j = support::stdout_json(&out);
    assert_eq!(j["profile"], "env", "{j}");
    assert_eq!(j["status"], 200, "{j}");
    assert!(!support::all_output(&out).contains(&secret));

    // 2. A certificate in a password-protected PKCS#12, as AKS/azure-identity would set it.
    let files = sb
        .write_client_certificate("console-cert", creds.path())
        .unwrap();
    let mut env = base_env(&sb, "console-cert");
    env.push((
        "AZURE_CLIENT_CERTIFICATE_PATH",
        files.pfx.display().to_string(),
    ));
    env.push((
        "AZURE_CLIENT_CERTIFICATE_PASSWORD",
        files.pfx_password.clone(),
    ));
    let out = run(home.path(), &["token", "--json", "--no-cache"], &env).await;
    assert!(out.status.success(), "{}", support::all_output(&out));
    let j = support::stdout_json(&out);
    assert_eq!(j["credential"]["kind"], "certificate", "{j}");
    assert_eq!(
        j["credential"]["source"], "AZURE_CLIENT_CERTIFICATE_PATH",
        "{j}"
    );
    assert_eq!(
        j["credential"]["thumbprint"],
        files.thumbprint.as_str(),
        "{j}"
    );
    assert_eq!(claims(&j)["azpacr"], "2", "a certificate token: {j}");
    let text = support::all_output(&out);
    assert!(
        !text.contains(&files.pfx_password),
        "the PFX password leaked"
    );
    let out = run(
        home.path(),
        &["call", "Seattle", "--json", "--no-cache"],
        &env,
    )
    .await;
    assert_eq!(
        support::stdout_json(&out)["status"],
        200,
        "{}",
        support::all_output(&out)
    );
    // The wrong password is a usage error that names the variable to fix.
    let mut wrong = env.clone();
    wrong.retain(|(k, _)| *k != "AZURE_CLIENT_CERTIFICATE_PASSWORD");
    wrong.push((
        "AZURE_CLIENT_CERTIFICATE_PASSWORD",
        "not-the-password".into(),
    ));
    let out = run(home.path(), &["token", "--no-cache"], &wrong).await;
    assert_eq!(out.status.code(), Some(2), "{}", support::all_output(&out));
    assert!(
        support::all_output(&out).contains("AZURE_CLIENT_CERTIFICATE_PASSWORD"),
        "{}",
        support::all_output(&out)
    );

    // 3. A federated token file (workload identity).
    let token_file = creds.path().join("azure-identity-token");
    sb.write_federated_token("workload", &token_file).unwrap();
    let federated = std::fs::read_to_string(&token_file).unwrap();
    let mut env = base_env(&sb, "workload");
    env.push((
        "AZURE_FEDERATED_TOKEN_FILE",
        token_file.display().to_string(),
    ));
    let out = run(home.path(), &["token", "--json", "--no-cache"], &env).await;
    assert!(out.status.success(), "{}", support::all_output(&out));
    let j = support::stdout_json(&out);
    assert_eq!(j["credential"]["kind"], "federated", "{j}");
    assert_eq!(
        claims(&j)["roles"],
        serde_json::json!(["Weather.Read"]),
        "{j}"
    );
    assert!(!support::all_output(&out).contains(federated.trim()));
    let out = run(
        home.path(),
        &["call", "Seattle", "--json", "--no-cache"],
        &env,
    )
    .await;
    assert_eq!(
        support::stdout_json(&out)["status"],
        200,
        "{}",
        support::all_output(&out)
    );

    // 4. An incomplete set: exit 2, naming what is missing.
    let env = vec![("AZURE_CLIENT_ID", "x".to_string())];
    let out = run(home.path(), &["token"], &env).await;
    assert_eq!(out.status.code(), Some(2), "{}", support::all_output(&out));
    let text = support::all_output(&out);
    for v in ["AZURE_TENANT_ID", "TOKENSCOPE_SCOPE", "TOKENSCOPE_API_URL"] {
        assert!(text.contains(v), "{text}");
    }
    sb.shutdown().await;
}
