//! Reading runs back out of the store: `runs`, `show`, and opening one file.
//!
//! Every byte shown is re-read from the store and re-hashed; a changed byte turns into an
//! integrity state on the file (and a problem on the run), never into content on screen.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};

use countersign_core::digest::Sha256;
use countersign_core::layout::{self, KeyKind};
use countersign_core::lifecycle::RunState;
use countersign_core::model::{
    FileRole, Integrity, ObjectOrigin, RunFile, RunKey, RunStatus, Totals,
};
use countersign_core::run::{assemble, ParseOptions, Run, RunInput};
use countersign_core::run_record::{RecordFile, RunRecord};
use countersign_core::run_summary::{inputs_digest, RunSummaryRecord};
use countersign_core::signature::predicate::Meaning;
use countersign_core::stack_snapshot::StackSnapshotRef;
use countersign_ledger::{Actor, NewEvent};
use countersign_store::StoreError;
use serde::Serialize;

use crate::disposition::{record_digest, record_dispositions, record_files, record_v2};
use crate::error::{self as err, ServiceError};
use crate::Service;

/// One line of `countersign runs`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunSummary {
    /// `SYSTEM/PHASE/RUN-ID`.
    pub id: String,
    pub key: RunKey,
    pub status: RunStatus,
    pub totals: Totals,
    pub executed_at: Option<String>,
    pub protocol: Option<String>,
    pub stack: Option<String>,
    pub files: usize,
    pub problems: usize,
    /// Where the run stands (docs/policy.md "States"), from the signatures recorded on it and
    /// whether dispositions were recorded; `show` and signing verify each signature.
    pub state: RunState,
    /// The act that brought it there: meaning, who and when (none while nothing is signed).
    pub state_act: Option<StateAct>,
    /// Whether the signatures the state rests on verify now: a state is only as good as
    /// they are, and no face shows a signed state as settled unless they do.
    pub state_check: StateCheck,
    /// An object of the run was recorded by the last sync (or since): docs/cli.md `runs`.
    pub new_since_sync: bool,
}

/// Whether the signatures of a run's current cycle verify against its record now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum StateCheck {
    /// Nothing is signed in the current cycle: the state rests on no signature.
    Unsigned,
    /// Every signature of the current cycle verifies against the record as it stands now,
    /// under a known, unrevoked key.
    Verified,
    /// One does not; `detail` says which and why. The state is what was recorded, not what
    /// the signatures prove: the record changed, a key was revoked, or an envelope is broken.
    NotVerified { detail: String },
}

impl StateCheck {
    /// True when the state rests on signatures that do not verify now.
    pub fn is_not_verified(&self) -> bool {
        matches!(self, StateCheck::NotVerified { .. })
    }
}

/// The signed act behind a run's state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StateAct {
    /// Reviewed, Approved, Rejected, Reopened, Authored.
    pub meaning: Meaning,
    /// The signer's printed name.
    pub printed_name: String,
    /// The signer's local time (`YYYY-MM-DD HH:MM:SS ±HH:MM`), or UTC when unreadable.
    pub at: String,
}

/// One run in full (`countersign show`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunView {
    pub summary: RunSummary,
    pub run: Run,
    /// The latest snapshot of the stack this run qualifies (re-verified), if one was taken.
    pub stack_snapshot: Option<StackSnapshotRef>,
}

/// A stored file, re-verified, ready to show.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FileContent {
    pub path: String,
    pub uri: String,
    pub sha256: Option<Sha256>,
    pub size: u64,
    pub integrity: Integrity,
    pub media_type: String,
    /// UTF-8 content (text, JSON, XML, logs).
    pub text: Option<String>,
    /// Base64 content for images.
    pub base64: Option<String>,
}

/// The files a run's record names, or why they cannot be relied on (some failed their
/// integrity check).
type RecordFiles = Result<Vec<RecordFile>, String>;

/// A run as parsed, by its key: given when a state check needs the run data.
type ReadRun<'a> = dyn Fn(&RunKey) -> Option<std::borrow::Cow<'a, Run>> + 'a;

/// A run's stored files, as the ledger knows them.
struct RunFiles {
    key: RunKey,
    files: Vec<RunFile>,
}

