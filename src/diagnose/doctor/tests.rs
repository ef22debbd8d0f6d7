use super::*;
use crate::auth::TokenSource;
use crate::diagnose::testing::{profile, response};
use crate::secret::AccessToken;
use serde_json::json;

fn token(payload: serde_json::Value) -> Arc<CachedToken> {
    let now = time::now();
    let raw = format!(
        "{}.{}.{}",
        jwt::b64url(br#"{"alg":"RS256","typ":"JWT"}"#),
        jwt::b64url(payload.to_string().as_bytes()),
        jwt::b64url(b"sig")
    );
    Arc::new(CachedToken {
        access_token: AccessToken::new(raw),
        token_type: "Bearer".into(),
        acquired_at: now,
        expires_on: now + chrono::Duration::hours(1),
        ext_expires_on: None,
        refresh_on: None,
        source: TokenSource::Network,
        generation: 1,
        server_date: None,
    })
}

fn no_token() -> TokenError {
    TokenError::Insecure(crate::http::InsecureTransport {
        what: "the client credential",
        host: "login.example".into(),
    })
}

fn facts(token: Result<Arc<CachedToken>, TokenError>, api: Option<ApiResponse>) -> Facts {
    let now = time::now();
    Facts {
        now,
        discovery_url: "https://login.example/t/v2.0/.well-known/openid-configuration".into(),
        discovery: Ok("https://login.example/t/v2.0".into()),
        verification: token.as_ref().ok().map(|_| Vec::new()),
        token,
        token_took: Duration::from_micros(2_400),
        token_at: now,
        api: api.map(Ok),
        setup: SetupSeen::Skipped,
        presented: Presented::default(),
    }
}

fn stage<'a>(checks: &'a [Check], stage: &str) -> &'a Check {
    checks
        .iter()
        .find(|c| c.stage == stage)
        .unwrap_or_else(|| panic!("no {stage} in {checks:#?}"))
}

#[test]
fn the_credential_line_is_graded_by_its_expiry_as_lint_grades_it() {
    let mut p = profile();
    let now = time::now();
    let f = facts(Err(no_token()), None);
    assert_eq!(stage(&judge(&p, &f), "credential").severity, Severity::Ok);

    p.secret_expires = Some(now - chrono::Duration::days(884));
    let checks = judge(&p, &f);
    let c = stage(&checks, "credential");
    assert_eq!(c.severity, Severity::Error, "{c:?}");
    assert!(c.detail.contains("expired "), "{c:?}");
    assert!(c.detail.contains("884 days ago"), "{c:?}");
    assert!(
        c.fix.as_deref().is_some_and(|f| f.contains("new secret")),
        "{c:?}"
    );
    // One verdict per fact: the config stage does not say it again.
    assert_eq!(
        stage(&checks, "config").severity,
        Severity::Ok,
        "{checks:#?}"
    );
    assert_eq!(
        checks
            .iter()
            .filter(|c| c.detail.contains("expired"))
            .count(),
        1,
        "{checks:#?}"
    );

    p.secret_expires = Some(now + chrono::Duration::days(10) + chrono::Duration::hours(1));
    let c = stage(&judge(&p, &f), "credential").clone();
    assert_eq!(c.severity, Severity::Warning, "{c:?}");
    assert!(
        c.detail.contains("expires ") && c.detail.contains("in 10 days"),
        "{c:?}"
    );
}

fn refused(code: u64) -> TokenError {
    TokenError::Rejected {
        status: 401,
        entra: Box::new(crate::auth::EntraError {
            error: "invalid_client".into(),
            error_description: Some(format!("AADSTS{code}: refused.")),
            error_codes: vec![code],
            ..Default::default()
        }),
        retry_after: None,
    }
}

