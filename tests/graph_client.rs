//! The Graph client and reader against a scripted Microsoft Graph on 127.0.0.1: paging,
//! foreign next links, throttling, Graph's error JSON, size caps, timeouts, and the reader's
//! requests and tolerance for objects a tenant lacks.

#[path = "fixtures/fake_graph.rs"]
mod fake_graph;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use fake_graph::*;
use serde_json::json;
use tokenscope::graph::{GraphClient, GraphError, Sleeper, read_setup};
use tokenscope::problem::Problem;
use tokenscope::secret::AccessToken;
use url::Url;

const TOKEN: &str = "graph-token-for-tests";

fn http(timeout: Duration) -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .timeout(timeout)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

/// A sleeper that records the waits asked for and returns at once.
fn recording() -> (Sleeper, Arc<Mutex<Vec<Duration>>>) {
    let waits = Arc::new(Mutex::new(Vec::new()));
    let w = waits.clone();
    let sleeper: Sleeper = Arc::new(move |d| {
        w.lock().unwrap().push(d);
        Box::pin(async {})
    });
    (sleeper, waits)
}

fn client(g: &FakeGraph) -> (GraphClient, Arc<Mutex<Vec<Duration>>>) {
    let (sleeper, waits) = recording();
    let c = GraphClient::new(
        http(Duration::from_secs(20)),
        Url::parse(&g.base()).unwrap(),
        AccessToken::new(TOKEN),
    )
    .with_sleeper(sleeper);
    (c, waits)
}

#[tokio::test]
async fn three_pages_are_read_in_order_with_the_bearer_token() {
    let g = FakeGraph::start().await;
    for page in 1..=3 {
        let next = (page < 3).then(|| format!("{}/items?$skiptoken={}", g.base(), page + 1));
        let path = if page == 1 {
            "/items".to_string()
        } else {
            format!("/items?$skiptoken={page}")
        };
        g.on(
            &path,
            Reply::ok(json!({"value": [{"n": page * 10}, {"n": page * 10 + 1}],
                             "@odata.nextLink": next})),
        );
    }
    let (c, _) = client(&g);
    let items = c.get_all("/items").await.unwrap();
    let ns: Vec<i64> = items.iter().map(|v| v["n"].as_i64().unwrap()).collect();
    assert_eq!(ns, [10, 11, 20, 21, 30, 31]);
    let seen = g.seen();
    assert_eq!(seen.len(), 3);
    for s in &seen {
        assert_eq!(
            s.authorization.as_deref(),
            Some("Bearer graph-token-for-tests")
        );
    }
}

#[tokio::test]
async fn a_next_link_to_another_origin_is_not_followed() {
    let g = FakeGraph::start().await;
    g.on(
        "/items",
        Reply::ok(json!({"value": [1],
            "@odata.nextLink": "https://graph.evil.example/v1.0/items?$skiptoken=2"})),
    );
    let (c, _) = client(&g);
    let e = c.get_all("/items").await.unwrap_err();
    assert!(matches!(e, GraphError::ForeignNextLink { .. }), "{e}");
    let text = e.full_text();
    assert!(
        text.contains("https://graph.evil.example") && text.contains("not sent"),
        "{text}"
    );
    assert_eq!(g.seen().len(), 1);
}

#[tokio::test]
async fn paging_stops_after_fifty_pages() {
    let g = FakeGraph::start().await;
    // A server whose every page links to itself.
    g.on(
        "/loop",
        Reply::ok(json!({"value": [1], "@odata.nextLink": format!("{}/loop", g.base())})),
    );
    let (c, _) = client(&g);
    let e = c.get_all("/loop").await.unwrap_err();
    assert!(
        matches!(e, GraphError::TooManyPages { pages: 50, .. }),
        "{e}"
    );
    assert_eq!(g.seen().len(), 50);
}

#[tokio::test]
async fn throttling_waits_as_told_capped_then_succeeds() {
    let g = FakeGraph::start().await;
    g.on(
        "/applications(appId='x')",
        Reply::error(429, "TooManyRequests", "slow down").header("retry-after", "2"),
    );
    g.on(
        "/applications(appId='x')",
        Reply::error(503, "ServiceUnavailable", "busy").header("retry-after", "120"),
    );
    g.on("/applications(appId='x')", Reply::ok(json!({"appId": "x"})));
    let (c, waits) = client(&g);
    let v = c.get("/applications(appId='x')").await.unwrap();
    assert_eq!(v["appId"], "x");
    assert_eq!(
        *waits.lock().unwrap(),
        [Duration::from_secs(2), Duration::from_secs(30)]
    );
    assert_eq!(g.seen().len(), 3);
}

