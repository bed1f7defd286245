//! One entry point per parser and decoder of untrusted input: result files, run manifests,
//! CloudTrail logs, digests and public keys, AWS Config files, DSSE envelopes and signed
//! statements, package manifests, public key files, run data, stack snapshots, package PDFs,
//! zip archives, ledger events and checkpoints, and signer key files.
//!
//! Each takes arbitrary bytes and must return, whatever they are: no panic, no hang, no
//! allocation out of proportion to the input. The fuzz targets in `fuzz/` call exactly these
//! functions; `tests/corpus.rs` replays every corpus file and every crash ever found through
//! them on stable, in the normal test suite.
#![forbid(unsafe_code)]

use std::io::{Cursor, Read};

use countersign_core::archive_directory;
use countersign_core::canonical::{canonical_json, canonical_json_value};
use countersign_core::cloudtrail::digest_chain::{self, ChainOptions, DigestFile, LogFile};
use countersign_core::cloudtrail::{events, public_key};
use countersign_core::digest::Sha256;
use countersign_core::junit::{declared_mismatch, parse_junit, JunitOutcome};
use countersign_core::ledger_event::{Actor, ChainVerifier, LedgerEvent};
use countersign_core::model::{FileRole, Integrity, ObjectOrigin, Phase, RunFile, RunKey};
use countersign_core::package::verify::{
    verify_package, Form, PackageInput, Rendered, VerifyOptions,
};
use countersign_core::requirement::RequirementPattern;
use countersign_core::run::{assemble, ParseOptions, RunInput};
use countersign_core::signature::dsse::Envelope;
use countersign_core::signature::statement::Statement;
use countersign_core::signature::verify::{verify_envelope, KeyRegistry, RecordRef};

/// The cap every decompressing reader here is given (as the service gives its own).
const INFLATE_LIMIT: u64 = 16 << 20;

/// A named entry point.
pub type Entry = fn(&[u8]);

/// Every entry point by target name: the names of `fuzz/fuzz_targets/*.rs` and of the corpus
/// folders.
pub const ENTRIES: &[(&str, Entry)] = &[
    ("junit", junit),
    ("cucumber", cucumber),
    ("run_manifest", run_manifest),
    ("run_folder", run_folder),
    ("cloudtrail_log", cloudtrail_log),
    ("cloudtrail_digest", cloudtrail_digest),
    ("trail_public_key", trail_public_key),
    ("config_file", config_file),
    ("dsse_envelope", dsse_envelope),
    ("package_manifest", package_manifest),
    ("package_files", package_files),
    ("package_pdf", package_pdf),
    ("zip_archive", zip_archive),
    ("ledger_event", ledger_event),
    ("checkpoint", checkpoint),
    ("key_file", key_file),
    ("stack_snapshot", stack_snapshot),
];

/// JUnit XML, and the declared-versus-found check on what it holds.
pub fn junit(data: &[u8]) {
    if let Ok(JunitOutcome::Report(r)) = parse_junit("fuzz.xml", data) {
        let _ = declared_mismatch(&r);
    }
}

/// Cucumber JSON.
pub fn cucumber(data: &[u8]) {
    let _ = countersign_core::cucumber::parse_cucumber(
        "fuzz.json",
        data,
        &RequirementPattern::default(),
    );
}

/// `run.json`.
pub fn run_manifest(data: &[u8]) {
    let _ = countersign_core::run_manifest::parse_run_manifest("run.json", data);
}

/// A whole run folder: the input split into `run.json`, a JUnit file and a Cucumber file at
/// zero bytes, then assembled (roles, declared digests, problems, traceability).
pub fn run_folder(data: &[u8]) {
    let parts: Vec<&[u8]> = data.splitn(3, |&b| b == 0).collect();
    let paths = ["run.json", "results/junit.xml", "results/cucumber.json"];
    let files: Vec<RunFile> = parts
        .iter()
        .zip(paths)
        .map(|(bytes, path)| RunFile {
            path: path.to_owned(),
            role: FileRole::Evidence,
            sha256: Some(Sha256::of(bytes)),
            size: bytes.len() as u64,
            origin: ObjectOrigin {
                uri: format!("s3://b/SYS/OQ/r1/{path}"),
                version_id: None,
                etag: None,
                last_modified: None,
            },
            integrity: Integrity::Verified,
        })
        .collect();
    let inputs: Vec<RunInput<'_>> = files
        .into_iter()
        .zip(parts.iter())
        .map(|(file, bytes)| RunInput {
            file,
            content: Some(bytes),
        })
        .collect();
    let key = RunKey {
        system: "SYS".into(),
        phase: Phase::Oq,
        run_id: "r1".into(),
    };
    let _ = assemble(key, &inputs, &ParseOptions::default());
}

