//! What printpdf cannot write, added with lopdf after layout: embedded files (EmbeddedFiles name
//! tree, Filespec with /AFRelationship, /AF on the catalog), the XMP packet with the PDF/A-3b
//! identification, the sRGB output intent, a document information dictionary consistent with the
//! XMP, and a trailer /ID derived from the manifest digest instead of a random one.

use lopdf::{dictionary, Dictionary, Document, Object, Stream, StringFormat};
use time::OffsetDateTime;

use crate::model::DocumentKind;
use crate::model::{Attachment, PackageDocument};
use crate::read::{KEYWORDS_PREFIX, REVIEW_SUBJECT_PREFIX, SUBJECT_PREFIX};
use crate::PdfError;

static SRGB_ICC: &[u8] = include_bytes!("../icc/sRGB.icc");

/// Producer recorded in the document information and the XMP packet.
const PRODUCER: &str = "Countersign";

/// Adds attachments and metadata to `lo` and serialises it.
pub(crate) fn finish(
    mut lo: Document,
    doc: &PackageDocument,
    created: OffsetDateTime,
    digest: &[u8; 32],
    attachments: &[Attachment],
) -> Result<Vec<u8>, PdfError> {
    lo.version = "1.7".to_string();
    let pdf_date = pdf_date(created);

    // Document information, matching the XMP below.
    let info_id = lo.add_object(dictionary! {
        "Title" => text_string(&doc.title),
        "Subject" => text_string(&subject(doc)),
        "Keywords" => text_string(&format!("{KEYWORDS_PREFIX}{}", hex::encode(digest))),
        "Producer" => text_string(PRODUCER),
        "Creator" => text_string(PRODUCER),
        "CreationDate" => Object::string_literal(pdf_date.clone()),
        "ModDate" => Object::string_literal(pdf_date.clone()),
    });
    lo.trailer.set("Info", info_id);
    lo.trailer.set(
        "ID",
        Object::Array(vec![
            Object::String(digest[..16].to_vec(), StringFormat::Hexadecimal),
            Object::String(digest[..16].to_vec(), StringFormat::Hexadecimal),
        ]),
    );

    let xmp = xmp_packet(doc, created, digest);
    let metadata_id = lo.add_object(
        Stream::new(
            dictionary! { "Type" => "Metadata", "Subtype" => "XML" },
            xmp.into_bytes(),
        )
        .with_compression(false),
    );

    let icc_id = lo.add_object(Stream::new(dictionary! { "N" => 3 }, SRGB_ICC.to_vec()));
    let intent = dictionary! {
        "Type" => "OutputIntent",
        "S" => "GTS_PDFA1",
        "OutputConditionIdentifier" => Object::string_literal("sRGB IEC61966-2.1"),
        "Info" => Object::string_literal("sRGB IEC61966-2.1"),
        "DestOutputProfile" => icc_id,
    };

    let mut sorted: Vec<&Attachment> = attachments.iter().collect();
    sorted.sort_by(|a, b| a.name.as_bytes().cmp(b.name.as_bytes()));
    let mut names = Vec::new();
    let mut af = Vec::new();
    for a in sorted {
        let size = i64::try_from(a.bytes.len())
            .map_err(|_| PdfError::Structure(format!("attachment {:?} is too large", a.name)))?;
        let ef_id = lo.add_object(Stream::new(
            dictionary! {
                "Type" => "EmbeddedFile",
                "Subtype" => Object::Name(a.mime.as_bytes().to_vec()),
                "Params" => dictionary! {
                    "Size" => size,
                    "ModDate" => Object::string_literal(pdf_date.clone()),
                },
            },
            a.bytes.clone(),
        ));
        let fs_id = lo.add_object(dictionary! {
            "Type" => "Filespec",
            "F" => Object::string_literal(ascii_name(&a.name)),
            "UF" => text_string(&a.name),
            "Desc" => text_string(&a.description),
            "AFRelationship" => Object::Name(a.relationship.pdf_name().as_bytes().to_vec()),
            "EF" => dictionary! { "F" => ef_id, "UF" => ef_id },
        });
        names.push(text_string(&a.name));
        names.push(Object::Reference(fs_id));
        af.push(Object::Reference(fs_id));
    }

    let catalog = lo
        .catalog_mut()
        .map_err(|e| PdfError::Structure(e.to_string()))?;
    catalog.set("Metadata", metadata_id);
    catalog.set(
        "OutputIntents",
        Object::Array(vec![Object::Dictionary(intent)]),
    );
    if !names.is_empty() {
        let mut name_tree = Dictionary::new();
        name_tree.set("EmbeddedFiles", dictionary! { "Names" => names });
        catalog.set("Names", name_tree);
        catalog.set("AF", af);
    }

    compress_streams(&mut lo);
    let mut out = Vec::new();
    lo.save_to(&mut out)
        .map_err(|e| PdfError::Structure(e.to_string()))?;
    Ok(out)
}

/// Deflates every stream that allows it and has no filter yet, as lopdf's `compress` does, but
/// at zlib's default level and on every core. At lopdf's level (the best), deflating the page
/// content and attachment streams one after another was about a third of a package's build time
/// (docs/benchmarks.md). A stream whose deflated form is not smaller stays as it is; which
/// thread deflates a stream does not change its bytes.
fn compress_streams(lo: &mut lopdf::Document) {
    let streams: Vec<&mut Stream> = lo
        .objects
        .values_mut()
        .filter_map(|o| match o {
            Object::Stream(s) if s.allows_compression && s.dict.get(b"Filter").is_err() => Some(s),
            _ => None,
        })
        .collect();
    let workers = std::thread::available_parallelism()
        .map_or(1, std::num::NonZeroUsize::get)
        .clamp(1, 8);
    let queue = std::sync::Mutex::new(streams.into_iter());
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| loop {
                let next = match queue.lock() {
                    Ok(mut q) => q.next(),
                    Err(_) => None,
                };
                match next {
                    Some(stream) => deflate(stream),
                    None => break,
                }
            });
        }
    });
}

