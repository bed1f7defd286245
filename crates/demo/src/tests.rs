//! Tests of the whole dataset: layout, manifests, CloudTrail digest chain, Config snapshot.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::path::Path;

use countersign_core::layout::{check_relative_key, classify, KeyKind};
use rand_core::OsRng;
use rsa::pkcs1v15::{Signature, VerifyingKey};
use rsa::pkcs8::DecodePublicKey;
use rsa::signature::Verifier;
use rsa::RsaPublicKey;
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::*;

fn options() -> DemoOptions {
    DemoOptions {
        bucket: "gxp-qualification-evidence".parse().unwrap(),
        region: "us-east-1".into(),
        account_id: "123456789012".into(),
        now: time::macros::datetime!(2026-11-05 06:30:00 UTC),
    }
}

fn dataset() -> DemoDataset {
    build(&options(), &mut OsRng).unwrap()
}

fn gunzip(body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(body)
        .read_to_end(&mut out)
        .unwrap();
    out
}

fn by_key(ds: &DemoDataset) -> BTreeMap<&str, &DemoObject> {
    ds.objects.iter().map(|o| (o.key.as_str(), o)).collect()
}

#[test]
fn every_key_is_safe_unique_and_classified_as_intended() {
    let ds = dataset();
    let mut seen = BTreeSet::new();
    let (mut runs, mut logs, mut digests, mut configs) = (BTreeSet::new(), 0, 0, 0);
    for o in &ds.objects {
        check_relative_key(&o.key).unwrap();
        assert!(seen.insert(o.key.clone()), "duplicate key {}", o.key);
        match classify(&o.key) {
            KeyKind::RunFile { run, .. } => {
                runs.insert(format!("{}/{}/{}", run.system, run.phase, run.run_id));
            }
            KeyKind::CloudTrailLog { account } => {
                assert_eq!(account, "123456789012");
                logs += 1;
            }
            KeyKind::CloudTrailDigest { account } => {
                assert_eq!(account, "123456789012");
                digests += 1;
            }
            KeyKind::ConfigFile { account } => {
                assert_eq!(account, "123456789012");
                configs += 1;
            }
            KeyKind::Unrecognised { reason } => assert_eq!(o.key, PUBLIC_KEY_KEY, "{reason}"),
        }
    }
    assert_eq!(runs.len(), 6, "{runs:?}");
    assert!(runs.contains("LIMS/OQ/2026-11-03-oq-1"));
    assert!(logs >= 8, "{logs} log files");
    assert!(digests >= 24, "{digests} digest files");
    assert_eq!(configs, 2, "the snapshot and the security group's history");
}

#[test]
fn embedded_list_matches_the_demo_folder() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../demo");
    let mut on_disk = BTreeSet::new();
    let mut stack = vec![root.clone()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let rel = path
                .strip_prefix(&root)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            if rel.starts_with("templates") || rel.starts_with("tools") || rel == "README.md" {
                continue;
            }
            if path.is_dir() {
                stack.push(path);
            } else {
                on_disk.insert(rel);
            }
        }
    }
    let embedded: BTreeSet<String> = embedded::RUN_FILES
        .iter()
        .map(|f| f.key.to_owned())
        .collect();
    assert_eq!(embedded, on_disk);
}

#[test]
fn manifests_declare_the_true_digests_of_their_runs() {
    let ds = dataset();
    let objects = by_key(&ds);
    let manifests: Vec<&DemoObject> = ds
        .objects
        .iter()
        .filter(|o| o.key.ends_with("/run.json"))
        .collect();
    assert_eq!(manifests.len(), 3);
    for m in manifests {
        let v: Value = serde_json::from_slice(&m.body).unwrap();
        assert_eq!(v["schema"], "countersign.run/v1");
        let folder = m.key.trim_end_matches("run.json");
        let files = v["files"].as_object().unwrap();
        let siblings: Vec<&&DemoObject> = objects
            .iter()
            .filter(|(k, _)| k.starts_with(folder) && !k.ends_with("/run.json"))
            .map(|(_, o)| o)
            .collect();
        assert_eq!(files.len(), siblings.len(), "{}", m.key);
        for o in siblings {
            let rel = &o.key[folder.len()..];
            assert_eq!(
                files[rel]["sha256"],
                hex::encode(Sha256::digest(&o.body)),
                "{}",
                o.key
            );
        }
        let (system, phase, run_id) = {
            let p: Vec<&str> = m.key.split('/').collect();
            (p[0], p[1], p[2])
        };
        assert_eq!(
            (
                v["system"].as_str(),
                v["phase"].as_str(),
                v["run_id"].as_str()
            ),
            (Some(system), Some(phase), Some(run_id))
        );
    }
}

