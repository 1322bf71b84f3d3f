//! The API's request rules (docs/api/describe-invocation-results.md#parameters,
//! docs/api/describe-invocation-results.md#service-limits), checked all at once.

use super::{DescribeInvocationResultsRequest, MAX_ID_CHARS, MAX_PAGE_SIZE, MAX_TAGS};
use crate::enums::{ContentEncoding, InvokeRecordStatus};
use crate::validation::ValidationError;

/// Longest tag key, in characters.
const MAX_TAG_KEY_CHARS: usize = 64;
/// Longest tag value, in characters.
const MAX_TAG_VALUE_CHARS: usize = 128;

pub(super) fn problems(request: &DescribeInvocationResultsRequest) -> Vec<ValidationError> {
    let mut errors = Vec::new();
    check_region(request.region_id.as_deref(), &mut errors);
    for (name, value) in [
        ("InvokeId", &request.invoke_id),
        ("InstanceId", &request.instance_id),
        ("CommandId", &request.command_id),
        ("ResourceGroupId", &request.resource_group_id),
    ] {
        if let Some(problem) = value.as_deref().and_then(id_problem) {
            errors.push(ValidationError::new(name, problem));
        }
    }

    if let Some(status) = &request.invoke_record_status
        && status.as_str().trim().is_empty()
    {
        errors.push(ValidationError::new(
            "InvokeRecordStatus",
            format!(
                "must not be empty; use one of {}, or leave it out to not filter on the status",
                allowed(
                    InvokeRecordStatus::KNOWN
                        .iter()
                        .map(InvokeRecordStatus::as_str)
                )
            ),
        ));
    } else if let Some(status) = &request.invoke_record_status
        && !status.is_known()
    {
        errors.push(ValidationError::new(
            "InvokeRecordStatus",
            format!(
                "unknown value `{}`; use one of {}",
                status.as_str(),
                allowed(
                    InvokeRecordStatus::KNOWN
                        .iter()
                        .map(InvokeRecordStatus::as_str)
                )
            ),
        ));
    }
    if request.include_history == Some(true) && request.invoke_id.is_none() {
        errors.push(ValidationError::new(
            "IncludeHistory",
            "requires InvokeId (the id of a Period or EveryReboot execution); set InvokeId or drop IncludeHistory",
        ));
    }
    if let Some(encoding) = &request.content_encoding
        && !encoding.is_known()
    {
        errors.push(ValidationError::new(
            "ContentEncoding",
            format!(
                "unknown value `{}`; use one of {}",
                encoding.as_str(),
                allowed(ContentEncoding::KNOWN.iter().map(ContentEncoding::as_str))
            ),
        ));
    }

    if let Some(page_number) = request.page_number
        && page_number < 1
    {
        errors.push(ValidationError::new(
            "PageNumber",
            format!("must be 1 or more (pages start at 1), got {page_number}"),
        ));
    }
    for (name, value) in [
        ("PageSize", request.page_size),
        ("MaxResults", request.max_results),
    ] {
        if let Some(value) = value
            && !(1..=MAX_PAGE_SIZE).contains(&value)
        {
            errors.push(ValidationError::new(
                name,
                format!("must be between 1 and {MAX_PAGE_SIZE}, got {value}"),
            ));
        }
    }
    let number_paging = request.page_number.is_some() || request.page_size.is_some();
    let token_paging = request.max_results.is_some() || request.next_token.is_some();
    if number_paging && token_paging {
        let name = if request.page_number.is_some() {
            "PageNumber"
        } else {
            "PageSize"
        };
        errors.push(ValidationError::new(
            name,
            "cannot be combined with MaxResults/NextToken (the service would ignore it); use either PageNumber/PageSize or MaxResults/NextToken",
        ));
    }

    check_tags(request, &mut errors);
    errors
}

