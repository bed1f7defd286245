//! A run's cases a page at a time, for a window that should not hold 10,000 of them.
//!
//! The review screen opens a run as its [`RunHead`] (everything but the cases and the
//! traceability matrix) and asks for the cases it shows as [`CasePage`]s, filtered and searched
//! here, so the window holds a screenful of rows instead of the whole run.

use countersign_core::model::{CaseStatus, FileProblem, RunFile, TestCase};
use countersign_core::run::Attachment;
use countersign_core::run_manifest::RunManifest;
use countersign_core::stack_snapshot::StackSnapshotRef;
use serde::{Deserialize, Serialize};

use crate::error::ServiceError;
use crate::runs::{RunSummary, RunView};

/// The most cases one page may carry.
pub const MAX_PAGE: usize = 1_000;

/// A run as the review screen opens it: all of [`RunView`] but its cases (asked for in pages)
/// and its traceability matrix (asked for when shown).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunHead {
    pub summary: RunSummary,
    pub manifest: Option<RunManifest>,
    pub files: Vec<RunFile>,
    pub problems: Vec<FileProblem>,
    /// Embedded attachments (names and digests; the bytes stay in the store).
    pub attachments: Vec<Attachment>,
    pub stack_snapshot: Option<StackSnapshotRef>,
    /// Number of cases.
    pub cases: usize,
    /// Ids of the failed and errored cases: the ones that need a disposition.
    pub needs_disposition: Vec<String>,
    /// What the run's record does not say about its execution (protocol, executor, time).
    pub missing_facts: Vec<String>,
}

/// Which cases, and which slice of them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default, rename_all = "camelCase", deny_unknown_fields)]
pub struct CaseQuery {
    /// `""` (all), `"attention"` (failed or errored), or one status (`"failed"`, `"errored"`,
    /// `"skipped"`, `"passed"`).
    pub status: String,
    /// Case-insensitive text searched in name, group, id, message and requirement ids.
    pub search: String,
    /// First matching case to return.
    pub offset: usize,
    /// How many (at most [`MAX_PAGE`]).
    pub limit: usize,
    /// A case id whose position among the matching cases is wanted.
    pub locate: Option<String>,
}

/// A page of a run's cases, failures first, as filtered.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CasePage {
    /// Cases in the run.
    pub total: usize,
    /// Cases matching the filter and search.
    pub matching: usize,
    /// Position of the first case of this page among the matching ones.
    pub offset: usize,
    pub cases: Vec<TestCase>,
    /// Position of the case asked for with `locate`, when it matches.
    pub located: Option<usize>,
}

enum Filter {
    All,
    Attention,
    Only(CaseStatus),
}

fn filter(status: &str) -> Result<Filter, ServiceError> {
    Ok(match status {
        "" => Filter::All,
        "attention" => Filter::Attention,
        "passed" => Filter::Only(CaseStatus::Passed),
        "failed" => Filter::Only(CaseStatus::Failed),
        "errored" => Filter::Only(CaseStatus::Errored),
        "skipped" => Filter::Only(CaseStatus::Skipped),
        other => {
            return Err(ServiceError::bad_input(format!(
                "unknown case filter {other:?}: use attention, failed, errored, skipped or passed"
            )))
        }
    })
}

fn matches(c: &TestCase, f: &Filter, needle: &str) -> bool {
    let by_status = match f {
        Filter::All => true,
        Filter::Attention => c.status.needs_disposition(),
        Filter::Only(s) => c.status == *s,
    };
    by_status
        && (needle.is_empty()
            || [
                c.name.as_str(),
                c.group.as_str(),
                c.id.as_str(),
                c.message.as_deref().unwrap_or(""),
            ]
            .into_iter()
            .chain(c.requirements.iter().map(String::as_str))
            .any(|text| text.to_lowercase().contains(needle)))
}

impl RunView {
    /// The run without its cases and traceability matrix.
    pub fn head(&self) -> RunHead {
        RunHead {
            summary: self.summary.clone(),
            manifest: self.run.manifest.clone(),
            files: self.run.files.clone(),
            problems: self.run.problems.clone(),
            attachments: self.run.attachments.clone(),
            stack_snapshot: self.stack_snapshot.clone(),
            cases: self.run.cases.len(),
            needs_disposition: self
                .run
                .cases_needing_disposition()
                .map(|c| c.id.clone())
                .collect(),
            missing_facts: self.missing_facts(),
        }
    }

    /// What the run's record does not say about its execution: the protocol, the executor,
    /// the execution time (a sentence each; empty when `run.json` names all three).
    pub fn missing_facts(&self) -> Vec<String> {
        countersign_core::run_manifest::missing_execution_facts(self.run.manifest.as_ref())
    }

