//! The transport traits and their shared (`Arc`) wrappers.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use bytes::Bytes;

use crate::TransportError;

/// The future returned by [`Transport::send`]: boxed, `Send`, borrowing the
/// transport for `'a`.
///
/// A named boxed future keeps [`Transport`] object-safe, so a client can hold
/// a [`SharedTransport`] instead of being generic over its transport.
pub type TransportFuture<'a> =
    Pin<Box<dyn Future<Output = Result<http::Response<Bytes>, TransportError>> + Send + 'a>>;

/// Sends one HTTP request and returns the whole response.
///
/// The request URI is absolute (`https://host/path?query`). The response body
/// is read completely before the future resolves, so an implementation is
/// responsible for bounding its size and time. Implementations do not retry
/// and do not follow redirects; retries belong to the client, which uses
/// [`TransportError::is_retryable`].
///
/// # The contract
///
/// The request arrives signed: the signature covers its method, path, query
/// and headers, so a transport sends them **unchanged**. What the
/// `ecs-assist` client hands over:
///
/// | part | what it holds | signed |
/// |---|---|---|
/// | method, URI | `POST`, `https://ENDPOINT/?PARAMS` (absolute; the query already percent-encoded) | yes |
/// | `host` | the endpoint's authority (`host[:port]`), the URI's | yes (V3) |
/// | `x-acs-action`, `x-acs-version` | the API's action and version | yes (V3) |
/// | `x-acs-date`, `x-acs-signature-nonce`, `x-acs-content-sha256`; `x-acs-accesskey-id` and `x-acs-security-token` with STS credentials | added by the V3 signer | yes (V3) |
/// | `authorization` | `ACS3-HMAC-SHA256 Credential=...,SignedHeaders=...,Signature=...` (V3 only) | carries the signature |
/// | `user-agent`, `accept` | the client's | no |
/// | body | empty (`Bytes::new()`), its SHA-256 in `x-acs-content-sha256` | yes (V3) |
///
/// With V1 signatures the signature and common parameters are in the query
/// instead (`Signature=...`), and changing any query byte breaks it.
///
/// A transport:
///
/// - sends every header once, with its value as given: it must not add a
///   second `host` (an HTTP/1.1 client that writes its own `Host` line from
///   the URI must skip the request's one, or take it from the request), nor
///   change the case of values, re-encode the query or re-order query
///   parameters;
/// - may add headers the signature does not cover and HTTP needs:
///   `content-length`, `connection`, `transfer-encoding`, `accept-encoding`
///   (if it then decompresses the body it returns), proxy headers on the
///   connection to a proxy. Over HTTP/2 the URI's authority travels as
///   `:authority`, which is the same value as `host`;
/// - sends the body as it is (here empty) and returns the response body
///   whole, decoded of any transfer or content coding it asked for, so the
///   client reads the service's JSON or XML bytes.
///
/// A transport that breaks this gets the service's `SignatureDoesNotMatch`
/// (V3) or an HTTP 400; a duplicate `Host` is the usual cause, and the
/// `ecs-emulator` crate names it in its error. The `ureq_transport` example
/// of this crate
/// ([`examples/ureq_transport.rs`](https://github.com/ecs-assist/ecs-assist/blob/main/crates/ecs-transport/examples/ureq_transport.rs))
/// is a complete [`BlockingTransport`] over another HTTP client: its error
/// mapping, its body limit and its settings.
///
/// # Example
///
/// A transport that answers every request with `204 No Content`. The future
/// it returns is ready at once, so `block_on_ready` below (a few lines, no
/// runtime) can drive it; under a runtime, `.await` it instead.
///
/// ```
/// use std::future::Future;
/// use std::task::{Context, Poll, Waker};
///
/// use ecs_transport::bytes::Bytes;
/// use ecs_transport::{SharedTransport, Transport, TransportFuture, http};
///
/// #[derive(Debug)]
/// struct NoContent;
///
/// impl Transport for NoContent {
///     fn send(&self, _request: http::Request<Bytes>) -> TransportFuture<'_> {
///         Box::pin(async {
///             let mut response = http::Response::new(Bytes::new());
///             *response.status_mut() = http::StatusCode::NO_CONTENT;
///             Ok(response)
///         })
///     }
/// }
///
/// /// Polls a future that never waits, once.
/// fn block_on_ready<F: Future>(future: F) -> F::Output {
///     let mut future = std::pin::pin!(future);
///     match future.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
///         Poll::Ready(output) => output,
///         Poll::Pending => panic!("this future waits; drive it with a runtime"),
///     }
/// }
///
/// let transport = SharedTransport::new(NoContent);
/// let request = http::Request::new(Bytes::new());
/// let response = block_on_ready(transport.send(request)).unwrap();
/// assert_eq!(response.status(), 204);
/// ```
pub trait Transport: Send + Sync + fmt::Debug {
    /// Sends `request` and resolves to the complete response, or to an error
    /// that says what failed.
    fn send(&self, request: http::Request<Bytes>) -> TransportFuture<'_>;
}

