//! AWS adapters: everything that talks to S3, CloudFormation, STS or IAM Identity Center goes through here, via the
//! official AWS SDK for Rust. Nothing in this crate decides policy; it fetches, lists and reports,
//! and turns SDK failures into errors that name the bucket, key, profile and region involved.
#![forbid(unsafe_code)]
// AwsError carries the bucket/key/profile/region/hint a user needs; errors are the cold path and
// a few hundred bytes on it cost nothing, while boxing would hide the fields from matching.
#![allow(clippy::result_large_err)]

pub mod cloudformation;
pub mod config;
pub mod error;
pub mod iam;
pub mod object_lock;
pub mod s3;
pub mod sso;
pub mod stack_snapshot;
pub mod sts;
pub mod whole_listing;

pub use config::{AwsContext, AwsSettings, RoleProfile, SsoProfile};
pub use error::{AwsError, AwsErrorKind};
