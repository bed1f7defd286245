//! The signers and policy the package tests sign with: fixed keys, so every envelope they make
//! is the same bytes each run.

use crate::signature::SigningKey;

/// A policy letting any IAM identity sign any meaning on any phase, separation of duties on.
pub(super) const POLICY: &str = r#"{"format":"countersign.policy/v1","version":1,"separation_of_duties":{"no_self_approval":true},"grants":[{"arn":"arn:aws:iam::*:*","meanings":["Authored","Reviewed","Approved","Rejected"],"phases":["IQ","OQ","PQ"]}]}"#;

/// A signer: key, printed name, IAM identity.
pub(super) struct Person {
    pub(super) key: SigningKey,
    pub(super) name: &'static str,
    pub(super) arn: &'static str,
}

pub(super) fn dana() -> Person {
    Person {
        key: SigningKey::from_bytes(&[1; 32]),
        name: "Dana Whitfield",
        arn: "arn:aws:iam::123456789012:user/dana",
    }
}

pub(super) fn sam() -> Person {
    Person {
        key: SigningKey::from_bytes(&[2; 32]),
        name: "Sam Okafor",
        arn: "arn:aws:iam::123456789012:user/sam",
    }
}
