//! The ECS RAM role provider: STS credentials of the role attached to the
//! instance, from the instance metadata service (spec §9, "ECS RAM role").

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;

use crate::Error;
use crate::credentials::cache::{CredentialsCache, Expiring, Fetch, FetchFuture};
use crate::credentials::env::{ENV_ECS_METADATA, ENV_IMDSV1_DISABLED};
use crate::credentials::http::{parse_session, send, snippet};
use crate::credentials::memo::Memo;
use crate::credentials::provider_config::ProviderConfig;
use crate::credentials::{CredentialsFuture, CredentialsProvider};

/// Each request to the metadata service gets this long (the SDK's connect
/// and read timeouts are 1 s each).
pub(crate) const IMDS_TIMEOUT: Duration = Duration::from_secs(1);
const TOKEN_PATH: &str = "/latest/api/token";
const TOKEN_TTL_HEADER: &str = "X-aliyun-ecs-metadata-token-ttl-seconds";
const TOKEN_HEADER: &str = "X-aliyun-ecs-metadata-token";
const TOKEN_TTL_SECONDS: &str = "21600";
const CREDENTIALS_PATH: &str = "/latest/meta-data/ram/security-credentials/";
const WHAT: &str = "the metadata service";

/// STS credentials of the instance's RAM role, from the metadata service
/// (`http://100.100.100.200`): an IMDSv2 token first (falling back to v1
/// unless `ALIBABA_CLOUD_IMDSV1_DISABLED=true`), the role from
/// `ALIBABA_CLOUD_ECS_METADATA` or discovered, cached and refreshed 15
/// minutes before they expire.
pub struct EcsRamRoleCredentialsProvider {
    fetcher: Arc<ImdsFetcher>,
    cache: CredentialsCache,
}

impl EcsRamRoleCredentialsProvider {
    /// The role from `ALIBABA_CLOUD_ECS_METADATA` (discovered when unset),
    /// IMDSv1 allowed unless `ALIBABA_CLOUD_IMDSV1_DISABLED=true`.
    pub fn new(config: &ProviderConfig) -> Self {
        Self::from_parts(
            config.clone(),
            config.env.get(ENV_ECS_METADATA).map(str::to_owned),
            config.env.is_true(ENV_IMDSV1_DISABLED),
        )
    }

    fn from_parts(
        config: ProviderConfig,
        role_name: Option<String>,
        imdsv1_disabled: bool,
    ) -> Self {
        let time = Arc::clone(&config.time);
        let fetcher = Arc::new(ImdsFetcher {
            config,
            role_name: role_name.filter(|r| !r.trim().is_empty()),
            discovered: Memo::new(),
            imdsv1_disabled,
        });
        Self {
            cache: CredentialsCache::new(fetcher.clone(), time),
            fetcher,
        }
    }

    /// Uses the RAM role `name` instead of discovering it.
    #[must_use]
    pub fn role_name(self, name: impl Into<String>) -> Self {
        let f = &self.fetcher;
        Self::from_parts(f.config.clone(), Some(name.into()), f.imdsv1_disabled)
    }

    /// Requires the IMDSv2 token (no fallback to v1).
    #[must_use]
    pub fn imdsv1_disabled(self, disabled: bool) -> Self {
        let f = &self.fetcher;
        Self::from_parts(f.config.clone(), f.role_name.clone(), disabled)
    }
}

impl fmt::Debug for EcsRamRoleCredentialsProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EcsRamRoleCredentialsProvider")
            .field("endpoint", &self.fetcher.config.imds_endpoint)
            .field("role_name", &self.fetcher.role_name)
            .field("imdsv1_disabled", &self.fetcher.imdsv1_disabled)
            .finish()
    }
}

impl CredentialsProvider for EcsRamRoleCredentialsProvider {
    fn provide_credentials(&self) -> CredentialsFuture<'_> {
        Box::pin(self.cache.credentials())
    }
}

struct ImdsFetcher {
    config: ProviderConfig,
    role_name: Option<String>,
    discovered: Memo<String>,
    imdsv1_disabled: bool,
}

