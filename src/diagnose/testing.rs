//! Builders the diagnosis tests share: a clean profile, an API answer, claims, and an
//! app-role set-up ([`setup`]).

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

/// A healthy app-role set-up (the sandbox's console-rw) and its parts.
pub mod setup {
    use chrono::{DateTime, TimeDelta, Utc};

    use crate::graph::model::{
        AppRoleDef, Application, Assignment, PasswordCred, RequiredResource, ResourceAccess,
        ServicePrincipal, SetupFacts,
    };

    pub const API_ID: &str = "6c6f687a-96c8-4280-bba3-d11cc0b19b67";
    pub const API_URI: &str = "api://6c6f687a-96c8-4280-bba3-d11cc0b19b67";
    pub const API_SP: &str = "c2ef988f-2a92-4856-82c9-469bd1945f95";
    pub const CLIENT_ID: &str = "a5947bad-c48d-423f-8e81-4681cdd00957";
    pub const CLIENT_SP: &str = "6cd8d0a5-66d8-43d4-87e7-81db44d2fa71";
    pub const READ: &str = "01102ed3-70fe-4657-890a-d55e283db07e";
    pub const WRITE: &str = "caa19fb9-b2ca-46e2-9217-cb6cedc78324";
    pub const ADMIN: &str = "5b0f4a8e-2c61-4f3e-9d47-7a1c9e3b2f60";
    pub const AUDIT: &str = "5b6f5a6e-2f1d-4c49-9d0e-3f0e6b2a1c03";
    pub const SCOPE: &str = "api://6c6f687a-96c8-4280-bba3-d11cc0b19b67/.default";
    pub const THUMB: &str = "0A0B0C0D0E0F101112131415161718191A1B1C1D";

    pub fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2025-06-01T12:00:00Z")
            .unwrap()
            .to_utc()
    }

    /// When the token was issued (its iat).
    pub fn iat() -> DateTime<Utc> {
        now() - TimeDelta::minutes(10)
    }

    pub fn role(value: &str, id: &str, members: &[&str]) -> AppRoleDef {
        AppRoleDef {
            id: id.into(),
            value: value.into(),
            display_name: value.into(),
            allowed_member_types: members.iter().map(|m| m.to_string()).collect(),
            is_enabled: true,
        }
    }

    pub fn grant(role_id: &str, created: DateTime<Utc>) -> Assignment {
        Assignment {
            id: format!("as-{role_id}"),
            app_role_id: role_id.into(),
            principal_id: CLIENT_SP.into(),
            resource_id: API_SP.into(),
            resource_display_name: Some("Weather API".into()),
            created: Some(created),
        }
    }

    pub fn access(id: &str, kind: &str) -> ResourceAccess {
        ResourceAccess {
            id: id.into(),
            kind: kind.into(),
        }
    }

    /// The sandbox's console-rw: Read and Write configured and granted a day ago, a secret
    /// valid until 2099, v2 tokens.
    pub fn healthy() -> SetupFacts {
        let roles = vec![
            role("Weather.Read", READ, &["Application"]),
            role("Weather.Write", WRITE, &["Application"]),
            role("Weather.Admin", ADMIN, &["Application"]),
        ];
        let day_ago = now() - TimeDelta::days(1);
        SetupFacts {
            api_app: Some(Application {
                object_id: "api-object".into(),
                app_id: API_ID.into(),
                display_name: "Weather API".into(),
                identifier_uris: vec![API_URI.into()],
                requested_token_version: Some(2),
                app_roles: roles.clone(),
                ..Default::default()
            }),
            api_sp: Some(ServicePrincipal {
                id: API_SP.into(),
                app_id: API_ID.into(),
                display_name: "Weather API".into(),
                assignment_required: false,
                app_roles: roles,
                service_principal_names: vec![API_ID.into(), API_URI.into()],
            }),
            client_app: Some(Application {
                object_id: "client-object".into(),
                app_id: CLIENT_ID.into(),
                display_name: "console-rw".into(),
                required_resource_access: vec![RequiredResource {
                    resource_app_id: API_ID.into(),
                    access: vec![access(READ, "Role"), access(WRITE, "Role")],
                }],
                password_credentials: vec![PasswordCred {
                    key_id: "k1".into(),
                    display_name: Some("sandbox".into()),
                    hint: Some("sbx".into()),
                    start: Some(now() - TimeDelta::days(30)),
                    end: Some(
                        DateTime::parse_from_rfc3339("2099-12-31T23:59:59Z")
                            .unwrap()
                            .to_utc(),
                    ),
                }],
                ..Default::default()
            }),
            client_sp: Some(ServicePrincipal {
                id: CLIENT_SP.into(),
                app_id: CLIENT_ID.into(),
                display_name: "console-rw".into(),
                ..Default::default()
            }),
            assignments: vec![grant(READ, day_ago), grant(WRITE, day_ago)],
            source: "test".into(),
            read_at: now(),
            notes: vec![],
        }
    }
}
