//! Long operations in the app: the Connect form, and the one sync or import and the one package
//! build that may run at a time, each cancellable.

use std::marker::PhantomData;
use std::sync::Mutex;

use countersign_core::layout::{BucketName, Prefix};
use countersign_service::{AwsSettings, CancelToken, ErrorCode, FetchRequest, ServiceError};
use serde::Deserialize;

/// The Connect screen's fields, as the window sends them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ConnectForm {
    /// AWS profile from `~/.aws/config`; empty means the default credential chain.
    #[serde(default)]
    pub profile: String,
    /// AWS region; empty means the profile's or the environment's.
    #[serde(default)]
    pub region: String,
    /// An S3-compatible endpoint URL; empty means AWS itself.
    #[serde(default)]
    pub endpoint: String,
    pub bucket: String,
    #[serde(default)]
    pub prefix: String,
}

fn non_empty(s: &str) -> Option<String> {
    let s = s.trim();
    (!s.is_empty()).then(|| s.to_owned())
}

impl ConnectForm {
    /// The service request for this form, or a message naming the field to fix.
    pub fn to_request(&self) -> Result<FetchRequest, ServiceError> {
        let bucket = non_empty(&self.bucket)
            .ok_or_else(|| ServiceError::bad_input("enter the S3 bucket to sync from"))?
            .parse::<BucketName>()
            .map_err(|e| ServiceError::bad_input(e.to_string()))?;
        let prefix = self
            .prefix
            .trim()
            .parse::<Prefix>()
            .map_err(|e| ServiceError::bad_input(e.to_string()))?;
        let endpoint_url = non_empty(&self.endpoint);
        if let Some(url) = &endpoint_url {
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                return Err(ServiceError::bad_input(format!(
                    "endpoint {url:?} is not an http:// or https:// URL; leave it empty to use AWS"
                )));
            }
        }
        Ok(FetchRequest {
            aws: AwsSettings {
                profile: non_empty(&self.profile),
                region: non_empty(&self.region),
                // S3-compatible stores behind a custom endpoint rarely resolve bucket host names.
                force_path_style: endpoint_url.is_some(),
                endpoint_url,
            },
            bucket,
            prefix,
            concurrency: countersign_service::DEFAULT_FETCH_CONCURRENCY,
            stack: None,
        })
    }
}

/// What runs in a [`Slot`], and what the window is told when one already does.
pub trait SlotKind: Send + Sync + 'static {
    const BUSY: &'static str;
}

/// Syncs and imports: both take objects into the store, so one at a time (two would only race).
#[derive(Debug)]
pub struct Intake;

impl SlotKind for Intake {
    const BUSY: &'static str =
        "a sync or import is already running; wait for it to finish or cancel it";
}

/// Package builds: one at a time, cancellable until the package is written.
#[derive(Debug)]
pub struct Packaging;

impl SlotKind for Packaging {
    const BUSY: &'static str = "a package is already being built; wait for it or cancel it";
}

/// The long operation of kind `K` in progress, if any.
#[derive(Debug)]
pub struct Slot<K> {
    current: Mutex<Option<CancelToken>>,
    kind: PhantomData<K>,
}

/// The one sync or import.
pub type FetchSlot = Slot<Intake>;
/// The one package build.
pub type PackageSlot = Slot<Packaging>;

impl<K> Default for Slot<K> {
    fn default() -> Self {
        Self {
            current: Mutex::new(None),
            kind: PhantomData,
        }
    }
}

/// Holds the slot while its operation runs; frees it when dropped, however the operation ends.
#[derive(Debug)]
pub struct SlotGuard<'a, K> {
    slot: &'a Slot<K>,
    /// Cancelled by [`Slot::cancel`].
    pub token: CancelToken,
}

