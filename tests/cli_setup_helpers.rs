//! Set-up helpers through the binary (issue 16, item 15): `config init` writes the starter
//! config where tokenscope looks (0600, never over a file without `--force`), `doctor --all`
//! checks every profile with one line each and exits with the worst code, `completions`
//! prints scripts the shells accept, `man` a manual page.

#[path = "fixtures/support.rs"]
mod support;
use support::{all_output, run_cli, sandbox_config, stdout_json};

use tokenscope::sandbox::SandboxOptions;

fn example() -> String {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/config.example.toml"))
        .expect("config.example.toml")
}

#[tokio::test]
async fn config_init_writes_the_starter_config_where_tokenscope_looks() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path();
    let path = home.join("config/tokenscope/config.toml");
    let o = run_cli(home, &["config", "init"], &[]).await;
    assert_eq!(o.status.code(), Some(0), "{}", all_output(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains(&format!("wrote a starter config to {}", path.display())),
        "{out}"
    );
    assert_eq!(std::fs::read_to_string(&path).unwrap(), example());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
    // It is where `config path` looks, and what a command then reads.
    let o = run_cli(home, &["config", "path"], &[]).await;
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains(&format!("using: {}", path.display())), "{out}");

    // Never over a file without --force.
    std::fs::write(&path, "# mine\n").unwrap();
    let o = run_cli(home, &["config", "init"], &[]).await;
    assert_eq!(o.status.code(), Some(2), "{}", all_output(&o));
    assert!(all_output(&o).contains("--force"), "{}", all_output(&o));
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "# mine\n");
    let o = run_cli(home, &["config", "init", "--force"], &[]).await;
    assert_eq!(o.status.code(), Some(0), "{}", all_output(&o));
    assert_eq!(std::fs::read_to_string(&path).unwrap(), example());

    // --config and $TOKENSCOPE_CONFIG say where instead.
    let there = home.join("elsewhere/ts.toml");
    let o = run_cli(
        home,
        &["--config", there.to_str().unwrap(), "config", "init"],
        &[],
    )
    .await;
    assert_eq!(o.status.code(), Some(0), "{}", all_output(&o));
    assert!(there.exists());
    let env = home.join("env.toml");
    let o = run_cli(
        home,
        &["config", "init"],
        &[("TOKENSCOPE_CONFIG", env.to_str().unwrap())],
    )
    .await;
    assert_eq!(o.status.code(), Some(0), "{}", all_output(&o));
    assert_eq!(std::fs::read_to_string(&env).unwrap(), example());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn doctor_all_checks_every_profile_one_line_each_and_exits_with_the_worst() {
    let sb = support::sandbox(SandboxOptions::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path();
    let cfg = sandbox_config(&sb, home);
    let path = cfg.to_str().unwrap();
    let names: Vec<String> = sb.clients().into_iter().map(|c| c.name).collect();

    let o = run_cli(home, &["--config", path, "doctor", "--all"], &[]).await;
    let out = all_output(&o);
    assert_eq!(
        o.status.code(),
        Some(1),
        "no-roles and expired-secret fail: {out}"
    );
    let text = String::from_utf8_lossy(&o.stdout);
    let lines: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with(['✓', '⚠', '✗']))
        .collect();
    assert_eq!(lines.len(), names.len(), "one line per profile: {out}");
    for name in &names {
        let line = lines
            .iter()
            .find(|l| l.split_whitespace().nth(1) == Some(name.as_str()))
            .unwrap_or_else(|| panic!("{name}: {out}"));
        let failed = matches!(name.as_str(), "no-roles" | "expired-secret");
        assert_eq!(line.starts_with('✗'), failed, "{line}");
    }
    assert!(
        lines
            .iter()
            .any(|l| l.contains("expired-secret") && l.contains("failed: credential, token")),
        "{out}"
    );

    let o = run_cli(home, &["--config", path, "doctor", "--all", "--json"], &[]).await;
    assert_eq!(o.status.code(), Some(1));
    let j = stdout_json(&o);
    assert_eq!(j["ok"], false);
    let profiles = j["profiles"].as_array().unwrap();
    assert_eq!(profiles.len(), names.len());
    assert!(profiles.iter().all(|p| p["checks"].is_array()), "{j:#}");

    // A profile that does not load is the worst: exit 2, and the others still checked.
    let mut text = std::fs::read_to_string(&cfg).unwrap();
    text.push_str(
        "\n[profiles.broken]\nauthority = \"http://127.0.0.1:1/t\"\nclient_id = \"x\"\nscope = \"api://x/.default\"\napi_url = \"http://127.0.0.1:1/{city}\"\n",
    );
    std::fs::write(&cfg, text).unwrap();
    let o = run_cli(home, &["--config", path, "doctor", "--all"], &[]).await;
    let out = all_output(&o);
    assert_eq!(o.status.code(), Some(2), "{out}");
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        stdout.lines().any(|l| l.starts_with("✗ broken")
            && l.contains("does not load: ")
            && !l.ends_with(':')),
        "{out}"
    );
    assert_eq!(
        stdout
            .lines()
            .filter(|l| l.starts_with(['✓', '⚠', '✗']))
            .count(),
        names.len() + 1
    );

    // Only healthy profiles: exit 0.
    let dir2 = tempfile::tempdir().unwrap();
    let cfg2 = sandbox_config(&sb, dir2.path());
    let mut keep = String::new();
    let full = std::fs::read_to_string(&cfg2).unwrap();
    for block in full.split("\n[profiles.") {
        if block.starts_with("console-rw]") {
            keep.push_str("\n[profiles.");
            keep.push_str(block);
        } else if !block.starts_with(|c: char| c.is_ascii_lowercase())
            || block.contains("default_profile")
        {
            keep.push_str(block);
        }
    }
    std::fs::write(&cfg2, &keep).unwrap();
    let o = run_cli(
        dir2.path(),
        &["--config", cfg2.to_str().unwrap(), "doctor", "--all"],
        &[],
    )
    .await;
    assert_eq!(o.status.code(), Some(0), "{keep}\n{}", all_output(&o));

    // --all and --profile do not go together.
    let o = run_cli(
        home,
        &["--config", path, "-p", "console-rw", "doctor", "--all"],
        &[],
    )
    .await;
    assert_eq!(o.status.code(), Some(2), "{}", all_output(&o));
    sb.shutdown().await;
}

