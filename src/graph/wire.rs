//! Graph's JSON (and the portal's older AAD Graph manifest) into [`super::model`] types,
//! field by field: every field optional, a field of the wrong type read as absent (one odd
//! field never loses the whole object), text sanitised and capped, lists capped.
//!
//! Reads `serde_json::Value`s only; which objects to fetch or which file is which is the
//! reader's and `files`' business.

use base64::Engine;
use chrono::{DateTime, NaiveDateTime, Utc};
use serde_json::Value;

use super::model::{
    AppRoleDef, Application, Assignment, FederatedCred, KeyCred, PasswordCred, RequiredResource,
    ResourceAccess, ServicePrincipal,
};
use crate::text::sanitize;

/// Longest text kept from one field (Entra's own limits are far below: 600 for a federated
/// subject, 120 for a role value).
const MAX_TEXT: usize = 2048;
/// Most items kept from one list.
const MAX_ITEMS: usize = 1000;

/// An application (Graph shape or the AAD Graph manifest).
pub(crate) fn application(v: &Value) -> Application {
    let version = v
        .get("api")
        .and_then(|api| api.get("requestedAccessTokenVersion"))
        .or_else(|| v.get("accessTokenAcceptedVersion"));
    Application {
        object_id: first_text(v, &["id", "objectId"]),
        app_id: text(v, "appId"),
        display_name: first_text(v, &["displayName", "name"]),
        identifier_uris: texts(v, "identifierUris"),
        requested_token_version: version.and_then(token_version),
        app_roles: items(v, "appRoles").map(app_role).collect(),
        required_resource_access: items(v, "requiredResourceAccess")
            .map(required_resource)
            .collect(),
        password_credentials: items(v, "passwordCredentials").map(password_cred).collect(),
        key_credentials: items(v, "keyCredentials").map(key_cred).collect(),
        federated: items(v, "federatedIdentityCredentials")
            .map(federated)
            .collect(),
    }
}

/// A service principal.
pub(crate) fn service_principal(v: &Value) -> ServicePrincipal {
    ServicePrincipal {
        id: first_text(v, &["id", "objectId"]),
        app_id: text(v, "appId"),
        display_name: text(v, "displayName"),
        assignment_required: flag(v, "appRoleAssignmentRequired").unwrap_or(false),
        app_roles: items(v, "appRoles").map(app_role).collect(),
        service_principal_names: texts(v, "servicePrincipalNames"),
    }
}

/// An app-role assignment.
pub(crate) fn assignment(v: &Value) -> Assignment {
    Assignment {
        id: text(v, "id"),
        app_role_id: text(v, "appRoleId"),
        principal_id: text(v, "principalId"),
        resource_id: text(v, "resourceId"),
        resource_display_name: opt_text(v, "resourceDisplayName"),
        created: opt_text(v, "createdDateTime").and_then(|d| date(&d)),
    }
}

/// A federated identity credential.
pub(crate) fn federated(v: &Value) -> FederatedCred {
    FederatedCred {
        name: text(v, "name"),
        issuer: text(v, "issuer"),
        subject: text(v, "subject"),
        audiences: texts(v, "audiences"),
    }
}

fn app_role(v: &Value) -> AppRoleDef {
    AppRoleDef {
        id: text(v, "id"),
        value: text(v, "value"),
        display_name: text(v, "displayName"),
        allowed_member_types: texts(v, "allowedMemberTypes"),
        // Graph always says; a hand-written file that does not means an ordinary role.
        is_enabled: flag(v, "isEnabled").unwrap_or(true),
    }
}

fn required_resource(v: &Value) -> RequiredResource {
    RequiredResource {
        resource_app_id: text(v, "resourceAppId"),
        access: items(v, "resourceAccess")
            .map(|a| ResourceAccess {
                id: text(a, "id"),
                kind: text(a, "type"),
            })
            .collect(),
    }
}

fn password_cred(v: &Value) -> PasswordCred {
    PasswordCred {
        key_id: text(v, "keyId"),
        display_name: opt_text(v, "displayName"),
        hint: opt_text(v, "hint"),
        start: when(v, &["startDateTime", "startDate"]),
        end: when(v, &["endDateTime", "endDate"]),
    }
}

fn key_cred(v: &Value) -> KeyCred {
    KeyCred {
        key_id: text(v, "keyId"),
        display_name: opt_text(v, "displayName"),
        thumbprint_sha1_hex: v
            .get("customKeyIdentifier")
            .and_then(Value::as_str)
            .and_then(thumbprint_hex),
        end: when(v, &["endDateTime", "endDate"]),
    }
}

