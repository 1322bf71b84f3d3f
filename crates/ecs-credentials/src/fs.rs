//! The file system as an input: the credential files are read through a
//! [`FileSystem`], so tests use an in-memory one and no global state.

use std::collections::HashMap;
use std::fmt;
use std::fs::{File, Metadata};
use std::io::{self, Read as _};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// The largest credentials file read, in bytes (1 MiB): the files hold a
/// few hundred bytes, and a device or a runaway file must not fill memory.
pub(crate) const MAX_FILE_BYTES: usize = 1024 * 1024;

/// Read access to the files the credentials chain looks at
/// (`~/.aliyun/config.json`, `~/.alibabacloud/credentials.ini` or
/// `credentials`, an OIDC token file).
pub trait FileSystem: Send + Sync + fmt::Debug {
    /// The whole file at `path` as UTF-8 text.
    ///
    /// Implementations over real files should read regular files only,
    /// without blocking on a FIFO, and refuse more than 1 MiB, as
    /// [`OsFileSystem`] does.
    ///
    /// # Errors
    /// The I/O error; [`io::ErrorKind::NotFound`] when there is no such file.
    fn read_to_string(&self, path: &Path) -> io::Result<String>;

    /// The user's home directory, when the environment does not name one
    /// (`HOME`, `USERPROFILE` are asked first).
    fn home_dir(&self) -> Option<PathBuf>;

    /// Replaces the file at `path` with `contents` at once (readers see the
    /// old file or the new one, never a mix), keeping its permissions. Used
    /// to write refreshed OAuth tokens back into the aliyun CLI's
    /// `config.json`.
    ///
    /// # Errors
    /// The I/O error; the default implementation is read-only and always
    /// fails with [`io::ErrorKind::Unsupported`].
    fn replace(&self, path: &Path, contents: &[u8]) -> io::Result<()> {
        let _ = (path, contents);
        Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "this file system is read-only",
        ))
    }
}

impl<T: FileSystem + ?Sized> FileSystem for Arc<T> {
    fn read_to_string(&self, path: &Path) -> io::Result<String> {
        (**self).read_to_string(path)
    }

    fn home_dir(&self) -> Option<PathBuf> {
        (**self).home_dir()
    }

    fn replace(&self, path: &Path, contents: &[u8]) -> io::Result<()> {
        (**self).replace(path, contents)
    }
}

/// The operating system's file system. It reads regular files only (a
/// directory, a device such as `/dev/urandom`, a FIFO or a socket is
/// refused without being read, and a FIFO is never waited on) of at most
/// 1 MiB of UTF-8 text.
#[derive(Debug, Clone, Copy, Default)]
pub struct OsFileSystem;

impl FileSystem for OsFileSystem {
    fn read_to_string(&self, path: &Path) -> io::Result<String> {
        // Checked before opening: opening a FIFO to read waits for a writer.
        regular(&std::fs::metadata(path)?)?;
        let file = open_without_blocking(path)?;
        // Checked again on what was opened: the path may have changed since.
        regular(&file.metadata()?)?;
        let limit = u64::try_from(MAX_FILE_BYTES).unwrap_or(u64::MAX);
        let mut bytes = Vec::new();
        file.take(limit.saturating_add(1)).read_to_end(&mut bytes)?;
        if bytes.len() > MAX_FILE_BYTES {
            return Err(io::Error::new(
                io::ErrorKind::FileTooLarge,
                "it is larger than 1 MiB; a credentials file holds a few hundred bytes",
            ));
        }
        String::from_utf8(bytes)
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "it is not UTF-8 text"))
    }

    fn home_dir(&self) -> Option<PathBuf> {
        std::env::home_dir()
    }

    fn replace(&self, path: &Path, contents: &[u8]) -> io::Result<()> {
        use std::io::Write as _;
        let permissions = std::fs::metadata(path)?.permissions();
        let name = path
            .file_name()
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "no file name"))?;
        // A name no other writer uses: this process's id and a counter.
        static WRITES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = WRITES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let mut temp_name = name.to_os_string();
        temp_name.push(format!(".tmp-{}-{n}", std::process::id()));
        let temp = path.with_file_name(temp_name);
        let written = (|| {
            let mut file = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&temp)?;
            file.set_permissions(permissions)?;
            file.write_all(contents)?;
            file.sync_all()?;
            std::fs::rename(&temp, path)
        })();
        if written.is_err() {
            let _ = std::fs::remove_file(&temp);
        }
        written
    }
}

/// An error unless `metadata` is that of a regular file, naming what it is.
fn regular(metadata: &Metadata) -> io::Result<()> {
    let kind = metadata.file_type();
    if kind.is_file() {
        return Ok(());
    }
    let what = if kind.is_dir() {
        "a directory"
    } else {
        special_kind(kind)
    };
    Err(io::Error::new(
        io::ErrorKind::InvalidInput,
        format!("it is {what}, not a regular file"),
    ))
}

#[cfg(unix)]
fn special_kind(kind: std::fs::FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt as _;
    if kind.is_fifo() {
        "a FIFO"
    } else if kind.is_char_device() {
        "a character device"
    } else if kind.is_block_device() {
        "a block device"
    } else if kind.is_socket() {
        "a socket"
    } else {
        "something else"
    }
}

#[cfg(not(unix))]
fn special_kind(_: std::fs::FileType) -> &'static str {
    "something else"
}

/// Opens `path` to read; on Unix with `O_NONBLOCK`, so that a FIFO put in
/// place after the check is not waited on (reads of a regular file ignore
/// the flag).
#[cfg(unix)]
fn open_without_blocking(path: &Path) -> io::Result<File> {
    use std::os::unix::fs::OpenOptionsExt as _;
    std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
}

