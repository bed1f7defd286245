//! JUnit XML result files: pytest (xunit2 and legacy), jest-junit, Maven Surefire,
//! cargo-nextest and other tools that write the same shape.
//!
//! The reader uses roxmltree with its default options, which refuse any document type
//! declaration: entities cannot be declared, so they cannot be expanded (no "billion laughs",
//! no external entities). Such a document is reported as an error naming its position.

use roxmltree::{Document, Node};
use serde::{Deserialize, Serialize};

use crate::model::{CaseStatus, TestCase, Totals};
use crate::report_error::{utf8, ReportError};

/// Property names whose values are requirement ids (comma- or space-separated lists allowed).
pub const REQUIREMENT_PROPERTIES: [&str; 3] = ["requirement", "requirements", "req"];

/// Property added to a case that failed before it passed (or failed) on a retry: the number
/// of failed earlier attempts (`flakyFailure`, `rerunFailure`, … elements).
pub const FAILED_ATTEMPTS_PROPERTY: &str = "failed_attempts";

/// What a `.xml` file turned out to be.
#[derive(Debug, Clone, PartialEq)]
pub enum JunitOutcome {
    /// A JUnit report.
    Report(JunitReport),
    /// Well-formed XML whose root is not `<testsuites>` or `<testsuite>`: the caller keeps
    /// the file as evidence.
    NotJunit {
        /// The root element's name.
        root: String,
    },
}

/// The cases of one JUnit file, plus what the file said about itself.
#[derive(Debug, Clone, PartialEq)]
pub struct JunitReport {
    /// Cases in file order. Ids are `<path>#<suite path>::<classname>::<name>` (the classname
    /// part left out when empty); repeats are made unique by the run assembly.
    pub cases: Vec<TestCase>,
    /// Suites that carried output or properties of their own.
    pub suites: Vec<SuiteRecord>,
    /// Counts the root element declared (`tests`, `failures`, `errors`, `skipped`), or the sum
    /// of its suites' counts when the root has none. Tools disagree on whether skips are included in failures, so this is
    /// for cross-checking, not for display.
    pub declared: Option<Totals>,
}

/// Suite-level output and properties (shown with the run; not copied onto every case).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SuiteRecord {
    /// Run-relative path of the result file.
    pub source_file: String,
    /// Suite names from the root down, joined with `/`.
    pub suite_path: String,
    /// Suite properties other than requirement ids, in file order.
    pub properties: Vec<(String, String)>,
    pub stdout: Option<String>,
    pub stderr: Option<String>,
}

/// Parses one JUnit XML file. `path` is the run-relative path used in ids and errors.
pub fn parse_junit(path: &str, bytes: &[u8]) -> Result<JunitOutcome, ReportError> {
    let text = utf8(path, bytes)?;
    if text.trim().is_empty() {
        return Err(ReportError::whole(
            path,
            "the file is empty; expected a JUnit XML report",
        ));
    }
    check_nesting(path, text)?;
    let doc = Document::parse(text).map_err(|e| xml_error(path, text, &e))?;
    let root = doc.root_element();
    let name = root.tag_name().name();
    if name != "testsuites" && name != "testsuite" {
        return Ok(JunitOutcome::NotJunit {
            root: name.to_owned(),
        });
    }
    let mut report = JunitReport {
        cases: Vec::new(),
        suites: Vec::new(),
        declared: declared_totals(root),
    };
    let inherited = Vec::new();
    if name == "testsuites" {
        for suite in elements(root, "testsuite") {
            read_suite(path, suite, "", &inherited, 1, &mut report)?;
        }
        // Some tools put cases directly under <testsuites>.
        for case in elements(root, "testcase") {
            report.cases.push(read_case(path, case, "", &inherited));
        }
    } else {
        read_suite(path, root, "", &inherited, 1, &mut report)?;
    }
    Ok(JunitOutcome::Report(report))
}

