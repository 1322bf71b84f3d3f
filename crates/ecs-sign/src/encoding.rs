//! Percent-encoding as the service defines it, and the server side's
//! query-string decoder.
//!
//! As docs/api/describe-invocation-results.md#percent-encoding says: unreserved
//! `A-Z a-z 0-9 - _ . ~` are kept, every other byte of the UTF-8 text becomes
//! `%XX` with upper-case hex (so a space is `%20`, never `+`, and `*` is
//! `%2A`).

use alloc::string::String;
use alloc::vec::Vec;

use crate::SignError;

const HEX_UPPER: &[u8; 16] = b"0123456789ABCDEF";
const HEX_LOWER: &[u8; 16] = b"0123456789abcdef";

/// For each byte, whether [`percent_encode`] keeps it as is.
static UNRESERVED: [bool; 256] = {
    let mut table = [false; 256];
    let mut b: u8 = 0;
    loop {
        table[b as usize] =
            b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.' || b == b'~';
        if b == u8::MAX {
            break;
        }
        b += 1;
    }
    table
};

/// Whether `b` is kept as is by [`percent_encode`].
#[inline]
fn is_unreserved(b: u8) -> bool {
    UNRESERVED[usize::from(b)]
}

/// Percent-encodes `s` as the service does: unreserved `A-Za-z0-9-_.~` kept,
/// every other UTF-8 byte as `%XX` (upper-case hex; space is `%20`, `*` is
/// `%2A`).
///
/// ```
/// assert_eq!(ecs_sign::percent_encode("a b*c~/张"), "a%20b%2Ac~%2F%E5%BC%A0");
/// ```
pub fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + s.len() / 2);
    percent_encode_into(&mut out, s);
    out
}

/// Appends the percent-encoding of `s` (see [`percent_encode`]) to `out`,
/// without allocating beyond `out`'s growth.
pub fn percent_encode_into(out: &mut String, s: &str) {
    let bytes = s.as_bytes();
    let mut run_start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        if is_unreserved(b) {
            continue;
        }
        // Every byte between `run_start` and `i` is unreserved ASCII, so both
        // ends are character boundaries; `get` keeps this panic-free anyway.
        if let Some(run) = s.get(run_start..i) {
            out.push_str(run);
        }
        out.push('%');
        out.push(char::from(HEX_UPPER[usize::from(b >> 4)]));
        out.push(char::from(HEX_UPPER[usize::from(b & 0x0f)]));
        run_start = i + 1;
    }
    if let Some(run) = s.get(run_start..) {
        out.push_str(run);
    }
}

/// Appends `percent_encode(percent_encode(s))` to `out` in one pass: an
/// unreserved byte stays, any other byte `b` becomes `%25XX` (the escape of
/// `%XX`). This is how each part of the V1 canonical query appears in the
/// string to sign.
pub(crate) fn percent_encode_twice_into(out: &mut Vec<u8>, s: &str) {
    let bytes = s.as_bytes();
    let mut run_start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        if is_unreserved(b) {
            continue;
        }
        if let Some(run) = bytes.get(run_start..i) {
            out.extend_from_slice(run);
        }
        out.extend_from_slice(&[
            b'%',
            b'2',
            b'5',
            HEX_UPPER[usize::from(b >> 4)],
            HEX_UPPER[usize::from(b & 0x0f)],
        ]);
        run_start = i + 1;
    }
    if let Some(run) = bytes.get(run_start..) {
        out.extend_from_slice(run);
    }
}

/// Encodes `pairs` as a query string in the given order, name and value
/// percent-encoded with [`percent_encode`], joined with `&` (no leading `?`).
///
/// This is the canonical wire form: sending it keeps what is signed and what
/// is sent identical (docs/api/describe-invocation-results.md#query-encoding).
///
/// ```
/// let q = ecs_sign::encode_query(&[("Tag.1.Value", "prod test"), ("Empty", "")]);
/// assert_eq!(q, "Tag.1.Value=prod%20test&Empty=");
/// ```
pub fn encode_query<K: AsRef<str>, V: AsRef<str>>(pairs: &[(K, V)]) -> String {
    let len: usize = pairs
        .iter()
        .map(|(k, v)| k.as_ref().len() + v.as_ref().len() + 2)
        .sum();
    let mut out = String::with_capacity(len + len / 2);
    for (i, (k, v)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        percent_encode_into(&mut out, k.as_ref());
        out.push('=');
        percent_encode_into(&mut out, v.as_ref());
    }
    out
}

