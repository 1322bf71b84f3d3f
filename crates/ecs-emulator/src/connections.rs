//! The accept loop and the connections it serves.
//!
//! At most `max` connections are open at once. When that limit is reached,
//! or accepting fails because the process is out of file descriptors, the
//! connection idle the longest is closed to make room; when none is idle,
//! the loop waits for one to end. Accept errors are retried after a
//! backoff that doubles up to a second, never in a busy loop.

use std::collections::HashMap;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use hyper::body::{Body, Frame, SizeHint};
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::{Notify, watch};

use crate::server;

/// How long a clean shutdown waits for requests in flight.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);
/// The first wait after a failed accept; it doubles up to `MAX_BACKOFF`.
const MIN_BACKOFF: Duration = Duration::from_millis(5);
const MAX_BACKOFF: Duration = Duration::from_secs(1);
/// How long the loop waits at the connection limit before looking again.
const FULL_WAIT: Duration = Duration::from_millis(100);

/// One open connection.
#[derive(Debug)]
struct Open {
    /// Requests in progress (from the head read to the body sent).
    active: u32,
    /// When it last became idle, on the registry's clock of events.
    idle_since: u64,
    /// Asked to close.
    closing: bool,
    close: Arc<Notify>,
}

#[derive(Debug, Default)]
struct Registry {
    next_id: u64,
    clock: u64,
    open: HashMap<u64, Open>,
}

/// The open connections.
#[derive(Debug, Default)]
pub(crate) struct Connections {
    registry: Mutex<Registry>,
    ended: Notify,
}

impl Connections {
    fn with<T>(&self, f: impl FnOnce(&mut Registry) -> T) -> Option<T> {
        self.registry.lock().ok().map(|mut r| f(&mut r))
    }

    /// Registers a new connection: its id and the signal that closes it.
    fn open(&self) -> (u64, Arc<Notify>) {
        let close = Arc::new(Notify::new());
        let id = self
            .with(|r| {
                r.next_id += 1;
                r.clock += 1;
                let id = r.next_id;
                let entry = Open {
                    active: 0,
                    idle_since: r.clock,
                    closing: false,
                    close: Arc::clone(&close),
                };
                r.open.insert(id, entry);
                id
            })
            .unwrap_or_default();
        (id, close)
    }

    fn ended(&self, id: u64) {
        self.with(|r| r.open.remove(&id));
        self.ended.notify_waiters();
    }

    fn busy(&self, id: u64) {
        self.with(|r| {
            if let Some(open) = r.open.get_mut(&id) {
                open.active += 1;
            }
        });
    }

    fn idle(&self, id: u64) {
        self.with(|r| {
            r.clock += 1;
            let now = r.clock;
            if let Some(open) = r.open.get_mut(&id) {
                open.active = open.active.saturating_sub(1);
                if open.active == 0 {
                    open.idle_since = now;
                }
            }
        });
    }

    /// How many are open.
    pub(crate) fn len(&self) -> usize {
        self.with(|r| r.open.len()).unwrap_or_default()
    }

    /// Closes the connection idle the longest; false when none is idle.
    pub(crate) fn close_idlest(&self) -> bool {
        self.with(|r| {
            let idlest = r
                .open
                .values_mut()
                .filter(|o| o.active == 0 && !o.closing)
                .min_by_key(|o| o.idle_since);
            match idlest {
                Some(open) => {
                    open.closing = true;
                    open.close.notify_one();
                    true
                }
                None => false,
            }
        })
        .unwrap_or(false)
    }

    /// Asks every connection to finish what it is doing and close.
    fn close_all(&self) {
        self.with(|r| {
            for open in r.open.values_mut() {
                open.closing = true;
                open.close.notify_one();
            }
        });
    }
}

/// Marks a request in progress until dropped (with the response body, so
/// a connection still sending an answer is not idle).
#[derive(Debug)]
struct Active {
    connections: Arc<Connections>,
    id: u64,
}

impl Active {
    fn new(connections: &Arc<Connections>, id: u64) -> Self {
        connections.busy(id);
        Self {
            connections: Arc::clone(connections),
            id,
        }
    }
}

impl Drop for Active {
    fn drop(&mut self) {
        self.connections.idle(self.id);
    }
}

