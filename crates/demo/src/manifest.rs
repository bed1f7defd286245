//! Completes the checked-in `run.json` manifests with the digests of the run's other files.

use std::collections::BTreeMap;

use sha2::{Digest, Sha256};

use crate::DemoError;

/// Returns `manifest` (the bytes of a run's `run.json`) with `files` set to the SHA-256 of every
/// other file of the run, keyed by run-relative path. `run_files` are `(run-relative path, bytes)`.
pub(crate) fn complete(
    key: &str,
    manifest: &[u8],
    run_files: &[(&str, &[u8])],
) -> Result<Vec<u8>, DemoError> {
    let mut value: serde_json::Value =
        serde_json::from_slice(manifest).map_err(|source| DemoError::Manifest {
            key: key.to_owned(),
            source,
        })?;
    let Some(object) = value.as_object_mut() else {
        return Err(DemoError::ManifestShape {
            key: key.to_owned(),
        });
    };
    let files: BTreeMap<&str, serde_json::Value> = run_files
        .iter()
        .filter(|(path, _)| *path != "run.json")
        .map(|(path, body)| {
            let hex = hex::encode(Sha256::digest(body));
            (*path, serde_json::json!({ "sha256": hex }))
        })
        .collect();
    object.insert(
        "files".to_owned(),
        serde_json::to_value(files).map_err(DemoError::Encode)?,
    );
    let mut out = serde_json::to_vec_pretty(&value).map_err(DemoError::Encode)?;
    out.push(b'\n');
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fills_digests_of_the_other_files_only() {
        let out = complete(
            "S/IQ/r/run.json",
            br#"{"schema":"countersign.run/v1","files":{"stale":{"sha256":"00"}}}"#,
            &[("run.json", b"ignored"), ("a.xml", b"abc")],
        )
        .unwrap();
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        let files = v["files"].as_object().unwrap();
        assert_eq!(files.len(), 1);
        assert_eq!(
            files["a.xml"]["sha256"],
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(v["schema"], "countersign.run/v1");
    }

    #[test]
    fn bad_manifest_names_the_key() {
        let err = complete("S/IQ/r/run.json", b"{not json", &[]).unwrap_err();
        assert!(err.to_string().contains("S/IQ/r/run.json"), "{err}");
        let err = complete("S/IQ/r/run.json", b"[1]", &[]).unwrap_err();
        assert!(err.to_string().contains("S/IQ/r/run.json"), "{err}");
    }
}
