//! Interop: tokenscope against servers nobody on this team wrote.
//!
//! - Node's `oidc-provider` (panva, OpenID-certified) issuing client-credentials JWT access
//!   tokens with `roles` (tests/fixtures/oidc-provider/server.mjs);
//! - a FastAPI weather API validating tokens with PyJWT against a JWKS URL and requiring a
//!   role (tests/fixtures/fastapi/app.py);
//!
//! with tokens from both oidc-provider and the in-process sandbox. The fixtures install
//! themselves on first use (tests/fixtures/install.rs); when they cannot, these tests fail and
//! say why.

#[path = "fixtures/support.rs"]
mod support;

use std::path::{Path, PathBuf};

use support::{FastApi, FastApiConfig, OP_NONE, OP_RW, OidcProvider, WAIT, client, load_profile};
use tokenscope::api::{self, Body, Outcome};
use tokenscope::auth;
use tokenscope::config::{Env, Profile};
use tokenscope::diagnose::{Severity, refusal};
use tokenscope::jwt::{self, Expectations, Verifier};
use tokenscope::sandbox::{SandboxOptions, TokenVersion};

/// A config whose profiles point at oidc-provider (token_endpoint set) and an API.
fn op_config(dir: &Path, op: &OidcProvider, api_url: &str) -> PathBuf {
    let mut text = String::from("default_profile = \"rw\"\n");
    for (name, (id, _)) in [("rw", OP_RW), ("none", OP_NONE)] {
        text.push_str(&format!(
            r#"
[profiles.{name}]
authority = "{authority}"
token_endpoint = "{token}"
client_id = "{id}"
client_secret_env = "OP_SECRET_{name}"
scope = "{scope}"
api_url = "{api_url}"
expected_roles = ["Weather.Read"]
connect_timeout = "5s"
timeout = "10s"
"#,
            authority = op.authority,
            token = op.token_endpoint,
            scope = op.scope(),
        ));
    }
    let path = dir.join("config.toml");
    std::fs::write(&path, text).unwrap();
    path
}

fn op_env() -> Env {
    Env::from_pairs([("OP_SECRET_rw", OP_RW.1), ("OP_SECRET_none", OP_NONE.1)])
}

async fn token(p: &Profile) -> auth::TokenResponse {
    tokio::time::timeout(WAIT, auth::request_token(&client(p), p))
        .await
        .expect("token request in time")
        .unwrap_or_else(|e| panic!("token for {}: {e}", p.name))
}

async fn call(p: &Profile, t: &auth::TokenResponse) -> api::ApiResponse {
    tokio::time::timeout(
        WAIT,
        api::call_weather(&client(p), &p.api_url, "Seattle", &t.access_token),
    )
    .await
    .expect("API call in time")
    .unwrap_or_else(|e| panic!("call for {}: {e}", p.name))
}

fn assert_weather(resp: &api::ApiResponse) {
    assert_eq!(resp.outcome(), Outcome::Success, "{}", resp.body_text());
    let Body::Weather(w) = &resp.body else {
        panic!("not weather: {:?}", resp.body)
    };
    assert_eq!((w.temp, w.humidity), (Some(11.4), Some(77.0)));
}

