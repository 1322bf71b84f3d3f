use std::collections::HashSet;

use proptest::prelude::*;

use super::*;
use crate::enums::ContentEncoding;
use crate::response::{Invocation, InvocationResult};

fn result(i: usize) -> InvocationResult {
    let mut r = InvocationResult::new(format!("t-{}", i / 3), format!("i-{}", i % 3));
    r.repeats = i64::try_from(i / 9).unwrap();
    r
}

type Key = (String, String, i64);

fn key(r: &InvocationResult) -> Key {
    (r.invoke_id.clone(), r.instance_id.clone(), r.repeats)
}

fn base() -> DescribeInvocationResultsRequest {
    DescribeInvocationResultsRequest::builder()
        .region_id("cn-hangzhou")
        .build()
}

#[derive(Debug, Clone, Copy)]
enum Fault {
    None,
    /// Answer with the token it was given as the next token.
    RepeatToken,
    /// Ignore the token and serve the first page again.
    IgnoreToken,
    /// Serve the page, then hand out the token of the first page.
    StaleToken,
}

/// A simulated service holding results in insertion order; new results are
/// appended at the end, as the service does for new executions.
struct Server {
    data: Vec<InvocationResult>,
    calls: usize,
}

impl Server {
    fn new(len: usize) -> Self {
        Self {
            data: (0..len).map(result).collect(),
            calls: 0,
        }
    }

    fn append(&mut self, count: usize) {
        let start = self.data.len();
        self.data.extend((start..start + count).map(result));
    }

    fn page(&self, offset: usize, size: usize) -> Vec<InvocationResult> {
        let start = offset.min(self.data.len());
        let end = (offset + size).min(self.data.len());
        self.data[start..end].to_vec()
    }

    fn answer(
        &mut self,
        request: &DescribeInvocationResultsRequest,
        fault: Fault,
    ) -> DescribeInvocationResultsResponse {
        self.calls += 1;
        let len = self.data.len();
        let mut invocation = Invocation::default();
        if let Some(size) = request.max_results {
            let size = usize::try_from(size).unwrap();
            let given = request.next_token.clone();
            let offset: usize = match (fault, &given) {
                (Fault::IgnoreToken, _) | (_, None) => 0,
                (_, Some(token)) => token.trim_start_matches('o').parse().unwrap(),
            };
            invocation.results = self.page(offset, size);
            let end = offset + invocation.results.len();
            invocation.next_token = match fault {
                Fault::RepeatToken if given.is_some() => given,
                Fault::StaleToken => Some(format!("o{}", size.min(len))),
                _ => (end < len).then(|| format!("o{end}")),
            };
        } else {
            let number = usize::try_from(request.page_number.unwrap()).unwrap();
            let size = usize::try_from(request.page_size.unwrap()).unwrap();
            invocation.results = self.page((number - 1) * size, size);
            invocation.page_number = i64::try_from(number).unwrap();
            invocation.page_size = i64::try_from(size).unwrap();
            invocation.total_count = i64::try_from(len).unwrap();
        }
        DescribeInvocationResultsResponse::new(format!("req-{}", self.calls), invocation)
    }
}

/// Runs a paginator to its end; returns the keys yielded and how it ended.
fn drive(
    paginator: &mut Paginator,
    server: &mut Server,
    appends: &[usize],
    faults: &[Fault],
    step_limit: usize,
) -> (Vec<Key>, Result<(), PaginationError>) {
    let mut yielded = Vec::new();
    for step in 0..step_limit {
        let request = match paginator.next_request() {
            Ok(Some(request)) => request,
            Ok(None) => return (yielded, Ok(())),
            Err(err) => return (yielded, Err(err)),
        };
        let fault = faults.get(step).copied().unwrap_or(Fault::None);
        let page = server.answer(&request, fault);
        let ahead = page
            .invocation
            .next_token
            .as_deref()
            .and_then(|token| paginator.request_after(token));
        let page = paginator.handle_page(page).unwrap();
        // Reading ahead is never wrong: a request sent ahead is the next one
        // whenever paging goes on; and it is there whenever paging goes on
        // by token without a limit.
        if let Ok(Some(next)) = paginator.next_request()
            && paginator.max_items.is_none()
            && paginator.style == PageStyle::Token
        {
            assert_eq!(ahead.as_ref(), Some(&next), "read ahead at step {step}");
        }
        yielded.extend(page.invocation.results.iter().map(key));
        server.append(appends.get(step).copied().unwrap_or(0));
    }
    panic!("paginator did not stop within {step_limit} steps");
}

