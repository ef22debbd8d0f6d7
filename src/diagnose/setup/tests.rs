//! The chain and the findings, one broken set-up at a time, from a healthy one.

use chrono::{DateTime, TimeDelta, Utc};
use serde_json::json;

use super::*;
use crate::diagnose::testing::setup::*;
use crate::graph::model::{FederatedCred, KeyCred, PasswordCred};

fn token(roles: &[&str]) -> Claims {
    Claims::from_payload(
        json!({"aud": API_ID, "ver": "2.0", "roles": roles, "iat": iat().timestamp(),
               "azp": CLIENT_ID})
        .as_object()
        .unwrap(),
    )
}

/// An input for `facts` and `claims` with everything else at its plain default.
fn input<'a>(facts: &'a SetupFacts, claims: Option<&'a Claims>, roles: &[&str]) -> SetupInput<'a> {
    let roles: Vec<String> = roles.iter().map(|r| r.to_string()).collect();
    SetupInput {
        facts,
        claims,
        token_issued: None,
        required: Required::expected(&roles),
        scope: SCOPE,
        client_id: CLIENT_ID,
        presented_thumbprint: None,
        federated: None,
        now: now(),
    }
}

fn chain_of(report: &SetupReport, role: &str) -> RoleChain {
    report
        .chain(role)
        .unwrap_or_else(|| panic!("no chain for {role}: {report:#?}"))
        .clone()
}

fn link(chain: &RoleChain, kind: LinkKind) -> Link {
    chain.link(kind).unwrap().clone()
}

fn finding<'a>(report: &'a SetupReport, topic: &str) -> &'a Finding {
    report
        .findings
        .iter()
        .find(|f| f.topic == topic)
        .unwrap_or_else(|| panic!("no {topic} finding in {report:#?}"))
}

fn severities(chain: &RoleChain) -> Vec<Severity> {
    chain.links.iter().map(|l| l.severity).collect()
}

use Severity::{Error as X, Ok as V, Warning as W};

#[test]
fn a_healthy_set_up_is_all_ok() {
    let facts = healthy();
    let claims = token(&["Weather.Read", "Weather.Write"]);
    let report = analyse(&input(
        &facts,
        Some(&claims),
        &["Weather.Read", "Weather.Write"],
    ));
    assert_eq!(report.chains.len(), 2);
    for c in &report.chains {
        assert_eq!(
            c.links.iter().map(|l| l.kind).collect::<Vec<_>>(),
            LinkKind::ALL
        );
        assert_eq!(severities(c), [V; 5], "{c:#?}");
        assert!(c.first_broken().is_none());
    }
    let read = chain_of(&report, "Weather.Read");
    assert_eq!(
        link(&read, LinkKind::Defined).summary,
        "Weather API defines Weather.Read for applications"
    );
    assert_eq!(
        link(&read, LinkKind::Required).summary,
        "expected by this profile"
    );
    assert_eq!(report.worst(), Severity::Ok, "{report:#?}");
    assert!(!report.failed());
    let topics: Vec<&str> = report.findings.iter().map(|f| f.topic).collect();
    assert_eq!(topics, ["token_version", "audience", "secret"]);
}

#[test]
fn a_role_the_api_does_not_define() {
    let facts = healthy();
    let claims = token(&["Weather.Read"]);
    let report = analyse(&input(&facts, Some(&claims), &["Weather.Export"]));
    let c = chain_of(&report, "Weather.Export");
    let broken = c.first_broken().unwrap();
    assert_eq!(broken.kind, LinkKind::Defined);
    assert_eq!(broken.summary, "Weather.Export is not defined on the API");
    assert_eq!(
        broken.cause.as_deref(),
        Some("Weather API defines Weather.Read, Weather.Write, Weather.Admin.")
    );
    let fix = broken.fix.as_deref().unwrap();
    assert!(
        fix.contains("App registrations → Weather API → App roles → Create app role")
            && fix.contains(&format!("az ad app update --id {API_ID}")),
        "{fix}"
    );
    assert_eq!(severities(&c), [X, X, X, X, V]);
    // A near miss is named.
    let report = analyse(&input(&facts, Some(&claims), &["Weather.Admn"]));
    let cause = link(&chain_of(&report, "Weather.Admn"), LinkKind::Defined).cause;
    assert!(cause.unwrap().ends_with("Did you mean Weather.Admin?"));
}

