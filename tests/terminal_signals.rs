//! Every catchable signal gives the terminal back and removes the demo's temporary
//! directory (it holds a config with inline secrets and a private key); SIGTSTP and Ctrl-Z
//! restore the terminal while stopped and take it again on SIGCONT; a 1 MB paste costs the
//! dashboard nothing (issue 15, defects 2 and 3).
//!
//! `tokenscope demo` runs in a pseudo-terminal driven by tests/fixtures/pty_driver.py.

#[path = "fixtures/support.rs"]
mod support;

use std::path::Path;

use serde_json::json;
use support::{PtyRun, find, run_in_pty};

const ENTER_ALT: &[u8] = b"\x1b[?1049h";
const LEAVE_ALT: &[u8] = b"\x1b[?1049l";

fn started() -> Vec<serde_json::Value> {
    vec![
        json!({"wait": "\u{1b}[?1049h", "timeout": 60}),
        json!({"wait_screen": "Config", "timeout": 60}),
        json!({"check_raw": true}),
    ]
}

fn rfind(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).rposition(|w| w == needle)
}

/// Left the alternate screen after entering it, cooked again, nothing raw left behind.
fn assert_restored(run: &PtyRun, how: &str) {
    let out = String::from_utf8_lossy(&run.output);
    assert!(run.ok, "{how}: {:?}; the terminal got:\n{out}", run.error);
    assert_eq!(
        run.raw_while_running,
        Some(true),
        "{how}: it ran in raw mode"
    );
    let entered = find(&run.output, ENTER_ALT).expect("entered the alternate screen");
    let left = rfind(&run.output, LEAVE_ALT)
        .unwrap_or_else(|| panic!("{how}: never left the alternate screen; got:\n{out}"));
    assert!(left > entered, "{how}: ESC[?1049l after ESC[?1049h");
    assert!(
        run.icanon_after && run.echo_after,
        "{how}: left in raw mode (icanon {}, echo {})",
        run.icanon_after,
        run.echo_after
    );
    // Bracketed paste is switched off again too.
    let on = rfind(&run.output, b"\x1b[?2004h").expect("bracketed paste was enabled");
    let off = rfind(&run.output, b"\x1b[?2004l").unwrap_or(0);
    assert!(off > on, "{how}: bracketed paste left on");
    // And the mouse reports (clicks, wheel) the dashboard asked for.
    for (on, off) in [
        (&b"\x1b[?1000h"[..], &b"\x1b[?1000l"[..]),
        (b"\x1b[?1006h", b"\x1b[?1006l"),
    ] {
        let on = rfind(&run.output, on).expect("mouse reports were enabled");
        let off = rfind(&run.output, off).unwrap_or(0);
        assert!(off > on, "{how}: mouse reporting left on");
    }
}

