//! Errors the renderer reports.

/// Why a package could not be rendered.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PdfError {
    /// `generated_at` is not RFC 3339.
    #[error("generated_at {value:?} is not an RFC 3339 date-time with a UTC offset (e.g. 2026-03-01T09:30:00+01:00)")]
    GeneratedAt {
        /// The value given.
        value: String,
    },
    /// `manifest_sha256` is not 64 hex digits.
    #[error("manifest_sha256 {value:?} is not a SHA-256 digest: expected 64 hex digits")]
    ManifestDigest {
        /// The value given.
        value: String,
    },
    /// A table row has the wrong number of cells.
    #[error("table {table:?}: row {row} has {found} cells but the table has {expected} columns")]
    RowWidth {
        /// Table title.
        table: String,
        /// 1-based row number.
        row: usize,
        /// Cells found.
        found: usize,
        /// Columns declared.
        expected: usize,
    },
    /// A table has no columns or a column of zero width.
    #[error("table {table:?}: needs at least one column and every column width must be positive")]
    Columns {
        /// Table title.
        table: String,
    },
    /// Two attachments share a name.
    #[error("attachment name {name:?} is used twice; attachment names must be unique")]
    DuplicateAttachment {
        /// The repeated name.
        name: String,
    },
    /// An attachment has an empty name.
    #[error("an attachment has an empty name; every attachment needs a file name")]
    EmptyAttachmentName,
    /// The bundled font could not be parsed (a build defect, not bad input).
    #[error("the bundled font {font} could not be parsed")]
    Font {
        /// Which font.
        font: &'static str,
    },
    /// Post-processing the PDF structure failed.
    #[error("could not finish the PDF structure: {0}")]
    Structure(String),
}
