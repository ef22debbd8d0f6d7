//! Client assertions (`client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer`):
//! certificate-signed JWTs (private_key_jwt) and federated tokens (workload identity),
//! validated the way Entra does, failing with Entra's AADSTS codes and wording.
//!
//! Owns those checks, given a client and a [`Context`]. Must not do I/O or take the tenant
//! lock: other issuers' keys are fetched beforehand (by the federation module) and passed
//! in as [`ExternalKeys`].
//!
//! Codes used (status: 401 for `invalid_client`, 400 for `invalid_request`):
//!
//! - 50027 `invalid_request`: not a JWT, unreadable header/claims, or no `exp`.
//! - 700027 `invalid_client`: no registered certificate with the header's `x5t#S256`/`x5t`
//!   ("The key was not found."), the certificate has expired ("The key used is expired."),
//!   or the signature does not verify. Also used for federated tokens whose `kid`/signature
//!   does not match the issuer's key.
//! - 50048 `invalid_client`: `iss` ≠ `sub` ("Subject must match the issuer claim in the
//!   client assertion.").
//! - 700021 `invalid_client`: `sub` is not the `client_id` of the request.
//! - 700023 `invalid_client`: `aud` is not this tenant's token endpoint ("Client assertion
//!   audience claim does not match Realm issuer.").
//! - 700024 `invalid_client`: now is outside `nbf − 5 min … exp + 5 min`.
//! - 70021 `invalid_request`: the client has no federated credential at all.
//! - 700211 / 700213 / 700212 `invalid_client`: no federated record with the token's issuer
//!   / subject / audience (checked in that order).
//! - 50166 `invalid_request`: another issuer's discovery document or keys could not be
//!   fetched.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, TimeDelta, Utc};
use serde_json::{Map, Value};

use super::credentials::CertificateCredential;
use super::keys::SigningKey;
use super::model::ClientApp;
use super::oauth::AadError;

/// The only `client_assertion_type` Entra accepts.
pub(crate) const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// Clock skew allowed on either side of an assertion's validity window.
const SKEW_SECS: i64 = 300;

const CERT_DOCS: &str = "Review the documentation at https://learn.microsoft.com/entra/identity-platform/certificate-credentials .";
const FIC_DOCS: &str = "https://learn.microsoft.com/entra/workload-id/workload-identity-federation";

/// How the client proved its identity; decides `azpacr`/`appidacr`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ClientAuth {
    Secret,
    Certificate,
    Federated,
}

impl ClientAuth {
    /// The `azpacr` / `appidacr` value: "1" for a secret, "2" for a certificate (and for
    /// federated credentials, which are asymmetric-key proofs too).
    pub fn acr(self) -> &'static str {
        match self {
            ClientAuth::Secret => "1",
            ClientAuth::Certificate | ClientAuth::Federated => "2",
        }
    }
}

/// Keys of another OIDC issuer (one a federated record names), fetched through its
/// discovery document by the federation module before the request is handled, or why they
/// could not be.
pub(crate) enum ExternalKeys {
    /// (kid, key) for every usable key of the issuer's JWKS.
    Keys(Vec<(Option<String>, jsonwebtoken::DecodingKey)>),
    /// What went wrong, for the AADSTS50166 message.
    Failed(String),
}

/// What the assertion is checked against.
pub(crate) struct Context<'a> {
    pub now: DateTime<Utc>,
    /// Token endpoint URLs accepted as `aud` (v1 and v2, tenant id and domain).
    pub audiences: Vec<String>,
    /// `{base}/federation` and its signing key.
    pub federation_issuer: &'a str,
    pub federation_key: &'a SigningKey,
    /// The `client_id` the request named (form or Basic), if any.
    pub requested_client_id: Option<&'a str>,
    /// Keys of another issuer named in a federated record, fetched through its discovery
    /// document before the request was handled (`None`: not fetched).
    pub external_keys: Option<&'a ExternalKeys>,
}

/// The claims of a JWT, without checking anything. `None` when it is not a JWT.
pub(crate) fn unverified_claims(jwt: &str) -> Option<Map<String, Value>> {
    let mut parts = jwt.trim().split('.');
    let (_, payload, _) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let bytes = URL_SAFE_NO_PAD.decode(payload.trim_end_matches('=')).ok()?;
    match serde_json::from_slice(&bytes).ok()? {
        Value::Object(map) => Some(map),
        _ => None,
    }
}

