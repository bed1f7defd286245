//! The commands the window may call. Each is a one-line adapter over the service layer; errors
//! reach the window as a [`WindowError`]: the service's code, its message in the window's words
//! and the field it is about (`ui/errors.js` mirrors the codes).
//!
//! Every command here must also be listed in `build.rs` and granted in `capabilities/main.json`.

use countersign_core::trace::Traceability;
use countersign_ledger::{CaseDispositionRecord, EventRecord};
use countersign_service::{
    AdminRevokePlan, AssessInfo, AssessPlan, AuditEvidenceReport, AuditReview, BackupInfo,
    CasePage, CaseQuery, ChainReport, CheckpointInfo, DispositionPlan, Enrollment, FetchProgress,
    FetchReport, FetchSignoffReport, FileContent, ImportReport, ImportRequest, KeyInfo,
    LedgerVerification, PackageBuilt, PackageEntry, PackageProgress, PackagePublished,
    PackageSignPlan, PackageSigned, PackageVerification, PeriodicReviewInfo, PeriodicReviewPlan,
    PublicKeyExport, PublishReport, RestoreReport, ReviewInfo, ReviewPlan, ReviewReportBuilt,
    RunHead, RunSummary, RunView, Service, SignInMethod, SignInPrompt, SignPlan, SignatureInfo,
    SignatureView, StateExport, StateReport,
};
use serde::Serialize;
use tauri::ipc::Channel;
use tauri::{AppHandle, Runtime, State};
use tauri_plugin_opener::OpenerExt;

use crate::files::WrittenFiles;
use crate::forms::{
    AdminRevokeForm, AssessForm, AuditEvidenceForm, AuditExportForm, AuditFilterForm, AwsForm,
    BackupForm, CheckpointForm, DispositionForm, EnrollForm, ImportForm, KeySaveForm, NewKeyForm,
    PackageForm, PackagePublishForm, PackageSignForm, PassphraseForm, PeriodicReviewForm,
    PublishedCheckpointsForm, ReopenForm, RestoreForm, ReviewForm, ReviewReportForm, RevokeForm,
    SecretsForm, SignForm, SignedInEnrollForm, SignoffForm, StateExportForm, StateForm, VerifyForm,
};
use crate::open_run::OpenRun;
use crate::signing::{SessionState, SignDesk};
use crate::startup::DemoConnection;
use crate::sync::{ConnectForm, FetchSlot, PackageSlot};
use crate::wording::{self, Field, WindowError};

/// What the window needs to know about this app instance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AppInfo {
    /// The Countersign home in use (ledger, store, keys).
    pub home: String,
    /// The app version.
    pub version: String,
    /// Set when the demo started the app: the Connect screen preselects it.
    pub demo: Option<DemoConnection>,
    /// Where exports (packages, audit-trail files) are suggested: the documents folder.
    pub export_dir: String,
}

/// The home, version and demo connection.
#[tauri::command]
pub fn app_info(info: State<'_, AppInfo>) -> AppInfo {
    info.inner().clone()
}

/// Every run in the store, sorted by system, phase and run id.
#[tauri::command]
pub async fn list_runs(service: State<'_, Service>) -> Result<Vec<RunSummary>, WindowError> {
    Ok(service.runs()?)
}

/// What is waiting for the holder of `key_id` (or of the home's only enrolled key).
#[tauri::command]
pub async fn todo(
    service: State<'_, Service>,
    key_id: Option<String>,
) -> Result<countersign_service::Todo, WindowError> {
    Ok(service.todo(key_id.as_deref())?)
}

/// One run in full, cases failures first.
#[tauri::command]
pub async fn show_run(service: State<'_, Service>, run: String) -> Result<RunView, WindowError> {
    Ok(service.show(&run)?)
}

/// Opens a run for review: read and verified once, kept for the pages of cases that follow;
/// everything but its cases and traceability matrix.
#[tauri::command]
pub async fn open_run(
    service: State<'_, Service>,
    open: State<'_, OpenRun>,
    run: String,
) -> Result<RunHead, WindowError> {
    Ok(open.open(&service, &run)?.head())
}

/// A page of the open run's cases, failures first, filtered and searched.
#[tauri::command]
pub async fn run_cases(
    service: State<'_, Service>,
    open: State<'_, OpenRun>,
    run: String,
    query: CaseQuery,
) -> Result<CasePage, WindowError> {
    Ok(open.view(&service, &run)?.cases_page(&query)?)
}

/// The open run's traceability matrix.
#[tauri::command]
pub async fn run_traceability(
    service: State<'_, Service>,
    open: State<'_, OpenRun>,
    run: String,
) -> Result<Traceability, WindowError> {
    Ok(open.view(&service, &run)?.run.traceability.clone())
}

/// One stored file of a run, re-verified against its digest.
#[tauri::command]
pub async fn open_file(
    service: State<'_, Service>,
    run: String,
    path: String,
) -> Result<FileContent, WindowError> {
    Ok(service.open_file(&run, &path)?)
}

/// Syncs the form's bucket into the store, streaming progress; one sync at a time.
#[tauri::command]
pub async fn fetch(
    service: State<'_, Service>,
    slot: State<'_, FetchSlot>,
    form: ConnectForm,
    on_progress: Channel<FetchProgress>,
) -> Result<FetchReport, WindowError> {
    let (request, running) = (form.to_request()?, slot.begin()?);
    // A closed window drops the channel; the sync still completes into the store.
    let progress = move |p: &FetchProgress| {
        let _ = on_progress.send(p.clone());
    };
    Ok(service.fetch(&request, &progress, &running.token).await?)
}

/// Imports a folder or `.zip` laid out like the bucket, checked as a sync checks it, streaming
/// progress; shares the one sync slot (and so `cancel_fetch`) with `fetch`.
#[tauri::command]
pub async fn import_runs(
    service: State<'_, Service>,
    slot: State<'_, FetchSlot>,
    form: ImportForm,
    on_progress: Channel<FetchProgress>,
) -> Result<ImportReport, WindowError> {
    let (path, running) = (form.to_request()?, slot.begin()?);
    let progress = move |p: &FetchProgress| {
        let _ = on_progress.send(p.clone());
    };
    Ok(service.import(&ImportRequest::new(path), &progress, &running.token)?)
}

/// Cancels the running sync or import; answers whether one was running.
#[tauri::command]
pub fn cancel_fetch(slot: State<'_, FetchSlot>) -> Result<bool, WindowError> {
    Ok(slot.cancel()?)
}

