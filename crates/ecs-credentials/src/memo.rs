//! A value found once and kept.

use std::fmt;
use std::sync::{Mutex, PoisonError};

/// Holds a value once it is known; a holder that panicked does not poison
/// it (the value is only ever replaced whole).
pub(crate) struct Memo<T>(Mutex<Option<T>>);

impl<T: Clone> Memo<T> {
    /// An empty memo.
    pub(crate) const fn new() -> Self {
        Self(Mutex::new(None))
    }

    /// The value, if one was kept.
    pub(crate) fn get(&self) -> Option<T> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Keeps `value`.
    pub(crate) fn set(&self, value: T) {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner) = Some(value);
    }
}

impl<T: Clone + fmt::Debug> fmt::Debug for Memo<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Memo").field(&self.get()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::Memo;

    #[test]
    fn keeps_the_last_value_and_survives_a_panicking_holder() {
        let memo = std::sync::Arc::new(Memo::new());
        assert_eq!(memo.get(), None);
        memo.set(1);
        memo.set(2);
        assert_eq!(memo.get(), Some(2));
        let poisoner = std::sync::Arc::clone(&memo);
        let _ = std::thread::spawn(move || {
            let _guard = poisoner.0.lock();
            panic!("poison the lock");
        })
        .join();
        assert_eq!(memo.get(), Some(2));
        memo.set(3);
        assert_eq!(memo.get(), Some(3));
    }
}
