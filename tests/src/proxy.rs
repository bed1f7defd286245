//! A fault-injecting HTTP/1.1 proxy in front of the emulator, for what the emulator cannot do
//! by itself:
//!
//! - an STS front that answers `GetSessionToken` the way real STS does (caller identified from
//!   the request's signing key, TOTP code checked against the caller's MFA device, temporary
//!   credentials that keep the caller's identity), and checks `AssumeRole` (existing role, MFA
//!   code, MFA required by the trust policy) before forwarding it — see [`crate::sts_front`];
//! - faults on S3 object GETs: a connection dropped mid-body, a body with one byte flipped (with
//!   the `x-amz-checksum-*` headers removed, so that only the application's own SHA-256 check
//!   can catch it), or an error status such as 503 SlowDown; each applied a given number of
//!   times, then the object is served normally again, so resuming can be tested;
//! - a record of every request seen, so a test can count GetObject calls;
//! - IAM AccessDenied for an action and user a test names ([`FaultProxy::deny_action`]), since
//!   the emulator enforces no IAM policy;
//! - an IAM Identity Center (SSO) front that answers the SSO OIDC device-authorization API and
//!   the SSO portal's `GetRoleCredentials`, which the emulator lacks, with sign-ins a test
//!   approves or denies as the person would — see [`crate::sso_front`].
//!
//! Everything else is forwarded to the emulator unchanged.

use std::collections::{HashMap, HashSet};
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex, MutexGuard};

use aws_credential_types::Credentials;
use bytes::Bytes;
use countersign_aws::AwsContext;
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use crate::drift_front::{self, DriftAnswer};
use crate::emulator::{self, admin_credentials};
use crate::error::{HarnessError, Result};
use crate::form;
use crate::http::{self, HttpClient};
use crate::sso_front::{self, SsoState, SsoUpstream};
use crate::sts_front;

/// The error type of proxied bodies.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;
/// The body type of the proxy's responses.
pub type ProxyBody = BoxBody<Bytes, BoxError>;

/// What to do to a matching S3 object GET.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// Send the headers (with the full Content-Length) and this many body bytes, then close.
    DropAfter(usize),
    /// Flip one byte in the middle of the body and drop the `x-amz-checksum-*` headers.
    Corrupt,
    /// Answer with this HTTP status and S3 error code without asking the emulator.
    FailStatus { status: u16, code: String },
    /// Send the body in chunks of this many bytes, pausing this many milliseconds before each.
    Slow { chunk: usize, pause_ms: u64 },
    /// (Listings only) answer with the first half of the listing's XML, well framed: a listing
    /// cut short by a broken intermediary.
    TruncateListing,
}

/// A fault applied to S3 GETs whose decoded path contains `key_substr`, `remaining` more times.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FaultRule {
    pub key_substr: String,
    pub fault: Fault,
    pub remaining: usize,
}

/// One request the proxy received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestSeen {
    pub method: String,
    /// The percent-decoded path, e.g. `/bucket/runs/iq/report.xml`.
    pub path: String,
    /// The raw query string ("" when none).
    pub query: String,
    /// The `Action` of an AWS Query protocol request (STS, IAM, CloudFormation), or for a
    /// request the SSO front answered, `sso-oidc:<Operation>` / `sso:GetRoleCredentials`
    /// (e.g. `sso-oidc:CreateToken`).
    pub action: Option<String>,
    /// The access key id that signed the request.
    pub access_key_id: Option<String>,
    /// The status the proxy answered with.
    pub status: u16,
}

/// A virtual MFA device the STS front knows.
#[derive(Debug, Clone)]
pub(crate) struct MfaDevice {
    pub user: String,
    pub seed: Vec<u8>,
}

