//! Where a delivered output lives in OSS: the object an `OssOutputUri`
//! names, and the URL to fetch it from.
//!
//! Two forms name an object: `oss://<bucket>/<key>` and
//! `https://<bucket>.<oss endpoint>/<key>` (as OSS writes object URLs;
//! `http://` too). The bucket follows OSS's naming rule (3 to 63 lower-case
//! letters, digits and `-`, starting and ending with a letter or digit);
//! the key is not empty.
//!
//! The request goes to `<bucket>.oss-<region>.aliyuncs.com`, or
//! `<bucket>.oss-<region>-internal.aliyuncs.com` with the VPC endpoint
//! type, unless an OSS endpoint is given: then to `<bucket>.<that host>`,
//! or to `<that host>/<bucket>/<key>` (path style) when the host is an IP
//! address, `localhost` or carries a port, as the official SDKs do for
//! such endpoints.

use std::fmt;

use crate::endpoint::{Endpoint, EndpointType};

/// One OSS object: a bucket and a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OssObject {
    bucket: String,
    key: String,
    region: Option<String>,
}

impl OssObject {
    /// Reads an `OssOutputUri`: `oss://bucket/key` or
    /// `https://bucket.<oss endpoint>/key`.
    ///
    /// ```
    /// use ecs_assist::OssObject;
    /// let object = OssObject::parse("oss://my-bucket/out/t-1/i-1.txt")?;
    /// assert_eq!((object.bucket(), object.key()), ("my-bucket", "out/t-1/i-1.txt"));
    /// let object = OssObject::parse("https://my-bucket.oss-cn-beijing.aliyuncs.com/a%20b")?;
    /// assert_eq!((object.key(), object.region()), ("a b", Some("cn-beijing")));
    /// # Ok::<(), String>(())
    /// ```
    ///
    /// # Errors
    /// A message that says which form was expected and what is wrong.
    pub fn parse(uri: &str) -> Result<Self, String> {
        let text = uri.trim();
        let shown = text.escape_debug();
        let expected = "expected oss://<bucket>/<key> or https://<bucket>.<oss endpoint>/<key>";
        if let Some(rest) = strip_prefix_ci(text, "oss://") {
            let (bucket, key) = rest.split_once('/').unwrap_or((rest, ""));
            check_bucket(bucket).map_err(|why| format!("OSS URI `{shown}`: {why}"))?;
            let key = check_key(key).map_err(|why| format!("OSS URI `{shown}`: {why}"))?;
            return Ok(Self {
                bucket: bucket.to_owned(),
                key,
                region: None,
            });
        }
        let rest = strip_prefix_ci(text, "https://")
            .or_else(|| strip_prefix_ci(text, "http://"))
            .ok_or_else(|| format!("OSS URI `{shown}` has an unknown form: {expected}"))?;
        let (host, path) = rest.split_once('/').unwrap_or((rest, ""));
        if path.contains(['?', '#']) || host.contains('@') {
            return Err(format!(
                "OSS URI `{shown}` carries a query, fragment or user name: {expected}"
            ));
        }
        let host = host.to_ascii_lowercase();
        let (bucket, endpoint) = host.split_once('.').unwrap_or((host.as_str(), ""));
        if !endpoint.starts_with("oss") {
            return Err(format!(
                "OSS URI `{shown}` does not name a bucket on an OSS endpoint \
                 (<bucket>.oss-<region>.aliyuncs.com): {expected}"
            ));
        }
        check_bucket(bucket).map_err(|why| format!("OSS URI `{shown}`: {why}"))?;
        let decoded = percent_decode(path).ok_or_else(|| {
            format!("OSS URI `{shown}`: the key is not valid percent-encoded UTF-8")
        })?;
        let key = check_key(&decoded).map_err(|why| format!("OSS URI `{shown}`: {why}"))?;
        let region = endpoint
            .strip_prefix("oss-")
            .and_then(|r| r.strip_suffix(".aliyuncs.com"))
            .map(|r| r.strip_suffix("-internal").unwrap_or(r))
            .filter(|r| !r.is_empty() && !r.contains('.'))
            .map(str::to_owned);
        Ok(Self {
            bucket: bucket.to_owned(),
            key,
            region,
        })
    }

    /// The bucket.
    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    /// The object key.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// The region named by an `https://bucket.oss-<region>.aliyuncs.com`
    /// URI, if any.
    pub fn region(&self) -> Option<&str> {
        self.region.as_deref()
    }
}

impl fmt::Display for OssObject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "oss://{}/{}", self.bucket, self.key)
    }
}