/// A response body that keeps its request marked in progress.
#[derive(Debug)]
pub(crate) struct Tracked<B> {
    inner: B,
    _active: Active,
}

impl<B: Body + Unpin> Body for Tracked<B> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        Pin::new(&mut self.get_mut().inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// Accepts and serves connections until `stopped` says so, then lets the
/// requests in flight finish (up to 5 s).
pub(crate) async fn serve(
    listener: TcpListener,
    http: hyper::server::conn::http1::Builder,
    state: Arc<server::State>,
    max: usize,
    mut stopped: watch::Receiver<bool>,
) {
    let connections = Arc::new(Connections::default());
    let mut backoff = MIN_BACKOFF;
    loop {
        if connections.len() >= max.max(1) {
            // At the limit: make room, or wait for a connection to end.
            connections.close_idlest();
            tokio::select! {
                () = connections.ended.notified() => {}
                () = tokio::time::sleep(FULL_WAIT) => {}
                _ = stopped.changed() => break,
            }
            continue;
        }
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    backoff = MIN_BACKOFF;
                    let _ = stream.set_nodelay(true);
                    spawn(stream, &http, &state, &connections);
                }
                Err(_) => {
                    // Most often out of file descriptors: free one (the
                    // connection idle the longest) and wait before trying
                    // again, instead of failing the same way at once.
                    connections.close_idlest();
                    tokio::select! {
                        () = tokio::time::sleep(backoff) => {}
                        _ = stopped.changed() => break,
                    }
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                }
            },
            _ = stopped.changed() => break,
        }
    }
    drop(listener);
    connections.close_all();
    let drained = async {
        while connections.len() > 0 {
            let ended = connections.ended.notified();
            if connections.len() == 0 {
                break;
            }
            let _ = tokio::time::timeout(FULL_WAIT, ended).await;
        }
    };
    let _ = tokio::time::timeout(SHUTDOWN_GRACE, drained).await;
}

/// Serves one connection on its own task.
fn spawn(
    stream: tokio::net::TcpStream,
    http: &hyper::server::conn::http1::Builder,
    state: &Arc<server::State>,
    connections: &Arc<Connections>,
) {
    let (id, close) = connections.open();
    let service = {
        let (state, connections) = (Arc::clone(state), Arc::clone(connections));
        service_fn(move |request| {
            let active = Active::new(&connections, id);
            let state = Arc::clone(&state);
            async move {
                let answer = server::handle(state, request).await;
                answer.map(|response| {
                    response.map(|inner| Tracked {
                        inner,
                        _active: active,
                    })
                })
            }
        })
    };
    let connection = http.serve_connection(TokioIo::new(stream), service);
    let connections = Arc::clone(connections);
    tokio::spawn(async move {
        let mut connection = std::pin::pin!(connection);
        // A client that goes away, or a reset fault, ends the connection;
        // neither is the emulator's failure.
        tokio::select! {
            _ = connection.as_mut() => {}
            () = close.notified() => {
                // Idle: closes now; busy: after the answer in progress.
                connection.as_mut().graceful_shutdown();
                let _ = connection.await;
            }
        }
        connections.ended(id);
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_connection_idle_the_longest_is_closed_first() {
        let connections = Arc::new(Connections::default());
        let (a, close_a) = connections.open();
        let (b, close_b) = connections.open();
        let (c, close_c) = connections.open();
        // `a` is busy; `c` became idle after `b`.
        let busy = Active::new(&connections, a);
        drop(Active::new(&connections, c));
        assert!(connections.close_idlest());
        assert!(
            futures_ready(&close_b),
            "b, idle since it opened, goes first"
        );
        assert!(connections.close_idlest());
        assert!(futures_ready(&close_c));
        // Only the busy one is left: nothing to close.
        assert!(!connections.close_idlest());
        assert!(!futures_ready(&close_a));
        drop(busy);
        assert!(connections.close_idlest());
        for id in [a, b, c] {
            connections.ended(id);
        }
        assert_eq!(connections.len(), 0);
    }

    /// Whether `notify` holds a permit (it was notified).
    fn futures_ready(notify: &Notify) -> bool {
        let notified = notify.notified();
        let mut notified = std::pin::pin!(notified);
        let waker = std::task::Waker::noop();
        notified
            .as_mut()
            .poll(&mut Context::from_waker(waker))
            .is_ready()
    }
}
