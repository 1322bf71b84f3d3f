//! RPC signature V1: HMAC-SHA1 over the sorted, percent-encoded parameters,
//! sent as the `Signature` query parameter (docs/api/describe-invocation-results.md#signature-v1).
//!
//! ```text
//! canonicalized = sort(params ∪ form params) as encode(k)=encode(v) joined by &
//! string_to_sign = METHOD & %2F & encode(canonicalized)
//! Signature = Base64(HMAC-SHA1(key = secret + "&", string_to_sign))
//! ```
//!
//! The stage functions ([`canonicalized_query_string`], [`string_to_sign`],
//! [`signature`]) are public so that a failure against a known answer points
//! at the stage that differs.

mod verify;

pub use verify::{verify, verify_query};

use core::cmp::Ordering;

use alloc::borrow::Cow;
use alloc::string::String;
use alloc::vec::Vec;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use ring::hmac;
use time::OffsetDateTime;
use zeroize::Zeroize;

use crate::encoding::{is_token, percent_encode_into, percent_encode_twice_into};
use crate::{Credentials, ParamList, SignError, timestamp};

/// The only `SignatureMethod` of V1.
pub const SIGNATURE_METHOD: &str = "HMAC-SHA1";
/// The only `SignatureVersion` of V1.
pub const SIGNATURE_VERSION: &str = "1.0";

/// A request to sign with V1, borrowed from the caller.
///
/// Build it with [`RpcV1Request::new`]; `format` defaults to `JSON` and
/// there are no form-body parameters unless set.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct RpcV1Request<'a> {
    /// HTTP method, upper case (`POST` for DescribeInvocationResults).
    pub method: &'a str,
    /// The `Action` parameter (`DescribeInvocationResults`).
    pub action: &'a str,
    /// The `Version` parameter (`2014-05-26`).
    pub version: &'a str,
    /// The `Format` parameter: `JSON` (default) or `XML`.
    pub format: &'a str,
    /// The API parameters that go in the query string (`RegionId`, ...).
    pub params: ParamList<'a>,
    /// API parameters sent in an `application/x-www-form-urlencoded` body:
    /// signed, but not returned by [`sign`] (they stay in the body).
    pub body_params: ParamList<'a>,
}

impl<'a> RpcV1Request<'a> {
    /// A request for `action`/`version` with API `params` in the query:
    /// `&str` or `String` pairs (see [`ParamList`]), so a model's
    /// `to_query()` goes in as it is.
    ///
    /// ```
    /// use ecs_sign::rpc_v1::RpcV1Request;
    ///
    /// let query: Vec<(String, String)> = vec![("RegionId".into(), "cn-hangzhou".into())];
    /// let request = RpcV1Request::new("POST", "DescribeInvocationResults", "2014-05-26", &query);
    /// assert_eq!(request.params.len(), 1);
    /// ```
    pub fn new(
        method: &'a str,
        action: &'a str,
        version: &'a str,
        params: impl Into<ParamList<'a>>,
    ) -> Self {
        Self {
            method,
            action,
            version,
            format: "JSON",
            params: params.into(),
            body_params: ParamList::default(),
        }
    }

    /// Sets the `Format` parameter (`JSON` or `XML`).
    pub fn with_format(mut self, format: &'a str) -> Self {
        self.format = format;
        self
    }

    /// Sets the parameters carried in a form body (`&str` or `String`
    /// pairs, as for [`new`](Self::new)).
    pub fn with_body_params(mut self, body_params: impl Into<ParamList<'a>>) -> Self {
        self.body_params = body_params.into();
        self
    }
}

fn non_empty(value: &str, what: &'static str) -> Result<(), SignError> {
    if value.is_empty() {
        Err(SignError::input(what, "is empty"))
    } else {
        Ok(())
    }
}

pub(crate) fn check_method(method: &str) -> Result<(), SignError> {
    if is_token(method) {
        Ok(())
    } else {
        Err(SignError::input(
            "the HTTP method",
            "is empty or not a valid HTTP token (use GET or POST)",
        ))
    }
}

/// One signed query parameter: names and most values borrow from the
/// request and credentials; `Timestamp` and `Signature` are owned.
pub type Param<'a> = (Cow<'a, str>, Cow<'a, str>);

