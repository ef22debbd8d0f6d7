//! Every local file tokenscope reads is bounded (issue 15, defect 4): `/dev/zero`, a FIFO
//! with no writer and an oversized file, as each kind of file — config, client secret,
//! certificate, private key, federated token, CA file, token cache entry, the sandbox's
//! tenant file and the certificates it names, exported set-up files — end in a clear error
//! naming the file, quickly, never in a hang or an out-of-memory abort.

#[path = "fixtures/support.rs"]
mod support;

use std::path::{Path, PathBuf};

/// `/dev/zero`, a FIFO nobody writes to, and a file past every cap (17 MiB).
fn hostile(dir: &Path) -> Vec<(&'static str, PathBuf)> {
    let fifo = dir.join("fifo");
    let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: mkfifo with a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    let big = dir.join("big");
    let f = std::fs::File::create(&big).unwrap();
    f.set_len(17 * 1024 * 1024).unwrap();
    vec![
        ("/dev/zero", PathBuf::from("/dev/zero")),
        ("a FIFO", fifo),
        ("an oversized file", big),
    ]
}

const HEAD: &str = r#"[profiles.p]
authority = "http://127.0.0.1:9/ec184e30-7605-46d6-97ce-0b8dfa8e6682"
client_id = "a5947bad-c48d-423f-8e81-4681cdd00957"
scope = "api://api/.default"
api_url = "http://127.0.0.1:9/api/weather/{city}"
"#;

/// The reason the error gives for each hostile file.
fn reason(what: &str) -> &'static str {
    match what {
        "/dev/zero" => "a device",
        "a FIFO" => "FIFO",
        _ => "larger than",
    }
}

async fn run(home: &Path, config: &Path) -> std::process::Output {
    support::run_cli(home, &["--config", config.to_str().unwrap(), "token"], &[]).await
}

#[tokio::test]
async fn each_kind_of_file_is_refused_by_name() {
    let home = tempfile::tempdir().unwrap();
    let files = hostile(home.path());
    let cfg = home.path().join("config.toml");
    // (what the profile sets, the key, the exit code README gives that failure)
    let kinds: [(&str, &str, i32); 5] = [
        ("client secret", "client_secret_file", 2),
        ("certificate", "client_certificate_path", 2),
        ("private key", "client_certificate_key_path", 2),
        ("federated token", "federated_token_file", 2),
        ("CA file", "ca_file", 2),
    ];
    for (what, path) in &files {
        for (kind, key, code) in kinds {
            let mut text = HEAD.to_string();
            match key {
                "client_certificate_key_path" => {
                    // A real certificate, so the key file is the one read last.
                    let ca = rcgen::generate_simple_self_signed(vec!["x".into()]).unwrap();
                    let cert = home.path().join("cert.pem");
                    std::fs::write(&cert, ca.cert.pem()).unwrap();
                    text.push_str(&format!("client_certificate_path = {:?}\n", cert));
                }
                "ca_file" => text.push_str("client_secret = \"s\"\n"),
                _ => {}
            }
            text.push_str(&format!("{key} = {path:?}\n"));
            std::fs::write(&cfg, &text).unwrap();
            let started = std::time::Instant::now();
            let o = run(home.path(), &cfg).await;
            let out = support::all_output(&o);
            assert_eq!(o.status.code(), Some(code), "{kind} = {what}:\n{out}");
            assert!(
                out.contains(path.to_str().unwrap()) && out.contains(reason(what)),
                "{kind} = {what}: the error names the file and why:\n{out}"
            );
            assert!(!out.contains("panicked"), "{kind} = {what}:\n{out}");
            assert!(
                started.elapsed() < support::WAIT,
                "{kind} = {what} took {:?}",
                started.elapsed()
            );
        }
    }
}

#[tokio::test]
async fn the_config_file_itself_is_bounded() {
    let home = tempfile::tempdir().unwrap();
    for (what, path) in hostile(home.path()) {
        let o = run(home.path(), &path).await;
        let out = support::all_output(&o);
        assert_eq!(o.status.code(), Some(2), "--config {what}:\n{out}");
        assert!(
            out.contains("cannot read config file") && out.contains(reason(what)),
            "--config {what}:\n{out}"
        );
        assert!(
            out.contains("hint:"),
            "--config {what}: says what to do:\n{out}"
        );
    }
}

