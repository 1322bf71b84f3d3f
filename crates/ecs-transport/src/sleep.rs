//! Sleeping as an input: a client waits between retries and polls, and a
//! credentials provider bounds its requests, through an [`AsyncSleep`], so
//! tests run instantly and users bring their runtime.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

/// The future an [`AsyncSleep`] returns: completes after the duration.
pub type SleepFuture = Pin<Box<dyn Future<Output = ()> + Send + 'static>>;

/// Something that can wait asynchronously: [`TokioSleep`] by default, a
/// runtime of your own, or a test double that moves a manual clock.
pub trait AsyncSleep: Send + Sync + fmt::Debug {
    /// A future that completes after `duration`.
    fn sleep(&self, duration: Duration) -> SleepFuture;
}

impl<T: AsyncSleep + ?Sized> AsyncSleep for Arc<T> {
    fn sleep(&self, duration: Duration) -> SleepFuture {
        (**self).sleep(duration)
    }
}

/// A cheaply cloned, shared [`AsyncSleep`].
#[derive(Clone)]
pub struct SharedAsyncSleep(Arc<dyn AsyncSleep>);

impl SharedAsyncSleep {
    /// Wraps `sleep`.
    pub fn new(sleep: impl AsyncSleep + 'static) -> Self {
        Self(Arc::new(sleep))
    }

    /// Wraps an already shared sleep.
    pub fn from_arc(sleep: Arc<dyn AsyncSleep>) -> Self {
        Self(sleep)
    }
}

impl fmt::Debug for SharedAsyncSleep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("SharedAsyncSleep").field(&self.0).finish()
    }
}

impl AsyncSleep for SharedAsyncSleep {
    fn sleep(&self, duration: Duration) -> SleepFuture {
        self.0.sleep(duration)
    }
}

/// Sleeps on the tokio timer (feature `hyper`). Must be polled inside a
/// tokio runtime with the time driver enabled.
#[cfg(feature = "hyper")]
#[derive(Debug, Clone, Copy, Default)]
pub struct TokioSleep;

#[cfg(feature = "hyper")]
impl AsyncSleep for TokioSleep {
    fn sleep(&self, duration: Duration) -> SleepFuture {
        Box::pin(tokio::time::sleep(duration))
    }
}

/// Blocks the calling thread for the duration: the sleep of a blocking
/// client that drives its futures on the caller's thread (no runtime), as
/// `ecs_assist::blocking::Client` does over a [`BlockingTransport`](crate::BlockingTransport).
/// Never use it on an async runtime.
#[derive(Debug, Clone, Copy, Default)]
pub struct ThreadSleep;

impl AsyncSleep for ThreadSleep {
    fn sleep(&self, duration: Duration) -> SleepFuture {
        Box::pin(async move {
            // The one system sleep of this crate (clippy.toml): blocking is
            // the point, the executor is the caller's own thread.
            #[allow(clippy::disallowed_methods)]
            std::thread::sleep(duration);
        })
    }
}
