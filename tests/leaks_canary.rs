//! No leaks: with a canary client secret (the sandbox client's secret) and a canary token
//! (the access token the sandbox issues, read once through `token --raw`), run every CLI
//! command, the error paths and the dashboard (in a pseudo-terminal, with trace logging),
//! then scan stdout, stderr, the terminal bytes, the log file and the cache directory
//! listing. The canaries may appear only in the cache file itself and in `--raw` output.
//! A token endpoint answering 200 with a body that is not valid JSON (`NaN`, invalid UTF-8,
//! cut at the size cap) gets its token masked wherever the body is quoted; the log and the
//! cache are private files (0600, in a 0700 directory).

#[path = "fixtures/support.rs"]
mod support;

use std::path::Path;

use serde_json::json;
use support::{all_output, dead_addr, run_cli, run_in_pty};
use tokenscope::sandbox::{Sandbox, SandboxOptions, TenantModel};

const CANARY_SECRET: &str = "CANARY-secret-5f1c9e2a7b3d-do-not-print";

/// Every place a raw JWT (header.payload.…) shows up in `text`.
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

fn assert_clean(what: &str, text: &str, token: &str) {
    assert!(
        !text.contains(CANARY_SECRET),
        "{what}: the client secret leaked:\n{text}"
    );
    let signature = token.rsplit('.').next().unwrap_or(token);
    assert!(
        !text.contains(signature),
        "{what}: the access token leaked:\n{text}"
    );
    let jwts = raw_jwts(text);
    assert!(jwts.is_empty(), "{what}: a raw token leaked: {jwts:?}");
}

fn config(dir: &Path, sandbox: &tokenscope::sandbox::SandboxHandle) -> std::path::PathBuf {
    let rw = sandbox.client("console-rw").unwrap();
    let ro = sandbox.client("mobile-ro").unwrap();
    let common = format!(
        "authority = \"{}\"\nclient_secret_env = \"TS_CANARY\"\nscope = \"{}\"\nexpected_roles = [\"Weather.Read\", \"Weather.Write\"]\ntimeout = \"5s\"\n",
        sandbox.authority(),
        sandbox.api_scope()
    );
    let text = format!(
        r#"default_profile = "canary"
[profiles.canary]
client_id = "{rw}"
api_url = "{api}"
{common}
[profiles.wrong-client]
client_id = "{ro}"
api_url = "{api}"
{common}
[profiles.api-down]
client_id = "{rw}"
api_url = "http://{dead}/api/weather/{{city}}"
{common}
"#,
        rw = rw.client_id,
        ro = ro.client_id,
        api = sandbox.api_url_template(),
        dead = dead_addr(),
    );
    let path = dir.join("config.toml");
    std::fs::write(&path, text).unwrap();
    path
}

