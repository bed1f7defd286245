//! Golden vectors of the package format, version 1: fixed inputs give fixed bytes, forever.
//! If one of these fails, the format changed: add a new version instead.

use super::manifest::{
    package_id, FileRole, ManifestFile, ManifestRun, PackageManifest, MANIFEST_SCHEMA_V1,
};
use super::public_key::PublicKeyFile;
use crate::digest::Sha256;
use crate::model::Totals;

fn manifest() -> PackageManifest {
    PackageManifest {
        schema: MANIFEST_SCHEMA_V1.into(),
        package_id: package_id("2026-11-05T09:30:00.000Z", &[Sha256::of(b"record")]),
        title: "LIMS qualification — Grüße".into(),
        systems: vec!["LIMS".into()],
        phases: vec!["OQ".into()],
        stacks: vec!["lims-prod".into()],
        created_at: "2026-11-05T09:30:00.000Z".into(),
        utc_offset: "+01:00".into(),
        demo: false,
        runs: vec![ManifestRun {
            run: "LIMS/OQ/r1".into(),
            record: "runs/LIMS/OQ/r1/record.json".into(),
            record_sha256: Sha256::of(b"record"),
            data: "runs/LIMS/OQ/r1/results.json".into(),
            status: "passed".into(),
            totals: Totals {
                tests: 1,
                passed: 1,
                failed: 0,
                errored: 0,
                skipped: 0,
            },
        }],
        files: vec![
            ManifestFile {
                path: "runs/LIMS/OQ/r1/record.json".into(),
                role: FileRole::RunRecord,
                size: 6,
                sha256: Sha256::of(b"record"),
            },
            ManifestFile {
                path: "runs/LIMS/OQ/r1/results.json".into(),
                role: FileRole::RunData,
                size: 4,
                sha256: Sha256::of(b"data"),
            },
        ],
    }
}

const GOLDEN_PACKAGE_ID: &str = "PKG-20261105-538f686d3975";
const GOLDEN_MANIFEST: &str = r#"{"created_at":"2026-11-05T09:30:00.000Z","demo":false,"files":[{"path":"runs/LIMS/OQ/r1/record.json","role":"run-record","sha256":"70ce871f8a3d3fb449bc3c3ace6547cef02dfc74ffe48d912532a724bfdbe5b9","size":6},{"path":"runs/LIMS/OQ/r1/results.json","role":"run-data","sha256":"3a6eb0790f39ac87c94f3856b2dd2c5d110e6811602261a9a923d3bb23adc8b7","size":4}],"package_id":"PKG-20261105-538f686d3975","phases":["OQ"],"runs":[{"data":"runs/LIMS/OQ/r1/results.json","record":"runs/LIMS/OQ/r1/record.json","record_sha256":"70ce871f8a3d3fb449bc3c3ace6547cef02dfc74ffe48d912532a724bfdbe5b9","run":"LIMS/OQ/r1","status":"passed","totals":{"errored":0,"failed":0,"passed":1,"skipped":0,"tests":1}}],"schema":"countersign.package-manifest/v1","stacks":["lims-prod"],"systems":["LIMS"],"title":"LIMS qualification — Grüße","utc_offset":"+01:00"}"#;
const GOLDEN_MANIFEST_SHA256: &str =
    "d22f74a9c4b34c1e7c55734fc626ae4b569f0c303b3cd411bcd81c25f6191411";
const GOLDEN_PUBLIC_KEY: &str = r#"{"enrolled_at":"2026-11-01T08:00:00.000Z","format":"countersign.public-key/v1","iam_arn":"arn:aws:iam::123456789012:user/dana","key_id":"a42bbcc6bdf0cf620158cc9c1a2bbff7","printed_name":"Dana Whitfield","public_key":"11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=","revoked_at":null}"#;

#[test]
fn package_id_is_stable() {
    assert_eq!(manifest().package_id, GOLDEN_PACKAGE_ID);
}

#[test]
fn manifest_bytes_and_digest() {
    let bytes = manifest().canonical_bytes().unwrap();
    assert_eq!(String::from_utf8(bytes.clone()).unwrap(), GOLDEN_MANIFEST);
    assert_eq!(Sha256::of(&bytes).to_hex(), GOLDEN_MANIFEST_SHA256);
    assert_eq!(
        PackageManifest::parse(GOLDEN_MANIFEST.as_bytes()).unwrap(),
        manifest()
    );
}

#[test]
fn public_key_file_bytes() {
    // RFC 8032 §7.1 test 1 public key.
    let pk: [u8; 32] =
        hex::decode("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")
            .unwrap()
            .try_into()
            .unwrap();
    let f = PublicKeyFile::new(
        &pk,
        "Dana Whitfield",
        "arn:aws:iam::123456789012:user/dana",
        "2026-11-01T08:00:00.000Z",
        None,
    );
    assert_eq!(
        String::from_utf8(f.canonical_bytes().unwrap()).unwrap(),
        GOLDEN_PUBLIC_KEY
    );
}

#[test]
#[ignore = "prints the vectors; run once when a new version is introduced"]
fn print_vectors() {
    let bytes = manifest().canonical_bytes().unwrap();
    println!("ID {}", manifest().package_id);
    println!("MANIFEST {}", String::from_utf8(bytes.clone()).unwrap());
    println!("SHA {}", Sha256::of(&bytes).to_hex());
    let pk: [u8; 32] =
        hex::decode("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")
            .unwrap()
            .try_into()
            .unwrap();
    let f = PublicKeyFile::new(
        &pk,
        "Dana Whitfield",
        "arn:aws:iam::123456789012:user/dana",
        "2026-11-01T08:00:00.000Z",
        None,
    );
    println!(
        "PK {}",
        String::from_utf8(f.canonical_bytes().unwrap()).unwrap()
    );
}