fn fault_strategy() -> impl Strategy<Value = Fault> {
    prop_oneof![
        6 => Just(Fault::None),
        1 => Just(Fault::RepeatToken),
        1 => Just(Fault::IgnoreToken),
        1 => Just(Fault::StaleToken),
    ]
}

proptest! {
    #[test]
    fn token_paging_yields_each_result_exactly_once(
        len in 0usize..300,
        page_size in 1i64..=50,
        appends in proptest::collection::vec(0usize..20, 0..40),
    ) {
        let mut server = Server::new(len);
        let request = DescribeInvocationResultsRequest { max_results: Some(page_size), ..base() };
        let mut paginator = Paginator::new(request, PageStyle::Token);
        let (yielded, end) = drive(&mut paginator, &mut server, &appends, &[], 10_000);
        prop_assert!(end.is_ok());
        let unique: HashSet<_> = yielded.iter().cloned().collect();
        prop_assert_eq!(unique.len(), yielded.len(), "a result was yielded twice");
        // Everything that existed at the start, and everything appended
        // before the last page was read, was yielded: all of `server.data`
        // except what was appended after the final call.
        let expected: Vec<_> = server.data.iter().take(yielded.len()).map(key).collect();
        prop_assert_eq!(&yielded, &expected);
        prop_assert!(yielded.len() >= len);
        prop_assert_eq!(paginator.items_yielded(), yielded.len() as u64);
    }

    #[test]
    fn token_paging_always_terminates_against_a_faulty_server(
        len in 0usize..300,
        page_size in 1i64..=50,
        appends in proptest::collection::vec(0usize..20, 0..40),
        faults in proptest::collection::vec(fault_strategy(), 0..40),
    ) {
        let mut server = Server::new(len);
        let request = DescribeInvocationResultsRequest { max_results: Some(page_size), ..base() };
        let mut paginator = Paginator::new(request, PageStyle::Token);
        // Bound: every page either brings a new result or stops the paginator.
        let limit = len + appends.iter().sum::<usize>() + 2;
        let (yielded, end) = drive(&mut paginator, &mut server, &appends, &faults, limit);
        let unique: HashSet<_> = yielded.iter().cloned().collect();
        prop_assert_eq!(unique.len(), yielded.len(), "a result was yielded twice");
        if let Err(err) = end {
            prop_assert!(err.is_repeated_token() || err.is_repeated_page(), "{}", err);
        }
        prop_assert!(paginator.is_finished());
    }

    #[test]
    fn page_number_paging_yields_each_result_once_and_honours_max_items(
        len in 0usize..300,
        page_size in 1i64..=50,
        appends in proptest::collection::vec(0usize..20, 0..40),
        max_items in proptest::option::of(0u64..400),
    ) {
        let mut server = Server::new(len);
        let request = DescribeInvocationResultsRequest { page_size: Some(page_size), ..base() };
        let mut paginator = Paginator::new(request, PageStyle::Number);
        if let Some(max) = max_items {
            paginator = paginator.with_max_items(max);
        }
        let (yielded, end) = drive(&mut paginator, &mut server, &appends, &[], 10_000);
        prop_assert!(end.is_ok());
        let expected: Vec<_> = server.data.iter().take(yielded.len()).map(key).collect();
        prop_assert_eq!(&yielded, &expected);
        match max_items {
            Some(max) => {
                let count = yielded.len() as u64;
                prop_assert!(count <= max, "{} results beyond max {}", count, max);
                prop_assert!(count >= max.min(len as u64), "stopped early: {} of {}", count, len);
            }
            None => prop_assert!(yielded.len() >= len),
        }
    }
}

#[test]
fn handled_results_know_the_encoding_their_request_asked_for() {
    let request = DescribeInvocationResultsRequest::builder()
        .region_id("cn-hangzhou")
        .content_encoding(ContentEncoding::PlainText)
        .build();
    let mut paginator = Paginator::new(request, PageStyle::Token);
    paginator.next_request().unwrap().unwrap();
    let mut plain = result(0);
    plain.output = "15:45:01 100%\n".into();
    let page = DescribeInvocationResultsResponse::new("r", Invocation::new(vec![plain]));
    let page = paginator.handle_page(page).unwrap();
    let result = &page.invocation.results[0];
    assert_eq!(result.content_encoding, ContentEncoding::PlainText);
    assert_eq!(result.output_text().unwrap(), "15:45:01 100%\n");
}

