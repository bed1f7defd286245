//! Package approvals (docs/package-format.md §15): signatures on the package PDF itself, each
//! an incremental update whose byte range covers every byte of the file as it then stood,
//! its visible approval page included, except the signature value.
//!
//! [`read_approvals`] finds them in a PDF's bytes and derives what each one signs;
//! [`evaluate_package`] is the policy for signing a package; the verifier's `approvals` check
//! is [`check_approvals`].

use std::ops::Range;

use serde::Serialize;

use crate::digest::Sha256;
use crate::model::Phase;
use crate::package::public_key::PublicKeyFile;
use crate::signature::policy::{
    evaluate, Policy, PriorSignature, RecordFacts, Refusal, Rule, SignRequest, Signer,
};
use crate::signature::predicate::Meaning;
use crate::signature::statement::{package_subject_name, Statement};
use crate::signature::verify::{verify_envelope, KeyRegistry, Outcome, RecordRef};

/// The value of `/SubFilter` that marks a Countersign package approval, version 1.
pub const APPROVAL_SUBFILTER: &[u8] = b"/countersign.package-approval.v1";

/// One approval revision as found in a PDF.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApprovalRevision {
    /// 1 for the first approval in the file, 2 for the next, …
    pub number: usize,
    /// `/Countersign.Prev`: the length of the file this approval was appended to.
    pub prev_len: usize,
    /// The `/Contents` hex string, `<` and `>` included: the bytes the signature leaves out.
    pub contents: Range<usize>,
    /// Where this revision ends: its signed range runs from 0 to here, less `contents`.
    pub end: usize,
    /// The DSSE envelope (the hex decoded, trailing zero bytes removed).
    pub envelope: Vec<u8>,
    /// `/Countersign.PublicKey`: the signer's `countersign.public-key/v1` document.
    pub public_key: Vec<u8>,
    /// SHA-256 of the signed byte range: the statement's subject digest.
    pub signed_sha256: Sha256,
    /// SHA-256 of the file as this revision left it (bytes `0..end`).
    pub revision_sha256: Sha256,
}

/// The approvals of a PDF, in order, and the length of the draft they approve.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Approvals {
    /// Every approval revision, in file order.
    pub revisions: Vec<ApprovalRevision>,
}

impl Approvals {
    /// The draft: the file as built, before any approval (the whole file without approvals).
    pub fn draft_len(&self, file_len: usize) -> usize {
        self.revisions.first().map_or(file_len, |r| r.prev_len)
    }
}

/// PDF white space (ISO 32000 §7.2.3).
fn is_white(b: u8) -> bool {
    matches!(b, b'\0' | b'\t' | b'\n' | b'\x0c' | b'\r' | b' ')
}

/// A cursor over the bytes after a marker.
struct Cursor<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Cursor<'_> {
    fn skip_white(&mut self) {
        while self.at < self.bytes.len() && is_white(self.bytes[self.at]) {
            self.at += 1;
        }
    }

    fn token(&mut self, expected: &[u8]) -> Result<(), String> {
        self.skip_white();
        if self.bytes[self.at..].starts_with(expected) {
            self.at += expected.len();
            Ok(())
        } else {
            Err(format!(
                "expected {} at byte {}",
                String::from_utf8_lossy(expected),
                self.at
            ))
        }
    }

    fn integer(&mut self) -> Result<usize, String> {
        self.skip_white();
        let start = self.at;
        while self.at < self.bytes.len() && self.bytes[self.at].is_ascii_digit() {
            self.at += 1;
        }
        std::str::from_utf8(&self.bytes[start..self.at])
            .ok()
            .filter(|s| !s.is_empty() && s.len() <= 12)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| format!("expected a non-negative integer at byte {start}"))
    }

    /// A hex string: its range (`<` to `>` inclusive) and decoded bytes.
    fn hex_string(&mut self) -> Result<(Range<usize>, Vec<u8>), String> {
        self.skip_white();
        let start = self.at;
        self.token(b"<")?;
        let digits = self.at;
        while self.at < self.bytes.len() && self.bytes[self.at].is_ascii_hexdigit() {
            self.at += 1;
        }
        let hex = &self.bytes[digits..self.at];
        // The closing `>` follows the last digit at once (§15.2): no white space inside.
        if self.bytes.get(self.at) != Some(&b'>') {
            return Err(format!("the hex string at byte {start} is not closed by >"));
        }
        self.at += 1;
        if !hex.len().is_multiple_of(2) {
            return Err(format!(
                "the hex string at byte {start} has an odd number of digits"
            ));
        }
        let decoded =
            hex::decode(hex).map_err(|e| format!("the hex string at byte {start}: {e}"))?;
        Ok((start..self.at, decoded))
    }
}

