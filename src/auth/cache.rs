//! The persistent token cache: one small JSON file per cache key in the platform cache dir.
//!
//! The key is authority host + tenant + client id + scope + a fingerprint (hash) of the
//! credential, so a rotated secret or another tenant never reuses a token. The secret itself is
//! never stored. Files are 0600 in a 0700 directory, written to a temporary file and renamed
//! into place, so a reader (or a second writer) never sees a half-written file; two processes
//! storing the same key at once leave one complete entry. A corrupt, truncated or
//! unknown-version file is reported, ignored and overwritten by the next store. A
//! cross-process lock per entry ([`TokenCache::try_lock`], an OS file lock on
//! `<entry>.lock` in the sibling directory `<cache dir>.locks`, 0700) lets processes started
//! together wait for one token request instead of each making their own.
//!
//! Reads and writes only its own directory and that lock directory; when to store or serve
//! a token is the token manager's decision, not the cache's.

use crate::files::{FileKind, ReadError};
use std::io::Write;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use thiserror::Error;

use crate::config::Profile;
use crate::problem::Problem;

/// Version of the file format; other versions are ignored (and rewritten).
pub const CACHE_VERSION: u32 = 1;

/// Why the cache could not be used; commands carry on without it.
#[derive(Debug, Error)]
pub enum CacheError {
    #[error("token cache {}: {source}", .path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("ignoring token cache file {}: {reason} (it will be rewritten)", .path.display())]
    Corrupt { path: PathBuf, reason: String },
    #[error("no platform cache directory could be determined")]
    NoDir,
}

impl Problem for CacheError {
    fn summary(&self) -> String {
        self.to_string()
    }
    fn hint(&self) -> Option<String> {
        match self {
            CacheError::Io { .. } => Some("check permissions, or run with --no-cache".into()),
            // Nothing to do: the next store rewrites the file.
            CacheError::Corrupt { .. } => None,
            CacheError::NoDir => {
                Some("set HOME (or XDG_CACHE_HOME), or run with --no-cache".into())
            }
        }
    }
}

/// What identifies a cached token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CacheKey {
    pub authority_host: String,
    pub tenant: String,
    pub client_id: String,
    pub scope: String,
    /// Hash of the credential; never the credential.
    pub credential_fingerprint: String,
}

impl CacheKey {
    pub fn for_profile(p: &Profile) -> Self {
        let host = url::Url::parse(&p.authority)
            .ok()
            .and_then(|u| {
                u.host_str().map(|h| match u.port() {
                    Some(port) => format!("{h}:{port}"),
                    None => h.to_string(),
                })
            })
            .unwrap_or_else(|| p.authority.clone());
        CacheKey {
            authority_host: host.to_ascii_lowercase(),
            tenant: p.tenant.clone().unwrap_or_default().to_ascii_lowercase(),
            client_id: p.client_id.to_ascii_lowercase(),
            scope: p.scope.clone(),
            credential_fingerprint: p.credential.fingerprint(),
        }
    }

    /// File name for this key: a hash, so nothing about the key leaks into directory listings.
    pub fn file_name(&self) -> String {
        let mut h = Sha256::new();
        for part in [
            &self.authority_host,
            &self.tenant,
            &self.client_id,
            &self.scope,
            &self.credential_fingerprint,
        ] {
            h.update(part.as_bytes());
            h.update([0u8]);
        }
        format!("{}.json", &hex::encode(h.finalize())[..32])
    }
}

/// One cached token. `Debug` never shows the token.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CacheEntry {
    pub version: u32,
    pub key: CacheKey,
    /// The profile that stored it (for `cache list`; not part of the key).
    pub profile: String,
    pub token_type: String,
    pub access_token: String,
    pub acquired_at: DateTime<Utc>,
    pub expires_on: DateTime<Utc>,
    pub ext_expires_on: Option<DateTime<Utc>>,
    pub refresh_on: Option<DateTime<Utc>>,
}

impl std::fmt::Debug for CacheEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CacheEntry")
            .field("key", &self.key)
            .field("profile", &self.profile)
            .field("access_token", &"<redacted>")
            .field("expires_on", &self.expires_on)
            .finish()
    }
}

/// The cache directory.
#[derive(Debug, Clone)]
pub struct TokenCache {
    dir: PathBuf,
}

impl TokenCache {
    /// `…/tokenscope/tokens` in the platform cache dir.
    pub fn default_dir() -> Option<PathBuf> {
        directories::ProjectDirs::from("", "", "tokenscope").map(|d| d.cache_dir().join("tokens"))
    }

    /// The cache in the platform cache dir.
    pub fn open_default() -> Result<Self, CacheError> {
        Self::open(Self::default_dir().ok_or(CacheError::NoDir)?)
    }