    /// The cases matching `query`, from `query.offset`, at most `query.limit` of them.
    pub fn cases_page(&self, query: &CaseQuery) -> Result<CasePage, ServiceError> {
        let f = filter(&query.status)?;
        let needle = query.search.trim().to_lowercase();
        let limit = query.limit.min(MAX_PAGE);
        let mut page = CasePage {
            total: self.run.cases.len(),
            matching: 0,
            offset: query.offset,
            cases: Vec::new(),
            located: None,
        };
        for c in self.run.cases.iter().filter(|c| matches(c, &f, &needle)) {
            if query.locate.as_deref() == Some(c.id.as_str()) {
                page.located = Some(page.matching);
            }
            if page.matching >= query.offset && page.cases.len() < limit {
                page.cases.push(c.clone());
            }
            page.matching += 1;
        }
        Ok(page)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use countersign_core::model::{RunKey, RunStatus, Totals};
    use countersign_core::run::Run;
    use countersign_core::trace::Traceability;

    fn case(i: usize, status: CaseStatus) -> TestCase {
        TestCase {
            id: format!("r.xml#s::t{i}"),
            name: format!("Grüße case {i}"),
            group: "g".into(),
            status,
            duration_ms: None,
            message: (status == CaseStatus::Failed).then(|| format!("expected {i}")),
            detail: None,
            stdout: None,
            stderr: None,
            requirements: vec![format!("URS-{:03}", i % 7)],
            properties: Vec::new(),
            source_file: "r.xml".into(),
        }
    }

    fn view(n: usize) -> RunView {
        let key: RunKey = serde_json::from_value(
            serde_json::json!({"system": "SYS", "phase": "OQ", "run_id": "r1"}),
        )
        .unwrap();
        let cases: Vec<TestCase> = (0..n)
            .map(|i| {
                case(
                    i,
                    match i % 10 {
                        0 => CaseStatus::Failed,
                        1 => CaseStatus::Errored,
                        _ => CaseStatus::Passed,
                    },
                )
            })
            .collect();
        let run = Run {
            key: key.clone(),
            manifest: None,
            status: RunStatus::Failed,
            totals: Totals::default(),
            cases,
            files: Vec::new(),
            suites: Vec::new(),
            problems: Vec::new(),
            attachments: Vec::new(),
            traceability: Traceability::default(),
        };
        RunView {
            summary: crate::runs::summary(&run),
            run,
            stack_snapshot: None,
        }
    }

    fn q(status: &str, search: &str, offset: usize, limit: usize) -> CaseQuery {
        CaseQuery {
            status: status.into(),
            search: search.into(),
            offset,
            limit,
            locate: None,
        }
    }

    #[test]
    fn pages_filter_search_and_locate_like_the_screen_did() {
        let v = view(10_000);
        let head = v.head();
        assert_eq!(head.cases, 10_000);
        assert_eq!(head.needs_disposition.len(), 2_000);

        let p = v.cases_page(&q("", "", 9_990, 50)).unwrap();
        assert_eq!((p.total, p.matching, p.offset), (10_000, 10_000, 9_990));
        assert_eq!(p.cases.len(), 10);
        assert_eq!(p.cases[0].id, "r.xml#s::t9990");

        let p = v.cases_page(&q("attention", "", 0, 5)).unwrap();
        assert_eq!(p.matching, 2_000);
        assert!(p.cases.iter().all(|c| c.status.needs_disposition()));

        // Case-insensitive, in the message and the requirement ids too.
        assert_eq!(v.cases_page(&q("", "GRÜSSE", 0, 1)).unwrap().matching, 0);
        assert_eq!(
            v.cases_page(&q("", "GRÜßE CASE 12", 0, 1))
                .unwrap()
                .matching,
            111
        );
        assert_eq!(
            v.cases_page(&q("failed", "expected 20", 0, 9))
                .unwrap()
                .matching,
            12
        );
        assert_eq!(
            v.cases_page(&q("", "urs-003", 0, 1)).unwrap().matching,
            1_429
        );

        let mut locate = q("", "", 0, 1);
        locate.locate = Some("r.xml#s::t4321".into());
        assert_eq!(v.cases_page(&locate).unwrap().located, Some(4_321));

        // A page is never larger than MAX_PAGE; an unknown filter is refused.
        assert_eq!(
            v.cases_page(&q("", "", 0, usize::MAX)).unwrap().cases.len(),
            MAX_PAGE
        );
        let e = v.cases_page(&q("broken", "", 0, 1)).unwrap_err();
        assert!(e.message.contains("\"broken\""), "{e}");
    }
}
