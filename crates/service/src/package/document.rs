//! Lays a gathered package out as the PDF's document model: which sections, which tables, in
//! which words. Nothing here reads the store or the ledger.

use std::collections::BTreeMap;

use countersign_core::display::{escape, escape_lines};
use countersign_core::model::{CaseStatus, Integrity, Phase};
use countersign_core::package::manifest::PackageManifest;
use countersign_core::stack_snapshot::StackSnapshot;
use countersign_ledger::EventRecord;
use countersign_pdf::{Column, PackageDocument, PhaseRow, Section, SignatureManifestation, Table};

use super::assemble::RunPart;
use crate::audit_evidence::AuditEvidenceReport;

/// Longest failure detail printed per case; the full text is in the run data attachment.
const MAX_DETAIL_CHARS: usize = 4000;

pub(crate) struct DocumentInput<'a> {
    pub manifest: &'a PackageManifest,
    pub manifest_sha256: String,
    pub generated_at: String,
    pub runs: &'a [RunPart],
    pub snapshots: &'a [(String, StackSnapshot)],
    pub audit: &'a [(String, AuditEvidenceReport)],
    pub audit_note: Option<String>,
    pub events: &'a [EventRecord],
}

/// An untrusted value (a name, an id, a URI) as the PDF shows it: every control, bidi and
/// invisible character escaped (`\u{202e}`), so one value is one line that reads as it is.
pub(super) fn one(text: &str) -> String {
    escape(text).into_owned()
}

/// Untrusted free text (a failure message, a reason) whose own line breaks are kept.
pub(super) fn block(text: &str) -> String {
    escape_lines(text).into_owned()
}

fn cols(spec: &[(&str, u32)]) -> Vec<Column> {
    spec.iter()
        .map(|(h, w)| Column {
            header: (*h).to_owned(),
            width: *w,
        })
        .collect()
}

pub(super) fn table(title: &str, columns: &[(&str, u32)], rows: Vec<Vec<String>>) -> Section {
    Section::Table(Table {
        title: title.to_owned(),
        columns: cols(columns),
        rows,
    })
}

/// The marking on every page of a package some of whose runs are not approved.
pub(crate) const DRAFT_MARKING: &str = "DRAFT — NOT APPROVED";

/// The cover's status when every run is approved. The package itself is approved only by the
/// approval revisions signed after it is built (docs/package-format.md §15), so the cover says
/// where to look rather than claiming it.
pub(crate) const RUNS_APPROVED: &str =
    "All runs approved. The package itself is approved only by the signed approval pages after its last numbered page";

/// The status printed on the cover: the sign-off state of the runs.
pub(crate) fn package_status(runs: &[RunPart]) -> String {
    let state = |r: &RunPart| {
        let valid: Vec<&str> = r
            .signatures
            .iter()
            .filter(|s| s.valid)
            .map(|s| s.meaning.as_str())
            .collect();
        if valid.contains(&"Rejected") {
            "Rejected"
        } else if valid.contains(&"Approved") {
            "Approved"
        } else if valid.contains(&"Reviewed") {
            "Reviewed"
        } else {
            "Not signed"
        }
    };
    let states: Vec<&str> = runs.iter().map(state).collect();
    if states.iter().all(|s| *s == "Approved") {
        RUNS_APPROVED.into()
    } else if states.contains(&"Rejected") {
        "Rejected (at least one run)".into()
    } else {
        let approved = states.iter().filter(|s| **s == "Approved").count();
        format!("Open: {approved} of {} runs approved", states.len())
    }
}

/// A signature as the PDF prints it (Part 11 §11.50: name, date and time, meaning).
fn manifestation(s: &crate::signing::SignatureView) -> SignatureManifestation {
    SignatureManifestation {
        printed_name: one(&s.printed_name),
        signed_at: one(&s
            .local_time
            .clone()
            .unwrap_or_else(|| format!("{} (UTC{})", s.signed_at, s.utc_offset))),
        meaning: one(s.meaning.as_str()),
        reason: block(s.reason.as_deref().unwrap_or_default()),
        key_id: one(&s.key_id.to_hex()),
        verification: block(&s.outcome_detail),
    }
}

