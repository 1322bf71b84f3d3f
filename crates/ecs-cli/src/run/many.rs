//! Many invocations and regions at once, and following a run: `results`
//! and `wait` over every (region, invocation) pair through the library's
//! fan-out (one client, one limit on requests in flight), results printed
//! as they arrive, a live progress line on a terminal, the pairs that
//! failed listed at the end.

use std::io::{self, BufRead};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use ecs_assist::{Client, Error, ErrorKind, FanOutStream, InvocationResult, Source, WaitOutcome};
use futures::StreamExt as _;

use super::exit;
use crate::args::{self, Filters, OutputsArgs, ResultsArgs, WaitArgs};
use crate::full_output::Outputs;
use crate::output::{Format, PrintError, Printer};
use crate::progress::Progress;
use crate::sanitize::for_terminal;
use crate::ui::Ui;

/// Exit code of a run stopped by Ctrl-C (128 + SIGINT).
const INTERRUPTED: u8 = 130;

/// How often the progress line is redrawn while nothing arrives.
const PROGRESS_EVERY: Duration = Duration::from_millis(250);

/// The regions asked for: trimmed, empty ones dropped, each once, in the
/// order given.
pub(crate) fn regions(given: &[String]) -> Vec<String> {
    let mut regions: Vec<String> = Vec::new();
    for region in given.iter().map(|r| r.trim()).filter(|r| !r.is_empty()) {
        if !regions.iter().any(|r| r == region) {
            regions.push(region.to_owned());
        }
    }
    regions
}

/// The invocation ids: `-` is replaced by the ids read from `stdin`, one
/// per line (blank lines skipped); each id once, in order.
///
/// # Errors
/// A message when `-` is given twice or stdin cannot be read.
pub(crate) fn invoke_ids(given: &[String], stdin: impl BufRead) -> Result<Vec<String>, String> {
    if given.iter().filter(|id| id.as_str() == "-").count() > 1 {
        return Err("--invoke-id - (read from stdin) may be given once".to_owned());
    }
    let mut ids: Vec<String> = Vec::new();
    let mut add = |id: &str| {
        if !ids.iter().any(|known| known == id) {
            ids.push(id.to_owned());
        }
    };
    let mut stdin = Some(stdin);
    for id in given {
        if id == "-" {
            for line in stdin.take().into_iter().flat_map(BufRead::lines) {
                let line =
                    line.map_err(|e| format!("cannot read invocation ids from stdin: {e}"))?;
                let line = line.trim();
                if !line.is_empty() {
                    add(line);
                }
            }
        } else {
            add(id);
        }
    }
    Ok(ids)
}

/// Whether a command needs the fan-out: several regions or invocations,
/// or `--follow`.
pub(crate) fn wanted(regions: &[String], invoke_ids: &[String], follow: bool) -> bool {
    follow || regions.len() > 1 || invoke_ids.len() > 1
}

/// A refusal before anything is sent: exit 2.
fn bad_input(message: &str) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::from(exit::BAD_INPUT)
}

/// No region was given (an explicit endpoint alone builds a client).
fn no_region() -> ExitCode {
    bad_input("give --region (or set ALIBABA_CLOUD_REGION_ID): the region of the invocations")
}

/// Complete outputs come from the OSS of the client's region: with several
/// regions they are refused (exit 2) rather than fetched from the wrong one.
fn outputs_in_one_region(outputs: &OutputsArgs, regions: &[String]) -> Result<(), ExitCode> {
    if regions.len() > 1 && (outputs.full_output || outputs.save_outputs.is_some()) {
        return Err(bad_input(
            "--full-output and --save-outputs read each output from the OSS of one region: \
             give one --region (run once per region)",
        ));
    }
    Ok(())
}

/// The request of every invocation (or one without an invocation),
/// checked: bad input ends the run with exit 2.
fn requests(
    client: &Client,
    filters: &Filters,
    max_results: Option<u32>,
) -> Result<Vec<ecs_assist::DescribeInvocationResultsRequest>, ExitCode> {
    let ids: Vec<Option<&String>> = if filters.invoke_id.is_empty() {
        vec![None]
    } else {
        filters.invoke_id.iter().map(Some).collect()
    };
    let mut out = Vec::new();
    for id in ids {
        let mut op = super::request(client, filters);
        if let Some(id) = id {
            op = op.invoke_id(id.clone());
        }
        if let Some(size) = max_results {
            op = op.max_results(i64::from(size));
        }
        super::check(&op)?;
        out.push(op.as_request().clone());
    }
    Ok(out)
}

