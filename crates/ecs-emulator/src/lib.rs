//! A faithful local emulator of the ECS Cloud Assistant
//! `DescribeInvocationResults` API, for tests, demos and your own
//! integration tests (what LocalStack is to AWS users).
//!
//! Layer: top. It uses `ecs-model` (response and error documents) and
//! `ecs-sign` (signature verification), and serves HTTP with hyper on tokio.
//!
//! It verifies V1 and V3 signatures as strictly as the service, with the
//! service's error codes (`SignatureDoesNotMatch`,
//! `InvalidAccessKeyId.NotFound`, `InvalidTimeStamp.Expired`,
//! `SignatureNonceUsed`, ...); serves every filter and both paging styles
//! with the service's limits and errors, JSON or XML, Base64 or PlainText
//! output truncated at 24 KB; lets results change over time so waiters are
//! tested for real; and fails on demand ([`Fault`]), reproducibly. For
//! invocations with OSS output delivery it also serves the complete outputs
//! as OSS does (`GetObject` with `Range`, `OSS4-HMAC-SHA256` signatures, OSS's
//! XML errors).
//!
//! Without configured keys it accepts the demo pair
//! [`DEMO_ACCESS_KEY_ID`] / [`DEMO_ACCESS_KEY_SECRET`]. [`DataSet::demo`]
//! serves four invocations, whose ids the [`demo`] module names.
//!
//! [`Emulator::builder`] configures it; `start().await` serves on the
//! current tokio runtime ([`EmulatorHandle`]), `start_blocking()` on a
//! thread of its own for code without a runtime ([`BlockingEmulatorHandle`]).
//!
//! # Example
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use ecs_emulator::{DataSet, Emulator};
//!
//! let emulator = Emulator::builder()
//!     .data(DataSet::demo())
//!     .generate(10_000)
//!     .fault("throttle:0.1:200ms".parse()?)
//!     .seed(7)
//!     .start()
//!     .await?;
//! println!("serving on {}", emulator.url());
//! emulator.shutdown().await;
//! # Ok(())
//! # }
//! ```
//!
//! # Crate features
//!
//! | feature | default | what it adds |
//! |---|---|---|
//! | `mimalloc` | yes | the `ecs-emulator` binary allocates with [mimalloc](https://docs.rs/mimalloc): with the system allocator, several busy connections spend much of the server's time on glibc malloc's locks (BENCHMARKS.md in the repository measures both: the "emulator with ..." rows of "Other figures"). The library never sets an allocator: embedding it in tests, turn the feature off to skip building mimalloc's C code. |

mod api_error;
mod auth;
mod body;
mod connections;
mod data;
pub mod demo;
mod faults;
mod filter;
mod generated;
mod identity;
mod index;
mod nonce;
mod oss;
mod positions;
mod query;
mod response;
mod server;
mod sessions;
mod store;
mod tokens;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use hyper_util::rt::TokioTimer;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub use auth::{AccessKey, AccessKeyParseError, DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET};
pub use data::{DataError, DataSet, InvocationSpec, RepeatMode, ResultSpec, Status};
pub use faults::{Fault, FaultKind, FaultParseError, Service, Trigger};
pub use generated::MAX_GENERATED;
pub use identity::{
    DEFAULT_INSTANCE_ROLE, DEFAULT_OAUTH_REFRESH_TOKEN, DEFAULT_OIDC_TOKEN,
    DEFAULT_SSO_ACCESS_TOKEN,
};

use ecs_sign::{SystemTimeSource, TimeSource};

/// How long a client may take to send a request's head, then its body (as
/// hyper's default header read timeout).
const DEFAULT_REQUEST_READ_TIMEOUT: Duration = Duration::from_secs(30);
/// Connections open at once, by default.
pub const DEFAULT_MAX_CONNECTIONS: usize = 1024;

/// Why the emulator could not start.
#[derive(Debug)]
pub struct StartError {
    kind: StartErrorKind,
}

