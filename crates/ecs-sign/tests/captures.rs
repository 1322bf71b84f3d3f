//! The 9 raw requests recorded from the official Python SDKs
//! (`tests/data/captures/*.http`; the end-to-end tests send them to the
//! emulator too) verify
//! with the known secret, and fail with a wrong secret, a changed parameter
//! and a changed signed part.

// Test code may unwrap: a panic is a failure with a location (common rules).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

use ecs_sign::{SignatureVersion, VerifyError, acs3, rpc_v1};

const SECRET: &str = "testAccessKeySecret";
const TOKEN: &str = "CAIS+gF1q6Ft5B2yfSjIr5bSEsr/gu1n1vOGaGrw0GE9Zd5/2pWTsjz2IHhMeXJoA+4dsvs=/w";

type Pairs = Vec<(String, String)>;

/// A recorded request: request line, headers, blank line, body.
struct Capture {
    name: String,
    method: String,
    path: String,
    raw_query: String,
    headers: Pairs,
    body: Vec<u8>,
}

fn parse(name: &str, bytes: &[u8]) -> Capture {
    let split = bytes
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("{name}: no blank line"));
    let head = std::str::from_utf8(&bytes[..split]).unwrap();
    let body = bytes[split + 4..].to_vec();
    let mut lines = head.split("\r\n");
    let request_line = lines.next().unwrap();
    let mut parts = request_line.split(' ');
    let method = parts.next().unwrap().to_owned();
    let target = parts.next().unwrap();
    assert_eq!(parts.next(), Some("HTTP/1.1"), "{name}");
    let (path, raw_query) = target.split_once('?').unwrap_or((target, ""));
    let headers = lines
        .map(|line| {
            let (k, v) = line.split_once(':').unwrap();
            (k.to_owned(), v.trim().to_owned())
        })
        .collect();
    Capture {
        name: name.to_owned(),
        method,
        path: path.to_owned(),
        raw_query: raw_query.to_owned(),
        headers,
        body,
    }
}

fn captures() -> Vec<Capture> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/captures");
    let mut out: Vec<Capture> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "http"))
        .map(|p| {
            let name = p.file_stem().unwrap().to_str().unwrap().to_owned();
            parse(&name, &std::fs::read(&p).unwrap())
        })
        .collect();
    out.sort_by(|a, b| a.name.cmp(&b.name));
    assert_eq!(out.len(), 9, "expected the 9 captures");
    out
}

