//! Every key the dashboard knows, as data: one table of [`Binding`]s (keys, where each applies,
//! the [`Action`], the help text and the footer hint). Dispatch ([`lookup`]), the help overlay
//! ([`help_rows`]) and the footer hints ([`hints`]) all read this table, so they cannot drift
//! apart. A new key is one row here plus, for a new action, one arm in `App::act`.
//!
//! Owns key *meaning* only; it knows nothing about state beyond the [`Context`] it is given,
//! and draws nothing.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// What a key asks for. Carried out by `App::act`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Quit,
    FocusNext,
    FocusPrev,
    /// Back to the city box.
    FocusCity,
    /// Call the API for the city in the box.
    Call,
    Help,
    Profiles,
    Compare,
    Refresh,
    ToggleRaw,
    /// Ask to copy the access token (y/n).
    Copy,
    Admin,
    /// Scroll the focused pane (or move the claim selection in the Token pane).
    Up,
    Down,
    PageUp,
    PageDown,
    Home,
    End,
    HistoryPrev,
    HistoryNext,
    /// Clear a non-empty city box; leave an empty one.
    EscapeCity,
    ScrollWeatherUp,
    ScrollWeatherDown,
    /// Close the popup on top.
    Close,
    /// Move the popup's selection.
    MenuUp,
    MenuDown,
    /// Apply the popup's selected row.
    Apply,
    /// Apply the popup's row `n` (0-based; from the keys 1–9).
    Pick(usize),
    /// The compare view's Enter: call as every profile.
    CallAll,
    /// The compare view's `r`: refresh every running profile.
    RefreshAll,
    /// Copy confirmed / refused.
    ConfirmYes,
    ConfirmNo,
    /// Ctrl-Z: give the terminal back and stop, as a shell job does.
    Suspend,
    /// Open the Setup view (the app-role set-up read from Microsoft Graph).
    Setup,
    /// In the Setup view: read the set-up again (with a fresh Graph token).
    ReadSetup,
    /// In the Setup view: wait for the role to reach new tokens (or stop waiting).
    WaitForRole,
    /// In the Activity pane: every profile's entries, or only the active one's.
    ToggleActivity,
    /// Open the command palette (every command by name, filtered as you type).
    Palette,
}

/// Where a key applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Always, even over a popup.
    Everywhere,
    /// No popup open, whatever has focus (the keys that also work in the city box).
    Main,
    /// No popup open and a pane other than the city box has focus (letters would type in it).
    Panes,
    /// The Token pane has focus and shows the decoded claims (not raw JSON): ↑/↓ select a
    /// claim.
    Claims,
    /// [`Scope::Panes`] outside the claims list: ↑/↓ scroll.
    Scroll,
    /// The city box has focus and no popup is open.
    CityBox,
    Help,
    Admin,
    Picker,
    Compare,
    /// "Copy the access token? y/n".
    Confirm,
    /// The copy popup (`y`): what to copy.
    CopyMenu,
    /// The Setup view.
    SetupView,
    /// The Activity pane has focus.
    ActivityPane,
    /// The Token pane has focus (its own keys get a footer hint there).
    TokenPane,
    /// The command palette.
    Palette,
}

/// What is on screen, as far as keys care.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Context {
    /// The popup on top, if any.
    pub popup: Option<Scope>,
    pub city_focused: bool,
    pub activity_focused: bool,
    pub token_focused: bool,
    /// The Token pane has focus and lists claims.
    pub claims: bool,
    pub demo: bool,
    /// More than one profile (the profile keys are worth a hint).
    pub multi: bool,
}

impl Scope {
    fn active(self, cx: &Context) -> bool {
        match self {
            Scope::Everywhere => true,
            Scope::Main => cx.popup.is_none(),
            Scope::Panes => cx.popup.is_none() && !cx.city_focused,
            Scope::Claims => cx.popup.is_none() && cx.claims,
            Scope::Scroll => Scope::Panes.active(cx) && !cx.claims,
            Scope::ActivityPane => cx.popup.is_none() && cx.activity_focused,
            Scope::TokenPane => cx.popup.is_none() && cx.token_focused,
            Scope::CityBox => cx.popup.is_none() && cx.city_focused,
            popup => cx.popup == Some(popup),
        }
    }
}