pub(crate) fn document(input: &DocumentInput<'_>) -> PackageDocument {
    let m = input.manifest;
    let mut sections = vec![Section::Cover, Section::Contents];
    sections.push(phase_summary(input.runs));
    sections.push(runs_table(input.runs));
    sections.push(problems(input.runs));
    sections.push(traceability(input.runs));
    sections.push(results(input.runs));
    sections.push(deviations(input.runs));
    sections.push(evidence(input.runs));
    sections.push(stack_snapshots(input.snapshots));
    sections.push(audit_evidence(input.audit, input.audit_note.as_deref()));
    for r in input.runs {
        sections.push(Section::Signatures {
            title: format!("Signatures — {}", one(&r.view.summary.id)),
            manifestations: r
                .signatures
                .iter()
                .filter(|s| s.superseded_by.is_none())
                .map(manifestation)
                .collect(),
        });
    }
    // A re-opened run's earlier cycles: every superseded signature, kept and marked, so the
    // whole history of the record is in the document (docs/package-format.md §13).
    for r in input.runs {
        let superseded: Vec<SignatureManifestation> = r
            .signatures
            .iter()
            .filter(|s| s.superseded_by.is_some())
            .map(|s| {
                let mut m = manifestation(s);
                m.meaning = format!("SUPERSEDED — was {}", m.meaning);
                m
            })
            .collect();
        if !superseded.is_empty() {
            sections.push(Section::Signatures {
                title: format!(
                    "Appendix: superseded signatures — {}",
                    one(&r.view.summary.id)
                ),
                manifestations: superseded,
            });
        }
    }
    sections.push(audit_trail(input.events));
    sections.push(Section::Paragraphs {
        title: "How to verify this package".into(),
        text: how_to_verify(
            m,
            &input.manifest_sha256,
            input.runs.iter().all(|r| r.record.run_data.is_some()),
        ),
    });
    let status = package_status(input.runs);
    PackageDocument {
        kind: countersign_pdf::DocumentKind::ValidationPackage,
        package_id: one(&m.package_id),
        title: one(&m.title),
        system: one(&m.systems.join(", ")),
        stack: if m.stacks.is_empty() {
            "none recorded".into()
        } else {
            one(&m.stacks.join(", "))
        },
        phases: one(&m.phases.join(", ")),
        marking: (status != RUNS_APPROVED).then(|| DRAFT_MARKING.to_owned()),
        status,
        manifest_sha256: input.manifest_sha256.clone(),
        demo: m.demo,
        generated_at: input.generated_at.clone(),
        sections,
    }
}

fn phase_summary(runs: &[RunPart]) -> Section {
    let mut by_phase: BTreeMap<Phase, PhaseRow> = BTreeMap::new();
    for r in runs {
        let phase = r.view.run.key.phase;
        let row = by_phase.entry(phase).or_insert_with(|| PhaseRow {
            phase: phase.to_string(),
            passed: 0,
            failed: 0,
            errored: 0,
            skipped: 0,
            open_deviations: 0,
        });
        let t = r.view.run.totals;
        row.passed += t.passed;
        row.failed += t.failed;
        row.errored += t.errored;
        row.skipped += t.skipped;
        let undispositioned = r.data.undispositioned().len() as u64;
        let deviations = r
            .record
            .dispositions
            .iter()
            .filter(|d| d.kind == "deviation")
            .count() as u64;
        row.open_deviations += undispositioned + deviations;
    }
    Section::PhaseSummary {
        title: "Summary per phase".into(),
        rows: by_phase.into_values().collect(),
    }
}

fn runs_table(runs: &[RunPart]) -> Section {
    let rows = runs
        .iter()
        .map(|r| {
            let t = r.view.run.totals;
            vec![
                one(&r.view.summary.id),
                r.view.summary.status.as_str().to_owned(),
                one(r.data.executed_at.as_deref().unwrap_or("not recorded")),
                one(r
                    .data
                    .executor_name
                    .as_deref()
                    .or(r.data.executor_arn.as_deref())
                    .unwrap_or("not recorded")),
                format!(
                    "{} cases: {} passed, {} failed, {} errored, {} skipped",
                    t.tests, t.passed, t.failed, t.errored, t.skipped
                ),
                r.record_sha256.to_hex(),
            ]
        })
        .collect();
    table(
        "Runs",
        &[
            ("Run", 4),
            ("Status", 2),
            ("Executed", 3),
            ("Executor", 3),
            ("Cases", 4),
            ("Run record SHA-256", 5),
        ],
        rows,
    )
}

