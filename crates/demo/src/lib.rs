//! The demo qualification dataset: a LIMS and an ELN qualified on AWS.
//!
//! The run folders (`<system>/<phase>/<run-id>/…`) and the CloudFormation templates are checked
//! in under `demo/` and embedded here. Everything that is hashed or signed is produced at seed
//! time by [`build`]: the `files` digests of each `run.json`, the CloudTrail log files, the
//! CloudTrail digest chain (signed with a fresh RSA-2048 key), and an AWS Config snapshot.
//! Nothing here uploads; the service layer uploads a [`DemoDataset`] through the AWS adapter.
#![forbid(unsafe_code)]

mod cloudtrail;
mod config_snapshot;
mod embedded;
mod manifest;
mod stacks;

use countersign_core::layout::{BucketName, Prefix};
use rand_core::CryptoRngCore;

pub use cloudtrail::data_signing_string;

/// Key (relative to the prefix) of the PEM public key that verifies the demo digest files.
pub const PUBLIC_KEY_KEY: &str = "countersign-demo/cloudtrail-public-key.pem";

/// SHA-256 of every bundled demo run file other than `run.json` (whose digests are completed at
/// seed time). A run holding any of these bytes comes from the demo dataset; packages of it
/// carry the "DEMO — NOT FOR GxP USE" watermark.
pub fn run_file_digests() -> Vec<[u8; 32]> {
    use sha2::Digest as _;
    embedded::RUN_FILES
        .iter()
        .filter(|f| !f.key.ends_with("/run.json"))
        .map(|f| sha2::Sha256::digest(f.body).into())
        .collect()
}

/// Where and when the dataset is seeded.
#[derive(Debug, Clone)]
pub struct DemoOptions {
    /// Bucket the dataset is uploaded to (named inside the CloudTrail digest files).
    pub bucket: BucketName,
    /// AWS region of the stacks, the trail and the Config recorder.
    pub region: String,
    /// 12-digit AWS account id.
    pub account_id: String,
    /// Seed time; stamps the AWS Config snapshot. Run folders and CloudTrail use fixed 2026 dates.
    pub now: time::OffsetDateTime,
}

/// Everything to upload and create for the demo.
#[derive(Debug, Clone)]
pub struct DemoDataset {
    /// Objects to upload, keys relative to the prefix.
    pub objects: Vec<DemoObject>,
    /// Stacks to create before the runs are reviewed.
    pub stacks: Vec<DemoStack>,
    /// SubjectPublicKeyInfo PEM of the key that signed the CloudTrail digest files.
    pub cloudtrail_public_key_pem: String,
}

/// One object to upload.
#[derive(Debug, Clone)]
pub struct DemoObject {
    /// Key relative to the prefix.
    pub key: String,
    pub body: Vec<u8>,
    pub content_type: String,
    /// User metadata, without the `x-amz-meta-` prefix.
    pub metadata: Vec<(String, String)>,
}

/// A CloudFormation stack the demo runs qualify.
#[derive(Debug, Clone)]
pub struct DemoStack {
    pub name: String,
    /// The system it belongs to (`LIMS`, `ELN`).
    pub system: String,
    pub template_body: String,
    pub parameters: Vec<(String, String)>,
    pub tags: Vec<(String, String)>,
}

/// Why the dataset could not be built.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error("demo option {field} is {value:?}: {expected}")]
    Option {
        field: &'static str,
        value: String,
        expected: &'static str,
    },
    #[error("run manifest {key} is not valid JSON: {source}")]
    Manifest {
        key: String,
        source: serde_json::Error,
    },
    #[error("run manifest {key} is not a JSON object")]
    ManifestShape { key: String },
    #[error("could not encode demo JSON: {0}")]
    Encode(serde_json::Error),
    #[error("could not compress demo evidence: {0}")]
    Gzip(std::io::Error),
    #[error("could not format a demo timestamp: {0}")]
    Time(time::error::Format),
    #[error("demo timestamp out of range: {0}")]
    TimeRange(time::error::ComponentRange),
    #[error("could not generate the CloudTrail signing key: {0}")]
    Rsa(rsa::Error),
    #[error("could not encode the CloudTrail public key: {0}")]
    KeyEncoding(String),
    #[error("could not sign a CloudTrail digest file: {0}")]
    Signing(String),
}

