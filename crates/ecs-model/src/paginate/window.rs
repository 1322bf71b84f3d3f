//! What a paginator remembers to stop duplicates and loops: fingerprints of
//! the last results it yielded and of every `NextToken` it sent.

use std::collections::{HashSet, VecDeque};
use std::hash::{BuildHasher as _, BuildHasherDefault, Hash, Hasher, RandomState};

use crate::response::InvocationResult;

/// How many recent results the duplicate filter remembers: 20 pages of 50.
/// Duplicates come from pages shifting or being re-served, which happens
/// within a few pages.
pub const DEDUP_WINDOW_RESULTS: usize = 1024;

/// 128-bit fingerprints: XXH3-128 of a value's `Hash` encoding, under a
/// seed chosen at random per paginator.
///
/// Two different values share a fingerprint with a chance of about 2^-128
/// per pair: a fingerprint stands for the value itself. (XXH3 is not a
/// cryptographic hash, so a server that wanted to could craft two records
/// with one fingerprint; such a server could as well leave a record out.)
#[derive(Debug, Clone)]
struct Fingerprinter {
    seed: u64,
    /// The bytes of the value being fingerprinted, kept between calls.
    buffer: Vec<u8>,
}

impl Default for Fingerprinter {
    fn default() -> Self {
        Self {
            seed: RandomState::new().hash_one(0x5eed_u64),
            buffer: Vec::new(),
        }
    }
}

impl Fingerprinter {
    fn of<T: Hash + ?Sized>(&mut self, value: &T) -> u128 {
        self.buffer.clear();
        value.hash(&mut Collector(&mut self.buffer));
        twox_hash::XxHash3_128::oneshot_with_seed(self.seed, &self.buffer)
    }

    /// A result's fingerprint: every field, with `Output` (up to 24 KB)
    /// hashed where it lies rather than copied first. The destructuring
    /// names every field, so a field added to `InvocationResult` does not
    /// compile here until it is fingerprinted too.
    fn of_result(&mut self, result: &InvocationResult) -> u128 {
        let InvocationResult {
            command_id,
            invoke_id,
            instance_id,
            container_id,
            container_name,
            invocation_status,
            invoke_record_status,
            exit_code,
            output,
            dropped,
            error_code,
            error_info,
            repeats,
            start_time,
            finished_time,
            stop_time,
            username,
            launcher,
            termination_mode,
            oss_output_delivery,
            oss_output_status,
            oss_output_uri,
            oss_output_error_code,
            oss_output_error_info,
            tags,
            // The same for every result of a paginator: its request's.
            content_encoding: _,
        } = result;
        let output = twox_hash::XxHash3_128::oneshot_with_seed(self.seed, output.as_bytes());
        self.of(&(
            (
                command_id,
                invoke_id,
                instance_id,
                container_id,
                container_name,
            ),
            (
                invocation_status,
                invoke_record_status,
                exit_code,
                output,
                dropped,
            ),
            (error_code, error_info, repeats, start_time, finished_time),
            (
                stop_time,
                username,
                launcher,
                termination_mode,
                oss_output_delivery,
            ),
            (oss_output_status, oss_output_uri, oss_output_error_code),
            (oss_output_error_info, tags),
        ))
    }
}

/// A `Hasher` that keeps the bytes it is given: the `Hash` encoding of a
/// value (each string followed by a terminator, so fields stay apart).
struct Collector<'a>(&'a mut Vec<u8>);

impl Hasher for Collector<'_> {
    fn finish(&self) -> u64 {
        0
    }

    fn write(&mut self, bytes: &[u8]) {
        self.0.extend_from_slice(bytes);
    }
}

/// A set of fingerprints, hashed by their low bits (already uniform).
type FingerprintSet = HashSet<u128, BuildHasherDefault<FingerprintHasher>>;

/// What a paginator has seen, as fingerprints: the last
/// [`DEDUP_WINDOW_RESULTS`] results, every page and every token sent.
///
/// A result is a duplicate only when it equals, in every field, a result
/// already yielded: records that share `InvokeId`, `InstanceId` and
/// `Repeats` but differ elsewhere (the history runs of a periodic
/// invocation, or a record that changed between two pages) are different
/// records and are all kept.
///
/// A page is a repeat when its results equal, in order, those of a page
/// already handled; pages and tokens are remembered for the whole stream (16
/// bytes each, plus the sets' overhead), so a server going round a cycle of
/// any length is caught before it yields a result twice.
#[derive(Debug, Clone, Default)]
pub(super) struct Seen {
    fingerprints: Fingerprinter,
    results: FingerprintSet,
    order: VecDeque<u128>,
    pages: FingerprintSet,
    tokens: FingerprintSet,
    /// The fingerprints of the page being handled, in order (reused).
    page: Vec<u128>,
}

impl Seen {
    /// Fingerprints a page's results (kept for [`Seen::retain_new`]) and
    /// remembers the page; `false` if a page with the same results, in the
    /// same order, was handled before. An empty page is never a repeat.
    pub(super) fn insert_page(&mut self, results: &[InvocationResult]) -> bool {
        self.page.clear();
        for result in results {
            let fingerprint = self.fingerprints.of_result(result);
            self.page.push(fingerprint);
        }
        if results.is_empty() {
            return true;
        }
        let fingerprint = self.fingerprints.of(self.page.as_slice());
        self.pages.insert(fingerprint)
    }

