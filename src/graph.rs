//! Reading the app-role set-up from Microsoft Graph (or exported files): the API's and the
//! client's app registrations and service principals, the permissions configured on the
//! client and the app-role assignments it holds, as plain [`SetupFacts`].
//!
//! - [`model`]: the facts (the contract with `diagnose::setup` and the front ends);
//! - [`client`]: GET with paging, throttling, caps and Graph's error JSON;
//! - [`reader`]: which objects to fetch for a profile, in which order;
//! - [`source`]: where the Graph token comes from (a profile's credential, the Azure CLI);
//! - [`files`]: the offline exports (`az ad app show`, `az rest`, portal manifests).
//!
//! Front ends call [`read_for_profile`] only.
//!
//! Layer: above `auth` (the Graph token comes through the token endpoint client and cache)
//! and `config` (a profile's [`GraphSettings`](crate::config::GraphSettings)); below
//! `diagnose`, which judges the facts. It must not import `api`, `diagnose` or the front
//! ends, and it judges nothing: a missing grant is a fact here, a broken link there.

pub mod client;
mod error;
pub mod files;
pub mod model;
pub mod reader;
pub mod source;
mod wire;

use std::time::Duration;

use url::Url;

pub use client::{GraphClient, Sleeper};
pub use error::{CliError, FileError, GraphError};
pub use model::{
    AppRoleDef, Application, Assignment, FederatedCred, KeyCred, PasswordCred, RequiredResource,
    ResourceAccess, ServicePrincipal, SetupFacts,
};
pub use reader::read_setup;
pub use source::GraphToken;

use crate::auth::TokenCache;
use crate::config::{GraphSource, Profile};

/// What [`read_for_profile`] needs besides the profile.
#[derive(Clone)]
pub struct ReadOptions<'a> {
    /// The profile's HTTP client (`http::client(&profile.http_options())`).
    pub http: reqwest::Client,
    /// The profile `graph_credential` names, resolved by
    /// [`config::resolve_graph_reader`](crate::config::resolve_graph_reader).
    pub reader: Option<&'a Profile>,
    /// The token cache for a Graph token from a profile's credential (its own entry: the
    /// key includes the scope).
    pub cache: Option<TokenCache>,
    /// Skip the cache for a Graph token (after granting Application.Read.All).
    pub fresh_token: bool,
    /// How long the Azure CLI may take ([`source::CLI_TIMEOUT`]).
    pub cli_timeout: Duration,
    /// How the Graph client waits before a retry (tokio's sleep when `None`).
    pub sleeper: Option<Sleeper>,
}

impl<'a> ReadOptions<'a> {
    pub fn new(http: reqwest::Client) -> Self {
        ReadOptions {
            http,
            reader: None,
            cache: None,
            fresh_token: false,
            cli_timeout: source::CLI_TIMEOUT,
            sleeper: None,
        }
    }
}

/// Read `profile`'s app-role set-up from where its Graph settings say: exported files, or
/// Microsoft Graph with a token from the profile, another profile or the Azure CLI.
pub async fn read_for_profile(
    profile: &Profile,
    opts: &ReadOptions<'_>,
) -> Result<SetupFacts, GraphError> {
    match &profile.graph.source {
        GraphSource::None => {
            return Err(GraphError::NotConfigured {
                profile: profile.name.clone(),
            });
        }
        GraphSource::Files(paths) => {
            return Ok(files::read_files(
                paths,
                &profile.scope,
                &profile.client_id,
            )?);
        }
        _ => {}
    }
    // The URL is checked before any token exists: a refusal must not cost a token.
    let base = graph_base(profile)?;
    let mut notes = Vec::new();
    let token = graph_token(profile, opts, &mut notes).await?;
    let mut client = GraphClient::new(opts.http.clone(), base.clone(), token.token.clone());
    if let Some(s) = &opts.sleeper {
        client = client.with_sleeper(s.clone());
    }
    let mut facts = read_setup(&client, &profile.scope, &profile.client_id)
        .await
        .map_err(|e| e.with_token_source(&token.from))?;
    facts.source = format!("Microsoft Graph {base} (token from {})", token.from);
    notes.append(&mut facts.notes);
    facts.notes = notes;
    Ok(facts)
}

/// The Graph token for `profile`, noting when it is for another tenant than the profile's.
async fn graph_token(
    profile: &Profile,
    opts: &ReadOptions<'_>,
    notes: &mut Vec<String>,
) -> Result<GraphToken, GraphError> {
    let settings = &profile.graph;
    let credential_of = match &settings.source {
        GraphSource::Reader(name) => {
            let reader = opts.reader.filter(|r| r.name == *name).ok_or_else(|| {
                GraphError::ReaderNotLoaded {
                    profile: profile.name.clone(),
                    reader: name.clone(),
                }
            })?;
            if let (Some(a), Some(b)) = (&reader.tenant, &profile.tenant)
                && !a.eq_ignore_ascii_case(b)
            {
                notes.push(format!(
                    "the Graph token is profile `{}`'s, of tenant {a}; this profile's tenant is \
                     {b}: what is shown is {a}'s",
                    reader.name
                ));
            }
            reader
        }
        GraphSource::AzureCli => {
            let argv = source::cli_argv(&settings.cli_command, profile.tenant.as_deref());
            let t = source::token_from_cli(&argv, opts.cli_timeout).await?;
            if let (Some(a), Some(b)) = (&t.tenant, &profile.tenant)
                && reader::is_guid(b)
                && !a.eq_ignore_ascii_case(b)
            {
                notes.push(format!(
                    "the Azure CLI is signed in to tenant {a}; this profile's tenant is {b}: \
                     what is shown is {a}'s (`az login --tenant {b}`)"
                ));
            }
            return Ok(t);
        }
        _ => profile,
    };
    source::token_from_profile(
        &opts.http,
        credential_of,
        &settings.scope,
        opts.cache.clone(),
        opts.fresh_token,
    )
    .await
}

/// The profile's Graph base URL, checked: known, valid, and not plain http to a remote host.
fn graph_base(profile: &Profile) -> Result<Url, GraphError> {
    let Some(url) = &profile.graph.url else {
        let host = Url::parse(&profile.authority)
            .ok()
            .and_then(|u| u.host_str().map(str::to_string))
            .unwrap_or_else(|| profile.authority.clone());
        return Err(GraphError::NoGraphUrl {
            profile: profile.name.clone(),
            host: crate::text::sanitize(&host, false),
        });
    };
    let base = Url::parse(url).map_err(|e| GraphError::BadUrl {
        url: crate::text::sanitize(url, false),
        reason: e.to_string(),
    })?;
    crate::http::check_transport(&base, "a bearer token").map_err(GraphError::Insecure)?;
    Ok(base)
}
