use super::*;

/// The seed's XML error example, byte for byte.
const SEED_XML: &str = include_str!("../../tests/data/seed_error.xml");
/// The seed's JSON error example (no commas), byte for byte.
const SEED_JSON: &str = include_str!("../../tests/data/seed_error.json");
const MESSAGE: &str = "The input parameter \u{201c}RegionId\u{201d} that is mandatory for processing this request is not supplied.";

#[test]
fn seed_xml_error() {
    let error = decode_error(400, Some("text/xml;charset=utf-8"), SEED_XML.as_bytes());
    assert_eq!(error.code, "MissingParameter.RegionId");
    assert_eq!(error.message, MESSAGE);
    assert_eq!(
        error.request_id.as_deref(),
        Some("540CFF28-407A-40B5-B6A5-74Bxxxxxxxxx")
    );
    assert_eq!(error.host_id.as_deref(), Some("ecs.aliyuncs.com"));
    assert_eq!(error.http_status, 400);
    assert_eq!(error.body_excerpt, None);
}

#[test]
fn seed_json_error_without_commas_is_recovered() {
    let error = decode_error(400, Some("application/json"), SEED_JSON.as_bytes());
    assert_eq!(error.code, "MissingParameter.RegionId");
    assert_eq!(error.message, MESSAGE);
    assert_eq!(
        error.request_id.as_deref(),
        Some("540CFF28-407A-40B5-B6A5-74Bxxxxxxxxx")
    );
    assert_eq!(error.host_id.as_deref(), Some("ecs.aliyuncs.com"));
    assert!(error.body_excerpt.is_some());
    assert_eq!(
        error.to_string(),
        format!(
            "service error MissingParameter.RegionId (http status 400): {MESSAGE} (request id 540CFF28-407A-40B5-B6A5-74Bxxxxxxxxx)"
        )
    );
}

#[test]
fn current_json_error_with_access_denied_detail() {
    let body = br#"{"RequestId":"R","HostId":"ecs.cn-hangzhou.aliyuncs.com","Code":"Forbidden.RAM","Message":"User not authorized","Recommend":"https://api.aliyun.com/troubleshoot?q=Forbidden.RAM","AccessDeniedDetail":{"AuthAction":"ecs:DescribeInvocationResults","NoPermissionType":"ImplicitDeny"}}"#;
    let error = decode_error(403, None, body);
    assert_eq!(error.code, "Forbidden.RAM");
    assert_eq!(
        error.recommend.as_deref(),
        Some("https://api.aliyun.com/troubleshoot?q=Forbidden.RAM")
    );
    let detail: serde_json::Value =
        serde_json::from_str(error.access_denied_detail.as_deref().unwrap()).unwrap();
    assert_eq!(detail["NoPermissionType"], "ImplicitDeny");
    assert_eq!(error.retry_class(), RetryClass::Final);
}

#[test]
fn html_502_keeps_status_and_readable_excerpt() {
    let body = b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>Tengine</center>\r\n</body>\r\n</html>\r\n";
    let error = decode_error(502, Some("text/html"), body);
    assert_eq!(error.http_status, 502);
    assert!(!error.has_code());
    assert_eq!(
        error.body_excerpt.as_deref(),
        Some("502 Bad Gateway 502 Bad Gateway Tengine")
    );
    assert_eq!(
        error.to_string(),
        "http status 502 without an error document: 502 Bad Gateway 502 Bad Gateway Tengine"
    );
    assert_eq!(error.retry_class(), RetryClass::Transient);
}

#[test]
fn hostile_bodies_never_panic_and_stay_bounded() {
    let big = vec![b'x'; 100_000];
    let error = decode_error(500, None, &big);
    assert_eq!(
        error.body_excerpt.as_ref().unwrap().len(),
        BODY_EXCERPT_LIMIT
    );
    let error = decode_error(503, None, b"");
    assert_eq!(
        error.to_string(),
        "http status 503 without an error document (empty body)"
    );
    let error = decode_error(500, None, b"\xff\xfe{\"Code\":");
    assert_eq!(error.http_status, 500);
    let truncated = br#"{"RequestId":"R-9","Code":"Throttling.User","Mess"#;
    let error = decode_error(400, None, truncated);
    assert_eq!(error.code, "Throttling.User");
    assert!(error.is_throttling());
}

