//! The signing policy: who may sign what, in which order, and the session limits.
//!
//! A policy is a versioned JSON file (`countersign.policy/v1`, documented in `docs/policy.md`).
//! Its SHA-256 and revision number go into every signature made under it. [`evaluate`] decides
//! one signing request against the record's earlier signatures and answers either `Ok(())` or a
//! [`Refusal`] that names the rule and explains it in plain words, ready for the ledger and the
//! dialog. It is meant to run before any secret is asked for.

use serde::Deserialize;

use crate::digest::Sha256;
use crate::model::Phase;
use crate::signature::key_id::KeyId;
use crate::signature::predicate::{Meaning, PolicyRef};

/// The `format` tag of version 1 of the policy file.
pub use crate::formats::POLICY_V1 as POLICY_FORMAT_V1;
/// The `format` tag of version 2: version 1 with `administrators`.
pub use crate::formats::POLICY_V2 as POLICY_FORMAT_V2;
/// The longest idle timeout a policy may set, and the default (minutes).
pub const MAX_IDLE_TIMEOUT_MINUTES: u32 = 10;
/// The most failed attempts a policy may allow before a lockout, and the default.
pub const MAX_LOCKOUT_FAILURES: u32 = 3;
/// The default window in which failures are counted (minutes).
pub const DEFAULT_LOCKOUT_WINDOW_MINUTES: u32 = 15;
/// The default lock period after a lockout (minutes).
pub const DEFAULT_LOCK_MINUTES: u32 = 30;
/// The largest policy file accepted (256 KiB).
pub const MAX_POLICY_BYTES: usize = 256 * 1024;

/// Failed-attempt lockout parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LockoutRules {
    /// Failures (wrong passphrase, rejected MFA code) that lock signing: 1 to 3.
    pub max_failures: u32,
    /// The window, in minutes, in which failures are counted: at least 1.
    pub window_minutes: u32,
    /// How long signing stays locked, in minutes: at least 1.
    pub lock_minutes: u32,
}

impl Default for LockoutRules {
    fn default() -> Self {
        Self {
            max_failures: MAX_LOCKOUT_FAILURES,
            window_minutes: DEFAULT_LOCKOUT_WINDOW_MINUTES,
            lock_minutes: DEFAULT_LOCK_MINUTES,
        }
    }
}

/// Signing-session limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SessionRules {
    /// Minutes without activity after which a signing session ends: 1 to 10.
    pub idle_timeout_minutes: u32,
    /// Failed-attempt lockout.
    pub lockout: LockoutRules,
}

impl Default for SessionRules {
    fn default() -> Self {
        Self {
            idle_timeout_minutes: MAX_IDLE_TIMEOUT_MINUTES,
            lockout: LockoutRules::default(),
        }
    }
}

/// Separation-of-duties switches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SeparationOfDuties {
    /// When true (the default), nobody signs two levels of the same record: the executor and
    /// the reviewer cannot approve or reject it, and the executor or author cannot review it.
    pub no_self_approval: bool,
}

impl Default for SeparationOfDuties {
    fn default() -> Self {
        Self {
            no_self_approval: true,
        }
    }
}

/// Who a grant is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    /// IAM ARNs matching a pattern; `*` matches any run of characters, `?` one character.
    Arn(String),
    /// Members of an IAM group, by group name.
    Group(String),
}

/// One grant: a principal may sign these meanings on records of these phases.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    /// Who.
    pub principal: Principal,
    /// Which meanings.
    pub meanings: Vec<Meaning>,
    /// On records of which phases.
    pub phases: Vec<Phase>,
}

