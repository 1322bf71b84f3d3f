//! Replay protection: the signature nonces of the last 15 minutes.
//!
//! Each nonce is remembered as a 128-bit fingerprint (its SHA-256, cut), so
//! a long nonce costs what a short one does, in two generations of fixed
//! size allocated once from a byte budget: when the current one is full it
//! becomes the previous one and the oldest generation is forgotten. Nothing
//! is ever removed from a table, so no table ever grows: under any load the
//! memory stays what it was at the start. A nonce itself is at most
//! [`MAX_NONCE_BYTES`] long.

use std::collections::HashMap;

use ring::digest;

/// The longest nonce accepted, in bytes. The official SDKs send 32 hex
/// digits or a 36-character UUID; longer ones are refused.
pub(crate) const MAX_NONCE_BYTES: usize = 128;

/// Memory for the nonces of the last 15 minutes: at least 900,000 of them
/// (15 minutes at 1,000 requests a second), whatever their length.
pub(crate) const NONCE_MEMORY: usize = 64 << 20;
/// How long a nonce is remembered (the clock window of a request).
const WINDOW_SECONDS: i64 = 15 * 60;

type Fingerprint = [u8; 16];

/// Bytes of one slot of a table: fingerprint and time, and a control byte.
const SLOT_BYTES: usize = size_of::<(Fingerprint, i64)>() + 1;

/// The nonces seen in the last 15 minutes, within a byte budget.
#[derive(Debug)]
pub(crate) struct NonceCache {
    current: HashMap<Fingerprint, i64>,
    previous: HashMap<Fingerprint, i64>,
    /// Entries a generation holds: 7/8 of its slots, so that it is full
    /// before its table would have to grow.
    per_generation: usize,
}

fn fingerprint(nonce: &str) -> Fingerprint {
    let mut out = [0u8; 16];
    out.copy_from_slice(&digest::digest(&digest::SHA256, nonce.as_bytes()).as_ref()[..16]);
    out
}

impl NonceCache {
    /// A cache that uses at most `budget` bytes, allocated now.
    pub(crate) fn new(budget: usize) -> Self {
        // Each of the two tables has a power of two of slots.
        let mut slots = 16usize;
        while 2 * (slots * 2) * SLOT_BYTES <= budget {
            slots *= 2;
        }
        let per_generation = slots / 8 * 7;
        Self {
            current: HashMap::with_capacity(per_generation),
            previous: HashMap::with_capacity(per_generation),
            per_generation,
        }
    }

    /// Records `nonce` at `now` (unix seconds); false if it was seen within
    /// the window.
    pub(crate) fn insert(&mut self, nonce: &str, now: i64) -> bool {
        let print = fingerprint(nonce);
        let seen = |table: &HashMap<Fingerprint, i64>| {
            table
                .get(&print)
                .is_some_and(|at| at.saturating_add(WINDOW_SECONDS) >= now)
        };
        if seen(&self.current) || seen(&self.previous) {
            return false;
        }
        if self.current.len() >= self.per_generation && !self.current.contains_key(&print) {
            // The oldest generation goes; its table is reused, emptied.
            std::mem::swap(&mut self.current, &mut self.previous);
            self.current.clear();
        }
        self.current.insert(print, now);
        true
    }

    /// The bytes its tables take, as allocated (their capacity is 7/8 of
    /// their slots and never changes, since nothing is removed).
    #[cfg(test)]
    fn allocated_bytes(&self) -> usize {
        (self.current.capacity() + self.previous.capacity()) * 8 / 7 * SLOT_BYTES
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.current.len() + self.previous.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_nonce_is_refused_within_the_window_and_forgotten_after() {
        let mut cache = NonceCache::new(64 << 10);
        assert!(cache.insert("n1", 1_000));
        assert!(!cache.insert("n1", 1_000 + 899));
        assert!(cache.insert("n2", 1_000 + 899));
        // 15 minutes and one second later, n1 may be used again.
        assert!(cache.insert("n1", 1_000 + 901));
    }

    #[test]
    fn memory_stays_within_the_budget_whatever_the_nonces() {
        let budget = 1 << 20;
        let mut cache = NonceCache::new(budget);
        let before = cache.allocated_bytes();
        assert!(before <= budget, "{before} > {budget}");
        // 100,000 nonces of 10 KB each (1 GB of nonces) in one second.
        let mut nonce = "n".repeat(10_000);
        for i in 0..100_000u32 {
            nonce.truncate(10_000 - 10);
            nonce.push_str(&format!("{i:010}"));
            assert!(cache.insert(&nonce, 5));
        }
        assert_eq!(cache.allocated_bytes(), before, "the memory grew");
        assert!(cache.len() <= 2 * cache.per_generation);
        // The most recent are still refused.
        assert!(!cache.insert(&nonce, 6));
    }

    #[test]
    fn the_default_budget_holds_nearly_a_million_nonces() {
        let cache = NonceCache::new(NONCE_MEMORY);
        assert!(cache.per_generation >= 900_000, "{}", cache.per_generation);
        assert!(cache.allocated_bytes() <= NONCE_MEMORY);
    }
}