fn listing(dir: &Path) -> String {
    let mut out = String::new();
    for entry in walk(dir) {
        out.push_str(&entry.display().to_string());
        out.push('\n');
    }
    out
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            let p = e.path();
            out.push(p.clone());
            if p.is_dir() {
                out.extend(walk(&p));
            }
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn canaries_appear_only_in_the_cache_file_and_raw_output() {
    let mut tenant = TenantModel::builtin();
    let rw = tenant
        .clients
        .iter_mut()
        .find(|c| c.name == "console-rw")
        .expect("the builtin tenant has console-rw");
    rw.secrets
        .last_mut()
        .expect("console-rw has a secret")
        .value = CANARY_SECRET.into();
    let sandbox = tokio::time::timeout(
        support::WAIT,
        Sandbox::start(SandboxOptions {
            tenant,
            ..SandboxOptions::default()
        }),
    )
    .await
    .expect("sandbox starts in time")
    .expect("sandbox starts");
    let home = tempfile::tempdir().unwrap();
    let home = home.path();
    let cfg = config(home, &sandbox);
    let cfg = cfg.to_str().unwrap();
    let env = [("TS_CANARY", CANARY_SECRET)];

    // The canary token, through the one command allowed to print it.
    let o = run_cli(home, &["--config", cfg, "token", "--raw"], &env).await;
    assert_eq!(o.status.code(), Some(0), "{}", all_output(&o));
    let token = String::from_utf8(o.stdout.clone())
        .unwrap()
        .trim()
        .to_string();
    assert_eq!(
        token.split('.').count(),
        3,
        "--raw prints the token: {token}"
    );
    assert_eq!(
        raw_jwts(&token),
        std::slice::from_ref(&token),
        "the scanner finds a raw token"
    );
    assert!(!String::from_utf8_lossy(&o.stderr).contains(CANARY_SECRET));

    let mut runs: Vec<(Vec<&str>, Option<i32>)> = vec![
        (vec!["token"], Some(0)),
        (vec!["token", "--json"], Some(0)),
        (vec!["call", "Seattle"], Some(0)),
        (vec!["call", "Seattle", "--json"], Some(0)),
        (vec!["doctor"], Some(0)),
        (vec!["doctor", "--json"], Some(0)),
        (vec!["cache", "list"], Some(0)),
        (vec!["--no-cache", "token"], Some(0)),
        (vec!["config", "path"], Some(0)),
        // Error paths: the canary secret sent for the wrong client (AADSTS7000215)…
        (vec!["-p", "wrong-client", "token"], Some(3)),
        (vec!["-p", "wrong-client", "token", "--json"], Some(3)),
        (vec!["-p", "wrong-client", "call", "Seattle"], Some(3)),
        (vec!["-p", "wrong-client", "doctor", "--json"], Some(1)),
        // …and the API down.
        (vec!["-p", "api-down", "call", "Seattle"], Some(5)),
        (vec!["-p", "api-down", "call", "Seattle", "--json"], Some(5)),
        (vec!["-p", "api-down", "doctor"], Some(1)),
        (vec!["-p", "nope", "token"], Some(2)),
    ];
    // Decoding the token the user pasted shows its claims, never the token itself.
    runs.push((vec!["decode", token.as_str()], Some(0)));
    runs.push((vec!["decode", "--json", token.as_str()], Some(0)));
    for (args, code) in &runs {
        let mut full = vec!["--config", cfg];
        full.extend(args.iter().copied());
        let o = run_cli(home, &full, &env).await;
        assert_eq!(o.status.code(), *code, "{args:?}: {}", all_output(&o));
        assert_clean(&format!("tokenscope {args:?}"), &all_output(&o), &token);
    }

    // The dashboard, in a pseudo-terminal, logging at trace level.
    let steps = json!([
        {"wait": "\u{1b}[?1049h", "timeout": 60},
        {"wait_screen": "Config", "timeout": 60},
        {"send": "Seattle\r"},
        {"wait_screen": "humidity", "timeout": 30},
        {"send": "\t"},
        {"send": "t"},
        {"sleep": 0.5},
        {"send": "?"},
        {"sleep": 0.5},
        {"send": "\u{1b}"},
        // Apart, or the terminal reads Esc + r as Alt-r.
        {"sleep": 0.3},
        {"send": "r"},
        {"sleep": 1.0},
        {"send": "\u{3}"},
        {"exit": 30},
    ]);
    let run = run_in_pty(
        home,
        &["--config", cfg],
        &[("TS_CANARY", CANARY_SECRET), ("TOKENSCOPE_LOG", "trace")],
        steps,
    )
    .await;
    let screen = String::from_utf8_lossy(&run.output).into_owned();
    assert!(run.ok, "{:?}; the terminal got:\n{screen}", run.error);
    assert_clean("the dashboard's terminal output", &screen, &token);

    let log = home.join("data/tokenscope/tokenscope.log");
    let log_text = std::fs::read_to_string(&log)
        .unwrap_or_else(|e| panic!("the dashboard writes its log to {}: {e}", log.display()));
    assert!(!log_text.trim().is_empty(), "the log has content to scan");
    assert_clean("the log file", &log_text, &token);

    // The cache: names carry no canary; only the token file holds the token, never the secret.
    let cache = home.join("cache");
    let names = listing(&cache);
    assert!(
        names.contains("tokens"),
        "a token cache was written:\n{names}"
    );
    assert_clean("the cache directory listing", &names, &token);
    // `r` in the dashboard fetched a new token: the cache holds that one now.
    let mut cached = Vec::new();
    for path in walk(&cache).into_iter().filter(|p| p.is_file()) {
        let body = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            !body.contains(CANARY_SECRET),
            "{} holds the client secret",
            path.display()
        );
        let jwts = raw_jwts(&body);
        if !jwts.is_empty() {
            cached.push((path, jwts));
        }
    }
    assert_eq!(
        cached.len(),
        1,
        "exactly one cache file holds a token: {cached:?}"
    );
    let latest = cached[0].1[0].clone();
    assert_clean("the dashboard's terminal output", &screen, &latest);
    assert_clean("the log file", &log_text, &latest);

    // Private files: the log 0600, the cache's entries and locks 0600 in 0700 directories.
    use std::os::unix::fs::PermissionsExt as _;
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&log), 0o600, "the log file");
    let tokens = cache.join("tokenscope/tokens");
    assert_eq!(mode(&tokens), 0o700, "the cache directory");
    let locks = cache.join("tokenscope/tokens.locks");
    assert_eq!(mode(&locks), 0o700, "the cache's lock directory");
    let files: Vec<_> = [walk(&tokens), walk(&locks)]
        .concat()
        .into_iter()
        .filter(|p| p.is_file())
        .collect();
    assert!(files.len() >= 2, "an entry and its lock: {files:?}");
    for file in files {
        assert_eq!(mode(&file), 0o600, "{}", file.display());
    }

    // Everything else written under HOME (config dir, data dir besides the log).
    for path in walk(home).into_iter().filter(|p| p.is_file()) {
        if path.starts_with(&cache) || path.ends_with("config.toml") {
            continue;
        }
        let body = String::from_utf8_lossy(&std::fs::read(&path).unwrap_or_default()).into_owned();
        assert_clean(&path.display().to_string(), &body, &token);
        assert_clean(&path.display().to_string(), &body, &latest);
    }
    sandbox.shutdown().await;
}

