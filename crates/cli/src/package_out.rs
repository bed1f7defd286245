//! `package` and `verify`: build a validation package, verify one offline.

use countersign_core::display::Shown;
use countersign_core::package::verify::{CheckState, DocumentKind, Limit};
use countersign_service::{
    verify_package_file, CancelToken, Env, PackageBuilt, PackageRequest, PackageVerification,
    Service, ServiceError, TrustedKeys,
};

use crate::args::{Cli, PackageArgs, VerifyArgs};
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
    let req = PackageRequest {
        runs: a.runs.clone(),
        out: a.out.clone(),
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

pub fn verify(cli: &Cli, a: &VerifyArgs, json: bool) -> Result<(), ServiceError> {
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
    let v = match home {
        Some(h) => Service::open_for_reading(&h, Env::system())?
            .verify_package(&a.path, trusted.as_ref())?,
        None => verify_package_file(&a.path, trusted.as_ref())?,
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
    // The headline never reads as a plain approval: a package that verifies says at once how
    // many of its runs its signatures approve.
    outln!(
        "{}: {}",
        Shown(&v.path.display().to_string()),
        match (v.verified, v.runs.len()) {
            (false, _) => "DOES NOT VERIFY".to_owned(),
            (true, 0) => "VERIFIED".to_owned(),
            (true, n) => format!("VERIFIED (intact; {approved} of {n} runs approved)"),
        }
    );
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
    if !v.limits.is_empty() {
        outln!("What this does not prove:");
        for limit in &v.limits {
            let hint = match limit {
                Limit::KeysNotChecked => " (give --trusted-keys FILE to check them)",
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
