//! [`Client::full_output`]: a result's complete output as a byte stream,
//! from OSS when the service truncated it and delivered it there, else
//! from `Output` itself.
//!
//! The OSS object is fetched with a signed `GET` (`OSS4-HMAC-SHA256`, the
//! client's credentials) over the client's streaming transport, one chunk
//! at a time: never the whole object in memory. A request that fails
//! before its body (a retryable transport error, a 5xx or throttling
//! answer) is retried with the client's retry settings; a body cut in the
//! middle is resumed with `Range: bytes=<received>-`. The received size is
//! checked against `Content-Length` (and each resume's `Content-Range`).
//!
//! A resume never splices two versions of the object: it sends
//! `If-Match` with the first answer's `ETag` (OSS answers 412
//! `PreconditionFailed` when the object was replaced since), or, when that
//! answer had no `ETag`, `If-Unmodified-Since` with its `Last-Modified`;
//! and, as the official OSS SDKs' readers do, it checks that the resumed
//! answer's `ETag` and `Last-Modified` are the first one's. A change is a
//! [`Changed`](crate::FullOutputErrorKind::Changed) error after the bytes
//! of the first version already handed out. An answer with neither
//! validator is not resumed at all (OSS always sends an `ETag`; a server or
//! proxy that drops both leaves nothing to prove the version by).

use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use ecs_credentials::CredentialsProvider as _;
use ecs_model::{ContentEncoding, InvocationResult, RetryClass};
use ecs_transport::{BodyStream, StreamingTransport as _, TransportError};
use futures::future::{Either, select};
use futures::{Stream, StreamExt as _};
use http::header::{CONTENT_LENGTH, CONTENT_RANGE, ETAG, HOST, LAST_MODIFIED, USER_AGENT};

use crate::call::Caller;
use crate::client::Client;
use crate::full_output_error::{FullOutputError, FullOutputErrorKind as Kind};
use crate::oss_location::{OssObject, object_url};

/// How much of an OSS error document is read.
const ERROR_BODY_LIMIT: usize = 64 * 1024;

/// Resumes of one download at most, however much each made progress: a
/// server that cuts every response after a few bytes cannot hold the
/// client forever.
const MAX_RESUMES: u32 = 1000;

impl Client {
    /// Starts reading the complete output of `result`; see
    /// [`FullOutputRequest::send`].
    ///
    /// ```no_run
    /// # async fn run(client: ecs_assist::Client, result: ecs_assist::InvocationResult)
    /// # -> Result<(), Box<dyn std::error::Error>> {
    /// let mut output = client.full_output(&result).send().await?;
    /// while let Some(chunk) = output.chunk().await {
    ///     std::io::Write::write_all(&mut std::io::stdout(), &chunk?)?;
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub fn full_output(&self, result: &InvocationResult) -> FullOutputRequest {
        FullOutputRequest {
            caller: self.caller().clone(),
            result: result.clone(),
            encoding: result.content_encoding.clone(),
        }
    }
}

/// A request for one result's complete output, then
/// [`send`](Self::send). `Output` is read in the encoding the result was
/// requested with (its `content_encoding`) unless
/// [`content_encoding`](Self::content_encoding) says otherwise.
#[must_use]
pub struct FullOutputRequest {
    caller: Caller,
    result: InvocationResult,
    encoding: ContentEncoding,
}

impl fmt::Debug for FullOutputRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FullOutputRequest")
            .field("invoke_id", &self.result.invoke_id)
            .field("instance_id", &self.result.instance_id)
            .field("encoding", &self.encoding)
            .finish_non_exhaustive()
    }
}

/// Where a [`FullOutput`] comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum FullOutputSource {
    /// `Output` itself: nothing was dropped.
    Inline,
    /// The object OSS holds (`OssOutputUri`).
    Oss(OssObject),
}

impl FullOutputRequest {
    /// The `ContentEncoding` to read `Output` in, for a result decoded by
    /// other means than this crate's client (which records it on each
    /// result).
    pub fn content_encoding(mut self, encoding: ContentEncoding) -> Self {
        self.encoding = encoding;
        self
    }

