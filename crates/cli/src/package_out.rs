//! `package`, `package publish` and `verify`: build a validation package, publish a final one
//! to write-once storage, verify one offline or as published.

use countersign_core::display::Shown;
use countersign_core::package::approval::PackageState;
use countersign_core::package::verify::{CheckState, DocumentKind, Limit};
use countersign_service::{
    verify_package_file, verify_published_file, CancelToken, Env, PackageBuilt,
    PackagePublishRequest, PackageRequest, PackageVerification, Service, ServiceError, TrustedKeys,
};

use crate::args::{Cli, PackageArgs, PackagePublishArgs, VerifyArgs};
use crate::output::print_json;

pub fn package(service: &Service, a: &PackageArgs, json: bool) -> Result<(), ServiceError> {
    let trail_public_key = match &a.trail_public_key {
        Some(path) => Some((
            path.display().to_string(),
            std::fs::read(path).map_err(|e| {
                ServiceError::bad_input(format!(
                    "could not read the trail public key {}: {e}",
                    path.display()
                ))
            })?,
        )),
        None => None,
    };
    let out = a
        .out
        .clone()
        .ok_or_else(|| ServiceError::bad_input("name the PDF to write with --out FILE.pdf"))?;
    let req = PackageRequest {
        runs: a.runs.clone(),
        out,
        bundle: a.bundle.clone(),
        title: a.title.clone(),
        demo: a.demo,
        trail_public_key,
    };
    let built = service.package(&req, &|_| {}, &CancelToken::new())?;
    print_built(&built, json)
}

fn print_built(b: &PackageBuilt, json: bool) -> Result<(), ServiceError> {
    if json {
        return print_json(b);
    }
    outln!(
        "package {} built{}",
        Shown(&b.package_id),
        if b.demo {
            " (DEMO — NOT FOR GxP USE)"
        } else {
            ""
        }
    );
    outln!("  status:    {}", Shown(&b.status));
    outln!("  runs:      {}", Shown(&b.runs.join(", ")));
    outln!(
        "  manifest:  SHA-256 {} ({} files, {} signatures)",
        b.manifest_sha256,
        b.files,
        b.signatures
    );
    outln!(
        "  PDF:       {} ({} bytes, SHA-256 {}, {} embedded files)",
        Shown(&b.pdf.display().to_string()),
        b.pdf_size,
        b.pdf_sha256,
        b.embedded
    );
    if let Some(bundle) = &b.bundle {
        outln!("  bundle:    {}", Shown(&bundle.display().to_string()));
    }
    Ok(())
}

pub async fn publish(
    cli: &Cli,
    service: &Service,
    a: &PackagePublishArgs,
) -> Result<(), ServiceError> {
    let report = service
        .package_publish(
            &cli.global.aws(),
            &PackagePublishRequest {
                pdf: a.pdf.clone(),
                bundle: a.bundle.clone(),
                to: a.to.clone(),
                object_lock_days: a.object_lock_days,
            },
        )
        .await?;
    if cli.global.json {
        return print_json(&report);
    }
    outln!(
        "Published package {} to {} ({} of {} runs approved by verified signatures)",
        Shown(&report.package_id),
        Shown(&report.location),
        report.runs.len(),
        report.runs.len()
    );
    for o in &report.objects {
        outln!(
            "  {:<9} {} (sha256 {}{}; retained until {})",
            o.status.as_str(),
            Shown(&o.uri),
            o.sha256.to_hex(),
            o.version_id
                .as_deref()
                .map(|v| format!(", version {}", Shown(v)))
                .unwrap_or_default(),
            Shown(&o.retain_until)
        );
    }
    outln!(
        "Object Lock COMPLIANCE retention until {} at the earliest: nobody can delete or overwrite these objects before then.",
        Shown(&report.retain_until)
    );
    Ok(())
}

