//! The waiter's limits and timing on a manual clock, against a service
//! whose one instance never finishes.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use bytes::Bytes;
use ecs_assist::config::{AsyncSleep, MAX_POLL_INTERVAL, MAX_WAIT_TIMEOUT, SleepFuture};
use ecs_assist::{Client, ErrorKind, WaitForInvocation};
use ecs_sign::test_util::ManualTimeSource;
use ecs_transport::{Transport, TransportFuture};

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
fn on_manual_clock(took: time::Duration) -> (Client, Arc<AlwaysRunning>, Arc<ManualTimeSource>) {
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
            && waited <= time::Duration::try_from(MAX_WAIT_TIMEOUT + MAX_POLL_INTERVAL).unwrap(),
        "{waited}"
    );
    // One poll an hour for a week, and the first and last.
    let polls = service.requests.load(Ordering::SeqCst);
    assert!((168..=172).contains(&polls), "{polls}");
}