#[test]
fn a_quoted_string_to_sign_never_carries_the_security_token() {
    let sts = "POST&%2F&AccessKeyId%3DSTS.x%26SecurityToken%3DCAIS%252Bsecret%253D%26Timestamp%3D1";
    assert_eq!(
        mask_security_token(sts).unwrap(),
        "POST&%2F&AccessKeyId%3DSTS.x%26SecurityToken%3D***%26Timestamp%3D1"
    );
    assert_eq!(
        mask_security_token("a=1&SecurityToken=tok+en&b=2 SecurityToken=last").unwrap(),
        "a=1&SecurityToken=***&b=2 SecurityToken=***"
    );
    assert_eq!(mask_security_token("nothing to hide"), None);

    // Every text of a decoded error is masked: the message of a JSON or
    // XML error, and the excerpt of a body that is neither.
    let json = format!(r#"{{"Code":"SignatureDoesNotMatch","Message":"string to sign:{sts}"}}"#);
    let xml = format!("<Error><Code>SignatureDoesNotMatch</Code><Message>{sts}</Message></Error>");
    let html = format!("<html><body>SecurityToken={sts}</body></html>");
    // A short value masked at the end of a full-length excerpt (the fuzzer's
    // find): the excerpt keeps its bound.
    let long = format!("{}SecurityToken=a", "x".repeat(BODY_EXCERPT_LIMIT - 16));
    let error = decode_error(502, Some("text/plain"), long.as_bytes());
    let excerpt = error.body_excerpt.unwrap();
    assert!(excerpt.len() <= BODY_EXCERPT_LIMIT, "{}", excerpt.len());
    assert!(excerpt.ends_with("SecurityToken=**"), "{excerpt}");
    for (content_type, body) in [
        ("application/json", json),
        ("text/xml", xml),
        ("text/html", html),
    ] {
        let error = decode_error(400, Some(content_type), body.as_bytes());
        let shown = format!("{error} {error:?}");
        assert!(!shown.contains("CAIS"), "{content_type}: {shown}");
    }
}

#[test]
fn a_signature_mismatch_reads_on_one_line_with_the_string_to_sign_apart() {
    // V3: the server's string to sign is two lines (algorithm, then hash).
    let v3 = r#"{"Code":"SignatureDoesNotMatch","Message":"Specified signature is not matched with our calculation. server string to sign is:ACS3-HMAC-SHA256\n8a1f0c","RequestId":"R-1"}"#;
    let error = decode_error(400, Some("application/json"), v3.as_bytes());
    let shown = error.to_string();
    assert_eq!(
        shown,
        "service error SignatureDoesNotMatch (http status 400): Specified signature is not \
         matched with our calculation. (request id R-1)"
    );
    assert_eq!(
        error.server_string_to_sign.as_deref(),
        Some("ACS3-HMAC-SHA256\n8a1f0c")
    );
    assert_eq!(
        error.message,
        "Specified signature is not matched with our calculation."
    );

    // V1, as the STS endpoint words it: the token stays masked in the field.
    let v1 = r#"<Error><Code>SignatureDoesNotMatch</Code><Message>The signature does not match. Server string to sign is:POST&amp;%2F&amp;AccessKeyId%3DSTS.x%26SecurityToken%3DCAISsecret%26Timestamp%3D1</Message></Error>"#;
    let error = decode_error(400, Some("text/xml"), v1.as_bytes());
    assert_eq!(error.message, "The signature does not match.");
    let quoted = error.server_string_to_sign.as_deref().unwrap();
    assert_eq!(
        quoted,
        "POST&%2F&AccessKeyId%3DSTS.x%26SecurityToken%3D***%26Timestamp%3D1"
    );
    let shown = format!("{error} {error:?}");
    assert!(!shown.contains("CAIS"), "{shown}");

    // Any other message keeps its text, and its line breaks never reach
    // `Display`.
    let other = r#"{"Code":"Forbidden","Message":"line one\nline two\r\nthree\rfour"}"#;
    let error = decode_error(403, Some("application/json"), other.as_bytes());
    assert_eq!(error.server_string_to_sign, None);
    assert_eq!(error.message, "line one\nline two\r\nthree\rfour");
    assert_eq!(
        error.to_string(),
        "service error Forbidden (http status 403): line one line two three four"
    );
}
