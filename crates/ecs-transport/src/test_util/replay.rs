//! [`StaticReplayTransport`]: answers from recorded request/response pairs,
//! in order, and reports how a request differs from the recording.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;

use bytes::Bytes;

use super::{StoredResponse, copy_request, lock};
use crate::{BlockingTransport, Transport, TransportError, TransportErrorKind, TransportFuture};

/// Headers that change on every signed request and are not compared.
const SIGNATURE_HEADERS: &[&str] = &[
    "authorization",
    "x-acs-signature-nonce",
    "x-acs-date",
    "x-acs-content-sha256",
];

/// Query parameters that change on every signed request and are not compared.
const SIGNATURE_QUERY_PARAMS: &[&str] = &["Signature", "SignatureNonce", "Timestamp"];

/// The longest body excerpt shown in a difference.
const BODY_EXCERPT: usize = 160;

/// One recorded exchange: the request expected and the response to give.
#[derive(Debug)]
pub struct ReplayEvent {
    request: http::Request<Bytes>,
    response: StoredResponse,
}

impl ReplayEvent {
    /// Pairs the `request` expected with the `response` to answer it with.
    pub fn new(request: http::Request<Bytes>, response: http::Response<Bytes>) -> Self {
        Self {
            request,
            response: StoredResponse::from_response(response),
        }
    }

    /// The request this event expects.
    pub fn request(&self) -> &http::Request<Bytes> {
        &self.request
    }
}

/// A transport that answers from recorded request/response pairs, in order.
///
/// Each request is compared with the next recorded one on its method, path,
/// query parameters (in any order, percent-decoded), headers and body. The
/// parts a signature changes on every call are ignored: the headers
/// `authorization`, `x-acs-signature-nonce`, `x-acs-date` and
/// `x-acs-content-sha256`, and the query parameters `Signature`,
/// `SignatureNonce` and `Timestamp`; more can be ignored with
/// [`ignore_header`](Self::ignore_header) and
/// [`ignore_query_param`](Self::ignore_query_param). Scheme and host are not
/// compared, so a recording works against any endpoint.
///
/// A request that does not match gets an error whose message lists every
/// difference, and still uses up its event. Call
/// [`assert_all_used`](Self::assert_all_used) at the end of a test to check
/// that every event was used and matched.
///
/// # Example
///
/// ```
/// use bytes::Bytes;
/// use ecs_transport::BlockingTransport;
/// use ecs_transport::test_util::{ReplayEvent, StaticReplayTransport};
///
/// let recorded = http::Request::post("https://ecs.example/?Action=DescribeInvocationResults&InvokeId=t-1")
///     .body(Bytes::new())
///     .unwrap();
/// let replay = StaticReplayTransport::new([ReplayEvent::new(
///     recorded,
///     http::Response::new(Bytes::from_static(b"{}")),
/// )]);
///
/// // Same request, parameters in another order, freshly signed: it matches.
/// let sent = http::Request::post("http://127.0.0.1:8080/?InvokeId=t-1&Action=DescribeInvocationResults&Signature=abc")
///     .body(Bytes::new())
///     .unwrap();
/// let response = BlockingTransport::send(&replay, sent).unwrap();
/// assert_eq!(response.body().as_ref(), b"{}");
/// replay.assert_all_used();
/// ```
#[derive(Debug)]
pub struct StaticReplayTransport {
    events: Vec<ReplayEvent>,
    ignored_headers: Vec<String>,
    ignored_query_params: Vec<String>,
    state: Mutex<ReplayState>,
}

#[derive(Debug, Default)]
struct ReplayState {
    next: usize,
    requests: Vec<http::Request<Bytes>>,
    mismatches: Vec<String>,
}

impl StaticReplayTransport {
    /// A transport that replays `events` in order.
    pub fn new(events: impl IntoIterator<Item = ReplayEvent>) -> Self {
        Self {
            events: events.into_iter().collect(),
            ignored_headers: SIGNATURE_HEADERS.iter().map(|h| (*h).to_owned()).collect(),
            ignored_query_params: SIGNATURE_QUERY_PARAMS
                .iter()
                .map(|p| (*p).to_owned())
                .collect(),
            state: Mutex::new(ReplayState::default()),
        }
    }

