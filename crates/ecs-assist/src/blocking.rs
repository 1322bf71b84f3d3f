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

#[path = "full_output_blocking.rs"]
mod full_output;
pub use full_output::{FullOutput, FullOutputRequest};

/// Runs the futures of the async client to completion.
enum Driver {
    /// The internal runtime; `None` only while it is dropped.
    #[cfg(feature = "hyper")]
    Runtime(Option<tokio::runtime::Runtime>),
    Inline,
}

impl Driver {
    /// Runs `future` until it completes, blocking the calling thread.
    ///
    /// On a thread where a tokio runtime is current, tokio forbids starting
    /// another (it panics), and blocking the thread could stall the very
    /// runtime that serves the request: in the body of a runtime's
    /// `block_on` (`#[tokio::main]`, `#[tokio::test]`) the call is refused;
    /// in a task (a `spawn_blocking` closure, or an async task, which it
    /// then blocks as any blocking call does) it runs on a helper thread.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidConfig`](crate::ErrorKind::InvalidConfig) in the
    /// body of a runtime's `block_on`.
    fn block_on<F>(&self, future: F) -> Result<F::Output, Error>
    where
        F: Future + Send,
        F::Output: Send,
    {
        match self {
            #[cfg(feature = "hyper")]
            Self::Runtime(runtime) => {
                let Some(runtime) = runtime else {
                    return Err(inside_a_runtime());
                };
                if tokio::runtime::Handle::try_current().is_err() {
                    return Ok(runtime.block_on(future));
                }
                if tokio::task::try_id().is_none() {
                    return Err(inside_a_runtime());
                }
                std::thread::scope(|scope| {
                    scope
                        .spawn(|| runtime.block_on(future))
                        .join()
                        .map_err(|_| {
                            Error::invalid_config(&[
                                "the blocking client's helper thread panicked".to_owned()
                            ])
                        })
                })
            }
            Self::Inline => Ok(futures::executor::block_on(future)),
        }
    }
}

/// The error of a blocking call made on a tokio runtime's thread.
#[cfg(feature = "hyper")]
fn inside_a_runtime() -> Error {
    Error::invalid_config(&[
        "the blocking client was called on a thread that runs a tokio runtime, where it \
         cannot block: use the async ecs_assist::Client there, or move the blocking call \
         off the runtime (tokio::task::spawn_blocking or a thread of its own)"
            .to_owned(),
    ])
}

#[cfg(feature = "hyper")]
impl Drop for Driver {
    fn drop(&mut self) {
        // Dropping a runtime where blocking is not allowed (inside another
        // runtime) panics; there it is shut down without waiting.
        if let Self::Runtime(runtime) = self
            && tokio::runtime::Handle::try_current().is_ok()
            && let Some(runtime) = runtime.take()
        {
            runtime.shutdown_background();
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
        Ok(Client::new(inner, Driver::Runtime(Some(runtime))))
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

    /// Starts reading the complete output of `result` (from OSS when the
    /// service truncated it); see [`crate::Client::full_output`]. The
    /// answer is read through [`std::io::Read`].
    pub fn full_output(&self, result: &InvocationResult) -> FullOutputRequest {
        FullOutputRequest::new(self.inner.full_output(result), Arc::clone(&self.driver))
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
        self.driver.block_on(self.inner.send())?
    }

    /// The signed first attempt, not sent.
    ///
    /// # Errors
    /// As [`crate::DescribeInvocationResults::prepare`].
    pub fn prepare(self) -> Result<PreparedRequest, Error> {
        self.driver.block_on(self.inner.prepare())?
    }

    /// Pages through every result (reading ahead where that helps; see
    /// [`Paginator::read_ahead`]).
    pub fn into_paginator(self) -> Paginator {
        Paginator {
            inner: self.inner.into_paginator(),
            driver: self.driver,
        }
        .read_ahead(true)
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

    /// Asks for the next page while the current one is decoded and used
    /// (on by default); see [`crate::DescribeInvocationResultsPaginator::read_ahead`]. With
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
            failed: false,
        }
    }

    /// Every result, fetched a page at a time as the iterator advances.
    pub fn items(self) -> Items {
        Items {
            stream: self.inner.items(),
            driver: self.driver,
            failed: false,
        }
    }
}

/// An iterator of pages.
#[derive(Debug)]
pub struct Pages {
    stream: PageStream,
    driver: Arc<Driver>,
    /// Set once the driver refused to run: the iterator then ends.
    failed: bool,
}

impl Iterator for Pages {
    type Item = Result<Page, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        next_of(&self.driver, &mut self.stream, &mut self.failed)
    }
}

/// An iterator of results.
#[derive(Debug)]
pub struct Items {
    stream: ItemStream,
    driver: Arc<Driver>,
    /// Set once the driver refused to run: the iterator then ends.
    failed: bool,
}

