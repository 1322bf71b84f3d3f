//! Running a command: build the client from the flags and the environment,
//! then page or wait, print, and choose the exit code.

use std::io::{self, IsTerminal as _, Write as _};
use std::process::ExitCode;

use ecs_assist::config::ProcessEnvironment;
use ecs_assist::{
    Client, ClientBuilder, ContentEncoding, EndpointType, Error, ErrorKind, PageStyle,
    SignatureVersion,
};
use ecs_model::ValidationErrors;
use futures::StreamExt as _;

use crate::args::{self, Cli, Command, Filters, OutputsArgs, ResultsArgs, WaitArgs};
use crate::full_output::{Outputs, SaveTo};
use crate::output::{Format, Printer};
use crate::progress::Progress;
use crate::sanitize::for_terminal;
use crate::ui::Ui;

mod many;

/// Exit codes (docs/design.md#command-line).
pub(crate) mod exit {
    /// A service or transport error.
    pub(crate) const FAILURE: u8 = 1;
    /// Bad input, detected before anything was sent.
    pub(crate) const BAD_INPUT: u8 = 2;
    /// `wait`: some instance ended in a failure state.
    pub(crate) const WAIT_FAILED: u8 = 3;
    /// `wait`: the wait timed out.
    pub(crate) const WAIT_TIMEOUT: u8 = 4;
}

pub(crate) async fn run(mut cli: Cli) -> ExitCode {
    let stdout_terminal = io::stdout().is_terminal();
    let ui = Ui {
        quiet: cli.global.quiet,
        progress: !cli.global.quiet && io::stderr().is_terminal(),
    };
    let follow = matches!(&cli.command, Command::Wait(args) if args.follow);
    let format = cli.global.output.unwrap_or(if stdout_terminal {
        Format::Table
    } else if follow {
        // Followed results are printed as they finish: one object a line.
        Format::Ndjson
    } else {
        Format::Json
    });
    let regions = many::regions(&cli.global.region);
    if let Command::Results(ResultsArgs { filters, .. }) | Command::Wait(WaitArgs { filters, .. }) =
        &mut cli.command
    {
        match many::invoke_ids(&filters.invoke_id, io::stdin().lock()) {
            Ok(ids) => filters.invoke_id = ids,
            Err(message) => {
                eprintln!("error: {message}");
                return ExitCode::from(exit::BAD_INPUT);
            }
        }
    }
    let colour = stdout_terminal
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        && std::env::var("TERM").map_or(true, |t| t != "dumb");
    let client = match client(&cli.global, regions.first()) {
        Ok(client) => client,
        Err(err) => return report(&err),
    };
    let outcome = match cli.command {
        Command::Results(args) if many::wanted(&regions, &args.filters.invoke_id, false) => {
            many::results(&client, &cli.global, args, &regions, format, colour, ui).await
        }
        Command::Wait(args) if many::wanted(&regions, &args.filters.invoke_id, args.follow) => {
            many::wait(&client, &cli.global, args, &regions, format, colour, ui).await
        }
        Command::Results(args) => results(&client, &cli.global, args, format, colour, ui).await,
        Command::Wait(args) => wait(&client, &cli.global, args, format, colour, ui).await,
        Command::Completions { .. } => {
            unreachable!("completions are printed before the client is built")
        }
    };
    outcome.unwrap_or_else(|err| report(&err))
}

