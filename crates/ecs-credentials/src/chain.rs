//! The default credentials chain in the official order
//! (docs/api/describe-invocation-results.md#credentials-chain): the
//! environment, OIDC, the aliyun CLI profile, the ini file, the ECS RAM
//! role, the credentials URI. The first source that yields credentials is
//! kept; when none does, the error lists every source and why.

use std::fmt;

use ecs_sign::{Credentials, NonceSource, TimeSource};
use ecs_transport::Transport;

use crate::env::{ENV_ACCESS_KEY_ID, ENV_ACCESS_KEY_SECRET, Environment};
use crate::env::{
    ENV_CREDENTIALS_URI, ENV_ECS_METADATA_DISABLED, ENV_OIDC_PROVIDER_ARN, ENV_OIDC_TOKEN_FILE,
    ENV_ROLE_ARN, EnvironmentCredentialsProvider,
};
use crate::error::Error;
use crate::fs::FileSystem;
use crate::imds::EcsRamRoleCredentialsProvider;
use crate::ini::IniFileCredentialsProvider;
use crate::memo::Memo;
use crate::profile::CliProfileCredentialsProvider;
use crate::provider::{CredentialsFuture, CredentialsProvider, SharedCredentialsProvider};
use crate::provider_config::ProviderConfig;
use crate::sts::OidcRoleArnCredentialsProvider;
use crate::uri::CredentialsUriProvider;
use ecs_transport::AsyncSleep;

/// The sources of the chain, in order, as named in its errors.
pub const CHAIN_SOURCES: [&str; 6] = [
    "environment",
    "oidc",
    "cli profile",
    "ini file",
    "ecs ram role",
    "credentials uri",
];

enum Slot {
    Provider(SharedCredentialsProvider),
    Skipped(String),
}

/// The default chain: where the official SDKs and tools look, in their
/// order (see the crate docs and docs/api/describe-invocation-results.md#credentials-chain).
///
/// | # | source | used when |
/// |---|---|---|
/// | 1 | environment | `ALIBABA_CLOUD_ACCESS_KEY_ID` / `..._SECRET` (+ `..._SECURITY_TOKEN`) |
/// | 2 | oidc | `ALIBABA_CLOUD_ROLE_ARN`, `..._OIDC_PROVIDER_ARN`, `..._OIDC_TOKEN_FILE` all set |
/// | 3 | cli profile | `~/.aliyun/config.json`, unless `ALIBABA_CLOUD_CLI_PROFILE_DISABLED=true` |
/// | 4 | ini file | `ALIBABA_CLOUD_CREDENTIALS_FILE`, else `~/.alibabacloud/credentials.ini`, else `~/.alibabacloud/credentials` |
/// | 5 | ecs ram role | unless `ALIBABA_CLOUD_ECS_METADATA_DISABLED=true` |
/// | 6 | credentials uri | `ALIBABA_CLOUD_CREDENTIALS_URI` set |
///
/// When no source yields credentials, the error lists each and why; it is
/// [`Error::is_unavailable`] when a configured source failed
/// on the network or at its service, not only from configuration.
///
/// ```
/// use std::collections::HashMap;
/// use ecs_credentials::{CredentialsProvider, DefaultCredentialsChain, InMemoryFileSystem};
/// let env: HashMap<String, String> = [
///     ("ALIBABA_CLOUD_ECS_METADATA_DISABLED".to_owned(), "true".to_owned()),
/// ].into();
/// let chain = DefaultCredentialsChain::builder()
///     .environment(&env)
///     .file_system(InMemoryFileSystem::new().with_home("/home/me"))
///     .build();
/// let err = futures::executor::block_on(chain.provide_credentials()).unwrap_err();
/// assert!(err.to_string().contains("environment: ALIBABA_CLOUD_ACCESS_KEY_ID is not set"));
/// assert!(err.to_string().contains("cli profile: /home/me/.aliyun/config.json not found"));
/// ```
pub struct DefaultCredentialsChain {
    slots: Vec<(&'static str, Slot)>,
    chosen: Memo<usize>,
}

impl DefaultCredentialsChain {
    /// A builder over [`ProviderConfig::new`].
    pub fn builder() -> DefaultCredentialsChainBuilder {
        DefaultCredentialsChainBuilder {
            config: ProviderConfig::new(),
        }
    }

    /// The chain over `config`.
    pub fn new(config: &ProviderConfig) -> Self {
        let env = &config.env;
        let [env_name, oidc, cli, ini, ecs, uri] = CHAIN_SOURCES;
        let mut slots = Vec::with_capacity(CHAIN_SOURCES.len());
        slots.push((
            env_name,
            Slot::Provider(SharedCredentialsProvider::new(
                EnvironmentCredentialsProvider::from_snapshot(env),
            )),
        ));
        slots.push((
            oidc,
            match (
                env.get(ENV_ROLE_ARN),
                env.get(ENV_OIDC_PROVIDER_ARN),
                env.get(ENV_OIDC_TOKEN_FILE),
            ) {
                (Some(role), Some(provider), Some(file)) => {
                    Slot::Provider(SharedCredentialsProvider::new(
                        OidcRoleArnCredentialsProvider::new(config, role, provider, file),
                    ))
                }
                _ => {
                    let oidc_vars = [ENV_ROLE_ARN, ENV_OIDC_PROVIDER_ARN, ENV_OIDC_TOKEN_FILE];
                    let missing: Vec<&str> = oidc_vars
                        .into_iter()
                        .filter(|v| env.get(v).is_none())
                        .collect();
                    Slot::Skipped(format!("{} not set", missing.join(", ")))
                }
            },
        ));
        slots.push((
            cli,
            Slot::Provider(SharedCredentialsProvider::new(
                CliProfileCredentialsProvider::new(config),
            )),
        ));
        slots.push((
            ini,
            Slot::Provider(SharedCredentialsProvider::new(
                IniFileCredentialsProvider::new(config),
            )),
        ));
        slots.push((
            ecs,
            if env.is_true(ENV_ECS_METADATA_DISABLED) {
                Slot::Skipped(format!("disabled by {ENV_ECS_METADATA_DISABLED}=true"))
            } else {
                Slot::Provider(SharedCredentialsProvider::new(
                    EcsRamRoleCredentialsProvider::new(config),
                ))
            },
        ));
        slots.push((
            uri,
            match CredentialsUriProvider::from_env(config) {
                Some(p) => Slot::Provider(SharedCredentialsProvider::new(p)),
                None => Slot::Skipped(format!("{ENV_CREDENTIALS_URI} is not set")),
            },
        ));
        Self {
            slots,
            chosen: Memo::new(),
        }
    }

