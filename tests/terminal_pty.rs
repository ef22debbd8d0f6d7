//! Terminal safety: the real binary (`tokenscope demo`) in a pseudo-terminal. However it
//! ends — `q`, SIGTERM, a panic — it leaves the alternate screen (`ESC[?1049l` after
//! `ESC[?1049h`), turns off the mouse reports it asked for and puts the terminal back in
//! cooked mode (ICANON and ECHO on). The mouse, as a terminal reports it (SGR sequences),
//! focuses a pane and scrolls one; `--no-mouse` leaves the mouse to the terminal.
//!
//! The pty is driven by tests/fixtures/pty_driver.py (Python's standard library), so no
//! extra Rust dependency is needed.

#[path = "fixtures/support.rs"]
mod support;

use serde_json::json;
use support::{PtyRun, find, run_in_pty};

const ENTER_ALT: &[u8] = b"\x1b[?1049h";
const LEAVE_ALT: &[u8] = b"\x1b[?1049l";
/// Mouse reports: normal tracking (press, release, wheel) and SGR coordinates.
const MOUSE_ON: [&[u8]; 2] = [b"\x1b[?1000h", b"\x1b[?1006h"];
const MOUSE_OFF: [&[u8]; 2] = [b"\x1b[?1000l", b"\x1b[?1006l"];

fn rfind(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).rposition(|w| w == needle)
}

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
    for (on, off) in MOUSE_ON.into_iter().zip(MOUSE_OFF) {
        let on = find(&run.output, on).unwrap_or_else(|| panic!("{how}: mouse never enabled"));
        assert!(
            on > entered,
            "{how}: mouse enabled on the dashboard's screen"
        );
        assert!(
            rfind(&run.output, off) > Some(on),
            "{how}: the shell is left receiving mouse reports"
        );
    }
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

/// A terminal's report of the left button pressed and released at 1-based (column, row),
/// SGR encoding.
fn click(column: u16, row: u16) -> String {
    format!("\u{1b}[<0;{column};{row}M\u{1b}[<0;{column};{row}m")
}

/// A wheel notch down at 1-based (column, row).
fn wheel_down(column: u16, row: u16) -> String {
    format!("\u{1b}[<65;{column};{row}M")
}

/// At 120×40 the Config pane is the top-left one (rows 2–18, columns 1–47, 1-based); in the
/// demo it holds more than it shows ("↓ n more"). The wheel over it scrolls it while the
/// city box keeps the focus (typing still types); a click on it moves the focus there, so
/// `q` quits (in the city box it would type).
#[tokio::test]
async fn a_click_focuses_a_pane_and_the_wheel_scrolls_one() {
    let home = tempfile::tempdir().unwrap();
    let mut steps = started();
    steps.extend([
        json!({"wait_screen": "more", "timeout": 30}),
        json!({"mark": "wheel"}),
        json!({"send": wheel_down(10, 8)}),
        // The Config pane's mark now counts lines above too.
        json!({"wait_screen": "↑ 3", "after": "wheel", "timeout": 20}),
        // Still in the city box: letters type (in a pane, c would open the compare view).
        json!({"mark": "typed"}),
        json!({"send": "Quebec"}),
        json!({"wait_screen": "Quebec", "after": "typed", "timeout": 20}),
        // Esc clears the box. A lone Esc is read as a key only when nothing follows it at
        // once (a terminal's own escape sequences arrive in one piece).
        json!({"send": "\u{1b}"}),
        json!({"sleep": 0.3}),
        json!({"send": click(10, 8)}),
        json!({"send": "q"}),
        json!({"exit": 30}),
    ]);
    let run = run_in_pty(home.path(), &["demo"], &[], json!(steps)).await;
    assert_restored(&run, "mouse");
    assert_eq!(run.exit_code, Some(0), "q quit: the click moved the focus");
    // Clicks and the wheel only: no report for every pointer motion.
    assert!(
        find(&run.output, b"\x1b[?1003h").is_none(),
        "no any-motion tracking"
    );
}

/// `--no-mouse` (and `mouse = false`) leave the mouse to the terminal: no mouse mode is
/// asked for, so dragging selects text as usual.
#[tokio::test]
async fn no_mouse_leaves_the_mouse_to_the_terminal() {
    let home = tempfile::tempdir().unwrap();
    for args in [&["demo", "--no-mouse"][..], &["--no-mouse", "demo"]] {
        let mut steps = started();
        steps.push(json!({"send": "\t"}));
        steps.push(json!({"send": "q"}));
        steps.push(json!({"exit": 30}));
        let run = run_in_pty(home.path(), args, &[], json!(steps)).await;
        let out = String::from_utf8_lossy(&run.output);
        assert!(
            run.ok,
            "{args:?}: {:?}; the terminal got:\n{out}",
            run.error
        );
        assert_eq!(run.exit_code, Some(0));
        for on in MOUSE_ON {
            assert!(
                find(&run.output, on).is_none(),
                "{args:?}: asked for mouse reports ({:?})",
                String::from_utf8_lossy(on)
            );
        }
    }
    // The config file's top-level `mouse = false` does the same for the demo.
    let config = home.path().join("config/tokenscope");
    std::fs::create_dir_all(&config).unwrap();
    std::fs::write(config.join("config.toml"), "mouse = false\n").unwrap();
    let mut steps = started();
    steps.push(json!({"send": "\t"}));
    steps.push(json!({"send": "q"}));
    steps.push(json!({"exit": 30}));
    let run = run_in_pty(home.path(), &["demo"], &[], json!(steps)).await;
    assert!(run.ok, "{:?}", run.error);
    assert!(
        find(&run.output, MOUSE_ON[0]).is_none(),
        "mouse = false is honoured"
    );
}
