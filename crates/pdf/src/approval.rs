//! A package approval as a PDF incremental update (docs/package-format.md §15): one page that
//! manifests the signature (printed name, date and time with its UTC offset, meaning, reason),
//! the page tree with that page added, and a signature dictionary whose `/ByteRange` covers
//! every byte of the file as it will stand except the signature value in `/Contents`.
//!
//! [`prepare_approval`] writes the revision with a zero-filled `/Contents`; the caller signs
//! the byte range (its digest is `countersign_core::package::approval::signed_digest`) and
//! [`seal_approval`] writes the envelope into the gap. Nothing else changes between the two.

use std::collections::{BTreeSet, VecDeque};
use std::ops::Range;

use lopdf::{dictionary, Document, IncrementalDocument, Object, ObjectId, StringFormat};
use printpdf::{Mm, PdfDocument, PdfPage, PdfSaveOptions};

use crate::fonts::{Face, Fonts};
use crate::page::{rgb, text_ops, Composer, MARGIN_X, PAGE_H, PAGE_W};
use crate::PdfError;

/// The largest DSSE envelope an approval revision holds, in bytes (it is written as hex).
pub const MAX_APPROVAL_ENVELOPE_BYTES: usize = 8192;

/// The `/SubFilter` of a Countersign package approval, version 1.
pub const APPROVAL_SUBFILTER: &str = "countersign.package-approval.v1";

/// The `/Filter` of a Countersign package approval.
pub const APPROVAL_FILTER: &str = "Countersign.DSSE";

/// Ten digits: the width every `/ByteRange` number is written in before it is known.
const RANGE_PLACEHOLDER: i64 = 9_999_999_999;

/// What the approval page shows: the signature as the signer will sign it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApprovalPage {
    /// The package id.
    pub package_id: String,
    /// 1 for the first approval of the package, 2 for the next, …
    pub number: usize,
    /// `Reviewed` or `Approved`.
    pub meaning: String,
    /// The signer's printed name.
    pub printed_name: String,
    /// The signer's IAM identity.
    pub iam_arn: String,
    /// The signing key's id.
    pub key_id: String,
    /// Date and time with the signer's UTC offset, e.g. `2026-12-05 09:14:03 +01:00`.
    pub signed_at_local: String,
    /// The same instant in UTC, as the signature records it.
    pub signed_at_utc: String,
    /// Why.
    pub reason: String,
    /// SHA-256 of the draft package this approval is appended to (the built PDF).
    pub draft_sha256: String,
    /// The approvals before this one, one line each.
    pub earlier: Vec<String>,
}

/// An approval revision written with its signature value left as zeros.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreparedApproval {
    /// The whole file: the previous revision, then the approval revision.
    pub bytes: Vec<u8>,
    /// The `/Contents` hex string, `<` and `>` included: the only bytes the signature does
    /// not cover.
    pub contents: Range<usize>,
}

/// Appends an approval revision for `page` to `prev`, carrying `public_key` (the signer's
/// `countersign.public-key/v1` document) in its signature dictionary.
pub fn prepare_approval(
    prev: &[u8],
    page: &ApprovalPage,
    public_key: &[u8],
) -> Result<PreparedApproval, PdfError> {
    let prev_doc = Document::load_mem(prev)
        .map_err(|e| PdfError::Structure(format!("the package PDF cannot be read: {e}")))?;
    let pages_root = prev_doc
        .catalog()
        .and_then(|c| c.get(b"Pages"))
        .and_then(Object::as_reference)
        .map_err(|e| PdfError::Structure(format!("the package PDF has no page tree: {e}")))?;
    let version = prev_doc.version.clone();

    let mut grafted = render_page(page)?;
    grafted.renumber_objects_with(prev_doc.max_id + 1);
    let page_id = *grafted
        .get_pages()
        .values()
        .next()
        .ok_or_else(|| PdfError::Structure("the approval page was not rendered".into()))?;
    let mut objects = reachable(&grafted, page_id);
    reuse_font_files(&prev_doc, &mut grafted, &mut objects);

    let mut inc = IncrementalDocument::create_from(prev.to_vec(), prev_doc);
    inc.new_document.version = version;
    inc.opt_clone_object_to_new_document(pages_root)
        .map_err(|e| PdfError::Structure(format!("the page tree cannot be read: {e}")))?;
    let mut max_id = inc.new_document.max_id.max(grafted.max_id);
    for id in objects {
        if let Ok(o) = grafted.get_object(id) {
            inc.new_document.objects.insert(id, o.clone());
        }
    }
    max_id += 1;
    let sig_id: ObjectId = (max_id, 0);
    inc.new_document.objects.insert(
        sig_id,
        Object::Dictionary(dictionary! {
            "Type" => "Sig",
            "Filter" => APPROVAL_FILTER,
            "SubFilter" => APPROVAL_SUBFILTER,
            "Countersign.Prev" => i64::try_from(prev.len())
                .map_err(|_| PdfError::Structure("the package PDF is too large".into()))?,
            "Countersign.PublicKey" => Object::String(public_key.to_vec(), StringFormat::Hexadecimal),
            "ByteRange" => vec![Object::Integer(0), Object::Integer(RANGE_PLACEHOLDER), Object::Integer(RANGE_PLACEHOLDER), Object::Integer(RANGE_PLACEHOLDER)],
            "Contents" => Object::String(vec![0; MAX_APPROVAL_ENVELOPE_BYTES], StringFormat::Hexadecimal),
        }),
    );
    inc.new_document.max_id = max_id;
    match inc.new_document.get_object_mut(page_id) {
        Ok(Object::Dictionary(d)) => {
            d.set("Parent", pages_root);
            d.set("Countersign.Approval", sig_id);
        }
        _ => {
            return Err(PdfError::Structure(
                "the approval page was not rendered as a page".into(),
            ))
        }
    }
    let Ok(Object::Dictionary(root)) = inc.new_document.get_object_mut(pages_root) else {
        return Err(PdfError::Structure(
            "the package PDF's page tree root is not a dictionary".into(),
        ));
    };
    let count = root
        .get(b"Count")
        .and_then(Object::as_i64)
        .map_err(|_| PdfError::Structure("the package PDF's page tree has no /Count".into()))?;
    root.set("Count", count + 1);
    match root.get_mut(b"Kids").and_then(Object::as_array_mut) {
        Ok(kids) => kids.push(Object::Reference(page_id)),
        Err(_) => {
            return Err(PdfError::Structure(
                "the package PDF's page tree has no /Kids".into(),
            ))
        }
    }
    inc.new_document.trailer.set("Size", i64::from(max_id) + 1);

    let mut out = Vec::with_capacity(prev.len() + 64 * 1024);
    inc.save_to(&mut out)
        .map_err(|e| PdfError::Structure(format!("the approval could not be written: {e}")))?;
    locate_and_fill_range(out, prev.len())
}

