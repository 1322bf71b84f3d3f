//! Presentation: results written as a table, a JSON array, NDJSON or the raw
//! output, one page at a time as they arrive (nothing is collected first).

use std::borrow::Cow;
use std::io::{self, Read, Write};

use ecs_model::{InvocationResult, Timestamp};
use serde::Serialize;

use crate::sanitize::for_terminal;
use crate::spool::Spooled;

/// The output formats of `--output`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Format {
    /// A readable summary (default on a terminal).
    Table,
    /// One JSON array of result objects (default otherwise).
    Json,
    /// One JSON object per line.
    Ndjson,
    /// The decoded output itself.
    Raw,
}

/// One result as the CLI prints it: the API's field names, `Output` decoded.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ResultRecord<'a> {
    /// The region, when several were asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    region_id: Option<&'a str>,
    instance_id: &'a str,
    invoke_id: &'a str,
    command_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    container_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    container_name: Option<&'a str>,
    invocation_status: Option<&'a str>,
    invoke_record_status: Option<&'a str>,
    exit_code: Option<i64>,
    /// The decoded text; null when the bytes are not UTF-8.
    output: Option<Cow<'a, str>>,
    /// The bytes as Base64, only when they are not UTF-8.
    #[serde(skip_serializing_if = "Option::is_none")]
    output_base64: Option<String>,
    dropped: i64,
    error_code: Option<&'a str>,
    error_info: Option<&'a str>,
    repeats: i64,
    // Written as their text, without a string allocated for each.
    #[serde(serialize_with = "as_text")]
    start_time: Option<&'a Timestamp>,
    #[serde(serialize_with = "as_text")]
    finished_time: Option<&'a Timestamp>,
    #[serde(serialize_with = "as_text")]
    stop_time: Option<&'a Timestamp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    username: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    launcher: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    termination_mode: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    oss_output_delivery: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    oss_output_status: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    oss_output_uri: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    oss_output_error_code: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    oss_output_error_info: Option<&'a str>,
    /// `ecs_model::Tag` serializes as `{"TagKey", "TagValue"}`.
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    tags: &'a [ecs_model::Tag],
}

/// Serializes a timestamp as its text (`serializer.collect_str`: no string
/// allocated on the way).
fn as_text<S: serde::Serializer>(
    timestamp: &Option<&Timestamp>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match timestamp {
        Some(timestamp) => serializer.collect_str(timestamp),
        None => serializer.serialize_none(),
    }
}

/// A result's output could not be decoded (invalid Base64 from the server).
#[derive(Debug)]
pub(crate) struct OutputError(pub(crate) String);

/// The decoded bytes of a result's output (in the encoding its request
/// asked for, which the result carries).
pub(crate) fn output_bytes(result: &InvocationResult) -> Result<Vec<u8>, OutputError> {
    result
        .output_bytes()
        .map(std::borrow::Cow::into_owned)
        .map_err(|e| OutputError(e.to_string()))
}

impl<'a> ResultRecord<'a> {
    pub(crate) fn new(result: &'a InvocationResult) -> Result<Self, OutputError> {
        use base64::Engine as _;
        let bytes = result
            .output_bytes()
            .map_err(|e| OutputError(e.to_string()))?;
        // Borrowed from the result when it needed no decoding (plain text).
        let (output, output_base64) = match bytes {
            Cow::Borrowed(bytes) => match std::str::from_utf8(bytes) {
                Ok(text) => (Some(Cow::Borrowed(text)), None),
                Err(_) => (
                    None,
                    Some(base64::engine::general_purpose::STANDARD.encode(bytes)),
                ),
            },
            Cow::Owned(bytes) => match String::from_utf8(bytes) {
                Ok(text) => (Some(Cow::Owned(text)), None),
                Err(err) => (
                    None,
                    Some(base64::engine::general_purpose::STANDARD.encode(err.as_bytes())),
                ),
            },
        };
        Ok(Self::with_output(result, output, output_base64))
    }

