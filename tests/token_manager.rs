//! The token manager and the persistent cache end to end against the sandbox, counting its
//! token-endpoint requests.

use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Duration;

use tokenscope::auth::{ManagerOptions, TokenCache, TokenManager, TokenSource};
use tokenscope::config::{self, Env, LoadOptions, Profile};
use tokenscope::sandbox::{Endpoint, Sandbox, SandboxHandle, SandboxOptions};

const WAIT: Duration = Duration::from_secs(30);

async fn sandbox() -> SandboxHandle {
    tokio::time::timeout(WAIT, Sandbox::start(SandboxOptions::default()))
        .await
        .expect("sandbox start hung")
        .expect("sandbox starts")
}

fn write_config(sb: &SandboxHandle, dir: &Path) -> PathBuf {
    let path = dir.join("config.toml");
    sb.write_config(&path).unwrap();
    path
}

fn profile(path: &Path, name: &str) -> Profile {
    config::load(
        &LoadOptions {
            config: Some(path.to_path_buf()),
            profile: Some(name.into()),
        },
        &Env::default(),
    )
    .unwrap()
}

fn http(p: &Profile) -> reqwest::Client {
    tokenscope::http::client(&tokenscope::http::HttpOptions {
        connect_timeout: p.connect_timeout,
        timeout: p.timeout,
        ca_file: p.ca_file.as_deref(),
    })
    .unwrap()
}

async fn cli(args: &[&str], config: &Path, cache_home: &Path) -> Output {
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_tokenscope"))
        .args(args)
        .env("TOKENSCOPE_CONFIG", config)
        .env("XDG_CACHE_HOME", cache_home)
        .env_remove("AZURE_CLIENT_SECRET")
        .env_remove("AZURE_CLIENT_ID")
        .env_remove("AZURE_TENANT_ID")
        .env_remove("AZURE_AUTHORITY_HOST")
        .stdin(std::process::Stdio::null())
        .output();
    tokio::time::timeout(WAIT, out)
        .await
        .expect("cli hung")
        .unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[tokio::test]
async fn warm_cache_makes_zero_token_requests() {
    let sb = sandbox().await;
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(&sb, dir.path());
    let cache_home = dir.path().join("cache");

    let o = cli(&["call", "Seattle", "--json"], &cfg, &cache_home).await;
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_eq!(sb.request_count(Endpoint::Token), 1);

    let before = sb.request_count(Endpoint::Token);
    let o = cli(&["call", "Seattle", "--json"], &cfg, &cache_home).await;
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let o = cli(&["token", "--json"], &cfg, &cache_home).await;
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let j: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(j["source"], "cache");
    assert_eq!(
        sb.request_count(Endpoint::Token),
        before,
        "warm cache: no token request"
    );
    assert_eq!(sb.request_count(Endpoint::Api), 2);

    // --no-cache goes to the network again.
    let o = cli(&["token", "--no-cache", "--json"], &cfg, &cache_home).await;
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_eq!(sb.request_count(Endpoint::Token), before + 1);

    // The cache file is private, and `cache list` never shows a token.
    let tokens_dir = cache_home.join("tokenscope").join("tokens");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&tokens_dir), 0o700);
        for f in std::fs::read_dir(&tokens_dir).unwrap() {
            assert_eq!(mode(&f.unwrap().path()), 0o600);
        }
    }
    let o = cli(&["cache", "list"], &cfg, &cache_home).await;
    let listing = text(&o);
    assert!(
        listing.contains("console-rw") && !listing.contains("eyJ"),
        "{listing}"
    );
    let o = cli(
        &["cache", "clear", "--profile", "console-rw"],
        &cfg,
        &cache_home,
    )
    .await;
    assert!(text(&o).contains("removed 1 cached token"), "{}", text(&o));
    sb.shutdown().await;
}