/// The URL and `Host` of a GET of `object`, given the client's region,
/// endpoint type and OSS endpoint override.
pub(crate) fn object_url(
    object: &OssObject,
    region: &str,
    endpoint_type: EndpointType,
    endpoint: Option<&Endpoint>,
) -> (String, String) {
    // `/<key>` with every segment percent-encoded, as signed.
    let path = ecs_sign::oss_v4::canonical_uri("", &object.key);
    match endpoint {
        Some(endpoint) if path_style(endpoint.authority()) => {
            let full = ecs_sign::oss_v4::canonical_uri(&object.bucket, &object.key);
            let host = endpoint.authority().to_owned();
            (
                format!("{}://{host}{full}", endpoint.scheme().as_str()),
                host,
            )
        }
        Some(endpoint) => {
            let host = format!("{}.{}", object.bucket, endpoint.authority());
            (
                format!("{}://{host}{path}", endpoint.scheme().as_str()),
                host,
            )
        }
        None => {
            let internal = match endpoint_type {
                EndpointType::Vpc => "-internal",
                _ => "",
            };
            let host = format!(
                "{}.oss-{}{internal}.aliyuncs.com",
                object.bucket,
                region.to_ascii_lowercase()
            );
            (format!("https://{host}{path}"), host)
        }
    }
}

/// Whether an endpoint is addressed path style: an IP address, `localhost`
/// or an explicit port.
fn path_style(authority: &str) -> bool {
    if authority.starts_with('[') {
        return true;
    }
    let (host, port) = match authority.rsplit_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (authority, None),
    };
    port.is_some()
        || host.eq_ignore_ascii_case("localhost")
        || host.parse::<std::net::Ipv4Addr>().is_ok()
}

fn check_bucket(bucket: &str) -> Result<(), String> {
    let ok_chars = bucket
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    let ends_ok = !bucket.starts_with('-') && !bucket.ends_with('-');
    if (3..=63).contains(&bucket.len()) && ok_chars && ends_ok {
        Ok(())
    } else {
        Err(format!(
            "`{}` is not a bucket name (3 to 63 lower-case letters, digits and `-`, \
             starting and ending with a letter or digit)",
            bucket.escape_debug()
        ))
    }
}

fn check_key(key: &str) -> Result<String, String> {
    if key.is_empty() {
        return Err("it names a bucket (or a prefix) but no object key".to_owned());
    }
    if key.len() > 1023 || key.chars().any(char::is_control) {
        return Err(
            "the object key is longer than 1023 bytes or holds control characters".to_owned(),
        );
    }
    Ok(key.to_owned())
}

fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = text.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

fn strip_prefix_ci<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    let head = text.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &text[prefix.len()..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_uri_forms_name_the_same_object() {
        let a = OssObject::parse("oss://bkt-1/p/t-1/i-1.txt").unwrap();
        let b =
            OssObject::parse("https://bkt-1.oss-cn-hangzhou.aliyuncs.com/p/t-1/i-1.txt").unwrap();
        assert_eq!((a.bucket(), a.key()), (b.bucket(), b.key()));
        assert_eq!(a.region(), None);
        assert_eq!(b.region(), Some("cn-hangzhou"));
        let internal =
            OssObject::parse("http://bkt-1.oss-cn-beijing-internal.aliyuncs.com/k").unwrap();
        assert_eq!(internal.region(), Some("cn-beijing"));
        assert_eq!(a.to_string(), "oss://bkt-1/p/t-1/i-1.txt");
    }

    #[test]
    fn other_forms_are_refused_with_what_to_give() {
        for (uri, says) in [
            ("s3://bkt/k", "unknown form"),
            ("oss://bkt", "no object key"),
            ("oss://bkt/", "no object key"),
            ("oss://Bad_Bucket/k", "not a bucket name"),
            ("oss://ab/k", "not a bucket name"),
            ("https://bkt.s3.amazonaws.com/k", "OSS endpoint"),
            ("https://bkt.oss-cn-hangzhou.aliyuncs.com/k?x=1", "query"),
            (
                "https://bkt.oss-cn-hangzhou.aliyuncs.com/%zz",
                "percent-encoded",
            ),
            ("", "unknown form"),
        ] {
            let err = OssObject::parse(uri).unwrap_err();
            assert!(err.contains(says), "{uri}: {err}");
        }
    }

    #[test]
    fn the_endpoint_follows_region_type_and_override() {
        let object = OssObject::parse("oss://bkt/a b/c").unwrap();
        let public = object_url(&object, "cn-Hangzhou", EndpointType::Public, None);
        assert_eq!(
            public,
            (
                "https://bkt.oss-cn-hangzhou.aliyuncs.com/a%20b/c".to_owned(),
                "bkt.oss-cn-hangzhou.aliyuncs.com".to_owned()
            )
        );
        let vpc = object_url(&object, "cn-beijing", EndpointType::Vpc, None);
        assert_eq!(vpc.1, "bkt.oss-cn-beijing-internal.aliyuncs.com");
        let named = Endpoint::parse("https://oss-cn-shanghai.aliyuncs.com").unwrap();
        let over = object_url(&object, "cn-beijing", EndpointType::Vpc, Some(&named));
        assert_eq!(over.0, "https://bkt.oss-cn-shanghai.aliyuncs.com/a%20b/c");
        let local = Endpoint::parse("http://127.0.0.1:9000").unwrap();
        let path = object_url(&object, "cn-beijing", EndpointType::Public, Some(&local));
        assert_eq!(path.0, "http://127.0.0.1:9000/bkt/a%20b/c");
        assert_eq!(path.1, "127.0.0.1:9000");
        assert!(path_style("localhost") && path_style("[::1]:80") && path_style("10.0.0.1"));
        assert!(!path_style("oss-cn-hangzhou.aliyuncs.com"));
    }
}
