//! The module boundaries, checked like the compiler would if the layers were crates.
//!
//! Reads every `src/**/*.rs` (not `main.rs`, not `#[cfg(test)]` items), collects every path
//! into the crate — `use crate::…` / `use super::…` statements, grouped ones such as
//! `use crate::{a, b::c}` included, and paths written inline in code — and fails, naming the
//! file and line, when:
//!
//! - sibling modules import each other in a cycle, at any level (the top-level modules,
//!   `sandbox`'s children, `auth`'s, …);
//! - a module imports one in its own or a higher layer of [`LAYERS`] (the order written down
//!   in `src/lib.rs`);
//! - a core module (anything but `tui` and `cli`) uses `tui`, `cli` or a terminal crate;
//! - `sandbox` uses the client side (`auth`, `api`, `config`, `diagnose`) or a front end.
//!
//! A path is attributed to the deepest module it names; a name re-exported by a parent
//! (`crate::auth::CacheKey`, defined in `auth::cache`) counts as the parent. Paths inside
//! string literals and comments are ignored.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Top-level modules by layer, lowest first. A module may import only from lower layers.
const LAYERS: &[(&str, u8)] = &[
    ("text", 0),
    ("time", 0),
    ("secret", 0),
    ("severity", 0),
    ("problem", 0),
    ("files", 1),
    ("http", 2),
    ("jwt", 3),
    ("credential", 4),
    ("config", 5),
    ("sandbox", 5),
    ("auth", 6),
    ("api", 6),
    ("graph", 7),
    ("diagnose", 8),
    ("tui", 9),
    ("cli", 10),
];

/// The front ends: the only modules that may use a terminal crate.
const FRONT_ENDS: &[&str] = &["tui", "cli"];
const TERMINAL_CRATES: &[&str] = &["ratatui", "crossterm", "tui_input"];
/// What the sandbox must never use: the client side and the front ends.
const NOT_FOR_SANDBOX: &[&str] = &["auth", "api", "config", "diagnose", "tui", "cli"];

/// Sibling cycles another branch is removing: (parent module, the modules in the cycle).
/// Listed exactly, so a new cycle still fails, and so does this entry once the cycle is
/// gone (remove it then).
const PENDING_CYCLES: &[(&str, &[&str])] = &[];

#[test]
fn module_boundaries_hold() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    read_tree(&root, &root, &mut files);
    assert!(
        files.iter().any(|(p, _)| p == Path::new("lib.rs")),
        "no src/lib.rs under {}",
        root.display()
    );
    let graph = Graph::build(&files);
    let mut problems = graph.boundary_problems();
    problems.extend(graph.cycle_problems(PENDING_CYCLES));
    assert!(
        problems.is_empty(),
        "module boundaries broken:\n\n{}\n",
        problems.join("\n\n")
    );
    // The checker saw the crate it is meant to check.
    assert!(graph.modules.contains("sandbox::idp") && graph.modules.contains("auth::manager"));
    assert!(
        graph.edges.len() > 50,
        "only {} imports found",
        graph.edges.len()
    );
}

fn read_tree(root: &Path, dir: &Path, out: &mut Vec<(PathBuf, String)>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .map(|e| e.expect("directory entry").path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            read_tree(root, &path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let rel = path.strip_prefix(root).expect("under src").to_path_buf();
            if rel != Path::new("main.rs") {
                let text = std::fs::read_to_string(&path)
                    .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
                out.push((rel, text));
            }
        }
    }
}

// ---- the graph -----------------------------------------------------------------------

/// One use of another module: where it is written and what it says.
#[derive(Debug, Clone)]
struct Use {
    file: String,
    line: usize,
    path: String,
}

#[derive(Debug, Default)]
struct Graph {
    /// Every module that has a file (not counting `#[cfg(test)]` modules), `a::b` style.
    modules: BTreeSet<String>,
    /// (from module, to module) → the first place it happens.
    edges: BTreeMap<(String, String), Use>,
    /// (module, external crate) → the first place it happens.
    crates: BTreeMap<(String, String), Use>,
}