/// A key as the table names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    Code(KeyCode),
    /// A printable character, without Ctrl or Alt.
    Char(char),
    /// Ctrl plus a letter (either case).
    Ctrl(char),
    /// 1–9 ([`Action::Pick`] gets the row).
    Digits,
    /// [`PICK_KEYS`]: 1–9, then letters the popup does not use otherwise ([`Action::Pick`]
    /// gets the row).
    Picks,
    /// Any key not matched before it in the same scope.
    Any,
}

impl Key {
    fn matches(self, k: &KeyEvent) -> bool {
        let plain = !k
            .modifiers
            .intersects(KeyModifiers::CONTROL | KeyModifiers::ALT);
        match self {
            Key::Code(c) => k.code == c,
            Key::Char(c) => plain && k.code == KeyCode::Char(c),
            Key::Ctrl(c) => {
                k.modifiers.contains(KeyModifiers::CONTROL)
                    && matches!(k.code, KeyCode::Char(x) if x.eq_ignore_ascii_case(&c))
            }
            Key::Digits => plain && matches!(k.code, KeyCode::Char('1'..='9')),
            Key::Picks => plain && matches!(k.code, KeyCode::Char(c) if PICK_KEYS.contains(c)),
            Key::Any => true,
        }
    }
}

/// The keys that pick a row of a long popup (the admin popup), in row order: 1–9, then the
/// letters it does not take for anything else (not `a` or `q`, which close it, nor `j`/`k`).
pub const PICK_KEYS: &str = "123456789bcdefghilmnoprstuvwxyz";

/// The key that picks row `i` of a long popup, if it has one.
pub fn pick_key(i: usize) -> Option<char> {
    PICK_KEYS.chars().nth(i)
}

/// When a row is shown in the help overlay and the footer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Show {
    Always,
    /// Only in `tokenscope demo` (the admin popup).
    Demo,
    /// Only with several profiles (hints); help lists it always.
    Profiles,
    /// A key, not a command (moving, scrolling, editing): in help and hints, not in the
    /// command palette.
    KeyOnly,
}

