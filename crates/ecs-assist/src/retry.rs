//! Retries: [`RetryConfig`] as plain data, exponential backoff with full
//! jitter from a seeded generator, and a token-bucket retry budget.
//!
//! DescribeInvocationResults is read-only, so retrying is always safe; the
//! official core SDK retries it too
//! (docs/api/describe-invocation-results.md#retries). Unlike the SDKs, the
//! budget stops retry storms: when most calls fail, retries stop until
//! successes refill the bucket (the AWS SDKs' standard mode).

use std::sync::Mutex;
use std::time::Duration;

use ecs_model::RetryClass;

/// How the client retries. Plain data with `Default`; see each field.
///
/// ```
/// use std::time::Duration;
/// use ecs_assist::RetryConfig;
/// let retry = RetryConfig { max_attempts: 5, ..RetryConfig::default() };
/// assert_eq!(retry.base_delay, Duration::from_millis(100));
/// assert_eq!(RetryConfig::disabled().max_attempts, 1);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryConfig {
    /// Attempts per call, the first included (default 4: three retries, as
    /// the official core SDK). 1 disables retries.
    pub max_attempts: u32,
    /// Backoff base for transient errors (default 100 ms): retry `r` (1 for
    /// the first) waits a random time in `[0, min(max_delay, base * 2^(r-1))]`.
    pub base_delay: Duration,
    /// Backoff base for throttling (default 500 ms).
    pub throttling_base_delay: Duration,
    /// Upper bound of one backoff, and of an honoured `x-acs-retry-after`
    /// (default 20 s).
    pub max_delay: Duration,
    /// Tokens in the retry budget (default 500). 0 disables the budget.
    pub budget_capacity: u32,
    /// Tokens a retry after a throttling or service error costs (default 5).
    pub retry_cost: u32,
    /// Tokens a retry after a timeout or connection failure costs (default 10).
    pub timeout_retry_cost: u32,
    /// Seed of the jitter generator; `None` draws one from the client's
    /// nonce source. Set it in tests for reproducible delays.
    pub jitter_seed: Option<u64>,
}

impl Default for RetryConfig {
    fn default() -> Self {
        Self {
            max_attempts: 4,
            base_delay: Duration::from_millis(100),
            throttling_base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(20),
            budget_capacity: 500,
            retry_cost: 5,
            timeout_retry_cost: 10,
            jitter_seed: None,
        }
    }
}

impl RetryConfig {
    /// A single attempt, no retry.
    pub fn disabled() -> Self {
        Self {
            max_attempts: 1,
            ..Self::default()
        }
    }

    /// Sets [`max_attempts`](Self::max_attempts).
    #[must_use]
    pub fn with_max_attempts(mut self, max_attempts: u32) -> Self {
        self.max_attempts = max_attempts;
        self
    }

    /// Sets [`jitter_seed`](Self::jitter_seed).
    #[must_use]
    pub fn with_jitter_seed(mut self, seed: u64) -> Self {
        self.jitter_seed = Some(seed);
        self
    }

    /// Every problem with the settings.
    pub(crate) fn problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        if self.max_attempts == 0 {
            out.push("retry max_attempts is 0; use 1 for a single attempt".to_owned());
        }
        if self.base_delay > self.max_delay || self.throttling_base_delay > self.max_delay {
            out.push("retry base delays must not exceed max_delay".to_owned());
        }
        out
    }

    /// The backoff before retry number `retry` (1 for the first retry):
    /// full jitter over the capped exponential, or the server's
    /// `retry_after` (capped by `max_delay`) when given.
    pub(crate) fn delay(
        &self,
        retry: u32,
        class: RetryClass,
        retry_after: Option<Duration>,
        jitter: &Jitter,
    ) -> Duration {
        if let Some(after) = retry_after {
            return after.min(self.max_delay);
        }
        let base = match class {
            RetryClass::Throttling => self.throttling_base_delay,
            _ => self.base_delay,
        };
        let factor = 1u32
            .checked_shl(retry.saturating_sub(1))
            .unwrap_or(u32::MAX);
        let ceiling = base.saturating_mul(factor).min(self.max_delay);
        ceiling.mul_f64(jitter.next_unit())
    }
}

/// A small, seeded pseudo-random generator (SplitMix64) for jitter. Not for
/// anything secret.
#[derive(Debug)]
pub(crate) struct Jitter {
    state: Mutex<u64>,
}