    /// The record with `Output` (and `OutputBase64`) as given.
    fn with_output(
        result: &'a InvocationResult,
        output: Option<Cow<'a, str>>,
        output_base64: Option<String>,
    ) -> Self {
        let opt = |s: &'a Option<String>| s.as_deref().filter(|s| !s.is_empty());
        Self {
            region_id: None,
            instance_id: &result.instance_id,
            invoke_id: &result.invoke_id,
            command_id: &result.command_id,
            container_id: opt(&result.container_id),
            container_name: opt(&result.container_name),
            invocation_status: result.invocation_status.as_ref().map(|s| s.as_str()),
            invoke_record_status: result.invoke_record_status.as_ref().map(|s| s.as_str()),
            exit_code: result.exit_code,
            output,
            output_base64,
            dropped: result.dropped,
            error_code: result
                .error_code
                .as_ref()
                .map(|c| c.as_str())
                .filter(|c| !c.is_empty()),
            error_info: opt(&result.error_info),
            repeats: result.repeats,
            start_time: result.start_time.as_ref(),
            finished_time: result.finished_time.as_ref(),
            stop_time: result.stop_time.as_ref(),
            username: opt(&result.username),
            launcher: opt(&result.launcher),
            termination_mode: opt(&result.termination_mode),
            oss_output_delivery: opt(&result.oss_output_delivery),
            oss_output_status: opt(&result.oss_output_status),
            oss_output_uri: opt(&result.oss_output_uri),
            oss_output_error_code: opt(&result.oss_output_error_code),
            oss_output_error_info: opt(&result.oss_output_error_info),
            tags: &result.tags,
        }
    }
}

impl<'a> ResultRecord<'a> {
    /// The record with its region (`RegionId`).
    pub(crate) fn in_region(mut self, region: Option<&'a str>) -> Self {
        self.region_id = region;
        self
    }
}

/// Writes results in one format as they arrive.
#[derive(Debug)]
pub(crate) struct Printer<W: Write> {
    out: W,
    format: Format,
    colour: bool,
    written: u64,
    /// The instance of the last raw output (a header line when it changes).
    last_raw_header: Option<String>,
    /// Whether raw output should print headers (several instances).
    raw_headers: bool,
    /// Whether records carry their region (several regions asked for).
    regions: bool,
    /// The region of the results being written.
    region: Option<String>,
}

const TABLE_OUTPUT_WIDTH: usize = 48;

impl<W: Write> Printer<W> {
    pub(crate) fn new(out: W, format: Format, colour: bool) -> Self {
        Self {
            out,
            format,
            colour,
            written: 0,
            last_raw_header: None,
            raw_headers: true,
            regions: false,
            region: None,
        }
    }

    /// Every record carries its region: `RegionId` in json and ndjson, a
    /// REGION column in the table (call before [`begin`](Self::begin)).
    pub(crate) fn with_regions(mut self) -> Self {
        self.regions = true;
        self
    }

    /// Writes one page of results of `region` (see [`page`](Self::page)).
    pub(crate) fn page_in(
        &mut self,
        region: &str,
        results: &[InvocationResult],
    ) -> Result<(), PrintError> {
        if self.region.as_deref() != Some(region) {
            self.region = Some(region.to_owned());
        }
        self.page(results)
    }

    /// The region column of the table (empty when not shown).
    fn region_cell(&self) -> String {
        if !self.regions {
            return String::new();
        }
        format!(
            "{:<16} ",
            for_terminal(self.region.as_deref().unwrap_or("-"))
        )
    }

    /// Raw output without per-instance headers (one instance asked for).
    pub(crate) fn without_raw_headers(mut self) -> Self {
        self.raw_headers = false;
        self
    }

    /// Writes the start of the document: the table header. (A JSON array
    /// opens with its first result, so a run that fails before any result
    /// prints nothing that parses.)
    pub(crate) fn begin(&mut self) -> io::Result<()> {
        match self.format {
            Format::Table => {
                let region = if self.regions {
                    format!("{:<16} ", "REGION")
                } else {
                    String::new()
                };
                let header = format!(
                    "{region}{:<24} {:<22} {:<10} {:>5}  {:<20}  {}",
                    "INSTANCE", "INVOKE", "STATUS", "EXIT", "FINISHED", "OUTPUT"
                );
                if self.colour {
                    writeln!(self.out, "\x1b[1m{header}\x1b[0m")
                } else {
                    writeln!(self.out, "{header}")
                }
            }
            Format::Json | Format::Ndjson | Format::Raw => Ok(()),
        }
    }