/// A parsed, validated policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    /// The policy's own revision number.
    pub version: u32,
    /// SHA-256 of the file's bytes.
    pub sha256: Sha256,
    /// Session limits.
    pub session: SessionRules,
    /// Separation of duties.
    pub separation_of_duties: SeparationOfDuties,
    /// The grants, in file order.
    pub grants: Vec<Grant>,
    /// IAM ARN patterns of the administrators, who may revoke another person's key (version 2;
    /// none in version 1).
    pub administrators: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PolicyFile {
    format: String,
    version: u32,
    #[serde(default)]
    session: SessionRules,
    #[serde(default)]
    separation_of_duties: SeparationOfDuties,
    grants: Vec<GrantFile>,
    administrators: Option<Vec<AdministratorFile>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AdministratorFile {
    arn: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct GrantFile {
    arn: Option<String>,
    group: Option<String>,
    meanings: Vec<Meaning>,
    phases: Vec<Phase>,
}

/// Why a policy file was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    /// Too large to be a policy.
    #[error("the policy is {len} bytes; at most {MAX_POLICY_BYTES} are accepted")]
    TooLarge {
        /// Its size.
        len: usize,
    },
    /// Not JSON, or not the shape of a policy.
    #[error("the policy is not valid at line {line}, column {column}: {detail}")]
    Json {
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What serde found.
        detail: String,
    },
    /// A `format` other than [`POLICY_FORMAT_V1`] or [`POLICY_FORMAT_V2`].
    #[error("unsupported policy format {found:?}: this version reads {POLICY_FORMAT_V1:?} and {POLICY_FORMAT_V2:?}")]
    UnsupportedFormat {
        /// The format found.
        found: String,
    },
    /// A value out of its allowed range or inconsistent.
    #[error("the policy's {field} {problem}")]
    Invalid {
        /// Where, e.g. `grants[2].arn` or `session.idle_timeout_minutes`.
        field: String,
        /// What is wrong and what is allowed.
        problem: String,
    },
}

fn invalid(field: impl Into<String>, problem: impl Into<String>) -> PolicyError {
    PolicyError::Invalid {
        field: field.into(),
        problem: problem.into(),
    }
}

impl Policy {
    /// Parses and validates a policy file. The digest is taken over exactly these bytes.
    pub fn parse(bytes: &[u8]) -> Result<Self, PolicyError> {
        if bytes.len() > MAX_POLICY_BYTES {
            return Err(PolicyError::TooLarge { len: bytes.len() });
        }
        let file: PolicyFile = serde_json::from_slice(bytes).map_err(|e| PolicyError::Json {
            line: e.line(),
            column: e.column(),
            detail: e.to_string(),
        })?;
        if file.format != POLICY_FORMAT_V1 && file.format != POLICY_FORMAT_V2 {
            return Err(PolicyError::UnsupportedFormat { found: file.format });
        }
        let administrators = match (file.format == POLICY_FORMAT_V2, file.administrators) {
            (_, None) => Vec::new(),
            (false, Some(_)) => {
                return Err(invalid(
                    "administrators",
                    format!("is a member of {POLICY_FORMAT_V2:?}; change the format to it (and raise the version)"),
                ))
            }
            (true, Some(list)) => list
                .into_iter()
                .enumerate()
                .map(|(i, a)| check_arn(&format!("administrators[{i}].arn"), a.arn))
                .collect::<Result<Vec<_>, _>>()?,
        };
        if file.version == 0 {
            return Err(invalid("version", "must be 1 or more"));
        }
        check_session(&file.session)?;
        if file.grants.is_empty() {
            return Err(invalid(
                "grants",
                "is empty: nobody could sign; add at least one grant",
            ));
        }
        let grants = file
            .grants
            .into_iter()
            .enumerate()
            .map(|(i, g)| check_grant(i, g))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            version: file.version,
            sha256: Sha256::of(bytes),
            session: file.session,
            separation_of_duties: file.separation_of_duties,
            grants,
            administrators,
        })
    }

    /// What a signature records about this policy.
    pub fn reference(&self) -> PolicyRef {
        PolicyRef {
            version: self.version,
            sha256: self.sha256,
        }
    }

    /// True when `arn` matches an administrator of the policy: someone who may revoke another
    /// person's key (docs/policy.md "Administrators").
    pub fn is_administrator(&self, arn: &str) -> bool {
        self.administrators
            .iter()
            .any(|pattern| arn_matches(pattern, arn))
    }

    /// True when some grant lets `signer` sign `meaning` on a record of `phase`.
    pub fn allows(&self, signer: &Signer, meaning: Meaning, phase: Phase) -> bool {
        self.grants.iter().any(|g| {
            g.meanings.contains(&meaning)
                && g.phases.contains(&phase)
                && match &g.principal {
                    Principal::Arn(pattern) => arn_matches(pattern, &signer.arn),
                    Principal::Group(name) => signer.groups.iter().any(|m| m == name),
                }
        })
    }
}

