// The app's commands, as the window calls them. Each maps to one #[tauri::command] in
// src-tauri/src/commands.rs; every rejection becomes an AppError (see errors.js).
import { toAppError } from "./errors.js";

function core() {
  const tauri = window.__TAURI__;
  if (!tauri || !tauri.core) {
    throw toAppError("This page must run inside the Countersign app (the Tauri IPC is missing).");
  }
  return tauri.core;
}

async function call(command, args) {
  try {
    return await core().invoke(command, args);
  } catch (raw) {
    throw toAppError(raw);
  }
}

/** Home, version and the demo connection (if the demo started the app). */
export const appInfo = () => call("app_info");

/** Run summaries in the store. */
export const listRuns = () => call("list_runs");

/** What is waiting for the holder of `keyId` (or of the home's only enrolled key). */
export const todo = (keyId) => call("todo", { keyId: keyId || null });

/** One run in full ("SYSTEM/PHASE/RUN-ID"). */
export const showRun = (run) => call("show_run", { run });

/** Opens a run for review: everything but its cases (paged) and traceability (on request). */
export const openRun = (run) => call("open_run", { run });

/** A page of the open run's cases: {status, search, offset, limit, locate} → CasePage. */
export const runCases = (run, query) => call("run_cases", { run, query });

/** The open run's traceability matrix. */
export const runTraceability = (run) => call("run_traceability", { run });

/** One stored file of a run, re-verified. */
export const openFile = (run, path) => call("open_file", { run, path });

/** Syncs a bucket into the store; `onProgress` gets FetchProgress objects. */
export function fetchRuns(form, onProgress) {
  const channel = new (core().Channel)();
  channel.onmessage = onProgress;
  return call("fetch", { form, onProgress: channel });
}

/** Imports a folder or .zip ({path}); `onProgress` gets FetchProgress objects. */
export function importRuns(form, onProgress) {
  const channel = new (core().Channel)();
  channel.onmessage = onProgress;
  return call("import_runs", { form, onProgress: channel });
}

/** Cancels the running sync or import. */
export const cancelFetch = () => call("cancel_fetch");

/**
 * Builds a validation package ({runs, out, bundle, title}); `onProgress` gets PackageProgress
 * objects ({step, steps, what, run}); resolves with PackageBuilt.
 */
export function buildPackage(form, onProgress) {
  const channel = new (core().Channel)();
  channel.onmessage = onProgress;
  return call("build_package", { form, onProgress: channel });
}

/** Cancels the package build in progress. */
export const cancelPackage = () => call("cancel_package");

/** Verifies a package file ({path, trustedKeys}); resolves with PackageVerification. */
export const verifyPackage = (form) => call("verify_package", { form });

/** Verifies a package published to S3 ({path: "s3://BUCKET/KEY", trustedKeys}); recorded. */
export const verifyPublishedPackage = (form, aws) => call("verify_published_package", { form, aws });

/** Publishes a final package ({pdf, bundle, location, objectLockDays}) under Object Lock; recorded. */
export const publishPackage = (form, aws) => call("publish_package", { form, aws });

/** The packages this home built, newest first, with the approvals and publications recorded. */
export const listPackages = () => call("list_packages");

/** What signing a package ({pdf, out, meaning, reason, keyId}) would sign; before any secret. */
export const packageSignCheck = (form) => call("package_sign_check", { form: { ...form, utcOffsetMinutes: utcOffsetMinutes() } });

/** Signs a package (Reviewed or Approved); the signed PDF goes to `out`. Recorded. */
export const packageSign = (form, aws, secrets) => call("package_sign", { form: { ...form, utcOffsetMinutes: utcOffsetMinutes() }, aws, secrets });

/** Audit-trail entries matching {since, until, actor, objectKind, object, action}. */
export const auditEvents = (filter) => call("audit_events", { filter });

/** Re-derives every hash of the audit trail; resolves with the chain report. */
export const auditVerify = () => call("audit_verify");

/** Exports the filtered trail ({filter, format, out}); resolves with the entry count. */
export const auditExport = (form) => call("audit_export", { form });

/** Every audit-trail review, each verified against the trail now. */
export const auditReviews = () => call("audit_reviews");

/** What marking the trail reviewed ({upTo, reason, keyId}) would sign, before any secret. */
export const reviewCheck = (form) => call("review_check", { form: { ...form, utcOffsetMinutes: utcOffsetMinutes() } });

/**
 * Signs the audit trail as reviewed up to an entry. `secrets` ({passphrase, mfaCode}) is
 * passed to this one call only.
 */
export const reviewAuditTrail = (form, aws, secrets) => call("review_audit_trail", { form: { ...form, utcOffsetMinutes: utcOffsetMinutes() }, aws, secrets });

/** Backs the ledger up to a new file ({out}); resolves with what was copied. */
export const backupLedger = (form) => call("backup_ledger", { form });

/** Revokes an enrolled key ({keyId, reason}). */
export const revokeKey = (form, secret) => call("revoke_key", { form, secret });

/** An administrator's revocation of someone's key, checked before any secret is asked for. */
export const adminRevokeCheck = (form) => call("admin_revoke_check", { form });

/** Revokes someone's key as an administrator; `secrets` as for `sign`. */
export const adminRevoke = (form, aws, secrets) => call("admin_revoke", { form, aws, secrets });

/** Signer keys in the home. */
export const listKeys = () => call("list_keys");

/**
 * Creates a signer key. The passphrase goes straight into this one call and is not kept.
 */
export const createKey = (printedName, passphrase, confirm) => call("create_key", { form: { printedName, passphrase, confirm } });

/** Enrolls a key ({aws, keyId, mfaSerial, mfaCode, acceptCertification}). */
export const enrollKey = (form) => call("enroll_key", { form });

