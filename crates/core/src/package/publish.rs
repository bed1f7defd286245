//! Publishing a validation package: whether a verified package may leave the desktop for
//! write-once storage, and the object keys it is written under (docs/package-format.md §14).
//!
//! An object written under Object Lock COMPLIANCE retention can be neither deleted nor
//! overwritten by anyone until its retention ends, so only a final package goes there: one that
//! verifies now, is byte for byte what this desktop built, whose every run its verified
//! signatures establish as approved, and whose PDF carries a verified `Approved` package
//! approval (§15).

use std::fmt;

use crate::lifecycle::RunState;
use crate::package::approval::PackageState;
use crate::package::verify::{CheckState, RunProven};

/// Why a package is not published. Nothing is written when any of these holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotPublishable {
    /// The package does not verify; `problem` names the part and the check.
    NotVerified {
        /// The first problem found.
        problem: String,
    },
    /// This desktop has no build record of it, or the file differs from what was built.
    NotBuiltHere {
        /// What the `built` check found.
        detail: String,
    },
    /// Not every run is approved by its verified signatures.
    NotApproved {
        /// Runs approved.
        approved: usize,
        /// Runs in the package.
        total: usize,
        /// The runs that are not, with their state.
        open: Vec<(String, RunState)>,
    },
    /// The PDF carries no verified `Approved` package approval.
    PackageNotApproved {
        /// Its state as its approvals establish it.
        state: PackageState,
    },
    /// The package id cannot name an S3 object.
    UnsafeId {
        /// The id as read (shown escaped).
        id: String,
    },
}

impl fmt::Display for NotPublishable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotVerified { problem } => write!(
                f,
                "the package does not verify ({problem}); only a package that verifies is published"
            ),
            Self::NotBuiltHere { detail } => write!(
                f,
                "this desktop cannot vouch for the file: {detail}. Publish the package from the desktop that built it, with the file exactly as it was written"
            ),
            Self::NotApproved {
                approved,
                total,
                open,
            } => {
                let list: Vec<String> = open
                    .iter()
                    .map(|(run, state)| format!("{run}: {}", state.words()))
                    .collect();
                write!(
                    f,
                    "{approved} of {total} runs are approved by verified signatures ({}); a published package is retained unchangeable, so only one whose every run is approved is published",
                    list.join(", ")
                )
            }
            Self::PackageNotApproved { state } => write!(
                f,
                "the package itself is {}: a published package is retained unchangeable, so only a package signed Reviewed and then Approved is published; sign the package first, then publish the signed PDF",
                match state {
                    PackageState::Reviewed => "reviewed but not approved",
                    _ => "a draft, not approved",
                }
            ),
            Self::UnsafeId { id } => write!(
                f,
                "the package id {id:?} cannot name an S3 object (letters, digits, '.', '_' and '-' only)"
            ),
        }
    }
}

/// What verification found, as far as publishing depends on it.
#[derive(Debug, Clone, Copy)]
pub struct Verified<'a> {
    /// The package id, when a manifest could be read.
    pub package_id: Option<&'a str>,
    /// Whether every part verified.
    pub verified: bool,
    /// The first problem, when it did not.
    pub first_problem: Option<&'a str>,
    /// The `built` check of every part, with its detail (none when not verified against a
    /// home).
    pub built: &'a [(CheckState, &'a str)],
    /// Each run's state as its verified signatures establish it.
    pub runs: &'a [RunProven],
    /// For the PDF: the package's state as its verified approvals establish it; `None` for a
    /// bundle published beside it (the bundle carries the evidence and the draft; the
    /// approvals are in the PDF).
    pub package_state: Option<PackageState>,
}

/// Whether a verified package may be published, and under which id.
pub fn publishable<'a>(v: &Verified<'a>) -> Result<&'a str, NotPublishable> {
    if !v.verified {
        return Err(NotPublishable::NotVerified {
            problem: v
                .first_problem
                .unwrap_or("no part of it verified")
                .to_owned(),
        });
    }
    if v.built.is_empty() {
        return Err(NotPublishable::NotBuiltHere {
            detail: "it was not checked against a build record".into(),
        });
    }
    if let Some((_, detail)) = v.built.iter().find(|(s, _)| *s != CheckState::Passed) {
        return Err(NotPublishable::NotBuiltHere {
            detail: (*detail).to_owned(),
        });
    }
    let open: Vec<(String, RunState)> = v
        .runs
        .iter()
        .filter(|r| r.state != RunState::Approved)
        .map(|r| (r.run.clone(), r.state))
        .collect();
    if v.runs.is_empty() || !open.is_empty() {
        return Err(NotPublishable::NotApproved {
            approved: v.runs.len() - open.len(),
            total: v.runs.len(),
            open,
        });
    }
    if let Some(state) = v.package_state.filter(|s| *s != PackageState::Approved) {
        return Err(NotPublishable::PackageNotApproved { state });
    }
    let id = v.package_id.unwrap_or_default();
    if !safe_id(id) {
        return Err(NotPublishable::UnsafeId { id: id.to_owned() });
    }
    Ok(id)
}

