//! CloudTrail audit evidence: log files, their events, and the signed digest chain.
//!
//! - [`gunzip`]: bounded decompression (CloudTrail and AWS Config deliver gzip);
//! - [`events`]: log files → events, and the events that touch a stack's resources;
//! - [`public_key`]: the CloudTrail public keys a user supplies as a file;
//! - [`digest_chain`]: offline validation of digest signatures, log-file hashes and the
//!   previous-digest links, reported per file.
//!
//! The algorithm follows "Validating CloudTrail log file integrity with a custom implementation"
//! and "CloudTrail digest file structure" (AWS CloudTrail User Guide), and the AWS CLI's
//! `cloudtrail validate-logs`; `docs/audit-evidence.md` states it step by step.

pub mod digest_chain;
pub mod events;
pub mod gunzip;
pub mod public_key;
