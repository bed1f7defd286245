//! End-to-end checks of rendered packages with the real PDF tools (qpdf, poppler-utils), which
//! scripts/setup.sh installs. A missing tool fails the test with a message saying so.
#![allow(clippy::unwrap_used, clippy::panic)] // helpers outside #[test] functions: a failure is a test failure

use std::path::{Path, PathBuf};
use std::process::Command;

use countersign_pdf::{
    prepare_approval, read_package, render, seal_approval, ApprovalPage, Attachment, Column,
    PackageDocument, PdfError, PhaseRow, Relationship, Section, SignatureManifestation, Table,
    DEMO_WATERMARK,
};

const UNICODE: &str = "Grüße ½ ≥ ✓ — Ünïcödé, 日本";

fn run(tool: &str, args: &[&str]) -> (bool, String) {
    let out = Command::new(tool).args(args).output().unwrap_or_else(|e| {
        panic!("{tool} is needed for this test and could not be run ({e}); install qpdf and poppler-utils (scripts/setup.sh)")
    });
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

fn text_of(pdf: &Path, page: Option<usize>) -> String {
    text_in_mode(pdf, page, "-layout")
}

/// Text in content-stream order (`-raw`), which keeps the rotated watermark's letters together.
fn text_in_mode(pdf: &Path, page: Option<usize>, mode: &str) -> String {
    let p = pdf.to_str().unwrap();
    let mut args = vec![mode.to_string()];
    if let Some(n) = page {
        args.extend([
            "-f".to_string(),
            n.to_string(),
            "-l".to_string(),
            n.to_string(),
        ]);
    }
    args.extend([p.to_string(), "-".to_string()]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (ok, out) = run("pdftotext", &args);
    assert!(ok, "pdftotext failed: {out}");
    out
}

fn page_count(pdf: &Path) -> usize {
    let (ok, out) = run("qpdf", &["--show-npages", pdf.to_str().unwrap()]);
    assert!(ok, "qpdf --show-npages failed: {out}");
    out.trim().parse().unwrap()
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

fn columns(spec: &[(&str, u32)]) -> Vec<Column> {
    spec.iter()
        .map(|(h, w)| Column {
            header: (*h).to_string(),
            width: *w,
        })
        .collect()
}

fn sample(demo: bool) -> PackageDocument {
    PackageDocument {
        kind: countersign_pdf::DocumentKind::ValidationPackage,
        package_id: "PKG-2026-0001".into(),
        title: format!("Qualification package — {UNICODE}"),
        system: "Batch record service".into(),
        stack: "arn:aws:cloudformation:eu-west-1:123456789012:stack/batch-records/0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b".into(),
        phases: "IQ, OQ, PQ".into(),
        status: "Approved".into(),
        manifest_sha256: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08".into(),
        demo,
        marking: None,
        generated_at: "2026-03-01T09:30:00+01:00".into(),
        sections: vec![
            Section::Cover,
            Section::Contents,
            Section::PhaseSummary {
                title: "Summary per phase".into(),
                rows: vec![
                    PhaseRow { phase: "IQ".into(), passed: 40, failed: 0, errored: 0, skipped: 2, open_deviations: 0 },
                    PhaseRow { phase: "OQ".into(), passed: 120, failed: 3, errored: 1, skipped: 4, open_deviations: 2 },
                    PhaseRow { phase: "PQ".into(), passed: 0, failed: 0, errored: 0, skipped: 0, open_deviations: 0 },
                ],
            },
            Section::Table(Table {
                title: "Evidence index".into(),
                columns: columns(&[("Name", 3), ("S3 URI", 5), ("SHA-256", 5), ("Size", 1)]),
                rows: vec![vec![
                    format!("report {UNICODE}.xml"),
                    "s3://evidence-bucket/runs/2026/03/01/oq/very/deep/prefix/with/many/segments/junit-report-final.xml".into(),
                    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855".into(),
                    "1024".into(),
                ]],
            }),
            Section::Signatures {
                title: "Signatures".into(),
                manifestations: vec![SignatureManifestation {
                    printed_name: "Dr. Jördis Quality-Approver".into(),
                    signed_at: "2026-03-01T10:02:11+01:00".into(),
                    meaning: "Approved".into(),
                    reason: "OQ results reviewed and accepted".into(),
                    key_id: "ed25519:4f2c9a".into(),
                    verification: "Verified".into(),
                }],
            },
            Section::Paragraphs {
                title: "How to verify this package".into(),
                text: "Run countersign verify on this file.\nEvery attachment is listed in the manifest.".into(),
            },
        ],
    }
}

fn attachments() -> Vec<Attachment> {
    vec![
        Attachment {
            name: "manifest.json".into(),
            mime: "application/json".into(),
            bytes: br#"{"files":[]}"#.to_vec(),
            relationship: Relationship::Data,
            description: "Package manifest".into(),
        },
        Attachment {
            name: "signatures/approval-1.dsse.json".into(),
            mime: "application/json".into(),
            bytes: (0..=255u8).cycle().take(5000).collect(),
            relationship: Relationship::Supplement,
            description: "DSSE envelope".into(),
        },
    ]
}

#[test]
fn package_passes_qpdf_and_shows_its_text() {
    let dir = tempfile::tempdir().unwrap();
    let bytes = render(&sample(false), &attachments()).unwrap();
    let pdf = write(dir.path(), "p.pdf", &bytes);
    let (ok, out) = run("qpdf", &["--check", pdf.to_str().unwrap()]);
    assert!(
        ok && out.contains("No syntax or stream encoding errors"),
        "qpdf --check: {out}"
    );
    assert!(!out.contains("WARNING"), "qpdf --check warned: {out}");

    let n = page_count(&pdf);
    let text = text_of(&pdf, None);
    assert!(text.contains("Qualification package"), "{text}");
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        flat.contains("Grüße ½ ≥ ✓ — Ünïcödé"),
        "Unicode title missing: {text}"
    );
    assert!(text.contains("Dr. Jördis Quality-Approver"), "{text}");
    assert!(text.contains("Approved"), "{text}");
    assert!(text.contains("2026-03-01T10:02:11+01:00"), "{text}");
    assert!(text.contains(&format!("Page 1 of {n}")), "{text}");
    assert!(text.contains(&format!("Page {n} of {n}")), "{text}");
    assert!(text.contains("PKG-2026-0001"), "{text}");
    // Characters the font lacks are replaced, not dropped or crashed on.
    assert!(
        text.contains('\u{FFFD}'),
        "placeholder for CJK missing: {text}"
    );
    assert!(
        !text.contains(DEMO_WATERMARK),
        "non-demo package carries the watermark"
    );

    // The contents page lists each section with the page it starts on.
    let contents = text_of(&pdf, Some(2));
    assert!(contents.contains("Contents"), "{contents}");
    let sig_line = contents.lines().find(|l| l.contains("Signatures")).unwrap();
    let sig_page: usize = sig_line.split_whitespace().last().unwrap().parse().unwrap();
    assert!(text_of(&pdf, Some(sig_page)).contains("Dr. Jördis Quality-Approver"));

    let (ok, fonts) = run("pdffonts", &[pdf.to_str().unwrap()]);
    assert!(ok, "{fonts}");
    let rows: Vec<&str> = fonts
        .lines()
        .skip(2)
        .filter(|l| !l.trim().is_empty())
        .collect();
    assert!(!rows.is_empty(), "no fonts listed: {fonts}");
    for row in rows {
        assert!(row.contains("DejaVu"), "unexpected font: {row}");
        let cols: Vec<&str> = row.split_whitespace().collect();
        assert_eq!(cols[cols.len() - 5], "yes", "font not embedded: {row}");
    }
}

#[test]
fn attachments_are_listed_and_extract_to_the_exact_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let atts = attachments();
    let pdf = write(dir.path(), "p.pdf", &render(&sample(false), &atts).unwrap());
    let (ok, list) = run("pdfdetach", &["-list", pdf.to_str().unwrap()]);
    assert!(ok, "{list}");
    assert!(list.contains("2 embedded files"), "{list}");
    assert!(list.contains("1: manifest.json"), "{list}");
    assert!(
        list.contains("2: signatures/approval-1.dsse.json"),
        "{list}"
    );
    for (i, att) in atts.iter().enumerate() {
        let out = dir.path().join(format!("out{i}"));
        let (ok, msg) = run(
            "pdfdetach",
            &[
                "-save",
                &(i + 1).to_string(),
                "-o",
                out.to_str().unwrap(),
                pdf.to_str().unwrap(),
            ],
        );
        assert!(ok, "{msg}");
        assert_eq!(
            std::fs::read(&out).unwrap(),
            att.bytes,
            "attachment {} differs",
            att.name
        );
    }
    let raw = std::fs::read(&pdf).unwrap();
    let raw = String::from_utf8_lossy(&raw);
    assert!(
        raw.contains("pdfaid:part>3<"),
        "XMP PDF/A identification missing"
    );
    assert!(raw.contains("GTS_PDFA1"), "sRGB output intent missing");
}

#[test]
fn same_document_gives_the_same_bytes_and_trailer_id() {
    let a = render(&sample(false), &attachments()).unwrap();
    let b = render(&sample(false), &attachments()).unwrap();
    assert!(a == b, "two renderings of the same document differ");
    let id = |bytes: &[u8]| {
        let s = String::from_utf8_lossy(bytes).into_owned();
        let at = s.rfind("/ID").unwrap();
        s[at..at + 80].to_string()
    };
    assert_eq!(id(&a), id(&b));
    assert!(
        id(&a)
            .to_ascii_lowercase()
            .contains("9f86d081884c7d659a2feaa0c55ad015"),
        "{}",
        id(&a)
    );
}

#[test]
fn demo_watermark_is_on_every_page() {
    let dir = tempfile::tempdir().unwrap();
    let pdf = write(dir.path(), "d.pdf", &render(&sample(true), &[]).unwrap());
    let n = page_count(&pdf);
    assert!(n >= 4);
    for page in 1..=n {
        let text = text_in_mode(&pdf, Some(page), "-raw");
        let letters: String = text.chars().filter(|c| !c.is_whitespace()).collect();
        assert!(
            letters.contains("DEMO—NOTFORGxPUSE"),
            "page {page} lacks the watermark: {text}"
        );
    }
}

#[test]
fn a_draft_marking_heads_every_page_and_a_final_document_has_none() {
    let dir = tempfile::tempdir().unwrap();
    let mut doc = sample(false);
    doc.marking = Some("DRAFT — NOT APPROVED".into());
    let pdf = write(dir.path(), "draft.pdf", &render(&doc, &[]).unwrap());
    let n = page_count(&pdf);
    assert!(n >= 4);
    for page in 1..=n {
        let text = text_of(&pdf, Some(page));
        let header = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
        assert!(
            header.contains("PKG-2026-0001") && header.contains("DRAFT — NOT APPROVED"),
            "page {page} header: {header:?}"
        );
    }
    let final_pdf = write(
        dir.path(),
        "final.pdf",
        &render(&sample(false), &[]).unwrap(),
    );
    assert!(!text_of(&final_pdf, None).contains("DRAFT"));
}

#[test]
fn ten_thousand_row_table_breaks_across_pages_with_its_header() {
    let dir = tempfile::tempdir().unwrap();
    let mut doc = sample(false);
    let rows: Vec<Vec<String>> = (1..=10_000)
        .map(|i| {
            vec![
                format!("TC-{i:05}"),
                "passed".into(),
                format!("Case number {i} checks a thing"),
            ]
        })
        .collect();
    doc.sections.push(Section::Table(Table {
        title: "Test results".into(),
        columns: columns(&[("Case", 2), ("Result", 1), ("Description", 5)]),
        rows,
    }));
    let pdf = write(dir.path(), "big.pdf", &render(&doc, &[]).unwrap());
    let (ok, out) = run("qpdf", &["--check", pdf.to_str().unwrap()]);
    assert!(ok, "{out}");
    let n = page_count(&pdf);
    // About 65 rows fit on a page.
    assert!((120..=250).contains(&n), "implausible page count {n}");
    let last = text_of(&pdf, Some(n));
    assert!(last.contains("TC-10000"), "last row missing: {last}");
    assert!(
        last.contains("Description"),
        "header not repeated on the last page: {last}"
    );
    let all = text_of(&pdf, None);
    assert!(all.contains("TC-05000") && all.contains("TC-00001"));
}

#[test]
fn very_long_words_and_cells_wrap_without_clipping() {
    let dir = tempfile::tempdir().unwrap();
    let mut doc = sample(false);
    let token = "x".repeat(200) + "END";
    let huge_message = (0..400)
        .map(|i| format!("line{i}"))
        .collect::<Vec<_>>()
        .join(" ");
    doc.sections.push(Section::Table(Table {
        title: "Failures".into(),
        columns: columns(&[("Case", 1), ("Message", 4)]),
        rows: vec![
            vec![token.clone(), huge_message.repeat(3)],
            vec!["after".into(), "tail row".into()],
        ],
    }));
    doc.sections.push(Section::Paragraphs {
        title: "Long".into(),
        text: format!("start {token} stop"),
    });
    let pdf = write(dir.path(), "w.pdf", &render(&doc, &[]).unwrap());
    let text = text_of(&pdf, None);
    assert!(text.contains("END"), "end of long token clipped");
    assert!(
        text.contains("line399"),
        "end of a row taller than a page clipped"
    );
    assert!(text.contains("tail row"));
    let longest = text
        .lines()
        .map(|l| l.trim().chars().count())
        .max()
        .unwrap();
    assert!(longest < 200, "a line was not broken: {longest} characters");
}

#[test]
fn bad_input_is_refused_with_the_reason() {
    let mut doc = sample(false);
    doc.generated_at = "yesterday".into();
    assert_eq!(
        render(&doc, &[]),
        Err(PdfError::GeneratedAt {
            value: "yesterday".into()
        })
    );

    let mut doc = sample(false);
    doc.manifest_sha256 = "abc".into();
    assert!(matches!(
        render(&doc, &[]),
        Err(PdfError::ManifestDigest { .. })
    ));

    let mut doc = sample(false);
    doc.sections.push(Section::Table(Table {
        title: "T".into(),
        columns: columns(&[("A", 1), ("B", 1)]),
        rows: vec![vec!["a".into(), "b".into()], vec!["only one".into()]],
    }));
    assert_eq!(
        render(&doc, &[]),
        Err(PdfError::RowWidth {
            table: "T".into(),
            row: 2,
            found: 1,
            expected: 2
        })
    );

    let mut doc = sample(false);
    doc.sections.push(Section::Table(Table {
        title: "Z".into(),
        columns: columns(&[("A", 0)]),
        rows: vec![],
    }));
    assert_eq!(
        render(&doc, &[]),
        Err(PdfError::Columns { table: "Z".into() })
    );

    let mut twice = attachments();
    twice.push(twice[0].clone());
    assert_eq!(
        render(&sample(false), &twice),
        Err(PdfError::DuplicateAttachment {
            name: "manifest.json".into()
        })
    );
    let mut unnamed = attachments();
    unnamed[0].name.clear();
    assert_eq!(
        render(&sample(false), &unnamed),
        Err(PdfError::EmptyAttachmentName)
    );
}

#[test]
fn a_rendered_package_reads_back_its_attachments_and_self_description() {
    let pdf = render(&sample(false), &attachments()).unwrap();
    let read = countersign_pdf::read_package(&pdf).unwrap();
    assert_eq!(read.package_id.as_deref(), Some("PKG-2026-0001"));
    assert_eq!(
        read.manifest_sha256.as_deref(),
        Some("9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08")
    );
    assert_eq!(
        read.trailer_id.as_deref(),
        Some("9f86d081884c7d659a2feaa0c55ad015")
    );
    let want: std::collections::BTreeMap<String, Vec<u8>> = attachments()
        .into_iter()
        .map(|a| (a.name, a.bytes))
        .collect();
    assert_eq!(read.attachments, want);
}

#[test]
fn reading_something_that_is_not_a_pdf_says_so() {
    let err = countersign_pdf::read_package(b"%PDF-1.7\nnot really").unwrap_err();
    assert!(err.to_string().starts_with("not a readable PDF"), "{err}");
}

fn approval_page(number: usize, meaning: &str, name: &str) -> ApprovalPage {
    ApprovalPage {
        package_id: "PKG-20261103-0123456789ab".into(),
        number,
        meaning: meaning.into(),
        printed_name: name.into(),
        iam_arn: "arn:aws:iam::123456789012:user/qa".into(),
        key_id: "a42bbcc6bdf0cf620158cc9c1a2bbff7".into(),
        signed_at_local: "2026-11-05 10:15:00 +01:00".into(),
        signed_at_utc: "2026-11-05T09:15:00.000Z".into(),
        reason: "Qualification complete — Zürich site".into(),
        draft_sha256: "00".repeat(32),
        earlier: Vec::new(),
    }
}

/// Two approval revisions appended to a package: the file stays a valid PDF with one more page
/// each, showing the signature as signed; the attachments still extract; sealing changes only
/// the signature value; and the first revision's bytes are a prefix of the second.
#[test]
fn approval_revisions_add_a_visible_page_and_keep_the_package_readable() {
    let dir = tempfile::tempdir().unwrap();
    let draft = render(&sample(false), &attachments()).unwrap();
    let pages_before = page_count(&write(dir.path(), "draft.pdf", &draft));

    let first = prepare_approval(
        &draft,
        &approval_page(1, "Reviewed", "Dana Whitfield"),
        b"{}",
    )
    .unwrap();
    assert!(first.bytes.starts_with(&draft));
    let gap = first.contents.clone();
    assert_eq!(first.bytes[gap.start], b'<');
    assert_eq!(first.bytes[gap.end - 1], b'>');
    let sealed = seal_approval(first.clone(), br#"{"payload":"x"}"#).unwrap();
    assert_eq!(sealed.len(), first.bytes.len());
    assert_eq!(sealed[..gap.start], first.bytes[..gap.start]);
    assert_eq!(sealed[gap.end..], first.bytes[gap.end..]);
    let range = format!("[0 {} {} {}", gap.start, gap.end, sealed.len() - gap.end);
    assert!(
        sealed.windows(range.len()).any(|w| w == range.as_bytes()),
        "the byte range {range} is written"
    );

    let second =
        prepare_approval(&sealed, &approval_page(2, "Approved", "Sam Okafor"), b"{}").unwrap();
    let approved = seal_approval(second, br#"{"payload":"y"}"#).unwrap();
    assert!(approved.starts_with(&sealed));
    let path = write(dir.path(), "approved.pdf", &approved);
    let (ok, out) = run("qpdf", &["--check", path.to_str().unwrap()]);
    assert!(ok && !out.contains("WARNING"), "qpdf --check: {out}");
    assert_eq!(page_count(&path), pages_before + 2);
    let last = text_of(&path, Some(pages_before + 2));
    for expected in [
        "Package approval 2",
        "Approved",
        "Sam Okafor",
        "2026-11-05 10:15:00 +01:00",
        "Qualification complete — Zürich site",
    ] {
        assert!(last.contains(expected), "{expected:?} in {last}");
    }
    assert!(text_of(&path, Some(pages_before + 1)).contains("Dana Whitfield"));
    let read = read_package(&approved).unwrap();
    assert_eq!(read.attachments, read_package(&draft).unwrap().attachments);
    // Not a PDF: said so, nothing written.
    let e = prepare_approval(
        b"%PDF-1.7 not really",
        &approval_page(1, "Reviewed", "D"),
        b"{}",
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("the package PDF cannot be read"), "{e}");
    assert!(seal_approval(
        prepare_approval(&draft, &approval_page(1, "Reviewed", "D"), b"{}").unwrap(),
        &vec![b'x'; countersign_pdf::MAX_APPROVAL_ENVELOPE_BYTES + 1]
    )
    .is_err());
}
