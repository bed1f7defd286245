//! A final package leaves the desktop for write-once storage: `package publish` in the
//! emulator. Only a package that verifies, is exactly as this desktop built it and whose every
//! run is approved is written, once, under Object Lock COMPLIANCE retention; nothing is written
//! over other bytes; `verify s3://…` reads it back with S3's retention beside the verdict.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::process::{Command, Output};

use countersign_service::{
    AwsSettings, CancelToken, ErrorCode, PackageBuilt, PackagePublishRequest, PackageRequest,
    PublishedStatus, Service, PACKAGE_PUBLISHED,
};
use countersign_tests::harness::{approve_package, approve_run};
use countersign_tests::{buckets, Harness};
use serde_json::Value;

const BUCKET: &str = "qualification-evidence";
const LOCKED: &str = "final-packages";
const PLAIN: &str = "no-object-lock";
const RUN: &str = "LIMS/IQ/2026-11-02-iq-1";

fn build(service: &Service, dir: &Path, name: &str) -> PackageBuilt {
    service
        .package(
            &PackageRequest {
                runs: vec![RUN.into()],
                out: dir.join(format!("{name}.pdf")),
                bundle: Some(dir.join(format!("{name}.zip"))),
                ..PackageRequest::default()
            },
            &|_| {},
            &CancelToken::new(),
        )
        .unwrap()
}

fn request(built: &PackageBuilt, to: &str) -> PackagePublishRequest {
    PackagePublishRequest {
        pdf: built.pdf.clone(),
        bundle: built.bundle.clone(),
        to: to.parse().unwrap(),
        object_lock_days: 30,
    }
}

/// The approved PDF of `built`, with its bundle.
fn request_approved(built: &PackageBuilt, approved: &Path, to: &str) -> PackagePublishRequest {
    PackagePublishRequest {
        pdf: approved.to_path_buf(),
        bundle: built.bundle.clone(),
        to: to.parse().unwrap(),
        object_lock_days: 30,
    }
}

async fn keys_in(admin: &countersign_aws::AwsContext, bucket: &str) -> Vec<String> {
    let out = admin
        .s3()
        .list_objects_v2()
        .bucket(bucket)
        .send()
        .await
        .unwrap();
    out.contents()
        .iter()
        .filter_map(|o| o.key().map(str::to_owned))
        .collect()
}

fn cli_run(h: &Harness, home: &Path, args: &[&str]) -> Output {
    h.cli(home).unwrap().args(args).output().unwrap()
}

