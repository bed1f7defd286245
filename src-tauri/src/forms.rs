//! The window's forms, as it sends them, and the service requests they become. Only shape and
//! presence are checked here (a required field, a path, two passphrase entries that must agree);
//! every rule about the content belongs to the service.

use std::path::PathBuf;

use countersign_core::layout::S3Location;
use countersign_core::qualified_state::Impact;
use countersign_core::signature::predicate::Meaning;
use countersign_service::{
    export_filter, AdminRevokeRequest, AssessRequest, AwsSettings, CheckpointRequest,
    CheckpointSource, DispositionKind, DispositionRequest, EnrollRequest, EventFilter,
    ExportFormat, FetchSignoffRequest, MfaCode, PackagePublishRequest, PackageRequest,
    PackageSignRequest, Passphrase, PeriodicReviewRequest, PublishRequest, ReopenRequest,
    ReviewReportRequest, ReviewRequest, ServiceError, SignRequest, SignSecrets, StateList,
    TextMatch, TrustedKeys,
};
use serde::Deserialize;

use crate::wording::Field;

/// The longest reason the window takes for a signature, a disposition, a review or a
/// revocation: enough for what was checked and found; details belong in the deviation or change
/// record the reason names. The window counts down to it as the reason is typed.
pub const REASON_MAX_CHARS: usize = 1000;

/// A reason of at most [`REASON_MAX_CHARS`] characters.
fn bounded_reason(reason: &str) -> Result<(), ServiceError> {
    let n = reason.trim().chars().count();
    if n > REASON_MAX_CHARS {
        return Err(ServiceError::bad_input(format!(
            "the reason is {n} characters long; keep it to {REASON_MAX_CHARS}: say what you checked and found, and put longer detail in the deviation or change record it names"
        )));
    }
    Ok(())
}

fn non_empty(s: &str) -> Option<String> {
    let s = s.trim();
    (!s.is_empty()).then(|| s.to_owned())
}

fn path(value: &str, what: &str) -> Result<PathBuf, ServiceError> {
    let p = non_empty(value).ok_or_else(|| ServiceError::bad_input(format!("enter {what}")))?;
    let p = PathBuf::from(p);
    if !p.is_absolute() {
        return Err(ServiceError::bad_input(format!(
            "{what} must be a full path (starting with /): {}",
            p.display()
        )));
    }
    Ok(p)
}

/// Where AWS calls go: the profile, region and endpoint of a connection (no bucket).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AwsForm {
    #[serde(default)]
    pub profile: String,
    #[serde(default)]
    pub region: String,
    #[serde(default)]
    pub endpoint: String,
}

impl AwsForm {
    /// The settings, or a message naming the field to fix.
    pub fn settings(&self) -> Result<AwsSettings, ServiceError> {
        let endpoint_url = non_empty(&self.endpoint);
        if let Some(url) = &endpoint_url {
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                return Err(ServiceError::bad_input(format!(
                    "endpoint {url:?} is not an http:// or https:// URL; leave it empty to use AWS"
                )));
            }
        }
        Ok(AwsSettings {
            profile: non_empty(&self.profile),
            region: non_empty(&self.region),
            force_path_style: endpoint_url.is_some(),
            endpoint_url,
        })
    }
}

/// Packages: which runs, and where the PDF (and optionally the bundle) go.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PackageForm {
    pub runs: Vec<String>,
    pub out: String,
    #[serde(default)]
    pub bundle: String,
    #[serde(default)]
    pub title: String,
}

impl PackageForm {
    pub fn to_request(&self) -> Result<PackageRequest, ServiceError> {
        let mut out = path(&self.out, "where to save the package PDF")?;
        if out.extension().is_none() {
            out.set_extension("pdf");
        }
        let bundle = match non_empty(&self.bundle) {
            Some(b) => Some(path(&b, "where to save the bundle")?),
            None => None,
        };
        Ok(PackageRequest {
            runs: self.runs.clone(),
            out,
            bundle,
            title: non_empty(&self.title),
            ..PackageRequest::default()
        })
    }
}

/// Verifying a package file, optionally against a file of trusted public keys.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct VerifyForm {
    pub path: String,
    #[serde(default)]
    pub trusted_keys: String,
}

impl VerifyForm {
    /// The package path and the trusted keys (read and parsed now).
    pub fn to_request(&self) -> Result<(PathBuf, Option<TrustedKeys>), ServiceError> {
        let target = path(
            &self.path,
            "the package file to verify (a PDF, a bundle folder or a .zip)",
        )?;
        let trusted = match non_empty(&self.trusted_keys) {
            None => None,
            Some(f) => {
                let file = path(&f, "the trusted-keys file")?;
                let text = std::fs::read_to_string(&file).map_err(|e| {
                    ServiceError::bad_input(format!("cannot read {}: {e}", file.display()))
                })?;
                Some(TrustedKeys::parse(&file.display().to_string(), &text)?)
            }
        };
        Ok((target, trusted))
    }

    /// The S3 object to verify (`s3://BUCKET/KEY`) and the trusted keys, when the path names
    /// a published package; `None` for a file on this desktop.
    pub fn to_published(&self) -> Result<Option<(String, Option<TrustedKeys>)>, ServiceError> {
        let uri = self.path.trim();
        if !uri.starts_with("s3://") {
            return Ok(None);
        }
        let trusted = VerifyForm {
            path: "/".into(),
            trusted_keys: self.trusted_keys.clone(),
        }
        .to_request()?
        .1;
        Ok(Some((uri.to_owned(), trusted)))
    }
}

