//! Resource tags: request filters (`Tag.N.Key`/`Tag.N.Value`) and the
//! `Tags.Tag[]` of each result (spec §2, §3).

use serde::Serialize;

/// A tag: a key and a (possibly empty) value.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, Serialize)]
pub struct Tag {
    /// Tag key (`TagKey` in responses, `Tag.N.Key` in requests).
    #[serde(rename = "TagKey")]
    pub key: String,
    /// Tag value (`TagValue` in responses, `Tag.N.Value` in requests).
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
