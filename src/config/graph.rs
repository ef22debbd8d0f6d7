//! A profile's Graph settings: where the app-role set-up is read from (`graph_credential`,
//! `setup_files`), which Microsoft Graph (`graph_url`, else the cloud's), and the Azure CLI
//! command line (`graph_cli_command`). Each key may be set in the profile or at the top level
//! of the file as a default for every profile; the profile's own value wins.
//!
//! Resolves and validates only: the one I/O is checking that setup files exist. Getting a
//! token and reading Graph are `crate::graph`'s job; this module must not send anything.

use std::path::PathBuf;

use super::authority::check_http_url;
use super::error::{self, ConfigError, Ctx};
use super::{ConfigFile, ProfileFile};

/// `az account get-access-token --resource-type ms-graph -o json`: what azure-identity's
/// AzureCliCredential runs (with `--resource`), printing `accessToken` and `expires_on`.
pub const DEFAULT_GRAPH_CLI_COMMAND: &[&str] = &[
    "az",
    "account",
    "get-access-token",
    "--resource-type",
    "ms-graph",
    "-o",
    "json",
];

/// Microsoft Graph of the public cloud.
pub const PUBLIC_GRAPH_HOST: &str = "https://graph.microsoft.com";

/// Authority hosts → the Graph host of the same cloud. The first three are `CLOUDS`' hosts;
/// the others are older or partner names of the same clouds.
pub const GRAPH_HOSTS: &[(&str, &str)] = &[
    ("login.microsoftonline.com", PUBLIC_GRAPH_HOST),
    ("login.microsoftonline.us", "https://graph.microsoft.us"),
    (
        "login.chinacloudapi.cn",
        "https://microsoftgraph.chinacloudapi.cn",
    ),
    ("login.windows.net", PUBLIC_GRAPH_HOST),
    ("sts.windows.net", PUBLIC_GRAPH_HOST),
    ("login.usgovcloudapi.net", "https://graph.microsoft.us"),
    (
        "login.partner.microsoftonline.cn",
        "https://microsoftgraph.chinacloudapi.cn",
    ),
];

/// Where a profile's app-role set-up is read from.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum GraphSource {
    /// Not configured (the default): nothing is read.
    #[default]
    None,
    /// Microsoft Graph, with a token from the profile's own credential.
    Profile,
    /// Microsoft Graph, with a token from another profile of the same file (an "admin
    /// reader" app); [`resolve_graph_reader`](super::resolve_graph_reader) resolves it.
    Reader(String),
    /// Microsoft Graph, with the signed-in developer's token from the Azure CLI.
    AzureCli,
    /// Exported JSON files (absolute paths); Graph is not called.
    Files(Vec<PathBuf>),
}

impl GraphSource {
    /// How the config names it: "none", "profile", "console-rw", "azure-cli", "files".
    pub fn name(&self) -> &str {
        match self {
            GraphSource::None => "none",
            GraphSource::Profile => "profile",
            GraphSource::Reader(name) => name,
            GraphSource::AzureCli => "azure-cli",
            GraphSource::Files(_) => "files",
        }
    }
}

/// Where `graph_url` came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GraphUrlOrigin {
    /// `graph_url` in the profile or at the top level.
    Configured,
    /// Derived from the authority host's cloud.
    Cloud,
}

/// A profile's resolved Graph settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GraphSettings {
    pub source: GraphSource,
    /// The Graph v1.0 base URL without a trailing slash (`https://graph.microsoft.com/v1.0`).
    /// `None` when the authority host is not a known cloud and `graph_url` is not set: the
    /// Graph to ask is unknown, and reading says so.
    pub url: Option<String>,
    pub url_origin: GraphUrlOrigin,
    /// The scope of the Graph token (`https://graph.microsoft.com/.default`).
    pub scope: String,
    /// argv of the Azure CLI command for `azure-cli`.
    pub cli_command: Vec<String>,
}

impl Default for GraphSettings {
    fn default() -> Self {
        GraphSettings {
            source: GraphSource::None,
            url: Some(format!("{PUBLIC_GRAPH_HOST}/v1.0")),
            url_origin: GraphUrlOrigin::Cloud,
            scope: format!("{PUBLIC_GRAPH_HOST}/.default"),
            cli_command: DEFAULT_GRAPH_CLI_COMMAND
                .iter()
                .map(|s| s.to_string())
                .collect(),
        }
    }
}

/// The Graph host (`https://graph.microsoft.us`) of the cloud an authority
/// (`https://login.microsoftonline.us/{tenant}`) belongs to, if it is a known one.
pub fn graph_host_for_authority(authority: &str) -> Option<&'static str> {
    let url = url::Url::parse(authority).ok()?;
    let host = url.host_str()?.trim_end_matches('.').to_ascii_lowercase();
    GRAPH_HOSTS
        .iter()
        .find(|(login, _)| *login == host)
        .map(|(_, graph)| *graph)
}