/// `results` over every pair.
pub(crate) async fn results(
    client: &Client,
    global: &args::Global,
    args: ResultsArgs,
    regions: &[String],
    format: Format,
    colour: bool,
    ui: Ui,
) -> Result<ExitCode, Error> {
    if global.dry_run {
        return Ok(bad_input(
            "--dry-run shows one request: give one --region and at most one --invoke-id",
        ));
    }
    if args.page_style == args::PageStyle::Number || args.max_items.is_some() {
        return Ok(bad_input(
            "--page-style number and --max-items apply to one request: give one --region and \
             at most one --invoke-id",
        ));
    }
    if regions.is_empty() {
        return Ok(no_region());
    }
    if let Err(code) = outputs_in_one_region(&args.outputs, regions) {
        return Ok(code);
    }
    let requests = match requests(client, &args.filters, args.page_size) {
        Ok(requests) => requests,
        Err(code) => return Ok(code),
    };
    let mut fan_out = client
        .fan_out()
        .regions(regions.iter().cloned())
        .concurrency(args.many.concurrency as usize);
    for request in requests {
        fan_out = fan_out.request(request);
    }
    let stream = fan_out.results()?;
    let printer = printer(format, &args.filters, colour, regions.len() > 1);
    let outputs = super::outputs(client, &args.outputs, ui);
    let run = drive(stream, printer, outputs, ui, true, false).await;
    Ok(run.finish(ui, false).await)
}

/// `wait` over every pair; with `follow`, each result printed as it
/// finishes.
pub(crate) async fn wait(
    client: &Client,
    global: &args::Global,
    args: WaitArgs,
    regions: &[String],
    format: Format,
    colour: bool,
    ui: Ui,
) -> Result<ExitCode, Error> {
    if args.filters.invoke_id.is_empty() {
        return Ok(bad_input(
            "`wait` needs --invoke-id: the invocation to wait for",
        ));
    }
    let (interval, max_interval) = match args.intervals() {
        Ok(intervals) => intervals,
        Err(message) => return Ok(bad_input(&message)),
    };
    if args.follow && format == Format::Json {
        return Ok(bad_input(
            "--follow prints each result as it finishes, and json is one array at the end: \
             use --output ndjson (one object per line), table or raw",
        ));
    }
    if global.dry_run {
        return Ok(bad_input(
            "--dry-run shows one request: give one --region and one --invoke-id, without --follow",
        ));
    }
    if regions.is_empty() {
        return Ok(no_region());
    }
    if let Err(code) = outputs_in_one_region(&args.outputs, regions) {
        return Ok(code);
    }
    let requests = match requests(client, &args.filters, None) {
        Ok(requests) => requests,
        Err(code) => return Ok(code),
    };
    let mut fan_out = client
        .fan_out()
        .regions(regions.iter().cloned())
        .concurrency(args.many.concurrency as usize);
    for request in requests {
        fan_out = fan_out.request(request);
    }
    let (timeout, fail_fast, fewer) = (args.timeout, args.fail_fast, args.fewer_requests);
    let stream = fan_out.watch(|w| {
        w.timeout(timeout)
            .poll_interval(interval)
            .max_poll_interval(max_interval)
            .fail_fast(fail_fast)
            .fewer_requests(fewer)
    })?;
    let printer = printer(format, &args.filters, colour, regions.len() > 1);
    let outputs = super::outputs(client, &args.outputs, ui);
    let run = drive(stream, printer, outputs, ui, args.follow, true).await;
    Ok(run.finish(ui, true).await)
}

fn printer(
    format: Format,
    filters: &Filters,
    colour: bool,
    regions: bool,
) -> Printer<io::BufWriter<io::Stdout>> {
    let mut printer = Printer::new(super::stdout_writer(), format, colour);
    if filters.instance_id.is_some() {
        printer = printer.without_raw_headers();
    }
    if regions {
        printer = printer.with_regions();
    }
    printer
}

