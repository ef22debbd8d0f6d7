//! Everything the headless commands print goes through here, never through `println!`
//! (which panics when standard output is closed).
//!
//! - Every line is sanitised on its way out ([`crate::text::sanitize`], newlines and tabs
//!   kept): whatever a command quotes from a server, a token or a file, no C0/C1 control,
//!   escape sequence or bidi override reaches the terminal. JSON comes here already inert
//!   ([`crate::text::inert_json`]), so this changes nothing in it.
//! - When the reader goes away (`tokenscope decode … | head -1`: `EPIPE`), the rest of the
//!   output is dropped quietly and the command ends with the exit code it would have had
//!   anyway. A Unix tool is killed by SIGPIPE at that point, silently; tokenscope stays as
//!   silent but keeps its documented exit code, so `set -o pipefail` scripts see what the
//!   command found (0, or a refusal's 4) instead of a 141 README does not list.
//! - Any other write failure (a full disk behind `> file`) is remembered: `main` reports it
//!   and makes a successful command fail, so a script never takes a truncated token file for
//!   a good one.
//!
//! Owns the process's standard output and error for the commands; knows nothing of what
//! they print.

use std::io::{self, Write};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

/// The reader of standard output went away; nothing more is written there.
static STDOUT_GONE: AtomicBool = AtomicBool::new(false);
/// The first failure to write standard output other than a closed pipe.
static STDOUT_FAILED: Mutex<Option<String>> = Mutex::new(None);

/// Print `text` and a newline on standard output.
pub fn line(text: &str) {
    if STDOUT_GONE.load(Ordering::Relaxed) {
        return;
    }
    let clean = crate::text::sanitize(text, true);
    let mut out = io::stdout().lock();
    let written = out
        .write_all(clean.as_bytes())
        .and_then(|()| out.write_all(b"\n"))
        .and_then(|()| out.flush());
    if let Err(e) = written {
        note_stdout_error(&e);
    }
}

/// Print `text` and a newline on standard error; a closed or broken standard error is
/// ignored (there is nowhere left to say so).
pub fn err_line(text: &str) {
    let clean = crate::text::sanitize(text, true);
    let mut err = io::stderr().lock();
    let _ = err
        .write_all(clean.as_bytes())
        .and_then(|()| err.write_all(b"\n"));
}

fn note_stdout_error(e: &io::Error) {
    if e.kind() == io::ErrorKind::BrokenPipe {
        STDOUT_GONE.store(true, Ordering::Relaxed);
        return;
    }
    if let Ok(mut first) = STDOUT_FAILED.lock()
        && first.is_none()
    {
        *first = Some(e.to_string());
    }
    // Once writing failed, later lines would only fail again or leave a gap.
    STDOUT_GONE.store(true, Ordering::Relaxed);
}

/// Why standard output could not be written, if it could not (a closed pipe is not a
/// failure).
pub fn stdout_failure() -> Option<String> {
    STDOUT_FAILED.lock().ok().and_then(|f| f.clone())
}

/// `outln!("…", args)`: [`line`] with `format!` arguments.
macro_rules! outln {
    () => {
        $crate::cli::out::line("")
    };
    ($($arg:tt)*) => {
        $crate::cli::out::line(&format!($($arg)*))
    };
}

/// `errln!("…", args)`: [`err_line`] with `format!` arguments.
macro_rules! errln {
    ($($arg:tt)*) => {
        $crate::cli::out::err_line(&format!($($arg)*))
    };
}

pub(crate) use {errln, outln};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_closed_pipe_is_quiet_and_another_failure_is_kept() {
        note_stdout_error(&io::Error::from(io::ErrorKind::BrokenPipe));
        assert!(STDOUT_GONE.load(Ordering::Relaxed));
        assert_eq!(stdout_failure(), None, "a closed pipe is no failure");
        // Nothing is written (or panics) once the reader is gone.
        line("dropped");
        note_stdout_error(&io::Error::other("no space left on device"));
        assert_eq!(stdout_failure().as_deref(), Some("no space left on device"));
        STDOUT_GONE.store(false, Ordering::Relaxed);
    }
}
