//! The operating system's file system, for the CLI.

use ligature::loader::{FileSystem, FsError};

/// Reads files from disk; paths are used as given (relative to the working directory).
#[derive(Debug, Default)]
pub struct OsFs {
    /// Standard input, registered under the name `<stdin>` when the entry is `-`.
    pub stdin: Option<Vec<u8>>,
}

impl FileSystem for OsFs {
    fn read(&self, path: &str) -> Result<Vec<u8>, FsError> {
        if path == "<stdin>" {
            if let Some(bytes) = &self.stdin {
                return Ok(bytes.clone());
            }
        }
        match std::fs::read(path) {
            Ok(bytes) => Ok(bytes),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => Err(FsError::NotFound),
            Err(err) => Err(FsError::Other(err.to_string())),
        }
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
}
