//! Many calls at once: each (region, request) pair is its own stream (a
//! paginator or a watch), all on one client (one connection pool, one retry
//! budget) under one limit on requests in flight, merged into one stream
//! whose items say which pair they came from. A pair that fails ends with
//! its error; the others go on.

use std::collections::BTreeMap;
use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll};

use ecs_model::{DescribeInvocationResultsRequest, InvocationResult};
use futures::stream::{self, BoxStream, SelectAll, Stream, StreamExt as _};

use crate::call::{CallOptions, Caller};
use crate::error::Error;
use crate::limiter::Limiter;
use crate::paginate::DescribeInvocationResultsPaginator;
use crate::wait_outcome::{WaitOutcome, WaitSummary};
use crate::waiter::WaitForInvocation;
use crate::watch::SeenHandle;

/// The default [`FanOut::concurrency`]: 4 requests in flight.
pub const DEFAULT_CONCURRENCY: usize = 4;

/// Where an item of a fan-out came from: a region and a request (its
/// place among the requests given, and its `InvokeId` if it had one).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Source {
    /// The region.
    pub region: String,
    /// The request's place among those given to the fan-out, from 0.
    pub request: usize,
    /// The request's `InvokeId`.
    pub invoke_id: Option<String>,
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.invoke_id {
            Some(id) => write!(f, "{} {id}", self.region),
            None => f.write_str(&self.region),
        }
    }
}

/// One item of a fan-out: a result, or the error that ended its pair's
/// stream.
#[derive(Debug)]
pub struct FanOutItem {
    /// The pair it came from.
    pub source: Source,
    /// The result, or the error that ended the pair's stream.
    pub result: Result<InvocationResult, Error>,
}

/// One (region, request) pair with its region's caller.
type Pair = (Source, Caller, DescribeInvocationResultsRequest);

/// Many regions × many requests as one call; from
/// [`Client::fan_out`](crate::Client::fan_out).
///
/// Without [`region`](Self::region) the client's region is used; without
/// [`request`](Self::request) or [`invoke_id`](Self::invoke_id) one
/// request with no filter.
#[derive(Debug, Clone)]
#[must_use]
pub struct FanOut {
    caller: Caller,
    regions: Vec<String>,
    requests: Vec<DescribeInvocationResultsRequest>,
    concurrency: usize,
}

impl FanOut {
    pub(crate) fn new(caller: Caller) -> Self {
        Self {
            caller,
            regions: Vec::new(),
            requests: Vec::new(),
            concurrency: DEFAULT_CONCURRENCY,
        }
    }

    /// Adds a region (a region given twice counts once).
    pub fn region(mut self, region: impl Into<String>) -> Self {
        let region = region.into();
        if !self.regions.contains(&region) {
            self.regions.push(region);
        }
        self
    }

    /// Adds regions.
    pub fn regions<S: Into<String>>(self, regions: impl IntoIterator<Item = S>) -> Self {
        regions.into_iter().fold(self, Self::region)
    }

    /// Adds a request, run in every region (its `RegionId` is replaced).
    pub fn request(mut self, request: DescribeInvocationResultsRequest) -> Self {
        self.requests.push(request);
        self
    }

    /// Adds a request for one invocation (an id given twice counts once).
    pub fn invoke_id(self, invoke_id: impl Into<String>) -> Self {
        let invoke_id = invoke_id.into();
        if self
            .requests
            .iter()
            .any(|r| r.invoke_id.as_deref() == Some(invoke_id.as_str()))
        {
            return self;
        }
        let mut request = DescribeInvocationResultsRequest::default();
        request.invoke_id = Some(invoke_id);
        self.request(request)
    }

    /// The most requests in flight at once, over every pair (default
    /// [`DEFAULT_CONCURRENCY`]; 0 is refused).
    pub fn concurrency(mut self, limit: usize) -> Self {
        self.concurrency = limit;
        self
    }

    /// The pairs, each with its region's caller, checked.
    fn pairs(&self) -> Result<(Vec<Pair>, CallOptions), Error> {
        if self.concurrency == 0 {
            return Err(Error::invalid_config(&[
                "the concurrency of a fan-out must be at least 1".to_owned(),
            ]));
        }
        let regions = if self.regions.is_empty() {
            match &self.caller.settings().region {
                Some(region) => vec![region.clone()],
                None => {
                    return Err(Error::invalid_config(&[
                        "no region: give the fan-out a region or the client one".to_owned(),
                    ]));
                }
            }
        } else {
            self.regions.clone()
        };
        let requests = if self.requests.is_empty() {
            vec![DescribeInvocationResultsRequest::default()]
        } else {
            self.requests.clone()
        };
        let mut callers = BTreeMap::new();
        for region in &regions {
            callers.insert(region.clone(), self.caller.for_region(region)?);
        }
        let mut pairs = Vec::new();
        for region in &regions {
            for (index, request) in requests.iter().enumerate() {
                let mut request = request.clone();
                request.region_id = Some(region.clone());
                let source = Source {
                    region: region.clone(),
                    request: index,
                    invoke_id: request.invoke_id.clone(),
                };
                let caller = callers
                    .get(region)
                    .cloned()
                    .unwrap_or_else(|| self.caller.clone());
                pairs.push((source, caller, request));
            }
        }
        let options = CallOptions {
            limiter: Some(Limiter::new(self.concurrency)),
            ..CallOptions::default()
        };
        Ok((pairs, options))
    }

