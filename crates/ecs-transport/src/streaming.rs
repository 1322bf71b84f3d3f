//! Streamed responses: a transport that hands back the response head as soon
//! as it arrives and the body chunk by chunk, for bodies too large to hold
//! in memory (a command's complete output delivered to OSS).
//!
//! This is a separate trait beside [`Transport`], not a change of it: the
//! `DescribeInvocationResults` path keeps reading small bodies whole in one
//! call, and only a download asks for a stream.
//!
//! - [`StreamingTransport`]: `send_streaming(request)` resolves to an
//!   `http::Response<BodyStream>` once the head is in.
//! - [`BodyStream`]: the body, read with [`BodyStream::chunk`] (or polled
//!   with [`BodyStream::poll_chunk`]); a failure in the middle is a
//!   [`TransportError`] like any other, retryable when the connection broke.
//! - [`Buffered`]: any [`Transport`] as a streaming one (the whole body
//!   arrives first, then is handed out as one chunk), for transports that
//!   cannot stream.
//! - [`SharedStreamingTransport`]: the cheaply cloneable `Arc` wrapper.

use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;

use crate::{Transport, TransportError};

/// A source of body chunks: what a [`BodyStream`] reads from (`Sync` so that
/// a download holding one can be borrowed across an `await`).
///
/// `poll_chunk` yields the next non-empty chunk, `None` at the end of the
/// body, or an error when reading failed (after which it is not polled
/// again).
pub trait ChunkSource: Send + Sync {
    /// Polls for the next chunk of the body.
    fn poll_chunk(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Bytes, TransportError>>>;
}

/// A response body read chunk by chunk, never held whole.
pub struct BodyStream {
    source: Pin<Box<dyn ChunkSource>>,
    done: bool,
}

impl BodyStream {
    /// A body read from `source`.
    pub fn new(source: impl ChunkSource + 'static) -> Self {
        Self {
            source: Box::pin(source),
            done: false,
        }
    }

    /// A body that is already in memory, handed out as one chunk.
    pub fn from_bytes(bytes: Bytes) -> Self {
        Self::from_chunks([Ok(bytes)])
    }

    /// A body made of these chunks (an `Err` ends it with that error);
    /// empty chunks are skipped.
    pub fn from_chunks(chunks: impl IntoIterator<Item = Result<Bytes, TransportError>>) -> Self {
        Self::new(Chunks(chunks.into_iter().collect()))
    }

    /// Polls for the next chunk: `None` once the body has ended or failed.
    pub fn poll_chunk(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Bytes, TransportError>>> {
        if self.done {
            return Poll::Ready(None);
        }
        let polled = self.source.as_mut().poll_chunk(cx);
        if matches!(polled, Poll::Ready(None | Some(Err(_)))) {
            self.done = true;
        }
        polled
    }

    /// The next chunk: `None` once the body has ended or failed.
    pub async fn chunk(&mut self) -> Option<Result<Bytes, TransportError>> {
        std::future::poll_fn(|cx| self.poll_chunk(cx)).await
    }

    /// Reads the rest of the body, keeping at most `limit` bytes (the rest
    /// is read and dropped): for error documents, which are small.
    ///
    /// # Errors
    /// The error that ended the body.
    pub async fn collect_up_to(&mut self, limit: usize) -> Result<Bytes, TransportError> {
        let mut out = Vec::new();
        while let Some(chunk) = self.chunk().await {
            let chunk = chunk?;
            let room = limit.saturating_sub(out.len());
            out.extend_from_slice(&chunk[..chunk.len().min(room)]);
        }
        Ok(Bytes::from(out))
    }
}

impl fmt::Debug for BodyStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BodyStream")
            .field("done", &self.done)
            .finish_non_exhaustive()
    }
}

/// Chunks already in memory.
struct Chunks(VecDeque<Result<Bytes, TransportError>>);

impl ChunkSource for Chunks {
    fn poll_chunk(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Bytes, TransportError>>> {
        let queue = &mut self.get_mut().0;
        loop {
            match queue.pop_front() {
                Some(Ok(chunk)) if chunk.is_empty() => continue,
                next => return Poll::Ready(next),
            }
        }
    }
}

/// The future returned by [`StreamingTransport::send_streaming`]: it
/// resolves once the response head has arrived.
pub type StreamingFuture<'a> =
    Pin<Box<dyn Future<Output = Result<http::Response<BodyStream>, TransportError>> + Send + 'a>>;

/// Sends one HTTP request and returns the response with its body as a
/// stream.
///
/// The contract of [`Transport`] holds (an absolute URI, no retries, no
/// redirects), except that the body is not read before the future
/// resolves, and so is not bounded in size: the caller reads what it
/// needs. An implementation still bounds the time it waits for the head
/// and for each chunk, so that a stalled server ends in a
/// [`Timeout`](crate::TransportErrorKind::Timeout) error.
pub trait StreamingTransport: Send + Sync + fmt::Debug {
    /// Sends `request` and resolves to the response head with a body to
    /// read, or to an error that says what failed.
    fn send_streaming(&self, request: http::Request<Bytes>) -> StreamingFuture<'_>;
}

impl<T: StreamingTransport + ?Sized> StreamingTransport for Arc<T> {
    fn send_streaming(&self, request: http::Request<Bytes>) -> StreamingFuture<'_> {
        (**self).send_streaming(request)
    }
}

