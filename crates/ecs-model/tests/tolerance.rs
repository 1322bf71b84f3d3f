//! What the decoders accept (docs/api/describe-invocation-results.md#tolerance)
//! and what they refuse, with messages that say what was expected, what was
//! found and where.

// Test helpers may unwrap: a panic is a test failure with a location
// (clippy's allow-unwrap-in-tests covers only `#[test]` functions).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use ecs_model::{
    ContentEncoding, ErrorCode, InvocationStatus, Position, decode_json, decode_response,
    decode_xml,
};

#[test]
fn json_names_in_any_case_numbers_as_strings_unknown_fields_and_single_objects() {
    let body = br#"{
        "requestid": " R-1 ",
        "invocation": {
            "totalCount": "7", "PAGENUMBER": 2, "PageSize": 3.0, "NextToken": "  ",
            "Unknown": {"deep": [1, 2, {"x": null}]},
            "InvocationResults": {"invocationresult": {
                "InstanceId": " i-1 ", "InvokeId": "t-1", "CommandId": "c-1",
                "InvocationStatus": "SUCCESS", "ExitCode": " 3 ", "Dropped": "12",
                "Repeats": 2, "ErrorCode": "", "ErrorInfo": null,
                "Output": "  plain  ", "StartTime": "2020-01-19T09:15:47Z",
                "StopTime": "", "FinishedTime": "garbage",
                "Tags": {"Tag": {"TagKey": " env ", "TagValue": " prod "}},
                "NewField": [1, 2, 3]
            }}
        }
    }"#;
    let response = decode_json(body).unwrap();
    // Text is kept exactly as received, as the official SDKs keep it; only
    // numbers, enums and times are read through surrounding whitespace.
    assert_eq!(response.request_id, " R-1 ");
    let invocation = &response.invocation;
    assert_eq!(
        (
            invocation.total_count,
            invocation.page_number,
            invocation.page_size
        ),
        (7, 2, 3)
    );
    assert_eq!(invocation.next_token.as_deref(), Some("  "));
    let result = &invocation.results[0];
    assert_eq!(result.instance_id, " i-1 ");
    assert_eq!(result.invocation_status, Some(InvocationStatus::Success));
    assert_eq!(result.exit_code, Some(3));
    assert_eq!(result.dropped, 12);
    assert_eq!(result.repeats, 2);
    assert_eq!(result.error_code, None);
    assert_eq!(result.error_info, None);
    assert_eq!(result.output, "  plain  ");
    assert_eq!(
        result.output_text_as(&ContentEncoding::PlainText).unwrap(),
        "  plain  "
    );
    assert!(result.start_time.as_ref().unwrap().is_parsed());
    assert_eq!(result.stop_time, None);
    let finished = result.finished_time.as_ref().unwrap();
    assert_eq!((finished.raw(), finished.datetime()), ("garbage", None));
    assert_eq!(result.tags.len(), 1);
    assert_eq!(
        (result.tags[0].key.as_str(), result.tags[0].value.as_str()),
        (" env ", " prod ")
    );
    assert_eq!(result.truncation().unwrap().dropped_bytes, 12);
}

#[test]
fn missing_lists_are_empty() {
    for body in [
        &br#"{"RequestId":"R","Invocation":{}}"#[..],
        br#"{"RequestId":"R","Invocation":{"InvocationResults":{}}}"#,
        br#"{"RequestId":"R","Invocation":{"InvocationResults":null}}"#,
        br#"{"RequestId":"R","Invocation":{"InvocationResults":{"InvocationResult":[]}}}"#,
        br#"{"RequestId":"R","Invocation":{"InvocationResults":""}}"#,
    ] {
        let response = decode_json(body).unwrap();
        assert!(response.invocation.results.is_empty());
    }
    let response = decode_xml(b"<DescribeInvocationResultsResponse><RequestId>R</RequestId><Invocation><TotalCount>0</TotalCount></Invocation></DescribeInvocationResultsResponse>").unwrap();
    assert!(response.invocation.results.is_empty());
    assert_eq!(response.request_id, "R");
}

