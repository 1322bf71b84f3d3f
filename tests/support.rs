//! Helpers for the end-to-end tests: raw HTTP exchanges, the official SDK
//! captures, requests signed with `ecs-sign` as a client would, and result
//! keys.

use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use ecs_sign::{Credentials, acs3, rpc_v1};
use http::{HeaderMap, Request};
use http_body_util::{BodyExt as _, Full};
use hyper_util::rt::TokioIo;
use time::OffsetDateTime;

/// Every test exchange is bounded: a hang is a failure, not a stuck CI.
/// The longest an end-to-end scenario may take: a hang is a failure.
pub(crate) const LIMIT: Duration = Duration::from_secs(60);

/// `f`, failing the test if it takes longer than [`LIMIT`]; `what` names
/// it in the failure.
pub(crate) async fn bounded<F: std::future::Future>(what: &str, f: F) -> F::Output {
    tokio::time::timeout(LIMIT, f)
        .await
        .unwrap_or_else(|_| panic!("{what} hung for {LIMIT:?}"))
}

/// A result's identity: (`InvokeId`, `InstanceId`, `Repeats`).
pub(crate) type Key = (String, String, i64);

/// The keys of `results`, in order.
pub(crate) fn keys(results: &[ecs_assist::InvocationResult]) -> Vec<Key> {
    results
        .iter()
        .map(|r| (r.invoke_id.clone(), r.instance_id.clone(), r.repeats))
        .collect()
}

pub(crate) const EXCHANGE_LIMIT: Duration = Duration::from_secs(10);

/// What came back.
#[derive(Debug)]
pub(crate) struct Reply {
    pub(crate) status: u16,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Bytes,
}

impl Reply {
    pub(crate) fn content_type(&self) -> Option<&str> {
        self.headers
            .get(http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
    }

    /// The error document's code (panics with the body when it is not one).
    pub(crate) fn code(&self) -> String {
        let error = ecs_model::decode_error(self.status, self.content_type(), &self.body);
        assert!(
            !error.code.is_empty(),
            "no error code in {} {}",
            self.status,
            String::from_utf8_lossy(&self.body)
        );
        error.code
    }

    pub(crate) fn page(&self) -> ecs_model::DescribeInvocationResultsResponse {
        assert_eq!(
            self.status,
            200,
            "expected a page, got {}",
            String::from_utf8_lossy(&self.body)
        );
        ecs_model::decode_response(self.content_type(), &self.body).unwrap()
    }
}

/// Why an exchange produced no reply.
#[derive(Debug)]
pub(crate) struct NoReply(pub(crate) String);

/// Sends one request on a fresh connection and reads the whole reply.
pub(crate) async fn try_send(
    addr: SocketAddr,
    request: Request<Full<Bytes>>,
) -> Result<Reply, NoReply> {
    let exchange = async {
        let stream = tokio::net::TcpStream::connect(addr)
            .await
            .map_err(|e| NoReply(format!("connect: {e}")))?;
        let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .map_err(|e| NoReply(format!("handshake: {e}")))?;
        tokio::spawn(connection);
        let response = sender
            .send_request(request)
            .await
            .map_err(|e| NoReply(format!("send: {e}")))?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = response
            .into_body()
            .collect()
            .await
            .map_err(|e| NoReply(format!("body: {e}")))?
            .to_bytes();
        Ok(Reply {
            status,
            headers,
            body,
        })
    };
    tokio::time::timeout(EXCHANGE_LIMIT, exchange)
        .await
        .map_err(|_| NoReply("timed out".to_owned()))?
}

pub(crate) async fn send(addr: SocketAddr, request: Request<Full<Bytes>>) -> Reply {
    try_send(addr, request).await.unwrap()
}

/// A raw request recorded from an official SDK. The recordings live once,
/// with the signature tests that check them (`crates/ecs-sign/tests/data/captures`).
#[derive(Debug, Clone)]
pub(crate) struct Capture {
    pub(crate) name: String,
    pub(crate) method: String,
    pub(crate) target: String,
    pub(crate) headers: Vec<(String, String)>,
}

impl Capture {
    pub(crate) fn all() -> Vec<Self> {
        let dir = ecs_tests::workspace_root().join("crates/ecs-sign/tests/data/captures");
        let mut captures: Vec<Self> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|entry| entry.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "http"))
            .map(|path| {
                let text = std::fs::read_to_string(&path).unwrap();
                let mut lines = text.lines();
                let mut first = lines.next().unwrap().split(' ');
                let method = first.next().unwrap().to_owned();
                let target = first.next().unwrap().to_owned();
                let headers = lines
                    .take_while(|l| !l.is_empty())
                    .map(|l| {
                        let (k, v) = l.split_once(':').unwrap();
                        (k.to_owned(), v.trim().to_owned())
                    })
                    .collect();
                Self {
                    name: path.file_stem().unwrap().to_string_lossy().into_owned(),
                    method,
                    target,
                    headers,
                }
            })
            .collect();
        captures.sort_by(|a, b| a.name.cmp(&b.name));
        assert_eq!(captures.len(), 9, "the nine official SDK captures");
        captures
    }

    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The signing time: V3 `x-acs-date`, else the V1 `Timestamp` parameter.
    pub(crate) fn time(&self) -> OffsetDateTime {
        let text = match self.header("x-acs-date") {
            Some(date) => date.to_owned(),
            None => {
                let query = self.target.split_once('?').unwrap().1;
                ecs_sign::parse_query(query)
                    .unwrap()
                    .into_iter()
                    .find(|(k, _)| k == "Timestamp")
                    .unwrap()
                    .1
            }
        };
        ecs_sign::parse_timestamp(&text).unwrap()
    }

    pub(crate) fn is_sts(&self) -> bool {
        self.name.ends_with("_sts")
    }

    /// The request exactly as recorded (headers in their order and case).
    pub(crate) fn request(&self) -> Request<Full<Bytes>> {
        let mut builder = Request::builder()
            .method(self.method.as_str())
            .uri(self.target.as_str());
        for (k, v) in &self.headers {
            builder = builder.header(k.as_str(), v.as_str());
        }
        builder.body(Full::new(Bytes::new())).unwrap()
    }
}

