//! Typing stays responsive while the identity provider stalls, and a new Enter replaces the
//! call in flight: the network never runs on the UI task.

use std::time::Duration;

use crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use tokenscope::config::{self, Env, LoadOptions};
use tokenscope::tui::{App, AppOptions, Clipboard, Runtime, Theme};
use tokio::sync::{mpsc, watch};

const WAIT: Duration = Duration::from_secs(10);

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

fn send(tx: &mpsc::UnboundedSender<Event>, code: KeyCode) {
    tx.send(Event::Key(KeyEvent::new(code, KeyModifiers::NONE)))
        .expect("the app is running");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn typing_stays_responsive_while_the_identity_provider_stalls() {
    // A token endpoint that accepts connections and never answers.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let stall = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((sock, _)) = listener.accept().await {
            held.push(sock);
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.toml");
    std::fs::write(
        &path,
        format!(
            r#"
[profiles.stalled]
authority = "http://127.0.0.1:{port}/ec184e30-7605-46d6-97ce-0b8dfa8e6682"
client_id = "a5947bad-c48d-423f-8e81-4681cdd00957"
client_secret = "sandbox-only"
scope = "api://6c6f687a-96c8-4280-bba3-d11cc0b19b67/.default"
api_url = "http://127.0.0.1:{port}/api/weather/{{city}}"
timeout = "60s"
"#
        ),
    )
    .unwrap();
    let profile = config::load(
        &LoadOptions {
            config: Some(path),
            profile: None,
        },
        &Env::default(),
    )
    .unwrap();
    let http = tokenscope::http::client(&tokenscope::http::HttpOptions {
        connect_timeout: profile.connect_timeout,
        timeout: profile.timeout,
        ca_file: None,
    })
    .unwrap();
    let mut rt = Runtime::new(
        profile.clone(),
        http,
        None,
        None,
        Clipboard::Memory(Default::default()),
    );
    let mut frames = rt.frames();
    let mut opts = AppOptions::from_env();
    opts.theme = Theme::new(false);
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

    wait_for(&mut frames, &["● acquiring"]).await;
    for c in "Seattle".chars() {
        send(&tx, KeyCode::Char(c));
    }
    send(&tx, KeyCode::Enter);
    wait_for(&mut frames, &["calling the API for Seattle"]).await;
    // The call waits on the stalled token request; keys still land at once.
    for c in " qx".chars() {
        send(&tx, KeyCode::Char(c));
    }
    wait_for(
        &mut frames,
        &["› Seattle qx", "calling the API for Seattle"],
    )
    .await;
    send(&tx, KeyCode::Enter);
    wait_for(
        &mut frames,
        &[
            "cancelled the call for Seattle",
            "calling the API for Seattle qx",
        ],
    )
    .await;

    // Ctrl-C quits from the city box even with the request still hanging.
    tx.send(Event::Key(KeyEvent::new(
        KeyCode::Char('c'),
        KeyModifiers::CONTROL,
    )))
    .unwrap();
    tokio::time::timeout(WAIT, ui)
        .await
        .expect("the app quits in time")
        .expect("no panic")
        .expect("clean exit");
    stall.abort();
}
