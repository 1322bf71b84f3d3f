//! [`Client::full_output`](super::Client::full_output) of the blocking
//! client: the async download run on the blocking client's driver, read
//! through [`std::io::Read`].
//!
//! With the built-in runtime the object streams as with the async client
//! (never whole in memory). A [`BlockingTransport`](ecs_transport::BlockingTransport)
//! reads each answer whole when it is called (it cannot stream), so with
//! one each answer's body is in memory once before it is handed out.

use std::fmt;
use std::io;
use std::sync::Arc;

use bytes::{Buf as _, Bytes};
use ecs_model::ContentEncoding;

use super::Driver;
use crate::FullOutputSource;
use crate::full_output::{FullOutput as AsyncFullOutput, FullOutputRequest as AsyncRequest};
use crate::full_output_error::{FullOutputError, FullOutputErrorKind};

/// A blocking request for one result's complete output; see
/// [`crate::FullOutputRequest`].
#[must_use]
pub struct FullOutputRequest {
    inner: AsyncRequest,
    driver: Arc<Driver>,
}

impl fmt::Debug for FullOutputRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("FullOutputRequest")
            .field(&self.inner)
            .finish()
    }
}

impl FullOutputRequest {
    pub(super) fn new(inner: AsyncRequest, driver: Arc<Driver>) -> Self {
        Self { inner, driver }
    }

    /// The `ContentEncoding` to read `Output` in; see
    /// [`crate::FullOutputRequest::content_encoding`].
    pub fn content_encoding(mut self, encoding: ContentEncoding) -> Self {
        self.inner = self.inner.content_encoding(encoding);
        self
    }

    /// Opens the complete output; see [`crate::FullOutputRequest::send`].
    ///
    /// # Errors
    /// As [`crate::FullOutputRequest::send`]; and
    /// [`FullOutputErrorKind::InvalidConfig`] when called on a thread that
    /// runs a tokio runtime, where the blocking client cannot block.
    pub fn send(self) -> Result<FullOutput, FullOutputError> {
        let inner = self
            .driver
            .block_on(self.inner.send())
            .map_err(driver_error)??;
        Ok(FullOutput {
            inner,
            driver: self.driver,
            pending: Bytes::new(),
            failed: None,
        })
    }
}

/// The driver's refusal to run, as the error of a download.
fn driver_error(error: crate::Error) -> FullOutputError {
    FullOutputError::new(FullOutputErrorKind::InvalidConfig, error.to_string()).with_source(error)
}

/// A result's complete output, read with [`std::io::Read`] (or chunk by
/// chunk with [`chunk`](Self::chunk)).
///
/// A failure (OSS's error, a broken connection that could not be resumed,
/// the object replaced while it was read) is an [`io::Error`] of kind
/// [`Other`](io::ErrorKind::Other) holding the [`FullOutputError`]
/// (`error.get_ref()` and `downcast_ref`, or `into_inner`); the bytes read
/// before it are all good, and every later read fails the same way.
///
/// ```no_run
/// # fn run(client: ecs_assist::blocking::Client, result: ecs_assist::InvocationResult)
/// # -> Result<(), Box<dyn std::error::Error>> {
/// let mut output = client.full_output(&result).send()?;
/// std::io::copy(&mut output, &mut std::io::stdout())?;
/// # Ok(())
/// # }
/// ```
pub struct FullOutput {
    inner: AsyncFullOutput,
    driver: Arc<Driver>,
    /// The rest of the chunk being read.
    pending: Bytes,
    /// The failure that ended the output: its kind and message.
    failed: Option<(FullOutputErrorKind, String)>,
}

impl fmt::Debug for FullOutput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FullOutput")
            .field("inner", &self.inner)
            .field("pending", &self.pending.len())
            .field("failed", &self.failed)
            .finish_non_exhaustive()
    }
}

impl FullOutput {
    /// The size in bytes, as `Content-Length` announced it (or of `Output`).
    pub fn content_length(&self) -> Option<u64> {
        self.inner.content_length()
    }

    /// Where the bytes come from.
    pub fn source(&self) -> &FullOutputSource {
        self.inner.source()
    }

    /// The next chunk (what [`Read`](io::Read) has not taken yet first);
    /// `None` at the end.
    pub fn chunk(&mut self) -> Option<Result<Bytes, FullOutputError>> {
        if !self.pending.is_empty() {
            return Some(Ok(std::mem::take(&mut self.pending)));
        }
        if let Some((kind, message)) = &self.failed {
            return Some(Err(FullOutputError::new(*kind, message.clone())));
        }
        let next = match self.driver.block_on(self.inner.chunk()) {
            Ok(next) => next,
            Err(error) => Some(Err(driver_error(error))),
        };
        if let Some(Err(error)) = &next {
            self.failed = Some((error.kind(), error.to_string()));
        }
        next
    }
}

impl io::Read for FullOutput {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        while self.pending.is_empty() {
            match self.chunk() {
                None => return Ok(0),
                Some(Ok(chunk)) => self.pending = chunk,
                Some(Err(error)) => return Err(io::Error::other(error)),
            }
        }
        let n = buf.len().min(self.pending.len());
        buf[..n].copy_from_slice(&self.pending[..n]);
        self.pending.advance(n);
        Ok(n)
    }
}
