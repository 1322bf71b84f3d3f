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
//! tested for real; and fails on demand ([`Fault`]), reproducibly.
//!
//! Without configured keys it accepts the demo pair
//! [`DEMO_ACCESS_KEY_ID`] / [`DEMO_ACCESS_KEY_SECRET`].
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
//! | (none) | | the library and the `ecs-emulator` binary |

mod auth;
mod connections;
mod data;
mod errors;
mod faults;
mod filter;
mod generated;
mod index;
mod nonce;
mod positions;
mod query;
mod response;
mod server;
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
pub use faults::{Fault, FaultKind, FaultParseError, Trigger};
pub use generated::MAX_GENERATED;

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
        }
    }
}

impl std::error::Error for StartError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.kind {
            StartErrorKind::Bind { source, .. } => Some(source),
            StartErrorKind::TooManyGenerated { .. } => None,
        }
    }
}

/// The emulator: configure it with [`Emulator::builder`].
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

/// Tests of the server as a whole: queries held up on their thread, the
/// connection limit.
#[cfg(test)]
mod serving_tests {
    use std::io::{Read as _, Write as _};
    use std::net::{SocketAddr, TcpStream};
    use std::sync::{Condvar, Mutex};

    use ecs_sign::{Credentials, rpc_v1};

    use super::*;

    /// One signed request over a fresh blocking connection: the status
    /// and body of the answer, or why there was none within 10 s.
    fn call(
        addr: SocketAddr,
        params: &[(&str, &str)],
        nonce: &str,
    ) -> Result<(u16, String), String> {
        let credentials = Credentials::new(DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET).unwrap();
        let request =
            rpc_v1::RpcV1Request::new("POST", "DescribeInvocationResults", "2014-05-26", params);
        let signed = rpc_v1::sign(&request, &credentials, SystemTimeSource.now(), nonce).unwrap();
        let mut stream = TcpStream::connect(addr).map_err(|e| e.to_string())?;
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .map_err(|e| e.to_string())?;
        write!(
            stream,
            "POST /?{} HTTP/1.1\r\nHost: {addr}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            ecs_sign::encode_query(&signed)
        )
        .map_err(|e| e.to_string())?;
        let mut reply = String::new();
        stream
            .read_to_string(&mut reply)
            .map_err(|e| e.to_string())?;
        let status = reply
            .get(9..12)
            .and_then(|s| s.parse().ok())
            .ok_or(reply.clone())?;
        let body = reply
            .split_once("\r\n\r\n")
            .map(|(_, b)| b.to_owned())
            .unwrap_or_default();
        Ok((status, body))
    }

    /// Holds a query on its thread until opened.
    #[derive(Default)]
    struct Gate {
        /// (a query entered, the gate is open)
        state: Mutex<(bool, bool)>,
        changed: Condvar,
    }

    impl Gate {
        fn enter_and_wait(&self) {
            let mut state = self.state.lock().unwrap();
            state.0 = true;
            self.changed.notify_all();
            // Never hold a test for ever, even if it fails half-way.
            let _ = self
                .changed
                .wait_timeout_while(state, Duration::from_secs(30), |s| !s.1)
                .unwrap();
        }

        fn wait_entered(&self) -> bool {
            let state = self.state.lock().unwrap();
            let (state, _) = self
                .changed
                .wait_timeout_while(state, Duration::from_secs(30), |s| !s.0)
                .unwrap();
            state.0
        }

        fn open(&self) {
            self.state.lock().unwrap().1 = true;
            self.changed.notify_all();
        }
    }

    /// Opens the gate however the test ends.
    struct OpenOnDrop(Arc<Gate>);

    impl Drop for OpenOnDrop {
        fn drop(&mut self) {
            self.0.open();
        }
    }

    /// A large query (a status and a command over a million results) that
    /// is held up where it runs: 40 other requests, on 8 connections at
    /// once, are all answered meanwhile, with a single async worker.
    #[test]
    fn a_query_held_up_on_its_thread_does_not_hold_up_the_others() {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let gate = Arc::new(Gate::default());
        let _open = OpenOnDrop(Arc::clone(&gate));
        let hook = {
            let gate = Arc::clone(&gate);
            Arc::new(move |filter: &filter::Filter| {
                if filter.command_id.as_deref() == Some("c-gen00000000003") {
                    gate.enter_and_wait();
                }
            })
        };
        let emulator = runtime
            .block_on(
                Emulator::builder()
                    .generate(1_000_000)
                    .query_hook(server::QueryHook(hook))
                    .start(),
            )
            .unwrap();
        let addr = emulator.addr();
        let large = std::thread::spawn(move || {
            call(
                addr,
                &[
                    ("RegionId", "cn-hangzhou"),
                    ("CommandId", "c-gen00000000003"),
                    ("InvokeRecordStatus", "Failed"),
                    ("PageNumber", "100"),
                    ("PageSize", "50"),
                ],
                "large",
            )
        });
        assert!(gate.wait_entered(), "the large query never started");

        let others: Vec<_> = (0..8)
            .map(|t| {
                std::thread::spawn(move || {
                    (0..5)
                        .map(|i| {
                            let invoke = format!("t-gen{:011}", t * 5 + i);
                            call(
                                addr,
                                &[("RegionId", "cn-hangzhou"), ("InvokeId", &invoke)],
                                &format!("small-{t}-{i}"),
                            )
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        for other in others {
            for answer in other.join().unwrap() {
                let (status, body) = answer.expect("answered while the large query runs");
                assert_eq!(status, 200, "{body}");
            }
        }
        assert!(!large.is_finished(), "the large query was not held up");

        gate.open();
        let (status, body) = large.join().unwrap().unwrap();
        assert_eq!(status, 200, "{body}");
        let page = ecs_model::decode_response(Some("application/json"), body.as_bytes()).unwrap();
        assert_eq!(page.invocation.results.len(), 50);
        assert!(page.invocation.results.iter().all(|r| {
            r.command_id == "c-gen00000000003"
                && r.invoke_record_status.as_ref().map(|s| s.as_str()) == Some("Failed")
        }));
        runtime.block_on(emulator.shutdown());
    }

    /// With room for 4 connections, 10 idle ones cannot keep a request
    /// out: the idlest are closed to make room.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn at_the_connection_limit_the_idlest_connection_makes_room() {
        let emulator = Emulator::builder()
            .data(DataSet::demo())
            .max_connections(4)
            .start()
            .await
            .unwrap();
        let addr = emulator.addr();
        let answer = tokio::task::spawn_blocking(move || {
            let idle: Vec<TcpStream> = (0..10).map(|_| TcpStream::connect(addr).unwrap()).collect();
            let answer = call(addr, &[("RegionId", "cn-hangzhou")], "through");
            let closed = idle
                .into_iter()
                .filter(|mut stream| {
                    // Closed: end of stream or a reset; open: a timeout.
                    stream
                        .set_read_timeout(Some(Duration::from_secs(1)))
                        .unwrap();
                    match stream.read(&mut [0u8; 1]) {
                        Ok(n) => n == 0,
                        Err(e) => !matches!(
                            e.kind(),
                            std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                        ),
                    }
                })
                .count();
            (answer, closed)
        })
        .await
        .unwrap();
        let ((status, body), closed) = (answer.0.expect("the request got through"), answer.1);
        assert_eq!(status, 200, "{body}");
        assert!(closed >= 6, "only {closed} idle connections were closed");
        emulator.shutdown().await;
    }
}
