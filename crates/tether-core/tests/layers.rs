//! Layering: no module of any crate in the workspace is in an import circle.
//!
//! The rule: the modules of a crate are layered, and a lower module never names a higher one.
//! For every `crate::…` or `super::…` path in a file (`//` and `/* */` comments, doc comments
//! with their intra-doc links, and string literals do not count; `self::…` paths stay inside
//! the module), the test takes the module A of the file and the module B the path names (the
//! longest prefix of the path that is a module of the crate). It goes up to their lowest common
//! ancestor L and adds an edge between the two children of L that hold A and B: sibling files
//! get edges, and so do sibling directories (`crate::socket::ops` naming `crate::adapter::X` is
//! the edge `socket -> adapter`). A parent and its child never count, either way: a parent
//! declaring or re-exporting its children (`mod c; pub use c::T;`) and a child naming its
//! parent's items (`use super::U;`) are both fine.
//!
//! Every strongly connected component of more than one module is a circle; the test fails
//! listing each circle with, for each of its edges, one reference (file, line, path) that made it.
//!
//! The crates checked: each package under `crates/*` and `examples/*` with a `Cargo.toml` and a
//! `src/` (its library root and each binary root, each on its own), and the library of
//! `tests/e2e` (its `[lib] path`). A crate's modules are found by following its `mod name;`
//! declarations (with `#[path = "…"]`) from the root; a file under `src/` that no root declares
//! is mapped by its path (`src/a/mod.rs` is `a`, `src/a/b.rs` is `a::b`).

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::Instant;

// ---------------------------------------------------------------------------------------------
// Lexing: just enough of Rust to skip comments and literals and to see paths.
// ---------------------------------------------------------------------------------------------

/// One token of a Rust source file.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok {
    /// An identifier or keyword (`r#name` is given as `name`).
    Ident(String),
    /// The body of a string literal (plain, byte, C or raw), escapes left as written.
    Str(String),
    /// `::`.
    PathSep,
    /// Any other punctuation character.
    Punct(char),
    /// A number, a char or byte literal, or a lifetime.
    Lit,
}

/// A token and the line (1-based) it starts on.
#[derive(Debug, Clone)]
struct Token {
    tok: Tok,
    line: usize,
}

fn is_ident_start(c: char) -> bool {
    c == '_' || c.is_alphabetic()
}

fn is_ident_char(c: char) -> bool {
    c == '_' || c.is_alphanumeric()
}

/// If a string literal starts at `i`, the index of its opening `"` and, for a raw string, the
/// number of its `#`s.
fn string_start(chars: &[char], i: usize) -> Option<(usize, Option<usize>)> {
    let at = |k: usize| chars.get(k).copied().unwrap_or('\0');
    if at(i) == '"' {
        return Some((i, None));
    }
    let mut j = i;
    if at(j) == 'b' || at(j) == 'c' {
        j += 1;
    }
    if at(j) == 'r' {
        let mut k = j + 1;
        while at(k) == '#' {
            k += 1;
        }
        if at(k) == '"' {
            return Some((k, Some(k - j - 1)));
        }
        return None;
    }
    if j > i && at(j) == '"' {
        return Some((j, None));
    }
    None
}

