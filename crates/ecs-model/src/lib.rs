//! Typed model of ECS Cloud Assistant `DescribeInvocationResults`: requests
//! with validation, tolerant JSON and XML decoding, encoders, and a sans-IO
//! paginator.
//!
//! # Where this crate sits
//!
//! `ecs-model` is the bottom layer of the `ecs-assist` workspace, beside
//! `ecs-sign`. It is pure data and logic: no IO, no clock, no random numbers,
//! no tokio or hyper. `ecs-assist` (the client), `ecs-cli` and `ecs-emulator`
//! build on it.
//!
//! * [`DescribeInvocationResultsRequest`]: every parameter of the current
//!   API, a builder, [`validate`](DescribeInvocationResultsRequest::validate)
//!   (every problem at once) and the wire query both ways.
//! * [`DescribeInvocationResultsResponse`] and [`InvocationResult`] with every
//!   field; wire enums with an `Unknown(String)` fallback; tolerant
//!   [`Timestamp`]s; the decoded view of `Output`.
//! * [`decode_json`], [`decode_xml`], [`decode_response`]: tolerant where real
//!   responses are (names in any case, values trimmed, numbers as strings,
//!   single elements as lists), strict where it matters (a body that is not a
//!   response is a [`DecodeError`] saying what and where).
//! * [`decode_error`] → [`ServiceError`] from any error body; [`classify`] →
//!   [`RetryClass`].
//! * [`encode_json`] (and [`encode_json_bytes`]), [`encode_xml`], [`encode_error_json`],
//!   [`encode_error_xml`]: the wire form, for the emulator.
//! * [`Paginator`]: token or page-number paging with bounded-memory
//!   duplicate filtering.
//!
//! # Example
//!
//! ```
//! use ecs_model::{decode_response, ContentEncoding, DescribeInvocationResultsRequest};
//!
//! let request = DescribeInvocationResultsRequest::builder()
//!     .region_id("cn-hangzhou")
//!     .invoke_id("t-001937b74e2a4242")
//!     .max_results(50)
//!     .build();
//! request.validate()?;
//! assert!(request.to_query().contains(&("MaxResults".into(), "50".into())));
//!
//! let body = br#"{"RequestId":"R-1","Invocation":{"TotalCount":1,"InvocationResults":
//!     {"InvocationResult":[{"InstanceId":"i-1","InvokeId":"t-1","Output":"MTU6NDU6MDEK",
//!     "InvocationStatus":"success","ExitCode":"0"}]}}}"#;
//! // The results learn the encoding their request asked for.
//! let response = decode_response(Some("application/json"), body)?
//!     .with_content_encoding(&request.effective_content_encoding());
//! let result = &response.invocation.results[0];
//! assert!(result.invocation_status.as_ref().is_some_and(|s| s.is_final()));
//! assert_eq!(result.exit_code, Some(0));
//! assert_eq!(result.output_text()?, "15:45:01\n");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Crate features
//!
//! | feature | default | what it adds |
//! |---------|---------|--------------|
//! | (none)  |         | Everything is always available; the crate has no optional features and needs only `serde`, `serde_json`, `quick-xml`, `base64` and `time`. |

mod decode;
mod decode_error;
mod encode;
mod enums;
mod format;
mod paginate;
mod request;
mod response;
pub mod retry;
mod service_error;
mod tag;
mod timestamp;
mod validation;

pub use decode::{decode_json, decode_response, decode_xml, peek_next_token};
pub use decode_error::{DecodeError, Position};
pub use encode::{encode_error_json, encode_error_xml, encode_json, encode_json_bytes, encode_xml};
pub use enums::{ContentEncoding, ErrorCode, InvocationStatus, InvokeRecordStatus};
pub use format::ResponseFormat;
pub use paginate::{
    DEDUP_WINDOW_RESULTS, PageStyle, PaginationError, Paginator, PaginatorPosition,
};
pub use request::{
    ACTION, API_VERSION, DescribeInvocationResultsRequest, DescribeInvocationResultsRequestBuilder,
    MAX_ID_CHARS, MAX_PAGE_SIZE, MAX_TAGS, check_id,
};
pub use response::{
    DescribeInvocationResultsResponse, Invocation, InvocationResult, OUTPUT_LIMIT_BYTES, Truncation,
};
pub use retry::{RetryClass, classify};
pub use service_error::{BODY_EXCERPT_LIMIT, ServiceError, decode_error};
pub use tag::{Tag, TagFilter};
pub use timestamp::Timestamp;
pub use validation::{ValidationError, ValidationErrors};
