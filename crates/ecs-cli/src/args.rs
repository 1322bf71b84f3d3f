//! The command line (docs/design.md#command-line): global options, the `results` and
//! `wait` commands with their filters, and `completions`.

use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};
use ecs_assist::TagFilter;
use ecs_assist::config::{DEFAULT_MAX_POLL_INTERVAL, MAX_POLL_INTERVAL, MAX_WAIT_TIMEOUT};

use crate::output::Format;

const EXAMPLES: &str = "\
Examples:
  # What did invocation t-xxx print on each instance?
  ecs-assist --region cn-hangzhou results --invoke-id t-hz0jdfwd9f1234

  # Every failed result of one instance, as one JSON object per line
  ecs-assist --region cn-hangzhou --output ndjson results --instance-id i-xxx --status Failed

  # Wait until every instance has finished (exit 3 if one failed, 4 on timeout)
  ecs-assist --region cn-hangzhou wait --invoke-id t-hz0jdfwd9f1234 --timeout 10m

  # Follow a run: each instance's result as it finishes, in three regions
  ecs-assist --region cn-hangzhou,cn-beijing,cn-shanghai --output ndjson \
    wait --invoke-id t-xxx --follow

  # Results of many invocations, ids read from stdin
  cat ids.txt | ecs-assist --region cn-hangzhou results --invoke-id -

  # The complete output of results cut at 24 KB (delivered to OSS), saved to files
  ecs-assist --region cn-hangzhou results --invoke-id t-xxx --full-output --save-outputs ./outputs

  # Show the signed request without sending it (secrets masked)
  ecs-assist --region cn-hangzhou --dry-run results --invoke-id t-xxx

Credentials come from ALIBABA_CLOUD_ACCESS_KEY_ID / ALIBABA_CLOUD_ACCESS_KEY_SECRET
(and ALIBABA_CLOUD_SECURITY_TOKEN), then the aliyun CLI profile and the other
sources of the credentials chain.

Exit codes: 0 success; 1 service or transport error; 2 bad input (nothing sent);
3 `wait` ended with failures; 4 `wait` timed out; 130 interrupted (Ctrl-C).
With several regions or invocations, one that fails does not stop the others:
the failures are listed at the end and the exit code is 1.";

/// Fetch, page and wait for ECS Cloud Assistant command results
/// (DescribeInvocationResults).
#[derive(Debug, Parser)]
#[command(name = "ecs-assist", version, after_long_help = EXAMPLES, after_help = "Run with --help for examples and exit codes.")]
pub(crate) struct Cli {
    #[command(flatten)]
    pub(crate) global: Global,

    #[command(subcommand)]
    pub(crate) command: Command,
}