#[test]
fn a_user_only_role_and_a_disabled_one() {
    let mut facts = healthy();
    let api = facts.api_app.as_mut().unwrap();
    api.app_roles.push(role("Weather.Audit", AUDIT, &["User"]));
    api.app_roles[2].is_enabled = false;
    facts.api_sp.as_mut().unwrap().app_roles = api.app_roles.clone();
    let report = analyse(&input(&facts, None, &["Weather.Audit", "Weather.Admin"]));
    let audit = link(&chain_of(&report, "Weather.Audit"), LinkKind::Defined);
    assert_eq!(audit.severity, X);
    assert_eq!(
        audit.summary,
        "Weather.Audit allows only User members: it never shows under Application permissions"
    );
    assert!(audit.cause.unwrap().contains("[User]"));
    assert!(audit.fix.unwrap().contains("Allowed member types: Both"));
    let admin = link(&chain_of(&report, "Weather.Admin"), LinkKind::Defined);
    assert_eq!(
        (admin.severity, admin.summary.as_str()),
        (X, "Weather.Admin is disabled on the API")
    );
}

#[test]
fn a_role_spelt_in_another_case_is_named_and_followed() {
    let facts = healthy();
    let claims = token(&["Weather.Read"]);
    let report = analyse(&input(&facts, Some(&claims), &["weather.read"]));
    let c = chain_of(&report, "weather.read");
    let defined = link(&c, LinkKind::Defined);
    assert_eq!(defined.severity, W);
    assert_eq!(
        defined.summary,
        "the API defines Weather.Read, which differs from weather.read in case"
    );
    // The rest of the chain follows the API's role: configured, granted, in the token.
    assert_eq!(severities(&c), [W, V, V, V, V]);
}

#[test]
fn a_role_defined_on_the_client_instead_of_the_api() {
    let mut facts = healthy();
    let export = role(
        "Weather.Export",
        "e0e0e0e0-0000-4000-8000-000000000001",
        &["Application"],
    );
    let client = facts.client_app.as_mut().unwrap();
    client.app_roles.push(export.clone());
    client.required_resource_access[0]
        .access
        .push(access(&export.id, "Role"));
    let report = analyse(&input(&facts, None, &["Weather.Export"]));
    let c = chain_of(&report, "Weather.Export");
    let defined = link(&c, LinkKind::Defined);
    assert_eq!(
        (defined.severity, defined.summary.as_str()),
        (
            X,
            "Weather.Export is defined on the client's registration, not the API's"
        )
    );
    assert!(
        defined
            .fix
            .unwrap()
            .contains("remove Weather.Export from console-rw's App roles")
    );
    assert_eq!(link(&c, LinkKind::Configured).severity, W);
    assert_eq!(
        link(&c, LinkKind::Granted).summary,
        "Weather.Export cannot be granted: the API does not define it"
    );
    let f = finding(&report, "role_on_client");
    assert_eq!(f.severity, X);
    assert!(
        f.summary
            .starts_with("Weather.Export is defined on the client's registration (console-rw)")
            && f.summary.ends_with("Entra can never grant it"),
        "{f:?}"
    );
}