    /// How many results were written.
    pub(crate) fn written(&self) -> u64 {
        self.written
    }

    /// The format being written.
    pub(crate) fn format(&self) -> Format {
        self.format
    }

    /// Flushes what was written, leaving the document open (after a
    /// failure: a JSON array stays unclosed, so it never reads as complete).
    pub(crate) fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }

    /// Writes one page of results and flushes, so output streams.
    pub(crate) fn page(&mut self, results: &[InvocationResult]) -> Result<(), PrintError> {
        for result in results {
            self.one(result)?;
            self.written += 1;
        }
        self.out.flush()?;
        Ok(())
    }

    /// Writes one page of results and flushes, the outputs in `full`
    /// (by position; `None`: the listed one) taking the place of `Output`.
    /// As [`Printer::page_with`], the results being of `region`.
    pub(crate) fn page_with_in(
        &mut self,
        region: &str,
        results: &[InvocationResult],
        full: &[Option<Spooled>],
    ) -> Result<(), PrintError> {
        if self.region.as_deref() != Some(region) {
            self.region = Some(region.to_owned());
        }
        self.page_with(results, full)
    }

    pub(crate) fn page_with(
        &mut self,
        results: &[InvocationResult],
        full: &[Option<Spooled>],
    ) -> Result<(), PrintError> {
        for (i, result) in results.iter().enumerate() {
            match full.get(i).and_then(Option::as_ref) {
                Some(spooled) => self.one_full(result, spooled)?,
                None => self.one(result)?,
            }
            self.written += 1;
        }
        self.out.flush()?;
        Ok(())
    }

    /// One result whose complete output is on disk: streamed into the
    /// document, never read whole.
    fn one_full(&mut self, result: &InvocationResult, full: &Spooled) -> Result<(), PrintError> {
        match self.format {
            Format::Json => {
                let separator = if self.written > 0 { ",\n  " } else { "[\n  " };
                write!(self.out, "{separator}")?;
                self.record_streaming(result, full)?;
            }
            Format::Ndjson => {
                self.record_streaming(result, full)?;
                writeln!(self.out)?;
            }
            Format::Raw => {
                self.raw_header(result)?;
                io::copy(&mut full.open()?, &mut self.out)?;
            }
            Format::Table => self.row(result)?,
        }
        Ok(())
    }

    /// The JSON record with `Output` (or `OutputBase64`) streamed from
    /// the file: the record is written without an output, and the output
    /// goes where its `"Output":null` was (the unescaped text `"Output":`
    /// can only be that key: inside strings every `"` is escaped).
    fn record_streaming(
        &mut self,
        result: &InvocationResult,
        full: &Spooled,
    ) -> Result<(), PrintError> {
        let record = ResultRecord::with_output(result, None, None);
        let json = serde_json::to_vec(&record).map_err(io::Error::other)?;
        let marker = b"\"Output\":null";
        let at = json
            .windows(marker.len())
            .position(|w| w == marker)
            .ok_or_else(|| io::Error::other("the record has no Output field"))?;
        self.out.write_all(&json[..at])?;
        let mut file = full.open()?;
        if full.is_utf8() {
            self.out.write_all(b"\"Output\":\"")?;
            stream_json_text(&mut file, &mut self.out)?;
        } else {
            self.out.write_all(b"\"Output\":null,\"OutputBase64\":\"")?;
            stream_base64(&mut file, &mut self.out)?;
        }
        self.out.write_all(b"\"")?;
        self.out.write_all(&json[at + marker.len()..])?;
        Ok(())
    }

    /// The `==> instance (invoke) <==` line before a raw output, when the
    /// instance changes; `==> instance (invoke, region) <==` when several
    /// regions were asked for.
    fn raw_header(&mut self, result: &InvocationResult) -> io::Result<()> {
        let mut header = format!(
            "{} ({}",
            for_terminal(&result.instance_id),
            for_terminal(&result.invoke_id)
        );
        if self.regions {
            header.push_str(", ");
            header.push_str(&for_terminal(self.region.as_deref().unwrap_or("-")));
        }
        header.push(')');
        if self.raw_headers && self.last_raw_header.as_deref() != Some(header.as_str()) {
            if self.last_raw_header.is_some() {
                writeln!(self.out)?;
            }
            writeln!(self.out, "==> {header} <==")?;
            self.last_raw_header = Some(header);
        }
        Ok(())
    }

    fn one(&mut self, result: &InvocationResult) -> Result<(), PrintError> {
        match self.format {
            Format::Json => {
                let separator = if self.written > 0 { ",\n  " } else { "[\n  " };
                write!(self.out, "{separator}")?;
                let record = ResultRecord::new(result)?.in_region(if self.regions {
                    self.region.as_deref()
                } else {
                    None
                });
                serde_json::to_writer(&mut self.out, &record).map_err(io::Error::other)?;
            }
            Format::Ndjson => {
                let record = ResultRecord::new(result)?.in_region(if self.regions {
                    self.region.as_deref()
                } else {
                    None
                });
                serde_json::to_writer(&mut self.out, &record).map_err(io::Error::other)?;
                writeln!(self.out)?;
            }
            Format::Raw => {
                let bytes = output_bytes(result)?;
                self.raw_header(result)?;
                self.out.write_all(&bytes)?;
            }
            Format::Table => self.row(result)?,
        }
        Ok(())
    }

    fn row(&mut self, result: &InvocationResult) -> Result<(), PrintError> {
        let status = for_terminal(
            result
                .invocation_status
                .as_ref()
                .map_or("-", |s| s.as_str()),
        );
        let exit = result
            .exit_code
            .map_or_else(|| "-".to_owned(), |c| c.to_string());
        let finished = result
            .finished_time
            .as_ref()
            .map_or_else(|| "-".to_owned(), ToString::to_string);
        let bytes = output_bytes(result)?;
        let mut first = match std::str::from_utf8(&bytes) {
            Ok(text) => first_line(text, TABLE_OUTPUT_WIDTH),
            Err(_) => format!(
                "<{} bytes, not text: use --output raw or ndjson>",
                bytes.len()
            ),
        };
        if result.is_truncated() {
            first.push_str(" [truncated]");
        }
        let paint = |code: &str, s: &str| {
            if self.colour {
                format!("\x1b[{code}m{s:<10}\x1b[0m")
            } else {
                format!("{s:<10}")
            }
        };
        let status_cell = match &result.invocation_status {
            Some(s) if s.is_success() => paint("32", &status),
            Some(s) if s.is_failure() => paint("31", &status),
            Some(s) if !s.is_final() => paint("33", &status),
            _ => paint("0", &status),
        };
        writeln!(
            self.out,
            "{}{:<24} {:<22} {status_cell} {exit:>5}  {finished:<20}  {first}",
            self.region_cell(),
            for_terminal(&result.instance_id),
            for_terminal(&result.invoke_id)
        )?;
        Ok(())
    }

    /// Writes the end of a complete document (`]`, or `[]` when there
    /// were no results) and flushes.
    pub(crate) fn finish(&mut self) -> io::Result<()> {
        if self.format == Format::Json {
            if self.written > 0 {
                writeln!(self.out, "\n]")?;
            } else {
                writeln!(self.out, "[]")?;
            }
        }
        self.out.flush()
    }
}

