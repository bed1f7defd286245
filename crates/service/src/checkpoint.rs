//! Ledger checkpoints as a use case: sign the head with the user's enrolled key, record it,
//! publish it to S3 under Object Lock (COMPLIANCE), and verify the ledger against published
//! checkpoints so that a ledger rolled back to an older copy is detected.

use std::path::{Path, PathBuf};

use countersign_aws::object_lock::{put_compliance_locked, require_object_lock};
use countersign_aws::{s3, AwsContext, AwsError, AwsErrorKind, AwsSettings};
use countersign_core::layout::S3Location;
use countersign_core::ledger_event::CheckpointStatement;
use countersign_keys::{Passphrase, UnlockedKey};
use countersign_ledger::{Actor, ChainReport, Checkpoint, CheckpointSigner, LedgerError, NewEvent};
use serde::{Deserialize, Serialize};
use time::Duration;

use crate::error::{self as err, ServiceError};
use crate::signing::refused;
use crate::Service;

/// The home's checkpoint settings file: `{"retention_days": N}`.
pub const CHECKPOINT_CONFIG_FILE: &str = "checkpoint.json";
/// Action of the event recording a checkpoint's publication.
pub const CHECKPOINT_PUBLISHED: &str = "ledger.checkpoint_published";
/// The longest retention accepted (100 years), in days.
pub const MAX_RETENTION_DAYS: u32 = 36_500;
/// The largest checkpoint file read back (a checkpoint is about 400 bytes).
const MAX_CHECKPOINT_BYTES: usize = 64 * 1024;

/// The folder under a location that holds checkpoints: `PREFIX/checkpoints/`.
fn checkpoints_prefix(loc: &S3Location) -> String {
    loc.key("checkpoints/")
}

/// The key of a checkpoint: `PREFIX/checkpoints/<seq, 20 digits>-<head hash>.json`. Digits and
/// hex only below the prefix, so the key never leaves it, and the same checkpoint always has
/// the same key.
fn checkpoint_key(loc: &S3Location, seq: u64, head_hash_hex: &str) -> String {
    format!("{}{seq:020}-{head_hash_hex}.json", checkpoints_prefix(loc))
}

/// What `ledger checkpoint` does.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CheckpointRequest {
    /// Which key; may be omitted when the home holds exactly one enrolled key.
    pub key_id: Option<String>,
    /// `s3://BUCKET/PREFIX` to publish to, if any.
    pub publish: Option<S3Location>,
    /// Days of COMPLIANCE retention; defaults to `retention_days` in `<home>/checkpoint.json`.
    pub retention_days: Option<u32>,
}

/// A published checkpoint as S3 reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PublishedCheckpoint {
    /// `s3://bucket/key`.
    pub uri: String,
    /// The object's version id.
    pub version_id: Option<String>,
    /// `COMPLIANCE`.
    pub mode: String,
    /// Retain-until date, RFC 3339, as read back.
    pub retain_until: String,
}

/// A checkpoint just made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CheckpointInfo {
    /// The sequence it covers.
    pub seq: u64,
    /// The head hash at that sequence (hex).
    pub head_hash: String,
    /// When it was made (UTC).
    pub time_utc: String,
    /// The signing key.
    pub key_id: countersign_core::signature::key_id::KeyId,
    /// The signer.
    pub printed_name: String,
    /// The published JSON.
    pub json: String,
    /// Where it was published, if it was.
    pub published: Option<PublishedCheckpoint>,
}

/// Where published checkpoints are read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CheckpointSource {
    /// `s3://BUCKET/PREFIX` (objects under `PREFIX/checkpoints/`).
    S3(S3Location),
    /// A folder of checkpoint `.json` files.
    Dir(PathBuf),
}

/// One published checkpoint and whether it was trusted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExternalCheckpoint {
    /// Where it was read.
    pub source: String,
    /// The sequence it covers, when readable.
    pub seq: Option<u64>,
    /// The enrolled signer, when the key is enrolled.
    pub signer: Option<String>,
    /// Trusted: signature verifies and the key is an enrolled signer key.
    pub trusted: bool,
    /// Why it was not trusted.
    pub problem: Option<String>,
}

/// `ledger verify` against published checkpoints.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LedgerVerification {
    /// The chain walk, with the trusted published checkpoints compared.
    pub report: ChainReport,
    /// Every published checkpoint read.
    pub external: Vec<ExternalCheckpoint>,
}

impl LedgerVerification {
    /// True when the chain verifies and every published checkpoint was trusted.
    pub fn is_ok(&self) -> bool {
        self.report.is_ok() && self.external.iter().all(|e| e.trusted)
    }
}

