//! Which Graph objects make up one profile's app-role set-up, read in this order: the API's
//! application (from the scope's resource), the API's service principal, the client's
//! application and its federated credentials, the client's service principal and the
//! app-role assignments it holds.
//!
//! Tolerant where the tenant can legitimately lack an object (a multi-tenant API or client
//! registered elsewhere, an app with no service principal here): that is a note in
//! [`SetupFacts::notes`], and reading goes on. Anything else (403, 401, the network) fails
//! the whole read. Talks to Graph only through [`GraphClient`].

use serde_json::Value;

use super::client::{GraphClient, by_app_id, filter_any_eq, segment};
use super::error::GraphError;
use super::model::{Application, SetupFacts};
use super::wire;

/// The resource part of a scope: `api://weather/.default` → `api://weather`.
pub fn scope_resource(scope: &str) -> &str {
    let s = scope.trim();
    s.strip_suffix("/.default").unwrap_or(s)
}

/// True for a GUID such as an appId (`6c6f687a-96c8-4280-bba3-d11cc0b19b67`).
pub fn is_guid(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 36
        && b.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_hexdigit(),
        })
}

/// Read the set-up of the client `client_id` calling the API of `scope`.
pub async fn read_setup(
    client: &GraphClient,
    scope: &str,
    client_id: &str,
) -> Result<SetupFacts, GraphError> {
    let resource = scope_resource(scope);
    let client_id = client_id.trim();
    let mut facts = SetupFacts {
        source: format!("Microsoft Graph {}", client.base()),
        read_at: crate::time::now(),
        ..SetupFacts::default()
    };

    // 1. The API's application.
    let api_app = if is_guid(resource) {
        optional(client.get(&by_app_id("applications", resource)).await)?
    } else {
        first(
            client
                .get(&filter_any_eq("applications", "identifierUris", resource))
                .await?,
        )
    }
    .map(|v| wire::application(&v));

    // 2. The API's service principal: by the application's appId, or, with no application
    //    in this tenant, by the scope's resource among service principal names.
    let api_sp = match &api_app {
        Some(app) if !app.app_id.is_empty() => optional(
            client
                .get(&by_app_id("servicePrincipals", &app.app_id))
                .await,
        )?,
        _ => {
            facts.notes.push(format!(
                "the API's application ({}) is not in this tenant: a multi-tenant API \
                 registered in another tenant, or a scope that names no application here",
                wire::clean(resource)
            ));
            if is_guid(resource) {
                optional(client.get(&by_app_id("servicePrincipals", resource)).await)?
            } else {
                first(
                    client
                        .get(&filter_any_eq(
                            "servicePrincipals",
                            "servicePrincipalNames",
                            resource,
                        ))
                        .await?,
                )
            }
        }
    }
    .map(|v| wire::service_principal(&v));
    if api_sp.is_none() {
        facts.notes.push(
            "the API has no service principal in this tenant: none of its roles can be \
             granted here (an admin creates it by consenting, or with `az ad sp create`)"
                .into(),
        );
    }

    // 3. The client's application and its federated credentials.
    let mut client_app = optional(client.get(&by_app_id("applications", client_id)).await)?
        .map(|v| wire::application(&v));
    match &mut client_app {
        Some(app) => read_federated(client, app, &mut facts.notes).await?,
        None => facts.notes.push(format!(
            "the client's application (client_id {}) is not in this tenant: registered in \
             another tenant (a multi-tenant client); its permissions and credentials are not \
             shown",
            wire::clean(client_id)
        )),
    }

    // 4. The client's service principal and the grants it holds.
    let client_sp = optional(client.get(&by_app_id("servicePrincipals", client_id)).await)?
        .map(|v| wire::service_principal(&v));
    match &client_sp {
        Some(sp) if !sp.id.is_empty() => {
            let path = format!("/servicePrincipals/{}/appRoleAssignments", segment(&sp.id));
            facts.assignments = client
                .get_all(&path)
                .await?
                .iter()
                .map(wire::assignment)
                .collect();
        }
        Some(_) => facts
            .notes
            .push("the client's service principal has no id; its grants were not read".into()),
        None => facts.notes.push(
            "the client has no service principal in this tenant, so nothing is granted to it \
             here (admin consent creates one)"
                .into(),
        ),
    }

    facts.api_app = api_app;
    facts.api_sp = api_sp;
    facts.client_app = client_app;
    facts.client_sp = client_sp;
    Ok(facts)
}

async fn read_federated(
    client: &GraphClient,
    app: &mut Application,
    notes: &mut Vec<String>,
) -> Result<(), GraphError> {
    if app.object_id.is_empty() {
        notes.push(
            "the client's application has no object id; its federated credentials were not read"
                .into(),
        );
        return Ok(());
    }
    let path = format!(
        "/applications/{}/federatedIdentityCredentials",
        segment(&app.object_id)
    );
    match client.get_all(&path).await {
        Ok(items) => app.federated = items.iter().map(wire::federated).collect(),
        Err(e) if e.is_not_found() => {
            notes.push("the client's federated credentials could not be found (404)".into())
        }
        Err(e) => return Err(e),
    }
    Ok(())
}

/// A single object, or `None` for a 404.
fn optional(r: Result<Value, GraphError>) -> Result<Option<Value>, GraphError> {
    match r {
        Ok(v) => Ok(Some(v)),
        Err(e) if e.is_not_found() => Ok(None),
        Err(e) => Err(e),
    }
}

/// The first object of a `$filter` answer, if any.
fn first(collection: Value) -> Option<Value> {
    match collection {
        Value::Object(mut o) => match o.remove("value") {
            Some(Value::Array(items)) => items.into_iter().find(Value::is_object),
            _ => None,
        },
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resources_and_guids() {
        assert_eq!(scope_resource(" api://weather/.default "), "api://weather");
        assert_eq!(
            scope_resource("https://contoso.com/api/.default"),
            "https://contoso.com/api"
        );
        assert_eq!(scope_resource("api://x"), "api://x");
        assert!(is_guid("6c6f687a-96c8-4280-bba3-d11cc0b19b67"));
        assert!(is_guid("6C6F687A-96C8-4280-BBA3-D11CC0B19B67"));
        assert!(!is_guid("api://6c6f687a-96c8-4280-bba3-d11cc0b19b67"));
        assert!(!is_guid("6c6f687a-96c8-4280-bba3-d11cc0b19b6z"));
    }

    #[test]
    fn first_of_a_search() {
        let v = serde_json::json!({"value": [7, {"appId": "a"}, {"appId": "b"}]});
        assert_eq!(first(v).unwrap()["appId"], "a");
        assert_eq!(first(serde_json::json!({"value": []})), None);
        assert_eq!(first(serde_json::json!([])), None);
    }
}