#[test]
fn a_credential_the_identity_provider_refused_is_never_ok() {
    let mut p = profile();
    let now = time::now();
    // The profile says 2099; Entra says expired: one ✗, naming the stale date, not
    // "expires in 73 years".
    p.secret_expires = Some(now + chrono::Duration::days(26_000));
    let checks = judge(&p, &facts(Err(refused(7000222)), None));
    let c = stage(&checks, "credential");
    assert_eq!(c.severity, Severity::Error, "{c:?}");
    assert!(
        c.detail
            .contains("expired, says the identity provider (AADSTS7000222)"),
        "{c:?}"
    );
    assert!(
        c.detail.contains("is out of date") && !c.detail.contains(", expires"),
        "{c:?}"
    );
    assert_eq!(stage(&checks, "token").severity, Severity::Error);
    // Expired by both: the profile's date, and the identity provider's refusal.
    p.secret_expires = Some(now - chrono::Duration::days(884));
    let c = stage(
        &judge(&p, &facts(Err(refused(7000222)), None)),
        "credential",
    )
    .clone();
    assert_eq!(c.severity, Severity::Error, "{c:?}");
    assert!(
        c.detail.contains("expired ") && c.detail.contains("AADSTS7000222"),
        "{c:?}"
    );
    // A wrong secret: ✗ too; an unrelated refusal (unknown app, bad scope) leaves the
    // credential's own verdict.
    p.secret_expires = None;
    let c = stage(
        &judge(&p, &facts(Err(refused(7000215)), None)),
        "credential",
    )
    .clone();
    assert_eq!(c.severity, Severity::Error, "{c:?}");
    for code in [700016, 1002012] {
        let c = stage(&judge(&p, &facts(Err(refused(code)), None)), "credential").clone();
        assert_eq!(c.severity, Severity::Ok, "{code}: {c:?}");
    }
}

#[test]
fn roles_latency_and_an_http_error_explained() {
    let mut p = profile();
    p.expected_roles = vec!["Weather.Read".into(), "Weather.Write".into()];
    let t = token(json!({"roles": ["weather.read"], "aud": "x"}));
    let checks = judge(&p, &facts(Ok(t), Some(response(404, "no such city", None))));
    let token = stage(&checks, "token");
    assert!(token.detail.starts_with("acquired in 2.4 ms"), "{token:?}");
    let roles = stage(&checks, "roles");
    assert_eq!(roles.severity, Severity::Error);
    assert_eq!(
        roles.detail,
        "missing Weather.Write (token has weather.read)"
    );
    let api = stage(&checks, "api");
    assert_eq!(api.severity, Severity::Error);
    assert_eq!(
        api.detail,
        "GET http://localhost/api/weather/Seattle → 404 in 3.0 ms: the API has no such resource (HTTP 404)"
    );
    assert!(
        api.fix.as_deref().is_some_and(|f| f.contains("api_url")),
        "{api:?}"
    );
}

#[test]
fn without_a_token_the_api_is_not_called_and_the_report_fails() {
    let f = facts(Err(no_token()), None);
    let report = DoctorReport {
        profile: "p".into(),
        checks: judge(&profile(), &f),
    };
    assert!(report.failed());
    let api = stage(&report.checks, "api");
    assert_eq!(
        (api.severity, api.detail.as_str()),
        (Severity::Warning, "not called: no token")
    );
    assert!(!report.checks.iter().any(|c| c.stage == "roles"));
}

