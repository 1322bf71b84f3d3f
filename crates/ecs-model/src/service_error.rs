//! `ServiceError`: the service's error document
//! (docs/api/describe-invocation-results.md#error-documents), read from JSON,
//! XML, or whatever the body turned out to be.

mod scan;

use std::fmt;

use serde::Deserialize;
use serde::de::{Deserializer, IgnoredAny, MapAccess, Visitor};

use crate::decode::{self, ErrorField, ScalarDe};
use crate::retry::{RetryClass, classify};

/// Most bytes of a non-error body kept in [`ServiceError::body_excerpt`].
pub const BODY_EXCERPT_LIMIT: usize = 512;

/// An error answered by the service (HTTP status outside 2xx).
///
/// Built by `ecs_model::decode_error` from any body: a JSON or XML error document, a
/// malformed one (the old API reference's JSON example has no commas) from which `Code`,
/// `Message` and `RequestId` are recovered where they can be read, or a body
/// that is no error document at all (an HTML 502 page), which keeps the HTTP
/// status and a readable excerpt.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct ServiceError {
    /// `Code`, e.g. `Throttling.User`; empty when the body carried none.
    pub code: String,
    /// `Message`; empty when the body carried none. The server's string to
    /// sign that a `SignatureDoesNotMatch` message ends with is taken out,
    /// into [`server_string_to_sign`](Self::server_string_to_sign).
    pub message: String,
    /// The server's string to sign, quoted by a `SignatureDoesNotMatch`
    /// message after `string to sign is:`: compare it with the client's to
    /// find where the two requests differ. A quoted `SecurityToken` is
    /// masked; the string holds no secret (the secret only keys the HMAC).
    pub server_string_to_sign: Option<String>,
    /// `RequestId`, to quote to support.
    pub request_id: Option<String>,
    /// `HostId`: the endpoint that answered.
    pub host_id: Option<String>,
    /// `Recommend`: a diagnosis URL the service adds to current errors.
    pub recommend: Option<String>,
    /// `AccessDeniedDetail` of RAM denials, as compact JSON text.
    pub access_denied_detail: Option<String>,
    /// HTTP status of the response.
    pub http_status: u16,
    /// Readable start of the body (at most `BODY_EXCERPT_LIMIT` (in `ecs_model`) bytes, cut
    /// on a character boundary) when the body was not a well-formed error
    /// document.
    pub body_excerpt: Option<String>,
}

impl ServiceError {
    /// An error with `code` and `message` for `http_status` (the emulator's
    /// side).
    pub fn new(http_status: u16, code: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            code: code.into(),
            message: message.into(),
            http_status,
            ..Self::default()
        }
    }

    /// Sets `RequestId`.
    #[must_use]
    pub fn with_request_id(mut self, request_id: impl Into<String>) -> Self {
        self.request_id = Some(request_id.into());
        self
    }

    /// Sets `HostId`.
    #[must_use]
    pub fn with_host_id(mut self, host_id: impl Into<String>) -> Self {
        self.host_id = Some(host_id.into());
        self
    }

    /// Sets `Recommend`.
    #[must_use]
    pub fn with_recommend(mut self, recommend: impl Into<String>) -> Self {
        self.recommend = Some(recommend.into());
        self
    }

    /// Whether the body carried a `Code`.
    pub fn has_code(&self) -> bool {
        !self.code.is_empty()
    }

    /// How a client should treat this error, by its status and code (see
    /// `ecs_model::classify`).
    pub fn retry_class(&self) -> RetryClass {
        classify(
            Some(self.http_status),
            Some(self.code.as_str()).filter(|c| !c.is_empty()),
        )
    }

    /// Whether this is a throttling error (without looking at headers).
    pub fn is_throttling(&self) -> bool {
        self.retry_class() == RetryClass::Throttling
    }
}

