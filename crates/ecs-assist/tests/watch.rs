//! The watch stream and the fan-out against the emulator: what they yield,
//! when they end, what they cost in requests and bytes, and that one
//! failing pair of a fan-out does not lose the others.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    missing_docs,
    unreachable_pub
)]

#[path = "../examples/follow_cost/measure.rs"]
mod measure;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use bytes::Bytes;
use ecs_assist::config::{AsyncSleep, SleepFuture};
use ecs_assist::{Client, ErrorKind, Source};
use ecs_emulator::{DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET, DataSet, Emulator};
use ecs_sign::test_util::ManualTimeSource;
use ecs_transport::{HyperTransport, Transport, TransportFuture};
use futures::StreamExt as _;
use measure::{How, Order, measure};

const INSTANCES: u64 = 1_000;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn following_1000_instances_downloads_each_finished_output_once_within_the_request_bound() {
    let listing = measure(INSTANCES as usize, Order::Listing, How::Watch).await;
    let shuffled = measure(INSTANCES as usize, Order::Shuffled, How::Watch).await;
    let plain = measure(INSTANCES as usize, Order::Listing, How::PlainPolling).await;
    for cost in [&listing, &shuffled] {
        assert_eq!(cost.results, INSTANCES, "every result once: {cost:?}");
        assert_eq!(cost.most_downloads_of_one_output, 1, "{cost:?}");
        assert!((18..=24).contains(&cost.polls), "about 20 polls: {cost:?}");
        // 20 full pages and the empty one that shows the end.
        assert!(cost.first_listing_pages <= INSTANCES / 50 + 1, "{cost:?}");
        // Fewer than half the bytes of polling everything.
        assert!(cost.bytes * 2 < plain.bytes, "{cost:?} vs {plain:?}");
    }
    // Finishing in listing order: besides the pages of running records
    // (the first listing is the first poll's), the run of about 50 that
    // left since the last poll is fetched as at most 3 pages (pages are
    // addressed by number and size, so a run that starts at an awkward
    // position cannot be one page without bringing finished outputs again).
    let fetches = listing.requests - listing.running_pages - listing.first_listing_pages;
    assert!(
        fetches <= 3 * listing.polls,
        "{fetches} fetches: {listing:?}"
    );
    // Shuffled: one request per finished result at most.
    let fetches = shuffled.requests - shuffled.running_pages - shuffled.first_listing_pages;
    assert!(fetches <= INSTANCES, "{fetches} fetches: {shuffled:?}");
    // Plain polling downloads each finished output once per poll after it.
    assert!(plain.most_downloads_of_one_output >= 15, "{plain:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_fewer_requests_a_shuffled_finish_costs_about_the_requests_of_plain_polling() {
    let shuffled = measure(INSTANCES as usize, Order::Shuffled, How::WatchFewerRequests).await;
    let listing = measure(INSTANCES as usize, Order::Listing, How::WatchFewerRequests).await;
    let plain = measure(INSTANCES as usize, Order::Listing, How::PlainPolling).await;
    let watch = measure(INSTANCES as usize, Order::Listing, How::Watch).await;
    for cost in [&shuffled, &listing] {
        assert_eq!(cost.results, INSTANCES, "every result once: {cost:?}");
        assert!((18..=24).contains(&cost.polls), "about 20 polls: {cost:?}");
    }
    // Shuffled: the first listing, one poll of the running set that shows
    // the fetches would cost more than a listing, then listings: about
    // plain polling's requests (1,188 without the setting).
    assert!(
        shuffled.requests <= plain.requests + 25,
        "{shuffled:?} vs {plain:?}"
    );
    // In listing order it never costs more requests than without it.
    assert!(
        listing.requests <= watch.requests,
        "{listing:?} vs {watch:?}"
    );
}

/// A sleep that moves a manual clock.
#[derive(Debug)]
struct ClockSleep(Arc<ManualTimeSource>);

impl AsyncSleep for ClockSleep {
    fn sleep(&self, duration: Duration) -> SleepFuture {
        self.0
            .advance(time::Duration::try_from(duration).unwrap_or(time::Duration::MAX));
        Box::pin(std::future::ready(()))
    }
}

fn results_json(region: &str, invoke: &str, instances: &[(&str, &str, u64)]) -> String {
    let results: Vec<String> = instances
        .iter()
        .map(|(id, status, ms)| {
            format!(
                r#"{{"instance_id":"{id}","status":"{status}","exit_code":0,"output":"{id} {invoke}\n","running_for_ms":{ms}}}"#
            )
        })
        .collect();
    format!(
        r#"{{"invoke_id":"{invoke}","command_id":"c-1","region_id":"{region}","results":[{}]}}"#,
        results.join(",")
    )
}

fn data(invocations: &[String]) -> DataSet {
    DataSet::from_json(&format!(r#"{{"invocations":[{}]}}"#, invocations.join(","))).unwrap()
}

/// An emulator and a client on one manual clock.
async fn on_manual_clock(
    data: DataSet,
) -> (ecs_emulator::EmulatorHandle, Client, Arc<ManualTimeSource>) {
    let clock = Arc::new(ManualTimeSource::new(
        time::OffsetDateTime::from_unix_timestamp(1_780_000_000).unwrap(),
    ));
    let emulator = Emulator::builder()
        .data(data)
        .time_source(Arc::clone(&clock))
        .start()
        .await
        .unwrap();
    let client = Client::builder()
        .region("cn-hangzhou")
        .endpoint(emulator.url())
        .access_key(DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET)
        .time_source(Arc::clone(&clock))
        .sleep(ClockSleep(Arc::clone(&clock)))
        .operation_timeout(None)
        .build()
        .unwrap();
    (emulator, client, clock)
}

fn elapsed_ms(clock: &ManualTimeSource, start: time::OffsetDateTime) -> i128 {
    (ecs_sign::TimeSource::now(clock) - start).whole_milliseconds()
}

#[tokio::test]
async fn each_result_is_yielded_once_when_a_poll_sees_it_final_and_the_stream_ends() {
    let (emulator, client, clock) = on_manual_clock(data(&[results_json(
        "cn-hangzhou",
        "t-w",
        &[
            ("i-1", "Success", 0),
            ("i-2", "Failed", 2_500),
            ("i-3", "Success", 6_000),
            ("i-4", "Success", 6_000),
        ],
    )]))
    .await;
    let start = ecs_sign::TimeSource::now(&*clock);
    let mut watch = client.watch_invocation("t-w").configure(|w| {
        w.poll_interval(Duration::from_secs(1))
            .max_poll_interval(Duration::from_secs(2))
    });
    let mut seen = Vec::new();
    while let Some(result) = watch.next().await {
        let result = result.unwrap();
        seen.push((result.instance_id.clone(), elapsed_ms(&clock, start)));
    }
    let ids: Vec<&str> = seen.iter().map(|(id, _)| id.as_str()).collect();
    assert_eq!(ids, ["i-1", "i-2", "i-3", "i-4"], "{seen:?}");
    // Yielded at the first poll at or after each finish, not before.
    assert_eq!(seen[0].1, 0);
    assert!((2_500..=3_500).contains(&seen[1].1), "{seen:?}");
    assert!((6_000..=8_000).contains(&seen[2].1), "{seen:?}");
    let outcome = watch.outcome().expect("an outcome at the end");
    assert!(outcome.is_complete() && outcome.has_failures());
    assert_eq!(outcome.summary().total, 4);
    assert_eq!(outcome.results().len(), 4);
    emulator.shutdown().await;
}

#[tokio::test]
async fn the_interval_grows_while_nothing_finishes_and_drops_back_when_something_does() {
    let (emulator, client, clock) = on_manual_clock(data(&[results_json(
        "cn-hangzhou",
        "t-w",
        &[("i-1", "Success", 20_000), ("i-2", "Success", 21_000)],
    )]))
    .await;
    let start = ecs_sign::TimeSource::now(&*clock);
    let mut watch = client.watch_invocation("t-w").configure(|w| {
        w.poll_interval(Duration::from_secs(1))
            .max_poll_interval(Duration::from_secs(8))
    });
    let mut at = Vec::new();
    while let Some(result) = watch.next().await {
        result.unwrap();
        at.push(elapsed_ms(&clock, start));
    }
    // Polls at 0, 1, 3, 7, 15, 23 (the 8 s cap): i-1 seen at 23 s; then
    // back to 1 s: i-2 (already final at 21 s) is seen at the same poll.
    assert_eq!(at, [23_000, 23_000], "{at:?}");
    assert_eq!(watch.polls(), 6);
    emulator.shutdown().await;
}

#[tokio::test]
async fn a_timeout_ends_the_stream_with_one_error_holding_the_last_state() {
    let (emulator, client, _clock) = on_manual_clock(data(&[results_json(
        "cn-hangzhou",
        "t-w",
        &[("i-1", "Success", 0), ("i-2", "Success", 3_600_000)],
    )]))
    .await;
    let mut watch = client.watch_invocation("t-w").configure(|w| {
        w.poll_interval(Duration::from_secs(1))
            .timeout(Duration::from_secs(10))
    });
    let first = watch.next().await.unwrap().unwrap();
    assert_eq!(first.instance_id, "i-1");
    let err = watch.next().await.unwrap().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::WaitTimeout);
    let last = err.wait_outcome().unwrap();
    assert_eq!((last.summary().total, last.summary().pending), (2, 1));
    assert!(watch.next().await.is_none(), "the error ends the stream");
    assert!(watch.outcome().is_none());
    emulator.shutdown().await;
}

#[tokio::test]
async fn bad_settings_are_one_invalid_input_error_before_anything_is_sent() {
    let (emulator, client, _clock) = on_manual_clock(DataSet::default()).await;
    let mut watch = client
        .watch_invocation("t-w")
        .configure(|w| w.poll_interval(Duration::from_secs(7200)));
    let err = watch.next().await.unwrap().unwrap_err();
    assert!(err.is_invalid_input(), "{err:?}");
    assert!(watch.next().await.is_none());
    assert_eq!(emulator.requests(), 0);
    emulator.shutdown().await;
}

/// The hyper transport, counting the most requests in flight at once.
#[derive(Debug)]
struct InFlight {
    inner: HyperTransport,
    now: AtomicUsize,
    most: AtomicUsize,
}

impl Transport for InFlight {
    fn send(&self, request: http::Request<Bytes>) -> TransportFuture<'_> {
        Box::pin(async move {
            let now = self.now.fetch_add(1, Ordering::SeqCst) + 1;
            self.most.fetch_max(now, Ordering::SeqCst);
            // Hold the request a moment, so that concurrent ones overlap.
            tokio::time::sleep(Duration::from_millis(5)).await;
            let response = self.inner.send(request).await;
            self.now.fetch_sub(1, Ordering::SeqCst);
            response
        })
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fan_out_merges_every_pair_within_its_concurrency_and_a_failing_pair_loses_nothing() {
    let regions = ["cn-hangzhou", "cn-beijing", "cn-shanghai"];
    let mut invocations = Vec::new();
    for region in regions {
        for invoke in ["t-a", "t-b"] {
            let ids: Vec<String> = (1..=3)
                .map(|i| format!("i-{region}-{invoke}-{i}"))
                .collect();
            let specs: Vec<(&str, &str, u64)> = ids
                .iter()
                .enumerate()
                .map(|(n, id)| (id.as_str(), if n == 2 { "Failed" } else { "Success" }, 0))
                .collect();
            invocations.push(results_json(region, invoke, &specs));
        }
    }
    let emulator = Emulator::builder()
        .data(data(&invocations))
        .start()
        .await
        .unwrap();
    let transport = Arc::new(InFlight {
        inner: HyperTransport::builder().build().unwrap(),
        now: AtomicUsize::new(0),
        most: AtomicUsize::new(0),
    });
    let client = Client::builder()
        .region("cn-hangzhou")
        .endpoint(emulator.url())
        .access_key(DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET)
        .transport(Arc::clone(&transport))
        .build()
        .unwrap();
    // An unknown region: its pairs fail, the others complete.
    let mut stream = client
        .fan_out()
        .regions(regions)
        .region("xx-nowhere-1")
        .invoke_id("t-a")
        .invoke_id("t-b")
        .concurrency(2)
        .watch(|w| w.poll_interval(Duration::from_millis(50)))
        .unwrap();
    let mut results: BTreeMap<Source, BTreeSet<String>> = BTreeMap::new();
    let mut failed = Vec::new();
    while let Some(item) = stream.next().await {
        match item.result {
            Ok(result) => {
                let fresh = results
                    .entry(item.source.clone())
                    .or_default()
                    .insert(result.instance_id.clone());
                assert!(fresh, "{} twice", result.instance_id);
                assert!(result.instance_id.contains(&item.source.region));
            }
            Err(err) => failed.push((item.source, err)),
        }
    }
    assert_eq!(results.len(), 6, "{results:?}");
    for (source, ids) in &results {
        let invoke = source.invoke_id.as_deref().unwrap();
        // The requests in the order given: t-a, then t-b.
        assert_eq!(source.request, usize::from(invoke == "t-b"));
        let want: BTreeSet<String> = (1..=3)
            .map(|i| format!("i-{}-{invoke}-{i}", source.region))
            .collect();
        assert_eq!(ids, &want);
    }
    assert_eq!(failed.len(), 2, "{failed:?}");
    for (source, err) in &failed {
        assert_eq!(source.region, "xx-nowhere-1");
        assert_eq!(err.code(), Some("InvalidRegionId.NotFound"), "{err:?}");
    }
    let summary = stream.summary();
    assert_eq!((summary.total, summary.failed), (18, 6));
    let outcomes = stream.outcomes();
    assert_eq!(outcomes.iter().filter(|(_, o)| o.is_some()).count(), 6);
    let most = transport.most.load(Ordering::SeqCst);
    assert!(
        most <= 2,
        "{most} requests in flight with a concurrency of 2"
    );
    emulator.shutdown().await;
}

#[tokio::test]
async fn a_fan_out_refuses_a_concurrency_of_zero_and_a_watch_without_an_invocation() {
    let (emulator, client, _clock) = on_manual_clock(DataSet::default()).await;
    let err = client.fan_out().concurrency(0).results().unwrap_err();
    assert!(err.to_string().contains("at least 1"), "{err}");
    let err = client.fan_out().watch(|w| w).unwrap_err();
    assert!(err.to_string().contains("InvokeId"), "{err}");
    emulator.shutdown().await;
}

#[test]
fn the_blocking_watch_is_an_iterator_with_an_outcome() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let emulator = runtime
        .block_on(
            Emulator::builder()
                .data(data(&[results_json(
                    "cn-hangzhou",
                    "t-w",
                    &[("i-1", "Success", 0), ("i-2", "Success", 300)],
                )]))
                .start(),
        )
        .unwrap();
    let client = ecs_assist::blocking::Client::builder()
        .region("cn-hangzhou")
        .endpoint(emulator.url())
        .access_key(DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET)
        .build()
        .unwrap();
    let mut watch = client
        .watch_invocation("t-w")
        .configure(|w| w.poll_interval(Duration::from_millis(100)));
    let ids: Vec<String> = watch.by_ref().map(|r| r.unwrap().instance_id).collect();
    assert_eq!(ids, ["i-1", "i-2"]);
    assert!(watch.outcome().unwrap().is_success());
    runtime.block_on(emulator.shutdown());
}

/// A service whose listing moves under the watch: every instance runs in
/// the first listing and leaves at once, and the page the watch then asks
/// for lacks `i-1`, which only a request by `InstanceId` brings.
#[derive(Debug, Default)]
struct MovingListing {
    queries: std::sync::Mutex<Vec<String>>,
}

impl Transport for MovingListing {
    fn send(&self, request: http::Request<Bytes>) -> TransportFuture<'_> {
        let query = request.uri().query().unwrap_or_default().to_owned();
        self.queries.lock().unwrap().push(query.clone());
        let result = |id: &str, status: &str| {
            format!(
                r#"{{"InstanceId":"{id}","InvokeId":"t-m","InvocationStatus":"{status}","Output":""}}"#
            )
        };
        let results: Vec<String> = if query.contains("InvokeRecordStatus=Running") {
            Vec::new()
        } else if query.contains("InstanceId=i-1") {
            vec![result("i-1", "Success")]
        } else if query.contains("PageSize=4") {
            ["i-2", "i-3", "i-4"]
                .iter()
                .map(|id| result(id, "Success"))
                .collect()
        } else if query.contains("PageNumber=1&") || query.ends_with("PageNumber=1") {
            ["i-1", "i-2", "i-3", "i-4"]
                .iter()
                .map(|id| result(id, "Running"))
                .collect()
        } else {
            Vec::new()
        };
        let body = format!(
            r#"{{"RequestId":"R","Invocation":{{"TotalCount":{},"InvocationResults":{{"InvocationResult":[{}]}}}}}}"#,
            if query.contains("PageSize=4") {
                4
            } else {
                results.len()
            },
            results.join(",")
        );
        let response = http::Response::builder()
            .header("content-type", "application/json")
            .body(Bytes::from(body))
            .unwrap();
        Box::pin(std::future::ready(Ok(response)))
    }
}

#[tokio::test]
async fn an_instance_a_page_did_not_bring_is_fetched_alone() {
    let clock = Arc::new(ManualTimeSource::new(
        time::OffsetDateTime::from_unix_timestamp(1_780_000_000).unwrap(),
    ));
    let service = Arc::new(MovingListing::default());
    let client = Client::builder()
        .region("cn-hangzhou")
        .access_key("id", "secret")
        .transport(Arc::clone(&service))
        .time_source(Arc::clone(&clock))
        .sleep(ClockSleep(Arc::clone(&clock)))
        .operation_timeout(None)
        .build()
        .unwrap();
    let mut watch = client.watch_invocation("t-m");
    let mut ids = Vec::new();
    while let Some(result) = watch.next().await {
        ids.push(result.unwrap().instance_id);
    }
    assert_eq!(ids, ["i-2", "i-3", "i-4", "i-1"]);
    // In the same poll as the others, not one interval later.
    assert_eq!(watch.polls(), 2);
    let queries = service.queries.lock().unwrap().clone();
    assert_eq!(
        queries.iter().filter(|q| q.contains("PageSize=4")).count(),
        1,
        "{queries:#?}"
    );
    assert_eq!(
        queries
            .iter()
            .filter(|q| q.contains("InstanceId=i-1"))
            .count(),
        1,
        "{queries:#?}"
    );
    assert!(watch.outcome().unwrap().is_success());
}

#[tokio::test]
async fn fail_fast_ends_the_stream_at_the_first_failure_and_an_unknown_invocation_after_the_grace()
{
    let (emulator, client, _clock) = on_manual_clock(data(&[results_json(
        "cn-hangzhou",
        "t-w",
        &[("i-1", "Failed", 1_000), ("i-2", "Success", 3_600_000)],
    )]))
    .await;
    let mut watch = client
        .watch_invocation("t-w")
        .configure(|w| w.poll_interval(Duration::from_secs(1)).fail_fast(true));
    let first = watch.next().await.unwrap().unwrap();
    assert_eq!(first.instance_id, "i-1");
    assert!(watch.next().await.is_none(), "ended at the failure");
    let outcome = watch.outcome().unwrap();
    assert!(outcome.stopped_early() && outcome.has_failures());
    assert_eq!(outcome.summary().pending, 1);

    let mut unknown = client.watch_invocation("t-unknown").configure(|w| {
        w.poll_interval(Duration::from_secs(1))
            .not_found_grace(Duration::from_secs(5))
    });
    let err = unknown.next().await.unwrap().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound, "{err:?}");
    assert!(
        unknown.polls() >= 4,
        "polled through the grace: {}",
        unknown.polls()
    );
    emulator.shutdown().await;
}
