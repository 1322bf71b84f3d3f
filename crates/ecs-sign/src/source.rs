//! Where the signing time and the signature nonce come from.
//!
//! The algorithms take both as arguments; these traits let a client hold a
//! source of each: the system ones here in production, the fixed, manual
//! and sequence ones of `test_util` (feature `test-util`) in tests, so that no test
//! depends on the real clock or on chance.

use alloc::string::String;
use alloc::sync::Arc;
use core::fmt::Debug;
use time::OffsetDateTime;

use crate::SignError;

/// A source of the current time.
pub trait TimeSource: Send + Sync + Debug {
    /// The current time.
    fn now(&self) -> OffsetDateTime;
}

/// A source of signature nonces: strings that must not repeat within the
/// service's replay window (15 minutes).
pub trait NonceSource: Send + Sync + Debug {
    /// A fresh nonce.
    ///
    /// # Errors
    /// Only a system source can fail, when the operating system's random
    /// source does ([`SignError::is_random`]).
    fn nonce(&self) -> Result<String, SignError>;
}

impl<T: TimeSource + ?Sized> TimeSource for Arc<T> {
    fn now(&self) -> OffsetDateTime {
        (**self).now()
    }
}

impl<T: TimeSource + ?Sized> TimeSource for &T {
    fn now(&self) -> OffsetDateTime {
        (**self).now()
    }
}

impl<T: NonceSource + ?Sized> NonceSource for Arc<T> {
    fn nonce(&self) -> Result<String, SignError> {
        (**self).nonce()
    }
}

impl<T: NonceSource + ?Sized> NonceSource for &T {
    fn nonce(&self) -> Result<String, SignError> {
        (**self).nonce()
    }
}

/// Writes `bytes` as lower-case hex.
#[cfg(any(feature = "std", feature = "test-util"))]
pub(crate) fn hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    crate::encoding::hex_lower_into(&mut s, bytes);
    s
}

/// The system clock, in UTC.
#[cfg(feature = "std")]
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemTimeSource;

#[cfg(feature = "std")]
impl TimeSource for SystemTimeSource {
    // The one system clock of the workspace's light crates (clippy.toml).
    #[allow(clippy::disallowed_methods)]
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }
}

/// Nonces of 32 lower-case hex characters (128 bits) from the operating
/// system's random source, as the official SDKs send.
#[cfg(feature = "std")]
#[derive(Debug)]
pub struct SystemNonceSource {
    rng: ring::rand::SystemRandom,
}

#[cfg(feature = "std")]
impl SystemNonceSource {
    /// A nonce source over the operating system's random source.
    pub fn new() -> Self {
        Self {
            rng: ring::rand::SystemRandom::new(),
        }
    }
}

#[cfg(feature = "std")]
impl Default for SystemNonceSource {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(feature = "std")]
impl NonceSource for SystemNonceSource {
    fn nonce(&self) -> Result<String, SignError> {
        use ring::rand::SecureRandom;
        let mut bytes = [0u8; 16];
        self.rng.fill(&mut bytes).map_err(|_| SignError::random())?;
        Ok(hex(&bytes))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(feature = "std")]
    #[test]
    fn system_nonces_are_32_hex_and_distinct() {
        let s = SystemNonceSource::new();
        let a = s.nonce().unwrap();
        let b = s.nonce().unwrap();
        assert_eq!(a.len(), 32);
        assert!(
            a.bytes()
                .all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(&c))
        );
        assert_ne!(a, b);
        let now = SystemTimeSource.now();
        assert!(now.year() >= 2024);
    }
}
