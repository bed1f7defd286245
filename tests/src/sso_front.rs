//! The proxy's IAM Identity Center (SSO) front: the SSO OIDC API (device authorization, RFC 8628)
//! and the SSO portal API's `GetRoleCredentials`, which the emulator does not have. The real
//! `aws-sdk-ssooidc` and `aws-sdk-sso` clients, pointed at the proxy, sign a person in exactly as
//! against AWS, and wrong, expired or refused device codes fail with AWS's own errors.
//!
//! - `POST /client/register` (RegisterClient): a public client with a random id and secret; the
//!   secret expires after 90 days.
//! - `POST /device_authorization` (StartDeviceAuthorization): the client's id and secret, and a
//!   start URL registered with [`FaultProxy::sso_start_url`](crate::FaultProxy::sso_start_url);
//!   answers a device code, a user code such as `ABCD-EFGH`, and the verification URI of the
//!   instance's region. The device code expires after 600 seconds unless a test says otherwise.
//! - `POST /token` (CreateToken, device-code grant): `authorization_pending` until the person
//!   approves, `access_denied` once they refuse, `expired_token` past the code's expiry,
//!   `invalid_grant` for a code unknown, issued to another client or already redeemed; once
//!   approved, an access token for eight hours, and the device code is consumed.
//! - `GET /federation/credentials` (GetRoleCredentials): the access token in the
//!   `x-amz-sso_bearer_token` header; a user assigned the permission set in that account gets
//!   real emulator credentials of the role `AWSReservedSSO_<set>_<16 hex>` (created on first use
//!   under `/aws-reserved/sso.amazonaws.com/`), assumed with the person's name as session name,
//!   so GetCallerIdentity answers `arn:aws:sts::<account>:assumed-role/AWSReservedSSO_…/<user>`.
//!
//! Every error carries `x-amzn-ErrorType` (the header the SDKs' restJson1 error parser reads
//! first) and `x-amzn-RequestId`; OIDC errors have the OAuth body
//! `{"error":…,"error_description":…}`, portal errors `{"message":…}`. Requests are routed here
//! only when unsigned (the SSO APIs take no SigV4 signature; S3 requests always carry one).

use std::collections::hash_map::RandomState;
use std::collections::{HashMap, HashSet};
use std::hash::BuildHasher;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_credential_types::Credentials;
use bytes::Bytes;
use hyper::header::{HeaderMap, HeaderValue, AUTHORIZATION, CONTENT_TYPE};
use hyper::{Method, Response, StatusCode};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::emulator;
use crate::error::{HarnessError, Result};
use crate::proxy::{full, lock, ProxyBody, SharedState};

/// How long a device code lives unless a test says otherwise (AWS's figure).
pub const DEFAULT_DEVICE_EXPIRY_SECS: u64 = 600;
/// How long an access token lives (AWS's default session, eight hours).
pub const ACCESS_TOKEN_SECS: u64 = 28_800;
/// How long a registered client's secret lives (90 days, as AWS).
pub const CLIENT_SECRET_SECS: u64 = 90 * 24 * 3600;
/// The polling interval the front asks clients to keep (seconds).
pub const POLL_INTERVAL_SECS: u64 = 1;
/// The IAM path of the roles IAM Identity Center provisions into an account.
pub const RESERVED_ROLE_PATH: &str = "/aws-reserved/sso.amazonaws.com/";
/// The grant type of a device-code token request (RFC 8628).
pub const DEVICE_CODE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";
/// The portal's message for a missing, unknown or expired access token (AWS's wording).
pub const INVALID_SESSION_MESSAGE: &str = "Session token not found or invalid";
/// How long the assumed-role credentials last (seconds).
const ROLE_SESSION_SECS: i32 = 3600;

/// One SSO operation the front answers; its name is the `action` of the request record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Operation {
    RegisterClient,
    StartDeviceAuthorization,
    CreateToken,
    GetRoleCredentials,
}

impl Operation {
    /// The name recorded as the request's `action`, e.g. `sso-oidc:CreateToken`.
    pub fn action(self) -> &'static str {
        match self {
            Operation::RegisterClient => "sso-oidc:RegisterClient",
            Operation::StartDeviceAuthorization => "sso-oidc:StartDeviceAuthorization",
            Operation::CreateToken => "sso-oidc:CreateToken",
            Operation::GetRoleCredentials => "sso:GetRoleCredentials",
        }
    }

    fn is_portal(self) -> bool {
        self == Operation::GetRoleCredentials
    }
}

