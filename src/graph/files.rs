//! The app-role set-up from exported JSON instead of Graph: `az ad app show` /
//! `az ad sp show` output (the Graph shape), `az rest` collections (`{"value": [...]}`) of
//! app-role assignments or federated credentials (or plain lists of them), and the portal's
//! manifest download in both shapes (Graph's, and the older AAD Graph one with
//! `accessTokenAcceptedVersion` and `endDate`).
//!
//! Each file is classified by its content, never its name; which application is the API's
//! (its identifierUris or appId match the scope) and which the client's (appId =
//! client_id) follows from the profile. Reads only the files it is given (regular files, at
//! most [`MAX_FILE`] bytes); sends nothing.

use std::path::{Path, PathBuf};

use serde_json::Value;

use super::error::FileError;
use super::model::{Application, Assignment, FederatedCred, ServicePrincipal, SetupFacts};
use super::reader::scope_resource;
use super::wire;
use crate::files::{FileKind, ReadError};

/// The largest setup file read.
pub const MAX_FILE: u64 = FileKind::SetupExport.cap();

/// One object found in a file.
enum Found {
    App(Application),
    Sp(ServicePrincipal),
    Assignment(Assignment),
    Federated(FederatedCred),
}

/// Read the set-up of client `client_id` calling the API of `scope` from `paths`.
pub fn read_files(
    paths: &[PathBuf],
    scope: &str,
    client_id: &str,
) -> Result<SetupFacts, FileError> {
    let resource = scope_resource(scope).trim_end_matches('/');
    let client_id = client_id.trim();
    let names: Vec<String> = paths.iter().map(|p| short(p)).collect();
    let mut facts = SetupFacts {
        source: format!("files {}", names.join(", ")),
        read_at: crate::time::now(),
        ..SetupFacts::default()
    };
    let unmatched = |path: &Path, what: String| FileError::Unmatched {
        path: path.to_path_buf(),
        what,
        scope: wire::clean(scope),
        client_id: wire::clean(client_id),
    };
    let (mut sps, mut assignments, mut federated) = (Vec::new(), Vec::new(), Vec::new());
    for path in paths {
        let found = classify(path, &read_json(path)?)?;
        if found.is_empty() {
            facts
                .notes
                .push(format!("{} is an empty list", short(path)));
        }
        for f in found {
            match f {
                Found::App(app) => {
                    let roles = [
                        app_is_api(&app, resource),
                        app.app_id.eq_ignore_ascii_case(client_id),
                    ];
                    if roles == [false, false] {
                        let what = describe("an application", &app.display_name, &app.app_id);
                        return Err(unmatched(path, what));
                    }
                    let slots = [&mut facts.api_app, &mut facts.client_app];
                    place(slots, roles, app, "application", path, &mut facts.notes);
                }
                Found::Sp(sp) => sps.push((sp, path)),
                Found::Assignment(a) => assignments.push((a, path)),
                Found::Federated(f) => federated.push(f),
            }
        }
    }
    // Service principals, once the API's appId is known.
    let api_app_id = facts.api_app.as_ref().map(|a| a.app_id.clone());
    for (sp, path) in sps {
        let by_app_id = api_app_id
            .as_deref()
            .is_some_and(|id| !id.is_empty() && sp.app_id.eq_ignore_ascii_case(id));
        let roles = [
            by_app_id || sp_is_api(&sp, resource),
            sp.app_id.eq_ignore_ascii_case(client_id),
        ];
        if roles == [false, false] {
            let what = describe("a service principal", &sp.display_name, &sp.app_id);
            return Err(unmatched(path, what));
        }
        let slots = [&mut facts.api_sp, &mut facts.client_sp];
        place(
            slots,
            roles,
            sp,
            "service principal",
            path,
            &mut facts.notes,
        );
    }
    facts.assignments = client_assignments(assignments, facts.client_sp.as_ref(), &mut facts.notes);
    if !federated.is_empty() {
        match &mut facts.client_app {
            Some(app) => app.federated.extend(federated),
            None => facts.notes.push(
                "federated credentials were found but not the client's application; they are \
                 left out"
                    .into(),
            ),
        }
    }
    missing_notes(&mut facts);
    Ok(facts)
}

/// Put an object into the API's and/or the client's slot (`roles` says which); a slot
/// already filled keeps its first object, with a note.
fn place<T: Clone>(
    slots: [&mut Option<T>; 2],
    roles: [bool; 2],
    value: T,
    kind: &str,
    path: &Path,
    notes: &mut Vec<String>,
) {
    for ((slot, is), whose) in slots
        .into_iter()
        .zip(roles)
        .zip(["the API's", "the client's"])
    {
        if !is {
            continue;
        }
        if slot.is_some() {
            notes.push(format!(
                "{} holds {whose} {kind} again; the first one is used",
                short(path)
            ));
        } else {
            *slot = Some(value.clone());
        }
    }
}