/// What is wrong with an id filter value, if anything: blank (an empty
/// filter would match everything), or longer than [`MAX_ID_CHARS`].
pub(super) fn id_problem(value: &str) -> Option<String> {
    if value.trim().is_empty() {
        return Some(
            "must not be empty; give the id, or leave the parameter out to not filter on it"
                .to_owned(),
        );
    }
    let chars = value.chars().count();
    (chars > MAX_ID_CHARS).then(|| {
        format!("is {chars} characters; ids are at most {MAX_ID_CHARS} characters, check the value")
    })
}

fn allowed<'a>(values: impl Iterator<Item = &'a str>) -> String {
    values.collect::<Vec<_>>().join(", ")
}

fn check_region(region: Option<&str>, errors: &mut Vec<ValidationError>) {
    let Some(region) = region.filter(|r| !r.trim().is_empty()) else {
        errors.push(ValidationError::new(
            "RegionId",
            "is required; set the region of the command, e.g. cn-hangzhou",
        ));
        return;
    };
    if !is_region_id(region) {
        errors.push(ValidationError::new(
            "RegionId",
            format!(
                "`{region}` is not a region id; region ids are lower-case letters, digits and single hyphens, e.g. cn-hangzhou or ap-southeast-1"
            ),
        ));
    }
}

/// `cn-hangzhou`, `ap-southeast-1`, `cn-shanghai-finance-1`: lower-case
/// ASCII letters and digits in hyphen-separated parts, starting with a letter.
fn is_region_id(region: &str) -> bool {
    region.len() <= 64
        && region.starts_with(|c: char| c.is_ascii_lowercase())
        && region.split('-').all(|part| {
            !part.is_empty()
                && part
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        })
}

