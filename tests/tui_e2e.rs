//! The real dashboard loop, driven by scripted keys against an in-process sandbox tenant,
//! read back from a TestBackend: the journeys of SCENARIOS.md as a user sees them —
//! a verified token and a weather card; a revoked role → 403 explained; the lecture's
//! changed required role (Weather.Admin) → 403 explained → grant, refresh → 200; an expired
//! secret → AADSTS7000222 with what to do; a rotated signing key → verified again; every
//! profile of the demo config: switch to the read-only mobile app, compare who holds which
//! role, call the API as each.

#[path = "fixtures/support.rs"]
mod support;
use support::{Dashboard, WAIT};

use std::sync::{Arc, Mutex};

use crossterm::event::KeyCode;
use tokenscope::config::{self, Env, LoadOptions};
use tokenscope::sandbox::{SandboxHandle, SandboxOptions, TenantModel};
use tokenscope::tui::{App, AppOptions, Clipboard, DemoSetup, Runtime, Theme};

/// The dashboard in demo mode against a fresh sandbox, with scripted input.
struct Demo {
    sandbox: Arc<SandboxHandle>,
    ui: Dashboard,
    clipboard: Arc<Mutex<Vec<String>>>,
    _dir: tempfile::TempDir,
}

impl Demo {
    async fn start(width: u16, height: u16) -> Demo {
        Demo::start_with(width, height, false).await
    }

    /// Like the real `tokenscope demo`: every profile of the generated config, console-rw
    /// active.
    async fn start_all(width: u16, height: u16) -> Demo {
        Demo::start_with(width, height, true).await
    }

    async fn start_with(width: u16, height: u16, all: bool) -> Demo {
        let tenant = TenantModel::builtin();
        let api_roles = tenant
            .api
            .app_roles
            .iter()
            .map(|r| r.value.clone())
            .collect();
        let sandbox = support::sandbox(SandboxOptions::default()).await;
        let dir = tempfile::tempdir().unwrap();
        let path = support::sandbox_config(&sandbox, dir.path());
        let profile = support::load_profile(&path, None, &Env::default());
        assert_eq!(profile.name, "console-rw");
        let http = support::client(&profile);
        let sandbox = Arc::new(sandbox);
        let clipboard = Arc::new(Mutex::new(Vec::new()));
        let setup = DemoSetup::new(sandbox.clone(), api_roles);
        // As the demo does: an empty environment, every profile, the default one active.
        let profiles = if all {
            let loaded = config::load_file(
                &LoadOptions {
                    config: Some(path.clone()),
                    profile: None,
                },
                &Env::default(),
            )
            .unwrap();
            tokenscope::tui::resolved(config::resolve_all(&loaded, &Env::default()))
        } else {
            vec![(profile.name.clone(), Ok(profile.clone()))]
        };
        let active = profiles
            .iter()
            .position(|(n, _)| *n == profile.name)
            .unwrap();
        let rt = Runtime::with_profiles(
            profiles
                .iter()
                .map(|(_, p)| p.as_ref().ok().cloned())
                .collect(),
            active,
            http,
            None,
            Some(setup),
            Clipboard::Memory(clipboard.clone()),
        );
        let mut opts = AppOptions::from_env();
        opts.theme = Theme::new(false);
        opts.demo = rt.demo_state(active);
        let app = App::with_profiles(&profiles, active, opts);
        Demo {
            sandbox,
            ui: Dashboard::run(app, rt, width, height),
            clipboard,
            _dir: dir,
        }
    }

    /// Wait until the screen shows every one of `needles`; panic with the screen if not.
    async fn wait_for(&mut self, needles: &[&str]) -> String {
        self.ui.wait_for(needles).await
    }

    fn keys(&self, codes: impl IntoIterator<Item = KeyCode>) {
        self.ui.keys(codes);
    }

    fn typed(&self, s: &str) {
        self.ui.typed(s);
    }

    /// Wait until the compare table's row for `profile` shows `needle`.
    async fn wait_row(&mut self, profile: &str, needle: &str) -> String {
        let what = format!("the {profile} row to show {needle:?}");
        support::wait_until(&mut self.ui.frames, &what, |screen| {
            screen
                .lines()
                .any(|l| is_row(l, profile) && l.contains(needle))
        })
        .await
    }

