//! Typing stays responsive while the identity provider stalls, and a new Enter replaces the
//! call in flight: the network never runs on the UI task.

#[path = "fixtures/support.rs"]
mod support;
use support::{Dashboard, stalling_server};

use crossterm::event::KeyCode;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn typing_stays_responsive_while_the_identity_provider_stalls() {
    // A token endpoint that accepts connections and never answers.
    let (addr, stall) = stalling_server().await;
    let port = addr.port();
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
    let profile = support::profile(&path, "stalled");
    let mut ui = Dashboard::start(&profile);

    ui.wait_for(&["● acquiring"]).await;
    ui.typed("Seattle");
    ui.keys([KeyCode::Enter]);
    ui.wait_for(&["calling the API for Seattle"]).await;
    // The call waits on the stalled token request; keys still land at once.
    ui.typed(" qx");
    ui.wait_for(&["› Seattle qx", "calling the API for Seattle"])
        .await;
    ui.keys([KeyCode::Enter]);
    ui.wait_for(&[
        "cancelled the call for Seattle",
        "calling the API for Seattle qx",
    ])
    .await;

    // Ctrl-C quits from the city box even with the request still hanging.
    ui.quit().await;
    stall.abort();
}
