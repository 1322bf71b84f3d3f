//! Response decoders: JSON, XML, and the choice between them.

mod fields;
mod json;
mod xml;
mod xml_tree;

pub use json::decode_json;
pub use xml::decode_xml;

pub(crate) use fields::{ErrorField, excerpt};
pub(crate) use json::{ScalarDe, check_starts_with_object, strip_bom};
pub(crate) use xml_tree::{Element, parse as parse_xml_tree};

use crate::decode_error::DecodeError;
use crate::response::DescribeInvocationResultsResponse;

/// Decodes a response body as XML when the content type says XML or the body
/// starts with `<`, and as JSON otherwise.
///
/// # Errors
/// As [`decode_json`] and [`decode_xml`].
pub fn decode_response(
    content_type: Option<&str>,
    body: &[u8],
) -> Result<DescribeInvocationResultsResponse, DecodeError> {
    if is_xml(content_type, body) {
        decode_xml(body)
    } else {
        decode_json(body)
    }
}

/// Whether a body should be read as XML.
pub(crate) fn is_xml(content_type: Option<&str>, body: &[u8]) -> bool {
    let says_xml = content_type.is_some_and(|ct| {
        let essence = ct
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        essence.ends_with("/xml") || essence.ends_with("+xml")
    });
    says_xml || strip_bom(body).trim_ascii_start().first() == Some(&b'<')
}
