//! The sandbox's Microsoft Graph v1.0 over real HTTP on 127.0.0.1, with plain reqwest as the
//! client: Graph tokens from the token endpoint, every object the Setup view reads (both
//! `$filter` forms included), paging, Graph's error JSON, and the admin operations and
//! tenant situations showing up in Graph (and in tokens) at once. Offline; every await is
//! under a timeout; time moves through the sandbox's clock, never by sleeping.

#[path = "fixtures/support.rs"]
mod support;
use support::{http, sandbox as start, within};

use std::collections::HashSet;
use std::time::Duration;

use chrono::{DateTime, SubsecRound as _, TimeDelta, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use reqwest::StatusCode;
use serde_json::Value;
use tokenscope::sandbox::{
    APPLICATION_READ_ALL, GRAPH_APP_ID, GRAPH_RESOURCE, MEMBER_USER, SandboxHandle, SandboxOptions,
    TokenVersion,
};

const GRAPH_SCOPE: &str = "https://graph.microsoft.com/.default";

/// A token endpoint answer: (status, body).
async fn token_answer(sb: &SandboxHandle, client: &str, scope: &str) -> (StatusCode, Value) {
    let c = sb.client(client).expect("shipped client");
    let form = [
        ("grant_type", "client_credentials"),
        ("client_id", c.client_id.as_str()),
        ("client_secret", c.secret.as_str()),
        ("scope", scope),
    ];
    let resp = within(
        "token request",
        http().post(sb.token_endpoint()).form(&form).send(),
    )
    .await
    .expect("token request sent");
    let status = resp.status();
    let body = within("token body", resp.json::<Value>())
        .await
        .expect("JSON");
    (status, body)
}

async fn access_token(sb: &SandboxHandle, client: &str, scope: &str) -> String {
    let (status, body) = token_answer(sb, client, scope).await;
    assert_eq!(status, StatusCode::OK, "{client} {scope}: {body}");
    body["access_token"]
        .as_str()
        .expect("access_token")
        .to_string()
}

/// The reader every test uses: console-rw holds Application.Read.All.
async fn reader(sb: &SandboxHandle) -> String {
    access_token(sb, "console-rw", GRAPH_SCOPE).await
}

/// A Graph response: (status, headers, JSON body).
struct Answer {
    status: StatusCode,
    headers: reqwest::header::HeaderMap,
    body: Value,
    text: String,
}

async fn get_url(url: &str, token: Option<&str>, query: &[(&str, &str)]) -> Answer {
    let mut url = url::Url::parse(url).expect("a URL");
    if !query.is_empty() {
        url.query_pairs_mut().extend_pairs(query);
    }
    let mut req = http().get(url);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let resp = within("Graph GET", req.send())
        .await
        .expect("Graph GET sent");
    let status = resp.status();
    let headers = resp.headers().clone();
    let text = within("Graph body", resp.text()).await.expect("body");
    let body = serde_json::from_str(&text).unwrap_or(Value::Null);
    Answer {
        status,
        headers,
        body,
        text,
    }
}

/// `GET {graph_url}{path}` with `token`.
async fn graph(sb: &SandboxHandle, token: &str, path: &str, query: &[(&str, &str)]) -> Answer {
    get_url(&format!("{}{path}", sb.graph_url()), Some(token), query).await
}

/// A 200's JSON.
async fn ok(sb: &SandboxHandle, token: &str, path: &str, query: &[(&str, &str)]) -> Value {
    let a = graph(sb, token, path, query).await;
    assert_eq!(a.status, StatusCode::OK, "{path}: {}", a.text);
    a.body
}

/// Every member of a collection, following `@odata.nextLink` (at most 50 pages); also
/// returns how many pages there were.
async fn all_pages(
    sb: &SandboxHandle,
    token: &str,
    path: &str,
    query: &[(&str, &str)],
) -> (Vec<Value>, usize) {
    let mut page = ok(sb, token, path, query).await;
    let mut items = Vec::new();
    let mut pages = 1;
    loop {
        items.extend(page["value"].as_array().expect("value").iter().cloned());
        let Some(next) = page["@odata.nextLink"].as_str().map(str::to_string) else {
            return (items, pages);
        };
        assert!(
            next.starts_with(&sb.graph_url()),
            "the next link stays on the sandbox: {next}"
        );
        assert!(pages < 50, "runaway paging");
        let a = get_url(&next, Some(token), &[]).await;
        assert_eq!(a.status, StatusCode::OK, "{next}: {}", a.text);
        page = a.body;
        pages += 1;
    }
}

fn assert_graph_error(a: &Answer, status: StatusCode, code: &str) {
    assert_eq!(a.status, status, "{}", a.text);
    let error = &a.body["error"];
    assert_eq!(error["code"], code, "{}", a.text);
    assert!(
        error["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{}",
        a.text
    );
    let inner = &error["innerError"];
    for key in ["date", "request-id", "client-request-id"] {
        assert!(inner[key].is_string(), "innerError.{key}: {}", a.text);
    }
    assert_eq!(
        a.headers.get("request-id").and_then(|v| v.to_str().ok()),
        inner["request-id"].as_str()
    );
}

fn date(v: &Value) -> DateTime<Utc> {
    let text = v.as_str().unwrap_or_else(|| panic!("a date: {v}"));
    DateTime::parse_from_rfc3339(text)
        .unwrap_or_else(|e| panic!("{text}: {e}"))
        .to_utc()
}

fn ids(items: &[Value], field: &str) -> Vec<String> {
    items
        .iter()
        .map(|i| i[field].as_str().expect("string field").to_string())
        .collect()
}

/// The API role's id by value.
fn role_id(sb: &SandboxHandle, value: &str) -> String {
    sb.app_roles()
        .into_iter()
        .find(|r| r.value == value)
        .map(|r| r.id)
        .unwrap_or_else(|| panic!("the API defines {value}"))
}

/// The ids of the permissions a client's application has configured for a resource app.
fn configured(app: &Value, resource_app_id: &str) -> Vec<String> {
    app["requiredResourceAccess"]
        .as_array()
        .expect("requiredResourceAccess")
        .iter()
        .filter(|r| r["resourceAppId"] == resource_app_id)
        .flat_map(|r| r["resourceAccess"].as_array().cloned().unwrap_or_default())
        .inspect(|a| assert_eq!(a["type"], "Role"))
        .map(|a| a["id"].as_str().expect("id").to_string())
        .collect()
}

async fn client_app(sb: &SandboxHandle, token: &str, client: &str) -> Value {
    let id = sb.client(client).expect("client").client_id;
    ok(sb, token, &format!("/applications(appId='{id}')"), &[]).await
}

/// The appRoleIds a client's service principal holds.
async fn held(sb: &SandboxHandle, token: &str, client: &str) -> Vec<Value> {
    let sp = sb.client(client).expect("client").object_id;
    all_pages(
        sb,
        token,
        &format!("/servicePrincipals/{sp}/appRoleAssignments"),
        &[],
    )
    .await
    .0
}

fn roles_of(token: &str) -> Vec<String> {
    let claims = tokenscope::jwt::decode(token).expect("a JWT").claims;
    claims.roles
}

// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn graph_tokens_are_v1_shaped_with_a_nonce_and_the_clients_graph_roles() {
    within("test", async {
        let sb = start(SandboxOptions::default()).await;
        let raw = reader(&sb).await;
        let header = jsonwebtoken::decode_header(&raw).expect("header");
        assert!(
            header.nonce.as_deref().is_some_and(|n| n.len() >= 32),
            "{header:?}"
        );
        assert!(header.x5t.is_some() && header.kid.is_some(), "{header:?}");

        // Signed by the sandbox: verifies against its JWKS.
        let jwks = get_url(&sb.jwks_uri(), None, &[]).await.body;
        let kid = header.kid.clone().expect("kid");
        let jwk = jwks["keys"]
            .as_array()
            .expect("keys")
            .iter()
            .find(|k| k["kid"] == kid.as_str())
            .expect("published key")
            .clone();
        let key = DecodingKey::from_rsa_components(
            jwk["n"].as_str().expect("n"),
            jwk["e"].as_str().expect("e"),
        )
        .expect("key");
        let mut validation = Validation::new(Algorithm::RS256);
        validation.set_audience(&[GRAPH_RESOURCE]);
        validation.set_issuer(&[sb.issuer(TokenVersion::V1)]);
        let claims = jsonwebtoken::decode::<Value>(&raw, &key, &validation)
            .expect("verifies")
            .claims;
        let rw = sb.client("console-rw").expect("client");
        assert_eq!(claims["ver"], "1.0");
        assert_eq!(claims["appid"], rw.client_id.as_str());
        assert_eq!(claims["app_displayname"], rw.display_name.as_str());
        assert_eq!(claims["idtyp"], "app");
        assert_eq!(claims["oid"], rw.object_id.as_str());
        assert_eq!(claims["roles"], serde_json::json!([APPLICATION_READ_ALL]));

        // The v1 endpoint names the resource instead; Graph's app id works as the resource.
        let c = &rw;
        let form = [
            ("grant_type", "client_credentials"),
            ("client_id", c.client_id.as_str()),
            ("client_secret", c.secret.as_str()),
            ("resource", "https://graph.microsoft.com/"),
        ];
        let v1_endpoint = format!("{}/oauth2/token", sb.authority());
        let v1: Value = within("v1", async {
            http()
                .post(v1_endpoint)
                .form(&form)
                .send()
                .await?
                .json()
                .await
        })
        .await
        .expect("v1 token");
        assert_eq!(v1["resource"], GRAPH_RESOURCE, "{v1}");
        let by_id = access_token(&sb, "console-rw", &format!("{GRAPH_APP_ID}/.default")).await;
        let by_id = tokenscope::jwt::decode(&by_id).expect("JWT");
        assert_eq!(by_id.payload["aud"], GRAPH_APP_ID);

        // A client granted nothing on Graph gets a token without roles (Entra issues it).
        let ro = access_token(&sb, "mobile-ro", GRAPH_SCOPE).await;
        let ro = tokenscope::jwt::decode(&ro).expect("JWT");
        assert!(!ro.payload.contains_key("roles"), "{:?}", ro.payload);

        // Another cloud's Graph is still a resource this tenant does not have.
        let (status, body) =
            token_answer(&sb, "console-rw", "https://graph.microsoft.us/.default").await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(body["error_codes"], serde_json::json!([500011]), "{body}");

        // The weather API refuses a Graph token (wrong audience), and Graph an API token.
        let resp = within(
            "API call",
            http()
                .get(sb.api_url_template().replace("{city}", "Seattle"))
                .bearer_auth(&raw)
                .send(),
        )
        .await
        .expect("sent");
        assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
        let api_token = access_token(&sb, "console-rw", &sb.api_scope()).await;
        let a = graph(&sb, &api_token, "/applications", &[]).await;
        assert_graph_error(&a, StatusCode::UNAUTHORIZED, "InvalidAuthenticationToken");
        assert!(
            a.body["error"]["message"]
                .as_str()
                .is_some_and(|m| m.contains("Invalid audience"))
        );
        sb.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn every_object_the_setup_view_reads() {
    within("test", async {
        let sb = start(SandboxOptions::default()).await;
        let t = reader(&sb).await;
        let api_id = sb.api_client_id();
        let uri = sb.app_id_uri();

        // The API's application, by appId and by its App ID URI.
        let app = ok(&sb, &t, &format!("/applications(appId='{api_id}')"), &[]).await;
        assert!(
            app["@odata.context"]
                .as_str()
                .is_some_and(|c| c.ends_with("/graph/v1.0/$metadata#applications/$entity"))
        );
        assert_eq!(app["appId"], api_id.as_str());
        assert_eq!(app["identifierUris"], serde_json::json!([uri]));
        assert_eq!(app["api"]["requestedAccessTokenVersion"], 2);
        let roles = app["appRoles"].as_array().expect("appRoles");
        assert_eq!(
            ids(roles, "value"),
            ["Weather.Read", "Weather.Write", "Weather.Admin"]
        );
        for role in roles {
            assert_eq!(
                role["allowedMemberTypes"],
                serde_json::json!(["Application"])
            );
            assert_eq!(role["isEnabled"], true);
            assert_eq!(
                role["id"],
                role_id(&sb, role["value"].as_str().expect("value")).as_str()
            );
        }
        let filter = format!("identifierUris/any(x:x eq '{uri}')");
        let by_uri = ok(&sb, &t, "/applications", &[("$filter", &filter)]).await;
        assert!(
            by_uri["@odata.context"]
                .as_str()
                .is_some_and(|c| c.ends_with("$metadata#applications"))
        );
        assert_eq!(
            ids(by_uri["value"].as_array().expect("value"), "id"),
            [app["id"].as_str().expect("id")]
        );
        // Percent-encoded by hand, `%20` for spaces, quotes doubled: the same answer.
        let encoded = format!(
            "{}/applications?%24filter=identifierUris%2Fany(x%3Ax%20eq%20%27{}%27)",
            sb.graph_url(),
            uri.replace(':', "%3A").replace('/', "%2F")
        );
        let by_hand = get_url(&encoded, Some(&t), &[]).await;
        assert_eq!(
            by_hand.body["value"][0]["appId"],
            api_id.as_str(),
            "{}",
            by_hand.text
        );
        let none = ok(
            &sb,
            &t,
            "/applications",
            &[(
                "$filter",
                "identifierUris/any(x:x eq 'api://it''s-not-here')",
            )],
        )
        .await;
        assert_eq!(none["value"], serde_json::json!([]));

        // Its service principal, by appId and by servicePrincipalNames.
        let sp = ok(
            &sb,
            &t,
            &format!("/servicePrincipals(appId='{api_id}')"),
            &[],
        )
        .await;
        assert_eq!(sp["appRoleAssignmentRequired"], false);
        assert_eq!(sp["accountEnabled"], true);
        assert!(
            sp["servicePrincipalNames"]
                .as_array()
                .expect("names")
                .contains(&Value::from(uri.clone()))
        );
        assert_eq!(sp["appRoles"].as_array().map(Vec::len), Some(3));
        let filter = format!("servicePrincipalNames/any(x:x eq '{uri}')");
        let by_name = ok(&sb, &t, "/servicePrincipals", &[("$filter", &filter)]).await;
        assert_eq!(by_name["value"][0]["id"], sp["id"]);
        assert_eq!(by_name["value"].as_array().map(Vec::len), Some(1));

        // A client's application: what "API permissions" lists, its secrets without values.
        let rw = sb.client("console-rw").expect("client");
        let rw_app = client_app(&sb, &t, "console-rw").await;
        assert_eq!(
            configured(&rw_app, &api_id),
            [role_id(&sb, "Weather.Read"), role_id(&sb, "Weather.Write")]
        );
        assert_eq!(
            configured(&rw_app, GRAPH_APP_ID),
            ["9a5d68dd-52b0-4cc2-bd40-abcf44ac3a30"]
        );
        let secret = &rw_app["passwordCredentials"][0];
        assert_eq!(secret["hint"], &rw.secret[..3]);
        assert_eq!(secret["secretText"], Value::Null);
        assert_eq!(secret["keyId"], rw.secret_id.as_str());
        assert_eq!(date(&secret["endDateTime"]), rw.secret_expires);
        assert!(date(&secret["startDateTime"]) <= Utc::now());
        assert_eq!(rw_app["keyCredentials"], serde_json::json!([]));

        // A certificate client's keyCredentials carry the thumbprint.
        let cert = sb.client("console-cert").expect("client");
        let cert_app = client_app(&sb, &t, "console-cert").await;
        let key = &cert_app["keyCredentials"][0];
        assert_eq!(
            key["customKeyIdentifier"],
            cert.certificate_thumbprints[0].as_str()
        );
        assert_eq!(
            (key["type"].as_str(), key["usage"].as_str()),
            (Some("AsymmetricX509Cert"), Some("Verify"))
        );
        assert!(date(&key["endDateTime"]) > Utc::now());

        // The workload's federated identity credentials, by the application's object id.
        let workload = sb.client("workload").expect("client");
        let wl_app = client_app(&sb, &t, "workload").await;
        let wl_id = wl_app["id"].as_str().expect("id");
        let fics = ok(
            &sb,
            &t,
            &format!("/applications/{wl_id}/federatedIdentityCredentials"),
            &[],
        )
        .await;
        let fic = &fics["value"][0];
        let want = &workload.federated_credentials[0];
        assert_eq!(fic["issuer"], want.issuer.as_str());
        assert_eq!(fic["subject"], want.subject.as_str());
        assert_eq!(fic["audiences"], serde_json::json!(want.audiences));
        assert_eq!(fic["name"], want.name.as_str());

        // The client's service principal and the grants it holds, with their times.
        let rw_sp = ok(
            &sb,
            &t,
            &format!("/servicePrincipals(appId='{}')", rw.client_id),
            &[],
        )
        .await;
        assert_eq!(rw_sp["id"], rw.object_id.as_str());
        let grants = held(&sb, &t, "console-rw").await;
        let api_sp = sp["id"].as_str().expect("id");
        let on_api: Vec<&Value> = grants
            .iter()
            .filter(|g| g["resourceId"] == api_sp)
            .collect();
        assert_eq!(
            on_api
                .iter()
                .map(|g| g["appRoleId"].as_str().expect("id"))
                .collect::<Vec<_>>(),
            [role_id(&sb, "Weather.Read"), role_id(&sb, "Weather.Write")]
        );
        for g in &grants {
            assert_eq!(g["principalId"], rw.object_id.as_str());
            assert_eq!(g["principalType"], "ServicePrincipal");
            assert!(date(&g["createdDateTime"]) <= sb.now());
        }
        assert!(
            grants
                .iter()
                .any(|g| g["resourceDisplayName"] == "Microsoft Graph")
        );

        // The grants on the API, from every client that holds one of its roles.
        let on = all_pages(
            &sb,
            &t,
            &format!("/servicePrincipals/{api_sp}/appRoleAssignedTo"),
            &[],
        )
        .await
        .0;
        let expected: usize = sb.clients().iter().map(|c| c.granted_roles.len()).sum();
        assert_eq!(on.len(), expected);
        assert!(on.iter().all(|g| g["resourceId"] == api_sp));

        // Graph's service principal is in the tenant; its application is not.
        let g_sp = ok(
            &sb,
            &t,
            &format!("/servicePrincipals(appId='{GRAPH_APP_ID}')"),
            &[],
        )
        .await;
        assert_eq!(g_sp["appRoles"][0]["value"], APPLICATION_READ_ALL);
        let a = graph(
            &sb,
            &t,
            &format!("/applications(appId='{GRAPH_APP_ID}')"),
            &[],
        )
        .await;
        assert_graph_error(&a, StatusCode::NOT_FOUND, "Request_ResourceNotFound");

        // `$select` trims the objects, as Graph does.
        let picked = ok(
            &sb,
            &t,
            &format!("/applications(appId='{api_id}')"),
            &[("$select", "appId,displayName")],
        )
        .await;
        let keys: Vec<&str> = picked
            .as_object()
            .expect("object")
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(keys, ["@odata.context", "appId", "displayName"]);
        sb.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn collections_page_with_next_links_back_to_the_sandbox() {
    within("test", async {
        let sb = start(SandboxOptions {
            graph_page_size: 2,
            ..SandboxOptions::default()
        })
        .await;
        let t = reader(&sb).await;
        let apps = 1 + sb.clients().len();
        let (items, pages) = all_pages(&sb, &t, "/applications", &[]).await;
        assert_eq!(items.len(), apps);
        assert_eq!(pages, apps.div_ceil(2));
        let unique: HashSet<String> = ids(&items, "id").into_iter().collect();
        assert_eq!(unique.len(), apps, "no member twice, none skipped");

        // `$top` sets the page size, and the next link keeps the filter.
        let (sps, pages) = all_pages(&sb, &t, "/servicePrincipals", &[("$top", "3")]).await;
        assert_eq!(
            (sps.len(), pages),
            (apps + 1, (apps + 1).div_ceil(3)),
            "Graph's own SP too"
        );
        let first = ok(
            &sb,
            &t,
            "/servicePrincipals",
            &[
                ("$top", "1"),
                ("$filter", &format!("appId eq '{}'", sb.api_client_id())),
            ],
        )
        .await;
        assert!(
            first.get("@odata.nextLink").is_none(),
            "one match, one page: {first}"
        );

        let sp_id = ok(
            &sb,
            &t,
            &format!("/servicePrincipals(appId='{}')", sb.api_client_id()),
            &[],
        )
        .await["id"]
            .as_str()
            .expect("id")
            .to_string();
        let (assigned, pages) = all_pages(
            &sb,
            &t,
            &format!("/servicePrincipals/{sp_id}/appRoleAssignedTo"),
            &[],
        )
        .await;
        let expected: usize = sb.clients().iter().map(|c| c.granted_roles.len()).sum();
        assert_eq!(assigned.len(), expected);
        assert!(pages >= 2, "{pages} pages");

        // A tampered skip token is refused, not guessed at.
        let a = graph(&sb, &t, "/applications", &[("$skiptoken", "bogus")]).await;
        assert_graph_error(&a, StatusCode::BAD_REQUEST, "BadRequest");
        sb.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn refusals_are_graphs_error_json() {
    within("test", async {
        let sb = start(SandboxOptions::default()).await;
        let t = reader(&sb).await;

        // No token: 401 with Graph's challenge; the client's request id is echoed.
        let request_id = "8c2b7e1a-1d2f-4e6b-9a0c-3f5d7e9b1a2c";
        let resp = within(
            "GET",
            http()
                .get(format!("{}/applications", sb.graph_url()))
                .header("client-request-id", request_id)
                .send(),
        )
        .await
        .expect("sent");
        let headers = resp.headers().clone();
        let body: Value = within("body", resp.json()).await.expect("JSON");
        let a = Answer {
            status: StatusCode::UNAUTHORIZED,
            headers,
            text: body.to_string(),
            body,
        };
        assert_graph_error(&a, StatusCode::UNAUTHORIZED, "InvalidAuthenticationToken");
        assert_eq!(a.body["error"]["message"], "Access token is empty.");
        assert_eq!(
            a.body["error"]["innerError"]["client-request-id"],
            request_id
        );
        let challenge = a
            .headers
            .get("www-authenticate")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        assert!(
            challenge.starts_with("Bearer ") && challenge.contains(GRAPH_APP_ID),
            "{challenge}"
        );

        // A garbage token, an expired one.
        let a = graph(&sb, "not-a-jwt", "/applications", &[]).await;
        assert_graph_error(&a, StatusCode::UNAUTHORIZED, "InvalidAuthenticationToken");
        sb.set_clock_offset(TimeDelta::hours(3));
        let a = graph(&sb, &t, "/applications", &[]).await;
        assert_graph_error(&a, StatusCode::UNAUTHORIZED, "InvalidAuthenticationToken");
        assert_eq!(
            a.body["error"]["message"],
            "Lifetime validation failed, the token is expired."
        );
        sb.set_clock_offset(TimeDelta::zero());

        // A Graph token without Application.Read.All: 403, Graph's words.
        let ro = access_token(&sb, "mobile-ro", GRAPH_SCOPE).await;
        let a = graph(
            &sb,
            &ro,
            &format!("/applications(appId='{}')", sb.api_client_id()),
            &[],
        )
        .await;
        assert_graph_error(&a, StatusCode::FORBIDDEN, "Authorization_RequestDenied");
        assert_eq!(
            a.body["error"]["message"],
            "Insufficient privileges to complete the operation."
        );

        // Not found, not a GUID, not a segment, not a filter, not a method.
        let missing = "00000000-0000-0000-0000-00000000beef";
        let a = graph(&sb, &t, &format!("/applications(appId='{missing}')"), &[]).await;
        assert_graph_error(&a, StatusCode::NOT_FOUND, "Request_ResourceNotFound");
        assert!(
            a.body["error"]["message"]
                .as_str()
                .is_some_and(|m| m.contains(missing))
        );
        let a = graph(
            &sb,
            &t,
            &format!("/servicePrincipals/{missing}/appRoleAssignments"),
            &[],
        )
        .await;
        assert_graph_error(&a, StatusCode::NOT_FOUND, "Request_ResourceNotFound");
        let a = graph(&sb, &t, "/applications/api-weather", &[]).await;
        assert_graph_error(&a, StatusCode::BAD_REQUEST, "Request_BadRequest");
        let a = graph(&sb, &t, "/users", &[]).await;
        assert_graph_error(&a, StatusCode::BAD_REQUEST, "BadRequest");
        for filter in [
            "startswith(displayName,'Weather')",
            "publisherDomain eq 'x'",
            "appId eq 'a' or appId eq 'b'",
        ] {
            let a = graph(&sb, &t, "/applications", &[("$filter", filter)]).await;
            assert_graph_error(&a, StatusCode::BAD_REQUEST, "BadRequest");
        }
        let a = graph(&sb, &t, "/applications", &[("$select", "secretText")]).await;
        assert_graph_error(&a, StatusCode::BAD_REQUEST, "BadRequest");
        let resp = within(
            "DELETE",
            http()
                .delete(format!(
                    "{}/applications(appId='{}')",
                    sb.graph_url(),
                    sb.api_client_id()
                ))
                .bearer_auth(&t)
                .send(),
        )
        .await
        .expect("sent");
        assert_eq!(resp.status(), StatusCode::METHOD_NOT_ALLOWED);
        assert!(sb.client("console-rw").is_some(), "nothing was deleted");
        sb.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn both_audience_forms_are_accepted() {
    within("test", async {
        let sb = start(SandboxOptions::default()).await;
        let path = format!("/servicePrincipals(appId='{}')", sb.api_client_id());
        for scope in [GRAPH_SCOPE.to_string(), format!("{GRAPH_APP_ID}/.default")] {
            let t = access_token(&sb, "console-rw", &scope).await;
            let aud = tokenscope::jwt::decode(&t).expect("JWT").payload["aud"].clone();
            let a = graph(&sb, &t, &path, &[]).await;
            assert_eq!(a.status, StatusCode::OK, "aud {aud}: {}", a.text);
        }
        sb.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn admin_operations_show_in_graph_at_once() {
    within("test", async {
        let sb = start(SandboxOptions::default()).await;
        let t = reader(&sb).await;
        let admin = role_id(&sb, "Weather.Admin");

        // Grant: an assignment with a createdDateTime no earlier than the operation, and
        // the permission configured with it.
        let before = sb.now().trunc_subsecs(6);
        sb.grant_role("mobile-ro", "Weather.Admin").expect("grant");
        let grants = held(&sb, &t, "mobile-ro").await;
        let grant = grants
            .iter()
            .find(|g| g["appRoleId"] == admin.as_str())
            .expect("the new assignment");
        let created = date(&grant["createdDateTime"]);
        assert!(
            created >= before && created <= sb.now(),
            "{created} vs {before}"
        );
        let app = client_app(&sb, &t, "mobile-ro").await;
        assert!(configured(&app, &sb.api_client_id()).contains(&admin));
        let token = access_token(&sb, "mobile-ro", &sb.api_scope()).await;
        assert!(roles_of(&token).contains(&"Weather.Admin".to_string()));

        // Revoke: the assignment goes; the permission stays configured (consent missing).
        sb.revoke_role("mobile-ro", "Weather.Admin")
            .expect("revoke");
        let grants = held(&sb, &t, "mobile-ro").await;
        assert!(!grants.iter().any(|g| g["appRoleId"] == admin.as_str()));
        let app = client_app(&sb, &t, "mobile-ro").await;
        assert!(configured(&app, &sb.api_client_id()).contains(&admin));

        // The same through the loopback admin route.
        let resp = within(
            "admin grant",
            http()
                .post(format!(
                    "{}/_sandbox/clients/mobile-ro/roles/Weather.Write",
                    sb.base_url()
                ))
                .send(),
        )
        .await
        .expect("sent");
        assert_eq!(resp.status(), StatusCode::OK);
        let grants = held(&sb, &t, "mobile-ro").await;
        assert!(
            grants
                .iter()
                .any(|g| g["appRoleId"] == role_id(&sb, "Weather.Write").as_str())
        );

        // Expire: endDateTime in the past. Renew: a new credential, valid from now, whose
        // hint is the new secret's first three characters and whose value never shows.
        sb.expire_secret("mobile-ro").expect("expire");
        let app = client_app(&sb, &t, "mobile-ro").await;
        let secrets = app["passwordCredentials"]
            .as_array()
            .expect("secrets")
            .clone();
        assert!(
            secrets.iter().all(|s| date(&s["endDateTime"]) < sb.now()),
            "{secrets:?}"
        );
        let renewed = sb.renew_secret("mobile-ro").expect("renew");
        let app = client_app(&sb, &t, "mobile-ro").await;
        let secrets = app["passwordCredentials"].as_array().expect("secrets");
        assert_eq!(secrets.len(), 2);
        let new = secrets
            .iter()
            .find(|s| s["keyId"] == renewed.secret_id.as_str())
            .expect("the new secret");
        assert_eq!(new["hint"], &renewed.secret[..3]);
        assert_eq!(new["secretText"], Value::Null);
        assert_eq!(date(&new["endDateTime"]), renewed.secret_expires);
        assert!(date(&new["startDateTime"]) <= sb.now());
        assert!(!app.to_string().contains(&renewed.secret));
        sb.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn each_situation_shows_in_graph_and_in_tokens() {
    within("test", async {
        let sb = start(SandboxOptions::default()).await;
        let t = reader(&sb).await;
        let api_id = sb.api_client_id();
        let admin = role_id(&sb, "Weather.Admin");

        // Configured without consent: listed under API permissions, no assignment, and no
        // token carries it.
        sb.configure_role("console-rw", "Weather.Admin")
            .expect("configure");
        let app = client_app(&sb, &t, "console-rw").await;
        assert!(configured(&app, &api_id).contains(&admin));
        assert!(
            !held(&sb, &t, "console-rw")
                .await
                .iter()
                .any(|g| g["appRoleId"] == admin.as_str())
        );
        let token = access_token(&sb, "console-rw", &sb.api_scope()).await;
        assert_eq!(roles_of(&token), ["Weather.Read", "Weather.Write"]);
        sb.unconfigure_role("console-rw", "Weather.Admin")
            .expect("unconfigure");
        let app = client_app(&sb, &t, "console-rw").await;
        assert!(!configured(&app, &api_id).contains(&admin));

        // A User-only role: defined on the API with allowedMemberTypes ["User"]; a client
        // may configure it; Entra cannot grant it to an application.
        sb.define_app_role("Weather.Audit", &[MEMBER_USER])
            .expect("define");
        sb.configure_role("console-rw", "Weather.Audit")
            .expect("configure");
        let api = ok(&sb, &t, &format!("/applications(appId='{api_id}')"), &[]).await;
        let audit = api["appRoles"]
            .as_array()
            .expect("roles")
            .iter()
            .find(|r| r["value"] == "Weather.Audit")
            .expect("defined")
            .clone();
        assert_eq!(audit["allowedMemberTypes"], serde_json::json!(["User"]));
        let app = client_app(&sb, &t, "console-rw").await;
        assert!(configured(&app, &api_id).contains(&audit["id"].as_str().expect("id").to_string()));
        let refused = sb
            .grant_role("console-rw", "Weather.Audit")
            .expect_err("User-only");
        assert!(
            refused.to_string().contains("allows only User members"),
            "{refused}"
        );
        let resp = within(
            "admin grant",
            http()
                .post(format!(
                    "{}/_sandbox/clients/console-rw/roles/Weather.Audit",
                    sb.base_url()
                ))
                .send(),
        )
        .await
        .expect("sent");
        assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
        // Through the admin route: allow applications too, then delete it.
        let resp = within(
            "admin define",
            http()
                .put(format!(
                    "{}/_sandbox/app-roles/Weather.Audit",
                    sb.base_url()
                ))
                .body("Application,User")
                .send(),
        )
        .await
        .expect("sent");
        assert_eq!(resp.status(), StatusCode::OK);
        let api = ok(&sb, &t, &format!("/applications(appId='{api_id}')"), &[]).await;
        let audit_now = api["appRoles"]
            .as_array()
            .expect("roles")
            .iter()
            .find(|r| r["value"] == "Weather.Audit")
            .expect("still defined")
            .clone();
        assert_eq!(
            audit_now["allowedMemberTypes"],
            serde_json::json!(["Application", "User"])
        );
        assert_eq!(audit_now["id"], audit["id"], "the same role, changed");
        sb.remove_app_role("Weather.Audit").expect("remove");
        let app = client_app(&sb, &t, "console-rw").await;
        assert!(
            !configured(&app, &api_id).contains(&audit["id"].as_str().expect("id").to_string())
        );

        // Token version null: v1 tokens; 2: v2.
        sb.set_access_token_version(TokenVersion::V1);
        let api = ok(&sb, &t, &format!("/applications(appId='{api_id}')"), &[]).await;
        assert_eq!(api["api"]["requestedAccessTokenVersion"], Value::Null);
        let token = access_token(&sb, "console-rw", &sb.api_scope()).await;
        assert_eq!(
            tokenscope::jwt::decode(&token).expect("JWT").payload["ver"],
            "1.0"
        );
        sb.set_access_token_version(TokenVersion::V2);
        let api = ok(&sb, &t, &format!("/applications(appId='{api_id}')"), &[]).await;
        assert_eq!(api["api"]["requestedAccessTokenVersion"], 2);

        // Assignment required, as the enterprise application shows it, and what it does.
        sb.set_assignment_required(true);
        let sp = ok(
            &sb,
            &t,
            &format!("/servicePrincipals(appId='{api_id}')"),
            &[],
        )
        .await;
        assert_eq!(sp["appRoleAssignmentRequired"], true);
        let (status, body) = token_answer(&sb, "no-roles", &sb.api_scope()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(body["error_codes"], serde_json::json!([501051]));
        sb.set_assignment_required(false);

        // A role defined on the client's own registration, pointed at the API: the API
        // does not define it, no token carries it.
        sb.add_client_role("console-rw", "Weather.Export")
            .expect("client role");
        let app = client_app(&sb, &t, "console-rw").await;
        let own = app["appRoles"]
            .as_array()
            .expect("roles")
            .iter()
            .find(|r| r["value"] == "Weather.Export")
            .expect("on the client")
            .clone();
        assert!(configured(&app, &api_id).contains(&own["id"].as_str().expect("id").to_string()));
        let api = ok(&sb, &t, &format!("/applications(appId='{api_id}')"), &[]).await;
        assert!(!api.to_string().contains("Weather.Export"));
        let rw_sp = ok(
            &sb,
            &t,
            &format!(
                "/servicePrincipals(appId='{}')",
                sb.client("console-rw").expect("c").client_id
            ),
            &[],
        )
        .await;
        assert_eq!(rw_sp["appRoles"][0]["value"], "Weather.Export");
        let token = access_token(&sb, "console-rw", &sb.api_scope()).await;
        assert!(!roles_of(&token).contains(&"Weather.Export".to_string()));
        let resp = within(
            "admin remove",
            http()
                .delete(format!(
                    "{}/_sandbox/clients/console-rw/own-roles/Weather.Export",
                    sb.base_url()
                ))
                .send(),
        )
        .await
        .expect("sent");
        assert_eq!(resp.status(), StatusCode::OK);
        let app = client_app(&sb, &t, "console-rw").await;
        assert_eq!(app["appRoles"], serde_json::json!([]));
        assert_eq!(configured(&app, &api_id).len(), 2);
        sb.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn a_grant_reaches_tokens_only_after_the_propagation_delay() {
    within("test", async {
        let sb = start(SandboxOptions::default()).await;
        let t = reader(&sb).await;
        sb.set_grant_delay(Duration::from_secs(600));
        assert_eq!(sb.grant_delay(), Duration::from_secs(600));
        let before = sb.now().trunc_subsecs(6);
        sb.grant_role("console-rw", "Weather.Admin").expect("grant");

        // Graph shows the grant at once; tokens do not carry it yet.
        let admin = role_id(&sb, "Weather.Admin");
        let grants = held(&sb, &t, "console-rw").await;
        let grant = grants
            .iter()
            .find(|g| g["appRoleId"] == admin.as_str())
            .expect("assignment");
        assert!(date(&grant["createdDateTime"]) >= before);
        let early = access_token(&sb, "console-rw", &sb.api_scope()).await;
        assert_eq!(roles_of(&early), ["Weather.Read", "Weather.Write"]);

        // Grants made before the delay are untouched.
        sb.set_clock_offset(TimeDelta::seconds(599));
        let still = access_token(&sb, "console-rw", &sb.api_scope()).await;
        assert_eq!(roles_of(&still), ["Weather.Read", "Weather.Write"]);
        sb.set_clock_offset(TimeDelta::seconds(601));
        let late = access_token(&sb, "console-rw", &sb.api_scope()).await;
        assert_eq!(
            roles_of(&late),
            ["Weather.Read", "Weather.Write", "Weather.Admin"]
        );
        sb.set_clock_offset(TimeDelta::zero());

        // The admin route sets it too, and the stats report it.
        let resp = within(
            "admin delay",
            http()
                .put(format!("{}/_sandbox/grant-delay", sb.base_url()))
                .body("30s")
                .send(),
        )
        .await
        .expect("sent");
        assert_eq!(resp.status(), StatusCode::OK);
        let stats = get_url(&format!("{}/_sandbox/stats", sb.base_url()), None, &[])
            .await
            .body;
        assert_eq!(stats["grant_delay_seconds"], 30);
        // One Graph request so far: the assignments read above.
        assert_eq!(stats["requests"]["graph"], 1, "{stats}");
        sb.set_grant_delay(Duration::ZERO);
        sb.grant_role("mobile-ro", "Weather.Write").expect("grant");
        let now = access_token(&sb, "mobile-ro", &sb.api_scope()).await;
        assert!(roles_of(&now).contains(&"Weather.Write".to_string()));
        sb.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn no_secret_or_token_appears_in_any_graph_response() {
    within("test", async {
        let sb = start(SandboxOptions::default()).await;
        let t = reader(&sb).await;
        let renewed = sb.renew_secret("no-roles").expect("renew");
        let mut secrets: Vec<String> = sb
            .clients()
            .into_iter()
            .map(|c| c.secret)
            .filter(|s| !s.is_empty())
            .collect();
        secrets.push(renewed.secret);
        secrets.push("sbx8Q~console-rw.sandbox-only.not-a-real-secret".into());

        let mut bodies = Vec::new();
        for path in ["/applications", "/servicePrincipals"] {
            let (items, _) = all_pages(&sb, &t, path, &[]).await;
            for item in &items {
                let id = item["id"].as_str().expect("id");
                let app_id = item["appId"].as_str().expect("appId");
                bodies.push(ok(&sb, &t, &format!("{path}/{id}"), &[]).await);
                bodies.push(ok(&sb, &t, &format!("{path}(appId='{app_id}')"), &[]).await);
                let navs: &[&str] = if path == "/applications" {
                    &["federatedIdentityCredentials"]
                } else {
                    &["appRoleAssignments", "appRoleAssignedTo"]
                };
                for nav in navs {
                    bodies.push(ok(&sb, &t, &format!("{path}/{id}/{nav}"), &[]).await);
                }
            }
            bodies.extend(items);
        }
        bodies.push(graph(&sb, &t, "/users", &[]).await.body);
        let text: String = bodies.iter().map(Value::to_string).collect();
        for secret in &secrets {
            assert!(
                !text.contains(secret.as_str()),
                "a secret value in a Graph response"
            );
        }
        assert!(!text.contains(&t), "the Graph token in a Graph response");
        let mut credentials = 0;
        for body in &bodies {
            for c in body["passwordCredentials"].as_array().into_iter().flatten() {
                assert_eq!(c["secretText"], Value::Null);
                assert_eq!(c["hint"].as_str().map(|h| h.chars().count()), Some(3));
                credentials += 1;
            }
        }
        assert!(credentials >= 5, "secrets were looked at: {credentials}");
        sb.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn written_configs_name_the_graph_source_for_every_profile() {
    within("test", async {
        let sb = start(SandboxOptions::default()).await;
        let dir = tempfile::tempdir().expect("tempdir");
        let text = sb.config_toml_in(dir.path()).expect("config");
        let config: toml::Table = text.parse().expect("TOML");
        let profiles = config["profiles"].as_table().expect("profiles");
        assert_eq!(profiles.len(), sb.clients().len());
        for (name, p) in profiles {
            assert_eq!(
                p["graph_url"].as_str(),
                Some(sb.graph_url().as_str()),
                "{name}"
            );
            let want = if name == "console-rw" {
                "profile"
            } else {
                "console-rw"
            };
            assert_eq!(p["graph_credential"].as_str(), Some(want), "{name}");
        }
        assert!(sb.graph_url().ends_with("/graph/v1.0"));

        // A client granted Application.Read.All reads Graph with its own credential.
        sb.grant_role("mobile-ro", APPLICATION_READ_ALL)
            .expect("grant Graph permission");
        let config: toml::Table = sb.config_toml().parse().expect("TOML");
        assert_eq!(
            config["profiles"]["mobile-ro"]["graph_credential"].as_str(),
            Some("profile")
        );
        assert_eq!(
            config["profiles"]["no-roles"]["graph_credential"].as_str(),
            Some("console-rw")
        );
        let t = access_token(&sb, "mobile-ro", GRAPH_SCOPE).await;
        let a = graph(&sb, &t, "/applications", &[]).await;
        assert_eq!(a.status, StatusCode::OK, "{}", a.text);
        sb.shutdown().await;
    })
    .await;
}
