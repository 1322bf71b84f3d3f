//! Who may call: access keys (with an optional STS token), signature
//! verification through `ecs-sign`, the body's hash against the signed
//! `x-acs-content-sha256`, the 15-minute clock window and the nonce's
//! length, each failing with the service's error.

use std::collections::HashMap;
use std::fmt;

use ecs_sign::VerifyError;
use time::OffsetDateTime;

use crate::api_error::ApiError;
use crate::nonce::MAX_NONCE_BYTES;

/// The demo access key id accepted when no key is configured.
pub const DEMO_ACCESS_KEY_ID: &str = "EmulatorAccessKeyId";
/// The demo access key secret accepted when no key is configured.
pub const DEMO_ACCESS_KEY_SECRET: &str = "EmulatorAccessKeySecret";

/// How far a request's time may be from the emulator's clock.
const WINDOW_SECONDS: i64 = 15 * 60;

/// An access key the emulator accepts.
#[derive(Clone, PartialEq, Eq)]
pub struct AccessKey {
    id: String,
    secret: String,
    security_token: Option<String>,
}

impl AccessKey {
    /// A permanent access key.
    pub fn new(id: impl Into<String>, secret: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            secret: secret.into(),
            security_token: None,
        }
    }

    /// An STS access key: requests must present this security token.
    pub fn with_security_token(mut self, token: impl Into<String>) -> Self {
        self.security_token = Some(token.into());
        self
    }

    /// The access key id.
    pub fn id(&self) -> &str {
        &self.id
    }
}

impl fmt::Debug for AccessKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccessKey")
            .field("id", &self.id)
            .field("secret", &"** redacted **")
            .field(
                "security_token",
                &self.security_token.as_ref().map(|_| "** redacted **"),
            )
            .finish()
    }
}

/// An `--access-key` that cannot be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessKeyParseError(String);

impl fmt::Display for AccessKeyParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for AccessKeyParseError {}

impl std::str::FromStr for AccessKey {
    type Err = AccessKeyParseError;

    /// `ID:SECRET` or `ID:SECRET:TOKEN`.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let mut parts = text.splitn(3, ':');
        let id = parts.next().unwrap_or_default();
        let secret = parts.next().unwrap_or_default();
        if id.is_empty() || secret.is_empty() {
            return Err(AccessKeyParseError(
                "an access key is ID:SECRET or ID:SECRET:TOKEN, with ID and SECRET not empty"
                    .to_owned(),
            ));
        }
        let key = Self::new(id, secret);
        Ok(match parts.next() {
            Some(token) if !token.is_empty() => key.with_security_token(token),
            _ => key,
        })
    }
}

/// The keys the emulator accepts.
#[derive(Debug, Clone)]
pub(crate) struct Keys(HashMap<String, AccessKey>);

impl Keys {
    pub(crate) fn new(keys: Vec<AccessKey>) -> Self {
        let keys = if keys.is_empty() {
            vec![AccessKey::new(DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET)]
        } else {
            keys
        };
        Self(keys.into_iter().map(|k| (k.id.clone(), k)).collect())
    }

    pub(crate) fn secret(&self, id: &str) -> Option<&str> {
        self.0.get(id).map(|k| k.secret.as_str())
    }

    /// Checks the presented token against the key's (both absent, or equal).
    pub(crate) fn check_token(&self, id: &str, presented: Option<&str>) -> Result<(), ApiError> {
        let expected = self.0.get(id).and_then(|k| k.security_token.as_deref());
        let ok = match (expected, presented) {
            (None, None) => true,
            (Some(e), Some(p)) => constant_time_eq(e.as_bytes(), p.as_bytes()),
            _ => false,
        };
        if ok {
            Ok(())
        } else {
            Err(ApiError::security_token_mismatch())
        }
    }
}

/// Compares without stopping at the first difference (tokens, MACs).
pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Maps a verification failure to the service's answer.
pub(crate) fn verify_error(err: &VerifyError) -> ApiError {
    match err {
        VerifyError::UnknownAccessKey { .. } => ApiError::unknown_access_key(),
        VerifyError::SignatureDoesNotMatch { string_to_sign, .. } => {
            ApiError::signature_mismatch(string_to_sign)
        }
        VerifyError::InvalidTimestamp { value } => ApiError::timestamp_format(value),
        VerifyError::Missing { part } => ApiError::incomplete_signature(&format!("missing {part}")),
        other => ApiError::incomplete_signature(&other.to_string()),
    }
}

