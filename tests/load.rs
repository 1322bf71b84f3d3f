//! Load: many concurrent paginated streams against one emulator that fails
//! 5% of requests (throttling with a retry-after, 503s, connection resets),
//! seeded. Every stream must return exactly the fault-free results, in
//! order, none lost or repeated; half of them read ahead.
//!
//! The normal suite runs a scaled-down load (debug builds on two cores);
//! the full size (64 streams of 10,000 results) is an ignored test for a
//! release build:
//! `cargo test --release -p ecs-tests --test ecs_tests load::full -- --ignored`.

use std::sync::Arc;
use std::time::Duration;

use ecs_assist::{Client, RetryConfig};
use ecs_emulator::{DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET, Emulator, Fault};
use futures::TryStreamExt as _;

use crate::support::Key;

/// The faults: 5% of requests in all, drawn from the seeded generator.
const FAULTS: [&str; 3] = ["throttle:0.02:5ms", "error503:0.02", "reset:0.01"];
/// Results a page (the API's maximum).
const PAGE: i64 = 50;

async fn stream_all(client: &Client, read_ahead: bool) -> Result<Vec<Key>, ecs_assist::Error> {
    client
        .describe_invocation_results()
        .max_results(PAGE)
        .into_paginator()
        .read_ahead(read_ahead)
        .items()
        .map_ok(|r| (r.invoke_id, r.instance_id, r.repeats))
        .try_collect()
        .await
}

/// `streams` concurrent streams over `results` generated results, with
/// the faults on; each must equal the fault-free run.
async fn load(streams: usize, results: u64, limit: Duration) {
    let faults: Vec<Fault> = FAULTS.iter().map(|f| f.parse().unwrap()).collect();
    let emulator = Emulator::builder()
        .generate(results)
        .seed(2026)
        .start()
        .await
        .unwrap();
    // One client shared by every stream (one connection pool, one retry
    // budget), retrying fast: 5% faults make three in a row rare but not
    // impossible over thousands of pages, so it allows 10 attempts.
    let client = Client::builder()
        .region("cn-hangzhou")
        .endpoint(emulator.url())
        .access_key(DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET)
        .operation_timeout(Some(Duration::from_secs(60)))
        .retry_config(RetryConfig {
            max_attempts: 10,
            base_delay: Duration::from_millis(1),
            throttling_base_delay: Duration::from_millis(1),
            max_delay: Duration::from_millis(50),
            jitter_seed: Some(5),
            ..RetryConfig::default()
        })
        .build()
        .unwrap();

    let expected = Arc::new(
        tokio::time::timeout(limit, stream_all(&client, false))
            .await
            .unwrap_or_else(|_| panic!("the fault-free stream did not finish in {limit:?}"))
            .unwrap(),
    );
    assert_eq!(expected.len() as u64, results);
    let fault_free = emulator.requests();
    emulator.set_faults(faults);

    let run = async {
        let tasks: Vec<_> = (0..streams)
            .map(|i| {
                let client = client.clone();
                let expected = Arc::clone(&expected);
                tokio::spawn(async move {
                    // Every other stream reads ahead, so the faults hit
                    // requests sent ahead of their turn too.
                    let got = stream_all(&client, i % 2 == 1)
                        .await
                        .unwrap_or_else(|e| panic!("stream {i}: {e}"));
                    assert_eq!(got.len(), expected.len(), "stream {i}: result count");
                    assert!(got == *expected, "stream {i}: results differ");
                })
            })
            .collect();
        for task in tasks {
            task.await.unwrap();
        }
    };
    tokio::time::timeout(limit, run)
        .await
        .unwrap_or_else(|_| panic!("{streams} streams of {results} did not finish in {limit:?}"));

    // The faults fired: more requests than pages, about 5% more.
    let pages = fault_free * streams as u64;
    let sent = emulator.requests() - fault_free;
    eprintln!("{streams} streams of {results}: {sent} requests for {pages} pages");
    assert!(
        sent > pages + pages / 50,
        "{sent} requests for {pages} pages: the faults did not fire"
    );
    assert!(
        sent < pages + pages / 5,
        "{sent} requests for {pages} pages: far more retries than 5% faults need"
    );
    emulator.shutdown().await;
}

/// The normal suite's size: the full concurrency, 64 streams, over 1,000
/// results each (1,280 pages).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scaled_down_streams_survive_five_percent_faults() {
    load(64, 1_000, Duration::from_secs(120)).await;
}

/// The full size: 64 streams of 10,000 results (12,800 pages). Release
/// builds only (see the module docs).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "full-size load: run in release, see RELIABILITY.md"]
async fn full_size_streams_survive_five_percent_faults() {
    load(64, 10_000, Duration::from_secs(300)).await;
}
