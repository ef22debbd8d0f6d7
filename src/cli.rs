//! The headless command line: argument definitions, the commands, exit codes, and how a
//! failure is printed (`error: …`, then `hint: …`). Everything is printed through [`out`]
//! (sanitised, quiet when the reader goes away); a panic anywhere in a command ends it with
//! exit 5 and "internal error", never Rust's 101.
//!
//! A front end: it may use every core module and the sandbox; nothing imports it but
//! `main.rs`.
//!
//! Exit codes (documented in README.md):
//! 0 ok · 1 `doctor` / `setup` found a problem · 2 usage or config error · 3 token
//! acquisition failed (also: no Graph token, Graph refused, a role that never reached the
//! token) · 4 the API refused (401/403) · 5 other API or network failure.

mod decode_cmd;
mod doctor_cmd;
mod out;
mod render;
mod setup_cmd;
mod token_cmd;

use out::{errln, outln};

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use serde_json::json;

use crate::config::{self, ConfigError, Env, LoadOptions, Profile};
use crate::problem::Problem;

/// Exit code: success.
pub const EXIT_OK: u8 = 0;
/// Exit code: bad usage, bad config or bad input.
pub const EXIT_USAGE: u8 = 2;
/// Exit code: no token could be acquired.
pub const EXIT_TOKEN: u8 = 3;
/// Exit code: the API answered 401 or 403.
pub const EXIT_REFUSED: u8 = 4;
/// Exit code: any other API or network failure (5xx, connection refused, timeout…).
pub const EXIT_API: u8 = 5;

#[derive(Debug, Parser)]
#[command(
    name = "tokenscope",
    version,
    about = "See what Entra ID hands a daemon app, and why a protected API lets it in or shuts it out.",
    after_help = "Exit codes: 0 ok, 1 doctor/setup found a problem, 2 usage/config, 3 token acquisition failed (or no Graph token, Graph refused, the awaited role never came), 4 API refused (401/403), 5 other API or network failure."
)]
pub struct Cli {
    /// Config file (default: $TOKENSCOPE_CONFIG, then config.toml in the platform config dir).
    #[arg(long, global = true, value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// Profile to use (default: the file's default_profile).
    #[arg(long, short = 'p', global = true, value_name = "NAME")]
    pub profile: Option<String>,
    /// Do not read or write the persistent token cache.
    #[arg(long, global = true)]
    pub no_cache: bool,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Acquire an app-only token and show its claims and expiry.
    Token {
        /// Machine-readable output (stable; see README).
        #[arg(long)]
        json: bool,
        /// Also print the raw access token (alone, unless --json). It is a credential.
        #[arg(long)]
        raw: bool,
    },
    /// Acquire a token and call the protected weather API for CITY.
    Call {
        /// City name, e.g. Seattle.
        city: String,
        /// Machine-readable output (stable; see README).
        #[arg(long)]
        json: bool,
        /// First ask for fresh tokens (backing off 2 s … 30 s) until ROLE is in one: a grant
        /// just given takes a while to reach tokens.
        #[arg(long, value_name = "ROLE")]
        wait_for_role: Option<String>,
        /// How long --wait-for-role waits, e.g. 90s, 10m.
        #[arg(long, value_name = "DUR", requires = "wait_for_role", value_parser = humantime::parse_duration)]
        wait_timeout: Option<std::time::Duration>,
    },
    /// Read the app-role set-up (Microsoft Graph or setup_files) and draw the chain for each
    /// expected role: defined → configured → granted → in the token → required. Exit 0 when
    /// nothing is broken, 1 when something is.
    Setup {
        /// Machine-readable output (stable; see README).
        #[arg(long)]
        json: bool,
    },
    /// Decode any JWT (no signature check) from an argument or standard input.
    Decode {
        /// The token, or `-` (or nothing) to read standard input.
        token: Option<String>,
        /// Machine-readable output.
        #[arg(long)]
        json: bool,
        /// Explain each well-known claim in one line.
        #[arg(long)]
        explain: bool,
    },
    /// Check a profile end to end: config lint, discovery, token, verification, roles, API
    /// call. Exit 0 when every check passes, 1 when one fails.
    Doctor {
        /// City for the API call.
        #[arg(long, default_value = "Seattle")]
        city: String,
        /// Machine-readable output.
        #[arg(long)]
        json: bool,
    },
    /// Open the dashboard against the built-in sandbox tenant (no Azure account needed).
    Demo {
        /// Serve the sandbox over HTTPS with a throwaway CA.
        #[arg(long)]
        tls: bool,
    },
    /// Inspect configuration.
    Config {
        #[command(subcommand)]
        command: ConfigCommand,
    },
    /// Inspect or clear the persistent token cache.
    Cache {
        #[command(subcommand)]
        command: CacheCommand,
    },
    /// Run the local sandbox tenant (identity provider + protected weather API).
    Sandbox(crate::sandbox::cli::SandboxArgs),
}

