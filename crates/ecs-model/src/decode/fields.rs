//! Field names of the wire documents, matched without regard to ASCII case
//! (the old API reference spells `Invokerecordstatus`, `Exitcode`, `Pagenumber`), and the
//! conversion of one scalar value into a typed field. Shared by the JSON and
//! XML decoders so both read values the same way.

use std::borrow::Cow;

use crate::enums::{ErrorCode, InvocationStatus, InvokeRecordStatus};
use crate::response::InvocationResult;
use crate::timestamp::Timestamp;

/// A set of field names, for decoders that look names up generically.
pub(crate) trait FieldName: Copy + 'static {
    /// The known fields (`Other` left out), each at its [`index`](Self::index).
    const KNOWN: &'static [Self];
    /// Their exact wire spellings, in the same order.
    const SPELLINGS: &'static [&'static str];
    /// The field called `name` (ASCII case ignored), or the set's `Other`.
    fn lookup(name: &str) -> Self;
    /// A number distinct per field of the set, below [`FIELD_SLOTS`];
    /// `Other` comes after the known fields.
    fn index(self) -> usize;
}

/// A bound on the number of fields in a set (`Other` included).
pub(crate) const FIELD_SLOTS: usize = 31;

/// Declares an enum of known field names with a case-insensitive lookup.
macro_rules! fields {
    ($name:ident { $( $variant:ident = $wire:literal ),+ $(,)? }) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub(crate) enum $name {
            $( $variant, )+
            /// A name this decoder does not know; its value is skipped.
            Other,
        }

        impl $name {
            pub(crate) fn from_name(name: &str) -> Self {
                // Exact spelling first (the common case), then ASCII case-insensitive.
                match name {
                    $( $wire => return Self::$variant, )+
                    _ => {}
                }
                $(
                    if name.eq_ignore_ascii_case($wire) {
                        return Self::$variant;
                    }
                )+
                Self::Other
            }

            #[allow(dead_code)] // Used by some field sets only.
            pub(crate) fn wire_name(self) -> &'static str {
                match self {
                    $( Self::$variant => $wire, )+
                    Self::Other => "(unknown)",
                }
            }
        }

        impl FieldName for $name {
            const KNOWN: &'static [Self] = &[ $( Self::$variant, )+ ];
            const SPELLINGS: &'static [&'static str] = &[ $( $wire, )+ ];

            fn lookup(name: &str) -> Self {
                Self::from_name(name)
            }

            fn index(self) -> usize {
                self as usize
            }
        }

        // `index` must stay below `FIELD_SLOTS`.
        const _: () = assert!(($name::Other as usize) < FIELD_SLOTS);

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                struct FieldVisitor;
                impl serde::de::Visitor<'_> for FieldVisitor {
                    type Value = $name;
                    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        f.write_str("a field name")
                    }
                    fn visit_str<E: serde::de::Error>(self, value: &str) -> Result<$name, E> {
                        Ok($name::from_name(value))
                    }
                }
                deserializer.deserialize_identifier(FieldVisitor)
            }
        }
    };
}

fields!(RootField {
    RequestId = "RequestId",
    Invocation = "Invocation",
    TotalCount = "TotalCount",
    PageNumber = "PageNumber",
    PageSize = "PageSize",
    NextToken = "NextToken",
    InvocationResults = "InvocationResults",
    Code = "Code",
});

fields!(InvocationField {
    TotalCount = "TotalCount",
    PageNumber = "PageNumber",
    PageSize = "PageSize",
    NextToken = "NextToken",
    InvocationResults = "InvocationResults",
});

fields!(ResultsField {
    InvocationResult = "InvocationResult",
});

fields!(TagsField { Tag = "Tag" });

fields!(TagField {
    TagKey = "TagKey",
    TagValue = "TagValue",
    Key = "Key",
    Value = "Value",
});

fields!(ErrorField {
    RequestId = "RequestId",
    HostId = "HostId",
    Code = "Code",
    Message = "Message",
    Recommend = "Recommend",
    AccessDeniedDetail = "AccessDeniedDetail",
});

