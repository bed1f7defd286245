//! Reads a package PDF back: its embedded files (by their Unicode names, exact bytes) and what
//! the document says about itself (package id, manifest digest, trailer `/ID`). Used by
//! verification; it trusts nothing it reads.

use std::collections::BTreeMap;

use lopdf::{Document, Object};

/// Largest embedded file read, after decompression.
pub const MAX_ATTACHMENT_BYTES: usize = 512 * 1024 * 1024;
/// Deepest name tree followed.
const MAX_TREE_DEPTH: usize = 16;

/// What a PDF holds for verification.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ReadPackage {
    /// Embedded files by name.
    pub attachments: BTreeMap<String, Vec<u8>>,
    /// The package id from the document information `/Subject`.
    pub package_id: Option<String>,
    /// The report id, when `/Subject` names a Periodic Review Report.
    pub review_report_id: Option<String>,
    /// The manifest SHA-256 from the document information `/Keywords`.
    pub manifest_sha256: Option<String>,
    /// The first element of the trailer `/ID`, lowercase hex.
    pub trailer_id: Option<String>,
}

/// Why a PDF could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReadError {
    /// Not a PDF lopdf can parse.
    #[error("not a readable PDF: {0}")]
    Parse(String),
    /// The embedded files are not where a package keeps them, or are damaged.
    #[error("the PDF's embedded files cannot be read: {0}")]
    Attachments(String),
}

/// The prefix of `/Subject` before the package id.
pub(crate) const SUBJECT_PREFIX: &str = "Validation package ";
/// The prefix of `/Subject` before the id of a Periodic Review Report.
pub(crate) const REVIEW_SUBJECT_PREFIX: &str = "Periodic review report ";
/// The prefix of `/Keywords` before the manifest digest.
pub(crate) const KEYWORDS_PREFIX: &str = "manifest-sha256:";

/// Reads the embedded files and self-description of a package PDF.
pub fn read_package(bytes: &[u8]) -> Result<ReadPackage, ReadError> {
    let doc = Document::load_mem(bytes).map_err(|e| ReadError::Parse(e.to_string()))?;
    let mut out = ReadPackage::default();
    if let Ok(info) = doc
        .trailer
        .get(b"Info")
        .and_then(|o| doc.dereference(o))
        .and_then(|(_, o)| o.as_dict())
    {
        let subject = info.get(b"Subject").ok().and_then(text);
        out.package_id = subject
            .as_deref()
            .and_then(|s| s.strip_prefix(SUBJECT_PREFIX).map(str::to_owned));
        out.review_report_id = subject
            .as_deref()
            .and_then(|s| s.strip_prefix(REVIEW_SUBJECT_PREFIX).map(str::to_owned));
        out.manifest_sha256 = info
            .get(b"Keywords")
            .ok()
            .and_then(text)
            .and_then(|s| s.strip_prefix(KEYWORDS_PREFIX).map(str::to_owned));
    }
    out.trailer_id = doc
        .trailer
        .get(b"ID")
        .and_then(Object::as_array)
        .ok()
        .and_then(|a| a.first())
        .and_then(|o| o.as_str().ok())
        .map(hex::encode);

    let Ok(catalog) = doc.catalog() else {
        return Err(ReadError::Parse("the PDF has no catalog".into()));
    };
    let Some(tree) = catalog
        .get(b"Names")
        .ok()
        .and_then(|o| doc.dereference(o).ok())
        .and_then(|(_, o)| o.as_dict().ok())
        .and_then(|names| names.get(b"EmbeddedFiles").ok())
    else {
        return Ok(out);
    };
    collect(&doc, tree, 0, &mut out.attachments)?;
    Ok(out)
}

fn collect(
    doc: &Document,
    node: &Object,
    depth: usize,
    out: &mut BTreeMap<String, Vec<u8>>,
) -> Result<(), ReadError> {
    let bad = |m: &str| ReadError::Attachments(m.to_owned());
    if depth > MAX_TREE_DEPTH {
        return Err(bad("the EmbeddedFiles name tree is nested too deeply"));
    }
    let (_, node) = doc
        .dereference(node)
        .map_err(|e| bad(&format!("a name tree node is missing: {e}")))?;
    let node = node
        .as_dict()
        .map_err(|_| bad("a name tree node is not a dictionary"))?;
    if let Ok(kids) = node.get(b"Kids").and_then(Object::as_array) {
        for kid in kids {
            collect(doc, kid, depth + 1, out)?;
        }
    }
    let Ok(names) = node.get(b"Names").and_then(Object::as_array) else {
        return Ok(());
    };
    for pair in names.chunks(2) {
        let [name, spec] = pair else {
            return Err(bad("the EmbeddedFiles name array has an odd length"));
        };
        let (_, name) = doc.dereference(name).map_err(|e| bad(&e.to_string()))?;
        let name = text(name).ok_or_else(|| bad("an embedded file name is not a string"))?;
        let (_, spec) = doc.dereference(spec).map_err(|e| bad(&e.to_string()))?;
        let spec = spec.as_dict().map_err(|_| {
            bad(&format!(
                "{name}: the file specification is not a dictionary"
            ))
        })?;
        let ef = spec
            .get(b"EF")
            .and_then(|o| doc.dereference(o).map(|(_, o)| o))
            .and_then(Object::as_dict)
            .map_err(|_| bad(&format!("{name}: no /EF entry")))?;
        let stream_ref = ef
            .get(b"UF")
            .or_else(|_| ef.get(b"F"))
            .map_err(|_| bad(&format!("{name}: no embedded file stream")))?;
        let (_, stream) = doc
            .dereference(stream_ref)
            .map_err(|e| bad(&e.to_string()))?;
        let stream = stream
            .as_stream()
            .map_err(|_| bad(&format!("{name}: the embedded file is not a stream")))?;
        let bytes = stream
            .get_plain_content_with_limit(MAX_ATTACHMENT_BYTES)
            .map_err(|e| bad(&format!("{name}: {e}")))?;
        if out.insert(name.clone(), bytes).is_some() {
            return Err(bad(&format!("{name}: embedded twice")));
        }
    }
    Ok(())
}

/// A PDF text string: UTF-16BE with a byte-order mark, else PDFDocEncoding (read as Latin-1).
fn text(o: &Object) -> Option<String> {
    let bytes = o.as_str().ok()?;
    if let Some(rest) = bytes.strip_prefix(&[0xFE, 0xFF]) {
        let units: Vec<u16> = rest
            .chunks_exact(2)
            .map(|c| u16::from_be_bytes([c[0], c[1]]))
            .collect();
        String::from_utf16(&units).ok()
    } else {
        Some(bytes.iter().map(|&b| char::from(b)).collect())
    }
}
