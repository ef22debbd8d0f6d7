//! Whole-screen snapshots (TestBackend + insta) at 120×40 and 80×24, rendered with a fixed
//! clock and UTC display offset so they are the same on every machine.

use crossterm::event::KeyCode;

use super::app::App;
use super::fixtures::*;
use super::msg::Msg;
use crate::auth::Phase;

fn both(name: &str, app: &App) {
    insta::assert_snapshot!(format!("{name}_120x40"), render(app, 120, 40));
    insta::assert_snapshot!(format!("{name}_80x24"), render(app, 80, 24));
}

fn with_token(roles: &[&str]) -> App {
    let mut app = app(false);
    app.update(Msg::Token(Box::new(empty_snapshot(Phase::Acquiring))));
    app.update(Msg::Token(Box::new(fresh(roles, 1))));
    app
}

fn call(app: &mut App, city: &str, resp: crate::api::ApiResponse) {
    type_str(app, city);
    app.update(key(KeyCode::Enter));
    app.update(Msg::ApiResult {
        seq: app.in_flight().map(|c| c.seq).unwrap_or_default(),
        result: Ok(Box::new(resp)),
    });
}

#[test]
fn no_token_yet() {
    let mut app = app(false);
    app.update(Msg::Token(Box::new(empty_snapshot(Phase::Acquiring))));
    both("no_token_yet", &app);
}

#[test]
fn fresh_token_roles_match() {
    let app = with_token(&["Weather.Read", "Weather.Write"]);
    both("fresh_token", &app);
}

#[test]
fn role_missing_and_403() {
    let mut app = with_token(&[]);
    call(&mut app, "Seattle", forbidden("Weather.Read"));
    both("role_missing_403", &app);
}

#[test]
fn retrying_after_refresh_failure() {
    let mut app = with_token(&["Weather.Read"]);
    app.update(Msg::Token(Box::new(retrying(&["Weather.Read"]))));
    both("retrying", &app);
}

#[test]
fn weather_card() {
    let mut app = with_token(&["Weather.Read"]);
    call(&mut app, "Seattle", weather_ok());
    both("weather_card", &app);
}

#[test]
fn raw_token_json() {
    let mut app = with_token(&["Weather.Read"]);
    app.update(key(KeyCode::Tab));
    app.update(ch('t'));
    insta::assert_snapshot!("raw_token_120x40", render(&app, 120, 40));
}

#[test]
fn help_overlay() {
    let mut app = with_token(&["Weather.Read"]);
    app.update(key(KeyCode::F(1)));
    both("help", &app);
}

#[test]
fn demo_admin_popup() {
    let mut app = app(true);
    app.update(Msg::Token(Box::new(fresh(
        &["Weather.Read", "Weather.Write"],
        1,
    ))));
    app.update(key(KeyCode::Tab));
    app.update(ch('a'));
    app.update(key(KeyCode::Down));
    both("demo_admin", &app);
}

#[test]
fn too_small() {
    let app = with_token(&["Weather.Read"]);
    insta::assert_snapshot!("too_small", render(&app, 50, 15));
}

#[test]
fn escape_sequences_are_shown_not_run() {
    let mut app = with_token(&["Weather.Read"]);
    call(
        &mut app,
        "Seattle",
        response(
            500,
            "text/plain",
            "boom \u{1b}[2J\u{1b}]52;c;aGk=\u{7} done",
            &[],
        ),
    );
    let screen = render(&app, 120, 40);
    assert!(
        screen.contains("boom \\u{1b}[2J\\u{1b}]52;c;aGk=\\u{7} done"),
        "{screen}"
    );
    assert!(!screen.contains('\u{1b}'));
}
