//! The HTTP transport layer of ecs-assist: one object-safe trait to send a
//! request, and the implementations behind it.
//!
//! # Where this crate sits
//!
//! `ecs-model` and `ecs-sign` build and sign requests without doing IO; this
//! crate moves the bytes; the `ecs-assist` facade holds a
//! [`SharedTransport`] (or a [`SharedBlockingTransport`]) and adds endpoints,
//! retries and decoding on top. Without features the crate holds only the
//! traits, [`TransportError`], the sleeps and the test doubles, and depends on neither
//! tokio nor hyper, so embedded users and custom runtimes can bring their own
//! client.
//!
//! - [`Transport`]: `send(http::Request<Bytes>) -> TransportFuture<'_>`, a
//!   named boxed `Send` future, so clients are not generic over the transport.
//!   Its docs hold [the contract](Transport#the-contract) a transport keeps:
//!   which headers arrive signed and go out unchanged, what it may add.
//! - [`BlockingTransport`]: the same, synchronous.
//! - [`StreamingTransport`]: the response head first and the body as a
//!   [`BodyStream`] of chunks, for downloads too large to hold whole
//!   ([`HyperTransport`] and the test doubles implement it; [`Buffered`]
//!   adapts any [`Transport`]).
//! - [`HyperTransport`] (feature `hyper`, on by default): pooled keep-alive
//!   connections, HTTP/2 through ALPN, rustls with the ring provider and
//!   webpki roots, connect/response/deadline timeouts, a body size limit and
//!   HTTP(S) proxies.
//! - [`TransportError`]: a [`kind`](TransportError::kind), and whether the
//!   request may be retried.
//! - [`AsyncSleep`]: how a client waits (between retries, for a timeout)
//!   without naming a runtime; [`TokioSleep`] (feature `hyper`) and
//!   [`ThreadSleep`] (for a client driven on the caller's thread).
//! - `test_util::StaticReplayTransport` and `test_util::CaptureTransport`
//!   (feature `test-util`).
//!
//! # Example
//!
//! Any type can be a transport; here one that answers from memory, used
//! through the shared wrapper a client would hold. `http` and `bytes`
//! are re-exported, so a transport needs no version of its own of either.
//! For one over a real HTTP client see the `ureq_transport` example
//! ([`examples/ureq_transport.rs`](https://github.com/ecs-assist/ecs-assist/blob/main/crates/ecs-transport/examples/ureq_transport.rs)).
//!
//! ```
//! use ecs_transport::bytes::Bytes;
//! use ecs_transport::{BlockingTransport, SharedBlockingTransport, TransportError, http};
//!
//! #[derive(Debug)]
//! struct Canned(&'static str);
//!
//! impl BlockingTransport for Canned {
//!     fn send(&self, request: http::Request<Bytes>) -> Result<http::Response<Bytes>, TransportError> {
//!         assert_eq!(request.uri().host(), Some("ecs.cn-hangzhou.aliyuncs.com"));
//!         Ok(http::Response::new(Bytes::from_static(self.0.as_bytes())))
//!     }
//! }
//!
//! let transport = SharedBlockingTransport::new(Canned(r#"{"RequestId":"r-1"}"#));
//! let request = http::Request::post("https://ecs.cn-hangzhou.aliyuncs.com/?Action=DescribeInvocationResults")
//!     .body(Bytes::new())
//!     .unwrap();
//! let response = transport.send(request).unwrap();
//! assert_eq!(response.body().as_ref(), br#"{"RequestId":"r-1"}"#);
//! ```
//!
//! # Crate features
//!
//! | feature | default | what it adds |
//! |---|---|---|
//! | `hyper` | yes | [`HyperTransport`], [`HyperTransportBuilder`], [`Proxy`], [`TlsRoots`], [`TokioSleep`]; brings hyper 1, hyper-util, hyper-rustls, rustls (ring) and tokio |
//! | `native-roots` | no | [`TlsRoots::Native`] reads the platform's trust store (`rustls-native-certs`) |
//! | `test-util` | no | the `test_util` module: `StaticReplayTransport` (recorded request/response pairs) and `CaptureTransport` (records requests) for tests |
//!
//! No feature brings OpenSSL, native-tls or aws-lc: TLS is rustls with ring.

#![cfg_attr(docsrs, feature(doc_cfg))]

mod error;
#[cfg(feature = "hyper")]
mod hyper_transport;
mod sleep;
mod streaming;
#[cfg(feature = "test-util")]
pub mod test_util;
mod transport;

/// The `bytes` crate, whose [`Bytes`](bytes::Bytes) are the request and
/// response bodies: a transport names the same version as this crate.
pub use bytes;
/// The `http` crate, whose `Request` and `Response` a transport takes and
/// returns: a transport names the same version as this crate.
pub use http;

pub use error::{TransportError, TransportErrorKind};
#[cfg(feature = "hyper")]
pub use hyper_transport::{HyperTransport, HyperTransportBuilder, Proxy, TlsRoots};
#[cfg(feature = "hyper")]
pub use sleep::TokioSleep;
pub use sleep::{AsyncSleep, SharedAsyncSleep, SleepFuture, ThreadSleep};
pub use streaming::{
    BodyStream, Buffered, ChunkSource, SharedStreamingTransport, StreamingFuture,
    StreamingTransport,
};
pub use transport::{
    BlockingTransport, SharedBlockingTransport, SharedTransport, Transport, TransportFuture,
};
