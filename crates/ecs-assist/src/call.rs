//! One call, from a request to a response: the per-call options, the
//! retry loop over attempts (sign, send, read), deadlines and tracing, and
//! the answer read but not yet decoded.
//!
//! This is the engine under the public types: [`Client`](crate::Client),
//! the fluent call, the paginator, the waiter and the blocking client all
//! hold a [`Caller`] and go through [`Caller::send`]. It decides when to
//! retry (with [`RetryClass`] from `ecs-model`, the backoff of
//! [`RetryConfig`] and the retry budget); building the request is
//! `http_request.rs`'s job and reading the answer `http_response.rs`'s.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use ecs_credentials::{CredentialsProvider as _, SharedCredentialsProvider};
use ecs_model::{
    ACTION, ContentEncoding, DescribeInvocationResultsRequest, DescribeInvocationResultsResponse,
    ResponseFormat, RetryClass,
};
use ecs_sign::{NonceSource, SignatureVersion, TimeSource};
use ecs_transport::{
    AsyncSleep as _, SharedAsyncSleep, SharedStreamingTransport, SharedTransport, SleepFuture,
    Transport as _,
};
use futures::future::{Either, select};
use time::OffsetDateTime;
use tracing::Instrument as _;

use crate::endpoint::{Endpoint, EndpointType};
use crate::error::{Error, ErrorKind};
use crate::http_request::{self, Signing};
use crate::http_response;
use crate::limiter::Limiter;
use crate::prepared::PreparedRequest;
use crate::retry::{Jitter, RetryBudget, RetryConfig};
use crate::timeouts::TimeoutConfig;

/// Per-call settings that override the client's (`with_*` setters).
#[derive(Debug, Clone, Default)]
pub(crate) struct CallOptions {
    pub(crate) max_attempts: Option<u32>,
    pub(crate) attempt_timeout: Option<Duration>,
    pub(crate) operation_timeout: Option<Option<Duration>>,
    pub(crate) signature_version: Option<SignatureVersion>,
    pub(crate) response_format: Option<ResponseFormat>,
    /// Shared limit on requests in flight (a fan-out's `concurrency`).
    pub(crate) limiter: Option<Limiter>,
}

/// Everything a built client needs, resolved by the builder.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    pub(crate) region: Option<String>,
    pub(crate) endpoint: Endpoint,
    /// The endpoint was given explicitly (it serves every region), not
    /// resolved from the region.
    pub(crate) endpoint_explicit: bool,
    /// Public or VPC endpoints, for the service and for OSS (whose VPC
    /// hosts are `-internal`).
    pub(crate) endpoint_type: EndpointType,
    pub(crate) signature_version: SignatureVersion,
    pub(crate) response_format: ResponseFormat,
    pub(crate) credentials: SharedCredentialsProvider,
    pub(crate) retry: RetryConfig,
    pub(crate) timeouts: TimeoutConfig,
    pub(crate) user_agent: String,
    pub(crate) transport: SharedTransport,
    /// The transport of downloads (OSS objects), streamed.
    pub(crate) streaming: SharedStreamingTransport,
    /// Where OSS requests go instead of `<bucket>.oss-<region>.aliyuncs.com`.
    pub(crate) oss_endpoint: Option<Endpoint>,
    pub(crate) time: Arc<dyn TimeSource>,
    pub(crate) nonce: Arc<dyn NonceSource>,
    pub(crate) sleep: SharedAsyncSleep,
}

/// Makes calls with one client's settings, jitter and retry budget. Cheap
/// to clone (an `Arc`): every clone shares the budget.
#[derive(Clone)]
pub(crate) struct Caller {
    inner: Arc<Inner>,
}

impl fmt::Debug for Caller {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let settings = &self.inner.settings;
        f.debug_struct("Caller")
            .field("region", &settings.region)
            .field("endpoint", &settings.endpoint.to_string())
            .field("signature_version", &settings.signature_version)
            .field("credentials", &settings.credentials)
            .finish_non_exhaustive()
    }
}

struct Inner {
    settings: Settings,
    // Shared with the callers made by `for_region`: one jitter sequence
    // and one retry budget per client.
    jitter: Arc<Jitter>,
    budget: Arc<RetryBudget>,
}

