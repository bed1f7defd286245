//! Test support for Countersign: a local AWS emulator (moto) started per test, a fault-injecting
//! proxy in front of it (with an STS front that validates MFA codes and keeps identities, and an
//! IAM Identity Center front that serves the SSO device sign-in the emulator lacks), and
//! fixtures for buckets, IAM users with virtual MFA devices, and CloudFormation stacks.
//! See docs/emulator.md.
#![forbid(unsafe_code)]

pub mod accessibility;
pub mod binaries;
pub mod buckets;
pub mod connector;
pub mod drift_front;
pub mod emulator;
pub mod error;
pub mod form;
pub mod harness;
pub mod http;
pub mod iam;
pub mod proxy;
pub mod secrets;
pub mod sso_front;
pub mod stacks;
pub mod sts_front;
pub mod synthetic;
pub mod tamper;
pub mod totp;
pub mod webdriver;
pub mod window;

pub use emulator::Emulator;
pub use error::{HarnessError, Result};
pub use harness::Harness;
pub use iam::TestUser;
pub use proxy::FaultProxy;
