//! The Activity pane's log: timestamped, levelled, sanitised lines, bounded to
//! [`ACTIVITY_CAP`] entries, plus how far back the user has scrolled.
//!
//! Owns the entries and their scroll offset; it does not decide what is worth logging (the
//! App does) and draws nothing (the view wraps and shows them).

use std::collections::VecDeque;

use chrono::{DateTime, Utc};

use crate::text::sanitize;

/// Entries kept in the activity log; older ones are dropped.
pub const ACTIVITY_CAP: usize = 500;

/// How an activity entry (or a footer status) is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Info,
    Good,
    Warn,
    Error,
}

/// One line of the activity log.
#[derive(Debug, Clone)]
pub struct Entry {
    pub at: DateTime<Utc>,
    pub level: Level,
    pub text: String,
    /// (wrap width, lines) as of the last frame: the view counts every entry's lines on each
    /// frame (for the scroll limit) but wraps only the ones it shows.
    pub(in crate::tui) wrapped: std::cell::Cell<Option<(usize, usize)>>,
}

/// The log and its scroll position.
#[derive(Debug, Default)]
pub struct ActivityLog {
    pub(in crate::tui) entries: VecDeque<Entry>,
    /// Lines up from the newest entry (0 = following the newest).
    pub(in crate::tui) back: u16,
}

impl ActivityLog {
    /// Add a line (sanitised here, and mirrored to the log file).
    pub fn push(&mut self, at: DateTime<Utc>, level: Level, text: impl Into<String>) {
        let text = sanitize(&text.into(), false);
        tracing::info!(target: "tokenscope::tui::activity", "{text}");
        self.entries.push_back(Entry {
            at,
            level,
            text,
            wrapped: std::cell::Cell::new(None),
        });
        while self.entries.len() > ACTIVITY_CAP {
            self.entries.pop_front();
        }
        // Keep a scrolled-back view on the same entries.
        if self.back > 0 {
            self.back = self.back.saturating_add(1);
        }
    }

    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &Entry> {
        self.entries.iter()
    }

    /// Scroll by `delta` lines ("up" is back in time), within what the last frame could show.
    pub fn scroll_by(&mut self, delta: i32, max: u16) {
        self.back = (self.back as i32 - delta).clamp(0, max as i32) as u16;
    }
}