#[derive(Deserialize)]
struct CheckpointConfig {
    retention_days: u32,
}

/// The key file as a checkpoint signer.
struct KeySigner<'a>(&'a UnlockedKey);

impl CheckpointSigner for KeySigner<'_> {
    fn public_key(&self) -> [u8; 32] {
        self.0.public_key().to_bytes()
    }
    fn sign_checkpoint(&self, statement: &CheckpointStatement) -> Result<[u8; 64], LedgerError> {
        Ok(self.0.sign_checkpoint(statement)?)
    }
}

/// S3 trouble the user fixes by changing the input (wrong bucket, no Object Lock, an existing
/// object) is bad input; the rest is environment trouble.
pub(crate) fn from_s3(e: AwsError) -> ServiceError {
    match e.kind {
        AwsErrorKind::NoSuchBucket | AwsErrorKind::InvalidInput => {
            ServiceError::bad_input(e.to_string())
        }
        _ => ServiceError::from(e),
    }
}

impl Service {
    /// Days of retention for a published checkpoint: `flag`, else `retention_days` from
    /// `<home>/checkpoint.json`. There is no built-in default: COMPLIANCE retention cannot be
    /// shortened once written, so the period is always a deliberate choice.
    pub fn checkpoint_retention_days(&self, flag: Option<u32>) -> Result<u32, ServiceError> {
        let path = self.home().join(CHECKPOINT_CONFIG_FILE);
        let days = match flag {
            Some(d) => d,
            None => match std::fs::read(&path) {
                Ok(bytes) => {
                    serde_json::from_slice::<CheckpointConfig>(&bytes)
                        .map_err(|e| {
                            ServiceError::bad_input(format!(
                                "{}: {e}; expected {{\"retention_days\": N}}",
                                path.display()
                            ))
                        })?
                        .retention_days
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    return Err(ServiceError::bad_input(format!(
                        "no retention period for published checkpoints: pass --retention-days N or write {{\"retention_days\": N}} to {}",
                        path.display()
                    )))
                }
                Err(e) => {
                    return Err(ServiceError::storage(format!(
                        "could not read {}: {e}",
                        path.display()
                    )))
                }
            },
        };
        if !(1..=MAX_RETENTION_DAYS).contains(&days) {
            return Err(ServiceError::bad_input(format!(
                "a retention of {days} days is outside 1-{MAX_RETENTION_DAYS}"
            )));
        }
        Ok(days)
    }

    /// Checks a checkpoint request before the passphrase is asked for: the publication
    /// location, the retention, and the signer's enrolled, unrevoked key. Returns the key.
    pub fn ledger_checkpoint_check(
        &self,
        req: &CheckpointRequest,
    ) -> Result<countersign_ledger::SignerKeyRecord, ServiceError> {
        if req.publish.is_some() {
            self.checkpoint_retention_days(req.retention_days)?;
        }
        Ok(self.checkpoint_key(req)?.0)
    }

    fn checkpoint_key(
        &self,
        req: &CheckpointRequest,
    ) -> Result<
        (
            countersign_ledger::SignerKeyRecord,
            countersign_keys::KeyFile,
        ),
        ServiceError,
    > {
        let (info, file) = self.key_file(req.key_id.as_deref(), |k| {
            k.enrolled.as_ref().is_some_and(|e| e.revoked.is_none())
        })?;
        match info.enrolled {
            Some(k) if k.revoked.is_none() => Ok((k, file)),
            Some(k) => Err(refused(format!(
                "the key {} was revoked; it cannot sign a checkpoint",
                k.key_id
            ))),
            None => Err(refused(format!(
                "the key {} is not enrolled; a checkpoint is trusted only when signed by an enrolled key (`countersign keys enroll`)",
                info.key_id
            ))),
        }
    }

