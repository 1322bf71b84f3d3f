//! What following an invocation costs, measured: requests and response
//! bytes while 1,000 instances finish over about 20 polls, for the watch
//! stream and for plain polling (the waiter, which lists every result each
//! poll). The emulator and the client share a manual clock that moves only
//! when the client sleeps, so a run takes no wall time to speak of and
//! every count is the same on every run.
//!
//! Used by the `follow_cost` example (the figures in BENCHMARKS.md) and by
//! the `watch` test (the bounds).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use ecs_assist::Client;
use ecs_assist::config::{AsyncSleep, SleepFuture};
use ecs_emulator::{DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET, DataSet, Emulator};
use ecs_sign::test_util::ManualTimeSource;
use ecs_transport::{HyperTransport, Transport, TransportFuture};
use futures::StreamExt as _;

/// The order in which instances finish.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Order {
    /// In the order of the listing (instance 0 first).
    Listing,
    /// In a shuffled order.
    Shuffled,
}

/// What one run cost.
#[derive(Debug, Clone, Default)]
pub(crate) struct Cost {
    /// Polls made.
    pub(crate) polls: u64,
    /// Requests sent.
    pub(crate) requests: u64,
    /// Of them, pages of still-running records (`InvokeRecordStatus=Running`).
    pub(crate) running_pages: u64,
    /// Of them, pages of the first listing of every result.
    pub(crate) first_listing_pages: u64,
    /// Response bytes read.
    pub(crate) bytes: u64,
    /// Results yielded (watch) or in the outcome (waiter).
    pub(crate) results: u64,
    /// The most times one finished output was downloaded.
    pub(crate) most_downloads_of_one_output: u64,
}

/// The marker each finished output starts with.
const MARK: &str = "done:";

/// Counts requests, response bytes, and the finished outputs in each body.
#[derive(Debug)]
struct Counting {
    inner: HyperTransport,
    log: Mutex<Log>,
}

#[derive(Debug, Default)]
struct Log {
    queries: Vec<String>,
    bytes: u64,
    outputs: HashMap<String, u64>,
}

impl Transport for Counting {
    fn send(&self, request: http::Request<Bytes>) -> TransportFuture<'_> {
        let query = request.uri().query().unwrap_or_default().to_owned();
        Box::pin(async move {
            let response = self.inner.send(request).await?;
            let page = ecs_assist::model::decode_json(response.body()).ok();
            if let Ok(mut log) = self.log.lock() {
                log.queries.push(query);
                log.bytes += response.body().len() as u64;
                for result in page.iter().flat_map(|p| &p.invocation.results) {
                    let Ok(output) = result.output_bytes() else {
                        continue;
                    };
                    if output.starts_with(MARK.as_bytes()) {
                        *log.outputs.entry(result.instance_id.clone()).or_default() += 1;
                    }
                }
            }
            Ok(response)
        })
    }
}

/// A sleep that moves the shared manual clock.
#[derive(Debug)]
struct ClockSleep(Arc<ManualTimeSource>);

impl AsyncSleep for ClockSleep {
    fn sleep(&self, duration: Duration) -> SleepFuture {
        self.0
            .advance(time::Duration::try_from(duration).unwrap_or(time::Duration::MAX));
        Box::pin(std::future::ready(()))
    }
}

/// One invocation on `instances` instances, finishing one every 20 ms from
/// 1 s on (the last after about 21 s), in `order`; each output is 200
/// bytes starting with [`MARK`] and the instance id.
fn data(instances: usize, order: Order) -> DataSet {
    let mut times: Vec<u64> = (0..instances as u64).map(|i| 1_000 + i * 20).collect();
    if order == Order::Shuffled {
        // A fixed permutation (an LCG), so every run is the same.
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        for i in (1..times.len()).rev() {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            let j = usize::try_from((state >> 33) % (i as u64 + 1)).unwrap_or(0);
            times.swap(i, j);
        }
    }
    let results: Vec<String> = times
        .iter()
        .enumerate()
        .map(|(i, ms)| {
            let status = if i % 10 == 3 { "Failed" } else { "Success" };
            let output = format!("{MARK}i-{i:04};{}\\n", "x".repeat(180));
            format!(
                r#"{{"instance_id":"i-{i:04}","status":"{status}","exit_code":0,"output":"{output}","running_for_ms":{ms}}}"#
            )
        })
        .collect();
    let json = format!(
        r#"{{"invocations":[{{"invoke_id":"t-follow","command_id":"c-follow","results":[{}]}}]}}"#,
        results.join(",")
    );
    DataSet::from_json(&json).unwrap_or_default()
}

/// How a run follows the invocation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum How {
    /// The watch stream.
    Watch,
    /// The watch stream with `fewer_requests`.
    WatchFewerRequests,
    /// The waiter: every result, every poll.
    PlainPolling,
}

/// Follows 1,000 (or `instances`) instances with a 1 s poll interval.
pub(crate) async fn measure(instances: usize, order: Order, how: How) -> Cost {
    let clock = Arc::new(ManualTimeSource::new(
        time::OffsetDateTime::from_unix_timestamp(1_780_000_000)
            .unwrap_or(time::OffsetDateTime::UNIX_EPOCH),
    ));
    let emulator = Emulator::builder()
        .data(data(instances, order))
        .time_source(Arc::clone(&clock))
        .start()
        .await
        .expect("the emulator starts");
    let transport = Arc::new(Counting {
        inner: HyperTransport::builder().build().expect("a transport"),
        log: Mutex::default(),
    });
    let client = Client::builder()
        .region("cn-hangzhou")
        .endpoint(emulator.url())
        .access_key(DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET)
        .transport(Arc::clone(&transport))
        .time_source(Arc::clone(&clock))
        .sleep(ClockSleep(Arc::clone(&clock)))
        // The manual sleep is over at once: no deadline races the requests.
        .operation_timeout(None)
        .build()
        .expect("a client");
    let interval = Duration::from_secs(1);
    let (results, polls) = match how {
        How::Watch | How::WatchFewerRequests => {
            let fewer = how == How::WatchFewerRequests;
            let mut watch = client.watch_invocation("t-follow").configure(|w| {
                w.poll_interval(interval)
                    .max_poll_interval(interval * 8)
                    .fewer_requests(fewer)
            });
            let mut yielded = 0u64;
            while let Some(result) = watch.next().await {
                result.expect("no error");
                yielded += 1;
            }
            (yielded, u64::from(watch.polls()))
        }
        How::PlainPolling => {
            let outcome = client
                .wait_for_invocation("t-follow")
                .poll_interval(interval)
                .max_poll_interval(interval)
                .send()
                .await
                .expect("the wait ends");
            (outcome.results().len() as u64, u64::from(outcome.polls()))
        }
    };
    emulator.shutdown().await;
    let log = transport
        .log
        .lock()
        .map(|mut l| std::mem::take(&mut *l))
        .unwrap_or_default();
    let running_pages = log
        .queries
        .iter()
        .filter(|q| q.contains("InvokeRecordStatus=Running"))
        .count() as u64;
    let first_listing_pages = match how {
        How::Watch | How::WatchFewerRequests => log
            .queries
            .iter()
            .take_while(|q| !q.contains("InvokeRecordStatus=Running"))
            .count() as u64,
        How::PlainPolling => 0,
    };
    Cost {
        polls,
        requests: log.queries.len() as u64,
        running_pages,
        first_listing_pages,
        bytes: log.bytes,
        results,
        most_downloads_of_one_output: log.outputs.values().copied().max().unwrap_or(0),
    }
}
