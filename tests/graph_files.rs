//! The set-up read offline from exported JSON (`tests/fixtures/setup/`): `az ad app show`,
//! `az ad sp show`, `az rest` collections, and the portal's manifest download in both shapes;
//! files told apart by content, not name; a file that matches nothing named. Also through a
//! profile's `setup_files`, where Graph is never called.

use std::path::{Path, PathBuf};

use tokenscope::config::{self, Env, GraphSource, LoadOptions};
use tokenscope::graph::{FileError, GraphError, ReadOptions, files::read_files, read_for_profile};
use tokenscope::problem::Problem;

const API: &str = "6c6f687a-96c8-4280-bba3-d11cc0b19b67";
const SCOPE: &str = "api://6c6f687a-96c8-4280-bba3-d11cc0b19b67/.default";
const CLIENT: &str = "a5947bad-c48d-423f-8e81-4681cdd00957";
const CLIENT_SP: &str = "2b3c4d5e-0000-4000-8000-0000000005b1";

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/setup")
        .join(name)
}

fn fixtures(names: &[&str]) -> Vec<PathBuf> {
    names.iter().map(|n| fixture(n)).collect()
}

const AZ_EXPORTS: &[&str] = &[
    "api-app.json",
    "api-sp.json",
    "client-app.json",
    "client-sp.json",
    "assignments.json",
    "federated.json",
];

#[test]
fn the_az_exports_make_the_whole_set_up() {
    let facts = read_files(&fixtures(AZ_EXPORTS), SCOPE, CLIENT).unwrap();
    assert!(facts.notes.is_empty(), "{:?}", facts.notes);
    assert_eq!(
        facts.source,
        "files api-app.json, api-sp.json, client-app.json, client-sp.json, assignments.json, federated.json"
    );

    let api = facts.api_app.unwrap();
    assert_eq!(api.app_id, API);
    assert_eq!(api.requested_token_version, None);
    let audit = api
        .app_roles
        .iter()
        .find(|r| r.value == "Weather.Audit")
        .unwrap();
    assert_eq!(audit.allowed_member_types, ["User"]);

    let sp = facts.api_sp.unwrap();
    assert!(sp.assignment_required);
    assert_eq!(sp.app_roles.len(), 2);

    let client = facts.client_app.unwrap();
    assert_eq!(client.required_resource_access.len(), 2);
    assert_eq!(client.required_resource_access[0].resource_app_id, API);
    let secret = &client.password_credentials[0];
    assert_eq!(secret.hint.as_deref(), Some("Gv8"));
    assert_eq!(
        secret.end.unwrap().to_rfc3339(),
        "2026-02-27T10:00:00.123456700+00:00"
    );
    assert_eq!(
        client.key_credentials[0].thumbprint_sha1_hex.as_deref(),
        Some("0A0B0C0D0E0F101112131415161718191A1B1C1D")
    );
    // The federated credentials of the az rest collection belong to the client.
    assert_eq!(client.federated.len(), 1);
    assert_eq!(
        client.federated[0].subject,
        "system:serviceaccount:Weather:api"
    );

    assert_eq!(facts.client_sp.unwrap().id, CLIENT_SP);
    assert_eq!(facts.assignments.len(), 2);
    assert!(
        facts
            .assignments
            .iter()
            .all(|a| a.principal_id == CLIENT_SP)
    );
    assert!(facts.assignments[0].created.is_some());
}

#[test]
fn both_manifest_shapes_read_as_the_same_application() {
    let aad = read_files(&fixtures(&["api-manifest-aad.json"]), SCOPE, CLIENT)
        .unwrap()
        .api_app
        .unwrap();
    let graph = read_files(&fixtures(&["api-manifest-graph.json"]), SCOPE, CLIENT)
        .unwrap()
        .api_app
        .unwrap();
    // accessTokenAcceptedVersion null: v1 tokens; the Graph-shape download says 2.
    assert_eq!(aad.requested_token_version, None);
    assert_eq!(graph.requested_token_version, Some(2));
    assert_eq!(aad.display_name, "Weather API");
    assert_eq!(aad.app_roles, graph.app_roles);
    assert_eq!(aad.identifier_uris, graph.identifier_uris);
    // endDate / endDateTime, and the certificate, alike.
    assert_eq!(aad.password_credentials, graph.password_credentials);
    assert_eq!(aad.key_credentials, graph.key_credentials);
    assert!(aad.password_credentials[0].end.is_some());
    // The az export of the same app agrees on the roles.
    let az = read_files(&fixtures(&["api-app.json"]), SCOPE, CLIENT)
        .unwrap()
        .api_app
        .unwrap();
    assert_eq!(az.app_roles, graph.app_roles);
}