    /// The source that yielded credentials and is kept, once one has.
    pub fn chosen_source(&self) -> Option<&'static str> {
        self.chosen
            .get()
            .and_then(|i| self.slots.get(i))
            .map(|(name, _)| *name)
    }

    async fn credentials(&self) -> Result<Credentials, Error> {
        if let Some((_, Slot::Provider(p))) = self.chosen.get().and_then(|i| self.slots.get(i)) {
            return p.provide_credentials().await;
        }
        let mut tried = Vec::with_capacity(self.slots.len());
        // Whether a configured source failed on the network or at its
        // service (rather than every source being absent or misconfigured).
        let mut unavailable = false;
        for (i, (name, slot)) in self.slots.iter().enumerate() {
            match slot {
                Slot::Skipped(reason) => tried.push(format!("{name}: {reason}")),
                Slot::Provider(p) => match p.provide_credentials().await {
                    Ok(credentials) => {
                        tracing::debug!(source = name, "credentials found");
                        self.chosen.set(i);
                        return Ok(credentials);
                    }
                    Err(e) => {
                        unavailable |= e.is_unavailable();
                        tried.push(format!("{name}: {e}"));
                    }
                },
            }
        }
        Err(Error::new(format!(
            "no credentials found; tried, in order:\n  {}\nset {ENV_ACCESS_KEY_ID} and {ENV_ACCESS_KEY_SECRET}, run `aliyun configure`, or pass credentials to the client",
            tried.join("\n  ")
        ))
        .unavailable_if(unavailable))
    }
}

impl fmt::Debug for DefaultCredentialsChain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DefaultCredentialsChain")
            .field("chosen", &self.chosen_source())
            .finish_non_exhaustive()
    }
}

impl CredentialsProvider for DefaultCredentialsChain {
    fn provide_credentials(&self) -> CredentialsFuture<'_> {
        Box::pin(self.credentials())
    }
}

/// Configures a [`DefaultCredentialsChain`]: the [`ProviderConfig`]
/// settings, each optional.
#[derive(Debug, Clone, Default)]
#[must_use]
pub struct DefaultCredentialsChainBuilder {
    config: ProviderConfig,
}

impl DefaultCredentialsChainBuilder {
    /// A builder on `config`, without building the default configuration
    /// (a transport, an environment snapshot) only to replace it.
    pub fn with_config(config: ProviderConfig) -> Self {
        Self { config }
    }

    /// Replaces every setting with `config`.
    pub fn provider_config(mut self, config: ProviderConfig) -> Self {
        self.config = config;
        self
    }

    /// See [`ProviderConfig::transport`].
    pub fn transport(mut self, transport: impl Transport + 'static) -> Self {
        self.config = self.config.transport(transport);
        self
    }

    /// See [`ProviderConfig::sleep`].
    pub fn sleep(mut self, sleep: impl AsyncSleep + 'static) -> Self {
        self.config = self.config.sleep(sleep);
        self
    }

    /// See [`ProviderConfig::time_source`].
    pub fn time_source(mut self, time: impl TimeSource + 'static) -> Self {
        self.config = self.config.time_source(time);
        self
    }

    /// See [`ProviderConfig::nonce_source`].
    pub fn nonce_source(mut self, nonce: impl NonceSource + 'static) -> Self {
        self.config = self.config.nonce_source(nonce);
        self
    }

    /// See [`ProviderConfig::file_system`].
    pub fn file_system(mut self, fs: impl FileSystem + 'static) -> Self {
        self.config = self.config.file_system(fs);
        self
    }

    /// See [`ProviderConfig::environment`].
    pub fn environment(mut self, env: &dyn Environment) -> Self {
        self.config = self.config.environment(env);
        self
    }

    /// See [`ProviderConfig::imds_endpoint`].
    pub fn imds_endpoint(mut self, endpoint: impl Into<String>) -> Self {
        self.config = self.config.imds_endpoint(endpoint);
        self
    }

    /// See [`ProviderConfig::sts_endpoint`].
    pub fn sts_endpoint(mut self, endpoint: impl Into<String>) -> Self {
        self.config = self.config.sts_endpoint(endpoint);
        self
    }

    /// See [`ProviderConfig::profile`].
    pub fn profile(mut self, profile: impl Into<String>) -> Self {
        self.config = self.config.profile(profile);
        self
    }

    /// The chain.
    pub fn build(self) -> DefaultCredentialsChain {
        DefaultCredentialsChain::new(&self.config)
    }
}
