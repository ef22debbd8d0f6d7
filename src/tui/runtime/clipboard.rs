//! Where `y` (and the other copy keys) send text: the terminal's clipboard through OSC 52, or
//! memory in tests. Owns nothing else.

use std::io;
use std::sync::{Arc, Mutex};

/// Where `y` sends the access token.
#[derive(Debug, Clone)]
pub enum Clipboard {
    /// OSC 52 written to standard output (the terminal the dashboard draws on).
    Osc52,
    /// Kept in memory (tests).
    Memory(Arc<Mutex<Vec<String>>>),
}

impl Clipboard {
    pub(super) fn copy(&self, text: &str) -> Result<usize, String> {
        match self {
            Clipboard::Osc52 => {
                use base64::Engine as _;
                use std::io::Write as _;
                let b64 = base64::engine::general_purpose::STANDARD.encode(text);
                let mut out = io::stdout().lock();
                write!(out, "\x1b]52;c;{b64}\x07")
                    .and_then(|()| out.flush())
                    .map_err(|e| e.to_string())?;
                Ok(text.len())
            }
            Clipboard::Memory(m) => {
                m.lock()
                    .map_err(|_| "clipboard lock poisoned".to_string())?
                    .push(text.to_string());
                Ok(text.len())
            }
        }
    }
}