/// Records the outcome on the call's span, once.
fn record_end(attempts: u32, request_id: Option<&str>) {
    let span = tracing::Span::current();
    span.record("attempts", attempts);
    if let Some(id) = request_id {
        span.record("request_id", id);
    }
}

fn elapsed(start: OffsetDateTime, now: OffsetDateTime) -> Duration {
    Duration::try_from(now - start).unwrap_or(Duration::ZERO)
}

impl Caller {
    pub(crate) fn new(settings: Settings) -> Self {
        let seed = settings.retry.jitter_seed.unwrap_or_else(|| {
            // Seed the jitter from the nonce source (the OS random source in
            // production, a fixed sequence in tests).
            settings
                .nonce
                .nonce()
                .ok()
                .and_then(|n| u64::from_str_radix(n.get(..16).unwrap_or("0"), 16).ok())
                .unwrap_or(0x5eed)
        });
        Self {
            inner: Arc::new(Inner {
                jitter: Arc::new(Jitter::new(seed)),
                budget: Arc::new(RetryBudget::new(settings.retry.budget_capacity)),
                settings,
            }),
        }
    }

    /// A caller for `region` that shares this one's transport (its
    /// connection pool), credentials, jitter and retry budget: the same
    /// endpoint when it was given explicitly, else the region's.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidConfig`] for a malformed region id.
    pub(crate) fn for_region(&self, region: &str) -> Result<Self, Error> {
        let mut settings = self.inner.settings.clone();
        if !settings.endpoint_explicit {
            settings.endpoint = Endpoint::for_region(region, settings.endpoint_type)
                .map_err(|e| Error::invalid_config(&[e]))?;
        } else {
            crate::endpoint::check_region(region).map_err(|e| Error::invalid_config(&[e]))?;
        }
        settings.region = Some(region.to_owned());
        Ok(Self {
            inner: Arc::new(Inner {
                settings,
                jitter: Arc::clone(&self.inner.jitter),
                budget: Arc::clone(&self.inner.budget),
            }),
        })
    }

    /// The client's settings.
    pub(crate) fn settings(&self) -> &Settings {
        &self.inner.settings
    }

    /// Tokens left in the retry budget.
    pub(crate) fn retry_budget_available(&self) -> u32 {
        self.inner.budget.available()
    }

    /// Spends `cost` of the retry budget (tests of its sharing).
    #[cfg(test)]
    pub(crate) fn spend_budget(&self, cost: u32) -> bool {
        self.inner.budget.try_acquire(cost)
    }

    /// Waits on the client's sleep.
    pub(crate) fn sleep(&self, duration: Duration) -> SleepFuture {
        self.inner.settings.sleep.sleep(duration)
    }

    /// The backoff before retry number `retry` of a download, with this
    /// client's retry settings and jitter.
    pub(crate) fn backoff(&self, retry: u32, class: RetryClass) -> Duration {
        self.inner
            .settings
            .retry
            .delay(retry, class, None, &self.inner.jitter)
    }

    /// The client's clock.
    pub(crate) fn now(&self) -> OffsetDateTime {
        self.inner.settings.time.now()
    }

    /// Fills `RegionId` from the client and validates.
    fn complete(
        &self,
        mut request: DescribeInvocationResultsRequest,
    ) -> Result<DescribeInvocationResultsRequest, Error> {
        if request.region_id.is_none() {
            request.region_id.clone_from(&self.inner.settings.region);
        }
        request.validate().map_err(Error::invalid_input)?;
        Ok(request)
    }

    /// Builds and signs one attempt's request.
    async fn sign(
        &self,
        request: &DescribeInvocationResultsRequest,
        options: &CallOptions,
    ) -> Result<http::Request<Bytes>, Error> {
        let settings = &self.inner.settings;
        let credentials = settings.credentials.provide_credentials().await?;
        let nonce = settings.nonce.nonce().map_err(Error::signing)?;
        let signing = Signing {
            endpoint: &settings.endpoint,
            version: options
                .signature_version
                .unwrap_or(settings.signature_version),
            format: options.response_format.unwrap_or(settings.response_format),
            user_agent: &settings.user_agent,
            credentials: &credentials,
            time: settings.time.now(),
            nonce: &nonce,
        };
        http_request::build(&request.to_query(), &signing)
    }

