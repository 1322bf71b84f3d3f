//! Emulator throughput: signed `DescribeInvocationResults` requests per
//! second over loopback, from keep-alive connections (target: at least
//! 20,000 a second, so the emulator never limits the client's benchmarks),
//! on the demo data and on 1,000,000 generated results: unfiltered,
//! filtered by status or instance, with NextTokens and with page numbers
//! spread over the whole result set (a deep page costs what the first does).
//! Beside them, the same client against a bare hyper server that answers
//! every request with one stored page: the most this machine allows in
//! this run, so that a figure can be read against it.
//!
//! The bench allocates as the `ecs-emulator` binary does (mimalloc, with
//! the default feature `mimalloc`); `--no-default-features` measures the
//! system allocator instead, under group names ending `_system_alloc`.
//!
//! `cargo bench -p ecs-emulator --bench throughput`

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bytes::Bytes;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use ecs_emulator::{DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET, DataSet, Emulator};
use ecs_sign::{Credentials, SystemTimeSource, TimeSource as _, rpc_v1};
use http_body_util::{BodyExt as _, Full};
use hyper_util::rt::TokioIo;

#[cfg(feature = "mimalloc")]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Appended to the group names: the figures of the two allocators are kept
/// apart (`emulator_1m` and `emulator_1m_system_alloc`).
const ALLOCATOR_SUFFIX: &str = if cfg!(feature = "mimalloc") {
    ""
} else {
    "_system_alloc"
};

/// Concurrent keep-alive connections.
const CONNECTIONS: u64 = 8;
/// Generated results in the large data set.
const LARGE: u64 = 1_000_000;
/// Results a page in the large data set's workloads (as the demo data's).
const PAGE: u64 = 10;

