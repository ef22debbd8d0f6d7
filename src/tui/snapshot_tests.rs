//! Whole-screen snapshots (TestBackend + insta) at 120×40 and 80×24, rendered with a fixed
//! clock and UTC display offset so they are the same on every machine.

use std::sync::Arc;

use crossterm::event::KeyCode;

use super::app::App;
use super::fixtures::*;
use super::msg::ProfileId;
use crate::auth::Phase;
use crate::diagnose::Severity;
use crate::jwt::Check;

fn both(name: &str, app: &App) {
    insta::assert_snapshot!(format!("{name}_120x40"), render(app, 120, 40));
    insta::assert_snapshot!(format!("{name}_80x24"), render(app, 80, 24));
}

/// A fresh token, verified (as the runtime does right after every new token).
pub(super) fn with_token(roles: &[&str]) -> App {
    let mut app = app(false);
    step(&mut app, P0, empty_snapshot(Phase::Acquiring));
    step(&mut app, P0, fresh(roles, 1));
    app.update(verified(1, checks_ok()));
    app
}

pub(super) fn call(app: &mut App, city: &str, resp: crate::api::ApiResponse) {
    type_str(app, city);
    app.update(key(KeyCode::Enter));
    let seq = app.in_flight().map(|c| c.seq).unwrap_or_default();
    answer(app, seq, Ok(Box::new(resp)));
}

