//! The server's view of the files: open documents over the disk, and snapshots of it.
//!
//! The main loop owns the [`Workspace`] and changes it on each notification; every request
//! and every check runs on a [`Snapshot`], an immutable copy of the open documents (the
//! map is shared, and replaced on an edit) together with the session over a file system
//! that reads open documents from memory and the rest from disk. One [`Session`] lives as
//! long as the server: its caches carry the unchanged parts of the workspace from one
//! check to the next, and each snapshot's session is [`Session::with_file_system`] of it.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use dashmap::DashMap;
use lsp_types::Url;

use ligature::api::Session;
use ligature::loader::{self, FileSystem, FsError};
use ligature::syntax::ast;

use super::position::LineIndex;
use super::resolve::ModuleIndex;

/// An open document.
#[derive(Clone)]
pub struct Doc {
    pub uri: Url,
    pub version: i32,
    pub text: Arc<str>,
}

pub type Docs = Arc<HashMap<String, Doc>>;

/// Open documents first, then the disk.
pub struct Overlay {
    docs: Docs,
}

impl FileSystem for Overlay {
    fn read(&self, path: &str) -> Result<Vec<u8>, FsError> {
        match self.docs.get(&loader::normalize(path)) {
            Some(doc) => Ok(doc.text.as_bytes().to_vec()),
            None => crate::cli::os_fs::read_file(path),
        }
    }

    fn exists(&self, path: &str) -> bool {
        self.docs.contains_key(&loader::normalize(path)) || std::path::Path::new(path).is_file()
    }

    fn is_dir(&self, path: &str) -> bool {
        std::path::Path::new(path).is_dir()
    }
}

/// At most this many `.lig` files of the workspace are searched for references.
pub const WORKSPACE_FILES: usize = 10_000;

/// How deep below the workspace root references are looked for.
pub const WORKSPACE_DEPTH: usize = 32;

/// At most this many directory entries of the workspace are visited to find its `.lig`
/// files: a root such as a home directory holds far more files than any project.
pub const WORKSPACE_ENTRIES: usize = 200_000;

/// A file's modification time and length: while they stay, its imports are the known ones.
pub type Stamp = (std::time::SystemTime, u64);

/// What lives as long as the server and is shared by every snapshot.
pub struct Shared {
    pub session: Session,
    pub register_roots: Vec<String>,
    /// The workspace's directory, the root relative imports stay inside (LANGUAGE.md 9.6).
    pub project_root: Option<String>,
    /// Parsed files and their top-level names, by module key; an entry is used while its
    /// text is the current one.
    pub indexes: DashMap<String, Arc<ModuleIndex>>,
    /// The top-level binding types of the last check of each file that had some.
    pub types: DashMap<String, Arc<BindingTypes>>,
    /// The local binder types of the files hovered, each for the open documents it was
    /// checked with (see [`BinderTypes`]).
    pub binders: DashMap<String, Arc<BinderTypes>>,
    /// The chunk cache [`ModuleIndex`]es are parsed through: after an edit, only the
    /// changed declarations are parsed again (`syntax::chunks`).
    pub chunks: ligature::engine::Caches,
    /// Held while an index is built, so that a request and the check's warm-up do not
    /// parse the same text twice.
    pub parsing: std::sync::Mutex<()>,
    /// The import paths of the workspace's closed files, by module key, with the
    /// modification time and length they were read at ([`Snapshot::workspace_importers`]).
    pub imports: DashMap<String, (Stamp, Arc<Vec<ast::ImportPath>>)>,
}

/// A check's binding types, as the checker listed them; the map by name is built on the
/// first lookup (by a request, off the path from an edit to its diagnostics).
pub struct BindingTypes {
    list: Vec<ligature::api::BindingType>,
    by_name: std::sync::OnceLock<HashMap<String, usize>>,
}

