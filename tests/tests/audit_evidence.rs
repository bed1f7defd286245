//! Audit evidence against the emulator seeded with the demo: the CloudTrail digest chain the demo
//! signs validates offline with its public key after a fetch; a log file corrupted in transit is
//! stored (logs carry no declared digest) and the chain names it as altered; a deleted log file
//! is missing; the wrong key or no key never validates; a stack's events and Config items.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use countersign_aws::s3;
use countersign_core::cloudtrail::digest_chain::Finding;
use countersign_service::{AuditEvidenceReport, CancelToken, Service};
use countersign_tests::harness::fetch_request;
use countersign_tests::Harness;

const BUCKET: &str = "qualification-evidence";
const PREFIX: &str = "gxp";

/// The emulator seeded with the demo, and the demo's CloudTrail public key (PEM).
async fn seeded() -> (Harness, Vec<u8>) {
    let h = Harness::start().await.unwrap();
    let ctx = h.admin().await.unwrap();
    let seed = h.demo_seeded_under(BUCKET, PREFIX).await.unwrap();
    let mut pem = Vec::new();
    s3::download(&ctx, BUCKET, &seed.cloudtrail_public_key, |chunk| {
        pem.extend_from_slice(chunk);
        Ok(())
    })
    .await
    .unwrap();
    assert!(pem.starts_with(b"-----BEGIN PUBLIC KEY-----"));
    (h, pem)
}

async fn fetched(h: &Harness) -> (tempfile::TempDir, Service) {
    let home = tempfile::tempdir().unwrap();
    let service = h.service(home.path()).unwrap();
    let request = fetch_request(BUCKET, PREFIX).unwrap();
    let report = service
        .fetch(&request, &|_| {}, &CancelToken::new())
        .await
        .unwrap();
    assert!(
        report.failed.is_empty() && report.rejected.is_empty(),
        "{report:?}"
    );
    (home, service)
}

fn findings(r: &AuditEvidenceReport) -> Vec<(String, Finding)> {
    r.chain
        .findings()
        .into_iter()
        .map(|(k, f)| (k.to_owned(), f.clone()))
        .collect()
}

#[tokio::test]
async fn the_demo_chain_validates_then_a_log_corrupted_in_transit_is_named_as_altered() {
    let (h, pem) = seeded().await;
    let (_home, service) = fetched(&h).await;

    let r = service
        .audit_evidence(Some(("trail.pem", &pem)), None)
        .unwrap();
    assert!(r.valid, "{:#?}", findings(&r));
    assert!(r.digest_files >= 2, "{}", r.digest_files);
    assert!(r.log_files > 10, "{}", r.log_files);
    assert_eq!(r.config_files, 1);
    assert_eq!(r.public_keys.len(), 1);
    assert!(r.chain.digests.iter().all(|d| d.valid));
    assert_eq!(
        r.chain.log_files.len(),
        r.log_files,
        "every log is listed once"
    );
    assert!(r.chain.not_covered.is_empty());
    assert!(r.problems.is_empty(), "{:?}", r.problems);
    assert_eq!(r.events.len(), r.events_total);
    assert!(r.events.windows(2).all(|w| w[0].time <= w[1].time));

    // A second home, fetched through a proxy that flips one byte of one log file in transit.
    h.proxy.corrupt("/CloudTrail/", 1);
    let (_home2, tampered) = fetched(&h).await;
    let r = tampered
        .audit_evidence(Some(("trail.pem", &pem)), None)
        .unwrap();
    assert!(!r.valid);
    match &findings(&r)[..] {
        [(
            key,
            Finding::LogFileAltered {
                expected,
                actual,
                detail,
            },
        )] => {
            assert!(
                key.starts_with("gxp/AWSLogs/") && key.contains("/CloudTrail/"),
                "{key}"
            );
            assert_eq!(expected.len(), 64);
            // One flipped bit in the compressed stream: it no longer inflates (or hashes differently).
            assert!(
                actual.is_none() && detail.as_deref().is_some_and(|d| d.contains("gzip"))
                    || actual.as_ref().is_some_and(|a| a != expected),
                "{actual:?} {detail:?}"
            );
        }
        other => panic!("{other:?}"),
    }
    assert!(
        r.chain.digests.iter().all(|d| d.valid),
        "the digests are intact"
    );
}