#[derive(Debug, Subcommand)]
pub enum CacheCommand {
    /// List cached tokens (never their values).
    List,
    /// Remove cached tokens: all, or only those of --profile NAME.
    Clear,
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Print where the config file is looked for and what was found.
    Path,
}

/// A command's failure: the exit code, what a person reads (summary, detail lines, hint;
/// through [`Problem`]) and, for `--json`, a JSON error.
#[derive(Debug)]
pub struct Failure {
    pub code: u8,
    /// Boxed: a `Result<_, Failure>` stays small on the happy path.
    text: Box<FailureText>,
    /// The `{"error": {…}}` object for `--json`; `Null` when the command already printed
    /// its JSON result.
    pub json: serde_json::Value,
}

#[derive(Debug)]
struct FailureText {
    /// One line: what went wrong.
    summary: String,
    /// Further lines printed under the summary (trace ids, why / fix).
    detail: Option<String>,
    /// What to do, printed as `hint: …`.
    hint: Option<String>,
}

impl Failure {
    /// A failure with a one-line message (no hint).
    pub fn new(code: u8, stage: &str, kind: &str, summary: impl Into<String>) -> Self {
        let summary = summary.into();
        let json = json!({ "error": { "stage": stage, "kind": kind, "message": summary } });
        Failure {
            code,
            text: Box::new(FailureText {
                summary,
                detail: None,
                hint: None,
            }),
            json,
        }
    }
    /// A failure from a core error: its summary, detail and hint as they are.
    pub fn problem(code: u8, stage: &str, kind: &str, problem: &dyn Problem) -> Self {
        let mut f = Failure::new(code, stage, kind, problem.summary());
        f.text.detail = problem.detail();
        f.text.hint = problem.hint();
        f.sync_json();
        f
    }
    /// A failure whose output the command already printed (`--json` prints nothing more).
    pub fn after_output(code: u8, summary: impl Into<String>) -> Self {
        Failure {
            json: serde_json::Value::Null,
            ..Failure::new(code, "", "", summary)
        }
    }
    /// Add lines under the summary.
    pub fn with_detail(mut self, detail: impl Into<String>) -> Self {
        let detail = detail.into();
        self.text.detail = Some(match self.text.detail.take() {
            Some(d) => format!("{d}\n{detail}"),
            None => detail,
        });
        self.sync_json();
        self
    }
    /// Say what to do.
    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.text.hint = Some(hint.into());
        self.sync_json();
        self
    }
    /// Add fields to the JSON error object.
    pub fn with(mut self, key: &str, value: serde_json::Value) -> Self {
        if let Some(obj) = self.json.get_mut("error").and_then(|e| e.as_object_mut()) {
            obj.insert(key.to_string(), value);
        }
        self
    }
    /// `message` keeps the whole text (scripts written before `hint` read it from there);
    /// `hint` is also given on its own.
    fn sync_json(&mut self) {
        let text = self.full_text();
        let hint = self.text.hint.clone();
        if let Some(obj) = self.json.get_mut("error").and_then(|e| e.as_object_mut()) {
            obj.insert("message".into(), json!(text));
            if let Some(h) = hint {
                obj.insert("hint".into(), json!(h));
            }
        }
    }
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text.summary)?;
        if let Some(d) = &self.text.detail {
            write!(f, "\n{d}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Failure {}

/// What `main` prints after `error: ` is [`Problem::full_text`].
impl Problem for Failure {
    fn summary(&self) -> String {
        self.text.summary.clone()
    }
    fn detail(&self) -> Option<String> {
        self.text.detail.clone()
    }
    fn hint(&self) -> Option<String> {
        self.text.hint.clone()
    }
}

impl From<ConfigError> for Failure {
    fn from(e: ConfigError) -> Self {
        Failure::problem(EXIT_USAGE, "config", "config", &e)
    }
}

/// Test hook for `tests/cli_output.rs`: with `TOKENSCOPE_TEST_PANIC=command` every command
/// panics as it starts (the dashboard reads other values of the same variable). Not a user
/// feature.
const PANIC_HOOK_ENV: &str = "TOKENSCOPE_TEST_PANIC";

/// Entry point used by `main.rs`.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { EXIT_USAGE } else { EXIT_OK });
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            errln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(EXIT_API);
        }
    };
    let json = cli.command.as_ref().is_some_and(Command::wants_json);
    // A panic is a bug; the hook has printed its message. It ends the command with README's
    // "other failure" instead of Rust's 101.
    let ran = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| runtime.block_on(run(cli))));
    let code = match ran {
        Ok(Ok(())) => EXIT_OK,
        Ok(Err(f)) => {
            report(&f, json);
            f.code
        }
        Err(_) => {
            runtime.shutdown_background();
            let f = Failure::new(
                EXIT_API,
                "internal",
                "panic",
                "internal error: tokenscope stopped on a bug; its message is above (please report)",
            );
            report(&f, json);
            return ExitCode::from(EXIT_API);
        }
    };
    if let Some(e) = out::stdout_failure() {
        errln!("error: cannot write the output: {e}");
        if code == EXIT_OK {
            return ExitCode::from(EXIT_API);
        }
    }
    ExitCode::from(code)
}