/// The certificate and federated credentials: the PKCS#12 password, the private key, the
/// client assertions tokenscope signs and the federated token it reads never reach stdout,
/// stderr, the log or the cache, on success and on every error path.
#[tokio::test]
async fn certificate_and_federated_material_never_leaks() {
    const CANARY_PASSWORD_HINT: &str = "the PFX password";
    let sandbox = tokio::time::timeout(support::WAIT, Sandbox::start(SandboxOptions::default()))
        .await
        .expect("sandbox starts in time")
        .expect("sandbox starts");
    let home = tempfile::tempdir().unwrap();
    let home = home.path();
    let creds = home.join("creds");
    std::fs::create_dir_all(&creds).unwrap();
    let files = sandbox
        .write_client_certificate("console-cert", &creds)
        .unwrap();
    let key_pem = std::fs::read_to_string(&files.key_pem).unwrap();
    // A 64-character line from the middle of the key: any of it in output is a leak.
    let key_line = key_pem
        .lines()
        .nth(5)
        .expect("a PEM key has lines")
        .to_string();
    let token_file = creds.join("workload.token");
    sandbox
        .write_federated_token("workload", &token_file)
        .unwrap();
    let federated = std::fs::read_to_string(&token_file).unwrap();
    let cert_id = sandbox.client("console-cert").unwrap().client_id;
    let workload_id = sandbox.client("workload").unwrap().client_id;
    let rw_id = sandbox.client("console-rw").unwrap().client_id;
    let common = format!(
        "authority = \"{}\"\nscope = \"{}\"\napi_url = \"{}\"\ntimeout = \"5s\"\n",
        sandbox.authority(),
        sandbox.api_scope(),
        sandbox.api_url_template()
    );
    let cfg = home.join("config.toml");
    std::fs::write(
        &cfg,
        format!(
            r#"default_profile = "pfx"
[profiles.pfx]
client_id = "{cert_id}"
client_certificate_path = "{pfx}"
client_certificate_password_env = "TS_PFX"
{common}
[profiles.pem-rs256]
client_id = "{cert_id}"
client_certificate_path = "{pem}"
assertion_algorithm = "RS256"
send_certificate_chain = true
{common}
[profiles.unregistered]
client_id = "{rw_id}"
client_certificate_path = "{pem}"
{common}
[profiles.federated]
client_id = "{workload_id}"
federated_token_file = "{token}"
{common}
[profiles.federated-wrong-app]
client_id = "{rw_id}"
federated_token_file = "{token}"
{common}"#,
            pfx = files.pfx.display(),
            pem = files.combined_pem.display(),
            token = token_file.display(),
        ),
    )
    .unwrap();
    let cfg = cfg.to_str().unwrap();
    let password = files.pfx_password.clone();
    let good_env = [("TS_PFX", password.as_str())];
    let wrong_env = [("TS_PFX", "wrong-password-canary")];

    let clean = |what: &str, text: &str| {
        assert!(
            !text.contains(&password),
            "{what}: {CANARY_PASSWORD_HINT} leaked:\n{text}"
        );
        assert!(
            !text.contains("wrong-password-canary"),
            "{what}: a password leaked:\n{text}"
        );
        assert!(
            !text.contains(&key_line),
            "{what}: the private key leaked:\n{text}"
        );
        assert!(
            !text.contains(federated.trim()),
            "{what}: the federated token leaked:\n{text}"
        );
        let jwts = raw_jwts(text);
        assert!(
            jwts.is_empty(),
            "{what}: a raw JWT (assertion or token) leaked: {jwts:?}"
        );
    };

    // (arguments, environment, exit code)
    type Run<'a> = (Vec<&'a str>, &'a [(&'a str, &'a str)], Option<i32>);
    let runs: Vec<Run> = vec![
        (vec!["token"], &good_env, Some(0)),
        (vec!["token", "--json"], &good_env, Some(0)),
        (vec!["call", "Seattle", "--json"], &good_env, Some(0)),
        (vec!["doctor", "--json"], &good_env, Some(0)),
        (
            vec!["-p", "pem-rs256", "--no-cache", "token"],
            &good_env,
            Some(0),
        ),
        (
            vec!["-p", "federated", "call", "Seattle"],
            &good_env,
            Some(0),
        ),
        (vec!["-p", "federated", "doctor"], &good_env, Some(0)),
        // Error paths: wrong password, an unregistered certificate (AADSTS700027), a
        // federated token presented for another app (AADSTS70021).
        (vec!["--no-cache", "token"], &wrong_env, Some(2)),
        (vec!["--no-cache", "token", "--json"], &wrong_env, Some(2)),
        (vec!["-p", "unregistered", "token"], &good_env, Some(3)),
        (
            vec!["-p", "unregistered", "doctor", "--json"],
            &good_env,
            Some(1),
        ),
        (
            vec!["-p", "federated-wrong-app", "call", "Seattle"],
            &good_env,
            Some(3),
        ),
        (
            vec!["-p", "federated-wrong-app", "token", "--json"],
            &good_env,
            Some(3),
        ),
        (vec!["cache", "list"], &good_env, Some(0)),
    ];
    for (args, env, code) in &runs {
        let mut full = vec!["--config", cfg];
        full.extend(args.iter().copied());
        let mut env = env.to_vec();
        env.push(("TOKENSCOPE_LOG", "trace"));
        let o = run_cli(home, &full, &env).await;
        assert_eq!(o.status.code(), *code, "{args:?}: {}", all_output(&o));
        clean(&format!("tokenscope {args:?}"), &all_output(&o));
    }

    // Everything written under HOME but the credentials and the config: logs, cache.
    for path in walk(home).into_iter().filter(|p| p.is_file()) {
        if path.starts_with(&creds) || path.ends_with("config.toml") {
            continue;
        }
        let body = String::from_utf8_lossy(&std::fs::read(&path).unwrap_or_default()).into_owned();
        // The cache file holds the access token (a JWT) by design; nothing else may.
        if path.starts_with(home.join("cache")) {
            assert!(!body.contains(&password) && !body.contains(&key_line));
            assert!(!body.contains(federated.trim()), "{}", path.display());
            continue;
        }
        clean(&path.display().to_string(), &body);
    }
    sandbox.shutdown().await;
}

