//! Assembling runs from their files: roles, problems, declared digests, ordering, ids,
//! traceability, and scale.
#![cfg(test)]

use countersign_core::digest::Sha256;
use countersign_core::model::{
    CaseStatus, FileRole, Integrity, ObjectOrigin, Phase, RunFile, RunKey, RunStatus, Totals,
};
use countersign_core::run::{assemble, ParseOptions, Run, RunInput};

fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/testdata/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn key() -> RunKey {
    RunKey {
        system: "LIMS".into(),
        phase: Phase::Iq,
        run_id: "2026-11-02-iq-1".into(),
    }
}

fn file(path: &str, bytes: &[u8]) -> RunFile {
    RunFile {
        path: path.into(),
        role: FileRole::Evidence,
        sha256: Some(Sha256::of(bytes)),
        size: bytes.len() as u64,
        origin: ObjectOrigin {
            uri: format!("s3://qual-results/LIMS/IQ/2026-11-02-iq-1/{path}"),
            version_id: None,
            etag: None,
            last_modified: None,
        },
        integrity: Integrity::Verified,
    }
}

fn run_of(files: &[(&str, Vec<u8>)]) -> Run {
    run_with(files, &ParseOptions::default())
}

fn run_with(files: &[(&str, Vec<u8>)], options: &ParseOptions) -> Run {
    let inputs: Vec<RunInput<'_>> = files
        .iter()
        .map(|(p, b)| RunInput {
            file: file(p, b),
            content: Some(b),
        })
        .collect();
    assemble(key(), &inputs, options)
}

fn role(run: &Run, path: &str) -> FileRole {
    run.files.iter().find(|f| f.path == path).unwrap().role
}

fn manifest(extra: &str) -> Vec<u8> {
    format!(
        r#"{{"schema":"countersign.run/v1","system":"LIMS","phase":"IQ","run_id":"2026-11-02-iq-1",
            "requirements":[{{"id":"URS-LIMS-001","title":"Database version"}},{{"id":"URS-LIMS-099"}}]{extra}}}"#
    )
    .into_bytes()
}

#[test]
fn whole_run_from_real_reports() {
    let shot = b"\x89PNG fake".to_vec();
    let run = run_of(&[
        (
            "run.json",
            manifest(
                r#","mapping":{"tests::urs_lims_030_retention_is_positive":["URS-LIMS-030"]}"#,
            ),
        ),
        ("results/pytest.xml", fixture("pytest-xunit2.xml")),
        ("results/nextest.xml", fixture("nextest-junit.xml")),
        ("results/jest.xml", fixture("jest-junit.xml")),
        ("results/cucumber.json", fixture("cucumber-js.json")),
        ("evidence/URS-LIMS-001_db-version.png", shot),
        (
            "evidence/stack-outputs.json",
            br#"{"Outputs":[{"OutputKey":"DbEndpoint"}]}"#.to_vec(),
        ),
        ("evidence/pom.xml", b"<project/>".to_vec()),
    ]);
    assert_eq!(run.problems, vec![]);
    assert_eq!(run.status, RunStatus::Failed);
    assert_eq!(
        run.totals,
        Totals {
            tests: 20,
            passed: 10,
            failed: 5,
            errored: 2,
            skipped: 3
        }
    );
    assert_eq!(role(&run, "run.json"), FileRole::Manifest);
    assert_eq!(role(&run, "results/pytest.xml"), FileRole::JunitResult);
    assert_eq!(
        role(&run, "results/cucumber.json"),
        FileRole::CucumberResult
    );
    assert_eq!(
        role(&run, "evidence/stack-outputs.json"),
        FileRole::Evidence
    );
    assert_eq!(role(&run, "evidence/pom.xml"), FileRole::Evidence);

    // Failures first, then errors, skips, passes; file order within each.
    let ranks: Vec<u8> = run.cases.iter().map(|c| c.status.review_rank()).collect();
    assert!(ranks.windows(2).all(|w| w[0] <= w[1]));
    assert_eq!(run.cases[0].name, "test_backup_retention_days");

    // Scenario outline rows share a name: the second gets a suffix.
    let ids: Vec<&str> = run.cases.iter().map(|c| c.id.as_str()).collect();
    assert!(ids.contains(&"results/cucumber.json#Sample registration::Sample types"));
    assert!(ids.contains(&"results/cucumber.json#Sample registration::Sample types#2"));
    let unique: std::collections::HashSet<&str> = ids.iter().copied().collect();
    assert_eq!(unique.len(), ids.len());

    // The mapping in run.json adds a requirement by case name.
    let mapped = run
        .cases
        .iter()
        .find(|c| c.name == "tests::urs_lims_030_retention_is_positive")
        .unwrap();
    assert_eq!(mapped.requirements, vec!["URS-LIMS-030"]);

    assert_eq!(run.attachments.len(), 1);
    assert_eq!(
        run.attachments[0].case_id,
        "results/cucumber.json#Sample registration::Register a sample"
    );
    assert_eq!(
        run.attachments[0].sha256,
        Sha256::of(b"sample S-001 listed")
    );

    let t = &run.traceability;
    let r1 = t
        .requirements
        .iter()
        .find(|r| r.id == "URS-LIMS-001")
        .unwrap();
    assert!(r1.in_catalogue);
    assert_eq!(r1.status, Some(CaseStatus::Passed));
    assert_eq!(r1.evidence, vec!["evidence/URS-LIMS-001_db-version.png"]);
    let r4 = t
        .requirements
        .iter()
        .find(|r| r.id == "URS-LIMS-004")
        .unwrap();
    assert_eq!(r4.status, Some(CaseStatus::Failed));
    assert_eq!(t.uncovered, vec!["URS-LIMS-099"]);
    // jest names carry ids but name matching is off by default.
    assert!(t
        .untraced_cases
        .iter()
        .any(|c| c.ends_with("URS-LIMS-020 login requires MFA")));

    // Everything serialises and reads back (the app and --json use it).
    let json = serde_json::to_string(&run).unwrap();
    let back: Run = serde_json::from_str(&json).unwrap();
    assert_eq!(back.cases, run.cases);
    assert_eq!(back.traceability, run.traceability);
}