#[test]
fn a_catalogue_lists_a_requirement_no_case_covers() {
    let ds = dataset();
    let eln = ds
        .objects
        .iter()
        .find(|o| o.key == "ELN/IQ/2026-11-02-iq-1/run.json")
        .unwrap();
    let v: Value = serde_json::from_slice(&eln.body).unwrap();
    assert!(v["requirements"]
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r["id"] == "URS-ELN-009"));
    let junit = ds
        .objects
        .iter()
        .find(|o| o.key == "ELN/IQ/2026-11-02-iq-1/reports/junit-iq.xml")
        .unwrap();
    assert!(!String::from_utf8_lossy(&junit.body).contains("URS-ELN-009"));
}

#[test]
fn gzip_bodies_are_valid_json_of_the_expected_shape() {
    let ds = dataset();
    for o in ds.objects.iter().filter(|o| o.key.ends_with(".json.gz")) {
        assert_eq!(o.content_type, "application/gzip");
        let v: Value = serde_json::from_slice(&gunzip(&o.body)).unwrap();
        match classify(&o.key) {
            KeyKind::CloudTrailLog { .. } => {
                let records = v["Records"].as_array().unwrap();
                assert!(!records.is_empty());
                for r in records {
                    for field in [
                        "eventVersion",
                        "userIdentity",
                        "eventTime",
                        "eventSource",
                        "eventName",
                        "awsRegion",
                        "sourceIPAddress",
                    ] {
                        assert!(!r[field].is_null(), "{field} missing in {}", o.key);
                    }
                }
            }
            KeyKind::ConfigFile { .. } if o.key.contains("/ConfigHistory/") => {
                let items = v["configurationItems"].as_array().unwrap();
                let types: Vec<&str> = items
                    .iter()
                    .map(|i| i["resourceType"].as_str().unwrap())
                    .collect();
                assert_eq!(
                    types,
                    [
                        "AWS::EC2::SecurityGroup",
                        "AWS::Config::ResourceCompliance",
                        "AWS::EC2::SecurityGroup",
                        "AWS::Config::ResourceCompliance"
                    ]
                );
                // The item that opened SSH names the CloudTrail call that did it.
                let id = items[2]["relatedEvents"][0].as_str().unwrap();
                let call = ds
                    .objects
                    .iter()
                    .filter(|o| matches!(classify(&o.key), KeyKind::CloudTrailLog { .. }))
                    .flat_map(|o| {
                        let v: Value = serde_json::from_slice(&gunzip(&o.body)).unwrap();
                        v["Records"].as_array().unwrap().clone()
                    })
                    .find(|r| r["eventID"] == id)
                    .unwrap();
                assert_eq!(call["eventName"], "AuthorizeSecurityGroupIngress");
            }
            KeyKind::ConfigFile { .. } => {
                let items = v["configurationItems"].as_array().unwrap();
                assert_eq!(items.len(), 2 + 8 + 7);
                assert!(items
                    .iter()
                    .any(|i| i["resourceType"] == "AWS::DynamoDB::Table"));
                assert!(
                    o.key
                        .contains("/Config/us-east-1/2026/11/5/ConfigSnapshot/"),
                    "{}",
                    o.key
                );
            }
            KeyKind::CloudTrailDigest { .. } => {
                assert_eq!(v["digestSignatureAlgorithm"], "SHA256withRSA")
            }
            other => panic!("unexpected {other:?} for {}", o.key),
        }
    }
}

#[test]
fn cloudtrail_records_the_stacks_and_some_failed_calls() {
    let ds = dataset();
    let mut names = BTreeSet::new();
    let mut errors = BTreeSet::new();
    for o in ds
        .objects
        .iter()
        .filter(|o| matches!(classify(&o.key), KeyKind::CloudTrailLog { .. }))
    {
        let v: Value = serde_json::from_slice(&gunzip(&o.body)).unwrap();
        for r in v["Records"].as_array().unwrap() {
            names.insert(r["eventName"].as_str().unwrap().to_owned());
            if let Some(code) = r["errorCode"].as_str() {
                errors.insert(code.to_owned());
            }
        }
    }
    for expected in [
        "CreateStack",
        "CreateBucket",
        "PutBucketEncryption",
        "CreateTable",
        "CreateQueue",
        "CreateTopic",
        "CreateRole",
        "ConsoleLogin",
    ] {
        assert!(names.contains(expected), "no {expected} event");
    }
    assert!(
        errors.contains("AccessDenied") && errors.contains("NoSuchBucketPolicy"),
        "{errors:?}"
    );
}

