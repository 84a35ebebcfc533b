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
//!
//! The parts: `layers/lex.rs` (tokens), `layers/scan.rs` (declarations and references of one
//! file), `layers/graph.rs` (the module tree, its sibling edges and circles), `layers/workspace.rs`
//! (the crate roots and their files).

#[path = "layers/graph.rs"]
mod graph;
#[path = "layers/lex.rs"]
mod lex;
#[path = "layers/scan.rs"]
mod scan;
#[path = "layers/workspace.rs"]
mod workspace;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;
use std::time::Instant;

use graph::*;
use scan::*;
use workspace::*;

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
