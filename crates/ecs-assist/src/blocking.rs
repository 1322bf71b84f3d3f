//! A synchronous client with the same API and behaviour, for programs
//! without an async runtime.
//!
//! By default (feature `hyper`) it runs the async client on an internal
//! single-threaded tokio runtime over the hyper transport. Given a
//! [`BlockingTransport`] (see [`ClientBuilder::blocking_transport`]) it
//! needs no runtime at all: calls run on the caller's thread and back off
//! with a thread sleep.

use std::fmt;
use std::future::Future;
use std::sync::Arc;

use bytes::Bytes;
use ecs_model::{
    DescribeInvocationResultsRequest, DescribeInvocationResultsResponse, InvocationResult,
    PageStyle, PaginatorPosition,
};
use ecs_transport::{
    BlockingTransport, SharedBlockingTransport, Transport, TransportError, TransportFuture,
};
use futures::StreamExt as _;

use ecs_sign::SignatureVersion;
use ecs_transport::ThreadSleep;

use crate::builder::ClientBuilder as AsyncClientBuilder;
use crate::call::CallOptions;
use crate::client::Client as AsyncClient;
use crate::error::Error;
use crate::fluent::DescribeInvocationResults as AsyncDescribeInvocationResults;
use crate::paginate::{DescribeInvocationResultsPaginator, ItemStream, Page, PageStream};
use crate::prepared::PreparedRequest;
use crate::wait_outcome::WaitOutcome;
use crate::waiter::WaitForInvocation as AsyncWaitForInvocation;
use ecs_credentials::{Environment, ProcessEnvironment};

/// Runs the futures of the async client to completion.
enum Driver {
    #[cfg(feature = "hyper")]
    Runtime(tokio::runtime::Runtime),
    Inline,
}

impl Driver {
    fn block_on<F: Future>(&self, future: F) -> F::Output {
        match self {
            #[cfg(feature = "hyper")]
            Self::Runtime(runtime) => runtime.block_on(future),
            Self::Inline => futures::executor::block_on(future),
        }
    }
}

impl fmt::Debug for Driver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            #[cfg(feature = "hyper")]
            Self::Runtime(_) => f.write_str("Runtime"),
            Self::Inline => f.write_str("Inline"),
        }
    }
}

/// A [`BlockingTransport`] seen as an async [`Transport`] whose future is
/// ready on its first poll (it does the IO when created).
#[derive(Debug)]
struct BlockingAdapter(SharedBlockingTransport);

impl Transport for BlockingAdapter {
    fn send(&self, request: http::Request<Bytes>) -> TransportFuture<'_> {
        let result: Result<http::Response<Bytes>, TransportError> = self.0.send(request);
        Box::pin(std::future::ready(result))
    }
}

/// Configures a blocking [`Client`]: the settings of the async
/// [`ClientBuilder`](AsyncClientBuilder) through
/// [`configure`](Self::configure) (or the common ones directly), plus an
/// optional [`BlockingTransport`].
#[must_use]
#[derive(Debug, Default)]
pub struct ClientBuilder {
    inner: AsyncClientBuilder,
    transport: Option<SharedBlockingTransport>,
}

impl ClientBuilder {
    /// Applies any setting of the async builder.
    pub fn configure(mut self, f: impl FnOnce(AsyncClientBuilder) -> AsyncClientBuilder) -> Self {
        self.inner = f(self.inner);
        self
    }

    /// The region.
    pub fn region(self, region: impl Into<String>) -> Self {
        self.configure(|b| b.region(region))
    }

    /// An explicit endpoint.
    pub fn endpoint(self, endpoint: impl Into<String>) -> Self {
        self.configure(|b| b.endpoint(endpoint))
    }

    /// A static access key pair.
    pub fn access_key(self, id: impl Into<String>, secret: impl Into<String>) -> Self {
        self.configure(|b| b.access_key(id, secret))
    }

    /// V3 (default) or V1 signatures.
    pub fn signature_version(self, version: SignatureVersion) -> Self {
        self.configure(|b| b.signature_version(version))
    }

    /// The credentials profile (see [`AsyncClientBuilder::profile`]).
    pub fn profile(self, name: impl Into<String>) -> Self {
        self.configure(|b| b.profile(name))
    }

    /// Fills unset settings from `env` (see [`AsyncClientBuilder::load_env`]).
    pub fn load_env(self, env: &dyn Environment) -> Self {
        self.configure(|b| b.load_env(env))
    }

    /// Sends through `transport` on the caller's thread, with no runtime.
    pub fn blocking_transport(mut self, transport: impl BlockingTransport + 'static) -> Self {
        self.transport = Some(SharedBlockingTransport::new(transport));
        self
    }

