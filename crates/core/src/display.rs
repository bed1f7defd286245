//! Untrusted text made safe to show to a person.
//!
//! Names, messages and keys come from files and buckets that anyone may have written. Shown raw
//! on a terminal, a control character can move the cursor and erase a line (`ESC[1A ESC[2K`),
//! a carriage return can overwrite what came before it, and a bidirectional override (U+202E)
//! can make `gpj.exe` read as `exe.jpg`. [`escape`] turns every such character into a visible,
//! unambiguous escape (`\u{1b}`, `\u{d}`, `\u{202e}`), and a backslash into `\\`, so the escaped
//! text never contains a character that changes how the rest of a line is drawn, and no two
//! different inputs escape to the same text. Every printer of human text (the command line, the
//! PDF renderer, the desktop app) shows untrusted strings through this one function.

use std::borrow::Cow;
use std::fmt;

/// Whether `c` changes how text around it is drawn rather than drawing itself: C0 and C1
/// control characters (including line breaks, tab and DEL), bidirectional formatting
/// characters, zero-width characters, the line and paragraph separators and the byte-order
/// mark.
pub fn is_unsafe(c: char) -> bool {
    matches!(c,
        '\u{0}'..='\u{1f}'
        | '\u{7f}'..='\u{9f}'
        // Arabic letter mark, and the Mongolian vowel separator (invisible).
        | '\u{61c}' | '\u{180e}'
        // Zero-width space, non-joiner, joiner; left-to-right and right-to-left marks.
        | '\u{200b}'..='\u{200f}'
        // Line separator, paragraph separator, bidi embeddings and overrides (LRE … RLO).
        | '\u{2028}'..='\u{202e}'
        // Word joiner, invisible operators, bidi isolates (LRI … PDI), deprecated format chars.
        | '\u{2060}'..='\u{206f}'
        | '\u{feff}'
        // Interlinear annotation characters.
        | '\u{fff9}'..='\u{fffb}'
    )
}

/// `text` with every [unsafe](is_unsafe) character written as `\u{hex}` and every backslash
/// as `\\`. Borrowed when nothing needed escaping.
pub fn escape(text: &str) -> Cow<'_, str> {
    if !text.chars().any(|c| c == '\\' || is_unsafe(c)) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        push_escaped(&mut out, c);
    }
    Cow::Owned(out)
}

/// Like [`escape`], but keeps line breaks (`\n`) as they are, for multi-line text that is shown
/// as a block of its own (a failure message's detail): each line is still escaped.
pub fn escape_lines(text: &str) -> Cow<'_, str> {
    if !text
        .chars()
        .any(|c| c != '\n' && (c == '\\' || is_unsafe(c)))
    {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if c == '\n' {
            out.push(c);
        } else {
            push_escaped(&mut out, c);
        }
    }
    Cow::Owned(out)
}

fn push_escaped(out: &mut String, c: char) {
    if c == '\\' {
        out.push_str("\\\\");
    } else if is_unsafe(c) {
        out.push_str(&format!("\\u{{{:x}}}", u32::from(c)));
    } else {
        out.push(c);
    }
}

/// A `Display` wrapper that [escapes](escape) its text: `format!("{}", Shown(name))`.
#[derive(Debug, Clone, Copy)]
pub struct Shown<'a>(pub &'a str);

impl fmt::Display for Shown<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Padding (`{:<34}`) applies to the escaped text, as it is what takes up the columns.
        f.pad(&escape(self.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_is_borrowed_unchanged() {
        for s in [
            "",
            "LIMS/OQ/2026-11-03-oq-1",
            "Zürich ✓ 日本語",
            "a b\u{a0}c",
        ] {
            assert!(matches!(escape(s), Cow::Borrowed(_)), "{s:?}");
            assert_eq!(escape(s), s);
        }
    }

    #[test]
    fn terminal_controls_bidi_and_invisible_characters_are_escaped() {
        assert_eq!(escape("x\u{1b}[1A\u{1b}[2Kx"), "x\\u{1b}[1A\\u{1b}[2Kx");
        assert_eq!(escape("critical\r  PASSED"), "critical\\u{d}  PASSED");
        assert_eq!(escape("a\nb\tc"), "a\\u{a}b\\u{9}c");
        assert_eq!(escape("report\u{202e}lmx.exe"), "report\\u{202e}lmx.exe");
        assert_eq!(escape("\u{2066}x\u{2069}"), "\\u{2066}x\\u{2069}");
        assert_eq!(escape("a\u{200b}b\u{feff}"), "a\\u{200b}b\\u{feff}");
        assert_eq!(escape("\u{85}\u{9b}31m"), "\\u{85}\\u{9b}31m");
        assert_eq!(escape("\u{7f}\u{0}"), "\\u{7f}\\u{0}");
    }

    #[test]
    fn the_escaped_form_is_unambiguous() {
        // A literal backslash sequence cannot pass for an escaped control character.
        assert_eq!(escape("\\u{1b}"), "\\\\u{1b}");
        assert_ne!(escape("\\u{1b}"), escape("\u{1b}"));
        assert_eq!(escape("C:\\x"), "C:\\\\x");
        // Nothing the escape writes is itself unsafe.
        let all: String = (0u32..0x3000).filter_map(char::from_u32).collect();
        assert!(!escape(&all).chars().any(is_unsafe));
    }

    #[test]
    fn lines_keep_their_breaks_and_nothing_else() {
        assert_eq!(escape_lines("one\ntwo"), "one\ntwo");
        assert_eq!(escape_lines("one\r\ntwo\u{1b}"), "one\\u{d}\ntwo\\u{1b}");
    }

    #[test]
    fn shown_pads_the_escaped_text() {
        assert_eq!(format!("[{:<8}]", Shown("a\rb")), "[a\\u{d}b ]");
        assert_eq!(format!("{}", Shown("ok")), "ok");
    }
}
