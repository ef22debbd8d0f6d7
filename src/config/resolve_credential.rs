//! Which client credential a profile uses, in azure-identity's order: its environment
//! variables first (`AZURE_CLIENT_SECRET`, then `AZURE_CLIENT_CERTIFICATE_PATH`, then
//! `AZURE_FEDERATED_TOKEN_FILE`), then exactly one of the profile's credential keys.
//!
//! Decides and reports (every place looked at when there is none); the credential itself is
//! loaded by `crate::credential` (certificate parsing, the federated token file).

use std::path::PathBuf;
use std::sync::Arc;

use super::error::Ctx;
use super::{ConfigError, Env, ProfileFile};
use crate::credential::{
    AssertionAlg, ClientCertificate, Credential, CredentialError, FederatedToken, PathSource,
    SecretSource,
};
use crate::secret::ClientSecret;
use crate::text::sanitize;

/// The credential of profile `p`.
pub(super) fn resolve_credential(
    p: &ProfileFile,
    ctx: &Ctx,
    env: &Env,
) -> Result<Credential, ConfigError> {
    let signing = Signing::of(p, ctx, env)?;
    if let Some(credential) = from_azure_env(env, &signing, ctx)? {
        return Ok(credential);
    }
    one_kind_only(p, ctx)?;
    if let Some(c) = &p.client_certificate_path {
        let password = match &p.client_certificate_password_env {
            Some(var) => match env.get(var) {
                Some(v) => Some(ClientSecret::new(v)),
                None => {
                    return Err(ConfigError::PasswordEnvUnset {
                        path: ctx.path.to_path_buf(),
                        profile: ctx.profile.to_string(),
                        var: sanitize(var, false),
                    });
                }
            },
            None => env
                .get("AZURE_CLIENT_CERTIFICATE_PASSWORD")
                .map(ClientSecret::new),
        };
        let key = p
            .client_certificate_key_path
            .as_ref()
            .map(|k| ctx.base_dir.join(k));
        return certificate(
            ctx.base_dir.join(c),
            key,
            password,
            PathSource::File,
            &signing,
            ctx,
        );
    }
    if let Some(f) = &p.federated_token_file {
        return federated(ctx.base_dir.join(f), PathSource::File, ctx);
    }
    secret_from_profile(p, ctx, env)
}

/// How a certificate signs its assertions: the algorithm and whether `x5c` goes along.
struct Signing {
    alg: AssertionAlg,
    send_chain: bool,
}

impl Signing {
    fn of(p: &ProfileFile, ctx: &Ctx, env: &Env) -> Result<Signing, ConfigError> {
        let alg = match p.assertion_algorithm.as_deref() {
            None => AssertionAlg::default(),
            Some(a) => AssertionAlg::from_name(a).ok_or_else(|| {
                ctx.invalid(
                    "assertion_algorithm",
                    a.trim(),
                    "use \"PS256\" (Entra ID, x5t#S256) or \"RS256\" (x5t, for other servers)",
                )
            })?,
        };
        let send_chain = match env.get("AZURE_CLIENT_SEND_CERTIFICATE_CHAIN") {
            Some(v) => matches!(v.trim().to_ascii_lowercase().as_str(), "1" | "true"),
            None => p.send_certificate_chain.unwrap_or(false),
        };
        Ok(Signing { alg, send_chain })
    }
}

/// azure-identity's variables, in EnvironmentCredential's order (secret, then
/// certificate), then WorkloadIdentityCredential's token file.
fn from_azure_env(
    env: &Env,
    signing: &Signing,
    ctx: &Ctx,
) -> Result<Option<Credential>, ConfigError> {
    if let Some(v) = env.get("AZURE_CLIENT_SECRET") {
        return Ok(Some(Credential::Secret {
            secret: ClientSecret::new(v),
            source: SecretSource::AzureEnv,
        }));
    }
    if let Some(c) = env.get("AZURE_CLIENT_CERTIFICATE_PATH") {
        let password = env
            .get("AZURE_CLIENT_CERTIFICATE_PASSWORD")
            .map(ClientSecret::new);
        let source = PathSource::EnvVar("AZURE_CLIENT_CERTIFICATE_PATH");
        return certificate(PathBuf::from(c), None, password, source, signing, ctx).map(Some);
    }
    if let Some(f) = env.get("AZURE_FEDERATED_TOKEN_FILE") {
        let source = PathSource::EnvVar("AZURE_FEDERATED_TOKEN_FILE");
        return federated(PathBuf::from(f), source, ctx).map(Some);
    }
    Ok(None)
}