/// Every problem of every run (a file that could not be read, counts a report declares but
/// does not hold, a rejected or changed file): a run with problems is never a clean pass, and
/// the reader of the package sees why.
fn problems(runs: &[RunPart]) -> Section {
    let mut rows: Vec<Vec<String>> = runs
        .iter()
        .flat_map(|r| {
            r.view.run.problems.iter().map(|p| {
                vec![
                    one(&r.view.summary.id),
                    if p.path.is_empty() {
                        "(run)".to_owned()
                    } else {
                        one(&p.path)
                    },
                    block(&p.message),
                ]
            })
        })
        .collect();
    if rows.is_empty() {
        rows.push(vec![
            "—".into(),
            "No problems: every file of these runs was read and agrees with itself".into(),
            String::new(),
        ]);
    }
    table("Problems", &[("Run", 3), ("File", 4), ("Problem", 9)], rows)
}

fn traceability(runs: &[RunPart]) -> Section {
    let mut rows = Vec::new();
    for r in runs {
        let t = &r.view.run.traceability;
        for req in &t.requirements {
            let cases = if req.cases.is_empty() {
                "none".to_owned()
            } else {
                req.cases
                    .iter()
                    .map(|c| format!("{} ({})", one(&c.case_id), c.status.as_str()))
                    .collect::<Vec<_>>()
                    .join("\n")
            };
            let result = match req.status {
                Some(s) => s.as_str().to_owned(),
                None => "NOT COVERED".to_owned(),
            };
            let title = match &req.title {
                Some(title) => format!("{} — {}", one(&req.id), one(title)),
                None => one(&req.id),
            };
            rows.push(vec![
                one(&r.view.summary.id),
                title,
                cases,
                result,
                if req.evidence.is_empty() {
                    "none".into()
                } else {
                    req.evidence
                        .iter()
                        .map(|e| one(e))
                        .collect::<Vec<_>>()
                        .join("\n")
                },
            ]);
        }
        for case in &t.untraced_cases {
            rows.push(vec![
                one(&r.view.summary.id),
                "(no requirement)".into(),
                one(case),
                String::new(),
                String::new(),
            ]);
        }
    }
    if rows.is_empty() {
        rows.push(vec![
            "—".into(),
            "No requirement ids in these runs".into(),
            String::new(),
            String::new(),
            String::new(),
        ]);
    }
    table(
        "Traceability matrix",
        &[
            ("Run", 3),
            ("Requirement", 4),
            ("Cases", 5),
            ("Result", 2),
            ("Evidence", 4),
        ],
        rows,
    )
}

fn disposition_text(r: &RunPart, case_id: &str) -> String {
    match r.record.dispositions.iter().find(|d| d.case_id == case_id) {
        Some(d) => format!(
            "{} {}: {} ({}, {})",
            one(&d.kind),
            one(&d.reference),
            block(&d.reason),
            one(d.by_arn.as_deref().unwrap_or("no identity")),
            one(&d.at)
        ),
        None => "NO DISPOSITION".into(),
    }
}

fn clip(text: &str) -> String {
    if text.chars().count() <= MAX_DETAIL_CHARS {
        return text.to_owned();
    }
    let cut: String = text.chars().take(MAX_DETAIL_CHARS).collect();
    format!("{cut}… (cut here; the full text is in the run data attachment)")
}

fn results(runs: &[RunPart]) -> Section {
    let mut rows = Vec::new();
    for r in runs {
        for c in &r.view.run.cases {
            let detail = if c.status.needs_disposition() {
                let mut text = c.message.clone().unwrap_or_default();
                if let Some(d) = &c.detail {
                    if !text.is_empty() {
                        text.push('\n');
                    }
                    text.push_str(d);
                }
                format!(
                    "{}\nDisposition: {}",
                    block(&clip(&text)),
                    disposition_text(r, &c.id)
                )
            } else if c.status == CaseStatus::Skipped {
                block(c.message.as_deref().unwrap_or_default())
            } else {
                String::new()
            };
            rows.push(vec![
                one(&r.view.summary.id),
                one(&c.id),
                c.status.as_str().to_owned(),
                detail,
            ]);
        }
    }
    table(
        "Test results",
        &[
            ("Run", 3),
            ("Case", 6),
            ("Result", 2),
            ("Message and disposition", 8),
        ],
        rows,
    )
}

