//! The first-use installer of the interop fixtures (tests/fixtures/install.rs), on throwaway
//! fixture directories: a package without dependencies for npm, an empty requirements file
//! for pip, so nothing here needs the registries. Installs once, skips while the marker
//! matches, reinstalls when the lockfile changes, serialises concurrent callers, removes
//! what killed installs left, keeps nothing from a failed one, and says why in one paragraph.

#[path = "fixtures/support.rs"]
mod support;

use std::fs;
use std::path::Path;
use std::process::Command;

use support::install::{self, install_node, install_python};

const PACKAGE: &str = r#"{ "name": "install-probe", "version": "1.0.0", "private": true }"#;
const LOCK: &str = r#"{
  "name": "install-probe",
  "version": "1.0.0",
  "lockfileVersion": 3,
  "requires": true,
  "packages": { "": { "name": "install-probe", "version": "1.0.0" } }
}
"#;

fn node_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("package.json"), PACKAGE).unwrap();
    fs::write(dir.path().join("package-lock.json"), LOCK).unwrap();
    dir
}

fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

fn marker_inode(path: &Path) -> u64 {
    use std::os::unix::fs::MetadataExt;
    fs::metadata(path).unwrap().ino()
}

#[test]
fn node_installs_once_then_skips_and_reinstalls_when_the_lockfile_changes() {
    let dir = node_dir();
    let d = dir.path();
    // What a killed install leaves behind.
    fs::create_dir_all(d.join(".staging-1-2/node_modules")).unwrap();

    install_node(d).unwrap_or_else(|e| panic!("{e}"));
    let marker = d.join("node_modules/.installed-lock");
    assert_eq!(fs::read_to_string(&marker).unwrap(), LOCK);
    assert_eq!(
        names(d),
        [
            ".install.lock",
            "node_modules",
            "package-lock.json",
            "package.json"
        ],
        "the leftover and the staging directory are gone"
    );

    let first = marker_inode(&marker);
    install_node(d).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        marker_inode(&marker),
        first,
        "an unchanged lockfile is not reinstalled"
    );

    let changed = LOCK.replace("\n}\n", "\n}\n\n");
    fs::write(d.join("package-lock.json"), &changed).unwrap();
    install_node(d).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(fs::read_to_string(&marker).unwrap(), changed);
    assert_eq!(
        names(d),
        [
            ".install.lock",
            "node_modules",
            "package-lock.json",
            "package.json"
        ]
    );
}

#[test]
fn concurrent_callers_share_one_install() {
    let dir = node_dir();
    let d = dir.path().to_path_buf();
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let d = d.clone();
            std::thread::spawn(move || install_node(&d))
        })
        .collect();
    for t in threads {
        t.join().unwrap().unwrap_or_else(|e| panic!("{e}"));
    }
    assert_eq!(
        names(&d),
        [
            ".install.lock",
            "node_modules",
            "package-lock.json",
            "package.json"
        ]
    );
    assert_eq!(
        fs::read_to_string(d.join("node_modules/.installed-lock")).unwrap(),
        LOCK
    );
}

#[test]
fn a_failed_npm_ci_keeps_nothing_and_quotes_npm() {
    let dir = node_dir();
    let d = dir.path();
    // package.json asks for a dependency the lockfile does not have: `npm ci` refuses.
    fs::write(
        d.join("package.json"),
        r#"{ "name": "install-probe", "version": "1.0.0", "dependencies": { "left-pad": "1.3.0" } }"#,
    )
    .unwrap();
    let why = install_node(d).expect_err("npm ci must refuse an out-of-sync lockfile");
    assert!(why.contains("could not be: `npm ci"), "{why}");
    assert!(why.contains("cargo test --lib"), "{why}");
    // npm's own words are quoted, indented, after the paragraph.
    let (paragraph, quote) = why.split_once('\n').unwrap_or((&why, ""));
    assert!(!paragraph.is_empty() && quote.starts_with("    "), "{why}");
    assert!(quote.contains("npm"), "{why}");
    assert_eq!(
        names(d),
        [".install.lock", "package-lock.json", "package.json"],
        "nothing half-installed stays"
    );
}

#[test]
fn a_missing_or_old_tool_is_named_in_one_paragraph() {
    let why = install::need("the probe", "tokenscope-no-such-tool", (1, 0), "Probe")
        .expect_err("not on PATH");
    assert!(
        why.contains("`tokenscope-no-such-tool` is not on PATH (Probe 1.0 or newer is needed)"),
        "{why}"
    );
    assert!(!why.contains('\n'), "one paragraph: {why}");

    let why = install::need("the probe", "python3", (99, 0), "Python").expect_err("too old");
    assert!(why.contains("`python3` is 3."), "{why}");
    assert!(
        why.contains("too old (Python 99.0 or newer is needed)"),
        "{why}"
    );
}

#[test]
fn versions_are_read_from_what_the_tools_print() {
    assert_eq!(install::version("v20.20.2\n"), Some((20, 20)));
    assert_eq!(install::version("11.19.1"), Some((11, 19)));
    assert_eq!(install::version("Python 3.11.7"), Some((3, 11)));
    assert_eq!(install::version("Python 3"), None);
    assert_eq!(install::version("no version"), None);
    assert_eq!(
        install::version("v99999999999.1"),
        None,
        "overflow is no version"
    );
}

#[test]
fn a_failed_step_quotes_its_last_lines_sanitised_and_capped() {
    let script = "i=0; while [ $i -lt 500 ]; do echo \"line $i\"; i=$((i+1)); done; \
                  printf 'bad \\033[31mred\\033[0m end\\n' >&2; exit 3";
    let why =
        install::run("the probe", Command::new("sh").args(["-c", script])).expect_err("exit 3");
    assert!(why.contains("exit status: 3"), "{why}");
    assert!(why.contains("    line 499"), "{why}");
    assert!(!why.contains("line 400"), "only the tail: {why}");
    assert!(!why.contains('\u{1b}'), "no escape sequences: {why:?}");
    assert!(why.contains("    bad red end"), "{why}");
    assert!(why.len() < 3000, "{} bytes", why.len());
}

#[test]
fn python_builds_a_venv_swaps_it_in_and_drops_the_old_one() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // A `.venv` made by hand (no marker) is replaced, not trusted.
    fs::create_dir_all(d.join(".venv/bin")).unwrap();
    fs::write(d.join("requirements.txt"), "# nothing\n").unwrap();

    let python = install_python(d).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(python, d.join(".venv/bin/python"));
    let first = fs::read_link(d.join(".venv")).expect(".venv is a symlink");
    assert!(first.to_string_lossy().starts_with(".venv-"), "{first:?}");
    let out = Command::new(&python)
        .args(["-c", "import sys; print(sys.prefix != sys.base_prefix)"])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "True");

    install_python(d).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(fs::read_link(d.join(".venv")).unwrap(), first, "skipped");

    fs::write(d.join("requirements.txt"), "# still nothing\n").unwrap();
    install_python(d).unwrap_or_else(|e| panic!("{e}"));
    let second = fs::read_link(d.join(".venv")).unwrap();
    assert_ne!(second, first, "a new environment for new requirements");
    let second = second.to_string_lossy().into_owned();
    assert_eq!(
        names(d),
        [
            ".install.lock",
            ".venv",
            second.as_str(),
            "requirements.txt"
        ],
        "the old environment is gone"
    );
}
