//! Reading local files the user pointed tokenscope at — config, secret, certificate, key,
//! PKCS#12, federated token, CA bundle, cache entry, the sandbox's tenant file and key
//! store, exported set-up files — without trusting them:
//!
//! - opened without blocking (`O_NONBLOCK`), then checked to be a regular file: a FIFO
//!   would wait forever for a writer, `/dev/zero` never ends, a directory is a mistake;
//! - read up to a cap that fits the kind of file, so a 2 GB or endless file is an error that
//!   names it instead of an allocation failure or the OOM killer;
//! - every failure says which file, what it was meant to be, and what to do.
//!
//! Layer: just above the base modules (it implements [`Problem`]); it knows nothing about
//! what the bytes mean.

use std::fs::File;
use std::io::Read as _;
use std::path::{Path, PathBuf};

use thiserror::Error;

use crate::problem::Problem;

/// What a file is for: names it in errors and sets its size cap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    Config,
    ClientSecret,
    Certificate,
    PrivateKey,
    Pkcs12,
    FederatedToken,
    CaBundle,
    CacheEntry,
    TenantModel,
    SetupExport,
    /// A key the sandbox stored for its next start.
    SandboxKey,
    /// What the dashboard remembers across runs (last profile, focused pane, cities).
    DashboardMemory,
}

impl FileKind {
    /// The largest file of this kind read. Generous: ten to a thousand times what a real
    /// one holds.
    pub const fn cap(self) -> u64 {
        const KIB: u64 = 1024;
        match self {
            FileKind::ClientSecret | FileKind::SandboxKey | FileKind::DashboardMemory => 64 * KIB,
            FileKind::FederatedToken => 256 * KIB,
            FileKind::CaBundle => 16 * 1024 * KIB,
            FileKind::Config
            | FileKind::Certificate
            | FileKind::PrivateKey
            | FileKind::Pkcs12
            | FileKind::CacheEntry
            | FileKind::TenantModel
            | FileKind::SetupExport => 1024 * KIB,
        }
    }

    /// "the config file", "the client secret file", …
    pub fn name(self) -> &'static str {
        match self {
            FileKind::Config => "the config file",
            FileKind::ClientSecret => "the client secret file",
            FileKind::Certificate => "the certificate file",
            FileKind::PrivateKey => "the private key file",
            FileKind::Pkcs12 => "the PKCS#12 file",
            FileKind::FederatedToken => "the federated token file",
            FileKind::CaBundle => "the CA file",
            FileKind::CacheEntry => "the token cache entry",
            FileKind::TenantModel => "the tenant file",
            FileKind::SetupExport => "the exported set-up file",
            FileKind::SandboxKey => "the sandbox key file",
            FileKind::DashboardMemory => "the dashboard's memory file",
        }
    }
}

/// Why a file could not be read.
#[derive(Debug, Error)]
pub enum ReadError {
    #[error("{} {} does not exist", .kind.name(), .path.display())]
    NotFound { kind: FileKind, path: PathBuf },
    #[error("{} {} is {what}, not a regular file", .kind.name(), .path.display())]
    NotRegular {
        kind: FileKind,
        path: PathBuf,
        what: &'static str,
    },
    #[error("{} {} is larger than {} bytes", .kind.name(), .path.display(), .kind.cap())]
    TooLarge { kind: FileKind, path: PathBuf },
    #[error("{} {} is not UTF-8 text", .kind.name(), .path.display())]
    NotText { kind: FileKind, path: PathBuf },
    #[error("cannot read {} {}: {source}", .kind.name(), .path.display())]
    Io {
        kind: FileKind,
        path: PathBuf,
        source: std::io::Error,
    },
}

impl ReadError {
    /// What is wrong, without the file's name (for messages that name it already):
    /// "is a FIFO (named pipe), not a regular file", "is larger than 65536 bytes", the OS's
    /// words.
    pub fn reason(&self) -> String {
        match self {
            ReadError::NotFound { .. } => "does not exist".into(),
            ReadError::NotRegular { what, .. } => format!("is {what}, not a regular file"),
            ReadError::TooLarge { kind, .. } => format!("is larger than {} bytes", kind.cap()),
            ReadError::NotText { .. } => "is not UTF-8 text".into(),
            ReadError::Io { source, .. } => source.to_string(),
        }
    }