/// What a fan-out run came to.
struct Run<'a> {
    printer: Printer<io::BufWriter<io::Stdout>>,
    /// Complete outputs fetched or saved (`--full-output`, `--save-outputs`).
    outputs: Outputs<'a>,
    /// Pairs that ended with an error (not a timeout).
    failures: Vec<(Source, Error)>,
    /// Pairs that timed out, with their error.
    timeouts: Vec<(Source, Error)>,
    /// Each finished pair's outcome (watches).
    outcomes: Vec<(Source, Option<WaitOutcome>)>,
    interrupted: bool,
    /// stdout went away (`| head`): stop quietly.
    closed: bool,
    /// A result's output could not be printed.
    bad_output: bool,
    /// Results are printed as they arrive (else at the end).
    streamed: bool,
}

/// Drives the merged stream to its end (or Ctrl-C), printing each result
/// as it arrives when `streamed`, and a progress line on a terminal (the
/// watches' counts when `watching`, else the results fetched).
async fn drive<'a>(
    mut stream: FanOutStream,
    printer: Printer<io::BufWriter<io::Stdout>>,
    outputs: Outputs<'a>,
    ui: Ui,
    streamed: bool,
    watching: bool,
) -> Run<'a> {
    let mut run = Run {
        printer,
        outputs,
        failures: Vec::new(),
        timeouts: Vec::new(),
        outcomes: Vec::new(),
        interrupted: false,
        closed: false,
        bad_output: false,
        streamed,
    };
    let mut progress = Progress::new(ui.progress);
    if !run.outputs.saves() && run.printer.begin().is_err() {
        run.closed = true;
        return run;
    }
    // The progress line shows the wall time elapsed: the binary's one
    // reading of the system clock for it.
    #[allow(clippy::disallowed_methods)]
    let started = Instant::now();
    let mut tick = tokio::time::interval(PROGRESS_EVERY);
    let mut fetched = 0u64;
    let show = |progress: &mut Progress, stream: &FanOutStream, fetched: u64| {
        if watching {
            progress.following(&stream.summary(), started.elapsed());
        } else {
            progress.fetched(fetched);
        }
    };
    let interrupt = tokio::signal::ctrl_c();
    tokio::pin!(interrupt);
    loop {
        tokio::select! {
            item = stream.next() => {
                let Some(item) = item else { break };
                progress.clear();
                match item.result {
                    Ok(result) => {
                        fetched = fetched.saturating_add(1);
                        if streamed && !run.print(&item.source, &result, ui).await {
                            break;
                        }
                    }
                    Err(err) if err.kind() == ErrorKind::WaitTimeout => {
                        run.timeouts.push((item.source, err));
                    }
                    Err(err) => run.failures.push((item.source, err)),
                }
                if ui.progress {
                    show(&mut progress, &stream, fetched);
                }
            }
            _ = tick.tick(), if ui.progress => show(&mut progress, &stream, fetched),
            _ = &mut interrupt => {
                run.interrupted = true;
                break;
            }
        }
    }
    progress.clear();
    run.outcomes = stream.outcomes();
    run
}