/// The client the flags and the environment describe, in `region` (the
/// first asked for).
fn client(global: &args::Global, region: Option<&String>) -> Result<Client, Error> {
    let mut builder = ClientBuilder::new();
    if let Some(region) = region {
        builder = builder.region(region.clone());
    }
    if let Some(endpoint) = &global.endpoint {
        builder = builder.endpoint(endpoint.clone());
    }
    if let Some(endpoint) = &global.oss_endpoint {
        builder = builder.oss_endpoint(endpoint.clone());
    }
    builder = builder
        .endpoint_type(match global.endpoint_type {
            args::EndpointType::Public => EndpointType::Public,
            args::EndpointType::Vpc => EndpointType::Vpc,
        })
        .signature_version(match global.signature {
            args::Signature::V3 => SignatureVersion::V3,
            args::Signature::V1 => SignatureVersion::V1,
        })
        .user_agent_suffix(format!("ecs-assist-cli/{}", env!("CARGO_PKG_VERSION")));
    if let Some(timeout) = global.connect_timeout {
        builder = builder.connect_timeout(timeout);
    }
    if let Some(timeout) = global.read_timeout {
        builder = builder.read_timeout(timeout);
    }
    if let Some(attempts) = global.max_attempts {
        builder = builder.max_attempts(attempts);
    }
    // An empty ALIBABA_CLOUD_PROFILE (or --profile "") is no profile, as
    // the credentials chain counts every empty variable.
    if let Some(profile) = global.profile.as_deref().map(str::trim)
        && !profile.is_empty()
    {
        builder = builder.profile(profile.to_owned());
    }
    builder.load_env(&ProcessEnvironment).build()
}

/// The request the filters describe.
pub(crate) fn request(client: &Client, filters: &Filters) -> ecs_assist::DescribeInvocationResults {
    let mut op = client.describe_invocation_results();
    if let Some(region) = client.region() {
        op = op.region_id(region);
    }
    if let Some(v) = filters.invoke_id.first() {
        op = op.invoke_id(v.clone());
    }
    if let Some(v) = &filters.instance_id {
        op = op.instance_id(v.clone());
    }
    if let Some(v) = &filters.command_id {
        op = op.command_id(v.clone());
    }
    if let Some(v) = &filters.status {
        op = op.invoke_record_status(v.as_str());
    }
    if filters.include_history {
        op = op.include_history(true);
    }
    if filters.encoding == args::Encoding::Plaintext {
        op = op.content_encoding(ContentEncoding::PlainText);
    }
    if let Some(v) = &filters.resource_group_id {
        op = op.resource_group_id(v.clone());
    }
    op.tags(filters.tags.iter().cloned())
}

/// Checks the request before anything is printed or sent (the library
/// checks again when it sends): bad input ends the run with exit 2.
pub(crate) fn check(op: &ecs_assist::DescribeInvocationResults) -> Result<(), ExitCode> {
    op.as_request()
        .validate()
        .map_err(|errors| invalid(&errors))
}

/// Prints the signed request, secrets masked, and sends nothing.
async fn dry_run(op: ecs_assist::DescribeInvocationResults) -> Result<ExitCode, Error> {
    let prepared = op.prepare().await?;
    let mut out = io::stdout().lock();
    // A closed stdout is the user's choice (`| head`), not an error.
    let _ = writeln!(out, "{prepared}");
    let _ = writeln!(out, "(dry run: nothing was sent)");
    Ok(ExitCode::SUCCESS)
}

/// The full-output settings of `args`.
pub(crate) fn outputs<'a>(client: &'a Client, args: &OutputsArgs, ui: Ui) -> Outputs<'a> {
    let save = args.save_outputs.as_ref().map(|dir| SaveTo {
        dir: dir.clone(),
        overwrite: args.overwrite,
    });
    Outputs::new(client, args.full_output, save, ui)
}

/// Prints (or saves) one page of results, the complete outputs in place
/// of truncated ones when asked.
async fn print_page<W: io::Write>(
    printer: &mut Printer<W>,
    outputs: &mut Outputs<'_>,
    ui: Ui,
    results: &[ecs_assist::InvocationResult],
) -> Result<(), crate::output::PrintError> {
    if !outputs.fetches() {
        warn_truncated(ui, results);
    }
    if outputs.saves() {
        return Ok(outputs.save_page(results, &mut io::stdout()).await?);
    }
    if outputs.fetches() {
        let full = outputs.fetch_page(results).await;
        return printer.page_with(results, &full);
    }
    printer.page(results)
}

/// Exit 1 when some output could not be fetched or saved, else `code`.
fn with_output_failures(code: ExitCode, outputs: &Outputs<'_>) -> ExitCode {
    if outputs.failures() > 0 && code == ExitCode::SUCCESS {
        ExitCode::from(exit::FAILURE)
    } else {
        code
    }
}

