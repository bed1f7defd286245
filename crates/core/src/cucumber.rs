//! Cucumber JSON result files (cucumber-js `--format json`, cucumber-jvm, cucumber-ruby).
//!
//! Each scenario (every example row of an outline is its own element already) becomes a case.
//! Background elements (`"type": "background"`, written by cucumber-jvm and -ruby) are merged
//! into the scenario that follows them. Tags matching the requirement pattern become
//! requirement ids; other tags are kept as `tag` properties. Embedded attachments are returned
//! for the caller to store.

use serde::Deserialize;
use serde_json::Value;

use crate::model::{CaseStatus, TestCase};
use crate::report_error::{utf8, ReportError};
use crate::requirement::RequirementPattern;

/// What a `.json` file turned out to be.
#[derive(Debug, Clone, PartialEq)]
pub enum CucumberOutcome {
    /// A Cucumber report.
    Report(CucumberReport),
    /// Well-formed JSON that is not a Cucumber report: the caller keeps it as evidence.
    NotCucumber,
}

/// The scenarios of one Cucumber JSON file.
#[derive(Debug, Clone, PartialEq)]
pub struct CucumberReport {
    /// One case per scenario, in file order. Ids are `<path>#<feature>::<scenario>`; outline
    /// rows share a name and are made unique by the run assembly.
    pub cases: Vec<TestCase>,
    /// Decoded embeddings, each tied to a case by its index in `cases`.
    pub embeddings: Vec<Embedding>,
    /// What the file says that its results cannot stand behind (a scenario without steps, an
    /// attachment that cannot be decoded): problems of the run, never a clean pass.
    pub problems: Vec<String>,
}

/// One decoded embedding (screenshot, log, …) of a scenario.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Embedding {
    /// Index of the owning case in [`CucumberReport::cases`].
    pub case_index: usize,
    pub name: String,
    pub mime_type: String,
    pub bytes: Vec<u8>,
}

#[derive(Deserialize)]
struct Feature {
    #[serde(default)]
    name: String,
    #[serde(default)]
    tags: Vec<Tag>,
    #[serde(default)]
    elements: Vec<Element>,
}

#[derive(Deserialize)]
struct Element {
    #[serde(default)]
    name: String,
    #[serde(default, rename = "type")]
    kind: String,
    #[serde(default)]
    tags: Vec<Tag>,
    #[serde(default)]
    before: Vec<Step>,
    #[serde(default)]
    steps: Vec<Step>,
    #[serde(default)]
    after: Vec<Step>,
}

#[derive(Deserialize)]
struct Tag {
    name: String,
}

#[derive(Deserialize, Default)]
struct Step {
    #[serde(default)]
    keyword: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    result: Option<StepResult>,
    #[serde(default)]
    embeddings: Vec<RawEmbedding>,
}

#[derive(Deserialize, Default)]
struct StepResult {
    #[serde(default)]
    status: String,
    /// Nanoseconds.
    #[serde(default)]
    duration: Option<f64>,
    #[serde(default)]
    error_message: Option<String>,
}

#[derive(Deserialize)]
struct RawEmbedding {
    data: String,
    #[serde(default, alias = "media_type")]
    mime_type: Option<String>,
    #[serde(default)]
    media: Option<Media>,
    #[serde(default)]
    name: Option<String>,
}

#[derive(Deserialize)]
struct Media {
    #[serde(rename = "type")]
    kind: String,
}

/// Parses one Cucumber JSON file. `path` is the run-relative path used in ids and errors.
pub fn parse_cucumber(
    path: &str,
    bytes: &[u8],
    pattern: &RequirementPattern,
) -> Result<CucumberOutcome, ReportError> {
    let text = utf8(path, bytes)?;
    if text.trim().is_empty() {
        return Err(ReportError::whole(path, "the file is empty; expected JSON"));
    }
    let value: Value = serde_json::from_str(text).map_err(|e| json_error(path, &e))?;
    if !looks_like_cucumber(&value) {
        return Ok(CucumberOutcome::NotCucumber);
    }
    // Parsed again from text so that shape errors carry a line and column.
    let features: Vec<Feature> = serde_json::from_str(text).map_err(|e| {
        let mut err = json_error(path, &e);
        err.message = format!("looks like a Cucumber report but {}", err.message);
        err
    })?;
    let mut report = CucumberReport {
        cases: Vec::new(),
        embeddings: Vec::new(),
        problems: Vec::new(),
    };
    for feature in features {
        let mut background: Vec<Step> = Vec::new();
        for element in feature.elements {
            if element.kind == "background" {
                background = element.steps;
                continue;
            }
            let bg = std::mem::take(&mut background);
            push_scenario(
                path,
                &feature.name,
                &feature.tags,
                element,
                bg,
                pattern,
                &mut report,
            );
        }
    }
    Ok(CucumberOutcome::Report(report))
}

