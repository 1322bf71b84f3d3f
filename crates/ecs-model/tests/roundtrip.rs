//! Encoders and decoders agree: decode(encode(x)) == x for JSON and XML.

// Test helpers may unwrap: a panic is a test failure with a location
// (clippy's allow-unwrap-in-tests covers only `#[test]` functions).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use ecs_model::{
    ContentEncoding, DescribeInvocationResultsResponse, ErrorCode, Invocation, InvocationResult,
    InvocationStatus, InvokeRecordStatus, Tag, Timestamp, decode_json, decode_response, decode_xml,
    encode_json, encode_xml, peek_next_token,
};
use proptest::prelude::*;

/// Values the service sends: no surrounding whitespace (decoders trim), not
/// empty (empty optional values decode as absent), XML metacharacters and
/// non-ASCII included.
fn text() -> impl Strategy<Value = String> {
    "[A-Za-z0-9é中<>&\"' ._:/-]{0,20}"
        .prop_map(|s| s.trim().to_owned())
        .prop_filter("non-empty", |s| !s.is_empty())
}

/// `Output` is data: any text, including whitespace and control characters
/// (NUL aside, which XML cannot carry).
fn output() -> impl Strategy<Value = String> {
    "[ -~\t\r\n\u{1}\u{1b}é中]{0,40}"
}

fn timestamp() -> impl Strategy<Value = Option<Timestamp>> {
    prop_oneof![
        Just(None),
        (0i64..4_000_000_000).prop_filter_map("in range", |s| {
            time::OffsetDateTime::from_unix_timestamp(s)
                .ok()
                .map(|t| Some(Timestamp::from_datetime(t)))
        }),
        Just(Timestamp::parse("2018-01-05 15:45:02")),
        Just(Timestamp::parse("not a time")),
    ]
}

fn status<T: Clone + std::fmt::Debug + 'static>(
    known: &'static [T],
    unknown: fn(String) -> T,
) -> impl Strategy<Value = Option<T>> {
    prop_oneof![
        Just(None),
        proptest::sample::select(known).prop_map(Some),
        "[A-Z][a-z]{2,8}X".prop_map(move |s| Some(unknown(s))),
    ]
}

fn result() -> impl Strategy<Value = InvocationResult> {
    (
        (
            text(),
            text(),
            text(),
            proptest::option::of(text()),
            proptest::option::of(text()),
        ),
        (
            status(InvocationStatus::KNOWN, InvocationStatus::Unknown),
            status(InvokeRecordStatus::KNOWN, InvokeRecordStatus::Unknown),
            status(ErrorCode::KNOWN, ErrorCode::Unknown),
            proptest::option::of(any::<i64>()),
            output(),
            any::<i64>(),
            any::<i64>(),
        ),
        (timestamp(), timestamp(), timestamp()),
        proptest::collection::vec(proptest::option::of(text()), 9),
        proptest::collection::vec((text(), proptest::option::of(text())), 0..3),
    )
        .prop_map(|(ids, values, times, optional, tags)| {
            let mut r = InvocationResult::new(ids.1, ids.2);
            r.command_id = ids.0;
            r.container_id = ids.3;
            r.container_name = ids.4;
            r.invocation_status = values.0;
            r.invoke_record_status = values.1;
            r.error_code = values.2;
            r.exit_code = values.3;
            r.output = values.4;
            r.dropped = values.5;
            r.repeats = values.6;
            (r.start_time, r.finished_time, r.stop_time) = times;
            let mut optional = optional.into_iter();
            for field in [
                &mut r.error_info,
                &mut r.username,
                &mut r.launcher,
                &mut r.termination_mode,
                &mut r.oss_output_delivery,
                &mut r.oss_output_status,
                &mut r.oss_output_uri,
                &mut r.oss_output_error_code,
                &mut r.oss_output_error_info,
            ] {
                *field = optional.next().flatten();
            }
            r.tags = tags
                .into_iter()
                .map(|(k, v)| Tag::new(k, v.unwrap_or_default()))
                .collect();
            r
        })
}

fn response() -> impl Strategy<Value = DescribeInvocationResultsResponse> {
    (
        text(),
        any::<i64>(),
        any::<i64>(),
        any::<i64>(),
        proptest::option::of(text()),
        proptest::collection::vec(result(), 0..4),
    )
        .prop_map(|(request_id, total, number, size, token, results)| {
            let mut invocation = Invocation::new(results);
            invocation.total_count = total;
            invocation.page_number = number;
            invocation.page_size = size;
            invocation.next_token = token;
            DescribeInvocationResultsResponse::new(request_id, invocation)
        })
}

