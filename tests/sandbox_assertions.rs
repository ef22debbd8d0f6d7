//! Client assertions against the sandbox over real HTTP: certificate-signed JWTs
//! (PS256 + `x5t#S256`, RS256 + `x5t`) and federated tokens (workload identity), with
//! Entra's AADSTS errors for each way they can be wrong. The assertions are built here with
//! jsonwebtoken from the key `write_client_certificate` wrote; requests are plain reqwest.

#[path = "fixtures/support.rs"]
mod support;
use support::{http, post_form, sandbox as start, token_for, within};

use std::path::Path;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::TimeDelta;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::StatusCode;
use serde_json::{Value, json};
use tokenscope::sandbox::{
    ClientCertFiles, SandboxHandle, SandboxOptions, TOKEN_EXCHANGE_AUDIENCE, TokenVersion,
};

const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
const SA_SUBJECT: &str = "system:serviceaccount:weather:console";

/// A client-credentials request with a client assertion (and `client_id` unless `None`).
async fn with_assertion(
    sb: &SandboxHandle,
    client_id: Option<&str>,
    assertion: &str,
) -> (StatusCode, Value) {
    let scope = sb.api_scope();
    let mut form = vec![
        ("grant_type", "client_credentials"),
        ("client_assertion_type", JWT_BEARER),
        ("client_assertion", assertion),
        ("scope", scope.as_str()),
    ];
    if let Some(id) = client_id {
        form.push(("client_id", id));
    }
    post_form(&http(), &sb.token_endpoint(), &form).await
}

/// The claims of a JWT, unverified.
fn claims_of(jwt: &str) -> Value {
    let payload = jwt.split('.').nth(1).expect("payload");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).expect("base64url")).expect("json")
}

fn access_claims(body: &Value) -> Value {
    claims_of(body["access_token"].as_str().expect("access_token"))
}

/// Asserts an Entra error: HTTP status, `error`, the AADSTS code first in the description
/// and in `error_codes`.
fn assert_aadsts(status: StatusCode, body: &Value, want: StatusCode, error: &str, code: u32) {
    assert_eq!(status, want, "{body}");
    assert_eq!(body["error"], error, "{body}");
    assert_eq!(body["error_codes"], json!([code]), "{body}");
    let description = body["error_description"].as_str().expect("description");
    assert!(
        description.starts_with(&format!("AADSTS{code}: ")),
        "{description}"
    );
}

fn description(body: &Value) -> &str {
    body["error_description"].as_str().unwrap_or("")
}

struct Cert {
    files: ClientCertFiles,
    key: EncodingKey,
    /// base64url SHA-1 thumbprint (`x5t`).
    x5t: String,
    client_id: String,
}

fn cert_for(sb: &SandboxHandle, client: &str, dir: &Path) -> Cert {
    let files = sb
        .write_client_certificate(client, dir)
        .expect("certificate written");
    let key_pem = std::fs::read(&files.key_pem).expect("key file");
    let key = EncodingKey::from_rsa_pem(&key_pem).expect("PKCS#8 RSA key");
    let x5t = URL_SAFE_NO_PAD.encode(hex::decode(&files.thumbprint).expect("hex thumbprint"));
    let client_id = sb.client(client).expect("client").client_id;
    Cert {
        files,
        key,
        x5t,
        client_id,
    }
}

/// Claims of a well-formed certificate assertion for `client_id`, valid now for 10 min.
fn assertion_claims(sb: &SandboxHandle, client_id: &str, aud: &str) -> Value {
    let now = sb.now().timestamp();
    json!({
        "aud": aud,
        "iss": client_id,
        "sub": client_id,
        "jti": uuid::Uuid::new_v4().to_string(),
        "nbf": now,
        "iat": now,
        "exp": now + 600,
    })
}

