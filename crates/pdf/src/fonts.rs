//! The bundled DejaVu Sans faces, their glyph advances, and the substitution of characters the
//! faces do not cover.

use printpdf::{FontId, ParsedFont, PdfDocument};

use crate::PdfError;

static REGULAR_TTF: &[u8] = include_bytes!("../fonts/DejaVuSans.ttf");
static BOLD_TTF: &[u8] = include_bytes!("../fonts/DejaVuSans-Bold.ttf");

/// Shown in place of a character the font has no glyph for (U+FFFD, or `?` if even that is missing).
const PLACEHOLDER: char = '\u{FFFD}';

/// Regular or bold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Face {
    Regular,
    Bold,
}

/// One loaded face: its id in the document and its metrics.
struct Loaded {
    id: FontId,
    font: ParsedFont,
    placeholder: char,
}

/// Both faces, registered in a document.
pub(crate) struct Fonts {
    regular: Loaded,
    bold: Loaded,
}

impl std::fmt::Debug for Fonts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fonts").finish_non_exhaustive()
    }
}

impl Fonts {
    /// Parses the bundled faces and registers them in `doc`.
    pub(crate) fn load(doc: &mut PdfDocument) -> Result<Fonts, PdfError> {
        Ok(Fonts {
            regular: load_face(doc, REGULAR_TTF, "DejaVuSans")?,
            bold: load_face(doc, BOLD_TTF, "DejaVuSans-Bold")?,
        })
    }

    fn face(&self, face: Face) -> &Loaded {
        match face {
            Face::Regular => &self.regular,
            Face::Bold => &self.bold,
        }
    }

    /// The document's id for `face`.
    pub(crate) fn id(&self, face: Face) -> FontId {
        self.face(face).id.clone()
    }

    /// Replaces characters `face` cannot draw: control characters become spaces, characters
    /// without a glyph become the placeholder.
    pub(crate) fn printable(&self, face: Face, text: &str) -> String {
        let loaded = self.face(face);
        text.chars()
            .map(|c| {
                if c == '\n' {
                    c
                } else if c.is_control() {
                    ' '
                } else if loaded.font.lookup_glyph_index(u32::from(c)).is_some() {
                    c
                } else {
                    loaded.placeholder
                }
            })
            .collect()
    }

    /// Advance width of one (printable) character in points at `size`.
    pub(crate) fn char_width(&self, face: Face, c: char, size: f32) -> f32 {
        let loaded = self.face(face);
        let upm = f32::from(loaded.font.units_per_em.max(1));
        let advance = loaded
            .font
            .lookup_glyph_index(u32::from(c))
            .and_then(|gid| loaded.font.get_glyph_width(gid))
            .unwrap_or(loaded.font.units_per_em / 2);
        f32::from(advance) * size / upm
    }

    /// Width of a (printable) string in points at `size`.
    pub(crate) fn width(&self, face: Face, text: &str, size: f32) -> f32 {
        text.chars().map(|c| self.char_width(face, c, size)).sum()
    }
}

fn load_face(doc: &mut PdfDocument, bytes: &[u8], name: &'static str) -> Result<Loaded, PdfError> {
    let mut warnings = Vec::new();
    let mut font =
        ParsedFont::from_bytes(bytes, 0, &mut warnings).ok_or(PdfError::Font { font: name })?;
    // The PostScript name written as /BaseFont; without it printpdf writes its random font id.
    font.font_name = Some(name.to_string());
    let placeholder = if font.lookup_glyph_index(u32::from(PLACEHOLDER)).is_some() {
        PLACEHOLDER
    } else {
        '?'
    };
    // printpdf names the font resource with a random id; rename it after the face so that the
    // same document renders to the same bytes.
    let random = doc.add_font(&font);
    let id = FontId(name.to_string());
    if let Some(pdf_font) = doc.resources.fonts.map.remove(&random) {
        doc.resources.fonts.map.insert(id.clone(), pdf_font);
    }
    Ok(Loaded {
        id,
        font,
        placeholder,
    })
}
