//! [`ResponseFormat`]: the API's two body formats, as a client asks for one
//! and a server chooses one.

use std::fmt;

/// The body format of a response (JSON or XML): what a client asks for,
/// what a server answers in, and which decoder met a problem
/// ([`DecodeError::format`](crate::DecodeError::format)).
///
/// A client asks with the `Format` query parameter under signature V1 and
/// with the `Accept` header under V3; a response is decoded by its
/// `Content-Type` whatever was asked.
///
/// ```
/// use ecs_model::ResponseFormat;
/// assert_eq!(ResponseFormat::default(), ResponseFormat::Json);
/// assert_eq!(ResponseFormat::Xml.as_param(), "XML");
/// assert_eq!(ResponseFormat::requested(Some("xml"), None), ResponseFormat::Xml);
/// assert_eq!(ResponseFormat::requested(None, Some("application/xml")), ResponseFormat::Xml);
/// ```
///
/// Exhaustive on purpose: a third format would need its own encoder and
/// decoder, and every match should have to say how it handles it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum ResponseFormat {
    /// JSON, the service's default.
    #[default]
    Json,
    /// XML (`Format=XML` under V1, `Accept: application/xml` under V3).
    Xml,
}

impl ResponseFormat {
    /// The value of the V1 `Format` query parameter: `JSON` or `XML`.
    pub fn as_param(self) -> &'static str {
        match self {
            Self::Json => "JSON",
            Self::Xml => "XML",
        }
    }

    /// The `Accept` header a client sends for this format.
    pub fn accept(self) -> &'static str {
        match self {
            Self::Json => "application/json",
            Self::Xml => "application/xml",
        }
    }

    /// The `Content-Type` the service answers this format with.
    pub fn content_type(self) -> &'static str {
        match self {
            Self::Json => "application/json;charset=utf-8",
            Self::Xml => "text/xml;charset=utf-8",
        }
    }

    /// The format a request asks for, read as the service reads it: the
    /// `Format` query parameter when there is one (`XML` in any case, and
    /// JSON for any other value), else the `Accept` header (XML when it
    /// names XML and not JSON), else JSON.
    pub fn requested(format_param: Option<&str>, accept: Option<&str>) -> Self {
        if let Some(format) = format_param {
            return if format.eq_ignore_ascii_case("xml") {
                Self::Xml
            } else {
                Self::Json
            };
        }
        let accept = accept.unwrap_or_default();
        if accept.contains("xml") && !accept.contains("json") {
            Self::Xml
        } else {
            Self::Json
        }
    }
}

impl fmt::Display for ResponseFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_param())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_format_parameter_wins_over_accept() {
        for (param, accept, expected) in [
            (Some("XML"), Some("application/json"), ResponseFormat::Xml),
            (Some("xml"), None, ResponseFormat::Xml),
            (Some("JSON"), Some("application/xml"), ResponseFormat::Json),
            (Some("yaml"), None, ResponseFormat::Json),
            (None, Some("application/xml"), ResponseFormat::Xml),
            (
                None,
                Some("text/xml, application/json"),
                ResponseFormat::Json,
            ),
            (None, Some("*/*"), ResponseFormat::Json),
            (None, None, ResponseFormat::Json),
        ] {
            assert_eq!(
                ResponseFormat::requested(param, accept),
                expected,
                "{param:?} {accept:?}"
            );
        }
    }

    #[test]
    fn wire_names() {
        assert_eq!(ResponseFormat::Json.to_string(), "JSON");
        assert_eq!(ResponseFormat::Xml.accept(), "application/xml");
        assert_eq!(ResponseFormat::Xml.content_type(), "text/xml;charset=utf-8");
    }
}