/// A CloudTrail log file as delivered (gzip, then JSON).
pub fn cloudtrail_log(data: &[u8]) {
    let _ = events::read_log_file("AWSLogs/1/CloudTrail/x.json.gz", data, INFLATE_LIMIT);
    let _ = events::parse_log("AWSLogs/1/CloudTrail/x.json", data);
}

/// A CloudTrail digest file (gzip JSON) with signature metadata, validated as a chain over a
/// log file given as the same bytes.
pub fn cloudtrail_digest(data: &[u8]) {
    let digest = DigestFile {
        bucket: "b",
        key: "AWSLogs/123456789012/CloudTrail-Digest/us-east-1/2026/11/01/d.json.gz",
        raw: data,
        signature: Some("00ff"),
        signature_algorithm: Some("SHA256withRSA"),
    };
    let log = LogFile {
        bucket: "b",
        key: "AWSLogs/123456789012/CloudTrail/us-east-1/2026/11/01/l.json.gz",
        raw: data,
    };
    let options = ChainOptions {
        max_decompressed: INFLATE_LIMIT,
    };
    let _ = digest_chain::validate(&[digest], &[log], &[], &options);
}

/// A CloudTrail public key file (the `ListPublicKeys` answer, or PEM/DER keys).
pub fn trail_public_key(data: &[u8]) {
    let _ = public_key::parse_public_keys("fuzz", data);
}

/// An AWS Config file as delivered (gzip JSON) and as plain JSON.
pub fn config_file(data: &[u8]) {
    let _ =
        countersign_core::aws_config_items::read_config_file("fuzz.json.gz", data, INFLATE_LIMIT);
    let _ = countersign_core::aws_config_items::parse_config_file("fuzz.json", data);
}

/// A DSSE envelope: decoded, its payload read as an in-toto statement, and verified against an
/// empty key registry. The canonical forms verification writes directly (of the envelope, of
/// any JSON value) must be the general RFC 8785 encoder's bytes: a difference panics.
pub fn dsse_envelope(data: &[u8]) {
    same_canonical_form(data);
    if let Ok(env) = Envelope::from_json(data) {
        assert_eq!(
            Some(env.to_canonical_json()),
            canonical_json(&env).ok(),
            "the envelope's direct canonical form differs from the encoder's"
        );
        if let Ok(payload) = env.payload_bytes() {
            same_canonical_form(&payload);
            let _ = Statement::from_payload(&payload);
        }
    }
    let record = RecordRef {
        name: "run:SYS/OQ/r1",
        sha256: Sha256::of(b"record"),
    };
    let _ = verify_envelope(data, &record, &KeyRegistry::new());
}

/// Panics when the directly written canonical form of the JSON in `data` is not the encoder's.
fn same_canonical_form(data: &[u8]) {
    if let Ok(value) = serde_json::from_slice::<serde_json::Value>(data) {
        assert_eq!(
            canonical_json_value(&value).ok(),
            canonical_json(&value).ok(),
            "the direct canonical form differs from the encoder's"
        );
    }
}

/// A package manifest, and the other JSON documents a package carries (public key, run data,
/// run record v1 and v2, review report manifest).
pub fn package_manifest(data: &[u8]) {
    let _ = countersign_core::package::manifest::PackageManifest::parse(data);
    let _ = countersign_core::package::public_key::PublicKeyFile::parse(data);
    let _ = countersign_core::package::run_data::RunData::parse(data);
    let _ = countersign_core::run_record::RunRecord::parse(data);
    let _ = countersign_core::review_report::ReviewReportManifest::parse(data);
}

/// A package's files as the offline verifier sees them: the input split at zero bytes into a
/// manifest and files named after the manifest's own paths where it has them.
pub fn package_files(data: &[u8]) {
    let mut parts = data.split(|&b| b == 0);
    let manifest = parts.next().map(<[u8]>::to_vec);
    let names = [
        "runs/SYS/OQ/r1/record.json",
        "runs/SYS/OQ/r1/data.json",
        "signatures/SYS/OQ/r1/001.dsse.json",
        "policy.json",
        "keys/00000000000000000000000000000000.json",
    ];
    let files = names
        .iter()
        .zip(parts)
        .map(|(n, b)| ((*n).to_owned(), b.to_vec()))
        .collect();
    let input = PackageInput {
        manifest,
        files,
        rendered: Some(Rendered::default()),
        approvals: Some(Ok(Default::default())),
    };
    for form in [Form::Pdf, Form::Bundle] {
        let _ = verify_package(form, &input, &VerifyOptions::default());
    }
    let _ = countersign_core::review_report::verify::verify_review_report(
        &input,
        &VerifyOptions::default(),
    );
}

