//! What the dashboard remembers across runs: per config file (and one set for the demo), the
//! last active profile, the focused pane and each profile's city history. One small text
//! file, `dashboard-memory.txt` in the platform data dir (or `$TOKENSCOPE_DATA_DIR`), written
//! atomically with mode 0600 when the dashboard closes.
//!
//! The file is read back as hostile: at most 64 KiB, never through a symbolic link, every
//! line that is not exactly a record of the expected shape is dropped, names are sanitised
//! and capped, cities are validated as the city box validates them. A broken file costs the
//! memory, never the dashboard.
//!
//! Owns the file format and the mapping to and from [`App`] state; draws nothing.

use std::collections::HashMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use super::app::{App, Focus, HISTORY_CAP};
use crate::files::{FileKind, ReadError};

/// Overrides the platform data dir (memory file, default log file), e.g. for tests.
pub const DATA_DIR_ENV: &str = "TOKENSCOPE_DATA_DIR";

const FILE_NAME: &str = "dashboard-memory.txt";
const HEADER: &str = "# tokenscope dashboard memory (last profile, focused pane, cities per config file); safe to delete";
/// Config files remembered (the most recently used kept).
const SCOPES_CAP: usize = 16;
/// Profiles per config file whose cities are remembered.
const PROFILES_CAP: usize = 64;
/// Longest scope (a config path) or profile name kept.
const NAME_CAP: usize = 512;

/// The platform data dir (`~/.local/share/tokenscope` on Linux), or `$TOKENSCOPE_DATA_DIR`.
pub fn data_dir() -> Option<PathBuf> {
    match std::env::var_os(DATA_DIR_ENV) {
        Some(d) if !d.is_empty() => Some(PathBuf::from(d)),
        _ => directories::ProjectDirs::from("", "", "tokenscope").map(|d| d.data_dir().into()),
    }
}

/// Where the memory lives.
pub fn memory_file() -> Option<PathBuf> {
    data_dir().map(|d| d.join(FILE_NAME))
}

/// What is remembered for one config file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Remembered {
    pub profile: Option<String>,
    pub focus: Option<Focus>,
    /// Each profile's cities, oldest first.
    pub cities: Vec<(String, Vec<String>)>,
}

/// The whole file: each config file's [`Remembered`], most recently saved last.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Memory {
    scopes: Vec<(String, Remembered)>,
}

fn focus_name(f: Focus) -> &'static str {
    match f {
        Focus::City => "city",
        Focus::Token => "token",
        Focus::Weather => "weather",
        Focus::Activity => "activity",
        Focus::Config => "config",
    }
}

fn focus_from(s: &str) -> Option<Focus> {
    Some(match s {
        "city" => Focus::City,
        "token" => Focus::Token,
        "weather" => Focus::Weather,
        "activity" => Focus::Activity,
        "config" => Focus::Config,
        _ => return None,
    })
}

/// A field fit to write and to keep: no tab, newline or other control character, not empty,
/// at most [`NAME_CAP`] characters.
fn field(s: &str) -> Option<&str> {
    (!s.is_empty() && s.chars().count() <= NAME_CAP && !s.chars().any(char::is_control))
        .then_some(s)
}

impl Memory {
    /// Read the memory file; a missing one is empty memory, a broken one is empty memory
    /// and a warning saying so.
    pub fn load(path: &Path) -> (Memory, Option<String>) {
        match crate::files::read_no_follow(path, FileKind::DashboardMemory) {
            Ok(bytes) => (Memory::parse(&String::from_utf8_lossy(&bytes)), None),
            Err(ReadError::NotFound { .. }) => (Memory::default(), None),
            Err(e) => (
                Memory::default(),
                Some(format!(
                    "not restoring the last session: {}",
                    crate::problem::Problem::summary(&e)
                )),
            ),
        }
    }

    /// The records of `text`; anything else is dropped.
    pub fn parse(text: &str) -> Memory {
        let mut m = Memory::default();
        for line in text.lines() {
            let parts: Vec<&str> = line.split('\t').collect();
            let Some(scope) = parts.first().copied().and_then(field) else {
                continue;
            };
            if line.starts_with('#') {
                continue;
            }
            let fields: Option<Vec<&str>> = parts[1..].iter().map(|p| field(p)).collect();
            let Some(fields) = fields else { continue };
            let r = m.entry(scope);
            match fields.as_slice() {
                ["profile", name] => r.profile = Some(name.to_string()),
                ["focus", f] => {
                    if let Some(f) = focus_from(f) {
                        r.focus = Some(f);
                    }
                }
                ["city", profile, city] => {
                    let Ok(city) = crate::api::validate_city(city) else {
                        continue;
                    };
                    let city = city.to_string();
                    let known = r.cities.len();
                    match r.cities.iter_mut().find(|(p, _)| p == profile) {
                        Some((_, list)) => {
                            list.retain(|c| *c != city);
                            list.push(city);
                            if list.len() > HISTORY_CAP {
                                list.remove(0);
                            }
                        }
                        None if known < PROFILES_CAP => {
                            r.cities.push((profile.to_string(), vec![city]))
                        }
                        None => {}
                    }
                }
                _ => {}
            }
        }
        m.scopes.retain(|(_, r)| *r != Remembered::default());
        m.trim();
        m
    }