impl fmt::Display for ServiceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.has_code() {
            write!(
                f,
                "service error {} (http status {})",
                self.code, self.http_status
            )?;
            if !self.message.is_empty() {
                write!(f, ": {}", OneLine(&self.message))?;
            }
        } else if !self.message.is_empty() {
            write!(
                f,
                "service error (http status {}): {}",
                self.http_status,
                OneLine(&self.message)
            )?;
        } else {
            write!(
                f,
                "http status {} without an error document",
                self.http_status
            )?;
            match self.body_excerpt.as_deref() {
                Some(excerpt) if !excerpt.is_empty() => write!(f, ": {excerpt}")?,
                _ => f.write_str(" (empty body)")?,
            }
        }
        if let Some(request_id) = &self.request_id {
            write!(f, " (request id {request_id})")?;
        }
        Ok(())
    }
}

impl std::error::Error for ServiceError {}

/// A text written on one line: each line break (and the blanks around it)
/// becomes one space.
struct OneLine<'a>(&'a str);

impl fmt::Display for OneLine<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut lines = self
            .0
            .split(['\n', '\r'])
            .map(str::trim)
            .filter(|l| !l.is_empty());
        if let Some(first) = lines.next() {
            f.write_str(first)?;
        }
        for line in lines {
            f.write_str(" ")?;
            f.write_str(line)?;
        }
        Ok(())
    }
}

/// What precedes the server's string to sign in a `SignatureDoesNotMatch`
/// message (`... server string to sign is:POST&%2F&...`), in any case.
const STRING_TO_SIGN_MARKER: &str = "string to sign is:";

/// Moves the string to sign a message quotes into `server_string_to_sign`,
/// leaving the sentence before it as the message.
fn take_string_to_sign(error: &mut ServiceError) {
    let lower = error.message.to_ascii_lowercase();
    let Some(at) = lower.find(STRING_TO_SIGN_MARKER) else {
        return;
    };
    let quoted = error.message[at + STRING_TO_SIGN_MARKER.len()..].to_owned();
    let mut before = error.message[..at].trim_end();
    // `server string to sign is:`: the word belongs to the marker.
    if before.len() >= "server".len()
        && before.is_char_boundary(before.len() - "server".len())
        && before[before.len() - "server".len()..].eq_ignore_ascii_case("server")
    {
        before = before[..before.len() - "server".len()].trim_end();
    }
    error.message = before.to_owned();
    error.server_string_to_sign = Some(quoted);
}

/// Reads a service error from an error response. Never fails: whatever the
/// body holds, the result has the HTTP status and what could be read.
///
/// A `SecurityToken` value quoted in the texts (a V1
/// `SignatureDoesNotMatch` quotes the server's string to sign) is masked.
pub fn decode_error(http_status: u16, content_type: Option<&str>, body: &[u8]) -> ServiceError {
    let parsed = if decode::is_xml(content_type, body) {
        from_xml(body)
    } else {
        from_json(body)
    };
    let mut error = match parsed {
        Some(error) if error.has_code() || !error.message.is_empty() => error,
        _ => {
            let text = String::from_utf8_lossy(body);
            let mut error = scan::recover(&text);
            error.body_excerpt = Some(scan::excerpt(&text, BODY_EXCERPT_LIMIT));
            error
        }
    };
    error.http_status = http_status;
    // A V1 `SignatureDoesNotMatch` quotes the server's string to sign, which
    // holds the `SecurityToken` of STS credentials: never let it through.
    for text in [
        Some(&mut error.message),
        error.body_excerpt.as_mut(),
        error.recommend.as_mut(),
    ]
    .into_iter()
    .flatten()
    {
        if let Some(masked) = mask_security_token(text) {
            *text = masked;
        }
    }
    take_string_to_sign(&mut error);
    // The mask can be longer than what it hides: keep the excerpt's bound.
    if let Some(excerpt) = error.body_excerpt.as_mut() {
        let kept = scan::truncate(excerpt, BODY_EXCERPT_LIMIT).len();
        excerpt.truncate(kept);
    }
    error
}

/// What stands for a masked `SecurityToken` value.
const MASK: &str = "***";

