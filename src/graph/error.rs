//! Why the app-role set-up could not be read: Microsoft Graph's own errors (its error JSON),
//! the wire (network, throttling, sizes, foreign links), the Graph token's source (the
//! profile's credential, the Azure CLI) and the offline files. Each is a [`Problem`] whose
//! hint says what to do.
//!
//! Holds no reading logic. No text in here ever holds a token: excerpts of what a server or
//! a command printed go through [`crate::text::mask`] first.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use thiserror::Error;

use crate::auth::TokenError;
use crate::http::{InsecureTransport, NetworkKind};
use crate::problem::Problem;

/// How to get Application.Read.All, for every "insufficient privileges" answer.
const READ_ALL_HINT: &str = "reading app registrations needs the Microsoft Graph permission \
    Application.Read.All: on the reading app's registration, API permissions → Add a \
    permission → Microsoft Graph → Application permissions → Application.Read.All → Grant \
    admin consent (then read again: only a new token carries it); or set graph_credential = \
    \"azure-cli\" and `az login` with an account that can read app registrations";

/// Why the set-up could not be read.
#[derive(Debug, Clone, Error)]
pub enum GraphError {
    /// `graph_credential = "none"` (the default) and no `setup_files`.
    #[error(
        "profile `{profile}` has no source for its app-role set-up (graph_credential is \"none\")"
    )]
    NotConfigured { profile: String },
    /// The authority is not a known cloud, so which Graph to ask is unknown.
    #[error(
        "profile `{profile}`: which Microsoft Graph? its authority host {host} is not a known cloud and graph_url is not set"
    )]
    NoGraphUrl { profile: String, host: String },
    /// `graph_credential` names a profile the caller did not resolve.
    #[error("profile `{profile}` reads Graph with profile `{reader}`, which was not loaded")]
    ReaderNotLoaded { profile: String, reader: String },
    #[error("the Graph URL {url:?} is not valid: {reason}")]
    BadUrl { url: String, reason: String },
    #[error(transparent)]
    Insecure(InsecureTransport),
    /// Graph answered with an error status (its error JSON read field by field).
    #[error("{}", api_summary(*.status, .code.as_deref(), .message.as_deref(), .path))]
    Api {
        status: u16,
        code: Option<String>,
        message: Option<String>,
        request_id: Option<String>,
        /// The request, percent-decoded and sanitised: `/applications(appId='…')`.
        path: String,
        /// Where the Graph token came from ("profile `console-rw`", "azure-cli").
        token_from: Option<String>,
    },
    /// 429 / 503 on every try.
    #[error("Microsoft Graph kept throttling GET {path} (HTTP {status}) after {retries} retries")]
    Throttled {
        status: u16,
        retries: u32,
        path: String,
    },
    /// An answer that is not JSON (an HTML page from a proxy, an empty body).
    #[error("GET {path} answered HTTP {status} with {}", if .excerpt.is_empty() { "an empty body".to_string() } else { format!("a body that is not JSON: \"{}\"", .excerpt) })]
    UnexpectedBody {
        status: u16,
        path: String,
        /// Sanitised, tokens redacted.
        excerpt: String,
    },
    /// JSON, but not the shape Graph sends.
    #[error("GET {path}: the answer is not what Microsoft Graph sends: {detail}")]
    Malformed { path: String, detail: String },
    #[error("GET {path}: the answer is larger than {} KiB and was not read", .cap / 1024)]
    TooLarge { path: String, cap: usize },
    #[error(
        "GET {path} answered HTTP {status}, a redirect to {location}; the Graph token is not sent there"
    )]
    Redirected {
        status: u16,
        path: String,
        location: String,
    },
    /// A page's `@odata.nextLink` leaves the Graph origin.
    #[error(
        "GET {path}: the next page's link points at {origin}, not at Microsoft Graph's origin; the Graph token is not sent there"
    )]
    ForeignNextLink { path: String, origin: String },
    #[error("GET {path} has more than {pages} pages; stopped reading")]
    TooManyPages { path: String, pages: usize },
    #[error("{} Microsoft Graph at {url}: {message}", .kind.failed_to())]
    Network {
        kind: NetworkKind,
        url: String,
        message: String,
        #[source]
        source: Option<Arc<reqwest::Error>>,
    },
    /// The profile's (or the admin reader's) credential got no Graph token.
    #[error("no Microsoft Graph token from profile `{profile}`'s credential: {}", .error.summary())]
    Token {
        profile: String,
        #[source]
        error: Box<TokenError>,
    },
    #[error(transparent)]
    Cli(#[from] CliError),
    #[error(transparent)]
    File(#[from] FileError),
}

impl GraphError {
    /// Say where the Graph token came from (the 403 hint names it).
    pub fn with_token_source(mut self, from: &str) -> Self {
        if let GraphError::Api { token_from, .. } = &mut self {
            *token_from = Some(from.to_string());
        }
        self
    }
    /// Graph's error code, when it sent one (`Authorization_RequestDenied`).
    pub fn code(&self) -> Option<&str> {
        match self {
            GraphError::Api { code, .. } => code.as_deref(),
            _ => None,
        }
    }
    /// The token endpoint's refusal behind a [`GraphError::Token`], for the AADSTS
    /// knowledge base.
    pub fn token_error(&self) -> Option<&TokenError> {
        match self {
            GraphError::Token { error, .. } => Some(error),
            _ => None,
        }
    }
    /// 404 (or an empty search): the object is not in this tenant.
    pub(crate) fn is_not_found(&self) -> bool {
        matches!(self, GraphError::Api { status: 404, .. })
    }
}

fn api_summary(status: u16, code: Option<&str>, message: Option<&str>, path: &str) -> String {
    let code_part = code.map(|c| format!(" {c}")).unwrap_or_default();
    let message = message.map(|m| format!(": {m}")).unwrap_or_default();
    match status {
        401 => format!(
            "Microsoft Graph refused the Graph token (HTTP 401{code_part}) for GET {path}{message}"
        ),
        403 => format!("Microsoft Graph refused GET {path} (HTTP 403{code_part}){message}"),
        404 => format!("Microsoft Graph has no {path} (HTTP 404{code_part}){message}"),
        _ => format!("Microsoft Graph answered HTTP {status}{code_part} for GET {path}{message}"),
    }
}

impl Problem for GraphError {
    fn summary(&self) -> String {
        match self {
            GraphError::Api {
                status,
                code,
                message,
                path,
                ..
            } => api_summary(*status, code.as_deref(), message.as_deref(), path),
            GraphError::Insecure(e) => e.summary(),
            GraphError::Cli(e) => e.summary(),
            GraphError::File(e) => e.summary(),
            other => other.to_string(),
        }
    }

    fn detail(&self) -> Option<String> {
        match self {
            GraphError::Token { error, .. } => error.detail(),
            GraphError::Cli(e) => e.detail(),
            GraphError::File(e) => e.detail(),
            _ => None,
        }
    }

    fn hint(&self) -> Option<String> {
        let text = match self {
            GraphError::NotConfigured { .. } => {
                "set graph_credential in the profile (or at the top of the file for every \
                 profile): \"profile\" (this app reads Graph itself; it needs \
                 Application.Read.All), \"azure-cli\" (your `az login`), or the name of another \
                 profile whose app holds Application.Read.All; or setup_files = [\"…json\"] with \
                 what `az ad app show` / `az ad sp show` / the portal's manifest download wrote"
                    .to_string()
            }
            GraphError::NoGraphUrl { .. } => {
                "set graph_url, e.g. \"https://graph.microsoft.com/v1.0\" (the \
                 sandbox serves one at {its base URL}/graph/v1.0)"
                    .to_string()
            }
            GraphError::ReaderNotLoaded { reader, .. } => {
                format!("resolve profile `{reader}` (config::resolve_graph_reader) and pass it")
            }
            GraphError::BadUrl { .. } => "check graph_url".to_string(),
            GraphError::Insecure(e) => return e.hint(),
            GraphError::Api {
                status,
                code,
                token_from,
                ..
            } => return api_hint(*status, code.as_deref(), token_from.as_deref()),
            GraphError::Throttled { .. } => "Microsoft Graph limits how often one app may \
                 read; wait a minute and read again"
                .to_string(),
            GraphError::UnexpectedBody { .. }
            | GraphError::Malformed { .. }
            | GraphError::TooLarge { .. }
            | GraphError::Redirected { .. } => "check graph_url: something other than \
                 Microsoft Graph's v1.0 endpoint (a proxy, a wrong URL) answered"
                .to_string(),
            GraphError::ForeignNextLink { .. } => "check graph_url: it must be the origin \
                 Graph's own next-page links use"
                .to_string(),
            GraphError::TooManyPages { .. } => "so many objects is unusual for one app; \
                 look at the rest in the portal or Graph Explorer"
                .to_string(),
            GraphError::Network { kind, .. } => match kind {
                NetworkKind::Connect => "check graph_url and your network (a proxy?)",
                NetworkKind::Timeout => {
                    "Microsoft Graph is slow or unreachable; raise timeout in the profile if needed"
                }
                NetworkKind::Other => "check graph_url and your network",
            }
            .to_string(),
            // A refusal is explained by the AADSTS knowledge base (see `token_error`).
            GraphError::Token { error, .. } => return error.hint(),
            GraphError::Cli(e) => return e.hint(),
            GraphError::File(e) => return e.hint(),
        };
        Some(text)
    }
}

fn api_hint(status: u16, code: Option<&str>, token_from: Option<&str>) -> Option<String> {
    let from = token_from
        .map(|f| format!(" (from {f})"))
        .unwrap_or_default();
    let text = match (status, code) {
        (403, Some("Authorization_RequestDenied")) | (403, None) => {
            format!("the Graph token{from} lacks the permission: {READ_ALL_HINT}")
        }
        (403, _) => format!("the Graph token{from} may lack a permission: {READ_ALL_HINT}"),
        (401, _) => format!(
            "the Graph token{from} is not one Microsoft Graph accepts (expired, or for another \
             resource or cloud): check graph_url and graph_credential; with azure-cli, run \
             `az login` again"
        ),
        (404, _) => "check the profile's client_id and scope, and that they belong to the \
                     tenant the Graph token is for"
            .to_string(),
        (400, _) => "check graph_url: it must be Microsoft Graph's v1.0 endpoint".to_string(),
        _ => return None,
    };
    Some(text)
}

/// Why the Azure CLI gave no Graph token.
#[derive(Debug, Clone, Error)]
pub enum CliError {
    #[error("the Azure CLI command `{program}` was not found")]
    NotInstalled { program: String },
    #[error("the Azure CLI is not signed in (`{command}` said: \"{excerpt}\")")]
    NotLoggedIn { command: String, excerpt: String },
    #[error("`{command}` failed ({}){}", .status.map(|c| format!("exit code {c}")).unwrap_or_else(|| "killed by a signal".into()), if .excerpt.is_empty() { String::new() } else { format!(": \"{}\"", .excerpt) })]
    Failed {
        command: String,
        status: Option<i32>,
        excerpt: String,
    },
    /// Output that is not JSON; what it said is not quoted (it may hold the token).
    #[error("`{command}` printed something that is not JSON ({detail})")]
    NotJson { command: String, detail: String },
    #[error("`{command}` printed JSON without an accessToken")]
    NoToken { command: String },
    #[error("`{command}` did not finish within {}s and was stopped", .after.as_secs())]
    Timeout { command: String, after: Duration },
    #[error("cannot run `{command}`: {message}")]
    Io { command: String, message: String },
}

impl Problem for CliError {
    fn summary(&self) -> String {
        self.to_string()
    }
    fn hint(&self) -> Option<String> {
        let text = match self {
            CliError::NotInstalled { .. } => {
                "install the Azure CLI (https://aka.ms/azure-cli) or choose another \
                 graph_credential; graph_cli_command sets the command line"
            }
            CliError::NotLoggedIn { .. } => {
                "run `az login` (with `--tenant <tenant>` for the profile's tenant), then read again"
            }
            CliError::Failed { .. } => {
                "run the command yourself to see the whole message; `az login` again if the \
                 session expired"
            }
            CliError::NotJson { .. } | CliError::NoToken { .. } => {
                "graph_cli_command must print `az account get-access-token -o json`'s JSON"
            }
            CliError::Timeout { .. } => {
                "the Azure CLI may be waiting for input or the network; run the command yourself"
            }
            CliError::Io { .. } => "check graph_cli_command (the program and its permissions)",
        };
        Some(text.to_string())
    }
}

/// Why an exported set-up file could not be used.
#[derive(Debug, Clone, Error)]
pub enum FileError {
    #[error("cannot read setup file {}: {message}", .path.display())]
    Read { path: PathBuf, message: String },
    #[error("setup file {} is not a regular file", .path.display())]
    NotRegular { path: PathBuf },
    #[error("setup file {} is larger than {} KiB", .path.display(), .cap / 1024)]
    TooLarge { path: PathBuf, cap: u64 },
    #[error("setup file {} is not JSON: {detail}", .path.display())]
    NotJson { path: PathBuf, detail: String },
    /// Nothing in the file is an application, a service principal, assignments or
    /// federated credentials.
    #[error("setup file {} holds {what}, which tokenscope does not read", .path.display())]
    Unrecognised { path: PathBuf, what: String },
    /// An application or service principal that is neither the API's nor the client's.
    #[error("setup file {} holds {what}, which is neither the API of scope {scope} nor the client {client_id}", .path.display())]
    Unmatched {
        path: PathBuf,
        what: String,
        scope: String,
        client_id: String,
    },
}

impl Problem for FileError {
    fn summary(&self) -> String {
        self.to_string()
    }
    fn hint(&self) -> Option<String> {
        let text = match self {
            FileError::Read { .. } | FileError::NotRegular { .. } => {
                "check setup_files (paths are relative to the config file)"
            }
            FileError::TooLarge { .. } | FileError::NotJson { .. } => {
                "setup_files take the JSON printed by `az ad app show`, `az ad sp show`, \
                 `az rest` or the portal's manifest download"
            }
            FileError::Unrecognised { .. } => {
                "setup_files take `az ad app show --id …` / `az ad sp show --id …` output, \
                 `az rest --url …/appRoleAssignments` or `…/federatedIdentityCredentials` \
                 collections, or the portal's manifest download (either shape)"
            }
            FileError::Unmatched { .. } => {
                "export the API's registration (its identifierUris or appId match the scope) \
                 and the client's (appId = client_id); remove other apps from setup_files"
            }
        };
        Some(text.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::problem::assert_keeps_convention;

    fn api(status: u16, code: Option<&str>) -> GraphError {
        GraphError::Api {
            status,
            code: code.map(str::to_string),
            message: Some("Insufficient privileges to complete the operation.".into()),
            request_id: Some("r-1".into()),
            path: "/applications(appId='a')".into(),
            token_from: None,
        }
    }

    #[test]
    fn every_error_keeps_the_convention() {
        let all: Vec<GraphError> = vec![
            GraphError::NotConfigured {
                profile: "p".into(),
            },
            GraphError::NoGraphUrl {
                profile: "p".into(),
                host: "idp.example".into(),
            },
            api(403, Some("Authorization_RequestDenied")),
            api(401, Some("InvalidAuthenticationToken")),
            api(404, Some("Request_ResourceNotFound")),
            api(500, None),
            GraphError::Throttled {
                status: 429,
                retries: 3,
                path: "/x".into(),
            },
            GraphError::UnexpectedBody {
                status: 502,
                path: "/x".into(),
                excerpt: String::new(),
            },
            GraphError::TooManyPages {
                path: "/x".into(),
                pages: 50,
            },
            CliError::NotInstalled {
                program: "az".into(),
            }
            .into(),
            CliError::Failed {
                command: "az".into(),
                status: Some(2),
                excerpt: "boom".into(),
            }
            .into(),
            FileError::Unmatched {
                path: "a.json".into(),
                what: "x".into(),
                scope: "s".into(),
                client_id: "c".into(),
            }
            .into(),
        ];
        for e in &all {
            assert_keeps_convention(e);
        }
    }

    #[test]
    fn a_403_names_the_permission_and_both_ways_to_get_it() {
        let e = api(403, Some("Authorization_RequestDenied")).with_token_source("profile `p`");
        let hint = e.hint().unwrap();
        for want in [
            "(from profile `p`)",
            "Application.Read.All",
            "Grant admin consent",
            "azure-cli",
            "az login",
        ] {
            assert!(hint.contains(want), "{want:?} not in {hint}");
        }
        assert!(e.summary().contains("HTTP 403 Authorization_RequestDenied"));
        let e = api(401, Some("InvalidAuthenticationToken"));
        assert!(e.summary().contains("refused the Graph token"), "{e}");
        let e = api(404, Some("Request_ResourceNotFound"));
        assert!(
            e.summary().contains("has no /applications(appId='a')"),
            "{e}"
        );
    }
}
