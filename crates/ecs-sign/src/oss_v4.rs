//! OSS request signatures, V4 (`OSS4-HMAC-SHA256`): the `Authorization`
//! header Object Storage Service checks, for reading the complete output
//! that Cloud Assistant delivers to a bucket.
//!
//! The algorithm, as the official OSS SDKs implement it:
//!
//! - canonical request: the method, the canonical URI
//!   (`/<bucket>/<key>`, percent-encoded except `/`), the canonical query
//!   (encoded `name=value` pairs sorted, `name` alone for an empty value),
//!   the canonical headers (every `x-oss-*` header, `content-type`,
//!   `content-md5` and the additional headers, lower-case names sorted,
//!   values as sent, each `name:value\n`), the additional header names
//!   joined with `;`, and the payload hash (`UNSIGNED-PAYLOAD`), joined
//!   with `\n`;
//! - scope: `<yyyymmdd>/<region>/<product>/aliyun_v4_request`;
//! - string to sign: `OSS4-HMAC-SHA256\n<yyyymmddThhmmssZ>\n<scope>\n` and
//!   the hex SHA-256 of the canonical request;
//! - signing key: HMAC-SHA256 chained over the date, the region, the
//!   product and `aliyun_v4_request`, starting from `aliyun_v4<secret>`;
//! - `Authorization: OSS4-HMAC-SHA256 Credential=<id>/<scope>[,AdditionalHeaders=<names>],Signature=<hex>`.
//!
//! Every step is a public function, so that each can be checked against the
//! official SDK on its own (`tests/oss_vectors.rs` holds vectors computed by
//! `alibabacloud-oss-v2`).
//!
//! ```
//! use ecs_sign::{Credentials, oss_v4};
//! use time::macros::datetime;
//!
//! let creds = Credentials::new("ak", "sk")?;
//! let request = oss_v4::OssRequest::new("GET", "my-bucket", "outputs/t-1/i-1.out")
//!     .with_headers(&[("range", "bytes=0-1023")]);
//! let add = oss_v4::sign(&request, &creds, datetime!(2026-12-07 03:04:05 UTC), "cn-hangzhou")?;
//! assert_eq!(add[0], ("x-oss-date", "20261207T030405Z".to_owned()));
//! assert!(add.last().unwrap().1.starts_with(
//!     "OSS4-HMAC-SHA256 Credential=ak/20261207/cn-hangzhou/oss/aliyun_v4_request,Signature="));
//! # Ok::<(), ecs_sign::SignError>(())
//! ```

use alloc::borrow::ToOwned;
use alloc::string::String;
use alloc::vec::Vec;

use ring::{digest, hmac};
use time::OffsetDateTime;

use crate::credentials::Credentials;
use crate::encoding::{hex_lower_into, is_header_value, percent_encode_into};
use crate::error::SignError;

/// The algorithm name, first in the string to sign and the header.
pub const ALGORITHM: &str = "OSS4-HMAC-SHA256";

/// The payload hash OSS clients send for a body they do not hash.
pub const UNSIGNED_PAYLOAD: &str = "UNSIGNED-PAYLOAD";

/// The product in the scope of an OSS signature.
pub const PRODUCT: &str = "oss";

/// One OSS request to sign: method, bucket, object key, query parameters
/// (decoded) and the headers it will carry (names in any case).
#[derive(Debug, Clone, Copy)]
pub struct OssRequest<'a> {
    method: &'a str,
    bucket: &'a str,
    key: &'a str,
    query: &'a [(&'a str, &'a str)],
    headers: &'a [(&'a str, &'a str)],
    additional_headers: &'a [&'a str],
}

impl<'a> OssRequest<'a> {
    /// A request for `key` in `bucket` (an empty key is the bucket itself).
    pub fn new(method: &'a str, bucket: &'a str, key: &'a str) -> Self {
        Self {
            method,
            bucket,
            key,
            query: &[],
            headers: &[],
            additional_headers: &[],
        }
    }