/// State shared between the proxy's connections and the test.
#[derive(Debug, Default)]
pub(crate) struct ProxyState {
    pub rules: Vec<FaultRule>,
    pub seen: Vec<RequestSeen>,
    /// Long-term access key id → IAM user name.
    pub keys: HashMap<String, String>,
    /// MFA device serial → device.
    pub devices: HashMap<String, MfaDevice>,
    /// IAM user name → the access key id of that user's current session credentials.
    pub session_keys: HashMap<String, String>,
    /// Every access key id ever minted as session credentials.
    pub minted: HashSet<String>,
    /// (Query-protocol action, IAM user name) pairs answered with AccessDenied.
    pub denied: Vec<(String, String)>,
    /// What drift detection finds, by stack name ([`FaultProxy::answer_drift`]).
    pub drift: HashMap<String, DriftAnswer>,
    pub next_request: u64,
    /// TCP connections accepted so far.
    pub connections: u64,
    /// Behave like an S3-compatible store whose listings carry no ETag and which cannot list
    /// versions ([`FaultProxy::list_without_etags`]).
    pub listings_without_etags: bool,
    /// The IAM Identity Center front's instances, assignments, clients, device authorizations
    /// and access tokens.
    pub sso: SsoState,
}

impl ProxyState {
    /// A request id shaped like AWS's (unique within this proxy).
    pub fn request_id(&mut self) -> String {
        self.next_request += 1;
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        format!(
            "{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
            nanos,
            self.next_request & 0xffff,
            (nanos >> 8) & 0xfff,
            (nanos >> 4) & 0xfff,
            self.next_request
        )
    }
}

pub(crate) type SharedState = Arc<Mutex<ProxyState>>;

/// Locks the state; a poisoned lock (a panicking test thread) still yields the data.
pub(crate) fn lock(state: &SharedState) -> MutexGuard<'_, ProxyState> {
    state
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The running proxy. Dropping it stops accepting connections.
#[derive(Debug)]
pub struct FaultProxy {
    port: u16,
    upstream: String,
    state: SharedState,
    task: JoinHandle<()>,
}

#[derive(Debug, Clone)]
struct Upstream {
    base: String,
    http: HttpClient,
    iam: aws_sdk_iam::Client,
    /// Admin STS of the emulator (the SSO front assumes permission-set roles with it).
    sts: aws_sdk_sts::Client,
    state: SharedState,
}

