//! Caching of temporary credentials: refreshed before they expire, one
//! refresh at a time however many requests wait (single flight), and the
//! last good credentials served while a refresh fails, until they really
//! expire.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use ecs_sign::{Credentials, TimeSource};
use futures::FutureExt as _;
use futures::future::{BoxFuture, Shared};
use time::OffsetDateTime;

use crate::error::Error;

/// How long before `Expiration` credentials count as stale and are refreshed
/// (docs/api/describe-invocation-results.md#credentials-cache: the SDK's ECS
/// RAM role provider goes stale 15 min before; the STS providers use the same
/// margin).
pub(crate) const STALE_MARGIN: Duration = Duration::from_secs(15 * 60);

/// After a failed refresh, while the last credentials are still valid,
/// requests use them without trying again for this long, so a failing
/// source is not asked on every request.
pub(crate) const RETRY_AFTER_FAILURE: Duration = Duration::from_secs(10);

/// Credentials with their expiry (`None`: they do not expire).
#[derive(Clone)]
pub(crate) struct Expiring {
    pub(crate) credentials: Credentials,
    pub(crate) expiration: Option<OffsetDateTime>,
}

impl fmt::Debug for Expiring {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Expiring")
            .field("access_key_id", &self.credentials.access_key_id())
            .field("expiration", &self.expiration)
            .finish()
    }
}

/// The future a [`Fetch`] returns.
pub(crate) type FetchFuture<'a> =
    Pin<Box<dyn Future<Output = Result<Expiring, Error>> + Send + 'a>>;

/// Gets fresh credentials from their source (the metadata service, STS, a
/// URI), uncached.
pub(crate) trait Fetch: Send + Sync + fmt::Debug {
    fn fetch(&self) -> FetchFuture<'_>;
}

type SharedFetch = Shared<BoxFuture<'static, Result<Expiring, Arc<Error>>>>;

struct Cached {
    credentials: Credentials,
    expiration: Option<OffsetDateTime>,
    refresh_at: Option<OffsetDateTime>,
}

impl Cached {
    fn new(e: Expiring, fetched_at: OffsetDateTime) -> Self {
        let refresh_at = e.expiration.map(|exp| {
            // Never more than half the lifetime, so short-lived credentials
            // (an STS duration of 15 min) are not stale as soon as fetched.
            let lifetime = Duration::try_from(exp - fetched_at).unwrap_or(Duration::ZERO);
            exp - STALE_MARGIN.min(lifetime / 2)
        });
        Self {
            credentials: e.credentials,
            expiration: e.expiration,
            refresh_at,
        }
    }

    fn is_fresh(&self, now: OffsetDateTime) -> bool {
        self.refresh_at.is_none_or(|at| now < at)
    }

    fn is_valid(&self, now: OffsetDateTime) -> bool {
        self.expiration.is_none_or(|exp| now < exp)
    }
}

#[derive(Default)]
struct State {
    current: Option<Cached>,
    inflight: Option<(u64, SharedFetch)>,
    generation: u64,
    retry_not_before: Option<OffsetDateTime>,
}

/// A cache in front of a [`Fetch`].
pub(crate) struct CredentialsCache {
    fetcher: Arc<dyn Fetch>,
    time: Arc<dyn TimeSource>,
    state: Mutex<State>,
}

impl fmt::Debug for CredentialsCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CredentialsCache")
            .field("source", &self.fetcher)
            .finish_non_exhaustive()
    }
}