/// The SSO operation a request is, when it is one: an unsigned request with the method and
/// path of an SSO OIDC operation (with a JSON body) or of `GetRoleCredentials`.
pub(crate) fn operation(method: &Method, path: &str, headers: &HeaderMap) -> Option<Operation> {
    if headers.contains_key(AUTHORIZATION) {
        return None;
    }
    let is_json = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    match (method.as_str(), path) {
        ("POST", "/client/register") if is_json => Some(Operation::RegisterClient),
        ("POST", "/device_authorization") if is_json => Some(Operation::StartDeviceAuthorization),
        ("POST", "/token") if is_json => Some(Operation::CreateToken),
        ("GET", "/federation/credentials") => Some(Operation::GetRoleCredentials),
        _ => None,
    }
}

/// Where a device authorization stands.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Decision {
    Pending,
    Approved { user: String },
    Denied,
    Redeemed,
}

#[derive(Debug, Clone)]
struct DeviceAuthorization {
    device_code: String,
    user_code: String,
    client_id: String,
    expires_at: SystemTime,
    decision: Decision,
}

#[derive(Debug, Clone)]
struct RegisteredClient {
    secret: String,
    secret_expires_at: SystemTime,
}

#[derive(Debug, Clone)]
struct AccessToken {
    user: String,
    expires_at: SystemTime,
}

/// The front's state: IAM Identity Center instances, assignments, clients, device
/// authorizations and access tokens.
#[derive(Debug)]
pub(crate) struct SsoState {
    /// Start URL → region of the IAM Identity Center instance.
    instances: HashMap<String, String>,
    /// (user, account id, permission set) triples the test assigned.
    assignments: HashSet<(String, String, String)>,
    clients: HashMap<String, RegisteredClient>,
    /// In the order issued.
    devices: Vec<DeviceAuthorization>,
    tokens: HashMap<String, AccessToken>,
    device_expiry: Duration,
    /// Unpredictable per proxy; with a counter and the time, the source of every id and secret.
    seed: [u64; 2],
    counter: u64,
}

impl Default for SsoState {
    fn default() -> Self {
        Self {
            instances: HashMap::new(),
            assignments: HashSet::new(),
            clients: HashMap::new(),
            devices: Vec::new(),
            tokens: HashMap::new(),
            device_expiry: Duration::from_secs(DEFAULT_DEVICE_EXPIRY_SECS),
            // Each RandomState is keyed from the operating system's randomness.
            seed: [
                RandomState::new().hash_one(0u8),
                RandomState::new().hash_one(1u8),
            ],
            counter: 0,
        }
    }
}

/// A refusal, as the service sends it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SsoError {
    pub status: u16,
    /// The modeled exception's name, sent in `x-amzn-ErrorType`.
    pub exception: &'static str,
    pub message: String,
}

impl SsoError {
    fn new(status: u16, exception: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            exception,
            message: message.into(),
        }
    }

    fn invalid_request(message: impl Into<String>) -> Self {
        Self::new(400, "InvalidRequestException", message)
    }

    fn invalid_client() -> Self {
        Self::new(401, "InvalidClientException", "Invalid client provided")
    }

    fn invalid_grant() -> Self {
        Self::new(400, "InvalidGrantException", "Invalid device code provided")
    }

    fn unauthorized() -> Self {
        Self::new(401, "UnauthorizedException", INVALID_SESSION_MESSAGE)
    }

    /// The OAuth error code of an OIDC exception (RFC 6749 §5.2, RFC 8628 §3.5).
    fn oauth_code(&self) -> &'static str {
        match self.exception {
            "AuthorizationPendingException" => "authorization_pending",
            "ExpiredTokenException" => "expired_token",
            "InvalidGrantException" => "invalid_grant",
            "InvalidClientException" => "invalid_client",
            "AccessDeniedException" => "access_denied",
            "UnsupportedGrantTypeException" => "unsupported_grant_type",
            "InvalidClientMetadataException" => "invalid_client_metadata",
            "SlowDownException" => "slow_down",
            "InvalidScopeException" => "invalid_scope",
            "UnauthorizedClientException" => "unauthorized_client",
            "InternalServerException" => "server_error",
            _ => "invalid_request",
        }
    }
}