impl Iterator for Items {
    type Item = Result<InvocationResult, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        next_of(&self.driver, &mut self.stream, &mut self.failed)
    }
}

/// The next item of `stream`; when the driver cannot run, its error once
/// and then the end.
fn next_of<S, T>(driver: &Driver, stream: &mut S, failed: &mut bool) -> Option<Result<T, Error>>
where
    S: futures::Stream<Item = Result<T, Error>> + Unpin + Send,
    T: Send,
{
    if *failed {
        return None;
    }
    match driver.block_on(stream.next()) {
        Ok(next) => next,
        Err(err) => {
            *failed = true;
            Some(Err(err))
        }
    }
}

/// A blocking waiter, with the settings of [`crate::WaitForInvocation`]
/// under the same names (any other through [`configure`](Self::configure)).
///
/// ```no_run
/// # fn main() -> Result<(), ecs_assist::Error> {
/// use std::time::Duration;
///
/// let client = ecs_assist::blocking::Client::from_env()?;
/// let outcome = client
///     .wait_for_invocation("t-hz0jdfwe1uy5678")
///     .poll_interval(Duration::from_millis(500))
///     .max_poll_interval(Duration::from_secs(5))
///     .timeout(Duration::from_secs(60))
///     .fail_fast(true)
///     .on_progress(|seen| eprintln!("{}", seen.summary()))
///     .send()?;
/// assert!(outcome.is_success());
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
#[must_use]
pub struct WaitForInvocation {
    inner: AsyncWaitForInvocation,
    driver: Arc<Driver>,
}

/// Blocking setters that forward to the async waiter's namesakes.
macro_rules! forward_to_async_waiter {
    ($($(#[$doc:meta])* fn $name:ident($arg:ident: $ty:ty);)*) => {
        $(
            $(#[$doc])*
            pub fn $name(self, $arg: $ty) -> Self {
                self.configure(|w| w.$name($arg))
            }
        )*
    };
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

    forward_to_async_waiter! {
        /// `RegionId` (defaults to the client's); see
        /// [`crate::WaitForInvocation::region_id`].
        fn region_id(region: impl Into<String>);
        /// Waits only for this instance (call again for more); see
        /// [`crate::WaitForInvocation::instance_id`].
        fn instance_id(instance_id: impl Into<String>);
        /// Gives up after this long (default 10 minutes); see
        /// [`crate::WaitForInvocation::timeout`].
        fn timeout(timeout: std::time::Duration);
        /// First interval between polls (default 1 s); see
        /// [`crate::WaitForInvocation::poll_interval`].
        fn poll_interval(interval: std::time::Duration);
        /// Longest interval between polls (default 10 s); see
        /// [`crate::WaitForInvocation::max_poll_interval`].
        fn max_poll_interval(interval: std::time::Duration);
        /// How long "no results yet" is polled through (default 30 s); see
        /// [`crate::WaitForInvocation::not_found_grace`].
        fn not_found_grace(grace: std::time::Duration);
        /// Ends the wait as soon as one instance is in a failure state; see
        /// [`crate::WaitForInvocation::fail_fast`].
        fn fail_fast(fail_fast: bool);
        /// For a watch, re-lists everything when that takes fewer requests
        /// than fetching what finished; see
        /// [`crate::WaitForInvocation::fewer_requests`].
        fn fewer_requests(fewer_requests: bool);
        /// Called after every poll with what was seen; see
        /// [`crate::WaitForInvocation::on_progress`].
        fn on_progress(progress: impl Fn(&WaitOutcome) + Send + Sync + 'static);
        /// Attempts per poll's call; see
        /// [`crate::WaitForInvocation::with_max_attempts`].
        fn with_max_attempts(attempts: u32);
        /// Deadline of each poll's calls (`None`: none); see
        /// [`crate::WaitForInvocation::with_operation_timeout`].
        fn with_operation_timeout(timeout: Option<std::time::Duration>);
    }

    /// Polls until done.
    ///
    /// # Errors
    /// As [`crate::WaitForInvocation::send`].
    pub fn send(self) -> Result<WaitOutcome, Error> {
        self.driver.block_on(self.inner.send())?
    }
}

impl Client {
    /// Follows an invocation: an iterator of each instance's result as it
    /// finishes; see [`crate::WatchInvocation`].
    pub fn watch_invocation(&self, invoke_id: impl Into<String>) -> WatchInvocation {
        WatchInvocation {
            inner: self.inner.watch_invocation(invoke_id),
            driver: Arc::clone(&self.driver),
            failed: false,
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
    /// The driver could not run (called inside a runtime): its error was
    /// given once.
    failed: bool,
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
        next_of(&self.driver, &mut self.inner, &mut self.failed)
    }
}
