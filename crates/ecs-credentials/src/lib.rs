//! Alibaba Cloud credentials: the default chain the official SDKs and the
//! aliyun CLI use, every provider in it, and a cache that refreshes
//! temporary credentials before they expire.
//!
//! # Where this crate sits
//!
//! Above `ecs-sign` (whose `Credentials` it yields and whose signatures
//! it puts on STS calls) and `ecs-transport` (whose `Transport` and
//! `AsyncSleep` it talks and waits through), below any client: `ecs-assist`
//! holds a [`SharedCredentialsProvider`], and any other Alibaba Cloud client
//! can use the chain alone, as `aws-config` serves every AWS service crate.
//! Files, environment, clock, nonces and HTTP are inputs
//! ([`ProviderConfig`]), so every provider runs offline in tests.
//!
//! - [`CredentialsProvider`]: the object-safe trait; [`StaticCredentialsProvider`]
//!   for a fixed access key; [`SharedCredentialsProvider`] to hold any.
//! - [`DefaultCredentialsChain`]: in the official order, the environment,
//!   OIDC, the aliyun CLI profile (`~/.aliyun/config.json`), the ini file
//!   (`~/.alibabacloud/credentials.ini`), the ECS RAM role from the instance
//!   metadata service, the credentials URI. When no source yields
//!   credentials, the error lists each source and why.
//! - The providers of the chain, each usable alone:
//!   [`EnvironmentCredentialsProvider`], [`OidcRoleArnCredentialsProvider`],
//!   [`CliProfileCredentialsProvider`], [`IniFileCredentialsProvider`],
//!   [`EcsRamRoleCredentialsProvider`], [`CredentialsUriProvider`], and
//!   [`RamRoleArnCredentialsProvider`] (STS `AssumeRole`).
//! - Temporary credentials are cached and refreshed before they expire,
//!   one refresh at a time; a failed refresh keeps the previous ones while
//!   they are valid.
//! - [`Error`]: [`ErrorKind::Configuration`] (only the user can fix it) or
//!   [`ErrorKind::Unavailable`] (a configured source could not deliver).
//! - [`env`](mod@env): the environment as an input ([`Environment`]) and the names of
//!   every variable the chain reads.
//!
//! # Example
//!
//! ```
//! use std::collections::HashMap;
//! use ecs_credentials::{CredentialsProvider, DefaultCredentialsChain};
//!
//! // The environment of a program started with an access key.
//! let env: HashMap<String, String> = [
//!     ("ALIBABA_CLOUD_ACCESS_KEY_ID", "LTAI5tExample"),
//!     ("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "example-secret"),
//! ]
//! .map(|(k, v)| (k.to_owned(), v.to_owned()))
//! .into();
//! let chain = DefaultCredentialsChain::builder().environment(&env).build();
//! let credentials = futures::executor::block_on(chain.provide_credentials())?;
//! assert_eq!(credentials.access_key_id(), "LTAI5tExample");
//! assert_eq!(chain.chosen_source(), Some("environment"));
//! # Ok::<(), ecs_credentials::Error>(())
//! ```
//!
//! # Crate features
//!
//! | feature | default | what it adds |
//! |---|---|---|
//! | `hyper` | yes | [`ProviderConfig::new`] talks to the metadata service, STS and the credentials URI through `ecs-transport`'s hyper transport and waits on tokio's timer. Without it, pass an `ecs_transport::Transport` and an `ecs_transport::AsyncSleep` to [`ProviderConfig`]. |

mod cache;
mod chain;
mod cloud_sso;
pub mod env;
mod error;
mod external;
mod fs;
mod http;
mod imds;
mod ini;
mod memo;
mod oauth;
mod profile;
mod provider;
mod provider_config;
mod sts;
mod uri;

pub use chain::{CHAIN_SOURCES, DefaultCredentialsChain, DefaultCredentialsChainBuilder};
pub use cloud_sso::{CloudSsoCredentialsProvider, CloudSsoProfile};
pub use env::{Environment, EnvironmentCredentialsProvider, ProcessEnvironment};
pub use error::{Error, ErrorKind};
pub use external::{EXTERNAL_COMMAND_TIMEOUT, ExternalProcessCredentialsProvider};
pub use fs::{FileSystem, InMemoryFileSystem, OsFileSystem};
pub use imds::EcsRamRoleCredentialsProvider;
pub use ini::IniFileCredentialsProvider;
pub use oauth::{OAuthCredentialsProvider, OAuthProfile};
pub use profile::CliProfileCredentialsProvider;
pub use provider::{
    CredentialsFuture, CredentialsProvider, SharedCredentialsProvider, StaticCredentialsProvider,
};
pub use provider_config::{DEFAULT_IMDS_ENDPOINT, ProviderConfig};
pub use sts::{OidcRoleArnCredentialsProvider, RamRoleArnCredentialsProvider};
pub use uri::CredentialsUriProvider;
