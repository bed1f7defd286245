//! Human and JSON output. JSON goes to stdout as one document; human text to stdout; progress
//! and errors to stderr.

use std::io::Write;
use std::path::Path;
use std::time::Duration;

use countersign_core::display::{is_unsafe, Shown};
use countersign_core::model::{FileRole, Integrity, RunFile};
use countersign_core::stack_snapshot::{DriftState, StackSnapshotRef};
use countersign_service::{
    ErrorCode, FetchProgress, FetchReport, ImportReport, RunSummary, RunView, SeedReport,
    ServiceError, StateCheck, TrailPublication,
};
use serde::Serialize;

pub(crate) fn print_json<T: Serialize>(value: &T) -> Result<(), ServiceError> {
    let text = serde_json::to_string_pretty(value).map_err(|e| {
        ServiceError::new(
            ErrorCode::Storage,
            format!("could not encode JSON output: {e}"),
        )
    })?;
    outln!("{}", json_safe(&text));
    Ok(())
}

/// JSON with every character that changes how a terminal draws text (DEL, C1 controls, bidi
/// overrides, zero-width characters: serde_json escapes only C0) written as a `\uXXXX` escape.
/// Outside strings, pretty JSON holds only spaces and line breaks, so the document means exactly
/// what it meant before.
pub(crate) fn json_safe(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.chars().any(|c| c != '\n' && is_unsafe(c)) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        if c != '\n' && is_unsafe(c) {
            // Every unsafe character is in the Basic Multilingual Plane: one UTF-16 unit.
            out.push_str(&format!("\\u{:04x}", u32::from(c)));
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

pub fn seed(r: &SeedReport, json: bool) -> Result<(), ServiceError> {
    if json {
        return print_json(r);
    }
    outln!(
        "seeded s3://{}/{}: {} objects ({}), stacks: {}",
        Shown(&r.bucket),
        Shown(&r.prefix),
        r.objects,
        bytes(r.bytes),
        Shown(&r.stacks.join(", "))
    );
    outln!(
        "CloudTrail digest public key: s3://{}/{}",
        Shown(&r.bucket),
        Shown(&r.cloudtrail_public_key)
    );
    Ok(())
}

pub fn progress_line(p: &FetchProgress, elapsed: Duration) {
    let rate = p.bytes as f64 / elapsed.as_secs_f64().max(0.001);
    let mut err = std::io::stderr().lock();
    let _ = write!(
        err,
        "\r\x1b[2Klisted {}  downloaded {}/{}  {}  {}/s  unchanged {}  rejected {}  failed {}",
        p.listed,
        p.done,
        p.total,
        bytes(p.bytes),
        bytes(rate as u64),
        p.unchanged,
        p.rejected,
        p.failed
    );
    let _ = err.flush();
}

pub fn fetch(r: &FetchReport, elapsed: Duration, json: bool) -> Result<(), ServiceError> {
    if json {
        return print_json(r);
    }
    outln!(
        "s3://{}/{}: listed {}, new {}, unchanged {}, rejected {}, skipped {}, failed {} ({} in {:.1}s)",
        Shown(&r.bucket),
        Shown(&r.prefix),
        r.listed,
        r.new,
        r.unchanged,
        r.rejected.len(),
        r.skipped.len(),
        r.failed.len(),
        bytes(r.bytes),
        elapsed.as_secs_f64()
    );
    if let Some(id) = &r.identity {
        outln!("fetched as {}", Shown(id));
    }
    if r.unchanged_by_size_and_time > 0 {
        outln!(
            "{} unchanged object(s) recognised by size and LastModified only: the listing carries no ETags (an object rewritten within the same second at the same size would not be fetched again)",
            r.unchanged_by_size_and_time
        );
    }
    for x in &r.rejected {
        outln!("REJECTED {}: {}", Shown(&x.uri), Shown(&x.reason));
    }
    for x in &r.skipped {
        outln!("skipped  {}: {}", Shown(&x.key), Shown(&x.reason));
    }
    for x in &r.failed {
        outln!("FAILED   {}: {}", Shown(&x.uri), Shown(&x.error));
    }
    for x in &r.snapshots {
        match (&x.snapshot, &x.error) {
            (Some(s), _) => outln!(
                "snapshot {} ({}): {} {}, {} for {}",
                Shown(&x.stack),
                Shown(&x.region),
                Shown(s.status.as_deref().unwrap_or("?")),
                s.sha256,
                Shown(&drift_label(s)),
                Shown(&x.runs.join(", "))
            ),
            (None, e) => outln!(
                "SNAPSHOT FAILED {} ({}) for {}: {}",
                Shown(&x.stack),
                Shown(&x.region),
                Shown(&x.runs.join(", ")),
                Shown(e.as_deref().unwrap_or("unknown error"))
            ),
        }
    }
    Ok(())
}

pub fn import(r: &ImportReport, json: bool) -> Result<(), ServiceError> {
    if json {
        return print_json(r);
    }
    outln!(
        "{}: listed {}, new {}, unchanged {}, rejected {}, skipped {} ({})",
        Shown(&r.source),
        r.listed,
        r.new,
        r.unchanged,
        r.rejected.len(),
        r.skipped.len(),
        bytes(r.bytes)
    );
    for x in &r.rejected {
        outln!("REJECTED {}: {}", Shown(&x.uri), Shown(&x.reason));
    }
    for x in &r.skipped {
        outln!("skipped  {}: {}", Shown(&x.key), Shown(&x.reason));
    }
    Ok(())
}

fn drift_label(s: &StackSnapshotRef) -> String {
    match &s.drift {
        Some(DriftState::NotChecked { reason }) => format!("drift not checked ({reason})"),
        Some(d) => d.label(),
        None => "drift unknown (snapshot not verified)".to_owned(),
    }
}

pub fn runs(list: &[RunSummary], json: bool) -> Result<(), ServiceError> {
    if json {
        return print_json(&list);
    }
    if list.is_empty() {
        outln!("no runs in the store; fetch or import first");
        return Ok(());
    }
    outln!(
        "{:<34} {:<6} {:<5} {:<10} {:<10} {:>5} {:>6} {:>6} {:>7} {:>7}  EXECUTED",
        "RUN",
        "SYSTEM",
        "PHASE",
        "STATUS",
        "STATE",
        "TESTS",
        "PASSED",
        "FAILED",
        "ERRORED",
        "SKIPPED"
    );
    for r in list {
        outln!(
            "{:<34} {:<6} {:<5} {:<10} {:<10} {:>5} {:>6} {:>6} {:>7} {:>7}  {}{}",
            Shown(&r.id),
            Shown(&r.key.system),
            r.key.phase.as_str(),
            r.status.as_str(),
            state_words(r),
            r.totals.tests,
            r.totals.passed,
            r.totals.failed,
            r.totals.errored,
            r.totals.skipped,
            Shown(r.executed_at.as_deref().unwrap_or("-")),
            if r.new_since_sync { "  NEW" } else { "" }
        );
    }
    if list.iter().any(|r| r.new_since_sync) {
        outln!("NEW: files of the run came with the last sync");
    }
    if list.iter().any(|r| r.state_check.is_not_verified()) {
        outln!("* as recorded: the signatures behind this state do not verify now; `countersign show RUN` says why");
    }
    Ok(())
}

/// A run's state, marked `*` when the signatures it rests on do not verify now.
fn state_words(r: &RunSummary) -> String {
    let mark = if r.state_check.is_not_verified() {
        "*"
    } else {
        ""
    };
    format!("{}{mark}", r.state.words())
}

/// `countersign todo`: what is waiting for the person, most urgent first.
pub fn todo(t: &countersign_service::Todo, json: bool) -> Result<(), ServiceError> {
    if json {
        return print_json(t);
    }
    outln!(
        "Waiting for {} ({}) under policy v{}",
        Shown(&t.printed_name),
        Shown(&t.iam_arn),
        t.policy_version
    );
    if t.items.is_empty() {
        outln!("  nothing: no run is waiting for you");
    }
    for i in &t.items {
        let cases = if i.undispositioned > 0 {
            format!(" ({} without a disposition)", i.undispositioned)
        } else {
            String::new()
        };
        outln!(
            "  {:<34} {:<10} {}{}{}",
            Shown(&i.run),
            i.state.words(),
            i.kind.words(),
            cases,
            if i.new_since_sync {
                " [new since the last sync]"
            } else {
                ""
            }
        );
        for n in &i.notes {
            outln!("      note: {}", Shown(n));
        }
    }
    if !t.counts.is_empty() {
        outln!();
        outln!(
            "{:<10} {:<5} {:>8} {:>12} {:>7} {:>8}",
            "SYSTEM",
            "PHASE",
            "REOPEN",
            "DISPOSITION",
            "REVIEW",
            "APPROVAL"
        );
        for c in &t.counts {
            outln!(
                "{:<10} {:<5} {:>8} {:>12} {:>7} {:>8}",
                Shown(&c.system),
                Shown(&c.phase),
                c.no_longer_verifies,
                c.needs_disposition,
                c.ready_for_review,
                c.ready_for_approval
            );
        }
    }
    if !t.warnings.is_empty() {
        outln!();
        for w in &t.warnings {
            outln!("warning: {}: {}", Shown(&w.run), Shown(&w.message));
        }
    }
    Ok(())
}

/// `show --json`: the run view with its signatures, each verified against the record as it
/// stands now (`signatures` is null and `signatures_error` says why when they could not be).
pub fn show_with_signatures(
    v: &RunView,
    sigs: &Result<Vec<countersign_service::SignatureView>, ServiceError>,
) -> Result<(), ServiceError> {
    #[derive(Serialize)]
    struct ShowJson<'a> {
        #[serde(flatten)]
        view: &'a RunView,
        signatures: Option<&'a [countersign_service::SignatureView]>,
        signatures_error: Option<&'a str>,
    }
    print_json(&ShowJson {
        view: v,
        signatures: sigs.as_ref().ok().map(Vec::as_slice),
        signatures_error: sigs.as_ref().err().map(|e| e.message.as_str()),
    })
}

pub fn show(v: &RunView, json: bool) -> Result<(), ServiceError> {
    if json {
        return print_json(v);
    }
    let s = &v.summary;
    let run = &v.run;
    outln!("Run        {}", Shown(&s.id));
    outln!("Status     {}", s.status.as_str());
    match &s.state_act {
        Some(a) => outln!(
            "State      {} ({} by {}, {}); next: {}",
            s.state.words(),
            a.meaning,
            Shown(&a.printed_name),
            Shown(&a.at),
            s.state.next_step()
        ),
        None => outln!(
            "State      {}; next: {}",
            s.state.words(),
            s.state.next_step()
        ),
    }
    match &s.state_check {
        StateCheck::Unsigned => {}
        StateCheck::Verified => {
            outln!("           its signatures verify against the run as it stands now")
        }
        StateCheck::NotVerified { detail } => outln!(
            "           AS RECORDED ONLY: {}; a correction needs a signed re-open",
            Shown(detail)
        ),
    }
    if let Some(p) = &s.protocol {
        outln!("Protocol   {}", Shown(p));
    }
    if let Some(st) = &s.stack {
        outln!("Stack      {}", Shown(st));
    }
    for m in v.missing_facts() {
        outln!("Warning    {}", Shown(&m));
    }
    if let Some(snap) = &v.stack_snapshot {
        outln!(
            "Snapshot   {} ({}) taken {}: {}, {}",
            Shown(&snap.stack_name),
            Shown(&snap.region),
            Shown(&snap.taken_at),
            Shown(snap.status.as_deref().unwrap_or("?")),
            Shown(&drift_label(snap))
        );
        outln!(
            "           {} sha256 {}{}",
            Shown(&snap.uri),
            snap.sha256,
            snap.template_sha256
                .map(|t| format!(", template sha256 {t}"))
                .unwrap_or_default()
        );
        if !matches!(snap.integrity, Integrity::Verified) {
            outln!(
                "           SNAPSHOT NOT VERIFIED: {}",
                Shown(&format!("{:?}", snap.integrity))
            );
        }
    }
    if let Some(t) = &s.executed_at {
        outln!("Executed   {}", Shown(t));
    }
    if let Some(ex) = run.manifest.as_ref().and_then(|m| m.executor.as_ref()) {
        outln!(
            "Executor   {}",
            Shown(&serde_json::to_string(ex).unwrap_or_default())
        );
    }
    let t = &s.totals;
    outln!(
        "Totals     {} tests: {} passed, {} failed, {} errored, {} skipped",
        t.tests,
        t.passed,
        t.failed,
        t.errored,
        t.skipped
    );
    outln!();
    outln!("Cases (failures first)");
    for c in &run.cases {
        let reqs = if c.requirements.is_empty() {
            String::new()
        } else {
            format!(" [{}]", c.requirements.join(", "))
        };
        outln!(
            "  {:<8} {}{}",
            c.status.as_str().to_uppercase(),
            Shown(&c.id),
            Shown(&reqs)
        );
        if c.status.needs_disposition() {
            if let Some(m) = &c.message {
                for line in m.split('\n').take(3) {
                    outln!("           {}", Shown(line));
                }
            }
        }
    }
    let uncovered = &run.traceability.uncovered;
    if !uncovered.is_empty() {
        outln!();
        outln!(
            "Requirements without a covering case: {}",
            Shown(&uncovered.join(", "))
        );
    }
    outln!();
    outln!("Files");
    for f in &run.files {
        outln!(
            "  {:<10} {:<16} {}  {}",
            integrity(f),
            role(f),
            digest(f),
            Shown(&f.path)
        );
        outln!(
            "             {}{}",
            Shown(&f.origin.uri),
            Shown(
                &f.origin
                    .version_id
                    .as_deref()
                    .map(|v| format!(" (version {v})"))
                    .unwrap_or_default()
            )
        );
    }
    if !run.problems.is_empty() {
        outln!();
        outln!("Problems");
        for p in &run.problems {
            let path = if p.path.is_empty() {
                "(run)"
            } else {
                p.path.as_str()
            };
            outln!("  {}: {}", Shown(path), Shown(&p.message));
        }
    }
    Ok(())
}

pub fn audit_evidence(
    r: &countersign_service::AuditEvidenceReport,
    json: bool,
) -> Result<(), ServiceError> {
    if json {
        return print_json(r);
    }
    let c = &r.chain;
    outln!(
        "CloudTrail digest chain: {}  ({} digest files, {} log files, {} Config files)",
        if r.valid { "VALID" } else { "NOT VALID" },
        r.digest_files,
        r.log_files,
        r.config_files
    );
    if r.public_keys.is_empty() {
        outln!("  public key: none supplied (--public-key FILE); signatures not checked");
    } else {
        outln!(
            "  public key fingerprints: {}",
            Shown(&r.public_keys.join(", "))
        );
    }
    let findings = c.findings();
    let shown = 50;
    for (key, f) in findings.iter().take(shown) {
        outln!("  {}\n    {}", Shown(key), Shown(&f.to_string()));
    }
    if findings.len() > shown {
        outln!("  … and {} more (see --json)", findings.len() - shown);
    }
    for u in &c.not_covered {
        outln!(
            "  not covered by any digest: s3://{}/{}",
            Shown(&u.bucket),
            Shown(&u.key)
        );
    }
    for p in &r.problems {
        outln!("  cannot use {}: {}", Shown(&p.uri), Shown(&p.message));
    }
    if let Some(s) = &r.stack {
        outln!(
            "\nstack {}{}{}",
            Shown(&s.name),
            Shown(
                &s.arn
                    .as_deref()
                    .map(|a| format!(" ({a})"))
                    .unwrap_or_default()
            ),
            Shown(
                &s.created_at
                    .as_deref()
                    .map(|t| format!(", created {t}"))
                    .unwrap_or_default()
            )
        );
    }
    outln!(
        "\nCloudTrail events: {} of {}",
        r.events.len(),
        r.events_total
    );
    for e in &r.events {
        let t = e.time;
        let time = format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
            t.year(),
            u8::from(t.month()),
            t.day(),
            t.hour(),
            t.minute(),
            t.second()
        );
        let who = e
            .principal_arn
            .as_deref()
            .or(e.invoked_by.as_deref())
            .unwrap_or("-");
        let error = e
            .error_code
            .as_deref()
            .map(|c| format!("  ERROR {c}"))
            .unwrap_or_default();
        outln!(
            "  {time}  {} {}  {}  {}{}",
            Shown(&e.event_source),
            Shown(&e.event_name),
            Shown(who),
            Shown(e.source_ip.as_deref().unwrap_or("-")),
            Shown(&error)
        );
    }
    outln!("\nAWS Config items: {}", r.config_items.len());
    for i in &r.config_items {
        outln!(
            "  {}  {}  {}  {}",
            Shown(&i.resource_type),
            Shown(i.resource_name.as_deref().unwrap_or(&i.resource_id)),
            Shown(i.status.as_deref().unwrap_or("-")),
            Shown(i.capture_time.as_deref().unwrap_or("-"))
        );
    }
    Ok(())
}