    /// Every result of every pair (each paged as
    /// [`DescribeInvocationResultsPaginator::items`] pages).
    ///
    /// # Errors
    /// [`ErrorKind::InvalidConfig`](crate::ErrorKind::InvalidConfig) for a
    /// concurrency of 0, no region, or a malformed region id.
    pub fn results(self) -> Result<FanOutStream, Error> {
        let (pairs, options) = self.pairs()?;
        let streams = pairs.into_iter().map(|(source, caller, request)| {
            let items =
                DescribeInvocationResultsPaginator::new(caller, request, options.clone()).items();
            tag(source, items.boxed())
        });
        Ok(FanOutStream {
            inner: stream::select_all(streams),
            watches: Vec::new(),
        })
    }

    /// Follows the invocation of every pair (see
    /// [`WatchInvocation`](crate::WatchInvocation)), each watch set up by
    /// `configure` (poll interval, timeout, ...). A request's
    /// `InstanceId` and `ContentEncoding` are kept.
    ///
    /// # Errors
    /// As [`results`](Self::results), and
    /// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) for a
    /// request without `InvokeId`.
    pub fn watch(
        self,
        configure: impl Fn(WaitForInvocation) -> WaitForInvocation,
    ) -> Result<FanOutStream, Error> {
        let (pairs, options) = self.pairs()?;
        let mut streams = Vec::new();
        let mut watches = Vec::new();
        for (source, caller, request) in pairs {
            let Some(invoke_id) = request.invoke_id.clone() else {
                return Err(Error::invalid_config(&[
                    "every request of a fan-out watch needs an InvokeId".to_owned(),
                ]));
            };
            let mut waiter =
                WaitForInvocation::new(caller.clone(), invoke_id).region_id(source.region.clone());
            if let Some(instance) = &request.instance_id {
                waiter = waiter.instance_id(instance.clone());
            }
            let waiter = configure(waiter).on_caller(caller, options.clone());
            let mut watch = waiter.watch();
            if let Some(encoding) = request.content_encoding.clone() {
                watch = watch.content_encoding(encoding);
            }
            watches.push((source.clone(), watch.handle()));
            streams.push(tag(source, watch.boxed()));
        }
        Ok(FanOutStream {
            inner: stream::select_all(streams),
            watches,
        })
    }
}

fn tag(
    source: Source,
    items: BoxStream<'static, Result<InvocationResult, Error>>,
) -> BoxStream<'static, FanOutItem> {
    items
        .map(move |result| FanOutItem {
            source: source.clone(),
            result,
        })
        .boxed()
}

/// The merged stream of a fan-out; ends when every pair's stream has.
pub struct FanOutStream {
    inner: SelectAll<BoxStream<'static, FanOutItem>>,
    watches: Vec<(Source, SeenHandle)>,
}

impl fmt::Debug for FanOutStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FanOutStream")
            .field("streams", &self.inner.len())
            .finish_non_exhaustive()
    }
}

impl FanOutStream {
    /// A watch fan-out: the counts over every pair of the latest records
    /// seen (empty for a results fan-out).
    pub fn summary(&self) -> WaitSummary {
        let mut all = WaitSummary::default();
        for (_, seen) in &self.watches {
            let s = seen.summary();
            all.total += s.total;
            all.succeeded += s.succeeded;
            all.failed += s.failed;
            all.stopped += s.stopped;
            all.pending += s.pending;
            for (status, count) in s.by_status {
                *all.by_status.entry(status).or_default() += count;
            }
        }
        all
    }

    /// A watch fan-out: each pair's outcome (`None` for a pair that has not
    /// ended, or ended with an error).
    pub fn outcomes(&self) -> Vec<(Source, Option<WaitOutcome>)> {
        self.watches
            .iter()
            .map(|(source, seen)| (source.clone(), seen.outcome()))
            .collect()
    }
}

impl Stream for FanOutStream {
    type Item = FanOutItem;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.inner.poll_next_unpin(cx)
    }
}
