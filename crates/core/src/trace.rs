//! Traceability: requirement → cases → results, with the evidence linked to each requirement.

use std::collections::{HashMap, HashSet};

use serde::{Deserialize, Serialize};

use crate::model::{CaseStatus, TestCase};
use crate::run_manifest::RequirementEntry;

/// Property name whose value lists evidence files (run-relative paths, comma-separated).
pub const EVIDENCE_PROPERTY: &str = "evidence";

/// The traceability matrix of one run.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Traceability {
    /// Catalogue requirements first (catalogue order), then ids only the cases name, in order
    /// of first appearance.
    pub requirements: Vec<RequirementTrace>,
    /// Catalogue requirements that no case verifies.
    pub uncovered: Vec<String>,
    /// Ids of cases that name no requirement.
    pub untraced_cases: Vec<String>,
}

/// One requirement and what verifies it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequirementTrace {
    pub id: String,
    pub title: Option<String>,
    /// Listed in the run manifest's catalogue.
    pub in_catalogue: bool,
    /// The worst status of its cases; `None` when no case verifies it.
    pub status: Option<CaseStatus>,
    pub cases: Vec<TracedCase>,
    /// Run-relative paths of evidence files: names containing the id, or listed in the
    /// `evidence` property of one of its cases.
    pub evidence: Vec<String>,
}

/// A case verifying a requirement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TracedCase {
    pub case_id: String,
    pub status: CaseStatus,
}

/// Builds the matrix. `evidence_files` are the run-relative paths of the run's evidence.
/// Linear in cases + files (each file name is scanned once against a hash set of ids).
pub fn trace(
    cases: &[TestCase],
    catalogue: &[RequirementEntry],
    evidence_files: &[&str],
) -> Traceability {
    let mut order: Vec<RequirementTrace> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    for entry in catalogue {
        if index.contains_key(&entry.id) {
            continue;
        }
        index.insert(entry.id.clone(), order.len());
        order.push(RequirementTrace {
            id: entry.id.clone(),
            title: entry.title.clone(),
            in_catalogue: true,
            status: None,
            cases: Vec::new(),
            evidence: Vec::new(),
        });
    }
    let files: HashSet<&str> = evidence_files.iter().copied().collect();
    let mut untraced_cases = Vec::new();
    for case in cases {
        if case.requirements.is_empty() {
            untraced_cases.push(case.id.clone());
            continue;
        }
        let referenced: Vec<&str> = case
            .properties
            .iter()
            .filter(|(k, _)| k == EVIDENCE_PROPERTY)
            .flat_map(|(_, v)| v.split(','))
            .map(str::trim)
            .filter(|p| files.contains(p))
            .collect();
        for req in &case.requirements {
            let i = *index.entry(req.clone()).or_insert_with(|| {
                order.push(RequirementTrace {
                    id: req.clone(),
                    title: None,
                    in_catalogue: false,
                    status: None,
                    cases: Vec::new(),
                    evidence: Vec::new(),
                });
                order.len() - 1
            });
            let t = &mut order[i];
            t.cases.push(TracedCase {
                case_id: case.id.clone(),
                status: case.status,
            });
            if t.status
                .is_none_or(|s| case.status.review_rank() < s.review_rank())
            {
                t.status = Some(case.status);
            }
            for p in &referenced {
                if !t.evidence.iter().any(|e| e == p) {
                    t.evidence.push((*p).to_owned());
                }
            }
        }
    }
    for path in evidence_files {
        for id in ids_in_name(path, &index) {
            if let Some(&i) = index.get(id) {
                let ev = &mut order[i].evidence;
                if !ev.iter().any(|e| e == path) {
                    ev.push((*path).to_owned());
                }
            }
        }
    }
    let uncovered = order
        .iter()
        .filter(|t| t.in_catalogue && t.cases.is_empty())
        .map(|t| t.id.clone())
        .collect();
    Traceability {
        requirements: order,
        uncovered,
        untraced_cases,
    }
}

/// Known ids occurring in `name` as whole words (not glued to letters or digits on either
/// side), so `URS-1` is found in `shots/URS-1_login.png` but not in `URS-10.png`.
fn ids_in_name<'n, V>(name: &'n str, known: &HashMap<String, V>) -> Vec<&'n str> {
    const LONGEST_ID: usize = 128;
    let b = name.as_bytes();
    let mut out = Vec::new();
    for i in 0..b.len() {
        if !b[i].is_ascii_alphanumeric() || (i > 0 && b[i - 1].is_ascii_alphanumeric()) {
            continue;
        }
        for j in i + 1..=b.len().min(i + LONGEST_ID) {
            if j < b.len() && b[j].is_ascii_alphanumeric() {
                continue;
            }
            if let Some(candidate) = name.get(i..j) {
                if known.contains_key(candidate) && !out.contains(&candidate) {
                    out.push(candidate);
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn case(id: &str, status: CaseStatus, reqs: &[&str], props: &[(&str, &str)]) -> TestCase {
        TestCase {
            id: id.into(),
            name: id.into(),
            group: String::new(),
            status,
            duration_ms: None,
            message: None,
            detail: None,
            stdout: None,
            stderr: None,
            requirements: reqs.iter().map(|s| (*s).to_owned()).collect(),
            properties: props
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            source_file: "r.xml".into(),
        }
    }

    fn entry(id: &str) -> RequirementEntry {
        RequirementEntry {
            id: id.into(),
            title: Some(format!("title of {id}")),
        }
    }

    #[test]
    fn matrix_links_cases_evidence_and_gaps() {
        let cases = vec![
            case(
                "a",
                CaseStatus::Failed,
                &["URS-1"],
                &[("evidence", "logs/a.log, missing.txt")],
            ),
            case("b", CaseStatus::Passed, &["URS-1", "URS-9"], &[]),
            case("c", CaseStatus::Passed, &[], &[]),
        ];
        let catalogue = vec![entry("URS-1"), entry("URS-2"), entry("URS-1")];
        let files = [
            "logs/a.log",
            "shots/URS-1_login.png",
            "URS-10.png",
            "URS-9/out.txt",
        ];
        let t = trace(&cases, &catalogue, &files);
        assert_eq!(t.requirements.len(), 3);
        let r1 = &t.requirements[0];
        assert_eq!(r1.id, "URS-1");
        assert_eq!(r1.status, Some(CaseStatus::Failed));
        assert_eq!(r1.cases.len(), 2);
        assert_eq!(r1.evidence, vec!["logs/a.log", "shots/URS-1_login.png"]);
        assert_eq!(t.requirements[1].id, "URS-2");
        assert_eq!(t.requirements[1].status, None);
        let r9 = &t.requirements[2];
        assert!(!r9.in_catalogue);
        assert_eq!(r9.evidence, vec!["URS-9/out.txt"]);
        assert_eq!(t.uncovered, vec!["URS-2"]);
        assert_eq!(t.untraced_cases, vec!["c"]);
    }

    #[test]
    fn non_ascii_names_do_not_break_matching() {
        let known: HashMap<String, ()> = [("URS-1".to_owned(), ())].into();
        assert_eq!(ids_in_name("é/URS-1é.png", &known), vec!["URS-1"]);
        assert!(ids_in_name("ééé", &known).is_empty());
    }
}
