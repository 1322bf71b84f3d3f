//! Criterion benches of the client pipeline: build + sign + send + decode
//! of one page over an in-memory transport (no network), V3 and V1.

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use bytes::Bytes;
use criterion::{Criterion, criterion_group, criterion_main};
use ecs_assist::{Client, SignatureVersion};
use ecs_model::{DescribeInvocationResultsResponse, Invocation, InvocationResult, encode_json};
use ecs_sign::test_util::{FixedTimeSource, SequenceNonceSource};
use ecs_transport::test_util::CaptureTransport;
use time::macros::datetime;

fn page(n: usize) -> Bytes {
    let results = (0..n)
        .map(|i| {
            let mut r =
                InvocationResult::new("t-hz0jdfwd9f1234", format!("i-bp1i7gg30r52z2em{i:04}"));
            r.output = "RmlsZXN5c3RlbSAgICAgIFNpemUgIFVzZWQgQXZhaWwK".to_owned();
            r
        })
        .collect();
    let response = DescribeInvocationResultsResponse::new("R-1", Invocation::new(results));
    Bytes::from(encode_json(&response))
}

fn client(version: SignatureVersion, body: Bytes) -> Client {
    let response = http::Response::builder()
        .header("content-type", "application/json;charset=utf-8")
        .body(body)
        .unwrap();
    Client::builder()
        .region("cn-hangzhou")
        .access_key("testAccessKeyId", "testAccessKeySecret")
        .signature_version(version)
        .transport(CaptureTransport::new().with_response(response))
        .time_source(FixedTimeSource::new(datetime!(2026-11-26 05:02:36 UTC)))
        .nonce_source(SequenceNonceSource::new(1))
        .build()
        .unwrap()
}

fn bench(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    for (name, version) in [("v3", SignatureVersion::V3), ("v1", SignatureVersion::V1)] {
        for n in [1usize, 50] {
            let client = client(version, page(n));
            c.bench_function(&format!("send_page/{name}/{n}_results"), |b| {
                b.to_async(&runtime).iter(|| async {
                    let r = client
                        .describe_invocation_results()
                        .invoke_id("t-hz0jdfwd9f1234")
                        .max_results(50)
                        .send()
                        .await
                        .unwrap();
                    assert_eq!(r.invocation.results.len(), n);
                });
            });
        }
    }
    let client = client(SignatureVersion::V3, page(1));
    c.bench_function("prepare/v3", |b| {
        b.to_async(&runtime).iter(|| async {
            client
                .describe_invocation_results()
                .invoke_id("t-1")
                .prepare()
                .await
                .unwrap()
        });
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