/// Builds a validation package from runs (PDF, optional bundle), streaming each step; one at a
/// time, cancellable until it is written.
#[tauri::command]
pub async fn build_package(
    service: State<'_, Service>,
    slot: State<'_, PackageSlot>,
    written: State<'_, WrittenFiles>,
    form: PackageForm,
    on_progress: Channel<PackageProgress>,
) -> Result<PackageBuilt, WindowError> {
    let (request, running) = (form.to_request()?, slot.begin()?);
    let progress = move |p: &PackageProgress| {
        let _ = on_progress.send(p.clone());
    };
    let built = service.package(&request, &progress, &running.token)?;
    written.add(&built.pdf);
    if let Some(bundle) = &built.bundle {
        written.add(bundle);
    }
    Ok(built)
}

/// Cancels the package build in progress; answers whether one was running.
#[tauri::command]
pub fn cancel_package(slot: State<'_, PackageSlot>) -> Result<bool, WindowError> {
    Ok(slot.cancel()?)
}

/// Verifies any package file (PDF, bundle folder or zip) offline, check by check; recorded.
#[tauri::command]
pub async fn verify_package(
    service: State<'_, Service>,
    form: VerifyForm,
) -> Result<PackageVerification, WindowError> {
    let (path, trusted) = form.to_request()?;
    Ok(wording::verification(
        service.verify_package(&path, trusted.as_ref())?,
    ))
}

/// Verifies a published package read from S3 (`s3://BUCKET/KEY`), with the retention S3
/// reports for it; recorded.
#[tauri::command]
pub async fn verify_published_package(
    service: State<'_, Service>,
    form: VerifyForm,
    aws: AwsForm,
) -> Result<PackageVerification, WindowError> {
    let Some((uri, trusted)) = form.to_published()? else {
        return Err(WindowError::at(
            Field::Path,
            countersign_service::ServiceError::bad_input(
                "enter the published package as s3://BUCKET/KEY",
            ),
        ));
    };
    Ok(wording::verification(
        service
            .verify_published(&aws.settings()?, &uri, trusted.as_ref())
            .await?,
    ))
}

/// Publishes a final package to S3, written once under Object Lock COMPLIANCE retention;
/// recorded.
#[tauri::command]
pub async fn publish_package(
    service: State<'_, Service>,
    form: PackagePublishForm,
    aws: AwsForm,
) -> Result<PackagePublished, WindowError> {
    let req = form
        .to_request()
        .map_err(|(field, e)| WindowError::at(field, e))?;
    Ok(service.package_publish(&aws.settings()?, &req).await?)
}

/// The packages this home built, newest first, with the approvals and publications recorded.
#[tauri::command]
pub async fn list_packages(service: State<'_, Service>) -> Result<Vec<PackageEntry>, WindowError> {
    Ok(service.package_list()?)
}

/// What signing a package would sign (the PDF with the signer's approval page), decided
/// before any secret is asked for.
#[tauri::command]
pub async fn package_sign_check(
    service: State<'_, Service>,
    desk: State<'_, SignDesk>,
    form: PackageSignForm,
) -> Result<PackageSignPlan, WindowError> {
    desk.clock.set_offset_minutes(form.utc_offset_minutes);
    let req = form
        .to_request()
        .map_err(|(field, e)| WindowError::at(field, e))?;
    Ok(service.package_sign_check(&*desk.session.lock().await, &req)?)
}

/// Signs a package (Reviewed or Approved) in the signing session; the signed PDF is written
/// to the form's new file.
#[tauri::command]
pub async fn package_sign(
    service: State<'_, Service>,
    desk: State<'_, SignDesk>,
    written: State<'_, WrittenFiles>,
    form: PackageSignForm,
    aws: AwsForm,
    secrets: SecretsForm,
) -> Result<PackageSigned, WindowError> {
    desk.clock.set_offset_minutes(form.utc_offset_minutes);
    let req = form
        .to_request()
        .map_err(|(field, e)| WindowError::at(field, e))?;
    let mut session = desk.session.lock().await;
    let signed = service
        .package_sign(&aws.settings()?, &mut session, &req, secrets.into_secrets())
        .await?;
    written.add(&signed.out);
    Ok(signed)
}

/// The audit-trail entries matching the filter, in order.
#[tauri::command]
pub async fn audit_events(
    service: State<'_, Service>,
    filter: AuditFilterForm,
) -> Result<Vec<EventRecord>, WindowError> {
    Ok(service.ledger_events(&filter.to_filter()?)?)
}

/// Re-derives every hash of the audit trail.
#[tauri::command]
pub async fn audit_verify(service: State<'_, Service>) -> Result<ChainReport, WindowError> {
    Ok(service.ledger_verify()?)
}

/// Exports the (filtered) audit trail to a new file; answers the number of entries written.
#[tauri::command]
pub async fn audit_export(
    service: State<'_, Service>,
    written: State<'_, WrittenFiles>,
    form: AuditExportForm,
) -> Result<u64, WindowError> {
    let (format, filter, out) = form.to_request()?;
    let n = service.ledger_export_filtered(format, &filter, &out)?;
    written.add(&out);
    Ok(n)
}

/// Every audit-trail review, each verified against the trail as it stands now.
#[tauri::command]
pub async fn audit_reviews(service: State<'_, Service>) -> Result<Vec<AuditReview>, WindowError> {
    Ok(service.audit_reviews()?)
}

/// What marking the trail reviewed up to an entry would sign, before any secret.
#[tauri::command]
pub async fn review_check(
    service: State<'_, Service>,
    desk: State<'_, SignDesk>,
    form: ReviewForm,
) -> Result<ReviewCheck, WindowError> {
    desk.clock.set_offset_minutes(form.utc_offset_minutes);
    let req = form.to_request()?;
    let plan = service.review_check(&*desk.session.lock().await, &req)?;
    Ok(ReviewCheck {
        plan,
        reason: req.reason,
    })
}

/// What marking the trail reviewed would sign, with the reason exactly as it will be signed
/// (the reviewer's words and what the window displayed).
#[derive(Debug, Clone, Serialize)]
pub struct ReviewCheck {
    #[serde(flatten)]
    pub plan: ReviewPlan,
    pub reason: String,
}

/// Signs "audit trail reviewed up to entry N" (meaning Reviewed) in the signing session.
#[tauri::command]
pub async fn review_audit_trail(
    service: State<'_, Service>,
    desk: State<'_, SignDesk>,
    form: ReviewForm,
    aws: AwsForm,
    secrets: SecretsForm,
) -> Result<ReviewInfo, WindowError> {
    desk.clock.set_offset_minutes(form.utc_offset_minutes);
    let mut session = desk.session.lock().await;
    let (aws, req) = (aws.settings()?, form.to_request()?);
    Ok(service
        .ledger_review(&aws, &mut session, &req, secrets.into_secrets())
        .await?)
}

