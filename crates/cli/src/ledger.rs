//! `ledger verify|export|checkpoint|publish|review|backup|restore`: thin adapters over the service.
//! Passphrases and MFA codes come from the terminal (echo off) or a file, never from argv.

use countersign_core::display::Shown;
use countersign_service::{
    export_filter, CheckpointRequest, CheckpointSource, Env, EventFilter, LedgerVerification,
    ReviewRequest, Service, ServiceError, SigningSession, TextMatch, TrailPublishRequest,
};

use crate::args::{Cli, LedgerCommand};
use crate::output::print_json;
use crate::signoff::{read_secret, signing_secrets};
use crate::{open, open_for_reading, output};

/// Runs one `ledger` subcommand. `restore` works on the home without opening it first.
pub async fn run(cli: &Cli, command: &LedgerCommand) -> Result<(), ServiceError> {
    let json = cli.global.json;
    match command {
        LedgerCommand::Verify(a) => {
            let service = open_for_reading(cli)?;
            let source = match (&a.checkpoints, &a.checkpoint_dir) {
                (Some(uri), _) => Some(CheckpointSource::S3(uri.clone())),
                (None, Some(dir)) => Some(CheckpointSource::Dir(dir.clone())),
                (None, None) => None,
            };
            match (source, a.evidence) {
                (None, false) => output::ledger_verify(&service.ledger_verify()?, json),
                (None, true) => {
                    let report = service.ledger_verify()?;
                    let evidence = service.verify_evidence()?;
                    output::ledger_verify_with_evidence(&report, &evidence, json)
                }
                (Some(source), evidence) => {
                    let v = service
                        .ledger_verify_published(&cli.global.aws(), &source)
                        .await?;
                    let checked = verification(&v, json);
                    if !evidence {
                        return checked;
                    }
                    let e = service.verify_evidence()?;
                    let stored = output::evidence_check(&e, json);
                    checked.and(stored)
                }
            }
        }
        LedgerCommand::Export(a) => {
            let service = open(cli)?;
            let filter = EventFilter {
                text_match: if a.contains {
                    TextMatch::Contains
                } else {
                    TextMatch::Exact
                },
                ..export_filter(
                    a.since.as_deref(),
                    a.until.as_deref(),
                    a.actor.as_deref(),
                    a.object_kind.as_deref(),
                    a.object.as_deref(),
                    a.action.as_deref(),
                )?
            };
            let n = service.ledger_export_filtered(a.format.into(), &filter, &a.out)?;
            output::ledger_export(n, &a.out, json)
        }
        LedgerCommand::Checkpoint(a) => {
            let service = open(cli)?;
            let req = CheckpointRequest {
                key_id: a.key.clone(),
                publish: a.publish.clone(),
                retention_days: a.retention_days,
            };
            // Checked before the passphrase is asked for.
            let key = service.ledger_checkpoint_check(&req)?;
            eprintln!(
                "Signing a checkpoint of the ledger as {} ({}, key {})",
                Shown(&key.printed_name),
                Shown(&key.iam_arn),
                key.key_id
            );
            let passphrase = read_secret("Key passphrase: ", a.passphrase_file.as_deref())?;
            let info = service
                .ledger_checkpoint(&cli.global.aws(), &req, &passphrase)
                .await?;
            if json {
                return print_json(&info);
            }
            outln!(
                "Checkpoint: entry {} head {} at {} signed by {} (key {})",
                info.seq,
                info.head_hash,
                Shown(&info.time_utc),
                Shown(&info.printed_name),
                info.key_id
            );
            if let Some(p) = &info.published {
                outln!(
                    "Published: {} (version {}), {} until {}",
                    Shown(&p.uri),
                    Shown(p.version_id.as_deref().unwrap_or("-")),
                    Shown(&p.mode),
                    Shown(&p.retain_until)
                );
            }
            Ok(())
        }
        LedgerCommand::Publish(a) => {
            let req = TrailPublishRequest {
                to: a.to.clone(),
                retention_days: a.retention_days,
                state: a.state,
                trail_public_key: crate::read_public_key(a.public_key.as_deref())?,
            };
            let p = open(cli)?.ledger_publish(&cli.global.aws(), &req).await?;
            output::trail_publication(&p, json)
        }
        LedgerCommand::Review(a) => {
            a.signer.check()?;
            let service = open(cli)?;
            let req = ReviewRequest {
                up_to: a.up_to,
                reason: a.reason.clone(),
                key_id: a.signer.key.clone(),
                mfa_serial: a.signer.mfa_serial.clone(),
            };
            let mut session = SigningSession::new();
            let plan = service.review_check(&session, &req)?;
            eprintln!(
                "Signing the audit trail as reviewed up to entry {} (hash {}) as {} ({}, key {})",
                plan.up_to,
                plan.head_hash,
                Shown(&plan.printed_name),
                Shown(&plan.iam_arn),
                plan.key_id
            );
            let aws = cli.global.aws();
            let secrets = signing_secrets(
                &service,
                &aws,
                &mut session,
                plan.needs_mfa,
                &plan.mfa_serial,
                &a.signer,
            )
            .await?;
            let info = service
                .ledger_review(&aws, &mut session, &req, secrets)
                .await?;
            if let Some(w) = &info.clock_warning {
                eprintln!("warning: {}", Shown(w));
            }
            if json {
                return print_json(&info);
            }
            outln!(
                "Signed: audit trail reviewed up to entry {} by {} at {} (UTC{}); entry hash {}",
                info.up_to,
                Shown(&info.printed_name),
                Shown(&info.signed_at.to_string()),
                Shown(&info.utc_offset.to_string()),
                info.head_hash
            );
            Ok(())
        }
        LedgerCommand::Backup(a) => {
            let service = open(cli)?;
            let info = service.ledger_backup(&a.out)?;
            if json {
                return print_json(&info);
            }
            outln!(
                "Backed up {} entries (head {} {}) to {}; the copy verifies",
                info.events,
                info.head_seq,
                info.head_hash,
                Shown(&info.path.display().to_string())
            );
            Ok(())
        }
        LedgerCommand::Restore(a) => {
            let report = Service::ledger_restore(
                &cli.global.home_dir()?,
                &Env::system(),
                &a.file,
                a.replace,
            )?;
            if json {
                return print_json(&report);
            }
            if let Some(aside) = &report.set_aside {
                outln!(
                    "The previous ledger was set aside as {}",
                    Shown(&aside.display().to_string())
                );
            }
            outln!(
                "Restored {} into {} ({} entries, the restore recorded); run `countersign ledger verify --checkpoints s3://BUCKET/PREFIX` to compare with published checkpoints",
                Shown(&a.file.display().to_string()),
                Shown(&report.ledger.display().to_string()),
                report.events
            );
            Ok(())
        }
        LedgerCommand::StartOver(a) => {
            let home = cli.global.home_dir()?;
            let service = Service::start_over(&home, Env::system(), &a.reason)?;
            let report = service.ledger_verify()?;
            if json {
                return print_json(&report);
            }
            outln!(
                "Started a new audit trail in {} ({} entries, the decision recorded with its reason)",
                Shown(&home.display().to_string()),
                report.events
            );
            Ok(())
        }
    }
}

fn verification(v: &LedgerVerification, json: bool) -> Result<(), ServiceError> {
    if json {
        print_json(v)?;
    } else {
        for e in &v.external {
            let seq = e.seq.map(|s| format!("entry {s}")).unwrap_or_default();
            match &e.problem {
                None => outln!(
                    "checkpoint {} {seq}: trusted, signed by {}",
                    Shown(&e.source),
                    Shown(e.signer.as_deref().unwrap_or("?"))
                ),
                Some(p) => outln!(
                    "checkpoint {} {seq}: NOT TRUSTED: {}",
                    Shown(&e.source),
                    Shown(&p.to_string())
                ),
            }
        }
        // Prints the chain's verdict; its error is returned below, with the checkpoints'.
        let _ = output::ledger_verify(&v.report, false);
    }
    if let Some(p) = &v.report.problem {
        return Err(ServiceError::integrity(format!(
            "the audit trail does not verify: {p}"
        )));
    }
    let untrusted = v.external.iter().filter(|e| !e.trusted).count();
    if untrusted > 0 {
        return Err(ServiceError::integrity(format!(
            "{untrusted} published checkpoint(s) could not be trusted (see above); find out who wrote them"
        )));
    }
    Ok(())
}