impl Graph {
    fn build(files: &[(PathBuf, String)]) -> Graph {
        let mut g = Graph::default();
        let mut test_modules = BTreeSet::new();
        let mut parsed = Vec::new();
        for (path, text) in files {
            let module = module_of(path);
            let code = strip_cfg_test(&blank_comments_and_strings(text), |name| {
                test_modules.insert(join(&module, name));
            });
            parsed.push((path, module, code));
        }
        let is_test = |m: &str| {
            test_modules
                .iter()
                .any(|t| m == t || m.starts_with(&format!("{t}::")))
        };
        for (_, module, _) in &parsed {
            if !is_test(module) {
                g.modules.insert(module.clone());
            }
        }
        for (path, module, code) in &parsed {
            if is_test(module) {
                continue;
            }
            for (line, segments) in paths_in(code) {
                let place = Use {
                    file: format!("src/{}", path.display()),
                    line,
                    path: segments.join("::"),
                };
                match resolve(module, &segments, &g.modules) {
                    Some(Target::Module(to)) if to != *module => {
                        g.edges.entry((module.clone(), to)).or_insert(place);
                    }
                    Some(Target::Crate(name)) => {
                        g.crates.entry((module.clone(), name)).or_insert(place);
                    }
                    _ => {}
                }
            }
        }
        g
    }

    /// Rules about who may use whom, top-level modules only.
    fn boundary_problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        let layer = |m: &str| LAYERS.iter().find(|(n, _)| *n == m).map(|(_, l)| *l);
        for m in &self.modules {
            let top = top(m);
            if !top.is_empty() && layer(top).is_none() {
                out.push(format!(
                    "`{top}` is not in LAYERS (tests/architecture.rs): put it in the layer it \
                     belongs to (and in src/lib.rs's list)"
                ));
            }
        }
        for ((from, to), at) in &self.edges {
            let (f, t) = (top(from), top(to));
            if f == t || f.is_empty() || t.is_empty() {
                continue;
            }
            if !FRONT_ENDS.contains(&f) && FRONT_ENDS.contains(&t) {
                out.push(format!(
                    "core module `{from}` uses the front end `{to}`: {}",
                    at.describe()
                ));
            }
            if f == "sandbox" && NOT_FOR_SANDBOX.contains(&t) {
                out.push(format!(
                    "the sandbox (`{from}`) uses `{to}`; it may use only the base modules, jwt \
                     and credential: {}",
                    at.describe()
                ));
            }
            if let (Some(lf), Some(lt)) = (layer(f), layer(t))
                && lt >= lf
            {
                out.push(format!(
                    "`{from}` (layer {lf}) uses `{to}` (layer {lt}); imports go to lower layers \
                     only: {}",
                    at.describe()
                ));
            }
        }
        for ((from, name), at) in &self.crates {
            if !FRONT_ENDS.contains(&top(from)) {
                out.push(format!(
                    "core module `{from}` uses the terminal crate `{name}`: {}",
                    at.describe()
                ));
            }
        }
        out.sort();
        out.dedup();
        out
    }

    /// Cycles among the children of every module (and of the crate root).
    fn cycle_problems(&self, pending: &[(&str, &[&str])]) -> Vec<String> {
        let mut out = Vec::new();
        let mut parents: BTreeSet<String> = BTreeSet::from([String::new()]);
        parents.extend(self.modules.iter().cloned());
        let mut seen_pending = BTreeSet::new();
        for parent in &parents {
            let sibling_edges = self.sibling_edges(parent);
            for cycle in cycles(&sibling_edges) {
                let allowed = pending.iter().any(|(p, members)| {
                    *p == parent && members.iter().copied().eq(cycle.iter().map(String::as_str))
                });
                if allowed {
                    seen_pending.insert(parent.clone());
                    continue;
                }
                let name = if parent.is_empty() {
                    "the crate"
                } else {
                    parent
                };
                let mut text = format!(
                    "import cycle among the children of {name}: {}",
                    cycle.join(" ⇄ ")
                );
                for ((a, b), at) in &sibling_edges {
                    if cycle.contains(a) && cycle.contains(b) {
                        text.push_str(&format!("\n  {a} → {b}: {}", at.describe()));
                    }
                }
                out.push(text);
            }
        }
        for (parent, members) in pending {
            if !seen_pending.contains(*parent) {
                out.push(format!(
                    "the pending cycle among {parent}'s children ({}) is gone: remove it from \
                     PENDING_CYCLES in tests/architecture.rs",
                    members.join(", ")
                ));
            }
        }
        out
    }

    /// Edges between children of `parent` (a use anywhere below child A of something below
    /// child B is an edge A → B).
    fn sibling_edges(&self, parent: &str) -> BTreeMap<(String, String), Use> {
        let child_of = |m: &str| -> Option<String> {
            let rest = if parent.is_empty() {
                m
            } else {
                m.strip_prefix(parent)?.strip_prefix("::")?
            };
            let first = rest.split("::").next().filter(|s| !s.is_empty())?;
            Some(join(parent, first))
        };
        let mut out = BTreeMap::new();
        for ((from, to), at) in &self.edges {
            if let (Some(a), Some(b)) = (child_of(from), child_of(to))
                && a != b
            {
                out.entry((a, b)).or_insert_with(|| at.clone());
            }
        }
        out
    }
}