/// Splits `text` into tokens, dropping whitespace and comments.
fn lex(text: &str) -> Vec<Token> {
    let chars: Vec<char> = text.chars().collect();
    let at = |k: usize| chars.get(k).copied().unwrap_or('\0');
    let mut out = Vec::new();
    let mut line = 1;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let start_line = line;
        if c == '\n' {
            line += 1;
            i += 1;
        } else if c.is_whitespace() {
            i += 1;
        } else if c == '/' && at(i + 1) == '/' {
            // Line comment, `///` and `//!` doc comments included.
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && at(i + 1) == '*' {
            // Block comment (they nest).
            let mut depth = 0usize;
            while i < chars.len() {
                if chars[i] == '/' && at(i + 1) == '*' {
                    depth += 1;
                    i += 2;
                } else if chars[i] == '*' && at(i + 1) == '/' {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    if chars[i] == '\n' {
                        line += 1;
                    }
                    i += 1;
                }
            }
        } else if let Some((quote, hashes)) = string_start(&chars, i) {
            let mut body = String::new();
            let mut j = quote + 1;
            match hashes {
                None => {
                    while j < chars.len() && chars[j] != '"' {
                        if chars[j] == '\\' {
                            body.push('\\');
                            j += 1;
                        }
                        if at(j) == '\n' {
                            line += 1;
                        }
                        if j < chars.len() {
                            body.push(chars[j]);
                        }
                        j += 1;
                    }
                    i = j + 1;
                }
                Some(n) => loop {
                    if j >= chars.len() {
                        i = j;
                        break;
                    }
                    if chars[j] == '"' && (1..=n).all(|k| at(j + k) == '#') {
                        i = j + 1 + n;
                        break;
                    }
                    if chars[j] == '\n' {
                        line += 1;
                    }
                    body.push(chars[j]);
                    j += 1;
                },
            }
            out.push(Token {
                tok: Tok::Str(body),
                line: start_line,
            });
        } else if c == 'r' && at(i + 1) == '#' && is_ident_start(at(i + 2)) {
            // Raw identifier.
            let mut j = i + 2;
            while is_ident_char(at(j)) {
                j += 1;
            }
            out.push(Token {
                tok: Tok::Ident(chars[i + 2..j].iter().collect()),
                line,
            });
            i = j;
        } else if c == '\'' || (c == 'b' && at(i + 1) == '\'') {
            // Char or byte literal, or a lifetime.
            let q = if c == 'b' { i + 1 } else { i };
            if at(q + 1) == '\\' {
                let mut j = q + 3;
                while j < chars.len() && chars[j] != '\'' {
                    j += 1;
                }
                i = j + 1;
            } else if at(q + 2) == '\'' {
                i = q + 3;
            } else {
                let mut j = q + 1;
                while is_ident_char(at(j)) {
                    j += 1;
                }
                i = j;
            }
            out.push(Token {
                tok: Tok::Lit,
                line,
            });
        } else if c.is_ascii_digit() {
            while is_ident_char(at(i)) {
                i += 1;
            }
            out.push(Token {
                tok: Tok::Lit,
                line,
            });
        } else if is_ident_start(c) {
            let mut j = i;
            while is_ident_char(at(j)) {
                j += 1;
            }
            out.push(Token {
                tok: Tok::Ident(chars[i..j].iter().collect()),
                line,
            });
            i = j;
        } else if c == ':' && at(i + 1) == ':' {
            out.push(Token {
                tok: Tok::PathSep,
                line,
            });
            i += 2;
        } else {
            out.push(Token {
                tok: Tok::Punct(c),
                line,
            });
            i += 1;
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Scanning a file: its `mod name;` declarations and its `crate::` / `super::` paths.
// ---------------------------------------------------------------------------------------------

/// A `mod name;` declaration whose body is another file.
#[derive(Debug, Clone, PartialEq, Eq)]
struct ModDecl {
    name: String,
    /// The value of its `#[path = "…"]` attribute, if any.
    path_attr: Option<String>,
    /// The inline `mod x { … }` blocks it sits in, outermost first.
    inline: Vec<String>,
}

/// One path starting with `crate::` (`supers == 0`) or `super::` (`supers` of them), with its
/// use groups expanded.
#[derive(Debug, Clone, PartialEq, Eq)]
struct RawRef {
    line: usize,
    supers: usize,
    /// The inline `mod x { … }` blocks the path sits in (what its `super` counts from).
    inline: Vec<String>,
    /// The segments after `crate::` / the `super::`s.
    segments: Vec<String>,
}

impl RawRef {
    /// The path as it would be written, groups expanded: `crate::a::X`, `super::super::b`.
    fn text(&self) -> String {
        let mut parts: Vec<&str> = if self.supers == 0 {
            vec!["crate"]
        } else {
            vec!["super"; self.supers]
        };
        parts.extend(self.segments.iter().map(String::as_str));
        parts.join("::")
    }
}

/// What a file declares and names.
#[derive(Debug, Default)]
struct FileScan {
    mods: Vec<ModDecl>,
    refs: Vec<RawRef>,
}

fn tok_at(toks: &[Token], i: usize) -> Option<&Tok> {
    toks.get(i).map(|t| &t.tok)
}

fn is_ident(tok: Option<&Tok>, word: &str) -> bool {
    matches!(tok, Some(Tok::Ident(w)) if w == word)
}

/// Parses a use tree (or a plain path) starting at `j`, under the segments `prefix`, pushing each
/// full path it names onto `out`; returns the index after it.
fn parse_tree(
    toks: &[Token],
    mut j: usize,
    mut prefix: Vec<String>,
    out: &mut Vec<Vec<String>>,
) -> usize {
    loop {
        match tok_at(toks, j) {
            Some(Tok::Punct('{')) => {
                j += 1;
                loop {
                    match tok_at(toks, j) {
                        None => return j,
                        Some(Tok::Punct('}')) => return j + 1,
                        Some(Tok::Punct(',')) => j += 1,
                        Some(_) => {
                            let next = parse_tree(toks, j, prefix.clone(), out);
                            if next == j {
                                return j;
                            }
                            j = next;
                        }
                    }
                }
            }
            Some(Tok::Ident(name)) if name == "self" => {
                // `{self, …}` in a group: the module of the prefix itself.
                out.push(prefix);
                j += 1;
                if is_ident(tok_at(toks, j), "as") {
                    j += 2;
                }
                return j;
            }
            Some(Tok::Ident(name)) => {
                prefix.push(name.clone());
                j += 1;
                if tok_at(toks, j) == Some(&Tok::PathSep)
                    && tok_at(toks, j + 1) != Some(&Tok::Punct('<'))
                {
                    j += 1;
                    continue;
                }
                if is_ident(tok_at(toks, j), "as") {
                    j += 2;
                }
                out.push(prefix);
                return j;
            }
            Some(Tok::Punct('*')) => {
                out.push(prefix);
                return j + 1;
            }
            _ => {
                out.push(prefix);
                return j;
            }
        }
    }
}

/// Scans one file's text.
fn scan(text: &str) -> FileScan {
    let toks = lex(text);
    let mut scan = FileScan::default();
    let mut depth = 0usize;
    // Open inline `mod x { … }` blocks: name and the brace depth outside them.
    let mut inline: Vec<(String, usize)> = Vec::new();
    let mut pending_path: Option<String> = None;
    let mut pending_inline: Option<String> = None;
    let names = |inline: &[(String, usize)]| -> Vec<String> {
        inline.iter().map(|(name, _)| name.clone()).collect()
    };
    for i in 0..toks.len() {
        match &toks[i].tok {
            Tok::Punct('{') => {
                if let Some(name) = pending_inline.take() {
                    inline.push((name, depth));
                }
                depth += 1;
                pending_path = None;
            }
            Tok::Punct('}') => {
                depth = depth.saturating_sub(1);
                if inline.last().is_some_and(|(_, d)| *d == depth) {
                    inline.pop();
                }
                pending_path = None;
                pending_inline = None;
            }
            Tok::Punct(';') => {
                pending_path = None;
                pending_inline = None;
            }
            Tok::Punct('#') => {
                if let (
                    Some(Tok::Punct('[')),
                    true,
                    Some(Tok::Punct('=')),
                    Some(Tok::Str(value)),
                    Some(Tok::Punct(']')),
                ) = (
                    tok_at(&toks, i + 1),
                    is_ident(tok_at(&toks, i + 2), "path"),
                    tok_at(&toks, i + 3),
                    tok_at(&toks, i + 4),
                    tok_at(&toks, i + 5),
                ) {
                    pending_path = Some(value.clone());
                }
            }
            Tok::Ident(word) if word == "mod" => {
                if let Some(Tok::Ident(name)) = tok_at(&toks, i + 1) {
                    match tok_at(&toks, i + 2) {
                        Some(Tok::Punct(';')) => scan.mods.push(ModDecl {
                            name: name.clone(),
                            path_attr: pending_path.take(),
                            inline: names(&inline),
                        }),
                        Some(Tok::Punct('{')) => pending_inline = Some(name.clone()),
                        _ => {}
                    }
                }
            }
            Tok::Ident(word)
                if (word == "crate" || word == "super")
                    && tok_at(&toks, i + 1) == Some(&Tok::PathSep)
                    && (i == 0 || toks[i - 1].tok != Tok::PathSep) =>
            {
                let mut j = i;
                let mut supers = 0;
                if word == "crate" {
                    j += 2;
                } else {
                    while is_ident(tok_at(&toks, j), "super")
                        && tok_at(&toks, j + 1) == Some(&Tok::PathSep)
                    {
                        supers += 1;
                        j += 2;
                    }
                }
                let mut paths = Vec::new();
                parse_tree(&toks, j, Vec::new(), &mut paths);
                for segments in paths {
                    scan.refs.push(RawRef {
                        line: toks[i].line,
                        supers,
                        inline: names(&inline),
                        segments,
                    });
                }
            }
            _ => {}
        }
    }
    scan
}

// ---------------------------------------------------------------------------------------------
// The module tree of one crate, its graph, and its circles. No file system in here.
// ---------------------------------------------------------------------------------------------

/// The directory part of a `/`-separated path (`""` for a bare file name).
fn dir_of(path: &str) -> &str {
    path.rfind('/').map_or("", |k| &path[..k])
}

fn join(dir: &str, rest: &str) -> String {
    match (dir.is_empty(), rest.is_empty()) {
        (true, _) => rest.to_string(),
        (_, true) => dir.to_string(),
        _ => format!("{dir}/{rest}"),
    }
}

/// Resolves `.` and `..` in a `/`-separated path.
fn normalize(path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            _ => parts.push(part),
        }
    }
    parts.join("/")
}

/// Follows the `mod name;` declarations from `root`: each file reached and its module path.
fn module_tree(root: &str, files: &BTreeMap<&str, &str>) -> BTreeMap<String, Vec<String>> {
    let mut modules = BTreeMap::new();
    // (file, its module path, the directory its child modules live in)
    let mut queue = VecDeque::from([(
        root.to_string(),
        Vec::<String>::new(),
        dir_of(root).to_string(),
    )]);
    while let Some((file, module, child_dir)) = queue.pop_front() {
        if modules.contains_key(&file) {
            continue;
        }
        let Some(text) = files.get(file.as_str()) else {
            continue;
        };
        modules.insert(file.clone(), module.clone());
        for decl in scan(text).mods {
            let mut sub = module.clone();
            sub.extend(decl.inline.iter().cloned());
            sub.push(decl.name.clone());
            let inline_dir = join(&child_dir, &decl.inline.join("/"));
            let target = match &decl.path_attr {
                Some(path) => {
                    // Relative to the declaring file's directory (or, inside an inline block,
                    // to the directory of that block). Such a file owns its directory.
                    let base = if decl.inline.is_empty() {
                        dir_of(&file).to_string()
                    } else {
                        inline_dir.clone()
                    };
                    let target = normalize(&join(&base, path));
                    let dir = dir_of(&target).to_string();
                    Some((target, dir))
                }
                None => {
                    let dir = join(&inline_dir, &decl.name);
                    let flat = format!("{dir}.rs");
                    let nested = join(&dir, "mod.rs");
                    if files.contains_key(flat.as_str()) {
                        Some((flat, dir))
                    } else if files.contains_key(nested.as_str()) {
                        Some((nested, dir))
                    } else {
                        None
                    }
                }
            };
            if let Some((target, dir)) = target {
                queue.push_back((target, sub, dir));
            }
        }
    }
    modules
}

/// The module path of a file no `mod` declares, from where it sits under the root's directory.
fn module_by_path(root: &str, file: &str) -> Option<Vec<String>> {
    let root_dir = dir_of(root);
    let rel = if root_dir.is_empty() {
        file
    } else {
        file.strip_prefix(root_dir)?.strip_prefix('/')?
    };
    if rel == "lib.rs" || rel == "main.rs" {
        return None;
    }
    let mut segments: Vec<String> = rel
        .strip_suffix(".rs")?
        .split('/')
        .map(String::from)
        .collect();
    if segments.last().is_some_and(|s| s == "mod") {
        segments.pop();
    }
    (!segments.is_empty()).then_some(segments)
}

/// One reference that made an edge.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Example {
    file: String,
    line: usize,
    path: String,
}