/// Why `audit-evidence` exits 1.
pub fn audit_evidence_verdict(r: &countersign_service::AuditEvidenceReport) -> String {
    if r.digest_files == 0 {
        return "no CloudTrail digest files in the store: fetch or import the trail's \
                AWSLogs/<account>/CloudTrail-Digest/ objects"
            .to_owned();
    }
    if r.public_keys.is_empty() {
        return "the CloudTrail digest chain was not validated: pass --public-key FILE".to_owned();
    }
    format!(
        "the CloudTrail digest chain does not validate: {} finding(s), {} stored file(s) unusable",
        r.chain.findings().len(),
        r.problems.len()
    )
}

pub fn ledger_verify(r: &countersign_service::ChainReport, json: bool) -> Result<(), ServiceError> {
    if json {
        print_json(r)?;
    } else if let Some(p) = &r.problem {
        outln!("ledger does NOT verify: {}", Shown(&p.to_string()));
    } else {
        let head = r
            .head
            .as_ref()
            .map(|(seq, h)| format!("head #{seq} {h}"))
            .unwrap_or_else(|| "empty".into());
        outln!(
            "ledger verifies: {} events, {head}, {} checkpoint(s) agree",
            r.events,
            r.checkpoints_checked
        );
    }
    ledger_verify_verdict(r)
}