impl Use {
    fn describe(&self) -> String {
        format!("{}:{} uses {}", self.file, self.line, self.path)
    }
}

fn top(module: &str) -> &str {
    module.split("::").next().unwrap_or_default()
}

fn join(parent: &str, child: &str) -> String {
    if parent.is_empty() {
        child.to_string()
    } else {
        format!("{parent}::{child}")
    }
}

/// `lib.rs` → "", `auth.rs` → "auth", `auth/manager.rs` or `auth/manager/mod.rs` →
/// "auth::manager".
fn module_of(path: &Path) -> String {
    let mut parts: Vec<String> = path
        .with_extension("")
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if parts.last().is_some_and(|l| l == "mod" || l == "lib") {
        parts.pop();
    }
    parts.join("::")
}

enum Target {
    Module(String),
    Crate(String),
}

/// What a path (its segments as written) points at, seen from `module`.
fn resolve(module: &str, segments: &[String], modules: &BTreeSet<String>) -> Option<Target> {
    let first = segments.first()?.as_str();
    let mut base: Vec<&str> = match first {
        "crate" => Vec::new(),
        "self" | "super" => module.split("::").filter(|s| !s.is_empty()).collect(),
        name if TERMINAL_CRATES.contains(&name) && segments.len() > 1 => {
            return Some(Target::Crate(name.to_string()));
        }
        _ => return None,
    };
    let mut rest = &segments[1..];
    if first == "super" {
        base.pop()?;
        while rest.first().is_some_and(|s| s == "super") {
            base.pop()?;
            rest = &rest[1..];
        }
    }
    // The deepest module the path names.
    let mut best = base.join("::");
    let mut cur = base.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    for seg in rest {
        cur.push(seg.clone());
        let candidate = cur.join("::");
        if modules.contains(&candidate) {
            best = candidate;
        } else {
            break;
        }
    }
    Some(Target::Module(best))
}

