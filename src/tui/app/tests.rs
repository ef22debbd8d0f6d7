//! `App::update` for every key and every background message.

use std::time::Duration;

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

use super::*;
use crate::auth::Phase;
use crate::jwt::Check;
use crate::tui::fixtures::*;
use crate::tui::keymap::Action;
use crate::tui::msg::CallError;
use crate::tui::msg::ProfileId;

fn effects(app: &mut App) -> Vec<Effect> {
    app.take_effects()
}

fn focused_on(app: &mut App, focus: Focus) {
    while app.focus() != focus {
        app.update(key(KeyCode::Tab));
    }
}

/// A fresh token; the verification it asks for is taken (see `new_tokens_are_verified`).
fn with_token() -> App {
    let mut app = app(false);
    step(&mut app, P0, fresh(&["Weather.Read"], 1));
    app.take_effects();
    app
}

#[test]
fn q_types_in_the_city_box_and_quits_elsewhere() {
    let mut app = app(false);
    assert_eq!(app.focus(), Focus::City);
    type_str(&mut app, "Quebec q");
    assert_eq!(app.city(), "Quebec q");
    assert!(!app.should_quit());
    app.update(key(KeyCode::Tab));
    app.update(ch('q'));
    assert!(app.should_quit());
}

#[test]
fn ctrl_c_quits_from_anywhere_even_over_a_popup() {
    let mut app = app(true);
    app.update(ctrl('c'));
    assert!(app.should_quit());
    let mut app = app_with_overlay();
    app.update(ctrl('c'));
    assert!(app.should_quit());
}

fn app_with_overlay() -> App {
    let mut app = app(true);
    app.update(key(KeyCode::F(1)));
    assert_eq!(app.overlay(), Overlay::Help);
    app
}

#[test]
fn tab_and_shift_tab_cycle_focus() {
    let mut app = app(false);
    let mut seen = vec![app.focus()];
    for _ in 0..5 {
        app.update(key(KeyCode::Tab));
        seen.push(app.focus());
    }
    assert_eq!(
        seen,
        [
            Focus::City,
            Focus::Token,
            Focus::Weather,
            Focus::Activity,
            Focus::Config,
            Focus::City
        ]
    );
    app.update(key(KeyCode::BackTab));
    assert_eq!(app.focus(), Focus::Config);
}

#[test]
fn enter_calls_and_a_new_enter_replaces_the_call_in_flight() {
    let mut app = with_token();
    type_str(&mut app, "  Seattle ");
    app.update(key(KeyCode::Enter));
    let e = effects(&mut app);
    assert!(
        matches!(&e[..], [Effect::CallApi { profile: P0, seq: 1, city }] if city == "Seattle"),
        "{e:?}"
    );
    assert_eq!(app.in_flight().map(|c| c.seq), Some(1));
    // Enter from another pane calls too, and cancels the first call.
    app.update(key(KeyCode::Tab));
    app.update(key(KeyCode::Enter));
    assert!(matches!(
        &effects(&mut app)[..],
        [Effect::CallApi { seq: 2, .. }]
    ));
    assert!(
        app.activity()
            .any(|e| e.text.contains("cancelled the call for Seattle"))
    );
    // The cancelled call's late answer is ignored.
    answer(&mut app, 1, Ok(Box::new(forbidden("Weather.Read"))));
    assert!(app.last_call().is_none());
    assert!(app.in_flight().is_some());
    answer(&mut app, 2, Ok(Box::new(weather_ok())));
    assert!(app.in_flight().is_none());
    let last = app.last_call().unwrap();
    assert_eq!(last.city, "Seattle");
    assert_eq!(last.result.as_ref().unwrap().status, 200);
    assert!(
        app.activity()
            .any(|e| e.text == "GET Seattle → 200 in 42 ms")
    );
}

#[test]
fn refused_input_gives_a_message_and_no_call() {
    let mut app = app(false);
    app.update(key(KeyCode::Enter));
    assert_eq!(app.input_error(), Some("type a city name, e.g. Seattle"));
    assert!(effects(&mut app).is_empty());
    type_str(&mut app, &"x".repeat(101));
    assert!(app.input_error().is_none(), "typing clears the message");
    app.update(key(KeyCode::Enter));
    assert!(app.input_error().unwrap().contains("longer than 100"));
    assert!(effects(&mut app).is_empty());
    // Control characters cannot be typed, but they can be pasted: the paste drops them.
    app.update(key(KeyCode::Esc));
    app.update(Msg::Paste("Sea\u{1b}[2Jttle".into()));
    assert_eq!(app.city(), "Sea[2Jttle");
}

#[test]
fn esc_clears_the_box_or_returns_to_it() {
    let mut app = app(false);
    type_str(&mut app, "Oslo");
    app.update(key(KeyCode::Esc));
    assert_eq!(app.city(), "");
    assert_eq!(
        app.focus(),
        Focus::City,
        "a non-empty box is cleared, not left"
    );
    app.update(key(KeyCode::Tab));
    app.update(key(KeyCode::Esc));
    assert_eq!(app.focus(), Focus::City);
    // Esc on an empty box leaves it, as in most TUIs: Esc then q quits.
    app.update(key(KeyCode::Esc));
    assert_ne!(app.focus(), Focus::City);
    app.update(ch('q'));
    assert!(app.should_quit());
}

#[test]
fn history_up_and_down() {
    let mut app = app(false);
    for city in ["Oslo", "Lima", "Oslo"] {
        if !app.city().is_empty() {
            app.update(key(KeyCode::Esc));
        }
        type_str(&mut app, city);
        app.update(key(KeyCode::Enter));
    }
    app.update(key(KeyCode::Esc));
    type_str(&mut app, "Ro");
    app.update(key(KeyCode::Up));
    assert_eq!(app.city(), "Oslo");
    app.update(key(KeyCode::Up));
    assert_eq!(app.city(), "Lima");
    app.update(key(KeyCode::Up));
    assert_eq!(app.city(), "Lima", "oldest entry stays");
    app.update(key(KeyCode::Down));
    assert_eq!(app.city(), "Oslo");
    app.update(key(KeyCode::Down));
    assert_eq!(app.city(), "Ro", "the draft comes back");
}

