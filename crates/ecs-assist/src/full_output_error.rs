//! [`FullOutputError`]: why the complete output of a result could not be
//! read, as a kind a caller can branch on.

use std::error::Error as StdError;
use std::fmt;

type BoxError = Box<dyn StdError + Send + Sync + 'static>;

/// Why [`Client::full_output`](crate::Client::full_output) could not give
/// the complete output. New kinds may be added.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FullOutputErrorKind {
    /// The output was truncated and the invocation was not started with
    /// `OssOutputDelivery`: the dropped bytes were kept nowhere.
    NotConfigured,
    /// The delivery to OSS has not finished yet (`OssOutputStatus` is
    /// `InProgress`, or not reported): ask again later.
    InProgress,
    /// The delivery to OSS failed; [`FullOutputError::code`] holds
    /// `OssOutputErrorCode`.
    DeliveryFailed,
    /// `OssOutputUri` is missing or in a form that names no object.
    BadUri,
    /// The client cannot reach OSS as configured (no region to sign with).
    InvalidConfig,
    /// No credentials could be obtained, or they could not sign.
    Credentials,
    /// OSS answered with an error document ([`FullOutputError::code`]:
    /// `NoSuchKey`, `AccessDenied`, `SignatureDoesNotMatch`, ...).
    Oss,
    /// No complete answer from OSS, retries and resumes included.
    Transport,
    /// The object's size does not match what OSS announced
    /// (`Content-Length`), even after resuming; or its body broke off and
    /// OSS had sent neither an `ETag` nor a `Last-Modified` to hold a
    /// resume to the same version, so it was not resumed.
    Incomplete,
    /// The object was replaced while it was read: a resume found another
    /// version (OSS answered 412 `PreconditionFailed` to the `If-Match`
    /// sent with the first answer's ETag, or the answer had another ETag,
    /// `Last-Modified` or size). The bytes handed out before the error are
    /// all of the first version; nothing of the new one was used. Reading
    /// again gives the new version whole.
    Changed,
    /// The inline `Output` is not valid in its `ContentEncoding`.
    Decode,
}

impl FullOutputErrorKind {
    fn as_str(self) -> &'static str {
        match self {
            Self::NotConfigured => "not configured",
            Self::InProgress => "in progress",
            Self::DeliveryFailed => "delivery failed",
            Self::BadUri => "bad uri",
            Self::InvalidConfig => "invalid configuration",
            Self::Credentials => "credentials",
            Self::Oss => "oss",
            Self::Transport => "transport",
            Self::Incomplete => "incomplete",
            Self::Changed => "changed",
            Self::Decode => "decode",
        }
    }
}

impl fmt::Display for FullOutputErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An error reading a result's complete output. `Display` says what failed
/// and what to do; secrets never appear in it.
pub struct FullOutputError {
    kind: FullOutputErrorKind,
    message: String,
    code: Option<String>,
    request_id: Option<String>,
    status: Option<u16>,
    source: Option<BoxError>,
}

impl FullOutputError {
    pub(crate) fn new(kind: FullOutputErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
            code: None,
            request_id: None,
            status: None,
            source: None,
        }
    }

    pub(crate) fn with_code(mut self, code: Option<String>) -> Self {
        self.code = code.filter(|c| !c.is_empty());
        self
    }

    pub(crate) fn with_request_id(mut self, id: Option<String>) -> Self {
        self.request_id = id.filter(|c| !c.is_empty());
        self
    }

    pub(crate) fn with_status(mut self, status: u16) -> Self {
        self.status = Some(status);
        self
    }

    pub(crate) fn with_source(mut self, source: impl Into<BoxError>) -> Self {
        self.source = Some(source.into());
        self
    }

    /// The kind of failure.
    pub fn kind(&self) -> FullOutputErrorKind {
        self.kind
    }

    /// `OssOutputErrorCode` for [`DeliveryFailed`](FullOutputErrorKind::DeliveryFailed),
    /// OSS's error code for [`Oss`](FullOutputErrorKind::Oss).
    pub fn code(&self) -> Option<&str> {
        self.code.as_deref()
    }

    /// OSS's request id, when OSS answered.
    pub fn request_id(&self) -> Option<&str> {
        self.request_id.as_deref()
    }

    /// The HTTP status of OSS's error answer.
    pub fn http_status(&self) -> Option<u16> {
        self.status
    }
}

impl fmt::Debug for FullOutputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FullOutputError")
            .field("kind", &self.kind)
            .field("message", &self.message)
            .field("code", &self.code)
            .field("request_id", &self.request_id)
            .field("status", &self.status)
            .field("source", &self.source)
            .finish()
    }
}

impl fmt::Display for FullOutputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl StdError for FullOutputError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.source
            .as_deref()
            .map(|source| source as &(dyn StdError + 'static))
    }
}