    /// Also ignores the header `name` (compared without regard to case), for
    /// instance `user-agent`.
    #[must_use]
    pub fn ignore_header(mut self, name: impl AsRef<str>) -> Self {
        self.ignored_headers
            .push(name.as_ref().to_ascii_lowercase());
        self
    }

    /// Also ignores the query parameter `name` (compared exactly).
    #[must_use]
    pub fn ignore_query_param(mut self, name: impl Into<String>) -> Self {
        self.ignored_query_params.push(name.into());
        self
    }

    /// How many events were used so far.
    pub fn used(&self) -> usize {
        lock(&self.state).next
    }

    /// How many events are left.
    pub fn remaining(&self) -> usize {
        self.events.len().saturating_sub(self.used())
    }

    /// Copies of the requests received so far, oldest first.
    pub fn actual_requests(&self) -> Vec<http::Request<Bytes>> {
        lock(&self.state)
            .requests
            .iter()
            .map(copy_request)
            .collect()
    }

    /// `Ok` when every event was used and every request matched; otherwise a
    /// description of each problem.
    ///
    /// # Errors
    ///
    /// A message listing the mismatched requests and the number of unused
    /// events.
    pub fn check_all_used(&self) -> Result<(), String> {
        let state = lock(&self.state);
        let mut problems = state.mismatches.clone();
        let unused = self.events.len().saturating_sub(state.next);
        if unused > 0 {
            problems.push(format!(
                "{unused} of {} recorded events were never requested (the first unused is \
                 event {}: {} {})",
                self.events.len(),
                state.next + 1,
                self.events[state.next].request.method(),
                self.events[state.next].request.uri()
            ));
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems.join("\n"))
        }
    }

    /// Panics, with every problem listed, unless every event was used and
    /// every request matched. Meant for the end of a test.
    #[track_caller]
    pub fn assert_all_used(&self) {
        if let Err(problems) = self.check_all_used() {
            panic!("the replay was not fully and correctly used:\n{problems}");
        }
    }

    fn answer(
        &self,
        request: http::Request<Bytes>,
    ) -> Result<http::Response<Bytes>, TransportError> {
        let mut state = lock(&self.state);
        let index = state.next;
        state.requests.push(copy_request(&request));
        let Some(event) = self.events.get(index) else {
            let message = format!(
                "request {} ({} {}) has no recorded response: the recording holds {} events \
                 and all were used",
                index + 1,
                request.method(),
                request.uri(),
                self.events.len()
            );
            state.mismatches.push(message.clone());
            return Err(TransportError::new(TransportErrorKind::Other, message));
        };
        state.next += 1;
        let differences = self.differences(&event.request, &request);
        if differences.is_empty() {
            return Ok(event.response.to_response());
        }
        let message = format!(
            "request {} does not match the recording: {}",
            index + 1,
            differences.join("; ")
        );
        state.mismatches.push(message.clone());
        Err(TransportError::new(TransportErrorKind::Other, message))
    }

    /// Every difference between the expected and the actual request, each as
    /// one line.
    fn differences(
        &self,
        expected: &http::Request<Bytes>,
        actual: &http::Request<Bytes>,
    ) -> Vec<String> {
        let mut out = Vec::new();
        if expected.method() != actual.method() {
            out.push(format!(
                "method: expected {}, got {}",
                expected.method(),
                actual.method()
            ));
        }
        if expected.uri().path() != actual.uri().path() {
            out.push(format!(
                "path: expected `{}`, got `{}`",
                expected.uri().path(),
                actual.uri().path()
            ));
        }
        let query = |request: &http::Request<Bytes>| {
            let mut params: BTreeMap<String, Vec<String>> = BTreeMap::new();
            for (name, value) in parse_query(request.uri().query().unwrap_or("")) {
                if !self.ignored_query_params.contains(&name) {
                    params.entry(name).or_default().push(value);
                }
            }
            params.values_mut().for_each(|values| values.sort());
            params
        };
        diff_maps(
            "query parameter",
            &query(expected),
            &query(actual),
            &mut out,
        );
        let headers = |request: &http::Request<Bytes>| {
            let mut map: BTreeMap<String, Vec<String>> = BTreeMap::new();
            for (name, value) in request.headers() {
                if !self.ignored_headers.iter().any(|h| h == name.as_str()) {
                    map.entry(name.as_str().to_owned())
                        .or_default()
                        .push(String::from_utf8_lossy(value.as_bytes()).into_owned());
                }
            }
            map
        };
        diff_maps("header", &headers(expected), &headers(actual), &mut out);
        if expected.body() != actual.body() {
            out.push(format!(
                "body: expected {} bytes {}, got {} bytes {}",
                expected.body().len(),
                excerpt(expected.body()),
                actual.body().len(),
                excerpt(actual.body())
            ));
        }
        out
    }
}