/// A circle: modules that, through their sibling edges, all name each other.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Circle {
    /// Its modules, sorted, as `a::b`.
    modules: Vec<String>,
    /// One way around it, starting and ending on its first module.
    cycle: Vec<String>,
    /// Every edge between two of its modules, with one reference that made it.
    edges: Vec<(String, String, Example)>,
}

/// Everything the check found in one crate.
#[derive(Debug)]
struct Analysis {
    /// Each file of the crate and its module path.
    modules: BTreeMap<String, Vec<String>>,
    /// The files no `mod` declared, mapped by their path.
    by_path: Vec<String>,
    /// Each sibling edge and the first reference that made it.
    edges: BTreeMap<(Vec<String>, Vec<String>), Example>,
    circles: Vec<Circle>,
}

/// The module whose items the path names: the longest prefix of it that is a module.
fn resolve(
    r: &RawRef,
    file_module: &[String],
    known: &BTreeSet<Vec<String>>,
) -> Option<Vec<String>> {
    let full: Vec<String> = if r.supers == 0 {
        r.segments.clone()
    } else {
        let mut base: Vec<String> = file_module.iter().chain(&r.inline).cloned().collect();
        for _ in 0..r.supers {
            base.pop()?;
        }
        base.extend(r.segments.iter().cloned());
        base
    };
    (0..=full.len())
        .rev()
        .map(|n| full[..n].to_vec())
        .find(|prefix| known.contains(prefix))
}

