//! Keys: the key table ([`crate::tui::keymap`]) says which [`Action`] a key means here;
//! [`App::act`] carries the action out. The only key logic outside the table is typing in
//! the city box (a key the table does not bind there is text).

use crossterm::event::{KeyEvent, KeyEventKind};

use super::{App, Focus, Level, Overlay};
use crate::tui::keymap::{self, Action, Context, Scope};
use crate::tui::msg::{Effect, ProfileId};

impl App {
    /// What is on screen, as the key table sees it.
    pub(in crate::tui) fn key_context(&self) -> Context {
        Context {
            popup: match self.overlay {
                Overlay::None => None,
                Overlay::Help => Some(Scope::Help),
                Overlay::Admin { .. } => Some(Scope::Admin),
                Overlay::ConfirmCopy(_) => Some(Scope::Confirm),
                Overlay::Copy { .. } => Some(Scope::CopyMenu),
                Overlay::Profiles { .. } => Some(Scope::Picker),
                Overlay::Compare => Some(Scope::Compare),
                Overlay::Setup => Some(Scope::SetupView),
                Overlay::Palette => Some(Scope::Palette),
            },
            city_focused: self.focus == Focus::City,
            activity_focused: self.focus == Focus::Activity,
            token_focused: self.focus == Focus::Token,
            claims: self.focus == Focus::Token && self.shows_claims(),
            demo: self.demo.is_some(),
            multi: self.profiles.len() > 1,
        }
    }

    pub(super) fn on_key(&mut self, k: KeyEvent) {
        if k.kind == KeyEventKind::Release {
            self.dirty = false;
            return;
        }
        let cx = self.key_context();
        // A key clears the footer message; the y/n prompt is answered by this key.
        self.status = None;
        match keymap::lookup(&k, &cx) {
            Some(action) => self.act(action),
            None if cx.popup.is_none() && cx.city_focused => {
                if !self.city.edit(k) {
                    self.dirty = false;
                }
            }
            None if cx.popup == Some(Scope::Palette) => {
                if !self.palette_edit(k) {
                    self.dirty = false;
                }
            }
            None => self.dirty = false,
        }
    }

    /// Carry out `action` (from a key, the command palette or the mouse).
    pub(super) fn act(&mut self, action: Action) {
        match action {
            Action::Quit => self.quit = true,
            Action::FocusNext => self.focus = self.focus.step(true),
            Action::FocusPrev => self.focus = self.focus.step(false),
            Action::FocusCity => self.focus = Focus::City,
            Action::Call => self.submit(),
            Action::Help => {
                self.overlay = Overlay::Help;
                self.help_scroll = 0;
            }
            Action::Profiles => self.open_picker(),
            Action::Compare => self.open_compare(),
            Action::Refresh => self.refresh(self.active),
            Action::ToggleRaw => {
                self.raw = !self.raw;
                self.scroll.token = 0;
                self.focus = Focus::Token;
            }
            Action::Copy => self.open_copy(),
            Action::Admin => {
                if self.demo.is_some() {
                    self.overlay = Overlay::Admin { selected: 0 };
                } else {
                    self.set_status(
                        Level::Info,
                        "the admin popup changes a sandbox tenant: run `tokenscope demo`, or point this profile's authority at a local `tokenscope sandbox`",
                    );
                }
            }
            Action::Up => self.move_in_pane(-1),
            Action::Down => self.move_in_pane(1),
            Action::PageUp => self.move_in_pane(-10),
            Action::PageDown => self.move_in_pane(10),
            Action::Home => self.move_in_pane(i32::MIN / 2),
            Action::End => self.move_in_pane(i32::MAX / 2),
            Action::HistoryPrev => self.city.history_step(true),
            Action::HistoryNext => self.city.history_step(false),
            Action::EscapeCity => {
                if self.city.is_empty() {
                    // Leave the box, so that q quits and the letter keys act.
                    self.city.error = None;
                    self.focus = self.focus.step(true);
                } else {
                    self.city.clear();
                }
            }
            Action::ScrollWeatherUp => {
                self.scroll.weather = self.scroll.weather.saturating_sub(10);
            }
            Action::ScrollWeatherDown => {
                self.scroll.weather =
                    (self.scroll.weather.saturating_add(10)).min(self.max_scroll.get().weather);
            }
            // Esc in the Setup view stops a wait first, then closes.
            Action::Close
                if self.overlay == Overlay::Setup
                    && self.profiles[self.active.0].wait.is_some() =>
            {
                self.stop_wait(self.active, "stopped waiting");
            }
            Action::Close => self.overlay = Overlay::None,
            Action::MenuUp | Action::MenuDown if self.overlay == Overlay::Palette => {
                self.palette_step(action == Action::MenuDown)
            }
            Action::MenuUp | Action::MenuDown => self.menu_step(action == Action::MenuDown),
            Action::Apply if self.overlay == Overlay::Palette => self.palette_run(),
            Action::Apply => match self.overlay {
                Overlay::Admin { selected } => self.apply_admin(selected),
                Overlay::Profiles { selected } => self.switch_to(ProfileId(selected)),
                Overlay::Copy { selected } => self.copy_pick(selected),
                Overlay::Compare => self.switch_to(ProfileId(self.compare_selected)),
                _ => self.dirty = false,
            },
            Action::Pick(i) => match self.overlay {
                Overlay::Admin { .. } => self.apply_admin(i),
                Overlay::Copy { .. } => self.copy_pick(i),
                Overlay::Profiles { .. } if i < self.profiles.len() => {
                    self.overlay = Overlay::Profiles { selected: i };
                    self.switch_to(ProfileId(i));
                }
                Overlay::Compare if i < self.profiles.len() => {
                    self.compare_selected = i;
                    self.switch_to(ProfileId(i));
                }
                _ => self.dirty = false,
            },
            Action::CallAll => self.call_all(),
            Action::RefreshAll => {
                self.glog(Level::Info, "refresh requested for every running profile");
                let started: Vec<ProfileId> = self
                    .ids()
                    .filter(|id| self.profiles[id.0].started)
                    .collect();
                for id in started {
                    self.effects.push(Effect::Refresh { profile: id });
                }
            }
            Action::ConfirmYes => match self.overlay {
                Overlay::ConfirmCopy(what) => self.copy_confirmed(what),
                _ => self.dirty = false,
            },
            Action::ConfirmNo => {
                self.overlay = Overlay::None;
                self.set_status(Level::Info, "copy cancelled");
            }
            Action::Suspend => self.effects.push(Effect::Suspend),
            Action::Setup => self.open_setup(),
            Action::ReadSetup => self.read_setup(self.active, true),
            Action::WaitForRole => self.toggle_wait(),
            Action::ToggleActivity => {
                self.activity.all = !self.activity.all;
                self.activity.back = 0;
            }
            Action::Palette => self.open_palette(),
        }
    }

