//! The high-level Rust client for ECS Cloud Assistant
//! `DescribeInvocationResults`: endpoints, signing, retries, paginator
//! streams, a waiter and a blocking client.
//!
//! # Where this crate sits
//!
//! This is the facade users depend on. It ties `ecs-model` (requests,
//! validation, decoding, the sans-IO paginator), `ecs-sign` (V1 and V3
//! signatures), `ecs-transport` (the HTTP transport and sleep) and
//! `ecs-credentials` (the credentials chain) together; the `ecs-assist`
//! command-line tool is built on it, and `ecs-emulator` serves it offline.
//! ARCHITECTURE.md at the repository's root follows one call through it.
//!
//! - [`Client::builder`] / [`Client::from_env`]: region and endpoint
//!   resolution (the ECS endpoint map, the regional rule, VPC endpoints, an
//!   explicit override), V3 signatures by default (V1 available), a
//!   credentials provider, [`RetryConfig`], [`TimeoutConfig`], user agent,
//!   and the transport, clock, nonce source and sleep as inputs (their
//!   traits are in [`config`]).
//! - Credentials: without explicit ones the client uses
//!   `credentials::DefaultCredentialsChain` in the official order
//!   (environment, OIDC, aliyun CLI profile, ini file, ECS RAM role,
//!   credentials URI), with STS `AssumeRole`/`AssumeRoleWithOIDC`, cached
//!   and refreshed before expiry; `credentials` is the `ecs-credentials`
//!   crate, usable by any Alibaba Cloud client.
//! - [`Client::describe_invocation_results`]: one page with `send()`, a
//!   signed request without sending with `prepare()`, every page or result
//!   as a `futures::Stream` with `into_paginator()`.
//! - [`Client::wait_for_invocation`]: polls until every instance is final.
//! - [`Client::full_output`]: a result's complete output as a byte stream,
//!   from OSS when the service truncated it and delivered it there
//!   (`OssOutputDelivery`), streamed and resumed with `Range` after a cut.
//! - [`Client::watch_invocation`]: a stream of each instance's result as it
//!   finishes, each finished output downloaded once.
//! - [`Client::fan_out`]: many regions × requests (paged or watched) as one
//!   merged stream on one client, under one limit on requests in flight.
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
//! The root holds what ordinary code names; the rest is in [`config`]
//! (settings and the capability traits), `credentials` (the
//! `ecs-credentials` crate), [`error`] (every error type the API returns or
//! carries: [`error::DecodeError`], [`error::ValidationErrors`],
//! [`error::SignError`], ...), `model` (the `ecs-model` crate: every type of
//! the API) and the `http` and `bytes` crates that [`PreparedRequest`] and
//! the transports speak. Every type a public item returns can be named from
//! this crate.
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
//! // Decoded in the encoding the request asked for.
//! assert!(page.invocation.results[0].output_text()?.starts_with("Filesystem"));
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
//! | `hyper` | yes | the default transport (`ecs-transport`'s hyper/rustls client), tokio's timer ([`config::TokioSleep`]), the credentials chain's HTTP, and the internal runtime of [`blocking::Client`]. Without it the crate has no tokio or hyper: pass [`ClientBuilder::transport`] and [`ClientBuilder::sleep`] (or a [`config::BlockingTransport`] to [`blocking::ClientBuilder::blocking_transport`]). |

pub mod blocking;
mod builder;
mod call;
mod client;
pub mod config;
mod defaults;
mod endpoint;
pub mod error;
mod fan_out;
mod fluent;
mod full_output;
mod full_output_error;
mod http_request;
mod http_response;
mod limiter;
mod oss_location;
mod paginate;
mod prepared;
mod retry;
mod timeouts;
mod wait_outcome;
mod waiter;
mod watch;
mod watch_plan;

/// The `bytes` crate: the bodies of [`PreparedRequest`] and the transports.
pub use bytes;
/// The credentials: the default chain, its providers, and the trait to
/// write one (the `ecs-credentials` crate).
pub use ecs_credentials as credentials;
/// The API's types: requests, responses, wire enums, decoding (the
/// `ecs-model` crate).
pub use ecs_model as model;
/// The `http` crate: the requests and responses of [`PreparedRequest`] and
/// the transports.
pub use http;

pub use builder::ClientBuilder;
pub use client::Client;
pub use endpoint::EndpointType;
pub use error::{Error, ErrorKind};
pub use fan_out::{DEFAULT_CONCURRENCY, FanOut, FanOutItem, FanOutStream, Source};
pub use fluent::DescribeInvocationResults;
pub use full_output::{FullOutput, FullOutputRequest, FullOutputSource};
pub use full_output_error::{FullOutputError, FullOutputErrorKind};
pub use oss_location::OssObject;
pub use paginate::{DescribeInvocationResultsPaginator, ItemStream, Page, PageStream};
pub use prepared::PreparedRequest;
pub use retry::RetryConfig;
pub use timeouts::TimeoutConfig;
pub use wait_outcome::{WaitOutcome, WaitSummary};
pub use waiter::WaitForInvocation;
pub use watch::WatchInvocation;

pub use ecs_model::{
    ContentEncoding, DescribeInvocationResultsRequest, DescribeInvocationResultsResponse,
    InvocationResult, InvocationStatus, InvokeRecordStatus, MAX_PAGE_SIZE, MAX_TAGS, PageStyle,
    PaginatorPosition, ResponseFormat, ServiceError, TagFilter, Timestamp, Truncation,
};
pub use ecs_sign::SignatureVersion;
