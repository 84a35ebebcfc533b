//! Lexing: just enough of Rust to skip comments and literals and to see paths.

// ---------------------------------------------------------------------------------------------

/// One token of a Rust source file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Tok {
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
pub(crate) struct Token {
    pub(crate) tok: Tok,
    pub(crate) line: usize,
}

pub(crate) fn is_ident_start(c: char) -> bool {
    c == '_' || c.is_alphabetic()
}

pub(crate) fn is_ident_char(c: char) -> bool {
    c == '_' || c.is_alphanumeric()
}

/// If a string literal starts at `i`, the index of its opening `"` and, for a raw string, the
/// number of its `#`s.
pub(crate) fn string_start(chars: &[char], i: usize) -> Option<(usize, Option<usize>)> {
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
pub(crate) fn lex(text: &str) -> Vec<Token> {
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