fn check_session(s: &SessionRules) -> Result<(), PolicyError> {
    if s.idle_timeout_minutes == 0 || s.idle_timeout_minutes > MAX_IDLE_TIMEOUT_MINUTES {
        return Err(invalid(
            "session.idle_timeout_minutes",
            format!(
                "is {}; it may be shortened but never disabled: use 1 to {MAX_IDLE_TIMEOUT_MINUTES}",
                s.idle_timeout_minutes
            ),
        ));
    }
    let l = &s.lockout;
    if l.max_failures == 0 || l.max_failures > MAX_LOCKOUT_FAILURES {
        return Err(invalid(
            "session.lockout.max_failures",
            format!(
                "is {}; use 1 to {MAX_LOCKOUT_FAILURES} failed attempts",
                l.max_failures
            ),
        ));
    }
    if l.window_minutes == 0 {
        return Err(invalid(
            "session.lockout.window_minutes",
            "must be 1 or more",
        ));
    }
    if l.lock_minutes == 0 {
        return Err(invalid("session.lockout.lock_minutes", "must be 1 or more"));
    }
    Ok(())
}

/// An IAM or STS ARN pattern, as grants and administrators name them.
fn check_arn(field: &str, arn: String) -> Result<String, PolicyError> {
    let fields: Vec<&str> = arn.split(':').collect();
    if fields.len() < 6 || fields[0] != "arn" || fields[2] != "iam" && fields[2] != "sts" {
        return Err(invalid(
            field,
            format!(
                "{arn:?} is not an IAM or STS ARN pattern such as arn:aws:iam::123456789012:user/qa-*"
            ),
        ));
    }
    if arn.chars().any(char::is_whitespace) {
        return Err(invalid(field, "contains white space"));
    }
    Ok(arn)
}

fn check_grant(i: usize, g: GrantFile) -> Result<Grant, PolicyError> {
    let at = |field: &str| format!("grants[{i}].{field}");
    let principal = match (g.arn, g.group) {
        (Some(arn), None) => Principal::Arn(check_arn(&at("arn"), arn)?),
        (None, Some(group)) => {
            let ok = !group.is_empty()
                && group.len() <= 128
                && group
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "+=,.@_-".contains(c));
            if !ok {
                return Err(invalid(
                    at("group"),
                    format!("{group:?} is not an IAM group name (1-128 of A-Z a-z 0-9 +=,.@_-)"),
                ));
            }
            Principal::Group(group)
        }
        _ => {
            return Err(invalid(
                format!("grants[{i}]"),
                "must have exactly one of \"arn\" or \"group\"",
            ))
        }
    };
    if g.meanings.is_empty() {
        return Err(invalid(at("meanings"), "is empty"));
    }
    if let Some(m) = g.meanings.iter().find(|m| !m.is_record_meaning()) {
        return Err(invalid(
            at("meanings"),
            format!("names {m}, which is not a meaning a record is signed with (Authored, Reviewed, Approved, Rejected)"),
        ));
    }
    if g.phases.is_empty() {
        return Err(invalid(at("phases"), "is empty"));
    }
    Ok(Grant {
        principal,
        meanings: g.meanings,
        phases: g.phases,
    })
}

/// IAM-style wildcard match: `*` any run of characters (including none), `?` exactly one.
pub fn arn_matches(pattern: &str, arn: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let s: Vec<char> = arn.chars().collect();
    let (mut pi, mut si) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while si < s.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == s[si]) {
            pi += 1;
            si += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, si));
            pi += 1;
        } else if let Some((sp, ss)) = star {
            pi = sp + 1;
            si = ss + 1;
            star = Some((sp, ss + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

/// The person asking to sign.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signer {
    /// IAM ARN from the MFA-backed STS session.
    pub arn: String,
    /// Printed name as enrolled.
    pub printed_name: String,
    /// The enrolled key's id.
    pub key_id: KeyId,
    /// The IAM groups the ARN belongs to, as IAM reported them.
    pub groups: Vec<String>,
}

/// What the policy needs to know about the record being signed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordFacts {
    /// Subject name: `run:…` or `package:…`.
    pub name: String,
    /// The qualification phase of the record.
    pub phase: Phase,
    /// The IAM ARN of whoever executed the run, when known.
    pub executor_arn: Option<String>,
    /// Ids of failed or errored cases that have no disposition yet.
    pub undispositioned: Vec<String>,
}

/// One signing request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignRequest {
    /// Who.
    pub signer: Signer,
    /// With what meaning.
    pub meaning: Meaning,
    /// On what.
    pub record: RecordFacts,
}

/// A signature already on the record (verified), in signing order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PriorSignature {
    /// Its meaning.
    pub meaning: Meaning,
    /// The signer's IAM ARN.
    pub arn: String,
    /// The signer's printed name.
    pub printed_name: String,
    /// The signer's key id.
    pub key_id: KeyId,
    /// The envelope digest, for `follows`.
    pub envelope_sha256: Sha256,
}