/// Publishing a final package (its PDF, and its bundle .zip when given) to S3 under Object Lock
/// COMPLIANCE retention.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PackagePublishForm {
    pub pdf: String,
    #[serde(default)]
    pub bundle: String,
    pub location: String,
    #[serde(default)]
    pub object_lock_days: Option<u32>,
}

impl PackagePublishForm {
    /// The request, or the field that is wrong.
    pub fn to_request(&self) -> Result<PackagePublishRequest, (Field, ServiceError)> {
        let pdf = path(&self.pdf, "the package PDF to publish").map_err(|e| (Field::Path, e))?;
        let bundle = match non_empty(&self.bundle) {
            None => None,
            Some(b) => Some(path(&b, "the bundle .zip").map_err(|e| (Field::Bundle, e))?),
        };
        let to = s3_location(
            &self.location,
            "where to publish the package (s3://BUCKET/PREFIX)",
        )
        .map_err(|e| (Field::Location, e))?;
        let object_lock_days = self.object_lock_days.ok_or_else(|| {
            (
                Field::Days,
                ServiceError::bad_input(
                    "enter how many days the package is retained under Object Lock COMPLIANCE",
                ),
            )
        })?;
        Ok(PackagePublishRequest {
            pdf,
            bundle,
            to,
            object_lock_days,
        })
    }
}

/// Signing a package (Packages screen): the PDF, where the signed PDF goes, the meaning
/// (`Reviewed` or `Approved`), the reason and the key; `utcOffsetMinutes` as for [`SignForm`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PackageSignForm {
    pub pdf: String,
    pub out: String,
    pub meaning: String,
    pub reason: String,
    #[serde(default)]
    pub key_id: String,
    #[serde(default)]
    pub utc_offset_minutes: i32,
}

impl PackageSignForm {
    /// The request, or the field that is wrong.
    pub fn to_request(&self) -> Result<PackageSignRequest, (Field, ServiceError)> {
        let pdf = path(&self.pdf, "the package PDF to sign").map_err(|e| (Field::Path, e))?;
        let out =
            path(&self.out, "where to save the signed package PDF").map_err(|e| (Field::Out, e))?;
        if out == pdf {
            return Err((
                Field::Out,
                ServiceError::bad_input(
                    "save the signed package under a new name: the package you sign stays as it is",
                ),
            ));
        }
        let meaning = match meaning(&self.meaning) {
            Ok(m @ (Meaning::Reviewed | Meaning::Approved)) => m,
            _ => {
                return Err((
                    Field::Reason,
                    ServiceError::bad_input(
                        "choose what the signature means: Reviewed or Approved",
                    ),
                ))
            }
        };
        if self.reason.trim().is_empty() {
            return Err((
                Field::Reason,
                ServiceError::bad_input(
                    "a package approval needs a reason: say what you read and why you sign",
                ),
            ));
        }
        bounded_reason(&self.reason).map_err(|e| (Field::Reason, e))?;
        Ok(PackageSignRequest {
            pdf,
            out,
            meaning,
            reason: self.reason.trim().to_owned(),
            key_id: non_empty(&self.key_id),
            mfa_serial: None,
        })
    }
}

/// The audit-trail filter (`ledger export`'s filters; empty fields match everything). The
/// window's text fields find what contains them, in any letter case ("signature" finds
/// `signature.applied` and `signature.refused`); the export of a filtered list holds exactly
/// the entries the list showed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AuditFilterForm {
    #[serde(default)]
    pub since: String,
    #[serde(default)]
    pub until: String,
    #[serde(default)]
    pub actor: String,
    #[serde(default)]
    pub object_kind: String,
    #[serde(default)]
    pub object: String,
    #[serde(default)]
    pub action: String,
}

impl AuditFilterForm {
    pub fn to_filter(&self) -> Result<EventFilter, ServiceError> {
        let f = |s: &String| non_empty(s);
        Ok(EventFilter {
            text_match: TextMatch::Contains,
            ..export_filter(
                f(&self.since).as_deref(),
                f(&self.until).as_deref(),
                f(&self.actor).as_deref(),
                f(&self.object_kind).as_deref(),
                f(&self.object).as_deref(),
                f(&self.action).as_deref(),
            )?
        })
    }
}

/// Exporting the (filtered) audit trail to a new file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AuditExportForm {
    pub filter: AuditFilterForm,
    /// `csv` or `json`.
    pub format: String,
    pub out: String,
}

impl AuditExportForm {
    pub fn to_request(&self) -> Result<(ExportFormat, EventFilter, PathBuf), ServiceError> {
        let format = match self.format.trim() {
            "csv" => ExportFormat::Csv,
            "json" => ExportFormat::Json,
            other => {
                return Err(ServiceError::bad_input(format!(
                    "unknown export format {other:?}: choose csv or json"
                )))
            }
        };
        let out = path(&self.out, "where to save the export")?;
        Ok((format, self.filter.to_filter()?, out))
    }
}

/// A new signer key: printed name and the passphrase typed twice. The passphrase is a
/// [`Passphrase`] from the moment it is read, and never leaves this process except sealed in
/// the key file.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewKeyForm {
    pub printed_name: String,
    passphrase: Passphrase,
    confirm: Passphrase,
}

impl NewKeyForm {
    /// The printed name and the passphrase, once both entries agree.
    pub fn into_request(self) -> Result<(String, Passphrase), ServiceError> {
        let (passphrase, confirm) = (self.passphrase, self.confirm);
        if passphrase != confirm {
            return Err(ServiceError::bad_input(
                "the two passphrase entries differ; type the same passphrase twice",
            ));
        }
        Ok((self.printed_name, passphrase))
    }
}