fn lookup_with(secret: &'static str) -> impl Fn(&str) -> Option<&'static str> {
    move |id: &str| (id == "testAccessKeyId").then_some(secret)
}

fn is_v3(c: &Capture) -> bool {
    c.headers
        .iter()
        .any(|(k, _)| k.eq_ignore_ascii_case("authorization"))
}

fn verify(
    c: &Capture,
    query: &Pairs,
    headers: &Pairs,
    secret: &'static str,
) -> Result<ecs_sign::Verified, VerifyError> {
    if is_v3(c) {
        acs3::verify(
            &c.method,
            &c.path,
            query,
            headers,
            &c.body,
            lookup_with(secret),
        )
    } else {
        rpc_v1::verify(&c.method, query, lookup_with(secret))
    }
}

fn with_param(query: &Pairs, name: &str, f: impl Fn(&str) -> String) -> Pairs {
    let mut changed = false;
    let out = query
        .iter()
        .map(|(k, v)| {
            if k == name {
                changed = true;
                (k.clone(), f(v))
            } else {
                (k.clone(), v.clone())
            }
        })
        .collect();
    assert!(changed, "parameter {name} not found");
    out
}

fn with_header(headers: &Pairs, name: &str, value: &str) -> Pairs {
    let out: Pairs = headers
        .iter()
        .map(|(k, v)| {
            if k.eq_ignore_ascii_case(name) {
                (k.clone(), value.to_owned())
            } else {
                (k.clone(), v.clone())
            }
        })
        .collect();
    assert_ne!(&out, headers, "header {name} not found");
    out
}

#[test]
fn every_capture_verifies_with_the_known_secret() {
    for c in captures() {
        let query = ecs_sign::parse_query(&c.raw_query).unwrap();
        let v =
            verify(&c, &query, &c.headers, SECRET).unwrap_or_else(|e| panic!("{}: {e}", c.name));
        assert_eq!(v.access_key_id(), "testAccessKeyId", "{}", c.name);
        let sts = c.name.ends_with("_sts");
        assert_eq!(v.security_token(), sts.then_some(TOKEN), "{}", c.name);
        let want_version = if is_v3(&c) {
            SignatureVersion::V3
        } else {
            SignatureVersion::V1
        };
        assert_eq!(v.version(), want_version, "{}", c.name);
        assert_eq!(v.nonce().len(), 32, "{}", c.name);
        assert_eq!(v.timestamp().date().to_string(), "2026-11-26", "{}", c.name);
        // The convenience entry point for raw V1 queries agrees.
        if !is_v3(&c) {
            let again =
                rpc_v1::verify_query(&c.method, &c.raw_query, None, lookup_with(SECRET)).unwrap();
            assert_eq!(again, v, "{}", c.name);
        }
    }
}

#[test]
fn form_encoded_spaces_are_accepted() {
    // tea sends `prod+test` but signed `prod%20test`
    // (docs/api/describe-invocation-results.md#query-encoding).
    let c = captures()
        .into_iter()
        .find(|c| c.name == "tea_v3_all_params")
        .unwrap();
    assert!(c.raw_query.contains("Tag.1.Value=prod+test"));
    let query = ecs_sign::parse_query(&c.raw_query).unwrap();
    assert!(query.contains(&("Tag.1.Value".into(), "prod test".into())));
    assert!(verify(&c, &query, &c.headers, SECRET).is_ok());
}

#[test]
fn every_capture_fails_with_a_wrong_secret() {
    for c in captures() {
        let query = ecs_sign::parse_query(&c.raw_query).unwrap();
        let e = verify(&c, &query, &c.headers, "testAccessKeySecreT").unwrap_err();
        assert!(e.is_signature_mismatch(), "{}: {e:?}", c.name);
        let sts = e.string_to_sign().unwrap();
        if is_v3(&c) {
            assert!(sts.starts_with("ACS3-HMAC-SHA256\n"), "{}", c.name);
        } else {
            assert!(
                sts.starts_with("POST&%2F&AccessKeyId%3DtestAccessKeyId"),
                "{}",
                c.name
            );
        }
    }
}

#[test]
fn every_capture_fails_with_a_changed_parameter() {
    for c in captures() {
        let query = ecs_sign::parse_query(&c.raw_query).unwrap();
        let changed = with_param(&query, "InvokeId", |v| format!("{v}0"));
        let e = verify(&c, &changed, &c.headers, SECRET).unwrap_err();
        assert!(e.is_signature_mismatch(), "{}: {e:?}", c.name);
        // Dropping a parameter breaks it too.
        let fewer: Pairs = query
            .iter()
            .filter(|p| p.0 != "InstanceId")
            .cloned()
            .collect();
        let e = verify(&c, &fewer, &c.headers, SECRET).unwrap_err();
        assert!(e.is_signature_mismatch(), "{}: {e:?}", c.name);
    }
}

#[test]
fn every_capture_fails_with_a_changed_signed_part() {
    for c in captures() {
        let query = ecs_sign::parse_query(&c.raw_query).unwrap();
        if is_v3(&c) {
            // Every header the tea SDK set is signed: user-agent, accept, the
            // date (still well-formed) and the nonce.
            for (name, value) in [
                ("user-agent", "curl/8"),
                ("accept", "application/xml"),
                ("x-acs-date", "2026-11-26T05:02:39Z"),
                ("x-acs-signature-nonce", "00000000000000000000000000000000"),
                ("x-acs-action", "DescribeInstances"),
                ("host", "127.0.0.1:18082"),
            ] {
                let headers = with_header(&c.headers, name, value);
                let e = verify(&c, &query, &headers, SECRET).unwrap_err();
                assert!(e.is_signature_mismatch(), "{} {name}: {e:?}", c.name);
            }
            // An unsigned header may change freely.
            let headers = with_header(&c.headers, "accept-encoding", "gzip");
            assert!(verify(&c, &query, &headers, SECRET).is_ok(), "{}", c.name);
        } else {
            // V1 signs no header: the signed parts are the common
            // parameters.
            for name in ["SignatureNonce", "Timestamp", "Action", "Format"] {
                let changed = with_param(&query, name, |v| {
                    if name == "Timestamp" {
                        v.replace(":3", ":4")
                    } else {
                        format!("{v}x")
                    }
                });
                let e = verify(&c, &changed, &c.headers, SECRET).unwrap_err();
                assert!(e.is_signature_mismatch(), "{} {name}: {e:?}", c.name);
            }
            let headers = with_header(&c.headers, "x-acs-action", "DescribeInstances");
            assert!(verify(&c, &query, &headers, SECRET).is_ok(), "{}", c.name);
        }
    }
}