/// A consistent, verified copy of the ledger in a new file; recorded.
#[tauri::command]
pub async fn backup_ledger(
    service: State<'_, Service>,
    written: State<'_, WrittenFiles>,
    form: BackupForm,
) -> Result<BackupInfo, WindowError> {
    let out = form.to_request()?;
    let info = service.ledger_backup(&out)?;
    written.add(&out);
    Ok(info)
}

/// The signer keys in the home, with their enrollment.
#[tauri::command]
pub async fn list_keys(service: State<'_, Service>) -> Result<Vec<KeyInfo>, WindowError> {
    Ok(service.keys()?)
}

/// Creates a signer key sealed with the passphrase (typed twice).
#[tauri::command]
pub async fn create_key(
    service: State<'_, Service>,
    form: NewKeyForm,
) -> Result<KeyInfo, WindowError> {
    let (name, passphrase) = form.into_request()?;
    Ok(service.keys_init(&name, &passphrase)?)
}

/// Binds a key to the signer's MFA-backed IAM identity.
#[tauri::command]
pub async fn enroll_key(
    service: State<'_, Service>,
    form: EnrollForm,
) -> Result<Enrollment, WindowError> {
    let (aws, request) = form.into_request()?;
    Ok(service.keys_enroll(&aws, &request).await?)
}

/// The MFA device the chosen AWS profile names (`mfa_serial`), to prefill enrollment.
#[tauri::command]
pub async fn profile_mfa_device(
    service: State<'_, Service>,
    form: AwsForm,
) -> Result<Option<String>, WindowError> {
    Ok(service.profile_mfa_device(&form.settings()?).await?)
}

/// Binds a key to the identity of the IAM Identity Center sign-in started with
/// [`start_sign_in`] and approved in the browser.
#[tauri::command]
pub async fn enroll_key_signed_in(
    service: State<'_, Service>,
    desk: State<'_, SignDesk>,
    form: SignedInEnrollForm,
) -> Result<Enrollment, WindowError> {
    let aws = form.aws.settings()?;
    let mut session = desk.session.lock().await;
    Ok(service
        .keys_enroll_signed_in(
            &aws,
            form.key().as_deref(),
            form.accept_certification,
            &mut session,
        )
        .await?)
}

/// How a signing session opens with the chosen AWS profile: an MFA code, or an IAM Identity
/// Center sign-in in the browser.
#[tauri::command]
pub async fn sign_in_method(
    service: State<'_, Service>,
    form: AwsForm,
) -> Result<SignInMethod, WindowError> {
    Ok(service.sign_in_method(&form.settings()?).await?)
}

/// Starts an IAM Identity Center sign-in for the next signing or enrollment: the page to open
/// and the code it shows.
#[tauri::command]
pub async fn start_sign_in(
    service: State<'_, Service>,
    desk: State<'_, SignDesk>,
    form: AwsForm,
) -> Result<SignInPrompt, WindowError> {
    let mut session = desk.session.lock().await;
    Ok(service
        .start_sign_in(&form.settings()?, &mut session)
        .await?)
}

/// Opens the page of the sign-in started with [`start_sign_in`] in the desktop's browser. The
/// address is the one IAM Identity Center gave, never one from the window.
#[tauri::command]
pub async fn open_sign_in_page<R: Runtime>(
    app: AppHandle<R>,
    desk: State<'_, SignDesk>,
) -> Result<(), WindowError> {
    let Some(url) = desk.session.lock().await.pending_sign_in_url() else {
        return Err(countersign_service::ServiceError::bad_input(
            "no sign-in is waiting: start the IAM Identity Center sign-in first",
        )
        .into());
    };
    app.opener().open_url(&url, None::<&str>).map_err(|e| {
        countersign_service::ServiceError::storage(format!(
            "the desktop could not open the sign-in page ({e}); open {url} in your browser instead"
        ))
        .into()
    })
}

/// Revokes an enrolled key; its signatures then verify as made with a revoked key.
#[tauri::command]
pub async fn revoke_key(
    service: State<'_, Service>,
    form: RevokeForm,
    secret: PassphraseForm,
) -> Result<(), WindowError> {
    let (key_id, reason) = form.to_request()?;
    Ok(service.keys_revoke(&key_id, &reason, &secret.into_passphrase())?)
}

/// Checks an administrator's revocation of someone's key before any secret is asked for.
#[tauri::command]
pub async fn admin_revoke_check(
    service: State<'_, Service>,
    desk: State<'_, SignDesk>,
    form: AdminRevokeForm,
) -> Result<AdminRevokePlan, WindowError> {
    Ok(service.keys_revoke_as_admin_check(&*desk.session.lock().await, &form.to_request()?)?)
}

/// Revokes someone's key as an administrator the signing policy names, authenticated as at
/// signing (their session or MFA code, and their own key's passphrase).
#[tauri::command]
pub async fn admin_revoke(
    service: State<'_, Service>,
    desk: State<'_, SignDesk>,
    form: AdminRevokeForm,
    aws: AwsForm,
    secrets: SecretsForm,
) -> Result<AdminRevokePlan, WindowError> {
    let aws = aws.settings()?;
    let mut session = desk.session.lock().await;
    Ok(service
        .keys_revoke_as_admin(
            &aws,
            &mut session,
            &form.to_request()?,
            secrets.into_secrets(),
        )
        .await?)
}

/// A key's public half (PEM, hex, key id) for auditors.
#[tauri::command]
pub async fn export_key(
    service: State<'_, Service>,
    key_id: String,
) -> Result<PublicKeyExport, WindowError> {
    Ok(service.keys_export(Some(&key_id))?)
}

/// Saves a key's public half (PEM) to a new file, for auditors.
#[tauri::command]
pub async fn save_public_key(
    service: State<'_, Service>,
    written: State<'_, WrittenFiles>,
    form: KeySaveForm,
) -> Result<PublicKeyExport, WindowError> {
    let (key_id, out) = form.to_request()?;
    let export = service.keys_export_to(Some(&key_id), &out)?;
    written.add(&out);
    Ok(export)
}

/// Opens a file the app wrote in this run (a package PDF) in the desktop's default viewer.
#[tauri::command]
pub async fn open_written<R: Runtime>(
    app: AppHandle<R>,
    written: State<'_, WrittenFiles>,
    path: String,
) -> Result<(), WindowError> {
    let path = written.written(&path)?;
    app.opener()
        .open_path(path.display().to_string(), None::<&str>)
        .map_err(|e| desktop_refused("open", &path, &e))
}

