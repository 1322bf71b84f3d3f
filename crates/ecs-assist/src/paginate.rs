//! Paginator streams: every page or every result as a `futures::Stream`,
//! one page in memory at a time, driving the model's sans-IO paginator.

use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll};

use ecs_model::{
    ContentEncoding, DescribeInvocationResultsRequest, DescribeInvocationResultsResponse,
    InvocationResult, PageStyle, Paginator, PaginatorPosition,
};
use futures::future::{self, BoxFuture, FutureExt as _};
use futures::stream::{self, BoxStream, Stream, StreamExt as _, TryStreamExt as _};

use crate::call::{CallOptions, Caller, Undecoded};
use crate::error::Error;

/// Configures paging over a query; from
/// [`DescribeInvocationResults::into_paginator`](crate::DescribeInvocationResults::into_paginator).
///
/// Token paging (`MaxResults`/`NextToken`) by default, 50 results a page
/// unless the request sets `MaxResults`/`PageSize`. Results already yielded
/// are never yielded again; a service that repeats a token or a page ends
/// the stream with [`ErrorKind::PaginationStalled`](crate::ErrorKind::PaginationStalled).
#[derive(Debug, Clone)]
#[must_use]
pub struct DescribeInvocationResultsPaginator {
    caller: Caller,
    request: DescribeInvocationResultsRequest,
    options: CallOptions,
    style: PageStyle,
    max_items: Option<u64>,
    resume: Option<PaginatorPosition>,
    read_ahead: bool,
}

impl DescribeInvocationResultsPaginator {
    pub(crate) fn new(
        caller: Caller,
        request: DescribeInvocationResultsRequest,
        options: CallOptions,
    ) -> Self {
        Self {
            caller,
            request,
            options,
            style: PageStyle::Token,
            max_items: None,
            resume: None,
            read_ahead: true,
        }
    }

    /// Token paging (default) or page-number paging.
    pub fn page_style(mut self, style: PageStyle) -> Self {
        self.style = style;
        self
    }

    /// Stops after `max_items` results in total.
    pub fn max_items(mut self, max_items: u64) -> Self {
        self.max_items = Some(max_items);
        self
    }

    /// Continues from a position saved from [`Page::position`] (its style
    /// wins over [`page_style`](Self::page_style)).
    pub fn resume_from(mut self, position: PaginatorPosition) -> Self {
        self.resume = Some(position);
        self
    }

    /// Asks for the next page while it decodes this one (on by default;
    /// `read_ahead(false)` pages lazily, one request at a time, each sent
    /// only when the stream is polled past the page before).
    ///
    /// With token paging, the paginator finds the page's `NextToken` by a
    /// scan of the body, sends the next request, and only then decodes the
    /// page, so decoding overlaps the service's time instead of adding to
    /// it. A next page is asked for only when the page names a `NextToken`:
    /// the last page costs nothing more. The decoded page stays the truth:
    /// the answer read ahead is used only if the request it answers is the
    /// one paging needs next, and is dropped otherwise. Results, order and
    /// errors are the same either way.
    ///
    /// The cost: a stream dropped before its end (say after `take(n)`) may
    /// leave one request sent that nobody reads; and an answer waits for
    /// the stream to be polled, so a consumer that stalls for longer than
    /// the attempt timeout pays one more request. Nothing is read ahead with
    /// a [`max_items`](Self::max_items) limit (set it rather than `take(n)`)
    /// or page-number paging.
    pub fn read_ahead(mut self, read_ahead: bool) -> Self {
        self.read_ahead = read_ahead;
        self
    }

    /// Every page, each with the position to resume after it.
    pub fn pages(self) -> PageStream {
        let encoding = self.request.effective_content_encoding();
        let mut paginator = match self.resume {
            Some(position) => Paginator::resume(self.request, position),
            None => Paginator::new(self.request, self.style),
        };
        if let Some(max) = self.max_items {
            paginator = paginator.with_max_items(max);
        }
        let state = State {
            caller: self.caller,
            options: self.options,
            paginator,
            encoding,
            read_ahead: self.read_ahead,
            ahead: None,
        };
        let inner = stream::try_unfold(state, |mut state| async move {
            let Some(request) = state.paginator.next_request().map_err(Error::pagination)? else {
                return Ok(None);
            };
            let answer = match state.ahead.take() {
                Some(ahead) if ahead.request == request => ahead.answer.await?,
                _ => state.caller.send(request, &state.options).await?,
            };
            if state.read_ahead {
                state.start_next(&answer).await;
            }
            let response = answer.decode()?;
            let response = state
                .paginator
                .handle_page(response)
                .map_err(Error::pagination)?;
            let page = Page {
                response,
                position: state.paginator.position(),
                encoding: state.encoding.clone(),
            };
            Ok(Some((page, state)))
        });
        PageStream {
            inner: inner.boxed(),
        }
    }

