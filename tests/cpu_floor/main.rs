//! The floor of `cargo xtask bench`'s client CPU figures: the least work a
//! client paging `DescribeInvocationResults` can do. Requests signed before
//! the loop (V1, from a list of `NextToken`s saved by a first walk), sent one
//! after another on one keep-alive hyper-util connection, each body only
//! scanned by serde (`IgnoredAny`: the JSON is checked, nothing is built).
//! The harness measures this process's CPU from outside and compares the
//! client's with it.
//!
//! ```text
//! cpu-floor tokens URL > tokens.txt      # walk once, print each page's NextToken
//! cpu-floor replay URL tokens.txt        # the measured loop
//! ```
//!
//! Both print one JSON object: `{"pages": P, "bytes": B}`.

#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::process::ExitCode;

use bytes::Bytes;
use ecs_sign::{Credentials, SystemTimeSource, TimeSource as _, rpc_v1};
use http_body_util::{BodyExt as _, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

/// The emulator's published demo key.
const KEY_ID: &str = "EmulatorAccessKeyId";
const KEY_SECRET: &str = "EmulatorAccessKeySecret";
/// Results a page, as the other probes ask for.
const PAGE: &str = "50";

type HttpClient = Client<hyper_util::client::legacy::connect::HttpConnector, Full<Bytes>>;

/// A signed request for the page after `token` (the first page without).
fn request(
    url: &str,
    token: Option<&str>,
    nonce: &str,
) -> Result<http::Request<Full<Bytes>>, String> {
    let creds = Credentials::new(KEY_ID, KEY_SECRET).map_err(|e| e.to_string())?;
    let mut params = vec![("RegionId", "cn-hangzhou"), ("MaxResults", PAGE)];
    if let Some(token) = token {
        params.push(("NextToken", token));
    }
    let unsigned =
        rpc_v1::RpcV1Request::new("POST", "DescribeInvocationResults", "2014-05-26", &params);
    let signed = rpc_v1::sign(&unsigned, &creds, SystemTimeSource.now(), nonce)
        .map_err(|e| e.to_string())?;
    http::Request::builder()
        .method("POST")
        .uri(format!("{url}/?{}", ecs_sign::encode_query(&signed)))
        .body(Full::new(Bytes::new()))
        .map_err(|e| e.to_string())
}

/// Sends one request and returns its body (an error unless 200).
async fn send(client: &HttpClient, request: http::Request<Full<Bytes>>) -> Result<Bytes, String> {
    let response = client.request(request).await.map_err(|e| e.to_string())?;
    let status = response.status();
    let body = response
        .into_body()
        .collect()
        .await
        .map_err(|e| e.to_string())?
        .to_bytes();
    if status != http::StatusCode::OK {
        return Err(format!("HTTP {status}: {}", String::from_utf8_lossy(&body)));
    }
    Ok(body)
}

/// Walks every page once and prints each `NextToken`, one a line.
async fn tokens(client: &HttpClient, url: &str) -> Result<(u64, u64), String> {
    let (mut token, mut pages, mut bytes) = (None::<String>, 0u64, 0u64);
    loop {
        let body = send(
            client,
            request(url, token.as_deref(), &format!("walk-{pages}"))?,
        )
        .await?;
        pages += 1;
        bytes += body.len() as u64;
        match ecs_model::peek_next_token(Some("application/json"), &body) {
            Some(next) if !next.is_empty() => {
                println!("{next}");
                token = Some(next.to_owned());
            }
            _ => return Ok((pages, bytes)),
        }
    }
}

/// Sends the pre-signed requests of a saved walk, scanning each body.
async fn replay(client: &HttpClient, url: &str, tokens: &str) -> Result<(u64, u64), String> {
    let first = std::iter::once(None);
    let requests = first
        .chain(tokens.lines().map(Some))
        .enumerate()
        .map(|(i, token)| request(url, token, &format!("floor-{}-{i}", std::process::id())))
        .collect::<Result<Vec<_>, _>>()?;
    let (mut pages, mut bytes) = (0u64, 0u64);
    for request in requests {
        let body = send(client, request).await?;
        serde_json::from_slice::<serde::de::IgnoredAny>(&body).map_err(|e| e.to_string())?;
        pages += 1;
        bytes += body.len() as u64;
    }
    Ok((pages, bytes))
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("cannot start a runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    let client: HttpClient = Client::builder(TokioExecutor::new()).build_http();
    let outcome = runtime.block_on(async {
        match args
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>()
            .as_slice()
        {
            ["tokens", url] => tokens(&client, url).await,
            ["replay", url, file] => {
                let saved = std::fs::read_to_string(file)
                    .map_err(|e| format!("cannot read {file}: {e}"))?;
                replay(&client, url, &saved).await
            }
            _ => Err("usage: cpu-floor tokens URL | cpu-floor replay URL TOKENS_FILE".to_owned()),
        }
    });
    match outcome {
        Ok((pages, bytes)) => {
            let report = serde_json::json!({ "pages": pages, "bytes": bytes });
            if args.first().map(String::as_str) == Some("tokens") {
                eprintln!("{report}");
            } else {
                println!("{report}");
            }
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("cpu-floor: {err}");
            ExitCode::FAILURE
        }
    }
}