    /// Opens the complete output: `Output` when nothing was dropped, else
    /// the OSS object when `OssOutputStatus` is `Finished` (the first
    /// request is made here, so a missing object or a refused signature
    /// is told now).
    ///
    /// # Errors
    /// A [`FullOutputError`] whose kind says why: delivery not configured,
    /// still in progress, failed (with its code), an `OssOutputUri` in
    /// another form, OSS's error answer, or a transport failure.
    pub async fn send(self) -> Result<FullOutput, FullOutputError> {
        let result = &self.result;
        let who = format!("{} ({})", result.instance_id, result.invoke_id);
        if result.dropped <= 0 {
            let bytes = result.output_bytes_as(&self.encoding).map_err(|e| {
                FullOutputError::new(
                    Kind::Decode,
                    format!("the output of {who} cannot be decoded"),
                )
                .with_source(e)
            })?;
            let bytes = Bytes::from(bytes.into_owned());
            return Ok(FullOutput {
                length: Some(bytes.len() as u64),
                source: FullOutputSource::Inline,
                stream: futures::stream::once(async move { Ok(bytes) })
                    .filter(|chunk: &Result<Bytes, FullOutputError>| {
                        std::future::ready(chunk.as_ref().map_or(true, |c| !c.is_empty()))
                    })
                    .boxed(),
            });
        }
        let object = delivered_object(result, &who)?;
        let mut download = Download::new(self.caller, object.clone(), &who)?;
        download.open().await?;
        let length = download.total;
        Ok(FullOutput {
            length,
            source: FullOutputSource::Oss(object),
            stream: futures::stream::unfold(download, |mut download| async move {
                download.next().await.map(|chunk| (chunk, download))
            })
            .boxed(),
        })
    }
}

/// The OSS object of a truncated result, or why there is none.
fn delivered_object(result: &InvocationResult, who: &str) -> Result<OssObject, FullOutputError> {
    let nonempty = |s: &Option<String>| {
        s.as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    let dropped = result.dropped;
    let status = nonempty(&result.oss_output_status);
    let delivery = nonempty(&result.oss_output_delivery);
    match status.as_deref() {
        Some(s) if s.eq_ignore_ascii_case("Finished") => {
            let uri = nonempty(&result.oss_output_uri).ok_or_else(|| {
                FullOutputError::new(
                    Kind::BadUri,
                    format!(
                        "the output of {who} was delivered to OSS (OssOutputStatus Finished) \
                         but OssOutputUri is empty, so the object is unknown"
                    ),
                )
            })?;
            OssObject::parse(&uri).map_err(|why| FullOutputError::new(Kind::BadUri, why))
        }
        Some(s) if s.eq_ignore_ascii_case("Failed") => {
            let code = nonempty(&result.oss_output_error_code);
            let info = nonempty(&result.oss_output_error_info);
            let detail = match (&code, &info) {
                (Some(c), Some(i)) => format!("{c}: {i}"),
                (Some(c), None) => c.clone(),
                (None, Some(i)) => i.clone(),
                (None, None) => "no reason given".to_owned(),
            };
            Err(FullOutputError::new(
                Kind::DeliveryFailed,
                format!(
                    "the service dropped {dropped} bytes of the output of {who} and its delivery \
                     to OSS failed ({detail}); check the bucket and the instance's RAM role"
                ),
            )
            .with_code(code))
        }
        Some(other) => Err(FullOutputError::new(
            Kind::InProgress,
            format!(
                "the complete output of {who} is not in OSS yet (OssOutputStatus {other}); \
                 ask again when the delivery has finished"
            ),
        )),
        None if delivery.is_some() => Err(FullOutputError::new(
            Kind::InProgress,
            format!(
                "the complete output of {who} is not in OSS yet (no OssOutputStatus); ask again \
                 when the delivery has finished"
            ),
        )),
        None => Err(FullOutputError::new(
            Kind::NotConfigured,
            format!(
                "the service dropped {dropped} bytes of the output of {who} beyond 24 KB and the \
                 invocation was not started with OssOutputDelivery, so they were kept nowhere; \
                 run the command with OSS output delivery to get all of it"
            ),
        )),
    }
}

/// A result's complete output, read chunk by chunk; also a
/// `futures::Stream` of `Result<Bytes, FullOutputError>`.
pub struct FullOutput {
    length: Option<u64>,
    source: FullOutputSource,
    stream: futures::stream::BoxStream<'static, Result<Bytes, FullOutputError>>,
}

impl fmt::Debug for FullOutput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FullOutput")
            .field("length", &self.length)
            .field("source", &self.source)
            .finish_non_exhaustive()
    }
}

