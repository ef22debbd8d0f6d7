//! Where the Graph token comes from, end to end through `graph::read_for_profile` against a
//! scripted Graph and token endpoint on 127.0.0.1: the profile's own credential, another
//! profile's (with the token cache), and the Azure CLI through stand-in scripts (JSON, not
//! signed in, not installed, too slow, garbage). And the leak canary: the Graph token the
//! stand-in prints appears in no error text and no `tracing` output.

#![cfg(unix)]

#[path = "fixtures/fake_graph.rs"]
mod fake_graph;

use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use fake_graph::*;
use serde_json::json;
use tokenscope::config::{self, Env, LoadOptions, Profile};
use tokenscope::graph::{CliError, GraphError, ReadOptions, read_for_profile};
use tokenscope::problem::Problem;

const TENANT: &str = "ec184e30-7605-46d6-97ce-0b8dfa8e6682";
const READER_ID: &str = "d1d1d1d1-0000-0000-0000-000000000001";
/// A JWT-shaped canary, as real Graph tokens are.
const CANARY: &str =
    "eyJ0eXAiOiJKV1QiLCJjYW5hcnkiOjF9.eyJjYW5hcnkiOiJncmFwaC1jYW5hcnkifQ.Z3JhcGgtY2FuYXJ5LXNpZw";

struct Setup {
    _dir: tempfile::TempDir,
    dir: PathBuf,
    config: PathBuf,
}

/// A config with profiles `console` (its Graph keys from `graph`) and `reader`, on the fake.
fn setup(g: &FakeGraph, graph: &str) -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let origin = g.origin();
    let base = g.base();
    let text = format!(
        r#"
default_profile = "console"

[profiles.console]
authority = "{origin}/{TENANT}"
client_id = "{CLIENT_ID}"
client_secret = "client-secret-canary-7"
scope = "{SCOPE}"
api_url = "{origin}/api/weather/{{city}}"
graph_url = "{base}"
{graph}

[profiles.reader]
authority = "{origin}/{TENANT}"
client_id = "{READER_ID}"
client_secret = "reader-secret-canary-8"
scope = "{SCOPE}"
api_url = "{origin}/api/weather/{{city}}"
"#
    );
    let config = dir.path().join("config.toml");
    std::fs::write(&config, text).unwrap();
    Setup {
        dir: dir.path().to_path_buf(),
        _dir: dir,
        config,
    }
}

fn load(s: &Setup, name: &str) -> Profile {
    let opts = LoadOptions {
        config: Some(s.config.clone()),
        profile: Some(name.into()),
    };
    config::load(&opts, &Env::default()).expect("profile loads")
}

/// A stand-in for `az`: a shell script with `body`.
fn script(dir: &Path, name: &str, body: &str) -> String {
    let path = dir.join(name);
    let mut f = std::fs::File::create(&path).unwrap();
    writeln!(f, "#!/bin/sh\n{body}").unwrap();
    drop(f);
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path.display().to_string()
}

fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(20))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

fn opts<'a>() -> ReadOptions<'a> {
    let mut o = ReadOptions::new(http());
    o.cli_timeout = Duration::from_secs(10);
    o
}

/// A config whose console profile reads Graph through the stand-in `body`.
fn cli_setup(g: &FakeGraph, body: &str) -> (Setup, Profile) {
    let s = setup(g, "graph_credential = \"azure-cli\"");
    let az = script(&s.dir, "fake-az", body);
    // Rewrite with the script's path (the profile needs it in the file).
    let text = std::fs::read_to_string(&s.config).unwrap().replace(
        "graph_credential = \"azure-cli\"",
        &format!("graph_credential = \"azure-cli\"\ngraph_cli_command = [{az:?}, \"account\", \"get-access-token\"]"),
    );
    std::fs::write(&s.config, text).unwrap();
    let p = load(&s, "console");
    (s, p)
}

fn az_json(token: &str) -> String {
    format!(
        "cat <<'EOF'\n{}\nEOF",
        json!({"accessToken": token, "expiresOn": "2099-01-01 00:00:00.000000",
               "expires_on": 4070908800u64, "subscription": "s", "tenant": TENANT,
               "tokenType": "Bearer"})
    )
}

