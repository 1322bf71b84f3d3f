//! The one error type of this crate: why no credentials came.

use std::error::Error as StdError;
use std::fmt;
use std::sync::Arc;

use ecs_sign::SignError;

type BoxError = Box<dyn StdError + Send + Sync + 'static>;

/// What kind of failure an [`Error`] is. New kinds may be added.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The configuration is missing or wrong (a file, a variable, a value):
    /// only the user can fix it.
    Configuration,
    /// A configured source could not deliver (the metadata service, STS or
    /// the credentials URI was unreachable, timed out, or answered with an
    /// error or an unusable document): a network or service failure that
    /// may pass.
    Unavailable,
    /// A request to STS could not be signed (a bad clock, a failing random
    /// source).
    Signing,
}

/// Why a [`CredentialsProvider`](crate::CredentialsProvider) gave no
/// credentials.
///
/// `Display` is one lowercase sentence that says what is missing or failed
/// and where it was looked for; the underlying cause is in
/// [`source`](StdError::source). Secrets never appear in it.
///
/// ```
/// use ecs_credentials::{Error, ErrorKind};
/// let error = Error::new("MY_KEY_FILE is not set");
/// assert_eq!(error.kind(), ErrorKind::Configuration);
/// assert!(!error.is_unavailable());
/// assert!(Error::unavailable("the vault did not answer").is_unavailable());
/// ```
pub struct Error {
    kind: ErrorKind,
    message: String,
    source: Option<BoxError>,
}

impl Error {
    fn with_kind(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
            source: None,
        }
    }

    /// Configuration that is missing or wrong, for providers of your own:
    /// say what is missing and where it was looked for.
    pub fn new(message: impl Into<String>) -> Self {
        Self::with_kind(ErrorKind::Configuration, message)
    }

    /// A configured source that could not deliver, for providers of your
    /// own.
    pub fn unavailable(message: impl Into<String>) -> Self {
        Self::with_kind(ErrorKind::Unavailable, message)
    }

    /// Attaches the underlying cause, returned by [`source`](StdError::source).
    #[must_use]
    pub fn with_source(mut self, source: impl Into<BoxError>) -> Self {
        self.source = Some(source.into());
        self
    }

    /// Marks the error as a source that could not deliver (`true`) or as a
    /// matter of configuration (`false`); a signing error stays one.
    #[must_use]
    pub(crate) fn unavailable_if(mut self, unavailable: bool) -> Self {
        if self.kind != ErrorKind::Signing {
            self.kind = if unavailable {
                ErrorKind::Unavailable
            } else {
                ErrorKind::Configuration
            };
        }
        self
    }

    /// A copy of a shared error (one failed refresh is handed to every
    /// caller that waited on it): the same kind and message, and a source
    /// that reads through to the original's.
    pub(crate) fn from_shared(shared: &Arc<Self>) -> Self {
        let mut error = Self::with_kind(shared.kind, shared.message.clone());
        if shared.source.is_some() {
            error.source = Some(Box::new(SharedSource(Arc::clone(shared))));
        }
        error
    }

    /// What kind of failure this is.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// Whether a configured source could not deliver (see
    /// [`ErrorKind::Unavailable`]); `false` for configuration that is
    /// missing or wrong.
    pub fn is_unavailable(&self) -> bool {
        self.kind == ErrorKind::Unavailable
    }

    /// The kind, the message and the cause, for an error type that carries
    /// them on (as `ecs_assist::Error` does).
    pub fn into_parts(self) -> (ErrorKind, String, Option<BoxError>) {
        (self.kind, self.message, self.source)
    }
}

impl From<SignError> for Error {
    /// A malformed access key id, secret or token is configuration, told in
    /// the signer's own words (which name the field and say what to fix);
    /// anything else is a signing failure with the signer's error as cause.
    fn from(source: SignError) -> Self {
        if source.is_credentials() {
            return Self::new(source.to_string());
        }
        Self::with_kind(
            ErrorKind::Signing,
            "the request could not be signed; check the clock and the nonce source",
        )
        .with_source(source)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Error")
            .field("kind", &self.kind)
            .field("message", &self.message)
            .field("source", &self.source)
            .finish()
    }
}

impl StdError for Error {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.source
            .as_deref()
            .map(|source| source as &(dyn StdError + 'static))
    }
}

/// The source of an [`Error`] copied from a shared one: shows and chains to
/// the shared error's own source.
struct SharedSource(Arc<Error>);

impl SharedSource {
    fn inner(&self) -> Option<&(dyn StdError + Send + Sync + 'static)> {
        self.0.source.as_deref()
    }
}

impl fmt::Debug for SharedSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.inner() {
            Some(inner) => fmt::Debug::fmt(inner, f),
            None => f.write_str("None"),
        }
    }
}

impl fmt::Display for SharedSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.inner() {
            Some(inner) => fmt::Display::fmt(inner, f),
            None => Ok(()),
        }
    }
}

impl StdError for SharedSource {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.inner().and_then(|inner| inner.source())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_shared_error_reads_through_to_its_cause() {
        let cause = std::io::Error::other("connection reset");
        let shared = Arc::new(Error::unavailable("the metadata service failed").with_source(cause));
        let copy = Error::from_shared(&shared);
        assert!(copy.is_unavailable());
        assert_eq!(copy.to_string(), "the metadata service failed");
        assert_eq!(copy.source().unwrap().to_string(), "connection reset");
    }

    #[test]
    fn a_signing_error_stays_one() {
        // A year before 0 has no `YYYY-MM-DD` form: a time error.
        let before_year_zero = time::OffsetDateTime::UNIX_EPOCH - time::Duration::days(800_000);
        let sign_error = ecs_sign::format_timestamp(before_year_zero).unwrap_err();
        assert!(!sign_error.is_credentials());
        let error = Error::from(sign_error).unavailable_if(true);
        assert_eq!(error.kind(), ErrorKind::Signing);
        assert!(error.source().is_some());
    }
}
