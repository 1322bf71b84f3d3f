//! Object Storage Service, as far as Cloud Assistant's output delivery
//! needs it: `GET` (and `HEAD`) of a delivered output, with `Range`,
//! authenticated by an `OSS4-HMAC-SHA256` signature checked with
//! `ecs_sign::oss_v4`, failing with OSS's XML error documents
//! (`AccessDenied`, `SignatureDoesNotMatch`, `InvalidAccessKeyId`,
//! `RequestTimeTooSkewed`, `NoSuchBucket`, `NoSuchKey`, `InvalidRange`,
//! `PreconditionFailed`). Objects carry an `ETag` and a `Last-Modified`
//! (see `versions`), and `If-Match` / `If-Unmodified-Since` are
//! honoured as OSS does: 412 `PreconditionFailed` when they do not hold.
//!
//! Requests are addressed virtual-hosted style (`Host: <bucket>.<anything>`)
//! or path style (`/<bucket>/<key>`, what clients send to an IP address or
//! a host with a port). A request is OSS's when it is signed for OSS, or
//! when its bucket is one the data holds outputs in.

pub(crate) mod versions;

use bytes::Bytes;
use http::header::{AUTHORIZATION, CONTENT_LENGTH, CONTENT_TYPE, HOST, RANGE};
use http::{Method, Response, StatusCode};
use time::OffsetDateTime;

use crate::body::EmuBody;
use crate::store::Store;

/// How far `x-oss-date` may be from the emulator's clock.
const SKEW_SECONDS: i64 = 15 * 60;

/// A request's bucket and (decoded) key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Target {
    pub(crate) bucket: String,
    pub(crate) key: String,
}

/// An OSS error: status, code and message, as OSS's XML document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct OssError {
    pub(crate) status: u16,
    pub(crate) code: &'static str,
    pub(crate) message: String,
    /// OSS's `EC` (error detail) code.
    pub(crate) ec: &'static str,
}

impl OssError {
    pub(crate) fn new(status: u16, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            ec: "0003-00000001",
        }
    }

    /// 412 `PreconditionFailed`: `If-Match` or `If-Unmodified-Since` did
    /// not hold.
    pub(crate) fn precondition_failed() -> Self {
        Self {
            ec: "0017-00001001",
            ..Self::new(
                412,
                "PreconditionFailed",
                "At least one of the pre-conditions you specified did not hold",
            )
        }
    }

    /// 503 `SlowDown` (the `throttle` fault).
    pub(crate) fn slow_down() -> Self {
        Self::new(503, "SlowDown", "Please reduce your request rate.")
    }

    /// 500 `InternalError` (the `error500` fault).
    pub(crate) fn internal() -> Self {
        Self::new(
            500,
            "InternalError",
            "We encountered an internal error. Please try again.",
        )
    }

    /// 503 `ServiceUnavailable` (the `error503` fault).
    pub(crate) fn unavailable() -> Self {
        Self::new(503, "ServiceUnavailable", "Please try again later.")
    }

    /// The error as OSS answers it.
    pub(crate) fn response(&self, request_id: &str, host: &str, key: &str) -> Response<EmuBody> {
        let body = format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error>\n  <Code>{}</Code>\n  \
             <Message>{}</Message>\n  <RequestId>{}</RequestId>\n  <HostId>{}</HostId>\n  \
             <Key>{}</Key>\n  <EC>{}</EC>\n</Error>\n",
            self.code,
            xml_escape(&self.message),
            xml_escape(request_id),
            xml_escape(host),
            xml_escape(key),
            self.ec,
        );
        let mut response = Response::new(EmuBody::Full(Some(Bytes::from(body))));
        *response.status_mut() =
            StatusCode::from_u16(self.status).unwrap_or(StatusCode::BAD_REQUEST);
        let headers = response.headers_mut();
        headers.insert(
            CONTENT_TYPE,
            http::HeaderValue::from_static("application/xml"),
        );
        if let Ok(v) = request_id.parse() {
            headers.insert("x-oss-request-id", v);
        }
        headers.insert("x-oss-ec", http::HeaderValue::from_static(self.ec));
        response
    }
}