fn safe_id(id: &str) -> bool {
    (1..=128).contains(&id.len())
        && !id.starts_with('.')
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

/// The key, below the publishing prefix, of a package's PDF: `<package-id>/<package-id>.pdf`.
pub fn pdf_key(package_id: &str) -> String {
    format!("{package_id}/{package_id}.pdf")
}

/// The key, below the publishing prefix, of a package's bundle: `<package-id>/<package-id>.zip`.
pub fn bundle_key(package_id: &str) -> String {
    format!("{package_id}/{package_id}.zip")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(id: &str, state: RunState) -> RunProven {
        RunProven {
            run: id.into(),
            state,
            status: "passed".into(),
        }
    }

    fn check<'a>(runs: &'a [RunProven], built: &'a [(CheckState, &'a str)]) -> Verified<'a> {
        Verified {
            package_id: Some("PKG-20261205-0123456789ab"),
            verified: true,
            first_problem: None,
            built,
            runs,
            package_state: Some(PackageState::Approved),
        }
    }

    #[test]
    fn a_verified_package_built_here_with_every_run_approved_is_published() {
        let runs = [
            run("LIMS/IQ/a", RunState::Approved),
            run("LIMS/OQ/b", RunState::Approved),
        ];
        let built = [(CheckState::Passed, "as built"), (CheckState::Passed, "")];
        assert_eq!(
            publishable(&check(&runs, &built)),
            Ok("PKG-20261205-0123456789ab")
        );
        assert_eq!(
            pdf_key("PKG-1"),
            "PKG-1/PKG-1.pdf",
            "the PDF sits in a folder named for its package"
        );
        assert_eq!(bundle_key("PKG-1"), "PKG-1/PKG-1.zip");
    }

    #[test]
    fn a_run_not_yet_approved_keeps_the_package_on_the_desktop() {
        let runs = [
            run("LIMS/IQ/a", RunState::Approved),
            run("LIMS/OQ/b", RunState::Reviewed),
        ];
        let built = [(CheckState::Passed, "")];
        let err = publishable(&check(&runs, &built)).unwrap_err();
        assert_eq!(
            err,
            NotPublishable::NotApproved {
                approved: 1,
                total: 2,
                open: vec![("LIMS/OQ/b".into(), RunState::Reviewed)],
            }
        );
        let text = err.to_string();
        assert!(text.starts_with("1 of 2 runs are approved"), "{text}");
        assert!(text.contains("LIMS/OQ/b: Reviewed"), "{text}");
        // A package establishing no run at all is not final either.
        assert!(matches!(
            publishable(&check(&[], &built)),
            Err(NotPublishable::NotApproved { total: 0, .. })
        ));
    }

    #[test]
    fn a_package_pdf_not_approved_itself_stays_on_the_desktop() {
        let runs = [run("LIMS/IQ/a", RunState::Approved)];
        let built = [(CheckState::Passed, "")];
        for state in [PackageState::Draft, PackageState::Reviewed] {
            let mut v = check(&runs, &built);
            v.package_state = Some(state);
            let err = publishable(&v).unwrap_err();
            assert_eq!(err, NotPublishable::PackageNotApproved { state });
            assert!(
                err.to_string().starts_with("the package itself is"),
                "{err}"
            );
        }
        // A bundle carries no approval of its own: its PDF does.
        let mut v = check(&runs, &built);
        v.package_state = None;
        assert!(publishable(&v).is_ok());
    }

    #[test]
    fn a_package_that_fails_or_was_not_built_here_is_refused_first() {
        let runs = [run("LIMS/IQ/a", RunState::Approved)];
        let mut v = check(&runs, &[(CheckState::Passed, "")]);
        v.verified = false;
        v.first_problem = Some("PDF: files: runs/a/results.json differs");
        let err = publishable(&v).unwrap_err().to_string();
        assert!(err.contains("does not verify (PDF: files:"), "{err}");

        let err = publishable(&check(&runs, &[])).unwrap_err();
        assert!(matches!(err, NotPublishable::NotBuiltHere { .. }), "{err}");
        let skipped = [(CheckState::Skipped, "no build record of this package here")];
        let err = publishable(&check(&runs, &skipped))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("no build record of this package here"),
            "{err}"
        );
    }

    #[test]
    fn an_id_that_could_escape_its_folder_names_no_object() {
        let runs = [run("LIMS/IQ/a", RunState::Approved)];
        let built = [(CheckState::Passed, "")];
        for id in [
            "",
            "../x",
            "a/b",
            ".hidden",
            "PKG 1",
            "PKG\u{1b}[2J",
            &"x".repeat(129),
        ] {
            let mut v = check(&runs, &built);
            v.package_id = Some(id);
            let err = publishable(&v).unwrap_err();
            assert!(matches!(err, NotPublishable::UnsafeId { .. }), "{id:?}");
            assert!(!err.to_string().contains('\u{1b}'), "shown escaped");
        }
    }
}
