//! The signing policy in force: `<home>/policy.json`, or the built-in default.

use countersign_core::signature::policy::Policy;

use crate::error::ServiceError;
use crate::Service;

/// File name of the signing policy inside the home directory.
pub const POLICY_FILE: &str = "policy.json";

/// The policy used when the home has no `policy.json`: version 1, any IAM user or role may
/// sign any meaning on any phase; separation of duties on; a 10-minute idle timeout; 3 failures
/// in 15 minutes lock signing for 30 minutes. Its bytes are fixed, so its digest is too.
pub const DEFAULT_POLICY_JSON: &str = r#"{"format":"countersign.policy/v1","version":1,"session":{"idle_timeout_minutes":10,"lockout":{"max_failures":3,"window_minutes":15,"lock_minutes":30}},"separation_of_duties":{"no_self_approval":true},"grants":[{"arn":"arn:aws:iam::*:*","meanings":["Authored","Reviewed","Approved","Rejected"],"phases":["IQ","OQ","PQ"]},{"arn":"arn:aws:sts::*:*","meanings":["Authored","Reviewed","Approved","Rejected"],"phases":["IQ","OQ","PQ"]}]}"#;

impl Service {
    /// The signing policy: `<home>/policy.json` when present, else [`DEFAULT_POLICY_JSON`];
    /// with where it came from (`<home>/policy.json` or `built-in default`).
    pub fn signing_policy(&self) -> Result<(Policy, String), ServiceError> {
        let path = self.home().join(POLICY_FILE);
        match std::fs::read(&path) {
            Ok(bytes) => {
                let p = Policy::parse(&bytes)
                    .map_err(|e| ServiceError::bad_input(format!("{}: {e}", path.display())))?;
                Ok((p, path.display().to_string()))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let p = Policy::parse(DEFAULT_POLICY_JSON.as_bytes()).map_err(|e| {
                    ServiceError::storage(format!("the built-in policy is invalid: {e}"))
                })?;
                Ok((p, "built-in default".into()))
            }
            Err(e) => Err(ServiceError::storage(format!(
                "could not read the signing policy {}: {e}",
                path.display()
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorCode;

    #[test]
    fn the_built_in_policy_parses_with_the_documented_limits() {
        let p = Policy::parse(DEFAULT_POLICY_JSON.as_bytes()).unwrap();
        assert_eq!(p.version, 1);
        assert_eq!(p.session.idle_timeout_minutes, 10);
        assert_eq!(p.session.lockout.max_failures, 3);
        assert!(p.separation_of_duties.no_self_approval);
    }

    /// A verifier replays a signature made under the default against these exact bytes
    /// (`predicate.policy.sha256`), so they are published and frozen: a change is a new
    /// default with a new version, and the old bytes stay published.
    #[test]
    fn the_built_in_policy_is_published_byte_for_byte() {
        let published = include_bytes!("../../../../docs/policy-default.json");
        assert_eq!(DEFAULT_POLICY_JSON.as_bytes(), published.as_slice());
        assert_eq!(
            countersign_core::digest::Sha256::of(published).to_hex(),
            "648430814f9e5bd7b0122c1371c8c77ab2421d7c98a6d5f4244436a942d9c768"
        );
    }

    #[test]
    fn a_home_policy_file_wins_and_a_bad_one_is_named() {
        let home = tempfile::tempdir().unwrap();
        let s = crate::test_env::service(home.path());
        assert_eq!(s.signing_policy().unwrap().1, "built-in default");
        std::fs::write(home.path().join(POLICY_FILE), b"{\"format\":\"x\"}").unwrap();
        let e = s.signing_policy().unwrap_err();
        assert_eq!(e.code, ErrorCode::BadInput);
        assert!(e.message.contains("policy.json"), "{e}");
        let own = DEFAULT_POLICY_JSON.replace("\"version\":1", "\"version\":7");
        std::fs::write(home.path().join(POLICY_FILE), own).unwrap();
        assert_eq!(s.signing_policy().unwrap().0.version, 7);
    }
}
