//! Encoders for the API's wire form (docs/api/describe-invocation-results.md#response,
//! docs/api/describe-invocation-results.md#error-documents), used by the emulator and
//! by tests: JSON and XML responses, JSON and `<Error>` error documents.

use std::fmt::Write as _;

use crate::response::{DescribeInvocationResultsResponse, InvocationResult};
use crate::service_error::ServiceError;
use crate::timestamp::Timestamp;

/// The response as the service's JSON:
/// `{"RequestId":..,"Invocation":{..,"InvocationResults":{"InvocationResult":[..]}}}`.
pub fn encode_json(response: &DescribeInvocationResultsResponse) -> String {
    // `encode_json_bytes` writes serde_json's output, which is UTF-8.
    String::from_utf8(encode_json_bytes(response)).unwrap_or_default()
}

/// [`encode_json`] as bytes, into a buffer sized for the page up front (a
/// server sends them as they are: no reallocation while writing, no UTF-8
/// check after).
pub fn encode_json_bytes(response: &DescribeInvocationResultsResponse) -> Vec<u8> {
    // About 600 bytes of fields and names a result, besides its output.
    let estimate = response.invocation.results.iter().fold(512usize, |sum, r| {
        sum.saturating_add(r.output.len()).saturating_add(640)
    });
    let mut out = Vec::with_capacity(estimate);
    // Cannot fail: writing to a Vec does not fail, every key is a string
    // and no `Serialize` impl in this crate returns an error.
    if serde_json::to_writer(&mut out, response).is_err() {
        out.clear();
    }
    out
}

/// The response as the service's XML (`Format=XML`), with the `Invocation`
/// wrapper and every text escaped. Control characters are written as
/// character references so that decoding gives back the same text; NUL,
/// which XML cannot carry at all, is written as U+FFFD.
pub fn encode_xml(response: &DescribeInvocationResultsResponse) -> String {
    let invocation = &response.invocation;
    let mut out = String::with_capacity(256 + invocation.results.len() * 512);
    out.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>");
    out.push_str("<DescribeInvocationResultsResponse>");
    element(&mut out, "RequestId", &response.request_id);
    out.push_str("<Invocation>");
    number(&mut out, "PageNumber", invocation.page_number);
    number(&mut out, "PageSize", invocation.page_size);
    number(&mut out, "TotalCount", invocation.total_count);
    if let Some(token) = &invocation.next_token {
        element(&mut out, "NextToken", token);
    }
    out.push_str("<InvocationResults>");
    for result in &invocation.results {
        encode_result_xml(&mut out, result);
    }
    out.push_str("</InvocationResults></Invocation></DescribeInvocationResultsResponse>");
    out
}

fn encode_result_xml(out: &mut String, r: &InvocationResult) {
    let opt = |out: &mut String, name: &str, value: &Option<String>| {
        if let Some(value) = value {
            element(out, name, value);
        }
    };
    let time = |out: &mut String, name: &str, value: &Option<Timestamp>| {
        if let Some(value) = value {
            element(out, name, value.raw());
        }
    };
    out.push_str("<InvocationResult>");
    element(out, "CommandId", &r.command_id);
    element(out, "InvokeId", &r.invoke_id);
    element(out, "InstanceId", &r.instance_id);
    opt(out, "ContainerId", &r.container_id);
    opt(out, "ContainerName", &r.container_name);
    if let Some(status) = &r.invocation_status {
        element(out, "InvocationStatus", status.as_str());
    }
    if let Some(status) = &r.invoke_record_status {
        element(out, "InvokeRecordStatus", status.as_str());
    }
    if let Some(code) = r.exit_code {
        number(out, "ExitCode", code);
    }
    element(out, "Output", &r.output);
    number(out, "Dropped", r.dropped);
    if let Some(code) = &r.error_code {
        element(out, "ErrorCode", code.as_str());
    }
    opt(out, "ErrorInfo", &r.error_info);
    number(out, "Repeats", r.repeats);
    time(out, "StartTime", &r.start_time);
    time(out, "FinishedTime", &r.finished_time);
    time(out, "StopTime", &r.stop_time);
    opt(out, "Username", &r.username);
    opt(out, "Launcher", &r.launcher);
    opt(out, "TerminationMode", &r.termination_mode);
    opt(out, "OssOutputDelivery", &r.oss_output_delivery);
    opt(out, "OssOutputStatus", &r.oss_output_status);
    opt(out, "OssOutputUri", &r.oss_output_uri);
    opt(out, "OssOutputErrorCode", &r.oss_output_error_code);
    opt(out, "OssOutputErrorInfo", &r.oss_output_error_info);
    out.push_str("<Tags>");
    for tag in &r.tags {
        out.push_str("<Tag>");
        element(out, "TagKey", &tag.key);
        element(out, "TagValue", &tag.value);
        out.push_str("</Tag>");
    }
    out.push_str("</Tags></InvocationResult>");
}