impl Service {
    /// Every run in the store, sorted by system, phase, run id.
    ///
    /// A run's line comes from its summary in the audit trail while the run's files are exactly
    /// those it was derived from and the files it was read from still hash to their digests;
    /// otherwise the run is derived again (and the new summary recorded, when the ledger can
    /// be written). So listing a thousand runs does not parse a thousand reports.
    pub fn runs(&self) -> Result<Vec<RunSummary>, ServiceError> {
        let groups = self.run_files()?;
        let mut out = Vec::with_capacity(groups.len());
        let mut derived = Vec::new();
        let mut files = HashMap::with_capacity(groups.len());
        // Each run's stored files, kept for a signed run whose record binds its run data: the
        // state check reads such a run again (below), without listing the files a second time.
        let mut stored: HashMap<RunKey, RunFiles> = HashMap::with_capacity(groups.len());
        // Every run's latest summary in one read, not one query per run.
        let mut summaries = self.latest_summaries()?;
        for g in groups.into_values() {
            files.insert(g.key.to_string(), Ok(record_files(&g.files)));
            let inputs = inputs_digest(&g.key, &g.files);
            let latest = summaries.remove(&g.key.to_string());
            if let Some(rec) = summary_of(latest, &g.key, inputs) {
                if self.sources_intact(&g, &rec) {
                    out.push(from_record(g.key.clone(), &rec));
                    stored.insert(g.key.clone(), g);
                    continue;
                }
            }
            stored.insert(
                g.key.clone(),
                RunFiles {
                    key: g.key.clone(),
                    files: g.files.clone(),
                },
            );
            let run = self.assemble(g, false);
            if run.files.iter().all(|f| {
                matches!(
                    f.integrity,
                    Integrity::Verified | Integrity::Recorded | Integrity::Rejected { .. }
                )
            }) {
                derived.push(RunSummaryRecord::of(&run, inputs));
            }
            out.push(summary(&run));
        }
        self.record_summaries(&derived);
        let stored = std::cell::RefCell::new(stored);
        let read = |key: &RunKey| {
            let g = stored.borrow_mut().remove(key)?;
            Some(std::borrow::Cow::Owned(self.assemble(g, false)))
        };
        self.attach_states(&mut out, &files, &read)?;
        let fresh = self.new_since_last_sync()?;
        for r in &mut out {
            r.new_since_sync = fresh.contains(&r.id);
        }
        Ok(out)
    }

    /// Sets each run's state from the signatures recorded on runs (one query) and, where no
    /// signature decides it, whether any disposition was recorded; then checks the signatures
    /// of each signed run's current cycle against its record built from `files` (per run id)
    /// and its current dispositions, as signing and `show` verify them.
    /// `read` gives a run as parsed, for a cycle signed on a record that binds its run data.
    fn attach_states(
        &self,
        runs: &mut [RunSummary],
        files: &HashMap<String, RecordFiles>,
        read: &ReadRun<'_>,
    ) -> Result<(), ServiceError> {
        let mut by_run: BTreeMap<String, Vec<countersign_ledger::SignatureRecord>> =
            BTreeMap::new();
        // The ledger's guard is released before dispositions are read below.
        let rows = {
            let ledger = self.ledger()?;
            match runs {
                [one] => ledger.signatures_of(crate::signing::RUN_SUBJECT, &one.id),
                _ => ledger.signatures_of_kind(crate::signing::RUN_SUBJECT),
            }
            .map_err(err::from_ledger)?
        };
        for r in rows {
            by_run.entry(r.subject_id.clone()).or_default().push(r);
        }
        let mut checking = None;
        for run in runs.iter_mut() {
            let rows = by_run.remove(&run.id).unwrap_or_default();
            let meanings: Vec<Meaning> = rows.iter().map(|r| r.meaning).collect();
            let dispositions = match RunState::of_meanings(&meanings, false) {
                RunState::Collected => !self.current_dispositions(&run.id)?.is_empty(),
                _ => false,
            };
            run.state = RunState::of_meanings(&meanings, dispositions);
            run.state_act = rows.last().map(|r| StateAct {
                meaning: r.meaning,
                printed_name: r.printed_name.clone(),
                at: crate::signing::view::local_time(&r.signed_at, &r.utc_offset)
                    .unwrap_or_else(|| r.signed_at.clone()),
            });
            run.state_check = if rows.is_empty() {
                StateCheck::Unsigned
            } else {
                // The registry and hand-off sources are read once, for the first signed run.
                let (registry, handoff_keys) = match checking.take() {
                    Some(c) => c,
                    None => (self.key_registry()?, self.handoff_key_sources()?),
                };
                let check = self.state_check(run, rows, files, read, &registry, &handoff_keys)?;
                checking = Some((registry, handoff_keys));
                check
            };
        }
        Ok(())
    }