/// Signs `request` and returns the complete query parameter list: the
/// common parameters (`Action`, `Version`, `Format`, `Timestamp`,
/// `SignatureMethod`, `SignatureVersion`, `SignatureNonce`, `AccessKeyId`,
/// and `SecurityToken` for STS credentials), then the API parameters in the
/// caller's order, then `Signature` last. Encode it with
/// [`encode_query`](crate::encode_query) to send the canonical form.
///
/// The pairs borrow from `request`, `credentials` and `nonce` where they
/// can (so signing allocates only a handful of buffers); call
/// `Cow::into_owned` on them to keep them longer.
///
/// # Errors
/// [`SignError::is_invalid_input`] for an empty action, version, format or
/// nonce, an invalid method, an empty parameter name, or a parameter given
/// twice (including a common parameter set by the signer);
/// [`SignError::is_time`] for a time outside the years 0000..=9999.
///
/// # Example
/// ```
/// use ecs_sign::{Credentials, rpc_v1};
/// use time::macros::datetime;
///
/// let creds = Credentials::new("testAccessKeyId", "testAccessKeySecret")?;
/// let params = [("RegionId", "cn-hangzhou"), ("InvokeId", "t-hz0jdfwd9f1234")];
/// let request = rpc_v1::RpcV1Request::new("GET", "DescribeInvocationResults", "2014-05-26", &params)
///     .with_format("json");
/// let signed = rpc_v1::sign(&request, &creds, datetime!(2026-01-02 03:04:05 UTC),
///     "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf")?;
/// let (name, value) = signed.last().unwrap();
/// assert_eq!((name.as_ref(), value.as_ref()), ("Signature", "I9B/tPg4TzhbEfljVKfoUU20P/o="));
/// # Ok::<(), ecs_sign::SignError>(())
/// ```
pub fn sign<'a>(
    request: &RpcV1Request<'a>,
    credentials: &'a Credentials,
    time: OffsetDateTime,
    nonce: &'a str,
) -> Result<Vec<Param<'a>>, SignError> {
    check_method(request.method)?;
    non_empty(request.action, "the action")?;
    non_empty(request.version, "the API version")?;
    non_empty(request.format, "the format")?;
    non_empty(nonce, "the signature nonce")?;
    let ts = timestamp::write(time)?;
    // The signer's own parameters, in byte order of their names; the
    // caller's are sorted on their own and merged in, which halves the
    // comparisons of sorting everything together.
    let token = credentials.security_token();
    let mut common: [(&str, &str); 9] = [
        ("AccessKeyId", credentials.access_key_id()),
        ("Action", request.action),
        ("Format", request.format),
        ("SecurityToken", token.unwrap_or_default()),
        ("SignatureMethod", SIGNATURE_METHOD),
        ("SignatureNonce", nonce),
        ("SignatureVersion", SIGNATURE_VERSION),
        ("Timestamp", ts.as_str()),
        ("Version", request.version),
    ];
    let common: &[(&str, &str)] = if token.is_some() {
        &common
    } else {
        // Without a token, the list closes over `SecurityToken`.
        common.copy_within(4.., 3);
        &common[..8]
    };

    let mut user: Vec<(&str, &str)> =
        Vec::with_capacity(request.params.len() + request.body_params.len());
    user.extend(request.params.iter());
    user.extend(request.body_params.iter());
    user.sort_unstable_by(|a, b| cmp_names(a.0, b.0));
    if user.first().is_some_and(|p| p.0.is_empty()) {
        return Err(SignError::input("a parameter name", "is empty"));
    }
    let twice = |name: &str| {
        SignError::input(
            alloc::format!("parameter `{name}`"),
            "is given twice (the signer itself sets Action, Version, Format, Timestamp, \
             SignatureMethod, SignatureVersion, SignatureNonce, AccessKeyId and SecurityToken)",
        )
    };
    if let Some(w) = user.windows(2).find(|w| w[0].0 == w[1].0) {
        return Err(twice(w[0].0));
    }

    // The string to sign, written in one pass while merging: encoding the
    // canonical query a second time turns every escape `%XX` into `%25XX`
    // and every `=`/`&` into `%3D`/`%26`, so each part is encoded twice
    // directly.
    let len: usize = common
        .iter()
        .chain(&user)
        .map(|(k, v)| k.len() + v.len() + 6)
        .sum();
    let mut sts: Vec<u8> = Vec::with_capacity(request.method.len() + 5 + len + len / 2);
    sts.extend_from_slice(request.method.as_bytes());
    sts.extend_from_slice(b"&%2F&");
    let mut first = true;
    let mut write = |(k, v): (&str, &str)| {
        if !first {
            sts.extend_from_slice(b"%26");
        }
        first = false;
        percent_encode_twice_into(&mut sts, k);
        sts.extend_from_slice(b"%3D");
        percent_encode_twice_into(&mut sts, v);
    };
    let (mut c, mut u) = (0, 0);
    while let (Some(&ours), Some(&theirs)) = (common.get(c), user.get(u)) {
        match cmp_names(ours.0, theirs.0) {
            Ordering::Less => {
                write(ours);
                c += 1;
            }
            Ordering::Greater => {
                write(theirs);
                u += 1;
            }
            Ordering::Equal => return Err(twice(theirs.0)),
        }
    }
    for &pair in common.get(c..).unwrap_or_default() {
        write(pair);
    }
    for &pair in user.get(u..).unwrap_or_default() {
        write(pair);
    }
    let tag = hmac_sha1(credentials.access_key_secret(), &sts);
    let signature = BASE64.encode(tag);

    let mut out: Vec<Param<'a>> = Vec::with_capacity(common.len() + request.params.len() + 1);
    out.push((Cow::Borrowed("Action"), Cow::Borrowed(request.action)));
    out.push((Cow::Borrowed("Version"), Cow::Borrowed(request.version)));
    out.push((Cow::Borrowed("Format"), Cow::Borrowed(request.format)));
    out.push((
        Cow::Borrowed("Timestamp"),
        Cow::Owned(String::from(ts.as_str())),
    ));
    out.push((
        Cow::Borrowed("SignatureMethod"),
        Cow::Borrowed(SIGNATURE_METHOD),
    ));
    out.push((
        Cow::Borrowed("SignatureVersion"),
        Cow::Borrowed(SIGNATURE_VERSION),
    ));
    out.push((Cow::Borrowed("SignatureNonce"), Cow::Borrowed(nonce)));
    out.push((
        Cow::Borrowed("AccessKeyId"),
        Cow::Borrowed(credentials.access_key_id()),
    ));
    if let Some(token) = credentials.security_token() {
        out.push((Cow::Borrowed("SecurityToken"), Cow::Borrowed(token)));
    }
    out.extend(
        request
            .params
            .iter()
            .map(|(k, v)| (Cow::Borrowed(k), Cow::Borrowed(v))),
    );
    out.push((Cow::Borrowed("Signature"), Cow::Owned(signature)));
    Ok(out)
}

