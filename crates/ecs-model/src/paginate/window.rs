//! Bounded memories of recent keys and tokens.

use std::collections::{HashSet, VecDeque};

/// How many recent result keys (`InvokeId`, `InstanceId`, `Repeats`) the
/// duplicate filter remembers: 20 pages of 50. Duplicates come from pages
/// shifting or being re-served, which happens within a few pages.
pub const DEDUP_WINDOW_KEYS: usize = 1024;

/// How many recent `NextToken` values are remembered to detect a repeat.
pub const TOKEN_WINDOW: usize = 4096;

type Key = (String, String, i64);

/// A set of the last [`DEDUP_WINDOW_KEYS`] keys.
#[derive(Debug, Clone, Default)]
pub(super) struct KeyWindow {
    set: HashSet<Key>,
    order: VecDeque<Key>,
}

impl KeyWindow {
    /// Remembers the key; `false` if it was already remembered.
    pub(super) fn insert(&mut self, invoke_id: &str, instance_id: &str, repeats: i64) -> bool {
        let key = (invoke_id.to_owned(), instance_id.to_owned(), repeats);
        if self.set.contains(&key) {
            return false;
        }
        if self.order.len() == DEDUP_WINDOW_KEYS
            && let Some(oldest) = self.order.pop_front()
        {
            self.set.remove(&oldest);
        }
        self.set.insert(key.clone());
        self.order.push_back(key);
        true
    }

    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.order.len()
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
    }
}