/// True when `bytes[..end]` ends a PDF revision: `%%EOF`, then at most one end-of-line.
fn ends_revision(bytes: &[u8], end: usize) -> bool {
    let head = &bytes[..end];
    let head = head
        .strip_suffix(b"\r\n")
        .or_else(|| head.strip_suffix(b"\n"))
        .or_else(|| head.strip_suffix(b"\r"))
        .unwrap_or(head);
    head.ends_with(b"%%EOF")
}

/// Every package approval in `pdf`, checked for form (§15.2): each signature dictionary's
/// entries in order, its byte range exactly around its `/Contents`, the revisions chained
/// (each `/Countersign.Prev` is where the one before ended), and the last one ending the file.
/// An error names the approval and what is wrong.
pub fn read_approvals(pdf: &[u8]) -> Result<Approvals, String> {
    let mut revisions: Vec<ApprovalRevision> = Vec::new();
    let mut from = 0;
    while let Some(found) = find(&pdf[from..], APPROVAL_SUBFILTER) {
        let marker = from + found;
        let number = revisions.len() + 1;
        let at =
            |e: String| format!("approval {number} (signature dictionary at byte {marker}): {e}");
        let mut c = Cursor {
            bytes: pdf,
            at: marker + APPROVAL_SUBFILTER.len(),
        };
        c.token(b"/Countersign.Prev").map_err(at)?;
        let prev_len = c.integer().map_err(at)?;
        c.token(b"/Countersign.PublicKey").map_err(at)?;
        let (_, public_key) = c.hex_string().map_err(at)?;
        c.token(b"/ByteRange").map_err(at)?;
        c.token(b"[").map_err(at)?;
        let zero = c.integer().map_err(at)?;
        let a = c.integer().map_err(at)?;
        let b = c.integer().map_err(at)?;
        let len = c.integer().map_err(at)?;
        c.token(b"]").map_err(at)?;
        c.token(b"/Contents").map_err(at)?;
        let (contents, raw) = c.hex_string().map_err(at)?;
        if zero != 0 || a != contents.start || b != contents.end {
            return Err(at(format!(
                "its /ByteRange [{zero} {a} {b} {len}] does not leave out exactly its /Contents (bytes {} to {})",
                contents.start, contents.end
            )));
        }
        let end = b
            .checked_add(len)
            .filter(|e| *e <= pdf.len())
            .ok_or_else(|| {
                at(format!(
                    "its /ByteRange runs past the end of the file ({} bytes)",
                    pdf.len()
                ))
            })?;
        if !ends_revision(pdf, end) {
            return Err(at(format!(
                "its signed range does not end a revision (%%EOF) at byte {end}"
            )));
        }
        let expected_prev = revisions.last().map(|r| r.end);
        match expected_prev {
            Some(p) if p != prev_len => {
                return Err(at(format!(
                    "it says it was appended to the first {prev_len} bytes, but approval {} ended at byte {p}: the approvals are not one chain",
                    number - 1
                )))
            }
            None if prev_len >= marker || !ends_revision(pdf, prev_len) => {
                return Err(at(format!(
                    "it says it was appended to the first {prev_len} bytes, which do not end a revision before it"
                )))
            }
            _ => {}
        }
        if marker < prev_len || end <= contents.end {
            return Err(at(
                "its signature dictionary is not inside its own revision".into(),
            ));
        }
        let mut envelope = raw;
        while envelope.last() == Some(&0) {
            envelope.pop();
        }
        let mut h = crate::digest::Sha256Stream::new();
        h.update(&pdf[..contents.start]);
        h.update(&pdf[contents.end..end]);
        revisions.push(ApprovalRevision {
            number,
            prev_len,
            signed_sha256: h.finish(),
            revision_sha256: Sha256::of(&pdf[..end]),
            contents,
            end,
            envelope,
            public_key,
        });
        from = end.max(c.at);
    }
    if let Some(last) = revisions.last() {
        if last.end != pdf.len() {
            return Err(format!(
                "{} byte(s) after approval {} (which ends at byte {}) are covered by no signature",
                pdf.len() - last.end,
                last.number,
                last.end
            ));
        }
    }
    Ok(Approvals { revisions })
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() || haystack.len() < needle.len() {
        return None;
    }
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// What the policy needs to know about a package to be signed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackageFacts {
    /// `package:<id>`.
    pub name: String,
    /// The phases of its runs (the signer needs the meaning on every one).
    pub phases: Vec<Phase>,
    /// Its runs that are not approved (by their verified signatures), each `RUN (state)`.
    pub runs_not_approved: Vec<String>,
    /// How many runs it holds.
    pub runs: usize,
}

