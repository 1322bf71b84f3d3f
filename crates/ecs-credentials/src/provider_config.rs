//! [`ProviderConfig`]: what the credential providers read and talk
//! through (transport, clock, sleep, nonces, files, environment, endpoint
//! overrides), injected so every provider is testable offline.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use ecs_sign::{NonceSource, SystemNonceSource, SystemTimeSource, TimeSource};
use ecs_transport::{SharedTransport, Transport};

use ecs_transport::{AsyncSleep, SharedAsyncSleep};

use crate::env::{
    ENV_METADATA_ENDPOINT, ENV_STS_ENDPOINT, EnvSnapshot, Environment, ProcessEnvironment,
};
use crate::fs::{FileSystem, OsFileSystem};

/// The ECS instance metadata service (docs/api/describe-invocation-results.md#ecs-ram-role).
pub const DEFAULT_IMDS_ENDPOINT: &str = "http://100.100.100.200";

/// Shared settings of the credential providers.
///
/// [`ProviderConfig::new`] reads the process environment and the real file
/// system and, with the `hyper` feature, uses the hyper transport and the
/// tokio timer; every piece can be replaced.
///
/// ```
/// use std::collections::HashMap;
/// use ecs_credentials::{InMemoryFileSystem, ProviderConfig};
/// let env: HashMap<String, String> = HashMap::new();
/// let config = ProviderConfig::new()
///     .environment(&env)
///     .file_system(InMemoryFileSystem::new().with_home("/home/me"))
///     .imds_endpoint("http://127.0.0.1:8081");
/// # let _ = config;
/// ```
#[derive(Clone)]
#[must_use]
pub struct ProviderConfig {
    pub(crate) transport: Option<SharedTransport>,
    pub(crate) sleep: Option<SharedAsyncSleep>,
    pub(crate) time: Arc<dyn TimeSource>,
    pub(crate) nonce: Arc<dyn NonceSource>,
    pub(crate) fs: Arc<dyn FileSystem>,
    pub(crate) env: EnvSnapshot,
    pub(crate) imds_endpoint: String,
    pub(crate) sts_endpoint: Option<String>,
    pub(crate) profile: Option<String>,
}

impl Default for ProviderConfig {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for ProviderConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProviderConfig")
            .field("transport", &self.transport)
            .field("env", &self.env)
            .field("fs", &self.fs)
            .field("imds_endpoint", &self.imds_endpoint)
            .field("sts_endpoint", &self.sts_endpoint)
            .field("profile", &self.profile)
            .finish_non_exhaustive()
    }
}

impl ProviderConfig {
    /// The process environment, the real file system, the system clock and
    /// nonces, and (feature `hyper`) the hyper transport and tokio timer.
    pub fn new() -> Self {
        Self {
            transport: default_transport(),
            sleep: default_sleep(),
            env: EnvSnapshot::capture(&ProcessEnvironment),
            ..Self::empty()
        }
    }

    /// No transport or sleep (a client supplies its own), the system clock
    /// and nonces, the real file system, an empty environment.
    pub fn empty() -> Self {
        Self {
            transport: None,
            sleep: None,
            time: Arc::new(SystemTimeSource),
            nonce: Arc::new(SystemNonceSource::new()),
            fs: Arc::new(OsFileSystem),
            env: EnvSnapshot::default(),
            imds_endpoint: DEFAULT_IMDS_ENDPOINT.to_owned(),
            sts_endpoint: None,
            profile: None,
        }
    }

    /// The HTTP transport for the metadata service, STS and the credentials URI.
    pub fn transport(mut self, transport: impl Transport + 'static) -> Self {
        self.transport = Some(SharedTransport::new(transport));
        self
    }

    /// An already shared transport (a client passes its own).
    pub fn shared_transport(mut self, transport: SharedTransport) -> Self {
        self.transport = Some(transport);
        self
    }

    /// The timer that bounds each HTTP request (1 s for the metadata service).
    pub fn sleep(mut self, sleep: impl AsyncSleep + 'static) -> Self {
        self.sleep = Some(SharedAsyncSleep::new(sleep));
        self
    }