#[test]
fn no_token_yet() {
    let mut app = app(false);
    step(&mut app, P0, empty_snapshot(Phase::Acquiring));
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
fn verification_pending_then_failed() {
    let mut app = app(false);
    step(&mut app, P0, fresh(&["Weather.Read"], 1));
    let screen = render(&app, 120, 40);
    assert!(
        screen.contains("verify     checking discovery, signature"),
        "{screen}"
    );
    let mut checks = checks_ok();
    checks[1] = Check {
        name: "signature",
        severity: Severity::Error,
        detail:
            "no key with kid sbx-key-1 in the JWKS: the token was not signed by this tenant's keys"
                .into(),
    };
    app.update(verified(1, checks));
    both("verification_failed", &app);
}

#[test]
fn a_graph_token_is_not_called_forged() {
    let mut app = with_token(&["Weather.Read"]);
    let mut checks = checks_ok();
    checks[1] = Check {
        name: "signature",
        severity: Severity::Warning,
        detail: "the header has a nonce (a Microsoft Graph token): it cannot be verified by third parties — not a sign of forgery".into(),
    };
    app.update(verified(1, checks));
    let screen = render(&app, 120, 40);
    assert!(
        screen.contains("verify     ⚠ signature ✓ issuer"),
        "{screen}"
    );
    assert!(
        screen.contains("cannot be verified by third parties"),
        "{screen}"
    );
    assert!(!screen.contains("✗"), "a nonce is not a failure:\n{screen}");
}

#[test]
fn selected_claim_is_explained() {
    let mut app = with_token(&["Weather.Read", "Weather.Write"]);
    app.update(key(KeyCode::Tab));
    app.update(key(KeyCode::Down));
    app.update(key(KeyCode::Down));
    both("claim_doc", &app);
    // The last claim is reachable and explained, also on a small screen.
    app.update(key(KeyCode::End));
    let screen = render(&app, 80, 24);
    assert!(screen.contains("sub        6cd8d0a5"), "{screen}");
    // Explained in full right under its row (the body scrolls; nothing is cut with "…").
    assert!(
        screen.contains("           Subject: for app-only tokens"),
        "{screen}"
    );
    assert!(
        screen.contains("(same") && screen.contains("as oid)."),
        "{screen}"
    );
}

#[test]
fn expired_secret_is_explained() {
    let mut app = with_token(&["Weather.Read"]);
    step(
        &mut app,
        P0,
        crate::auth::TokenSnapshot {
            last_error: Some(expired_secret_error()),
            ..fresh(&["Weather.Read"], 1)
        },
    );
    both("expired_secret", &app);
}

#[test]
fn required_role_changed_and_403() {
    let mut app = with_token(&["Weather.Read", "Weather.Write"]);
    call(&mut app, "Seattle", forbidden("Weather.Admin"));
    both("required_role_403", &app);
}

#[test]
fn config_lint_findings() {
    let mut p = profile();
    p.authority = "https://login.microsoftonline.com/common".into();
    p.tenant = Some("common".into());
    p.token_endpoint = format!("{}/oauth2/v2.0/token", p.authority);
    p.scope = format!("api://{API}");
    p.secret_expires = Some(now() + chrono::Duration::days(12));
    let mut app = App::new(&p, options(false));
    app.update(key(KeyCode::BackTab));
    both("config_lint", &app);
}

#[test]
fn demo_config_calls_its_inline_secret_harmless() {
    let mut p = profile();
    p.credential = crate::config::Credential::Secret {
        secret: crate::secret::ClientSecret::new("sbx"),
        source: crate::config::SecretSource::Inline,
    };
    let mut app = App::new(&p, options(true));
    app.update(key(KeyCode::BackTab));
    render(&app, 200, 60);
    app.update(key(KeyCode::End));
    let screen = render(&app, 200, 60);
    assert!(
        screen.contains("· the client secret is inline in the generated demo config")
            && screen.contains("harmless"),
        "{screen}"
    );
    assert!(screen.contains("from the sandbox tenant"), "{screen}");
    assert!(!screen.contains("⚠"), "{screen}");
    assert!(!app.activity().any(|e| e.text.contains("secret")));
    // Outside the demo the same profile is warned about, in the pane and the log.
    let mut app = App::new(&p, options(false));
    app.update(key(KeyCode::BackTab));
    let screen = render(&app, 120, 40);
    assert!(
        screen.contains("⚠ the client secret is written inline"),
        "{screen}"
    );
    assert!(app.activity().any(|e| {
        e.text
            .starts_with("config: the client secret is written inline")
    }));
}

#[test]
fn retrying_after_refresh_failure() {
    let mut app = with_token(&["Weather.Read"]);
    step(&mut app, P0, retrying(&["Weather.Read"]));
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
fn help_fits_80x24_in_the_demo_too() {
    let mut app = app(true);
    app.update(key(KeyCode::F(1)));
    let screen = render(&app, 80, 24);
    assert!(screen.contains("sandbox admin"), "{screen}");
    // Taller than the screen: the border says how much is below, ↓ scrolls to it.
    assert!(screen.contains("more ┘"), "{screen}");
    for _ in 0..5 {
        app.update(key(KeyCode::Down));
        render(&app, 80, 24);
    }
    let screen = render(&app, 80, 24);
    assert!(
        screen.contains("--no-mouse).") && screen.contains("above ┘"),
        "the last line is reachable:\n{screen}"
    );
    // At 120×40 it all fits: no marks.
    app.update(key(KeyCode::Esc));
    app.update(key(KeyCode::F(1)));
    let screen = render(&app, 120, 40);
    assert!(
        screen.contains("--no-mouse).") && !screen.contains("↑↓ scroll"),
        "{screen}"
    );
}

#[test]
fn demo_admin_popup() {
    let mut app = app(true);
    step(&mut app, P0, fresh(&["Weather.Read", "Weather.Write"], 1));
    app.update(key(KeyCode::Tab));
    app.update(ch('a'));
    app.update(key(KeyCode::Down));
    both("demo_admin", &app);
}

/// A `tokenscope sandbox` reached over its admin routes, with more roles than fit at 80×24:
/// the list scrolls with the selection, every row has a key, and the knobs' state is shown.
#[test]
fn sandbox_admin_popup_scrolls() {
    let mut app = app(false);
    let mut state = demo_state();
    state.remote = Some("127.0.0.1:8443".into());
    state
        .api_roles
        .extend(["Forecast.Read".into(), "Forecast.Write".into()]);
    state.situations.clock_offset = 600;
    state.situations.v1_tokens = true;
    app.update(crate::tui::Msg::Demo {
        profile: P0,
        state: Some(Box::new(state)),
    });
    step(&mut app, P0, fresh(&["Weather.Read", "Weather.Write"], 1));
    app.update(key(KeyCode::Tab));
    app.update(ch('a'));
    for _ in 0..17 {
        app.update(key(KeyCode::Down));
    }
    both("sandbox_admin", &app);
    let small = render(&app, 80, 24);
    assert!(
        small.contains("↑ ") && small.contains(" more (↑↓ scroll)"),
        "{small}"
    );
    assert!(
        small.contains("▶l  Require assignment"),
        "row 18 has the key l: {small}"
    );
    assert!(
        small.contains("Enter or its key apply"),
        "the footer shows: {small}"
    );
    assert!(small.contains("Sandbox admin · 127.0.0.1:8443"), "{small}");
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

/// The demo's profiles with a token each (no-roles has none granted), as after the compare
/// view started their managers.
fn profiles_with_tokens() -> App {
    let mut app = profiles_app(true, 20);
    step(&mut app, P0, fresh(&["Weather.Read", "Weather.Write"], 1));
    app.update(verified(1, checks_ok()));
    for (i, roles) in [
        (1, &["Weather.Read"][..]),
        (2, &[][..]),
        (3, &["Weather.Read", "Weather.Write"][..]),
    ] {
        app.profiles[i].started = true;
        step(&mut app, ProfileId(i), fresh(roles, 1));
    }
    app
}

#[test]
fn profile_picker() {
    let mut app = profiles_with_tokens();
    app.update(key(KeyCode::F(2)));
    app.update(key(KeyCode::Down));
    both("profile_picker", &app);
}

/// The compare view after Enter called the API as every profile for Seattle.
pub(super) fn compared() -> App {
    let mut app = profiles_with_tokens();
    type_str(&mut app, "Seattle");
    app.update(key(KeyCode::F(3)));
    app.update(ch('a'));
    for (seq, resp) in [
        (1, weather_ok()),
        (2, weather_ok()),
        (3, forbidden("Weather.Read")),
        (4, weather_ok()),
    ] {
        answer(&mut app, seq, Ok(Box::new(resp)));
    }
    app
}

#[test]
fn compare_view_after_calling_as_each() {
    let app = compared();
    both("compare", &app);
    let screen = render(&app, 120, 40);
    let row = |name: &str| {
        screen
            .lines()
            .find(|l| l.contains(&format!("│ {name} ")) || l.contains(&format!("│▶{name} ")))
            .unwrap_or_default()
            .to_string()
    };
    // The lecture at a glance: read-only mobile, read-write console, no roles → 403.
    assert!(row("mobile-ro").contains("✓             ✗"), "{screen}");
    assert!(row("console-rw").contains("✓             ✓"), "{screen}");
    assert!(row("no-roles").contains("403 IDW10203"), "{screen}");
    assert!(row("typo").contains("✗ does not load"), "{screen}");
}

/// The command palette, everything listed, then filtered as typed.
#[test]
fn command_palette() {
    let mut app = with_token(&["Weather.Read"]);
    app.update(ctrl('p'));
    both("palette", &app);
    type_str(&mut app, "ref");
    app.update(key(KeyCode::Down));
    both("palette_filtered", &app);
}

/// ↑/↓ select a row of the compare view (Enter would switch to it).
#[test]
fn compare_view_row_selected() {
    let mut app = profiles_with_tokens();
    app.update(key(KeyCode::F(3)));
    app.update(key(KeyCode::Down));
    app.update(key(KeyCode::Down));
    both("compare_selected", &app);
    let screen = render(&app, 80, 24);
    assert!(screen.contains("Enter switch"), "{screen}");
}

/// Outside the demo the compare view cannot ask the sandbox which role the API requires;
/// once the API has named it in a 403, that role is the one marked, not a guess from
/// `expected_roles`.
#[test]
fn compare_marks_the_role_the_api_named_in_a_403() {
    let mut app = profiles_app(false, 200);
    for (i, roles) in [(1, &["Weather.Read"][..]), (2, &[][..])] {
        app.profiles[i].started = true;
        step(&mut app, ProfileId(i), fresh(roles, 1));
    }
    type_str(&mut app, "Seattle");
    app.update(key(KeyCode::F(3)));
    let before = render(&app, 120, 40);
    assert!(before.contains("* expected by every profile"), "{before}");
    app.update(ch('a'));
    for seq in 1..=4 {
        answer(&mut app, seq, Ok(Box::new(forbidden("Weather.Write"))));
    }
    let screen = render(&app, 120, 40);
    assert!(
        screen.contains("* named by the API in its 403 answer: Weather.Write"),
        "{screen}"
    );
    assert!(screen.contains("Weather.Write*"), "{screen}");
}

#[test]
fn config_certificate_expiring_soon() {
    let mut app = profiles_app(false, 20);
    app.update(key(KeyCode::F(2)));
    app.update(ch('4'));
    app.update(key(KeyCode::BackTab));
    both("config_certificate_expiring", &app);
    let screen = render(&app, 120, 40);
    assert!(
        screen.contains("expires   2025-06-21 (in 20 days) ⚠ renew"),
        "{screen}"
    );
    assert!(screen.contains("subject   CN=console-cert"), "{screen}");
    // At 80 columns the Config pane hides behind the Token pane: the log says it too.
    assert!(app.activity().any(|e| {
        e.level == crate::tui::Level::Warn
            && e.text
                .starts_with("certificate CN=console-cert expires in 20 days (2025-06-21)")
    }));
}

#[test]
fn config_secret_expired() {
    let mut p = profile();
    p.secret_expires = Some(now() - chrono::Duration::days(3));
    let mut app = App::new(&p, options(false));
    app.update(key(KeyCode::BackTab));
    insta::assert_snapshot!("config_secret_expired_120x40", render(&app, 120, 40));
    let screen = render(&app, 120, 40);
    assert!(
        screen.contains("expires   2025-05-29 (3 days ago) ✗ expired:"),
        "{screen}"
    );
    // A secret far from expiry is just counted down.
    p.secret_expires = Some(now() + chrono::Duration::days(94));
    let app = App::new(&p, options(false));
    let screen = render(&app, 120, 40);
    assert!(
        screen.contains("expires   2025-09-03 (in 94 days) "),
        "{screen}"
    );
    assert!(!screen.contains("renew within"), "{screen}");
}

/// The Setup view with a set-up where everything lines up: every link ✓.
#[test]
fn setup_view_healthy() {
    let mut app = with_token(&["Weather.Read"]);
    let long_ago = now() - chrono::Duration::days(30);
    read_setup(
        &mut app,
        setup_facts(&["Weather.Read"], &[("Weather.Read", long_ago)]),
    );
    app.update(key(KeyCode::F(4)));
    both("setup_healthy", &app);
    let screen = render(&app, 120, 40);
    assert!(!screen.contains('✗'), "{screen}");
    assert!(!screen.contains("broken here"), "{screen}");
}

/// Scenario 6: the permission is configured but admin consent was never given.
#[test]
fn setup_view_not_consented() {
    let mut app = with_token(&["Weather.Read"]);
    let long_ago = now() - chrono::Duration::days(30);
    read_setup(
        &mut app,
        setup_facts(
            &["Weather.Read", "Weather.Admin"],
            &[("Weather.Read", long_ago)],
        ),
    );
    call(&mut app, "Seattle", forbidden("Weather.Admin"));
    app.update(key(KeyCode::F(4)));
    both("setup_not_consented", &app);
    let screen = render(&app, 120, 40);
    assert!(screen.contains("broken here"), "{screen}");
    assert!(
        screen.contains("admin consent was never granted"),
        "{screen}"
    );
    let narrow = render(&app, 80, 24);
    assert!(narrow.contains("broken here"), "{narrow}");
}

/// Scenario 7: the role was granted a minute ago; the token on screen is older.
#[test]
fn setup_view_stale_token() {
    let mut app = with_token(&["Weather.Read"]);
    let long_ago = now() - chrono::Duration::days(30);
    let just_now = now() - chrono::Duration::minutes(1);
    read_setup(
        &mut app,
        setup_facts(
            &["Weather.Read", "Weather.Admin"],
            &[("Weather.Read", long_ago), ("Weather.Admin", just_now)],
        ),
    );
    call(&mut app, "Seattle", forbidden("Weather.Admin"));
    app.update(key(KeyCode::F(4)));
    both("setup_stale_token", &app);
    let screen = render(&app, 120, 40);
    assert!(screen.contains("predates the grant"), "{screen}");
}

/// With the set-up read, the compare view shows beside each role whether the tenant
/// granted it: granted but missing from the token reads "✗✓" (the token predates the grant).
#[test]
fn compare_shows_what_the_tenant_granted() {
    // The token predates the grant of the role the profile expects.
    let mut app = with_token(&[]);
    let just_now = now() - chrono::Duration::minutes(1);
    read_setup(
        &mut app,
        setup_facts(
            &["Weather.Read", "Weather.Write"],
            &[("Weather.Read", just_now), ("Weather.Write", just_now)],
        ),
    );
    app.update(key(KeyCode::F(3)));
    let screen = render(&app, 120, 40);
    let row = screen
        .lines()
        .find(|l| l.contains("▶console-rw"))
        .unwrap_or_default();
    assert!(row.contains("✗✓"), "{screen}");
    assert!(
        screen.contains("second mark: granted in the tenant"),
        "{screen}"
    );
}

#[test]
fn refusal_first_lines_and_scroll_marks() {
    let mut app = with_token(&[]);
    call(&mut app, "Seattle", forbidden("Weather.Read"));
    // The reason and the fix come right under the status; the rest is below the fold, and
    // the border says how much.
    let screen = render(&app, 80, 24);
    let status = screen.find("403 Forbidden").expect("status shown");
    let reason = screen
        .find("✗ the token carries no roles")
        .expect("reason shown");
    let fix = screen.find("fix  Grant the app role").expect("fix shown");
    assert!(status < reason && reason < fix, "{screen}");
    assert!(screen.contains("more ┘"), "{screen}");
    // Scrolled (PgDn in the city box scrolls the Weather pane): both marks.
    app.update(key(KeyCode::PageDown));
    both("refusal_scrolled", &app);
    let screen = render(&app, 80, 24);
    assert!(screen.contains(" · ↓ "), "{screen}");
}

#[test]
fn copy_prompt_is_never_cut() {
    let mut app = with_token(&["Weather.Read"]);
    app.update(key(KeyCode::Tab));
    app.update(ch('y'));
    both("copy_menu", &app);
    app.update(ch('5'));
    both("copy_prompt", &app);
    for (w, h) in [(120, 40), (80, 24), (64, 20)] {
        let screen = render(&app, w, h);
        assert!(screen.contains("y copy it"), "{w}×{h}:\n{screen}");
        assert!(
            screen.contains("n or any other key: cancel"),
            "{w}×{h}:\n{screen}"
        );
        assert!(screen.contains("until it expires"), "{w}×{h}:\n{screen}");
    }
}

#[test]
fn a_secret_entra_calls_expired_is_not_shown_as_valid() {
    let mut p = profile();
    p.secret_expires = Some(now() + chrono::Duration::days(365 * 70));
    let mut app = App::new(&p, options(false));
    step(
        &mut app,
        P0,
        crate::auth::TokenSnapshot {
            last_error: Some(expired_secret_error()),
            ..fresh(&["Weather.Read"], 1)
        },
    );
    app.update(key(KeyCode::BackTab));
    both("config_refused_as_expired", &app);
    let screen = render(&app, 120, 40);
    assert!(
        screen.contains("✗ expired (Entra: AADSTS7000222)"),
        "{screen}"
    );
    assert!(!screen.contains("(in 25"), "{screen}");
}

#[test]
fn azpacr_2_is_named_from_what_the_profile_knows() {
    let token = |acr: &str| {
        let mut t = cached(&["Weather.Read"]);
        Arc::make_mut(&mut t).access_token =
            crate::secret::AccessToken::new(jwt_acr(&["Weather.Read"], acr));
        crate::auth::TokenSnapshot {
            token: Some(t),
            ..fresh(&["Weather.Read"], 1)
        }
    };
    for (kind, label) in [
        ("federated token", "(federated credential)"),
        ("certificate", "(certificate)"),
        ("client secret", "(certificate or"),
    ] {
        let mut app = app(false);
        app.profiles[0].credential.kind = kind;
        step(&mut app, P0, token("2"));
        let screen = render(&app, 120, 40);
        assert!(screen.contains(label), "{kind}:\n{screen}");
    }
    // The signing key's id is a row of its own.
    let mut app = app(false);
    step(&mut app, P0, fresh(&["Weather.Read"], 1));
    app.update(key(KeyCode::Tab));
    app.update(key(KeyCode::End));
    let screen = render(&app, 120, 40);
    assert!(
        screen.contains("kid        sbx-key-1 · alg RS256"),
        "{screen}"
    );
}

/// A 403 answered to a token that came from the persistent cache: the Weather pane says
/// so, with its age, and the fix names the key that gets a fresh one.
#[test]
fn refusal_with_a_cached_token_says_so() {
    let mut app = app(false);
    let mut snap = fresh(&[], 1);
    if let Some(t) = snap.token.as_mut() {
        let t = Arc::make_mut(t);
        t.source = crate::auth::TokenSource::Cache;
        t.acquired_at = now() - chrono::Duration::minutes(20);
    }
    step(&mut app, P0, snap);
    app.update(verified(1, checks_ok()));
    call(&mut app, "Seattle", forbidden("Weather.Read"));
    both("cached_token_403", &app);
    let screen = render(&app, 120, 40);
    assert!(screen.contains("cache"), "{screen}");
    assert!(screen.contains("F5"), "{screen}");
}

/// The identity provider's clock 10 minutes ahead of this machine's (its Date header): the
/// Token pane says which clock is off and by how much.
#[test]
fn clock_skew_is_named_in_the_token_pane() {
    let mut app = app(false);
    let mut snap = fresh(&["Weather.Read"], 1);
    if let Some(t) = snap.token.as_mut() {
        let t = Arc::make_mut(t);
        t.server_date = Some(t.acquired_at + chrono::Duration::minutes(10));
    }
    step(&mut app, P0, snap);
    app.update(verified(1, checks_ok()));
    both("clock_skew", &app);
    let screen = render(&app, 120, 40);
    assert!(
        screen.contains("clock skew: the token endpoint's Date header is 10m 0s ahead of this"),
        "{screen}"
    );
}
