//! Text that came from the server (ids, statuses, error messages) or from a
//! flag, made harmless before it reaches a terminal: a character the
//! terminal would act on is written out as a visible escape instead.
//!
//! Used by every format meant for a terminal (the table, raw-mode headers)
//! and by everything written to stderr. JSON and NDJSON escape control
//! characters themselves; the raw output bytes are the user's data and stay
//! as they are.

use std::borrow::Cow;
use std::fmt::Write as _;

/// `text` with every control character (C0, DEL, C1: escape sequences,
/// the bell, line breaks that would forge a line) and every bidirectional
/// override (which reorders what is shown) replaced by a visible escape:
/// `\e`, `\a`, `\n`, `\r`, `\t`, or `\u{hex}`. Borrowed when there is
/// nothing to replace.
pub(crate) fn for_terminal(text: &str) -> Cow<'_, str> {
    if !text.chars().any(acts_on_terminal) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\u{1b}' => out.push_str("\\e"),
            '\u{7}' => out.push_str("\\a"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if acts_on_terminal(c) => {
                let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// Control characters, and the bidirectional formatting characters (the
/// "Trojan Source" set).
fn acts_on_terminal(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{61c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_is_borrowed_unchanged() {
        let text = "i-bp1i7gg30r52z2em1234 (t-1) é 漢字 \\e";
        assert!(matches!(for_terminal(text), Cow::Borrowed(t) if t == text));
    }

    #[test]
    fn every_character_a_terminal_acts_on_becomes_visible() {
        let shown = for_terminal("a\u{1b}[2J\u{7}\n\r\t\u{0}\u{7f}\u{9b}31m\u{202e}z");
        assert_eq!(
            shown,
            "a\\e[2J\\a\\n\\r\\t\\u{0}\\u{7f}\\u{9b}31m\\u{202e}z"
        );
        assert!(!shown.chars().any(acts_on_terminal));
        // Every C0 and C1 control, one by one.
        for c in (0u32..0x20).chain(0x7f..0xa0).filter_map(char::from_u32) {
            let shown = for_terminal(&c.to_string()).into_owned();
            assert!(
                shown.starts_with('\\') && shown.is_ascii(),
                "{c:?}: {shown}"
            );
        }
    }
}
