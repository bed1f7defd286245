//! Page composition: a cursor running down A4 pages, placing text lines, rules and filled
//! rectangles as printpdf operations, starting a new page whenever the next item would not fit.

use printpdf::{
    Color, Line, LinePoint, Op, PaintMode, PdfFontHandle, Point, Pt, Rect, Rgb, TextItem,
};

use crate::fonts::{Face, Fonts};
use crate::wrap::wrap;

/// A4 width in points.
pub(crate) const PAGE_W: f32 = 595.276;
/// A4 height in points.
pub(crate) const PAGE_H: f32 = 841.89;
/// Left and right margin.
pub(crate) const MARGIN_X: f32 = 56.0;
/// Top of the body (below the header).
pub(crate) const BODY_TOP: f32 = PAGE_H - 64.0;
/// Bottom of the body (above the footer).
pub(crate) const BODY_BOTTOM: f32 = 56.0;
/// Usable text width.
pub(crate) const BODY_W: f32 = PAGE_W - 2.0 * MARGIN_X;

/// An RGB colour from 0–255 components.
pub(crate) fn rgb(r: u8, g: u8, b: u8) -> Color {
    Color::Rgb(Rgb {
        r: f32::from(r) / 255.0,
        g: f32::from(g) / 255.0,
        b: f32::from(b) / 255.0,
        icc_profile: None,
    })
}

/// Black text.
pub(crate) fn black() -> Color {
    rgb(0, 0, 0)
}

/// Pages under construction.
pub(crate) struct Composer<'a> {
    pub(crate) fonts: &'a Fonts,
    pub(crate) pages: Vec<Vec<Op>>,
    /// Current vertical position (top of the next item), in points from the page bottom.
    pub(crate) y: f32,
}

impl std::fmt::Debug for Composer<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Composer")
            .field("pages", &self.pages.len())
            .field("y", &self.y)
            .finish()
    }
}

impl<'a> Composer<'a> {
    pub(crate) fn new(fonts: &'a Fonts) -> Composer<'a> {
        Composer {
            fonts,
            pages: Vec::new(),
            y: BODY_TOP,
        }
    }

    /// Starts a new page; the cursor goes to the top of its body.
    pub(crate) fn new_page(&mut self) {
        self.pages.push(Vec::new());
        self.y = BODY_TOP;
    }

    /// 0-based index of the current page.
    pub(crate) fn page_index(&self) -> usize {
        self.pages.len().saturating_sub(1)
    }

    /// Space left on the current page.
    pub(crate) fn room(&self) -> f32 {
        self.y - BODY_BOTTOM
    }

    /// Starts a new page unless `height` still fits on this one.
    pub(crate) fn ensure(&mut self, height: f32) {
        if self.pages.is_empty() || self.room() < height {
            self.new_page();
        }
    }

    fn ops(&mut self) -> &mut Vec<Op> {
        if self.pages.is_empty() {
            self.pages.push(Vec::new());
        }
        let last = self.pages.len() - 1;
        &mut self.pages[last]
    }

    /// Places one line of text with its baseline at (`x`, `baseline`) on the current page.
    pub(crate) fn text_at(
        &mut self,
        x: f32,
        baseline: f32,
        face: Face,
        size: f32,
        text: &str,
        color: Color,
    ) {
        let ops = text_ops(self.fonts, x, baseline, face, size, text, color);
        self.ops().extend(ops);
    }

    /// Draws a straight rule.
    pub(crate) fn rule(&mut self, from: (f32, f32), to: (f32, f32), thickness: f32) {
        self.ops().extend(rule_ops(from, to, thickness));
    }

    /// Fills a rectangle whose lower-left corner is (`x`, `y`).
    pub(crate) fn fill(&mut self, x: f32, y: f32, w: f32, h: f32, color: Color) {
        self.ops().extend([
            Op::SaveGraphicsState,
            Op::SetFillColor { col: color },
            Op::DrawRectangle {
                rectangle: Rect {
                    x: Pt(x),
                    y: Pt(y),
                    width: Pt(w),
                    height: Pt(h),
                    mode: Some(PaintMode::Fill),
                    winding_order: None,
                },
            },
            Op::RestoreGraphicsState,
        ]);
    }

    /// Wrapped text across the body width, breaking pages as needed.
    pub(crate) fn paragraph(&mut self, text: &str, face: Face, size: f32) {
        self.paragraph_at(MARGIN_X, BODY_W, text, face, size);
    }

    /// Wrapped text in a column starting at `x`, `width` wide.
    pub(crate) fn paragraph_at(&mut self, x: f32, width: f32, text: &str, face: Face, size: f32) {
        let leading = size * 1.3;
        for line in self.wrap(face, text, size, width) {
            self.ensure(leading);
            let baseline = self.y - size;
            self.text_at(x, baseline, face, size, &line, black());
            self.y -= leading;
        }
    }

    /// Wraps text for `face` at `size` into lines at most `width` wide.
    pub(crate) fn wrap(&self, face: Face, text: &str, size: f32, width: f32) -> Vec<String> {
        let printable = self.fonts.printable(face, text);
        wrap(&printable, width, |c| self.fonts.char_width(face, c, size))
    }

    /// A section heading; starts a new page when less than a few lines would follow it.
    pub(crate) fn heading(&mut self, title: &str) {
        self.ensure(80.0);
        self.paragraph(title, Face::Bold, 15.0);
        self.y -= 6.0;
    }

    /// Label/value pairs: bold labels in a narrow column, wrapped values beside them.
    pub(crate) fn key_values(&mut self, pairs: &[(&str, &str)], size: f32) {
        let label_w = 120.0;
        let leading = size * 1.3;
        for (label, value) in pairs {
            let lines = self.wrap(Face::Regular, value, size, BODY_W - label_w);
            for (i, line) in lines.iter().enumerate() {
                self.ensure(leading);
                let baseline = self.y - size;
                if i == 0 {
                    self.text_at(
                        MARGIN_X,
                        baseline,
                        Face::Bold,
                        size,
                        &self.fonts.printable(Face::Bold, label),
                        black(),
                    );
                }
                self.text_at(
                    MARGIN_X + label_w,
                    baseline,
                    Face::Regular,
                    size,
                    line,
                    black(),
                );
                self.y -= leading;
            }
            self.y -= size * 0.35;
        }
    }
}

/// Operations for one line of text (already printable for `face`).
pub(crate) fn text_ops(
    fonts: &Fonts,
    x: f32,
    baseline: f32,
    face: Face,
    size: f32,
    text: &str,
    color: Color,
) -> Vec<Op> {
    vec![
        Op::SetFillColor { col: color },
        Op::StartTextSection,
        Op::SetFont {
            font: PdfFontHandle::External(fonts.id(face)),
            size: Pt(size),
        },
        Op::SetTextCursor {
            pos: Point {
                x: Pt(x),
                y: Pt(baseline),
            },
        },
        Op::ShowText {
            items: vec![TextItem::Text(text.to_string())],
        },
        Op::EndTextSection,
    ]
}

/// Operations for a straight rule.
pub(crate) fn rule_ops(from: (f32, f32), to: (f32, f32), thickness: f32) -> Vec<Op> {
    let point = |(x, y): (f32, f32)| LinePoint {
        p: Point { x: Pt(x), y: Pt(y) },
        bezier: false,
    };
    vec![
        Op::SetOutlineThickness { pt: Pt(thickness) },
        Op::DrawLine {
            line: Line {
                points: vec![point(from), point(to)],
                is_closed: false,
            },
        },
    ]
}
