//! The command palette (`:` or Ctrl-P): every command of the key table by name, filtered as
//! you type, run through [`App::act`] exactly as its key would run it. The entries come from
//! [`keymap::filter_commands`]; this file holds only the filter text and the selection.

use crossterm::event::{Event, KeyEvent};
use tui_input::Input;
use tui_input::backend::crossterm::EventHandler;

use super::{App, Overlay};
use crate::tui::keymap::{self, Binding};

/// Longest filter kept (a command's words are short; a paste is cut here).
const FILTER_CAP: usize = 64;

/// The palette's state while it is open.
#[derive(Debug, Clone, Default)]
pub struct Palette {
    pub input: Input,
    /// Index into the filtered entries.
    pub selected: usize,
}

impl App {
    /// The palette's entries for what is typed, best first.
    pub(in crate::tui) fn palette_entries(&self) -> Vec<&'static Binding> {
        keymap::filter_commands(self.palette.input.value(), self.demo.is_some())
    }

    pub(super) fn open_palette(&mut self) {
        self.palette = Palette::default();
        self.overlay = Overlay::Palette;
    }

    /// A key the table does not bind in the palette: it edits the filter. False when it
    /// changed nothing.
    pub(super) fn palette_edit(&mut self, k: KeyEvent) -> bool {
        let grows = matches!(k.code, crossterm::event::KeyCode::Char(_));
        if grows && self.palette.input.value().chars().count() >= FILTER_CAP {
            return false;
        }
        let changed = self.palette.input.handle_event(&Event::Key(k)).is_some();
        if changed {
            self.palette.selected = 0;
        }
        changed
    }

    /// ↑/↓ in the palette (wrapping around).
    pub(super) fn palette_step(&mut self, down: bool) {
        let n = self.palette_entries().len().max(1);
        let s = self.palette.selected;
        self.palette.selected = if down { (s + 1) % n } else { (s + n - 1) % n };
    }

    /// Enter: close the palette and run the selected command as its key would.
    pub(super) fn palette_run(&mut self) {
        let Some(b) = self.palette_entries().get(self.palette.selected).copied() else {
            self.dirty = false;
            return;
        };
        self.overlay = Overlay::None;
        self.act(b.action);
    }
}