impl<K: SlotKind> Slot<K> {
    /// Claims the slot, or refuses when an operation of this kind is already running.
    pub fn begin(&self) -> Result<SlotGuard<'_, K>, ServiceError> {
        let mut current = self.current.lock().map_err(|_| poisoned())?;
        if current.is_some() {
            return Err(ServiceError::new(ErrorCode::Refused, K::BUSY));
        }
        let token = CancelToken::default();
        *current = Some(token.clone());
        Ok(SlotGuard { slot: self, token })
    }

    /// Cancels the running operation; returns whether there was one.
    pub fn cancel(&self) -> Result<bool, ServiceError> {
        let current = self.current.lock().map_err(|_| poisoned())?;
        Ok(current.as_ref().map(CancelToken::cancel).is_some())
    }
}

impl<K> Drop for SlotGuard<'_, K> {
    fn drop(&mut self) {
        if let Ok(mut current) = self.slot.current.lock() {
            *current = None;
        }
    }
}

fn poisoned() -> ServiceError {
    ServiceError::storage(
        "the app's sync state is unusable after an earlier crash; restart the app",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(bucket: &str) -> ConnectForm {
        ConnectForm {
            bucket: bucket.into(),
            ..ConnectForm::default()
        }
    }

    #[test]
    fn a_bucket_is_required() {
        let err = form("  ").to_request().unwrap_err();
        assert_eq!(err.code, ErrorCode::BadInput);
        assert!(err.message.contains("bucket"), "{}", err.message);
    }

    #[test]
    fn empty_fields_fall_back_to_the_aws_defaults() {
        let req = form("qual").to_request().unwrap();
        assert_eq!(req.bucket.as_str(), "qual");
        assert!(req.prefix.is_root());
        assert_eq!(req.aws.profile, None);
        assert_eq!(req.aws.region, None);
        assert_eq!(req.aws.endpoint_url, None);
        assert!(!req.aws.force_path_style);
    }

    #[test]
    fn an_endpoint_uses_path_style_and_fields_are_trimmed() {
        let f = ConnectForm {
            profile: " qa ".into(),
            region: "eu-west-1".into(),
            endpoint: "http://127.0.0.1:5055".into(),
            bucket: "qual".into(),
            prefix: "/results/".into(),
        };
        let req = f.to_request().unwrap();
        assert_eq!(req.aws.profile.as_deref(), Some("qa"));
        assert_eq!(
            req.aws.endpoint_url.as_deref(),
            Some("http://127.0.0.1:5055")
        );
        assert!(req.aws.force_path_style);
        assert_eq!(req.prefix.as_str(), "results/");
    }

    #[test]
    fn an_endpoint_that_is_not_a_url_is_refused_by_name() {
        let f = ConnectForm {
            endpoint: "localhost:5055".into(),
            ..form("qual")
        };
        let err = f.to_request().unwrap_err();
        assert_eq!(err.code, ErrorCode::BadInput);
        assert!(err.message.contains("localhost:5055"), "{}", err.message);
    }

    #[test]
    fn unknown_form_fields_are_refused() {
        let err = serde_json::from_value::<ConnectForm>(serde_json::json!({
            "bucket": "qual", "secretKey": "x"
        }))
        .unwrap_err();
        assert!(err.to_string().contains("secretKey"), "{err}");
    }

    #[test]
    fn one_fetch_at_a_time_and_the_slot_frees_on_drop() {
        let slot = FetchSlot::default();
        assert!(!slot.cancel().unwrap(), "nothing to cancel yet");
        let guard = slot.begin().unwrap();
        assert_eq!(slot.begin().unwrap_err().code, ErrorCode::Refused);
        assert!(slot.cancel().unwrap());
        assert!(guard.token.is_cancelled());
        drop(guard);
        let again = slot.begin().unwrap();
        assert!(
            !again.token.is_cancelled(),
            "a new fetch starts uncancelled"
        );
        // A package build has its own slot: it runs beside a sync, not beside another build.
        let packages = PackageSlot::default();
        let building = packages.begin().unwrap();
        let busy = packages.begin().unwrap_err();
        assert!(busy.message.contains("package"), "{}", busy.message);
        assert!(!again.token.is_cancelled() && !building.token.is_cancelled());
    }
}
