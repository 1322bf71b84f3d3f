//! Fuzzes the JSON response decoder: any input either decodes or is a
//! `DecodeError`; never a panic. Decoded responses re-encode and decode to
//! the same value, and every `Output` decoding attempt is total.
#![no_main]

use ecs_model::{ContentEncoding, decode_json, encode_json};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Ok(response) = decode_json(data) else {
        return;
    };
    for result in &response.invocation.results {
        let _ = result.output_bytes(&ContentEncoding::Base64);
        let _ = result.output_text(&ContentEncoding::PlainText);
        let _ = result.truncation();
    }
    let again = decode_json(encode_json(&response).as_bytes());
    assert_eq!(
        again.as_ref().ok(),
        Some(&response),
        "JSON round trip changed the response"
    );
});