/// `ledger verify --evidence`: the chain's verdict, then the stored objects'. With `--json`,
/// one document holding both.
pub fn ledger_verify_with_evidence(
    r: &countersign_service::ChainReport,
    e: &countersign_service::EvidenceCheck,
    json: bool,
) -> Result<(), ServiceError> {
    if json {
        print_json(&serde_json::json!({ "chain": r, "evidence": e }))?;
        let chain = ledger_verify_verdict(r);
        return chain.and(evidence_verdict(e));
    }
    let chain = ledger_verify(r, false);
    chain.and(evidence_check(e, false))
}

/// The stored objects re-hashed: how many, and each one that failed.
pub fn evidence_check(
    e: &countersign_service::EvidenceCheck,
    json: bool,
) -> Result<(), ServiceError> {
    if json {
        print_json(e)?;
    } else if e.problems.is_empty() {
        outln!(
            "evidence verifies: {} stored objects ({}) re-hashed, every one matches its digest",
            e.objects,
            bytes(e.bytes)
        );
    } else {
        outln!(
            "evidence does NOT verify: {} of {} stored objects failed their re-check",
            e.problems.len(),
            e.objects
        );
        for p in &e.problems {
            outln!("  {} ({}): {}", p.sha256, p.uri, p.detail);
        }
    }
    evidence_verdict(e)
}