/// One stream deflated in place when that makes it smaller (lopdf's rule: by more than 19 bytes).
fn deflate(stream: &mut Stream) {
    use std::io::Write as _;
    let mut encoder = flate2::write::ZlibEncoder::new(
        Vec::with_capacity(stream.content.len() / 2),
        flate2::Compression::default(),
    );
    if encoder.write_all(&stream.content).is_err() {
        return;
    }
    let Ok(compressed) = encoder.finish() else {
        return;
    };
    if compressed.len() + 19 < stream.content.len() {
        stream.dict.set("Filter", "FlateDecode");
        stream.set_content(compressed);
    }
}

/// A PDF text string: PDFDocEncoding-safe ASCII as is, anything else as UTF-16BE with a BOM.
fn text_string(s: &str) -> Object {
    if s.chars().all(|c| c.is_ascii() && !c.is_ascii_control()) {
        Object::string_literal(s)
    } else {
        let mut bytes = vec![0xFE, 0xFF];
        for unit in s.encode_utf16() {
            bytes.extend_from_slice(&unit.to_be_bytes());
        }
        Object::String(bytes, StringFormat::Hexadecimal)
    }
}

/// The legacy `/F` file name: ASCII only, anything else as `_`.
fn ascii_name(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_graphic() || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// `D:YYYYMMDDHHmmSS+HH'mm'`.
fn pdf_date(t: OffsetDateTime) -> String {
    let (oh, om, _) = t.offset().as_hms();
    let sign = if oh < 0 || om < 0 { '-' } else { '+' };
    format!(
        "D:{:04}{:02}{:02}{:02}{:02}{:02}{sign}{:02}'{:02}'",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        oh.unsigned_abs(),
        om.unsigned_abs()
    )
}

/// XMP date: RFC 3339 to the second with the original offset.
fn xmp_date(t: OffsetDateTime) -> String {
    let (oh, om, _) = t.offset().as_hms();
    let sign = if oh < 0 || om < 0 { '-' } else { '+' };
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}{sign}{:02}:{:02}",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        oh.unsigned_abs(),
        om.unsigned_abs()
    )
}

fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// The XMP packet: Dublin Core title, dates, producer, and `pdfaid:part=3`, `conformance=B`.
fn xmp_packet(doc: &PackageDocument, created: OffsetDateTime, digest: &[u8; 32]) -> String {
    let date = xmp_date(created);
    let keywords = format!("{KEYWORDS_PREFIX}{}", hex::encode(digest));
    let title = xml_escape(&doc.title);
    let subject = xml_escape(&subject(doc));
    format!(
        r#"<?xpacket begin="{bom}" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/">
 <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
  <rdf:Description rdf:about=""
    xmlns:dc="http://purl.org/dc/elements/1.1/"
    xmlns:xmp="http://ns.adobe.com/xap/1.0/"
    xmlns:pdf="http://ns.adobe.com/pdf/1.3/"
    xmlns:pdfaid="http://www.aiim.org/pdfa/ns/id/">
   <dc:format>application/pdf</dc:format>
   <dc:title><rdf:Alt><rdf:li xml:lang="x-default">{title}</rdf:li></rdf:Alt></dc:title>
   <dc:description><rdf:Alt><rdf:li xml:lang="x-default">{subject}</rdf:li></rdf:Alt></dc:description>
   <xmp:CreateDate>{date}</xmp:CreateDate>
   <xmp:ModifyDate>{date}</xmp:ModifyDate>
   <xmp:MetadataDate>{date}</xmp:MetadataDate>
   <xmp:CreatorTool>{PRODUCER}</xmp:CreatorTool>
   <pdf:Producer>{PRODUCER}</pdf:Producer>
   <pdf:Keywords>{keywords}</pdf:Keywords>
   <pdfaid:part>3</pdfaid:part>
   <pdfaid:conformance>B</pdfaid:conformance>
  </rdf:Description>
 </rdf:RDF>
</x:xmpmeta>
<?xpacket end="w"?>"#,
        bom = "\u{feff}"
    )
}

/// The document information's `/Subject`: what the document is, and its id.
fn subject(doc: &PackageDocument) -> String {
    let prefix = match doc.kind {
        DocumentKind::ValidationPackage => SUBJECT_PREFIX,
        DocumentKind::PeriodicReviewReport => REVIEW_SUBJECT_PREFIX,
    };
    format!("{prefix}{}", doc.package_id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_keep_their_offset() {
        let t = OffsetDateTime::parse(
            "2026-03-01T09:30:05-04:30",
            &time::format_description::well_known::Rfc3339,
        )
        .unwrap();
        assert_eq!(pdf_date(t), "D:20260301093005-04'30'");
        assert_eq!(xmp_date(t), "2026-03-01T09:30:05-04:30");
    }

    #[test]
    fn non_ascii_text_strings_are_utf16_with_bom() {
        assert_eq!(text_string("a"), Object::string_literal("a"));
        assert_eq!(
            text_string("ü"),
            Object::String(vec![0xFE, 0xFF, 0x00, 0xFC], StringFormat::Hexadecimal)
        );
        assert_eq!(ascii_name("Grüße.json"), "Gr__e.json");
    }

    #[test]
    fn xmp_escapes_markup_in_the_title() {
        assert_eq!(xml_escape("a<b & \"c\">"), "a&lt;b &amp; &quot;c&quot;&gt;");
    }
}