/// Warns on stderr about output the service cut off.
pub(crate) fn warn_truncated(ui: Ui, results: &[ecs_assist::InvocationResult]) {
    for result in results {
        if let Some(t) = result.truncation() {
            let whole = t
                .oss_output_uri
                .map(|uri| format!("; the whole output is at {uri}"))
                .unwrap_or_default();
            ui.warn(&format!(
                "the service truncated the output of {} ({}): {} bytes dropped beyond 24 KB{whole}",
                result.instance_id, result.invoke_id, t.dropped_bytes
            ));
        }
    }
}

async fn results(
    client: &Client,
    global: &args::Global,
    args: ResultsArgs,
    format: Format,
    colour: bool,
    ui: Ui,
) -> Result<ExitCode, Error> {
    let mut op = request(client, &args.filters);
    let style = match args.page_style {
        args::PageStyle::Token => PageStyle::Token,
        args::PageStyle::Number => PageStyle::Number,
    };
    if let Some(size) = args.page_size {
        op = match style {
            PageStyle::Number => op.page_size(i64::from(size)),
            _ => op.max_results(i64::from(size)),
        };
    }
    if let Err(code) = check(&op) {
        return Ok(code);
    }
    if global.dry_run {
        if style == PageStyle::Number && args.page_size.is_none() {
            op = op.page_number(1);
        }
        return dry_run(op).await;
    }
    // The CLI reads every page, so it asks for the next one while it
    // decodes and prints this one (the paginator reads nothing ahead under
    // --max-items or with page numbers).
    let mut paginator = op.into_paginator().page_style(style).read_ahead(true);
    if let Some(max) = args.max_items {
        paginator = paginator.max_items(max);
    }
    let raw_headers = args.filters.instance_id.is_none();
    // Buffered, flushed after every page: output streams page by page, in
    // about one write a page.
    let stdout = stdout_writer();
    let mut printer = Printer::new(stdout, format, colour);
    if !raw_headers {
        printer = printer.without_raw_headers();
    }
    let mut progress = Progress::new(ui.progress);
    let mut outputs = outputs(client, &args.outputs, ui);
    if !outputs.saves() && printer.begin().is_err() {
        return Ok(ExitCode::SUCCESS);
    }
    let mut pages = paginator.pages();
    while let Some(page) = pages.next().await {
        let failure = match page {
            Ok(page) => {
                progress.clear();
                match print_page(&mut printer, &mut outputs, ui, page.results()).await {
                    Ok(()) => {
                        progress.page(page.results().len());
                        continue;
                    }
                    // stdout closed (`| head`): stop quietly.
                    Err(crate::output::PrintError::Io(_)) => return Ok(ExitCode::SUCCESS),
                    Err(err) => {
                        eprintln!("error: {}", for_terminal(&err.to_string()));
                        ExitCode::from(exit::FAILURE)
                    }
                }
            }
            Err(err) => {
                progress.clear();
                let code = report(&err);
                let nothing_sent = err.is_invalid_input() || err.kind() == ErrorKind::Credentials;
                if nothing_sent && printer.written() == 0 {
                    return Ok(code);
                }
                code
            }
        };
        let _ = printer.flush();
        incomplete(printer.written(), printer.format());
        return Ok(failure);
    }
    progress.clear();
    if !outputs.saves() {
        let _ = printer.finish();
    }
    Ok(with_output_failures(ExitCode::SUCCESS, &outputs))
}

/// Says on stderr that a failed run's output stops short: `written`
/// results came before the error, and a JSON array was left open so that
/// nothing reads it as a complete answer.
fn incomplete(written: u64, format: Format) {
    let count = match written {
        0 => "no results were printed".to_owned(),
        1 => "1 result was printed".to_owned(),
        n => format!("{n} results were printed"),
    };
    let json = if format == Format::Json && written > 0 {
        "; the JSON array is left unclosed"
    } else {
        ""
    };
    eprintln!("note: the output is incomplete: {count} before the error{json}");
}

