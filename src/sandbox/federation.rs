//! The sandbox's federation issuer: a stand-in for a Kubernetes service-account issuer (or
//! any OIDC issuer a workload identity federation trusts). It publishes an OpenID
//! configuration and JWKS under `{base}/federation`, and signs tokens for workloads
//! ([`super::SandboxHandle::mint_federated_token`]).

use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::Endpoint;
use super::idp::AppState;
use super::state::Shared;

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
) -> Result<String, super::SandboxError> {
    let (client_id, records) = shared.federated_credentials(client)?;
    let record = records
        .first()
        .ok_or_else(|| super::SandboxError::InvalidValue {
            problem: format!("client '{client}' has no federated credential"),
            hint: "add one with SandboxHandle::add_federated_credential or \
                   [[clients.federated_credentials]] in the tenant file"
                .into(),
        })?;
    let audience = record
        .audiences
        .first()
        .map(String::as_str)
        .unwrap_or(super::TOKEN_EXCHANGE_AUDIENCE);
    let token = shared.mint_federated(&record.subject, audience, TOKEN_FILE_LIFETIME)?;
    super::credentials::write_private(path, token.as_bytes())?;
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
                tracing::warn!(path = %path.display(), error = %e, "sandbox: cannot refresh a federated token file");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use chrono::Utc;

    use super::*;
    use crate::sandbox::IssuerStyle;
    use crate::sandbox::keys::SigningKey;
    use crate::sandbox::model::TenantModel;

    fn shared() -> Arc<Shared> {
        Arc::new(Shared::new(
            "http://127.0.0.1:9".into(),
            IssuerStyle::Local,
            Duration::from_secs(60),
            false,
            "127.0.0.1:9".parse().expect("addr"),
            TenantModel::builtin(),
            None,
            SigningKey::generate(Utc::now()).expect("key"),
            SigningKey::generate(Utc::now()).expect("federation key"),
        ))
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
