//! The pages of a Periodic Review Report: cover, contents, the verdict and the baseline it
//! rests on, the period's timeline, each change with its assessment, the evidence coverage,
//! the impact assessments, the review signatures' manifestations, notes, and how to verify.
//! Every untrusted string is escaped before it reaches a page.

use countersign_core::qualified_state::evaluate::human_time;
use countersign_core::qualified_state::{timeline::TimelineEntry, Findings};
use countersign_core::review_report::ReviewReportManifest;
use countersign_ledger::SignatureRecord;
use countersign_pdf::{DocumentKind, PackageDocument, Section, SignatureManifestation};

use super::document::{block, one, table};
use crate::signing::view::{local_time, statement_of};

/// What the pages are made from.
pub(super) struct ReviewDocumentInput<'a> {
    pub(super) manifest: &'a ReviewReportManifest,
    pub(super) manifest_sha256: String,
    pub(super) generated_at: String,
    pub(super) findings: &'a Findings,
    pub(super) timeline: &'a [TimelineEntry],
    pub(super) reviews: &'a [SignatureRecord],
    pub(super) superseded: usize,
}

pub(super) fn review_document(input: &ReviewDocumentInput<'_>) -> PackageDocument {
    let m = input.manifest;
    let f = input.findings;
    let period = format!(
        "{} – {}",
        human_time(m.period.from),
        human_time(m.period.to)
    );
    let reviewers: Vec<String> = input.reviews.iter().map(|r| one(&r.printed_name)).collect();
    let sections = vec![
        Section::Cover,
        Section::Contents,
        Section::Paragraphs {
            title: "Verdict".into(),
            text: verdict_text(input, &period),
        },
        table(
            "Timeline of the period",
            &[("When", 3), ("Until", 3), ("What", 2), ("Entry", 9)],
            input
                .timeline
                .iter()
                .map(|e| {
                    vec![
                        human_time(e.at),
                        e.until.map(human_time).unwrap_or_default(),
                        format!("{:?}", e.kind).to_lowercase(),
                        block(&e.title),
                    ]
                })
                .collect(),
        ),
        table(
            "Changes in the period",
            &[("When", 3), ("Kind", 2), ("Change", 7), ("Assessment", 5)],
            f.changes
                .iter()
                .map(|c| {
                    vec![
                        c.at.map(human_time).unwrap_or_else(|| "not dated".into()),
                        c.kind.label().to_owned(),
                        format!(
                            "{}\nid {}{}",
                            block(&c.summary),
                            c.id,
                            c.events
                                .first()
                                .map(|e| format!(
                                    "\n{} by {} from {}",
                                    one(&e.event_name),
                                    one(e.principal.as_deref().unwrap_or("unknown")),
                                    one(e.source_ip.as_deref().unwrap_or("unknown"))
                                ))
                                .unwrap_or_default()
                        ),
                        match &c.assessment {
                            Some(a) => format!(
                                "{} by {} at {}{}",
                                a.impact.label(),
                                one(&a.printed_name),
                                human_time(a.signed_at),
                                a.reference
                                    .as_deref()
                                    .map(|r| format!(" ({})", one(r)))
                                    .unwrap_or_default()
                            ),
                            None => "not assessed".into(),
                        },
                    ]
                })
                .collect(),
        ),
        table(
            "Evidence coverage (CloudTrail digest chain)",
            &[("From", 3), ("To", 3), ("Coverage", 8)],
            coverage_rows(f),
        ),
        table(
            "Impact assessments",
            &[
                ("Change", 4),
                ("Impact", 3),
                ("By", 3),
                ("Signed", 3),
                ("Reason", 6),
            ],
            f.assessments
                .iter()
                .map(|a| {
                    vec![
                        a.change.to_hex()[..16].to_owned(),
                        format!(
                            "{}{}",
                            a.impact.label(),
                            a.reference
                                .as_deref()
                                .map(|r| format!(" ({})", one(r)))
                                .unwrap_or_default()
                        ),
                        one(&a.printed_name),
                        human_time(a.signed_at),
                        block(&a.reason),
                    ]
                })
                .collect(),
        ),
        Section::Signatures {
            title: "Periodic review signatures".into(),
            manifestations: input
                .reviews
                .iter()
                .map(|r| {
                    let st = statement_of(&r.envelope);
                    SignatureManifestation {
                        printed_name: one(&r.printed_name),
                        signed_at: one(&local_time(&r.signed_at, &r.utc_offset)
                            .unwrap_or_else(|| format!("{} (UTC{})", r.signed_at, r.utc_offset))),
                        meaning: r.meaning.as_str().to_owned(),
                        reason: block(
                            st.as_ref()
                                .map(|s| s.predicate.reason.as_str())
                                .unwrap_or_default(),
                        ),
                        key_id: r.key_id.to_hex(),
                        verification: "Verified when this report was built".into(),
                    }
                })
                .collect(),
        },
        Section::Paragraphs {
            title: "Notes on the evidence".into(),
            text: notes(input),
        },
        Section::Paragraphs {
            title: "How to verify this report".into(),
            text: how_to_verify(m, &input.manifest_sha256),
        },
    ];
    PackageDocument {
        kind: DocumentKind::PeriodicReviewReport,
        package_id: one(&m.report_id),
        title: one(&m.title),
        system: one(&m.system),
        stack: f
            .baseline
            .snapshot
            .as_ref()
            .map(|s| one(&format!("{} ({})", s.stack_name, s.region)))
            .unwrap_or_else(|| "none recorded".into()),
        phases: period,
        status: format!(
            "{} — periodically reviewed by {}",
            one(&f.verdict.text),
            if reviewers.is_empty() {
                "nobody".into()
            } else {
                reviewers.join(", ")
            }
        ),
        manifest_sha256: input.manifest_sha256.clone(),
        demo: m.demo,
        marking: None,
        generated_at: input.generated_at.clone(),
        sections,
    }
}