/// The edge a reference from module `a` to module `b` makes: between the children of their lowest
/// common ancestor that hold them. None when they are the same or one is an ancestor of the other.
fn sibling_edge(a: &[String], b: &[String]) -> Option<(Vec<String>, Vec<String>)> {
    let common = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    if common == a.len() || common == b.len() {
        return None;
    }
    Some((a[..=common].to_vec(), b[..=common].to_vec()))
}

fn show(module: &[String]) -> String {
    if module.is_empty() {
        "crate".to_string()
    } else {
        module.join("::")
    }
}

/// Tarjan's strongly connected components.
fn components(adjacency: &BTreeMap<Vec<String>, BTreeSet<Vec<String>>>) -> Vec<Vec<Vec<String>>> {
    struct State<'a> {
        adjacency: &'a BTreeMap<Vec<String>, BTreeSet<Vec<String>>>,
        index: BTreeMap<&'a Vec<String>, usize>,
        low: BTreeMap<&'a Vec<String>, usize>,
        stack: Vec<&'a Vec<String>>,
        on_stack: BTreeSet<&'a Vec<String>>,
        out: Vec<Vec<Vec<String>>>,
    }
    fn visit<'a>(s: &mut State<'a>, v: &'a Vec<String>) {
        let n = s.index.len();
        s.index.insert(v, n);
        s.low.insert(v, n);
        s.stack.push(v);
        s.on_stack.insert(v);
        let adjacency = s.adjacency;
        for w in adjacency.get(v).into_iter().flatten() {
            if !s.index.contains_key(w) {
                visit(s, w);
                let low = s.low[v].min(s.low[w]);
                s.low.insert(v, low);
            } else if s.on_stack.contains(w) {
                let low = s.low[v].min(s.index[w]);
                s.low.insert(v, low);
            }
        }
        if s.low[v] == s.index[v] {
            let mut component = Vec::new();
            while let Some(w) = s.stack.pop() {
                s.on_stack.remove(w);
                component.push(w.clone());
                if w == v {
                    break;
                }
            }
            component.sort();
            s.out.push(component);
        }
    }
    let mut state = State {
        adjacency,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        out: Vec::new(),
    };
    for v in adjacency.keys() {
        if !state.index.contains_key(v) {
            visit(&mut state, v);
        }
    }
    state.out
}

