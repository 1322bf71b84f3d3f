//! The wire query of a request, both ways (docs/api/describe-invocation-results.md#query-encoding).

use std::collections::BTreeMap;

use super::DescribeInvocationResultsRequest;
use crate::enums::{ContentEncoding, InvokeRecordStatus};
use crate::tag::TagFilter;
use crate::validation::{ValidationError, ValidationErrors};

/// Common and SDK-internal parameters that are not part of this operation's
/// own parameters (docs/api/describe-invocation-results.md#common-parameters); `from_query`
/// skips them.
const COMMON_PARAMETERS: &[&str] = &[
    "Action",
    "Version",
    "Format",
    "Timestamp",
    "Signature",
    "SignatureMethod",
    "SignatureVersion",
    "SignatureNonce",
    "SignatureType",
    "AccessKeyId",
    "SecurityToken",
    "BearerToken",
    "OwnerId",
    "OwnerAccount",
    "ResourceOwnerId",
    "ResourceOwnerAccount",
];

/// Highest `N` accepted in `Tag.N.*` when reading a query. Far above the
/// API's limit of 20 (which `validate` reports) but bounded, so a hostile
/// query cannot make the parser allocate without limit.
const MAX_TAG_INDEX: u32 = 1000;

pub(super) fn to_query(request: &DescribeInvocationResultsRequest) -> Vec<(String, String)> {
    let mut query = Vec::with_capacity(12 + 2 * request.tags.len());
    let mut push = |name: &str, value: Option<String>| {
        if let Some(value) = value {
            query.push((name.to_owned(), value));
        }
    };
    push("RegionId", request.region_id.clone());
    push("InvokeId", request.invoke_id.clone());
    push("InstanceId", request.instance_id.clone());
    push("CommandId", request.command_id.clone());
    push(
        "InvokeRecordStatus",
        request
            .invoke_record_status
            .as_ref()
            .map(|s| s.as_str().to_owned()),
    );
    push(
        "IncludeHistory",
        request.include_history.map(|b| b.to_string()),
    );
    push(
        "ContentEncoding",
        request
            .content_encoding
            .as_ref()
            .map(|e| e.as_str().to_owned()),
    );
    push("PageNumber", request.page_number.map(|n| n.to_string()));
    push("PageSize", request.page_size.map(|n| n.to_string()));
    push("MaxResults", request.max_results.map(|n| n.to_string()));
    push("NextToken", request.next_token.clone());
    push("ResourceGroupId", request.resource_group_id.clone());
    for (index, tag) in request.tags.iter().enumerate() {
        let n = index + 1;
        query.push((format!("Tag.{n}.Key"), tag.key.clone()));
        if let Some(value) = &tag.value {
            query.push((format!("Tag.{n}.Value"), value.clone()));
        }
    }
    query
}

pub(super) fn from_query(
    params: &[(String, String)],
) -> Result<DescribeInvocationResultsRequest, ValidationErrors> {
    let mut request = DescribeInvocationResultsRequest::default();
    let mut errors = Vec::new();
    let mut seen: Vec<&str> = Vec::new();
    let mut tags: BTreeMap<u32, (Option<String>, Option<String>)> = BTreeMap::new();

    for (name, value) in params {
        let name = name.as_str();
        if COMMON_PARAMETERS.contains(&name) {
            continue;
        }
        if seen.contains(&name) {
            errors.push(ValidationError::new(
                name,
                "is given more than once; give each parameter once",
            ));
            continue;
        }
        seen.push(name);
        let text = || non_empty(value);
        match name {
            "RegionId" => request.region_id = text(),
            "InvokeId" => request.invoke_id = text(),
            "InstanceId" => request.instance_id = text(),
            "CommandId" => request.command_id = text(),
            "NextToken" => request.next_token = text(),
            "ResourceGroupId" => request.resource_group_id = text(),
            "InvokeRecordStatus" => {
                request.invoke_record_status = text().map(|v| InvokeRecordStatus::parse(&v));
            }
            "ContentEncoding" => {
                request.content_encoding = text().map(|v| ContentEncoding::parse(&v));
            }
            "IncludeHistory" => match parse_bool(value) {
                Ok(b) => request.include_history = b,
                Err(message) => errors.push(ValidationError::new(name, message)),
            },
            "PageNumber" | "PageSize" | "MaxResults" => match parse_int(value) {
                Ok(n) => match name {
                    "PageNumber" => request.page_number = n,
                    "PageSize" => request.page_size = n,
                    _ => request.max_results = n,
                },
                Err(message) => errors.push(ValidationError::new(name, message)),
            },
            _ if name.starts_with("Tag.") => match parse_tag_name(name) {
                Some((n, is_key)) => {
                    let slot = tags.entry(n).or_default();
                    if is_key {
                        slot.0 = Some(value.clone());
                    } else {
                        slot.1 = Some(value.clone());
                    }
                }
                None => errors.push(ValidationError::new(name, malformed_tag_name())),
            },
            // Unknown parameters are ignored, as the service ignores them.
            _ => {}
        }
    }
    request.tags = tags
        .into_values()
        .map(|(key, value)| TagFilter {
            key: key.unwrap_or_default(),
            value,
        })
        .collect();
    ValidationErrors::check(errors)?;
    Ok(request)
}

