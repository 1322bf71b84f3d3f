//! ACS3-HMAC-SHA256 (signature V3), the tea SDK's default: an `Authorization`
//! header over a canonical request
//! (docs/api/describe-invocation-results.md#signature-v3).
//!
//! ```text
//! canonical_request = METHOD\nPATH\nQUERY\nHEADERS\n\nSIGNED_HEADERS\nHEX(SHA-256(body))
//! string_to_sign    = "ACS3-HMAC-SHA256\n" + HEX(SHA-256(canonical_request))
//! Authorization     = ACS3-HMAC-SHA256 Credential=<AK>,SignedHeaders=<a;b>,Signature=<HEX(HMAC-SHA256(secret, string_to_sign))>
//! ```
//!
//! The stage functions ([`canonical_request`], [`string_to_sign`],
//! [`signature`], [`authorization`]) are public so that a failure against a
//! known answer points at the stage that differs.

mod canonical;
mod verify;

use alloc::borrow::Cow;
use alloc::string::String;
use alloc::vec::Vec;
use ring::{digest, hmac};
use time::OffsetDateTime;

use crate::encoding::{hex_lower_into, hex_lower_to, is_header_value, is_token};
use crate::{Credentials, ParamList, SignError, timestamp};

pub use canonical::hashed_payload;
pub use verify::verify;

/// The algorithm name, first word of the `Authorization` header.
pub const ALGORITHM: &str = "ACS3-HMAC-SHA256";

/// Headers the signer sets; the caller must not pass them.
const SIGNER_HEADERS: [&str; 6] = [
    "x-acs-date",
    "x-acs-signature-nonce",
    "x-acs-content-sha256",
    "x-acs-accesskey-id",
    "x-acs-security-token",
    "authorization",
];

/// A request to sign with V3, borrowed from the caller.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct Acs3Request<'a> {
    /// HTTP method, upper case (`POST` for DescribeInvocationResults).
    pub method: &'a str,
    /// The `host` header (the endpoint, with `:port` if not the default).
    pub host: &'a str,
    /// The path as sent, already percent-encoded (`/` for RPC APIs).
    pub path: &'a str,
    /// Query parameters, decoded (the API parameters for RPC APIs).
    pub query: ParamList<'a>,
    /// Headers the request will carry besides `host` and those the signer
    /// adds: typically `x-acs-action`, `x-acs-version`, and any of
    /// `content-type`, `user-agent`, `accept`.
    pub headers: &'a [(&'a str, &'a str)],
    /// The body as sent (empty for DescribeInvocationResults).
    pub body: &'a [u8],
}

impl<'a> Acs3Request<'a> {
    /// A request with no query, headers or body.
    pub fn new(method: &'a str, host: &'a str, path: &'a str) -> Self {
        Self {
            method,
            host,
            path,
            query: ParamList::default(),
            headers: &[],
            body: &[],
        }
    }

    /// Sets the query parameters: `&str` or `String` pairs (see
    /// [`ParamList`]), so a model's `to_query()` goes in as it is.
    pub fn with_query(mut self, query: impl Into<ParamList<'a>>) -> Self {
        self.query = query.into();
        self
    }

    /// Sets the headers (other than `host` and the signer's).
    pub fn with_headers(mut self, headers: &'a [(&'a str, &'a str)]) -> Self {
        self.headers = headers;
        self
    }

    /// Sets the body.
    pub fn with_body(mut self, body: &'a [u8]) -> Self {
        self.body = body;
        self
    }
}

/// Which headers are signed.
///
/// The headers the signer adds (`x-acs-date`, `x-acs-signature-nonce`,
/// `x-acs-content-sha256`, and `x-acs-accesskey-id` +
/// `x-acs-security-token` for STS credentials) are signed in every mode.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum SignedHeaders<'a> {
    /// `host`, `content-type` and every `x-acs-*` header: what most official
    /// SDKs sign, and robust against proxies that change other headers.
    #[default]
    Default,
    /// Every header present, as the Python SDK does (vector
    /// `full_sdk_header_set` signs `accept` and `user-agent`).
    AllPresent,
    /// These header names (any case), each of which must be present.
    Explicit(&'a [&'a str]),
}