/// What `GetRoleCredentials` needs from the emulator once the caller is known to be allowed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RoleGrant {
    pub user: String,
    pub account_id: String,
    pub permission_set: String,
}

fn epoch_secs(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

fn string_field<'a>(body: &'a Value, name: &str) -> Option<&'a str> {
    body.get(name)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
}

fn required<'a>(body: &'a Value, name: &str) -> std::result::Result<&'a str, SsoError> {
    string_field(body, name)
        .ok_or_else(|| SsoError::invalid_request(format!("Missing required parameter: {name}")))
}

/// The name of the role IAM Identity Center provisions for `permission_set` in `account_id`:
/// `AWSReservedSSO_<set>_<16 hex>`, the hex derived from both (stable across calls).
pub fn reserved_role_name(permission_set: &str, account_id: &str) -> String {
    let digest = Sha256::digest(format!("{permission_set}\n{account_id}").as_bytes());
    format!(
        "AWSReservedSSO_{permission_set}_{}",
        hex::encode(&digest[..8])
    )
}

impl SsoState {
    fn random(&mut self) -> [u8; 32] {
        self.counter += 1;
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        let mut hasher = Sha256::new();
        hasher.update(self.seed[0].to_le_bytes());
        hasher.update(self.seed[1].to_le_bytes());
        hasher.update(self.counter.to_le_bytes());
        hasher.update(nanos.to_le_bytes());
        hasher.finalize().into()
    }

    /// A random URL-safe token of `blocks` × 64 hex characters.
    fn random_token(&mut self, blocks: usize) -> String {
        (0..blocks).map(|_| hex::encode(self.random())).collect()
    }

    /// A user code `ABCD-EFGH` unlike any other live one.
    fn new_user_code(&mut self) -> String {
        loop {
            let bytes = self.random();
            let letters: String = bytes[..8]
                .iter()
                .map(|b| char::from(b'A' + b % 26))
                .collect();
            let code = format!("{}-{}", &letters[..4], &letters[4..]);
            if !self.devices.iter().any(|d| d.user_code == code) {
                return code;
            }
        }
    }

    pub fn register_instance(&mut self, start_url: &str, region: &str) {
        self.instances
            .insert(start_url.to_owned(), region.to_owned());
    }

    pub fn assign(&mut self, user: &str, account_id: &str, permission_set: &str) {
        self.assignments.insert((
            user.to_owned(),
            account_id.to_owned(),
            permission_set.to_owned(),
        ));
    }

    pub fn set_device_expiry(&mut self, seconds: u64) {
        self.device_expiry = Duration::from_secs(seconds);
    }

    /// The user codes of the authorizations still waiting for the person, oldest first.
    pub fn pending(&self, now: SystemTime) -> Vec<String> {
        self.devices
            .iter()
            .filter(|d| d.decision == Decision::Pending && now < d.expires_at)
            .map(|d| d.user_code.clone())
            .collect()
    }

    fn pending_device(
        &mut self,
        user_code: &str,
        now: SystemTime,
    ) -> Result<&mut DeviceAuthorization> {
        let device = self
            .devices
            .iter_mut()
            .find(|d| d.user_code.eq_ignore_ascii_case(user_code.trim()))
            .ok_or_else(|| {
                HarnessError::new(format!("no device authorization has user code {user_code}"))
            })?;
        if now >= device.expires_at {
            return Err(HarnessError::new(format!(
                "the device authorization with user code {user_code} has expired"
            )));
        }
        if device.decision != Decision::Pending {
            return Err(HarnessError::new(format!(
                "the device authorization with user code {user_code} was already decided"
            )));
        }
        Ok(device)
    }

    pub fn approve(&mut self, user_code: &str, user: &str, now: SystemTime) -> Result<()> {
        self.pending_device(user_code, now)?.decision = Decision::Approved {
            user: user.to_owned(),
        };
        Ok(())
    }

    pub fn deny(&mut self, user_code: &str, now: SystemTime) -> Result<()> {
        self.pending_device(user_code, now)?.decision = Decision::Denied;
        Ok(())
    }

