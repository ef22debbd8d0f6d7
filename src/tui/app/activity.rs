//! The Activity pane's log: timestamped, levelled, sanitised lines, bounded to
//! [`ACTIVITY_CAP`] entries, plus how far back the user has scrolled.
//!
//! Owns the entries and their scroll offset; it does not decide what is worth logging (the
//! App does) and draws nothing (the view wraps and shows them).

use std::collections::VecDeque;

use chrono::{DateTime, Utc};

use crate::text::sanitize;
use crate::tui::msg::ProfileId;

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
    /// The profile it is about (`None`: the dashboard as a whole).
    pub profile: Option<ProfileId>,
    /// How many times it happened in a row (folded into one line, shown as "×3").
    pub count: u32,
    /// Entries with the same key in a row fold into the newest (`retry #3 in 8s` and
    /// `retry #4 in 16s`); without one only identical lines fold.
    pub(in crate::tui) fold: Option<&'static str>,
    /// (wrap width, count, lines) as of the last frame: the view counts every entry's lines
    /// on each frame (for the scroll limit) but wraps only the ones it shows.
    pub(in crate::tui) wrapped: std::cell::Cell<Option<(usize, u32, usize)>>,
}

impl Entry {
    /// The line as shown: the text, and how often when it repeated.
    pub fn shown(&self) -> String {
        if self.count > 1 {
            format!("{} (×{})", self.text, self.count)
        } else {
            self.text.clone()
        }
    }
}

/// The log and its scroll position.
#[derive(Debug, Default)]
pub struct ActivityLog {
    pub(in crate::tui) entries: VecDeque<Entry>,
    /// Lines up from the newest entry (0 = following the newest).
    pub(in crate::tui) back: u16,
    /// Show every profile's entries, not only the active one's (and the dashboard's).
    pub(in crate::tui) all: bool,
}

impl ActivityLog {
    /// Add a line (sanitised here, and mirrored to the log file) about `profile`; the same
    /// line again (or one with the same `fold` key) right after folds into it.
    pub fn push(
        &mut self,
        at: DateTime<Utc>,
        level: Level,
        text: impl Into<String>,
        profile: Option<ProfileId>,
        fold: Option<&'static str>,
    ) {
        let text = sanitize(&text.into(), false);
        tracing::info!(target: "tokenscope::tui::activity", "{text}");
        if let Some(last) = self.entries.back_mut()
            && last.profile == profile
            && last.level == level
            && (last.text == text || (fold.is_some() && last.fold == fold))
        {
            last.count = last.count.saturating_add(1);
            last.at = at;
            last.text = text;
            return;
        }
        self.entries.push_back(Entry {
            at,
            level,
            text,
            profile,
            count: 1,
            fold,
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

    /// What the pane shows: the active profile's entries and the dashboard's, or all.
    pub fn visible(&self, active: ProfileId) -> impl DoubleEndedIterator<Item = &Entry> {
        let all = self.all;
        self.entries
            .iter()
            .filter(move |e| all || e.profile.is_none_or(|p| p == active))
    }

    /// Scroll by `delta` lines ("up" is back in time), within what the last frame could show.
    pub fn scroll_by(&mut self, delta: i32, max: u16) {
        self.back = (self.back as i32 - delta).clamp(0, max as i32) as u16;
    }
}