/// The `follows` list of the next signature on a record: every earlier envelope, in order,
/// the superseded ones and the re-opens included, so no part of the history can be dropped.
pub fn follows(history: &[PriorSignature]) -> Vec<Sha256> {
    history.iter().map(|s| s.envelope_sha256).collect()
}

/// The signatures of the record's current sign-off cycle: those after its last re-open (all of
/// them when it was never re-opened). Earlier ones are superseded: they stay in the history and
/// in `follows`, but no longer count for sequence or separation of duties.
pub fn current_cycle(history: &[PriorSignature]) -> &[PriorSignature] {
    match history.iter().rposition(|s| s.meaning == Meaning::Reopened) {
        Some(i) => &history[i + 1..],
        None => history,
    }
}

/// Where a record stands in the sign-off sequence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordState {
    /// Executed (possibly Authored), not yet Reviewed.
    Executed,
    /// Reviewed, awaiting Approved or Rejected.
    Reviewed,
    /// Approved: final.
    Approved,
    /// Rejected: final.
    Rejected,
}

impl RecordState {
    /// The state after `history`: a re-open starts a new cycle from Executed.
    pub fn of(history: &[PriorSignature]) -> Self {
        Self::of_meanings(history.iter().map(|s| s.meaning))
    }

    /// [`RecordState::of`] from the meanings alone, in signing order.
    pub fn of_meanings(meanings: impl Iterator<Item = Meaning>) -> Self {
        meanings.fold(RecordState::Executed, |state, m| match m {
            Meaning::Authored => state,
            Meaning::Reviewed => RecordState::Reviewed,
            Meaning::Approved => RecordState::Approved,
            Meaning::Rejected => RecordState::Rejected,
            Meaning::Reopened => RecordState::Executed,
            // Never on a run: the qualified-state meanings have subjects of their own.
            Meaning::Assessed | Meaning::PeriodicallyReviewed => state,
        })
    }

    fn as_str(self) -> &'static str {
        match self {
            RecordState::Executed => "Executed",
            RecordState::Reviewed => "Reviewed",
            RecordState::Approved => "Approved",
            RecordState::Rejected => "Rejected",
        }
    }
}

/// The rule behind a refusal. `id()` is stable and appears in ledger events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    /// No grant allows this signer this meaning on this phase.
    Authority,
    /// The meaning does not come next in Executed → Reviewed → Approved | Rejected.
    Sequence,
    /// The executor or reviewer of a record approving or rejecting it.
    NoSelfApproval,
    /// One person signing two levels below approval (e.g. executor reviewing).
    OnePersonOneLevel,
    /// Failed or errored cases without disposition at approval.
    DispositionBeforeApproval,
}

impl Rule {
    /// The rule's stable id.
    pub fn id(self) -> &'static str {
        match self {
            Rule::Authority => "authority",
            Rule::Sequence => "sequence",
            Rule::NoSelfApproval => "no-self-approval",
            Rule::OnePersonOneLevel => "one-person-one-level",
            Rule::DispositionBeforeApproval => "disposition-before-approval",
        }
    }
}

/// A refused signing request: the rule and a plain-words explanation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct Refusal {
    /// The rule that refused it.
    pub rule: Rule,
    /// What happened and why, naming people, the record and the policy version.
    pub message: String,
}

fn same_person(a_arn: &str, a_key: &KeyId, b_arn: &str, b_key: &KeyId) -> bool {
    a_key == b_key || a_arn.eq_ignore_ascii_case(b_arn)
}

