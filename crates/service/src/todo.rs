//! What is waiting for the person at this desk (`countersign todo`, the app's home screen):
//! every run they may act on now under the signing policy, decided by the same rules signing
//! applies, with the facts a reviewer would want warned about.
//!
//! The person is the holder of an enrolled, unrevoked key of this home (the one chosen, or the
//! only one). IAM group membership cannot be read without an MFA session, so a grant to a
//! group is taken as applying (as the signing plan does before the session opens); each item
//! says so when only a group grant lets the person act.

use std::collections::BTreeMap;

use countersign_core::lifecycle::RunState;
use countersign_core::signature::policy::{
    current_cycle, evaluate, Principal, RecordFacts, SignRequest as PolicyRequest, Signer,
};
use countersign_core::signature::predicate::Meaning;
use countersign_ledger::SignerKeyRecord;
use serde::Serialize;

use crate::error::ServiceError;
use crate::Service;

/// What the person can do about one run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TodoKind {
    /// A signature of the run's current cycle no longer verifies (its files or dispositions
    /// changed after it was signed, or its key was revoked since): a re-open is needed.
    NoLongerVerifies,
    /// Failed or errored cases without a disposition.
    NeedsDisposition,
    /// Every failure dispositioned; the person may sign it Reviewed.
    ReadyForReview,
    /// Reviewed; the person may sign it Approved (or Rejected).
    ReadyForApproval,
}

impl TodoKind {
    /// In words.
    pub fn words(self) -> &'static str {
        match self {
            TodoKind::NoLongerVerifies => "signed, but a signature no longer verifies: re-open it",
            TodoKind::NeedsDisposition => "cases need a disposition",
            TodoKind::ReadyForReview => "ready for your review",
            TodoKind::ReadyForApproval => "ready for your approval",
        }
    }
}

/// One run waiting for the person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TodoItem {
    /// What to do.
    pub kind: TodoKind,
    /// `SYSTEM/PHASE/RUN-ID`.
    pub run: String,
    /// The system.
    pub system: String,
    /// The phase.
    pub phase: String,
    /// The run's state.
    pub state: RunState,
    /// Failed or errored cases without a disposition.
    pub undispositioned: usize,
    /// Details: what changed, which facts are missing, a group grant assumed.
    pub notes: Vec<String>,
    /// The last sync brought (some of) the run's files.
    pub new_since_sync: bool,
}

/// A run the person cannot act on but should know about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TodoWarning {
    /// The run.
    pub run: String,
    /// What is wrong.
    pub message: String,
}

/// Counts of one system and phase.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct TodoCount {
    /// The system.
    pub system: String,
    /// The phase.
    pub phase: String,
    /// Items per kind, in [`TodoKind`] order.
    pub no_longer_verifies: usize,
    /// Runs whose cases need a disposition.
    pub needs_disposition: usize,
    /// Runs ready for review.
    pub ready_for_review: usize,
    /// Runs ready for approval.
    pub ready_for_approval: usize,
}

/// What is waiting for one person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Todo {
    /// Who (printed name).
    pub printed_name: String,
    /// Their IAM identity.
    pub iam_arn: String,
    /// The policy version the list was decided under.
    pub policy_version: u32,
    /// The runs they may act on, most urgent first.
    pub items: Vec<TodoItem>,
    /// Per system and phase.
    pub counts: Vec<TodoCount>,
    /// Runs lacking protocol, executor or execution time, or that cannot be read.
    pub warnings: Vec<TodoWarning>,
}

