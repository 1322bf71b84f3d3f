//! The ECS RAM role provider: STS credentials of the role attached to the
//! instance, from the instance metadata service
//! (docs/api/describe-invocation-results.md#ecs-ram-role).

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;

use crate::cache::{CredentialsCache, Expiring, Fetch, FetchFuture};
use crate::env::{ENV_ECS_METADATA, ENV_IMDSV1_DISABLED};
use crate::error::Error;
use crate::http::{parse_session, send, snippet};
use crate::memo::Memo;
use crate::provider::{CredentialsFuture, CredentialsProvider};
use crate::provider_config::ProviderConfig;

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
/// (`http://100.100.100.200`), cached and refreshed 15 minutes before they
/// expire; the role from `ALIBABA_CLOUD_ECS_METADATA` or discovered.
///
/// As the official library does: an IMDSv2 token is asked for first, and
/// when that fails in any way (no answer, an error status) the requests go
/// on without it (IMDSv1); a request that fails with the token is tried
/// once more without it. `ALIBABA_CLOUD_IMDSV1_DISABLED=true` turns both
/// off. Off an ECS instance the probe therefore waits twice for the 1 s
/// timeout before it gives up.
///
/// Failures of the service are [`Error::is_unavailable`],
/// except while the role is being discovered: a service that cannot be
/// reached, or that lists no role, means this machine has no ECS RAM role,
/// which is a matter of configuration.
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
            .uri(format!("{}{path}", self.config.imds_url()));
        if let Some(token) = token {
            builder = builder.header(TOKEN_HEADER, token);
        }
        builder.body(Bytes::new()).map_err(|e| {
            Error::new(format!(
                "the metadata service endpoint `{}` is not a valid URL",
                self.config.imds_url()
            ))
            .with_source(e)
        })
    }

    /// Sends `request`. While the role is not known yet (`discovering`),
    /// a service that cannot be reached means this machine has no ECS RAM
    /// role: a matter of configuration, not a failure of a source.
    async fn send(
        &self,
        request: http::Request<Bytes>,
        discovering: bool,
    ) -> Result<http::Response<Bytes>, Error> {
        send(&self.config, request, IMDS_TIMEOUT, WHAT)
            .await
            .map_err(|e| {
                if discovering {
                    e.unavailable_if(false)
                } else {
                    e
                }
            })
    }

    /// The IMDSv2 token; `None` to go on with IMDSv1, when the token
    /// request failed in any way (no answer, an error status, an empty
    /// body) and IMDSv1 is allowed, as the official library does.
    async fn token(&self, discovering: bool) -> Result<Option<String>, Error> {
        let mut request = self.request(http::Method::PUT, TOKEN_PATH, None)?;
        request.headers_mut().insert(
            TOKEN_TTL_HEADER,
            http::HeaderValue::from_static(TOKEN_TTL_SECONDS),
        );
        let failure = match self.send(request, discovering).await {
            Ok(response) => {
                let body = String::from_utf8_lossy(response.body()).trim().to_owned();
                if response.status().is_success() && !body.is_empty() {
                    return Ok(Some(body));
                }
                Error::new(format!(
                    "{WHAT} gave no IMDSv2 token (HTTP {})",
                    response.status().as_u16()
                ))
                .unavailable_if(true)
            }
            Err(e) => e,
        };
        if self.imdsv1_disabled {
            return Err(Error::new(format!(
                "{failure} and {ENV_IMDSV1_DISABLED} is true, so IMDSv1 is not tried"
            ))
            .unavailable_if(failure.is_unavailable()));
        }
        tracing::debug!(error = %failure, "no IMDSv2 token; using IMDSv1");
        Ok(None)
    }

    /// GETs `path` and reads the answer with `read`. A failure with the
    /// token (no answer, an error status, an unusable body) is tried once
    /// more without it unless IMDSv1 is disabled, as the official library
    /// does.
    async fn get<T: Send>(
        &self,
        path: &str,
        token: Option<&str>,
        discovering: bool,
        read: impl Fn(http::Response<Bytes>) -> Result<T, Error> + Sync,
    ) -> Result<T, Error> {
        let read = &read;
        let once = |token| async move {
            let request = self.request(http::Method::GET, path, token)?;
            self.send(request, discovering).await.and_then(read)
        };
        let with_token = match once(token).await {
            Ok(value) => return Ok(value),
            Err(e) if token.is_none() || self.imdsv1_disabled => return Err(e),
            Err(e) => e,
        };
        tracing::debug!(error = %with_token, "failed with the IMDSv2 token; trying once without it");
        once(None).await.map_err(|without| {
            let (first, second) = (with_token.to_string(), without.to_string());
            if first == second {
                return without;
            }
            Error::new(format!(
                "{second} without the IMDSv2 token; with it: {first}"
            ))
            .unavailable_if(without.is_unavailable())
        })
    }

    async fn role(&self, token: Option<&str>, discovering: bool) -> Result<String, Error> {
        if let Some(role) = &self.role_name {
            return Ok(role.clone());
        }
        if let Some(role) = self.discovered.get() {
            return Ok(role);
        }
        let role = self
            .get(CREDENTIALS_PATH, token, discovering, read_role)
            .await?;
        self.discovered.set(role.clone());
        Ok(role)
    }

    async fn fetch_now(&self) -> Result<Expiring, Error> {
        let discovering = self.role_name.is_none() && self.discovered.get().is_none();
        let token = self.token(discovering).await?;
        let role = self.role(token.as_deref(), discovering).await?;
        let path = format!("{CREDENTIALS_PATH}{}", ecs_sign::percent_encode(&role));
        self.get(&path, token.as_deref(), false, |response| {
            read_credentials(&response, &role)
        })
        .await
    }
}

/// The role the service lists first. No role listed (HTTP 404) means none
/// is attached: a matter of configuration.
fn read_role(response: http::Response<Bytes>) -> Result<String, Error> {
    let status = response.status();
    if status == http::StatusCode::NOT_FOUND {
        return Err(Error::new(format!(
            "{WHAT} lists no RAM role: attach one to the instance, or set {ENV_ECS_METADATA}"
        )));
    }
    let body = String::from_utf8_lossy(response.body());
    match body.lines().map(str::trim).find(|l| !l.is_empty()) {
        Some(role) if status.is_success() => Ok(role.to_owned()),
        _ => Err(Error::new(format!(
            "{WHAT} did not name the instance's RAM role (HTTP {}: {})",
            status.as_u16(),
            snippet(response.body())
        ))
        .unavailable_if(true)),
    }
}

/// The credentials of `role` in the service's answer.
fn read_credentials(response: &http::Response<Bytes>, role: &str) -> Result<Expiring, Error> {
    let status = response.status();
    if status == http::StatusCode::NOT_FOUND {
        return Err(Error::new(format!(
            "{WHAT} has no credentials for the RAM role `{role}`: check the role attached to the instance"
        ))
        .unavailable_if(true));
    }
    if !status.is_success() {
        return Err(Error::new(format!(
            "{WHAT} answered HTTP {} for the RAM role `{role}`",
            status.as_u16()
        ))
        .unavailable_if(true));
    }
    parse_session(response.body(), WHAT)
}