fn check_options(options: &DemoOptions) -> Result<(), DemoError> {
    let account = &options.account_id;
    if account.len() != 12 || !account.bytes().all(|b| b.is_ascii_digit()) {
        return Err(DemoError::Option {
            field: "account_id",
            value: account.clone(),
            expected: "a 12-digit AWS account id",
        });
    }
    let region = &options.region;
    let region_ok = !region.is_empty()
        && region
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if !region_ok {
        return Err(DemoError::Option {
            field: "region",
            value: region.clone(),
            expected: "an AWS region such as us-east-1",
        });
    }
    Ok(())
}

fn content_type(key: &str) -> &'static str {
    let ext = key.rsplit('.').next().unwrap_or_default();
    match ext {
        "xml" => "application/xml",
        "json" => "application/json",
        "png" => "image/png",
        "log" | "txt" => "text/plain; charset=utf-8",
        "pem" => "application/x-pem-file",
        "gz" => "application/gzip",
        _ => "application/octet-stream",
    }
}

/// The run folder of a run-file key: `<system>/<phase>/<run-id>/`, and the run-relative path.
fn split_run_key(key: &str) -> (String, &str) {
    let mut parts = key.splitn(4, '/');
    let folder: Vec<&str> = parts.by_ref().take(3).collect();
    (
        format!("{}/", folder.join("/")),
        parts.next().unwrap_or_default(),
    )
}

/// Builds the demo dataset for upload at the bucket root: run folders with completed manifests,
/// CloudTrail logs and signed digests, an AWS Config snapshot, the digest public key, and the
/// two stacks. Same as [`build_with_prefix`] with an empty prefix.
pub fn build(
    options: &DemoOptions,
    rng: &mut impl CryptoRngCore,
) -> Result<DemoDataset, DemoError> {
    build_with_prefix(options, &Prefix::root(), rng)
}

/// Builds the demo dataset for upload under `prefix`. Object keys stay relative to the prefix; the
/// CloudTrail digest files name the full keys (`prefix` + key), because the digest signature
/// covers the digest's own S3 location and a verifier checks it against where the file is.
pub fn build_with_prefix(
    options: &DemoOptions,
    prefix: &Prefix,
    rng: &mut impl CryptoRngCore,
) -> Result<DemoDataset, DemoError> {
    check_options(options)?;
    let prefix = prefix.as_str();
    if let Err(e) = countersign_core::layout::check_relative_key(&format!("{prefix}x")) {
        return Err(DemoError::Option {
            field: "prefix",
            value: prefix.to_owned(),
            expected: match e {
                countersign_core::layout::UnsafeKey::TooLong(_) => "a shorter S3 key prefix",
                _ => "a plain S3 key prefix (no '.', '..' or empty segments, no backslash or control characters)",
            },
        });
    }
    let specs = stacks::specs(&options.region, &options.account_id);
    let mut objects = Vec::new();

    for file in embedded::RUN_FILES {
        let (folder, path) = split_run_key(file.key);
        let body = if path == "run.json" {
            let siblings: Vec<(&str, &[u8])> = embedded::RUN_FILES
                .iter()
                .filter_map(|f| f.key.strip_prefix(folder.as_str()).map(|p| (p, f.body)))
                .collect();
            manifest::complete(file.key, file.body, &siblings)?
        } else {
            file.body.to_vec()
        };
        objects.push(DemoObject {
            key: file.key.to_owned(),
            body,
            content_type: content_type(file.key).to_owned(),
            metadata: Vec::new(),
        });
    }

    let trail = cloudtrail::generate(options, prefix, &specs, rng)?;
    objects.extend(trail.objects);
    objects.push(config_snapshot::generate(options, &specs, rng)?);
    objects.push(DemoObject {
        key: PUBLIC_KEY_KEY.to_owned(),
        body: trail.public_key_pem.clone().into_bytes(),
        content_type: content_type(PUBLIC_KEY_KEY).to_owned(),
        metadata: Vec::new(),
    });

    Ok(DemoDataset {
        objects,
        stacks: specs.iter().map(stacks::StackSpec::to_demo_stack).collect(),
        cloudtrail_public_key_pem: trail.public_key_pem,
    })
}

#[cfg(test)]
mod tests;