/// Copies UTF-8 text from `from` into `out` as the inside of a JSON
/// string, one block at a time (a character split between blocks is
/// carried over).
fn stream_json_text(from: &mut impl Read, out: &mut impl Write) -> io::Result<()> {
    let mut block = vec![0_u8; 64 * 1024];
    let mut carry: Vec<u8> = Vec::new();
    let mut escaped: Vec<u8> = Vec::with_capacity(80 * 1024);
    loop {
        let n = from.read(&mut block)?;
        if n == 0 {
            break;
        }
        carry.extend_from_slice(&block[..n]);
        let valid = match std::str::from_utf8(&carry) {
            Ok(_) => carry.len(),
            Err(err) if err.error_len().is_none() => err.valid_up_to(),
            Err(_) => {
                return Err(io::Error::other(
                    "the complete output changed: it is no longer UTF-8",
                ));
            }
        };
        let text = std::str::from_utf8(&carry[..valid]).map_err(io::Error::other)?;
        escaped.clear();
        serde_json::to_writer(&mut escaped, text).map_err(io::Error::other)?;
        out.write_all(&escaped[1..escaped.len() - 1])?;
        carry.drain(..valid);
    }
    if carry.is_empty() {
        Ok(())
    } else {
        Err(io::Error::other(
            "the complete output ends inside a UTF-8 character",
        ))
    }
}

