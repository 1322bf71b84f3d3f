//! [`HyperTransport`]: the production transport (feature `hyper`).

mod body;
mod builder;
mod classify;
mod connector;
mod proxy;
mod stream;

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::proxy::matcher::Matcher;

pub use self::builder::{HyperTransportBuilder, TlsRoots};
use self::connector::{ConnectTimeout, ProxyConnector};
pub use self::proxy::Proxy;
use crate::{Transport, TransportError, TransportErrorKind, TransportFuture};

/// Stands in for a deadline too far away to represent.
const FAR_FUTURE: Duration = Duration::from_secs(86_400 * 365 * 30);

type PooledClient = Client<ConnectTimeout<HttpsConnector<ProxyConnector>>, Full<Bytes>>;

/// The production [`Transport`]: hyper 1 through hyper-util's pooled client,
/// TLS by rustls with the ring provider.
///
/// - Connections are pooled and kept alive (HTTP/1.1), and HTTP/2 is used
///   when the server offers it through ALPN.
/// - TLS trusts Mozilla's roots (compiled in) by default; see
///   [`TlsRoots`] and [`HyperTransportBuilder::add_root_certificate`].
///   `https://` is expected; `http://` is accepted for explicit endpoints
///   unless [`https_only`](HyperTransportBuilder::https_only) is set.
/// - Three time bounds: the connect timeout (TCP, proxy and TLS handshakes),
///   the response timeout (until the response headers) and the deadline
///   (the whole request, body included). Nothing waits forever.
/// - The body is read completely, up to
///   [`max_body_size`](HyperTransportBuilder::max_body_size) bytes.
/// - A proxy from `HTTPS_PROXY`/`HTTP_PROXY`/`ALL_PROXY`/`NO_PROXY` (also in
///   lower case) or from [`HyperTransportBuilder::proxy`].
///
/// Cloning is cheap and clones share the connection pool. Requests must be
/// sent from within a Tokio runtime; outside one, `send` returns an error
/// instead of panicking.
///
/// # Example
///
/// ```no_run
/// use std::time::Duration;
/// use bytes::Bytes;
/// use ecs_transport::{HyperTransport, Transport};
///
/// # async fn run() -> Result<(), ecs_transport::TransportError> {
/// let transport = HyperTransport::builder()
///     .connect_timeout(Duration::from_secs(3))
///     .deadline(Duration::from_secs(30))
///     .build()?;
/// let request = http::Request::get("https://ecs.cn-hangzhou.aliyuncs.com/")
///     .body(Bytes::new())
///     .expect("a valid request");
/// let response = transport.send(request).await?;
/// println!("{}", response.status());
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct HyperTransport {
    inner: Arc<Inner>,
}

struct Inner {
    client: PooledClient,
    proxy: Option<Arc<Matcher>>,
    settings: Settings,
}

/// The settings, kept for `send` and for `Debug`.
#[derive(Debug)]
struct Settings {
    connect_timeout: Duration,
    response_timeout: Duration,
    deadline: Duration,
    max_body_size: usize,
    https_only: bool,
    http2: bool,
    roots: TlsRoots,
    extra_roots: usize,
    proxy: Proxy,
}

impl HyperTransport {
    /// A transport with the default settings (see [`HyperTransportBuilder`]).
    ///
    /// # Errors
    ///
    /// As [`HyperTransportBuilder::build`]: for instance when `HTTPS_PROXY`
    /// holds an invalid URL.
    pub fn new() -> Result<Self, TransportError> {
        Self::builder().build()
    }

    /// Starts configuring a transport.
    pub fn builder() -> HyperTransportBuilder {
        HyperTransportBuilder::new()
    }

