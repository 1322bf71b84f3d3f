//! Fuzzes V3 server-side verification: malformed `Authorization` headers,
//! header sets and queries must yield a typed error, never a panic.
//!
//! Input (decoded lossily): the first line is the `Authorization` value;
//! each following line up to an empty line is a `name: value` header
//! (added to a well-formed date and nonce so the parser is reached deep);
//! what follows the empty line is the query string.

#![no_main]

use ecs_sign::acs3;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let (head, query) = text.split_once("\n\n").unwrap_or((text.as_ref(), ""));
    let mut lines = head.split('\n');
    let authorization = lines.next().unwrap_or_default();
    let mut headers: Vec<(&str, &str)> = vec![
        ("host", "ecs.cn-hangzhou.aliyuncs.com"),
        ("x-acs-date", "2026-01-02T03:04:05Z"),
        ("x-acs-signature-nonce", "b7c5e4a2d9f0416e8a3c1d2e5f607182"),
        ("Authorization", authorization),
    ];
    for line in lines {
        let (name, value) = line.split_once(':').unwrap_or((line, ""));
        headers.push((name, value));
    }
    let lookup = |id: &str| (id == "testAccessKeyId").then_some("testAccessKeySecret");
    let Ok(query) = ecs_sign::parse_query(query) else {
        return;
    };
    let result = acs3::verify("POST", "/", &query, &headers, b"", lookup);
    // Without the secret's signature nothing can verify, except by a
    // forged HMAC, which the fuzzer cannot find.
    assert!(result.is_err());
    let _ = acs3::verify(
        "GET",
        "/",
        &query,
        &headers[..3],
        query.len().to_le_bytes().as_slice(),
        lookup,
    );
});
