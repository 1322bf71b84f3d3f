//! What the verifiers (`rpc_v1::verify`, `acs3::verify`) return: the
//! verified request's identity and replay data, or why it was refused.

use alloc::string::String;
use core::fmt;
use time::OffsetDateTime;

use crate::SignatureVersion;

/// A request whose signature checked out, with what the server checks next:
/// the access key, the security token presented, and the timestamp and
/// nonce as presented (the 15-minute window and nonce replay are the
/// caller's to check).
#[derive(Clone, PartialEq, Eq)]
pub struct Verified {
    pub(crate) version: SignatureVersion,
    pub(crate) access_key_id: String,
    pub(crate) security_token: Option<String>,
    pub(crate) timestamp: OffsetDateTime,
    pub(crate) nonce: String,
}

impl Verified {
    /// The signature version used.
    pub fn version(&self) -> SignatureVersion {
        self.version
    }

    /// The access key id whose secret signed the request.
    pub fn access_key_id(&self) -> &str {
        &self.access_key_id
    }

    /// The STS token presented (V1 `SecurityToken` parameter, V3
    /// `x-acs-security-token` header), unchecked: the caller decides whether
    /// it is valid for the access key. A bearer credential: do not log it.
    pub fn security_token(&self) -> Option<&str> {
        self.security_token.as_deref()
    }

    /// The signing time presented (V1 `Timestamp`, V3 `x-acs-date`).
    pub fn timestamp(&self) -> OffsetDateTime {
        self.timestamp
    }

    /// The nonce presented (V1 `SignatureNonce`, V3
    /// `x-acs-signature-nonce`).
    pub fn nonce(&self) -> &str {
        &self.nonce
    }
}

impl fmt::Debug for Verified {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Verified")
            .field("version", &self.version)
            .field("access_key_id", &self.access_key_id)
            .field(
                "security_token",
                &self.security_token.as_ref().map(|_| "** redacted **"),
            )
            .field("timestamp", &self.timestamp)
            .field("nonce", &self.nonce)
            .finish()
    }
}

/// Why a request's signature was not accepted.
///
/// A server maps each variant to the service's error code: `Missing` to
/// `MissingParameter`/`IncompleteSignature`, `UnknownAccessKey` to
/// `InvalidAccessKeyId.NotFound`, `SignatureDoesNotMatch` to
/// `SignatureDoesNotMatch` (whose message quotes the server's string to
/// sign), `UnsupportedAlgorithm`/`UnsupportedVersion` to
/// `InvalidSignatureMethod`/`InvalidSignatureVersion`,
/// `InvalidTimestamp` to `InvalidTimeStamp.Format`, `Malformed` to
/// `IncompleteSignature` or `InvalidParameter`.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum VerifyError {
    /// A part the signature needs is absent: `part` names it (for example
    /// `the Signature parameter` or `the x-acs-date header`).
    Missing {
        /// What is missing.
        part: String,
    },
    /// No secret is known for the access key id.
    UnknownAccessKey {
        /// The access key id presented.
        access_key_id: String,
    },
    /// The signature differs from the one the server computed.
    SignatureDoesNotMatch {
        /// The server's string to sign, as the service quotes it in its
        /// `SignatureDoesNotMatch` message.
        string_to_sign: String,
        /// The server's canonical form (V1 canonicalized query string, V3
        /// canonical request), to compare with the client's when debugging.
        canonical: String,
    },
    /// The signature method or algorithm is not one this crate verifies.
    UnsupportedAlgorithm {
        /// The algorithm presented.
        algorithm: String,
    },
    /// The V1 `SignatureVersion` is not `1.0`.
    UnsupportedVersion {
        /// The version presented.
        version: String,
    },
    /// The timestamp is not `YYYY-MM-DDThh:mm:ssZ`.
    InvalidTimestamp {
        /// The value presented.
        value: String,
    },
    /// A part is present but cannot be used.
    Malformed {
        /// Which part.
        part: String,
        /// Why it cannot be used.
        reason: String,
    },
}

impl fmt::Display for VerifyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Missing { part } => write!(f, "the request is missing {part}"),
            Self::UnknownAccessKey { access_key_id } => {
                write!(f, "access key id `{access_key_id}` is not known")
            }
            Self::SignatureDoesNotMatch { string_to_sign, .. } => write!(
                f,
                "the request signature does not match the server's; check the access key secret \
                 and that the request was not changed after signing (server string to sign: {string_to_sign:?})"
            ),
            Self::UnsupportedAlgorithm { algorithm } => write!(
                f,
                "signature algorithm `{algorithm}` is not supported; use HMAC-SHA1 (V1) or ACS3-HMAC-SHA256 (V3)"
            ),
            Self::UnsupportedVersion { version } => write!(
                f,
                "signature version `{version}` is not supported; use SignatureVersion=1.0"
            ),
            Self::InvalidTimestamp { value } => write!(
                f,
                "timestamp `{value}` is not in the form YYYY-MM-DDThh:mm:ssZ (UTC)"
            ),
            Self::Malformed { part, reason } => write!(f, "{part} is malformed: {reason}"),
        }
    }
}

impl fmt::Debug for VerifyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // No variant holds a secret; Display is the most useful form.
        write!(f, "VerifyError({self})")
    }
}

impl core::error::Error for VerifyError {}

impl VerifyError {
    pub(crate) fn missing(part: impl Into<String>) -> Self {
        Self::Missing { part: part.into() }
    }

    pub(crate) fn malformed(part: impl Into<String>, reason: impl Into<String>) -> Self {
        Self::Malformed {
            part: part.into(),
            reason: reason.into(),
        }
    }

    /// Whether this is a signature mismatch (wrong secret or a request
    /// changed after signing).
    pub fn is_signature_mismatch(&self) -> bool {
        matches!(self, Self::SignatureDoesNotMatch { .. })
    }

    /// The server's string to sign, for a signature mismatch.
    pub fn string_to_sign(&self) -> Option<&str> {
        match self {
            Self::SignatureDoesNotMatch { string_to_sign, .. } => Some(string_to_sign),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::format;
    use alloc::string::ToString;
    use time::macros::datetime;

    #[test]
    fn verified_debug_hides_the_token() {
        let v = Verified {
            version: SignatureVersion::V1,
            access_key_id: "id".into(),
            security_token: Some("CAIS-secret-token".into()),
            timestamp: datetime!(2026-01-02 03:04:05 UTC),
            nonce: "n".into(),
        };
        let text = format!("{v:?}");
        assert!(!text.contains("CAIS"), "{text}");
        assert!(text.contains("redacted"));
        assert_eq!(v.security_token(), Some("CAIS-secret-token"));
    }

    #[test]
    fn display_is_lowercase_and_specific() {
        let e = VerifyError::SignatureDoesNotMatch {
            string_to_sign: "POST&%2F&a".into(),
            canonical: "a".into(),
        };
        assert!(e.is_signature_mismatch());
        assert_eq!(e.string_to_sign(), Some("POST&%2F&a"));
        assert!(
            e.to_string()
                .starts_with("the request signature does not match")
        );
        assert!(e.to_string().contains("POST&%2F&a"));
        assert_eq!(
            format!("{e:?}"),
            format!("VerifyError({e})"),
            "Debug shows the message"
        );
        let m = VerifyError::missing("the Signature parameter");
        assert_eq!(
            m.to_string(),
            "the request is missing the Signature parameter"
        );
        assert!(!m.is_signature_mismatch());
    }
}