#[test]
fn token_requests_carry_the_token_and_page_size_only() {
    let request = DescribeInvocationResultsRequest::builder()
        .region_id("cn-hangzhou")
        .page_number(4)
        .page_size(20)
        .build();
    let mut paginator = Paginator::new(request, PageStyle::Token);
    let first = paginator.next_request().unwrap().unwrap();
    assert_eq!(
        (first.max_results, first.page_size, first.page_number),
        (Some(20), None, None)
    );
    assert_eq!(first.next_token, None);
    assert!(first.validate().is_ok());
    let mut page = DescribeInvocationResultsResponse::new("r", Invocation::new(vec![result(0)]));
    page.invocation.next_token = Some("abc".into());
    paginator.handle_page(page).unwrap();
    let second = paginator.next_request().unwrap().unwrap();
    assert_eq!(second.next_token.as_deref(), Some("abc"));
    // Asking again gives the same request (a retried call).
    assert_eq!(paginator.next_request().unwrap().unwrap(), second);
}

#[test]
fn stops_on_empty_token_and_on_empty_page() {
    for token in [None, Some(String::new()), Some("  ".to_owned())] {
        let mut paginator = Paginator::new(base(), PageStyle::Token);
        let mut page =
            DescribeInvocationResultsResponse::new("r", Invocation::new(vec![result(0)]));
        page.invocation.next_token = token;
        assert_eq!(
            paginator
                .handle_page(page)
                .unwrap()
                .invocation
                .results
                .len(),
            1
        );
        assert_eq!(paginator.next_request(), Ok(None));
    }
    let mut paginator = Paginator::new(base(), PageStyle::Token);
    let mut page = DescribeInvocationResultsResponse::default();
    page.invocation.next_token = Some("more".into());
    paginator.handle_page(page).unwrap();
    assert_eq!(paginator.next_request(), Ok(None));
    let err = paginator
        .handle_page(DescribeInvocationResultsResponse::default())
        .unwrap_err();
    assert!(err.is_finished());
}

fn numbered_page(
    results: Vec<InvocationResult>,
    page_size: i64,
    total_count: i64,
) -> DescribeInvocationResultsResponse {
    let mut page = DescribeInvocationResultsResponse::new("r", Invocation::new(results));
    page.invocation.total_count = total_count;
    page.invocation.page_size = page_size;
    page
}

fn numbered(page_size: i64) -> Paginator {
    Paginator::new(
        DescribeInvocationResultsRequest {
            page_size: Some(page_size),
            ..base()
        },
        PageStyle::Number,
    )
}

#[test]
fn a_full_page_asks_for_the_next_whatever_total_count_says() {
    let mut paginator = numbered(2);
    paginator
        .handle_page(numbered_page(vec![result(0), result(1)], 2, 4))
        .unwrap();
    assert_eq!(
        paginator.next_request().unwrap().unwrap().page_number,
        Some(2)
    );
    // TotalCount says this full page is the last: results may have been
    // added since it was counted, so the next page is asked for.
    paginator
        .handle_page(numbered_page(vec![result(2), result(3)], 2, 4))
        .unwrap();
    assert_eq!(
        paginator.next_request().unwrap().unwrap().page_number,
        Some(3),
        "a full page means there may be more"
    );
    // A full page whose TotalCount says it is the very first and last.
    let mut paginator = numbered(2);
    paginator
        .handle_page(numbered_page(vec![result(0), result(1)], 2, 1))
        .unwrap();
    assert!(paginator.next_request().unwrap().is_some());
    // The next page is empty: paging stops there.
    paginator.handle_page(numbered_page(vec![], 2, 2)).unwrap();
    assert_eq!(paginator.next_request(), Ok(None));
}

#[test]
fn a_short_page_stops_only_when_total_count_agrees() {
    let mut paginator = numbered(3);
    paginator
        .handle_page(numbered_page(vec![result(0), result(1)], 3, 2))
        .unwrap();
    assert_eq!(paginator.next_request(), Ok(None), "short and counted last");

    let mut paginator = numbered(3);
    paginator
        .handle_page(numbered_page(vec![result(0), result(1)], 3, 7))
        .unwrap();
    assert_eq!(
        paginator.next_request().unwrap().unwrap().page_number,
        Some(2),
        "short, but TotalCount says more follow"
    );

    // No TotalCount at all: a short page is the last.
    let mut paginator = numbered(3);
    paginator
        .handle_page(numbered_page(vec![result(0)], 0, 0))
        .unwrap();
    assert_eq!(paginator.next_request(), Ok(None));
}