impl Service {
    /// Everything the holder of `key_id` (or of the home's only enrolled key) may act on now.
    pub fn todo(&self, key_id: Option<&str>) -> Result<Todo, ServiceError> {
        let key = self.todo_key(key_id)?;
        let (policy, _) = self.signing_policy()?;
        let groups: Vec<String> = policy
            .grants
            .iter()
            .filter_map(|g| match &g.principal {
                Principal::Group(n) => Some(n.clone()),
                Principal::Arn(_) => None,
            })
            .collect();
        let signer = Signer {
            arn: key.iam_arn.clone(),
            printed_name: key.printed_name.clone(),
            key_id: key.key_id,
            groups: groups.clone(),
        };
        let bare = Signer {
            groups: Vec::new(),
            ..signer.clone()
        };
        let mut items = Vec::new();
        let mut warnings = Vec::new();
        for summary in self.runs()? {
            let ctx = match self.record_context(&summary.id) {
                Ok(ctx) => ctx,
                Err(e) => {
                    warnings.push(TodoWarning {
                        run: summary.id.clone(),
                        message: format!("cannot be reviewed: {}", e.message),
                    });
                    continue;
                }
            };
            let history = self.run_history(&ctx)?;
            let views: Vec<_> = self
                .signatures_of(&ctx)?
                .into_iter()
                .map(|(v, _)| v)
                .collect();
            let broken = crate::signing::view::current_cycle(&views)
                .iter()
                .find(|v| !v.valid)
                .map(|v| {
                    format!(
                        "the {} signature by {} does not verify: {}",
                        v.meaning, v.printed_name, v.outcome_detail
                    )
                });
            let changed = broken.is_some();
            let state = RunState::of(&history, !ctx.record.dispositions.is_empty());
            let facts = RecordFacts {
                name: countersign_core::run_record::RunRecord::subject_name(&ctx.view.run.key),
                phase: ctx.view.run.key.phase,
                executor_arn: ctx
                    .view
                    .run
                    .manifest
                    .as_ref()
                    .and_then(|m| m.executor.as_ref())
                    .and_then(|e| e.arn.clone()),
                undispositioned: ctx.undispositioned.clone(),
            };
            let may = |who: &Signer, meaning: Meaning| {
                evaluate(
                    &policy,
                    &PolicyRequest {
                        signer: who.clone(),
                        meaning,
                        record: facts.clone(),
                    },
                    &history,
                )
                .is_ok()
            };
            let open = !RunState::is_locked(&history);
            let kind = if changed && may(&signer, Meaning::Reopened) {
                Some((TodoKind::NoLongerVerifies, Meaning::Reopened))
            } else if open
                && !facts.undispositioned.is_empty()
                && policy.allows(&signer, Meaning::Reviewed, facts.phase)
            {
                Some((TodoKind::NeedsDisposition, Meaning::Reviewed))
            } else if !changed && may(&signer, Meaning::Reviewed) {
                Some((TodoKind::ReadyForReview, Meaning::Reviewed))
            } else if !changed
                && (may(&signer, Meaning::Approved) || may(&signer, Meaning::Rejected))
                && current_cycle(&history)
                    .iter()
                    .any(|s| s.meaning == Meaning::Reviewed)
            {
                Some((TodoKind::ReadyForApproval, Meaning::Approved))
            } else {
                None
            };
            let missing = ctx.view.missing_facts();
            if let Some((kind, meaning)) = kind {
                let mut notes: Vec<String> = missing.clone();
                notes.extend(broken.clone());
                if !policy.allows(&bare, meaning, facts.phase) && !groups.is_empty() {
                    notes.push(format!(
                        "only a grant to an IAM group ({}) lets you act; membership is checked when you sign",
                        groups.join(", ")
                    ));
                }
                items.push(TodoItem {
                    kind,
                    run: summary.id.clone(),
                    system: summary.key.system.clone(),
                    phase: summary.key.phase.as_str().to_owned(),
                    state,
                    undispositioned: facts.undispositioned.len(),
                    notes,
                    new_since_sync: summary.new_since_sync,
                });
            } else if !matches!(state, RunState::Approved | RunState::Rejected) {
                warnings.extend(missing.into_iter().map(|m| TodoWarning {
                    run: summary.id.clone(),
                    message: m,
                }));
            }
        }
        items.sort_by(|a, b| a.kind.cmp(&b.kind).then(a.run.cmp(&b.run)));
        Ok(Todo {
            printed_name: key.printed_name,
            iam_arn: key.iam_arn,
            policy_version: policy.version,
            counts: counts(&items),
            items,
            warnings,
        })
    }

    /// The enrolled, unrevoked key whose holder the list is for.
    fn todo_key(&self, key_id: Option<&str>) -> Result<SignerKeyRecord, ServiceError> {
        let active: Vec<SignerKeyRecord> = self
            .keys()?
            .into_iter()
            .filter_map(|k| k.enrolled)
            .filter(SignerKeyRecord::is_active)
            .collect();
        match key_id {
            Some(id) => active
                .into_iter()
                .find(|k| k.key_id.to_hex() == id.trim().to_ascii_lowercase())
                .ok_or_else(|| {
                    ServiceError::not_found(format!(
                        "no enrolled, unrevoked key {id} in this home; list the keys with `countersign keys list`"
                    ))
                }),
            None => match active.len() {
                1 => Ok(active.into_iter().next().ok_or_else(|| {
                    ServiceError::not_found("no enrolled key in this home")
                })?),
                0 => Err(ServiceError::not_found(
                    "no enrolled key in this home: what is waiting depends on who you are; create and enroll your key first (`countersign keys init`, then `countersign keys enroll`)",
                )),
                n => Err(ServiceError::bad_input(format!(
                    "this home holds {n} enrolled keys; choose whose list to show (--key KEY_ID)"
                ))),
            },
        }
    }
}

fn counts(items: &[TodoItem]) -> Vec<TodoCount> {
    let mut by: BTreeMap<(String, String), TodoCount> = BTreeMap::new();
    for i in items {
        let c = by
            .entry((i.system.clone(), i.phase.clone()))
            .or_insert_with(|| TodoCount {
                system: i.system.clone(),
                phase: i.phase.clone(),
                ..TodoCount::default()
            });
        match i.kind {
            TodoKind::NoLongerVerifies => c.no_longer_verifies += 1,
            TodoKind::NeedsDisposition => c.needs_disposition += 1,
            TodoKind::ReadyForReview => c.ready_for_review += 1,
            TodoKind::ReadyForApproval => c.ready_for_approval += 1,
        }
    }
    by.into_values().collect()
}
