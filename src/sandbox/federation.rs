//! The sandbox's federation issuer: a stand-in for a Kubernetes service-account issuer (or
//! any OIDC issuer a workload identity federation trusts). It publishes an OpenID
//! configuration and JWKS under `{base}/federation`, and signs tokens for workloads
//! ([`super::SandboxHandle::mint_federated_token`]). It also keeps registered federated
//! token files fresh, and fetches (and caches) the keys of other issuers a federated
//! record names.
//!
//! Owns the issuer's documents, its token files and the external-key cache. Must not
//! decide whether a federated assertion is accepted (the assertion checks do).

use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::assertion::{ExternalKeys, unverified_claims};
use super::credentials::{TOKEN_EXCHANGE_AUDIENCE, write_private};
use super::error::SandboxError;
use super::oauth::{is_form, parse_form};
use super::state::{AppState, Shared};
use super::stats::Endpoint;

/// How often the sandbox rewrites registered federated token files (kubelet refreshes
/// projected tokens well before they expire; the client re-reads them).
pub(crate) const TOKEN_FILE_REFRESH: Duration = Duration::from_secs(10 * 60);

/// Lifetime of the tokens written to files.
pub(crate) const TOKEN_FILE_LIFETIME: Duration = Duration::from_secs(3600);

fn json_response(value: &serde_json::Value) -> Response {
    let mut response = (
        [(header::CONTENT_TYPE, "application/json; charset=utf-8")],
        value.to_string(),
    )
        .into_response();
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("max-age=3600, public"),
    );
    response
}

