//! Verifying a token the way a resource server would: OIDC discovery for the token's version,
//! JWKS (cached; refetched on an unknown `kid` at most once a minute), the RS256 signature
//! with jsonwebtoken, then issuer, audience, tenant and lifetime against the [`Expectations`].

use std::collections::HashMap;
use std::time::{Duration, Instant};

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Serialize;
use tokio::sync::Mutex;

use super::DecodedJwt;
use crate::severity::Severity;
use crate::text::sanitize;

/// Clock skew allowed for `exp`/`nbf`.
pub const SKEW_SECS: i64 = 300;
/// Minimum time between two JWKS fetches for the same URI caused by an unknown `kid`.
pub const JWKS_REFETCH_INTERVAL: Duration = Duration::from_secs(60);

/// One check's result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Check {
    /// "discovery", "signature", "issuer", "audience", "tenant", "lifetime".
    pub name: &'static str,
    pub severity: Severity,
    pub detail: String,
}

impl Check {
    fn new(name: &'static str, severity: Severity, detail: impl Into<String>) -> Self {
        Check {
            name,
            severity,
            detail: detail.into(),
        }
    }
}

/// What the token is checked against (a profile makes one: `Expectations::from(&profile)`,
/// in `config`).
#[derive(Debug, Clone)]
pub struct Expectations {
    pub authority: String,
    pub tenant: Option<String>,
    /// The resource from the scope (`api://…`), whose GUID part is the v2 audience.
    pub resource: String,
}

struct JwksEntry {
    set: JwkSet,
    fetched: Instant,
    /// Unknown kids a refetch was already spent on.
    tried: Vec<String>,
}

/// Verifies tokens; keeps discovery documents and key sets between calls.
pub struct Verifier {
    http: reqwest::Client,
    jwks: Mutex<HashMap<String, JwksEntry>>,
    discovery: Mutex<HashMap<String, (String, String)>>,
}

#[derive(serde::Deserialize)]
struct Discovery {
    issuer: String,
    jwks_uri: String,
}

impl Verifier {
    pub fn new(http: reqwest::Client) -> Self {
        Verifier {
            http,
            jwks: Mutex::new(HashMap::new()),
            discovery: Mutex::new(HashMap::new()),
        }
    }

    /// Run every check; never fails as a whole — each problem is a failed check.
    pub async fn verify(&self, raw: &str, jwt: &DecodedJwt, exp: &Expectations) -> Vec<Check> {
        let mut checks = Vec::new();
        let now = crate::time::now().timestamp();
        let v1 = jwt.claims.ver.as_deref() == Some("1.0");

        // Discovery for the token's version.
        let discovery_url = if v1 {
            format!("{}/.well-known/openid-configuration", exp.authority)
        } else {
            format!("{}/v2.0/.well-known/openid-configuration", exp.authority)
        };
        let discovery = self.discover(&discovery_url).await;
        match &discovery {
            Ok((issuer, _)) => checks.push(Check::new(
                "discovery",
                Severity::Ok,
                format!(
                    "{} document: issuer {}",
                    if v1 { "v1" } else { "v2" },
                    sanitize(issuer, false)
                ),
            )),
            Err(e) => checks.push(Check::new(
                "discovery",
                Severity::Error,
                format!("{discovery_url}: {e}"),
            )),
        }

        // Signature.
        if jwt.header.contains_key("nonce") {
            checks.push(Check::new(
                "signature",
                Severity::Warning,
                "the header has a nonce (a Microsoft Graph token): it cannot be verified by third parties — not a sign of forgery",
            ));
        } else if jwt.alg() != Some("RS256") {
            checks.push(Check::new(
                "signature",
                Severity::Error,
                format!(
                    "alg is {:?}; Entra signs access tokens with RS256",
                    jwt.alg().unwrap_or("none")
                ),
            ));
        } else if let Ok((_, jwks_uri)) = &discovery {
            checks.push(self.check_signature(raw, jwt.kid(), jwks_uri).await);
        } else {
            checks.push(Check::new(
                "signature",
                Severity::Warning,
                "not checked: no discovery document",
            ));
        }

        if let Ok((issuer, _)) = &discovery {
            checks.push(issuer_check(jwt, issuer));
        }
        checks.push(audience_check(jwt, exp));
        checks.push(tenant_check(jwt, exp));
        checks.push(lifetime_check(jwt, now));
        checks
    }

