//! No leaks from reading the set-up or waiting for a role: with a canary client secret (the
//! sandbox's console-rw, which also reads Graph) and the Graph tokens the runs obtain (from
//! its credential, and a canary one the azure-cli stand-in prints), run `setup`, `setup
//! --json`, `doctor`, `call --wait-for-role` and their error paths with trace logging, then
//! scan stdout, stderr and every file written under HOME but the cache. In process, the same
//! reading and waiting under a capturing `tracing` subscriber at TRACE: the log holds no
//! token and no secret either.

#![cfg(unix)]

#[path = "fixtures/support.rs"]
mod support;
use support::{all_output, run_cli};

use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokenscope::sandbox::{SandboxHandle, SandboxOptions, TenantModel};

const CANARY_SECRET: &str = "CANARY-graph-secret-9d2e41-do-not-print";

/// Every JWT-shaped run (`eyJ….….…`) in `text`.
fn raw_jwts(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find("eyJ") {
        let run: String = rest[i..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
            .collect();
        if run.matches('.').count() >= 2 && run.split('.').nth(1).is_some_and(|p| p.len() > 8) {
            found.push(run.clone());
        }
        rest = &rest[i + run.len().max(3)..];
    }
    found
}

fn assert_clean(what: &str, text: &str, tokens: &[String]) {
    assert!(
        !text.contains(CANARY_SECRET),
        "{what}: the client secret leaked:\n{text}"
    );
    for t in tokens {
        let signature = t.rsplit('.').next().unwrap_or(t);
        assert!(!text.contains(signature), "{what}: a token leaked:\n{text}");
    }
    let jwts = raw_jwts(text);
    assert!(jwts.is_empty(), "{what}: a raw token leaked: {jwts:?}");
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(walk(&p));
            } else {
                out.push(p);
            }
        }
    }
    out
}

async fn canary_sandbox() -> SandboxHandle {
    let mut tenant = TenantModel::builtin();
    let rw = tenant
        .clients
        .iter_mut()
        .find(|c| c.name == "console-rw")
        .expect("console-rw");
    rw.secrets.last_mut().expect("a secret").value = CANARY_SECRET.into();
    support::sandbox(SandboxOptions {
        tenant,
        ..SandboxOptions::default()
    })
    .await
}

/// A Graph token for console-rw, straight from the sandbox.
async fn graph_token(sb: &SandboxHandle) -> String {
    let rw = sb.client("console-rw").expect("console-rw");
    let (status, body) = support::secret_grant(
        &support::http(),
        sb,
        &rw.client_id,
        CANARY_SECRET,
        "https://graph.microsoft.com/.default",
    )
    .await;
    assert!(status.is_success(), "{body}");
    body["access_token"].as_str().expect("token").to_string()
}

fn config(sb: &SandboxHandle, dir: &Path, az: &str) -> PathBuf {
    let rw = sb.client("console-rw").expect("console-rw");
    let ro = sb.client("mobile-ro").expect("mobile-ro");
    let common = format!(
        "authority = {:?}\nscope = {:?}\napi_url = {:?}\ngraph_url = {:?}\ntimeout = \"5s\"\n",
        sb.authority(),
        sb.api_scope(),
        sb.api_url_template(),
        sb.graph_url()
    );
    let text = format!(
        r#"default_profile = "canary"
[profiles.canary]
client_id = "{rw}"
client_secret_env = "TS_CANARY"
expected_roles = ["Weather.Read", "Weather.Admin"]
graph_credential = "profile"
{common}
[profiles.mobile]
client_id = "{ro}"
client_secret = "{ro_secret}"
expected_roles = ["Weather.Read"]
graph_credential = "canary"
{common}
[profiles.cli]
client_id = "{ro}"
client_secret = "{ro_secret}"
graph_credential = "azure-cli"
graph_cli_command = [{az:?}]
{common}
[profiles.denied]
client_id = "{ro}"
client_secret = "{ro_secret}"
graph_credential = "profile"
{common}
[profiles.wrong-secret]
client_id = "{ro}"
client_secret_env = "TS_CANARY"
graph_credential = "canary"
{common}
"#,
        rw = rw.client_id,
        ro = ro.client_id,
        ro_secret = ro.secret,
    );
    let path = dir.join("config.toml");
    std::fs::write(&path, text).expect("config");
    path
}