/// Picks the headers to sign from `all` (lower-case names, trimmed values)
/// and sorts them by name, keeping the order of repeated names.
fn select<'h>(
    mut all: Vec<canonical::Header<'h>>,
    signed: &SignedHeaders<'_>,
) -> Result<Vec<canonical::Header<'h>>, SignError> {
    let always = |n: &str| SIGNER_HEADERS[..5].contains(&n);
    match signed {
        SignedHeaders::Default => all.retain(|(n, _)| {
            n == "host" || n == "content-type" || n.starts_with("x-acs-") || always(n)
        }),
        SignedHeaders::AllPresent => {}
        SignedHeaders::Explicit(names) => {
            for name in names.iter() {
                if !is_token(name) {
                    return Err(SignError::input(
                        alloc::format!("signed header name `{}`", name.escape_debug()),
                        "is not a valid HTTP token",
                    ));
                }
                if !all.iter().any(|(n, _)| n.eq_ignore_ascii_case(name)) {
                    return Err(SignError::input(
                        alloc::format!("signed header `{name}`"),
                        "is not among the request's headers; add it or leave it out of the list",
                    ));
                }
            }
            all.retain(|(n, _)| always(n) || names.iter().any(|s| n.eq_ignore_ascii_case(s)));
        }
    }
    all.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(all)
}

/// The canonical request, with the `SignedHeaders` list it ends with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CanonicalRequest {
    text: String,
    signed_headers: String,
}

impl CanonicalRequest {
    /// The canonical request text.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The `;`-joined lower-case names of the signed headers.
    pub fn signed_headers(&self) -> &str {
        &self.signed_headers
    }

    /// Both parts: `(text, signed_headers)`.
    pub fn into_parts(self) -> (String, String) {
        (self.text, self.signed_headers)
    }
}

/// Builds the canonical request from every header present at signing time
/// (including `host` and the `x-acs-*` ones), choosing the signed ones with
/// `signed`. `hashed_payload` is [`hashed_payload`] of the body.
///
/// # Errors
/// [`SignError::is_invalid_input`] for an invalid method, path, header name
/// or value, or an explicit signed header that is not present.
pub fn canonical_request<QK, QV, HK, HV>(
    method: &str,
    path: &str,
    query: &[(QK, QV)],
    headers: &[(HK, HV)],
    signed: &SignedHeaders<'_>,
    hashed_payload: &str,
) -> Result<CanonicalRequest, SignError>
where
    QK: AsRef<str>,
    QV: AsRef<str>,
    HK: AsRef<str>,
    HV: AsRef<str>,
{
    crate::rpc_v1::check_method(method)?;
    canonical::check_path(path)?;
    let mut all = Vec::with_capacity(headers.len());
    for (name, value) in headers {
        let (name, value) = (name.as_ref(), value.as_ref());
        canonical::check_header(name, value)?;
        all.push((canonical::lower(name), value.trim()));
    }
    let chosen = select(all, signed)?;
    let query = canonical::sorted_query(query);
    let (text, signed_headers) = canonical::write(method, path, &query, &chosen, hashed_payload);
    Ok(CanonicalRequest {
        text,
        signed_headers,
    })
}

/// The string to sign: `ACS3-HMAC-SHA256\n` followed by the hex SHA-256 of
/// the canonical request.
pub fn string_to_sign(canonical_request: &str) -> String {
    let mut out = String::with_capacity(ALGORITHM.len() + 1 + 64);
    out.push_str(ALGORITHM);
    out.push('\n');
    let hash = digest::digest(&digest::SHA256, canonical_request.as_bytes());
    hex_lower_into(&mut out, hash.as_ref());
    out
}

/// The signature: hex HMAC-SHA256 of the string to sign, keyed with the
/// secret itself.
pub fn signature(access_key_secret: &str, string_to_sign: &str) -> String {
    let key = hmac::Key::new(hmac::HMAC_SHA256, access_key_secret.as_bytes());
    let tag = hmac::sign(&key, string_to_sign.as_bytes());
    let mut out = String::with_capacity(64);
    hex_lower_into(&mut out, tag.as_ref());
    out
}