/// The shortest way from `start` back to itself inside `members`.
fn one_cycle(
    start: &Vec<String>,
    members: &BTreeSet<&Vec<String>>,
    adjacency: &BTreeMap<Vec<String>, BTreeSet<Vec<String>>>,
) -> Vec<String> {
    let mut parent: BTreeMap<&Vec<String>, &Vec<String>> = BTreeMap::new();
    let mut queue = VecDeque::from([start]);
    while let Some(v) = queue.pop_front() {
        for w in adjacency.get(v).into_iter().flatten() {
            if !members.contains(w) {
                continue;
            }
            if w == start {
                let mut way = vec![show(start)];
                let mut at = v;
                while at != start {
                    way.push(show(at));
                    at = parent[at];
                }
                way.push(show(start));
                way.reverse();
                return way;
            }
            if !parent.contains_key(w) {
                parent.insert(w, v);
                queue.push_back(w);
            }
        }
    }
    vec![show(start)]
}

/// The check on one crate: `files` are its source files (path relative to the package, text),
/// `root` the one of them that is the crate root (`src/lib.rs`, `src/main.rs`, …).
fn analyze_crate(root: &str, files: &[(&str, &str)]) -> Analysis {
    let texts: BTreeMap<&str, &str> = files.iter().copied().collect();
    let mut modules = module_tree(root, &texts);
    let mut by_path = Vec::new();
    for &(file, _) in files {
        if modules.contains_key(file) {
            continue;
        }
        if let Some(module) = module_by_path(root, file) {
            modules.insert(file.to_string(), module);
            by_path.push(file.to_string());
        }
    }
    let mut known: BTreeSet<Vec<String>> = modules.values().cloned().collect();
    known.insert(Vec::new());

    let mut edges: BTreeMap<(Vec<String>, Vec<String>), Example> = BTreeMap::new();
    for (file, module) in &modules {
        for r in scan(texts[file.as_str()]).refs {
            let Some(target) = resolve(&r, module, &known) else {
                continue;
            };
            if let Some(edge) = sibling_edge(module, &target) {
                edges.entry(edge).or_insert_with(|| Example {
                    file: file.clone(),
                    line: r.line,
                    path: r.text(),
                });
            }
        }
    }

    let mut adjacency: BTreeMap<Vec<String>, BTreeSet<Vec<String>>> = BTreeMap::new();
    for (from, to) in edges.keys() {
        adjacency
            .entry(from.clone())
            .or_default()
            .insert(to.clone());
        adjacency.entry(to.clone()).or_default();
    }
    let mut circles = Vec::new();
    for component in components(&adjacency) {
        if component.len() < 2 {
            continue;
        }
        let members: BTreeSet<&Vec<String>> = component.iter().collect();
        let circle_edges = edges
            .iter()
            .filter(|((from, to), _)| members.contains(from) && members.contains(to))
            .map(|((from, to), example)| (show(from), show(to), example.clone()))
            .collect();
        circles.push(Circle {
            modules: component.iter().map(|m| show(m)).collect(),
            cycle: one_cycle(&component[0], &members, &adjacency),
            edges: circle_edges,
        });
    }
    circles.sort_by(|a, b| a.modules.cmp(&b.modules));
    Analysis {
        modules,
        by_path,
        edges,
        circles,
    }
}

/// The circles of one crate (see [`analyze_crate`]).
fn find_circles(root: &str, files: &[(&str, &str)]) -> Vec<Circle> {
    analyze_crate(root, files).circles
}

/// A readable account of one circle; `dir` is put before the file names.
fn describe(circle: &Circle, dir: &str) -> String {
    let mut text = format!("  circle: {}\n", circle.cycle.join(" -> "));
    for (from, to, example) in &circle.edges {
        let _ = writeln!(
            text,
            "    {from} -> {to}: {} line {} names `{}`",
            join(dir, &example.file),
            example.line,
            example.path
        );
    }
    text
}

// ---------------------------------------------------------------------------------------------
// The workspace: its crate roots and their files.
// ---------------------------------------------------------------------------------------------

/// Every `key = "value"` of the `[section]` / `[[section]]` tables of a Cargo.toml.
fn toml_values(text: &str, section: &str, key: &str) -> Vec<String> {
    let mut current = String::new();
    let mut values = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            current = line.trim_matches(['[', ']']).trim().to_string();
            continue;
        }
        if current != section {
            continue;
        }
        if let Some((k, v)) = line.split_once('=') {
            if k.trim() == key {
                if let Some(value) = v.split('"').nth(1) {
                    values.push(value.to_string());
                }
            }
        }
    }
    values
}

fn has_section(text: &str, section: &str) -> bool {
    text.lines()
        .map(str::trim)
        .any(|line| line.trim_matches(['[', ']']).trim() == section && line.starts_with('['))
}

