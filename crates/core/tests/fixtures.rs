//! Reports produced by the real tools (see `testdata/README.md`): exact totals and the details
//! review depends on.
#![cfg(test)]

use countersign_core::cucumber::{parse_cucumber, CucumberOutcome, CucumberReport};
use countersign_core::junit::{parse_junit, JunitOutcome, JunitReport};
use countersign_core::model::{CaseStatus, TestCase, Totals};
use countersign_core::requirement::RequirementPattern;

fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/testdata/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn junit(name: &str) -> JunitReport {
    match parse_junit(name, &fixture(name)).unwrap() {
        JunitOutcome::Report(r) => r,
        other => panic!("{name}: {other:?}"),
    }
}

fn cucumber(name: &str) -> CucumberReport {
    match parse_cucumber(name, &fixture(name), &RequirementPattern::default()).unwrap() {
        CucumberOutcome::Report(r) => r,
        CucumberOutcome::NotCucumber => panic!("{name}: not cucumber"),
    }
}

fn totals(tests: u64, passed: u64, failed: u64, errored: u64, skipped: u64) -> Totals {
    Totals {
        tests,
        passed,
        failed,
        errored,
        skipped,
    }
}

fn named<'a>(cases: &'a [TestCase], name: &str) -> &'a TestCase {
    cases
        .iter()
        .find(|c| c.name == name)
        .unwrap_or_else(|| panic!("no case {name}"))
}

fn check_pytest(file: &str) {
    let r = junit(file);
    assert_eq!(Totals::of(&r.cases), totals(7, 4, 1, 1, 1), "{file}");
    assert_eq!(r.declared, Some(totals(7, 4, 1, 1, 1)), "{file}");
    let db = named(&r.cases, "test_database_version");
    assert_eq!(db.requirements, vec!["URS-LIMS-001"]);
    assert_eq!(db.group, "test_lims_iq");
    assert_eq!(
        db.id,
        format!("{file}#pytest::test_lims_iq::test_database_version")
    );
    let tls = named(&r.cases, "test_tls_enforced");
    assert_eq!(tls.requirements, vec!["URS-LIMS-002", "URS-LIMS-003"]);
    let backup = named(&r.cases, "test_backup_retention_days");
    assert_eq!(backup.status, CaseStatus::Failed);
    assert_eq!(
        backup.message.as_deref(),
        Some("AssertionError: backup retention must be 35 days\nassert 7 == 35")
    );
    assert!(backup
        .detail
        .as_deref()
        .unwrap()
        .contains("test_lims_iq.py:20: AssertionError"));
    assert_eq!(
        backup.properties,
        vec![("measured_days".to_owned(), "7".to_owned())]
    );
    let audit = named(&r.cases, "test_audit_table_present");
    assert_eq!(audit.status, CaseStatus::Errored);
    assert!(audit
        .message
        .as_deref()
        .unwrap()
        .starts_with("failed on setup with"));
    let skip = named(&r.cases, "test_throughput");
    assert_eq!(skip.status, CaseStatus::Skipped);
    assert_eq!(
        skip.message.as_deref(),
        Some("PQ only: load test runs in the PQ phase")
    );
    assert_eq!(
        named(&r.cases, "test_bucket_encrypted[lims-raw]").status,
        CaseStatus::Passed
    );
}

#[test]
fn pytest_xunit2() {
    check_pytest("pytest-xunit2.xml");
}

#[test]
fn pytest_legacy() {
    check_pytest("pytest-legacy.xml");
}

#[test]
fn cargo_nextest() {
    let r = junit("nextest-junit.xml");
    // nextest leaves ignored tests out of its JUnit report.
    assert_eq!(Totals::of(&r.cases), totals(4, 2, 2, 0, 0));
    assert_eq!(r.declared, Some(totals(4, 2, 2, 0, 0)));
    let ok = named(&r.cases, "tests::urs_lims_030_retention_is_positive");
    assert_eq!(ok.group, "lims-oq-checks");
    assert!(ok.stdout.as_deref().unwrap().contains("retention = 7"));
    let panicked = named(&r.cases, "tests::urs_lims_032_panics_on_missing_config");
    assert_eq!(panicked.status, CaseStatus::Failed);
    assert!(panicked
        .message
        .as_deref()
        .unwrap()
        .contains("panicked at src/lib.rs:25:21"));
    assert!(panicked
        .detail
        .as_deref()
        .unwrap()
        .contains("config file lims.toml is missing"));
    assert!(r.cases.iter().all(|c| c.duration_ms.is_some()));
}

#[test]
fn jest_junit() {
    let r = junit("jest-junit.xml");
    assert_eq!(Totals::of(&r.cases), totals(4, 2, 1, 0, 1));
    // jest-junit does not put a skip count on its root element.
    assert_eq!(r.declared.map(|d| (d.tests, d.failed)), Some((4, 1)));
    let failed = named(&r.cases, "URS-LIMS-021 session times out after 10 minutes");
    assert_eq!(failed.status, CaseStatus::Failed);
    assert_eq!(
        failed.message.as_deref(),
        Some("Error: expect(received).toBe(expected) // Object.is equality")
    );
    assert_eq!(
        named(&r.cases, "URS-LIMS-023 records who and when").group,
        "LIMS OQ audit trail"
    );
    assert_eq!(
        named(&r.cases, "URS-LIMS-022 export to CSV").status,
        CaseStatus::Skipped
    );
}

#[test]
fn cucumber_js() {
    let r = cucumber("cucumber-js.json");
    // cucumber-js itself reported: 5 scenarios (1 failed, 1 undefined, 1 skipped, 2 passed).
    assert_eq!(Totals::of(&r.cases), totals(5, 2, 1, 1, 1));
    let dup = named(&r.cases, "Reject a duplicate sample");
    assert_eq!(dup.status, CaseStatus::Failed);
    assert_eq!(dup.requirements, vec!["URS-LIMS-010", "URS-LIMS-012"]);
    assert!(dup
        .message
        .as_deref()
        .unwrap()
        .contains("duplicate sample was accepted"));
    assert!(dup
        .detail
        .as_deref()
        .unwrap()
        .ends_with("Step (failed): Then the second registration is refused"));
    let label = named(&r.cases, "Print a label");
    assert_eq!(label.status, CaseStatus::Errored);
    assert_eq!(
        label.message.as_deref(),
        Some("undefined step: When I print the label for \"S-001\"")
    );
    let outline: Vec<_> = r
        .cases
        .iter()
        .filter(|c| c.name == "Sample types")
        .collect();
    assert_eq!(
        outline.iter().map(|c| c.status).collect::<Vec<_>>(),
        [CaseStatus::Passed, CaseStatus::Skipped]
    );
    assert_eq!(r.embeddings.len(), 1);
    assert_eq!(r.embeddings[0].bytes, b"sample S-001 listed");
    assert_eq!(r.embeddings[0].mime_type, "text/plain");
    assert_eq!(
        r.cases[r.embeddings[0].case_index].name,
        "Register a sample"
    );
}
