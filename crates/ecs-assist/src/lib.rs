//! The high-level Rust client for ECS Cloud Assistant
//! `DescribeInvocationResults`: endpoints, signing, retries, paginator
//! streams, a waiter and a blocking client.
//!
//! # Where this crate sits
//!
//! This is the facade users depend on. It ties `ecs-model` (requests,
//! validation, decoding, the sans-IO paginator), `ecs-sign` (V1 and V3
//! signatures) and `ecs-transport` (the HTTP transport) together; the
//! `ecs-assist` command-line tool is built on it, and `ecs-emulator` serves
//! it offline.
//!
//! - [`Client::builder`] / [`Client::from_env`]: region and endpoint
//!   resolution (spec §4: endpoint map, regional rule, VPC, explicit
//!   override), V3 signatures by default (V1 available), a
//!   [`CredentialsProvider`], [`RetryConfig`], timeouts, user agent, and the
//!   transport, clock, nonce source and [`AsyncSleep`] as inputs.
//! - Credentials (spec §9): without explicit ones the client uses the
//!   [`DefaultCredentialsChain`] in the official order (environment, OIDC,
//!   aliyun CLI profile, ini file, ECS RAM role, credentials URI), with
//!   STS `AssumeRole`/`AssumeRoleWithOIDC`, cached and refreshed before
//!   expiry with one refresh at a time; files, environment and HTTP are
//!   injected ([`ProviderConfig`], [`FileSystem`]), and an empty chain's
//!   error lists every source and why it gave nothing.
//! - [`Client::describe_invocation_results`]: one page with `send()`, a
//!   signed request without sending with `prepare()`, every page or result
//!   as a `futures::Stream` with `into_paginator()`.
//! - [`Client::wait_for_invocation`]: polls until every instance is final.
//! - Retries on by default (this API is read-only): throttling, transient
//!   service errors and retryable transport errors, exponential backoff with
//!   full jitter, `x-acs-retry-after` honoured, a retry budget, a deadline;
//!   every attempt is signed afresh.
//! - [`Error`]: [`ErrorKind`], `is_throttling()`, `is_retryable()`,
//!   `service_error()`, `request_id()`.
//! - [`blocking::Client`]: the same, synchronous.
//! - `tracing` spans `ecs_assist.call` and `ecs_assist.attempt` (action,
//!   attempt, status, RequestId, latency); secrets are never logged.
//!
//! # Example
//!
//! Against the local emulator, so it runs offline; for the real service
//! drop `.endpoint(..)` and use your region and keys (or
//! [`Client::from_env`]).
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use std::time::Duration;
//! use ecs_assist::{Client, ContentEncoding};
//! use ecs_emulator::{DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET, DataSet, Emulator};
//! use futures::TryStreamExt;
//!
//! let emulator = Emulator::builder().data(DataSet::demo()).start().await?;
//! let client = Client::builder()
//!     .region("cn-hangzhou")
//!     .endpoint(emulator.url())
//!     .access_key(DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET)
//!     .build()?;
//!
//! // One page.
//! let page = client
//!     .describe_invocation_results()
//!     .invoke_id("t-hz0jdfwd9f1234")
//!     .content_encoding(ContentEncoding::PlainText)
//!     .send()
//!     .await?;
//! assert_eq!(page.invocation.results.len(), 3);
//!
//! // Every result, one page in memory at a time.
//! let all: Vec<_> = client
//!     .describe_invocation_results()
//!     .max_results(2)
//!     .into_paginator()
//!     .items()
//!     .try_collect()
//!     .await?;
//! assert!(all.len() >= 3);
//!
//! // Wait until every instance of an invocation is final.
//! let outcome = client
//!     .wait_for_invocation("t-hz0jdfwe1uy5678")
//!     .poll_interval(Duration::from_millis(500))
//!     .on_progress(|seen| eprintln!("{}", seen.summary()))
//!     .send()
//!     .await?;
//! assert!(outcome.is_success());
//! emulator.shutdown().await;
//! # Ok(())
//! # }
//! ```
//!
//! The blocking client has the same calls:
//!
//! ```
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let runtime = tokio::runtime::Runtime::new()?;
//! # let emulator = runtime.block_on(
//! #     ecs_emulator::Emulator::builder().data(ecs_emulator::DataSet::demo()).start())?;
//! let client = ecs_assist::blocking::Client::builder()
//!     .region("cn-hangzhou")
//!     .endpoint(emulator.url())
//!     .access_key(ecs_emulator::DEMO_ACCESS_KEY_ID, ecs_emulator::DEMO_ACCESS_KEY_SECRET)
//!     .build()?;
//! let results = client
//!     .describe_invocation_results()
//!     .invoke_id("t-hz0jdfwd9f1234")
//!     .into_paginator()
//!     .items()
//!     .collect::<Result<Vec<_>, _>>()?;
//! assert_eq!(results.len(), 3);
//! # Ok(())
//! # }
//! ```
//!
//! # Crate features
//!
//! | feature | default | what it adds |
//! |---|---|---|
//! | `hyper` | yes | the default transport (`ecs-transport`'s hyper/rustls client), [`TokioSleep`], and the internal runtime of [`blocking::Client`]. Without it the crate has no tokio or hyper: pass [`ClientBuilder::transport`] and [`ClientBuilder::sleep`] (or a [`BlockingTransport`](ecs_transport::BlockingTransport) to [`blocking::ClientBuilder::blocking_transport`]). |

