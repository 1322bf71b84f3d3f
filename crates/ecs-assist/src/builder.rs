//! [`ClientBuilder`]: every setting of a [`Client`], checked and resolved
//! (endpoint, credentials, transport, clock, nonces, sleep) into the
//! settings one call runs with.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use ecs_credentials::{
    CredentialsProvider, DefaultCredentialsChainBuilder, Environment, ProcessEnvironment,
    ProviderConfig, SharedCredentialsProvider, StaticCredentialsProvider,
};
use ecs_model::ResponseFormat;
use ecs_sign::{NonceSource, SignatureVersion, SystemNonceSource, SystemTimeSource, TimeSource};
use ecs_transport::{
    AsyncSleep, Buffered, SharedAsyncSleep, SharedStreamingTransport, SharedTransport,
    StreamingTransport, Transport,
};

use crate::call::Settings;
use crate::client::Client;
use crate::defaults::{default_sleep, default_transport};
use crate::endpoint::{Endpoint, EndpointType, check_region};
use crate::error::Error;
use crate::retry::RetryConfig;
use crate::timeouts::TimeoutConfig;

/// Environment variable: region id.
pub const ENV_REGION_ID: &str = "ALIBABA_CLOUD_REGION_ID";
/// Environment variable: user agent suffix.
pub const ENV_USER_AGENT: &str = "ALIBABA_CLOUD_USER_AGENT";

impl Client {
    /// A builder; see [`ClientBuilder`].
    pub fn builder() -> ClientBuilder {
        ClientBuilder::new()
    }

    /// A client configured from the process environment (credentials,
    /// region, user agent suffix; see [`ClientBuilder::load_env`]).
    ///
    /// # Errors
    /// As [`ClientBuilder::build`].
    pub fn from_env() -> Result<Self, Error> {
        ClientBuilder::new().load_env(&ProcessEnvironment).build()
    }
}

/// The user agent: `ecs-assist/<version> (rust; <os>; <arch>)`, then the
/// suffix if any.
pub(crate) fn user_agent(suffix: Option<&str>) -> String {
    let mut ua = format!(
        "ecs-assist/{} (rust; {}; {})",
        env!("CARGO_PKG_VERSION"),
        std::env::consts::OS,
        std::env::consts::ARCH
    );
    if let Some(suffix) = suffix.map(str::trim).filter(|s| !s.is_empty()) {
        ua.push(' ');
        ua.push_str(suffix);
    }
    ua
}

/// Configures a [`Client`]. Every setter is optional except a region (or an
/// explicit endpoint) and credentials; [`build`](Self::build) reports every
/// problem at once.
#[derive(Default)]
#[must_use]
pub struct ClientBuilder {
    region: Option<String>,
    endpoint: Option<String>,
    endpoint_type: EndpointType,
    signature_version: SignatureVersion,
    response_format: ResponseFormat,
    credentials: Option<SharedCredentialsProvider>,
    retry: Option<RetryConfig>,
    timeouts: TimeoutConfig,
    user_agent_suffix: Option<String>,
    transport: Option<SharedTransport>,
    streaming: Option<SharedStreamingTransport>,
    oss_endpoint: Option<String>,
    time: Option<Arc<dyn TimeSource>>,
    nonce: Option<Arc<dyn NonceSource>>,
    sleep: Option<SharedAsyncSleep>,
    /// The credentials chain's view of the environment given to
    /// [`load_env`](Self::load_env), read then.
    env: Option<ProviderConfig>,
    profile: Option<String>,
    chain: Option<ChainCustomizer>,
    problems: Vec<String>,
}

/// Adjusts the default credentials chain of a builder.
type ChainCustomizer =
    Box<dyn FnOnce(DefaultCredentialsChainBuilder) -> DefaultCredentialsChainBuilder + Send>;

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("region", &self.region)
            .field("endpoint", &self.endpoint)
            .field("signature_version", &self.signature_version)
            .field("credentials", &self.credentials)
            .field("profile", &self.profile)
            .finish_non_exhaustive()
    }
}

