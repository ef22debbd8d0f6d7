//! `GET /error?code=N`: the target of the `error_uri` in every AADSTS error, like
//! login.microsoftonline.com/error, explaining the codes the sandbox can return.
//!
//! Owns that text. Must not read the tenant.

use axum::extract::{RawQuery, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::sandbox::oauth::parse_form;
use crate::sandbox::state::AppState;
use crate::sandbox::stats::Endpoint;

/// `GET /error?code=N` — the target of `error_uri`, like login.microsoftonline.com/error.
pub(crate) async fn error_page(
    State(shared): State<AppState>,
    RawQuery(query): RawQuery,
) -> Response {
    shared.count(Endpoint::Other);
    let params = parse_form(query.as_deref().unwrap_or("").as_bytes());
    let code = params.get("code").map(String::as_str).unwrap_or("");
    let text = match code {
        "90002" => {
            "The tenant in the authority URL does not exist. Use the tenant id (GUID) or a verified domain of the tenant."
        }
        "900023" => "The tenant segment of the authority URL is neither a GUID nor a domain name.",
        "900144" => {
            "A required form parameter is missing (grant_type, client_id, scope or resource)."
        }
        "700016" => {
            "No application with this client id exists in the tenant. Check client_id and the tenant in the authority."
        }
        "7000215" => {
            "The client secret is wrong. Send the secret's value, not its ID; check for stray whitespace or an old value."
        }
        "7000222" => {
            "The client secret has expired. Create a new secret (tokenscope sandbox: renew-secret) and update the configuration."
        }
        "7000218" => "The request carried neither client_secret nor client_assertion.",
        "700027" => {
            "The client assertion's key is not registered on the application, has expired, or its signature does not verify. Upload the certificate (tokenscope sandbox: write-config writes one) or check the key file matches it."
        }
        "50027" => "The client assertion is not a JWT, or misses required claims (exp).",
        "50048" => "The client assertion's iss and sub differ; both must be the client id.",
        "700021" => "The client assertion's sub is not the client_id of the request.",
        "700023" => {
            "The client assertion's aud is not this tenant's token endpoint ({authority}/oauth2/v2.0/token)."
        }
        "700024" => {
            "The client assertion has expired or is not yet valid (5 minutes of clock skew are allowed). Check the clock."
        }
        "70021" => {
            "The application has no federated credential. Add one with the workload token's issuer, subject and audience api://AzureADTokenExchange."
        }
        "700211" => "No federated credential of the application has the token's issuer.",
        "700212" => {
            "No federated credential matching issuer and subject has the token's audience (use api://AzureADTokenExchange)."
        }
        "700213" => "No federated credential with the token's issuer has the token's subject.",
        "50166" => {
            "The token's issuer could not be queried for its keys. The sandbox verifies tokens of its own federation issuer only."
        }
        "1002012" => {
            "Client credentials need scope={resource}/.default, e.g. api://<api client id>/.default."
        }
        "700022" => "The scope names more than one resource. Request one token per API.",
        "500011" => {
            "No API with this App ID URI or client id exists in the tenant. Check the scope."
        }
        "501051" => {
            "The API requires assignment and this client has no app role granted. Grant a role to the client."
        }
        "50059" => {
            "Client credentials need a tenant-specific authority, not common, organizations or consumers."
        }
        "70003" => "The sandbox token endpoint supports grant_type=client_credentials only.",
        _ => "Unknown error code. The sandbox documents the codes it can return.",
    };
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        format!("AADSTS{code}: {text}\n"),
    )
        .into_response()
}
