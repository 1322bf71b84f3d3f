//! Signing a DescribeInvocationResults request with 6 API parameters, V1 and
//! ACS3, beside `aws-sigv4` signing a request of the same shape.
//!
//! Run with `cargo bench -p ecs-sign --bench sign`; after criterion's own
//! report the ratios of the medians are printed.

// Test code may unwrap: a panic is a failure with a location (common rules).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;
use std::path::PathBuf;
use std::time::{Duration, UNIX_EPOCH};

use criterion::Criterion;
use ecs_sign::{Credentials, acs3, rpc_v1};
use time::macros::datetime;

const GROUP: &str = "sign_describe_invocation_results";

const PARAMS: [(&str, &str); 6] = [
    ("RegionId", "cn-hangzhou"),
    ("InvokeId", "t-hz0jdfwd9f1234"),
    ("InstanceId", "i-bp1i7gg30r52z2em1234"),
    ("ContentEncoding", "PlainText"),
    ("MaxResults", "50"),
    ("NextToken", "AAAAAdDWBF2+/=="),
];
const HOST: &str = "ecs.cn-hangzhou.aliyuncs.com";
const HEADERS: [(&str, &str); 2] = [
    ("x-acs-action", "DescribeInvocationResults"),
    ("x-acs-version", "2014-05-26"),
];

fn bench_sign(c: &mut Criterion) {
    let creds = Credentials::new("testAccessKeyId", "testAccessKeySecret").unwrap();
    let t = datetime!(2026-01-02 03:04:05 UTC);
    let nonce = "b7c5e4a2d9f0416e8a3c1d2e5f607182";
    let mut group = c.benchmark_group(GROUP);

    let v1 = rpc_v1::RpcV1Request::new("POST", "DescribeInvocationResults", "2014-05-26", &PARAMS);
    group.bench_function("ecs_sign_v1", |b| {
        b.iter(|| rpc_v1::sign(black_box(&v1), &creds, t, nonce).unwrap());
    });

    let v3 = acs3::Acs3Request::new("POST", HOST, "/")
        .with_query(&PARAMS)
        .with_headers(&HEADERS);
    group.bench_function("ecs_sign_acs3", |b| {
        b.iter(|| {
            acs3::sign(
                black_box(&v3),
                &creds,
                t,
                nonce,
                &acs3::SignedHeaders::Default,
            )
            .unwrap()
        });
    });

    // The same shape for SigV4: the same 6 query parameters (already
    // encoded in the URI, as aws-sigv4 requires), host and two headers,
    // empty body, signature in headers.
    let identity = aws_credential_types::Credentials::new(
        "testAccessKeyId",
        "testAccessKeySecret",
        None,
        None,
        "bench",
    )
    .into();
    let settings = aws_sigv4::http_request::SigningSettings::default();
    let params: aws_sigv4::http_request::SigningParams<'_> =
        aws_sigv4::sign::v4::SigningParams::builder()
            .identity(&identity)
            .region("cn-hangzhou")
            .name("ecs")
            .time(UNIX_EPOCH + Duration::from_secs(1_767_323_045))
            .settings(settings)
            .build()
            .unwrap()
            .into();
    let uri = format!("https://{HOST}/?{}", ecs_sign::encode_query(&PARAMS));
    let aws_headers = [("host", HOST), HEADERS[0], HEADERS[1]];
    group.bench_function("aws_sigv4", |b| {
        b.iter(|| {
            let request = aws_sigv4::http_request::SignableRequest::new(
                "POST",
                black_box(uri.as_str()),
                aws_headers.iter().copied(),
                aws_sigv4::http_request::SignableBody::Bytes(&[]),
            )
            .unwrap();
            aws_sigv4::http_request::sign(request, &params).unwrap()
        });
    });
    // The floor named in the issue: one SHA-256 and one HMAC-SHA256 over
    // 600 bytes (key prepared outside the loop). Its ratio to the signers is
    // less sensitive to a busy machine than the absolute times.
    let bytes = [b'a'; 600];
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, b"testAccessKeySecret");
    group.bench_function("floor_sha256_hmac_600", |b| {
        b.iter(|| {
            let d = ring::digest::digest(&ring::digest::SHA256, black_box(&bytes));
            let t = ring::hmac::sign(&key, black_box(&bytes));
            (d, t)
        });
    });
    group.finish();
}

/// Criterion's output folder, found as criterion itself finds it.
fn criterion_dir() -> PathBuf {
    if let Some(home) = std::env::var_os("CRITERION_HOME") {
        return PathBuf::from(home);
    }
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target"),
        PathBuf::from,
    );
    target.join("criterion")
}

fn median_ns(id: &str) -> Option<f64> {
    let path = criterion_dir()
        .join(GROUP)
        .join(id)
        .join("new/estimates.json");
    let text = std::fs::read_to_string(path).ok()?;
    let v: serde_json::Value = serde_json::from_str(&text).ok()?;
    v["median"]["point_estimate"].as_f64()
}

// A bench reports on stdout by design.
#[allow(clippy::print_stdout)]
fn report_ratios() {
    let (Some(v1), Some(v3), Some(aws), Some(floor)) = (
        median_ns("ecs_sign_v1"),
        median_ns("ecs_sign_acs3"),
        median_ns("aws_sigv4"),
        median_ns("floor_sha256_hmac_600"),
    ) else {
        println!(
            "ratios: criterion estimates not found under {}",
            criterion_dir().display()
        );
        return;
    };
    println!("median ecs_sign_v1   {v1:8.1} ns (target <= 1000 ns)");
    println!("median ecs_sign_acs3 {v3:8.1} ns (target <= 1200 ns)");
    println!("median aws_sigv4     {aws:8.1} ns");
    println!("median floor         {floor:8.1} ns (0.57 us on the reference machine)");
    println!(
        "ecs_sign_acs3 / floor = {:.2} (target 1.2/0.57 = 2.11), ecs_sign_v1 / floor = {:.2} (target 1.0/0.57 = 1.75)",
        v3 / floor,
        v1 / floor
    );
    println!(
        "aws_sigv4 / ecs_sign_acs3 = {:.2}x (target >= 4x)",
        aws / v3
    );
    println!("aws_sigv4 / ecs_sign_v1   = {:.2}x", aws / v1);
}

fn main() {
    let mut criterion = Criterion::default().configure_from_args();
    bench_sign(&mut criterion);
    criterion.final_summary();
    report_ratios();
}