/// Enrolling a key to the MFA-backed IAM identity of the signer.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EnrollForm {
    pub aws: AwsForm,
    #[serde(default)]
    pub key_id: String,
    pub mfa_serial: String,
    mfa_code: MfaCode,
    #[serde(default)]
    pub accept_certification: bool,
}

impl EnrollForm {
    pub fn into_request(self) -> Result<(AwsSettings, EnrollRequest), ServiceError> {
        let aws = self.aws.settings()?;
        Ok((
            aws,
            EnrollRequest {
                // Empty: the device the AWS profile names (mfa_serial).
                mfa_serial: self.mfa_serial.trim().to_owned(),
                mfa_code: MfaCode::new(self.mfa_code.expose().trim().to_owned()),
                key_id: non_empty(&self.key_id),
                certification_accepted: self.accept_certification,
            },
        ))
    }
}

/// Enrolling a key to the identity of an IAM Identity Center sign-in (no MFA code: the identity
/// provider asked for its own factor in the browser).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SignedInEnrollForm {
    pub aws: AwsForm,
    #[serde(default)]
    pub key_id: String,
    #[serde(default)]
    pub accept_certification: bool,
}

impl SignedInEnrollForm {
    /// The chosen key; `None`: the one key not yet enrolled.
    pub fn key(&self) -> Option<String> {
        non_empty(&self.key_id)
    }
}

/// A disposition of a failed or errored case.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DispositionForm {
    pub run: String,
    pub case_id: String,
    /// `deviation` or `accepted`.
    pub kind: String,
    pub reference: String,
    pub reason: String,
    /// The signer key whose enrolled owner records it; empty = the only enrolled key.
    #[serde(default)]
    pub key_id: String,
}

impl DispositionForm {
    pub fn to_request(&self) -> Result<(DispositionRequest, Option<String>), ServiceError> {
        let kind: DispositionKind = self.kind.trim().parse()?;
        bounded_reason(&self.reason)?;
        Ok((
            DispositionRequest {
                run: self.run.clone(),
                case_id: self.case_id.clone(),
                kind,
                reference: self.reference.clone(),
                reason: self.reason.clone(),
            },
            non_empty(&self.key_id),
        ))
    }
}

/// What to sign: the run, meaning, reason and key; `utcOffsetMinutes` is the signer's offset
/// as the window's clock knows it (recorded with the signature).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SignForm {
    pub run: String,
    pub meaning: String,
    pub reason: String,
    #[serde(default)]
    pub key_id: String,
    #[serde(default)]
    pub mfa_serial: String,
    #[serde(default)]
    pub utc_offset_minutes: i32,
}

/// The Re-open panel of the Sign screen: the run and the reason; the key and MFA device as
/// for a signature.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ReopenForm {
    pub run: String,
    pub reason: String,
    #[serde(default)]
    pub key_id: String,
    #[serde(default)]
    pub mfa_serial: String,
    #[serde(default)]
    pub utc_offset_minutes: i32,
}

impl ReopenForm {
    pub fn to_request(&self) -> Result<ReopenRequest, ServiceError> {
        if self.reason.trim().is_empty() {
            return Err(ServiceError::bad_input(
                "a re-open needs a reason: say what must be corrected",
            ));
        }
        bounded_reason(&self.reason)?;
        Ok(ReopenRequest {
            run: self.run.clone(),
            reason: self.reason.clone(),
            key_id: non_empty(&self.key_id),
            mfa_serial: non_empty(&self.mfa_serial),
        })
    }
}

impl SignForm {
    pub fn to_request(&self) -> Result<SignRequest, ServiceError> {
        let meaning = meaning(&self.meaning)?;
        if self.reason.trim().is_empty() {
            return Err(ServiceError::bad_input(
                "a signature needs a reason: say what you checked",
            ));
        }
        bounded_reason(&self.reason)?;
        Ok(SignRequest {
            run: self.run.clone(),
            meaning,
            reason: self.reason.clone(),
            key_id: non_empty(&self.key_id),
            mfa_serial: non_empty(&self.mfa_serial),
        })
    }
}

/// Marking the audit trail reviewed up to an entry: the entry, the reason and the key;
/// `utcOffsetMinutes` as for [`SignForm`]; `shown`, what the window displayed of the trail.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ReviewForm {
    pub up_to: u64,
    pub reason: String,
    #[serde(default)]
    pub key_id: String,
    #[serde(default)]
    pub utc_offset_minutes: i32,
    #[serde(default)]
    pub shown: Option<ReviewShown>,
}

/// What the reviewer actually looked at: the filter the list was shown with, and how many of
/// the entries 1 to `upTo` were displayed on screen (a row drawn in view, or opened).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ReviewShown {
    pub filter: AuditFilterForm,
    pub displayed: u64,
}

impl ReviewShown {
    /// The statement recorded after the reviewer's reason, inside the signature: the range
    /// reviewed, the filter it was shown with, and how many of its entries were never displayed.
    pub fn statement(&self, up_to: u64) -> String {
        let f = &self.filter;
        let parts: Vec<String> = [
            ("Since", &f.since, "from"),
            ("Until", &f.until, "before"),
            ("Actor", &f.actor, "contains"),
            ("Action", &f.action, "contains"),
            ("Object kind", &f.object_kind, "contains"),
            ("Object id", &f.object, "contains"),
        ]
        .iter()
        .filter(|(_, v, _)| !v.trim().is_empty())
        .map(|(label, v, how)| format!("{label} {how} \u{201c}{}\u{201d}", v.trim()))
        .collect();
        let filter = if parts.is_empty() {
            "without a filter".to_owned()
        } else {
            format!("filtered by {} (case-insensitive)", parts.join(", "))
        };
        let displayed = self.displayed.min(up_to);
        let never = up_to - displayed;
        format!(
            "Shown in the app before signing: entries 1 to {up_to} of the audit trail, {filter}. Of these {up_to} entries, {displayed} were displayed and {never} were never displayed."
        )
    }
}