    /// The client named in `body`, when its id and secret are right and the secret is live.
    fn authenticate(&self, body: &Value, now: SystemTime) -> std::result::Result<String, SsoError> {
        let id = required(body, "clientId")?;
        let secret = required(body, "clientSecret")?;
        match self.clients.get(id) {
            Some(c) if c.secret == secret && now < c.secret_expires_at => Ok(id.to_owned()),
            _ => Err(SsoError::invalid_client()),
        }
    }

    pub fn register_client(
        &mut self,
        body: &Value,
        now: SystemTime,
    ) -> std::result::Result<Value, SsoError> {
        required(body, "clientName")?;
        let client_type = required(body, "clientType")?;
        if client_type != "public" {
            return Err(SsoError::new(
                400,
                "InvalidClientMetadataException",
                format!("Invalid client type: {client_type}"),
            ));
        }
        let id = self.random_token(1);
        let secret = self.random_token(3);
        let secret_expires_at = now + Duration::from_secs(CLIENT_SECRET_SECS);
        self.clients.insert(
            id.clone(),
            RegisteredClient {
                secret: secret.clone(),
                secret_expires_at,
            },
        );
        Ok(json!({
            "clientId": id,
            "clientSecret": secret,
            "clientIdIssuedAt": epoch_secs(now),
            "clientSecretExpiresAt": epoch_secs(secret_expires_at),
        }))
    }

    pub fn start_device_authorization(
        &mut self,
        body: &Value,
        now: SystemTime,
    ) -> std::result::Result<Value, SsoError> {
        required(body, "clientId")?;
        required(body, "clientSecret")?;
        let start_url = required(body, "startUrl")?;
        let client_id = self.authenticate(body, now)?;
        let region = self
            .instances
            .get(start_url)
            .cloned()
            .ok_or_else(|| SsoError::invalid_request("Invalid start URL provided"))?;
        let device_code = self.random_token(2);
        let user_code = self.new_user_code();
        let expires_in = self.device_expiry.as_secs();
        self.devices.push(DeviceAuthorization {
            device_code: device_code.clone(),
            user_code: user_code.clone(),
            client_id,
            expires_at: now + self.device_expiry,
            decision: Decision::Pending,
        });
        let uri = format!("https://device.sso.{region}.amazonaws.com/");
        Ok(json!({
            "deviceCode": device_code,
            "userCode": user_code,
            "verificationUri": uri,
            "verificationUriComplete": format!("{uri}?user_code={user_code}"),
            "expiresIn": expires_in,
            "interval": POLL_INTERVAL_SECS,
        }))
    }

    pub fn create_token(
        &mut self,
        body: &Value,
        now: SystemTime,
    ) -> std::result::Result<Value, SsoError> {
        let client_id = self.authenticate(body, now)?;
        let grant_type = required(body, "grantType")?;
        if grant_type != DEVICE_CODE_GRANT {
            return Err(SsoError::new(
                400,
                "UnsupportedGrantTypeException",
                format!("Unsupported grant type: {grant_type}"),
            ));
        }
        let device_code = required(body, "deviceCode")?;
        let device = self
            .devices
            .iter_mut()
            .find(|d| d.device_code == device_code && d.client_id == client_id)
            .ok_or_else(SsoError::invalid_grant)?;
        let user = match &device.decision {
            Decision::Redeemed => return Err(SsoError::invalid_grant()),
            _ if now >= device.expires_at => {
                return Err(SsoError::new(
                    400,
                    "ExpiredTokenException",
                    "Device code has expired",
                ))
            }
            Decision::Denied => {
                return Err(SsoError::new(
                    400,
                    "AccessDeniedException",
                    "Access denied by the user",
                ))
            }
            Decision::Pending => {
                return Err(SsoError::new(
                    400,
                    "AuthorizationPendingException",
                    "Authorization is still pending",
                ))
            }
            Decision::Approved { user } => user.clone(),
        };
        device.decision = Decision::Redeemed;
        let token = self.random_token(3);
        self.tokens.insert(
            token.clone(),
            AccessToken {
                user,
                expires_at: now + Duration::from_secs(ACCESS_TOKEN_SECS),
            },
        );
        Ok(json!({
            "accessToken": token,
            "tokenType": "Bearer",
            "expiresIn": ACCESS_TOKEN_SECS,
        }))
    }

