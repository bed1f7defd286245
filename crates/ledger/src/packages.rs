//! Validation packages built: one `packages` row per run a package covers, written with the
//! `package.built` event in one transaction. The event names the manifest by digest (the
//! manifest's bytes live in the content-addressed evidence store) and the PDF by digest.

use countersign_core::digest::Sha256;
use countersign_core::ledger_event::Actor;
use rusqlite::params;

use crate::error::LedgerError;
use crate::event::{append_in, AppendError, EventFilter, NewEvent};
use crate::Ledger;

/// Action of a package build event.
pub const PACKAGE_BUILT: &str = "package.built";
/// Action of a package verification event.
pub const PACKAGE_VERIFIED: &str = "package.verified";

/// A package to record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPackage {
    /// The package id.
    pub package_id: String,
    /// SHA-256 of the manifest's canonical bytes.
    pub manifest_sha256: Sha256,
    /// SHA-256 of the PDF.
    pub pdf_sha256: Sha256,
    /// Size of the PDF in bytes.
    pub pdf_size: u64,
    /// File name the PDF was written to.
    pub file_name: String,
    /// The runs it covers (`SYSTEM/PHASE/RUN-ID`).
    pub runs: Vec<String>,
}

/// A recorded package, read back from its `package.built` event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackageRecord {
    /// The package id.
    pub package_id: String,
    /// SHA-256 of the manifest.
    pub manifest_sha256: Sha256,
    /// SHA-256 of the PDF.
    pub pdf_sha256: Sha256,
    /// Size of the PDF.
    pub pdf_size: u64,
    /// File name it was written to.
    pub file_name: String,
    /// The runs it covers.
    pub runs: Vec<String>,
    /// Who built it (printed name), if not the system.
    pub built_by: Option<String>,
    /// When, UTC.
    pub created_at: String,
    /// The `package.built` event.
    pub event_seq: u64,
}

#[derive(serde::Serialize, serde::Deserialize)]
struct Built {
    manifest_sha256: Sha256,
    pdf_sha256: Sha256,
    pdf_size: u64,
    file_name: String,
    runs: Vec<String>,
}

impl Ledger {
    /// Records a built package: the `package.built` event and one `packages` row per run, in
    /// one transaction. A package id is recorded once.
    pub fn record_package(
        &mut self,
        p: &NewPackage,
        actor: &Actor,
    ) -> Result<PackageRecord, LedgerError> {
        if self.package(&p.package_id)?.is_some() {
            return Err(LedgerError::InvalidEvent {
                action: PACKAGE_BUILT.into(),
                detail: format!(
                    "package {} is already recorded; a package id is used once",
                    p.package_id
                ),
            });
        }
        let built = Built {
            manifest_sha256: p.manifest_sha256,
            pdf_sha256: p.pdf_sha256,
            pdf_size: p.pdf_size,
            file_name: p.file_name.clone(),
            runs: p.runs.clone(),
        };
        let after = serde_json::to_string(&built).map_err(|e| LedgerError::InvalidEvent {
            action: PACKAGE_BUILT.into(),
            detail: e.to_string(),
        })?;
        let event =
            NewEvent::new(actor, PACKAGE_BUILT, "package", p.package_id.clone()).after(after);
        event.validate()?;
        let size = i64::try_from(p.pdf_size).unwrap_or(i64::MAX);
        self.write("recording a package", |tx, clock| {
            let rec = append_in(tx, clock, &event)?;
            let seq = i64::try_from(rec.event.seq).unwrap_or(i64::MAX);
            for run in &p.runs {
                tx.execute(
                    "INSERT INTO packages (run_key, sha256, size, file_name, created_at, event_seq) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                    params![run, p.pdf_sha256.to_hex(), size, p.file_name, rec.event.time_utc, seq],
                )
                .map_err(AppendError::Sql)?;
            }
            Ok(PackageRecord {
                package_id: p.package_id.clone(),
                manifest_sha256: p.manifest_sha256,
                pdf_sha256: p.pdf_sha256,
                pdf_size: p.pdf_size,
                file_name: p.file_name.clone(),
                runs: p.runs.clone(),
                built_by: actor.printed_name.clone(),
                created_at: rec.event.time_utc.clone(),
                event_seq: rec.event.seq,
            })
        })
    }

