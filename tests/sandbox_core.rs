//! The sandbox end to end through tokenscope's own core client (config → token request →
//! decode → API call), each token checked by an independent verifier (jsonwebtoken against
//! the sandbox's JWKS).

#[path = "fixtures/support.rs"]
mod support;
use support::{WAIT, client as http, profile, sandbox as start, sandbox_config as write_config};

use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::Value;
use tokenscope::api::{self, Outcome};
use tokenscope::auth::{self, TokenError};
use tokenscope::config::{self, Profile};
use tokenscope::sandbox::{SandboxOptions, TokenVersion};

async fn token(p: &Profile) -> Result<auth::TokenResponse, TokenError> {
    tokio::time::timeout(WAIT, auth::request_token(&http(p), p))
        .await
        .expect("no hang")
}

/// Independent check: jsonwebtoken with the key the JWKS publishes for the token's kid.
async fn verify_independently(raw: &str, p: &Profile, iss: &str, aud: &str) -> Value {
    let header = jsonwebtoken::decode_header(raw).unwrap();
    let kid = header.kid.unwrap();
    let jwks_url = format!("{}/discovery/v2.0/keys", p.authority);
    let jwks: Value = http(p)
        .get(jwks_url)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let jwk = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kid"] == kid.as_str())
        .unwrap()
        .clone();
    let key =
        DecodingKey::from_rsa_components(jwk["n"].as_str().unwrap(), jwk["e"].as_str().unwrap())
            .unwrap();
    let mut v = Validation::new(Algorithm::RS256);
    v.set_issuer(&[iss]);
    v.set_audience(&[aud]);
    jsonwebtoken::decode::<Value>(raw, &key, &v).unwrap().claims
}

