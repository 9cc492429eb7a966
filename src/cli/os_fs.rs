//! The operating system's file system, for the CLI, and every read the CLI makes.
//!
//! Only regular files and standard input are read, and at most [`max_input_bytes`] of
//! either: a FIFO with no writer would block forever, and `/dev/zero` (as a file or as
//! standard input) would be read until memory runs out. A file's kind and size are checked
//! before it is opened (opening a FIFO blocks); standard input is read through a bounded
//! reader.

use std::io::Read;

use ligature::loader::{Fetcher, FileSystem, FsError};

use super::remote::HttpFetcher;

/// The default bound on one input (a source file, a data document, standard input).
pub const MAX_INPUT_BYTES: u64 = 1 << 30;

/// The bound on one input: [`MAX_INPUT_BYTES`], or the bytes given by the environment
/// variable `LIGATURE_MAX_INPUT_BYTES`.
pub fn max_input_bytes() -> u64 {
    std::env::var("LIGATURE_MAX_INPUT_BYTES")
        .ok()
        .and_then(|it| it.trim().parse().ok())
        .unwrap_or(MAX_INPUT_BYTES)
}

fn too_big(what: &str, limit: u64) -> String {
    format!(
        "{what} is larger than the limit of {limit} bytes for an input (set LIGATURE_MAX_INPUT_BYTES to change it)"
    )
}

/// Reads a regular file of at most [`max_input_bytes`].
pub fn read_file(path: &str) -> Result<Vec<u8>, FsError> {
    let not_found = |err: std::io::Error| {
        if err.kind() == std::io::ErrorKind::NotFound {
            FsError::NotFound
        } else {
            FsError::Other(err.to_string())
        }
    };
    let meta = std::fs::metadata(path).map_err(not_found)?;
    if !meta.is_file() {
        let kind = if meta.is_dir() {
            "a directory"
        } else {
            "not a regular file (a FIFO, socket or device)"
        };
        return Err(FsError::Other(format!(
            "it is {kind}; only regular files are read"
        )));
    }
    let limit = max_input_bytes();
    if meta.len() > limit {
        return Err(FsError::Other(too_big("the file", limit)));
    }
    let file = std::fs::File::open(path).map_err(not_found)?;
    // Sized from the file's length: read into a growing buffer, a 190 MB document peaked
    // at 340 MB (the buffer doubling and copying) instead of 200.
    let hint = usize::try_from(meta.len()).unwrap_or(0).saturating_add(1);
    read_bounded(file, limit, hint).map_err(FsError::Other)
}

/// Reads a regular file as UTF-8 text (see [`read_file`]).
pub fn read_text(path: &str) -> Result<String, String> {
    let bytes = read_file(path).map_err(|err| match err {
        FsError::NotFound => "no such file".to_string(),
        FsError::Other(reason) => reason,
    })?;
    String::from_utf8(bytes).map_err(|_| "the file is not valid UTF-8".to_string())
}

/// Reads standard input, at most [`max_input_bytes`].
pub fn read_stdin() -> Result<Vec<u8>, String> {
    read_bounded(std::io::stdin().lock(), max_input_bytes(), 0)
}

/// Reads at most `limit` bytes; more is an error (the file grew, or a stream).
fn read_bounded(reader: impl Read, limit: u64, hint: usize) -> Result<Vec<u8>, String> {
    let mut bytes = Vec::with_capacity(hint);
    reader
        .take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|err| err.to_string())?;
    if bytes.len() as u64 > limit {
        return Err(too_big("the input", limit));
    }
    Ok(bytes)
}

/// Reads files from disk; paths are used as given (relative to the working directory).
#[derive(Default)]
pub struct OsFs {
    /// Standard input, registered under the name `<stdin>` when the entry is `-`.
    pub stdin: Option<Vec<u8>>,
    /// Remote modules (LANGUAGE.md 9.10): fetched over HTTP, pinned and cached.
    pub remote: Option<HttpFetcher>,
}

impl FileSystem for OsFs {
    fn read(&self, path: &str) -> Result<Vec<u8>, FsError> {
        if path == "<stdin>" {
            if let Some(bytes) = &self.stdin {
                return Ok(bytes.clone());
            }
        }
        read_file(path)
    }

    fn exists(&self, path: &str) -> bool {
        std::path::Path::new(path).is_file()
    }

    fn is_dir(&self, path: &str) -> bool {
        std::path::Path::new(path).is_dir()
    }

    fn resolve_links(&self, path: &str) -> Option<String> {
        let real = std::fs::canonicalize(path).ok()?;
        Some(real.to_string_lossy().replace('\\', "/"))
    }

    fn fetcher(&self) -> Option<&dyn Fetcher> {
        self.remote.as_ref().map(|it| it as &dyn Fetcher)
    }
}
