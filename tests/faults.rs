//! The fault matrix: every emulator fault against one call, a paginated
//! stream and the waiter, first on the next requests only (the client's
//! retries must recover with nothing lost or repeated), then on every
//! request (the client must end with a typed error that names the cause).
//!
//! Each test checks its outcomes, renders them as a row, and compares the
//! row with RELIABILITY.md, so the table there is what these tests observe
//! (a stale row fails the test, with the row to paste in its message).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use ecs_assist::{Client, Error, ErrorKind, PaginatorPosition, RetryConfig};
use ecs_emulator::{
    DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET, DataSet, Emulator, EmulatorHandle, Fault,
};
use ecs_sign::test_util::ManualTimeSource;
use ecs_sign::{SystemTimeSource, TimeSource as _};
use futures::TryStreamExt as _;

use crate::support::{Key, bounded, keys};

/// Attempts per call (the first included).
const MAX_ATTEMPTS: u32 = 3;
/// The attempt timeout of the `delay` case (the delay is longer).
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(1);
/// The invocation of the one-call scenario (demo data: 3 results).
const ONE_CALL_INVOKE_ID: &str = "t-hz0jdfwd9f1234";
/// The stream scenario: this many generated results, this many a page.
const STREAM_RESULTS: u64 = 300;
const STREAM_PAGE: i64 = 20;
/// The waiter scenario's invocation (2 instances, running for a minute).
const WAIT_INVOKE_ID: &str = "t-wait";

/// One row of the matrix: a fault and what the client must do about it.
struct Case {
    /// The row's label in RELIABILITY.md.
    label: &'static str,
    /// The fault, without its trigger.
    fault: &'static str,
    /// Whether the client retries it.
    retried: bool,
    /// The error kind when it never stops.
    kind: ErrorKind,
    /// What the error's `Display` says when it never stops.
    says: &'static str,
    /// What its cause (`source()`) says, when `Display` alone is vague.
    cause_says: Option<&'static str>,
}

impl Case {
    /// How many requests the transient fault hits: enough to need retries,
    /// few enough for the attempts to succeed (one for faults that are not
    /// retried).
    fn transient_count(&self) -> u64 {
        if self.retried {
            u64::from(MAX_ATTEMPTS) - 1
        } else {
            1
        }
    }

    fn transient(&self) -> Fault {
        format!("{}:x{}", self.fault, self.transient_count())
            .parse()
            .unwrap()
    }

    fn always(&self) -> Fault {
        self.fault.parse().unwrap()
    }

    /// The attempts a persistent fault gets.
    fn attempts(&self) -> u32 {
        if self.retried { MAX_ATTEMPTS } else { 1 }
    }
}

/// Fast retries with the real tokio sleep: tiny backoff, seeded jitter.
fn client(emulator: &EmulatorHandle, clock: Option<Arc<ManualTimeSource>>) -> Client {
    let mut builder = Client::builder()
        .region("cn-hangzhou")
        .endpoint(emulator.url())
        .access_key(DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET)
        .attempt_timeout(ATTEMPT_TIMEOUT)
        .retry_config(RetryConfig {
            max_attempts: MAX_ATTEMPTS,
            base_delay: Duration::from_millis(1),
            throttling_base_delay: Duration::from_millis(1),
            max_delay: Duration::from_millis(200),
            jitter_seed: Some(7),
            ..RetryConfig::default()
        });
    if let Some(clock) = clock {
        builder = builder.time_source(clock);
    }
    builder.build().unwrap()
}

/// What one scenario observed.
struct Run {
    /// The results (in order) the caller ended up with.
    keys: Vec<Key>,
    /// Requests the emulator received.
    requests: u64,
    /// Errors that reached the caller on the way (the persistent runs end
    /// with the last one).
    errors: Vec<Error>,
}

// ---------------------------------------------------------------- one call

