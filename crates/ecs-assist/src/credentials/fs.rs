//! The file system as an input: the credential files are read through a
//! [`FileSystem`], so tests use an in-memory one and no global state.

use std::collections::HashMap;
use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Read access to the files the credentials chain looks at
/// (`~/.aliyun/config.json`, `~/.alibabacloud/credentials.ini`, an OIDC
/// token file).
pub trait FileSystem: Send + Sync + fmt::Debug {
    /// The whole file at `path` as UTF-8 text.
    ///
    /// # Errors
    /// The I/O error; [`io::ErrorKind::NotFound`] when there is no such file.
    fn read_to_string(&self, path: &Path) -> io::Result<String>;

    /// The user's home directory, when the environment does not name one
    /// (`HOME`, `USERPROFILE` are asked first).
    fn home_dir(&self) -> Option<PathBuf>;
}

impl<T: FileSystem + ?Sized> FileSystem for Arc<T> {
    fn read_to_string(&self, path: &Path) -> io::Result<String> {
        (**self).read_to_string(path)
    }

    fn home_dir(&self) -> Option<PathBuf> {
        (**self).home_dir()
    }
}

/// The operating system's file system.
#[derive(Debug, Clone, Copy, Default)]
pub struct OsFileSystem;

impl FileSystem for OsFileSystem {
    fn read_to_string(&self, path: &Path) -> io::Result<String> {
        std::fs::read_to_string(path)
    }

    fn home_dir(&self) -> Option<PathBuf> {
        std::env::home_dir()
    }
}

/// Files held in memory, for tests and for programs that keep their
/// configuration elsewhere.
///
/// ```
/// use std::path::Path;
/// use ecs_assist::{FileSystem, InMemoryFileSystem};
/// let fs = InMemoryFileSystem::new()
///     .with_home("/home/me")
///     .with_file("/home/me/.alibabacloud/credentials.ini", "[default]\ntype = access_key\n");
/// assert!(fs.read_to_string(Path::new("/home/me/.alibabacloud/credentials.ini")).is_ok());
/// assert!(fs.read_to_string(Path::new("/nope")).is_err());
/// ```
#[derive(Clone, Default)]
pub struct InMemoryFileSystem {
    files: HashMap<PathBuf, String>,
    home: Option<PathBuf>,
}

impl InMemoryFileSystem {
    /// No files and no home directory.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds (or replaces) the file at `path`.
    #[must_use]
    pub fn with_file(mut self, path: impl Into<PathBuf>, contents: impl Into<String>) -> Self {
        self.files.insert(path.into(), contents.into());
        self
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
        let mut paths: Vec<_> = self.files.keys().collect();
        paths.sort();
        f.debug_struct("InMemoryFileSystem")
            .field("files", &paths)
            .field("home", &self.home)
            .finish()
    }
}

impl FileSystem for InMemoryFileSystem {
    fn read_to_string(&self, path: &Path) -> io::Result<String> {
        self.files.get(path).cloned().ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::NotFound,
                format!("{} does not exist", path.display()),
            )
        })
    }

    fn home_dir(&self) -> Option<PathBuf> {
        self.home.clone()
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