/// Byte order of parameter names. Names mostly differ in their first byte,
/// which is compared inline before a full comparison.
fn cmp_names(a: &str, b: &str) -> Ordering {
    match (a.as_bytes().first(), b.as_bytes().first()) {
        (Some(x), Some(y)) if x != y => x.cmp(y),
        _ => a.cmp(b),
    }
}

/// Writes already sorted pairs in canonical form.
pub(crate) fn write_canonical(sorted: &[(&str, &str)]) -> String {
    let len: usize = sorted.iter().map(|(k, v)| k.len() + v.len() + 2).sum();
    let mut out = String::with_capacity(len + len / 4);
    for (i, (k, v)) in sorted.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        percent_encode_into(&mut out, k);
        out.push('=');
        percent_encode_into(&mut out, v);
    }
    out
}

/// The canonicalized query string: every signed parameter (query and form
/// body, without `Signature`) sorted by name in byte order (then by value,
/// so repeated names are deterministic), each `encode(name)=encode(value)`,
/// joined with `&`.
pub fn canonicalized_query_string<K: AsRef<str>, V: AsRef<str>>(params: &[(K, V)]) -> String {
    let mut refs: Vec<(&str, &str)> = params
        .iter()
        .map(|(k, v)| (k.as_ref(), v.as_ref()))
        .collect();
    refs.sort_unstable();
    write_canonical(&refs)
}