#[test]
fn ids_from_case_names_when_enabled() {
    let options = ParseOptions {
        ids_from_case_names: true,
        ..ParseOptions::default()
    };
    let run = run_with(&[("jest.xml", fixture("jest-junit.xml"))], &options);
    let failed = &run.cases[0];
    assert_eq!(failed.requirements, vec!["URS-LIMS-021"]);
    assert!(run.traceability.untraced_cases.is_empty());
}

#[test]
fn malformed_result_files_are_problems_and_the_rest_loads() {
    let run = run_of(&[
        ("ok.xml", fixture("nextest-junit.xml").into_iter().collect()),
        (
            "broken.xml",
            b"<testsuite>\n  <testcase name=\"a\">\n</testsuite>".to_vec(),
        ),
        ("broken.json", b"[\n  {\"elements\": [}\n]".to_vec()),
        ("empty.xml", Vec::new()),
    ]);
    assert_eq!(run.totals.tests, 4);
    assert_eq!(run.status, RunStatus::Failed);
    let messages: Vec<(&str, &str)> = run
        .problems
        .iter()
        .map(|p| (p.path.as_str(), p.message.as_str()))
        .collect();
    assert_eq!(messages.len(), 3, "{messages:?}");
    assert!(messages[0].1.starts_with("broken.xml:3:"), "{messages:?}");
    assert!(messages[1].1.starts_with("broken.json:2:"), "{messages:?}");
    assert!(messages[2].1.contains("empty"), "{messages:?}");
    assert_eq!(role(&run, "broken.xml"), FileRole::Evidence);
}

#[test]
fn problems_without_failures_make_the_run_incomplete() {
    let passing = br#"<testsuite name="s" tests="1"><testcase name="t"/></testsuite>"#.to_vec();
    let ok = run_of(&[("a.xml", passing.clone())]);
    assert_eq!((ok.status, ok.problems.len()), (RunStatus::Passed, 0));
    let bad = run_of(&[
        ("a.xml", passing),
        ("b.xml", b"<!DOCTYPE x [<!ENTITY a \"b\">]><x/>".to_vec()),
    ]);
    assert_eq!(bad.status, RunStatus::Incomplete);
    assert!(bad.problems[0].message.contains("DOCTYPE"));
}

#[test]
fn run_without_results_is_incomplete() {
    let run = run_of(&[
        ("notes.txt", b"hello".to_vec()),
        ("pom.xml", b"<project/>".to_vec()),
    ]);
    assert_eq!(run.status, RunStatus::Incomplete);
    assert_eq!(run.problems.len(), 1);
    assert_eq!(run.problems[0].path, "");
}

