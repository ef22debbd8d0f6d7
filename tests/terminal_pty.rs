//! Terminal safety: the real binary (`tokenscope demo`) in a pseudo-terminal. However it
//! ends — `q`, SIGTERM, a panic — it leaves the alternate screen (`ESC[?1049l` after
//! `ESC[?1049h`) and puts the terminal back in cooked mode (ICANON and ECHO on).
//!
//! The pty is driven by tests/fixtures/pty_driver.py (Python's standard library), so no
//! extra Rust dependency is needed.

#[path = "fixtures/support.rs"]
mod support;

use serde_json::json;
use support::{PtyRun, find, run_in_pty};

const ENTER_ALT: &[u8] = b"\x1b[?1049h";
const LEAVE_ALT: &[u8] = b"\x1b[?1049l";

/// Steps up to "the dashboard is drawn and the terminal is raw".
fn started() -> Vec<serde_json::Value> {
    vec![
        json!({"wait": "\u{1b}[?1049h", "timeout": 60}),
        json!({"wait_screen": "Config", "timeout": 60}),
        json!({"check_raw": true}),
    ]
}

fn assert_restored(run: &PtyRun, how: &str) {
    let out = String::from_utf8_lossy(&run.output);
    assert!(run.ok, "{how}: {:?}; the terminal got:\n{out}", run.error);
    assert_eq!(
        run.raw_while_running,
        Some(true),
        "{how}: the dashboard runs in raw mode (else this test proves nothing)"
    );
    let entered = find(&run.output, ENTER_ALT).expect("entered the alternate screen");
    let left = run
        .output
        .windows(LEAVE_ALT.len())
        .rposition(|w| w == LEAVE_ALT)
        .unwrap_or_else(|| panic!("{how}: never left the alternate screen; got:\n{out}"));
    assert!(
        left > entered,
        "{how}: ESC[?1049l must come after ESC[?1049h"
    );
    assert!(
        run.icanon_after && run.echo_after,
        "{how}: the terminal is left in raw mode (icanon {}, echo {})",
        run.icanon_after,
        run.echo_after
    );
}

#[tokio::test]
async fn quitting_with_q_restores_the_terminal() {
    let home = tempfile::tempdir().unwrap();
    let mut steps = started();
    // In the city box `q` types a q; Tab moves focus to a pane, where `q` quits.
    steps.push(json!({"send": "\t"}));
    steps.push(json!({"send": "q"}));
    steps.push(json!({"exit": 30}));
    let run = run_in_pty(home.path(), &["demo"], &[], json!(steps)).await;
    assert_restored(&run, "q");
    assert_eq!(run.exit_code, Some(0));
}

#[tokio::test]
async fn sigterm_restores_the_terminal() {
    let home = tempfile::tempdir().unwrap();
    let mut steps = started();
    steps.push(json!({"signal": "TERM"}));
    steps.push(json!({"exit": 30}));
    let run = run_in_pty(home.path(), &["demo"], &[], json!(steps)).await;
    assert_restored(&run, "SIGTERM");
    assert_eq!(run.exit_signal, None, "SIGTERM is handled, not fatal");
}

#[tokio::test]
async fn ctrl_c_from_the_city_box_restores_the_terminal() {
    let home = tempfile::tempdir().unwrap();
    let mut steps = started();
    steps.push(json!({"send": "Sea"}));
    steps.push(json!({"send": "\u{3}"}));
    steps.push(json!({"exit": 30}));
    let run = run_in_pty(home.path(), &["demo"], &[], json!(steps)).await;
    assert_restored(&run, "Ctrl-C");
}

/// `TOKENSCOPE_TEST_PANIC=1` makes the dashboard loop panic on the first key press.
#[tokio::test]
async fn a_panic_restores_the_terminal() {
    let home = tempfile::tempdir().unwrap();
    let mut steps = started();
    steps.push(json!({"send": "x"}));
    steps.push(json!({"exit": 30}));
    let run = run_in_pty(
        home.path(),
        &["demo"],
        &[("TOKENSCOPE_TEST_PANIC", "1")],
        json!(steps),
    )
    .await;
    assert_restored(&run, "panic");
    assert_ne!(run.exit_code, Some(0), "a panic is not a clean exit");
    let out = String::from_utf8_lossy(&run.output);
    let left = out.rfind("\u{1b}[?1049l").unwrap_or(0);
    assert!(
        out[left..].contains("panicked"),
        "the panic message is printed on the restored screen:\n{out}"
    );
}