/// Decodes `%XX` escapes in `s` (hex in either case). A `+` stays a `+`: use
/// [`parse_query`] for form-encoded query strings.
///
/// # Errors
/// A `%` not followed by two hex digits, or decoded bytes that are not
/// UTF-8, give a [`SignError::is_query`] error naming `s`.
pub fn percent_decode(s: &str) -> Result<String, SignError> {
    decode(s, false).map_err(|reason| SignError::query(s, reason))
}

fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

fn decode(s: &str, plus_is_space: bool) -> Result<String, &'static str> {
    let bytes = s.as_bytes();
    if !bytes
        .iter()
        .any(|&b| b == b'%' || (plus_is_space && b == b'+'))
    {
        return Ok(String::from(s));
    }
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'%' => {
                let hi = bytes.get(i + 1).copied().and_then(hex_value);
                let lo = bytes.get(i + 2).copied().and_then(hex_value);
                match (hi, lo) {
                    (Some(hi), Some(lo)) => out.push((hi << 4) | lo),
                    _ => return Err("has a `%` that is not followed by two hex digits"),
                }
                i += 3;
            }
            b'+' if plus_is_space => {
                out.push(b' ');
                i += 1;
            }
            _ => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).map_err(|_| "decodes to bytes that are not UTF-8")
}

/// Parses a query string or an `application/x-www-form-urlencoded` body the
/// way the server does: pairs separated by `&`, name and value split at the
/// first `=` (a pair without `=` has an empty value), `+` decoded as a space
/// and `%XX` as a byte. Empty segments (`a=1&&b=2`) are skipped; a leading
/// `?` is ignored. Order and duplicates are kept.
///
/// Form decoding matters: the tea SDK sends `Tag.1.Value=prod+test` while it
/// signed `prod%20test`, and the service accepts it
/// (docs/api/describe-invocation-results.md#query-encoding).
///
/// ```
/// let pairs = ecs_sign::parse_query("Tag.1.Value=prod+test&Name=%E5%BC%A0&Flag").unwrap();
/// assert_eq!(pairs[0], ("Tag.1.Value".to_string(), "prod test".to_string()));
/// assert_eq!(pairs[1].1, "张");
/// assert_eq!(pairs[2], ("Flag".to_string(), String::new()));
/// ```
///
/// # Errors
/// A bad `%` escape or bytes that are not UTF-8 give a
/// [`SignError::is_query`] error whose [`parameter`](SignError::parameter)
/// is the parameter's name (decoded when the name itself is fine, else as
/// it appeared).
pub fn parse_query(query: &str) -> Result<Vec<(String, String)>, SignError> {
    let query = query.strip_prefix('?').unwrap_or(query);
    let mut out = Vec::with_capacity(query.bytes().filter(|&b| b == b'&').count() + 1);
    for segment in query.split('&') {
        if segment.is_empty() {
            continue;
        }
        let (raw_name, raw_value) = segment.split_once('=').unwrap_or((segment, ""));
        let name = decode(raw_name, true).map_err(|reason| SignError::query(raw_name, reason))?;
        let value = decode(raw_value, true).map_err(|reason| SignError::query(&*name, reason))?;
        out.push((name, value));
    }
    Ok(out)
}

/// Whether `s` is a non-empty HTTP token (RFC 9110 `tchar`s): what method
/// and header names must be.
pub(crate) fn is_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes().all(|b| {
            b.is_ascii_alphanumeric()
                || matches!(
                    b,
                    b'!' | b'#'
                        | b'$'
                        | b'%'
                        | b'&'
                        | b'\''
                        | b'*'
                        | b'+'
                        | b'-'
                        | b'.'
                        | b'^'
                        | b'_'
                        | b'`'
                        | b'|'
                        | b'~'
                )
        })
}

/// Whether `s` can be an HTTP field value: no control characters other
/// than horizontal tab.
pub(crate) fn is_header_value(s: &str) -> bool {
    s.bytes().all(|b| b == b'\t' || (b >= 0x20 && b != 0x7f))
}

/// Appends the lower-case hex form of `bytes` to `out`.
pub(crate) fn hex_lower_into(out: &mut String, bytes: &[u8]) {
    out.reserve(bytes.len() * 2);
    for &b in bytes {
        out.push(char::from(HEX_LOWER[usize::from(b >> 4)]));
        out.push(char::from(HEX_LOWER[usize::from(b & 0x0f)]));
    }
}

/// Writes the lower-case hex form of `bytes` into `out` (which must be
/// twice as long; extra bytes of either side are left alone).
pub(crate) fn hex_lower_to(out: &mut [u8], bytes: &[u8]) {
    for (pair, &b) in out.chunks_exact_mut(2).zip(bytes) {
        pair.copy_from_slice(&[
            HEX_LOWER[usize::from(b >> 4)],
            HEX_LOWER[usize::from(b & 0x0f)],
        ]);
    }
}

