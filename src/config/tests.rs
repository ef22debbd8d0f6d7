use super::*;
use std::io::Write;

const GOOD: &str = r#"
default_profile = "console"

[profiles.console]
authority = "https://login.microsoftonline.com/11111111-1111-1111-1111-111111111111"
client_id = "22222222-2222-2222-2222-222222222222"
client_secret_env = "WEATHER_SECRET"
scope = "api://33333333-3333-3333-3333-333333333333/.default"
api_url = "http://localhost:8000/api/weather/{city}"
expected_roles = ["Weather.Read"]
timeout = "5s"

[profiles.mobile]
authority = "https://login.microsoftonline.com/contoso.onmicrosoft.com"
client_id = "44444444-4444-4444-4444-444444444444"
client_secret = "inline-value"
scope = "api://33333333-3333-3333-3333-333333333333/.default"
api_url = "https://api.contoso.com/api/weather/{city}"
"#;

fn write(text: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.toml");
    std::fs::File::create(&path)
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    (dir, path)
}

fn load_with(
    text: &str,
    profile: Option<&str>,
    env: &[(&str, &str)],
) -> Result<Profile, ConfigError> {
    let (_dir, path) = write(text);
    let opts = LoadOptions {
        config: Some(path),
        profile: profile.map(str::to_string),
    };
    load(&opts, &Env::from_pairs(env.iter().copied()))
}

#[test]
fn resolves_default_profile_with_env_secret() {
    let p = load_with(GOOD, None, &[("WEATHER_SECRET", "s3cret")]).unwrap();
    assert_eq!(p.name, "console");
    assert_eq!(
        p.tenant.as_deref(),
        Some("11111111-1111-1111-1111-111111111111")
    );
    assert_eq!(
        p.token_endpoint,
        "https://login.microsoftonline.com/11111111-1111-1111-1111-111111111111/oauth2/v2.0/token"
    );
    assert_eq!(p.timeout, Duration::from_secs(5));
    assert_eq!(p.connect_timeout, DEFAULT_CONNECT_TIMEOUT);
    let Credential::Secret { secret, source } = &p.credential else {
        panic!("expected a client secret, got {:?}", p.credential.kind());
    };
    assert_eq!(secret.expose(), "s3cret");
    assert_eq!(source, &SecretSource::EnvVar("WEATHER_SECRET".into()));
    // The profile's Debug output never shows the secret.
    assert!(!format!("{p:?}").contains("s3cret"));
}

#[test]
fn selects_named_profile_and_suggests_close_names() {
    let p = load_with(GOOD, Some("mobile"), &[]).unwrap();
    assert_eq!(p.tenant.as_deref(), Some("contoso.onmicrosoft.com"));
    let err = load_with(GOOD, Some("mobil"), &[]).unwrap_err().to_string();
    assert!(err.contains("no profile named `mobil`"), "{err}");
    assert!(err.contains("did you mean `mobile`"), "{err}");
}

#[test]
fn azure_env_vars_override_the_file() {
    let env = [
        ("AZURE_TENANT_ID", "99999999-9999-9999-9999-999999999999"),
        ("AZURE_AUTHORITY_HOST", "https://login.microsoftonline.us/"),
        ("AZURE_CLIENT_ID", "88888888-8888-8888-8888-888888888888"),
        ("AZURE_CLIENT_SECRET", "from-azure-env"),
        ("WEATHER_SECRET", "from-profile-env"),
    ];
    let p = load_with(GOOD, None, &env).unwrap();
    assert_eq!(
        p.authority,
        "https://login.microsoftonline.us/99999999-9999-9999-9999-999999999999"
    );
    assert_eq!(p.authority_origin, Origin::EnvVar("AZURE_TENANT_ID"));
    assert_eq!(p.client_id, "88888888-8888-8888-8888-888888888888");
    assert_eq!(p.client_id_origin, Origin::EnvVar("AZURE_CLIENT_ID"));
    let Credential::Secret { secret, source } = &p.credential else {
        panic!("expected a client secret, got {:?}", p.credential.kind());
    };
    assert_eq!(secret.expose(), "from-azure-env");
    assert_eq!(source, &SecretSource::AzureEnv);
    // Only the tenant: host comes from the file.
    let p = load_with(
        GOOD,
        None,
        &[("AZURE_TENANT_ID", "t2"), ("WEATHER_SECRET", "x")],
    )
    .unwrap();
    assert_eq!(p.authority, "https://login.microsoftonline.com/t2");
    // Only the host: tenant comes from the file.
    let p = load_with(
        GOOD,
        None,
        &[
            ("AZURE_AUTHORITY_HOST", "https://login.chinacloudapi.cn"),
            ("WEATHER_SECRET", "x"),
        ],
    )
    .unwrap();
    assert_eq!(
        p.authority,
        "https://login.chinacloudapi.cn/11111111-1111-1111-1111-111111111111"
    );
}