/// Print a command's failure: its JSON error with `--json`, else `error: …` on stderr.
fn report(f: &Failure, json: bool) {
    if json {
        // A Null JSON means the command already printed its JSON result.
        if !f.json.is_null() {
            outln!("{}", crate::text::inert_json(&f.json));
        }
    } else {
        errln!("error: {}", crate::text::sanitize(&f.full_text(), true));
    }
}

impl Command {
    fn wants_json(&self) -> bool {
        match self {
            Command::Token { json, .. }
            | Command::Call { json, .. }
            | Command::Decode { json, .. }
            | Command::Doctor { json, .. }
            | Command::Setup { json } => *json,
            Command::Config { .. }
            | Command::Cache { .. }
            | Command::Sandbox(_)
            | Command::Demo { .. } => false,
        }
    }
}

/// Run a parsed command line.
pub async fn run(cli: Cli) -> Result<(), Failure> {
    if std::env::var(PANIC_HOOK_ENV).is_ok_and(|v| v == "command") {
        panic!("{PANIC_HOOK_ENV}=command: a command panics as it starts");
    }
    let env = Env::from_process();
    let opts = LoadOptions {
        config: cli.config.clone(),
        profile: cli.profile.clone(),
    };
    match cli.command {
        None => {
            let profile = config::load(&opts, &env)?;
            let dash = crate::tui::DashboardOptions {
                no_cache: cli.no_cache,
                log_file: None,
                profile_given: cli.profile.is_some(),
            };
            crate::tui::run_dashboard(profile, dash)
                .await
                .map_err(|e| Failure::new(EXIT_API, "tui", "tui", format!("{e:#}")))
        }
        Some(Command::Demo { tls }) => {
            let demo = crate::tui::DemoOptions {
                tls,
                ..Default::default()
            };
            crate::tui::run_demo(demo)
                .await
                .map_err(|e| Failure::new(EXIT_API, "demo", "demo", format!("{e:#}")))
        }
        Some(Command::Token { json, raw }) => {
            let profile = config::load(&opts, &env)?;
            token_cmd::token(&profile, cli.no_cache, json, raw).await
        }
        Some(Command::Call {
            city,
            json,
            wait_for_role,
            wait_timeout,
        }) => {
            let (profile, access) = load_with_setup(&opts, &env, cli.no_cache)?;
            let wait = wait_for_role.map(|role| token_cmd::WaitFor {
                role,
                bound: wait_timeout.unwrap_or(crate::diagnose::setup::wait::DEFAULT_BOUND),
            });
            token_cmd::call(&profile, cli.no_cache, &city, json, wait, &access).await
        }
        Some(Command::Doctor { city, json }) => {
            let (profile, access) = load_with_setup(&opts, &env, cli.no_cache)?;
            doctor_cmd::doctor(&profile, &city, json, &access).await
        }
        Some(Command::Setup { json }) => {
            let (profile, access) = load_with_setup(&opts, &env, cli.no_cache)?;
            setup_cmd::setup(&profile, &access, json).await
        }
        Some(Command::Cache { command }) => cache_cmd(command, cli.profile.as_deref()),
        Some(Command::Sandbox(args)) => crate::sandbox::cli::run(args, &|text| out::line(text))
            .await
            .map_err(|e| Failure::new(EXIT_USAGE, "sandbox", "sandbox", format!("{e:#}"))),
        Some(Command::Decode {
            token,
            json,
            explain,
        }) => decode_cmd::decode(token.as_deref(), json, explain),
        Some(Command::Config {
            command: ConfigCommand::Path,
        }) => {
            config_path(&opts, &env);
            Ok(())
        }
    }
}