impl fmt::Debug for ImdsFetcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ImdsFetcher")
            .field("endpoint", &self.config.imds_endpoint)
            .field("role_name", &self.role_name)
            .finish_non_exhaustive()
    }
}

impl Fetch for ImdsFetcher {
    fn fetch(&self) -> FetchFuture<'_> {
        Box::pin(self.fetch_now())
    }
}

impl ImdsFetcher {
    fn request(
        &self,
        method: http::Method,
        path: &str,
        token: Option<&str>,
    ) -> Result<http::Request<Bytes>, Error> {
        let mut builder = http::Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.config.imds_endpoint));
        if let Some(token) = token {
            builder = builder.header(TOKEN_HEADER, token);
        }
        builder.body(Bytes::new()).map_err(|e| {
            Error::credentials(format!(
                "the metadata service endpoint `{}` is not a valid URL",
                self.config.imds_endpoint
            ))
            .with_source(e)
        })
    }

    /// The IMDSv2 token; `None` to go on with v1.
    async fn token(&self) -> Result<Option<String>, Error> {
        let mut request = self.request(http::Method::PUT, TOKEN_PATH, None)?;
        request.headers_mut().insert(
            TOKEN_TTL_HEADER,
            http::HeaderValue::from_static(TOKEN_TTL_SECONDS),
        );
        // An unreachable service is reported as such: asking again without
        // a token could only time out a second time.
        let response = send(&self.config, request, IMDS_TIMEOUT, WHAT).await?;
        let body = String::from_utf8_lossy(response.body()).trim().to_owned();
        if response.status().is_success() && !body.is_empty() {
            return Ok(Some(body));
        }
        if self.imdsv1_disabled {
            return Err(Error::credentials(format!(
                "{WHAT} gave no IMDSv2 token (HTTP {}) and {ENV_IMDSV1_DISABLED} is true, so IMDSv1 is not tried",
                response.status().as_u16()
            )));
        }
        tracing::debug!(
            status = response.status().as_u16(),
            "no IMDSv2 token; using IMDSv1"
        );
        Ok(None)
    }

    async fn get(&self, path: &str, token: Option<&str>) -> Result<http::Response<Bytes>, Error> {
        let request = self.request(http::Method::GET, path, token)?;
        send(&self.config, request, IMDS_TIMEOUT, WHAT).await
    }

    async fn role(&self, token: Option<&str>) -> Result<String, Error> {
        if let Some(role) = &self.role_name {
            return Ok(role.clone());
        }
        if let Some(role) = self.discovered.get() {
            return Ok(role);
        }
        let response = self.get(CREDENTIALS_PATH, token).await?;
        let status = response.status();
        if status == http::StatusCode::NOT_FOUND {
            return Err(Error::credentials(format!(
                "{WHAT} lists no RAM role: attach one to the instance, or set {ENV_ECS_METADATA}"
            )));
        }
        let body = String::from_utf8_lossy(response.body());
        let role = body
            .lines()
            .map(str::trim)
            .find(|l| !l.is_empty())
            .map(str::to_owned);
        match role {
            Some(role) if status.is_success() => {
                self.discovered.set(role.clone());
                Ok(role)
            }
            _ => Err(Error::credentials(format!(
                "{WHAT} did not name the instance's RAM role (HTTP {}: {})",
                status.as_u16(),
                snippet(response.body())
            ))),
        }
    }

    async fn fetch_now(&self) -> Result<Expiring, Error> {
        let token = self.token().await?;
        let role = self.role(token.as_deref()).await?;
        let path = format!("{CREDENTIALS_PATH}{}", ecs_sign::percent_encode(&role));
        let response = self.get(&path, token.as_deref()).await?;
        let status = response.status();
        if status == http::StatusCode::NOT_FOUND {
            return Err(Error::credentials(format!(
                "{WHAT} has no credentials for the RAM role `{role}`: check the role attached to the instance"
            )));
        }
        if !status.is_success() {
            return Err(Error::credentials(format!(
                "{WHAT} answered HTTP {} for the RAM role `{role}`",
                status.as_u16()
            )));
        }
        parse_session(response.body(), WHAT)
    }
}