#[tokio::test]
async fn throttling_that_never_ends_is_named_after_three_retries() {
    let g = FakeGraph::start().await;
    g.on(
        "/x",
        Reply::error(429, "TooManyRequests", "slow down").header("retry-after", "1"),
    );
    let (c, waits) = client(&g);
    let e = c.get("/x").await.unwrap_err();
    assert!(
        matches!(
            e,
            GraphError::Throttled {
                status: 429,
                retries: 3,
                ..
            }
        ),
        "{e}"
    );
    assert!(e.summary().contains("throttling"), "{e}");
    assert_eq!(waits.lock().unwrap().len(), 3);
    assert_eq!(g.seen().len(), 4);
}

#[tokio::test]
async fn insufficient_privileges_names_application_read_all() {
    let g = FakeGraph::start().await;
    g.on(
        "/applications(appId='x')",
        Reply::error(
            403,
            "Authorization_RequestDenied",
            "Insufficient privileges to complete the operation.",
        ),
    );
    let (c, _) = client(&g);
    let e = c.get("/applications(appId='x')").await.unwrap_err();
    let GraphError::Api {
        status,
        code,
        request_id,
        ..
    } = &e
    else {
        panic!("{e:?}")
    };
    assert_eq!(*status, 403);
    assert_eq!(code.as_deref(), Some("Authorization_RequestDenied"));
    assert_eq!(request_id.as_deref(), Some("req-1"));
    let text = e.full_text();
    for want in [
        "HTTP 403 Authorization_RequestDenied",
        "Insufficient privileges",
        "Application.Read.All",
        "Grant admin consent",
        "graph_credential = \"azure-cli\"",
    ] {
        assert!(text.contains(want), "{want:?} not in {text}");
    }
}

#[tokio::test]
async fn a_refused_token_and_a_missing_object_say_so() {
    let g = FakeGraph::start().await;
    g.on(
        "/a",
        Reply::error(
            401,
            "InvalidAuthenticationToken",
            "Access token has expired or is not yet valid.",
        ),
    );
    let (c, _) = client(&g);
    let e = c.get("/a").await.unwrap_err();
    assert!(
        e.summary()
            .contains("refused the Graph token (HTTP 401 InvalidAuthenticationToken)"),
        "{e}"
    );
    assert!(e.hint().unwrap().contains("az login"), "{:?}", e.hint());
    // Unscripted: the fake's 404.
    let e = c.get("/applications(appId='gone')").await.unwrap_err();
    assert!(
        e.summary().starts_with(
            "Microsoft Graph has no /applications(appId='gone') (HTTP 404 Request_ResourceNotFound)"
        ),
        "{e}"
    );
}

#[tokio::test]
async fn a_ten_mebibyte_body_is_capped() {
    let g = FakeGraph::start().await;
    let mut big = b"{\"value\": [\"".to_vec();
    big.resize(10 * 1024 * 1024, b'x');
    big.extend_from_slice(b"\"]}");
    g.on("/big", Reply::raw(200, "application/json", big));
    let (c, _) = client(&g);
    let e = c.get("/big").await.unwrap_err();
    assert!(
        matches!(e, GraphError::TooLarge { cap: 1048576, .. }),
        "{e}"
    );
    assert!(e.to_string().contains("larger than 1024 KiB"), "{e}");
}

#[tokio::test]
async fn a_slow_server_times_out() {
    let g = FakeGraph::start().await;
    g.on("/slow", Reply::ok(json!({})).after(Duration::from_secs(10)));
    let c = GraphClient::new(
        http(Duration::from_millis(300)),
        Url::parse(&g.base()).unwrap(),
        AccessToken::new(TOKEN),
    );
    let started = std::time::Instant::now();
    let e = c.get("/slow").await.unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(5));
    let GraphError::Network { kind, .. } = &e else {
        panic!("{e:?}")
    };
    assert_eq!(*kind, tokenscope::http::NetworkKind::Timeout);
    assert!(
        e.full_text()
            .contains("timed out waiting for Microsoft Graph"),
        "{}",
        e.full_text()
    );
}

#[tokio::test]
async fn html_from_a_proxy_is_an_excerpt_without_the_token() {
    let g = FakeGraph::start().await;
    g.on(
        "/x",
        Reply::raw(
            502,
            "text/html",
            format!("<html><h1>Bad Gateway</h1><p>Authorization: Bearer {TOKEN}</p></html>")
                .into_bytes(),
        ),
    );
    let (c, _) = client(&g);
    let e = c.get("/x").await.unwrap_err();
    let text = e.full_text();
    assert!(
        text.contains("HTTP 502") && text.contains("Bad Gateway"),
        "{text}"
    );
    assert!(!text.contains(TOKEN), "{text}");
}

#[tokio::test]
async fn no_bearer_over_plain_http_to_a_remote_host() {
    let c = GraphClient::new(
        http(Duration::from_secs(1)),
        Url::parse("http://graph.microsoft.com/v1.0").unwrap(),
        AccessToken::new(TOKEN),
    );
    let e = c.get("/applications").await.unwrap_err();
    assert!(matches!(e, GraphError::Insecure(_)), "{e}");
    assert!(e.full_text().contains("https://"), "{}", e.full_text());
}

