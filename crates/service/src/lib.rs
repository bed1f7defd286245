//! The service layer: every Countersign use case, once.
//!
//! The CLI and the Tauri commands are one-line adapters over [`Service`]. It owns the home
//! directory (ledger, evidence store, keys), wires the pure core to the adapters, and turns every
//! failure into a [`ServiceError`] with a stable [`ErrorCode`].
#![forbid(unsafe_code)]

mod audit;
mod audit_evidence;
mod aws_context;
mod cancel;
mod case_page;
mod change_assessment;
mod checkpoint;
mod demo;
mod disposition;
mod env;
mod error;
mod fetch;
mod handoff;
mod home;
mod import;
mod intake;
mod keys;
mod package;
mod partial_output;
mod periodic_review;
mod public_key_out;
mod published_trail;
mod qualified_state;
mod review;
mod revocation;
mod runs;
mod session;
mod sign_in;
mod signing;
mod snapshot;
mod state_export;
mod sync_mark;
#[cfg(test)]
mod test_env;
mod todo;

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use countersign_aws::AwsContext;
use countersign_ledger::Ledger;
use countersign_store::Store;

pub use audit::{
    export_filter, parse_time_bound, EvidenceCheck, RestoreReport, StoredObjectProblem,
};
pub use audit_evidence::{
    AuditEvidenceReport, EvidenceFinding, EvidenceProblem, ProblemKind, StackEvidence,
};
pub use cancel::CancelToken;
pub use case_page::{CasePage, CaseQuery, RunHead, MAX_PAGE};
pub use change_assessment::{AssessInfo, AssessPlan, AssessRequest, CHANGE_ASSESSMENT_SUBJECT};
pub use checkpoint::{
    CheckpointInfo, CheckpointRequest, CheckpointSource, ExternalCheckpoint, LedgerVerification,
    PublishedCheckpoint, CHECKPOINT_CONFIG_FILE, CHECKPOINT_PUBLISHED, MAX_RETENTION_DAYS,
};
pub use countersign_aws::AwsSettings;
pub use countersign_core::secret::{MfaCode, Passphrase};
pub use countersign_keys::KdfParams;
pub use countersign_ledger::{
    BackupInfo, CaseDispositionRecord, ChainReport, EventFilter, ExportFormat, TextMatch,
};
pub use demo::SeedReport;
pub use disposition::{DispositionKind, DispositionPlan, DispositionRequest};
pub use env::{AwsConnector, Connecting, Env, SdkConnector, SystemClock};
pub use error::{ErrorCode, ServiceError};
pub use fetch::{
    FetchFailure, FetchProgress, FetchReport, FetchRequest, Rejected, Skipped,
    DEFAULT_FETCH_CONCURRENCY,
};
pub use handoff::{
    FetchSignoffReport, FetchSignoffRequest, HandoffItem, PublishReport, PublishRequest,
    PublishedObject, PublishedStatus, SIGNOFF_KEY_ACCEPTED, SIGNOFF_PUBLISHED,
    SIGNOFF_RECORD_ACCEPTED, SIGNOFF_REJECTED, SIGNOFF_SIGNATURE_ACCEPTED,
};
pub use home::LEDGER_STARTED_OVER;
pub use import::{ImportLimits, ImportReport, ImportRequest};
pub use keys::{
    public_key_pem, EnrollRequest, Enrollment, KeyInfo, PublicKeyExport, CERTIFICATION_STATEMENT,
    KEYS_DIR,
};
pub use package::{
    verify_package_file, verify_published_file, PackageBuilt, PackageEntry, PackageProgress,
    PackagePublishRequest, PackagePublished, PackageRequest, PackageSignPlan, PackageSignRequest,
    PackageSigned, PackageVerification, PublishedPackageObject, RecordedApproval,
    ReviewReportBuilt, ReviewReportRequest, S3Source, TrustedKeys, PACKAGE_PUBLISHED,
    PACKAGE_SUBJECT, REVIEW_REPORT_BUILT,
};
pub use periodic_review::{
    PeriodicReviewInfo, PeriodicReviewPlan, PeriodicReviewRequest, PeriodicReviewView,
    PERIODIC_REVIEW_SUBJECT,
};
pub use published_trail::{
    PublishedStateObject, PublishedTrailObject, TrailPublication, TrailPublishRequest,
    STATE_PUBLISHED, TRAIL_PUBLISHED,
};
pub use qualified_state::{StateReport, SystemOutcome, SystemState};
pub use review::{AuditReview, ReviewInfo, ReviewPlan, ReviewRequest, AUDIT_TRAIL_SUBJECT};
pub use revocation::{AdminRevokePlan, AdminRevokeRequest};
pub use runs::{FileContent, RunSummary, RunView, StateAct, StateCheck};
pub use session::{SigningSession, DEFAULT_MAX_CLOCK_SKEW_SECS};
pub use sign_in::{SignInMethod, SignInPrompt};
pub use signing::{
    ReopenRequest, SignPlan, SignRequest, SignSecrets, SignatureInfo, SignatureView, Supersession,
    DEFAULT_POLICY_JSON, POLICY_FILE,
};
pub use snapshot::SnapshotTaken;
pub use state_export::{StateExport, StateList};
pub use sync_mark::SYNC_COMPLETED;
pub use todo::{Todo, TodoCount, TodoItem, TodoKind, TodoWarning};

/// File name of the ledger inside the home directory.
pub const LEDGER_FILE: &str = "ledger.sqlite";
/// Directory of the evidence store inside the home directory.
pub const STORE_DIR: &str = "store";

/// An open Countersign home.
#[derive(Debug)]
pub struct Service {
    home: PathBuf,
    env: Env,
    store: Store,
    ledger: Mutex<Ledger>,
    /// Opened read-only (an auditor's copy): nothing can be recorded.
    read_only: bool,
}

impl Service {
    pub fn home(&self) -> &Path {
        &self.home
    }

    /// Now, from the environment's clock, in the user's offset.
    pub fn now(&self) -> time::OffsetDateTime {
        self.env.clock.now()
    }

    /// The environment this service was opened with.
    pub(crate) fn env(&self) -> &Env {
        &self.env
    }

    /// An AWS context for the user's `settings`, through the environment's connector.
    pub(crate) async fn aws(&self, settings: &AwsSettings) -> Result<AwsContext, ServiceError> {
        Ok(self.env.aws.connect(settings).await?)
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
