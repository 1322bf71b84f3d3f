//! `--full-output` and `--save-outputs`: the complete output of each
//! truncated result fetched to disk (streamed, never whole in memory), and
//! each result's output written to `DIR/<invoke-id>/<instance-id>[.<repeats>].out`
//! atomically, with a manifest line per file.
//!
//! A result whose complete output cannot be fetched keeps its listed
//! output; a warning says why, and the run ends with exit 1 (nothing else
//! is held back).

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use ecs_assist::{Client, FullOutputSource, InvocationResult};

use crate::spool::{Spool, Spooled};
use crate::ui::Ui;

/// Where `--save-outputs` writes.
#[derive(Debug, Clone)]
pub(crate) struct SaveTo {
    pub(crate) dir: PathBuf,
    pub(crate) overwrite: bool,
}

/// The full-output settings of one run, and its failures so far.
#[derive(Debug)]
pub(crate) struct Outputs<'a> {
    client: &'a Client,
    full: bool,
    save: Option<SaveTo>,
    ui: Ui,
    failures: u32,
}

impl<'a> Outputs<'a> {
    pub(crate) fn new(client: &'a Client, full: bool, save: Option<SaveTo>, ui: Ui) -> Self {
        Self {
            client,
            full,
            save,
            ui,
            failures: 0,
        }
    }

    /// Whether outputs are saved to files instead of printed.
    pub(crate) fn saves(&self) -> bool {
        self.save.is_some()
    }

    /// Whether complete outputs are fetched.
    pub(crate) fn fetches(&self) -> bool {
        self.full
    }

    /// Results whose output could not be fetched or saved.
    pub(crate) fn failures(&self) -> u32 {
        self.failures
    }

    fn fail(&mut self, message: &str) {
        self.failures = self.failures.saturating_add(1);
        self.ui.warn(message);
    }

    /// The complete outputs of the truncated results of a page, by
    /// position (`None`: print the listed output), fetched into the
    /// temporary directory.
    pub(crate) async fn fetch_page(
        &mut self,
        results: &[InvocationResult],
    ) -> Vec<Option<Spooled>> {
        let mut fetched = Vec::with_capacity(results.len());
        for result in results {
            if !self.full || result.dropped <= 0 {
                fetched.push(None);
                continue;
            }
            fetched.push(self.fetch_or_warn(result, &std::env::temp_dir()).await);
        }
        fetched
    }

    /// The complete output of a truncated result in `dir`, or a warning.
    async fn fetch_or_warn(&mut self, result: &InvocationResult, dir: &Path) -> Option<Spooled> {
        let who = format!("{} ({})", result.instance_id, result.invoke_id);
        match self.fetch(result, dir).await {
            Ok((spooled, from)) => {
                self.ui.warn(&format!(
                    "the service truncated the output of {who}: {} bytes dropped beyond 24 KB; \
                     the complete output ({} bytes) was fetched from {from}",
                    result.dropped,
                    spooled.len()
                ));
                Some(spooled)
            }
            Err(why) => {
                self.fail(&format!(
                    "the service truncated the output of {who}: {} bytes dropped beyond 24 KB, \
                     and the complete output cannot be fetched: {why}; the truncated output is \
                     given instead",
                    result.dropped
                ));
                None
            }
        }
    }

    /// Streams the complete output of `result` into a spool file in `dir`.
    async fn fetch(
        &self,
        result: &InvocationResult,
        dir: &Path,
    ) -> Result<(Spooled, String), String> {
        let mut output = self
            .client
            .full_output(result)
            .send()
            .await
            .map_err(|e| e.to_string())?;
        let from = match output.source() {
            FullOutputSource::Oss(object) => object.to_string(),
            FullOutputSource::Inline => "the listing".to_owned(),
            _ => "OSS".to_owned(),
        };
        let mut spool = Spool::create(dir).map_err(|e| spool_error(dir, &e))?;
        while let Some(chunk) = output.chunk().await {
            let chunk = chunk.map_err(|e| e.to_string())?;
            spool.write(&chunk).map_err(|e| spool_error(dir, &e))?;
        }
        let spooled = spool.finish().map_err(|e| spool_error(dir, &e))?;
        Ok((spooled, from))
    }