    /// Every recorded package, oldest first.
    pub fn packages(&self) -> Result<Vec<PackageRecord>, LedgerError> {
        self.package_events(None)
    }

    /// One recorded package by id.
    pub fn package(&self, package_id: &str) -> Result<Option<PackageRecord>, LedgerError> {
        Ok(self.package_events(Some(package_id))?.into_iter().next())
    }

    fn package_events(&self, id: Option<&str>) -> Result<Vec<PackageRecord>, LedgerError> {
        let events = self.events(&EventFilter {
            action: Some(PACKAGE_BUILT.into()),
            object_id: id.map(str::to_owned),
            ..EventFilter::default()
        })?;
        events
            .into_iter()
            .map(|e| {
                let ev = e.event;
                let built: Built = ev
                    .after
                    .as_deref()
                    .and_then(|a| serde_json::from_str(a).ok())
                    .ok_or_else(|| LedgerError::Corrupt {
                        path: self.path.clone(),
                        detail: format!("the package.built entry {} cannot be read", ev.seq),
                    })?;
                Ok(PackageRecord {
                    package_id: ev.object_id,
                    manifest_sha256: built.manifest_sha256,
                    pdf_sha256: built.pdf_sha256,
                    pdf_size: built.pdf_size,
                    file_name: built.file_name,
                    runs: built.runs,
                    built_by: ev.actor.printed_name,
                    created_at: ev.time_utc,
                    event_seq: ev.seq,
                })
            })
            .collect()
    }

    /// Records that a package file was verified (`package.verified`), with the outcome.
    pub fn record_package_verification(
        &mut self,
        package_id: &str,
        file_sha256: &Sha256,
        verified: bool,
        first_problem: Option<&str>,
        actor: &Actor,
    ) -> Result<(), LedgerError> {
        let after = serde_json::json!({
            "file_sha256": file_sha256.to_hex(),
            "verified": verified,
            "problem": first_problem,
        })
        .to_string();
        self.append(&NewEvent::new(actor, PACKAGE_VERIFIED, "package", package_id).after(after))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use countersign_core::clock::SteppingClock;
    use std::sync::Arc;
    use time::macros::datetime;

    fn ledger(dir: &std::path::Path) -> Ledger {
        Ledger::open(
            &dir.join("l.sqlite"),
            Arc::new(SteppingClock::new(datetime!(2026-11-05 09:00 UTC), 1000)),
        )
        .unwrap()
    }

    #[test]
    fn a_package_is_recorded_with_its_manifest_and_runs_and_cannot_be_changed() {
        let dir = tempfile::tempdir().unwrap();
        let mut l = ledger(dir.path());
        let p = NewPackage {
            package_id: "PKG-20261105-000000000001".into(),
            manifest_sha256: Sha256::of(b"{\"m\":1}"),
            pdf_sha256: Sha256::of(b"pdf"),
            pdf_size: 3,
            file_name: "p.pdf".into(),
            runs: vec!["LIMS/IQ/a".into(), "LIMS/OQ/b".into()],
        };
        let rec = l.record_package(&p, &Actor::system()).unwrap();
        assert_eq!(rec.manifest_sha256, Sha256::of(b"{\"m\":1}"));
        assert_eq!(l.packages().unwrap(), vec![rec.clone()]);
        assert_eq!(l.package(&p.package_id).unwrap(), Some(rec));
        assert_eq!(l.package("nope").unwrap(), None);
        let runs: i64 = l
            .conn
            .query_row("SELECT count(*) FROM packages", [], |r| r.get(0))
            .unwrap();
        assert_eq!(runs, 2);
        for sql in [
            "UPDATE packages SET file_name = 'x'",
            "DELETE FROM packages",
        ] {
            let err = l.conn.execute(sql, []).unwrap_err().to_string();
            assert!(err.contains("append-only"), "{err}");
        }
        // The same id twice is refused and leaves no half record.
        let before = l.event_count().unwrap();
        assert!(l.record_package(&p, &Actor::system()).is_err());
        assert_eq!(l.event_count().unwrap(), before);
        assert!(l.verify().unwrap().is_ok());
    }
}
