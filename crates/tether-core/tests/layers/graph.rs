//! The module tree of one crate, its graph, and its circles. No file system in here.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::fmt::Write as _;

use super::scan::*;

// ---------------------------------------------------------------------------------------------

/// The directory part of a `/`-separated path (`""` for a bare file name).
pub(crate) fn dir_of(path: &str) -> &str {
    path.rfind('/').map_or("", |k| &path[..k])
}

pub(crate) fn join(dir: &str, rest: &str) -> String {
    match (dir.is_empty(), rest.is_empty()) {
        (true, _) => rest.to_string(),
        (_, true) => dir.to_string(),
        _ => format!("{dir}/{rest}"),
    }
}

/// Resolves `.` and `..` in a `/`-separated path.
pub(crate) fn normalize(path: &str) -> String {
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
pub(crate) fn module_tree(
    root: &str,
    files: &BTreeMap<&str, &str>,
) -> BTreeMap<String, Vec<String>> {
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
pub(crate) fn module_by_path(root: &str, file: &str) -> Option<Vec<String>> {
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
pub(crate) struct Example {
    pub(crate) file: String,
    pub(crate) line: usize,
    pub(crate) path: String,
}

/// A circle: modules that, through their sibling edges, all name each other.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Circle {
    /// Its modules, sorted, as `a::b`.
    pub(crate) modules: Vec<String>,
    /// One way around it, starting and ending on its first module.
    pub(crate) cycle: Vec<String>,
    /// Every edge between two of its modules, with one reference that made it.
    pub(crate) edges: Vec<(String, String, Example)>,
}

/// Everything the check found in one crate.
#[derive(Debug)]
pub(crate) struct Analysis {
    /// Each file of the crate and its module path.
    pub(crate) modules: BTreeMap<String, Vec<String>>,
    /// The files no `mod` declared, mapped by their path.
    pub(crate) by_path: Vec<String>,
    /// Each sibling edge and the first reference that made it.
    pub(crate) edges: BTreeMap<(Vec<String>, Vec<String>), Example>,
    pub(crate) circles: Vec<Circle>,
}

/// The module whose items the path names: the longest prefix of it that is a module.
pub(crate) fn resolve(
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
pub(crate) fn sibling_edge(a: &[String], b: &[String]) -> Option<(Vec<String>, Vec<String>)> {
    let common = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    if common == a.len() || common == b.len() {
        return None;
    }
    Some((a[..=common].to_vec(), b[..=common].to_vec()))
}

pub(crate) fn show(module: &[String]) -> String {
    if module.is_empty() {
        "crate".to_string()
    } else {
        module.join("::")
    }
}

/// Tarjan's strongly connected components.
pub(crate) fn components(
    adjacency: &BTreeMap<Vec<String>, BTreeSet<Vec<String>>>,
) -> Vec<Vec<Vec<String>>> {
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
pub(crate) fn one_cycle(
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
pub(crate) fn analyze_crate(root: &str, files: &[(&str, &str)]) -> Analysis {
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
pub(crate) fn find_circles(root: &str, files: &[(&str, &str)]) -> Vec<Circle> {
    analyze_crate(root, files).circles
}

/// A readable account of one circle; `dir` is put before the file names.
pub(crate) fn describe(circle: &Circle, dir: &str) -> String {
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