/// An array of objects that each look like a feature (`elements`, or `keyword` + `uri`).
fn looks_like_cucumber(v: &Value) -> bool {
    let Some(items) = v.as_array() else {
        return false;
    };
    items.iter().all(|f| {
        f.as_object().is_some_and(|o| {
            o.get("elements").is_some_and(Value::is_array)
                || (o.contains_key("keyword") && o.contains_key("uri"))
        })
    })
}

fn json_error(path: &str, e: &serde_json::Error) -> ReportError {
    ReportError::from_json(path, e)
}

fn push_scenario(
    path: &str,
    feature: &str,
    feature_tags: &[Tag],
    element: Element,
    background: Vec<Step>,
    pattern: &RequirementPattern,
    report: &mut CucumberReport,
) {
    let case_index = report.cases.len();
    let mut requirements: Vec<String> = Vec::new();
    let mut properties: Vec<(String, String)> = Vec::new();
    for tag in feature_tags.iter().chain(&element.tags) {
        let bare = tag.name.strip_prefix('@').unwrap_or(&tag.name);
        if pattern.is_id(bare) {
            if !requirements.iter().any(|r| r == bare) {
                requirements.push(bare.to_owned());
            }
        } else if !properties.iter().any(|(_, v)| v == &tag.name) {
            properties.push(("tag".to_owned(), tag.name.clone()));
        }
    }

    let steps: Vec<Step> = element
        .before
        .into_iter()
        .chain(background)
        .chain(element.steps)
        .chain(element.after)
        .collect();
    let mut worst: Option<(CaseStatus, usize)> = None;
    let mut all_skipped = !steps.is_empty();
    let mut any_skipped = false;
    let mut nanos = 0.0_f64;
    let mut timed = false;
    for (i, step) in steps.iter().enumerate() {
        let result = step.result.as_ref();
        let status = result.map_or("", |r| r.status.as_str());
        if let Some(d) = result
            .and_then(|r| r.duration)
            .filter(|d| d.is_finite() && *d >= 0.0)
        {
            nanos += d;
            timed = true;
        }
        let s = match status {
            "passed" => None,
            "skipped" => {
                any_skipped = true;
                None
            }
            "failed" => Some(CaseStatus::Failed),
            // undefined, pending, ambiguous, missing or unknown: the check was not completed.
            _ => Some(CaseStatus::Errored),
        };
        if status != "skipped" {
            all_skipped = false;
        }
        if let Some(s) = s {
            if worst.is_none_or(|(w, _)| s.review_rank() < w.review_rank()) {
                worst = Some((s, i));
            }
        }
        for (idx, raw) in step.embeddings.iter().enumerate() {
            let n = report.embeddings.len() + idx;
            match embedding(raw, &element.name, case_index, n) {
                Some(e) => report.embeddings.push(e),
                None => report.problems.push(format!(
                    "scenario {:?}: attachment {} of step {:?} is not valid base64, so it was not \
                     kept; the evidence it carried is missing",
                    element.name,
                    idx + 1,
                    format!("{}{}", step.keyword, step.name).trim()
                )),
            }
        }
    }
    // A skipped step means the scenario did not verify all it claims: it is not a pass. Nor is
    // a scenario without a single step: nothing was checked.
    let status = match worst {
        Some((s, _)) => s,
        None if all_skipped || any_skipped || steps.is_empty() => CaseStatus::Skipped,
        None => CaseStatus::Passed,
    };
    let (message, detail) = match worst {
        Some((_, i)) => describe(&steps[i]),
        None if steps.is_empty() => {
            report.problems.push(format!(
                "scenario {:?} of feature {feature:?} has no steps: nothing was run, so it is \
                 counted as skipped, not passed",
                element.name
            ));
            (Some("no steps: nothing was run".to_owned()), None)
        }
        None => (None, None),
    };
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let duration_ms = timed.then(|| (nanos / 1_000_000.0).round().min(1.0e15) as u64);
    report.cases.push(TestCase {
        id: format!("{path}#{feature}::{}", element.name),
        name: element.name,
        group: feature.to_owned(),
        status,
        duration_ms,
        message,
        detail,
        stdout: None,
        stderr: None,
        requirements,
        properties,
        source_file: path.to_owned(),
    });
}