    /// [`StateCheck`] of one signed run whose signatures are `rows`.
    fn state_check(
        &self,
        run: &RunSummary,
        rows: Vec<countersign_ledger::SignatureRecord>,
        files: &HashMap<String, RecordFiles>,
        read: &ReadRun<'_>,
        registry: &countersign_core::signature::verify::KeyRegistry,
        handoff_keys: &BTreeMap<countersign_core::signature::key_id::KeyId, String>,
    ) -> Result<StateCheck, ServiceError> {
        let files = match files.get(&run.id) {
            Some(Ok(files)) => files.clone(),
            Some(Err(broken)) => {
                return Ok(StateCheck::NotVerified {
                    detail: broken.clone(),
                })
            }
            None => Vec::new(),
        };
        let dispositions = record_dispositions(self.current_dispositions(&run.id)?);
        let v1 = RunRecord::new(&run.key, files.clone(), dispositions.clone());
        let v1 = record_digest(&v1)?;
        // A cycle begun on a version 1 record is checked against it from the files alone; a
        // version 2 record binds the run data, which means reading the run.
        let digest = if crate::signing::view::cycle_began_on(&rows, v1) {
            v1
        } else {
            let Some(parsed) = read(&run.key) else {
                return Ok(StateCheck::NotVerified {
                    detail: format!("the files of run {} could not be read", run.id),
                });
            };
            record_digest(&record_v2(&parsed, files, dispositions)?.0)?
        };
        let name = RunRecord::subject_name(&run.key);
        let views = crate::signing::view::record_signature_views(
            rows,
            &name,
            digest,
            registry,
            handoff_keys,
        );
        Ok(
            match crate::signing::view::current_cycle(&views)
                .iter()
                .find(|v| !v.valid)
            {
                Some(v) => StateCheck::NotVerified {
                    detail: format!(
                        "the {} signature by {} does not verify: {}",
                        v.meaning, v.printed_name, v.outcome_detail
                    ),
                },
                None => StateCheck::Verified,
            },
        )
    }

    /// The newest summary recorded for `run`, if it was derived from exactly `inputs`.
    fn recorded_summary(
        &self,
        run: &RunKey,
        inputs: Sha256,
    ) -> Result<Option<RunSummaryRecord>, ServiceError> {
        let event = self
            .ledger()?
            .latest_event_about("run", &run.to_string(), RUN_SUMMARIZED)
            .map_err(err::from_ledger)?;
        Ok(summary_of(event, run, inputs))
    }

    /// The latest summary event of every run, by run key.
    fn latest_summaries(
        &self,
    ) -> Result<HashMap<String, countersign_ledger::EventRecord>, ServiceError> {
        let mut latest = HashMap::new();
        let filter = countersign_ledger::EventFilter {
            object_kind: Some("run".into()),
            action: Some(RUN_SUMMARIZED.into()),
            ..countersign_ledger::EventFilter::default()
        };
        self.ledger()?
            .for_each_event(&filter, |e| {
                // In sequence order: a later summary of a run replaces the earlier one.
                latest.insert(e.event.object_id.clone(), e);
                Ok(true)
            })
            .map_err(err::from_ledger)?;
        Ok(latest)
    }

    /// Whether every file a summary was read from is still in the run and hashes to its digest
    /// (re-hashed, streaming; nothing is parsed).
    fn sources_intact(&self, g: &RunFiles, rec: &RunSummaryRecord) -> bool {
        rec.sources.iter().all(|path| {
            g.files
                .iter()
                .find(|f| &f.path == path)
                .and_then(|f| f.sha256)
                .is_some_and(|sha| self.store().verify(&sha).is_ok())
        })
    }

    /// Records derived summaries (`run.summarized`, by the system) in one transaction. A
    /// summary is a shortcut, never needed: when the ledger cannot be written (a read-only
    /// copy), nothing is recorded and the next listing derives the runs again.
    fn record_summaries(&self, summaries: &[RunSummaryRecord]) {
        let events: Vec<NewEvent> = summaries
            .iter()
            .filter_map(|s| {
                let json = String::from_utf8(s.to_json().ok()?).ok()?;
                Some(
                    NewEvent::new(&Actor::system(), RUN_SUMMARIZED, "run", s.run.clone())
                        .after(json),
                )
            })
            .collect();
        if events.is_empty() {
            return;
        }
        if let Ok(mut ledger) = self.ledger() {
            let _ = ledger.append_batch(&events);
        }
    }

