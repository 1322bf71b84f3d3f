//! The aliyun CLI's `CloudSSO` mode: STS credentials for one account and
//! access configuration, asked for with the access token `aliyun configure
//! --mode CloudSSO` stored.
//!
//! As the official credentials library does: `POST /cloud-credentials` on
//! the sign-in URL's scheme, host and port, with `Authorization: Bearer
//! <access token>` and the JSON body `{"AccountId", "AccessConfigurationId"}`;
//! the answer's `CloudCredential` holds `AccessKeyId`, `AccessKeySecret`,
//! `SecurityToken` and `Expiration`. The credentials are cached and asked
//! for again before they expire. An access token that has expired (or that
//! the profile does not date) cannot be refreshed here: the error says to
//! sign in again.

use std::fmt;
use std::sync::Arc;

use bytes::Bytes;
use serde_json::Value;
use time::OffsetDateTime;

use crate::cache::{CredentialsCache, Expiring, Fetch, FetchFuture};
use crate::error::Error;
use crate::http::{send, session_from_object, snippet};
use crate::provider::{CredentialsFuture, CredentialsProvider};
use crate::provider_config::{HTTP_TIMEOUT, ProviderConfig};

/// What a CloudSSO profile holds.
#[derive(Clone)]
pub struct CloudSsoProfile {
    /// The profile's name (in errors).
    pub name: String,
    /// `cloud_sso_sign_in_url`: the portal's URL; its scheme, host and port
    /// are used.
    pub sign_in_url: String,
    /// `cloud_sso_account_id`.
    pub account_id: String,
    /// `cloud_sso_access_config`: the access configuration's id.
    pub access_config: String,
    /// `access_token`: the SSO access token (a secret).
    pub access_token: String,
    /// `cloud_sso_access_token_expire`: when the access token expires.
    pub access_token_expire: Option<OffsetDateTime>,
}

impl fmt::Debug for CloudSsoProfile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CloudSsoProfile")
            .field("name", &self.name)
            .field("sign_in_url", &self.sign_in_url)
            .field("account_id", &self.account_id)
            .field("access_config", &self.access_config)
            .field("access_token", &"***")
            .field("access_token_expire", &self.access_token_expire)
            .finish()
    }
}

/// Credentials of a CloudSSO profile of the aliyun CLI.
pub struct CloudSsoCredentialsProvider {
    fetcher: Arc<SsoFetcher>,
    cache: CredentialsCache,
}

impl CloudSsoCredentialsProvider {
    /// The provider of `profile`.
    ///
    /// # Errors
    /// A credentials error when the sign-in URL is not an `http(s)://` URL.
    pub fn new(config: &ProviderConfig, profile: CloudSsoProfile) -> Result<Self, Error> {
        let base = base_url(&profile.sign_in_url).ok_or_else(|| {
            Error::new(format!(
                "profile `{}`: `cloud_sso_sign_in_url` is not an http(s) URL; run `aliyun configure --profile {} --mode CloudSSO` again",
                profile.name, profile.name
            ))
        })?;
        let fetcher = Arc::new(SsoFetcher {
            config: config.clone(),
            base,
            profile,
        });
        Ok(Self {
            cache: CredentialsCache::new(fetcher.clone(), Arc::clone(&config.time)),
            fetcher,
        })
    }
}

impl fmt::Debug for CloudSsoCredentialsProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CloudSsoCredentialsProvider")
            .field("profile", &self.fetcher.profile)
            .finish_non_exhaustive()
    }
}

impl CredentialsProvider for CloudSsoCredentialsProvider {
    fn provide_credentials(&self) -> CredentialsFuture<'_> {
        Box::pin(self.cache.credentials())
    }
}

/// `scheme://host[:port]` of an `http(s)://` URL.
pub(crate) fn base_url(url: &str) -> Option<String> {
    let uri: http::Uri = url.trim().parse().ok()?;
    let scheme = uri.scheme_str()?;
    if !scheme.eq_ignore_ascii_case("https") && !scheme.eq_ignore_ascii_case("http") {
        return None;
    }
    let authority = uri.authority()?;
    if authority.host().is_empty() {
        return None;
    }
    Some(format!("{}://{}", scheme.to_ascii_lowercase(), authority))
}

#[derive(Debug)]
struct SsoFetcher {
    config: ProviderConfig,
    base: String,
    profile: CloudSsoProfile,
}

impl Fetch for SsoFetcher {
    fn fetch(&self) -> FetchFuture<'_> {
        Box::pin(async move {
            let name = &self.profile.name;
            let now = self.config.time.now();
            match self.profile.access_token_expire {
                Some(expire) if expire > now => {}
                _ => {
                    return Err(Error::new(format!(
                        "profile `{name}`: the CloudSSO access token has expired; sign in again with `aliyun configure --profile {name} --mode CloudSSO`"
                    )));
                }
            }
            let what = format!("CloudSSO ({}) for profile `{name}`", self.base);
            let body = serde_json::json!({
                "AccountId": self.profile.account_id,
                "AccessConfigurationId": self.profile.access_config,
            });
            let request = http::Request::post(format!("{}/cloud-credentials", self.base))
                .header(http::header::ACCEPT, "application/json")
                .header(http::header::CONTENT_TYPE, "application/json")
                .header(
                    http::header::AUTHORIZATION,
                    format!("Bearer {}", self.profile.access_token),
                )
                .body(Bytes::from(body.to_string()))
                .map_err(|e| {
                    Error::new(format!(
                        "profile `{name}`: the CloudSSO request cannot be built (is the access token plain text?)"
                    ))
                    .with_source(e)
                })?;
            let response = send(&self.config, request, HTTP_TIMEOUT, &what).await?;
            if !response.status().is_success() {
                return Err(Error::new(format!(
                    "{what} answered HTTP {}: {}",
                    response.status().as_u16(),
                    snippet(response.body())
                ))
                .unavailable_if(true));
            }
            let value: Value = serde_json::from_slice(response.body()).map_err(|e| {
                Error::new(format!("{what} answered with a body that is not JSON"))
                    .with_source(e)
                    .unavailable_if(true)
            })?;
            let credential = value
                .get("CloudCredential")
                .and_then(Value::as_object)
                .ok_or_else(|| {
                    Error::new(format!("{what} answered without `CloudCredential`"))
                        .unavailable_if(true)
                })?;
            let parsed: Expiring = session_from_object(credential, &what)?;
            Ok(parsed)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_base_is_scheme_host_and_port() {
        assert_eq!(
            base_url("https://signin-cn-shanghai.alibabacloudsso.com/d-123/login").as_deref(),
            Some("https://signin-cn-shanghai.alibabacloudsso.com")
        );
        assert_eq!(
            base_url("http://127.0.0.1:8080/x").as_deref(),
            Some("http://127.0.0.1:8080")
        );
        for bad in ["", "ftp://x", "not a url", "/path"] {
            assert_eq!(base_url(bad), None, "{bad}");
        }
    }

    #[test]
    fn debug_hides_the_access_token() {
        let profile = CloudSsoProfile {
            name: "sso".into(),
            sign_in_url: "https://x".into(),
            account_id: "1".into(),
            access_config: "ac".into(),
            access_token: "SSO-SECRET-TOKEN".into(),
            access_token_expire: None,
        };
        let provider = CloudSsoCredentialsProvider::new(&ProviderConfig::new(), profile).unwrap();
        assert!(!format!("{provider:?}").contains("SSO-SECRET-TOKEN"));
    }
}
