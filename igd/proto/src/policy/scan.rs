//! The lexical scan of Rego text, comments and strings skipped: calls to forbidden builtins
//! (refused with their `file:line:column` before regorus sees the policy) and the names of test
//! rules (which regorus then confirms). Columns count a tab as 4, as regorus does.

use super::{why_forbidden, Diagnostic, FORBIDDEN_BUILTINS};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TokenKind {
    Ident,
    Punct(char),
    /// A string or number literal.
    Literal,
}

#[derive(Debug, Clone, Copy)]
struct Token<'a> {
    kind: TokenKind,
    text: &'a str,
    line: u32,
    column: u32,
    /// Nesting in (), [] and {} before this token.
    depth: u32,
    first_on_line: bool,
}

/// Tokens of Rego text: identifiers, punctuation and literals with their positions; comments
/// and whitespace skipped. Unterminated literals end the scan (the parser reports them).
fn tokens<'a>(text: &'a str) -> Vec<Token<'a>> {
    let mut out = Vec::new();
    let mut chars = text.char_indices().peekable();
    let (mut line, mut column, mut depth) = (1u32, 1u32, 0u32);
    let mut first_on_line = true;
    let width = |c: char| if c == '\t' { 4 } else { 1 };
    while let Some(&(start, c)) = chars.peek() {
        let (tok_line, tok_column) = (line, column);
        let push = |out: &mut Vec<Token<'a>>, kind, end: usize, depth, first| {
            out.push(Token {
                kind,
                text: &text[start..end],
                line: tok_line,
                column: tok_column,
                depth,
                first_on_line: first,
            })
        };
        match c {
            '\n' => {
                chars.next();
                line += 1;
                column = 1;
                first_on_line = true;
            }
            c if c.is_whitespace() => {
                chars.next();
                column += width(c);
            }
            '#' => {
                while chars.peek().is_some_and(|&(_, c)| c != '\n') {
                    chars.next();
                }
            }
            '"' | '`' => {
                let quote = c;
                chars.next();
                column += 1;
                let mut closed = false;
                let mut escaped = false;
                for (_, c) in chars.by_ref() {
                    if c == '\n' {
                        line += 1;
                        column = 1;
                    } else {
                        column += width(c);
                    }
                    if quote == '"' && escaped {
                        escaped = false;
                    } else if quote == '"' && c == '\\' {
                        escaped = true;
                    } else if c == quote {
                        closed = true;
                        break;
                    }
                }
                if !closed {
                    break;
                }
                let end = chars.peek().map_or(text.len(), |&(i, _)| i);
                push(&mut out, TokenKind::Literal, end, depth, first_on_line);
                first_on_line = false;
            }
            c if c.is_ascii_alphabetic() || c == '_' || c.is_ascii_digit() => {
                let kind = if c.is_ascii_digit() {
                    TokenKind::Literal
                } else {
                    TokenKind::Ident
                };
                let mut end = start;
                while let Some(&(i, c)) = chars.peek() {
                    if c.is_ascii_alphanumeric() || c == '_' {
                        chars.next();
                        column += 1;
                        end = i + c.len_utf8();
                    } else {
                        break;
                    }
                }
                push(&mut out, kind, end, depth, first_on_line);
                first_on_line = false;
            }
            c => {
                chars.next();
                column += width(c);
                let depth_before = depth;
                match c {
                    '(' | '[' | '{' => depth += 1,
                    ')' | ']' | '}' => depth = depth.saturating_sub(1),
                    _ => {}
                }
                push(
                    &mut out,
                    TokenKind::Punct(c),
                    start + c.len_utf8(),
                    depth_before,
                    first_on_line,
                );
                first_on_line = false;
            }
        }
    }
    out
}

/// Calls to [`FORBIDDEN_BUILTINS`] in `text`, located.
pub(super) fn forbidden_calls(file: &str, text: &str) -> Vec<Diagnostic> {
    let toks = tokens(text);
    let mut found = Vec::new();
    let mut i = 0;
    while i < toks.len() {
        let starts_ref = toks[i].kind == TokenKind::Ident
            && (i == 0 || toks[i - 1].kind != TokenKind::Punct('.'));
        if !starts_ref {
            i += 1;
            continue;
        }
        // `a.b.c` then `(`: a call of the function `a.b.c`.
        let mut name = toks[i].text.to_string();
        let mut j = i + 1;
        while j + 1 < toks.len()
            && toks[j].kind == TokenKind::Punct('.')
            && toks[j + 1].kind == TokenKind::Ident
        {
            name.push('.');
            name.push_str(toks[j + 1].text);
            j += 2;
        }
        if toks.get(j).is_some_and(|t| t.kind == TokenKind::Punct('('))
            && FORBIDDEN_BUILTINS.iter().any(|(n, _)| *n == name)
        {
            found.push(Diagnostic::at(
                file,
                toks[i].line,
                toks[i].column,
                format!("call to {name} is not allowed: {}", why_forbidden(&name)),
            ));
        }
        i = j;
    }
    found
}

/// Names of the rules `test_*` and `todo_test_*` that `text` defines at top level (rule heads
/// start a line outside any bracket), in order, once each.
pub(super) fn test_rules(text: &str) -> Vec<String> {
    let toks = tokens(text);
    let mut names: Vec<String> = Vec::new();
    for (i, t) in toks.iter().enumerate() {
        let head = t.kind == TokenKind::Ident
            && t.depth == 0
            && (t.first_on_line
                || (i > 0 && toks[i - 1].text == "default" && toks[i - 1].first_on_line));
        let is_test = t.text.starts_with("test_") || t.text.starts_with("todo_test_");
        // `test_x(…)` is a function, not a test.
        let function = toks
            .get(i + 1)
            .is_some_and(|n| n.kind == TokenKind::Punct('('));
        if head && is_test && !function && !names.iter().any(|n| n == t.text) {
            names.push(t.text.to_string());
        }
    }
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scan_tracks_lines_columns_and_depth() {
        let toks = tokens("a.b(\n\t\"x\\\"y\" # c\n  `r\nr` z)\n");
        let seen: Vec<(&str, u32, u32, u32)> = toks
            .iter()
            .map(|t| (t.text, t.line, t.column, t.depth))
            .collect();
        assert_eq!(
            seen,
            vec![
                ("a", 1, 1, 0),
                (".", 1, 2, 0),
                ("b", 1, 3, 0),
                ("(", 1, 4, 0),
                ("\"x\\\"y\"", 2, 5, 1),
                ("`r\nr`", 3, 3, 1),
                ("z", 4, 4, 1),
                (")", 4, 5, 1),
            ]
        );
        assert_eq!(
            test_rules("test_a if true\ndefault test_b := false\nx := {\n test_c\n}\n"),
            vec!["test_a", "test_b"]
        );
    }
}
