//! README's pictures of the dashboard (`assets/screenshots/*.svg`), drawn from the same
//! states as the snapshot tests at 120×40 with [`super::svg`], colours kept. The test fails
//! when a picture no longer matches what the dashboard draws; regenerate them all with
//!
//! ```sh
//! UPDATE_PICTURES=1 cargo test --lib tui::pictures
//! ```

use std::path::PathBuf;

use ratatui::Terminal;
use ratatui::backend::TestBackend;

use super::app::App;
use super::fixtures::{forbidden, weather_ok};
use super::snapshot_tests::{call, compared, with_token};
use super::theme::Theme;

/// The pictures: file name (without `.svg`) and the state it shows.
fn pictures() -> Vec<(&'static str, App)> {
    let mut healthy = with_token(&["Weather.Read", "Weather.Write"]);
    call(&mut healthy, "Seattle", weather_ok());
    let mut refused = with_token(&["Weather.Read", "Weather.Write"]);
    call(&mut refused, "Seattle", forbidden("Weather.Admin"));
    let mut all = vec![
        ("dashboard-healthy", healthy),
        ("dashboard-403-explained", refused),
        ("dashboard-compare", compared()),
    ];
    // The snapshots are colourless (text is what they compare); a picture shows colour.
    for (_, app) in &mut all {
        app.theme = Theme::new(true);
    }
    all
}

fn draw(app: &App) -> String {
    let mut t = Terminal::new(TestBackend::new(120, 40)).expect("a test terminal");
    let frame = t.draw(|f| super::view(app, f)).expect("drawn");
    super::svg::buffer_svg(frame.buffer)
}

#[test]
fn readme_pictures_match_the_dashboard() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("assets/screenshots");
    let update = std::env::var("UPDATE_PICTURES").is_ok_and(|v| v == "1");
    let mut stale = Vec::new();
    for (name, app) in pictures() {
        let svg = draw(&app);
        let path = dir.join(format!("{name}.svg"));
        if update {
            std::fs::create_dir_all(&dir).expect("assets/screenshots");
            std::fs::write(&path, &svg).expect("picture written");
        } else if std::fs::read_to_string(&path).ok().as_deref() != Some(svg.as_str()) {
            stale.push(path.display().to_string());
        }
    }
    assert!(
        stale.is_empty(),
        "README pictures out of date (the dashboard draws something else now): {}\n\
         look at the screen change, then regenerate: UPDATE_PICTURES=1 cargo test --lib tui::pictures",
        stale.join(", ")
    );
}
