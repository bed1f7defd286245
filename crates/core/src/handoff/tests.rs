use std::collections::{BTreeMap, BTreeSet};

use super::publish::{plan, OnFile};
use super::receive::{check_record, check_signoff, files_difference, sort_listing, HeldKey, Known};
use super::*;
use crate::canonical::canonical_json;
use crate::run_record::RecordFile;
use crate::signature::verify::KeyRegistry;

#[test]
fn only_the_three_shapes_are_entries_and_names_round_trip() {
    assert_eq!(Entry::parse("record.json"), Some(Entry::Record));
    let sha = Sha256::of(b"x");
    let sig = Entry::Signature { n: 2, sha256: sha };
    assert_eq!(
        sig.name(),
        format!("signatures/0002-{}.dsse.json", sha.to_hex())
    );
    assert_eq!(Entry::parse(&sig.name()), Some(sig));
    let key = Entry::Key {
        key_id: KeyId::of_public_key_bytes(&[7; 32]),
    };
    assert_eq!(Entry::parse(&key.name()), Some(key));
    let hex64 = "a".repeat(64);
    for other in [
        "record.json.bak".to_owned(),
        "signatures/0-x.dsse.json".to_owned(),
        format!("signatures/0000-{hex64}.dsse.json"),
        format!("signatures/1-{}.dsse.json", "A".repeat(64)),
        format!("signatures/1234567-{hex64}.dsse.json"),
        "keys/short.json".to_owned(),
        "keys/../record.json".to_owned(),
    ] {
        assert_eq!(Entry::parse(&other), None, "{other}");
    }
}

#[test]
fn listings_sort_into_entries_and_refuse_the_rest() {
    let sha = Sha256::of(b"e");
    let l = sort_listing([
        "record.json",
        &format!("signatures/0002-{}.dsse.json", sha.to_hex()),
        &format!("signatures/0001-{}.dsse.json", sha.to_hex()),
        "notes.txt",
        "a//b",
    ]);
    assert_eq!(l.record.as_deref(), Some("record.json"));
    assert_eq!(l.signatures.iter().map(|s| s.0).collect::<Vec<_>>(), [1, 2]);
    let refusals: Vec<_> = l.refused.iter().map(|i| i.refusal()).collect();
    assert_eq!(
        refusals,
        [Some(Refusal::Unexpected), Some(Refusal::UnsafeKey)]
    );
}

#[test]
fn file_differences_are_named() {
    let f = |p: &str, b: &[u8]| RecordFile {
        path: p.into(),
        sha256: Sha256::of(b),
        uri: format!("s3://b/{p}"),
        version_id: Some("v1".into()),
    };
    let ours = vec![f("a.xml", b"a"), f("run.json", b"m")];
    assert_eq!(files_difference(&ours, &ours), None);
    let theirs = vec![f("a.xml", b"changed"), f("run.json", b"m")];
    let d = files_difference(&theirs, &ours).unwrap();
    assert!(
        d.starts_with("a.xml: the published record has sha256"),
        "{d}"
    );
    assert!(files_difference(&ours[..1], &ours)
        .unwrap()
        .contains("run.json"));
    let mut moved = ours.clone();
    moved[0].version_id = Some("v2".into());
    assert!(files_difference(&moved, &ours)
        .unwrap()
        .contains("version v2"));
}

fn facts() -> KeyFacts {
    KeyFacts {
        public_key: [0xab; 32],
        iam_arn: "arn:aws:iam::123456789012:user/alice".into(),
        account: "123456789012".into(),
        printed_name: "Alice Adams".into(),
        mfa_serial: "arn:aws:iam::123456789012:mfa/alice".into(),
        enrolled_at: "2026-11-03T09:00:00.000Z".into(),
    }
}

#[test]
fn key_documents_must_be_canonical_and_self_consistent() {
    let doc = SignoffKey::new(&facts());
    let id: KeyId = doc.key_id.parse().unwrap();
    let bytes = doc.to_bytes().unwrap();
    assert_eq!(SignoffKey::parse(&bytes, &id).unwrap().1, [0xab; 32]);
    let other: KeyId = "0".repeat(32).parse().unwrap();
    assert!(SignoffKey::parse(&bytes, &other)
        .unwrap_err()
        .0
        .contains("key id mismatch"));
    let pretty = serde_json::to_vec_pretty(&doc).unwrap();
    assert!(SignoffKey::parse(&pretty, &id)
        .unwrap_err()
        .0
        .contains("canonical"));
    let mut wrong = doc.clone();
    wrong.account = "999999999999".into();
    let bytes = canonical_json(&wrong).unwrap();
    assert!(SignoffKey::parse(&bytes, &id)
        .unwrap_err()
        .0
        .contains("not an IAM ARN"));
    let extra = String::from_utf8(doc.to_bytes().unwrap())
        .unwrap()
        .replace("{\"account\"", "{\"a\":1,\"account\"");
    assert!(SignoffKey::parse(extra.as_bytes(), &id).is_err());
    let mut upper = doc;
    upper.public_key = upper.public_key.to_uppercase();
    assert!(SignoffKey::parse(&canonical_json(&upper).unwrap(), &id).is_err());
}

