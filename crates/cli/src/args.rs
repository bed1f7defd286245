//! The command-line contract (see docs/cli.md). Names here are stable; rename none without a
//! deprecation path.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use countersign_core::layout::{BucketName, Prefix, S3Location};
use countersign_core::signature::predicate::Meaning;
use countersign_service::{AwsSettings, ServiceError};

/// Countersign: review, e-sign and package qualification evidence (IQ/OQ/PQ) from AWS.
#[derive(Debug, Parser)]
#[command(name = "countersign", version, propagate_version = true)]
#[command(
    after_help = "Exit codes: 0 success; 1 a definite no (verification failed, policy refused); \
2 bad usage or input; 3 environment trouble (network, AWS, I/O)."
)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
pub struct Global {
    /// Where the ledger, the evidence store and the encrypted keys live.
    #[arg(long, global = true, env = "COUNTERSIGN_HOME", value_name = "DIR")]
    pub home: Option<PathBuf>,
    /// AWS profile (default: AWS_PROFILE, then "default").
    #[arg(long, global = true, value_name = "NAME")]
    pub profile: Option<String>,
    /// AWS region (default: AWS_REGION, then the profile's region).
    #[arg(long, global = true, value_name = "NAME")]
    pub region: Option<String>,
    /// An S3/STS/CloudFormation-compatible endpoint, e.g. a local emulator.
    #[arg(long, global = true, env = "AWS_ENDPOINT_URL", value_name = "URL")]
    pub endpoint_url: Option<String>,
    /// Machine-readable output: one JSON document on stdout.
    #[arg(long, global = true)]
    pub json: bool,
}

impl Global {
    pub fn aws(&self) -> AwsSettings {
        AwsSettings {
            profile: self.profile.clone(),
            region: self.region.clone(),
            endpoint_url: self.endpoint_url.clone(),
            force_path_style: self.endpoint_url.is_some(),
        }
    }