#[tokio::test]
async fn the_azure_cli_token_reads_graph() {
    let g = FakeGraph::start().await;
    healthy_tenant(&g);
    let (_s, p) = cli_setup(&g, &az_json("cli-token-1"));
    let facts = read_for_profile(&p, &opts()).await.unwrap();
    assert_eq!(facts.api_app.unwrap().app_id, API_APP_ID);
    assert!(
        facts.source.ends_with("(token from azure-cli)"),
        "{}",
        facts.source
    );
    assert!(facts.notes.is_empty(), "{:?}", facts.notes);
    let seen = g.seen();
    assert!(!seen.is_empty());
    assert!(
        seen.iter()
            .all(|s| s.authorization.as_deref() == Some("Bearer cli-token-1"))
    );
}

#[tokio::test]
async fn an_azure_cli_that_is_not_signed_in_says_run_az_login() {
    let g = FakeGraph::start().await;
    let (_s, p) = cli_setup(
        &g,
        "echo \"ERROR: Please run 'az login' to setup account.\" >&2\nexit 1",
    );
    let e = read_for_profile(&p, &opts()).await.unwrap_err();
    assert!(
        matches!(e, GraphError::Cli(CliError::NotLoggedIn { .. })),
        "{e:?}"
    );
    let text = e.full_text();
    assert!(
        text.contains("not signed in") && text.contains("Please run 'az login'"),
        "{text}"
    );
    assert!(e.hint().unwrap().starts_with("run `az login`"), "{text}");
    assert!(g.seen().is_empty(), "Graph was called");
}

#[tokio::test]
async fn a_missing_azure_cli_says_install_it_or_choose_another_source() {
    let g = FakeGraph::start().await;
    for missing in ["/nonexistent/dir/az", "tokenscope-test-no-such-az"] {
        let s = setup(
            &g,
            &format!("graph_credential = \"azure-cli\"\ngraph_cli_command = [{missing:?}]"),
        );
        let p = load(&s, "console");
        let e = read_for_profile(&p, &opts()).await.unwrap_err();
        assert!(
            matches!(e, GraphError::Cli(CliError::NotInstalled { .. })),
            "{e:?}"
        );
        let text = e.full_text();
        assert!(
            text.contains("was not found")
                && text.contains("install the Azure CLI")
                && text.contains("choose another graph_credential"),
            "{text}"
        );
    }
}

#[tokio::test]
async fn a_hanging_azure_cli_is_stopped_at_the_timeout() {
    let g = FakeGraph::start().await;
    let (_s, p) = cli_setup(&g, "exec sleep 30");
    let mut o = opts();
    o.cli_timeout = Duration::from_millis(500);
    let started = std::time::Instant::now();
    let e = read_for_profile(&p, &o).await.unwrap_err();
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    assert!(
        matches!(e, GraphError::Cli(CliError::Timeout { .. })),
        "{e:?}"
    );
    assert!(
        e.full_text().contains("did not finish"),
        "{}",
        e.full_text()
    );
}

#[tokio::test]
async fn garbage_and_failures_from_the_cli_are_explained() {
    let g = FakeGraph::start().await;
    let (_s, p) = cli_setup(&g, "echo 'WARNING: something {{{'\necho 'not json'");
    let e = read_for_profile(&p, &opts()).await.unwrap_err();
    assert!(
        matches!(e, GraphError::Cli(CliError::NotJson { .. })),
        "{e:?}"
    );
    assert!(e.hint().unwrap().contains("-o json"), "{e}");
    let (_s, p) = cli_setup(&g, "echo '{\"tokenType\": \"Bearer\"}'");
    let e = read_for_profile(&p, &opts()).await.unwrap_err();
    assert!(
        matches!(e, GraphError::Cli(CliError::NoToken { .. })),
        "{e:?}"
    );
    let (_s, p) = cli_setup(
        &g,
        "echo 'ERROR: The command failed with an unexpected error.' >&2\nexit 2",
    );
    let e = read_for_profile(&p, &opts()).await.unwrap_err();
    let text = e.full_text();
    assert!(
        text.contains("exit code 2") && text.contains("failed with an unexpected error"),
        "{text}"
    );
}

