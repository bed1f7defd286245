//! Requirement ids: recognising `URS-LIMS-001`, `REQ-12`, `FRS-ELN-4.2` in tags, property
//! values, case names and file names.
//!
//! The matcher is hand-written (no regular-expression engine in the core). An id is a *head*
//! of an upper-case letter followed by upper-case letters or digits, then one or more `-`
//! segments of upper-case letters, digits and dots, roughly `[A-Z][A-Z0-9]*(-[A-Z0-9.]+)+`.
//! The last segment must contain a digit (so `HTTP-GET` is not an id) and a trailing dot is
//! not part of the id (`see URS-LIMS-001.` → `URS-LIMS-001`).

use serde::{Deserialize, Serialize};

/// Which strings count as requirement ids.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequirementPattern {
    /// Allowed heads (`URS`, `FRS`, `REQ`, …). Empty means any head of the right shape.
    #[serde(default)]
    pub prefixes: Vec<String>,
}

impl RequirementPattern {
    /// A pattern accepting only ids whose head is one of `prefixes`.
    pub fn with_prefixes<I, S>(prefixes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Self {
            prefixes: prefixes.into_iter().map(Into::into).collect(),
        }
    }

    /// Whether the whole of `s` is a requirement id.
    pub fn is_id(&self, s: &str) -> bool {
        shape_len(s.as_bytes()) == Some(s.len()) && self.head_allowed(s)
    }

    /// Every requirement id found in free text (case names, property values, tag lists), in
    /// order of appearance, without repeats. An id must not be glued to surrounding letters or
    /// digits (`xURS-1` and `URS-1a` do not contain `URS-1`).
    pub fn find_all(&self, text: &str) -> Vec<String> {
        let bytes = text.as_bytes();
        let mut out: Vec<String> = Vec::new();
        // Non-ASCII bytes belong to letters (`é`), so they glue like letters do.
        let word = |c: u8| c.is_ascii_alphanumeric() || !c.is_ascii();
        let mut i = 0;
        while i < bytes.len() {
            let starts_word = i == 0 || !word(bytes[i - 1]);
            if starts_word && bytes[i].is_ascii_uppercase() {
                if let Some(len) = shape_len(&bytes[i..]) {
                    let end = i + len;
                    let glued = end < bytes.len() && word(bytes[end]);
                    // `shape_len` stops at ASCII boundaries, so slicing here is on a char boundary.
                    let id = &text[i..end];
                    if !glued && self.head_allowed(id) && !out.iter().any(|o| o == id) {
                        out.push(id.to_owned());
                    }
                    i = end.max(i + 1);
                    continue;
                }
            }
            i += 1;
        }
        out
    }

    fn head_allowed(&self, id: &str) -> bool {
        if self.prefixes.is_empty() {
            return true;
        }
        let head = id.split('-').next().unwrap_or("");
        self.prefixes.iter().any(|p| p == head)
    }
}

/// Length of the longest requirement-id-shaped prefix of `b`, if any.
fn shape_len(b: &[u8]) -> Option<usize> {
    let upper_or_digit = |c: u8| c.is_ascii_uppercase() || c.is_ascii_digit();
    if !b.first().is_some_and(u8::is_ascii_uppercase) {
        return None;
    }
    let mut i = 1;
    while i < b.len() && upper_or_digit(b[i]) {
        i += 1;
    }
    let mut end = None;
    let mut last_has_digit = false;
    while i < b.len() && b[i] == b'-' {
        let seg_start = i + 1;
        let mut j = seg_start;
        while j < b.len() && (upper_or_digit(b[j]) || b[j] == b'.') {
            j += 1;
        }
        // Drop trailing dots: they end a sentence or start a file extension.
        let mut seg_end = j;
        while seg_end > seg_start && b[seg_end - 1] == b'.' {
            seg_end -= 1;
        }
        if seg_end == seg_start {
            break;
        }
        last_has_digit = b[seg_start..seg_end].iter().any(u8::is_ascii_digit);
        end = Some(seg_end);
        if seg_end < j {
            break;
        }
        i = j;
    }
    match end {
        Some(e) if last_has_digit => Some(e),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_ids() {
        let p = RequirementPattern::default();
        for ok in ["URS-LIMS-001", "REQ-12", "FRS-ELN-4.2", "A1-B-3"] {
            assert!(p.is_id(ok), "{ok}");
        }
        for bad in [
            "urs-lims-001",
            "REQ",
            "REQ-",
            "HTTP-GET",
            "REQ-12.",
            "-REQ-1",
            "REQ_12",
            "",
        ] {
            assert!(!p.is_id(bad), "{bad}");
        }
    }

    #[test]
    fn finds_ids_in_text_and_file_names() {
        let p = RequirementPattern::default();
        assert_eq!(
            p.find_all("URS-LIMS-020 login requires MFA (see REQ-12, FRS-ELN-4.2.)"),
            vec!["URS-LIMS-020", "REQ-12", "FRS-ELN-4.2"]
        );
        assert_eq!(
            p.find_all("evidence/URS-LIMS-001_screenshot.png"),
            vec!["URS-LIMS-001"]
        );
        assert_eq!(p.find_all("URS-LIMS-001.png"), vec!["URS-LIMS-001"]);
        assert_eq!(p.find_all("URS-1, URS-1"), vec!["URS-1"]);
        assert!(p.find_all("xURS-1 URS-1a ré-1 éURS-2").is_empty());
    }

    #[test]
    fn prefixes_restrict_heads() {
        let p = RequirementPattern::with_prefixes(["URS", "FRS"]);
        assert!(p.is_id("URS-LIMS-001"));
        assert!(!p.is_id("REQ-12"));
        assert_eq!(p.find_all("REQ-12 FRS-ELN-4.2"), vec!["FRS-ELN-4.2"]);
    }
}
