//! Bounded memories of recent keys and tokens.

use std::collections::{HashSet, VecDeque};
use std::hash::{BuildHasher as _, BuildHasherDefault, Hasher, RandomState};

/// How many recent result keys (`InvokeId`, `InstanceId`, `Repeats`) the
/// duplicate filter remembers: 20 pages of 50. Duplicates come from pages
/// shifting or being re-served, which happens within a few pages.
pub const DEDUP_WINDOW_KEYS: usize = 1024;

/// How many recent `NextToken` values are remembered to detect a repeat.
pub const TOKEN_WINDOW: usize = 4096;

/// A set of the last [`DEDUP_WINDOW_KEYS`] keys.
///
/// Keys are kept as 128-bit fingerprints (two SipHash values under random
/// keys chosen per paginator): no allocation per result, and two different
/// keys share a fingerprint with a chance of about 2^-118 per page, which no
/// input can steer because the hash keys are secret.
#[derive(Debug, Clone, Default)]
pub(super) struct KeyWindow {
    hash_keys: (RandomState, RandomState),
    set: HashSet<u128, BuildHasherDefault<FingerprintHasher>>,
    order: VecDeque<u128>,
}

impl KeyWindow {
    /// Remembers the key; `false` if it was already remembered.
    pub(super) fn insert(&mut self, invoke_id: &str, instance_id: &str, repeats: i64) -> bool {
        // `str` hashes end with a terminator, so the two ids stay apart.
        let half = |state: &RandomState| state.hash_one((invoke_id, instance_id, repeats));
        let fingerprint =
            (u128::from(half(&self.hash_keys.0)) << 64) | u128::from(half(&self.hash_keys.1));
        if !self.set.insert(fingerprint) {
            return false;
        }
        if self.order.len() == DEDUP_WINDOW_KEYS
            && let Some(oldest) = self.order.pop_front()
        {
            self.set.remove(&oldest);
        }
        self.order.push_back(fingerprint);
        true
    }

    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.order.len()
    }
}

/// Hashes a fingerprint, already uniformly random, by taking its low bits.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct FingerprintHasher(u64);

impl Hasher for FingerprintHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        // Only `u128` fingerprints are hashed (through `write_u128`); fold
        // anything else in rather than ignore it.
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }

    fn write_u128(&mut self, value: u128) {
        #[allow(clippy::cast_possible_truncation)] // The low half is wanted.
        {
            self.0 = value as u64;
        }
    }
}

/// A set of the last [`TOKEN_WINDOW`] tokens.
#[derive(Debug, Clone, Default)]
pub(super) struct TokenWindow {
    set: HashSet<String>,
    order: VecDeque<String>,
}

impl TokenWindow {
    pub(super) fn insert(&mut self, token: &str) {
        if self.set.contains(token) {
            return;
        }
        if self.order.len() == TOKEN_WINDOW
            && let Some(oldest) = self.order.pop_front()
        {
            self.set.remove(&oldest);
        }
        self.set.insert(token.to_owned());
        self.order.push_back(token.to_owned());
    }

    pub(super) fn contains(&self, token: &str) -> bool {
        self.set.contains(token)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_window_is_bounded_and_forgets_the_oldest() {
        let mut window = KeyWindow::default();
        for i in 0..(DEDUP_WINDOW_KEYS + 10) {
            assert!(window.insert("t", &i.to_string(), 0));
        }
        assert_eq!(window.len(), DEDUP_WINDOW_KEYS);
        assert!(!window.insert("t", &(DEDUP_WINDOW_KEYS + 9).to_string(), 0));
        assert!(window.insert("t", "0", 0), "the oldest key was forgotten");
        assert!(window.insert("t", "0", 1), "Repeats is part of the key");
        // The two ids are kept apart: moving a character across them is a
        // different key.
        assert!(window.insert("ab", "c", 0));
        assert!(window.insert("a", "bc", 0));
        assert!(!window.insert("ab", "c", 0));
    }
}
