//! The proxy's STS front: answers `GetSessionToken` as real STS does, which the emulator does
//! not (it ignores the MFA code and returns one fixed key pair for every caller, so every MFA
//! session looks like the same person), and checks `AssumeRole` before the emulator sees it
//! (the emulator ignores the MFA code there too, and assumes any role, even one that does not
//! exist).
//!
//! - The caller is the IAM user owning the access key that signed the request.
//! - `SerialNumber` must be an MFA device of that user, and `TokenCode` its current RFC 6238
//!   code (one step either side accepted); otherwise 403 AccessDenied with STS's exact message.
//! - GetSessionToken: the temporary credentials are a fresh access key of that user, created
//!   through the emulator's IAM (the user's previous session key is deleted first: IAM allows
//!   two keys per user), so GetCallerIdentity with them answers
//!   `arn:aws:iam::<account>:user/<name>`.
//! - AssumeRole: the role must exist, and a role whose trust policy has an
//!   `aws:MultiFactorAuthPresent` condition is refused without an MFA code, as real STS refuses
//!   a caller the trust policy does not allow. Once checked, the request goes to the emulator,
//!   whose credentials make GetCallerIdentity answer the assumed-role ARN.

use std::collections::HashMap;

use hyper::Response;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::proxy::{lock, xml_escape, xml_response, ProxyBody, SharedState};
use crate::totp;

const STS_NS: &str = "https://sts.amazonaws.com/doc/2011-06-15/";

/// The message real STS sends with a wrong MFA code (trailing space included).
pub const INVALID_MFA_CODE_MESSAGE: &str =
    "MultiFactorAuthentication failed with invalid MFA one time pass code. ";

/// Default session length when `DurationSeconds` is absent (12 hours).
const DEFAULT_DURATION: i64 = 43_200;

/// Answers one GetSessionToken request.
pub(crate) async fn get_session_token(
    state: &SharedState,
    iam: &aws_sdk_iam::Client,
    access_key_id: Option<&str>,
    fields: &HashMap<String, String>,
) -> Response<ProxyBody> {
    let Some(akid) = access_key_id else {
        return error(
            state,
            403,
            "MissingAuthenticationToken",
            "Request is missing Authentication Token",
        );
    };
    if lock(state).minted.contains(akid) {
        return error(
            state,
            403,
            "AccessDenied",
            "Cannot call GetSessionToken with session credentials",
        );
    }
    let Some(user) = caller(state, iam, akid).await else {
        return error(
            state,
            403,
            "InvalidClientTokenId",
            "The security token included in the request is invalid.",
        );
    };

    let duration = match fields.get("DurationSeconds") {
        None => DEFAULT_DURATION,
        Some(text) => match text.parse::<i64>() {
            Ok(d) if (900..=129_600).contains(&d) => d,
            _ => {
                return error(
                    state,
                    400,
                    "ValidationError",
                    &format!("1 validation error detected: Value '{text}' at 'durationSeconds' failed to satisfy constraint: Member must have value between 900 and 129600"),
                )
            }
        },
    };

    if let Err(refused) = check_mfa(state, &user, fields) {
        return refused;
    }

    // Mint: delete the user's earlier session keys (every key but the long-term one that signed
    // this request: a client killed mid-request can leave one minted but never handed out, and
    // IAM allows two keys per user), then create a new one.
    let earlier: Vec<String> = match iam.list_access_keys().user_name(&user).send().await {
        Ok(out) => out
            .access_key_metadata()
            .iter()
            .filter_map(|k| k.access_key_id())
            .filter(|id| *id != akid)
            .map(str::to_owned)
            .collect(),
        Err(_) => lock(state)
            .session_keys
            .get(&user)
            .cloned()
            .into_iter()
            .collect(),
    };
    for old in earlier {
        let _ = iam
            .delete_access_key()
            .user_name(&user)
            .access_key_id(&old)
            .send()
            .await;
    }
    let created = match iam.create_access_key().user_name(&user).send().await {
        Ok(out) => out.access_key,
        Err(e) => {
            return error(
                state,
                500,
                "InternalFailure",
                &format!(
                    "could not mint session credentials: {}",
                    aws_sdk_iam::error::DisplayErrorContext(&e)
                ),
            )
        }
    };
    let Some(key) = created else {
        return error(state, 500, "InternalFailure", "IAM returned no access key");
    };
    let request_id = {
        let mut st = lock(state);
        st.session_keys
            .insert(user.clone(), key.access_key_id.clone());
        st.minted.insert(key.access_key_id.clone());
        st.request_id()
    };
    let expires = OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .unwrap_or_else(|_| OffsetDateTime::now_utc())
        + time::Duration::seconds(duration);
    let expiration = expires.format(&Rfc3339).unwrap_or_default();
    let token = format!("FQoGZXIvYXdzECountersignTestSession{}", hex_of(&request_id));
    let xml = format!(
        "<GetSessionTokenResponse xmlns=\"{STS_NS}\">\n  <GetSessionTokenResult>\n    <Credentials>\n      <AccessKeyId>{}</AccessKeyId>\n      <SecretAccessKey>{}</SecretAccessKey>\n      <SessionToken>{token}</SessionToken>\n      <Expiration>{expiration}</Expiration>\n    </Credentials>\n  </GetSessionTokenResult>\n  <ResponseMetadata>\n    <RequestId>{request_id}</RequestId>\n  </ResponseMetadata>\n</GetSessionTokenResponse>\n",
        xml_escape(&key.access_key_id),
        xml_escape(&key.secret_access_key),
    );
    xml_response(200, &request_id, xml)
}