/// A package PDF: its approval revisions found (the byte-range reader), the draft read back
/// with bounded decompression, then verified offline.
pub fn package_pdf(data: &[u8]) {
    let approvals = countersign_core::package::approval::read_approvals(data);
    let draft = &data[..approvals
        .as_ref()
        .map_or(data.len(), |a| a.draft_len(data.len()))];
    let Ok(read) = countersign_pdf::read_package(draft) else {
        return;
    };
    let mut files = read.attachments;
    let manifest = files.remove("manifest.json");
    let input = PackageInput {
        manifest,
        files,
        rendered: Some(Rendered {
            package_id: read.package_id,
            manifest_sha256: read.manifest_sha256,
            trailer_id: read.trailer_id,
            review_report_id: read.review_report_id,
        }),
        approvals: Some(approvals),
    };
    let _ = verify_package(Form::Pdf, &input, &VerifyOptions::default());
    let _ = countersign_core::review_report::verify::verify_review_report(
        &input,
        &VerifyOptions::default(),
    );
}

/// A zip archive as the importer and the bundle verifier read it: its central directory record
/// by record, every local header, then every entry inflated under a cap.
pub fn zip_archive(data: &[u8]) {
    let Ok(mut archive) = zip::ZipArchive::new(Cursor::new(data)) else {
        return;
    };
    let start = usize::try_from(archive.central_directory_start()).unwrap_or(usize::MAX);
    if let Some(directory) = data.get(start..) {
        if let Ok(entries) = archive_directory::central_entries(directory, archive.len()) {
            let _ = archive_directory::first_duplicate(&entries);
            for e in &entries {
                let at = usize::try_from(archive.offset().saturating_add(e.local_header_offset))
                    .unwrap_or(usize::MAX);
                let end = at.saturating_add(archive_directory::local_header_len(e));
                if let Some(header) = data.get(at..end.min(data.len())) {
                    let _ = archive_directory::check_local_header(e, header);
                }
            }
        }
    }
    for i in 0..archive.len().min(64) {
        if let Ok(entry) = archive.by_index(i) {
            let mut sink = Vec::new();
            let _ = entry.take(INFLATE_LIMIT).read_to_end(&mut sink);
        }
    }
}

/// Ledger events: the input's lines as the fields of events, encoded, hashed and pushed
/// through the streaming chain verifier (as `ledger verify` reads rows).
pub fn ledger_event(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let mut verifier = ChainVerifier::new(&[]);
    let mut prev = countersign_core::ledger_event::genesis_prev_hash();
    for (i, chunk) in text.split("\n\n").take(64).enumerate() {
        let f: Vec<&str> = chunk.split('\n').collect();
        let field = |n: usize| f.get(n).map(|s| (*s).to_owned());
        let event = LedgerEvent {
            seq: u64::try_from(i).unwrap_or(0).saturating_add(1),
            time_utc: field(0).unwrap_or_default(),
            utc_offset: field(1).unwrap_or_default(),
            actor: match (field(2), field(3)) {
                (None, None) => Actor::system(),
                (arn, name) => Actor {
                    arn,
                    printed_name: name,
                },
            },
            action: field(4).unwrap_or_default(),
            object_kind: field(5).unwrap_or_default(),
            object_id: field(6).unwrap_or_default(),
            before: field(7),
            after: field(8),
            reason: field(9),
            prev_hash: prev,
        };
        let Ok(hash) = event.hash() else {
            return;
        };
        let _ = event.encode();
        if !verifier.push(&event, &hash) {
            break;
        }
        prev = hash;
    }
    let _ = verifier.finish();
}

/// A published checkpoint (JSON), with its signature checked.
pub fn checkpoint(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(c) = countersign_ledger::Checkpoint::from_json(text, "fuzz") {
            let _ = c.verify_signature();
            let _ = c.statement.encode();
        }
    }
}

/// A signer key file (`countersign.key/v1`): parsed and checked, never unlocked (opening runs
/// argon2id over 64 MiB by design).
pub fn key_file(data: &[u8]) {
    let _ = countersign_keys::KeyFile::from_json(data);
}

/// A stack snapshot record (`countersign.stack-snapshot/v1`).
pub fn stack_snapshot(data: &[u8]) {
    let _ = countersign_core::stack_snapshot::StackSnapshot::from_json(data);
}
