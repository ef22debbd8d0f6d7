//! Daily use of the command line against the sandbox (issue 16): a refusal made with a cached
//! token says so, with its age and the exact command for a fresh one; `call --curl` prints a
//! command a shell runs as the same call, hostile city names included; a pasted
//! `Authorization: Bearer …` line decodes and a cut JWT is called damaged; `--json` errors
//! keep `message` on one line with a structured `diagnosis`; `doctor` gives one verdict per
//! fact about the credential.

#[path = "fixtures/support.rs"]
mod support;
use support::{all_output, run_cli, sandbox_config, stdout_json};

use std::path::Path;
use std::process::Stdio;

use tokenscope::sandbox::{Endpoint, SandboxOptions};

fn stderr(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn stdout(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refusal_with_a_cached_token_names_its_age_and_the_command_for_a_fresh_one() {
    let sb = support::sandbox(SandboxOptions::default()).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let home = dir.path();
    let cfg = sandbox_config(&sb, home);
    let path = cfg.to_str().unwrap();

    // A first call caches the token.
    let o = run_cli(home, &["--config", path, "call", "Seattle"], &[]).await;
    assert_eq!(o.status.code(), Some(0), "{}", all_output(&o));

    // The API now wants a role, which is granted: the cached token predates it.
    sb.set_required_role("Weather.Admin").unwrap();
    sb.grant_role("console-rw", "Weather.Admin").unwrap();
    let o = run_cli(home, &["--config", path, "call", "Seattle"], &[]).await;
    let out = all_output(&o);
    assert_eq!(o.status.code(), Some(4), "{out}");
    let err = stderr(&o);
    assert!(
        err.contains("This token came from tokenscope's token cache, cached "),
        "{out}"
    );
    let fresh = format!("tokenscope --config {path} call --no-cache Seattle");
    let fix = err
        .lines()
        .find(|l| l.starts_with("fix: "))
        .unwrap_or_else(|| panic!("a fix line: {out}"));
    assert!(fix.contains(&format!("`{fresh}`")), "{out}");
    assert!(
        fix.contains("`tokenscope cache clear -p console-rw`"),
        "{out}"
    );

    // The same, structured.
    let o = run_cli(home, &["--config", path, "call", "Seattle", "--json"], &[]).await;
    assert_eq!(o.status.code(), Some(4), "{}", all_output(&o));
    let j = stdout_json(&o);
    assert_eq!(j["token_source"], "cache", "{j:#}");
    let note = &j["diagnosis"]["cached_token"];
    assert_eq!(note["fresh"], fresh.as_str(), "{j:#}");
    let age = note["age_seconds"].as_i64().expect("age_seconds");
    assert!((0..600).contains(&age), "{j:#}");
    let cached_at = note["cached_at"].as_str().expect("cached_at");
    assert!(
        chrono::DateTime::parse_from_rfc3339(cached_at).is_ok(),
        "{cached_at}"
    );
    assert!(
        j["diagnosis"]["cause"]
            .as_str()
            .is_some_and(|c| c.contains("token cache")),
        "{j:#}"
    );

    // The command it names works: a fresh token carries the role.
    let args: Vec<&str> = fresh.split(' ').skip(1).collect();
    let o = run_cli(home, &args, &[]).await;
    assert_eq!(o.status.code(), Some(0), "{}", all_output(&o));

    // A refusal with a token fresh from the token endpoint says nothing about a cache.
    let o = run_cli(
        home,
        &[
            "--config",
            path,
            "-p",
            "no-roles",
            "--no-cache",
            "call",
            "Seattle",
            "--json",
        ],
        &[],
    )
    .await;
    assert_eq!(o.status.code(), Some(4), "{}", all_output(&o));
    let j = stdout_json(&o);
    assert_eq!(j["token_source"], "network", "{j:#}");
    assert!(j["diagnosis"].get("cached_token").is_none(), "{j:#}");
    assert!(
        !j["diagnosis"]["cause"].as_str().unwrap().contains("cache"),
        "{j:#}"
    );
    sb.shutdown().await;
}

/// Run `script` with bash, the tokenscope binary first on PATH, in `home`'s clean
/// environment; `curl` is replaced by a function printing its arguments one per line, so
/// what a shell makes of the command is seen without a curl installed.
async fn bash(home: &Path, script: &str) -> std::process::Output {
    let bin = Path::new(env!("CARGO_BIN_EXE_tokenscope"))
        .parent()
        .unwrap()
        .to_path_buf();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let full = format!("curl() {{ printf '%s\\n' \"$@\"; }}\n{script}");
    let mut cmd = tokio::process::Command::new("bash");
    cmd.arg("-c")
        .arg(full)
        .env_clear()
        .env("PATH", path)
        .env("HOME", home)
        .env("XDG_CACHE_HOME", home.join("cache"))
        .env("XDG_CONFIG_HOME", home.join("config"))
        .env("XDG_DATA_HOME", home.join("data"))
        .current_dir(home)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    tokio::time::timeout(support::WAIT, cmd.output())
        .await
        .expect("bash ends in time")
        .expect("bash runs")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn call_curl_prints_a_command_a_shell_runs_as_the_same_call() {
    let sb = support::sandbox(SandboxOptions {
        tls: true,
        ..Default::default()
    })
    .await;
    let dir = tempfile::tempdir().expect("tempdir");
    let home = dir.path();
    let cfg = sandbox_config(&sb, home);
    let path = cfg.to_str().unwrap();
    let ca = sb.ca_pem_path().expect("a TLS sandbox has a CA file");
    let pwned = home.join("pwned");

    for city in [
        "Seattle".to_string(),
        "New York".into(),
        "O'Hare".into(),
        format!("$(touch {})", pwned.display()),
        format!("`touch {}`", pwned.display()),
        "a;b|c&d>e".into(),
        "São Paulo 東京".into(),
        "{a,b}[1-2]".into(),
        "\"quoted\" \\back".into(),
        "-x".into(),
    ] {
        let o = run_cli(
            home,
            &["--config", path, "call", "--curl", "--", &city],
            &[],
        )
        .await;
        let out = all_output(&o);
        assert_eq!(o.status.code(), Some(0), "{city:?}: {out}");
        let text = stdout(&o);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2, "{city:?}: {out}");
        assert_eq!(
            lines[0],
            format!("TOKEN=\"$(tokenscope --config {path} token --raw)\""),
            "{out}"
        );
        assert!(lines[1].starts_with("curl "), "{out}");
        assert!(
            lines[1].contains(r#"-H "Authorization: Bearer $TOKEN""#),
            "{out}"
        );

        // What a shell makes of it: the arguments curl would get.
        let ran = bash(home, &text).await;
        let argv = stdout(&ran);
        let argv: Vec<&str> = argv.lines().collect();
        let url = tokenscope::api::weather_target(&sb.api_url_template(), &city).unwrap();
        assert_eq!(
            argv.last(),
            Some(&url.as_str()),
            "{city:?}: {}",
            all_output(&ran)
        );
        let at = argv
            .iter()
            .position(|a| *a == "--cacert")
            .unwrap_or_else(|| panic!("--cacert: {argv:?}"));
        assert_eq!(argv[at + 1], ca.to_str().unwrap());
        let auth = argv
            .iter()
            .find(|a| a.starts_with("Authorization: Bearer "))
            .unwrap_or_else(|| panic!("{argv:?}"));
        assert!(
            auth.len() > "Authorization: Bearer ".len() + 100,
            "the token: {argv:?}"
        );
        assert!(!pwned.exists(), "{city:?} ran a command");
    }
    // A city is one percent-encoded path segment.
    let url = tokenscope::api::weather_target(&sb.api_url_template(), "São Paulo").unwrap();
    assert!(url.as_str().contains("/S%C3%A3o%20Paulo"), "{url}");

    // The token only with --show-token; then it is in the command, and nothing else is.
    let o = run_cli(
        home,
        &["--config", path, "call", "Rome", "--curl", "--show-token"],
        &[],
    )
    .await;
    assert_eq!(o.status.code(), Some(0), "{}", all_output(&o));
    let raw = run_cli(home, &["--config", path, "token", "--raw"], &[]).await;
    let token = stdout(&raw).trim().to_string();
    let text = stdout(&o);
    assert_eq!(text.lines().count(), 1, "{text}");
    assert!(
        text.contains(&format!("-H 'Authorization: Bearer {token}'")),
        "{text}"
    );
    assert!(!text.contains("$TOKEN"), "{text}");

    // Without it, no token anywhere in the output, and none requested.
    let before = sb.request_count(Endpoint::Token);
    let o = run_cli(
        home,
        &["--config", path, "--no-cache", "call", "Rome", "--curl"],
        &[],
    )
    .await;
    assert!(!all_output(&o).contains(&token));
    assert_eq!(
        sb.request_count(Endpoint::Token),
        before,
        "--curl alone asks for no token"
    );

    // --show-token needs --curl; --curl makes no JSON and does not wait.
    for args in [
        &["call", "Rome", "--show-token"][..],
        &["call", "Rome", "--curl", "--json"],
        &["call", "Rome", "--curl", "--wait-for-role", "X"],
    ] {
        let mut full = vec!["--config", path];
        full.extend_from_slice(args);
        let o = run_cli(home, &full, &[]).await;
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", all_output(&o));
    }
    // A city the API cannot take is refused before anything is printed.
    let o = run_cli(home, &["--config", path, "call", "a\nb", "--curl"], &[]).await;
    assert_eq!(o.status.code(), Some(2), "{}", all_output(&o));
    assert!(o.stdout.is_empty());
    sb.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn decode_takes_a_pasted_header_and_calls_a_cut_token_damaged() {
    let sb = support::sandbox(SandboxOptions::default()).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let home = dir.path();
    let (status, body) = support::token_for(&support::http(), &sb, "console-rw").await;
    assert!(status.is_success(), "{body}");
    let token = body["access_token"].as_str().unwrap().to_string();

    for pasted in [
        format!("Authorization: Bearer {token}"),
        format!("authorization: bearer {token}"),
        format!("  \"Bearer {token}\"  "),
        format!("'{token}'"),
    ] {
        let o = run_cli(home, &["decode", "--json", &pasted], &[]).await;
        assert_eq!(o.status.code(), Some(0), "{}", all_output(&o));
        assert_eq!(stdout_json(&o)["claims"]["roles"][0], "Weather.Read");
        // From standard input too.
        let o = support::run_cli_with_input(home, &["decode", "-"], &[], Some(&pasted)).await;
        assert_eq!(o.status.code(), Some(0), "{}", all_output(&o));
    }

    let (header, rest) = token.split_once('.').unwrap();
    let (payload, _) = rest.split_once('.').unwrap();
    for (cut, says) in [
        (header.to_string(), "only the header is there"),
        (format!("{header}.{payload}"), "the signature is missing"),
        (
            format!("{header}.{}", &payload[..payload.len() / 2]),
            "cut short",
        ),
        // Cut where base64url cannot end (a cut at a whole group decodes to a shorter
        // signature, which only the key can refuse).
        (
            token[..token.len() - 1].to_string(),
            "signature is cut short",
        ),
    ] {
        let o = run_cli(home, &["decode", &cut], &[]).await;
        let out = all_output(&o);
        assert_eq!(o.status.code(), Some(2), "{out}");
        assert!(
            stderr(&o).starts_with("error: a truncated or damaged JWT: "),
            "{out}"
        );
        assert!(stderr(&o).contains(says), "{says}: {out}");
        assert!(!out.contains("opaque"), "{out}");
        let o = run_cli(home, &["decode", "--json", &cut], &[]).await;
        let j = stdout_json(&o);
        let message = j["error"]["message"].as_str().unwrap();
        assert!(!message.contains('\n'), "{j:#}");
        assert!(message.starts_with("a truncated or damaged JWT"), "{j:#}");
    }
    let o = run_cli(home, &["decode", "opaque-reference"], &[]).await;
    assert!(stderr(&o).contains("opaque token"), "{}", all_output(&o));
    sb.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_json_errors_are_one_line_with_a_structured_diagnosis_and_doctor_one_verdict() {
    let sb = support::sandbox(SandboxOptions::default()).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let home = dir.path();
    let cfg = sandbox_config(&sb, home);
    let path = cfg.to_str().unwrap();

    let o = run_cli(
        home,
        &["--config", path, "-p", "expired-secret", "token", "--json"],
        &[],
    )
    .await;
    assert_eq!(o.status.code(), Some(3), "{}", all_output(&o));
    let j = stdout_json(&o);
    let e = &j["error"];
    let message = e["message"].as_str().unwrap();
    assert!(!message.contains('\n'), "{j:#}");
    assert!(message.contains("AADSTS7000222"), "{j:#}");
    assert!(
        e["details"][0].as_str().unwrap().starts_with("(trace id "),
        "{j:#}"
    );
    let d = &e["diagnosis"];
    assert!(
        d["summary"].as_str().unwrap().starts_with("AADSTS7000222"),
        "{j:#}"
    );
    assert!(
        d["cause"].as_str().unwrap().contains("expiry date"),
        "{j:#}"
    );
    assert!(
        d["fix"]
            .as_str()
            .unwrap()
            .contains("Certificates & secrets"),
        "{j:#}"
    );
    assert!(!j.to_string().to_lowercase().contains("lecture"), "{j:#}");
    // The terminal still reads why and fix.
    let o = run_cli(
        home,
        &["--config", path, "-p", "expired-secret", "token"],
        &[],
    )
    .await;
    let err = stderr(&o);
    assert!(err.contains("\nwhy: ") && err.contains("\nfix: "), "{err}");

    // doctor: the expired secret is one ✗ verdict on the credential line, never a ✓.
    let o = run_cli(
        home,
        &["--config", path, "-p", "expired-secret", "doctor"],
        &[],
    )
    .await;
    assert_eq!(o.status.code(), Some(1), "{}", all_output(&o));
    let text = stdout(&o);
    let credential: Vec<&str> = text
        .lines()
        .filter(|l| l.split_whitespace().nth(1) == Some("credential"))
        .collect();
    assert_eq!(credential.len(), 1, "{text}");
    assert!(credential[0].starts_with("✗ credential "), "{text}");
    assert!(credential[0].contains("expired 2024-06-30"), "{text}");
    assert!(
        !text.contains("secret_expires: the client secret expired"),
        "{text}"
    );

    // The tenant expires a secret the profile says is good until 2099: ✗, naming the stale
    // date, not "expires in 73 years".
    sb.expire_secret("mobile-ro").unwrap();
    let o = run_cli(home, &["--config", path, "-p", "mobile-ro", "doctor"], &[]).await;
    let text = stdout(&o);
    let line = text
        .lines()
        .find(|l| l.split_whitespace().nth(1) == Some("credential"))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(line.starts_with("✗ credential "), "{text}");
    assert!(
        line.contains("secret_expires (2099-12-31) is out of date"),
        "{text}"
    );
    assert!(!line.contains("in 2"), "{text}");
    sb.shutdown().await;
}

/// `--no-mouse` belongs to the dashboard; on a headless command it is a usage error that
/// says where it goes, not a flag silently ignored.
#[tokio::test]
async fn no_mouse_is_for_the_dashboard_only() {
    let dir = tempfile::tempdir().expect("tempdir");
    let o = run_cli(dir.path(), &["--no-mouse", "decode", "x.y.z"], &[]).await;
    assert_eq!(o.status.code(), Some(2), "{}", all_output(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("--no-mouse is for the dashboard"), "{err}");
    assert!(err.contains("tokenscope demo --no-mouse"), "{err}");
    // After a headless command's name it is not one of its flags at all (clap's error).
    let o = run_cli(dir.path(), &["decode", "--no-mouse", "x.y.z"], &[]).await;
    assert_eq!(o.status.code(), Some(2), "{}", all_output(&o));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_identity_provider_clock_ten_minutes_ahead_is_named_by_token_doctor_and_json() {
    let sb = support::sandbox(SandboxOptions::default()).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let home = dir.path();
    let cfg = sandbox_config(&sb, home);
    let path = cfg.to_str().unwrap();

    // Entra's normal 5-minute backdating says nothing.
    let o = run_cli(home, &["--config", path, "--no-cache", "token"], &[]).await;
    assert_eq!(o.status.code(), Some(0), "{}", all_output(&o));
    assert!(!stdout(&o).contains("clock"), "{}", all_output(&o));
    let o = run_cli(
        home,
        &["--config", path, "--no-cache", "token", "--json"],
        &[],
    )
    .await;
    assert!(stdout_json(&o)["clock_skew"].is_null());

    sb.set_clock_offset(chrono::TimeDelta::minutes(10));
    let summary = "the identity provider's token clock is at least 5m 0s ahead of this machine's (and its own Date header)";
    let o = run_cli(home, &["--config", path, "--no-cache", "token"], &[]).await;
    let text = stdout(&o);
    assert!(text.contains(&format!("clock    ⚠ {summary}")), "{text}");
    assert!(text.contains("about 10m 0s"), "{text}");

    let o = run_cli(
        home,
        &["--config", path, "--no-cache", "token", "--json"],
        &[],
    )
    .await;
    let j = stdout_json(&o);
    let skew = &j["clock_skew"];
    assert_eq!(skew["clock"], "identity_provider", "{j:#}");
    assert_eq!(skew["ahead"], true);
    // nbf = iat = IdP now − 5 min: at least 5 minutes in this machine's future (a slow
    // request can only shorten it by its latency).
    let secs = skew["seconds"].as_i64().unwrap();
    assert!((295..=300).contains(&secs), "{j:#}");

    // doctor: a ⚠ clock line, and never "all checks passed".
    let o = run_cli(home, &["--config", path, "doctor"], &[]).await;
    let text = stdout(&o);
    assert!(text.contains(&format!("⚠ clock      {summary}")), "{text}");
    assert!(!text.contains("all checks passed"), "{text}");
    assert!(text.trim_end().ends_with("warnings (⚠ above)"), "{text}");
    let o = run_cli(home, &["--config", path, "doctor", "--json"], &[]).await;
    let j = stdout_json(&o);
    let clock: Vec<&serde_json::Value> = j["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["stage"] == "clock")
        .collect();
    assert_eq!(clock.len(), 1, "{j:#}");
    assert_eq!(clock[0]["severity"], "warning");
    assert!(clock[0]["fix"].as_str().unwrap().contains("NTP"), "{j:#}");

    // call warns on stderr and still calls.
    let o = run_cli(
        home,
        &["--config", path, "--no-cache", "call", "Seattle"],
        &[],
    )
    .await;
    assert!(
        stderr(&o).contains(&format!("warning: {summary}")),
        "{}",
        all_output(&o)
    );

    // Back in sync: nothing said.
    sb.set_clock_offset(chrono::TimeDelta::zero());
    let o = run_cli(home, &["--config", path, "doctor"], &[]).await;
    assert!(!stdout(&o).contains("⚠ clock"), "{}", all_output(&o));
    sb.shutdown().await;
}