#[derive(Debug)]
enum StartErrorKind {
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    TooManyGenerated {
        count: u64,
    },
    Runtime {
        source: std::io::Error,
    },
}

impl StartError {
    fn runtime(source: std::io::Error) -> Self {
        Self {
            kind: StartErrorKind::Runtime { source },
        }
    }
}

impl std::fmt::Display for StartError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.kind {
            StartErrorKind::Bind { addr, .. } => write!(
                f,
                "cannot listen on {addr}: is another server using that port? pick another with --listen"
            ),
            StartErrorKind::TooManyGenerated { count } => write!(
                f,
                "cannot generate {count} results: generate at most {MAX_GENERATED}"
            ),
            StartErrorKind::Runtime { .. } => f.write_str(
                "cannot start the emulator's own runtime thread: is the process out of threads or memory?",
            ),
        }
    }
}

impl std::error::Error for StartError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.kind {
            StartErrorKind::Bind { source, .. } | StartErrorKind::Runtime { source } => {
                Some(source)
            }
            StartErrorKind::TooManyGenerated { .. } => None,
        }
    }
}

/// The emulator's entry point: [`Emulator::builder`] gives an
/// [`EmulatorBuilder`] (the settings); its [`start`](EmulatorBuilder::start)
/// serves on the current tokio runtime and returns an [`EmulatorHandle`],
/// its [`start_blocking`](EmulatorBuilder::start_blocking) serves on a
/// thread of its own and returns a [`BlockingEmulatorHandle`]. A builder
/// configures; a handle controls a running server (its URL, faults, data,
/// shutdown).
#[derive(Debug)]
pub struct Emulator;

impl Emulator {
    /// A builder with the defaults: `127.0.0.1:0`, no data, the demo access
    /// key, no faults, seeds 0, the system clock, at most 1,024
    /// connections.
    pub fn builder() -> EmulatorBuilder {
        EmulatorBuilder::default()
    }
}

/// Configures and starts an emulator.
#[derive(Debug)]
pub struct EmulatorBuilder {
    listen: SocketAddr,
    data: DataSet,
    generate: Option<u64>,
    generate_region: String,
    keys: Vec<AccessKey>,
    faults: Vec<Fault>,
    seed: u64,
    data_seed: u64,
    time: Option<Arc<dyn TimeSource>>,
    request_read_timeout: Duration,
    max_connections: usize,
    identity: identity::IdentityConfig,
    #[cfg(test)]
    query_hook: Option<server::QueryHook>,
}

impl Default for EmulatorBuilder {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            data: DataSet::default(),
            generate: None,
            generate_region: "cn-hangzhou".to_owned(),
            keys: Vec::new(),
            faults: Vec::new(),
            seed: 0,
            data_seed: 0,
            time: None,
            request_read_timeout: DEFAULT_REQUEST_READ_TIMEOUT,
            max_connections: DEFAULT_MAX_CONNECTIONS,
            identity: identity::IdentityConfig::default(),
            #[cfg(test)]
            query_hook: None,
        }
    }
}

impl EmulatorBuilder {
    /// The address to listen on (port 0 picks a free one).
    pub fn listen(mut self, addr: SocketAddr) -> Self {
        self.listen = addr;
        self
    }

    /// The invocations to serve.
    pub fn data(mut self, data: DataSet) -> Self {
        self.data = data;
        self
    }

    /// Also serve `count` generated results (before the data's), computed
    /// on demand: a million cost no memory but an index of their statuses
    /// (about 400 KB), built on the first query by status. At most
    /// [`MAX_GENERATED`]; [`start`](Self::start) refuses more.
    pub fn generate(mut self, count: u64) -> Self {
        self.generate = Some(count);
        self
    }

    /// The region of the generated results (default `cn-hangzhou`).
    pub fn generate_region(mut self, region: impl Into<String>) -> Self {
        self.generate_region = region.into();
        self
    }