fn describe(step: &Step) -> (Option<String>, Option<String>) {
    let status = step
        .result
        .as_ref()
        .map_or("missing", |r| r.status.as_str());
    let status = if status.is_empty() { "missing" } else { status };
    let step_line = format!("{}{}", step.keyword, step.name).trim().to_owned();
    match step
        .result
        .as_ref()
        .and_then(|r| r.error_message.as_deref())
        .filter(|m| !m.trim().is_empty())
    {
        Some(msg) => {
            let first = msg
                .lines()
                .find(|l| !l.trim().is_empty())
                .unwrap_or("")
                .trim()
                .to_owned();
            (
                Some(first),
                Some(format!("{msg}\n\nStep ({status}): {step_line}")),
            )
        }
        None => (
            Some(format!("{status} step: {step_line}")),
            Some(format!("Step ({status}): {step_line}")),
        ),
    }
}

fn embedding(raw: &RawEmbedding, scenario: &str, case_index: usize, n: usize) -> Option<Embedding> {
    let mime_type = raw
        .mime_type
        .clone()
        .or_else(|| raw.media.as_ref().map(|m| m.kind.clone()))
        .unwrap_or_else(|| "application/octet-stream".to_owned());
    let bytes = decode_base64(&raw.data)?;
    let name = raw
        .name
        .clone()
        .unwrap_or_else(|| format!("{scenario} attachment {}", n + 1));
    Some(Embedding {
        case_index,
        name,
        mime_type,
        bytes,
    })
}