impl BindingTypes {
    pub fn new(list: Vec<ligature::api::BindingType>) -> BindingTypes {
        BindingTypes {
            list,
            by_name: std::sync::OnceLock::new(),
        }
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        let by_name = self.by_name.get_or_init(|| {
            self.list
                .iter()
                .enumerate()
                .map(|(idx, it)| (it.name.clone(), idx))
                .collect()
        });
        by_name.get(name).map(|&idx| self.list[idx].ty.as_str())
    }
}

/// A file's local binder types by the span of the binder's name
/// (`Session::binder_types`), of the declarations hovered so far, valid for the open
/// documents they were checked with: any edit makes a new document map, so a hover after
/// it checks again (an import may be the file edited).
pub struct BinderTypes {
    pub docs: Docs,
    pub by_span: HashMap<(u32, u32), String>,
    /// The binders asked for (found or not): a binder without a type is not checked again.
    pub asked: HashSet<(u32, u32)>,
}

#[derive(Clone)]
pub struct Snapshot {
    pub docs: Docs,
    pub shared: Arc<Shared>,
}

/// The mutable side, owned by the main loop.
pub struct Workspace {
    pub docs: Docs,
    pub shared: Arc<Shared>,
}

impl Workspace {
    pub fn snapshot(&self) -> Snapshot {
        Snapshot {
            docs: Arc::clone(&self.docs),
            shared: Arc::clone(&self.shared),
        }
    }

    pub fn open(&mut self, uri: Url, version: i32, text: String) {
        if let Some(key) = key_of(&uri) {
            Arc::make_mut(&mut self.docs).insert(
                key,
                Doc {
                    uri,
                    version,
                    text: Arc::from(text),
                },
            );
        }
    }

    pub fn close(&mut self, uri: &Url) {
        if let Some(key) = key_of(uri) {
            Arc::make_mut(&mut self.docs).remove(&key);
        }
    }

    /// Applies content changes (full or ranged) to an open document.
    pub fn change(
        &mut self,
        uri: &Url,
        version: i32,
        changes: Vec<lsp_types::TextDocumentContentChangeEvent>,
    ) {
        let Some(key) = key_of(uri) else {
            return;
        };
        let docs = Arc::make_mut(&mut self.docs);
        let Some(doc) = docs.get_mut(&key) else {
            return;
        };
        let mut text = doc.text.to_string();
        for change in changes {
            match change.range {
                None => text = change.text,
                Some(range) => {
                    let index = LineIndex::new(&text);
                    let start = index.offset(&text, range.start) as usize;
                    let end = (index.offset(&text, range.end) as usize).max(start);
                    text.replace_range(start..end, &change.text);
                }
            }
        }
        doc.version = version;
        doc.text = Arc::from(text);
    }
}

/// The module key of a `file:` URI: its normalised path.
pub fn key_of(uri: &Url) -> Option<String> {
    let path = uri.to_file_path().ok()?;
    Some(loader::normalize(
        &path.to_string_lossy().replace('\\', "/"),
    ))
}

impl Snapshot {
    /// The session of this snapshot: the shared caches over its open documents.
    pub fn session(&self) -> Session {
        self.shared.session.with_file_system(Arc::new(Overlay {
            docs: Arc::clone(&self.docs),
        }))
    }

    /// The text of a module: an open document, a `std` module, or a file on disk.
    pub fn text(&self, key: &str) -> Option<Arc<str>> {
        if let Some(doc) = self.docs.get(key) {
            return Some(Arc::clone(&doc.text));
        }
        if let Some(text) = loader::stdlib::source_of_key(key) {
            return Some(Arc::from(text));
        }
        let bytes = crate::cli::os_fs::read_file(key).ok()?;
        String::from_utf8(bytes).ok().map(Arc::from)
    }

