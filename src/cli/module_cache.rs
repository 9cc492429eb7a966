//! The persistent module cache's files (`--cache`): one file per module entry under
//! `modules/` in the cache directory that remote modules use (`remote::cache_dir`). The
//! library names, encodes and checks the entries (`ligature::engine::persist`); this side
//! only reads and writes bytes, each write a temporary file renamed into place, so that
//! concurrent runs sharing the directory see a whole entry or none.

use std::path::PathBuf;

use ligature::engine::persist::ModuleStore;

use super::remote;

/// The entries' directory.
pub struct ModuleFiles {
    dir: PathBuf,
}

impl ModuleFiles {
    /// The store under the cache directory, if there is one.
    pub fn new() -> Option<ModuleFiles> {
        Some(ModuleFiles {
            dir: remote::cache_dir()?.join("modules"),
        })
    }
}

/// Entry names are hex digits only (`persist::entry_name`); anything else is not read.
fn is_plain(name: &str) -> bool {
    !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric())
}

impl ModuleStore for ModuleFiles {
    fn read(&self, name: &str) -> Option<Vec<u8>> {
        if !is_plain(name) {
            return None;
        }
        std::fs::read(self.dir.join(name)).ok()
    }

    fn write(&self, name: &str, bytes: &[u8]) {
        if is_plain(name) {
            // A failed write only costs the next run the work.
            let _ = remote::write_atomically(&self.dir.join(name), bytes);
        }
    }
}