/// A FIFO or an oversized file where the cache entry goes is reported and replaced, never
/// waited on.
#[tokio::test]
async fn a_hostile_cache_entry_is_skipped_and_reported() {
    let sandbox = support::sandbox(Default::default()).await;
    let home = tempfile::tempdir().unwrap();
    let cfg = home.path().join("sandbox.toml");
    sandbox.write_config(&cfg).unwrap();
    let env = tokenscope::config::Env::default();
    let profile = tokenscope::config::load(
        &tokenscope::config::LoadOptions {
            config: Some(cfg.clone()),
            profile: None,
        },
        &env,
    )
    .unwrap();
    let name = tokenscope::auth::CacheKey::for_profile(&profile).file_name();
    let dir = home.path().join("cache/tokenscope/tokens");
    for (what, path) in hostile(home.path()) {
        std::fs::create_dir_all(&dir).unwrap();
        let entry = dir.join(&name);
        let _ = std::fs::remove_file(&entry);
        if what == "/dev/zero" {
            std::os::unix::fs::symlink(&path, &entry).unwrap();
        } else {
            std::fs::rename(&path, &entry).unwrap();
        }
        let o = run(home.path(), &cfg).await;
        let out = support::all_output(&o);
        assert_eq!(o.status.code(), Some(0), "cache entry = {what}:\n{out}");
        assert!(
            out.contains(reason(what)) && out.contains(&name),
            "cache entry = {what}: reported by name:\n{out}"
        );
        let meta = std::fs::symlink_metadata(&entry).unwrap();
        assert!(
            meta.is_file(),
            "cache entry = {what}: replaced by a real entry"
        );
        // The next hostile file gets a fresh name.
        let _ = std::fs::remove_file(&entry);
        let _ = hostile;
    }
    sandbox.shutdown().await;
}

/// `tokenscope sandbox --tenant FILE`, given each hostile file as the tenant file, and as a
/// certificate the (otherwise built-in) tenant names.
#[tokio::test]
async fn the_sandbox_tenant_file_and_its_certificates_are_bounded() {
    let home = tempfile::tempdir().unwrap();
    let files = hostile(home.path());
    let builtin =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/sandbox.toml"))
            .unwrap();
    for (what, path) in &files {
        let with_cert = home.path().join("with-cert.toml");
        let text = builtin.replace("generate = true", &format!("path = {path:?}"));
        assert_ne!(text, builtin, "the built-in tenant generates a certificate");
        std::fs::write(&with_cert, text).unwrap();
        for (tenant, role) in [(path.clone(), "tenant file"), (with_cert, "certificate")] {
            let started = std::time::Instant::now();
            let o = support::run_cli(
                home.path(),
                &[
                    "sandbox",
                    "--addr",
                    "127.0.0.1:0",
                    "--no-key-store",
                    "--tenant",
                    tenant.to_str().unwrap(),
                ],
                &[],
            )
            .await;
            let out = support::all_output(&o);
            assert_eq!(o.status.code(), Some(2), "{role} = {what}:\n{out}");
            assert!(
                out.contains(path.to_str().unwrap()) && out.contains(reason(what)),
                "{role} = {what}: the error names the file and why:\n{out}"
            );
            assert!(out.contains("hint:"), "{role} = {what}:\n{out}");
            assert!(!out.contains("panicked"), "{role} = {what}:\n{out}");
            assert!(started.elapsed() < support::WAIT, "{role} = {what}");
        }
    }
}

/// `setup_files` (the exported app-role set-up) read offline.
#[test]
fn exported_setup_files_are_bounded() {
    use tokenscope::problem::Problem as _;
    let home = tempfile::tempdir().unwrap();
    for (what, path) in hostile(home.path()) {
        let started = std::time::Instant::now();
        let e = tokenscope::graph::files::read_files(
            std::slice::from_ref(&path),
            "api://6c6f687a-96c8-4280-bba3-d11cc0b19b67/.default",
            "a5947bad-c48d-423f-8e81-4681cdd00957",
        )
        .expect_err(what);
        let text = e.full_text();
        assert!(
            text.contains(path.to_str().unwrap()) && text.contains("hint:"),
            "{what}: {text}"
        );
        let why = match what {
            "an oversized file" => "larger than",
            _ => "not a regular file",
        };
        assert!(text.contains(why), "{what}: {text}");
        assert!(started.elapsed() < support::WAIT, "{what}");
    }
}
