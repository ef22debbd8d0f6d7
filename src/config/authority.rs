//! The authority a profile talks to: national-cloud presets, `authority` vs `tenant` +
//! `cloud`, azure-identity's `AZURE_AUTHORITY_HOST` / `AZURE_TENANT_ID` overrides, and the
//! token endpoint derived from it (or given).
//!
//! Only turns profile fields and environment values into URLs and tells what is wrong with
//! them; it reads no files and knows nothing of credentials.

use super::error::Ctx;
use super::{ConfigError, Env, Origin, ProfileFile};

/// Default Entra authority host (public cloud).
pub const DEFAULT_AUTHORITY_HOST: &str = "https://login.microsoftonline.com";

/// National cloud authority hosts: (names accepted, host). Names are matched
/// case-insensitively; the Azure CLI's cloud names are accepted too.
pub const CLOUDS: &[(&[&str], &str)] = &[
    (
        &["public", "azurecloud", "azurepubliccloud"],
        "https://login.microsoftonline.com",
    ),
    (
        &["usgov", "usgovernment", "azureusgovernment"],
        "https://login.microsoftonline.us",
    ),
    (
        &["china", "azurechinacloud"],
        "https://login.chinacloudapi.cn",
    ),
];

/// The authority host for a cloud name (`public`, `usgov`, `china`, or an Azure CLI cloud
/// name) or a host URL (`https://login.example.com`), without a trailing slash.
pub fn authority_host(cloud: &str) -> Result<String, String> {
    let c = cloud.trim();
    let lower = c.to_ascii_lowercase();
    if let Some((_, host)) = CLOUDS
        .iter()
        .find(|(names, _)| names.contains(&lower.as_str()))
    {
        return Ok((*host).to_string());
    }
    if c.contains("://") {
        let url = check_http_url(c)?;
        if url.path().trim_matches('/').is_empty() {
            return Ok(c.trim_end_matches('/').to_string());
        }
        return Err("an authority host has no path; put the tenant in `tenant`".into());
    }
    Err("use public, usgov, china, or an authority host URL such as https://login.microsoftonline.us".into())
}

/// Where a profile's tokens come from.
pub(super) struct Authority {
    /// e.g. `https://login.microsoftonline.com/{tenant}`, no trailing slash.
    pub authority: String,
    pub origin: Origin,
    /// The tenant segment of the authority, if any.
    pub tenant: Option<String>,
    /// `{authority}/oauth2/v2.0/token` unless the profile gives one.
    pub token_endpoint: String,
}

/// The authority from `authority`, or `tenant` + `cloud`, with `AZURE_AUTHORITY_HOST` /
/// `AZURE_TENANT_ID` applied; then the token endpoint.
pub(super) fn resolve(p: &ProfileFile, ctx: &Ctx, env: &Env) -> Result<Authority, ConfigError> {
    let host_env = env.get("AZURE_AUTHORITY_HOST");
    let tenant_env = env.get("AZURE_TENANT_ID");
    let from_file = file_authority(p, ctx)?;
    let from_file = from_file.as_deref().map(|a| a.trim().trim_end_matches('/'));
    let (authority, origin) = match (from_file, host_env, tenant_env) {
        (None, None, None) => {
            return Err(ctx.missing(
                "authority",
                "set authority = \"https://login.microsoftonline.com/<tenant-id>\", or tenant = \"<tenant-id>\" (+ cloud), or AZURE_TENANT_ID",
            ));
        }
        (Some(a), None, None) => (a.to_string(), Origin::File),
        (a, host, tenant) => with_overrides(a, host, tenant, ctx)?,
    };
    let (_, tenant) =
        split_authority(&authority).map_err(|r| ctx.invalid("authority", &authority, r))?;
    let token_endpoint = match p.token_endpoint.as_deref() {
        Some(t) => {
            let t = t.trim();
            check_http_url(t).map_err(|r| ctx.invalid("token_endpoint", t, r))?;
            t.to_string()
        }
        None => format!("{authority}/oauth2/v2.0/token"),
    };
    Ok(Authority {
        authority,
        origin,
        tenant,
        token_endpoint,
    })
}

/// The profile's own authority: `authority`, or `tenant` on `cloud`'s host (never both).
fn file_authority(p: &ProfileFile, ctx: &Ctx) -> Result<Option<String>, ConfigError> {
    match (p.authority.as_deref(), p.tenant.as_deref().map(str::trim)) {
        (Some(_), Some(_)) => Err(ctx.invalid(
            "tenant",
            p.tenant.as_deref().unwrap_or_default(),
            "the profile sets both authority and tenant; keep authority, or replace it with tenant (+ cloud)",
        )),
        (None, Some(t)) if !t.is_empty() => {
            let cloud = p.cloud.as_deref().unwrap_or("public");
            let host = authority_host(cloud).map_err(|r| ctx.invalid("cloud", cloud, r))?;
            Ok(Some(format!("{host}/{t}")))
        }
        (authority, _) => {
            if authority.is_some()
                && let Some(c) = &p.cloud
            {
                return Err(ctx.invalid(
                    "cloud",
                    c,
                    "cloud goes with tenant; with authority the host is already given",
                ));
            }
            Ok(authority.map(str::to_string))
        }
    }
}

/// The file's authority (or the public cloud) with the environment's host and/or tenant.
fn with_overrides(
    file: Option<&str>,
    host: Option<&str>,
    tenant: Option<&str>,
    ctx: &Ctx,
) -> Result<(String, Origin), ConfigError> {
    let (file_host, file_tenant) = match file {
        Some(a) => split_authority(a).map_err(|r| ctx.invalid("authority", a, r))?,
        None => (DEFAULT_AUTHORITY_HOST.to_string(), None),
    };
    let host = match host {
        Some(h) => authority_host(h).map_err(|r| ctx.invalid("AZURE_AUTHORITY_HOST", h, r))?,
        None => file_host,
    };
    let origin = if tenant.is_some() {
        Origin::EnvVar("AZURE_TENANT_ID")
    } else {
        Origin::EnvVar("AZURE_AUTHORITY_HOST")
    };
    let Some(tenant) = tenant.map(str::to_string).or(file_tenant) else {
        return Err(ctx.missing(
            "authority",
            "AZURE_AUTHORITY_HOST gives the host only; set AZURE_TENANT_ID or an authority with the tenant",
        ));
    };
    Ok((format!("{host}/{tenant}"), origin))
}

/// Split `https://host/tenant[/…]` into (`https://host`, tenant).
fn split_authority(authority: &str) -> Result<(String, Option<String>), String> {
    let url = check_http_url(authority)?;
    let host = url.host_str().unwrap_or_default();
    let origin = match url.port() {
        Some(port) => format!("{}://{host}:{port}", url.scheme()),
        None => format!("{}://{host}", url.scheme()),
    };
    let tenant = url
        .path_segments()
        .and_then(|mut s| s.next())
        .filter(|s| !s.is_empty())
        .map(str::to_string);
    Ok((origin, tenant))
}

/// `s` as an http(s) URL with a host, or why not.
pub(super) fn check_http_url(s: &str) -> Result<url::Url, String> {
    let url = url::Url::parse(s).map_err(|e| format!("it is not a valid URL ({e})"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!("the scheme is {:?}; use https://", url.scheme()));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err("it has no host".into());
    }
    Ok(url)
}
