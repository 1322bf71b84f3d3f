//! A complete output held on disk while it is fetched: streamed into a
//! hidden file chunk by chunk (never whole in memory), its size and
//! whether it is UTF-8 noted on the way, then either copied out and
//! removed, or renamed into place (an atomic write).

use std::fs::{File, OpenOptions};
use std::io::{self, BufWriter, Write as _};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// Distinguishes the spool files of one process.
static COUNTER: AtomicU64 = AtomicU64::new(0);

/// A file being written, removed when dropped unless persisted.
#[derive(Debug)]
pub(crate) struct Spool {
    path: PathBuf,
    out: Option<BufWriter<File>>,
    len: u64,
    utf8: Utf8Check,
}

impl Spool {
    /// A new hidden file in `dir`.
    pub(crate) fn create(dir: &Path) -> io::Result<Self> {
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let path = dir.join(format!(".ecs-assist-{}-{n}.part", std::process::id()));
        let file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)?;
        Ok(Self {
            path,
            out: Some(BufWriter::with_capacity(64 * 1024, file)),
            len: 0,
            utf8: Utf8Check::default(),
        })
    }

    /// Appends `bytes`.
    pub(crate) fn write(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.utf8.feed(bytes);
        self.len = self.len.saturating_add(bytes.len() as u64);
        match &mut self.out {
            Some(out) => out.write_all(bytes),
            None => Err(io::Error::other("the spool file is already closed")),
        }
    }

    /// Flushes and closes the file: what was written is complete.
    pub(crate) fn finish(mut self) -> io::Result<Spooled> {
        if let Some(out) = self.out.take() {
            let file = out.into_inner().map_err(io::IntoInnerError::into_error)?;
            file.sync_all()?;
        }
        let utf8 = self.utf8.is_valid();
        Ok(Spooled {
            path: std::mem::take(&mut self.path),
            len: self.len,
            utf8,
        })
    }
}

impl Drop for Spool {
    fn drop(&mut self) {
        if !self.path.as_os_str().is_empty() {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// A complete output on disk.
#[derive(Debug)]
pub(crate) struct Spooled {
    path: PathBuf,
    len: u64,
    utf8: bool,
}

impl Spooled {
    /// Its size in bytes.
    pub(crate) fn len(&self) -> u64 {
        self.len
    }

    /// Whether the bytes are UTF-8 text.
    pub(crate) fn is_utf8(&self) -> bool {
        self.utf8
    }

    /// Opens it for reading.
    pub(crate) fn open(&self) -> io::Result<File> {
        File::open(&self.path)
    }

    /// Renames it to `target` (same directory, so atomic): replaced when
    /// `overwrite`, else refused with `AlreadyExists` when `target` exists.
    pub(crate) fn persist(mut self, target: &Path, overwrite: bool) -> io::Result<()> {
        if overwrite {
            std::fs::rename(&self.path, target)?;
        } else {
            // A hard link fails if the target exists, so two runs never
            // replace each other's file; the spool name goes after.
            std::fs::hard_link(&self.path, target)?;
            let _ = std::fs::remove_file(&self.path);
        }
        self.path = PathBuf::new();
        Ok(())
    }
}

impl Drop for Spooled {
    fn drop(&mut self) {
        if !self.path.as_os_str().is_empty() {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// Whether a byte stream fed in pieces is UTF-8, with a character split
/// across two pieces carried over.
#[derive(Debug, Default)]
struct Utf8Check {
    carry: Vec<u8>,
    invalid: bool,
}

impl Utf8Check {
    fn feed(&mut self, bytes: &[u8]) {
        if self.invalid {
            return;
        }
        let joined;
        let data: &[u8] = if self.carry.is_empty() {
            bytes
        } else {
            let mut all = std::mem::take(&mut self.carry);
            all.extend_from_slice(bytes);
            joined = all;
            &joined
        };
        match std::str::from_utf8(data) {
            Ok(_) => {}
            Err(err) if err.error_len().is_none() => {
                self.carry = data[err.valid_up_to()..].to_vec();
            }
            Err(_) => self.invalid = true,
        }
    }

    fn is_valid(&self) -> bool {
        !self.invalid && self.carry.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(pieces: &[&[u8]]) -> bool {
        let mut c = Utf8Check::default();
        for p in pieces {
            c.feed(p);
        }
        c.is_valid()
    }

    #[test]
    fn utf8_is_checked_across_pieces() {
        let e = "é".as_bytes();
        assert!(check(&[b"abc", &e[..1], &e[1..], b"d"]));
        assert!(!check(&[b"abc", &e[..1]]), "cut at the end");
        assert!(!check(&[b"a\xff", b"b"]));
        assert!(check(&[]));
    }

    #[test]
    fn a_spool_is_removed_unless_persisted_and_never_replaces_without_overwrite() {
        let dir =
            std::env::temp_dir().join(format!("ecs-assist-spool-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let mut spool = Spool::create(&dir).unwrap();
        spool.write(b"hello ").unwrap();
        spool.write(b"world").unwrap();
        let done = spool.finish().unwrap();
        assert_eq!((done.len(), done.is_utf8()), (11, true));
        let target = dir.join("out");
        std::fs::write(&target, "old").unwrap();
        let err = done.persist(&target, false).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::AlreadyExists);
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "old");
        let mut again = Spool::create(&dir).unwrap();
        again.write(b"new").unwrap();
        again.finish().unwrap().persist(&target, true).unwrap();
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "new");
        let dropped = Spool::create(&dir).unwrap();
        drop(dropped);
        let left: Vec<_> = std::fs::read_dir(&dir).unwrap().collect();
        assert_eq!(left.len(), 1, "only the target is left");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
