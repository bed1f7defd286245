//! Assembling a run from its files: sniffing roles, parsing results, checking declared
//! digests, ordering cases for review and tracing requirements.

use std::collections::{HashMap, HashSet};

use serde::{Deserialize, Serialize};

use crate::cucumber::{parse_cucumber, CucumberOutcome};
use crate::digest::Sha256;
use crate::junit::{declared_mismatch, extend_unique, parse_junit, JunitOutcome, SuiteRecord};
use crate::layout::check_relative_key;
use crate::model::{
    FileProblem, FileRole, Integrity, RunFile, RunKey, RunStatus, TestCase, Totals,
};
use crate::requirement::RequirementPattern;
use crate::run_manifest::{parse_run_manifest, RunManifest};
use crate::trace::{trace, Traceability, EVIDENCE_PROPERTY};

/// Path of the run manifest inside a run folder.
pub const MANIFEST_PATH: &str = "run.json";

/// How result files are read.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParseOptions {
    /// Which Cucumber tags (and, if enabled, case-name words) are requirement ids.
    pub requirement_pattern: RequirementPattern,
    /// Also take requirement ids from case names (`"URS-LIMS-020 login requires MFA"`).
    pub ids_from_case_names: bool,
}

/// One file of the run folder, with its bytes when they could be read.
#[derive(Debug, Clone)]
pub struct RunInput<'a> {
    pub file: RunFile,
    /// `None` when the object was rejected at fetch or is missing from the store, or (for
    /// evidence in listings) was not read; a result file without content is a problem.
    pub content: Option<&'a [u8]>,
}

/// A Cucumber embedding, decoded, ready to be stored by the caller.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attachment {
    /// The case it was embedded in.
    pub case_id: String,
    /// Run-relative path of the Cucumber file it came from.
    pub source_file: String,
    pub name: String,
    pub mime_type: String,
    pub sha256: Sha256,
    pub size: u64,
    /// The decoded bytes. Not serialised: the caller stores them by `sha256`.
    #[serde(skip)]
    pub bytes: Vec<u8>,
}

/// A qualification run, ready for review.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Run {
    pub key: RunKey,
    pub manifest: Option<RunManifest>,
    pub status: RunStatus,
    pub totals: Totals,
    /// Failed first, then errored, skipped, passed; file order within each.
    pub cases: Vec<TestCase>,
    /// Every file of the folder, in input order, with its role set by content sniffing.
    pub files: Vec<RunFile>,
    /// Suite-level output and properties of JUnit files.
    pub suites: Vec<SuiteRecord>,
    /// Problems with single files; an empty `path` concerns the run as a whole.
    pub problems: Vec<FileProblem>,
    pub attachments: Vec<Attachment>,
    pub traceability: Traceability,
}

impl Run {
    /// Adds a problem found outside the files' content (by whoever read them), with the
    /// status it implies: a run with problems and no failures is incomplete, never passed.
    pub fn add_problem(&mut self, path: &str, message: String) {
        self.problems.push(FileProblem {
            path: path.to_owned(),
            message,
        });
        if self.status == RunStatus::Passed {
            self.status = RunStatus::Incomplete;
        }
    }

    /// The failed and errored cases: the ones that need a disposition before approval.
    pub fn cases_needing_disposition(&self) -> impl Iterator<Item = &TestCase> {
        self.cases.iter().filter(|c| c.status.needs_disposition())
    }
}

