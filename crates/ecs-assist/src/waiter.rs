//! The waiter: polls an invocation until every instance is in a final state.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use ecs_model::{InvocationResult, PageStyle, ValidationErrors};
use futures::TryStreamExt as _;

use crate::Error;
use crate::client::{CallOptions, Client};

type ProgressFn = Arc<dyn Fn(&WaitOutcome) + Send + Sync>;

/// The longest [`timeout`](WaitForInvocation::timeout) and
/// [`not_found_grace`](WaitForInvocation::not_found_grace) a waiter accepts:
/// 7 days.
pub const MAX_WAIT_TIMEOUT: Duration = Duration::from_secs(7 * 24 * 60 * 60);

/// The longest [`poll_interval`](WaitForInvocation::poll_interval) and
/// [`max_poll_interval`](WaitForInvocation::max_poll_interval) a waiter
/// accepts: 1 hour.
pub const MAX_POLL_INTERVAL: Duration = Duration::from_secs(60 * 60);

/// Waits for an invocation; from [`Client::wait_for_invocation`].
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
    client: Client,
    invoke_id: String,
    region_id: Option<String>,
    instance_ids: Vec<String>,
    timeout: Duration,
    interval: Duration,
    max_interval: Duration,
    grace: Duration,
    fail_fast: bool,
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
            .finish_non_exhaustive()
    }
}

impl WaitForInvocation {
    pub(crate) fn new(client: Client, invoke_id: String) -> Self {
        Self {
            client,
            invoke_id,
            region_id: None,
            instance_ids: Vec::new(),
            timeout: Duration::from_secs(600),
            interval: Duration::from_secs(1),
            max_interval: Duration::from_secs(10),
            grace: Duration::from_secs(30),
            fail_fast: false,
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
        let mut call = self
            .client
            .describe_invocation_results()
            .invoke_id(self.invoke_id.clone())
            .max_results(50);
        if let Some(region) = &self.region_id {
            call = call.region_id(region.clone());
        }
        if let [only] = self.instance_ids.as_slice() {
            call = call.instance_id(only.clone());
        }
        let (client, request, _) = call.into_parts();
        let call =
            crate::DescribeInvocationResults::from_parts(client, request, self.options.clone());
        let mut results: Vec<InvocationResult> = call
            .into_paginator()
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
        let start = self.client.now();
        // A clock that went backwards reads as no time elapsed.
        let elapsed =
            |client: &Client| Duration::try_from(client.now() - start).unwrap_or_default();
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
                    if elapsed(&self.client) >= self.grace {
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
                return Ok(WaitOutcome {
                    stopped_early: true,
                    ..outcome
                });
            }
            let now = elapsed(&self.client);
            if summary.total == 0 && now >= self.grace {
                return Err(Error::not_found(&self.invoke_id, now));
            }
            // The last poll is at the timeout: an interval longer than the
            // time left is cut to it.
            let left = self.timeout.saturating_sub(now);
            if left.is_zero() {
                return Err(Error::wait_timeout(self.timeout, now, outcome));
            }
            self.client.sleep(interval.min(left)).await;
            interval = interval.saturating_mul(2).min(max_interval);
        }
    }
}

/// What a waiter saw: the results and their summary.
#[derive(Debug, Clone)]
pub struct WaitOutcome {
    results: Vec<InvocationResult>,
    summary: WaitSummary,
    polls: u32,
    stopped_early: bool,
}

impl WaitOutcome {
    fn new(results: Vec<InvocationResult>, polls: u32) -> Self {
        let summary = WaitSummary::of(&results);
        Self {
            results,
            summary,
            polls,
            stopped_early: false,
        }
    }

    /// The results of the last poll.
    pub fn results(&self) -> &[InvocationResult] {
        &self.results
    }

    /// The results, owned.
    pub fn into_results(self) -> Vec<InvocationResult> {
        self.results
    }

    /// Counts by outcome and status.
    pub fn summary(&self) -> &WaitSummary {
        &self.summary
    }

    /// How many polls were made.
    pub fn polls(&self) -> u32 {
        self.polls
    }

    /// Whether every instance is in a final state.
    pub fn is_complete(&self) -> bool {
        self.summary.total > 0 && self.summary.pending == 0
    }

    /// Whether every instance succeeded.
    pub fn is_success(&self) -> bool {
        self.is_complete() && self.summary.succeeded == self.summary.total
    }

    /// Whether some instance ended in a failure state.
    pub fn has_failures(&self) -> bool {
        self.summary.failed > 0
    }

    /// Whether the wait ended at the first failure (fail-fast).
    pub fn stopped_early(&self) -> bool {
        self.stopped_early
    }
}