/// What the report's own counts say that its cases do not, if anything: a root declaring
/// `tests="3" failures="1"` over two passing cases has lost a failing case (or was edited), and
/// must not read as a pass. Tools double-count a case that fails and then errors in teardown,
/// and some count skips as failures, so failures are compared as "any" versus "none".
pub fn declared_mismatch(report: &JunitReport) -> Option<String> {
    let declared = report.declared?;
    let found = Totals::of(&report.cases);
    let declared_bad = declared.failed + declared.errored;
    let found_bad = found.failed + found.errored;
    let skips_as_failures = declared_bad > 0 && declared_bad == found_bad + found.skipped;
    let tests_differ = declared.tests != found.tests;
    let verdict_differs = (declared_bad == 0) != (found_bad == 0) && !skips_as_failures;
    (tests_differ || verdict_differs).then(|| {
        format!(
            "the report declares {} test(s) with {} failure(s) and {} error(s), but holds {} test \
             case(s) with {} failed and {} errored; its results are incomplete or were edited, so \
             they cannot count as a pass",
            declared.tests,
            declared.failed,
            declared.errored,
            found.tests,
            found.failed,
            found.errored
        )
    })
}

/// Deepest element nesting accepted. The XML reader recurses once per level, so a crafted
/// file nested a hundred thousand deep would exhaust the stack; real reports nest a handful.
const MAX_ELEMENT_DEPTH: usize = 256;

/// A linear pre-scan of element nesting (comments, CDATA, processing instructions and quoted
/// attribute values skipped). Malformed markup is left for the XML reader to report.
fn check_nesting(path: &str, text: &str) -> Result<(), ReportError> {
    let b = text.as_bytes();
    let find = |from: usize, pat: &[u8]| {
        b.get(from..)
            .and_then(|rest| rest.windows(pat.len()).position(|w| w == pat))
            .map(|p| from + p + pat.len())
    };
    let mut depth = 0usize;
    let mut i = 0;
    while let Some(p) = b
        .get(i..)
        .and_then(|rest| rest.iter().position(|&c| c == b'<'))
    {
        let start = i + p;
        let rest = &b[start + 1..];
        let end = if rest.starts_with(b"!--") {
            find(start + 4, b"-->")
        } else if rest.starts_with(b"![CDATA[") {
            find(start + 9, b"]]>")
        } else if rest.starts_with(b"?") {
            find(start + 2, b"?>")
        } else if rest.starts_with(b"!") {
            find(start + 2, b">")
        } else if rest.starts_with(b"/") {
            depth = depth.saturating_sub(1);
            find(start + 2, b">")
        } else {
            // A start tag: find its '>' outside quotes.
            let mut j = start + 1;
            let mut quote = None;
            while j < b.len() {
                match (quote, b[j]) {
                    (None, q @ (b'"' | b'\'')) => quote = Some(q),
                    (Some(q), c) if c == q => quote = None,
                    (None, b'>') => break,
                    _ => {}
                }
                j += 1;
            }
            if j < b.len() && b[j - 1] != b'/' {
                depth += 1;
                if depth > MAX_ELEMENT_DEPTH {
                    return Err(ReportError::at_offset(
                        path,
                        b,
                        start,
                        format!(
                            "elements nested more than {MAX_ELEMENT_DEPTH} deep; \
                             this is not a report a test tool writes"
                        ),
                    ));
                }
            }
            Some(j + 1)
        };
        match end {
            Some(e) => i = e,
            None => break,
        }
    }
    Ok(())
}

fn xml_error(path: &str, text: &str, e: &roxmltree::Error) -> ReportError {
    if matches!(e, roxmltree::Error::DtdDetected) {
        let offset = text.find("<!DOCTYPE").unwrap_or(0);
        return ReportError::at_offset(
            path,
            text.as_bytes(),
            offset,
            "the document has a DOCTYPE (document type declaration); JUnit reports never need one \
             and entity declarations are refused, so this file is not read",
        );
    }
    let pos = e.pos();
    ReportError::at(path, pos.row, pos.col, format!("not well-formed XML: {e}"))
}

fn elements<'a, 'i>(
    parent: Node<'a, 'i>,
    name: &'static str,
) -> impl Iterator<Item = Node<'a, 'i>> {
    parent
        .children()
        .filter(move |n| n.is_element() && n.tag_name().name() == name)
}

fn first<'a, 'i>(parent: Node<'a, 'i>, name: &'static str) -> Option<Node<'a, 'i>> {
    elements(parent, name).next()
}