impl FullOutput {
    /// The size in bytes, as `Content-Length` announced it (or of `Output`).
    pub fn content_length(&self) -> Option<u64> {
        self.length
    }

    /// Where the bytes come from.
    pub fn source(&self) -> &FullOutputSource {
        &self.source
    }

    /// The next chunk; `None` at the end.
    pub async fn chunk(&mut self) -> Option<Result<Bytes, FullOutputError>> {
        self.stream.next().await
    }
}

impl Stream for FullOutput {
    type Item = Result<Bytes, FullOutputError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.stream.poll_next_unpin(cx)
    }
}

/// One OSS object being read: where, how far, and the open body.
struct Download {
    caller: Caller,
    object: OssObject,
    url: String,
    host: String,
    region: String,
    who: String,
    /// Bytes handed out so far.
    offset: u64,
    /// The object's size, from the first answer.
    total: Option<u64>,
    /// The version the first answer was of; `None` until it came.
    version: Option<ObjectVersion>,
    body: Option<BodyStream>,
    /// Bytes still to drop from the body: a server that ignored `Range`
    /// sends the object from its start.
    skip: u64,
    /// Failures in a row without progress.
    failures: u32,
    resumes: u32,
    done: bool,
}

impl Download {
    fn new(caller: Caller, object: OssObject, who: &str) -> Result<Self, FullOutputError> {
        let settings = caller.settings();
        let region = object
            .region()
            .map(str::to_owned)
            .or_else(|| settings.region.clone())
            .filter(|r| !r.trim().is_empty())
            .ok_or_else(|| {
                FullOutputError::new(
                    Kind::InvalidConfig,
                    format!(
                        "reading {object} needs a region to sign for OSS: give the client a \
                         region (--region, ALIBABA_CLOUD_REGION_ID)"
                    ),
                )
            })?;
        let (url, host) = object_url(
            &object,
            &region,
            settings.endpoint_type,
            settings.oss_endpoint.as_ref(),
        );
        Ok(Self {
            caller,
            object,
            url,
            host,
            region,
            who: who.to_owned(),
            offset: 0,
            total: None,
            version: None,
            body: None,
            skip: 0,
            failures: 0,
            resumes: 0,
            done: false,
        })
    }

    fn max_attempts(&self) -> u32 {
        self.caller.settings().retry.max_attempts.max(1)
    }

    /// Signs a GET of the object from `offset` on.
    async fn request(&self) -> Result<http::Request<Bytes>, FullOutputError> {
        let settings = self.caller.settings();
        let credentials = settings
            .credentials
            .provide_credentials()
            .await
            .map_err(|e| {
                FullOutputError::new(
                    Kind::Credentials,
                    format!("no credentials to read {}: {e}", self.object),
                )
            })?;
        let range = (self.offset > 0).then(|| format!("bytes={}-", self.offset));
        let mut headers: Vec<(&str, &str)> = range.iter().map(|r| ("range", r.as_str())).collect();
        headers.extend(self.version.as_ref().and_then(ObjectVersion::condition));
        let unsigned =
            ecs_sign::oss_v4::OssRequest::new("GET", self.object.bucket(), self.object.key())
                .with_headers(&headers);
        let added =
            ecs_sign::oss_v4::sign(&unsigned, &credentials, self.caller.now(), &self.region)
                .map_err(|e| {
                    FullOutputError::new(
                        Kind::Credentials,
                        format!("cannot sign the OSS request: {e}"),
                    )
                })?;
        let mut builder = http::Request::get(&self.url)
            .header(HOST, &self.host)
            .header(USER_AGENT, &settings.user_agent);
        for (name, value) in &headers {
            builder = builder.header(*name, *value);
        }
        for (name, value) in &added {
            builder = builder.header(*name, value);
        }
        builder.body(Bytes::new()).map_err(|e| {
            FullOutputError::new(
                Kind::BadUri,
                format!("{} cannot be requested as a URL", self.object),
            )
            .with_source(e)
        })
    }

