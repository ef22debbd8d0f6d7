//! What every user-facing error of the core can say about itself, as data: a one-line
//! summary, optional detail lines, and a hint of what to do.
//!
//! Owns the [`Problem`] trait and nothing else. A base module: it imports nothing of the
//! crate, and every layer may use it. Front ends decide how a hint is shown (the CLI prints
//! `hint: …` under `error: …`, the TUI colours it); nothing parses it back out of a text.
//!
//! The convention every implementor keeps: `Display` is the summary, then the detail lines
//! (no hint); `source()` is the real underlying error where there is one (an `io::Error`, a
//! `reqwest::Error`, the certificate error a config error wraps). `Display` still quotes the
//! source's words, because front ends print one error, not its chain.

/// An error a person reads: what happened (one line), maybe more lines of detail, and what
/// to do.
pub trait Problem: std::error::Error {
    /// What happened, on one line, without the hint.
    fn summary(&self) -> String;
    /// Further lines under the summary (what was looked at, trace ids), if any.
    fn detail(&self) -> Option<String> {
        None
    }
    /// What to do about it, in one or more sentences, if there is something to say.
    fn hint(&self) -> Option<String>;

    /// The whole text as a terminal shows it: the summary, the detail lines, then
    /// `hint: …`. For front ends that print an error in one piece (logs, warnings).
    fn full_text(&self) -> String {
        let mut text = self.summary();
        if let Some(detail) = self.detail() {
            text.push('\n');
            text.push_str(&detail);
        }
        if let Some(hint) = self.hint() {
            text.push_str("\nhint: ");
            text.push_str(&hint);
        }
        text
    }
}

/// Checks the convention on one value: a one-line summary, `Display` = summary + detail
/// with no hint in it. For the error types' unit tests.
#[cfg(test)]
pub(crate) fn assert_keeps_convention(p: &dyn Problem) {
    let summary = p.summary();
    assert!(!summary.contains('\n'), "summary spans lines: {summary:?}");
    let shown = p.to_string();
    let expected = match p.detail() {
        Some(d) => format!("{summary}\n{d}"),
        None => summary.clone(),
    };
    assert_eq!(shown, expected, "Display is summary + detail");
    assert!(
        !shown.contains("\nhint: "),
        "Display carries a hint: {shown:?}"
    );
    if let Some(hint) = p.hint() {
        assert!(!hint.trim().is_empty(), "an empty hint for {summary:?}");
        assert!(p.full_text().ends_with(&format!("\nhint: {hint}")));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct Example {
        detail: bool,
        hint: bool,
    }

    impl std::fmt::Display for Example {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("it broke")?;
            if self.detail {
                f.write_str("\nlooked at: a, b")?;
            }
            Ok(())
        }
    }

    impl std::error::Error for Example {}

    impl Problem for Example {
        fn summary(&self) -> String {
            "it broke".into()
        }
        fn detail(&self) -> Option<String> {
            self.detail.then(|| "looked at: a, b".into())
        }
        fn hint(&self) -> Option<String> {
            self.hint.then(|| "mend it".into())
        }
    }

    #[test]
    fn full_text_is_summary_detail_then_hint() {
        let all = Example {
            detail: true,
            hint: true,
        };
        assert_eq!(all.full_text(), "it broke\nlooked at: a, b\nhint: mend it");
        assert_keeps_convention(&all);
        let bare = Example {
            detail: false,
            hint: false,
        };
        assert_eq!(bare.full_text(), "it broke");
        assert_keeps_convention(&bare);
    }
}