/// The string to sign: `METHOD&%2F&` followed by the percent-encoded
/// canonicalized query string.
pub fn string_to_sign(method: &str, canonicalized_query_string: &str) -> String {
    let q = canonicalized_query_string;
    let mut out = String::with_capacity(method.len() + 5 + q.len() + q.len() / 2);
    out.push_str(method);
    out.push_str("&%2F&");
    percent_encode_into(&mut out, q);
    out
}

/// The HMAC-SHA1 key: the secret followed by `&`, built on the stack for
/// ordinary secrets and wiped afterwards.
pub(crate) fn key(secret: &str) -> hmac::Key {
    let s = secret.as_bytes();
    let mut buf = [0u8; 128];
    let key = match buf.get_mut(..=s.len()) {
        Some(slot) => {
            let (head, amp) = slot.split_at_mut(s.len());
            head.copy_from_slice(s);
            amp.fill(b'&');
            hmac::Key::new(hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, slot)
        }
        None => {
            let mut v = Vec::with_capacity(s.len() + 1);
            v.extend_from_slice(s);
            v.push(b'&');
            let key = hmac::Key::new(hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, &v);
            v.zeroize();
            key
        }
    };
    buf.zeroize();
    key
}

/// The signature: Base64 of HMAC-SHA1 with key `secret + "&"` over the
/// string to sign.
pub fn signature(access_key_secret: &str, string_to_sign: &str) -> String {
    BASE64.encode(hmac_sha1(access_key_secret, string_to_sign.as_bytes()))
}