    /// The file's text.
    pub fn render(&self) -> String {
        let mut out = format!("{HEADER}\n");
        for (scope, r) in &self.scopes {
            let Some(scope) = field(scope) else { continue };
            if let Some(p) = r.profile.as_deref().and_then(field) {
                out.push_str(&format!("{scope}\tprofile\t{p}\n"));
            }
            if let Some(f) = r.focus {
                out.push_str(&format!("{scope}\tfocus\t{}\n", focus_name(f)));
            }
            for (profile, cities) in r.cities.iter().take(PROFILES_CAP) {
                let Some(profile) = field(profile) else {
                    continue;
                };
                let newest = cities.len().saturating_sub(HISTORY_CAP);
                for c in cities[newest..].iter().filter_map(|c| field(c)) {
                    out.push_str(&format!("{scope}\tcity\t{profile}\t{c}\n"));
                }
            }
        }
        out
    }

    fn entry(&mut self, scope: &str) -> &mut Remembered {
        let i = match self.scopes.iter().position(|(s, _)| s == scope) {
            Some(i) => i,
            None => {
                self.scopes.push((scope.to_string(), Remembered::default()));
                self.scopes.len() - 1
            }
        };
        &mut self.scopes[i].1
    }

    /// Keep the most recently saved [`SCOPES_CAP`] config files.
    fn trim(&mut self) {
        let extra = self.scopes.len().saturating_sub(SCOPES_CAP);
        self.scopes.drain(..extra);
    }

    /// What is remembered for `scope`.
    pub fn get(&self, scope: &str) -> Remembered {
        self.scopes
            .iter()
            .find(|(s, _)| s == scope)
            .map(|(_, r)| r.clone())
            .unwrap_or_default()
    }

    /// Remember `r` for `scope` (as the most recent).
    pub fn set(&mut self, scope: &str, r: Remembered) {
        self.scopes.retain(|(s, _)| s != scope);
        self.scopes.push((scope.to_string(), r));
        self.trim();
    }

    /// Write the file atomically: a 0600 temporary file beside it, synced, then renamed over
    /// it (the directory is made 0700 if missing).
    pub fn save(&self, path: &Path) -> std::io::Result<()> {
        let dir = path
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let mut b = std::fs::DirBuilder::new();
        b.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut b, 0o700);
        b.create(dir)?;
        let tmp = dir.join(format!(
            ".{FILE_NAME}.{}.{}.tmp",
            std::process::id(),
            rand::random::<u64>()
        ));
        let result = (|| {
            let mut opts = std::fs::OpenOptions::new();
            opts.write(true).create_new(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
            let mut f = opts.open(&tmp)?;
            f.write_all(self.render().as_bytes())?;
            f.sync_all()?;
            std::fs::rename(&tmp, path)
        })();
        if result.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        result
    }
}

impl App {
    /// What to remember of this session.
    pub fn remembered(&self) -> Remembered {
        let mut histories = self.histories.clone();
        histories.insert(self.cur().name.clone(), self.city.history().to_vec());
        let cities = self
            .profiles
            .iter()
            .filter_map(|p| {
                let h = histories.get(&p.name)?;
                (!h.is_empty()).then(|| (p.name.clone(), h.clone()))
            })
            .collect();
        Remembered {
            profile: Some(self.cur().name.clone()),
            focus: Some(self.focus),
            cities,
        }
    }

    /// Restore the focused pane and the cities of an earlier session (the profile is chosen
    /// before the App is made; see [`Remembered::profile_index`]).
    pub fn restore(&mut self, r: &Remembered) {
        if let Some(f) = r.focus {
            self.focus = f;
        }
        self.histories = r.cities.iter().cloned().collect::<HashMap<_, _>>();
        let name = self.cur().name.clone();
        let own = self.histories.remove(&name).unwrap_or_default();
        self.city.set_history(own);
    }
}