    /// The parsed module at `key`, reused while its text is unchanged.
    pub fn index(&self, key: &str) -> Option<Arc<ModuleIndex>> {
        let text = self.text(key)?;
        let cached = || {
            let index = self.shared.indexes.get(key)?;
            (Arc::ptr_eq(&index.text, &text) || *index.text == *text).then(|| Arc::clone(&index))
        };
        if let Some(index) = cached() {
            return Some(index);
        }
        let _parsing = self
            .shared
            .parsing
            .lock()
            .unwrap_or_else(|it| it.into_inner());
        if let Some(index) = cached() {
            return Some(index);
        }
        // Let go of the stale tree first: the chunk cache edits its previous tree in place
        // only when nobody else holds it.
        self.shared.indexes.remove(key);
        let index = Arc::new(ModuleIndex::new(key, text, &self.shared.chunks));
        self.shared
            .indexes
            .insert(key.to_string(), Arc::clone(&index));
        Some(index)
    }

    /// The key of the module that `path`, imported by `importer`, names (the loader's rules).
    pub fn resolve_import(&self, importer: &str, path: &ast::ImportPath) -> Option<String> {
        let fs = Overlay {
            docs: Arc::clone(&self.docs),
        };
        let mut resolver = loader::resolve::Resolver::new(&fs, &self.shared.register_roots);
        let root = if importer.starts_with(loader::stdlib::PREFIX) {
            loader::resolve::Root::Std
        } else {
            // The workspace, or for a file outside it its own directory (as the CLI).
            let root = self
                .shared
                .project_root
                .as_deref()
                .filter(|root| loader::resolve::is_inside(importer, root))
                .unwrap_or_else(|| loader::resolve::dir_of(importer));
            loader::resolve::Root::Project(root.to_string())
        };
        resolver
            .resolve(importer, &root, path)
            .ok()
            .map(|it| it.key)
    }