/// `countersign package list`: the packages this home built, with what it recorded of each.
pub fn list(service: &Service, json: bool) -> Result<(), ServiceError> {
    let packages = service.package_list()?;
    if json {
        return print_json(&packages);
    }
    if packages.is_empty() {
        outln!("No package built in this home yet.");
        return Ok(());
    }
    outln!(
        "Packages built in this home, newest first (as recorded here; verify a file to prove it):"
    );
    for p in &packages {
        let state = match p.approvals.iter().rev().find(|a| a.meaning == "Approved") {
            Some(a) if p.state == PackageState::Approved => format!(
                "approved by {} at {} (UTC{})",
                Shown(&a.printed_name),
                Shown(&a.signed_at),
                Shown(&a.utc_offset)
            ),
            _ if p.state == PackageState::Reviewed => "reviewed, not approved".to_owned(),
            _ => "draft".to_owned(),
        };
        outln!(
            "  {}  built {}  {}  {} run(s)  {}",
            Shown(&p.package_id),
            Shown(&p.built_at),
            state,
            p.runs.len(),
            Shown(&p.file_name)
        );
        for uri in &p.published {
            outln!("      published to {}", Shown(uri));
        }
    }
    Ok(())
}

pub async fn verify(cli: &Cli, a: &VerifyArgs, json: bool) -> Result<(), ServiceError> {
    let trusted = match &a.trusted_keys {
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|e| {
                ServiceError::bad_input(format!(
                    "could not read the trusted keys {}: {e}",
                    path.display()
                ))
            })?;
            Some(TrustedKeys::parse(&path.display().to_string(), &text)?)
        }
        None => None,
    };
    // Recorded in the ledger when a Countersign home exists; an auditor needs none.
    let home = cli
        .global
        .home_dir()
        .ok()
        .filter(|h| h.join(countersign_service::LEDGER_FILE).exists());
    let s3 = a.path.to_str().filter(|p| p.starts_with("s3://"));
    let v = match (home, s3) {
        (Some(h), Some(uri)) => {
            Service::open_for_reading(&h, Env::system())?
                .verify_published(&cli.global.aws(), uri, trusted.as_ref())
                .await?
        }
        (None, Some(uri)) => {
            verify_published_file(&Env::system(), &cli.global.aws(), uri, trusted.as_ref()).await?
        }
        (Some(h), None) => Service::open_for_reading(&h, Env::system())?
            .verify_package(&a.path, trusted.as_ref())?,
        (None, None) => verify_package_file(&a.path, trusted.as_ref())?,
    };
    print_verification(&v, json)?;
    if v.verified {
        Ok(())
    } else {
        Err(ServiceError::integrity(format!(
            "the document does not verify: {}",
            v.first_problem().unwrap_or_else(|| "a check failed".into())
        )))
    }
}

