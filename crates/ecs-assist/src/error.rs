//! The one error type of this crate, [`Error`], and the error types its
//! API hands out or carries as a cause: [`DecodeError`] (from
//! [`InvocationResult::output_text`](crate::InvocationResult::output_text)),
//! [`ValidationErrors`], [`ServiceError`], [`PaginationError`],
//! [`TransportError`], [`SignError`] (from a
//! [`NonceSource`](crate::config::NonceSource)). Each converts into
//! [`Error`] with `?`.

use std::error::Error as StdError;
use std::fmt;

use ecs_model::RetryClass;

pub use ecs_model::{
    DecodeError, PaginationError, Position, ServiceError, ValidationError, ValidationErrors,
};
pub use ecs_sign::SignError;
pub use ecs_transport::{TransportError, TransportErrorKind};

use crate::wait_outcome::WaitOutcome;

type BoxError = Box<dyn StdError + Send + Sync + 'static>;

/// What kind of failure an [`Error`] is, for callers that branch (exit codes,
/// alerts). New kinds may be added.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The request broke a rule of the API; nothing was sent.
    InvalidInput,
    /// The client configuration is incomplete or wrong (every problem is
    /// listed); nothing was sent.
    InvalidConfig,
    /// No credentials could be obtained, or they are malformed;
    /// [`Error::is_credentials_unavailable`] tells a source that failed
    /// from configuration that is missing or wrong.
    Credentials,
    /// The request could not be signed (a bad clock, a failing random source).
    Signing,
    /// The request did not get an HTTP response (connect, timeout, I/O).
    Transport,
    /// The service answered with an error document.
    Service,
    /// A success response could not be read.
    Decode,
    /// The overall deadline of the call passed before it succeeded.
    Deadline,
    /// Paging stopped because the service repeated a token or a page.
    PaginationStalled,
    /// A waiter gave up before every instance reached a final state.
    WaitTimeout,
    /// A waiter found no results for the invocation within its grace period.
    NotFound,
}

impl ErrorKind {
    fn as_str(self) -> &'static str {
        match self {
            Self::InvalidInput => "invalid input",
            Self::InvalidConfig => "invalid configuration",
            Self::Credentials => "credentials",
            Self::Signing => "signing",
            Self::Transport => "transport",
            Self::Service => "service",
            Self::Decode => "decode",
            Self::Deadline => "deadline",
            Self::PaginationStalled => "pagination stalled",
            Self::WaitTimeout => "wait timeout",
            Self::NotFound => "not found",
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An error from the client.
///
/// Branch on [`kind`](Self::kind) or the predicates; the service's error
/// document is in [`service_error`](Self::service_error). `Display` is one
/// lowercase sentence that says what failed and, where the user can fix it,
/// what to do; the underlying cause is in [`source`](StdError::source).
/// Secrets never appear in it.
pub struct Error {
    kind: ErrorKind,
    message: String,
    service: Option<Box<ServiceError>>,
    validation: Option<Box<ValidationErrors>>,
    retry_after: Option<std::time::Duration>,
    request_id: Option<String>,
    retry_class: Option<RetryClass>,
    attempts: u32,
    wait: Option<Box<WaitOutcome>>,
    timed_out: bool,
    credentials_unavailable: bool,
    source: Option<BoxError>,
}

impl Error {
    fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
            service: None,
            validation: None,
            retry_after: None,
            request_id: None,
            retry_class: None,
            attempts: 0,
            wait: None,
            timed_out: false,
            credentials_unavailable: false,
            source: None,
        }
    }

    /// Attaches the underlying cause, returned by [`source`](StdError::source).
    #[must_use]
    pub fn with_source(mut self, source: impl Into<BoxError>) -> Self {
        self.source = Some(source.into());
        self
    }

    pub(crate) fn invalid_input(errors: ValidationErrors) -> Self {
        let mut e = Self::new(
            ErrorKind::InvalidInput,
            format!("the request is invalid and was not sent: {errors}"),
        );
        e.validation = Some(Box::new(errors));
        e
    }

    pub(crate) fn invalid_config(problems: &[String]) -> Self {
        Self::new(
            ErrorKind::InvalidConfig,
            format!(
                "the client configuration is invalid: {}",
                problems.join("; ")
            ),
        )
    }

