//! Decoding a 50-result page: `decode_json` (with Base64 decoding of every
//! `Output`) next to `serde_json::Value` parsing of the same bytes, and
//! `decode_xml`, for 100-byte and 18 KB outputs.
//!
//! Run with `cargo bench -p ecs-model --bench decode`.

// A bench that cannot build its input should stop loudly, like a test.
#![allow(clippy::expect_used)]

use std::hint::black_box;

use base64::Engine as _;
use criterion::{Criterion, Throughput};
use ecs_model::{
    ContentEncoding, DescribeInvocationResultsResponse, Invocation, InvocationResult,
    InvocationStatus, InvokeRecordStatus, Timestamp, decode_json, decode_xml, encode_json,
    encode_xml,
};

/// A page of 50 results whose decoded outputs are `output_len` bytes.
fn page(output_len: usize) -> DescribeInvocationResultsResponse {
    let results = (0..50)
        .map(|i| {
            let text: Vec<u8> = (0..output_len)
                .map(|j| b"0123456789 abcdefghij\n"[(i + j) % 22])
                .collect();
            let mut r = InvocationResult::new(
                format!("t-001937b74e2a4242891fc789{i:08}"),
                format!("i-uf614fhehhzm{i:08}"),
            );
            r.command_id = "c-6b0fb9d72adc421abab462ab00000000".into();
            r.invocation_status = Some(InvocationStatus::Success);
            r.invoke_record_status = Some(InvokeRecordStatus::Finished);
            r.exit_code = Some(0);
            r.output = base64::engine::general_purpose::STANDARD.encode(&text);
            r.repeats = 1;
            r.start_time = Timestamp::parse("2020-01-19T09:15:46Z");
            r.finished_time = Timestamp::parse("2020-01-19T09:15:47Z");
            r.username = Some("root".into());
            r
        })
        .collect();
    let mut invocation = Invocation::new(results);
    invocation.total_count = 50;
    invocation.page_number = 1;
    invocation.page_size = 50;
    invocation.next_token = Some("AAAAAdDWBF2w6Olxc+cMPjUtUMo=".into());
    DescribeInvocationResultsResponse::new("567FA138-6026-47C6-A299-5D50xxxxxxxx", invocation)
}

/// Decodes the body and every `Output`; returns the decoded byte count.
fn decode_page(body: &[u8]) -> usize {
    let response = decode_json(body).expect("bench page decodes");
    let encoding = ContentEncoding::Base64;
    response
        .invocation
        .results
        .iter()
        .map(|r| {
            r.output_bytes_as(&encoding)
                .expect("bench output decodes")
                .len()
        })
        .sum()
}

fn bench(c: &mut Criterion) {
    for (name, output_len) in [("small_100B", 100), ("large_18KB", 18 * 1024)] {
        let response = page(output_len);
        let json = encode_json(&response).into_bytes();
        let xml = encode_xml(&response).into_bytes();
        assert_eq!(decode_page(&json), 50 * output_len);
        assert_eq!(plain::decode_page(&json), 50 * output_len);

        let mut group = c.benchmark_group(format!("decode_{name}"));
        group.throughput(Throughput::Bytes(json.len() as u64));
        group.bench_function("ecs_model_json_with_base64", |b| {
            b.iter(|| decode_page(black_box(&json)));
        });
        group.bench_function("serde_json_value", |b| {
            b.iter(|| {
                serde_json::from_slice::<serde_json::Value>(black_box(&json))
                    .expect("bench page parses")
            });
        });
        group.bench_function("plain_serde_structs_with_base64", |b| {
            b.iter(|| plain::decode_page(black_box(&json)));
        });
        group.throughput(Throughput::Bytes(xml.len() as u64));
        group.bench_function("ecs_model_xml_with_base64", |b| {
            b.iter(|| {
                let response = decode_xml(black_box(&xml)).expect("bench page decodes");
                let encoding = ContentEncoding::Base64;
                response
                    .invocation
                    .results
                    .iter()
                    .map(|r| {
                        r.output_bytes_as(&encoding)
                            .expect("bench output decodes")
                            .len()
                    })
                    .sum::<usize>()
            });
        });
        group.finish();
    }
}

/// The reference: plain `#[derive(Deserialize)]` structs with the
/// wire's exact names (no case folding, no numbers as strings, no single
/// objects as lists, no time parsing) and the `base64` crate.
mod plain {
    use base64::Engine as _;
    use serde::Deserialize;

    #[derive(Deserialize)]
    #[serde(rename_all = "PascalCase")]
    struct Response {
        #[allow(dead_code)] // Read to match the work of a real decoder.
        request_id: String,
        invocation: Invocation,
    }

    #[derive(Deserialize)]
    #[serde(rename_all = "PascalCase")]
    #[allow(dead_code)] // Read to match the work of a real decoder.
    struct Invocation {
        total_count: i64,
        page_number: i64,
        page_size: i64,
        next_token: Option<String>,
        invocation_results: Results,
    }

    #[derive(Deserialize)]
    #[serde(rename_all = "PascalCase")]
    struct Results {
        invocation_result: Vec<Result>,
    }

    #[derive(Deserialize)]
    #[serde(rename_all = "PascalCase")]
    #[allow(dead_code)] // Read to match the work of a real decoder.
    struct Result {
        command_id: String,
        invoke_id: String,
        instance_id: String,
        invocation_status: Option<String>,
        invoke_record_status: Option<String>,
        exit_code: Option<i64>,
        output: String,
        dropped: Option<i64>,
        error_code: Option<String>,
        error_info: Option<String>,
        repeats: Option<i64>,
        start_time: Option<String>,
        finished_time: Option<String>,
        stop_time: Option<String>,
        username: Option<String>,
    }

    /// Decodes the body and every `Output`; returns the decoded byte count.
    pub(super) fn decode_page(body: &[u8]) -> usize {
        let response: Response = serde_json::from_slice(body).expect("bench page decodes");
        response
            .invocation
            .invocation_results
            .invocation_result
            .iter()
            .map(|r| {
                base64::engine::general_purpose::STANDARD
                    .decode(&r.output)
                    .expect("bench output decodes")
                    .len()
            })
            .sum()
    }
}

/// The paginator's cost per page on top of decoding: the duplicate filter
/// fingerprints every whole record and the page (issue 15's rule).
fn bench_paginator(c: &mut Criterion) {
    use ecs_model::{DescribeInvocationResultsRequest, PageStyle, Paginator};
    for (name, output_len) in [("small_100B", 100), ("large_18KB", 18 * 1024)] {
        let response = page(output_len);
        let mut group = c.benchmark_group(format!("paginate_{name}"));
        group.throughput(Throughput::Elements(
            response.invocation.results.len() as u64
        ));
        group.bench_function("handle_page", |b| {
            b.iter_batched(
                || {
                    let request = DescribeInvocationResultsRequest::builder()
                        .region_id("cn-hangzhou")
                        .build();
                    (Paginator::new(request, PageStyle::Token), response.clone())
                },
                |(mut paginator, page)| {
                    // Returned, so that freeing it is not measured.
                    let page = paginator
                        .handle_page(black_box(page))
                        .expect("a first page is handled");
                    (paginator, page)
                },
                criterion::BatchSize::SmallInput,
            );
        });
        group.finish();
    }
}

fn main() {
    // What `criterion_group!`/`criterion_main!` expand to, without the
    // undocumented public function the macro would add.
    let mut criterion = Criterion::default().configure_from_args();
    bench(&mut criterion);
    bench_paginator(&mut criterion);
    criterion.final_summary();
}