#[test]
fn declared_digests_are_enforced() {
    let junit = br#"<testsuite name="s"><testcase name="t"/></testsuite>"#.to_vec();
    let log = b"installed".to_vec();
    let extra = format!(
        r#","files":{{"a.xml":{{"sha256":"{}"}},"install.log":{{"sha256":"{}"}},"gone.txt":{{"sha256":"{}"}},"../x":{{"sha256":"{}"}}}}"#,
        Sha256::of(&junit),
        Sha256::of(b"something else"),
        Sha256::of(b"gone"),
        Sha256::of(b"x"),
    );
    let run = run_of(&[
        ("run.json", manifest(&extra)),
        ("a.xml", junit),
        ("install.log", log),
    ]);
    assert_eq!(run.status, RunStatus::Incomplete);
    let log_file = run.files.iter().find(|f| f.path == "install.log").unwrap();
    assert!(
        matches!(&log_file.integrity, Integrity::Rejected { reason } if reason.contains("does not match")),
        "{:?}",
        log_file.integrity
    );
    let text: Vec<String> = run
        .problems
        .iter()
        .map(|p| format!("{}: {}", p.path, p.message))
        .collect();
    assert!(
        text.iter().any(|t| t.starts_with("install.log: sha256")),
        "{text:?}"
    );
    assert!(
        text.iter()
            .any(|t| t.contains("\"gone.txt\"") && t.contains("not in the run folder")),
        "{text:?}"
    );
    assert!(text.iter().any(|t| t.contains("unusable path")), "{text:?}");
    assert_eq!(run.totals.tests, 1);
}

#[test]
fn a_result_file_failing_its_declared_digest_is_not_parsed() {
    let junit =
        br#"<testsuite name="s"><testcase name="t"><failure/></testcase></testsuite>"#.to_vec();
    let extra = format!(
        r#","files":{{"a.xml":{{"sha256":"{}"}}}}"#,
        Sha256::of(b"other")
    );
    let run = run_of(&[("run.json", manifest(&extra)), ("a.xml", junit)]);
    assert_eq!(run.totals.tests, 0);
    assert_eq!(run.status, RunStatus::Incomplete);
}

#[test]
fn manifest_problems_are_reported() {
    let wrong_folder = br#"{"schema":"countersign.run/v1","system":"ELN"}"#.to_vec();
    let junit = br#"<testsuite name="s"><testcase name="t"/></testsuite>"#.to_vec();
    let run = run_of(&[("run.json", wrong_folder), ("a.xml", junit.clone())]);
    assert!(run.manifest.is_some());
    assert!(
        run.problems[0].message.contains("system \"ELN\""),
        "{:?}",
        run.problems
    );
    let future = br#"{"schema":"countersign.run/v9"}"#.to_vec();
    let run = run_of(&[("run.json", future), ("a.xml", junit)]);
    assert!(run.manifest.is_none());
    assert!(run.problems[0]
        .message
        .contains("unsupported run manifest version"));
    assert_eq!(role(&run, "run.json"), FileRole::Manifest);
}

#[test]
fn unreadable_inputs() {
    let junit = br#"<testsuite name="s"><testcase name="t"/></testsuite>"#.to_vec();
    let mut rejected = file("rejected.xml", b"x");
    rejected.integrity = Integrity::Rejected {
        reason: "key contains '..'".into(),
    };
    let mut changed = file("changed.xml", &junit);
    changed.integrity = Integrity::Changed {
        actual: Sha256::of(b"tampered"),
    };
    let listed_evidence = file("screenshot.png", b"png");
    let unread_result = file("later.xml", b"<testsuite/>");
    let inputs = vec![
        RunInput {
            file: file("a.xml", &junit),
            content: Some(&junit),
        },
        RunInput {
            file: rejected,
            content: None,
        },
        RunInput {
            file: changed,
            content: Some(&junit),
        },
        RunInput {
            file: listed_evidence,
            content: None,
        },
        RunInput {
            file: unread_result,
            content: None,
        },
    ];
    let run = assemble(key(), &inputs, &ParseOptions::default());
    let paths: Vec<&str> = run.problems.iter().map(|p| p.path.as_str()).collect();
    assert_eq!(paths, vec!["rejected.xml", "changed.xml", "later.xml"]);
    assert!(run.problems[0].message.contains("key contains '..'"));
    assert_eq!(run.totals.tests, 1);
    assert_eq!(run.status, RunStatus::Incomplete);
}

#[test]
fn missing_evidence_reference_is_a_problem() {
    let junit = br#"<testsuite name="s"><testcase name="t"><properties>
        <property name="requirement" value="URS-1"/><property name="evidence" value="shots/a.png, shots/b.png"/>
        </properties></testcase></testsuite>"#
        .to_vec();
    let run = run_of(&[("a.xml", junit), ("shots/a.png", b"png".to_vec())]);
    assert_eq!(run.problems.len(), 1);
    assert!(run.problems[0].message.contains("\"shots/b.png\""));
    assert_eq!(
        run.traceability.requirements[0].evidence,
        vec!["shots/a.png"]
    );
}