pub mod blocking;
mod client;
mod config;
mod credentials;
mod endpoint;
mod error;
mod fluent;
mod paginate;
mod pipeline;
mod retry;
mod sleep;
mod waiter;

pub use client::Client;
pub use config::{
    ClientBuilder, ENV_ACCESS_KEY_ID, ENV_ACCESS_KEY_SECRET, ENV_REGION_ID, ENV_SECURITY_TOKEN,
    ENV_USER_AGENT, Environment, ProcessEnvironment, ResponseFormat, SignatureVersion,
    TimeoutConfig,
};
pub use credentials::{
    CHAIN_SOURCES, CliProfileCredentialsProvider, CloudSsoCredentialsProvider, CloudSsoProfile,
    CredentialsFuture, CredentialsProvider, CredentialsUriProvider, DEFAULT_IMDS_ENDPOINT,
    DefaultCredentialsChain, DefaultCredentialsChainBuilder, ENV_CLI_PROFILE_DISABLED,
    ENV_CREDENTIALS_FILE, ENV_CREDENTIALS_URI, ENV_ECS_METADATA, ENV_ECS_METADATA_DISABLED,
    ENV_IMDSV1_DISABLED, ENV_METADATA_ENDPOINT, ENV_OAUTH_SIGN_IN_URL, ENV_OIDC_PROVIDER_ARN,
    ENV_OIDC_TOKEN_FILE, ENV_PROFILE, ENV_ROLE_ARN, ENV_ROLE_SESSION_NAME, ENV_STS_ENDPOINT,
    ENV_STS_REGION, ENV_VPC_ENDPOINT_ENABLED, EXTERNAL_COMMAND_TIMEOUT,
    EcsRamRoleCredentialsProvider, EnvironmentCredentialsProvider,
    ExternalProcessCredentialsProvider, FileSystem, InMemoryFileSystem, IniFileCredentialsProvider,
    OAuthCredentialsProvider, OAuthProfile, OidcRoleArnCredentialsProvider, OsFileSystem,
    ProviderConfig, RamRoleArnCredentialsProvider, SharedCredentialsProvider,
    StaticCredentialsProvider,
};
pub use endpoint::{Endpoint, EndpointType, Scheme};
pub use error::{Error, ErrorKind};
pub use fluent::DescribeInvocationResults;
pub use paginate::{DescribeInvocationResultsPaginator, ItemStream, Page, PageStream};
pub use pipeline::{ACTION, API_VERSION, PreparedRequest};
pub use retry::RetryConfig;
#[cfg(feature = "hyper")]
pub use sleep::TokioSleep;
pub use sleep::{AsyncSleep, SharedAsyncSleep, SleepFuture, ThreadSleep};
pub use waiter::{
    MAX_POLL_INTERVAL, MAX_WAIT_TIMEOUT, WaitForInvocation, WaitOutcome, WaitSummary,
};

pub use ecs_model::{
    ContentEncoding, DescribeInvocationResultsRequest, DescribeInvocationResultsResponse,
    ErrorCode, Invocation, InvocationResult, InvocationStatus, InvokeRecordStatus, PageStyle,
    PaginatorPosition, ServiceError, Tag, TagFilter,
};
pub use ecs_sign::{Credentials, NonceSource, TimeSource};
pub use ecs_transport::{SharedTransport, Transport, TransportError};
