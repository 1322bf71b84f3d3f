//! A `DescribeInvocationResults` query: its parameters read as `ecs-model`
//! reads a received query (`DescribeInvocationResultsRequest::from_query`),
//! checked as the service checks them (with the service's error codes),
//! then one page of it cut from the positions the store selects, with
//! either paging style.

use ecs_model::{
    ContentEncoding, DescribeInvocationResultsRequest, InvokeRecordStatus, MAX_TAGS, TagFilter,
    ValidationErrors,
};

use crate::api_error::ApiError;
use crate::data::{Record, Status};
use crate::filter::Filter;
use crate::positions::Matches;
use crate::store::Store;
use crate::tokens::Tokens;

/// Page size limit for both paging styles, as the model has it.
const MAX_PAGE: u64 = ecs_model::MAX_PAGE_SIZE.unsigned_abs();
/// Default page size for both paging styles.
const DEFAULT_PAGE: u64 = 10;

/// Region ids the service knows, besides any region of the loaded data.
const KNOWN_REGIONS: &[&str] = &[
    "cn-hangzhou",
    "cn-shanghai",
    "cn-beijing",
    "cn-qingdao",
    "cn-zhangjiakou",
    "cn-huhehaote",
    "cn-wulanchabu",
    "cn-shenzhen",
    "cn-heyuan",
    "cn-guangzhou",
    "cn-chengdu",
    "cn-nanjing",
    "cn-fuzhou",
    "cn-wuhan-lr",
    "cn-hongkong",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-southeast-1",
    "ap-southeast-3",
    "ap-southeast-5",
    "ap-southeast-6",
    "ap-southeast-7",
    "ap-south-1",
    "us-east-1",
    "us-west-1",
    "eu-west-1",
    "eu-central-1",
    "me-east-1",
    "me-central-1",
    "na-south-1",
    "cn-shanghai-finance-1",
    "cn-shenzhen-finance-1",
    "cn-beijing-finance-1",
    "cn-north-2-gov-1",
];

/// Which paging style the request uses.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Paging {
    Token { max: u64, token: Option<String> },
    Number { page: u64, size: u64 },
}

/// A checked query.
#[derive(Debug, Clone)]
pub(crate) struct Query {
    pub(crate) filter: Filter,
    pub(crate) encoding: ContentEncoding,
    paging: Paging,
}

/// The service's answer to a query it cannot read, named by the first
/// parameter at fault: given twice, or a value of the wrong kind.
fn unreadable(errors: &ValidationErrors, params: &[(String, String)]) -> ApiError {
    let Some(first) = errors.iter().next() else {
        return ApiError::bad_request("the query cannot be read");
    };
    let name = first.parameter();
    if params.iter().filter(|(k, _)| k == name).count() > 1 {
        return ApiError::invalid_parameter(name, "give each parameter once");
    }
    match name {
        "PageNumber" => ApiError::invalid_page_number(),
        "PageSize" => ApiError::invalid_page_size(),
        "MaxResults" => ApiError::invalid_max_results(),
        "IncludeHistory" => ApiError::invalid_parameter("IncludeHistory", "use true or false"),
        _ if name.starts_with("Tag.") => {
            ApiError::invalid_tag_key("the N of Tag.N must be from 1 to 20")
        }
        _ => ApiError::invalid_parameter(name, first.message()),
    }
}

