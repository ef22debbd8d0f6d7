//! The five links of one role's chain, each judged from the facts: defined on the API →
//! configured on the client → granted → in the token → required by the API. Every ✗ names
//! its cause and its fix (the portal path, and the `az` command where there is one).
//!
//! Owns the wording of the links. Reads the facts through [`Seen`]; judges nothing around
//! the chain (that is `findings`).

use crate::graph::model::{AppRoleDef, Assignment};

use super::{Link, LinkKind, RequiredFrom, RoleChain, Seen, when};
use crate::text::sanitize;

/// Where a role's definition was found.
#[derive(Clone, Copy)]
enum Def<'a> {
    /// On the API's registration (perhaps spelt in another case).
    Api(&'a AppRoleDef),
    /// On the client's own registration instead.
    Client(&'a AppRoleDef),
    /// Not defined anywhere that was read.
    Missing,
    /// The API's registration was not read: nothing can be said.
    Unknown,
}

/// The chain of `role`.
pub(super) fn chain(seen: &Seen, role: &str) -> RoleChain {
    let role = sanitize(role, false);
    let (defined, def) = defined(seen, &role);
    let (configured, is_configured) = configured(seen, &role, def);
    let (granted, grant) = granted(seen, &role, def, is_configured);
    let links = vec![
        defined,
        configured,
        granted,
        in_token(seen, &role, grant),
        required(seen, &role),
    ];
    RoleChain { role, links }
}

// ---------------------------------------------------------------------------- fixes

/// How to define (or repair) an app role on the API's registration.
fn define_fix(seen: &Seen, role: &str, what: &str) -> String {
    format!(
        "App registrations → {} → App roles → {what} (Allowed member types: Applications, \
         Value: {role}, enabled); or `az ad app update --id {} --app-roles @app-roles.json` \
         with every role listed and this one's \"allowedMemberTypes\": [\"Application\"]",
        seen.api,
        seen.api_app_id_or()
    )
}

/// How to add the permission to the client and consent to it.
fn configure_fix(seen: &Seen, role: &str, role_id: Option<&str>) -> String {
    format!(
        "App registrations → {} → API permissions → Add a permission → My APIs → {} → \
         Application permissions → {role} → Add permissions, then 'Grant admin consent for \
         <tenant>'; or `az ad app permission add --id {} --api {} --api-permissions {}=Role` \
         and `az ad app permission admin-consent --id {}`",
        seen.client,
        seen.api,
        seen.input.client_id,
        seen.api_app_id_or(),
        role_id.unwrap_or("<role id>"),
        seen.input.client_id
    )
}

fn consent_fix(seen: &Seen) -> String {
    format!(
        "App registrations → {} → API permissions → 'Grant admin consent for <tenant>' (an \
         admin: Privileged Role Administrator, Cloud Application Administrator or Application \
         Administrator); or `az ad app permission admin-consent --id {}`; then get a new token",
        seen.client, seen.input.client_id
    )
}

fn refresh_fix(role: &str) -> String {
    format!(
        "get a new token: r in the dashboard, --no-cache on the command line, or `tokenscope \
         cache clear`; `tokenscope call CITY --wait-for-role {role}` asks until new tokens \
         carry it"
    )
}

// ---------------------------------------------------------------------------- 1. defined

fn defined<'a>(seen: &Seen<'a>, role: &str) -> (Link, Def<'a>) {
    let kind = LinkKind::Defined;
    let facts = seen.facts;
    if facts.api_app.is_none() && facts.api_sp.is_none() {
        let link = Link::warn(kind, "the API's registration was not read")
            .cause(
                "Neither the API's application nor its service principal is in what was read \
                 (a multi-tenant API registered in another tenant, or a scope that names no \
                 application here).",
            )
            .fix("check the scope, or read the set-up of the tenant where the API is registered");
        return (link, Def::Unknown);
    }
    let exact = seen.api_roles.iter().find(|r| r.value == role);
    let near = || {
        seen.api_roles
            .iter()
            .find(|r| r.value.eq_ignore_ascii_case(role))
    };
    let Some((def, is_exact)) = exact
        .map(|d| (d, true))
        .or_else(|| near().map(|d| (d, false)))
    else {
        return not_on_the_api(seen, role);
    };
    let found = Def::Api(def);
    let link =
        if !def.is_enabled {
            Link::broken(kind, format!("{role} is disabled on the API"))
            .cause(format!(
                "{} defines {role} with isEnabled false: it cannot be granted and never reaches \
                 a token.",
                seen.api
            ))
            .fix(define_fix(seen, role, &format!("{role} → Enable this app role")))
        } else if !def.allowed_member_types.iter().any(|m| m == "Application") {
            Link::broken(
                kind,
                format!(
                    "{role} allows only User members: it never shows under Application permissions"
                ),
            )
            .cause(format!(
                "Its allowedMemberTypes are [{}]: users and groups can be assigned it, a daemon \
             app cannot.",
                def.allowed_member_types.join(", ")
            ))
            .fix(define_fix(
                seen,
                role,
                &format!("{role} → Allowed member types: Both (Users/Groups + Applications)"),
            ))
        } else if !is_exact {
            Link::warn(
                kind,
                format!(
                    "the API defines {}, which differs from {role} in case",
                    def.value
                ),
            )
            .cause(
                "Tokens carry the role as the API's registration spells it; most APIs compare \
             role names case-insensitively (ASP.NET Core does), some do not.",
            )
            .fix(format!(
                "spell it the same in the API's code and in App registrations → {} → App roles",
                seen.api
            ))
        } else {
            Link::ok(
                kind,
                format!("{} defines {role} for applications", seen.api),
            )
        };
    (link, found)
}