async fn one_call(fault: Option<Fault>) -> Run {
    let emulator = Emulator::builder()
        .data(DataSet::demo())
        .start()
        .await
        .unwrap();
    let client = client(&emulator, None);
    let call = || {
        client
            .describe_invocation_results()
            .invoke_id(ONE_CALL_INVOKE_ID)
            .send()
    };
    let mut run = Run {
        keys: Vec::new(),
        requests: 0,
        errors: Vec::new(),
    };
    // A first call without faults, so the fault hits a warm connection.
    bounded("one call", call()).await.unwrap();
    let persistent = fault.is_some_and(|f| matches!(f.trigger, ecs_emulator::Trigger::Always));
    emulator.set_faults(fault.into_iter().collect());
    match bounded("one call", call()).await {
        Ok(page) => run.keys = keys(&page.invocation.results),
        Err(e) => run.errors.push(e),
    }
    if !run.errors.is_empty() && !persistent {
        // Not retried: the next call gets the results.
        let page = bounded("one call", call()).await.unwrap();
        run.keys = keys(&page.invocation.results);
    }
    run.requests = emulator.requests();
    emulator.shutdown().await;
    run
}

// ------------------------------------------------------- paginated stream

/// Pages through every generated result; the fault is set after the first
/// page, so it hits the middle of the stream. An error that reaches the
/// caller ends the stream; the caller resumes from the last page it got
/// (the persistent run stops at the first error).
async fn stream(fault: Option<Fault>) -> Run {
    let emulator = Emulator::builder()
        .generate(STREAM_RESULTS)
        .seed(3)
        .start()
        .await
        .unwrap();
    let client = client(&emulator, None);
    let persistent = fault.is_some_and(|f| matches!(f.trigger, ecs_emulator::Trigger::Always));
    let mut run = Run {
        keys: Vec::new(),
        requests: 0,
        errors: Vec::new(),
    };
    let mut position: Option<PaginatorPosition> = None;
    let mut fault = fault;
    'resume: loop {
        let mut paginator = client
            .describe_invocation_results()
            .max_results(STREAM_PAGE)
            .into_paginator();
        if let Some(p) = position.clone() {
            paginator = paginator.resume_from(p);
        }
        let mut pages = paginator.pages();
        loop {
            match bounded("stream", pages.try_next()).await {
                Ok(Some(page)) => {
                    run.keys.extend(keys(page.results()));
                    position = Some(page.position().clone());
                    if let Some(f) = fault.take() {
                        emulator.set_faults(vec![f]);
                    }
                }
                Ok(None) => break 'resume,
                Err(e) => {
                    run.errors.push(e);
                    if persistent || run.errors.len() > 3 {
                        break 'resume;
                    }
                    continue 'resume;
                }
            }
        }
    }
    run.requests = emulator.requests();
    emulator.shutdown().await;
    run
}

// ------------------------------------------------------------------ waiter

fn wait_data() -> DataSet {
    DataSet::from_json(&format!(
        r#"{{"invocations":[{{"invoke_id":"{WAIT_INVOKE_ID}","command_id":"c-wait","results":[
        {{"instance_id":"i-1","status":"Success","exit_code":0,"output":"done\n","running_for_ms":60000}},
        {{"instance_id":"i-2","status":"Success","exit_code":0,"output":"done\n","running_for_ms":60000}}]}}]}}"#
    ))
    .unwrap()
}

