//! Retry classification as data: which errors are throttling, which are
//! transient, and which are final.
//!
//! The rule follows `aliyun-python-sdk-core`'s retry policy for ECS
//! (`DescribeInvocationResults` is among its retryable APIs): a call is
//! retried after a transport failure, after the codes `Throttling`,
//! `InternalError`, `UnknownError` and `ServiceUnavailable`, and after HTTP
//! 500, 502, 503 and 504 whatever the code. We differ in three documented
//! ways: every `Throttling.*` and `InternalError.*` code is retried too (the
//! service sends `Throttling.User` and `Throttling.Api`); HTTP 429 is
//! throttling; and a code known to be final (signature, access key,
//! permission and parameter errors) stays final even on a 5xx, since sending
//! the same request again cannot change it.

/// How a client should treat a failed call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RetryClass {
    /// The service is rate-limiting: retry after a (longer) backoff, or after
    /// `x-acs-retry-after` when given.
    Throttling,
    /// A passing server-side failure: retry with backoff.
    Transient,
    /// Retrying the same request cannot help (bad parameter, signature,
    /// access key, permission...): report it.
    Final,
}

impl RetryClass {
    /// Whether a retry may succeed (`Throttling` or `Transient`).
    pub fn is_retryable(self) -> bool {
        !matches!(self, Self::Final)
    }
}

/// Codes that mean throttling: `Throttling` and every `Throttling.*`
/// (`Throttling.User`, `Throttling.Api`, ...), matched as families.
pub const THROTTLING_CODE_PREFIXES: &[&str] = &["Throttling"];

/// Codes that mean a transient failure. `InternalError` also covers every
/// `InternalError.*` (`InternalError.Dispatch`, ...).
pub const TRANSIENT_CODES: &[&str] = &["ServiceUnavailable", "InternalError", "UnknownError"];

/// Code families that are final whatever the HTTP status: a signature, an
/// access key, a permission or a parameter that was wrong is wrong again on
/// a retry. Each entry covers the code and every `<code>.*`.
pub const FINAL_CODE_FAMILIES: &[&str] = &[
    "SignatureDoesNotMatch",
    "IncompleteSignature",
    "InvalidTimeStamp",
    "SignatureNonceUsed",
    "InvalidAccessKeyId",
    "InvalidAccessKeySecret",
    "InvalidSecurityToken",
    "Forbidden",
    "NoPermission",
    "Operation.Forbidden",
    "InvalidParameter",
    "InvalidParam",
    "MissingParameter",
    "MissingParam",
];

/// HTTP statuses that mean a transient failure, whatever the code (unless
/// the code is throttling or final).
pub const TRANSIENT_STATUSES: &[u16] = &[500, 502, 503, 504];

/// HTTP status that means throttling, whatever the code (unless the code is
/// final).
pub const THROTTLING_STATUS: u16 = 429;

/// Classifies a failed response by its HTTP status and its error code.
///
/// * codes `Throttling` / `Throttling.*` are [`RetryClass::Throttling`];
/// * codes `ServiceUnavailable`, `InternalError`, `InternalError.*` and
///   `UnknownError` are [`RetryClass::Transient`];
/// * codes in [`FINAL_CODE_FAMILIES`] are [`RetryClass::Final`] whatever the
///   status;
/// * otherwise, with any other code or none, HTTP 429 is throttling,
///   500/502/503/504 transient, and anything else final.
///
/// An `x-acs-retry-after` header does not enter here: it sets the delay of a
/// retry, and never makes an error retryable.
pub fn classify(http_status: Option<u16>, code: Option<&str>) -> RetryClass {
    if let Some(code) = code.map(str::trim).filter(|c| !c.is_empty()) {
        if THROTTLING_CODE_PREFIXES
            .iter()
            .any(|family| code_in_family(code, family))
        {
            return RetryClass::Throttling;
        }
        if code.eq_ignore_ascii_case("ServiceUnavailable")
            || code.eq_ignore_ascii_case("UnknownError")
            || code_in_family(code, "InternalError")
        {
            return RetryClass::Transient;
        }
        if FINAL_CODE_FAMILIES
            .iter()
            .any(|family| code_in_family(code, family))
        {
            return RetryClass::Final;
        }
    }
    match http_status {
        Some(THROTTLING_STATUS) => RetryClass::Throttling,
        Some(status) if TRANSIENT_STATUSES.contains(&status) => RetryClass::Transient,
        _ => RetryClass::Final,
    }
}

