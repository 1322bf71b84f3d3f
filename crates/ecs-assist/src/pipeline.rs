//! One attempt's IO-free halves: building and signing the HTTP request as
//! the official SDKs do (spec §1, §5), and reading the response (spec §3,
//! §7). The retry loop in `client.rs` drives them.

use std::fmt;
use std::time::Duration;

use bytes::Bytes;
use ecs_model::{DescribeInvocationResultsResponse, RetryClass, decode_error, decode_response};
use ecs_sign::{Credentials, acs3, encode_query, rpc_v1};
use http::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, HOST, USER_AGENT};
use time::OffsetDateTime;

use crate::Error;
use crate::config::{ResponseFormat, SignatureVersion};
use crate::endpoint::Endpoint;

/// The API action.
pub const ACTION: &str = "DescribeInvocationResults";
/// The API version.
pub const API_VERSION: &str = "2014-05-26";

/// What one request needs besides the parameters.
pub(crate) struct Signing<'a> {
    pub(crate) endpoint: &'a Endpoint,
    pub(crate) version: SignatureVersion,
    pub(crate) format: ResponseFormat,
    pub(crate) user_agent: &'a str,
    pub(crate) credentials: &'a Credentials,
    pub(crate) time: OffsetDateTime,
    pub(crate) nonce: &'a str,
}

/// Builds the signed request: `POST /`, the API parameters in the query,
/// an empty body. V1 adds the common parameters and `Signature` to the
/// query; V3 adds `x-acs-*` headers and `Authorization`. Both carry
/// `x-acs-action` / `x-acs-version` headers, as the tea SDK does.
pub(crate) fn build_request(
    params: &[(String, String)],
    signing: &Signing<'_>,
) -> Result<http::Request<Bytes>, Error> {
    let accept = match signing.format {
        ResponseFormat::Json => "application/json",
        ResponseFormat::Xml => "application/xml",
    };
    let borrowed: Vec<(&str, &str)> = params
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let authority = signing.endpoint.authority();
    let mut headers: Vec<(String, String)> = vec![
        ("x-acs-action".into(), ACTION.into()),
        ("x-acs-version".into(), API_VERSION.into()),
    ];
    let query = match signing.version {
        SignatureVersion::V1 => {
            let format = match signing.format {
                ResponseFormat::Json => "JSON",
                ResponseFormat::Xml => "XML",
            };
            let request = rpc_v1::RpcV1Request::new("POST", ACTION, API_VERSION, &borrowed)
                .with_format(format);
            let signed = rpc_v1::sign(&request, signing.credentials, signing.time, signing.nonce)
                .map_err(Error::signing)?;
            encode_query(&signed)
        }
        SignatureVersion::V3 => {
            let unsigned = [("x-acs-action", ACTION), ("x-acs-version", API_VERSION)];
            let request = acs3::Acs3Request::new("POST", authority, "/")
                .with_query(&borrowed)
                .with_headers(&unsigned);
            let added = acs3::sign(
                &request,
                signing.credentials,
                signing.time,
                signing.nonce,
                &acs3::SignedHeaders::Default,
            )
            .map_err(Error::signing)?;
            headers.extend(
                added
                    .into_iter()
                    .map(|(k, v)| (k.to_owned(), v.into_owned())),
            );
            encode_query(params)
        }
    };
    let uri = format!("{}/?{query}", signing.endpoint);
    let mut builder = http::Request::post(uri)
        .header(HOST, authority)
        .header(USER_AGENT, signing.user_agent)
        .header(ACCEPT, accept);
    for (name, value) in &headers {
        builder = builder.header(name.as_str(), value.as_str());
    }
    builder.body(Bytes::new()).map_err(Error::request_build)
}

/// The `RequestId` of a response, from the `x-acs-request-id` header.
pub(crate) fn header_request_id(response: &http::Response<Bytes>) -> Option<&str> {
    response
        .headers()
        .get("x-acs-request-id")
        .and_then(|v| v.to_str().ok())
}

/// Reads a response: 2xx is decoded by its `Content-Type` (JSON, or XML
/// whenever the server answers XML); anything else becomes a service
/// error, classified for retry, with `x-acs-retry-after` honoured (spec §7).
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
/// `x-acs-retry-after` honoured (spec §7).
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

/// A signed request that was not sent (for `--dry-run` and debugging).
///
/// [`Display`](fmt::Display) and `Debug` print it with every value derived
/// from the secret or carrying the token masked: the `Signature` query
/// parameter, the signature in `Authorization`, `SecurityToken` and
/// `x-acs-security-token`. [`request`](Self::request) is the real thing.
pub struct PreparedRequest {
    request: http::Request<Bytes>,
}

/// The mask that replaces secret values.
const MASK: &str = "***";

impl PreparedRequest {
    pub(crate) fn new(request: http::Request<Bytes>) -> Self {
        Self { request }
    }

    /// The request exactly as it would be sent. Its signature is valid for
    /// 15 minutes and once (the nonce): do not log it.
    pub fn request(&self) -> &http::Request<Bytes> {
        &self.request
    }

    /// The request exactly as it would be sent.
    pub fn into_request(self) -> http::Request<Bytes> {
        self.request
    }

    /// The request line and headers, secrets masked.
    pub fn redacted(&self) -> String {
        self.to_string()
    }