#[tokio::test]
async fn the_profile_s_own_credential_asks_for_graph_s_scope() {
    let g = FakeGraph::start().await;
    healthy_tenant(&g);
    g.token_endpoint(TENANT, "own-graph-token");
    let s = setup(&g, "graph_credential = \"profile\"");
    let p = load(&s, "console");
    let facts = read_for_profile(&p, &opts()).await.unwrap();
    assert!(
        facts.source.ends_with("(token from profile `console`)"),
        "{}",
        facts.source
    );
    let token_req = g.seen().into_iter().find(|s| s.method == "POST").unwrap();
    let form = |k: &str| {
        token_req
            .form
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
    };
    assert_eq!(
        form("scope").as_deref(),
        Some("https://graph.microsoft.com/.default")
    );
    assert_eq!(form("client_id").as_deref(), Some(CLIENT_ID));
    assert!(
        g.seen()
            .iter()
            .filter(|s| s.method == "GET")
            .all(|s| s.authorization.as_deref() == Some("Bearer own-graph-token"))
    );
}

#[tokio::test]
async fn another_profile_reads_with_its_credential_and_its_own_cache_entry() {
    let g = FakeGraph::start().await;
    healthy_tenant(&g);
    g.token_endpoint(TENANT, "reader-graph-token");
    let s = setup(&g, "graph_credential = \"reader\"");
    let p = load(&s, "console");
    // Without the resolved reader: a typed error, no request.
    let e = read_for_profile(&p, &opts()).await.unwrap_err();
    assert!(matches!(e, GraphError::ReaderNotLoaded { .. }), "{e:?}");
    assert!(g.seen().is_empty());

    let loaded = config::load_file(
        &LoadOptions {
            config: Some(s.config.clone()),
            profile: None,
        },
        &Env::default(),
    )
    .unwrap();
    let reader = config::resolve_graph_reader(&loaded, &p, &Env::default())
        .unwrap()
        .unwrap();
    let cache_dir = s.dir.join("cache");
    let mut o = opts();
    o.reader = Some(&reader);
    o.cache = Some(tokenscope::auth::TokenCache::open(&cache_dir).unwrap());
    let facts = read_for_profile(&p, &o).await.unwrap();
    assert!(
        facts.source.ends_with("(token from profile `reader`)"),
        "{}",
        facts.source
    );
    let posts = || {
        g.seen()
            .into_iter()
            .filter(|s| s.method == "POST")
            .collect::<Vec<_>>()
    };
    assert_eq!(posts().len(), 1);
    assert!(
        posts()[0]
            .form
            .contains(&("client_id".into(), READER_ID.into()))
    );
    // Read again: the cached Graph token; `fresh_token` asks for a new one.
    read_for_profile(&p, &o).await.unwrap();
    assert_eq!(posts().len(), 1);
    o.fresh_token = true;
    read_for_profile(&p, &o).await.unwrap();
    assert_eq!(posts().len(), 2);
    assert_eq!(std::fs::read_dir(&cache_dir).unwrap().count(), 1);

    // A 403 names where the token came from.
    g.set(
        &format!("/servicePrincipals(appId='{API_APP_ID}')"),
        Reply::error(
            403,
            "Authorization_RequestDenied",
            "Insufficient privileges to complete the operation.",
        ),
    );
    let e = read_for_profile(&p, &o).await.unwrap_err();
    assert!(
        e.hint().unwrap().contains("(from profile `reader`)"),
        "{}",
        e.full_text()
    );
}