    /// Sets the (decoded) query parameters.
    #[must_use]
    pub fn with_query(mut self, query: &'a [(&'a str, &'a str)]) -> Self {
        self.query = query;
        self
    }

    /// Sets the headers the request carries besides those [`sign`] adds.
    #[must_use]
    pub fn with_headers(mut self, headers: &'a [(&'a str, &'a str)]) -> Self {
        self.headers = headers;
        self
    }

    /// Signs these headers too (besides `x-oss-*`, `content-type` and
    /// `content-md5`, which are always signed); a name not present, or
    /// present with an empty value, is left out, as the official SDKs do.
    #[must_use]
    pub fn with_additional_headers(mut self, names: &'a [&'a str]) -> Self {
        self.additional_headers = names;
        self
    }
}

/// Whether a header (lower-case name) is signed whatever the request says.
fn always_signed(name: &str) -> bool {
    name.starts_with("x-oss-") || name == "content-type" || name == "content-md5"
}

/// The additional header names that are signed: lower-case, sorted, each
/// present with a non-empty value and not already signed by default.
pub fn additional_headers(request: &OssRequest<'_>) -> Vec<String> {
    let mut names: Vec<String> = request
        .additional_headers
        .iter()
        .map(|n| n.to_ascii_lowercase())
        .filter(|n| !always_signed(n))
        .filter(|n| {
            request
                .headers
                .iter()
                .any(|(k, v)| k.eq_ignore_ascii_case(n) && !v.is_empty())
        })
        .collect();
    names.sort();
    names.dedup();
    names
}

/// `/<bucket>/<key>`, percent-encoded except `/`.
pub fn canonical_uri(bucket: &str, key: &str) -> String {
    let mut raw = String::with_capacity(bucket.len() + key.len() + 2);
    raw.push('/');
    if !bucket.is_empty() {
        raw.push_str(bucket);
        raw.push('/');
    }
    raw.push_str(key);
    let mut out = String::with_capacity(raw.len() + raw.len() / 2);
    for (i, segment) in raw.split('/').enumerate() {
        if i > 0 {
            out.push('/');
        }
        percent_encode_into(&mut out, segment);
    }
    out
}

/// The canonical query: each parameter percent-encoded, sorted, `name=value`
/// or `name` alone for an empty value, joined with `&`.
pub fn canonical_query(query: &[(&str, &str)]) -> String {
    let mut pairs: Vec<(String, String)> = query
        .iter()
        .map(|(k, v)| {
            let (mut key, mut value) = (String::new(), String::new());
            percent_encode_into(&mut key, k);
            percent_encode_into(&mut value, v);
            (key, value)
        })
        .collect();
    pairs.sort();
    let mut out = String::new();
    for (i, (key, value)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        out.push_str(key);
        if !value.is_empty() {
            out.push('=');
            out.push_str(value);
        }
    }
    out
}

/// The canonical request of `request` carrying `headers` (its own and those
/// the signer adds), with `additional` as returned by
/// [`additional_headers`].
pub fn canonical_request(
    request: &OssRequest<'_>,
    headers: &[(&str, &str)],
    additional: &[String],
) -> String {
    let mut signed: Vec<(String, &str)> = headers
        .iter()
        .map(|(k, v)| (k.to_ascii_lowercase(), *v))
        .filter(|(k, _)| always_signed(k) || additional.iter().any(|a| a == k))
        .collect();
    signed.sort_by(|a, b| a.0.cmp(&b.0));
    let payload = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("x-oss-content-sha256"))
        .map_or(UNSIGNED_PAYLOAD, |(_, v)| *v);
    let mut out = String::new();
    out.push_str(request.method);
    out.push('\n');
    out.push_str(&canonical_uri(request.bucket, request.key));
    out.push('\n');
    out.push_str(&canonical_query(request.query));
    out.push('\n');
    for (name, value) in &signed {
        out.push_str(name);
        out.push(':');
        out.push_str(value);
        out.push('\n');
    }
    out.push('\n');
    out.push_str(&additional.join(";"));
    out.push('\n');
    out.push_str(payload);
    out
}