#[tokio::test]
async fn completions_and_the_manual_page() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path();
    for shell in ["bash", "zsh", "fish", "powershell"] {
        let o = run_cli(home, &["completions", shell], &[]).await;
        assert_eq!(o.status.code(), Some(0), "{shell}: {}", all_output(&o));
        let script = String::from_utf8_lossy(&o.stdout);
        for word in ["tokenscope", "doctor", "decode", "no-cache"] {
            assert!(script.contains(word), "{shell}: {word}");
        }
    }
    // bash accepts its script.
    let o = run_cli(home, &["completions", "bash"], &[]).await;
    let file = home.join("tokenscope.bash");
    std::fs::write(&file, &o.stdout).unwrap();
    let check = std::process::Command::new("bash")
        .arg("-n")
        .arg(&file)
        .output()
        .expect("bash runs");
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stderr)
    );

    let o = run_cli(home, &["completions", "tcsh"], &[]).await;
    assert_eq!(o.status.code(), Some(2));

    let o = run_cli(home, &["man"], &[]).await;
    assert_eq!(o.status.code(), Some(0), "{}", all_output(&o));
    let page = String::from_utf8_lossy(&o.stdout);
    assert!(page.contains(".TH tokenscope 1"), "{page}");
    assert!(
        page.contains("tokenscope\\-doctor") || page.contains("doctor"),
        "{page}"
    );
}
