//! The watch stream: each instance's result of an invocation, yielded once,
//! as soon as a poll sees it final; the stream ends when none is running.
//! The decisions (interval, what left the running set, what to fetch) are
//! `watch_plan.rs`'s; this module makes the requests.

use std::collections::{HashSet, VecDeque};
use std::fmt;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use ecs_model::{
    ContentEncoding, DescribeInvocationResultsRequest, InvocationResult, InvokeRecordStatus,
    PageStyle,
};
use futures::stream::{self, BoxStream, Stream, StreamExt as _, TryStreamExt as _};
use time::OffsetDateTime;

use crate::call::Caller;
use crate::error::Error;
use crate::paginate::DescribeInvocationResultsPaginator;
use crate::wait_outcome::{WaitOutcome, WaitSummary};
use crate::waiter::{WaitForInvocation, WaitPlan};
use crate::watch_plan::{Cadence, Fetch, PAGE_LIMIT, Tracker, pages};

/// How many fetches of records that left the running set one watch has
/// in flight at once (a client-wide limit applies on top, in a fan-out).
const FETCHES_IN_FLIGHT: usize = 4;

/// What a watch has seen so far; shared between the stream and its reader.
#[derive(Debug, Default)]
struct Seen {
    summary: WaitSummary,
    outcome: Option<WaitOutcome>,
    polls: u32,
}

impl WaitForInvocation {
    /// Follows the invocation instead: a stream of each instance's result
    /// as it finishes, with these settings; see [`WatchInvocation`].
    pub fn watch(self) -> WatchInvocation {
        WatchInvocation::new(self)
    }
}

/// A view of a watch's [`Seen`], kept by whoever drives the stream.
#[derive(Debug, Clone)]
pub(crate) struct SeenHandle(Arc<Mutex<Seen>>);

impl SeenHandle {
    pub(crate) fn summary(&self) -> WaitSummary {
        self.0.lock().map(|s| s.summary.clone()).unwrap_or_default()
    }

    pub(crate) fn outcome(&self) -> Option<WaitOutcome> {
        self.0.lock().ok().and_then(|s| s.outcome.clone())
    }
}

/// Follows an invocation: a `futures::Stream` of each instance's
/// [`InvocationResult`], yielded once, the moment a poll sees it in a
/// final state; from
/// [`Client::watch_invocation`](crate::Client::watch_invocation) or
/// [`WaitForInvocation::watch`].
///
/// The settings are the waiter's (timeout, first and longest poll
/// interval, not-found grace, fail-fast, instances; set them with
/// [`configure`](Self::configure) before the first poll). The interval
/// starts at the poll interval, doubles up to the longest while nothing
/// finishes, and drops back when something does.
///
/// The stream ends when no instance is running (or at the first failure
/// with fail-fast); [`outcome`](Self::outcome) then holds the summary. It
/// ends with one error when the timeout passes
/// ([`ErrorKind::WaitTimeout`](crate::ErrorKind::WaitTimeout), holding the
/// last state seen), when no result appears within the grace period
/// ([`ErrorKind::NotFound`](crate::ErrorKind::NotFound)), or at a poll's
/// error that retries did not cure.
///
/// Cost: the first poll lists every result; each later poll lists only the
/// records still running (`InvokeRecordStatus=Running`) and fetches the
/// final record of each instance that left that set once: alone, or with
/// its neighbours as one page when at least half of that page left too. A
/// finished result's output is downloaded once, not once per poll. When
/// instances finish scattered over the listing, that is a request per
/// finished result; [`WaitForInvocation::fewer_requests`] trades the
/// downloads for requests (at most about a waiter's).
#[must_use = "a stream does nothing unless polled"]
pub struct WatchInvocation {
    waiter: Option<WaitForInvocation>,
    encoding: Option<ContentEncoding>,
    seen: Arc<Mutex<Seen>>,
    inner: Option<BoxStream<'static, Result<InvocationResult, Error>>>,
}

impl fmt::Debug for WatchInvocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WatchInvocation")
            .field("waiter", &self.waiter)
            .field("started", &self.inner.is_some())
            .finish_non_exhaustive()
    }
}

