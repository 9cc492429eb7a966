//! Reading source files through a host-supplied file system, resolving imports and
//! building the module graph (LANGUAGE.md section 9).
//!
//! The library never touches the operating system: every file is read through the
//! [`FileSystem`] trait. The core ships [`MemoryFs`] (used by tests, the wasm bindings and
//! any embedding host that supplies files up front); the CLI supplies an OS implementation.
//! Paths are `/`-separated strings; normalisation removes `.` and `..` segments so that the
//! same file always has the same key.
//!
//! The algorithm ([`graph::load`]): starting from the entry file, each module is read and
//! parsed once, keyed by its normalised path; its imports are resolved in written order
//! ([`resolve`]: relative paths against the importer's directory inside the importer's
//! root, register paths against the register roots and `register.toml` manifests, `std`
//! from the copies embedded in the binary, [`stdlib`]), and each target is loaded depth
//! first. The chain of modules being loaded detects cycles (M4002, with the whole cycle in
//! the message). Finishing a module appends it to the canonical order (LANGUAGE.md 7.3):
//! imports before importers, in written order, the entry last.
//!
//! Remote modules ([`remote`]) are keyed by their URL and fetched by the host in rounds:
//! a load that meets remote modules it does not have asks the host for all of them at
//! once and loads again, so the walk above stays sequential and its answer the same
//! whatever order the fetches complete in.

pub mod graph;
pub mod manifest;
pub mod remote;
pub mod resolve;
pub mod stdlib;

pub use graph::{load, load_with, LoadOptions, LoadedModule, ModuleGraph};
pub use remote::{FetchError, Fetcher};

use std::collections::BTreeMap;
use std::sync::Arc;

/// Why a file could not be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FsError {
    NotFound,
    Other(String),
}

impl std::fmt::Display for FsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FsError::NotFound => f.write_str("no such file"),
            FsError::Other(message) => f.write_str(message),
        }
    }
}

/// The host's file system, as seen by the loader. Implementations must be usable from
/// several threads at once.
pub trait FileSystem: Send + Sync {
    /// The bytes of the file at `path` (a normalised `/`-separated path).
    fn read(&self, path: &str) -> Result<Vec<u8>, FsError>;

    /// Whether a file exists at `path` (used to try candidate paths).
    fn exists(&self, path: &str) -> bool {
        self.read(path).is_ok()
    }

    /// Whether `path` is a directory (used to find registers under their roots). A file
    /// system without directories may answer `false`; registers are then found by their
    /// files alone.
    fn is_dir(&self, _path: &str) -> bool {
        false
    }

    /// The path with every symbolic link resolved (absolute), for file systems that have
    /// links; `None` otherwise. Confinement (LANGUAGE.md 9.6) is then checked on the target.
    fn resolve_links(&self, _path: &str) -> Option<String> {
        None
    }

    /// The host's access to remote modules (LANGUAGE.md 9.10, [`remote`]); `None` (the
    /// default): a remote import is M4008.
    fn fetcher(&self) -> Option<&dyn Fetcher> {
        None
    }
}

/// An in-memory file system: a map from normalised paths to contents.
#[derive(Clone, Debug, Default)]
pub struct MemoryFs {
    files: BTreeMap<String, Arc<[u8]>>,
}

impl MemoryFs {
    pub fn new() -> MemoryFs {
        MemoryFs::default()
    }

    /// Adds or replaces a file.
    pub fn insert(&mut self, path: &str, contents: impl Into<Vec<u8>>) {
        self.files
            .insert(normalize(path), Arc::from(contents.into()));
    }

    pub fn remove(&mut self, path: &str) -> bool {
        self.files.remove(&normalize(path)).is_some()
    }

    pub fn with_file(mut self, path: &str, contents: impl Into<Vec<u8>>) -> MemoryFs {
        self.insert(path, contents);
        self
    }
}

impl FileSystem for MemoryFs {
    fn read(&self, path: &str) -> Result<Vec<u8>, FsError> {
        self.files
            .get(&normalize(path))
            .map(|it| it.to_vec())
            .ok_or(FsError::NotFound)
    }

    fn exists(&self, path: &str) -> bool {
        self.files.contains_key(&normalize(path))
    }

    fn is_dir(&self, path: &str) -> bool {
        let dir = normalize(path);
        if dir == "." {
            return !self.files.is_empty();
        }
        let prefix = format!("{dir}/");
        self.files
            .range(prefix.clone()..)
            .next()
            .is_some_and(|(key, _)| key.starts_with(&prefix))
    }
}

/// Removes `.` segments, empty segments and resolves `..` against earlier segments. A
/// leading `/` is kept; `..` that would climb above the start is kept as `..` (callers
/// check confinement separately).
pub fn normalize(path: &str) -> String {
    let absolute = path.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for segment in path.split('/') {
        match segment {
            "" | "." => {}
            ".." => match parts.last() {
                Some(last) if *last != ".." => {
                    parts.pop();
                }
                _ if absolute => {}
                _ => parts.push(".."),
            },
            other => parts.push(other),
        }
    }
    let joined = parts.join("/");
    if absolute {
        format!("/{joined}")
    } else if joined.is_empty() {
        ".".to_string()
    } else {
        joined
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalize_paths() {
        assert_eq!(normalize("./a/b/../c.lig"), "a/c.lig");
        assert_eq!(normalize("/x/./y//z"), "/x/y/z");
        assert_eq!(normalize("../a"), "../a");
        assert_eq!(normalize("a/../../b"), "../b");
        assert_eq!(normalize("/../a"), "/a");
        assert_eq!(normalize("./"), ".");
    }

    #[test]
    fn memory_fs_reads_normalized() {
        let fs = MemoryFs::new().with_file("./dir/../main.lig", "1");
        assert_eq!(fs.read("main.lig"), Ok(b"1".to_vec()));
        assert_eq!(fs.read("other.lig"), Err(FsError::NotFound));
    }
}
