//! The real dashboard loop, driven by scripted keys against an in-process sandbox tenant,
//! read back from a TestBackend: the lecture's 200 → revoke the role → 403 with the reason.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use tokenscope::config::{self, Env, LoadOptions};
use tokenscope::sandbox::{Sandbox, SandboxOptions, TenantModel};
use tokenscope::tui::{App, AppOptions, Clipboard, DemoSetup, Runtime, Theme};
use tokio::sync::{mpsc, watch};

/// Generous: the sandbox and the debug build share two cores with other work.
const WAIT: Duration = Duration::from_secs(30);

fn text(buf: &Buffer) -> String {
    let mut out = String::new();
    for y in buf.area.top()..buf.area.bottom() {
        for x in buf.area.left()..buf.area.right() {
            out.push_str(buf[(x, y)].symbol());
        }
        out.push('\n');
    }
    out
}

/// Wait until the screen shows every one of `needles`; panic with the screen if it does not.
async fn wait_for(frames: &mut watch::Receiver<Buffer>, needles: &[&str]) -> String {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let screen = text(&frames.borrow_and_update());
        if needles.iter().all(|n| screen.contains(n)) {
            return screen;
        }
        match tokio::time::timeout_at(deadline, frames.changed()).await {
            Ok(Ok(())) => {}
            _ => panic!("timed out waiting for {needles:?}; the screen was:\n{screen}"),
        }
    }
}

fn keys(tx: &mpsc::UnboundedSender<Event>, codes: impl IntoIterator<Item = KeyCode>) {
    for code in codes {
        tx.send(Event::Key(KeyEvent::new(code, KeyModifiers::NONE)))
            .expect("the app is running");
    }
}

fn typed(tx: &mpsc::UnboundedSender<Event>, s: &str) {
    keys(tx, s.chars().map(KeyCode::Char));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn weather_card_then_403_after_revoking_the_role() {
    let tenant = TenantModel::builtin();
    let api_roles = tenant
        .api
        .app_roles
        .iter()
        .map(|r| r.value.clone())
        .collect();
    let sandbox = tokio::time::timeout(WAIT, Sandbox::start(SandboxOptions::default()))
        .await
        .expect("sandbox starts in time")
        .expect("sandbox starts");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.toml");
    sandbox.write_config(&path).unwrap();
    let profile = config::load(
        &LoadOptions {
            config: Some(path),
            profile: None,
        },
        &Env::default(),
    )
    .unwrap();
    assert_eq!(profile.name, "console-rw");
    let http = tokenscope::http::client(&tokenscope::http::HttpOptions {
        connect_timeout: profile.connect_timeout,
        timeout: profile.timeout,
        ca_file: None,
    })
    .unwrap();
    let sandbox = Arc::new(sandbox);
    let clipboard = Arc::new(Mutex::new(Vec::new()));
    let mut rt = Runtime::new(
        profile.clone(),
        http,
        None,
        Some(DemoSetup {
            sandbox: sandbox.clone(),
            api_roles,
        }),
        Clipboard::Memory(clipboard.clone()),
    );
    let mut frames = rt.frames();
    let mut opts = AppOptions::from_env();
    opts.theme = Theme::new(false);
    opts.demo = rt.demo_state();
    let mut app = App::new(&profile, opts);

    let (tx, rx) = mpsc::unbounded_channel::<Event>();
    let input =
        futures_util::stream::unfold(
            rx,
            |mut rx| async move { rx.recv().await.map(|e| (Ok(e), rx)) },
        );
    let ui = tokio::spawn(async move {
        let mut terminal = Terminal::new(TestBackend::new(120, 40)).unwrap();
        app.run(&mut rt, &mut terminal, input).await
    });

    // Scenario 1: a token shows up by itself; Seattle gives a weather card.
    wait_for(
        &mut frames,
        &["● fresh", "✓ Weather.Read", "idtyp      app"],
    )
    .await;
    typed(&tx, "Seattle");
    keys(&tx, [KeyCode::Enter]);
    wait_for(&mut frames, &["200 OK", "temperature", "humidity"]).await;

    // Copy the token: only after the confirmation.
    keys(&tx, [KeyCode::Tab, KeyCode::Char('y')]);
    wait_for(&mut frames, &["Copy the access token"]).await;
    keys(&tx, [KeyCode::Char('y')]);
    wait_for(&mut frames, &["copied the access token"]).await;
    assert_eq!(clipboard.lock().unwrap().len(), 1);

    // Scenario 2: revoke the role in the admin popup, refresh, call again: 403 explained.
    keys(&tx, [KeyCode::Char('a')]);
    wait_for(
        &mut frames,
        &["Demo admin", "Revoke Weather.Read from console-rw"],
    )
    .await;
    keys(&tx, [KeyCode::Char('1')]);
    wait_for(&mut frames, &["sandbox: revoked Weather.Read"]).await;
    assert!(
        !sandbox
            .client("console-rw")
            .unwrap()
            .granted_roles
            .contains(&"Weather.Read".to_string())
    );
    keys(&tx, [KeyCode::Char('r')]);
    wait_for(&mut frames, &["✗ Weather.Read", "refreshed: new token"]).await;
    keys(&tx, [KeyCode::Enter]);
    let screen = wait_for(
        &mut frames,
        &[
            "403 Forbidden",
            "token has no role Weather.Read; the API requires it",
            "insufficient_scope",
        ],
    )
    .await;
    assert!(screen.contains("IDW10203"), "{screen}");

    // q quits (focus is not in the city box).
    keys(&tx, [KeyCode::Char('q')]);
    tokio::time::timeout(WAIT, ui)
        .await
        .expect("the app quits in time")
        .expect("the app task does not panic")
        .expect("the app loop ends cleanly");
    if let Ok(sandbox) = Arc::try_unwrap(sandbox) {
        tokio::time::timeout(WAIT, sandbox.shutdown())
            .await
            .unwrap();
    }
}
