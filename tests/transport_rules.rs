//! The looser ends of issue 15 (defects 7 and 8), through the binary against the sandbox:
//!
//! - twenty-four `tokenscope token` processes started together with an empty cache make one
//!   token request (the cache entry's cross-process lock);
//! - a plain-http `api_url` to a host that is not loopback — `*.localhost` and `localhost.`
//!   included — is refused before any token is requested (`call`, `doctor`), and the
//!   dashboard's call never reaches the API; `localhost` itself works and is resolved to
//!   loopback by tokenscope;
//! - `doctor` warns about a client secret file others can read, with the `chmod 600` fix;
//! - a broken redirect `Location` from the API is an API failure (exit 5), not a config error;
//! - an Entra error whose `error_codes` are odd keeps its AADSTS explanation.

#[path = "fixtures/support.rs"]
mod support;

use std::path::Path;

use support::{all_output, run_cli};
use tokenscope::sandbox::Endpoint;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_four_processes_with_an_empty_cache_make_one_token_request() {
    let sb = support::sandbox(Default::default()).await;
    let home = tempfile::tempdir().unwrap();
    let cfg = support::sandbox_config(&sb, home.path());
    let cfg = cfg.to_str().unwrap().to_string();
    let before = sb.request_count(Endpoint::Token);
    let runs: Vec<_> = (0..24)
        .map(|_| {
            let home = home.path().to_path_buf();
            let cfg = cfg.clone();
            tokio::spawn(async move {
                run_cli(&home, &["--config", &cfg, "token", "--json"], &[]).await
            })
        })
        .collect();
    let mut sources = Vec::new();
    for run in runs {
        let o = run.await.expect("joined");
        assert_eq!(o.status.code(), Some(0), "{}", all_output(&o));
        sources.push(support::stdout_json(&o)["source"].clone());
    }
    assert_eq!(
        sb.request_count(Endpoint::Token) - before,
        1,
        "one token request for 24 processes; sources: {sources:?}"
    );
    assert_eq!(
        sources.iter().filter(|s| *s == "network").count(),
        1,
        "{sources:?}"
    );
    sb.shutdown().await;
}

