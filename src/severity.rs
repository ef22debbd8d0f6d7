//! How bad a finding is: one scale for lint findings, verification checks, doctor items and
//! the TUI's marks.
//!
//! A base module: it imports nothing of the crate (it lives here, not in `diagnose`, so that
//! `jwt`'s verification can grade its checks without depending on the diagnosis layer).

use serde::Serialize;

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Ok,
    Info,
    Warning,
    Error,
}

impl Severity {
    /// ✓ / ⚠ / ✗ marks for checklists.
    pub fn mark(self) -> &'static str {
        match self {
            Severity::Ok | Severity::Info => "✓",
            Severity::Warning => "⚠",
            Severity::Error => "✗",
        }
    }
}