/// Waits for an invocation that is running at the first poll; after that
/// poll the fault is set and the emulator's clock moves past the end of the
/// run, so the second poll meets the fault and (once through it) sees every
/// instance finished. Deterministic: the clock is moved by the test.
async fn waiter(fault: Option<Fault>) -> Run {
    let clock = Arc::new(ManualTimeSource::new(SystemTimeSource.now()));
    let emulator = Arc::new(
        Emulator::builder()
            .data(wait_data())
            .time_source(Arc::clone(&clock))
            .start()
            .await
            .unwrap(),
    );
    let client = client(&emulator, Some(Arc::clone(&clock)));
    let persistent = fault.is_some_and(|f| matches!(f.trigger, ecs_emulator::Trigger::Always));
    let wait = |fault: Option<Fault>| {
        let armed = AtomicBool::new(fault.is_some());
        let (emu, clk) = (Arc::clone(&emulator), Arc::clone(&clock));
        client
            .wait_for_invocation(WAIT_INVOKE_ID)
            .poll_interval(Duration::from_millis(10))
            .timeout(Duration::from_secs(600))
            .on_progress(move |seen| {
                if seen.polls() == 1 {
                    if armed.swap(false, Ordering::SeqCst) {
                        emu.set_faults(fault.into_iter().collect());
                    }
                    clk.advance(time::Duration::minutes(2));
                }
            })
            .send()
    };
    let mut run = Run {
        keys: Vec::new(),
        requests: 0,
        errors: Vec::new(),
    };
    match bounded("waiter", wait(fault)).await {
        Ok(outcome) => {
            assert!(outcome.is_success(), "{:?}", outcome.summary());
            run.keys = keys(outcome.results());
        }
        Err(e) => {
            run.errors.push(e);
            if !persistent {
                // Not retried: waiting again succeeds.
                emulator.clear_faults();
                let outcome = bounded("waiter", wait(None)).await.unwrap();
                assert!(outcome.is_success(), "{:?}", outcome.summary());
                run.keys = keys(outcome.results());
            }
        }
    }
    run.requests = emulator.requests();
    let emulator = Arc::try_unwrap(emulator).unwrap();
    emulator.shutdown().await;
    run
}

// ------------------------------------------------------------------ checks

#[derive(Clone, Copy)]
enum Scenario {
    OneCall,
    Stream,
    Waiter,
}

impl Scenario {
    async fn run(self, fault: Option<Fault>) -> Run {
        match self {
            Self::OneCall => one_call(fault).await,
            Self::Stream => stream(fault).await,
            Self::Waiter => waiter(fault).await,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Self::OneCall => "one call",
            Self::Stream => "stream",
            Self::Waiter => "waiter",
        }
    }
}

/// The fault on the next requests: the results are those of the
/// fault-free run, in the same order, none lost or repeated; retried faults
/// cost exactly the faulted requests, others reach the caller once.
async fn transient_cell(case: &Case, scenario: Scenario, baseline: &Run) -> String {
    let started = tokio::time::Instant::now();
    let run = scenario.run(Some(case.transient())).await;
    let took = started.elapsed();
    let what = format!(
        "{} x{} / {}",
        case.fault,
        case.transient_count(),
        scenario.name()
    );
    if case.fault.starts_with("throttle") {
        // `x-acs-retry-after: 50` is honoured before each retry.
        assert!(
            took >= Duration::from_millis(100),
            "{what}: retried after {took:?}"
        );
    }
    assert_eq!(
        run.keys, baseline.keys,
        "{what}: results differ from the fault-free run"
    );
    let mut unique = run.keys.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), run.keys.len(), "{what}: a result repeated");
    let extra = run.requests - baseline.requests;
    let n = case.transient_count();
    if case.retried {
        assert!(run.errors.is_empty(), "{what}: {:?}", run.errors);
        assert_eq!(extra, n, "{what}: one retry per faulted request");
        format!("recovered after {n} retries, results as fault-free")
    } else {
        assert_eq!(run.errors.len(), 1, "{what}: {:?}", run.errors);
        let e = &run.errors[0];
        assert_eq!(e.kind(), case.kind, "{what}: {e}");
        assert_eq!(e.attempts(), 1, "{what}: not retried: {e}");
        assert_eq!(
            extra, n,
            "{what}: one faulted request, then the resumed call"
        );
        let again = match scenario {
            Scenario::OneCall => "the next call",
            Scenario::Stream => "resuming from the last page",
            Scenario::Waiter => "waiting again",
        };
        format!(
            "`{:?}` error (not retried); {again} gets every result",
            e.kind()
        )
    }
}