/// Decides whether `signer` may sign the package as `meaning` after `history` (its earlier
/// approvals, in order). The rules (docs/policy.md "Packages"): only `Reviewed`, then
/// `Approved`; every run approved first; the grants of the meaning on every phase of the
/// package's runs; separation of duties as for a run (nobody signs two levels).
pub fn evaluate_package(
    policy: &Policy,
    signer: &Signer,
    meaning: Meaning,
    package: &PackageFacts,
    history: &[PriorSignature],
) -> Result<(), Refusal> {
    let v = policy.version;
    if !matches!(meaning, Meaning::Reviewed | Meaning::Approved) {
        return Err(Refusal {
            rule: Rule::Sequence,
            message: format!(
                "a package is signed Reviewed, then Approved; {meaning} is not a package approval (sequencing, policy v{v} rule sequence)"
            ),
        });
    }
    if !package.runs_not_approved.is_empty() {
        let n = package.runs_not_approved.len();
        let shown: Vec<&str> = package
            .runs_not_approved
            .iter()
            .take(5)
            .map(String::as_str)
            .collect();
        return Err(Refusal {
            rule: Rule::Sequence,
            message: format!(
                "{} has {n} of {} run(s) not approved ({}{}); a package is signed once every run in it is approved (sequencing, policy v{v} rule sequence)",
                package.name,
                package.runs,
                shown.join(", "),
                if n > shown.len() { ", …" } else { "" }
            ),
        });
    }
    for phase in &package.phases {
        let request = SignRequest {
            signer: signer.clone(),
            meaning,
            record: RecordFacts {
                name: package.name.clone(),
                phase: *phase,
                executor_arn: None,
                undispositioned: Vec::new(),
            },
        };
        evaluate(policy, &request, history)?;
    }
    Ok(())
}

/// The package's state as its verified approvals establish it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PackageState {
    /// No package approval: the package is a draft.
    Draft,
    /// Reviewed, not yet Approved.
    Reviewed,
    /// Approved: final.
    Approved,
}

impl PackageState {
    /// The state after approvals with these meanings, in order.
    pub fn of(meanings: impl Iterator<Item = Meaning>) -> Self {
        meanings.fold(PackageState::Draft, |s, m| match m {
            Meaning::Reviewed if s == PackageState::Draft => PackageState::Reviewed,
            Meaning::Approved => PackageState::Approved,
            _ => s,
        })
    }

    /// `draft`, `reviewed` or `approved`.
    pub fn as_str(self) -> &'static str {
        match self {
            PackageState::Draft => "draft",
            PackageState::Reviewed => "reviewed",
            PackageState::Approved => "approved",
        }
    }
}

/// One package approval as verified.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ApprovalResult {
    /// 1-based, in file order.
    pub number: usize,
    /// Outcome code (`valid`, `record_changed`, …; docs/signature-format.md §6), or
    /// `malformed` when the envelope or its key could not be read.
    pub outcome: String,
    /// The meaning, when the statement could be read.
    pub meaning: Option<String>,
    /// The signer's printed name.
    pub printed_name: Option<String>,
    /// The signer's IAM identity.
    pub iam_arn: Option<String>,
    /// UTC time of signing.
    pub signed_at: Option<String>,
    /// The signer's UTC offset.
    pub utc_offset: Option<String>,
    /// Why.
    pub reason: Option<String>,
    /// Key id.
    pub key_id: Option<String>,
    /// SHA-256 of the envelope's canonical form (how a later approval names it in `follows`),
    /// when it could be read.
    pub envelope_sha256: Option<Sha256>,
    /// SHA-256 of the file as this approval left it.
    pub revision_sha256: Sha256,
    /// Where the revision ends (the file's length at this approval).
    pub end: usize,
}

/// What the `approvals` check needs besides the approvals themselves.
#[derive(Debug)]
pub struct ApprovalContext<'a> {
    /// The package id (from the manifest).
    pub package_id: &'a str,
    /// The package's public keys (from `keys/`).
    pub registry: &'a KeyRegistry,
    /// With a trusted list, the key ids on it.
    pub trusted: Option<&'a std::collections::BTreeSet<crate::signature::key_id::KeyId>>,
    /// The package's `policy.json`, when it carries one that parses.
    pub policy: Option<&'a Policy>,
    /// The package's facts for the policy replay.
    pub facts: PackageFacts,
}

/// What the `approvals` check found.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ApprovalsChecked {
    /// Each approval.
    pub results: Vec<ApprovalResult>,
    /// Every problem; none means every approval verified.
    pub problems: Vec<String>,
    /// Approvals made under another policy than the package's `policy.json` (not replayed).
    pub not_replayed: Vec<usize>,
}

impl ApprovalsChecked {
    /// The state the approvals establish when they all verified; `Draft` otherwise.
    pub fn state(&self) -> PackageState {
        if !self.problems.is_empty() {
            return PackageState::Draft;
        }
        PackageState::of(
            self.results
                .iter()
                .filter_map(|r| r.meaning.as_deref())
                .filter_map(|m| m.parse().ok()),
        )
    }
}

