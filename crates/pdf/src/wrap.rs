//! Greedy line breaking on glyph advances. Words that do not fit on a line of their own
//! (digests, ARNs, URIs) are broken between characters, so nothing is ever clipped.

/// Breaks `text` into lines no wider than `max_width`, measuring each character with `width`.
/// `\n` forces a line break; runs of spaces collapse to one at a break. Always returns at least
/// one line (possibly empty).
pub(crate) fn wrap(text: &str, max_width: f32, width: impl Fn(char) -> f32) -> Vec<String> {
    let mut lines = Vec::new();
    let space = width(' ');
    for paragraph in text.split('\n') {
        let mut line = String::new();
        let mut line_width = 0.0_f32;
        for word in paragraph.split(' ').filter(|w| !w.is_empty()) {
            let word_width: f32 = word.chars().map(&width).sum();
            let gap = if line.is_empty() { 0.0 } else { space };
            if line_width + gap + word_width <= max_width {
                if !line.is_empty() {
                    line.push(' ');
                }
                line.push_str(word);
                line_width += gap + word_width;
                continue;
            }
            if word_width <= max_width {
                lines.push(std::mem::take(&mut line));
                line.push_str(word);
                line_width = word_width;
                continue;
            }
            // Too long for any line: fill the current line, then break between characters.
            if !line.is_empty() {
                line.push(' ');
                line_width += space;
            }
            for c in word.chars() {
                let w = width(c);
                if line_width + w > max_width && !line.is_empty() {
                    lines.push(std::mem::take(&mut line));
                    line_width = 0.0;
                }
                line.push(c);
                line_width += w;
            }
        }
        lines.push(line.trim_end().to_string());
    }
    if lines.is_empty() {
        lines.push(String::new());
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::wrap;

    fn unit(_: char) -> f32 {
        1.0
    }

    #[test]
    fn words_fill_lines_greedily() {
        assert_eq!(wrap("aa bb cc dd", 5.0, unit), vec!["aa bb", "cc dd"]);
    }

    #[test]
    fn long_tokens_break_between_characters() {
        let lines = wrap("x 0123456789abcdef", 6.0, unit);
        assert_eq!(lines, vec!["x 0123", "456789", "abcdef"]);
        assert!(lines.iter().all(|l| l.chars().count() <= 6));
    }

    #[test]
    fn newlines_force_breaks_and_empty_text_gives_one_line() {
        assert_eq!(wrap("a\n\nb", 10.0, unit), vec!["a", "", "b"]);
        assert_eq!(wrap("", 10.0, unit), vec![""]);
    }

    #[test]
    fn a_character_wider_than_the_line_still_progresses() {
        assert_eq!(wrap("abc", 0.5, unit), vec!["a", "b", "c"]);
    }
}
