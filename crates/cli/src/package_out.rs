//! `package` and `verify`: build a validation package, verify one offline.

use countersign_core::package::verify::CheckState;
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
        b.package_id,
        if b.demo {
            " (DEMO — NOT FOR GxP USE)"
        } else {
            ""
        }
    );
    outln!("  status:    {}", b.status);
    outln!("  runs:      {}", b.runs.join(", "));
    outln!(
        "  manifest:  SHA-256 {} ({} files, {} signatures)",
        b.manifest_sha256,
        b.files,
        b.signatures
    );
    outln!(
        "  PDF:       {} ({} bytes, SHA-256 {}, {} embedded files)",
        b.pdf.display(),
        b.pdf_size,
        b.pdf_sha256,
        b.embedded
    );
    if let Some(bundle) = &b.bundle {
        outln!("  bundle:    {}", bundle.display());
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
        Some(h) => Service::open(&h, Env::system())?.verify_package(&a.path, trusted.as_ref())?,
        None => verify_package_file(&a.path, trusted.as_ref())?,
    };
    print_verification(&v, json)?;
    if v.verified {
        Ok(())
    } else {
        Err(ServiceError::integrity(format!(
            "the package does not verify: {}",
            v.first_problem().unwrap_or_else(|| "a check failed".into())
        )))
    }
}

fn print_verification(v: &PackageVerification, json: bool) -> Result<(), ServiceError> {
    if json {
        return print_json(v);
    }
    outln!(
        "{}: {}",
        v.path.display(),
        if v.verified {
            "VERIFIED"
        } else {
            "DOES NOT VERIFY"
        }
    );
    if let Some(id) = v.package_id() {
        outln!("package {id}");
    }
    for (part, r) in &v.reports {
        outln!("{part}:");
        for c in &r.checks {
            let mark = match c.state {
                CheckState::Passed => "ok  ",
                CheckState::Failed => "FAIL",
                CheckState::Skipped => "skip",
            };
            outln!("  [{mark}] {:<10} {} — {}", c.id, c.title, c.detail);
            for p in &c.problems {
                outln!("           {p}");
            }
        }
        for s in &r.signatures {
            outln!(
                "  signature {}: {} {} by {} at {} (UTC{}), key {}",
                s.path,
                s.outcome,
                s.meaning.as_deref().unwrap_or("?"),
                s.printed_name.as_deref().unwrap_or("?"),
                s.signed_at.as_deref().unwrap_or("?"),
                s.utc_offset.as_deref().unwrap_or("?"),
                s.key_id.as_deref().unwrap_or("?")
            );
        }
    }
    Ok(())
}