/// Options for every command.
#[derive(Debug, Args)]
pub(crate) struct Global {
    /// The region of the invocations, e.g. cn-hangzhou; several regions
    /// (comma-separated, or the flag repeated) are asked at once.
    #[arg(
        long,
        global = true,
        env = "ALIBABA_CLOUD_REGION_ID",
        value_name = "ID[,ID...]",
        value_delimiter = ','
    )]
    pub(crate) region: Vec<String>,

    /// The credentials profile (aliyun CLI config or credentials.ini).
    #[arg(
        long,
        global = true,
        env = "ALIBABA_CLOUD_PROFILE",
        value_name = "NAME"
    )]
    pub(crate) profile: Option<String>,

    /// Send to this endpoint instead of the region's, e.g. http://127.0.0.1:8080.
    #[arg(long, global = true, value_name = "URL")]
    pub(crate) endpoint: Option<String>,

    /// Send OSS requests (--full-output) to this endpoint instead of
    /// <bucket>.oss-<region>[-internal].aliyuncs.com, e.g. http://127.0.0.1:8080.
    #[arg(long, global = true, value_name = "URL")]
    pub(crate) oss_endpoint: Option<String>,

    /// Public endpoints, or the VPC ones from inside Alibaba Cloud.
    #[arg(long, global = true, value_enum, default_value_t = EndpointType::Public)]
    pub(crate) endpoint_type: EndpointType,

    /// The signature algorithm: V3 (ACS3-HMAC-SHA256) or V1 (HMAC-SHA1).
    #[arg(long, global = true, value_enum, default_value_t = Signature::V3)]
    pub(crate) signature: Signature,

    /// How long to wait for a connection, e.g. 5s.
    #[arg(long, global = true, value_parser = duration, value_name = "DURATION")]
    pub(crate) connect_timeout: Option<Duration>,

    /// How long to wait for each response, e.g. 10s.
    #[arg(long, global = true, value_parser = duration, value_name = "DURATION")]
    pub(crate) read_timeout: Option<Duration>,

    /// Attempts per request, retries included (1 turns retries off).
    #[arg(long, global = true, value_parser = clap::value_parser!(u32).range(1..=20), value_name = "N")]
    pub(crate) max_attempts: Option<u32>,

    /// table (default on a terminal), json (default otherwise), ndjson or raw.
    #[arg(long, global = true, value_enum)]
    pub(crate) output: Option<Format>,

    /// Print the signed request with secrets masked; send nothing.
    #[arg(long, global = true)]
    pub(crate) dry_run: bool,

    /// Log what happens on stderr (-v requests, -vv everything).
    #[arg(short, long, global = true, action = clap::ArgAction::Count, conflicts_with = "quiet")]
    pub(crate) verbose: u8,

    /// No progress line and no warnings on stderr; errors only.
    #[arg(short, long, global = true)]
    pub(crate) quiet: bool,
}

/// Which endpoints to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum EndpointType {
    /// ecs.<region>.aliyuncs.com
    Public,
    /// ecs-vpc.<region>.aliyuncs.com
    Vpc,
}

/// The signature algorithm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Signature {
    /// ACS3-HMAC-SHA256 in the Authorization header.
    V3,
    /// HMAC-SHA1 in the Signature query parameter.
    V1,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// List results (every page, streamed as they arrive).
    Results(ResultsArgs),
    /// Wait until every instance of an invocation has finished.
    Wait(WaitArgs),
    /// Print shell completions.
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
}

/// Which results.
#[derive(Debug, Args)]
pub(crate) struct Filters {
    /// The invocation id (t-...); repeat it for several, or give `-` to
    /// read ids from stdin (one per line).
    #[arg(long, value_name = "ID")]
    pub(crate) invoke_id: Vec<String>,

    /// One instance (i-...).
    #[arg(long, value_name = "ID")]
    pub(crate) instance_id: Option<String>,

    /// The command id (c-...).
    #[arg(long, value_name = "ID")]
    pub(crate) command_id: Option<String>,

    /// Only results in this state: Running, Finished, Success, Failed,
    /// PartialFailed, Stopped, Stopping.
    #[arg(long, value_name = "STATUS")]
    pub(crate) status: Option<String>,

    /// Every run of a periodic invocation, not only the latest (needs --invoke-id).
    #[arg(long)]
    pub(crate) include_history: bool,

    /// How the service encodes the output on the wire.
    #[arg(long, value_enum, default_value_t = Encoding::Base64)]
    pub(crate) encoding: Encoding,

    /// Only invocations of this resource group.
    #[arg(long, value_name = "ID")]
    pub(crate) resource_group_id: Option<String>,

    /// Only invocations with this tag (repeatable, up to 20): KEY (any
    /// value), KEY=VALUE, or KEY= (an empty value).
    #[arg(long = "tag", value_name = "KEY[=VALUE]", value_parser = tag)]
    pub(crate) tags: Vec<TagFilter>,
}

/// The output encoding on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Encoding {
    /// Base64 (exact bytes; the default).
    Base64,
    /// Plain text.
    Plaintext,
}

/// `results`.
#[derive(Debug, Args)]
pub(crate) struct ResultsArgs {
    #[command(flatten)]
    pub(crate) filters: Filters,