fn diff_maps(
    what: &str,
    expected: &BTreeMap<String, Vec<String>>,
    actual: &BTreeMap<String, Vec<String>>,
    out: &mut Vec<String>,
) {
    for (name, want) in expected {
        match actual.get(name) {
            None => out.push(format!("{what} `{name}`: expected {want:?}, missing")),
            Some(got) if got != want => {
                out.push(format!("{what} `{name}`: expected {want:?}, got {got:?}"));
            }
            Some(_) => {}
        }
    }
    for (name, got) in actual {
        if !expected.contains_key(name) {
            out.push(format!("{what} `{name}`: not expected, got {got:?}"));
        }
    }
}

/// The body as quoted lossy text, cut to [`BODY_EXCERPT`] characters.
fn excerpt(body: &Bytes) -> String {
    let text = String::from_utf8_lossy(body);
    let mut out = String::new();
    let mut chars = text.chars();
    for c in chars.by_ref().take(BODY_EXCERPT) {
        out.push(c);
    }
    let mut quoted = format!("{out:?}");
    if chars.next().is_some() {
        let _ = write!(quoted, "...");
    }
    quoted
}

/// Splits a query string into percent-decoded `(name, value)` pairs; `+` is
/// kept as is because the API encodes a space as `%20`.
fn parse_query(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(name), percent_decode(value))
        })
        .collect()
}

fn percent_decode(input: &str) -> String {
    let bytes = input.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| char::from(b).to_digit(16);
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let (Some(hi), Some(lo)) = (hex(bytes[i + 1]), hex(bytes[i + 2]))
        {
            // Two hex digits always fit in a byte.
            out.push(u8::try_from(hi * 16 + lo).unwrap_or(b'?'));
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

impl Transport for StaticReplayTransport {
    fn send(&self, request: http::Request<Bytes>) -> TransportFuture<'_> {
        let result = self.answer(request);
        Box::pin(std::future::ready(result))
    }
}

impl BlockingTransport for StaticReplayTransport {
    fn send(&self, request: http::Request<Bytes>) -> Result<http::Response<Bytes>, TransportError> {
        self.answer(request)
    }
}

impl crate::StreamingTransport for StaticReplayTransport {
    fn send_streaming(&self, request: http::Request<Bytes>) -> crate::StreamingFuture<'_> {
        let result = self
            .answer(request)
            .map(|response| response.map(crate::BodyStream::from_bytes));
        Box::pin(std::future::ready(result))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_decoding() {
        assert_eq!(percent_decode("a%20b"), "a b");
        assert_eq!(percent_decode("%3A%2f"), ":/");
        assert_eq!(percent_decode("100%"), "100%");
        assert_eq!(percent_decode("%4"), "%4");
        assert_eq!(percent_decode("%zz"), "%zz");
        assert_eq!(percent_decode("a+b"), "a+b");
        assert_eq!(percent_decode("%E4%BD%A0"), "你");
    }

    #[test]
    fn query_parsing() {
        assert_eq!(
            parse_query("a=1&b=&c&&Tag.1.Key=k%201"),
            vec![
                ("a".to_owned(), "1".to_owned()),
                ("b".to_owned(), String::new()),
                ("c".to_owned(), String::new()),
                ("Tag.1.Key".to_owned(), "k 1".to_owned()),
            ]
        );
    }

    #[test]
    fn excerpt_is_cut() {
        let long = Bytes::from(vec![b'x'; 500]);
        let cut = excerpt(&long);
        assert!(cut.ends_with("\"..."), "{cut}");
        assert_eq!(cut.len(), BODY_EXCERPT + 2 + 3);
        assert_eq!(excerpt(&Bytes::from_static(b"ab")), "\"ab\"");
    }
}
