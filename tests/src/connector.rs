//! How the product reaches the emulator in tests: an [`AwsConnector`] for the service's `Env`
//! that sends every AWS call through the fault proxy. The user's profile choice selects a test
//! identity, as a profile would select one on a real desktop:
//!
//! - no profile: the administrator;
//! - a test user's name ([`crate::TestUser::settings`]): that user's long-term access key;
//! - any other profile: resolved from profile files given with
//!   [`ProxyConnector::use_profile_files`], as the AWS CLI resolves `~/.aws/config` (role
//!   profiles with `source_profile` and `mfa_serial`).

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Mutex;

use aws_credential_types::Credentials;
use countersign_aws::{AwsContext, AwsError, AwsErrorKind, AwsSettings};
use countersign_service::{AwsConnector, Connecting};

use crate::emulator::{admin_credentials, context_for, REGION};

/// Connects the service to the proxy in front of the emulator.
#[derive(Debug)]
pub struct ProxyConnector {
    endpoint: String,
    identities: Mutex<HashMap<String, Credentials>>,
    contexts: Mutex<HashMap<String, AwsContext>>,
    files: Mutex<Option<(PathBuf, PathBuf)>>,
}

impl ProxyConnector {
    /// A connector for the proxy at `endpoint`.
    pub fn new(endpoint: String) -> Self {
        Self {
            endpoint,
            identities: Mutex::new(HashMap::new()),
            contexts: Mutex::new(HashMap::new()),
            files: Mutex::new(None),
        }
    }

    /// The profile `name` now means these long-term credentials.
    pub fn add_identity(&self, name: &str, credentials: Credentials) {
        if let Ok(mut ids) = self.identities.lock() {
            ids.insert(name.to_owned(), credentials);
        }
    }

    /// The profile `name` now means exactly this context (for a test of what the SDK's
    /// resolution yields in a situation the emulator cannot create, such as no credentials).
    pub fn add_context(&self, name: &str, context: AwsContext) {
        if let Ok(mut c) = self.contexts.lock() {
            c.insert(name.to_owned(), context);
        }
    }

    /// Profiles not known as identities are read from these `config` and `credentials` files.
    pub fn use_profile_files(&self, config: PathBuf, credentials: PathBuf) {
        if let Ok(mut f) = self.files.lock() {
            *f = Some((config, credentials));
        }
    }

    async fn resolve(&self, settings: &AwsSettings) -> Result<AwsContext, AwsError> {
        let unknown = |what: String| AwsError::new(AwsErrorKind::InvalidInput, what);
        if let Some(name) = &settings.profile {
            let made = self.contexts.lock().ok().and_then(|c| c.get(name).cloned());
            if let Some(ctx) = made {
                return Ok(ctx);
            }
        }
        let identity = match &settings.profile {
            None => Some(admin_credentials()),
            Some(name) => self
                .identities
                .lock()
                .ok()
                .and_then(|ids| ids.get(name).cloned()),
        };
        if let Some(credentials) = identity {
            return context_for(&self.endpoint, credentials)
                .await
                .map_err(|e| unknown(format!("reach the test proxy: {e}")));
        }
        let files = self.files.lock().ok().and_then(|f| f.clone());
        let Some((config, credentials)) = files else {
            return Err(unknown(format!(
                "use the test profile {:?}, which no test identity or profile file defines",
                settings.profile
            )));
        };
        let through_proxy = AwsSettings {
            profile: settings.profile.clone(),
            region: settings.region.clone().or_else(|| Some(REGION.to_owned())),
            endpoint_url: Some(self.endpoint.clone()),
            force_path_style: true,
        };
        AwsContext::load_from_files(&through_proxy, &config, &credentials).await
    }
}

impl AwsConnector for ProxyConnector {
    fn connect<'a>(&'a self, settings: &'a AwsSettings) -> Connecting<'a> {
        Box::pin(self.resolve(settings))
    }
}

/// A connector for tests that never reach AWS: every connection is refused, naming why.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoAws;

impl AwsConnector for NoAws {
    fn connect<'a>(&'a self, _settings: &'a AwsSettings) -> Connecting<'a> {
        Box::pin(async {
            Err(AwsError::new(
                AwsErrorKind::Other,
                "reach AWS (this test works offline)",
            ))
        })
    }
}
