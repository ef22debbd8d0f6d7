//! No text from outside reaches the terminal raw (issue 15, defect 6): every C0 and C1
//! control, DEL, the bidi overrides U+202A–U+202E and U+2066–U+2069, and escape sequences
//! (CSI, OSC title and clipboard, DCS, a fake prompt), put in a token's header and claims,
//! a token response's fields, an identity provider's error, an API's JSON and text bodies,
//! its `WWW-Authenticate` and `Location` headers and the sandbox's tenant file, come out of
//! `decode`, `token`, `call`, `doctor` and `sandbox` made visible — on stdout and stderr,
//! as text and as JSON. `token --raw` prints only a token that looks like one.

#[path = "fixtures/support.rs"]
mod support;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use base64::Engine as _;
use serde_json::{Value, json};
use support::{all_output, http_response, run_cli, serve_raw};

/// The hostile strings: all the characters at once, and sequences a terminal would act on.
fn hostile_strings() -> Vec<String> {
    let every: String = (0u32..0x20)
        .chain([0x7f])
        .chain(0x80..0xa0)
        .chain(0x202a..=0x202e)
        .chain(0x2066..=0x2069)
        .filter_map(char::from_u32)
        .collect();
    vec![
        format!("all{every}end"),
        "\x1b[2J\x1b[H\x1b[31mred".into(),
        "\x1b]0;pwned\x07title".into(),
        "\x1b]52;c;ZXZpbA==\x07clip".into(),
        "\u{9b}31mc1-csi\u{9d}0;osc\u{9c}".into(),
        "\x1bP1$qm\x1b\\dcs".into(),
        "invoice\u{202e}fdp.exe\u{2066}x\u{2069}".into(),
        "\r\x1b[1A\x1b[2Kfake prompt $ ".into(),
    ]
}

/// A character a terminal could act on: a C0 control other than newline and tab, DEL, a
/// C1 control, or a bidi override/isolate.
fn active(c: char) -> bool {
    (c.is_control() && c != '\n' && c != '\t')
        || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

fn assert_inert(what: &str, o: &std::process::Output) {
    for (name, bytes) in [("stdout", &o.stdout), ("stderr", &o.stderr)] {
        let text = String::from_utf8_lossy(bytes);
        if let Some(c) = text.chars().find(|&c| active(c)) {
            panic!("{what}: {name} carries {c:?} raw:\n{}", all_output(o));
        }
    }
}

fn b64(v: &Value) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
}

/// An unsigned-looking JWT with `h` in its header, claim names and values.
fn hostile_jwt(h: &str) -> String {
    let header = json!({"typ": "JWT", "alg": "RS256", "kid": h});
    let claims = json!({
        "aud": "api://api",
        "roles": [h, "Weather.Read"],
        "appid": h,
        "exp": 1_900_000_000,
        "x-note": h,
        h: "value",
    });
    format!("{}.{}.c2ln", b64(&header), b64(&claims))
}

/// A raw identity provider and API whose answers the test sets.
struct Servers {
    token: Arc<Mutex<Vec<u8>>>,
    api: Arc<Mutex<Vec<u8>>>,
    cfg: PathBuf,
    _dir: tempfile::TempDir,
}

impl Servers {
    async fn start() -> Servers {
        let token = Arc::new(Mutex::new(Vec::new()));
        let api = Arc::new(Mutex::new(Vec::new()));
        let (t, a) = (token.clone(), api.clone());
        let idp = serve_raw(move || t.lock().unwrap().clone()).await;
        let api_addr = serve_raw(move || a.lock().unwrap().clone()).await;
        let dir = tempfile::tempdir().unwrap();
        let cfg = dir.path().join("config.toml");
        std::fs::write(
            &cfg,
            format!(
                r#"[profiles.p]
authority = "http://{idp}/t"
client_id = "c"
client_secret_env = "HOSTILE_TEXT_SECRET"
scope = "api://api/.default"
api_url = "http://{api_addr}/api/weather/{{city}}"
expected_roles = ["Weather.Read"]
cache = false
timeout = "5s"
"#
            ),
        )
        .unwrap();
        Servers {
            token,
            api,
            cfg,
            _dir: dir,
        }
    }

    fn token_json(&self, status: &str, body: &Value) {
        *self.token.lock().unwrap() = http_response(
            status,
            &[("Content-Type", "application/json")],
            body.to_string().as_bytes(),
        );
    }

    fn token_ok(&self, access_token: &str, token_type: &str) {
        self.token_json(
            "200 OK",
            &json!({"token_type": token_type, "access_token": access_token, "expires_in": 3599}),
        );
    }

