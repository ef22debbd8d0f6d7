use super::*;
use crate::problem::Problem;
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

    let err = load_with("default_profil = \"x\"\n", None, &[]).unwrap_err();
    crate::problem::assert_keeps_convention(&err);
    let err = err.full_text();
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
    let loaded = Loaded {
        path,
        file,
        implicit: false,
    };
    for name in loaded.file.profiles.keys() {
        resolve(
            &loaded,
            Some(name),
            &Env::from_pairs([("AZURE_CLIENT_SECRET", "x")]),
        )
        .unwrap_or_else(|e| panic!("profile {name}: {e}"));
    }
}

/// No config file anywhere: what `load_file` sees when the platform file is absent.
fn no_file() -> Lookup {
    Lookup {
        candidates: vec![(
            PathBuf::from("/nonexistent/tokenscope/config.toml"),
            "platform config dir",
            false,
        )],
        chosen: None,
    }
}

const ENV_COMPLETE: &[(&str, &str)] = &[
    ("AZURE_TENANT_ID", "11111111-1111-1111-1111-111111111111"),
    ("AZURE_CLIENT_ID", "22222222-2222-2222-2222-222222222222"),
    ("AZURE_CLIENT_SECRET", "from-env"),
    (
        "TOKENSCOPE_SCOPE",
        "api://33333333-3333-3333-3333-333333333333/.default",
    ),
    (
        "TOKENSCOPE_API_URL",
        "http://localhost:8000/api/weather/{city}",
    ),
    ("TOKENSCOPE_EXPECTED_ROLES", "Weather.Read, Weather.Write"),
];

#[test]
fn env_alone_makes_an_implicit_env_profile() {
    let env = Env::from_pairs(ENV_COMPLETE.iter().copied());
    let loaded = load_located(no_file(), &env).unwrap();
    assert!(loaded.implicit);
    let p = resolve(&loaded, None, &env).unwrap();
    assert_eq!(p.name, ENV_PROFILE);
    assert_eq!(
        p.authority,
        "https://login.microsoftonline.com/11111111-1111-1111-1111-111111111111"
    );
    assert_eq!(p.client_id, "22222222-2222-2222-2222-222222222222");
    assert_eq!(
        p.scope,
        "api://33333333-3333-3333-3333-333333333333/.default"
    );
    assert_eq!(p.expected_roles, ["Weather.Read", "Weather.Write"]);
    assert_eq!(p.config_path, None);
    assert!(matches!(
        &p.credential,
        Credential::Secret {
            source: SecretSource::AzureEnv,
            ..
        }
    ));
    // A national cloud from AZURE_AUTHORITY_HOST, by name or URL.
    for host in ["usgov", "https://login.microsoftonline.us/"] {
        let mut pairs = ENV_COMPLETE.to_vec();
        pairs.push(("AZURE_AUTHORITY_HOST", host));
        let env = Env::from_pairs(pairs);
        let p = resolve(&load_located(no_file(), &env).unwrap(), None, &env).unwrap();
        assert_eq!(
            p.authority,
            "https://login.microsoftonline.us/11111111-1111-1111-1111-111111111111"
        );
    }
}

#[test]
fn incomplete_env_names_what_is_missing() {
    let env = Env::from_pairs([
        ("AZURE_CLIENT_ID", "22222222-2222-2222-2222-222222222222"),
        (
            "AZURE_FEDERATED_TOKEN_FILE",
            "/var/run/secrets/azure/tokens/azure-identity-token",
        ),
    ]);
    let err = load_located(no_file(), &env).unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, ConfigError::IncompleteEnv { .. }), "{text}");
    for v in ["AZURE_TENANT_ID", "TOKENSCOPE_SCOPE", "TOKENSCOPE_API_URL"] {
        assert!(text.contains(v), "{text}");
    }
    assert!(!text.contains("AZURE_CLIENT_ID,"), "{text}");
    // Nothing Azure-ish set: the plain "no config file" error.
    let err = load_located(no_file(), &Env::default()).unwrap_err();
    assert!(matches!(err, ConfigError::NotFound { .. }));
}

