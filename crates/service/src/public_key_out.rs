//! Saving an exported public key to a file of the user's choosing, for an auditor's
//! trusted-keys list (docs/package-format.md §9).

use std::io::Write as _;
use std::path::Path;

use crate::error::ServiceError;
use crate::keys::PublicKeyExport;
use crate::Service;

impl Service {
    /// Writes the public half of the key (PEM, as a trusted-keys list reads it) to a new file at
    /// `out`: never over an existing file, never into a folder that does not exist. Answers what
    /// was written.
    pub fn keys_export_to(
        &self,
        key_id: Option<&str>,
        out: &Path,
    ) -> Result<PublicKeyExport, ServiceError> {
        let export = self.keys_export(key_id)?;
        let mut file = crate::audit::create_new(out)?;
        let fail = |e: std::io::Error| {
            ServiceError::storage(format!("could not write {}: {e}", out.display()))
        };
        file.write_all(export.pem.as_bytes()).map_err(fail)?;
        file.sync_all().map_err(fail)?;
        Ok(export)
    }
}

#[cfg(test)]
mod tests {
    use crate::{ErrorCode, TrustedKeys};

    #[test]
    fn a_saved_public_key_reads_back_as_a_trusted_key_and_is_never_overwritten() {
        let home = tempfile::tempdir().unwrap();
        let service = crate::test_env::service(home.path());
        let key = service
            .keys_init(
                "Dana Whitfield",
                &crate::Passphrase::new("a long passphrase".to_owned()),
            )
            .unwrap();
        let out = home.path().join("dana.pem");
        let export = service.keys_export_to(Some(&key.key_id), &out).unwrap();
        let text = std::fs::read_to_string(&out).unwrap();
        assert_eq!(text, export.pem);
        let trusted = TrustedKeys::parse("dana.pem", &text).unwrap();
        assert_eq!(
            trusted.0.iter().map(|k| k.to_hex()).collect::<Vec<_>>(),
            std::slice::from_ref(&key.key_id)
        );

        let again = service.keys_export_to(Some(&key.key_id), &out).unwrap_err();
        assert_eq!(again.code, ErrorCode::BadInput);
        assert!(again.message.contains("already exists"), "{again}");
        let missing = home.path().join("no-such-folder/dana.pem");
        let err = service
            .keys_export_to(Some(&key.key_id), &missing)
            .unwrap_err();
        assert_eq!(err.code, ErrorCode::BadInput);
        assert!(err.message.contains("does not exist"), "{err}");
        assert_eq!(std::fs::read_to_string(&out).unwrap(), export.pem);
    }
}
