//! Minting an access token for a granted request: the claims Entra puts in app-only v1 and
//! v2 tokens (and Microsoft Graph's, with their header `nonce`), signed with the current
//! key, and the token response of either endpoint.
//!
//! Owns the token's shape. Must not decide whether a request is granted (the token
//! endpoint does) or read the request.

use axum::http::StatusCode;
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use chrono::{DateTime, Utc};
use rand::RngCore as _;
use serde_json::{Map, Value, json};

use crate::sandbox::model::TokenVersion;
use crate::sandbox::oauth::AadError;
use crate::sandbox::state::Shared;

/// Entra backdates `iat`/`nbf` by five minutes to absorb clock skew.
const BACKDATE_SECS: i64 = 300;

/// Which token endpoint: v2 takes `scope`, v1 takes `resource` and answers with strings.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Flavor {
    V1,
    V2,
}

/// What a successful request resolves to, copied out of the lock before signing.
pub(super) struct Grant {
    pub tenant_id: String,
    pub api_client_id: String,
    pub client_id: String,
    pub client_oid: String,
    /// `app_displayname` (Graph tokens carry it).
    pub client_display_name: String,
    pub audience: String,
    pub version: TokenVersion,
    pub roles: Vec<String>,
    pub lifetime_secs: i64,
    pub resource: String,
    /// `azpacr` / `appidacr`.
    pub acr: &'static str,
    /// A token for Microsoft Graph (header `nonce`, `app_displayname`).
    pub graph: bool,
}

fn random_b64(bytes: usize, url: bool) -> String {
    let mut buf = vec![0u8; bytes];
    rand::rng().fill_bytes(&mut buf);
    if url {
        URL_SAFE_NO_PAD.encode(buf)
    } else {
        STANDARD.encode(buf)
    }
}

fn guid_bytes(s: &str) -> [u8; 16] {
    uuid::Uuid::parse_str(s)
        .map(|u| u.to_bytes_le())
        .unwrap_or_default()
}

pub(super) fn mint(
    shared: &Shared,
    g: &Grant,
    now: DateTime<Utc>,
    flavor: Flavor,
) -> Result<Value, AadError> {
    let iat = now.timestamp() - BACKDATE_SECS;
    let exp = now.timestamp() + g.lifetime_secs;
    let iss = shared.issuer(g.version, &g.tenant_id);
    // `rh` is an opaque internal claim; this one is shaped like Entra's and derived from
    // the tenant, client and API so it is stable for the same trio.
    let mut rh_bytes = Vec::with_capacity(48);
    rh_bytes.extend_from_slice(&guid_bytes(&g.tenant_id));
    rh_bytes.extend_from_slice(&guid_bytes(&g.client_id));
    rh_bytes.extend_from_slice(&guid_bytes(&g.api_client_id));
    let rh = format!("1.A{}AA.", URL_SAFE_NO_PAD.encode(rh_bytes));

    let mut c = Map::new();
    c.insert("aud".into(), g.audience.clone().into());
    c.insert("iss".into(), iss.clone().into());
    c.insert("iat".into(), iat.into());
    c.insert("nbf".into(), iat.into());
    c.insert("exp".into(), exp.into());
    c.insert("aio".into(), random_b64(40, false).into());
    match g.version {
        TokenVersion::V2 => {
            c.insert("azp".into(), g.client_id.clone().into());
            c.insert("azpacr".into(), g.acr.into());
        }
        TokenVersion::V1 => {
            if g.graph {
                c.insert(
                    "app_displayname".into(),
                    g.client_display_name.clone().into(),
                );
            }
            c.insert("appid".into(), g.client_id.clone().into());
            c.insert("appidacr".into(), g.acr.into());
            c.insert("idp".into(), iss.into());
        }
    }
    c.insert("idtyp".into(), "app".into());
    c.insert("oid".into(), g.client_oid.clone().into());
    c.insert("rh".into(), rh.into());
    if !g.roles.is_empty() {
        c.insert("roles".into(), g.roles.clone().into());
    }
    c.insert("sub".into(), g.client_oid.clone().into());
    c.insert("tid".into(), g.tenant_id.clone().into());
    c.insert("uti".into(), random_b64(16, true).into());
    c.insert("ver".into(), g.version.claim().into());

    let key = shared.read().current_key.clone();
    let claims = Value::Object(c);
    let signed = if g.graph {
        // Graph's tokens carry a header `nonce`, so the real ones cannot be verified by
        // anyone but Graph; the sandbox's still verify against its JWKS.
        key.sign_with_nonce(&claims, &random_b64(32, true))
    } else {
        key.sign(&claims, g.version == TokenVersion::V1)
    };
    let token = signed.map_err(|e| {
        tracing::error!(error = %e, "sandbox: signing a token failed");
        AadError {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            error: "temporarily_unavailable",
            code: 90033,
            message: "A transient error has occurred. Please try again.".into(),
        }
    })?;
    let expires_in = exp - now.timestamp();
    Ok(match flavor {
        Flavor::V2 => json!({
            "token_type": "Bearer",
            "expires_in": expires_in,
            "ext_expires_in": expires_in,
            "access_token": token,
        }),
        Flavor::V1 => json!({
            "token_type": "Bearer",
            "expires_in": expires_in.to_string(),
            "ext_expires_in": expires_in.to_string(),
            "expires_on": exp.to_string(),
            "not_before": iat.to_string(),
            "resource": g.resource,
            "access_token": token,
        }),
    })
}