#[test]
fn a_role_neither_configured_nor_granted() {
    let facts = healthy();
    let claims = token(&["Weather.Read", "Weather.Write"]);
    let report = analyse(&input(&facts, Some(&claims), &["Weather.Admin"]));
    let c = chain_of(&report, "Weather.Admin");
    assert_eq!(severities(&c), [V, X, X, X, V]);
    let broken = c.first_broken().unwrap();
    assert_eq!(
        broken.summary,
        "Weather.Admin is not configured on the client"
    );
    let fix = broken.fix.as_deref().unwrap();
    assert!(
        fix.contains("App registrations → console-rw → API permissions → Add a permission")
            && fix.contains(&format!(
                "az ad app permission add --id {CLIENT_ID} --api {API_ID} --api-permissions {ADMIN}=Role"
            )),
        "{fix}"
    );
    let granted = link(&c, LinkKind::Granted);
    assert_eq!(
        granted.summary,
        "Weather.Admin is not granted to the client"
    );
    assert!(granted.fix.unwrap().contains("appRoleAssignments"));
    assert_eq!(
        link(&c, LinkKind::InToken).summary,
        "Weather.Admin is not in the token (it has Weather.Read, Weather.Write)"
    );
}

#[test]
fn configured_but_never_consented() {
    let mut facts = healthy();
    facts.client_app.as_mut().unwrap().required_resource_access[0]
        .access
        .push(access(ADMIN, "Role"));
    let claims = token(&["Weather.Read", "Weather.Write"]);
    let report = analyse(&input(&facts, Some(&claims), &["Weather.Admin"]));
    let c = chain_of(&report, "Weather.Admin");
    assert_eq!(severities(&c), [V, V, X, X, V]);
    let broken = c.first_broken().unwrap();
    assert_eq!(broken.kind, LinkKind::Granted);
    assert_eq!(
        broken.summary,
        "Weather.Admin is configured on the client but admin consent was never granted"
    );
    let fix = broken.fix.as_deref().unwrap();
    assert!(
        fix.contains("'Grant admin consent for <tenant>'")
            && fix.contains(&format!(
                "az ad app permission admin-consent --id {CLIENT_ID}"
            )),
        "{fix}"
    );
    assert!(report.failed());
}

#[test]
fn a_delegated_permission_and_a_grant_without_a_permission() {
    let mut facts = healthy();
    let rra = &mut facts.client_app.as_mut().unwrap().required_resource_access[0];
    rra.access = vec![access(READ, "Scope")];
    let report = analyse(&input(&facts, None, &["Weather.Read", "Weather.Write"]));
    let read = link(&chain_of(&report, "Weather.Read"), LinkKind::Configured);
    assert_eq!(read.severity, W);
    assert!(
        read.summary.contains("delegated permission (Scope)"),
        "{read:?}"
    );
    // Write is granted but no longer listed: the grant is what counts.
    let write = chain_of(&report, "Weather.Write");
    let configured = link(&write, LinkKind::Configured);
    assert_eq!(configured.severity, W);
    assert_eq!(
        configured.summary,
        "Weather.Write is not under the client's API permissions, but it is granted"
    );
    assert_eq!(link(&write, LinkKind::Granted).severity, V);
}

#[test]
fn missing_service_principals() {
    let mut facts = healthy();
    facts.client_sp = None;
    let report = analyse(&input(&facts, None, &["Weather.Read"]));
    let g = link(&chain_of(&report, "Weather.Read"), LinkKind::Granted);
    assert_eq!(
        (g.severity, g.summary.as_str()),
        (
            X,
            "nothing is granted: the client has no service principal in this tenant"
        )
    );
    assert!(
        g.fix
            .unwrap()
            .contains(&format!("az ad sp create --id {CLIENT_ID}"))
    );

    let mut facts = healthy();
    facts.api_sp = None;
    let report = analyse(&input(&facts, None, &["Weather.Read"]));
    let g = link(&chain_of(&report, "Weather.Read"), LinkKind::Granted);
    assert_eq!(
        g.summary,
        "Weather.Read cannot be granted: the API has no service principal in this tenant"
    );
    assert!(
        g.fix
            .unwrap()
            .contains(&format!("az ad sp create --id {API_ID}"))
    );

    // Neither of the API's objects: nothing can be judged, and it says so.
    let mut facts = healthy();
    facts.api_app = None;
    facts.api_sp = None;
    let report = analyse(&input(&facts, None, &["Weather.Read"]));
    let c = chain_of(&report, "Weather.Read");
    assert_eq!(severities(&c), [W, W, W, W, V]);
    assert_eq!(
        link(&c, LinkKind::Defined).summary,
        "the API's registration was not read"
    );
}

