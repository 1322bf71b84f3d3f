//! Requests per second through `HyperTransport` against a local hyper server,
//! next to a bare hyper-util client loop doing the same requests in the same
//! run. The target is at least 0.95 of the bare loop's rate.
//!
//! ```text
//! cargo bench -p ecs-transport --bench transport
//! ```

// A benchmark aborts on a broken setup: there is nothing to recover.
#![allow(clippy::expect_used)]
// `criterion_group!` generates an undocumented public function.
#![allow(missing_docs)]

use std::convert::Infallible;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bytes::Bytes;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use ecs_transport::{HyperTransport, Transport};
use http_body_util::{BodyExt, Full};
use hyper::service::service_fn;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioIo};

/// A response of the size of a small `DescribeInvocationResults` page.
fn page() -> Bytes {
    let result = r#"{"CommandId":"c-hz01","InvokeId":"t-hz01","InstanceId":"i-bp1","InvocationStatus":"Success","ExitCode":0,"Output":"aGVsbG8gd29ybGQK","Dropped":0}"#;
    let results = [result; 8].join(",");
    Bytes::from(format!(
        r#"{{"RequestId":"r-1","Invocation":{{"TotalCount":8,"PageNumber":1,"PageSize":10,"InvocationResults":{{"InvocationResult":[{results}]}}}}}}"#
    ))
}

/// Starts the server on its own thread and runtime, so it does not share the
/// client's executor.
fn start_server() -> SocketAddr {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("server runtime");
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                .await
                .expect("bind 127.0.0.1:0");
            tx.send(listener.local_addr().expect("local addr"))
                .expect("report the address");
            let body = page();
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let _ = stream.set_nodelay(true);
                let body = body.clone();
                tokio::spawn(async move {
                    let service = service_fn(move |_request| {
                        let body = body.clone();
                        async move {
                            let mut response = http::Response::new(Full::new(body));
                            response.headers_mut().insert(
                                http::header::CONTENT_TYPE,
                                http::HeaderValue::from_static("application/json"),
                            );
                            Ok::<_, Infallible>(response)
                        }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
    });
    rx.recv().expect("the server address")
}

fn request(uri: &http::Uri) -> http::Request<Bytes> {
    http::Request::post(uri.clone())
        .header("x-acs-action", "DescribeInvocationResults")
        .body(Bytes::new())
        .expect("a valid request")
}

fn bench(c: &mut Criterion) {
    let addr = start_server();
    let uri: http::Uri =
        format!("http://{addr}/?Action=DescribeInvocationResults&RegionId=cn-hangzhou")
            .parse()
            .expect("a valid URI");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("client runtime");

    let transport = runtime.block_on(async {
        HyperTransport::builder()
            .no_proxy_from_env()
            .build()
            .expect("transport")
    });
    let bare: Client<HttpConnector, Full<Bytes>> = {
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        Client::builder(TokioExecutor::new()).build(connector)
    };
    let expected = page().len();

    // Both functions send the same alternating mix (one bare request, one
    // transport request) and each times only its own half. On a shared,
    // loaded machine this keeps both figures under the same conditions, so
    // their ratio means something.
    let bare_once = || async {
        let response = bare
            .request(request(&uri).map(Full::new))
            .await
            .expect("response");
        let body = response
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes();
        assert_eq!(body.len(), expected);
    };
    let transport_once = || async {
        let response = transport.send(request(&uri)).await.expect("response");
        assert_eq!(response.body().len(), expected);
    };

    let mut group = c.benchmark_group("requests");
    group.throughput(Throughput::Elements(1));
    group.bench_function("bare_hyper_util", |b| {
        b.to_async(&runtime).iter_custom(|iters| async move {
            let mut timed = Duration::ZERO;
            for _ in 0..iters {
                transport_once().await;
                let start = now();
                bare_once().await;
                timed += start.elapsed();
            }
            timed
        });
    });
    group.bench_function("hyper_transport", |b| {
        b.to_async(&runtime).iter_custom(|iters| async move {
            let mut timed = Duration::ZERO;
            for _ in 0..iters {
                bare_once().await;
                let start = now();
                transport_once().await;
                timed += start.elapsed();
            }
            timed
        });
    });
    group.finish();
}

/// The bench's one clock: it measures wall time, which is its purpose.
#[allow(clippy::disallowed_methods)]
fn now() -> Instant {
    Instant::now()
}

criterion_group! {
    name = benches;
    config = Criterion::default();
    targets = bench
}
criterion_main!(benches);
