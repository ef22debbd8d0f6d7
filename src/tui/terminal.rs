//! The terminal session: taking the terminal over (raw mode, alternate screen, bracketed
//! paste, mouse clicks and wheel unless `--no-mouse`) and giving it back on every way out — a normal quit, a signal (INT, QUIT, TERM,
//! HUP), a panic on any task — and around a suspension (Ctrl-Z or SIGTSTP: the terminal is
//! restored while stopped and taken again on SIGCONT).
//!
//! Signals and panics become [`Interrupt`]s on a channel the main loop reads (see
//! `Runtime::attach`), so the loop ends the normal way and everything with a `Drop` (the
//! demo's temporary directory with its secrets) is cleaned up. Owns no UI state.

use std::io::{self, Write as _};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, OnceLock};

use crossterm::event::{DisableBracketedPaste, DisableMouseCapture, EnableBracketedPaste};
use crossterm::execute;
use crossterm::terminal::{
    EnterAlternateScreen, LeaveAlternateScreen, disable_raw_mode, enable_raw_mode,
};
use ratatui::DefaultTerminal;
use ratatui::backend::CrosstermBackend;
use tokio::sync::mpsc;

/// Something from outside the dashboard that the main loop must act on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Interrupt {
    /// A signal asking to quit (its name, for the log).
    Quit(&'static str),
    /// Ctrl-Z from the shell's job control (SIGTSTP): give the terminal back and stop.
    Suspend,
    /// Continued after a stop we did not arrange (SIGSTOP from outside): take the terminal
    /// again and redraw.
    Resumed,
    /// A task panicked: the panic hook already restored the terminal and printed the message.
    Panicked,
}

/// Where the panic hook reports (one process-wide hook, pointed at the current session).
static PANIC_TX: Mutex<Option<mpsc::UnboundedSender<Interrupt>>> = Mutex::new(None);

/// Install, once, a panic hook that gives the terminal back before the message is printed
/// and tells the current session, so a panic in a background task ends the dashboard
/// instead of leaving it drawing over a cooked terminal.
fn install_panic_hook() {
    static ONCE: OnceLock<()> = OnceLock::new();
    ONCE.get_or_init(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            restore();
            previous(info);
            if let Ok(tx) = PANIC_TX.lock()
                && let Some(tx) = tx.as_ref()
            {
                let _ = tx.send(Interrupt::Panicked);
            }
        }));
    });
}

/// The terminal is ours (raw, alternate screen) right now.
static TAKEN: AtomicBool = AtomicBool::new(false);

/// This session captures the mouse (set by [`Session::start`]; every take enables it, every
/// restore disables it, so a suspension or a panic never leaves the shell reporting clicks).
static MOUSE: AtomicBool = AtomicBool::new(false);

/// Mouse reporting for clicks and the wheel only: normal tracking (`?1000h`: press, release,
/// wheel) in SGR coordinates (`?1006h`, any column). Not crossterm's `EnableMouseCapture`,
/// which also asks for every motion (`?1003h`): the dashboard ignores motion, and a report
/// per pointer move would wake the loop for nothing (and cross an ssh link).
/// [`DisableMouseCapture`] undoes it (it turns off every mode, these two included).
struct EnableClickCapture;

impl crossterm::Command for EnableClickCapture {
    fn write_ansi(&self, f: &mut impl std::fmt::Write) -> std::fmt::Result {
        f.write_str("\x1b[?1000h\x1b[?1006h")
    }

    #[cfg(windows)]
    fn execute_winapi(&self) -> io::Result<()> {
        crossterm::Command::execute_winapi(&crossterm::event::EnableMouseCapture)
    }

    #[cfg(windows)]
    fn is_ansi_code_supported(&self) -> bool {
        crossterm::Command::is_ansi_code_supported(&crossterm::event::EnableMouseCapture)
    }
}

/// Give the terminal back: cooked mode, main screen, no bracketed paste, no mouse reports,
/// cursor shown. Only once per take: the panic hook and then the session's drop both call
/// it, and a second restore would print its escapes after the panic message.
pub fn restore() {
    if !TAKEN.swap(false, Ordering::SeqCst) {
        return;
    }
    let _ = disable_raw_mode();
    let mut out = io::stdout();
    if MOUSE.load(Ordering::SeqCst) {
        let _ = execute!(out, DisableMouseCapture);
    }
    let _ = execute!(
        out,
        DisableBracketedPaste,
        LeaveAlternateScreen,
        crossterm::cursor::Show
    );
    let _ = out.flush();
}