impl WatchInvocation {
    pub(crate) fn new(waiter: WaitForInvocation) -> Self {
        Self {
            waiter: Some(waiter),
            encoding: None,
            seen: Arc::default(),
            inner: None,
        }
    }

    /// Applies any waiter setting (before the first poll; afterwards it
    /// changes nothing).
    pub fn configure(mut self, f: impl FnOnce(WaitForInvocation) -> WaitForInvocation) -> Self {
        self.waiter = self.waiter.take().map(f);
        self
    }

    /// How the service encodes `Output` (default Base64).
    pub fn content_encoding(mut self, encoding: ContentEncoding) -> Self {
        self.encoding = Some(encoding);
        self
    }

    /// The counts of the latest records seen (all instances, finished or
    /// not).
    pub fn summary(&self) -> WaitSummary {
        self.handle().summary()
    }

    /// How many polls were made so far.
    pub fn polls(&self) -> u32 {
        self.seen.lock().map(|s| s.polls).unwrap_or_default()
    }

    /// After the stream ended without an error: every instance's final
    /// record and their summary.
    pub fn outcome(&self) -> Option<WaitOutcome> {
        self.handle().outcome()
    }

    /// A view of what this watch has seen that outlives moving the stream.
    pub(crate) fn handle(&self) -> SeenHandle {
        SeenHandle(Arc::clone(&self.seen))
    }

    fn start(&mut self) -> BoxStream<'static, Result<InvocationResult, Error>> {
        let Some(waiter) = self.waiter.take() else {
            return stream::empty().boxed();
        };
        let plan = match waiter.into_plan() {
            Ok(plan) => plan,
            Err(e) => return stream::once(async move { Err(e) }).boxed(),
        };
        let watch = Watch::new(plan, self.encoding.clone(), Arc::clone(&self.seen));
        let span = tracing::info_span!("ecs_assist.watch", invoke_id = %watch.plan.invoke_id);
        stream::unfold(watch, |mut watch| async move {
            loop {
                if let Some(item) = watch.queue.pop_front() {
                    return Some((item, watch));
                }
                if watch.done {
                    return None;
                }
                watch.poll().await;
            }
        })
        .map(move |item| {
            let _entered = span.enter();
            item
        })
        .boxed()
    }
}

impl Stream for WatchInvocation {
    type Item = Result<InvocationResult, Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.inner.is_none() {
            let inner = self.start();
            self.inner = Some(inner);
        }
        match self.inner.as_mut() {
            Some(inner) => inner.poll_next_unpin(cx),
            None => Poll::Ready(None),
        }
    }
}

/// The state of a running watch.
struct Watch {
    plan: WaitPlan,
    encoding: Option<ContentEncoding>,
    tracker: Tracker,
    cadence: Cadence,
    start: OffsetDateTime,
    polls: u32,
    queue: VecDeque<Result<InvocationResult, Error>>,
    done: bool,
    seen: Arc<Mutex<Seen>>,
    /// Polls list every result again (with
    /// [`fewer_requests`](WaitForInvocation::fewer_requests), while that
    /// takes fewer requests than the running set and its fetches).
    relisting: bool,
}

impl Watch {
    fn new(plan: WaitPlan, encoding: Option<ContentEncoding>, seen: Arc<Mutex<Seen>>) -> Self {
        let only = if plan.instance_ids.len() > 1 {
            plan.instance_ids.clone()
        } else {
            Vec::new()
        };
        Self {
            cadence: Cadence::new(plan.interval, plan.max_interval),
            start: plan.caller.now(),
            tracker: Tracker::new(only),
            encoding,
            plan,
            polls: 0,
            queue: VecDeque::new(),
            done: false,
            seen,
            relisting: false,
        }
    }

    fn elapsed(&self) -> Duration {
        // A clock that went backwards reads as no time elapsed.
        Duration::try_from(self.plan.caller.now() - self.start).unwrap_or_default()
    }

