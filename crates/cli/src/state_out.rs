//! `countersign state`: each system's verdict, and the list behind it. Every string that came
//! from evidence (names, ARNs, calls, values) is printed through `Shown`.

use countersign_core::display::Shown;
use countersign_core::qualified_state::evaluate::human_time;
use countersign_core::qualified_state::{Change, EventRef, Findings};
use countersign_service::{
    AssessRequest, Service, ServiceError, SigningSession, StateExport, StateReport, SystemOutcome,
};

use crate::args::{AssessArgs, Cli};
use crate::output::print_json;
use crate::signoff::signing_secrets;

/// `countersign assess`: shows what will be signed, asks for the secrets, signs.
pub async fn assess(cli: &Cli, service: &Service, a: &AssessArgs) -> Result<(), ServiceError> {
    a.signer.check()?;
    let req = AssessRequest {
        system: a.system.clone(),
        change: a.change.clone(),
        impact: a.impact,
        reference: a.reference.clone(),
        reason: a.reason.clone(),
        key_id: a.signer.key.clone(),
        mfa_serial: a.signer.mfa_serial.clone(),
    };
    let mut session = SigningSession::new();
    let plan = service.assess_check(&session, &req)?;
    eprintln!(
        "Signing the impact of change {} ({}) on {} as {}{} as {} ({}, key {})",
        plan.record.change,
        Shown(&plan.summary),
        Shown(&plan.record.system),
        plan.record.impact.label(),
        plan.record
            .reference
            .as_deref()
            .map(|r| format!(" ({})", Shown(r)))
            .unwrap_or_default(),
        Shown(&plan.printed_name),
        Shown(&plan.iam_arn),
        plan.key_id
    );
    let aws = cli.global.aws();
    let secrets = signing_secrets(
        service,
        &aws,
        &mut session,
        plan.needs_mfa,
        &plan.mfa_serial,
        &a.signer,
    )
    .await?;
    let info = service
        .assess_change(&aws, &mut session, &req, secrets)
        .await?;
    if let Some(w) = &info.clock_warning {
        eprintln!("warning: {}", Shown(w));
    }
    if cli.global.json {
        return print_json(&info);
    }
    outln!(
        "Signed: change {} of {} assessed as {} by {} at {}; envelope {}",
        info.record.change,
        Shown(&info.record.system),
        info.record.impact.label(),
        Shown(&info.printed_name),
        Shown(&info.signed_at),
        info.envelope_sha256
    );
    Ok(())
}

/// `countersign state --csv … --out FILE`: what was written.
pub fn exported(e: &StateExport, json: bool) -> Result<(), ServiceError> {
    if json {
        return print_json(e);
    }
    outln!(
        "wrote {} rows to {}",
        e.rows,
        Shown(&e.path.display().to_string())
    );
    if !e.not_qualified.is_empty() {
        outln!(
            "not in the file (no approved baseline): {}",
            Shown(&e.not_qualified.join(", "))
        );
    }
    Ok(())
}

pub fn state(r: &StateReport, json: bool) -> Result<(), ServiceError> {
    if json {
        return print_json(r);
    }
    if r.systems.is_empty() {
        outln!("no runs in this home: fetch or import runs first");
    }
    if r.public_keys.is_empty() {
        outln!(
            "CloudTrail public key: none supplied (--public-key FILE); digest signatures are \
             not checked, so no period counts as covered"
        );
    }
    for p in &r.problems {
        outln!("cannot use {}: {}", Shown(&p.uri), Shown(&p.message));
    }
    for s in &r.systems {
        outln!();
        match &s.state {
            SystemOutcome::NotQualified { reason, .. } => {
                outln!("{}: {}", Shown(&s.system), Shown(reason));
            }
            SystemOutcome::Qualified { findings, events } => {
                system(&s.system, findings, events);
            }
        }
        for v in r.reviews.iter().filter(|v| v.system == s.system) {
            outln!(
                "  periodic review {} – {} by {} at {}: {} ({})",
                human_time(v.period.from),
                human_time(v.period.to),
                Shown(&v.printed_name),
                Shown(&v.signed_at),
                Shown(v.verdict.as_deref().unwrap_or("findings not readable")),
                Shown(&v.outcome)
            );
        }
    }
    Ok(())
}