    /// A cache in `dir` (created 0700 if missing).
    pub fn open(dir: impl Into<PathBuf>) -> Result<Self, CacheError> {
        let dir = dir.into();
        let io = |source| CacheError::Io {
            path: dir.clone(),
            source,
        };
        private_dir(&dir).map_err(io)?;
        Ok(Self { dir })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The entry for `key`: `Ok(None)` when there is none, `Err(Corrupt)` when the file is
    /// unusable (the caller reports it and carries on as if there were none).
    pub fn load(&self, key: &CacheKey) -> Result<Option<CacheEntry>, CacheError> {
        let path = self.dir.join(key.file_name());
        let bytes = match crate::files::read(&path, FileKind::CacheEntry) {
            Ok(b) => b,
            Err(ReadError::NotFound { .. }) => return Ok(None),
            // A FIFO or an oversized file in its place: unusable, reported, rewritten.
            Err(e @ (ReadError::NotRegular { .. } | ReadError::TooLarge { .. })) => {
                return Err(CacheError::Corrupt {
                    path,
                    reason: format!("it {}", e.reason()),
                });
            }
            Err(e) => {
                return Err(CacheError::Io {
                    path,
                    source: e.into_io(),
                });
            }
        };
        let entry = parse_entry(&bytes).map_err(|reason| CacheError::Corrupt {
            path: path.clone(),
            reason,
        })?;
        if &entry.key != key {
            return Err(CacheError::Corrupt {
                path,
                reason: "the entry belongs to another key".into(),
            });
        }
        Ok(Some(entry))
    }

    /// Store an entry atomically (temporary file, 0600, fsync, rename).
    pub fn store(&self, entry: &CacheEntry) -> Result<(), CacheError> {
        let path = self.dir.join(entry.key.file_name());
        let tmp = self.dir.join(format!(
            ".{}.{}.{}.tmp",
            entry.key.file_name(),
            std::process::id(),
            rand::random::<u64>()
        ));
        let io = |source| CacheError::Io {
            path: path.clone(),
            source,
        };
        let json = serde_json::to_vec_pretty(entry).map_err(|e| io(std::io::Error::other(e)))?;
        let result = (|| {
            let mut opts = std::fs::OpenOptions::new();
            opts.write(true).create_new(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::OpenOptionsExt;
                opts.mode(0o600);
            }
            let mut f = opts.open(&tmp)?;
            f.write_all(&json)?;
            f.sync_all()?;
            std::fs::rename(&tmp, &path)
        })();
        if result.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        result.map_err(io)
    }

    /// Take the cross-process lock of `key`'s entry, if no other process holds it
    /// (`Ok(None)`: one does; ask again later). Released when the [`EntryLock`] is dropped,
    /// or by the OS when the process dies.
    pub fn try_lock(&self, key: &CacheKey) -> Result<Option<EntryLock>, CacheError> {
        // Beside the cache, not in it: the cache directory holds entries only.
        let mut locks = self.dir.clone().into_os_string();
        locks.push(".locks");
        let locks = PathBuf::from(locks);
        let path = locks.join(format!("{}.lock", key.file_name()));
        let io = |source| CacheError::Io {
            path: path.clone(),
            source,
        };
        private_dir(&locks).map_err(io)?;
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create(true).truncate(false);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            // A FIFO or a symlink planted there is refused, never waited on or followed.
            opts.mode(0o600)
                .custom_flags(libc::O_NONBLOCK | libc::O_NOFOLLOW);
        }
        let file = opts.open(&path).map_err(io)?;
        let meta = file.metadata().map_err(io)?;
        if !meta.is_file() {
            return Err(CacheError::Corrupt {
                path,
                reason: "the lock file is not a regular file".into(),
            });
        }
        match file.try_lock() {
            Ok(()) => Ok(Some(EntryLock { _file: file })),
            Err(std::fs::TryLockError::WouldBlock) => Ok(None),
            Err(std::fs::TryLockError::Error(e)) => Err(io(e)),
        }
    }

    /// Every readable entry (corrupt files are skipped), soonest expiry first.
    pub fn list(&self) -> Result<Vec<CacheEntry>, CacheError> {
        let mut out = Vec::new();
        for path in self.files()? {
            if let Ok(bytes) = crate::files::read(&path, FileKind::CacheEntry)
                && let Ok(e) = parse_entry(&bytes)
            {
                out.push(e);
            }
        }
        out.sort_by_key(|e| e.expires_on);
        Ok(out)
    }

    /// Remove entries (all, or those stored by `profile`). Returns how many were removed.
    /// With no profile, unreadable files are removed too.
    pub fn clear(&self, profile: Option<&str>) -> Result<usize, CacheError> {
        let mut n = 0;
        for path in self.files()? {
            let matches = match profile {
                None => true,
                Some(p) => crate::files::read(&path, FileKind::CacheEntry)
                    .ok()
                    .and_then(|b| parse_entry(&b).ok())
                    .is_some_and(|e| e.profile == p),
            };
            if matches {
                std::fs::remove_file(&path).map_err(|source| CacheError::Io {
                    path: path.clone(),
                    source,
                })?;
                n += 1;
            }
        }
        Ok(n)
    }

