//! Property tests: encoding round-trips, canonical forms independent of
//! insertion order, and signatures that change when any signed part does.

// Test code may unwrap: a panic is a failure with a location (common rules).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use ecs_sign::{Credentials, acs3, rpc_v1};
use proptest::prelude::*;
use time::OffsetDateTime;

fn any_text() -> impl Strategy<Value = String> {
    // Mostly the characters that matter to the encoder, plus any Unicode.
    prop_oneof!["[a-zA-Z0-9 ~*+/=&%._-]{0,24}", any::<String>(),]
}

fn name() -> impl Strategy<Value = String> {
    "[A-Za-z][A-Za-z0-9.]{0,12}"
}

fn unique_params() -> impl Strategy<Value = Vec<(String, String)>> {
    proptest::collection::btree_map(name(), any_text(), 0..8).prop_map(|m| m.into_iter().collect())
}

fn time() -> impl Strategy<Value = OffsetDateTime> {
    (0i64..4_000_000_000).prop_map(|s| OffsetDateTime::from_unix_timestamp(s).unwrap())
}

fn creds() -> Credentials {
    Credentials::new("testAccessKeyId", "testAccessKeySecret").unwrap()
}

fn refs(p: &[(String, String)]) -> Vec<(&str, &str)> {
    p.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect()
}