    /// Signs the ledger's head with the enrolled key, records the checkpoint, and with
    /// `publish` writes it to S3 under Object Lock (COMPLIANCE). Everything that can be
    /// checked is checked before the key is opened: the location, the retention, the key's
    /// enrollment, the bucket's Object Lock.
    pub async fn ledger_checkpoint(
        &self,
        aws: &AwsSettings,
        req: &CheckpointRequest,
        passphrase: &Passphrase,
    ) -> Result<CheckpointInfo, ServiceError> {
        let now = self.now();
        let target = match &req.publish {
            Some(loc) => {
                let days = self.checkpoint_retention_days(req.retention_days)?;
                Some((loc, days, self.aws(aws).await?))
            }
            None => None,
        };
        let (key, file) = self.checkpoint_key(req)?;
        let (policy, _) = self.signing_policy()?;
        if let Some(until) = self.locked_until(&key.iam_arn, &policy, now)? {
            return Err(refused(format!(
                "signing is locked for {} until {until} after repeated failed attempts",
                key.iam_arn
            )));
        }
        if let Some((loc, _, ctx)) = &target {
            require_object_lock(ctx, loc.bucket.as_str())
                .await
                .map_err(from_s3)?;
        }
        let unlocked = self.unlock_key(&key, &file, &policy, passphrase, now)?;
        let actor = Actor::person(key.iam_arn.clone(), key.printed_name.clone());
        let cp = self
            .ledger()?
            .checkpoint(&KeySigner(&unlocked), &actor)
            .map_err(err::from_ledger)?;
        drop(unlocked);
        let json = cp.to_json();
        let head_hash = cp.statement.head_hash.to_hex();
        let mut out = CheckpointInfo {
            seq: cp.statement.seq,
            head_hash: head_hash.clone(),
            time_utc: cp.statement.time_utc.clone(),
            key_id: key.key_id,
            printed_name: key.printed_name.clone(),
            json: json.clone(),
            published: None,
        };
        let Some((loc, days, ctx)) = target else {
            return Ok(out);
        };
        let object_key = checkpoint_key(loc, cp.statement.seq, &head_hash);
        let uri = loc.uri_of(&object_key);
        let retain_until = now + Duration::days(i64::from(days));
        let locked = put_compliance_locked(
            &ctx,
            loc.bucket.as_str(),
            &object_key,
            json.into_bytes(),
            "application/json",
            retain_until,
        )
        .await
        .map_err(|e| {
            let base = from_s3(e);
            ServiceError::new(
                base.code,
                format!(
                    "{}\nThe checkpoint of entry {} is recorded in the ledger but was not published to {uri}; fix the cause and run `countersign ledger checkpoint --publish` again",
                    base.message, cp.statement.seq
                ),
            )
        })?;
        let after = serde_json::json!({
            "seq": cp.statement.seq,
            "head_hash": head_hash,
            "version_id": locked.version_id,
            "mode": locked.mode,
            "retain_until": locked.retain_until,
        });
        self.ledger()?
            .append(
                &NewEvent::new(&actor, CHECKPOINT_PUBLISHED, "ledger", uri.clone())
                    .after(after.to_string()),
            )
            .map_err(err::from_ledger)?;
        out.published = Some(PublishedCheckpoint {
            uri,
            version_id: locked.version_id,
            mode: locked.mode,
            retain_until: locked.retain_until,
        });
        Ok(out)
    }

    /// `ledger verify` against published checkpoints (from S3 or a folder). A checkpoint
    /// whose signature does not verify, or whose key is not an enrolled signer key, is
    /// reported and not used; the verification then fails.
    pub async fn ledger_verify_published(
        &self,
        aws: &AwsSettings,
        source: &CheckpointSource,
    ) -> Result<LedgerVerification, ServiceError> {
        let files = match source {
            CheckpointSource::S3(loc) => read_s3_checkpoints(&self.aws(aws).await?, loc).await?,
            CheckpointSource::Dir(dir) => read_dir_checkpoints(dir)?,
        };
        if files.is_empty() {
            let place = match source {
                CheckpointSource::S3(loc) => loc.uri_of(&checkpoints_prefix(loc)),
                CheckpointSource::Dir(d) => d.display().to_string(),
            };
            return Err(ServiceError::bad_input(format!(
                "no published checkpoints found in {place}; check the location"
            )));
        }
        let keys = self.ledger()?.signer_keys().map_err(err::from_ledger)?;
        let mut trusted = Vec::new();
        let mut external = Vec::new();
        for (name, text) in files {
            let mut entry = ExternalCheckpoint {
                source: name.clone(),
                seq: None,
                signer: None,
                trusted: false,
                problem: None,
            };
            match text.and_then(|t| Checkpoint::from_json(&t, &name).map_err(|e| e.to_string())) {
                Err(why) => entry.problem = Some(why),
                Ok(cp) => {
                    entry.seq = Some(cp.statement.seq);
                    let signer = keys.iter().find(|k| k.public_key == cp.public_key);
                    entry.signer = signer.map(|k| format!("{} ({})", k.printed_name, k.iam_arn));
                    if !cp.verify_signature() {
                        entry.problem =
                            Some("its signature does not verify: it was altered or forged".into());
                    } else if signer.is_none() {
                        entry.problem = Some(format!(
                            "it was signed by the key {}, which is not an enrolled signer key of this ledger",
                            cp.public_key.iter().map(|b| format!("{b:02x}")).collect::<String>()
                        ));
                    } else {
                        entry.trusted = true;
                        trusted.push(cp);
                    }
                }
            }
            external.push(entry);
        }
        let report = self
            .ledger()?
            .verify_against(&trusted)
            .map_err(err::from_ledger)?;
        Ok(LedgerVerification { report, external })
    }
}