/// The `Authorization` header value.
pub fn authorization(access_key_id: &str, signed_headers: &str, signature: &str) -> String {
    let mut out = String::with_capacity(
        ALGORITHM.len() + 44 + access_key_id.len() + signed_headers.len() + signature.len(),
    );
    out.push_str(ALGORITHM);
    out.push_str(" Credential=");
    out.push_str(access_key_id);
    out.push_str(",SignedHeaders=");
    out.push_str(signed_headers);
    out.push_str(",Signature=");
    out.push_str(signature);
    out
}

/// One header to add: a static lower-case name (`Authorization` aside) and
/// a value borrowed from the inputs where it can be.
pub type Header<'a> = (&'static str, Cow<'a, str>);

/// Signs `request` and returns the headers to add, in this order:
/// `x-acs-date`, `x-acs-signature-nonce`, `x-acs-content-sha256`, then for
/// STS credentials `x-acs-accesskey-id` and `x-acs-security-token`, then
/// `Authorization`. The caller sends `host` (as `request.host`) and its own
/// headers unchanged.
///
/// # Errors
/// [`SignError::is_invalid_input`] for an invalid method, host, path,
/// nonce, header name or value, a header the signer sets (such as
/// `x-acs-date`), a `host` header that differs from `request.host`, or an
/// explicit signed header that is absent; [`SignError::is_time`] for a time
/// outside the years 0000..=9999.
///
/// # Example
/// ```
/// use ecs_sign::{Credentials, acs3};
/// use time::macros::datetime;
///
/// let creds = Credentials::new("testAccessKeyId", "testAccessKeySecret")?;
/// let query = [("RegionId", "cn-hangzhou"), ("InvokeId", "t-hz0jdfwd9f1234")];
/// let headers = [("x-acs-action", "DescribeInvocationResults"), ("x-acs-version", "2014-05-26")];
/// let request = acs3::Acs3Request::new("POST", "ecs.cn-hangzhou.aliyuncs.com", "/")
///     .with_query(&query)
///     .with_headers(&headers);
/// let add = acs3::sign(&request, &creds, datetime!(2026-01-02 03:04:05 UTC),
///     "b7c5e4a2d9f0416e8a3c1d2e5f607182", &acs3::SignedHeaders::Default)?;
/// let (name, value) = add.last().unwrap();
/// assert_eq!(*name, "Authorization");
/// assert!(value.ends_with("Signature=2f55f6bcbc2be74e73ec3b3b0c9542ad7a2f639c0b56a97b180b8bdd0ef6f241"));
/// # Ok::<(), ecs_sign::SignError>(())
/// ```
pub fn sign<'a>(
    request: &Acs3Request<'a>,
    credentials: &'a Credentials,
    time: OffsetDateTime,
    nonce: &'a str,
    signed: &SignedHeaders<'_>,
) -> Result<Vec<Header<'a>>, SignError> {
    crate::rpc_v1::check_method(request.method)?;
    canonical::check_path(request.path)?;
    if request.host.is_empty() || !is_header_value(request.host) || request.host.contains(' ') {
        return Err(SignError::input(
            "the host",
            "is empty or holds spaces or control characters; pass the endpoint, such as ecs.cn-hangzhou.aliyuncs.com",
        ));
    }
    if nonce.is_empty() || !is_header_value(nonce) {
        return Err(SignError::input(
            "the signature nonce",
            "is empty or holds control characters",
        ));
    }
    let ts = timestamp::write(time)?;
    // RPC requests have an empty body: skip hashing it.
    let payload: Cow<'static, str> = if request.body.is_empty() {
        Cow::Borrowed(canonical::EMPTY_SHA256)
    } else {
        Cow::Owned(hashed_payload(request.body))
    };

    let token = credentials.security_token();
    let mut all: Vec<canonical::Header<'_>> = Vec::with_capacity(request.headers.len() + 6);
    for &(name, value) in request.headers {
        canonical::check_header(name, value)?;
        let lower = canonical::lower(name);
        if SIGNER_HEADERS.contains(&lower.as_ref()) {
            return Err(SignError::input(
                alloc::format!("header `{name}`"),
                "is set by the signer; leave it out of the request's headers",
            ));
        }
        if lower == "host" {
            if value.trim().eq_ignore_ascii_case(request.host) {
                continue;
            }
            return Err(SignError::input(
                "the `host` header",
                "differs from the request's host; pass the host once, as Acs3Request::host",
            ));
        }
        all.push((lower, value.trim()));
    }
    all.push((Cow::Borrowed("host"), request.host));
    all.push((Cow::Borrowed("x-acs-date"), ts.as_str()));
    all.push((Cow::Borrowed("x-acs-signature-nonce"), nonce));
    all.push((Cow::Borrowed("x-acs-content-sha256"), &payload));
    if let Some(token) = token {
        all.push((
            Cow::Borrowed("x-acs-accesskey-id"),
            credentials.access_key_id(),
        ));
        all.push((Cow::Borrowed("x-acs-security-token"), token));
    }
    let chosen = select(all, signed)?;
    let mut query: Vec<(&str, &str)> = request.query.iter().collect();
    query.sort_unstable();
    let (canonical, signed_headers) =
        canonical::write(request.method, request.path, &query, &chosen, &payload);

    // The string to sign is 81 bytes: build it on the stack.
    let mut sts = [0u8; ALGORITHM.len() + 1 + 64];
    let (head, hex) = sts.split_at_mut(ALGORITHM.len() + 1);
    head[..ALGORITHM.len()].copy_from_slice(ALGORITHM.as_bytes());
    head[ALGORITHM.len()] = b'\n';
    hex_lower_to(
        hex,
        digest::digest(&digest::SHA256, canonical.as_bytes()).as_ref(),
    );
    let key = hmac::Key::new(
        hmac::HMAC_SHA256,
        credentials.access_key_secret().as_bytes(),
    );
    let tag = hmac::sign(&key, &sts);

    let ak = credentials.access_key_id();
    let mut auth =
        String::with_capacity(ALGORITHM.len() + 44 + ak.len() + signed_headers.len() + 64);
    auth.push_str(ALGORITHM);
    auth.push_str(" Credential=");
    auth.push_str(ak);
    auth.push_str(",SignedHeaders=");
    auth.push_str(&signed_headers);
    auth.push_str(",Signature=");
    hex_lower_into(&mut auth, tag.as_ref());

    let mut out: Vec<Header<'a>> = Vec::with_capacity(6);
    out.push(("x-acs-date", Cow::Owned(String::from(ts.as_str()))));
    out.push(("x-acs-signature-nonce", Cow::Borrowed(nonce)));
    out.push(("x-acs-content-sha256", payload));
    if let Some(token) = token {
        out.push(("x-acs-accesskey-id", Cow::Borrowed(ak)));
        out.push(("x-acs-security-token", Cow::Borrowed(token)));
    }
    out.push(("Authorization", Cow::Owned(auth)));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;
    use time::macros::datetime;

    const T: OffsetDateTime = datetime!(2026-01-02 03:04:05 UTC);

    fn creds() -> Credentials {
        Credentials::new("testAccessKeyId", "testAccessKeySecret").unwrap()
    }

    #[test]
    fn owned_and_borrowed_query_pairs_sign_alike() {
        let borrowed = [("RegionId", "cn-hangzhou"), ("InvokeId", "t-1")];
        // What a model's `to_query()` returns.
        let owned: Vec<(String, String)> = borrowed
            .iter()
            .map(|&(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let c = creds();
        let sign_with = |request: Acs3Request<'_>| {
            sign(&request, &c, T, "n", &SignedHeaders::Default)
                .unwrap()
                .into_iter()
                .map(|(k, v)| (k.to_string(), v.into_owned()))
                .collect::<Vec<_>>()
        };
        let a = sign_with(Acs3Request::new("POST", "h", "/").with_query(&borrowed));
        assert_eq!(
            a,
            sign_with(Acs3Request::new("POST", "h", "/").with_query(&owned))
        );
        assert_ne!(a, sign_with(Acs3Request::new("POST", "h", "/")));
    }

    #[test]
    fn sign_rejects_bad_input() {
        let cases: [(&[(&str, &str)], &str); 5] = [
            (&[("x-acs-date", "x")], "is set by the signer"),
            (&[("Authorization", "x")], "is set by the signer"),
            (&[("bad name", "x")], "not a valid HTTP token"),
            (&[("x-acs-a", "a\nb")], "control characters"),
            (
                &[("Host", "other.example")],
                "differs from the request's host",
            ),
        ];
        for (headers, want) in cases {
            let req = Acs3Request::new("POST", "h.example", "/").with_headers(headers);
            let e = sign(&req, &creds(), T, "n", &SignedHeaders::Default).unwrap_err();
            assert!(e.is_invalid_input());
            assert!(e.to_string().contains(want), "{headers:?}: {e}");
        }
        let same_host = [("Host", "H.example")];
        let req = Acs3Request::new("POST", "h.example", "/").with_headers(&same_host);
        assert!(sign(&req, &creds(), T, "n", &SignedHeaders::Default).is_ok());
        let req = Acs3Request::new("POST", "", "/");
        assert!(sign(&req, &creds(), T, "n", &SignedHeaders::Default).is_err());
        let req = Acs3Request::new("POST", "h", "/");
        assert!(sign(&req, &creds(), T, "", &SignedHeaders::Default).is_err());
        let e = sign(
            &req,
            &creds(),
            T,
            "n",
            &SignedHeaders::Explicit(&["user-agent"]),
        )
        .unwrap_err();
        assert!(e.to_string().contains("signed header `user-agent`"), "{e}");
    }

    #[test]
    fn a_host_with_spaces_or_control_characters_is_refused() {
        for host in ["h example", "h\u{1}x", "h\n", "h\u{7f}", ""] {
            let req = Acs3Request::new("POST", host, "/");
            let e = sign(&req, &creds(), T, "n", &SignedHeaders::Default).unwrap_err();
            assert!(e.is_invalid_input(), "{host:?}");
            assert!(e.to_string().contains("the host is empty"), "{host:?}: {e}");
        }
    }

    #[test]
    fn canonical_request_parts_are_its_text_and_signed_headers() {
        let query = [("RegionId", "cn-hangzhou")];
        let headers = [("Host", "h"), ("x-acs-date", "2026-01-02T03:04:05Z")];
        let canonical = canonical_request(
            "POST",
            "/",
            &query,
            &headers,
            &SignedHeaders::Default,
            canonical::EMPTY_SHA256,
        )
        .unwrap();
        assert_eq!(canonical.signed_headers(), "host;x-acs-date");
        assert!(
            canonical
                .as_str()
                .starts_with("POST\n/\nRegionId=cn-hangzhou\nhost:h\n")
        );
        let (text, signed) = canonical.clone().into_parts();
        assert_eq!(text, canonical.as_str());
        assert_eq!(signed, canonical.signed_headers());
    }

    #[test]
    fn explicit_set_always_keeps_the_signer_headers() {
        let headers = [("User-Agent", "ua"), ("accept", "application/json")];
        let req = Acs3Request::new("POST", "h", "/").with_headers(&headers);
        let sts = creds().with_security_token("tok").unwrap();
        let sts = &sts;
        let out = sign(&req, sts, T, "n", &SignedHeaders::Explicit(&["user-agent"])).unwrap();
        let auth = &out.last().unwrap().1;
        assert!(
            auth.contains("SignedHeaders=user-agent;x-acs-accesskey-id;x-acs-content-sha256;x-acs-date;x-acs-security-token;x-acs-signature-nonce,"),
            "{auth}"
        );
        let names: Vec<&str> = out.iter().map(|p| p.0).collect();
        assert_eq!(
            names,
            [
                "x-acs-date",
                "x-acs-signature-nonce",
                "x-acs-content-sha256",
                "x-acs-accesskey-id",
                "x-acs-security-token",
                "Authorization"
            ]
        );
        let all = sign(&req, sts, T, "n", &SignedHeaders::AllPresent).unwrap();
        assert!(
            all.last()
                .unwrap()
                .1
                .contains("SignedHeaders=accept;host;user-agent;")
        );
        let default = sign(&req, sts, T, "n", &SignedHeaders::Default).unwrap();
        assert!(
            default
                .last()
                .unwrap()
                .1
                .contains("SignedHeaders=host;x-acs-accesskey-id;")
        );
    }
}