fn xml_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The bucket and key of an OSS request, or `None` when it is not one.
pub(crate) fn route(parts: &http::request::Parts, store: &Store) -> Option<Target> {
    let path = parts.uri.path();
    if path == "/" || !(parts.method == Method::GET || parts.method == Method::HEAD) {
        return None;
    }
    let signed_for_oss = parts
        .headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("OSS"));
    let host = parts
        .headers
        .get(HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let host_name = host.rsplit_once(':').map_or(host, |(h, _)| h);
    let first_label = host_name.split('.').next().unwrap_or_default();
    let virtual_hosted = host_name.contains('.')
        && host_name.parse::<std::net::Ipv4Addr>().is_err()
        && (store.has_bucket(first_label) || (signed_for_oss && host_name.contains(".oss")));
    let raw = path.strip_prefix('/').unwrap_or(path);
    let (bucket, raw_key) = if virtual_hosted {
        (first_label.to_owned(), raw)
    } else {
        let (bucket, key) = raw.split_once('/').unwrap_or((raw, ""));
        if !signed_for_oss && !store.has_bucket(bucket) {
            return None;
        }
        (bucket.to_owned(), key)
    };
    let key = percent_decode(raw_key)?;
    Some(Target { bucket, key })
}

/// The parts of an `OSS4-HMAC-SHA256` `Authorization` header.
struct Authorization<'a> {
    access_key_id: &'a str,
    date: &'a str,
    region: &'a str,
    additional: Vec<&'a str>,
    signature: &'a str,
}

fn parse_authorization(value: &str) -> Option<Authorization<'_>> {
    let rest = value
        .strip_prefix(ecs_sign::oss_v4::ALGORITHM)?
        .trim_start();
    let (mut credential, mut additional, mut signature) = (None, Vec::new(), None);
    for part in rest.split(',') {
        let (name, value) = part.trim().split_once('=')?;
        match name {
            "Credential" => credential = Some(value),
            "AdditionalHeaders" => additional = value.split(';').collect(),
            "Signature" => signature = Some(value),
            _ => return None,
        }
    }
    let mut scope = credential?.split('/');
    let access_key_id = scope.next()?;
    let date = scope.next()?;
    let region = scope.next()?;
    if scope.next()? != ecs_sign::oss_v4::PRODUCT || scope.next()? != "aliyun_v4_request" {
        return None;
    }
    Some(Authorization {
        access_key_id,
        date,
        region,
        additional,
        signature: signature?,
    })
}

/// What the emulator's keys say about an access key id and token.
pub(crate) trait Keyring {
    /// The secret of `id`, after checking `token` against it; the error is
    /// OSS's.
    fn secret_for(
        &self,
        id: &str,
        token: Option<&str>,
        now: OffsetDateTime,
    ) -> Result<String, OssError>;
}