/// Counts of a waiter's results.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct WaitSummary {
    /// Results seen.
    pub total: usize,
    /// Results with `InvocationStatus` `Success`.
    pub succeeded: usize,
    /// Results in a failure state (`Failed`, `Error`, `Timeout`, `Invalid`,
    /// `Aborted`).
    pub failed: usize,
    /// Results stopped by a user (`Cancelled`, `Terminated`).
    pub stopped: usize,
    /// Results not final yet.
    pub pending: usize,
    /// Results by `InvocationStatus` (`(none)` when absent).
    pub by_status: BTreeMap<String, usize>,
}

impl WaitSummary {
    fn of(results: &[InvocationResult]) -> Self {
        let mut s = Self {
            total: results.len(),
            ..Self::default()
        };
        for r in results {
            let status = r.invocation_status.as_ref();
            match status {
                Some(st) if st.is_success() => s.succeeded += 1,
                Some(st) if st.is_failure() => s.failed += 1,
                Some(st) if st.is_stopped() => s.stopped += 1,
                _ => s.pending += 1,
            }
            let name = status.map_or("(none)", |st| st.as_str());
            *s.by_status.entry(name.to_owned()).or_default() += 1;
        }
        s
    }

    /// Results in a final state.
    pub fn finished(&self) -> usize {
        self.succeeded + self.failed + self.stopped
    }
}

