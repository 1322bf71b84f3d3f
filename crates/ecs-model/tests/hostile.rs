//! Decoders survive hostile bodies: every prefix of the seed examples,
//! random byte flips and arbitrary bytes give a value or an error, never a
//! panic, and never a silently empty page for a cut-off body.

// Test helpers may unwrap: a panic is a test failure with a location
// (clippy's allow-unwrap-in-tests covers only `#[test]` functions).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use ecs_model::{
    ContentEncoding, decode_error, decode_json, decode_response, decode_xml, encode_json,
};
use proptest::prelude::*;

const SEEDS: [&[u8]; 4] = [
    include_bytes!("data/seed_response.json"),
    include_bytes!("data/seed_response.xml"),
    include_bytes!("data/seed_error.json"),
    include_bytes!("data/seed_error.xml"),
];

fn exercise(body: &[u8]) {
    for decoded in [
        decode_json(body),
        decode_xml(body),
        decode_response(None, body),
    ] {
        match decoded {
            Ok(response) => {
                for result in &response.invocation.results {
                    let _ = result.output_text_as(&ContentEncoding::Base64);
                }
                let again = decode_json(encode_json(&response).as_bytes());
                assert_eq!(
                    again.as_ref().ok(),
                    Some(&response),
                    "round trip of {response:?}"
                );
            }
            Err(err) => assert!(!err.to_string().is_empty()),
        }
    }
    let error = decode_error(500, None, body);
    assert_eq!(error.http_status, 500);
}

#[test]
fn every_prefix_of_the_seed_responses_is_an_error_or_complete() {
    for seed in &SEEDS[..2] {
        for cut in 0..seed.len() {
            let prefix = &seed[..cut];
            exercise(prefix);
            // A cut-off body never decodes into a page (the closing brace or
            // root end tag is what completes the document), except when only
            // trailing whitespace was cut.
            if seed[cut..].iter().any(|b| !b.is_ascii_whitespace()) {
                assert!(
                    decode_response(None, prefix).is_err(),
                    "prefix of {cut} bytes decoded"
                );
            }
        }
    }
}

#[test]
fn deeply_nested_json_is_an_error_not_a_stack_overflow() {
    let mut body = String::from("{\"Invocation\":{\"Unknown\":");
    body.push_str(&"[".repeat(100_000));
    assert!(decode_json(body.as_bytes()).is_err());
    let xml = "<a>".repeat(100_000);
    assert!(decode_xml(xml.as_bytes()).is_err());
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(body in proptest::collection::vec(any::<u8>(), 0..512)) {
        exercise(&body);
    }

    #[test]
    fn flipped_seed_bytes_never_panic(
        which in 0usize..4,
        flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
    ) {
        let mut body = SEEDS[which].to_vec();
        for (index, byte) in flips {
            let i = index.index(body.len());
            body[i] = byte;
        }
        exercise(&body);
    }
}