fn print_verification(v: &PackageVerification, json: bool) -> Result<(), ServiceError> {
    if json {
        return print_json(v);
    }
    let approved = v
        .runs
        .iter()
        .filter(|r| r.state == countersign_core::lifecycle::RunState::Approved)
        .count();
    // The headline never reads as a plain approval: a package that verifies says at once
    // whether the package itself is approved, by whom, whether the keys were checked, and how
    // many of its runs its signatures approve.
    let is_package = v
        .reports
        .first()
        .is_some_and(|(_, r)| r.document == DocumentKind::ValidationPackage);
    let keys = if v.limits.contains(&Limit::KeysNotChecked) {
        "; keys not checked against a trusted list"
    } else {
        ""
    };
    let last_approval = v
        .approvals
        .iter()
        .rev()
        .find(|a| a.meaning.as_deref() == Some("Approved"));
    let package_words = match (v.package_state, last_approval) {
        (PackageState::Approved, Some(a)) => format!(
            "package APPROVED by {} at {} (UTC{})",
            Shown(a.printed_name.as_deref().unwrap_or("?")),
            Shown(a.signed_at.as_deref().unwrap_or("?")),
            Shown(a.utc_offset.as_deref().unwrap_or("?"))
        ),
        (PackageState::Reviewed, _) => "package reviewed, NOT APPROVED".to_owned(),
        _ => "DRAFT, the package is not approved".to_owned(),
    };
    outln!(
        "{}: {}",
        Shown(&v.path.display().to_string()),
        match (v.verified, v.runs.len(), is_package) {
            (false, _, _) => "DOES NOT VERIFY".to_owned(),
            (true, 0, false) => format!("VERIFIED (intact{keys})"),
            (true, 0, true) => format!("VERIFIED (intact; {package_words}{keys})"),
            (true, n, _) =>
                format!("VERIFIED (intact; {package_words}; {approved} of {n} runs approved{keys})"),
        }
    );
    if let Some(s) = &v.source {
        // S3's own statement about the object, not something the package proves.
        outln!(
            "Read from {}{}; S3 reports {}",
            Shown(&s.uri),
            s.version_id
                .as_deref()
                .map(|v| format!(" (version {})", Shown(v)))
                .unwrap_or_default(),
            if s.retention_mode.is_empty() {
                "no Object Lock retention: the object can be deleted or overwritten".to_owned()
            } else {
                format!(
                    "Object Lock {} retention until {}",
                    Shown(&s.retention_mode),
                    Shown(&s.retain_until)
                )
            }
        );
    }
    if let Some(id) = v.package_id() {
        let what = match v.reports.first().map(|(_, r)| r.document) {
            Some(DocumentKind::PeriodicReviewReport) => "periodic review report",
            _ => "package",
        };
        outln!("{what} {}", Shown(id));
    }
    if !v.runs.is_empty() {
        // What the signatures establish, to hold against what the pages print.
        outln!(
            "Runs, as their verified signatures establish them (not as the pages print them): {approved} of {} approved",
            v.runs.len()
        );
        for r in &v.runs {
            outln!(
                "  {}: {} (result: {})",
                Shown(&r.run),
                r.state.words(),
                Shown(&r.status)
            );
        }
    }
    if !v.approvals.is_empty() {
        outln!("Package approvals (each signs every byte of the file up to its approval page):");
        for a in &v.approvals {
            outln!(
                "  {}. {} {} by {} ({}) at {} (UTC{}), key {}, file up to byte {}: {}",
                a.number,
                Shown(&a.outcome),
                Shown(a.meaning.as_deref().unwrap_or("?")),
                Shown(a.printed_name.as_deref().unwrap_or("?")),
                Shown(a.iam_arn.as_deref().unwrap_or("?")),
                Shown(a.signed_at.as_deref().unwrap_or("?")),
                Shown(a.utc_offset.as_deref().unwrap_or("?")),
                Shown(a.key_id.as_deref().unwrap_or("?")),
                a.end,
                Shown(a.reason.as_deref().unwrap_or(""))
            );
        }
    }
    if !v.later_approvals.is_empty() {
        outln!(
            "This home recorded {} approval(s) of this package that this file does not carry: it is an earlier revision of the signed file, and verifies as that:",
            v.later_approvals.len()
        );
        for line in &v.later_approvals {
            outln!("  - {}", Shown(line));
        }
    }
    if !v.limits.is_empty() {
        outln!("What this does not prove:");
        for limit in &v.limits {
            let hint = match limit {
                Limit::KeysNotChecked => " (give --trusted-keys FILE to check them)",
                Limit::PackageNotApproved => {
                    " (countersign package sign FILE.pdf --meaning Approved)"
                }
                Limit::DocumentNotSigned
                | Limit::ValidationPagesNotSigned
                | Limit::PagesNotSigned => "",
            };
            outln!("  - {}{hint}", limit.describe());
        }
    }
    for (part, r) in &v.reports {
        outln!("{}:", Shown(&part.to_string()));
        for c in &r.checks {
            let mark = match c.state {
                CheckState::Passed => "ok  ",
                CheckState::Failed => "FAIL",
                CheckState::Skipped => "skip",
            };
            outln!(
                "  [{mark}] {:<10} {} — {}",
                Shown(c.id),
                Shown(c.title),
                Shown(&c.detail)
            );
            for p in &c.problems {
                outln!("           {}", Shown(&p.to_string()));
            }
        }
        for s in &r.signatures {
            outln!(
                "  signature {}: {} {} by {} at {} (UTC{}), key {}",
                Shown(&s.path),
                Shown(&s.outcome.to_string()),
                Shown(s.meaning.as_deref().unwrap_or("?")),
                Shown(s.printed_name.as_deref().unwrap_or("?")),
                Shown(s.signed_at.as_deref().unwrap_or("?")),
                Shown(s.utc_offset.as_deref().unwrap_or("?")),
                Shown(s.key_id.as_deref().unwrap_or("?"))
            );
        }
    }
    Ok(())
}