/// Finds the placeholders in the new revision and writes the byte range into them.
fn locate_and_fill_range(mut out: Vec<u8>, prev_len: usize) -> Result<PreparedApproval, PdfError> {
    let missing = || {
        PdfError::Structure(
            "the approval's signature dictionary was not written as expected".into(),
        )
    };
    let placeholder = format!("[0 {RANGE_PLACEHOLDER} {RANGE_PLACEHOLDER} {RANGE_PLACEHOLDER}]");
    let range_at = prev_len + find(&out[prev_len..], placeholder.as_bytes()).ok_or_else(missing)?;
    let mut gap = b"/Contents<".to_vec();
    gap.extend(std::iter::repeat_n(b'0', 2 * MAX_APPROVAL_ENVELOPE_BYTES));
    gap.push(b'>');
    let contents_at = prev_len + find(&out[prev_len..], &gap).ok_or_else(missing)?;
    let start = contents_at + "/Contents".len();
    let end = contents_at + gap.len();
    let after = out.len() - end;
    let written = format!("[0 {start} {end} {after}]");
    if written.len() > placeholder.len() {
        return Err(PdfError::Structure(
            "the package PDF is too large to approve".into(),
        ));
    }
    // The padding goes inside the brackets, so the array closes where the placeholder did.
    let inner = format!(
        "{:<width$}]",
        &written[..written.len() - 1],
        width = placeholder.len() - 1
    );
    out[range_at..range_at + placeholder.len()].copy_from_slice(inner.as_bytes());
    Ok(PreparedApproval {
        bytes: out,
        contents: start..end,
    })
}