#[test]
fn a_server_serving_smaller_pages_is_followed() {
    // Asked for 5 a page, the server serves 2 and says so in PageSize.
    let mut paginator = numbered(5);
    paginator
        .handle_page(numbered_page(vec![result(0), result(1)], 2, 0))
        .unwrap();
    assert_eq!(
        paginator.next_request().unwrap().unwrap().page_number,
        Some(2)
    );
    // A PageSize larger than asked does not make a full page short.
    let mut paginator = numbered(2);
    paginator
        .handle_page(numbered_page(vec![result(0), result(1)], 100, 0))
        .unwrap();
    assert!(paginator.next_request().unwrap().is_some());
}

#[test]
fn page_numbers_stop_at_the_largest_number() {
    let request = DescribeInvocationResultsRequest {
        page_size: Some(1),
        page_number: Some(i64::MAX),
        ..base()
    };
    let mut paginator = Paginator::new(request, PageStyle::Number);
    paginator
        .handle_page(numbered_page(vec![result(0)], 1, 0))
        .unwrap();
    assert_eq!(paginator.next_request(), Ok(None), "no page after i64::MAX");
}

#[test]
fn repeated_token_stops_with_an_error_after_yielding_the_page() {
    let mut paginator = Paginator::new(base(), PageStyle::Token);
    let mut page = DescribeInvocationResultsResponse::new("r", Invocation::new(vec![result(0)]));
    page.invocation.next_token = Some("A".into());
    paginator.handle_page(page).unwrap();
    let mut page = DescribeInvocationResultsResponse::new("r", Invocation::new(vec![result(1)]));
    page.invocation.next_token = Some("A".into());
    let page = paginator.handle_page(page).unwrap();
    assert_eq!(
        page.invocation.results.len(),
        1,
        "new results of the page are kept"
    );
    let err = paginator.next_request().unwrap_err();
    assert!(err.is_repeated_token());
    assert_eq!(
        err.to_string(),
        "the service repeated NextToken `A` after page 2; stopped paging instead of looping"
    );
}

#[test]
fn a_page_of_only_duplicates_stops_with_an_error() {
    let mut paginator = Paginator::new(base(), PageStyle::Token);
    for token in ["A", "B"] {
        let mut page = DescribeInvocationResultsResponse::new(
            "r",
            Invocation::new(vec![result(0), result(1)]),
        );
        page.invocation.next_token = Some(token.into());
        paginator.handle_page(page).unwrap();
    }
    assert!(paginator.next_request().unwrap_err().is_repeated_page());
    assert_eq!(paginator.duplicates_dropped(), 2);
    assert_eq!(paginator.items_yielded(), 2);
}

#[test]
fn max_items_cuts_the_page_and_shrinks_the_request() {
    let mut paginator = Paginator::new(base(), PageStyle::Token).with_max_items(3);
    assert_eq!(
        paginator.next_request().unwrap().unwrap().max_results,
        Some(3)
    );
    let mut page =
        DescribeInvocationResultsResponse::new("r", Invocation::new((0..5).map(result).collect()));
    page.invocation.next_token = Some("more".into());
    let page = paginator.handle_page(page).unwrap();
    assert_eq!(page.invocation.results.len(), 3);
    assert_eq!(paginator.next_request(), Ok(None));
    assert!(
        Paginator::new(base(), PageStyle::Token)
            .with_max_items(0)
            .next_request()
            .unwrap()
            .is_none()
    );
}

#[test]
fn position_resumes_where_it_stopped() {
    let mut server = Server::new(120);
    let request = DescribeInvocationResultsRequest {
        max_results: Some(25),
        ..base()
    };
    let mut first = Paginator::new(request.clone(), PageStyle::Token);
    let mut yielded = Vec::new();
    for _ in 0..2 {
        let req = first.next_request().unwrap().unwrap();
        let page = first.handle_page(server.answer(&req, Fault::None)).unwrap();
        yielded.extend(page.invocation.results.iter().map(key));
    }
    let position = first.position();
    assert_eq!(position.next_token.as_deref(), Some("o50"));
    let stored = serde_json::to_string(&position).unwrap();
    let position: PaginatorPosition = serde_json::from_str(&stored).unwrap();
    let mut resumed = Paginator::resume(request, position);
    let (rest, end) = drive(&mut resumed, &mut server, &[], &[], 100);
    assert!(end.is_ok());
    yielded.extend(rest);
    assert_eq!(yielded, server.data.iter().map(key).collect::<Vec<_>>());
    assert_eq!(resumed.items_yielded(), 120);
}