fn missing_notes(facts: &mut SetupFacts) {
    for (missing, what) in [
        (facts.api_app.is_none(), "the API's application"),
        (facts.api_sp.is_none(), "the API's service principal"),
        (facts.client_app.is_none(), "the client's application"),
        (facts.client_sp.is_none(), "the client's service principal"),
    ] {
        if missing {
            facts.notes.push(format!("no file holds {what}"));
        }
    }
}

/// The assignments the client's service principal holds (all of them when it is unknown).
fn client_assignments(
    all: Vec<(Assignment, &PathBuf)>,
    client_sp: Option<&ServicePrincipal>,
    notes: &mut Vec<String>,
) -> Vec<Assignment> {
    let Some(sp) = client_sp.filter(|sp| !sp.id.is_empty()) else {
        if !all.is_empty() {
            notes.push(
                "the client's service principal is not among the files: every assignment is \
                 taken as the client's"
                    .into(),
            );
        }
        return all.into_iter().map(|(a, _)| a).collect();
    };
    let (mine, others): (Vec<_>, Vec<_>) = all
        .into_iter()
        .partition(|(a, _)| a.principal_id.eq_ignore_ascii_case(&sp.id));
    if !others.is_empty() {
        notes.push(format!(
            "{} assignment(s) held by other principals were left out",
            others.len()
        ));
    }
    mine.into_iter().map(|(a, _)| a).collect()
}

fn app_is_api(app: &Application, resource: &str) -> bool {
    (!app.app_id.is_empty() && app.app_id.eq_ignore_ascii_case(resource))
        || app
            .identifier_uris
            .iter()
            .any(|u| u.trim_end_matches('/').eq_ignore_ascii_case(resource))
}

fn sp_is_api(sp: &ServicePrincipal, resource: &str) -> bool {
    (!sp.app_id.is_empty() && sp.app_id.eq_ignore_ascii_case(resource))
        || sp
            .service_principal_names
            .iter()
            .any(|n| n.trim_end_matches('/').eq_ignore_ascii_case(resource))
}

fn describe(kind: &str, name: &str, app_id: &str) -> String {
    match (name.is_empty(), app_id.is_empty()) {
        (false, false) => format!("{kind} \"{name}\" (appId {app_id})"),
        (true, false) => format!("{kind} with appId {app_id}"),
        (false, true) => format!("{kind} \"{name}\" without an appId"),
        (true, true) => format!("{kind} without an appId"),
    }
}

/// The file name for notes (the whole path when it has none).
fn short(path: &Path) -> String {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string());
    wire::clean(&name)
}

/// A regular file of at most [`MAX_FILE`] bytes, as JSON (a UTF-8 BOM is allowed: the
/// portal and PowerShell write one).
fn read_json(path: &Path) -> Result<Value, FileError> {
    // Bounded and never blocked on a FIFO or a device (`crate::files`).
    let bytes = crate::files::read(path, FileKind::SetupExport).map_err(|e| match e {
        ReadError::NotRegular { .. } => FileError::NotRegular {
            path: path.to_path_buf(),
        },
        ReadError::TooLarge { .. } => FileError::TooLarge {
            path: path.to_path_buf(),
            cap: MAX_FILE,
        },
        other => FileError::Read {
            path: path.to_path_buf(),
            message: other.reason(),
        },
    })?;
    let text = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(&bytes);
    serde_json::from_slice(text).map_err(|e| FileError::NotJson {
        path: path.to_path_buf(),
        detail: e.to_string(),
    })
}

/// Every object in a file: one object, a `{"value": [...]}` collection or a plain list.
fn classify(path: &Path, v: &Value) -> Result<Vec<Found>, FileError> {
    let items: Vec<&Value> = match v {
        Value::Array(a) => a.iter().collect(),
        Value::Object(o) => match o.get("value") {
            Some(Value::Array(a)) => a.iter().collect(),
            _ => vec![v],
        },
        _ => {
            return Err(FileError::Unrecognised {
                path: path.to_path_buf(),
                what: "a JSON value that is not an object or a list".into(),
            });
        }
    };
    items
        .into_iter()
        .map(|item| {
            one(item).ok_or_else(|| FileError::Unrecognised {
                path: path.to_path_buf(),
                what: "an object that is not an application, a service principal, an app-role \
                       assignment or a federated credential"
                    .into(),
            })
        })
        .collect()
}