    /// An already shared sleep (a client passes its own).
    pub fn shared_sleep(mut self, sleep: SharedAsyncSleep) -> Self {
        self.sleep = Some(sleep);
        self
    }

    /// The clock that decides when credentials expire and signs STS calls.
    pub fn time_source(mut self, time: impl TimeSource + 'static) -> Self {
        self.time = Arc::new(time);
        self
    }

    /// An already shared clock (a client passes its own).
    pub fn shared_time_source(mut self, time: Arc<dyn TimeSource>) -> Self {
        self.time = time;
        self
    }

    /// The nonces of STS `AssumeRole` signatures.
    pub fn nonce_source(mut self, nonce: impl NonceSource + 'static) -> Self {
        self.nonce = Arc::new(nonce);
        self
    }

    /// An already shared nonce source (a client passes its own).
    pub fn shared_nonce_source(mut self, nonce: Arc<dyn NonceSource>) -> Self {
        self.nonce = nonce;
        self
    }

    /// Where the credential files are read.
    pub fn file_system(mut self, fs: impl FileSystem + 'static) -> Self {
        self.fs = Arc::new(fs);
        self
    }

    /// The environment variables, read now
    /// (docs/api/describe-invocation-results.md#environment-variables lists
    /// them).
    pub fn environment(mut self, env: &dyn Environment) -> Self {
        self.env = EnvSnapshot::capture(env);
        self
    }

    /// The metadata service (default `http://100.100.100.200`, or
    /// `ECS_ASSIST_METADATA_ENDPOINT` when set); for tests.
    pub fn imds_endpoint(mut self, endpoint: impl Into<String>) -> Self {
        self.imds_endpoint = endpoint.into().trim_end_matches('/').to_owned();
        self
    }

    /// An STS endpoint URL used instead of `https://sts[-vpc].<region>.aliyuncs.com`
    /// (e.g. `http://127.0.0.1:8082` in tests); without it,
    /// `ECS_ASSIST_STS_ENDPOINT` when set.
    pub fn sts_endpoint(mut self, endpoint: impl Into<String>) -> Self {
        self.sts_endpoint = Some(endpoint.into().trim_end_matches('/').to_owned());
        self
    }

    /// The profile of the CLI config and the ini file, instead of
    /// `ALIBABA_CLOUD_PROFILE` (the CLI's `--profile`).
    pub fn profile(mut self, profile: impl Into<String>) -> Self {
        self.profile = Some(profile.into());
        self
    }

    /// The home directory: `HOME`, then `USERPROFILE`, then the file system's.
    pub(crate) fn home_dir(&self) -> Option<PathBuf> {
        self.env
            .get("HOME")
            .or_else(|| self.env.get("USERPROFILE"))
            .map(PathBuf::from)
            .or_else(|| self.fs.home_dir())
    }

    /// The text of the credentials file at `path`, read through the
    /// configured file system; the error names the file and says whether it
    /// is missing or unreadable.
    pub(crate) fn read_file(&self, path: &Path) -> Result<String, crate::Error> {
        self.read_file_if_present(path)?
            .ok_or_else(|| crate::Error::new(format!("{} not found", path.display())))
    }