/// `text` with the value of every `SecurityToken` parameter masked, raw
/// (`SecurityToken=v&`) or percent-encoded as in a V1 string to sign
/// (`SecurityToken%3Dv%26`); `None` when there is none.
fn mask_security_token(text: &str) -> Option<String> {
    const FORMS: [(&str, &str); 2] = [("SecurityToken%3D", "%26"), ("SecurityToken=", "&")];
    if !FORMS.iter().any(|(key, _)| text.contains(key)) {
        return None;
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    loop {
        let next = FORMS
            .iter()
            .filter_map(|(key, end)| rest.find(key).map(|at| (at, *key, *end)))
            .min_by_key(|(at, _, _)| *at);
        let Some((at, key, end)) = next else {
            out.push_str(rest);
            return Some(out);
        };
        out.push_str(&rest[..at + key.len()]);
        out.push_str(MASK);
        let value = &rest[at + key.len()..];
        let stop = value
            .find(|c: char| c.is_whitespace() || c == '"' || c == '<')
            .unwrap_or(value.len());
        let stop = value[..stop].find(end).unwrap_or(stop);
        rest = &value[stop..];
    }
}

fn from_json(body: &[u8]) -> Option<ServiceError> {
    let body = decode::strip_bom(body);
    decode::check_starts_with_object(body).ok()?;
    serde_json::from_slice::<ErrorDe>(body).ok().map(|e| e.0)
}

fn from_xml(body: &[u8]) -> Option<ServiceError> {
    let root = decode::parse_xml_tree(body).ok()?;
    let element = if root.name.eq_ignore_ascii_case("Error") {
        &root
    } else {
        root.child("Error").unwrap_or(&root)
    };
    Some(from_element(element))
}

fn from_element(element: &decode::Element) -> ServiceError {
    let mut error = ServiceError::default();
    for child in &element.children {
        let text = || {
            Some(child.text.trim())
                .filter(|t| !t.is_empty())
                .map(str::to_owned)
        };
        match ErrorField::from_name(&child.name) {
            ErrorField::RequestId => error.request_id = text(),
            ErrorField::HostId => error.host_id = text(),
            ErrorField::Code => error.code = text().unwrap_or_default(),
            ErrorField::Message => error.message = text().unwrap_or_default(),
            ErrorField::Recommend => error.recommend = text(),
            ErrorField::AccessDeniedDetail => {
                error.access_denied_detail = if child.children.is_empty() {
                    text()
                } else {
                    let object: serde_json::Map<String, serde_json::Value> = child
                        .children
                        .iter()
                        .map(|c| {
                            (
                                c.name.clone(),
                                serde_json::Value::String(c.text.trim().to_owned()),
                            )
                        })
                        .collect();
                    Some(serde_json::Value::Object(object).to_string())
                };
            }
            ErrorField::Other => {}
        }
    }
    error
}

struct ErrorDe(ServiceError);

impl<'de> Deserialize<'de> for ErrorDe {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ErrorVisitor;
        impl<'de> Visitor<'de> for ErrorVisitor {
            type Value = ErrorDe;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an error document")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<ErrorDe, A::Error> {
                let mut error = ServiceError::default();
                while let Some(field) = map.next_key::<ErrorField>()? {
                    let mut text = || -> Result<Option<String>, A::Error> {
                        Ok(map.next_value::<ScalarDe<'de>>()?.0.into_text())
                    };
                    match field {
                        ErrorField::RequestId => error.request_id = text()?,
                        ErrorField::HostId => error.host_id = text()?,
                        ErrorField::Code => error.code = text()?.unwrap_or_default(),
                        ErrorField::Message => error.message = text()?.unwrap_or_default(),
                        ErrorField::Recommend => error.recommend = text()?,
                        ErrorField::AccessDeniedDetail => {
                            let value = map.next_value::<serde_json::Value>()?;
                            error.access_denied_detail = match value {
                                serde_json::Value::Null => None,
                                serde_json::Value::String(s) => {
                                    Some(s.trim().to_owned()).filter(|s| !s.is_empty())
                                }
                                other => Some(other.to_string()),
                            };
                        }
                        ErrorField::Other => {
                            map.next_value::<IgnoredAny>()?;
                        }
                    }
                }
                Ok(ErrorDe(error))
            }
        }
        deserializer.deserialize_map(ErrorVisitor)
    }
}

#[cfg(test)]
mod tests;
