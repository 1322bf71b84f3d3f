//! The waiter: polls an invocation until every instance is in a final state.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use ecs_model::{DescribeInvocationResultsRequest, InvocationResult, PageStyle, ValidationErrors};
use futures::TryStreamExt as _;

use crate::call::{CallOptions, Caller};
use crate::error::Error;
use crate::paginate::DescribeInvocationResultsPaginator;
use crate::wait_outcome::WaitOutcome;

type ProgressFn = Arc<dyn Fn(&WaitOutcome) + Send + Sync>;

/// The longest [`timeout`](WaitForInvocation::timeout) and
/// [`not_found_grace`](WaitForInvocation::not_found_grace) a waiter accepts:
/// 7 days.
pub const MAX_WAIT_TIMEOUT: Duration = Duration::from_secs(7 * 24 * 60 * 60);

/// The longest [`poll_interval`](WaitForInvocation::poll_interval) and
/// [`max_poll_interval`](WaitForInvocation::max_poll_interval) a waiter
/// accepts: 1 hour.
pub const MAX_POLL_INTERVAL: Duration = Duration::from_secs(60 * 60);

/// The [`max_poll_interval`](WaitForInvocation::max_poll_interval) of a
/// waiter (and a watch) not told one: 10 seconds.
pub const DEFAULT_MAX_POLL_INTERVAL: Duration = Duration::from_secs(10);

/// Waits for an invocation; from
/// [`Client::wait_for_invocation`](crate::Client::wait_for_invocation).
///
/// Each poll pages through every result of the invocation (filtered by
/// instance when asked); the wait ends when every instance's
/// `InvocationStatus` is final, when one fails and
/// [`fail_fast`](Self::fail_fast) is set, or at the timeout. Results that are
/// not there yet (a fresh invocation, `InvalidInvokeId.NotFound`) are polled
/// through for [`not_found_grace`](Self::not_found_grace). The interval
/// starts at [`poll_interval`](Self::poll_interval) and doubles up to
/// [`max_poll_interval`](Self::max_poll_interval).
#[must_use]
#[derive(Clone)]
pub struct WaitForInvocation {
    caller: Caller,
    invoke_id: String,
    region_id: Option<String>,
    instance_ids: Vec<String>,
    timeout: Duration,
    interval: Duration,
    max_interval: Duration,
    grace: Duration,
    fail_fast: bool,
    fewer_requests: bool,
    progress: Option<ProgressFn>,
    options: CallOptions,
}

impl fmt::Debug for WaitForInvocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WaitForInvocation")
            .field("invoke_id", &self.invoke_id)
            .field("instance_ids", &self.instance_ids)
            .field("timeout", &self.timeout)
            .field("fail_fast", &self.fail_fast)
            .field("fewer_requests", &self.fewer_requests)
            .finish_non_exhaustive()
    }
}

impl WaitForInvocation {
    pub(crate) fn new(caller: Caller, invoke_id: String) -> Self {
        Self {
            caller,
            invoke_id,
            region_id: None,
            instance_ids: Vec::new(),
            timeout: Duration::from_secs(600),
            interval: Duration::from_secs(1),
            max_interval: DEFAULT_MAX_POLL_INTERVAL,
            grace: Duration::from_secs(30),
            fail_fast: false,
            fewer_requests: false,
            progress: None,
            options: CallOptions::default(),
        }
    }

    /// `RegionId` (defaults to the client's).
    pub fn region_id(mut self, region: impl Into<String>) -> Self {
        self.region_id = Some(region.into());
        self
    }

    /// Waits only for this instance (call again for more); an empty id is
    /// refused by [`send`](Self::send).
    pub fn instance_id(mut self, instance_id: impl Into<String>) -> Self {
        self.instance_ids.push(instance_id.into());
        self
    }

    /// Gives up after this long (default 10 minutes; at most
    /// [`MAX_WAIT_TIMEOUT`], or [`send`](Self::send) fails with
    /// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput)). The
    /// last poll is made at the timeout.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// First interval between polls (default 1 s; at most
    /// [`MAX_POLL_INTERVAL`], or [`send`](Self::send) fails with
    /// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput)).
    pub fn poll_interval(mut self, interval: Duration) -> Self {
        self.interval = interval;
        self
    }