/// The client id an assertion names (`sub`, else `iss`), for requests without `client_id`.
pub(crate) fn unverified_client_id(jwt: &str) -> Option<String> {
    let claims = unverified_claims(jwt)?;
    ["sub", "iss"]
        .iter()
        .filter_map(|k| claims.get(*k).and_then(Value::as_str))
        .find(|s| uuid::Uuid::parse_str(s).is_ok())
        .map(str::to_string)
}

fn malformed() -> AadError {
    AadError::new(
        "invalid_request",
        50027,
        "JWT token is invalid or malformed.",
    )
}

/// Validates `assertion` for `client`.
pub(crate) fn authenticate(
    client: &ClientApp,
    assertion: &str,
    ctx: &Context<'_>,
) -> Result<ClientAuth, AadError> {
    let assertion = assertion.trim();
    let header = jsonwebtoken::decode_header(assertion).map_err(|_| malformed())?;
    let claims = unverified_claims(assertion).ok_or_else(malformed)?;
    let iss = claims.get("iss").and_then(Value::as_str).unwrap_or("");
    // A certificate assertion names its key by thumbprint and is issued by the client
    // itself; anything issued by someone else is a federated token.
    let is_certificate = header.x5t.is_some()
        || header.x5t_s256.is_some()
        || iss.is_empty()
        || iss.eq_ignore_ascii_case(&client.client_id);
    if is_certificate {
        certificate(client, &header, &claims, assertion, ctx)?;
        Ok(ClientAuth::Certificate)
    } else {
        federated(client, &header, &claims, assertion, ctx)?;
        Ok(ClientAuth::Federated)
    }
}

// ---- Certificates ---------------------------------------------------------------------

fn certificate(
    client: &ClientApp,
    header: &jsonwebtoken::Header,
    claims: &Map<String, Value>,
    assertion: &str,
    ctx: &Context<'_>,
) -> Result<(), AadError> {
    let strip = |s: &str| s.trim_end_matches('=').to_string();
    let (shown, cert) = if let Some(s256) = header.x5t_s256.as_deref().map(strip) {
        (
            thumbprint_hex(&s256),
            client.certificates.iter().find(|c| c.x5t_s256 == s256),
        )
    } else if let Some(x5t) = header.x5t.as_deref().map(strip) {
        (
            thumbprint_hex(&x5t),
            client.certificates.iter().find(|c| c.x5t == x5t),
        )
    } else {
        (String::new(), None)
    };
    let Some(cert) = cert else {
        return Err(invalid_signature(
            "The key was not found.",
            &shown,
            None,
            &client.client_id,
        ));
    };
    if cert.not_after <= ctx.now {
        return Err(invalid_signature(
            "The key used is expired.",
            &shown,
            Some(cert),
            &client.client_id,
        ));
    }
    let alg_ok = matches!(
        header.alg,
        jsonwebtoken::Algorithm::RS256 | jsonwebtoken::Algorithm::PS256
    );
    if !alg_ok || !signature_ok(assertion, header.alg, &cert.decoding_key()) {
        return Err(invalid_signature(
            "The provided signature value did not match the expected signature value.",
            &shown,
            Some(cert),
            &client.client_id,
        ));
    }

    let iss = claims.get("iss").and_then(Value::as_str).unwrap_or("");
    let sub = claims.get("sub").and_then(Value::as_str).unwrap_or("");
    if iss != sub {
        return Err(AadError::new(
            "invalid_client",
            50048,
            "Subject must match the issuer claim in the client assertion.",
        ));
    }
    let named = ctx.requested_client_id.unwrap_or(&client.client_id);
    if !sub.eq_ignore_ascii_case(named) || !sub.eq_ignore_ascii_case(&client.client_id) {
        return Err(AadError::new(
            "invalid_client",
            700021,
            format!(
                "Client assertion application identifier doesn't match 'client_id' parameter. {CERT_DOCS}"
            ),
        ));
    }
    let audience_ok = audiences(claims).iter().any(|aud| {
        let aud = aud.trim_end_matches('/');
        ctx.audiences
            .iter()
            .any(|a| a.trim_end_matches('/').eq_ignore_ascii_case(aud))
    });
    if !audience_ok {
        return Err(AadError::new(
            "invalid_client",
            700023,
            format!("Client assertion audience claim does not match Realm issuer. {CERT_DOCS}"),
        ));
    }
    time_window(claims, ctx.now, CERT_DOCS)
}

fn signature_ok(jwt: &str, alg: jsonwebtoken::Algorithm, key: &jsonwebtoken::DecodingKey) -> bool {
    let mut validation = jsonwebtoken::Validation::new(alg);
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.validate_aud = false;
    validation.required_spec_claims.clear();
    jsonwebtoken::decode::<Value>(jwt, key, &validation).is_ok()
}

