//! `tokenscope setup`, `doctor`'s setup stage and the refusal explained by the set-up, end to
//! end through the binary against the sandbox: a healthy profile is all ✓; each broken link
//! and finding the sandbox's admin operations create shows its ✗ and its fix, in `--json`
//! and in the checklist; Graph's 403 names Application.Read.All; paging; the azure-cli
//! source through a stand-in command; no source at all says how to turn one on.

#[path = "fixtures/support.rs"]
mod support;
use support::{all_output, run_cli, sandbox_config, stdout_json};

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::Value;
use tokenscope::sandbox::{Endpoint, SandboxHandle, SandboxOptions, TokenVersion};

async fn sandbox() -> SandboxHandle {
    support::sandbox(SandboxOptions::default()).await
}

/// The sandbox's written config, plus `extra` profiles, in `dir/config.toml`.
fn config(sb: &SandboxHandle, dir: &Path, extra: &[String]) -> PathBuf {
    let path = sandbox_config(sb, dir);
    let mut text = std::fs::read_to_string(&path).expect("config");
    for e in extra {
        text.push_str(e);
    }
    std::fs::write(&path, text).expect("config written");
    path
}

/// A profile for `client` expecting `roles`, reading Graph through console-rw, with
/// `credential` lines (a secret by default).
fn profile(sb: &SandboxHandle, name: &str, client: &str, roles: &[&str], lines: &str) -> String {
    let c = sb.client(client).expect("client");
    let credential = if lines.is_empty() {
        format!("client_secret = {:?}", c.secret)
    } else {
        lines.to_string()
    };
    format!(
        "\n[profiles.{name}]\nauthority = {:?}\nclient_id = {:?}\n{credential}\nscope = {:?}\n\
         api_url = {:?}\nexpected_roles = {roles:?}\ngraph_url = {:?}\n\
         graph_credential = \"console-rw\"\n",
        sb.authority(),
        c.client_id,
        sb.api_scope(),
        sb.api_url_template(),
        sb.graph_url(),
    )
}

struct Run {
    code: Option<i32>,
    json: Value,
    text: String,
}

/// `setup --json` and `setup` for profile `name` (both, so each assertion checks both).
async fn setup(cfg: &Path, name: &str, flags: &[&str]) -> Run {
    let home = cfg.parent().expect("dir");
    let cfg = cfg.to_str().expect("utf-8");
    let mut args = vec!["--config", cfg, "-p", name];
    args.extend_from_slice(flags);
    let mut json_args = args.clone();
    json_args.extend(["setup", "--json"]);
    let o = run_cli(home, &json_args, &[]).await;
    let json = stdout_json(&o);
    let code = o.status.code();
    args.push("setup");
    let o = run_cli(home, &args, &[]).await;
    assert_eq!(
        o.status.code(),
        code,
        "the same exit either way: {}",
        all_output(&o)
    );
    Run {
        code,
        json,
        text: all_output(&o),
    }
}

fn link<'a>(j: &'a Value, role: &str, kind: &str) -> &'a Value {
    let chain = j["chains"]
        .as_array()
        .expect("chains")
        .iter()
        .find(|c| c["role"] == role)
        .unwrap_or_else(|| panic!("no chain for {role}: {j:#}"));
    chain["links"]
        .as_array()
        .expect("links")
        .iter()
        .find(|l| l["link"] == kind)
        .unwrap_or_else(|| panic!("no {kind} link: {chain:#}"))
}

fn finding<'a>(j: &'a Value, topic: &str) -> &'a Value {
    j["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .find(|f| f["topic"] == topic)
        .unwrap_or_else(|| panic!("no {topic} finding: {j:#}"))
}

fn text(v: &Value) -> &str {
    v.as_str().unwrap_or_default()
}