impl Remembered {
    /// The remembered profile's index in `names`, if it is still there.
    pub fn profile_index<'a>(&self, mut names: impl Iterator<Item = &'a str>) -> Option<usize> {
        let want = self.profile.as_deref()?;
        names.position(|n| n == want)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tui::fixtures::*;
    use crossterm::event::KeyCode;

    #[test]
    fn round_trip_through_the_file_with_0600() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub").join(FILE_NAME);
        let mut m = Memory::default();
        let r = Remembered {
            profile: Some("mobile-ro".into()),
            focus: Some(Focus::Weather),
            cities: vec![
                ("console-rw".into(), vec!["Oslo".into(), "Seattle".into()]),
                ("mobile-ro".into(), vec!["Lima".into()]),
            ],
        };
        m.set("/home/ada/.config/tokenscope/config.toml", r.clone());
        m.set("demo", Remembered::default());
        m.save(&path).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
        }
        let (back, warning) = Memory::load(&path);
        assert_eq!(warning, None);
        assert_eq!(back.get("/home/ada/.config/tokenscope/config.toml"), r);
        assert_eq!(back.get("elsewhere"), Remembered::default());
        // No temporary file left behind.
        let left: Vec<_> = std::fs::read_dir(path.parent().unwrap()).unwrap().collect();
        assert_eq!(left.len(), 1);
    }

    #[test]
    fn hostile_content_is_dropped_line_by_line() {
        let long = "x".repeat(NAME_CAP + 1);
        let text = format!(
            "s\tprofile\tok\n\
             s\tfocus\tnowhere\n\
             s\tcity\tp\tOslo\n\
             s\tcity\tp\t\u{1b}]52;c;AAAA\u{7}\n\
             s\tcity\tp\t{long}\n\
             s\tcity\tp\t{}\n\
             s\tcity\tp\n\
             s\tcity\tp\tLima\textra\n\
             {long}\tprofile\tx\n\
             garbage with no tabs\n\
             \u{0}\u{0}\u{0}\n",
            "c".repeat(crate::api::MAX_CITY_LEN + 1)
        );
        let m = Memory::parse(&text);
        let r = m.get("s");
        assert_eq!(r.profile.as_deref(), Some("ok"));
        assert_eq!(r.focus, None);
        assert_eq!(r.cities, vec![("p".to_string(), vec!["Oslo".to_string()])]);
        assert_eq!(m.scopes.len(), 1, "{m:?}");
        // Not UTF-8, a symlink, too large: empty memory (with a warning for the last two).
        let dir = tempfile::tempdir().unwrap();
        let bin = dir.path().join("bin");
        std::fs::write(&bin, [0xff, 0xfe, b'\t', 0x80]).unwrap();
        assert_eq!(Memory::load(&bin).0, Memory::default());
        let big = dir.path().join("big");
        std::fs::write(&big, vec![b'a'; 65 * 1024]).unwrap();
        let (m, w) = Memory::load(&big);
        assert_eq!(m, Memory::default());
        assert!(w.unwrap().contains("not restoring"));
        #[cfg(unix)]
        {
            let link = dir.path().join("link");
            std::os::unix::fs::symlink(&bin, &link).unwrap();
            assert!(Memory::load(&link).1.is_some(), "a planted link is refused");
        }
        assert_eq!(
            Memory::load(&dir.path().join("none")),
            (Memory::default(), None)
        );
    }

    #[test]
    fn caps_hold_on_read_and_write() {
        let mut text = String::new();
        for i in 0..(HISTORY_CAP + 10) {
            text.push_str(&format!("s\tcity\tp\tCity{i}\n"));
        }
        for i in 0..(SCOPES_CAP + 5) {
            text.push_str(&format!("scope{i}\tprofile\tp\n"));
        }
        let m = Memory::parse(&text);
        assert_eq!(m.scopes.len(), SCOPES_CAP);
        let mut m = Memory::parse(&format!("s\tprofile\tp\n{text}"));
        m.set(
            "s",
            Remembered {
                cities: vec![("p".into(), (0..200).map(|i| format!("C{i}")).collect())],
                ..Remembered::default()
            },
        );
        let back = Memory::parse(&m.render());
        let cities = &back.get("s").cities[0].1;
        assert_eq!(cities.len(), HISTORY_CAP);
        assert_eq!(
            cities.last().map(String::as_str),
            Some("C199"),
            "the newest kept"
        );
    }

    #[test]
    fn the_app_restores_focus_and_each_profiles_cities() {
        let mut app = profiles_app(false, 90);
        type_str(&mut app, "Oslo");
        app.update(key(KeyCode::Enter));
        app.update(key(KeyCode::F(2)));
        app.update(ch('2'));
        app.update(key(KeyCode::Esc));
        type_str(&mut app, "Lima");
        app.update(key(KeyCode::Enter));
        app.update(key(KeyCode::Tab));
        app.update(key(KeyCode::Tab));
        let r = app.remembered();
        assert_eq!(r.profile.as_deref(), Some("mobile-ro"));
        assert_eq!(r.focus, Some(Focus::Weather));
        assert_eq!(
            r.cities,
            vec![
                ("console-rw".to_string(), vec!["Oslo".to_string()]),
                ("mobile-ro".to_string(), vec!["Lima".to_string()]),
            ]
        );
        let names = ["console-rw", "mobile-ro", "no-roles"];
        assert_eq!(r.profile_index(names.iter().copied()), Some(1));
        let gone = Remembered {
            profile: Some("deleted".into()),
            ..r.clone()
        };
        assert_eq!(gone.profile_index(names.iter().copied()), None);
        // A new session on mobile-ro: its own cities, then console-rw's after a switch.
        let mut next = App::with_profiles(&profiles(), 1, options(false));
        next.restore(&r);
        assert_eq!(next.focus(), Focus::Weather);
        assert_eq!(next.city.last(), Some("Lima"));
        next.update(key(KeyCode::F(2)));
        next.update(ch('1'));
        assert_eq!(next.city.last(), Some("Oslo"));
    }
}