async fn wait(
    client: &Client,
    global: &args::Global,
    args: WaitArgs,
    format: Format,
    colour: bool,
    ui: Ui,
) -> Result<ExitCode, Error> {
    let Some(invoke_id) = args.filters.invoke_id.first().cloned() else {
        eprintln!("error: `wait` needs --invoke-id: the invocation to wait for");
        return Ok(ExitCode::from(exit::BAD_INPUT));
    };
    let (interval, max_interval) = match args.intervals() {
        Ok(intervals) => intervals,
        Err(message) => {
            eprintln!("error: {message}");
            return Ok(ExitCode::from(exit::BAD_INPUT));
        }
    };
    if args.fewer_requests {
        eprintln!(
            "error: --fewer-requests changes how followed results are polled: add --follow \
             (one wait lists every result each poll already)"
        );
        return Ok(ExitCode::from(exit::BAD_INPUT));
    }
    let op = request(client, &args.filters);
    if let Err(code) = check(&op) {
        return Ok(code);
    }
    if global.dry_run {
        return dry_run(op).await;
    }
    let progress = std::sync::Arc::new(std::sync::Mutex::new(Progress::new(ui.progress)));
    let mut waiter = client
        .wait_for_invocation(invoke_id.clone())
        .timeout(args.timeout)
        .poll_interval(interval)
        .max_poll_interval(max_interval)
        .fail_fast(args.fail_fast);
    if let Some(region) = client.region() {
        waiter = waiter.region_id(region);
    }
    if let Some(instance) = &args.filters.instance_id {
        waiter = waiter.instance_id(instance.clone());
    }
    {
        let progress = std::sync::Arc::clone(&progress);
        let invoke_id = invoke_id.clone();
        waiter = waiter.on_progress(move |seen| {
            if let Ok(mut p) = progress.lock() {
                p.waiting(&invoke_id, seen.summary());
            }
        });
    }
    let outcome = waiter.send().await;
    if let Ok(mut p) = progress.lock() {
        p.clear();
    }
    let (outcome, code) = match outcome {
        Ok(outcome) => {
            let code = if outcome.has_failures() {
                exit::WAIT_FAILED
            } else {
                0
            };
            (outcome, code)
        }
        Err(err) if err.kind() == ErrorKind::WaitTimeout => {
            let Some(last) = err.wait_outcome().cloned() else {
                return Err(err);
            };
            eprintln!("error: {}", for_terminal(&err.to_string()));
            (last, exit::WAIT_TIMEOUT)
        }
        Err(err) => return Err(err),
    };
    let stdout = stdout_writer();
    let mut printer = Printer::new(stdout, format, colour);
    let mut outputs = outputs(client, &args.outputs, ui);
    let printed = async {
        if !outputs.saves() {
            printer.begin()?;
        }
        print_page(&mut printer, &mut outputs, ui, outcome.results()).await?;
        if !outputs.saves() {
            printer.finish()?;
        }
        Ok::<(), crate::output::PrintError>(())
    }
    .await;
    if let Err(crate::output::PrintError::Output(err)) = printed {
        eprintln!("error: {}", for_terminal(&err.0));
    }
    if !ui.quiet {
        eprintln!("{}: {}", for_terminal(&invoke_id), outcome.summary());
    }
    Ok(with_output_failures(ExitCode::from(code), &outputs))
}

/// Prints an error the way a user can act on, and picks the exit code.
/// Everything the server sent is escaped first ([`for_terminal`]).
pub(crate) fn report(err: &Error) -> ExitCode {
    if let Some(errors) = err.validation_errors() {
        return invalid(errors);
    }
    let code = match err.kind() {
        // A credentials source that was configured but could not deliver
        // (unreachable, timed out, an error answer) is a network or service
        // failure, not bad input.
        ErrorKind::Credentials if err.is_credentials_unavailable() => exit::FAILURE,
        ErrorKind::InvalidInput | ErrorKind::InvalidConfig | ErrorKind::Credentials => {
            exit::BAD_INPUT
        }
        ErrorKind::WaitTimeout => exit::WAIT_TIMEOUT,
        _ => exit::FAILURE,
    };
    eprintln!("error: {}", for_terminal(&err.to_string()));
    if let Some(service) = err.service_error() {
        if !service.code.is_empty() {
            eprintln!("  Code:      {}", for_terminal(&service.code));
        }
        if !service.message.is_empty() {
            eprintln!("  Message:   {}", for_terminal(&service.message));
        }
        if let Some(id) = &service.request_id {
            eprintln!("  RequestId: {}", for_terminal(id));
        }
        if let Some(hint) = hint(&service.code) {
            eprintln!("  hint: {hint}");
        }
    } else if let Some(cause) = cause(err) {
        eprintln!("  cause: {}", for_terminal(&cause));
    }
    ExitCode::from(code)
}