#[test]
fn a_token_older_than_the_grant_predates_it_and_the_boundary_is_exact() {
    let claims = token(&["Weather.Read"]);
    let case = |created: DateTime<Utc>| {
        let mut facts = healthy();
        facts.assignments.push(grant(ADMIN, created));
        facts.client_app.as_mut().unwrap().required_resource_access[0]
            .access
            .push(access(ADMIN, "Role"));
        let report = analyse(&input(&facts, Some(&claims), &["Weather.Admin"]));
        link(&chain_of(&report, "Weather.Admin"), LinkKind::InToken)
    };
    // Granted one second after the token's iat: the token predates it.
    let after = case(iat() + TimeDelta::seconds(1));
    assert_eq!(after.severity, X);
    assert!(
        after
            .summary
            .starts_with("this token predates the grant (granted ")
            && after.summary.ends_with(") — refresh"),
        "{after:?}"
    );
    assert!(
        after
            .summary
            .contains(&when(iat() + TimeDelta::seconds(1), now()))
    );
    assert!(
        after
            .summary
            .contains(&format!("token issued {}", when(iat(), now())))
    );
    let fix = after.fix.unwrap();
    assert!(
        fix.contains("--no-cache")
            && fix.contains("cache clear")
            && fix.contains("r in the dashboard"),
        "{fix}"
    );
    // Granted at the very second of iat, or before: the token is newer; propagation.
    for created in [iat(), iat() - TimeDelta::hours(3)] {
        let l = case(created);
        assert_eq!(l.severity, X);
        assert!(
            l.summary.starts_with("Weather.Admin is granted (") && !l.summary.contains("predates"),
            "{l:?}"
        );
        assert!(l.cause.unwrap().contains("propagation"));
        assert!(l.fix.unwrap().contains("--wait-for-role Weather.Admin"));
    }
    // The token given explicitly (token_issued) wins over the claim.
    let mut facts = healthy();
    facts
        .assignments
        .push(grant(ADMIN, iat() + TimeDelta::seconds(1)));
    let mut i = input(&facts, Some(&claims), &["Weather.Admin"]);
    i.token_issued = Some(iat() + TimeDelta::seconds(2));
    let l = link(&chain_of(&analyse(&i), "Weather.Admin"), LinkKind::InToken);
    assert!(!l.summary.contains("predates"), "{l:?}");
}

#[test]
fn a_token_that_has_the_role_is_fine_whatever_its_iat() {
    // Entra (and the sandbox) backdate iat by 5 minutes: a token issued right after a grant
    // has an iat before the grant, and carries the role.
    let mut facts = healthy();
    facts.assignments = vec![grant(READ, iat() + TimeDelta::minutes(4))];
    let claims = token(&["Weather.Read"]);
    let report = analyse(&input(&facts, Some(&claims), &["Weather.Read"]));
    assert_eq!(severities(&chain_of(&report, "Weather.Read")), [V; 5]);
}

#[test]
fn no_token_yet_and_where_the_requirement_comes_from() {
    let facts = healthy();
    let mut i = input(&facts, None, &[]);
    i.required = Required::from_403("Weather.Read");
    let report = analyse(&i);
    let c = chain_of(&report, "Weather.Read");
    assert_eq!(link(&c, LinkKind::InToken).summary, "no token yet");
    assert_eq!(link(&c, LinkKind::InToken).severity, W);
    assert_eq!(
        link(&c, LinkKind::Required).summary,
        "the API requires it (from its 403)"
    );
    assert!(!report.failed(), "⚠ only: {report:#?}");

    // Nothing says: the chain is drawn for what the client holds and the token carries.
    let claims = token(&["Weather.Read", "Weather.Other"]);
    let report = analyse(&input(&facts, Some(&claims), &[]));
    let roles: Vec<&str> = report.chains.iter().map(|c| c.role.as_str()).collect();
    assert_eq!(roles, ["Weather.Read", "Weather.Write", "Weather.Other"]);
    let req = link(&report.chains[0], LinkKind::Required);
    assert_eq!(
        (req.severity, req.summary.as_str()),
        (W, "nothing says the API requires it")
    );

    // And with nothing at all, a finding says there is nothing to check.
    let mut empty = healthy();
    empty.assignments.clear();
    empty
        .client_app
        .as_mut()
        .unwrap()
        .required_resource_access
        .clear();
    let report = analyse(&input(&empty, None, &[]));
    assert!(report.chains.is_empty());
    assert_eq!(finding(&report, "roles").severity, W);
}

