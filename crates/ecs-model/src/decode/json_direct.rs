//! The direct JSON decoder: reads a response with [`Reader`] straight into
//! the response types, with the serde decoder's tolerance (the same name
//! matching, scalar conversions and list forms, from `fields` and the rules
//! below), in about two thirds of its time per page.
//!
//! It returns `None` for any body it does not read to the end: the serde
//! decoder then reads that body, and decides, and words any error. So that
//! a body decodes the same whichever decoder reads it, the direct decoder
//! only accepts what the serde decoder accepts and builds the same value
//! (the tests compare the two).

use super::fields::{
    FieldName, InvocationField, ResultField, ResultsField, RootField, TagField, TagsField,
    apply_result_field,
};
use super::json_reader::{KeyOrder, Reader};
use crate::request::MAX_PAGE_SIZE;
use crate::response::{DescribeInvocationResultsResponse, Invocation, InvocationResult};
use crate::tag::Tag;

/// Decodes `text`, or `None` when it is not a response read to the end
/// without doubt.
pub(crate) fn decode(text: &str) -> Option<DescribeInvocationResultsResponse> {
    let mut reader = Reader::new(text);
    let mut request_id = None;
    let mut invocation = None;
    // Paging fields directly under the root (the old API reference's XML layout).
    let mut flat = Invocation::default();
    let mut flat_present = false;
    reader.object(&mut KeyOrder::new(), |reader, field| {
        let flat_field = match field {
            RootField::RequestId => {
                request_id = reader.scalar()?.into_text();
                return Some(());
            }
            RootField::Invocation => {
                invocation = Some(read_invocation(reader)?);
                return Some(());
            }
            RootField::Code => return reader.scalar().map(drop),
            RootField::Other => return reader.skip(),
            RootField::TotalCount => InvocationField::TotalCount,
            RootField::PageNumber => InvocationField::PageNumber,
            RootField::PageSize => InvocationField::PageSize,
            RootField::NextToken => InvocationField::NextToken,
            RootField::InvocationResults => InvocationField::InvocationResults,
        };
        flat_present = true;
        read_invocation_field(reader, &mut flat, flat_field)
    })?;
    if !reader.at_end() {
        return None;
    }
    // Without either, the body is an error document or another document:
    // the serde decoder says which.
    let invocation = invocation.or_else(|| flat_present.then_some(flat))?;
    Some(DescribeInvocationResultsResponse {
        request_id: request_id.unwrap_or_default(),
        invocation,
    })
}

fn read_invocation(reader: &mut Reader<'_>) -> Option<Invocation> {
    let mut invocation = Invocation::default();
    reader.object(&mut KeyOrder::new(), |reader, field| {
        read_invocation_field(reader, &mut invocation, field)
    })?;
    Some(invocation)
}

fn read_invocation_field(
    reader: &mut Reader<'_>,
    target: &mut Invocation,
    field: InvocationField,
) -> Option<()> {
    let mut int = |name: &str| -> Option<i64> {
        let value = reader.scalar()?.into_int(name).ok()?;
        Some(value.unwrap_or_default())
    };
    match field {
        InvocationField::TotalCount => target.total_count = int("TotalCount")?,
        InvocationField::PageNumber => target.page_number = int("PageNumber")?,
        InvocationField::PageSize => target.page_size = int("PageSize")?,
        InvocationField::NextToken => target.next_token = reader.scalar()?.into_text(),
        InvocationField::InvocationResults => {
            let mut order = KeyOrder::new();
            let read = |reader: &mut Reader<'_>, results: &mut Vec<InvocationResult>| {
                read_result(reader, results, &mut order)
            };
            // Room for a full page.
            let full_page = usize::try_from(MAX_PAGE_SIZE).unwrap_or_default();
            let mut results = read_list(reader, ResultsField::InvocationResult, full_page, read)?;
            // A short page gives back the room reserved for a full one.
            if results.len() * 2 < results.capacity() {
                results.shrink_to_fit();
            }
            target.results = results;
        }
        InvocationField::Other => reader.skip()?,
    }
    Some(())
}

/// Reads a list in any of the forms the serde decoder accepts: wrapped
/// (`{"Item": [..]}`, the item key being `item`, other keys skipped, a
/// repeated item key adding to the list), bare (`[..]`), `null`, or a blank
/// string; a wrapped item may be a single object or `null` instead of an
/// array. `read` reads one object onto the list.
fn read_list<'a, F: FieldName + PartialEq, T>(
    reader: &mut Reader<'a>,
    item: F,
    capacity: usize,
    mut read: impl FnMut(&mut Reader<'a>, &mut Vec<T>) -> Option<()>,
) -> Option<Vec<T>> {
    let mut items = Vec::new();
    match reader.peek()? {
        b'{' => reader.object(&mut KeyOrder::<F>::new(), |reader, field| {
            if field != item {
                return reader.skip();
            }
            match reader.peek()? {
                b'[' => {
                    if items.is_empty() {
                        items.reserve(capacity);
                    }
                    reader.array(|reader| read(reader, &mut items))
                }
                b'{' => read(reader, &mut items),
                _ => reader.null(),
            }
        })?,
        b'[' => {
            items.reserve(capacity);
            reader.array(|reader| read(reader, &mut items))?;
        }
        b'"' => {
            if !reader.string()?.trim().is_empty() {
                return None;
            }
        }
        _ => reader.null()?,
    }
    Some(items)
}

/// Reads one `InvocationResult` object onto `results`, building it in place.
fn read_result(
    reader: &mut Reader<'_>,
    results: &mut Vec<InvocationResult>,
    order: &mut KeyOrder<ResultField>,
) -> Option<()> {
    results.push(InvocationResult::default());
    let result = results.last_mut()?;
    reader.object(order, |reader, field| {
        match field {
            ResultField::Tags => {
                let mut order = KeyOrder::new();
                let read = |reader: &mut Reader<'_>, tags: &mut Vec<Tag>| {
                    read_tag(reader, tags, &mut order)
                };
                result.tags = read_list(reader, TagsField::Tag, 0, read)?;
            }
            ResultField::Other => reader.skip()?,
            field => apply_result_field(result, field, reader.scalar()?).ok()?,
        }
        Some(())
    })
}

/// Reads one `Tag` object onto `tags`.
fn read_tag(
    reader: &mut Reader<'_>,
    tags: &mut Vec<Tag>,
    order: &mut KeyOrder<TagField>,
) -> Option<()> {
    let mut tag = Tag::default();
    reader.object(order, |reader, field| {
        match field {
            TagField::TagKey | TagField::Key => {
                tag.key = reader.scalar()?.into_text().unwrap_or_default();
            }
            TagField::TagValue | TagField::Value => {
                tag.value = reader.scalar()?.into_text().unwrap_or_default();
            }
            TagField::Other => reader.skip()?,
        }
        Some(())
    })?;
    tags.push(tag);
    Some(())
}

#[cfg(test)]
mod tests;