#[tokio::test]
async fn the_reader_fetches_the_set_up_in_order() {
    let g = FakeGraph::start().await;
    healthy_tenant(&g);
    let (c, _) = client(&g);
    let facts = read_setup(&c, SCOPE, CLIENT_ID).await.unwrap();
    assert_eq!(
        g.gets(),
        [
            "/v1.0/applications?$filter=identifierUris/any(x:x eq 'api://weather')".to_string(),
            format!("/v1.0/servicePrincipals(appId='{API_APP_ID}')"),
            format!("/v1.0/applications(appId='{CLIENT_ID}')"),
            format!("/v1.0/applications/{CLIENT_OBJECT}/federatedIdentityCredentials"),
            format!("/v1.0/servicePrincipals(appId='{CLIENT_ID}')"),
            format!("/v1.0/servicePrincipals/{CLIENT_SP}/appRoleAssignments"),
            format!("/v1.0/servicePrincipals/{CLIENT_SP}/appRoleAssignments?$skiptoken=2"),
        ]
    );
    // The filter went percent-encoded.
    assert!(
        g.seen()[0].raw.contains("%27api%3A%2F%2Fweather%27"),
        "{:?}",
        g.seen()[0]
    );
    let api = facts.api_app.unwrap();
    assert_eq!(api.app_id, API_APP_ID);
    assert_eq!(api.requested_token_version, Some(2));
    assert_eq!(api.app_roles.len(), 2);
    let sp = facts.api_sp.unwrap();
    assert!(sp.assignment_required);
    let client_app = facts.client_app.unwrap();
    assert_eq!(client_app.required_resource_access[0].access.len(), 2);
    assert_eq!(
        client_app.federated[0].subject,
        "system:serviceaccount:weather:api"
    );
    assert_eq!(
        client_app.password_credentials[0].hint.as_deref(),
        Some("Gv8")
    );
    assert_eq!(facts.client_sp.unwrap().id, CLIENT_SP);
    assert_eq!(facts.assignments.len(), 2);
    assert_eq!(facts.assignments[0].app_role_id, READ_ROLE);
    assert!(facts.assignments[0].created.is_some());
    assert!(facts.notes.is_empty(), "{:?}", facts.notes);
    assert!(
        facts
            .source
            .starts_with("Microsoft Graph http://127.0.0.1:"),
        "{}",
        facts.source
    );
}

#[tokio::test]
async fn an_api_of_another_tenant_is_a_note_and_its_service_principal_is_found_by_name() {
    let g = FakeGraph::start().await;
    healthy_tenant(&g);
    // The API's application is not here (an empty search), its service principal is.
    g.set(
        "/applications?$filter=identifierUris/any(x:x eq 'api://weather')",
        Reply::ok(json!({"value": []})),
    );
    g.on(
        "/servicePrincipals?$filter=servicePrincipalNames/any(x:x eq 'api://weather')",
        Reply::ok(json!({"value": [api_sp()]})),
    );
    let (c, _) = client(&g);
    let facts = read_setup(&c, SCOPE, CLIENT_ID).await.unwrap();
    assert!(facts.api_app.is_none());
    assert_eq!(facts.api_sp.unwrap().id, API_SP);
    assert!(
        facts.notes.iter().any(|n| n.contains("not in this tenant")),
        "{:?}",
        facts.notes
    );
    // A GUID scope goes by appId; with no client service principal either, two notes and
    // no assignments read.
    let g = FakeGraph::start().await;
    g.on(
        &format!("/applications(appId='{API_APP_ID}')"),
        Reply::ok(api_app()),
    );
    g.on(
        &format!("/servicePrincipals(appId='{API_APP_ID}')"),
        Reply::ok(api_sp()),
    );
    let (c, _) = client(&g);
    let facts = read_setup(&c, &format!("{API_APP_ID}/.default"), CLIENT_ID)
        .await
        .unwrap();
    assert!(facts.api_app.is_some() && facts.api_sp.is_some());
    assert!(facts.client_app.is_none() && facts.client_sp.is_none());
    assert_eq!(facts.notes.len(), 2, "{:?}", facts.notes);
    assert!(!g.gets().iter().any(|p| p.contains("appRoleAssignments")));
}

#[tokio::test]
async fn a_403_anywhere_fails_the_read() {
    let g = FakeGraph::start().await;
    healthy_tenant(&g);
    g.set(
        &format!("/servicePrincipals/{CLIENT_SP}/appRoleAssignments"),
        Reply::error(
            403,
            "Authorization_RequestDenied",
            "Insufficient privileges to complete the operation.",
        ),
    );
    let (c, _) = client(&g);
    let e = read_setup(&c, SCOPE, CLIENT_ID).await.unwrap_err();
    assert_eq!(e.code(), Some("Authorization_RequestDenied"));
}