impl Run<'_> {
    /// Prints one result; `false` when stdout went away.
    async fn print(&mut self, source: &Source, result: &InvocationResult, ui: Ui) -> bool {
        self.print_page(source, std::slice::from_ref(result), ui)
            .await
    }

    /// Prints (or saves) results of one source, the complete outputs in
    /// place of the truncated ones when asked for; `false` when stdout went
    /// away.
    async fn print_page(&mut self, source: &Source, results: &[InvocationResult], ui: Ui) -> bool {
        let printed = if self.outputs.saves() {
            self.outputs
                .save_page(results, &mut io::stdout())
                .await
                .map_err(PrintError::from)
        } else if self.outputs.fetches() {
            let full = self.outputs.fetch_page(results).await;
            self.printer.page_with_in(&source.region, results, &full)
        } else {
            super::warn_truncated(ui, results);
            self.printer.page_in(&source.region, results)
        };
        match printed {
            Ok(()) => true,
            Err(PrintError::Io(_)) => {
                self.closed = true;
                false
            }
            Err(PrintError::Output(err)) => {
                eprintln!("error: {}", for_terminal(&err.0));
                self.bad_output = true;
                true
            }
        }
    }

    /// Prints what waits for the end, the summaries and the failures, and
    /// picks the exit code.
    async fn finish(mut self, ui: Ui, waited: bool) -> ExitCode {
        if self.closed {
            return ExitCode::SUCCESS;
        }
        if self.interrupted {
            let _ = self.printer.flush();
            eprintln!("interrupted: stopped at Ctrl-C; what was printed is kept");
            return ExitCode::from(INTERRUPTED);
        }
        if !self.streamed {
            // `wait` without --follow: every pair's last state, at the end.
            let mut last: Vec<(Source, WaitOutcome)> = self
                .outcomes
                .iter()
                .filter_map(|(s, o)| o.clone().map(|o| (s.clone(), o)))
                .collect();
            for (source, err) in &self.timeouts {
                if let Some(outcome) = err.wait_outcome() {
                    last.push((source.clone(), outcome.clone()));
                }
            }
            for (source, outcome) in &last {
                if !self.print_page(source, outcome.results(), ui).await {
                    return ExitCode::SUCCESS;
                }
            }
        }
        if !self.outputs.saves() {
            let _ = self.printer.finish();
        }
        let mut failed_instances = false;
        if waited {
            for (source, outcome) in &self.outcomes {
                let Some(outcome) = outcome else { continue };
                failed_instances |= outcome.has_failures();
                if !ui.quiet {
                    eprintln!(
                        "{}: {}",
                        for_terminal(&source.to_string()),
                        outcome.summary()
                    );
                }
            }
        }
        for (source, err) in &self.timeouts {
            eprintln!(
                "error: {}: {}",
                for_terminal(&source.to_string()),
                for_terminal(&err.to_string())
            );
            if let Some(outcome) = err.wait_outcome() {
                failed_instances |= outcome.has_failures();
            }
        }
        if !self.failures.is_empty() {
            eprintln!(
                "error: {} of the streams failed (the others completed):",
                self.failures.len()
            );
            for (source, err) in &self.failures {
                let code = err
                    .code()
                    .map(|c| format!(" ({})", for_terminal(c)))
                    .unwrap_or_default();
                eprintln!(
                    "  {}: {}{code}",
                    for_terminal(&source.to_string()),
                    for_terminal(&err.to_string())
                );
            }
        }
        let code = if !self.failures.is_empty() || self.bad_output || self.outputs.failures() > 0 {
            exit::FAILURE
        } else if !self.timeouts.is_empty() {
            exit::WAIT_TIMEOUT
        } else if failed_instances {
            exit::WAIT_FAILED
        } else {
            0
        };
        ExitCode::from(code)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_from_stdin_replace_the_dash_each_once_in_order() {
        let given = ["t-1".to_owned(), "-".to_owned(), "t-4".to_owned()];
        let stdin = io::Cursor::new("t-2\n\n  t-3  \nt-1\n");
        assert_eq!(
            invoke_ids(&given, stdin).unwrap(),
            ["t-1", "t-2", "t-3", "t-4"]
        );
        let twice = ["-".to_owned(), "-".to_owned()];
        assert!(
            invoke_ids(&twice, io::Cursor::new(""))
                .unwrap_err()
                .contains("once")
        );
    }

    #[test]
    fn regions_are_trimmed_and_each_kept_once() {
        let given = [
            "cn-a".to_owned(),
            " cn-b".to_owned(),
            "cn-a".to_owned(),
            String::new(),
        ];
        assert_eq!(regions(&given), ["cn-a", "cn-b"]);
    }

    #[test]
    fn the_fan_out_is_for_follow_or_several_regions_or_invocations() {
        let one = ["x".to_owned()];
        let two = ["x".to_owned(), "y".to_owned()];
        assert!(!wanted(&one, &one, false));
        assert!(wanted(&one, &one, true));
        assert!(wanted(&two, &one, false) && wanted(&one, &two, false));
    }
}
