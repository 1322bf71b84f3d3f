//! The serde_json decoder: case-insensitive names, text kept as received,
//! numbers accepted as strings, unknown fields ignored and single objects
//! accepted where a list is expected
//! (docs/api/describe-invocation-results.md#tolerance). It reads every body
//! the direct decoder (`json_direct`) declines and words every error.

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;

use serde::Deserialize;
use serde::de::value::MapAccessDeserializer;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::fields::{
    InvocationField, ResultField, ResultsField, RootField, Scalar, TagField, TagsField,
    apply_result_field, excerpt,
};
use crate::decode_error::{DecodeError, Position, describe_start};
use crate::format::ResponseFormat;
use crate::response::{DescribeInvocationResultsResponse, Invocation, InvocationResult};
use crate::tag::Tag;

/// The serde decoder: reads any body the direct decoder declines, and words
/// every error. `text` is the body when it is UTF-8; a body that is not goes
/// through `from_slice`, which says where.
pub(crate) fn decode_with_serde(
    body: &[u8],
    text: Option<&str>,
) -> Result<DescribeInvocationResultsResponse, DecodeError> {
    let root: RootDe = match text {
        Some(text) => serde_json::from_str(text),
        None => serde_json::from_slice(body),
    }
    .map_err(|err| map_json_error(body, &err))?;
    root.into_response()
}

pub(crate) fn strip_bom(body: &[u8]) -> &[u8] {
    body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body)
}

pub(crate) fn check_starts_with_object(body: &[u8]) -> Result<(), DecodeError> {
    match body.iter().position(|b| !b.is_ascii_whitespace()) {
        Some(i) if body[i] == b'{' => Ok(()),
        Some(i) => Err(DecodeError::unexpected(
            ResponseFormat::Json,
            "a JSON object",
            describe_start(body),
            Position::at_offset(body, i),
        )),
        None => Err(DecodeError::unexpected(
            ResponseFormat::Json,
            "a JSON object",
            describe_start(body),
            Position::Document,
        )),
    }
}

fn map_json_error(body: &[u8], err: &serde_json::Error) -> DecodeError {
    let position = if err.line() == 0 {
        Position::Document
    } else {
        Position::LineColumn {
            line: err.line(),
            column: err.column().max(1),
        }
    };
    let message = err.to_string();
    let detail = match message.rfind(" at line ") {
        Some(cut) => message[..cut].to_owned(),
        None => message,
    };
    match err.classify() {
        serde_json::error::Category::Eof => DecodeError::malformed(
            ResponseFormat::Json,
            format!(
                "{detail}; the body ({} bytes) ends early, was it truncated?",
                body.len()
            ),
            position,
        ),
        serde_json::error::Category::Data => {
            DecodeError::invalid_value(ResponseFormat::Json, detail, position)
        }
        serde_json::error::Category::Syntax | serde_json::error::Category::Io => {
            DecodeError::malformed(ResponseFormat::Json, detail, position)
        }
    }
}

/// The top-level object.
#[derive(Default)]
struct RootDe {
    request_id: Option<String>,
    invocation: Option<Invocation>,
    /// Paging fields found directly under the root (the old API reference's XML layout).
    flat: Invocation,
    flat_present: bool,
    code: Option<String>,
    other_keys: Vec<String>,
}

impl RootDe {
    fn into_response(self) -> Result<DescribeInvocationResultsResponse, DecodeError> {
        let invocation = match (self.invocation, self.flat_present) {
            (Some(invocation), _) => invocation,
            (None, true) => self.flat,
            (None, false) => {
                if let Some(code) = self.code {
                    return Err(DecodeError::error_document(
                        ResponseFormat::Json,
                        format!("an error document with Code `{}`", excerpt(&code)),
                        Position::Document,
                    ));
                }
                let found = if self.other_keys.is_empty() {
                    "an object without `Invocation`".to_owned()
                } else {
                    format!("an object with keys {}", self.other_keys.join(", "))
                };
                return Err(DecodeError::unexpected(
                    ResponseFormat::Json,
                    "an object with `Invocation` (a DescribeInvocationResults response)",
                    found,
                    Position::Document,
                ));
            }
        };
        Ok(DescribeInvocationResultsResponse {
            request_id: self.request_id.unwrap_or_default(),
            invocation,
        })
    }
}

