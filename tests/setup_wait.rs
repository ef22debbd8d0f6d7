//! `tokenscope call CITY --wait-for-role ROLE` through the binary against the sandbox's
//! propagation delay: fresh tokens until the grant reaches one, progress on stderr, then the
//! call; the bound, Ctrl-C and a refusal waiting cannot fix each end it with exit 3 and the
//! API not called. (The back-off itself is tested in paused time in
//! `diagnose::setup::wait`.)

#[path = "fixtures/support.rs"]
mod support;
use support::{WAIT, all_output, run_cli, sandbox_config, stdout_json};

use std::process::Stdio;
use std::time::Duration;

use tokenscope::sandbox::{Endpoint, SandboxOptions};
use tokio::io::{AsyncBufReadExt, BufReader};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_grant_that_takes_seconds_to_propagate_is_waited_for() {
    let sb = support::sandbox(SandboxOptions::default()).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let home = dir.path();
    let cfg = sandbox_config(&sb, home);
    let path = cfg.to_str().unwrap();
    sb.set_grant_delay(Duration::from_secs(3));
    sb.set_required_role("Weather.Admin").unwrap();
    sb.grant_role("console-rw", "Weather.Admin").unwrap();

    let o = run_cli(
        home,
        &[
            "--config",
            path,
            "call",
            "Seattle",
            "--wait-for-role",
            "Weather.Admin",
        ],
        &[],
    )
    .await;
    let out = all_output(&o);
    assert_eq!(o.status.code(), Some(0), "{out}");
    let err = String::from_utf8_lossy(&o.stderr);
    let waits: Vec<&str> = err
        .lines()
        .filter(|l| l.starts_with("waiting for Weather.Admin in new tokens: attempt "))
        .collect();
    assert!(!waits.is_empty(), "{out}");
    assert!(
        waits[0].starts_with("waiting for Weather.Admin in new tokens: attempt 1, 0s so far; token has Weather.Read, Weather.Write; next in "),
        "{out}"
    );
    assert!(
        err.lines()
            .any(|l| l.starts_with("Weather.Admin is in the token (attempt ")
                && l.ends_with("; calling the API")),
        "{out}"
    );
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("→ 200 in"),
        "{out}"
    );
    // The new token went to the cache: a plain call now succeeds at once.
    let o = run_cli(home, &["--config", path, "call", "Seattle"], &[]).await;
    assert_eq!(o.status.code(), Some(0), "{}", all_output(&o));
    sb.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_bound_and_a_refusal_end_the_wait_without_calling_the_api() {
    let sb = support::sandbox(SandboxOptions::default()).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let home = dir.path();
    let cfg = sandbox_config(&sb, home);
    let path = cfg.to_str().unwrap();
    let api_before = sb.request_count(Endpoint::Api);

    // A role never granted: the bound passes.
    let args = [
        "--config",
        path,
        "call",
        "Seattle",
        "--wait-for-role",
        "Weather.Admin",
        "--wait-timeout",
        "3s",
    ];
    let o = run_cli(home, &args, &[]).await;
    let out = all_output(&o);
    assert_eq!(o.status.code(), Some(3), "{out}");
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("error: Weather.Admin did not reach new tokens within 3s (")
            && err.contains(
                "the last token has Weather.Read, Weather.Write); the API was not called"
            )
            && err.contains("hint: `tokenscope setup` shows whether Weather.Admin is granted"),
        "{out}"
    );
    let mut json_args = args.to_vec();
    json_args.push("--json");
    let o = run_cli(home, &json_args, &[]).await;
    assert_eq!(o.status.code(), Some(3), "{}", all_output(&o));
    let j = stdout_json(&o);
    assert_eq!(j["error"]["stage"], "token");
    assert_eq!(j["error"]["kind"], "role_not_in_token");
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("waiting for Weather.Admin"),
        "progress goes to stderr, JSON alone to stdout"
    );

    // A refusal waiting does not fix (the secret expired): at once, with its AADSTS code.
    let o = run_cli(
        home,
        &[
            "--config",
            path,
            "-p",
            "expired-secret",
            "call",
            "Seattle",
            "--wait-for-role",
            "Weather.Read",
        ],
        &[],
    )
    .await;
    let out = all_output(&o);
    assert_eq!(o.status.code(), Some(3), "{out}");
    assert!(out.contains("AADSTS7000222"), "{out}");
    assert!(!out.contains("waiting for"), "{out}");
    assert_eq!(
        sb.request_count(Endpoint::Api),
        api_before,
        "the API was called"
    );

    // --wait-timeout alone is a usage error.
    let o = run_cli(
        home,
        &["--config", path, "call", "Seattle", "--wait-timeout", "3s"],
        &[],
    )
    .await;
    assert_eq!(o.status.code(), Some(2), "{}", all_output(&o));
    sb.shutdown().await;
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_stops_the_wait_cleanly() {
    let sb = support::sandbox(SandboxOptions::default()).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let home = dir.path();
    let cfg = sandbox_config(&sb, home);
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_tokenscope"))
        .args(["--config", cfg.to_str().unwrap(), "call", "Seattle"])
        .args(["--wait-for-role", "Weather.Admin"])
        .env_clear()
        .env("HOME", home)
        .env("XDG_CACHE_HOME", home.join("cache"))
        .env("XDG_CONFIG_HOME", home.join("config"))
        .env("XDG_DATA_HOME", home.join("data"))
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("the binary runs");
    let mut lines = BufReader::new(child.stderr.take().expect("stderr")).lines();
    let mut seen = Vec::new();
    let first = tokio::time::timeout(WAIT, async {
        while let Ok(Some(line)) = lines.next_line().await {
            seen.push(line.clone());
            if line.starts_with("waiting for Weather.Admin") {
                return true;
            }
        }
        false
    })
    .await;
    assert_eq!(first, Ok(true), "no progress line: {seen:?}");
    let pid = child.id().expect("running").to_string();
    let killed = std::process::Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .expect("kill runs");
    assert!(killed.success());
    let status = tokio::time::timeout(WAIT, child.wait())
        .await
        .expect("it stops in time")
        .expect("status");
    while let Ok(Ok(Some(line))) = tokio::time::timeout(WAIT, lines.next_line()).await {
        seen.push(line);
    }
    assert_eq!(status.code(), Some(3), "{seen:#?}");
    assert!(
        seen.iter().any(|l| l
            == "error: stopped waiting for Weather.Admin in new tokens (Ctrl-C); the API was not called"),
        "{seen:#?}"
    );
    assert_eq!(sb.request_count(Endpoint::Api), 0);
    sb.shutdown().await;
}
