//! Microsoft Graph v1.0, the part that shows an app-role set-up, under `{base}/graph/v1.0/`:
//!
//! - `applications`, `applications(appId='…')`, `applications/{id}` and
//!   `…/federatedIdentityCredentials`;
//! - `servicePrincipals`, `servicePrincipals(appId='…')`, `servicePrincipals/{id}` and
//!   `…/appRoleAssignments` (grants held) / `…/appRoleAssignedTo` (grants on a resource);
//! - `$filter` (`identifierUris/any(x:x eq '…')`, `servicePrincipalNames/any(…)`,
//!   `appId eq '…'`, …), `$select`, `$top` and `@odata.nextLink` paging;
//! - Graph's error JSON: 401 `InvalidAuthenticationToken`, 403 `Authorization_RequestDenied`,
//!   404 `Request_ResourceNotFound`, 400 `BadRequest`.
//!
//! Every answer is rendered from the tenant model at request time, so admin operations show
//! at once. `access` checks the token, `query` the OData options, `objects` renders the
//! directory, `wire` is Graph's envelope.
//!
//! Owns these routes. Must not change the tenant (it only reads it) and must not use the
//! client side's Graph reader: like the rest of the sandbox it is an independent party.

mod access;
mod objects;
mod query;
mod wire;

use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::Response;
use serde_json::{Map, Value};

use self::objects::Directory;
use self::query::{Filter, Form, Options};
use self::wire::{Exchange, GraphError};
use super::state::{AppState, Shared};
use super::stats::Endpoint;

/// Where the sandbox serves Graph v1.0.
const PREFIX: &str = "/graph/v1.0";

/// The entity sets the sandbox serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Set {
    Applications,
    ServicePrincipals,
}

impl Set {
    fn name(self) -> &'static str {
        match self {
            Set::Applications => "applications",
            Set::ServicePrincipals => "servicePrincipals",
        }
    }

    /// The OData type of its members (for `$select` errors).
    fn type_name(self) -> &'static str {
        match self {
            Set::Applications => "application",
            Set::ServicePrincipals => "servicePrincipal",
        }
    }

    /// The `$filter`s the collection takes.
    fn filters(self) -> &'static [(Form, &'static str)] {
        match self {
            Set::Applications => &[
                (Form::Any, "identifierUris"),
                (Form::Eq, "appId"),
                (Form::Eq, "displayName"),
            ],
            Set::ServicePrincipals => &[
                (Form::Any, "servicePrincipalNames"),
                (Form::Eq, "appId"),
                (Form::Eq, "displayName"),
            ],
        }
    }
}

/// How an entity is named in the path.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Key {
    /// `applications/{id}`: the object id.
    Id(String),
    /// `applications(appId='{appId}')`.
    AppId(String),
}

/// A collection navigated to from an entity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Nav {
    FederatedIdentityCredentials,
    AppRoleAssignments,
    AppRoleAssignedTo,
}

impl Nav {
    fn name(self) -> &'static str {
        match self {
            Nav::FederatedIdentityCredentials => "federatedIdentityCredentials",
            Nav::AppRoleAssignments => "appRoleAssignments",
            Nav::AppRoleAssignedTo => "appRoleAssignedTo",
        }
    }

    fn of(set: Set, segment: &str) -> Option<Nav> {
        let nav = match set {
            Set::Applications => [Nav::FederatedIdentityCredentials].as_slice(),
            Set::ServicePrincipals => &[Nav::AppRoleAssignments, Nav::AppRoleAssignedTo],
        };
        nav.iter()
            .copied()
            .find(|n| n.name().eq_ignore_ascii_case(segment))
    }

    fn filters(self) -> &'static [(Form, &'static str)] {
        match self {
            Nav::FederatedIdentityCredentials => &[
                (Form::Eq, "name"),
                (Form::Eq, "issuer"),
                (Form::Eq, "subject"),
            ],
            Nav::AppRoleAssignments | Nav::AppRoleAssignedTo => {
                &[(Form::Eq, "resourceId"), (Form::Eq, "principalId")]
            }
        }
    }

    fn type_name(self) -> &'static str {
        match self {
            Nav::FederatedIdentityCredentials => "federatedIdentityCredential",
            Nav::AppRoleAssignments | Nav::AppRoleAssignedTo => "appRoleAssignment",
        }
    }
}

/// What a request's path names.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Target {
    Collection(Set),
    Entity(Set, Key, Option<Nav>),
}

/// `ANY /graph/v1.0/{*path}`.
pub(crate) async fn serve(
    State(shared): State<AppState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    shared.count(Endpoint::Graph);
    let exchange = Exchange::new(&headers, shared.now(), &shared.base_url);
    match answer(&shared, &method, &uri, &headers) {
        Ok(body) => exchange.ok(&body),
        Err(e) => exchange.error(&e),
    }
}

