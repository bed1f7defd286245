//! Renders a prepared validation package to PDF: cover, contents, per-phase summary with a vector
//! bar chart, tables that break across pages, signature manifestations and free text, with the
//! package id in every header, "Page N of M" in every footer, an embedded DejaVu Sans font, the
//! machine-readable record embedded as attachments, and PDF/A-3b metadata (XMP, sRGB output intent).
//!
//! The service layer builds the [`PackageDocument`]; this crate does no I/O and reads no clock.
#![forbid(unsafe_code)]

mod approval;
mod error;
mod finish;
mod fonts;
mod model;
mod page;
mod read;
mod sections;
mod table;
mod wrap;

pub use approval::{
    prepare_approval, seal_approval, ApprovalPage, PreparedApproval, APPROVAL_FILTER,
    APPROVAL_SUBFILTER, MAX_APPROVAL_ENVELOPE_BYTES,
};
pub use error::PdfError;
pub use model::{
    Attachment, Column, DocumentKind, PackageDocument, PhaseRow, Relationship, Section,
    SignatureManifestation, Table,
};
pub use read::{read_package, ReadError, ReadPackage, MAX_ATTACHMENT_BYTES};

use printpdf::{Mm, Op, PdfDocument, PdfPage, PdfSaveOptions};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use fonts::{Face, Fonts};
use page::{rgb, rule_ops, text_ops, Composer, MARGIN_X, PAGE_H, PAGE_W};

/// The watermark on every page of a demo package.
pub const DEMO_WATERMARK: &str = "DEMO — NOT FOR GxP USE";

/// Renders `doc` with `attachments` embedded, returning the PDF bytes.
///
/// The same document and attachments give the same bytes apart from printpdf's internal font
/// resource names; the trailer `/ID` comes from the manifest digest and the dates from
/// `generated_at`.
pub fn render(doc: &PackageDocument, attachments: &[Attachment]) -> Result<Vec<u8>, PdfError> {
    let created =
        OffsetDateTime::parse(&doc.generated_at, &Rfc3339).map_err(|_| PdfError::GeneratedAt {
            value: doc.generated_at.clone(),
        })?;
    let digest = parse_digest(&doc.manifest_sha256)?;
    validate_tables(doc)?;
    validate_attachments(attachments)?;

    let mut pdf = PdfDocument::new(&doc.title);
    let fonts = Fonts::load(&mut pdf)?;
    let mut c = Composer::new(&fonts);
    let mut toc: Vec<(String, usize)> = Vec::new();
    let mut contents_slot: Option<usize> = None;
    let mut contents_pages = 0;
    for (i, section) in doc.sections.iter().enumerate() {
        match section {
            Section::Cover => {
                c.new_page();
                sections::cover(&mut c, doc);
            }
            Section::Contents => {
                let entries = doc.sections[i + 1..]
                    .iter()
                    .filter(|s| title(s).is_some())
                    .count();
                contents_pages = entries.div_ceil(sections::contents_per_page()).max(1);
                contents_slot = Some(c.pages.len());
                for _ in 0..contents_pages {
                    c.new_page();
                }
            }
            other => {
                c.new_page();
                let heading = title(other).unwrap_or_default();
                toc.push((heading.to_string(), c.page_index()));
                c.heading(heading);
                match other {
                    Section::PhaseSummary { rows, .. } => sections::phase_summary(&mut c, rows),
                    Section::Table(t) => table::table(&mut c, &t.columns, &t.rows),
                    Section::Signatures { manifestations, .. } => {
                        sections::signatures(&mut c, manifestations)
                    }
                    Section::Paragraphs { text, .. } => c.paragraph(text, Face::Regular, 10.0),
                    Section::Cover | Section::Contents => {}
                }
            }
        }
    }
    if c.pages.is_empty() {
        c.new_page();
    }
    let mut pages = std::mem::take(&mut c.pages);
    if let Some(slot) = contents_slot {
        let mut contents = Composer::new(&fonts);
        sections::contents(&mut contents, &toc);
        for (k, ops) in contents.pages.into_iter().take(contents_pages).enumerate() {
            pages[slot + k] = ops;
        }
    }

    let total = pages.len();
    let pdf_pages: Vec<PdfPage> = pages
        .into_iter()
        .enumerate()
        .map(|(n, body)| {
            let mut ops = Vec::new();
            if doc.demo {
                ops.extend(watermark(&fonts));
            }
            ops.extend(body);
            ops.extend(chrome(&fonts, doc, n + 1, total));
            PdfPage::new(Mm(210.0), Mm(297.0), ops)
        })
        .collect();
    pdf.with_pages(pdf_pages);
    let mut warnings = Vec::new();
    let lo = pdf.to_lopdf_document(&PdfSaveOptions::default(), &mut warnings);
    finish::finish(lo, doc, created, &digest, attachments)
}

/// The heading a section is listed under in the contents.
fn title(section: &Section) -> Option<&str> {
    match section {
        Section::Cover | Section::Contents => None,
        Section::PhaseSummary { title, .. }
        | Section::Signatures { title, .. }
        | Section::Paragraphs { title, .. } => Some(title),
        Section::Table(t) => Some(&t.title),
    }
}