#[tokio::test]
async fn each_client_through_the_core_client() {
    let sb = start(SandboxOptions::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(&sb, dir.path());
    let iss = sb.issuer(TokenVersion::V2);
    let aud = sb.api_client_id();
    for (name, roles) in [
        ("console-rw", vec!["Weather.Read", "Weather.Write"]),
        ("mobile-ro", vec!["Weather.Read"]),
        ("no-roles", vec![]),
    ] {
        let p = profile(&cfg, name);
        let t = token(&p).await.unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(
            (3600..=5400).contains(&t.expires_in),
            "{name}: lifetime {}",
            t.expires_in
        );
        let raw = t.access_token.expose();
        let claims = verify_independently(raw, &p, &iss, &aud).await;
        let decoded = tokenscope::jwt::decode(raw).unwrap();
        // Our decoder agrees with the independent verifier, claim for claim, in order.
        assert_eq!(Value::Object(decoded.payload.clone()), claims);
        assert_eq!(decoded.claims.roles, roles, "{name}");
        assert_eq!(decoded.claims.client_id(), Some(p.client_id.as_str()));
        assert_eq!(decoded.claims.idtyp.as_deref(), Some("app"));
        assert_eq!(decoded.claims.azpacr.as_deref(), Some("1"));

        let resp = api::call_weather(&http(&p), &p.api_url, "Seattle", &t.access_token)
            .await
            .unwrap();
        let want = if roles.contains(&"Weather.Read") {
            Outcome::Success
        } else {
            Outcome::Forbidden
        };
        assert_eq!(resp.outcome(), want, "{name}: {}", resp.body_text());
    }
    // The client whose secret has expired.
    let e = token(&profile(&cfg, "expired-secret")).await.unwrap_err();
    assert_eq!(e.aadsts_code(), Some(7000222), "{e}");
    sb.shutdown().await;
}

#[tokio::test]
async fn every_token_error_through_the_core_client() {
    let sb = start(SandboxOptions::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(&sb, dir.path());
    let base = profile(&cfg, "console-rw");
    let guid_tail = |p: &mut Profile, authority: String| {
        p.token_endpoint = format!("{authority}/oauth2/v2.0/token");
        p.authority = authority;
    };
    let wrong_secret = {
        let mut p = base.clone();
        p.credential = config::Credential::Secret {
            secret: tokenscope::secret::ClientSecret::new("not-the-secret"),
            source: config::SecretSource::Inline,
        };
        p
    };
    let cases: Vec<(&str, Profile, u64, u16)> = vec![
        ("wrong secret", wrong_secret, 7000215, 401),
        (
            "unknown client",
            {
                let mut p = base.clone();
                p.client_id = "00000000-0000-0000-0000-000000000001".into();
                p
            },
            700016,
            400,
        ),
        (
            "scope without /.default",
            {
                let mut p = base.clone();
                p.scope = format!("{}/Weather.Read", sb.app_id_uri());
                p
            },
            1002012,
            400,
        ),
        (
            "unknown resource",
            {
                let mut p = base.clone();
                p.scope = "api://00000000-0000-0000-0000-000000000002/.default".into();
                p
            },
            500011,
            400,
        ),
        (
            "two resources",
            {
                let mut p = base.clone();
                p.scope = format!("{} https://graph.microsoft.com/.default", base.scope);
                p
            },
            700022,
            400,
        ),
        (
            "unknown tenant",
            {
                let mut p = base.clone();
                guid_tail(
                    &mut p,
                    format!("{}/00000000-0000-0000-0000-000000000003", sb.base_url()),
                );
                p
            },
            90002,
            400,
        ),
        (
            "common",
            {
                let mut p = base.clone();
                guid_tail(&mut p, format!("{}/common", sb.base_url()));
                p
            },
            50059,
            400,
        ),
    ];
    for (what, p, code, status) in cases {
        match token(&p).await {
            Err(TokenError::Rejected {
                status: s, entra, ..
            }) => {
                assert_eq!((entra.code(), s), (Some(code), status), "{what}: {entra:?}");
                assert!(
                    entra.summary().starts_with(&format!("AADSTS{code}: ")),
                    "{what}: {}",
                    entra.summary()
                );
                assert!(
                    entra.trace_id.is_some() && entra.correlation_id.is_some(),
                    "{what}"
                );
            }
            other => panic!("{what}: {other:?}"),
        }
    }
    // Assignment required and no role granted.
    sb.set_assignment_required(true);
    let e = token(&profile(&cfg, "no-roles")).await.unwrap_err();
    assert_eq!(e.aadsts_code(), Some(501051), "{e}");
    sb.shutdown().await;
}

#[tokio::test]
async fn revoke_then_403_and_tls_with_ca_file() {
    let sb = start(SandboxOptions {
        tls: true,
        ..SandboxOptions::default()
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(&sb, dir.path());
    let p = profile(&cfg, "mobile-ro");
    assert!(p.ca_file.is_some(), "TLS config names the sandbox CA");
    assert!(p.authority.starts_with("https://"));
    let t = token(&p).await.unwrap();
    let ok = api::call_weather(&http(&p), &p.api_url, "Seattle", &t.access_token)
        .await
        .unwrap();
    assert_eq!(ok.outcome(), Outcome::Success);

    sb.revoke_role("mobile-ro", "Weather.Read").unwrap();
    let t = token(&p).await.unwrap();
    let j = tokenscope::jwt::decode(t.access_token.expose()).unwrap();
    assert!(j.claims.roles.is_empty() && !j.payload.contains_key("roles"));
    let r = api::call_weather(&http(&p), &p.api_url, "Seattle", &t.access_token)
        .await
        .unwrap();
    assert_eq!(r.outcome(), Outcome::Forbidden);
    assert_eq!(
        r.body_text(),
        "IDW10203: The \"role\" claim does not contain role Weather.Read or was not found"
    );
    assert_eq!(
        r.bearer_challenge().and_then(|c| c.error()),
        Some("insufficient_scope")
    );

    // Without the CA the same call fails the TLS handshake.
    let mut untrusted = p.clone();
    untrusted.ca_file = None;
    let e = token(&untrusted).await.unwrap_err();
    assert!(matches!(e, TokenError::Network { .. }), "{e:?}");
    sb.shutdown().await;
}
