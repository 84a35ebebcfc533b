//! Scanning a file: its `mod name;` declarations and its `crate::` / `super::` paths.

use super::lex::*;

// ---------------------------------------------------------------------------------------------

/// A `mod name;` declaration whose body is another file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ModDecl {
    pub(crate) name: String,
    /// The value of its `#[path = "…"]` attribute, if any.
    pub(crate) path_attr: Option<String>,
    /// The inline `mod x { … }` blocks it sits in, outermost first.
    pub(crate) inline: Vec<String>,
}

/// One path starting with `crate::` (`supers == 0`) or `super::` (`supers` of them), with its
/// use groups expanded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RawRef {
    pub(crate) line: usize,
    pub(crate) supers: usize,
    /// The inline `mod x { … }` blocks the path sits in (what its `super` counts from).
    pub(crate) inline: Vec<String>,
    /// The segments after `crate::` / the `super::`s.
    pub(crate) segments: Vec<String>,
}

impl RawRef {
    /// The path as it would be written, groups expanded: `crate::a::X`, `super::super::b`.
    pub(crate) fn text(&self) -> String {
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
pub(crate) struct FileScan {
    pub(crate) mods: Vec<ModDecl>,
    pub(crate) refs: Vec<RawRef>,
}

pub(crate) fn tok_at(toks: &[Token], i: usize) -> Option<&Tok> {
    toks.get(i).map(|t| &t.tok)
}

pub(crate) fn is_ident(tok: Option<&Tok>, word: &str) -> bool {
    matches!(tok, Some(Tok::Ident(w)) if w == word)
}

/// Parses a use tree (or a plain path) starting at `j`, under the segments `prefix`, pushing each
/// full path it names onto `out`; returns the index after it.
pub(crate) fn parse_tree(
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
pub(crate) fn scan(text: &str) -> FileScan {
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