    /// One run in full; `run` is `SYSTEM/PHASE/RUN-ID` or an unambiguous `RUN-ID`.
    pub fn show(&self, run: &str) -> Result<RunView, ServiceError> {
        let mut groups = self.run_files()?;
        let key = resolve(&groups, run)?;
        let g = groups
            .remove(&key)
            .ok_or_else(|| ServiceError::not_found(format!("no run {run}")))?;
        let inputs = inputs_digest(&g.key, &g.files);
        let mut run = self.assemble(g, true);
        let intact = run.files.iter().all(|f| {
            matches!(
                f.integrity,
                Integrity::Verified | Integrity::Rejected { .. }
            )
        });
        if let (true, Some(rec)) = (intact, self.recorded_summary(&run.key, inputs)?) {
            let now = RunSummaryRecord::of(&run, inputs);
            if !rec.agrees_with(&now) {
                run.add_problem(
                    "",
                    format!(
                        "the run list's summary in the audit trail ({}, {} of {} passed, {} problem(s)) differs from the run as derived from its files now ({}, {} of {} passed, {} problem(s)); what is shown here is derived now",
                        rec.status.as_str(),
                        rec.totals.passed,
                        rec.totals.tests,
                        rec.problems,
                        now.status.as_str(),
                        now.totals.passed,
                        now.totals.tests,
                        now.problems,
                    ),
                );
            }
        }
        let mut summaries = [summary(&run)];
        let changed: Vec<&str> = run
            .files
            .iter()
            .filter(|f| matches!(f.integrity, Integrity::Changed { .. } | Integrity::Missing))
            .map(|f| f.path.as_str())
            .collect();
        let record = if changed.is_empty() {
            Ok(record_files(&run.files))
        } else {
            Err(format!(
                "files failed their integrity check ({}): the signatures cannot be verified against them",
                changed.join(", ")
            ))
        };
        let files = HashMap::from([(summaries[0].id.clone(), record)]);
        let read = |_: &RunKey| Some(std::borrow::Cow::Borrowed(&run));
        self.attach_states(&mut summaries, &files, &read)?;
        let [mut summary] = summaries;
        summary.new_since_sync = self.new_since_last_sync()?.contains(&summary.id);
        Ok(RunView {
            summary,
            stack_snapshot: self.latest_stack_snapshot(&run.key)?,
            run,
        })
    }

    /// Re-reads one file of a run from the store, re-verifying its digest.
    pub fn open_file(&self, run: &str, path: &str) -> Result<FileContent, ServiceError> {
        let mut groups = self.run_files()?;
        let key = resolve(&groups, run)?;
        let g = groups
            .remove(&key)
            .ok_or_else(|| ServiceError::not_found(format!("no run {run}")))?;
        let file = g
            .files
            .into_iter()
            .find(|f| f.path == path)
            .ok_or_else(|| ServiceError::not_found(format!("run {key} has no file {path:?}")))?;
        let media_type = media_type(path).to_owned();
        let mut content = FileContent {
            path: file.path.clone(),
            uri: file.origin.uri.clone(),
            sha256: file.sha256,
            size: file.size,
            integrity: file.integrity.clone(),
            media_type: media_type.clone(),
            text: None,
            base64: None,
        };
        let Some(sha) = file.sha256 else {
            return Ok(content);
        };
        if matches!(file.integrity, Integrity::Rejected { .. }) {
            return Ok(content);
        }
        match self.store().read(&sha) {
            Ok(bytes) => {
                content.integrity = Integrity::Verified;
                if media_type.starts_with("image/") {
                    content.base64 = Some(base64(&bytes));
                } else {
                    content.text = Some(String::from_utf8_lossy(&bytes).into_owned());
                }
                Ok(content)
            }
            Err(StoreError::Changed { actual, .. }) => {
                content.integrity = Integrity::Changed { actual };
                Ok(content)
            }
            Err(StoreError::Missing { .. }) => {
                content.integrity = Integrity::Missing;
                Ok(content)
            }
            Err(e) => Err(err::from_store(e)),
        }
    }

