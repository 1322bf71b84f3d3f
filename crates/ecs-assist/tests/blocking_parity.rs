//! The blocking client's parity with the async one: the waiter's settings
//! under the same names, the emulator started without a runtime, and a clear
//! error (not tokio's panic) when it is called on a runtime's thread.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use ecs_assist::ErrorKind;
use ecs_emulator::{DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET, DataSet, Emulator, demo};

fn blocking_client(url: &str) -> ecs_assist::blocking::Client {
    ecs_assist::blocking::Client::builder()
        .region("cn-hangzhou")
        .endpoint(url)
        .access_key(DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET)
        .build()
        .unwrap()
}

/// A plain `#[test]`: no runtime anywhere in the test's own code.
#[test]
fn a_plain_test_waits_with_the_async_waiters_settings_on_a_blocking_emulator() {
    let emulator = Emulator::builder()
        .data(DataSet::demo())
        .start_blocking()
        .unwrap();
    let client = blocking_client(&emulator.url());
    let polls = Arc::new(AtomicU32::new(0));
    let seen = Arc::clone(&polls);
    let outcome = client
        .wait_for_invocation(demo::DEPLOYMENT)
        .poll_interval(Duration::from_millis(50))
        .max_poll_interval(Duration::from_millis(200))
        .not_found_grace(Duration::from_secs(5))
        .fail_fast(true)
        .timeout(Duration::from_secs(30))
        .with_max_attempts(2)
        .with_operation_timeout(Some(Duration::from_secs(10)))
        .on_progress(move |_| {
            seen.fetch_add(1, Ordering::SeqCst);
        })
        .send()
        .unwrap();
    assert!(outcome.is_success(), "{}", outcome.summary());
    // The deployment runs for 3 to 5 s; at most 200 ms apart, that is many polls.
    assert!(polls.load(Ordering::SeqCst) >= 5, "{polls:?}");
    assert_eq!(u64::from(polls.load(Ordering::SeqCst)), emulator.requests());
    emulator.shutdown();
}

/// The blocking emulator also works where a runtime runs (its own thread
/// keeps it off the caller's runtime), and stops when dropped.
#[tokio::test]
async fn the_blocking_emulator_serves_the_async_client_inside_a_runtime() {
    let emulator = Emulator::builder()
        .data(DataSet::demo())
        .start_blocking()
        .unwrap();
    let client = ecs_assist::Client::builder()
        .region("cn-hangzhou")
        .endpoint(emulator.url())
        .access_key(DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET)
        .build()
        .unwrap();
    let page = client
        .describe_invocation_results()
        .invoke_id(demo::DISK_CHECK)
        .send()
        .await
        .unwrap();
    assert_eq!(page.invocation.results.len(), 3);
    let addr = emulator.addr();
    drop(emulator);
    // Dropped: the port stops accepting soon after.
    let mut refused = false;
    for _ in 0..100 {
        if std::net::TcpStream::connect(addr).is_err() {
            refused = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(refused, "the dropped emulator still accepts on {addr}");
}

fn assert_inside_a_runtime_error(err: &ecs_assist::Error) {
    assert_eq!(err.kind(), ErrorKind::InvalidConfig, "{err}");
    let message = err.to_string();
    assert!(message.contains("tokio runtime"), "{message}");
    assert!(message.contains("spawn_blocking"), "{message}");
}

async fn blocking_calls_on_a_runtime_thread_are_errors(multi_thread: bool) {
    let emulator = Emulator::builder()
        .data(DataSet::demo())
        .start()
        .await
        .unwrap();
    let client = blocking_client(&emulator.url());
    let err = client
        .describe_invocation_results()
        .invoke_id(demo::DISK_CHECK)
        .send()
        .unwrap_err();
    assert_inside_a_runtime_error(&err);
    let err = client.describe_invocation_results().prepare().unwrap_err();
    assert_inside_a_runtime_error(&err);
    let err = client
        .wait_for_invocation(demo::DEPLOYMENT)
        .send()
        .unwrap_err();
    assert_inside_a_runtime_error(&err);
    // An iterator gives the error once, then ends.
    let mut items = client
        .describe_invocation_results()
        .into_paginator()
        .items();
    assert_inside_a_runtime_error(&items.next().unwrap().unwrap_err());
    assert!(items.next().is_none());
    let mut pages = client
        .describe_invocation_results()
        .into_paginator()
        .pages();
    assert_inside_a_runtime_error(&pages.next().unwrap().unwrap_err());
    assert!(pages.next().is_none());
    assert_eq!(emulator.requests(), 0, "nothing is sent");

    // What the error advises works: in spawn_blocking, it calls.
    let moved = client.clone();
    let page = tokio::task::spawn_blocking(move || {
        moved
            .describe_invocation_results()
            .invoke_id(demo::DISK_CHECK)
            .send()
    })
    .await
    .unwrap()
    .unwrap();
    assert_eq!(page.invocation.results.len(), 3);
    if multi_thread {
        // In an async task it runs on a helper thread (blocking this worker
        // while the other serves the emulator).
        let moved = client.clone();
        let page = tokio::spawn(async move {
            moved
                .describe_invocation_results()
                .invoke_id(demo::DISK_CHECK)
                .send()
        })
        .await
        .unwrap()
        .unwrap();
        assert_eq!(page.invocation.results.len(), 3);
    }
    // Dropping the client (its runtime) here must not panic either.
    drop(client);
    emulator.shutdown().await;
}

#[tokio::test(flavor = "current_thread")]
async fn on_a_current_thread_runtime_the_blocking_client_returns_an_error() {
    blocking_calls_on_a_runtime_thread_are_errors(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_a_multi_thread_runtime_the_blocking_client_returns_an_error() {
    blocking_calls_on_a_runtime_thread_are_errors(true).await;
}
