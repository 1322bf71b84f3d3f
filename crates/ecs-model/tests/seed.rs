//! The seed page's examples (copied byte for byte into `tests/data/`) decode
//! into the 5 documented results.

// Test helpers may unwrap: a panic is a test failure with a location
// (clippy's allow-unwrap-in-tests covers only `#[test]` functions).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use ecs_model::{
    ContentEncoding, DescribeInvocationResultsResponse, InvokeRecordStatus, decode_json,
    decode_response, decode_xml,
};
use time::macros::datetime;

const SEED_XML: &[u8] = include_bytes!("data/seed_response.xml");
const SEED_JSON: &[u8] = include_bytes!("data/seed_response.json");

const OUTPUTS: [&str; 5] = ["15:45:01\n", "", "15:30:01\n", "", "15:15:01\n"];
const INVOKE_IDS: [&str; 5] = [
    "t-001937b74e2a4242891fc789xxxxxxxx",
    "t-a8935b93739442e59ed621a6xxxxxxxx",
    "t-001937b74e2a4242891fc78xxxxxxxx",
    "t-a8935b93739442e59ed621a6xxxxxxxx",
    "t-001937b74e2a4242891fc789xxxxxxxx",
];
const FINISHED: [time::OffsetDateTime; 5] = [
    datetime!(2018-01-05 15:45:02 UTC),
    datetime!(2018-01-05 15:40:02 UTC),
    datetime!(2018-01-05 15:30:02 UTC),
    datetime!(2018-01-05 15:20:02 UTC),
    datetime!(2018-01-05 15:15:02 UTC),
];

fn check(response: &DescribeInvocationResultsResponse, instance_ids: [&str; 5]) {
    assert_eq!(response.request_id, "567FA138-6026-47C6-A299-5D50xxxxxxxx");
    let invocation = &response.invocation;
    assert_eq!(invocation.total_count, 5);
    assert_eq!(invocation.page_number, 1);
    assert_eq!(invocation.page_size, 5);
    assert_eq!(invocation.next_token, None);
    assert_eq!(invocation.results.len(), 5);
    let encoding = ContentEncoding::default();
    for (i, result) in invocation.results.iter().enumerate() {
        assert_eq!(
            result.output_text_as(&encoding).unwrap(),
            OUTPUTS[i],
            "result {i}"
        );
        assert_eq!(result.invoke_id, INVOKE_IDS[i], "result {i}");
        assert_eq!(result.instance_id, instance_ids[i], "result {i}");
        assert_eq!(
            result.invoke_record_status,
            Some(InvokeRecordStatus::Finished),
            "result {i}"
        );
        assert_eq!(
            result.invoke_record_status.as_ref().unwrap().as_str(),
            "Finished"
        );
        assert_eq!(result.exit_code, Some(0), "result {i}");
        let finished = result.finished_time.as_ref().unwrap();
        assert_eq!(finished.datetime(), Some(FINISHED[i]), "result {i}");
        assert!(result.command_id.starts_with("c-"));
        assert!(!result.is_truncated());
        assert_eq!(result.invocation_status, None);
        assert!(result.tags.is_empty());
    }
}

#[test]
fn seed_xml_example_decodes_into_five_results() {
    let response = decode_xml(SEED_XML).unwrap();
    check(&response, ["i-uf614fhehhzmxxxxxxxx"; 5]);
    // The seed's `<Output> </Output>` is kept as received.
    assert_eq!(response.invocation.results[1].output, " ");
}

#[test]
fn seed_json_example_decodes_into_five_results() {
    let response = decode_json(SEED_JSON).unwrap();
    check(
        &response,
        [
            "i-uf614fhehhzmxxxxxxxx",
            "i-uf614fhehhzmxxxxxxxx",
            "i-uf614fhehhzmxxxxxxxx",
            "i-uf614fhehhzmd3zj4k74",
            "i-uf614fhehhzmd3zj4k74",
        ],
    );
}

#[test]
fn decode_response_picks_the_decoder() {
    assert_eq!(
        decode_response(Some("text/xml;charset=utf-8"), SEED_XML).unwrap(),
        decode_xml(SEED_XML).unwrap()
    );
    // No content type: the leading `<` says XML.
    assert_eq!(
        decode_response(None, SEED_XML).unwrap(),
        decode_xml(SEED_XML).unwrap()
    );
    assert_eq!(
        decode_response(Some("application/json"), SEED_JSON).unwrap(),
        decode_json(SEED_JSON).unwrap()
    );
    // A JSON body labelled XML still fails clearly rather than silently.
    let err = decode_response(Some("application/xml"), SEED_JSON).unwrap_err();
    assert!(err.is_unexpected_document(), "{err}");
}

/// The seed's results repeat `InvokeId` and `InstanceId` with no `Repeats`
/// (the history runs of a periodic command): they are separate records, and
/// a paginator yields all five.
#[test]
fn the_paginator_yields_every_seed_result() {
    use ecs_model::{DescribeInvocationResultsRequest, PageStyle, Paginator};

    for (style, body) in [
        (PageStyle::Token, SEED_XML),
        (PageStyle::Token, SEED_JSON),
        (PageStyle::Number, SEED_XML),
        (PageStyle::Number, SEED_JSON),
    ] {
        let request = DescribeInvocationResultsRequest::builder()
            .region_id("cn-hangzhou")
            .invoke_id("t-x")
            .build();
        let mut paginator = Paginator::new(request, style);
        paginator.next_request().unwrap().unwrap();
        let page = paginator
            .handle_page(decode_response(None, body).unwrap())
            .unwrap();
        let outputs: Vec<String> = page
            .invocation
            .results
            .iter()
            .map(|r| r.output_text_as(&ContentEncoding::default()).unwrap())
            .collect();
        assert_eq!(outputs, OUTPUTS, "{style:?}");
        assert_eq!(paginator.duplicates_dropped(), 0);
    }
}