    /// As an `io::Error` for callers whose errors carry one: the OS's own error when there is
    /// one, else `NotFound` / `InvalidInput` with [`ReadError::reason`] as the message.
    pub fn into_io(self) -> std::io::Error {
        match self {
            ReadError::Io { source, .. } => source,
            ReadError::NotFound { .. } => {
                std::io::Error::new(std::io::ErrorKind::NotFound, "does not exist")
            }
            other => std::io::Error::new(std::io::ErrorKind::InvalidInput, other.reason()),
        }
    }

    pub fn kind(&self) -> FileKind {
        match self {
            ReadError::NotFound { kind, .. }
            | ReadError::NotRegular { kind, .. }
            | ReadError::TooLarge { kind, .. }
            | ReadError::NotText { kind, .. }
            | ReadError::Io { kind, .. } => *kind,
        }
    }
}

impl Problem for ReadError {
    fn summary(&self) -> String {
        self.to_string()
    }
    fn hint(&self) -> Option<String> {
        Some(match self {
            ReadError::NotFound { .. } => {
                "check the path (relative paths are relative to the config file)".into()
            }
            ReadError::NotRegular { .. } | ReadError::TooLarge { .. } => format!(
                "point it at the file itself; {} is read whole and must be a regular file",
                self.kind().name()
            ),
            ReadError::NotText { .. } => "save it as UTF-8 text".into(),
            ReadError::Io { source, .. }
                if source.kind() == std::io::ErrorKind::PermissionDenied =>
            {
                "check the file's permissions: tokenscope runs as your user".into()
            }
            ReadError::Io { .. } => "check the path and the file".into(),
        })
    }
}

/// What kind of file system object `meta` describes, when it is not a regular file.
fn not_regular(meta: &std::fs::Metadata) -> Option<&'static str> {
    let t = meta.file_type();
    if t.is_file() {
        return None;
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt as _;
        if t.is_fifo() {
            return Some("a FIFO (named pipe)");
        }
        if t.is_char_device() || t.is_block_device() {
            return Some("a device");
        }
        if t.is_socket() {
            return Some("a socket");
        }
    }
    Some(if t.is_dir() {
        "a directory"
    } else {
        "not a file"
    })
}

/// Check, without reading it, that `path` is a regular file of at most `kind.cap()` bytes
/// (for files read later, such as a federated token that rotates).
pub fn check(path: &Path, kind: FileKind) -> Result<(), ReadError> {
    let meta = std::fs::metadata(path).map_err(io_error(path, kind))?;
    check_meta(&meta, path, kind)
}

/// An I/O error on `path` as a [`ReadError`]: "not found" apart, the rest as it came.
fn io_error(path: &Path, kind: FileKind) -> impl Fn(std::io::Error) -> ReadError + '_ {
    move |source| match source.kind() {
        std::io::ErrorKind::NotFound => ReadError::NotFound {
            kind,
            path: path.to_path_buf(),
        },
        _ => ReadError::Io {
            kind,
            path: path.to_path_buf(),
            source,
        },
    }
}

/// `path`'s metadata says a regular file within `kind.cap()`.
fn check_meta(meta: &std::fs::Metadata, path: &Path, kind: FileKind) -> Result<(), ReadError> {
    if let Some(what) = not_regular(meta) {
        return Err(ReadError::NotRegular {
            kind,
            path: path.to_path_buf(),
            what,
        });
    }
    if meta.len() > kind.cap() {
        return Err(ReadError::TooLarge {
            kind,
            path: path.to_path_buf(),
        });
    }
    Ok(())
}

/// The permission bits of `path` when its group or other users may read it (`0o644`,
/// `0o640`), for files that hold a secret; `None` when only its owner can, or on a system
/// without Unix permissions. Reads the metadata only, never the file.
pub fn readable_by_others(path: &Path) -> Option<u32> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(path).ok()?.permissions().mode() & 0o777;
        (mode & 0o044 != 0).then_some(mode)
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        None
    }
}

/// The bytes of `path`, a regular file of at most `kind.cap()` bytes.
pub fn read(path: &Path, kind: FileKind) -> Result<Vec<u8>, ReadError> {
    read_with(path, kind, true)
}

