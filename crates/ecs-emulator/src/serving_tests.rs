//! Tests of the server as a whole: a query held up on its thread, the
//! connection limit.

use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::sync::{Condvar, Mutex};

use ecs_sign::{Credentials, rpc_v1};

use super::*;
use crate::{filter, server};

/// One signed request over a fresh blocking connection: the status
/// and body of the answer, or why there was none within 10 s.
fn call(addr: SocketAddr, params: &[(&str, &str)], nonce: &str) -> Result<(u16, String), String> {
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