#[tokio::test]
async fn fifty_concurrent_callers_one_request_and_keys_separate_credentials() {
    let sb = sandbox().await;
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(&sb, dir.path());
    let p = profile(&cfg, "console-rw");
    let cache = TokenCache::open(dir.path().join("tokens")).unwrap();
    let m = TokenManager::for_profile(&p, http(&p), Some(cache.clone()), ManagerOptions::default());
    let tasks: Vec<_> = (0..50)
        .map(|_| {
            let m = m.clone();
            tokio::spawn(
                async move { m.token().await.map(|t| t.access_token.expose().to_string()) },
            )
        })
        .collect();
    let mut tokens = Vec::new();
    for t in tasks {
        tokens.push(
            tokio::time::timeout(WAIT, t)
                .await
                .unwrap()
                .unwrap()
                .unwrap(),
        );
    }
    tokens.dedup();
    assert_eq!(tokens.len(), 1, "everyone got the same token");
    assert_eq!(sb.request_count(Endpoint::Token), 1);

    // A second manager with the same key is served from disk.
    let m2 =
        TokenManager::for_profile(&p, http(&p), Some(cache.clone()), ManagerOptions::default());
    assert_eq!(m2.token().await.unwrap().source, TokenSource::Cache);
    assert_eq!(sb.request_count(Endpoint::Token), 1);

    // A rotated secret is a different key: a new request, a new entry.
    let renewed = sb.renew_secret("console-rw").unwrap();
    let mut p3 = p.clone();
    p3.credential = tokenscope::config::Credential::Secret {
        secret: tokenscope::secret::ClientSecret::new(renewed.secret.clone()),
        source: tokenscope::config::SecretSource::Inline,
    };
    let m3 = TokenManager::for_profile(
        &p3,
        http(&p3),
        Some(cache.clone()),
        ManagerOptions::default(),
    );
    assert_eq!(m3.token().await.unwrap().source, TokenSource::Network);
    assert_eq!(sb.request_count(Endpoint::Token), 2);

    // Another client (another scope/credential) is another entry too.
    let p4 = profile(&cfg, "mobile-ro");
    let m4 = TokenManager::for_profile(
        &p4,
        http(&p4),
        Some(cache.clone()),
        ManagerOptions::default(),
    );
    m4.token().await.unwrap();
    assert_eq!(sb.request_count(Endpoint::Token), 3);
    assert_eq!(cache.list().unwrap().len(), 3);
    sb.shutdown().await;
}

#[tokio::test]
async fn refresh_and_failed_refresh_serves_valid_token() {
    // (Serving rules over time — the 5-minute window, refresh_on, back-off — are tested with
    // tokio's paused clock in src/auth/manager/tests.rs; this is the same path over HTTP.)
    let sb = sandbox().await;
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(&sb, dir.path());
    let p = profile(&cfg, "console-rw");
    let m = TokenManager::for_profile(&p, http(&p), None, ManagerOptions::default());
    let first = m.token().await.unwrap();
    assert_eq!(sb.request_count(Endpoint::Token), 1);

    sb.set_token_lifetime(Some(Duration::from_secs(200)));
    let refreshed = m.refresh_now().await.unwrap();
    assert_eq!(sb.request_count(Endpoint::Token), 2);
    assert_ne!(refreshed.access_token.expose(), first.access_token.expose());

    // Refresh fails (secret expired) while the token is valid: served, error reported.
    sb.expire_secret("console-rw").unwrap();
    let served = m.refresh_now().await.unwrap();
    assert_eq!(
        served.access_token.expose(),
        refreshed.access_token.expose()
    );
    let snap = m.snapshot();
    let err = snap.last_error.expect("the failure is reported");
    assert_eq!(err.aadsts_code(), Some(7000222), "{err}");
    sb.shutdown().await;
}

#[tokio::test]
async fn two_processes_writing_at_once_never_corrupt_the_cache() {
    let sb = sandbox().await;
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(&sb, dir.path());
    let cache_home = dir.path().join("cache");
    let runs: Vec<_> = (0..6)
        .map(|_| {
            let cfg = cfg.clone();
            let cache_home = cache_home.clone();
            tokio::spawn(async move { cli(&["token", "--json"], &cfg, &cache_home).await })
        })
        .collect();
    for r in runs {
        let o = r.await.unwrap();
        assert_eq!(o.status.code(), Some(0), "{}", text(&o));
        assert!(!text(&o).contains("warning"), "{}", text(&o));
    }
    let cache = TokenCache::open(cache_home.join("tokenscope").join("tokens")).unwrap();
    let entries = cache.list().unwrap();
    assert_eq!(entries.len(), 1);
    // No temporary files left behind.
    let names: Vec<_> = std::fs::read_dir(cache.dir())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names.len(), 1, "{names:?}");
    // A corrupt file is reported and rewritten.
    let file = cache.dir().join(&names[0]);
    std::fs::write(&file, "{\"version\": 1, \"trunc").unwrap();
    let o = cli(&["token", "--json"], &cfg, &cache_home).await;
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("ignoring token cache file"),
        "{}",
        text(&o)
    );
    assert_eq!(cache.list().unwrap().len(), 1);
    sb.shutdown().await;
}