/// The text of each page, as pdftotext reads it.
fn pdf_pages(pdf: &Path) -> Vec<String> {
    let o = Command::new("pdftotext")
        .args(["-layout", pdf.to_str().unwrap(), "-"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    let all = String::from_utf8_lossy(&o.stdout).into_owned();
    let mut pages: Vec<String> = all.split('\u{c}').map(str::to_owned).collect();
    pages.retain(|p| !p.trim().is_empty());
    pages
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn an_approved_package_is_published_once_under_object_lock_and_verified_from_there() {
    let h = Harness::start().await.unwrap();
    let admin = h.admin().await.unwrap();
    buckets::create_object_lock_bucket(&admin, LOCKED, None)
        .await
        .unwrap();
    buckets::create_bucket(&admin, PLAIN).await.unwrap();
    let home = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    let service = h.service(home.path()).unwrap();
    h.demo_fetched(&service, BUCKET).await.unwrap();
    let (alice, ka) = h
        .signer(&service, "alice", "Alice Adams", "alice passphrase 1")
        .await
        .unwrap();
    let (bob, kb) = h
        .signer(&service, "bob", "Bob Brown", "bob passphrase 22")
        .await
        .unwrap();
    // The approver publishes, with their own AWS identity.
    let aws: AwsSettings = bob.settings();
    let to = format!("s3://{LOCKED}/validated/lims");

    // A draft (its run not yet approved) stays on the desktop: nothing is written.
    let draft = build(&service, out.path(), "draft");
    let refused = service
        .package_publish(&aws, &request(&draft, &to))
        .await
        .unwrap_err();
    assert_eq!(refused.code, ErrorCode::Refused, "{refused}");
    assert!(
        refused.message.starts_with("0 of 1 runs are approved") && refused.message.contains(RUN),
        "{refused}"
    );
    assert!(keys_in(&admin, LOCKED).await.is_empty());
    // Every printed page of it says so.
    let pages = pdf_pages(&draft.pdf);
    assert!(pages.len() >= 3);
    for (n, page) in pages.iter().enumerate() {
        assert!(
            page.contains("DRAFT — NOT APPROVED"),
            "page {}: {page}",
            n + 1
        );
    }

    approve_run(
        &service,
        RUN,
        (&alice, &ka.key_id, "alice passphrase 1"),
        (&bob, &kb.key_id, "bob passphrase 22"),
    )
    .await
    .unwrap();
    let built = build(&service, out.path(), "final");
    assert!(
        pdf_pages(&built.pdf).iter().all(|p| !p.contains("DRAFT")),
        "every run approved: no draft marking"
    );
    // Its runs are approved, but the package itself is not yet: it stays on the desktop.
    let unapproved = service
        .package_publish(&aws, &request(&built, &to))
        .await
        .unwrap_err();
    assert_eq!(unapproved.code, ErrorCode::Refused, "{unapproved}");
    assert!(
        unapproved
            .message
            .starts_with("the package itself is a draft, not approved"),
        "{unapproved}"
    );
    assert!(keys_in(&admin, LOCKED).await.is_empty());
    let alice_signs = (&alice, ka.key_id.as_str(), "alice passphrase 1");
    let bob_signs = (&bob, kb.key_id.as_str(), "bob passphrase 22");
    let approved = approve_package(&service, alice_signs, bob_signs, &built.pdf)
        .await
        .unwrap();

    // A bucket without Object Lock cannot hold it: refused before anything is written.
    let plain = service
        .package_publish(
            &aws,
            &request_approved(&built, &approved, &format!("s3://{PLAIN}/p")),
        )
        .await
        .unwrap_err();
    assert!(
        plain.message.contains("Object Lock is not enabled"),
        "{plain}"
    );
    assert!(keys_in(&admin, PLAIN).await.is_empty());

    // A copy whose cover was edited is not what this desktop built.
    let edited = out.path().join("edited.pdf");
    std::fs::write(
        &edited,
        countersign_tests::tamper::draw_on_cover(&std::fs::read(&built.pdf).unwrap()).unwrap(),
    )
    .unwrap();
    let mut req = request(&built, &to);
    req.pdf = edited;
    req.bundle = None;
    let not_built = service.package_publish(&aws, &req).await.unwrap_err();
    assert_eq!(not_built.code, ErrorCode::Refused, "{not_built}");
    assert!(not_built.message.contains("does not verify"), "{not_built}");
    // Another package's bundle beside this PDF is refused too.
    let mut req = request_approved(&built, &approved, &to);
    req.bundle = draft.bundle.clone();
    let mixed = service.package_publish(&aws, &req).await.unwrap_err();
    assert!(mixed.message.contains("0 of 1 runs"), "{mixed}");
    // A bundle saved as a folder is not published; it is named before anything is read.
    let mut req = request(&built, &to);
    req.bundle = Some(out.path().to_path_buf());
    let folder = service.package_publish(&aws, &req).await.unwrap_err();
    assert_eq!(folder.code, ErrorCode::BadInput, "{folder}");
    assert!(folder.message.contains("is not a .zip file"), "{folder}");
    assert!(keys_in(&admin, LOCKED).await.is_empty());

    // The final package: written once, under COMPLIANCE retention, and recorded.
    let published = service
        .package_publish(&aws, &request_approved(&built, &approved, &to))
        .await
        .unwrap();
    let id = &built.package_id;
    assert_eq!(published.package_id, *id);
    assert_eq!(
        published.location,
        format!("s3://{LOCKED}/validated/lims/{id}/")
    );
    let uris: Vec<&str> = published.objects.iter().map(|o| o.uri.as_str()).collect();
    assert_eq!(
        uris,
        [
            format!("s3://{LOCKED}/validated/lims/{id}/{id}.pdf"),
            format!("s3://{LOCKED}/validated/lims/{id}/{id}.zip"),
        ]
    );
    assert!(published
        .objects
        .iter()
        .all(|o| o.status == PublishedStatus::Written));
    let approved_sha = countersign_core::digest::Sha256::of(&std::fs::read(&approved).unwrap());
    assert_eq!(published.objects[0].sha256, approved_sha);
    for o in &published.objects {
        let key = o.uri.strip_prefix(&format!("s3://{LOCKED}/")).unwrap();
        let (mode, until) = buckets::lock_of(&admin, LOCKED, key).await.unwrap();
        assert_eq!(mode.as_deref(), Some("COMPLIANCE"), "{key}");
        assert!(until, "{key}");
        // COMPLIANCE: not even the administrator deletes the version.
        let deleted = admin
            .s3()
            .delete_object()
            .bucket(LOCKED)
            .key(key)
            .set_version_id(o.version_id.clone())
            .send()
            .await;
        assert!(deleted.is_err(), "{key} was deleted under retention");
    }
    let recorded = service
        .ledger_events(&countersign_service::EventFilter {
            action: Some(PACKAGE_PUBLISHED.into()),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(recorded.len(), 1);
    assert_eq!(recorded[0].event.object_id, *id);
    let by = recorded[0].event.actor.arn.clone().unwrap_or_default();
    assert!(by.ends_with("user/bob"), "recorded as the caller: {by}");
    let after: Value = serde_json::from_str(recorded[0].event.after.as_deref().unwrap()).unwrap();
    assert_eq!(after["objects"][0]["sha256"], approved_sha.to_hex());
    assert_eq!(after["runs"], serde_json::json!([RUN]));

    // Publishing again writes nothing and says the objects are already there.
    let again = service
        .package_publish(&aws, &request_approved(&built, &approved, &to))
        .await
        .unwrap();
    assert!(again
        .objects
        .iter()
        .all(|o| o.status == PublishedStatus::Unchanged));
    // What it reports is S3's retention of the objects as first written, not a new date.
    assert_eq!(again.retain_until, published.retain_until);
    assert!(!again.retain_until.is_empty());
    // Other bytes at the package's key are never overwritten: the draft's PDF is not final,
    // so build a second approved package and aim it at the first one's keys.
    let other = build(&service, out.path(), "other");
    let other_approved = approve_package(&service, alice_signs, bob_signs, &other.pdf)
        .await
        .unwrap();
    let pdf_key = format!("validated/lims/{id}/{id}.pdf");
    let theirs = std::fs::read(&other_approved).unwrap();
    assert_ne!(theirs, std::fs::read(&approved).unwrap());
    // A final package's PDF with another final package's bundle: refused, naming both.
    let mut req = request_approved(&built, &approved, &format!("s3://{LOCKED}/mixed"));
    req.bundle = other.bundle.clone();
    let mixed = service.package_publish(&aws, &req).await.unwrap_err();
    assert_eq!(mixed.code, ErrorCode::BadInput, "{mixed}");
    assert!(
        mixed
            .message
            .contains(&format!("is package {}, not {id}", other.package_id)),
        "{mixed}"
    );
    assert!(!keys_in(&admin, LOCKED)
        .await
        .iter()
        .any(|k| k.starts_with("mixed/")));
    let conflict_at = format!("s3://{LOCKED}/conflict");
    admin
        .s3()
        .put_object()
        .bucket(LOCKED)
        .key(format!(
            "conflict/{}/{}.pdf",
            other.package_id, other.package_id
        ))
        .body(b"someone else's bytes".to_vec().into())
        .send()
        .await
        .unwrap();
    let conflict = service
        .package_publish(
            &aws,
            &request_approved(&other, &other_approved, &conflict_at),
        )
        .await
        .unwrap_err();
    assert_eq!(conflict.code, ErrorCode::Refused, "{conflict}");
    assert!(conflict.message.contains("never overwritten"), "{conflict}");
    let bundle_key = format!("conflict/{}/{}.zip", other.package_id, other.package_id);
    assert!(
        !keys_in(&admin, LOCKED).await.contains(&bundle_key),
        "a conflict writes nothing, the bundle included"
    );

    // The same bytes already there without COMPLIANCE retention could be deleted: refused,
    // and the bundle is not written either.
    admin
        .s3()
        .put_object()
        .bucket(LOCKED)
        .key(format!(
            "unlocked/{}/{}.pdf",
            other.package_id, other.package_id
        ))
        .body(theirs.clone().into())
        .send()
        .await
        .unwrap();
    let unlocked = service
        .package_publish(
            &aws,
            &request_approved(&other, &other_approved, &format!("s3://{LOCKED}/unlocked")),
        )
        .await
        .unwrap_err();
    assert_eq!(unlocked.code, ErrorCode::Refused, "{unlocked}");
    assert!(
        unlocked.message.contains("not under COMPLIANCE retention"),
        "{unlocked}"
    );
    assert!(!keys_in(&admin, LOCKED).await.contains(&format!(
        "unlocked/{}/{}.zip",
        other.package_id, other.package_id
    )));

    // Verified from S3, against this home: the verdict, with S3's retention beside it.
    let v = service
        .verify_published(&aws, &format!("s3://{LOCKED}/{pdf_key}"), None)
        .await
        .unwrap();
    assert!(v.verified, "{:?}", v.first_problem());
    assert!(v.reports.iter().flat_map(|(_, r)| &r.checks).any(
        |c| c.id == "built" && c.state == countersign_core::package::verify::CheckState::Passed
    ));
    let source = v.source.clone().unwrap();
    assert_eq!(source.retention_mode, "COMPLIANCE");
    assert!(!source.retain_until.is_empty());
    assert_eq!(v.runs.len(), 1);
    let zip = service
        .verify_published(
            &aws,
            &format!("s3://{LOCKED}/validated/lims/{id}/{id}.zip"),
            None,
        )
        .await
        .unwrap();
    assert!(zip.verified, "{:?}", zip.first_problem());
    // A missing object and a key that is not a package say so.
    let missing = service
        .verify_published(&aws, &format!("s3://{LOCKED}/validated/nope.pdf"), None)
        .await
        .unwrap_err();
    assert_eq!(missing.code, ErrorCode::NotFound, "{missing}");
    let not_package = service
        .verify_published(&aws, &format!("s3://{LOCKED}/validated/"), None)
        .await
        .unwrap_err();
    assert_eq!(not_package.code, ErrorCode::BadInput, "{not_package}");
    drop(service);

    // The command line: publish (already there) and verify from S3, with and without a home.
    let publish = |days: &str| {
        cli_run(
            &h,
            home.path(),
            &[
                "package",
                "publish",
                approved.to_str().unwrap(),
                "--to",
                &to,
                "--object-lock-days",
                days,
            ],
        )
    };
    let o = publish("30");
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        text(&o).contains(&format!("Published package {id}")),
        "{}",
        text(&o)
    );
    assert!(text(&o).contains("unchanged"), "{}", text(&o));
    let o = cli_run(
        &h,
        home.path(),
        &["verify", &format!("s3://{LOCKED}/{pdf_key}")],
    );
    assert!(o.status.success(), "{}", text(&o));
    let shown = text(&o);
    assert!(
        shown.contains("VERIFIED (intact; package APPROVED by Bob Brown"),
        "{shown}"
    );
    assert!(
        shown.contains("S3 reports Object Lock COMPLIANCE retention until"),
        "{shown}"
    );
    assert!(shown.contains("[ok  ] built"), "{shown}");
    let auditor = tempfile::tempdir().unwrap();
    let o = cli_run(
        &h,
        &auditor.path().join("none"),
        &["verify", &format!("s3://{LOCKED}/{pdf_key}")],
    );
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        !text(&o).contains("] built"),
        "no home, no build record: {}",
        text(&o)
    );
    let o = publish("0");
    assert!(!o.status.success());
    assert!(text(&o).contains("use 1 to 36500 days"), "{}", text(&o));
}