    /// A request that could not be signed; a malformed access key is a
    /// credentials error, told as `ecs-credentials` tells it.
    pub(crate) fn signing(source: ecs_sign::SignError) -> Self {
        Self::from(ecs_credentials::Error::from(source))
    }

    pub(crate) fn transport(source: TransportError, attempts: u32) -> Self {
        let hint = if source.is_retryable() {
            "check the endpoint and the network, or allow more attempts"
        } else {
            "check the endpoint and the transport settings"
        };
        let mut e = Self::new(
            ErrorKind::Transport,
            format!(
                "no complete response from the service ({}); {hint}",
                source.kind()
            ),
        );
        e.retry_class = Some(if source.is_retryable() {
            RetryClass::Transient
        } else {
            RetryClass::Final
        });
        e.attempts = attempts;
        e.with_source(source)
    }

    pub(crate) fn attempt_timeout(after: std::time::Duration, attempts: u32) -> Self {
        let mut e = Self::new(
            ErrorKind::Transport,
            format!(
                "no response within the attempt timeout of {} ms; raise it or check the network",
                after.as_millis()
            ),
        );
        e.retry_class = Some(RetryClass::Transient);
        e.attempts = attempts;
        e.timed_out = true;
        e
    }

    pub(crate) fn service(error: ServiceError, class: RetryClass, attempts: u32) -> Self {
        let message = service_message(&error, class);
        let mut e = Self::new(ErrorKind::Service, message);
        e.request_id = error.request_id.clone();
        e.service = Some(Box::new(error));
        e.retry_class = Some(class);
        e.attempts = attempts;
        e
    }

    pub(crate) fn decode(source: DecodeError, request_id: Option<String>) -> Self {
        let mut e = Self::new(
            ErrorKind::Decode,
            "the service answered 200 but the body is not a DescribeInvocationResults response",
        );
        e.request_id = request_id;
        e.with_source(source)
    }

    pub(crate) fn deadline(limit: std::time::Duration, last: Option<Self>) -> Self {
        let mut e = Self::new(
            ErrorKind::Deadline,
            format!(
                "the call did not succeed within its deadline of {} ms; raise the operation timeout or retry later",
                limit.as_millis()
            ),
        );
        if let Some(last) = last {
            e.request_id = last.request_id.clone();
            e.attempts = last.attempts;
            e = e.with_source(last);
        }
        e
    }

    pub(crate) fn pagination(source: PaginationError) -> Self {
        Self::new(
            ErrorKind::PaginationStalled,
            "paging stopped because the service did not advance; the results so far are complete up to this page",
        )
        .with_source(source)
    }

    pub(crate) fn invalid_wait(problems: &[String]) -> Self {
        Self::new(
            ErrorKind::InvalidInput,
            format!("the waiter was not started: {}", problems.join("; ")),
        )
    }

    pub(crate) fn wait_timeout(
        limit: std::time::Duration,
        waited: std::time::Duration,
        last: WaitOutcome,
    ) -> Self {
        let summary = last.summary();
        let mut e = Self::new(
            ErrorKind::WaitTimeout,
            format!(
                "gave up waiting after {} (the timeout is {}): {} of {} instances finished; raise the timeout or check the instances",
                readable(waited),
                readable(limit),
                summary.finished(),
                summary.total
            ),
        );
        e.wait = Some(Box::new(last));
        e
    }

    /// The request could not be put together; the message names the part
    /// at fault, the `http` error is the source.
    pub(crate) fn request_build(source: http::Error) -> Self {
        let message = if source.is::<http::uri::InvalidUri>() {
            "the request URI could not be built: the parameters are too long for one request \
             (a URI holds at most 65,534 bytes; shorten the ids, tags or NextToken) or the \
             endpoint is not a valid URL"
        } else if source.is::<http::header::InvalidHeaderValue>()
            || source.is::<http::header::InvalidHeaderName>()
        {
            "a request header could not be built: check the user agent suffix for characters \
             a header cannot hold (control characters, line breaks)"
        } else {
            "the HTTP request could not be built"
        };
        Self::new(ErrorKind::InvalidConfig, message).with_source(source)
    }

    pub(crate) fn not_found(invoke_id: &str, after: std::time::Duration) -> Self {
        Self::new(
            ErrorKind::NotFound,
            format!(
                "no results for invocation {invoke_id} after {}; check the invoke id, the region and the instance filter",
                readable(after)
            ),
        )
    }

