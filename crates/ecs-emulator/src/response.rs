//! Turning a page of records into the API's response, and errors into the
//! service's error documents, in JSON or XML.

use base64::Engine as _;
use bytes::Bytes;
use ecs_model::{
    ContentEncoding, DescribeInvocationResultsResponse, ErrorCode, Invocation, InvocationResult,
    OUTPUT_LIMIT_BYTES, ResponseFormat, ServiceError, Tag, Timestamp,
};

use crate::api_error::ApiError;
use crate::data::{Record, Status};
use crate::query::Page;

/// One result as the API lists it at this moment.
fn result(record: &Record, status: Status, encoding: &ContentEncoding) -> InvocationResult {
    let inv = &record.invocation;
    let res = &record.result;
    let running = status.as_str() == "Running" && res.status.as_str() != "Running";
    let mut out = InvocationResult::new(inv.invoke_id.clone(), res.instance_id.clone());
    out.command_id = inv.command_id.clone();
    out.container_id = inv.container_id.clone();
    out.container_name = inv.container_name.clone();
    out.invocation_status = Some(status.invocation_status().clone());
    out.invoke_record_status = Some(status.record_status().clone());
    out.repeats = i64::from(res.repeats);
    out.start_time = res.start_time.as_deref().and_then(Timestamp::parse);
    out.username = inv.username.clone();
    out.launcher = inv.launcher.clone();
    out.termination_mode = inv.termination_mode.clone();
    out.oss_output_delivery = inv.oss_output_delivery.clone();
    out.tags = inv
        .tags
        .iter()
        .map(|(k, v)| Tag::new(k.clone(), v.clone()))
        .collect();
    if running {
        // Still running: no output, exit code or end yet, and a delivery
        // to OSS that has not finished.
        if record.delivered.is_some() {
            out.oss_output_status = Some("InProgress".to_owned());
        }
        return out;
    }
    let output = &record.output[..];
    let kept = &output[..output.len().min(OUTPUT_LIMIT_BYTES)];
    out.dropped = (output.len() - kept.len()) as i64;
    out.output = match encoding {
        ContentEncoding::PlainText => String::from_utf8_lossy(kept).into_owned(),
        // The query admits only the two known encodings; Base64 is the
        // service's default.
        _ => base64::engine::general_purpose::STANDARD.encode(kept),
    };
    out.exit_code = res.exit_code;
    out.error_code = res.error_code.as_deref().map(ErrorCode::parse);
    out.error_info = res.error_info.clone();
    out.finished_time = res.finished_time.as_deref().and_then(Timestamp::parse);
    out.stop_time = res.stop_time.as_deref().and_then(Timestamp::parse);
    out.oss_output_status = res.oss_output_status.clone();
    out.oss_output_uri = res.oss_output_uri.clone();
    out.oss_output_error_code = res.oss_output_error_code.clone();
    out.oss_output_error_info = res.oss_output_error_info.clone();
    out
}

/// The whole response document for a page.
pub(crate) fn page_body(
    page: &Page,
    encoding: &ContentEncoding,
    request_id: &str,
    format: ResponseFormat,
) -> Bytes {
    let mut invocation = Invocation::new(
        page.results
            .iter()
            .map(|(record, status)| result(record, *status, encoding))
            .collect(),
    );
    invocation.total_count = page.total_count as i64;
    invocation.page_number = page.page_number as i64;
    invocation.page_size = page.page_size as i64;
    invocation.next_token = page.next_token.clone();
    let response = DescribeInvocationResultsResponse::new(request_id, invocation);
    match format {
        ResponseFormat::Json => Bytes::from(ecs_model::encode_json_bytes(&response)),
        ResponseFormat::Xml => Bytes::from(ecs_model::encode_xml(&response)),
    }
}

/// The service's error document.
pub(crate) fn error_body(
    error: &ApiError,
    request_id: &str,
    host_id: &str,
    format: ResponseFormat,
) -> Bytes {
    let doc = ServiceError::new(error.status, error.code.clone(), error.message.clone())
        .with_request_id(request_id)
        .with_host_id(host_id)
        .with_recommend(format!(
            "https://api.aliyun.com/troubleshoot?q={}&product=Ecs&requestId={request_id}",
            error.code
        ));
    Bytes::from(match format {
        ResponseFormat::Json => ecs_model::encode_error_json(&doc),
        ResponseFormat::Xml => ecs_model::encode_error_xml(&doc),
    })
}

/// A load balancer's HTML error page (the `html` fault).
pub(crate) const HTML_PAGE: &str = "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n\
    <body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>Tengine</center>\r\n\
    </body>\r\n</html>\r\n";