#[tokio::test]
async fn no_source_and_no_graph_url_say_what_to_set_before_any_request() {
    let g = FakeGraph::start().await;
    let s = setup(&g, "");
    let p = load(&s, "console");
    let e = read_for_profile(&p, &opts()).await.unwrap_err();
    assert!(matches!(e, GraphError::NotConfigured { .. }), "{e:?}");
    let hint = e.hint().unwrap();
    assert!(
        hint.contains("graph_credential") && hint.contains("setup_files"),
        "{hint}"
    );
    // A custom authority host and no graph_url: which Graph is unknown.
    let text = std::fs::read_to_string(&s.config).unwrap().replace(
        &format!("graph_url = \"{}\"", g.base()),
        "graph_credential = \"profile\"",
    );
    std::fs::write(&s.config, text).unwrap();
    let p = load(&s, "console");
    let e = read_for_profile(&p, &opts()).await.unwrap_err();
    assert!(matches!(e, GraphError::NoGraphUrl { .. }), "{e:?}");
    assert!(e.hint().unwrap().contains("graph_url"), "{}", e.full_text());
    assert!(g.seen().is_empty(), "a request was made: {:?}", g.seen());
}

// ---------------------------------------------------------------- leak canary

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

#[tokio::test]
async fn the_graph_token_appears_in_no_error_and_no_log() {
    let logs = Captured::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let g = FakeGraph::start().await;
    healthy_tenant(&g);
    let mut texts = Vec::new();

    // Success: the token goes to Graph, and nowhere else.
    let (_s1, p) = cli_setup(&g, &az_json(CANARY));
    let facts = read_for_profile(&p, &opts()).await.unwrap();
    texts.push(format!("{facts:?}"));
    texts.push(serde_json::to_string(&facts).unwrap());
    assert!(
        g.seen()
            .iter()
            .any(|s| s.authorization.as_deref() == Some(&format!("Bearer {CANARY}")))
    );

    // Graph echoes the token in its error JSON, and in an HTML page.
    g.set(
        &format!("/applications(appId='{CLIENT_ID}')"),
        Reply::error(
            403,
            "Authorization_RequestDenied",
            &format!("denied for Bearer {CANARY}"),
        ),
    );
    let e = read_for_profile(&p, &opts()).await.unwrap_err();
    texts.push(e.full_text());
    texts.push(format!("{e:?}"));
    g.set(
        &format!("/applications(appId='{CLIENT_ID}')"),
        Reply::raw(
            502,
            "text/html",
            format!("<p>you sent {CANARY}</p>").into_bytes(),
        ),
    );
    let e = read_for_profile(&p, &opts()).await.unwrap_err();
    assert!(matches!(e, GraphError::UnexpectedBody { .. }), "{e:?}");
    texts.push(e.full_text());
    texts.push(format!("{e:?}"));

    // The CLI prints the token in garbage, in broken JSON, and on stderr when failing.
    for body in [
        format!("echo 'token: {CANARY} (not json)'"),
        format!("echo '{{\"accessToken\": \"{CANARY}\"'"),
        format!("echo 'ERROR: cannot use {CANARY}' >&2\nexit 3"),
        format!("echo 'ERROR: run az login; had {CANARY}' >&2\nexit 1"),
    ] {
        let (_s, p) = cli_setup(&g, &body);
        let e = read_for_profile(&p, &opts()).await.unwrap_err();
        assert!(matches!(e, GraphError::Cli(_)), "{e:?}");
        texts.push(e.full_text());
        texts.push(format!("{e:?}"));
    }

    let logged = String::from_utf8_lossy(&logs.0.lock().unwrap()).into_owned();
    assert!(
        logged.contains("tokenscope::graph"),
        "the capture saw no Graph log: {logged}"
    );
    // Every piece of the canary: the whole token, and each of its parts.
    let pieces: Vec<&str> = std::iter::once(CANARY).chain(CANARY.split('.')).collect();
    for text in texts.iter().chain(std::iter::once(&logged)) {
        for piece in &pieces {
            assert!(
                !text.contains(piece),
                "the Graph token leaked ({piece}) into:\n{text}"
            );
        }
        for secret in ["client-secret-canary-7", "reader-secret-canary-8"] {
            assert!(
                !text.contains(secret),
                "a client secret leaked into:\n{text}"
            );
        }
    }
}