fn non_empty(value: &str) -> Option<String> {
    let trimmed = value.trim();
    (!trimmed.is_empty()).then(|| trimmed.to_owned())
}

fn parse_bool(value: &str) -> Result<Option<bool>, String> {
    let trimmed = value.trim();
    if trimmed.is_empty() {
        Ok(None)
    } else if trimmed.eq_ignore_ascii_case("true") {
        Ok(Some(true))
    } else if trimmed.eq_ignore_ascii_case("false") {
        Ok(Some(false))
    } else {
        Err(format!("`{trimmed}` is not a boolean; use true or false"))
    }
}

fn parse_int(value: &str) -> Result<Option<i64>, String> {
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return Ok(None);
    }
    trimmed
        .parse::<i64>()
        .map(Some)
        .map_err(|_| format!("`{trimmed}` is not an integer"))
}

/// The N of `Tag.<N>.Key` / `Tag.<N>.Value`.
pub(super) fn tag_index(name: &str) -> Option<u32> {
    parse_tag_name(name).map(|(n, _)| n)
}

/// `Tag.<N>.Key` / `Tag.<N>.Value` → (N, is_key); `None` for any other
/// name (a query's every parameter is asked, so no message is built here:
/// [`malformed_tag_name`] words it).
fn parse_tag_name(name: &str) -> Option<(u32, bool)> {
    let rest = name.strip_prefix("Tag.")?;
    let (index, field) = rest.split_once('.')?;
    let is_key = match field {
        "Key" => true,
        "Value" => false,
        _ => return None,
    };
    if index.is_empty() || !index.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    index
        .parse::<u32>()
        .ok()
        .filter(|n| (1..=MAX_TAG_INDEX).contains(n))
        .map(|n| (n, is_key))
}

