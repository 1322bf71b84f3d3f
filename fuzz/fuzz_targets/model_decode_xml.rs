//! Fuzzes the XML response decoder (and the content-type dispatch): any
//! input either decodes or is a `DecodeError`; never a panic. The
//! `NextToken` scan of read-ahead is total too.
#![no_main]

use ecs_model::{ContentEncoding, decode_response, decode_xml, encode_xml, peek_next_token};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = decode_response(None, data);
    let _ = peek_next_token(None, data);
    let _ = peek_next_token(Some("text/xml"), data);
    let Ok(response) = decode_xml(data) else {
        return;
    };
    for result in &response.invocation.results {
        let _ = result.output_bytes_as(&ContentEncoding::Base64);
    }
    // Re-encoding must always produce a document the decoder accepts.
    assert!(
        decode_xml(encode_xml(&response).as_bytes()).is_ok(),
        "encoded XML does not decode"
    );
});