/// The demo's temporary directories under `tmp` (there must be none after it ends).
fn demo_dirs(tmp: &Path) -> Vec<String> {
    std::fs::read_dir(tmp)
        .map(|d| {
            d.filter_map(Result::ok)
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.starts_with("tokenscope-demo-"))
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn every_quit_signal_restores_the_terminal_and_removes_the_demo_dir() {
    for signal in ["INT", "QUIT", "TERM", "HUP"] {
        let home = tempfile::tempdir().unwrap();
        let tmp = home.path().join("tmp");
        std::fs::create_dir_all(&tmp).unwrap();
        let mut steps = started();
        steps.push(json!({"signal": signal}));
        steps.push(json!({"exit": 30}));
        let envs = [("TMPDIR", tmp.to_str().unwrap())];
        let run = run_in_pty(home.path(), &["demo"], &envs, json!(steps)).await;
        assert_restored(&run, signal);
        assert_eq!(run.exit_signal, None, "SIG{signal} is handled, not fatal");
        assert_eq!(run.exit_code, Some(0), "SIG{signal} ends the demo cleanly");
        assert!(
            demo_dirs(&tmp).is_empty(),
            "SIG{signal} left the demo's directory (secrets): {:?}",
            demo_dirs(&tmp)
        );
    }
}

/// Stopped: the terminal is the shell's (cooked, main screen); continued: the dashboard's
/// again, redrawn.
fn assert_suspended_and_back(run: &PtyRun, how: &str) {
    let out = String::from_utf8_lossy(&run.output);
    assert!(run.ok, "{how}: {:?}; the terminal got:\n{out}", run.error);
    let stopped = &run.modes["stopped"];
    assert!(
        stopped.icanon && stopped.echo,
        "{how}: cooked while stopped ({stopped:?})"
    );
    let resumed = &run.modes["resumed"];
    assert!(
        !resumed.icanon && !resumed.echo,
        "{how}: raw again after SIGCONT ({resumed:?})"
    );
    let at_stop = run.marks["stopped"];
    let before = &run.output[run.marks["before"]..at_stop];
    assert!(
        find(before, LEAVE_ALT).is_some(),
        "{how}: left the alternate screen before stopping"
    );
    assert!(
        find(&run.output[at_stop..], ENTER_ALT).is_some(),
        "{how}: entered it again after SIGCONT"
    );
    // The shell gets no mouse reports while the dashboard is stopped; it gets them back after.
    assert!(
        rfind(before, b"\x1b[?1000l") > rfind(before, b"\x1b[?1000h"),
        "{how}: mouse reporting off before stopping"
    );
    assert!(
        find(&run.output[at_stop..], b"\x1b[?1000h").is_some(),
        "{how}: mouse reporting on again after SIGCONT"
    );
    assert_restored(run, how);
}

fn suspend_steps(stop: serde_json::Value) -> Vec<serde_json::Value> {
    let mut steps = started();
    steps.extend([
        json!({"mark": "before"}),
        stop,
        json!({"wait_state": "T", "timeout": 20}),
        json!({"modes": "stopped"}),
        json!({"mark": "stopped"}),
        json!({"signal": "CONT"}),
        json!({"wait_state": "T", "not": true, "timeout": 20}),
        json!({"wait_screen": "Config", "after": "stopped", "timeout": 20}),
        json!({"modes": "resumed"}),
        json!({"send": "\u{3}"}),
        json!({"exit": 30}),
    ]);
    steps
}

#[tokio::test]
async fn sigtstp_gives_the_terminal_back_until_sigcont() {
    let home = tempfile::tempdir().unwrap();
    let steps = suspend_steps(json!({"signal": "TSTP"}));
    let run = run_in_pty(home.path(), &["demo"], &[], json!(steps)).await;
    assert_suspended_and_back(&run, "SIGTSTP");
}

/// In raw mode Ctrl-Z is a key, not a signal: the dashboard suspends itself.
#[tokio::test]
async fn ctrl_z_suspends_like_a_shell_job() {
    let home = tempfile::tempdir().unwrap();
    let steps = suspend_steps(json!({"send": "\u{1a}"}));
    let run = run_in_pty(home.path(), &["demo"], &[], json!(steps)).await;
    assert_suspended_and_back(&run, "Ctrl-Z");
}

/// A megabyte pasted into the city box is one event: cut to what the box holds, with a
/// message, and the dashboard answers the next key at once.
#[tokio::test]
async fn a_one_megabyte_paste_returns_control_within_a_second() {
    let home = tempfile::tempdir().unwrap();
    let mut steps = started();
    steps.extend([
        json!({"paste": 1_048_576}),
        json!({"wait_screen": "pasted text cut", "timeout": 1}),
        json!({"send": "\u{3}"}),
        json!({"exit": 10}),
    ]);
    let run = run_in_pty(home.path(), &["demo"], &[], json!(steps)).await;
    let out = String::from_utf8_lossy(&run.output);
    assert!(
        run.ok,
        "{:?} (waits took {:?} s); the screen:\n{}",
        run.error,
        run.elapsed,
        &out[out.len().saturating_sub(4000)..]
    );
    assert_restored(&run, "after a paste");
}

/// A panic in a background task ends the dashboard: terminal back, the message shown, an
/// exit code from README's table — never a half-alive UI drawing on a cooked terminal.
#[tokio::test]
async fn a_panic_in_a_background_task_ends_the_dashboard() {
    let home = tempfile::tempdir().unwrap();
    let tmp = home.path().join("tmp");
    std::fs::create_dir_all(&tmp).unwrap();
    let mut steps = started();
    steps.push(json!({"send": "x"}));
    steps.push(json!({"exit": 30}));
    let envs = [
        ("TOKENSCOPE_TEST_PANIC", "task"),
        ("TMPDIR", tmp.to_str().unwrap()),
    ];
    let run = run_in_pty(home.path(), &["demo"], &envs, json!(steps)).await;
    assert_restored(&run, "a task's panic");
    assert_eq!(run.exit_code, Some(5), "README: 5 = other failure");
    let out = String::from_utf8_lossy(&run.output);
    let left = out.rfind("\u{1b}[?1049l").unwrap_or(0);
    let after = &out[left..];
    assert!(
        after.contains("forced panic in a background task") && after.contains("dashboard stopped"),
        "the panic and the reason are printed on the restored screen:\n{after}"
    );
    assert!(demo_dirs(&tmp).is_empty(), "the demo directory is removed");
}
