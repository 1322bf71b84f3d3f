//! The aliyun CLI's `External` mode: credentials printed by a command the
//! profile names (`process_command`), as JSON.
//!
//! As the official credentials library does: the command line is split as
//! a POSIX shell would split words (quotes and backslashes), run without a
//! shell, given 60 s, and must exit 0 and print
//! `{"mode": "AK" | "StsToken", "access_key_id", "access_key_secret",
//! "sts_token", "expiration": "YYYY-MM-DDThh:mm:ssZ"}`. Credentials with an
//! expiration are cached until shortly before it (the cache's margin);
//! without one they are kept for the life of the provider (the official
//! library runs the command again for every request instead). Unlike it, we
//! do not write the command's credentials back into `config.json`.

use std::fmt;
use std::io::Read as _;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ecs_sign::Credentials;
use serde_json::Value;

use crate::cache::{CredentialsCache, Expiring, Fetch, FetchFuture};
use crate::error::Error;
use crate::provider::{CredentialsFuture, CredentialsProvider};
use crate::provider_config::ProviderConfig;

/// How long the command may run.
pub const EXTERNAL_COMMAND_TIMEOUT: Duration = Duration::from_secs(60);

/// The most the command may print on stdout (its JSON is a few hundred
/// bytes).
const MAX_OUTPUT: u64 = 1024 * 1024;

/// Credentials printed by an external command (the aliyun CLI's
/// `External` profile mode).
pub struct ExternalProcessCredentialsProvider {
    fetcher: Arc<CommandFetcher>,
    cache: CredentialsCache,
}

impl ExternalProcessCredentialsProvider {
    /// The provider running `command` for the profile called `profile`
    /// (named in errors), with [`EXTERNAL_COMMAND_TIMEOUT`].
    ///
    /// # Errors
    /// A credentials error when the command line is empty or its quotes do
    /// not close.
    pub fn new(
        config: &ProviderConfig,
        profile: impl Into<String>,
        command: &str,
    ) -> Result<Self, Error> {
        Self::with_timeout(config, profile, command, EXTERNAL_COMMAND_TIMEOUT)
    }

    /// [`new`](Self::new) with another limit on how long the command runs.
    ///
    /// # Errors
    /// As [`new`](Self::new).
    pub fn with_timeout(
        config: &ProviderConfig,
        profile: impl Into<String>,
        command: &str,
        timeout: Duration,
    ) -> Result<Self, Error> {
        let profile = profile.into();
        let argv = split_command(command).map_err(|problem| {
            Error::new(format!("profile `{profile}`: `process_command` {problem}"))
        })?;
        let fetcher = Arc::new(CommandFetcher {
            profile,
            argv,
            timeout,
        });
        Ok(Self {
            cache: CredentialsCache::new(fetcher.clone(), Arc::clone(&config.time)),
            fetcher,
        })
    }
}

impl fmt::Debug for ExternalProcessCredentialsProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ExternalProcessCredentialsProvider")
            .field("profile", &self.fetcher.profile)
            .field("program", &self.fetcher.argv.first())
            .finish_non_exhaustive()
    }
}

impl CredentialsProvider for ExternalProcessCredentialsProvider {
    fn provide_credentials(&self) -> CredentialsFuture<'_> {
        Box::pin(self.cache.credentials())
    }
}

#[derive(Debug)]
struct CommandFetcher {
    profile: String,
    argv: Vec<String>,
    timeout: Duration,
}

impl Fetch for CommandFetcher {
    fn fetch(&self) -> FetchFuture<'_> {
        Box::pin(async move {
            let (tx, rx) = futures::channel::oneshot::channel();
            let argv = self.argv.clone();
            let timeout = self.timeout;
            // The command runs on its own thread: the caller's executor is
            // never blocked by it.
            std::thread::Builder::new()
                .name("ecs-assist-external-credentials".to_owned())
                .spawn(move || {
                    let _ = tx.send(run(&argv, timeout));
                })
                .map_err(|e| {
                    self.error("could not start a thread to run it")
                        .with_source(e)
                })?;
            let outcome = rx
                .await
                .map_err(|_| self.error("stopped without an answer"))?;
            match outcome {
                Ok(stdout) => self.parse(&stdout),
                Err(Failure::Spawn(e)) => Err(self
                    .error(&format!("could not be started ({e})"))
                    .with_source(e)),
                Err(Failure::TimedOut) => Err(self
                    .error(&format!("did not finish within {timeout:?}"))
                    .unavailable_if(true)),
                Err(Failure::Exit { status, stderr }) => {
                    let first = first_line(&stderr);
                    let said = if first.is_empty() {
                        String::new()
                    } else {
                        format!(": {first}")
                    };
                    Err(self
                        .error(&format!("failed ({status}){said}"))
                        .unavailable_if(true))
                }
            }
        })
    }
}