    /// Accepts this access key (instead of the demo key; call once per key).
    pub fn access_key(mut self, key: AccessKey) -> Self {
        self.keys.push(key);
        self
    }

    /// Adds a fault.
    pub fn fault(mut self, fault: Fault) -> Self {
        self.faults.push(fault);
        self
    }

    /// Seeds faults, request ids and NextTokens (same seed, same run). It
    /// never changes the data: a faulty run and a clean run serve the same
    /// results. The generated data has its own seed,
    /// [`data_seed`](Self::data_seed).
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Seeds the generated results' statuses and outputs (default 0): the
    /// same data seed, the same data, whatever the faults.
    pub fn data_seed(mut self, seed: u64) -> Self {
        self.data_seed = seed;
        self
    }

    /// At most this many connections open at once (default 1,024; at
    /// least 1). At the limit, or when the process runs out of file
    /// descriptors, the connection idle the longest is closed to make room.
    pub fn max_connections(mut self, max: usize) -> Self {
        self.max_connections = max.max(1);
        self
    }

    /// Runs `hook` on each query's filter where the query runs away from
    /// the async workers.
    #[cfg(test)]
    fn query_hook(mut self, hook: server::QueryHook) -> Self {
        self.query_hook = Some(hook);
        self
    }

    /// The emulator's clock (for signature time windows and results that
    /// change over time); the system clock by default. Pass an
    /// `Arc<ManualTimeSource>` and keep a clone to move time in tests.
    pub fn time_source(mut self, time: impl TimeSource + 'static) -> Self {
        self.time = Some(Arc::new(time));
        self
    }

    /// How long a client may take to send a request (default 30 s): its
    /// head, counted from when the connection waits for one (so idle
    /// keep-alive connections are closed too), then its body. A client that
    /// is slower, or stalls halfway, gets its connection closed (a stalled
    /// body gets a 400 first), so it cannot hold a connection forever.
    pub fn request_read_timeout(mut self, timeout: Duration) -> Self {
        self.request_read_timeout = timeout;
        self
    }

    /// The OIDC token `AssumeRoleWithOIDC` accepts (default
    /// [`DEFAULT_OIDC_TOKEN`]); any other is refused with
    /// `AuthenticationFail.OIDCToken.Invalid`.
    pub fn oidc_token(mut self, token: impl Into<String>) -> Self {
        self.identity.oidc_token = token.into();
        self
    }

    /// The RAM role the metadata service lists (default
    /// [`DEFAULT_INSTANCE_ROLE`]).
    pub fn instance_role(mut self, role: impl Into<String>) -> Self {
        self.identity.instance_role = role.into();
        self
    }

    /// Whether the metadata service answers without an IMDSv2 token
    /// (IMDSv1; default true). When false, such requests get HTTP 403.
    pub fn imdsv1(mut self, allowed: bool) -> Self {
        self.identity.imdsv1 = allowed;
        self
    }

    /// The access token `POST /cloud-credentials` accepts as its Bearer
    /// (default [`DEFAULT_SSO_ACCESS_TOKEN`]).
    pub fn sso_access_token(mut self, token: impl Into<String>) -> Self {
        self.identity.sso_access_token = token.into();
        self
    }

    /// The refresh token `POST /v1/token` accepts (default
    /// [`DEFAULT_OAUTH_REFRESH_TOKEN`]).
    pub fn oauth_refresh_token(mut self, token: impl Into<String>) -> Self {
        self.identity.oauth_refresh_token = token.into();
        self
    }

    /// At most this lifetime for every credential the credential services
    /// issue (STS sessions live `DurationSeconds`, else an hour), so that
    /// tests see them expire and refresh within seconds.
    pub fn max_session_lifetime(mut self, lifetime: Duration) -> Self {
        self.identity.max_lifetime = Some(lifetime);
        self
    }