/// The line after `line` in the checklist that starts (after indentation) with `prefix`.
fn under<'a>(out: &'a str, line: &str, prefix: &str) -> &'a str {
    let mut lines = out.lines().skip_while(|l| !l.contains(line));
    assert!(lines.next().is_some(), "no line {line:?} in:\n{out}");
    lines
        .take_while(|l| l.starts_with("      "))
        .find(|l| l.trim_start().starts_with(prefix))
        .unwrap_or_else(|| panic!("no {prefix:?} under {line:?} in:\n{out}"))
}

/// Link `kind` of `role` is ✗ with `summary` (and a fix containing `fix`) in both outputs;
/// in the checklist it is where the chain breaks, its fix under it.
fn assert_broken_link(run: &Run, role: &str, kind: &str, summary: &str, fix: &str) {
    let l = link(&run.json, role, kind);
    assert_eq!(l["severity"], "error", "{l:#}");
    assert!(text(&l["summary"]).contains(summary), "{l:#}");
    assert!(text(&l["fix"]).contains(fix), "{l:#}");
    assert_eq!(run.code, Some(1), "{}", run.text);
    assert_eq!(run.json["ok"], false);
    let label = kind.replace('_', " ");
    let line = format!("✗ {label}");
    let shown = run
        .text
        .lines()
        .find(|l| l.contains(&line) && l.contains(summary))
        .unwrap_or_else(|| panic!("no {line:?} … {summary:?} in:\n{}", run.text));
    assert!(shown.ends_with("← the chain breaks here"), "{shown}");
    assert!(
        under(&run.text, shown, "fix:").contains(fix),
        "{}",
        run.text
    );
}

/// Finding `topic` is ✗ with `summary` (and a fix containing `fix`) in both outputs.
fn assert_broken_finding(run: &Run, topic: &str, summary: &str, fix: &str) {
    let f = finding(&run.json, topic);
    assert_eq!(f["severity"], "error", "{f:#}");
    assert!(text(&f["summary"]).contains(summary), "{f:#}");
    assert!(text(&f["fix"]).contains(fix), "{f:#}");
    assert_eq!(run.code, Some(1), "{}", run.text);
    let line = format!("✗ {}", topic.replace('_', " "));
    let shown = run
        .text
        .lines()
        .find(|l| l.contains(&line) && l.contains(summary))
        .unwrap_or_else(|| panic!("no {line:?} … {summary:?} in:\n{}", run.text));
    assert!(
        under(&run.text, shown, "fix:").contains(fix),
        "{}",
        run.text
    );
}