/// Header (package id, the marking when there is one, and a rule) and footer ("Page N of M").
fn chrome(fonts: &Fonts, doc: &PackageDocument, n: usize, total: usize) -> Vec<Op> {
    let grey = rgb(90, 90, 90);
    let mut ops = Vec::new();
    let mut id_width = PAGE_W - 2.0 * MARGIN_X;
    if let Some(marking) = &doc.marking {
        let marking = fonts.printable(Face::Bold, marking);
        let w = fonts.width(Face::Bold, &marking, 9.0);
        ops.extend(text_ops(
            fonts,
            PAGE_W - MARGIN_X - w,
            PAGE_H - 40.0,
            Face::Bold,
            9.0,
            &marking,
            rgb(180, 20, 20),
        ));
        id_width -= w + 12.0;
    }
    let id = fonts.printable(Face::Regular, &doc.package_id);
    let id = fit(fonts, &id, 8.0, id_width.max(40.0));
    ops.extend(text_ops(
        fonts,
        MARGIN_X,
        PAGE_H - 40.0,
        Face::Regular,
        8.0,
        &id,
        grey.clone(),
    ));
    ops.extend(rule_ops(
        (MARGIN_X, PAGE_H - 46.0),
        (PAGE_W - MARGIN_X, PAGE_H - 46.0),
        0.5,
    ));
    let footer = format!("Page {n} of {total}");
    let w = fonts.width(Face::Regular, &footer, 8.0);
    ops.extend(text_ops(
        fonts,
        (PAGE_W - w) / 2.0,
        32.0,
        Face::Regular,
        8.0,
        &footer,
        grey,
    ));
    ops
}

/// Cuts `text` to `width`, ending in an ellipsis when shortened.
fn fit(fonts: &Fonts, text: &str, size: f32, width: f32) -> String {
    if fonts.width(Face::Regular, text, size) <= width {
        return text.to_string();
    }
    let mut out = String::new();
    let mut w = fonts.char_width(Face::Regular, '…', size);
    for ch in text.chars() {
        w += fonts.char_width(Face::Regular, ch, size);
        if w > width {
            break;
        }
        out.push(ch);
    }
    out.push('…');
    out
}

/// The demo watermark: large light-grey bold text across the page diagonal, under the content.
fn watermark(fonts: &Fonts) -> Vec<Op> {
    let size = 40.0;
    let w = fonts.width(Face::Bold, DEMO_WATERMARK, size);
    let (s, co) = std::f32::consts::FRAC_PI_4.sin_cos();
    let x = PAGE_W / 2.0 - w / 2.0 * co + size / 3.0 * s;
    let y = PAGE_H / 2.0 - w / 2.0 * s - size / 3.0 * co;
    vec![
        Op::SaveGraphicsState,
        Op::SetFillColor {
            col: rgb(215, 215, 215),
        },
        Op::StartTextSection,
        Op::SetFont {
            font: printpdf::PdfFontHandle::External(fonts.id(Face::Bold)),
            size: printpdf::Pt(size),
        },
        Op::SetTextMatrix {
            matrix: printpdf::TextMatrix::TranslateRotate(printpdf::Pt(x), printpdf::Pt(y), 45.0),
        },
        Op::ShowText {
            items: vec![printpdf::TextItem::Text(DEMO_WATERMARK.to_string())],
        },
        Op::EndTextSection,
        Op::RestoreGraphicsState,
    ]
}

fn parse_digest(hex: &str) -> Result<[u8; 32], PdfError> {
    let bad = || PdfError::ManifestDigest {
        value: hex.to_string(),
    };
    let bytes = hex.as_bytes();
    if bytes.len() != 64 {
        return Err(bad());
    }
    let mut out = [0u8; 32];
    for (i, pair) in bytes.chunks(2).enumerate() {
        let s = std::str::from_utf8(pair).map_err(|_| bad())?;
        out[i] = u8::from_str_radix(s, 16).map_err(|_| bad())?;
    }
    Ok(out)
}

fn validate_tables(doc: &PackageDocument) -> Result<(), PdfError> {
    for section in &doc.sections {
        if let Section::Table(t) = section {
            if t.columns.is_empty() || t.columns.iter().any(|c| c.width == 0) {
                return Err(PdfError::Columns {
                    table: t.title.clone(),
                });
            }
            for (i, row) in t.rows.iter().enumerate() {
                if row.len() != t.columns.len() {
                    return Err(PdfError::RowWidth {
                        table: t.title.clone(),
                        row: i + 1,
                        found: row.len(),
                        expected: t.columns.len(),
                    });
                }
            }
        }
    }
    Ok(())
}

fn validate_attachments(attachments: &[Attachment]) -> Result<(), PdfError> {
    let mut seen = std::collections::BTreeSet::new();
    for a in attachments {
        if a.name.is_empty() {
            return Err(PdfError::EmptyAttachmentName);
        }
        if !seen.insert(a.name.as_str()) {
            return Err(PdfError::DuplicateAttachment {
                name: a.name.clone(),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digest_must_be_64_hex_digits() {
        let good = "9F86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
        let bytes = parse_digest(good).unwrap();
        assert_eq!(bytes[0], 0x9f);
        assert_eq!(bytes[31], 0x08);
        for bad in [
            "",
            "9f86",
            &good.replace('9', "g"),
            &format!("{good}00"),
            &"é".repeat(32),
        ] {
            assert_eq!(
                parse_digest(bad),
                Err(PdfError::ManifestDigest {
                    value: bad.to_string()
                })
            );
        }
    }

    #[test]
    fn contents_without_later_sections_still_renders() {
        let doc = PackageDocument {
            kind: DocumentKind::ValidationPackage,
            package_id: "P".into(),
            title: "T".into(),
            system: String::new(),
            stack: String::new(),
            phases: String::new(),
            status: String::new(),
            manifest_sha256: "0".repeat(64),
            demo: false,
            marking: None,
            generated_at: "2026-01-01T00:00:00Z".into(),
            sections: vec![Section::Contents],
        };
        let bytes = render(&doc, &[]).unwrap();
        assert!(bytes.starts_with(b"%PDF-1.7"));
    }
}
