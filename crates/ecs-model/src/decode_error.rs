//! `DecodeError`: a body that is not the expected document, or an `Output`
//! that cannot be decoded.

use std::fmt;

use crate::format::ResponseFormat;

/// Where in the body a problem was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Position {
    /// 1-based line and column (column counted in bytes).
    LineColumn {
        /// Line, from 1.
        line: usize,
        /// Column, from 1.
        column: usize,
    },
    /// The problem concerns the document as a whole (its top level).
    Document,
}

impl Position {
    /// The line and column of byte `offset` in `body`.
    pub(crate) fn at_offset(body: &[u8], offset: usize) -> Self {
        let offset = offset.min(body.len());
        let before = &body[..offset];
        let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
        let line_start = before
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |i| i + 1);
        Self::LineColumn {
            line,
            column: offset - line_start + 1,
        }
    }
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::LineColumn { line, column } => write!(f, "line {line}, column {column}"),
            Self::Document => f.write_str("the top level"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Kind {
    /// Not well-formed JSON/XML, or not UTF-8.
    Malformed {
        format: ResponseFormat,
        detail: String,
        position: Position,
    },
    /// Well-formed, but not a `DescribeInvocationResults` response.
    Unexpected {
        format: ResponseFormat,
        expected: String,
        found: String,
        position: Position,
        error_document: bool,
    },
    /// `Output` is not valid for its encoding.
    Output {
        instance_id: String,
        invoke_id: String,
        detail: String,
    },
}

/// A response body or `Output` that could not be decoded.
///
/// The message says what was expected, what was found and where. A body that
/// turns out to be an error document (`{"Code": ...}` or `<Error>`) reports
/// [`is_error_document`](Self::is_error_document): decode it with
/// `ecs_model::decode_error` instead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError {
    kind: Kind,
}

impl DecodeError {
    pub(crate) fn malformed(
        format: ResponseFormat,
        detail: impl Into<String>,
        position: Position,
    ) -> Self {
        Self {
            kind: Kind::Malformed {
                format,
                detail: detail.into(),
                position,
            },
        }
    }

    /// A value that cannot be read as its field's type, at `position`.
    pub(crate) fn invalid_value(
        format: ResponseFormat,
        detail: impl Into<String>,
        position: Position,
    ) -> Self {
        Self::malformed(format, detail, position)
    }

    pub(crate) fn unexpected(
        format: ResponseFormat,
        expected: impl Into<String>,
        found: impl Into<String>,
        position: Position,
    ) -> Self {
        Self {
            kind: Kind::Unexpected {
                format,
                expected: expected.into(),
                found: found.into(),
                position,
                error_document: false,
            },
        }
    }

    pub(crate) fn error_document(
        format: ResponseFormat,
        found: impl Into<String>,
        position: Position,
    ) -> Self {
        Self {
            kind: Kind::Unexpected {
                format,
                expected: "a DescribeInvocationResults response".into(),
                found: found.into(),
                position,
                error_document: true,
            },
        }
    }

    pub(crate) fn output(instance_id: &str, invoke_id: &str, detail: impl Into<String>) -> Self {
        Self {
            kind: Kind::Output {
                instance_id: instance_id.to_owned(),
                invoke_id: invoke_id.to_owned(),
                detail: detail.into(),
            },
        }
    }

    /// The body is not well-formed (JSON or XML syntax, truncated, not UTF-8).
    pub fn is_malformed(&self) -> bool {
        matches!(self.kind, Kind::Malformed { .. })
    }

    /// The body is well-formed but is some other document (HTML, an error
    /// document, an unrelated JSON value...).
    pub fn is_unexpected_document(&self) -> bool {
        matches!(self.kind, Kind::Unexpected { .. })
    }

    /// The body is a service error document; decode it with
    /// `ecs_model::decode_error`.
    pub fn is_error_document(&self) -> bool {
        matches!(
            self.kind,
            Kind::Unexpected {
                error_document: true,
                ..
            }
        )
    }

    /// An `Output` value could not be decoded (invalid Base64, unknown
    /// encoding).
    pub fn is_invalid_output(&self) -> bool {
        matches!(self.kind, Kind::Output { .. })
    }

    /// The instance whose `Output` could not be decoded.
    pub fn instance_id(&self) -> Option<&str> {
        match &self.kind {
            Kind::Output { instance_id, .. } => Some(instance_id),
            _ => None,
        }
    }

    /// Where in the body the problem is, for body errors.
    pub fn position(&self) -> Option<Position> {
        match &self.kind {
            Kind::Malformed { position, .. } | Kind::Unexpected { position, .. } => Some(*position),
            Kind::Output { .. } => None,
        }
    }