    /// Builds the client.
    ///
    /// # Errors
    /// As [`AsyncClientBuilder::build`]; without the `hyper` feature a
    /// blocking transport is required.
    pub fn build(self) -> Result<Client, Error> {
        match self.transport {
            Some(transport) => {
                let inner = self
                    .inner
                    .transport(BlockingAdapter(transport))
                    .sleep(ThreadSleep)
                    .build()?;
                Ok(Client::new(inner, Driver::Inline))
            }
            None => Self::build_with_runtime(self.inner),
        }
    }

    #[cfg(feature = "hyper")]
    fn build_with_runtime(builder: AsyncClientBuilder) -> Result<Client, Error> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| {
                Error::invalid_config(&["the internal tokio runtime could not start".to_owned()])
                    .with_source(e)
            })?;
        // The hyper transport is built inside the runtime's context.
        let inner = {
            let _guard = runtime.enter();
            builder.build()?
        };
        Ok(Client::new(inner, Driver::Runtime(runtime)))
    }

    #[cfg(not(feature = "hyper"))]
    fn build_with_runtime(builder: AsyncClientBuilder) -> Result<Client, Error> {
        // Without a runtime only a caller-provided async transport and sleep
        // that complete without one can work; the inline driver runs them.
        builder
            .build()
            .map(|inner| Client::new(inner, Driver::Inline))
    }
}

/// The blocking client: the same calls as [`crate::Client`], returning
/// results instead of futures and iterators instead of streams.
#[derive(Debug, Clone)]
pub struct Client {
    inner: AsyncClient,
    driver: Arc<Driver>,
}

impl Client {
    fn new(inner: AsyncClient, driver: Driver) -> Self {
        Self {
            inner,
            driver: Arc::new(driver),
        }
    }

    /// A builder.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    /// A client configured from the process environment.
    ///
    /// # Errors
    /// As [`ClientBuilder::build`].
    pub fn from_env() -> Result<Self, Error> {
        Self::builder().load_env(&ProcessEnvironment).build()
    }

    /// The async client underneath.
    pub fn as_async(&self) -> &AsyncClient {
        &self.inner
    }

    /// Starts a `DescribeInvocationResults` call.
    pub fn describe_invocation_results(&self) -> DescribeInvocationResults {
        DescribeInvocationResults {
            inner: self.inner.describe_invocation_results(),
            driver: Arc::clone(&self.driver),
        }
    }

    /// Starts waiting for an invocation.
    pub fn wait_for_invocation(&self, invoke_id: impl Into<String>) -> WaitForInvocation {
        WaitForInvocation {
            inner: self.inner.wait_for_invocation(invoke_id),
            driver: Arc::clone(&self.driver),
        }
    }
}

/// A blocking `DescribeInvocationResults` call being configured.
#[derive(Debug, Clone)]
#[must_use]
pub struct DescribeInvocationResults {
    inner: AsyncDescribeInvocationResults,
    driver: Arc<Driver>,
}

impl DescribeInvocationResults {
    fn request_mut(&mut self) -> &mut DescribeInvocationResultsRequest {
        self.inner.request_mut()
    }

    fn options_mut(&mut self) -> &mut CallOptions {
        self.inner.options_mut()
    }

    crate::fluent::parameter_setters!(request_mut, options_mut);

    /// Sends the call (one page).
    ///
    /// # Errors
    /// As [`crate::DescribeInvocationResults::send`].
    pub fn send(self) -> Result<DescribeInvocationResultsResponse, Error> {
        self.driver.block_on(self.inner.send())
    }

    /// The signed first attempt, not sent.
    ///
    /// # Errors
    /// As [`crate::DescribeInvocationResults::prepare`].
    pub fn prepare(self) -> Result<PreparedRequest, Error> {
        self.driver.block_on(self.inner.prepare())
    }

    /// Pages through every result.
    pub fn into_paginator(self) -> Paginator {
        Paginator {
            inner: self.inner.into_paginator(),
            driver: self.driver,
        }
    }
}

/// Blocking paging; see [`crate::DescribeInvocationResultsPaginator`].
#[derive(Debug, Clone)]
#[must_use]
pub struct Paginator {
    inner: DescribeInvocationResultsPaginator,
    driver: Arc<Driver>,
}

impl Paginator {
    /// Token (default) or page-number paging.
    pub fn page_style(mut self, style: PageStyle) -> Self {
        self.inner = self.inner.page_style(style);
        self
    }

    /// Stops after `max_items` results.
    pub fn max_items(mut self, max_items: u64) -> Self {
        self.inner = self.inner.max_items(max_items);
        self
    }