    /// Fetch (or reuse) a discovery document: (issuer, jwks_uri).
    pub async fn discover(&self, url: &str) -> Result<(String, String), String> {
        if let Some(hit) = self.discovery.lock().await.get(url) {
            return Ok(hit.clone());
        }
        let doc: Discovery = self.get_json(url).await?;
        let pair = (doc.issuer, doc.jwks_uri);
        self.discovery
            .lock()
            .await
            .insert(url.to_string(), pair.clone());
        Ok(pair)
    }

    async fn get_json<T: serde::de::DeserializeOwned>(&self, url: &str) -> Result<T, String> {
        let resp = self
            .http
            .get(url)
            .send()
            .await
            .map_err(|e| crate::http::describe_reqwest_error(&e).1)?;
        let status = resp.status();
        let body = crate::http::read_capped(resp, crate::http::MAX_BODY)
            .await
            .map_err(|e| crate::http::describe_reqwest_error(&e).1)?;
        if !status.is_success() {
            return Err(format!("HTTP {}", status.as_u16()));
        }
        serde_json::from_slice(&body.bytes).map_err(|e| format!("not the expected JSON ({e})"))
    }

    async fn check_signature(&self, raw: &str, kid: Option<&str>, jwks_uri: &str) -> Check {
        let Some(kid) = kid else {
            return Check::new(
                "signature",
                Severity::Error,
                "the header has no kid, so no key can be chosen",
            );
        };
        let mut cache = self.jwks.lock().await;
        // Refetch for an unknown kid: once right away (a freshly rotated key), then at most
        // once a minute, so a stream of bogus kids cannot hammer the identity provider.
        let stale = cache.get(jwks_uri).is_none_or(|e| {
            e.set.find(kid).is_none()
                && (!e.tried.iter().any(|t| t == kid)
                    || e.fetched.elapsed() >= JWKS_REFETCH_INTERVAL)
        });
        if stale {
            match self.get_json::<JwkSet>(jwks_uri).await {
                Ok(set) => {
                    let mut tried = cache.remove(jwks_uri).map(|e| e.tried).unwrap_or_default();
                    if set.find(kid).is_none() && !tried.iter().any(|t| t == kid) {
                        tried.push(kid.to_string());
                        tried.truncate(64);
                    }
                    let fetched = Instant::now();
                    cache.insert(
                        jwks_uri.to_string(),
                        JwksEntry {
                            set,
                            fetched,
                            tried,
                        },
                    );
                }
                Err(e) => {
                    return Check::new(
                        "signature",
                        Severity::Error,
                        format!("cannot fetch the keys at {jwks_uri}: {e}"),
                    );
                }
            }
        }
        let Some(jwk) = cache.get(jwks_uri).and_then(|e| e.set.find(kid)) else {
            return Check::new(
                "signature",
                Severity::Error,
                format!(
                    "no key {} in the JWKS: a token from another tenant or authority, or a key rotated out long ago",
                    sanitize(kid, false)
                ),
            );
        };
        let key = match DecodingKey::from_jwk(jwk) {
            Ok(k) => k,
            Err(e) => {
                return Check::new(
                    "signature",
                    Severity::Error,
                    format!("the JWKS key {kid} is unusable: {e}"),
                );
            }
        };
        let mut v = Validation::new(Algorithm::RS256);
        v.validate_exp = false;
        v.validate_nbf = false;
        v.validate_aud = false;
        v.required_spec_claims.clear();
        match jsonwebtoken::decode::<serde_json::Value>(raw.trim(), &key, &v) {
            Ok(_) => Check::new(
                "signature",
                Severity::Ok,
                format!("RS256, key {}", sanitize(kid, false)),
            ),
            Err(e) => Check::new(
                "signature",
                Severity::Error,
                format!("invalid with key {}: {e}", sanitize(kid, false)),
            ),
        }
    }
}

