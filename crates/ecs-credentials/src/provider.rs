//! [`CredentialsProvider`], the trait every source implements, the shared
//! wrapper a client holds, and the provider of a fixed access key.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use ecs_sign::Credentials;

use crate::error::Error;

/// The future a [`CredentialsProvider`] returns.
pub type CredentialsFuture<'a> =
    Pin<Box<dyn Future<Output = Result<Credentials, Error>> + Send + 'a>>;

/// A source of credentials, asked before every attempt (so a provider can
/// cache and refresh). Object-safe: the client holds a
/// [`SharedCredentialsProvider`].
pub trait CredentialsProvider: Send + Sync + fmt::Debug {
    /// Current credentials.
    ///
    /// # Errors
    /// An [`Error`] saying what is missing or failed and where it was
    /// looked for ([`Error::new`] for configuration, [`Error::unavailable`]
    /// for a source that could not deliver).
    fn provide_credentials(&self) -> CredentialsFuture<'_>;
}

impl<T: CredentialsProvider + ?Sized> CredentialsProvider for Arc<T> {
    fn provide_credentials(&self) -> CredentialsFuture<'_> {
        (**self).provide_credentials()
    }
}

/// A cheaply cloned, shared [`CredentialsProvider`].
#[derive(Clone)]
pub struct SharedCredentialsProvider(Arc<dyn CredentialsProvider>);

impl SharedCredentialsProvider {
    /// Wraps `provider`.
    pub fn new(provider: impl CredentialsProvider + 'static) -> Self {
        Self(Arc::new(provider))
    }

    /// Wraps an already shared provider.
    pub fn from_arc(provider: Arc<dyn CredentialsProvider>) -> Self {
        Self(provider)
    }
}

impl fmt::Debug for SharedCredentialsProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("SharedCredentialsProvider")
            .field(&self.0)
            .finish()
    }
}

impl CredentialsProvider for SharedCredentialsProvider {
    fn provide_credentials(&self) -> CredentialsFuture<'_> {
        self.0.provide_credentials()
    }
}

/// Always the same credentials (an access key pair, optionally with an STS
/// token). `Debug` shows only the access key id.
///
/// ```
/// use ecs_credentials::StaticCredentialsProvider;
/// let provider = StaticCredentialsProvider::new("LTAI5tExample", "example-secret")?;
/// assert!(!format!("{provider:?}").contains("example-secret"));
/// # Ok::<(), ecs_credentials::Error>(())
/// ```
#[derive(Clone)]
pub struct StaticCredentialsProvider {
    credentials: Credentials,
}

impl StaticCredentialsProvider {
    /// A provider of the access key `access_key_id` / `access_key_secret`.
    ///
    /// # Errors
    /// [`ErrorKind::Configuration`](crate::ErrorKind::Configuration) when
    /// the id or secret is empty or malformed.
    pub fn new(
        access_key_id: impl Into<String>,
        access_key_secret: impl Into<String>,
    ) -> Result<Self, Error> {
        Credentials::new(access_key_id, access_key_secret)
            .map(Self::from_credentials)
            .map_err(Error::from)
    }

    /// Adds an STS security token.
    ///
    /// # Errors
    /// [`ErrorKind::Configuration`](crate::ErrorKind::Configuration) when
    /// the token is empty or malformed.
    pub fn with_security_token(self, token: impl Into<String>) -> Result<Self, Error> {
        self.credentials
            .with_security_token(token)
            .map(Self::from_credentials)
            .map_err(Error::from)
    }

    /// A provider of `credentials`.
    pub fn from_credentials(credentials: Credentials) -> Self {
        Self { credentials }
    }
}

impl fmt::Debug for StaticCredentialsProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StaticCredentialsProvider")
            .field("access_key_id", &self.credentials.access_key_id())
            .field("sts", &self.credentials.security_token().is_some())
            .finish()
    }
}

impl CredentialsProvider for StaticCredentialsProvider {
    fn provide_credentials(&self) -> CredentialsFuture<'_> {
        Box::pin(std::future::ready(Ok(self.credentials.clone())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn static_provider_yields_its_credentials_and_hides_secrets() {
        let p = StaticCredentialsProvider::new("AKID", "s3cr3t")
            .unwrap()
            .with_security_token("tok3n")
            .unwrap();
        let shared = SharedCredentialsProvider::new(p);
        let c = futures::executor::block_on(shared.provide_credentials()).unwrap();
        assert_eq!(c.access_key_id(), "AKID");
        assert_eq!(c.security_token(), Some("tok3n"));
        let dbg = format!("{shared:?}");
        assert!(dbg.contains("AKID") && !dbg.contains("s3cr3t") && !dbg.contains("tok3n"));
    }

    #[test]
    fn malformed_keys_are_credentials_errors() {
        let e = StaticCredentialsProvider::new("", "x").unwrap_err();
        assert_eq!(e.kind(), crate::ErrorKind::Configuration);
        let e = StaticCredentialsProvider::new("AK", " padded").unwrap_err();
        assert_eq!(e.kind(), crate::ErrorKind::Configuration);
    }
}
