//! Changing a package PDF the way someone with a PDF editor would: the attachments, the
//! document information and the trailer /ID stay as they were, only what a reader sees changes.

use crate::error::{HarnessError, Result};

fn fail(what: &str, e: &dyn std::fmt::Display) -> HarnessError {
    HarnessError::new(format!("{what}: {e}"))
}

/// The object id of the first content stream of the first page.
fn cover_stream(doc: &lopdf::Document) -> Result<lopdf::ObjectId> {
    let cover = *doc
        .get_pages()
        .get(&1)
        .ok_or_else(|| HarnessError::new("the PDF has no pages".to_owned()))?;
    doc.get_page_contents(cover)
        .first()
        .copied()
        .ok_or_else(|| HarnessError::new("the cover has no content stream".to_owned()))
}

/// `pdf` with a line drawn across its first page (the cover): a visible edit of a page's
/// content stream, saved as a new file.
pub fn draw_on_cover(pdf: &[u8]) -> Result<Vec<u8>> {
    let mut doc = lopdf::Document::load_mem(pdf).map_err(|e| fail("read the PDF", &e))?;
    let id = cover_stream(&doc)?;
    let stream = doc
        .get_object_mut(id)
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

/// `pdf` with one bit flipped in the middle of the cover's content stream as stored in the
/// file (compressed), every other byte as it was.
pub fn flip_bit_in_cover(pdf: &[u8]) -> Result<Vec<u8>> {
    let doc = lopdf::Document::load_mem(pdf).map_err(|e| fail("read the PDF", &e))?;
    let stored = &doc
        .get_object(cover_stream(&doc)?)
        .and_then(|o| o.as_stream())
        .map_err(|e| fail("find the cover's content", &e))?
        .content;
    let at = pdf
        .windows(stored.len())
        .position(|w| w == stored.as_slice())
        .ok_or_else(|| {
            HarnessError::new("the cover's stream is not in the file as stored".to_owned())
        })?;
    let mut out = pdf.to_vec();
    out[at + stored.len() / 2] ^= 0x01;
    Ok(out)
}