/// The fault on every request: a typed error naming the cause, after the
/// expected attempts.
async fn persistent_cell(case: &Case, scenario: Scenario, baseline: &Run) -> String {
    let run = scenario.run(Some(case.always())).await;
    let what = format!("{} / {}", case.fault, scenario.name());
    let e = run
        .errors
        .last()
        .unwrap_or_else(|| panic!("{what}: no error"));
    assert_eq!(run.errors.len(), 1, "{what}: {:?}", run.errors);
    assert_eq!(e.kind(), case.kind, "{what}: {e}");
    let text = e.to_string();
    assert!(
        text.contains(case.says),
        "{what}: `{text}` does not say `{}`",
        case.says
    );
    assert!(text.starts_with(char::is_lowercase), "{what}: {text}");
    let cause = std::error::Error::source(e).map(ToString::to_string);
    if let Some(says) = case.cause_says {
        let cause = cause.as_deref().unwrap_or_default();
        assert!(
            cause.contains(says),
            "{what}: the cause `{cause}` does not say `{says}`"
        );
    }
    match case.kind {
        ErrorKind::Service => {
            assert!(e.request_id().is_some(), "{what}: {e}");
            assert!(e.service_error().is_some(), "{what}: {e}");
        }
        ErrorKind::Decode => assert!(e.request_id().is_some(), "{what}: {e}"),
        _ => {}
    }
    if case.fault.starts_with("throttle") {
        assert!(e.is_throttling(), "{what}: {e}");
        assert_eq!(e.code(), Some("Throttling.User"));
        assert_eq!(e.retry_after(), Some(Duration::from_millis(50)));
    }
    if case.fault.starts_with("delay") {
        assert!(e.is_timeout(), "{what}: {e}");
    }
    assert_eq!(e.attempts(), case.attempts(), "{what}: {e}");
    assert_eq!(e.is_retryable(), case.retried, "{what}: {e}");
    // The results before the fault were delivered, and none after it.
    let before = match scenario {
        Scenario::OneCall | Scenario::Waiter => 0,
        Scenario::Stream => STREAM_PAGE as usize,
    };
    assert_eq!(run.keys.len(), before, "{what}");
    assert_eq!(run.keys[..], baseline.keys[..before], "{what}");
    let mut cell = format!(
        "`{:?}` after {} attempt{}: \"{}\"",
        e.kind(),
        e.attempts(),
        if e.attempts() == 1 { "" } else { "s" },
        case.says
    );
    if let Some(says) = case.cause_says {
        cell.push_str(&format!(", cause \"{says}\""));
    }
    cell
}

/// Runs the whole row for `case` and compares it with RELIABILITY.md.
async fn check(case: Case) {
    let scenarios = [Scenario::OneCall, Scenario::Stream, Scenario::Waiter];
    let mut transient = Vec::new();
    let mut persistent = Vec::new();
    for scenario in scenarios {
        let baseline = scenario.run(None).await;
        assert!(!baseline.keys.is_empty() && baseline.errors.is_empty());
        transient.push(transient_cell(&case, scenario, &baseline).await);
        persistent.push(persistent_cell(&case, scenario, &baseline).await);
    }
    let row = |cells: &[String]| format!("| {} | {} |", case.label, cells.join(" | "));
    let stale: Vec<String> = [
        compare_with_doc(
            "transient",
            &format!("`{}:x{}`", case.fault, case.transient_count()),
            &row(&transient),
        ),
        compare_with_doc(
            "persistent",
            &format!("`{}`", case.fault),
            &row(&persistent),
        ),
    ]
    .into_iter()
    .flatten()
    .collect();
    assert!(stale.is_empty(), "{}", stale.join("\n"));
}

