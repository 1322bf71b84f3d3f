//! The error type of signing: bad credentials, bad request parts, an
//! undecodable query string, an unusable time or a failed random source.

use alloc::string::String;
use core::fmt;

/// Why signing (or decoding a query string, or drawing a nonce) failed.
///
/// The message says which input was wrong and why. It never contains a
/// secret, a security token or a header value: only names and reasons.
///
/// Branch on the kind with the predicates ([`is_credentials`](Self::is_credentials),
/// [`is_invalid_input`](Self::is_invalid_input), [`is_query`](Self::is_query),
/// [`is_time`](Self::is_time), [`is_random`](Self::is_random)).
#[derive(Clone, PartialEq, Eq)]
pub struct SignError {
    kind: Kind,
}

#[derive(Clone, PartialEq, Eq)]
enum Kind {
    /// A credentials field is unusable.
    Credentials {
        field: &'static str,
        reason: &'static str,
    },
    /// A part of the request to sign is unusable.
    Input { what: String, reason: &'static str },
    /// A query parameter cannot be decoded.
    Query {
        parameter: String,
        reason: &'static str,
    },
    /// The signing time cannot be written as `YYYY-MM-DDThh:mm:ssZ`.
    Time { reason: &'static str },
    /// The system random source failed.
    Random,
}

impl SignError {
    pub(crate) fn credentials(field: &'static str, reason: &'static str) -> Self {
        Self {
            kind: Kind::Credentials { field, reason },
        }
    }

    pub(crate) fn input(what: impl Into<String>, reason: &'static str) -> Self {
        Self {
            kind: Kind::Input {
                what: what.into(),
                reason,
            },
        }
    }

    pub(crate) fn query(parameter: impl Into<String>, reason: &'static str) -> Self {
        Self {
            kind: Kind::Query {
                parameter: parameter.into(),
                reason,
            },
        }
    }

    pub(crate) fn time(reason: &'static str) -> Self {
        Self {
            kind: Kind::Time { reason },
        }
    }

    #[cfg_attr(not(feature = "std"), allow(dead_code))]
    pub(crate) fn random() -> Self {
        Self { kind: Kind::Random }
    }

    /// The access key id, secret or security token is unusable (empty,
    /// surrounded by whitespace, or holding characters that cannot travel in
    /// a header).
    pub fn is_credentials(&self) -> bool {
        matches!(self.kind, Kind::Credentials { .. })
    }

    /// A part of the request (method, header name or value, parameter name,
    /// nonce, host...) is unusable.
    pub fn is_invalid_input(&self) -> bool {
        matches!(self.kind, Kind::Input { .. })
    }

    /// A query string or form body could not be decoded (bad `%XX` escape or
    /// bytes that are not UTF-8). [`parameter`](Self::parameter) names it.
    pub fn is_query(&self) -> bool {
        matches!(self.kind, Kind::Query { .. })
    }

    /// The signing time is outside the years 0000..=9999 and cannot be
    /// written in the wire format.
    pub fn is_time(&self) -> bool {
        matches!(self.kind, Kind::Time { .. })
    }

    /// The operating system's random source failed while drawing a nonce.
    pub fn is_random(&self) -> bool {
        matches!(self.kind, Kind::Random)
    }

    /// The query parameter that could not be decoded, as it appeared on the
    /// wire (for [`is_query`](Self::is_query) errors).
    pub fn parameter(&self) -> Option<&str> {
        match &self.kind {
            Kind::Query { parameter, .. } => Some(parameter),
            _ => None,
        }
    }

    /// The reason alone, without the name of the input (for callers that
    /// build their own message, such as a server's error response).
    pub fn reason(&self) -> &'static str {
        match &self.kind {
            Kind::Credentials { reason, .. }
            | Kind::Input { reason, .. }
            | Kind::Query { reason, .. }
            | Kind::Time { reason } => reason,
            Kind::Random => "the system random number generator failed",
        }
    }
}

impl fmt::Display for SignError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            Kind::Credentials { field, reason } => {
                write!(f, "invalid credentials: the {field} {reason}")
            }
            Kind::Input { what, reason } => write!(f, "cannot sign the request: {what} {reason}"),
            Kind::Query { parameter, reason } => {
                write!(f, "cannot decode query parameter `{parameter}`: {reason}")
            }
            Kind::Time { reason } => write!(f, "cannot sign at this time: {reason}"),
            Kind::Random => f.write_str(
                "the system random number generator failed; cannot draw a signature nonce",
            ),
        }
    }
}

impl fmt::Debug for SignError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The Display text holds no secret, so Debug can show it.
        f.debug_struct("SignError")
            .field("message", &format_args!("{self}"))
            .finish()
    }
}

impl core::error::Error for SignError {}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    #[test]
    fn display_names_the_input_and_reason() {
        let e = SignError::input("header name `a b`", "is not a valid HTTP token");
        assert!(e.is_invalid_input());
        assert_eq!(
            e.to_string(),
            "cannot sign the request: header name `a b` is not a valid HTTP token"
        );
        let q = SignError::query("Tag.1.Value", "is not UTF-8 after decoding");
        assert!(q.is_query());
        assert_eq!(q.parameter(), Some("Tag.1.Value"));
        assert!(!q.is_invalid_input());
        assert_eq!(q.reason(), "is not UTF-8 after decoding");
        let c = SignError::credentials("access key id", "is empty");
        assert!(c.is_credentials());
        assert_eq!(
            c.to_string(),
            "invalid credentials: the access key id is empty"
        );
        assert!(SignError::time("x").is_time());
        assert!(SignError::random().is_random());
    }

    #[test]
    fn each_error_answers_only_its_own_kind() {
        let errors = [
            SignError::credentials("access key id", "is empty"),
            SignError::input("the host", "is empty"),
            SignError::query("a", "is bad"),
            SignError::time("the year is after 9999"),
            SignError::random(),
        ];
        for (i, e) in errors.iter().enumerate() {
            let kinds = [
                e.is_credentials(),
                e.is_invalid_input(),
                e.is_query(),
                e.is_time(),
                e.is_random(),
            ];
            let expected: [bool; 5] = core::array::from_fn(|k| k == i);
            assert_eq!(kinds, expected, "{e}");
        }
    }

    #[test]
    fn debug_shows_the_message() {
        let e = SignError::input("the host", "is empty");
        assert_eq!(
            alloc::format!("{e:?}"),
            "SignError { message: cannot sign the request: the host is empty }"
        );
    }
}