impl fmt::Display for WaitSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} of {} finished: {} succeeded, {} failed, {} stopped",
            self.finished(),
            self.total,
            self.succeeded,
            self.failed,
            self.stopped
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    use bytes::Bytes;
    use ecs_model::InvocationStatus;
    use ecs_sign::ManualTimeSource;
    use ecs_transport::{Transport, TransportFuture};

    use crate::{AsyncSleep, ErrorKind, SleepFuture};

    /// A service whose one instance is always running; each answer takes
    /// `took` on the manual clock.
    #[derive(Debug)]
    struct AlwaysRunning {
        clock: Arc<ManualTimeSource>,
        took: time::Duration,
        requests: AtomicU32,
    }

    impl Transport for AlwaysRunning {
        fn send(&self, _request: http::Request<Bytes>) -> TransportFuture<'_> {
            self.requests.fetch_add(1, Ordering::SeqCst);
            self.clock.advance(self.took);
            let response = http::Response::builder()
                .header("content-type", "application/json")
                .body(Bytes::from_static(
                    br#"{"RequestId":"R","Invocation":{"InvocationResults":{"InvocationResult":[{"InstanceId":"i-1","InvokeId":"t-1","InvocationStatus":"Running"}]}}}"#,
                ))
                .map_err(|e| ecs_transport::TransportError::new(ecs_transport::TransportErrorKind::Other, e.to_string()));
            Box::pin(std::future::ready(response))
        }
    }

    /// A sleep that moves the manual clock.
    #[derive(Debug)]
    struct ClockSleep(Arc<ManualTimeSource>);

    impl AsyncSleep for ClockSleep {
        fn sleep(&self, duration: Duration) -> SleepFuture {
            self.0
                .advance(time::Duration::try_from(duration).unwrap_or(time::Duration::MAX));
            Box::pin(std::future::ready(()))
        }
    }

    /// A client on a manual clock over [`AlwaysRunning`].
    fn on_manual_clock(
        took: time::Duration,
    ) -> (Client, Arc<AlwaysRunning>, Arc<ManualTimeSource>) {
        let clock = Arc::new(ManualTimeSource::new(time::OffsetDateTime::UNIX_EPOCH));
        let service = Arc::new(AlwaysRunning {
            clock: Arc::clone(&clock),
            took,
            requests: AtomicU32::new(0),
        });
        let client = Client::builder()
            .region("cn-hangzhou")
            .access_key("id", "secret")
            .transport(Arc::clone(&service))
            .time_source(Arc::clone(&clock))
            .sleep(ClockSleep(Arc::clone(&clock)))
            .operation_timeout(None)
            .build()
            .unwrap();
        (client, service, clock)
    }

    fn elapsed(clock: &ManualTimeSource) -> time::Duration {
        ecs_sign::TimeSource::now(clock) - time::OffsetDateTime::UNIX_EPOCH
    }

    #[tokio::test]
    async fn settings_beyond_the_limits_are_invalid_input_and_nothing_is_sent() {
        let over_interval = MAX_POLL_INTERVAL + Duration::from_nanos(1);
        let over_timeout = MAX_WAIT_TIMEOUT + Duration::from_nanos(1);
        type Setting = fn(WaitForInvocation) -> WaitForInvocation;
        let cases: [(Setting, &str); 8] = [
            (|w| w.poll_interval(Duration::MAX), "poll interval"),
            (
                |w| w.poll_interval(MAX_POLL_INTERVAL + Duration::from_nanos(1)),
                "poll interval",
            ),
            (
                |w| w.max_poll_interval(Duration::MAX),
                "longest poll interval",
            ),
            (|w| w.timeout(Duration::MAX), "timeout"),
            (
                |w| w.timeout(MAX_WAIT_TIMEOUT + Duration::from_nanos(1)),
                "timeout",
            ),
            (|w| w.not_found_grace(Duration::MAX), "not-found grace"),
            (|w| w.instance_id(""), "InstanceId: must not be empty"),
            (
                |w| w.instance_id("i-1").instance_id(" "),
                "InstanceId: must not be empty",
            ),
        ];
        assert!(over_interval > MAX_POLL_INTERVAL && over_timeout > MAX_WAIT_TIMEOUT);
        for (set, names) in cases {
            // Each poll takes a second, so an unchecked sum would overflow.
            let (client, service, _) = on_manual_clock(time::Duration::SECOND);
            let err = set(client.wait_for_invocation("t-1"))
                .send()
                .await
                .unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidInput, "{names}: {err}");
            assert!(err.to_string().contains(names), "{names}: {err}");
            assert_eq!(
                service.requests.load(Ordering::SeqCst),
                0,
                "{names}: nothing sent"
            );
        }
        // An empty invocation id is refused by the request's own validation.
        let (client, service, _) = on_manual_clock(time::Duration::SECOND);
        let err = client.wait_for_invocation(" ").send().await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
        assert!(
            err.to_string().contains("InvokeId: must not be empty"),
            "{err}"
        );
        assert_eq!(service.requests.load(Ordering::SeqCst), 0);
    }

    #[tokio::test]
    async fn the_last_poll_is_at_the_timeout_and_the_error_says_how_long_it_waited() {
        // An interval longer than the timeout: the waiter sleeps until the
        // timeout, polls once more, and then gives up, saying how long it
        // waited (it used to give up at once, saying it had waited 600 s).
        let (client, service, clock) = on_manual_clock(time::Duration::ZERO);
        let err = client
            .wait_for_invocation("t-1")
            .timeout(Duration::from_secs(600))
            .poll_interval(MAX_POLL_INTERVAL)
            .send()
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::WaitTimeout);
        assert_eq!(service.requests.load(Ordering::SeqCst), 2);
        assert_eq!(elapsed(&clock), time::Duration::seconds(600));
        assert!(err.to_string().contains("after 600 s"), "{err}");
        assert_eq!(err.wait_outcome().unwrap().polls(), 2);

        // Polls that take long: the message counts the time they took.
        let (client, _, clock) = on_manual_clock(time::Duration::seconds(50));
        let err = client
            .wait_for_invocation("t-1")
            .timeout(Duration::from_secs(60))
            .poll_interval(Duration::from_secs(30))
            .send()
            .await
            .unwrap_err();
        assert_eq!(elapsed(&clock), time::Duration::seconds(110));
        assert!(
            err.to_string()
                .contains("after 110 s (the timeout is 60 s)"),
            "{err}"
        );
    }

    #[tokio::test]
    async fn the_longest_settings_run_to_their_end_without_overflow() {
        let (client, service, clock) = on_manual_clock(time::Duration::SECOND);
        let err = client
            .wait_for_invocation("t-1")
            .timeout(MAX_WAIT_TIMEOUT)
            .poll_interval(MAX_POLL_INTERVAL)
            .max_poll_interval(MAX_POLL_INTERVAL)
            .not_found_grace(MAX_WAIT_TIMEOUT)
            .send()
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::WaitTimeout);
        let waited = elapsed(&clock);
        assert!(
            waited >= time::Duration::try_from(MAX_WAIT_TIMEOUT).unwrap()
                && waited
                    <= time::Duration::try_from(MAX_WAIT_TIMEOUT + MAX_POLL_INTERVAL).unwrap(),
            "{waited}"
        );
        // One poll an hour for a week, and the first and last.
        let polls = service.requests.load(Ordering::SeqCst);
        assert!((168..=172).contains(&polls), "{polls}");
    }

    fn result(instance: &str, status: InvocationStatus) -> InvocationResult {
        let mut r = InvocationResult::new("t-1", instance);
        r.invocation_status = Some(status);
        r
    }

    #[test]
    fn summary_counts_by_outcome_and_status() {
        let results = vec![
            result("i-1", InvocationStatus::Success),
            result("i-2", InvocationStatus::Failed),
            result("i-3", InvocationStatus::Running),
            result("i-4", InvocationStatus::Cancelled),
            result("i-5", InvocationStatus::Success),
        ];
        let o = WaitOutcome::new(results, 3);
        let s = o.summary();
        assert_eq!(
            (s.total, s.succeeded, s.failed, s.stopped, s.pending),
            (5, 2, 1, 1, 1)
        );
        assert_eq!(s.by_status["Success"], 2);
        assert_eq!(s.finished(), 4);
        assert!(!o.is_complete());
        assert!(o.has_failures());
        assert_eq!(
            s.to_string(),
            "4 of 5 finished: 2 succeeded, 1 failed, 1 stopped"
        );
    }

    #[test]
    fn empty_is_not_complete() {
        let o = WaitOutcome::new(Vec::new(), 1);
        assert!(!o.is_complete() && !o.is_success());
    }
}