/// Finds the row of `fault` in the `table` section of RELIABILITY.md; says
/// what is wrong when it does not read `expected`.
fn compare_with_doc(table: &str, fault: &str, expected: &str) -> Option<String> {
    let expected = expected.replacen("| ", &format!("| {fault} | "), 1);
    let path = ecs_tests::workspace_root().join("RELIABILITY.md");
    let doc = std::fs::read_to_string(&path).unwrap();
    let begin = format!("<!-- {table}:begin -->");
    let end = format!("<!-- {table}:end -->");
    let Some(section) = doc
        .split_once(&begin)
        .and_then(|(_, rest)| rest.split_once(&end))
        .map(|(section, _)| section)
    else {
        return Some(format!(
            "RELIABILITY.md has no `{begin}` ... `{end}` section"
        ));
    };
    match section
        .lines()
        .find(|l| l.starts_with(&format!("| {fault} |")))
    {
        Some(found) if found == expected => None,
        Some(found) => Some(format!(
            "RELIABILITY.md ({table}) is out of date for {fault}:\n{found}\nthe tests observe:\n{expected}"
        )),
        None => Some(format!(
            "RELIABILITY.md ({table}) has no row for {fault}; add:\n{expected}"
        )),
    }
}

// ------------------------------------------------------------------- cases

#[tokio::test]
async fn throttling_with_retry_after() {
    check(Case {
        label: "throttling, `x-acs-retry-after: 50`",
        fault: "throttle:50ms",
        retried: true,
        kind: ErrorKind::Service,
        says: "Throttling.User",
        cause_says: None,
    })
    .await;
}

#[tokio::test]
async fn internal_error_500() {
    check(Case {
        label: "500 `InternalError`",
        fault: "error500",
        retried: true,
        kind: ErrorKind::Service,
        says: "http status 500",
        cause_says: None,
    })
    .await;
}

#[tokio::test]
async fn service_unavailable_503() {
    check(Case {
        label: "503 `ServiceUnavailable`",
        fault: "error503",
        retried: true,
        kind: ErrorKind::Service,
        says: "http status 503",
        cause_says: None,
    })
    .await;
}

#[tokio::test]
async fn connection_reset() {
    check(Case {
        label: "connection closed without an answer",
        fault: "reset",
        retried: true,
        kind: ErrorKind::Transport,
        says: "no complete response from the service",
        cause_says: Some("closed the connection before answering"),
    })
    .await;
}

#[tokio::test]
async fn truncated_body() {
    check(Case {
        label: "body cut short (connection closes)",
        fault: "truncate",
        retried: true,
        kind: ErrorKind::Transport,
        says: "no complete response from the service",
        cause_says: Some("was cut short"),
    })
    .await;
}

#[tokio::test]
async fn delay_past_the_attempt_timeout() {
    check(Case {
        label: "answer delayed 3 s, attempt timeout 1 s",
        fault: "delay:3s",
        retried: true,
        kind: ErrorKind::Transport,
        says: "attempt timeout of 1000 ms",
        cause_says: None,
    })
    .await;
}

#[tokio::test]
async fn html_error_page() {
    check(Case {
        label: "502 HTML page (load balancer)",
        fault: "html",
        retried: true,
        kind: ErrorKind::Service,
        says: "http status 502 without an error document",
        cause_says: None,
    })
    .await;
}

#[tokio::test]
async fn malformed_json() {
    check(Case {
        label: "200 with malformed JSON",
        fault: "badjson",
        retried: false,
        kind: ErrorKind::Decode,
        says: "body is not a DescribeInvocationResults response",
        cause_says: Some("malformed JSON response body at line 1"),
    })
    .await;
}

#[tokio::test]
async fn malformed_xml() {
    check(Case {
        label: "200 with malformed XML",
        fault: "badxml",
        retried: false,
        kind: ErrorKind::Decode,
        says: "body is not a DescribeInvocationResults response",
        cause_says: Some("malformed XML response body at line 1"),
    })
    .await;
}