    /// Keeps, of the page last given to [`Seen::insert_page`], the results
    /// not equal to one among the last [`DEDUP_WINDOW_RESULTS`] remembered,
    /// and remembers them.
    pub(super) fn retain_new(&mut self, results: &mut Vec<InvocationResult>) {
        debug_assert_eq!(results.len(), self.page.len());
        let page = std::mem::take(&mut self.page);
        let mut fingerprints = page.iter();
        results.retain(|_| {
            fingerprints
                .next()
                .is_some_and(|&fingerprint| self.insert_result(fingerprint))
        });
        self.page = page;
    }

    /// Remembers a result by its fingerprint; `false` if an equal result is
    /// among the last [`DEDUP_WINDOW_RESULTS`] remembered.
    fn insert_result(&mut self, fingerprint: u128) -> bool {
        if !self.results.insert(fingerprint) {
            return false;
        }
        if self.order.len() == DEDUP_WINDOW_RESULTS
            && let Some(oldest) = self.order.pop_front()
        {
            self.results.remove(&oldest);
        }
        self.order.push_back(fingerprint);
        true
    }

    /// Remembers a token that was sent.
    pub(super) fn insert_token(&mut self, token: &str) {
        let fingerprint = self.token_fingerprint(token);
        self.tokens.insert(fingerprint);
    }

    /// Whether `token` was sent before.
    pub(super) fn has_token(&self, token: &str) -> bool {
        self.tokens.contains(&self.token_fingerprint(token))
    }

    /// A token's fingerprint: its bytes hashed directly (tokens are only
    /// ever compared with tokens), without the scratch buffer.
    fn token_fingerprint(&self, token: &str) -> u128 {
        twox_hash::XxHash3_128::oneshot_with_seed(self.fingerprints.seed, token.as_bytes())
    }

    #[cfg(test)]
    fn insert(&mut self, result: &InvocationResult) -> bool {
        let fingerprint = self.fingerprints.of_result(result);
        self.insert_result(fingerprint)
    }
}

/// Hashes a fingerprint, already uniformly random, by taking its low bits.
#[derive(Debug, Clone, Copy, Default)]
struct FingerprintHasher(u64);

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::timestamp::Timestamp;

    fn record(instance: &str) -> InvocationResult {
        InvocationResult::new("t-1", instance)
    }

    #[test]
    fn the_result_window_is_bounded_and_forgets_the_oldest() {
        let mut seen = Seen::default();
        for i in 0..(DEDUP_WINDOW_RESULTS + 10) {
            assert!(seen.insert(&record(&i.to_string())));
        }
        assert_eq!(seen.order.len(), DEDUP_WINDOW_RESULTS);
        assert_eq!(seen.results.len(), DEDUP_WINDOW_RESULTS);
        assert!(!seen.insert(&record(&(DEDUP_WINDOW_RESULTS + 9).to_string())));
        assert!(seen.insert(&record("0")), "the oldest result was forgotten");
    }

    #[test]
    fn every_field_tells_records_apart() {
        let mut seen = Seen::default();
        let base = record("i-1");
        assert!(seen.insert(&base));
        assert!(
            !seen.insert(&base.clone()),
            "an equal record is a duplicate"
        );
        let mut later = base.clone();
        later.finished_time = Timestamp::parse("2026-12-07T01:02:03Z");
        assert!(later.finished_time.is_some());
        assert!(seen.insert(&later), "a history run differs in its times");
        let mut output = base.clone();
        output.output = "aGk=".into();
        assert!(
            seen.insert(&output),
            "a different output is a different record"
        );
        let mut repeats = base.clone();
        repeats.repeats = 1;
        assert!(seen.insert(&repeats));
        // The two ids stay apart: moving a character across them is a
        // different record.
        assert!(seen.insert(&InvocationResult::new("ab", "c")));
        assert!(seen.insert(&InvocationResult::new("a", "bc")));
        assert!(!seen.insert(&InvocationResult::new("ab", "c")));
    }

    #[test]
    fn pages_are_the_same_only_with_the_same_results_in_order() {
        let mut seen = Seen::default();
        let (a, b) = (record("a"), record("b"));
        let ab = [a.clone(), b.clone()];
        assert!(seen.insert_page(&ab));
        assert!(!seen.insert_page(&ab));
        assert!(
            seen.insert_page(&[b, a.clone()]),
            "another order is another page"
        );
        assert!(seen.insert_page(&[a]));
        assert!(seen.insert_page(&[]), "an empty page is never a repeat");
        assert!(seen.insert_page(&[]));
    }

    #[test]
    fn only_results_not_seen_before_are_kept() {
        let mut seen = Seen::default();
        let (a, b, c) = (record("a"), record("b"), record("c"));
        let mut first = vec![a.clone(), b.clone(), a.clone()];
        assert!(seen.insert_page(&first));
        seen.retain_new(&mut first);
        assert_eq!(
            first,
            [a.clone(), b.clone()],
            "a repeat within a page is dropped"
        );
        let mut second = vec![c.clone(), b, a];
        assert!(seen.insert_page(&second));
        seen.retain_new(&mut second);
        assert_eq!(second, [c]);
    }

    #[test]
    fn every_token_is_remembered() {
        let mut seen = Seen::default();
        for i in 0..20_000 {
            seen.insert_token(&format!("token-{i}"));
        }
        assert_eq!(seen.tokens.len(), 20_000);
        assert!(seen.has_token("token-0"), "the first token is still known");
        assert!(seen.has_token("token-19999"));
        assert!(!seen.has_token("token-20000"));
        assert!(!seen.has_token("token-"));
    }
}