type CheckpointFile = (String, Result<String, String>);

async fn read_s3_checkpoints(
    ctx: &AwsContext,
    loc: &S3Location,
) -> Result<Vec<CheckpointFile>, ServiceError> {
    let prefix = checkpoints_prefix(loc);
    let listed = s3::list(ctx, loc.bucket.as_str(), &prefix)
        .await
        .map_err(from_s3)?;
    let mut out = Vec::new();
    for obj in listed {
        let rest = &obj.key[prefix.len().min(obj.key.len())..];
        if !rest.ends_with(".json") || rest.contains('/') {
            continue;
        }
        let uri = loc.uri_of(&obj.key);
        if obj.size > MAX_CHECKPOINT_BYTES as u64 {
            out.push((
                uri,
                Err(format!("{} bytes is too large for a checkpoint", obj.size)),
            ));
            continue;
        }
        let mut bytes = Vec::new();
        let got = s3::download(ctx, loc.bucket.as_str(), &obj.key, |chunk| {
            if bytes.len() + chunk.len() > MAX_CHECKPOINT_BYTES {
                return Err("too large for a checkpoint".into());
            }
            bytes.extend_from_slice(chunk);
            Ok(())
        })
        .await;
        let text = match got {
            Ok(_) => String::from_utf8(bytes).map_err(|_| "not UTF-8 text".to_owned()),
            Err(s3::DownloadError::Sink(why)) => Err(why),
            Err(s3::DownloadError::Aws(e)) => return Err(from_s3(e)),
        };
        out.push((uri, text));
    }
    Ok(out)
}

fn read_dir_checkpoints(dir: &Path) -> Result<Vec<CheckpointFile>, ServiceError> {
    let entries = std::fs::read_dir(dir).map_err(|e| {
        ServiceError::bad_input(format!(
            "could not read the checkpoint folder {}: {e}",
            dir.display()
        ))
    })?;
    let mut paths: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file() && p.extension().is_some_and(|x| x == "json"))
        .collect();
    paths.sort();
    let mut out = Vec::new();
    for p in paths {
        let text = match std::fs::metadata(&p) {
            Ok(m) if m.len() > MAX_CHECKPOINT_BYTES as u64 => {
                Err(format!("{} bytes is too large for a checkpoint", m.len()))
            }
            _ => std::fs::read_to_string(&p).map_err(|e| format!("could not read it: {e}")),
        };
        out.push((p.display().to_string(), text));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorCode;

    #[test]
    fn checkpoint_keys_stay_under_the_prefix() {
        let l: S3Location = "s3://gxp-audit/ledger/site-1/".parse().unwrap();
        let key = checkpoint_key(&l, 42, &"ab".repeat(32));
        assert_eq!(
            key,
            format!(
                "ledger/site-1/checkpoints/00000000000000000042-{}.json",
                "ab".repeat(32)
            )
        );
        assert_eq!(l.uri_of(&key), format!("s3://gxp-audit/{key}"));
        let root: S3Location = "s3://gxp-audit".parse().unwrap();
        assert_eq!(checkpoints_prefix(&root), "checkpoints/");
    }

    #[test]
    fn retention_comes_from_the_flag_or_the_home_file_and_has_no_silent_default() {
        let home = tempfile::tempdir().unwrap();
        let s = crate::test_env::service(home.path());
        let e = s.checkpoint_retention_days(None).unwrap_err();
        assert_eq!(e.code, ErrorCode::BadInput);
        assert!(e.message.contains("--retention-days"), "{e}");
        assert_eq!(s.checkpoint_retention_days(Some(30)).unwrap(), 30);
        assert!(s.checkpoint_retention_days(Some(0)).is_err());
        assert!(s.checkpoint_retention_days(Some(40_000)).is_err());
        std::fs::write(
            home.path().join(CHECKPOINT_CONFIG_FILE),
            br#"{"retention_days": 2557}"#,
        )
        .unwrap();
        assert_eq!(s.checkpoint_retention_days(None).unwrap(), 2557);
        assert_eq!(s.checkpoint_retention_days(Some(5)).unwrap(), 5);
        std::fs::write(home.path().join(CHECKPOINT_CONFIG_FILE), b"{\"days\":1}").unwrap();
        let e = s.checkpoint_retention_days(None).unwrap_err();
        assert!(e.message.contains("checkpoint.json"), "{e}");
    }
}