#[test]
fn tenant_and_cloud_presets_make_the_authority() {
    let base = GOOD.replace(
        "authority = \"https://login.microsoftonline.com/11111111-1111-1111-1111-111111111111\"",
        "tenant = \"11111111-1111-1111-1111-111111111111\"\ncloud = \"CLOUD\"",
    );
    for (cloud, host) in [
        ("public", "https://login.microsoftonline.com"),
        ("usgov", "https://login.microsoftonline.us"),
        ("AzureUSGovernment", "https://login.microsoftonline.us"),
        ("china", "https://login.chinacloudapi.cn"),
        ("https://login.example.test", "https://login.example.test"),
    ] {
        let p = load_with(
            &base.replace("CLOUD", cloud),
            None,
            &[("WEATHER_SECRET", "x")],
        )
        .unwrap();
        assert_eq!(
            p.authority,
            format!("{host}/11111111-1111-1111-1111-111111111111")
        );
        assert_eq!(
            p.token_endpoint,
            format!("{}/oauth2/v2.0/token", p.authority)
        );
    }
    let err = load_with(
        &base.replace("CLOUD", "mars"),
        None,
        &[("WEATHER_SECRET", "x")],
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("`cloud`") && err.contains("usgov"), "{err}");
    // tenant without cloud: the public cloud.
    let no_cloud = base.replace("cloud = \"CLOUD\"\n", "");
    let p = load_with(&no_cloud, None, &[("WEATHER_SECRET", "x")]).unwrap();
    assert!(
        p.authority
            .starts_with("https://login.microsoftonline.com/")
    );
    // Both authority and tenant: refused, with what to do.
    let both = GOOD.replace("client_id = \"2222", "tenant = \"x\"\nclient_id = \"2222");
    let err = load_with(&both, None, &[("WEATHER_SECRET", "x")])
        .unwrap_err()
        .to_string();
    assert!(err.contains("both authority and tenant"), "{err}");
}

#[test]
fn federated_token_file_from_profile_or_env() {
    let dir = tempfile::tempdir().unwrap();
    let token = dir.path().join("token");
    std::fs::write(&token, "eyJ.fake.token\n").unwrap();
    let text = GOOD.replace(
        "client_secret_env = \"WEATHER_SECRET\"",
        &format!("federated_token_file = {:?}", token.display().to_string()),
    );
    let p = load_with(&text, None, &[]).unwrap();
    let Credential::Federated { token: t, source } = &p.credential else {
        panic!(
            "expected a federated credential, got {}",
            p.credential.kind()
        );
    };
    assert_eq!(t.path(), token.as_path());
    assert_eq!(source, &PathSource::File);
    assert_eq!(p.credential.kind(), "federated token");

    // AZURE_FEDERATED_TOKEN_FILE overrides the profile's secret.
    let env_path = token.display().to_string();
    let p = load_with(GOOD, None, &[("AZURE_FEDERATED_TOKEN_FILE", &env_path)]).unwrap();
    assert!(matches!(
        &p.credential,
        Credential::Federated {
            source: PathSource::EnvVar("AZURE_FEDERATED_TOKEN_FILE"),
            ..
        }
    ));
    // ...but AZURE_CLIENT_SECRET wins over it (EnvironmentCredential's order).
    let p = load_with(
        GOOD,
        None,
        &[
            ("AZURE_FEDERATED_TOKEN_FILE", &env_path),
            ("AZURE_CLIENT_SECRET", "s"),
        ],
    )
    .unwrap();
    assert_eq!(p.credential.kind(), "client secret");

    // A missing file is an error that says where it should come from.
    let err = load_with(
        GOOD,
        None,
        &[("AZURE_FEDERATED_TOKEN_FILE", "/nonexistent/token")],
    )
    .unwrap_err();
    assert!(matches!(err, ConfigError::Credential { .. }), "{err}");
    let err = err.full_text();
    assert!(
        err.contains("/nonexistent/token") && err.contains("workload identity"),
        "{err}"
    );
}