#[test]
fn xml_single_result_unknown_elements_entities_and_new_values() {
    let body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<DescribeInvocationResultsResponse>\
        <RequestId>R-2</RequestId><Invocation><NextToken> tok </NextToken><Extra><A/></Extra>\
        <InvocationResults><InvocationResult><InstanceId>i-1</InstanceId>\
        <invocationstatus>Hibernating</INVOCATIONSTATUS><ErrorCode>ExitCodeNonzero</ErrorCode>\
        <ErrorInfo>a &amp; b &lt;c&gt; &#x4E2D;</ErrorInfo><Output>  a\r\n b  </Output>\
        <Tags><Tag><TagKey>k</TagKey><TagValue/></Tag></Tags>\
        </InvocationResult></InvocationResults></Invocation></DescribeInvocationResultsResponse>";
    let response = decode_xml(body.as_bytes()).unwrap();
    assert_eq!(response.invocation.next_token.as_deref(), Some(" tok "));
    let result = &response.invocation.results[0];
    assert_eq!(
        result.invocation_status,
        Some(InvocationStatus::Unknown("Hibernating".into()))
    );
    assert_eq!(result.error_code, Some(ErrorCode::ExitCodeNonzero));
    assert_eq!(result.error_info.as_deref(), Some("a & b <c> \u{4e2d}"));
    assert_eq!(result.output, "  a\r\n b  ");
    assert_eq!(result.tags[0].key, "k");
    assert_eq!(result.tags[0].value, "");
}

#[test]
fn invalid_base64_output_is_an_error_naming_the_instance() {
    let body = br#"{"Invocation":{"InvocationResults":{"InvocationResult":[{"InstanceId":"i-bad","InvokeId":"t-1","Output":"%%%"}]}}}"#;
    let response = decode_json(body).unwrap();
    let err = response.invocation.results[0]
        .output_bytes_as(&ContentEncoding::Base64)
        .unwrap_err();
    assert_eq!(err.instance_id(), Some("i-bad"));
    assert!(err.to_string().contains("instance i-bad"));
}

fn line_column(err: &ecs_model::DecodeError) -> (usize, usize) {
    match err.position() {
        Some(Position::LineColumn { line, column }) => (line, column),
        other => panic!("no line/column in {err}: {other:?}"),
    }
}

