//! How every command ends, whatever happens to its output or inside it (issue 15, defect 1):
//!
//! - standard output closed before the command writes (`tokenscope … | head -0`): no panic,
//!   nothing on stderr about it, and the exit code the command has with a reader (a Unix
//!   tool dies of SIGPIPE silently; tokenscope is as silent and keeps README's code);
//! - standard output on a full disk (`/dev/full`): the failure is said, exit 5;
//! - a panic inside any command (`TOKENSCOPE_TEST_PANIC=command`): exit 5, "internal error …
//!   (please report)", a JSON error with `--json`; never Rust's 101.

#[path = "fixtures/support.rs"]
mod support;

use std::path::Path;
use std::process::{Command, Output, Stdio};

use support::all_output;

const JWT: &str = "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.eyJhdWQiOiJhcGkiLCJyb2xlcyI6WyJXZWF0aGVyLlJlYWQiXSwiZXhwIjoxODAwMDAwMDAwfQ.c2ln";

/// The binary with a clean environment rooted in `home`, standard output as given.
fn command(home: &Path, args: &[&str], stdout: Stdio, envs: &[(&str, &str)]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tokenscope"));
    cmd.args(args)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", home)
        .env("XDG_CACHE_HOME", home.join("cache"))
        .env("XDG_DATA_HOME", home.join("data"))
        .env("XDG_CONFIG_HOME", home.join("config"))
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(stdout)
        .stderr(Stdio::piped());
    for (k, v) in envs {
        cmd.env(k, v);
    }
    cmd
}

/// Run to the end (at most [`support::WAIT`]) off the async runtime.
async fn finish(mut cmd: Command) -> Output {
    let run = tokio::task::spawn_blocking(move || cmd.output().expect("the binary runs"));
    tokio::time::timeout(support::WAIT, run)
        .await
        .expect("the command ends in time")
        .expect("joined")
}

/// Standard output is a pipe whose reading end is already closed.
fn closed_stdout() -> Stdio {
    let (reader, writer) = std::io::pipe().expect("a pipe");
    drop(reader);
    Stdio::from(writer)
}

