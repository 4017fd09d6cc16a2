//! Text that reaches a person's terminal: control characters made visible.
//!
//! Anything an agent, an anonymous sender or an upstream could have written (tool names, token
//! claims, reasons) may carry terminal escape sequences (`ESC ] 0 ; … BEL` retitles the window,
//! `ESC [ 31 m` recolours it) or bidirectional overrides that make text read differently from
//! its bytes. [`escape_controls`] rewrites those characters as visible `\u{…}` escapes; igctl
//! applies it to every table and text line, and igd to error text it builds from untrusted
//! input. Machine formats (JSON) stay exact.

use std::borrow::Cow;

/// True for a character that must not reach a terminal raw: C0 controls, DEL and C1 controls
/// (Unicode `Cc`), the bidirectional formatting characters (U+061C, U+200E, U+200F,
/// U+202A–U+202E, U+2066–U+2069) and the line and paragraph separators U+2028, U+2029.
pub fn is_unsafe_for_terminal(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{061C}'
                | '\u{200E}'
                | '\u{200F}'
                | '\u{202A}'..='\u{202E}'
                | '\u{2066}'..='\u{2069}'
                | '\u{2028}'
                | '\u{2029}'
        )
}

/// `s` with every [unsafe](is_unsafe_for_terminal) character written as a visible escape
/// (`\n`, `\t`, `\u{1b}`, `\u{202e}`, …). Borrowed when nothing needed escaping.
/// `text` cut to at most `max` bytes on a character boundary, with `…` appended when cut.
pub fn truncated(mut text: String, max: usize) -> String {
    if text.len() > max {
        let mut end = max;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
        text.push('…');
    }
    text
}

pub fn escape_controls(s: &str) -> Cow<'_, str> {
    escape_controls_except(s, &[])
}

/// Like [`escape_controls`], but the characters in `keep` pass unchanged (e.g. `'\n'` for
/// multi-line text whose line breaks are igctl's own).
pub fn escape_controls_except<'a>(s: &'a str, keep: &[char]) -> Cow<'a, str> {
    let unsafe_char = |c: char| is_unsafe_for_terminal(c) && !keep.contains(&c);
    if !s.chars().any(unsafe_char) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 16);
    for c in s.chars() {
        if unsafe_char(c) {
            out.extend(c.escape_debug());
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_c0_del_c1_and_bidi_and_keeps_the_rest() {
        let hostile =
            "a\u{1b}]0;pwned\u{7}\u{1b}[31mb\u{7f}\u{9b}2J\u{202e}txt.exe\u{2066}\u{2028}\r\n\t\0";
        let shown = escape_controls(hostile);
        assert_eq!(
            shown,
            "a\\u{1b}]0;pwned\\u{7}\\u{1b}[31mb\\u{7f}\\u{9b}2J\\u{202e}txt.exe\\u{2066}\\u{2028}\\r\\n\\t\\0"
        );
        assert!(!shown.chars().any(is_unsafe_for_terminal));
        // Printable text, including non-ASCII and emoji joiners, is untouched and borrowed.
        for fine in [
            "plain",
            "héllo wörld",
            "👩\u{200d}💻",
            "back\\slash",
            "日本語",
            "",
        ] {
            assert!(
                matches!(escape_controls(fine), Cow::Borrowed(s) if s == fine),
                "{fine}"
            );
        }
    }

    #[test]
    fn every_unsafe_character_is_escaped() {
        let all: String = (0u32..=0x3000).filter_map(char::from_u32).collect();
        let shown = escape_controls(&all);
        assert!(!shown.chars().any(is_unsafe_for_terminal));
        for c in [
            '\u{0}', '\u{1f}', '\u{7f}', '\u{80}', '\u{9f}', '\u{61c}', '\u{200e}', '\u{200f}',
            '\u{202a}', '\u{202e}', '\u{2066}', '\u{2069}', '\u{2028}', '\u{2029}',
        ] {
            assert!(is_unsafe_for_terminal(c), "{:x}", c as u32);
        }
        for c in [
            ' ', '~', '\u{a0}', '\u{200b}', '\u{200d}', '\u{2070}', '\u{202f}',
        ] {
            assert!(!is_unsafe_for_terminal(c), "{:x}", c as u32);
        }
    }

    #[test]
    fn kept_characters_pass() {
        assert_eq!(
            escape_controls_except("a\nb\u{1b}c", &['\n']),
            "a\nb\\u{1b}c"
        );
        assert_eq!(
            escape_controls_except("a\nb", &['\n']),
            Cow::Borrowed("a\nb")
        );
    }
}