/// The modules in each cycle of a directed graph (its strongly connected components with
/// more than one node), each sorted.
fn cycles(edges: &BTreeMap<(String, String), Use>) -> Vec<Vec<String>> {
    let nodes: BTreeSet<&String> = edges.keys().flat_map(|(a, b)| [a, b]).collect();
    let reach = |from: &String| -> BTreeSet<String> {
        let mut seen = BTreeSet::new();
        let mut stack = vec![from.clone()];
        while let Some(n) = stack.pop() {
            for (a, b) in edges.keys() {
                if *a == n && seen.insert(b.clone()) {
                    stack.push(b.clone());
                }
            }
        }
        seen
    };
    let reachable: BTreeMap<&String, BTreeSet<String>> =
        nodes.iter().map(|n| (*n, reach(n))).collect();
    let mut out: Vec<Vec<String>> = Vec::new();
    for n in &nodes {
        let mut scc: Vec<String> = nodes
            .iter()
            .filter(|m| reachable[*n].contains(**m) && reachable[**m].contains(*n))
            .map(|m| (*m).clone())
            .collect();
        scc.sort();
        if scc.len() > 1 && !out.contains(&scc) {
            out.push(scc);
        }
    }
    out
}

// ---- reading Rust text -----------------------------------------------------------------

/// The text with comments, string and char literals replaced by spaces (newlines kept, so
/// line numbers stay right).
fn blank_comments_and_strings(text: &str) -> String {
    let c: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let blank = |out: &mut String, ch: char| out.push(if ch == '\n' { '\n' } else { ' ' });
    let mut i = 0;
    while i < c.len() {
        let next = c.get(i + 1).copied();
        if c[i] == '/' && next == Some('/') {
            while i < c.len() && c[i] != '\n' {
                blank(&mut out, c[i]);
                i += 1;
            }
        } else if c[i] == '/' && next == Some('*') {
            let mut depth = 0;
            while i < c.len() {
                if c[i] == '/' && c.get(i + 1) == Some(&'*') {
                    depth += 1;
                    out.push_str("  ");
                    i += 2;
                } else if c[i] == '*' && c.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    out.push_str("  ");
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    blank(&mut out, c[i]);
                    i += 1;
                }
            }
        } else if let Some(hashes) = raw_string_start(&c, i) {
            // r"…", r#"…"#, br"…": ends at a quote followed by the same number of #.
            let open = c[i..]
                .iter()
                .position(|&x| x == '"')
                .map_or(c.len(), |p| i + p);
            for &ch in &c[i..=open.min(c.len() - 1)] {
                blank(&mut out, ch);
            }
            i = open + 1;
            while i < c.len() {
                let closes = c[i] == '"' && (1..=hashes).all(|k| c.get(i + k) == Some(&'#'));
                if closes {
                    for _ in 0..=hashes {
                        out.push(' ');
                    }
                    i += hashes + 1;
                    break;
                }
                blank(&mut out, c[i]);
                i += 1;
            }
        } else if c[i] == '"' {
            out.push(' ');
            i += 1;
            while i < c.len() && c[i] != '"' {
                if c[i] == '\\' && i + 1 < c.len() {
                    blank(&mut out, c[i]);
                    i += 1;
                }
                blank(&mut out, c[i]);
                i += 1;
            }
            out.push(' ');
            i += 1;
        } else if c[i] == '\'' && is_char_literal(&c, i) {
            out.push(' ');
            i += 1;
            while i < c.len() && c[i] != '\'' {
                if c[i] == '\\' {
                    out.push(' ');
                    i += 1;
                }
                if i < c.len() {
                    blank(&mut out, c[i]);
                    i += 1;
                }
            }
            out.push(' ');
            i += 1;
        } else {
            out.push(c[i]);
            i += 1;
        }
    }
    out
}

/// At a raw string (`r"`, `r#"`, `br"`…, not part of an identifier): how many `#`.
fn raw_string_start(c: &[char], i: usize) -> Option<usize> {
    if i > 0 && (c[i - 1].is_alphanumeric() || c[i - 1] == '_') {
        return None;
    }
    let mut j = i;
    if c.get(j) == Some(&'b') {
        j += 1;
    }
    if c.get(j) != Some(&'r') {
        return None;
    }
    j += 1;
    let mut hashes = 0;
    while c.get(j) == Some(&'#') {
        hashes += 1;
        j += 1;
    }
    (c.get(j) == Some(&'"')).then_some(hashes)
}