fields!(ResultField {
    CommandId = "CommandId",
    InvokeId = "InvokeId",
    InstanceId = "InstanceId",
    ContainerId = "ContainerId",
    ContainerName = "ContainerName",
    InvocationStatus = "InvocationStatus",
    InvokeRecordStatus = "InvokeRecordStatus",
    ExitCode = "ExitCode",
    Output = "Output",
    Dropped = "Dropped",
    ErrorCode = "ErrorCode",
    ErrorInfo = "ErrorInfo",
    Repeats = "Repeats",
    StartTime = "StartTime",
    FinishedTime = "FinishedTime",
    StopTime = "StopTime",
    Username = "Username",
    Launcher = "Launcher",
    TerminationMode = "TerminationMode",
    OssOutputDelivery = "OssOutputDelivery",
    OssOutputStatus = "OssOutputStatus",
    OssOutputUri = "OssOutputUri",
    OssOutputErrorCode = "OssOutputErrorCode",
    OssOutputErrorInfo = "OssOutputErrorInfo",
    Tags = "Tags",
});

/// One scalar value as found on the wire.
#[derive(Debug)]
pub(crate) enum Scalar<'a> {
    Str(Cow<'a, str>),
    Int(i64),
    /// A number that does not fit `i64` or is not whole, kept as text.
    Number(String),
    Bool(bool),
    Null,
}

impl Scalar<'_> {
    /// The value as text, untrimmed (`Output` keeps its whitespace).
    pub(crate) fn into_raw(self) -> String {
        match self {
            Scalar::Str(s) => s.into_owned(),
            Scalar::Int(n) => n.to_string(),
            Scalar::Number(n) => n,
            Scalar::Bool(b) => b.to_string(),
            Scalar::Null => String::new(),
        }
    }

    /// The value as text, exactly as received (the official SDKs keep
    /// whitespace too); only the empty text is `None`.
    pub(crate) fn into_text(self) -> Option<String> {
        match self {
            Scalar::Str(s) => (!s.is_empty()).then(|| s.into_owned()),
            Scalar::Null => None,
            other => Some(other.into_raw()),
        }
    }

    /// Applies `read` to the value's text without copying it; empty text is
    /// `None` (enums and times keep no copy of a known value, and read
    /// through surrounding whitespace themselves).
    pub(crate) fn read_text<T>(&self, read: impl FnOnce(&str) -> T) -> Option<T> {
        match self {
            Scalar::Str(s) => Some(&**s).filter(|t| !t.is_empty()).map(read),
            Scalar::Int(n) => Some(read(&n.to_string())),
            Scalar::Number(n) => Some(read(n)),
            Scalar::Bool(b) => Some(read(if *b { "true" } else { "false" })),
            Scalar::Null => None,
        }
    }

    /// The value as an integer; numbers given as strings are accepted and an
    /// empty value is `None`.
    pub(crate) fn into_int(self, field: &str) -> Result<Option<i64>, String> {
        match self {
            Scalar::Int(n) => Ok(Some(n)),
            Scalar::Null => Ok(None),
            Scalar::Str(s) => {
                let trimmed = s.trim();
                if trimmed.is_empty() {
                    Ok(None)
                } else {
                    trimmed.parse::<i64>().map(Some).map_err(|_| {
                        format!("{field} should be an integer, found `{}`", excerpt(trimmed))
                    })
                }
            }
            Scalar::Number(n) => Err(format!(
                "{field} should be an integer, found `{}`",
                excerpt(&n)
            )),
            Scalar::Bool(b) => Err(format!("{field} should be an integer, found `{b}`")),
        }
    }
}

/// At most 40 characters of `text`, for messages.
pub(crate) fn excerpt(text: &str) -> String {
    match text.char_indices().nth(40) {
        Some((cut, _)) => format!("{}...", &text[..cut]),
        None => text.to_owned(),
    }
}

