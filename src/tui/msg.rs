//! The messages that drive the dashboard and the effects it asks the runtime to perform.
//!
//! Everything that happens — a key, a tick, a token state change, an API answer — becomes one
//! [`Msg`] handled by [`super::App::update`] on the UI task. Background tasks only *send*
//! messages; they never touch UI state. `update` answers with [`Effect`]s, which the runtime
//! performs off the UI task.

use std::time::Duration;

use crossterm::event::KeyEvent;

use crate::api::{ApiError, ApiResponse};
use crate::auth::{TokenError, TokenSnapshot};
use crate::jwt::{Check, DecodedJwt};
use crate::problem::Problem;
use crate::secret::AccessToken;

/// Something that happened.
#[derive(Debug)]
pub enum Msg {
    /// A key press. Sent by the main loop from the terminal's event stream.
    Key(KeyEvent),
    /// Text pasted into the terminal (bracketed paste). Sent by the main loop.
    Paste(String),
    /// The terminal was resized. Sent by the main loop.
    Resize,
    /// The 1 Hz tick that keeps countdowns moving. Sent by the main loop's interval.
    Tick,
    /// The token manager published a new state. Sent by the main loop from the manager's
    /// `watch` channel (the background refresher, `r`, and API calls all end up here).
    Token(Box<TokenSnapshot>),
    /// Another profile's token manager published a new state (a profile visited before, or
    /// started for the compare view; its refresher keeps running in the background). Sent by
    /// the main loop from that manager's `watch` channel; `profile` indexes the profile list.
    ProfileToken {
        profile: usize,
        snap: Box<TokenSnapshot>,
    },
    /// An API call finished. Sent by the call task spawned for [`Effect::CallApi`]; `seq`
    /// identifies the call so a late answer to a cancelled call is ignored.
    ApiResult {
        seq: u64,
        result: Result<Box<ApiResponse>, CallError>,
    },
    /// The token of `generation` was verified (discovery, signature, issuer, audience,
    /// tenant, lifetime). Sent by the task spawned for [`Effect::VerifyToken`]; a result for
    /// a token that has since been replaced is ignored. `profile` indexes the profile list.
    Verified {
        profile: usize,
        generation: u64,
        checks: Vec<Check>,
    },
    /// A refresh asked for with `r` finished. Sent by the task spawned for
    /// [`Effect::RefreshToken`]; the token itself arrives as [`Msg::Token`].
    RefreshDone(Result<(), String>),
    /// The OSC 52 copy was written (or failed). Sent by the runtime for [`Effect::CopyToken`].
    Copied(Result<usize, String>),
    /// A demo admin operation finished. Sent by the task spawned for [`Effect::Admin`].
    AdminDone {
        op: AdminOp,
        result: Result<String, String>,
    },
    /// The sandbox tenant as it is now (demo only). Sent by the runtime at start and after
    /// every admin operation.
    Demo(Box<DemoState>),
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
        profile: usize,
        seq: u64,
        city: String,
    },
    /// Fetch a new token now (the active profile).
    RefreshToken,
    /// Fetch a new token now for every profile whose manager runs (the compare view's `r`,
    /// after changing grants in the demo popup).
    RefreshAll,
    /// Verify `profile`'s token of `generation` the way a resource server would (a newer
    /// request for the same profile aborts an older one still running).
    VerifyToken {
        profile: usize,
        generation: u64,
        token: AccessToken,
        jwt: Box<DecodedJwt>,
    },
    /// Copy the access token to the terminal's clipboard with OSC 52.
    CopyToken(AccessToken),
    /// Change the sandbox tenant (demo only).
    Admin(AdminOp),
    /// The demo client's secret changed: rebuild the token manager with the new one.
    ReloadCredential,
    /// Make `profile` the active one: start its token manager if it is not running yet (the
    /// others keep running), and point `r` and the demo popup at it.
    SwitchProfile(usize),
    /// Start the token managers of these profiles (the compare view wants every row filled).
    StartProfiles(Vec<usize>),
}

/// A demo admin operation on the sandbox tenant, for the dashboard's client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AdminOp {
    GrantRole(String),
    RevokeRole(String),
    RequireRole(String),
    /// `None` = Entra's random 60–90 minutes.
    TokenLifetime(Option<Duration>),
    RotateKey,
    ExpireSecret,
    RenewSecret,
}

impl AdminOp {
    /// What the popup offers, in words.
    pub fn label(&self, client: &str) -> String {
        match self {
            AdminOp::GrantRole(r) => format!("Grant {r} to {client}"),
            AdminOp::RevokeRole(r) => format!("Revoke {r} from {client}"),
            AdminOp::RequireRole(r) => format!("Make the API require {r}"),
            AdminOp::TokenLifetime(Some(d)) => {
                format!(
                    "Shorten token lifetime to {}",
                    crate::time::human_secs(d.as_secs() as i64)
                )
            }
            AdminOp::TokenLifetime(None) => "Restore Entra token lifetime (60–90 min)".into(),
            AdminOp::RotateKey => "Rotate the signing key".into(),
            AdminOp::ExpireSecret => format!("Expire {client}'s client secret"),
            AdminOp::RenewSecret => format!("Renew {client}'s client secret"),
        }
    }
}

/// What the demo popup needs to know about the sandbox tenant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoState {
    /// The sandbox client the dashboard's profile signs in as.
    pub client: String,
    /// The API's app roles.
    pub api_roles: Vec<String>,
    /// Roles granted to the client.
    pub granted: Vec<String>,
    /// The role the weather API requires.
    pub required_role: String,
    /// Lifetime of new tokens, when shortened.
    pub token_lifetime: Option<Duration>,
    pub secret_expired: bool,
    /// The client has a client secret (certificate and federated clients have none).
    pub has_secret: bool,
}

impl DemoState {
    /// The operations that make sense now, in popup order.
    pub fn ops(&self) -> Vec<AdminOp> {
        let mut ops = Vec::new();
        for r in &self.api_roles {
            if self.granted.iter().any(|g| g.eq_ignore_ascii_case(r)) {
                ops.push(AdminOp::RevokeRole(r.clone()));
            } else {
                ops.push(AdminOp::GrantRole(r.clone()));
            }
        }
        for r in &self.api_roles {
            if !r.eq_ignore_ascii_case(&self.required_role) {
                ops.push(AdminOp::RequireRole(r.clone()));
            }
        }
        ops.push(match self.token_lifetime {
            None => AdminOp::TokenLifetime(Some(Duration::from_secs(120))),
            Some(_) => AdminOp::TokenLifetime(None),
        });
        ops.push(AdminOp::RotateKey);
        if self.has_secret {
            ops.push(if self.secret_expired {
                AdminOp::RenewSecret
            } else {
                AdminOp::ExpireSecret
            });
        }
        ops
    }
}