    /// The request every call starts from: the invocation, the region, the
    /// one instance asked for, the encoding.
    fn base(&self) -> DescribeInvocationResultsRequest {
        let mut request = DescribeInvocationResultsRequest::default();
        request.invoke_id = Some(self.plan.invoke_id.clone());
        request.region_id.clone_from(&self.plan.region_id);
        if let [only] = self.plan.instance_ids.as_slice() {
            request.instance_id = Some(only.clone());
        }
        request.content_encoding.clone_from(&self.encoding);
        request
    }

    fn paginate(
        &self,
        request: DescribeInvocationResultsRequest,
        style: PageStyle,
    ) -> DescribeInvocationResultsPaginator {
        DescribeInvocationResultsPaginator::new(
            self.plan.caller.clone(),
            request,
            self.plan.options.clone(),
        )
        .page_style(style)
    }

    /// Every result, in the order of the numbered pages that windows use.
    async fn list_all(&self) -> Result<Vec<InvocationResult>, Error> {
        let mut request = self.base();
        request.page_size = Some(PAGE_LIMIT as i64);
        self.paginate(request, PageStyle::Number)
            .items()
            .try_collect()
            .await
    }

    /// Every result again (positions are the first listing's): by
    /// NextToken, which needs no empty page to see the end.
    async fn relist(&self) -> Result<Vec<InvocationResult>, Error> {
        let mut request = self.base();
        request.max_results = Some(PAGE_LIMIT as i64);
        self.paginate(request, PageStyle::Token)
            .items()
            .try_collect()
            .await
    }

    /// The records still running.
    async fn list_running(&self) -> Result<Vec<InvocationResult>, Error> {
        let mut request = self.base();
        request.invoke_record_status = Some(InvokeRecordStatus::Running);
        request.max_results = Some(PAGE_LIMIT as i64);
        self.paginate(request, PageStyle::Token)
            .items()
            .try_collect()
            .await
    }

    /// One fetch of records that left the running set.
    async fn fetch(
        caller: Caller,
        options: crate::call::CallOptions,
        mut request: DescribeInvocationResultsRequest,
        fetch: Fetch,
    ) -> Result<Vec<InvocationResult>, Error> {
        match fetch {
            Fetch::Instance(id) => request.instance_id = Some(id),
            Fetch::Window {
                page_number,
                page_size,
                ..
            } => {
                request.page_number = Some(i64::try_from(page_number).unwrap_or(i64::MAX));
                request.page_size = Some(i64::try_from(page_size).unwrap_or(i64::MAX));
            }
        }
        Ok(caller.execute(request, &options).await?.invocation.results)
    }

    /// Fetches `fetches`, a few at a time, in order.
    async fn fetch_all(&self, fetches: Vec<Fetch>) -> Result<Vec<InvocationResult>, Error> {
        let base = self.base();
        let caller = self.plan.caller.clone();
        let options = self.plan.options.clone();
        let answers: Vec<Vec<InvocationResult>> = stream::iter(fetches)
            .map(|fetch| Self::fetch(caller.clone(), options.clone(), base.clone(), fetch))
            .buffered(FETCHES_IN_FLIGHT)
            .try_collect()
            .await?;
        Ok(answers.into_iter().flatten().collect())
    }

    /// The fetched records that are the final records of running instances.
    fn read_fetched(&mut self, fetched: Vec<InvocationResult>) -> Vec<InvocationResult> {
        fetched
            .into_iter()
            .filter_map(|record| self.tracker.read_fetched(record))
            .collect()
    }