/// `<yyyymmdd>/<region>/<product>/aliyun_v4_request`.
pub fn scope(date: &str, region: &str, product: &str) -> String {
    alloc::format!("{date}/{region}/{product}/aliyun_v4_request")
}

/// The string to sign.
pub fn string_to_sign(datetime: &str, scope: &str, canonical_request: &str) -> String {
    let mut out = String::with_capacity(ALGORITHM.len() + datetime.len() + scope.len() + 67);
    out.push_str(ALGORITHM);
    out.push('\n');
    out.push_str(datetime);
    out.push('\n');
    out.push_str(scope);
    out.push('\n');
    let hash = digest::digest(&digest::SHA256, canonical_request.as_bytes());
    hex_lower_into(&mut out, hash.as_ref());
    out
}

/// The hex signature: the signing key chained from the secret over date,
/// region and product, then HMAC-SHA256 of the string to sign.
pub fn signature(
    access_key_secret: &str,
    date: &str,
    region: &str,
    product: &str,
    string_to_sign: &str,
) -> String {
    let mut seed = String::with_capacity(9 + access_key_secret.len());
    seed.push_str("aliyun_v4");
    seed.push_str(access_key_secret);
    let mut key = hmac::sign(
        &hmac::Key::new(hmac::HMAC_SHA256, seed.as_bytes()),
        date.as_bytes(),
    );
    for part in [region, product, "aliyun_v4_request"] {
        key = hmac::sign(
            &hmac::Key::new(hmac::HMAC_SHA256, key.as_ref()),
            part.as_bytes(),
        );
    }
    let tag = hmac::sign(
        &hmac::Key::new(hmac::HMAC_SHA256, key.as_ref()),
        string_to_sign.as_bytes(),
    );
    let mut out = String::with_capacity(64);
    hex_lower_into(&mut out, tag.as_ref());
    out
}

/// `yyyymmddThhmmssZ` of `time` (UTC).
///
/// # Errors
/// [`SignError::is_time`] for a year outside 0000..=9999.
pub fn format_datetime(time: OffsetDateTime) -> Result<String, SignError> {
    let utc = time.to_offset(time::UtcOffset::UTC);
    let year = utc.year();
    if !(0..=9999).contains(&year) {
        return Err(SignError::time("the year is outside 0000..=9999"));
    }
    Ok(alloc::format!(
        "{year:04}{:02}{:02}T{:02}{:02}{:02}Z",
        u8::from(utc.month()),
        utc.day(),
        utc.hour(),
        utc.minute(),
        utc.second()
    ))
}