impl ReviewForm {
    /// The reason that is signed: the reviewer's words, then what the window displayed.
    pub fn signed_reason(&self) -> String {
        let own = self.reason.trim();
        match &self.shown {
            Some(shown) => format!("{own}\n\n{}", shown.statement(self.up_to)),
            None => own.to_owned(),
        }
    }

    pub fn to_request(&self) -> Result<ReviewRequest, ServiceError> {
        if self.up_to == 0 {
            return Err(ServiceError::bad_input(
                "enter the last entry you reviewed (its number in the # column; the first is 1)",
            ));
        }
        if self.reason.trim().is_empty() {
            return Err(ServiceError::bad_input(
                "an audit-trail review needs a reason: what was reviewed and found",
            ));
        }
        bounded_reason(&self.reason)?;
        Ok(ReviewRequest {
            up_to: self.up_to,
            reason: self.signed_reason(),
            key_id: non_empty(&self.key_id),
            mfa_serial: None,
        })
    }
}

/// Importing a folder or `.zip` laid out like the bucket (evidence carried on removable media).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ImportForm {
    pub path: String,
}

impl ImportForm {
    pub fn to_request(&self) -> Result<PathBuf, ServiceError> {
        path(&self.path, "the folder or .zip file to import")
    }
}

/// Revoking an enrolled key, with the reason (lost laptop, person left, …).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RevokeForm {
    pub key_id: String,
    pub reason: String,
}

impl RevokeForm {
    pub fn to_request(&self) -> Result<(String, String), ServiceError> {
        let key_id = non_empty(&self.key_id)
            .ok_or_else(|| ServiceError::bad_input("choose the key to revoke"))?;
        let reason = non_empty(&self.reason).ok_or_else(|| {
            ServiceError::bad_input(
                "a revocation needs a reason: say why the key may no longer sign",
            )
        })?;
        bounded_reason(&reason)?;
        Ok((key_id, reason))
    }
}

/// An administrator's revocation of someone's key.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AdminRevokeForm {
    pub key_id: String,
    pub reason: String,
    #[serde(default)]
    pub admin_key_id: String,
}

impl AdminRevokeForm {
    pub fn to_request(&self) -> Result<AdminRevokeRequest, ServiceError> {
        let (key_id, reason) = RevokeForm {
            key_id: self.key_id.clone(),
            reason: self.reason.clone(),
        }
        .to_request()?;
        Ok(AdminRevokeRequest {
            key_id,
            reason,
            admin_key_id: non_empty(&self.admin_key_id),
            mfa_serial: None,
        })
    }
}

/// Saving a key's public half to a new file, for auditors.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct KeySaveForm {
    pub key_id: String,
    pub out: String,
}

impl KeySaveForm {
    pub fn to_request(&self) -> Result<(String, PathBuf), ServiceError> {
        let key_id = non_empty(&self.key_id)
            .ok_or_else(|| ServiceError::bad_input("choose the key to save"))?;
        Ok((key_id, path(&self.out, "where to save the public key")?))
    }
}

/// Backing the ledger up to a new file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BackupForm {
    pub out: String,
}

impl BackupForm {
    pub fn to_request(&self) -> Result<PathBuf, ServiceError> {
        path(&self.out, "where to save the ledger backup")
    }
}

/// `reviewed`, `Approved`, … in any case (the core's one parser).
fn meaning(text: &str) -> Result<Meaning, ServiceError> {
    text.parse().map_err(|_| {
        ServiceError::bad_input(format!(
            "unknown meaning {text:?}: choose Authored, Reviewed, Approved or Rejected"
        ))
    })
}

/// The secrets of one signing: the passphrase, and the MFA code when the session is closed.
/// Taken from the window for this call only, as secret types from the moment they are read.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SecretsForm {
    passphrase: Passphrase,
    #[serde(default)]
    mfa_code: Option<MfaCode>,
}