    pub(crate) fn with_attempts(mut self, attempts: u32) -> Self {
        self.attempts = attempts;
        self
    }

    pub(crate) fn with_retry_after(mut self, retry_after: Option<std::time::Duration>) -> Self {
        self.retry_after = retry_after;
        self
    }

    /// The wait the service asked for before a retry (`x-acs-retry-after`).
    pub fn retry_after(&self) -> Option<std::time::Duration> {
        self.retry_after
    }

    pub(crate) fn retry_class(&self) -> Option<RetryClass> {
        self.retry_class
    }

    /// What kind of failure this is.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The service's error document, when the service answered with one.
    pub fn service_error(&self) -> Option<&ServiceError> {
        self.service.as_deref()
    }

    /// The service's error `Code` (`Throttling.User`, ...), if any.
    pub fn code(&self) -> Option<&str> {
        self.service
            .as_deref()
            .map(|s| s.code.as_str())
            .filter(|c| !c.is_empty())
    }

    /// The `RequestId` to quote to support, when a response carried one.
    pub fn request_id(&self) -> Option<&str> {
        self.request_id.as_deref()
    }

    /// Every problem with the request, for [`ErrorKind::InvalidInput`].
    pub fn validation_errors(&self) -> Option<&ValidationErrors> {
        self.validation.as_deref()
    }

    /// The last state a waiter saw, for [`ErrorKind::WaitTimeout`].
    pub fn wait_outcome(&self) -> Option<&WaitOutcome> {
        self.wait.as_deref()
    }

    /// How many attempts were made (0 when nothing was sent).
    pub fn attempts(&self) -> u32 {
        self.attempts
    }

    /// Whether the service was throttling the caller.
    pub fn is_throttling(&self) -> bool {
        self.retry_class == Some(RetryClass::Throttling)
    }

    /// Whether the same call may succeed later (throttling, transient service
    /// errors, retryable transport errors, deadline).
    pub fn is_retryable(&self) -> bool {
        self.kind == ErrorKind::Deadline || self.retry_class.is_some_and(RetryClass::is_retryable)
    }

    /// For an [`ErrorKind::Credentials`] error: whether a configured
    /// source of credentials could not deliver them (the metadata service,
    /// STS or the credentials URI was unreachable, timed out, or answered
    /// with an error or an unusable document), a network or service failure
    /// that may pass. `false` when the configuration is missing or wrong (a
    /// file, a variable, a value), which only the user can fix.
    pub fn is_credentials_unavailable(&self) -> bool {
        self.kind == ErrorKind::Credentials && self.credentials_unavailable
    }

    /// Whether the error was found before anything was sent (bad request or
    /// configuration).
    pub fn is_invalid_input(&self) -> bool {
        matches!(
            self.kind,
            ErrorKind::InvalidInput | ErrorKind::InvalidConfig
        )
    }

    /// Whether a timeout ended the call (attempt timeout, deadline, wait).
    pub fn is_timeout(&self) -> bool {
        matches!(self.kind, ErrorKind::Deadline | ErrorKind::WaitTimeout)
            || self
                .source
                .as_deref()
                .and_then(|s| s.downcast_ref::<TransportError>())
                .is_some_and(TransportError::is_timeout)
            || self.timed_out
    }
}

/// A duration as a person reads it: `300 ms` below a second, else seconds
/// to the tenth (`1.5 s`, `90 s`).
fn readable(duration: std::time::Duration) -> String {
    let millis = duration.as_millis();
    if millis < 1000 {
        return format!("{millis} ms");
    }
    let tenths = millis.saturating_add(50) / 100;
    match tenths % 10 {
        0 => format!("{} s", tenths / 10),
        tenth => format!("{}.{tenth} s", tenths / 10),
    }
}