    /// Sends one request, within the attempt timeout when there is one.
    async fn send_once(
        &self,
        request: http::Request<Bytes>,
    ) -> Result<http::Response<BodyStream>, TransportError> {
        let settings = self.caller.settings();
        let send = settings.streaming.send_streaming(request);
        match settings.timeouts.attempt {
            None => send.await,
            Some(limit) => match select(send, self.caller.sleep(limit)).await {
                Either::Left((outcome, _)) => outcome,
                Either::Right(((), _)) => Err(TransportError::new(
                    ecs_transport::TransportErrorKind::Timeout,
                    format!(
                        "OSS did not answer within the attempt timeout of {} ms",
                        limit.as_millis()
                    ),
                )),
            },
        }
    }

    /// Waits before the next try, or says there is none.
    async fn backoff(&mut self, class: RetryClass) -> bool {
        self.failures = self.failures.saturating_add(1);
        if self.failures >= self.max_attempts() || self.resumes >= MAX_RESUMES {
            return false;
        }
        let delay: Duration = self.caller.backoff(self.failures, class);
        tracing::debug!(
            failures = self.failures,
            offset = self.offset,
            delay_ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX),
            "retrying the OSS download"
        );
        self.caller.sleep(delay).await;
        true
    }

    /// Opens the body at `offset`, retrying what may be retried.
    async fn open(&mut self) -> Result<(), FullOutputError> {
        if self.offset > 0
            && self
                .version
                .as_ref()
                .is_some_and(|v| v.condition().is_none())
        {
            return Err(FullOutputError::new(
                Kind::Incomplete,
                format!(
                    "{} broke off after {} bytes, and OSS sent neither an ETag nor a \
                     Last-Modified with it, so a resume could not be held to the same version \
                     of the object; nothing after byte {} was used; read it again",
                    self.object, self.offset, self.offset
                ),
            ));
        }
        loop {
            let request = self.request().await?;
            let response = match self.send_once(request).await {
                Ok(response) => response,
                Err(error) => {
                    if error.is_retryable() && self.backoff(RetryClass::Transient).await {
                        continue;
                    }
                    return Err(self.transport_error(error));
                }
            };
            let status = response.status().as_u16();
            match status {
                200 | 206 => return self.accept(response),
                412 if self.version.is_some() => {
                    let error = oss_error(response, &self.object, &self.who).await;
                    let said = match (error.code(), error.request_id()) {
                        (Some(code), Some(id)) => format!("{code}, request id {id}"),
                        (Some(code), None) => code.to_owned(),
                        (None, _) => "HTTP 412".to_owned(),
                    };
                    let condition = self
                        .version
                        .as_ref()
                        .and_then(ObjectVersion::condition)
                        .map(|(name, value)| format!("{name}: {value}"))
                        .unwrap_or_default();
                    return Err(self
                        .changed(&format!("OSS answered {said} to `{condition}`"))
                        .with_code(error.code().map(str::to_owned))
                        .with_request_id(error.request_id().map(str::to_owned))
                        .with_status(412));
                }
                _ => {
                    let error = oss_error(response, &self.object, &self.who).await;
                    let class = match status {
                        429 | 503 if error.code() != Some("AccessDenied") => {
                            Some(RetryClass::Throttling)
                        }
                        500..=599 => Some(RetryClass::Transient),
                        _ => None,
                    };
                    if let Some(class) = class
                        && self.backoff(class).await
                    {
                        continue;
                    }
                    return Err(error);
                }
            }
        }
    }

    /// Takes a 200 or 206 answer: the size, and where its body starts.
    fn accept(&mut self, response: http::Response<BodyStream>) -> Result<(), FullOutputError> {
        let header = |name| {
            response
                .headers()
                .get(name)
                .and_then(|v: &http::HeaderValue| v.to_str().ok())
                .map(str::to_owned)
        };
        let length = header(CONTENT_LENGTH).and_then(|v| v.trim().parse::<u64>().ok());
        let version = ObjectVersion {
            etag: header(ETAG).filter(|v| !v.trim().is_empty()),
            last_modified: header(LAST_MODIFIED).filter(|v| !v.trim().is_empty()),
        };
        match &self.version {
            None => self.version = Some(version),
            Some(first) => {
                if let Some(difference) = first.differs_from(&version) {
                    return Err(self.changed(&difference));
                }
            }
        }
        if response.status() == http::StatusCode::PARTIAL_CONTENT {
            let range = header(CONTENT_RANGE).unwrap_or_default();
            let parsed = parse_content_range(&range);
            if let (Some((_, total)), Some(known)) = (parsed, self.total)
                && total != known
            {
                return Err(self.changed(&format!(
                    "its size was {known} bytes, and the resumed answer says `{}`",
                    range.escape_debug()
                )));
            }
            if parsed.is_none_or(|(start, _)| start != self.offset) {
                return Err(FullOutputError::new(
                    Kind::Incomplete,
                    format!(
                        "OSS resumed {} at `{}` instead of byte {}; nothing after byte {} was \
                         used; read it again",
                        self.object,
                        range.escape_debug(),
                        self.offset,
                        self.offset
                    ),
                ));
            }
            if let Some((_, total)) = parsed {
                self.total = Some(total);
            }
        } else {
            // A whole object: from its start, whatever was asked.
            self.skip = self.offset;
            if let Some(length) = length {
                if let Some(known) = self.total
                    && known != length
                {
                    return Err(self.changed(&format!("its size was {known} bytes, then {length}")));
                }
                self.total = Some(length);
            }
        }
        self.body = Some(response.into_body());
        Ok(())
    }

    /// The object is another version than the one read so far.
    fn changed(&self, detail: &str) -> FullOutputError {
        FullOutputError::new(
            Kind::Changed,
            format!(
                "{}, the complete output of {}, changed while it was read ({detail}); the {} \
                 bytes already given are of the version read first, and nothing after byte {} \
                 was used; read it again for the new version",
                self.object, self.who, self.offset, self.offset
            ),
        )
    }

    fn transport_error(&self, error: TransportError) -> FullOutputError {
        FullOutputError::new(
            Kind::Transport,
            format!(
                "could not read {} from OSS ({} of {} bytes received): {error}",
                self.object,
                self.offset,
                self.total.map_or_else(|| "?".to_owned(), |t| t.to_string())
            ),
        )
        .with_source(error)
    }

    fn incomplete(&self) -> FullOutputError {
        FullOutputError::new(
            Kind::Incomplete,
            format!(
                "{} ended after {} of the {} bytes OSS announced, and resuming did not complete \
                 it; read it again",
                self.object,
                self.offset,
                self.total.unwrap_or_default()
            ),
        )
    }

    /// The next chunk, resuming the body when it breaks.
    async fn next(&mut self) -> Option<Result<Bytes, FullOutputError>> {
        loop {
            if self.done {
                return None;
            }
            let Some(body) = self.body.as_mut() else {
                self.resumes = self.resumes.saturating_add(1);
                if let Err(error) = self.open().await {
                    self.done = true;
                    return Some(Err(error));
                }
                continue;
            };
            match body.chunk().await {
                Some(Ok(mut chunk)) => {
                    if self.skip > 0 {
                        let drop = usize::try_from(self.skip)
                            .unwrap_or(usize::MAX)
                            .min(chunk.len());
                        chunk = chunk.slice(drop..);
                        self.skip -= drop as u64;
                    }
                    if chunk.is_empty() {
                        continue;
                    }
                    self.failures = 0;
                    self.offset = self.offset.saturating_add(chunk.len() as u64);
                    if self.total.is_some_and(|t| self.offset > t) {
                        self.done = true;
                        return Some(Err(FullOutputError::new(
                            Kind::Incomplete,
                            format!(
                                "OSS sent more of {} than the {} bytes it announced",
                                self.object,
                                self.total.unwrap_or_default()
                            ),
                        )));
                    }
                    return Some(Ok(chunk));
                }
                Some(Err(error)) => {
                    self.body = None;
                    tracing::debug!(offset = self.offset, %error, "the OSS body broke off");
                    if !error.is_retryable() || !self.backoff(RetryClass::Transient).await {
                        self.done = true;
                        return Some(Err(self.transport_error(error)));
                    }
                }
                None => {
                    self.body = None;
                    match self.total {
                        Some(total) if self.offset < total => {
                            if !self.backoff(RetryClass::Transient).await {
                                self.done = true;
                                return Some(Err(self.incomplete()));
                            }
                        }
                        _ => {
                            self.done = true;
                            return None;
                        }
                    }
                }
            }
        }
    }
}