/// `'a'`, `'\n'`, `'\u{1b}'` are char literals; `'a` in `&'a str` is a lifetime.
fn is_char_literal(c: &[char], i: usize) -> bool {
    matches!(
        (c.get(i + 1), c.get(i + 2)),
        (Some('\\'), _) | (Some(_), Some('\''))
    )
}

/// The code without `#[cfg(test)]` items; calls `test_module` with the name of each
/// `#[cfg(test)] mod name;` (its file is test-only).
fn strip_cfg_test(code: &str, mut test_module: impl FnMut(&str)) -> String {
    let mut out = code.to_string();
    let mut from = 0;
    while let Some(at) = out[from..].find("#[cfg(test)]").map(|p| p + from) {
        let item_start = at;
        let bytes = out.as_bytes();
        let mut i = at + "#[cfg(test)]".len();
        let mut depth = 0usize;
        let mut end = out.len();
        while i < bytes.len() {
            match bytes[i] {
                b'{' => depth += 1,
                b'}' => {
                    depth = depth.saturating_sub(1);
                    if depth == 0 {
                        end = i + 1;
                        break;
                    }
                }
                b';' if depth == 0 => {
                    end = i + 1;
                    let item = &out[item_start..end];
                    if let Some(name) = declared_module(item) {
                        test_module(&name);
                    }
                    break;
                }
                _ => {}
            }
            i += 1;
        }
        let blanked: String = out[item_start..end]
            .chars()
            .map(|ch| if ch == '\n' { '\n' } else { ' ' })
            .collect();
        out.replace_range(item_start..end, &blanked);
        from = item_start + blanked.len();
    }
    out
}

/// `name` in `… mod name;`.
fn declared_module(item: &str) -> Option<String> {
    let words: Vec<&str> = item
        .split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .filter(|w| !w.is_empty())
        .collect();
    let at = words.iter().position(|w| *w == "mod")?;
    words.get(at + 1).map(|w| w.to_string())
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Ident(String),
    Path,
    Open,
    Close,
    Comma,
    Semi,
    Star,
    Other,
}

/// Tokens with their line numbers; only what paths are made of is told apart.
fn tokens(code: &str) -> Vec<(usize, Tok)> {
    let c: Vec<char> = code.chars().collect();
    let mut out = Vec::new();
    let mut line = 1;
    let mut i = 0;
    while i < c.len() {
        let ch = c[i];
        if ch == '\n' {
            line += 1;
            i += 1;
        } else if ch.is_whitespace() {
            i += 1;
        } else if ch.is_alphabetic() || ch == '_' {
            let start = i;
            while i < c.len() && (c[i].is_alphanumeric() || c[i] == '_') {
                i += 1;
            }
            let word: String = c[start..i].iter().collect();
            // r#ident
            if word == "r" && c.get(i) == Some(&'#') {
                i += 1;
                continue;
            }
            out.push((line, Tok::Ident(word)));
        } else if ch == ':' && c.get(i + 1) == Some(&':') {
            out.push((line, Tok::Path));
            i += 2;
        } else {
            out.push((
                line,
                match ch {
                    '{' => Tok::Open,
                    '}' => Tok::Close,
                    ',' => Tok::Comma,
                    ';' => Tok::Semi,
                    '*' => Tok::Star,
                    _ => Tok::Other,
                },
            ));
            i += 1;
        }
    }
    out
}