impl CommandFetcher {
    fn error(&self, problem: &str) -> Error {
        Error::new(format!(
            "profile `{}`: the external command `{}` {problem}",
            self.profile,
            self.argv.first().map_or("", String::as_str)
        ))
    }

    /// The command's JSON; values are never quoted in errors (secrets).
    fn parse(&self, stdout: &[u8]) -> Result<Expiring, Error> {
        let unusable = |problem: &str| {
            self.error(&format!("printed {problem}"))
                .unavailable_if(true)
        };
        let value: Value =
            serde_json::from_slice(stdout).map_err(|_| unusable("something that is not JSON"))?;
        let object = value
            .as_object()
            .ok_or_else(|| unusable("JSON that is not an object"))?;
        let text = |name: &str| match object.get(name) {
            Some(Value::String(s)) if !s.is_empty() => Ok(Some(s.as_str())),
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(_)) => Ok(None),
            Some(_) => Err(unusable(&format!("`{name}` that is not a string"))),
        };
        let (Some(id), Some(secret)) = (text("access_key_id")?, text("access_key_secret")?) else {
            return Err(unusable("no `access_key_id` or no `access_key_secret`"));
        };
        let token = text("sts_token")?;
        if text("mode")? == Some("StsToken") && token.is_none() {
            return Err(unusable("mode `StsToken` without `sts_token`"));
        }
        let mut credentials = Credentials::new(id, secret)
            .map_err(|e| unusable(&format!("unusable credentials ({e})")))?;
        if let Some(token) = token {
            credentials = credentials
                .with_security_token(token)
                .map_err(|e| unusable(&format!("an unusable `sts_token` ({e})")))?;
        }
        let expiration = match text("expiration")? {
            None => None,
            Some(text) => Some(
                ecs_sign::parse_timestamp(text)
                    .ok_or_else(|| unusable("an `expiration` that is not YYYY-MM-DDThh:mm:ssZ"))?,
            ),
        };
        Ok(Expiring {
            credentials,
            expiration,
        })
    }
}

enum Failure {
    Spawn(std::io::Error),
    TimedOut,
    Exit { status: String, stderr: Vec<u8> },
}

/// Runs `argv` without a shell; its stdout when it exits 0 within `timeout`.
fn run(argv: &[String], timeout: Duration) -> Result<Vec<u8>, Failure> {
    let (program, args) = argv
        .split_first()
        .ok_or_else(|| Failure::Spawn(std::io::Error::other("the command line is empty")))?;
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(Failure::Spawn)?;
    let drain = |pipe: Option<Box<dyn std::io::Read + Send>>| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            if let Some(pipe) = pipe {
                let _ = pipe.take(MAX_OUTPUT).read_to_end(&mut bytes);
            }
            bytes
        })
    };
    let stdout = drain(child.stdout.take().map(|p| Box::new(p) as _));
    let stderr = drain(child.stderr.take().map(|p| Box::new(p) as _));
    // A child process runs in real time, whatever clock the client was
    // given: its deadline is measured on the machine's monotonic clock.
    #[allow(clippy::disallowed_methods)]
    let (started, now) = (Instant::now(), Instant::now);
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            #[allow(clippy::disallowed_methods)]
            Ok(None) if now().duration_since(started) >= timeout => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(Failure::TimedOut);
            }
            Ok(None) => {
                // A child process offers no wait with a timeout: poll it.
                #[allow(clippy::disallowed_methods)]
                std::thread::sleep(Duration::from_millis(10));
            }
            Err(e) => return Err(Failure::Spawn(e)),
        }
    };
    let stdout = stdout.join().unwrap_or_default();
    let stderr = stderr.join().unwrap_or_default();
    if status.success() {
        Ok(stdout)
    } else {
        Err(Failure::Exit {
            status: status.to_string(),
            stderr,
        })
    }
}

/// The first non-empty line of `bytes`, trimmed, at most 200 characters,
/// control characters replaced.
fn first_line(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes)
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or_default()
        .chars()
        .take(200)
        .map(|c| if c.is_control() { '?' } else { c })
        .collect()
}