/// Checks `SerialNumber` and `TokenCode` as STS does: both or neither; the device must be
/// `user`'s and the code its current one. `Ok(true)` when a valid code was given.
// The error is the answer to send back, built once per refused request.
#[allow(clippy::result_large_err)]
fn check_mfa(
    state: &SharedState,
    user: &str,
    fields: &HashMap<String, String>,
) -> Result<bool, Response<ProxyBody>> {
    match (fields.get("SerialNumber"), fields.get("TokenCode")) {
        (None, None) => Ok(false),
        (Some(serial), Some(code)) => {
            if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
                return Err(error(
                    state,
                    400,
                    "ValidationError",
                    "1 validation error detected: Value at 'tokenCode' failed to satisfy constraint: Member must have length 6 and consist of digits",
                ));
            }
            let device = lock(state).devices.get(serial).cloned();
            match device {
                Some(d) if d.user == user => {
                    if totp::accepts(&d.seed, code, totp::now_unix()) {
                        Ok(true)
                    } else {
                        Err(error(state, 403, "AccessDenied", INVALID_MFA_CODE_MESSAGE))
                    }
                }
                _ => Err(error(
                    state,
                    403,
                    "AccessDenied",
                    "MultiFactorAuthentication failed, unable to validate MFA code.  Please verify your MFA serial number is valid and associated with this user.",
                )),
            }
        }
        _ => Err(error(
            state,
            400,
            "ValidationError",
            "SerialNumber and TokenCode must be given together",
        )),
    }
}

/// Checks one AssumeRole request as real STS would before the emulator answers it: a known
/// caller, an existing role, the MFA code when given (and required when the role's trust
/// policy asks for MFA). `Some(answer)` refuses the request; `None` lets it through.
pub(crate) async fn check_assume_role(
    state: &SharedState,
    iam: &aws_sdk_iam::Client,
    access_key_id: Option<&str>,
    fields: &HashMap<String, String>,
) -> Option<Response<ProxyBody>> {
    let Some(akid) = access_key_id else {
        return Some(error(
            state,
            403,
            "MissingAuthenticationToken",
            "Request is missing Authentication Token",
        ));
    };
    let Some(user) = caller(state, iam, akid).await else {
        return Some(error(
            state,
            403,
            "InvalidClientTokenId",
            "The security token included in the request is invalid.",
        ));
    };
    let role_arn = fields.get("RoleArn").cloned().unwrap_or_default();
    let not_authorized = format!(
        "User: arn:aws:iam::{}:user/{user} is not authorized to perform: sts:AssumeRole on resource: {role_arn}",
        crate::emulator::ACCOUNT
    );
    let role_name = role_arn.rsplit('/').next().unwrap_or_default();
    let role = match iam.get_role().role_name(role_name).send().await {
        Ok(out) => out.role,
        Err(_) => None,
    };
    let Some(role) = role.filter(|r| r.arn == role_arn) else {
        return Some(error(state, 403, "AccessDenied", &not_authorized));
    };
    let with_mfa = match check_mfa(state, &user, fields) {
        Ok(with_mfa) => with_mfa,
        Err(refused) => return Some(refused),
    };
    let trust = role
        .assume_role_policy_document
        .map(|d| crate::form::percent_decode(&d, true))
        .unwrap_or_default();
    if trust.contains("aws:MultiFactorAuthPresent") && !with_mfa {
        return Some(error(state, 403, "AccessDenied", &not_authorized));
    }
    None
}

/// The IAM user owning `akid`: registered by the harness, else asked of the emulator's IAM.
pub(crate) async fn caller(
    state: &SharedState,
    iam: &aws_sdk_iam::Client,
    akid: &str,
) -> Option<String> {
    if let Some(user) = lock(state).keys.get(akid).cloned() {
        return Some(user);
    }
    let out = iam
        .get_access_key_last_used()
        .access_key_id(akid)
        .send()
        .await
        .ok()?;
    let user = out.user_name?;
    lock(state).keys.insert(akid.to_owned(), user.clone());
    Some(user)
}

fn hex_of(text: &str) -> String {
    text.bytes()
        .filter(u8::is_ascii_alphanumeric)
        .map(char::from)
        .collect()
}

/// An IAM AccessDenied answer for `action` (e.g. `ListGroupsForUser`) called by `user`, shaped
/// as real IAM shapes it.
pub(crate) fn iam_access_denied(
    state: &SharedState,
    action: &str,
    user: &str,
) -> Response<ProxyBody> {
    let request_id = lock(state).request_id();
    let account = crate::emulator::ACCOUNT;
    let message = format!(
        "User: arn:aws:iam::{account}:user/{user} is not authorized to perform: iam:{action} on resource: user {user} because no identity-based policy allows the iam:{action} action"
    );
    let xml = format!(
        "<ErrorResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\">\n  <Error>\n    <Type>Sender</Type>\n    <Code>AccessDenied</Code>\n    <Message>{}</Message>\n  </Error>\n  <RequestId>{request_id}</RequestId>\n</ErrorResponse>\n",
        xml_escape(&message)
    );
    xml_response(403, &request_id, xml)
}

/// An STS error answer, shaped exactly as real STS shapes it.
fn error(state: &SharedState, status: u16, code: &str, message: &str) -> Response<ProxyBody> {
    let request_id = lock(state).request_id();
    let kind = if status >= 500 { "Receiver" } else { "Sender" };
    let xml = format!(
        "<ErrorResponse xmlns=\"{STS_NS}\">\n  <Error>\n    <Type>{kind}</Type>\n    <Code>{code}</Code>\n    <Message>{}</Message>\n  </Error>\n  <RequestId>{request_id}</RequestId>\n</ErrorResponse>\n",
        xml_escape(message)
    );
    xml_response(status, &request_id, xml)
}