#[test]
fn token_version_findings() {
    let mut facts = healthy();
    facts.api_app.as_mut().unwrap().requested_token_version = None;
    let v1 = Claims::from_payload(json!({"aud": API_URI, "ver": "1.0"}).as_object().unwrap());
    let report = analyse(&input(&facts, Some(&v1), &["Weather.Read"]));
    let f = finding(&report, "token_version");
    assert_eq!(f.severity, W);
    assert!(
        f.summary
            .starts_with("the API's requestedAccessTokenVersion is null: Entra issues v1 tokens")
            && f.summary.ends_with("this token is v1.0"),
        "{f:?}"
    );
    let fix = f.fix.as_deref().unwrap();
    assert!(
        fix.contains("\"requestedAccessTokenVersion\": 2")
            && fix.contains(&format!(
                "az ad app update --id {API_ID} --set api.requestedAccessTokenVersion=2"
            )),
        "{fix}"
    );
    // v2 asked, a v1 token in hand: issued before the change.
    let facts = healthy();
    let report = analyse(&input(&facts, Some(&v1), &["Weather.Read"]));
    let f = finding(&report, "token_version");
    assert_eq!(f.severity, W);
    assert!(f.summary.contains("issued before the change"), "{f:?}");
    let report = analyse(&input(&facts, None, &["Weather.Read"]));
    assert_eq!(finding(&report, "token_version").severity, V);
}

#[test]
fn audience_findings_name_the_form() {
    let facts = healthy();
    let with_aud =
        |aud: &str| Claims::from_payload(json!({"aud": aud, "ver": "1.0"}).as_object().unwrap());
    let c = with_aud(API_ID);
    let report = analyse(&input(&facts, Some(&c), &[]));
    let f = finding(&report, "audience");
    assert_eq!(f.severity, V);
    assert_eq!(
        f.summary,
        format!("aud is the API's application id {API_ID} (the v2 form)")
    );
    let c = with_aud(API_URI);
    let report = analyse(&input(&facts, Some(&c), &[]));
    let f = finding(&report, "audience");
    assert_eq!(f.severity, W);
    assert!(
        f.summary.starts_with(&format!(
            "aud is the App ID URI {API_URI} (the v1 form), not the API's application id {API_ID}"
        )),
        "{f:?}"
    );
    let c = with_aud("api://other");
    let report = analyse(&input(&facts, Some(&c), &[]));
    let f = finding(&report, "audience");
    assert_eq!(f.severity, X);
    assert_eq!(
        f.summary,
        format!(
            "the token's aud api://other is none of the API's identifiers ({API_ID}, {API_URI})"
        )
    );
}

#[test]
fn assignment_required_without_an_assignment() {
    let mut facts = healthy();
    facts.api_sp.as_mut().unwrap().assignment_required = true;
    let report = analyse(&input(&facts, None, &["Weather.Read"]));
    assert_eq!(finding(&report, "assignment_required").severity, V);
    facts.assignments.clear();
    // Another principal's grant on the API (an appRoleAssignedTo export) does not count.
    let mut other = grant(READ, now());
    other.principal_id = "someone-else".into();
    facts.assignments.push(other);
    let report = analyse(&input(&facts, None, &["Weather.Read"]));
    let f = finding(&report, "assignment_required");
    assert_eq!(f.severity, X);
    assert!(
        f.summary
            .ends_with("Entra refuses its tokens (AADSTS501051)"),
        "{f:?}"
    );
    assert!(
        f.fix
            .as_deref()
            .unwrap()
            .contains("--set appRoleAssignmentRequired=false")
    );
    assert_eq!(
        link(&chain_of(&report, "Weather.Read"), LinkKind::Granted).severity,
        X
    );
}

