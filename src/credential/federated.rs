//! The federated credential: a token file from another identity provider (workload
//! identity, e.g. a Kubernetes projected service-account token) sent as the client
//! assertion, re-read when the copy in memory is older than 10 minutes.
//!
//! Owns [`FederatedToken`] and [`FederatedError`]. Reads only the file it is given; it never
//! validates the token (Entra does) and no text it makes contains the token.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, TimeDelta, Utc};
use thiserror::Error;

use crate::problem::Problem;
use crate::secret::ClientSecret;

/// A federated token read from its file is re-read after this long.
const FEDERATED_REREAD_AFTER: TimeDelta = TimeDelta::minutes(10);

const FEDERATED_SETTINGS: &str = "AZURE_FEDERATED_TOKEN_FILE or federated_token_file";

/// A federated token file, re-read when the copy in memory is older than 10 minutes.
pub struct FederatedToken {
    path: PathBuf,
    /// (read at, token).
    copy: Mutex<Option<(DateTime<Utc>, ClientSecret)>>,
}

impl std::fmt::Debug for FederatedToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FederatedToken")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

/// Why the federated token file could not be used. No text contains the token.
#[derive(Debug, Clone, Error)]
pub enum FederatedError {
    /// The file named by the profile or the environment does not exist (checked when the
    /// profile is resolved, before any request).
    #[error("the federated token file {path} does not exist")]
    Missing { path: PathBuf },
    /// The file is missing or cannot be read (first read).
    #[error("cannot read the federated token file {path}: {message}")]
    Unreadable {
        path: PathBuf,
        message: String,
        hint: String,
        #[source]
        source: Option<Arc<std::io::Error>>,
    },
    /// The file is there but holds nothing (only whitespace).
    #[error("the federated token file {path} is empty")]
    Empty { path: PathBuf },
    /// The file was read before but cannot be read again now that the copy is stale.
    #[error("cannot re-read the federated token file {path} (last read {read_at}): {message}")]
    Reread {
        path: PathBuf,
        message: String,
        read_at: DateTime<Utc>,
        #[source]
        source: Arc<std::io::Error>,
    },
}

impl Problem for FederatedError {
    fn summary(&self) -> String {
        self.to_string()
    }
    fn hint(&self) -> Option<String> {
        Some(match self {
            FederatedError::Missing { .. } => "in Kubernetes the workload identity webhook mounts \
                 it (check the pod's azure.workload.identity/use label and \
                 AZURE_FEDERATED_TOKEN_FILE); elsewhere write the other identity provider's \
                 token there"
                .into(),
            FederatedError::Unreadable { hint, .. } => hint.clone(),
            FederatedError::Empty { .. } => format!(
                "the token is written by whoever provides it (on Kubernetes, the workload \
                 identity webhook's projected service-account token); check that the pod's \
                 service account is set up for workload identity and that {FEDERATED_SETTINGS} \
                 names the projected file"
            ),
            FederatedError::Reread { .. } => format!(
                "the token is rotated in place; the file may have been replaced or its volume \
                 unmounted. Check that it still exists at {FEDERATED_SETTINGS}; the old copy is \
                 not used since it may have expired"
            ),
        })
    }
}

impl FederatedToken {
    /// A token file that is read on first use.
    pub fn new(path: PathBuf) -> Self {
        FederatedToken {
            path,
            copy: Mutex::new(None),
        }
    }

    /// The token file named by a profile: it must exist now (it is read on first use, and
    /// re-read as it rotates).
    pub fn open(path: PathBuf) -> Result<Self, FederatedError> {
        match crate::files::check(&path, crate::files::FileKind::FederatedToken) {
            Ok(()) => Ok(Self::new(path)),
            Err(crate::files::ReadError::NotFound { .. }) => Err(FederatedError::Missing { path }),
            Err(e) => {
                let message = format!("it {}", e.reason());
                Err(FederatedError::Unreadable {
                    path,
                    message,
                    hint: format!(
                        "{FEDERATED_SETTINGS} must name a regular file holding the token (at most 256 KiB)"
                    ),
                    source: Some(Arc::new(e.into_io())),
                })
            }
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// When the copy in memory was read, if there is one.
    pub fn read_at(&self) -> Option<DateTime<Utc>> {
        let copy = self.copy.lock().unwrap_or_else(|e| e.into_inner());
        copy.as_ref().map(|(at, _)| *at)
    }

    /// The token to send as `client_assertion`; read from the file when there is no copy or
    /// the copy is older than 10 minutes.
    pub fn assertion(&self, now: DateTime<Utc>) -> Result<ClientSecret, FederatedError> {
        let mut copy = self.copy.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((read_at, token)) = copy.as_ref()
            && *read_at <= now
            && now - *read_at < FEDERATED_REREAD_AFTER
        {
            return Ok(token.clone());
        }
        let previous = copy.as_ref().map(|(at, _)| *at);
        let read = crate::files::read(&self.path, crate::files::FileKind::FederatedToken)
            .map_err(|e| self.read_error(e.into_io(), previous))?;
        let Ok(text) = String::from_utf8(read) else {
            return Err(FederatedError::Unreadable {
                path: self.path.clone(),
                message: "the file is not text".into(),
                hint: format!(
                    "{FEDERATED_SETTINGS} must name a file holding a JWT (three base64url parts)"
                ),
                source: None,
            });
        };
        let token = text.trim();
        if token.is_empty() {
            return Err(FederatedError::Empty {
                path: self.path.clone(),
            });
        }
        let token = ClientSecret::new(token);
        *copy = Some((now, token.clone()));
        Ok(token)
    }

    fn read_error(&self, e: std::io::Error, previous: Option<DateTime<Utc>>) -> FederatedError {
        let message = e.to_string();
        match previous {
            Some(read_at) => FederatedError::Reread {
                path: self.path.clone(),
                message,
                read_at,
                source: Arc::new(e),
            },
            None => FederatedError::Unreadable {
                path: self.path.clone(),
                message,
                hint: match e.kind() {
                    std::io::ErrorKind::NotFound => format!(
                        "on Kubernetes the workload identity webhook mounts the token file \
                         (azure.workload.identity/use: \"true\" on the pod); elsewhere check \
                         {FEDERATED_SETTINGS}"
                    ),
                    std::io::ErrorKind::PermissionDenied => {
                        "make the file readable by the user running tokenscope".into()
                    }
                    std::io::ErrorKind::InvalidInput => format!(
                        "{FEDERATED_SETTINGS} must name a regular file holding the token (at most 256 KiB)"
                    ),
                    _ => format!("check {FEDERATED_SETTINGS}"),
                },
                source: Some(Arc::new(e)),
            },
        }
    }
}