/// Graph's order: the token first (even for a path that names nothing), then the method,
/// the path and the query.
fn answer(
    shared: &Shared,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
) -> Result<Value, GraphError> {
    access::check(shared, headers)?;
    if method != Method::GET {
        return Err(GraphError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "Request_BadRequest",
            "Specified HTTP method is not allowed for the request target.",
        ));
    }
    let raw_path = uri.path();
    let relative = raw_path.strip_prefix(PREFIX).unwrap_or(raw_path);
    let decoded = percent_encoding::percent_decode_str(relative)
        .decode_utf8()
        .map_err(|_| GraphError::bad_request("The request path is not valid UTF-8."))?;
    let target = parse_target(&decoded)?;
    let options = Options::parse(uri.query())?;
    let graph = format!("{}{PREFIX}", shared.base_url);
    let here = format!("{}{raw_path}", shared.base_url);
    let state = shared.read();
    let directory = Directory {
        model: &state.model,
        started_at: shared.started_at,
    };
    let reply = Reply {
        options: &options,
        page_size: shared.graph_page_size,
        here: &here,
    };
    match target {
        Target::Collection(set) => {
            let context = format!("{graph}/$metadata#{}", set.name());
            reply.collection(
                context,
                members(&directory, set),
                set.filters(),
                set.type_name(),
            )
        }
        Target::Entity(set, key, nav) => {
            let entity = find(members(&directory, set), &key)?;
            let id = entity.get("id").and_then(Value::as_str).unwrap_or_default();
            let Some(nav) = nav else {
                let context = format!("{graph}/$metadata#{}/$entity", set.name());
                return reply.entity(context, entity, set.type_name());
            };
            let items = match nav {
                Nav::FederatedIdentityCredentials => directory.federated_credentials(id),
                Nav::AppRoleAssignments => directory.assignments(id, true),
                Nav::AppRoleAssignedTo => directory.assignments(id, false),
            };
            let context = format!("{graph}/$metadata#{}('{id}')/{}", set.name(), nav.name());
            reply.collection(context, items, nav.filters(), nav.type_name())
        }
    }
}

fn members(directory: &Directory<'_>, set: Set) -> Vec<Value> {
    match set {
        Set::Applications => directory.applications(),
        Set::ServicePrincipals => directory.service_principals(),
    }
}

/// The member an entity key names (GUIDs compare case-insensitively).
fn find(members: Vec<Value>, key: &Key) -> Result<Value, GraphError> {
    let (field, wanted) = match key {
        Key::Id(id) => ("id", id),
        Key::AppId(app_id) => ("appId", app_id),
    };
    members
        .into_iter()
        .find(|m| {
            m.get(field)
                .and_then(Value::as_str)
                .is_some_and(|v| v.eq_ignore_ascii_case(wanted))
        })
        .ok_or_else(|| GraphError::not_found(wanted))
}

/// How the answer is shaped by the request's options.
struct Reply<'a> {
    options: &'a Options,
    page_size: usize,
    /// This request's URL without its query (the next link's base).
    here: &'a str,
}

impl Reply<'_> {
    fn collection(
        &self,
        context: String,
        items: Vec<Value>,
        filters: &[(Form, &str)],
        type_name: &str,
    ) -> Result<Value, GraphError> {
        let items = match &self.options.filter {
            Some(filter) => {
                filter.supported(filters, &resource_name(type_name))?;
                items
                    .into_iter()
                    .filter(|i| Filter::matches(filter, i))
                    .collect()
            }
            None => items,
        };
        let (page, next) = self.options.page(items, self.page_size, self.here);
        let page = page
            .into_iter()
            .map(|item| self.selected(item, type_name))
            .collect::<Result<Vec<_>, _>>()?;
        let mut body = Map::new();
        body.insert("@odata.context".into(), self.context(context).into());
        if let Some(next) = next {
            body.insert("@odata.nextLink".into(), next.into());
        }
        body.insert("value".into(), page.into());
        Ok(Value::Object(body))
    }

    fn entity(&self, context: String, entity: Value, type_name: &str) -> Result<Value, GraphError> {
        let mut body = Map::new();
        body.insert("@odata.context".into(), self.context(context).into());
        if let Value::Object(fields) = self.selected(entity, type_name)? {
            body.extend(fields);
        }
        Ok(Value::Object(body))
    }

    fn selected(&self, item: Value, type_name: &str) -> Result<Value, GraphError> {
        match &self.options.select {
            Some(names) => query::select(item, names, type_name),
            None => Ok(item),
        }
    }

    /// `…#applications(appId,displayName)` when the request `$select`s, as Graph writes it.
    fn context(&self, context: String) -> String {
        match &self.options.select {
            Some(names) => match context.split_once("/$entity") {
                Some((set, _)) => format!("{set}({})/$entity", names.join(",")),
                None => format!("{context}({})", names.join(",")),
            },
            None => context,
        }
    }
}

