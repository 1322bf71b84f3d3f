//! A sans-IO paginator: it says which request to send next and reads each
//! page back; the caller does the IO.
//!
//! The API pages two ways: by `MaxResults` and `NextToken` (an empty or
//! missing `NextToken` ends the results), and, deprecated, by `PageNumber` and
//! `PageSize` (with `TotalCount`).

mod window;

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::request::{DescribeInvocationResultsRequest, MAX_PAGE_SIZE};
use crate::response::DescribeInvocationResultsResponse;
use window::Seen;

pub use window::DEDUP_WINDOW_RESULTS;

/// How pages are requested.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub enum PageStyle {
    /// `MaxResults` / `NextToken` (the current API; the default).
    #[default]
    Token,
    /// `PageNumber` / `PageSize` (deprecated; `TotalCount` is meaningful).
    Number,
}

/// Where a paginator stands (its `position()`), so that a caller can stop
/// and resume later from the same place: `Paginator::resume` (the sans-IO
/// paginator of `ecs-model`) takes it back, and so does `resume_from` on the
/// paginators of the `ecs-assist` client. Serializable for storage.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaginatorPosition {
    /// Paging style in use.
    pub style: PageStyle,
    /// Token of the next page (token paging).
    pub next_token: Option<String>,
    /// Number of the next page (page-number paging, from 1).
    pub page_number: i64,
    /// Results yielded so far (counts against the max-items limit).
    pub items_yielded: u64,
    /// Whether there is nothing left to fetch.
    pub finished: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum State {
    Ready,
    Finished,
    Failed(PaginationError),
}

/// A sans-IO state machine over the pages of one query.
///
/// ```
/// use ecs_model::{DescribeInvocationResultsRequest, DescribeInvocationResultsResponse, Paginator, PageStyle};
/// # fn send(_: &DescribeInvocationResultsRequest) -> DescribeInvocationResultsResponse { Default::default() }
/// let request = DescribeInvocationResultsRequest::builder().region_id("cn-hangzhou").build();
/// let mut paginator = Paginator::new(request, PageStyle::Token).with_max_items(500);
/// while let Some(request) = paginator.next_request()? {
///     let page = paginator.handle_page(send(&request))?;
///     for result in &page.invocation.results {
///         let _ = &result.instance_id; // each record at most once
///     }
/// }
/// # Ok::<(), ecs_model::PaginationError>(())
/// ```
///
/// It stops on an empty or missing `NextToken`, an empty page, or (page-number
/// paging) a page shorter than the page size when `TotalCount` says nothing
/// follows, and after the max-items limit. A server that repeats a token, or
/// answers a page whose results were all already yielded, stops it with a
/// [`PaginationError`] instead of looping.
///
/// A result is a duplicate, and dropped, only when it equals a result already
/// yielded in every field: a page re-served after the results shifted is
/// filtered, while the history runs of a periodic invocation (same
/// `InvokeId`, `InstanceId` and `Repeats`, different times or output) all
/// come out.
///
/// Memory is bounded: duplicates are filtered against fingerprints of the
/// last [`DEDUP_WINDOW_RESULTS`] results, and every page and token is
/// remembered as a 16-byte fingerprint, so a cycle of any length (the same
/// token, or the same page under new tokens) is found before a result is
/// yielded twice; a million results (20,000 pages) cost under 1 MB. A
/// duplicate older than the result window on a page that is not itself a
/// repeat (a server shifting its results by more than `DEDUP_WINDOW_RESULTS`)
/// is not detected.
#[derive(Debug, Clone)]
pub struct Paginator {
    base: DescribeInvocationResultsRequest,
    style: PageStyle,
    page_size: i64,
    next_token: Option<String>,
    page_number: i64,
    max_items: Option<u64>,
    yielded: u64,
    pages: u64,
    duplicates: u64,
    state: State,
    seen: Seen,
}

impl Paginator {
    /// A paginator over `request`'s query. The page size is the request's
    /// `MaxResults` or `PageSize` (clamped to 1..=50), else 50. A
    /// `NextToken` or `PageNumber` already in the request is the start.
    pub fn new(request: DescribeInvocationResultsRequest, style: PageStyle) -> Self {
        let page_size = request
            .max_results
            .or(request.page_size)
            .unwrap_or(MAX_PAGE_SIZE)
            .clamp(1, MAX_PAGE_SIZE);
        let next_token = request.next_token.clone().filter(|t| !t.is_empty());
        let page_number = request.page_number.unwrap_or(1).max(1);
        Self {
            base: request,
            style,
            page_size,
            next_token,
            page_number,
            max_items: None,
            yielded: 0,
            pages: 0,
            duplicates: 0,
            state: State::Ready,
            seen: Seen::default(),
        }
    }