/// Checks the signature of an OSS request: the caller is known, its
/// token right, the time within the window, and the signature the one
/// `ecs_sign::oss_v4` computes for what was received.
pub(crate) fn authenticate(
    parts: &http::request::Parts,
    target: &Target,
    keys: &dyn Keyring,
    now: OffsetDateTime,
) -> Result<(), OssError> {
    let header = |name: &str| parts.headers.get(name).and_then(|v| v.to_str().ok());
    let Some(value) = header("authorization") else {
        return Err(OssError::new(
            403,
            "AccessDenied",
            "You have no right to access this object because of bucket acl.",
        ));
    };
    let auth = parse_authorization(value).ok_or_else(|| {
        OssError::new(
            400,
            "InvalidArgument",
            "Authorization header is invalid: expected OSS4-HMAC-SHA256 Credential=..,Signature=..",
        )
    })?;
    let secret = keys.secret_for(auth.access_key_id, header("x-oss-security-token"), now)?;
    let datetime = header("x-oss-date").unwrap_or_default();
    let time = time::PrimitiveDateTime::parse(
        datetime,
        time::macros::format_description!("[year][month][day]T[hour][minute][second]Z"),
    )
    .map_err(|_| {
        OssError::new(
            403,
            "AccessDenied",
            "x-oss-date is missing or not yyyymmddThhmmssZ.",
        )
    })?
    .assume_utc();
    if (time - now).whole_seconds().abs() > SKEW_SECONDS {
        return Err(OssError::new(
            403,
            "RequestTimeTooSkewed",
            "The difference between the request time and the current time is too large.",
        ));
    }
    let headers: Vec<(&str, &str)> = parts
        .headers
        .iter()
        .filter_map(|(k, v)| v.to_str().ok().map(|v| (k.as_str(), v)))
        .collect();
    let query = parts
        .uri
        .query()
        .map(ecs_sign::parse_query)
        .transpose()
        .map_err(|_| {
            OssError::new(
                400,
                "InvalidArgument",
                "the query is not valid percent-encoding",
            )
        })?
        .unwrap_or_default();
    let query: Vec<(&str, &str)> = query
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let request =
        ecs_sign::oss_v4::OssRequest::new(parts.method.as_str(), &target.bucket, &target.key)
            .with_query(&query)
            .with_headers(&headers)
            .with_additional_headers(&auth.additional);
    let additional = ecs_sign::oss_v4::additional_headers(&request);
    let canonical = ecs_sign::oss_v4::canonical_request(&request, &headers, &additional);
    let scope = ecs_sign::oss_v4::scope(auth.date, auth.region, ecs_sign::oss_v4::PRODUCT);
    let to_sign = ecs_sign::oss_v4::string_to_sign(datetime, &scope, &canonical);
    let expected = ecs_sign::oss_v4::signature(
        &secret,
        auth.date,
        auth.region,
        ecs_sign::oss_v4::PRODUCT,
        &to_sign,
    );
    if !datetime.starts_with(auth.date)
        || !crate::auth::constant_time_eq(expected.as_bytes(), auth.signature.as_bytes())
    {
        return Err(OssError::new(
            403,
            "SignatureDoesNotMatch",
            "The request signature we calculated does not match the signature you provided. \
             Check your key and signing method.",
        ));
    }
    Ok(())
}

/// The object, or `NoSuchBucket` / `NoSuchKey`.
pub(crate) fn object(store: &Store, target: &Target) -> Result<Bytes, OssError> {
    if !store.has_bucket(&target.bucket) {
        return Err(OssError::new(
            404,
            "NoSuchBucket",
            "The specified bucket does not exist.",
        ));
    }
    store
        .oss_object(&target.bucket, &target.key)
        .ok_or_else(|| OssError::new(404, "NoSuchKey", "The specified key does not exist."))
}

/// `If-Match` (an ETag in the list, or `*`) and, without it,
/// `If-Unmodified-Since` (not modified after that time; a date that does
/// not parse is ignored), checked against the object's `etag` and
/// `modified` time: 412 `PreconditionFailed` when one does not hold.
pub(crate) fn check_preconditions(
    parts: &http::request::Parts,
    etag: &str,
    modified: OffsetDateTime,
) -> Result<(), OssError> {
    let header = |name: http::header::HeaderName| {
        parts
            .headers
            .get(name)
            .map(|v| v.to_str().unwrap_or_default())
    };
    if let Some(wanted) = header(http::header::IF_MATCH) {
        let holds = wanted
            .split(',')
            .map(str::trim)
            .any(|tag| tag == "*" || tag == etag);
        return if holds {
            Ok(())
        } else {
            Err(OssError::precondition_failed())
        };
    }
    let since = header(http::header::IF_UNMODIFIED_SINCE).and_then(versions::parse_http_date);
    match since {
        Some(since) if modified > since => Err(OssError::precondition_failed()),
        _ => Ok(()),
    }
}