#[test]
fn r_and_f5_refresh() {
    let mut app = app(false);
    app.update(key(KeyCode::F(5)));
    assert!(matches!(
        &effects(&mut app)[..],
        [Effect::Refresh { profile: P0 }]
    ));
    app.update(ch('r'));
    assert!(effects(&mut app).is_empty(), "r types in the city box");
    app.update(key(KeyCode::Tab));
    app.update(ch('r'));
    assert!(matches!(
        &effects(&mut app)[..],
        [Effect::Refresh { profile: P0 }]
    ));
}

#[test]
fn t_toggles_raw_json_and_focuses_the_token() {
    let mut app = with_token();
    app.update(key(KeyCode::Tab));
    focused_on(&mut app, Focus::Activity);
    app.update(ch('t'));
    assert!(app.raw());
    assert_eq!(app.focus(), Focus::Token);
    app.update(ch('t'));
    assert!(!app.raw());
}

#[test]
fn y_copies_only_after_confirmation() {
    use crate::tui::app::CopyWhat;
    let mut app = app(false);
    app.update(key(KeyCode::Tab));
    app.update(ch('y'));
    assert_eq!(app.overlay(), Overlay::Copy { selected: 0 });
    // Nothing to copy yet: each row says why, and nothing is copied.
    for n in '1'..='5' {
        app.update(ch(n));
        assert!(effects(&mut app).is_empty());
        assert!(app.status().is_some(), "row {n} says why not");
    }
    app.update(key(KeyCode::Esc));
    assert_eq!(app.overlay(), Overlay::None);

    let mut app = with_token();
    app.update(key(KeyCode::Tab));
    app.update(ch('y'));
    app.update(ch('5'));
    assert_eq!(app.overlay(), Overlay::ConfirmCopy(CopyWhat::Token));
    app.update(ch('n'));
    assert_eq!(app.overlay(), Overlay::None);
    assert!(effects(&mut app).is_empty());
    assert_eq!(app.status(), Some("copy cancelled"));

    app.update(ch('y'));
    app.update(ch('5'));
    app.update(ch('y'));
    let e = effects(&mut app);
    match &e[..] {
        [
            Effect::Copy {
                what: CopyWhat::Token,
                clip,
            },
        ] => {
            assert_eq!(clip.expose(), jwt(&["Weather.Read"]));
            assert!(!format!("{clip:?}").contains("eyJ"), "Debug is redacted");
        }
        other => panic!("{other:?}"),
    }
    app.update(Msg::Copied {
        what: CopyWhat::Token,
        result: Ok(1234),
    });
    assert!(
        app.status()
            .unwrap()
            .contains("the access token (1234 bytes)")
    );
    app.update(Msg::Copied {
        what: CopyWhat::Token,
        result: Err("stdout closed".into()),
    });
    assert_eq!(app.status(), Some("copy failed: stdout closed"));

    // The claims are JSON with the header and payload; no confirmation needed.
    app.update(ch('y'));
    app.update(key(KeyCode::Enter));
    match &effects(&mut app)[..] {
        [
            Effect::Copy {
                what: CopyWhat::Claims,
                clip,
            },
        ] => {
            let v: serde_json::Value = serde_json::from_str(clip.expose()).unwrap();
            assert_eq!(v["header"]["alg"], "RS256");
            assert_eq!(v["payload"]["roles"][0], "Weather.Read");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn the_last_call_copies_as_its_diagnosis_and_as_curl() {
    use crate::tui::app::CopyWhat;
    let mut app = with_token();
    type_str(&mut app, "Sea ttle'$(x)");
    app.update(key(KeyCode::Enter));
    let seq = app.in_flight().map(|c| c.seq).unwrap_or_default();
    let mut resp = forbidden("Weather.Admin");
    resp.url = url::Url::parse("http://127.0.0.1:8400/api/weather/Sea%20ttle'$(x)").unwrap();
    answer(&mut app, seq, Ok(Box::new(resp)));
    effects(&mut app);
    app.update(key(KeyCode::Tab));
    app.update(ch('y'));
    app.update(ch('2'));
    match &effects(&mut app)[..] {
        [
            Effect::Copy {
                what: CopyWhat::Diagnosis,
                clip,
            },
        ] => {
            let t = clip.expose();
            assert!(
                t.starts_with("GET http://127.0.0.1:8400/api/weather/"),
                "{t}"
            );
            assert!(t.contains("→ HTTP 403"), "{t}");
            assert!(
                t.contains("\n✗ ") && t.contains("\nwhy: ") && t.contains("\nfix: "),
                "{t}"
            );
            assert!(t.contains("WWW-Authenticate: Bearer"), "{t}");
        }
        other => panic!("{other:?}"),
    }
    app.update(ch('y'));
    app.update(ch('3'));
    match &effects(&mut app)[..] {
        [
            Effect::Copy {
                what: CopyWhat::Curl,
                clip,
            },
        ] => {
            let t = clip.expose();
            assert!(t.contains("$TOKEN"), "{t}");
            assert!(!t.contains("eyJ"), "{t}");
            // The hostile city stays inside single quotes.
            assert!(
                t.ends_with("'http://127.0.0.1:8400/api/weather/Sea%20ttle'\\''$(x)'"),
                "{t}"
            );
        }
        other => panic!("{other:?}"),
    }
    // With the token in it: asked first.
    app.update(ch('y'));
    app.update(ch('4'));
    assert_eq!(app.overlay(), Overlay::ConfirmCopy(CopyWhat::CurlWithToken));
    app.update(ch('y'));
    match &effects(&mut app)[..] {
        [
            Effect::Copy {
                what: CopyWhat::CurlWithToken,
                clip,
            },
        ] => {
            assert!(clip.expose().contains("Bearer eyJ"));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn help_opens_and_closes() {
    let mut app = app(false);
    app.update(ch('?'));
    assert_eq!(app.overlay(), Overlay::None, "? types in the city box");
    app.update(key(KeyCode::Tab));
    app.update(ch('?'));
    assert_eq!(app.overlay(), Overlay::Help);
    app.update(ch('r'));
    assert!(
        effects(&mut app).is_empty(),
        "keys do not leak through the overlay"
    );
    app.update(key(KeyCode::Esc));
    assert_eq!(app.overlay(), Overlay::None);
    app.update(key(KeyCode::F(1)));
    app.update(ch('q'));
    assert_eq!(app.overlay(), Overlay::None);
    assert!(!app.should_quit(), "q closes the overlay first");
}

#[test]
fn admin_popup_only_in_demo() {
    let mut app = app(false);
    app.update(key(KeyCode::Tab));
    app.update(ch('a'));
    assert_eq!(app.overlay(), Overlay::None);
    assert!(app.status().unwrap().contains(
        "run `tokenscope demo`, or point this profile's authority at a local `tokenscope sandbox`"
    ));

    let mut app = crate::tui::fixtures::app(true);
    app.update(key(KeyCode::Tab));
    app.update(ch('a'));
    assert_eq!(app.overlay(), Overlay::Admin { selected: 0 });
    app.update(key(KeyCode::Up));
    assert_eq!(
        app.overlay(),
        Overlay::Admin { selected: 13 },
        "wraps around"
    );
    app.update(key(KeyCode::Down));
    app.update(key(KeyCode::Down));
    app.update(key(KeyCode::Enter));
    assert_eq!(app.overlay(), Overlay::None);
    assert!(
        matches!(&effects(&mut app)[..], [Effect::Admin { op: AdminOp::RevokeRole(r), .. }] if r == "Weather.Write")
    );
    app.update(ch('a'));
    app.update(ch('3'));
    assert!(
        matches!(&effects(&mut app)[..], [Effect::Admin { op: AdminOp::GrantRole(r), .. }] if r == "Weather.Admin")
    );
    // Every API role can be required, including the one no client holds.
    app.update(ch('a'));
    app.update(ch('5'));
    assert!(
        matches!(&effects(&mut app)[..], [Effect::Admin { op: AdminOp::RequireRole(r), .. }] if r == "Weather.Admin")
    );
    app.update(ch('a'));
    app.update(key(KeyCode::Esc));
    assert_eq!(app.overlay(), Overlay::None);
    assert!(effects(&mut app).is_empty());
}

#[test]
fn demo_ops_follow_the_tenant_state() {
    let mut state = demo_state();
    state.granted = vec!["Weather.Write".into()];
    state.token_lifetime = Some(Duration::from_secs(120));
    state.secret_expired = true;
    assert_eq!(
        state.ops(),
        [
            AdminOp::GrantRole("Weather.Read".into()),
            AdminOp::RevokeRole("Weather.Write".into()),
            AdminOp::GrantRole("Weather.Admin".into()),
            AdminOp::RequireRole("Weather.Write".into()),
            AdminOp::RequireRole("Weather.Admin".into()),
            AdminOp::TokenLifetime(None),
            AdminOp::RotateKey,
            AdminOp::RenewSecret,
            AdminOp::ConfigureRole("Weather.Read".into()),
            AdminOp::ConfigureRole("Weather.Admin".into()),
            AdminOp::UserOnlyRole(true),
            AdminOp::AcceptedTokenVersion(crate::sandbox::TokenVersion::V1),
            AdminOp::AssignmentRequired(true),
            AdminOp::GrantDelay(Some(Duration::from_secs(30))),
            AdminOp::ClockOffset(600),
        ]
    );
    // A certificate or federated client has no secret to expire or renew.
    let mut no_secret = state.clone();
    no_secret.has_secret = false;
    let ops = no_secret.ops();
    assert!(
        !ops.iter()
            .any(|op| matches!(op, AdminOp::ExpireSecret | AdminOp::RenewSecret)),
        "{ops:?}"
    );
    let mut app = app(true);
    app.update(Msg::Demo {
        profile: P0,
        state: Some(Box::new(state.clone())),
    });
    assert_eq!(app.demo.as_ref(), Some(&state));
}

/// Outside the demo: the runtime is asked at start whether the active profile's authority is
/// a local sandbox; its answer turns the popup on, or (for another profile) off again.
#[test]
fn a_local_sandbox_turns_the_admin_popup_on() {
    let mut opts = options(false);
    opts.sandbox_admin = true;
    let mut app = App::with_profiles(&profiles(), 0, opts);
    assert!(matches!(&effects(&mut app)[..], [Effect::DemoState { profile }] if *profile == P0));
    app.update(key(KeyCode::Tab));
    app.update(ch('a'));
    assert_eq!(app.overlay(), Overlay::None);
    assert!(app.status().unwrap().contains("local `tokenscope sandbox`"));
    let mut state = demo_state();
    state.remote = Some("127.0.0.1:8400".into());
    app.update(Msg::Demo {
        profile: P0,
        state: Some(Box::new(state)),
    });
    app.update(ch('a'));
    assert!(matches!(app.overlay(), Overlay::Admin { .. }));
    let screen = render(&app, 120, 40);
    assert!(
        screen.contains("Sandbox admin · 127.0.0.1:8400"),
        "{screen}"
    );
    app.update(key(KeyCode::Esc));
    // Switching asks again; a profile with no sandbox behind it has no popup.
    app.update(key(KeyCode::F(2)));
    app.update(ch('2'));
    assert!(
        effects(&mut app)
            .iter()
            .any(|e| matches!(e, Effect::DemoState { profile } if profile.0 == 1))
    );
    app.update(Msg::Demo {
        profile: ProfileId(1),
        state: None,
    });
    assert!(!app.is_demo());
}

#[test]
fn admin_results_log_and_follow_up() {
    let mut app = app(true);
    app.update(Msg::AdminDone {
        profile: P0,
        op: AdminOp::RenewSecret,
        result: Ok("added a new secret".into()),
    });
    assert!(matches!(
        &effects(&mut app)[..],
        [Effect::ReloadCredential { profile: P0 }]
    ));
    app.update(Msg::AdminDone {
        profile: P0,
        op: AdminOp::TokenLifetime(Some(Duration::from_secs(120))),
        result: Ok("new tokens live 2m 0s".into()),
    });
    assert!(matches!(
        &effects(&mut app)[..],
        [Effect::Refresh { profile: P0 }]
    ));
    app.update(Msg::AdminDone {
        profile: P0,
        op: AdminOp::RevokeRole("Weather.Read".into()),
        result: Ok("revoked Weather.Read from console-rw".into()),
    });
    assert!(effects(&mut app).is_empty());
    assert!(
        app.activity()
            .any(|e| e.text.contains("until it is refreshed (r)"))
    );
    app.update(Msg::AdminDone {
        profile: P0,
        op: AdminOp::RequireRole("Nope".into()),
        result: Err("no such role".into()),
    });
    assert_eq!(app.status(), Some("no such role"));
}

#[test]
fn token_messages_decode_and_log() {
    let mut app = app(false);
    step(&mut app, P0, empty_snapshot(Phase::Acquiring));
    assert!(app.claims().is_none());
    step(&mut app, P0, fresh(&["Weather.Read"], 1));
    assert_eq!(app.claims().unwrap().roles, ["Weather.Read"]);
    assert!(
        app.activity().any(|e| e.text
            == "new token from the token endpoint, expires in 55m 0s · roles Weather.Read")
    );
    step(&mut app, P0, retrying(&["Weather.Read"]));
    let texts: Vec<_> = app.activity().map(|e| e.text.clone()).collect();
    assert!(
        texts
            .iter()
            .any(|t| t.starts_with("token request failed: could not connect"))
    );
    assert!(texts.iter().any(|t| t == "retry #2 scheduled in 4s"));
    // The same error again is not logged twice.
    let n = app.activity().count();
    step(&mut app, P0, retrying(&["Weather.Read"]));
    assert_eq!(app.activity().count(), n);
    // A new generation is a refresh.
    step(&mut app, P0, fresh(&[], 2));
    assert!(app.claims().unwrap().roles.is_empty());
    assert!(
        app.activity()
            .any(|e| e.text.starts_with("refreshed: new token") && e.text.ends_with("no roles"))
    );
}

#[test]
fn failed_call_and_refresh_messages() {
    let mut app = app(false);
    type_str(&mut app, "Oslo");
    app.update(key(KeyCode::Enter));
    answer(&mut app, 1, Err(CallError::Token(connect_error())));
    let last = app.last_call().unwrap();
    assert!(
        last.result
            .as_ref()
            .unwrap_err()
            .to_string()
            .starts_with("no token: could not connect")
    );
    app.update(Msg::RefreshDone {
        profile: P0,
        result: Err(connect_error()),
    });
    let status = app.status().unwrap_or_default();
    assert_eq!(
        status,
        format!("refresh failed: {}", connect_error().summary()),
        "one line, no hint"
    );
    assert!(!status.contains("hint"), "{status}");
    app.update(Msg::RefreshDone {
        profile: P0,
        result: Ok(()),
    });
    app.update(Msg::Warning("cache unavailable".into()));
    assert!(
        app.activity()
            .any(|e| e.text == "cache unavailable" && e.level == Level::Warn)
    );
}

#[test]
fn quit_tick_resize_and_release() {
    let mut app = app(false);
    assert!(app.needs_redraw());
    assert!(
        !app.needs_redraw(),
        "drawn once, clean until something happens"
    );
    app.update(Msg::Tick);
    assert!(app.needs_redraw(), "countdowns move");
    app.update(Msg::Resize);
    assert!(app.needs_redraw());
    let mut release = KeyEvent::new(KeyCode::Char('x'), KeyModifiers::NONE);
    release.kind = KeyEventKind::Release;
    app.update(Msg::Key(release));
    assert!(!app.needs_redraw());
    assert_eq!(app.city(), "");
    app.update(Msg::Quit);
    assert!(app.should_quit());
}

#[test]
fn activity_is_bounded() {
    let mut app = app(false);
    for i in 0..(ACTIVITY_CAP + 20) {
        app.update(Msg::Warning(format!("w{i}")));
    }
    assert_eq!(app.activity().count(), ACTIVITY_CAP);
    assert_eq!(app.activity().next().unwrap().text, "w20");
}

#[test]
fn scrolling_is_clamped_to_what_the_last_frame_had() {
    let mut app = with_token();
    focused_on(&mut app, Focus::Token);
    app.update(ch('t'));
    render(&app, 80, 24);
    let max = app.max_scroll.get().token;
    assert!(max > 5, "raw JSON overflows an 80×24 token pane");
    app.update(key(KeyCode::Down));
    assert_eq!(app.scroll().token, 1);
    app.update(key(KeyCode::End));
    assert_eq!(app.scroll().token, max);
    app.update(key(KeyCode::PageUp));
    assert_eq!(app.scroll().token, max - 10);
    app.update(key(KeyCode::Home));
    assert_eq!(app.scroll().token, 0);

    for i in 0..40 {
        app.update(Msg::Warning(format!("w{i}")));
    }
    focused_on(&mut app, Focus::Activity);
    render(&app, 80, 24);
    app.update(key(KeyCode::Up));
    assert_eq!(app.scroll().activity, 1, "up goes back in time");
    app.update(Msg::Warning("new".into()));
    assert_eq!(app.scroll().activity, 2, "a scrolled-back view stays put");
    app.update(key(KeyCode::End));
    assert_eq!(app.scroll().activity, 0);
}

#[test]
fn new_tokens_are_verified_and_late_results_ignored() {
    let mut app = app(true);
    step(&mut app, P0, fresh(&["Weather.Read"], 1));
    match &effects(&mut app)[..] {
        [
            Effect::VerifyToken {
                profile: P0,
                generation: 1,
                token,
                jwt: j,
            },
        ] => {
            assert_eq!(token.expose(), jwt(&["Weather.Read"]));
            assert_eq!(j.claims.roles, ["Weather.Read"]);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(app.verification(), Some(&Verification::Pending));
    // The same token again (a cache hit, a phase change) is not verified again.
    step(&mut app, P0, fresh(&["Weather.Read"], 1));
    assert!(effects(&mut app).is_empty());
    // A refreshed token is; the old token's result arriving late is ignored.
    step(&mut app, P0, fresh(&["Weather.Read", "Weather.Write"], 2));
    assert!(matches!(
        &effects(&mut app)[..],
        [Effect::VerifyToken { generation: 2, .. }]
    ));
    let _ = app.needs_redraw();
    app.update(verified(1, checks_ok()));
    assert_eq!(app.verification(), Some(&Verification::Pending));
    assert!(!app.needs_redraw());
    app.update(verified(2, checks_ok()));
    assert_eq!(app.verification(), Some(&Verification::Done(checks_ok())));
    assert!(app.activity().any(|e| e.level == Level::Good
        && e.text == "token verified: signature, issuer, audience, tenant, lifetime ✓"));
    // Failures are logged with their detail.
    step(&mut app, P0, fresh(&["Weather.Read"], 3));
    let mut bad = checks_ok();
    bad[5] = Check {
        name: "lifetime",
        severity: crate::diagnose::Severity::Error,
        detail: "expired 2m 0s ago".into(),
    };
    app.update(verified(3, bad));
    assert!(
        app.activity()
            .any(|e| e.level == Level::Error && e.text == "verify: ✗ lifetime: expired 2m 0s ago")
    );
    // A rotated signing key: the current token is checked again.
    effects(&mut app);
    app.update(Msg::AdminDone {
        profile: P0,
        op: AdminOp::RotateKey,
        result: Ok("rotated the signing key".into()),
    });
    assert!(matches!(
        &effects(&mut app)[..],
        [Effect::VerifyToken { generation: 3, .. }]
    ));
    assert_eq!(app.verification(), Some(&Verification::Pending));
}

#[test]
fn up_down_select_claims_in_the_token_pane() {
    let mut app = with_token();
    focused_on(&mut app, Focus::Token);
    let names = app.claim_names();
    assert_eq!(
        names,
        [
            "roles", "aud", "iss", "azp", "tid", "idtyp", "iat", "exp", "kid", "aio", "oid", "sub"
        ]
    );
    assert_eq!(app.selected_claim().as_deref(), Some("roles"));
    app.update(key(KeyCode::Down));
    app.update(ch('j'));
    assert_eq!(app.selected_claim().as_deref(), Some("iss"));
    app.update(key(KeyCode::Up));
    assert_eq!(app.selected_claim().as_deref(), Some("aud"));
    app.update(key(KeyCode::End));
    assert_eq!(app.selected_claim().as_deref(), Some("sub"));
    app.update(key(KeyCode::PageDown));
    assert_eq!(app.selected_claim().as_deref(), Some("sub"), "clamped");
    app.update(key(KeyCode::Home));
    assert_eq!(app.selected_claim().as_deref(), Some("roles"));
    // The selection survives a refresh when the new token has the same claim.
    app.update(key(KeyCode::End));
    app.update(key(KeyCode::Up));
    assert_eq!(app.selected_claim().as_deref(), Some("oid"));
    step(&mut app, P0, fresh(&["Weather.Read"], 2));
    assert_eq!(app.selected_claim().as_deref(), Some("oid"));
    // In the raw view ↑/↓ scroll instead.
    app.update(ch('t'));
    render(&app, 80, 24);
    app.update(key(KeyCode::Down));
    assert_eq!(app.scroll().token, 1);
    assert_eq!(app.selected_claim().as_deref(), Some("oid"));
}

#[test]
fn lint_problems_are_logged_at_start() {
    let mut p = profile();
    p.scope = format!("api://{API}");
    let app = App::new(&p, options(false));
    assert!(app.activity().any(|e| e.level == Level::Error
        && e.text.starts_with("config: scope \"api://")
        && e.text.contains("AADSTS1002012")));
    assert_eq!(app.lint()[0].severity, crate::diagnose::Severity::Error);
    let app = crate::tui::fixtures::app(false);
    assert!(app.lint().is_empty());
    assert_eq!(app.activity().count(), 0);
}

#[test]
fn refusals_are_logged_with_the_diagnosis() {
    let mut app = app(false);
    step(&mut app, P0, fresh(&["Weather.Read", "Weather.Write"], 1));
    type_str(&mut app, "Seattle");
    app.update(key(KeyCode::Enter));
    answer(&mut app, 1, Ok(Box::new(forbidden("Weather.Admin"))));
    assert!(app.activity().any(|e| e.level == Level::Warn
        && e.text
            == "GET Seattle → 403 in 42 ms: the token carries Weather.Read, Weather.Write; the API requires Weather.Admin"));
    // Granting the role and refreshing does not rewrite the diagnosis of the call made
    // before (the new token does carry Weather.Admin).
    step(
        &mut app,
        P0,
        fresh(&["Weather.Read", "Weather.Write", "Weather.Admin"], 2),
    );
    let advice = app.last_call().unwrap().advice.as_ref().unwrap();
    assert_eq!(
        advice.summary,
        "the token carries Weather.Read, Weather.Write; the API requires Weather.Admin"
    );
    assert!(render(&app, 120, 40).contains("✗ the token carries Weather.Read, Weather.Write;"));
}

#[test]
fn latency_keeps_precision_for_fast_calls() {
    assert_eq!(latency(Duration::from_micros(430)), "0.4 ms");
    assert_eq!(latency(Duration::from_millis(42)), "42 ms");
}

#[test]
fn p_types_in_the_city_box_and_f2_opens_the_picker_from_anywhere() {
    let mut app = profiles_app(false, 90);
    type_str(&mut app, "pc");
    assert_eq!(app.city(), "pc", "p and c type in the city box");
    assert_eq!(app.overlay(), Overlay::None);
    app.update(key(KeyCode::F(2)));
    assert_eq!(app.overlay(), Overlay::Profiles { selected: 0 });
    app.update(key(KeyCode::Esc));
    assert_eq!(app.overlay(), Overlay::None);
    app.update(key(KeyCode::Tab));
    app.update(ch('p'));
    assert_eq!(app.overlay(), Overlay::Profiles { selected: 0 });
    app.update(ch('p'));
    assert_eq!(app.overlay(), Overlay::None, "p closes it again");
}

#[test]
fn switching_profiles_starts_a_manager_once_and_keeps_the_others() {
    let mut app = profiles_app(false, 90);
    step(&mut app, P0, fresh(&["Weather.Read", "Weather.Write"], 1));
    effects(&mut app);
    assert_eq!(app.active(), 0);
    assert!(app.profiles()[0].started && !app.profiles()[1].started);

    app.update(key(KeyCode::F(2)));
    app.update(key(KeyCode::Down));
    assert_eq!(app.overlay(), Overlay::Profiles { selected: 1 });
    app.update(key(KeyCode::Enter));
    assert_eq!(app.overlay(), Overlay::None);
    assert_eq!(app.active(), 1);
    assert!(app.profiles()[1].started);
    assert!(matches!(&effects(&mut app)[..], [Effect::StartProfiles(v)] if v == &[ProfileId(1)]));
    assert!(
        app.activity()
            .any(|e| e.text == "switched to profile mobile-ro (requesting a token)")
    );
    // The new profile's panes: no token yet, its own config.
    assert!(app.token_snapshot().is_none());
    assert!(render(&app, 120, 40).contains("profile   mobile-ro"));
    // Its token arrives as the active one's; console-rw's refresher keeps reporting, tagged.
    step(&mut app, ProfileId(1), fresh(&["Weather.Read"], 1));
    assert_eq!(app.claims().unwrap().roles, ["Weather.Read"]);
    step(
        &mut app,
        ProfileId(0),
        fresh(&["Weather.Read", "Weather.Write"], 2),
    );
    assert_eq!(
        app.claims().unwrap().roles,
        ["Weather.Read"],
        "panes unchanged"
    );
    assert!(
        app.activity()
            .any(|e| e.text.starts_with("[console-rw] refreshed: new token"))
    );
    assert_eq!(
        app.profiles()[0].roles().unwrap(),
        ["Weather.Read", "Weather.Write"]
    );
    // Its verification lands on it, not on the active profile of the same generation.
    let e = effects(&mut app);
    assert!(
        e.iter().any(|e| matches!(
            e,
            Effect::VerifyToken {
                profile: P0,
                generation: 2,
                ..
            }
        )),
        "{e:?}"
    );
    app.update(Msg::Verified {
        profile: P0,
        generation: 1,
        checks: checks_ok(),
    });
    assert_eq!(app.verification(), Some(&Verification::Pending));

    // Back to console-rw with 1: no new manager, just the switch.
    app.update(key(KeyCode::F(2)));
    app.update(ch('1'));
    assert_eq!(app.active(), 0);
    assert!(effects(&mut app).is_empty(), "its manager runs already");
    assert_eq!(
        app.claims().unwrap().roles,
        ["Weather.Read", "Weather.Write"]
    );
}

#[test]
fn a_broken_profile_is_listed_but_cannot_be_activated() {
    let mut app = profiles_app(false, 90);
    app.update(key(KeyCode::F(2)));
    app.update(ch('5'));
    assert_eq!(app.active(), 0);
    assert_eq!(app.overlay(), Overlay::Profiles { selected: 4 });
    assert!(effects(&mut app).is_empty());
    assert_eq!(
        app.status(),
        Some(
            "cannot switch to typo: it does not load: profile \"typo\" in /home/ada/.config/tokenscope/config.toml has no client_id"
        )
    );
    let screen = render(&app, 120, 40);
    assert!(screen.contains("cannot switch to typo"), "{screen}");
    assert!(
        screen.contains("✗ does not load: profile \"typo\""),
        "{screen}"
    );
}

#[test]
fn each_call_answer_goes_to_its_own_profile() {
    let mut app = profiles_app(false, 90);
    type_str(&mut app, "Seattle");
    app.update(key(KeyCode::Enter));
    // Switch while console-rw's call is in flight; call as mobile-ro too.
    app.update(key(KeyCode::F(2)));
    app.update(ch('2'));
    app.update(key(KeyCode::Enter));
    let calls: Vec<(usize, u64)> = effects(&mut app)
        .into_iter()
        .filter_map(|e| match e {
            Effect::CallApi { profile, seq, .. } => Some((profile.0, seq)),
            _ => None,
        })
        .collect();
    assert_eq!(calls, [(0, 1), (1, 2)]);
    answer(&mut app, 1, Ok(Box::new(forbidden("Weather.Read"))));
    assert!(app.last_call().is_none(), "not the active profile's call");
    assert!(app.in_flight().is_some());
    assert_eq!(app.profiles()[0].outcome_summary().1, "403 IDW10203");
    assert!(
        app.activity()
            .any(|e| e.text.starts_with("[console-rw] GET Seattle → 403"))
    );
    answer(&mut app, 2, Ok(Box::new(weather_ok())));
    assert_eq!(app.last_call().unwrap().summary, "200 Seattle 12 °C");
}

#[test]
fn compare_starts_every_manager_and_a_calls_as_each() {
    let mut app = profiles_app(true, 90);
    app.update(key(KeyCode::F(3)));
    assert_eq!(app.overlay(), Overlay::Compare);
    assert!(
        matches!(&effects(&mut app)[..], [Effect::StartProfiles(v)]
            if v == &[ProfileId(1), ProfileId(2), ProfileId(3)]),
        "every profile that loads and is not running yet"
    );
    // Opening it again starts nothing more.
    app.update(key(KeyCode::Esc));
    app.update(key(KeyCode::Tab));
    app.update(ch('c'));
    assert_eq!(app.overlay(), Overlay::Compare);
    assert!(effects(&mut app).is_empty());
    // `a` with no city anywhere: say so, call nothing.
    app.update(ch('a'));
    assert!(
        app.status()
            .unwrap()
            .starts_with("type a city in the box first")
    );
    assert!(effects(&mut app).is_empty());
    // With a city: one call per profile that loads, each its own.
    app.update(key(KeyCode::Esc));
    app.update(key(KeyCode::Esc));
    assert_eq!(app.focus(), Focus::City);
    type_str(&mut app, "Oslo");
    app.update(key(KeyCode::F(3)));
    app.update(ch('a'));
    let calls: Vec<(usize, String)> = effects(&mut app)
        .into_iter()
        .filter_map(|e| match e {
            Effect::CallApi { profile, city, .. } => Some((profile.0, city)),
            _ => None,
        })
        .collect();
    assert_eq!(calls.len(), 4);
    assert!(calls.iter().all(|(_, c)| c == "Oslo"));
    assert_eq!(
        app.overlay(),
        Overlay::Compare,
        "stays open to show the answers"
    );
    assert_eq!(app.profiles()[2].outcome_summary().1, "calling for Oslo…");
    // An empty box reuses the last city.
    app.update(key(KeyCode::Esc));
    app.update(key(KeyCode::Esc));
    app.update(key(KeyCode::F(3)));
    app.update(ch('a'));
    assert_eq!(effects(&mut app).len(), 4);
    assert_eq!(app.city(), "Oslo");
    // r refreshes every running profile (after grants changed in the demo popup).
    app.update(ch('r'));
    let e = effects(&mut app);
    assert_eq!(e.len(), 4, "{e:?}");
    assert!(
        e.iter().all(|e| matches!(e, Effect::Refresh { .. })),
        "{e:?}"
    );
    assert_eq!(app.overlay(), Overlay::Compare);
}

#[test]
fn compare_rows_are_selected_and_enter_switches_to_one() {
    let mut app = profiles_app(true, 90);
    app.update(key(KeyCode::F(3)));
    assert_eq!(app.compare_selected, 0, "opens on the active profile");
    effects(&mut app);
    app.update(key(KeyCode::Down));
    app.update(ch('j'));
    assert_eq!(app.compare_selected, 2);
    app.update(key(KeyCode::Up));
    app.update(key(KeyCode::Up));
    app.update(key(KeyCode::Up));
    assert_eq!(app.compare_selected, 4, "wraps around to the last row");
    // The last row does not load: Enter says so and keeps the view open.
    app.update(key(KeyCode::Enter));
    assert_eq!(app.overlay(), Overlay::Compare);
    assert!(app.status().unwrap().starts_with("cannot switch to typo"));
    assert_eq!(app.active(), 0);
    // mobile-ro: Enter switches to it and closes the view; no call is made.
    app.update(ch('k'));
    app.update(ch('k'));
    app.update(ch('k'));
    app.update(key(KeyCode::Enter));
    assert_eq!(app.overlay(), Overlay::None);
    assert_eq!(app.active(), 1);
    assert!(
        !effects(&mut app)
            .iter()
            .any(|e| matches!(e, Effect::CallApi { .. }))
    );
    // Reopened, it starts on the new active profile; a digit switches at once.
    app.update(key(KeyCode::F(3)));
    assert_eq!(app.compare_selected, 1);
    app.update(ch('1'));
    assert_eq!(app.active(), 0);
    assert_eq!(app.overlay(), Overlay::None);
}

#[test]
fn the_palette_runs_a_command_by_name_as_its_key_would() {
    let mut app = with_token();
    // Ctrl-P from the city box; `:` from a pane.
    app.update(ctrl('p'));
    assert_eq!(app.overlay(), Overlay::Palette);
    app.update(key(KeyCode::Esc));
    assert_eq!(app.overlay(), Overlay::None);
    app.update(key(KeyCode::Tab));
    app.update(ch(':'));
    assert_eq!(app.overlay(), Overlay::Palette);
    // Letters type into the filter (q does not quit), the list narrows as you type.
    let all = app.palette_entries().len();
    type_str(&mut app, "raw");
    assert!(!app.should_quit());
    assert!(app.palette_entries().len() < all);
    assert_eq!(app.palette_entries()[0].action, Action::ToggleRaw);
    assert!(!app.raw());
    app.update(key(KeyCode::Enter));
    assert_eq!(app.overlay(), Overlay::None);
    assert!(app.raw(), "ran the same action as t");
    // ↑/↓ move the selection; Enter runs the selected one (the refresh effect, as r).
    app.update(ch(':'));
    type_str(&mut app, "refresh");
    app.update(key(KeyCode::Down));
    app.update(key(KeyCode::Up));
    effects(&mut app);
    app.update(key(KeyCode::Enter));
    assert!(matches!(&effects(&mut app)[..], [Effect::Refresh { profile }] if *profile == P0));
    // q in the filter types; nothing matching: Enter does nothing and the palette stays.
    app.update(ch(':'));
    type_str(&mut app, "qqqqzz");
    assert!(app.palette_entries().is_empty());
    app.update(key(KeyCode::Enter));
    assert_eq!(app.overlay(), Overlay::Palette);
    assert!(!app.should_quit());
    // Ctrl-C still quits from the palette.
    app.update(ctrl('c'));
    assert!(app.should_quit());
}

#[test]
fn the_palette_offers_admin_only_where_there_is_a_sandbox() {
    let names =
        |app: &App| -> Vec<Action> { app.palette_entries().iter().map(|b| b.action).collect() };
    let mut plain = with_token();
    plain.update(ctrl('p'));
    assert!(!names(&plain).contains(&Action::Admin));
    let mut demo = app(true);
    demo.update(ctrl('p'));
    assert!(names(&demo).contains(&Action::Admin));
    type_str(&mut demo, "admin");
    demo.update(key(KeyCode::Enter));
    assert!(matches!(demo.overlay(), Overlay::Admin { .. }));
}

/// A call that found no token, then a token that came later (a renewed secret): the compare
/// view's `last call` must not still say "no token" beside a valid one.
#[test]
fn a_no_token_call_does_not_contradict_a_later_token() {
    let mut app = app(true);
    type_str(&mut app, "Seattle");
    app.update(key(KeyCode::Enter));
    answer(&mut app, 1, Err(CallError::Token(expired_secret_error())));
    assert_eq!(app.profiles()[0].outcome_summary().1, "✗ no token");
    // A token older than the call (an earlier state published late) changes nothing.
    step(&mut app, P0, fresh(&["Weather.Read"], 1));
    assert_eq!(app.profiles()[0].outcome_summary().1, "✗ no token");
    let later = app.now() + chrono::Duration::seconds(30);
    app.set_now(later);
    let mut snap = fresh(&["Weather.Read"], 2);
    if let Some(t) = snap.token.as_mut() {
        std::sync::Arc::make_mut(t).acquired_at = later;
    }
    step(&mut app, P0, snap);
    let (level, text) = app.profiles()[0].outcome_summary();
    assert_eq!(text, "— not called with this token");
    assert_eq!(level, Level::Info);
}

#[test]
fn a_refusal_is_explained_against_the_token_that_was_sent() {
    let mut app = with_token(); // generation 1: Weather.Read
    let sent = app.token_snapshot().and_then(|s| s.token.clone());
    type_str(&mut app, "Seattle");
    app.update(key(KeyCode::Enter));
    // A refresh lands while the call is in flight: the App now holds another token.
    step(&mut app, P0, fresh(&["Weather.Read", "Weather.Write"], 2));
    app.update(Msg::ApiResult {
        profile: P0,
        seq: 1,
        sent,
        result: Ok(Box::new(forbidden("Weather.Admin"))),
    });
    let advice = app.last_call().and_then(|c| c.advice.clone()).unwrap();
    assert_eq!(
        advice.summary, "the token carries Weather.Read; the API requires Weather.Admin",
        "judged against generation 1, not the newer token"
    );
}

#[test]
fn a_stopped_refresher_is_logged_with_what_to_do() {
    let mut app = with_token();
    app.update(token_msg(
        P0,
        crate::auth::TokenEvent::Stopped {
            error: expired_secret_error(),
        },
        fresh(&["Weather.Read"], 1),
    ));
    let last = app.activity().last().unwrap();
    assert_eq!(last.level, Level::Error);
    assert!(
        last.text
            .starts_with("token requests stopped: AADSTS7000222")
            && last.text.contains("then refresh (r)"),
        "{}",
        last.text
    );
}

#[test]
fn repeated_entries_fold_and_background_ones_are_filtered() {
    let mut app = profiles_app(false, 90);
    for _ in 0..3 {
        app.update(Msg::Warning("cache unavailable".into()));
    }
    let folded: Vec<_> = app
        .activity()
        .filter(|e| e.text == "cache unavailable")
        .collect();
    assert_eq!(folded.len(), 1, "one line");
    assert_eq!(folded[0].count, 3);
    assert_eq!(folded[0].shown(), "cache unavailable (×3)");
    // Retries fold into the newest, whatever their numbers.
    let retry = |attempt: i64| {
        token_msg(
            P0,
            crate::auth::TokenEvent::Scheduled {
                at: now() + chrono::Duration::seconds(attempt * 2),
                retry: Some(attempt as u32),
            },
            retrying(&["Weather.Read"]),
        )
    };
    app.update(retry(1));
    app.update(retry(2));
    let retries: Vec<_> = app
        .activity()
        .filter(|e| e.text.starts_with("retry #"))
        .collect();
    assert_eq!(retries.len(), 1);
    assert!(
        retries[0].text.starts_with("retry #2"),
        "{}",
        retries[0].text
    );
    // A background profile's line is kept, tagged, and shown only when asked for.
    step(&mut app, ProfileId(1), fresh(&["Weather.Read"], 1));
    let tagged = |app: &App| {
        app.activity
            .visible(app.active)
            .any(|e| e.text.starts_with("[mobile-ro]"))
    };
    assert!(app.activity().any(|e| e.text.starts_with("[mobile-ro]")));
    assert!(!tagged(&app), "hidden by default");
    focused_on(&mut app, Focus::Activity);
    app.update(ch('f'));
    assert!(tagged(&app), "f shows every profile's");
}

#[test]
fn with_the_set_up_read_a_403_names_the_broken_link() {
    let mut app = with_token();
    let long_ago = now() - chrono::Duration::days(30);
    read_setup(
        &mut app,
        setup_facts(
            &["Weather.Read", "Weather.Admin"],
            &[("Weather.Read", long_ago)],
        ),
    );
    type_str(&mut app, "Seattle");
    app.update(key(KeyCode::Enter));
    answer(&mut app, 1, Ok(Box::new(forbidden("Weather.Admin"))));
    let advice = app.last_call().and_then(|c| c.advice.clone()).unwrap();
    assert!(
        advice
            .cause
            .contains("configured on the client but admin consent was never granted"),
        "{advice:?}"
    );
}