/// The message for a service error: code, status, message, request id, and
/// what to do for the codes users can act on.
fn service_message(error: &ServiceError, class: RetryClass) -> String {
    let mut out = format!("the service refused the request: {error}");
    let code = error.code.as_str();
    let hint = match code {
        "SignatureDoesNotMatch" | "IncompleteSignature" | "InvalidAccessKeySecret" => {
            "check the access key secret (it must belong to the access key id) and that the local clock is right"
        }
        "InvalidAccessKeyId.NotFound" | "InvalidAccessKeyId" => {
            "check the access key id; it may have been deleted or disabled"
        }
        "InvalidAccessKeyId.Inactive" => "the access key is disabled; enable it or use another",
        "InvalidTimeStamp.Expired" | "InvalidTimeStamp.Format" => {
            "the local clock is more than 15 minutes off; synchronise it (NTP)"
        }
        "SignatureNonceUsed" => "a signature nonce was reused; retry, and check the nonce source",
        "InvalidSecurityToken.Expired"
        | "InvalidSecurityToken.Malformed"
        | "InvalidSecurityToken.MismatchWithAccessKey" => {
            "refresh the STS security token and its access key pair"
        }
        "InvalidRegionId.NotFound" | "MissingParameter.RegionId" | "RegionId.ApiNotSupported" => {
            "check the region id (for example cn-hangzhou) and the endpoint"
        }
        "Forbidden.RAM" | "Forbidden" | "NoPermission" | "Operation.Forbidden" => {
            "grant the RAM user the ecs:DescribeInvocationResults permission"
        }
        _ if class == RetryClass::Throttling => {
            "the request rate is too high; slow down or allow more attempts"
        }
        _ if class == RetryClass::Transient => "a passing service failure; retry later",
        _ => "",
    };
    if !hint.is_empty() {
        out.push_str("; ");
        out.push_str(hint);
    }
    out
}

impl From<DecodeError> for Error {
    /// A [`DecodeError`] from the caller's own decoding: the `Output` of a
    /// result that is not in the encoding read, or a body decoded by hand.
    fn from(error: DecodeError) -> Self {
        match error.instance_id() {
            Some(instance) if error.is_invalid_output() => Self::new(
                ErrorKind::Decode,
                format!("the output of instance {instance} could not be decoded"),
            )
            .with_source(error),
            _ => Self::decode(error, None),
        }
    }
}

impl From<ValidationErrors> for Error {
    /// A request checked by hand with
    /// [`validate`](crate::DescribeInvocationResultsRequest::validate).
    fn from(errors: ValidationErrors) -> Self {
        Self::invalid_input(errors)
    }
}

impl From<SignError> for Error {
    /// As the client reports a request it could not sign.
    fn from(error: SignError) -> Self {
        Self::signing(error)
    }
}

impl From<ecs_credentials::Error> for Error {
    /// Carries the kind, message and cause of a credentials error over
    /// unchanged, so that `Display` and `source()` read the same.
    fn from(error: ecs_credentials::Error) -> Self {
        let (kind, message, source) = error.into_parts();
        let mut e = match kind {
            ecs_credentials::ErrorKind::Signing => Self::new(ErrorKind::Signing, message),
            _ => {
                let mut e = Self::new(ErrorKind::Credentials, message);
                e.credentials_unavailable = kind == ecs_credentials::ErrorKind::Unavailable;
                e
            }
        };
        e.source = source;
        e
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)?;
        if self.attempts > 1 {
            write!(f, " (after {} attempts)", self.attempts)?;
        }
        Ok(())
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Error")
            .field("kind", &self.kind)
            .field("message", &self.message)
            .field("code", &self.code())
            .field("request_id", &self.request_id)
            .field("attempts", &self.attempts)
            .field("source", &self.source)
            .finish_non_exhaustive()
    }
}

