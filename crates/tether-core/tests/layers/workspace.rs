//! The workspace: its crate roots and their files.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

use super::graph::{module_tree, normalize};

// ---------------------------------------------------------------------------------------------

/// Every `key = "value"` of the `[section]` / `[[section]]` tables of a Cargo.toml.
pub(crate) fn toml_values(text: &str, section: &str, key: &str) -> Vec<String> {
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

pub(crate) fn has_section(text: &str, section: &str) -> bool {
    text.lines()
        .map(str::trim)
        .any(|line| line.trim_matches(['[', ']']).trim() == section && line.starts_with('['))
}

/// Every `.rs` file under `dir` (not in `target`, hidden directories, or, at the package's top,
/// `tests`, `benches` and `examples`), by path relative to `base`.
pub(crate) fn rust_files(base: &Path, dir: &Path, out: &mut BTreeMap<String, String>) {
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
pub(crate) struct Target {
    /// The package name, and the binary root for a binary.
    pub(crate) label: String,
    /// The package directory, relative to the workspace.
    pub(crate) dir: String,
    /// The root file, relative to the package.
    pub(crate) root: String,
    pub(crate) files: Vec<(String, String)>,
}

/// The crate roots of one package: its library (`lib_path`, if any) and its binaries.
pub(crate) fn package_targets(
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
pub(crate) fn workspace_targets(workspace: &Path) -> Vec<Target> {
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