/// Builds a run from its files. Never fails: what cannot be read becomes a problem and the
/// rest of the run still loads.
pub fn assemble(key: RunKey, inputs: &[RunInput<'_>], options: &ParseOptions) -> Run {
    let mut files: Vec<RunFile> = inputs.iter().map(|i| i.file.clone()).collect();
    let mut problems: Vec<FileProblem> = Vec::new();
    let problem = |problems: &mut Vec<FileProblem>, path: &str, message: String| {
        problems.push(FileProblem {
            path: path.to_owned(),
            message,
        });
    };
    let by_path: HashMap<&str, usize> = inputs
        .iter()
        .enumerate()
        .map(|(i, x)| (x.file.path.as_str(), i))
        .collect();
    // Files whose bytes are not to be parsed: unreadable, changed, or not matching run.json.
    let mut unusable = vec![false; inputs.len()];

    for (i, input) in inputs.iter().enumerate() {
        let path = input.file.path.as_str();
        let state = match &input.file.integrity {
            Integrity::Verified | Integrity::Recorded => None,
            Integrity::Changed { actual } => Some(format!(
                "changed since it was fetched (sha256 now {actual}); its content is not used"
            )),
            Integrity::Missing => {
                Some("missing from the local store; fetch the run again".to_owned())
            }
            Integrity::Rejected { reason } => Some(format!("rejected: {reason}")),
        };
        if let Some(msg) = state {
            problem(&mut problems, path, msg);
            unusable[i] = true;
        } else if input.content.is_none() {
            // Listings pass evidence without its bytes; only a result file's absence matters.
            if may_hold_results(path) {
                problem(
                    &mut problems,
                    path,
                    "content not available, so its results are not shown; fetch the run again"
                        .to_owned(),
                );
            }
            unusable[i] = true;
        }
    }

    // A run stored before look-alike names were refused at intake still says what it is.
    if let Some(reason) = crate::layout::look_alike_reason(&key.to_string()) {
        problem(&mut problems, "", format!("the run id: {reason}"));
    }

    // The manifest first: it declares digests and requirement mappings.
    let mut manifest = None;
    if let Some(&i) = by_path.get(MANIFEST_PATH) {
        files[i].role = FileRole::Manifest;
        if let (false, Some(bytes)) = (unusable[i], inputs[i].content) {
            match parse_run_manifest(MANIFEST_PATH, bytes) {
                Ok(m) => manifest = Some(m),
                Err(e) => problem(&mut problems, MANIFEST_PATH, e.to_string()),
            }
        }
    }
    if let Some(m) = &manifest {
        for msg in m.folder_mismatches(&key) {
            problem(&mut problems, MANIFEST_PATH, msg);
        }
        check_declared_digests(
            m,
            inputs,
            &by_path,
            &mut files,
            &mut unusable,
            &mut problems,
        );
    }

    // Result files.
    let mut cases: Vec<TestCase> = Vec::new();
    let mut suites = Vec::new();
    let mut embeddings = Vec::new();
    for (i, input) in inputs.iter().enumerate() {
        let path = input.file.path.as_str();
        let Some(bytes) = input.content.filter(|_| !unusable[i]) else {
            continue;
        };
        if path == MANIFEST_PATH {
            continue;
        }
        if has_extension(path, ".xml") {
            match parse_junit(path, bytes) {
                Ok(JunitOutcome::Report(r)) => {
                    files[i].role = FileRole::JunitResult;
                    if let Some(msg) = declared_mismatch(&r) {
                        problem(&mut problems, path, msg);
                    }
                    cases.extend(r.cases);
                    suites.extend(r.suites);
                }
                Ok(JunitOutcome::NotJunit { .. }) => {}
                Err(e) => problem(&mut problems, path, e.to_string()),
            }
        } else if has_extension(path, ".json") {
            match parse_cucumber(path, bytes, &options.requirement_pattern) {
                Ok(CucumberOutcome::Report(r)) => {
                    files[i].role = FileRole::CucumberResult;
                    for msg in r.problems {
                        problem(&mut problems, path, msg);
                    }
                    let offset = cases.len();
                    cases.extend(r.cases);
                    embeddings.extend(r.embeddings.into_iter().map(|mut e| {
                        e.case_index += offset;
                        (path, e)
                    }));
                }
                Ok(CucumberOutcome::NotCucumber) => {}
                Err(e) => problem(&mut problems, path, e.to_string()),
            }
        }
    }
    let has_results = files
        .iter()
        .any(|f| matches!(f.role, FileRole::JunitResult | FileRole::CucumberResult));
    if !has_results {
        problem(
            &mut problems,
            "",
            "no JUnit XML or Cucumber JSON result file could be read in this run".to_owned(),
        );
    }

    add_requirements(&mut cases, manifest.as_ref(), options);
    make_ids_unique(&mut cases);
    let attachments: Vec<Attachment> = embeddings
        .into_iter()
        .filter_map(|(path, e)| {
            let case = cases.get(e.case_index)?;
            Some(Attachment {
                case_id: case.id.clone(),
                source_file: path.to_owned(),
                name: e.name,
                mime_type: e.mime_type,
                sha256: Sha256::of(&e.bytes),
                size: e.bytes.len() as u64,
                bytes: e.bytes,
            })
        })
        .collect();
    cases.sort_by_key(|c| c.status.review_rank());

    let evidence: Vec<&str> = files
        .iter()
        .filter(|f| f.role == FileRole::Evidence)
        .map(|f| f.path.as_str())
        .collect();
    let all_paths: HashSet<&str> = files.iter().map(|f| f.path.as_str()).collect();
    for case in &cases {
        for (_, v) in case
            .properties
            .iter()
            .filter(|(k, _)| k == EVIDENCE_PROPERTY)
        {
            for p in v.split(',').map(str::trim).filter(|p| !p.is_empty()) {
                if !all_paths.contains(p) {
                    problem(
                        &mut problems,
                        &case.source_file,
                        format!(
                            "case {:?} names evidence {p:?}, which is not in the run folder",
                            case.id
                        ),
                    );
                }
            }
        }
    }
    let catalogue = manifest.as_ref().map_or(&[][..], |m| &m.requirements[..]);
    let traceability = trace(&cases, catalogue, &evidence);

    let totals = Totals::of(&cases);
    let status = if totals.failed + totals.errored > 0 {
        RunStatus::Failed
    } else if !problems.is_empty() {
        RunStatus::Incomplete
    } else {
        RunStatus::Passed
    };
    Run {
        key,
        manifest,
        status,
        totals,
        cases,
        files,
        suites,
        problems,
        attachments,
        traceability,
    }
}

fn check_declared_digests(
    m: &RunManifest,
    inputs: &[RunInput<'_>],
    by_path: &HashMap<&str, usize>,
    files: &mut [RunFile],
    unusable: &mut [bool],
    problems: &mut Vec<FileProblem>,
) {
    for (declared_path, declared) in &m.files {
        let mut report = |message: String| {
            problems.push(FileProblem {
                path: MANIFEST_PATH.to_owned(),
                message,
            })
        };
        if let Err(e) = check_relative_key(declared_path) {
            report(format!("declares a file with an unusable path: {e}"));
            continue;
        }
        if declared_path == MANIFEST_PATH {
            report(
                "declares a digest for run.json itself, which cannot be checked; remove that entry"
                    .to_owned(),
            );
            continue;
        }
        let Some(&i) = by_path.get(declared_path.as_str()) else {
            report(format!(
                "declares {declared_path:?} (sha256 {}), which is not in the run folder",
                declared.sha256
            ));
            continue;
        };
        let actual = files[i]
            .sha256
            .or_else(|| inputs[i].content.map(Sha256::of));
        let Some(actual) = actual else { continue };
        if actual != declared.sha256 && !matches!(files[i].integrity, Integrity::Rejected { .. }) {
            let reason = format!(
                "sha256 {actual} does not match {} declared in run.json",
                declared.sha256
            );
            problems.push(FileProblem {
                path: declared_path.clone(),
                message: format!("{reason}; its content is not used"),
            });
            files[i].integrity = Integrity::Rejected { reason };
            unusable[i] = true;
        }
    }
}

/// Adds ids from the manifest mapping (by case id, name, `classname::name` or
/// `classname.name`) and, if enabled, from case names.
fn add_requirements(
    cases: &mut [TestCase],
    manifest: Option<&RunManifest>,
    options: &ParseOptions,
) {
    let mapping = manifest.map(|m| &m.mapping).filter(|m| !m.is_empty());
    for case in cases.iter_mut() {
        if let Some(mapping) = mapping {
            let keys = [
                case.id.clone(),
                case.name.clone(),
                format!("{}::{}", case.group, case.name),
                format!("{}.{}", case.group, case.name),
            ];
            for k in &keys {
                if let Some(ids) = mapping.get(k) {
                    extend_unique(&mut case.requirements, ids.clone());
                }
            }
        }
        if options.ids_from_case_names {
            let found = options.requirement_pattern.find_all(&case.name);
            extend_unique(&mut case.requirements, found);
        }
    }
}

fn has_extension(path: &str, ext: &str) -> bool {
    path.len() >= ext.len()
        && path
            .get(path.len() - ext.len()..)
            .is_some_and(|e| e.eq_ignore_ascii_case(ext))
}

/// Whether a file would be parsed for results (`*.xml`, `*.json`, `run.json`).
pub fn may_hold_results(path: &str) -> bool {
    has_extension(path, ".xml") || has_extension(path, ".json")
}

/// Gives repeated ids a `#2`, `#3`, … suffix (skipping suffixes that are already ids).
fn make_ids_unique(cases: &mut [TestCase]) {
    let mut taken: HashSet<String> = HashSet::with_capacity(cases.len());
    let mut repeats: Vec<usize> = Vec::new();
    for (i, c) in cases.iter().enumerate() {
        if !taken.insert(c.id.clone()) {
            repeats.push(i);
        }
    }
    let mut next_suffix: HashMap<String, u64> = HashMap::new();
    for i in repeats {
        let base = cases[i].id.clone();
        let n = next_suffix.entry(base.clone()).or_insert(2);
        loop {
            let candidate = format!("{base}#{n}");
            *n += 1;
            if taken.insert(candidate.clone()) {
                cases[i].id = candidate;
                break;
            }
        }
    }
}