/// Every path in the code, as (line, segments): each `use` tree expanded, and every
/// `a::b::c` written inline.
fn paths_in(code: &str) -> Vec<(usize, Vec<String>)> {
    let toks = tokens(code);
    let mut out = Vec::new();
    let mut i = 0;
    while i < toks.len() {
        match &toks[i].1 {
            Tok::Ident(w) if w == "use" => {
                let line = toks[i].0;
                let end = toks[i..]
                    .iter()
                    .position(|(_, t)| *t == Tok::Semi)
                    .map_or(toks.len(), |p| i + p);
                let tree: Vec<Tok> = toks[i + 1..end].iter().map(|(_, t)| t.clone()).collect();
                for p in expand_use(&tree) {
                    out.push((line, p));
                }
                i = end + 1;
            }
            Tok::Ident(first) if toks.get(i + 1).is_some_and(|(_, t)| *t == Tok::Path) => {
                let line = toks[i].0;
                let preceded_by_path = i > 0 && toks[i - 1].1 == Tok::Path;
                let mut segments = vec![first.clone()];
                let mut j = i + 1;
                while let (Some((_, Tok::Path)), Some((_, Tok::Ident(next)))) =
                    (toks.get(j), toks.get(j + 1))
                {
                    segments.push(next.clone());
                    j += 2;
                }
                if !preceded_by_path {
                    out.push((line, segments));
                }
                i = j;
            }
            _ => i += 1,
        }
    }
    out
}

/// The paths of a `use` tree (the tokens between `use` and `;`): `crate::{a, b::{self, c}}`
/// → `crate::a`, `crate::b`, `crate::b::c`.
fn expand_use(tree: &[Tok]) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    let mut pos = 0;
    use_tree(tree, &mut pos, Vec::new(), &mut out);
    out
}

fn use_tree(t: &[Tok], pos: &mut usize, prefix: Vec<String>, out: &mut Vec<Vec<String>>) {
    let mut path = prefix;
    loop {
        match t.get(*pos) {
            // `{self, …}` names the prefix itself.
            Some(Tok::Ident(w)) if w == "self" && !path.is_empty() => *pos += 1,
            // `x as y`: the alias is not a path.
            Some(Tok::Ident(w)) if w == "as" => *pos += 2,
            Some(Tok::Ident(w)) => {
                path.push(w.clone());
                *pos += 1;
            }
            Some(Tok::Path | Tok::Star) => *pos += 1,
            Some(Tok::Open) => {
                *pos += 1;
                loop {
                    use_tree(t, pos, path.clone(), out);
                    match t.get(*pos) {
                        Some(Tok::Comma) => *pos += 1,
                        Some(Tok::Close) => {
                            *pos += 1;
                            return;
                        }
                        _ => return,
                    }
                    if t.get(*pos) == Some(&Tok::Close) {
                        *pos += 1;
                        return;
                    }
                }
            }
            _ => break,
        }
    }
    if !path.is_empty() {
        out.push(path);
    }
}

// ---- the checker, on small made-up crates ------------------------------------------------

#[cfg(test)]
mod checker {
    use super::*;

    fn graph(files: &[(&str, &str)]) -> Graph {
        let files: Vec<(PathBuf, String)> = files
            .iter()
            .map(|(p, t)| (PathBuf::from(p), t.to_string()))
            .collect();
        Graph::build(&files)
    }

    fn edges(g: &Graph) -> Vec<(String, String)> {
        g.edges.keys().cloned().collect()
    }

    fn pair(a: &str, b: &str) -> (String, String) {
        (a.to_string(), b.to_string())
    }

    #[test]
    fn a_two_module_cycle_is_reported_with_both_places() {
        let g = graph(&[
            ("lib.rs", "pub mod text;\npub mod time;\n"),
            ("text.rs", "use crate::time::now;\n"),
            (
                "time.rs",
                "pub fn now() {}\nfn f() { crate::text::sanitize(); }\n",
            ),
        ]);
        let problems = g.cycle_problems(&[]);
        assert_eq!(problems.len(), 1, "{problems:?}");
        let p = &problems[0];
        assert!(p.contains("the crate: text ⇄ time"), "{p}");
        assert!(p.contains("src/text.rs:1 uses crate::time::now"), "{p}");
        assert!(
            p.contains("src/time.rs:2 uses crate::text::sanitize"),
            "{p}"
        );
    }