impl<T: Transport + ?Sized> Transport for Arc<T> {
    fn send(&self, request: http::Request<Bytes>) -> TransportFuture<'_> {
        (**self).send(request)
    }
}

impl<T: Transport + ?Sized> Transport for Box<T> {
    fn send(&self, request: http::Request<Bytes>) -> TransportFuture<'_> {
        (**self).send(request)
    }
}

impl<T: Transport + ?Sized> Transport for &T {
    fn send(&self, request: http::Request<Bytes>) -> TransportFuture<'_> {
        (**self).send(request)
    }
}

/// A cheaply cloneable, type-erased [`Transport`] (an `Arc` newtype).
#[derive(Clone)]
pub struct SharedTransport(Arc<dyn Transport>);

impl SharedTransport {
    /// Wraps `transport` so it can be shared between clients and tasks.
    pub fn new(transport: impl Transport + 'static) -> Self {
        Self(Arc::new(transport))
    }

    /// Wraps a transport that is already behind an `Arc`.
    pub fn from_arc(transport: Arc<dyn Transport>) -> Self {
        Self(transport)
    }
}

impl fmt::Debug for SharedTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("SharedTransport").field(&self.0).finish()
    }
}

impl Transport for SharedTransport {
    fn send(&self, request: http::Request<Bytes>) -> TransportFuture<'_> {
        self.0.send(request)
    }
}

/// The synchronous counterpart of [`Transport`], for programs without an
/// async runtime and for embedded targets.
///
/// The same contract applies (see [the contract](Transport#the-contract)):
/// an absolute request URI, signed headers sent once and unchanged (no
/// second `host`), the body as given, the whole response body read and
/// bounded, no retries, no redirects. The `ureq_transport` example
/// ([`examples/ureq_transport.rs`](https://github.com/ecs-assist/ecs-assist/blob/main/crates/ecs-transport/examples/ureq_transport.rs))
/// implements it over `ureq`.
///
/// # Example
///
/// ```
/// use ecs_transport::bytes::Bytes;
/// use ecs_transport::{BlockingTransport, SharedBlockingTransport, TransportError, http};
///
/// #[derive(Debug)]
/// struct Echo;
///
/// impl BlockingTransport for Echo {
///     fn send(&self, request: http::Request<Bytes>) -> Result<http::Response<Bytes>, TransportError> {
///         Ok(http::Response::new(request.into_body()))
///     }
/// }
///
/// let transport = SharedBlockingTransport::new(Echo);
/// let response = transport.send(http::Request::new(Bytes::from_static(b"hi"))).unwrap();
/// assert_eq!(response.body().as_ref(), b"hi");
/// ```
pub trait BlockingTransport: Send + Sync + fmt::Debug {
    /// Sends `request` and returns the complete response, or an error that
    /// says what failed.
    fn send(&self, request: http::Request<Bytes>) -> Result<http::Response<Bytes>, TransportError>;
}

impl<T: BlockingTransport + ?Sized> BlockingTransport for Arc<T> {
    fn send(&self, request: http::Request<Bytes>) -> Result<http::Response<Bytes>, TransportError> {
        (**self).send(request)
    }
}

impl<T: BlockingTransport + ?Sized> BlockingTransport for Box<T> {
    fn send(&self, request: http::Request<Bytes>) -> Result<http::Response<Bytes>, TransportError> {
        (**self).send(request)
    }
}

impl<T: BlockingTransport + ?Sized> BlockingTransport for &T {
    fn send(&self, request: http::Request<Bytes>) -> Result<http::Response<Bytes>, TransportError> {
        (**self).send(request)
    }
}