/// The selected profile, and what reading its app-role set-up needs: the profile its
/// `graph_credential` names, resolved here (a reader that does not resolve fails only what
/// needs it).
fn load_with_setup(
    opts: &LoadOptions,
    env: &Env,
    no_cache: bool,
) -> Result<(Profile, setup_cmd::SetupAccess), Failure> {
    let loaded = config::load_file(opts, env)?;
    let profile = config::resolve(&loaded, opts.profile.as_deref(), env)?;
    let reader = config::resolve_graph_reader(&loaded, &profile, env);
    Ok((profile, setup_cmd::SetupAccess { reader, no_cache }))
}

fn cache_cmd(command: CacheCommand, profile: Option<&str>) -> Result<(), Failure> {
    let cache_err = |e: crate::auth::CacheError| Failure::problem(EXIT_USAGE, "cache", "cache", &e);
    let cache = crate::auth::TokenCache::open_default().map_err(cache_err)?;
    match command {
        CacheCommand::List => {
            let entries = cache.list().map_err(cache_err)?;
            outln!("token cache: {}", cache.dir().display());
            if entries.is_empty() {
                outln!("(empty)");
            }
            let now = crate::time::now();
            for e in entries {
                if profile.is_some_and(|p| p != e.profile) {
                    continue;
                }
                let state = if e.expires_on > now {
                    format!("expires {}", crate::time::relative(e.expires_on, now))
                } else {
                    format!("expired {}", crate::time::relative(e.expires_on, now))
                };
                outln!(
                    "  {:<14} {}  tenant {}  client {}  scope {}  ({state})",
                    crate::text::sanitize(&e.profile, false),
                    crate::text::sanitize(&e.key.authority_host, false),
                    crate::text::sanitize(&e.key.tenant, false),
                    crate::text::sanitize(&e.key.client_id, false),
                    crate::text::sanitize(&e.key.scope, false),
                );
            }
        }
        CacheCommand::Clear => {
            let n = cache.clear(profile).map_err(cache_err)?;
            outln!("removed {n} cached token(s) from {}", cache.dir().display());
        }
    }
    Ok(())
}

