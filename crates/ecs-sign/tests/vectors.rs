//! Known-answer vectors computed by the official SDK's own signing functions
//! (`tests/data/signature-v{1,3}.json`, kept as test data). Each stage is
//! asserted separately, so a failure points at the stage that differs.

// Test code may unwrap: a panic is a failure with a location (common rules).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use ecs_sign::{Credentials, acs3, rpc_v1};
use serde_json::Value;
use time::OffsetDateTime;

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

fn load(name: &str) -> Value {
    let text = std::fs::read_to_string(data(name)).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn s<'a>(v: &'a Value, key: &str) -> &'a str {
    v[key]
        .as_str()
        .unwrap_or_else(|| panic!("field {key} missing in {v}"))
}

/// A JSON object of strings, in file order (serde_json keeps order only
/// with `preserve_order`; order does not matter to the signatures, and the
/// tests compare sets where the wire order would).
fn pairs(v: &Value) -> Vec<(String, String)> {
    v.as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned()))
        .collect()
}

fn time(text: &str) -> OffsetDateTime {
    ecs_sign::parse_timestamp(text).unwrap()
}

/// The V1 common parameters `rpc_v1::sign` sets itself.
const V1_COMMON: [&str; 9] = [
    "Action",
    "Version",
    "Format",
    "Timestamp",
    "SignatureMethod",
    "SignatureVersion",
    "SignatureNonce",
    "AccessKeyId",
    "SecurityToken",
];

