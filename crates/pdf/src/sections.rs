//! The fixed-form sections: cover, contents, per-phase summary with its bar chart, signature
//! manifestations.

use crate::fonts::Face;
use crate::model::{Column, DocumentKind, PackageDocument, PhaseRow, SignatureManifestation};
use crate::page::{black, rgb, Composer, BODY_BOTTOM, BODY_TOP, BODY_W, MARGIN_X};
use crate::table::table;

/// Cover page content.
pub(crate) fn cover(c: &mut Composer<'_>, doc: &PackageDocument) {
    c.y -= 120.0;
    c.paragraph(&doc.title, Face::Bold, 22.0);
    c.y -= 24.0;
    let (phases, id) = match doc.kind {
        DocumentKind::ValidationPackage => ("Phases", "Package id"),
        DocumentKind::PeriodicReviewReport => ("Period", "Report id"),
    };
    c.key_values(
        &[
            ("System", doc.system.as_str()),
            ("Stack", doc.stack.as_str()),
            (phases, doc.phases.as_str()),
            (id, doc.package_id.as_str()),
            ("Manifest SHA-256", doc.manifest_sha256.as_str()),
            ("Status", doc.status.as_str()),
            ("Generated", doc.generated_at.as_str()),
        ],
        10.5,
    );
}

const CONTENTS_SIZE: f32 = 10.5;
const CONTENTS_LEADING: f32 = 16.0;

/// How many contents entries one page holds.
pub(crate) fn contents_per_page() -> usize {
    (((BODY_TOP - BODY_BOTTOM - 40.0) / CONTENTS_LEADING).floor() as usize).max(1)
}

/// Contents pages: one line per entry, title left, 1-based page number right.
pub(crate) fn contents(c: &mut Composer<'_>, entries: &[(String, usize)]) {
    let per_page = contents_per_page();
    if entries.is_empty() {
        c.new_page();
        c.heading("Contents");
    }
    for (i, (title, page)) in entries.iter().enumerate() {
        if i % per_page == 0 {
            c.new_page();
            c.heading(if i == 0 {
                "Contents"
            } else {
                "Contents (continued)"
            });
        }
        let number = (page + 1).to_string();
        let number_w = c.fonts.width(Face::Regular, &number, CONTENTS_SIZE);
        let title = one_line(c, title, BODY_W - number_w - 24.0);
        let baseline = c.y - CONTENTS_SIZE;
        c.text_at(
            MARGIN_X,
            baseline,
            Face::Regular,
            CONTENTS_SIZE,
            &title,
            black(),
        );
        c.text_at(
            MARGIN_X + BODY_W - number_w,
            baseline,
            Face::Regular,
            CONTENTS_SIZE,
            &number,
            black(),
        );
        c.y -= CONTENTS_LEADING;
    }
}

/// The first wrapped line of `text`, with an ellipsis when more was cut.
fn one_line(c: &Composer<'_>, text: &str, width: f32) -> String {
    let lines = c.wrap(Face::Regular, text, CONTENTS_SIZE, width - 12.0);
    match lines.as_slice() {
        [only] => only.clone(),
        [first, ..] => format!("{first}…"),
        [] => String::new(),
    }
}

/// Pass rate as printed: passed over all cases, one decimal; `n/a` for an empty phase.
pub(crate) fn pass_rate(row: &PhaseRow) -> String {
    let total = row.total();
    if total == 0 {
        return "n/a".to_string();
    }
    let tenths = (u128::from(row.passed) * 1000 + u128::from(total) / 2) / u128::from(total);
    format!("{}.{}%", tenths / 10, tenths % 10)
}

/// Per-phase totals table followed by a stacked bar chart.
pub(crate) fn phase_summary(c: &mut Composer<'_>, rows: &[PhaseRow]) {
    let columns: Vec<Column> = [
        ("Phase", 2),
        ("Total", 2),
        ("Passed", 2),
        ("Failed", 2),
        ("Errored", 2),
        ("Skipped", 2),
        ("Pass rate", 2),
        ("Open deviations", 3),
    ]
    .iter()
    .map(|(h, w)| Column {
        header: (*h).to_string(),
        width: *w,
    })
    .collect();
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            vec![
                r.phase.clone(),
                r.total().to_string(),
                r.passed.to_string(),
                r.failed.to_string(),
                r.errored.to_string(),
                r.skipped.to_string(),
                pass_rate(r),
                r.open_deviations.to_string(),
            ]
        })
        .collect();
    table(c, &columns, &cells);
    chart(c, rows);
}