/// Not among the API's roles: on the client's registration instead, or nowhere.
fn not_on_the_api<'a>(seen: &Seen<'a>, role: &str) -> (Link, Def<'a>) {
    let kind = LinkKind::Defined;
    let on_client = seen.facts.client_app.as_ref().and_then(|a| {
        a.app_roles
            .iter()
            .find(|r| r.value.eq_ignore_ascii_case(role))
    });
    if let Some(def) = on_client {
        let link = Link::broken(
            kind,
            format!("{role} is defined on the client's registration, not the API's"),
        )
        .cause(format!(
            "{} defines {role} among its own App roles; a token for {} carries only roles {} \
             defines.",
            seen.client, seen.api, seen.api
        ))
        .fix(format!(
            "{}; then remove {role} from {}'s App roles",
            define_fix(seen, role, "Create app role"),
            seen.client
        ));
        return (link, Def::Client(def));
    }
    let names: Vec<&str> = seen.api_roles.iter().map(|r| r.value.as_str()).collect();
    let defines = if names.is_empty() {
        format!("{} defines no app roles.", seen.api)
    } else {
        format!("{} defines {}.", seen.api, names.join(", "))
    };
    let close = names
        .iter()
        .filter(|n| strsim::levenshtein(&n.to_ascii_lowercase(), &role.to_ascii_lowercase()) <= 2)
        .map(|n| format!(" Did you mean {n}?"))
        .next()
        .unwrap_or_default();
    let link = Link::broken(kind, format!("{role} is not defined on the API"))
        .cause(format!("{defines}{close}"))
        .fix(format!(
            "{}; or, if {role} is a mistake, fix the role the API requires",
            define_fix(seen, role, "Create app role")
        ));
    (link, Def::Missing)
}

// ---------------------------------------------------------------------------- 2. configured

