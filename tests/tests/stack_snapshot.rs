//! Stack snapshots against the emulator seeded with the demo: a fetch snapshots each stack the
//! fetched runs name, stores it as canonical JSON evidence bound to each run in the audit trail,
//! and `show` carries it. The emulator does not implement drift detection, so drift is "not
//! checked", never "in sync"; a fake detector shows the other outcomes end to end.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use countersign_core::clock::ManualClock;
use countersign_core::digest::Sha256;
use countersign_core::model::{Integrity, Phase, RunKey};
use countersign_core::stack_snapshot::{DriftState, StackSnapshot};
use countersign_ledger::Ledger;
use countersign_service::{CancelToken, FetchReport, FetchRequest, Service, SystemClock};
use countersign_tests::drift_front::DriftAnswer;
use countersign_tests::harness::fetch_request;
use countersign_tests::Harness;

const BUCKET: &str = "qualification-evidence";
const PREFIX: &str = "gxp";
const LIMS_RUNS: [&str; 2] = ["LIMS/IQ/2026-11-02-iq-1", "LIMS/OQ/2026-11-03-oq-1"];

fn request() -> FetchRequest {
    fetch_request(BUCKET, PREFIX).unwrap()
}

async fn seeded() -> Harness {
    let h = Harness::start().await.unwrap();
    h.demo_seeded_under(BUCKET, PREFIX).await.unwrap();
    h
}

async fn fetch(service: &Service, stack: Option<&str>) -> FetchReport {
    let req = FetchRequest {
        stack: stack.map(str::to_owned),
        ..request()
    };
    service
        .fetch(&req, &|_| {}, &CancelToken::new())
        .await
        .unwrap()
}

async fn template_sha(h: &Harness, stack: &str) -> Sha256 {
    let ctx = h.admin().await.unwrap();
    let out = ctx
        .cloudformation()
        .get_template()
        .stack_name(stack)
        .send()
        .await
        .unwrap();
    Sha256::of(out.template_body().unwrap().as_bytes())
}

#[tokio::test]
async fn a_fetch_snapshots_the_stacks_its_runs_qualify_and_show_carries_the_snapshot() {
    let h = seeded().await;
    let home = tempfile::tempdir().unwrap();
    let service = h.service(home.path()).unwrap();
    let report = fetch(&service, None).await;

    // One snapshot per stack named by a run.json: lims-qual (two runs) and eln-qual (one).
    let mut taken: Vec<(String, Vec<String>)> = report
        .snapshots
        .iter()
        .map(|s| (s.stack.clone(), s.runs.clone()))
        .collect();
    taken.sort();
    assert_eq!(
        taken,
        vec![
            (
                "eln-qual".to_owned(),
                vec!["ELN/IQ/2026-11-02-iq-1".to_owned()]
            ),
            (
                "lims-qual".to_owned(),
                LIMS_RUNS.iter().map(|s| (*s).to_owned()).collect()
            ),
        ],
        "{:?}",
        report.snapshots
    );
    assert!(
        report.snapshots.iter().all(|s| s.error.is_none()),
        "{:?}",
        report.snapshots
    );

    let expected_template = template_sha(&h, "lims-qual").await;
    for run in LIMS_RUNS {
        let view = service.show(run).unwrap();
        let snap = view
            .stack_snapshot
            .expect("the run shows its stack snapshot");
        assert_eq!(snap.stack_name, "lims-qual");
        assert_eq!(snap.region, "us-east-1");
        assert_eq!(snap.integrity, Integrity::Verified);
        assert_eq!(snap.status.as_deref(), Some("CREATE_COMPLETE"));
        assert_eq!(snap.template_sha256, Some(expected_template));
        // The emulator answers DetectStackDrift with HTTP 500: not checked, never in sync.
        match snap.drift {
            Some(DriftState::NotChecked { reason }) => {
                assert!(reason.contains("detect drift"), "{reason}")
            }
            other => panic!("expected drift not checked, got {other:?}"),
        }
        assert!(snap
            .uri
            .starts_with("cloudformation://us-east-1/lims-qual?snapshot="));
        assert!(snap.uri.ends_with(&format!("&run={run}")), "{}", snap.uri);

        let json = serde_json::to_value(service.show(run).unwrap()).unwrap();
        assert_eq!(json["stack_snapshot"]["drift"]["state"], "not_checked");
        assert_eq!(json["stack_snapshot"]["status"], "CREATE_COMPLETE");
    }
    // A run whose run.json names no stack has no snapshot.
    assert_eq!(
        service
            .show("LIMS/PQ/2026-11-04-pq-1")
            .unwrap()
            .stack_snapshot,
        None
    );
    assert!(service.ledger_verify().unwrap().is_ok());
    drop(service);

    // In the audit trail: one object per run qualified, all the same canonical bytes.
    let ledger = Ledger::open(
        &home.path().join(countersign_service::LEDGER_FILE),
        Arc::new(SystemClock::utc()),
    )
    .unwrap();
    let snapshots: Vec<_> = ledger
        .objects()
        .unwrap()
        .into_iter()
        .filter(|o| o.uri.starts_with("cloudformation://us-east-1/lims-qual?"))
        .collect();
    assert_eq!(snapshots.len(), 2);
    assert_eq!(snapshots[0].sha256, snapshots[1].sha256);
    assert!(snapshots.iter().all(|o| o.key.is_none()));
    let mut runs: Vec<_> = snapshots
        .iter()
        .map(|o| o.run_key.clone().unwrap())
        .collect();
    runs.sort();
    assert_eq!(runs, LIMS_RUNS);
    let store = countersign_store_bytes(home.path(), &snapshots[0].sha256);
    assert_eq!(Sha256::of(&store), snapshots[0].sha256);
    let decoded = StackSnapshot::from_json(&store).unwrap();
    assert_eq!(
        decoded.to_canonical_json().unwrap(),
        store,
        "stored bytes are canonical"
    );
    assert!(!decoded.resources.is_empty());
    assert!(!decoded.events.is_empty() && decoded.events.len() <= 100);
    assert_eq!(decoded.template.sha256, expected_template);
}