/// Resolve the Graph keys of profile `p` (falling back to the file's top-level defaults),
/// for a profile whose authority is already resolved.
pub(super) fn resolve(
    p: &ProfileFile,
    file: &ConfigFile,
    authority: &str,
    ctx: &Ctx,
) -> Result<GraphSettings, ConfigError> {
    let cloud_host = graph_host_for_authority(authority);
    let (url, url_origin) = match p.graph_url.as_ref().or(file.graph_url.as_ref()) {
        Some(u) => {
            let field = field_name("graph_url", p.graph_url.is_some());
            let u = u.trim();
            check_http_url(u).map_err(|r| ctx.invalid(field, u, r))?;
            (
                Some(u.trim_end_matches('/').to_string()),
                GraphUrlOrigin::Configured,
            )
        }
        None => (
            cloud_host.map(|h| format!("{h}/v1.0")),
            GraphUrlOrigin::Cloud,
        ),
    };
    // A Graph token's resource is Graph's own host, wherever requests go: a configured URL
    // on a known Graph host names its cloud; otherwise (the sandbox, a proxy) the
    // authority's cloud, else the public cloud — the resource the sandbox issues tokens for.
    let configured_host = url
        .as_deref()
        .filter(|_| url_origin == GraphUrlOrigin::Configured)
        .and_then(known_graph_host);
    let scope = format!(
        "{}/.default",
        configured_host.or(cloud_host).unwrap_or(PUBLIC_GRAPH_HOST)
    );
    let cli_command = cli_command(p, file, ctx)?;
    let source = source(p, file, ctx)?;
    Ok(GraphSettings {
        source,
        url,
        url_origin,
        scope,
        cli_command,
    })
}

/// The Graph host of `url` when it is one of the national clouds' Graph hosts.
fn known_graph_host(url: &str) -> Option<&'static str> {
    let url = url::Url::parse(url).ok()?;
    let origin = format!("{}://{}", url.scheme(), url.host_str()?).to_ascii_lowercase();
    GRAPH_HOSTS
        .iter()
        .map(|(_, graph)| *graph)
        .find(|graph| *graph == origin)
}

