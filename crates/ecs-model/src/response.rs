//! The response tree (docs/api/describe-invocation-results.md#response), and
//! the decoded view of `Output`.

use std::borrow::Cow;

use base64::Engine as _;
use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use serde::Serialize;
use serde::ser::{SerializeStruct, Serializer};

use crate::decode_error::DecodeError;
use crate::enums::{ContentEncoding, ErrorCode, InvocationStatus, InvokeRecordStatus};
use crate::tag::Tag;
use crate::timestamp::Timestamp;

/// Standard alphabet; padding optional, so an unpadded Output is still read.
const BASE64: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Size above which the service truncates `Output` (24 KB;
/// docs/api/describe-invocation-results.md#truncation).
pub const OUTPUT_LIMIT_BYTES: usize = 24 * 1024;

/// A `DescribeInvocationResults` response body.
///
/// Serializes (serde) to the API's JSON wire form.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct DescribeInvocationResultsResponse {
    /// `RequestId` of the call (empty if the body had none).
    pub request_id: String,
    /// `Invocation`: paging data and the results.
    pub invocation: Invocation,
}

impl DescribeInvocationResultsResponse {
    /// A response with `request_id` and `invocation`.
    pub fn new(request_id: impl Into<String>, invocation: Invocation) -> Self {
        Self {
            request_id: request_id.into(),
            invocation,
        }
    }

    /// Records on every result the `ContentEncoding` the request asked for
    /// (its [`effective_content_encoding`](crate::DescribeInvocationResultsRequest::effective_content_encoding)),
    /// so that [`InvocationResult::output_text`] decodes `Output` without
    /// being told. For a body decoded by hand with
    /// `ecs_model::decode_response`; the client and the paginators do it
    /// themselves.
    ///
    /// ```
    /// use ecs_model::{ContentEncoding, DescribeInvocationResultsRequest, decode_response};
    ///
    /// let request = DescribeInvocationResultsRequest::builder()
    ///     .content_encoding(ContentEncoding::PlainText)
    ///     .build();
    /// let body = br#"{"RequestId":"R","Invocation":{"InvocationResults":{"InvocationResult":[
    ///     {"InstanceId":"i-1","InvokeId":"t-1","Output":"hello\n"}]}}}"#;
    /// let response = decode_response(Some("application/json"), body)?
    ///     .with_content_encoding(&request.effective_content_encoding());
    /// assert_eq!(response.invocation.results[0].output_text()?, "hello\n");
    /// # Ok::<(), ecs_model::DecodeError>(())
    /// ```
    #[must_use]
    pub fn with_content_encoding(mut self, encoding: &ContentEncoding) -> Self {
        self.invocation.set_content_encoding(encoding);
        self
    }
}

/// The `Invocation` object: paging data and one page of results.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct Invocation {
    /// `TotalCount` (meaningless under token paging;
    /// docs/api/describe-invocation-results.md#paging).
    pub total_count: i64,
    /// `PageNumber`.
    pub page_number: i64,
    /// `PageSize`.
    pub page_size: i64,
    /// `NextToken`; `None` (or empty) on the last page.
    pub next_token: Option<String>,
    /// `InvocationResults.InvocationResult[]`.
    pub results: Vec<InvocationResult>,
}

impl Invocation {
    /// An `Invocation` holding `results` and no paging data.
    pub fn new(results: Vec<InvocationResult>) -> Self {
        Self {
            results,
            ..Self::default()
        }
    }

    /// Sets [`InvocationResult::content_encoding`] on every result.
    pub fn set_content_encoding(&mut self, encoding: &ContentEncoding) {
        for result in &mut self.results {
            result.content_encoding.clone_from(encoding);
        }
    }
}

impl Serialize for Invocation {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        /// `{"InvocationResult": [...]}`
        struct Wrapper<'a>(&'a [InvocationResult]);
        impl Serialize for Wrapper<'_> {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                let mut s = serializer.serialize_struct("InvocationResults", 1)?;
                s.serialize_field("InvocationResult", self.0)?;
                s.end()
            }
        }
        let len = 4 + usize::from(self.next_token.is_some());
        let mut s = serializer.serialize_struct("Invocation", len)?;
        s.serialize_field("PageNumber", &self.page_number)?;
        s.serialize_field("PageSize", &self.page_size)?;
        s.serialize_field("TotalCount", &self.total_count)?;
        if let Some(token) = &self.next_token {
            s.serialize_field("NextToken", token)?;
        }
        s.serialize_field("InvocationResults", &Wrapper(&self.results))?;
        s.end()
    }
}

