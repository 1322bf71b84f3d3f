//! XML decoding (`Format=XML`): the same tolerance as JSON, plus the old API reference's
//! layout without the `Invocation` wrapper
//! (docs/api/describe-invocation-results.md#tolerance).

use std::borrow::Cow;

use super::fields::{InvocationField, ResultField, Scalar, TagField, apply_result_field, excerpt};
use super::xml_tree::{self, Element};
use crate::decode_error::{DecodeError, Position};
use crate::format::ResponseFormat;
use crate::response::{DescribeInvocationResultsResponse, Invocation, InvocationResult};
use crate::tag::Tag;

/// The documented root element.
const ROOT: &str = "DescribeInvocationResultsResponse";

/// Decodes an XML `DescribeInvocationResults` body.
///
/// # Errors
/// A [`DecodeError`] saying what was expected, what was found and where when
/// the body is not such a response (truncated, HTML, empty, an `<Error>`
/// document, another document).
pub fn decode_xml(body: &[u8]) -> Result<DescribeInvocationResultsResponse, DecodeError> {
    let root = xml_tree::parse(body)?;
    let position = Position::at_offset(body, root.offset);
    if root.name.eq_ignore_ascii_case("Error") {
        let code = root.child_text("Code").unwrap_or_default();
        return Err(DecodeError::error_document(
            ResponseFormat::Xml,
            format!("an `<Error>` document with Code `{}`", excerpt(&code)),
            position,
        ));
    }
    let wrapper = root.child("Invocation");
    let flat = root.child("InvocationResults").is_some() || root.child("TotalCount").is_some();
    if !root.name.eq_ignore_ascii_case(ROOT) && wrapper.is_none() && !flat {
        return Err(DecodeError::unexpected(
            ResponseFormat::Xml,
            format!("a `<{ROOT}>` document"),
            format!("`<{}>`", excerpt(&root.name)),
            position,
        ));
    }
    let invocation = read_invocation(wrapper.unwrap_or(&root), body)?;
    Ok(DescribeInvocationResultsResponse {
        request_id: root.child_text("RequestId").unwrap_or_default(),
        invocation,
    })
}

fn read_invocation(element: &Element, body: &[u8]) -> Result<Invocation, DecodeError> {
    let mut invocation = Invocation::default();
    for child in &element.children {
        let field = InvocationField::from_name(&child.name);
        let int = |name: &str| -> Result<i64, DecodeError> {
            scalar(child)
                .into_int(name)
                .map(Option::unwrap_or_default)
                .map_err(|detail| invalid(child, body, detail))
        };
        match field {
            InvocationField::TotalCount => invocation.total_count = int("TotalCount")?,
            InvocationField::PageNumber => invocation.page_number = int("PageNumber")?,
            InvocationField::PageSize => invocation.page_size = int("PageSize")?,
            InvocationField::NextToken => invocation.next_token = scalar(child).into_text(),
            InvocationField::InvocationResults => {
                for item in &child.children {
                    if item.name.eq_ignore_ascii_case("InvocationResult") {
                        invocation.results.push(read_result(item, body)?);
                    }
                }
            }
            InvocationField::Other => {}
        }
    }
    Ok(invocation)
}

fn read_result(element: &Element, body: &[u8]) -> Result<InvocationResult, DecodeError> {
    let mut result = InvocationResult::default();
    for child in &element.children {
        match ResultField::from_name(&child.name) {
            ResultField::Tags => {
                result.tags = child
                    .children
                    .iter()
                    .filter(|t| t.name.eq_ignore_ascii_case("Tag"))
                    .map(read_tag)
                    .collect();
            }
            ResultField::Other => {}
            field => apply_result_field(&mut result, field, scalar(child))
                .map_err(|detail| invalid(child, body, detail))?,
        }
    }
    Ok(result)
}

fn read_tag(element: &Element) -> Tag {
    let mut tag = Tag::default();
    for child in &element.children {
        let text = || scalar(child).into_text().unwrap_or_default();
        match TagField::from_name(&child.name) {
            TagField::TagKey | TagField::Key => tag.key = text(),
            TagField::TagValue | TagField::Value => tag.value = text(),
            TagField::Other => {}
        }
    }
    tag
}

fn scalar(element: &Element) -> Scalar<'_> {
    Scalar::Str(Cow::Borrowed(&element.text))
}

fn invalid(element: &Element, body: &[u8], detail: String) -> DecodeError {
    DecodeError::invalid_value(
        ResponseFormat::Xml,
        detail,
        Position::at_offset(body, element.offset),
    )
}