/// `GET /federation/.well-known/openid-configuration`, shaped like a Kubernetes API
/// server's service-account issuer discovery.
pub(crate) async fn discovery(State(shared): State<AppState>) -> Response {
    shared.count(Endpoint::Discovery);
    let issuer = &shared.federation_issuer;
    json_response(&json!({
        "issuer": issuer,
        "jwks_uri": format!("{issuer}/keys"),
        "response_types_supported": ["id_token"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
    }))
}

/// `GET /federation/keys`.
pub(crate) async fn keys(State(shared): State<AppState>) -> Response {
    shared.count(Endpoint::Jwks);
    let k = &shared.federation_key;
    json_response(&json!({
        "keys": [{
            "kty": "RSA",
            "use": "sig",
            "alg": "RS256",
            "kid": k.kid,
            "n": k.n,
            "e": k.e,
        }]
    }))
}

/// Mints a fresh token for the client's first federated record and writes it.
pub(crate) fn write_token_file(
    shared: &Shared,
    client: &str,
    path: &std::path::Path,
) -> Result<String, SandboxError> {
    let (client_id, records) = shared.federated_credentials(client)?;
    let record = records.first().ok_or_else(|| SandboxError::InvalidValue {
        problem: format!("client '{client}' has no federated credential"),
        hint: "add one with SandboxHandle::add_federated_credential or \
                   [[clients.federated_credentials]] in the tenant file"
            .into(),
    })?;
    let audience = record
        .audiences
        .first()
        .map(String::as_str)
        .unwrap_or(TOKEN_EXCHANGE_AUDIENCE);
    let token = shared.mint_federated(&record.subject, audience, TOKEN_FILE_LIFETIME)?;
    write_private(path, token.as_bytes())?;
    Ok(client_id)
}

/// Rewrites every registered token file every [`TOKEN_FILE_REFRESH`] until aborted.
pub(crate) async fn rotate_token_files(shared: std::sync::Arc<Shared>) {
    let mut interval = tokio::time::interval(TOKEN_FILE_REFRESH);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    interval.tick().await; // the first tick is immediate; files were just written
    loop {
        interval.tick().await;
        for (client_id, path) in shared.token_files() {
            if let Err(e) = write_token_file(&shared, &client_id, &path) {
                tracing::warn!(path = %path.display(), error = %e.report(), "sandbox: cannot refresh a federated token file");
            }
        }
    }
}

/// How long fetched keys are reused; a `kid` not among them refetches after
/// [`REFETCH_AFTER`].
const EXTERNAL_KEYS_TTL: Duration = Duration::from_secs(5 * 60);
const REFETCH_AFTER: Duration = Duration::from_secs(30);
const FETCH_TIMEOUT: Duration = Duration::from_secs(5);

/// For a token request carrying a federated assertion from an issuer other than the
/// sandbox's own that some client has a federated record for: that issuer's keys (cached),
/// fetched before the request takes the tenant lock. `None` when nothing needs fetching.
pub(crate) async fn external_keys(
    shared: &Shared,
    headers: &axum::http::HeaderMap,
    body: &[u8],
) -> Option<ExternalKeys> {
    if !is_form(headers) {
        return None;
    }
    let form = parse_form(body);
    let assertion = form.get("client_assertion")?;
    let header = jsonwebtoken::decode_header(assertion.trim()).ok()?;
    if header.x5t.is_some() || header.x5t_s256.is_some() {
        return None;
    }
    let claims = unverified_claims(assertion)?;
    let iss = claims.get("iss")?.as_str()?.to_string();
    if iss == shared.federation_issuer || !iss.starts_with("http") {
        return None;
    }
    let registered = shared
        .read()
        .model
        .clients
        .iter()
        .any(|c| c.federated_credentials.iter().any(|f| f.issuer == iss));
    if !registered {
        return None;
    }
    let kid = header.kid;
    if let Some(keys) = cached(shared, &iss, kid.as_deref()) {
        return Some(ExternalKeys::Keys(keys));
    }
    match fetch(&iss).await {
        Ok(keys) => {
            shared
                .external_jwks
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert(iss, (std::time::Instant::now(), keys.clone()));
            Some(ExternalKeys::Keys(keys))
        }
        Err(reason) => {
            tracing::warn!(issuer = %iss, %reason, "sandbox: cannot fetch a federation issuer's keys");
            Some(ExternalKeys::Failed(reason))
        }
    }
}

type Keys = Vec<(Option<String>, jsonwebtoken::DecodingKey)>;

fn cached(shared: &Shared, iss: &str, kid: Option<&str>) -> Option<Keys> {
    let cache = shared
        .external_jwks
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    let (at, keys) = cache.get(iss)?;
    let age = at.elapsed();
    if age > EXTERNAL_KEYS_TTL {
        return None;
    }
    let known = kid.is_none_or(|kid| keys.iter().any(|(k, _)| k.as_deref() == Some(kid)));
    (known || age < REFETCH_AFTER).then(|| keys.clone())
}

async fn fetch(issuer: &str) -> Result<Keys, String> {
    let discovery_url = format!(
        "{}/.well-known/openid-configuration",
        issuer.trim_end_matches('/')
    );
    let loopback = url::Url::parse(issuer)
        .ok()
        .and_then(|u| u.host_str().map(str::to_string))
        .is_some_and(|h| {
            h == "localhost"
                || h.trim_start_matches('[')
                    .trim_end_matches(']')
                    .parse::<std::net::IpAddr>()
                    .is_ok_and(|ip| ip.is_loopback())
        });
    let mut builder = reqwest::Client::builder()
        .timeout(FETCH_TIMEOUT)
        .redirect(reqwest::redirect::Policy::none());
    if loopback {
        builder = builder.no_proxy();
    }
    let http = builder.build().map_err(|e| e.to_string())?;
    let get = |url: String| {
        let http = http.clone();
        async move {
            let resp = http
                .get(&url)
                .send()
                .await
                .map_err(|e| format!("GET {url}: {e}"))?;
            if !resp.status().is_success() {
                return Err(format!("GET {url}: HTTP {}", resp.status().as_u16()));
            }
            resp.json::<serde_json::Value>()
                .await
                .map_err(|e| format!("GET {url}: not JSON ({e})"))
        }
    };
    let discovery = get(discovery_url.clone()).await?;
    if discovery["issuer"].as_str() != Some(issuer) {
        return Err(format!(
            "The discovery document {discovery_url} names issuer {}, not '{issuer}'.",
            discovery["issuer"]
        ));
    }
    let jwks_uri = discovery["jwks_uri"]
        .as_str()
        .ok_or_else(|| format!("The discovery document {discovery_url} has no jwks_uri."))?
        .to_string();
    let jwks = get(jwks_uri.clone()).await?;
    let keys: Keys = jwks["keys"]
        .as_array()
        .map(|keys| {
            keys.iter()
                .filter_map(|k| {
                    let jwk: jsonwebtoken::jwk::Jwk = serde_json::from_value(k.clone()).ok()?;
                    let key = jsonwebtoken::DecodingKey::from_jwk(&jwk).ok()?;
                    Some((jwk.common.key_id.clone(), key))
                })
                .collect()
        })
        .unwrap_or_default();
    if keys.is_empty() {
        return Err(format!("{jwks_uri} holds no usable key."));
    }
    Ok(keys)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    fn shared() -> Arc<Shared> {
        Arc::new(Shared::for_tests())
    }

    fn jti(path: &std::path::Path) -> String {
        let token = std::fs::read_to_string(path).expect("token file");
        let payload = token.split('.').nth(1).expect("payload");
        let claims: serde_json::Value = serde_json::from_slice(
            &base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, payload)
                .expect("base64url"),
        )
        .expect("json");
        claims["jti"].as_str().expect("jti").to_string()
    }

    #[tokio::test(start_paused = true)]
    async fn registered_token_files_are_rewritten_every_ten_minutes() {
        let shared = shared();
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("workload.token");
        let id = write_token_file(&shared, "workload", &path).expect("written");
        shared.register_token_file(&id, path.clone());
        let first = jti(&path);

        let task = tokio::spawn(rotate_token_files(shared.clone()));
        tokio::time::sleep(TOKEN_FILE_REFRESH - Duration::from_secs(5)).await;
        assert_eq!(jti(&path), first, "not rewritten before 10 minutes");
        tokio::time::sleep(Duration::from_secs(10)).await;
        let second = jti(&path);
        assert_ne!(second, first, "rewritten after 10 minutes");
        tokio::time::sleep(TOKEN_FILE_REFRESH).await;
        assert_ne!(jti(&path), second, "and again 10 minutes later");
        task.abort();
        assert!(task.await.expect_err("aborted").is_cancelled());
    }

    #[test]
    fn only_clients_with_a_federated_record_get_a_token_file() {
        let shared = shared();
        let dir = tempfile::tempdir().expect("tempdir");
        let err = write_token_file(&shared, "console-rw", &dir.path().join("t"))
            .expect_err("console-rw has no federated credential");
        assert!(err.to_string().contains("no federated credential"), "{err}");
    }
}