    /// Longest interval between polls (default 10 s; at most
    /// [`MAX_POLL_INTERVAL`], as [`poll_interval`](Self::poll_interval)).
    pub fn max_poll_interval(mut self, interval: Duration) -> Self {
        self.max_interval = interval;
        self
    }

    /// How long "no results yet" is polled through (default 30 s; at most
    /// [`MAX_WAIT_TIMEOUT`], as [`timeout`](Self::timeout)).
    pub fn not_found_grace(mut self, grace: Duration) -> Self {
        self.grace = grace;
        self
    }

    /// Ends the wait as soon as one instance is in a failure state.
    pub fn fail_fast(mut self, fail_fast: bool) -> Self {
        self.fail_fast = fail_fast;
        self
    }

    /// For a watch ([`watch`](Self::watch)): when fetching the records
    /// that left the running set would take more requests than listing
    /// every result again, list every result again instead, and keep doing
    /// so while that stays cheaper (default off). A watch then makes at
    /// most about the requests of a waiter, whatever order the instances
    /// finish in, but downloads finished outputs again on those polls.
    /// Off, each finished output is downloaded once, and instances that
    /// finish scattered over the listing cost a request each. A waiter
    /// lists every result each poll anyway.
    pub fn fewer_requests(mut self, fewer_requests: bool) -> Self {
        self.fewer_requests = fewer_requests;
        self
    }

    /// Called after every poll with what was seen.
    pub fn on_progress(mut self, progress: impl Fn(&WaitOutcome) + Send + Sync + 'static) -> Self {
        self.progress = Some(Arc::new(progress));
        self
    }

    /// Per-poll call options (retries, timeouts).
    pub fn with_max_attempts(mut self, attempts: u32) -> Self {
        self.options.max_attempts = Some(attempts);
        self
    }