/// At most one credential key, and certificate options only with a certificate.
fn one_kind_only(p: &ProfileFile, ctx: &Ctx) -> Result<(), ConfigError> {
    let set: Vec<&'static str> = [
        ("client_secret_env", p.client_secret_env.is_some()),
        ("client_secret_file", p.client_secret_file.is_some()),
        ("client_secret", p.client_secret.is_some()),
        (
            "client_certificate_path",
            p.client_certificate_path.is_some(),
        ),
        ("federated_token_file", p.federated_token_file.is_some()),
    ]
    .into_iter()
    .filter_map(|(k, on)| on.then_some(k))
    .collect();
    if set.len() > 1 {
        return Err(ConfigError::AmbiguousSecret {
            path: ctx.path.to_path_buf(),
            profile: ctx.profile.to_string(),
            fields: set,
        });
    }
    for (key, given) in [
        (
            "client_certificate_key_path",
            p.client_certificate_key_path.is_some(),
        ),
        (
            "client_certificate_password_env",
            p.client_certificate_password_env.is_some(),
        ),
        ("send_certificate_chain", p.send_certificate_chain.is_some()),
        ("assertion_algorithm", p.assertion_algorithm.is_some()),
    ] {
        if given && p.client_certificate_path.is_none() {
            return Err(ctx.invalid(
                key,
                "",
                "it only applies to a certificate; set client_certificate_path too, or remove it",
            ));
        }
    }
    Ok(())
}

fn certificate(
    cert_path: PathBuf,
    key_path: Option<PathBuf>,
    password: Option<ClientSecret>,
    source: PathSource,
    signing: &Signing,
    ctx: &Ctx,
) -> Result<Credential, ConfigError> {
    let cert = ClientCertificate::load(&cert_path, key_path.as_deref(), password.as_ref())
        .map_err(|e| credential_error(ctx, e.into()))?;
    Ok(Credential::Certificate {
        cert: Arc::new(cert),
        source,
        send_chain: signing.send_chain,
        alg: signing.alg,
    })
}

fn federated(file: PathBuf, source: PathSource, ctx: &Ctx) -> Result<Credential, ConfigError> {
    let token = FederatedToken::open(file).map_err(|e| credential_error(ctx, e.into()))?;
    Ok(Credential::Federated {
        token: Arc::new(token),
        source,
    })
}

fn credential_error(ctx: &Ctx, problem: CredentialError) -> ConfigError {
    ConfigError::Credential {
        path: ctx.path.to_path_buf(),
        profile: ctx.profile.to_string(),
        problem: Box::new(problem),
    }
}

/// `client_secret_env`, `client_secret_file`, `client_secret`, in that order; else every
/// place that was looked at.
fn secret_from_profile(p: &ProfileFile, ctx: &Ctx, env: &Env) -> Result<Credential, ConfigError> {
    let secret = |secret: ClientSecret, source| Ok(Credential::Secret { secret, source });
    let mut looked = vec![
        "environment variables AZURE_CLIENT_SECRET, AZURE_CLIENT_CERTIFICATE_PATH, AZURE_FEDERATED_TOKEN_FILE (not set)".to_string(),
    ];
    match &p.client_secret_env {
        Some(var) => match env.get(var) {
            Some(v) => return secret(ClientSecret::new(v), SecretSource::EnvVar(var.clone())),
            None => looked.push(format!(
                "environment variable {} named by client_secret_env (not set or empty)",
                sanitize(var, false)
            )),
        },
        None => looked.push("client_secret_env in the profile (not set)".into()),
    }
    match &p.client_secret_file {
        Some(file) => {
            let full = ctx.base_dir.join(file);
            match crate::files::read_to_string(&full, crate::files::FileKind::ClientSecret) {
                Ok(text) => {
                    let value = text.trim_end_matches(['\n', '\r']);
                    if !value.is_empty() {
                        return secret(ClientSecret::new(value), SecretSource::File(full));
                    }
                    looked.push(format!(
                        "file {} named by client_secret_file (empty)",
                        full.display()
                    ));
                }
                Err(e) => looked.push(format!(
                    "file {} named by client_secret_file (it {})",
                    full.display(),
                    e.reason()
                )),
            }
        }
        None => looked.push("client_secret_file in the profile (not set)".into()),
    }
    match &p.client_secret {
        Some(v) if !v.is_empty() => {
            return secret(ClientSecret::new(v.clone()), SecretSource::Inline);
        }
        Some(_) => looked.push("client_secret in the profile (empty)".into()),
        None => looked.push("client_secret in the profile (not set)".into()),
    }
    looked.push("client_certificate_path, federated_token_file in the profile (not set)".into());
    Err(ConfigError::MissingSecret {
        path: ctx.path.to_path_buf(),
        profile: ctx.profile.to_string(),
        looked,
    })
}