/// The chain of causes under `err` on one line (`a: b: c`), each said once.
fn cause(err: &Error) -> Option<String> {
    let mut said: Vec<String> = Vec::new();
    let mut next = std::error::Error::source(err);
    while let Some(source) = next {
        let text = source.to_string();
        let known = said.iter().any(|s| s.contains(text.as_str()));
        if !text.trim().is_empty() && !known {
            said.push(text);
        }
        next = source.source();
    }
    (!said.is_empty()).then(|| said.join(": "))
}

/// Prints a request that broke the API's rules, each problem under the
/// flag that set it, and picks exit 2 (nothing was sent).
fn invalid(errors: &ValidationErrors) -> ExitCode {
    eprintln!("error: the request is invalid and was not sent:");
    for error in errors {
        let parameter = error.parameter();
        let message = for_terminal(error.message());
        match flag(parameter) {
            Some(flag) => eprintln!("  {flag} ({parameter}): {message}"),
            None => eprintln!("  {parameter}: {message}"),
        }
    }
    ExitCode::from(exit::BAD_INPUT)
}

/// The flag that sets a request parameter (`Tag.3.Key`: the third `--tag`).
fn flag(parameter: &str) -> Option<String> {
    let flag = match parameter {
        "RegionId" => "--region",
        "InvokeId" => "--invoke-id",
        "InstanceId" => "--instance-id",
        "CommandId" => "--command-id",
        "InvokeRecordStatus" => "--status",
        "IncludeHistory" => "--include-history",
        "ContentEncoding" => "--encoding",
        "PageSize" | "MaxResults" => "--page-size",
        "ResourceGroupId" => "--resource-group-id",
        "Tag" => "--tag",
        _ => {
            let n = parameter
                .strip_prefix("Tag.")?
                .split_once('.')?
                .0
                .parse::<usize>()
                .ok()?;
            return Some(format!("--tag #{n}"));
        }
    };
    Some(flag.to_owned())
}

/// What to do about the common service errors.
fn hint(code: &str) -> Option<&'static str> {
    Some(match code {
        "SignatureDoesNotMatch" => {
            "check ALIBABA_CLOUD_ACCESS_KEY_SECRET (or the profile's secret) and that this machine's clock is right"
        }
        "InvalidAccessKeyId.NotFound" | "InvalidAccessKeyId" => {
            "check ALIBABA_CLOUD_ACCESS_KEY_ID (or the profile's key id); it may have been deleted"
        }
        "InvalidTimeStamp.Expired" => {
            "this machine's clock is more than 15 minutes off; fix it (NTP)"
        }
        "Forbidden.RAM" | "Forbidden" | "NoPermission" => {
            "the RAM user or role needs ecs:DescribeInvocationResults"
        }
        "InvalidRegionId.NotFound" => "check --region (for example cn-hangzhou)",
        "MissingParameter.RegionId" => "give --region or set ALIBABA_CLOUD_REGION_ID",
        c if c.starts_with("Throttling") => {
            "the service is limiting your request rate; try again later or raise --max-attempts"
        }
        "InvalidInvokeId.NotFound" => "check --invoke-id; results are kept for 4 weeks",
        _ => return None,
    })
}

/// Bytes of stdout buffered between flushes: more than a page of 50
/// results of typical size, so a page goes out in one write, not one a
/// line (stdout alone writes each line) or one each 8 KiB.
const STDOUT_BUFFER: usize = 64 * 1024;

/// Stdout, buffered. (Not locked once for the whole run: the lock is not
/// `Send`, and the buffer already makes it one lock a page.)
pub(crate) fn stdout_writer() -> io::BufWriter<io::Stdout> {
    io::BufWriter::with_capacity(STDOUT_BUFFER, io::stdout())
}