    /// One poll; queues what finished and, at the end, the outcome.
    async fn poll(&mut self) {
        if self.polls > 0 {
            let left = self.plan.timeout.saturating_sub(self.elapsed());
            self.plan
                .caller
                .sleep(self.cadence.current().min(left))
                .await;
        }
        self.polls = self.polls.saturating_add(1);
        let finished = match self.poll_once().await {
            Ok(finished) => finished,
            Err(e) => {
                self.end(Err(e));
                return;
            }
        };
        // The first listing counts as a change: the interval after it is
        // the configured one.
        let changed = !finished.is_empty() || self.polls == 1;
        self.queue.extend(finished.into_iter().map(Ok));
        self.cadence.after_poll(changed);
        let summary = self.tracker.summary();
        // The records are copied into an outcome only when one is needed:
        // for the progress callback, or at the end.
        let outcome = || WaitOutcome::new(self.tracker.records(), self.polls);
        if let Some(progress) = &self.plan.progress {
            progress(&outcome());
        }
        if let Ok(mut seen) = self.seen.lock() {
            seen.summary = summary.clone();
            seen.polls = self.polls;
        }
        tracing::debug!(
            polls = self.polls,
            total = summary.total,
            finished = summary.finished(),
            failed = summary.failed,
            "watch poll"
        );
        if self.tracker.listed() && self.tracker.running() == 0 {
            let outcome = outcome();
            self.end(Ok(outcome));
            return;
        }
        if self.plan.fail_fast && summary.failed > 0 {
            let outcome = outcome().stopped_early_at_failure();
            self.end(Ok(outcome));
            return;
        }
        let now = self.elapsed();
        if !self.tracker.listed() && now >= self.plan.grace {
            self.end(Err(Error::not_found(&self.plan.invoke_id, now)));
            return;
        }
        if now >= self.plan.timeout {
            let error = Error::wait_timeout(self.plan.timeout, now, outcome());
            self.end(Err(error));
        }
    }

    /// The records that became final in this poll, in listing order.
    async fn poll_once(&mut self) -> Result<Vec<InvocationResult>, Error> {
        if !self.tracker.listed() {
            return match self.list_all().await {
                Ok(all) => Ok(self.tracker.read_listing(all)),
                Err(e)
                    if e.code()
                        .is_some_and(|c| c.starts_with("InvalidInvokeId.NotFound")) =>
                {
                    Ok(Vec::new())
                }
                Err(e) => Err(e),
            };
        }
        if self.relisting {
            let (finished, fetches) = self.tracker.read_relisting(self.relist().await?);
            // Back to the running set when it, with the fetches this poll
            // would have needed, takes fewer requests than a full listing.
            self.relisting =
                pages(self.tracker.running()).saturating_add(fetches) >= self.tracker.full_pages();
            return Ok(finished);
        }
        let running = self.list_running().await?;
        let running_pages = pages(running.len());
        let left = self.tracker.read_running(running);
        if left.is_empty() {
            return Ok(Vec::new());
        }
        let plan = self.tracker.plan(&left);
        if self.plan.fewer_requests {
            let full = self.tracker.full_pages();
            // The next polls list everything while that is cheaper than
            // the running set and its fetches.
            self.relisting = running_pages.saturating_add(plan.len()) > full;
            if plan.len() > full {
                // Listing everything again is cheaper than these fetches.
                return Ok(self.tracker.read_relisting(self.relist().await?).0);
            }
        }
        let expected: Vec<String> = plan
            .iter()
            .flat_map(|fetch| match fetch {
                Fetch::Window { expect, .. } => expect.clone(),
                Fetch::Instance(_) => Vec::new(),
            })
            .collect();
        let fetched = self.fetch_all(plan).await?;
        // A page that did not bring an instance it was expected to (the
        // listing moved): that instance is fetched alone.
        let brought: HashSet<&str> = fetched.iter().map(|r| r.instance_id.as_str()).collect();
        let strays: Vec<Fetch> = expected
            .into_iter()
            .filter(|id| !brought.contains(id.as_str()))
            .map(Fetch::Instance)
            .collect();
        let mut finished = self.read_fetched(fetched);
        if !strays.is_empty() {
            let more = self.fetch_all(strays).await?;
            finished.extend(self.read_fetched(more));
        }
        Ok(finished)
    }

    fn end(&mut self, outcome: Result<WaitOutcome, Error>) {
        self.done = true;
        match outcome {
            Ok(outcome) => {
                if let Ok(mut seen) = self.seen.lock() {
                    seen.summary = outcome.summary().clone();
                    seen.outcome = Some(outcome);
                }
            }
            Err(e) => self.queue.push_back(Err(e)),
        }
    }
}
