//! Resource tags: the `Tags.Tag[]` of each result, and the tag filters of a
//! request (`Tag.N.Key`, with an optional `Tag.N.Value`).

use serde::Serialize;

/// A tag of a result: a key and a (possibly empty) value.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, Serialize)]
pub struct Tag {
    /// Tag key (`TagKey` in responses).
    #[serde(rename = "TagKey")]
    pub key: String,
    /// Tag value (`TagValue` in responses).
    #[serde(rename = "TagValue")]
    pub value: String,
}

impl Tag {
    /// A tag with `key` and `value`.
    pub fn new(key: impl Into<String>, value: impl Into<String>) -> Self {
        Self {
            key: key.into(),
            value: value.into(),
        }
    }
}

/// A tag filter of a request: `Tag.N.Key`, and `Tag.N.Value` when a value
/// is given.
///
/// Without a value the filter matches every invocation that has the key,
/// whatever its value; with a value (an empty one included) it matches only
/// invocations whose tag has that value. This is how the API reads a
/// `Tag.N.Key` sent with or without its `Tag.N.Value`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct TagFilter {
    /// `Tag.N.Key`.
    pub key: String,
    /// `Tag.N.Value`; `None` sends no value (any value matches).
    pub value: Option<String>,
}

impl TagFilter {
    /// A filter on `key` having exactly `value` (which may be empty).
    pub fn new(key: impl Into<String>, value: impl Into<String>) -> Self {
        Self {
            key: key.into(),
            value: Some(value.into()),
        }
    }

    /// A filter on `key` with any value (no `Tag.N.Value` is sent).
    pub fn key_only(key: impl Into<String>) -> Self {
        Self {
            key: key.into(),
            value: None,
        }
    }
}

/// A result's tag as a filter on that exact key and value.
impl From<Tag> for TagFilter {
    fn from(tag: Tag) -> Self {
        Self::new(tag.key, tag.value)
    }
}