    /// The open documents, and the `.lig` files (at most 1,000 a directory) of their
    /// directories and of the directories of `more` files.
    pub fn neighbours<'a>(&self, more: impl Iterator<Item = &'a str>) -> Vec<String> {
        let mut files: Vec<String> = self.docs.keys().cloned().collect();
        let dir_of = |it: &str| it.rsplit_once('/').map(|(dir, _)| dir.to_string());
        let mut dirs: Vec<String> = files.iter().filter_map(|it| dir_of(it)).collect();
        dirs.extend(more.filter_map(dir_of));
        dirs.sort();
        dirs.dedup();
        for dir in dirs {
            let Ok(entries) = std::fs::read_dir(&dir) else {
                continue;
            };
            for entry in entries.flatten().take(1_000) {
                let path = entry.path();
                if path.extension().is_some_and(|it| it == "lig") && path.is_file() {
                    files.push(loader::normalize(&path.to_string_lossy()));
                }
            }
        }
        files.sort();
        files.dedup();
        files
    }

    /// The `.lig` files of the workspace (the project root the client named): at most
    /// [`WORKSPACE_FILES`] of them among the first [`WORKSPACE_ENTRIES`] entries walked,
    /// [`WORKSPACE_DEPTH`] directories deep, without what
    /// `.gitignore` and `.ignore` files exclude (in a repository or not) and without hidden
    /// files and directories. Empty when the client named no root.
    pub fn workspace_files(&self) -> Vec<String> {
        let Some(root) = self.shared.project_root.as_deref() else {
            return Vec::new();
        };
        let walk = ignore::WalkBuilder::new(root)
            .max_depth(Some(WORKSPACE_DEPTH))
            .require_git(false)
            .follow_links(false)
            .build();
        let mut files: Vec<String> = walk
            .take(WORKSPACE_ENTRIES)
            .flatten()
            .filter(|entry| entry.file_type().is_some_and(|it| it.is_file()))
            .filter(|entry| entry.path().extension().is_some_and(|it| it == "lig"))
            .take(WORKSPACE_FILES)
            .map(|entry| loader::normalize(&entry.path().to_string_lossy()))
            .collect();
        files.sort();
        files
    }

    /// The entries a check takes: the open documents, and the files beside them that
    /// import one (so an edit shows its effect on a closed importer).
    pub fn check_entries(&self) -> Vec<String> {
        let mut entries: Vec<String> = self.docs.keys().cloned().collect();
        for file in self.neighbours(std::iter::empty()) {
            if self.docs.contains_key(&file) {
                continue;
            }
            let Some(index) = self.index(&file) else {
                continue;
            };
            let imports_open = index.module.imports.iter().any(|import| {
                self.resolve_import(&file, &import.path)
                    .is_some_and(|key| self.docs.contains_key(&key))
            });
            if imports_open {
                entries.push(file);
            }
        }
        entries.sort();
        entries
    }

    /// The workspace's closed files that import one of `entries`, directly or through
    /// each other, wherever they are (the check's second round, after `check_entries`):
    /// at most [`WORKSPACE_FILES`] files are read, and an empty list when `stop` is set
    /// meanwhile.
    pub fn workspace_importers(&self, entries: &[String], stop: &AtomicBool) -> Vec<String> {
        // Imported module key -> the closed files that import it.
        let mut importers: HashMap<String, Vec<String>> = HashMap::new();
        for file in self.workspace_files() {
            if stop.load(Ordering::Relaxed) {
                return Vec::new();
            }
            if self.docs.contains_key(&file) {
                continue;
            }
            for path in self.import_paths(&file).iter() {
                if let Some(key) = self.resolve_import(&file, path) {
                    importers.entry(key).or_default().push(file.clone());
                }
            }
        }
        let mut seen: HashSet<&str> = entries.iter().map(String::as_str).collect();
        let mut queue: VecDeque<&str> = entries.iter().map(String::as_str).collect();
        let mut found = Vec::new();
        while let Some(key) = queue.pop_front() {
            for importer in importers.get(key).into_iter().flatten() {
                if seen.insert(importer) {
                    found.push(importer.clone());
                    queue.push_back(importer);
                }
            }
        }
        found.sort();
        found
    }

    /// The import paths of the closed file `key`, parsed again only when its modification
    /// time or length changed (a file without the word `import` is not parsed at all).
    fn import_paths(&self, key: &str) -> Arc<Vec<ast::ImportPath>> {
        let stamp = std::fs::metadata(key)
            .ok()
            .and_then(|it| Some((it.modified().ok()?, it.len())));
        if let (Some(stamp), Some(known)) = (stamp, self.shared.imports.get(key)) {
            if known.0 == stamp {
                return Arc::clone(&known.1);
            }
        }
        let paths: Vec<ast::ImportPath> = match self.text(key) {
            Some(text) if text.contains("import") => {
                ligature::syntax::parse(ligature::source::FileId(0), &text)
                    .module
                    .imports
                    .into_iter()
                    .map(|it| it.path)
                    .collect()
            }
            _ => Vec::new(),
        };
        let paths = Arc::new(paths);
        if let Some(stamp) = stamp {
            self.shared
                .imports
                .insert(key.to_string(), (stamp, Arc::clone(&paths)));
        }
        paths
    }

    /// The URI of a module key; `std` modules are written to a directory of their own
    /// first, so that an editor can open them.
    pub fn uri_of(&self, key: &str) -> Option<Url> {
        if let Some(doc) = self.docs.get(key) {
            return Some(doc.uri.clone());
        }
        if let Some(text) = loader::stdlib::source_of_key(key) {
            let name = key.strip_prefix(loader::stdlib::PREFIX)?;
            let dir =
                std::env::temp_dir().join(format!("ligature-std-{}", env!("CARGO_PKG_VERSION")));
            let path = dir.join(name);
            if std::fs::read_to_string(&path).ok().as_deref() != Some(text) {
                std::fs::create_dir_all(&dir).ok()?;
                std::fs::write(&path, text).ok()?;
            }
            return Url::from_file_path(path).ok();
        }
        Url::from_file_path(key).ok()
    }
}