/// A base64url thumbprint as upper-case hex (how Entra prints it); the raw text when it is
/// not base64url.
fn thumbprint_hex(b64: &str) -> String {
    match URL_SAFE_NO_PAD.decode(b64) {
        Ok(bytes) => hex::encode_upper(bytes),
        Err(_) => b64.to_string(),
    }
}

fn entra_date(t: DateTime<Utc>) -> String {
    t.format("%m/%d/%Y %H:%M:%S").to_string()
}

fn invalid_signature(
    reason: &str,
    thumbprint: &str,
    found: Option<&CertificateCredential>,
    app_id: &str,
) -> AadError {
    let found = found
        .map(|c| {
            format!(
                " Found key 'Start={}, End={}',",
                entra_date(c.not_before),
                entra_date(c.not_after)
            )
        })
        .unwrap_or_default();
    AadError::new(
        "invalid_client",
        700027,
        format!(
            "Client assertion contains an invalid signature. [Reason - {reason}, Thumbprint of key used by client: '{thumbprint}',{found} Please visit the Azure Portal, Graph Explorer or directly use MS Graph to see configured keys for app Id '{app_id}'. Review the documentation at https://docs.microsoft.com/en-us/graph/deployments if you use a national cloud.]"
        ),
    )
}

// ---- Shared checks ----------------------------------------------------------------------

/// `aud` as a list (a string or an array of strings).
fn audiences(claims: &Map<String, Value>) -> Vec<String> {
    match claims.get("aud") {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect(),
        _ => Vec::new(),
    }
}

fn numeric(claims: &Map<String, Value>, name: &str) -> Option<i64> {
    claims
        .get(name)
        .and_then(|v| v.as_i64().or_else(|| v.as_f64().map(|f| f as i64)))
}

/// `2021-06-02T21:22:41.7367289Z`, Entra's format in 700024.
fn entra_instant(t: DateTime<Utc>) -> String {
    format!(
        "{}.{:07}Z",
        t.format("%Y-%m-%dT%H:%M:%S"),
        t.timestamp_subsec_nanos() / 100
    )
}

fn time_window(
    claims: &Map<String, Value>,
    now: DateTime<Utc>,
    docs: &str,
) -> Result<(), AadError> {
    let exp = numeric(claims, "exp").ok_or_else(malformed)?;
    let nbf = numeric(claims, "nbf");
    let at = |t: i64| DateTime::<Utc>::from_timestamp(t, 0).unwrap_or_default();
    let skew = TimeDelta::seconds(SKEW_SECS);
    let too_late = now > at(exp) + skew;
    let too_early = nbf.is_some_and(|nbf| now + skew < at(nbf));
    if too_late || too_early {
        let from = nbf.or_else(|| numeric(claims, "iat")).unwrap_or(exp);
        return Err(AadError::new(
            "invalid_client",
            700024,
            format!(
                "Client assertion is not within its valid time range. Current time: {}, assertion valid from {}, expiry time of assertion {}. {docs}",
                entra_instant(now),
                entra_instant(at(from)),
                entra_instant(at(exp)),
            ),
        ));
    }
    Ok(())
}

// ---- Federated credentials ----------------------------------------------------------------

