//! Fuzzes the JSON response decoder: any input either decodes or is a
//! `DecodeError`; never a panic. Decoded responses re-encode and decode to
//! the same value, and every `Output` decoding attempt is total. Whatever
//! the scalar `base64` crate reads from an `Output` (whitespace removed,
//! padding optional), `output_bytes` (SIMD) reads the same bytes. The
//! `NextToken` scan of read-ahead is total too.
#![no_main]

use base64::Engine as _;
use base64::alphabet::STANDARD;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use ecs_model::{ContentEncoding, decode_json, encode_json, peek_next_token};

const SCALAR: GeneralPurpose = GeneralPurpose::new(
    &STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = peek_next_token(Some("application/json"), data);
    let Ok(response) = decode_json(data) else {
        return;
    };
    for result in &response.invocation.results {
        let decoded = result.output_bytes_as(&ContentEncoding::Base64);
        let compact: Vec<u8> = result
            .output
            .bytes()
            .filter(|b| !b.is_ascii_whitespace())
            .collect();
        if let Ok(expected) = SCALAR.decode(compact) {
            assert_eq!(
                decoded.as_deref().ok(),
                Some(expected.as_slice()),
                "Base64 decoders disagree"
            );
        }
        let _ = result.output_text_as(&ContentEncoding::PlainText);
        let _ = result.truncation();
    }
    let again = decode_json(encode_json(&response).as_bytes());
    assert_eq!(
        again.as_ref().ok(),
        Some(&response),
        "JSON round trip changed the response"
    );
});