/// The STS token the captures were recorded with.
pub(crate) const CAPTURE_TOKEN: &str =
    "CAIS+gF1q6Ft5B2yfSjIr5bSEsr/gu1n1vOGaGrw0GE9Zd5/2pWTsjz2IHhMeXJoA+4dsvs=/w";

/// Signs `params` with V1 as a client would and builds the request.
pub(crate) fn v1_request(
    addr: SocketAddr,
    params: &[(&str, &str)],
    format: &str,
    credentials: &Credentials,
    time: OffsetDateTime,
    nonce: &str,
) -> Request<Full<Bytes>> {
    v1_request_for(
        addr,
        "DescribeInvocationResults",
        "2014-05-26",
        params,
        format,
        credentials,
        time,
        nonce,
    )
}

#[allow(clippy::too_many_arguments)]
pub(crate) fn v1_request_for(
    addr: SocketAddr,
    action: &str,
    version: &str,
    params: &[(&str, &str)],
    format: &str,
    credentials: &Credentials,
    time: OffsetDateTime,
    nonce: &str,
) -> Request<Full<Bytes>> {
    let request = rpc_v1::RpcV1Request::new("POST", action, version, params).with_format(format);
    let signed = rpc_v1::sign(&request, credentials, time, nonce).unwrap();
    Request::builder()
        .method("POST")
        .uri(format!("/?{}", ecs_sign::encode_query(&signed)))
        .header("host", addr.to_string())
        .body(Full::new(Bytes::new()))
        .unwrap()
}

/// Signs `params` with V3 as a client would and builds the request.
pub(crate) fn v3_request(
    addr: SocketAddr,
    params: &[(&str, &str)],
    accept: &str,
    credentials: &Credentials,
    time: OffsetDateTime,
    nonce: &str,
) -> Request<Full<Bytes>> {
    let host = addr.to_string();
    let headers = [
        ("x-acs-action", "DescribeInvocationResults"),
        ("x-acs-version", "2014-05-26"),
        ("accept", accept),
    ];
    let request = acs3::Acs3Request::new("POST", &host, "/")
        .with_query(params)
        .with_headers(&headers);
    let added = acs3::sign(
        &request,
        credentials,
        time,
        nonce,
        &acs3::SignedHeaders::Default,
    )
    .unwrap();
    let mut builder = Request::builder()
        .method("POST")
        .uri(format!("/?{}", ecs_sign::encode_query(params)))
        .header("host", host.as_str());
    for (k, v) in headers
        .iter()
        .map(|(k, v)| (*k, *v))
        .chain(added.iter().map(|(k, v)| (*k, v.as_ref())))
    {
        builder = builder.header(k, v);
    }
    builder.body(Full::new(Bytes::new())).unwrap()
}