    async fn exchange(
        &self,
        request: http::Request<Bytes>,
    ) -> Result<http::Response<Bytes>, TransportError> {
        if tokio::runtime::Handle::try_current().is_err() {
            return Err(TransportError::new(
                TransportErrorKind::Other,
                "HyperTransport needs a Tokio runtime: send requests from within one (for \
                 example under #[tokio::main]), or use a BlockingTransport",
            ));
        }
        let settings = &self.inner.settings;
        let uri = request.uri().clone();
        self.check_uri(&uri)?;
        let mut request = request.map(Full::new);
        if uri.scheme_str() == Some("http") {
            self.add_proxy_authorization(&mut request);
        }

        // One timer serves both bounds: it first fires at the response
        // timeout (or the deadline, if sooner), and once the headers are in
        // it is moved to the deadline for the body.
        let first = settings.response_timeout.min(settings.deadline);
        let mut timer = std::pin::pin!(tokio::time::sleep(first));
        // A deadline too far to represent (say `Duration::MAX`) is about 30
        // years away instead, as tokio does for `sleep`.
        let start = timer
            .deadline()
            .checked_sub(first)
            .unwrap_or(timer.deadline());
        let deadline_at = start
            .checked_add(settings.deadline)
            .or_else(|| start.checked_add(FAR_FUTURE))
            .unwrap_or(timer.deadline());
        let response = match race(self.inner.client.request(request), timer.as_mut()).await {
            Some(result) => result.map_err(|err| classify::request_error(err, &uri))?,
            None if settings.response_timeout < settings.deadline => {
                return Err(classify::response_timeout(&uri, settings.response_timeout));
            }
            None => return Err(classify::deadline(&uri, settings.deadline)),
        };
        timer.as_mut().reset(deadline_at);
        let (parts, body) = response.into_parts();
        let content_length = parts
            .headers
            .get(http::header::CONTENT_LENGTH)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.trim().parse::<u64>().ok());
        let read = body::read_limited(body, content_length, settings.max_body_size);
        let body = match race(read, timer).await {
            Some(Ok(body)) => body,
            Some(Err(body::BodyError::TooLarge)) => {
                return Err(classify::body_too_large(&uri, settings.max_body_size));
            }
            Some(Err(body::BodyError::Read(err))) => {
                return Err(classify::hyper_error(&err, &classify::target(&uri)).with_source(err));
            }
            None => return Err(classify::deadline(&uri, settings.deadline)),
        };
        Ok(http::Response::from_parts(parts, body))
    }

    /// Refuses URIs the pooled client cannot send, with a message that says
    /// what to give instead. Messages never quote the query, which may hold a
    /// security token (signature V1 puts everything in the query).
    fn check_uri(&self, uri: &http::Uri) -> Result<(), TransportError> {
        let invalid =
            |message: String| TransportError::new(TransportErrorKind::InvalidRequest, message);
        let has_host = uri.host().is_some_and(|host| !host.is_empty());
        match uri.scheme_str() {
            _ if !has_host => Err(invalid(format!(
                "the request URI (path `{}`) has no host: give an absolute URI such as \
                 https://ecs.cn-hangzhou.aliyuncs.com/",
                uri.path()
            ))),
            Some("https") => Ok(()),
            Some("http") if self.inner.settings.https_only => Err(invalid(format!(
                "the request URI `{}` uses plain http://, which this transport refuses \
                 (https_only): use an https:// endpoint",
                classify::target(uri)
            ))),
            Some("http") => Ok(()),
            Some(other) => Err(invalid(format!(
                "the request URI uses the scheme `{other}`: use https:// (or http:// for an \
                 explicit local endpoint)"
            ))),
            None => Err(invalid(format!(
                "the request URI for host `{}` has no scheme: give an absolute URI such as \
                 https://ecs.cn-hangzhou.aliyuncs.com/",
                uri.host().unwrap_or_default()
            ))),
        }
    }

    /// A plain-http request through a forward proxy carries the proxy's
    /// credentials itself (an https one sends them in `CONNECT`).
    fn add_proxy_authorization(&self, request: &mut http::Request<Full<Bytes>>) {
        let Some(matcher) = &self.inner.proxy else {
            return;
        };
        if request
            .headers()
            .contains_key(http::header::PROXY_AUTHORIZATION)
        {
            return;
        }
        if let Some(auth) = matcher
            .intercept(request.uri())
            .and_then(|hit| hit.basic_auth().cloned())
        {
            request
                .headers_mut()
                .insert(http::header::PROXY_AUTHORIZATION, auth);
        }
    }
}

/// Runs `future` until it completes (`Some`) or `timer` fires first (`None`).
async fn race<F: Future>(future: F, mut timer: Pin<&mut tokio::time::Sleep>) -> Option<F::Output> {
    let mut future = std::pin::pin!(future);
    std::future::poll_fn(|cx| {
        if let Poll::Ready(output) = future.as_mut().poll(cx) {
            return Poll::Ready(Some(output));
        }
        timer.as_mut().poll(cx).map(|()| None)
    })
    .await
}

impl Transport for HyperTransport {
    fn send(&self, request: http::Request<Bytes>) -> TransportFuture<'_> {
        Box::pin(self.exchange(request))
    }
}

impl fmt::Debug for HyperTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let settings = &self.inner.settings;
        f.debug_struct("HyperTransport")
            .field("connect_timeout", &settings.connect_timeout)
            .field("response_timeout", &settings.response_timeout)
            .field("deadline", &settings.deadline)
            .field("max_body_size", &settings.max_body_size)
            .field("https_only", &settings.https_only)
            .field("http2", &settings.http2)
            .field("roots", &settings.roots)
            .field("extra_roots", &settings.extra_roots)
            .field("proxy", &settings.proxy)
            .finish()
    }
}
