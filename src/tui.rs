//! The terminal dashboard (`tokenscope`) and the zero-set-up demo (`tokenscope demo`).
//!
//! Elm-style: terminal events and background results become [`Msg`]s, [`App::update`]
//! changes state and queues [`Effect`]s, [`view`] draws a pure function of the state, and
//! [`Runtime`] runs the one `select!` loop and performs the effects off the UI task.
//!
//! This module owns the terminal; the core (config, auth, jwt, api, sandbox) knows nothing
//! about it. Logs go to a file, never to the screen the dashboard draws on.

mod app;
mod demo;
mod explain;
#[cfg(test)]
mod fixtures;
mod keymap;
mod msg;
mod runtime;
mod theme;
mod view;

#[cfg(test)]
mod snapshot_tests;

use std::path::{Path, PathBuf};

use anyhow::Context as _;

pub use app::{
    ACTIVITY_CAP, App, AppOptions, Completed, ConfigRow, CredentialFacts, Decoded, Entry, Focus,
    HISTORY_CAP, InFlight, Level, LintLine, Overlay, ProfileState, RENEW_WITHIN_DAYS, Scroll,
    Verification, expiry, response_summary,
};
pub use demo::{AdminOp, DemoSetup, DemoState};
pub use explain::advice;
pub use keymap::{Action, BINDINGS, Binding};
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
}

/// How `tokenscope demo` runs.
#[derive(Debug, Clone, Default)]
pub struct DemoOptions {
    /// Log file; default `tokenscope.log` in the platform data dir.
    pub log_file: Option<PathBuf>,
    /// Serve the sandbox over HTTPS with a throwaway CA.
    pub tls: bool,
}

/// The default log file: `tokenscope.log` in the platform data dir.
pub fn default_log_file() -> Option<PathBuf> {
    directories::ProjectDirs::from("", "", "tokenscope")
        .map(|d| d.data_dir().join("tokenscope.log"))
}

/// Send `tracing` output to a file (never the terminal). Returns the guard that flushes it,
/// or `None` when no file could be opened (logging is then off) or a subscriber exists.
fn init_logging(path: Option<&Path>) -> Option<tracing_appender::non_blocking::WorkerGuard> {
    let path = path.map(Path::to_path_buf).or_else(default_log_file)?;
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty())?;
    std::fs::create_dir_all(dir).ok()?;
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .ok()?;
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
    let mut profiles = match &profile.config_path {
        Some(path) => match config::load_file(
            &LoadOptions {
                config: Some(path.clone()),
                profile: None,
            },
            &env,
        ) {
            Ok(loaded) => resolved(config::resolve_all(&loaded, &env)),
            Err(e) => {
                tracing::warn!(error = %e, "cannot re-read the config for the other profiles");
                Vec::new()
            }
        },
        None => Vec::new(),
    };
    let active = match profiles.iter().position(|(n, _)| *n == profile.name) {
        Some(i) => {
            profiles[i].1 = Ok(profile.clone());
            i
        }
        None => {
            profiles.insert(0, (profile.name.clone(), Ok(profile.clone())));
            0
        }
    };
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
        None,
        Clipboard::Osc52,
    );
    let mut app = App::with_profiles(&profiles, active, AppOptions::from_env());
    if let Some(w) = warning {
        tracing::warn!("{w}");
        app.update(Msg::Warning(w));
    }
    in_terminal(&mut app, &mut runtime).await
}

/// [`config::resolve_all`]'s answer with each error as text (what the picker shows).
pub fn resolved(
    all: Vec<(String, Result<Profile, config::ConfigError>)>,
) -> Vec<(String, Result<Profile, String>)> {
    all.into_iter()
        .map(|(n, r)| (n, r.map_err(|e| e.to_string())))
        .collect()
}

/// Start the sandbox tenant in-process, point a generated config at it and open the
/// dashboard with the demo admin popup. The sandbox stops when the dashboard closes.
pub async fn run_demo(opts: DemoOptions) -> anyhow::Result<()> {
    let _log = init_logging(opts.log_file.as_deref());
    // Take the terminal and draw at once: starting the sandbox (RSA-2048 key generation)
    // takes 25–200 ms, and a blank terminal meanwhile looks like a hang.
    let mut terminal = ratatui::try_init().context("cannot set up the terminal")?;
    let _ = terminal.draw(|f| {
        let area = f.area();
        let text = ratatui::widgets::Paragraph::new(vec![
            ratatui::text::Line::from(" tokenscope"),
            ratatui::text::Line::from(" starting the local sandbox tenant…"),
        ]);
        f.render_widget(text, area);
    });
    if std::env::var(runtime::EXIT_HOOK_ENV).is_ok_and(|v| v == "1") {
        ratatui::restore();
        return Ok(());
    }
    let result = demo_in_terminal(opts, &mut terminal).await;
    ratatui::restore();
    result
}

async fn demo_in_terminal(
    opts: DemoOptions,
    terminal: &mut ratatui::DefaultTerminal,
) -> anyhow::Result<()> {
    let tenant = TenantModel::builtin();
    let api_roles = tenant
        .api
        .app_roles
        .iter()
        .map(|r| r.value.clone())
        .collect();
    // Keys kept across runs: RSA key generation would otherwise be most of the start-up.
    let sandbox = Sandbox::start(SandboxOptions {
        tls: opts.tls,
        tenant,
        key_store: crate::sandbox::default_key_store(),
        ..SandboxOptions::default()
    })
    .await
    .map_err(|e| anyhow::anyhow!("cannot start the sandbox tenant: {}", e.report()))?;
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
    let active = profiles
        .iter()
        .position(|(n, _)| *n == first.name)
        .unwrap_or(0);
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
    let result = with_terminal(&mut app, &mut runtime, terminal).await;
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

/// Take over the terminal (raw mode, alternate screen, panic hook), run, and give it back —
/// also on SIGTERM/SIGHUP, which arrive as [`Msg::Quit`].
async fn in_terminal(app: &mut App, runtime: &mut Runtime) -> anyhow::Result<()> {
    let mut terminal = ratatui::try_init().context("cannot set up the terminal")?;
    let result = with_terminal(app, runtime, &mut terminal).await;
    ratatui::restore();
    result
}

/// Run the dashboard on a terminal already taken over; the caller restores it.
async fn with_terminal(
    app: &mut App,
    runtime: &mut Runtime,
    terminal: &mut ratatui::DefaultTerminal,
) -> anyhow::Result<()> {
    runtime.exit_hook_from_env();
    let signals = spawn_signal_task(runtime.sender());
    let result = app
        .run(runtime, terminal, crossterm::event::EventStream::new())
        .await;
    if let Some(s) = signals {
        s.abort();
    }
    result
}

#[cfg(unix)]
fn spawn_signal_task(tx: tokio::sync::mpsc::Sender<Msg>) -> Option<tokio::task::JoinHandle<()>> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate()).ok()?;
    let mut hup = signal(SignalKind::hangup()).ok()?;
    Some(tokio::spawn(async move {
        tokio::select! {
            _ = term.recv() => {}
            _ = hup.recv() => {}
        }
        tracing::info!("signal received; quitting");
        let _ = tx.send(Msg::Quit).await;
    }))
}

#[cfg(not(unix))]
fn spawn_signal_task(_tx: tokio::sync::mpsc::Sender<Msg>) -> Option<tokio::task::JoinHandle<()>> {
    None
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