    /// A paginator continuing from `position` (see [`Paginator::position`]).
    /// The duplicate window starts empty.
    pub fn resume(request: DescribeInvocationResultsRequest, position: PaginatorPosition) -> Self {
        let mut paginator = Self::new(request, position.style);
        paginator.next_token = position.next_token.filter(|t| !t.is_empty());
        paginator.page_number = position.page_number.max(1);
        paginator.yielded = position.items_yielded;
        if position.finished {
            paginator.state = State::Finished;
        }
        paginator
    }

    /// Stops after `max_items` results in total.
    #[must_use]
    pub fn with_max_items(mut self, max_items: u64) -> Self {
        self.max_items = Some(max_items);
        if self.yielded >= max_items {
            self.state = State::Finished;
        }
        self
    }

    /// The request for the next page, `Ok(None)` when paging is complete.
    /// Calling it again before [`handle_page`](Self::handle_page) gives the
    /// same request (so a failed call can be retried).
    ///
    /// # Errors
    /// The [`PaginationError`] that stopped paging (repeated token or page).
    pub fn next_request(
        &self,
    ) -> Result<Option<DescribeInvocationResultsRequest>, PaginationError> {
        match &self.state {
            State::Finished => return Ok(None),
            State::Failed(error) => return Err(error.clone()),
            State::Ready => {}
        }
        let size = match self.max_items {
            Some(max) => {
                let remaining = max.saturating_sub(self.yielded);
                i64::try_from(remaining)
                    .unwrap_or(i64::MAX)
                    .clamp(1, self.page_size)
            }
            None => self.page_size,
        };
        Ok(Some(self.request(size, self.next_token.clone())))
    }

    /// The request [`next_request`](Self::next_request) would give after the
    /// page just requested, if that page ends with `next_token` and yields at
    /// least one new result: a caller can send it while it decodes the page
    /// (reading ahead), then use the answer only if the real next request,
    /// after [`handle_page`](Self::handle_page), is equal to it.
    ///
    /// `None` when reading ahead cannot pay off: page-number paging, a
    /// max-items limit (the next page's size depends on the page), paging
    /// already stopped, an empty token, or a token this paginator has sent
    /// (the page would stop it as repeated).
    pub fn request_after(&self, next_token: &str) -> Option<DescribeInvocationResultsRequest> {
        let token = next_token.trim();
        let usable = self.state == State::Ready
            && self.style == PageStyle::Token
            && self.max_items.is_none()
            && !token.is_empty()
            && self.next_token.as_deref() != Some(token)
            && !self.seen.has_token(token);
        usable.then(|| self.request(self.page_size, Some(token.to_owned())))
    }

    /// The request for a page of `size` results after `next_token` (token
    /// paging) or of the current page number.
    fn request(&self, size: i64, next_token: Option<String>) -> DescribeInvocationResultsRequest {
        let mut request = self.base.clone();
        match self.style {
            PageStyle::Token => {
                request.page_number = None;
                request.page_size = None;
                request.max_results = Some(size);
                request.next_token = next_token;
            }
            PageStyle::Number => {
                request.max_results = None;
                request.next_token = None;
                request.page_number = Some(self.page_number);
                // The page size must stay fixed for page numbers to line up.
                request.page_size = Some(self.page_size);
            }
        }
        request
    }

    /// Feeds back the response to the last [`next_request`](Self::next_request)
    /// and returns it with results already yielded removed (and cut to the
    /// max-items limit), each marked with the request's `ContentEncoding`
    /// (see [`InvocationResult::content_encoding`](crate::InvocationResult::content_encoding)).
    ///
    /// # Errors
    /// [`PaginationError::is_finished`] when paging had already stopped.
    pub fn handle_page(
        &mut self,
        mut page: DescribeInvocationResultsResponse,
    ) -> Result<DescribeInvocationResultsResponse, PaginationError> {
        match &self.state {
            State::Ready => {}
            State::Finished | State::Failed(_) => return Err(PaginationError::finished()),
        }
        self.pages += 1;
        page.invocation
            .set_content_encoding(&self.base.effective_content_encoding());
        let received = page.invocation.results.len();
        if !self.seen.insert_page(&page.invocation.results) {
            // Every result of an equal page was yielded (or dropped as a
            // duplicate) before: the server is going round.
            self.duplicates += received as u64;
            page.invocation.results.clear();
            self.state = State::Failed(PaginationError::repeated_page(self.pages, self.style));
            return Ok(page);
        }
        self.seen.retain_new(&mut page.invocation.results);
        let fresh = page.invocation.results.len();
        self.duplicates += (received - fresh) as u64;

        if let Some(max) = self.max_items {
            let remaining = usize::try_from(max.saturating_sub(self.yielded)).unwrap_or(usize::MAX);
            page.invocation.results.truncate(remaining);
        }
        self.yielded += page.invocation.results.len() as u64;
        if self.max_items.is_some_and(|max| self.yielded >= max) {
            self.state = State::Finished;
            return Ok(page);
        }
        if received == 0 {
            self.state = State::Finished;
            return Ok(page);
        }
        if fresh == 0 {
            self.state = State::Failed(PaginationError::repeated_page(self.pages, self.style));
            return Ok(page);
        }
        match self.style {
            PageStyle::Token => self.advance_token(&page),
            PageStyle::Number => self.advance_number(&page, received),
        }
        Ok(page)
    }

