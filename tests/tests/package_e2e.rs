//! Validation packages end to end: the demo fetched from the emulator, reviewed and approved by
//! two IAM users with MFA, packaged as a PDF (with a bundle folder and a zip), checked with
//! qpdf, pdftotext and pdfdetach, verified by the `countersign` binary, and each tampered
//! variant refused with its reason.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use countersign_core::package::manifest::PackageManifest;
use countersign_core::signature::predicate::Meaning;
use countersign_service::{
    CancelToken, DispositionKind, DispositionRequest, ErrorCode, KeyInfo, PackageRequest, Service,
};
use countersign_tests::binaries::build_cli;
use countersign_tests::emulator::project_root;
use countersign_tests::harness::sign_run;
use countersign_tests::{Harness, TestUser};
use lopdf::{Document, Object};
use time::macros::offset;
use time::OffsetDateTime;

const BUCKET: &str = "qualification-evidence";
const RUN: &str = "LIMS/OQ/2026-11-03-oq-1";
const OTHER_RUN: &str = "LIMS/IQ/2026-11-02-iq-1";

async fn enroll(h: &Harness, service: &Service, user: &TestUser, name: &str, pw: &str) -> KeyInfo {
    h.enrolled_key(service, user, name, pw).await.unwrap().0
}

fn tool(name: &str, args: &[&str]) -> Output {
    Command::new(name)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{name} is needed (scripts/setup.sh installs it): {e}"))
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// `countersign verify` with no home of its own (an auditor's machine).
fn verify(cli: &Path, target: &Path, extra: &[&str]) -> Output {
    let home = tempfile::tempdir().unwrap();
    verify_in(cli, target, extra, home.path())
}

/// `countersign verify` in the home `home`.
fn verify_in(cli: &Path, target: &Path, extra: &[&str], home: &Path) -> Output {
    Command::new(cli)
        .arg("verify")
        .arg(target)
        .args(extra)
        .env("COUNTERSIGN_HOME", home)
        .output()
        .unwrap()
}

/// Exit 1 and the reason in the output.
fn refused(cli: &Path, target: &Path, reason: &str) {
    let o = verify(cli, target, &[]);
    let t = text(&o);
    assert_eq!(o.status.code(), Some(1), "{}: {t}", target.display());
    assert!(
        t.contains(reason),
        "{}: expected {reason:?} in:\n{t}",
        target.display()
    );
}

/// Rewrites the embedded file `name` of a package PDF: `None` removes it from the name tree.
fn tamper_pdf(pdf: &[u8], name: &str, change: impl FnOnce(Vec<u8>) -> Option<Vec<u8>>) -> Vec<u8> {
    let mut doc = Document::load_mem(pdf).unwrap();
    let names_id = {
        let catalog = doc.catalog().unwrap();
        let names = catalog.get(b"Names").unwrap();
        match names {
            Object::Reference(id) => Some(*id),
            _ => None,
        }
    };
    let tree = match names_id {
        Some(id) => doc.get_object(id).unwrap().as_dict().unwrap().clone(),
        None => doc
            .catalog()
            .unwrap()
            .get(b"Names")
            .unwrap()
            .as_dict()
            .unwrap()
            .clone(),
    };
    let ef = tree.get(b"EmbeddedFiles").unwrap();
    let (ef_id, ef_dict) = match ef {
        Object::Reference(id) => (
            Some(*id),
            doc.get_object(*id).unwrap().as_dict().unwrap().clone(),
        ),
        other => (None, other.as_dict().unwrap().clone()),
    };
    let mut entries = ef_dict.get(b"Names").unwrap().as_array().unwrap().clone();
    let at = entries
        .chunks(2)
        .position(|p| p[0].as_str().map(|s| s == name.as_bytes()).unwrap_or(false))
        .unwrap_or_else(|| panic!("no attachment {name}"));
    let spec_id = entries[at * 2 + 1].as_reference().unwrap();
    let spec = doc.get_object(spec_id).unwrap().as_dict().unwrap().clone();
    let stream_id = spec
        .get(b"EF")
        .unwrap()
        .as_dict()
        .unwrap()
        .get(b"F")
        .unwrap()
        .as_reference()
        .unwrap();
    let old = doc
        .get_object(stream_id)
        .unwrap()
        .as_stream()
        .unwrap()
        .get_plain_content()
        .unwrap();
    match change(old) {
        Some(new) => doc
            .get_object_mut(stream_id)
            .unwrap()
            .as_stream_mut()
            .unwrap()
            .set_plain_content(new),
        None => {
            entries.drain(at * 2..at * 2 + 2);
            let mut d = ef_dict.clone();
            d.set("Names", entries);
            match ef_id {
                Some(id) => *doc.get_object_mut(id).unwrap() = Object::Dictionary(d),
                None => {
                    let mut t = tree.clone();
                    t.set("EmbeddedFiles", d);
                    match names_id {
                        Some(id) => *doc.get_object_mut(id).unwrap() = Object::Dictionary(t),
                        None => doc.catalog_mut().unwrap().set("Names", t),
                    }
                }
            }
        }
    }
    let mut out = Vec::new();
    doc.save_to(&mut out).unwrap();
    out
}

fn copy_dir(from: &Path, to: &Path) {
    for entry in walk(from) {
        let rel = entry.strip_prefix(from).unwrap();
        std::fs::create_dir_all(to.join(rel).parent().unwrap()).unwrap();
        std::fs::copy(&entry, to.join(rel)).unwrap();
    }
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let path = e.unwrap().path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out.sort();
    out
}

fn zip_dir(dir: &Path, to: &Path) {
    let mut w = zip::ZipWriter::new(std::fs::File::create(to).unwrap());
    for path in walk(dir) {
        let name = path.strip_prefix(dir).unwrap().to_str().unwrap().to_owned();
        w.start_file(name, zip::write::SimpleFileOptions::default())
            .unwrap();
        std::io::Write::write_all(&mut w, &std::fs::read(&path).unwrap()).unwrap();
    }
    w.finish().unwrap();
}

/// Rewrites the results of `run` in a bundle folder so that `case` passed, and the manifest
/// to list the new results consistently: everything a forger can recompute, recomputed.
fn forge_results(bundle: &Path, run: &str, case: &str) {
    use countersign_core::canonical::canonical_json;
    use countersign_core::digest::Sha256;
    let path = bundle.join(format!("runs/{run}/results.json"));
    let mut data: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    let cases = data["cases"].as_array_mut().unwrap();
    let c = cases.iter_mut().find(|c| c["id"] == case).unwrap();
    let was = c["status"].as_str().unwrap().to_owned();
    c["status"] = "passed".into();
    c["message"] = serde_json::Value::Null;
    let totals = data["totals"].as_object_mut().unwrap();
    let dec = |t: &mut serde_json::Map<String, serde_json::Value>, k: &str, by: i64| {
        let n = t[k].as_i64().unwrap() + by;
        t.insert(k.into(), n.into());
    };
    dec(totals, &was, -1);
    dec(totals, "passed", 1);
    let (status, totals) = (data["status"].clone(), data["totals"].clone());
    let bytes = canonical_json(&data).unwrap();
    std::fs::write(&path, &bytes).unwrap();
    let mpath = bundle.join("manifest.json");
    let mut m: serde_json::Value = serde_json::from_slice(&std::fs::read(&mpath).unwrap()).unwrap();
    let rel = format!("runs/{run}/results.json");
    for f in m["files"].as_array_mut().unwrap() {
        if f["path"] == rel.as_str() {
            f["sha256"] = Sha256::of(&bytes).to_hex().into();
            f["size"] = bytes.len().into();
        }
    }
    for r in m["runs"].as_array_mut().unwrap() {
        if r["run"] == run {
            r["status"] = status.clone();
            r["totals"] = totals.clone();
        }
    }
    std::fs::write(&mpath, canonical_json(&m).unwrap()).unwrap();
}

/// The independent verifier written from the format documents alone
/// (`tests/interop/verify_package.py`) on a folder: its exit code and output.
fn python_verify(folder: &Path) -> (Option<i32>, String) {
    let o = Command::new(project_root().join(".venv/bin/python"))
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("interop/verify_package.py"))
        .arg(folder)
        .output()
        .unwrap();
    (o.status.code(), text(&o))
}

