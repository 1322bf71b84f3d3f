//! `DescribeInvocationResultsRequest`: every parameter of the current API
//! (docs/api/describe-invocation-results.md#parameters), a builder, validation
//! and the wire query in both directions.

mod query;
mod validate;

use crate::enums::{ContentEncoding, InvokeRecordStatus};
use crate::tag::TagFilter;
use crate::validation::{ValidationError, ValidationErrors};

/// The API action: the `Action` parameter (V1) and `x-acs-action` header
/// (V3).
pub const ACTION: &str = "DescribeInvocationResults";
/// The API version: the `Version` parameter (V1) and `x-acs-version` header
/// (V3).
pub const API_VERSION: &str = "2014-05-26";

/// Most tags a request may filter on (`Tag.N`, N = 1..=20).
pub const MAX_TAGS: usize = 20;
/// Largest `PageSize` and `MaxResults` the service accepts.
pub const MAX_PAGE_SIZE: i64 = 50;
/// Longest id filter (`InvokeId`, `InstanceId`, `CommandId`,
/// `ResourceGroupId`), in characters. Real ids are about 20 characters; the
/// bound keeps a mistaken value (a file pasted in, say) from making a
/// request URI too long to send, and says so by the parameter's name.
pub const MAX_ID_CHARS: usize = 256;

/// Checks one id filter value (`InvokeId`, `InstanceId`, `CommandId`,
/// `ResourceGroupId`) as [`DescribeInvocationResultsRequest::validate`]
/// does: not empty or blank (an empty filter would silently match
/// everything), at most [`MAX_ID_CHARS`] characters.
///
/// # Errors
/// A [`ValidationError`] naming `parameter` and what is wrong.
pub fn check_id(parameter: &str, value: &str) -> Result<(), ValidationError> {
    match validate::id_problem(value) {
        Some(message) => Err(ValidationError::new(parameter, message)),
        None => Ok(()),
    }
}

/// The parameters of one `DescribeInvocationResults` call.
///
/// Build one with [`DescribeInvocationResultsRequest::builder`]; fields are
/// public so callers can read and adjust them. `None` means "not sent" and the
/// service applies its default. Nothing is checked until
/// [`validate`](Self::validate), which reports every problem at once.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct DescribeInvocationResultsRequest {
    /// `RegionId` (required): region of the command, e.g. `cn-hangzhou`.
    pub region_id: Option<String>,
    /// `InvokeId`: execution id (`t-…`).
    pub invoke_id: Option<String>,
    /// `InstanceId`: one instance id (`i-…`).
    pub instance_id: Option<String>,
    /// `CommandId`: command id (`c-…`).
    pub command_id: Option<String>,
    /// `InvokeRecordStatus`: only executions in this state.
    pub invoke_record_status: Option<InvokeRecordStatus>,
    /// `IncludeHistory`: also return past runs of a Period / EveryReboot
    /// execution (needs `InvokeId`).
    pub include_history: Option<bool>,
    /// `ContentEncoding` of `Output` in the response (service default Base64).
    pub content_encoding: Option<ContentEncoding>,
    /// `PageNumber` (1-based, deprecated page-number paging).
    pub page_number: Option<i64>,
    /// `PageSize` (1..=50, deprecated page-number paging).
    pub page_size: Option<i64>,
    /// `MaxResults` (1..=50, token paging).
    pub max_results: Option<i64>,
    /// `NextToken` from the previous page (token paging).
    pub next_token: Option<String>,
    /// `ResourceGroupId`: executions created in this resource group.
    pub resource_group_id: Option<String>,
    /// `Tag.N.Key` / `Tag.N.Value`, N = 1..=20 in this order; a filter
    /// without a value sends no `Tag.N.Value`.
    pub tags: Vec<TagFilter>,
}

impl DescribeInvocationResultsRequest {
    /// A builder with no parameter set.
    pub fn builder() -> DescribeInvocationResultsRequestBuilder {
        DescribeInvocationResultsRequestBuilder::default()
    }

    /// The encoding the response's `Output` will have: the requested one, or
    /// the service default Base64.
    pub fn effective_content_encoding(&self) -> ContentEncoding {
        self.content_encoding.clone().unwrap_or_default()
    }

    /// Checks every rule of docs/api/describe-invocation-results.md#parameters and returns every
    /// problem at once.
    ///
    /// # Errors
    /// [`ValidationErrors`] listing each broken rule with the parameter's wire
    /// name.
    pub fn validate(&self) -> Result<(), ValidationErrors> {
        ValidationErrors::check(validate::problems(self))
    }

    /// The wire parameters in the API's flattening
    /// (docs/api/describe-invocation-results.md#query-encoding): unset
    /// parameters are left out, empty strings kept, booleans `true`/`false`,
    /// tags as `Tag.1.Key`, `Tag.1.Value`, ...
    pub fn to_query(&self) -> Vec<(String, String)> {
        query::to_query(self)
    }