/// What each request of a workload asks for.
#[derive(Debug, Clone, Copy)]
enum Workload {
    /// The demo data's first page of 10 (the original bench).
    DemoFirstPage,
    /// NextToken paging, `PAGE` a page, from the first page on, with extra
    /// filter parameters.
    Tokens(&'static [(&'static str, &'static str)]),
    /// Page numbers spread over `pages` pages of `PAGE`, with extra filter
    /// parameters.
    Numbers {
        filter: &'static [(&'static str, &'static str)],
        pages: u64,
    },
}

/// The failed results of the generated set are about 10% of it.
const FAILED: &[(&str, &str)] = &[("InvokeRecordStatus", "Failed")];
/// One instance of the generated set: 1 result in 1,000.
const INSTANCE: &[(&str, &str)] = &[("InstanceId", "i-gen000000000000417")];

fn request(
    addr: SocketAddr,
    creds: &Credentials,
    nonce: &str,
    params: &[(&str, &str)],
) -> http::Request<Full<Bytes>> {
    let signed = rpc_v1::sign(
        &rpc_v1::RpcV1Request::new("POST", "DescribeInvocationResults", "2014-05-26", params),
        creds,
        SystemTimeSource.now(),
        nonce,
    )
    .unwrap();
    http::Request::builder()
        .method("POST")
        .uri(format!("/?{}", ecs_sign::encode_query(&signed)))
        .header("host", addr.to_string())
        .body(Full::new(Bytes::new()))
        .unwrap()
}

/// The `NextToken` of a JSON page, if any (found without decoding the
/// page, which would cost the client more than the server).
fn next_token(body: &[u8]) -> Option<String> {
    ecs_model::peek_next_token(Some("application/json"), body).map(str::to_owned)
}

/// A page of `PAGE` results from the emulator at `addr`, as it sends it.
async fn stored_page(addr: SocketAddr) -> Bytes {
    let creds = Credentials::new(DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET).unwrap();
    let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .unwrap();
    tokio::spawn(conn);
    let page_size = PAGE.to_string();
    let params = [("RegionId", "cn-hangzhou"), ("MaxResults", &page_size)];
    let response = sender
        .send_request(request(addr, &creds, "bench-stored-page", &params))
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    response.into_body().collect().await.unwrap().to_bytes()
}

/// A bare hyper server answering every request with `body`: no signature
/// check, no query, no serialization.
async fn bare_server(body: Bytes) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let (stream, _) = listener.accept().await.unwrap();
            stream.set_nodelay(true).unwrap();
            let body = body.clone();
            tokio::spawn(async move {
                let service = hyper::service::service_fn(move |_request| {
                    let body = body.clone();
                    async move {
                        http::Response::builder()
                            .header("content-type", "application/json;charset=utf-8")
                            .body(Full::new(body))
                    }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    addr
}

/// One connection sending `count` requests one after another.
async fn connection(addr: SocketAddr, run: u64, id: u64, count: u64, workload: Workload) {
    let creds = Credentials::new(DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET).unwrap();
    let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream.set_nodelay(true).unwrap();
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .unwrap();
    tokio::spawn(conn);
    let mut token: Option<String> = None;
    for i in 0..count {
        let nonce = format!("bench-{run}-{id}-{i}");
        let page_size = PAGE.to_string();
        let page_number;
        let mut params = vec![("RegionId", "cn-hangzhou")];
        match workload {
            Workload::DemoFirstPage => params.push(("MaxResults", "10")),
            Workload::Tokens(filter) => {
                params.extend_from_slice(filter);
                params.push(("MaxResults", &page_size));
                if let Some(t) = &token {
                    params.push(("NextToken", t));
                }
            }
            Workload::Numbers { filter, pages } => {
                params.extend_from_slice(filter);
                // Spread over the pages, a different walk per connection.
                page_number = ((id * 7_919 + i * 104_729) % pages + 1).to_string();
                params.push(("PageSize", &page_size));
                params.push(("PageNumber", &page_number));
            }
        }
        let response = sender
            .send_request(request(addr, &creds, &nonce, &params))
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        let body = response.into_body().collect().await.unwrap().to_bytes();
        assert!(!body.is_empty());
        if let Workload::Tokens(_) = workload {
            // Start over at the end of the results.
            token = next_token(&body);
        }
    }
}

/// `iters` requests of `workload` over `CONNECTIONS` connections, timed.
fn timed(
    runtime: &tokio::runtime::Runtime,
    addr: SocketAddr,
    run: u64,
    iters: u64,
    workload: Workload,
) -> Duration {
    let per_connection = iters.div_ceil(CONNECTIONS);
    runtime.block_on(async move {
        #[allow(clippy::disallowed_methods)] // Wall time is what a benchmark measures.
        let started = Instant::now();
        let tasks: Vec<_> = (0..CONNECTIONS)
            .map(|id| tokio::spawn(connection(addr, run, id, per_connection, workload)))
            .collect();
        for task in tasks {
            task.await.unwrap();
        }
        let elapsed = started.elapsed();
        // Scale to exactly `iters` requests.
        elapsed.mul_f64(iters as f64 / (per_connection * CONNECTIONS) as f64)
    })
}

fn throughput(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let demo = runtime.block_on(async {
        Emulator::builder()
            .data(DataSet::demo())
            .start()
            .await
            .unwrap()
    });
    let large =
        runtime.block_on(async { Emulator::builder().generate(LARGE).start().await.unwrap() });
    let mut run = 0u64;
    let mut group = c.benchmark_group(format!("emulator{ALLOCATOR_SUFFIX}"));
    group.throughput(Throughput::Elements(1));
    group.measurement_time(Duration::from_secs(8));
    let addr = demo.addr();
    group.bench_function("describe_invocation_results_keepalive_x8", |b| {
        b.iter_custom(|iters| {
            run += 1;
            timed(&runtime, addr, run, iters, Workload::DemoFirstPage)
        });
    });
    group.finish();

    let mut group = c.benchmark_group(format!("emulator_1m{ALLOCATOR_SUFFIX}"));
    group.throughput(Throughput::Elements(1));
    group.measurement_time(Duration::from_secs(8));
    group.sample_size(10);
    let addr = large.addr();
    let workloads = [
        ("unfiltered_next_tokens_x8", Workload::Tokens(&[])),
        ("failed_next_tokens_x8", Workload::Tokens(FAILED)),
        (
            "unfiltered_page_numbers_x8",
            Workload::Numbers {
                filter: &[],
                pages: LARGE / PAGE,
            },
        ),
        (
            "failed_page_numbers_x8",
            Workload::Numbers {
                filter: FAILED,
                pages: LARGE / 10 / PAGE,
            },
        ),
        (
            "instance_page_numbers_x8",
            Workload::Numbers {
                filter: INSTANCE,
                pages: LARGE / 1000 / PAGE,
            },
        ),
    ];
    for (name, workload) in workloads {
        group.bench_function(name, |b| {
            b.iter_custom(|iters| {
                run += 1;
                timed(&runtime, addr, run, iters, workload)
            });
        });
    }
    // The same client's page-number requests, answered by a bare server.
    let bare = runtime.block_on(async { bare_server(stored_page(addr).await).await });
    group.bench_function("bare_hyper_server_x8", |b| {
        b.iter_custom(|iters| {
            run += 1;
            timed(
                &runtime,
                bare,
                run,
                iters,
                Workload::Numbers {
                    filter: &[],
                    pages: LARGE / PAGE,
                },
            )
        });
    });
    group.finish();
    drop(demo);
    drop(large);
}

criterion_group!(benches, throughput);
criterion_main!(benches);