/// A service error as the service's JSON error document.
pub fn encode_error_json(error: &ServiceError) -> String {
    let mut map = serde_json::Map::new();
    let mut put = |name: &str, value: Option<&str>| {
        if let Some(value) = value {
            map.insert(name.to_owned(), serde_json::Value::String(value.to_owned()));
        }
    };
    put("RequestId", error.request_id.as_deref());
    put("HostId", error.host_id.as_deref());
    put("Code", Some(error.code.as_str()));
    put("Message", Some(error.message.as_str()));
    put("Recommend", error.recommend.as_deref());
    if let Some(detail) = &error.access_denied_detail {
        // Kept as JSON text; embed it as an object when it is one.
        let value = serde_json::from_str::<serde_json::Value>(detail)
            .ok()
            .filter(serde_json::Value::is_object)
            .unwrap_or_else(|| serde_json::Value::String(detail.clone()));
        map.insert("AccessDeniedDetail".to_owned(), value);
    }
    serde_json::Value::Object(map).to_string()
}

/// A service error as the service's `<Error>` XML document.
pub fn encode_error_xml(error: &ServiceError) -> String {
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error>");
    let opt = |out: &mut String, name: &str, value: Option<&str>| {
        if let Some(value) = value {
            element(out, name, value);
        }
    };
    opt(&mut out, "RequestId", error.request_id.as_deref());
    opt(&mut out, "HostId", error.host_id.as_deref());
    element(&mut out, "Code", &error.code);
    element(&mut out, "Message", &error.message);
    opt(&mut out, "Recommend", error.recommend.as_deref());
    opt(
        &mut out,
        "AccessDeniedDetail",
        error.access_denied_detail.as_deref(),
    );
    out.push_str("</Error>");
    out
}

fn number(out: &mut String, name: &str, value: i64) {
    // Writing to a String cannot fail.
    let _ = write!(out, "<{name}>{value}</{name}>");
}

fn element(out: &mut String, name: &str, text: &str) {
    out.push('<');
    out.push_str(name);
    out.push('>');
    escape_into(out, text);
    out.push_str("</");
    out.push_str(name);
    out.push('>');
}

/// XML-escapes `text` into `out`.
pub(crate) fn escape_into(out: &mut String, text: &str) {
    let mut rest = text;
    while let Some(i) = rest.find(|c: char| {
        matches!(c, '&' | '<' | '>' | '"' | '\'') || (c.is_control() && c != '\n' && c != '\t')
    }) {
        out.push_str(&rest[..i]);
        let c = rest[i..].chars().next().unwrap_or('\u{fffd}');
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\0' => out.push('\u{fffd}'),
            c => {
                let _ = write!(out, "&#x{:X};", u32::from(c));
            }
        }
        rest = &rest[i + c.len_utf8()..];
    }
    out.push_str(rest);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoders_round_trip() {
        let error = crate::ServiceError::new(
            404,
            "InvalidRegionId.NotFound",
            "The RegionId <x> & \"y\" does not exist.",
        )
        .with_request_id("R-1")
        .with_host_id("ecs.aliyuncs.com")
        .with_recommend("https://example.com/?a=1&b=2");
        for (body, ct) in [
            (encode_error_json(&error), "application/json"),
            (encode_error_xml(&error), "text/xml"),
        ] {
            let back = crate::decode_error(404, Some(ct), body.as_bytes());
            assert_eq!(back, error, "{body}");
        }
        let json: serde_json::Value = serde_json::from_str(&encode_error_json(&error)).unwrap();
        assert_eq!(json["Code"], "InvalidRegionId.NotFound");
        assert!(encode_error_xml(&error).contains("<Error><RequestId>R-1</RequestId>"));
    }

    #[test]
    fn a_json_page_decodes_back_to_itself_whatever_its_outputs() {
        use crate::response::Invocation;
        // Outputs from empty to larger than the buffer's estimate, with
        // text that needs escaping.
        let results: Vec<InvocationResult> = [0usize, 1, 700, 5_000, 40_000]
            .iter()
            .enumerate()
            .map(|(i, &len)| {
                let mut r = InvocationResult::new("t-1", format!("i-{i}"));
                r.output = "\"\\\n\u{1}é".repeat(len / 6 + 1)[..].to_owned();
                r.content_encoding = crate::ContentEncoding::PlainText;
                r
            })
            .collect();
        let response = DescribeInvocationResultsResponse::new("R-1", Invocation::new(results));
        let bytes = encode_json_bytes(&response);
        assert_eq!(bytes, encode_json(&response).into_bytes());
        let back = crate::decode_json(&bytes)
            .unwrap()
            .with_content_encoding(&crate::ContentEncoding::PlainText);
        assert_eq!(back, response);
    }

    #[test]
    fn escapes_markup_and_control_characters() {
        let mut out = String::new();
        escape_into(&mut out, "a<b>&\"c'\r\n\té\u{1}\0");
        assert_eq!(out, "a&lt;b&gt;&amp;&quot;c&apos;&#xD;\n\té&#x1;\u{fffd}");
    }
}
