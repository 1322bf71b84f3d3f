//! Answers written by hand, served byte for byte by a small server, through
//! the `ecs-assist` binary: the API page's own examples (every result comes
//! out), a server going round in a long cycle (stopped before a result is
//! printed twice), and which failures are retried.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{Read as _, Write as _};
use std::net::TcpListener;

use support::{clean_command, output};

#[allow(dead_code)] // This binary uses only some of the shared helpers.
mod support;

const SEED_XML: &[u8] = include_bytes!("../../ecs-model/tests/data/seed_response.xml");
const SEED_JSON: &[u8] = include_bytes!("../../ecs-model/tests/data/seed_response.json");

/// The outputs of the five results, in order: records 4 and 5 repeat the
/// `InvokeId` and `InstanceId` of records 1 and 2 (history runs, no
/// `Repeats`) and differ in their times and output.
const OUTPUTS: [&str; 5] = ["15:45:01\n", "", "15:30:01\n", "", "15:15:01\n"];

/// One answer of a canned server.
struct Answer {
    status: u16,
    /// Header lines, `content-type` among them.
    headers: Vec<String>,
    body: Vec<u8>,
}

impl Answer {
    fn ok(content_type: &str, body: impl Into<Vec<u8>>) -> Self {
        Self {
            status: 200,
            headers: vec![format!("content-type: {content_type}")],
            body: body.into(),
        }
    }

    /// An error document of the service.
    fn error(status: u16, code: &str) -> Self {
        Self {
            status,
            headers: vec!["content-type: application/json".to_owned()],
            body: format!(r#"{{"RequestId":"R-{code}","Code":"{code}","Message":"m"}}"#).into(),
        }
    }

    fn header(mut self, line: &str) -> Self {
        self.headers.push(line.to_owned());
        self
    }
}

/// Answers the `n`th request (from 0) with what `answer` gives for it and its
/// query (the request target's query and a form body, joined with `&`), on a
/// thread, until the process ends; returns the base URL.
fn serve(answer: impl Fn(usize, &str) -> Answer + Send + 'static) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for (n, stream) in listener.incoming().enumerate() {
            let Ok(mut stream) = stream else { return };
            let mut head = Vec::new();
            let mut byte = [0u8; 1];
            while !head.ends_with(b"\r\n\r\n") {
                match stream.read(&mut byte) {
                    Ok(1) => head.push(byte[0]),
                    _ => break,
                }
            }
            let head = String::from_utf8_lossy(&head).into_owned();
            let length: usize = head
                .lines()
                .filter_map(|line| line.split_once(':'))
                .find(|(name, _)| name.eq_ignore_ascii_case("content-length"))
                .and_then(|(_, value)| value.trim().parse().ok())
                .unwrap_or(0);
            let mut body = vec![0u8; length];
            if stream.read_exact(&mut body).is_err() {
                continue;
            }
            let target = head.split(' ').nth(1).unwrap_or_default();
            let query = target.split_once('?').map_or("", |(_, q)| q);
            let query = format!("{query}&{}", String::from_utf8_lossy(&body));
            let answer = answer(n, &query);
            let mut head = format!("HTTP/1.1 {} X\r\n", answer.status);
            for line in &answer.headers {
                head.push_str(line);
                head.push_str("\r\n");
            }
            head.push_str(&format!(
                "content-length: {}\r\nconnection: close\r\n\r\n",
                answer.body.len()
            ));
            let _ = stream.write_all(head.as_bytes());
            let _ = stream.write_all(&answer.body);
        }
    });
    url
}