fn deviations(runs: &[RunPart]) -> Section {
    let mut rows = Vec::new();
    for r in runs {
        for c in r
            .view
            .run
            .cases
            .iter()
            .filter(|c| c.status.needs_disposition())
        {
            let d = r.record.dispositions.iter().find(|d| d.case_id == c.id);
            rows.push(vec![
                one(&r.view.summary.id),
                one(&c.id),
                c.status.as_str().to_owned(),
                d.map(|d| one(&d.kind)).unwrap_or_else(|| "NONE".into()),
                d.map(|d| one(&d.reference)).unwrap_or_default(),
                d.map(|d| block(&d.reason)).unwrap_or_default(),
                d.map(|d| {
                    format!(
                        "{}\n{}",
                        one(d.by_arn.as_deref().unwrap_or("no identity")),
                        one(&d.at)
                    )
                })
                .unwrap_or_default(),
            ]);
        }
    }
    if rows.is_empty() {
        rows.push(vec![
            "—".into(),
            "No failed or errored cases".into(),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
        ]);
    }
    table(
        "Deviations and dispositions",
        &[
            ("Run", 3),
            ("Case", 5),
            ("Result", 2),
            ("Disposition", 2),
            ("Reference", 2),
            ("Reason", 4),
            ("By, at", 4),
        ],
        rows,
    )
}

fn integrity_text(i: &Integrity) -> String {
    match i {
        Integrity::Verified => "verified".into(),
        Integrity::Recorded => "recorded".into(),
        Integrity::Changed { actual } => format!("CHANGED (now {actual})"),
        Integrity::Missing => "MISSING".into(),
        Integrity::Rejected { reason } => format!("REJECTED: {}", block(reason)),
    }
}

fn evidence(runs: &[RunPart]) -> Section {
    let mut rows = Vec::new();
    for r in runs {
        for f in &r.view.run.files {
            let uri = match &f.origin.version_id {
                Some(v) => format!("{}\nversion {}", one(&f.origin.uri), one(v)),
                None => one(&f.origin.uri),
            };
            rows.push(vec![
                one(&r.view.summary.id),
                one(&f.path),
                uri,
                f.sha256.map(|s| s.to_hex()).unwrap_or_default(),
                f.size.to_string(),
                integrity_text(&f.integrity),
            ]);
        }
    }
    table(
        "Evidence index",
        &[
            ("Run", 3),
            ("File", 4),
            ("Source (S3 URI, version)", 5),
            ("SHA-256", 5),
            ("Bytes", 2),
            ("Integrity", 2),
        ],
        rows,
    )
}

fn stack_snapshots(snapshots: &[(String, StackSnapshot)]) -> Section {
    let mut rows = Vec::new();
    for (path, s) in snapshots {
        let name = one(&s.stack_name);
        // Every value here comes from CloudFormation, where the stack's owner wrote it.
        let mut row = |field: &str, value: String| {
            rows.push(vec![name.clone(), one(field), one(&value)]);
        };
        row(
            "Snapshot",
            format!("taken {} in {} ({path})", s.taken_at, s.region),
        );
        row("Status", s.status.clone());
        row("Template SHA-256", s.template.sha256.to_hex());
        row("Drift", drift_text(&s.drift));
        for (k, v) in &s.parameters {
            row(&format!("Parameter {k}"), v.clone());
        }
        for o in &s.outputs {
            row(
                &format!("Output {}", o.key),
                o.value.clone().unwrap_or_default(),
            );
        }
        row("Resources", s.resources.len().to_string());
    }
    if rows.is_empty() {
        rows.push(vec![
            "—".into(),
            "No stack snapshot".into(),
            "none of these runs names a CloudFormation stack that was snapshotted".into(),
        ]);
    }
    table(
        "CloudFormation stack snapshot",
        &[("Stack", 3), ("Field", 3), ("Value", 8)],
        rows,
    )
}

fn drift_text(d: &countersign_core::stack_snapshot::DriftState) -> String {
    use countersign_core::stack_snapshot::DriftState;
    match d {
        DriftState::NotChecked { reason } => format!("{}: {reason}", d.label()),
        DriftState::Drifted { resources } => {
            let ids: Vec<&str> = resources.iter().map(|r| r.logical_id.as_str()).collect();
            format!("{}: {}", d.label(), ids.join(", "))
        }
        DriftState::InSync => d.label(),
    }
}