impl SecretsForm {
    pub fn into_secrets(self) -> SignSecrets {
        let code = self
            .mfa_code
            .map(|c| MfaCode::new(c.expose().trim().to_owned()))
            .filter(|c| !c.is_blank());
        SignSecrets {
            passphrase: self.passphrase,
            mfa_code: code,
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    /// Each missing or malformed field of the publish form is named at that field, before
    /// anything reaches S3.
    #[test]
    fn a_package_publish_form_names_the_field_that_is_wrong() {
        let good = PackagePublishForm {
            pdf: "/tmp/p.pdf".into(),
            bundle: String::new(),
            location: "s3://final-packages/lims".into(),
            object_lock_days: Some(30),
        };
        let req = good.to_request().unwrap();
        assert_eq!(req.bundle, None);
        assert_eq!(req.object_lock_days, 30);
        assert_eq!(req.to.to_string(), "s3://final-packages/lims/");
        let field = |f: PackagePublishForm| f.to_request().unwrap_err().0;
        assert_eq!(
            field(PackagePublishForm {
                object_lock_days: None,
                ..good.clone()
            }),
            Field::Days
        );
        assert_eq!(
            field(PackagePublishForm {
                location: "final-packages".into(),
                ..good.clone()
            }),
            Field::Location
        );
        assert_eq!(
            field(PackagePublishForm {
                pdf: "relative.pdf".into(),
                ..good.clone()
            }),
            Field::Path
        );
        assert_eq!(
            field(PackagePublishForm {
                bundle: "b.zip".into(),
                ..good.clone()
            }),
            Field::Bundle
        );
        // A path that is not s3:// is verified as a file on this desktop.
        let local = VerifyForm {
            path: "/tmp/p.pdf".into(),
            trusted_keys: String::new(),
        };
        assert_eq!(local.to_published().unwrap(), None);
        let published = VerifyForm {
            path: " s3://final-packages/lims/PKG-1/PKG-1.pdf ".into(),
            trusted_keys: String::new(),
        };
        assert_eq!(
            published.to_published().unwrap(),
            Some(("s3://final-packages/lims/PKG-1/PKG-1.pdf".to_owned(), None))
        );
    }

    /// Every form that carries a secret, and every service request it becomes, formatted
    /// with `{:?}` as a log line or a panic message would: no secret appears.
    #[test]
    fn no_request_or_form_prints_a_secret() {
        const PASS: &str = "correct horse battery staple";
        const CODE: &str = "864209";
        let secrets: SecretsForm =
            serde_json::from_value(json!({ "passphrase": PASS, "mfaCode": CODE })).unwrap();
        let enroll: EnrollForm = serde_json::from_value(json!({
            "aws": {}, "mfaSerial": "arn:aws:iam::1:mfa/a", "mfaCode": CODE,
            "acceptCertification": true
        }))
        .unwrap();
        let new_key: NewKeyForm = serde_json::from_value(json!({
            "printedName": "Dana Whitfield", "passphrase": PASS, "confirm": PASS
        }))
        .unwrap();
        let passphrase: PassphraseForm =
            serde_json::from_value(json!({ "passphrase": PASS })).unwrap();
        let mut shown = vec![
            format!("{secrets:?}"),
            format!("{enroll:?}"),
            format!("{new_key:?}"),
            format!("{passphrase:?}"),
        ];
        shown.push(format!("{:?}", secrets.into_secrets()));
        shown.push(format!("{:?}", enroll.into_request().unwrap()));
        shown.push(format!("{:?}", new_key.into_request().unwrap()));
        shown.push(format!("{:?}", passphrase.into_passphrase()));
        for text in shown {
            assert!(
                !text.contains(PASS) && !text.contains(CODE),
                "a secret in Debug output: {text}"
            );
        }
    }

    #[test]
    fn package_paths_must_be_absolute_and_get_a_pdf_extension() {
        let f = PackageForm {
            runs: vec!["A/IQ/1".into()],
            out: "/tmp/out/package".into(),
            ..PackageForm::default()
        };
        let req = f.to_request().unwrap();
        assert_eq!(req.out, PathBuf::from("/tmp/out/package.pdf"));
        assert_eq!(req.bundle, None);
        let err = PackageForm {
            out: "package.pdf".into(),
            ..f.clone()
        }
        .to_request()
        .unwrap_err();
        assert!(err.message.contains("full path"), "{}", err.message);
        let err = PackageForm {
            out: " ".into(),
            ..f
        }
        .to_request()
        .unwrap_err();
        assert!(err.message.contains("package PDF"), "{}", err.message);
    }

    #[test]
    fn a_passphrase_typed_differently_twice_is_refused_and_debug_hides_it() {
        let form: NewKeyForm = serde_json::from_value(json!({
            "printedName": "Alice Adams", "passphrase": "one secret", "confirm": "one secreT"
        }))
        .unwrap();
        assert!(!format!("{form:?}").contains("secret"));
        let err = form.into_request().unwrap_err();
        assert!(err.message.contains("differ"), "{}", err.message);
        let secrets: SecretsForm =
            serde_json::from_value(json!({"passphrase": "p w", "mfaCode": " 123456 "})).unwrap();
        let shown = format!("{secrets:?}");
        assert!(
            !shown.contains("p w") && !shown.contains("123456"),
            "{shown}"
        );
        assert_eq!(
            secrets
                .into_secrets()
                .mfa_code
                .as_ref()
                .map(MfaCode::expose),
            Some("123456")
        );
    }

    #[test]
    fn meanings_parse_in_any_case_and_a_reason_is_required() {
        let form = SignForm {
            run: "A/OQ/1".into(),
            meaning: "reviewed".into(),
            reason: "read every result".into(),
            ..SignForm::default()
        };
        assert_eq!(form.to_request().unwrap().meaning, Meaning::Reviewed);
        let err = SignForm {
            meaning: "okayed".into(),
            ..form.clone()
        }
        .to_request()
        .unwrap_err();
        assert!(err.message.contains("okayed"), "{}", err.message);
        let err = SignForm {
            reason: "  ".into(),
            ..form
        }
        .to_request()
        .unwrap_err();
        assert!(err.message.contains("reason"), "{}", err.message);
    }

    #[test]
    fn audit_filters_and_formats_are_checked() {
        let f = AuditFilterForm {
            since: "2026-03-01".into(),
            action: "signature.applied".into(),
            ..AuditFilterForm::default()
        };
        let filter = f.to_filter().unwrap();
        assert!(filter.from.is_some());
        assert_eq!(filter.action.as_deref(), Some("signature.applied"));
        assert_eq!(
            filter.text_match,
            TextMatch::Contains,
            "the window's filters find parts"
        );
        assert_eq!(filter.actor, None, "an empty field matches everything");
        let err = AuditExportForm {
            filter: f,
            format: "xml".into(),
            out: "/tmp/x".into(),
        }
        .to_request()
        .unwrap_err();
        assert!(err.message.contains("xml"), "{}", err.message);
    }

    #[test]
    fn a_revocation_needs_a_key_and_a_reason_and_a_backup_a_full_path() {
        let form = |key: &str, reason: &str| RevokeForm {
            key_id: key.into(),
            reason: reason.into(),
        };
        assert!(form("", "lost")
            .to_request()
            .unwrap_err()
            .message
            .contains("key"));
        assert!(form("ab", " ")
            .to_request()
            .unwrap_err()
            .message
            .contains("reason"));
        assert_eq!(
            form(" ab ", " laptop lost ").to_request().unwrap(),
            ("ab".to_owned(), "laptop lost".to_owned())
        );
        let backup = |out: &str| BackupForm { out: out.into() }.to_request();
        assert!(backup("ledger.sqlite")
            .unwrap_err()
            .message
            .contains("full path"));
        assert_eq!(
            backup("/var/backups/l.sqlite").unwrap(),
            PathBuf::from("/var/backups/l.sqlite")
        );
    }

    #[test]
    fn a_reason_longer_than_the_limit_is_refused_with_its_length_everywhere() {
        let long = "x".repeat(REASON_MAX_CHARS + 1);
        let at_limit = "é".repeat(REASON_MAX_CHARS);
        let sign = |reason: &str| {
            SignForm {
                run: "A/OQ/1".into(),
                meaning: "Reviewed".into(),
                reason: reason.into(),
                ..SignForm::default()
            }
            .to_request()
            .map(|_| ())
        };
        let review = |reason: &str| {
            ReviewForm {
                up_to: 3,
                reason: reason.into(),
                ..ReviewForm::default()
            }
            .to_request()
            .map(|_| ())
        };
        let disposition = |reason: &str| {
            DispositionForm {
                kind: "deviation".into(),
                reason: reason.into(),
                ..DispositionForm::default()
            }
            .to_request()
            .map(|_| ())
        };
        let revoke = |reason: &str| {
            RevokeForm {
                key_id: "ab".into(),
                reason: reason.into(),
            }
            .to_request()
            .map(|_| ())
        };
        let assess = |reason: &str| {
            AssessForm {
                system: "LIMS".into(),
                change: "ab".into(),
                impact: "no_impact".into(),
                reason: reason.into(),
                ..AssessForm::default()
            }
            .to_request()
            .map(|_| ())
        };
        for check in [sign, review, disposition, revoke, assess] {
            assert_eq!(check(&at_limit), Ok(()), "1,000 characters, not bytes");
            let err = check(&long).unwrap_err();
            assert_eq!(err.code, countersign_service::ErrorCode::BadInput);
            assert!(err.message.contains("1001 characters"), "{}", err.message);
            let (_, field) = crate::wording::for_window(&err.message);
            assert_eq!(field, Some(crate::wording::Field::Reason));
        }
    }

    #[test]
    fn an_assessment_names_its_impact_and_takes_a_reference_only_when_given() {
        let form = |impact: &str, reference: &str| AssessForm {
            system: " LIMS ".into(),
            change: " 0123abcd ".into(),
            impact: impact.into(),
            reference: reference.into(),
            reason: " Rule closed again; no GxP data exposed ".into(),
            ..AssessForm::default()
        };
        let req = form("requalification_needed", " CC-117 ")
            .to_request()
            .unwrap();
        assert_eq!(req.system, "LIMS");
        assert_eq!(req.change, "0123abcd");
        assert_eq!(req.impact, Impact::RequalificationNeeded);
        assert_eq!(req.reference.as_deref(), Some("CC-117"));
        assert_eq!(req.reason, "Rule closed again; no GxP data exposed");
        assert_eq!(
            form("no_impact", "  ").to_request().unwrap().reference,
            None
        );
        let err = form("probably fine", "").to_request().unwrap_err();
        assert_eq!(err.code, countersign_service::ErrorCode::BadInput);
        assert!(err.message.contains("choose the impact"), "{}", err.message);
        let empty = AssessForm {
            reason: "  ".into(),
            ..form("no_impact", "")
        };
        assert!(empty
            .to_request()
            .unwrap_err()
            .message
            .contains("needs a reason"));
    }

    #[test]
    fn the_window_counts_down_to_the_same_limit() {
        let dom = std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../ui/dom.js"),
        )
        .unwrap();
        assert!(
            dom.contains(&format!(
                "export const REASON_MAX_CHARS = {REASON_MAX_CHARS};"
            )),
            "ui/dom.js and forms.rs disagree on the reason limit"
        );
    }

    #[test]
    fn a_review_states_the_range_the_filter_and_what_was_never_displayed() {
        let form: ReviewForm = serde_json::from_value(json!({
            "upTo": 57, "reason": " Read the sign-off entries ", "keyId": "",
            "shown": { "filter": { "action": "signature", "actor": "" }, "displayed": 9 }
        }))
        .unwrap();
        let req = form.to_request().unwrap();
        assert_eq!(
            req.reason,
            "Read the sign-off entries\n\nShown in the app before signing: entries 1 to 57 of \
             the audit trail, filtered by Action contains \u{201c}signature\u{201d} \
             (case-insensitive). Of these 57 entries, 9 were displayed and 48 were never displayed."
        );
        // Unfiltered and all displayed; a count above the range is capped at the range.
        let all = ReviewForm {
            shown: Some(ReviewShown {
                filter: AuditFilterForm::default(),
                displayed: 80,
            }),
            ..form.clone()
        };
        assert!(all.signed_reason().ends_with(
            "entries 1 to 57 of the audit trail, without a filter. Of these 57 entries, 57 were \
             displayed and 0 were never displayed."
        ));
        // Without what was shown (an older window), the reason is the reviewer's alone.
        let plain = ReviewForm {
            shown: None,
            ..form
        };
        assert_eq!(plain.signed_reason(), "Read the sign-off entries");
    }

    #[test]
    fn a_review_form_leaves_the_device_to_the_enrollment() {
        let form: ReviewForm = serde_json::from_value(
            json!({ "upTo": 12, "reason": "all read", "keyId": "", "utcOffsetMinutes": 60 }),
        )
        .unwrap();
        let req = form.to_request().unwrap();
        assert_eq!((req.up_to, req.key_id, req.mfa_serial), (12, None, None));
        let none = ReviewForm {
            up_to: 0,
            ..ReviewForm::default()
        };
        assert!(none
            .to_request()
            .unwrap_err()
            .message
            .contains("last entry"));
    }
}

/// A location in S3 typed in the window: `s3://BUCKET/PREFIX`, parsed by the core's one rule.
fn s3_location(text: &str, what: &str) -> Result<S3Location, ServiceError> {
    let t = non_empty(text).ok_or_else(|| ServiceError::bad_input(format!("enter {what}")))?;
    t.parse()
        .map_err(|e: countersign_core::layout::LocationError| {
            ServiceError::bad_input(e.to_string())
        })
}

/// A file read for a request: its name (for messages) and its bytes.
pub type KeyFile = (String, Vec<u8>);

/// Validating the CloudTrail digest chain, with the trail's public key file when one is given,
/// for all stacks or one.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AuditEvidenceForm {
    #[serde(default)]
    pub public_key: String,
    #[serde(default)]
    pub stack: String,
}