/// Take the terminal: raw mode, alternate screen, bracketed paste (a paste arrives as one
/// event, not thousands of keys), and the mouse unless the session leaves it alone.
fn enter() -> io::Result<()> {
    TAKEN.store(true, Ordering::SeqCst);
    enable_raw_mode()?;
    let mut out = io::stdout();
    execute!(out, EnterAlternateScreen, EnableBracketedPaste)?;
    if MOUSE.load(Ordering::SeqCst) {
        execute!(out, EnableClickCapture)?;
    }
    Ok(())
}

/// The terminal, taken for the dashboard, and the interrupts from outside.
pub struct Session {
    pub terminal: DefaultTerminal,
    /// Taken by the runtime when it attaches; interrupts before that wait here.
    interrupts: Option<mpsc::UnboundedReceiver<Interrupt>>,
    signals: Option<tokio::task::JoinHandle<()>>,
}

impl Session {
    /// Listen for signals (first, so that one arriving during set-up is not lost), install
    /// the panic hook, take the terminal (capturing the mouse when `mouse`; otherwise the
    /// terminal keeps it, for selecting text). Must be called inside a tokio runtime.
    pub fn start(mouse: bool) -> io::Result<Session> {
        let (tx, rx) = mpsc::unbounded_channel();
        let signals = spawn_signal_task(tx.clone());
        if let Ok(mut p) = PANIC_TX.lock() {
            *p = Some(tx);
        }
        install_panic_hook();
        MOUSE.store(mouse, Ordering::SeqCst);
        if let Err(e) = enter() {
            restore();
            return Err(e);
        }
        let terminal = ratatui::Terminal::new(CrosstermBackend::new(io::stdout()))?;
        Ok(Session {
            terminal,
            interrupts: Some(rx),
            signals,
        })
    }

    /// The interrupts, for the main loop (once).
    pub fn take_interrupts(&mut self) -> Option<mpsc::UnboundedReceiver<Interrupt>> {
        self.interrupts.take()
    }

    /// Wait for an interrupt before the main loop runs (the demo's start-up), `None` when
    /// the loop took them.
    pub async fn interrupted(&mut self) -> Option<Interrupt> {
        self.interrupts.as_mut()?.recv().await
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        if let Some(s) = self.signals.take() {
            s.abort();
        }
        if let Ok(mut p) = PANIC_TX.lock() {
            *p = None;
        }
        restore();
    }
}

/// Ctrl-Z: give the terminal back, stop this process the way the shell would, and take the
/// terminal again when continued (`fg`). The caller redraws everything afterwards.
#[cfg(unix)]
pub fn suspend() -> io::Result<()> {
    restore();
    // SAFETY: raise(3) with a valid signal number has no memory-safety preconditions.
    // SIGSTOP cannot be caught: the process stops here until SIGCONT.
    unsafe {
        libc::raise(libc::SIGSTOP);
    }
    enter()
}

#[cfg(not(unix))]
pub fn suspend() -> io::Result<()> {
    Ok(())
}

/// After an outside stop and continue: the shell may have reset the terminal's modes.
pub fn resume() -> io::Result<()> {
    enter()
}

#[cfg(unix)]
fn spawn_signal_task(tx: mpsc::UnboundedSender<Interrupt>) -> Option<tokio::task::JoinHandle<()>> {
    use tokio::signal::unix::{SignalKind, signal};
    let listen = |kind: SignalKind| match signal(kind) {
        Ok(s) => Some(s),
        Err(e) => {
            tracing::warn!(error = %e, "cannot listen for a signal");
            None
        }
    };
    let mut int = listen(SignalKind::interrupt())?;
    let mut quit = listen(SignalKind::quit())?;
    let mut term = listen(SignalKind::terminate())?;
    let mut hup = listen(SignalKind::hangup())?;
    let mut tstp = listen(SignalKind::from_raw(libc::SIGTSTP))?;
    let mut cont = listen(SignalKind::from_raw(libc::SIGCONT))?;
    Some(tokio::spawn(async move {
        loop {
            let what = tokio::select! {
                _ = int.recv() => Interrupt::Quit("SIGINT"),
                _ = quit.recv() => Interrupt::Quit("SIGQUIT"),
                _ = term.recv() => Interrupt::Quit("SIGTERM"),
                _ = hup.recv() => Interrupt::Quit("SIGHUP"),
                _ = tstp.recv() => Interrupt::Suspend,
                _ = cont.recv() => Interrupt::Resumed,
            };
            tracing::info!(?what, "signal received");
            if tx.send(what).is_err() {
                return;
            }
        }
    }))
}

#[cfg(not(unix))]
fn spawn_signal_task(tx: mpsc::UnboundedSender<Interrupt>) -> Option<tokio::task::JoinHandle<()>> {
    Some(tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            let _ = tx.send(Interrupt::Quit("Ctrl-C"));
        }
    }))
}