proptest! {
    #[test]
    fn json_round_trips(response in response()) {
        let body = encode_json(&response);
        prop_assert_eq!(&decode_json(body.as_bytes()).unwrap(), &response);
        prop_assert_eq!(decode_response(Some("application/json"), body.as_bytes()).unwrap(), response);
    }

    /// The scan for `NextToken` that lets a paginator read ahead is never
    /// wrong: it finds the decoded token or declines; and it finds every
    /// token in the service's alphabet.
    #[test]
    fn peeked_tokens_match_the_decoded_token(response in response(), plain in "[A-Za-z0-9+/=_-]{1,40}") {
        for (content_type, body) in [
            ("application/json", encode_json(&response)),
            ("text/xml", encode_xml(&response)),
        ] {
            let decoded = response.invocation.next_token.as_deref().map(str::trim);
            if let Some(peeked) = peek_next_token(Some(content_type), body.as_bytes()) {
                prop_assert_eq!(Some(peeked), decoded, "{}", body);
            }
        }
        let mut response = response;
        response.invocation.next_token = Some(plain.clone());
        for (content_type, body) in [
            ("application/json", encode_json(&response)),
            ("text/xml", encode_xml(&response)),
        ] {
            prop_assert_eq!(peek_next_token(Some(content_type), body.as_bytes()), Some(plain.as_str()), "{}", body);
        }
    }

    #[test]
    fn xml_round_trips(response in response()) {
        let body = encode_xml(&response);
        prop_assert_eq!(&decode_xml(body.as_bytes()).unwrap(), &response);
        prop_assert_eq!(decode_response(Some("text/xml"), body.as_bytes()).unwrap(), response);
    }
}

#[test]
fn encoded_forms_use_the_wire_names() {
    let mut r = InvocationResult::new("t-1", "i-1");
    r.output = "MTU6NDU6MDEK".into();
    r.tags = vec![Tag::new("k", "v")];
    let response = DescribeInvocationResultsResponse::new("R", Invocation::new(vec![r]));
    let json: serde_json::Value = serde_json::from_str(&encode_json(&response)).unwrap();
    assert_eq!(json["RequestId"], "R");
    assert_eq!(
        json["Invocation"]["InvocationResults"]["InvocationResult"][0]["Output"],
        "MTU6NDU6MDEK"
    );
    assert_eq!(
        json["Invocation"]["InvocationResults"]["InvocationResult"][0]["Tags"]["Tag"][0]["TagValue"],
        "v"
    );
    let xml = encode_xml(&response);
    assert!(xml.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?><DescribeInvocationResultsResponse><RequestId>R</RequestId><Invocation><PageNumber>0</PageNumber>"), "{xml}");
    assert!(
        xml.contains(
            "<InvocationResults><InvocationResult><CommandId></CommandId><InvokeId>t-1</InvokeId>"
        ),
        "{xml}"
    );
    let decoded = decode_xml(xml.as_bytes()).unwrap();
    assert_eq!(
        decoded.invocation.results[0]
            .output_text_as(&ContentEncoding::Base64)
            .unwrap(),
        "15:45:01\n"
    );
}

/// Base64 as the service might wrap it: padded or not, with whitespace
/// around it and (MIME style) inside it.
fn wrapped_base64() -> impl Strategy<Value = (Vec<u8>, String)> {
    use base64::Engine as _;
    (
        proptest::collection::vec(any::<u8>(), 0..200),
        any::<bool>(),
        proptest::collection::vec((0usize..400, "[ \t\r\n]{1,3}"), 0..4),
    )
        .prop_map(|(bytes, padded, breaks)| {
            let mut text = if padded {
                base64::engine::general_purpose::STANDARD.encode(&bytes)
            } else {
                base64::engine::general_purpose::STANDARD_NO_PAD.encode(&bytes)
            };
            for (at, space) in breaks {
                let at = at.min(text.len());
                text.insert_str(at, &space);
            }
            (bytes, text)
        })
}

proptest! {
    #[test]
    fn base64_output_decodes_whatever_its_padding_and_whitespace((bytes, text) in wrapped_base64()) {
        let mut r = InvocationResult::new("t-1", "i-1");
        r.output = text;
        let decoded = r.output_bytes_as(&ContentEncoding::Base64).unwrap();
        prop_assert_eq!(decoded.as_ref(), bytes.as_slice());
    }

    #[test]
    fn invalid_base64_is_an_error_naming_the_instance(
        (_, text) in wrapped_base64(),
        at in 0usize..400,
        bad in "[!@#$%^&*.,;?-]",
    ) {
        let mut r = InvocationResult::new("t-1", "i-bad");
        let at = at.min(text.len());
        r.output = format!("{}{bad}{}", &text[..at], &text[at..]);
        let err = r.output_bytes_as(&ContentEncoding::Base64).unwrap_err().to_string();
        prop_assert!(err.contains("i-bad") && err.contains("Base64"), "{}", err);
    }
}