#[tokio::test]
async fn a_deleted_log_is_missing_and_the_wrong_key_or_no_key_never_validates() {
    let (h, pem) = seeded().await;
    let ctx = h.admin().await.unwrap();
    let listed = s3::list(&ctx, BUCKET, &format!("{PREFIX}/AWSLogs/"))
        .await
        .unwrap();
    let victim = listed
        .iter()
        .find(|o| o.key.contains("/CloudTrail/"))
        .unwrap()
        .key
        .clone();
    ctx.s3()
        .delete_object()
        .bucket(BUCKET)
        .key(&victim)
        .send()
        .await
        .unwrap();
    let (_home, service) = fetched(&h).await;

    let r = service
        .audit_evidence(Some(("trail.pem", &pem)), None)
        .unwrap();
    assert!(!r.valid);
    assert_eq!(findings(&r), vec![(victim, Finding::LogFileMissing)]);

    // A key that did not sign the chain.
    let other = b"-----BEGIN PUBLIC KEY-----
MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDk99Pv+isalMoWnAtzTwjJM51X
tiqWg1Y6fVyUY9ep8WkFfoBUb0Os8oQCpcDDzMS1tS0V1wSgONrx/ZTtR+RWZt+c
PZvo3CkZwALVbo31MR/LTwYwcU7TZxhbWWZJHwGLVAKTDWVFyaSg7TaBglStXV5O
180Fg8yl4qKQCCrtkQIDAQAB
-----END PUBLIC KEY-----
";
    let r = service
        .audit_evidence(Some(("trail.pem", other)), None)
        .unwrap();
    assert!(!r.valid);
    assert!(r
        .chain
        .digests
        .iter()
        .all(|d| matches!(d.findings[..], [Finding::UnknownPublicKey { .. }])));
    let r = service.audit_evidence(None, None).unwrap();
    assert!(!r.valid);
    assert!(r
        .chain
        .digests
        .iter()
        .all(|d| d.findings == [Finding::SignatureNotChecked]));
}

#[tokio::test]
async fn a_stack_gets_its_own_events_and_config_items() {
    let (h, pem) = seeded().await;
    let (_home, service) = fetched(&h).await;

    let r = service
        .audit_evidence(Some(("trail.pem", &pem)), Some("lims-qual"))
        .unwrap();
    assert!(r.valid);
    let stack = r.stack.as_ref().unwrap();
    assert_eq!(stack.name, "lims-qual");
    assert!(stack.arn.as_deref().unwrap().contains(":stack/lims-qual/"));
    assert!(!r.events.is_empty() && r.events.len() < r.events_total);
    assert!(r.events.iter().any(|e| e.event_name == "CreateStack"));
    assert!(r.events.iter().all(|e| !e.resources.is_empty()));
    assert!(r
        .events
        .iter()
        .all(|e| e.event_name != "ConsoleLogin" && !e.resources.iter().any(|x| x.contains("eln"))));
    assert!(r.config_items.len() > 1);
    assert!(r
        .config_items
        .iter()
        .any(|i| i.resource_type == "AWS::CloudFormation::Stack"));
    assert!(r
        .config_items
        .iter()
        .all(|i| i.resource_type == "AWS::CloudFormation::Stack"
            || i.tags
                .get("aws:cloudformation:stack-name")
                .map(String::as_str)
                == Some("lims-qual")));

    let eln = service
        .audit_evidence(Some(("trail.pem", &pem)), Some("eln-qual"))
        .unwrap();
    assert!(eln.config_items.iter().all(|i| !r
        .config_items
        .iter()
        .any(|j| j.resource_id == i.resource_id)));

    let e = service
        .audit_evidence(Some(("trail.pem", &pem)), Some("no-such-stack"))
        .unwrap_err();
    assert_eq!(e.code, countersign_service::ErrorCode::NotFound);
}