/// The result of one execution on one instance (`InvocationResult`,
/// docs/api/describe-invocation-results.md#result-fields).
///
/// Strings the service always sends are `String` (empty when absent); the
/// rest are `Option`, with an empty wire value read as `None`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, Serialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct InvocationResult {
    /// `CommandId` (`c-…`).
    pub command_id: String,
    /// `InvokeId` (`t-…`).
    pub invoke_id: String,
    /// `InstanceId` (`i-…`).
    pub instance_id: String,
    /// `ContainerId`, for commands run in a container.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub container_id: Option<String>,
    /// `ContainerName`, for commands run in a container.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub container_name: Option<String>,
    /// `InvocationStatus` of this execution on this instance.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub invocation_status: Option<InvocationStatus>,
    /// `InvokeRecordStatus` of the whole command process.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub invoke_record_status: Option<InvokeRecordStatus>,
    /// `ExitCode` of the command.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<i64>,
    /// `Output` exactly as received: Base64 unless the request asked for
    /// `PlainText`. See [`output_bytes`](Self::output_bytes).
    pub output: String,
    /// The `ContentEncoding` the request asked for, which `output` is in
    /// (not a wire field). The client and the paginators (`ecs_model::Paginator`)
    /// set it from the request; [`DescribeInvocationResultsResponse::with_content_encoding`]
    /// sets it on a response decoded by hand; otherwise it is the service's
    /// default, Base64.
    #[serde(skip)]
    pub content_encoding: ContentEncoding,
    /// `Dropped`: bytes of output the service cut off beyond 24 KB.
    pub dropped: i64,
    /// `ErrorCode`; `None` when the wire value is empty (no error).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_code: Option<ErrorCode>,
    /// `ErrorInfo`: human text for `ErrorCode`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_info: Option<String>,
    /// `Repeats`: which run of a repeated execution this is.
    pub repeats: i64,
    /// `StartTime`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_time: Option<Timestamp>,
    /// `FinishedTime`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub finished_time: Option<Timestamp>,
    /// `StopTime` (set when the execution was stopped).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stop_time: Option<Timestamp>,
    /// `Username` the command ran as.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// `Launcher` used to run the command.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub launcher: Option<String>,
    /// `TerminationMode` of a stopped execution.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub termination_mode: Option<String>,
    /// `OssOutputDelivery`, e.g. `oss://bucket/prefix`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub oss_output_delivery: Option<String>,
    /// `OssOutputStatus`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub oss_output_status: Option<String>,
    /// `OssOutputUri`: where the full output was delivered.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub oss_output_uri: Option<String>,
    /// `OssOutputErrorCode`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub oss_output_error_code: Option<String>,
    /// `OssOutputErrorInfo`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub oss_output_error_info: Option<String>,
    /// `Tags.Tag[]`.
    #[serde(serialize_with = "serialize_tags")]
    pub tags: Vec<Tag>,
}

fn serialize_tags<S: Serializer>(tags: &[Tag], serializer: S) -> Result<S::Ok, S::Error> {
    let mut s = serializer.serialize_struct("Tags", 1)?;
    s.serialize_field("Tag", tags)?;
    s.end()
}

/// Output the service cut off (`Dropped > 0`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Truncation<'a> {
    /// Bytes dropped beyond the 24 KB limit.
    pub dropped_bytes: u64,
    /// Where the full output was delivered (`OssOutputUri`), if anywhere.
    pub oss_output_uri: Option<&'a str>,
}

impl InvocationResult {
    /// A result for `instance_id` in `invoke_id`; other fields empty.
    pub fn new(invoke_id: impl Into<String>, instance_id: impl Into<String>) -> Self {
        Self {
            invoke_id: invoke_id.into(),
            instance_id: instance_id.into(),
            ..Self::default()
        }
    }

