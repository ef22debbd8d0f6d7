//! What the dashboard can copy ([`CopyWhat`]) and the text on its way to the clipboard
//! ([`Clip`]): plain data shared by the app (which builds it) and the messages and effects
//! (which carry it to the runtime). Knows nothing of state or drawing.

use crate::secret::AccessToken;

/// One row of the copy popup.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CopyWhat {
    Claims,
    Diagnosis,
    Curl,
    CurlWithToken,
    Token,
}

impl CopyWhat {
    pub const ALL: [CopyWhat; 5] = [
        CopyWhat::Claims,
        CopyWhat::Diagnosis,
        CopyWhat::Curl,
        CopyWhat::CurlWithToken,
        CopyWhat::Token,
    ];

    /// The popup's row text.
    pub fn label(self) -> &'static str {
        match self {
            CopyWhat::Claims => "the decoded token: header and payload as JSON",
            CopyWhat::Diagnosis => "the last call and its diagnosis, as text",
            CopyWhat::Curl => "the last call as a curl command (token from $TOKEN)",
            CopyWhat::CurlWithToken => "the last call as a curl command with the token in it",
            CopyWhat::Token => "the access token itself",
        }
    }

    /// "the access token": what the status line says was copied.
    pub fn noun(self) -> &'static str {
        match self {
            CopyWhat::Claims => "the decoded claims",
            CopyWhat::Diagnosis => "the diagnosis",
            CopyWhat::Curl | CopyWhat::CurlWithToken => "the curl command",
            CopyWhat::Token => "the access token",
        }
    }

    /// It holds a credential: asked y/n first.
    pub fn holds_token(self) -> bool {
        matches!(self, CopyWhat::CurlWithToken | CopyWhat::Token)
    }
}

/// What goes to the clipboard. A credential stays wrapped (its `Debug` is redacted) until
/// the runtime writes it.
#[derive(Debug, Clone)]
pub enum Clip {
    Text(String),
    Credential(AccessToken),
}

impl Clip {
    pub fn expose(&self) -> &str {
        match self {
            Clip::Text(t) => t,
            Clip::Credential(t) => t.expose(),
        }
    }
}
