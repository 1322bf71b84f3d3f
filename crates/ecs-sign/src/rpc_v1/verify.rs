//! Server-side verification of RPC signature V1.

use alloc::string::String;
use alloc::vec::Vec;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use ring::hmac;

use super::{SIGNATURE_METHOD, SIGNATURE_VERSION, key, string_to_sign, write_canonical};
use crate::{SignatureVersion, Verified, VerifyError};

/// Finds the single value of `name` in sorted `params`.
fn find<'p>(sorted: &[(&'p str, &'p str)], name: &str) -> Option<&'p str> {
    sorted
        .binary_search_by(|p| p.0.cmp(name))
        .ok()
        .and_then(|i| sorted.get(i))
        .map(|p| p.1)
}

fn required<'p>(sorted: &[(&'p str, &'p str)], name: &'static str) -> Result<&'p str, VerifyError> {
    match find(sorted, name) {
        Some(v) if !v.is_empty() => Ok(v),
        _ => Err(VerifyError::missing(alloc::format!("the {name} parameter"))),
    }
}

/// Verifies a V1-signed request on the server side.
///
/// `params` are every parameter received, query and form body together,
/// already decoded (see [`parse_query`](crate::parse_query), or use
/// [`verify_query`]). `lookup` maps an access key id to its secret.
///
/// # Errors
/// A [`VerifyError`]: `Missing` when `Signature`, `AccessKeyId`,
/// `SignatureMethod`, `SignatureVersion`, `Timestamp` or `SignatureNonce`
/// is absent or empty; `Malformed` for a parameter given twice;
/// `UnsupportedAlgorithm` for a method other than `HMAC-SHA1` (or a
/// non-empty `SignatureType`, such as bearer tokens); `UnsupportedVersion`;
/// `InvalidTimestamp`; `UnknownAccessKey`; `SignatureDoesNotMatch` carrying
/// the server's string to sign.
pub fn verify<K, V, F, S>(
    method: &str,
    params: &[(K, V)],
    lookup: F,
) -> Result<Verified, VerifyError>
where
    K: AsRef<str>,
    V: AsRef<str>,
    F: Fn(&str) -> Option<S>,
    S: AsRef<str>,
{
    let mut sorted: Vec<(&str, &str)> = params
        .iter()
        .map(|(k, v)| (k.as_ref(), v.as_ref()))
        .collect();
    sorted.sort_unstable();
    if let Some(w) = sorted.windows(2).find(|w| w[0].0 == w[1].0) {
        return Err(VerifyError::malformed(
            alloc::format!("parameter `{}`", w[0].0),
            "appears more than once",
        ));
    }
    let signature_b64 = required(&sorted, "Signature")?;
    let access_key_id = required(&sorted, "AccessKeyId")?;
    let method_param = required(&sorted, "SignatureMethod")?;
    if method_param != SIGNATURE_METHOD {
        return Err(VerifyError::UnsupportedAlgorithm {
            algorithm: method_param.into(),
        });
    }
    if let Some(kind) = find(&sorted, "SignatureType").filter(|t| !t.is_empty()) {
        return Err(VerifyError::UnsupportedAlgorithm {
            algorithm: alloc::format!("SignatureType={kind}"),
        });
    }
    let version = required(&sorted, "SignatureVersion")?;
    if version != SIGNATURE_VERSION {
        return Err(VerifyError::UnsupportedVersion {
            version: version.into(),
        });
    }
    let ts_text = required(&sorted, "Timestamp")?;
    let timestamp =
        crate::parse_timestamp(ts_text).ok_or_else(|| VerifyError::InvalidTimestamp {
            value: ts_text.into(),
        })?;
    let nonce = required(&sorted, "SignatureNonce")?;
    let security_token = find(&sorted, "SecurityToken").filter(|t| !t.is_empty());
    let secret = lookup(access_key_id).ok_or_else(|| VerifyError::UnknownAccessKey {
        access_key_id: access_key_id.into(),
    })?;

    sorted.retain(|p| p.0 != "Signature");
    let canonical = write_canonical(&sorted);
    let sts = string_to_sign(method, &canonical);
    let matches = BASE64
        .decode(signature_b64)
        .is_ok_and(|tag| hmac::verify(&key(secret.as_ref()), sts.as_bytes(), &tag).is_ok());
    if !matches {
        return Err(VerifyError::SignatureDoesNotMatch {
            string_to_sign: sts,
            canonical,
        });
    }
    Ok(Verified {
        version: SignatureVersion::V1,
        access_key_id: access_key_id.into(),
        security_token: security_token.map(String::from),
        timestamp,
        nonce: nonce.into(),
    })
}

/// Parses a raw query string and an optional form body (see
/// [`parse_query`](crate::parse_query): `+` is a space) and verifies them
/// with [`verify`].
///
/// # Errors
/// As [`verify`]; a parameter that cannot be decoded is `Malformed`, naming
/// it.
pub fn verify_query<F, S>(
    method: &str,
    query: &str,
    form_body: Option<&str>,
    lookup: F,
) -> Result<Verified, VerifyError>
where
    F: Fn(&str) -> Option<S>,
    S: AsRef<str>,
{
    let decode = |text: &str, place: &str| {
        crate::parse_query(text).map_err(|e| {
            VerifyError::malformed(
                alloc::format!("{place} parameter `{}`", e.parameter().unwrap_or_default()),
                e.reason(),
            )
        })
    };
    let mut params = decode(query, "query")?;
    if let Some(body) = form_body {
        params.extend(decode(body, "form body")?);
    }
    verify(method, &params, lookup)
}

