use super::*;
use crate::diagnose::testing::{claims, response as resp};
use serde_json::json;

const SCOPE: &str = "api://api-guid/.default";

#[test]
fn idw10203_names_both_roles() {
    let r = resp(
        403,
        "IDW10203: The \"role\" claim does not contain role Weather.Admin or was not found",
        Some("Bearer error=\"insufficient_scope\""),
    );
    let c = claims(json!({"aud": "api-guid", "roles": ["Weather.Read"]}));
    let a = explain(&r, Some(&c), &[], SCOPE).unwrap();
    assert_eq!(
        a.summary,
        "the token carries Weather.Read; the API requires Weather.Admin"
    );
    assert!(a.fix.contains("Grant the app role Weather.Admin") && a.fix.contains("admin consent"));
}

#[test]
fn no_roles_at_all() {
    let r = resp(403, "Forbidden", None);
    let c = claims(json!({"aud": "api-guid"}));
    let a = explain(&r, Some(&c), &["Weather.Read".into()], SCOPE).unwrap();
    assert!(a.summary.contains("no roles claim"), "{a:?}");
    assert!(a.fix.contains("Grant admin consent"));
}

#[test]
fn fastapi_azure_auth_body() {
    let r = resp(
        403,
        r#"{"detail":{"error":"Forbidden","message":"Missing required role Weather.Write"}}"#,
        None,
    );
    let c = claims(json!({"roles": ["Weather.Read"]}));
    let says = read_api(&r);
    assert_eq!(says.required_role.as_deref(), Some("Weather.Write"));
    let a = explain(&r, Some(&c), &[], SCOPE).unwrap();
    assert!(a.summary.ends_with("requires Weather.Write"));
}

#[test]
fn role_present_but_still_403() {
    let r = resp(
        403,
        "IDW10203: The \"role\" claim does not contain role weather.read or was not found",
        None,
    );
    let c = claims(json!({"roles": ["Weather.Read"]}));
    let a = explain(&r, Some(&c), &[], SCOPE).unwrap();
    assert!(a.summary.contains("does carry"), "{a:?}");
}

#[test]
fn delegated_token() {
    let r = resp(403, "", None);
    let c = claims(json!({"scp": "User.Read"}));
    assert!(
        explain(&r, Some(&c), &[], SCOPE)
            .unwrap()
            .summary
            .contains("delegated")
    );
}