    /// Reads a request from wire parameters (the emulator's side). Common
    /// parameters (`Action`, `Version`, `Format`, `Timestamp`, `Signature*`,
    /// `AccessKeyId`, `SecurityToken`, `OwnerId`, ...) and unknown parameters
    /// are ignored; booleans may be `true`/`false` in any case (the Python
    /// SDKs send `True`/`False`). Only parse problems are reported here; call
    /// [`validate`](Self::validate) for the API's rules.
    ///
    /// # Errors
    /// [`ValidationErrors`] for values that cannot be read: a non-integer
    /// page parameter, a non-boolean `IncludeHistory`, a malformed or repeated
    /// parameter name.
    pub fn from_query(params: &[(String, String)]) -> Result<Self, ValidationErrors> {
        query::from_query(params)
    }

    /// The `N` of a `Tag.N.Key` or `Tag.N.Value` parameter name, as
    /// [`from_query`](Self::from_query) reads it; `None` for any other
    /// name. [`tags`](Self::tags) keeps the order of `N` but not `N`
    /// itself, which a server checks against [`MAX_TAGS`].
    pub fn tag_index(parameter: &str) -> Option<u32> {
        query::tag_index(parameter)
    }
}

/// Builder for [`DescribeInvocationResultsRequest`]; setters are named after
/// the fields.
#[derive(Debug, Clone, Default)]
#[must_use]
pub struct DescribeInvocationResultsRequestBuilder {
    request: DescribeInvocationResultsRequest,
}

macro_rules! string_setters {
    ($( $(#[$meta:meta])* $field:ident ),+ $(,)?) => {
        $(
            $(#[$meta])*
            pub fn $field(mut self, value: impl Into<String>) -> Self {
                self.request.$field = Some(value.into());
                self
            }
        )+
    };
}

macro_rules! int_setters {
    ($( $(#[$meta:meta])* $field:ident ),+ $(,)?) => {
        $(
            $(#[$meta])*
            pub fn $field(mut self, value: i64) -> Self {
                self.request.$field = Some(value);
                self
            }
        )+
    };
}

impl DescribeInvocationResultsRequestBuilder {
    string_setters! {
        /// Sets `RegionId`.
        region_id,
        /// Sets `InvokeId`.
        invoke_id,
        /// Sets `InstanceId`.
        instance_id,
        /// Sets `CommandId`.
        command_id,
        /// Sets `NextToken`.
        next_token,
        /// Sets `ResourceGroupId`.
        resource_group_id,
    }

    int_setters! {
        /// Sets `PageNumber` (1-based).
        page_number,
        /// Sets `PageSize` (1..=50).
        page_size,
        /// Sets `MaxResults` (1..=50).
        max_results,
    }

    /// Sets `InvokeRecordStatus` (a string is parsed without regard to case).
    pub fn invoke_record_status(mut self, value: impl Into<InvokeRecordStatus>) -> Self {
        self.request.invoke_record_status = Some(value.into());
        self
    }

    /// Sets `ContentEncoding` (a string is parsed without regard to case).
    pub fn content_encoding(mut self, value: impl Into<ContentEncoding>) -> Self {
        self.request.content_encoding = Some(value.into());
        self
    }

    /// Sets `IncludeHistory`.
    pub fn include_history(mut self, value: bool) -> Self {
        self.request.include_history = Some(value);
        self
    }

    /// Adds a filter on a tag with exactly this value (`Tag.N.Key` and
    /// `Tag.N.Value`; an empty value is sent as such).
    pub fn tag(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.request.tags.push(TagFilter::new(key, value));
        self
    }

    /// Adds a filter on a tag key with any value (`Tag.N.Key` only).
    pub fn tag_key(mut self, key: impl Into<String>) -> Self {
        self.request.tags.push(TagFilter::key_only(key));
        self
    }

    /// Replaces the tag filters (a result's [`Tag`](crate::Tag) converts to
    /// a filter on its key and value).
    pub fn tags<T: Into<TagFilter>>(mut self, tags: impl IntoIterator<Item = T>) -> Self {
        self.request.tags = tags.into_iter().map(Into::into).collect();
        self
    }

    /// The request, unchecked (see [`DescribeInvocationResultsRequest::validate`]).
    pub fn build(self) -> DescribeInvocationResultsRequest {
        self.request
    }

    /// The request, if it passes [`DescribeInvocationResultsRequest::validate`].
    ///
    /// # Errors
    /// Every problem found, as [`ValidationErrors`].
    pub fn build_validated(self) -> Result<DescribeInvocationResultsRequest, ValidationErrors> {
        self.request.validate()?;
        Ok(self.request)
    }
}
