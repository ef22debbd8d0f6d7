//! Copy and export (`y`): the decoded claims, the last call's diagnosis, the last call as a
//! curl command, or the access token itself. What holds a credential (the token, a curl line
//! with the token in it) is only copied after a y/n prompt; the curl line otherwise reads the
//! token from `$TOKEN`. Text goes to the runtime as an [`Effect::Copy`]; the runtime writes it
//! with OSC 52.

use super::{App, Level, Overlay};
use crate::api::curl::{CurlToken, curl_command};
use crate::secret::AccessToken;
pub use crate::tui::clip::{Clip, CopyWhat};
use crate::tui::msg::Effect;

impl App {
    /// The copy popup's rows: each with why it cannot be copied now, if it cannot.
    pub(in crate::tui) fn copy_choices(&self) -> Vec<(CopyWhat, Option<&'static str>)> {
        CopyWhat::ALL
            .into_iter()
            .map(|w| (w, self.copy_text(w).err()))
            .collect()
    }

    /// `y`: open the copy popup (on its first available row).
    pub(super) fn open_copy(&mut self) {
        let selected = self
            .copy_choices()
            .iter()
            .position(|(_, why)| why.is_none())
            .unwrap_or(0);
        self.overlay = Overlay::Copy { selected };
    }

    /// Row `i` of the copy popup chosen: copied, or asked first, or why not.
    pub(super) fn copy_pick(&mut self, i: usize) {
        let Some(&what) = CopyWhat::ALL.get(i) else {
            self.dirty = false;
            return;
        };
        match self.copy_text(what) {
            Err(why) => {
                self.overlay = Overlay::Copy { selected: i };
                self.set_status(Level::Warn, why);
            }
            Ok(_) if what.holds_token() => self.overlay = Overlay::ConfirmCopy(what),
            Ok(clip) => {
                self.overlay = Overlay::None;
                self.effects.push(Effect::Copy { what, clip });
            }
        }
    }

    /// The y/n prompt answered yes.
    pub(super) fn copy_confirmed(&mut self, what: CopyWhat) {
        self.overlay = Overlay::None;
        match self.copy_text(what) {
            Ok(clip) => self.effects.push(Effect::Copy { what, clip }),
            Err(why) => self.set_status(Level::Warn, why),
        }
    }

    /// The runtime wrote `what` (`Ok(bytes)`) or could not.
    pub(super) fn on_copied(&mut self, what: CopyWhat, result: Result<usize, String>) {
        match result {
            Ok(n) => self.set_status(
                Level::Good,
                format!(
                    "copied {} ({n} bytes) with OSC 52 — your terminal must allow clipboard writes",
                    what.noun()
                ),
            ),
            Err(e) => self.set_status(Level::Error, format!("copy failed: {e}")),
        }
    }

    /// The text for `what`, from the active profile's state; or why there is none.
    fn copy_text(&self, what: CopyWhat) -> Result<Clip, &'static str> {
        let p = self.cur();
        let token = p.snapshot.as_ref().and_then(|s| s.token.clone());
        let response = p.last.as_ref().and_then(|l| l.result.as_ref().ok());
        match what {
            CopyWhat::Claims => {
                let jwt = self.jwt().ok_or("no decoded token to copy yet")?;
                let doc = serde_json::json!({"header": jwt.header, "payload": jwt.payload});
                // serde_json escapes control characters: safe to paste into a terminal.
                serde_json::to_string_pretty(&doc)
                    .map(Clip::Text)
                    .map_err(|_| "the claims could not be written as JSON")
            }
            CopyWhat::Diagnosis => {
                let last = p
                    .last
                    .as_ref()
                    .ok_or("no call yet: press Enter to call the API")?;
                Ok(Clip::Text(super::calls::diagnosis_text(last)))
            }
            CopyWhat::Curl | CopyWhat::CurlWithToken => {
                let resp =
                    response.ok_or("no call with an answer yet: press Enter to call the API")?;
                let ca = p.ca_file.as_deref();
                if what == CopyWhat::Curl {
                    return Ok(Clip::Text(curl_command(&resp.url, CurlToken::Variable, ca)));
                }
                let t = token.ok_or("no token yet")?;
                Ok(Clip::Credential(AccessToken::new(curl_command(
                    &resp.url,
                    CurlToken::Real(&t.access_token),
                    ca,
                ))))
            }
            CopyWhat::Token => {
                let t = token.ok_or("no token to copy yet")?;
                Ok(Clip::Credential(t.access_token.clone()))
            }
        }
    }
}
