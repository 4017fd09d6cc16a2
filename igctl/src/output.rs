//! Printing results: aligned tables for people, JSON for scripts.
//!
//! Text for people never carries raw control characters: every table cell and field value is
//! escaped (a value cannot break its line or its column), and every text line printed or written
//! to stderr is escaped except for igctl's own line breaks. Whatever igd returns — tool names,
//! subjects, reasons, error messages — may have come from an agent or an anonymous sender.
//! JSON output stays exact.

use intentgate_proto::text::{escape_controls, escape_controls_except};
use std::io::Write;

/// Render rows under a header as aligned columns.
pub fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    let rows: Vec<Vec<String>> = rows
        .iter()
        .map(|r| r.iter().map(|c| escape_controls(c).into_owned()).collect())
        .collect();
    let rows = rows.as_slice();
    let mut widths: Vec<usize> = header.iter().map(|h| h.len()).collect();
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            if i < widths.len() {
                widths[i] = widths[i].max(cell.chars().count());
            }
        }
    }
    let mut out = String::new();
    let line = |cells: Vec<&str>, out: &mut String| {
        let last = cells.len().saturating_sub(1);
        for (i, cell) in cells.iter().enumerate() {
            out.push_str(cell);
            if i < last {
                let pad = widths[i] - cell.chars().count() + 2;
                out.push_str(&" ".repeat(pad));
            }
        }
        out.push('\n');
    };
    line(header.to_vec(), &mut out);
    for row in rows {
        line(row.iter().map(String::as_str).collect(), &mut out);
    }
    out
}

/// `key: value` lines with aligned values.
pub fn fields(pairs: &[(&str, String)]) -> String {
    let width = pairs.iter().map(|(k, _)| k.len()).max().unwrap_or(0) + 1;
    let mut out = String::new();
    for (k, v) in pairs {
        out.push_str(&format!(
            "{:<width$} {}\n",
            format!("{k}:"),
            escape_controls(v)
        ));
    }
    out
}

/// Write text for people to stdout: control characters escaped, line breaks kept.
pub fn print_text(text: &str) {
    print(&escape_controls_except(text, &['\n']));
}

/// Write to stdout exactly (JSON, generated man pages and completions), ignoring a closed pipe.
pub fn print(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes());
    let _ = out.flush();
}

/// Write text for people to stderr: control characters escaped, line breaks kept.
pub fn eprint(text: &str) {
    let mut err = std::io::stderr().lock();
    let _ = err.write_all(escape_controls_except(text, &['\n']).as_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOSTILE: &str = "x\u{1b}]0;pwned\u{7}\u{1b}[31m\u{202e}gpj.exe\n\u{9b}2J";

    #[test]
    fn table_cells_are_escaped_and_stay_aligned() {
        let out = table(
            &["A", "B"],
            &[
                vec![HOSTILE.to_string(), "b".into()],
                vec!["ok".into(), "c".into()],
            ],
        );
        assert!(
            !out.chars()
                .any(|c| c != '\n' && intentgate_proto::text::is_unsafe_for_terminal(c)),
            "{out:?}"
        );
        // One line per row: a value cannot add lines.
        assert_eq!(out.lines().count(), 3, "{out}");
        assert!(
            out.contains("x\\u{1b}]0;pwned\\u{7}\\u{1b}[31m\\u{202e}gpj.exe\\n\\u{9b}2J  b"),
            "{out}"
        );
        let col = |line: &str, needle: &str| line.find(needle).unwrap();
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(col(lines[0], "B"), col(lines[1], " b") + 1);
        assert_eq!(col(lines[0], "B"), col(lines[2], "c"));
    }

    #[test]
    fn field_values_are_escaped() {
        let out = fields(&[("reason", HOSTILE.to_string()), ("ok", "fine".into())]);
        assert_eq!(out.lines().count(), 2, "{out}");
        assert!(
            !out.chars()
                .any(|c| c != '\n' && intentgate_proto::text::is_unsafe_for_terminal(c)),
            "{out:?}"
        );
        assert!(out.ends_with("ok:     fine\n"), "{out}");
    }
}