    fn files(&self) -> Result<Vec<PathBuf>, CacheError> {
        let rd = match std::fs::read_dir(&self.dir) {
            Ok(rd) => rd,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(source) => {
                return Err(CacheError::Io {
                    path: self.dir.clone(),
                    source,
                });
            }
        };
        Ok(rd
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| {
                p.extension().is_some_and(|x| x == "json")
                    && !p
                        .file_name()
                        .is_some_and(|n| n.to_string_lossy().starts_with('.'))
            })
            .collect())
    }
}

/// `dir`, created if missing, 0700.
fn private_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
    }
    Ok(())
}

/// The cross-process lock of one cache entry, held until dropped.
#[derive(Debug)]
pub struct EntryLock {
    _file: std::fs::File,
}

fn parse_entry(bytes: &[u8]) -> Result<CacheEntry, String> {
    let v: serde_json::Value =
        serde_json::from_slice(bytes).map_err(|e| format!("not valid JSON ({e})"))?;
    match v.get("version").and_then(serde_json::Value::as_u64) {
        Some(n) if n == u64::from(CACHE_VERSION) => {}
        Some(n) => return Err(format!("unknown format version {n}")),
        None => return Err("no format version".into()),
    }
    serde_json::from_value(v).map_err(|e| format!("unexpected content ({e})"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(secret_fp: &str) -> CacheKey {
        CacheKey {
            authority_host: "login.microsoftonline.com".into(),
            tenant: "t".into(),
            client_id: "c".into(),
            scope: "api://x/.default".into(),
            credential_fingerprint: secret_fp.into(),
        }
    }

    fn entry(k: CacheKey, profile: &str) -> CacheEntry {
        let now = Utc::now();
        CacheEntry {
            version: CACHE_VERSION,
            key: k,
            profile: profile.into(),
            token_type: "Bearer".into(),
            access_token: "canary-token".into(),
            acquired_at: now,
            expires_on: now + chrono::Duration::hours(1),
            ext_expires_on: None,
            refresh_on: None,
        }
    }

    #[test]
    fn store_load_list_clear_and_permissions() {
        let dir = tempfile::tempdir().unwrap();
        let cache = TokenCache::open(dir.path().join("tokens")).unwrap();
        let e = entry(key("fp1"), "console");
        cache.store(&e).unwrap();
        assert_eq!(cache.load(&key("fp1")).unwrap(), Some(e.clone()));
        assert_eq!(
            cache.load(&key("fp2")).unwrap(),
            None,
            "another credential, another entry"
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode(cache.dir()), 0o700);
            assert_eq!(mode(&cache.dir().join(key("fp1").file_name())), 0o600);
        }
        cache.store(&entry(key("fp2"), "mobile")).unwrap();
        assert_eq!(cache.list().unwrap().len(), 2);
        assert!(!format!("{:?}", cache.list().unwrap()).contains("canary"));
        assert_eq!(cache.clear(Some("mobile")).unwrap(), 1);
        assert_eq!(cache.list().unwrap().len(), 1);
        assert_eq!(cache.clear(None).unwrap(), 1);
        assert!(cache.list().unwrap().is_empty());
        // No temporary files are left behind.
        assert_eq!(std::fs::read_dir(cache.dir()).unwrap().count(), 0);
    }

    #[test]
    fn one_holder_of_an_entry_lock_at_a_time() {
        let dir = tempfile::tempdir().unwrap();
        let cache = TokenCache::open(dir.path().join("tokens")).unwrap();
        let held = cache.try_lock(&key("fp")).unwrap().expect("free");
        // File locks are per open file: a second open in this process stands in for
        // another process.
        assert!(cache.try_lock(&key("fp")).unwrap().is_none(), "held");
        assert!(
            cache.try_lock(&key("other")).unwrap().is_some(),
            "per entry"
        );
        drop(held);
        assert!(cache.try_lock(&key("fp")).unwrap().is_some(), "released");
        assert_eq!(
            std::fs::read_dir(cache.dir()).unwrap().count(),
            0,
            "no lock in the cache directory"
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let locks = dir.path().join("tokens.locks");
            let lock = locks.join(format!("{}.lock", key("fp").file_name()));
            let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
            assert_eq!((mode(&locks), mode(&lock)), (0o700, 0o600));
        }
    }

    #[test]
    fn corrupt_truncated_and_unknown_version_are_reported_then_rewritten() {
        let dir = tempfile::tempdir().unwrap();
        let cache = TokenCache::open(dir.path()).unwrap();
        let path = dir.path().join(key("fp").file_name());
        let good = serde_json::to_string(&entry(key("fp"), "p")).unwrap();
        for bad in [
            "garbage".to_string(),
            good[..good.len() / 2].to_string(),
            good.replace("\"version\":1", "\"version\":99"),
        ] {
            std::fs::write(&path, bad).unwrap();
            let err = cache.load(&key("fp")).unwrap_err();
            assert!(matches!(err, CacheError::Corrupt { .. }), "{err}");
            cache.store(&entry(key("fp"), "p")).unwrap();
            assert!(cache.load(&key("fp")).unwrap().is_some());
        }
    }
}
