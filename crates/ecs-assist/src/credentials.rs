//! Where the client gets its access key: the [`CredentialsProvider`] trait,
//! the static provider, and (in the submodules) every source of the default
//! chain of spec §9.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use ecs_sign::Credentials;

use crate::Error;

mod cache;
mod chain;
mod cloud_sso;
pub(crate) mod env;
mod external;
mod fs;
mod http;
mod imds;
mod ini;
mod memo;
mod oauth;
mod profile;
mod provider_config;
mod sts;
mod uri;

pub use chain::{CHAIN_SOURCES, DefaultCredentialsChain, DefaultCredentialsChainBuilder};
pub use cloud_sso::{CloudSsoCredentialsProvider, CloudSsoProfile};
pub use env::{
    ENV_CLI_PROFILE_DISABLED, ENV_CREDENTIALS_FILE, ENV_CREDENTIALS_URI, ENV_ECS_METADATA,
    ENV_ECS_METADATA_DISABLED, ENV_IMDSV1_DISABLED, ENV_METADATA_ENDPOINT, ENV_OAUTH_SIGN_IN_URL,
    ENV_OIDC_PROVIDER_ARN, ENV_OIDC_TOKEN_FILE, ENV_PROFILE, ENV_ROLE_ARN, ENV_ROLE_SESSION_NAME,
    ENV_STS_ENDPOINT, ENV_STS_REGION, ENV_VPC_ENDPOINT_ENABLED, EnvironmentCredentialsProvider,
};
pub use external::{EXTERNAL_COMMAND_TIMEOUT, ExternalProcessCredentialsProvider};
pub use fs::{FileSystem, InMemoryFileSystem, OsFileSystem};
pub use imds::EcsRamRoleCredentialsProvider;
pub use ini::IniFileCredentialsProvider;
pub use oauth::{OAuthCredentialsProvider, OAuthProfile};
pub use profile::CliProfileCredentialsProvider;
pub use provider_config::{DEFAULT_IMDS_ENDPOINT, ProviderConfig};
pub use sts::{OidcRoleArnCredentialsProvider, RamRoleArnCredentialsProvider};
pub use uri::CredentialsUriProvider;

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
    /// An [`Error`] of kind [`Credentials`](crate::ErrorKind::Credentials)
    /// (see [`Error::credentials`]) saying what is missing and where it was
    /// looked for.
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
/// use ecs_assist::StaticCredentialsProvider;
/// let provider = StaticCredentialsProvider::new("LTAI5tExample", "example-secret")?;
/// assert!(!format!("{provider:?}").contains("example-secret"));
/// # Ok::<(), ecs_assist::Error>(())
/// ```
#[derive(Clone)]
pub struct StaticCredentialsProvider {
    credentials: Credentials,
}

impl StaticCredentialsProvider {
    /// A provider of the access key `access_key_id` / `access_key_secret`.
    ///
    /// # Errors
    /// [`ErrorKind::Credentials`](crate::ErrorKind::Credentials) when the
    /// id or secret is empty or malformed.
    pub fn new(
        access_key_id: impl Into<String>,
        access_key_secret: impl Into<String>,
    ) -> Result<Self, Error> {
        Credentials::new(access_key_id, access_key_secret)
            .map(Self::from_credentials)
            .map_err(Error::signing)
    }

    /// Adds an STS security token.
    ///
    /// # Errors
    /// [`ErrorKind::Credentials`](crate::ErrorKind::Credentials) when the
    /// token is empty or malformed.
    pub fn with_security_token(self, token: impl Into<String>) -> Result<Self, Error> {
        self.credentials
            .with_security_token(token)
            .map(Self::from_credentials)
            .map_err(Error::signing)
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
        assert_eq!(e.kind(), crate::ErrorKind::Credentials);
        let e = StaticCredentialsProvider::new("AK", " padded").unwrap_err();
        assert_eq!(e.kind(), crate::ErrorKind::Credentials);
    }
}