    /// The profile names in the order the dashboard lists them.
    fn profile_names(&self) -> Vec<String> {
        let path = self._dir.path().join("config.toml");
        let loaded = config::load_file(
            &LoadOptions {
                config: Some(path),
                profile: None,
            },
            &Env::default(),
        )
        .unwrap();
        config::resolve_all(&loaded, &Env::default())
            .into_iter()
            .map(|(n, _)| n)
            .collect()
    }

    /// `q` (focus must not be in the city box), then the loop ends and the sandbox stops.
    async fn quit(self) {
        self.keys([KeyCode::Char('q')]);
        tokio::time::timeout(WAIT, self.ui.ui)
            .await
            .expect("the app quits in time")
            .expect("the app task does not panic")
            .expect("the app loop ends cleanly");
        if let Ok(sandbox) = Arc::try_unwrap(self.sandbox) {
            tokio::time::timeout(WAIT, sandbox.shutdown())
                .await
                .unwrap();
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn weather_card_then_403_after_revoking_the_role() {
    let mut d = Demo::start(120, 40).await;

    // Scenario 1: a token shows up by itself, verified; Seattle gives a weather card.
    d.wait_for(&[
        "● fresh",
        "✓ Weather.Read",
        "idtyp      app",
        "verified   ✓ signature ✓ issuer ✓ audience ✓ tenant ✓ lifetime",
    ])
    .await;
    d.typed("Seattle");
    d.keys([KeyCode::Enter]);
    d.wait_for(&["200 OK", "temperature", "humidity"]).await;

    // Copy the last call as curl (no token in it), then the token: only after the
    // confirmation.
    d.keys([KeyCode::Tab, KeyCode::Char('y')]);
    d.wait_for(&["3 the last call as a curl command"]).await;
    d.keys([KeyCode::Char('3')]);
    d.wait_for(&["copied the curl command"]).await;
    {
        let clips = d.clipboard.lock().unwrap();
        let curl = clips.last().unwrap();
        assert!(curl.starts_with("curl -sS --globoff"), "{curl}");
        assert!(curl.contains("\"Authorization: Bearer $TOKEN\""), "{curl}");
        assert!(curl.contains("/api/weather/Seattle"), "{curl}");
        assert!(!curl.contains("eyJ"), "no token in it: {curl}");
    }
    d.keys([KeyCode::Char('y')]);
    d.keys([KeyCode::Char('5')]);
    d.wait_for(&["Copy the access token?"]).await;
    d.keys([KeyCode::Char('y')]);
    d.wait_for(&["copied the access token"]).await;
    assert_eq!(d.clipboard.lock().unwrap().len(), 2);
    assert!(d.clipboard.lock().unwrap()[1].starts_with("eyJ"));

    // Revoke the role in the admin popup, refresh, call again: 403 explained.
    d.keys([KeyCode::Char('a')]);
    d.wait_for(&["Demo admin", "Revoke Weather.Read from console-rw"])
        .await;
    d.keys([KeyCode::Char('1')]);
    d.wait_for(&["sandbox: revoked Weather.Read"]).await;
    assert!(
        !d.sandbox
            .client("console-rw")
            .unwrap()
            .granted_roles
            .contains(&"Weather.Read".to_string())
    );
    d.keys([KeyCode::Char('r')]);
    d.wait_for(&["✗ Weather.Read", "refreshed: new token"])
        .await;
    d.keys([KeyCode::Enter]);
    let screen = d
        .wait_for(&[
            "403 Forbidden",
            "✗ the token carries Weather.Write; the API requires Weather.Read",
            "insufficient_scope",
        ])
        .await;
    assert!(screen.contains("IDW10203"), "{screen}");
    assert!(
        screen.contains("fix  Grant the app role Weather.Read"),
        "{screen}"
    );
    d.quit().await;
}

/// SCENARIOS.md 2, the lecture's deliberate break: the API now requires a role the client
/// does not hold. Wide enough that the one-line diagnosis is not wrapped.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_requires_weather_admin_then_granted() {
    let mut d = Demo::start(200, 50).await;
    d.wait_for(&["● fresh", "verified   ✓ signature"]).await;
    d.typed("Seattle");
    d.keys([KeyCode::Enter]);
    d.wait_for(&["200 OK", "temperature"]).await;

    // The popup offers every API role: grant/revoke each, require each other one.
    d.keys([KeyCode::Tab, KeyCode::Char('a')]);
    d.wait_for(&[
        "1  Revoke Weather.Read from console-rw",
        "2  Revoke Weather.Write from console-rw",
        "3  Grant Weather.Admin to console-rw",
        "4  Make the API require Weather.Write",
        "5  Make the API require Weather.Admin",
    ])
    .await;
    d.keys([KeyCode::Char('5')]);
    d.wait_for(&["sandbox: the weather API now requires Weather.Admin"])
        .await;
    assert_eq!(d.sandbox.required_role(), "Weather.Admin");

    d.keys([KeyCode::Enter]);
    let screen = d
        .wait_for(&[
            "403 Forbidden",
            "✗ the token carries Weather.Read, Weather.Write; the API requires Weather.Admin",
            "fix  Grant the app role Weather.Admin to this client and give admin consent",
        ])
        .await;
    assert!(
        screen.contains("IDW10203: The \"role\" claim does not contain role Weather.Admin"),
        "the API's own message is shown:\n{screen}"
    );

    // Grant the role, refresh: the Activity pane logs the new token and its roles.
    d.keys([KeyCode::Char('a')]);
    d.wait_for(&["3  Grant Weather.Admin to console-rw"]).await;
    d.keys([KeyCode::Char('3')]);
    d.wait_for(&["sandbox: granted Weather.Admin to console-rw"])
        .await;
    d.keys([KeyCode::Char('r')]);
    d.wait_for(&[
        "refreshed: new token",
        "Weather.Write, Weather.Admin",
        // The role the API named in its 403 is counted as required: now granted.
        "roles      ✓ Weather.Read ✓ Weather.Write ✓ Weather.Admin",
    ])
    .await;
    d.keys([KeyCode::Enter]);
    let screen = d.wait_for(&["200 OK", "temperature"]).await;
    assert!(!screen.contains("403 Forbidden"), "{screen}");
    d.quit().await;
}

/// SCENARIOS.md 3: the secret expires; the Token pane names the AADSTS code, Entra's first
/// sentence and what to do, while the still-valid token keeps being served.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_secret_shows_aadsts_advice() {
    let mut d = Demo::start(200, 50).await;
    d.wait_for(&["● fresh", "verified   ✓ signature"]).await;
    d.keys([KeyCode::Tab, KeyCode::Char('a')]);
    d.wait_for(&["8  Expire console-rw's client secret"]).await;
    d.keys([KeyCode::Char('8')]);
    d.wait_for(&["sandbox: console-rw's secrets expired"]).await;
    d.keys([KeyCode::Char('r')]);
    let screen = d
        .wait_for(&[
            "✗ AADSTS7000222: The provided client secret keys for app",
            "why  Client secrets have an expiry date",
            "fix  App registrations → your client app → Certificates & secrets",
            "the current token is still served until it expires",
        ])
        .await;
    assert!(!screen.contains("stack backtrace"), "{screen}");
    d.quit().await;
}

/// A rotated signing key: the current token is verified again (its key stays published),
/// and the next token, signed with the new key, verifies too (the verifier refetches the
/// JWKS for the unknown kid).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotated_key_is_verified_again() {
    let mut d = Demo::start(200, 50).await;
    d.wait_for(&["● fresh", "verified   ✓ signature"]).await;
    let before = d.sandbox.signing_key_ids();
    d.keys([KeyCode::Tab, KeyCode::Char('a')]);
    d.wait_for(&["7  Rotate the signing key"]).await;
    d.keys([KeyCode::Char('7')]);
    d.wait_for(&["sandbox: rotated the signing key"]).await;
    let after = d.sandbox.signing_key_ids();
    assert_ne!(before, after);
    d.keys([KeyCode::Char('r')]);
    d.wait_for(&["refreshed: new token", "verified   ✓ signature"])
        .await;
    // Three verifications, all good: the first token, the same after the rotation, the new one.
    let screen = support::wait_until(&mut d.ui.frames, "three verifications", |s| {
        s.matches("token verified: signature").count() >= 3
    })
    .await;
    assert!(!screen.contains("verify: ✗"), "{screen}");
    d.quit().await;
}