/// Decides whether `request` may be signed, given the record's earlier signatures (all of
/// them, in signing order: only the current cycle, after the last re-open, counts).
///
/// Rules, in order: authority, sequence, separation of duties, dispositions before approval.
/// A re-open (`Reopened`) needs the authority to approve records of the phase and a cycle with
/// at least one signature to supersede; separation of duties does not apply to it (the
/// approver may re-open their own approval), and it starts a new cycle.
pub fn evaluate(
    policy: &Policy,
    request: &SignRequest,
    history: &[PriorSignature],
) -> Result<(), Refusal> {
    let signer = &request.signer;
    let who = format!("{} ({})", signer.printed_name, signer.arn);
    let meaning = request.meaning;
    let record = &request.record;
    let v = policy.version;
    let refuse = |rule: Rule, what: String, family: &str| Refusal {
        rule,
        message: format!("{what} ({family}, policy v{v} rule {})", rule.id()),
    };

    let history = current_cycle(history);
    if meaning == Meaning::Reopened {
        return evaluate_reopen(policy, request, history);
    }
    if !policy.allows(signer, meaning, record.phase) {
        return Err(refuse(
            Rule::Authority,
            format!(
                "{who} is not authorised to sign {} records as {meaning}: no grant in the policy covers this person, meaning and phase",
                record.phase
            ),
            "authority",
        ));
    }

    let state = RecordState::of(history);
    let sequence = |what: String| Err(refuse(Rule::Sequence, what, "sequencing"));
    match (state, meaning) {
        (RecordState::Approved | RecordState::Rejected, _) => {
            return sequence(format!(
                "{} is already {}; a final record takes no further signatures",
                record.name,
                state.as_str()
            ))
        }
        (_, Meaning::Authored) if !history.is_empty() => {
            return sequence(format!(
                "{} already has signatures; Authored can only be the first signature on a record",
                record.name
            ))
        }
        (RecordState::Reviewed, Meaning::Reviewed) => {
            return sequence(format!(
                "{} is already Reviewed; the next signature is Approved or Rejected",
                record.name
            ))
        }
        (RecordState::Executed, Meaning::Approved | Meaning::Rejected) => {
            return sequence(format!(
                "{} has not been Reviewed; it must be signed as Reviewed before {meaning}",
                record.name
            ))
        }
        _ => {}
    }

    if policy.separation_of_duties.no_self_approval {
        let final_level = matches!(meaning, Meaning::Approved | Meaning::Rejected);
        let (rule, verb) = match meaning {
            Meaning::Approved => (Rule::NoSelfApproval, "approve"),
            Meaning::Rejected => (Rule::NoSelfApproval, "reject"),
            _ => (Rule::OnePersonOneLevel, "also sign it as"),
        };
        let tail = |did: String| {
            let what = if final_level {
                format!("{did}; the same person may not also {verb} it")
            } else {
                format!("{did}; one person may not fill two levels, so may not {verb} {meaning}")
            };
            Err(refuse(rule, what, "separation of duties"))
        };
        if let Some(executor) = &record.executor_arn {
            if meaning != Meaning::Authored && executor.eq_ignore_ascii_case(&signer.arn) {
                return tail(format!("{who} executed {}", record.name));
            }
        }
        if let Some(prior) = history
            .iter()
            .find(|p| same_person(&p.arn, &p.key_id, &signer.arn, &signer.key_id))
        {
            return tail(format!(
                "{} ({}) signed {} as {}",
                prior.printed_name, prior.arn, record.name, prior.meaning
            ));
        }
    }

    if meaning == Meaning::Approved && !record.undispositioned.is_empty() {
        let n = record.undispositioned.len();
        let shown: Vec<&str> = record
            .undispositioned
            .iter()
            .take(5)
            .map(String::as_str)
            .collect();
        let more = if n > shown.len() {
            format!(" and {} more", n - shown.len())
        } else {
            String::new()
        };
        return Err(refuse(
            Rule::DispositionBeforeApproval,
            format!(
                "{} has {n} failed or errored case(s) without a disposition ({}{more}); each needs a disposition before Approved",
                record.name,
                shown.join(", ")
            ),
            "dispositions",
        ));
    }
    Ok(())
}

/// A re-open: the authority to approve, and something signed in the current cycle.
fn evaluate_reopen(
    policy: &Policy,
    request: &SignRequest,
    cycle: &[PriorSignature],
) -> Result<(), Refusal> {
    let signer = &request.signer;
    let record = &request.record;
    let v = policy.version;
    if !policy.allows(signer, Meaning::Approved, record.phase) {
        return Err(Refusal {
            rule: Rule::Authority,
            message: format!(
                "{} ({}) is not authorised to re-open {} records: a re-open supersedes approvals, so it needs a grant to sign them as Approved (authority, policy v{v} rule {})",
                signer.printed_name,
                signer.arn,
                record.phase,
                Rule::Authority.id()
            ),
        });
    }
    if cycle.is_empty() {
        return Err(Refusal {
            rule: Rule::Sequence,
            message: format!(
                "{} carries no signature to supersede; it is open for review, so its dispositions can be recorded without a re-open (sequencing, policy v{v} rule {})",
                record.name,
                Rule::Sequence.id()
            ),
        });
    }
    Ok(())
}