impl AuditEvidenceForm {
    /// The public key file (name and bytes, read now) and the stack.
    pub fn to_request(&self) -> Result<(Option<KeyFile>, Option<String>), ServiceError> {
        let key = match non_empty(&self.public_key) {
            None => None,
            Some(p) => {
                let file = path(&p, "the CloudTrail public key file")?;
                let bytes = std::fs::read(&file).map_err(|e| {
                    ServiceError::bad_input(format!("cannot read {}: {e}", file.display()))
                })?;
                Some((file.display().to_string(), bytes))
            }
        };
        Ok((key, non_empty(&self.stack)))
    }
}

/// The qualified state of one system or all: the CloudTrail public key file the digest chain
/// is validated with (optional: without it no period counts as covered).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StateForm {
    #[serde(default)]
    pub public_key: String,
    #[serde(default)]
    pub system: String,
}

impl StateForm {
    /// The public key file (name and bytes, read now) and the system.
    pub fn to_request(&self) -> Result<(Option<KeyFile>, Option<String>), ServiceError> {
        AuditEvidenceForm {
            public_key: self.public_key.clone(),
            stack: self.system.clone(),
        }
        .to_request()
    }
}

/// The change or event list of the qualified state, written as CSV to a new file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StateExportForm {
    pub state: StateForm,
    /// `changes` or `events`.
    pub list: String,
    pub out: String,
}