/// The root's counts, or (pytest writes a bare `<testsuites>`) the sum of its suites' counts.
fn declared_totals(root: Node<'_, '_>) -> Option<Totals> {
    if let Some(t) = declared_by(root) {
        return Some(t);
    }
    let mut sum: Option<Totals> = None;
    for suite in elements(root, "testsuite") {
        let t = declared_by(suite)?;
        let s = sum.get_or_insert_with(Totals::default);
        s.tests += t.tests;
        s.passed += t.passed;
        s.failed += t.failed;
        s.errored += t.errored;
        s.skipped += t.skipped;
    }
    sum
}

fn declared_by(node: Node<'_, '_>) -> Option<Totals> {
    let num = |a: &str| node.attribute(a).and_then(|v| v.trim().parse::<u64>().ok());
    let tests = num("tests")?;
    let failed = num("failures").unwrap_or(0);
    let errored = num("errors").unwrap_or(0);
    let skipped = num("skipped").or_else(|| num("skip")).unwrap_or(0);
    Some(Totals {
        tests,
        passed: tests.saturating_sub(failed + errored + skipped),
        failed,
        errored,
        skipped,
    })
}

/// Deepest suite nesting read; real tools nest a handful of levels.
const MAX_SUITE_DEPTH: usize = 64;

fn read_suite(
    path: &str,
    suite: Node<'_, '_>,
    parent_path: &str,
    parent_reqs: &[String],
    depth: usize,
    report: &mut JunitReport,
) -> Result<(), ReportError> {
    if depth > MAX_SUITE_DEPTH {
        let pos = suite.document().text_pos_at(suite.range().start);
        return Err(ReportError::at(
            path,
            pos.row,
            pos.col,
            format!("test suites nested more than {MAX_SUITE_DEPTH} deep; this is not a report a test tool writes"),
        ));
    }
    let name = suite.attribute("name").unwrap_or("");
    let suite_path = match (parent_path.is_empty(), name.is_empty()) {
        (true, _) => name.to_owned(),
        (false, true) => parent_path.to_owned(),
        (false, false) => format!("{parent_path}/{name}"),
    };
    let (reqs, properties) = read_properties(suite);
    let mut all_reqs = parent_reqs.to_vec();
    extend_unique(&mut all_reqs, reqs);
    let stdout = output(suite, "system-out");
    let stderr = output(suite, "system-err");
    if !properties.is_empty() || stdout.is_some() || stderr.is_some() {
        report.suites.push(SuiteRecord {
            source_file: path.to_owned(),
            suite_path: suite_path.clone(),
            properties,
            stdout,
            stderr,
        });
    }
    for child in suite.children().filter(Node::is_element) {
        match child.tag_name().name() {
            "testcase" => report
                .cases
                .push(read_case(path, child, &suite_path, &all_reqs)),
            "testsuite" => read_suite(path, child, &suite_path, &all_reqs, depth + 1, report)?,
            _ => {}
        }
    }
    Ok(())
}

fn read_case(path: &str, case: Node<'_, '_>, suite_path: &str, suite_reqs: &[String]) -> TestCase {
    let name = case.attribute("name").unwrap_or("").to_owned();
    let group = case
        .attribute("classname")
        .or_else(|| case.attribute("class"))
        .unwrap_or("")
        .to_owned();
    let id = if group.is_empty() {
        format!("{path}#{suite_path}::{name}")
    } else {
        format!("{path}#{suite_path}::{group}::{name}")
    };
    let (case_reqs, mut properties) = read_properties(case);
    let mut requirements = suite_reqs.to_vec();
    extend_unique(&mut requirements, case_reqs);

    // The worst outcome wins (pytest writes both <failure> and <error> for a failing test
    // whose teardown also fails).
    let mut status = CaseStatus::Passed;
    let mut message = None;
    let mut detail = None;
    let mut earlier_attempts = 0u32;
    for child in case.children().filter(Node::is_element) {
        let s = match child.tag_name().name() {
            "failure" => CaseStatus::Failed,
            "error" => CaseStatus::Errored,
            "skipped" => CaseStatus::Skipped,
            // Surefire and nextest record failed attempts of a retried test; the case's outcome
            // is its last attempt, but a reviewer must see that it did not pass first time.
            "flakyFailure" | "flakyError" | "rerunFailure" | "rerunError" => {
                earlier_attempts += 1;
                continue;
            }
            _ => continue,
        };
        if s.review_rank() < status.review_rank() {
            status = s;
            message = child
                .attribute("message")
                .map(str::to_owned)
                .filter(|m| !m.is_empty());
            detail = text_of(child);
            if message.is_none() {
                message = detail
                    .as_deref()
                    .and_then(|d| d.lines().find(|l| !l.trim().is_empty()))
                    .map(|l| l.trim().to_owned());
            }
        }
    }
    if earlier_attempts > 0 {
        properties.push((
            FAILED_ATTEMPTS_PROPERTY.to_owned(),
            earlier_attempts.to_string(),
        ));
    }
    TestCase {
        id,
        name,
        group,
        status,
        duration_ms: case.attribute("time").and_then(seconds_to_ms),
        message,
        detail,
        stdout: output(case, "system-out"),
        stderr: output(case, "system-err"),
        requirements,
        properties,
        source_file: path.to_owned(),
    }
}