/// One row of the key table.
#[derive(Debug, Clone, Copy)]
pub struct Binding {
    /// The keys and where each applies.
    pub keys: &'static [(Key, Scope)],
    pub action: Action,
    /// How the help overlay names the keys ("r  or  F5"); empty = not listed there (the
    /// popups' own keys, aliases documented by another row).
    pub label: &'static str,
    pub help: &'static str,
    /// The footer's short form ("r refresh"), with its priority (higher stays longer when
    /// the footer is narrow).
    pub hint: Option<(&'static str, u8)>,
    pub show: Show,
}

use Key::{Char, Code, Ctrl, Digits};
use Scope::{
    ActivityPane, Admin, CityBox, Claims, Compare, Confirm, CopyMenu, Everywhere, Help, Main,
    Palette, Panes, Picker, Scroll, SetupView, TokenPane,
};

const fn row(
    keys: &'static [(Key, Scope)],
    action: Action,
    label: &'static str,
    help: &'static str,
    hint: Option<(&'static str, u8)>,
) -> Binding {
    Binding {
        keys,
        action,
        label,
        help,
        hint,
        show: Show::Always,
    }
}

const fn only(mut b: Binding, show: Show) -> Binding {
    b.show = show;
    b
}

/// The table. Order matters three ways: the first row whose key matches in an active scope
/// wins; the help overlay lists rows in this order; the footer shows hints in this order.
#[rustfmt::skip] // A table reads best one row per line.
pub const BINDINGS: &[Binding] = &[
    // The y/n prompt takes every key.
    row(&[(Char('y'), Confirm), (Char('Y'), Confirm)], Action::ConfirmYes, "", "", Some(("y copy", 9))),
    row(&[(Key::Any, Confirm)], Action::ConfirmNo, "", "", Some(("n cancel", 9))),
    // Popups.
    row(&[(Code(KeyCode::Esc), Palette)], Action::Close, "", "", Some(("Esc close", 9))),
    row(&[(Code(KeyCode::Up), Palette)], Action::MenuUp, "", "", Some(("type to filter · ↑↓ select", 8))),
    row(&[(Code(KeyCode::Down), Palette)], Action::MenuDown, "", "", None),
    row(&[(Code(KeyCode::Enter), Palette)], Action::Apply, "", "", Some(("Enter run", 9))),
    row(&[(Code(KeyCode::Up), Help), (Char('k'), Help)], Action::Up, "", "", None),
    row(&[(Code(KeyCode::Down), Help), (Char('j'), Help)], Action::Down, "", "", None),
    row(&[(Code(KeyCode::PageUp), Help)], Action::PageUp, "", "", None),
    row(&[(Code(KeyCode::PageDown), Help)], Action::PageDown, "", "", None),
    row(&[(Code(KeyCode::Esc), Help), (Char('?'), Help), (Char('q'), Help), (Code(KeyCode::F(1)), Help), (Code(KeyCode::Enter), Help)],
        Action::Close, "", "", Some(("Esc close help", 9))),
    row(&[(Code(KeyCode::Up), Admin), (Char('k'), Admin), (Code(KeyCode::Up), Picker), (Char('k'), Picker),
          (Code(KeyCode::Up), Compare), (Char('k'), Compare), (Code(KeyCode::Up), CopyMenu), (Char('k'), CopyMenu)], Action::MenuUp, "", "", Some(("↑↓ select", 8))),
    row(&[(Code(KeyCode::Down), Admin), (Char('j'), Admin), (Code(KeyCode::Down), Picker), (Char('j'), Picker),
          (Code(KeyCode::Down), Compare), (Char('j'), Compare), (Code(KeyCode::Down), CopyMenu), (Char('j'), CopyMenu)], Action::MenuDown, "", "", None),
    row(&[(Code(KeyCode::Enter), CopyMenu), (Digits, CopyMenu)], Action::Apply, "", "", Some(("Enter or 1-5 copy", 8))),
    row(&[(Code(KeyCode::Esc), CopyMenu), (Char('y'), CopyMenu), (Char('q'), CopyMenu)], Action::Close, "", "", Some(("Esc close", 9))),
    row(&[(Code(KeyCode::Enter), Admin), (Key::Picks, Admin)], Action::Apply, "", "", Some(("Enter or its key apply", 8))),
    row(&[(Code(KeyCode::Enter), Picker), (Digits, Picker)], Action::Apply, "", "", Some(("Enter or 1-9 switch", 8))),
    // The compare view: Enter switches to the selected row's profile (as in the picker); `a`
    // calls the API as all of them (not `c`, which closes the view it opened).
    row(&[(Code(KeyCode::Enter), Compare), (Digits, Compare)], Action::Apply, "", "", Some(("Enter switch", 8))),
    row(&[(Char('a'), Compare)], Action::CallAll, "", "", Some(("a call as all", 8))),
    row(&[(Char('r'), Compare), (Code(KeyCode::F(5)), Compare)], Action::RefreshAll, "", "", Some(("r refresh all", 6))),
    row(&[(Code(KeyCode::F(3)), Picker), (Char('c'), Picker)], Action::Compare, "", "", Some(("c compare", 5))),
    row(&[(Code(KeyCode::F(2)), Compare), (Char('p'), Compare)], Action::Profiles, "", "", Some(("p profiles", 5))),
    row(&[(Char('r'), SetupView)], Action::ReadSetup, "", "", Some(("r read again", 7))),
    row(&[(Code(KeyCode::F(5)), SetupView)], Action::Refresh, "", "", Some(("F5 refresh token", 6))),
    row(&[(Char('w'), SetupView)], Action::WaitForRole, "", "", Some(("w wait for the role", 6))),
    row(&[(Code(KeyCode::Up), SetupView), (Char('k'), SetupView)], Action::Up, "", "", Some(("↑↓ scroll", 4))),
    row(&[(Code(KeyCode::Down), SetupView), (Char('j'), SetupView)], Action::Down, "", "", None),
    row(&[(Code(KeyCode::PageUp), SetupView)], Action::PageUp, "", "", None),
    row(&[(Code(KeyCode::PageDown), SetupView)], Action::PageDown, "", "", None),
    row(&[(Code(KeyCode::Esc), SetupView), (Char('s'), SetupView), (Char('q'), SetupView), (Code(KeyCode::F(4)), SetupView)],
        Action::Close, "", "", Some(("Esc close", 9))),
    row(&[(Code(KeyCode::Esc), Admin), (Char('a'), Admin), (Char('q'), Admin),
          (Code(KeyCode::Esc), Picker), (Char('p'), Picker), (Char('q'), Picker), (Code(KeyCode::F(2)), Picker),
          (Code(KeyCode::Esc), Compare), (Char('c'), Compare), (Char('q'), Compare), (Code(KeyCode::F(3)), Compare)],
        Action::Close, "", "", Some(("Esc close", 9))),
    // The dashboard, in the order the help overlay lists it.
    only(row(&[(Code(KeyCode::Tab), Main)], Action::FocusNext, "Tab / Shift-Tab", "move focus between panes", None), Show::KeyOnly),
    row(&[(Code(KeyCode::Enter), Main)], Action::Call, "Enter", "call the weather API for the city in the box", Some(("Enter call", 10))),
    only(row(&[(Code(KeyCode::Up), CityBox)], Action::HistoryPrev, "↑ / ↓ (city box)", "previous / next city from history", Some(("↑↓ history", 7))), Show::KeyOnly),
    row(&[(Code(KeyCode::Down), CityBox)], Action::HistoryNext, "", "", None),
    only(row(&[(Code(KeyCode::Esc), CityBox)], Action::EscapeCity, "Esc", "clear the box, then leave it (elsewhere: back)", None), Show::KeyOnly),
    row(&[(Code(KeyCode::Esc), Panes)], Action::FocusCity, "", "", None),
    only(row(&[(Code(KeyCode::Up), Scroll), (Char('k'), Scroll)], Action::Up, "↑ ↓ PgUp PgDn Home End", "scroll the focused pane", Some(("↑↓ scroll", 4))), Show::KeyOnly),
    row(&[(Code(KeyCode::Down), Scroll), (Char('j'), Scroll)], Action::Down, "", "", None),
    row(&[(Code(KeyCode::PageUp), Panes)], Action::PageUp, "", "", None),
    row(&[(Code(KeyCode::PageDown), Panes)], Action::PageDown, "", "", None),
    row(&[(Code(KeyCode::Home), Panes)], Action::Home, "", "", None),
    row(&[(Code(KeyCode::End), Panes)], Action::End, "", "", None),
    only(row(&[(Code(KeyCode::Up), Claims), (Char('k'), Claims)], Action::Up, "↑ / ↓ (Token pane)", "select a claim and show what it means", Some(("↑↓ claim", 7))), Show::KeyOnly),
    row(&[(Code(KeyCode::Down), Claims), (Char('j'), Claims)], Action::Down, "", "", None),
    row(&[(Char('f'), ActivityPane)], Action::ToggleActivity, "f (Activity pane)", "this profile's entries / every profile's", Some(("f all profiles", 6))),
    only(row(&[(Code(KeyCode::PageUp), CityBox)], Action::ScrollWeatherUp, "PgUp / PgDn (city box)", "scroll the weather pane", None), Show::KeyOnly),
    row(&[(Code(KeyCode::PageDown), CityBox)], Action::ScrollWeatherDown, "", "", None),
    // Shift-Tab carries Tab's hint, so the footer starts with Enter.
    row(&[(Code(KeyCode::BackTab), Main)], Action::FocusPrev, "", "", Some(("Tab focus", 5))),
    row(&[(Code(KeyCode::F(5)), CityBox)], Action::Refresh, "", "", Some(("F5 refresh token", 6))),
    row(&[(Char('r'), Panes), (Code(KeyCode::F(5)), Panes)], Action::Refresh, "r  or  F5", "refresh the token now", Some(("r refresh", 6))),
    only(row(&[(Code(KeyCode::F(2)), CityBox)], Action::Profiles, "", "", Some(("F2 profiles", 6))), Show::Profiles),
    only(row(&[(Code(KeyCode::F(3)), CityBox)], Action::Compare, "", "", Some(("F3 compare", 6))), Show::Profiles),
    row(&[(Char('p'), Panes), (Code(KeyCode::F(2)), Panes)], Action::Profiles, "p  or  F2", "switch profile (visited ones keep refreshing)", None),
    row(&[(Char('c'), Panes), (Code(KeyCode::F(3)), Panes)], Action::Compare, "c  or  F3", "compare the profiles' roles side by side", None),
    row(&[(Char('s'), Panes), (Code(KeyCode::F(4)), Panes)], Action::Setup, "s  or  F4", "the app-role set-up (Graph), as a chain", Some(("s setup", 3))),
    row(&[(Code(KeyCode::F(4)), CityBox)], Action::Setup, "", "", Some(("F4 setup", 3))),
    only(row(&[(Char('p'), Panes)], Action::Profiles, "", "", Some(("p profiles", 6))), Show::Profiles),
    only(row(&[(Char('c'), Panes)], Action::Compare, "", "", Some(("c compare", 6))), Show::Profiles),
    // The Token pane's own keys are hinted first there; elsewhere they are hinted last.
    row(&[(Char('t'), TokenPane)], Action::ToggleRaw, "", "", Some(("t raw", 8))),
    row(&[(Char('y'), TokenPane)], Action::Copy, "", "", Some(("y copy", 8))),
    row(&[(Char('t'), Panes)], Action::ToggleRaw, "t", "toggle raw token header and payload JSON", Some(("t raw", 3))),
    row(&[(Char('y'), Panes)], Action::Copy, "y", "copy claims, diagnosis, call as curl, or token", Some(("y copy", 2))),
    only(row(&[(Char('a'), Panes)], Action::Admin, "a", "sandbox admin: change the sandbox tenant", Some(("a admin", 7))), Show::Demo),
    row(&[(Char(':'), Panes), (Ctrl('p'), Panes)], Action::Palette, ":  or  Ctrl-P", "command palette: run any command by name", Some((": commands", 8))),
    row(&[(Ctrl('p'), CityBox)], Action::Palette, "", "", Some(("Ctrl-P commands", 8))),
    row(&[(Code(KeyCode::F(1)), CityBox)], Action::Help, "", "", Some(("F1 help", 9))),
    row(&[(Char('?'), Panes), (Code(KeyCode::F(1)), Panes)], Action::Help, "?  or  F1", "this help", Some(("? help", 9))),
    row(&[(Char('q'), Panes)], Action::Quit, "q", "quit (in the city box q types q)", Some(("q quit", 8))),
    row(&[(Ctrl('c'), Everywhere)], Action::Quit, "Ctrl-C / Ctrl-Z", "quit / suspend to the shell (fg), from anywhere", None),
    row(&[(Ctrl('z'), Everywhere)], Action::Suspend, "", "", None),
    // Shown in the city box, where q types.
    row(&[(Ctrl('c'), CityBox)], Action::Quit, "", "", Some(("Ctrl-C quit", 8))),
];

/// The action for `k` in context `cx`: the first row (in table order) with a key that
/// matches and a scope that is active. `None`: the key means nothing here (in the city box
/// it is then typed).
pub fn lookup(k: &KeyEvent, cx: &Context) -> Option<Action> {
    // Ctrl-C first, so that no popup's catch-all can take it.
    let rows = BINDINGS
        .iter()
        .filter(|b| b.keys.iter().any(|(_, s)| *s == Everywhere));
    let rest = BINDINGS
        .iter()
        .filter(|b| b.keys.iter().all(|(_, s)| *s != Everywhere));
    rows.chain(rest).find_map(|b| {
        b.keys
            .iter()
            .find(|(key, scope)| scope.active(cx) && key.matches(k))
            .map(|(key, _)| match (b.action, key, k.code) {
                (Action::Apply, Key::Digits, KeyCode::Char(c)) => {
                    Action::Pick(c as usize - '1' as usize)
                }
                (Action::Apply, Key::Picks, KeyCode::Char(c)) => {
                    Action::Pick(PICK_KEYS.chars().position(|p| p == c).unwrap_or(usize::MAX))
                }
                (a, _, _) => a,
            })
    })
}

fn shown(b: &Binding, cx: &Context, for_help: bool) -> bool {
    match b.show {
        Show::Always => true,
        Show::Demo => cx.demo,
        Show::KeyOnly => true,
        Show::Profiles => for_help || cx.multi,
    }
}

/// The help overlay's rows, (keys, what they do), in table order.
pub fn help_rows(demo: bool) -> Vec<(&'static str, &'static str)> {
    let cx = Context {
        popup: None,
        city_focused: false,
        activity_focused: false,
        token_focused: false,
        claims: false,
        demo,
        multi: true,
    };
    BINDINGS
        .iter()
        .filter(|b| !b.label.is_empty() && shown(b, &cx, true))
        .map(|b| (b.label, b.help))
        .collect()
}

/// The command palette's entries: the help overlay's rows that are commands (not moves or
/// edits), as this mode offers them (the admin popup only where there is a sandbox to change),
/// one per action, in table order.
pub fn commands(demo: bool) -> Vec<&'static Binding> {
    let mut out: Vec<&'static Binding> = Vec::new();
    for b in BINDINGS {
        let command = !b.label.is_empty()
            && b.show != Show::KeyOnly
            && b.action != Action::Palette
            && (b.show != Show::Demo || demo);
        if command && !out.iter().any(|o| o.action == b.action) {
            out.push(b);
        }
    }
    out
}

/// [`commands`] matching `query`, best first: every word of the query in the key or the
/// help text (case-insensitive); then those where a query word is only found fuzzily, its
/// letters in order within one word of the text ("rfrsh" finds "refresh", "stup" "set-up").
/// An empty query matches everything, in table order.
pub fn filter_commands(query: &str, demo: bool) -> Vec<&'static Binding> {
    let query = query.to_lowercase();
    let words: Vec<&str> = query.split_whitespace().collect();
    let mut exact = Vec::new();
    let mut fuzzy = Vec::new();
    for b in commands(demo) {
        let text = format!("{} {}", b.label, b.help).to_lowercase();
        if words.iter().all(|w| text.contains(w)) {
            exact.push(b);
        } else if words
            .iter()
            .all(|w| text.contains(w) || text.split_whitespace().any(|t| in_order(w, t)))
        {
            fuzzy.push(b);
        }
    }
    exact.extend(fuzzy);
    exact
}