    /// Groups the ledger's objects and rejections into runs.
    fn run_files(&self) -> Result<BTreeMap<RunKey, RunFiles>, ServiceError> {
        // Newest record per (run, path) wins: a re-uploaded object supersedes the old version,
        // which stays in the store and the ledger.
        let mut latest: HashMap<RunKey, HashMap<String, RunFile>> = HashMap::new();
        let mut places = RunPlaces::default();
        let ledger = self.ledger()?;
        let rejections = ledger.rejections().map_err(err::from_ledger)?;
        // Grouped as they are read, never all held at once (nothing here takes the ledger).
        ledger
            .for_each_object_source(|o| {
                let Some(key) = o.key.as_deref() else {
                    return;
                };
                let Some((run, path)) = places.of(key) else {
                    return;
                };
                let file = RunFile {
                    path: path.clone(),
                    role: FileRole::Evidence,
                    sha256: Some(o.sha256),
                    size: o.size,
                    origin: ObjectOrigin {
                        uri: o.uri,
                        version_id: o.version_id,
                        etag: o.etag,
                        last_modified: o.last_modified,
                    },
                    integrity: Integrity::Recorded,
                };
                match latest.get_mut(run.as_ref()) {
                    Some(files) => {
                        files.insert(path, file);
                    }
                    None => {
                        latest
                            .entry(run.into_owned())
                            .or_default()
                            .insert(path, file);
                    }
                }
            })
            .map_err(err::from_ledger)?;
        drop(ledger);
        for r in rejections {
            let Some(key) = key_of_uri(&r.uri) else {
                continue;
            };
            let Some((run, path)) = run_path(key) else {
                continue;
            };
            // A rejection only shows when no good copy of that file was stored since.
            latest
                .entry(run)
                .or_default()
                .entry(path.clone())
                .or_insert(RunFile {
                    path,
                    role: FileRole::Evidence,
                    sha256: r.expected_sha256,
                    size: 0,
                    origin: ObjectOrigin {
                        uri: r.uri.clone(),
                        version_id: r.version_id.clone(),
                        etag: r.etag.clone(),
                        last_modified: None,
                    },
                    integrity: Integrity::Rejected {
                        reason: r.reason.clone(),
                    },
                });
        }
        Ok(latest
            .into_iter()
            .map(|(run, files)| {
                let mut files: Vec<RunFile> = files.into_values().collect();
                files.sort_by(|a, b| a.path.cmp(&b.path));
                (run.clone(), RunFiles { key: run, files })
            })
            .collect())
    }

    /// Reads every file of a run from the store (re-verifying it) and assembles the run.
    /// `evidence_too`: also re-hash evidence files (for `show`); listings re-hash only what they
    /// parse. Only files that may hold results are held in memory, and only up to
    /// [`MAX_RESULT_FILE_BYTES`] each; evidence is re-hashed as it streams from disk.
    fn assemble(&self, g: RunFiles, evidence_too: bool) -> Run {
        let mut contents: Vec<Option<Vec<u8>>> = Vec::with_capacity(g.files.len());
        let mut too_large = Vec::new();
        let mut files = g.files;
        for f in &mut files {
            let parsed = is_parsed(&f.path);
            let Some(sha) = f
                .sha256
                .filter(|_| !matches!(f.integrity, Integrity::Rejected { .. }))
            else {
                contents.push(None);
                continue;
            };
            let bytes = if parsed && f.size <= MAX_RESULT_FILE_BYTES {
                match self.store().read(&sha) {
                    Ok(b) => {
                        f.integrity = Integrity::Verified;
                        Some(b)
                    }
                    Err(e) => {
                        f.integrity = integrity_of(e);
                        None
                    }
                }
            } else if parsed || evidence_too {
                if parsed {
                    too_large.push((f.path.clone(), f.size));
                }
                f.integrity = match self.store().verify(&sha) {
                    Ok(_) => Integrity::Verified,
                    Err(e) => integrity_of(e),
                };
                None
            } else {
                None
            };
            contents.push(bytes);
        }
        let inputs: Vec<RunInput<'_>> = files
            .iter()
            .zip(&contents)
            .map(|(f, c)| RunInput {
                file: f.clone(),
                content: c.as_deref(),
            })
            .collect();
        let mut run = assemble(g.key, &inputs, &ParseOptions::default());
        for (path, size) in too_large {
            // Said instead of core's generic "content not available" for this file.
            run.problems.retain(|p| p.path != path);
            run.add_problem(
                &path,
                format!(
                    "{size} bytes: result files over {} MiB are not read (parsing holds a file in memory several times over); split the report into smaller files",
                    MAX_RESULT_FILE_BYTES / (1024 * 1024)
                ),
            );
        }
        run
    }
}

/// The largest result file (JUnit XML, Cucumber JSON, run.json) read and parsed.
pub const MAX_RESULT_FILE_BYTES: u64 = 64 * 1024 * 1024;

/// The audit-trail action of a recorded run summary.
pub const RUN_SUMMARIZED: &str = "run.summarized";

fn integrity_of(e: StoreError) -> Integrity {
    match e {
        StoreError::Changed { actual, .. } => Integrity::Changed { actual },
        _ => Integrity::Missing,
    }
}

