//! End to end: fetch 10,000 results (MaxResults 50, 200 requests) from the
//! emulator over loopback with `ecs-assist`, in the same run as the limit: a
//! bare hyper-util loop sending the same 200 requests, pre-signed, on one
//! keep-alive connection. Target: the client's default paginator at least
//! 0.9 of the bare loop. `ecs_assist_items_read_ahead` (the default) asks for
//! each next page while it decodes the current one, in `block_on` and in a
//! spawned task; `ecs_assist_items` pages lazily (`.read_ahead(false)`).
//! `bare_hyper_presigned_serde_value` is the bare loop that also parses each
//! page into a `serde_json::Value` (the bare loop never parses a body).
//! `hyper_transport_presigned` sends the same pre-signed requests through
//! `ecs-transport`'s `HyperTransport`, to separate the transport's share
//! from the client pipeline's.
//!
//! `cargo bench -p ecs-tests --bench e2e`

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use bytes::Bytes;
use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use ecs_assist::Client;
use ecs_emulator::{DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET, Emulator};
use ecs_sign::{Credentials, SystemTimeSource, TimeSource as _, rpc_v1};
use futures::TryStreamExt as _;
use http_body_util::{BodyExt as _, Full};
use hyper_util::client::legacy::Client as HyperClient;
use hyper_util::rt::TokioExecutor;

const RESULTS: u64 = 10_000;
const PAGE: &str = "50";

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// The NextTokens of a full walk (deterministic for a given seed and query).
async fn tokens(client: &Client) -> Vec<Option<String>> {
    let mut tokens = vec![None];
    let mut pages = client
        .describe_invocation_results()
        .region_id("cn-hangzhou")
        .max_results(50)
        .into_paginator()
        .pages();
    while let Some(page) = pages.try_next().await.unwrap() {
        let next = page
            .response()
            .invocation
            .next_token
            .clone()
            .filter(|t| !t.is_empty());
        if next.is_none() {
            break;
        }
        tokens.push(next);
    }
    tokens
}

/// Streams every result through `.items()` and checks the count.
async fn count_items(client: Client, read_ahead: bool) {
    let count = client
        .describe_invocation_results()
        .region_id("cn-hangzhou")
        .max_results(50)
        .into_paginator()
        .read_ahead(read_ahead)
        .items()
        .try_fold(0u64, |n, _| async move { Ok(n + 1) })
        .await
        .unwrap();
    assert_eq!(count, RESULTS);
}

fn presigned(url: &str, tokens: &[Option<String>], batch: u64) -> Vec<http::Request<Full<Bytes>>> {
    let creds = Credentials::new(DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET).unwrap();
    let now = SystemTimeSource.now();
    tokens
        .iter()
        .enumerate()
        .map(|(i, token)| {
            let mut params = vec![("RegionId", "cn-hangzhou"), ("MaxResults", PAGE)];
            if let Some(t) = token {
                params.push(("NextToken", t.as_str()));
            }
            let nonce = format!("bare-{batch}-{i}");
            let request = rpc_v1::RpcV1Request::new(
                "POST",
                "DescribeInvocationResults",
                "2014-05-26",
                &params,
            );
            let signed = rpc_v1::sign(&request, &creds, now, &nonce).unwrap();
            http::Request::builder()
                .method("POST")
                .uri(format!("{url}/?{}", ecs_sign::encode_query(&signed)))
                .body(Full::new(Bytes::new()))
                .unwrap()
        })
        .collect()
}

fn e2e(c: &mut Criterion) {
    let rt = runtime();
    let emulator = rt.block_on(async {
        Emulator::builder()
            .generate(RESULTS)
            .seed(1)
            .start()
            .await
            .unwrap()
    });
    let url = emulator.url();
    let client = Client::builder()
        .region("cn-hangzhou")
        .endpoint(url.clone())
        .access_key(DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET)
        .signature_version(ecs_assist::SignatureVersion::V1)
        .build()
        .unwrap();
    let tokens = rt.block_on(tokens(&client));
    assert_eq!(tokens.len(), 200, "10,000 results in pages of 50");
    let bare = HyperClient::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();

    let mut group = c.benchmark_group("e2e_10k_results");
    group.throughput(Throughput::Elements(RESULTS));
    group.sample_size(20);
    group.measurement_time(Duration::from_secs(10));
    group.bench_function("ecs_assist_items", |b| {
        b.iter(|| rt.block_on(count_items(client.clone(), false)));
    });
    group.bench_function("ecs_assist_items_read_ahead", |b| {
        b.iter(|| rt.block_on(count_items(client.clone(), true)));
    });
    group.bench_function("ecs_assist_items_read_ahead_in_a_task", |b| {
        b.iter(|| {
            rt.block_on(rt.spawn(count_items(client.clone(), true)))
                .unwrap();
        });
    });
    group.bench_function("ecs_assist_pages", |b| {
        b.iter(|| {
            rt.block_on(async {
                let count = client
                    .describe_invocation_results()
                    .region_id("cn-hangzhou")
                    .max_results(50)
                    .into_paginator()
                    .pages()
                    .try_fold(0u64, |n, page| async move {
                        Ok(n + page.results().len() as u64)
                    })
                    .await
                    .unwrap();
                assert_eq!(count, RESULTS);
            });
        });
    });
    let mut batch = 0u64;
    group.bench_function("bare_hyper_presigned", |b| {
        b.iter_batched(
            || {
                batch += 1;
                presigned(&url, &tokens, batch)
            },
            |requests| {
                rt.block_on(async {
                    for request in requests {
                        let response = bare.request(request).await.unwrap();
                        assert_eq!(response.status(), 200);
                        let body = response.into_body().collect().await.unwrap().to_bytes();
                        assert!(body.len() > 1000);
                    }
                });
            },
            BatchSize::PerIteration,
        );
    });
    // The bare loop only reads bytes; this one also parses each page into a
    // `serde_json::Value`, the least a hand-written client does with a page.
    group.bench_function("bare_hyper_presigned_serde_value", |b| {
        b.iter_batched(
            || {
                batch += 1;
                presigned(&url, &tokens, batch)
            },
            |requests| {
                rt.block_on(async {
                    let mut results = 0;
                    for request in requests {
                        let response = bare.request(request).await.unwrap();
                        assert_eq!(response.status(), 200);
                        let body = response.into_body().collect().await.unwrap().to_bytes();
                        let page: serde_json::Value = serde_json::from_slice(&body).unwrap();
                        results += page["Invocation"]["InvocationResults"]["InvocationResult"]
                            .as_array()
                            .unwrap()
                            .len();
                    }
                    assert_eq!(results as u64, RESULTS);
                });
            },
            BatchSize::PerIteration,
        );
    });
    let transport = ecs_transport::HyperTransport::new().unwrap();
    group.bench_function("hyper_transport_presigned", |b| {
        b.iter_batched(
            || {
                batch += 1;
                presigned(&url, &tokens, batch)
                    .into_iter()
                    .map(|r| r.map(|_| Bytes::new()))
                    .collect::<Vec<_>>()
            },
            |requests| {
                rt.block_on(async {
                    use ecs_transport::Transport as _;
                    for request in requests {
                        let response = transport.send(request).await.unwrap();
                        assert_eq!(response.status(), 200);
                        assert!(response.body().len() > 1000);
                    }
                });
            },
            BatchSize::PerIteration,
        );
    });
    group.finish();
    drop(emulator);
}

criterion_group!(benches, e2e);
criterion_main!(benches);
