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

mod args;
mod call_cmd;
mod decode_cmd;
mod doctor_cmd;
mod init_cmd;
mod out;
mod render;
mod setup_cmd;
mod token_cmd;

pub use args::{CacheCommand, Cli, Command, ConfigCommand};
use out::{errln, outln};

use std::process::ExitCode;

use clap::Parser;
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
    /// Why and what to do, printed as `why: …` / `fix: …` under the detail; `diagnosis`
    /// in `--json`, the shape `call --json` gives a refusal.
    diagnosis: Option<crate::diagnose::Advice>,
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
                diagnosis: None,
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
    /// Say why and what to do (`why:` / `fix:` lines; `diagnosis` in `--json`).
    pub fn with_diagnosis(mut self, advice: crate::diagnose::Advice) -> Self {
        self.text.diagnosis = Some(advice);
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
    /// `message` is one line, the summary; the lines under it are `details`, what to do is
    /// `hint`, and why with the fix is `diagnosis` (`{"summary", "cause", "fix"}`).
    fn sync_json(&mut self) {
        let t = &self.text;
        let message = t.summary.lines().collect::<Vec<_>>().join(" ");
        let details: Option<Vec<&str>> = t.detail.as_deref().map(|d| d.lines().collect());
        let (hint, diagnosis) = (t.hint.clone(), t.diagnosis.clone());
        let details = details.map(|d| json!(d));
        if let Some(obj) = self.json.get_mut("error").and_then(|e| e.as_object_mut()) {
            obj.insert("message".into(), json!(message));
            if let Some(d) = details {
                obj.insert("details".into(), d);
            }
            if let Some(h) = hint {
                obj.insert("hint".into(), json!(h));
            }
            if let Some(a) = diagnosis {
                obj.insert("diagnosis".into(), json!(a));
            }
        }
    }
    /// The detail lines, then `why:` / `fix:`.
    fn all_detail(&self) -> Option<String> {
        let why = self
            .text
            .diagnosis
            .as_ref()
            .map(|a| format!("why: {}\nfix: {}", a.cause, a.fix));
        match (&self.text.detail, why) {
            (Some(d), Some(w)) => Some(format!("{d}\n{w}")),
            (d, w) => d.clone().or(w),
        }
    }
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text.summary)?;
        if let Some(d) = self.all_detail() {
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
        self.all_detail()
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
    // A one-shot command waits on one request at a time: one thread does it, without the
    // cost of starting a worker per core and handing wake-ups between them (a measurable part
    // of a ~9 ms warm `call`). The dashboard, the demo and the sandbox keep the multi-threaded
    // runtime: their UI loop or server must not wait behind key generation or a handler.
    let one_shot = cli.command.as_ref().is_some_and(Command::one_shot);
    let mut builder = if one_shot {
        tokio::runtime::Builder::new_current_thread()
    } else {
        tokio::runtime::Builder::new_multi_thread()
    };
    let runtime = match builder.enable_all().build() {
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
    if cli.no_mouse && !matches!(cli.command, None | Some(Command::Demo { .. })) {
        return Err(Failure::new(
            EXIT_USAGE,
            "usage",
            "usage",
            "--no-mouse is for the dashboard: `tokenscope --no-mouse` or `tokenscope demo --no-mouse`",
        ));
    }
    match cli.command {
        None => {
            let profile = config::load(&opts, &env)?;
            let dash = crate::tui::DashboardOptions {
                no_cache: cli.no_cache,
                log_file: None,
                profile_given: cli.profile.is_some(),
                no_mouse: cli.no_mouse,
            };
            crate::tui::run_dashboard(profile, dash)
                .await
                .map_err(|e| Failure::new(EXIT_API, "tui", "tui", format!("{e:#}")))
        }
        Some(Command::Demo { tls, no_mouse }) => {
            // The demo needs no config file, but honours the user's `mouse = false` in one.
            let file_says_no =
                config::load_file(&opts, &env).is_ok_and(|loaded| loaded.file.mouse == Some(false));
            let demo = crate::tui::DemoOptions {
                tls,
                no_mouse: no_mouse || cli.no_mouse || file_says_no,
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
            curl,
            show_token,
        }) => {
            let (profile, access) = load_with_setup(&opts, &env, cli.no_cache)?;
            let wait = wait_for_role.map(|role| call_cmd::WaitFor {
                role,
                bound: wait_timeout.unwrap_or(crate::diagnose::setup::wait::DEFAULT_BOUND),
            });
            let args = call_cmd::CallArgs {
                city,
                json,
                wait,
                curl,
                show_token,
            };
            let how = call_cmd::Invocation {
                config: opts.config.as_deref(),
                profile: opts.profile.as_deref(),
            };
            call_cmd::call(&profile, cli.no_cache, &args, &access, how).await
        }
        Some(Command::Doctor { city, json, all }) if all => {
            doctor_cmd::doctor_all(&opts, &env, cli.no_cache, &city, json).await
        }
        Some(Command::Doctor { city, json, .. }) => {
            let (profile, access) = load_with_setup(&opts, &env, cli.no_cache)?;
            doctor_cmd::doctor(&profile, &city, json, &access).await
        }
        Some(Command::Completions { shell }) => init_cmd::completions(shell),
        Some(Command::Man) => init_cmd::man(),
        Some(Command::Config {
            command: ConfigCommand::Init { force },
        }) => init_cmd::config_init(opts.config.as_deref(), &env, force),
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
pub(crate) fn load_with_setup(
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
                "using: nothing — run `tokenscope config init` for a starter config there, or pass --config,\n       or export {} for an implicit `{}` profile",
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
            err["message"], "/etc/ts.toml: profile `p` has no client credential. Looked at:",
            "message is one line"
        );
        assert_eq!(err["details"], json!(["  - a (not set)"]));
        assert!(
            err["hint"]
                .as_str()
                .is_some_and(|h| h.starts_with("set client_secret_env"))
        );

        let f = Failure::new(EXIT_TOKEN, "token", "rejected", "refused")
            .with("status", json!(401))
            .with_detail("(trace id t)")
            .with_diagnosis(crate::diagnose::Advice {
                summary: "refused".into(),
                cause: "w".into(),
                fix: "x".into(),
            });
        assert_eq!(f.full_text(), "refused\n(trace id t)\nwhy: w\nfix: x");
        let err = &f.json["error"];
        assert_eq!(err["message"], "refused");
        assert_eq!(err["details"], json!(["(trace id t)"]));
        assert_eq!(
            err["diagnosis"],
            json!({"summary": "refused", "cause": "w", "fix": "x"})
        );
        assert_eq!(err["status"], 401);
        assert!(err.get("hint").is_none());
        let keys: Vec<&String> = err
            .as_object()
            .map(|o| o.keys().collect())
            .unwrap_or_default();
        assert_eq!(
            keys,
            ["stage", "kind", "message", "status", "details", "diagnosis"]
        );

        // A summary never makes a message of several lines.
        let f = Failure::new(EXIT_API, "api", "x", "one\ntwo");
        let f = f.with_hint("h");
        assert_eq!(f.json["error"]["message"], "one two");

        let f = Failure::after_output(EXIT_REFUSED, "the API refused the call (403)");
        assert!(f.json.is_null(), "the command printed its JSON already");
    }
}