impl Jitter {
    pub(crate) fn new(seed: u64) -> Self {
        Self {
            state: Mutex::new(seed),
        }
    }

    /// A number in `[0, 1)`.
    pub(crate) fn next_unit(&self) -> f64 {
        let mut state = self
            .state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = *state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        // 53 random bits make a uniform double in [0, 1).
        (z >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// A token bucket shared by every call of a client: a retry takes tokens, a
/// success gives some back. When it is empty, failures are returned at once
/// instead of retried.
#[derive(Debug)]
pub(crate) struct RetryBudget {
    capacity: u32,
    tokens: Mutex<u32>,
}

impl RetryBudget {
    pub(crate) fn new(capacity: u32) -> Self {
        Self {
            capacity,
            tokens: Mutex::new(capacity),
        }
    }

    /// Takes `cost` tokens; `false` (and nothing taken) when there are too
    /// few. A budget of capacity 0 is disabled and always allows.
    pub(crate) fn try_acquire(&self, cost: u32) -> bool {
        if self.capacity == 0 {
            return true;
        }
        let mut tokens = self
            .tokens
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if *tokens < cost {
            return false;
        }
        *tokens -= cost;
        true
    }

    /// A call succeeded: gives back what its retries took, or one token
    /// when it needed none.
    pub(crate) fn on_success(&self, spent: u32) {
        let mut tokens = self
            .tokens
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        *tokens = tokens.saturating_add(spent.max(1)).min(self.capacity);
    }

    /// Tokens left.
    pub(crate) fn available(&self) -> u32 {
        *self
            .tokens
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_jitter_stays_under_the_capped_exponential() {
        let config = RetryConfig::default();
        let jitter = Jitter::new(7);
        for retry in 1..=12 {
            let ceiling = config
                .base_delay
                .saturating_mul(1 << (retry - 1))
                .min(config.max_delay);
            for _ in 0..50 {
                let d = config.delay(retry, RetryClass::Transient, None, &jitter);
                assert!(d <= ceiling, "retry {retry}: {d:?} > {ceiling:?}");
            }
        }
        // Throttling uses the larger base.
        let max_seen = (0..200)
            .map(|_| config.delay(1, RetryClass::Throttling, None, &jitter))
            .max()
            .unwrap();
        assert!(max_seen > Duration::from_millis(100) && max_seen <= Duration::from_millis(500));
    }

    #[test]
    fn same_seed_same_delays() {
        let config = RetryConfig::default();
        let a = Jitter::new(42);
        let b = Jitter::new(42);
        let c = Jitter::new(43);
        let da: Vec<_> = (1..6)
            .map(|r| config.delay(r, RetryClass::Transient, None, &a))
            .collect();
        let db: Vec<_> = (1..6)
            .map(|r| config.delay(r, RetryClass::Transient, None, &b))
            .collect();
        let dc: Vec<_> = (1..6)
            .map(|r| config.delay(r, RetryClass::Transient, None, &c))
            .collect();
        assert_eq!(da, db);
        assert_ne!(da, dc);
    }

    #[test]
    fn retry_after_is_honoured_and_capped() {
        let config = RetryConfig::default();
        let j = Jitter::new(1);
        let d = config.delay(
            1,
            RetryClass::Throttling,
            Some(Duration::from_millis(1234)),
            &j,
        );
        assert_eq!(d, Duration::from_millis(1234));
        let d = config.delay(
            1,
            RetryClass::Throttling,
            Some(Duration::from_secs(600)),
            &j,
        );
        assert_eq!(d, config.max_delay);
    }

    #[test]
    fn budget_runs_out_and_refills() {
        let budget = RetryBudget::new(12);
        assert!(budget.try_acquire(5));
        assert!(budget.try_acquire(5));
        assert!(!budget.try_acquire(5));
        assert_eq!(budget.available(), 2);
        budget.on_success(10);
        assert_eq!(budget.available(), 12);
        budget.on_success(0);
        assert_eq!(budget.available(), 12, "never above capacity");
        let off = RetryBudget::new(0);
        assert!((0..1000).all(|_| off.try_acquire(10)));
    }

    #[test]
    fn config_problems_are_reported() {
        let bad = RetryConfig {
            max_attempts: 0,
            base_delay: Duration::from_secs(60),
            ..RetryConfig::default()
        };
        assert_eq!(bad.problems().len(), 2);
        assert!(RetryConfig::default().problems().is_empty());
    }
}