impl Query {
    /// Reads the API parameters of a request as `ecs-model` reads a received
    /// query, then checks them as the service does, with its error codes.
    pub(crate) fn parse(params: &[(String, String)], store: &Store) -> Result<Self, ApiError> {
        let request = DescribeInvocationResultsRequest::from_query(params)
            .map_err(|e| unreadable(&e, params))?;
        let region_id = request
            .region_id
            .clone()
            .ok_or_else(|| ApiError::missing_parameter("RegionId"))?;
        if !KNOWN_REGIONS.contains(&region_id.as_str()) && !store.has_region(&region_id) {
            return Err(ApiError::invalid_region());
        }
        let record_status = match &request.invoke_record_status {
            None => None,
            Some(status) => Some(
                InvokeRecordStatus::KNOWN
                    .iter()
                    .find(|known| *known == status)
                    .map(InvokeRecordStatus::as_str)
                    .ok_or_else(|| {
                        ApiError::invalid_parameter(
                            "InvokeRecordStatus",
                            "use Running, Finished, Success, Failed, PartialFailed, Stopped or Stopping",
                        )
                    })?,
            ),
        };
        let include_history = request.include_history.unwrap_or(false);
        let encoding = match &request.content_encoding {
            None => ContentEncoding::Base64,
            Some(encoding) if encoding.is_known() => encoding.clone(),
            Some(_) => {
                return Err(ApiError::invalid_parameter(
                    "ContentEncoding",
                    "use PlainText or Base64",
                ));
            }
        };
        if include_history {
            let Some(id) = &request.invoke_id else {
                return Err(ApiError::invalid_parameter(
                    "IncludeHistory",
                    "IncludeHistory=true needs the InvokeId of a Period or EveryReboot invocation",
                ));
            };
            match store.repeat_mode(id) {
                None => return Err(ApiError::invoke_id_not_found()),
                Some(mode) if !mode.keeps_history() => {
                    return Err(ApiError::invalid_parameter(
                        "IncludeHistory",
                        "IncludeHistory=true needs the InvokeId of a Period or EveryReboot invocation",
                    ));
                }
                Some(_) => {}
            }
        }
        let tags = check_tags(params, &request.tags)?;
        let paging = paging(&request)?;
        Ok(Self {
            filter: Filter {
                region_id,
                invoke_id: request.invoke_id,
                instance_id: request.instance_id,
                command_id: request.command_id,
                record_status,
                include_history,
                resource_group_id: request.resource_group_id,
                tags,
            },
            encoding,
            paging,
        })
    }

    /// One page of the results `matches` lists (as the store selected them
    /// for this query's filter, `elapsed_ms` after the start), with the
    /// statuses of that moment.
    pub(crate) fn page(
        &self,
        store: &Store,
        matches: &Matches,
        elapsed_ms: u64,
        tokens: &Tokens,
    ) -> Result<Page, ApiError> {
        let total_count = matches.len();
        // The results at match ranks `range`, in one allocation.
        let results = |range: std::ops::Range<u64>| {
            let mut results = Vec::with_capacity(
                usize::try_from(range.end.saturating_sub(range.start)).unwrap_or(0),
            );
            results.extend(range.filter_map(|m| {
                let record = store.get(matches.nth(m)?)?;
                let status = record.status_at(elapsed_ms);
                Some((record, status))
            }));
            results
        };
        match &self.paging {
            Paging::Number { page, size } => {
                let skip = page.saturating_sub(1).saturating_mul(*size);
                let end = skip.saturating_add(*size).min(total_count);
                Ok(Page {
                    results: results(skip..end),
                    total_count,
                    page_number: *page,
                    page_size: *size,
                    next_token: None,
                })
            }
            Paging::Token { max, token } => {
                let fingerprint = self.filter.fingerprint();
                let start = match token {
                    None => 0,
                    Some(token) => tokens.decode(token, &fingerprint)?,
                };
                // The token holds the position of the next result; results
                // added since come after it.
                let first = matches.rank(start);
                let end = first.saturating_add(*max).min(total_count);
                let next = matches
                    .nth(end)
                    .map(|position| tokens.encode(position, &fingerprint));
                Ok(Page {
                    results: results(first..end),
                    total_count,
                    page_number: 1,
                    page_size: *max,
                    next_token: next,
                })
            }
        }
    }
}