    /// ↑/↓ in a popup's list (wrapping around).
    fn menu_step(&mut self, down: bool) {
        let step = |selected: usize, n: usize| {
            let n = n.max(1);
            if down {
                (selected + 1) % n
            } else {
                (selected + n - 1) % n
            }
        };
        self.overlay = match self.overlay {
            Overlay::Admin { selected } => Overlay::Admin {
                selected: step(selected, self.admin_ops().len()),
            },
            Overlay::Profiles { selected } => Overlay::Profiles {
                selected: step(selected, self.profiles.len()),
            },
            Overlay::Copy { selected } => Overlay::Copy {
                selected: step(selected, super::CopyWhat::ALL.len()),
            },
            Overlay::Compare => {
                self.compare_selected = step(self.compare_selected, self.profiles.len());
                Overlay::Compare
            }
            other => other,
        };
    }

    /// The Token pane lists the decoded claims (not raw JSON, and there is a token).
    pub(super) fn shows_claims(&self) -> bool {
        !self.raw && self.jwt().is_some()
    }

    /// Scroll the focused pane (or the Setup view) by `delta` lines, or in the claims list
    /// move the selection.
    pub(super) fn move_in_pane(&mut self, delta: i32) {
        if self.overlay == Overlay::Setup {
            let max = self.max_scroll.get().setup;
            self.setup_scroll = (self.setup_scroll as i32 + delta).clamp(0, max as i32) as u16;
            return;
        }
        if self.overlay == Overlay::Help {
            let max = self.max_scroll.get().help;
            self.help_scroll = (self.help_scroll as i32 + delta).clamp(0, max as i32) as u16;
            return;
        }
        self.scroll_pane(self.focus, delta);
    }

    /// Scroll `pane` by `delta` lines (focused or not: the wheel scrolls the pane under the
    /// pointer), or in the claims list move the selection by `delta` claims.
    pub(super) fn scroll_pane(&mut self, pane: Focus, delta: i32) {
        if pane == Focus::Token && self.shows_claims() {
            match delta {
                d if d <= i32::MIN / 2 => self.first_claim(),
                d => self.select_claim(d),
            }
            return;
        }
        // The limits are what the last frame could show; see `max_scroll`.
        let max = self.max_scroll.get();
        let apply = |v: u16, max: u16| -> u16 { (v as i32 + delta).clamp(0, max as i32) as u16 };
        match pane {
            Focus::Token => self.scroll.token = apply(self.scroll.token, max.token),
            Focus::Weather => self.scroll.weather = apply(self.scroll.weather, max.weather),
            Focus::Config => self.scroll.config = apply(self.scroll.config, max.config),
            // Activity scrolls from the newest entry: "up" goes back in time.
            Focus::Activity => self.activity.scroll_by(delta, max.activity),
            Focus::City => {}
        }
    }
}
