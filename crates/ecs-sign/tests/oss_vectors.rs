//! OSS V4 signatures against vectors computed by the official OSS SDK
//! (`alibabacloud-oss-v2`'s `SignerV4`, written to `data/oss_v4_vectors.json`
//! by `xtask/interop/differential.py --write-oss-vectors`): keys with
//! Unicode and reserved characters, ranges, metadata and additional headers,
//! query parameters, STS tokens.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use ecs_sign::{Credentials, oss_v4};
use serde_json::Value;

const VECTORS: &str = include_str!("data/oss_v4_vectors.json");

fn pairs(value: &Value) -> Vec<(String, String)> {
    value
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p[0].as_str().unwrap().to_owned(),
                p[1].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[test]
fn every_official_vector_is_reproduced_step_by_step() {
    let vectors: Value = serde_json::from_str(VECTORS).unwrap();
    let vectors = vectors["vectors"].as_array().unwrap();
    assert!(vectors.len() >= 40, "{} vectors", vectors.len());
    let mut with_token = 0;
    for (i, v) in vectors.iter().enumerate() {
        let headers = pairs(&v["headers"]);
        let headers: Vec<(&str, &str)> = headers
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let query = pairs(&v["query"]);
        let query: Vec<(&str, &str)> = query
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let additional: Vec<&str> = v["additional"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a.as_str().unwrap())
            .collect();
        let mut creds =
            Credentials::new(v["key_id"].as_str().unwrap(), v["secret"].as_str().unwrap()).unwrap();
        if let Some(token) = v["token"].as_str() {
            creds = creds.with_security_token(token).unwrap();
            with_token += 1;
        }
        let time = time::OffsetDateTime::parse(
            v["time"].as_str().unwrap(),
            &time::format_description::well_known::Rfc3339,
        )
        .unwrap();
        let region = v["region"].as_str().unwrap();
        let request = oss_v4::OssRequest::new(
            "GET",
            v["bucket"].as_str().unwrap(),
            v["key"].as_str().unwrap(),
        )
        .with_query(&query)
        .with_headers(&headers)
        .with_additional_headers(&additional);
        let added = oss_v4::sign(&request, &creds, time, region).unwrap();
        let expected = &v["expected"];
        let (name, authorization) = added.last().unwrap();
        assert_eq!(*name, "Authorization");
        assert_eq!(
            authorization,
            expected["authorization"].as_str().unwrap(),
            "vector {i}"
        );
        // Each step on its own.
        let mut all = headers.clone();
        all.extend(
            added[..added.len() - 1]
                .iter()
                .map(|(k, v)| (*k, v.as_str())),
        );
        let canonical =
            oss_v4::canonical_request(&request, &all, &oss_v4::additional_headers(&request));
        assert_eq!(
            canonical,
            expected["canonical"].as_str().unwrap(),
            "vector {i}"
        );
        let datetime = oss_v4::format_datetime(time).unwrap();
        let scope = oss_v4::scope(&datetime[..8], region, oss_v4::PRODUCT);
        assert_eq!(
            oss_v4::string_to_sign(&datetime, &scope, &canonical),
            expected["string_to_sign"].as_str().unwrap(),
            "vector {i}"
        );
    }
    assert!(
        with_token > 0 && with_token < vectors.len(),
        "tokens in some vectors only"
    );
}

#[test]
fn a_changed_byte_changes_the_signature() {
    let creds = Credentials::new("ak", "sk").unwrap();
    let time = time::macros::datetime!(2026-12-07 03:04:05 UTC);
    let sign = |key: &str, region: &str| {
        let request = oss_v4::OssRequest::new("GET", "bucket", key);
        oss_v4::sign(&request, &creds, time, region)
            .unwrap()
            .pop()
            .unwrap()
            .1
    };
    let base = sign("a/b.out", "cn-hangzhou");
    assert_ne!(base, sign("a/c.out", "cn-hangzhou"));
    assert_ne!(base, sign("a/b.out", "cn-shanghai"));
    assert_eq!(base, sign("a/b.out", "cn-hangzhou"), "deterministic");
}
