// The audit trail's actions in words a QA approver uses. The code stays in the entry's detail
// (and in exports); a test (src-tauri/src/wording.rs) keeps every action the ledger can write
// named here.

export const ACTIONS = Object.freeze({
  "ledger.created": "Audit trail created",
  "ledger.migrated": "Audit trail format upgraded",
  "ledger.checkpoint": "Checkpoint of the audit trail signed",
  "ledger.checkpoint_published": "Checkpoint published to S3",
  "ledger.published": "Audit trail published to S3",
  "ledger.exported": "Audit trail exported",
  "ledger.backed_up": "Audit trail backed up",
  "ledger.restored": "Audit trail restored from a backup",
  "ledger.started_over": "New audit trail started after the old one was lost",
  "object.stored": "Evidence file stored",
  "object.rejected": "Evidence file rejected",
  "run.summarized": "Run summary recorded for the run list",
  "sync.completed": "Sync finished (what it listed and stored)",
  "run.disposition": "Case dispositioned",
  "case.dispositioned": "Case dispositioned",
  "key.created": "Signer key created",
  "key.enrolled": "Signer key enrolled",
  "key.revoked": "Signer key revoked",
  "signature.applied": "Signature applied",
  "signature.refused": "Signature refused",
  "signature.failed": "Signature attempt failed",
  "signing.locked": "Signing locked after failed attempts",
  "clock.skew": "Clock difference noted",
  "package.built": "Validation package built",
  "review_report.built": "Periodic review report built",
  "state.published": "Qualified state published",
  "package.verified": "Validation package verified",
  "package.published": "Validation package published (Object Lock)",
  "signoff.published": "Sign-off handed off (published)",
  "signoff.record_accepted": "Handed-off record accepted",
  "signoff.signature_accepted": "Handed-off signature accepted",
  "signoff.key_accepted": "Handed-off signer key accepted",
  "signoff.rejected": "Handed-off sign-off rejected",
});

/** The action's name in words, or its code when it has none. */
export const actionName = (code) => ACTIONS[code] ?? code;