/// Verifies every approval: its public key document (canonical, key id derived from the key,
/// on the trusted list when there is one), its envelope against `package:<id>` and the digest
/// of its byte range, its `follows` (exactly the envelopes of the approvals before it), and
/// the policy replayed with those before it.
pub fn check_approvals(approvals: &Approvals, ctx: &ApprovalContext<'_>) -> ApprovalsChecked {
    let name = package_subject_name(ctx.package_id);
    let mut out = ApprovalsChecked::default();
    let mut history: Vec<PriorSignature> = Vec::new();
    for a in &approvals.revisions {
        let n = a.number;
        let mut result = ApprovalResult {
            number: n,
            outcome: "malformed".into(),
            meaning: None,
            printed_name: None,
            iam_arn: None,
            signed_at: None,
            utc_offset: None,
            reason: None,
            key_id: None,
            envelope_sha256: None,
            revision_sha256: a.revision_sha256,
            end: a.end,
        };
        let mut registry = ctx.registry.clone();
        match PublicKeyFile::parse(&a.public_key) {
            Ok((file, enrolled)) => {
                if file.canonical_bytes().ok().as_deref() != Some(a.public_key.as_slice()) {
                    out.problems.push(format!(
                        "approval {n}: its public key document is not in canonical form"
                    ));
                }
                if let Some(trusted) = ctx.trusted {
                    let id = crate::signature::key_id::KeyId::of(&enrolled.public_key);
                    if !trusted.contains(&id) {
                        out.problems.push(format!(
                            "approval {n}: the key {id} ({}) is not on the trusted list",
                            file.printed_name
                        ));
                    }
                }
                registry.insert(enrolled);
            }
            Err(e) => out
                .problems
                .push(format!("approval {n}: its public key document: {e}")),
        }
        let outcome = verify_envelope(
            &a.envelope,
            &RecordRef {
                name: &name,
                sha256: a.signed_sha256,
            },
            &registry,
        );
        result.outcome = outcome.code().to_string();
        let parsed = crate::signature::dsse::Envelope::from_json(&a.envelope).ok();
        let envelope_sha256 = parsed
            .as_ref()
            .map_or_else(|| Sha256::of(&a.envelope), |e| e.digest());
        result.envelope_sha256 = parsed.as_ref().map(|e| e.digest());
        let statement = parsed
            .and_then(|e| e.payload_bytes().ok())
            .and_then(|p| Statement::from_payload(&p).ok());
        if let Some(st) = &statement {
            let p = &st.predicate;
            result.meaning = Some(p.meaning.as_str().to_string());
            result.printed_name = Some(p.printed_name.clone());
            result.iam_arn = Some(p.iam_arn.clone());
            result.signed_at = Some(p.signed_at.to_string());
            result.utc_offset = Some(p.utc_offset.to_string());
            result.reason = Some(p.reason.clone());
            result.key_id = Some(p.key_id.to_hex());
        }
        match (&outcome, &statement) {
            (Outcome::Valid(_), Some(st)) => {
                let p = &st.predicate;
                if !matches!(p.meaning, Meaning::Reviewed | Meaning::Approved) {
                    out.problems.push(format!(
                        "approval {n}: its meaning is {}; a package approval means Reviewed or Approved",
                        p.meaning
                    ));
                }
                let expected: Vec<Sha256> = history.iter().map(|h| h.envelope_sha256).collect();
                if p.follows != expected {
                    out.problems.push(format!(
                        "approval {n}: its `follows` does not list exactly the {} approval(s) before it: an approval was removed, inserted or reordered",
                        history.len()
                    ));
                }
                match ctx.policy {
                    Some(policy) if policy.sha256 == p.policy.sha256 => {
                        let signer = Signer {
                            arn: p.iam_arn.clone(),
                            printed_name: p.printed_name.clone(),
                            key_id: p.key_id,
                            // Group membership cannot be checked offline: every group the
                            // policy names is taken as granted, as for the run signatures.
                            groups: super::verify::group_names(policy),
                        };
                        if let Err(refusal) =
                            evaluate_package(policy, &signer, p.meaning, &ctx.facts, &history)
                        {
                            out.problems.push(format!(
                                "approval {n}: the policy would have refused it: {}",
                                refusal.message
                            ));
                        }
                    }
                    _ => out.not_replayed.push(n),
                }
                history.push(PriorSignature {
                    meaning: p.meaning,
                    arn: p.iam_arn.clone(),
                    printed_name: p.printed_name.clone(),
                    key_id: p.key_id,
                    envelope_sha256,
                });
            }
            (other, _) => out.problems.push(format!(
                "approval {n}: {} (it signs bytes 0 to {} of the file, less its signature value)",
                other.describe(),
                a.end
            )),
        }
        out.results.push(result);
    }
    out
}