/// Shows a file the app wrote in this run in the desktop's file manager (or, without one on the
/// session bus, opens its folder).
#[tauri::command]
pub async fn reveal_written<R: Runtime>(
    app: AppHandle<R>,
    written: State<'_, WrittenFiles>,
    path: String,
) -> Result<(), WindowError> {
    let path = written.written(&path)?;
    // A desktop without a file manager on the session bus still opens the folder.
    let folder = path.parent().unwrap_or(&path).display().to_string();
    app.opener()
        .reveal_item_in_dir(&path)
        .or_else(|_| app.opener().open_path(folder, None::<&str>))
        .map_err(|e| desktop_refused("show", &path, &e))
}

fn desktop_refused(what: &str, path: &std::path::Path, e: &dyn std::fmt::Display) -> WindowError {
    countersign_service::ServiceError::storage(format!(
        "the desktop could not {what} {} ({e}); open it from your file manager instead",
        path.display()
    ))
    .into()
}

/// What recording a disposition will do and who records it, before any secret is asked for.
#[tauri::command]
pub async fn disposition_check(
    service: State<'_, Service>,
    desk: State<'_, SignDesk>,
    form: DispositionForm,
) -> Result<DispositionPlan, WindowError> {
    let (request, key_id) = form.to_request()?;
    Ok(service.disposition_check(
        &*desk.session.lock().await,
        &request,
        key_id.as_deref(),
        None,
    )?)
}

/// Records a disposition of a failed or errored case as an authenticated act of the person
/// (their signing session or MFA code, and their key's passphrase).
#[tauri::command]
pub async fn record_disposition(
    service: State<'_, Service>,
    desk: State<'_, SignDesk>,
    form: DispositionForm,
    aws: AwsForm,
    secrets: SecretsForm,
) -> Result<CaseDispositionRecord, WindowError> {
    let (request, key_id) = form.to_request()?;
    let aws = aws.settings()?;
    let mut session = desk.session.lock().await;
    Ok(service
        .disposition(
            &aws,
            &mut session,
            &request,
            key_id.as_deref(),
            None,
            secrets.into_secrets(),
        )
        .await?)
}

/// The current disposition of each dispositioned case of a run (`SYSTEM/PHASE/RUN-ID`).
#[tauri::command]
pub async fn run_dispositions(
    service: State<'_, Service>,
    run: String,
) -> Result<Vec<CaseDispositionRecord>, WindowError> {
    Ok(service.current_dispositions(&run)?)
}

/// A run's signatures, each verified against the record as it stands now.
#[tauri::command]
pub async fn run_signatures(
    service: State<'_, Service>,
    run: String,
) -> Result<Vec<SignatureView>, WindowError> {
    Ok(service.signatures(&run)?)
}

/// What signing would sign, checked against the policy before any secret is asked for.
#[tauri::command]
pub async fn sign_check(
    service: State<'_, Service>,
    desk: State<'_, SignDesk>,
    form: SignForm,
) -> Result<SignPlan, WindowError> {
    desk.clock.set_offset_minutes(form.utc_offset_minutes);
    Ok(service.sign_check(&*desk.session.lock().await, &form.to_request()?)?)
}

/// Signs: MFA code (when the session is closed) and passphrase, then the envelope.
#[tauri::command]
pub async fn sign(
    service: State<'_, Service>,
    desk: State<'_, SignDesk>,
    form: SignForm,
    aws: AwsForm,
    secrets: SecretsForm,
) -> Result<SignatureInfo, WindowError> {
    desk.clock.set_offset_minutes(form.utc_offset_minutes);
    let mut session = desk.session.lock().await;
    Ok(service
        .sign(
            &aws.settings()?,
            &mut session,
            &form.to_request()?,
            secrets.into_secrets(),
        )
        .await?)
}

/// Checks a re-open before any secret: key, lockout, the authority to approve the run,
/// something signed to supersede.
#[tauri::command]
pub async fn reopen_check(
    service: State<'_, Service>,
    desk: State<'_, SignDesk>,
    form: ReopenForm,
) -> Result<SignPlan, WindowError> {
    desk.clock.set_offset_minutes(form.utc_offset_minutes);
    Ok(service.reopen_check(&*desk.session.lock().await, &form.to_request()?)?)
}

/// Re-opens a signed run: the same ceremony as a signature.
#[tauri::command]
pub async fn reopen(
    service: State<'_, Service>,
    desk: State<'_, SignDesk>,
    form: ReopenForm,
    aws: AwsForm,
    secrets: SecretsForm,
) -> Result<SignatureInfo, WindowError> {
    desk.clock.set_offset_minutes(form.utc_offset_minutes);
    let mut session = desk.session.lock().await;
    Ok(service
        .reopen(
            &aws.settings()?,
            &mut session,
            &form.to_request()?,
            secrets.into_secrets(),
        )
        .await?)
}

/// Whether the signing session is open, for whom, and for how long without a signing.
#[tauri::command]
pub async fn signing_session(
    service: State<'_, Service>,
    desk: State<'_, SignDesk>,
) -> Result<SessionState, WindowError> {
    let idle = service.signing_policy()?.0.session.idle_timeout_minutes;
    Ok(SessionState::of(
        &*desk.session.lock().await,
        service.now(),
        idle,
    ))
}

/// Ends the signing session now: the next signing needs the MFA code again.
#[tauri::command]
pub async fn lock_session(desk: State<'_, SignDesk>) -> Result<(), WindowError> {
    desk.session.lock().await.lock();
    Ok(())
}

/// Validates the CloudTrail digest chain in the store (with the trail's public key file when
/// given) and lists the events and AWS Config items of a stack, or of all stacks.
#[tauri::command]
pub async fn audit_evidence(
    service: State<'_, Service>,
    form: AuditEvidenceForm,
) -> Result<AuditEvidenceReport, WindowError> {
    let (key, stack) = form
        .to_request()
        .map_err(|e| WindowError::at(Field::Path, e))?;
    let key = key.as_ref().map(|(n, b)| (n.as_str(), b.as_slice()));
    Ok(service.audit_evidence(key, stack.as_deref())?)
}

/// Whether each approved system stayed in its qualified state: changes, who made them, and
/// the periods the validated CloudTrail digest chain covers.
#[tauri::command]
pub async fn qualified_state(
    service: State<'_, Service>,
    form: StateForm,
) -> Result<StateReport, WindowError> {
    let (key, system) = form
        .to_request()
        .map_err(|e| WindowError::at(Field::Path, e))?;
    let key = key.as_ref().map(|(n, b)| (n.as_str(), b.as_slice()));
    Ok(service.state(system.as_deref(), key)?)
}