    /// Every result, in order.
    pub fn items(self) -> ItemStream {
        let inner = self
            .pages()
            .map_ok(|page| stream::iter(page.response.invocation.results.into_iter().map(Ok)))
            .try_flatten();
        ItemStream {
            inner: inner.boxed(),
        }
    }
}

struct State {
    caller: Caller,
    options: CallOptions,
    paginator: Paginator,
    encoding: ContentEncoding,
    read_ahead: bool,
    ahead: Option<Ahead>,
}

/// Returns `Pending` once, waking itself: the executor runs what is ready
/// before it polls this task again.
async fn yield_once() {
    let mut yielded = false;
    future::poll_fn(|cx| {
        if yielded {
            return Poll::Ready(());
        }
        yielded = true;
        cx.waker().wake_by_ref();
        Poll::Pending
    })
    .await;
}

/// A request sent ahead of its turn, and its answer to come.
struct Ahead {
    request: DescribeInvocationResultsRequest,
    answer: BoxFuture<'static, Result<Undecoded, Error>>,
}

impl State {
    /// Sends the request that follows `answer`'s page if its `NextToken`
    /// is found without decoding the page.
    async fn start_next(&mut self, answer: &Undecoded) {
        let Some(request) = answer
            .peek_next_token()
            .and_then(|token| self.paginator.request_after(token))
        else {
            return;
        };
        let caller = self.caller.clone();
        let options = self.options.clone();
        let sent = request.clone();
        let mut pending = async move { caller.send(sent, &options).await }.boxed();
        // One poll signs the request and hands it to the transport, which
        // sends it while this task decodes the page.
        let mut polled = futures::poll!(pending.as_mut());
        if polled.is_pending() {
            // Let the executor run what is ready (the task that writes the
            // request, the one that returns the last connection to the pool)
            // and poll again: a work-stealing executor keeps a task just
            // woken on this thread, and a request still waiting for a pooled
            // connection moves only when polled.
            yield_once().await;
            polled = futures::poll!(pending.as_mut());
        }
        let answer = match polled {
            Poll::Ready(result) => future::ready(result).boxed(),
            Poll::Pending => pending,
        };
        self.ahead = Some(Ahead { request, answer });
    }
}

/// One page: the response (duplicates of earlier pages removed) and where
/// paging stands after it.
#[derive(Debug, Clone)]
pub struct Page {
    response: DescribeInvocationResultsResponse,
    position: PaginatorPosition,
    encoding: ContentEncoding,
}

impl Page {
    /// The results of this page.
    pub fn results(&self) -> &[InvocationResult] {
        &self.response.invocation.results
    }

    /// The page's `RequestId`.
    pub fn request_id(&self) -> &str {
        &self.response.request_id
    }

    /// The position after this page: save it to resume with
    /// [`DescribeInvocationResultsPaginator::resume_from`].
    pub fn position(&self) -> &PaginatorPosition {
        &self.position
    }

    /// The encoding of `Output` in these results.
    pub fn content_encoding(&self) -> &ContentEncoding {
        &self.encoding
    }

    /// The response.
    pub fn response(&self) -> &DescribeInvocationResultsResponse {
        &self.response
    }

    /// The response, owned.
    pub fn into_response(self) -> DescribeInvocationResultsResponse {
        self.response
    }
}

/// A stream of [`Page`]s; ends after the last page or the first error.
pub struct PageStream {
    inner: BoxStream<'static, Result<Page, Error>>,
}

impl fmt::Debug for PageStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PageStream").finish_non_exhaustive()
    }
}

impl Stream for PageStream {
    type Item = Result<Page, Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.inner.poll_next_unpin(cx)
    }
}

/// A stream of [`InvocationResult`]s; ends after the last one or the first
/// error.
pub struct ItemStream {
    inner: BoxStream<'static, Result<InvocationResult, Error>>,
}

impl fmt::Debug for ItemStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ItemStream").finish_non_exhaustive()
    }
}

impl Stream for ItemStream {
    type Item = Result<InvocationResult, Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.inner.poll_next_unpin(cx)
    }
}