/// What one object is, by the fields only that kind has.
fn one(v: &Value) -> Option<Found> {
    if !v.is_object() {
        return None;
    }
    let has = |k: &str| v.get(k).is_some();
    let odata_type = v
        .get("@odata.type")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if odata_type.ends_with("appRoleAssignment")
        || (has("appRoleId") && (has("principalId") || has("resourceId")))
    {
        return Some(Found::Assignment(wire::assignment(v)));
    }
    if odata_type.ends_with("federatedIdentityCredential") || (has("issuer") && has("subject")) {
        return Some(Found::Federated(wire::federated(v)));
    }
    if odata_type.ends_with("servicePrincipal")
        || [
            "servicePrincipalNames",
            "servicePrincipalType",
            "appRoleAssignmentRequired",
            "appOwnerOrganizationId",
        ]
        .iter()
        .any(|k| has(k))
    {
        return Some(Found::Sp(wire::service_principal(v)));
    }
    let app_fields = [
        "identifierUris",
        "requiredResourceAccess",
        "api",
        "signInAudience",
        "accessTokenAcceptedVersion",
        "appRoles",
        "passwordCredentials",
        "keyCredentials",
        "oauth2Permissions",
    ];
    if odata_type.ends_with("application") || (has("appId") && app_fields.iter().any(|k| has(k))) {
        return Some(Found::App(wire::application(v)));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn write(dir: &Path, name: &str, v: &Value) -> PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, serde_json::to_vec(v).unwrap()).unwrap();
        p
    }

    #[test]
    fn objects_are_told_apart_by_content() {
        let kind = |v: Value| match one(&v) {
            Some(Found::App(_)) => "app",
            Some(Found::Sp(_)) => "sp",
            Some(Found::Assignment(_)) => "assignment",
            Some(Found::Federated(_)) => "federated",
            None => "none",
        };
        assert_eq!(kind(json!({"appId": "a", "identifierUris": []})), "app");
        assert_eq!(
            kind(json!({"appId": "a", "appRoles": [], "servicePrincipalNames": []})),
            "sp"
        );
        assert_eq!(
            kind(json!({"appRoleId": "r", "principalId": "p"})),
            "assignment"
        );
        assert_eq!(
            kind(json!({"issuer": "i", "subject": "s", "audiences": []})),
            "federated"
        );
        assert_eq!(
            kind(json!({"@odata.type": "#microsoft.graph.application"})),
            "app"
        );
        assert_eq!(kind(json!({"displayName": "x"})), "none");
        assert_eq!(kind(json!("x")), "none");
    }

    #[test]
    fn unknown_content_and_other_apps_name_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let odd = write(dir.path(), "odd.json", &json!({"hello": "world"}));
        let e = read_files(&[odd], "api://weather/.default", "c").unwrap_err();
        assert!(
            matches!(e, FileError::Unrecognised { .. }) && e.to_string().contains("odd.json"),
            "{e}"
        );
        let other = write(
            dir.path(),
            "other.json",
            &json!({"appId": "zzz", "displayName": "Other", "identifierUris": ["api://other"]}),
        );
        let e = read_files(&[other], "api://weather/.default", "c").unwrap_err();
        let text = e.to_string();
        assert!(
            text.contains("other.json") && text.contains("\"Other\" (appId zzz)"),
            "{text}"
        );
        let scalar = write(dir.path(), "n.json", &json!(5));
        assert!(matches!(
            read_files(&[scalar], "s", "c"),
            Err(FileError::Unrecognised { .. })
        ));
    }

    #[test]
    fn one_app_may_be_both_and_a_second_copy_is_noted() {
        let dir = tempfile::tempdir().unwrap();
        let app = json!({"appId": "c", "identifierUris": ["api://c"], "appRoles": []});
        let a = write(dir.path(), "a.json", &app);
        let b = write(dir.path(), "b.json", &app);
        let facts = read_files(&[a, b], "api://c/.default", "c").unwrap();
        assert_eq!(facts.api_app, facts.client_app);
        assert!(facts.api_app.is_some());
        let again: Vec<&String> = facts.notes.iter().filter(|n| n.contains("again")).collect();
        assert_eq!(again.len(), 2, "{:?}", facts.notes);
        assert!(again[0].starts_with("b.json holds the API's application again"));
    }

    #[test]
    fn files_are_capped_and_regular() {
        let dir = tempfile::tempdir().unwrap();
        let big = dir.path().join("big.json");
        std::fs::write(&big, vec![b' '; (MAX_FILE + 10) as usize]).unwrap();
        assert!(matches!(
            read_files(&[big], "s", "c"),
            Err(FileError::TooLarge { .. })
        ));
        let e = read_files(&[dir.path().to_path_buf()], "s", "c").unwrap_err();
        assert!(matches!(e, FileError::NotRegular { .. }), "{e}");
        let e = read_files(&[dir.path().join("none.json")], "s", "c").unwrap_err();
        assert!(matches!(e, FileError::Read { .. }), "{e}");
        let bom = dir.path().join("bom.json");
        std::fs::write(&bom, b"\xef\xbb\xbf{\"appId\": \"c\", \"appRoles\": []}").unwrap();
        let facts = read_files(&[bom], "s", "c").unwrap();
        assert_eq!(facts.client_app.unwrap().app_id, "c");
    }
}