fn countersign_store_bytes(home: &std::path::Path, sha: &Sha256) -> Vec<u8> {
    let hex = sha.to_hex();
    std::fs::read(
        home.join(countersign_service::STORE_DIR)
            .join("objects/sha256")
            .join(&hex[..2])
            .join(&hex),
    )
    .unwrap()
}

#[tokio::test]
async fn fetch_stack_binds_runs_that_name_none_and_an_unknown_stack_is_reported_not_fatal() {
    let h = seeded().await;
    let home = tempfile::tempdir().unwrap();
    let service = h.service(home.path()).unwrap();

    let report = fetch(&service, Some("no-such-stack")).await;
    assert!(report.failed.is_empty(), "{report:?}");
    let missing = report
        .snapshots
        .iter()
        .find(|s| s.stack == "no-such-stack")
        .expect("the --stack binding was attempted");
    assert!(missing.snapshot.is_none());
    let error = missing.error.as_deref().unwrap();
    assert!(error.contains("no-such-stack"), "{error}");
    assert!(missing.runs.contains(&"LIMS/PQ/2026-11-04-pq-1".to_owned()));
    // The runs still load, and run.json's own stack still wins for the others.
    assert_eq!(service.runs().unwrap().len(), 6);

    let report = fetch(&service, Some("lims-qual")).await;
    assert!(
        report.snapshots.iter().all(|s| s.error.is_none()),
        "{report:?}"
    );
    let pq = service.show("LIMS/PQ/2026-11-04-pq-1").unwrap();
    assert_eq!(pq.stack_snapshot.unwrap().stack_name, "lims-qual");
    let eln = service.show("ELN/IQ/2026-11-02-iq-1").unwrap();
    assert_eq!(eln.stack_snapshot.unwrap().stack_name, "eln-qual");
}

#[tokio::test]
async fn the_latest_snapshot_wins_and_carries_what_drift_detection_found() {
    let h = seeded().await;
    let home = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(time::OffsetDateTime::now_utc()));
    let service = Service::open(home.path(), h.env_at(clock.clone())).unwrap();
    let run = RunKey {
        system: "LIMS".into(),
        phase: Phase::Iq,
        run_id: "2026-11-02-iq-1".into(),
    };
    let drift = |service: &Service| {
        service
            .show(&run.to_string())
            .unwrap()
            .stack_snapshot
            .unwrap()
            .drift
    };

    // The endpoint answers: in sync.
    h.proxy.answer_drift("lims-qual", DriftAnswer::InSync);
    fetch(&service, None).await;
    assert_eq!(drift(&service), Some(DriftState::InSync));
    // The eln stack has no answer, so it stays "not checked".
    let eln = service.show("ELN/IQ/2026-11-02-iq-1").unwrap();
    assert!(matches!(
        eln.stack_snapshot.unwrap().drift,
        Some(DriftState::NotChecked { .. })
    ));

    // A later snapshot wins: one resource modified outside the template.
    clock.advance(time::Duration::minutes(1));
    h.proxy.answer_drift(
        "lims-qual",
        DriftAnswer::Drifted(vec![(
            "SampleIntakeQueue".into(),
            "AWS::SQS::Queue".into(),
            "MODIFIED".into(),
        )]),
    );
    fetch(&service, None).await;
    match drift(&service) {
        Some(DriftState::Drifted { resources }) => {
            assert_eq!(resources.len(), 1, "{resources:?}");
            assert_eq!(resources[0].logical_id, "SampleIntakeQueue");
        }
        other => panic!("expected drifted, got {other:?}"),
    }

    // A detection that fails is recorded as not checked, with its reason.
    clock.advance(time::Duration::minutes(1));
    h.proxy.answer_drift(
        "lims-qual",
        DriftAnswer::Failed("Stack is in UPDATE_IN_PROGRESS state".into()),
    );
    fetch(&service, None).await;
    assert!(
        matches!(&drift(&service), Some(DriftState::NotChecked { reason }) if reason.contains("UPDATE_IN_PROGRESS")),
        "{:?}",
        drift(&service)
    );
}