#[test]
fn reading_ahead_is_offered_only_where_it_can_pay_off() {
    let mut paginator = Paginator::new(base(), PageStyle::Token);
    assert_eq!(
        paginator
            .request_after(" t1 ")
            .unwrap()
            .next_token
            .as_deref(),
        Some("t1")
    );
    assert_eq!(
        paginator.request_after("  "),
        None,
        "no token, no next page"
    );
    let mut page = DescribeInvocationResultsResponse::new("r", Invocation::new(vec![result(0)]));
    page.invocation.next_token = Some("t1".into());
    paginator.handle_page(page).unwrap();
    assert_eq!(paginator.request_after("t1"), None, "t1 was just sent");
    let mut page = DescribeInvocationResultsResponse::new("r", Invocation::new(vec![result(1)]));
    page.invocation.next_token = Some("t2".into());
    paginator.handle_page(page).unwrap();
    assert_eq!(paginator.request_after("t1"), None, "t1 was sent before");
    assert!(paginator.request_after("t3").is_some());

    let limited = Paginator::new(base(), PageStyle::Token).with_max_items(10);
    assert_eq!(
        limited.request_after("t"),
        None,
        "max items sizes the next page"
    );
    let numbered = Paginator::new(base(), PageStyle::Number);
    assert_eq!(
        numbered.request_after("t"),
        None,
        "page numbers have no token"
    );
    let mut finished = Paginator::new(base(), PageStyle::Token);
    finished
        .handle_page(DescribeInvocationResultsResponse::new(
            "r",
            Invocation::new(vec![]),
        ))
        .unwrap();
    assert_eq!(finished.request_after("t"), None, "paging has stopped");
}

fn record_at(finished: &str) -> InvocationResult {
    let mut r = InvocationResult::new("t-periodic", "i-1");
    r.finished_time = crate::timestamp::Timestamp::parse(finished);
    assert!(r.finished_time.is_some());
    r
}

#[test]
fn history_runs_of_one_instance_all_come_out() {
    let runs = vec![
        record_at("2026-12-07T01:00:02Z"),
        record_at("2026-12-07T01:05:02Z"),
        record_at("2026-12-07T01:10:02Z"),
    ];
    let mut paginator = Paginator::new(base(), PageStyle::Token);
    let page = paginator
        .handle_page(DescribeInvocationResultsResponse::new(
            "r",
            Invocation::new(runs.clone()),
        ))
        .unwrap();
    assert_eq!(page.invocation.results, runs);
    assert_eq!(paginator.duplicates_dropped(), 0);
}

#[test]
fn a_page_served_again_after_a_shift_is_filtered() {
    let mut paginator = Paginator::new(base(), PageStyle::Token);
    let mut first =
        DescribeInvocationResultsResponse::new("r", Invocation::new(vec![result(0), result(1)]));
    first.invocation.next_token = Some("A".into());
    paginator.handle_page(first).unwrap();
    // The results shifted by one: the second page starts with a result of
    // the first, equal in every field.
    let mut second =
        DescribeInvocationResultsResponse::new("r", Invocation::new(vec![result(1), result(2)]));
    second.invocation.next_token = Some("B".into());
    let second = paginator.handle_page(second).unwrap();
    assert_eq!(second.invocation.results, vec![result(2)]);
    assert_eq!(paginator.duplicates_dropped(), 1);
}

/// A server that goes round `cycle` pages of one result each, for ever;
/// `fresh_tokens` gives every lap new tokens.
fn go_round(cycle: usize, fresh_tokens: bool) -> (Vec<InvocationResult>, PaginationError) {
    let mut paginator = Paginator::new(base(), PageStyle::Token);
    let mut yielded = Vec::new();
    for step in 0..=(2 * cycle) {
        let request = match paginator.next_request() {
            Ok(Some(request)) => request,
            Ok(None) => panic!("the cycle ended paging without an error"),
            Err(error) => return (yielded, error),
        };
        let at: usize = request.next_token.as_deref().map_or(0, |t| {
            t.trim_start_matches('k')
                .split('-')
                .next()
                .unwrap()
                .parse()
                .unwrap()
        });
        let next = (at + 1) % cycle;
        let token = if fresh_tokens {
            format!("k{next}-{}", (step + 1) / cycle)
        } else {
            format!("k{next}")
        };
        let record = InvocationResult::new("t-cycle", format!("i-{at}"));
        let mut page = DescribeInvocationResultsResponse::new("r", Invocation::new(vec![record]));
        page.invocation.next_token = Some(token);
        yielded.extend(paginator.handle_page(page).unwrap().invocation.results);
    }
    panic!("the cycle was not found in two laps");
}