fn configured(seen: &Seen, role: &str, def: Def) -> (Link, bool) {
    let kind = LinkKind::Configured;
    let Some(app) = &seen.facts.client_app else {
        let link = Link::warn(kind, "the client's registration was not read").cause(
            "Its API permissions are unknown (a client registered in another tenant, or not \
             exported).",
        );
        return (link, false);
    };
    let on_api: Vec<&crate::graph::ResourceAccess> = app
        .required_resource_access
        .iter()
        .filter(|r| seen.is_api_app_id(&r.resource_app_id))
        .flat_map(|r| &r.access)
        .collect();
    let listed = |id: &str| on_api.iter().find(|a| a.id.eq_ignore_ascii_case(id));
    let link = match def {
        Def::Api(def) => match listed(&def.id) {
            Some(a) if a.kind == "Role" => {
                return (
                    Link::ok(
                        kind,
                        format!(
                            "{} lists {role} under API permissions (application permission)",
                            seen.client
                        ),
                    ),
                    true,
                );
            }
            Some(a) => Link::warn(
                kind,
                format!(
                    "{role} is configured as a delegated permission ({}), not an application \
                     permission",
                    a.kind
                ),
            )
            .cause("A daemon app gets only application permissions (app roles) in its tokens.")
            .fix(configure_fix(seen, role, Some(&def.id))),
            None if has_grant(seen, &def.id) => Link::warn(
                kind,
                format!("{role} is not under the client's API permissions, but it is granted"),
            )
            .cause(
                "The role was assigned directly (Graph, PowerShell, az rest); the assignment \
                 is what counts, the permissions list only documents it.",
            )
            .fix(format!(
                "add it under App registrations → {} → API permissions so the portal shows \
                 what the app uses",
                seen.client
            )),
            None => Link::broken(kind, format!("{role} is not configured on the client"))
                .cause(format!(
                    "{}'s API permissions do not list {role} of {}.",
                    seen.client, seen.api
                ))
                .fix(configure_fix(seen, role, Some(&def.id))),
        },
        Def::Client(d) if listed(&d.id).is_some() => Link::warn(
            kind,
            format!(
                "the client's API permissions point at the API for {role}, but with the id of \
                 the client's own role"
            ),
        )
        .cause("The API defines no role with that id, so Entra can never grant it."),
        Def::Client(_) | Def::Missing => Link::broken(
            kind,
            format!("{role} cannot be configured: the API does not define it"),
        ),
        Def::Unknown => Link::warn(kind, "unknown: the API's registration was not read"),
    };
    (link, false)
}

fn has_grant(seen: &Seen, role_id: &str) -> bool {
    seen.grants_on_api()
        .any(|a| a.app_role_id.eq_ignore_ascii_case(role_id))
}

// ---------------------------------------------------------------------------- 3. granted