#[test]
fn credential_keys_conflict_and_misplaced_options_are_refused() {
    let both = GOOD.replace(
        "client_secret_env = \"WEATHER_SECRET\"",
        "client_secret_env = \"WEATHER_SECRET\"\nfederated_token_file = \"t\"",
    );
    let err = load_with(&both, None, &[("WEATHER_SECRET", "x")])
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("client_secret_env and federated_token_file"),
        "{err}"
    );

    let stray = GOOD.replace(
        "client_secret_env = \"WEATHER_SECRET\"",
        "client_secret_env = \"WEATHER_SECRET\"\nassertion_algorithm = \"RS256\"",
    );
    let err = load_with(&stray, None, &[("WEATHER_SECRET", "x")])
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("assertion_algorithm") && err.contains("client_certificate_path"),
        "{err}"
    );

    let bad_alg = GOOD.replace(
        "client_secret_env = \"WEATHER_SECRET\"",
        "client_certificate_path = \"c.pem\"\nassertion_algorithm = \"HS256\"",
    );
    let err = load_with(&bad_alg, None, &[]).unwrap_err().to_string();
    assert!(err.contains("PS256") && err.contains("RS256"), "{err}");

    let no_password = GOOD.replace(
        "client_secret_env = \"WEATHER_SECRET\"",
        "client_certificate_path = \"c.pfx\"\nclient_certificate_password_env = \"PFX_PASSWORD\"",
    );
    let err = load_with(&no_password, None, &[]).unwrap_err().to_string();
    assert!(
        err.contains("PFX_PASSWORD") && err.contains("not set"),
        "{err}"
    );

    // No credential at all: every place looked at is listed.
    let none = GOOD.replace("client_secret_env = \"WEATHER_SECRET\"\n", "");
    let err = load_with(&none, None, &[]).unwrap_err().to_string();
    for place in [
        "AZURE_CLIENT_CERTIFICATE_PATH",
        "AZURE_FEDERATED_TOKEN_FILE",
        "client_certificate_path",
    ] {
        assert!(err.contains(place), "{err}");
    }
}

/// Writes a self-signed RSA certificate + PKCS#8 key (one PEM file) valid through 2026 into
/// `dir`, for tests of certificate profiles.
pub(crate) fn write_test_cert(dir: &Path, name: &str) -> PathBuf {
    let key = rcgen::KeyPair::generate_rsa_for(&rcgen::PKCS_RSA_SHA256, rcgen::RsaKeySize::_2048)
        .unwrap();
    let mut params = rcgen::CertificateParams::default();
    params.distinguished_name = rcgen::DistinguishedName::new();
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, name);
    params.not_before = rcgen::date_time_ymd(2026, 1, 1);
    params.not_after = rcgen::date_time_ymd(2027, 1, 1);
    let cert = params.self_signed(&key).unwrap();
    let path = dir.join(format!("{name}.pem"));
    std::fs::write(&path, format!("{}{}", cert.pem(), key.serialize_pem())).unwrap();
    path
}

#[test]
fn certificate_profile_from_file_or_env() {
    let dir = tempfile::tempdir().unwrap();
    let pem = write_test_cert(dir.path(), "console-cert");
    let text = GOOD.replace(
        "client_secret_env = \"WEATHER_SECRET\"",
        &format!(
            "client_certificate_path = {:?}\nassertion_algorithm = \"RS256\"\nsend_certificate_chain = true",
            pem.display().to_string()
        ),
    );
    let p = load_with(&text, None, &[]).unwrap();
    let Credential::Certificate {
        cert,
        source,
        send_chain,
        alg,
    } = &p.credential
    else {
        panic!("expected a certificate, got {}", p.credential.kind());
    };
    assert_eq!(source, &PathSource::File);
    assert!(*send_chain);
    assert_eq!(*alg, crate::credential::AssertionAlg::Rs256);
    assert_eq!(cert.info().subject, "CN=console-cert");
    assert_eq!(cert.info().path, pem);
    assert_eq!(p.credential.kind(), "certificate");

    // AZURE_CLIENT_CERTIFICATE_PATH replaces the profile's secret; PS256 by default.
    let env_path = pem.display().to_string();
    let p = load_with(
        GOOD,
        None,
        &[
            ("AZURE_CLIENT_CERTIFICATE_PATH", env_path.as_str()),
            ("AZURE_CLIENT_SEND_CERTIFICATE_CHAIN", "true"),
        ],
    )
    .unwrap();
    let Credential::Certificate {
        source,
        alg,
        send_chain,
        ..
    } = &p.credential
    else {
        panic!("expected a certificate, got {}", p.credential.kind());
    };
    assert_eq!(source, &PathSource::EnvVar("AZURE_CLIENT_CERTIFICATE_PATH"));
    assert_eq!(*alg, crate::credential::AssertionAlg::Ps256);
    assert!(*send_chain);
    // A different certificate is a different cache identity.
    let other = write_test_cert(dir.path(), "other");
    let p2 = load_with(
        GOOD,
        None,
        &[(
            "AZURE_CLIENT_CERTIFICATE_PATH",
            other.display().to_string().as_str(),
        )],
    )
    .unwrap();
    assert_ne!(p.credential.fingerprint(), p2.credential.fingerprint());

    // A broken certificate file is a config error naming the profile and the file.
    let junk = dir.path().join("junk.pem");
    std::fs::write(&junk, "not a certificate").unwrap();
    let err = load_with(
        GOOD,
        None,
        &[(
            "AZURE_CLIENT_CERTIFICATE_PATH",
            junk.display().to_string().as_str(),
        )],
    )
    .unwrap_err();
    assert!(matches!(err, ConfigError::Credential { .. }), "{err}");
    let text = err.to_string();
    assert!(
        text.contains("console") && text.contains("junk.pem"),
        "{text}"
    );
}

