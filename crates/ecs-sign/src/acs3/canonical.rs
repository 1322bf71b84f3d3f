//! The canonical request of ACS3-HMAC-SHA256, shared by signing and
//! verification.
//!
//! ```text
//! METHOD \n PATH \n CANONICAL_QUERY \n (name:value \n)* \n SIGNED_HEADERS \n HEX(SHA-256(body))
//! ```
//! Query: keys sorted and **not** encoded, values percent-encoded
//! (docs/api/describe-invocation-results.md#signature-v3); an empty value is
//! `k=`. Headers: names lower-cased, values trimmed, repeated names joined with
//! `,`.

use alloc::borrow::Cow;
use alloc::string::String;
use alloc::vec::Vec;
use ring::digest;

use crate::SignError;
use crate::encoding::{hex_lower_into, is_header_value, is_token, percent_encode_into};

/// One header going into the canonical request: lower-case name, trimmed
/// value.
pub(crate) type Header<'a> = (Cow<'a, str>, &'a str);

/// Lower-cases `name` without allocating when it already is.
pub(crate) fn lower(name: &str) -> Cow<'_, str> {
    if name.bytes().any(|b| b.is_ascii_uppercase()) {
        Cow::Owned(name.to_ascii_lowercase())
    } else {
        Cow::Borrowed(name)
    }
}

/// Checks a header for signing: the name a token, the value a field value.
pub(crate) fn check_header(name: &str, value: &str) -> Result<(), SignError> {
    if !is_token(name) {
        return Err(SignError::input(
            alloc::format!("header name `{}`", name.escape_debug()),
            "is not a valid HTTP token",
        ));
    }
    if !is_header_value(value) {
        return Err(SignError::input(
            alloc::format!("the value of header `{name}`"),
            "holds control characters (such as CR or LF), which HTTP does not allow",
        ));
    }
    Ok(())
}

/// Checks the canonical URI: an absolute path, already percent-encoded as
/// it is sent.
pub(crate) fn check_path(path: &str) -> Result<(), SignError> {
    if !path.starts_with('/') {
        return Err(SignError::input("the path", "must start with `/`"));
    }
    if path
        .bytes()
        .any(|b| b <= b' ' || b == 0x7f || b == b'?' || b == b'#')
    {
        return Err(SignError::input(
            "the path",
            "holds whitespace, control characters, `?` or `#`; pass the query separately and percent-encode the path",
        ));
    }
    Ok(())
}

/// The hex SHA-256 of the empty body.
pub(crate) const EMPTY_SHA256: &str =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/// The hex SHA-256 of `body`, the value of `x-acs-content-sha256`.
pub fn hashed_payload(body: &[u8]) -> String {
    let mut out = String::with_capacity(64);
    hex_lower_into(&mut out, digest::digest(&digest::SHA256, body).as_ref());
    out
}

/// Writes the canonical request for headers already in their signing order
/// (repeated names adjacent). Returns the canonical request and the
/// `SignedHeaders` list.
pub(crate) fn write(
    method: &str,
    path: &str,
    query: &[(&str, &str)],
    headers: &[Header<'_>],
    hashed_payload: &str,
) -> (String, String) {
    let mut signed = String::with_capacity(headers.iter().map(|h| h.0.len() + 1).sum());
    let qlen: usize = query.iter().map(|(k, v)| k.len() + v.len() + 2).sum();
    let hlen: usize = headers.iter().map(|(k, v)| k.len() + v.len() + 2).sum();
    let mut out = String::with_capacity(
        method.len() + path.len() + qlen + qlen / 2 + hlen * 2 + hashed_payload.len() + 8,
    );
    out.push_str(method);
    out.push('\n');
    out.push_str(path);
    out.push('\n');
    for (i, (k, v)) in query.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        out.push_str(k);
        out.push('=');
        percent_encode_into(&mut out, v);
    }
    out.push('\n');
    let mut previous: Option<&str> = None;
    for (name, value) in headers {
        if previous == Some(name.as_ref()) {
            out.push(',');
        } else {
            if previous.is_some() {
                out.push('\n');
                signed.push(';');
            }
            out.push_str(name);
            out.push(':');
            signed.push_str(name);
        }
        out.push_str(value);
        previous = Some(name.as_ref());
    }
    if previous.is_some() {
        out.push('\n');
    }
    out.push('\n');
    out.push_str(&signed);
    out.push('\n');
    out.push_str(hashed_payload);
    (out, signed)
}

/// Sorts query pairs by key, then value (the Python SDK sorts a dict, so
/// keys are unique there; the value order keeps repeated keys
/// deterministic).
pub(crate) fn sorted_query<K: AsRef<str>, V: AsRef<str>>(query: &[(K, V)]) -> Vec<(&str, &str)> {
    let mut q: Vec<(&str, &str)> = query
        .iter()
        .map(|(k, v)| (k.as_ref(), v.as_ref()))
        .collect();
    q.sort_unstable();
    q
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn joins_repeated_headers_and_handles_empty_parts() {
        let headers: [Header<'_>; 3] = [
            (Cow::Borrowed("a"), "1"),
            (Cow::Borrowed("a"), "2"),
            (Cow::Borrowed("b"), "x y"),
        ];
        let (text, signed) = write("GET", "/", &[("K", "v w"), ("E", "")], &headers, "h");
        assert_eq!(text, "GET\n/\nK=v%20w&E=\na:1,2\nb:x y\n\na;b\nh");
        assert_eq!(signed, "a;b");
        let (text, signed) = write("GET", "/", &[], &[], "h");
        assert_eq!(text, "GET\n/\n\n\n\nh");
        assert_eq!(signed, "");
        // A one-letter header with an empty value.
        let (text, signed) = write("GET", "/", &[], &[(Cow::Borrowed("a"), "")], "h");
        assert_eq!(text, "GET\n/\n\na:\n\na\nh");
        assert_eq!(signed, "a");
    }

    #[test]
    fn checks_names_values_and_paths() {
        assert!(check_header("x-acs-a", "v\t1").is_ok());
        assert!(
            check_header("bad name", "v")
                .unwrap_err()
                .is_invalid_input()
        );
        let e = check_header("x", "a\r\nb").unwrap_err();
        assert!(alloc::string::ToString::to_string(&e).contains("header `x`"));
        assert!(check_path("/").is_ok());
        assert!(check_path("").is_err());
        assert!(check_path("/a?b").is_err());
        assert!(check_path("/a b").is_err());
        assert_eq!(lower("X-Acs-A"), "x-acs-a");
        assert!(matches!(lower("x"), Cow::Borrowed(_)));
        assert_eq!(hashed_payload(b""), EMPTY_SHA256);
    }
}