#[test]
fn digest_chain_verifies_with_the_returned_key() {
    verify_chain("");
}

#[test]
fn digest_chain_names_full_keys_under_a_prefix() {
    verify_chain("qualification/2026/");
}

#[test]
fn a_prefix_too_long_for_its_keys_is_refused_by_name() {
    let long: countersign_core::layout::Prefix = "p".repeat(1023).parse().unwrap();
    let Err(err) = build_with_prefix(&options(), &long, &mut OsRng) else {
        panic!("a prefix leaving no room for keys was accepted");
    };
    assert!(err.to_string().contains("prefix"), "{err}");
}

fn verify_chain(prefix: &str) {
    let opts = options();
    let ds = build_with_prefix(&opts, &prefix.parse().unwrap(), &mut OsRng).unwrap();
    let objects = by_key(&ds);
    let public = RsaPublicKey::from_public_key_pem(&ds.cloudtrail_public_key_pem).unwrap();
    let verifier = VerifyingKey::<Sha256>::new(public);
    assert_eq!(
        objects[PUBLIC_KEY_KEY].body,
        ds.cloudtrail_public_key_pem.as_bytes()
    );

    let mut digests: Vec<&DemoObject> = ds
        .objects
        .iter()
        .filter(|o| matches!(classify(&o.key), KeyKind::CloudTrailDigest { .. }))
        .collect();
    digests.sort_by(|a, b| a.key.cmp(&b.key));
    let mut previous: Option<(String, String, String, String)> = None; // full key, hash, signature, end time
    let mut covered_logs = BTreeSet::new();
    let mut restarts = 0;
    let rfc3339 = |t: time::OffsetDateTime| {
        t.format(&time::format_description::well_known::Rfc3339)
            .unwrap()
    };
    for d in &digests {
        let raw = gunzip(&d.body);
        let v: Value = serde_json::from_slice(&raw).unwrap();
        let meta: BTreeMap<&str, &str> = d
            .metadata
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        assert_eq!(meta["signature-algorithm"], "SHA256withRSA");
        assert_eq!(v["digestS3Bucket"], opts.bucket.as_str());
        let full_key = format!("{prefix}{}", d.key);
        assert_eq!(v["digestS3Object"], full_key.as_str());
        let hash = hex::encode(Sha256::digest(&raw));
        let prev_sig = v["previousDigestSignature"].as_str().unwrap_or("null");
        let string = data_signing_string(
            v["digestEndTime"].as_str().unwrap(),
            opts.bucket.as_str(),
            &full_key,
            &hash,
            prev_sig,
        );
        let signature =
            Signature::try_from(hex::decode(meta["signature"]).unwrap().as_slice()).unwrap();
        verifier.verify(string.as_bytes(), &signature).unwrap();
        // A changed byte in the signed string must fail.
        assert!(verifier
            .verify(format!("{string}0").as_bytes(), &signature)
            .is_err());

        // The chain starts once, and again after logging was stopped.
        let restart = v["digestStartTime"].as_str()
            == Some(rfc3339(crate::after_approval::LOGGING_STOPPED.1).as_str());
        if restart {
            restarts += 1;
            let (_, _, _, prev_end) = previous.as_ref().unwrap();
            assert_eq!(prev_end, &rfc3339(crate::after_approval::LOGGING_STOPPED.0));
        }
        match &previous {
            _ if restart => {
                assert!(v["previousDigestSignature"].is_null());
                assert!(v["previousDigestS3Object"].is_null());
            }
            None => {
                assert!(v["previousDigestSignature"].is_null());
                assert!(v["previousDigestS3Object"].is_null());
            }
            Some((key, prev_hash, prev_signature, prev_end)) => {
                assert_eq!(&v["previousDigestS3Object"], key.as_str());
                assert_eq!(v["previousDigestS3Bucket"], opts.bucket.as_str());
                assert_eq!(&v["previousDigestHashValue"], prev_hash.as_str());
                assert_eq!(v["previousDigestHashAlgorithm"], "SHA-256");
                assert_eq!(&v["previousDigestSignature"], prev_signature.as_str());
                assert_eq!(&v["digestStartTime"], prev_end.as_str());
            }
        }
        for log in v["logFiles"].as_array().unwrap() {
            let key = log["s3Object"]
                .as_str()
                .unwrap()
                .strip_prefix(prefix)
                .unwrap();
            let body = &objects[key].body;
            assert_eq!(
                log["hashValue"],
                hex::encode(Sha256::digest(gunzip(body))),
                "{key}"
            );
            assert_eq!(log["hashAlgorithm"], "SHA-256");
            covered_logs.insert(key.to_owned());
        }
        previous = Some((
            full_key,
            hash,
            meta["signature"].to_owned(),
            v["digestEndTime"].as_str().unwrap().to_owned(),
        ));
    }
    assert_eq!(
        restarts, 1,
        "the chain restarts once, after logging was stopped"
    );
    let last: Value = serde_json::from_slice(&gunzip(&digests.last().unwrap().body)).unwrap();
    assert_eq!(
        last["digestEndTime"],
        rfc3339(crate::after_approval::EVIDENCE_UNTIL).as_str()
    );
    let all_logs: BTreeSet<String> = ds
        .objects
        .iter()
        .filter(|o| matches!(classify(&o.key), KeyKind::CloudTrailLog { .. }))
        .map(|o| o.key.clone())
        .collect();
    assert_eq!(
        covered_logs, all_logs,
        "every log file is in exactly the chain"
    );
}