impl CredentialsCache {
    pub(crate) fn new(fetcher: Arc<dyn Fetch>, time: Arc<dyn TimeSource>) -> Self {
        Self {
            fetcher,
            time,
            state: Mutex::new(State::default()),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock cannot leave the state half
        // written (every update is a single assignment), so keep going.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Cached credentials, or fresh ones when they are missing or stale.
    pub(crate) async fn credentials(&self) -> Result<Credentials, Error> {
        let now = self.time.now();
        let (generation, fetch) = {
            let mut state = self.lock();
            if let Some(current) = &state.current {
                let backing_off = state.retry_not_before.is_some_and(|t| now < t);
                if current.is_fresh(now) || (backing_off && current.is_valid(now)) {
                    return Ok(current.credentials.clone());
                }
            }
            match &state.inflight {
                Some((generation, fetch)) => (*generation, fetch.clone()),
                None => {
                    state.generation += 1;
                    let fetcher = Arc::clone(&self.fetcher);
                    let fetch = async move { fetcher.fetch().await.map_err(Arc::new) }
                        .boxed()
                        .shared();
                    state.inflight = Some((state.generation, fetch.clone()));
                    (state.generation, fetch)
                }
            }
        };
        let result = fetch.await;
        let now = self.time.now();
        let mut state = self.lock();
        if state
            .inflight
            .as_ref()
            .is_some_and(|(g, _)| *g == generation)
        {
            state.inflight = None;
            match &result {
                Ok(fresh) => {
                    state.current = Some(Cached::new(fresh.clone(), now));
                    state.retry_not_before = None;
                }
                Err(_) => state.retry_not_before = Some(now + RETRY_AFTER_FAILURE),
            }
        }
        match result {
            Ok(fresh) => Ok(fresh.credentials),
            Err(error) => match &state.current {
                Some(current) if current.is_valid(now) => {
                    tracing::warn!(
                        error = %error,
                        "refreshing credentials failed; using the previous ones until they expire"
                    );
                    Ok(current.credentials.clone())
                }
                _ => Err(Error::from_shared(&error)),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ecs_sign::test_util::ManualTimeSource;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use time::macros::datetime;

    const T0: OffsetDateTime = datetime!(2026-01-01 00:00:00 UTC);

    #[derive(Debug)]
    struct Counting {
        calls: AtomicUsize,
        fail_from: usize,
        lifetime: time::Duration,
        time: Arc<ManualTimeSource>,
    }

    impl Fetch for Counting {
        fn fetch(&self) -> FetchFuture<'_> {
            let n = self.calls.fetch_add(1, Ordering::SeqCst) + 1;
            let now = self.time.now();
            Box::pin(async move {
                if n >= self.fail_from {
                    return Err(Error::new(format!("fetch {n} failed")));
                }
                Ok(Expiring {
                    credentials: Credentials::new(format!("AK{n}"), "secret")
                        .unwrap()
                        .with_security_token("token")
                        .unwrap(),
                    expiration: Some(now + self.lifetime),
                })
            })
        }
    }

    fn cache(
        fail_from: usize,
        lifetime: time::Duration,
    ) -> (CredentialsCache, Arc<Counting>, Arc<ManualTimeSource>) {
        let time = Arc::new(ManualTimeSource::new(T0));
        let fetcher = Arc::new(Counting {
            calls: AtomicUsize::new(0),
            fail_from,
            lifetime,
            time: Arc::clone(&time),
        });
        let cache = CredentialsCache::new(fetcher.clone(), time.clone());
        (cache, fetcher, time)
    }

    fn id(r: Result<Credentials, Error>) -> String {
        r.unwrap().access_key_id().to_owned()
    }

    #[test]
    fn refreshes_only_when_stale() {
        let (cache, fetcher, time) = cache(usize::MAX, time::Duration::hours(6));
        let get = || futures::executor::block_on(cache.credentials());
        assert_eq!(id(get()), "AK1");
        time.advance(time::Duration::seconds(5 * 3600 + 44 * 60));
        assert_eq!(id(get()), "AK1", "15 min before expiry is still fresh");
        time.advance(time::Duration::seconds(60));
        assert_eq!(id(get()), "AK2", "within 15 min of expiry: refreshed");
        assert_eq!(fetcher.calls.load(Ordering::SeqCst), 2);
    }

    #[test]
    fn short_lived_credentials_refresh_at_half_life() {
        let (cache, fetcher, time) = cache(usize::MAX, time::Duration::minutes(15));
        let get = || futures::executor::block_on(cache.credentials());
        assert_eq!(id(get()), "AK1");
        time.advance(time::Duration::seconds(7 * 60));
        assert_eq!(id(get()), "AK1");
        time.advance(time::Duration::seconds(60));
        assert_eq!(id(get()), "AK2");
        assert_eq!(fetcher.calls.load(Ordering::SeqCst), 2);
    }

    #[test]
    fn failed_refresh_serves_last_good_until_expiry_then_errors() {
        let (cache, fetcher, time) = cache(2, time::Duration::hours(1));
        let get = || futures::executor::block_on(cache.credentials());
        assert_eq!(id(get()), "AK1");
        time.advance(time::Duration::seconds(50 * 60));
        assert_eq!(id(get()), "AK1", "refresh failed: last good served");
        assert_eq!(fetcher.calls.load(Ordering::SeqCst), 2);
        assert_eq!(id(get()), "AK1");
        assert_eq!(
            fetcher.calls.load(Ordering::SeqCst),
            2,
            "no retry within the back-off"
        );
        time.advance(time::Duration::seconds(10));
        assert_eq!(id(get()), "AK1");
        assert_eq!(
            fetcher.calls.load(Ordering::SeqCst),
            3,
            "retried after the back-off"
        );
        time.advance(time::Duration::seconds(10 * 60));
        let err = get().unwrap_err();
        assert_eq!(err.kind(), crate::ErrorKind::Configuration);
        assert!(err.to_string().contains("failed"), "{err}");
    }

    #[test]
    fn first_fetch_error_is_returned() {
        let (cache, _, _) = cache(1, time::Duration::hours(1));
        let err = futures::executor::block_on(cache.credentials()).unwrap_err();
        assert_eq!(err.to_string(), "fetch 1 failed");
    }

    #[test]
    fn concurrent_waiters_share_one_fetch() {
        let (cache, fetcher, _) = cache(usize::MAX, time::Duration::hours(1));
        let all = futures::executor::block_on(futures::future::join_all(
            (0..100).map(|_| cache.credentials()),
        ));
        assert!(all.into_iter().all(|r| id(r) == "AK1"));
        assert_eq!(fetcher.calls.load(Ordering::SeqCst), 1);
    }
}