    /// Deadline of each poll's calls (`None`: none).
    pub fn with_operation_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.options.operation_timeout = Some(timeout);
        self
    }

    /// Polls until done.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput), before
    /// anything is sent, for settings beyond their limits or an empty id;
    /// [`ErrorKind::WaitTimeout`](crate::ErrorKind::WaitTimeout) holding the last state seen
    /// ([`Error::wait_outcome`]); [`ErrorKind::NotFound`](crate::ErrorKind::NotFound) when no result
    /// appeared within the grace period; any error of a poll that is not
    /// retryable.
    pub async fn send(self) -> Result<WaitOutcome, Error> {
        let span = tracing::info_span!("ecs_assist.wait", invoke_id = %self.invoke_id);
        tracing::Instrument::instrument(self.run(), span).await
    }

    async fn poll_once(&self) -> Result<Vec<InvocationResult>, Error> {
        let mut request = DescribeInvocationResultsRequest::default();
        request.invoke_id = Some(self.invoke_id.clone());
        request.max_results = Some(50);
        request.region_id.clone_from(&self.region_id);
        if let [only] = self.instance_ids.as_slice() {
            request.instance_id = Some(only.clone());
        }
        let paginator = DescribeInvocationResultsPaginator::new(
            self.caller.clone(),
            request,
            self.options.clone(),
        );
        let mut results: Vec<InvocationResult> = paginator
            .page_style(PageStyle::Token)
            .items()
            .try_collect()
            .await?;
        if self.instance_ids.len() > 1 {
            results.retain(|r| self.instance_ids.contains(&r.instance_id));
        }
        Ok(results)
    }

    /// Refuses settings beyond the limits and empty instance ids, before
    /// anything is sent.
    fn check(&self) -> Result<(), Error> {
        let mut problems = Vec::new();
        for (name, value, limit) in [
            ("timeout", self.timeout, MAX_WAIT_TIMEOUT),
            ("poll interval", self.interval, MAX_POLL_INTERVAL),
            (
                "longest poll interval",
                self.max_interval,
                MAX_POLL_INTERVAL,
            ),
            ("not-found grace", self.grace, MAX_WAIT_TIMEOUT),
        ] {
            if value > limit {
                problems.push(format!(
                    "the {name} of {} s is more than the limit of {} s",
                    value.as_secs(),
                    limit.as_secs()
                ));
            }
        }
        if !problems.is_empty() {
            return Err(Error::invalid_wait(&problems));
        }
        for id in &self.instance_ids {
            ecs_model::check_id("InstanceId", id)
                .map_err(|e| Error::invalid_input(ValidationErrors::from(e)))?;
        }
        Ok(())
    }

    async fn run(self) -> Result<WaitOutcome, Error> {
        self.check()?;
        let start = self.caller.now();
        // A clock that went backwards reads as no time elapsed.
        let elapsed =
            |caller: &Caller| Duration::try_from(caller.now() - start).unwrap_or_default();
        let max_interval = self.max_interval.max(self.interval);
        let mut interval = self.interval.max(Duration::from_millis(1));
        let mut polls = 0u32;
        loop {
            polls = polls.saturating_add(1);
            let results = match self.poll_once().await {
                Ok(results) => results,
                Err(e)
                    if e.code()
                        .is_some_and(|c| c.starts_with("InvalidInvokeId.NotFound")) =>
                {
                    if elapsed(&self.caller) >= self.grace {
                        return Err(e);
                    }
                    Vec::new()
                }
                Err(e) => return Err(e),
            };
            let outcome = WaitOutcome::new(results, polls);
            if let Some(progress) = &self.progress {
                progress(&outcome);
            }
            let summary = outcome.summary();
            tracing::debug!(
                polls,
                total = summary.total,
                finished = summary.finished(),
                failed = summary.failed,
                "poll"
            );
            if summary.total > 0 && summary.pending == 0 {
                return Ok(outcome);
            }
            if self.fail_fast && summary.failed > 0 {
                return Ok(outcome.stopped_early_at_failure());
            }
            let now = elapsed(&self.caller);
            if summary.total == 0 && now >= self.grace {
                return Err(Error::not_found(&self.invoke_id, now));
            }
            // The last poll is at the timeout: an interval longer than the
            // time left is cut to it.
            let left = self.timeout.saturating_sub(now);
            if left.is_zero() {
                return Err(Error::wait_timeout(self.timeout, now, outcome));
            }
            self.caller.sleep(interval.min(left)).await;
            interval = interval.saturating_mul(2).min(max_interval);
        }
    }
}

/// A waiter's settings, checked: what a watch
/// ([`WatchInvocation`](crate::WatchInvocation)) runs with.
pub(crate) struct WaitPlan {
    pub(crate) caller: Caller,
    pub(crate) invoke_id: String,
    pub(crate) region_id: Option<String>,
    pub(crate) instance_ids: Vec<String>,
    pub(crate) timeout: Duration,
    pub(crate) interval: Duration,
    pub(crate) max_interval: Duration,
    pub(crate) grace: Duration,
    pub(crate) fail_fast: bool,
    pub(crate) fewer_requests: bool,
    pub(crate) progress: Option<ProgressFn>,
    pub(crate) options: CallOptions,
}

impl WaitForInvocation {
    /// The settings, checked as [`send`](Self::send) checks them.
    pub(crate) fn into_plan(self) -> Result<WaitPlan, Error> {
        self.check()?;
        Ok(WaitPlan {
            caller: self.caller,
            invoke_id: self.invoke_id,
            region_id: self.region_id,
            instance_ids: self.instance_ids,
            timeout: self.timeout,
            interval: self.interval,
            max_interval: self.max_interval,
            grace: self.grace,
            fail_fast: self.fail_fast,
            fewer_requests: self.fewer_requests,
            progress: self.progress,
            options: self.options,
        })
    }

    /// Runs on `caller` (a fan-out's caller for one region) with these
    /// call options.
    pub(crate) fn on_caller(mut self, caller: Caller, options: CallOptions) -> Self {
        self.caller = caller;
        self.options = CallOptions {
            limiter: options.limiter,
            ..self.options
        };
        self
    }
}