/// HMAC-SHA1 (RFC 2104) with key `secret + "&"`, for signing.
///
/// This uses the `sha1` crate rather than ring: ring's SHA-1 is portable
/// code, while `sha1` uses the x86 SHA extensions when the CPU has them,
/// which makes V1 signing 3-5 times faster. Verification stays on ring's
/// `hmac::verify` (constant time), so every test that signs here and
/// verifies there cross-checks the two implementations.
fn hmac_sha1(secret: &str, message: &[u8]) -> [u8; 20] {
    use sha1::{Digest, Sha1};
    const BLOCK: usize = 64;
    let s = secret.as_bytes();
    let mut key = [0u8; BLOCK];
    match key.get_mut(..=s.len()) {
        Some(slot) => {
            let (head, amp) = slot.split_at_mut(s.len());
            head.copy_from_slice(s);
            amp.fill(b'&');
        }
        None => {
            // Keys longer than a block are hashed first.
            let digest = Sha1::new().chain_update(s).chain_update(b"&").finalize();
            key[..digest.len()].copy_from_slice(&digest);
        }
    }
    let mut pad = [0u8; BLOCK];
    for (p, k) in pad.iter_mut().zip(&key) {
        *p = k ^ 0x36;
    }
    let inner = Sha1::new()
        .chain_update(pad)
        .chain_update(message)
        .finalize();
    for (p, k) in pad.iter_mut().zip(&key) {
        *p = k ^ 0x5c;
    }
    let outer = Sha1::new().chain_update(pad).chain_update(inner).finalize();
    key.zeroize();
    pad.zeroize();
    let mut out = [0u8; 20];
    out.copy_from_slice(&outer);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SignatureVersion;
    use alloc::string::ToString;
    use time::macros::datetime;

    fn creds() -> Credentials {
        Credentials::new("testAccessKeyId", "testAccessKeySecret").unwrap()
    }

    const T: OffsetDateTime = datetime!(2026-01-02 03:04:05 UTC);

    #[test]
    fn sign_then_verify_round_trips() {
        let params = [("RegionId", "cn-hangzhou"), ("NextToken", "a b+c")];
        let req = RpcV1Request::new("POST", "DescribeInvocationResults", "2014-05-26", &params);
        let c = creds();
        let signed = sign(&req, &c, T, "nonce-1").unwrap();
        assert_eq!(signed.first().unwrap().0, "Action");
        assert_eq!(signed.last().unwrap().0, "Signature");
        let lookup = |id: &str| (id == "testAccessKeyId").then_some("testAccessKeySecret");
        let v = verify("POST", &signed, lookup).unwrap();
        assert_eq!(v.access_key_id(), "testAccessKeyId");
        assert_eq!(v.nonce(), "nonce-1");
        assert_eq!(v.timestamp(), T);
        assert_eq!(v.security_token(), None);
        assert_eq!(v.version(), SignatureVersion::V1);
        // The wire form parses back and verifies too.
        let query = crate::encode_query(&signed);
        assert!(verify_query("POST", &query, None, lookup).is_ok());
        let err = verify("GET", &signed, lookup).unwrap_err();
        assert!(err.string_to_sign().unwrap().starts_with("GET&%2F&"));
    }

    #[test]
    fn owned_and_borrowed_pairs_sign_alike() {
        let borrowed = [("RegionId", "cn-hangzhou"), ("InvokeId", "t-1")];
        // What a model's `to_query()` returns.
        let owned: Vec<(String, String)> = borrowed
            .iter()
            .map(|&(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let form = vec![("RoleArn".to_string(), "acs:ram::1:role/r".to_string())];
        let c = creds();
        let a = RpcV1Request::new("POST", "A", "V", &borrowed)
            .with_body_params(&[("RoleArn", "acs:ram::1:role/r")]);
        let b = RpcV1Request::new("POST", "A", "V", &owned).with_body_params(&form);
        let c_slice = RpcV1Request::new("POST", "A", "V", owned.as_slice()).with_body_params(&form);
        let signed_a = sign(&a, &c, T, "n").unwrap();
        assert_eq!(signed_a, sign(&b, &c, T, "n").unwrap());
        assert_eq!(signed_a, sign(&c_slice, &c, T, "n").unwrap());
        // The query pairs come back in the caller's order, body pairs stay out.
        let names: Vec<&str> = signed_a.iter().map(|(k, _)| k.as_ref()).collect();
        assert_eq!(
            names[names.len() - 3..],
            ["RegionId", "InvokeId", "Signature"]
        );
        assert!(!names.contains(&"RoleArn"));
    }

    #[test]
    fn sign_rejects_bad_input() {
        let dup = [("Action", "X")];
        let req = RpcV1Request::new("POST", "A", "V", &dup);
        let e = sign(&req, &creds(), T, "n").unwrap_err();
        assert!(
            e.to_string().contains("parameter `Action` is given twice"),
            "{e}"
        );
        let empty = [("", "x")];
        let e = sign(
            &RpcV1Request::new("POST", "A", "V", &empty),
            &creds(),
            T,
            "n",
        )
        .unwrap_err();
        assert!(e.to_string().contains("parameter name is empty"), "{e}");
        let e = sign(&RpcV1Request::new("PO ST", "A", "V", &[]), &creds(), T, "n").unwrap_err();
        assert!(e.to_string().contains("HTTP method"), "{e}");
        let e = sign(&RpcV1Request::new("POST", "A", "V", &[]), &creds(), T, "").unwrap_err();
        assert!(e.to_string().contains("nonce is empty"), "{e}");
        let e = sign(&RpcV1Request::new("POST", "", "V", &[]), &creds(), T, "n").unwrap_err();
        assert!(e.to_string().contains("action is empty"), "{e}");
    }

    #[test]
    fn hmac_sha1_agrees_with_ring() {
        for secret_len in [1usize, 62, 63, 64, 65, 200] {
            let secret = "k".repeat(secret_len);
            for msg_len in [0usize, 1, 55, 56, 64, 119, 600] {
                let msg = alloc::vec![b'm'; msg_len];
                let ring_tag = hmac::sign(&key(&secret), &msg);
                assert_eq!(
                    &hmac_sha1(&secret, &msg)[..],
                    ring_tag.as_ref(),
                    "secret {secret_len} message {msg_len}"
                );
            }
        }
    }

    #[test]
    fn long_secrets_use_the_heap_key() {
        let long = "s".repeat(300);
        let a = signature(&long, "x");
        let b = signature(&long, "x");
        assert_eq!(a, b);
        assert_ne!(a, signature(&long[..299], "x"));
    }
}
