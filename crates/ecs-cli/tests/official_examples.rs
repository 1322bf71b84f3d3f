//! The API page's own response examples, served byte for byte by a canned
//! server, through the `ecs-assist` binary: every result comes out.

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

/// Serves `body` with `content_type` to every request, on a thread, until
/// the process ends; returns the base URL.
fn canned(content_type: &'static str, body: &'static [u8]) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let mut head = Vec::new();
            let mut byte = [0u8; 1];
            while !head.ends_with(b"\r\n\r\n") {
                match stream.read(&mut byte) {
                    Ok(1) => head.push(byte[0]),
                    _ => break,
                }
            }
            let answer = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                body.len()
            );
            let _ = stream.write_all(answer.as_bytes());
            let _ = stream.write_all(body);
        }
    });
    url
}

#[test]
fn every_result_of_the_api_pages_examples_is_printed() {
    for (content_type, body) in [
        ("text/xml;charset=utf-8", SEED_XML),
        ("application/json;charset=utf-8", SEED_JSON),
    ] {
        let url = canned(content_type, body);
        let out = output(
            clean_command()
                .env("ALIBABA_CLOUD_ACCESS_KEY_ID", "AnyKeyId")
                .env("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "AnySecret")
                .args(["--endpoint", &url, "--region", "cn-hangzhou"])
                .args(["--output", "ndjson", "results", "--invoke-id", "t-x"]),
        );
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