/// `line` is the compare table's row for `profile` (selected, with ▶, or not).
fn is_row(line: &str, profile: &str) -> bool {
    line.contains(&format!("│ {profile} ")) || line.contains(&format!("│▶{profile} "))
}

/// The symbol in `row`'s line of the compare table under the column headed `header`.
fn cell(screen: &str, row: &str, header: &str) -> String {
    let lines: Vec<Vec<char>> = screen.lines().map(|l| l.chars().collect()).collect();
    let find = |line: &[char], needle: &str| {
        let n: Vec<char> = needle.chars().collect();
        line.windows(n.len()).position(|w| w == n.as_slice())
    };
    let head = lines
        .iter()
        .find(|l| find(l, "profile").is_some() && find(l, header).is_some())
        .unwrap_or_else(|| panic!("no header {header:?} in:\n{screen}"));
    let col = find(head, header).unwrap();
    let line = lines
        .iter()
        .find(|l| is_row(&l.iter().collect::<String>(), row))
        .unwrap_or_else(|| panic!("no row {row:?} in:\n{screen}"));
    line[col].to_string()
}

/// SCENARIOS.md 5, with the sandbox's clients: switch to the read-only mobile app with the
/// picker and call (200); then the compare view shows every profile's roles against the
/// role the API requires, and `a` calls the API as each: no-roles is refused; Enter on a row
/// switches to its profile.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn switch_profile_then_compare_every_profile() {
    let mut d = Demo::start_all(120, 40).await;
    d.wait_for(&["profile console-rw (", "● fresh", "verified   ✓ signature"])
        .await;
    let names = d.profile_names();
    let mobile = names.iter().position(|n| n == "mobile-ro").unwrap();
    assert!(mobile < 9, "{names:?}");

    // p types in the city box; F2 opens the picker from there.
    d.typed("p");
    d.wait_for(&["› p"]).await;
    d.keys([KeyCode::Esc, KeyCode::F(2)]);
    d.wait_for(&["Profiles", "mobile-ro", "— not visited yet"])
        .await;
    d.keys([KeyCode::Char(char::from(b'1' + mobile as u8))]);
    d.wait_for(&[
        "profile mobile-ro (",
        "switched to profile mobile-ro",
        "roles      ✓ Weather.Read",
        "verified   ✓ signature",
    ])
    .await;
    d.typed("Seattle");
    d.keys([KeyCode::Enter]);
    let screen = d.wait_for(&["200 OK", "temperature"]).await;
    assert!(screen.contains("client id 808a3c2d"), "{screen}");

    // The compare view starts the other managers; every row fills in.
    d.keys([KeyCode::F(3)]);
    let screen = support::wait_until(&mut d.ui.frames, "the compare view to fill in", |s| {
        s.contains("Compare profiles")
            && ["console-rw", "no-roles", "mobile-ro"]
                .iter()
                .all(|n| cell(s, n, "Weather.Read*") != "—")
    })
    .await;
    // The lecture at a glance: read-only mobile, read-write console, no roles at all.
    assert_eq!(cell(&screen, "mobile-ro", "Weather.Read*"), "✓", "{screen}");
    assert_eq!(cell(&screen, "mobile-ro", "Weather.Write"), "✗", "{screen}");
    assert_eq!(
        cell(&screen, "console-rw", "Weather.Read*"),
        "✓",
        "{screen}"
    );
    assert_eq!(
        cell(&screen, "console-rw", "Weather.Write"),
        "✓",
        "{screen}"
    );
    assert_eq!(cell(&screen, "no-roles", "Weather.Read*"), "✗", "{screen}");
    assert!(
        screen.contains("200 Seattle"),
        "mobile-ro's call:\n{screen}"
    );

    // `a` calls the API as every profile with the same city: each row gets its answer.
    d.keys([KeyCode::Char('a')]);
    d.wait_row("no-roles", "403 IDW10203").await;
    d.wait_row("console-rw", "200 Seattle").await;
    d.wait_row("expired-secret", "✗ no token").await;
    let screen = d.wait_row("expired-secret", "✗ AADSTS7000222").await;
    assert!(screen.contains("(the sandbox's weather API)"), "{screen}");
    // ↑/↓ select a row and Enter switches to that profile, closing the view.
    let no_roles = names.iter().position(|n| n == "no-roles").unwrap();
    let steps = (no_roles + names.len() - mobile) % names.len();
    d.keys(std::iter::repeat_n(KeyCode::Down, steps));
    d.keys([KeyCode::Enter]);
    let screen = d
        .wait_for(&["profile no-roles (", "switched to profile no-roles"])
        .await;
    assert!(!screen.contains("Compare profiles"), "{screen}");
    d.keys([KeyCode::Tab]);
    d.quit().await;
}

