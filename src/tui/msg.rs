//! The messages that drive the dashboard and the effects it asks the runtime to perform.
//!
//! Everything that happens — a key, a tick, a token-manager event, an API answer — becomes one
//! [`Msg`] handled by [`super::App::update`] on the UI task. Background tasks only *send*
//! messages; they never touch UI state. `update` answers with [`Effect`]s, which the runtime
//! performs off the UI task. Every message and effect about a profile names it by
//! [`ProfileId`]: the runtime keeps no notion of "the active profile".

use std::sync::Arc;

use crossterm::event::{KeyEvent, MouseEvent};

use super::demo::{AdminOp, DemoState};
use crate::api::{ApiError, ApiResponse};
use crate::auth::{CachedToken, TokenError, TokenUpdate};
use crate::jwt::{Check, DecodedJwt};
use crate::problem::Problem;
use crate::secret::AccessToken;

/// A profile of the dashboard: its index in the config file's profile list, the same in the
/// App and the runtime.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ProfileId(pub usize);

/// Something that happened.
#[derive(Debug)]
pub enum Msg {
    /// A key press. Sent by the main loop from the terminal's event stream.
    Key(KeyEvent),
    /// A click or a wheel notch (only those: motion and releases are not sent). Sent by the
    /// main loop from the terminal's event stream while the mouse is captured.
    Mouse(MouseEvent),
    /// Text pasted into the terminal (bracketed paste). Sent by the main loop.
    Paste(String),
    /// The terminal was resized. Sent by the main loop.
    Resize,
    /// The 1 Hz tick that keeps countdowns moving. Sent by the main loop's interval.
    Tick,
    /// A profile's token manager did something (a new token, a failed refresh, a retry
    /// scheduled, …). Sent by the profile's forwarding task, started with its manager.
    Token {
        profile: ProfileId,
        update: Box<TokenUpdate>,
    },
    /// An API call finished. Sent by the call task spawned for [`Effect::CallApi`]; `seq`
    /// identifies the call so a late answer to a cancelled call is ignored; `sent` is the
    /// token it went out with (its generation tells which), `None` when none could be had.
    ApiResult {
        profile: ProfileId,
        seq: u64,
        sent: Option<Arc<CachedToken>>,
        result: Result<Box<ApiResponse>, CallError>,
    },
    /// The token of `generation` was verified (discovery, signature, issuer, audience,
    /// tenant, lifetime). Sent by the task spawned for [`Effect::VerifyToken`]; a result for
    /// a token that has since been replaced is ignored.
    Verified {
        profile: ProfileId,
        generation: u64,
        checks: Vec<Check>,
    },
    /// A refresh asked for (`r`) finished. Sent by the task spawned for [`Effect::Refresh`];
    /// the token itself arrives as [`Msg::Token`].
    RefreshDone {
        profile: ProfileId,
        result: Result<(), TokenError>,
    },
    /// The OSC 52 copy was written (`Ok(bytes)`) or failed. Sent by the runtime for
    /// [`Effect::Copy`].
    Copied {
        what: crate::tui::clip::CopyWhat,
        result: Result<usize, String>,
    },
    /// A demo admin operation for `profile`'s client finished. Sent by the task spawned for
    /// [`Effect::Admin`].
    AdminDone {
        profile: ProfileId,
        op: AdminOp,
        result: Result<String, String>,
    },
    /// The sandbox tenant as `profile`'s client sees it (`tokenscope demo`, or a local
    /// `tokenscope sandbox` its authority names), `None` when there is no sandbox to change
    /// for it. Sent by the runtime after every admin operation and for [`Effect::DemoState`].
    Demo {
        profile: ProfileId,
        state: Option<Box<DemoState>>,
    },
    /// The app-role set-up of `profile` as read from Microsoft Graph (or its exported files).
    /// Sent by the task spawned for [`Effect::ReadSetup`].
    Setup {
        profile: ProfileId,
        result: Result<Box<crate::graph::SetupFacts>, crate::graph::GraphError>,
    },
    /// Progress of a wait for a role to reach `profile`'s tokens ([`Effect::WaitForRole`]):
    /// one line per attempt. Sent by the waiting task.
    Waiting {
        profile: ProfileId,
        progress: String,
    },
    /// The wait ended: `Ok` with the token that carries the role, or why not.
    WaitDone {
        profile: ProfileId,
        role: String,
        result: Result<(), String>,
    },
    /// A non-fatal set-up problem (token cache unavailable, …). Sent by the front end at
    /// start.
    Warning(String),
    /// Quit (SIGTERM, or the terminal went away). Sent by the signal task or the main loop.
    Quit,
}