impl<'de> Deserialize<'de> for RootDe {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct RootVisitor;
        impl<'de> Visitor<'de> for RootVisitor {
            type Value = RootDe;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a DescribeInvocationResults response object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RootDe, A::Error> {
                let mut root = RootDe::default();
                while let Some(key) = map.next_key::<Cow<'de, str>>()? {
                    match RootField::from_name(&key) {
                        RootField::RequestId => {
                            root.request_id = map.next_value::<ScalarDe<'de>>()?.0.into_text();
                        }
                        RootField::Invocation => {
                            root.invocation = Some(map.next_value::<InvocationDe>()?.0);
                        }
                        RootField::Code => {
                            root.code = map.next_value::<ScalarDe<'de>>()?.0.into_text()
                        }
                        RootField::TotalCount
                        | RootField::PageNumber
                        | RootField::PageSize
                        | RootField::NextToken
                        | RootField::InvocationResults => {
                            let field = InvocationField::from_name(&key);
                            root.flat_present = true;
                            map.next_value_seed(InvocationFieldSeed(&mut root.flat, field))?;
                        }
                        RootField::Other => {
                            if root.other_keys.len() < 5 {
                                root.other_keys.push(format!("`{}`", excerpt(&key)));
                            }
                            map.next_value::<IgnoredAny>()?;
                        }
                    }
                }
                Ok(root)
            }
        }
        deserializer.deserialize_map(RootVisitor)
    }
}

/// Reads one field of `Invocation` into the target.
struct InvocationFieldSeed<'a>(&'a mut Invocation, InvocationField);

impl<'de> DeserializeSeed<'de> for InvocationFieldSeed<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        let InvocationFieldSeed(target, field) = self;
        let int = |d: D, name: &str| -> Result<i64, D::Error> {
            ScalarDe::deserialize(d)?
                .0
                .into_int(name)
                .map(Option::unwrap_or_default)
                .map_err(de::Error::custom)
        };
        match field {
            InvocationField::TotalCount => target.total_count = int(deserializer, "TotalCount")?,
            InvocationField::PageNumber => target.page_number = int(deserializer, "PageNumber")?,
            InvocationField::PageSize => target.page_size = int(deserializer, "PageSize")?,
            InvocationField::NextToken => {
                target.next_token = ScalarDe::deserialize(deserializer)?.0.into_text();
            }
            InvocationField::InvocationResults => {
                target.results = ResultsDe::deserialize(deserializer)?
                    .items
                    .into_iter()
                    .map(|r| r.0)
                    .collect();
                // A short page gives back the room reserved for a full one.
                if target.results.len() * 2 < target.results.capacity() {
                    target.results.shrink_to_fit();
                }
            }
            InvocationField::Other => {
                IgnoredAny::deserialize(deserializer)?;
            }
        }
        Ok(())
    }
}

struct InvocationDe(Invocation);

impl<'de> Deserialize<'de> for InvocationDe {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct InvocationVisitor;
        impl<'de> Visitor<'de> for InvocationVisitor {
            type Value = InvocationDe;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an `Invocation` object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<InvocationDe, A::Error> {
                let mut invocation = Invocation::default();
                while let Some(field) = map.next_key::<InvocationField>()? {
                    map.next_value_seed(InvocationFieldSeed(&mut invocation, field))?;
                }
                Ok(InvocationDe(invocation))
            }
        }
        deserializer.deserialize_map(InvocationVisitor)
    }
}