    /// The signed request that `execute` would send first, not sent.
    pub(crate) async fn prepare(
        &self,
        request: DescribeInvocationResultsRequest,
        options: &CallOptions,
    ) -> Result<PreparedRequest, Error> {
        let request = self.complete(request)?;
        self.sign(&request, options).await.map(PreparedRequest::new)
    }

    /// Validates, then sends with retries until success, a final error, the
    /// attempt limit, the retry budget or the deadline.
    pub(crate) async fn execute(
        &self,
        request: DescribeInvocationResultsRequest,
        options: &CallOptions,
    ) -> Result<DescribeInvocationResultsResponse, Error> {
        self.send(request, options).await?.decode()
    }

    /// The call up to a 2xx answer read in full (retrying as configured),
    /// without decoding it: a paginator reading ahead starts the next page
    /// before it decodes this one.
    pub(crate) async fn send(
        &self,
        request: DescribeInvocationResultsRequest,
        options: &CallOptions,
    ) -> Result<Undecoded, Error> {
        let request = self.complete(request)?;
        let encoding = request.effective_content_encoding();
        let span = tracing::info_span!(
            "ecs_assist.call",
            action = ACTION,
            region = request.region_id.as_deref().unwrap_or_default(),
            endpoint = %self.inner.settings.endpoint,
            attempts = tracing::field::Empty,
            request_id = tracing::field::Empty,
        );
        let (response, attempts) = self
            .execute_with_retries(&request, options)
            .instrument(span.clone())
            .await?;
        Ok(Undecoded {
            response,
            attempts,
            span,
            encoding,
        })
    }