impl StdError for Error {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        if let Some(source) = self.source.as_deref() {
            return Some(source);
        }
        if let Some(service) = self.service.as_deref() {
            return Some(service);
        }
        self.validation
            .as_deref()
            .map(|v| v as &(dyn StdError + 'static))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_mismatch_tells_the_user_to_check_secret_and_clock() {
        let se = ServiceError::new(400, "SignatureDoesNotMatch", "mismatch").with_request_id("R-1");
        let e = Error::service(se, RetryClass::Final, 1);
        let text = e.to_string();
        assert!(text.contains("SignatureDoesNotMatch"), "{text}");
        assert!(text.contains("secret") && text.contains("clock"), "{text}");
        assert_eq!(e.request_id(), Some("R-1"));
        assert_eq!(e.code(), Some("SignatureDoesNotMatch"));
        assert!(!e.is_retryable());
        assert!(e.source().is_some());
    }

    #[test]
    fn a_short_wait_reports_the_time_it_took_not_zero_seconds() {
        let ms = std::time::Duration::from_millis;
        let e = Error::wait_timeout(ms(300), ms(300), WaitOutcome::new(Vec::new(), 2));
        let text = e.to_string();
        assert!(
            text.starts_with("gave up waiting after 300 ms (the timeout is 300 ms)"),
            "{text}"
        );
        let e = Error::wait_timeout(ms(90_000), ms(90_250), WaitOutcome::new(Vec::new(), 9));
        assert!(
            e.to_string()
                .starts_with("gave up waiting after 90.3 s (the timeout is 90 s)"),
            "{e}"
        );
        let e = Error::wait_timeout(ms(2_000), ms(2_003), WaitOutcome::new(Vec::new(), 2));
        assert!(
            e.to_string().contains("after 2 s (the timeout is 2 s)"),
            "{e}"
        );
        let e = Error::not_found("t-1", ms(1_500));
        assert!(e.to_string().contains("after 1.5 s"), "{e}");
    }

    #[test]
    fn a_signature_mismatch_is_one_line_and_keeps_the_string_to_sign() {
        let body = "{\"Code\":\"SignatureDoesNotMatch\",\"Message\":\"Specified signature is not \
                    matched with our calculation. server string to sign is:ACS3-HMAC-SHA256\\n\
                    0f1e\",\"RequestId\":\"R-2\"}";
        let se = ecs_model::decode_error(400, Some("application/json"), body.as_bytes());
        let e = Error::service(se, RetryClass::Final, 1);
        let text = e.to_string();
        assert!(!text.contains('\n'), "{text}");
        assert!(!text.contains("ACS3-HMAC-SHA256"), "{text}");
        assert!(text.contains("check the access key secret"), "{text}");
        assert_eq!(
            e.service_error()
                .and_then(|s| s.server_string_to_sign.as_deref()),
            Some("ACS3-HMAC-SHA256\n0f1e")
        );
    }

    #[test]
    fn throttling_is_retryable_and_says_so() {
        let se = ServiceError::new(400, "Throttling.User", "slow down");
        let e = Error::service(se, RetryClass::Throttling, 4);
        assert!(e.is_throttling());
        assert!(e.is_retryable());
        assert!(e.to_string().ends_with("(after 4 attempts)"));
        assert_eq!(e.kind(), ErrorKind::Service);
    }

    #[test]
    fn a_request_that_cannot_be_built_blames_the_part_at_fault() {
        let long_uri = http::Request::post(format!("http://h/?InvokeId={}", "t".repeat(70_000)))
            .body(())
            .unwrap_err();
        let text = Error::request_build(long_uri).to_string();
        assert!(
            text.contains("request URI") && text.contains("too long"),
            "{text}"
        );
        assert!(!text.contains("user agent"), "{text}");
        let bad_header = http::Request::post("http://h/")
            .header("user-agent", "a\u{1}b")
            .body(())
            .unwrap_err();
        let e = Error::request_build(bad_header);
        assert!(e.to_string().contains("header"), "{e}");
        assert!(e.source().is_some(), "the cause stays in the chain");
    }

    #[test]
    fn display_is_lowercase_first() {
        let e = Error::from(ecs_credentials::Error::new("no credentials found"));
        assert!(e.to_string().starts_with(char::is_lowercase));
        assert_eq!(e.kind(), ErrorKind::Credentials);
        assert!(!e.is_retryable());
    }

    #[test]
    fn a_credentials_error_keeps_its_class_message_and_cause() {
        let cause = std::io::Error::other("connection refused");
        let unavailable = Error::from(
            ecs_credentials::Error::unavailable("the metadata service did not answer")
                .with_source(cause),
        );
        assert_eq!(unavailable.kind(), ErrorKind::Credentials);
        assert!(unavailable.is_credentials_unavailable());
        assert_eq!(
            unavailable.to_string(),
            "the metadata service did not answer"
        );
        assert_eq!(
            unavailable.source().unwrap().to_string(),
            "connection refused"
        );
        let missing = Error::from(ecs_credentials::Error::new("no access key"));
        assert!(!missing.is_credentials_unavailable());
        assert!(missing.source().is_none());
    }
}