/// A stand-in `az` printing `token`, and the path to it.
fn stand_in_az(dir: &Path, token: &str) -> String {
    let path = dir.join("fake-az");
    let json = serde_json::json!({"accessToken": token, "expires_on": 4070908800u64,
                                  "tenant": "ec184e30-7605-46d6-97ce-0b8dfa8e6682"});
    std::fs::write(&path, format!("#!/bin/sh\ncat <<'EOF'\n{json}\nEOF\n")).expect("az");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    path.display().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn setup_doctor_and_the_wait_leak_no_graph_token_and_no_secret() {
    let sb = canary_sandbox().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let home = dir.path();
    let cli_token = graph_token(&sb).await;
    let az = stand_in_az(home, &cli_token);
    let cfg = config(&sb, home, &az);
    let cfg = cfg.to_str().expect("utf-8");
    let env = [("TS_CANARY", CANARY_SECRET), ("TOKENSCOPE_LOG", "trace")];
    // Weather.Admin, granted now, reaches tokens two seconds later.
    sb.set_grant_delay(Duration::from_secs(2));
    sb.grant_role("console-rw", "Weather.Admin").expect("grant");

    let runs: Vec<(Vec<&str>, Option<i32>)> = vec![
        (vec!["setup"], Some(1)),
        (vec!["setup", "--json"], Some(1)),
        (
            vec!["call", "Seattle", "--wait-for-role", "Weather.Admin"],
            Some(0),
        ),
        (vec!["setup"], Some(0)),
        (vec!["setup", "--json"], Some(0)),
        (vec!["doctor"], Some(0)),
        (vec!["doctor", "--json"], Some(0)),
        (
            vec![
                "--no-cache",
                "call",
                "Seattle",
                "--wait-for-role",
                "Weather.Read",
                "--json",
            ],
            Some(0),
        ),
        (vec!["-p", "mobile", "setup", "--json"], Some(0)),
        (vec!["-p", "mobile", "doctor"], Some(0)),
        (vec!["-p", "cli", "setup"], Some(0)),
        (vec!["-p", "cli", "setup", "--json"], Some(0)),
        // Error paths: Graph's 403, the canary secret sent for another client, a wait
        // that ends at its bound.
        (vec!["-p", "denied", "setup"], Some(3)),
        (vec!["-p", "denied", "setup", "--json"], Some(3)),
        (vec!["-p", "denied", "doctor"], Some(0)),
        (vec!["-p", "wrong-secret", "setup"], Some(1)),
        (vec!["-p", "wrong-secret", "setup", "--json"], Some(1)),
        (
            vec![
                "-p",
                "mobile",
                "call",
                "Seattle",
                "--wait-for-role",
                "Weather.Admin",
                "--wait-timeout",
                "2s",
            ],
            Some(3),
        ),
    ];
    let mut outputs = Vec::new();
    for (args, code) in &runs {
        let mut full = vec!["--config", cfg];
        full.extend(args.iter().copied());
        let o = run_cli(home, &full, &env).await;
        let text = all_output(&o);
        assert_eq!(o.status.code(), *code, "{args:?}: {text}");
        outputs.push((format!("tokenscope {args:?}"), text));
    }

    // Every token the runs obtained sits in the cache (API and Graph tokens alike).
    let cache = home.join("cache");
    let mut tokens = vec![cli_token.clone()];
    for path in walk(&cache) {
        let body = std::fs::read_to_string(&path).unwrap_or_default();
        tokens.extend(raw_jwts(&body));
    }
    let graph_tokens = tokens
        .iter()
        .filter(|t| {
            tokenscope::jwt::decode(t)
                .is_ok_and(|d| d.claims.aud.contains("https://graph.microsoft.com"))
        })
        .count();
    assert!(
        graph_tokens >= 2,
        "the Graph tokens were cached: {graph_tokens}"
    );
    for (what, text) in &outputs {
        assert_clean(what, text, &tokens);
    }
    // Everything else written under HOME: logs, the data dir (the stand-in holds its token).
    for path in walk(home) {
        if path.starts_with(&cache) || path.ends_with("config.toml") || path.ends_with("fake-az") {
            continue;
        }
        let body = String::from_utf8_lossy(&std::fs::read(&path).unwrap_or_default()).into_owned();
        assert_clean(&path.display().to_string(), &body, &tokens);
    }
    sb.shutdown().await;
}

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The library calls the dashboard makes: reading the set-up, judging it, waiting for a
/// role, under a TRACE subscriber.
#[tokio::test]
async fn reading_judging_and_waiting_log_no_token_and_no_secret() {
    let logs = Captured::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let sb = canary_sandbox().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let cli_token = graph_token(&sb).await;
    let az = stand_in_az(dir.path(), &cli_token);
    let cfg = config(&sb, dir.path(), &az);
    let env = tokenscope::config::Env::from_pairs([("TS_CANARY", CANARY_SECRET)]);
    let p = support::load_profile(&cfg, Some("canary"), &env);
    let cli = support::load_profile(&cfg, Some("cli"), &env);
    let http = support::client(&p);

    let mut texts = Vec::new();
    for profile in [&p, &cli] {
        let opts = tokenscope::graph::ReadOptions::new(http.clone());
        let facts = tokenscope::graph::read_for_profile(profile, &opts)
            .await
            .expect("set-up read");
        let presented = tokenscope::diagnose::doctor::Presented::default();
        let required = tokenscope::diagnose::setup::Required::expected(&profile.expected_roles);
        let input = tokenscope::diagnose::doctor::setup_input(
            profile,
            &facts,
            None,
            required,
            &presented,
            tokenscope::time::now(),
        );
        let report = tokenscope::diagnose::setup::analyse(&input);
        texts.push(format!("{facts:?}{report:?}"));
        texts.push(serde_json::to_string(&report).expect("json"));
    }
    sb.set_grant_delay(Duration::from_secs(2));
    sb.grant_role("console-rw", "Weather.Admin").expect("grant");
    let manager = tokenscope::auth::TokenManager::for_profile(
        &p,
        http,
        None,
        tokenscope::auth::ManagerOptions::default(),
    );
    let done = tokenscope::diagnose::setup::wait_for_role(
        &manager,
        "Weather.Admin",
        Duration::from_secs(30),
        |a| texts.push(format!("{a:?}")),
    )
    .await
    .expect("the role arrives");
    let api_token = done.token.access_token.expose().to_string();
    texts.push(format!("{done:?}"));

    let logged = String::from_utf8_lossy(&logs.0.lock().unwrap()).into_owned();
    assert!(
        logged.contains("tokenscope"),
        "the capture saw no log: {logged}"
    );
    let tokens = [cli_token, api_token];
    for text in texts.iter().chain(std::iter::once(&logged)) {
        assert_clean("in process", text, &tokens);
    }
    sb.shutdown().await;
}