#[cfg(test)]
mod tests {
    use super::super::{RpcV1Request, sign};
    use super::*;
    use crate::Credentials;
    use alloc::borrow::ToOwned;
    use time::OffsetDateTime;
    use time::macros::datetime;

    const T: OffsetDateTime = datetime!(2026-01-02 03:04:05 UTC);

    fn creds() -> Credentials {
        Credentials::new("testAccessKeyId", "testAccessKeySecret").unwrap()
    }

    #[test]
    fn verify_reports_each_failure() {
        let req = RpcV1Request::new("POST", "A", "V", &[("RegionId", "r")]);
        let c = creds();
        let signed: Vec<(String, String)> = sign(&req, &c, T, "n")
            .unwrap()
            .into_iter()
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        let ok = |_: &str| Some("testAccessKeySecret".to_owned());
        let without = |name: &str| -> Vec<(String, String)> {
            signed.iter().filter(|p| p.0 != name).cloned().collect()
        };
        let with = |name: &str, value: &str| -> Vec<(String, String)> {
            signed
                .iter()
                .map(|p| {
                    if p.0 == name {
                        (p.0.clone(), value.to_owned())
                    } else {
                        p.clone()
                    }
                })
                .collect()
        };
        for name in [
            "Signature",
            "AccessKeyId",
            "SignatureMethod",
            "SignatureVersion",
            "Timestamp",
            "SignatureNonce",
        ] {
            match verify("POST", &without(name), ok) {
                Err(VerifyError::Missing { part }) => assert!(part.contains(name), "{part}"),
                other => panic!("{name}: {other:?}"),
            }
            // An empty value is as missing as no value.
            match verify("POST", &with(name, ""), ok) {
                Err(VerifyError::Missing { part }) => assert!(part.contains(name), "{part}"),
                other => panic!("{name} empty: {other:?}"),
            }
        }
        assert!(matches!(
            verify("POST", &with("SignatureMethod", "HMAC-SHA256"), ok),
            Err(VerifyError::UnsupportedAlgorithm { .. })
        ));
        assert!(matches!(
            verify("POST", &with("SignatureVersion", "2.0"), ok),
            Err(VerifyError::UnsupportedVersion { .. })
        ));
        assert!(matches!(
            verify("POST", &with("Timestamp", "2026-01-02 03:04:05"), ok),
            Err(VerifyError::InvalidTimestamp { .. })
        ));
        assert!(matches!(
            verify("POST", &with("Signature", "not base64!"), ok),
            Err(VerifyError::SignatureDoesNotMatch { .. })
        ));
        assert!(matches!(
            verify("POST", &signed, |_: &str| None::<String>),
            Err(VerifyError::UnknownAccessKey { access_key_id }) if access_key_id == "testAccessKeyId"
        ));
        let mut twice = signed.clone();
        twice.push(("RegionId".into(), "other".into()));
        assert!(matches!(
            verify("POST", &twice, ok),
            Err(VerifyError::Malformed { .. })
        ));
        let mut bearer = signed.clone();
        bearer.push(("SignatureType".into(), "BEARERTOKEN".into()));
        assert!(matches!(
            verify("POST", &bearer, ok),
            Err(VerifyError::UnsupportedAlgorithm { .. })
        ));
        match verify_query("POST", "a=%FF", None, ok) {
            Err(VerifyError::Malformed { part, .. }) => assert_eq!(part, "query parameter `a`"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn form_body_parameters_are_signed_and_verified() {
        let query_params = [("RegionId", "cn-hangzhou")];
        let body_params = [("InvokeId", "t-body 1"), ("PageSize", "10")];
        let req = RpcV1Request::new("POST", "A", "V", &query_params).with_body_params(&body_params);
        let c = creds();
        let signed = sign(&req, &c, T, "n").unwrap();
        assert!(
            !signed.iter().any(|p| p.0 == "InvokeId"),
            "body params stay in the body"
        );
        let query = crate::encode_query(&signed);
        let body = "InvokeId=t-body+1&PageSize=10";
        let lookup = |_: &str| Some("testAccessKeySecret");
        assert!(verify_query("POST", &query, Some(body), lookup).is_ok());
        let e = verify_query("POST", &query, None, lookup).unwrap_err();
        assert!(e.is_signature_mismatch());
        let e = verify_query(
            "POST",
            &query,
            Some("InvokeId=t-body+2&PageSize=10"),
            lookup,
        )
        .unwrap_err();
        assert!(e.is_signature_mismatch());
        match verify_query("POST", &query, Some("InvokeId=%E5%BC"), lookup) {
            Err(VerifyError::Malformed { part, .. }) => {
                assert_eq!(part, "form body parameter `InvokeId`");
            }
            other => panic!("{other:?}"),
        }
    }
}
