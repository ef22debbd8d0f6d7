//! Terminal input as [`Msg`]s: which events the dashboard reads, which it ignores, and the
//! panic test hook. Owns no state; draws nothing.

use std::io;

use crossterm::event::{Event, MouseButton, MouseEventKind};
use tokio::sync::mpsc;

use super::{PANIC_HOOK_ENV, PanicIn};
use crate::tui::msg::Msg;
use crate::tui::terminal::Interrupt;

/// The terminal stream's next item as a message: `None` for events the dashboard ignores,
/// `Quit` when the input ended, an error when it failed.
pub(super) fn from_input(
    ev: Option<io::Result<Event>>,
    panic_on_key: Option<PanicIn>,
) -> anyhow::Result<Option<Msg>> {
    match ev {
        Some(Ok(Event::Key(_))) if panic_on_key == Some(PanicIn::Loop) => {
            panic!("{PANIC_HOOK_ENV}=1: forced panic on the first key (test hook)")
        }
        Some(Ok(Event::Key(k))) if panic_on_key == Some(PanicIn::Task) => {
            tokio::spawn(async {
                panic!("{PANIC_HOOK_ENV}=task: forced panic in a background task (test hook)")
            });
            Ok(Some(Msg::Key(k)))
        }
        Some(Ok(ev)) => Ok(from_event(ev)),
        Some(Err(e)) => {
            tracing::error!(error = %e, "terminal input failed");
            Err(anyhow::Error::new(e).context("reading terminal input"))
        }
        None => Ok(Some(Msg::Quit)),
    }
}

/// The next interrupt, or never when there is no session (tests).
pub(super) async fn next_interrupt(
    rx: &mut Option<mpsc::UnboundedReceiver<Interrupt>>,
) -> Option<Interrupt> {
    match rx {
        Some(rx) => rx.recv().await,
        None => std::future::pending().await,
    }
}

/// A terminal event as a message; `None` for events the dashboard ignores.
pub(super) fn from_event(ev: Event) -> Option<Msg> {
    match ev {
        Event::Key(k) => Some(Msg::Key(k)),
        Event::Paste(p) => Some(Msg::Paste(p)),
        // Presses and the wheel; a release, a drag or (where a terminal sends it anyway) a
        // motion report would cost a redraw for nothing.
        Event::Mouse(m) => match m.kind {
            MouseEventKind::Down(MouseButton::Left)
            | MouseEventKind::ScrollUp
            | MouseEventKind::ScrollDown => Some(Msg::Mouse(m)),
            _ => None,
        },
        Event::Resize(..) => Some(Msg::Resize),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use crossterm::event::{KeyModifiers, MouseButton, MouseEvent, MouseEventKind};

    use super::*;

    fn mouse(kind: MouseEventKind) -> Event {
        Event::Mouse(MouseEvent {
            kind,
            column: 3,
            row: 4,
            modifiers: KeyModifiers::NONE,
        })
    }

    #[test]
    fn clicks_and_the_wheel_are_read_and_other_mouse_reports_ignored() {
        for kind in [
            MouseEventKind::Down(MouseButton::Left),
            MouseEventKind::ScrollUp,
            MouseEventKind::ScrollDown,
        ] {
            assert!(
                matches!(from_event(mouse(kind)), Some(Msg::Mouse(m)) if m.kind == kind && (m.column, m.row) == (3, 4)),
                "{kind:?}"
            );
        }
        // Each would cost a redraw for nothing.
        for kind in [
            MouseEventKind::Up(MouseButton::Left),
            MouseEventKind::Down(MouseButton::Right),
            MouseEventKind::Drag(MouseButton::Left),
            MouseEventKind::Moved,
            MouseEventKind::ScrollLeft,
        ] {
            assert!(from_event(mouse(kind)).is_none(), "{kind:?}");
        }
    }
}
