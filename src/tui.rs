//! The terminal dashboard (`tokenscope`) and the zero-set-up demo (`tokenscope demo`).
//!
//! Elm-style: terminal events and background results become [`Msg`]s, [`App::update`]
//! changes state and queues [`Effect`]s, [`view`] draws a pure function of the state, and
//! [`Runtime`] runs the one `select!` loop and performs the effects off the UI task.
//!
//! This module owns the terminal; the core (config, auth, jwt, api, sandbox) knows nothing
//! about it. Logs go to a file, never to the screen the dashboard draws on.

mod app;
mod clip;
mod demo;
#[cfg(test)]
mod fixtures;
mod keymap;
mod memory;
mod msg;
mod runtime;
mod terminal;
mod theme;
mod view;

#[cfg(test)]
mod pictures;
#[cfg(test)]
mod snapshot_tests;
pub mod svg;

use std::path::{Path, PathBuf};

use anyhow::Context as _;

pub use app::{
    ACTIVITY_CAP, App, AppOptions, Completed, ConfigRow, CredentialFacts, Decoded, Entry, Focus,
    HISTORY_CAP, InFlight, Level, LintLine, Overlay, ProfileState, RENEW_WITHIN_DAYS, Scroll,
    Verification, expiry, response_summary,
};
pub use demo::{AdminOp, DemoSetup, DemoState};
pub use keymap::{Action, BINDINGS, Binding};
pub use memory::{DATA_DIR_ENV, Memory, Remembered, data_dir, memory_file};
pub use msg::{CallError, Effect, Msg, ProfileId};
pub use runtime::{Clipboard, EXIT_HOOK_ENV, Runtime};
pub use theme::Theme;
pub use view::{MIN_HEIGHT, MIN_WIDTH, view};

use crate::auth::TokenCache;
use crate::config::{self, Env, LoadOptions, Profile};
use crate::problem::Problem as _;
use crate::sandbox::{Sandbox, SandboxOptions, TenantModel};

/// How `tokenscope` (no subcommand) opens the dashboard.
#[derive(Debug, Clone, Default)]
pub struct DashboardOptions {
    /// Do not read or write the persistent token cache.
    pub no_cache: bool,
    /// Log file; default `tokenscope.log` in the platform data dir.
    pub log_file: Option<PathBuf>,
    /// A profile was named (`--profile`): open it, not the last session's.
    pub profile_given: bool,
    /// Leave the mouse to the terminal (`--no-mouse`; also `mouse = false` in the file).
    pub no_mouse: bool,
}

/// How `tokenscope demo` runs.
#[derive(Debug, Clone, Default)]
pub struct DemoOptions {
    /// Log file; default `tokenscope.log` in the platform data dir.
    pub log_file: Option<PathBuf>,
    /// Serve the sandbox over HTTPS with a throwaway CA.
    pub tls: bool,
    /// Leave the mouse to the terminal, for selecting text (`--no-mouse`).
    pub no_mouse: bool,
}

/// The default log file: `tokenscope.log` in the platform data dir (or
/// `$TOKENSCOPE_DATA_DIR`).
pub fn default_log_file() -> Option<PathBuf> {
    data_dir().map(|d| d.join("tokenscope.log"))
}

/// The dashboard's memory of earlier runs for `scope` (a config file, or the demo), with the
/// file it lives in; a broken file is logged and forgotten.
fn recall(scope: &str) -> (Memory, Remembered, Option<PathBuf>) {
    let Some(path) = memory_file() else {
        return (Memory::default(), Remembered::default(), None);
    };
    let (memory, warning) = Memory::load(&path);
    if let Some(w) = warning {
        tracing::warn!("{w}");
    }
    let r = memory.get(scope);
    (memory, r, Some(path))
}

/// Remember this session for the next one (a failure is logged: it costs only the memory).
fn remember(mut memory: Memory, scope: &str, app: &App, path: Option<PathBuf>) {
    let Some(path) = path else { return };
    memory.set(scope, app.remembered());
    if let Err(e) = memory.save(&path) {
        tracing::warn!(path = %path.display(), error = %e, "cannot write the dashboard's memory");
    }
}

/// Send `tracing` output to a file (never the terminal). Returns the guard that flushes it,
/// or `None` when no file could be opened (logging is then off) or a subscriber exists.
fn init_logging(path: Option<&Path>) -> Option<tracing_appender::non_blocking::WorkerGuard> {
    let path = path.map(Path::to_path_buf).or_else(default_log_file)?;
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty())?;
    std::fs::create_dir_all(dir).ok()?;
    let mut options = std::fs::OpenOptions::new();
    options.create(true).append(true);
    // The log quotes servers' answers: 0600, and an older 0644 log is tightened too.
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let file = options.open(&path).ok()?;
    #[cfg(unix)]
    let _ = file.set_permissions(std::os::unix::fs::PermissionsExt::from_mode(0o600));
    let (writer, guard) = tracing_appender::non_blocking(file);
    let filter = tracing_subscriber::EnvFilter::try_from_env("TOKENSCOPE_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_writer(writer)
        .with_ansi(false)
        .with_env_filter(filter)
        .try_init()
        .ok()?;
    Some(guard)
}