/// The qualified state's change or event list as CSV in a new file (never over one).
#[tauri::command]
pub async fn export_state(
    service: State<'_, Service>,
    written: State<'_, WrittenFiles>,
    form: StateExportForm,
) -> Result<StateExport, WindowError> {
    let (key, system) = form
        .state
        .to_request()
        .map_err(|e| WindowError::at(Field::Path, e))?;
    let (list, out) = (form.list()?, form.out()?);
    let key = key.as_ref().map(|(n, b)| (n.as_str(), b.as_slice()));
    let info = service.state_export(system.as_deref(), key, list, &out)?;
    written.add(&out);
    Ok(info)
}

/// What assessing a change would sign, decided before any secret is asked for.
#[tauri::command]
pub async fn assess_check(
    service: State<'_, Service>,
    desk: State<'_, SignDesk>,
    form: AssessForm,
) -> Result<AssessPlan, WindowError> {
    desk.clock.set_offset_minutes(form.utc_offset_minutes);
    let req = form.to_request()?;
    Ok(service.assess_check(&*desk.session.lock().await, &req)?)
}

/// Signs the impact assessment of a change (meaning Assessed) in the signing session.
#[tauri::command]
pub async fn assess_change(
    service: State<'_, Service>,
    desk: State<'_, SignDesk>,
    form: AssessForm,
    aws: AwsForm,
    secrets: SecretsForm,
) -> Result<AssessInfo, WindowError> {
    desk.clock.set_offset_minutes(form.utc_offset_minutes);
    let mut session = desk.session.lock().await;
    let (aws, req) = (aws.settings()?, form.to_request()?);
    Ok(service
        .assess_change(&aws, &mut session, &req, secrets.into_secrets())
        .await?)
}

/// What a periodic review would sign (the findings of the period, shown before any secret),
/// decided before any secret is asked for.
#[tauri::command]
pub async fn periodic_review_check(
    service: State<'_, Service>,
    desk: State<'_, SignDesk>,
    form: PeriodicReviewForm,
) -> Result<PeriodicReviewPlan, WindowError> {
    desk.clock.set_offset_minutes(form.utc_offset_minutes);
    let req = form.to_request()?;
    Ok(service.periodic_review_check(&*desk.session.lock().await, &req)?)
}

/// Signs the periodic review (meaning PeriodicallyReviewed) of exactly the findings shown.
#[tauri::command]
pub async fn periodic_review(
    service: State<'_, Service>,
    desk: State<'_, SignDesk>,
    form: PeriodicReviewForm,
    aws: AwsForm,
    secrets: SecretsForm,
) -> Result<PeriodicReviewInfo, WindowError> {
    desk.clock.set_offset_minutes(form.utc_offset_minutes);
    let mut session = desk.session.lock().await;
    let (aws, req) = (aws.settings()?, form.to_request()?);
    Ok(service
        .periodic_review(&aws, &mut session, &req, secrets.into_secrets())
        .await?)
}

/// Saves the Periodic Review Report of a signed review to a new PDF (never over a file).
#[tauri::command]
pub async fn review_report(
    service: State<'_, Service>,
    written: State<'_, WrittenFiles>,
    form: ReviewReportForm,
) -> Result<ReviewReportBuilt, WindowError> {
    let req = form.to_request()?;
    let built = service.review_report(&req)?;
    written.add(&built.pdf);
    Ok(built)
}

/// Hands a signed run to the next signer's desktop: its record, the signatures that verify for
/// it and the signers' keys, written to S3 once and never over a different object.
#[tauri::command]
pub async fn publish_signoff(
    service: State<'_, Service>,
    form: SignoffForm,
    aws: AwsForm,
) -> Result<PublishReport, WindowError> {
    let (aws, req) = (
        aws.settings()?,
        form.to_publish()
            .map_err(|e| WindowError::at(form.field(), e))?,
    );
    Ok(service.signoff_publish(&aws, &req).await?)
}

/// Takes over a published sign-off: every item checked against this desktop, the accepted ones
/// and every refusal recorded.
#[tauri::command]
pub async fn fetch_signoff(
    service: State<'_, Service>,
    form: SignoffForm,
    aws: AwsForm,
) -> Result<FetchSignoffReport, WindowError> {
    let (aws, req) = (
        aws.settings()?,
        form.to_fetch()
            .map_err(|e| WindowError::at(form.field(), e))?,
    );
    Ok(service.signoff_fetch(&aws, &req).await?)
}

/// Signs the audit trail's head with the user's enrolled key and records it; with a location,
/// publishes it to S3 under Object Lock (COMPLIANCE).
#[tauri::command]
pub async fn checkpoint_ledger(
    service: State<'_, Service>,
    form: CheckpointForm,
    aws: AwsForm,
    secret: PassphraseForm,
) -> Result<CheckpointInfo, WindowError> {
    let (aws, req) = (
        aws.settings()?,
        form.to_request()
            .map_err(|e| WindowError::at(form.field(), e))?,
    );
    Ok(service
        .ledger_checkpoint(&aws, &req, &secret.into_passphrase())
        .await?)
}

/// Verifies the audit trail against checkpoints published outside this desktop, so a trail
/// rolled back to an older copy is caught.
#[tauri::command]
pub async fn verify_ledger_published(
    service: State<'_, Service>,
    form: PublishedCheckpointsForm,
    aws: AwsForm,
) -> Result<LedgerVerification, WindowError> {
    let (aws, source) = (
        aws.settings()?,
        form.to_request()
            .map_err(|e| WindowError::at(form.field(), e))?,
    );
    Ok(service.ledger_verify_published(&aws, &source).await?)
}

/// Restores the audit trail from a backup after verifying it (also against this trail's
/// checkpoints); the trail in use is set aside, never deleted.
#[tauri::command]
pub async fn restore_ledger(
    service: State<'_, Service>,
    form: RestoreForm,
) -> Result<RestoreReport, WindowError> {
    let backup = form
        .to_request()
        .map_err(|e| WindowError::at(Field::Path, e))?;
    Ok(service.ledger_restore_here(&backup)?)
}

#[cfg(test)]
pub(crate) mod tests {
    use std::path::Path;

    use serde_json::{json, Value};
    use tauri::test::{get_ipc_response, mock_builder, mock_context, noop_assets, MockRuntime};
    use tauri::webview::InvokeRequest;
    use tauri::{Manager, WebviewWindow};

    use super::*;
    use crate::startup::Startup;

    fn demo() -> DemoConnection {
        DemoConnection {
            endpoint: "http://127.0.0.1:5055".into(),
            bucket: "qual-results".into(),
            prefix: String::new(),
            region: "us-east-1".into(),
        }
    }

