//! Setting up: `tokenscope config init` (a commented starter config where tokenscope looks
//! for one), `tokenscope completions SHELL` and `tokenscope man`.
//!
//! The starter config is `config.example.toml`, built in, so the two cannot drift apart; it
//! is written 0600 (it will hold a tenant's details, perhaps a secret) in a directory made
//! 0700, never over an existing file without `--force`, and never through a symlink.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use clap::CommandFactory as _;

use super::out::outln;
use super::{Cli, EXIT_API, EXIT_USAGE, Failure};
use crate::config::{self, Env};

/// The starter config: the repository's `config.example.toml`.
pub const STARTER_CONFIG: &str = include_str!("../../config.example.toml");

/// Shells `completions` writes a script for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Shell {
    Bash,
    Zsh,
    Fish,
    Powershell,
}

/// Where `config init` writes: `--config`, else `$TOKENSCOPE_CONFIG`, else the platform
/// config path (where tokenscope looks for it).
fn init_target(explicit: Option<&Path>, env: &Env) -> Option<PathBuf> {
    config::locate(explicit, env)
        .candidates
        .into_iter()
        .next()
        .map(|(p, _, _)| p)
}

pub fn config_init(explicit: Option<&Path>, env: &Env, force: bool) -> Result<(), Failure> {
    let Some(path) = init_target(explicit, env) else {
        return Err(Failure::new(
            EXIT_USAGE,
            "config",
            "no_config_dir",
            "this platform has no config directory tokenscope knows of (no home directory?)",
        )
        .with_hint("pass --config PATH to say where the starter config goes"));
    };
    write_starter(&path, force).map_err(|e| {
        let f = Failure::new(
            if e.kind() == std::io::ErrorKind::AlreadyExists {
                EXIT_USAGE
            } else {
                EXIT_API
            },
            "config",
            "init",
            format!("cannot write {}: {}", path.display(), describe(&e)),
        );
        if e.kind() == std::io::ErrorKind::AlreadyExists {
            f.with_hint(
                "it is kept as it is; add --force to replace it with the starter config, or edit it",
            )
        } else {
            f.with_hint("pass --config PATH to write the starter config somewhere else")
        }
    })?;
    outln!("wrote a starter config to {}", path.display());
    outln!(
        "next: fill in authority (your tenant), client_id, the credential, scope and api_url of a profile, then run `tokenscope doctor`"
    );
    Ok(())
}

fn describe(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::AlreadyExists => "a file is already there".into(),
        _ => e.to_string(),
    }
}

/// Write the starter config to `path`, 0600. Without `force` an existing file (or symlink)
/// is an `AlreadyExists` error; with it, the file is replaced atomically (a new file next to
/// it, then a rename), so a symlink at `path` is replaced, not followed.
pub fn write_starter(path: &Path, force: bool) -> std::io::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        create_private_dir(dir)?;
    }
    if !force {
        let mut f = private_file(path)?;
        return f
            .write_all(STARTER_CONFIG.as_bytes())
            .and_then(|()| f.sync_all());
    }
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "config.toml".into());
    let tmp = path.with_file_name(format!(".{name}.{}.tmp", uuid::Uuid::new_v4().simple()));
    let written = private_file(&tmp).and_then(|mut f| {
        f.write_all(STARTER_CONFIG.as_bytes())
            .and_then(|()| f.sync_all())
    });
    let renamed = written.and_then(|()| std::fs::rename(&tmp, path));
    if renamed.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    renamed
}

/// A new file, 0600 on Unix; fails if anything (a symlink too) is at `path`.
fn private_file(path: &Path) -> std::io::Result<std::fs::File> {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    opts.open(path)
}

fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut b = std::fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut b, 0o700);
    b.create(dir)
}

/// The completion script for `shell`, on standard output.
pub fn completions(shell: Shell) -> Result<(), Failure> {
    use clap_complete::Shell as S;
    let s = match shell {
        Shell::Bash => S::Bash,
        Shell::Zsh => S::Zsh,
        Shell::Fish => S::Fish,
        Shell::Powershell => S::PowerShell,
    };
    let mut buf = Vec::new();
    clap_complete::generate(s, &mut Cli::command(), "tokenscope", &mut buf);
    print_generated(buf)
}

/// The manual page (roff), on standard output: `tokenscope man | man -l -`.
pub fn man() -> Result<(), Failure> {
    let mut buf = Vec::new();
    clap_mangen::Man::new(Cli::command())
        .render(&mut buf)
        .map_err(|e| {
            Failure::new(
                EXIT_API,
                "man",
                "render",
                format!("cannot render the manual page: {e}"),
            )
        })?;
    print_generated(buf)
}

fn print_generated(buf: Vec<u8>) -> Result<(), Failure> {
    let text = String::from_utf8(buf).map_err(|_| {
        Failure::new(
            EXIT_API,
            "generate",
            "encoding",
            "the generated text is not UTF-8",
        )
    })?;
    outln!("{}", text.trim_end_matches('\n'));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_starter_config_parses_and_is_written_private_and_never_over_a_file() {
        assert!(
            config::ConfigFile::parse(STARTER_CONFIG, Path::new("config.example.toml")).is_ok(),
            "config.example.toml parses"
        );
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("new dir/config.toml");
        write_starter(&path, false).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), STARTER_CONFIG);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode(&path), 0o600);
            assert_eq!(mode(path.parent().unwrap()), 0o700);
        }
        std::fs::write(&path, "mine").unwrap();
        let e = write_starter(&path, false).unwrap_err();
        assert_eq!(e.kind(), std::io::ErrorKind::AlreadyExists);
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "mine");
        write_starter(&path, true).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), STARTER_CONFIG);
        // Nothing left behind.
        let names: Vec<_> = std::fs::read_dir(path.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names.len(), 1, "{names:?}");
    }

    #[cfg(unix)]
    #[test]
    fn a_symlink_is_neither_followed_nor_written_through() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("elsewhere");
        std::fs::write(&target, "precious").unwrap();
        let link = dir.path().join("config.toml");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        assert!(write_starter(&link, false).is_err());
        write_starter(&link, true).unwrap();
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "precious");
        assert!(
            !std::fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink()
        );
    }
}
