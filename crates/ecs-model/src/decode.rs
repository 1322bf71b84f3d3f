//! Response decoders: JSON, XML, and the choice between them.

mod fields;
mod json;
mod json_direct;
mod json_reader;
mod xml;
mod xml_tree;

pub use xml::decode_xml;

pub(crate) use fields::{ErrorField, excerpt};
pub(crate) use json::{ScalarDe, check_starts_with_object, strip_bom};
pub(crate) use xml_tree::{Element, parse as parse_xml_tree};

use crate::decode_error::DecodeError;
use crate::response::DescribeInvocationResultsResponse;

/// Decodes a JSON `DescribeInvocationResults` body.
///
/// # Errors
/// A [`DecodeError`] saying what was expected, what was found and where when
/// the body is not such a response (truncated, HTML, empty, an error
/// document, another document).
pub fn decode_json(body: &[u8]) -> Result<DescribeInvocationResultsResponse, DecodeError> {
    let body = strip_bom(body);
    check_starts_with_object(body)?;
    // Validating UTF-8 once over the whole body is several times faster than
    // serde_json's check of each string.
    let text = std::str::from_utf8(body).ok();
    // The direct decoder reads the common body in about two thirds of the
    // time; it leaves any body it is unsure of, and every error, to serde_json.
    if let Some(response) = text.and_then(json_direct::decode) {
        return Ok(response);
    }
    json::decode_with_serde(body, text)
}

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

/// The `NextToken` of a 2xx body, found by a scan instead of a full decode:
/// a paginator uses it to ask for the next page while it decodes this one.
///
/// It is a hint, not a decoding: `None` when the field is absent or empty, or
/// written in a form the scan does not read (JSON escapes, XML entities or
/// markup inside the value); the decoded page stays the truth, and a caller
/// must check the hint against it.
///
/// ```
/// let body = br#"{"RequestId":"r","Invocation":{"NextToken":"AAAA1","InvocationResults":{}}}"#;
/// assert_eq!(ecs_model::peek_next_token(Some("application/json"), body), Some("AAAA1"));
/// let xml = b"<R><Invocation><NextToken> t-2 </NextToken></Invocation></R>";
/// assert_eq!(ecs_model::peek_next_token(None, xml), Some("t-2"));
/// ```
pub fn peek_next_token<'a>(content_type: Option<&str>, body: &'a [u8]) -> Option<&'a str> {
    let value = if is_xml(content_type, body) {
        peek_xml(body)?
    } else {
        peek_json(body)?
    };
    let token = std::str::from_utf8(value).ok()?.trim();
    (!token.is_empty()).then_some(token)
}

/// The first `"NextToken": "value"` member, skipping the name where it is
/// not a key (a tag's value can be the text `NextToken`).
fn peek_json(body: &[u8]) -> Option<&[u8]> {
    const KEY: &[u8] = b"\"NextToken\"";
    let mut from = 0;
    while let Some(at) = find(&body[from..], KEY) {
        from += at + KEY.len();
        let Some(rest) = body[from..].trim_ascii_start().strip_prefix(b":") else {
            continue;
        };
        let rest = rest.trim_ascii_start().strip_prefix(b"\"")?;
        let len = rest
            .iter()
            .position(|&b| b == b'"' || b == b'\\' || b < 0x20)?;
        return (rest[len] == b'"').then_some(&rest[..len]);
    }
    None
}

/// The text of the first `<NextToken>` element, if it is plain text.
fn peek_xml(body: &[u8]) -> Option<&[u8]> {
    const OPEN: &[u8] = b"<NextToken>";
    let start = find(body, OPEN)? + OPEN.len();
    let len = body[start..].iter().position(|&b| b == b'<')?;
    let value = &body[start..start + len];
    (!value.contains(&b'&') && body[start + len..].starts_with(b"</NextToken>")).then_some(value)
}

/// The offset of the first `needle` in `haystack`.
fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
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

#[cfg(test)]
mod tests {
    use super::peek_next_token;

    #[test]
    fn peeks_plain_tokens_and_declines_what_it_cannot_read() {
        fn json(text: &str) -> Option<&str> {
            peek_next_token(Some("application/json"), text.as_bytes())
        }
        assert_eq!(
            json(r#"{"Invocation":{"NextToken" :  "a+/=" }}"#),
            Some("a+/=")
        );
        assert_eq!(json(r#"{"Invocation":{"NextToken":" t "}}"#), Some("t"));
        assert_eq!(json(r#"{"Invocation":{"NextToken":""}}"#), None);
        assert_eq!(json(r#"{"Invocation":{"NextToken":"a\"b"}}"#), None);
        assert_eq!(json(r#"{"Invocation":{"NextToken":null}}"#), None);
        assert_eq!(json(r#"{"Invocation":{"NextToken":"unterminated"#), None);
        assert_eq!(json(r#"{"Invocation":{}}"#), None);
        // A tag whose value is the text `NextToken` is not the member.
        assert_eq!(
            json(r#"{"Tags":[{"Key":"NextToken"}],"Invocation":{"NextToken":"real"}}"#),
            Some("real")
        );
        fn xml(text: &str) -> Option<&str> {
            peek_next_token(Some("text/xml"), text.as_bytes())
        }
        assert_eq!(xml("<R><NextToken>t-1</NextToken></R>"), Some("t-1"));
        assert_eq!(xml("<R><NextToken>a&amp;b</NextToken></R>"), None);
        assert_eq!(xml("<R><NextToken><![CDATA[t]]></NextToken></R>"), None);
        assert_eq!(xml("<R><NextToken></NextToken></R>"), None);
        assert_eq!(xml("<R><NextToken/></R>"), None);
        // The body decides when the content type says nothing.
        assert_eq!(
            peek_next_token(None, b"<R><NextToken>x</NextToken></R>"),
            Some("x")
        );
    }
}
