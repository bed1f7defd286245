//! Package approvals read from bytes and checked (docs/package-format.md §15): a file is made
//! here the way §15.1 lays an approval out, without a PDF library (the reader needs none), and
//! every rule of §15.2 and §15.3 is broken once.

use time::macros::{datetime, offset};

use super::approval::{
    check_approvals, read_approvals, ApprovalContext, Approvals, PackageFacts, PackageState,
};
use super::public_key::PublicKeyFile;
use super::test_people::{dana, sam, Person, POLICY};
use crate::digest::Sha256;
use crate::model::Phase;
use crate::signature::dsse::{sign_statement, Envelope};
use crate::signature::key_id::KeyId;
use crate::signature::policy::Policy;
use crate::signature::predicate::{
    Meaning, Offset, PolicyRef, Predicate, StsEvidence, UtcTimestamp,
};
use crate::signature::statement::{Statement, Subject};
use crate::signature::verify::KeyRegistry;

const ID: &str = "PKG-20261105-0123456789ab";
const DRAFT: &[u8] =
    b"%PDF-1.7\n1 0 obj\n<</Type/Catalog>>\nendobj\ntrailer\n<<>>\nstartxref\n9\n%%EOF";
const PLACEHOLDER: &str = "[0 9999999999 9999999999 9999999999]";

fn public_key(who: &Person) -> Vec<u8> {
    PublicKeyFile::new(
        who.key.verifying_key().as_bytes(),
        who.name,
        who.arn,
        "2026-11-01T08:00:00.000Z",
        None,
    )
    .canonical_bytes()
    .unwrap()
}

/// How one approval is made; the defaults are what Countersign does.
struct Approval<'a> {
    who: &'a Person,
    meaning: Meaning,
    package_id: &'a str,
    /// `None`: the envelope digests of the approvals before it.
    follows: Option<Vec<Sha256>>,
}

fn by(who: &Person, meaning: Meaning) -> Approval<'_> {
    Approval {
        who,
        meaning,
        package_id: ID,
        follows: None,
    }
}

/// `prev` with the approval appended: the signature dictionary as §15.1 writes it, the byte
/// range filled in, the statement signed over the signed bytes as the reader derives them.
fn append(prev: &[u8], a: &Approval<'_>) -> Vec<u8> {
    let before = read_approvals(prev).unwrap();
    let mut out = prev.to_vec();
    out.extend_from_slice(
        format!(
            "\n7 0 obj\n<</Type/Sig/Filter/Countersign.DSSE/SubFilter/countersign.package-approval.v1/Countersign.Prev {}/Countersign.PublicKey<{}>/ByteRange{PLACEHOLDER}/Contents<",
            prev.len(),
            hex::encode(public_key(a.who))
        )
        .as_bytes(),
    );
    let start = out.len() - 1;
    out.extend(std::iter::repeat_n(b'0', 2 * 4096));
    out.extend_from_slice(b">");
    let end = out.len();
    out.extend_from_slice(b">>\nendobj\nxref\n0 0\ntrailer\n<<>>\nstartxref\n0\n%%EOF");
    let range = format!("[0 {start} {end} {}]", out.len() - end);
    let at = out
        .windows(PLACEHOLDER.len())
        .rposition(|w| w == PLACEHOLDER.as_bytes())
        .unwrap();
    let padded = format!(
        "{:<width$}]",
        &range[..range.len() - 1],
        width = PLACEHOLDER.len() - 1
    );
    out[at..at + PLACEHOLDER.len()].copy_from_slice(padded.as_bytes());
    let digest = read_approvals(&out)
        .unwrap()
        .revisions
        .last()
        .unwrap()
        .signed_sha256;
    let follows = a.follows.clone().unwrap_or_else(|| {
        before
            .revisions
            .iter()
            .map(|r| Envelope::from_json(&r.envelope).unwrap().digest())
            .collect()
    });
    let predicate = Predicate {
        meaning: a.meaning,
        reason: format!("{}: package read in full", a.meaning),
        printed_name: a.who.name.into(),
        iam_arn: a.who.arn.into(),
        key_id: KeyId::of(&a.who.key.verifying_key()),
        signed_at: UtcTimestamp::new(datetime!(2026-11-06 09:00:00 UTC)),
        utc_offset: Offset::new(offset!(+1)),
        sts: StsEvidence {
            mfa_serial: "arn:aws:iam::123456789012:mfa/x".into(),
            session_expires_at: UtcTimestamp::new(datetime!(2026-11-06 21:00:00 UTC)),
            server_time: None,
        },
        policy: PolicyRef {
            version: 1,
            sha256: Sha256::of(POLICY.as_bytes()),
        },
        follows,
    };
    let statement = Statement::new(
        Subject::new(format!("package:{}", a.package_id), digest),
        predicate,
    );
    let env = sign_statement(&statement, &a.who.key)
        .unwrap()
        .to_canonical_json();
    let hex = hex::encode(&env);
    out[start + 1..start + 1 + hex.len()].copy_from_slice(hex.as_bytes());
    out
}