    /// `--home`, else `$XDG_DATA_HOME/countersign`, else `~/.local/share/countersign`.
    pub fn home_dir(&self) -> Result<PathBuf, ServiceError> {
        if let Some(h) = &self.home {
            return Ok(h.clone());
        }
        if let Some(x) = std::env::var_os("XDG_DATA_HOME").filter(|v| !v.is_empty()) {
            return Ok(PathBuf::from(x).join("countersign"));
        }
        match std::env::var_os("HOME").filter(|v| !v.is_empty()) {
            Some(h) => Ok(PathBuf::from(h).join(".local/share/countersign")),
            None => Err(ServiceError::bad_input(
                "no home directory: pass --home DIR or set COUNTERSIGN_HOME",
            )),
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// The demo dataset: seed an emulator or a sandbox account.
    Demo {
        #[command(subcommand)]
        command: DemoCommand,
    },
    /// Sync runs and audit evidence from s3://BUCKET/PREFIX/ into the verified local store.
    Fetch(FetchArgs),
    /// Bring a folder or .zip laid out like the bucket into the verified store (offline review).
    Import(ImportArgs),
    /// List the runs in the store: id, system, phase, status, totals.
    Runs,
    /// Show one run: totals, failures first, requirements, evidence with digests and integrity.
    Show(ShowArgs),
    /// Validate the CloudTrail digest chain offline; show a stack's CloudTrail events and Config items.
    AuditEvidence(AuditEvidenceArgs),
    /// Qualified state: for each approved system, what changed since approval, the CloudTrail
    /// coverage and every gap, and the verdict (from the evidence in this home).
    State(StateArgs),
    /// Impact assessment of one change `state` shows (Part 11 signature meaning Assessed; asks
    /// for the MFA code and the key passphrase, never in argv).
    Assess(AssessArgs),
    /// The audit trail: verify the hash chain, export it.
    Ledger {
        #[command(subcommand)]
        command: LedgerCommand,
    },
    /// Record a disposition of a failed or errored case: a deviation raised, or accepted.
    Disposition(DispositionArgs),
    /// Signer keys: create, enroll to your MFA-backed IAM identity, revoke, export.
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// Part 11 signature on a run (asks for the MFA code and the key passphrase; never in argv).
    Sign(SignArgs),
    /// Re-open a signed run for correction: a signature meaning Reopened, with the same MFA and
    /// passphrase, by someone the policy allows to approve the run. Its earlier signatures then
    /// show as superseded, its dispositions can change again, and a new review follows.
    Reopen(ReopenArgs),
    /// What is waiting for you: the runs you may act on now under the signing policy (cases to
    /// disposition, runs to review or approve, runs whose signatures no longer verify), counts per system
    /// and phase, and runs lacking protocol, executor or execution time.
    Todo(TodoArgs),
    /// Build a validation package: a PDF with the machine-readable record embedded, and
    /// optionally the bundle with the original evidence (docs/package-format.md).
    Package(PackageArgs),
    /// Verify a package offline: a PDF, a bundle folder or a bundle .zip; exit 1 naming the
    /// first failed check.
    Verify(VerifyArgs),
    /// Hand a signed run to the next signer's desktop through S3, or take it over from there.
    Signoff {
        #[command(subcommand)]
        command: SignoffCommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum DemoCommand {
    /// Upload the bundled demo qualification dataset and create its CloudFormation stacks.
    Seed(SeedArgs),
}

#[derive(Debug, Args)]
pub struct SeedArgs {
    /// Bucket to create and upload to.
    #[arg(long)]
    pub bucket: BucketName,
    /// Key prefix inside the bucket.
    #[arg(long, default_value = "")]
    pub prefix: Prefix,
}

#[derive(Debug, Args)]
pub struct FetchArgs {
    /// Source bucket.
    #[arg(long)]
    pub bucket: BucketName,
    /// Key prefix: runs are found at PREFIX/<system>/<phase>/<run-id>/.
    #[arg(long, default_value = "")]
    pub prefix: Prefix,
    /// Parallel downloads (1-64).
    #[arg(long, default_value_t = countersign_service::DEFAULT_FETCH_CONCURRENCY)]
    pub concurrency: usize,
    /// CloudFormation stack (name or ARN) qualified by the fetched runs whose run.json names none;
    /// each qualified stack is snapshotted after the downloads.
    #[arg(long, value_name = "NAME")]
    pub stack: Option<String>,
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// A folder whose root is the prefix root (<system>/<phase>/<run-id>/…, AWSLogs/…), or a .zip of one.
    pub path: PathBuf,
}

#[derive(Debug, Args)]
pub struct ShowArgs {
    /// SYSTEM/PHASE/RUN-ID, or an unambiguous RUN-ID.
    pub run: String,
    /// Print one stored file of the run instead (its path as `show` lists it), re-read from
    /// the store and re-verified against its digest; exit 1 when it no longer matches.
    #[arg(long, value_name = "PATH")]
    pub file: Option<String>,
}

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct StateArgs {
    /// Sign a periodic review, or build its report.
    #[command(subcommand)]
    pub command: Option<StateCommand>,
    /// Only this system (e.g. LIMS); without it, every system with runs in this home.
    #[arg(value_name = "SYSTEM")]
    pub system: Option<String>,
    /// The trail's public key(s): PEM, or the JSON of `aws cloudtrail list-public-keys`.
    /// Without it, digest signatures are not checked and no period counts as covered.
    #[arg(long, value_name = "FILE")]
    pub public_key: Option<PathBuf>,
    /// Write this list as CSV to --out instead of printing the state: `changes` (every change
    /// since approval, with its differences and assessment) or `events` (every CloudTrail call
    /// on the stacks' resources since approval).
    #[arg(long, value_enum, value_name = "LIST", requires = "out")]
    pub csv: Option<StateListArg>,
    /// The new CSV file (never overwritten).
    #[arg(long, value_name = "FILE", requires = "csv")]
    pub out: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum StateCommand {
    /// Periodic review: sign the findings of SYSTEM over a past period (Part 11 signature
    /// meaning PeriodicallyReviewed; shows the findings first, then asks for the MFA code and
    /// the key passphrase, never in argv).
    Review(StateReviewArgs),
    /// Build the Periodic Review Report PDF of a signed review, verifiable offline with
    /// `countersign verify`.
    Report(StateReportArgs),
}

#[derive(Debug, Args)]
pub struct StateReviewArgs {
    /// The system (e.g. LIMS).
    #[arg(value_name = "SYSTEM")]
    pub system: String,
    /// The period reviewed: FROM..TO, dates (00:00 UTC) or RFC 3339 times, e.g.
    /// 2026-11-01..2026-12-01. It must be over.
    #[arg(long, value_name = "FROM..TO")]
    pub period: String,
    /// What was reviewed and found (mandatory).
    #[arg(long, value_name = "TEXT")]
    pub reason: String,
    /// The trail's public key(s), as for `state`: without it no period counts as covered.
    #[arg(long, value_name = "FILE")]
    pub public_key: Option<PathBuf>,
    #[command(flatten)]
    pub signer: SignerArgs,
}

#[derive(Debug, Args)]
pub struct StateReportArgs {
    /// The system (e.g. LIMS).
    #[arg(value_name = "SYSTEM")]
    pub system: String,
    /// The period as it was reviewed: FROM..TO.
    #[arg(long, value_name = "FROM..TO")]
    pub period: String,
    /// The new PDF (never overwritten).
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    /// Mark the report as demo even if no demo file is recognised.
    #[arg(long)]
    pub demo: bool,
}

/// `state --csv`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum StateListArg {
    Changes,
    Events,
}

#[derive(Debug, Args)]
pub struct AssessArgs {
    /// The system (e.g. LIMS).
    #[arg(value_name = "SYSTEM")]
    pub system: String,
    /// The change's id, as `countersign state` shows it (64 hex).
    #[arg(value_name = "CHANGE")]
    pub change: String,
    /// no_impact (also: none) or requalification_needed (also: requalification).
    #[arg(long, value_name = "IMPACT")]
    pub impact: countersign_core::qualified_state::Impact,
    /// The change-control reference, e.g. CC-2026-0412.
    #[arg(long, value_name = "ID")]
    pub reference: Option<String>,
    /// Why the change has this impact (mandatory).
    #[arg(long, value_name = "TEXT")]
    pub reason: String,
    #[command(flatten)]
    pub signer: SignerArgs,
}

#[derive(Debug, Args)]
pub struct AuditEvidenceArgs {
    /// The trail's public key(s): PEM, or the JSON of `aws cloudtrail list-public-keys`.
    /// Without it, digest signatures are not checked and the chain does not validate.
    #[arg(long, value_name = "FILE")]
    pub public_key: Option<PathBuf>,
    /// Only the events and Config items of this CloudFormation stack (name or ARN).
    #[arg(long, value_name = "NAME")]
    pub stack: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum LedgerCommand {
    /// Re-derive every hash of the audit trail and check its links; names the first bad entry.
    /// With published checkpoints, also detects a ledger rolled back to an older copy.
    Verify(LedgerVerifyArgs),
    /// Write the audit trail as CSV or JSON, optionally filtered (the export is itself recorded).
    Export(ExportArgs),
    /// Sign the ledger's head with your enrolled key and record it; optionally publish it to S3
    /// under Object Lock (COMPLIANCE).
    Checkpoint(CheckpointArgs),
    /// Append the entries not yet published to s3://BUCKET/PREFIX/audit-trail/ as JSON Lines
    /// under Object Lock (COMPLIANCE), for queries across every desktop (Athena).
    Publish(PublishArgs),
    /// Part 11 signature: "audit trail reviewed up to entry N" (MFA code + passphrase).
    Review(ReviewArgs),
    /// A consistent copy of the ledger while Countersign runs (never over an existing file).
    Backup(BackupArgs),
    /// Restore the ledger from a backup after verifying it.
    Restore(RestoreArgs),
    /// Start a new, empty audit trail over an evidence store whose ledger was lost (the decision
    /// is recorded with its reason). Restoring a backup is the better way when there is one.
    StartOver(StartOverArgs),
}

#[derive(Debug, Args)]
pub struct LedgerVerifyArgs {
    /// Also compare with the checkpoints published under s3://BUCKET/PREFIX/checkpoints/.
    #[arg(
        long,
        value_name = "s3://BUCKET/PREFIX",
        conflicts_with = "checkpoint_dir"
    )]
    pub checkpoints: Option<S3Location>,
    /// Also compare with the checkpoint .json files in this folder.
    #[arg(long, value_name = "DIR")]
    pub checkpoint_dir: Option<PathBuf>,
    /// Also re-hash every stored evidence object the ledger lists; changed or missing objects
    /// are named and the command exits 1.
    #[arg(long)]
    pub evidence: bool,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    #[arg(long, value_enum)]
    pub format: ExportFormatArg,
    /// Output file (never overwritten).
    #[arg(long)]
    pub out: PathBuf,
    /// Only entries at or after this time (2026-03-01 or 2026-03-01T09:30:00Z).
    #[arg(long, value_name = "TIME")]
    pub since: Option<String>,
    /// Only entries before this time (exclusive).
    #[arg(long, value_name = "TIME")]
    pub until: Option<String>,
    /// Only entries by this person (IAM ARN or printed name) or `system`.
    #[arg(long, value_name = "WHO")]
    pub actor: Option<String>,
    /// Only entries about this object id (a run key, an S3 URI, a key id, …).
    #[arg(long, value_name = "ID")]
    pub object: Option<String>,
    /// Only entries about objects of this kind (run, object, key, ledger, …).
    #[arg(long, value_name = "KIND")]
    pub object_kind: Option<String>,
    /// Only entries with this action (object.stored, signature.applied, …).
    #[arg(long, value_name = "ACTION")]
    pub action: Option<String>,
    /// Match --actor, --object, --object-kind and --action as parts, in any letter case (as the
    /// app's filters do): `--action signature --contains` takes every signature entry.
    #[arg(long)]
    pub contains: bool,
}

#[derive(Debug, Args)]
pub struct CheckpointArgs {
    /// Publish the checkpoint JSON to s3://BUCKET/PREFIX/checkpoints/ under Object Lock.
    #[arg(long, value_name = "s3://BUCKET/PREFIX")]
    pub publish: Option<S3Location>,
    /// Days of COMPLIANCE retention (default: retention_days in <home>/checkpoint.json).
    #[arg(long, value_name = "N")]
    pub retention_days: Option<u32>,
    /// Your enrolled key (needed only when the home holds several).
    #[arg(long, value_name = "KEY_ID")]
    pub key: Option<String>,
    /// Read the passphrase from this file (`-` = standard input) instead of the terminal.
    #[arg(long, value_name = "FILE")]
    pub passphrase_file: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct PublishArgs {
    /// Where: the trail goes under PREFIX/audit-trail/ledger=<ledger id>/date=<YYYY-MM-DD>/.
    #[arg(value_name = "s3://BUCKET/PREFIX")]
    pub to: S3Location,
    /// Days of COMPLIANCE retention (default: retention_days in <home>/checkpoint.json).
    #[arg(long, value_name = "N")]
    pub retention_days: Option<u32>,
    /// Also publish each approved system's qualified state, checked now, under
    /// PREFIX/state/system_key=<system>/date=<YYYY-MM-DD>/.
    #[arg(long)]
    pub state: bool,
    /// The trail's public key(s) for the state's CloudTrail coverage, as for `state`.
    #[arg(long, value_name = "FILE", requires = "state")]
    pub public_key: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ReviewArgs {
    /// The last audit-trail entry reviewed.
    #[arg(long, value_name = "N")]
    pub up_to: u64,
    /// What was reviewed and found (mandatory).
    #[arg(long, value_name = "TEXT")]
    pub reason: String,
    #[command(flatten)]
    pub signer: SignerArgs,
}

#[derive(Debug, Args)]
pub struct BackupArgs {
    /// The copy to write (never overwritten).
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
}

#[derive(Debug, Args)]
pub struct RestoreArgs {
    /// The backup to restore.
    pub file: PathBuf,
    /// Replace a ledger in use: it is set aside beside itself (kept, never deleted).
    #[arg(long)]
    pub replace: bool,
}

#[derive(Debug, Args)]
pub struct StartOverArgs {
    /// Why the lost ledger cannot be restored from a backup (recorded).
    #[arg(long)]
    pub reason: String,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ExportFormatArg {
    Csv,
    Json,
}

impl From<ExportFormatArg> for countersign_service::ExportFormat {
    fn from(f: ExportFormatArg) -> Self {
        match f {
            ExportFormatArg::Csv => countersign_service::ExportFormat::Csv,
            ExportFormatArg::Json => countersign_service::ExportFormat::Json,
        }
    }
}

#[derive(Debug, Args)]
pub struct DispositionArgs {
    /// SYSTEM/PHASE/RUN-ID, or an unambiguous RUN-ID.
    pub run: String,
    /// The case id, as `show` lists it.
    pub case: String,
    /// deviation (a deviation was raised) or accepted.
    #[arg(long, value_parser = ["deviation", "accepted"])]
    pub kind: String,
    /// The deviation or change reference.
    #[arg(long = "ref", value_name = "ID")]
    pub reference: String,
    /// Why (mandatory).
    #[arg(long, value_name = "TEXT")]
    pub reason: String,
    #[command(flatten)]
    pub signer: SignerArgs,
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Create your ed25519 signing key, encrypted with a passphrase (asked twice).
    Init(KeysInitArgs),
    /// Bind your key to the IAM identity of an MFA-backed STS session (Part 11 certification).
    Enroll(KeysEnrollArgs),
    /// Revoke an enrolled key; its signatures then verify as made with a revoked key.
    Revoke(KeysRevokeArgs),
    /// Print a public key (PEM and hex) and its key id.
    Export(KeysExportArgs),
    /// List the keys in this home and their enrollment.
    List,
}

#[derive(Debug, Args)]
pub struct KeysInitArgs {
    /// Your full name as it should appear on signed records.
    #[arg(long, value_name = "FULL NAME")]
    pub name: String,
    /// Read the passphrase from this file (`-` = standard input) instead of the terminal.
    #[arg(long, value_name = "FILE")]
    pub passphrase_file: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct KeysEnrollArgs {
    /// Your MFA device: virtual device ARN or hardware serial (default: `mfa_serial` in the AWS
    /// profile, as the AWS CLI reads it).
    #[arg(long, value_name = "ARN")]
    pub mfa_serial: Option<String>,
    /// The key to enroll (needed only when the home holds several).
    #[arg(long, value_name = "KEY_ID")]
    pub key: Option<String>,
    /// Accept the Part 11 certification statement without the prompt.
    #[arg(long)]
    pub accept_certification: bool,
    /// Read the MFA code from this file (`-` = standard input) instead of the terminal.
    #[arg(long, value_name = "FILE")]
    pub mfa_code_file: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct KeysRevokeArgs {
    /// The key id.
    #[arg(long, value_name = "KEY_ID")]
    pub key: String,
    /// Why (mandatory).
    #[arg(long, value_name = "TEXT")]
    pub reason: String,
    /// Read the key's passphrase (its owner's) from this file (`-` = standard input) instead
    /// of the terminal; with --as-administrator, your own key's passphrase.
    #[arg(long, value_name = "FILE")]
    pub passphrase_file: Option<PathBuf>,
    /// Revoke someone else's key as an administrator the signing policy names (its owner
    /// cannot give its passphrase): you authenticate with your MFA device and your own key.
    #[arg(long)]
    pub as_administrator: bool,
    /// Your own enrolled key, as administrator (needed only when the home holds several).
    #[arg(long, value_name = "KEY_ID", requires = "as_administrator")]
    pub admin_key: Option<String>,
    /// Your MFA device, as administrator (default: the one used at enrollment).
    #[arg(long, value_name = "ARN", requires = "as_administrator")]
    pub mfa_serial: Option<String>,
    /// Read your MFA code from this file (`-` = standard input) instead of the terminal.
    #[arg(long, value_name = "FILE", requires = "as_administrator")]
    pub mfa_code_file: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct KeysExportArgs {
    /// The key id (default: the only key in this home).
    #[arg(long, value_name = "KEY_ID")]
    pub key: Option<String>,
}

#[derive(Debug, Args)]
pub struct SignArgs {
    /// SYSTEM/PHASE/RUN-ID, or an unambiguous RUN-ID.
    pub run: String,
    /// What the signature means: Authored, Reviewed, Approved or Rejected (any case).
    #[arg(long, value_name = "MEANING")]
    pub meaning: Meaning,
    /// Why (mandatory); shown with the signature.
    #[arg(long, value_name = "TEXT")]
    pub reason: String,
    #[command(flatten)]
    pub signer: SignerArgs,
}

#[derive(Debug, Args)]
pub struct TodoArgs {
    /// Whose list: the enrolled key's id (needed when the home holds several enrolled keys).
    #[arg(long, value_name = "KEY_ID")]
    pub key: Option<String>,
}

#[derive(Debug, Args)]
pub struct ReopenArgs {
    /// SYSTEM/PHASE/RUN-ID, or an unambiguous RUN-ID.
    pub run: String,
    /// Why the run is re-opened (mandatory); shown wherever its superseded signatures are.
    #[arg(long, value_name = "TEXT")]
    pub reason: String,
    #[command(flatten)]
    pub signer: SignerArgs,
}

#[derive(Debug, Subcommand)]
pub enum SignoffCommand {
    /// Publish the run's record, its valid signatures and the signers' public keys to
    /// s3://BUCKET/PREFIX/<system>/<phase>/<run-id>/signoff/ (never over a different object).
    Publish(SignoffPublishArgs),
    /// Fetch a published sign-off, verify every item against this desktop, record the accepted
    /// signatures; exit 1 when any item is refused.
    Fetch(SignoffFetchArgs),
}

#[derive(Debug, Args)]
pub struct SignoffPublishArgs {
    /// SYSTEM/PHASE/RUN-ID, or an unambiguous RUN-ID.
    pub run: String,
    /// Where to publish: s3://BUCKET/PREFIX.
    #[arg(long, value_name = "S3_URI")]
    pub to: S3Location,
    /// Put the objects with Object Lock COMPLIANCE retention for this many days (the bucket
    /// must have Object Lock enabled); meant for final records.
    #[arg(long, value_name = "N")]
    pub object_lock_days: Option<u32>,
}

#[derive(Debug, Args)]
pub struct SignoffFetchArgs {
    /// SYSTEM/PHASE/RUN-ID, or an unambiguous RUN-ID (already fetched into this home).
    pub run: String,
    /// Where the sign-off was published: s3://BUCKET/PREFIX.
    #[arg(long, value_name = "S3_URI")]
    pub from: S3Location,
}

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct PackageArgs {
    /// Publish a built package to write-once storage.
    #[command(subcommand)]
    pub command: Option<PackageCommand>,
    /// The runs: SYSTEM/PHASE/RUN-ID, or unambiguous RUN-IDs.
    #[arg(required = true)]
    pub runs: Vec<String>,
    /// The PDF to write (never overwritten).
    #[arg(long, value_name = "FILE.pdf", required = true)]
    pub out: Option<PathBuf>,
    /// Also write the bundle (manifest, PDF, every file, original evidence): a new folder, or a
    /// file ending in .zip.
    #[arg(long, value_name = "DIR|FILE.zip")]
    pub bundle: Option<PathBuf>,
    /// Title on the cover (default: "<systems> qualification package").
    #[arg(long, value_name = "TEXT")]
    pub title: Option<String>,
    /// Mark the package "DEMO — NOT FOR GxP USE" (automatic for runs of the demo dataset).
    #[arg(long)]
    pub demo: bool,
    /// The trail's public key(s) (PEM, or `aws cloudtrail list-public-keys` JSON), to validate
    /// the CloudTrail digest chain reported in the package.
    #[arg(long, value_name = "FILE")]
    pub trail_public_key: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum PackageCommand {
    /// Publish a final package (it verifies, is exactly as this desktop built it, and every run
    /// is approved by verified signatures) to s3://BUCKET/PREFIX/<package-id>/, written once
    /// under Object Lock COMPLIANCE retention; `countersign verify s3://…` reads it back.
    Publish(PackagePublishArgs),
    /// Sign the package itself: Reviewed, then Approved (docs/package-format.md §15). The
    /// signature covers every byte of the PDF with your approval page appended; the signed
    /// PDF is written to --out. Every run must be approved first.
    Sign(PackageSignArgs),
    /// The packages this home built, newest first: runs, and the approvals and publications
    /// recorded for each (the home's record; `verify` proves a file).
    List,
}

#[derive(Debug, Args)]
pub struct PackageSignArgs {
    /// The package PDF: as `countersign package` wrote it, or as the last approval left it.
    #[arg(value_name = "FILE.pdf")]
    pub pdf: PathBuf,
    /// What the signature means: Reviewed or Approved (any case).
    #[arg(long, value_name = "MEANING")]
    pub meaning: Meaning,
    /// Why (mandatory); printed on the approval page.
    #[arg(long, value_name = "TEXT")]
    pub reason: String,
    /// The signed PDF to write (never overwritten).
    #[arg(long, value_name = "FILE.pdf")]
    pub out: PathBuf,
    #[command(flatten)]
    pub signer: SignerArgs,
}

#[derive(Debug, Args)]
pub struct PackagePublishArgs {
    /// The package PDF, as `countersign package` wrote it.
    #[arg(value_name = "FILE.pdf")]
    pub pdf: PathBuf,
    /// Publish its bundle too: the .zip `countersign package --bundle NAME.zip` wrote.
    #[arg(long, value_name = "FILE.zip")]
    pub bundle: Option<PathBuf>,
    /// Where to: s3://BUCKET/PREFIX (the bucket must have Object Lock enabled).
    #[arg(long, value_name = "S3_URI")]
    pub to: S3Location,
    /// Object Lock COMPLIANCE retention in days: nobody, the account's root user included, can
    /// delete or overwrite the objects before it ends.
    #[arg(long, value_name = "N")]
    pub object_lock_days: u32,
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// A package PDF, a bundle folder, a bundle .zip, or a published one:
    /// s3://BUCKET/KEY (read with the AWS flags).
    pub path: PathBuf,
    /// Keys you trust (PEM blocks as `keys export` prints, hex public keys or key ids, or
    /// countersign.public-key/v1 JSON); every key in the package must be one of them.
    #[arg(long, value_name = "FILE")]
    pub trusted_keys: Option<PathBuf>,
}

/// Who signs and where the signature components come from: the same four flags on every
/// signing command (`sign`, `ledger review`, `assess`).
#[derive(Debug, Args)]
pub struct SignerArgs {
    /// Your MFA device (default: the one used at enrollment).
    #[arg(long, value_name = "ARN")]
    pub mfa_serial: Option<String>,
    /// Your enrolled key (needed only when the home holds several).
    #[arg(long, value_name = "KEY_ID")]
    pub key: Option<String>,
    /// Read the passphrase from this file (`-` = standard input) instead of the terminal.
    #[arg(long, value_name = "FILE")]
    pub passphrase_file: Option<PathBuf>,
    /// Read the MFA code from this file (`-` = standard input) instead of the terminal (not
    /// with an IAM Identity Center profile, which signs in through the browser).
    #[arg(long, value_name = "FILE")]
    pub mfa_code_file: Option<PathBuf>,
}

impl SignerArgs {
    /// Refuses what cannot work before anything is looked up: both secrets from standard input.
    pub fn check(&self) -> Result<(), countersign_service::ServiceError> {
        if crate::signoff::both_stdin(
            self.passphrase_file.as_deref(),
            self.mfa_code_file.as_deref(),
        ) {
            return Err(countersign_service::ServiceError::bad_input(
                "--passphrase-file and --mfa-code-file cannot both be standard input",
            ));
        }
        Ok(())
    }
}