impl ClientBuilder {
    /// A builder with the defaults.
    pub fn new() -> Self {
        Self::default()
    }

    /// The region, e.g. `cn-hangzhou`: picks the endpoint and fills
    /// `RegionId` of requests that have none.
    pub fn region(mut self, region: impl Into<String>) -> Self {
        self.region = Some(region.into());
        self
    }

    /// An explicit endpoint (`host`, `host:port`, `https://host`,
    /// `http://127.0.0.1:8080`), instead of the one resolved from the region.
    pub fn endpoint(mut self, endpoint: impl Into<String>) -> Self {
        self.endpoint = Some(endpoint.into());
        self
    }

    /// Public (default) or VPC endpoints.
    pub fn endpoint_type(mut self, endpoint_type: EndpointType) -> Self {
        self.endpoint_type = endpoint_type;
        self
    }

    /// V3 (default) or V1 signatures.
    pub fn signature_version(mut self, version: SignatureVersion) -> Self {
        self.signature_version = version;
        self
    }

    /// The body format to ask for (JSON by default).
    pub fn response_format(mut self, format: ResponseFormat) -> Self {
        self.response_format = format;
        self
    }

    /// Where credentials come from.
    pub fn credentials_provider(mut self, provider: impl CredentialsProvider + 'static) -> Self {
        self.credentials = Some(SharedCredentialsProvider::new(provider));
        self
    }

    /// The credentials profile, in the aliyun CLI config and in the ini
    /// file, instead of `ALIBABA_CLOUD_PROFILE` (the CLI's `--profile`).
    /// Used by the default credentials chain, i.e. when no credentials are
    /// given explicitly.
    pub fn profile(mut self, name: impl Into<String>) -> Self {
        self.profile = Some(name.into());
        self
    }

    /// Adjusts the default credentials chain, which is used when no
    /// credentials are given explicitly. The builder `f` receives already
    /// has this client's transport, clock, nonce source, sleep,
    /// environment and profile; `f` may override any of them or the
    /// endpoints of the metadata service and STS (for tests).
    ///
    /// ```
    /// use ecs_assist::Client;
    /// use ecs_assist::credentials::InMemoryFileSystem;
    /// let client = Client::builder()
    ///     .region("cn-hangzhou")
    ///     .default_credentials_chain(|chain| {
    ///         chain
    ///             .file_system(InMemoryFileSystem::new().with_home("/home/me"))
    ///             .imds_endpoint("http://127.0.0.1:9")
    ///     });
    /// # let _ = client;
    /// ```
    pub fn default_credentials_chain(
        mut self,
        f: impl FnOnce(DefaultCredentialsChainBuilder) -> DefaultCredentialsChainBuilder
        + Send
        + 'static,
    ) -> Self {
        self.chain = Some(match self.chain.take() {
            Some(previous) => Box::new(move |b| f(previous(b))),
            None => Box::new(f),
        });
        self
    }

    /// A static access key pair (a problem with it is reported by `build`).
    pub fn access_key(mut self, id: impl Into<String>, secret: impl Into<String>) -> Self {
        match StaticCredentialsProvider::new(id, secret) {
            Ok(p) => self.credentials = Some(SharedCredentialsProvider::new(p)),
            Err(e) => self.problems.push(e.to_string()),
        }
        self
    }

    /// Retry settings (on by default).
    pub fn retry_config(mut self, retry: RetryConfig) -> Self {
        self.retry = Some(retry);
        self
    }

    /// Attempts per call, the first included (1 disables retries).
    pub fn max_attempts(mut self, attempts: u32) -> Self {
        let retry = self.retry.take().unwrap_or_default();
        self.retry = Some(retry.with_max_attempts(attempts));
        self
    }

    /// All timeouts at once.
    pub fn timeouts(mut self, timeouts: TimeoutConfig) -> Self {
        self.timeouts = timeouts;
        self
    }

