//! The city box: the text being typed, the history of cities called (↑/↓, with the draft kept
//! while browsing), and the message under the box when input is refused.
//!
//! Owns editing and validation of the city name; it starts no call (the App does, with the
//! city this hands it) and draws nothing.

use crossterm::event::{Event, KeyEvent};
use tui_input::Input;
use tui_input::backend::crossterm::EventHandler;

use crate::text::sanitize;

/// Cities remembered for ↑/↓.
pub const HISTORY_CAP: usize = 50;

/// What the box holds at most: well past any city name (Enter refuses more than
/// `api::MAX_CITY_LEN`), short enough that a pasted megabyte costs nothing.
pub const BOX_CAP: usize = 256;

/// The city box's state.
#[derive(Debug, Default)]
pub struct CityBox {
    pub(in crate::tui) input: Input,
    history: Vec<String>,
    /// Where ↑/↓ is in `history` (`None`: editing the draft).
    history_pos: Option<usize>,
    /// What was typed before ↑ started browsing the history.
    draft: String,
    /// A message for the box (refused input), cleared by the next edit.
    pub(in crate::tui) error: Option<String>,
}

impl CityBox {
    pub fn value(&self) -> &str {
        self.input.value()
    }

    pub fn is_empty(&self) -> bool {
        self.input.value().is_empty()
    }

    /// The last city called, if any.
    pub fn last(&self) -> Option<&str> {
        self.history.last().map(String::as_str)
    }

    /// The cities called, oldest first.
    pub fn history(&self) -> &[String] {
        &self.history
    }

    /// Replace the history (another profile's, or one remembered from an earlier run): valid
    /// city names only, each once, the newest [`HISTORY_CAP`] kept.
    pub fn set_history(&mut self, cities: Vec<String>) {
        let mut kept: Vec<String> = Vec::new();
        for c in cities {
            if let Ok(c) = crate::api::validate_city(&c) {
                let c = c.to_string();
                kept.retain(|k| *k != c);
                kept.push(c);
            }
        }
        let extra = kept.len().saturating_sub(HISTORY_CAP);
        kept.drain(..extra);
        self.history = kept;
        self.history_pos = None;
    }

    /// Replace the text (history browsing and the compare view's "last city").
    pub fn set(&mut self, value: String) {
        self.input = Input::new(value);
    }

    /// Esc: clear the box and its message.
    pub fn clear(&mut self) {
        self.input.reset();
        self.error = None;
        self.history_pos = None;
    }

    /// A key the box edits with; false when it changed nothing (or the box is full).
    pub fn edit(&mut self, k: KeyEvent) -> bool {
        let grows = matches!(k.code, crossterm::event::KeyCode::Char(_));
        if grows && self.input.value().chars().count() >= BOX_CAP {
            self.error = Some(format!("the city box holds at most {BOX_CAP} characters"));
            return true;
        }
        if self.input.handle_event(&Event::Key(k)).is_some() {
            self.error = None;
            self.history_pos = None;
            true
        } else {
            false
        }
    }

    /// Pasted text, appended without its control characters, up to [`BOX_CAP`] (the rest is
    /// dropped, with a message saying so).
    pub fn paste(&mut self, text: &str) {
        let room = BOX_CAP.saturating_sub(self.input.value().chars().count());
        let mut clean = text.chars().filter(|c| !c.is_control());
        let kept: String = clean.by_ref().take(room).collect();
        let dropped = clean.count();
        let value = format!("{}{}", self.input.value(), kept);
        self.input = Input::new(value);
        self.error = (dropped > 0)
            .then(|| format!("pasted text cut: the city box holds at most {BOX_CAP} characters"));
    }

    /// ↑ (`back`) / ↓ through the history; leaving it at the bottom restores the draft.
    pub fn history_step(&mut self, back: bool) {
        if self.history.is_empty() {
            return;
        }
        let last = self.history.len() - 1;
        let next = match (self.history_pos, back) {
            (None, true) => {
                self.draft = self.input.value().to_string();
                Some(last)
            }
            (None, false) => return,
            (Some(i), true) => Some(i.saturating_sub(1)),
            (Some(i), false) if i >= last => None,
            (Some(i), false) => Some(i + 1),
        };
        self.history_pos = next;
        let value = match next {
            Some(i) => self.history[i].clone(),
            None => std::mem::take(&mut self.draft),
        };
        self.input = Input::new(value);
    }

    /// The city in the box, validated and remembered in the history; `Err` with the message
    /// now shown under the box when it is not a city name.
    pub fn take(&mut self) -> Result<String, String> {
        let raw = self.input.value().to_string();
        let city = match crate::api::validate_city(&raw) {
            Ok(c) => c.to_string(),
            Err(e) => {
                let text = sanitize(&e.to_string(), false);
                self.error = Some(text.clone());
                return Err(text);
            }
        };
        self.error = None;
        self.history_pos = None;
        if self.history.last() != Some(&city) {
            self.history.retain(|h| h != &city);
            self.history.push(city.clone());
            if self.history.len() > HISTORY_CAP {
                self.history.remove(0);
            }
        }
        Ok(city)
    }
}