/// The tag filters as the service checks them: at most 20, numbered 1 to
/// 20; a key without a value selects every resource with that key,
/// whatever its value; an empty value selects the empty value only.
fn check_tags(
    params: &[(String, String)],
    tags: &[TagFilter],
) -> Result<Vec<(String, Option<String>)>, ApiError> {
    let beyond = params.iter().any(|(name, _)| {
        DescribeInvocationResultsRequest::tag_index(name).is_some_and(|n| n as usize > MAX_TAGS)
    });
    if beyond || tags.len() > MAX_TAGS {
        return Err(ApiError::invalid_tag_key(
            "give at most 20 tags, Tag.1 to Tag.20",
        ));
    }
    let mut checked: Vec<(String, Option<String>)> = Vec::with_capacity(tags.len());
    for TagFilter { key, value } in tags {
        if key.is_empty() {
            return Err(ApiError::missing_tag_key());
        }
        if key.chars().count() > 64 {
            return Err(ApiError::invalid_tag_key("a key has at most 64 characters"));
        }
        if key.starts_with("aliyun") || key.starts_with("acs:") {
            return Err(ApiError::invalid_tag_key(
                "a key must not start with aliyun or acs:",
            ));
        }
        if key.contains("http://") || key.contains("https://") {
            return Err(ApiError::invalid_tag_key(
                "a key must not contain http:// or https://",
            ));
        }
        if value.as_ref().is_some_and(|v| v.chars().count() > 128) {
            return Err(ApiError::invalid_tag_value(
                "a value has at most 128 characters",
            ));
        }
        if checked.iter().any(|(k, _)| k == key) {
            return Err(ApiError::duplicate_tag_key());
        }
        checked.push((key.clone(), value.clone()));
    }
    Ok(checked)
}

/// A page size in 1..=50, or `None`.
fn page_size(value: Option<i64>) -> Option<Option<u64>> {
    match value {
        None => Some(None),
        Some(n) => u64::try_from(n)
            .ok()
            .filter(|n| (1..=MAX_PAGE).contains(n))
            .map(Some),
    }
}

fn paging(request: &DescribeInvocationResultsRequest) -> Result<Paging, ApiError> {
    if request.max_results.is_some() || request.next_token.is_some() {
        let max = page_size(request.max_results)
            .ok_or_else(ApiError::invalid_max_results)?
            .unwrap_or(DEFAULT_PAGE);
        return Ok(Paging::Token {
            max,
            token: request.next_token.clone(),
        });
    }
    let page = match request.page_number {
        None => 1,
        Some(n) => u64::try_from(n)
            .ok()
            .filter(|n| *n >= 1)
            .ok_or_else(ApiError::invalid_page_number)?,
    };
    let size = page_size(request.page_size)
        .ok_or_else(ApiError::invalid_page_size)?
        .unwrap_or(DEFAULT_PAGE);
    Ok(Paging::Number { page, size })
}

/// One page of results, ready to be written out.
#[derive(Debug)]
pub(crate) struct Page {
    pub(crate) results: Vec<(Record, Status)>,
    pub(crate) total_count: u64,
    pub(crate) page_number: u64,
    pub(crate) page_size: u64,
    pub(crate) next_token: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::DataSet;