    /// Connect timeout of the default transport.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.timeouts.connect = timeout;
        self
    }

    /// Response timeout of the default transport.
    pub fn read_timeout(mut self, timeout: Duration) -> Self {
        self.timeouts.read = timeout;
        self
    }

    /// Timeout of one attempt, enforced by the client.
    pub fn attempt_timeout(mut self, timeout: Duration) -> Self {
        self.timeouts.attempt = Some(timeout);
        self
    }

    /// Deadline of a whole call including retries; `None` for none.
    pub fn operation_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.timeouts.operation = timeout;
        self
    }

    /// Text appended to the user agent.
    pub fn user_agent_suffix(mut self, suffix: impl Into<String>) -> Self {
        self.user_agent_suffix = Some(suffix.into());
        self
    }

    /// The HTTP transport (default: the hyper transport, feature `hyper`).
    pub fn transport(mut self, transport: impl Transport + 'static) -> Self {
        self.transport = Some(SharedTransport::new(transport));
        self
    }

    /// The transport of downloads (a result's complete output from OSS),
    /// streamed chunk by chunk. By default the hyper transport; with a
    /// [`transport`](Self::transport) and no streaming transport, that
    /// transport reads each object whole ([`Buffered`]).
    pub fn streaming_transport(mut self, transport: impl StreamingTransport + 'static) -> Self {
        self.streaming = Some(SharedStreamingTransport::new(transport));
        self
    }

    /// Where OSS requests go (`https://oss-cn-hangzhou.aliyuncs.com`, or
    /// `http://127.0.0.1:9000` for a local server, addressed path style)
    /// instead of `<bucket>.oss-<region>[-internal].aliyuncs.com`.
    pub fn oss_endpoint(mut self, endpoint: impl Into<String>) -> Self {
        self.oss_endpoint = Some(endpoint.into());
        self
    }

    /// The clock used to sign, time attempts and enforce deadlines.
    pub fn time_source(mut self, time: impl TimeSource + 'static) -> Self {
        self.time = Some(Arc::new(time));
        self
    }

    /// Where signature nonces come from.
    pub fn nonce_source(mut self, nonce: impl NonceSource + 'static) -> Self {
        self.nonce = Some(Arc::new(nonce));
        self
    }

    /// How the client waits (default: tokio's timer, feature `hyper`).
    pub fn sleep(mut self, sleep: impl AsyncSleep + 'static) -> Self {
        self.sleep = Some(SharedAsyncSleep::new(sleep));
        self
    }

    /// Fills what is not set yet from `env`: the region from
    /// `ALIBABA_CLOUD_REGION_ID`, the user agent suffix from
    /// `ALIBABA_CLOUD_USER_AGENT`, and the variables the default
    /// credentials chain reads (`ALIBABA_CLOUD_ACCESS_KEY_ID`, ...,
    /// `ALIBABA_CLOUD_PROFILE`, `HOME`, ...), which it then reads from
    /// `env` instead of the process environment.
    pub fn load_env(mut self, env: &dyn Environment) -> Self {
        let get = |name: &str| env.var(name).filter(|v| !v.trim().is_empty());
        if self.region.is_none() {
            self.region = get(ENV_REGION_ID).map(|r| r.trim().to_owned());
        }
        if self.user_agent_suffix.is_none() {
            self.user_agent_suffix = get(ENV_USER_AGENT);
        }
        self.env = Some(ProviderConfig::empty().environment(env));
        self
    }

    /// Builds the client.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidConfig`](crate::ErrorKind::InvalidConfig) listing
    /// every problem: no region and no endpoint, a malformed region or
    /// endpoint, bad retry settings, no transport or sleep without the
    /// `hyper` feature.
    ///
    /// Without explicit credentials the client uses the
    /// `credentials::DefaultCredentialsChain` (over
    /// this builder's transport, clock, nonce source, sleep, environment and
    /// profile); a missing source is reported at the first call, listing
    /// every place looked at.
    pub fn build(self) -> Result<Client, Error> {
        let mut problems = self.problems;
        let region = self.region.map(|r| r.trim().to_owned());
        let endpoint = match (&self.endpoint, &region) {
            (Some(text), _) => Endpoint::parse(text).map_err(|e| problems.push(e)).ok(),
            (None, Some(region)) => Endpoint::for_region(region, self.endpoint_type)
                .map_err(|e| problems.push(e))
                .ok(),
            (None, None) => {
                problems.push(format!(
                    "no region: pass .region(\"cn-hangzhou\") or set {ENV_REGION_ID} (or give an explicit endpoint)"
                ));
                None
            }
        };
        if self.endpoint.is_some()
            && let Some(region) = &region
            && let Err(e) = check_region(region)
        {
            problems.push(e);
        }
        let retry = self.retry.unwrap_or_default();
        problems.extend(retry.problems());
        let oss_endpoint = self.oss_endpoint.as_deref().and_then(|text| {
            Endpoint::parse(text)
                .map_err(|e| problems.push(format!("OSS {e}")))
                .ok()
        });
        let transports = match self.transport {
            Some(t) => {
                let streaming = self
                    .streaming
                    .unwrap_or_else(|| SharedStreamingTransport::new(Buffered(t.clone())));
                Some((t, streaming))
            }
            None => default_transport(self.timeouts.connect, self.timeouts.read)
                .map(|(t, s)| (t, self.streaming.unwrap_or(s)))
                .map_err(|e| problems.push(e))
                .ok(),
        };
        let (transport, streaming) = transports.unzip();
        let sleep = match self.sleep {
            Some(s) => Some(s),
            None => default_sleep().map_err(|e| problems.push(e)).ok(),
        };
        let time = self.time.unwrap_or_else(|| Arc::new(SystemTimeSource));
        let nonce = self
            .nonce
            .unwrap_or_else(|| Arc::new(SystemNonceSource::new()));
        let credentials = match (self.credentials, &transport, &sleep) {
            (Some(credentials), _, _) => Some(credentials),
            (None, Some(transport), Some(sleep)) => {
                let mut config = self
                    .env
                    .unwrap_or_else(|| ProviderConfig::empty().environment(&ProcessEnvironment))
                    .shared_transport(transport.clone())
                    .shared_sleep(sleep.clone())
                    .shared_time_source(Arc::clone(&time))
                    .shared_nonce_source(Arc::clone(&nonce));
                if let Some(profile) = self.profile {
                    config = config.profile(profile);
                }
                let mut chain = DefaultCredentialsChainBuilder::with_config(config);
                if let Some(f) = self.chain {
                    chain = f(chain);
                }
                Some(SharedCredentialsProvider::new(chain.build()))
            }
            (None, _, _) => None,
        };
        match (endpoint, credentials, transport, streaming, sleep) {
            (Some(endpoint), Some(credentials), Some(transport), Some(streaming), Some(sleep))
                if problems.is_empty() =>
            {
                let settings = Settings {
                    region,
                    endpoint,
                    endpoint_explicit: self.endpoint.is_some(),
                    endpoint_type: self.endpoint_type,
                    signature_version: self.signature_version,
                    response_format: self.response_format,
                    credentials,
                    retry,
                    timeouts: self.timeouts,
                    user_agent: user_agent(self.user_agent_suffix.as_deref()),
                    transport,
                    streaming,
                    oss_endpoint,
                    time,
                    nonce,
                    sleep,
                };
                Ok(Client::from_settings(settings))
            }
            _ => Err(Error::invalid_config(&problems)),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;
    use ecs_credentials::env::{ENV_ACCESS_KEY_ID, ENV_ACCESS_KEY_SECRET, ENV_SECURITY_TOKEN};

    fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn build_reports_every_problem_at_once() {
        let err = ClientBuilder::new()
            .retry_config(RetryConfig {
                max_attempts: 0,
                ..RetryConfig::default()
            })
            .build()
            .unwrap_err();
        let text = err.to_string();
        assert_eq!(err.kind(), crate::ErrorKind::InvalidConfig);
        assert!(text.contains("no region"), "{text}");
        assert!(text.contains("max_attempts is 0"), "{text}");
    }

    #[test]
    fn bad_endpoint_and_region_are_reported() {
        let err = ClientBuilder::new()
            .region("cn hangzhou")
            .endpoint("ftp://x")
            .access_key("AK", "SK")
            .build()
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("unsupported scheme") && err.contains("not a region id"),
            "{err}"
        );
    }

    fn offline(b: ClientBuilder) -> ClientBuilder {
        b.transport(ecs_transport::test_util::CaptureTransport::new())
            .sleep(ecs_transport::ThreadSleep)
    }

    #[test]
    fn from_env_reads_credentials_region_and_user_agent() {
        let e = env(&[
            (ENV_ACCESS_KEY_ID, "AKID"),
            (ENV_ACCESS_KEY_SECRET, "SECRET"),
            (ENV_SECURITY_TOKEN, "TOKEN"),
            (ENV_REGION_ID, "cn-beijing"),
            (ENV_USER_AGENT, "my-tool/1.0"),
        ]);
        let b = ClientBuilder::new().load_env(&e);
        assert_eq!(b.region.as_deref(), Some("cn-beijing"));
        assert_eq!(b.user_agent_suffix.as_deref(), Some("my-tool/1.0"));
        let client = offline(b).build().unwrap();
        let creds =
            futures::executor::block_on(client.credentials_provider().provide_credentials())
                .unwrap();
        assert_eq!(creds.access_key_id(), "AKID");
        assert_eq!(creds.security_token(), Some("TOKEN"));
        assert!(format!("{client:?}").contains("DefaultCredentialsChain"));
    }

    #[test]
    fn explicit_credentials_win_over_the_chain() {
        let e = env(&[(ENV_ACCESS_KEY_ID, "ENVAK"), (ENV_ACCESS_KEY_SECRET, "S")]);
        let client = offline(
            ClientBuilder::new()
                .region("cn-beijing")
                .access_key("MINE", "S"),
        )
        .load_env(&e)
        .build()
        .unwrap();
        let creds =
            futures::executor::block_on(client.credentials_provider().provide_credentials())
                .unwrap();
        assert_eq!(creds.access_key_id(), "MINE");
    }

    #[test]
    fn explicit_settings_win_over_env() {
        let e = env(&[(ENV_REGION_ID, "cn-beijing")]);
        let b = ClientBuilder::new().region("cn-shanghai").load_env(&e);
        assert_eq!(b.region.as_deref(), Some("cn-shanghai"));
    }

    #[test]
    fn half_set_env_credentials_are_reported_by_the_chain() {
        let e = env(&[
            (ENV_ACCESS_KEY_ID, "AKID"),
            (ENV_REGION_ID, "cn-beijing"),
            ("HOME", "/nonexistent-home"),
            ("ALIBABA_CLOUD_ECS_METADATA_DISABLED", "true"),
        ]);
        let client = offline(ClientBuilder::new().load_env(&e)).build().unwrap();
        let err = futures::executor::block_on(client.credentials_provider().provide_credentials())
            .unwrap_err()
            .to_string();
        assert!(
            err.contains(
                "environment: ALIBABA_CLOUD_ACCESS_KEY_ID is set but ALIBABA_CLOUD_ACCESS_KEY_SECRET is not"
            ),
            "{err}"
        );
    }

    #[test]
    fn user_agent_has_version_os_arch_and_suffix() {
        let ua = user_agent(Some("cli/2"));
        assert!(ua.starts_with(&format!("ecs-assist/{} (rust; ", env!("CARGO_PKG_VERSION"))));
        assert!(
            ua.contains(std::env::consts::ARCH) && ua.ends_with(") cli/2"),
            "{ua}"
        );
        assert!(user_agent(Some("  ")).ends_with(')'));
    }
}