/// Requirement ids and the other properties of a suite or case.
fn read_properties(node: Node<'_, '_>) -> (Vec<String>, Vec<(String, String)>) {
    let mut reqs = Vec::new();
    let mut props = Vec::new();
    for list in elements(node, "properties") {
        for p in elements(list, "property") {
            let name = p.attribute("name").unwrap_or("").to_owned();
            let value = p
                .attribute("value")
                .map(str::to_owned)
                .or_else(|| text_of(p))
                .unwrap_or_default();
            if REQUIREMENT_PROPERTIES.contains(&name.to_ascii_lowercase().as_str()) {
                extend_unique(&mut reqs, split_ids(&value));
            } else {
                props.push((name, value));
            }
        }
    }
    (reqs, props)
}

/// Splits `"URS-1, URS-2 URS-3"` into ids.
pub fn split_ids(value: &str) -> Vec<String> {
    value
        .split(|c: char| c == ',' || c == ';' || c.is_whitespace())
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Appends ids not already present, keeping order.
pub(crate) fn extend_unique(into: &mut Vec<String>, more: Vec<String>) {
    for id in more {
        if !into.contains(&id) {
            into.push(id);
        }
    }
}

fn output(node: Node<'_, '_>, name: &'static str) -> Option<String> {
    first(node, name).and_then(text_of)
}

/// Text content (including CDATA), `None` when blank.
fn text_of(node: Node<'_, '_>) -> Option<String> {
    let s: String = node
        .descendants()
        .filter(Node::is_text)
        .filter_map(|n| n.text())
        .collect();
    if s.trim().is_empty() {
        None
    } else {
        Some(s)
    }
}

/// `"0.123"` seconds (Surefire may write `"1,234.5"`) → milliseconds, rounded.
fn seconds_to_ms(v: &str) -> Option<u64> {
    let cleaned: String = v.trim().chars().filter(|&c| c != ',').collect();
    let secs: f64 = cleaned.parse().ok()?;
    if !secs.is_finite() || !(0.0..=1.0e12).contains(&secs) {
        return None;
    }
    // Bounded above, so the conversion cannot overflow.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let ms = (secs * 1000.0).round() as u64;
    Some(ms)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(xml: &str) -> JunitReport {
        match parse_junit("r.xml", xml.as_bytes()).unwrap() {
            JunitOutcome::Report(r) => r,
            other => panic!("not a report: {other:?}"),
        }
    }

    #[test]
    fn declared_counts_that_the_cases_do_not_bear_out_are_named() {
        // A failing case removed from the file: two passes under a root declaring a failure.
        let r = report(
            r#"<testsuite tests="3" failures="1"><testcase name="a"/><testcase name="b"/></testsuite>"#,
        );
        let msg = declared_mismatch(&r).unwrap();
        assert!(
            msg.contains("declares 3 test(s) with 1 failure(s)"),
            "{msg}"
        );
        assert!(msg.contains("holds 2 test case(s) with 0 failed"), "{msg}");
        // Failures declared, none found, same count (the failure element was stripped).
        let r = report(
            r#"<testsuite tests="1" failures="1"><testcase name="critical_check&#13;  PASSED"/></testsuite>"#,
        );
        assert!(declared_mismatch(&r).is_some());
        // A failure found where none is declared.
        let r =
            report(r#"<testsuite tests="1"><testcase name="a"><failure/></testcase></testsuite>"#);
        assert!(declared_mismatch(&r).is_some());
        // Consistent, no counts, a double-counted teardown error, skips counted as failures.
        for ok in [
            r#"<testsuite tests="2" failures="1"><testcase name="a"/><testcase name="b"><failure/></testcase></testsuite>"#,
            r#"<testsuite><testcase name="a"/></testsuite>"#,
            r#"<testsuite tests="1" failures="1" errors="1"><testcase name="a"><failure/><error/></testcase></testsuite>"#,
            r#"<testsuite tests="2" failures="1"><testcase name="a"/><testcase name="b"><skipped/></testcase></testsuite>"#,
        ] {
            assert_eq!(declared_mismatch(&report(ok)), None, "{ok}");
        }
    }

    #[test]
    fn surefire_single_suite_with_properties_and_outputs() {
        let r = report(
            r#"<?xml version="1.0" encoding="UTF-8"?>
<testsuite name="com.acme.LimsIT" tests="3" failures="1" errors="0" skipped="1" time="1,234.5">
  <properties><property name="java.version" value="21"/><property name="req" value="URS-A-1"/></properties>
  <testcase name="loads" classname="com.acme.LimsIT" time="0.0105"/>
  <testcase name="saves" classname="com.acme.LimsIT" time="1,000.25">
    <failure message="expected 2" type="AssertionError"><![CDATA[at LimsIT.java:12]]></failure>
    <system-out>saving</system-out>
    <properties><property name="requirements">URS-A-2 URS-A-3</property><property name="evidence" value="shot.png"/></properties>
  </testcase>
  <testcase name="skips" classname="com.acme.LimsIT"><skipped/></testcase>
  <system-out>suite log</system-out>
</testsuite>"#,
        );
        assert_eq!(
            Totals::of(&r.cases),
            Totals {
                tests: 3,
                passed: 1,
                failed: 1,
                errored: 0,
                skipped: 1
            }
        );
        assert_eq!(r.declared, Some(Totals::of(&r.cases)));
        let saves = &r.cases[1];
        assert_eq!(saves.id, "r.xml#com.acme.LimsIT::com.acme.LimsIT::saves");
        assert_eq!(saves.message.as_deref(), Some("expected 2"));
        assert_eq!(saves.detail.as_deref(), Some("at LimsIT.java:12"));
        assert_eq!(saves.stdout.as_deref(), Some("saving"));
        assert_eq!(saves.duration_ms, Some(1_000_250));
        assert_eq!(saves.requirements, vec!["URS-A-1", "URS-A-2", "URS-A-3"]);
        assert_eq!(
            saves.properties,
            vec![("evidence".to_owned(), "shot.png".to_owned())]
        );
        assert_eq!(r.cases[0].duration_ms, Some(11));
        assert_eq!(r.suites[0].stdout.as_deref(), Some("suite log"));
        assert_eq!(
            r.suites[0].properties,
            vec![("java.version".to_owned(), "21".to_owned())]
        );
    }

    #[test]
    fn retried_cases_show_their_failed_attempts() {
        let r = report(
            r#"<testsuite name="s"><testcase name="t">
                <flakyFailure message="timeout" type="java.lang.AssertionError"/>
                <flakyFailure message="timeout"/>
            </testcase><testcase name="u"><rerunFailure message="x"/><failure message="x"/></testcase></testsuite>"#,
        );
        assert_eq!(r.cases[0].status, CaseStatus::Passed);
        assert_eq!(
            r.cases[0].properties,
            vec![("failed_attempts".to_owned(), "2".to_owned())]
        );
        assert_eq!(r.cases[1].status, CaseStatus::Failed);
        assert_eq!(
            r.cases[1].properties,
            vec![("failed_attempts".to_owned(), "1".to_owned())]
        );
    }

    #[test]
    fn nested_suites_and_worst_outcome() {
        let r = report(
            r#"<testsuites><testsuite name="a"><testsuite name="b">
                <testcase name="t"><failure message="f"/><error message="e"/></testcase>
                <testcase name="u" time="nonsense"><error>boom
second line</error></testcase>
            </testsuite></testsuite></testsuites>"#,
        );
        assert_eq!(r.cases[0].id, "r.xml#a/b::t");
        assert_eq!(r.cases[0].status, CaseStatus::Failed);
        assert_eq!(r.cases[0].message.as_deref(), Some("f"));
        assert_eq!(r.cases[1].status, CaseStatus::Errored);
        assert_eq!(r.cases[1].message.as_deref(), Some("boom"));
        assert_eq!(r.cases[1].duration_ms, None);
        assert_eq!(r.declared, None);
    }

    #[test]
    fn doctype_and_entities_are_refused_with_position() {
        let bomb = "<?xml version=\"1.0\"?>\n<!DOCTYPE lolz [<!ENTITY lol \"lol\"><!ENTITY lol2 \"&lol;&lol;\">]>\n<testsuite>&lol2;</testsuite>";
        let e = parse_junit("bomb.xml", bomb.as_bytes()).unwrap_err();
        assert_eq!((e.line, e.column), (Some(2), Some(1)));
        assert!(
            e.to_string()
                .starts_with("bomb.xml:2:1: the document has a DOCTYPE"),
            "{e}"
        );
    }

    #[test]
    fn malformed_xml_names_line_and_column() {
        let e = parse_junit(
            "bad.xml",
            b"<testsuite>\n  <testcase name=\"x\">\n</testsuite>",
        )
        .unwrap_err();
        assert_eq!(e.line, Some(3));
        assert!(e.message.contains("not well-formed XML"), "{e}");
        assert!(e.to_string().starts_with("bad.xml:3:"), "{e}");
    }

    #[test]
    fn empty_and_non_utf8_files_are_errors() {
        assert!(parse_junit("e.xml", b"  \n")
            .unwrap_err()
            .message
            .contains("empty"));
        let e = parse_junit("l.xml", b"<testsuite name=\"\xE9\"/>").unwrap_err();
        assert_eq!((e.line, e.column), (Some(1), Some(18)));
    }

    #[test]
    fn absurd_nesting_is_an_error_not_a_crash() {
        let depth = 100_000;
        let xml = format!(
            "<testsuites>\n{}{}</testsuites>",
            "<testsuite>".repeat(depth),
            "</testsuite>".repeat(depth)
        );
        let e = parse_junit("deep.xml", xml.as_bytes()).unwrap_err();
        assert_eq!(e.line, Some(2));
        assert!(e.message.contains("nested more than 256 deep"), "{e}");
        // The deepest nesting the pre-scan lets through still parses without exhausting the stack.
        let xml = format!("<a>{}{}</a>", "<b>".repeat(255), "</b>".repeat(255));
        assert!(matches!(
            parse_junit("b.xml", xml.as_bytes()),
            Ok(JunitOutcome::NotJunit { .. })
        ));
        // Nesting within the pre-scan limit but beyond the suite limit.
        let xml = format!(
            "<testsuites>\n{}{}</testsuites>",
            "<testsuite>".repeat(70),
            "</testsuite>".repeat(70)
        );
        let e = parse_junit("deep.xml", xml.as_bytes()).unwrap_err();
        assert!(e.message.contains("nested more than 64 deep"), "{e}");
        assert_eq!(e.line, Some(2));
        // Comments, CDATA and quoted '>' do not confuse the depth count.
        let tricky = "<testsuite a='>'><!-- <x> --><testcase name=\"t\"><system-out><![CDATA[<<<]]></system-out></testcase></testsuite>";
        assert!(
            matches!(parse_junit("t.xml", tricky.as_bytes()), Ok(JunitOutcome::Report(r)) if r.cases.len() == 1)
        );
        let ok = format!(
            "<testsuites>{}<testcase name=\"t\"/>{}</testsuites>",
            "<testsuite>".repeat(64),
            "</testsuite>".repeat(64)
        );
        assert!(
            matches!(parse_junit("ok.xml", ok.as_bytes()), Ok(JunitOutcome::Report(r)) if r.cases.len() == 1)
        );
    }

    #[test]
    fn other_xml_is_not_junit() {
        let out = parse_junit(
            "pom.xml",
            b"<project><modelVersion>4.0.0</modelVersion></project>",
        )
        .unwrap();
        assert_eq!(
            out,
            JunitOutcome::NotJunit {
                root: "project".to_owned()
            }
        );
    }

    #[test]
    fn split_ids_accepts_commas_and_spaces() {
        assert_eq!(
            split_ids(" URS-1,URS-2  URS-3;URS-4 "),
            vec!["URS-1", "URS-2", "URS-3", "URS-4"]
        );
    }
}