#[test]
fn a_publish_writes_keys_record_then_valid_signatures_and_leaves_out_the_rest() {
    let k = KeyId::of_public_key_bytes(&[7; 32]);
    let docs = BTreeMap::from([(k, b"doc".to_vec())]);
    let on_file = [
        OnFile {
            envelope: b"one".to_vec(),
            key_id: k,
            outcome: OutcomeCode::Valid,
        },
        OnFile {
            envelope: b"old".to_vec(),
            key_id: k,
            outcome: OutcomeCode::RecordChanged,
        },
        OnFile {
            envelope: b"two".to_vec(),
            key_id: k,
            outcome: OutcomeCode::Valid,
        },
    ];
    let p = plan(b"record".to_vec(), &on_file, &docs).unwrap();
    let names: Vec<&str> = p.objects.iter().map(|o| o.name.as_str()).collect();
    assert_eq!(names[0], Entry::Key { key_id: k }.name());
    assert_eq!(names[1], "record.json");
    assert!(names[2].starts_with("signatures/0001-") && names[3].starts_with("signatures/0002-"));
    assert_eq!(
        p.left_out,
        vec![(Sha256::of(b"old"), OutcomeCode::RecordChanged)]
    );
    assert_eq!(p.signatures, 2);
    assert!(plan(b"r".to_vec(), &on_file, &BTreeMap::new()).is_err());
}

#[test]
fn a_record_for_another_run_or_not_canonical_is_refused_with_its_reason() {
    let run = crate::model::RunKey {
        system: "LIMS".into(),
        phase: crate::model::Phase::Oq,
        run_id: "r1".into(),
    };
    let files = vec![RecordFile {
        path: "a.xml".into(),
        sha256: Sha256::of(b"a"),
        uri: "s3://b/LIMS/OQ/r1/a.xml".into(),
        version_id: None,
    }];
    let record = crate::run_record::RunRecord::new(&run, files.clone(), Vec::new());
    let bytes = record.canonical_bytes().unwrap();
    let local = crate::run::assemble(run.clone(), &[], &crate::run::ParseOptions::default());
    assert_eq!(
        check_record("record.json", &bytes, &run, &files, &local).unwrap(),
        record
    );
    // Version 2: the run data it binds must be what this desktop reads from the same files,
    // with the record's dispositions.
    let data =
        crate::run_record::RecordRunData::of(&crate::package::run_data::RunData::of(&local, &[]))
            .unwrap();
    let v2 = crate::run_record::RunRecord::new_v2(&run, files.clone(), Vec::new(), data);
    let v2_bytes = v2.canonical_bytes().unwrap();
    assert_eq!(
        check_record("record.json", &v2_bytes, &run, &files, &local).unwrap(),
        v2
    );
    let mut read_otherwise = local.clone();
    read_otherwise.add_problem("a.xml", "read differently".into());
    let e = check_record("record.json", &v2_bytes, &run, &files, &read_otherwise).unwrap_err();
    assert_eq!(e.refusal(), Some(Refusal::RecordMismatch));
    assert!(e.detail.contains("binds run data"), "{}", e.detail);
    let v9 = String::from_utf8(bytes.clone())
        .unwrap()
        .replace("run-record/v1", "run-record/v9");
    let e = check_record("record.json", v9.as_bytes(), &run, &files, &local).unwrap_err();
    assert_eq!(e.refusal(), Some(Refusal::UnsupportedVersion));
    let other = crate::model::RunKey {
        run_id: "r2".into(),
        ..run.clone()
    };
    let e = check_record("record.json", &bytes, &other, &files, &local).unwrap_err();
    assert_eq!(e.refusal(), Some(Refusal::RecordMismatch));
    let pretty = serde_json::to_vec_pretty(&record).unwrap();
    let e = check_record("record.json", &pretty, &run, &files, &local).unwrap_err();
    assert_eq!(e.refusal(), Some(Refusal::Malformed));
    let e = check_record("record.json", &bytes, &run, &[], &local).unwrap_err();
    assert_eq!(e.refusal(), Some(Refusal::RecordMismatch));
    // Nothing signed: the record is refused as unsigned, nothing is taken over.
    let listing = sort_listing(["record.json"]);
    let v = check_signoff(
        "record.json",
        &record,
        Sha256::of(&bytes),
        &listing,
        &BTreeMap::new(),
        &BTreeMap::new(),
        Known {
            subject: "run:LIMS/OQ/r1",
            keys: &[] as &[HeldKey],
            registry: KeyRegistry::new(),
            recorded: BTreeSet::new(),
            record_accepted_before: false,
        },
    );
    assert!(!v.accept_record && v.signatures.is_empty() && v.keys.is_empty());
    assert_eq!(
        v.items.last().and_then(Item::refusal),
        Some(Refusal::Unsigned)
    );
}
