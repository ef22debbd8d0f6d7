//! Builders the diagnosis tests share: a clean profile, an API answer, claims.

use crate::api::{ApiResponse, classify_body, parse_www_authenticate};
use crate::config::{Credential, Origin, Profile, SecretSource};
use crate::jwt::Claims;
use crate::secret::ClientSecret;

/// A profile lint finds nothing wrong with (an Entra tenant, a secret from the environment).
pub fn profile() -> Profile {
    Profile {
        name: "p".into(),
        authority: "https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47".into(),
        authority_origin: Origin::File,
        tenant: Some("72f988bf-86f1-41af-91ab-2d7cd011db47".into()),
        token_endpoint: String::new(),
        client_id: "c44b4083-3bb0-49c1-b47d-974e53cbdf3c".into(),
        client_id_origin: Origin::File,
        credential: Credential::Secret {
            secret: ClientSecret::new("x"),
            source: SecretSource::EnvVar("S".into()),
        },
        scope: "api://c44b4083-3bb0-49c1-b47d-974e53cbdf3c/.default".into(),
        api_url: "https://api.contoso.com/api/weather/{city}".into(),
        expected_roles: vec![],
        ca_file: None,
        connect_timeout: std::time::Duration::from_secs(1),
        timeout: std::time::Duration::from_secs(1),
        cache: true,
        secret_expires: None,
        graph: Default::default(),
        config_path: None,
    }
}

/// An answer from `http://localhost/api/weather/Seattle`.
pub fn response(status: u16, body: &str, www: Option<&str>) -> ApiResponse {
    let www_authenticate: Vec<String> = www.map(|w| vec![w.to_string()]).unwrap_or_default();
    ApiResponse {
        url: url::Url::parse("http://localhost/api/weather/Seattle").unwrap(),
        status,
        latency: std::time::Duration::from_millis(3),
        content_type: None,
        body: classify_body(body.as_bytes(), None),
        body_len: body.len(),
        truncated: false,
        challenges: www_authenticate
            .iter()
            .flat_map(|w| parse_www_authenticate(w))
            .collect(),
        www_authenticate,
        authorization_dropped_at: None,
    }
}

pub fn claims(v: serde_json::Value) -> Claims {
    Claims::from_payload(v.as_object().unwrap())
}