fn granted<'a>(
    seen: &Seen<'a>,
    role: &str,
    def: Def,
    configured: bool,
) -> (Link, Option<&'a Assignment>) {
    let kind = LinkKind::Granted;
    let def = match def {
        Def::Api(def) => def,
        Def::Client(_) | Def::Missing => {
            let link = Link::broken(
                kind,
                format!("{role} cannot be granted: the API does not define it"),
            );
            return (link, None);
        }
        Def::Unknown => {
            return (
                Link::warn(kind, "unknown: the API's registration was not read"),
                None,
            );
        }
    };
    if seen.client_sp_id().is_none() {
        let link = Link::broken(
            kind,
            "nothing is granted: the client has no service principal in this tenant",
        )
        .cause("Admin consent creates the client's service principal (enterprise application) with its grants.")
        .fix(format!(
            "{}; or `az ad sp create --id {}` first",
            consent_fix(seen),
            seen.input.client_id
        ));
        return (link, None);
    }
    if seen.api_sp_id.is_none() {
        let link = Link::broken(
            kind,
            format!("{role} cannot be granted: the API has no service principal in this tenant"),
        )
        .fix(format!(
            "create it (`az ad sp create --id {}`, or consent to the API), then grant the role",
            seen.api_app_id_or()
        ));
        return (link, None);
    }
    let grant = seen
        .grants_on_api()
        .find(|a| a.app_role_id.eq_ignore_ascii_case(&def.id));
    let link = match grant {
        Some(a) => Link::ok(
            kind,
            match a.created {
                Some(c) => format!(
                    "granted to the client (admin consent, {})",
                    when(c, seen.input.now)
                ),
                None => "granted to the client (admin consent)".to_string(),
            },
        ),
        None if configured => Link::broken(
            kind,
            format!("{role} is configured on the client but admin consent was never granted"),
        )
        .cause(
            "A permission under API permissions is only a request; the grant (an app-role \
             assignment) is what admin consent creates, and what tokens are built from.",
        )
        .fix(consent_fix(seen)),
        None => Link::broken(kind, format!("{role} is not granted to the client"))
            .cause(format!("{} holds no assignment of {role}.", seen.client))
            .fix(format!(
                "{}; or assign it directly: `az rest --method POST --url \
                 https://graph.microsoft.com/v1.0/servicePrincipals/{sp}/appRoleAssignments \
                 --body '{{\"principalId\": \"{sp}\", \"resourceId\": \"{api}\", \"appRoleId\": \
                 \"{id}\"}}'`",
                configure_fix(seen, role, Some(&def.id)),
                sp = seen.client_sp_id().unwrap_or("<client sp id>"),
                api = seen.api_sp_id.unwrap_or("<API sp id>"),
                id = def.id
            )),
    };
    (link, grant)
}

// ---------------------------------------------------------------------------- 4. in token

fn in_token(seen: &Seen, role: &str, grant: Option<&Assignment>) -> Link {
    let kind = LinkKind::InToken;
    let Some(claims) = seen.input.claims else {
        return Link::warn(kind, "no token yet");
    };
    if claims.has_role(role) {
        return Link::ok(kind, "in the token's roles");
    }
    let now = seen.input.now;
    let held = if claims.roles.is_empty() {
        "no roles".to_string()
    } else {
        claims.roles.join(", ")
    };
    let Some(grant) = grant else {
        return Link::broken(kind, format!("{role} is not in the token (it has {held})"))
            .cause("It is not granted, so no token carries it.");
    };
    match (grant.created, seen.issued) {
        // The grant is newer than the token: a token from before the grant never gains it.
        (Some(created), Some(issued)) if created > issued => Link::broken(
            kind,
            format!(
                "this token predates the grant (granted {}, token issued {}) — refresh",
                when(created, now),
                when(issued, now)
            ),
        )
        .cause(
            "Roles reach only tokens issued after the grant. (Entra backdates iat by 5 \
             minutes, so a token issued just after the grant can look older; if a new token \
             still lacks the role, the grant is still propagating.)",
        )
        .fix(refresh_fix(role)),
        (created, _) => Link::broken(
            kind,
            format!(
                "{role} is granted{}, yet this token lacks it (it has {held})",
                created
                    .map(|c| format!(" ({})", when(c, now)))
                    .unwrap_or_default()
            ),
        )
        .cause(
            "Grants take a while to reach new tokens (propagation, usually minutes); a token \
             for another resource or tenant would not carry it either.",
        )
        .fix(refresh_fix(role)),
    }
}

// ---------------------------------------------------------------------------- 5. required

fn required(seen: &Seen, role: &str) -> Link {
    let kind = LinkKind::Required;
    let required = &seen.input.required;
    let listed = required.roles.iter().any(|r| r.eq_ignore_ascii_case(role));
    match required.from {
        RequiredFrom::Api403 if listed => Link::ok(kind, "the API requires it (from its 403)"),
        RequiredFrom::ExpectedRoles if listed => Link::ok(kind, "expected by this profile"),
        _ => Link::warn(kind, "nothing says the API requires it")
            .fix("list the roles the API requires in the profile's expected_roles"),
    }
}