/// Open the dashboard until the user quits, with `profile` active. Every other profile of
/// the same config file is there too (`p` switches, `c` compares); a profile that does not
/// resolve is listed with its error.
pub async fn run_dashboard(profile: Profile, opts: DashboardOptions) -> anyhow::Result<()> {
    let _log = init_logging(opts.log_file.as_deref());
    // The other profiles, from the file: azure-identity's variables (AZURE_CLIENT_ID, a
    // credential, …) override the selected profile only, as in every headless command —
    // applied to all of them, they would make every profile the same app.
    let env = Env::from_process().without_azure_overrides();
    let mut mouse = !opts.no_mouse;
    let mut profiles = match &profile.config_path {
        Some(path) => match config::load_file(
            &LoadOptions {
                config: Some(path.clone()),
                profile: None,
            },
            &env,
        ) {
            Ok(loaded) => {
                mouse &= loaded.file.mouse != Some(false);
                resolved(config::resolve_all(&loaded, &env))
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot re-read the config for the other profiles");
                Vec::new()
            }
        },
        None => Vec::new(),
    };
    let mut active = match profiles.iter().position(|(n, _)| *n == profile.name) {
        Some(i) => {
            profiles[i].1 = Ok(profile.clone());
            i
        }
        None => {
            profiles.insert(0, (profile.name.clone(), Ok(profile.clone())));
            0
        }
    };
    // The last session's profile, unless one was asked for (gone or broken: the default).
    let scope = match &profile.config_path {
        Some(p) => p.display().to_string(),
        None => "(no config file)".into(),
    };
    let (memory, recalled, memory_path) = recall(&scope);
    if !opts.profile_given
        && let Some(i) = recalled.profile_index(profiles.iter().map(|(n, _)| n.as_str()))
        && profiles[i].1.is_ok()
    {
        active = i;
    }
    let first = profiles[active]
        .1
        .clone()
        .unwrap_or_else(|_| profile.clone());
    let profile = first;
    let mut warning = None;
    let cache = if opts.no_cache || !profile.cache {
        None
    } else {
        match TokenCache::open_default() {
            Ok(c) => Some(c),
            Err(e) => {
                warning = Some(format!(
                    "token cache unavailable, continuing without it: {}",
                    e.full_text()
                ));
                None
            }
        }
    };
    let http = http_client(&profile)?;
    let mut runtime = Runtime::with_profiles(
        profiles
            .iter()
            .map(|(_, p)| p.as_ref().ok().cloned())
            .collect(),
        active,
        http,
        cache,
        // A profile whose authority is a local `tokenscope sandbox` gets the admin popup.
        Some(DemoSetup::remote()),
        Clipboard::Osc52,
    );
    let mut app_opts = AppOptions::from_env();
    app_opts.sandbox_admin = true;
    let mut app = App::with_profiles(&profiles, active, app_opts);
    app.restore(&recalled);
    if let Some(w) = warning {
        tracing::warn!("{w}");
        app.update(Msg::Warning(w));
    }
    let result = in_terminal(&mut app, &mut runtime, mouse).await;
    remember(memory, &scope, &app, memory_path);
    result
}

/// [`config::resolve_all`]'s answer with each error as its one-line summary (what the
/// picker and the compare view show).
pub fn resolved(
    all: Vec<(String, Result<Profile, config::ConfigError>)>,
) -> Vec<(String, Result<Profile, String>)> {
    use crate::problem::Problem as _;
    all.into_iter()
        .map(|(n, r)| (n, r.map_err(|e| e.summary())))
        .collect()
}

/// The demo's entry in the dashboard's memory (its profiles are the sandbox's clients).
const DEMO_SCOPE: &str = "demo";

/// Start the sandbox tenant in-process, point a generated config at it and open the
/// dashboard with the demo admin popup. The sandbox stops when the dashboard closes.
pub async fn run_demo(opts: DemoOptions) -> anyhow::Result<()> {
    let _log = init_logging(opts.log_file.as_deref());
    // Take the terminal and draw at once: starting the sandbox can take a moment (its keys
    // are generated on the first run), and a blank terminal meanwhile looks like a hang.
    let mut session =
        terminal::Session::start(!opts.no_mouse).context("cannot set up the terminal")?;
    let _ = session.terminal.draw(|f| {
        let area = f.area();
        let text = ratatui::widgets::Paragraph::new(vec![
            ratatui::text::Line::from(" tokenscope"),
            ratatui::text::Line::from(" starting the local sandbox tenant…"),
        ]);
        f.render_widget(text, area);
    });
    if std::env::var(runtime::EXIT_HOOK_ENV).is_ok_and(|v| v == "1") {
        return Ok(());
    }
    demo_in_terminal(opts, &mut session).await
}