fn federated(
    client: &ClientApp,
    header: &jsonwebtoken::Header,
    claims: &Map<String, Value>,
    assertion: &str,
    ctx: &Context<'_>,
) -> Result<(), AadError> {
    let iss = claims.get("iss").and_then(Value::as_str).unwrap_or("");
    let sub = claims.get("sub").and_then(Value::as_str).unwrap_or("");
    let auds = audiences(claims);
    if client.federated_credentials.is_empty() {
        return Err(AadError::new(
            "invalid_request",
            70021,
            format!(
                "No matching federated identity record found for presented assertion. Assertion Issuer: '{iss}'. Assertion Subject: '{sub}'. Assertion Audience: '{}'. {FIC_DOCS}",
                auds.join(",")
            ),
        ));
    }
    let by_issuer: Vec<_> = client
        .federated_credentials
        .iter()
        .filter(|f| f.issuer == iss)
        .collect();
    if by_issuer.is_empty() {
        return Err(no_record("issuer", iss));
    }

    let kid = header.kid.as_deref().unwrap_or("");
    let candidates: Vec<&jsonwebtoken::DecodingKey> = if iss == ctx.federation_issuer {
        let key = ctx.federation_key;
        if kid.is_empty() || kid == key.kid {
            vec![&key.decoding]
        } else {
            Vec::new()
        }
    } else {
        match ctx.external_keys {
            Some(ExternalKeys::Keys(keys)) => keys
                .iter()
                .filter(|(k, _)| kid.is_empty() || k.as_deref().is_none_or(|k| k == kid))
                .map(|(_, key)| key)
                .collect(),
            Some(ExternalKeys::Failed(reason)) => {
                return Err(AadError::new(
                    "invalid_request",
                    50166,
                    format!("Request to External OIDC endpoint failed. {reason}"),
                ));
            }
            None => {
                return Err(AadError::new(
                    "invalid_request",
                    50166,
                    format!(
                        "Request to External OIDC endpoint failed. The keys of issuer '{iss}' were not fetched."
                    ),
                ));
            }
        }
    };
    if candidates.is_empty() {
        return Err(federated_signature(
            "The key was not found.",
            kid,
            &client.client_id,
        ));
    }
    let supported = matches!(
        header.alg,
        jsonwebtoken::Algorithm::RS256
            | jsonwebtoken::Algorithm::RS384
            | jsonwebtoken::Algorithm::RS512
            | jsonwebtoken::Algorithm::PS256
            | jsonwebtoken::Algorithm::PS384
            | jsonwebtoken::Algorithm::PS512
            | jsonwebtoken::Algorithm::ES256
            | jsonwebtoken::Algorithm::ES384
    );
    if !supported
        || !candidates
            .iter()
            .any(|key| signature_ok(assertion, header.alg, key))
    {
        return Err(federated_signature(
            "Key was found, but use of the key to verify the signature failed.",
            kid,
            &client.client_id,
        ));
    }
    time_window(claims, ctx.now, FIC_DOCS)?;

    let by_subject: Vec<_> = by_issuer.into_iter().filter(|f| f.subject == sub).collect();
    if by_subject.is_empty() {
        return Err(no_record("subject", sub));
    }
    let audience_ok = by_subject
        .iter()
        .any(|f| f.audiences.iter().any(|a| auds.iter().any(|t| t == a)));
    if !audience_ok {
        return Err(no_record("audience", &auds.join(",")));
    }
    Ok(())
}

fn no_record(what: &str, value: &str) -> AadError {
    let code = match what {
        "issuer" => 700211,
        "audience" => 700212,
        _ => 700213,
    };
    AadError::new(
        "invalid_client",
        code,
        format!(
            "No matching federated identity record found for presented assertion {what} '{value}'. Please check your federated identity credential Subject, Audience and Issuer against the presented assertion. {FIC_DOCS}"
        ),
    )
}

fn federated_signature(reason: &str, kid: &str, app_id: &str) -> AadError {
    AadError::new(
        "invalid_client",
        700027,
        format!(
            "Client assertion failed signature validation. [Reason - {reason}, Key ID of key used by the assertion issuer: '{kid}', app Id '{app_id}'.]"
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unverified_claims_need_three_parts_and_a_json_object() {
        let payload = URL_SAFE_NO_PAD.encode(br#"{"sub":"a5947bad-c48d-423f-8e81-4681cdd00957"}"#);
        assert!(unverified_claims(&format!("h.{payload}.s")).is_some());
        assert!(unverified_claims(&format!("h.{payload}")).is_none());
        assert!(unverified_claims("garbage").is_none());
        assert_eq!(
            unverified_client_id(&format!("h.{payload}.s")).as_deref(),
            Some("a5947bad-c48d-423f-8e81-4681cdd00957")
        );
    }

    #[test]
    fn time_window_allows_five_minutes_of_skew() {
        let now = Utc::now();
        let claims = |nbf: i64, exp: i64| {
            let mut m = Map::new();
            m.insert("nbf".into(), nbf.into());
            m.insert("exp".into(), exp.into());
            m
        };
        let t = now.timestamp();
        assert!(time_window(&claims(t - 600, t - 200), now, "").is_ok());
        assert_eq!(
            time_window(&claims(t - 900, t - 400), now, "")
                .err()
                .map(|e| e.code),
            Some(700024)
        );
        assert!(time_window(&claims(t + 200, t + 600), now, "").is_ok());
        assert_eq!(
            time_window(&claims(t + 400, t + 900), now, "")
                .err()
                .map(|e| e.code),
            Some(700024)
        );
        assert_eq!(
            time_window(&Map::new(), now, "").err().map(|e| e.code),
            Some(50027)
        );
    }
}