    /// Results per request (1 to 50).
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=50), value_name = "N")]
    pub(crate) page_size: Option<u32>,

    /// Token paging (MaxResults/NextToken) or page numbers (PageNumber/PageSize).
    #[arg(long, value_enum, default_value_t = PageStyle::Token)]
    pub(crate) page_style: PageStyle,

    /// Stop after this many results.
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..), value_name = "N")]
    pub(crate) max_items: Option<u64>,

    #[command(flatten)]
    pub(crate) outputs: OutputsArgs,

    #[command(flatten)]
    pub(crate) many: Many,
}

/// What to do with complete outputs (`results` and `wait`).
#[derive(Debug, Args)]
pub(crate) struct OutputsArgs {
    /// For results the service truncated at 24 KB (Dropped > 0), fetch the
    /// complete output the invocation delivered to OSS (OssOutputDelivery)
    /// and print it instead; a result whose output cannot be fetched keeps
    /// the truncated one, with a warning, and the run exits 1.
    #[arg(long)]
    pub(crate) full_output: bool,

    /// Write each result's output (the complete one with --full-output) to
    /// DIR/<invoke-id>/<instance-id>[.<repeats>].out, atomically, and print
    /// one line per file (path, bytes, complete or truncated) instead of
    /// the results.
    #[arg(long, value_name = "DIR")]
    pub(crate) save_outputs: Option<std::path::PathBuf>,

    /// With --save-outputs: replace files that exist (they are kept
    /// otherwise, with a warning and exit 1).
    #[arg(long, requires = "save_outputs")]
    pub(crate) overwrite: bool,
}

/// How to page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum PageStyle {
    /// MaxResults and NextToken.
    Token,
    /// PageNumber and PageSize.
    Number,
}

/// `wait`.
#[derive(Debug, Args)]
pub(crate) struct WaitArgs {
    #[command(flatten)]
    pub(crate) filters: Filters,

    /// Give up after this long (exit 4), e.g. 10m; at most 7 days. The last
    /// poll is made at the timeout.
    #[arg(long, value_parser = wait_timeout, default_value = "10m", value_name = "DURATION")]
    pub(crate) timeout: Duration,

    /// Time between polls, e.g. 2s; at most 1h.
    #[arg(long, value_parser = poll_interval, default_value = "2s", value_name = "DURATION")]
    pub(crate) interval: Duration,

    /// The longest time between polls: the interval doubles after each
    /// poll that saw nothing finish, up to this, and drops back to
    /// --interval when something does. At least --interval, at most 1h;
    /// give it equal to --interval to poll at a fixed rate. [default: 10s,
    /// or --interval when that is longer]
    #[arg(long, value_parser = poll_interval, value_name = "DURATION")]
    pub(crate) max_interval: Option<Duration>,

    /// Stop as soon as one instance fails.
    #[arg(long)]
    pub(crate) fail_fast: bool,

    #[command(flatten)]
    pub(crate) outputs: OutputsArgs,

    /// Print each instance's result as it finishes (table, ndjson or raw;
    /// json is one array at the end, so it is refused here).
    #[arg(long)]
    pub(crate) follow: bool,

    /// With --follow (or several invocations or regions): when fetching
    /// the results that finished would take more requests than listing
    /// every result again, list them all again instead. At most about the
    /// requests of a plain wait, whatever order instances finish in, but
    /// finished outputs are downloaded again on those polls.
    #[arg(long)]
    pub(crate) fewer_requests: bool,

    #[command(flatten)]
    pub(crate) many: Many,
}

impl WaitArgs {
    /// The poll intervals, `--interval` and `--max-interval`, when they
    /// agree; else what is wrong and what to do.
    pub(crate) fn intervals(&self) -> Result<(Duration, Duration), String> {
        match self.max_interval {
            None => Ok((self.interval, DEFAULT_MAX_POLL_INTERVAL.max(self.interval))),
            Some(max) if max >= self.interval => Ok((self.interval, max)),
            Some(max) => Err(format!(
                "--max-interval {} is shorter than --interval {}: give a --max-interval of at \
                 least the --interval (the same for polls at a fixed rate)",
                humantime::format_duration(max),
                humantime::format_duration(self.interval)
            )),
        }
    }
}