async fn demo_in_terminal(
    opts: DemoOptions,
    session: &mut terminal::Session,
) -> anyhow::Result<()> {
    let tenant = TenantModel::builtin();
    let api_roles = tenant
        .api
        .app_roles
        .iter()
        .map(|r| r.value.clone())
        .collect();
    // Keys kept across runs: RSA key generation would otherwise be most of the start-up.
    let start = Sandbox::start(SandboxOptions {
        tls: opts.tls,
        tenant,
        key_store: crate::sandbox::default_key_store(),
        ..SandboxOptions::default()
    });
    // A signal during start-up ends it here, with nothing left behind.
    let sandbox = tokio::select! {
        s = start => s.map_err(|e| anyhow::anyhow!("cannot start the sandbox tenant: {}", e.report()))?,
        Some(_) = session.interrupted() => return Ok(()),
    };
    let dir = DemoDir::create().context("cannot create a directory for the demo config")?;
    let path = dir.0.join("config.toml");
    sandbox
        .write_config(&path)
        .with_context(|| format!("cannot write the demo config {}", path.display()))?;
    // An empty environment: the user's AZURE_* variables must not bend the demo profiles.
    let env = Env::default();
    let loaded = config::load_file(
        &LoadOptions {
            config: Some(path),
            profile: None,
        },
        &env,
    )
    .context("the generated demo config does not load")?;
    // The default profile first; every sandbox client's profile one key away.
    let first =
        config::resolve(&loaded, None, &env).context("the generated demo config does not load")?;
    let profiles = resolved(config::resolve_all(&loaded, &env));
    let (memory, recalled, memory_path) = recall(DEMO_SCOPE);
    let active = recalled
        .profile_index(profiles.iter().map(|(n, _)| n.as_str()))
        .filter(|i| profiles[*i].1.is_ok())
        .or_else(|| profiles.iter().position(|(n, _)| *n == first.name))
        .unwrap_or(0);
    let first = match &profiles[active].1 {
        Ok(p) => p.clone(),
        Err(_) => first,
    };
    let http = http_client(&first)?;
    let sandbox = std::sync::Arc::new(sandbox);
    // No persistent cache: a previous demo's tokens name another issuer (the port changes).
    let mut runtime = Runtime::with_profiles(
        profiles
            .iter()
            .map(|(_, p)| p.as_ref().ok().cloned())
            .collect(),
        active,
        http,
        None,
        Some(DemoSetup::new(sandbox.clone(), api_roles)),
        Clipboard::Osc52,
    );
    let mut opts = AppOptions::from_env();
    opts.demo = runtime.demo_state(active);
    let mut app = App::with_profiles(&profiles, active, opts);
    app.restore(&recalled);
    let result = with_terminal(&mut app, &mut runtime, session).await;
    remember(memory, DEMO_SCOPE, &app, memory_path);
    drop(runtime);
    if let Ok(sandbox) = std::sync::Arc::try_unwrap(sandbox) {
        sandbox.shutdown().await;
    }
    drop(dir);
    result
}

fn http_client(profile: &Profile) -> anyhow::Result<reqwest::Client> {
    crate::http::client(&profile.http_options())
        .map_err(|e| anyhow::anyhow!(e.full_text()))
        .context("cannot set up the HTTP client")
}

/// Take over the terminal (raw mode, alternate screen, bracketed paste, the mouse when
/// `mouse`, panic hook, signal handlers), run, and give it back — on quit, on every
/// catchable signal, on a panic.
async fn in_terminal(app: &mut App, runtime: &mut Runtime, mouse: bool) -> anyhow::Result<()> {
    let mut session = terminal::Session::start(mouse).context("cannot set up the terminal")?;
    with_terminal(app, runtime, &mut session).await
}

/// Run the dashboard on a terminal session; dropping the session restores the terminal.
async fn with_terminal(
    app: &mut App,
    runtime: &mut Runtime,
    session: &mut terminal::Session,
) -> anyhow::Result<()> {
    runtime.exit_hook_from_env();
    if let Some(interrupts) = session.take_interrupts() {
        runtime.attach(interrupts);
    }
    app.run(
        runtime,
        &mut session.terminal,
        crossterm::event::EventStream::new(),
    )
    .await
}

/// A private temporary directory for the demo config, removed on drop.
struct DemoDir(PathBuf);

impl DemoDir {
    fn create() -> std::io::Result<DemoDir> {
        let path = std::env::temp_dir().join(format!("tokenscope-demo-{}", uuid::Uuid::new_v4()));
        let mut b = std::fs::DirBuilder::new();
        #[cfg(unix)]
        {
            use std::os::unix::fs::DirBuilderExt as _;
            b.mode(0o700);
        }
        b.create(&path)?;
        Ok(DemoDir(path))
    }
}

impl Drop for DemoDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