/// Signs `request` for `region` and returns the headers to add, in this
/// order: `x-oss-date`, `x-oss-content-sha256` (`UNSIGNED-PAYLOAD`), for
/// STS credentials `x-oss-security-token`, then `Authorization`. The
/// caller sends its own headers unchanged.
///
/// # Errors
/// [`SignError::is_invalid_input`] for an empty method, bucket or region,
/// or a header value with control characters, or a header the signer sets;
/// [`SignError::is_time`] for a time outside the years 0000..=9999.
pub fn sign(
    request: &OssRequest<'_>,
    credentials: &Credentials,
    time: OffsetDateTime,
    region: &str,
) -> Result<Vec<(&'static str, String)>, SignError> {
    if request.method.is_empty() || !request.method.bytes().all(|b| b.is_ascii_uppercase()) {
        return Err(SignError::input(
            "the OSS method",
            "is empty or not an upper-case HTTP method such as GET",
        ));
    }
    if request.bucket.is_empty() || region.is_empty() {
        return Err(SignError::input(
            "the OSS bucket or region",
            "is empty; the object's URI names the bucket and the client's region the region",
        ));
    }
    for (name, value) in request.headers {
        if !is_header_value(value) {
            return Err(SignError::input(
                alloc::format!("OSS header `{name}`"),
                "holds control characters",
            ));
        }
        let lower = name.to_ascii_lowercase();
        if matches!(
            lower.as_str(),
            "x-oss-date" | "x-oss-content-sha256" | "x-oss-security-token" | "authorization"
        ) {
            return Err(SignError::input(
                alloc::format!("OSS header `{name}`"),
                "is set by the signer; do not pass it",
            ));
        }
    }
    let datetime = format_datetime(time)?;
    let date = &datetime[..8];
    let mut added: Vec<(&'static str, String)> = Vec::with_capacity(4);
    added.push(("x-oss-date", datetime.clone()));
    added.push(("x-oss-content-sha256", UNSIGNED_PAYLOAD.to_owned()));
    if let Some(token) = credentials.security_token() {
        added.push(("x-oss-security-token", token.to_owned()));
    }
    let mut all: Vec<(&str, &str)> = request.headers.to_vec();
    all.extend(added.iter().map(|(k, v)| (*k, v.as_str())));
    let additional = additional_headers(request);
    let canonical = canonical_request(request, &all, &additional);
    let scope = scope(date, region, PRODUCT);
    let to_sign = string_to_sign(&datetime, &scope, &canonical);
    let signature = signature(
        credentials.access_key_secret(),
        date,
        region,
        PRODUCT,
        &to_sign,
    );
    let mut authorization = alloc::format!(
        "{ALGORITHM} Credential={}/{scope}",
        credentials.access_key_id()
    );
    if !additional.is_empty() {
        authorization.push_str(",AdditionalHeaders=");
        authorization.push_str(&additional.join(";"));
    }
    authorization.push_str(",Signature=");
    authorization.push_str(&signature);
    added.push(("Authorization", authorization));
    Ok(added)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_uri_keeps_slashes_and_encodes_the_rest() {
        assert_eq!(canonical_uri("b", "a/b c/ü~*"), "/b/a/b%20c/%C3%BC~%2A");
        assert_eq!(canonical_uri("b", ""), "/b/");
        assert_eq!(canonical_uri("", ""), "/");
    }

    #[test]
    fn the_query_is_sorted_and_empty_values_stand_alone() {
        assert_eq!(
            canonical_query(&[("versionId", "v 1"), ("acl", ""), ("a", "x")]),
            "a=x&acl&versionId=v%201"
        );
    }

    #[test]
    fn additional_headers_are_lower_sorted_present_and_not_default() {
        let headers = [("Range", "bytes=0-9"), ("Host", "b.oss"), ("X-Empty", "")];
        let request = OssRequest::new("GET", "b", "k")
            .with_headers(&headers)
            .with_additional_headers(&["host", "RANGE", "x-empty", "absent", "x-oss-meta"]);
        assert_eq!(additional_headers(&request), ["host", "range"]);
    }

    #[test]
    fn headers_the_signer_sets_are_refused() {
        let creds = Credentials::new("ak", "sk").unwrap();
        let headers = [("X-OSS-Date", "x")];
        let request = OssRequest::new("GET", "b", "k").with_headers(&headers);
        let time = time::macros::datetime!(2026-01-01 0:00 UTC);
        assert!(
            sign(&request, &creds, time, "cn-hangzhou")
                .unwrap_err()
                .is_invalid_input()
        );
        let request = OssRequest::new("GET", "", "k");
        assert!(
            sign(&request, &creds, time, "cn-hangzhou")
                .unwrap_err()
                .is_invalid_input()
        );
        let request = OssRequest::new("get", "b", "k");
        assert!(
            sign(&request, &creds, time, "cn-hangzhou")
                .unwrap_err()
                .is_invalid_input()
        );
    }
}
