//! [`CaptureTransport`]: records every request and answers with one
//! configured response.

use std::sync::Mutex;

use bytes::Bytes;

use super::{StoredResponse, copy_request, lock};
use crate::{BlockingTransport, Transport, TransportError, TransportFuture};

/// A transport that records the requests it is given and answers each with
/// the same configured response (by default `200 OK` with an empty body).
///
/// Use it to check what a client sends (the signed query, the headers)
/// without a server. It implements both [`Transport`] and
/// [`BlockingTransport`].
///
/// # Example
///
/// ```
/// use bytes::Bytes;
/// use ecs_transport::BlockingTransport;
/// use ecs_transport::test_util::CaptureTransport;
///
/// let transport = CaptureTransport::new().with_response(
///     http::Response::builder()
///         .status(200)
///         .header("content-type", "application/json")
///         .body(Bytes::from_static(b"{}"))
///         .unwrap(),
/// );
/// let request = http::Request::post("https://ecs.example/?Action=DescribeInvocationResults")
///     .body(Bytes::new())
///     .unwrap();
/// let response = BlockingTransport::send(&transport, request).unwrap();
/// assert_eq!(response.body().as_ref(), b"{}");
/// assert_eq!(transport.request_count(), 1);
/// let sent = transport.last_request().unwrap();
/// assert_eq!(sent.uri().query(), Some("Action=DescribeInvocationResults"));
/// ```
#[derive(Debug)]
pub struct CaptureTransport {
    response: StoredResponse,
    requests: Mutex<Vec<http::Request<Bytes>>>,
}

impl Default for CaptureTransport {
    fn default() -> Self {
        Self::new()
    }
}

impl CaptureTransport {
    /// A transport that answers `200 OK` with an empty body.
    pub fn new() -> Self {
        Self {
            response: StoredResponse::from_response(http::Response::new(Bytes::new())),
            requests: Mutex::new(Vec::new()),
        }
    }

    /// Answers every request with a copy of `response` (extensions are not
    /// copied).
    #[must_use]
    pub fn with_response(self, response: http::Response<Bytes>) -> Self {
        Self {
            response: StoredResponse::from_response(response),
            ..self
        }
    }

    /// Copies of the requests received so far, oldest first.
    pub fn requests(&self) -> Vec<http::Request<Bytes>> {
        lock(&self.requests).iter().map(copy_request).collect()
    }

    /// A copy of the most recent request, if any.
    pub fn last_request(&self) -> Option<http::Request<Bytes>> {
        lock(&self.requests).last().map(copy_request)
    }

    /// Removes and returns the requests received so far.
    pub fn take_requests(&self) -> Vec<http::Request<Bytes>> {
        std::mem::take(&mut *lock(&self.requests))
    }

    /// How many requests were received (and not taken).
    pub fn request_count(&self) -> usize {
        lock(&self.requests).len()
    }

    fn answer(&self, request: http::Request<Bytes>) -> http::Response<Bytes> {
        lock(&self.requests).push(request);
        self.response.to_response()
    }
}

impl Transport for CaptureTransport {
    fn send(&self, request: http::Request<Bytes>) -> TransportFuture<'_> {
        let response = self.answer(request);
        Box::pin(std::future::ready(Ok(response)))
    }
}

impl BlockingTransport for CaptureTransport {
    fn send(&self, request: http::Request<Bytes>) -> Result<http::Response<Bytes>, TransportError> {
        Ok(self.answer(request))
    }
}

impl crate::StreamingTransport for CaptureTransport {
    fn send_streaming(&self, request: http::Request<Bytes>) -> crate::StreamingFuture<'_> {
        let response = self.answer(request).map(crate::BodyStream::from_bytes);
        Box::pin(std::future::ready(Ok(response)))
    }
}
