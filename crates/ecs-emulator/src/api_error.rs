//! [`ApiError`]: the error answers the emulator sends, with the service's
//! code, HTTP status and message (docs/api/describe-invocation-results.md,
//! "Service errors" and "Error documents").

/// One error answer of the API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ApiError {
    pub(crate) status: u16,
    pub(crate) code: String,
    pub(crate) message: String,
    /// `x-acs-retry-after` in milliseconds (throttling).
    pub(crate) retry_after_ms: Option<u64>,
}

impl ApiError {
    fn new(status: u16, code: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            status,
            code: code.into(),
            message: message.into(),
            retry_after_ms: None,
        }
    }

    pub(crate) fn missing_parameter(name: &str) -> Self {
        Self::new(
            400,
            format!("MissingParameter.{name}"),
            format!(
                "The input parameter \u{201c}{name}\u{201d} that is mandatory for processing this request is not supplied."
            ),
        )
    }

    pub(crate) fn invalid_region() -> Self {
        Self::new(
            404,
            "InvalidRegionId.NotFound",
            "The RegionId provided does not exist in our items.",
        )
    }

    pub(crate) fn invalid_page_size() -> Self {
        Self::new(
            400,
            "InvalidParam.PageSize",
            "The specified parameter PageSize is invalid: it must be an integer from 1 to 50.",
        )
    }

    pub(crate) fn invalid_page_number() -> Self {
        Self::new(
            400,
            "InvalidParam.PageNumber",
            "The specified parameter PageNumber is invalid: it must be an integer of at least 1.",
        )
    }

    pub(crate) fn invalid_max_results() -> Self {
        Self::new(
            400,
            "InvalidParameter.MaxResults",
            "The specified parameter MaxResults is invalid: it must be an integer from 1 to 50.",
        )
    }

    pub(crate) fn invalid_next_token() -> Self {
        Self::new(
            400,
            "InvalidParameter.NextToken",
            "The specified parameter NextToken is invalid: use the NextToken of the previous page of the same query.",
        )
    }

    pub(crate) fn invalid_parameter(name: &str, rule: &str) -> Self {
        Self::new(
            400,
            format!("InvalidParameter.{name}"),
            format!("The specified parameter {name} is invalid: {rule}."),
        )
    }

    pub(crate) fn invalid_tag_key(rule: &str) -> Self {
        Self::new(
            400,
            "InvalidTagKey.Malformed",
            format!("The specified Tag.n.Key is invalid: {rule}."),
        )
    }

    pub(crate) fn invalid_tag_value(rule: &str) -> Self {
        Self::new(
            400,
            "InvalidTagValue.Malformed",
            format!("The specified Tag.n.Value is invalid: {rule}."),
        )
    }

    pub(crate) fn missing_tag_key() -> Self {
        Self::new(
            400,
            "MissingParameter.TagKey",
            "The input parameter Tag.n.Key that is mandatory for processing this request is not supplied.",
        )
    }

    pub(crate) fn duplicate_tag_key() -> Self {
        Self::new(
            400,
            "Duplicate.TagKey",
            "The Tag.N.Key contain duplicate key.",
        )
    }

    pub(crate) fn invoke_id_not_found() -> Self {
        Self::new(
            404,
            "InvalidInvokeId.NotFound",
            "The specified InvokeId does not exist.",
        )
    }

    pub(crate) fn incomplete_signature(detail: &str) -> Self {
        Self::new(
            400,
            "IncompleteSignature",
            format!("The request signature does not conform to Aliyun standards: {detail}."),
        )
    }

    pub(crate) fn signature_mismatch(string_to_sign: &str) -> Self {
        Self::new(
            400,
            "SignatureDoesNotMatch",
            format!(
                "Specified signature is not matched with our calculation. server string to sign is:{string_to_sign}"
            ),
        )
    }

    pub(crate) fn unknown_access_key() -> Self {
        Self::new(
            404,
            "InvalidAccessKeyId.NotFound",
            "Specified access key is not found.",
        )
    }

    pub(crate) fn security_token_mismatch() -> Self {
        Self::new(
            400,
            "InvalidSecurityToken.MismatchWithAccessKey",
            "The security token does not match the access key.",
        )
    }

    pub(crate) fn security_token_expired() -> Self {
        Self::new(
            400,
            "InvalidSecurityToken.Expired",
            "Specified SecurityToken is expired.",
        )
    }

    /// A credential service refused the caller's token or secret (`what`
    /// says which, never its value).
    pub(crate) fn not_authorized(status: u16, code: &str, what: &str) -> Self {
        Self::new(status, code, format!("{what} is not valid."))
    }

    pub(crate) fn invalid_duration(value: &str) -> Self {
        Self::new(
            400,
            "InvalidParameter.DurationSeconds",
            format!(
                "The parameter DurationSeconds {value:?} is not valid; give whole seconds from 900 to 43200."
            ),
        )
    }

    pub(crate) fn timestamp_expired(presented: &str) -> Self {
        Self::new(
            400,
            "InvalidTimeStamp.Expired",
            format!(
                "Specified time stamp or date value is expired: {presented} is more than 15 minutes from the server's time."
            ),
        )
    }

    pub(crate) fn timestamp_format(presented: &str) -> Self {
        Self::new(
            400,
            "InvalidTimeStamp.Format",
            format!(
                "Specified time stamp or date value {presented:?} is not well formatted; use YYYY-MM-DDThh:mm:ssZ in UTC."
            ),
        )
    }

    /// A V3 body whose hash is not the signed `x-acs-content-sha256`: the
    /// request is not the one signed.
    pub(crate) fn content_hash_mismatch(actual: &str) -> Self {
        Self::new(
            400,
            "SignatureDoesNotMatch",
            format!(
                "Specified signature is not matched with our calculation: the x-acs-content-sha256 header is not the SHA-256 of the request body, which is {actual}."
            ),
        )
    }

    /// A parameter that fails its check is `Invalid` + its name, as the
    /// OpenAPI gateway's common errors are.
    pub(crate) fn invalid_nonce(max: usize) -> Self {
        Self::new(
            400,
            "InvalidSignatureNonce",
            format!(
                "Specified parameter SignatureNonce is not valid: it has at most {max} bytes; send a unique random value, such as 32 hex digits."
            ),
        )
    }

    pub(crate) fn nonce_used() -> Self {
        Self::new(
            400,
            "SignatureNonceUsed",
            "Specified signature nonce was used already.",
        )
    }

    pub(crate) fn unsupported_action(action: &str) -> Self {
        Self::new(
            404,
            "InvalidAction.NotFound",
            format!("Specified api {action:?} is not found, please check your url and method."),
        )
    }

    pub(crate) fn unsupported_version(version: &str) -> Self {
        Self::new(
            400,
            "InvalidVersion",
            format!(
                "Specified parameter Version {version:?} is not valid; this API has version 2014-05-26."
            ),
        )
    }

    pub(crate) fn bad_request(detail: &str) -> Self {
        Self::new(
            400,
            "InvalidParameter",
            format!("The request could not be read: {detail}."),
        )
    }

    pub(crate) fn throttled(retry_after_ms: u64) -> Self {
        Self {
            retry_after_ms: Some(retry_after_ms),
            ..Self::new(
                400,
                "Throttling.User",
                "Request was denied due to user flow control.",
            )
        }
    }

    pub(crate) fn internal_error() -> Self {
        Self::new(
            500,
            "InternalError",
            "The request processing has failed due to some unknown error, exception or failure.",
        )
    }

    pub(crate) fn service_unavailable() -> Self {
        Self::new(
            503,
            "ServiceUnavailable",
            "The request has failed due to a temporary failure of the server.",
        )
    }
}