/// The objects of the list `key` (non-objects skipped), capped.
fn items<'a>(v: &'a Value, key: &str) -> impl Iterator<Item = &'a Value> {
    v.get(key)
        .and_then(Value::as_array)
        .map(|a| a.as_slice())
        .unwrap_or_default()
        .iter()
        .filter(|i| i.is_object())
        .take(MAX_ITEMS)
}

/// A string field, sanitised and capped; absent or not a string: empty.
fn text(v: &Value, key: &str) -> String {
    opt_text(v, key).unwrap_or_default()
}

fn first_text(v: &Value, keys: &[&str]) -> String {
    keys.iter().find_map(|k| opt_text(v, k)).unwrap_or_default()
}

fn opt_text(v: &Value, key: &str) -> Option<String> {
    v.get(key).and_then(Value::as_str).map(clean)
}

/// A list of strings (non-strings skipped), capped.
fn texts(v: &Value, key: &str) -> Vec<String> {
    v.get(key)
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .take(MAX_ITEMS)
                .map(clean)
                .collect()
        })
        .unwrap_or_default()
}

/// A boolean, also written as "true"/"false".
fn flag(v: &Value, key: &str) -> Option<bool> {
    match v.get(key)? {
        Value::Bool(b) => Some(*b),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// Text from outside, safe to show: control characters made visible, at most
/// [`MAX_TEXT`] characters.
pub(crate) fn clean(s: &str) -> String {
    let cut: String = s.chars().take(MAX_TEXT).collect();
    sanitize(&cut, false)
}

fn when(v: &Value, keys: &[&str]) -> Option<DateTime<Utc>> {
    keys.iter()
        .find_map(|k| v.get(*k).and_then(Value::as_str))
        .and_then(date)
}

/// Graph's `2025-06-01T12:00:00Z` (any fraction of seconds), or the old manifest's time
/// without a zone (UTC).
pub(crate) fn date(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.with_timezone(&Utc));
    }
    NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f")
        .ok()
        .map(|t| t.and_utc())
}