/// A config for the sandbox's console-rw client with `api_url` as given.
fn config_with_api(sb: &tokenscope::sandbox::SandboxHandle, dir: &Path, api_url: &str) -> String {
    let rw = sb.client("console-rw").expect("client");
    let path = dir.join("api.toml");
    std::fs::write(
        &path,
        format!(
            "[profiles.p]\nauthority = \"{}\"\nclient_id = \"{}\"\nclient_secret_env = \"TS_SECRET\"\nscope = \"{}\"\napi_url = \"{api_url}\"\ncache = false\n",
            sb.authority(),
            rw.client_id,
            sb.api_scope()
        ),
    )
    .unwrap();
    path.to_str().unwrap().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plain_http_to_a_remote_host_is_refused_before_a_token_is_asked_for() {
    let sb = support::sandbox(Default::default()).await;
    let home = tempfile::tempdir().unwrap();
    let secret = sb.client("console-rw").expect("client").secret;
    let env = [("TS_SECRET", secret.as_str())];
    let port = sb.local_addr().port();
    for host in [
        "api.contoso.example".to_string(),
        "api.localhost".to_string(),
        "localhost.".to_string(),
        format!("127.0.0.1.nip.io:{port}"),
        "10.0.0.1".to_string(),
    ] {
        let cfg = config_with_api(
            &sb,
            home.path(),
            &format!("http://{host}/api/weather/{{city}}"),
        );
        for json in [false, true] {
            let before = sb.request_count(Endpoint::Token);
            let mut args = vec!["--config", cfg.as_str(), "call", "Seattle"];
            if json {
                args.push("--json");
            }
            let o = run_cli(home.path(), &args, &env).await;
            let out = all_output(&o);
            assert_eq!(o.status.code(), Some(2), "{host}:\n{out}");
            assert!(
                out.contains("plain http") && out.contains("https://"),
                "{host}:\n{out}"
            );
            if json {
                assert_eq!(support::stdout_json(&o)["error"]["kind"], "insecure");
            }
            assert_eq!(
                sb.request_count(Endpoint::Token),
                before,
                "{host}: no token was requested"
            );
        }
        // doctor says so in its config checks, before the token line.
        let o = run_cli(home.path(), &["--config", &cfg, "doctor"], &env).await;
        let out = all_output(&o);
        assert_eq!(o.status.code(), Some(1), "{out}");
        assert!(out.contains("api_url is plain http"), "{host}:\n{out}");
    }
    // `localhost` itself is loopback: tokenscope resolves it, to 127.0.0.1 where the sandbox is.
    let cfg = config_with_api(
        &sb,
        home.path(),
        &format!("http://localhost:{port}/api/weather/{{city}}"),
    );
    let o = run_cli(home.path(), &["--config", &cfg, "call", "Seattle"], &env).await;
    assert_eq!(o.status.code(), Some(0), "{}", all_output(&o));
    sb.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn doctor_warns_about_a_secret_file_others_can_read() {
    use std::os::unix::fs::PermissionsExt as _;
    let sb = support::sandbox(Default::default()).await;
    let home = tempfile::tempdir().unwrap();
    let rw = sb.client("console-rw").expect("client");
    let secret = home.path().join("secret");
    std::fs::write(&secret, &rw.secret).unwrap();
    let cfg = home.path().join("file.toml");
    std::fs::write(
        &cfg,
        format!(
            "[profiles.p]\nauthority = \"{}\"\nclient_id = \"{}\"\nclient_secret_file = \"secret\"\nscope = \"{}\"\napi_url = \"{}\"\ncache = false\n",
            sb.authority(),
            rw.client_id,
            sb.api_scope(),
            sb.api_url_template()
        ),
    )
    .unwrap();
    let cfg = cfg.to_str().unwrap();
    for (mode, warned) in [(0o644, true), (0o640, true), (0o600, false)] {
        std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(mode)).unwrap();
        let o = run_cli(home.path(), &["--config", cfg, "doctor"], &[]).await;
        let out = all_output(&o);
        assert_eq!(
            o.status.code(),
            Some(0),
            "a warning is not a failure:\n{out}"
        );
        let line = format!("chmod 600 {}", secret.display());
        assert_eq!(out.contains(&line), warned, "{mode:o}:\n{out}");
        assert_eq!(
            out.contains(&format!("{mode:04o}")),
            warned,
            "{mode:o}:\n{out}"
        );
        let o = run_cli(home.path(), &["--config", cfg, "doctor", "--json"], &[]).await;
        let checks = support::stdout_json(&o)["checks"].clone();
        let found = checks
            .as_array()
            .expect("checks")
            .iter()
            .any(|c| c["severity"] == "warning" && c["fix"].as_str() == Some(line.as_str()));
        assert_eq!(found, warned, "{mode:o}: {checks}");
    }
    sb.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broken_location_is_an_api_failure() {
    let sb = support::sandbox(Default::default()).await;
    let home = tempfile::tempdir().unwrap();
    let secret = sb.client("console-rw").expect("client").secret;
    let env = [("TS_SECRET", secret.as_str())];
    for location in [
        "http://[::zz/",
        "javascript:alert(1)",
        "file:///etc/passwd",
        "http://a b/",
    ] {
        let api = support::raw_server(support::http_response(
            "302 Found",
            &[("Location", location)],
            b"",
        ))
        .await;
        let cfg = config_with_api(
            &sb,
            home.path(),
            &format!("http://{api}/api/weather/{{city}}"),
        );
        let o = run_cli(home.path(), &["--config", &cfg, "call", "Seattle"], &env).await;
        let out = all_output(&o);
        assert_eq!(o.status.code(), Some(5), "{location}:\n{out}");
        assert!(
            !out.contains("api_url"),
            "not the profile's fault: {location}:\n{out}"
        );
        assert!(out.contains("redirected to"), "{location}:\n{out}");
        let o = run_cli(
            home.path(),
            &["--config", &cfg, "call", "Seattle", "--json"],
            &env,
        )
        .await;
        assert_eq!(o.status.code(), Some(5));
        let e = &support::stdout_json(&o)["error"];
        assert_eq!(
            (&e["stage"], &e["kind"]),
            (&"api".into(), &"bad_redirect".into()),
            "{e}"
        );
    }
    sb.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn odd_error_codes_keep_the_aadsts_explanation() {
    let home = tempfile::tempdir().unwrap();
    for codes in [
        "[-1]",
        r#"["x"]"#,
        "null",
        r#""7000215""#,
        "[1.5, -3, 7000215]",
        "{}",
    ] {
        let body = format!(
            r#"{{"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided. Trace ID: t","error_codes":{codes},"trace_id":"t-1","correlation_id":"c-1"}}"#
        );
        let idp = support::raw_server(support::http_response(
            "401 Unauthorized",
            &[("Content-Type", "application/json")],
            body.as_bytes(),
        ))
        .await;
        let cfg = home.path().join("idp.toml");
        std::fs::write(
            &cfg,
            format!(
                "[profiles.p]\nauthority = \"http://{idp}/t\"\nclient_id = \"c\"\nclient_secret_env = \"TS_SECRET\"\nscope = \"api://api/.default\"\napi_url = \"http://{idp}/api/{{city}}\"\ncache = false\n"
            ),
        )
        .unwrap();
        let cfg = cfg.to_str().unwrap();
        let env = [("TS_SECRET", "s")];
        let o = run_cli(home.path(), &["--config", cfg, "token"], &env).await;
        let out = all_output(&o);
        assert_eq!(o.status.code(), Some(3), "{codes}:\n{out}");
        assert!(
            out.contains("AADSTS7000215: Invalid client secret provided.")
                && out.contains("why:")
                && out.contains("trace id t-1"),
            "{codes}:\n{out}"
        );
        let o = run_cli(home.path(), &["--config", cfg, "token", "--json"], &env).await;
        let e = &support::stdout_json(&o)["error"];
        assert_eq!(e["aadsts"], 7000215, "{codes}: {e}");
        assert_eq!(e["kind"], "rejected", "{codes}: {e}");
    }
}

/// The dashboard's call path checks the URL in the core (`api::weather_target`) before it
/// asks for a token: `localhost.` goes to a resolver, so plain http to it is refused and the
/// API never hears of the call.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_refuses_plain_http_to_a_name_it_would_have_to_resolve() {
    let sb = support::sandbox(Default::default()).await;
    let home = tempfile::tempdir().unwrap();
    let secret = sb.client("console-rw").expect("client").secret;
    let port = sb.local_addr().port();
    let cfg = config_with_api(
        &sb,
        home.path(),
        &format!("http://localhost.:{port}/api/weather/{{city}}"),
    );
    let env = tokenscope::config::Env::from_pairs([("TS_SECRET", secret.as_str())]);
    let profile = support::load_profile(Path::new(&cfg), Some("p"), &env);
    let mut d = support::Dashboard::start(&profile);
    d.typed("Seattle");
    d.keys([crossterm::event::KeyCode::Enter]);
    d.wait_for(&["plain http"]).await;
    assert_eq!(
        sb.request_count(Endpoint::Api),
        0,
        "nothing was sent to the API"
    );
    d.quit().await;
    sb.shutdown().await;
}