fn verdict_text(input: &ReviewDocumentInput<'_>, period: &str) -> String {
    let f = input.findings;
    let b = &f.baseline;
    let approvals: Vec<String> = b
        .approvals
        .iter()
        .map(|a| {
            format!(
                "{} ({}) approved by {} at {}",
                one(&a.phase),
                one(&a.run),
                one(&a.printed_name),
                human_time(a.signed_at)
            )
        })
        .collect();
    let stack = match &b.snapshot {
        Some(s) => format!(
            "Baseline stack snapshot: {} taken {}, template SHA-256 {}, status {}.",
            one(&s.stack_name),
            one(&s.taken_at),
            s.template_sha256,
            one(&s.status)
        ),
        None => "No stack snapshot was recorded with the approval.".into(),
    };
    let current = match (&f.current_stack.snapshot, &f.current_stack.note) {
        (Some(s), note) => format!(
            "Compared with the stack snapshot taken {}{}.",
            one(&s.taken_at),
            note.as_deref()
                .map(|n| format!(" ({})", one(n)))
                .unwrap_or_default()
        ),
        (None, Some(note)) => format!("Stack: {}.", one(note)),
        (None, None) => "The stack was not compared.".into(),
    };
    format!(
        "Period reviewed: {period}.\n\
Findings over {} – {} (from the approval when it is later than the period's start).\n\
\n\
Verdict: {}\n\
Changes: {} ({} not assessed or needing requalification). Evidence gaps: {}. Evidence reaches: {}.\n\
\n\
Qualified baseline: approved {}.\n{}\n{}\n{}",
        human_time(f.period.from),
        human_time(f.period.to),
        one(&f.verdict.text),
        f.verdict.changes,
        f.verdict.open_changes,
        f.verdict.gaps,
        f.verdict
            .covered_until
            .map(human_time)
            .unwrap_or_else(|| "nowhere (no validated digest)".into()),
        human_time(b.approved_at),
        approvals.join("\n"),
        stack,
        current,
    )
}

fn coverage_rows(f: &Findings) -> Vec<Vec<String>> {
    let mut rows: Vec<(String, Vec<String>)> = f
        .coverage
        .covered
        .iter()
        .map(|p| {
            (
                p.from.to_string(),
                vec![
                    human_time(p.from),
                    human_time(p.to),
                    "covered by validated digests".into(),
                ],
            )
        })
        .collect();
    rows.extend(f.coverage.gaps.iter().map(|g| {
        (
            g.from.to_string(),
            vec![
                human_time(g.from),
                human_time(g.to),
                format!("GAP: {}", block(&g.reason)),
            ],
        )
    }));
    rows.sort_by(|a, b| a.0.cmp(&b.0));
    let mut out: Vec<Vec<String>> = rows.into_iter().map(|(_, r)| r).collect();
    out.push(vec![
        String::new(),
        String::new(),
        format!(
            "{} digests validated, {} not; public keys: {}",
            f.coverage.digests_validated,
            f.coverage.digests_not_validated,
            if f.coverage.public_keys.is_empty() {
                "none given (signatures not checked)".to_owned()
            } else {
                f.coverage.public_keys.join(", ")
            }
        ),
    ]);
    out
}

fn notes(input: &ReviewDocumentInput<'_>) -> String {
    let mut lines: Vec<String> = input.findings.notes.iter().map(|n| block(n)).collect();
    if !input.findings.attempts.is_empty() {
        lines.push(format!(
            "{} write call(s) on the stack's resources failed in the period (not changes): {}",
            input.findings.attempts.len(),
            input
                .findings
                .attempts
                .iter()
                .map(|e| format!(
                    "{} at {} ({})",
                    one(&e.event_name),
                    human_time(e.time),
                    one(e.error_code.as_deref().unwrap_or("error"))
                ))
                .collect::<Vec<_>>()
                .join("; ")
        ));
    }
    if input.superseded > 0 {
        lines.push(format!(
            "{} earlier review signature(s) of this period signed other findings (the evidence or the assessments changed since); they are not carried here and are listed in the audit trail.",
            input.superseded
        ));
    }
    if lines.is_empty() {
        "None.".into()
    } else {
        lines.join("\n\n")
    }
}

fn how_to_verify(m: &ReviewReportManifest, sha: &str) -> String {
    format!(
        "This report is {id}. Its manifest (attachment manifest.json, RFC 8785 canonical JSON) has SHA-256 {sha}; the PDF's trailer /ID is its first 16 bytes.\n\
\n\
Offline, with Countersign: countersign verify THIS.pdf --trusted-keys KEYS. Exit code 0 means every check passed; 1 names the first failed check.\n\
\n\
What the signatures cover: each periodic-review signature signs findings.json (SHA-256 {findings}), the machine-readable findings these pages are rendered from; each impact assessment carries its own signature over its record. The pages themselves are checked against the manifest but carry no signature; without a trusted-keys list, the signers' keys are the ones this report carries.\n\
\n\
Without Countersign: extract the attachments (e.g. pdfdetach). Check that manifest.json is canonical and that its SHA-256 is the one above; check the size and SHA-256 of every file it lists; check each signatures/NNN.dsse.json as a DSSE envelope with Ed25519 over the pre-authentication encoding, with the key in keys/<key-id>.json, on the subject periodic-review:{system}/{from}..{to} with the SHA-256 of findings.json. The byte formats are in docs/package-format.md (section 12) and docs/signature-format.md of the Countersign source.",
        id = one(&m.report_id),
        findings = m.findings_sha256,
        system = one(&m.system),
        from = m.period.from,
        to = m.period.to,
    )
}