/// SCENARIOS.md 6 and 7 in the Setup view: Weather.Admin configured but never consented is
/// the broken link; once granted (with the tenant's propagation delay) the token on screen
/// predates the grant; `w` asks for new tokens until the role is in one, then calls again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn setup_view_shows_the_broken_link_and_waits_for_the_grant() {
    let mut d = Demo::start(160, 50).await;
    d.wait_for(&["● fresh", "verified   ✓ signature"]).await;
    d.sandbox
        .configure_role("console-rw", "Weather.Admin")
        .unwrap();
    d.sandbox.set_required_role("Weather.Admin").unwrap();
    d.typed("Seattle");
    d.keys([KeyCode::Enter]);
    d.wait_for(&["403 Forbidden"]).await;
    d.keys([KeyCode::F(4)]);
    d.wait_for(&[
        "Setup · console-rw",
        "broken here",
        "Weather.Admin is configured on the client but admin consent was never granted",
    ])
    .await;
    // Grant it; new tokens carry it only after the delay.
    d.sandbox.set_grant_delay(std::time::Duration::from_secs(3));
    d.sandbox.grant_role("console-rw", "Weather.Admin").unwrap();
    d.keys([KeyCode::Char('r')]);
    d.wait_for(&["✓ granted", "✗ in token"]).await;
    d.keys([KeyCode::Char('w')]);
    d.wait_for(&["waiting for Weather.Admin to reach new tokens"])
        .await;
    d.wait_for(&["Weather.Admin is in the new token; calling the API for Seattle again"])
        .await;
    d.keys([KeyCode::Esc]);
    let screen = d.wait_for(&["200 OK", "temperature"]).await;
    assert!(!screen.contains("403 Forbidden"), "{screen}");
    d.keys([KeyCode::Tab]);
    d.quit().await;
}

