//! IAM group membership of a signer, so that policy grants to IAM groups reach their members.
//!
//! Only an IAM user has groups. A role session (`arn:aws:sts::…:assumed-role/ROLE/SESSION`), a
//! federated user or the account root has none: IAM groups cannot contain roles. Membership is
//! read with `ListGroupsForUser` using the MFA session's own credentials, so the signer needs
//! `iam:ListGroupsForUser` on their own user.

use crate::config::AwsContext;
use crate::error::{AwsError, AwsErrorKind};

/// The IAM permission group membership is read with.
pub const LIST_GROUPS_PERMISSION: &str = "iam:ListGroupsForUser";

/// What IAM says about a caller's groups.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GroupMembership {
    /// An IAM user and the names of the groups it belongs to (sorted).
    User {
        /// The user name (the last part of the ARN's path).
        user_name: String,
        /// Group names, sorted.
        groups: Vec<String>,
    },
    /// An identity that cannot belong to IAM groups, with the reason in words.
    NotAUser {
        /// Why, e.g. "a role session (assumed role) has no IAM groups".
        why: String,
    },
}

impl GroupMembership {
    /// The group names (empty for an identity that cannot have groups).
    pub fn groups(&self) -> &[String] {
        match self {
            Self::User { groups, .. } => groups,
            Self::NotAUser { .. } => &[],
        }
    }
}

/// The IAM user name in an IAM user ARN (`arn:PARTITION:iam::ACCOUNT:user/PATH/NAME`), or why
/// the ARN has no groups.
pub fn user_name_of(arn: &str) -> Result<String, String> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let [_, _, service, _, _, resource] = parts.as_slice() else {
        return Err(format!("`{arn}` is not an ARN, so it has no IAM groups"));
    };
    match (*service, resource.split_once('/')) {
        ("iam", Some(("user", path))) => match path.rsplit('/').next() {
            Some(name) if !name.is_empty() => Ok(name.to_owned()),
            _ => Err(format!("`{arn}` names no IAM user")),
        },
        ("sts", Some(("assumed-role", _))) => Err(format!(
            "{arn} is a role session (assumed role); IAM groups contain users only, so it has no groups"
        )),
        ("sts", Some(("federated-user", _))) => Err(format!(
            "{arn} is a federated user; IAM groups contain users only, so it has no groups"
        )),
        ("iam", None) if *resource == "root" => Err(format!(
            "{arn} is the account root; it belongs to no IAM group"
        )),
        _ => Err(format!(
            "{arn} is not an IAM user; IAM groups contain users only, so it has no groups"
        )),
    }
}

/// The IAM groups of the caller `arn`, listed with `ctx`'s credentials (those of the caller's
/// MFA session). A caller that is not an IAM user has no groups and is not asked about.
///
/// An AccessDenied answer becomes [`AwsErrorKind::AccessDenied`] naming
/// [`LIST_GROUPS_PERMISSION`], the user, and what to do; it is never an empty list.
pub async fn groups_of(ctx: &AwsContext, arn: &str) -> Result<GroupMembership, AwsError> {
    let user_name = match user_name_of(arn) {
        Ok(name) => name,
        Err(why) => return Ok(GroupMembership::NotAUser { why }),
    };
    let action = format!("list the IAM groups of {arn} ({LIST_GROUPS_PERMISSION})");
    let profile = Some(ctx.profile_name());
    let region = ctx.region_name();
    let iam = ctx.iam();
    let mut groups = Vec::new();
    let mut marker: Option<String> = None;
    loop {
        let out = iam
            .list_groups_for_user()
            .user_name(&user_name)
            .set_marker(marker.take())
            .send()
            .await
            .map_err(|e| {
                let err = AwsError::from_sdk(&e, &action)
                    .with_profile(profile.clone())
                    .with_region(region.clone());
                if err.kind == AwsErrorKind::AccessDenied {
                    err.with_hint(format!(
                        "the policy grants by IAM group, so Countersign must read the signer's groups: ask your AWS administrator to allow {LIST_GROUPS_PERMISSION} on your own user (resource {arn}, e.g. \"Resource\": \"arn:aws:iam::*:user/${{aws:username}}\"), or to grant you by ARN in the signing policy instead of by group"
                    ))
                } else {
                    err
                }
            })?;
        groups.extend(out.groups.into_iter().map(|g| g.group_name));
        match out.marker {
            Some(m) if out.is_truncated => marker = Some(m),
            _ => break,
        }
    }
    groups.sort();
    groups.dedup();
    Ok(GroupMembership::User { user_name, groups })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_names_come_from_iam_user_arns_only() {
        assert_eq!(
            user_name_of("arn:aws:iam::123456789012:user/alice").unwrap(),
            "alice"
        );
        assert_eq!(
            user_name_of("arn:aws:iam::123456789012:user/qa/leads/dana.w@example").unwrap(),
            "dana.w@example"
        );
        assert_eq!(
            user_name_of("arn:aws-us-gov:iam::123456789012:user/bob").unwrap(),
            "bob"
        );
        let role = user_name_of("arn:aws:sts::123456789012:assumed-role/Signer/alice").unwrap_err();
        assert!(role.contains("role session"), "{role}");
        assert!(user_name_of("arn:aws:iam::123456789012:root")
            .unwrap_err()
            .contains("root"));
        assert!(user_name_of("arn:aws:sts::123456789012:federated-user/x")
            .unwrap_err()
            .contains("federated"));
        assert!(user_name_of("arn:aws:iam::123456789012:role/Signer")
            .unwrap_err()
            .contains("not an IAM user"));
        assert!(user_name_of("alice").unwrap_err().contains("not an ARN"));
        assert!(user_name_of("arn:aws:iam::123456789012:user/").is_err());
    }

    #[test]
    fn membership_lists_groups_only_for_users() {
        let m = GroupMembership::User {
            user_name: "alice".into(),
            groups: vec!["ValidationLeads".into()],
        };
        assert_eq!(m.groups(), ["ValidationLeads".to_owned()]);
        let none = GroupMembership::NotAUser { why: "x".into() };
        assert!(none.groups().is_empty());
    }
}
