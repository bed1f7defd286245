//! Every format tag the core reads or writes, in one place and one spelling:
//! `countersign.<name>/v<N>` for Countersign's own documents; the in-toto and DSSE type URIs
//! for the signature envelope. A tag names a frozen encoding: a change is a new version next
//! to the old one, and the old one stays readable (see docs/*-format.md).

/// The run manifest a test suite writes (`run.json`, docs/run-manifest.md).
pub const RUN_MANIFEST_V1: &str = "countersign.run/v1";
/// The signed record of a run: its files and dispositions (docs/signature-format.md).
pub const RUN_RECORD_V1: &str = "countersign.run-record/v1";
/// Version 2 of the run record: version 1's members, with `run_data`, the digest of the run's
/// results exactly as the signer was shown them and the parser version that read them
/// (docs/signature-format.md §11).
pub const RUN_RECORD_V2: &str = "countersign.run-record/v2";
/// The version of the evidence parsers (JUnit XML, Cucumber JSON, `run.json`) whose output a
/// v2 run record binds. It changes whenever the same evidence would be read into different run
/// data; a signature then shows as made on a record that changed (docs/signature-format.md §11).
pub const PARSERS_V1: &str = "countersign.parsers/v1";
/// A CloudFormation stack snapshot (docs/stack-snapshot.md).
pub const STACK_SNAPSHOT_V1: &str = "countersign.stack-snapshot/v1";
/// The signing policy (docs/policy.md).
pub const POLICY_V1: &str = "countersign.policy/v1";
/// Version 2 of the signing policy: version 1's members, with `administrators` (who may revoke
/// another person's key) added (docs/policy.md).
pub const POLICY_V2: &str = "countersign.policy/v2";
/// A validation package's manifest (docs/package-format.md).
pub const PACKAGE_MANIFEST_V1: &str = "countersign.package-manifest/v1";
/// A run's results as a package carries them (docs/package-format.md).
pub const RUN_DATA_V1: &str = "countersign.run-data/v1";
/// A signer's public key as a package carries it (docs/package-format.md).
pub const PUBLIC_KEY_V1: &str = "countersign.public-key/v1";
/// A signer's key document in a sign-off hand-off (docs/handoff.md).
pub const SIGNOFF_KEY_FORMAT_V1: &str = "countersign.signoff-key/v1";
/// A run's summary as the run list reads it back from the audit trail (`run.summarized` events,
/// docs/ledger-format.md).
pub const RUN_SUMMARY_V1: &str = "countersign.run-summary/v1";
/// The predicate type of a Countersign signature statement (docs/signature-format.md).
pub const SIGNATURE_PREDICATE_V1: &str = "https://countersign.dev/signature/v1";
/// Version 2 of the signature predicate: version 1's members, with the meanings of a qualified
/// state (`Assessed`, `PeriodicallyReviewed`) added (docs/signature-format.md §14).
pub const SIGNATURE_PREDICATE_V2: &str = "https://countersign.dev/signature/v2";
/// Version 3 of the signature predicate: version 2's members and meanings, with the formal
/// re-open of a signed run (`Reopened`) added (docs/signature-format.md §15).
pub const SIGNATURE_PREDICATE_V3: &str = "https://countersign.dev/signature/v3";
/// A system's qualified state as found: baseline, changes, coverage, verdict
/// (docs/qualified-state.md); what a periodic review signs.
pub const STATE_FINDINGS_V1: &str = "countersign.state-findings/v1";
/// An impact assessment of one change since approval: what an assessment signs
/// (docs/qualified-state.md).
pub const CHANGE_ASSESSMENT_V1: &str = "countersign.change-assessment/v1";
/// The manifest of a Periodic Review Report (docs/package-format.md §12).
pub const REVIEW_REPORT_MANIFEST_V1: &str = "countersign.review-report-manifest/v1";
/// The change or event list of a qualified state as exported (docs/qualified-state.md).
pub const STATE_EXPORT_V1: &str = "countersign.state-export/v1";
/// One audit-trail entry as `ledger publish` writes it, a line of JSON
/// (docs/audit-trail-publish.md, `published_trail.rs`).
pub const PUBLISHED_ENTRY_V1: &str = "countersign.published-entry/v1";
/// One state finding as `ledger publish` writes it, a line of JSON (docs/qualified-state.md).
pub const PUBLISHED_FINDING_V1: &str = "countersign.published-finding/v1";
/// The in-toto statement type every signature payload is.
pub const IN_TOTO_STATEMENT_V1: &str = "https://in-toto.io/Statement/v1";
/// The DSSE payload type of every Countersign envelope.
pub const IN_TOTO_PAYLOAD_TYPE: &str = "application/vnd.in-toto+json";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn countersign_tags_share_one_spelling() {
        for tag in [
            RUN_MANIFEST_V1,
            RUN_RECORD_V1,
            RUN_RECORD_V2,
            PARSERS_V1,
            STACK_SNAPSHOT_V1,
            POLICY_V1,
            POLICY_V2,
            PACKAGE_MANIFEST_V1,
            RUN_DATA_V1,
            PUBLIC_KEY_V1,
            SIGNOFF_KEY_FORMAT_V1,
            STATE_FINDINGS_V1,
            CHANGE_ASSESSMENT_V1,
            REVIEW_REPORT_MANIFEST_V1,
            STATE_EXPORT_V1,
            PUBLISHED_ENTRY_V1,
            PUBLISHED_FINDING_V1,
            RUN_SUMMARY_V1,
        ] {
            let (name, version) = tag
                .strip_prefix("countersign.")
                .and_then(|t| t.split_once("/v"))
                .unwrap_or_else(|| panic!("{tag}"));
            assert!(
                !name.is_empty()
                    && name.bytes().all(|b| b.is_ascii_lowercase() || b == b'-')
                    && version.parse::<u32>().is_ok(),
                "{tag}"
            );
        }
    }
}
