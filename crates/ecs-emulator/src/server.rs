//! The HTTP side: hyper on tokio, one handler that reads the request as the
//! service does (method, path, query and form body, signature, clock,
//! nonce), applies the faults in force and answers.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use bytes::Bytes;
use ecs_model::{ACTION, API_VERSION, ResponseFormat};
use ecs_sign::TimeSource;
use http::header::{ACCEPT, CONTENT_LENGTH, CONTENT_TYPE, HOST};
use http::{HeaderMap, Method, Request, Response, StatusCode};
use http_body_util::BodyExt as _;
use hyper::body::Incoming;
use time::OffsetDateTime;

use crate::api_error::ApiError;
use crate::auth::{self, Keys};
use crate::body::EmuBody;
use crate::faults::{Decision, FaultKind, Faults, Service};
use crate::generated::splitmix;
use crate::identity::{self, IdentityConfig};
use crate::nonce::{NONCE_MEMORY, NonceCache};
use crate::oss::{self, OssError};
use crate::positions::Matches;
use crate::query::Query;
use crate::response;
use crate::sessions::Sessions;
use crate::store::Store;
use crate::tokens::Tokens;

/// Request bodies larger than this are refused.
const MAX_REQUEST_BODY: usize = 1 << 20;

/// A test's hook into the part of a query done away from the async
/// workers.
#[cfg(test)]
#[derive(Clone)]
pub(crate) struct QueryHook(pub(crate) Arc<dyn Fn(&crate::filter::Filter) + Send + Sync>);

#[cfg(test)]
impl std::fmt::Debug for QueryHook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("QueryHook")
    }
}

/// Everything the handler shares.
pub(crate) struct State {
    /// The results: a query clones the `Arc` and lets go of the lock.
    store: RwLock<Arc<Store>>,
    /// Held while a new store is built from the current one.
    appending: Mutex<()>,
    pub(crate) faults: Mutex<Faults>,
    keys: Keys,
    nonces: Mutex<NonceCache>,
    tokens: Tokens,
    /// The credentials the credential services issued.
    sessions: Sessions,
    identity: IdentityConfig,
    time: Arc<dyn TimeSource>,
    started: OffsetDateTime,
    seed: u64,
    requests: AtomicU64,
    /// The OSS objects the `replace` fault overwrote.
    oss_versions: crate::oss::versions::Versions,
    /// How long a request's body may take to arrive.
    read_timeout: Duration,
    #[cfg(test)]
    pub(crate) query_hook: Option<QueryHook>,
}

impl identity::Host for State {
    fn identity(&self) -> &IdentityConfig {
        State::identity(self)
    }

    fn sessions(&self) -> &Sessions {
        State::sessions(self)
    }

    fn now(&self) -> OffsetDateTime {
        State::now(self)
    }

    fn authenticate_v1(
        &self,
        method: &Method,
        params: &[(String, String)],
    ) -> Result<(), ApiError> {
        State::authenticate_v1(self, method, params)
    }
}

impl std::fmt::Debug for State {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("State")
            .field("keys", &self.keys)
            .field("seed", &self.seed)
            .field("requests", &self.requests)
            .finish_non_exhaustive()
    }
}

impl State {
    pub(crate) fn new(
        store: Store,
        faults: Faults,
        keys: Keys,
        time: Arc<dyn TimeSource>,
        seed: u64,
        read_timeout: Duration,
        identity: IdentityConfig,
    ) -> Self {
        let started = time.now();
        Self {
            store: RwLock::new(Arc::new(store)),
            appending: Mutex::new(()),
            faults: Mutex::new(faults),
            keys,
            nonces: Mutex::new(NonceCache::new(NONCE_MEMORY)),
            tokens: Tokens::new(seed),
            sessions: Sessions::new(seed),
            identity,
            time,
            started,
            seed,
            requests: AtomicU64::new(0),
            oss_versions: crate::oss::versions::Versions::default(),
            read_timeout,
            #[cfg(test)]
            query_hook: None,
        }
    }

    /// The results as they are now.
    pub(crate) fn store(&self) -> Option<Arc<Store>> {
        self.store.read().ok().map(|store| Arc::clone(&store))
    }

    /// Appends invocations after every existing result: a new store,
    /// built without holding up the queries, then swapped in.
    pub(crate) fn append(&self, invocations: Vec<crate::data::InvocationSpec>) {
        let Ok(_appending) = self.appending.lock() else {
            return;
        };
        let Some(current) = self.store() else { return };
        let next = Arc::new(current.appended(invocations));
        if let Ok(mut store) = self.store.write() {
            *store = next;
        }
    }