#[test]
fn bodies_that_are_not_responses_are_clear_errors() {
    // (body, is it malformed, message fragments)
    let cases: &[(&[u8], bool, &[&str])] = &[
        (b"", false, &["expected a JSON object", "found an empty body"]),
        (b"   \n", false, &["found a body of only whitespace"]),
        (b"[1,2]", false, &["expected a JSON object", "found JSON starting `[1,2]`"]),
        (b"null", false, &["found text starting `null`"]),
        (br#"{"RequestId":"R","Invocation":{"TotalCount":5,"Invoc"#, true, &["malformed JSON", "truncated"]),
        (br#"{"RequestId":"R","Invocation":{"TotalCount":"five"}}"#, true, &["TotalCount should be an integer, found `five`"]),
        (br#"{"RequestId":"R","Invocation":[]}"#, true, &["expected an `Invocation` object"]),
        (br#"{"RequestId":"R","Invocation":{"InvocationResults":{"InvocationResult":[{"ExitCode":{}}]}}}"#, true, &["a string or a number"]),
        (br#"{"foo":1,"bar":2}"#, false, &["expected an object with `Invocation`", "found an object with keys `foo`, `bar`"]),
        (br#"{"RequestId":"R","Code":"Throttling.User","Message":"slow down"}"#, false, &["found an error document with Code `Throttling.User`", "decode it as a service error"]),
    ];
    for (body, malformed, fragments) in cases {
        let err = decode_json(body).unwrap_err();
        let text = err.to_string();
        assert_eq!(err.is_malformed(), *malformed, "{text}");
        for fragment in *fragments {
            assert!(text.contains(fragment), "{text:?} lacks {fragment:?}");
        }
        assert_eq!(text, text.trim());
    }
    let err = decode_json(br#"{"RequestId":"R","Code":"X"}"#).unwrap_err();
    assert!(err.is_error_document());

    let err = decode_json(b"{\n  \"Invocation\": {\n    \"TotalCount\": 1,,\n  }\n}").unwrap_err();
    assert_eq!(line_column(&err), (3, 21), "the second comma");
}

#[test]
fn xml_bodies_that_are_not_responses_are_clear_errors() {
    let html =
        b"<!DOCTYPE html>\n<html><head><title>502 Bad Gateway</title></head><body></body></html>";
    let err = decode_xml(html).unwrap_err();
    assert!(err.is_unexpected_document());
    assert!(err.to_string().contains("expected a `<DescribeInvocationResultsResponse>` document in XML, found `<html>` at line 2, column 1"), "{err}");

    let err = decode_xml(include_bytes!("data/seed_error.xml")).unwrap_err();
    assert!(err.is_error_document());
    assert!(
        err.to_string().contains("Code `MissingParameter.RegionId`"),
        "{err}"
    );

    let seed = include_bytes!("data/seed_response.xml");
    let truncated = &seed[..seed.len() / 2];
    let err = decode_xml(truncated).unwrap_err();
    assert!(err.is_malformed());
    assert!(err.to_string().contains("was it truncated?"), "{err}");

    let err = decode_xml(b"<DescribeInvocationResultsResponse>\n<TotalCount>x</TotalCount></DescribeInvocationResultsResponse>").unwrap_err();
    assert!(
        err.to_string()
            .contains("TotalCount should be an integer, found `x`"),
        "{err}"
    );
    assert_eq!(line_column(&err), (2, 1));

    let err = decode_response(None, b"Service Unavailable").unwrap_err();
    assert!(
        err.to_string()
            .contains("found text starting `Service Unavailable`"),
        "{err}"
    );
}

#[test]
fn values_of_the_wrong_shape_say_what_was_expected() {
    let cases: &[(&[u8], &str)] = &[
        (
            br#"{"Invocation":{"InvocationResults":5}}"#,
            "expected `InvocationResults` (an object holding `InvocationResult`)",
        ),
        (
            br#"{"Invocation":{"InvocationResults":{"InvocationResult":5}}}"#,
            "expected an array or an object",
        ),
        (
            br#"{"Invocation":{"InvocationResults":{"InvocationResult":[5]}}}"#,
            "expected an `InvocationResult` object",
        ),
        (
            br#"{"Invocation":{"InvocationResults":{"InvocationResult":[{"Tags":7}]}}}"#,
            "expected `Tags` (an object holding `Tag`)",
        ),
        (
            br#"{"Invocation":{"InvocationResults":{"InvocationResult":[{"Tags":{"Tag":["k"]}}]}}}"#,
            "expected a `Tag` object",
        ),
    ];
    for (body, fragment) in cases {
        let err = decode_json(body).unwrap_err();
        assert!(err.is_malformed(), "{err}");
        assert!(
            err.to_string().contains(fragment),
            "{err} lacks {fragment:?}"
        );
    }
}

#[test]
fn other_members_beside_the_list_items_are_ignored() {
    let body = br#"{"Invocation":{"InvocationResults":{"Count":3,"InvocationResult":[
        {"InstanceId":"i-1","Tags":{"Total":"x","Tag":[{"Key":"k","Value":"v"}]}}
    ]}}}"#;
    let response = decode_json(body).unwrap();
    let result = &response.invocation.results[0];
    assert_eq!(result.instance_id, "i-1");
    assert_eq!(result.tags.len(), 1);
    assert_eq!(
        (result.tags[0].key.as_str(), result.tags[0].value.as_str()),
        ("k", "v")
    );
}

#[test]
fn only_whole_numbers_within_i64_are_integers() {
    let exit_code = |value: &str| {
        let body = format!(
            r#"{{"Invocation":{{"InvocationResults":{{"InvocationResult":[{{"ExitCode":{value}}}]}}}}}}"#
        );
        decode_json(body.as_bytes()).map(|r| r.invocation.results[0].exit_code)
    };
    assert_eq!(exit_code("3.0").unwrap(), Some(3));
    assert_eq!(exit_code("-2.0").unwrap(), Some(-2));
    assert_eq!(
        exit_code("9223372036854774784.0").unwrap(),
        Some(9_223_372_036_854_774_784)
    );
    for (value, shown) in [
        ("1.5", "1.5"),
        ("-0.25", "-0.25"),
        // 2^63, the first whole f64 above the i64 range.
        ("9223372036854775808.0", "9223372036854776000"),
        ("1e300", "1"),
    ] {
        let err = exit_code(value).unwrap_err();
        assert!(
            err.to_string()
                .contains(&format!("ExitCode should be an integer, found `{shown}")),
            "{value}: {err}"
        );
    }
}

#[test]
fn an_object_that_is_not_a_response_names_at_most_five_keys() {
    let err = decode_json(br#"{"a":1,"b":2,"c":3,"d":4,"e":5,"f":6}"#).unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("found an object with keys `a`, `b`, `c`, `d`, `e` at"),
        "{text}"
    );
}

#[test]
fn xml_without_the_documented_root_is_read_when_it_holds_the_paging_fields() {
    // The seed's layout: the fields under a root of another name, without
    // the `Invocation` wrapper; either field is enough to recognise it.
    let results = decode_xml(
        b"<Response><InvocationResults><InvocationResult><InstanceId>i-1</InstanceId>\
          </InvocationResult></InvocationResults></Response>",
    )
    .unwrap();
    assert_eq!(results.invocation.results[0].instance_id, "i-1");
    let count = decode_xml(b"<Response><TotalCount>4</TotalCount></Response>").unwrap();
    assert_eq!(count.invocation.total_count, 4);
    // The documented root is a response even with nothing else in it.
    let bare = decode_xml(
        b"<DescribeInvocationResultsResponse><RequestId>r</RequestId>\
          </DescribeInvocationResultsResponse>",
    )
    .unwrap();
    assert_eq!(bare.request_id, "r");
    assert!(bare.invocation.results.is_empty());
    let other = decode_xml(b"<Response><RequestId>r</RequestId></Response>").unwrap_err();
    assert!(other.is_unexpected_document(), "{other}");
}
