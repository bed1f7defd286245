//! The error every report reader returns: which file, where in it, and what was wrong.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A result file or manifest that could not be read. Displayed as `path:line:column: message`
/// (the position is left out when the problem is not tied to one place in the file).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportError {
    /// Run-relative path of the file.
    pub path: String,
    /// 1-based line, when known.
    pub line: Option<u32>,
    /// 1-based column (in characters), when known.
    pub column: Option<u32>,
    /// What was wrong and, where it helps, what to do.
    pub message: String,
}

impl ReportError {
    /// An error at a known position.
    pub fn at(path: &str, line: u32, column: u32, message: impl Into<String>) -> Self {
        Self {
            path: path.to_owned(),
            line: Some(line),
            column: Some(column),
            message: message.into(),
        }
    }

    /// An error about the file as a whole.
    pub fn whole(path: &str, message: impl Into<String>) -> Self {
        Self {
            path: path.to_owned(),
            line: None,
            column: None,
            message: message.into(),
        }
    }

    /// An error at byte offset `offset` of `text`.
    /// A JSON syntax or shape error from serde_json, at its line and column.
    pub fn from_json(path: &str, e: &serde_json::Error) -> Self {
        let line = u32::try_from(e.line()).unwrap_or(u32::MAX);
        let column = u32::try_from(e.column()).unwrap_or(u32::MAX);
        // serde_json appends " at line L column C"; the position is shown separately.
        let msg = e.to_string();
        let msg = msg.split(" at line ").next().unwrap_or(&msg).to_owned();
        Self::at(path, line, column, format!("not valid JSON: {msg}"))
    }

    pub fn at_offset(path: &str, text: &[u8], offset: usize, message: impl Into<String>) -> Self {
        let (line, column) = line_column(text, offset);
        Self::at(path, line, column, message)
    }
}

impl fmt::Display for ReportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.line, self.column) {
            (Some(l), Some(c)) => write!(f, "{}:{l}:{c}: {}", self.path, self.message),
            (Some(l), None) => write!(f, "{}:{l}: {}", self.path, self.message),
            _ => write!(f, "{}: {}", self.path, self.message),
        }
    }
}

impl std::error::Error for ReportError {}

/// 1-based line and column (counting characters, lossy for invalid UTF-8) of a byte offset.
pub fn line_column(text: &[u8], offset: usize) -> (u32, u32) {
    let before = &text[..offset.min(text.len())];
    let line_start = before
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |p| p + 1);
    let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
    let column = String::from_utf8_lossy(&before[line_start..])
        .chars()
        .count()
        + 1;
    (saturate(line), saturate(column))
}

fn saturate(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// Decodes UTF-8 (dropping a byte-order mark), naming the first bad byte's position.
pub fn utf8<'a>(path: &str, bytes: &'a [u8]) -> Result<&'a str, ReportError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    std::str::from_utf8(bytes).map_err(|e| {
        ReportError::at_offset(
            path,
            bytes,
            e.valid_up_to(),
            "not valid UTF-8; re-export the report as UTF-8",
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_and_display() {
        assert_eq!(line_column(b"ab\ncd", 4), (2, 2));
        assert_eq!(line_column(b"", 0), (1, 1));
        let e = ReportError::at_offset("r/x.xml", b"a\n\xC3\xA9b", 4, "boom");
        assert_eq!(e.to_string(), "r/x.xml:2:2: boom");
        assert_eq!(
            ReportError::whole("run.json", "bad").to_string(),
            "run.json: bad"
        );
    }

    #[test]
    fn utf8_errors_are_positioned() {
        let e = utf8("a.xml", b"<a>\n  \xFF</a>").unwrap_err();
        assert_eq!((e.line, e.column), (Some(2), Some(3)));
        assert_eq!(utf8("a.xml", b"\xEF\xBB\xBF<a/>").unwrap(), "<a/>");
    }
}