fn config_path(opts: &LoadOptions, env: &Env) {
    let lookup = config::locate(opts.config.as_deref(), env);
    outln!("looked for the config file in this order:");
    if opts.config.is_none() && env.get("TOKENSCOPE_CONFIG").is_none() {
        outln!("  --config            (not given)");
        outln!("  $TOKENSCOPE_CONFIG  (not set)");
    } else if opts.config.is_none() {
        outln!("  --config            (not given)");
    }
    for (path, how, exists) in &lookup.candidates {
        let state = if *exists { "found" } else { "not found" };
        outln!("  {how:<19} {}  ({state})", path.display());
    }
    match &lookup.chosen {
        Some(p) if p.exists() => outln!("using: {}", p.display()),
        Some(p) => outln!("using: {} — but it does not exist", p.display()),
        None => match config::load_file(opts, env) {
            Ok(l) if l.implicit => outln!(
                "using: no file — the implicit `{}` profile from environment variables",
                config::ENV_PROFILE
            ),
            Err(e @ config::ConfigError::IncompleteEnv { .. }) => {
                outln!("using: nothing — {}", e.full_text())
            }
            _ => outln!(
                "using: nothing — copy config.example.toml to the platform path above, or pass --config,\n       or export {} for an implicit `{}` profile",
                config::ENV_PROFILE_VARS.join(", "),
                config::ENV_PROFILE
            ),
        },
    }
}

/// Build the HTTP client for a profile.
pub(crate) fn http_client(profile: &Profile) -> Result<reqwest::Client, Failure> {
    crate::http::client(&profile.http_options())
        .map_err(|e| Failure::problem(EXIT_USAGE, "config", "http_setup", &e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failure_prints_summary_detail_then_hint_and_keeps_the_json_shape() {
        let e = ConfigError::MissingSecret {
            path: "/etc/ts.toml".into(),
            profile: "p".into(),
            looked: vec!["a (not set)".into()],
        };
        let f = Failure::from(e);
        assert_eq!(f.code, EXIT_USAGE);
        let text = f.full_text();
        assert!(
            text.starts_with("/etc/ts.toml: profile `p` has no client credential. Looked at:\n  - a (not set)\nhint: set client_secret_env"),
            "{text}"
        );
        let err = &f.json["error"];
        assert_eq!(err["stage"], "config");
        assert_eq!(err["kind"], "config");
        assert_eq!(
            err["message"],
            text.as_str(),
            "message keeps the whole text"
        );
        assert!(
            err["hint"]
                .as_str()
                .is_some_and(|h| h.starts_with("set client_secret_env"))
        );

        let f = Failure::new(EXIT_TOKEN, "token", "rejected", "refused")
            .with("status", json!(401))
            .with_detail("(trace id t)")
            .with_detail("why: w\nfix: x");
        assert_eq!(f.full_text(), "refused\n(trace id t)\nwhy: w\nfix: x");
        assert_eq!(
            f.json["error"]["message"],
            "refused\n(trace id t)\nwhy: w\nfix: x"
        );
        assert_eq!(f.json["error"]["status"], 401);
        assert!(f.json["error"].get("hint").is_none());
        let keys: Vec<&String> = f.json["error"]
            .as_object()
            .map(|o| o.keys().collect())
            .unwrap_or_default();
        assert_eq!(keys, ["stage", "kind", "message", "status"]);

        let f = Failure::after_output(EXIT_REFUSED, "the API refused the call (403)");
        assert!(f.json.is_null(), "the command printed its JSON already");
    }
}