/// What identifies the version of the object an answer is of: its
/// `ETag` and `Last-Modified`, as OSS sent them.
#[derive(Debug, Clone, PartialEq, Eq)]
struct ObjectVersion {
    etag: Option<String>,
    last_modified: Option<String>,
}

impl ObjectVersion {
    /// The header that holds a request to this version: `If-Match` with
    /// the ETag, else `If-Unmodified-Since` with the Last-Modified (a
    /// weaker hold: a replacement within the same second passes it).
    fn condition(&self) -> Option<(&'static str, &str)> {
        match (&self.etag, &self.last_modified) {
            (Some(etag), _) => Some(("if-match", etag.as_str())),
            (None, Some(modified)) => Some(("if-unmodified-since", modified.as_str())),
            (None, None) => None,
        }
    }

    /// How `other` shows another version, comparing what both answers
    /// carry (as the official OSS SDKs' readers do).
    fn differs_from(&self, other: &Self) -> Option<String> {
        let differ = |a: &Option<String>, b: &Option<String>| match (a, b) {
            (Some(a), Some(b)) => a.trim() != b.trim(),
            _ => false,
        };
        // Header values that were read as text are visible ASCII.
        let shown = |v: &Option<String>| v.as_deref().unwrap_or_default().to_owned();
        if differ(&self.etag, &other.etag) {
            return Some(format!(
                "ETag {} then {}",
                shown(&self.etag),
                shown(&other.etag)
            ));
        }
        if differ(&self.last_modified, &other.last_modified) {
            return Some(format!(
                "Last-Modified `{}` then `{}`",
                shown(&self.last_modified),
                shown(&other.last_modified)
            ));
        }
        None
    }
}

