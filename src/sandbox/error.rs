//! Errors the sandbox reports to its caller (library and CLI). Every message says what
//! happened, why it probably happened, and what to do. The underlying cause is part of the
//! message (not a `source()`), so the hint stays the last line when a caller prints the chain.

use std::net::SocketAddr;
use std::path::PathBuf;

/// Something the sandbox could not do.
#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    /// The tenant model file could not be read.
    #[error(
        "cannot read the sandbox tenant file {path}: {cause}\n  \
         hint: check the path given to --tenant, or omit --tenant to use the built-in tenant"
    )]
    ModelRead {
        path: PathBuf,
        cause: std::io::Error,
    },

    /// The tenant model is not valid TOML or does not have the expected shape.
    #[error(
        "the sandbox tenant in {origin} is not valid: {message}\n  \
         hint: compare it with assets/sandbox.toml, which documents every key"
    )]
    ModelParse { origin: String, message: String },

    /// The tenant model parsed but is inconsistent (bad GUID, unknown role, duplicates, …).
    #[error("the sandbox tenant in {origin} is inconsistent: {problem}\n  hint: {hint}")]
    ModelInvalid {
        origin: String,
        problem: String,
        hint: String,
    },

    /// The listening socket could not be opened.
    #[error(
        "cannot listen on {addr}: {cause}\n  \
         hint: the port is probably in use or needs privileges; pass --addr 127.0.0.1:0 to \
         let the system pick a free port"
    )]
    Bind {
        addr: SocketAddr,
        cause: std::io::Error,
    },

    /// Key or certificate generation failed in the crypto library.
    #[error(
        "cannot generate the sandbox's {what}: {detail}\n  \
         hint: this is a crypto-library failure, not a configuration problem; retry, and \
         report it if it persists"
    )]
    Crypto { what: &'static str, detail: String },

    /// The TLS files (CA certificate) could not be written.
    #[error(
        "cannot write the sandbox CA certificate to {path}: {cause}\n  \
         hint: check that the temporary directory (TMPDIR) exists and is writable"
    )]
    TempFile {
        path: PathBuf,
        cause: std::io::Error,
    },

    /// TLS server configuration failed.
    #[error(
        "cannot configure TLS for the sandbox: {detail}\n  \
         hint: run without --tls, and report this if it persists"
    )]
    Tls { detail: String },

    /// An admin operation named a client the tenant does not have.
    #[error(
        "the sandbox tenant has no client '{client}'\n  \
         hint: use a client name or client id from: {known}"
    )]
    UnknownClient { client: String, known: String },

    /// An admin operation named a role the API does not define.
    #[error(
        "the Weather API defines no app role '{role}'\n  \
         hint: use one of: {known}"
    )]
    UnknownRole { role: String, known: String },

    /// An admin operation got a value it cannot use.
    #[error("{problem}\n  hint: {hint}")]
    InvalidValue { problem: String, hint: String },

    /// A credential or token file could not be written.
    #[error(
        "cannot write {path}: {cause}\n  \
         hint: check that the directory exists and is writable"
    )]
    WriteFile {
        path: PathBuf,
        cause: std::io::Error,
    },
}