/// What is wrong with a `Tag.` parameter [`parse_tag_name`] refused.
fn malformed_tag_name() -> String {
    format!("is not a tag parameter; use Tag.N.Key or Tag.N.Value with N from 1 to {MAX_TAG_INDEX}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn to_query_flattens_like_the_sdk() {
        let request = DescribeInvocationResultsRequest::builder()
            .region_id("cn-hangzhou")
            .invoke_id("t-1")
            .include_history(true)
            .content_encoding(ContentEncoding::PlainText)
            .max_results(20)
            .tag("env", "prod")
            .tag("team", "")
            .tag_key("owner")
            .build();
        assert_eq!(
            request.to_query(),
            q(&[
                ("RegionId", "cn-hangzhou"),
                ("InvokeId", "t-1"),
                ("IncludeHistory", "true"),
                ("ContentEncoding", "PlainText"),
                ("MaxResults", "20"),
                ("Tag.1.Key", "env"),
                ("Tag.1.Value", "prod"),
                ("Tag.2.Key", "team"),
                ("Tag.2.Value", ""),
                // A key-only filter sends no value: any value matches.
                ("Tag.3.Key", "owner"),
            ])
        );
    }

    #[test]
    fn from_query_reads_python_booleans_and_ignores_common_parameters() {
        let params = q(&[
            ("Action", "DescribeInvocationResults"),
            ("Format", "json"),
            ("SignatureNonce", "abc"),
            ("OwnerId", "1"),
            ("RegionId", "cn-beijing"),
            ("IncludeHistory", "True"),
            ("InvokeId", "t-9"),
            ("InvokeRecordStatus", "finished"),
            ("PageNumber", "2"),
            ("PageSize", " 30 "),
            ("Tag.2.Value", "b"),
            ("Tag.2.Key", "k2"),
            ("Tag.1.Key", "k1"),
            ("Tag.1.Value", ""),
            ("Tag.3.Key", "k3"),
            ("SomethingNew", "x"),
        ]);
        let request = DescribeInvocationResultsRequest::from_query(&params).unwrap();
        assert_eq!(request.region_id.as_deref(), Some("cn-beijing"));
        assert_eq!(request.include_history, Some(true));
        assert_eq!(
            request.invoke_record_status,
            Some(InvokeRecordStatus::Finished)
        );
        assert_eq!(request.page_number, Some(2));
        assert_eq!(request.page_size, Some(30));
        assert_eq!(
            request.tags,
            vec![
                TagFilter::new("k1", ""),
                TagFilter::new("k2", "b"),
                TagFilter::key_only("k3")
            ]
        );
        assert!(request.validate().is_ok());
    }

    #[test]
    fn tag_indexes_are_read_as_from_query_reads_them() {
        assert_eq!(
            DescribeInvocationResultsRequest::tag_index("Tag.21.Key"),
            Some(21)
        );
        assert_eq!(
            DescribeInvocationResultsRequest::tag_index("Tag.1.Value"),
            Some(1)
        );
        for name in [
            "Tag.0.Key",
            "Tag.1.Foo",
            "Tag.x.Key",
            "RegionId",
            "Tag.1001.Key",
        ] {
            assert_eq!(
                DescribeInvocationResultsRequest::tag_index(name),
                None,
                "{name}"
            );
        }
    }

    #[test]
    fn from_query_reports_every_unreadable_value() {
        let params = q(&[
            ("RegionId", "cn-beijing"),
            ("IncludeHistory", "yes"),
            ("PageSize", "ten"),
            ("MaxResults", "1e3"),
            ("Tag.x.Key", "k"),
            ("Tag.1.Name", "k"),
            ("Tag.0.Key", "k"),
            ("RegionId", "cn-hangzhou"),
        ]);
        let errors = DescribeInvocationResultsRequest::from_query(&params).unwrap_err();
        let params: Vec<_> = errors.iter().map(|e| e.parameter()).collect();
        assert_eq!(
            params,
            [
                "IncludeHistory",
                "PageSize",
                "MaxResults",
                "Tag.x.Key",
                "Tag.1.Name",
                "Tag.0.Key",
                "RegionId"
            ]
        );
        assert!(
            errors.errors()[0]
                .message()
                .contains("`yes` is not a boolean")
        );
        for tag in &errors.errors()[3..6] {
            assert!(
                tag.message()
                    .contains("use Tag.N.Key or Tag.N.Value with N from 1 to"),
                "{}",
                tag.message()
            );
        }
        assert!(errors.errors()[6].message().contains("more than once"));
    }

    #[test]
    fn query_round_trips() {
        let request = DescribeInvocationResultsRequest::builder()
            .region_id("cn-hangzhou")
            .invoke_id("t-1")
            .instance_id("i-1")
            .command_id("c-1")
            .invoke_record_status("Failed")
            .include_history(false)
            .content_encoding("Base64")
            .page_number(3)
            .page_size(7)
            .resource_group_id("rg-1")
            .tag("a", "b")
            .tag("empty", "")
            .tag_key("any")
            .build();
        let back = DescribeInvocationResultsRequest::from_query(&request.to_query()).unwrap();
        assert_eq!(back, request);
    }
}