/// The dashboard (not the demo) against a running sandbox: the profile's authority is a
/// loopback address, so the start-up probe finds the sandbox's admin routes and the `a` popup
/// changes the tenant over HTTP — the required role, and the clock skew knob.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_admin_popup_works_against_a_running_sandbox() {
    let sandbox = Arc::new(support::sandbox(SandboxOptions::default()).await);
    let dir = tempfile::tempdir().unwrap();
    let path = support::sandbox_config(&sandbox, dir.path());
    let profile = support::load_profile(&path, None, &Env::default());
    let http = support::client(&profile);
    let profiles = vec![(profile.name.clone(), Ok(profile.clone()))];
    let rt = Runtime::with_profiles(
        vec![Some(profile.clone())],
        0,
        http,
        None,
        Some(DemoSetup::remote()),
        Clipboard::Memory(Arc::new(Mutex::new(Vec::new()))),
    );
    let mut opts = AppOptions::from_env();
    opts.theme = Theme::new(false);
    opts.sandbox_admin = true;
    let app = App::with_profiles(&profiles, 0, opts);
    let mut ui = Dashboard::run(app, rt, 120, 40);
    let port = sandbox.local_addr().port();
    ui.wait_for(&[&format!("sandbox at 127.0.0.1:{port}"), "● fresh"])
        .await;
    ui.keys([KeyCode::Tab, KeyCode::Char('a')]);
    let screen = ui
        .wait_for(&[
            "Sandbox admin · 127.0.0.1",
            "Make the API require Weather.Write",
        ])
        .await;
    ui.keys([KeyCode::Char(popup_key(
        &screen,
        "Make the API require Weather.Write",
    ))]);
    ui.wait_for(&["sandbox: the weather API now"]).await;
    assert_eq!(sandbox.required_role(), "Weather.Write");
    // Past row 9 the keys are letters: the clock skew knob is one of them.
    ui.keys([KeyCode::Char('a')]);
    let screen = ui
        .wait_for(&["Move the sandbox's clock 10m 0s ahead"])
        .await;
    let key = popup_key(&screen, "Move the sandbox's clock 10m 0s ahead");
    assert!(key.is_ascii_lowercase(), "{key:?}\n{screen}");
    ui.keys([KeyCode::Char(key)]);
    ui.wait_for(&["sandbox: the sandbox's clock"]).await;
    assert_eq!(sandbox.clock_offset().num_seconds(), 600);
    ui.keys([KeyCode::Char('a')]);
    ui.wait_for(&["clock 10m 0s ahead", "Set the sandbox's clock right again"])
        .await;
    ui.keys([KeyCode::Esc]);
    ui.quit().await;
}

/// The key the admin popup shows before `label`.
fn popup_key(screen: &str, label: &str) -> char {
    screen
        .lines()
        .find_map(|l| {
            let at = l.find(label)?;
            l[..at].trim_end().chars().last()
        })
        .unwrap_or_else(|| panic!("no row {label:?} in:\n{screen}"))
}
