//! The service layer: every Countersign use case, once.
//!
//! The CLI and the Tauri commands are one-line adapters over [`Service`]. It owns the home
//! directory (ledger, evidence store, keys), wires the pure core to the adapters, and turns every
//! failure into a [`ServiceError`] with a stable [`ErrorCode`].
#![forbid(unsafe_code)]

mod audit;
mod audit_evidence;
mod cancel;
mod case_page;
mod checkpoint;
mod demo;
mod disposition;
mod error;
mod fetch;
mod handoff;
mod import;
mod intake;
mod keys;
mod package;
mod package_document;
mod package_verify;
mod review;
mod runs;
mod session;
mod signing;
mod snapshot;

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use countersign_ledger::{Ledger, SystemClock};
use countersign_store::Store;

pub use audit::{
    export_filter, parse_time_bound, EvidenceCheck, RestoreReport, StoredObjectProblem,
};
pub use audit_evidence::{AuditEvidenceReport, EvidenceProblem, ProblemKind, StackEvidence};
pub use cancel::CancelToken;
pub use case_page::{CasePage, CaseQuery, RunHead, MAX_PAGE};
pub use checkpoint::{
    CheckpointInfo, CheckpointRequest, CheckpointSource, ExternalCheckpoint, LedgerVerification,
    PublishedCheckpoint, S3Location, CHECKPOINT_CONFIG_FILE, CHECKPOINT_PUBLISHED,
    MAX_RETENTION_DAYS,
};
pub use countersign_aws::AwsSettings;
pub use countersign_keys::{KdfParams, Passphrase};
pub use countersign_ledger::{BackupInfo, ChainReport, EventFilter, ExportFormat};
pub use demo::SeedReport;
pub use disposition::{DispositionKind, DispositionRequest};
pub use error::{ErrorCode, ServiceError};
pub use fetch::{
    FetchFailure, FetchProgress, FetchReport, FetchRequest, Rejected, Skipped,
    DEFAULT_FETCH_CONCURRENCY,
};
pub use handoff::{
    FetchSignoffReport, FetchSignoffRequest, HandoffItem, PublishReport, PublishRequest,
    PublishedObject, SignoffKey, SignoffLocation, SIGNOFF_KEY_ACCEPTED, SIGNOFF_KEY_FORMAT,
    SIGNOFF_PUBLISHED, SIGNOFF_RECORD_ACCEPTED, SIGNOFF_REJECTED, SIGNOFF_SIGNATURE_ACCEPTED,
};
pub use import::{ImportLimits, ImportReport};
pub use keys::{
    public_key_pem, EnrollRequest, Enrollment, KeyInfo, PublicKeyExport, CERTIFICATION_STATEMENT,
    KEYS_DIR,
};
pub use package::{PackageBuilt, PackageProgress, PackageRequest};
pub use package_verify::{verify_package_file, PackageVerification, TrustedKeys};
pub use review::{AuditReview, ReviewInfo, ReviewPlan, ReviewRequest, AUDIT_TRAIL_SUBJECT};
pub use runs::{FileContent, RunSummary, RunView};
pub use session::{
    ManualClock, SessionClock, SigningSession, SystemSessionClock, DEFAULT_MAX_CLOCK_SKEW_SECS,
};
pub use signing::{
    outcome_text, SignPlan, SignRequest, SignSecrets, SignatureInfo, SignatureView,
    DEFAULT_POLICY_JSON, POLICY_FILE,
};
pub use snapshot::SnapshotTaken;

/// File name of the ledger inside the home directory.
pub const LEDGER_FILE: &str = "ledger.sqlite";
/// Directory of the evidence store inside the home directory.
pub const STORE_DIR: &str = "store";

/// An open Countersign home.
#[derive(Debug)]
pub struct Service {
    home: PathBuf,
    store: Store,
    ledger: Mutex<Ledger>,
}

impl Service {
    /// Opens (creating if needed) the home: `ledger.sqlite`, `store/`.
    pub fn open(home: &Path) -> Result<Self, ServiceError> {
        std::fs::create_dir_all(home).map_err(|e| {
            ServiceError::storage(format!(
                "could not create the Countersign home {}: {e}; choose another with --home or COUNTERSIGN_HOME",
                home.display()
            ))
        })?;
        let store = Store::open(&home.join(STORE_DIR)).map_err(error::from_store)?;
        let ledger = Ledger::open(&home.join(LEDGER_FILE), Box::new(SystemClock::utc()))
            .map_err(error::from_ledger)?;
        Ok(Self {
            home: home.to_path_buf(),
            store,
            ledger: Mutex::new(ledger),
        })
    }

    pub fn home(&self) -> &Path {
        &self.home
    }

    pub(crate) fn store(&self) -> &Store {
        &self.store
    }

    pub(crate) fn ledger(&self) -> Result<MutexGuard<'_, Ledger>, ServiceError> {
        self.ledger.lock().map_err(|_| {
            ServiceError::storage(
                "the ledger is unavailable after an earlier failure; restart Countersign",
            )
        })
    }
}