    async fn execute_with_retries(
        &self,
        request: &DescribeInvocationResultsRequest,
        options: &CallOptions,
    ) -> Result<(http::Response<Bytes>, u32), Error> {
        let settings = &self.inner.settings;
        let max_attempts = options
            .max_attempts
            .unwrap_or(settings.retry.max_attempts)
            .max(1);
        let deadline = options
            .operation_timeout
            .unwrap_or(settings.timeouts.operation);
        let attempt_timeout = options.attempt_timeout.or(settings.timeouts.attempt);
        let start = self.now();
        let mut spent = 0u32;
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            let remaining = deadline.map(|d| d.saturating_sub(elapsed(start, self.now())));
            let attempt_span = tracing::debug_span!(
                "ecs_assist.attempt",
                attempt,
                status = tracing::field::Empty,
                request_id = tracing::field::Empty,
                latency_ms = tracing::field::Empty,
            );
            let result = self
                .attempt(request, options, attempt, attempt_timeout, remaining)
                .instrument(attempt_span)
                .await;
            let error = match result {
                Ok(response) => {
                    self.inner.budget.on_success(spent);
                    return Ok((response, attempt));
                }
                Err(error) => error,
            };
            let retry_after = error.retry_after();
            let fail = |error: Error| {
                record_end(attempt, error.request_id());
                Err(error.with_attempts(attempt))
            };
            let class = error.retry_class().unwrap_or(RetryClass::Final);
            if error.kind() == ErrorKind::Deadline || !class.is_retryable() {
                return fail(error);
            }
            if attempt >= max_attempts {
                tracing::debug!(attempt, "no attempts left");
                return fail(error);
            }
            let cost = if error.kind() == ErrorKind::Transport {
                settings.retry.timeout_retry_cost
            } else {
                settings.retry.retry_cost
            };
            if !self.inner.budget.try_acquire(cost) {
                tracing::warn!(attempt, "retry budget exhausted; not retrying");
                return fail(error);
            }
            spent = spent.saturating_add(cost);
            let delay = settings
                .retry
                .delay(attempt, class, retry_after, &self.inner.jitter);
            if let Some(limit) = deadline
                && elapsed(start, self.now()) + delay >= limit
            {
                record_end(attempt, error.request_id());
                return Err(Error::deadline(limit, Some(error.with_attempts(attempt))));
            }
            tracing::debug!(
                attempt,
                delay_ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX),
                throttling = class == RetryClass::Throttling,
                "retrying"
            );
            self.sleep(delay).await;
        }
    }

    /// One attempt: sign afresh (new nonce and time), send, read; a 2xx
    /// answer is returned undecoded, anything else as its error.
    async fn attempt(
        &self,
        request: &DescribeInvocationResultsRequest,
        options: &CallOptions,
        attempt: u32,
        attempt_timeout: Option<Duration>,
        remaining: Option<Duration>,
    ) -> Result<http::Response<Bytes>, Error> {
        let span = tracing::Span::current();
        if remaining.is_some_and(|r| r.is_zero()) {
            let limit = options
                .operation_timeout
                .flatten()
                .or(self.inner.settings.timeouts.operation)
                .unwrap_or_default();
            return Err(Error::deadline(limit, None).with_attempts(attempt - 1));
        }
        // Held until the answer is read: it bounds requests in flight. Taken
        // before signing, so a request that waited for its turn is not
        // signed with a stale time.
        let _permit = match &options.limiter {
            Some(limiter) => Some(limiter.acquire().await),
            None => None,
        };
        let http_request = self.sign(request, options).await?;
        let started = self.now();
        let send = self.inner.settings.transport.send(http_request);
        let limit = match (attempt_timeout, remaining) {
            (Some(a), Some(r)) => Some((a.min(r), r <= a)),
            (Some(a), None) => Some((a, false)),
            (None, Some(r)) => Some((r, true)),
            (None, None) => None,
        };
        let outcome = match limit {
            None => send.await,
            Some((limit, is_deadline)) => match select(send, self.sleep(limit)).await {
                Either::Left((outcome, _)) => outcome,
                Either::Right(((), _)) => {
                    span.record("status", "timeout");
                    return Err(if is_deadline {
                        let total = options
                            .operation_timeout
                            .flatten()
                            .or(self.inner.settings.timeouts.operation)
                            .unwrap_or(limit);
                        Error::deadline(total, None).with_attempts(attempt)
                    } else {
                        Error::attempt_timeout(limit, attempt)
                    });
                }
            },
        };
        let latency = elapsed(started, self.now());
        span.record(
            "latency_ms",
            u64::try_from(latency.as_millis()).unwrap_or(u64::MAX),
        );
        let response = match outcome {
            Ok(response) => response,
            Err(error) => {
                span.record("status", "transport error");
                tracing::debug!(kind = %error.kind(), retryable = error.is_retryable(), "transport error");
                return Err(Error::transport(error, attempt));
            }
        };
        span.record("status", response.status().as_u16());
        if response.status().is_success() {
            if let Some(id) = http_response::header_request_id(&response) {
                span.record("request_id", id);
            }
            tracing::debug!(bytes = response.body().len(), "attempt answered");
            return Ok(response);
        }
        let error = http_response::read_failure(&response, attempt);
        if let Some(id) = error.request_id() {
            span.record("request_id", id);
        }
        tracing::debug!(code = error.code().unwrap_or(""), "attempt failed");
        Err(error)
    }
}

/// A 2xx answer read in full but not yet decoded; [`Undecoded::decode`]
/// ends the call (a body that does not decode is not retried: the service
/// answered, and asking again gives the same body).
pub(crate) struct Undecoded {
    response: http::Response<Bytes>,
    attempts: u32,
    span: tracing::Span,
    /// The `ContentEncoding` the request asked for, recorded on every
    /// decoded result.
    encoding: ContentEncoding,
}

impl Undecoded {
    /// The `NextToken` in the body, scanned for without decoding it.
    pub(crate) fn peek_next_token(&self) -> Option<&str> {
        http_response::peek_next_token(&self.response)
    }

    /// Decodes the body, recording the outcome on the call's span.
    pub(crate) fn decode(self) -> Result<DescribeInvocationResultsResponse, Error> {
        let _entered = self.span.enter();
        let result = http_response::read_success(&self.response, self.attempts)
            .map(|page| page.with_content_encoding(&self.encoding));
        match &result {
            Ok(page) => {
                record_end(self.attempts, Some(page.request_id.as_str()));
                tracing::debug!(results = page.invocation.results.len(), "call succeeded");
            }
            Err(error) => record_end(self.attempts, error.request_id()),
        }
        result
    }
}