fn ledger_verify_verdict(r: &countersign_service::ChainReport) -> Result<(), ServiceError> {
    match &r.problem {
        Some(p) => Err(ServiceError::integrity(format!(
            "the audit trail does not verify: {p}"
        ))),
        None => Ok(()),
    }
}

fn evidence_verdict(e: &countersign_service::EvidenceCheck) -> Result<(), ServiceError> {
    if e.problems.is_empty() {
        Ok(())
    } else {
        Err(ServiceError::integrity(format!(
            "{} stored object(s) changed or missing; restore the store from a backup or fetch/import the runs again",
            e.problems.len()
        )))
    }
}

pub fn ledger_export(n: u64, out: &Path, json: bool) -> Result<(), ServiceError> {
    if json {
        return print_json(&serde_json::json!({"events": n, "out": out}));
    }
    outln!(
        "exported {n} events to {}",
        Shown(&out.display().to_string())
    );
    Ok(())
}

/// `ledger publish`: what was written, or that nothing new was there.
pub fn trail_publication(p: &TrailPublication, json: bool) -> Result<(), ServiceError> {
    if json {
        return print_json(p);
    }
    match p.range {
        None => outln!(
            "Nothing new to publish: {} holds this ledger's entries up to {}{}",
            Shown(&p.location),
            p.previously_published,
            if p.held_back > 0 {
                format!(
                    " ({} entry recording publications waits for the next entries)",
                    p.held_back
                )
            } else {
                String::new()
            }
        ),
        Some((first, last)) => {
            outln!(
                "Published entries {first} to {last} ({} entries) to {}",
                p.entries,
                Shown(&p.location)
            );
            for o in &p.objects {
                outln!(
                    "  {} ({} to {}), {} until {}",
                    Shown(&o.uri),
                    o.first,
                    o.last,
                    Shown(&o.mode),
                    Shown(&o.retain_until)
                );
            }
        }
    }
    for o in &p.state {
        outln!(
            "Published the qualified state of {}: {} ({} lines) to {}, {} until {}",
            Shown(&o.system),
            Shown(&o.verdict),
            o.lines,
            Shown(&o.uri),
            Shown(&o.mode),
            Shown(&o.retain_until)
        );
    }
    if !p.state_not_qualified.is_empty() {
        outln!(
            "No qualified state published for (no approved baseline): {}",
            Shown(&p.state_not_qualified.join(", "))
        );
    }
    Ok(())
}