/// Decodes lower- or upper-case hex into `out`; `None` unless `hex` is
/// exactly `2 * out.len()` hex digits.
pub(crate) fn hex_decode(hex: &str, out: &mut [u8]) -> Option<()> {
    let bytes = hex.as_bytes();
    if bytes.len() != out.len() * 2 {
        return None;
    }
    for (slot, pair) in out.iter_mut().zip(bytes.chunks_exact(2)) {
        let hi = pair.first().copied().and_then(hex_value)?;
        let lo = pair.get(1).copied().and_then(hex_value)?;
        *slot = (hi << 4) | lo;
    }
    Some(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::borrow::ToOwned;
    use alloc::vec;

    #[test]
    fn encodes_per_spec() {
        let cases = [
            ("", ""),
            ("AZaz09-_.~", "AZaz09-_.~"),
            ("a b", "a%20b"),
            ("a*b", "a%2Ab"),
            ("+/=&", "%2B%2F%3D%26"),
            ("环境", "%E7%8E%AF%E5%A2%83"),
            ("2026-01-02T03:04:05Z", "2026-01-02T03%3A04%3A05Z"),
            ("é~", "%C3%A9~"),
            ("\u{0}", "%00"),
        ];
        for (input, want) in cases {
            assert_eq!(percent_encode(input), want, "input {input:?}");
        }
        for (input, _) in cases {
            let mut twice = Vec::new();
            percent_encode_twice_into(&mut twice, input);
            let want = percent_encode(&percent_encode(input));
            assert_eq!(twice, want.as_bytes(), "input {input:?}");
        }
        let mut out = "x=".to_owned();
        percent_encode_into(&mut out, "a b");
        assert_eq!(out, "x=a%20b");
    }

    #[test]
    fn encodes_empty_names_and_values() {
        assert_eq!(encode_query(&[("", "")]), "=");
        assert_eq!(encode_query(&[("a", ""), ("", "b")]), "a=&=b");
        assert_eq!(encode_query::<&str, &str>(&[]), "");
    }

    #[test]
    fn a_lone_percent_or_plus_is_decoded_not_passed_through() {
        // Strings of only `%` or only `+` have nothing else to decode.
        assert!(percent_decode("%").is_err());
        assert!(percent_decode("%%").is_err());
        assert!(parse_query("a=%").is_err());
        assert_eq!(percent_decode("+").unwrap(), "+");
        assert_eq!(
            parse_query("+=++").unwrap(),
            vec![(" ".to_owned(), "  ".to_owned())]
        );
    }

    #[test]
    fn decodes_strictly() {
        assert_eq!(percent_decode("a%20b+c%2a").unwrap(), "a b+c*");
        let e = percent_decode("a%2").unwrap_err();
        assert!(e.is_query());
        assert_eq!(e.parameter(), Some("a%2"));
        assert!(percent_decode("%zz").is_err());
        let e = percent_decode("%FF").unwrap_err();
        assert_eq!(e.reason(), "decodes to bytes that are not UTF-8");
    }

    #[test]
    fn parses_form_queries() {
        let got = parse_query("?a=1&&b=x+y%2B&c&d=e=f&").unwrap();
        let want = vec![
            ("a".to_owned(), "1".to_owned()),
            ("b".to_owned(), "x y+".to_owned()),
            ("c".to_owned(), String::new()),
            ("d".to_owned(), "e=f".to_owned()),
        ];
        assert_eq!(got, want);
        assert!(parse_query("").unwrap().is_empty());
    }

    #[test]
    fn parse_errors_name_the_parameter() {
        let e = parse_query("ok=1&Tag.1.Value=%C3%28").unwrap_err();
        assert_eq!(e.parameter(), Some("Tag.1.Value"));
        assert_eq!(
            alloc::string::ToString::to_string(&e),
            "cannot decode query parameter `Tag.1.Value`: decodes to bytes that are not UTF-8"
        );
        let e = parse_query("bad%G0name=1").unwrap_err();
        assert_eq!(e.parameter(), Some("bad%G0name"));
    }

    #[test]
    fn hex_round_trips() {
        let mut s = String::new();
        hex_lower_into(&mut s, &[0x00, 0xab, 0xff]);
        assert_eq!(s, "00abff");
        let mut out = [0u8; 3];
        assert_eq!(hex_decode("00ABff", &mut out), Some(()));
        assert_eq!(out, [0x00, 0xab, 0xff]);
        assert_eq!(hex_decode("00ab", &mut out), None);
        assert_eq!(hex_decode("00abfg", &mut out), None);
    }
}