fn from_record(key: RunKey, rec: &RunSummaryRecord) -> RunSummary {
    RunSummary {
        id: rec.run.clone(),
        key,
        status: rec.status,
        totals: rec.totals,
        executed_at: rec.executed_at.clone(),
        protocol: rec.protocol.clone(),
        stack: rec.stack.clone(),
        files: rec.files,
        problems: rec.problems,
        state: RunState::Collected,
        state_act: None,
        state_check: StateCheck::Unsigned,
        new_since_sync: false,
    }
}

fn is_parsed(path: &str) -> bool {
    path.ends_with(".xml") || path.ends_with(".json")
}

pub(crate) fn summary(run: &Run) -> RunSummary {
    // The same fields the recorded summary carries, derived by the same code.
    from_record(
        run.key.clone(),
        &RunSummaryRecord::of(run, Sha256::from_bytes([0; 32])),
    )
}

/// Finds the run a stored key belongs to, and the file's path inside it. The key is
/// `<prefix><system>/<phase>/<run-id>/<path>`: the run folder is the first position from which
/// the rest of the key classifies as a run file.
fn run_path(key: &str) -> Option<(RunKey, String)> {
    let parts: Vec<&str> = key.split('/').collect();
    (0..parts.len()).find_map(|i| match layout::classify(&parts[i..].join("/")) {
        KeyKind::RunFile { run, path } => Some((run, path)),
        _ => None,
    })
}

/// [`run_path`] with the run folder of each directory worked out once: the files of one
/// directory all belong to the same run, under the same folder of it.
#[derive(Default)]
struct RunPlaces {
    dirs: HashMap<String, Place>,
}

enum Place {
    /// No file of this directory is in a run.
    Outside,
    /// Files of this directory are `<prefix><name>` in this run.
    In(RunKey, String),
    /// A run folder itself: its files are placed one by one (a name can matter there).
    RunFolder,
}

impl RunPlaces {
    /// The run of the object `key` and its path in that run; the run borrowed from the cache
    /// when its directory was seen before (a listing places every stored object).
    fn of(&mut self, key: &str) -> Option<(Cow<'_, RunKey>, String)> {
        let owned =
            |found: Option<(RunKey, String)>| found.map(|(run, path)| (Cow::Owned(run), path));
        let Some((dir, name)) = key.rsplit_once('/') else {
            return owned(run_path(key));
        };
        if !self.dirs.contains_key(dir) {
            // Any file name but a run folder's own entries gives the same answer.
            let place = match run_path(&format!("{dir}/x")) {
                None => Place::Outside,
                Some((run, path)) => match path.strip_suffix('x') {
                    Some(prefix) if !prefix.is_empty() => Place::In(run, prefix.to_owned()),
                    _ => Place::RunFolder,
                },
            };
            self.dirs.insert(dir.to_owned(), place);
        }
        match self.dirs.get(dir)? {
            Place::Outside => None,
            Place::In(run, prefix) => Some((Cow::Borrowed(run), format!("{prefix}{name}"))),
            Place::RunFolder => owned(run_path(key)),
        }
    }
}

/// The summary recorded by `event` (a run's latest `run.summarized`), when it is about `run`
/// and was read from exactly the files whose digest is `inputs`.
fn summary_of(
    event: Option<countersign_ledger::EventRecord>,
    run: &RunKey,
    inputs: Sha256,
) -> Option<RunSummaryRecord> {
    event
        .and_then(|e| e.event.after)
        .and_then(|after| RunSummaryRecord::from_json(after.as_bytes()))
        .filter(|rec| rec.inputs_sha256 == inputs && rec.run == run.to_string())
}

/// The key part of `s3://bucket/key`.
fn key_of_uri(uri: &str) -> Option<&str> {
    if let Some(rest) = uri.strip_prefix("s3://") {
        return rest.split_once('/').map(|(_, k)| k);
    }
    // An imported file: `file://<folder or archive>/<relative path>`; `run_path` finds the run
    // folder wherever it starts.
    uri.strip_prefix("file://")
}

fn resolve(groups: &BTreeMap<RunKey, RunFiles>, wanted: &str) -> Result<RunKey, ServiceError> {
    if let Some(k) = groups.keys().find(|k| k.to_string() == wanted) {
        return Ok(k.clone());
    }
    let matches: Vec<&RunKey> = groups.keys().filter(|k| k.run_id == wanted).collect();
    match matches.as_slice() {
        [one] => Ok((*one).clone()),
        [] => Err(ServiceError::not_found(format!(
            "no run {wanted:?} in the store; `countersign runs` lists what is there (fetch or import first)"
        ))),
        many => Err(ServiceError::bad_input(format!(
            "run id {wanted:?} is ambiguous: {}; give SYSTEM/PHASE/RUN-ID",
            many.iter().map(|k| k.to_string()).collect::<Vec<_>>().join(", ")
        ))),
    }
}