impl<T: StreamingTransport + ?Sized> StreamingTransport for Box<T> {
    fn send_streaming(&self, request: http::Request<Bytes>) -> StreamingFuture<'_> {
        (**self).send_streaming(request)
    }
}

impl<T: StreamingTransport + ?Sized> StreamingTransport for &T {
    fn send_streaming(&self, request: http::Request<Bytes>) -> StreamingFuture<'_> {
        (**self).send_streaming(request)
    }
}

/// Any [`Transport`] used as a [`StreamingTransport`]: the whole body is
/// read by [`Transport::send`] (within that transport's size limit), then
/// handed out as one chunk. For transports that cannot stream.
#[derive(Debug, Clone)]
pub struct Buffered<T>(pub T);

impl<T: Transport> StreamingTransport for Buffered<T> {
    fn send_streaming(&self, request: http::Request<Bytes>) -> StreamingFuture<'_> {
        let send = self.0.send(request);
        Box::pin(async move { send.await.map(|r| r.map(BodyStream::from_bytes)) })
    }
}

/// A cheaply cloneable, type-erased [`StreamingTransport`] (an `Arc`
/// newtype).
#[derive(Clone)]
pub struct SharedStreamingTransport(Arc<dyn StreamingTransport>);

impl SharedStreamingTransport {
    /// Wraps `transport` so it can be shared between clients and tasks.
    pub fn new(transport: impl StreamingTransport + 'static) -> Self {
        Self(Arc::new(transport))
    }

    /// Wraps a transport that is already behind an `Arc`.
    pub fn from_arc(transport: Arc<dyn StreamingTransport>) -> Self {
        Self(transport)
    }
}

impl fmt::Debug for SharedStreamingTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("SharedStreamingTransport")
            .field(&self.0)
            .finish()
    }
}

impl StreamingTransport for SharedStreamingTransport {
    fn send_streaming(&self, request: http::Request<Bytes>) -> StreamingFuture<'_> {
        self.0.send_streaming(request)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{TransportErrorKind, TransportFuture};
    use std::task::Waker;

    fn ready<F: Future>(f: F) -> F::Output {
        let mut f = std::pin::pin!(f);
        let mut cx = Context::from_waker(Waker::noop());
        match f.as_mut().poll(&mut cx) {
            Poll::Ready(v) => v,
            Poll::Pending => panic!("test future was not ready"),
        }
    }

    #[derive(Debug)]
    struct Echo;

    impl Transport for Echo {
        fn send(&self, request: http::Request<Bytes>) -> TransportFuture<'_> {
            Box::pin(std::future::ready(Ok(http::Response::new(
                request.into_body(),
            ))))
        }
    }

    #[test]
    fn chunks_come_in_order_skipping_empty_ones_and_end_after_an_error() {
        let mut body = BodyStream::from_chunks([
            Ok(Bytes::from_static(b"ab")),
            Ok(Bytes::new()),
            Ok(Bytes::from_static(b"cd")),
            Err(TransportError::new(TransportErrorKind::Io, "cut")),
            Ok(Bytes::from_static(b"never")),
        ]);
        assert_eq!(ready(body.chunk()).unwrap().unwrap().as_ref(), b"ab");
        assert_eq!(ready(body.chunk()).unwrap().unwrap().as_ref(), b"cd");
        assert_eq!(
            ready(body.chunk()).unwrap().unwrap_err().kind(),
            TransportErrorKind::Io
        );
        assert!(ready(body.chunk()).is_none(), "nothing after an error");
    }

    #[test]
    fn collect_up_to_keeps_the_limit_and_reads_the_rest() {
        let mut body = BodyStream::from_chunks([
            Ok(Bytes::from_static(b"hello ")),
            Ok(Bytes::from_static(b"world")),
        ]);
        assert_eq!(ready(body.collect_up_to(8)).unwrap().as_ref(), b"hello wo");
        assert!(ready(body.chunk()).is_none());
    }

    #[test]
    fn a_buffered_transport_streams_its_whole_body_as_one_chunk() {
        let shared = SharedStreamingTransport::new(Buffered(Echo));
        let request = http::Request::new(Bytes::from_static(b"whole"));
        let mut response = ready(shared.send_streaming(request)).unwrap();
        assert_eq!(
            ready(response.body_mut().chunk())
                .unwrap()
                .unwrap()
                .as_ref(),
            b"whole"
        );
        assert!(ready(response.body_mut().chunk()).is_none());
        assert!(format!("{shared:?}").contains("Buffered(Echo)"));
    }

    #[test]
    fn wrappers_forward_and_are_send_sync() {
        fn check<T: Send + Sync + Clone + 'static>() {}
        check::<SharedStreamingTransport>();
        fn send<T: Send>() {}
        send::<BodyStream>();
        let boxed: Box<dyn StreamingTransport> = Box::new(Buffered(Echo));
        let arc = SharedStreamingTransport::from_arc(Arc::new(boxed));
        let response = ready(arc.send_streaming(http::Request::new(Bytes::from_static(b"x"))));
        assert!(response.is_ok());
    }
}
