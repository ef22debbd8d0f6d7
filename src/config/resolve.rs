//! Turning one `[profiles.NAME]` table (plus the environment) into a [`Profile`]: which
//! profile, then each field group in the order errors are reported — authority and token
//! endpoint (`authority.rs`), client id, credential (`resolve_credential.rs`), scope and API
//! URL, CA file, timeouts and cache, secret expiry, Graph settings (`graph.rs`).
//!
//! Reads only what the profile names (a CA file's existence, credential files through
//! `credential`); sends nothing.

use std::path::{Path, PathBuf};

use super::authority::{self, check_http_url};
use super::error::{self, ConfigError, Ctx};
use super::{DEFAULT_CONNECT_TIMEOUT, DEFAULT_TIMEOUT, Env, Loaded, Origin, Profile, ProfileFile};

/// Resolve one profile of a parsed file (`profile`, else the file's default, else its only
/// profile).
pub fn resolve(loaded: &Loaded, profile: Option<&str>, env: &Env) -> Result<Profile, ConfigError> {
    let path = &loaded.path;
    let (name, p) = select(loaded, profile)?;
    let ctx = Ctx {
        path,
        profile: &name,
        base_dir: path.parent().map(Path::to_path_buf).unwrap_or_default(),
    };
    let authority = authority::resolve(p, &ctx, env)?;
    let (client_id, client_id_origin) = client_id(p, &ctx, env)?;
    let credential = super::resolve_credential::resolve_credential(p, &ctx, env)?;
    let (scope, api_url) = scope_and_api_url(p, &ctx)?;
    let ca_file = ca_file(p, &ctx)?;
    let secret_expires = secret_expires(p, &ctx)?;
    let graph = super::graph::resolve(p, &loaded.file, &authority.authority, &ctx)?;
    Ok(Profile {
        authority: authority.authority,
        authority_origin: authority.origin,
        tenant: authority.tenant,
        token_endpoint: authority.token_endpoint,
        client_id,
        client_id_origin,
        credential,
        scope,
        api_url,
        expected_roles: p.expected_roles.clone(),
        ca_file,
        connect_timeout: p.connect_timeout.map_or(DEFAULT_CONNECT_TIMEOUT, |s| s.0),
        timeout: p.timeout.map_or(DEFAULT_TIMEOUT, |s| s.0),
        cache: p.cache.unwrap_or(true),
        secret_expires,
        graph,
        config_path: (!loaded.implicit).then(|| path.clone()),
        name,
    })
}

/// The profile asked for, the file's default, or the file's only one.
fn select<'a>(
    loaded: &'a Loaded,
    profile: Option<&str>,
) -> Result<(String, &'a ProfileFile), ConfigError> {
    let file = &loaded.file;
    let available: Vec<String> = file.profiles.keys().cloned().collect();
    let name = match profile.or(file.default_profile.as_deref()) {
        Some(n) => n.to_string(),
        None if available.len() == 1 => available[0].clone(),
        None => {
            return Err(ConfigError::NoDefaultProfile {
                path: loaded.path.clone(),
                available,
            });
        }
    };
    match file.profiles.get(&name) {
        Some(p) => Ok((name, p)),
        None => Err(ConfigError::NoSuchProfile {
            path: loaded.path.clone(),
            suggestion: error::closest(&name, available.iter().map(String::as_str)),
            name,
            available,
        }),
    }
}

fn client_id(p: &ProfileFile, ctx: &Ctx, env: &Env) -> Result<(String, Origin), ConfigError> {
    match (env.get("AZURE_CLIENT_ID"), p.client_id.as_deref()) {
        (Some(id), _) => Ok((id.trim().to_string(), Origin::EnvVar("AZURE_CLIENT_ID"))),
        (None, Some(id)) if !id.trim().is_empty() => Ok((id.trim().to_string(), Origin::File)),
        _ => Err(ctx.missing(
            "client_id",
            "set client_id to the Application (client) ID from the app registration's Overview page",
        )),
    }
}

/// The scope asked for and the API's URL template (with its `{city}` placeholder).
fn scope_and_api_url(p: &ProfileFile, ctx: &Ctx) -> Result<(String, String), ConfigError> {
    let scope = match p.scope.as_deref().map(str::trim) {
        Some(s) if !s.is_empty() => s.to_string(),
        _ => {
            return Err(ctx.missing(
                "scope",
                "set scope to the API's App ID URI followed by /.default, e.g. \"api://<api-client-id>/.default\"",
            ));
        }
    };
    let api_url = match p.api_url.as_deref().map(str::trim) {
        Some(u) if !u.is_empty() => u.to_string(),
        _ => {
            return Err(ctx.missing(
                "api_url",
                "set api_url to the protected API with a {city} placeholder, e.g. \"http://localhost:8000/api/weather/{city}\"",
            ));
        }
    };
    if !api_url.contains("{city}") {
        return Err(ctx.invalid(
            "api_url",
            &api_url,
            "it has no {city} placeholder; write it where the city goes, e.g. …/api/weather/{city}",
        ));
    }
    check_http_url(&api_url.replace("{city}", "x"))
        .map_err(|r| ctx.invalid("api_url", &api_url, r))?;
    Ok((scope, api_url))
}

/// The extra root certificate, which must exist now.
fn ca_file(p: &ProfileFile, ctx: &Ctx) -> Result<Option<PathBuf>, ConfigError> {
    let ca_file = p.ca_file.as_ref().map(|c| ctx.base_dir.join(c));
    if let Some(ca) = &ca_file
        && let Err(e) = crate::files::check(ca, crate::files::FileKind::CaBundle)
    {
        let reason = format!(
            "the file {}; give the path of a PEM file with the extra root certificate",
            e.reason()
        );
        return Err(ctx.invalid("ca_file", &ca.display().to_string(), &reason));
    }
    Ok(ca_file)
}

fn secret_expires(
    p: &ProfileFile,
    ctx: &Ctx,
) -> Result<Option<chrono::DateTime<chrono::Utc>>, ConfigError> {
    match p.secret_expires.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(v) => parse_date(v).map(Some).ok_or_else(|| {
            ctx.invalid(
                "secret_expires",
                v,
                "use a date like \"2027-02-27\" or an RFC 3339 time",
            )
        }),
    }
}

/// `2027-02-27` (end of that day, UTC) or an RFC 3339 time.
fn parse_date(v: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(v) {
        return Some(t.with_timezone(&chrono::Utc));
    }
    let d = chrono::NaiveDate::parse_from_str(v, "%Y-%m-%d").ok()?;
    Some(d.and_hms_opt(23, 59, 59)?.and_utc())
}