/// Every `.rs` file under `dir` (not in `target`, hidden directories, or, at the package's top,
/// `tests`, `benches` and `examples`), by path relative to `base`.
fn rust_files(base: &Path, dir: &Path, out: &mut BTreeMap<String, String>) {
    let entries =
        fs::read_dir(dir).unwrap_or_else(|err| panic!("reading {}: {err}", dir.display()));
    for entry in entries {
        let path = entry.expect("a directory entry").path();
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if path.is_dir() {
            let top = dir == base;
            if name.starts_with('.')
                || name == "target"
                || (top && matches!(name.as_str(), "tests" | "benches" | "examples"))
            {
                continue;
            }
            rust_files(base, &path, out);
        } else if name.ends_with(".rs") {
            let rel = path
                .strip_prefix(base)
                .expect("a file under its package")
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .join("/");
            let text = fs::read_to_string(&path)
                .unwrap_or_else(|err| panic!("reading {}: {err}", path.display()));
            out.insert(rel, text);
        }
    }
}

/// One crate root to check.
#[derive(Debug)]
struct Target {
    /// The package name, and the binary root for a binary.
    label: String,
    /// The package directory, relative to the workspace.
    dir: String,
    /// The root file, relative to the package.
    root: String,
    files: Vec<(String, String)>,
}

/// The crate roots of one package: its library (`lib_path`, if any) and its binaries.
fn package_targets(
    workspace: &Path,
    dir: &str,
    lib_path: Option<String>,
    targets: &mut Vec<Target>,
) {
    let package = workspace.join(dir);
    let manifest = fs::read_to_string(package.join("Cargo.toml")).expect("reading a Cargo.toml");
    let name = toml_values(&manifest, "package", "name")
        .into_iter()
        .next()
        .unwrap_or_else(|| dir.to_string());
    let mut files = BTreeMap::new();
    rust_files(&package, &package, &mut files);

    let mut roots: Vec<(String, String)> = Vec::new();
    if let Some(lib) = lib_path {
        roots.push((name.clone(), normalize(&lib)));
    }
    let mut bins: Vec<String> = toml_values(&manifest, "bin", "path")
        .iter()
        .map(|p| normalize(p))
        .collect();
    if files.contains_key("src/main.rs") {
        bins.push("src/main.rs".to_string());
    }
    for file in files.keys() {
        if let Some(rest) = file.strip_prefix("src/bin/") {
            if !rest.contains('/') || (rest.ends_with("/main.rs") && rest.matches('/').count() == 1)
            {
                bins.push(file.clone());
            }
        }
    }
    for bin in bins {
        if files.contains_key(&bin) && roots.iter().all(|(_, root)| *root != bin) {
            roots.push((format!("{name} (bin {bin})"), bin));
        }
    }

    let texts: BTreeMap<&str, &str> = files
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let reached: Vec<BTreeMap<String, Vec<String>>> = roots
        .iter()
        .map(|(_, root)| module_tree(root, &texts))
        .collect();
    let claimed: BTreeSet<&String> = reached
        .iter()
        .flat_map(|tree| tree.keys())
        .chain(roots.iter().map(|(_, root)| root))
        .collect();
    let orphans: Vec<&String> = files
        .keys()
        .filter(|file| file.starts_with("src/") && !claimed.contains(file))
        .collect();
    for (k, ((label, root), tree)) in roots.into_iter().zip(&reached).enumerate() {
        let mut own: Vec<(String, String)> = tree
            .keys()
            .map(|file| (file.clone(), files[file].clone()))
            .collect();
        if k == 0 {
            own.extend(
                orphans
                    .iter()
                    .map(|file| ((*file).clone(), files[*file].clone())),
            );
        }
        targets.push(Target {
            label,
            dir: dir.to_string(),
            root,
            files: own,
        });
    }
}

/// Every crate root of the workspace.
fn workspace_targets(workspace: &Path) -> Vec<Target> {
    let mut targets = Vec::new();
    for group in ["crates", "examples"] {
        let mut dirs: Vec<PathBuf> = fs::read_dir(workspace.join(group))
            .unwrap_or_else(|err| panic!("reading {group}/: {err}"))
            .map(|entry| entry.expect("a directory entry").path())
            .filter(|path| path.join("Cargo.toml").is_file() && path.join("src").is_dir())
            .collect();
        dirs.sort();
        for path in dirs {
            let name = path
                .file_name()
                .expect("a package directory")
                .to_string_lossy()
                .into_owned();
            let dir = format!("{group}/{name}");
            let manifest =
                fs::read_to_string(path.join("Cargo.toml")).expect("reading a Cargo.toml");
            let lib = toml_values(&manifest, "lib", "path")
                .into_iter()
                .next()
                .or_else(|| {
                    path.join("src/lib.rs")
                        .is_file()
                        .then(|| "src/lib.rs".to_string())
                });
            package_targets(workspace, &dir, lib, &mut targets);
        }
    }
    let e2e = workspace.join("tests/e2e");
    if let Ok(manifest) = fs::read_to_string(e2e.join("Cargo.toml")) {
        let lib = toml_values(&manifest, "lib", "path")
            .into_iter()
            .next()
            .or_else(|| {
                (has_section(&manifest, "lib") || e2e.join("src/lib.rs").is_file())
                    .then(|| "src/lib.rs".to_string())
            });
        if let Some(lib) = lib {
            // Only its library: its binaries, if any, are not the point of this package.
            let before = targets.len();
            package_targets(workspace, "tests/e2e", Some(lib), &mut targets);
            targets.truncate(before + 1);
        }
    }
    targets
}