    fn params(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn demo() -> Store {
        Store::new(None, DataSet::demo().invocations)
    }

    fn code(pairs: &[(&str, &str)]) -> String {
        Query::parse(&params(pairs), &demo()).unwrap_err().code
    }

    #[test]
    fn parameter_errors_carry_the_service_codes() {
        let r = ("RegionId", "cn-hangzhou");
        assert_eq!(code(&[]), "MissingParameter.RegionId");
        assert_eq!(
            code(&[("RegionId", "xx-nowhere-9")]),
            "InvalidRegionId.NotFound"
        );
        assert_eq!(code(&[r, ("PageSize", "51")]), "InvalidParam.PageSize");
        assert_eq!(code(&[r, ("PageSize", "ten")]), "InvalidParam.PageSize");
        assert_eq!(code(&[r, ("PageNumber", "0")]), "InvalidParam.PageNumber");
        assert_eq!(
            code(&[r, ("MaxResults", "0")]),
            "InvalidParameter.MaxResults"
        );
        assert_eq!(code(&[r, ("Tag.1.Value", "x")]), "MissingParameter.TagKey");
        assert_eq!(
            code(&[r, ("Tag.1.Key", "aliyun-x")]),
            "InvalidTagKey.Malformed"
        );
        assert_eq!(code(&[r, ("Tag.21.Key", "k")]), "InvalidTagKey.Malformed");
        let long = "v".repeat(129);
        assert_eq!(
            code(&[r, ("Tag.1.Key", "k"), ("Tag.1.Value", &long)]),
            "InvalidTagValue.Malformed"
        );
        assert_eq!(
            code(&[r, ("Tag.1.Key", "k"), ("Tag.2.Key", "k")]),
            "Duplicate.TagKey"
        );
        assert_eq!(
            code(&[r, ("IncludeHistory", "true")]),
            "InvalidParameter.IncludeHistory"
        );
        assert_eq!(
            code(&[r, ("IncludeHistory", "True"), ("InvokeId", "t-none")]),
            "InvalidInvokeId.NotFound"
        );
        assert_eq!(
            code(&[r, ("ContentEncoding", "Hex")]),
            "InvalidParameter.ContentEncoding"
        );
    }

    #[test]
    fn the_query_is_read_as_ecs_model_reads_a_received_one() {
        let r = ("RegionId", "cn-hangzhou");
        // A parameter given twice is refused, named.
        assert_eq!(
            code(&[r, ("InvokeId", "t-1"), ("InvokeId", "t-2")]),
            "InvalidParameter.InvokeId"
        );
        assert_eq!(
            code(&[r, ("PageSize", "5"), ("PageSize", "6")]),
            "InvalidParameter.PageSize"
        );
        // Integers may carry surrounding spaces; values are trimmed.
        let query = Query::parse(
            &params(&[r, ("PageSize", " 5 "), ("InvokeId", " t-1 ")]),
            &demo(),
        )
        .unwrap();
        assert_eq!(query.paging, Paging::Number { page: 1, size: 5 });
        assert_eq!(query.filter.invoke_id.as_deref(), Some("t-1"));
        // Enums in any case, given back in the API's spelling.
        let query = Query::parse(
            &params(&[
                r,
                ("InvokeRecordStatus", "finished"),
                ("ContentEncoding", "plaintext"),
            ]),
            &demo(),
        )
        .unwrap();
        assert_eq!(query.filter.record_status, Some("Finished"));
        assert_eq!(query.encoding, ContentEncoding::PlainText);
    }

    /// Runs a query `elapsed_ms` after the start, with tokens of seed 1.
    fn run_at(store: &Store, pairs: &[(&str, &str)], elapsed_ms: u64) -> Result<Page, ApiError> {
        let query = Query::parse(&params(pairs), store)?;
        let matches = store.select(&query.filter, elapsed_ms, true).unwrap();
        query.page(store, &matches, elapsed_ms, &Tokens::new(1))
    }

    fn run(store: &Store, pairs: &[(&str, &str)]) -> Page {
        run_at(store, pairs, u64::MAX).unwrap()
    }

    #[test]
    fn token_paging_walks_every_result_once() {
        let store = demo();
        let mut seen = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let mut pairs = vec![("RegionId", "cn-hangzhou"), ("MaxResults", "2")];
            if let Some(t) = &token {
                pairs.push(("NextToken", t));
            }
            let page = run(&store, &pairs);
            assert!(page.results.len() <= 2);
            seen.extend(
                page.results
                    .iter()
                    .map(|(r, _)| (r.invocation.invoke_id.clone(), r.result.instance_id.clone())),
            );
            match page.next_token {
                Some(t) => token = Some(t),
                None => break,
            }
        }
        // 3 + 2 + 1 (latest run of the periodic one) + 2.
        assert_eq!(seen.len(), 8);
        let unique: std::collections::HashSet<_> = seen.iter().collect();
        assert_eq!(unique.len(), 8);
    }