/// Copies `from` into `out` as standard Base64, one block at a time.
fn stream_base64(from: &mut impl Read, out: &mut impl Write) -> io::Result<()> {
    use base64::Engine as _;
    // A multiple of 3, so that blocks encode without padding between them.
    let mut block = vec![0_u8; 48 * 1024];
    let mut encoded = String::with_capacity(64 * 1024 + 4);
    loop {
        let mut filled = 0;
        while filled < block.len() {
            let n = from.read(&mut block[filled..])?;
            if n == 0 {
                break;
            }
            filled += n;
        }
        if filled == 0 {
            return Ok(());
        }
        encoded.clear();
        base64::engine::general_purpose::STANDARD.encode_string(&block[..filled], &mut encoded);
        out.write_all(encoded.as_bytes())?;
        if filled < block.len() {
            return Ok(());
        }
    }
}

/// The first non-empty line of `text`, cut to `width` characters with `…`.
fn first_line(text: &str, width: usize) -> String {
    let lines = text.lines().filter(|l| !l.trim().is_empty()).count();
    let line = text
        .lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("")
        .trim_end();
    // Control characters would move the cursor or ring the bell.
    let line = for_terminal(line);
    let mut shown: String = line.chars().take(width).collect();
    if line.chars().count() > width {
        shown.pop();
        shown.push('…');
    }
    if lines > 1 {
        shown.push_str(&format!(" (+{} lines)", lines - 1));
    }
    shown
}

/// Writing a page failed: the terminal went away, or an output is bad.
#[derive(Debug)]
pub(crate) enum PrintError {
    Io(io::Error),
    Output(OutputError),
}

impl From<io::Error> for PrintError {
    fn from(err: io::Error) -> Self {
        Self::Io(err)
    }
}

impl From<OutputError> for PrintError {
    fn from(err: OutputError) -> Self {
        Self::Output(err)
    }
}

impl std::fmt::Display for PrintError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Io(err) => write!(f, "cannot write the results: {err}"),
            Self::Output(err) => write!(f, "{}", err.0),
        }
    }
}