    /// Binds and starts serving on the current tokio runtime.
    ///
    /// # Errors
    /// [`StartError`] when more than [`MAX_GENERATED`] results are to be
    /// generated, or the address cannot be bound.
    pub async fn start(self) -> Result<EmulatorHandle, StartError> {
        if let Some(count) = self.generate.filter(|n| *n > MAX_GENERATED) {
            return Err(StartError {
                kind: StartErrorKind::TooManyGenerated { count },
            });
        }
        let bind_error = |source| StartError {
            kind: StartErrorKind::Bind {
                addr: self.listen,
                source,
            },
        };
        let listener = TcpListener::bind(self.listen).await.map_err(bind_error)?;
        let addr = listener.local_addr().map_err(bind_error)?;
        let generated = self.generate.map(|count| {
            generated::Generated::new(count, self.generate_region.clone(), self.data_seed)
        });
        #[allow(unused_mut)] // Mutated by tests only.
        let mut state = server::State::new(
            store::Store::new(generated, self.data.invocations),
            faults::Faults::new(self.faults, self.seed),
            auth::Keys::new(self.keys),
            self.time.unwrap_or_else(|| Arc::new(SystemTimeSource)),
            self.seed,
            self.request_read_timeout,
            self.identity,
        );
        #[cfg(test)]
        {
            state.query_hook = self.query_hook;
        }
        let state = Arc::new(state);
        let (stop, stopped) = watch::channel(false);
        let mut http = hyper::server::conn::http1::Builder::new();
        http.keep_alive(true)
            .timer(TokioTimer::new())
            .header_read_timeout(self.request_read_timeout);
        let task = tokio::spawn(connections::serve(
            listener,
            http,
            Arc::clone(&state),
            self.max_connections,
            stopped,
        ));
        Ok(EmulatorHandle {
            addr,
            state,
            stop,
            task: Some(task),
        })
    }

    /// Binds and starts serving on a runtime of its own, on a thread of its
    /// own, for tests and programs without an async runtime (a plain
    /// `#[test]`, the blocking client). The returned handle works from any
    /// thread; [`BlockingEmulatorHandle::shutdown`] stops the server and the
    /// thread.
    ///
    /// ```
    /// use ecs_emulator::{DataSet, Emulator};
    ///
    /// let emulator = Emulator::builder().data(DataSet::demo()).start_blocking()?;
    /// assert!(emulator.url().starts_with("http://127.0.0.1:"));
    /// emulator.shutdown();
    /// # Ok::<(), ecs_emulator::StartError>(())
    /// ```
    ///
    /// # Errors
    /// As [`start`](Self::start), and [`StartError`] when the runtime or its
    /// thread cannot be created.
    pub fn start_blocking(self) -> Result<BlockingEmulatorHandle, StartError> {
        let (started_tx, started_rx) = std::sync::mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("ecs-emulator".to_owned())
            .spawn(move || {
                let runtime = match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(runtime) => runtime,
                    Err(source) => {
                        let _ = started_tx.send(Err(StartError::runtime(source)));
                        return;
                    }
                };
                runtime.block_on(async move {
                    match self.start().await {
                        Ok(mut handle) => {
                            // The server task stays on this runtime; the
                            // handle (state, stop signal) goes to the caller.
                            let task = handle.task.take();
                            let _ = started_tx.send(Ok(handle));
                            if let Some(task) = task {
                                let _ = task.await;
                            }
                        }
                        Err(err) => {
                            let _ = started_tx.send(Err(err));
                        }
                    }
                });
            })
            .map_err(StartError::runtime)?;
        match started_rx.recv() {
            Ok(Ok(handle)) => Ok(BlockingEmulatorHandle {
                handle,
                thread: Some(thread),
            }),
            Ok(Err(err)) => {
                let _ = thread.join();
                Err(err)
            }
            Err(_) => {
                let _ = thread.join();
                Err(StartError::runtime(std::io::Error::other(
                    "the emulator's thread ended before it started serving",
                )))
            }
        }
    }
}