fn media_type(path: &str) -> &'static str {
    let lower = path.to_ascii_lowercase();
    let ext = lower.rsplit('.').next().unwrap_or("");
    match ext {
        "json" => "application/json",
        "xml" => "application/xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "svg" => "text/plain", // shown as source, never rendered: SVG can carry script
        "log" | "txt" | "out" | "csv" | "md" | "yaml" | "yml" => "text/plain",
        _ => "application/octet-stream",
    }
}

fn base64(bytes: &[u8]) -> String {
    countersign_core::text_encoding::encode_base64(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    /// A run folder `SYS/OQ/r1/` under `root`: run.json, a JUnit report with `cases` cases
    /// (every tenth failed) and `evidence` evidence files of `evidence_size` bytes.
    fn write_run(root: &Path, cases: usize, evidence: usize, evidence_size: usize) {
        let dir = root.join("SYS/OQ/r1");
        std::fs::create_dir_all(dir.join("reports")).unwrap();
        std::fs::create_dir_all(dir.join("evidence")).unwrap();
        std::fs::write(
            dir.join("run.json"),
            r#"{"schema":"countersign.run/v1","protocol":{"id":"SYS-OQ-1","version":"2"}}"#,
        )
        .unwrap();
        let mut xml = String::from("<testsuite name=\"s\">\n");
        for i in 0..cases {
            xml.push_str(&format!("<testcase classname=\"c\" name=\"t{i}\">"));
            if i % 10 == 0 {
                xml.push_str("<failure message=\"no\"/>");
            }
            xml.push_str("</testcase>\n");
        }
        xml.push_str("</testsuite>\n");
        std::fs::write(dir.join("reports/junit.xml"), xml).unwrap();
        for i in 0..evidence {
            let mut bytes = vec![b'e'; evidence_size];
            bytes[..8].copy_from_slice(&(i as u64).to_be_bytes());
            std::fs::write(dir.join(format!("evidence/e{i}.bin")), bytes).unwrap();
        }
    }

    fn imported(cases: usize, evidence: usize, size: usize) -> (tempfile::TempDir, Service) {
        let dir = tempfile::tempdir().unwrap();
        write_run(&dir.path().join("src"), cases, evidence, size);
        let service = crate::test_env::service(&dir.path().join("home"));
        let req = crate::ImportRequest::new(dir.path().join("src"));
        service
            .import(&req, &|_| {}, &crate::CancelToken::new())
            .unwrap();
        (dir, service)
    }

    /// Listing runs reads their recorded summaries: after the import derived them, no report
    /// is read into memory again, however often the list is asked for.
    #[test]
    fn the_run_list_reads_recorded_summaries_instead_of_parsing_every_report() {
        let (_dir, service) = imported(200, 3, 100);
        let before = service.store().bytes_read();
        let first = service.runs().unwrap();
        let second = service.runs().unwrap();
        assert_eq!(
            service.store().bytes_read(),
            before,
            "a report was read again"
        );
        assert_eq!(first, second);
        let view = service.show("SYS/OQ/r1").unwrap();
        assert_eq!(first, vec![view.summary.clone()]);
        assert_eq!(first[0].totals.failed, 20);
        assert_eq!(first[0].protocol.as_deref(), Some("SYS-OQ-1 v2"));
        assert!(view.run.problems.is_empty(), "{:?}", view.run.problems);

        // A report changed in the store is re-hashed by the listing and the run derived again.
        let junit = view
            .run
            .files
            .iter()
            .find(|f| f.path == "reports/junit.xml")
            .and_then(|f| f.sha256)
            .unwrap();
        let path = service.store().blob_path(&junit);
        let mut perms = std::fs::metadata(&path).unwrap().permissions();
        #[allow(clippy::permissions_set_readonly_false)]
        perms.set_readonly(false);
        std::fs::set_permissions(&path, perms).unwrap();
        std::fs::write(
            &path,
            "<testsuite name=\"s\"><testcase name=\"t\"/></testsuite>",
        )
        .unwrap();
        let after = service.runs().unwrap();
        assert_ne!(after[0].status, RunStatus::Passed);
        assert!(after[0].problems > 0, "{after:?}");
    }

    /// `show` re-hashes every evidence file as it streams from disk instead of holding it:
    /// only the files that may hold results are read into memory.
    #[test]
    fn show_streams_evidence_through_the_hash_instead_of_holding_it() {
        let (_dir, service) = imported(50, 40, 256 * 1024);
        let before = service.store().bytes_read();
        let view = service.show("r1").unwrap();
        let held = service.store().bytes_read() - before;
        assert!(
            view.run
                .files
                .iter()
                .all(|f| f.integrity == Integrity::Verified),
            "{:?}",
            view.run.files
        );
        assert!(held < 64 * 1024, "{held} bytes held for 10 MiB of evidence");
    }

    /// A summary in the trail that disagrees with the run's files is shown as a problem by
    /// `show`, which derives the run itself.
    #[test]
    fn show_reports_a_recorded_summary_that_disagrees_with_the_files() {
        let (_dir, service) = imported(20, 1, 10);
        let view = service.show("r1").unwrap();
        let RunFiles { key, files } = service.run_files().unwrap().remove(&view.run.key).unwrap();
        let mut forged = RunSummaryRecord::of(&view.run, inputs_digest(&key, &files));
        forged.status = RunStatus::Passed;
        forged.totals.failed = 0;
        service.record_summaries(&[forged]);
        assert_eq!(service.runs().unwrap()[0].status, RunStatus::Passed);
        let shown = service.show("r1").unwrap();
        assert_eq!(shown.summary.status, RunStatus::Failed);
        assert!(
            shown.run.problems.iter().any(|p| p
                .message
                .contains("differs from the run as derived from its files now")),
            "{:?}",
            shown.run.problems
        );
    }

    /// A result file too large to parse in memory is a problem of the run, never silently
    /// skipped, and is only streamed through the hash.
    #[test]
    fn a_result_file_over_the_cap_is_a_problem_and_is_not_held() {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("src");
        write_run(&src, 5, 0, 0);
        let big = vec![b' '; MAX_RESULT_FILE_BYTES as usize + 1];
        std::fs::write(src.join("SYS/OQ/r1/reports/huge.xml"), big).unwrap();
        let service = crate::test_env::service(&dir.path().join("home"));
        let req = crate::ImportRequest::new(&src);
        service
            .import(&req, &|_| {}, &crate::CancelToken::new())
            .unwrap();
        let before = service.store().bytes_read();
        let view = service.show("r1").unwrap();
        assert!(service.store().bytes_read() - before < 1024 * 1024);
        let p: Vec<&str> = view
            .run
            .problems
            .iter()
            .filter(|p| p.path == "reports/huge.xml")
            .map(|p| p.message.as_str())
            .collect();
        assert_eq!(p.len(), 1, "{:?}", view.run.problems);
        assert!(
            p[0].contains("result files over 64 MiB are not read"),
            "{p:?}"
        );
        assert_ne!(view.summary.status, RunStatus::Passed);
    }

    #[test]
    fn base64_known_answers() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64(b"foobar"), "Zm9vYmFy");
    }

    #[test]
    fn placing_by_directory_agrees_with_placing_each_key() {
        let keys = [
            "qual/2026/LIMS/IQ/r1/reports/a.xml",
            "qual/2026/LIMS/IQ/r1/reports/b.xml",
            "qual/2026/LIMS/IQ/r1/run.json",
            "qual/2026/LIMS/IQ/r1/signoff",
            "qual/2026/LIMS/IQ/r1/signoff/record.json",
            "LIMS/IQ/r1/evidence/deep/er/x.png",
            "LIMS/IQ/r1/evidence/deep/er/y.png",
            "LIMS/XQ/r1/evidence/z.png",
            "AWSLogs/123456789012/CloudTrail/us-east-1/x.json.gz",
            "a/LIMS/OQ/signoff",
            "a/LIMS/OQ/r2",
            "top.txt",
        ];
        let mut places = RunPlaces::default();
        for _ in 0..2 {
            for k in keys {
                assert_eq!(
                    places.of(k).map(|(run, path)| (run.into_owned(), path)),
                    run_path(k),
                    "{k}"
                );
            }
        }
    }

    #[test]
    fn run_path_finds_the_run_folder_under_any_prefix() {
        let (run, path) = run_path("qual/2026/LIMS/IQ/r1/reports/a.xml").unwrap();
        assert_eq!(run.to_string(), "LIMS/IQ/r1");
        assert_eq!(path, "reports/a.xml");
        assert!(run_path("AWSLogs/123456789012/CloudTrail/x.json.gz").is_none());
        assert_eq!(
            key_of_uri("s3://b/LIMS/IQ/r1/a.xml"),
            Some("LIMS/IQ/r1/a.xml")
        );
        let imported = key_of_uri("file:///media/usb/evidence.zip/LIMS/IQ/r1/a.xml").unwrap();
        assert_eq!(run_path(imported).unwrap().1, "a.xml");
    }
}