#[test]
fn unauthorized_cases() {
    let expired = claims(json!({"aud": "api-guid", "exp": 1000}));
    let r = resp(
        401,
        "",
        Some("Bearer error=\"invalid_token\", error_description=\"The token expired\""),
    );
    assert_eq!(
        explain(&r, Some(&expired), &[], SCOPE).unwrap().summary,
        "the token has expired"
    );

    let future = crate::time::now().timestamp() + 3000;
    let other_api = claims(json!({"aud": "other-guid", "exp": future}));
    let a = explain(&r, Some(&other_api), &[], SCOPE).unwrap();
    assert!(a.summary.contains("not for api://api-guid"), "{a:?}");

    let ok_aud = claims(json!({"aud": "api-guid", "exp": future, "ver": "1.0"}));
    let quirk = resp(401, r#"{"detail":"Unable to find appropriate key"}"#, None);
    assert!(
        explain(&quirk, Some(&ok_aud), &[], SCOPE)
            .unwrap()
            .cause
            .contains("fastapi-microsoft-identity")
    );

    let v1 = resp(
        401,
        "",
        Some(
            "Bearer error=\"invalid_token\", error_description=\"The issuer 'https://sts.windows.net/t/' is invalid\"",
        ),
    );
    assert!(
        explain(&v1, Some(&ok_aud), &[], SCOPE)
            .unwrap()
            .fix
            .contains("accessTokenAcceptedVersion")
    );
}

#[test]
fn success_needs_no_explanation() {
    assert!(explain(&resp(200, "{\"temp\":1}", None), None, &[], SCOPE).is_none());
}

#[test]
fn a_403_names_the_roles_held_and_required_and_keeps_the_required_one() {
    let r = resp(
        403,
        "IDW10203: The \"role\" claim does not contain role Weather.Admin or was not found",
        None,
    );
    let c = claims(json!({"aud": "api-guid", "roles": ["Weather.Read", "Weather.Write"]}));
    let a = explain(&r, Some(&c), &["Weather.Read".into()], SCOPE).unwrap();
    assert_eq!(
        a.summary,
        "the token carries Weather.Read, Weather.Write; the API requires Weather.Admin"
    );
    assert_eq!(a.required_role.as_deref(), Some("Weather.Admin"));
    assert!(a.fix.contains("Grant the app role Weather.Admin"), "{a:?}");
    // Only a 403 names a required role; the same words in a 401 do not.
    let r = resp(401, "does not contain role Weather.Admin", None);
    assert_eq!(
        explain(&r, Some(&c), &[], SCOPE).unwrap().required_role,
        None
    );
}

#[test]
fn statuses_that_are_not_about_the_token_say_what_to_check() {
    let c = claims(json!({"aud": "api-guid", "roles": ["Weather.Read"]}));
    let say =
        |status: u16, body: &str| explain(&resp(status, body, None), Some(&c), &[], SCOPE).unwrap();
    let a = say(404, "nope");
    assert_eq!(a.summary, "the API has no such resource (HTTP 404)");
    assert!(a.fix.contains("api_url"), "{a:?}");
    assert_eq!(
        a.cause,
        "Not an authorisation problem. The API said: \"nope\"."
    );
    assert!(say(400, "").summary.contains("HTTP 400"));
    assert_eq!(say(429, "").fix, "Wait a moment and call again.");
    assert_eq!(
        say(503, "down").summary,
        "the API failed (HTTP 503); the token was not the problem"
    );
    let other = say(418, "teapot");
    assert_eq!(other.summary, "the API answered HTTP 418");
    assert_eq!(other.fix, "Look at the API's logs.");
}

#[test]
fn with_the_set_up_a_403_says_what_the_chain_says() {
    use crate::diagnose::testing::setup::*;
    let r = resp(
        403,
        "IDW10203: The \"role\" claim does not contain role Weather.Admin or was not found",
        None,
    );
    let c = claims(
        json!({"aud": API_ID, "roles": ["Weather.Read", "Weather.Write"],
                          "iat": iat().timestamp(), "azp": CLIENT_ID}),
    );
    let explain = |facts: &SetupFacts| {
        explain_with_setup(&r, Some(&c), &[], SCOPE, Some(facts), TokenUse::unknown()).unwrap()
    };
    // Configured, never consented.
    let mut facts = healthy();
    facts.client_app.as_mut().unwrap().required_resource_access[0]
        .access
        .push(access(ADMIN, "Role"));
    let a = explain(&facts);
    assert_eq!(
        a.summary,
        "the token carries Weather.Read, Weather.Write; the API requires Weather.Admin"
    );
    assert!(
        a.cause.starts_with(
            "Weather.Admin is configured on the client but admin consent was never granted \
             (according to the app-role set-up)."
        ) && a.cause.ends_with("The API said: \"IDW10203: The \"role\" claim does not contain role Weather.Admin or was not found\"."),
        "{a:?}"
    );
    assert!(!a.cause.contains("(or admin consent is missing)"), "{a:?}");
    assert!(
        a.fix.contains("az ad app permission admin-consent"),
        "{a:?}"
    );
    assert_eq!(a.required_role.as_deref(), Some("Weather.Admin"));
    // Granted after the token was issued.
    facts
        .assignments
        .push(grant(ADMIN, iat() + chrono::TimeDelta::seconds(30)));
    let a = explain(&facts);
    assert!(
        a.cause.starts_with("This token predates the grant ("),
        "{a:?}"
    );
    assert!(a.cause.contains(") — refresh (according to"), "{a:?}");
    assert!(a.fix.contains("--wait-for-role Weather.Admin"), "{a:?}");
    // Not defined on the API, or for users only.
    let mut facts = healthy();
    facts.api_app.as_mut().unwrap().app_roles.pop();
    facts.api_sp.as_mut().unwrap().app_roles.pop();
    assert!(
        explain(&facts)
            .cause
            .starts_with("Weather.Admin is not defined on the API")
    );
    let mut facts = healthy();
    facts.api_app.as_mut().unwrap().app_roles[2].allowed_member_types = vec!["User".into()];
    assert!(
        explain(&facts)
            .cause
            .starts_with("Weather.Admin allows only User members")
    );
    // A missing expected role, no role named by the API.
    let plain = resp(403, "Forbidden", None);
    let none = claims(json!({"aud": API_ID}));
    let a = explain_with_setup(
        &plain,
        Some(&none),
        &["Weather.Admin".into()],
        SCOPE,
        Some(&facts),
        TokenUse::unknown(),
    )
    .unwrap();
    assert_eq!(
        a.summary,
        "the token lacks expected role(s) Weather.Admin; it carries no roles"
    );
    assert!(
        a.cause
            .starts_with("Weather.Admin allows only User members"),
        "{a:?}"
    );
    // Without the set-up: the guess, as before.
    let a = explain(&healthy());
    assert!(
        a.cause
            .starts_with("Weather.Admin is not configured on the client"),
        "{a:?}"
    );
    let a = explain_with_setup(&r, Some(&c), &[], SCOPE, None, TokenUse::unknown()).unwrap();
    assert!(a.cause.contains("(or admin consent is missing)"), "{a:?}");
}

#[test]
fn what_the_api_says_is_shown_inert() {
    let r = resp(404, "gone\u{1b}[2J", None);
    let a = explain(&r, None, &[], SCOPE).unwrap();
    assert!(!a.cause.contains('\u{1b}'), "{a:?}");
    assert!(a.cause.contains("gone\\u{1b}[2J"), "{a:?}");
}

fn at(secs: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(1_800_000_000 + secs, 0).unwrap()
}

fn cached(renew: Renew<'_>) -> TokenUse<'_> {
    TokenUse {
        cached_at: Some(at(0)),
        renew,
        now: at(372),
    }
}

const FRESH: &str = "tokenscope -p console-rw call --no-cache Seattle";
const CLEAR: &str = "tokenscope cache clear -p console-rw";

#[test]
fn a_refusal_with_a_cached_token_says_so_with_its_age_and_the_way_to_a_fresh_one() {
    let c = claims(json!({"aud": "api-guid", "roles": ["Weather.Read"], "exp": 1_800_003_600}));
    let forbidden = resp(
        403,
        "IDW10203: The \"role\" claim does not contain role Weather.Admin or was not found",
        None,
    );
    let unauthorized = resp(
        401,
        "",
        Some(
            "Bearer error=\"invalid_token\", error_description=\"The signature key was not found\"",
        ),
    );
    let cli = Renew::Commands {
        fresh: FRESH,
        clear: CLEAR,
    };
    for r in [&forbidden, &unauthorized] {
        let a = explain_with_setup(r, Some(&c), &[], SCOPE, None, cached(cli)).unwrap();
        assert!(
            a.cause
                .contains("This token came from tokenscope's token cache, cached 6m 12s ago ("),
            "{} {a:?}",
            r.status
        );
        assert_eq!(
            a.fix.matches(FRESH).count(),
            1,
            "the fix names the command once: {a:?}"
        );
        let note = a.cached_token.as_ref().expect("the structured note");
        assert_eq!(note.age_seconds, 372);
        assert_eq!(note.cached_at, at(0));
        assert_eq!(note.fresh, FRESH);
        let j = serde_json::to_value(&a).unwrap();
        assert_eq!(j["cached_token"]["age_seconds"], 372);
        assert_eq!(j["cached_token"]["cached_at"], "2027-01-15T08:00:00Z");
    }
    // The 403's own fix gets the command in place of a bare "get a new token".
    let a = explain_with_setup(&forbidden, Some(&c), &[], SCOPE, None, cached(cli)).unwrap();
    assert!(
        a.fix
            .ends_with(&format!("then get a new token (`{FRESH}`).")),
        "{a:?}"
    );
    // A 401 whose fix does not get a new token ends with the cache sentence.
    let a = explain_with_setup(&unauthorized, Some(&c), &[], SCOPE, None, cached(cli)).unwrap();
    assert!(
        a.fix.ends_with(&format!(
            "This token came from the cache: `{FRESH}` calls again with a fresh one (or `{CLEAR}` empties the cache)."
        )),
        "{a:?}"
    );

    // The dashboard names its key.
    let a = explain_with_setup(
        &forbidden,
        Some(&c),
        &[],
        SCOPE,
        None,
        cached(Renew::Key("F5")),
    )
    .unwrap();
    assert!(a.fix.contains("get a new token (press F5)"), "{a:?}");
    assert_eq!(a.fix.matches("press F5").count(), 1, "{a:?}");
    assert_eq!(a.cached_token.unwrap().fresh, "press F5");

    // A token fresh from the token endpoint: no note, and the same command.
    let fresh = TokenUse {
        cached_at: None,
        ..cached(cli)
    };
    let a = explain_with_setup(&forbidden, Some(&c), &[], SCOPE, None, fresh).unwrap();
    assert!(!a.cause.contains("cache"), "{a:?}");
    assert!(a.cached_token.is_none());
    assert!(
        serde_json::to_value(&a)
            .unwrap()
            .get("cached_token")
            .is_none()
    );
    assert!(a.fix.contains(FRESH), "{a:?}");

    // Not a refusal (404, 500): not about the token, no note.
    for status in [404, 500] {
        let a = explain_with_setup(
            &resp(status, "x", None),
            Some(&c),
            &[],
            SCOPE,
            None,
            cached(cli),
        )
        .unwrap();
        assert!(
            a.cached_token.is_none() && !a.cause.contains("cache"),
            "{a:?}"
        );
    }
    // A clock running backwards never makes a negative age.
    let odd = TokenUse {
        now: at(-50),
        ..cached(cli)
    };
    let a = explain_with_setup(&forbidden, Some(&c), &[], SCOPE, None, odd).unwrap();
    assert_eq!(a.cached_token.unwrap().age_seconds, 0);
}

#[test]
fn with_the_set_up_a_cached_token_older_than_the_grant_names_the_command_too() {
    use crate::diagnose::testing::setup::*;
    let r = resp(
        403,
        "IDW10203: The \"role\" claim does not contain role Weather.Admin or was not found",
        None,
    );
    let c = claims(
        json!({"aud": API_ID, "roles": ["Weather.Read", "Weather.Write"],
                          "iat": iat().timestamp(), "azp": CLIENT_ID}),
    );
    let mut facts = healthy();
    facts
        .assignments
        .push(grant(ADMIN, iat() + chrono::TimeDelta::seconds(30)));
    let token = TokenUse {
        cached_at: Some(iat()),
        renew: Renew::Commands {
            fresh: FRESH,
            clear: CLEAR,
        },
        now: iat() + chrono::TimeDelta::seconds(90),
    };
    let a = explain_with_setup(&r, Some(&c), &[], SCOPE, Some(&facts), token).unwrap();
    assert!(
        a.cause.starts_with("This token predates the grant ("),
        "{a:?}"
    );
    assert!(a.cause.contains("cached 1m 30s ago"), "{a:?}");
    assert_eq!(a.fix.matches(FRESH).count(), 1, "{a:?}");
}