fn sign_ps256(cert: &Cert, x5t_s256: &str, claims: &Value) -> String {
    let mut header = Header::new(Algorithm::PS256);
    header.typ = Some("JWT".into());
    header.x5t_s256 = Some(x5t_s256.to_string());
    jsonwebtoken::encode(&header, claims, &cert.key).expect("sign")
}

fn sign_rs256(cert: &Cert, x5t: &str, claims: &Value) -> String {
    let mut header = Header::new(Algorithm::RS256);
    header.typ = Some("JWT".into());
    header.x5t = Some(x5t.to_string());
    jsonwebtoken::encode(&header, claims, &cert.key).expect("sign")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn certificate_assertions_get_tokens_with_acr_2() {
    within("test", async {
        let sb = start(SandboxOptions::default()).await;
        let dir = tempfile::tempdir().expect("tempdir");
        let cert = cert_for(&sb, "console-cert", dir.path());
        assert_eq!(cert.files.thumbprint.len(), 40);
        assert!(
            sb.client("console-cert")
                .expect("client")
                .certificate_thumbprints
                .contains(&cert.files.thumbprint)
        );

        // PS256 with x5t#S256 (what MSAL sends today).
        let claims = assertion_claims(&sb, &cert.client_id, &sb.token_endpoint());
        let jwt = sign_ps256(&cert, &cert.files.x5t_s256, &claims);
        let (status, body) = with_assertion(&sb, Some(&cert.client_id), &jwt).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let at = access_claims(&body);
        assert_eq!(at["azpacr"], "2", "{at}");
        assert_eq!(at["azp"], cert.client_id.as_str());
        assert_eq!(at["roles"], json!(["Weather.Read", "Weather.Write"]));

        // RS256 with x5t (SHA-1), and no client_id: the assertion's sub names the client.
        let claims = assertion_claims(&sb, &cert.client_id, &sb.token_endpoint());
        let jwt = sign_rs256(&cert, &cert.x5t, &claims);
        let (status, body) = with_assertion(&sb, None, &jwt).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(access_claims(&body)["azpacr"], "2");

        // The v1 token endpoint takes an assertion for its own URL; v1 tokens say appidacr.
        sb.set_access_token_version(TokenVersion::V1);
        let v1_endpoint = format!("{}/oauth2/token", sb.authority());
        let claims = assertion_claims(&sb, &cert.client_id, &v1_endpoint);
        let jwt = sign_ps256(&cert, &cert.files.x5t_s256, &claims);
        let (status, body) = post_form(
            &http(),
            &v1_endpoint,
            &[
                ("grant_type", "client_credentials"),
                ("client_id", &cert.client_id),
                ("client_assertion_type", JWT_BEARER),
                ("client_assertion", &jwt),
                ("resource", &sb.app_id_uri()),
            ],
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let at = access_claims(&body);
        assert_eq!(at["ver"], "1.0");
        assert_eq!(at["appidacr"], "2", "{at}");
        assert_eq!(at["appid"], cert.client_id.as_str());

        // A secret client still gets "1".
        let (status, body) = token_for(&http(), &sb, "console-rw").await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(access_claims(&body)["appidacr"], "1");

        // A client with both a secret and a certificate may use either.
        let both = cert_for(&sb, "console-rw", dir.path());
        let claims = assertion_claims(&sb, &both.client_id, &sb.token_endpoint());
        let jwt = sign_ps256(&both, &both.files.x5t_s256, &claims);
        let (status, body) = with_assertion(&sb, Some(&both.client_id), &jwt).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(access_claims(&body)["appidacr"], "2");
        sb.shutdown().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn written_certificate_files_are_consistent() {
    within("test", async {
        let sb = start(SandboxOptions::default()).await;
        let dir = tempfile::tempdir().expect("tempdir");
        let cert = cert_for(&sb, "mobile-ro", dir.path());
        let f = &cert.files;
        for (path, name) in [
            (&f.combined_pem, "mobile-ro.pem"),
            (&f.cert_pem, "mobile-ro.crt.pem"),
            (&f.key_pem, "mobile-ro.key.pem"),
            (&f.pfx, "mobile-ro.pfx"),
        ] {
            assert_eq!(path, &dir.path().join(name));
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt as _;
                let mode = std::fs::metadata(path).expect("meta").permissions().mode();
                assert_eq!(mode & 0o777, 0o600, "{}", path.display());
            }
        }
        let combined = std::fs::read_to_string(&f.combined_pem).expect("pem");
        let crt = std::fs::read_to_string(&f.cert_pem).expect("crt");
        let key = std::fs::read_to_string(&f.key_pem).expect("key");
        assert_eq!(combined, format!("{crt}{key}"));
        assert!(key.starts_with("-----BEGIN PRIVATE KEY-----"), "PKCS#8");
        assert!(f.pfx_password.len() >= 16);
        let now = sb.now();
        assert!(
            f.not_after > now + TimeDelta::days(364) && f.not_after < now + TimeDelta::days(366)
        );
        // The certificate's own SHA-256 is the x5t#S256.
        let der = x509_der(&crt);
        let digest = <sha2::Sha256 as sha2::Digest>::digest(&der);
        assert_eq!(URL_SAFE_NO_PAD.encode(digest), f.x5t_s256);
        let pfx = std::fs::read(&f.pfx).expect("pfx");
        let store = p12_keystore::KeyStore::from_pkcs12(
            &pfx,
            &f.pfx_password,
            p12_keystore::Pkcs12ImportPolicy::Strict,
        )
        .expect("the pfx opens with its password");
        let (_, chain) = store.private_key_chain().expect("key and certificate");
        assert_eq!(chain.certs()[0].as_der(), der.as_slice());
        assert_eq!(chain.certs()[0].subject(), "CN=mobile-ro");
        assert!(
            sb.write_client_certificate("nobody", dir.path()).is_err(),
            "unknown client"
        );
        sb.shutdown().await;
    })
    .await;
}

fn x509_der(pem: &str) -> Vec<u8> {
    let body: String = pem
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect::<Vec<_>>()
        .concat();
    base64::engine::general_purpose::STANDARD
        .decode(body)
        .expect("PEM body")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn certificate_assertion_failures_use_entras_codes() {
    within("test", async {
        let sb = start(SandboxOptions::default()).await;
        let dir = tempfile::tempdir().expect("tempdir");
        let cert = cert_for(&sb, "console-cert", dir.path());
        let other_dir = tempfile::tempdir().expect("tempdir");
        let other = cert_for(&sb, "mobile-ro", other_dir.path());
        let id = cert.client_id.clone();
        let endpoint = sb.token_endpoint();
        let good = || assertion_claims(&sb, &id, &endpoint);

        // A thumbprint the client does not have (mobile-ro's certificate).
        let jwt = sign_ps256(&other, &other.files.x5t_s256, &good());
        let (status, body) = with_assertion(&sb, Some(&id), &jwt).await;
        assert_aadsts(status, &body, StatusCode::UNAUTHORIZED, "invalid_client", 700027);
        let text = description(&body);
        assert!(text.contains("Client assertion contains an invalid signature. [Reason - The key was not found., Thumbprint of key used by client: '"), "{text}");
        assert!(text.contains(&id), "{text}");

        // Signed with another key under this client's thumbprint.
        let jwt = sign_ps256(&other, &cert.files.x5t_s256, &good());
        let (status, body) = with_assertion(&sb, Some(&id), &jwt).await;
        assert_aadsts(status, &body, StatusCode::UNAUTHORIZED, "invalid_client", 700027);
        assert!(
            description(&body).contains("did not match the expected signature value"),
            "{body}"
        );
        // Same with RS256/x5t.
        let jwt = sign_rs256(&other, &cert.x5t, &good());
        let (status, body) = with_assertion(&sb, Some(&id), &jwt).await;
        assert_aadsts(status, &body, StatusCode::UNAUTHORIZED, "invalid_client", 700027);

        // Expired, and not yet valid (beyond the 5 minutes of skew).
        let now = sb.now().timestamp();
        let mut expired = good();
        expired["nbf"] = json!(now - 1200);
        expired["exp"] = json!(now - 600);
        let (status, body) =
            with_assertion(&sb, Some(&id), &sign_ps256(&cert, &cert.files.x5t_s256, &expired))
                .await;
        assert_aadsts(status, &body, StatusCode::UNAUTHORIZED, "invalid_client", 700024);
        assert!(
            description(&body).contains("Client assertion is not within its valid time range."),
            "{body}"
        );
        let mut early = good();
        early["nbf"] = json!(now + 600);
        early["exp"] = json!(now + 1200);
        let (status, body) =
            with_assertion(&sb, Some(&id), &sign_ps256(&cert, &cert.files.x5t_s256, &early)).await;
        assert_aadsts(status, &body, StatusCode::UNAUTHORIZED, "invalid_client", 700024);
        // Within the skew is fine.
        let mut skewed = good();
        skewed["nbf"] = json!(now + 120);
        let (status, body) =
            with_assertion(&sb, Some(&id), &sign_ps256(&cert, &cert.files.x5t_s256, &skewed))
                .await;
        assert_eq!(status, StatusCode::OK, "{body}");

        // Another audience (the multi-tenant endpoint): 700023.
        let mut wrong_aud = good();
        wrong_aud["aud"] = json!("https://login.microsoftonline.com/common/oauth2/v2.0/token");
        let (status, body) = with_assertion(
            &sb,
            Some(&id),
            &sign_ps256(&cert, &cert.files.x5t_s256, &wrong_aud),
        )
        .await;
        assert_aadsts(status, &body, StatusCode::UNAUTHORIZED, "invalid_client", 700023);
        assert!(
            description(&body).contains("audience claim does not match Realm issuer"),
            "{body}"
        );

        // iss ≠ sub: 50048.
        let mut split = good();
        split["sub"] = json!("00000000-0000-0000-0000-000000000001");
        let (status, body) =
            with_assertion(&sb, Some(&id), &sign_ps256(&cert, &cert.files.x5t_s256, &split)).await;
        assert_aadsts(status, &body, StatusCode::UNAUTHORIZED, "invalid_client", 50048);
        assert!(
            description(&body).contains("Subject must match the issuer claim"),
            "{body}"
        );

        // iss = sub, but not the client_id of the request: 700021.
        let mobile = sb.client("mobile-ro").expect("client").client_id;
        let mut foreign = good();
        foreign["iss"] = json!(mobile);
        foreign["sub"] = json!(mobile);
        let (status, body) = with_assertion(
            &sb,
            Some(&id),
            &sign_ps256(&cert, &cert.files.x5t_s256, &foreign),
        )
        .await;
        assert_aadsts(status, &body, StatusCode::UNAUTHORIZED, "invalid_client", 700021);

        // Not a JWT at all: 50027, a 400.
        let (status, body) = with_assertion(&sb, Some(&id), "not.a.jwt").await;
        assert_aadsts(status, &body, StatusCode::BAD_REQUEST, "invalid_request", 50027);
        assert!(
            description(&body).contains("JWT token is invalid or malformed."),
            "{body}"
        );
        // No exp: 50027 too.
        let mut no_exp = good();
        no_exp.as_object_mut().expect("object").remove("exp");
        let (status, body) =
            with_assertion(&sb, Some(&id), &sign_ps256(&cert, &cert.files.x5t_s256, &no_exp))
                .await;
        assert_aadsts(status, &body, StatusCode::BAD_REQUEST, "invalid_request", 50027);

        // client_assertion without client_assertion_type.
        let jwt = sign_ps256(&cert, &cert.files.x5t_s256, &good());
        let (status, body) = post_form(
            &http(),
            &endpoint,
            &[
                ("grant_type", "client_credentials"),
                ("client_id", &id),
                ("client_assertion", &jwt),
                ("scope", &sb.api_scope()),
            ],
        )
        .await;
        assert_aadsts(status, &body, StatusCode::BAD_REQUEST, "invalid_request", 900144);

        // The certificate itself has expired (the sandbox's clock is 400 days ahead).
        sb.set_clock_offset(TimeDelta::days(400));
        let jwt = sign_ps256(&cert, &cert.files.x5t_s256, &good());
        let (status, body) = with_assertion(&sb, Some(&id), &jwt).await;
        assert_aadsts(status, &body, StatusCode::UNAUTHORIZED, "invalid_client", 700027);
        assert!(
            description(&body).contains("The key used is expired."),
            "{body}"
        );
        sb.shutdown().await;
    })
    .await;
}

// ---- Federated credentials -------------------------------------------------------------

async fn federated(sb: &SandboxHandle, client: &str, token: &str) -> (StatusCode, Value) {
    let id = sb.client(client).expect("client").client_id;
    with_assertion(sb, Some(&id), token).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn federated_tokens_are_exchanged() {
    within("test", async {
        let sb = start(SandboxOptions::default()).await;
        let issuer = sb.federation_issuer();
        assert_eq!(issuer, format!("{}/federation", sb.base_url()));
        let workload = sb.client("workload").expect("client");
        assert_eq!(
            workload.federated_credentials[0].issuer, issuer,
            "placeholder resolved"
        );
        assert!(!workload.has_secret());

        let token = sb
            .mint_federated_token(
                SA_SUBJECT,
                TOKEN_EXCHANGE_AUDIENCE,
                Duration::from_secs(3600),
            )
            .expect("minted");
        let claims = claims_of(&token);
        assert_eq!(claims["iss"], issuer.as_str());
        assert_eq!(claims["sub"], SA_SUBJECT);
        assert_eq!(claims["aud"], json!([TOKEN_EXCHANGE_AUDIENCE]));

        // The issuer publishes discovery and keys, and the token verifies with them.
        let discovery: Value = within(
            "discovery",
            http()
                .get(format!("{issuer}/.well-known/openid-configuration"))
                .send(),
        )
        .await
        .expect("discovery")
        .json()
        .await
        .expect("json");
        assert_eq!(discovery["issuer"], issuer.as_str());
        let jwks: Value = within(
            "keys",
            http()
                .get(discovery["jwks_uri"].as_str().expect("jwks_uri"))
                .send(),
        )
        .await
        .expect("keys")
        .json()
        .await
        .expect("json");
        let header = jsonwebtoken::decode_header(&token).expect("header");
        let jwk = &jwks["keys"][0];
        assert_eq!(header.kid.as_deref(), jwk["kid"].as_str());
        let key = jsonwebtoken::DecodingKey::from_rsa_components(
            jwk["n"].as_str().expect("n"),
            jwk["e"].as_str().expect("e"),
        )
        .expect("key");
        let mut validation = jsonwebtoken::Validation::new(Algorithm::RS256);
        validation.set_audience(&[TOKEN_EXCHANGE_AUDIENCE]);
        validation.set_issuer(&[issuer.as_str()]);
        jsonwebtoken::decode::<Value>(&token, &key, &validation).expect("verifies with JWKS");

        let (status, body) = federated(&sb, "workload", &token).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let at = access_claims(&body);
        assert_eq!(at["azp"], workload.client_id.as_str());
        assert_eq!(at["azpacr"], "2");
        assert_eq!(at["roles"], json!(["Weather.Read"]));

        // write_federated_token writes a usable token, 0600.
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("workload.token");
        assert_eq!(
            sb.write_federated_token("workload", &path)
                .expect("written"),
            path
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(&path).expect("meta").permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let from_file = std::fs::read_to_string(&path).expect("token file");
        let file_claims = claims_of(from_file.trim());
        let lifetime =
            file_claims["exp"].as_i64().expect("exp") - file_claims["iat"].as_i64().expect("iat");
        assert_eq!(lifetime, 3600);
        let (status, body) = federated(&sb, "workload", from_file.trim()).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert!(
            sb.write_federated_token("console-rw", &dir.path().join("x"))
                .is_err(),
            "a client without federated records has no token to write"
        );

        // A record added at run time works too.
        sb.add_federated_credential(
            "mobile-ro",
            &issuer,
            "system:serviceaccount:mobile:backend",
            TOKEN_EXCHANGE_AUDIENCE,
        )
        .expect("added");
        let token = sb
            .mint_federated_token(
                "system:serviceaccount:mobile:backend",
                TOKEN_EXCHANGE_AUDIENCE,
                Duration::from_secs(600),
            )
            .expect("minted");
        let (status, body) = federated(&sb, "mobile-ro", &token).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        sb.shutdown().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn federated_failures_use_entras_codes() {
    within("test", async {
        let sb = start(SandboxOptions::default()).await;
        let hour = Duration::from_secs(3600);
        let mint = |subject: &str, audience: &str| {
            sb.mint_federated_token(subject, audience, hour)
                .expect("minted")
        };

        // No federated records at all: 70021, a 400.
        let (status, body) = federated(
            &sb,
            "console-rw",
            &mint(SA_SUBJECT, TOKEN_EXCHANGE_AUDIENCE),
        )
        .await;
        assert_aadsts(
            status,
            &body,
            StatusCode::BAD_REQUEST,
            "invalid_request",
            70021,
        );
        let text = description(&body);
        assert!(
            text.contains("No matching federated identity record found for presented assertion.")
                && text.contains(&format!("Assertion Subject: '{SA_SUBJECT}'")),
            "{text}"
        );

        // A record for another issuer only: 700211.
        sb.add_federated_credential(
            "no-roles",
            "https://oidc.example.com/cluster/",
            SA_SUBJECT,
            TOKEN_EXCHANGE_AUDIENCE,
        )
        .expect("added");
        let (status, body) =
            federated(&sb, "no-roles", &mint(SA_SUBJECT, TOKEN_EXCHANGE_AUDIENCE)).await;
        assert_aadsts(
            status,
            &body,
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            700211,
        );
        assert!(
            description(&body).contains(&format!(
                "presented assertion issuer '{}'",
                sb.federation_issuer()
            )),
            "{body}"
        );

        // Right issuer, wrong subject: 700213; right subject, wrong audience: 700212.
        let (status, body) = federated(
            &sb,
            "workload",
            &mint(
                "system:serviceaccount:weather:other",
                TOKEN_EXCHANGE_AUDIENCE,
            ),
        )
        .await;
        assert_aadsts(
            status,
            &body,
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            700213,
        );
        assert!(
            description(&body).contains("subject 'system:serviceaccount:weather:other'"),
            "{body}"
        );
        let (status, body) = federated(&sb, "workload", &mint(SA_SUBJECT, "api://other")).await;
        assert_aadsts(
            status,
            &body,
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            700212,
        );
        // Matching is case-sensitive, as in Entra.
        let (status, body) = federated(
            &sb,
            "workload",
            &mint(&SA_SUBJECT.to_uppercase(), TOKEN_EXCHANGE_AUDIENCE),
        )
        .await;
        assert_aadsts(
            status,
            &body,
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            700213,
        );

        // A tampered token does not verify.
        let good = mint(SA_SUBJECT, TOKEN_EXCHANGE_AUDIENCE);
        let mut parts: Vec<String> = good.split('.').map(str::to_string).collect();
        let mut claims = claims_of(&good);
        claims["exp"] = json!(claims["exp"].as_i64().expect("exp") + 86_400);
        parts[1] = URL_SAFE_NO_PAD.encode(claims.to_string());
        let (status, body) = federated(&sb, "workload", &parts.join(".")).await;
        assert_aadsts(
            status,
            &body,
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            700027,
        );

        // Expired: minted for a minute, presented after an hour.
        let short = sb
            .mint_federated_token(SA_SUBJECT, TOKEN_EXCHANGE_AUDIENCE, Duration::from_secs(60))
            .expect("minted");
        sb.set_clock_offset(TimeDelta::hours(1));
        let (status, body) = federated(&sb, "workload", &short).await;
        assert_aadsts(
            status,
            &body,
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            700024,
        );
        sb.shutdown().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn write_config_writes_working_credential_files() {
    within("test", async {
        let sb = start(SandboxOptions::default()).await;
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("tokenscope.toml");
        sb.write_config(&path).expect("config written");
        let config: toml::Table = std::fs::read_to_string(&path)
            .expect("config")
            .parse()
            .expect("valid TOML");
        let profiles = config["profiles"].as_table().expect("profiles");

        let cert_profile = profiles["console-cert"].as_table().expect("profile");
        assert!(!cert_profile.contains_key("client_secret"));
        let pem_name = cert_profile["client_certificate_path"]
            .as_str()
            .expect("certificate path");
        assert_eq!(pem_name, "console-cert.pem", "relative to the config");
        let pem_path = dir.path().join(pem_name);
        assert!(pem_path.is_file());

        let fed_profile = profiles["workload"].as_table().expect("profile");
        assert!(!fed_profile.contains_key("client_secret"));
        let token_name = fed_profile["federated_token_file"]
            .as_str()
            .expect("token file");
        assert_eq!(token_name, "workload.token");
        let token_path = dir.path().join(token_name);
        assert!(token_path.is_file());

        // The certificate written is the one generated at start (no second registration),
        // and its key signs an assertion the sandbox accepts.
        let client = sb.client("console-cert").expect("client");
        assert_eq!(client.certificate_thumbprints.len(), 1);
        let pem = std::fs::read_to_string(&pem_path).expect("pem");
        let (cert_part, key_part) = pem
            .split_once("-----BEGIN PRIVATE KEY-----")
            .expect("certificate, then the PKCS#8 key");
        assert!(cert_part.starts_with("-----BEGIN CERTIFICATE-----"));
        let key =
            EncodingKey::from_rsa_pem(format!("-----BEGIN PRIVATE KEY-----{key_part}").as_bytes())
                .expect("key in the combined PEM");
        let der = x509_der(cert_part);
        let s256 = URL_SAFE_NO_PAD.encode(<sha2::Sha256 as sha2::Digest>::digest(&der));
        let mut header = Header::new(Algorithm::PS256);
        header.x5t_s256 = Some(s256);
        let claims = assertion_claims(&sb, &client.client_id, &sb.token_endpoint());
        let jwt = jsonwebtoken::encode(&header, &claims, &key).expect("sign");
        let (status, body) = with_assertion(&sb, Some(&client.client_id), &jwt).await;
        assert_eq!(status, StatusCode::OK, "{body}");

        let token = std::fs::read_to_string(&token_path).expect("token");
        let (status, body) = federated(&sb, "workload", token.trim()).await;
        assert_eq!(status, StatusCode::OK, "{body}");

        // Writing again reuses the same certificate.
        sb.write_config(&path).expect("written again");
        assert_eq!(
            sb.client("console-cert")
                .expect("client")
                .certificate_thumbprints
                .len(),
            1
        );
        // config_toml() (no directory) lists only the secret clients.
        let plain: toml::Table = sb.config_toml().parse().expect("TOML");
        let plain = plain["profiles"].as_table().expect("profiles");
        assert!(plain.contains_key("console-rw") && !plain.contains_key("console-cert"));
        sb.shutdown().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_admin_route_hands_out_workload_tokens() {
    within("test", async {
        let sb = start(SandboxOptions::default()).await;
        let url = |client: &str| {
            format!(
                "{}/_sandbox/clients/{client}/federated-token",
                sb.base_url()
            )
        };
        let resp = within("admin", http().post(url("workload")).send())
            .await
            .expect("admin request");
        assert_eq!(resp.status(), StatusCode::OK);
        let body: Value = resp.json().await.expect("json");
        assert_eq!(body["subject"], SA_SUBJECT);
        assert_eq!(body["issuer"], sb.federation_issuer().as_str());
        assert_eq!(body["expires_in"], 3600);
        let token = body["token"].as_str().expect("token");
        let (status, body) = federated(&sb, "workload", token).await;
        assert_eq!(status, StatusCode::OK, "{body}");

        let resp = within("admin", http().post(url("console-rw")).send())
            .await
            .expect("admin request");
        assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
        let body: Value = resp.json().await.expect("json");
        assert!(
            body["error"]
                .as_str()
                .unwrap_or("")
                .contains("no federated credential"),
            "{body}"
        );
        sb.shutdown().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_of_another_issuer_are_verified_through_its_discovery() {
    within("test", async {
        let sb = start(SandboxOptions::default()).await;
        let other = start(SandboxOptions::default()).await;
        let issuer = other.federation_issuer();
        sb.add_federated_credential("mobile-ro", &issuer, SA_SUBJECT, TOKEN_EXCHANGE_AUDIENCE)
            .expect("added");
        let token = other
            .mint_federated_token(
                SA_SUBJECT,
                TOKEN_EXCHANGE_AUDIENCE,
                Duration::from_secs(600),
            )
            .expect("minted");
        let (status, body) = federated(&sb, "mobile-ro", &token).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(access_claims(&body)["azpacr"], "2");
        // Keys are cached: a second exchange does not ask the issuer again.
        let discovery_before = other.request_count(tokenscope::sandbox::Endpoint::Discovery);
        let (status, _) = federated(&sb, "mobile-ro", &token).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(
            other.request_count(tokenscope::sandbox::Endpoint::Discovery),
            discovery_before
        );

        // A token claiming that issuer but signed by another key does not verify.
        let forged = sb
            .mint_federated_token(
                SA_SUBJECT,
                TOKEN_EXCHANGE_AUDIENCE,
                Duration::from_secs(600),
            )
            .expect("minted");
        let dir = tempfile::tempdir().expect("tempdir");
        let cert = cert_for(&sb, "no-roles", dir.path());
        let mut claims = claims_of(&forged);
        claims["iss"] = json!(issuer);
        let mut header = Header::new(Algorithm::RS256);
        header.kid = jsonwebtoken::decode_header(&token).expect("header").kid;
        let forged = jsonwebtoken::encode(&header, &claims, &cert.key).expect("sign");
        let (status, body) = federated(&sb, "mobile-ro", &forged).await;
        assert_aadsts(
            status,
            &body,
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            700027,
        );

        // An issuer whose discovery cannot be fetched: 50166.
        let dead = "http://127.0.0.1:9/nowhere";
        sb.add_federated_credential("workload", dead, SA_SUBJECT, TOKEN_EXCHANGE_AUDIENCE)
            .expect("added");
        claims["iss"] = json!(dead);
        let unreachable = jsonwebtoken::encode(&header, &claims, &cert.key).expect("sign");
        let (status, body) = federated(&sb, "workload", &unreachable).await;
        assert_aadsts(
            status,
            &body,
            StatusCode::BAD_REQUEST,
            "invalid_request",
            50166,
        );
        assert!(
            description(&body).contains("Request to External OIDC endpoint failed."),
            "{body}"
        );
        other.shutdown().await;
        sb.shutdown().await;
    })
    .await;
}