#[test]
fn secret_expiry_by_the_tenant() {
    let at = |days: i64| Some(now() + TimeDelta::days(days) + TimeDelta::hours(1));
    let with = |ends: &[Option<DateTime<Utc>>]| {
        let mut facts = healthy();
        facts.client_app.as_mut().unwrap().password_credentials = ends
            .iter()
            .enumerate()
            .map(|(i, end)| PasswordCred {
                key_id: format!("k{i}"),
                end: *end,
                ..Default::default()
            })
            .collect();
        let report = analyse(&input(&facts, None, &[]));
        finding(&report, "secret").clone()
    };
    let f = with(&[at(-3)]);
    assert_eq!(f.severity, X);
    assert!(
        f.summary.starts_with(
            "the client's only secret of console-rw: the newest expired on 2025-05-29"
        ),
        "{f:?}"
    );
    assert!(f.fix.unwrap().contains("New client secret"));
    let f = with(&[at(-400), at(-3)]);
    assert!(
        f.summary.starts_with("all 2 client secrets of console-rw"),
        "{f:?}"
    );
    let f = with(&[at(10)]);
    assert_eq!(f.severity, W);
    assert!(f.summary.contains("(in 10 days): renew it"), "{f:?}");
    let f = with(&[at(-3), at(200)]);
    assert_eq!(f.severity, V);
    assert!(f.summary.ends_with("; 1 other has expired"), "{f:?}");
    assert!(f.fix.is_none());
    // No end date anywhere: nothing to say.
    let mut facts = healthy();
    facts.client_app.as_mut().unwrap().password_credentials[0].end = None;
    let report = analyse(&input(&facts, None, &[]));
    assert!(report.findings.iter().all(|f| f.topic != "secret"));
}

#[test]
fn certificates_and_their_thumbprint() {
    let mut facts = healthy();
    let client = facts.client_app.as_mut().unwrap();
    client.password_credentials.clear();
    client.key_credentials = vec![
        KeyCred {
            key_id: "c1".into(),
            thumbprint_sha1_hex: Some(THUMB.into()),
            end: Some(now() - TimeDelta::days(2)),
            ..Default::default()
        },
        KeyCred {
            key_id: "c2".into(),
            thumbprint_sha1_hex: Some("FFFF".into()),
            end: Some(now() + TimeDelta::days(300)),
            ..Default::default()
        },
    ];
    // The profile's own certificate (written with colons, lower case) has expired.
    let presented = "0a:0b:0c:0d:0e:0f:10:11:12:13:14:15:16:17:18:19:1a:1b:1c:1d";
    let mut i = input(&facts, None, &[]);
    i.presented_thumbprint = Some(presented);
    let report = analyse(&i);
    let cert = finding(&report, "certificate");
    assert_eq!(cert.severity, X);
    assert!(
        cert.summary
            .starts_with("the profile's certificate registered on console-rw expired"),
        "{cert:?}"
    );
    let thumb = finding(&report, "thumbprint");
    assert_eq!(thumb.severity, V);
    assert!(thumb.summary.contains(THUMB));

    // A certificate the client does not know: AADSTS700027.
    i.presented_thumbprint = Some("1234ABCD");
    let report = analyse(&i);
    let thumb = finding(&report, "thumbprint");
    assert_eq!(thumb.severity, X);
    assert_eq!(
        thumb.summary,
        format!(
            "the profile's certificate (thumbprint 1234ABCD) is not registered on console-rw \
             (registered: {THUMB}, FFFF): Entra refuses its assertions (AADSTS700027)"
        )
    );
    assert!(thumb.fix.as_deref().unwrap().contains("Upload certificate"));
    // Then the newest certificate is the one graded.
    let cert = finding(&report, "certificate");
    assert_eq!(cert.severity, V);
    assert!(cert.summary.ends_with("; 1 other has expired"), "{cert:?}");
}

