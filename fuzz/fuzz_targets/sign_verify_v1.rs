//! Fuzzes V1 server-side verification: arbitrary query strings and form
//! bodies must yield a result or a typed error, never a panic.
//!
//! Input: `query` or `query\0form body`, decoded lossily from bytes (a
//! server's request target is text; the lossy decode keeps invalid bytes
//! reaching the parser as U+FFFD).

#![no_main]

use ecs_sign::rpc_v1;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let (query, body) = match text.split_once('\0') {
        Some((q, b)) => (q, Some(b)),
        None => (text.as_ref(), None),
    };
    let lookup = |id: &str| (id == "testAccessKeyId").then_some("testAccessKeySecret");
    for method in ["POST", "GET"] {
        let _ = rpc_v1::verify_query(method, query, body, lookup);
    }
    if let Ok(pairs) = ecs_sign::parse_query(query) {
        // Re-encoding what was decoded must parse back to the same pairs.
        let pairs: Vec<(String, String)> = pairs.into_iter().filter(|p| !p.0.is_empty()).collect();
        let again = ecs_sign::parse_query(&ecs_sign::encode_query(&pairs));
        assert_eq!(again.ok(), Some(pairs));
    }
});