    /// Writes the output of each result to its file, and a manifest line
    /// per file to `manifest`.
    pub(crate) async fn save_page(
        &mut self,
        results: &[InvocationResult],
        manifest: &mut impl Write,
    ) -> io::Result<()> {
        let Some(save) = self.save.clone() else {
            return Ok(());
        };
        for result in results {
            let Some((dir, path)) = self.target(&save.dir, result) else {
                continue;
            };
            if let Err(e) = std::fs::create_dir_all(&dir) {
                self.fail(&format!("cannot create {}: {e}", dir.display()));
                continue;
            }
            let truncated = result.dropped > 0;
            let fetched = if self.full && truncated {
                self.fetch_or_warn(result, &dir).await
            } else {
                None
            };
            let complete = fetched.is_some() || !truncated;
            let spooled = match fetched {
                Some(spooled) => spooled,
                None => match self.listed(result, &dir) {
                    Ok(spooled) => spooled,
                    Err(why) => {
                        self.fail(&why);
                        continue;
                    }
                },
            };
            let bytes = spooled.len();
            match spooled.persist(&path, save.overwrite) {
                Ok(()) => {
                    let state = if complete { "complete" } else { "truncated" };
                    writeln!(manifest, "{}\t{bytes}\t{state}", path.display())?;
                    manifest.flush()?;
                }
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => self.fail(&format!(
                    "{} exists and was left as it is; pass --overwrite to replace it",
                    path.display()
                )),
                Err(e) => self.fail(&format!("cannot write {}: {e}", path.display())),
            }
        }
        Ok(())
    }

    /// The listed output of `result` in a spool file in `dir`.
    fn listed(&self, result: &InvocationResult, dir: &Path) -> Result<Spooled, String> {
        let bytes = result.output_bytes().map_err(|e| e.to_string())?;
        let mut spool = Spool::create(dir).map_err(|e| spool_error(dir, &e))?;
        spool.write(&bytes).map_err(|e| spool_error(dir, &e))?;
        spool.finish().map_err(|e| spool_error(dir, &e))
    }

    /// `DIR/<invoke-id>` and the file in it, or a warning when an id from
    /// the service cannot be a file name.
    fn target(&mut self, root: &Path, result: &InvocationResult) -> Option<(PathBuf, PathBuf)> {
        let (invoke, instance) = (&result.invoke_id, &result.instance_id);
        if !is_file_name(invoke) || !is_file_name(instance) {
            self.fail(&format!(
                "the result of instance `{}` in `{}` was not saved: an id that is not a plain \
                 file name (letters, digits, `.`, `_`, `-`) cannot name its file",
                instance.escape_debug(),
                invoke.escape_debug()
            ));
            return None;
        }
        let dir = root.join(invoke);
        let name = if result.repeats > 1 {
            format!("{instance}.{}.out", result.repeats)
        } else {
            format!("{instance}.out")
        };
        let path = dir.join(name);
        Some((dir, path))
    }
}

fn spool_error(dir: &Path, error: &io::Error) -> String {
    format!(
        "cannot write a temporary file in {}: {error}",
        dir.display()
    )
}

/// An id usable as a file name as it is: `[A-Za-z0-9][A-Za-z0-9._-]*`.
fn is_file_name(id: &str) -> bool {
    id.len() <= 200
        && id.bytes().next().is_some_and(|b| b.is_ascii_alphanumeric())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_that_could_leave_the_directory_are_not_file_names() {
        assert!(is_file_name("t-hz0jdfwd9f1234") && is_file_name("i-bp1.x_y"));
        for bad in ["", "..", ".hidden", "a/b", "a\\b", "../etc", "i-1\n", "é"] {
            assert!(!is_file_name(bad), "{bad:?}");
        }
    }
}