#[test]
fn the_setup_stage_is_skipped_failed_or_a_check_per_broken_link() {
    use crate::diagnose::testing::setup::{self as su, healthy};
    let mut p = profile();
    p.expected_roles = vec!["Weather.Read".into(), "Weather.Write".into()];
    p.scope = su::SCOPE.into();
    let t = token(
        json!({"roles": ["Weather.Read", "Weather.Write"], "aud": su::API_ID,
                         "ver": "2.0"}),
    );
    let mut f = facts(Ok(t.clone()), Some(response(200, "{}", None)));
    let checks = judge(&p, &f);
    let setup = stage(&checks, "setup");
    assert_eq!(setup.severity, Severity::Info);
    assert!(setup.detail.contains("set graph_credential"), "{setup:?}");
    // The stage comes after roles and before the API call.
    let order: Vec<&str> = checks.iter().map(|c| c.stage).collect();
    let at = |s: &str| order.iter().position(|o| *o == s).unwrap();
    assert!(
        at("roles") < at("setup") && at("setup") < at("api"),
        "{order:?}"
    );

    f.setup = SetupSeen::Failed {
        summary: "Microsoft Graph refused GET /applications (HTTP 403)".into(),
        hint: Some("Application.Read.All".into()),
    };
    let c = stage(&judge(&p, &f), "setup").clone();
    assert_eq!(c.severity, Severity::Warning);
    assert_eq!(c.fix.as_deref(), Some("Application.Read.All"));

    f.setup = SetupSeen::Read(Box::new(healthy()));
    let c = stage(&judge(&p, &f), "setup").clone();
    assert_eq!(c.severity, Severity::Ok, "{c:?}");
    assert!(
        c.detail == "Weather.Read, Weather.Write from test: no broken link",
        "{c:?}"
    );

    // The API asks for Weather.Admin, configured but never consented: one ✗ check, and
    // the refusal says what the set-up says.
    let mut facts_admin = healthy();
    facts_admin
        .client_app
        .as_mut()
        .unwrap()
        .required_resource_access[0]
        .access
        .push(su::access(su::ADMIN, "Role"));
    f.setup = SetupSeen::Read(Box::new(facts_admin));
    f.api = Some(Ok(response(
        403,
        "IDW10203: The \"role\" claim does not contain role Weather.Admin or was not found",
        None,
    )));
    let checks = judge(&p, &f);
    let broken: Vec<&Check> = checks.iter().filter(|c| c.stage == "setup").collect();
    assert_eq!(broken.len(), 1, "{broken:#?}");
    assert_eq!(broken[0].severity, Severity::Error);
    assert_eq!(
        broken[0].detail,
        "Weather.Admin (granted): Weather.Admin is configured on the client but admin \
         consent was never granted"
    );
    assert!(broken[0].fix.as_deref().unwrap().contains("admin-consent"));
    let api = stage(&checks, "api");
    assert!(
        api.cause
            .as_deref()
            .unwrap()
            .starts_with("Weather.Admin is configured on the client but admin consent"),
        "{api:?}"
    );
}

#[test]
fn what_a_profile_presents() {
    let p = profile();
    assert_eq!(Presented::of(&p, time::now()), Presented::default());
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("fed.token");
    let payload = json!({"iss": "https://issuer", "sub": "system:serviceaccount:a:b",
                         "aud": ["api://AzureADTokenExchange"]});
    std::fs::write(
        &path,
        format!(
            "{}.{}.sig",
            jwt::b64url(br#"{"alg":"RS256"}"#),
            jwt::b64url(payload.to_string().as_bytes())
        ),
    )
    .unwrap();
    let mut p = profile();
    p.credential = Credential::Federated {
        token: crate::credential::FederatedToken::new(path.clone()).into(),
        source: PathSource::File,
    };
    let seen = Presented::of(&p, time::now());
    assert_eq!(
        seen.federated,
        Some(FederatedSeen {
            issuer: "https://issuer".into(),
            subject: "system:serviceaccount:a:b".into(),
            audiences: vec!["api://AzureADTokenExchange".into()],
        })
    );
    let claims = seen.federated_claims().unwrap();
    assert_eq!(claims.subject, "system:serviceaccount:a:b");
    // Garbage in the file presents nothing (the token request says what is wrong).
    std::fs::write(&path, "not a jwt").unwrap();
    let mut p2 = profile();
    p2.credential = Credential::Federated {
        token: crate::credential::FederatedToken::new(path).into(),
        source: PathSource::File,
    };
    assert_eq!(Presented::of(&p2, time::now()).federated, None);
}