fn approved() -> Vec<u8> {
    let reviewed = append(DRAFT, &by(&dana(), Meaning::Reviewed));
    append(&reviewed, &by(&sam(), Meaning::Approved))
}

fn facts(runs_not_approved: &[&str]) -> PackageFacts {
    PackageFacts {
        name: format!("package:{ID}"),
        phases: vec![Phase::Oq],
        runs_not_approved: runs_not_approved.iter().map(|s| (*s).to_owned()).collect(),
        runs: 1,
    }
}

/// The check with the package's policy, no package keys and no trusted list.
fn check(file: &[u8]) -> (PackageState, Vec<String>) {
    check_with(file, facts(&[]), None)
}

fn check_with(
    file: &[u8],
    facts: PackageFacts,
    trusted: Option<&std::collections::BTreeSet<KeyId>>,
) -> (PackageState, Vec<String>) {
    let approvals = read_approvals(file).unwrap();
    let policy = Policy::parse(POLICY.as_bytes()).unwrap();
    let checked = check_approvals(
        &approvals,
        &ApprovalContext {
            package_id: ID,
            registry: &KeyRegistry::new(),
            trusted,
            policy: Some(&policy),
            facts,
        },
    );
    (checked.state(), checked.problems)
}

#[test]
fn a_draft_has_no_approval() {
    let a = read_approvals(DRAFT).unwrap();
    assert_eq!(a, Approvals::default());
    assert_eq!(a.draft_len(DRAFT.len()), DRAFT.len());
    assert_eq!(check(DRAFT), (PackageState::Draft, vec![]));
}

#[test]
fn reviewed_then_approved_by_another_person_is_approved() {
    let file = approved();
    let a = read_approvals(&file).unwrap();
    assert_eq!(a.revisions.len(), 2);
    assert_eq!(a.draft_len(file.len()), DRAFT.len());
    assert_eq!(a.revisions[0].prev_len, DRAFT.len());
    assert_eq!(a.revisions[1].prev_len, a.revisions[0].end);
    assert_eq!(a.revisions[1].end, file.len());
    assert_eq!(
        a.revisions[0].revision_sha256,
        Sha256::of(&file[..a.revisions[0].end])
    );
    assert_eq!(check(&file), (PackageState::Approved, vec![]));
    // Cut back to the review: the reviewed package, verified as such.
    let cut = &file[..a.revisions[0].end];
    assert_eq!(check(cut), (PackageState::Reviewed, vec![]));
}

#[test]
fn every_signed_byte_is_bound_and_only_the_signature_value_is_left_out() {
    let file = approved();
    let a = read_approvals(&file).unwrap();
    let gap = a.revisions[1].contents.clone();
    // One flipped bit anywhere in a signed range: the draft, the first revision (its own
    // signature value included, which the second signs), the second revision.
    for at in [
        10,
        DRAFT.len() + 3,
        a.revisions[0].contents.start + 7,
        gap.start - 1,
        gap.end + 2,
        file.len() - 1,
    ] {
        let mut bad = file.clone();
        bad[at] ^= 0x01;
        match read_approvals(&bad) {
            Err(_) => {}
            Ok(_) => {
                let (state, problems) = check(&bad);
                assert!(!problems.is_empty(), "byte {at} flipped still verifies");
                assert_eq!(state, PackageState::Draft);
            }
        }
    }
    // The signature value itself: a changed digit breaks the envelope.
    let mut bad = file.clone();
    bad[gap.start + 20] = if bad[gap.start + 20] == b'a' {
        b'b'
    } else {
        b'a'
    };
    let (_, problems) = check(&bad);
    assert!(!problems.is_empty());
}

#[test]
fn bytes_after_the_last_approval_are_refused() {
    let mut file = approved();
    file.extend_from_slice(b"\n% more");
    let e = read_approvals(&file).unwrap_err();
    assert!(
        e.contains("7 byte(s) after approval 2") && e.contains("covered by no signature"),
        "{e}"
    );
    // One end-of-line after %%EOF is part of a revision; a draft may end with one.
    let mut draft = DRAFT.to_vec();
    draft.push(b'\n');
    let reviewed = append(&draft, &by(&dana(), Meaning::Reviewed));
    assert_eq!(check(&reviewed), (PackageState::Reviewed, vec![]));
}

