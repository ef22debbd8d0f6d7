//! Errors the sandbox reports to its caller (library and CLI), typed: `Display` says what
//! happened (one line), [`SandboxError::hint`] what to do, and `source()` the underlying
//! I/O error where there is one. [`SandboxError::report`] puts the three together the way
//! `tokenscope sandbox` prints them.
//!
//! A leaf. Owns the wording; must not log or print (callers decide where text goes).

use std::error::Error as _;
use std::net::SocketAddr;
use std::path::PathBuf;

/// Something the sandbox could not do.
#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    /// The tenant model file could not be read.
    #[error("cannot read the sandbox tenant file {path}")]
    ModelRead {
        path: PathBuf,
        #[source]
        cause: std::io::Error,
    },

    /// The tenant model is not valid TOML or does not have the expected shape.
    #[error("the sandbox tenant in {origin} is not valid: {message}")]
    ModelParse { origin: String, message: String },

    /// The tenant model parsed but is inconsistent (bad GUID, unknown role, duplicates, …).
    #[error("the sandbox tenant in {origin} is inconsistent: {problem}")]
    ModelInvalid {
        origin: String,
        problem: String,
        hint: String,
    },

    /// The listening socket could not be opened.
    #[error("cannot listen on {addr}")]
    Bind {
        addr: SocketAddr,
        #[source]
        cause: std::io::Error,
    },

    /// Key or certificate generation failed in the crypto library.
    #[error("cannot generate the sandbox's {what}: {detail}")]
    Crypto { what: &'static str, detail: String },

    /// The TLS files (CA certificate) could not be written.
    #[error("cannot write the sandbox CA certificate to {path}")]
    TempFile {
        path: PathBuf,
        #[source]
        cause: std::io::Error,
    },

    /// TLS server configuration failed.
    #[error("cannot configure TLS for the sandbox: {detail}")]
    Tls { detail: String },

    /// An admin operation named a client the tenant does not have.
    #[error("the sandbox tenant has no client '{client}'")]
    UnknownClient { client: String, known: String },

    /// An admin operation named a role the API does not define.
    #[error("the Weather API defines no app role '{role}'")]
    UnknownRole { role: String, known: String },

    /// An admin operation got a value it cannot use.
    #[error("{problem}")]
    InvalidValue { problem: String, hint: String },

    /// A credential or token file could not be written.
    #[error("cannot write {path}")]
    WriteFile {
        path: PathBuf,
        #[source]
        cause: std::io::Error,
    },
}

impl SandboxError {
    /// What to do about it.
    pub fn hint(&self) -> Option<String> {
        let hint = match self {
            SandboxError::ModelRead { .. } => {
                "check the path given to --tenant, or omit --tenant to use the built-in tenant"
                    .to_string()
            }
            SandboxError::ModelParse { .. } => {
                "compare it with assets/sandbox.toml, which documents every key".to_string()
            }
            SandboxError::ModelInvalid { hint, .. } | SandboxError::InvalidValue { hint, .. } => {
                hint.clone()
            }
            SandboxError::Bind { .. } => "the port is probably in use or needs privileges; pass \
                 --addr 127.0.0.1:0 to let the system pick a free port"
                .to_string(),
            SandboxError::Crypto { .. } => "this is a crypto-library failure, not a \
                 configuration problem; retry, and report it if it persists"
                .to_string(),
            SandboxError::TempFile { .. } => {
                "check that the temporary directory (TMPDIR) exists and is writable".to_string()
            }
            SandboxError::Tls { .. } => {
                "run without --tls, and report this if it persists".to_string()
            }
            SandboxError::UnknownClient { known, .. } => {
                format!("use a client name or client id from: {known}")
            }
            SandboxError::UnknownRole { known, .. } => format!("use one of: {known}"),
            SandboxError::WriteFile { .. } => {
                "check that the directory exists and is writable".to_string()
            }
        };
        Some(hint)
    }

    /// The whole story as a terminal shows it: what happened, its cause, then the hint on
    /// its own indented line (`… : cause\n  hint: …`).
    pub fn report(&self) -> String {
        let mut text = self.to_string();
        let mut source = self.source();
        while let Some(cause) = source {
            text.push_str(&format!(": {cause}"));
            source = cause.source();
        }
        if let Some(hint) = self.hint() {
            text.push_str(&format!("\n  hint: {hint}"));
        }
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hint_is_data_and_the_report_puts_it_last() {
        let err = SandboxError::Bind {
            addr: SocketAddr::from(([127, 0, 0, 1], 80)),
            cause: std::io::Error::from(std::io::ErrorKind::AddrInUse),
        };
        assert_eq!(err.to_string(), "cannot listen on 127.0.0.1:80");
        assert!(err.source().is_some(), "the I/O error is the source");
        let hint = err.hint().expect("a hint");
        assert!(hint.contains("--addr 127.0.0.1:0"), "{hint}");
        let report = err.report();
        assert!(
            report.starts_with("cannot listen on 127.0.0.1:80: address in use"),
            "{report}"
        );
        assert!(report.ends_with(&format!("\n  hint: {hint}")), "{report}");
        assert!(!err.to_string().contains("hint"), "Display carries no hint");

        let unknown = SandboxError::UnknownClient {
            client: "nobody".into(),
            known: "console-rw, mobile-ro".into(),
        };
        assert!(unknown.source().is_none());
        assert_eq!(
            unknown.report(),
            "the sandbox tenant has no client 'nobody'\n  hint: use a client name or client id \
             from: console-rw, mobile-ro"
        );
    }
}