    /// The app on the mock runtime with a fresh home, and its main window.
    fn app(home: &Path) -> (tauri::App<MockRuntime>, WebviewWindow<MockRuntime>) {
        let startup = Startup {
            home: Some(home.to_path_buf()),
            demo: Some(demo()),
        };
        let app = crate::builder(mock_builder())
            .build(mock_context(noop_assets()))
            .unwrap();
        crate::prepare(&app, startup).unwrap();
        let window = tauri::WebviewWindowBuilder::new(&app, "main", Default::default())
            .build()
            .unwrap();
        (app, window)
    }

    pub(crate) fn invoke(
        window: &WebviewWindow<MockRuntime>,
        cmd: &str,
        body: Value,
    ) -> Result<Value, Value> {
        get_ipc_response(
            window,
            InvokeRequest {
                cmd: cmd.into(),
                callback: tauri::ipc::CallbackFn(0),
                error: tauri::ipc::CallbackFn(1),
                url: "tauri://localhost".parse().unwrap(),
                body: tauri::ipc::InvokeBody::Json(body),
                headers: Default::default(),
                invoke_key: tauri::test::INVOKE_KEY.to_string(),
            },
        )
        .map(|b| b.deserialize::<Value>().unwrap())
    }

    #[test]
    fn app_info_reports_the_home_version_and_demo_connection() {
        let home = tempfile::tempdir().unwrap();
        let (_app, window) = app(home.path());
        let info = invoke(&window, "app_info", json!({})).unwrap();
        assert_eq!(info["home"], json!(home.path().display().to_string()));
        assert_eq!(info["version"], json!(env!("CARGO_PKG_VERSION")));
        assert_eq!(info["demo"]["bucket"], json!("qual-results"));
        assert_eq!(info["demo"]["endpoint"], json!("http://127.0.0.1:5055"));
    }

    #[test]
    fn list_runs_answers_what_the_service_answers() {
        let home = tempfile::tempdir().unwrap();
        let (app, window) = app(home.path());
        let expected = serde_json::to_value(app.state::<Service>().runs().unwrap()).unwrap();
        assert_eq!(invoke(&window, "list_runs", json!({})), Ok(expected));
    }

    #[test]
    fn show_run_errors_arrive_as_the_services_code_and_message_in_the_window_s_words() {
        let home = tempfile::tempdir().unwrap();
        let (app, window) = app(home.path());
        let expected = serde_json::to_value(WindowError::from(
            app.state::<Service>().show("LIMS/IQ/nope").unwrap_err(),
        ))
        .unwrap();
        let got = invoke(&window, "show_run", json!({ "run": "LIMS/IQ/nope" })).unwrap_err();
        assert_eq!(got, expected);
        assert_eq!(got["code"], json!("not_found"), "{got}");
        let message = got["message"].as_str().unwrap();
        assert!(message.contains("LIMS/IQ/nope"), "{got}");
        assert!(!wording::names_the_command_line(message), "{got}");
    }

    /// The review screen opens a run without its cases and pages them: what it gets is what
    /// the service's view of the run says, a page at a time.
    #[test]
    fn an_opened_run_pages_its_cases_as_the_service_sees_them() {
        let home = tempfile::tempdir().unwrap();
        let (app, window) = app(home.path());
        let src = tempfile::tempdir().unwrap();
        let reports = src.path().join("LIMS/OQ/r1/reports");
        std::fs::create_dir_all(&reports).unwrap();
        let cases: String = (0..30)
            .map(|i| {
                let failure = if i % 3 == 0 {
                    "<failure message=\"no\"/>"
                } else {
                    ""
                };
                format!("<testcase classname=\"oq\" name=\"t{i}\">{failure}</testcase>")
            })
            .collect();
        std::fs::write(
            reports.join("junit.xml"),
            format!("<testsuite name=\"oq\">{cases}</testsuite>"),
        )
        .unwrap();
        app.state::<Service>()
            .import(
                &ImportRequest::new(src.path()),
                &|_| {},
                &countersign_service::CancelToken::new(),
            )
            .unwrap();
        let view = app.state::<Service>().show("r1").unwrap();

        let head = invoke(&window, "open_run", json!({ "run": "r1" })).unwrap();
        assert_eq!(head, serde_json::to_value(view.head()).unwrap());
        assert_eq!(head["cases"], json!(30));
        assert_eq!(head["needs_disposition"].as_array().unwrap().len(), 10);
        assert!(head.get("traceability").is_none());

        let query = json!({ "status": "attention", "search": "", "offset": 2, "limit": 3 });
        let page = invoke(
            &window,
            "run_cases",
            json!({ "run": "LIMS/OQ/r1", "query": query }),
        )
        .unwrap();
        let expected = view
            .cases_page(&serde_json::from_value(query).unwrap())
            .unwrap();
        assert_eq!(page, serde_json::to_value(expected).unwrap());
        assert_eq!(page["matching"], json!(10));
        assert_eq!(page["cases"].as_array().unwrap().len(), 3);

        let trace = invoke(&window, "run_traceability", json!({ "run": "r1" })).unwrap();
        assert_eq!(trace, serde_json::to_value(&view.run.traceability).unwrap());

        let got = invoke(&window, "open_run", json!({ "run": "LIMS/IQ/nope" })).unwrap_err();
        assert_eq!(got["code"], json!("not_found"), "{got}");
        let got = invoke(
            &window,
            "run_cases",
            json!({ "run": "r1", "query": { "status": "bogus" } }),
        )
        .unwrap_err();
        assert_eq!(got["code"], json!("bad_input"), "{got}");
    }

    #[test]
    fn open_file_errors_arrive_as_the_services_code_and_message() {
        let home = tempfile::tempdir().unwrap();
        let (app, window) = app(home.path());
        let expected = serde_json::to_value(WindowError::from(
            app.state::<Service>()
                .open_file("LIMS/IQ/nope", "log.txt")
                .unwrap_err(),
        ))
        .unwrap();
        let got = invoke(
            &window,
            "open_file",
            json!({ "run": "LIMS/IQ/nope", "path": "log.txt" }),
        )
        .unwrap_err();
        assert_eq!(got, expected);
    }

    #[test]
    fn fetch_without_a_bucket_is_bad_input_naming_the_bucket() {
        let home = tempfile::tempdir().unwrap();
        let (_app, window) = app(home.path());
        let got = invoke(
            &window,
            "fetch",
            json!({ "form": { "bucket": "" }, "onProgress": "__CHANNEL__:7" }),
        )
        .unwrap_err();
        assert_eq!(got["code"], json!("bad_input"), "{got}");
        assert!(got["message"].as_str().unwrap().contains("bucket"), "{got}");
    }