#[test]
fn federated_credentials_compare_exactly_and_mark_the_difference() {
    let issuer = "https://oidc.example/cluster";
    let audiences = vec!["api://AzureADTokenExchange".to_string()];
    let mut facts = healthy();
    facts.client_app.as_mut().unwrap().federated = vec![
        FederatedCred {
            name: "other".into(),
            issuer: "https://elsewhere".into(),
            subject: "x".into(),
            audiences: audiences.clone(),
        },
        FederatedCred {
            name: "weather-api-sa".into(),
            issuer: issuer.into(),
            subject: "system:serviceaccount:weather:api".into(),
            audiences: audiences.clone(),
        },
    ];
    let judge = |subject: &str, aud: &[String], facts: &SetupFacts| {
        let mut i = input(facts, None, &[]);
        i.federated = Some(FederatedClaims {
            issuer,
            subject,
            audiences: aud,
        });
        finding(&analyse(&i), "federated").clone()
    };
    let ok = judge("system:serviceaccount:weather:api", &audiences, &facts);
    assert_eq!(ok.severity, V);
    assert_eq!(
        ok.summary,
        "the federated token matches credential 'weather-api-sa' (issuer, subject and audience)"
    );
    let case = judge("system:serviceaccount:Weather:api", &audiences, &facts);
    assert_eq!(case.severity, X);
    assert_eq!(
        case.summary,
        "no federated credential matches the token; the closest, 'weather-api-sa': the \
         token's subject system:serviceaccount:«W»eather:api differs only in case from \
         system:serviceaccount:«w»eather:api; Entra compares them exactly (AADSTS70021)"
    );
    assert!(
        case.fix
            .unwrap()
            .contains("Federated credentials → 'weather-api-sa'")
    );
    let aud = judge(
        "system:serviceaccount:weather:api",
        &["api://AzureADTokenExchange/".to_string()],
        &facts,
    );
    assert!(
        aud.summary.contains("the token's audience api://AzureADTokenExchange«/» differs from api://AzureADTokenExchange«»"),
        "{aud:?}"
    );
    let mut none = healthy();
    none.client_app.as_mut().unwrap().federated.clear();
    let f = judge("s", &audiences, &none);
    assert_eq!(f.severity, X);
    assert!(f.summary.contains("has no federated credentials"), "{f:?}");
}

#[test]
fn text_from_the_tenant_is_shown_inert_and_the_json_has_the_documented_shape() {
    let mut facts = healthy();
    facts.api_app.as_mut().unwrap().display_name = "Weather\u{1b}[2J API".into();
    let report = analyse(&input(&facts, None, &["Weather.Admin\u{7}"]));
    let c = &report.chains[0];
    assert!(!c.role.contains('\u{7}'), "{c:?}");
    for l in &c.links {
        for text in [Some(&l.summary), l.cause.as_ref(), l.fix.as_ref()]
            .into_iter()
            .flatten()
        {
            assert!(
                !text.contains('\u{1b}') && !text.contains('\u{7}'),
                "{text}"
            );
        }
    }
    let v = serde_json::to_value(&report).unwrap();
    let first = &v["chains"][0]["links"][0];
    assert_eq!(first["link"], "defined");
    assert_eq!(first["severity"], "error");
    assert!(first["summary"].is_string() && first["cause"].is_string() && first["fix"].is_string());
    let required = &v["chains"][0]["links"][4];
    assert_eq!(required["link"], "required");
    assert!(required.get("cause").is_none(), "{required}");
    assert_eq!(v["chains"][0]["links"][3]["link"], "in_token");
    let f = &v["findings"][0];
    assert_eq!(f["topic"], "token_version");
    assert!(f.get("fix").is_none(), "a ✓ finding has no fix: {f}");
}