/// Writes `envelope` (hex) into the prepared revision's `/Contents`, leaving the rest zeros.
pub fn seal_approval(prepared: PreparedApproval, envelope: &[u8]) -> Result<Vec<u8>, PdfError> {
    if envelope.len() > MAX_APPROVAL_ENVELOPE_BYTES {
        return Err(PdfError::Structure(format!(
            "the signature is {} bytes; an approval holds at most {MAX_APPROVAL_ENVELOPE_BYTES}",
            envelope.len()
        )));
    }
    let mut bytes = prepared.bytes;
    let hex = hex::encode(envelope);
    let at = prepared.contents.start + 1;
    bytes[at..at + hex.len()].copy_from_slice(hex.as_bytes());
    Ok(bytes)
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// The approval page's embedded font files, where the package already embeds the same font
/// file, point at the package's copy instead: the page brings its own font dictionaries
/// (widths and text mapping for the glyphs it shows) but not a second copy of each face.
fn reuse_font_files(prev: &Document, grafted: &mut Document, objects: &mut BTreeSet<ObjectId>) {
    let font_file = |o: &Object| match o {
        Object::Stream(s) if s.dict.has(b"Length1") => s.decompressed_content().ok(),
        _ => None,
    };
    let existing: Vec<(ObjectId, Vec<u8>)> = prev
        .objects
        .iter()
        .filter_map(|(id, o)| font_file(o).map(|c| (*id, c)))
        .collect();
    let mut moved = Vec::new();
    for id in objects.iter() {
        let Some(content) = grafted.get_object(*id).ok().and_then(font_file) else {
            continue;
        };
        if let Some((old, _)) = existing.iter().find(|(_, c)| *c == content) {
            moved.push((*id, *old));
        }
    }
    for (new, old) in moved {
        objects.remove(&new);
        for id in objects.iter() {
            if let Ok(o) = grafted.get_object_mut(*id) {
                replace_reference(o, new, old);
            }
        }
    }
}

fn replace_reference(o: &mut Object, from: ObjectId, to: ObjectId) {
    match o {
        Object::Reference(id) if *id == from => *id = to,
        Object::Array(items) => items
            .iter_mut()
            .for_each(|i| replace_reference(i, from, to)),
        Object::Dictionary(d) => d
            .iter_mut()
            .for_each(|(_, v)| replace_reference(v, from, to)),
        Object::Stream(s) => s
            .dict
            .iter_mut()
            .for_each(|(_, v)| replace_reference(v, from, to)),
        _ => {}
    }
}

/// Every object reachable from `from` without following `/Parent`.
fn reachable(doc: &Document, from: ObjectId) -> BTreeSet<ObjectId> {
    let mut seen = BTreeSet::new();
    let mut queue = VecDeque::from([from]);
    while let Some(id) = queue.pop_front() {
        if !seen.insert(id) {
            continue;
        }
        if let Ok(o) = doc.get_object(id) {
            references(o, &mut queue);
        }
    }
    seen
}

fn references(o: &Object, out: &mut VecDeque<ObjectId>) {
    match o {
        Object::Reference(id) => out.push_back(*id),
        Object::Array(items) => items.iter().for_each(|i| references(i, out)),
        Object::Dictionary(d) => d
            .iter()
            .filter(|(k, _)| k.as_slice() != b"Parent")
            .for_each(|(_, v)| references(v, out)),
        Object::Stream(s) => s
            .dict
            .iter()
            .filter(|(k, _)| k.as_slice() != b"Parent")
            .for_each(|(_, v)| references(v, out)),
        _ => {}
    }
}

/// The approval page as a one-page document of its own, its streams deflated.
fn render_page(page: &ApprovalPage) -> Result<Document, PdfError> {
    let mut pdf = PdfDocument::new("Package approval");
    let fonts = Fonts::load(&mut pdf)?;
    let mut c = Composer::new(&fonts);
    c.new_page();
    c.heading(&format!("Package approval {}", page.number));
    c.paragraph(
        &format!(
            "Signed electronically under 21 CFR Part 11. This signature covers every byte of this file up to the end of this page, this page included; only the signature value itself lies outside. The package it approves is the draft with SHA-256 {}.",
            page.draft_sha256
        ),
        Face::Regular,
        10.0,
    );
    c.y -= 10.0;
    c.key_values(
        &[
            ("Meaning", page.meaning.as_str()),
            ("Printed name", page.printed_name.as_str()),
            ("Date and time", page.signed_at_local.as_str()),
            ("In UTC", page.signed_at_utc.as_str()),
            ("Reason", page.reason.as_str()),
            ("Identity", page.iam_arn.as_str()),
            ("Key id", page.key_id.as_str()),
            ("Package", page.package_id.as_str()),
        ],
        10.0,
    );
    if !page.earlier.is_empty() {
        c.y -= 10.0;
        c.paragraph("Approvals before this one", Face::Bold, 11.0);
        for line in &page.earlier {
            c.paragraph(line, Face::Regular, 9.5);
        }
    }
    c.y -= 10.0;
    c.paragraph(
        "To check it: countersign verify FILE.pdf, or any verifier written from the package format (docs/package-format.md §15). A file cut back to an earlier approval verifies as that earlier approval.",
        Face::Regular,
        9.0,
    );
    let mut ops = std::mem::take(&mut c.pages)
        .into_iter()
        .next()
        .unwrap_or_default();
    let id = fonts.printable(Face::Regular, &page.package_id);
    ops.extend(text_ops(
        &fonts,
        MARGIN_X,
        PAGE_H - 40.0,
        Face::Regular,
        8.0,
        &id,
        rgb(90, 90, 90),
    ));
    let footer = format!("Approval page {}", page.number);
    let w = fonts.width(Face::Regular, &footer, 8.0);
    ops.extend(text_ops(
        &fonts,
        (PAGE_W - w) / 2.0,
        32.0,
        Face::Regular,
        8.0,
        &footer,
        rgb(90, 90, 90),
    ));
    pdf.with_pages(vec![PdfPage::new(Mm(210.0), Mm(297.0), ops)]);
    let mut warnings = Vec::new();
    let mut lo = pdf.to_lopdf_document(&PdfSaveOptions::default(), &mut warnings);
    lo.compress();
    Ok(lo)
}