    #[test]
    fn import_takes_a_folder_into_the_store_and_explains_a_bad_path() {
        let home = tempfile::tempdir().unwrap();
        let (_app, window) = app(home.path());
        let src = tempfile::tempdir().unwrap();
        let reports = src.path().join("LIMS/IQ/2026-11-02-iq-1/reports");
        std::fs::create_dir_all(&reports).unwrap();
        std::fs::write(
            reports.join("junit.xml"),
            r#"<testsuite name="iq" tests="1"><testcase classname="iq" name="URS-001 installed"/></testsuite>"#,
        )
        .unwrap();
        let form = |path: &str| json!({ "form": { "path": path }, "onProgress": "__CHANNEL__:7" });
        let report = invoke(
            &window,
            "import_runs",
            form(&src.path().display().to_string()),
        )
        .unwrap();
        assert_eq!(report["new"], json!(1), "{report}");
        assert_eq!(report["cancelled"], json!(false), "{report}");
        let runs = invoke(&window, "list_runs", json!({})).unwrap();
        assert_eq!(runs[0]["id"], json!("LIMS/IQ/2026-11-02-iq-1"), "{runs}");

        let got = invoke(&window, "import_runs", form("evidence.zip")).unwrap_err();
        assert_eq!(got["code"], json!("bad_input"), "{got}");
        assert!(
            got["message"].as_str().unwrap().contains("full path"),
            "{got}"
        );
        let missing = src.path().join("nope.zip").display().to_string();
        let got = invoke(&window, "import_runs", form(&missing)).unwrap_err();
        assert_eq!(got["code"], json!("bad_input"), "{got}");
        assert!(
            got["message"].as_str().unwrap().contains("nope.zip"),
            "{got}"
        );
    }

    #[test]
    fn cancel_fetch_with_no_sync_running_answers_false() {
        let home = tempfile::tempdir().unwrap();
        let (_app, window) = app(home.path());
        assert_eq!(invoke(&window, "cancel_fetch", json!({})), Ok(json!(false)));
        assert_eq!(
            invoke(&window, "cancel_package", json!({})),
            Ok(json!(false))
        );
    }