/// A short opaque token, not shaped like one: only masking by field can hide it.
const OPAQUE_CANARY: &str = "opaque-canary-9c2e";

/// 200 answers that are not valid JSON, each quoting the canary token.
fn broken_token_bodies() -> Vec<(&'static str, Vec<u8>)> {
    let mut invalid_utf8 =
        format!(r#"{{"token_type":"Bearer","access_token":"{OPAQUE_CANARY}","x":""#).into_bytes();
    invalid_utf8.extend_from_slice(b"\xff\xfe\xc3\x28\"}");
    // Past the 1 MiB cap: the body is cut, so it does not parse.
    let mut cut =
        format!(r#"{{"access_token":"{OPAQUE_CANARY}","expires_in":3599,"pad":""#).into_bytes();
    cut.resize(tokenscope::http::MAX_BODY + 4096, b'x');
    cut.extend_from_slice(b"\"}");
    vec![
        (
            "NaN",
            format!(r#"{{"token_type":"Bearer","access_token":"{OPAQUE_CANARY}","expires_in":NaN}}"#)
                .into_bytes(),
        ),
        (
            "Infinity, token last",
            format!(r#"{{"expires_in":Infinity,"token_type":"Bearer","access_token":"{OPAQUE_CANARY}"}}"#)
                .into_bytes(),
        ),
        ("invalid UTF-8", invalid_utf8),
        ("cut at the cap", cut),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broken_token_response_never_shows_its_token() {
    let body = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let served = body.clone();
    let idp = support::serve_raw(move || {
        support::http_response(
            "200 OK",
            &[("Content-Type", "application/json")],
            &served.lock().unwrap(),
        )
    })
    .await;
    let home = tempfile::tempdir().unwrap();
    let home = home.path();
    let cfg = home.join("config.toml");
    std::fs::write(
        &cfg,
        format!(
            r#"[profiles.p]
authority = "http://{idp}/t"
client_id = "c"
client_secret_env = "TS_CANARY"
scope = "api://api/.default"
api_url = "http://{dead}/api/weather/{{city}}"
timeout = "5s"
"#,
            dead = dead_addr()
        ),
    )
    .unwrap();
    let cfg = cfg.to_str().unwrap();
    let env = [("TS_CANARY", CANARY_SECRET), ("TOKENSCOPE_LOG", "trace")];
    let clean = |what: &str, text: &str| {
        assert!(
            !text.contains(OPAQUE_CANARY),
            "{what}: the token leaked:\n{text}"
        );
        assert!(
            !text.contains(CANARY_SECRET),
            "{what}: the secret leaked:\n{text}"
        );
    };
    for (name, bytes) in broken_token_bodies() {
        *body.lock().unwrap() = bytes;
        for (args, code) in [
            (vec!["token"], 3),
            (vec!["token", "--json"], 3),
            (vec!["--no-cache", "token", "--raw"], 3),
            (vec!["call", "Seattle"], 3),
            (vec!["call", "Seattle", "--json"], 3),
            (vec!["doctor"], 1),
            (vec!["doctor", "--json"], 1),
        ] {
            let mut full = vec!["--config", cfg];
            full.extend(args.iter().copied());
            let o = run_cli(home, &full, &env).await;
            let out = all_output(&o);
            assert_eq!(o.status.code(), Some(code), "{name} {args:?}:\n{out}");
            clean(&format!("{name} {args:?}"), &out);
        }
    }

    // The dashboard: the Activity pane and the log, which already existed 0644.
    *body.lock().unwrap() = broken_token_bodies().remove(0).1;
    let log = home.join("data/tokenscope/tokenscope.log");
    std::fs::create_dir_all(log.parent().unwrap()).unwrap();
    std::fs::write(&log, "").unwrap();
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(&log, std::fs::Permissions::from_mode(0o644)).unwrap();
    let steps = json!([
        {"wait": "\u{1b}[?1049h", "timeout": 60},
        {"wait_screen": "token request failed", "timeout": 60},
        {"send": "\t"},
        {"send": "t"},
        {"sleep": 0.5},
        {"send": "\u{3}"},
        {"exit": 30},
    ]);
    let run = run_in_pty(home, &["--config", cfg], &env, steps).await;
    let screen = String::from_utf8_lossy(&run.output).into_owned();
    assert!(run.ok, "{:?}; the terminal got:\n{screen}", run.error);
    clean("the dashboard's terminal output", &screen);
    let log_text = std::fs::read_to_string(&log).unwrap();
    assert!(
        log_text.contains("non-JSON body"),
        "the failure is logged:\n{log_text}"
    );
    clean("the log file", &log_text);
    let mode = std::fs::metadata(&log).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "an older 0644 log is tightened");
}