    /// The format being decoded, for body errors.
    pub fn format(&self) -> Option<ResponseFormat> {
        match &self.kind {
            Kind::Malformed { format, .. } | Kind::Unexpected { format, .. } => Some(*format),
            Kind::Output { .. } => None,
        }
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            Kind::Malformed {
                format,
                detail,
                position,
            } => write!(
                f,
                "malformed {format} response body at {position}: {detail}"
            ),
            Kind::Unexpected {
                format,
                expected,
                found,
                position,
                error_document,
            } => {
                write!(
                    f,
                    "expected {expected} in {format}, found {found} at {position}"
                )?;
                if *error_document {
                    f.write_str(" (decode it as a service error)")?;
                }
                Ok(())
            }
            Kind::Output {
                instance_id,
                invoke_id,
                detail,
            } => write!(
                f,
                "cannot decode Output of instance {instance_id} (invocation {invoke_id}): {detail}"
            ),
        }
    }
}

impl std::error::Error for DecodeError {}

/// A short, printable description of what a body starts with, for messages.
pub(crate) fn describe_start(body: &[u8]) -> String {
    let trimmed = body.trim_ascii_start();
    if trimmed.is_empty() {
        return if body.is_empty() {
            "an empty body".to_owned()
        } else {
            "a body of only whitespace".to_owned()
        };
    }
    let text = String::from_utf8_lossy(&trimmed[..trimmed.len().min(48)]);
    let excerpt: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let lower = excerpt.to_ascii_lowercase();
    let what = if lower.starts_with("<!doctype html") || lower.starts_with("<html") {
        "an HTML page"
    } else if trimmed[0] == b'<' {
        "XML"
    } else if trimmed[0] == b'{' || trimmed[0] == b'[' {
        "JSON"
    } else {
        "text"
    };
    let ellipsis = if trimmed.len() > 48 { "..." } else { "" };
    format!("{what} starting `{}{ellipsis}`", excerpt.trim_end())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_count_lines_and_columns_from_one() {
        let body = b"ab\ncde\nf";
        assert_eq!(
            Position::at_offset(body, 0),
            Position::LineColumn { line: 1, column: 1 }
        );
        assert_eq!(
            Position::at_offset(body, 5),
            Position::LineColumn { line: 2, column: 3 }
        );
        assert_eq!(
            Position::at_offset(body, 99),
            Position::LineColumn { line: 3, column: 2 }
        );
    }

    #[test]
    fn describes_bodies() {
        assert_eq!(describe_start(b""), "an empty body");
        assert_eq!(describe_start(b"  \n"), "a body of only whitespace");
        assert!(describe_start(b"<!DOCTYPE html><html>").starts_with("an HTML page"));
        assert_eq!(describe_start(b"[1, 2]"), "JSON starting `[1, 2]`");
        assert!(describe_start(&[b'x'; 100]).ends_with("...`"));
        // 48 bytes are shown whole; one more is cut.
        let whole = describe_start(&[b'x'; 48]);
        assert_eq!(whole, format!("text starting `{}`", "x".repeat(48)));
        let cut = describe_start(&[b'x'; 49]);
        assert_eq!(cut, format!("text starting `{}...`", "x".repeat(48)));
    }

    #[test]
    fn each_error_answers_only_its_own_questions() {
        let at = Position::LineColumn { line: 1, column: 2 };
        let malformed = DecodeError::malformed(ResponseFormat::Xml, "bad", at);
        let unexpected = DecodeError::unexpected(ResponseFormat::Json, "an object", "an array", at);
        let error_document = DecodeError::error_document(ResponseFormat::Xml, "an error", at);
        let output = DecodeError::output("i-1", "t-1", "bad Base64");
        let answers = |e: &DecodeError| {
            (
                e.is_malformed(),
                e.is_unexpected_document(),
                e.is_error_document(),
                e.is_invalid_output(),
            )
        };
        assert_eq!(answers(&malformed), (true, false, false, false));
        assert_eq!(answers(&unexpected), (false, true, false, false));
        assert_eq!(answers(&error_document), (false, true, true, false));
        assert_eq!(answers(&output), (false, false, false, true));
        assert_eq!(malformed.format(), Some(ResponseFormat::Xml));
        assert_eq!(unexpected.format(), Some(ResponseFormat::Json));
        assert_eq!(output.format(), None);
        assert_eq!(malformed.position(), Some(at));
        assert_eq!(output.position(), None);
        assert_eq!(output.instance_id(), Some("i-1"));
        assert_eq!(malformed.instance_id(), None);
    }
}
