//! What every use case that talks to AWS needs around the adapters: who the caller is (every
//! action against AWS is attributed to the caller's IAM ARN in the audit trail), and how a
//! failed small download becomes a service error.

use countersign_aws::s3::DownloadError;
use countersign_aws::AwsContext;
use countersign_ledger::Actor;

use crate::error::ServiceError;

/// The ARN of the caller, when STS answers (best effort: S3-compatible stores may lack STS).
pub(crate) async fn caller_identity(ctx: &AwsContext) -> Option<String> {
    let out = ctx.sts().get_caller_identity().send().await.ok()?;
    out.arn().map(str::to_owned)
}

/// The caller as the actor of a ledger event: its ARN, or the system when STS cannot say.
pub(crate) async fn caller_actor(ctx: &AwsContext) -> Actor {
    match caller_identity(ctx).await {
        Some(arn) => Actor {
            arn: Some(arn),
            printed_name: None,
        },
        None => Actor::system(),
    }
}

/// A failed write-once upload of `uri`: refused when another writer's object appeared at the
/// key after the comparison (`If-None-Match: *` failed), AWS trouble otherwise.
pub(crate) fn write_once_error(uri: &str, e: countersign_aws::AwsError) -> ServiceError {
    if e.code.as_deref() == Some("PreconditionFailed") {
        ServiceError::new(
            crate::error::ErrorCode::Refused,
            format!("{uri} was written by someone else while publishing; run the publish again to compare"),
        )
    } else {
        ServiceError::from(e)
    }
}

/// A failed download of a small object: AWS trouble, or bytes over the cap (an integrity
/// matter: the object is not what it should be).
pub(crate) fn download_error(e: DownloadError) -> ServiceError {
    match e {
        DownloadError::Aws(a) => ServiceError::from(a),
        DownloadError::Sink(s) => ServiceError::integrity(s),
    }
}
