//! `tokenscope setup` from exported files (`setup_files`), with the token from the sandbox
//! (the fixtures describe the sandbox's console-rw calling its weather API): the portal's
//! manifest download in either shape gives the same chain, Graph is never called, and the
//! `az` exports' own breakage (Weather.Write configured but never consented, a User-only
//! role, assignment required, v1 tokens) is named.

#[path = "fixtures/support.rs"]
mod support;
use support::{all_output, run_cli, stdout_json};

use std::path::{Path, PathBuf};

use serde_json::Value;
use tokenscope::sandbox::{Endpoint, SandboxHandle, SandboxOptions};

fn fixture(name: &str) -> PathBuf {
    support::fixtures().join("setup").join(name)
}

/// A config whose one profile is console-rw of `sb`, expecting `roles`, reading `files`.
fn config(sb: &SandboxHandle, dir: &Path, name: &str, files: &[&str], roles: &[&str]) -> PathBuf {
    let rw = sb.client("console-rw").expect("console-rw");
    let files: Vec<String> = files
        .iter()
        .map(|f| fixture(f).display().to_string())
        .collect();
    let text = format!(
        "[profiles.console]\nauthority = {:?}\nclient_id = {:?}\nclient_secret = {:?}\n\
         scope = {:?}\napi_url = {:?}\nexpected_roles = {roles:?}\nsetup_files = {files:?}\n\
         # Never used: the files win.\ngraph_credential = \"azure-cli\"\n\
         graph_cli_command = [\"/nonexistent/az\"]\n",
        sb.authority(),
        rw.client_id,
        rw.secret,
        sb.api_scope(),
        sb.api_url_template(),
    );
    let path = dir.join(name);
    std::fs::write(&path, text).expect("config");
    path
}

async fn setup_json(cfg: &Path) -> (Option<i32>, Value, String) {
    let home = cfg.parent().expect("dir");
    let args = ["--config", cfg.to_str().expect("utf-8"), "setup", "--json"];
    let o = run_cli(home, &args, &[]).await;
    let j = stdout_json(&o);
    let text = run_cli(home, &args[..3], &[]).await;
    (o.status.code(), j, all_output(&text))
}

fn finding<'a>(j: &'a Value, topic: &str) -> &'a Value {
    j["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .find(|f| f["topic"] == topic)
        .unwrap_or_else(|| panic!("no {topic}: {j:#}"))
}

fn links(j: &Value, role: &str) -> Vec<(String, String)> {
    j["chains"]
        .as_array()
        .expect("chains")
        .iter()
        .find(|c| c["role"] == role)
        .unwrap_or_else(|| panic!("no {role}: {j:#}"))["links"]
        .as_array()
        .expect("links")
        .iter()
        .map(|l| {
            (
                l["severity"].as_str().unwrap_or_default().to_string(),
                l["summary"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_manifest_shapes_give_the_same_chain() {
    let sb = support::sandbox(SandboxOptions::default()).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let rest = [
        "api-sp.json",
        "client-app.json",
        "client-sp.json",
        "assignments.json",
    ];
    let roles = ["Weather.Read", "Weather.Write", "Weather.Audit"];
    let mut runs = Vec::new();
    for manifest in ["api-manifest-aad.json", "api-manifest-graph.json"] {
        let mut files = vec![manifest];
        files.extend(rest);
        let cfg = config(&sb, dir.path(), &format!("{manifest}.toml"), &files, &roles);
        runs.push(setup_json(&cfg).await);
    }
    let graph_before = sb.request_count(Endpoint::Graph);
    assert_eq!(graph_before, 0, "the files win: Graph was called");
    let (aad, graph) = (&runs[0], &runs[1]);
    assert_eq!(
        aad.1["chains"], graph.1["chains"],
        "{:#}\n{:#}",
        aad.1, graph.1
    );
    assert_eq!(aad.0, Some(1), "{}", aad.2);
    assert_eq!(graph.0, Some(1), "{}", graph.2);
    assert!(
        aad.1["source"]
            .as_str()
            .is_some_and(|s| s.starts_with("files api-manifest-aad.json, api-sp.json")),
        "{:#}",
        aad.1
    );

    // Read: all ✓ (the sandbox's token carries it).
    assert!(
        links(&aad.1, "Weather.Read").iter().all(|(s, _)| s == "ok"),
        "{:#}",
        aad.1
    );
    // Write: configured in the export, but never consented there.
    let write = links(&aad.1, "Weather.Write");
    assert_eq!(write[2].0, "error");
    assert_eq!(
        write[2].1,
        "Weather.Write is configured on the client but admin consent was never granted"
    );
    // Audit: for User members only.
    let audit = links(&aad.1, "Weather.Audit");
    assert_eq!(audit[0].0, "error");
    assert!(
        audit[0]
            .1
            .starts_with("Weather.Audit allows only User members"),
        "{audit:?}"
    );
    // The same in both checklists.
    for (_, _, text) in &runs {
        assert!(
            text.contains("✗ granted     Weather.Write is configured on the client but admin consent was never granted   ← the chain breaks here"),
            "{text}"
        );
    }

    // Where the shapes differ, the findings say so: accessTokenAcceptedVersion null (v1
    // tokens) in the old manifest, requestedAccessTokenVersion 2 in Graph's.
    assert_eq!(finding(&aad.1, "token_version")["severity"], "warning");
    assert_eq!(finding(&graph.1, "token_version")["severity"], "ok");
    // Both: assignment required (the client holds an assignment, so ✓), the certificate
    // registered on the client, the secret as the tenant records it.
    for (_, j, _) in &runs {
        assert_eq!(finding(j, "assignment_required")["severity"], "ok", "{j:#}");
        assert!(finding(j, "secret")["summary"].is_string());
    }
    sb.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_setup_file_that_cannot_be_used_is_a_config_error() {
    let sb = support::sandbox(SandboxOptions::default()).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = config(
        &sb,
        dir.path(),
        "other.toml",
        &["api-app.json", "other-app.json"],
        &["Weather.Read"],
    );
    let (code, j, text) = setup_json(&cfg).await;
    assert_eq!(code, Some(2), "{text}");
    assert_eq!(j["error"]["stage"], "graph");
    assert_eq!(j["error"]["kind"], "setup_file");
    assert!(
        text.contains("other-app.json") && text.contains("hint: export the API's registration"),
        "{text}"
    );
    sb.shutdown().await;
}
