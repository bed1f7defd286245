//! Taking evidence into the store: the rules `fetch` and `import` share.
//!
//! Every key (relative to the bucket prefix or the import root) must pass
//! [`layout::check_relative_key`] and classify under the layout convention, or it is skipped and
//! reported. Run manifests are taken in first: the digests they declare for the other files of
//! their run are enforced when those files arrive, and a mismatch is a rejection recorded in the
//! ledger, never a stored object.

use countersign_core::digest::Sha256;
use countersign_core::layout::{self, KeyKind};
use countersign_core::model::RunKey;
use countersign_core::run::MANIFEST_PATH;
use countersign_core::run_manifest::parse_run_manifest;
use countersign_ledger::{Actor, NewRejection};

use crate::error::{self as err, ServiceError};
use crate::Service;

/// Where a key belongs in the layout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Placement {
    /// A file of this run.
    Run(RunKey),
    /// Audit evidence (CloudTrail logs and digests, AWS Config files).
    Audit,
}

/// Places a relative key, or says why it stays out of the store: an unsafe key, a key outside
/// the layout, or a look-alike (not in Unicode NFC).
pub(crate) fn place(relative_key: &str) -> Result<Placement, String> {
    layout::check_relative_key(relative_key).map_err(|e| e.to_string())?;
    if let Some(reason) = layout::look_alike_reason(relative_key) {
        return Err(reason);
    }
    match layout::classify(relative_key) {
        KeyKind::Unrecognised { reason } => Err(reason),
        KeyKind::RunFile { run, .. } => Ok(Placement::Run(run)),
        _ => Ok(Placement::Audit),
    }
}

/// Whether a relative key is the manifest (`run.json`) of the run it belongs to.
pub(crate) fn is_manifest(relative_key: &str, placement: &Placement) -> bool {
    match placement {
        Placement::Run(run) => relative_key == format!("{run}/{MANIFEST_PATH}"),
        Placement::Audit => false,
    }
}

/// The digests a run manifest declares, keyed by relative key (`<system>/<phase>/<run-id>/<path>`).
/// A manifest that does not parse declares nothing here; the run view reports the problem.
pub(crate) fn declared_digests(run: &RunKey, manifest: &[u8]) -> Vec<(String, Sha256)> {
    match parse_run_manifest(MANIFEST_PATH, manifest) {
        Ok(m) => m
            .files
            .iter()
            .map(|(path, d)| (format!("{run}/{path}"), d.sha256))
            .collect(),
        Err(_) => Vec::new(),
    }
}

impl Service {
    /// Records a refused object (never stored) with its `object.rejected` event.
    pub(crate) fn record_rejection(
        &self,
        rejection: &NewRejection,
        actor: &Actor,
    ) -> Result<(), ServiceError> {
        self.ledger()?
            .reject_object(rejection, actor)
            .map_err(err::from_ledger)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn places_run_files_audit_files_and_refuses_the_rest() {
        let p = place("LIMS/IQ/r1/reports/a.xml").unwrap();
        assert_eq!(p, Placement::Run("LIMS/IQ/r1/x".parse_run()));
        assert!(is_manifest("LIMS/IQ/r1/run.json", &p));
        assert!(!is_manifest("LIMS/IQ/r1/reports/run.json", &p));
        assert_eq!(
            place("AWSLogs/123456789012/CloudTrail/us-east-1/x.json.gz"),
            Ok(Placement::Audit)
        );
        assert!(place("../LIMS/IQ/r1/a.xml").unwrap_err().contains(".."));
        assert!(place("/LIMS/IQ/r1/a.xml").unwrap_err().contains("absolute"));
        assert!(place("LIMS\\IQ\\r1\\a.xml")
            .unwrap_err()
            .contains("backslash"));
        assert!(place("LIMS/IQ/r1/a\0.xml").unwrap_err().contains("NUL"));
        assert!(place("LIMS/XQ/r1/a.xml").is_err());
        // A run id spelled with a combining mark looks exactly like the precomposed one.
        assert!(place("SYS/IQ/r\u{fc}n/a.xml").is_ok());
        let why = place("SYS/IQ/ru\u{308}n/a.xml").unwrap_err();
        assert!(why.contains("not in Unicode normal form C (NFC)"), "{why}");
        assert!(why.contains("\"SYS/IQ/r\u{fc}n/a.xml\""), "{why}");
    }

    #[test]
    fn declared_digests_are_keyed_by_relative_key() {
        let run: RunKey = "LIMS/IQ/r1/x".parse_run();
        let sha = Sha256::of(b"x");
        let manifest = format!(
            r#"{{"schema":"countersign.run/v1","files":{{"reports/a.xml":{{"sha256":"{}"}}}}}}"#,
            sha.to_hex()
        );
        assert_eq!(
            declared_digests(&run, manifest.as_bytes()),
            vec![("LIMS/IQ/r1/reports/a.xml".to_owned(), sha)]
        );
        assert!(declared_digests(&run, b"{not json").is_empty());
    }

    trait ParseRun {
        fn parse_run(&self) -> RunKey;
    }
    impl ParseRun for str {
        fn parse_run(&self) -> RunKey {
            match layout::classify(self) {
                KeyKind::RunFile { run, .. } => run,
                other => panic!("{other:?}"),
            }
        }
    }
}