fn check_tags(request: &DescribeInvocationResultsRequest, errors: &mut Vec<ValidationError>) {
    if request.tags.len() > MAX_TAGS {
        errors.push(ValidationError::new(
            "Tag",
            format!(
                "at most {MAX_TAGS} tags can be given, got {}; remove {}",
                request.tags.len(),
                request.tags.len() - MAX_TAGS
            ),
        ));
    }
    for (index, tag) in request.tags.iter().enumerate() {
        let n = index + 1;
        let key_param = format!("Tag.{n}.Key");
        let key_chars = tag.key.chars().count();
        if tag.key.trim().is_empty() {
            errors.push(ValidationError::new(key_param.clone(), "must not be empty"));
        } else if key_chars > MAX_TAG_KEY_CHARS {
            errors.push(ValidationError::new(
                key_param.clone(),
                format!("must be at most {MAX_TAG_KEY_CHARS} characters, got {key_chars}"),
            ));
        }
        let lower = tag.key.to_ascii_lowercase();
        if lower.starts_with("aliyun") || lower.starts_with("acs:") {
            errors.push(ValidationError::new(
                key_param.clone(),
                format!(
                    "`{}` must not start with `aliyun` or `acs:` (reserved for system tags)",
                    tag.key
                ),
            ));
        }
        if lower.contains("http://") || lower.contains("https://") {
            errors.push(ValidationError::new(
                key_param,
                format!("`{}` must not contain `http://` or `https://`", tag.key),
            ));
        }
        let value_chars = tag.value.as_deref().map_or(0, |v| v.chars().count());
        if value_chars > MAX_TAG_VALUE_CHARS {
            errors.push(ValidationError::new(
                format!("Tag.{n}.Value"),
                format!("must be at most {MAX_TAG_VALUE_CHARS} characters, got {value_chars}"),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tag::TagFilter as Tag;

    fn base() -> DescribeInvocationResultsRequest {
        DescribeInvocationResultsRequest::builder()
            .region_id("cn-hangzhou")
            .build()
    }

    /// (description, mutation, expected (parameter, message fragment) list)
    type Case = (
        &'static str,
        fn(&mut DescribeInvocationResultsRequest),
        &'static [(&'static str, &'static str)],
    );

    #[test]
    fn validation_table() {
        let cases: &[Case] = &[
            ("valid minimal", |_| {}, &[]),
            (
                "region missing",
                |r| r.region_id = None,
                &[("RegionId", "is required")],
            ),
            (
                "region blank",
                |r| r.region_id = Some("  ".into()),
                &[("RegionId", "is required")],
            ),
            (
                "region upper",
                |r| r.region_id = Some("CN-HANGZHOU".into()),
                &[("RegionId", "not a region id")],
            ),
            (
                "region url",
                |r| r.region_id = Some("ecs.aliyuncs.com".into()),
                &[("RegionId", "not a region id")],
            ),
            (
                "region trailing hyphen",
                |r| r.region_id = Some("cn-".into()),
                &[("RegionId", "not a region id")],
            ),
            (
                "region long valid",
                |r| r.region_id = Some("cn-shanghai-finance-1".into()),
                &[],
            ),
            (
                "page number zero",
                |r| r.page_number = Some(0),
                &[("PageNumber", "must be 1 or more")],
            ),
            ("page number one", |r| r.page_number = Some(1), &[]),
            (
                "page size zero",
                |r| r.page_size = Some(0),
                &[("PageSize", "between 1 and 50")],
            ),
            (
                "page size 51",
                |r| r.page_size = Some(51),
                &[("PageSize", "got 51")],
            ),
            ("page size 50", |r| r.page_size = Some(50), &[]),
            (
                "max results 51",
                |r| r.max_results = Some(51),
                &[("MaxResults", "between 1 and 50")],
            ),
            (
                "max results -1",
                |r| r.max_results = Some(-1),
                &[("MaxResults", "got -1")],
            ),
            ("max results 1", |r| r.max_results = Some(1), &[]),
            (
                "mixed paging",
                |r| {
                    r.page_number = Some(2);
                    r.next_token = Some("x".into())
                },
                &[("PageNumber", "cannot be combined")],
            ),
            (
                "mixed paging size",
                |r| {
                    r.page_size = Some(2);
                    r.max_results = Some(2)
                },
                &[("PageSize", "cannot be combined")],
            ),
            (
                "unknown status",
                |r| r.invoke_record_status = Some(InvokeRecordStatus::parse("Done")),
                &[("InvokeRecordStatus", "unknown value `Done`")],
            ),
            (
                "status any case",
                |r| r.invoke_record_status = Some(InvokeRecordStatus::parse("running")),
                &[],
            ),
            (
                "unknown encoding",
                |r| r.content_encoding = Some(ContentEncoding::parse("hex")),
                &[("ContentEncoding", "PlainText, Base64")],
            ),
            (
                "history without invoke",
                |r| r.include_history = Some(true),
                &[("IncludeHistory", "requires InvokeId")],
            ),
            (
                "history false alone",
                |r| r.include_history = Some(false),
                &[],
            ),
            (
                "history with invoke",
                |r| {
                    r.include_history = Some(true);
                    r.invoke_id = Some("t-1".into())
                },
                &[],
            ),
            (
                "21 tags",
                |r| r.tags = (0..21).map(|i| Tag::new(format!("k{i}"), "")).collect(),
                &[("Tag", "at most 20")],
            ),
            (
                "20 tags",
                |r| r.tags = (0..20).map(|i| Tag::new(format!("k{i}"), "")).collect(),
                &[],
            ),
            (
                "empty key",
                |r| r.tags = vec![Tag::new("a", "b"), Tag::new("", "b")],
                &[("Tag.2.Key", "must not be empty")],
            ),
            (
                "key 65",
                |r| r.tags = vec![Tag::new("k".repeat(65), "")],
                &[("Tag.1.Key", "at most 64")],
            ),
            (
                "key 64 multibyte",
                |r| r.tags = vec![Tag::new("é".repeat(64), "")],
                &[],
            ),
            (
                "value 129",
                |r| r.tags = vec![Tag::new("k", "v".repeat(129))],
                &[("Tag.1.Value", "at most 128")],
            ),
            (
                "value 128 multibyte",
                |r| r.tags = vec![Tag::new("k", "é".repeat(128))],
                &[],
            ),
            ("value empty", |r| r.tags = vec![Tag::new("k", "")], &[]),
            ("key only", |r| r.tags = vec![Tag::key_only("k")], &[]),
            (
                "key blank",
                |r| r.tags = vec![Tag::key_only(" \t")],
                &[("Tag.1.Key", "must not be empty")],
            ),
            (
                "invoke id empty",
                |r| r.invoke_id = Some(String::new()),
                &[("InvokeId", "must not be empty")],
            ),
            (
                "instance id blank",
                |r| r.instance_id = Some("  ".into()),
                &[("InstanceId", "must not be empty")],
            ),
            (
                "command id empty",
                |r| r.command_id = Some(String::new()),
                &[("CommandId", "must not be empty")],
            ),
            (
                "resource group id blank",
                |r| r.resource_group_id = Some("\n".into()),
                &[("ResourceGroupId", "must not be empty")],
            ),
            (
                "status empty",
                |r| r.invoke_record_status = Some(InvokeRecordStatus::parse("")),
                &[("InvokeRecordStatus", "must not be empty")],
            ),
            (
                "invoke id 100 KB",
                |r| r.invoke_id = Some("t".repeat(100_000)),
                &[("InvokeId", "100000 characters; ids are at most 256")],
            ),
            (
                "instance id 256 multibyte",
                |r| r.instance_id = Some("é".repeat(256)),
                &[],
            ),
            (
                "resource group id 257",
                |r| r.resource_group_id = Some("r".repeat(257)),
                &[("ResourceGroupId", "at most 256")],
            ),
            (
                "history with empty invoke id",
                |r| {
                    r.include_history = Some(true);
                    r.invoke_id = Some(String::new())
                },
                &[("InvokeId", "must not be empty")],
            ),
            (
                "key aliyun",
                |r| r.tags = vec![Tag::new("aliyun-x", "")],
                &[("Tag.1.Key", "must not start with")],
            ),
            (
                "key acs",
                |r| r.tags = vec![Tag::new("acs:x", "")],
                &[("Tag.1.Key", "must not start with")],
            ),
            (
                "key http",
                |r| r.tags = vec![Tag::new("a-http://b", "")],
                &[("Tag.1.Key", "http://")],
            ),
            (
                "key https",
                |r| r.tags = vec![Tag::new("https://b", "")],
                &[("Tag.1.Key", "https://")],
            ),
        ];
        for (name, mutate, expected) in cases {
            let mut request = base();
            mutate(&mut request);
            let found = problems(&request);
            assert_eq!(found.len(), expected.len(), "{name}: {found:?}");
            for ((param, fragment), error) in expected.iter().zip(&found) {
                assert_eq!(error.parameter(), *param, "{name}");
                assert!(
                    error.message().contains(fragment),
                    "{name}: {:?} lacks {fragment:?}",
                    error.message()
                );
            }
            assert_eq!(request.validate().is_ok(), expected.is_empty(), "{name}");
        }
    }

    #[test]
    fn one_id_is_checked_by_the_same_rule() {
        assert!(crate::check_id("InstanceId", "i-1").is_ok());
        let blank = crate::check_id("InstanceId", " ").unwrap_err();
        assert_eq!(blank.parameter(), "InstanceId");
        assert!(blank.message().contains("must not be empty"));
        let long = crate::check_id("InvokeId", &"t".repeat(MAX_ID_CHARS + 1)).unwrap_err();
        assert!(long.message().contains("at most 256"), "{long}");
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let request = DescribeInvocationResultsRequest::builder()
            .page_size(0)
            .max_results(99)
            .include_history(true)
            .tag("", "v")
            .build();
        let errors = request.validate().unwrap_err();
        let params: Vec<_> = errors.iter().map(|e| e.parameter()).collect();
        assert_eq!(
            params,
            [
                "RegionId",
                "IncludeHistory",
                "PageSize",
                "MaxResults",
                "PageSize",
                "Tag.1.Key"
            ]
        );
        let text = errors.to_string();
        assert!(text.starts_with("invalid request (6 problems): RegionId: is required"));
        assert!(errors.concerns("Tag.1.Key"));
    }
}