#[test]
fn a_signature_dictionary_not_as_written_is_refused_naming_the_approval() {
    let file = approved();
    let text = String::from_utf8_lossy(&file).into_owned();
    for (from, to, says) in [
        (
            "/Countersign.Prev ",
            "/Countersign.Prev x",
            "expected a non-negative integer",
        ),
        (
            "/ByteRange[0 ",
            "/ByteRange[1 ",
            "does not leave out exactly its /Contents",
        ),
        (
            "/Countersign.PublicKey<",
            "/Countersign.PublicKey <0",
            "odd number of digits",
        ),
        (
            "/Contents<",
            "/Contents <",
            "does not leave out exactly its /Contents",
        ),
    ] {
        let bad = text.replacen(from, to, 1);
        assert_ne!(bad, text);
        let e = read_approvals(bad.as_bytes()).unwrap_err();
        assert!(e.starts_with("approval 1"), "{e}");
        assert!(e.contains(says), "{from}: {e}");
    }
    // White space inside a hex string is not as Countersign writes it (§15.2: `<`, hex digits,
    // `>`); the same-length change lies outside the signed bytes, so only the reader catches
    // it, as the independent verifier's reader does.
    let a = read_approvals(&file).unwrap();
    let close = a.revisions[1].contents.end - 1;
    let mut spaced = file.clone();
    spaced[close - 2..close].copy_from_slice(b"  ");
    let e = read_approvals(&spaced).unwrap_err();
    assert!(
        e.starts_with("approval 2") && e.contains("not closed by >"),
        "{e}"
    );
    // A byte range past the end of the file.
    let cut = &file[..a.revisions[1].end - 1];
    let e = read_approvals(cut).unwrap_err();
    assert!(
        e.contains("approval 2") && e.contains("past the end"),
        "{e}"
    );
}

#[test]
fn approvals_that_do_not_chain_are_refused() {
    // The second approval made on the draft, then its revision moved after the first: its
    // Prev names the draft, not where the first ended.
    let reviewed = append(DRAFT, &by(&dana(), Meaning::Reviewed));
    let alone = append(DRAFT, &by(&sam(), Meaning::Approved));
    let mut spliced = reviewed.clone();
    spliced.extend_from_slice(&alone[DRAFT.len()..]);
    let e = read_approvals(&spliced).unwrap_err();
    assert!(e.contains("approval 2"), "{e}");
}

#[test]
fn a_removed_or_reordered_approval_fails_its_follows() {
    let reviewed = append(DRAFT, &by(&dana(), Meaning::Reviewed));
    let sam = sam();
    let mut forgot = by(&sam, Meaning::Approved);
    forgot.follows = Some(Vec::new());
    let (state, problems) = check(&append(&reviewed, &forgot));
    assert_eq!(state, PackageState::Draft);
    assert!(
        problems
            .iter()
            .any(|p| p.contains("approval 2") && p.contains("follows")),
        "{problems:?}"
    );
}

#[test]
fn the_package_rules_are_replayed() {
    // Approved without a review: sequence.
    let (_, problems) = check(&append(DRAFT, &by(&sam(), Meaning::Approved)));
    assert!(
        problems.iter().any(|p| p.contains("has not been Reviewed")),
        "{problems:?}"
    );
    // The reviewer approving: separation of duties.
    let reviewed = append(DRAFT, &by(&dana(), Meaning::Reviewed));
    let (_, problems) = check(&append(&reviewed, &by(&dana(), Meaning::Approved)));
    assert!(
        problems.iter().any(|p| p.contains("no-self-approval")),
        "{problems:?}"
    );
    // A run not approved: no package approval counts.
    let (_, problems) = check_with(&approved(), facts(&["LIMS/OQ/r1 (reviewed)"]), None);
    assert!(
        problems
            .iter()
            .any(|p| p.contains("not approved") && p.contains("LIMS/OQ/r1")),
        "{problems:?}"
    );
    // Rejected is not a package approval.
    let (_, problems) = check(&append(DRAFT, &by(&dana(), Meaning::Rejected)));
    assert!(
        problems
            .iter()
            .any(|p| p.contains("a package approval means Reviewed or Approved")),
        "{problems:?}"
    );
}

#[test]
fn an_approval_for_another_package_or_with_an_untrusted_key_fails() {
    let dana = dana();
    let mut other = by(&dana, Meaning::Reviewed);
    other.package_id = "PKG-20261105-ffffffffffff";
    let (_, problems) = check(&append(DRAFT, &other));
    assert!(
        problems.iter().any(|p| p.contains("approval 1")),
        "{problems:?}"
    );
    let only_dana: std::collections::BTreeSet<KeyId> =
        [KeyId::of(&dana.key.verifying_key())].into();
    let (_, problems) = check_with(&approved(), facts(&[]), Some(&only_dana));
    assert!(
        problems
            .iter()
            .any(|p| p.contains("approval 2") && p.contains("not on the trusted list")),
        "{problems:?}"
    );
}

#[test]
fn package_states_follow_the_meanings_in_order() {
    use Meaning::*;
    for (meanings, state) in [
        (vec![], PackageState::Draft),
        (vec![Reviewed], PackageState::Reviewed),
        (vec![Reviewed, Approved], PackageState::Approved),
        (vec![Rejected], PackageState::Draft),
    ] {
        assert_eq!(PackageState::of(meanings.into_iter()), state);
    }
}
