//! The mouse: a left click focuses the pane under it, selects a popup's row (a second click
//! on the selected row applies it, as Enter does) or, outside a popup, closes it (as Esc
//! does; the y/n prompt only takes y or n); the wheel scrolls what is under the pointer
//! without moving the focus.
//!
//! What is where comes from the last frame: the view records the rectangles it drew in a
//! [`HitMap`] (as it reports scroll limits in `max_scroll`), so there is no second copy of
//! the layout here. Carries actions out through the same paths as keys ([`App::act`]).

use crossterm::event::{MouseButton, MouseEvent, MouseEventKind};
use ratatui::layout::{Position, Rect};

use super::{App, Focus, Overlay};
use crate::tui::keymap::Action;

/// Lines one wheel notch scrolls a pane (a list moves its selection by one instead: a popup's
/// list, and the claims in the Token pane while it has focus).
pub const WHEEL_LINES: i32 = 3;

/// Where the last frame drew what a click can land on. Written by the view, read here.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HitMap {
    /// The panes drawn (a pane hidden at this width is absent).
    panes: Vec<(Focus, Rect)>,
    /// The popup on top, when one is open.
    popup: Option<Rect>,
    /// The popup's selectable rows: where each is, and its index in the popup's list.
    rows: Vec<(Rect, usize)>,
}

impl HitMap {
    /// Forget the last frame (the view starts every frame with this).
    pub fn clear(&mut self) {
        self.panes.clear();
        self.popup = None;
        self.rows.clear();
    }

    /// Pane `focus` was drawn at `area`.
    pub fn pane(&mut self, focus: Focus, area: Rect) {
        if !area.is_empty() {
            self.panes.push((focus, area));
        }
    }

    /// The popup on top was drawn at `area`.
    pub fn popup(&mut self, area: Rect) {
        self.popup = Some(area);
    }

    /// Selectable rows drawn as lines of `area` (a popup's inner area, or the part of it
    /// that holds the list): `(index, first line, lines)` each, lines counted from the top
    /// of `area`. What falls below `area` was not drawn and is not recorded.
    pub fn rows(&mut self, area: Rect, rows: impl IntoIterator<Item = (usize, usize, usize)>) {
        for (index, line, height) in rows {
            let Ok(line) = u16::try_from(line) else {
                continue;
            };
            if line >= area.height {
                continue;
            }
            let height = u16::try_from(height)
                .unwrap_or(u16::MAX)
                .min(area.height - line);
            let rect = Rect {
                x: area.x,
                y: area.y + line,
                width: area.width,
                height,
            };
            if !rect.is_empty() {
                self.rows.push((rect, index));
            }
        }
    }

    /// The pane at this cell, if any.
    pub fn pane_at(&self, at: Position) -> Option<Focus> {
        self.panes
            .iter()
            .find(|(_, r)| r.contains(at))
            .map(|(f, _)| *f)
    }

    /// The popup's row at this cell, if any.
    pub fn row_at(&self, at: Position) -> Option<usize> {
        self.rows
            .iter()
            .find(|(r, _)| r.contains(at))
            .map(|(_, i)| *i)
    }

    /// The cell is on the popup (border included).
    pub fn on_popup(&self, at: Position) -> bool {
        self.popup.is_some_and(|r| r.contains(at))
    }
}

impl App {
    /// A click or a wheel notch (see the module docs).
    pub(super) fn on_mouse(&mut self, m: MouseEvent) {
        let at = Position::new(m.column, m.row);
        match m.kind {
            MouseEventKind::Down(MouseButton::Left) => self.click(at),
            MouseEventKind::ScrollDown => self.wheel(at, 1),
            MouseEventKind::ScrollUp => self.wheel(at, -1),
            _ => self.dirty = false,
        }
    }

    fn click(&mut self, at: Position) {
        let (pane, on_popup, row) = {
            let hits = self.hits.borrow();
            (hits.pane_at(at), hits.on_popup(at), hits.row_at(at))
        };
        match self.overlay {
            // The prompt before a credential is copied is answered with y or n, never by a
            // stray click.
            Overlay::ConfirmCopy(_) => self.dirty = false,
            Overlay::None => match pane {
                Some(p) if p != self.focus => {
                    self.status = None;
                    self.focus = p;
                }
                _ => self.dirty = false,
            },
            _ if !on_popup => {
                self.status = None;
                self.act(Action::Close);
            }
            _ => match (row, self.popup_selection()) {
                (Some(i), Some((selected, _))) if i == selected => {
                    self.status = None;
                    self.act(Action::Apply);
                }
                (Some(i), Some(_)) => self.select_row(i),
                _ => self.dirty = false,
            },
        }
    }

    /// One wheel notch, `notch` -1 (up) or 1 (down), over the cell `at`.
    fn wheel(&mut self, at: Position, notch: i32) {
        let (pane, on_popup) = {
            let hits = self.hits.borrow();
            (hits.pane_at(at), hits.on_popup(at))
        };
        match self.overlay {
            Overlay::None => match pane {
                Some(Focus::City) | None => self.dirty = false,
                // The focused claims list moves its selection, a claim a notch (the view
                // follows it); unfocused, where no selection shows, it scrolls by lines.
                Some(Focus::Token) if self.shows_claims() && self.focus == Focus::Token => {
                    self.scroll_pane(Focus::Token, notch)
                }
                Some(Focus::Token) if self.shows_claims() => {
                    let max = i32::from(self.max_scroll.get().token);
                    let to = i32::from(self.claims.offset.get()) + notch * WHEEL_LINES;
                    self.claims.offset.set(to.clamp(0, max) as u16);
                }
                Some(p) => self.scroll_pane(p, notch * WHEEL_LINES),
            },
            _ if !on_popup => self.dirty = false,
            Overlay::Setup => self.move_in_pane(notch * WHEEL_LINES),
            _ => match self.popup_selection() {
                Some((selected, n)) => {
                    let to = (selected as i64 + i64::from(notch)).clamp(0, n as i64 - 1);
                    self.select_row(to as usize);
                }
                None => self.dirty = false,
            },
        }
    }

    /// The open popup's selected row and how many rows it has, for popups with a list.
    fn popup_selection(&self) -> Option<(usize, usize)> {
        let (selected, n) = match self.overlay {
            Overlay::Admin { selected } => (selected, self.admin_ops().len()),
            Overlay::Copy { selected } => (selected, super::CopyWhat::ALL.len()),
            Overlay::Profiles { selected } => (selected, self.profiles.len()),
            Overlay::Compare => (self.compare_selected, self.profiles.len()),
            Overlay::Palette => (self.palette.selected, self.palette_entries().len()),
            _ => return None,
        };
        (n > 0).then_some((selected, n))
    }

    /// Select row `i` of the open popup's list.
    fn select_row(&mut self, i: usize) {
        match &mut self.overlay {
            Overlay::Admin { selected }
            | Overlay::Copy { selected }
            | Overlay::Profiles { selected } => *selected = i,
            Overlay::Compare => self.compare_selected = i,
            Overlay::Palette => self.palette.selected = i,
            _ => self.dirty = false,
        }
    }
}

#[cfg(test)]
mod tests;