/// Saves every attachment of a PDF into `to` at its name (`pdfdetach -saveall` would flatten
/// the package paths).
fn detach_all(pdf: &Path, to: &Path) {
    let o = tool("pdfdetach", &["-list", pdf.to_str().unwrap()]);
    let list = String::from_utf8_lossy(&o.stdout).into_owned();
    for name in list
        .lines()
        .filter_map(|l| l.split_once(": ").map(|(_, n)| n.trim()))
    {
        let target = to.join(name);
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        let o = tool(
            "pdfdetach",
            &[
                "-savefile",
                name,
                "-o",
                target.to_str().unwrap(),
                pdf.to_str().unwrap(),
            ],
        );
        assert!(o.status.success(), "{name}: {}", text(&o));
    }
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

#[tokio::test]
async fn a_signed_demo_package_checks_out_with_real_tools_and_tampering_is_refused() {
    let cli = build_cli().unwrap();
    let h = Harness::start().await.unwrap();
    let home = tempfile::tempdir().unwrap();
    let service = h.service(home.path()).unwrap();
    h.demo_fetched(&service, BUCKET).await.unwrap();

    // Alice dispositions the failures and reviews; Bob approves.
    let alice = h.create_user_with_mfa("alice").await.unwrap();
    let bob = h.create_user_with_mfa("bob").await.unwrap();
    let ka = enroll(&h, &service, &alice, "Alice Adams", "alice passphrase 1").await;
    let kb = enroll(&h, &service, &bob, "Bob Brown", "bob passphrase 22").await;
    let failed = countersign_tests::harness::failed_cases(&service, RUN).unwrap();
    assert!(!failed.is_empty());
    let mut ds = countersign_service::SigningSession::new();
    for case in &failed {
        countersign_tests::harness::record_disposition(
            &service,
            &alice,
            &mut ds,
            "alice passphrase 1",
            &DispositionRequest {
                run: RUN.into(),
                case_id: case.clone(),
                kind: DispositionKind::Deviation,
                reference: "DEV-0042".into(),
                reason: "Investigated; impact assessed — Grüße ✓".into(),
            },
            &ka.key_id,
        )
        .await
        .unwrap();
    }
    sign_run(
        &service,
        &alice,
        &ka.key_id,
        "alice passphrase 1",
        RUN,
        Meaning::Reviewed,
    )
    .await
    .unwrap();
    sign_run(
        &service,
        &bob,
        &kb.key_id,
        "bob passphrase 22",
        RUN,
        Meaning::Approved,
    )
    .await
    .unwrap();

    let out = tempfile::tempdir().unwrap();
    let pdf_path = out.path().join("package.pdf");
    let bundle = out.path().join("bundle");
    let _now = OffsetDateTime::now_utc().to_offset(offset!(+1));
    let built = service
        .package(
            &PackageRequest {
                runs: vec![RUN.into(), OTHER_RUN.into()],
                out: pdf_path.clone(),
                bundle: Some(bundle.clone()),
                ..PackageRequest::default()
            },
            &|_| {},
            &CancelToken::new(),
        )
        .unwrap();
    assert!(built.demo, "demo runs give a demo package");
    assert_eq!(built.signatures, 2);
    let pdf = std::fs::read(&pdf_path).unwrap();

    // Nothing is ever overwritten.
    let again = service
        .package(
            &PackageRequest {
                runs: vec![RUN.into()],
                out: pdf_path.clone(),
                ..PackageRequest::default()
            },
            &|_| {},
            &CancelToken::new(),
        )
        .unwrap_err();
    assert_eq!(again.code, ErrorCode::BadInput);
    assert_eq!(std::fs::read(&pdf_path).unwrap(), pdf);

    // qpdf: structurally clean.
    let o = tool("qpdf", &["--check", pdf_path.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(!text(&o).contains("WARNING"), "{}", text(&o));

    // pdftotext: each signer's printed name, meaning, date and time with UTC offset.
    let o = tool("pdftotext", &["-layout", pdf_path.to_str().unwrap(), "-"]);
    let body = String::from_utf8_lossy(&o.stdout).replace('\n', " ");
    for sig in service.signatures(RUN).unwrap() {
        assert!(body.contains(&sig.printed_name), "{}", sig.printed_name);
        assert!(body.contains(sig.meaning.as_str()), "{}", sig.meaning);
        let local = sig.local_time.clone().unwrap();
        assert!(body.contains(&local), "signing time {local} not in the PDF");
    }
    for word in [
        &built.package_id,
        "Traceability matrix",
        "Evidence index",
        "DEV-0042",
        "How to verify this package",
        // The document says what its signatures do not cover.
        "What the signatures cover:",
    ] {
        assert!(body.contains(word), "{word} not in the PDF");
    }

    // pdfdetach: the manifest, the envelopes and the keys are attached.
    let o = tool("pdfdetach", &["-list", pdf_path.to_str().unwrap()]);
    let list = text(&o);
    for name in [
        "manifest.json".to_owned(),
        format!("signatures/{RUN}/001.dsse.json"),
        format!("signatures/{RUN}/002.dsse.json"),
        format!("keys/{}.json", ka.key_id),
        format!("keys/{}.json", kb.key_id),
        "policy.json".to_owned(),
        format!("runs/{RUN}/record.json"),
    ] {
        assert!(list.contains(&name), "{name} not attached:\n{list}");
    }

    // The embedded manifest is the one the cover names, and lists the bundle's evidence.
    let read = countersign_pdf::read_package(&pdf).unwrap();
    let manifest = PackageManifest::parse(&read.attachments["manifest.json"]).unwrap();
    assert_eq!(manifest.package_id, built.package_id);
    assert!(manifest.demo);

    // The binary verifies the PDF, the bundle folder and a zip of it.
    let o = verify(&cli, &pdf_path, &[]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        text(&o).contains(
            "VERIFIED (intact; DRAFT, the package is not approved; 1 of 2 runs approved; keys not checked against a trusted list)"
        ),
        "{}",
        text(&o)
    );
    // What the signatures establish, run by run: the approved run, and the other one with no
    // signature at all.
    assert!(
        text(&o).contains("(not as the pages print them): 1 of 2 approved")
            && text(&o).contains(&format!("{RUN}: Approved"))
            && text(&o).contains(&format!("{OTHER_RUN}: Collected")),
        "{}",
        text(&o)
    );
    let o = verify(&cli, &bundle, &[]);
    assert!(o.status.success(), "{}", text(&o));

    // The independent verifier agrees, on the bundle folder and on the PDF's attachments (where
    // the evidence files are absent by design).
    let (code, t) = python_verify(&bundle);
    assert_eq!(code, Some(0), "{t}");
    for signer in ["Reviewed by Alice Adams", "Approved by Bob Brown"] {
        assert!(t.contains(signer), "{signer:?} not in:\n{t}");
    }
    // The audit-trail excerpt is written as §7 says: every entry's hash re-derives from it.
    assert!(
        t.contains("audit-trail: every entry's hash re-derives"),
        "{t}"
    );
    let detached = out.path().join("detached");
    detach_all(&pdf_path, &detached);
    let (code, t) = python_verify(&detached);
    assert_eq!(code, Some(0), "{t}");
    assert!(t.contains("evidence file(s) absent"), "{t}");
    let zip_path = out.path().join("bundle.zip");
    service
        .package(
            &PackageRequest {
                runs: vec![RUN.into()],
                out: out.path().join("second.pdf"),
                bundle: Some(zip_path.clone()),
                ..PackageRequest::default()
            },
            &|_| {},
            &CancelToken::new(),
        )
        .unwrap();
    let o = verify(&cli, &zip_path, &[]);
    assert!(o.status.success(), "{}", text(&o));

    // Verified in the home that built it, the PDF is also held against the `package.built`
    // record: a page edited after the build (a line drawn on the cover; every attachment, the
    // manifest and the trailer /ID untouched) verifies nowhere else, but fails here.
    let here = service.verify_package(&pdf_path, None).unwrap();
    assert!(here.verified, "{:?}", here.first_problem());
    let built_check = &here.reports[0]
        .1
        .checks
        .iter()
        .find(|c| c.id == "built")
        .unwrap();
    assert_eq!(
        built_check.state,
        countersign_core::package::verify::CheckState::Passed,
        "{built_check:?}"
    );
    let edited = countersign_tests::tamper::draw_on_cover(&pdf).unwrap();
    let p = write(out.path(), "edited-cover.pdf", &edited);
    assert!(
        verify(&cli, &p, &[]).status.success(),
        "elsewhere, nothing binds the pages"
    );
    let v = service.verify_package(&p, None).unwrap();
    assert!(!v.verified);
    assert!(v.runs.is_empty() && v.limits.is_empty());
    let problem = v.first_problem().unwrap();
    assert!(
        problem.contains("built: the PDF's SHA-256")
            && problem.contains("the file was changed after it was built"),
        "{problem}"
    );
    let edited_cover = p;
    // The PDF inside a bundle folder is held against the record by its own bytes, not only by
    // the manifest it shares with the folder.
    let edited_bundle = out.path().join("edited-bundle");
    copy_dir(&bundle, &edited_bundle);
    std::fs::write(
        edited_bundle.join(format!("{}.pdf", built.package_id)),
        countersign_tests::tamper::draw_on_cover(
            &std::fs::read(bundle.join(format!("{}.pdf", built.package_id))).unwrap(),
        )
        .unwrap(),
    )
    .unwrap();
    let v = service.verify_package(&edited_bundle, None).unwrap();
    assert!(!v.verified);
    let parts_failed: Vec<&str> = v
        .reports
        .iter()
        .filter(|(_, r)| !r.verified)
        .map(|(part, _)| part.as_str())
        .collect();
    assert_eq!(
        parts_failed,
        [format!("PDF {}.pdf", built.package_id)],
        "{v:?}"
    );
    assert!(service.verify_package(&bundle, None).unwrap().verified);
    // One bit flipped in the cover's compressed content stream: the same, for the same reason.
    let flipped_cover = write(
        out.path(),
        "flipped-cover.pdf",
        &countersign_tests::tamper::flip_bit_in_cover(&pdf).unwrap(),
    );
    assert!(verify(&cli, &flipped_cover, &[]).status.success());
    let v = service.verify_package(&flipped_cover, None).unwrap();
    assert!(!v.verified);
    assert!(
        v.first_problem()
            .unwrap()
            .contains("the file was changed after it was built"),
        "{:?}",
        v.first_problem()
    );

    // Key trust: both signers trusted passes; one missing is named.
    let export = |k: &KeyInfo| service.keys_export(Some(&k.key_id)).unwrap().pem;
    let both = write(
        out.path(),
        "both.pem",
        format!("{}{}", export(&ka), export(&kb)).as_bytes(),
    );
    let only_a = write(out.path(), "a.pem", export(&ka).as_bytes());
    let o = verify(&cli, &pdf_path, &["--trusted-keys", both.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    let o = verify(
        &cli,
        &pdf_path,
        &["--trusted-keys", only_a.to_str().unwrap()],
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o).contains(&format!("key {} is not on the trusted list", kb.key_id)),
        "{}",
        text(&o)
    );

    // Tampered PDFs.
    let sig1 = format!("signatures/{RUN}/001.dsse.json");
    let flipped = tamper_pdf(&pdf, &sig1, |mut b| {
        let i = b.len() / 2;
        b[i] ^= 0x01;
        Some(b)
    });
    let p = write(out.path(), "flipped.pdf", &flipped);
    refused(&cli, &p, &format!("files: {sig1}: SHA-256"));

    let removed = tamper_pdf(&pdf, &format!("signatures/{RUN}/002.dsse.json"), |_| None);
    let p = write(out.path(), "removed.pdf", &removed);
    refused(&cli, &p, "listed in the manifest (signature) but missing");

    let bob_key = read.attachments[&format!("keys/{}.json", kb.key_id)].clone();
    let swapped = tamper_pdf(&pdf, &format!("keys/{}.json", ka.key_id), |_| {
        Some(bob_key.clone())
    });
    let p = write(out.path(), "swapped.pdf", &swapped);
    refused(&cli, &p, &format!("files: keys/{}.json: ", ka.key_id));

    // Tampered bundle: one evidence byte.
    let evidence = manifest
        .files
        .iter()
        .find(|f| f.path.starts_with(&format!("runs/{RUN}/files/")))
        .unwrap();
    let ev_path = bundle.join(&evidence.path);
    let mut bytes = std::fs::read(&ev_path).unwrap();
    bytes[0] ^= 0x01;
    std::fs::write(&ev_path, &bytes).unwrap();
    refused(&cli, &bundle, &format!("{}: SHA-256", evidence.path));

    // Forged results: a failed case of the signed run shown as passed, its message gone, with
    // the manifest's digests, sizes, status and totals all recomputed to match. Only the signed
    // run record (version 2) still names the results the reviewers saw.
    std::fs::write(&ev_path, {
        bytes[0] ^= 0x01;
        &bytes
    })
    .unwrap();
    let forged = out.path().join("forged");
    copy_dir(&bundle, &forged);
    forge_results(&forged, RUN, &failed[0]);
    let why = format!("records: runs/{RUN}/results.json: SHA-256");
    refused(&cli, &forged, &why);
    refused(
        &cli,
        &forged,
        "the results were changed after they were signed",
    );
    let (code, t) = python_verify(&forged);
    assert_eq!(code, Some(1), "{t}");
    assert!(t.starts_with("failed\n"), "{t}");
    assert!(t.contains(&why), "{t}");
    let forged_zip = out.path().join("forged.zip");
    zip_dir(&forged, &forged_zip);
    refused(&cli, &forged_zip, &why);
    let forged_manifest = std::fs::read(forged.join("manifest.json")).unwrap();
    let forged_results = std::fs::read(forged.join(format!("runs/{RUN}/results.json"))).unwrap();
    let in_pdf = tamper_pdf(
        &tamper_pdf(&pdf, &format!("runs/{RUN}/results.json"), |_| {
            Some(forged_results.clone())
        }),
        "manifest.json",
        |_| Some(forged_manifest.clone()),
    );
    let p = write(out.path(), "forged.pdf", &in_pdf);
    refused(&cli, &p, &why);

    // Not a package at all.
    let p = write(out.path(), "plain.pdf", b"%PDF-1.4\nnothing here");
    refused(&cli, &p, "not a Countersign package PDF");

    // A disposition cannot change after the signatures: the signed record is locked, and the
    // package still builds from it.
    let locked = countersign_tests::harness::record_disposition(
        &service,
        &alice,
        &mut ds,
        "alice passphrase 1",
        &DispositionRequest {
            run: RUN.into(),
            case_id: failed[0].clone(),
            kind: DispositionKind::Accepted,
            reference: "CHG-7".into(),
            reason: "Re-assessed after the approval".into(),
        },
        &ka.key_id,
    )
    .await
    .unwrap_err();
    assert_eq!(locked.code, ErrorCode::Refused, "{locked}");
    assert!(
        locked.message.contains("is locked by the signature"),
        "{locked}"
    );
    service
        .package(
            &PackageRequest {
                runs: vec![RUN.into()],
                out: out.path().join("after-refusal.pdf"),
                ..PackageRequest::default()
            },
            &|_| {},
            &CancelToken::new(),
        )
        .unwrap();

    // The build and the verifications are in the ledger.
    let events = service.ledger_events(&Default::default()).unwrap();
    assert!(events
        .iter()
        .any(|e| e.event.action == "package.built" && e.event.object_id == built.package_id));
    assert!(service.ledger_verify().unwrap().is_ok());

    // The command line, run against the home that built the package, names the check.
    drop(service);
    for changed in [&edited_cover, &flipped_cover] {
        let o = verify_in(&cli, changed, &[], home.path());
        assert_eq!(o.status.code(), Some(1), "{}", text(&o));
        assert!(text(&o).contains("[FAIL] built"), "{}", text(&o));
    }
    let o = verify_in(&cli, &pdf_path, &[], home.path());
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("[ok  ] built"), "{}", text(&o));
}

#[tokio::test]
async fn a_missing_evidence_blob_refuses_the_package_and_lists_it() {
    let h = Harness::start().await.unwrap();
    let home = tempfile::tempdir().unwrap();
    let service = h.service(home.path()).unwrap();
    h.demo_fetched(&service, BUCKET).await.unwrap();
    let view = service.show(RUN).unwrap();
    let gone = view
        .run
        .files
        .iter()
        .find(|f| f.path.ends_with(".log"))
        .unwrap();
    let blob = home
        .path()
        .join("store")
        .join(blob_rel(&gone.sha256.unwrap().to_hex()));
    std::fs::remove_file(&blob).unwrap_or_else(|e| panic!("{}: {e}", blob.display()));
    let out = tempfile::tempdir().unwrap();
    let pdf = out.path().join("p.pdf");
    let err = service
        .package(
            &PackageRequest {
                runs: vec![RUN.into(), OTHER_RUN.into()],
                out: pdf.clone(),
                bundle: Some(out.path().join("b")),
                ..PackageRequest::default()
            },
            &|_| {},
            &CancelToken::new(),
        )
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::Integrity);
    assert!(
        err.message
            .contains(&format!("{RUN} {}: missing from the store", gone.path)),
        "{err}"
    );
    assert!(
        !pdf.exists() && !out.path().join("b").exists(),
        "nothing half-written"
    );
    assert!(service
        .ledger_events(&Default::default())
        .unwrap()
        .iter()
        .all(|e| e.event.action != "package.built"));
}

fn blob_rel(hex: &str) -> PathBuf {
    PathBuf::from("objects/sha256").join(&hex[..2]).join(hex)
}