#[test]
fn stacks_carry_their_templates() {
    let ds = dataset();
    let names: Vec<&str> = ds.stacks.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["lims-qual", "eln-qual"]);
    for s in &ds.stacks {
        assert!(s.template_body.contains("AWSTemplateFormatVersion"));
        assert!(s.tags.iter().any(|(k, v)| k == "System" && *v == s.system));
        assert!(s
            .parameters
            .iter()
            .any(|(k, v)| k == "Environment" && v == "qual"));
    }
}

#[test]
fn run_folders_are_deterministic() {
    let a = dataset();
    let b = dataset();
    let runs = |ds: &DemoDataset| -> Vec<(String, Vec<u8>)> {
        ds.objects
            .iter()
            .filter(|o| matches!(classify(&o.key), KeyKind::RunFile { .. }))
            .map(|o| (o.key.clone(), o.body.clone()))
            .collect()
    };
    assert_eq!(runs(&a), runs(&b));
    assert_ne!(
        a.cloudtrail_public_key_pem, b.cloudtrail_public_key_pem,
        "a fresh key per seed"
    );
}

#[test]
fn bad_options_are_refused_by_name() {
    for (field, change) in [
        (
            "account_id",
            Box::new(|o: &mut DemoOptions| o.account_id = "12345".into())
                as Box<dyn Fn(&mut DemoOptions)>,
        ),
        (
            "region",
            Box::new(|o: &mut DemoOptions| o.region = String::new()),
        ),
    ] {
        let mut o = options();
        change(&mut o);
        let err = build(&o, &mut OsRng).unwrap_err();
        assert!(err.to_string().contains(field), "{err}");
    }
}

#[test]
fn content_types_follow_the_extension() {
    assert_eq!(content_type("a/b/c/report.xml"), "application/xml");
    assert_eq!(content_type("a/b/c/shot.png"), "image/png");
    assert_eq!(content_type("a/b/c/x.log"), "text/plain; charset=utf-8");
    assert_eq!(content_type("a/b/c/noext"), "application/octet-stream");
}