const SERIES: [(&str, (u8, u8, u8)); 4] = [
    ("Passed", (46, 139, 87)),
    ("Failed", (200, 50, 50)),
    ("Errored", (230, 140, 20)),
    ("Skipped", (150, 150, 150)),
];

/// One horizontal bar per phase, split into passed/failed/errored/skipped in proportion.
fn chart(c: &mut Composer<'_>, rows: &[PhaseRow]) {
    let label_w = 60.0;
    let bar_w = BODY_W - label_w;
    let bar_h = 14.0;
    c.ensure(40.0);
    c.paragraph("Results per phase", Face::Bold, 10.0);
    c.y -= 4.0;
    // Legend.
    let mut x = MARGIN_X;
    for (name, (r, g, b)) in SERIES {
        c.fill(x, c.y - 8.0, 8.0, 8.0, rgb(r, g, b));
        c.text_at(x + 11.0, c.y - 7.5, Face::Regular, 8.0, name, black());
        x += 70.0;
    }
    c.y -= 18.0;
    for row in rows {
        c.ensure(bar_h + 6.0);
        let top = c.y;
        let label = c.fonts.printable(Face::Regular, &row.phase);
        c.text_at(MARGIN_X, top - 10.5, Face::Regular, 8.5, &label, black());
        let total = row.total();
        if total == 0 {
            c.rule(
                (MARGIN_X + label_w, top - bar_h),
                (MARGIN_X + label_w + bar_w, top - bar_h),
                0.3,
            );
        } else {
            let mut x = MARGIN_X + label_w;
            for (count, (_, (r, g, b))) in [row.passed, row.failed, row.errored, row.skipped]
                .iter()
                .zip(SERIES)
            {
                let w = bar_w * (*count as f32) / (total as f32);
                if w > 0.0 {
                    c.fill(x, top - bar_h, w, bar_h, rgb(r, g, b));
                }
                x += w;
            }
        }
        c.y -= bar_h + 6.0;
    }
}

/// One block per signature manifestation.
pub(crate) fn signatures(c: &mut Composer<'_>, manifestations: &[SignatureManifestation]) {
    if manifestations.is_empty() {
        c.paragraph("No signatures.", Face::Regular, 10.0);
        return;
    }
    for (i, m) in manifestations.iter().enumerate() {
        c.ensure(110.0);
        c.paragraph(&format!("Signature {}", i + 1), Face::Bold, 11.0);
        c.y -= 2.0;
        c.key_values(
            &[
                ("Printed name", m.printed_name.as_str()),
                ("Date and time", m.signed_at.as_str()),
                ("Meaning", m.meaning.as_str()),
                ("Reason", m.reason.as_str()),
                ("Key id", m.key_id.as_str()),
                ("Verification", m.verification.as_str()),
            ],
            9.5,
        );
        c.y -= 10.0;
    }
}

#[cfg(test)]
mod tests {
    use super::pass_rate;
    use crate::model::PhaseRow;

    fn row(passed: u64, failed: u64, errored: u64, skipped: u64) -> PhaseRow {
        PhaseRow {
            phase: "OQ".into(),
            passed,
            failed,
            errored,
            skipped,
            open_deviations: 0,
        }
    }

    #[test]
    fn pass_rate_counts_every_case_and_rounds_to_one_decimal() {
        assert_eq!(pass_rate(&row(120, 3, 1, 4)), "93.8%");
        assert_eq!(pass_rate(&row(2, 1, 0, 0)), "66.7%");
        assert_eq!(pass_rate(&row(5, 0, 0, 0)), "100.0%");
        assert_eq!(pass_rate(&row(0, 0, 0, 0)), "n/a");
        assert_eq!(pass_rate(&row(u64::MAX, 0, 0, 0)), "100.0%");
    }
}
