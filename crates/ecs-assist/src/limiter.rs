//! A limit on requests in flight shared by many calls (a fan-out's
//! `concurrency`): an async counting semaphore with no runtime of its own.
//!
//! The permits are tokens in a bounded channel; taking one waits in turn
//! (the receiver is behind an async mutex, which queues its waiters), and a
//! permit puts its token back when dropped.

use std::fmt;
use std::sync::Arc;

use futures::StreamExt as _;
use futures::channel::mpsc;
use futures::lock::Mutex;

/// At most `permits` holders at a time. Cheap to clone; clones share the
/// permits.
#[derive(Clone)]
pub(crate) struct Limiter {
    inner: Arc<Inner>,
}

struct Inner {
    tokens: Mutex<mpsc::Receiver<()>>,
    give_back: mpsc::Sender<()>,
    permits: usize,
}

impl fmt::Debug for Limiter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Limiter")
            .field("permits", &self.inner.permits)
            .finish()
    }
}

impl Limiter {
    /// A limiter of `permits` (at least 1).
    pub(crate) fn new(permits: usize) -> Self {
        let permits = permits.max(1);
        let (mut give_back, tokens) = mpsc::channel(permits);
        for _ in 0..permits {
            // The channel holds `permits` tokens and the sender's own slot.
            let _ = give_back.try_send(());
        }
        Self {
            inner: Arc::new(Inner {
                tokens: Mutex::new(tokens),
                give_back,
                permits,
            }),
        }
    }

    /// Waits for a permit; it is given back when the [`Permit`] drops.
    pub(crate) async fn acquire(&self) -> Permit {
        let mut tokens = self.inner.tokens.lock().await;
        // The sender lives as long as `inner`, so the channel never ends.
        let _ = tokens.next().await;
        Permit {
            give_back: self.inner.give_back.clone(),
        }
    }
}

/// A held permit.
pub(crate) struct Permit {
    give_back: mpsc::Sender<()>,
}

impl Drop for Permit {
    fn drop(&mut self) {
        // Never full: at most `permits` tokens exist, and each clone of
        // the sender has a slot of its own.
        let _ = self.give_back.try_send(());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::FutureExt as _;

    #[test]
    fn no_more_than_the_permits_are_held_and_dropping_one_frees_it() {
        let limiter = Limiter::new(2);
        let a = limiter.acquire().now_or_never().expect("first permit");
        let _b = limiter.acquire().now_or_never().expect("second permit");
        assert!(limiter.acquire().now_or_never().is_none(), "a third waits");
        drop(a);
        let c = limiter.acquire().now_or_never();
        assert!(c.is_some(), "the permit given back is taken again");
        let shared = limiter.clone();
        assert!(
            shared.acquire().now_or_never().is_none(),
            "a clone shares the permits"
        );
        drop(c);
        assert!(shared.acquire().now_or_never().is_some());
        assert!(limiter.acquire().now_or_never().is_some());
    }

    #[test]
    fn zero_permits_means_one() {
        let limiter = Limiter::new(0);
        assert!(limiter.acquire().now_or_never().is_some());
    }
}