fn all_ok(run: &Run) {
    assert_eq!(run.code, Some(0), "{}", run.text);
    assert_eq!(run.json["ok"], true, "{:#}", run.json);
    for chain in run.json["chains"].as_array().expect("chains") {
        for l in chain["links"].as_array().expect("links") {
            assert_eq!(l["severity"], "ok", "{chain:#}");
        }
    }
    for f in run.json["findings"].as_array().expect("findings") {
        assert_eq!(f["severity"], "ok", "{f:#}");
    }
    assert!(
        run.text.contains("the set-up holds: no broken link"),
        "{}",
        run.text
    );
    assert!(!run.text.contains('✗'), "{}", run.text);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_healthy_profile_is_all_ok_and_each_broken_link_shows_its_fix() {
    let sb = sandbox().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let extra = [
        profile(&sb, "admin", "console-rw", &["Weather.Admin"], ""),
        profile(&sb, "audit", "console-rw", &["Weather.Audit"], ""),
        profile(&sb, "export", "console-rw", &["Weather.Export"], ""),
        profile(&sb, "nope", "console-rw", &["Weather.Nope"], ""),
    ];
    let cfg = config(&sb, dir.path(), &extra);

    let run = setup(&cfg, "console-rw", &[]).await;
    all_ok(&run);
    let roles: Vec<&str> = run.json["chains"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| text(&c["role"]))
        .collect();
    assert_eq!(roles, ["Weather.Read", "Weather.Write"]);
    assert!(text(&run.json["source"]).contains("/graph/v1.0 (token from profile `console-rw`)"));
    for key in [
        "profile", "source", "read_at", "chains", "findings", "notes",
    ] {
        assert!(run.json.get(key).is_some(), "{key}: {:#}", run.json);
    }
    // mobile-ro reads through console-rw, and is healthy too.
    all_ok(&setup(&cfg, "mobile-ro", &[]).await);

    // Not configured on the client at all.
    let run = setup(&cfg, "no-roles", &[]).await;
    assert_broken_link(
        &run,
        "Weather.Read",
        "configured",
        "Weather.Read is not configured on the client",
        "az ad app permission add",
    );
    // Not defined on the API.
    let run = setup(&cfg, "nope", &[]).await;
    assert_broken_link(
        &run,
        "Weather.Nope",
        "defined",
        "Weather.Nope is not defined on the API",
        "App roles → Create app role",
    );
    // Configured, admin consent never given.
    sb.configure_role("console-rw", "Weather.Admin").unwrap();
    let run = setup(&cfg, "admin", &[]).await;
    assert_broken_link(
        &run,
        "Weather.Admin",
        "granted",
        "Weather.Admin is configured on the client but admin consent was never granted",
        "az ad app permission admin-consent --id",
    );
    assert_eq!(
        link(&run.json, "Weather.Admin", "configured")["severity"],
        "ok"
    );
    // A role for User members only.
    sb.define_app_role("Weather.Audit", &["User"]).unwrap();
    sb.configure_role("console-rw", "Weather.Audit").unwrap();
    let run = setup(&cfg, "audit", &[]).await;
    assert_broken_link(
        &run,
        "Weather.Audit",
        "defined",
        "Weather.Audit allows only User members: it never shows under Application permissions",
        "Allowed member types",
    );
    // Defined on the client's registration instead of the API's.
    sb.add_client_role("console-rw", "Weather.Export").unwrap();
    let run = setup(&cfg, "export", &[]).await;
    assert_broken_link(
        &run,
        "Weather.Export",
        "defined",
        "Weather.Export is defined on the client's registration, not the API's",
        "App roles → Create app role",
    );
    assert_broken_finding(
        &run,
        "role_on_client",
        "Weather.Export is defined on the client's registration",
        "App roles",
    );
    sb.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_older_than_the_grant_then_a_fresh_one() {
    let sb = sandbox().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = config(
        &sb,
        dir.path(),
        &[profile(
            &sb,
            "admin",
            "console-rw",
            &["Weather.Read", "Weather.Admin"],
            "",
        )],
    );
    let home = dir.path();
    let path = cfg.to_str().unwrap();
    // A token in the cache, then the grant.
    let o = run_cli(home, &["--config", path, "-p", "admin", "token"], &[]).await;
    assert_eq!(o.status.code(), Some(0), "{}", all_output(&o));
    sb.grant_role("console-rw", "Weather.Admin").unwrap();
    let run = setup(&cfg, "admin", &[]).await;
    assert_eq!(
        link(&run.json, "Weather.Admin", "granted")["severity"],
        "ok"
    );
    assert_broken_link(
        &run,
        "Weather.Admin",
        "in_token",
        "this token predates the grant (granted ",
        "--no-cache",
    );
    assert!(
        text(&link(&run.json, "Weather.Admin", "in_token")["summary"]).ends_with(") — refresh"),
        "{:#}",
        run.json
    );
    // Weather.Read, granted at start and in the token despite its backdated iat: ✓.
    assert_eq!(
        link(&run.json, "Weather.Read", "in_token")["severity"],
        "ok"
    );
    // A fresh token carries it.
    all_ok(&setup(&cfg, "admin", &["--no-cache"]).await);
    sb.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_version_assignment_required_and_the_tenant_s_secret_expiry() {
    let sb = sandbox().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = config(&sb, dir.path(), &[]);

    // v1 tokens: requestedAccessTokenVersion null, and aud the App ID URI.
    sb.set_access_token_version(TokenVersion::V1);
    let run = setup(&cfg, "console-rw", &["--no-cache"]).await;
    let f = finding(&run.json, "token_version");
    assert_eq!(f["severity"], "warning", "{f:#}");
    assert!(
        text(&f["summary"])
            .starts_with("the API's requestedAccessTokenVersion is null: Entra issues v1 tokens")
            && text(&f["summary"]).ends_with("this token is v1.0"),
        "{f:#}"
    );
    assert!(
        text(&f["fix"]).contains("--set api.requestedAccessTokenVersion=2"),
        "{f:#}"
    );
    let a = finding(&run.json, "audience");
    assert_eq!(a["severity"], "warning", "{a:#}");
    assert!(text(&a["summary"]).starts_with(&format!("aud is the App ID URI {}", sb.app_id_uri())));
    assert_eq!(run.code, Some(0), "⚠ only: {}", run.text);
    assert!(run.text.contains("⚠ token version"), "{}", run.text);
    sb.set_access_token_version(TokenVersion::V2);

    // Assignment required, and no-roles holds none: AADSTS501051 (the token request fails too).
    sb.set_assignment_required(true);
    let run = setup(&cfg, "no-roles", &["--no-cache"]).await;
    assert_broken_finding(
        &run,
        "assignment_required",
        "requires an assignment (appRoleAssignmentRequired)",
        "appRoleAssignmentRequired=false",
    );
    assert!(text(&finding(&run.json, "assignment_required")["summary"]).contains("AADSTS501051"));
    let t = finding(&run.json, "token");
    assert!(text(&t["summary"]).contains("AADSTS501051"), "{t:#}");
    assert_eq!(
        link(&run.json, "Weather.Read", "in_token")["summary"],
        "no token yet"
    );
    sb.set_assignment_required(false);

    // The tenant says the secret expired.
    let run = setup(&cfg, "expired-secret", &[]).await;
    assert_broken_finding(
        &run,
        "secret",
        "the client's only secret of",
        "New client secret",
    );
    assert!(text(&finding(&run.json, "secret")["summary"]).contains("expired on 2024-06-30"));
    sb.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unregistered_certificate_and_a_federated_subject_that_differs_in_case() {
    let sb = sandbox().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let token_file = dir.path().join("wrong-case.token");
    let minted = sb
        .mint_federated_token(
            "system:serviceaccount:Weather:console",
            "api://AzureADTokenExchange",
            Duration::from_secs(3600),
        )
        .unwrap();
    std::fs::write(&token_file, minted).unwrap();
    let extra = [
        profile(
            &sb,
            "unregistered",
            "console-rw",
            &["Weather.Read"],
            "client_certificate_path = \"console-cert.pem\"",
        ),
        profile(
            &sb,
            "wrong-case",
            "workload",
            &["Weather.Read"],
            &format!(
                "federated_token_file = {:?}",
                token_file.display().to_string()
            ),
        ),
    ];
    let cfg = config(&sb, dir.path(), &extra);

    // console-cert's own certificate: registered; on console-rw: not (AADSTS700027).
    let run = setup(&cfg, "console-cert", &[]).await;
    assert_eq!(
        finding(&run.json, "thumbprint")["severity"],
        "ok",
        "{:#}",
        run.json
    );
    all_ok(&run);
    let run = setup(&cfg, "unregistered", &[]).await;
    assert_broken_finding(
        &run,
        "thumbprint",
        "is not registered on Weather console (read-write)",
        "Upload certificate",
    );
    assert!(text(&finding(&run.json, "thumbprint")["summary"]).contains("AADSTS700027"));

    // The workload's own token matches; one whose subject differs in case does not.
    all_ok(&setup(&cfg, "workload", &[]).await);
    let run = setup(&cfg, "wrong-case", &[]).await;
    assert_broken_finding(
        &run,
        "federated",
        "the token's subject system:serviceaccount:«W»eather:console differs only in case from system:serviceaccount:«w»eather:console",
        "Federated credentials → 'weather-console-sa'",
    );
    sb.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graph_403_no_source_and_paging() {
    let sb = support::sandbox(SandboxOptions {
        graph_page_size: 1,
        ..SandboxOptions::default()
    })
    .await;
    let dir = tempfile::tempdir().expect("tempdir");
    let home = dir.path();
    let cfg = config(&sb, home, &[]);
    let text_cfg = std::fs::read_to_string(&cfg).unwrap();

    // Paging: one object per page, and the chain is still whole.
    let before = sb.request_count(Endpoint::Graph);
    all_ok(&setup(&cfg, "console-rw", &["--no-cache"]).await);
    // Two runs; each reads 6 objects or collections, and the 3 assignments take 3 pages.
    let per_run = (sb.request_count(Endpoint::Graph) - before) / 2;
    assert!(per_run >= 8, "{per_run} Graph requests per run: no paging?");

    // mobile-ro reading Graph with its own credential: 403, and how to get the permission.
    let own = text_cfg.replacen(
        "graph_credential = \"console-rw\"",
        "graph_credential = \"profile\"",
        1,
    );
    let own_cfg = home.join("own.toml");
    std::fs::write(&own_cfg, own).unwrap();
    let run = setup(&own_cfg, "mobile-ro", &[]).await;
    assert_eq!(run.code, Some(3), "{}", run.text);
    let e = &run.json["error"];
    assert_eq!(
        (e["stage"].as_str(), e["kind"].as_str()),
        (Some("graph"), Some("refused"))
    );
    assert_eq!(e["status"], 403);
    assert_eq!(e["code"], "Authorization_RequestDenied");
    for want in ["Application.Read.All", "Grant admin consent", "azure-cli"] {
        assert!(text(&e["hint"]).contains(want), "{want}: {e:#}");
        assert!(run.text.contains(want), "{want}: {}", run.text);
    }
    assert!(
        run.text
            .contains("hint: the Graph token (from profile `mobile-ro`)"),
        "{}",
        run.text
    );

    // No source: exit 2 and how to turn one on, no stack of errors.
    let none: String = text_cfg
        .lines()
        .filter(|l| !l.starts_with("graph_credential"))
        .collect::<Vec<_>>()
        .join("\n");
    let none_cfg = home.join("none.toml");
    std::fs::write(&none_cfg, none).unwrap();
    let run = setup(&none_cfg, "console-rw", &[]).await;
    assert_eq!(run.code, Some(2), "{}", run.text);
    assert_eq!(run.json["error"]["kind"], "not_configured");
    let stderr: Vec<&str> = run
        .text
        .lines()
        .skip_while(|l| *l != "--- stderr")
        .skip(1)
        .collect();
    assert!(
        stderr[0].starts_with("error: profile `console-rw` has no source for its app-role set-up"),
        "{stderr:?}"
    );
    assert!(
        stderr[1].starts_with("hint: set graph_credential"),
        "{stderr:?}"
    );
    assert_eq!(
        stderr.iter().filter(|l| !l.is_empty()).count(),
        2,
        "{stderr:?}"
    );
    // doctor skips its stage with a note, and passes.
    let o = run_cli(
        home,
        &["--config", none_cfg.to_str().unwrap(), "doctor", "--json"],
        &[],
    )
    .await;
    assert_eq!(o.status.code(), Some(0), "{}", all_output(&o));
    let j = stdout_json(&o);
    let stage = j["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["stage"] == "setup")
        .unwrap();
    assert_eq!(stage["severity"], "info");
    assert!(
        text(&stage["detail"]).contains("set graph_credential"),
        "{stage}"
    );
    sb.shutdown().await;
}

/// The azure-cli source, through a stand-in that prints a sandbox Graph token.
#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_azure_cli_source_through_a_stand_in() {
    let sb = sandbox().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let home = dir.path();
    let cfg = config(&sb, home, &[]);
    let text_cfg = std::fs::read_to_string(&cfg).unwrap();
    let (status, body) = support::secret_grant(
        &support::http(),
        &sb,
        &sb.client("console-rw").unwrap().client_id,
        &sb.client("console-rw").unwrap().secret,
        "https://graph.microsoft.com/.default",
    )
    .await;
    assert!(status.is_success(), "{body}");
    let az = stand_in_az(home, text(&body["access_token"]));
    let cli = text_cfg.replacen(
        "graph_credential = \"console-rw\"",
        &format!("graph_credential = \"azure-cli\"\ngraph_cli_command = [{az:?}]"),
        1,
    );
    let cli_cfg = home.join("cli.toml");
    std::fs::write(&cli_cfg, cli).unwrap();
    let run = setup(&cli_cfg, "mobile-ro", &[]).await;
    all_ok(&run);
    assert!(
        text(&run.json["source"]).ends_with("(token from azure-cli)"),
        "{:#}",
        run.json
    );
    sb.shutdown().await;
}

/// A stand-in for `az account get-access-token`: prints its JSON with `token`.
#[cfg(unix)]
fn stand_in_az(dir: &Path, token: &str) -> String {
    use std::os::unix::fs::PermissionsExt;
    let path = dir.join("fake-az");
    let json = serde_json::json!({"accessToken": token, "expires_on": 4070908800u64,
                                  "tenant": "ec184e30-7605-46d6-97ce-0b8dfa8e6682",
                                  "tokenType": "Bearer"});
    std::fs::write(&path, format!("#!/bin/sh\ncat <<'EOF'\n{json}\nEOF\n")).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path.display().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn doctor_and_call_explain_a_refusal_by_the_set_up() {
    let sb = sandbox().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let home = dir.path();
    let cfg = config(&sb, home, &[]);
    let path = cfg.to_str().unwrap();

    // Healthy: doctor's setup stage is one ✓ line.
    let o = run_cli(home, &["--config", path, "doctor", "--json"], &[]).await;
    assert_eq!(o.status.code(), Some(0), "{}", all_output(&o));
    let j = stdout_json(&o);
    let stages: Vec<&Value> = j["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["stage"] == "setup")
        .collect();
    assert_eq!(stages.len(), 1, "{j:#}");
    assert_eq!(stages[0]["severity"], "ok", "{j:#}");
    assert!(
        text(&stages[0]["detail"]).starts_with("Weather.Read, Weather.Write from Microsoft Graph")
    );

    // The API now requires Weather.Admin, configured on console-rw but never consented.
    sb.set_required_role("Weather.Admin").unwrap();
    sb.configure_role("console-rw", "Weather.Admin").unwrap();
    let o = run_cli(home, &["--config", path, "call", "Seattle"], &[]).await;
    assert_eq!(o.status.code(), Some(4), "{}", all_output(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("error: the API refused the call (403): the token carries Weather.Read, Weather.Write; the API requires Weather.Admin\nwhy: Weather.Admin is configured on the client but admin consent was never granted (according to the app-role set-up)."),
        "{err}"
    );
    assert!(err.contains("fix: App registrations → Weather console (read-write) → API permissions → 'Grant admin consent"), "{err}");
    let o = run_cli(home, &["--config", path, "call", "Seattle", "--json"], &[]).await;
    let j = stdout_json(&o);
    assert!(
        text(&j["diagnosis"]["cause"]).starts_with(
            "Weather.Admin is configured on the client but admin consent was never granted"
        ),
        "{j:#}"
    );
    // doctor: the setup stage names the broken link, the API check says the same.
    let o = run_cli(home, &["--config", path, "doctor"], &[]).await;
    assert_eq!(o.status.code(), Some(1), "{}", all_output(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains("✗ setup      Weather.Admin (granted): Weather.Admin is configured on the client but admin consent was never granted"),
        "{out}"
    );
    assert!(
        out.contains("why: Weather.Admin is configured on the client but admin consent"),
        "{out}"
    );
    // A 200 reads nothing from Graph.
    sb.set_required_role("Weather.Read").unwrap();
    let before = sb.request_count(Endpoint::Graph);
    let o = run_cli(home, &["--config", path, "call", "Seattle"], &[]).await;
    assert_eq!(o.status.code(), Some(0), "{}", all_output(&o));
    assert_eq!(
        sb.request_count(Endpoint::Graph),
        before,
        "a successful call read Graph"
    );
    sb.shutdown().await;
}