// ---------------------------------------------------------------------------------------------
// The tests.
// ---------------------------------------------------------------------------------------------

#[test]
fn no_module_of_the_workspace_is_in_an_import_circle() {
    let started = Instant::now();
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("the workspace directory");
    let targets = workspace_targets(&workspace);

    let mut checked = String::new();
    let mut failures = String::new();
    let mut module_counts: BTreeMap<&str, usize> = BTreeMap::new();
    for target in &targets {
        let files: Vec<(&str, &str)> = target
            .files
            .iter()
            .map(|(file, text)| (file.as_str(), text.as_str()))
            .collect();
        let analysis = analyze_crate(&target.root, &files);
        module_counts.insert(&target.label, analysis.modules.len());
        let _ = writeln!(
            checked,
            "  {} ({}): {} modules, {} sibling edges, {} circle(s)",
            target.label,
            join(&target.dir, &target.root),
            analysis.modules.len(),
            analysis.edges.len(),
            analysis.circles.len()
        );
        for file in &analysis.by_path {
            let _ = writeln!(
                checked,
                "    note: no `mod` declares {}; mapped by its path",
                join(&target.dir, file)
            );
        }
        if !analysis.circles.is_empty() {
            let _ = writeln!(
                failures,
                "{} ({}):",
                target.label,
                join(&target.dir, &target.root)
            );
            for circle in &analysis.circles {
                failures.push_str(&describe(circle, &target.dir));
            }
        }
    }
    eprintln!(
        "layers: checked {} crate roots in {:.1?}:\n{checked}",
        targets.len(),
        started.elapsed()
    );
    for required in ["tether-core", "tether-axum"] {
        let modules = module_counts.get(required).copied().unwrap_or(0);
        assert!(
            modules > 1,
            "the walk found {modules} module(s) for {required}; crates checked:\n{checked}"
        );
    }
    assert!(
        failures.is_empty(),
        "modules in an import circle (a lower module must never name a higher one):\n{failures}\ncrates checked:\n{checked}"
    );
}

/// The module names of the circles, for short assertions.
fn circle_modules(circles: &[Circle]) -> Vec<Vec<String>> {
    circles.iter().map(|c| c.modules.clone()).collect()
}

fn module(path: &[&str]) -> Vec<String> {
    path.iter().map(|s| (*s).to_string()).collect()
}

#[test]
fn synthetic_circle_between_sibling_files_is_reported() {
    let files = [
        ("src/lib.rs", "mod a;\nmod b;\n"),
        ("src/a.rs", "use crate::b::X;\npub struct Y;\n"),
        ("src/b.rs", "use super::a::Y;\npub struct X;\n"),
    ];
    let circles = find_circles("src/lib.rs", &files);
    assert_eq!(circle_modules(&circles), vec![module(&["a", "b"])]);
    let circle = &circles[0];
    assert_eq!(circle.cycle, module(&["a", "b", "a"]));
    let a_to_b = Example {
        file: "src/a.rs".to_string(),
        line: 1,
        path: "crate::b::X".to_string(),
    };
    let b_to_a = Example {
        file: "src/b.rs".to_string(),
        line: 1,
        path: "super::a::Y".to_string(),
    };
    assert_eq!(
        circle.edges,
        vec![
            ("a".to_string(), "b".to_string(), a_to_b),
            ("b".to_string(), "a".to_string(), b_to_a),
        ]
    );
    let text = describe(circle, "crates/x");
    assert!(text.contains("a -> b -> a"), "{text}");
    assert!(
        text.contains("crates/x/src/a.rs line 1 names `crate::b::X`"),
        "{text}"
    );
}

#[test]
fn parent_reexporting_its_child_is_no_circle() {
    let files = [
        ("src/lib.rs", "mod m;\n"),
        (
            "src/m/mod.rs",
            "mod c;\npub use c::T;\npub use crate::m::c::T as T2;\npub struct U;\n",
        ),
        (
            "src/m/c.rs",
            "use super::U;\nuse crate::m::U as U2;\npub struct T;\n",
        ),
    ];
    let analysis = analyze_crate("src/lib.rs", &files);
    assert_eq!(analysis.modules["src/m/c.rs"], module(&["m", "c"]));
    assert!(analysis.edges.is_empty(), "{:?}", analysis.edges);
    assert!(analysis.circles.is_empty(), "{:?}", analysis.circles);
}

