//! The HTTP side: hyper on tokio, one handler that reads the request as the
//! service does (method, path, query and form body, signature, clock,
//! nonce), applies the faults in force and answers.

use std::future::Future as _;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use ecs_sign::TimeSource;
use http::header::{ACCEPT, CONTENT_LENGTH, CONTENT_TYPE, HOST};
use http::{HeaderMap, Method, Request, Response, StatusCode};
use http_body_util::BodyExt as _;
use hyper::body::{Body, Frame, Incoming, SizeHint};
use time::OffsetDateTime;

use crate::auth::{self, Keys, NonceCache};
use crate::errors::ApiError;
use crate::faults::{FaultKind, Faults};
use crate::query::{CountCache, Query, Tokens};
use crate::response::{self, Format};
use crate::store::{Store, splitmix};

/// The action and version this emulator serves.
const ACTION: &str = "DescribeInvocationResults";
const VERSION: &str = "2014-05-26";
/// Request bodies larger than this are refused.
const MAX_REQUEST_BODY: usize = 1 << 20;
/// Nonces remembered at most (15 minutes' worth at 1,000 requests a second).
const NONCE_CAPACITY: usize = 1_000_000;

/// Everything the handler shares.
#[derive(Debug)]
pub(crate) struct State {
    pub(crate) store: RwLock<Store>,
    pub(crate) faults: Mutex<Faults>,
    keys: Keys,
    nonces: Mutex<NonceCache>,
    tokens: Tokens,
    counts: Mutex<CountCache>,
    time: Arc<dyn TimeSource>,
    started: OffsetDateTime,
    seed: u64,
    requests: AtomicU64,
    /// How long a request's body may take to arrive.
    read_timeout: Duration,
}