    pub(crate) fn identity(&self) -> &IdentityConfig {
        &self.identity
    }

    pub(crate) fn sessions(&self) -> &Sessions {
        &self.sessions
    }

    pub(crate) fn now(&self) -> OffsetDateTime {
        self.time.now()
    }

    /// The secret of a configured key or of an issued session.
    fn secret_of(&self, id: &str) -> Option<String> {
        self.keys
            .secret(id)
            .map(str::to_owned)
            .or_else(|| self.sessions.secret(id))
    }

    /// Verifies a V1-signed request (`params`: query and form) as the
    /// service does, and accepts its caller ([`accept`](Self::accept)).
    pub(crate) fn authenticate_v1(
        &self,
        method: &Method,
        params: &[(String, String)],
    ) -> Result<(), ApiError> {
        let verified = ecs_sign::rpc_v1::verify(method.as_str(), params, |id| self.secret_of(id))
            .map_err(|e| auth::verify_error(&e))?;
        self.accept(&verified)
    }

    /// The checks after the signature: the token (an issued session's
    /// must not have expired), the clock window and the nonce.
    fn accept(&self, verified: &ecs_sign::Verified) -> Result<(), ApiError> {
        let now = self.time.now();
        let id = verified.access_key_id();
        if self.sessions.contains(id) {
            self.sessions.check(id, verified.security_token(), now)?;
        } else {
            self.keys.check_token(id, verified.security_token())?;
        }
        auth::check_time(verified.timestamp(), now)?;
        auth::check_nonce(verified.nonce())?;
        let fresh = self
            .nonces
            .lock()
            .map(|mut n| n.insert(verified.nonce(), now.unix_timestamp()))
            .unwrap_or(false);
        if fresh {
            Ok(())
        } else {
            Err(ApiError::nonce_used())
        }
    }

    /// How many STS sessions the credential services have issued.
    pub(crate) fn issued_sessions(&self) -> u64 {
        self.sessions.issued()
    }

    pub(crate) fn requests(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }

    /// A request id in the service's form, unique and reproducible.
    fn request_id(&self, n: u64) -> String {
        let a = splitmix(self.seed ^ n.wrapping_mul(0x9E37_79B9));
        let b = splitmix(a);
        format!(
            "{:08X}-{:04X}-{:04X}-{:04X}-{:012X}",
            a >> 32,
            (a >> 16) & 0xFFFF,
            a & 0xFFFF,
            b >> 48,
            b & 0xFFFF_FFFF_FFFF
        )
    }
}

/// What the handler sends back: a response, or nothing (the `reset` fault).
pub(crate) type Answer = Result<Response<EmuBody>, ResetFault>;

/// The `reset` fault: hyper closes the connection without an answer.
#[derive(Debug)]
pub(crate) struct ResetFault;

impl std::fmt::Display for ResetFault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("reset fault: connection closed without an answer")
    }
}

impl std::error::Error for ResetFault {}

fn respond(status: u16, content_type: &str, body: Bytes, request_id: &str) -> Response<EmuBody> {
    let mut response = Response::new(EmuBody::Full(Some(body)));
    *response.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST);
    let headers = response.headers_mut();
    if let Ok(v) = content_type.parse() {
        headers.insert(CONTENT_TYPE, v);
    }
    if let Ok(v) = request_id.parse() {
        headers.insert("x-acs-request-id", v);
    }
    response
}

/// The format a request asked for: `Format` (V1) or `Accept` (V3), read
/// as the service reads them.
fn requested_format(params: &[(String, String)], headers: &HeaderMap) -> ResponseFormat {
    let format = params
        .iter()
        .find(|(k, _)| k == "Format")
        .map(|(_, v)| v.as_str());
    let accept = headers.get(ACCEPT).and_then(|v| v.to_str().ok());
    ResponseFormat::requested(format, accept)
}

