//! Emulator throughput: signed `DescribeInvocationResults` requests per
//! second over loopback, from keep-alive connections (target: at least
//! 20,000 a second, so the emulator never limits the client's benchmarks).
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

/// Concurrent keep-alive connections.
const CONNECTIONS: u64 = 8;

fn request(addr: SocketAddr, creds: &Credentials, nonce: &str) -> http::Request<Full<Bytes>> {
    let params = [("RegionId", "cn-hangzhou"), ("MaxResults", "10")];
    let signed = rpc_v1::sign(
        &rpc_v1::RpcV1Request::new("POST", "DescribeInvocationResults", "2014-05-26", &params),
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

/// One connection sending `count` requests one after another.
async fn connection(addr: SocketAddr, run: u64, id: u64, count: u64) {
    let creds = Credentials::new(DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET).unwrap();
    let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream.set_nodelay(true).unwrap();
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .unwrap();
    tokio::spawn(conn);
    for i in 0..count {
        let nonce = format!("bench-{run}-{id}-{i}");
        let response = sender
            .send_request(request(addr, &creds, &nonce))
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        let body = response.into_body().collect().await.unwrap().to_bytes();
        assert!(!body.is_empty());
    }
}

fn throughput(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let emulator = runtime.block_on(async {
        Emulator::builder()
            .data(DataSet::demo())
            .start()
            .await
            .unwrap()
    });
    let addr = emulator.addr();
    let mut group = c.benchmark_group("emulator");
    group.throughput(Throughput::Elements(1));
    group.measurement_time(Duration::from_secs(8));
    let mut run = 0u64;
    group.bench_function("describe_invocation_results_keepalive_x8", |b| {
        b.iter_custom(|iters| {
            run += 1;
            let per_connection = iters.div_ceil(CONNECTIONS);
            let this_run = run;
            runtime.block_on(async move {
                #[allow(clippy::disallowed_methods)] // Wall time is what a benchmark measures.
                let started = Instant::now();
                let tasks: Vec<_> = (0..CONNECTIONS)
                    .map(|id| tokio::spawn(connection(addr, this_run, id, per_connection)))
                    .collect();
                for task in tasks {
                    task.await.unwrap();
                }
                let elapsed = started.elapsed();
                // Scale to exactly `iters` requests.
                elapsed.mul_f64(iters as f64 / (per_connection * CONNECTIONS) as f64)
            })
        });
    });
    group.finish();
    drop(emulator);
}

criterion_group!(benches, throughput);
criterion_main!(benches);