impl State {
    pub(crate) fn new(
        store: Store,
        faults: Faults,
        keys: Keys,
        time: Arc<dyn TimeSource>,
        seed: u64,
        read_timeout: Duration,
    ) -> Self {
        let started = time.now();
        Self {
            store: RwLock::new(store),
            faults: Mutex::new(faults),
            keys,
            nonces: Mutex::new(NonceCache::new(NONCE_CAPACITY)),
            tokens: Tokens::new(seed),
            counts: Mutex::new(CountCache::default()),
            time,
            started,
            seed,
            requests: AtomicU64::new(0),
            read_timeout,
        }
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

/// A response body: whole, or cut short by the `truncate` fault.
#[derive(Debug)]
pub(crate) enum EmuBody {
    Full(Option<Bytes>),
    /// The `truncate` fault: the first half of the body, a pause that lets
    /// hyper put the head and that half on the wire, then an error that
    /// closes the connection before the promised `Content-Length`.
    Truncated {
        half: Option<Bytes>,
        pause: Option<Pin<Box<tokio::time::Sleep>>>,
    },
}

/// How long a truncated body waits after its half before failing.
const TRUNCATE_PAUSE: Duration = Duration::from_millis(20);

impl Body for EmuBody {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        match self.get_mut() {
            Self::Full(data) => Poll::Ready(data.take().map(|d| Ok(Frame::data(d)))),
            Self::Truncated { half, pause } => {
                if let Some(d) = half.take() {
                    return Poll::Ready(Some(Ok(Frame::data(d))));
                }
                let pause =
                    pause.get_or_insert_with(|| Box::pin(tokio::time::sleep(TRUNCATE_PAUSE)));
                match pause.as_mut().poll(cx) {
                    Poll::Pending => Poll::Pending,
                    Poll::Ready(()) => Poll::Ready(Some(Err(std::io::Error::other(
                        "truncate fault: body cut short",
                    )))),
                }
            }
        }
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            Self::Full(Some(d)) => SizeHint::with_exact(d.len() as u64),
            _ => SizeHint::default(),
        }
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

/// Reads the format a request asked for: `Format` (V1) or `Accept` (V3).
fn requested_format(params: &[(String, String)], headers: &HeaderMap) -> Format {
    if let Some((_, format)) = params.iter().find(|(k, _)| k == "Format") {
        return if format.eq_ignore_ascii_case("xml") {
            Format::Xml
        } else {
            Format::Json
        };
    }
    let accept = headers
        .get(ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if accept.contains("xml") && !accept.contains("json") {
        Format::Xml
    } else {
        Format::Json
    }
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

    let decision = state
        .faults
        .lock()
        .map(|mut f| f.decide())
        .unwrap_or_default();
    if let Some(delay) = decision.delay {
        tokio::time::sleep(delay).await;
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

    let served = serve(&state, &parts, query_params, body, format, &request_id);
    let (status, body) = match served {
        Ok(body) => (200, body),
        Err(e) => return Ok(error(&e)),
    };
    Ok(match decision.action {
        Some(FaultKind::Truncate) => {
            let half = body.slice(..body.len() / 2);
            let mut response = respond(status, format.content_type(), Bytes::new(), &request_id);
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
            Format::Json.content_type(),
            Bytes::from_static(b"{\"RequestId\": \"broken\", \"Invocation\": {\"TotalCount\": 1,, "),
            &request_id,
        ),
        Some(FaultKind::BadXml) => respond(
            200,
            Format::Xml.content_type(),
            Bytes::from_static(
                b"<?xml version=\"1.0\"?><DescribeInvocationResultsResponse><Invocation><TotalCount>1</Invocation>",
            ),
            &request_id,
        ),
        _ => respond(status, format.content_type(), body, &request_id),
    })
}

/// Everything after the faults: the service's own checks and the answer.
fn serve(
    state: &State,
    parts: &http::request::Parts,
    query_params: Result<Vec<(String, String)>, ecs_sign::SignError>,
    body: Result<Bytes, ApiError>,
    format: Format,
    request_id: &str,
) -> Result<Bytes, ApiError> {
    let (method, path, headers) = (&parts.method, parts.uri.path(), &parts.headers);
    if method != Method::GET && method != Method::POST {
        return Err(ApiError::bad_request(&format!(
            "method {method} is not supported; use POST (or GET)"
        )));
    }
    if path != "/" {
        return Err(ApiError::unsupported_action(path));
    }
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
    if version != VERSION {
        return Err(ApiError::unsupported_version(version));
    }

    let lookup = |id: &str| state.keys.secret(id).map(str::to_owned);
    let verified = if v3 {
        let header_pairs: Vec<(&str, &str)> = headers
            .iter()
            .filter_map(|(k, v)| v.to_str().ok().map(|v| (k.as_str(), v)))
            .collect();
        ecs_sign::acs3::verify(method.as_str(), path, &params, &header_pairs, &body, lookup)
    } else {
        ecs_sign::rpc_v1::verify(method.as_str(), &params, lookup)
    }
    .map_err(|e| auth::verify_error(&e))?;
    state
        .keys
        .check_token(verified.access_key_id(), verified.security_token())?;
    let now = state.time.now();
    auth::check_time(verified.timestamp(), now)?;
    let fresh = state
        .nonces
        .lock()
        .map(|mut n| n.insert(verified.nonce(), now.unix_timestamp()))
        .unwrap_or(false);
    if !fresh {
        return Err(ApiError::nonce_used());
    }

    let elapsed_ms = u64::try_from((now - state.started).whole_milliseconds()).unwrap_or(0);
    let store = state.store.read().map_err(|_| ApiError::internal_error())?;
    let query = Query::parse(&params, &store)?;
    let page = {
        let mut counts = state
            .counts
            .lock()
            .map_err(|_| ApiError::internal_error())?;
        query.run(&store, elapsed_ms, &state.tokens, &mut counts)?
    };
    Ok(response::page_body(
        &page,
        query.encoding,
        request_id,
        format,
    ))
}