/// `application` → `Application`, as Graph names resources in filter errors.
fn resource_name(type_name: &str) -> String {
    let mut chars = type_name.chars();
    chars
        .next()
        .map(|c| c.to_ascii_uppercase().to_string() + chars.as_str())
        .unwrap_or_default()
}

/// Parses the path after `/graph/v1.0` (percent-decoded).
fn parse_target(path: &str) -> Result<Target, GraphError> {
    let path = path.trim_start_matches('/').trim_end_matches('/');
    let mut segments = path.split('/');
    let first = segments.next().unwrap_or_default();
    let set_of = |name: &str| {
        [Set::Applications, Set::ServicePrincipals]
            .into_iter()
            .find(|s| s.name().eq_ignore_ascii_case(name))
    };
    let (set, key) = match first.split_once('(') {
        Some((name, rest)) => {
            let set = set_of(name).ok_or_else(|| GraphError::no_segment(first))?;
            let inner = rest
                .strip_suffix(')')
                .ok_or_else(|| GraphError::no_segment(first))?;
            (
                set,
                Some(alternate_key(inner).ok_or_else(|| GraphError::no_segment(first))?),
            )
        }
        None => {
            let set = set_of(first).ok_or_else(|| GraphError::no_segment(first))?;
            match segments.next() {
                Some(id) => (set, Some(Key::Id(id.to_string()))),
                None => (set, None),
            }
        }
    };
    let Some(key) = key else {
        return Ok(Target::Collection(set));
    };
    let value = match &key {
        Key::Id(v) | Key::AppId(v) => v,
    };
    if uuid::Uuid::parse_str(value).is_err() {
        return Err(GraphError::invalid_id(value));
    }
    let nav = match segments.next() {
        Some(segment) => {
            Some(Nav::of(set, segment).ok_or_else(|| GraphError::no_segment(segment))?)
        }
        None => None,
    };
    if let Some(extra) = segments.next() {
        return Err(GraphError::no_segment(extra));
    }
    Ok(Target::Entity(set, key, nav))
}

/// `appId='…'` (the quotes required, `''` a quote).
fn alternate_key(inner: &str) -> Option<Key> {
    let (name, value) = inner.split_once('=')?;
    if !name.trim().eq_ignore_ascii_case("appId") {
        return None;
    }
    let quoted = value.trim().strip_prefix('\'')?.strip_suffix('\'')?;
    Some(Key::AppId(quoted.replace("''", "'")))
}

#[cfg(test)]
mod tests {
    use super::*;

    const G: &str = "6c6f687a-96c8-4280-bba3-d11cc0b19b67";

    #[test]
    fn paths_name_collections_entities_and_navigations() {
        assert_eq!(
            parse_target("/applications"),
            Ok(Target::Collection(Set::Applications))
        );
        assert_eq!(
            parse_target(&format!("/applications(appId='{G}')")),
            Ok(Target::Entity(
                Set::Applications,
                Key::AppId(G.into()),
                None
            ))
        );
        assert_eq!(
            parse_target(&format!("/ServicePrincipals/{G}/appRoleAssignedTo/")),
            Ok(Target::Entity(
                Set::ServicePrincipals,
                Key::Id(G.into()),
                Some(Nav::AppRoleAssignedTo)
            ))
        );
        assert_eq!(
            parse_target(&format!(
                "/servicePrincipals(appId='{G}')/appRoleAssignments"
            )),
            Ok(Target::Entity(
                Set::ServicePrincipals,
                Key::AppId(G.into()),
                Some(Nav::AppRoleAssignments)
            ))
        );
        let code = |p: &str| parse_target(p).err().map(|e| e.code);
        assert_eq!(code("/users"), Some("BadRequest"));
        assert_eq!(code("/applications/not-a-guid"), Some("Request_BadRequest"));
        assert_eq!(
            code(&format!("/applications(appId={G})")),
            Some("BadRequest")
        );
        assert_eq!(
            code(&format!("/applications/{G}/appRoleAssignments")),
            Some("BadRequest"),
            "applications have no assignments"
        );
        assert_eq!(
            code(&format!("/servicePrincipals/{G}/owners")),
            Some("BadRequest")
        );
        assert_eq!(
            code(&format!("/applications/{G}/federatedIdentityCredentials/x")),
            Some("BadRequest")
        );
    }
}