/// A 403 from the FastAPI app, explained as the missing role it is.
fn assert_forbidden_explained(resp: &api::ApiResponse, p: &Profile, token: &str) {
    assert_eq!(resp.status, 403, "{}", resp.body_text());
    assert_eq!(
        resp.bearer_challenge().and_then(|c| c.error()),
        Some("insufficient_scope")
    );
    let claims = jwt::decode(token).unwrap().claims;
    let advice = refusal::explain(resp, Some(&claims), &p.expected_roles, &p.scope)
        .expect("a refusal is explained");
    assert!(
        advice.summary.contains("requires Weather.Read"),
        "summary names the required role: {advice:?}"
    );
    assert!(
        advice.cause.contains("Missing required role Weather.Read"),
        "the cause quotes the API: {advice:?}"
    );
    assert!(
        advice.fix.contains("Grant the app role Weather.Read"),
        "{advice:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oidc_provider_token_is_decoded_verified_and_accepted_by_fastapi() {
    let op = OidcProvider::start().await;
    let fast = FastApi::start(FastApiConfig {
        jwks_url: &op.jwks_uri,
        issuer: Some(&op.issuer),
        audience: Some(&op.api_id),
        required_role: "Weather.Read",
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let cfg = op_config(dir.path(), &op, &fast.api_url());
    let rw = load_profile(&cfg, Some("rw"), &op_env());
    assert_eq!(rw.token_endpoint, op.token_endpoint);

    // Acquire through token_endpoint, decode.
    let t = token(&rw).await;
    assert_eq!(t.token_type, "Bearer");
    assert_eq!(t.expires_in, 3600);
    let raw = t.access_token.expose();
    let decoded = jwt::decode(raw).expect("oidc-provider issues a JWT");
    assert_eq!(decoded.alg(), Some("RS256"));
    assert_eq!(
        decoded.header.get("typ").and_then(|v| v.as_str()),
        Some("at+jwt")
    );
    assert_eq!(decoded.claims.roles, ["Weather.Read", "Weather.Write"]);
    assert_eq!(decoded.claims.iss.as_deref(), Some(op.issuer.as_str()));
    assert!(
        decoded.claims.aud.contains(&op.api_id),
        "{:?}",
        decoded.claims.aud
    );
    assert_eq!(decoded.claims.tid.as_deref(), Some(op.tenant.as_str()));

    // Verify through oidc-provider's own discovery document and JWKS.
    let verifier = Verifier::new(client(&rw));
    let checks = verifier
        .verify(raw, &decoded, &Expectations::from(&rw))
        .await;
    for name in [
        "discovery",
        "signature",
        "issuer",
        "audience",
        "tenant",
        "lifetime",
    ] {
        let c = checks
            .iter()
            .find(|c| c.name == name)
            .unwrap_or_else(|| panic!("no {name} check in {checks:?}"));
        assert_eq!(c.severity, Severity::Ok, "{name}: {}", c.detail);
    }
    // …and a token whose signature was tampered with fails the signature check.
    let mut parts: Vec<&str> = raw.split('.').collect();
    let forged_payload = jwt::b64url(
        serde_json::to_string(&serde_json::json!({
            "iss": op.issuer, "aud": op.api_id, "tid": op.tenant,
            "roles": ["Weather.Admin"], "exp": chrono::Utc::now().timestamp() + 600,
        }))
        .unwrap()
        .as_bytes(),
    );
    parts[1] = &forged_payload;
    let forged = parts.join(".");
    let checks = verifier
        .verify(
            &forged,
            &jwt::decode(&forged).unwrap(),
            &Expectations::from(&rw),
        )
        .await;
    let sig = checks.iter().find(|c| c.name == "signature").unwrap();
    assert_eq!(sig.severity, Severity::Error, "{sig:?}");

    // Call the independent API: 200 with the role…
    assert_weather(&call(&rw, &t).await);

    // …a forged token is rejected by PyJWT with 401 invalid_token…
    let resp = api::call_weather(
        &client(&rw),
        &rw.api_url,
        "Seattle",
        &tokenscope::secret::AccessToken::new(forged.clone()),
    )
    .await
    .unwrap();
    assert_eq!(
        resp.outcome(),
        Outcome::Unauthorized,
        "{}",
        resp.body_text()
    );
    assert_eq!(
        resp.bearer_challenge().and_then(|c| c.error()),
        Some("invalid_token")
    );

    // …and a client with no role gets a 403 explained as the missing role.
    let none = load_profile(&cfg, Some("none"), &op_env());
    let t = token(&none).await;
    let raw = t.access_token.expose().to_string();
    assert!(jwt::decode(&raw).unwrap().claims.roles.is_empty());
    assert_forbidden_explained(&call(&none, &t).await, &none, &raw);

    // A wrong secret: oidc-provider's own OAuth error, shown as a refusal.
    let bad = load_profile(
        &cfg,
        Some("rw"),
        &Env::from_pairs([("OP_SECRET_rw", "not-the-secret")]),
    );
    let e = auth::request_token(&client(&bad), &bad).await.unwrap_err();
    assert!(
        matches!(&e, auth::TokenError::Rejected { status: 401, entra, .. } if entra.error == "invalid_client"),
        "{e:?}"
    );
    assert!(!e.to_string().contains("not-the-secret"), "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sandbox_tokens_against_fastapi_grant_and_revoke() {
    let sandbox = support::sandbox(SandboxOptions::default()).await;
    let issuer = sandbox.issuer(TokenVersion::V2);
    let audience = sandbox.api_client_id();
    let fast = FastApi::start(FastApiConfig {
        jwks_url: &sandbox.jwks_uri(),
        issuer: Some(&issuer),
        audience: Some(&audience),
        required_role: "Weather.Read",
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("config.toml");
    // The sandbox's generated config, with the API pointed at the FastAPI app.
    let text = sandbox
        .config_toml()
        .replace(&sandbox.api_url_template(), &fast.api_url());
    std::fs::write(&cfg, text).unwrap();
    let p = support::profile(&cfg, "console-rw");
    assert_eq!(p.api_url, fast.api_url());

    let t = token(&p).await;
    let raw = t.access_token.expose().to_string();
    assert!(jwt::decode(&raw).unwrap().claims.has_role("Weather.Read"));
    assert_weather(&call(&p, &t).await);

    // Revoke the role in the sandbox: the next token lacks it and FastAPI says 403.
    sandbox.revoke_role("console-rw", "Weather.Read").unwrap();
    let t = token(&p).await;
    let raw = t.access_token.expose().to_string();
    assert!(!jwt::decode(&raw).unwrap().claims.has_role("Weather.Read"));
    assert_forbidden_explained(&call(&p, &t).await, &p, &raw);

    // Grant it back: 200 again.
    sandbox.grant_role("console-rw", "Weather.Read").unwrap();
    let t = token(&p).await;
    assert_weather(&call(&p, &t).await);
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cli_doctor_and_call_against_oidc_provider_and_fastapi() {
    let op = OidcProvider::start().await;
    let fast = FastApi::start(FastApiConfig {
        jwks_url: &op.jwks_uri,
        issuer: Some(&op.issuer),
        audience: Some(&op.api_id),
        required_role: "Weather.Read",
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let cfg = op_config(dir.path(), &op, &fast.api_url());
    let cfg = cfg.to_str().unwrap();
    let envs = [("OP_SECRET_rw", OP_RW.1), ("OP_SECRET_none", OP_NONE.1)];

    let o = support::run_cli(dir.path(), &["--config", cfg, "doctor", "--json"], &envs).await;
    let j = support::stdout_json(&o);
    assert_eq!(o.status.code(), Some(0), "{}", support::all_output(&o));
    assert_eq!(j["ok"], true, "{j:#}");
    let stages: Vec<&str> = j["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["stage"].as_str())
        .collect();
    for stage in ["discovery", "token"] {
        assert!(stages.contains(&stage), "{stage} in {stages:?}");
    }
    let text = j.to_string();
    assert!(text.contains("RS256"), "the signature was checked: {j:#}");

    let o = support::run_cli(
        dir.path(),
        &["--config", cfg, "call", "Seattle", "--json"],
        &envs,
    )
    .await;
    assert_eq!(o.status.code(), Some(0), "{}", support::all_output(&o));
    let j = support::stdout_json(&o);
    assert_eq!(j["outcome"], "success");
    assert_eq!(j["body"]["kind"], "weather");

    let o = support::run_cli(
        dir.path(),
        &["--config", cfg, "-p", "none", "call", "Seattle"],
        &envs,
    )
    .await;
    let out = support::all_output(&o);
    assert_eq!(o.status.code(), Some(4), "403 exits 4: {out}");
    assert!(out.contains("Weather.Read"), "{out}");

    let o = support::run_cli(
        dir.path(),
        &["--config", cfg, "-p", "none", "doctor"],
        &envs,
    )
    .await;
    assert_eq!(o.status.code(), Some(1), "{}", support::all_output(&o));
}