    /// The decoded output, in the encoding the request asked for
    /// ([`content_encoding`](Self::content_encoding)).
    ///
    /// Base64: whitespace around (and line breaks inside) the text is
    /// ignored, so an `<Output> </Output>` is empty. PlainText: the text is
    /// returned unchanged; its whitespace is data.
    ///
    /// # Errors
    /// A [`DecodeError`] naming the instance when the Base64 is invalid or
    /// the encoding is unknown.
    pub fn output_bytes(&self) -> Result<Cow<'_, [u8]>, DecodeError> {
        self.output_bytes_as(&self.content_encoding)
    }

    /// The decoded output as text; bytes that are not UTF-8 are replaced by
    /// U+FFFD (use [`output_bytes`](Self::output_bytes) for the exact bytes).
    ///
    /// # Errors
    /// As [`output_bytes`](Self::output_bytes).
    pub fn output_text(&self) -> Result<String, DecodeError> {
        self.output_text_as(&self.content_encoding)
    }

    /// The decoded output, read as `encoding` whatever
    /// [`content_encoding`](Self::content_encoding) says: for callers that
    /// know better (a body decoded by hand and never marked with
    /// [`DescribeInvocationResultsResponse::with_content_encoding`]).
    ///
    /// # Errors
    /// As [`output_bytes`](Self::output_bytes).
    pub fn output_bytes_as(
        &self,
        encoding: &ContentEncoding,
    ) -> Result<Cow<'_, [u8]>, DecodeError> {
        match encoding {
            ContentEncoding::PlainText => Ok(Cow::Borrowed(self.output.as_bytes())),
            ContentEncoding::Base64 => decode_base64(&self.output)
                .map(Cow::Owned)
                .map_err(|detail| DecodeError::output(&self.instance_id, &self.invoke_id, detail)),
            ContentEncoding::Unknown(name) => Err(DecodeError::output(
                &self.instance_id,
                &self.invoke_id,
                format!("unknown ContentEncoding `{name}`; use PlainText or Base64"),
            )),
        }
    }

    /// [`output_text`](Self::output_text), read as `encoding` (see
    /// [`output_bytes_as`](Self::output_bytes_as)).
    ///
    /// # Errors
    /// As [`output_bytes`](Self::output_bytes).
    pub fn output_text_as(&self, encoding: &ContentEncoding) -> Result<String, DecodeError> {
        Ok(match self.output_bytes_as(encoding)? {
            Cow::Borrowed(bytes) => String::from_utf8_lossy(bytes).into_owned(),
            Cow::Owned(bytes) => match String::from_utf8(bytes) {
                Ok(text) => text,
                Err(err) => String::from_utf8_lossy(err.as_bytes()).into_owned(),
            },
        })
    }

    /// `Some` when the service truncated the output (`Dropped > 0`).
    pub fn truncation(&self) -> Option<Truncation<'_>> {
        u64::try_from(self.dropped)
            .ok()
            .filter(|&dropped| dropped > 0)
            .map(|dropped_bytes| Truncation {
                dropped_bytes,
                oss_output_uri: self.oss_output_uri.as_deref().filter(|uri| !uri.is_empty()),
            })
    }

    /// Whether the service truncated the output (`Dropped > 0`).
    pub fn is_truncated(&self) -> bool {
        self.dropped > 0
    }
}