#[cfg(not(unix))]
fn open_without_blocking(path: &Path) -> io::Result<File> {
    File::open(path)
}

/// Files held in memory, for tests and for programs that keep their
/// configuration elsewhere.
///
/// ```
/// use std::path::Path;
/// use ecs_credentials::{FileSystem, InMemoryFileSystem};
/// let fs = InMemoryFileSystem::new()
///     .with_home("/home/me")
///     .with_file("/home/me/.alibabacloud/credentials.ini", "[default]\ntype = access_key\n");
/// assert!(fs.read_to_string(Path::new("/home/me/.alibabacloud/credentials.ini")).is_ok());
/// assert!(fs.read_to_string(Path::new("/nope")).is_err());
/// ```
#[derive(Clone, Default)]
pub struct InMemoryFileSystem {
    files: Arc<Mutex<HashMap<PathBuf, String>>>,
    home: Option<PathBuf>,
}

impl InMemoryFileSystem {
    /// No files and no home directory.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds (or replaces) the file at `path`.
    #[must_use]
    pub fn with_file(self, path: impl Into<PathBuf>, contents: impl Into<String>) -> Self {
        self.lock().insert(path.into(), contents.into());
        self
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<PathBuf, String>> {
        self.files
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Sets the home directory.
    #[must_use]
    pub fn with_home(mut self, home: impl Into<PathBuf>) -> Self {
        self.home = Some(home.into());
        self
    }
}

impl fmt::Debug for InMemoryFileSystem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The contents are credentials: only the paths are shown.
        let files = self.lock();
        let mut paths: Vec<_> = files.keys().collect();
        paths.sort();
        f.debug_struct("InMemoryFileSystem")
            .field("files", &paths)
            .field("home", &self.home)
            .finish()
    }
}

impl FileSystem for InMemoryFileSystem {
    fn read_to_string(&self, path: &Path) -> io::Result<String> {
        self.lock().get(path).cloned().ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::NotFound,
                format!("{} does not exist", path.display()),
            )
        })
    }

    fn home_dir(&self) -> Option<PathBuf> {
        self.home.clone()
    }

    fn replace(&self, path: &Path, contents: &[u8]) -> io::Result<()> {
        let text = String::from_utf8(contents.to_vec())
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "not UTF-8 text"))?;
        let mut files = self.lock();
        if !files.contains_key(path) {
            return Err(io::Error::new(
                io::ErrorKind::NotFound,
                format!("{} does not exist", path.display()),
            ));
        }
        files.insert(path.to_path_buf(), text);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn in_memory_files_are_found_and_missing_ones_are_not_found() {
        let fs = InMemoryFileSystem::new()
            .with_home("/h")
            .with_file("/h/a", "secret-content");
        assert_eq!(
            fs.read_to_string(Path::new("/h/a")).unwrap(),
            "secret-content"
        );
        let err = fs.read_to_string(Path::new("/h/b")).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::NotFound);
        assert_eq!(fs.home_dir(), Some(PathBuf::from("/h")));
        assert!(!format!("{fs:?}").contains("secret-content"));
    }

    /// Reads `path` on another thread: an answer within 10 s, or a failure
    /// (a read that blocks would hang the test instead).
    fn read_promptly(path: &Path) -> io::Result<String> {
        let (tx, rx) = std::sync::mpsc::channel();
        let path = path.to_owned();
        std::thread::spawn(move || {
            let _ = tx.send(OsFileSystem.read_to_string(&path));
        });
        rx.recv_timeout(std::time::Duration::from_secs(10))
            .expect("the read returned promptly")
    }

    fn temp_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("ecs-assist-fs-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn only_regular_files_are_read() {
        let dir = temp_dir("kinds");
        let err = read_promptly(&dir).unwrap_err().to_string();
        assert_eq!(err, "it is a directory, not a regular file");
        #[cfg(unix)]
        {
            let err = read_promptly(Path::new("/dev/urandom"))
                .unwrap_err()
                .to_string();
            assert_eq!(err, "it is a character device, not a regular file");
            let fifo = dir.join("fifo");
            let made = std::process::Command::new("mkfifo")
                .arg(&fifo)
                .status()
                .unwrap();
            assert!(made.success());
            let err = read_promptly(&fifo).unwrap_err().to_string();
            assert_eq!(err, "it is a FIFO, not a regular file");
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn files_over_the_limit_and_non_utf8_files_are_refused() {
        let dir = temp_dir("limits");
        let at_limit = dir.join("at-limit");
        std::fs::write(&at_limit, vec![b'a'; MAX_FILE_BYTES]).unwrap();
        assert_eq!(read_promptly(&at_limit).unwrap().len(), MAX_FILE_BYTES);
        let over = dir.join("over");
        std::fs::write(&over, vec![b'a'; MAX_FILE_BYTES + 1]).unwrap();
        let err = read_promptly(&over).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::FileTooLarge);
        assert_eq!(
            err.to_string(),
            "it is larger than 1 MiB; a credentials file holds a few hundred bytes"
        );
        let binary = dir.join("binary");
        std::fs::write(&binary, [0xff, 0xfe, 0x00]).unwrap();
        let err = read_promptly(&binary).unwrap_err();
        assert_eq!(err.to_string(), "it is not UTF-8 text");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn os_file_system_reads_real_files() {
        let dir = std::env::temp_dir().join(format!("ecs-assist-fs-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("f.txt");
        std::fs::write(&path, "hello").unwrap();
        assert_eq!(OsFileSystem.read_to_string(&path).unwrap(), "hello");
        assert_eq!(
            OsFileSystem
                .read_to_string(&dir.join("missing"))
                .unwrap_err()
                .kind(),
            io::ErrorKind::NotFound
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