/// A running emulator started with [`EmulatorBuilder::start_blocking`]: its
/// server runs on a runtime and thread of its own. It derefs to
/// [`EmulatorHandle`] for [`url`](EmulatorHandle::url),
/// [`set_faults`](EmulatorHandle::set_faults) and the rest. Dropping it
/// stops the server without waiting; [`shutdown`](Self::shutdown) waits.
#[derive(Debug)]
pub struct BlockingEmulatorHandle {
    handle: EmulatorHandle,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl BlockingEmulatorHandle {
    /// Stops accepting, lets requests in flight finish (up to 5 s), and
    /// returns when the server and its thread have stopped.
    pub fn shutdown(mut self) {
        let _ = self.handle.stop.send(true);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl std::ops::Deref for BlockingEmulatorHandle {
    type Target = EmulatorHandle;

    fn deref(&self) -> &EmulatorHandle {
        &self.handle
    }
}

/// A running emulator. Dropping it stops the server too; prefer
/// [`shutdown`](Self::shutdown), which waits for requests in flight.
#[derive(Debug)]
pub struct EmulatorHandle {
    addr: SocketAddr,
    state: Arc<server::State>,
    stop: watch::Sender<bool>,
    task: Option<JoinHandle<()>>,
}

impl EmulatorHandle {
    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Its URL, `http://HOST:PORT`, to use as an explicit endpoint.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Replaces the faults in force.
    pub fn set_faults(&self, faults: Vec<Fault>) {
        if let Ok(mut f) = self.state.faults.lock() {
            f.set(faults);
        }
    }

    /// Removes every fault.
    pub fn clear_faults(&self) {
        self.set_faults(Vec::new());
    }

    /// Appends invocations after every existing result (NextTokens already
    /// handed out stay valid).
    pub fn add_invocations(&self, invocations: Vec<InvocationSpec>) {
        self.state.append(invocations);
    }

    /// How many STS sessions its credential services have issued (one per
    /// credentials fetch or refresh).
    pub fn issued_sessions(&self) -> u64 {
        self.state.issued_sessions()
    }

    /// How many requests it has received.
    pub fn requests(&self) -> u64 {
        self.state.requests()
    }

    /// Stops accepting, lets requests in flight finish (up to 5 s), and
    /// returns when the server has stopped.
    pub async fn shutdown(mut self) {
        let _ = self.stop.send(true);
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for EmulatorHandle {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

    #[tokio::test]
    async fn more_than_the_maximum_of_generated_results_is_refused() {
        let err = Emulator::builder()
            .generate(MAX_GENERATED + 1)
            .start()
            .await
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "cannot generate 100000001 results: generate at most 100000000"
        );
        let emulator = Emulator::builder()
            .generate(MAX_GENERATED)
            .start()
            .await
            .unwrap();
        emulator.shutdown().await;
    }

    /// A client that stalls in its request head is closed without an answer
    /// after the read timeout; one that stalls in its body gets a 400 first.
    #[tokio::test]
    async fn stalled_clients_are_closed_after_the_read_timeout() {
        let emulator = Emulator::builder()
            .request_read_timeout(Duration::from_millis(100))
            .start()
            .await
            .unwrap();
        let head: &[u8] = b"POST / HTTP/1.1\r\nHost: x\r\n";
        let body: &[u8] = b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nab";
        for (half, answer) in [(head, ""), (body, "HTTP/1.1 400")] {
            let mut stream = tokio::net::TcpStream::connect(emulator.addr())
                .await
                .unwrap();
            stream.write_all(half).await.unwrap();
            let mut reply = Vec::new();
            // Closed (EOF, or a reset once the answer is read) in time.
            let _ = tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut reply))
                .await
                .expect("the stalled connection is closed");
            let reply = String::from_utf8_lossy(&reply);
            assert!(reply.starts_with(answer), "{reply}");
            assert_eq!(reply.is_empty(), answer.is_empty(), "{reply}");
        }
        emulator.shutdown().await;
    }
}

#[cfg(test)]
mod serving_tests;

#[cfg(test)]
mod identity_tests;