#[test]
fn parse_errors_have_line_column_and_did_you_mean() {
    let text = GOOD.replace("client_secret_env = ", "client_secret_en = ");
    let err = load_with(&text, None, &[]).unwrap_err();
    let ConfigError::Parse {
        line, column, hint, ..
    } = &err
    else {
        panic!("{err}")
    };
    assert_eq!((*line, *column), (7, 1));
    assert_eq!(hint.as_deref(), Some("did you mean `client_secret_env`?"));
    let shown = err.to_string();
    assert!(shown.contains("config.toml:7:1:"), "{shown}");

    let err = load_with("default_profil = \"x\"\n", None, &[])
        .unwrap_err()
        .to_string();
    assert!(err.contains("did you mean `default_profile`?"), "{err}");

    let err = load_with("[profiles.a]\nscope = [1\n", None, &[]).unwrap_err();
    let ConfigError::Parse { line, .. } = err else {
        panic!()
    };
    assert_eq!(line, 2);

    let err = load_with("[profiles.a]\ntimeout = \"soon\"\n", None, &[])
        .unwrap_err()
        .to_string();
    assert!(err.contains(":2:11:") && err.contains("duration"), "{err}");
}

#[test]
fn missing_secret_names_every_place_looked() {
    let err = load_with(GOOD, None, &[]).unwrap_err().to_string();
    assert!(err.contains("AZURE_CLIENT_SECRET"), "{err}");
    assert!(
        err.contains("WEATHER_SECRET named by client_secret_env"),
        "{err}"
    );
    assert!(
        err.contains("client_secret_file in the profile (not set)"),
        "{err}"
    );
    assert!(
        err.contains("client_secret in the profile (not set)"),
        "{err}"
    );
}

#[test]
fn secret_file_is_relative_to_the_config_and_trimmed() {
    let (dir, path) = write(&GOOD.replace(
        "client_secret_env = \"WEATHER_SECRET\"",
        "client_secret_file = \"secret.txt\"",
    ));
    std::fs::write(dir.path().join("secret.txt"), "from-file\n").unwrap();
    let p = load(
        &LoadOptions {
            config: Some(path),
            profile: None,
        },
        &Env::default(),
    )
    .unwrap();
    let Credential::Secret { secret, source } = &p.credential else {
        panic!("expected a client secret, got {:?}", p.credential.kind());
    };
    assert_eq!(secret.expose(), "from-file");
    assert_eq!(source, &SecretSource::File(dir.path().join("secret.txt")));
}

#[test]
fn two_secret_sources_are_ambiguous() {
    let text = GOOD.replace(
        "client_secret = \"inline-value\"",
        "client_secret = \"a\"\nclient_secret_env = \"B\"",
    );
    let err = load_with(&text, Some("mobile"), &[])
        .unwrap_err()
        .to_string();
    assert!(err.contains("client_secret_env and client_secret"), "{err}");
}

#[test]
fn api_url_needs_city_placeholder_and_profile_needs_fields() {
    let text = GOOD.replace(
        "/api/weather/{city}\"\nexpected",
        "/api/weather\"\nexpected",
    );
    let err = load_with(&text, None, &[("WEATHER_SECRET", "x")])
        .unwrap_err()
        .to_string();
    assert!(err.contains("no {city} placeholder"), "{err}");
    let err = load_with("[profiles.a]\nclient_id = \"x\"\n", None, &[])
        .unwrap_err()
        .to_string();
    assert!(err.contains("has no `authority`"), "{err}");
    let err = load_with("[profiles.a]\n[profiles.b]\n", None, &[])
        .unwrap_err()
        .to_string();
    assert!(err.contains("which profile?"), "{err}");
}

#[test]
fn lookup_order() {
    let env = Env::from_pairs([("TOKENSCOPE_CONFIG", "/from/env.toml")]);
    let l = locate(Some(Path::new("/explicit.toml")), &env);
    assert_eq!(l.chosen.as_deref(), Some(Path::new("/explicit.toml")));
    let l = locate(None, &env);
    assert_eq!(l.chosen.as_deref(), Some(Path::new("/from/env.toml")));
    let l = locate(None, &Env::default());
    assert_eq!(l.candidates.len(), 1);
    assert_eq!(l.candidates[0].1, "platform config dir");
    let err = load(
        &LoadOptions {
            config: Some("/nonexistent/x.toml".into()),
            profile: None,
        },
        &Env::default(),
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("/nonexistent/x.toml"), "{err}");
}

#[test]
fn example_config_parses() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("config.example.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    let file = ConfigFile::parse(&text, &path).unwrap();
    assert!(file.profiles.len() >= 2);
    let loaded = Loaded { path, file };
    for name in loaded.file.profiles.keys() {
        resolve(
            &loaded,
            Some(name),
            &Env::from_pairs([("AZURE_CLIENT_SECRET", "x")]),
        )
        .unwrap_or_else(|e| panic!("profile {name}: {e}"));
    }
}