impl StateExportForm {
    pub fn list(&self) -> Result<StateList, ServiceError> {
        match self.list.as_str() {
            "changes" => Ok(StateList::Changes),
            "events" => Ok(StateList::Events),
            other => Err(ServiceError::bad_input(format!(
                "unknown list {other:?}: choose the changes or the CloudTrail calls"
            ))),
        }
    }

    pub fn out(&self) -> Result<PathBuf, ServiceError> {
        path(&self.out, "where to save the list")
    }
}

/// The impact assessment of one change the Qualified state screen shows. `utcOffsetMinutes` as
/// for [`SignForm`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AssessForm {
    pub system: String,
    pub change: String,
    /// `no_impact` or `requalification_needed`.
    pub impact: String,
    #[serde(default)]
    pub reference: String,
    pub reason: String,
    #[serde(default)]
    pub key_id: String,
    #[serde(default)]
    pub utc_offset_minutes: i32,
}

impl AssessForm {
    pub fn to_request(&self) -> Result<AssessRequest, ServiceError> {
        if self.reason.trim().is_empty() {
            return Err(ServiceError::bad_input(
                "an impact assessment needs a reason: why the change has this impact",
            ));
        }
        bounded_reason(&self.reason)?;
        let impact = self.impact.trim().parse::<Impact>().map_err(|_| {
            ServiceError::bad_input("choose the impact: no impact, or requalification needed")
        })?;
        Ok(AssessRequest {
            system: self.system.trim().to_owned(),
            change: self.change.trim().to_owned(),
            impact,
            reference: non_empty(&self.reference),
            reason: self.reason.trim().to_owned(),
            key_id: non_empty(&self.key_id),
            mfa_serial: None,
        })
    }
}

/// A periodic review of one system over a past period: the dates from the form's date fields
/// (`YYYY-MM-DD`, 00:00 UTC), the trail's public key as for [`StateForm`], and the findings
/// digest the reviewer was shown (empty before the check).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PeriodicReviewForm {
    pub system: String,
    pub from: String,
    pub to: String,
    pub reason: String,
    #[serde(default)]
    pub public_key: String,
    #[serde(default)]
    pub expected_findings: String,
    #[serde(default)]
    pub key_id: String,
    #[serde(default)]
    pub utc_offset_minutes: i32,
}

