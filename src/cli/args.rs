//! The command line's shape (clap derive): global options, the commands and their flags.
//! What each does is in the command modules; README's "Use it" section lists them all.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

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
    /// Dashboard: leave the mouse to the terminal (select text as usual) instead of clicking
    /// to focus and scrolling with the wheel. Also `mouse = false` in the config file.
    #[arg(long)]
    pub no_mouse: bool,
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
        /// Print the call as a curl command instead of making it: `$TOKEN` stands for the
        /// token (a first line sets it with `tokenscope token --raw`); no token is requested.
        #[arg(long, conflicts_with_all = ["json", "wait_for_role"])]
        curl: bool,
        /// With --curl: put the access token itself in the command (it is a credential).
        #[arg(long, requires = "curl")]
        show_token: bool,
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
        /// Check every profile of the config file: one summary line each (`doctor -p NAME`
        /// shows one's checklist); the exit code is the worst profile's.
        #[arg(long)]
        all: bool,
    },
    /// Open the dashboard against the built-in sandbox tenant (no Azure account needed).
    Demo {
        /// Serve the sandbox over HTTPS with a throwaway CA.
        #[arg(long)]
        tls: bool,
        /// Leave the mouse to the terminal (select text as usual) instead of clicking to
        /// focus and scrolling with the wheel. Also `mouse = false` in the config file.
        #[arg(long)]
        no_mouse: bool,
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
    /// Print a shell completion script, e.g. `tokenscope completions bash >
    /// ~/.local/share/bash-completion/completions/tokenscope`.
    Completions {
        #[arg(value_enum)]
        shell: super::init_cmd::Shell,
    },
    /// Print the manual page (roff): `tokenscope man | man -l -`.
    Man,
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
    /// Write a commented starter config where tokenscope looks for it (--config, else
    /// $TOKENSCOPE_CONFIG, else the platform config dir), 0600; an existing file is kept
    /// unless --force.
    Init {
        /// Replace an existing file.
        #[arg(long)]
        force: bool,
    },
}

impl Command {
    /// A command that runs to completion and exits (everything but the dashboard, the demo
    /// and the sandbox server): it gets a single-threaded runtime.
    pub(super) fn one_shot(&self) -> bool {
        !matches!(self, Command::Sandbox(_) | Command::Demo { .. })
    }

    pub(super) fn wants_json(&self) -> bool {
        match self {
            Command::Token { json, .. }
            | Command::Call { json, .. }
            | Command::Decode { json, .. }
            | Command::Doctor { json, .. }
            | Command::Setup { json } => *json,
            Command::Config { .. }
            | Command::Completions { .. }
            | Command::Man
            | Command::Cache { .. }
            | Command::Sandbox(_)
            | Command::Demo { .. } => false,
        }
    }
}