    /// The golden example package of format v1, as shipped with the tests.
    fn golden_pdf() -> std::path::PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/golden/package-v1/example.pdf")
    }

    #[test]
    fn verify_package_reports_every_check_of_the_golden_package_and_records_it() {
        let home = tempfile::tempdir().unwrap();
        let (app, window) = app(home.path());
        let pdf = golden_pdf().canonicalize().unwrap();
        let got = invoke(
            &window,
            "verify_package",
            json!({ "form": { "path": pdf.display().to_string() } }),
        )
        .unwrap();
        assert_eq!(got["verified"], json!(true), "{got}");
        let (part, report) = (&got["reports"][0][0], &got["reports"][0][1]);
        assert_eq!(part, &json!("PDF"));
        let checks: Vec<&str> = report["checks"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["id"].as_str().unwrap())
            .collect();
        assert!(
            checks.contains(&"manifest") && checks.contains(&"signatures"),
            "{checks:?}"
        );
        let recorded = app
            .state::<Service>()
            .ledger_events(&countersign_service::EventFilter {
                object_kind: Some("package".into()),
                ..Default::default()
            })
            .unwrap();
        assert!(
            !recorded.is_empty(),
            "the verification is in the audit trail"
        );
    }

    #[test]
    fn a_package_path_that_is_not_absolute_or_a_file_that_is_not_a_package_is_explained() {
        let home = tempfile::tempdir().unwrap();
        let (_app, window) = app(home.path());
        let got = invoke(
            &window,
            "verify_package",
            json!({ "form": { "path": "x.pdf" } }),
        )
        .unwrap_err();
        assert_eq!(got["code"], json!("bad_input"), "{got}");
        let not_pdf = home.path().join("notes.pdf");
        std::fs::write(&not_pdf, b"just text").unwrap();
        let got = invoke(
            &window,
            "verify_package",
            json!({ "form": { "path": not_pdf.display().to_string() } }),
        );
        match got {
            Ok(v) => assert_eq!(v["verified"], json!(false), "{v}"),
            Err(e) => assert!(
                ["integrity", "bad_input"].contains(&e["code"].as_str().unwrap()),
                "{e}"
            ),
        }
        let got = invoke(
            &window,
            "build_package",
            json!({ "form": { "runs": [], "out": home.path().join("p.pdf").display().to_string() }, "onProgress": "__CHANNEL__:7" }),
        )
        .unwrap_err();
        assert_eq!(got["code"], json!("bad_input"), "{got}");
    }

    #[test]
    fn the_audit_trail_lists_verifies_and_exports_once_per_file() {
        let home = tempfile::tempdir().unwrap();
        let (app, window) = app(home.path());
        let expected = serde_json::to_value(
            app.state::<Service>()
                .ledger_events(&countersign_service::EventFilter::all())
                .unwrap(),
        )
        .unwrap();
        assert_eq!(
            invoke(&window, "audit_events", json!({ "filter": {} })),
            Ok(expected.clone())
        );
        let report = invoke(&window, "audit_verify", json!({})).unwrap();
        assert_eq!(report["problem"], json!(null), "{report}");

        let out = home.path().join("trail.csv");
        let form =
            json!({ "form": { "filter": {}, "format": "csv", "out": out.display().to_string() } });
        let n = invoke(&window, "audit_export", form.clone()).unwrap();
        assert!(out.exists());
        assert_eq!(n, json!(expected.as_array().unwrap().len()));
        let again = invoke(&window, "audit_export", form).unwrap_err();
        assert!(!again["message"].as_str().unwrap().is_empty(), "{again}");

        let bad = invoke(
            &window,
            "audit_events",
            json!({ "filter": { "since": "last tuesday" } }),
        )
        .unwrap_err();
        assert_eq!(bad["code"], json!("bad_input"), "{bad}");
    }

    #[test]
    fn keys_start_empty_and_a_passphrase_must_be_typed_the_same_twice() {
        let home = tempfile::tempdir().unwrap();
        let (_app, window) = app(home.path());
        assert_eq!(invoke(&window, "list_keys", json!({})), Ok(json!([])));
        let got = invoke(
            &window,
            "create_key",
            json!({ "form": { "printedName": "Alice Adams", "passphrase": "a long passphrase", "confirm": "a long passphrasE" } }),
        )
        .unwrap_err();
        assert_eq!(got["code"], json!("bad_input"), "{got}");
        assert_eq!(invoke(&window, "list_keys", json!({})), Ok(json!([])));
        let got = invoke(&window, "export_key", json!({ "keyId": "nope" })).unwrap_err();
        assert_eq!(got["code"], json!("bad_input"), "{got}");
    }

    #[test]
    fn signing_without_a_key_is_refused_before_any_secret_and_the_session_is_closed() {
        let home = tempfile::tempdir().unwrap();
        let (_app, window) = app(home.path());
        let session = invoke(&window, "signing_session", json!({})).unwrap();
        assert_eq!(session["open"], json!(false));
        assert_eq!(session["idle_timeout_secs"], json!(600));
        let form = json!({ "run": "LIMS/OQ/x", "meaning": "Reviewed", "reason": "read it", "utcOffsetMinutes": 60 });
        let got = invoke(&window, "sign_check", json!({ "form": form })).unwrap_err();
        assert_eq!(got["code"], json!("not_found"), "{got}");
        assert!(got["message"].as_str().unwrap().contains("key"), "{got}");
        let got = invoke(
            &window,
            "sign",
            json!({ "form": form, "aws": { "region": "us-east-1" }, "secrets": { "passphrase": "x", "mfaCode": "123456" } }),
        )
        .unwrap_err();
        assert_eq!(got["code"], json!("not_found"), "{got}");
        assert_eq!(invoke(&window, "lock_session", json!({})), Ok(json!(null)));
    }

    #[test]
    fn an_audit_trail_review_needs_an_enrolled_key_and_none_are_listed_yet() {
        let home = tempfile::tempdir().unwrap();
        let (_app, window) = app(home.path());
        assert_eq!(invoke(&window, "audit_reviews", json!({})), Ok(json!([])));
        let form = json!({ "upTo": 1, "reason": "read every entry", "utcOffsetMinutes": 0 });
        let got = invoke(&window, "review_check", json!({ "form": form })).unwrap_err();
        assert_eq!(got["code"], json!("not_found"), "{got}");
        let got = invoke(
            &window,
            "review_check",
            json!({ "form": { "upTo": 0, "reason": "x" } }),
        )
        .unwrap_err();
        assert_eq!(got["code"], json!("bad_input"), "{got}");
        let got = invoke(
            &window,
            "review_audit_trail",
            json!({ "form": form, "aws": { "region": "us-east-1" }, "secrets": { "passphrase": "x", "mfaCode": "123456" } }),
        )
        .unwrap_err();
        assert_eq!(got["code"], json!("not_found"), "{got}");
    }

    #[test]
    fn revoking_an_unknown_key_is_not_found_and_a_backup_is_written_once() {
        let home = tempfile::tempdir().unwrap();
        let (_app, window) = app(home.path());
        let got = invoke(
            &window,
            "revoke_key",
            json!({ "form": { "keyId": "0123", "reason": "laptop lost" }, "secret": { "passphrase": "x" } }),
        )
        .unwrap_err();
        assert_eq!(got["code"], json!("not_found"), "{got}");
        let got = invoke(
            &window,
            "revoke_key",
            json!({ "form": { "keyId": "0123", "reason": "" }, "secret": { "passphrase": "x" } }),
        )
        .unwrap_err();
        assert_eq!(got["code"], json!("bad_input"), "{got}");

        let out = home.path().join("backup.sqlite");
        let form = json!({ "form": { "out": out.display().to_string() } });
        let info = invoke(&window, "backup_ledger", form.clone()).unwrap();
        assert!(out.is_file());
        assert!(info.is_object(), "{info}");
        let again = invoke(&window, "backup_ledger", form).unwrap_err();
        assert_eq!(again["code"], json!("bad_input"), "{again}");
        assert!(
            again["message"]
                .as_str()
                .unwrap()
                .contains("already exists"),
            "{again}"
        );
    }

    #[test]
    fn the_trail_is_restored_in_place_from_a_verified_backup_and_checked_against_checkpoints() {
        let home = tempfile::tempdir().unwrap();
        let (_app, window) = app(home.path());
        let out = home.path().join("copy.sqlite");
        invoke(
            &window,
            "backup_ledger",
            json!({ "form": { "out": out.display().to_string() } }),
        )
        .unwrap();
        let missing = invoke(
            &window,
            "restore_ledger",
            json!({ "form": { "path": home.path().join("none.sqlite").display().to_string() } }),
        )
        .unwrap_err();
        assert_eq!(missing["code"], json!("bad_input"), "{missing}");
        let restored = invoke(
            &window,
            "restore_ledger",
            json!({ "form": { "path": out.display().to_string() } }),
        )
        .unwrap();
        assert!(restored["set_aside"].is_string(), "{restored}");
        // The restored trail is the one in use from now on, and it verifies.
        let report = invoke(&window, "audit_verify", json!({})).unwrap();
        assert_eq!(report["problem"], json!(null), "{report}");

        let none = invoke(
            &window,
            "verify_ledger_published",
            json!({ "form": {}, "aws": {} }),
        )
        .unwrap_err();
        assert_eq!(none["code"], json!("bad_input"), "{none}");
        let bad = invoke(
            &window,
            "publish_signoff",
            json!({ "form": { "run": "LIMS/OQ/r", "location": "s3://Not_A_Bucket/x" }, "aws": {} }),
        )
        .unwrap_err();
        assert_eq!(bad["code"], json!("bad_input"), "{bad}");
        assert!(
            bad["message"].as_str().unwrap().contains("bucket name"),
            "{bad}"
        );
        // No CloudTrail digests in an empty store: the chain does not validate, and says so.
        let evidence = invoke(&window, "audit_evidence", json!({ "form": {} })).unwrap();
        assert_eq!(evidence["valid"], json!(false), "{evidence}");
    }

    #[test]
    fn a_disposition_needs_a_known_kind_and_an_enrolled_key() {
        let home = tempfile::tempdir().unwrap();
        let (_app, window) = app(home.path());
        let form = |kind: &str| json!({ "form": { "run": "LIMS/OQ/x", "caseId": "c1", "kind": kind, "reference": "DEV-1", "reason": "why" } });
        let got = invoke(&window, "disposition_check", form("waived")).unwrap_err();
        assert_eq!(got["code"], json!("bad_input"), "{got}");
        assert!(got["message"].as_str().unwrap().contains("waived"), "{got}");
        let got = invoke(&window, "disposition_check", form("deviation")).unwrap_err();
        assert_eq!(got["code"], json!("not_found"), "{got}");
        // Recording checks the same before any secret is used.
        let mut with_secrets = form("deviation");
        with_secrets["aws"] = json!({});
        with_secrets["secrets"] = json!({ "passphrase": "not used" });
        let got = invoke(&window, "record_disposition", with_secrets).unwrap_err();
        assert_eq!(got["code"], json!("not_found"), "{got}");
        assert_eq!(
            invoke(&window, "run_dispositions", json!({ "run": "LIMS/OQ/x" })),
            Ok(json!([]))
        );
    }
}
