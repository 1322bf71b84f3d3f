//! Test doubles (feature `test-util`): clocks and nonce sources that make
//! signatures reproducible.

use alloc::string::String;
use core::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use time::{Duration, OffsetDateTime};

use crate::source::hex;
use crate::{NonceSource, SignError, TimeSource};

/// A clock stopped at one instant.
#[derive(Debug, Clone, Copy)]
pub struct FixedTimeSource(OffsetDateTime);

impl FixedTimeSource {
    /// A clock that always reads `time`.
    pub fn new(time: OffsetDateTime) -> Self {
        Self(time)
    }
}

impl TimeSource for FixedTimeSource {
    fn now(&self) -> OffsetDateTime {
        self.0
    }
}

/// A clock that moves only when told to ([`advance`](Self::advance),
/// [`set`](Self::set)); shareable between threads.
///
/// It holds nanoseconds since the Unix epoch in one atomic, so it covers the
/// years 1678 to 2261; times outside are clamped to those ends.
#[derive(Debug)]
pub struct ManualTimeSource {
    unix_nanos: AtomicI64,
}

fn clamp_nanos(time: OffsetDateTime) -> i64 {
    let n = time.unix_timestamp_nanos();
    i64::try_from(n).unwrap_or(if n < 0 { i64::MIN } else { i64::MAX })
}

impl ManualTimeSource {
    /// A clock reading `start`.
    pub fn new(start: OffsetDateTime) -> Self {
        Self {
            unix_nanos: AtomicI64::new(clamp_nanos(start)),
        }
    }

    /// Moves the clock by `by` (backwards when negative), saturating at the
    /// ends of the covered range.
    pub fn advance(&self, by: Duration) {
        let delta = i64::try_from(by.whole_nanoseconds()).unwrap_or(if by.is_negative() {
            i64::MIN
        } else {
            i64::MAX
        });
        // `fetch_update` with a closure that always returns `Some` cannot
        // fail; the result is ignored on purpose.
        let _ = self
            .unix_nanos
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| {
                Some(n.saturating_add(delta))
            });
    }

    /// Sets the clock to `time`.
    pub fn set(&self, time: OffsetDateTime) {
        self.unix_nanos.store(clamp_nanos(time), Ordering::SeqCst);
    }
}

impl TimeSource for ManualTimeSource {
    fn now(&self) -> OffsetDateTime {
        let n = self.unix_nanos.load(Ordering::SeqCst);
        // Every i64 nanosecond count is inside the time crate's range
        // (years ±9999), so the fallback is never taken.
        OffsetDateTime::from_unix_timestamp_nanos(i128::from(n))
            .unwrap_or(OffsetDateTime::UNIX_EPOCH)
    }
}

/// The same nonce every time (for known-answer tests).
#[derive(Debug, Clone)]
pub struct FixedNonceSource(String);

impl FixedNonceSource {
    /// A source that always yields `nonce`.
    pub fn new(nonce: impl Into<String>) -> Self {
        Self(nonce.into())
    }
}

impl NonceSource for FixedNonceSource {
    fn nonce(&self) -> Result<String, SignError> {
        Ok(self.0.clone())
    }
}

/// Distinct, deterministic nonces: 32 lower-case hex characters made of a
/// seed and a counter, so two sources with different seeds never collide
/// and a test run is reproducible.
#[derive(Debug)]
pub struct SequenceNonceSource {
    seed: u64,
    next: AtomicU64,
}

impl SequenceNonceSource {
    /// A sequence starting at counter 0 for `seed`.
    pub fn new(seed: u64) -> Self {
        Self {
            seed,
            next: AtomicU64::new(0),
        }
    }
}

impl NonceSource for SequenceNonceSource {
    fn nonce(&self) -> Result<String, SignError> {
        let n = self.next.fetch_add(1, Ordering::SeqCst);
        let mut bytes = [0u8; 16];
        bytes[..8].copy_from_slice(&self.seed.to_be_bytes());
        bytes[8..].copy_from_slice(&n.to_be_bytes());
        Ok(hex(&bytes))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::boxed::Box;
    use alloc::collections::BTreeSet;
    use alloc::sync::Arc;
    use time::macros::datetime;

    #[test]
    fn manual_clock_moves_only_when_told() {
        let t0 = datetime!(2026-01-02 03:04:05 UTC);
        let clock = ManualTimeSource::new(t0);
        assert_eq!(clock.now(), t0);
        clock.advance(Duration::minutes(16));
        assert_eq!(clock.now(), datetime!(2026-01-02 03:20:05 UTC));
        clock.advance(Duration::seconds(-5));
        assert_eq!(clock.now(), datetime!(2026-01-02 03:20:00 UTC));
        clock.set(t0);
        assert_eq!(clock.now(), t0);
        let shared: Arc<dyn TimeSource> = Arc::new(FixedTimeSource::new(t0));
        assert_eq!(shared.now(), t0);
    }

    #[test]
    fn sequence_nonces_are_distinct_and_reproducible() {
        let a = SequenceNonceSource::new(7);
        let got: BTreeSet<String> = (0..100).map(|_| a.nonce().unwrap()).collect();
        assert_eq!(got.len(), 100);
        let b = SequenceNonceSource::new(7);
        let first = b.nonce().unwrap();
        assert_eq!(first, "00000000000000070000000000000000");
        assert!(got.contains(&first));
        let other = SequenceNonceSource::new(8).nonce().unwrap();
        assert!(!got.contains(&other));
        let fixed: Box<dyn NonceSource> = Box::new(FixedNonceSource::new("n-1"));
        assert_eq!(fixed.nonce().unwrap(), "n-1");
        assert_eq!(fixed.nonce().unwrap(), "n-1");
    }

    #[test]
    fn shared_and_borrowed_sources_are_the_source_itself() {
        // Through the generic impls for `&T` and `Arc<T>`, as a client
        // holding either calls them.
        fn draw(source: impl NonceSource) -> String {
            source.nonce().unwrap()
        }
        fn read(clock: impl TimeSource) -> OffsetDateTime {
            clock.now()
        }
        let source = SequenceNonceSource::new(9);
        assert_eq!(draw(&source), "00000000000000090000000000000000");
        let shared = Arc::new(source);
        assert_eq!(
            draw(Arc::clone(&shared)),
            "00000000000000090000000000000001"
        );
        assert_eq!(draw(&shared), "00000000000000090000000000000002");
        let t0 = datetime!(2026-01-02 03:04:05 UTC);
        let clock = ManualTimeSource::new(t0);
        assert_eq!(read(&clock), t0);
        clock.advance(Duration::seconds(1));
        assert_eq!(read(Arc::new(clock)), t0 + Duration::seconds(1));
    }

    #[test]
    fn a_manual_clock_clamps_times_outside_its_range_to_the_nearest_end() {
        let before = ManualTimeSource::new(datetime!(1600-01-01 00:00:00 UTC));
        let first = OffsetDateTime::from_unix_timestamp_nanos(i128::from(i64::MIN)).unwrap();
        assert_eq!(before.now(), first);
        assert_eq!(first.year(), 1677);
        let after = ManualTimeSource::new(datetime!(2300-01-01 00:00:00 UTC));
        let last = OffsetDateTime::from_unix_timestamp_nanos(i128::from(i64::MAX)).unwrap();
        assert_eq!(after.now(), last);
        assert_eq!(last.year(), 2262);
        after.set(datetime!(1000-01-01 00:00:00 UTC));
        assert_eq!(after.now(), first);
    }
}