/// The answer to a GET (or HEAD) of `object`, honouring `Range` as OSS
/// does: `bytes=S-` and `bytes=S-E` give 206; a start past the end gives
/// 416 `InvalidRange`; a range OSS cannot read gives the whole object.
pub(crate) fn answer(
    parts: &http::request::Parts,
    object: &Bytes,
    request_id: &str,
) -> Result<(u16, Bytes, Option<String>), OssError> {
    let total = object.len() as u64;
    let range = parts
        .headers
        .get(RANGE)
        .and_then(|v| v.to_str().ok())
        .and_then(parse_range);
    let _ = request_id;
    match range {
        None => Ok((200, object.clone(), None)),
        Some((start, _)) if start >= total => Err(OssError::new(
            416,
            "InvalidRange",
            "The requested range cannot be satisfied.",
        )),
        Some((start, end)) => {
            let last = end.unwrap_or(total - 1).min(total - 1);
            if last < start {
                return Ok((200, object.clone(), None));
            }
            let (s, e) = (
                usize::try_from(start).unwrap_or(usize::MAX),
                usize::try_from(last).unwrap_or(usize::MAX),
            );
            Ok((
                206,
                object.slice(s..=e),
                Some(format!("bytes {start}-{last}/{total}")),
            ))
        }
    }
}

/// `bytes=S-` or `bytes=S-E`.
fn parse_range(value: &str) -> Option<(u64, Option<u64>)> {
    let spec = value.trim().strip_prefix("bytes=")?;
    let (start, end) = spec.split_once('-')?;
    let start = start.trim().parse().ok()?;
    let end = match end.trim() {
        "" => None,
        e => Some(e.parse().ok()?),
    };
    Some((start, end))
}

/// The validators of an object answer: `ETag` and `Last-Modified`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Validators<'a> {
    pub(crate) etag: &'a str,
    pub(crate) modified: OffsetDateTime,
}

/// The headers of an object answer.
pub(crate) fn object_response(
    method: &Method,
    status: u16,
    body: Bytes,
    content_range: Option<String>,
    validators: Validators<'_>,
    request_id: &str,
) -> Response<EmuBody> {
    let length = body.len();
    let body = if method == Method::HEAD {
        Bytes::new()
    } else {
        body
    };
    let mut response = Response::new(EmuBody::Full(Some(body)));
    *response.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, http::HeaderValue::from_static("text/plain"));
    headers.insert("accept-ranges", http::HeaderValue::from_static("bytes"));
    if let Ok(v) = length.to_string().parse() {
        headers.insert(CONTENT_LENGTH, v);
    }
    if let Some(range) = content_range.and_then(|r| r.parse().ok()) {
        headers.insert(http::header::CONTENT_RANGE, range);
    }
    if let Ok(v) = validators.etag.parse() {
        headers.insert(http::header::ETAG, v);
    }
    if let Ok(v) = versions::http_date(validators.modified).parse() {
        headers.insert(http::header::LAST_MODIFIED, v);
    }
    if let Ok(v) = request_id.parse() {
        headers.insert("x-oss-request-id", v);
    }
    response
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_are_read_as_oss_reads_them() {
        assert_eq!(parse_range("bytes=10-"), Some((10, None)));
        assert_eq!(parse_range("bytes=0-9"), Some((0, Some(9))));
        assert_eq!(parse_range("bytes=-5"), None);
        assert_eq!(parse_range("items=0-1"), None);
    }

    #[test]
    fn authorization_headers_are_parsed_or_refused() {
        let auth = parse_authorization(
            "OSS4-HMAC-SHA256 Credential=AK/20261207/cn-hangzhou/oss/aliyun_v4_request,AdditionalHeaders=host;range,Signature=abc",
        )
        .unwrap();
        assert_eq!(
            (auth.access_key_id, auth.date, auth.region, auth.signature),
            ("AK", "20261207", "cn-hangzhou", "abc")
        );
        assert_eq!(auth.additional, ["host", "range"]);
        assert!(parse_authorization("OSS AK:sig").is_none());
        assert!(
            parse_authorization(
                "OSS4-HMAC-SHA256 Credential=AK/d/r/s3/aliyun_v4_request,Signature=x"
            )
            .is_none()
        );
    }
}