impl FaultProxy {
    /// Starts a proxy on a free loopback port, forwarding to `upstream` (e.g. the emulator's
    /// endpoint). Must be called inside a Tokio runtime.
    pub async fn start(upstream: &str) -> Result<FaultProxy> {
        let listener = TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))
            .await
            .map_err(|e| HarnessError::during("bind the fault proxy to a loopback port", &e))?;
        let port = listener
            .local_addr()
            .map_err(|e| HarnessError::during("read the fault proxy's port", &e))?
            .port();
        let state: SharedState = Arc::default();
        let iam_config = emulator::sdk_config_for(upstream, admin_credentials()).await;
        let ctx = Upstream {
            base: upstream.trim_end_matches('/').to_owned(),
            http: http::client(),
            iam: aws_sdk_iam::Client::new(&iam_config),
            sts: aws_sdk_sts::Client::new(&iam_config),
            state: Arc::clone(&state),
        };
        let task = tokio::spawn(accept_loop(listener, ctx));
        Ok(FaultProxy {
            port,
            upstream: upstream.to_owned(),
            state,
            task,
        })
    }

    /// `http://127.0.0.1:<port>`: point clients here instead of at the emulator.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The endpoint requests are forwarded to.
    pub fn upstream(&self) -> &str {
        &self.upstream
    }

    /// An SDK configuration for the proxy with the given credentials.
    pub async fn sdk_config(&self, credentials: Credentials) -> aws_config::SdkConfig {
        emulator::sdk_config_for(&self.endpoint(), credentials).await
    }

    /// A product-side context for the proxy with the given credentials.
    pub async fn aws_context(&self, credentials: Credentials) -> Result<AwsContext> {
        emulator::context_for(&self.endpoint(), credentials).await
    }

    /// For the next `times` GETs of a matching object: send the headers and `n_bytes` of the
    /// body, then close the connection.
    pub fn drop_after(&self, key_substr: &str, n_bytes: usize, times: usize) {
        self.add_rule(key_substr, Fault::DropAfter(n_bytes), times);
    }

    /// For the next `times` GETs of a matching object: flip one byte of the body and remove the
    /// `x-amz-checksum-*` response headers, so the SDK's own checksum validation cannot notice.
    pub fn slow(&self, key_substr: &str, chunk: usize, pause_ms: u64, times: usize) {
        self.add_rule(key_substr, Fault::Slow { chunk, pause_ms }, times);
    }

    /// Cuts the next `times` bucket listings in half (the XML ends mid-document).
    pub fn truncate_listings(&self, times: usize) {
        self.add_rule("", Fault::TruncateListing, times);
    }

    pub fn corrupt(&self, key_substr: &str, times: usize) {
        self.add_rule(key_substr, Fault::Corrupt, times);
    }

    /// For the next `times` GETs of a matching object: answer `status` with S3 error `code`
    /// (e.g. 503 / `SlowDown`) without asking the emulator.
    pub fn fail_status(&self, key_substr: &str, status: u16, code: &str, times: usize) {
        self.add_rule(
            key_substr,
            Fault::FailStatus {
                status,
                code: code.to_owned(),
            },
            times,
        );
    }

    fn add_rule(&self, key_substr: &str, fault: Fault, times: usize) {
        lock(&self.state).rules.push(FaultRule {
            key_substr: key_substr.to_owned(),
            fault,
            remaining: times,
        });
    }

    /// Removes every fault rule (the STS front stays on).
    pub fn clear_faults(&self) {
        lock(&self.state).rules.clear();
    }

    /// The rules with applications left.
    pub fn active_faults(&self) -> Vec<FaultRule> {
        lock(&self.state)
            .rules
            .iter()
            .filter(|r| r.remaining > 0)
            .cloned()
            .collect()
    }

    /// Every request received so far, in order.
    pub fn requests(&self) -> Vec<RequestSeen> {
        lock(&self.state).seen.clone()
    }

    /// How many S3 object GETs (GET without a `list-type`, `versions` or `uploads` query) had a
    /// decoded path containing `key_substr`.
    pub fn get_object_count(&self, key_substr: &str) -> usize {
        lock(&self.state)
            .seen
            .iter()
            .filter(|r| r.method == "GET" && r.action.is_none() && r.path.contains(key_substr))
            .filter(|r| !is_listing_query(&r.query))
            .count()
    }

    /// From now on, answer like an S3-compatible store that cannot list versions (501
    /// NotImplemented) and whose ListObjectsV2 entries carry no ETag (key, size and
    /// LastModified only), as s3s-fs does.
    pub fn list_without_etags(&self) {
        lock(&self.state).listings_without_etags = true;
    }

    /// How many TCP connections clients have opened to the proxy so far.
    pub fn connections(&self) -> u64 {
        lock(&self.state).connections
    }

    /// How many AWS Query protocol requests with this `Action` were received.
    pub fn action_count(&self, action: &str) -> usize {
        lock(&self.state)
            .seen
            .iter()
            .filter(|r| r.action.as_deref() == Some(action))
            .count()
    }

    /// Tells the STS front that `access_key_id` is a long-term key of IAM user `user`.
    /// (Unknown keys are looked up with IAM GetAccessKeyLastUsed.)
    pub fn register_access_key(&self, access_key_id: &str, user: &str) {
        lock(&self.state)
            .keys
            .insert(access_key_id.to_owned(), user.to_owned());
    }

    /// Answers `action` (a Query-protocol action such as `ListGroupsForUser`) with IAM's
    /// AccessDenied whenever a key of IAM user `user` (long-term or session) signs it, as IAM
    /// does when no policy allows the action.
    pub fn deny_action(&self, action: &str, user: &str) {
        lock(&self.state)
            .denied
            .push((action.to_owned(), user.to_owned()));
    }

    /// Drift detection of `stack` finds `answer` from now on (the emulator cannot detect drift).
    pub fn answer_drift(&self, stack: &str, answer: DriftAnswer) {
        lock(&self.state).drift.insert(stack.to_owned(), answer);
    }

    /// Tells the STS front that the virtual MFA device `serial` belongs to `user` and computes
    /// its codes from `seed` (the decoded Base32 seed).
    pub fn register_mfa_device(&self, serial: &str, user: &str, seed: Vec<u8>) {
        lock(&self.state).devices.insert(
            serial.to_owned(),
            MfaDevice {
                user: user.to_owned(),
                seed,
            },
        );
    }

    /// Registers an IAM Identity Center instance with the SSO front: its AWS access portal
    /// start URL (e.g. `https://countersign-test.awsapps.com/start`) and its region. Device
    /// authorizations are started only for registered start URLs.
    pub fn sso_start_url(&self, start_url: &str, region: &str) {
        lock(&self.state).sso.register_instance(start_url, region);
    }

    /// Assigns `user` the permission set `permission_set` in account `account_id`: signed in,
    /// that person gets credentials of the set's role there (`GetRoleCredentials`).
    pub fn sso_assign(&self, user: &str, account_id: &str, permission_set: &str) {
        lock(&self.state)
            .sso
            .assign(user, account_id, permission_set);
    }

    /// Device codes issued from now on expire after `seconds` (600 unless set, as AWS's do).
    pub fn sso_device_expiry(&self, seconds: u64) {
        lock(&self.state).sso.set_device_expiry(seconds);
    }

    /// The user codes of the device authorizations still waiting for a person (neither
    /// approved, denied, expired nor redeemed), oldest first.
    pub fn sso_pending(&self) -> Vec<String> {
        lock(&self.state).sso.pending(std::time::SystemTime::now())
    }

    /// The first pending device authorization's user code ([`FaultProxy::sso_pending`]),
    /// polled every 50 ms; an error when none appears within `timeout`.
    pub async fn wait_for_sso_pending(&self, timeout: std::time::Duration) -> Result<String> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            if let Some(code) = self.sso_pending().into_iter().next() {
                return Ok(code);
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(HarnessError::new(format!(
                    "no IAM Identity Center sign-in started within {} ms",
                    timeout.as_millis()
                )));
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }

    /// The person `user` signs in at the access portal (their identity provider's MFA is
    /// outside the front) and approves the device showing `user_code`. An error when no
    /// pending authorization has that code (unknown, expired, already decided or redeemed).
    pub fn sso_approve(&self, user_code: &str, user: &str) -> Result<()> {
        lock(&self.state)
            .sso
            .approve(user_code, user, std::time::SystemTime::now())
    }

    /// The person refuses the device showing `user_code`: its next token request gets
    /// `AccessDeniedException`. Errors as [`FaultProxy::sso_approve`].
    pub fn sso_deny(&self, user_code: &str) -> Result<()> {
        lock(&self.state)
            .sso
            .deny(user_code, std::time::SystemTime::now())
    }

    /// How many SSO OIDC `CreateToken` requests the front received (every poll counts).
    pub fn sso_token_requests(&self) -> usize {
        self.action_count(sso_front::Operation::CreateToken.action())
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn is_listing_query(query: &str) -> bool {
    query.split('&').any(|p| {
        p.starts_with("list-type")
            || p == "versions"
            || p.starts_with("versions=")
            || p == "uploads"
            || p.starts_with("uploads=")
    })
}

async fn accept_loop(listener: TcpListener, ctx: Upstream) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        lock(&ctx.state).connections += 1;
        let ctx = ctx.clone();
        tokio::spawn(async move {
            let service = service_fn(move |req| {
                let ctx = ctx.clone();
                async move { Ok::<_, std::convert::Infallible>(handle(ctx, req).await) }
            });
            // A dropped connection (the point of some faults) ends this task quietly.
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

async fn handle(ctx: Upstream, req: Request<Incoming>) -> Response<ProxyBody> {
    let (parts, body) = req.into_parts();
    let body = match body.collect().await {
        Ok(b) => b.to_bytes(),
        Err(e) => {
            return plain(
                StatusCode::BAD_REQUEST,
                format!("unreadable request body: {e}"),
            )
        }
    };
    let method = parts.method.as_str().to_owned();
    let path = form::percent_decode(parts.uri.path(), false);
    let query = parts.uri.query().unwrap_or("").to_owned();
    if let Some(op) = sso_front::operation(&parts.method, &path, &parts.headers) {
        let upstream = SsoUpstream {
            endpoint: &ctx.base,
            iam: &ctx.iam,
            sts: &ctx.sts,
        };
        let response =
            sso_front::answer(op, &ctx.state, upstream, &query, &parts.headers, &body).await;
        lock(&ctx.state).seen.push(RequestSeen {
            method,
            path,
            query,
            action: Some(op.action().to_owned()),
            access_key_id: None,
            status: response.status().as_u16(),
        });
        return response;
    }
    let is_form = parts
        .headers
        .get(hyper::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    let fields = if is_form {
        form::parse_form(&body)
    } else {
        HashMap::new()
    };
    let action = fields.get("Action").cloned();
    let access_key_id = parts
        .headers
        .get(hyper::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(form::sigv4_access_key);

    let refusal = match action.as_deref() {
        Some("AssumeRole") => {
            sts_front::check_assume_role(&ctx.state, &ctx.iam, access_key_id.as_deref(), &fields)
                .await
        }
        Some(a) => denied(&ctx, a, access_key_id.as_deref()).await,
        None => None,
    };
    let response = if let Some(refusal) = refusal {
        refusal
    } else if action.as_deref() == Some("GetSessionToken") {
        sts_front::get_session_token(&ctx.state, &ctx.iam, access_key_id.as_deref(), &fields).await
    } else if let Some(answer) = action
        .as_deref()
        .and_then(|a| drift_front::answer(&ctx.state, a, &fields))
    {
        answer
    } else {
        let listing = is_listing_query(&query);
        let rule = if method == "GET" && action.is_none() {
            take_rule(&ctx.state, &path, listing)
        } else {
            None
        };
        let bare_listings =
            method == "GET" && action.is_none() && lock(&ctx.state).listings_without_etags;
        match rule {
            _ if bare_listings
                && query
                    .split('&')
                    .any(|p| p == "versions" || p.starts_with("versions=")) =>
            {
                s3_error(&ctx.state, 501, "NotImplemented", &path)
            }
            _ if bare_listings && query.split('&').any(|p| p.starts_with("list-type")) => {
                match forward(&ctx, &parts, body).await {
                    Ok(resp) => without_etags(resp).await,
                    Err(e) => plain(StatusCode::BAD_GATEWAY, e.to_string()),
                }
            }
            Some(Fault::FailStatus { status, code }) => s3_error(&ctx.state, status, &code, &path),
            Some(fault) => match forward(&ctx, &parts, body).await {
                Ok(resp) if resp.status().is_success() => apply(fault, resp).await,
                Ok(resp) => passthrough(resp),
                Err(e) => plain(StatusCode::BAD_GATEWAY, e.to_string()),
            },
            None => match forward(&ctx, &parts, body).await {
                Ok(resp) => passthrough(resp),
                Err(e) => plain(StatusCode::BAD_GATEWAY, e.to_string()),
            },
        }
    };
    lock(&ctx.state).seen.push(RequestSeen {
        method,
        path,
        query,
        action,
        access_key_id,
        status: response.status().as_u16(),
    });
    response
}

/// IAM's AccessDenied when `action` is denied to the user owning `akid` ([`FaultProxy::deny_action`]).
async fn denied(ctx: &Upstream, action: &str, akid: Option<&str>) -> Option<Response<ProxyBody>> {
    let akid = akid?;
    let users: Vec<String> = lock(&ctx.state)
        .denied
        .iter()
        .filter(|(a, _)| a == action)
        .map(|(_, u)| u.clone())
        .collect();
    if users.is_empty() {
        return None;
    }
    let user = sts_front::caller(&ctx.state, &ctx.iam, akid).await?;
    users
        .contains(&user)
        .then(|| sts_front::iam_access_denied(&ctx.state, action, &user))
}

/// The first rule with applications left that matches `path` (listing rules only for
/// listings, object rules only for objects), counted as applied.
fn take_rule(state: &SharedState, path: &str, listing: bool) -> Option<Fault> {
    let mut st = lock(state);
    let rule = st.rules.iter_mut().find(|r| {
        r.remaining > 0
            && path.contains(&r.key_substr)
            && (r.fault == Fault::TruncateListing) == listing
    })?;
    rule.remaining -= 1;
    Some(rule.fault.clone())
}

async fn forward(
    ctx: &Upstream,
    parts: &hyper::http::request::Parts,
    body: Bytes,
) -> Result<Response<Incoming>> {
    let path_and_query = parts
        .uri
        .path_and_query()
        .map(|p| p.as_str())
        .unwrap_or("/");
    let url = format!("{}{}", ctx.base, path_and_query);
    let mut builder = Request::builder().method(parts.method.clone()).uri(&url);
    for (name, value) in &parts.headers {
        builder = builder.header(name, value);
    }
    let req = builder
        .body(Full::new(body))
        .map_err(|e| HarnessError::during(&format!("build the upstream request {url}"), &e))?;
    ctx.http
        .request(req)
        .await
        .map_err(|e| HarnessError::during(&format!("forward {} {url}", parts.method), &e))
}

fn passthrough(resp: Response<Incoming>) -> Response<ProxyBody> {
    let mut resp = resp.map(|b| b.map_err(|e| Box::new(e) as BoxError).boxed());
    drop_hop_by_hop(resp.headers_mut());
    resp
}

/// Removes the headers that describe the upstream connection, not the message (RFC 9110
/// §7.6.1): the emulator closes every connection, which says nothing about the client's.
fn drop_hop_by_hop(headers: &mut hyper::HeaderMap) {
    headers.remove(hyper::header::CONNECTION);
    headers.remove("keep-alive");
}

async fn apply(fault: Fault, resp: Response<Incoming>) -> Response<ProxyBody> {
    let (mut parts, body) = resp.into_parts();
    drop_hop_by_hop(&mut parts.headers);
    let bytes = match body.collect().await {
        Ok(b) => b.to_bytes(),
        Err(e) => return plain(StatusCode::BAD_GATEWAY, format!("upstream body: {e}")),
    };
    match fault {
        Fault::DropAfter(n) => {
            // The head and the first bytes are flushed before the connection is cut: a short
            // pause lets them reach the client, as when a network path fails mid-transfer.
            let head = bytes.slice(..n.min(bytes.len()));
            let start: Option<Option<Bytes>> = Some(Some(head));
            let body = StreamBody::new(futures::stream::unfold(start, |state| async move {
                match state {
                    Some(Some(head)) => Some((Ok(Frame::data(head)), Some(None))),
                    Some(None) => {
                        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                        let cut: BoxError = Box::new(std::io::Error::new(
                            std::io::ErrorKind::ConnectionAborted,
                            "connection dropped by the fault proxy",
                        ));
                        Some((Err(cut), None))
                    }
                    None => None,
                }
            }));
            Response::from_parts(parts, BodyExt::boxed(body))
        }
        Fault::Corrupt => {
            let mut data = bytes.to_vec();
            if let Some(b) = data.get_mut(bytes.len() / 2) {
                *b ^= 0x01;
            }
            let names: Vec<_> = parts
                .headers
                .keys()
                .filter(|k| k.as_str().starts_with("x-amz-checksum-"))
                .cloned()
                .collect();
            for name in names {
                parts.headers.remove(name);
            }
            Response::from_parts(parts, full(Bytes::from(data)))
        }
        Fault::Slow { chunk, pause_ms } => {
            let chunks: Vec<Bytes> = bytes
                .chunks(chunk.max(1))
                .map(Bytes::copy_from_slice)
                .collect();
            let body = StreamBody::new(futures::stream::unfold(
                chunks.into_iter(),
                move |mut rest| async move {
                    let next = rest.next()?;
                    tokio::time::sleep(std::time::Duration::from_millis(pause_ms)).await;
                    Some((Ok::<_, BoxError>(Frame::data(next)), rest))
                },
            ));
            Response::from_parts(parts, BodyExt::boxed(body))
        }
        Fault::TruncateListing => {
            let half = bytes.slice(..bytes.len() / 2);
            parts.headers.remove(hyper::header::CONTENT_LENGTH);
            Response::from_parts(parts, full(half))
        }
        Fault::FailStatus { .. } => Response::from_parts(parts, full(bytes)),
    }
}

/// A listing answer with every `<ETag>` element taken out.
async fn without_etags(resp: Response<Incoming>) -> Response<ProxyBody> {
    let (mut parts, body) = resp.into_parts();
    drop_hop_by_hop(&mut parts.headers);
    let bytes = match body.collect().await {
        Ok(b) => b.to_bytes(),
        Err(e) => return plain(StatusCode::BAD_GATEWAY, format!("upstream body: {e}")),
    };
    let mut xml = String::from_utf8_lossy(&bytes).into_owned();
    while let Some(start) = xml.find("<ETag>") {
        let Some(len) = xml[start..].find("</ETag>") else {
            break;
        };
        xml.replace_range(start..start + len + "</ETag>".len(), "");
    }
    parts.headers.remove(hyper::header::CONTENT_LENGTH);
    Response::from_parts(parts, full(Bytes::from(xml)))
}

/// A whole body.
pub(crate) fn full(bytes: Bytes) -> ProxyBody {
    Full::new(bytes).map_err(|never| match never {}).boxed()
}

fn plain(status: StatusCode, text: String) -> Response<ProxyBody> {
    let mut resp = Response::new(full(Bytes::from(text)));
    *resp.status_mut() = status;
    resp
}

/// An S3-style XML error answer.
fn s3_error(state: &SharedState, status: u16, code: &str, path: &str) -> Response<ProxyBody> {
    let request_id = lock(state).request_id();
    let message = match code {
        "SlowDown" => "Please reduce your request rate.",
        "InternalError" => "We encountered an internal error. Please try again.",
        "ServiceUnavailable" => "Service is unable to handle request.",
        _ => "Injected by the fault proxy.",
    };
    let xml = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code><Message>{message}</Message><Resource>{}</Resource><RequestId>{request_id}</RequestId></Error>",
        xml_escape(path)
    );
    xml_response(status, &request_id, xml)
}

/// An XML answer with the given status and request id.
pub(crate) fn xml_response(status: u16, request_id: &str, xml: String) -> Response<ProxyBody> {
    let mut resp = Response::new(full(Bytes::from(xml)));
    *resp.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let headers = resp.headers_mut();
    headers.insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("text/xml"),
    );
    if let Ok(v) = hyper::header::HeaderValue::from_str(request_id) {
        headers.insert("x-amzn-requestid", v.clone());
        headers.insert("x-amz-request-id", v);
    }
    resp
}

/// Escapes text for XML content.
pub(crate) fn xml_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}
