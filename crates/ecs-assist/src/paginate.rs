//! Paginator streams: every page or every result as a `futures::Stream`,
//! one page in memory at a time, driving the model's sans-IO paginator.

use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll};

use ecs_model::{
    ContentEncoding, DescribeInvocationResultsRequest, DescribeInvocationResultsResponse,
    InvocationResult, PageStyle, Paginator, PaginatorPosition,
};
use futures::stream::{self, BoxStream, Stream, StreamExt as _, TryStreamExt as _};

use crate::Error;
use crate::client::{CallOptions, Client};

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
    client: Client,
    request: DescribeInvocationResultsRequest,
    options: CallOptions,
    style: PageStyle,
    max_items: Option<u64>,
    resume: Option<PaginatorPosition>,
}

impl DescribeInvocationResultsPaginator {
    pub(crate) fn new(
        client: Client,
        request: DescribeInvocationResultsRequest,
        options: CallOptions,
    ) -> Self {
        Self {
            client,
            request,
            options,
            style: PageStyle::Token,
            max_items: None,
            resume: None,
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
            client: self.client,
            options: self.options,
            paginator,
            encoding,
        };
        let inner = stream::try_unfold(state, |mut state| async move {
            let Some(request) = state.paginator.next_request().map_err(Error::pagination)? else {
                return Ok(None);
            };
            let response = state.client.execute(request, &state.options).await?;
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
    client: Client,
    options: CallOptions,
    paginator: Paginator,
    encoding: ContentEncoding,
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