    fn advance_token(&mut self, page: &DescribeInvocationResultsResponse) {
        let token = page
            .invocation
            .next_token
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty());
        let Some(token) = token else {
            self.state = State::Finished;
            return;
        };
        if let Some(sent) = &self.next_token {
            self.seen.insert_token(sent);
        }
        if self.seen.has_token(token) {
            self.state = State::Failed(PaginationError::repeated_token(token, self.pages));
            return;
        }
        self.next_token = Some(token.to_owned());
    }

    /// Page-number paging goes on after a full page whatever `TotalCount`
    /// says (results may have been added since it was counted), and after a
    /// short page when `TotalCount` says more follow; it stops only on a short
    /// page that `TotalCount` agrees is the last. An empty page (handled
    /// before) always stops it, so a server that overstates `TotalCount`
    /// costs one request more, never a loop.
    fn advance_number(&mut self, page: &DescribeInvocationResultsResponse, received: usize) {
        // The server may serve smaller pages than asked; it says so in
        // `PageSize`. A page is full when it holds as many as either size.
        let served_size = match page.invocation.page_size {
            size if size > 0 => size.min(self.page_size),
            _ => self.page_size,
        };
        let total = page.invocation.total_count;
        let full = i64::try_from(received).unwrap_or(i64::MAX) >= served_size;
        let more_counted = total > 0 && self.page_number.saturating_mul(served_size) < total;
        match self.page_number.checked_add(1) {
            Some(next) if full || more_counted => self.page_number = next,
            _ => self.state = State::Finished,
        }
    }

    /// Where the paginator stands, to resume later.
    pub fn position(&self) -> PaginatorPosition {
        PaginatorPosition {
            style: self.style,
            next_token: self.next_token.clone(),
            page_number: self.page_number,
            items_yielded: self.yielded,
            finished: !matches!(self.state, State::Ready),
        }
    }

    /// Whether paging has stopped (complete or failed).
    pub fn is_finished(&self) -> bool {
        !matches!(self.state, State::Ready)
    }

    /// Results yielded so far.
    pub fn items_yielded(&self) -> u64 {
        self.yielded
    }

    /// Pages handled so far.
    pub fn pages_handled(&self) -> u64 {
        self.pages
    }

    /// Results dropped because they had already been yielded.
    pub fn duplicates_dropped(&self) -> u64 {
        self.duplicates
    }

    /// The paging style.
    pub fn style(&self) -> PageStyle {
        self.style
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum ErrorKind {
    RepeatedToken { token: String, page: u64 },
    RepeatedPage { page: u64, style: PageStyle },
    Finished,
}

/// Why a paginator stopped before the end of the results.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaginationError {
    kind: ErrorKind,
}

impl PaginationError {
    fn repeated_token(token: &str, page: u64) -> Self {
        Self {
            kind: ErrorKind::RepeatedToken {
                token: token.to_owned(),
                page,
            },
        }
    }

    fn repeated_page(page: u64, style: PageStyle) -> Self {
        Self {
            kind: ErrorKind::RepeatedPage { page, style },
        }
    }

    fn finished() -> Self {
        Self {
            kind: ErrorKind::Finished,
        }
    }

    /// The server returned a `NextToken` it had already returned.
    pub fn is_repeated_token(&self) -> bool {
        matches!(self.kind, ErrorKind::RepeatedToken { .. })
    }

    /// The server returned a page of results that had all been yielded.
    pub fn is_repeated_page(&self) -> bool {
        matches!(self.kind, ErrorKind::RepeatedPage { .. })
    }

    /// A page was handed to a paginator that had already stopped.
    pub fn is_finished(&self) -> bool {
        matches!(self.kind, ErrorKind::Finished)
    }
}

impl fmt::Display for PaginationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            ErrorKind::RepeatedToken { token, page } => write!(
                f,
                "the service repeated NextToken `{}` after page {page}; stopped paging instead of looping",
                crate::decode::excerpt(token)
            ),
            ErrorKind::RepeatedPage { page, style } => {
                write!(
                    f,
                    "page {page} held only results already returned; stopped paging instead of looping"
                )?;
                if *style == PageStyle::Number {
                    f.write_str(" (results may be changing faster than page numbers can follow; use token paging)")?;
                }
                Ok(())
            }
            ErrorKind::Finished => f.write_str(
                "the paginator has already stopped; ask next_request() before handling a page",
            ),
        }
    }
}

impl std::error::Error for PaginationError {}

#[cfg(test)]
mod tests;