/// A list that may come as `{"<Item>": [...]}`, `{"<Item>": {...}}`, a bare
/// array, `null` or `""` (missing lists are empty).
struct WrappedList<T, F> {
    items: Vec<T>,
    _field: PhantomData<F>,
}

/// What a wrapped list needs to know about its item field name.
trait ItemField: for<'de> Deserialize<'de> {
    fn is_item(&self) -> bool;
    const WHAT: &'static str;
}

impl ItemField for ResultsField {
    fn is_item(&self) -> bool {
        matches!(self, ResultsField::InvocationResult)
    }
    const WHAT: &'static str = "`InvocationResults` (an object holding `InvocationResult`)";
}

impl ItemField for TagsField {
    fn is_item(&self) -> bool {
        matches!(self, TagsField::Tag)
    }
    const WHAT: &'static str = "`Tags` (an object holding `Tag`)";
}

impl<'de, T: Deserialize<'de> + ListItem, F: ItemField> Deserialize<'de> for WrappedList<T, F> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ListVisitor<T, F>(PhantomData<(T, F)>);
        impl<'de, T: Deserialize<'de> + ListItem, F: ItemField> Visitor<'de> for ListVisitor<T, F> {
            type Value = WrappedList<T, F>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(F::WHAT)
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut items = Vec::new();
                while let Some(field) = map.next_key::<F>()? {
                    if field.is_item() {
                        let more = map.next_value::<OneOrMany<T>>()?.0;
                        // Keep the first list itself (and the room reserved
                        // for a page) rather than copying it into a new one.
                        if items.is_empty() {
                            items = more;
                        } else {
                            items.extend(more);
                        }
                    } else {
                        map.next_value::<IgnoredAny>()?;
                    }
                }
                Ok(WrappedList {
                    items,
                    _field: PhantomData,
                })
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
                let items = collect_seq(seq)?;
                Ok(WrappedList {
                    items,
                    _field: PhantomData,
                })
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(WrappedList {
                    items: Vec::new(),
                    _field: PhantomData,
                })
            }
            fn visit_str<E: de::Error>(self, value: &str) -> Result<Self::Value, E> {
                if value.trim().is_empty() {
                    self.visit_unit()
                } else {
                    Err(E::invalid_type(de::Unexpected::Str(value), &self))
                }
            }
        }
        deserializer.deserialize_any(ListVisitor(PhantomData))
    }
}

fn collect_seq<'de, T: Deserialize<'de> + ListItem, A: SeqAccess<'de>>(
    mut seq: A,
) -> Result<Vec<T>, A::Error> {
    // Cap the hint: it comes from the body and must not drive allocation.
    // Without one (serde_json gives none), start at a full page of results
    // rather than growing (and moving large items) five times.
    let capacity = seq.size_hint().unwrap_or(T::INITIAL_CAPACITY).min(64);
    let mut items = Vec::with_capacity(capacity);
    while let Some(item) = seq.next_element()? {
        items.push(item);
    }
    Ok(items)
}

/// An item of a decoded list.
trait ListItem {
    /// Capacity to start a list at when the document gives no length.
    const INITIAL_CAPACITY: usize;
}

impl ListItem for ResultDe {
    /// A full page (`MaxResults` is at most 50).
    const INITIAL_CAPACITY: usize = 50;
}

impl ListItem for TagDe {
    const INITIAL_CAPACITY: usize = 0;
}

/// An array of `T`, or a single `T` (a list of one), or `null` (empty).
struct OneOrMany<T>(Vec<T>);

impl<'de, T: Deserialize<'de> + ListItem> Deserialize<'de> for OneOrMany<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct OneOrManyVisitor<T>(PhantomData<T>);
        impl<'de, T: Deserialize<'de> + ListItem> Visitor<'de> for OneOrManyVisitor<T> {
            type Value = OneOrMany<T>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an array or an object")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
                collect_seq(seq).map(OneOrMany)
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                T::deserialize(MapAccessDeserializer::new(map)).map(|item| OneOrMany(vec![item]))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(OneOrMany(Vec::new()))
            }
        }
        deserializer.deserialize_any(OneOrManyVisitor(PhantomData))
    }
}