#[test]
fn v1_vectors_every_stage() {
    let file = load("signature-v1.json");
    let cases = file["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 16, "signature-v1.json should hold 16 cases");
    for case in cases {
        let name = s(case, "name");
        let input = &case["inputs"];
        let method = s(input, "method");
        let query = pairs(&input["query_params"]);
        let body = pairs(&input["body_params"]);
        let mut all = query.clone();
        all.extend(body.iter().cloned());

        // Stage 1: canonicalized query string.
        let canonical = rpc_v1::canonicalized_query_string(&all);
        assert_eq!(
            canonical,
            s(case, "canonicalized_query_string"),
            "{name}: canonical"
        );
        // Stage 2: string to sign.
        let sts = rpc_v1::string_to_sign(method, &canonical);
        assert_eq!(sts, s(case, "string_to_sign"), "{name}: string to sign");
        // Stage 3: signature.
        assert_eq!(
            s(case, "hmac_key"),
            format!("{}&", s(input, "access_key_secret")),
            "{name}: key"
        );
        let sig = rpc_v1::signature(s(input, "access_key_secret"), &sts);
        assert_eq!(sig, s(case, "signature"), "{name}: signature");

        // Stage 4: the full signer produces the same signed parameter set as
        // the SDK sent, Signature last.
        let get = |k: &str| query.iter().find(|p| p.0 == k).map(|p| p.1.as_str());
        let mut creds =
            Credentials::new(s(input, "access_key_id"), s(input, "access_key_secret")).unwrap();
        if let Some(token) = get("SecurityToken") {
            creds = creds.with_security_token(token).unwrap();
        }
        let api: Vec<(&str, &str)> = query
            .iter()
            .filter(|p| !V1_COMMON.contains(&p.0.as_str()))
            .map(|p| (p.0.as_str(), p.1.as_str()))
            .collect();
        let body_refs: Vec<(&str, &str)> =
            body.iter().map(|p| (p.0.as_str(), p.1.as_str())).collect();
        let request = rpc_v1::RpcV1Request::new(
            method,
            get("Action").unwrap(),
            get("Version").unwrap(),
            &api,
        )
        .with_format(get("Format").unwrap())
        .with_body_params(&body_refs);
        let signed: Vec<(String, String)> = rpc_v1::sign(
            &request,
            &creds,
            time(get("Timestamp").unwrap()),
            get("SignatureNonce").unwrap(),
        )
        .unwrap()
        .into_iter()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
        assert_eq!(
            signed.last().unwrap(),
            &("Signature".to_owned(), s(case, "signature").to_owned()),
            "{name}: Signature last"
        );
        let sent_key = if case.get("sent_query_string_tea").is_some() {
            "sent_query_string_tea"
        } else {
            "sent_query_string_core"
        };
        let mut sent = ecs_sign::parse_query(s(case, sent_key)).unwrap();
        let mut ours = signed.clone();
        sent.sort();
        ours.sort();
        assert_eq!(ours, sent, "{name}: final query (as a set)");
        // The sent body is the form-encoded body parameters.
        let mut sent_body = ecs_sign::parse_query(s(case, "sent_body")).unwrap();
        let mut want_body = body.clone();
        sent_body.sort();
        want_body.sort();
        assert_eq!(sent_body, want_body, "{name}: body");
    }
}

/// Headers the V3 signer adds itself.
const V3_SIGNER: [&str; 4] = [
    "x-acs-date",
    "x-acs-signature-nonce",
    "x-acs-security-token",
    "x-acs-accesskey-id",
];

#[test]
fn v3_vectors_every_stage() {
    let file = load("signature-v3.json");
    let cases = file["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 9, "signature-v3.json should hold 9 cases");
    for case in cases {
        let name = s(case, "name");
        let input = &case["inputs"];
        assert_eq!(s(input, "algorithm"), acs3::ALGORITHM, "{name}");
        let method = s(input, "method");
        let path = s(input, "pathname");
        let query = pairs(&input["query"]);
        let before = pairs(&input["headers_before_signing"]);
        let body = s(input, "body").as_bytes();

        // Stage 0: payload hash.
        let payload = acs3::hashed_payload(body);
        assert_eq!(
            payload,
            s(case, "x_acs_content_sha256"),
            "{name}: payload hash"
        );
        // Stage 1: canonical request over every header present (what the
        // Python SDK signs).
        let mut at_signing = before.clone();
        at_signing.push(("x-acs-content-sha256".into(), payload.clone()));
        let canonical = acs3::canonical_request(
            method,
            path,
            &query,
            &at_signing,
            &acs3::SignedHeaders::AllPresent,
            &payload,
        )
        .unwrap();
        assert_eq!(
            canonical.as_str(),
            s(case, "canonical_request"),
            "{name}: canonical"
        );
        assert_eq!(
            canonical.signed_headers(),
            s(case, "signed_headers"),
            "{name}"
        );
        // Stage 2: string to sign (and the hashed canonical request in it).
        let sts = acs3::string_to_sign(canonical.as_str());
        assert_eq!(sts, s(case, "string_to_sign"), "{name}: string to sign");
        assert!(sts.ends_with(s(case, "hashed_canonical_request")), "{name}");
        // Stage 3: signature and Authorization.
        let sig = acs3::signature(s(input, "access_key_secret"), &sts);
        assert_eq!(sig, s(case, "signature"), "{name}: signature");
        let auth = acs3::authorization(s(input, "access_key_id"), canonical.signed_headers(), &sig);
        assert_eq!(auth, s(case, "authorization"), "{name}: authorization");

        // Stage 4: the full signer. It adds date, nonce, content hash and the
        // STS pair itself; `host` goes in the request's host field.
        let header = |k: &str| before.iter().find(|p| p.0 == k).map(|p| p.1.as_str());
        let mut creds =
            Credentials::new(s(input, "access_key_id"), s(input, "access_key_secret")).unwrap();
        if let Some(token) = header("x-acs-security-token") {
            creds = creds.with_security_token(token).unwrap();
        }
        let own: Vec<(&str, &str)> = before
            .iter()
            .filter(|p| !V3_SIGNER.contains(&p.0.as_str()) && p.0 != "host")
            .map(|p| (p.0.as_str(), p.1.as_str()))
            .collect();
        let query_refs: Vec<(&str, &str)> =
            query.iter().map(|p| (p.0.as_str(), p.1.as_str())).collect();
        let request = acs3::Acs3Request::new(method, header("host").unwrap(), path)
            .with_query(&query_refs)
            .with_headers(&own)
            .with_body(body);
        // Every header present is host/content-type/x-acs-* except in
        // full_sdk_header_set, where only AllPresent matches the SDK.
        let modes: &[acs3::SignedHeaders<'_>] = if name == "full_sdk_header_set" {
            &[acs3::SignedHeaders::AllPresent]
        } else {
            &[
                acs3::SignedHeaders::AllPresent,
                acs3::SignedHeaders::Default,
            ]
        };
        for mode in modes {
            let added = acs3::sign(
                &request,
                &creds,
                time(header("x-acs-date").unwrap()),
                header("x-acs-signature-nonce").unwrap(),
                mode,
            )
            .unwrap();
            let (last_name, last_value) = added.last().unwrap();
            assert_eq!(*last_name, "Authorization", "{name} {mode:?}");
            assert_eq!(
                last_value,
                s(case, "authorization"),
                "{name} {mode:?}: Authorization"
            );
            let mut sent: BTreeMap<String, String> = own
                .iter()
                .map(|&(k, v)| (k.to_owned(), v.to_owned()))
                .collect();
            sent.insert("host".into(), header("host").unwrap().into());
            sent.extend(
                added
                    .into_iter()
                    .map(|(k, v)| (k.to_owned(), v.into_owned())),
            );
            let want: BTreeMap<String, String> = pairs(&case["headers_sent"]).into_iter().collect();
            assert_eq!(sent, want, "{name} {mode:?}: final headers");
        }
        // The tea SDK's wire query decodes to the signed parameters.
        let mut wire = ecs_sign::parse_query(s(case, "sent_query_string_tea")).unwrap();
        let mut want = query.clone();
        wire.sort();
        want.sort();
        assert_eq!(wire, want, "{name}: wire query");
    }
}