impl std::error::Error for PrintError {}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine as _;
    use ecs_model::InvocationStatus;

    fn result(instance: &str, output: &[u8]) -> InvocationResult {
        let mut r = InvocationResult::new("t-1", instance);
        r.command_id = "c-1".to_owned();
        r.invocation_status = Some(InvocationStatus::parse("Success"));
        r.exit_code = Some(0);
        r.output = base64::engine::general_purpose::STANDARD.encode(output);
        r
    }

    fn render(format: Format, results: &[InvocationResult]) -> String {
        let mut printer = Printer::new(Vec::new(), format, false);
        printer.begin().unwrap();
        printer.page(results).unwrap();
        printer.finish().unwrap();
        String::from_utf8(printer.out).unwrap()
    }

    #[test]
    fn ndjson_has_one_object_per_line_with_decoded_output() {
        let text = render(
            Format::Ndjson,
            &[result("i-1", b"hi\n"), result("i-2", &[0xff, 0xfe])],
        );
        let lines: Vec<serde_json::Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0]["InstanceId"], "i-1");
        assert_eq!(lines[0]["Output"], "hi\n");
        assert!(lines[0].get("OutputBase64").is_none());
        assert!(lines[1]["Output"].is_null());
        assert_eq!(lines[1]["OutputBase64"], "//4=");
    }

    #[test]
    fn json_is_one_array_even_when_empty() {
        let one: serde_json::Value =
            serde_json::from_str(&render(Format::Json, &[result("i-1", b"x")])).unwrap();
        assert_eq!(one.as_array().unwrap().len(), 1);
        let none: serde_json::Value = serde_json::from_str(&render(Format::Json, &[])).unwrap();
        assert_eq!(none, serde_json::json!([]));
    }

    #[test]
    fn raw_headers_name_the_region_when_several_were_asked_for() {
        let mut printer = Printer::new(Vec::new(), Format::Raw, false).with_regions();
        printer
            .page_in("cn-beijing", &[result("i-1", b"one\n")])
            .unwrap();
        printer
            .page_in("cn-shanghai", &[result("i-1", b"two\n")])
            .unwrap();
        let text = String::from_utf8(printer.out).unwrap();
        assert_eq!(
            text,
            "==> i-1 (t-1, cn-beijing) <==\none\n\n==> i-1 (t-1, cn-shanghai) <==\ntwo\n"
        );
    }

    #[test]
    fn raw_prints_the_bytes_with_a_header_per_instance() {
        let text = render(
            Format::Raw,
            &[result("i-1", b"one\n"), result("i-2", b"two\n")],
        );
        assert_eq!(text, "==> i-1 (t-1) <==\none\n\n==> i-2 (t-1) <==\ntwo\n");
    }

    #[test]
    fn the_table_shows_the_first_line_and_marks_truncation() {
        let mut truncated = result("i-2", b"first\nsecond\n");
        truncated.dropped = 100;
        let text = render(Format::Table, &[result("i-1", b"hello\n"), truncated]);
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[0].starts_with("INSTANCE"));
        assert!(
            lines[1].contains("i-1") && lines[1].contains("Success") && lines[1].ends_with("hello")
        );
        assert!(
            lines[2].ends_with("first (+1 lines) [truncated]"),
            "{}",
            lines[2]
        );
        assert!(!text.contains('\x1b'), "no colour when asked for none");
    }

    #[test]
    fn binary_output_and_control_characters_never_reach_the_terminal() {
        let text = render(
            Format::Table,
            &[
                result("i-1", &[0xff, 0xd8, 0x1b, b'[']),
                result("i-2", b"a\x1b[2Jb\x07\n"),
            ],
        );
        assert!(text.contains("<4 bytes, not text"), "{text}");
        assert!(!text.contains('\x1b') && !text.contains('\x07'), "{text:?}");
    }

    #[test]
    fn json_opens_with_its_first_result_and_closes_only_when_complete() {
        let mut printer = Printer::new(Vec::new(), Format::Json, false);
        printer.begin().unwrap();
        printer.page(&[]).unwrap();
        assert!(printer.out.is_empty(), "nothing before the first result");
        printer.page(&[result("i-1", b"x")]).unwrap();
        printer.flush().unwrap();
        assert_eq!(printer.written(), 1);
        let text = String::from_utf8(printer.out.clone()).unwrap();
        assert!(text.starts_with("[\n  {"), "{text}");
        assert!(serde_json::from_str::<serde_json::Value>(&text).is_err());
        printer.finish().unwrap();
        let done: serde_json::Value = serde_json::from_slice(&printer.out).unwrap();
        assert_eq!(done.as_array().unwrap().len(), 1);
    }

    #[test]
    fn ids_and_statuses_from_the_server_are_escaped_in_table_and_raw_headers() {
        let mut hostile = result("i-\u{1b}[2J", b"ok\n");
        hostile.invoke_id = "t-\u{9b}1m".to_owned();
        hostile.invocation_status = Some(InvocationStatus::parse("Su\u{7}cc"));
        let table = render(Format::Table, std::slice::from_ref(&hostile));
        assert!(
            table.contains("i-\\e[2J")
                && table.contains("t-\\u{9b}1m")
                && table.contains("Su\\acc"),
            "{table}"
        );
        let raw = render(Format::Raw, &[hostile]);
        assert_eq!(raw, "==> i-\\e[2J (t-\\u{9b}1m) <==\nok\n");
        for text in [table, raw] {
            assert!(
                !text.chars().any(|c| c.is_control() && c != '\n'),
                "{text:?}"
            );
        }
    }

    /// The fields of `InvocationResult` by their API names, read from its
    /// derived `Debug`, which lists every field whatever its value: a field
    /// added to the model appears here without anyone listing it.
    fn model_fields() -> std::collections::BTreeSet<String> {
        let debug = format!("{:#?}", InvocationResult::default());
        debug
            .lines()
            .filter_map(|l| l.strip_prefix("    "))
            .filter(|l| !l.starts_with(' '))
            .filter_map(|l| l.split_once(':'))
            .map(|(name, _)| {
                name.split('_')
                    .map(|word| {
                        let mut chars = word.chars();
                        chars.next().map_or_else(String::new, |first| {
                            first.to_ascii_uppercase().to_string() + chars.as_str()
                        })
                    })
                    .collect()
            })
            .collect()
    }

    #[test]
    fn the_record_prints_every_field_of_the_model() {
        let mut full = result("i-1", b"out\n");
        let text = |name: &str| Some(format!("{name}-value"));
        full.container_id = text("container");
        full.container_name = text("name");
        full.invoke_record_status = Some(ecs_model::InvokeRecordStatus::Finished);
        full.error_code = Some(ecs_model::ErrorCode::parse("ExitCodeNonzero"));
        full.error_info = text("info");
        full.start_time = ecs_model::Timestamp::parse("2026-11-26T05:02:36Z");
        full.finished_time = full.start_time.clone();
        full.stop_time = full.start_time.clone();
        full.username = text("root");
        full.launcher = text("launcher");
        full.termination_mode = text("Process");
        full.oss_output_delivery = text("oss://b");
        full.oss_output_status = text("Failed");
        full.oss_output_uri = text("https://b");
        full.oss_output_error_code = text("NoSuchBucket");
        full.oss_output_error_info = text("the bucket is gone");
        full.tags = vec![ecs_model::Tag::new("k", "v")];
        let record = ResultRecord::new(&full).unwrap();
        let json = serde_json::to_value(&record).unwrap();
        let printed: std::collections::BTreeSet<String> = json
            .as_object()
            .unwrap()
            .iter()
            .filter(|(_, v)| !v.is_null())
            .map(|(k, _)| k.clone())
            .collect();
        let model = model_fields();
        assert!(
            model.contains("OssOutputErrorInfo") && model.len() >= 25,
            "{model:?}"
        );
        // The encoding a result was asked in is not a wire field: the
        // record prints `Output` decoded with it.
        let missing: Vec<_> = model
            .difference(&printed)
            .filter(|name| name.as_str() != "ContentEncoding")
            .collect();
        assert!(
            missing.is_empty(),
            "InvocationResult fields the CLI record does not print: {missing:?}"
        );
        assert_eq!(json["OssOutputErrorCode"], "NoSuchBucket-value");
        assert_eq!(json["OssOutputErrorInfo"], "the bucket is gone-value");
    }

    #[test]
    fn with_several_regions_every_record_carries_its_region() {
        let mut printer = Printer::new(Vec::new(), Format::Ndjson, false).with_regions();
        printer
            .page_in("cn-beijing", &[result("i-1", b"x")])
            .unwrap();
        printer
            .page_in("cn-shanghai", &[result("i-2", b"y")])
            .unwrap();
        let text = String::from_utf8(printer.out).unwrap();
        let lines: Vec<serde_json::Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines[0]["RegionId"], "cn-beijing");
        assert_eq!(lines[1]["RegionId"], "cn-shanghai");
        let mut table = Printer::new(Vec::new(), Format::Table, false).with_regions();
        table.begin().unwrap();
        table.page_in("cn-beijing", &[result("i-1", b"x")]).unwrap();
        let text = String::from_utf8(table.out).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[0].starts_with("REGION"), "{text}");
        assert!(lines[1].starts_with("cn-beijing "), "{text}");
        // One region: no RegionId, as before.
        let one = render(Format::Ndjson, &[result("i-1", b"x")]);
        assert!(!one.contains("RegionId"), "{one}");
    }

    #[test]
    fn long_lines_are_cut_with_an_ellipsis() {
        let long = "x".repeat(100);
        let cut = first_line(&long, 10);
        assert_eq!(cut.chars().count(), 10);
        assert!(cut.ends_with('…'));
    }
}