    /// The URI with `Signature` and `SecurityToken` masked.
    pub fn redacted_uri(&self) -> String {
        let uri = self.request.uri();
        let base = format!(
            "{}://{}{}",
            uri.scheme_str().unwrap_or("https"),
            uri.authority().map_or("", |a| a.as_str()),
            uri.path()
        );
        match uri.query() {
            None => base,
            Some(query) => {
                let masked: Vec<String> = query
                    .split('&')
                    .map(|pair| {
                        let (key, _) = pair.split_once('=').unwrap_or((pair, ""));
                        if key == "Signature" || key == "SecurityToken" {
                            format!("{key}={MASK}")
                        } else {
                            pair.to_owned()
                        }
                    })
                    .collect();
                format!("{base}?{}", masked.join("&"))
            }
        }
    }
}

/// Masks the signature of an `Authorization` header, keeping the algorithm,
/// the access key id and the signed header list.
fn mask_authorization(value: &str) -> String {
    match value.find("Signature=") {
        Some(at) => format!("{}Signature={MASK}", &value[..at]),
        None => MASK.to_owned(),
    }
}

impl fmt::Display for PreparedRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{} {}", self.request.method(), self.redacted_uri())?;
        for (name, value) in self.request.headers() {
            let text = value.to_str().unwrap_or("<binary>");
            let shown = if name == AUTHORIZATION {
                mask_authorization(text)
            } else if name.as_str() == "x-acs-security-token" {
                MASK.to_owned()
            } else {
                text.to_owned()
            };
            writeln!(f, "{name}: {shown}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for PreparedRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PreparedRequest")
            .field("redacted", &self.to_string())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn creds() -> Credentials {
        Credentials::new("testAccessKeyId", "testAccessKeySecret")
            .unwrap()
            .with_security_token("TOKEN-SECRET-VALUE")
            .unwrap()
    }

    fn build(version: SignatureVersion) -> http::Request<Bytes> {
        let endpoint = Endpoint::parse("http://127.0.0.1:18081").unwrap();
        let creds = creds();
        let params = vec![
            ("RegionId".to_owned(), "cn-hangzhou".to_owned()),
            ("Tag.1.Value".to_owned(), "prod test".to_owned()),
        ];
        let signing = Signing {
            endpoint: &endpoint,
            version,
            format: ResponseFormat::Json,
            user_agent: "ua",
            credentials: &creds,
            time: datetime!(2026-11-26 05:02:36 UTC),
            nonce: "c7dfc9a36657b8ef5d59b58763a65cfd",
        };
        build_request(&params, &signing).unwrap()
    }

    #[test]
    fn v3_request_has_the_official_shape() {
        let r = build(SignatureVersion::V3);
        assert_eq!(r.method(), http::Method::POST);
        assert_eq!(r.uri().path(), "/");
        assert_eq!(
            r.uri().query(),
            Some("RegionId=cn-hangzhou&Tag.1.Value=prod%20test")
        );
        assert!(r.body().is_empty());
        let h = r.headers();
        assert_eq!(h["x-acs-action"], ACTION);
        assert_eq!(h["x-acs-version"], API_VERSION);
        assert_eq!(h["host"], "127.0.0.1:18081");
        assert_eq!(h["x-acs-date"], "2026-11-26T05:02:36Z");
        assert_eq!(h["x-acs-security-token"], "TOKEN-SECRET-VALUE");
        let auth = h["authorization"].to_str().unwrap();
        assert!(auth.starts_with("ACS3-HMAC-SHA256 Credential=testAccessKeyId,SignedHeaders="));
    }

    #[test]
    fn v1_request_carries_common_parameters_and_signature() {
        let r = build(SignatureVersion::V1);
        let q = r.uri().query().unwrap();
        for p in [
            "Action=DescribeInvocationResults",
            "Version=2014-05-26",
            "Format=JSON",
            "SignatureMethod=HMAC-SHA1",
            "SignatureVersion=1.0",
            "AccessKeyId=testAccessKeyId",
            "SecurityToken=TOKEN-SECRET-VALUE",
            "RegionId=cn-hangzhou",
            "&Signature=",
        ] {
            assert!(q.contains(p), "{p} missing from {q}");
        }
        assert!(r.headers().get("authorization").is_none());
    }

    #[test]
    fn redaction_masks_signatures_and_tokens() {
        for version in [SignatureVersion::V1, SignatureVersion::V3] {
            let r = build(version);
            let signature = match version {
                SignatureVersion::V1 => r
                    .uri()
                    .query()
                    .unwrap()
                    .rsplit_once("Signature=")
                    .unwrap()
                    .1
                    .to_owned(),
                SignatureVersion::V3 => r.headers()["authorization"]
                    .to_str()
                    .unwrap()
                    .rsplit_once("Signature=")
                    .unwrap()
                    .1
                    .to_owned(),
            };
            let p = PreparedRequest::new(r);
            let text = p.redacted();
            assert!(!text.contains(&signature), "{text}");
            assert!(!text.contains("TOKEN-SECRET-VALUE"), "{text}");
            assert!(!format!("{p:?}").contains("TOKEN-SECRET-VALUE"));
            assert!(text.contains("Signature=***"), "{text}");
            assert!(text.contains("testAccessKeyId"), "{text}");
            assert!(text.starts_with("POST http://127.0.0.1:18081/?"), "{text}");
        }
    }

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
        assert_eq!(f.kind(), crate::ErrorKind::Decode);
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
        assert!(
            error
                .service_error()
                .unwrap()
                .message
                .contains("SecurityToken%3D***")
        );
    }
}