/** Enrolls a key to the identity of the IAM Identity Center sign-in started and approved. */
export const enrollKeySignedIn = (form) => call("enroll_key_signed_in", { form });

/**
 * How a signing session opens with the AWS profile ({profile, region, endpoint}):
 * {kind: "mfa_code", device} or {kind: "identity_center", start_url, account_id, role_name}.
 */
export const signInMethod = (form) => call("sign_in_method", { form });

/** Starts an IAM Identity Center sign-in: {url, user_code, start_url, expires_at}. */
export const startSignIn = (form) => call("start_sign_in", { form });

/** Opens the page of the sign-in started, in the desktop's browser. */
export const openSignInPage = () => call("open_sign_in_page");

/** The MFA device the AWS profile names ({profile, region, endpoint}), or null. */
export const profileMfaDevice = (form) => call("profile_mfa_device", { form });

/** A key's public half. */
export const exportKey = (keyId) => call("export_key", { keyId });

/** Saves a key's public half (PEM) to a new file ({keyId, out}). */
export const savePublicKey = (form) => call("save_public_key", { form });

/** Records a disposition ({run, caseId, kind, reference, reason, keyId}). */
/** Who records a disposition and whether an MFA code is needed, before any secret. */
export const dispositionCheck = (form) => call("disposition_check", { form });

/** Records a disposition as an authenticated act of the person (their session or MFA code, and passphrase). */
export const recordDisposition = (form, aws, secrets) => call("record_disposition", { form, aws, secrets });

/** Current dispositions of a run (by SYSTEM/PHASE/RUN-ID). */
export const runDispositions = (run) => call("run_dispositions", { run });

/** A run's signatures, each verified now. */
export const runSignatures = (run) => call("run_signatures", { run });

/** The window's UTC offset in minutes east of UTC (recorded with a signature). */
export const utcOffsetMinutes = () => -new Date().getTimezoneOffset();

/** What signing would sign ({run, meaning, reason, keyId}), checked before any secret. */
export const signCheck = (form) => call("sign_check", { form: { ...form, utcOffsetMinutes: utcOffsetMinutes() } });

/**
 * Signs. `secrets` ({passphrase, mfaCode}) is passed to this one call only; callers clear
 * their fields right after.
 */
export const sign = (form, aws, secrets) => call("sign", { form: { ...form, utcOffsetMinutes: utcOffsetMinutes() }, aws, secrets });

/** What a re-open would sign ({run, reason, keyId}), checked before any secret. */
export const reopenCheck = (form) => call("reopen_check", { form: { ...form, utcOffsetMinutes: utcOffsetMinutes() } });

/** Re-opens a signed run; `secrets` as for `sign`. */
export const reopen = (form, aws, secrets) => call("reopen", { form: { ...form, utcOffsetMinutes: utcOffsetMinutes() }, aws, secrets });

/** Whether the signing session is open and for how long. */
export const signingSession = () => call("signing_session");

/** Ends the signing session now. */
export const lockSession = () => call("lock_session");

/**
 * Re-verifies the CloudTrail and AWS Config evidence in the store ({publicKey, stack}): the
 * digest chain (signatures checked with the public key file when one is given) and the events
 * and configuration items of the stack.
 */
export const auditEvidence = (form) => call("audit_evidence", { form });

/** Each system's qualified state since its approval ({publicKey, system}; both optional). */
export const qualifiedState = (form) => call("qualified_state", { form });

/** The change or event list as CSV in a new file ({state: {publicKey, system}, list, out}). */
export const exportState = (form) => call("export_state", { form });

/** What assessing a change would sign ({system, change, impact, reference, reason, keyId}). */
export const assessCheck = (form) => call("assess_check", { form: { ...form, utcOffsetMinutes: utcOffsetMinutes() } });

/** Signs the impact assessment of a change (meaning Assessed). */
export const assessChange = (form, aws, secrets) => call("assess_change", { form: { ...form, utcOffsetMinutes: utcOffsetMinutes() }, aws, secrets });

/** What a periodic review would sign ({system, from, to, reason, publicKey, keyId}): the findings of the period. */
export const periodicReviewCheck = (form) => call("periodic_review_check", { form: { ...form, utcOffsetMinutes: utcOffsetMinutes() } });

/** Signs the periodic review of exactly the findings shown ({..., expectedFindings}). */
export const periodicReview = (form, aws, secrets) => call("periodic_review", { form: { ...form, utcOffsetMinutes: utcOffsetMinutes() }, aws, secrets });

/** Saves the Periodic Review Report of a signed review to a new PDF ({system, period, out}). */
export const reviewReport = (form) => call("review_report", { form });

/** Publishes a run's sign-off to S3 ({run, location, objectLockDays}) with the AWS fields. */
export const publishSignoff = (form, aws) => call("publish_signoff", { form, aws });

/** Takes over a sign-off published to S3 ({run, location}); every item is checked and recorded. */
export const fetchSignoff = (form, aws) => call("fetch_signoff", { form, aws });

/**
 * Signs a checkpoint of the audit trail ({keyId, publish, retentionDays}); with a location,
 * publishes it under Object Lock. The passphrase is passed to this one call only.
 */
export const checkpointLedger = (form, aws, passphrase) => call("checkpoint_ledger", { form, aws, secret: { passphrase } });

/** Verifies the audit trail against published checkpoints ({location} or {folder}). */
export const verifyLedgerPublished = (form, aws) => call("verify_ledger_published", { form, aws });

/** Restores the audit trail from a backup file ({path}); the trail in use is set aside. */
export const restoreLedger = (form) => call("restore_ledger", { form });