/// Asking many invocations and regions at once (`results` and `wait`).
#[derive(Debug, Args)]
pub(crate) struct Many {
    /// The most requests in flight at once over every region and
    /// invocation (1 to 64).
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u32).range(1..=64), value_name = "N")]
    pub(crate) concurrency: u32,
}

/// A duration like `500ms`, `5s`, `10m`, `1h 30m`.
fn duration(text: &str) -> Result<Duration, String> {
    let parsed = humantime::parse_duration(text)
        .map_err(|e| format!("{e}; write a duration like 500ms, 5s, 10m or 1h30m"))?;
    if parsed.is_zero() {
        return Err("the duration must be more than zero".to_owned());
    }
    Ok(parsed)
}

/// `--timeout`: a duration of at most [`MAX_WAIT_TIMEOUT`].
fn wait_timeout(text: &str) -> Result<Duration, String> {
    duration_at_most(text, MAX_WAIT_TIMEOUT)
}

/// `--interval`: a duration of at most [`MAX_POLL_INTERVAL`].
fn poll_interval(text: &str) -> Result<Duration, String> {
    duration_at_most(text, MAX_POLL_INTERVAL)
}

fn duration_at_most(text: &str, limit: Duration) -> Result<Duration, String> {
    let parsed = duration(text)?;
    if parsed > limit {
        return Err(format!(
            "must be at most {}",
            humantime::format_duration(limit)
        ));
    }
    Ok(parsed)
}

/// `KEY` (any value), `KEY=VALUE`, or `KEY=` (an empty value); the value is
/// what follows the first `=`.
fn tag(text: &str) -> Result<TagFilter, String> {
    let filter = match text.split_once('=') {
        Some((key, value)) => TagFilter::new(key, value),
        None => TagFilter::key_only(text),
    };
    if filter.key.trim().is_empty() {
        return Err(
            "the tag key must not be empty; write KEY (any value), KEY=VALUE or KEY= (an empty value)"
                .to_owned(),
        );
    }
    Ok(filter)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory as _;

    #[test]
    fn the_command_line_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn durations_and_tags_parse_or_say_why_not() {
        assert_eq!(duration("1m 30s").unwrap(), Duration::from_secs(90));
        assert!(duration("soon").unwrap_err().contains("like 500ms"));
        assert!(duration("0s").is_err());
        assert_eq!(tag("env=").unwrap(), TagFilter::new("env", ""));
        assert_eq!(tag("env").unwrap(), TagFilter::key_only("env"));
        assert_eq!(tag("a=b=c").unwrap(), TagFilter::new("a", "b=c"));
        assert!(tag("=x").unwrap_err().contains("KEY=VALUE"));
        assert!(tag(" ").is_err() && tag("").is_err());
        assert_eq!(poll_interval("1h").unwrap(), MAX_POLL_INTERVAL);
        assert!(poll_interval("3601s").unwrap_err().contains("at most 1h"));
        assert_eq!(wait_timeout("7d").unwrap(), MAX_WAIT_TIMEOUT);
        assert!(wait_timeout("18446744073709551615s").is_err());
    }

    #[test]
    fn global_options_go_before_or_after_the_command() {
        let cli = Cli::try_parse_from([
            "ecs-assist",
            "results",
            "--region",
            "cn-beijing",
            "--tag",
            "a=b",
            "--tag",
            "c=d",
        ])
        .unwrap();
        assert_eq!(cli.global.region, ["cn-beijing"]);
        let Command::Results(args) = cli.command else {
            panic!("results")
        };
        assert_eq!(args.filters.tags.len(), 2);
    }
}