    #[test]
    fn a_tampered_or_foreign_token_is_refused() {
        let store = demo();
        let page = run(&store, &[("RegionId", "cn-hangzhou"), ("MaxResults", "1")]);
        let token = page.next_token.unwrap();
        let mut tampered = token.clone().into_bytes();
        tampered[2] = if tampered[2] == b'A' { b'B' } else { b'A' };
        let tampered = String::from_utf8(tampered).unwrap();
        let err = run_at(
            &store,
            &[("RegionId", "cn-hangzhou"), ("NextToken", &tampered)],
            0,
        )
        .unwrap_err();
        assert_eq!(err.code, "InvalidParameter.NextToken");
        // The same token with another filter is refused too.
        let err = run_at(
            &store,
            &[
                ("RegionId", "cn-hangzhou"),
                ("InstanceId", "i-bp1i7gg30r52z2em1234"),
                ("NextToken", &token),
            ],
            0,
        )
        .unwrap_err();
        assert_eq!(err.code, "InvalidParameter.NextToken");
    }

    #[test]
    fn page_numbers_count_every_match() {
        let store = demo();
        let page = run(
            &store,
            &[
                ("RegionId", "cn-hangzhou"),
                ("PageSize", "3"),
                ("PageNumber", "3"),
            ],
        );
        assert_eq!(page.total_count, 8);
        assert_eq!(page.results.len(), 2);
        assert_eq!(page.page_number, 3);
        // Past the last page (and at the largest page number): no results,
        // the same count.
        for number in ["4", "9223372036854775807"] {
            let past = run(
                &store,
                &[
                    ("RegionId", "cn-hangzhou"),
                    ("PageSize", "3"),
                    ("PageNumber", number),
                ],
            );
            assert_eq!(past.total_count, 8, "page {number}");
            assert!(past.results.is_empty(), "page {number}");
        }
    }

    #[test]
    fn filters_narrow_the_results() {
        let store = demo();
        let by_instance = run(
            &store,
            &[
                ("RegionId", "cn-hangzhou"),
                ("InstanceId", "i-bp1i7gg30r52z2em1234"),
            ],
        );
        assert_eq!(by_instance.total_count, 3);
        let failed = run(
            &store,
            &[
                ("RegionId", "cn-hangzhou"),
                ("InvokeRecordStatus", "Failed"),
            ],
        );
        assert_eq!(failed.total_count, 2);
        let tagged = run(
            &store,
            &[
                ("RegionId", "cn-hangzhou"),
                ("Tag.1.Key", "env"),
                ("Tag.1.Value", "prod"),
            ],
        );
        assert_eq!(tagged.total_count, 3);
        let history = run(
            &store,
            &[
                ("RegionId", "cn-hangzhou"),
                ("InvokeId", "t-hz0jdfwg2ab9abc"),
                ("IncludeHistory", "true"),
            ],
        );
        assert_eq!(history.total_count, 3);
        let other_region = run(&store, &[("RegionId", "cn-beijing")]);
        assert_eq!(other_region.total_count, 0);
    }

    #[test]
    fn results_run_until_their_time_has_come() {
        let store = demo();
        let statuses = |elapsed| {
            run_at(
                &store,
                &[
                    ("RegionId", "cn-hangzhou"),
                    ("InvokeId", "t-hz0jdfwe1uy5678"),
                ],
                elapsed,
            )
            .unwrap()
            .results
            .iter()
            .map(|(_, s)| s.as_str())
            .collect::<Vec<_>>()
        };
        assert_eq!(statuses(0), ["Running", "Running"]);
        assert_eq!(statuses(3_000), ["Success", "Running"]);
        assert_eq!(statuses(5_000), ["Success", "Success"]);
    }
}
