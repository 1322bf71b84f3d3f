//! Reading one attempt's answer: a 2xx body is decoded by its
//! `Content-Type` (JSON, or XML whenever the server answers XML); anything
//! else becomes the service's error, classified for retry by `ecs-model`,
//! with the delay `x-acs-retry-after` asks for. No IO.

use std::time::Duration;

use bytes::Bytes;
use ecs_model::{DescribeInvocationResultsResponse, RetryClass, decode_error, decode_response};
use http::header::CONTENT_TYPE;

use crate::error::Error;

/// The `RequestId` of a response, from the `x-acs-request-id` header.
pub(crate) fn header_request_id(response: &http::Response<Bytes>) -> Option<&str> {
    response
        .headers()
        .get("x-acs-request-id")
        .and_then(|v| v.to_str().ok())
}

/// Reads a response: 2xx is decoded by its `Content-Type` (JSON, or XML
/// whenever the server answers XML); anything else becomes a service
/// error, classified for retry, with `x-acs-retry-after` honoured.
#[cfg(test)]
pub(crate) fn read_response(
    response: &http::Response<Bytes>,
    attempt: u32,
) -> Result<DescribeInvocationResultsResponse, Error> {
    if response.status().is_success() {
        read_success(response, attempt)
    } else {
        Err(read_failure(response, attempt))
    }
}

fn content_type(response: &http::Response<Bytes>) -> Option<&str> {
    response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
}

/// Decodes a 2xx body by its `Content-Type` (JSON, or XML whenever the
/// server answers XML).
pub(crate) fn read_success(
    response: &http::Response<Bytes>,
    attempt: u32,
) -> Result<DescribeInvocationResultsResponse, Error> {
    decode_response(content_type(response), response.body()).map_err(|e| {
        Error::decode(e, header_request_id(response).map(str::to_owned)).with_attempts(attempt)
    })
}

/// The `NextToken` of a 2xx body, scanned for without decoding it.
pub(crate) fn peek_next_token(response: &http::Response<Bytes>) -> Option<&str> {
    ecs_model::peek_next_token(content_type(response), response.body())
}

/// A non-2xx response as a service error, classified for retry, with
/// `x-acs-retry-after` honoured.
pub(crate) fn read_failure(response: &http::Response<Bytes>, attempt: u32) -> Error {
    let content_type = content_type(response);
    let status = response.status();
    let retry_after = response
        .headers()
        .get("x-acs-retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .filter(|&ms| ms > 0)
        .map(Duration::from_millis);
    // `decode_error` masks the `SecurityToken` a V1 `SignatureDoesNotMatch`
    // quotes in the server's string to sign.
    let mut service = decode_error(status.as_u16(), content_type, response.body());
    if service.request_id.is_none() {
        service.request_id = header_request_id(response).map(str::to_owned);
    }
    // The header sets the delay of a retry; it never makes an error
    // retryable.
    let class: RetryClass = service.retry_class();
    Error::service(service, class, attempt).with_retry_after(retry_after)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;

    #[test]
    fn responses_are_read_by_content_type_and_status() {
        let ok = http::Response::builder()
            .header("content-type", "text/xml;charset=utf-8")
            .body(Bytes::from_static(b"<DescribeInvocationResultsResponse><RequestId>R-9</RequestId><Invocation><TotalCount>0</TotalCount></Invocation></DescribeInvocationResultsResponse>"))
            .unwrap();
        assert_eq!(read_response(&ok, 1).unwrap().request_id, "R-9");

        let throttled = http::Response::builder()
            .status(400)
            .header("content-type", "application/json")
            .header("x-acs-retry-after", "250")
            .body(Bytes::from_static(
                br#"{"RequestId":"R-1","Code":"Throttling.User","Message":"slow"}"#,
            ))
            .unwrap();
        let f = read_response(&throttled, 1).unwrap_err();
        assert_eq!(f.retry_after(), Some(Duration::from_millis(250)));
        assert!(f.is_throttling());
        assert_eq!(f.request_id(), Some("R-1"));

        let html = http::Response::builder()
            .status(502)
            .body(Bytes::from_static(b"<html><body>Bad Gateway</body></html>"))
            .unwrap();
        let f = read_response(&html, 1).unwrap_err();
        assert!(f.is_retryable());
        assert_eq!(f.service_error().unwrap().http_status, 502);

        let bad = http::Response::builder()
            .header("content-type", "application/json")
            .body(Bytes::from_static(b"{\"RequestId\":"))
            .unwrap();
        let f = read_response(&bad, 1).unwrap_err();
        assert_eq!(f.kind(), ErrorKind::Decode);
    }

    #[test]
    fn a_quoted_string_to_sign_never_carries_the_security_token() {
        let sts =
            "POST&%2F&AccessKeyId%3DSTS.x%26SecurityToken%3DCAIS%252Bsecret%253D%26Timestamp%3D1";
        let body = format!(
            r#"{{"Code":"SignatureDoesNotMatch","Message":"server string to sign is:{sts}","RequestId":"R"}}"#
        );
        let response = http::Response::builder()
            .status(400)
            .header("content-type", "application/json")
            .body(Bytes::from(body))
            .unwrap();
        let error = read_response(&response, 1).unwrap_err();
        let shown = format!("{error} {error:?}");
        assert!(!shown.contains("CAIS"), "{shown}");
        // The string to sign is kept apart from the message, masked.
        let service = error.service_error().unwrap();
        assert!(!service.message.contains("SecurityToken"));
        assert!(
            service
                .server_string_to_sign
                .as_deref()
                .is_some_and(|quoted| quoted.contains("SecurityToken%3D***"))
        );
    }
}