    /// [`read_file`](Self::read_file), with `None` when there is no file.
    pub(crate) fn read_file_if_present(&self, path: &Path) -> Result<Option<String>, crate::Error> {
        match self.fs.read_to_string(path) {
            Ok(text) => Ok(Some(text)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(
                crate::Error::new(format!("{} cannot be read ({e})", path.display()))
                    .with_source(e),
            ),
        }
    }

    /// The metadata service's URL: [`imds_endpoint`](Self::imds_endpoint)
    /// when set, else `ECS_ASSIST_METADATA_ENDPOINT`, else the default.
    pub(crate) fn imds_url(&self) -> String {
        match self.env.get(ENV_METADATA_ENDPOINT) {
            Some(url) if self.imds_endpoint == DEFAULT_IMDS_ENDPOINT => {
                url.trim_end_matches('/').to_owned()
            }
            _ => self.imds_endpoint.clone(),
        }
    }

    /// The STS endpoint URL for `region` (`None`: the central
    /// `sts.aliyuncs.com`), VPC or not.
    pub(crate) fn sts_url(&self, region: Option<&str>, vpc: bool) -> String {
        if let Some(url) = &self.sts_endpoint {
            return url.clone();
        }
        if let Some(url) = self.env.get(ENV_STS_ENDPOINT) {
            return url.trim_end_matches('/').to_owned();
        }
        match (region, vpc) {
            (Some(region), true) => format!("https://sts-vpc.{region}.aliyuncs.com"),
            (Some(region), false) => format!("https://sts.{region}.aliyuncs.com"),
            (None, _) => "https://sts.aliyuncs.com".to_owned(),
        }
    }
}

/// The hyper transport with the official SDKs' connect and read timeouts
/// (5 s and 10 s); each request is bounded further by its provider.
#[cfg(feature = "hyper")]
fn default_transport() -> Option<SharedTransport> {
    ecs_transport::HyperTransport::builder()
        .connect_timeout(Duration::from_secs(5))
        .response_timeout(Duration::from_secs(10))
        .build()
        .ok()
        .map(SharedTransport::new)
}

#[cfg(not(feature = "hyper"))]
fn default_transport() -> Option<SharedTransport> {
    None
}

/// Tokio's timer.
#[cfg(feature = "hyper")]
fn default_sleep() -> Option<SharedAsyncSleep> {
    Some(SharedAsyncSleep::new(ecs_transport::TokioSleep))
}

#[cfg(not(feature = "hyper"))]
fn default_sleep() -> Option<SharedAsyncSleep> {
    None
}

/// The per-request deadline of STS and credentials-URI calls.
pub(crate) const HTTP_TIMEOUT: Duration = Duration::from_secs(15);

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn home_comes_from_env_then_file_system() {
        let env: HashMap<String, String> = [("HOME".to_owned(), "/env/home".to_owned())].into();
        let fs = crate::fs::InMemoryFileSystem::new().with_home("/fs/home");
        let c = ProviderConfig::new()
            .environment(&env)
            .file_system(fs.clone());
        assert_eq!(c.home_dir(), Some(PathBuf::from("/env/home")));
        let c = ProviderConfig::new()
            .environment(&HashMap::new())
            .file_system(fs);
        assert_eq!(c.home_dir(), Some(PathBuf::from("/fs/home")));
    }

    #[test]
    fn sts_urls() {
        let c = ProviderConfig::new();
        assert_eq!(
            c.sts_url(Some("cn-beijing"), false),
            "https://sts.cn-beijing.aliyuncs.com"
        );
        assert_eq!(
            c.sts_url(Some("cn-beijing"), true),
            "https://sts-vpc.cn-beijing.aliyuncs.com"
        );
        assert_eq!(c.sts_url(None, true), "https://sts.aliyuncs.com");
        let c = c.sts_endpoint("http://127.0.0.1:9/");
        assert_eq!(c.sts_url(Some("cn-beijing"), true), "http://127.0.0.1:9");
    }

    /// `ECS_ASSIST_STS_ENDPOINT` and `ECS_ASSIST_METADATA_ENDPOINT` point
    /// STS and the metadata service elsewhere; the builder's settings win.
    #[test]
    fn endpoint_overrides_from_the_environment() {
        let env: HashMap<String, String> = [
            (
                "ECS_ASSIST_STS_ENDPOINT".to_owned(),
                "http://127.0.0.1:7/".to_owned(),
            ),
            (
                "ECS_ASSIST_METADATA_ENDPOINT".to_owned(),
                "http://127.0.0.1:8/".to_owned(),
            ),
        ]
        .into();
        let c = ProviderConfig::new().environment(&env);
        assert_eq!(c.sts_url(Some("cn-beijing"), true), "http://127.0.0.1:7");
        assert_eq!(c.imds_url(), "http://127.0.0.1:8");
        let c = c
            .sts_endpoint("http://127.0.0.1:9")
            .imds_endpoint("http://127.0.0.1:10");
        assert_eq!(c.sts_url(None, false), "http://127.0.0.1:9");
        assert_eq!(c.imds_url(), "http://127.0.0.1:10");
        let c = ProviderConfig::new().environment(&HashMap::new());
        assert_eq!(c.imds_url(), DEFAULT_IMDS_ENDPOINT);
    }
}