#[test]
fn ten_thousand_cases_with_repeated_names() {
    let mut xml = String::from(r#"<testsuites><testsuite name="load" tests="10000">"#);
    for i in 0..10_000 {
        let name = format!("case-{}", i % 5_000); // every name twice
        let body = match i % 100 {
            0 => "<failure message=\"slow\"/>",
            1 => "<skipped/>",
            _ => "",
        };
        xml.push_str(&format!(
            r#"<testcase classname="pq.Load" name="{name}" time="0.01"><properties><property name="requirement" value="URS-PQ-{}"/><property name="throughput_rps" value="{i}"/></properties>{body}</testcase>"#,
            i % 1_000
        ));
    }
    xml.push_str("</testsuite></testsuites>");
    let manifest = br#"{"schema":"countersign.run/v1","requirements":[{"id":"URS-PQ-1"},{"id":"URS-PQ-5000"}]}"#.to_vec();
    let run = run_of(&[("run.json", manifest), ("load.xml", xml.into_bytes())]);
    assert_eq!(
        run.totals,
        Totals {
            tests: 10_000,
            passed: 9_800,
            failed: 100,
            errored: 0,
            skipped: 100
        }
    );
    let unique: std::collections::HashSet<&str> = run.cases.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(unique.len(), 10_000);
    assert!(unique.contains("load.xml#load::pq.Load::case-7#2"));
    assert_eq!(run.traceability.requirements.len(), 1_001);
    assert_eq!(run.traceability.uncovered, vec!["URS-PQ-5000"]);
    assert_eq!(run.cases[0].status, CaseStatus::Failed);
}

/// What a result file declares and what it holds must agree; when they do not, the run has a
/// problem and is never a clean pass.
#[test]
fn declared_versus_found_is_a_problem_of_the_run_never_a_pass() {
    let problem_of = |run: &Run, path: &str| {
        run.problems
            .iter()
            .find(|p| p.path == path)
            .map(|p| p.message.clone())
    };
    // A JUnit root declaring a failure over two passing cases.
    let run = run_of(&[(
        "results/junit.xml",
        br#"<testsuites tests="3" failures="1"><testsuite name="s"><testcase name="a"/><testcase name="b"/></testsuite></testsuites>"#.to_vec(),
    )]);
    assert_eq!(run.status, RunStatus::Incomplete);
    let msg = problem_of(&run, "results/junit.xml").unwrap();
    assert!(
        msg.contains("declares 3 test(s) with 1 failure(s)"),
        "{msg}"
    );
    // A Cucumber scenario with no steps.
    let run = run_of(&[(
        "results/cucumber.json",
        br#"[{"name":"F","elements":[{"name":"S","type":"scenario","steps":[]}]}]"#.to_vec(),
    )]);
    assert_eq!(run.status, RunStatus::Incomplete);
    assert_eq!(run.cases[0].status, CaseStatus::Skipped);
    assert!(problem_of(&run, "results/cucumber.json")
        .unwrap()
        .contains("has no steps"));
    // run.json declaring one path twice (a failing digest, then a passing one): refused, so
    // the verdict cannot depend on which declaration comes last.
    let junit = br#"<testsuite tests="1"><testcase name="a"/></testsuite>"#.to_vec();
    let fail = Sha256::of(b"the failing report").to_hex();
    let pass = Sha256::of(&junit).to_hex();
    for (first, second) in [(&fail, &pass), (&pass, &fail)] {
        let run = run_of(&[
            (
                "run.json",
                manifest(&format!(
                    r#","files":{{"results/junit.xml":{{"sha256":"{first}"}},"results/junit.xml":{{"sha256":"{second}"}}}}"#
                )),
            ),
            ("results/junit.xml", junit.clone()),
        ]);
        assert_eq!(run.status, RunStatus::Incomplete);
        let msg = problem_of(&run, "run.json").unwrap();
        assert!(
            msg.contains("\"results/junit.xml\" is given twice"),
            "{msg}"
        );
    }
}

/// A run stored under a look-alike id (before intake refused them) says so.
#[test]
fn a_run_id_not_in_nfc_is_a_problem() {
    let junit = br#"<testsuite tests="1"><testcase name="a"/></testsuite>"#.to_vec();
    let inputs = [RunInput {
        file: file("junit.xml", &junit),
        content: Some(&junit),
    }];
    let nfd = RunKey {
        system: "SYS".into(),
        phase: Phase::Iq,
        run_id: "ru\u{308}n".into(),
    };
    let run = assemble(nfd, &inputs, &ParseOptions::default());
    assert_eq!(run.status, RunStatus::Incomplete);
    assert!(run.problems[0]
        .message
        .contains("the run id: the name is not in Unicode normal form C"));
    let nfc = RunKey {
        run_id: "r\u{fc}n".into(),
        ..key()
    };
    assert_eq!(
        assemble(nfc, &inputs, &ParseOptions::default()).status,
        RunStatus::Passed
    );
}
