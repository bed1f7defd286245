//! The document model the renderer consumes: a fully prepared validation package, already
//! gathered from runs, signatures and the ledger. Nothing here is read from disk or the network.

/// What kind of document is rendered: it decides the document information's `/Subject` and
/// the cover's labels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DocumentKind {
    /// A validation package: `/Subject` "Validation package <id>".
    #[default]
    ValidationPackage,
    /// A Periodic Review Report: `/Subject` "Periodic review report <id>"; the cover's
    /// "Phases" line names the period reviewed.
    PeriodicReviewReport,
}

/// A validation package (or Periodic Review Report) ready to be rendered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackageDocument {
    /// What kind of document this is.
    pub kind: DocumentKind,
    /// Package identifier, printed on the cover and in every page header.
    pub package_id: String,
    /// Title of the package (cover, document information, XMP `dc:title`).
    pub title: String,
    /// The system under qualification.
    pub system: String,
    /// The CloudFormation stack the package covers.
    pub stack: String,
    /// The phases covered, e.g. `IQ, OQ, PQ`.
    pub phases: String,
    /// Package status as printed on the cover, e.g. `Approved`.
    pub status: String,
    /// SHA-256 of the package manifest, 64 lowercase or uppercase hex digits. The PDF's
    /// trailer `/ID` is derived from it, so the same manifest gives the same `/ID`.
    pub manifest_sha256: String,
    /// Demo packages carry a "DEMO — NOT FOR GxP USE" watermark on every page.
    pub demo: bool,
    /// A marking printed in bold red at the right of every page header, e.g.
    /// "DRAFT — NOT APPROVED" (so a printed page never passes for a final one).
    pub marking: Option<String>,
    /// When the package was generated, RFC 3339 with a UTC offset, e.g.
    /// `2026-03-01T09:30:00+01:00`. Used as the PDF creation date (no clock is read).
    pub generated_at: String,
    /// The sections, in reading order.
    pub sections: Vec<Section>,
}

/// One section of the package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Section {
    /// The cover page: title, system, stack, phases, package id, manifest digest, status.
    Cover,
    /// A table of contents listing every section after it with its first page number.
    Contents,
    /// Totals per phase with a stacked bar chart of passed/failed/errored/skipped.
    PhaseSummary {
        /// Section heading.
        title: String,
        /// One row per phase.
        rows: Vec<PhaseRow>,
    },
    /// A generic table that breaks across pages and repeats its header row.
    Table(Table),
    /// Signature manifestations (21 CFR 11.50).
    Signatures {
        /// Section heading.
        title: String,
        /// One entry per signature, in signing order.
        manifestations: Vec<SignatureManifestation>,
    },
    /// Headed free text; blank lines separate paragraphs.
    Paragraphs {
        /// Section heading.
        title: String,
        /// The text. `\n` starts a new line.
        text: String,
    },
}

/// Totals for one phase.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhaseRow {
    /// Phase name, e.g. `OQ`.
    pub phase: String,
    /// Passed cases.
    pub passed: u64,
    /// Failed cases.
    pub failed: u64,
    /// Errored cases.
    pub errored: u64,
    /// Skipped cases.
    pub skipped: u64,
    /// Deviations not yet closed.
    pub open_deviations: u64,
}

impl PhaseRow {
    /// All cases of the phase.
    pub fn total(&self) -> u64 {
        self.passed
            .saturating_add(self.failed)
            .saturating_add(self.errored)
            .saturating_add(self.skipped)
    }
}

/// A table with a header row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    /// Section heading.
    pub title: String,
    /// The columns; widths are relative to each other.
    pub columns: Vec<Column>,
    /// The rows; each must have exactly one cell per column.
    pub rows: Vec<Vec<String>>,
}

/// A table column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    /// Header text.
    pub header: String,
    /// Relative width (any positive whole number; the columns share the text width in proportion).
    pub width: u32,
}

/// One signature manifestation as printed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureManifestation {
    /// The signer's printed name.
    pub printed_name: String,
    /// Date and time of signing with its UTC offset, e.g. `2026-03-01T10:02:11+01:00`.
    pub signed_at: String,
    /// The meaning of the signature, e.g. `Approved`.
    pub meaning: String,
    /// The reason the signer gave.
    pub reason: String,
    /// The signing key's id.
    pub key_id: String,
    /// The verification state, e.g. `Verified`.
    pub verification: String,
}

/// A file embedded in the PDF.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    /// File name shown by PDF readers; unique within the package.
    pub name: String,
    /// MIME type, e.g. `application/json`.
    pub mime: String,
    /// The exact bytes.
    pub bytes: Vec<u8>,
    /// How the file relates to the document (PDF/A-3 `AFRelationship`).
    pub relationship: Relationship,
    /// Short human description.
    pub description: String,
}

/// PDF/A-3 `AFRelationship` of an attachment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Relationship {
    /// Data the document's content was rendered from (run data, manifest).
    Data,
    /// The source of the document.
    Source,
    /// Supplementary material (signature envelopes, public keys).
    Supplement,
}

impl Relationship {
    /// The PDF name value.
    pub fn pdf_name(self) -> &'static str {
        match self {
            Relationship::Data => "Data",
            Relationship::Source => "Source",
            Relationship::Supplement => "Supplement",
        }
    }
}