fn audit_evidence(audit: &[(String, AuditEvidenceReport)], note: Option<&str>) -> Section {
    let mut rows = Vec::new();
    for (stack, r) in audit {
        let stack = one(stack);
        rows.push(vec![
            stack.clone(),
            "CloudTrail digest chain".into(),
            if r.valid {
                format!(
                    "VALID ({} digest files, {} log files)",
                    r.digest_files, r.log_files
                )
            } else if r.public_keys.is_empty() {
                format!(
                    "NOT VALIDATED: no trail public key was given ({} digest files, {} log files)",
                    r.digest_files, r.log_files
                )
            } else {
                format!(
                    "NOT VALID: {} finding(s) ({} digest files, {} log files)",
                    r.chain.findings().len(),
                    r.digest_files,
                    r.log_files
                )
            },
        ]);
        rows.push(vec![
            stack.clone(),
            "Events naming the stack".into(),
            format!("{} of {} events", r.events.len(), r.events_total),
        ]);
        for e in &r.events {
            rows.push(vec![
                stack.clone(),
                e.time
                    .format(&time::format_description::well_known::Rfc3339)
                    .unwrap_or_default(),
                format!(
                    "{} {} by {}",
                    one(&e.event_source),
                    one(&e.event_name),
                    one(e.principal_arn.as_deref().unwrap_or("an AWS service"))
                ),
            ]);
        }
        rows.push(vec![
            stack.clone(),
            "AWS Config items".into(),
            r.config_items.len().to_string(),
        ]);
    }
    if let Some(note) = note {
        rows.push(vec!["—".into(), "Note".into(), block(note)]);
    }
    if rows.is_empty() {
        rows.push(vec![
            "—".into(),
            "No audit evidence".into(),
            "no stack to report on".into(),
        ]);
    }
    table(
        "Audit evidence (CloudTrail and AWS Config)",
        &[("Stack", 3), ("Item", 4), ("Result", 8)],
        rows,
    )
}

fn audit_trail(events: &[EventRecord]) -> Section {
    let rows = events
        .iter()
        .map(|e| {
            let ev = &e.event;
            let actor = match (&ev.actor.printed_name, &ev.actor.arn) {
                (Some(n), Some(a)) => format!("{}\n{}", one(n), one(a)),
                (Some(n), None) => one(n),
                (None, Some(a)) => one(a),
                (None, None) => "system".into(),
            };
            let what = ev
                .reason
                .clone()
                .or_else(|| ev.after.clone())
                .unwrap_or_default();
            vec![
                ev.seq.to_string(),
                format!("{} (UTC{})", one(&ev.time_utc), one(&ev.utc_offset)),
                actor,
                one(&ev.action),
                format!("{} {}", one(&ev.object_kind), one(&ev.object_id)),
                block(&clip(&what)),
            ]
        })
        .collect();
    table(
        "Audit trail excerpt",
        &[
            ("Seq", 1),
            ("Time", 3),
            ("Actor", 4),
            ("Action", 3),
            ("Object", 4),
            ("Reason or value", 5),
        ],
        rows,
    )
}

/// `run_data_signed`: every run record binds its run data (version 2), so the results tables
/// are covered by the signatures; the sentence says exactly what `verify` then proves.
fn how_to_verify(m: &PackageManifest, sha: &str, run_data_signed: bool) -> String {
    let covers = if run_data_signed {
        "What the signatures cover: each run's record: its evidence digests, its dispositions and the results tables as the signers were shown them (runs/…/results.json, whose SHA-256 the record names). The pages of this PDF and the manifest are checked against them, but no signature covers the pages themselves"
    } else {
        "What the signatures cover: each run's record (its evidence digests and dispositions). The pages of this PDF, its results tables and the manifest are checked against each other, but no signature covers them"
    };
    format!(
        "This package is {id}. Its manifest (attachment manifest.json, RFC 8785 canonical JSON) has SHA-256 {sha}; the PDF's trailer /ID is its first 16 bytes.\n\
\n\
Offline, with Countersign: countersign verify THIS.pdf --trusted-keys KEYS. Add the bundle (folder or .zip) to check the original evidence files too. Exit code 0 means every check passed; 1 names the first failed check.\n\
\n\
{covers}; without a trusted-keys list, the signers' keys are the ones this package carries.\n\
\n\
Without Countersign: extract the attachments (e.g. pdfdetach -saveall). Check that manifest.json is canonical and that its SHA-256 is the one above; check the size and SHA-256 of every file it lists; check each signature (signatures/…/NNN.dsse.json) as a DSSE envelope with Ed25519 over the pre-authentication encoding, using the public key in keys/<key-id>.json, against the run record it names (runs/…/record.json), and that a record of version 2 names the SHA-256 of its results file; a run that was re-opened also carries its earlier signatures, each up to the last re-open checked against the record digest its own statement names, and each naming every earlier one in `follows`. The byte formats are in docs/package-format.md and docs/signature-format.md of the Countersign source.\n\
\n\
The manifest lists {files} files for {runs} run(s). Original evidence files are listed with their digests and travel in the bundle, not inside this PDF.",
        id = one(&m.package_id),
        files = m.files.len(),
        runs = m.runs.len(),
    )
}
