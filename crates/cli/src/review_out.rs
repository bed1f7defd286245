//! `countersign state review` and `state report`: a periodic review shows the findings it will
//! sign before any secret is asked for, then signs exactly them; the report is built from what
//! was signed.

use countersign_core::display::Shown;
use countersign_core::qualified_state::evaluate::human_time;
use countersign_service::{
    PeriodicReviewRequest, ReviewReportRequest, Service, ServiceError, SigningSession,
};

use crate::args::{Cli, StateReportArgs, StateReviewArgs};
use crate::output::print_json;
use crate::signoff::signing_secrets;

/// `countersign state review SYSTEM --period FROM..TO --reason TEXT`.
pub async fn review(cli: &Cli, service: &Service, a: &StateReviewArgs) -> Result<(), ServiceError> {
    a.signer.check()?;
    let req = PeriodicReviewRequest {
        system: a.system.clone(),
        period: a.period.clone(),
        reason: a.reason.clone(),
        trail_public_key: crate::read_public_key(a.public_key.as_deref())?,
        expected_findings: None,
        key_id: a.signer.key.clone(),
        mfa_serial: a.signer.mfa_serial.clone(),
    };
    let mut session = SigningSession::new();
    let plan = service.periodic_review_check(&session, &req)?;
    // What is signed, first: the findings of the period, as `state` prints them.
    crate::state_out::findings(&plan.system, &plan.findings);
    eprintln!(
        "Signing the periodic review of {} over {} – {} (findings sha256:{}{}) as {} ({}, key {})",
        Shown(&plan.system),
        human_time(plan.period.from),
        human_time(plan.period.to),
        plan.findings_sha256,
        if plan.earlier_reviews > 0 {
            format!(
                ", after {} earlier review(s) of the same findings",
                plan.earlier_reviews
            )
        } else {
            String::new()
        },
        Shown(&plan.printed_name),
        Shown(&plan.iam_arn),
        plan.key_id
    );
    let req = PeriodicReviewRequest {
        expected_findings: Some(plan.findings_sha256.to_hex()),
        ..req
    };
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
        .periodic_review(&aws, &mut session, &req, secrets)
        .await?;
    if let Some(w) = &info.clock_warning {
        eprintln!("warning: {}", Shown(w));
    }
    if cli.global.json {
        return print_json(&info);
    }
    outln!(
        "Signed: periodic review of {} over {} – {} ({}) by {} at {}; envelope {}",
        Shown(&info.system),
        human_time(info.period.from),
        human_time(info.period.to),
        Shown(&info.verdict),
        Shown(&info.printed_name),
        Shown(&info.signed_at),
        info.envelope_sha256
    );
    outln!(
        "The report: countersign state report {} --period {}..{} --out REPORT.pdf",
        Shown(&info.system),
        info.period.from,
        info.period.to
    );
    Ok(())
}

/// `countersign state report SYSTEM --period FROM..TO --out F.pdf`.
pub fn report(service: &Service, a: &StateReportArgs, json: bool) -> Result<(), ServiceError> {
    let built = service.review_report(&ReviewReportRequest {
        system: a.system.clone(),
        period: a.period.clone(),
        out: a.out.clone(),
        demo: a.demo,
    })?;
    if json {
        return print_json(&built);
    }
    outln!(
        "wrote {} ({}, {} bytes, sha256:{})",
        Shown(&built.pdf.display().to_string()),
        Shown(&built.report_id),
        built.pdf_size,
        built.pdf_sha256
    );
    outln!(
        "  {}; {} review signature(s), {} impact assessment(s); findings sha256:{}",
        Shown(&built.verdict),
        built.signatures,
        built.assessments,
        built.findings_sha256
    );
    if built.superseded > 0 {
        outln!(
            "  {} earlier review(s) of the period signed other findings and are not in the report",
            built.superseded
        );
    }
    if built.demo {
        outln!("  DEMO — NOT FOR GxP USE");
    }
    outln!(
        "  verify it offline: countersign verify {}",
        Shown(&built.pdf.display().to_string())
    );
    Ok(())
}