proptest! {
    #[test]
    fn percent_encoding_round_trips(s in any_text()) {
        let enc = ecs_sign::percent_encode(&s);
        prop_assert!(enc.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.~%".contains(&b)));
        prop_assert_eq!(ecs_sign::percent_decode(&enc).unwrap(), s);
    }

    #[test]
    fn query_encoding_round_trips(pairs in proptest::collection::vec((any_text(), any_text()), 0..8)) {
        // Empty names vanish in a query string (`=v`), as on any server.
        let pairs: Vec<(String, String)> = pairs.into_iter().filter(|p| !p.0.is_empty()).collect();
        let q = ecs_sign::encode_query(&pairs);
        prop_assert_eq!(ecs_sign::parse_query(&q).unwrap(), pairs);
    }

    #[test]
    fn form_decoding_never_panics(s in any::<String>()) {
        let _ = ecs_sign::parse_query(&s);
    }

    #[test]
    fn canonical_forms_ignore_insertion_order(params in unique_params(), seed in any::<u64>()) {
        let mut shuffled = params.clone();
        // A deterministic permutation drawn from the seed.
        let n = shuffled.len();
        if n > 1 {
            let mut x = seed;
            for i in (1..n).rev() {
                x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                shuffled.swap(i, (x >> 33) as usize % (i + 1));
            }
        }
        prop_assert_eq!(
            rpc_v1::canonicalized_query_string(&params),
            rpc_v1::canonicalized_query_string(&shuffled)
        );
        let headers = [("x-acs-action", "A")];
        let a = acs3::canonical_request("POST", "/", &params, &headers, &acs3::SignedHeaders::Default, "h").unwrap();
        let b = acs3::canonical_request("POST", "/", &shuffled, &headers, &acs3::SignedHeaders::Default, "h").unwrap();
        prop_assert_eq!(a, b);
        // And the full signatures agree.
        let t = OffsetDateTime::UNIX_EPOCH;
        let (pa, pb) = (refs(&params), refs(&shuffled));
        let c = creds();
        let sa = rpc_v1::sign(&rpc_v1::RpcV1Request::new("POST", "A", "V", &pa), &c, t, "n");
        let sb = rpc_v1::sign(&rpc_v1::RpcV1Request::new("POST", "A", "V", &pb), &c, t, "n");
        match (sa, sb) {
            (Ok(sa), Ok(sb)) => prop_assert_eq!(&sa.last().unwrap().1, &sb.last().unwrap().1),
            // Only a clash with a common parameter name fails, and then both do.
            (Err(_), Err(_)) => {}
            (a, b) => prop_assert!(false, "{a:?} vs {b:?}"),
        }
    }

    #[test]
    fn v1_signature_changes_with_any_signed_part(
        params in unique_params().prop_filter("non-empty", |p| !p.is_empty()),
        index in any::<prop::sample::Index>(),
        extra in "[a-z0-9]{1,4}",
        t in time(),
    ) {
        let p = refs(&params);
        let base_req = rpc_v1::RpcV1Request::new("POST", "Act", "2014-05-26", &p);
        let (c0, other, sts) = (
            creds(),
            Credentials::new("testAccessKeyId", "other").unwrap(),
            creds().with_security_token("tok").unwrap(),
        );
        let Ok(base) = rpc_v1::sign(&base_req, &c0, t, "nonce") else { return Ok(()) };
        let base: Vec<(String, String)> =
            base.into_iter().map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
        let sig = |v: &[(String, String)]| v.last().unwrap().1.clone();
        let base_sig = sig(&base);

        let i = index.index(params.len());
        let mut changed = params.clone();
        changed[i].1.push_str(&extra);
        let c = refs(&changed);
        let variants = [
            rpc_v1::sign(&rpc_v1::RpcV1Request::new("POST", "Act", "2014-05-26", &c), &c0, t, "nonce"),
            rpc_v1::sign(&rpc_v1::RpcV1Request::new("GET", "Act", "2014-05-26", &p), &c0, t, "nonce"),
            rpc_v1::sign(&rpc_v1::RpcV1Request::new("POST", "Act2", "2014-05-26", &p), &c0, t, "nonce"),
            rpc_v1::sign(&base_req, &c0, t + time::Duration::SECOND, "nonce"),
            rpc_v1::sign(&base_req, &c0, t, "nonce2"),
            rpc_v1::sign(&base_req, &other, t, "nonce"),
            rpc_v1::sign(&base_req, &sts, t, "nonce"),
        ];
        for v in variants {
            let v = v.unwrap();
            prop_assert_ne!(v.last().unwrap().1.as_ref(), base_sig.as_str());
        }
        // And the server accepts only the original.
        let lookup = |_: &str| Some("testAccessKeySecret");
        prop_assert!(rpc_v1::verify("POST", &base, lookup).is_ok());
        let mut tampered = base;
        let j = tampered.iter().position(|q| q.0 == params[i].0).unwrap();
        tampered[j].1.push_str(&extra);
        prop_assert!(rpc_v1::verify("POST", &tampered, lookup).unwrap_err().is_signature_mismatch());
    }

    #[test]
    fn v3_signature_changes_with_any_signed_part(
        params in unique_params().prop_filter("non-empty", |p| !p.is_empty()),
        index in any::<prop::sample::Index>(),
        extra in "[a-z0-9]{1,4}",
        body in proptest::collection::vec(any::<u8>(), 0..64),
        t in time(),
    ) {
        let q = refs(&params);
        let headers = [("x-acs-action", "Act"), ("content-type", "application/json")];
        let req = acs3::Acs3Request::new("POST", "h.example", "/").with_query(&q).with_headers(&headers).with_body(&body);
        let mode = acs3::SignedHeaders::Default;
        let (c0, other) = (creds(), Credentials::new("testAccessKeyId", "other").unwrap());
        let auth = |r: Result<Vec<acs3::Header<'_>>, ecs_sign::SignError>| r.unwrap().last().unwrap().1.to_string();
        let base = auth(acs3::sign(&req, &c0, t, "nonce", &mode));

        let i = index.index(params.len());
        let mut changed = params.clone();
        changed[i].1.push_str(&extra);
        let c = refs(&changed);
        let mut longer = body.clone();
        longer.extend_from_slice(extra.as_bytes());
        let other_headers = [("x-acs-action", "Act"), ("content-type", "text/plain")];
        let with = |f: fn(&mut acs3::Acs3Request<'_>)| {
            let mut r = req;
            f(&mut r);
            r
        };
        let variants = [
            acs3::sign(&req.with_query(&c), &c0, t, "nonce", &mode),
            acs3::sign(&req.with_body(&longer), &c0, t, "nonce", &mode),
            acs3::sign(&req.with_headers(&other_headers), &c0, t, "nonce", &mode),
            acs3::sign(&with(|r| r.method = "PUT"), &c0, t, "nonce", &mode),
            acs3::sign(&with(|r| r.host = "g.example"), &c0, t, "nonce", &mode),
            acs3::sign(&with(|r| r.path = "/x"), &c0, t, "nonce", &mode),
            acs3::sign(&req, &c0, t + time::Duration::SECOND, "nonce", &mode),
            acs3::sign(&req, &c0, t, "nonce2", &mode),
            acs3::sign(&req, &other, t, "nonce", &mode),
        ];
        for v in variants {
            let a = auth(v);
            let sig = |s: &str| s.rsplit_once("Signature=").unwrap().1.to_owned();
            prop_assert_ne!(sig(&a), sig(&base));
        }
    }
}
