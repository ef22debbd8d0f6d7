//! The token manager and the persistent cache end to end against the sandbox, counting its
//! token-endpoint requests.

#[path = "fixtures/support.rs"]
mod support;
use support::{WAIT, all_output as text, client as http, profile, sandbox_config as write_config};

use std::path::Path;
use std::process::Output;
use std::time::Duration;

use tokenscope::auth::{ManagerOptions, TokenCache, TokenManager, TokenSource};
use tokenscope::sandbox::{Endpoint, SandboxHandle, SandboxOptions};

async fn sandbox() -> SandboxHandle {
    support::sandbox(SandboxOptions::default()).await
}

/// The binary with `--config cfg`, its cache under `home/cache`.
async fn cli(args: &[&str], cfg: &Path, home: &Path) -> Output {
    let cfg = cfg.to_str().expect("a UTF-8 path");
    support::run_cli(home, &[&["--config", cfg], args].concat(), &[]).await
}

#[tokio::test]
async fn warm_cache_makes_zero_token_requests() {
    let sb = sandbox().await;
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(&sb, dir.path());
    let home = dir.path().to_path_buf();
    let cache_home = home.join("cache");

    let o = cli(&["call", "Seattle", "--json"], &cfg, &home).await;
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_eq!(sb.request_count(Endpoint::Token), 1);

    let before = sb.request_count(Endpoint::Token);
    let o = cli(&["call", "Seattle", "--json"], &cfg, &home).await;
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let o = cli(&["token", "--json"], &cfg, &home).await;
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
    let o = cli(&["token", "--no-cache", "--json"], &cfg, &home).await;
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
    let o = cli(&["cache", "list"], &cfg, &home).await;
    let listing = text(&o);
    assert!(
        listing.contains("console-rw") && !listing.contains("eyJ"),
        "{listing}"
    );
    let o = cli(&["cache", "clear", "--profile", "console-rw"], &cfg, &home).await;
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
    let home = dir.path().to_path_buf();
    let cache_home = home.join("cache");
    let runs: Vec<_> = (0..6)
        .map(|_| {
            let cfg = cfg.clone();
            let home = home.clone();
            tokio::spawn(async move { cli(&["token", "--json"], &cfg, &home).await })
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
    let o = cli(&["token", "--json"], &cfg, &home).await;
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("ignoring token cache file"),
        "{}",
        text(&o)
    );
    assert_eq!(cache.list().unwrap().len(), 1);
    sb.shutdown().await;
}