/// The letters of `word` appear in `text` in this order (not necessarily together).
fn in_order(word: &str, text: &str) -> bool {
    let mut rest = text.chars();
    word.chars().all(|l| rest.any(|c| c == l))
}

/// The footer's key hints for `cx`, fitted into `width` columns: the hints of every row with
/// a key active here, in table order; when they do not all fit, the lowest-priority ones
/// go first.
pub fn hints(cx: &Context, width: usize) -> String {
    const SEP: &str = " · ";
    let mut items: Vec<(&str, u8)> = Vec::new();
    for b in BINDINGS {
        let Some((text, prio)) = b.hint else { continue };
        let here = b.keys.iter().any(|(_, s)| *s != Everywhere && s.active(cx));
        // One hint per text: several rows can share it (p in panes and F2 in the box).
        if here && shown(b, cx, false) && !items.iter().any(|(t, _)| *t == text) {
            items.push((text, prio));
        }
    }
    let len = |items: &[(&str, u8)]| -> usize {
        items.iter().map(|(t, _)| t.chars().count()).sum::<usize>()
            + SEP.chars().count() * items.len().saturating_sub(1)
    };
    while len(&items) > width && !items.is_empty() {
        // Drop the last of the lowest priority.
        let Some(min) = items.iter().map(|(_, p)| *p).min() else {
            break;
        };
        if let Some(i) = items.iter().rposition(|(_, p)| *p == min) {
            items.remove(i);
        }
    }
    items.iter().map(|(t, _)| *t).collect::<Vec<_>>().join(SEP)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cx(popup: Option<Scope>, city: bool) -> Context {
        Context {
            popup,
            city_focused: city,
            activity_focused: false,
            token_focused: false,
            claims: false,
            demo: false,
            multi: false,
        }
    }

    fn k(code: KeyCode) -> KeyEvent {
        KeyEvent::new(code, KeyModifiers::NONE)
    }

    #[test]
    fn letters_act_outside_the_city_box_only() {
        assert_eq!(lookup(&k(KeyCode::Char('q')), &cx(None, true)), None);
        assert_eq!(
            lookup(&k(KeyCode::Char('q')), &cx(None, false)),
            Some(Action::Quit)
        );
        assert_eq!(
            lookup(&k(KeyCode::F(5)), &cx(None, true)),
            Some(Action::Refresh)
        );
    }

    #[test]
    fn ctrl_c_wins_over_every_popup_and_digits_pick_rows() {
        let ctrl_c = KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL);
        for popup in [Help, Admin, Picker, Compare, Confirm, CopyMenu] {
            assert_eq!(
                lookup(&ctrl_c, &cx(Some(popup), false)),
                Some(Action::Quit),
                "{popup:?}"
            );
        }
        assert_eq!(
            lookup(&k(KeyCode::Char('3')), &cx(Some(Picker), false)),
            Some(Action::Pick(2))
        );
        assert_eq!(
            lookup(&k(KeyCode::Char('x')), &cx(Some(Confirm), false)),
            Some(Action::ConfirmNo)
        );
        assert_eq!(
            lookup(&k(KeyCode::Char('!')), &cx(Some(Admin), false)),
            None
        );
        // Past 9, the admin popup's rows have letters (not its own a/q/j/k).
        assert_eq!(
            lookup(&k(KeyCode::Char('b')), &cx(Some(Admin), false)),
            Some(Action::Pick(9))
        );
        assert_eq!(pick_key(9), Some('b'));
        for own in ['a', 'q', 'j', 'k'] {
            assert!(!PICK_KEYS.contains(own), "{own}");
        }
    }

    #[test]
    fn every_action_reachable_and_every_help_row_has_text() {
        for b in BINDINGS {
            assert!(!b.keys.is_empty(), "{:?} has no key", b.action);
            assert_eq!(b.label.is_empty(), b.help.is_empty(), "{:?}", b.action);
        }
        let help = help_rows(true);
        assert!(
            help.iter().any(|(k, _)| *k == "a"),
            "demo lists the admin key"
        );
        assert!(!help_rows(false).iter().any(|(k, _)| *k == "a"));
    }

    #[test]
    fn the_palette_lists_commands_not_moves_and_filters() {
        let all = commands(false);
        let actions: Vec<Action> = all.iter().map(|b| b.action).collect();
        for a in [
            Action::Refresh,
            Action::Setup,
            Action::ToggleRaw,
            Action::Quit,
        ] {
            assert!(actions.contains(&a), "{a:?} in {actions:?}");
        }
        for a in [
            Action::Up,
            Action::HistoryPrev,
            Action::Admin,
            Action::Palette,
        ] {
            assert!(!actions.contains(&a), "{a:?} is not a command here");
        }
        assert!(
            commands(true).iter().any(|b| b.action == Action::Admin),
            "the admin popup is a command where there is a sandbox"
        );
        // Every entry is a row of the table, with its keys and help text.
        assert!(
            all.iter()
                .all(|b| !b.label.is_empty() && !b.help.is_empty())
        );
        let first = |q: &str| filter_commands(q, false).first().map(|b| b.action);
        assert_eq!(first("refresh"), Some(Action::Refresh));
        assert_eq!(first("RAW json"), Some(Action::ToggleRaw));
        assert_eq!(
            first("stup"),
            Some(Action::Setup),
            "fuzzy: letters in order"
        );
        assert_eq!(first("rfrsh"), Some(Action::Refresh));
        let set: Vec<Action> = filter_commands("set", false)
            .iter()
            .map(|b| b.action)
            .collect();
        assert_eq!(
            set,
            [Action::Setup],
            "no letters scattered over several words"
        );
        assert!(filter_commands("zzzz", false).is_empty());
        assert_eq!(filter_commands("", false).len(), all.len());
    }

    #[test]
    fn the_focused_pane_hints_its_own_keys() {
        let mut token = cx(None, false);
        token.token_focused = true;
        let h = hints(&token, 78);
        assert!(h.contains("t raw") && h.contains("y copy"), "{h}");
        let mut demo = cx(None, false);
        demo.demo = true;
        assert!(hints(&demo, 78).contains("a admin"), "{}", hints(&demo, 78));
        assert!(hints(&cx(None, true), 78).contains("Ctrl-P commands"));
        assert!(hints(&cx(None, false), 78).contains(": commands"));
    }

    #[test]
    fn hints_fit_the_width_dropping_the_least_important() {
        let wide = hints(&cx(None, false), 200);
        assert!(wide.starts_with("Enter call"), "{wide}");
        assert!(wide.contains("t raw") && wide.contains("q quit"), "{wide}");
        let narrow = hints(&cx(None, false), 40);
        assert!(narrow.chars().count() <= 40, "{narrow}");
        assert!(
            narrow.contains("Enter call") && narrow.contains("? help"),
            "{narrow}"
        );
        assert!(!narrow.contains("y copy"), "{narrow}");
    }
}