#[test]
fn runs_read_back_through_the_core_with_the_intended_totals() {
    use countersign_core::digest::Sha256 as CoreSha256;
    use countersign_core::model::{FileRole, Integrity, ObjectOrigin, RunFile, Totals};
    use countersign_core::run::{assemble, ParseOptions, RunInput};

    let ds = dataset();
    let mut folders: BTreeMap<countersign_core::model::RunKey, Vec<(String, &DemoObject)>> =
        BTreeMap::new();
    for o in &ds.objects {
        if let KeyKind::RunFile { run, path } = classify(&o.key) {
            folders.entry(run).or_default().push((path, o));
        }
    }
    let t = |tests, passed, failed, errored, skipped| Totals {
        tests,
        passed,
        failed,
        errored,
        skipped,
    };
    let expected: BTreeMap<&str, (Totals, Vec<&str>)> = [
        ("LIMS/IQ/2026-11-02-iq-1", (t(19, 18, 0, 0, 1), vec![])),
        (
            "LIMS/OQ/2026-11-03-oq-1",
            (t(18, 15, 1, 1, 1), vec!["URS-LIMS-044"]),
        ),
        ("LIMS/PQ/2026-11-04-pq-1", (t(10, 8, 1, 0, 1), vec![])),
        (
            "ELN/IQ/2026-11-02-iq-1",
            (t(18, 16, 0, 1, 1), vec!["URS-ELN-009"]),
        ),
        ("ELN/OQ/2026-11-03-oq-1", (t(10, 9, 0, 0, 1), vec![])),
        ("ELN/PQ/2026-11-04-pq-1", (t(8, 8, 0, 0, 0), vec![])),
    ]
    .into_iter()
    .collect();
    let options = ParseOptions::default();
    let mut read_as: BTreeMap<String, String> = BTreeMap::new();
    for (key, files) in &folders {
        let inputs: Vec<RunInput<'_>> = files
            .iter()
            .map(|(path, o)| RunInput {
                file: RunFile {
                    path: path.clone(),
                    role: FileRole::Evidence,
                    sha256: Some(CoreSha256::of(&o.body)),
                    size: o.body.len() as u64,
                    origin: ObjectOrigin {
                        uri: format!("s3://demo/{}", o.key),
                        version_id: None,
                        etag: None,
                        last_modified: None,
                    },
                    integrity: Integrity::Verified,
                },
                content: Some(o.body.as_slice()),
            })
            .collect();
        let run = assemble(key.clone(), &inputs, &options);
        let name = format!("{}/{}/{}", key.system, key.phase, key.run_id);
        assert!(run.problems.is_empty(), "{name}: {:?}", run.problems);
        let (totals, uncovered) = &expected[name.as_str()];
        assert_eq!(&run.totals, totals, "{name}");
        assert_eq!(&run.traceability.uncovered, uncovered, "{name}");
        assert_eq!(
            run.manifest.is_some(),
            name.contains("IQ") || name == "LIMS/OQ/2026-11-03-oq-1",
            "{name}"
        );
        let results = run
            .files
            .iter()
            .filter(|f| matches!(f.role, FileRole::JunitResult | FileRole::CucumberResult))
            .count();
        assert_eq!(
            results, 1,
            "{name}: exactly one result file, evidence JSON is not mistaken for Cucumber"
        );
        let data = countersign_core::package::run_data::RunData::of(&run, &[]);
        let bound = countersign_core::run_record::RecordRunData::of(&data).unwrap();
        read_as.insert(name, bound.sha256.to_hex());
    }
    assert_eq!(folders.len(), expected.len());
    // A v2 run record binds the run data and the parser version that read it
    // (docs/signature-format.md §11). These digests pin what this parser version reads from
    // the demo runs: a parser change that reads the same evidence differently fails here, and
    // must come with a new `PARSERS_V1` successor, so that signatures made on the old reading
    // show as made on a record that changed instead of silently covering other results.
    assert_eq!(
        countersign_core::run_record::PARSERS_VERSION,
        "countersign.parsers/v1"
    );
    let pinned: BTreeMap<String, String> = [
        (
            "ELN/IQ/2026-11-02-iq-1",
            "f1b64bdd520cc647872c9d344553d0b8cfb9abe47a05622c0f590f1d9968fd7e",
        ),
        (
            "ELN/OQ/2026-11-03-oq-1",
            "b7ca42646544db4accf905be28e55d3cda64e52137212deb07a4714ab9089188",
        ),
        (
            "ELN/PQ/2026-11-04-pq-1",
            "9d3473f1f24658d89447e6c6137e6779daa191b17f10c04edce682a97fb06073",
        ),
        (
            "LIMS/IQ/2026-11-02-iq-1",
            "d38cdbab4a76050e35ed9fababd0790d343181f2f81c25fc7f731d63e5eb1eae",
        ),
        (
            "LIMS/OQ/2026-11-03-oq-1",
            "0fff6f1eddadd7878971e3c781048fef7481240dcca2b78eee0b879f0828d6d8",
        ),
        (
            "LIMS/PQ/2026-11-04-pq-1",
            "920af121d843748927caff511a210242b660252a89ef83958705f353f9097228",
        ),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    assert_eq!(read_as, pinned);
}
