//! Every key the dashboard knows, in one table: the help overlay is generated from it.

/// (keys, what they do, demo only)
pub const KEYS: &[(&str, &str, bool)] = &[
    ("Tab / Shift-Tab", "move focus between panes", false),
    (
        "Enter",
        "call the weather API for the city in the box",
        false,
    ),
    (
        "↑ / ↓ (city box)",
        "previous / next city from history",
        false,
    ),
    ("Esc (city box)", "clear the city box", false),
    ("Esc (elsewhere)", "back to the city box", false),
    ("↑ ↓ PgUp PgDn Home End", "scroll the focused pane", false),
    (
        "↑ / ↓ (Token pane)",
        "select a claim and show what it means",
        false,
    ),
    ("PgUp / PgDn (city box)", "scroll the weather pane", false),
    ("r  or  F5", "refresh the token now", false),
    (
        "p  or  F2",
        "switch profile (visited ones keep refreshing)",
        false,
    ),
    (
        "c  or  F3",
        "compare the profiles' roles side by side",
        false,
    ),
    ("t", "toggle raw token header and payload JSON", false),
    ("y", "copy the access token (OSC 52), asks y/n first", false),
    (
        "a",
        "demo admin: roles, required role, lifetime, key, secret",
        true,
    ),
    ("?  or  F1", "this help", false),
    ("q", "quit (in the city box q types q)", false),
    ("Ctrl-C", "quit, from anywhere", false),
];

/// Footer hints for when the city box / the Token pane (claims) / another pane has focus.
pub const HINT_CITY: &str =
    "Enter call · ↑↓ history · Tab focus · F5 refresh token · F1 help · Ctrl-C quit";
pub const HINT_TOKEN: &str =
    "Enter call · ↑↓ claim · t raw · r refresh · y copy · Tab focus · ? help · q quit";
pub const HINT_PANE: &str =
    "Enter call · r refresh · t raw · y copy · ↑↓ scroll · Tab focus · ? help · q quit";

/// The same with several profiles: the profile keys replace the rarer ones (F1 lists all).
pub const HINT_CITY_PROFILES: &str =
    "Enter call · ↑↓ history · Tab focus · F2 profiles · F3 compare · F1 help";
pub const HINT_TOKEN_PROFILES: &str =
    "Enter call · ↑↓ claim · p profiles · c compare · r refresh · ? help · q quit";
pub const HINT_PANE_PROFILES: &str =
    "Enter call · p profiles · c compare · r refresh · Tab focus · ? help · q quit";
/// Footer hints over the profile picker and the compare view.
pub const HINT_PICKER: &str = "↑↓ select · Enter or 1-9 switch · c compare · Esc close";
pub const HINT_COMPARE: &str =
    "Enter call the API as every profile · r refresh all · p profiles · Esc close";