/// The binary with any credentials, pointed at `url`.
fn cli(url: &str) -> std::process::Command {
    let mut cmd = clean_command();
    cmd.env("ALIBABA_CLOUD_ACCESS_KEY_ID", "AnyKeyId")
        .env("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "AnySecret")
        .args(["--endpoint", url, "--region", "cn-hangzhou"]);
    cmd
}

#[test]
fn every_result_of_the_api_pages_examples_is_printed() {
    for (content_type, body) in [
        ("text/xml;charset=utf-8", SEED_XML),
        ("application/json;charset=utf-8", SEED_JSON),
    ] {
        let url = serve(move |_, _| Answer::ok(content_type, body));
        let out = output(cli(&url).args(["--output", "ndjson", "results", "--invoke-id", "t-x"]));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{content_type}: {stderr}");
        let records: Vec<serde_json::Value> = String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .map(|line| serde_json::from_str(line).unwrap())
            .collect();
        let outputs: Vec<&str> = records
            .iter()
            .map(|r| r["Output"].as_str().unwrap())
            .collect();
        assert_eq!(outputs, OUTPUTS, "{content_type}");
    }
}

#[test]
fn a_server_going_round_5000_tokens_is_stopped_before_a_result_repeats() {
    // Token `k<i>` answers instance `i-<i>` and hands out `k<i+1>`, and the
    // last page hands out `k0`, which serves the first page again: a cycle
    // longer than any window of recent results or tokens.
    const CYCLE: usize = 5_000;
    let url = serve(|_, query| {
        let at: usize = query
            .split('&')
            .find_map(|pair| pair.strip_prefix("NextToken=k"))
            .map_or(0, |i| i.parse().unwrap());
        let body = format!(
            r#"{{"RequestId":"r","Invocation":{{"NextToken":"k{}","InvocationResults":{{"InvocationResult":[{{"InvokeId":"t-x","InstanceId":"i-{at}","Output":""}}]}}}}}}"#,
            (at + 1) % CYCLE
        );
        Answer::ok("application/json", body)
    });
    let out = output(cli(&url).args(["--output", "ndjson", "results", "--invoke-id", "t-x"]));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("the service did not advance"), "{stderr}");
    let instances: Vec<String> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|line| {
            let record: serde_json::Value = serde_json::from_str(line).unwrap();
            record["InstanceId"].as_str().unwrap().to_owned()
        })
        .collect();
    let unique: std::collections::HashSet<&String> = instances.iter().collect();
    assert_eq!(instances.len(), CYCLE, "every instance once, none twice");
    assert_eq!(unique.len(), CYCLE);
}

/// A server that fails the first request with `first` and then answers one
/// result; returns what the binary printed and how many requests it sent.
fn fail_once(first: Answer) -> (std::process::Output, usize) {
    let count = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let seen = count.clone();
    let first = std::sync::Mutex::new(Some(first));
    let url = serve(move |n, _| {
        seen.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        match first.lock().unwrap().take() {
            Some(answer) if n == 0 => answer,
            _ => Answer::ok(
                "application/json",
                r#"{"RequestId":"R-OK","Invocation":{"InvocationResults":{"InvocationResult":[{"InvokeId":"t-x","InstanceId":"i-1","Output":""}]}}}"#,
            ),
        }
    });
    let out = output(cli(&url).args(["--output", "ndjson", "results", "--invoke-id", "t-x"]));
    (out, count.load(std::sync::atomic::Ordering::SeqCst))
}

#[test]
fn a_5xx_with_an_unfamiliar_code_is_retried() {
    for status in [500, 502, 503, 504] {
        let (out, requests) = fail_once(Answer::error(status, "Gateway.Upstream.Timeout"));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{status}: {stderr}");
        assert_eq!(requests, 2, "{status}");
        assert!(String::from_utf8_lossy(&out.stdout).contains("i-1"));
    }
}

#[test]
fn a_final_error_with_x_acs_retry_after_is_sent_once() {
    let (out, requests) =
        fail_once(Answer::error(403, "Forbidden.RAM").header("x-acs-retry-after: 5000"));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("Forbidden.RAM"), "{stderr}");
    assert_eq!(requests, 1, "not retried, not waited for");
}