    /// Who may get which role: the access token's person, when assigned the permission set in
    /// the account.
    pub fn role_grant(
        &self,
        token: Option<&str>,
        query: &HashMap<String, String>,
        now: SystemTime,
    ) -> std::result::Result<RoleGrant, SsoError> {
        let token = token
            .and_then(|t| self.tokens.get(t))
            .filter(|t| now < t.expires_at)
            .ok_or_else(SsoError::unauthorized)?;
        let field = |name: &str| {
            query
                .get(name)
                .filter(|v| !v.is_empty())
                .cloned()
                .ok_or_else(|| {
                    SsoError::invalid_request(format!("Missing required parameter: {name}"))
                })
        };
        let permission_set = field("role_name")?;
        let account_id = field("account_id")?;
        let key = (
            token.user.clone(),
            account_id.clone(),
            permission_set.clone(),
        );
        if !self.assignments.contains(&key) {
            return Err(SsoError::new(403, "ForbiddenException", "No access"));
        }
        Ok(RoleGrant {
            user: token.user.clone(),
            account_id,
            permission_set,
        })
    }

    #[cfg(test)]
    fn expire_tokens(&mut self) {
        for token in self.tokens.values_mut() {
            token.expires_at = UNIX_EPOCH;
        }
    }
}

/// The emulator clients the portal needs to provision and assume roles.
#[derive(Debug, Clone)]
pub(crate) struct SsoUpstream<'a> {
    /// The emulator's endpoint (requests go there directly, not through the proxy).
    pub endpoint: &'a str,
    /// Admin clients of the emulator's own account.
    pub iam: &'a aws_sdk_iam::Client,
    pub sts: &'a aws_sdk_sts::Client,
}

/// Answers one SSO request.
pub(crate) async fn answer(
    op: Operation,
    state: &SharedState,
    upstream: SsoUpstream<'_>,
    query: &str,
    headers: &HeaderMap,
    body: &Bytes,
) -> Response<ProxyBody> {
    let now = SystemTime::now();
    let result = if op.is_portal() {
        let token = headers
            .get("x-amz-sso_bearer_token")
            .and_then(|v| v.to_str().ok());
        let query = crate::form::parse_form(query.as_bytes());
        let grant = lock(state).sso.role_grant(token, &query, now);
        match grant {
            Ok(grant) => role_credentials(upstream, &grant).await,
            Err(e) => Err(e),
        }
    } else {
        match serde_json::from_slice::<Value>(body) {
            Ok(body) if body.is_object() => {
                let mut st = lock(state);
                match op {
                    Operation::RegisterClient => st.sso.register_client(&body, now),
                    Operation::StartDeviceAuthorization => {
                        st.sso.start_device_authorization(&body, now)
                    }
                    _ => st.sso.create_token(&body, now),
                }
            }
            _ => Err(SsoError::invalid_request(
                "The request body is not a JSON object",
            )),
        }
    };
    let request_id = lock(state).request_id();
    match result {
        Ok(value) => json_response(200, &request_id, None, &value),
        Err(e) => {
            let body = if op.is_portal() {
                json!({ "message": e.message })
            } else {
                json!({ "error": e.oauth_code(), "error_description": e.message })
            };
            json_response(e.status, &request_id, Some(e.exception), &body)
        }
    }
}