fn decode_base64(text: &str) -> Result<Vec<u8>, String> {
    // The SIMD decoder is forgiving (WHATWG forgiving-base64): whitespace
    // anywhere and missing padding are accepted.
    if let Ok(bytes) = base64_simd::forgiving_decode_to_vec(text.as_bytes()) {
        return Ok(bytes);
    }
    // The SIMD decoder accepts whatever the scalar one does (the JSON fuzz
    // target checks it); the scalar one only words the error.
    let compact: Vec<u8> = text.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    BASE64
        .decode(compact)
        .map_err(|err| format!("invalid Base64 ({err})"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result_with(output: &str) -> InvocationResult {
        InvocationResult {
            output: output.into(),
            ..InvocationResult::new("t-1", "i-1")
        }
    }

    #[test]
    fn base64_output_decodes_ignoring_surrounding_whitespace() {
        let b64 = ContentEncoding::Base64;
        assert_eq!(
            result_with("MTU6NDU6MDEK").output_text_as(&b64).unwrap(),
            "15:45:01\n"
        );
        assert_eq!(
            result_with(" MTU6NDU6MDEK\n").output_text_as(&b64).unwrap(),
            "15:45:01\n"
        );
        assert_eq!(result_with(" ").output_text_as(&b64).unwrap(), "");
        assert_eq!(result_with("").output_bytes_as(&b64).unwrap().len(), 0);
        assert_eq!(
            result_with("MTU6\nNDU6MDEK").output_text_as(&b64).unwrap(),
            "15:45:01\n"
        );
        assert_eq!(result_with("YQ").output_text_as(&b64).unwrap(), "a");
    }

    #[test]
    fn invalid_base64_names_the_instance() {
        let err = result_with("not base64!").output_bytes().unwrap_err();
        assert!(err.is_invalid_output());
        assert_eq!(err.instance_id(), Some("i-1"));
        let text = err.to_string();
        assert!(
            text.starts_with(
                "cannot decode Output of instance i-1 (invocation t-1): invalid Base64"
            ),
            "{text}"
        );
        let err = result_with("x")
            .output_bytes_as(&ContentEncoding::parse("hex"))
            .unwrap_err();
        assert!(err.to_string().contains("unknown ContentEncoding `hex`"));
    }

    #[test]
    fn plain_text_output_is_never_altered() {
        let plain = ContentEncoding::PlainText;
        for text in [" ", "  a \n", "\r\n", "MTU6NDU6MDEK"] {
            assert_eq!(result_with(text).output_text_as(&plain).unwrap(), text);
        }
    }

    #[test]
    fn a_result_decodes_its_output_in_the_encoding_it_was_requested_with() {
        let mut r = result_with("hello %\n");
        r.content_encoding = ContentEncoding::PlainText;
        assert_eq!(r.output_text().unwrap(), "hello %\n");
        assert_eq!(r.output_bytes().unwrap().as_ref(), b"hello %\n");
        // The explicit variant reads what it is told.
        assert!(r.output_text_as(&ContentEncoding::Base64).is_err());

        let response = DescribeInvocationResultsResponse::new(
            "R",
            Invocation::new(vec![result_with("aGk="), result_with("eW8=")]),
        );
        assert_eq!(response.invocation.results[0].output_text().unwrap(), "hi");
        let plain = response.with_content_encoding(&ContentEncoding::PlainText);
        for (r, text) in plain.invocation.results.iter().zip(["aGk=", "eW8="]) {
            assert_eq!(r.content_encoding, ContentEncoding::PlainText);
            assert_eq!(r.output_text().unwrap(), text);
        }
    }

    #[test]
    fn non_utf8_output_is_lossy_as_text_but_exact_as_bytes() {
        let r = result_with("/w==");
        assert_eq!(r.output_bytes().unwrap().as_ref(), &[0xff]);
        assert_eq!(r.output_text().unwrap(), "\u{fffd}");
    }

    #[test]
    fn dropped_is_reported_as_truncation() {
        let mut r = result_with("");
        assert_eq!(r.truncation(), None);
        r.dropped = 2048;
        assert_eq!(
            r.truncation(),
            Some(Truncation {
                dropped_bytes: 2048,
                oss_output_uri: None
            })
        );
        r.oss_output_uri = Some("oss://b/p/out.txt".into());
        assert_eq!(
            r.truncation().unwrap().oss_output_uri,
            Some("oss://b/p/out.txt")
        );
        r.dropped = -1;
        assert!(r.truncation().is_none());
    }

    #[test]
    fn serializes_with_the_api_field_names() {
        let mut r = result_with("YQ==");
        r.invocation_status = Some(InvocationStatus::Success);
        r.oss_output_uri = Some("oss://b".into());
        r.tags = vec![Tag::new("k", "v")];
        let resp = DescribeInvocationResultsResponse::new("rid", Invocation::new(vec![r]));
        let json = serde_json::to_value(&resp).unwrap();
        let result = &json["Invocation"]["InvocationResults"]["InvocationResult"][0];
        assert_eq!(json["RequestId"], "rid");
        assert_eq!(result["InvocationStatus"], "Success");
        assert_eq!(result["OssOutputUri"], "oss://b");
        assert_eq!(result["Tags"]["Tag"][0]["TagKey"], "k");
        assert_eq!(result["Output"], "YQ==");
        assert!(result.get("ErrorCode").is_none());
    }
}
