//! Retry behaviour over a scripted transport: what is retried, how long the
//! client waits, the budget, the deadline, fresh signatures per attempt.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use ecs_assist::config::{AsyncSleep, SleepFuture};
use ecs_assist::{Client, ErrorKind, RetryConfig};
use ecs_sign::test_util::{ManualTimeSource, SequenceNonceSource};
use ecs_transport::{Transport, TransportError, TransportErrorKind, TransportFuture};
use time::macros::datetime;

type Reply = Result<http::Response<Bytes>, TransportError>;

#[derive(Debug, Default)]
struct Scripted {
    replies: Mutex<VecDeque<Reply>>,
    requests: Mutex<Vec<http::Request<Bytes>>>,
}

impl Scripted {
    fn new(replies: Vec<Reply>) -> Arc<Self> {
        Arc::new(Self {
            replies: Mutex::new(replies.into()),
            requests: Mutex::default(),
        })
    }
    fn sent(&self) -> Vec<http::Request<Bytes>> {
        self.requests.lock().unwrap().clone()
    }
}

impl Transport for Scripted {
    fn send(&self, request: http::Request<Bytes>) -> TransportFuture<'_> {
        self.requests.lock().unwrap().push(request);
        let reply = self
            .replies
            .lock()
            .unwrap()
            .pop_front()
            .unwrap_or_else(|| Ok(error_reply(500, "InternalError", None)));
        Box::pin(std::future::ready(reply))
    }
}

/// A sleep that moves the manual clock and records every wait.
#[derive(Debug, Clone)]
struct ClockSleep {
    clock: Arc<ManualTimeSource>,
    log: Arc<Mutex<Vec<Duration>>>,
}

impl AsyncSleep for ClockSleep {
    fn sleep(&self, duration: Duration) -> SleepFuture {
        // The clock moves when the sleep is polled, as a real timer's
        // deadline passes only while it is awaited.
        let this = self.clone();
        Box::pin(async move {
            this.clock
                .advance(time::Duration::try_from(duration).unwrap());
            this.log.lock().unwrap().push(duration);
        })
    }
}

fn ok_reply() -> http::Response<Bytes> {
    http::Response::builder()
        .header("content-type", "application/json")
        .body(Bytes::from_static(
            br#"{"RequestId":"R-OK","Invocation":{"TotalCount":1,"InvocationResults":{"InvocationResult":[{"InstanceId":"i-1","InvokeId":"t-1","InvocationStatus":"Success"}]}}}"#,
        ))
        .unwrap()
}

fn error_reply(status: u16, code: &str, retry_after: Option<&str>) -> http::Response<Bytes> {
    let mut b = http::Response::builder()
        .status(status)
        .header("content-type", "application/json");
    if let Some(ms) = retry_after {
        b = b.header("x-acs-retry-after", ms);
    }
    b.body(Bytes::from(format!(
        r#"{{"RequestId":"R-{code}","Code":"{code}","Message":"m"}}"#
    )))
    .unwrap()
}

fn setup(replies: Vec<Reply>, retry: RetryConfig) -> (Client, Arc<Scripted>, ClockSleep) {
    let transport = Scripted::new(replies);
    let clock = Arc::new(ManualTimeSource::new(datetime!(2026-11-26 05:00:00 UTC)));
    let sleep = ClockSleep {
        clock: Arc::clone(&clock),
        log: Arc::default(),
    };
    let client = Client::builder()
        .region("cn-hangzhou")
        .access_key("AKID", "SECRET")
        .transport(Arc::clone(&transport))
        .time_source(Arc::clone(&clock))
        .nonce_source(SequenceNonceSource::new(9))
        .sleep(sleep.clone())
        .retry_config(retry.with_jitter_seed(3))
        .build()
        .unwrap();
    (client, transport, sleep)
}

async fn call(
    client: &Client,
) -> Result<ecs_assist::DescribeInvocationResultsResponse, ecs_assist::Error> {
    tokio::time::timeout(
        Duration::from_secs(10),
        client.describe_invocation_results().invoke_id("t-1").send(),
    )
    .await
    .expect("the call finished")
}

#[tokio::test]
async fn throttling_is_retried_after_the_servers_delay_with_fresh_signatures() {
    let (client, transport, sleep) = setup(
        vec![
            Ok(error_reply(400, "Throttling.User", Some("250"))),
            Ok(error_reply(400, "Throttling.User", Some("750"))),
            Ok(ok_reply()),
        ],
        RetryConfig::default(),
    );
    let response = call(&client).await.unwrap();
    assert_eq!(response.request_id, "R-OK");
    assert_eq!(
        *sleep.log.lock().unwrap(),
        vec![Duration::from_millis(250), Duration::from_millis(750)]
    );
    let sent = transport.sent();
    assert_eq!(sent.len(), 3);
    let nonces: Vec<_> = sent
        .iter()
        .map(|r| r.headers()["x-acs-signature-nonce"].clone())
        .collect();
    assert!(
        nonces[0] != nonces[1] && nonces[1] != nonces[2],
        "{nonces:?}"
    );
    let dates: Vec<_> = sent
        .iter()
        .map(|r| r.headers()["x-acs-date"].clone())
        .collect();
    assert_ne!(
        dates[0], dates[2],
        "the clock moved, so the timestamp must too"
    );
}

#[tokio::test]
async fn transient_errors_are_retried_with_jittered_backoff_until_attempts_run_out() {
    let (client, transport, sleep) = setup(Vec::new(), RetryConfig::default());
    let err = call(&client).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Service);
    assert_eq!(err.code(), Some("InternalError"));
    assert_eq!(err.attempts(), 4);
    assert!(err.is_retryable());
    assert_eq!(err.request_id(), Some("R-InternalError"));
    assert_eq!(transport.sent().len(), 4);
    let log = sleep.log.lock().unwrap().clone();
    assert_eq!(log.len(), 3);
    for (i, d) in log.iter().enumerate() {
        assert!(*d <= Duration::from_millis(100 << i), "retry {i}: {d:?}");
    }
}