#[test]
fn a_cycle_of_any_length_stops_before_a_result_repeats() {
    // 5,000 pages: longer than the window of recent results.
    for fresh_tokens in [false, true] {
        let (yielded, error) = go_round(5_000, fresh_tokens);
        assert!(error.is_repeated_page(), "{error}");
        assert_eq!(yielded.len(), 5_000, "each instance exactly once");
        let instances: HashSet<_> = yielded.iter().map(|r| r.instance_id.clone()).collect();
        assert_eq!(instances.len(), 5_000);
    }
}

#[test]
fn a_repeated_token_of_any_age_stops_paging() {
    // The token of page 1 comes back after 5,000 pages of new results.
    let mut paginator = Paginator::new(base(), PageStyle::Token);
    for i in 0..5_001 {
        let request = paginator.next_request().unwrap().unwrap();
        let mut page = DescribeInvocationResultsResponse::new(
            "r",
            Invocation::new(vec![InvocationResult::new("t", format!("i-{i}"))]),
        );
        let next = if i == 5_000 { 1 } else { i + 1 };
        page.invocation.next_token = Some(format!("k{next}"));
        assert_eq!(
            paginator
                .handle_page(page)
                .unwrap()
                .invocation
                .results
                .len(),
            1
        );
        if i < 5_000 {
            assert_eq!(request.next_token, (i > 0).then(|| format!("k{i}")));
        }
    }
    assert!(paginator.next_request().unwrap_err().is_repeated_token());
}

#[test]
fn a_short_page_that_total_count_says_is_exactly_the_last_stops() {
    // Pages of 3: page 1 is short, and TotalCount (3) is no more than the
    // pages asked so far hold (1 x 3), so the count agrees it is the last.
    let mut paginator = numbered(3);
    paginator
        .handle_page(numbered_page(vec![result(0), result(1)], 3, 3))
        .unwrap();
    assert_eq!(paginator.next_request(), Ok(None));
    // One counted result more: a second page follows.
    let mut paginator = numbered(3);
    paginator
        .handle_page(numbered_page(vec![result(0), result(1)], 3, 4))
        .unwrap();
    assert_eq!(
        paginator.next_request().unwrap().unwrap().page_number,
        Some(2)
    );
}

#[test]
fn counters_and_style_follow_the_pages() {
    let mut paginator = Paginator::new(base(), PageStyle::Number);
    assert_eq!(paginator.style(), PageStyle::Number);
    assert_eq!(
        Paginator::new(base(), PageStyle::Token).style(),
        PageStyle::Token
    );
    assert!(!paginator.is_finished());
    assert_eq!(paginator.pages_handled(), 0);
    for page in 0..2 {
        let results = (page * 50..page * 50 + 50).map(result).collect();
        paginator
            .handle_page(numbered_page(results, 50, 500))
            .unwrap();
        assert!(!paginator.is_finished(), "page {page}: more follow");
    }
    assert_eq!(paginator.pages_handled(), 2);
    assert_eq!(paginator.items_yielded(), 100);
    assert!(!paginator.position().finished);
    paginator
        .handle_page(numbered_page(vec![], 50, 500))
        .unwrap();
    assert!(paginator.is_finished());
    assert!(paginator.position().finished);
    assert_eq!(paginator.pages_handled(), 3);
}

#[test]
fn each_error_answers_only_its_own_question() {
    let token = PaginationError::repeated_token("A", 2);
    let page = PaginationError::repeated_page(3, PageStyle::Token);
    let finished = PaginationError::finished();
    let answers =
        |e: &PaginationError| (e.is_repeated_token(), e.is_repeated_page(), e.is_finished());
    assert_eq!(answers(&token), (true, false, false));
    assert_eq!(answers(&page), (false, true, false));
    assert_eq!(answers(&finished), (false, false, true));
    assert_eq!(
        page.to_string(),
        "page 3 held only results already returned; stopped paging instead of looping"
    );
    assert_eq!(
        PaginationError::repeated_page(3, PageStyle::Number).to_string(),
        "page 3 held only results already returned; stopped paging instead of looping \
         (results may be changing faster than page numbers can follow; use token paging)"
    );
    assert_eq!(
        finished.to_string(),
        "the paginator has already stopped; ask next_request() before handling a page"
    );
}
