//! Retry classification as data (spec §6, §7): which errors are throttling,
//! which are transient, and which are final.

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
/// (`Throttling.User`, `Throttling.Api`, ...), matched as prefixes.
pub const THROTTLING_CODE_PREFIXES: &[&str] = &["Throttling"];

/// Codes that mean a transient failure. `InternalError` also covers every
/// `InternalError.*` (`InternalError.Dispatch`, ...).
pub const TRANSIENT_CODES: &[&str] = &["ServiceUnavailable", "InternalError", "UnknownError"];

/// HTTP statuses that mean a transient failure when the body names no code.
pub const TRANSIENT_STATUSES: &[u16] = &[500, 502, 503, 504];

/// HTTP status that means throttling when the body names no code.
pub const THROTTLING_STATUS: u16 = 429;

/// Classifies a failed response.
///
/// * any response with `x-acs-retry-after` (`retry_after`), and codes
///   `Throttling` / `Throttling.*`, are [`RetryClass::Throttling`];
/// * codes `ServiceUnavailable`, `InternalError`, `InternalError.*` and
///   `UnknownError` are [`RetryClass::Transient`];
/// * any other code is [`RetryClass::Final`]: parameter errors
///   (`InvalidParameter*`, `MissingParameter*`, `InvalidParam.*`...),
///   signature errors (`SignatureDoesNotMatch`, `IncompleteSignature`,
///   `InvalidTimeStamp.*`, `SignatureNonceUsed`), access key errors
///   (`InvalidAccessKeyId.*`, `InvalidAccessKeySecret`, `InvalidSecurityToken.*`)
///   and permission errors (`Forbidden*`, `NoPermission`, `Operation.Forbidden`)
///   among them, whatever the status;
/// * without a code, HTTP 429 is throttling, 500/502/503/504 transient, and
///   anything else final.
pub fn classify(http_status: Option<u16>, code: Option<&str>, retry_after: bool) -> RetryClass {
    if retry_after {
        return RetryClass::Throttling;
    }
    if let Some(code) = code.map(str::trim).filter(|c| !c.is_empty()) {
        if THROTTLING_CODE_PREFIXES
            .iter()
            .any(|prefix| code_in_family(code, prefix))
        {
            return RetryClass::Throttling;
        }
        if code.eq_ignore_ascii_case("ServiceUnavailable")
            || code.eq_ignore_ascii_case("UnknownError")
            || code_in_family(code, "InternalError")
        {
            return RetryClass::Transient;
        }
        return RetryClass::Final;
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
        let cases: &[(Option<u16>, Option<&str>, bool, RetryClass)] = &[
            (Some(400), Some("Throttling"), false, Throttling),
            (Some(400), Some("Throttling.User"), false, Throttling),
            (Some(400), Some("Throttling.Api"), false, Throttling),
            (Some(503), Some("ServiceUnavailable"), false, Transient),
            (Some(500), Some("InternalError"), false, Transient),
            (Some(500), Some("InternalError.Dispatch"), false, Transient),
            (Some(500), Some("UnknownError"), false, Transient),
            (Some(400), Some("InvalidParameter"), false, Final),
            (Some(400), Some("MissingParameter.RegionId"), false, Final),
            (Some(403), Some("InvalidParam.PageSize"), false, Final),
            (Some(400), Some("SignatureDoesNotMatch"), false, Final),
            (Some(400), Some("IncompleteSignature"), false, Final),
            (Some(400), Some("InvalidTimeStamp.Expired"), false, Final),
            (Some(400), Some("SignatureNonceUsed"), false, Final),
            (Some(404), Some("InvalidAccessKeyId.NotFound"), false, Final),
            (Some(403), Some("Forbidden.RAM"), false, Final),
            (Some(500), Some("InvalidParameter"), false, Final),
            (Some(400), Some("ThrottlingX"), false, Final),
            (Some(400), Some("InvalidParameter"), true, Throttling),
            (Some(503), None, true, Throttling),
            (Some(429), None, false, Throttling),
            (Some(500), None, false, Transient),
            (Some(502), None, false, Transient),
            (Some(503), None, false, Transient),
            (Some(504), None, false, Transient),
            (Some(501), None, false, Final),
            (Some(404), None, false, Final),
            (None, None, false, Final),
            (Some(502), Some("  "), false, Transient),
        ];
        for &(status, code, retry_after, expected) in cases {
            assert_eq!(
                classify(status, code, retry_after),
                expected,
                "{status:?} {code:?} {retry_after}"
            );
        }
        assert!(Throttling.is_retryable());
        assert!(Transient.is_retryable());
        assert!(!Final.is_retryable());
    }
}