/// `iss` against the discovery document's issuer (with `{tenantid}` filled in).
fn issuer_check(jwt: &DecodedJwt, issuer: &str) -> Check {
    let expected = match &jwt.claims.tid {
        Some(tid) => issuer.replace("{tenantid}", tid),
        None => issuer.to_string(),
    };
    match &jwt.claims.iss {
        Some(iss) if *iss == expected => Check::new("issuer", Severity::Ok, sanitize(iss, false)),
        Some(iss) => Check::new(
            "issuer",
            Severity::Error,
            format!(
                "iss is {} but the discovery document says {}",
                sanitize(iss, false),
                sanitize(&expected, false)
            ),
        ),
        None => Check::new("issuer", Severity::Error, "the token has no iss claim"),
    }
}

/// Audience: v1 → the App ID URI; v2 → the API's client id (the GUID in api://GUID).
fn audience_check(jwt: &DecodedJwt, exp: &Expectations) -> Check {
    let aud = &jwt.claims.aud;
    let guid_part = exp.resource.strip_prefix("api://").unwrap_or_default();
    if aud.is_empty() {
        Check::new("audience", Severity::Error, "the token has no aud claim")
    } else if aud.contains(&exp.resource) || (!guid_part.is_empty() && aud.contains(guid_part)) {
        Check::new(
            "audience",
            Severity::Ok,
            format!(
                "{} matches the scope {}",
                sanitize(&aud.to_string(), false),
                sanitize(&exp.resource, false)
            ),
        )
    } else if guid_part.is_empty() || guid_part.contains('/') {
        Check::new(
            "audience",
            Severity::Warning,
            format!(
                "aud {} cannot be matched to the scope's App ID URI {} from here (v2 tokens carry the API's client id)",
                sanitize(&aud.to_string(), false),
                sanitize(&exp.resource, false)
            ),
        )
    } else {
        Check::new(
            "audience",
            Severity::Error,
            format!(
                "aud is {} but the scope asks for {}: the scope names another API",
                sanitize(&aud.to_string(), false),
                sanitize(&exp.resource, false)
            ),
        )
    }
}

/// `tid` against the authority's tenant (a GUID; a domain cannot be compared here).
fn tenant_check(jwt: &DecodedJwt, exp: &Expectations) -> Check {
    match (&exp.tenant, &jwt.claims.tid) {
        (Some(want), Some(tid)) if want.eq_ignore_ascii_case(tid) => {
            Check::new("tenant", Severity::Ok, sanitize(tid, false))
        }
        (Some(want), Some(tid)) if want.contains('.') => Check::new(
            "tenant",
            Severity::Info,
            format!(
                "tid {} (the authority names the domain {}, not comparable here)",
                sanitize(tid, false),
                sanitize(want, false)
            ),
        ),
        (Some(want), Some(tid)) => Check::new(
            "tenant",
            Severity::Error,
            format!(
                "tid is {} but the authority names tenant {}",
                sanitize(tid, false),
                sanitize(want, false)
            ),
        ),
        (_, None) => Check::new("tenant", Severity::Warning, "the token has no tid claim"),
        (None, Some(tid)) => Check::new("tenant", Severity::Info, sanitize(tid, false)),
    }
}

/// `nbf` / `exp` at `now` (Unix seconds), with [`SKEW_SECS`] of clock skew allowed.
fn lifetime_check(jwt: &DecodedJwt, now: i64) -> Check {
    let when = |t: i64| {
        chrono::DateTime::from_timestamp(t, 0)
            .map(|d| crate::time::relative(d, crate::time::now()))
            .unwrap_or_else(|| t.to_string())
    };
    match (jwt.claims.nbf, jwt.claims.exp) {
        (_, None) => Check::new("lifetime", Severity::Error, "the token has no exp claim"),
        (Some(nbf), _) if nbf - SKEW_SECS > now => Check::new(
            "lifetime",
            Severity::Error,
            format!("not valid yet: nbf is {}", when(nbf)),
        ),
        (_, Some(e)) if e + SKEW_SECS < now => {
            Check::new("lifetime", Severity::Error, format!("expired {}", when(e)))
        }
        (_, Some(e)) => Check::new("lifetime", Severity::Ok, format!("expires {}", when(e))),
    }
}