/// Splits a command line into words as a POSIX shell does (Python's
/// `shlex.split`): whitespace separates words; single quotes keep
/// everything literally; double quotes keep everything but `\` before
/// `\`, `"`, `$`, `` ` `` and a newline; a `\` outside quotes escapes the
/// next character.
pub(crate) fn split_command(line: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            c if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            '\'' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(c) => word.push(c),
                        None => return Err("has a single quote that does not close".to_owned()),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(c @ ('\\' | '"' | '$' | '`')) => word.push(c),
                            Some('\n') => {}
                            Some(c) => {
                                word.push('\\');
                                word.push(c);
                            }
                            None => {
                                return Err("has a double quote that does not close".to_owned());
                            }
                        },
                        Some(c) => word.push(c),
                        None => return Err("has a double quote that does not close".to_owned()),
                    }
                }
            }
            '\\' => {
                in_word = true;
                match chars.next() {
                    Some('\n') => {}
                    Some(c) => word.push(c),
                    None => return Err("ends with a lone backslash".to_owned()),
                }
            }
            c => {
                in_word = true;
                word.push(c);
            }
        }
    }
    if in_word {
        words.push(word);
    }
    if words.is_empty() {
        return Err("is empty".to_owned());
    }
    Ok(words)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_lines_split_as_shlex_splits_them() {
        let cases: &[(&str, &[&str])] = &[
            ("echo a  b", &["echo", "a", "b"]),
            (r#"echo '{"mode": "AK"}'"#, &["echo", r#"{"mode": "AK"}"#]),
            (r#"say "a \"b\" \$c \n""#, &["say", r#"a "b" $c \n"#]),
            (r"a\ b c\\d", &["a b", r"c\d"]),
            ("''", &[""]),
            ("x'y'\"z\"", &["xyz"]),
        ];
        for (line, want) in cases {
            assert_eq!(split_command(line).unwrap(), *want, "{line}");
        }
        for bad in ["", "   ", "'open", "\"open", "tail\\"] {
            assert!(split_command(bad).is_err(), "{bad:?}");
        }
    }

    fn fetcher(argv: &[&str]) -> CommandFetcher {
        CommandFetcher {
            profile: "p".into(),
            argv: argv.iter().map(|s| (*s).to_owned()).collect(),
            timeout: Duration::from_secs(5),
        }
    }

    #[test]
    fn the_output_is_read_as_the_official_library_reads_it() {
        let f = fetcher(&["cmd"]);
        let e = f
            .parse(br#"{"mode":"StsToken","access_key_id":"ID","access_key_secret":"SECRET","sts_token":"TOK","expiration":"2030-01-02T03:04:05Z"}"#)
            .unwrap();
        assert_eq!(e.credentials.access_key_id(), "ID");
        assert_eq!(e.credentials.security_token(), Some("TOK"));
        assert!(e.expiration.is_some());
        let e = f
            .parse(br#"{"mode":"AK","access_key_id":"ID","access_key_secret":"SECRET"}"#)
            .unwrap();
        assert_eq!((e.credentials.security_token(), e.expiration), (None, None));
        for (bad, says) in [
            (&b"not json SECRET"[..], "not JSON"),
            (br#"[1]"#, "not an object"),
            (
                br#"{"access_key_id":"ID"}"#,
                "no `access_key_id` or no `access_key_secret`",
            ),
            (
                br#"{"mode":"StsToken","access_key_id":"ID","access_key_secret":"SECRET"}"#,
                "without `sts_token`",
            ),
            (
                br#"{"access_key_id":"ID","access_key_secret":"SECRET","expiration":"soon"}"#,
                "not YYYY",
            ),
        ] {
            let err = f.parse(bad).unwrap_err().to_string();
            assert!(err.contains(says), "{err}");
            assert!(err.contains("profile `p`"), "{err}");
            assert!(!err.contains("SECRET"), "{err}");
        }
    }

    #[test]
    fn a_failing_command_is_reported_with_its_first_stderr_line() {
        let out = run(
            &[
                "sh".into(),
                "-c".into(),
                "echo SECRET; echo '  ' >&2; echo 'no such role' >&2; echo more >&2; exit 3".into(),
            ],
            Duration::from_secs(10),
        );
        match out {
            Err(Failure::Exit { status, stderr }) => {
                assert!(status.contains('3'), "{status}");
                assert_eq!(first_line(&stderr), "no such role");
            }
            _ => panic!("expected a failed exit"),
        }
    }

    #[test]
    fn a_command_that_hangs_is_killed_at_the_timeout() {
        // `sleep 30` would outlive the test's own time limits if it were
        // waited for; it is killed after 200 ms.
        let out = run(&["sleep".into(), "30".into()], Duration::from_millis(200));
        assert!(matches!(out, Err(Failure::TimedOut)));
        let out = run(&["/no/such/program".into()], Duration::from_secs(1));
        assert!(matches!(out, Err(Failure::Spawn(_))));
    }
}