/// `code` is `family` or `family.<anything>` (ASCII case-insensitive).
fn code_in_family(code: &str, family: &str) -> bool {
    code.len() >= family.len()
        && code.as_bytes()[..family.len()].eq_ignore_ascii_case(family.as_bytes())
        && matches!(code.as_bytes().get(family.len()), None | Some(b'.'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classification_table() {
        use RetryClass::{Final, Throttling, Transient};
        let cases: &[(Option<u16>, Option<&str>, RetryClass)] = &[
            (Some(400), Some("Throttling"), Throttling),
            (Some(400), Some("Throttling.User"), Throttling),
            (Some(400), Some("Throttling.Api"), Throttling),
            (Some(503), Some("ServiceUnavailable"), Transient),
            (Some(500), Some("InternalError"), Transient),
            (Some(500), Some("InternalError.Dispatch"), Transient),
            (Some(500), Some("UnknownError"), Transient),
            (Some(400), Some("InvalidParameter"), Final),
            (Some(400), Some("MissingParameter.RegionId"), Final),
            (Some(403), Some("InvalidParam.PageSize"), Final),
            (Some(400), Some("SignatureDoesNotMatch"), Final),
            (Some(400), Some("IncompleteSignature"), Final),
            (Some(400), Some("InvalidTimeStamp.Expired"), Final),
            (Some(400), Some("SignatureNonceUsed"), Final),
            (Some(404), Some("InvalidAccessKeyId.NotFound"), Final),
            (Some(403), Some("Forbidden.RAM"), Final),
            (Some(400), Some("ThrottlingX"), Final),
            (Some(400), Some("Gateway.Upstream.Timeout"), Final),
            // Known-final codes stay final on a 5xx.
            (Some(500), Some("InvalidParameter"), Final),
            (Some(503), Some("SignatureDoesNotMatch"), Final),
            (Some(502), Some("Forbidden.RAM"), Final),
            (Some(504), Some("InvalidAccessKeyId.NotFound"), Final),
            (Some(429), Some("InvalidParameter"), Final),
            // Any other code on 500/502/503/504 is transient, as the core
            // SDK retries these statuses whatever the code.
            (Some(500), Some("Gateway.Upstream.Timeout"), Transient),
            (Some(502), Some("Gateway.Upstream.Timeout"), Transient),
            (Some(503), Some("Gateway.Upstream.Timeout"), Transient),
            (Some(504), Some("Gateway.Upstream.Timeout"), Transient),
            (Some(504), Some("ThrottlingX"), Transient),
            (Some(501), Some("Gateway.Upstream.Timeout"), Final),
            (Some(429), Some("TooManyRequests"), Throttling),
            (Some(429), None, Throttling),
            (Some(500), None, Transient),
            (Some(502), None, Transient),
            (Some(503), None, Transient),
            (Some(504), None, Transient),
            (Some(501), None, Final),
            (Some(404), None, Final),
            (None, None, Final),
            (None, Some("Gateway.Upstream.Timeout"), Final),
            (Some(502), Some("  "), Transient),
            // The transient codes are transient by themselves, on any status.
            (Some(400), Some("ServiceUnavailable"), Transient),
            (Some(400), Some("UnknownError"), Transient),
            (None, Some("InternalError"), Transient),
            (None, Some("internalerror.dispatch"), Transient),
            (None, Some("Throttling.User"), Throttling),
        ];
        for &(status, code, expected) in cases {
            assert_eq!(classify(status, code), expected, "{status:?} {code:?}");
        }
        assert!(Throttling.is_retryable());
        assert!(Transient.is_retryable());
        assert!(!Final.is_retryable());
    }

    #[test]
    fn families_match_whole_segments_in_any_case() {
        assert!(code_in_family("Forbidden", "Forbidden"));
        assert!(code_in_family("forbidden.ram", "Forbidden"));
        assert!(!code_in_family("ForbiddenX", "Forbidden"));
        assert!(!code_in_family("Forbid", "Forbidden"));
        assert!(code_in_family(
            "Operation.Forbidden.X",
            "Operation.Forbidden"
        ));
    }
}