impl PeriodicReviewForm {
    pub fn to_request(&self) -> Result<PeriodicReviewRequest, ServiceError> {
        let (from, to) = review_period(&self.from, &self.to)?;
        if self.reason.trim().is_empty() {
            return Err(ServiceError::bad_input(
                "a periodic review needs a reason: what was reviewed and found",
            ));
        }
        bounded_reason(&self.reason)?;
        let (key, _) = StateForm {
            public_key: self.public_key.clone(),
            system: String::new(),
        }
        .to_request()?;
        Ok(PeriodicReviewRequest {
            system: self.system.trim().to_owned(),
            period: format!("{from}..{to}"),
            reason: self.reason.trim().to_owned(),
            trail_public_key: key,
            expected_findings: non_empty(&self.expected_findings),
            key_id: non_empty(&self.key_id),
            mfa_serial: None,
        })
    }
}

/// The two dates of a review period, each required.
fn review_period(from: &str, to: &str) -> Result<(String, String), ServiceError> {
    let (from, to) = (from.trim(), to.trim());
    if from.is_empty() {
        return Err(ServiceError::bad_input(
            "choose the first day of the period reviewed",
        ));
    }
    if to.is_empty() {
        return Err(ServiceError::bad_input(
            "choose the day the period reviewed ends",
        ));
    }
    Ok((from.to_owned(), to.to_owned()))
}

/// The Periodic Review Report of a signed review, saved to a new PDF.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ReviewReportForm {
    pub system: String,
    /// The period exactly as signed: `FROM..TO` (the review's own times).
    pub period: String,
    pub out: String,
}

impl ReviewReportForm {
    pub fn to_request(&self) -> Result<ReviewReportRequest, ServiceError> {
        Ok(ReviewReportRequest {
            system: self.system.trim().to_owned(),
            period: self.period.trim().to_owned(),
            out: path(&self.out, "where to save the report PDF")?,
            demo: false,
        })
    }
}

/// Handing a signed run to the next signer's desktop through S3, or taking it over.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SignoffForm {
    pub run: String,
    pub location: String,
    #[serde(default)]
    pub object_lock_days: Option<u32>,
}

impl SignoffForm {
    /// The publish request.
    pub fn to_publish(&self) -> Result<PublishRequest, ServiceError> {
        Ok(PublishRequest {
            run: self.run.clone(),
            to: s3_location(
                &self.location,
                "where to publish the sign-off (s3://BUCKET/PREFIX)",
            )?,
            object_lock_days: self.object_lock_days,
        })
    }

    /// The field a refused request is about.
    pub fn field(&self) -> Field {
        Field::Location
    }

    /// The fetch request.
    pub fn to_fetch(&self) -> Result<FetchSignoffRequest, ServiceError> {
        Ok(FetchSignoffRequest {
            run: self.run.clone(),
            from: s3_location(
                &self.location,
                "where the sign-off was published (s3://BUCKET/PREFIX)",
            )?,
        })
    }
}

/// A signed checkpoint of the audit trail, published to S3 when a location is given. The
/// passphrase comes in its own form and is kept only as a [`Passphrase`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CheckpointForm {
    #[serde(default)]
    pub key_id: String,
    #[serde(default)]
    pub publish: String,
    #[serde(default)]
    pub retention_days: Option<u32>,
}

impl CheckpointForm {
    /// The field a refused request is about.
    pub fn field(&self) -> Field {
        Field::Location
    }

    pub fn to_request(&self) -> Result<CheckpointRequest, ServiceError> {
        let publish = match non_empty(&self.publish) {
            None => None,
            Some(p) => Some(s3_location(&p, "where to publish the checkpoint")?),
        };
        Ok(CheckpointRequest {
            key_id: non_empty(&self.key_id),
            publish,
            retention_days: self.retention_days,
        })
    }
}

/// A key passphrase typed for one call.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PassphraseForm {
    passphrase: Passphrase,
}

impl PassphraseForm {
    pub fn into_passphrase(self) -> Passphrase {
        self.passphrase
    }
}

/// Where published checkpoints are read from: an S3 location or a folder.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PublishedCheckpointsForm {
    #[serde(default)]
    pub location: String,
    #[serde(default)]
    pub folder: String,
}

impl PublishedCheckpointsForm {
    /// The field a refused request is about: the folder when only it was given.
    pub fn field(&self) -> Field {
        if non_empty(&self.location).is_none() && non_empty(&self.folder).is_some() {
            Field::Path
        } else {
            Field::Location
        }
    }

    pub fn to_request(&self) -> Result<CheckpointSource, ServiceError> {
        match (non_empty(&self.location), non_empty(&self.folder)) {
            (Some(l), None) => Ok(CheckpointSource::S3(s3_location(&l, "the checkpoint location")?)),
            (None, Some(f)) => Ok(CheckpointSource::Dir(path(&f, "the folder of checkpoint files")?)),
            (None, None) => Err(ServiceError::bad_input(
                "enter where the checkpoints were published (s3://BUCKET/PREFIX) or a folder of checkpoint files",
            )),
            (Some(_), Some(_)) => Err(ServiceError::bad_input(
                "give either an S3 location or a folder of checkpoint files, not both",
            )),
        }
    }
}

/// Restoring the audit trail from a backup file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RestoreForm {
    pub path: String,
}

impl RestoreForm {
    pub fn to_request(&self) -> Result<PathBuf, ServiceError> {
        path(&self.path, "the backup file to restore")
    }
}