/// Every command that prints, with the exit code it has against the sandbox.
fn commands(cfg: &str) -> Vec<(Vec<String>, i32)> {
    // Without the token cache: each run gets its token the same way, so a refusal's text
    // (which says when a token came from the cache) is the same run after run.
    let with_cfg = |args: &[&str]| {
        let mut v = vec!["--config".to_string(), cfg.to_string(), "--no-cache".into()];
        v.extend(args.iter().map(|a| a.to_string()));
        v
    };
    let plain = |args: &[&str]| args.iter().map(|a| a.to_string()).collect::<Vec<_>>();
    vec![
        (plain(&["decode", JWT]), 0),
        (plain(&["decode", "--explain", JWT]), 0),
        (plain(&["decode", "--json", JWT]), 0),
        (plain(&["decode", "not-a-jwt"]), 2),
        (plain(&["decode", "--json", "not-a-jwt"]), 2),
        (plain(&["--help"]), 0),
        (plain(&["--version"]), 0),
        (with_cfg(&["token"]), 0),
        (with_cfg(&["token", "--json"]), 0),
        (with_cfg(&["token", "--raw"]), 0),
        (with_cfg(&["call", "Seattle"]), 0),
        (with_cfg(&["call", "Seattle", "--json"]), 0),
        (with_cfg(&["-p", "no-roles", "call", "Seattle"]), 4),
        (with_cfg(&["doctor"]), 0),
        (with_cfg(&["doctor", "--json"]), 0),
        (with_cfg(&["-p", "expired-secret", "doctor"]), 1),
        (with_cfg(&["cache", "list"]), 0),
        (with_cfg(&["config", "path"]), 0),
        (with_cfg(&["-p", "nope", "token"]), 2),
        (with_cfg(&["cache", "clear"]), 0),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_command_ends_quietly_when_its_reader_is_gone() {
    let sb = support::sandbox(Default::default()).await;
    let home = tempfile::tempdir().unwrap();
    let cfg = support::sandbox_config(&sb, home.path());
    let cfg = cfg.to_str().unwrap();
    for (args, code) in commands(cfg) {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        // With a reader first: the code the command has.
        let with_reader = finish(command(home.path(), &args, Stdio::piped(), &[])).await;
        assert_eq!(
            with_reader.status.code(),
            Some(code),
            "{args:?}: {}",
            all_output(&with_reader)
        );
        // Again with a reader, so both runs below find the same token cache (a refusal made
        // with a cached token says so).
        let with_reader = finish(command(home.path(), &args, Stdio::piped(), &[])).await;
        let o = finish(command(home.path(), &args, closed_stdout(), &[])).await;
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(
            o.status.code(),
            Some(code),
            "{args:?} with stdout closed:\n{err}"
        );
        for noise in ["panicked", "Broken pipe", "broken pipe", "os error 32"] {
            assert!(
                !err.contains(noise),
                "{args:?}: {noise:?} on stderr:\n{err}"
            );
        }
        // What went to stderr with a reader goes there without one too.
        assert_eq!(
            err,
            String::from_utf8_lossy(&with_reader.stderr),
            "{args:?}: stderr"
        );
    }
    sb.shutdown().await;
}

#[tokio::test]
async fn a_full_disk_is_a_failure_said_on_stderr() {
    let home = tempfile::tempdir().unwrap();
    for args in [vec!["decode", JWT], vec!["decode", "--json", JWT]] {
        let full = std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .expect("/dev/full");
        let o = finish(command(home.path(), &args, Stdio::from(full), &[])).await;
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(5), "{args:?}: {err}");
        assert!(
            err.contains("cannot write the output") && !err.contains("panicked"),
            "{err}"
        );
    }
}

/// The sandbox command prints its banner, then serves until Ctrl-C: with its reader gone it
/// keeps serving, and stops cleanly on SIGINT.
#[tokio::test]
async fn the_sandbox_keeps_serving_without_a_reader() {
    let home = tempfile::tempdir().unwrap();
    let port = support::free_port();
    let addr = format!("127.0.0.1:{port}");
    let mut child = command(
        home.path(),
        &["sandbox", "--addr", &addr, "--no-key-store"],
        closed_stdout(),
        &[],
    )
    .spawn()
    .expect("spawned");
    let http = support::http();
    let url = format!("http://{addr}/");
    let mut up = false;
    for _ in 0..600 {
        if http
            .get(&url)
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            up = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    // SAFETY: kill(2) on the child we spawned.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let o = tokio::task::spawn_blocking(move || {
        let status = child.wait().expect("waited");
        let mut err = String::new();
        if let Some(mut e) = child.stderr.take() {
            let _ = std::io::Read::read_to_string(&mut e, &mut err);
        }
        (status, err)
    })
    .await
    .expect("joined");
    assert!(
        up,
        "the sandbox answered with its stdout closed; stderr:\n{}",
        o.1
    );
    assert_eq!(o.0.code(), Some(0), "{}", o.1);
    assert!(!o.1.contains("panicked"), "{}", o.1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panic_in_any_command_is_exit_5_never_101() {
    let home = tempfile::tempdir().unwrap();
    let cfg = home.path().join("absent.toml");
    let cfg = cfg.to_str().unwrap();
    let panic = [("TOKENSCOPE_TEST_PANIC", "command")];
    for args in [
        vec!["decode", JWT],
        vec!["decode", "--json", JWT],
        vec!["--config", cfg, "token"],
        vec!["--config", cfg, "token", "--json"],
        vec!["--config", cfg, "call", "Seattle"],
        vec!["--config", cfg, "call", "Seattle", "--json"],
        vec!["--config", cfg, "doctor"],
        vec!["--config", cfg, "doctor", "--json"],
        vec!["cache", "list"],
        vec!["config", "path"],
        vec!["sandbox", "--addr", "127.0.0.1:0"],
    ] {
        let o = finish(command(home.path(), &args, Stdio::piped(), &panic)).await;
        let text = all_output(&o);
        assert_eq!(o.status.code(), Some(5), "{args:?}:\n{text}");
        assert!(text.contains("panicked"), "the hook's message: {text}");
        let err = String::from_utf8_lossy(&o.stderr);
        if args.contains(&"--json") {
            let v = support::stdout_json(&o);
            assert_eq!(v["error"]["stage"], "internal", "{v}");
            assert!(
                v["error"]["message"]
                    .as_str()
                    .is_some_and(|m| m.contains("internal error") && m.contains("(please report)")),
                "{v}"
            );
        } else {
            assert!(
                err.contains("error: internal error:") && err.contains("(please report)"),
                "{args:?}:\n{err}"
            );
        }
    }
}