#[test]
fn files_are_told_apart_by_content_not_name() {
    let dir = tempfile::tempdir().unwrap();
    // Misleading names: the client's service principal saved as "api-app.json", the API's
    // manifest as "assignments.json".
    let a = dir.path().join("api-app.json");
    std::fs::copy(fixture("client-sp.json"), &a).unwrap();
    let b = dir.path().join("assignments.json");
    std::fs::copy(fixture("api-manifest-graph.json"), &b).unwrap();
    let facts = read_files(&[a, b], SCOPE, CLIENT).unwrap();
    assert_eq!(facts.client_sp.unwrap().id, CLIENT_SP);
    assert_eq!(facts.api_app.unwrap().requested_token_version, Some(2));
    assert!(facts.assignments.is_empty());
    for missing in ["the API's service principal", "the client's application"] {
        assert!(
            facts.notes.iter().any(|n| n.contains(missing)),
            "{missing}: {:?}",
            facts.notes
        );
    }
}

#[test]
fn a_file_that_matches_nothing_is_named() {
    let e = read_files(
        &fixtures(&["api-app.json", "other-app.json"]),
        SCOPE,
        CLIENT,
    )
    .unwrap_err();
    assert!(matches!(e, FileError::Unmatched { .. }), "{e:?}");
    let text = e.full_text();
    assert!(
        text.contains("other-app.json")
            && text.contains("\"Timesheets\"")
            && text.contains(SCOPE)
            && text.contains(CLIENT),
        "{text}"
    );
    // The same export read for the profile whose scope it is: fine.
    let facts = read_files(
        &fixtures(&["other-app.json"]),
        "api://timesheets/.default",
        CLIENT,
    )
    .unwrap();
    assert_eq!(facts.api_app.unwrap().display_name, "Timesheets");
}

#[tokio::test]
async fn setup_files_in_a_profile_are_read_instead_of_graph() {
    let dir = tempfile::tempdir().unwrap();
    for f in AZ_EXPORTS {
        std::fs::copy(fixture(f), dir.path().join(f)).unwrap();
    }
    let list = AZ_EXPORTS
        .iter()
        .map(|f| format!("\"exports/../{f}\""))
        .collect::<Vec<_>>()
        .join(", ");
    std::fs::create_dir(dir.path().join("exports")).unwrap();
    let config = dir.path().join("config.toml");
    std::fs::write(
        &config,
        format!(
            r#"
setup_files = [{list}]
graph_credential = "azure-cli"
graph_cli_command = ["/nonexistent/az"]

[profiles.console]
authority = "https://login.microsoftonline.com/ec184e30-7605-46d6-97ce-0b8dfa8e6682"
client_id = "{CLIENT}"
client_secret = "x"
scope = "{SCOPE}"
api_url = "https://weather.example/api/weather/{{city}}"
"#
        ),
    )
    .unwrap();
    let p = config::load(
        &LoadOptions {
            config: Some(config),
            profile: None,
        },
        &Env::default(),
    )
    .unwrap();
    assert!(matches!(p.graph.source, GraphSource::Files(ref f) if f.len() == 6));
    // The Azure CLI (which does not exist) is never run: the files win.
    let facts = read_for_profile(&p, &ReadOptions::new(reqwest::Client::new()))
        .await
        .unwrap();
    assert_eq!(facts.assignments.len(), 2);
    assert!(
        facts.source.starts_with("files api-app.json"),
        "{}",
        facts.source
    );
    // A file that goes away after loading: an error naming it.
    std::fs::remove_file(dir.path().join("client-sp.json")).unwrap();
    let e = read_for_profile(&p, &ReadOptions::new(reqwest::Client::new()))
        .await
        .unwrap_err();
    assert!(
        matches!(e, GraphError::File(FileError::Read { .. })),
        "{e:?}"
    );
    assert!(
        e.full_text().contains("client-sp.json"),
        "{}",
        e.full_text()
    );
}