/// [`read`], refusing a symbolic link instead of following it (for files tokenscope wrote
/// itself into its own directory: a link there was planted by someone else).
pub fn read_no_follow(path: &Path, kind: FileKind) -> Result<Vec<u8>, ReadError> {
    read_with(path, kind, false)
}

fn read_with(path: &Path, kind: FileKind, follow: bool) -> Result<Vec<u8>, ReadError> {
    let io = io_error(path, kind);
    let mut opts = std::fs::OpenOptions::new();
    opts.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        // Opening a FIFO for reading blocks until a writer comes, unless non-blocking.
        let no_follow = if follow { 0 } else { libc::O_NOFOLLOW };
        opts.custom_flags(libc::O_NONBLOCK | no_follow);
    }
    #[cfg(not(unix))]
    let _ = follow;
    let file: File = opts.open(path).map_err(|e| {
        #[cfg(unix)]
        if !follow && e.raw_os_error() == Some(libc::ELOOP) {
            return ReadError::NotRegular {
                kind,
                path: path.to_path_buf(),
                what: "a symbolic link",
            };
        }
        io(e)
    })?;
    let meta = file.metadata().map_err(&io)?;
    check_meta(&meta, path, kind)?;
    // The size can change between stat and read: read one byte past the cap to tell.
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    file.take(kind.cap() + 1)
        .read_to_end(&mut bytes)
        .map_err(io)?;
    if bytes.len() as u64 > kind.cap() {
        return Err(ReadError::TooLarge {
            kind,
            path: path.to_path_buf(),
        });
    }
    Ok(bytes)
}

/// [`read`] as UTF-8 text.
pub fn read_to_string(path: &Path, kind: FileKind) -> Result<String, ReadError> {
    String::from_utf8(read(path, kind)?).map_err(|_| ReadError::NotText {
        kind,
        path: path.to_path_buf(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_small_regular_file_reads() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("s");
        std::fs::write(&p, "secret\n").unwrap();
        assert_eq!(
            read_to_string(&p, FileKind::ClientSecret).unwrap(),
            "secret\n"
        );
    }

    #[test]
    fn devices_fifos_directories_and_big_files_are_refused_by_name() {
        let dir = tempfile::tempdir().unwrap();
        let zero = read(Path::new("/dev/zero"), FileKind::ClientSecret).unwrap_err();
        assert!(zero.to_string().contains("/dev/zero is a device"), "{zero}");
        assert!(zero.hint().unwrap().contains("regular file"));
        let d = read(dir.path(), FileKind::Config).unwrap_err();
        assert!(d.to_string().contains("is a directory"), "{d}");
        let big = dir.path().join("big");
        std::fs::write(&big, vec![b'x'; 64 * 1024 + 1]).unwrap();
        let e = read(&big, FileKind::ClientSecret).unwrap_err();
        assert!(
            e.to_string().starts_with("the client secret file")
                && e.to_string().contains("larger than 65536 bytes"),
            "{e}"
        );
        let missing = read(&dir.path().join("nope"), FileKind::Certificate).unwrap_err();
        assert!(matches!(missing, ReadError::NotFound { .. }), "{missing}");
    }

    #[cfg(unix)]
    #[test]
    fn a_fifo_is_refused_without_waiting_for_a_writer() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("fifo");
        let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        // SAFETY: mkfifo with a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        let e = read(&fifo, FileKind::FederatedToken).unwrap_err();
        assert!(e.to_string().contains("is a FIFO"), "{e}");
    }

    #[cfg(unix)]
    #[test]
    fn a_symlink_is_refused_where_it_must_not_be_followed() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("t");
        std::fs::write(&target, "k").unwrap();
        let link = dir.path().join("l");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        assert_eq!(read(&link, FileKind::SandboxKey).unwrap(), b"k");
        let e = read_no_follow(&link, FileKind::SandboxKey).unwrap_err();
        assert!(e.to_string().contains("is a symbolic link"), "{e}");
        assert!(matches!(
            read_no_follow(&dir.path().join("none"), FileKind::SandboxKey),
            Err(ReadError::NotFound { .. })
        ));
    }

    #[test]
    fn not_utf8_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("bin");
        std::fs::write(&p, [0xff, 0xfe]).unwrap();
        let e = read_to_string(&p, FileKind::Config).unwrap_err();
        assert!(e.to_string().contains("not UTF-8"), "{e}");
    }
}