fn integrity(f: &RunFile) -> &'static str {
    match f.integrity {
        Integrity::Verified => "verified",
        Integrity::Recorded => "recorded",
        Integrity::Changed { .. } => "CHANGED",
        Integrity::Missing => "MISSING",
        Integrity::Rejected { .. } => "REJECTED",
    }
}

fn role(f: &RunFile) -> &'static str {
    match f.role {
        FileRole::JunitResult => "junit result",
        FileRole::CucumberResult => "cucumber result",
        FileRole::Manifest => "run manifest",
        FileRole::Evidence => "evidence",
    }
}

fn digest(f: &RunFile) -> String {
    f.sha256
        .map(|d| d.to_hex()[..16].to_owned())
        .unwrap_or_else(|| "-".repeat(16))
}

fn bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = n as f64;
    let mut u = 0;
    while v >= 1024.0 && u < UNITS.len() - 1 {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}

/// `show RUN --file PATH`: the stored file, re-verified. Its bytes go to standard output as they
/// are when it is a pipe or a file; on a terminal, control characters other than line breaks
/// and tabs are shown escaped (`\u{1b}`), so a file cannot drive the terminal.
pub fn file(f: &countersign_service::FileContent, json: bool) -> Result<(), ServiceError> {
    use countersign_core::model::Integrity;
    use std::io::{IsTerminal, Write};
    if json {
        print_json(f)?;
    } else {
        eprintln!(
            "{} ({}, sha256 {}, {} bytes)",
            f.path,
            f.uri,
            f.sha256
                .map(|s| s.to_hex())
                .unwrap_or_else(|| "unknown".into()),
            f.size
        );
        match (&f.text, &f.base64) {
            (Some(text), _) => {
                let mut out = std::io::stdout().lock();
                let shown = if std::io::stdout().is_terminal() {
                    text.chars()
                        .map(|c| match c {
                            '\n' | '\t' => c.to_string(),
                            c if c.is_control() => c.escape_unicode().to_string(),
                            c => c.to_string(),
                        })
                        .collect()
                } else {
                    text.clone()
                };
                if let Err(e) = out.write_all(shown.as_bytes()).and_then(|()| out.flush()) {
                    if e.kind() != std::io::ErrorKind::BrokenPipe {
                        return Err(ServiceError::storage(format!(
                            "could not write to standard output: {e}"
                        )));
                    }
                }
            }
            (None, Some(_)) => eprintln!(
                "{} is an image ({}); use --json to get its bytes in base64",
                f.path, f.media_type
            ),
            (None, None) => {}
        }
    }
    let why = match &f.integrity {
        Integrity::Verified | Integrity::Recorded => return Ok(()),
        Integrity::Changed { actual } => format!("its stored bytes now hash to {actual}"),
        Integrity::Missing => "it is missing from the store".to_owned(),
        Integrity::Rejected { reason } => format!("it was refused at intake: {reason}"),
    };
    Err(ServiceError::integrity(format!(
        "{} does not verify against its recorded digest: {why}; fetch or import the run again",
        f.path
    )))
}
