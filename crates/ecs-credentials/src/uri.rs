//! The credentials URI provider (`ALIBABA_CLOUD_CREDENTIALS_URI`): a GET that
//! answers the metadata service's JSON document
//! (docs/api/describe-invocation-results.md#credentials-uri,
//! docs/api/describe-invocation-results.md#session-document).

use std::fmt;
use std::sync::Arc;

use bytes::Bytes;

use crate::cache::{CredentialsCache, Expiring, Fetch, FetchFuture};
use crate::env::ENV_CREDENTIALS_URI;
use crate::error::Error;
use crate::http::{parse_session, send};
use crate::provider::{CredentialsFuture, CredentialsProvider};
use crate::provider_config::{HTTP_TIMEOUT, ProviderConfig};

/// STS credentials from a URL that answers `{"Code":"Success",
/// "AccessKeyId", "AccessKeySecret", "SecurityToken", "Expiration"}`
/// (a sidecar, a local agent), cached and refreshed before they expire.
pub struct CredentialsUriProvider {
    fetcher: Arc<UriFetcher>,
    cache: CredentialsCache,
}

impl CredentialsUriProvider {
    /// The provider of `uri`.
    pub fn new(config: &ProviderConfig, uri: impl Into<String>) -> Self {
        let fetcher = Arc::new(UriFetcher {
            config: config.clone(),
            uri: uri.into(),
        });
        Self {
            cache: CredentialsCache::new(fetcher.clone(), Arc::clone(&config.time)),
            fetcher,
        }
    }

    /// The provider of `ALIBABA_CLOUD_CREDENTIALS_URI`, `None` when unset.
    pub fn from_env(config: &ProviderConfig) -> Option<Self> {
        config
            .env
            .get(ENV_CREDENTIALS_URI)
            .map(|uri| Self::new(config, uri))
    }
}

impl fmt::Debug for CredentialsUriProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CredentialsUriProvider")
            .field("uri", &redact_query(&self.fetcher.uri))
            .finish()
    }
}

impl CredentialsProvider for CredentialsUriProvider {
    fn provide_credentials(&self) -> CredentialsFuture<'_> {
        Box::pin(self.cache.credentials())
    }
}

/// The URI without its query (which may carry a token).
fn redact_query(uri: &str) -> &str {
    uri.split_once('?').map_or(uri, |(base, _)| base)
}

#[derive(Debug)]
struct UriFetcher {
    config: ProviderConfig,
    uri: String,
}

impl Fetch for UriFetcher {
    fn fetch(&self) -> FetchFuture<'_> {
        Box::pin(async move {
            let what = format!("the credentials URI {}", redact_query(&self.uri));
            let request = http::Request::get(self.uri.as_str())
                .body(Bytes::new())
                .map_err(|e| {
                    Error::new(format!(
                        "{ENV_CREDENTIALS_URI} `{}` is not a valid URL",
                        redact_query(&self.uri)
                    ))
                    .with_source(e)
                })?;
            let response = send(&self.config, request, HTTP_TIMEOUT, &what).await?;
            if !response.status().is_success() {
                return Err(Error::new(format!(
                    "{what} answered HTTP {}",
                    response.status().as_u16()
                ))
                .unavailable_if(true));
            }
            let parsed: Expiring = parse_session(response.body(), &what)?;
            Ok(parsed)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_is_not_shown() {
        assert_eq!(redact_query("http://x/creds?token=abc"), "http://x/creds");
        let p = CredentialsUriProvider::new(&ProviderConfig::new(), "http://x/c?token=abc");
        assert!(!format!("{p:?}").contains("abc"));
    }
}
