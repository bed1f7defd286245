//! Tables that break across pages, repeat their header row on every page, and never clip:
//! a row taller than a whole page continues on the next one.

use crate::fonts::Face;
use crate::model::Column;
use crate::page::{black, rgb, Composer, BODY_BOTTOM, BODY_TOP, BODY_W, MARGIN_X};

const SIZE: f32 = 7.5;
const LEADING: f32 = 9.5;
const PAD: f32 = 2.5;

/// Lays out a table at the cursor. Columns and rows are already validated.
pub(crate) fn table(c: &mut Composer<'_>, columns: &[Column], rows: &[Vec<String>]) {
    let total: f32 = columns.iter().map(|col| col.width as f32).sum();
    let widths: Vec<f32> = columns
        .iter()
        .map(|col| BODY_W * col.width as f32 / total)
        .collect();
    let headers: Vec<Vec<String>> = columns
        .iter()
        .zip(&widths)
        .map(|(col, w)| c.wrap(Face::Bold, &col.header, SIZE, w - 2.0 * PAD))
        .collect();
    let header_h = row_height(&headers);
    // Keep the header with at least one line of the first row.
    c.ensure(header_h + LEADING + 2.0 * PAD);
    draw_header(c, &headers, &widths, header_h);
    let fresh_page_room = BODY_TOP - BODY_BOTTOM - header_h;
    for row in rows {
        let cells: Vec<Vec<String>> = row
            .iter()
            .zip(&widths)
            .map(|(text, w)| c.wrap(Face::Regular, text, SIZE, w - 2.0 * PAD))
            .collect();
        let lines = cells.iter().map(Vec::len).max().unwrap_or(1);
        let h = row_height(&cells);
        if h > c.room() && h <= fresh_page_room {
            next_page(c, &headers, &widths, header_h);
        }
        let mut start = 0;
        while start < lines {
            let mut fit = ((c.room() - 2.0 * PAD) / LEADING).floor().max(0.0) as usize;
            if fit == 0 {
                next_page(c, &headers, &widths, header_h);
                fit = (((c.room() - 2.0 * PAD) / LEADING).floor().max(1.0)) as usize;
            }
            let end = (start + fit).min(lines);
            draw_chunk(c, &cells, &widths, start, end);
            start = end;
        }
    }
    c.y -= 10.0;
}

fn row_height(cells: &[Vec<String>]) -> f32 {
    let lines = cells.iter().map(Vec::len).max().unwrap_or(1);
    lines as f32 * LEADING + 2.0 * PAD
}

fn next_page(c: &mut Composer<'_>, headers: &[Vec<String>], widths: &[f32], header_h: f32) {
    c.new_page();
    draw_header(c, headers, widths, header_h);
}

fn draw_header(c: &mut Composer<'_>, headers: &[Vec<String>], widths: &[f32], h: f32) {
    let top = c.y;
    c.fill(MARGIN_X, top - h, BODY_W, h, rgb(226, 230, 236));
    c.rule((MARGIN_X, top), (MARGIN_X + BODY_W, top), 0.8);
    draw_cells(c, headers, widths, 0, usize::MAX, Face::Bold, top);
    c.rule((MARGIN_X, top - h), (MARGIN_X + BODY_W, top - h), 0.8);
    verticals(c, widths, top, top - h);
    c.y = top - h;
}

fn draw_chunk(
    c: &mut Composer<'_>,
    cells: &[Vec<String>],
    widths: &[f32],
    start: usize,
    end: usize,
) {
    let top = c.y;
    let h = (end - start) as f32 * LEADING + 2.0 * PAD;
    draw_cells(c, cells, widths, start, end, Face::Regular, top);
    c.rule((MARGIN_X, top - h), (MARGIN_X + BODY_W, top - h), 0.3);
    verticals(c, widths, top, top - h);
    c.y = top - h;
}

fn draw_cells(
    c: &mut Composer<'_>,
    cells: &[Vec<String>],
    widths: &[f32],
    start: usize,
    end: usize,
    face: Face,
    top: f32,
) {
    let mut x = MARGIN_X;
    for (lines, w) in cells.iter().zip(widths) {
        for (i, line) in lines
            .iter()
            .skip(start)
            .take(end.saturating_sub(start))
            .enumerate()
        {
            if line.is_empty() {
                continue;
            }
            let baseline = top - PAD - i as f32 * LEADING - SIZE;
            c.text_at(x + PAD, baseline, face, SIZE, line, black());
        }
        x += w;
    }
}

fn verticals(c: &mut Composer<'_>, widths: &[f32], top: f32, bottom: f32) {
    let mut x = MARGIN_X;
    c.rule((x, top), (x, bottom), 0.3);
    for w in widths {
        x += w;
        c.rule((x, top), (x, bottom), 0.3);
    }
}
