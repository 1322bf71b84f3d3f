//! The fluent operation builder: a setter per API parameter, `with_*` per
//! call option, then `send`, `prepare` or `into_paginator`.

use ecs_model::{DescribeInvocationResultsRequest, DescribeInvocationResultsResponse};

use crate::call::{CallOptions, Caller};
use crate::error::Error;
use crate::paginate::DescribeInvocationResultsPaginator;
use crate::prepared::PreparedRequest;

/// Setters for every API parameter and call option; shared by the async and
/// blocking builders. `$request` and `$options`
/// name methods returning `&mut` to the request and the call options.
macro_rules! parameter_setters {
    ($request:ident, $options:ident) => {
        /// `RegionId` (defaults to the client's region).
        pub fn region_id(mut self, value: impl Into<String>) -> Self {
            self.$request().region_id = Some(value.into());
            self
        }
        /// `InvokeId`: one execution (`t-…`).
        pub fn invoke_id(mut self, value: impl Into<String>) -> Self {
            self.$request().invoke_id = Some(value.into());
            self
        }
        /// `InstanceId`: one instance (`i-…`).
        pub fn instance_id(mut self, value: impl Into<String>) -> Self {
            self.$request().instance_id = Some(value.into());
            self
        }
        /// `CommandId` (`c-…`).
        pub fn command_id(mut self, value: impl Into<String>) -> Self {
            self.$request().command_id = Some(value.into());
            self
        }
        /// `InvokeRecordStatus`: only executions in this state.
        pub fn invoke_record_status(
            mut self,
            value: impl Into<ecs_model::InvokeRecordStatus>,
        ) -> Self {
            self.$request().invoke_record_status = Some(value.into());
            self
        }
        /// `IncludeHistory` (needs `InvokeId` of a periodic execution).
        pub fn include_history(mut self, value: bool) -> Self {
            self.$request().include_history = Some(value);
            self
        }
        /// `ContentEncoding` of `Output` (`PlainText` or `Base64`).
        pub fn content_encoding(mut self, value: impl Into<ecs_model::ContentEncoding>) -> Self {
            self.$request().content_encoding = Some(value.into());
            self
        }
        /// `PageNumber` (deprecated page-number paging).
        pub fn page_number(mut self, value: i64) -> Self {
            self.$request().page_number = Some(value);
            self
        }
        /// `PageSize` (1..=50, [`MAX_PAGE_SIZE`](crate::MAX_PAGE_SIZE);
        /// deprecated page-number paging).
        pub fn page_size(mut self, value: i64) -> Self {
            self.$request().page_size = Some(value);
            self
        }
        /// `MaxResults` (1..=50, [`MAX_PAGE_SIZE`](crate::MAX_PAGE_SIZE); token
        /// paging).
        pub fn max_results(mut self, value: i64) -> Self {
            self.$request().max_results = Some(value);
            self
        }
        /// `NextToken` from a previous page.
        pub fn next_token(mut self, value: impl Into<String>) -> Self {
            self.$request().next_token = Some(value.into());
            self
        }
        /// `ResourceGroupId`.
        pub fn resource_group_id(mut self, value: impl Into<String>) -> Self {
            self.$request().resource_group_id = Some(value.into());
            self
        }
        /// Adds a filter on a tag with exactly this value (`Tag.N.Key` and
        /// `Tag.N.Value`; an empty value is sent as such). A request takes at
        /// most [`MAX_TAGS`](crate::MAX_TAGS) tag filters.
        pub fn tag(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
            self.$request()
                .tags
                .push(ecs_model::TagFilter::new(key, value));
            self
        }
        /// Adds a filter on a tag key with any value (`Tag.N.Key` only, no
        /// `Tag.N.Value`).
        pub fn tag_key(mut self, key: impl Into<String>) -> Self {
            self.$request()
                .tags
                .push(ecs_model::TagFilter::key_only(key));
            self
        }
        /// Adds several tag filters (a result's tag, a `model::Tag`, converts
        /// to a filter on its key and value).
        pub fn tags<T: Into<ecs_model::TagFilter>>(
            mut self,
            tags: impl IntoIterator<Item = T>,
        ) -> Self {
            self.$request()
                .tags
                .extend(tags.into_iter().map(Into::into));
            self
        }
        /// Replaces every parameter with `request`'s.
        pub fn set_request(mut self, request: ecs_model::DescribeInvocationResultsRequest) -> Self {
            *self.$request() = request;
            self
        }
        /// Attempts for this call (1 disables retries).
        pub fn with_max_attempts(mut self, attempts: u32) -> Self {
            self.$options().max_attempts = Some(attempts);
            self
        }
        /// Timeout of each attempt of this call.
        pub fn with_attempt_timeout(mut self, timeout: std::time::Duration) -> Self {
            self.$options().attempt_timeout = Some(timeout);
            self
        }
        /// Deadline of this call including retries (`None`: none).
        pub fn with_operation_timeout(mut self, timeout: Option<std::time::Duration>) -> Self {
            self.$options().operation_timeout = Some(timeout);
            self
        }
        /// Signature version for this call.
        pub fn with_signature_version(mut self, version: ecs_sign::SignatureVersion) -> Self {
            self.$options().signature_version = Some(version);
            self
        }
        /// Body format to ask for in this call.
        pub fn with_response_format(mut self, format: ecs_model::ResponseFormat) -> Self {
            self.$options().response_format = Some(format);
            self
        }
    };
}
pub(crate) use parameter_setters;

/// A `DescribeInvocationResults` call being configured; from
/// [`Client::describe_invocation_results`](crate::Client::describe_invocation_results).
#[derive(Debug, Clone)]
#[must_use]
pub struct DescribeInvocationResults {
    caller: Caller,
    request: DescribeInvocationResultsRequest,
    options: CallOptions,
}

impl DescribeInvocationResults {
    pub(crate) fn new(caller: Caller) -> Self {
        Self {
            caller,
            request: DescribeInvocationResultsRequest::default(),
            options: CallOptions::default(),
        }
    }

    pub(crate) fn request_mut(&mut self) -> &mut DescribeInvocationResultsRequest {
        &mut self.request
    }

    pub(crate) fn options_mut(&mut self) -> &mut CallOptions {
        &mut self.options
    }

    parameter_setters!(request_mut, options_mut);

    /// The parameters set so far.
    pub fn as_request(&self) -> &DescribeInvocationResultsRequest {
        &self.request
    }

    /// Sends the call (one page) with retries.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) before
    /// anything is sent; otherwise credentials, transport, service, decode
    /// and deadline errors.
    pub async fn send(self) -> Result<DescribeInvocationResultsResponse, Error> {
        self.caller.execute(self.request, &self.options).await
    }

    /// The signed first attempt, not sent (for dry runs): print it with
    /// [`PreparedRequest::redacted`].
    ///
    /// # Errors
    /// Invalid input, credentials and signing errors.
    pub async fn prepare(self) -> Result<PreparedRequest, Error> {
        self.caller.prepare(self.request, &self.options).await
    }

    /// Pages through every result; see [`DescribeInvocationResultsPaginator`].
    pub fn into_paginator(self) -> DescribeInvocationResultsPaginator {
        DescribeInvocationResultsPaginator::new(self.caller, self.request, self.options)
    }
}