#[test]
fn profiles_keep_file_order() {
    let text = GOOD
        .replace("[profiles.console]", "[profiles.zeta-console]")
        .replace(
            "default_profile = \"console\"",
            "default_profile = \"zeta-console\"",
        )
        .replace("[profiles.mobile]", "[profiles.alpha-mobile]");
    let (_dir, path) = write(&text);
    let opts = LoadOptions {
        config: Some(path),
        profile: None,
    };
    let env = Env::from_pairs([("WEATHER_SECRET", "x")]);
    let loaded = load_file(&opts, &env).unwrap();
    let names: Vec<String> = resolve_all(&loaded, &env)
        .into_iter()
        .map(|(n, p)| {
            assert!(p.is_ok(), "{n}: {p:?}");
            n
        })
        .collect();
    assert_eq!(names, ["zeta-console", "alpha-mobile"]);
}

#[test]
fn azure_overrides_apply_to_the_selected_profile_only_in_the_dashboard() {
    let (_dir, path) = write(GOOD);
    let env = Env::from_pairs([
        ("AZURE_CLIENT_ID", "99999999-9999-9999-9999-999999999999"),
        ("AZURE_CLIENT_SECRET", "from-env"),
        ("AZURE_CLIENT_CERTIFICATE_PASSWORD", "pfx"),
        ("WEATHER_SECRET", "from-profile-env"),
    ]);
    let opts = LoadOptions {
        config: Some(path),
        profile: None,
    };
    // The selected profile: overridden.
    let selected = load(&opts, &env).unwrap();
    assert_eq!(selected.client_id, "99999999-9999-9999-9999-999999999999");
    // The others, as the dashboard resolves them: from the file.
    let others = env.without_azure_overrides();
    assert_eq!(others.get("AZURE_CLIENT_ID"), None);
    assert_eq!(others.get("AZURE_CLIENT_SECRET"), None);
    assert_eq!(others.get("AZURE_CLIENT_CERTIFICATE_PASSWORD"), Some("pfx"));
    let loaded = load_file(&opts, &others).unwrap();
    let all = resolve_all(&loaded, &others);
    let mobile = all[1].1.as_ref().unwrap();
    assert_eq!(mobile.client_id, "44444444-4444-4444-4444-444444444444");
    let console = all[0].1.as_ref().unwrap();
    assert!(matches!(
        &console.credential,
        Credential::Secret { source: SecretSource::EnvVar(v), .. } if v == "WEATHER_SECRET"
    ));
}

#[test]
fn mouse_is_a_top_level_switch() {
    let path = Path::new("config.toml");
    let file = ConfigFile::parse(&format!("mouse = false\n{GOOD}"), path).unwrap();
    assert_eq!(file.mouse, Some(false));
    assert_eq!(
        ConfigFile::parse(GOOD, path).unwrap().mouse,
        None,
        "default: unset (on)"
    );
    let err = ConfigFile::parse("mouse = \"off\"\n", path)
        .unwrap_err()
        .full_text();
    assert!(err.contains("config.toml:1:"), "{err}");
    let err = ConfigFile::parse("mose = false\n", path)
        .unwrap_err()
        .full_text();
    assert!(err.contains("did you mean `mouse`?"), "{err}");
}