type ResultsDe = WrappedList<ResultDe, ResultsField>;
type TagsDe = WrappedList<TagDe, TagsField>;

struct ResultDe(InvocationResult);

impl<'de> Deserialize<'de> for ResultDe {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ResultVisitor;
        impl<'de> Visitor<'de> for ResultVisitor {
            type Value = ResultDe;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an `InvocationResult` object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<ResultDe, A::Error> {
                let mut result = InvocationResult::default();
                while let Some(field) = map.next_key::<ResultField>()? {
                    match field {
                        ResultField::Tags => {
                            result.tags = map
                                .next_value::<TagsDe>()?
                                .items
                                .into_iter()
                                .map(|t| t.0)
                                .collect();
                        }
                        ResultField::Other => {
                            map.next_value::<IgnoredAny>()?;
                        }
                        field => {
                            let value = map.next_value::<ScalarDe<'de>>()?.0;
                            apply_result_field(&mut result, field, value)
                                .map_err(de::Error::custom)?;
                        }
                    }
                }
                Ok(ResultDe(result))
            }
        }
        deserializer.deserialize_map(ResultVisitor)
    }
}

struct TagDe(Tag);

impl<'de> Deserialize<'de> for TagDe {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct TagVisitor;
        impl<'de> Visitor<'de> for TagVisitor {
            type Value = TagDe;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a `Tag` object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<TagDe, A::Error> {
                let mut tag = Tag::default();
                while let Some(field) = map.next_key::<TagField>()? {
                    match field {
                        TagField::TagKey | TagField::Key => {
                            tag.key = map
                                .next_value::<ScalarDe<'de>>()?
                                .0
                                .into_text()
                                .unwrap_or_default();
                        }
                        TagField::TagValue | TagField::Value => {
                            tag.value = map
                                .next_value::<ScalarDe<'de>>()?
                                .0
                                .into_text()
                                .unwrap_or_default();
                        }
                        TagField::Other => {
                            map.next_value::<IgnoredAny>()?;
                        }
                    }
                }
                Ok(TagDe(tag))
            }
        }
        deserializer.deserialize_map(TagVisitor)
    }
}

/// A scalar JSON value (string, number, boolean or null).
pub(crate) struct ScalarDe<'de>(pub(crate) Scalar<'de>);

impl<'de> Deserialize<'de> for ScalarDe<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ScalarVisitor;
        impl<'de> Visitor<'de> for ScalarVisitor {
            type Value = ScalarDe<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string or a number")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(ScalarDe(Scalar::Str(Cow::Borrowed(v))))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(ScalarDe(Scalar::Str(Cow::Owned(v.to_owned()))))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
                Ok(ScalarDe(Scalar::Str(Cow::Owned(v))))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
                Ok(ScalarDe(Scalar::Int(v)))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
                Ok(ScalarDe(match i64::try_from(v) {
                    Ok(n) => Scalar::Int(n),
                    Err(_) => Scalar::Number(v.to_string()),
                }))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
                // Whole numbers written as `5.0` are integers; 2^63 is the
                // first f64 above the i64 range.
                let whole = v.is_finite() && v.fract() == 0.0 && v.abs() < 9.223_372_036_854_776e18;
                Ok(ScalarDe(if whole {
                    #[allow(clippy::cast_possible_truncation)] // Checked above.
                    Scalar::Int(v as i64)
                } else {
                    Scalar::Number(v.to_string())
                }))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
                Ok(ScalarDe(Scalar::Bool(v)))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(ScalarDe(Scalar::Null))
            }
            fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(ScalarDe(Scalar::Null))
            }
        }
        deserializer.deserialize_any(ScalarVisitor)
    }
}