/// Handles one request.
pub(crate) async fn handle(state: Arc<State>, request: Request<Incoming>) -> Answer {
    let n = state.requests.fetch_add(1, Ordering::Relaxed);
    let request_id = state.request_id(n);
    let (parts, body) = request.into_parts();
    let host = parts
        .headers
        .get(HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("ecs.aliyuncs.com")
        .to_owned();
    // Read the body first, bounded in size and time, so a fault never
    // leaves it half-read and a stalled client cannot hold the connection.
    let collect = http_body_util::Limited::new(body, MAX_REQUEST_BODY).collect();
    let body = match tokio::time::timeout(state.read_timeout, collect).await {
        Ok(Ok(collected)) => Ok(collected.to_bytes()),
        Ok(Err(_)) => Err(ApiError::bad_request(
            "the request body is over 1 MiB or broke off",
        )),
        Err(_) => Err(ApiError::bad_request(
            "the request body did not arrive within the read timeout",
        )),
    };
    let raw_query = parts.uri.query().unwrap_or_default();
    let query_params = ecs_sign::parse_query(raw_query);
    let format = requested_format(query_params.as_deref().unwrap_or_default(), &parts.headers);

    let action = query_params
        .as_deref()
        .unwrap_or_default()
        .iter()
        .find(|(k, _)| k == "Action")
        .map(|(_, v)| v.as_str())
        .or_else(|| {
            body.as_ref()
                .ok()
                .and_then(|b| std::str::from_utf8(b).ok())
                .filter(|b| b.contains("Action=AssumeRole"))
                .map(|_| "AssumeRole")
        });
    let oss_target = state.store().and_then(|store| oss::route(&parts, &store));
    let service = if oss_target.is_some() {
        Service::Oss
    } else {
        Service::of(parts.uri.path(), action)
    };
    let decision = state
        .faults
        .lock()
        .map(|mut f| f.decide(service))
        .unwrap_or_default();
    if let Some(delay) = decision.delay {
        tokio::time::sleep(delay).await;
    }
    if let Some(target) = oss_target {
        return serve_oss(&state, &parts, &target, decision, &request_id, &host);
    }
    let error = |e: &ApiError| {
        let mut response = respond(
            e.status,
            format.content_type(),
            response::error_body(e, &request_id, &host, format),
            &request_id,
        );
        if let Some(ms) = e.retry_after_ms
            && let Ok(v) = ms.to_string().parse()
        {
            response.headers_mut().insert("x-acs-retry-after", v);
        }
        response
    };
    match decision.action {
        Some(FaultKind::Reset) => return Err(ResetFault),
        Some(FaultKind::Throttle { retry_after }) => {
            let ms = u64::try_from(retry_after.as_millis()).unwrap_or(u64::MAX);
            return Ok(error(&ApiError::throttled(ms)));
        }
        Some(FaultKind::Error500) => return Ok(error(&ApiError::internal_error())),
        Some(FaultKind::Error503) => return Ok(error(&ApiError::service_unavailable())),
        Some(FaultKind::Html) => {
            return Ok(respond(
                502,
                "text/html",
                Bytes::from_static(response::HTML_PAGE.as_bytes()),
                &request_id,
            ));
        }
        _ => {}
    }

    let params = request_params(&parts.headers, query_params, body);
    let action = params
        .as_ref()
        .ok()
        .and_then(|(params, _)| params.iter().find(|(k, _)| k == "Action"))
        .map(|(_, v)| v.as_str());
    let served = if identity::is_credential_route(parts.uri.path(), action) {
        params
            .and_then(|(params, body)| {
                identity::serve(state.as_ref(), &parts, &params, &body, &request_id)
            })
            .map(|reply| (reply.status, reply.content_type, reply.body))
    } else {
        match admit(&state, &parts, params) {
            Ok(admitted) => answer(&state, admitted, format, &request_id)
                .await
                .map(|body| (200, format.content_type(), body)),
            Err(e) => Err(e),
        }
    };
    let (status, content_type, body) = match served {
        Ok(served) => served,
        Err(e) => return Ok(error(&e)),
    };
    Ok(match decision.action {
        Some(FaultKind::Truncate) => {
            let half = body.slice(..body.len() / 2);
            let mut response = respond(status, content_type, Bytes::new(), &request_id);
            *response.body_mut() = EmuBody::Truncated {
                half: Some(half),
                pause: None,
            };
            if let Ok(v) = body.len().to_string().parse() {
                response.headers_mut().insert(CONTENT_LENGTH, v);
            }
            response
        }
        Some(FaultKind::BadJson) => respond(
            200,
            ResponseFormat::Json.content_type(),
            Bytes::from_static(b"{\"RequestId\": \"broken\", \"Invocation\": {\"TotalCount\": 1,, "),
            &request_id,
        ),
        Some(FaultKind::BadXml) => respond(
            200,
            ResponseFormat::Xml.content_type(),
            Bytes::from_static(
                b"<?xml version=\"1.0\"?><DescribeInvocationResultsResponse><Invocation><TotalCount>1</Invocation>",
            ),
            &request_id,
        ),
        _ => respond(status, content_type, body, &request_id),
    })
}

/// A request that passed the service's checks: its query, the results it
/// runs against, and the moment (milliseconds after the start).
struct Admitted {
    query: Query,
    store: Arc<Store>,
    elapsed_ms: u64,
}

/// An OSS request: the faults in force as OSS shows them, then the
/// signature, the object and the range.
fn serve_oss(
    state: &State,
    parts: &http::request::Parts,
    target: &oss::Target,
    decision: Decision,
    request_id: &str,
    host: &str,
) -> Answer {
    let error = |e: &OssError| Ok(e.response(request_id, host, &target.key));
    let fault = decision.action;
    match fault {
        Some(FaultKind::Reset) => return Err(ResetFault),
        Some(FaultKind::Throttle { .. }) => return error(&OssError::slow_down()),
        Some(FaultKind::Error500) => return error(&OssError::internal()),
        Some(FaultKind::Error503) => return error(&OssError::unavailable()),
        Some(FaultKind::Html) => {
            return Ok(respond(
                502,
                "text/html",
                Bytes::from_static(response::HTML_PAGE.as_bytes()),
                request_id,
            ));
        }
        _ => {}
    }
    if let Err(e) = oss::authenticate(parts, target, state, state.now()) {
        return error(&e);
    }
    let Some(store) = state.store() else {
        return error(&OssError::internal());
    };
    let object = match oss::object(&store, target) {
        Ok(object) => object,
        Err(e) => return error(&e),
    };
    // This answer is the current version's, whatever `replace` writes next.
    let version = state.oss_versions.current(target, state.started);
    if decision.replace {
        state.oss_versions.replace(target, version, state.now());
    }
    let object = version.content(&object);
    let etag = crate::oss::versions::etag(&object);
    if let Err(e) = oss::check_preconditions(parts, &etag, version.modified()) {
        return error(&e);
    }
    let (status, body, range) = match oss::answer(parts, &object, request_id) {
        Ok(answer) => answer,
        Err(e) => return error(&e),
    };
    let validators = oss::Validators {
        etag: &etag,
        modified: version.modified(),
    };
    let mut response = oss::object_response(
        &parts.method,
        status,
        body.clone(),
        range,
        validators,
        request_id,
    );
    if fault == Some(FaultKind::Truncate) && parts.method == Method::GET {
        *response.body_mut() = EmuBody::Truncated {
            half: Some(body.slice(..body.len() / 2)),
            pause: None,
        };
    }
    Ok(response)
}

impl oss::Keyring for State {
    fn secret_for(
        &self,
        id: &str,
        token: Option<&str>,
        now: OffsetDateTime,
    ) -> Result<String, OssError> {
        let Some(secret) = self.secret_of(id) else {
            return Err(OssError::new(
                403,
                "InvalidAccessKeyId",
                "The OSS Access Key Id you provided does not exist in our records.",
            ));
        };
        let checked = if self.sessions.contains(id) {
            self.sessions.check(id, token, now)
        } else {
            self.keys.check_token(id, token)
        };
        checked.map_err(|_| {
            OssError::new(
                403,
                "InvalidSecurityToken",
                "The security token you provided is invalid or expired.",
            )
        })?;
        Ok(secret)
    }
}

/// Everything after the faults but the query itself: the service's own
/// checks (method, path, action, version, signature, token, body hash,
/// clock, nonce) and the query's parameters.
fn admit(
    state: &State,
    parts: &http::request::Parts,
    params: Result<(Vec<(String, String)>, Bytes), ApiError>,
) -> Result<Admitted, ApiError> {
    let (method, path, headers) = (&parts.method, parts.uri.path(), &parts.headers);
    if method != Method::GET && method != Method::POST {
        return Err(ApiError::bad_request(&format!(
            "method {method} is not supported; use POST (or GET)"
        )));
    }
    if path != "/" {
        return Err(ApiError::unsupported_action(path));
    }
    // HTTP/1.1 allows one Host line and a server must refuse more with a 400
    // (as the service's front end does). Two come from a transport that
    // writes its own Host besides the request's; said plainly here rather
    // than as the SignatureDoesNotMatch that checking the signature gives.
    let hosts = headers.get_all(HOST).iter().count();
    if hosts > 1 {
        return Err(ApiError::bad_request(&format!(
            "the request has {hosts} Host headers where HTTP/1.1 allows one: the HTTP \
             transport adds its own Host besides the request's; send the request's \
             headers unchanged and add no Host"
        )));
    }
    let (params, body) = params?;

    let v3 = headers.contains_key(http::header::AUTHORIZATION);
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let param = |name: &str| {
        params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let (action, version) = if v3 {
        (header("x-acs-action"), header("x-acs-version"))
    } else {
        (param("Action"), param("Version"))
    };
    let action = action
        .filter(|a| !a.is_empty())
        .ok_or_else(|| ApiError::missing_parameter("Action"))?;
    if action != ACTION {
        return Err(ApiError::unsupported_action(action));
    }
    let version = version
        .filter(|v| !v.is_empty())
        .ok_or_else(|| ApiError::missing_parameter("Version"))?;
    if version != API_VERSION {
        return Err(ApiError::unsupported_version(version));
    }

    let lookup = |id: &str| state.secret_of(id);
    let verified = if v3 {
        let header_pairs: Vec<(&str, &str)> = headers
            .iter()
            .filter_map(|(k, v)| v.to_str().ok().map(|v| (k.as_str(), v)))
            .collect();
        let verified =
            ecs_sign::acs3::verify(method.as_str(), path, &params, &header_pairs, &body, lookup);
        // Who signed, and whether the signature parses, come first; then
        // whether the body is the one the client hashed (the signature
        // covers the hash, so a different body is a request changed after
        // signing, said plainly).
        if verified.is_ok() || verified.as_ref().is_err_and(|e| e.is_signature_mismatch()) {
            auth::check_content_hash(header("x-acs-content-sha256"), &body)?;
        }
        verified
    } else {
        ecs_sign::rpc_v1::verify(method.as_str(), &params, lookup)
    }
    .map_err(|e| auth::verify_error(&e))?;
    state.accept(&verified)?;
    let now = state.time.now();

    let elapsed_ms = u64::try_from((now - state.started).whole_milliseconds()).unwrap_or(0);
    let store = state.store().ok_or_else(ApiError::internal_error)?;
    let query = Query::parse(&params, &store)?;
    Ok(Admitted {
        query,
        store,
        elapsed_ms,
    })
}

/// A request's parameters, from its query and its form body, with the
/// body; the body's failure to arrive comes first.
fn request_params(
    headers: &HeaderMap,
    query_params: Result<Vec<(String, String)>, ecs_sign::SignError>,
    body: Result<Bytes, ApiError>,
) -> Result<(Vec<(String, String)>, Bytes), ApiError> {
    let body = body?;
    let mut params = query_params.map_err(|e| ApiError::bad_request(&format!("query: {e}")))?;
    let form = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/x-www-form-urlencoded"));
    if form && !body.is_empty() {
        let text = std::str::from_utf8(&body)
            .map_err(|_| ApiError::bad_request("the form body is not UTF-8"))?;
        params.extend(
            ecs_sign::parse_query(text)
                .map_err(|e| ApiError::bad_request(&format!("form body: {e}")))?,
        );
    }
    Ok((params, body))
}

/// Runs an admitted query: its positions at once when the store finds them
/// cheaply, else on a blocking thread, so that a large query never holds
/// up the async workers (nor, since it holds no lock, other queries).
async fn answer(
    state: &Arc<State>,
    admitted: Admitted,
    format: ResponseFormat,
    request_id: &str,
) -> Result<Bytes, ApiError> {
    let Admitted {
        query,
        store,
        elapsed_ms,
    } = admitted;
    let matches = match store.select(&query.filter, elapsed_ms, false) {
        Some(matches) => matches,
        None => select_blocking(state, &store, &query, elapsed_ms).await?,
    };
    let page = query.page(&store, &matches, elapsed_ms, &state.tokens)?;
    Ok(response::page_body(
        &page,
        &query.encoding,
        request_id,
        format,
    ))
}

async fn select_blocking(
    state: &Arc<State>,
    store: &Arc<Store>,
    query: &Query,
    elapsed_ms: u64,
) -> Result<Matches, ApiError> {
    let (store, filter) = (Arc::clone(store), query.filter.clone());
    #[cfg(test)]
    let hook = state.query_hook.clone();
    #[cfg(not(test))]
    let _ = state;
    tokio::task::spawn_blocking(move || {
        #[cfg(test)]
        if let Some(hook) = hook {
            (hook.0)(&filter);
        }
        store.select(&filter, elapsed_ms, true)
    })
    .await
    .ok()
    .flatten()
    .ok_or_else(ApiError::internal_error)
}