#[tokio::test]
async fn jitter_is_reproducible_with_a_seed() {
    let (a, _, sa) = setup(Vec::new(), RetryConfig::default());
    let (b, _, sb) = setup(Vec::new(), RetryConfig::default());
    let _ = call(&a).await;
    let _ = call(&b).await;
    assert_eq!(*sa.log.lock().unwrap(), *sb.log.lock().unwrap());
}

#[tokio::test]
async fn final_errors_are_not_retried() {
    let (client, transport, _) = setup(
        vec![Ok(error_reply(400, "SignatureDoesNotMatch", None))],
        RetryConfig::default(),
    );
    let err = call(&client).await.unwrap_err();
    assert_eq!(transport.sent().len(), 1);
    assert!(!err.is_retryable());
    assert!(err.to_string().contains("clock"), "{err}");
}

#[tokio::test]
async fn retryable_transport_errors_are_retried_and_others_are_not() {
    let (client, transport, _) = setup(
        vec![
            Err(TransportError::new(TransportErrorKind::Connect, "refused")),
            Err(TransportError::new(TransportErrorKind::Io, "reset")),
            Ok(ok_reply()),
        ],
        RetryConfig::default(),
    );
    assert!(call(&client).await.is_ok());
    assert_eq!(transport.sent().len(), 3);

    let (client, transport, _) = setup(
        vec![Err(TransportError::new(
            TransportErrorKind::Tls,
            "bad cert",
        ))],
        RetryConfig::default(),
    );
    let err = call(&client).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Transport);
    assert_eq!(transport.sent().len(), 1);
    assert!(std::error::Error::source(&err).is_some());
}

#[tokio::test]
async fn the_budget_stops_retry_storms_and_successes_refill_it() {
    let retry = RetryConfig {
        budget_capacity: 10,
        retry_cost: 5,
        ..RetryConfig::default()
    };
    let (client, transport, _) = setup(Vec::new(), retry);
    // First call: two retries take the whole budget (3 attempts).
    let _ = call(&client).await.unwrap_err();
    assert_eq!(transport.sent().len(), 3);
    assert_eq!(client.retry_budget_available(), 0);
    // Second call: no budget left, a single attempt.
    let _ = call(&client).await.unwrap_err();
    assert_eq!(transport.sent().len(), 4);
}

#[tokio::test]
async fn the_deadline_ends_retries() {
    let (client, _, sleep) = setup(
        vec![
            Ok(error_reply(400, "Throttling.User", Some("1500"))),
            Ok(error_reply(400, "Throttling.User", Some("1500"))),
        ],
        RetryConfig::default(),
    );
    let err = tokio::time::timeout(
        Duration::from_secs(10),
        client
            .describe_invocation_results()
            .invoke_id("t-1")
            .with_operation_timeout(Some(Duration::from_secs(2)))
            .send(),
    )
    .await
    .unwrap()
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Deadline);
    assert!(err.is_timeout());
    assert_eq!(err.request_id(), Some("R-Throttling.User"));
    assert_eq!(
        sleep.log.lock().unwrap().len(),
        1,
        "slept once, then the next wait would pass the deadline"
    );
}

#[tokio::test]
async fn invalid_requests_are_not_sent() {
    let (client, transport, _) = setup(Vec::new(), RetryConfig::default());
    let err = client
        .describe_invocation_results()
        .max_results(51)
        .page_size(0)
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert!(err.is_invalid_input());
    let problems = err.validation_errors().unwrap();
    assert!(
        problems.concerns("MaxResults") && problems.concerns("PageSize"),
        "{problems}"
    );
    assert!(err.to_string().contains("MaxResults"), "{err}");
    assert!(transport.sent().is_empty());
}

#[tokio::test]
async fn disabled_retries_make_one_attempt() {
    let (client, transport, _) = setup(Vec::new(), RetryConfig::disabled());
    let err = call(&client).await.unwrap_err();
    assert_eq!(err.attempts(), 1);
    assert_eq!(transport.sent().len(), 1);
}

#[tokio::test]
async fn a_5xx_is_retried_whatever_its_code() {
    for status in [500, 502, 503, 504] {
        let (client, transport, _) = setup(
            vec![
                Ok(error_reply(status, "Gateway.Upstream.Timeout", None)),
                Ok(ok_reply()),
            ],
            RetryConfig::default(),
        );
        let response = call(&client).await.unwrap();
        assert_eq!(response.request_id, "R-OK", "{status}");
        assert_eq!(transport.sent().len(), 2, "{status}");
    }
    // A code known to be final stays final on a 5xx.
    let (client, transport, _) = setup(
        vec![Ok(error_reply(503, "InvalidAccessKeyId.NotFound", None))],
        RetryConfig::default(),
    );
    let err = call(&client).await.unwrap_err();
    assert_eq!(transport.sent().len(), 1);
    assert!(!err.is_retryable());
}

#[tokio::test]
async fn x_acs_retry_after_never_makes_a_final_error_retryable() {
    let (client, transport, sleep) = setup(
        vec![Ok(error_reply(403, "Forbidden.RAM", Some("5000")))],
        RetryConfig::default(),
    );
    let err = call(&client).await.unwrap_err();
    assert_eq!(transport.sent().len(), 1, "a final error is sent once");
    assert!(!err.is_retryable());
    assert_eq!(err.code(), Some("Forbidden.RAM"));
    assert!(
        sleep.log.lock().unwrap().is_empty(),
        "no wait before failing"
    );
}
