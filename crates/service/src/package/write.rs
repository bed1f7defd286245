//! Writing a package: the PDF and the bundle folder or zip, each written whole under a partial
//! name beside its target (never half a file, never over an existing one), placed together by
//! the build and withdrawn together when anything fails.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::Path;

use countersign_core::package::manifest::{FileRole, MANIFEST_FILE};
use countersign_pdf::Relationship;

use super::assemble::{Content, PackageFile};
use crate::error::{self as err, ServiceError};
use crate::partial_output::PartialOutput;
use crate::Service;

pub(super) fn media_type(path: &str) -> &'static str {
    match path.rsplit('.').next().unwrap_or_default() {
        "json" => "application/json",
        "xml" => "application/xml",
        "png" => "image/png",
        "txt" | "log" => "text/plain",
        _ => "application/octet-stream",
    }
}

pub(super) fn relationship(role: FileRole) -> Relationship {
    match role {
        FileRole::Signature | FileRole::PublicKey | FileRole::Policy => Relationship::Supplement,
        _ => Relationship::Data,
    }
}

pub(super) fn describe(role: FileRole, path: &str) -> String {
    let what = match role {
        FileRole::RunRecord => "Run record (what run signatures sign)",
        FileRole::RunData => "Run results, normalised",
        FileRole::Evidence => "Original evidence file",
        FileRole::Signature => "DSSE signature envelope",
        FileRole::PublicKey => "Signer public key and enrollment",
        FileRole::Policy => "Signing policy",
        FileRole::StackSnapshot => "CloudFormation stack snapshot",
        FileRole::AuditEvidence => "Audit evidence summary",
        FileRole::AuditTrail => "Audit trail excerpt",
    };
    format!("{what}: {path}")
}

impl Service {
    pub(super) fn write_bundle(
        &self,
        target: &Path,
        manifest: &[u8],
        files: &BTreeMap<String, PackageFile>,
        pdf_name: &str,
        pdf: &[u8],
    ) -> Result<PartialOutput, ServiceError> {
        let is_zip = target
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("zip"));
        let content = |f: &PackageFile| -> Result<Vec<u8>, ServiceError> {
            match &f.content {
                Content::Bytes(b) => Ok(b.clone()),
                Content::Stored(sha) => self.store().read(sha).map_err(err::from_store),
            }
        };
        let io = |what: &str, e: &dyn std::fmt::Display| {
            ServiceError::storage(format!(
                "could not write the bundle {}: {what}: {e}",
                target.display()
            ))
        };
        if is_zip {
            let (out, file) = PartialOutput::file(target)?;
            let mut zip = zip::ZipWriter::new(std::io::BufWriter::new(file));
            let options = zip::write::SimpleFileOptions::default()
                .compression_method(zip::CompressionMethod::Deflated)
                .last_modified_time(zip::DateTime::default());
            let mut put = |name: &str, bytes: &[u8]| -> Result<(), ServiceError> {
                zip.start_file(name, options).map_err(|e| io(name, &e))?;
                zip.write_all(bytes).map_err(|e| io(name, &e))
            };
            put(MANIFEST_FILE, manifest)?;
            put(pdf_name, pdf)?;
            for (path, f) in files {
                put(path, &content(f)?)?;
            }
            let file = zip
                .finish()
                .map_err(|e| io("finishing", &e))?
                .into_inner()
                .map_err(|e| io("flushing", &e.error()))?;
            file.sync_all().map_err(|e| io("syncing", &e))?;
            Ok(out)
        } else {
            // Written into a partial folder beside the target, placed when complete.
            let out = PartialOutput::dir(target)?;
            let write = |rel: &str, bytes: &[u8]| -> Result<(), ServiceError> {
                let path = out.path().join(rel);
                if let Some(dir) = path.parent() {
                    std::fs::create_dir_all(dir).map_err(|e| io(rel, &e))?;
                }
                std::fs::write(&path, bytes).map_err(|e| io(rel, &e))
            };
            write(MANIFEST_FILE, manifest)?;
            write(pdf_name, pdf)?;
            for (path, f) in files {
                write(path, &content(f)?)?;
            }
            Ok(out)
        }
    }
}

/// The folder `path` goes into must exist before any work starts: a package is never written
/// into a folder made up on the way, and the user hears about the folder, not a temporary file.
pub(crate) fn refuse_missing_folder(path: &Path, what: &str) -> Result<(), ServiceError> {
    let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) else {
        return Ok(());
    };
    if parent.is_dir() {
        return Ok(());
    }
    let why = if parent.exists() {
        "is not a folder"
    } else {
        "does not exist"
    };
    Err(ServiceError::bad_input(format!(
        "the folder {} for {what} {why}; choose an existing folder, or create it first",
        parent.display()
    )))
}

pub(super) fn refuse_existing(path: &Path, what: &str) -> Result<(), ServiceError> {
    if path.exists() {
        return Err(ServiceError::bad_input(format!(
            "{what} {} already exists; choose a new name (nothing is overwritten)",
            path.display()
        )));
    }
    Ok(())
}

/// Writes `bytes` whole under a partial name beside `path`, ready to be placed.
pub(super) fn write_partial(path: &Path, bytes: &[u8]) -> Result<PartialOutput, ServiceError> {
    let fail = |e: &dyn std::fmt::Display| {
        ServiceError::storage(format!("could not write {}: {e}", path.display()))
    };
    let (out, mut file) = PartialOutput::file(path)?;
    file.write_all(bytes).map_err(|e| fail(&e))?;
    file.sync_all().map_err(|e| fail(&e))?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use crate::package::PackageRequest;
    use crate::CancelToken;

    #[test]
    fn a_package_into_a_folder_that_does_not_exist_names_the_folder_before_any_work() {
        let home = tempfile::tempdir().unwrap();
        let service = crate::test_env::service(home.path());
        let out = home.path().join("no-such-folder/p.pdf");
        let req = PackageRequest {
            runs: vec!["LIMS/OQ/1".into()],
            out: out.clone(),
            ..PackageRequest::default()
        };
        let err = service
            .package(&req, &|_| {}, &CancelToken::default())
            .unwrap_err();
        assert_eq!(err.code, crate::ErrorCode::BadInput, "{err}");
        let folder = home.path().join("no-such-folder").display().to_string();
        assert!(
            err.message.contains(&folder) && err.message.contains("does not exist"),
            "{err}"
        );
        assert!(
            !err.message.contains(&format!("{folder}/")),
            "no file inside the folder (no temporary file) is named: {err}"
        );

        // A file where the folder should be, and the bundle's folder, are named the same way.
        let file = home.path().join("a-file");
        std::fs::write(&file, b"x").unwrap();
        let req = PackageRequest {
            out: home.path().join("p.pdf"),
            bundle: Some(file.join("bundle.zip")),
            ..req
        };
        let err = service
            .package(&req, &|_| {}, &CancelToken::default())
            .unwrap_err();
        assert!(
            err.message.contains("is not a folder") && err.message.contains("the bundle"),
            "{err}"
        );
        assert!(!out.exists());
    }
}
