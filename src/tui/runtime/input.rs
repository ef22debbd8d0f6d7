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