#[test]
fn grouped_use_expands_into_edges_to_each_module() {
    let files = [
        ("src/lib.rs", "mod w;\nmod x;\nmod y;\n"),
        ("src/w.rs", "use crate::{x::A, y::{B, C}};\n"),
        ("src/x.rs", "pub struct A;\n"),
        ("src/y.rs", "pub struct B;\npub struct C;\n"),
    ];
    let refs: Vec<String> = scan(files[1].1).refs.iter().map(RawRef::text).collect();
    assert_eq!(refs, ["crate::x::A", "crate::y::B", "crate::y::C"]);
    let analysis = analyze_crate("src/lib.rs", &files);
    let edges: Vec<_> = analysis.edges.keys().cloned().collect();
    assert_eq!(
        edges,
        vec![
            (module(&["w"]), module(&["x"])),
            (module(&["w"]), module(&["y"]))
        ]
    );
    assert!(analysis.circles.is_empty());

    let nested = "use super::{ack::AckError, emit::{self, EmitError as E}, *};";
    let refs: Vec<String> = scan(nested).refs.iter().map(RawRef::text).collect();
    assert_eq!(
        refs,
        [
            "super::ack::AckError",
            "super::emit",
            "super::emit::EmitError",
            "super"
        ]
    );
}

#[test]
fn directory_level_circle_is_reported() {
    let files = [
        ("src/lib.rs", "mod p;\nmod q;\n"),
        ("src/p/mod.rs", "mod a;\nmod b;\n"),
        ("src/p/a.rs", "fn f() -> crate::q::z::W {\n    todo()\n}\n"),
        ("src/p/b.rs", "pub struct V;\n"),
        ("src/q/mod.rs", "mod z;\n"),
        ("src/q/z.rs", "pub struct W;\nuse crate::p::b::V;\n"),
    ];
    let circles = find_circles("src/lib.rs", &files);
    assert_eq!(circle_modules(&circles), vec![module(&["p", "q"])]);
    let edges: Vec<(&str, &str, &str, usize)> = circles[0]
        .edges
        .iter()
        .map(|(from, to, ex)| (from.as_str(), to.as_str(), ex.file.as_str(), ex.line))
        .collect();
    assert_eq!(
        edges,
        [("p", "q", "src/p/a.rs", 1), ("q", "p", "src/q/z.rs", 2)]
    );
}

#[test]
fn path_attribute_puts_the_file_under_the_declaring_module() {
    let files = [
        ("src/lib.rs", "pub mod protocol;\n"),
        ("src/protocol/mod.rs", "pub mod packet;\n"),
        (
            "src/protocol/packet.rs",
            "#[cfg(test)]\n#[path = \"packet_tests.rs\"]\nmod tests;\n",
        ),
        (
            "src/protocol/packet_tests.rs",
            "use super::*;\nmod connect {\n    use super::*;\n}\n",
        ),
        ("src/orphan/mod.rs", "use crate::protocol::packet::X;\n"),
    ];
    let analysis = analyze_crate("src/lib.rs", &files);
    assert_eq!(
        analysis.modules["src/protocol/packet_tests.rs"],
        module(&["protocol", "packet", "tests"])
    );
    assert_eq!(
        analysis.modules["src/protocol/packet.rs"],
        module(&["protocol", "packet"])
    );
    assert_eq!(analysis.modules["src/lib.rs"], module(&[]));
    // A file nobody declares is mapped by its path.
    assert_eq!(analysis.by_path, ["src/orphan/mod.rs"]);
    assert_eq!(analysis.modules["src/orphan/mod.rs"], module(&["orphan"]));
    let edges: Vec<_> = analysis.edges.keys().cloned().collect();
    assert_eq!(edges, vec![(module(&["orphan"]), module(&["protocol"]))]);
}

#[test]
fn comments_strings_and_self_paths_are_not_references() {
    let text = r##"//! Links [`crate::b::X`] and [`super::c`] in docs are not imports.
/// Nor is crate::b::Y in a doc comment.
/* Nor crate::b::Z in /* a nested */ block comment. */
use self::inner::Thing;
fn f<'a>(s: &'a str) -> char {
    let _ = "crate::b::InAString \" super::c::Still";
    let _ = r#"super::c::InARawString "# ;
    let _ = b"crate::b::Bytes";
    let _ = '"';
    let _ = '\'';
    crate::b::real(); // crate::b::after_code
    'x'
}
"##;
    let refs: Vec<String> = scan(text).refs.iter().map(RawRef::text).collect();
    assert_eq!(refs, ["crate::b::real"]);
    assert_eq!(scan(text).refs[0].line, 11);
}

#[test]
fn super_chains_and_inline_modules_resolve_from_where_they_are() {
    let files = [
        ("src/lib.rs", "mod p;\nmod q;\n"),
        ("src/p/mod.rs", "mod a;\nmod b;\n"),
        (
            "src/p/a.rs",
            "use super::super::q::W;\n#[cfg(test)]\nmod tests {\n    use super::super::b::V;\n}\n",
        ),
        ("src/p/b.rs", "pub struct V;\n"),
        ("src/q.rs", "pub struct W;\n"),
    ];
    let analysis = analyze_crate("src/lib.rs", &files);
    let edges: Vec<_> = analysis.edges.keys().cloned().collect();
    assert_eq!(
        edges,
        vec![
            (module(&["p"]), module(&["q"])),
            (module(&["p", "a"]), module(&["p", "b"])),
        ]
    );
    assert!(analysis.circles.is_empty());
}