/// A failure of the emulator behind the front, as a service's internal error.
fn internal(what: &str, e: &(dyn std::error::Error + 'static)) -> SsoError {
    SsoError::new(
        500,
        "InternalServerException",
        format!("{what}: {}", countersign_aws::error::error_chain(e)),
    )
}

/// Provisions (on first use) and assumes the reserved role of `grant`, against the emulator.
async fn role_credentials(
    upstream: SsoUpstream<'_>,
    grant: &RoleGrant,
) -> std::result::Result<Value, SsoError> {
    let role_name = reserved_role_name(&grant.permission_set, &grant.account_id);
    let role_arn = format!(
        "arn:aws:iam::{}:role{RESERVED_ROLE_PATH}{role_name}",
        grant.account_id
    );

    // The account's IAM: the admin's for the emulator's account; another account's through its
    // OrganizationAccountAccessRole, as an organization's management account reaches it.
    let other_account_iam;
    let iam = if grant.account_id == emulator::ACCOUNT {
        upstream.iam
    } else {
        let admin = upstream
            .sts
            .assume_role()
            .role_arn(format!(
                "arn:aws:iam::{}:role/OrganizationAccountAccessRole",
                grant.account_id
            ))
            .role_session_name("sso-provisioning")
            .send()
            .await
            .map_err(|e| internal("reach the member account", &e))?;
        let creds = admin.credentials.ok_or_else(|| {
            SsoError::new(
                500,
                "InternalServerException",
                "STS returned no credentials",
            )
        })?;
        let config = emulator::sdk_config_for(
            upstream.endpoint,
            Credentials::new(
                creds.access_key_id,
                creds.secret_access_key,
                Some(creds.session_token),
                None,
                "sso-provisioning",
            ),
        )
        .await;
        other_account_iam = aws_sdk_iam::Client::new(&config);
        &other_account_iam
    };

    if iam.get_role().role_name(&role_name).send().await.is_err() {
        let trust = json!({
            "Version": "2012-10-17",
            "Statement": [{
                "Effect": "Allow",
                "Principal": { "AWS": format!("arn:aws:iam::{}:root", grant.account_id) },
                "Action": ["sts:AssumeRoleWithSAML", "sts:AssumeRole", "sts:TagSession"],
            }],
        });
        let created = iam
            .create_role()
            .role_name(&role_name)
            .path(RESERVED_ROLE_PATH)
            .assume_role_policy_document(trust.to_string())
            .description(format!(
                "Permission set {} (IAM Identity Center)",
                grant.permission_set
            ))
            .send()
            .await;
        if let Err(e) = created {
            // A concurrent first use may have created it meanwhile.
            let exists = e
                .as_service_error()
                .is_some_and(|s| s.is_entity_already_exists_exception());
            if !exists {
                return Err(internal("provision the permission set's role", &e));
            }
        }
    }

    let assumed = upstream
        .sts
        .assume_role()
        .role_arn(&role_arn)
        .role_session_name(&grant.user)
        .duration_seconds(ROLE_SESSION_SECS)
        .send()
        .await
        .map_err(|e| internal("assume the permission set's role", &e))?;
    let creds = assumed.credentials.ok_or_else(|| {
        SsoError::new(
            500,
            "InternalServerException",
            "STS returned no credentials",
        )
    })?;
    let expiration = creds
        .expiration
        .to_millis()
        .map_err(|e| internal("read the credentials' expiry", &e))?;
    Ok(json!({
        "roleCredentials": {
            "accessKeyId": creds.access_key_id,
            "secretAccessKey": creds.secret_access_key,
            "sessionToken": creds.session_token,
            "expiration": expiration,
        }
    }))
}

fn json_response(
    status: u16,
    request_id: &str,
    exception: Option<&str>,
    body: &Value,
) -> Response<ProxyBody> {
    let mut resp = Response::new(full(Bytes::from(body.to_string())));
    *resp.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let headers = resp.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    if let Ok(v) = HeaderValue::from_str(request_id) {
        headers.insert("x-amzn-requestid", v);
    }
    if let Some(v) = exception.and_then(|e| HeaderValue::from_str(e).ok()) {
        headers.insert("x-amzn-errortype", v);
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    const START_URL: &str = "https://countersign-test.awsapps.com/start";

    fn state_with_client() -> (SsoState, Value) {
        let mut st = SsoState::default();
        st.register_instance(START_URL, "eu-west-1");
        let out = st
            .register_client(
                &json!({"clientName": "c", "clientType": "public"}),
                SystemTime::now(),
            )
            .unwrap();
        let creds = json!({"clientId": out["clientId"], "clientSecret": out["clientSecret"]});
        (st, creds)
    }

    fn with(base: &Value, extra: Value) -> Value {
        let mut v = base.clone();
        for (k, x) in extra.as_object().unwrap() {
            v[k] = x.clone();
        }
        v
    }

    #[test]
    fn user_codes_are_two_groups_of_four_capitals() {
        let (mut st, creds) = state_with_client();
        let now = SystemTime::now();
        for _ in 0..20 {
            let out = st
                .start_device_authorization(&with(&creds, json!({"startUrl": START_URL})), now)
                .unwrap();
            let code = out["userCode"].as_str().unwrap();
            assert_eq!(code.len(), 9);
            assert_eq!(&code[4..5], "-");
            assert!(code
                .chars()
                .filter(|c| *c != '-')
                .all(|c| c.is_ascii_uppercase()));
            assert_eq!(
                out["verificationUri"],
                "https://device.sso.eu-west-1.amazonaws.com/"
            );
        }
        let pending = st.pending(now);
        assert_eq!(pending.len(), 20);
        assert_eq!(pending.iter().collect::<HashSet<_>>().len(), 20);
    }

    #[test]
    fn an_approved_code_is_redeemed_once() {
        let (mut st, creds) = state_with_client();
        let now = SystemTime::now();
        let out = st
            .start_device_authorization(&with(&creds, json!({"startUrl": START_URL})), now)
            .unwrap();
        let request = with(
            &creds,
            json!({"grantType": DEVICE_CODE_GRANT, "deviceCode": out["deviceCode"]}),
        );
        let pending = st.create_token(&request, now).unwrap_err();
        assert_eq!(pending.exception, "AuthorizationPendingException");
        assert_eq!(pending.oauth_code(), "authorization_pending");
        st.approve(out["userCode"].as_str().unwrap(), "alice", now)
            .unwrap();
        assert!(st.pending(now).is_empty());
        let token = st.create_token(&request, now).unwrap();
        assert_eq!(token["tokenType"], "Bearer");
        let again = st.create_token(&request, now).unwrap_err();
        assert_eq!(again, SsoError::invalid_grant());
        assert!(st
            .approve(out["userCode"].as_str().unwrap(), "bob", now)
            .is_err());
    }

    #[test]
    fn an_expired_access_token_is_refused_by_the_portal() {
        let (mut st, creds) = state_with_client();
        let now = SystemTime::now();
        st.assign("alice", "123456789012", "Signer");
        let out = st
            .start_device_authorization(&with(&creds, json!({"startUrl": START_URL})), now)
            .unwrap();
        st.approve(out["userCode"].as_str().unwrap(), "alice", now)
            .unwrap();
        let request = with(
            &creds,
            json!({"grantType": DEVICE_CODE_GRANT, "deviceCode": out["deviceCode"]}),
        );
        let token = st.create_token(&request, now).unwrap();
        let token = token["accessToken"].as_str().unwrap();
        let query: HashMap<String, String> = [
            ("role_name".to_owned(), "Signer".to_owned()),
            ("account_id".to_owned(), "123456789012".to_owned()),
        ]
        .into();
        let grant = st.role_grant(Some(token), &query, now).unwrap();
        assert_eq!(grant.user, "alice");
        st.expire_tokens();
        assert_eq!(
            st.role_grant(Some(token), &query, now).unwrap_err(),
            SsoError::unauthorized()
        );
    }

    #[test]
    fn reserved_role_names_are_stable_and_differ_by_account() {
        let a = reserved_role_name("Signer", "123456789012");
        assert_eq!(a, reserved_role_name("Signer", "123456789012"));
        assert_ne!(a, reserved_role_name("Signer", "210987654321"));
        let hex = a.strip_prefix("AWSReservedSSO_Signer_").unwrap();
        assert_eq!(hex.len(), 16);
        assert!(hex.chars().all(|c| c.is_ascii_hexdigit()));
    }

    #[test]
    fn only_unsigned_requests_on_sso_paths_are_routed_here() {
        let mut json_headers = HeaderMap::new();
        json_headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        assert_eq!(
            operation(&Method::POST, "/token", &json_headers),
            Some(Operation::CreateToken)
        );
        assert_eq!(operation(&Method::POST, "/token", &HeaderMap::new()), None);
        let mut signed = json_headers.clone();
        signed.insert(
            AUTHORIZATION,
            HeaderValue::from_static("AWS4-HMAC-SHA256 Credential=x/"),
        );
        assert_eq!(operation(&Method::POST, "/token", &signed), None);
        assert_eq!(
            operation(&Method::GET, "/federation/credentials", &HeaderMap::new()),
            Some(Operation::GetRoleCredentials)
        );
    }
}