/// Stores one scalar field of an `InvocationResult`.
pub(crate) fn apply_result_field(
    result: &mut InvocationResult,
    field: ResultField,
    value: Scalar<'_>,
) -> Result<(), String> {
    use ResultField as F;
    match field {
        F::CommandId => result.command_id = value.into_text().unwrap_or_default(),
        F::InvokeId => result.invoke_id = value.into_text().unwrap_or_default(),
        F::InstanceId => result.instance_id = value.into_text().unwrap_or_default(),
        F::ContainerId => result.container_id = value.into_text(),
        F::ContainerName => result.container_name = value.into_text(),
        F::InvocationStatus => result.invocation_status = value.read_text(InvocationStatus::parse),
        F::InvokeRecordStatus => {
            result.invoke_record_status = value.read_text(InvokeRecordStatus::parse);
        }
        F::ExitCode => result.exit_code = value.into_int("ExitCode")?,
        F::Output => result.output = value.into_raw(),
        F::Dropped => result.dropped = value.into_int("Dropped")?.unwrap_or(0),
        F::ErrorCode => result.error_code = value.read_text(ErrorCode::parse),
        F::ErrorInfo => result.error_info = value.into_text(),
        F::Repeats => result.repeats = value.into_int("Repeats")?.unwrap_or(0),
        F::StartTime => result.start_time = value.read_text(Timestamp::parse).flatten(),
        F::FinishedTime => result.finished_time = value.read_text(Timestamp::parse).flatten(),
        F::StopTime => result.stop_time = value.read_text(Timestamp::parse).flatten(),
        F::Username => result.username = value.into_text(),
        F::Launcher => result.launcher = value.into_text(),
        F::TerminationMode => result.termination_mode = value.into_text(),
        F::OssOutputDelivery => result.oss_output_delivery = value.into_text(),
        F::OssOutputStatus => result.oss_output_status = value.into_text(),
        F::OssOutputUri => result.oss_output_uri = value.into_text(),
        F::OssOutputErrorCode => result.oss_output_error_code = value.into_text(),
        F::OssOutputErrorInfo => result.oss_output_error_info = value.into_text(),
        // Containers are handled by the decoders; a scalar `Tags` is empty.
        F::Tags | F::Other => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_match_without_regard_to_case() {
        assert_eq!(ResultField::from_name("Exitcode"), ResultField::ExitCode);
        assert_eq!(
            ResultField::from_name("invokerecordstatus"),
            ResultField::InvokeRecordStatus
        );
        assert_eq!(
            InvocationField::from_name("Pagenumber"),
            InvocationField::PageNumber
        );
        assert_eq!(ResultField::from_name("Exit_Code"), ResultField::Other);
    }

    #[test]
    fn known_fields_sit_at_their_index_under_their_spelling() {
        fn check<F: FieldName + PartialEq + std::fmt::Debug>() {
            assert_eq!(F::KNOWN.len(), F::SPELLINGS.len());
            for (i, (&field, name)) in F::KNOWN.iter().zip(F::SPELLINGS).enumerate() {
                assert_eq!(field.index(), i);
                assert_eq!(F::lookup(name), field);
            }
            assert!(F::lookup("(unknown)").index() == F::KNOWN.len());
        }
        check::<RootField>();
        check::<InvocationField>();
        check::<ResultsField>();
        check::<TagsField>();
        check::<TagField>();
        check::<ErrorField>();
        check::<ResultField>();
    }

    #[test]
    fn scalars_convert_tolerantly() {
        assert_eq!(Scalar::Str(" 42 ".into()).into_int("X"), Ok(Some(42)));
        assert_eq!(Scalar::Str("".into()).into_int("X"), Ok(None));
        assert!(
            Scalar::Str("4x".into())
                .into_int("ExitCode")
                .unwrap_err()
                .contains("ExitCode should be an integer, found `4x`")
        );
        assert_eq!(
            Scalar::Str("  a ".into()).into_text().as_deref(),
            Some("  a ")
        );
        assert_eq!(Scalar::Str("  ".into()).into_text().as_deref(), Some("  "));
        assert_eq!(Scalar::Str("".into()).into_text(), None);
        assert_eq!(Scalar::Str(" a ".into()).into_raw(), " a ");
        assert_eq!(Scalar::Int(7).into_text().as_deref(), Some("7"));
    }
}