fn system(name: &str, f: &Findings, events: &[EventRef]) {
    findings(name, f);
    let reads = events.iter().filter(|e| e.read_only).count();
    outln!(
        "  CloudTrail calls on the stack's resources: {} ({} read-only)",
        events.len(),
        reads
    );
}

/// A system's findings: verdict, baseline, stack compared, coverage, changes, notes.
pub(crate) fn findings(name: &str, f: &Findings) {
    outln!("{}: {}", Shown(name), Shown(&f.verdict.text));
    let b = &f.baseline;
    for a in &b.approvals {
        outln!(
            "  approved {} {} by {} ({}) at {}",
            Shown(&a.phase),
            Shown(&a.run),
            Shown(&a.printed_name),
            Shown(&a.iam_arn),
            a.signed_at
        );
    }
    match &b.snapshot {
        Some(s) => outln!(
            "  baseline: stack {} ({}) taken {}, template sha256:{}, {}, drift: {}",
            Shown(&s.stack_name),
            Shown(&s.region),
            Shown(&s.taken_at),
            s.template_sha256,
            Shown(&s.status),
            Shown(&s.drift)
        ),
        None => outln!("  baseline: no stack snapshot"),
    }
    match &f.current_stack.snapshot {
        Some(s) => outln!(
            "  compared with: stack snapshot taken {}, {}, drift: {}",
            Shown(&s.taken_at),
            Shown(&s.status),
            Shown(&s.drift)
        ),
        None => outln!("  compared with: no newer stack snapshot"),
    }
    if let Some(n) = &f.current_stack.note {
        outln!("    {}", Shown(n));
    }

    let cov = &f.coverage;
    outln!(
        "  CloudTrail coverage: {} digest(s) validated, {} not; covered until {}",
        cov.digests_validated,
        cov.digests_not_validated,
        cov.covered_until.map_or("-".to_owned(), human_time)
    );
    for p in &cov.covered {
        outln!("    covered {} – {}", human_time(p.from), human_time(p.to));
    }
    for g in &cov.gaps {
        outln!(
            "    GAP {} – {}: {}",
            human_time(g.from),
            human_time(g.to),
            Shown(&g.reason)
        );
    }

    outln!("  changes since approval: {}", f.changes.len());
    for c in &f.changes {
        change(c);
    }
    if !f.attempts.is_empty() {
        outln!("  failed write calls (not changes): {}", f.attempts.len());
        for e in &f.attempts {
            outln!("    {}", event_line(e));
        }
    }
    for n in &f.notes {
        outln!("  note: {}", Shown(n));
    }
}

fn change(c: &Change) {
    outln!(
        "    [{}] {} {}",
        c.kind.label(),
        c.at.map_or("(undated)".to_owned(), human_time),
        Shown(&c.summary)
    );
    outln!("      id {}", c.id);
    for d in &c.differences {
        outln!(
            "      {}: {} -> {}",
            Shown(&d.path),
            Shown(d.before.as_deref().unwrap_or("(absent)")),
            Shown(d.after.as_deref().unwrap_or("(absent)"))
        );
    }
    for e in &c.events {
        outln!("      by {}", event_line(e));
    }
    if let Some(a) = &c.assessment {
        outln!(
            "      assessed {} by {} at {}",
            a.impact.label(),
            Shown(&a.printed_name),
            a.signed_at
        );
    }
}

/// Who, when, what call, from where, error or not.
fn event_line(e: &EventRef) -> String {
    format!(
        "{} at {}: {} ({}) from {}{}{}",
        Shown(e.who()),
        e.time,
        Shown(&e.event_name),
        Shown(&e.event_source),
        Shown(e.source_ip.as_deref().unwrap_or("unknown address")),
        e.error_code
            .as_deref()
            .map(|c| format!(", failed: {}", Shown(c)))
            .unwrap_or_default(),
        if e.validated {
            ""
        } else {
            ", log file not covered by a validated digest"
        }
    )
}