    /// Continues from a saved position.
    pub fn resume_from(mut self, position: PaginatorPosition) -> Self {
        self.inner = self.inner.resume_from(position);
        self
    }

    /// Asks for the next page while the current one is decoded and used;
    /// see [`crate::DescribeInvocationResultsPaginator::read_ahead`]. With
    /// the built-in runtime the request goes out before the page is
    /// decoded, and the service works while the caller handles the page.
    /// A [`BlockingTransport`] does its IO in one piece when called, which
    /// would only move the request earlier, so with one this does nothing.
    pub fn read_ahead(mut self, read_ahead: bool) -> Self {
        let useful = match *self.driver {
            #[cfg(feature = "hyper")]
            Driver::Runtime(_) => true,
            Driver::Inline => false,
        };
        self.inner = self.inner.read_ahead(read_ahead && useful);
        self
    }

    /// Every page, fetched as the iterator advances.
    pub fn pages(self) -> Pages {
        Pages {
            stream: self.inner.pages(),
            driver: self.driver,
        }
    }

    /// Every result, fetched a page at a time as the iterator advances.
    pub fn items(self) -> Items {
        Items {
            stream: self.inner.items(),
            driver: self.driver,
        }
    }
}

/// An iterator of pages.
#[derive(Debug)]
pub struct Pages {
    stream: PageStream,
    driver: Arc<Driver>,
}

impl Iterator for Pages {
    type Item = Result<Page, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        self.driver.block_on(self.stream.next())
    }
}

/// An iterator of results.
#[derive(Debug)]
pub struct Items {
    stream: ItemStream,
    driver: Arc<Driver>,
}

impl Iterator for Items {
    type Item = Result<InvocationResult, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        self.driver.block_on(self.stream.next())
    }
}

/// A blocking waiter; see [`crate::WaitForInvocation`] for the settings,
/// reached through [`configure`](Self::configure).
#[derive(Debug, Clone)]
#[must_use]
pub struct WaitForInvocation {
    inner: AsyncWaitForInvocation,
    driver: Arc<Driver>,
}

impl WaitForInvocation {
    /// Applies any setting of the async waiter.
    pub fn configure(
        mut self,
        f: impl FnOnce(AsyncWaitForInvocation) -> AsyncWaitForInvocation,
    ) -> Self {
        self.inner = f(self.inner);
        self
    }

    /// Waits only for this instance (call again for more).
    pub fn instance_id(self, instance_id: impl Into<String>) -> Self {
        self.configure(|w| w.instance_id(instance_id))
    }

    /// Gives up after this long.
    pub fn timeout(self, timeout: std::time::Duration) -> Self {
        self.configure(|w| w.timeout(timeout))
    }

    /// Polls until done.
    ///
    /// # Errors
    /// As [`crate::WaitForInvocation::send`].
    pub fn send(self) -> Result<WaitOutcome, Error> {
        self.driver.block_on(self.inner.send())
    }
}

impl Client {
    /// Follows an invocation: an iterator of each instance's result as it
    /// finishes; see [`crate::WatchInvocation`].
    pub fn watch_invocation(&self, invoke_id: impl Into<String>) -> WatchInvocation {
        WatchInvocation {
            inner: self.inner.watch_invocation(invoke_id),
            driver: Arc::clone(&self.driver),
        }
    }
}

/// A blocking watch: each instance's result as it finishes, fetched as the
/// iterator advances; see [`crate::WatchInvocation`].
#[derive(Debug)]
#[must_use = "an iterator does nothing unless advanced"]
pub struct WatchInvocation {
    inner: crate::watch::WatchInvocation,
    driver: Arc<Driver>,
}

impl WatchInvocation {
    /// Applies any waiter setting (before the first result is asked for).
    pub fn configure(
        mut self,
        f: impl FnOnce(AsyncWaitForInvocation) -> AsyncWaitForInvocation,
    ) -> Self {
        self.inner = self.inner.configure(f);
        self
    }

    /// How the service encodes `Output` (default Base64).
    pub fn content_encoding(mut self, encoding: ecs_model::ContentEncoding) -> Self {
        self.inner = self.inner.content_encoding(encoding);
        self
    }

    /// The counts of the latest records seen.
    pub fn summary(&self) -> crate::WaitSummary {
        self.inner.summary()
    }

    /// After the iterator ended without an error: the outcome.
    pub fn outcome(&self) -> Option<WaitOutcome> {
        self.inner.outcome()
    }
}

impl Iterator for WatchInvocation {
    type Item = Result<InvocationResult, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        self.driver.block_on(self.inner.next())
    }
}