/// The key's name as errors show it: a top-level default is named as such.
fn field_name(key: &'static str, in_profile: bool) -> &'static str {
    if in_profile {
        return key;
    }
    match key {
        "graph_url" => "graph_url (top-level default)",
        "graph_credential" => "graph_credential (top-level default)",
        "graph_cli_command" => "graph_cli_command (top-level default)",
        _ => "setup_files (top-level default)",
    }
}

fn cli_command(p: &ProfileFile, file: &ConfigFile, ctx: &Ctx) -> Result<Vec<String>, ConfigError> {
    let Some(argv) = p
        .graph_cli_command
        .as_ref()
        .or(file.graph_cli_command.as_ref())
    else {
        return Ok(GraphSettings::default().cli_command);
    };
    let field = field_name("graph_cli_command", p.graph_cli_command.is_some());
    match argv.first() {
        Some(program) if !program.trim().is_empty() => Ok(argv.clone()),
        _ => Err(ctx.invalid(
            field,
            &format!("{argv:?}"),
            "give the command as a list of words, the program first, e.g. [\"az\", \"account\", \
             \"get-access-token\", \"--resource-type\", \"ms-graph\", \"-o\", \"json\"]",
        )),
    }
}

/// `setup_files` (which wins: Graph is then not called), else `graph_credential`.
fn source(p: &ProfileFile, file: &ConfigFile, ctx: &Ctx) -> Result<GraphSource, ConfigError> {
    // An empty list in a profile turns off a top-level default.
    let files = p.setup_files.as_ref().or(file.setup_files.as_ref());
    if let Some(files) = files.filter(|f| !f.is_empty()) {
        let field = field_name("setup_files", p.setup_files.is_some());
        let mut paths = Vec::with_capacity(files.len());
        for f in files {
            let path = ctx.base_dir.join(f.trim());
            if !path.is_file() {
                return Err(ctx.invalid(
                    field,
                    &path.display().to_string(),
                    "there is no such file; paths are relative to the config file (export \
                     them with `az ad app show --id …` or the portal's manifest download)",
                ));
            }
            paths.push(path);
        }
        return Ok(GraphSource::Files(paths));
    }
    let own = p.graph_credential.as_deref();
    let Some(value) = own.or(file.graph_credential.as_deref()) else {
        return Ok(GraphSource::None);
    };
    let field = field_name("graph_credential", own.is_some());
    let value = value.trim();
    match value.to_ascii_lowercase().as_str() {
        "none" => return Ok(GraphSource::None),
        "profile" => return Ok(GraphSource::Profile),
        "azure-cli" => return Ok(GraphSource::AzureCli),
        _ => {}
    }
    let others: Vec<&str> = file
        .profiles
        .keys()
        .map(String::as_str)
        .filter(|n| *n != ctx.profile)
        .collect();
    if value == ctx.profile {
        // A top-level default naming this very profile means: its own credential.
        if own.is_none() {
            return Ok(GraphSource::Profile);
        }
        return Err(ctx.invalid(
            field,
            value,
            "it names this profile itself; write \"profile\" to read Graph with this \
             profile's own credential",
        ));
    }
    if file.profiles.contains_key(value) {
        return Ok(GraphSource::Reader(value.to_string()));
    }
    let suggestion = error::closest(value, others.iter().copied())
        .map(|s| format!(" (did you mean `{s}`?)"))
        .unwrap_or_default();
    let listed = if others.is_empty() {
        String::new()
    } else {
        format!(", or another profile: {}", others.join(", "))
    };
    Err(ctx.invalid(
        field,
        value,
        format!(
            "there is no profile of that name{suggestion}; use \"none\", \"profile\", \
             \"azure-cli\"{listed}"
        ),
    ))
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::config::{Env, LoadOptions, load, load_file, resolve_graph_reader};
    use crate::problem::Problem;

    const TWO: &str = r#"
default_profile = "console"
TOP

[profiles.console]
authority = "AUTHORITY"
client_id = "22222222-2222-2222-2222-222222222222"
client_secret = "x"
scope = "api://weather/.default"
api_url = "http://localhost:8000/api/weather/{city}"
CONSOLE

[profiles.reader]
authority = "https://login.microsoftonline.com/11111111-1111-1111-1111-111111111111"
client_id = "44444444-4444-4444-4444-444444444444"
client_secret = "y"
scope = "api://weather/.default"
api_url = "http://localhost:8000/api/weather/{city}"
"#;

    const PUBLIC: &str = "https://login.microsoftonline.com/11111111-1111-1111-1111-111111111111";

    fn config(dir: &Path, authority: &str, top: &str, console: &str) -> std::path::PathBuf {
        let text = TWO
            .replace("AUTHORITY", authority)
            .replace("TOP", top)
            .replace("CONSOLE", console);
        let path = dir.join("config.toml");
        std::fs::write(&path, text).unwrap();
        path
    }

    fn graph_of(
        authority: &str,
        top: &str,
        console: &str,
    ) -> Result<GraphSettings, crate::config::ConfigError> {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("api-app.json"), "{}").unwrap();
        let opts = LoadOptions {
            config: Some(config(dir.path(), authority, top, console)),
            profile: None,
        };
        load(&opts, &Env::default()).map(|p| p.graph)
    }

    #[test]
    fn by_default_nothing_is_read_and_graph_follows_the_cloud() {
        let g = graph_of(PUBLIC, "", "").unwrap();
        assert_eq!(g, GraphSettings::default());
        assert_eq!(g.url.as_deref(), Some("https://graph.microsoft.com/v1.0"));
        assert_eq!(g.scope, "https://graph.microsoft.com/.default");
        for (host, graph) in [
            (
                "https://login.microsoftonline.us",
                "https://graph.microsoft.us",
            ),
            (
                "https://login.chinacloudapi.cn",
                "https://microsoftgraph.chinacloudapi.cn",
            ),
        ] {
            let g = graph_of(&format!("{host}/t"), "", "").unwrap();
            assert_eq!(g.url, Some(format!("{graph}/v1.0")));
            assert_eq!(g.scope, format!("{graph}/.default"));
            assert_eq!(g.url_origin, GraphUrlOrigin::Cloud);
        }
    }

    #[test]
    fn a_custom_authority_needs_graph_url() {
        let sandbox = "http://127.0.0.1:8400/ec184e30-7605-46d6-97ce-0b8dfa8e6682";
        let g = graph_of(sandbox, "", "graph_credential = \"profile\"").unwrap();
        assert_eq!(g.url, None);
        assert_eq!(g.source, GraphSource::Profile);
        let g = graph_of(
            sandbox,
            "",
            "graph_url = \"http://127.0.0.1:8400/graph/v1.0/\"",
        )
        .unwrap();
        assert_eq!(g.url.as_deref(), Some("http://127.0.0.1:8400/graph/v1.0"));
        assert_eq!(g.url_origin, GraphUrlOrigin::Configured);
        // The sandbox issues Graph tokens for the public cloud's resource.
        assert_eq!(g.scope, "https://graph.microsoft.com/.default");
        // A configured national Graph names its own resource.
        let g = graph_of(
            sandbox,
            "",
            "graph_url = \"https://graph.microsoft.us/v1.0\"",
        )
        .unwrap();
        assert_eq!(g.scope, "https://graph.microsoft.us/.default");
        let e = graph_of(PUBLIC, "", "graph_url = \"ftp://x\"").unwrap_err();
        assert!(e.to_string().contains("`graph_url`"), "{e}");
    }

    #[test]
    fn top_level_defaults_and_the_profile_s_own_value() {
        let g = graph_of(PUBLIC, "graph_credential = \"azure-cli\"", "").unwrap();
        assert_eq!(g.source, GraphSource::AzureCli);
        let g = graph_of(
            PUBLIC,
            "graph_credential = \"azure-cli\"",
            "graph_credential = \"None\"",
        )
        .unwrap();
        assert_eq!(g.source, GraphSource::None);
        let g = graph_of(PUBLIC, "graph_cli_command = [\"./fake-az\", \"token\"]", "").unwrap();
        assert_eq!(g.cli_command, ["./fake-az", "token"]);
        let e = graph_of(PUBLIC, "graph_cli_command = []", "").unwrap_err();
        assert!(
            e.to_string()
                .contains("graph_cli_command (top-level default)"),
            "{e}"
        );
        // setup_files wins over graph_credential; relative to the config file; [] in a
        // profile turns a top-level default off.
        let g = graph_of(
            PUBLIC,
            "setup_files = [\"api-app.json\"]",
            "graph_credential = \"profile\"",
        )
        .unwrap();
        let GraphSource::Files(files) = &g.source else {
            panic!("{:?}", g.source)
        };
        assert!(files[0].ends_with("api-app.json") && files[0].is_absolute());
        let g = graph_of(
            PUBLIC,
            "setup_files = [\"api-app.json\"]",
            "setup_files = []",
        )
        .unwrap();
        assert_eq!(g.source, GraphSource::None);
        let e = graph_of(PUBLIC, "", "setup_files = [\"missing.json\"]").unwrap_err();
        let text = e.full_text();
        assert!(
            text.contains("missing.json") && text.contains("relative to the config file"),
            "{text}"
        );
    }

    #[test]
    fn another_profile_as_the_reader() {
        let g = graph_of(PUBLIC, "", "graph_credential = \"reader\"").unwrap();
        assert_eq!(g.source, GraphSource::Reader("reader".into()));
        let e = graph_of(PUBLIC, "", "graph_credential = \"reder\"").unwrap_err();
        let text = e.to_string();
        assert!(
            text.contains("did you mean `reader`?") && text.contains("another profile: reader"),
            "{text}"
        );
        let e = graph_of(PUBLIC, "", "graph_credential = \"console\"").unwrap_err();
        assert!(e.to_string().contains("names this profile itself"), "{e}");
        // A top-level default naming a profile: that profile reads with its own credential.
        let dir = tempfile::tempdir().unwrap();
        let path = config(dir.path(), PUBLIC, "graph_credential = \"reader\"", "");
        let opts = |p: &str| LoadOptions {
            config: Some(path.clone()),
            profile: Some(p.into()),
        };
        let env = Env::from_pairs([("AZURE_CLIENT_ID", "99999999-9999-9999-9999-999999999999")]);
        let reader = load(&opts("reader"), &env).unwrap();
        assert_eq!(reader.graph.source, GraphSource::Profile);
        let console = load(&opts("console"), &env).unwrap();
        assert_eq!(console.graph.source, GraphSource::Reader("reader".into()));
        // The reader resolves from the file alone (AZURE_CLIENT_ID is the selected
        // profile's).
        let loaded = load_file(&opts("console"), &env).unwrap();
        let r = resolve_graph_reader(&loaded, &console, &env)
            .unwrap()
            .unwrap();
        assert_eq!(r.name, "reader");
        assert_eq!(r.client_id, "44444444-4444-4444-4444-444444444444");
        assert!(
            resolve_graph_reader(&loaded, &reader, &env)
                .unwrap()
                .is_none()
        );
    }

    #[test]
    fn misspelt_graph_keys_get_a_suggestion() {
        let e = graph_of(PUBLIC, "", "graph_credentail = \"profile\"").unwrap_err();
        assert!(
            e.full_text().contains("did you mean `graph_credential`?"),
            "{}",
            e.full_text()
        );
        let e = graph_of(PUBLIC, "setup_file = []", "").unwrap_err();
        assert!(
            e.full_text().contains("did you mean `setup_files`?"),
            "{}",
            e.full_text()
        );
    }
}
