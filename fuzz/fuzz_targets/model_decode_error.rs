//! Fuzzes error-body decoding: any body, JSON or XML or neither, yields a
//! `ServiceError` with the given status and a bounded excerpt; never a panic.
#![no_main]

use ecs_model::{BODY_EXCERPT_LIMIT, decode_error};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    for content_type in [
        None,
        Some("application/json"),
        Some("text/xml;charset=utf-8"),
    ] {
        let error = decode_error(503, content_type, data);
        assert_eq!(error.http_status, 503);
        if let Some(excerpt) = &error.body_excerpt {
            assert!(excerpt.len() <= BODY_EXCERPT_LIMIT);
        }
        let _ = error.to_string();
        let _ = error.retry_class();
    }
});
