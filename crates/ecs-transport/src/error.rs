//! The one error type of this crate.

use std::error::Error as StdError;
use std::fmt;

/// A boxed error that can cross threads, the type of every cause.
pub(crate) type BoxError = Box<dyn StdError + Send + Sync + 'static>;

/// What went wrong while sending a request, as a category the caller can
/// branch on.
///
/// The category decides whether the request may be retried; see
/// [`TransportError::is_retryable`] for the rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TransportErrorKind {
    /// No connection could be made: DNS failure, connection refused or reset
    /// while connecting, or a proxy that refused to open a tunnel.
    Connect,
    /// A timeout fired: while connecting, while waiting for the response
    /// headers, or because the whole-request deadline passed.
    Timeout,
    /// The TLS handshake failed, usually because the server certificate is not
    /// trusted or not issued for the host name.
    Tls,
    /// The connection failed after it was established: closed or reset while
    /// the request or the response was in flight.
    Io,
    /// The response body is larger than the configured limit, so reading
    /// stopped.
    BodyTooLarge,
    /// The request cannot be sent as given (no host in the URI, a scheme that
    /// is not allowed, ...), or the transport's configuration is invalid (a
    /// proxy URL that cannot be used). Fix the request or the configuration;
    /// retrying will not help.
    InvalidRequest,
    /// Anything else, such as a response that is not valid HTTP.
    Other,
}

impl TransportErrorKind {
    /// A short lowercase name of the kind, as used in logs.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Connect => "connect",
            Self::Timeout => "timeout",
            Self::Tls => "tls",
            Self::Io => "io",
            Self::BodyTooLarge => "body too large",
            Self::InvalidRequest => "invalid request",
            Self::Other => "other",
        }
    }
}

impl fmt::Display for TransportErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An error from a [`Transport`](crate::Transport) or
/// [`BlockingTransport`](crate::BlockingTransport).
///
/// The message says what failed and what to check; the underlying cause (an
/// I/O error, a rustls error, ...) is available through
/// [`source()`](std::error::Error::source) and never repeated in the message.
///
/// # Retry rule
///
/// [`is_retryable`](Self::is_retryable) is `true` for
/// [`Connect`](TransportErrorKind::Connect),
/// [`Timeout`](TransportErrorKind::Timeout) and
/// [`Io`](TransportErrorKind::Io) errors. Connect errors and connect timeouts
/// happen before any byte of the request was sent, so a retry is always safe.
/// Response timeouts and I/O errors in the middle of a response may happen
/// after the server received the request; they are still retryable because the
/// only operation this workspace sends, `DescribeInvocationResults`, is
/// read-only. A transport used for operations with side effects must not rely
/// on this rule for those errors. TLS failures, oversized bodies, invalid
/// requests and other errors are not retryable: the same request would fail
/// the same way.
///
/// # Example
///
/// ```
/// use ecs_transport::{TransportError, TransportErrorKind};
///
/// let err = TransportError::new(
///     TransportErrorKind::Connect,
///     "could not connect to 127.0.0.1:9: check the host and port",
/// );
/// assert!(err.is_connect());
/// assert!(err.is_retryable());
/// assert_eq!(err.to_string(), "could not connect to 127.0.0.1:9: check the host and port");
/// ```
pub struct TransportError {
    kind: TransportErrorKind,
    message: String,
    source: Option<BoxError>,
}

impl TransportError {
    /// Creates an error of `kind` whose [`Display`](fmt::Display) is
    /// `message`.
    ///
    /// Write the message in lowercase, say what failed and what the user can
    /// check, and do not include the cause: attach it with
    /// [`with_source`](Self::with_source).
    pub fn new(kind: TransportErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
            source: None,
        }
    }

    /// Attaches the underlying cause, returned by
    /// [`source()`](std::error::Error::source).
    #[must_use]
    pub fn with_source(mut self, source: impl Into<Box<dyn StdError + Send + Sync>>) -> Self {
        self.source = Some(source.into());
        self
    }

    /// The category of the error.
    pub fn kind(&self) -> TransportErrorKind {
        self.kind
    }

    /// `true` when a timeout fired (connect, response or deadline).
    pub fn is_timeout(&self) -> bool {
        self.kind == TransportErrorKind::Timeout
    }

    /// `true` when no connection could be made.
    pub fn is_connect(&self) -> bool {
        self.kind == TransportErrorKind::Connect
    }

    /// `true` when the TLS handshake failed.
    pub fn is_tls(&self) -> bool {
        self.kind == TransportErrorKind::Tls
    }

    /// `true` when the response body was larger than the configured limit.
    pub fn is_body_too_large(&self) -> bool {
        self.kind == TransportErrorKind::BodyTooLarge
    }

    /// `true` when the same request may be sent again; see the
    /// [retry rule](Self#retry-rule).
    pub fn is_retryable(&self) -> bool {
        matches!(
            self.kind,
            TransportErrorKind::Connect | TransportErrorKind::Timeout | TransportErrorKind::Io
        )
    }
}

impl fmt::Debug for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TransportError")
            .field("kind", &self.kind)
            .field("message", &self.message)
            .field("source", &self.source)
            .finish()
    }
}

impl fmt::Display for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl StdError for TransportError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.source
            .as_deref()
            .map(|source| source as &(dyn StdError + 'static))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_rule_by_kind() {
        let table = [
            (TransportErrorKind::Connect, true),
            (TransportErrorKind::Timeout, true),
            (TransportErrorKind::Io, true),
            (TransportErrorKind::Tls, false),
            (TransportErrorKind::BodyTooLarge, false),
            (TransportErrorKind::InvalidRequest, false),
            (TransportErrorKind::Other, false),
        ];
        for (kind, retryable) in table {
            let err = TransportError::new(kind, "x");
            assert_eq!(err.is_retryable(), retryable, "{kind}");
            assert_eq!(err.kind(), kind);
            assert_eq!(err.is_timeout(), kind == TransportErrorKind::Timeout);
            assert_eq!(err.is_connect(), kind == TransportErrorKind::Connect);
            assert_eq!(err.is_tls(), kind == TransportErrorKind::Tls);
            assert_eq!(
                err.is_body_too_large(),
                kind == TransportErrorKind::BodyTooLarge
            );
        }
    }

    #[test]
    fn source_is_returned_and_not_in_message() {
        let cause = std::io::Error::new(std::io::ErrorKind::ConnectionReset, "peer reset");
        let err = TransportError::new(TransportErrorKind::Io, "connection lost").with_source(cause);
        assert_eq!(err.to_string(), "connection lost");
        let source = err.source().expect("source");
        assert_eq!(source.to_string(), "peer reset");
        assert!(source.downcast_ref::<std::io::Error>().is_some());
    }

    #[test]
    fn error_is_send_sync_static() {
        fn check<T: Send + Sync + 'static>() {}
        check::<TransportError>();
    }
}