/// A cheaply cloneable, type-erased [`BlockingTransport`] (an `Arc` newtype).
#[derive(Clone)]
pub struct SharedBlockingTransport(Arc<dyn BlockingTransport>);

impl SharedBlockingTransport {
    /// Wraps `transport` so it can be shared between clients and threads.
    pub fn new(transport: impl BlockingTransport + 'static) -> Self {
        Self(Arc::new(transport))
    }

    /// Wraps a transport that is already behind an `Arc`.
    pub fn from_arc(transport: Arc<dyn BlockingTransport>) -> Self {
        Self(transport)
    }
}

impl fmt::Debug for SharedBlockingTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("SharedBlockingTransport")
            .field(&self.0)
            .finish()
    }
}

impl BlockingTransport for SharedBlockingTransport {
    fn send(&self, request: http::Request<Bytes>) -> Result<http::Response<Bytes>, TransportError> {
        self.0.send(request)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::TransportErrorKind;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::task::{Context, Poll, Waker};

    #[derive(Debug, Default)]
    struct Counting(AtomicUsize);

    impl Transport for Counting {
        fn send(&self, request: http::Request<Bytes>) -> TransportFuture<'_> {
            Box::pin(async move {
                let n = self.0.fetch_add(1, Ordering::SeqCst);
                if request.uri().path() == "/fail" {
                    return Err(TransportError::new(TransportErrorKind::Io, "failed"));
                }
                Ok(http::Response::new(Bytes::from(n.to_string())))
            })
        }
    }

    impl BlockingTransport for Counting {
        fn send(
            &self,
            request: http::Request<Bytes>,
        ) -> Result<http::Response<Bytes>, TransportError> {
            let n = self.0.fetch_add(1, Ordering::SeqCst);
            Ok(http::Response::new(Bytes::from(format!(
                "{n}{}",
                request.uri().path()
            ))))
        }
    }

    fn ready<F: Future>(f: F) -> F::Output {
        let mut f = std::pin::pin!(f);
        let mut cx = Context::from_waker(Waker::noop());
        match f.as_mut().poll(&mut cx) {
            Poll::Ready(v) => v,
            Poll::Pending => panic!("test future was not ready"),
        }
    }

    fn get(path: &str) -> http::Request<Bytes> {
        http::Request::builder()
            .uri(path)
            .body(Bytes::new())
            .unwrap()
    }

    #[test]
    fn shared_transport_clones_share_state() {
        let shared = SharedTransport::new(Counting::default());
        let clone = shared.clone();
        let first = ready(Transport::send(&shared, get("/a"))).unwrap();
        let second = ready(Transport::send(&clone, get("/a"))).unwrap();
        assert_eq!(first.body().as_ref(), b"0");
        assert_eq!(second.body().as_ref(), b"1");
        let err = ready(Transport::send(&clone, get("/fail"))).unwrap_err();
        assert_eq!(err.kind(), TransportErrorKind::Io);
        assert!(format!("{shared:?}").starts_with("SharedTransport(Counting"));
    }

    #[test]
    fn shared_blocking_transport_clones_share_state() {
        let shared = SharedBlockingTransport::new(Counting::default());
        let clone = shared.clone();
        assert_eq!(
            BlockingTransport::send(&shared, get("/x"))
                .unwrap()
                .body()
                .as_ref(),
            b"0/x"
        );
        assert_eq!(
            BlockingTransport::send(&clone, get("/y"))
                .unwrap()
                .body()
                .as_ref(),
            b"1/y"
        );
    }

    #[test]
    fn traits_are_object_safe_and_wrappers_forward() {
        let boxed: Box<dyn Transport> = Box::new(Counting::default());
        let arc: Arc<dyn Transport> = Arc::new(Counting::default());
        assert_eq!(ready(boxed.send(get("/"))).unwrap().body().as_ref(), b"0");
        let shared = SharedTransport::from_arc(arc);
        assert_eq!(ready(shared.send(get("/"))).unwrap().body().as_ref(), b"0");
        let blocking: Arc<dyn BlockingTransport> = Arc::new(Counting::default());
        let shared = SharedBlockingTransport::from_arc(blocking);
        assert_eq!(shared.send(get("/z")).unwrap().body().as_ref(), b"0/z");
    }

    #[test]
    fn shared_types_are_send_sync() {
        fn check<T: Send + Sync + Clone + 'static>() {}
        check::<SharedTransport>();
        check::<SharedBlockingTransport>();
    }
}