    fn api(&self, response: Vec<u8>) {
        *self.api.lock().unwrap() = response;
    }

    async fn run(&self, home: &Path, args: &[&str]) -> std::process::Output {
        let mut full = vec!["--config", self.cfg.to_str().unwrap()];
        full.extend_from_slice(args);
        run_cli(home, &full, &[("HOSTILE_TEXT_SECRET", "s")]).await
    }
}

/// Check one run: the exit code, nothing active on stdout or stderr, valid JSON for
/// `--json`, and (when `shown`) the escape made visible somewhere.
fn check(what: &str, o: &std::process::Output, code: i32, shown: bool) {
    assert_eq!(o.status.code(), Some(code), "{what}:\n{}", all_output(o));
    assert_inert(what, o);
    if what.contains("--json") && !o.stdout.is_empty() {
        support::stdout_json(o);
    }
    if shown {
        let out = all_output(o);
        assert!(
            out.contains("\\u{1b}")
                || out.contains("\\u001b")
                || out.contains("\\u{9b}")
                || out.contains("\\u009b")
                || out.contains("\\u{202e}")
                || out.contains("\\u202e"),
            "{what}: the hostile text is shown, made visible:\n{out}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn decode_shows_hostile_tokens_inert() {
    let home = tempfile::tempdir().unwrap();
    for h in hostile_strings() {
        let jwt = hostile_jwt(&h);
        for args in [
            vec!["decode", jwt.as_str()],
            vec!["decode", "--explain", jwt.as_str()],
            vec!["decode", "--json", jwt.as_str()],
            vec!["decode", "--json", "--explain", jwt.as_str()],
        ] {
            let o = run_cli(home.path(), &args, &[]).await;
            check(&format!("{:?} {h:?}", &args[..args.len() - 1]), &o, 0, true);
        }
        // Not a JWT at all (from standard input: an argument cannot hold NUL): the error
        // quotes nothing raw either.
        for args in [vec!["decode", "-"], vec!["decode", "--json", "-"]] {
            let input = format!("x.{h}.y");
            let o = support::run_cli_with_input(home.path(), &args, &[], Some(&input)).await;
            check(&format!("{args:?} x.{h:?}.y"), &o, 2, false);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_call_and_doctor_show_hostile_servers_inert() {
    let s = Servers::start().await;
    let home = tempfile::tempdir().unwrap();
    let home = home.path();
    for h in hostile_strings() {
        let jwt = hostile_jwt(&h);
        let body = json!({"detail": format!("IDW10203: {h}"), h.as_str(): [h.as_str()]});
        let challenge =
            "Bearer error=\"insufficient_scope\", error_description=\"x\u{202e}y\u{9b}z\"";
        s.token_ok(&jwt, &h);
        s.api(http_response(
            "403 Forbidden",
            &[
                ("Content-Type", "application/json"),
                ("WWW-Authenticate", challenge),
            ],
            body.to_string().as_bytes(),
        ));
        for (args, code) in [
            (vec!["token"], 0),
            (vec!["token", "--json"], 0),
            (vec!["call", "Seattle"], 4),
            (vec!["call", "Seattle", "--json"], 4),
            (vec!["doctor"], 1),
            (vec!["doctor", "--json"], 1),
        ] {
            let o = s.run(home, &args).await;
            check(&format!("{args:?} {h:?}"), &o, code, true);
        }
        // A plain-text body and a broken redirect, with the bytes as they come.
        let mut text = b"IDW10203: ".to_vec();
        text.extend_from_slice(h.as_bytes());
        s.api(http_response(
            "200 OK",
            &[("Content-Type", "text/plain")],
            &text,
        ));
        for args in [vec!["call", "Seattle"], vec!["call", "Seattle", "--json"]] {
            let o = s.run(home, &args).await;
            check(&format!("{args:?} text {h:?}"), &o, 0, true);
        }
        let mut redirect = b"HTTP/1.1 302 Found\r\nLocation: /next/".to_vec();
        redirect.extend_from_slice("\u{202e}\u{9b}".as_bytes());
        redirect.extend_from_slice(b"\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        s.api(redirect);
        for args in [vec!["call", "Seattle"], vec!["call", "Seattle", "--json"]] {
            let o = s.run(home, &args).await;
            check(&format!("{args:?} redirect {h:?}"), &o, 5, false);
        }
        // The identity provider refuses, quoting the hostile text everywhere it can.
        s.token_json(
            "401 Unauthorized",
            &json!({
                "error": h,
                "error_description": format!("AADSTS7000215: Invalid client secret provided. {h}"),
                "error_codes": [7000215],
                "trace_id": h,
                "correlation_id": h,
                "error_uri": h,
            }),
        );
        for (args, code) in [
            (vec!["token"], 3),
            (vec!["token", "--json"], 3),
            (vec!["call", "Seattle"], 3),
            (vec!["doctor"], 1),
            (vec!["doctor", "--json"], 1),
        ] {
            let o = s.run(home, &args).await;
            check(&format!("{args:?} refused {h:?}"), &o, code, false);
        }
        // Not JSON at all.
        let mut page = b"<html><body>".to_vec();
        page.extend_from_slice(h.as_bytes());
        *s.token.lock().unwrap() =
            http_response("502 Bad Gateway", &[("Content-Type", "text/html")], &page);
        for args in [vec!["token"], vec!["token", "--json"]] {
            let o = s.run(home, &args).await;
            check(&format!("{args:?} html {h:?}"), &o, 3, false);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_raw_prints_only_a_token_that_looks_like_one() {
    let s = Servers::start().await;
    let home = tempfile::tempdir().unwrap();
    let jwt = hostile_jwt("ok");
    s.token_ok(&jwt, "Bearer");
    let o = s.run(home.path(), &["token", "--raw"]).await;
    assert_eq!(o.status.code(), Some(0), "{}", all_output(&o));
    assert_eq!(String::from_utf8_lossy(&o.stdout).trim_end(), jwt);
    s.token_ok("opaque-token_1.2~3+4/5==", "Bearer");
    let o = s.run(home.path(), &["token", "--raw"]).await;
    assert_eq!(
        String::from_utf8_lossy(&o.stdout),
        "opaque-token_1.2~3+4/5==\n"
    );
    let mut bad: Vec<String> = hostile_strings()
        .into_iter()
        .map(|h| format!("QZX{h}QZX"))
        .collect();
    bad.extend([
        "QZX two".into(),
        "QZX=b".into(),
        "QZXö".into(),
        "QZX ".into(),
    ]);
    for token in bad {
        s.token_ok(&token, "Bearer");
        for args in [vec!["token", "--raw"], vec!["token", "--raw", "--json"]] {
            let o = s.run(home.path(), &args).await;
            check(&format!("{args:?} {token:?}"), &o, 3, false);
            let out = all_output(&o);
            assert!(out.contains("not a bearer token"), "{out}");
            assert!(
                !out.contains("QZX"),
                "{args:?}: nothing of it is printed:\n{out}"
            );
        }
    }
}

/// A TOML basic string for `s`, every control and non-ASCII character escaped.
fn toml_str(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_ascii() && !c.is_control() => out.push(c),
            c => out.push_str(&format!("\\U{:08X}", c as u32)),
        }
    }
    out.push('"');
    out
}

#[tokio::test]
async fn the_sandbox_banner_shows_a_hostile_tenant_inert() {
    let builtin =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/sandbox.toml"))
            .unwrap();
    let home = tempfile::tempdir().unwrap();
    for h in hostile_strings() {
        let text = builtin
            .replace(
                "\"sbx8Q~mobile-ro.sandbox-only.not-a-real-secret\"",
                &toml_str(&format!("secret{h}")),
            )
            .replace(
                "\"system:serviceaccount:weather:console\"",
                &toml_str(&format!("system:serviceaccount:{h}")),
            );
        assert_ne!(text, builtin);
        let tenant = home.path().join("tenant.toml");
        std::fs::write(&tenant, text).unwrap();
        let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_tokenscope"))
            .args([
                "sandbox",
                "--addr",
                "127.0.0.1:0",
                "--no-key-store",
                "--tenant",
            ])
            .arg(&tenant)
            .env_clear()
            .env("HOME", home.path())
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("spawned");
        let mut stdout = child.stdout.take().expect("piped");
        let mut banner = Vec::new();
        let read = tokio::time::timeout(support::STEP, async {
            use tokio::io::AsyncReadExt as _;
            let mut chunk = [0u8; 4096];
            while !banner.windows(11).any(|w| w == b"Press Ctrl-") {
                match stdout.read(&mut chunk).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => banner.extend_from_slice(&chunk[..n]),
                }
            }
        })
        .await;
        // SAFETY: kill(2) on the child we spawned.
        unsafe { libc::kill(child.id().expect("running") as i32, libc::SIGINT) };
        let o = child.wait_with_output().await.expect("ended");
        let o = std::process::Output {
            status: o.status,
            stdout: [banner, o.stdout].concat(),
            stderr: o.stderr,
        };
        assert!(read.is_ok(), "the banner came: {}", all_output(&o));
        check(&format!("sandbox banner {h:?}"), &o, 0, true);
    }
}
