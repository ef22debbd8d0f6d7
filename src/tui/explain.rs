//! Why the API refused a call: the dashboard asks [`crate::diagnose::refusal::explain`], the
//! same explanation `call` and `doctor` give. Nothing of the TUI's own lives here; the
//! re-export keeps `tui::advice` and the App's call site where they were.

pub use crate::diagnose::refusal::explain as advice;
