//! `package list` and the Packages screen's table: the packages this home built, with the
//! approvals and publications it recorded for each. What it shows is the home's record, not a
//! verification of any file: a package file is proven only by verifying it.

use countersign_core::package::approval::PackageState;
use countersign_ledger::EventFilter;
use serde::Serialize;

use super::approve::PACKAGE_SUBJECT;
use super::publish::PACKAGE_PUBLISHED;
use crate::error::{self as err, ServiceError};
use crate::Service;

/// One package approval as this home recorded it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RecordedApproval {
    /// `Reviewed` or `Approved`.
    pub meaning: String,
    /// The signer's printed name.
    pub printed_name: String,
    /// UTC signing time.
    pub signed_at: String,
    /// The signer's offset.
    pub utc_offset: String,
}

/// A package this home built.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PackageEntry {
    /// The package id.
    pub package_id: String,
    /// When it was built, UTC.
    pub built_at: String,
    /// The file name it was written to.
    pub file_name: String,
    /// Its runs.
    pub runs: Vec<String>,
    /// Its state as the approvals recorded here establish it (not verified against any file).
    pub state: PackageState,
    /// The approvals recorded here, in signing order.
    pub approvals: Vec<RecordedApproval>,
    /// Where it was published, when it was (`s3://…` of each object).
    pub published: Vec<String>,
}

impl Service {
    /// The packages this home built, newest first, each with the approvals and publications
    /// recorded for it.
    pub fn package_list(&self) -> Result<Vec<PackageEntry>, ServiceError> {
        let ledger = self.ledger()?;
        let built = ledger.packages().map_err(err::from_ledger)?;
        let signatures = ledger
            .signatures_of_kind(PACKAGE_SUBJECT)
            .map_err(err::from_ledger)?;
        let publications = ledger
            .events(&EventFilter {
                action: Some(PACKAGE_PUBLISHED.into()),
                ..EventFilter::default()
            })
            .map_err(err::from_ledger)?;
        let mut out: Vec<PackageEntry> = built
            .into_iter()
            .map(|p| {
                let recorded: Vec<_> = signatures
                    .iter()
                    .filter(|s| s.subject_id == p.package_id)
                    .collect();
                let state = PackageState::of(recorded.iter().map(|s| s.meaning));
                let approvals = recorded
                    .iter()
                    .map(|s| RecordedApproval {
                        meaning: s.meaning.as_str().to_owned(),
                        printed_name: s.printed_name.clone(),
                        signed_at: s.signed_at.clone(),
                        utc_offset: s.utc_offset.clone(),
                    })
                    .collect();
                let mut published: Vec<String> = publications
                    .iter()
                    .filter(|e| e.event.object_id == p.package_id)
                    .filter_map(|e| e.event.after.as_deref())
                    .filter_map(|a| serde_json::from_str::<serde_json::Value>(a).ok())
                    .filter_map(|v| v.get("location")?.as_str().map(str::to_owned))
                    .collect();
                published.dedup();
                PackageEntry {
                    package_id: p.package_id,
                    built_at: p.created_at,
                    file_name: p.file_name,
                    runs: p.runs,
                    state,
                    approvals,
                    published,
                }
            })
            .collect();
        out.reverse();
        Ok(out)
    }
}