/// Why an API call produced no response.
#[derive(Debug, Clone)]
pub enum CallError {
    /// No token could be had.
    Token(TokenError),
    /// The request itself failed (network, bad URL, …).
    Api(ApiError),
    /// The profile could not be set up for calls (its HTTP client or token manager).
    Setup(String),
}

impl std::fmt::Display for CallError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CallError::Token(e) => write!(f, "no token: {e}"),
            CallError::Api(e) => write!(f, "{e}"),
            CallError::Setup(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for CallError {}

impl Problem for CallError {
    fn summary(&self) -> String {
        match self {
            CallError::Token(e) => format!("no token: {}", e.summary()),
            CallError::Api(e) => e.summary(),
            CallError::Setup(e) => e.clone(),
        }
    }
    fn detail(&self) -> Option<String> {
        match self {
            CallError::Token(e) => e.detail(),
            CallError::Api(e) => e.detail(),
            CallError::Setup(_) => None,
        }
    }
    fn hint(&self) -> Option<String> {
        match self {
            CallError::Token(e) => e.hint(),
            CallError::Api(e) => e.hint(),
            CallError::Setup(_) => None,
        }
    }
}

/// Work `update` asks for. Performed by [`super::Runtime`] off the UI task.
#[derive(Debug, Clone)]
pub enum Effect {
    /// Call the weather API for `city` as `profile` (a new call for the same profile aborts
    /// the one in flight).
    CallApi {
        profile: ProfileId,
        seq: u64,
        city: String,
    },
    /// Fetch a new token for `profile` now.
    Refresh { profile: ProfileId },
    /// Verify `profile`'s token of `generation` the way a resource server would (a newer
    /// request for the same profile aborts an older one still running).
    VerifyToken {
        profile: ProfileId,
        generation: u64,
        token: AccessToken,
        jwt: Box<DecodedJwt>,
    },
    /// Copy `clip` to the terminal's clipboard with OSC 52.
    Copy {
        what: crate::tui::clip::CopyWhat,
        clip: crate::tui::clip::Clip,
    },
    /// Change the sandbox tenant for `profile`'s client (demo only).
    Admin { profile: ProfileId, op: AdminOp },
    /// `profile`'s sandbox client got a new secret: rebuild its token manager with it.
    ReloadCredential { profile: ProfileId },
    /// Start the token managers of these profiles unless they run (a profile switched to,
    /// the compare view filling every row). Started managers keep running.
    StartProfiles(Vec<ProfileId>),
    /// Report the sandbox tenant as `profile`'s client sees it (at start and after a switch;
    /// outside the demo this probes the admin routes of a loopback authority, never another).
    DemoState { profile: ProfileId },
    /// Ask for fresh tokens for `profile` (bypassing the cache), backing off, until `role`
    /// is in them or 10 minutes pass (a grant propagating). A new wait replaces one running.
    WaitForRole { profile: ProfileId, role: String },
    /// Stop `profile`'s wait.
    CancelWait { profile: ProfileId },
    /// Read `profile`'s app-role set-up from Microsoft Graph (or its exported files); `fresh`
    /// asks for a new Graph token (after granting the reader Application.Read.All).
    ReadSetup { profile: ProfileId, fresh: bool },
    /// Give the terminal back and stop the process until `fg` (Ctrl-Z); the runtime redraws
    /// everything when it continues. Ignored when not on a real terminal (tests).
    Suspend,
}
