//! Changing a package PDF the way someone with a PDF editor would: the attachments, the
//! document information and the trailer /ID stay as they were, only what a reader sees changes.

use crate::error::{HarnessError, Result};

/// `pdf` with a line drawn across its first page (the cover): a visible edit of a page's
/// content stream, saved as a new file.
pub fn draw_on_cover(pdf: &[u8]) -> Result<Vec<u8>> {
    let fail = |what: &str, e: &dyn std::fmt::Display| HarnessError::new(format!("{what}: {e}"));
    let mut doc = lopdf::Document::load_mem(pdf).map_err(|e| fail("read the PDF", &e))?;
    let cover = *doc
        .get_pages()
        .get(&1)
        .ok_or_else(|| HarnessError::new("the PDF has no pages".to_owned()))?;
    let contents = doc.get_page_contents(cover);
    let first = *contents
        .first()
        .ok_or_else(|| HarnessError::new("the cover has no content stream".to_owned()))?;
    let stream = doc
        .get_object_mut(first)
        .and_then(|o| o.as_stream_mut())
        .map_err(|e| fail("find the cover's content", &e))?;
    let mut content = stream
        .decompressed_content()
        .map_err(|e| fail("decompress the cover", &e))?;
    content.extend_from_slice(b"\nq 0 0 0 RG 72 72 m 500 500 l S Q\n");
    stream.set_plain_content(content);
    let mut out = Vec::new();
    doc.save_to(&mut out)
        .map_err(|e| fail("write the PDF", &e))?;
    Ok(out)
}