    #[test]
    fn grouped_uses_super_paths_and_deeper_levels_are_followed() {
        let g = graph(&[
            ("lib.rs", ""),
            ("sandbox.rs", "mod a;\nmod b;\nmod c;\n"),
            (
                "sandbox/a.rs",
                "use crate::{text::{self, sanitize}, sandbox::b::{X, Y as Z}};\n",
            ),
            ("sandbox/b.rs", "fn f() { super::c::g() }\n"),
            ("sandbox/c.rs", "use super::{a::Thing};\n"),
            ("text.rs", ""),
        ]);
        let e = edges(&g);
        for want in [
            pair("sandbox::a", "text"),
            pair("sandbox::a", "sandbox::b"),
            pair("sandbox::b", "sandbox::c"),
            pair("sandbox::c", "sandbox::a"),
        ] {
            assert!(e.contains(&want), "{want:?} missing from {e:?}");
        }
        let problems = g.cycle_problems(&[]);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(
            problems[0].contains("children of sandbox: sandbox::a ⇄ sandbox::b ⇄ sandbox::c"),
            "{problems:?}"
        );
        // Listed as pending, the same cycle passes; a pending entry that no longer matches
        // fails.
        let pending: &[(&str, &[&str])] =
            &[("sandbox", &["sandbox::a", "sandbox::b", "sandbox::c"])];
        assert!(g.cycle_problems(pending).is_empty());
        let stale: &[(&str, &[&str])] = &[("sandbox", &["sandbox::a", "sandbox::b"])];
        let problems = g.cycle_problems(stale);
        assert!(
            problems.iter().any(|p| p.contains("is gone")),
            "{problems:?}"
        );
    }

    #[test]
    fn strings_comments_and_test_code_do_not_count() {
        let g = graph(&[
            (
                "lib.rs",
                "mod auth;\nmod config;\n#[cfg(test)]\nmod helpers;\n",
            ),
            (
                "config.rs",
                "// crate::auth::x in a comment\n/* crate::auth::y */\nconst A: &str = \"crate::auth::z\";\nconst B: &str = r#\"crate::auth::w\"#;\nfn f<'a>(x: &'a str) -> char { 'x' }\n#[cfg(test)]\nmod tests {\n    use crate::auth::Token;\n}\n#[cfg(test)]\nmod more;\n",
            ),
            ("config/more.rs", "use crate::auth::Token;\n"),
            ("helpers.rs", "use crate::auth::Token;\n"),
            ("auth.rs", "use crate::config::Profile;\n"),
        ]);
        assert_eq!(edges(&g), vec![pair("auth", "config")]);
        assert!(g.cycle_problems(&[]).is_empty());
        assert!(!g.modules.contains("helpers") && !g.modules.contains("config::more"));
    }

    #[test]
    fn layers_front_ends_terminal_crates_and_the_sandbox() {
        let g = graph(&[
            ("lib.rs", ""),
            ("http.rs", "use crate::config::Profile;\n"),
            ("config.rs", "use ratatui::Frame;\n"),
            ("auth.rs", "fn f() { crate::tui::run(); }\n"),
            ("tui.rs", "use crossterm::event;\nuse crate::config;\n"),
            ("sandbox.rs", "mod idp;\n"),
            (
                "sandbox/idp.rs",
                "use crate::credential::Thumbprints;\nuse crate::auth::X;\n",
            ),
            ("credential.rs", ""),
            ("newthing.rs", ""),
        ]);
        let problems = g.boundary_problems().join("\n");
        for want in [
            "`http` (layer 2) uses `config` (layer 5)",
            "core module `config` uses the terminal crate `ratatui`",
            "core module `auth` uses the front end `tui`",
            "the sandbox (`sandbox::idp`) uses `auth`",
            "`newthing` is not in LAYERS",
        ] {
            assert!(problems.contains(want), "{want:?} not in:\n{problems}");
        }
        for fine in [
            "`tui` (layer 9) uses",
            "terminal crate `crossterm`",
            "uses `credential`",
        ] {
            assert!(!problems.contains(fine), "{fine:?} flagged:\n{problems}");
        }
    }
}