/// `requestedAccessTokenVersion`: null, 1 or 2 (a number, or a number written as text).
fn token_version(v: &Value) -> Option<u8> {
    match v {
        Value::Number(n) => n.as_u64().and_then(|n| u8::try_from(n).ok()),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// A certificate's `customKeyIdentifier` as upper-case SHA-1 hex: 40 hex digits as written
/// (az, the sandbox), else base64 (Graph's binary) of the 20 thumbprint bytes or of the hex
/// text (what some upload tools put there).
pub(crate) fn thumbprint_hex(s: &str) -> Option<String> {
    let s = s.trim();
    let is_hex = |t: &str| t.len() == 40 && t.bytes().all(|b| b.is_ascii_hexdigit());
    if is_hex(s) {
        return Some(s.to_ascii_uppercase());
    }
    let engines = [
        base64::engine::general_purpose::STANDARD,
        base64::engine::general_purpose::STANDARD_NO_PAD,
        base64::engine::general_purpose::URL_SAFE,
        base64::engine::general_purpose::URL_SAFE_NO_PAD,
    ];
    let bytes = engines.iter().find_map(|e| e.decode(s).ok())?;
    if bytes.len() == 20 {
        return Some(hex::encode_upper(bytes));
    }
    let text = std::str::from_utf8(&bytes).ok()?.trim();
    is_hex(text).then(|| text.to_ascii_uppercase())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn an_application_in_graph_shape() {
        let v = json!({
            "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#applications/$entity",
            "id": "0b7a-object",
            "appId": "6c6f687a-96c8-4280-bba3-d11cc0b19b67",
            "displayName": "Weather API\u{1b}[31m",
            "identifierUris": ["api://weather", 7],
            "api": {"requestedAccessTokenVersion": 2, "oauth2PermissionScopes": []},
            "appRoles": [
                {"id": "r1", "value": "Weather.Read", "displayName": "Read",
                 "allowedMemberTypes": ["Application"], "isEnabled": true},
                {"id": "r2", "value": "Weather.Audit", "allowedMemberTypes": ["User"],
                 "isEnabled": false, "description": null},
                "not an object"
            ],
            "requiredResourceAccess": [
                {"resourceAppId": "00000003-0000-0000-c000-000000000000",
                 "resourceAccess": [{"id": "9a5d68dd", "type": "Role"}]}
            ],
            "passwordCredentials": [
                {"keyId": "k1", "displayName": "ci", "hint": "Gv8", "secretText": null,
                 "startDateTime": "2025-01-01T00:00:00Z",
                 "endDateTime": "2026-01-01T00:00:00.1234567Z"}
            ],
            "keyCredentials": [
                {"keyId": "k2", "customKeyIdentifier": "0a1b2c3d4e5f60718293a4b5c6d7e8f901234567",
                 "endDateTime": "2027-01-01T00:00:00Z", "type": "AsymmetricX509Cert",
                 "usage": "Verify"}
            ],
            "unknownField": {"deep": [1, 2, 3]}
        });
        let app = application(&v);
        assert_eq!(app.object_id, "0b7a-object");
        assert_eq!(app.display_name, "Weather API\\u{1b}[31m");
        assert_eq!(app.identifier_uris, vec!["api://weather"]);
        assert_eq!(app.requested_token_version, Some(2));
        assert_eq!(app.app_roles.len(), 2);
        assert!(app.app_roles[0].is_enabled);
        assert_eq!(app.app_roles[1].allowed_member_types, vec!["User"]);
        assert!(!app.app_roles[1].is_enabled);
        assert_eq!(app.required_resource_access[0].access[0].kind, "Role");
        let p = &app.password_credentials[0];
        assert_eq!(p.hint.as_deref(), Some("Gv8"));
        assert_eq!(p.end.map(|e| e.timestamp()), Some(1_767_225_600));
        assert_eq!(
            app.key_credentials[0].thumbprint_sha1_hex.as_deref(),
            Some("0A1B2C3D4E5F60718293A4B5C6D7E8F901234567")
        );
    }

    #[test]
    fn the_older_aad_graph_manifest() {
        let v = json!({
            "id": "obj", "appId": "a", "name": "Weather API",
            "accessTokenAcceptedVersion": null,
            "identifierUris": ["api://weather"],
            "appRoles": [{"id": "r1", "value": "Weather.Read",
                          "allowedMemberTypes": ["Application"], "isEnabled": true}],
            "passwordCredentials": [{"keyId": "k", "endDate": "2021-05-28T13:21:45.083Z",
                                     "startDate": "2020-05-28T13:21:45.083"}],
            "keyCredentials": [{"keyId": "c", "endDate": "2030-01-01T00:00:00Z",
                                "customKeyIdentifier": "CgsMDQ4PEBESExQVFhcYGRobHB0="}]
        });
        let app = application(&v);
        assert_eq!(app.display_name, "Weather API");
        assert_eq!(app.requested_token_version, None);
        let p = &app.password_credentials[0];
        assert!(p.end.is_some() && p.start.is_some());
        assert_eq!(
            app.key_credentials[0].thumbprint_sha1_hex.as_deref(),
            Some("0A0B0C0D0E0F101112131415161718191A1B1C1D")
        );
        let v1 = json!({"accessTokenAcceptedVersion": 1});
        assert_eq!(application(&v1).requested_token_version, Some(1));
        let text = json!({"api": {"requestedAccessTokenVersion": "2"}});
        assert_eq!(application(&text).requested_token_version, Some(2));
    }

    #[test]
    fn wrongly_typed_fields_read_as_absent() {
        let v = json!({
            "id": 5, "appId": ["x"], "displayName": null,
            "appRoleAssignmentRequired": "true",
            "appRoles": {"not": "a list"},
            "servicePrincipalNames": "api://x"
        });
        let sp = service_principal(&v);
        assert_eq!(
            sp,
            ServicePrincipal {
                assignment_required: true,
                ..ServicePrincipal::default()
            }
        );
        let a = assignment(&json!({"appRoleId": "r", "createdDateTime": "yesterday"}));
        assert_eq!(a.app_role_id, "r");
        assert_eq!(a.created, None);
        assert_eq!(application(&json!([])), Application::default());
        let long = "x".repeat(10_000);
        assert_eq!(federated(&json!({"subject": long})).subject.len(), MAX_TEXT);
    }

    #[test]
    fn thumbprints_in_every_written_form() {
        let want = Some("0A0B0C0D0E0F101112131415161718191A1B1C1D".to_string());
        assert_eq!(
            thumbprint_hex("0a0b0c0d0e0f101112131415161718191a1b1c1d"),
            want
        );
        assert_eq!(thumbprint_hex("CgsMDQ4PEBESExQVFhcYGRobHB0="), want);
        assert_eq!(thumbprint_hex("CgsMDQ4PEBESExQVFhcYGRobHB0"), want);
        // base64 of the hex text
        let of_text = base64::engine::general_purpose::STANDARD
            .encode("0a0b0c0d0e0f101112131415161718191a1b1c1d");
        assert_eq!(thumbprint_hex(&of_text), want);
        assert_eq!(thumbprint_hex("not a thumbprint"), None);
        assert_eq!(thumbprint_hex(""), None);
    }
}