/// Checks a V3 request's `x-acs-content-sha256` (the hex SHA-256 the client
/// signed in place of the body) against the body received: a body changed
/// after signing, or a header that does not describe it, is refused as a
/// signature that does not match.
pub(crate) fn check_content_hash(claimed: Option<&str>, body: &[u8]) -> Result<(), ApiError> {
    let Some(claimed) = claimed else {
        return Ok(());
    };
    let actual = ecs_sign::acs3::hashed_payload(body);
    if claimed.trim().eq_ignore_ascii_case(&actual) {
        Ok(())
    } else {
        Err(ApiError::content_hash_mismatch(&actual))
    }
}

/// Checks a nonce's length (the service refuses a nonce it would not
/// store).
pub(crate) fn check_nonce(nonce: &str) -> Result<(), ApiError> {
    if nonce.len() > MAX_NONCE_BYTES {
        return Err(ApiError::invalid_nonce(MAX_NONCE_BYTES));
    }
    Ok(())
}

/// Checks the request's time against the emulator's clock.
pub(crate) fn check_time(presented: OffsetDateTime, now: OffsetDateTime) -> Result<(), ApiError> {
    let skew = (presented - now).whole_seconds().abs();
    if skew > WINDOW_SECONDS {
        let shown = ecs_sign::format_timestamp(presented).unwrap_or_else(|_| presented.to_string());
        return Err(ApiError::timestamp_expired(&shown));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_content_hash_must_be_the_bodys() {
        let empty = ecs_sign::acs3::hashed_payload(b"");
        assert!(check_content_hash(None, b"x").is_ok());
        assert!(check_content_hash(Some(&empty), b"").is_ok());
        assert!(check_content_hash(Some(&empty.to_uppercase()), b"").is_ok());
        let err = check_content_hash(Some(&empty), b"x").unwrap_err();
        assert_eq!(
            (err.status, err.code.as_str()),
            (400, "SignatureDoesNotMatch")
        );
        assert!(
            err.message.contains(&ecs_sign::acs3::hashed_payload(b"x")),
            "{}",
            err.message
        );
        assert!(check_content_hash(Some("zz"), b"").is_err());
    }

    #[test]
    fn a_nonce_has_at_most_128_bytes() {
        assert!(check_nonce(&"n".repeat(128)).is_ok());
        let err = check_nonce(&"n".repeat(129)).unwrap_err();
        assert_eq!(
            (err.status, err.code.as_str()),
            (400, "InvalidSignatureNonce")
        );
    }

    #[test]
    fn access_keys_parse_and_hide_their_secrets() {
        let key: AccessKey = "AKID:s3cr3tValue:t0kenValue".parse().unwrap();
        assert_eq!(key.id(), "AKID");
        let shown = format!("{key:?}");
        assert!(shown.contains("AKID"), "{shown}");
        assert!(!shown.contains("s3cr3tValue"), "{shown}");
        assert!(!shown.contains("t0kenValue"), "{shown}");
        assert!("id".parse::<AccessKey>().is_err());
        assert!(":s".parse::<AccessKey>().is_err());
    }

    #[test]
    fn tokens_must_match_the_key() {
        let keys = Keys::new(vec![
            AccessKey::new("plain", "s"),
            AccessKey::new("sts", "s").with_security_token("tok"),
        ]);
        assert!(keys.check_token("plain", None).is_ok());
        assert!(keys.check_token("plain", Some("tok")).is_err());
        assert!(keys.check_token("sts", Some("tok")).is_ok());
        assert!(keys.check_token("sts", Some("other")).is_err());
        assert!(keys.check_token("sts", None).is_err());
    }

    #[test]
    fn the_clock_window_is_fifteen_minutes_either_way() {
        let now = time::macros::datetime!(2026-11-26 05:00:00 UTC);
        assert!(check_time(now + time::Duration::minutes(15), now).is_ok());
        assert!(check_time(now - time::Duration::minutes(15), now).is_ok());
        let late = check_time(now + time::Duration::seconds(901), now).unwrap_err();
        assert_eq!(late.code, "InvalidTimeStamp.Expired");
        let early = check_time(now - time::Duration::seconds(901), now).unwrap_err();
        assert_eq!(early.code, "InvalidTimeStamp.Expired");
    }
}
