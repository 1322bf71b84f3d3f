//! [`StreamingTransport`] for [`HyperTransport`]: the head within the
//! response timeout (or the deadline, if sooner), then each chunk within
//! the response timeout of the one before.
//!
//! The whole-request deadline and the body size limit do not apply to a
//! streamed body: its size is what the caller chose to download, and the
//! caller paces the reading. A server that stops sending ends the stream
//! with a timeout error after the response timeout.

use std::future::Future as _;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use hyper::body::{Body as _, Incoming};

use super::{HyperTransport, classify, race};
use crate::{BodyStream, ChunkSource, StreamingFuture, StreamingTransport, TransportError};

impl HyperTransport {
    async fn exchange_streaming(
        &self,
        request: http::Request<Bytes>,
    ) -> Result<http::Response<BodyStream>, TransportError> {
        let settings = &self.inner.settings;
        let uri = request.uri().clone();
        if tokio::runtime::Handle::try_current().is_err() {
            // `exchange` words this error; reuse it without sending.
            return self
                .exchange(request)
                .await
                .map(|r| r.map(BodyStream::from_bytes));
        }
        self.check_uri(&uri)?;
        let mut request = request.map(http_body_util::Full::new);
        if uri.scheme_str() == Some("http") {
            self.add_proxy_authorization(&mut request);
        }
        let first = settings.response_timeout.min(settings.deadline);
        let timer = std::pin::pin!(tokio::time::sleep(first));
        let response = match race(self.inner.client.request(request), timer).await {
            Some(result) => result.map_err(|err| classify::request_error(err, &uri))?,
            None if settings.response_timeout < settings.deadline => {
                return Err(classify::response_timeout(&uri, settings.response_timeout));
            }
            None => return Err(classify::deadline(&uri, settings.deadline)),
        };
        let (parts, body) = response.into_parts();
        let source = HyperChunks {
            body,
            idle: settings.response_timeout,
            timer: Box::pin(tokio::time::sleep(settings.response_timeout)),
            target: classify::target(&uri),
        };
        Ok(http::Response::from_parts(parts, BodyStream::new(source)))
    }
}

impl StreamingTransport for HyperTransport {
    fn send_streaming(&self, request: http::Request<Bytes>) -> StreamingFuture<'_> {
        Box::pin(self.exchange_streaming(request))
    }
}

/// A hyper body read frame by frame, each within `idle` of the previous.
struct HyperChunks {
    body: Incoming,
    idle: Duration,
    timer: Pin<Box<tokio::time::Sleep>>,
    target: String,
}

impl ChunkSource for HyperChunks {
    fn poll_chunk(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Bytes, TransportError>>> {
        let this = self.get_mut();
        loop {
            match Pin::new(&mut this.body).poll_frame(cx) {
                Poll::Ready(None) => return Poll::Ready(None),
                Poll::Ready(Some(Err(err))) => {
                    let error = classify::hyper_error(&err, &this.target).with_source(err);
                    return Poll::Ready(Some(Err(error)));
                }
                Poll::Ready(Some(Ok(frame))) => {
                    if let Some(deadline) = tokio::time::Instant::now().checked_add(this.idle) {
                        this.timer.as_mut().reset(deadline);
                    }
                    // Trailers carry nothing a download uses.
                    match frame.into_data() {
                        Ok(data) if !data.is_empty() => return Poll::Ready(Some(Ok(data))),
                        _ => continue,
                    }
                }
                Poll::Pending => {
                    return match this.timer.as_mut().poll(cx) {
                        Poll::Pending => Poll::Pending,
                        Poll::Ready(()) => Poll::Ready(Some(Err(TransportError::new(
                            crate::TransportErrorKind::Timeout,
                            format!(
                                "{} sent no data for {:?} in the middle of a response body: \
                                 retry, or raise the response timeout",
                                this.target, this.idle
                            ),
                        )))),
                    };
                }
            }
        }
    }
}