/// `bytes <start>-<end>/<total>`: the start and the total.
fn parse_content_range(value: &str) -> Option<(u64, u64)> {
    let rest = value.trim().strip_prefix("bytes ")?;
    let (range, total) = rest.split_once('/')?;
    let (start, _end) = range.split_once('-')?;
    Some((start.trim().parse().ok()?, total.trim().parse().ok()?))
}

/// OSS's error answer as a [`FullOutputError`]: its code, message and
/// request id from the XML document (or the headers).
async fn oss_error(
    mut response: http::Response<BodyStream>,
    object: &OssObject,
    who: &str,
) -> FullOutputError {
    let status = response.status().as_u16();
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let header_id = header("x-oss-request-id");
    let body = response
        .body_mut()
        .collect_up_to(ERROR_BODY_LIMIT)
        .await
        .unwrap_or_default();
    let text = String::from_utf8_lossy(&body);
    let code = xml_text(&text, "Code");
    let message = xml_text(&text, "Message");
    let request_id = xml_text(&text, "RequestId").or(header_id);
    let hint = match code.as_deref() {
        Some("NoSuchKey") => "the object is gone (deleted, or a lifecycle rule expired it)",
        Some("NoSuchBucket") => "the bucket is gone",
        Some("AccessDenied") => {
            "the credentials may not read it: grant oss:GetObject on the bucket"
        }
        Some("SignatureDoesNotMatch") => {
            "check the access key secret and that this machine's clock is right"
        }
        Some("InvalidAccessKeyId") => "check the access key id",
        _ => "see OSS's message",
    };
    let said = match (&code, &message) {
        (Some(c), Some(m)) => format!("{c}: {m}"),
        (Some(c), None) => c.clone(),
        (None, _) => format!("HTTP {status}"),
    };
    FullOutputError::new(
        Kind::Oss,
        format!("OSS refused {object}, the complete output of {who} ({said}); {hint}"),
    )
    .with_code(code)
    .with_request_id(request_id)
    .with_status(status)
}

/// The text of the first `<tag>` element, entities decoded.
fn xml_text(text: &str, tag: &str) -> Option<String> {
    let open = format!("<{tag}>");
    let close = format!("</{tag}>");
    let start = text.find(&open)? + open.len();
    let end = start + text[start..].find(&close)?;
    let raw = &text[start..end];
    let decoded = raw
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&amp;", "&");
    Some(decoded.trim().to_owned()).filter(|s| !s.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_ranges_and_error_documents_are_read() {
        assert_eq!(parse_content_range("bytes 100-199/200"), Some((100, 200)));
        assert_eq!(parse_content_range("bytes */200"), None);
        let doc = "<?xml version=\"1.0\"?><Error><Code>NoSuchKey</Code><Message>a &amp; b</Message><RequestId>R1</RequestId></Error>";
        assert_eq!(xml_text(doc, "Code").as_deref(), Some("NoSuchKey"));
        assert_eq!(xml_text(doc, "Message").as_deref(), Some("a & b"));
        assert_eq!(xml_text(doc, "HostId"), None);
    }
}