/// Standard base64 (RFC 4648), padding optional, whitespace ignored. `None` when invalid.
pub fn decode_base64(s: &str) -> Option<Vec<u8>> {
    crate::text_encoding::decode_base64_lenient(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: &str) -> CucumberReport {
        match parse_cucumber("c.json", json.as_bytes(), &RequirementPattern::default()).unwrap() {
            CucumberOutcome::Report(r) => r,
            CucumberOutcome::NotCucumber => panic!("not cucumber"),
        }
    }

    fn step(status: &str) -> String {
        format!(
            r#"{{"keyword":"Then ","name":"x is {status}","result":{{"status":"{status}","duration":2000000}}}}"#
        )
    }

    fn scenario(steps: &[&str]) -> CaseStatus {
        let steps: Vec<String> = steps.iter().map(|s| step(s)).collect();
        let json = format!(
            r#"[{{"name":"F","elements":[{{"name":"S","type":"scenario","steps":[{}]}}]}}]"#,
            steps.join(",")
        );
        parse(&json).cases[0].status
    }

    #[test]
    fn scenario_status_rules() {
        assert_eq!(scenario(&["passed", "passed"]), CaseStatus::Passed);
        assert_eq!(
            scenario(&["passed", "failed", "skipped"]),
            CaseStatus::Failed
        );
        assert_eq!(
            scenario(&["passed", "undefined", "skipped"]),
            CaseStatus::Errored
        );
        assert_eq!(scenario(&["pending"]), CaseStatus::Errored);
        assert_eq!(scenario(&["ambiguous"]), CaseStatus::Errored);
        assert_eq!(scenario(&["undefined", "failed"]), CaseStatus::Failed);
        assert_eq!(scenario(&["skipped", "skipped"]), CaseStatus::Skipped);
        assert_eq!(scenario(&["passed", "skipped"]), CaseStatus::Skipped);
    }

    #[test]
    fn background_merges_tags_and_messages() {
        let r = parse(
            r#"[{"name":"Login","tags":[{"name":"@URS-LIMS-001"}],"elements":[
              {"type":"background","name":"","steps":[{"keyword":"Given ","name":"a user","result":{"status":"failed","error_message":"no user\n  at step.js:3"}}]},
              {"type":"scenario","name":"Log in","tags":[{"name":"@smoke"},{"name":"@REQ-12"}],
               "steps":[{"keyword":"When ","name":"I log in","result":{"status":"skipped"},
                 "embeddings":[{"data":"aGVsbG8=","mime_type":"text/plain"}]}]},
              {"type":"scenario","name":"Log out","steps":[{"keyword":"When ","name":"I log out","result":{"status":"passed","duration":1500000}}]}
            ]}]"#,
        );
        let first = &r.cases[0];
        assert_eq!(first.status, CaseStatus::Failed);
        assert_eq!(first.message.as_deref(), Some("no user"));
        assert_eq!(
            first.detail.as_deref(),
            Some("no user\n  at step.js:3\n\nStep (failed): Given a user")
        );
        assert_eq!(first.requirements, vec!["URS-LIMS-001", "REQ-12"]);
        assert_eq!(
            first.properties,
            vec![("tag".to_owned(), "@smoke".to_owned())]
        );
        assert_eq!(first.id, "c.json#Login::Log in");
        assert_eq!(first.group, "Login");
        // The background applies to the next scenario only.
        assert_eq!(r.cases[1].status, CaseStatus::Passed);
        assert_eq!(r.cases[1].duration_ms, Some(2));
        assert_eq!(r.embeddings.len(), 1);
        assert_eq!(r.embeddings[0].bytes, b"hello");
        assert_eq!(r.embeddings[0].case_index, 0);
        assert_eq!(r.embeddings[0].mime_type, "text/plain");
    }

    #[test]
    fn a_scenario_without_steps_is_a_problem_not_a_pass() {
        let r = parse(r#"[{"name":"F","elements":[{"name":"S","type":"scenario","steps":[]}]}]"#);
        assert_eq!(r.cases[0].status, CaseStatus::Skipped);
        assert_eq!(r.problems.len(), 1, "{:?}", r.problems);
        assert!(r.problems[0].contains("\"S\" of feature \"F\" has no steps"));
        // Hooks alone are steps that ran.
        let r = parse(
            r#"[{"name":"F","elements":[{"name":"S","steps":[],
                 "before":[{"keyword":"Before","result":{"status":"passed"}}]}]}]"#,
        );
        assert_eq!(r.cases[0].status, CaseStatus::Passed);
        assert!(r.problems.is_empty());
    }

    #[test]
    fn an_attachment_that_is_not_base64_is_a_problem() {
        let r = parse(
            r#"[{"name":"F","elements":[{"name":"S","steps":[{"keyword":"Then ","name":"shot",
                 "result":{"status":"passed"},
                 "embeddings":[{"data":"aGVsbG8=","mime_type":"text/plain"},
                               {"data":"not*base64","mime_type":"image/png"}]}]}]}]"#,
        );
        assert_eq!(r.embeddings.len(), 1);
        assert_eq!(r.problems.len(), 1, "{:?}", r.problems);
        assert!(
            r.problems[0].contains("attachment 2 of step \"Then shot\" is not valid base64"),
            "{}",
            r.problems[0]
        );
    }

    #[test]
    fn undefined_step_message_names_the_step() {
        let r = parse(&format!(
            r#"[{{"name":"F","elements":[{{"name":"S","steps":[{}]}}]}}]"#,
            step("undefined")
        ));
        assert_eq!(
            r.cases[0].message.as_deref(),
            Some("undefined step: Then x is undefined")
        );
    }

    #[test]
    fn not_cucumber_and_bad_json() {
        let p = RequirementPattern::default();
        assert_eq!(
            parse_cucumber("o.json", br#"{"Outputs":[]}"#, &p).unwrap(),
            CucumberOutcome::NotCucumber
        );
        assert_eq!(
            parse_cucumber("o.json", br#"[1,2]"#, &p).unwrap(),
            CucumberOutcome::NotCucumber
        );
        let e = parse_cucumber("c.json", b"[\n  {\"elements\": [}\n]", &p).unwrap_err();
        assert_eq!(e.line, Some(2));
        assert!(e.to_string().starts_with("c.json:2:"), "{e}");
        let e = parse_cucumber("c.json", b"[{\"elements\": [{\"steps\": 7}]}]", &p).unwrap_err();
        assert!(e.message.contains("looks like a Cucumber report"), "{e}");
        assert_eq!(e.line, Some(1));
        assert!(parse_cucumber("e.json", b"", &p)
            .unwrap_err()
            .message
            .contains("empty"));
    }

    #[test]
    fn base64_round_trips_known_values() {
        assert_eq!(decode_base64("").unwrap(), b"");
        assert_eq!(decode_base64("Zg==").unwrap(), b"f");
        assert_eq!(decode_base64("Zm9vYmFy").unwrap(), b"foobar");
        assert_eq!(decode_base64("Zm9v\nYmE=").unwrap(), b"fooba");
        assert!(decode_base64("Zm9v*").is_none());
        assert!(decode_base64("Zg==Zg").is_none());
    }
}
