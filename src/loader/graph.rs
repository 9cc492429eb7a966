//! The module graph: every module of a run, read and parsed once, in canonical order.

use std::collections::HashMap;
use std::sync::Arc;

use super::remote::{self, FetchError, Fetcher};
use super::resolve::{dir_of, is_inside, ImportError, Resolver, Root};
use super::{normalize, stdlib, FileSystem, FsError};
use crate::diagnostic::{Code, Diagnostic};
use crate::interrupt::{self, Interrupt, Poll};
use crate::source::{FileId, FileSpan, SourceMap, Span};
use crate::syntax::{self, ast};

/// Where registers are found and which directory is the project root.
#[derive(Clone, Debug, Default)]
pub struct LoadOptions {
    /// Register roots in search order (LANGUAGE.md 9.4): the host's directories (the CLI's
    /// `--register-path`s, then `LIGATURE_PATH`'s entries, then `registers`).
    pub register_roots: Vec<String>,
    /// The project root; by default the working directory (`.`) when the entry lies inside
    /// it, else the entry's directory (section 9.6).
    pub project_root: Option<String>,
    /// Polled before each module is read and inside every parse (LANGUAGE.md 12.3): once
    /// it fires, loading stops and the graph's only diagnostic is R3008.
    pub interrupt: Interrupt,
}

/// One module of the run.
#[derive(Debug)]
pub struct LoadedModule {
    /// The normalised path (or `<std>/NAME.lig`): the module's identity.
    pub key: String,
    pub file: FileId,
    pub root: Root,
    pub ast: Arc<ast::Module>,
    /// For each import of `ast.imports`, the imported module (`None` when it failed).
    pub imports: Vec<Option<usize>>,
    /// The import through which the module was first reached (`None` for the entry).
    pub imported_at: Option<(usize, FileSpan)>,
}

/// All modules of a run.
#[derive(Debug, Default)]
pub struct ModuleGraph {
    pub modules: Vec<LoadedModule>,
    /// Canonical order (LANGUAGE.md 7.3): depth first from the entry, imports in written
    /// order before their importer, each module once; the entry is last.
    pub order: Vec<usize>,
    pub entry: Option<usize>,
    /// Read, parse and load (M4xxx) diagnostics.
    pub diagnostics: Vec<Diagnostic>,
    pub source_bytes: u64,
}

impl ModuleGraph {
    /// The module of `file`.
    pub fn module_of(&self, file: FileId) -> Option<&LoadedModule> {
        self.modules.iter().find(|it| it.file == file)
    }

    /// Positions in canonical order, by file (for sorting diagnostics).
    pub fn file_ranks(&self) -> HashMap<FileId, u32> {
        self.order
            .iter()
            .enumerate()
            .filter_map(|(rank, idx)| Some((self.modules.get(*idx)?.file, rank as u32)))
            .collect()
    }

    /// Adds the chain of import sites (up to the entry) as secondary labels to diagnostics
    /// whose primary location is in an imported module (LANGUAGE.md 9.8).
    pub fn add_import_labels(&self, diagnostics: &mut [Diagnostic]) {
        let by_file: HashMap<FileId, usize> = self
            .modules
            .iter()
            .enumerate()
            .map(|(idx, it)| (it.file, idx))
            .collect();
        for diagnostic in diagnostics {
            let Some(primary) = diagnostic.primary() else {
                continue;
            };
            let mut current = by_file.get(&primary.file).copied();
            let mut hops = 0;
            while let Some(idx) = current {
                let Some((importer, site)) = self.modules.get(idx).and_then(|it| it.imported_at)
                else {
                    break;
                };
                if hops >= 8 || diagnostic.labels.iter().any(|it| it.span == site) {
                    break;
                }
                let key = self.modules.get(idx).map_or("", |it| it.key.as_str());
                *diagnostic = diagnostic.clone().with_label(
                    site.file,
                    site.span,
                    format!("`{key}` is imported here"),
                );
                current = Some(importer);
                hops += 1;
            }
        }
    }
}

/// Reads and decodes one file into `sources`. Invalid UTF-8 is E1006 at the first bad
/// byte; a missing file is M4001 (at `site` when given, else in the file itself).
pub fn read_source(
    fs: &dyn FileSystem,
    sources: &mut SourceMap,
    path: &str,
    site: Option<FileSpan>,
) -> Result<FileId, Diagnostic> {
    if let Some(text) = stdlib::source_of_key(path) {
        return Ok(sources.add(path, text));
    }
    match fs.read(path) {
        Ok(bytes) => match String::from_utf8(bytes) {
            Ok(text) => Ok(sources.add(path, text)),
            Err(err) => {
                let offset = err.utf8_error().valid_up_to() as u32;
                let text = String::from_utf8_lossy(err.as_bytes()).into_owned();
                let file = sources.add(path, text);
                Err(Diagnostic::new(
                    Code::E1006,
                    "invalid UTF-8 in source file",
                    file,
                    Span::new(offset, offset + 1),
                ))
            }
        },
        Err(err) => {
            let message = match err {
                FsError::NotFound => format!("cannot find file `{path}`"),
                FsError::Other(reason) => format!("cannot read file `{path}`: {reason}"),
            };
            let (file, span) = match site {
                Some(site) => (site.file, site.span),
                None => (sources.add(path, ""), Span::default()),
            };
            Err(Diagnostic::new(Code::M4001, message, file, span))
        }
    }
}

struct Loader<'a> {
    fs: &'a dyn FileSystem,
    sources: &'a mut SourceMap,
    resolver: Resolver<'a>,
    graph: ModuleGraph,
    by_key: HashMap<String, usize>,
    chain: Vec<usize>,
    parse: &'a ParseFn<'a>,
    poll: Poll<'a>,
    /// Where the interrupt stopped the loading, when it did: R3008 there.
    stopped: Option<Diagnostic>,
    remote: &'a mut Remote,
}

/// What a load knows of remote modules, kept across the loads of one run.
#[derive(Default)]
struct Remote {
    /// Whether the host fetches at all.
    fetches: bool,
    /// Each URL asked for, with the host's answer.
    fetched: HashMap<String, Result<Arc<[u8]>, FetchError>>,
    /// URLs this load needed and did not have, in the order met, each once, with the
    /// import that first named it and the root it resolved in.
    missing: Vec<(String, FileSpan, Root)>,
    /// Parses of the earlier loads, by key: reused when the module has the same file id
    /// and text again (it does up to the first module that was missing before).
    parsed: HashMap<String, Parse>,
    /// Remote modules parsed as their bodies arrived (before they had a file id), by URL:
    /// their text and tree, kept only when the parse had no diagnostic (which would name
    /// the file), so the load takes them for a module of the same text.
    arrived: HashMap<String, (Arc<str>, Arc<ast::Module>)>,
}

type Parse = (FileId, Arc<str>, Arc<ast::Module>, Vec<Diagnostic>);

/// How [`load_with`] parses a module: given its key, file and text, the tree and the
/// syntax diagnostics.
pub type ParseFn<'p> = dyn Fn(&str, FileId, &Arc<str>) -> (Arc<ast::Module>, Vec<Diagnostic>) + 'p;

/// Loads the entry file and everything it imports.
pub fn load(
    fs: &dyn FileSystem,
    sources: &mut SourceMap,
    entry: &str,
    options: &LoadOptions,
) -> ModuleGraph {
    let parse = |_: &str, file, text: &Arc<str>| {
        let parsed = syntax::parse_until(file, text, &options.interrupt);
        (Arc::new(parsed.module), parsed.diagnostics)
    };
    load_with(fs, sources, entry, options, &parse)
}

/// [`load`], parsing each module with `parse` (given the module's key, its file and its
/// text; a host's parse that reuses earlier work must give exactly [`syntax::parse`]'s
/// result).
pub fn load_with(
    fs: &dyn FileSystem,
    sources: &mut SourceMap,
    entry: &str,
    options: &LoadOptions,
    parse: &ParseFn<'_>,
) -> ModuleGraph {
    let Some(fetcher) = fs.fetcher() else {
        return load_once(fs, sources, entry, options, parse, &mut Remote::default());
    };
    load_fetching(fs, fetcher, sources, entry, options, parse)
}

/// Loads with a host that fetches remote modules (module docs of [`remote`]): each load
/// that meets remote modules it does not have yet asks the host for all of them at once,
/// and the graph is loaded again with the answers, until a load needs nothing new. Only
/// that last load's graph and files are kept.
fn load_fetching(
    fs: &dyn FileSystem,
    fetcher: &dyn Fetcher,
    sources: &mut SourceMap,
    entry: &str,
    options: &LoadOptions,
    parse: &ParseFn<'_>,
) -> ModuleGraph {
    let base = sources.len();
    let mut remote = Remote {
        fetches: true,
        ..Remote::default()
    };
    loop {
        let mut graph = load_once(fs, sources, entry, options, parse, &mut remote);
        // Stopped (R3008 is then the graph's only diagnostic): nothing more is fetched.
        if remote.missing.is_empty() || interrupt::is_cancelled(&graph.diagnostics) {
            return graph;
        }
        let missing = std::mem::take(&mut remote.missing);
        let urls: Vec<String> = missing.iter().map(|it| it.0.clone()).collect();
        // The run's timeout covers fetching (LANGUAGE.md 9.10, 12.3): the host stops every
        // fetch in flight when the interrupt fires, and answers `Interrupted`. Each body
        // is parsed as it arrives, and the remote modules it imports are fetched at once.
        let mut arrivals = Arrivals::new(fs, options, parse, &remote.fetched, &missing);
        let answers = fetcher.fetch_discovering(
            &urls,
            &mut |url: &str, body: &[u8]| arrivals.arrived(url, body),
            &options.interrupt,
        );
        let (arrived, first) = (arrivals.parsed, arrivals.first);
        remote.arrived.extend(arrived);
        let mut answers: HashMap<String, Result<Vec<u8>, FetchError>> =
            answers.into_iter().collect();
        let mut stopped = None;
        for (url, site, _) in &missing {
            let answer = answers
                .remove(url)
                .unwrap_or_else(|| Err(FetchError::Failed("the host gave no answer".to_string())));
            if answer == Err(FetchError::Interrupted) && stopped.is_none() {
                stopped = Some(interrupt::cancelled(
                    &format!("fetching `{url}`"),
                    site.file,
                    site.span,
                ));
            }
            remote.fetched.insert(url.clone(), answer.map(Arc::from));
        }
        // A module found through another body, stopped: R3008 at the import this load
        // met first on its way (that module's own import has no file yet), naming it.
        let mut later: Vec<(String, Result<Vec<u8>, FetchError>)> = answers.into_iter().collect();
        later.sort_by(|a, b| a.0.cmp(&b.0));
        for (url, answer) in later {
            if answer == Err(FetchError::Interrupted) && stopped.is_none() {
                if let Some((_, site, _)) = first.get(&url).and_then(|at| missing.get(*at)) {
                    stopped = Some(interrupt::cancelled(
                        &format!("fetching `{url}`"),
                        site.file,
                        site.span,
                    ));
                }
            }
            remote.fetched.insert(url, answer.map(Arc::from));
        }
        if let Some(stopped) = stopped {
            // This load's files are still in `sources`: R3008 at the import whose fetch
            // was stopped, and nothing else (a load after it would stop at its first poll,
            // at the entry, hiding where the time went).
            graph.diagnostics = vec![stopped];
            return graph;
        }
        sources.truncate(base);
    }
}

/// What the loader does with each remote body as it arrives during a fetch
/// ([`Fetcher::fetch_discovering`]): parses it (the load takes the tree, see
/// [`Remote::arrived`]) and names the remote modules it imports that were not asked for.
/// Only which URLs are fetched depends on this; the graph is the next load's, in canonical
/// order, so nothing depends on the order in which bodies arrive.
struct Arrivals<'a, 'p> {
    resolver: Resolver<'a>,
    parse: &'a ParseFn<'p>,
    /// Every URL asked for so far (answered in an earlier round, or in this one).
    asked: std::collections::HashSet<String>,
    /// The root each URL of this round resolved in.
    roots: HashMap<String, Root>,
    /// For each URL of this round, the index in the load's missing URLs of the one whose
    /// body led to it.
    first: HashMap<String, usize>,
    parsed: HashMap<String, (Arc<str>, Arc<ast::Module>)>,
}

impl<'a, 'p> Arrivals<'a, 'p> {
    fn new(
        fs: &'a dyn FileSystem,
        options: &'a LoadOptions,
        parse: &'a ParseFn<'p>,
        fetched: &HashMap<String, Result<Arc<[u8]>, FetchError>>,
        missing: &[(String, FileSpan, Root)],
    ) -> Arrivals<'a, 'p> {
        let mut asked: std::collections::HashSet<String> = fetched.keys().cloned().collect();
        let mut roots = HashMap::new();
        let mut first = HashMap::new();
        for (at, (url, _, root)) in missing.iter().enumerate() {
            asked.insert(url.clone());
            roots.insert(url.clone(), root.clone());
            first.insert(url.clone(), at);
        }
        Arrivals {
            resolver: Resolver::new(fs, &options.register_roots),
            parse,
            asked,
            roots,
            first,
            parsed: HashMap::new(),
        }
    }

    /// Parses the body of `url` and answers the remote modules it imports, not asked yet.
    fn arrived(&mut self, url: &str, body: &[u8]) -> Vec<String> {
        let Some(root) = self.roots.get(url).cloned() else {
            return Vec::new();
        };
        // A body the load will refuse (M4008) imports nothing.
        let text = match std::str::from_utf8(body) {
            Ok(text) if body.len() as u64 <= remote::MAX_BODY_BYTES => text,
            _ => return Vec::new(),
        };
        let text: Arc<str> = Arc::from(text);
        let (module, diagnostics) = (self.parse)(url, ARRIVING, &text);
        let from = self.first.get(url).copied().unwrap_or(0);
        let mut more = Vec::new();
        for import in &module.imports {
            let Ok(target) = self.resolver.resolve(url, &root, &import.path) else {
                continue;
            };
            if matches!(target.root, Root::Remote(_)) && self.asked.insert(target.key.clone()) {
                self.roots.insert(target.key.clone(), target.root);
                self.first.insert(target.key.clone(), from);
                more.push(target.key);
            }
        }
        if diagnostics.is_empty() {
            self.parsed.insert(url.to_string(), (text, module));
        }
        more
    }
}

/// The file id of a remote module parsed as it arrives, before the load gives it one.
const ARRIVING: FileId = FileId(u32::MAX);

/// One depth-first load of the graph (remote modules from `remote.fetched`).
fn load_once(
    fs: &dyn FileSystem,
    sources: &mut SourceMap,
    entry: &str,
    options: &LoadOptions,
    parse: &ParseFn<'_>,
    remote: &mut Remote,
) -> ModuleGraph {
    let key = normalize(entry);
    let root = match &options.project_root {
        Some(root) => normalize(root),
        None if is_inside(&key, ".") => ".".to_string(),
        None => dir_of(&key).to_string(),
    };
    let mut loader = Loader {
        fs,
        sources,
        resolver: Resolver::new(fs, &options.register_roots),
        graph: ModuleGraph::default(),
        by_key: HashMap::new(),
        chain: Vec::new(),
        parse,
        poll: Poll::new(&options.interrupt),
        stopped: None,
        remote,
    };
    // The entry keeps the name it was given (so messages show the path the user typed).
    if let Some(idx) = loader.add_module(entry, key, Root::Project(root), None, None) {
        loader.graph.entry = Some(idx);
        loader.visit(idx);
    }
    let mut graph = loader.graph;
    if let Some(stopped) = loader.stopped {
        // Stopped: what was read is incomplete, and its errors are not the run's answer.
        graph.diagnostics = vec![stopped];
    }
    graph
}

impl Loader<'_> {
    /// Reads (or takes the fetched `text` of) and parses a module; `None` when it cannot
    /// be read (diagnostic recorded).
    fn add_module(
        &mut self,
        name: &str,
        key: String,
        root: Root,
        imported_at: Option<(usize, FileSpan)>,
        text: Option<String>,
    ) -> Option<usize> {
        if self.stopped.is_some() {
            return None;
        }
        let file = match text {
            Some(text) => self.sources.add(name, text),
            None => match read_source(self.fs, self.sources, name, imported_at.map(|it| it.1)) {
                Ok(file) => file,
                Err(diagnostic) => {
                    self.graph.diagnostics.push(diagnostic);
                    return None;
                }
            },
        };
        if self.poll.stop() {
            self.stopped = Some(interrupt::cancelled("loading", file, Span::default()));
            return None;
        }
        let text = self.sources.get(file).map(|it| it.text.clone())?;
        self.graph.source_bytes += text.len() as u64;
        let (module, diagnostics) = self.parse_module(&key, file, &text);
        if interrupt::is_cancelled(&diagnostics) {
            self.stopped = diagnostics.into_iter().find(|it| it.code == Code::R3008);
            return None;
        }
        self.graph.diagnostics.extend(diagnostics);
        let idx = self.graph.modules.len();
        self.graph.modules.push(LoadedModule {
            key: key.clone(),
            file,
            root,
            imports: vec![None; module.imports.len()],
            ast: module,
            imported_at,
        });
        self.by_key.insert(key, idx);
        Some(idx)
    }

    /// Parses a module, or takes an earlier load's parse of the same file.
    fn parse_module(
        &mut self,
        key: &str,
        file: FileId,
        text: &Arc<str>,
    ) -> (Arc<ast::Module>, Vec<Diagnostic>) {
        if !self.remote.fetches {
            return (self.parse)(key, file, text);
        }
        if let Some((was_file, was_text, module, diagnostics)) = self.remote.parsed.get(key) {
            if *was_file == file && was_text == text {
                return (module.clone(), diagnostics.clone());
            }
        }
        // Parsed as it arrived, without diagnostics: the tree names no file.
        let early = match self.remote.arrived.remove(key) {
            Some((was_text, module)) if was_text == *text => Some((module, Vec::new())),
            _ => None,
        };
        let (module, diagnostics) = early.unwrap_or_else(|| (self.parse)(key, file, text));
        let parse = (file, text.clone(), module.clone(), diagnostics.clone());
        self.remote.parsed.insert(key.to_string(), parse);
        (module, diagnostics)
    }

    /// The text of the remote module `key` imported at `site`: `Ok(None)` when it has not
    /// been fetched yet (it is then asked for after this load), `Err` with the diagnostic
    /// when it cannot be had.
    fn remote_text(
        &mut self,
        key: &str,
        site: FileSpan,
        root: &Root,
    ) -> Result<Option<String>, Diagnostic> {
        let failed = |reason: &str| {
            Diagnostic::new(
                Code::M4008,
                format!("cannot fetch `{key}`: {reason}"),
                site.file,
                site.span,
            )
        };
        if !self.remote.fetches {
            return Err(failed("this host does not fetch remote modules"));
        }
        let Some(answer) = self.remote.fetched.get(key) else {
            if !self.remote.missing.iter().any(|it| it.0 == key) {
                self.remote
                    .missing
                    .push((key.to_string(), site, root.clone()));
            }
            return Ok(None);
        };
        match answer {
            Ok(body) if body.len() as u64 > remote::MAX_BODY_BYTES => Err(failed(&format!(
                "the body is larger than {} bytes",
                remote::MAX_BODY_BYTES
            ))),
            Ok(body) => match std::str::from_utf8(body) {
                Ok(text) => Ok(Some(text.to_string())),
                Err(err) => Err(failed(&format!(
                    "the body is not valid UTF-8 (at byte {})",
                    err.valid_up_to()
                ))),
            },
            Err(FetchError::Failed(reason)) => Err(failed(reason)),
            Err(FetchError::Integrity(reason)) => Err(Diagnostic::new(
                Code::M4009,
                format!("`{key}` does not match `ligature.lock`: {reason}"),
                site.file,
                site.span,
            )),
            Err(FetchError::Interrupted) => Err(interrupt::cancelled(
                &format!("fetching `{key}`"),
                site.file,
                site.span,
            )),
        }
    }

    /// Loads the imports of `start` depth first, in written order, each module once, and
    /// records the canonical order (a module after its imports). Iterative, with the modules
    /// being visited and their next import on an explicit stack: a chain of imports as long
    /// as the project's is never limited by the host's stack (a few hundred frames in wasm).
    fn visit(&mut self, start: usize) {
        let mut stack = vec![(start, 0usize)];
        self.chain.push(start);
        while let Some(top) = stack.last_mut() {
            if self.stopped.is_some() {
                return;
            }
            let (idx, k) = *top;
            let n_imports = self.graph.modules.get(idx).map_or(0, |it| it.imports.len());
            if k >= n_imports {
                stack.pop();
                self.chain.pop();
                self.graph.order.push(idx);
                continue;
            }
            top.1 = k + 1;
            let Some((t, new)) = self.import(idx, k) else {
                continue;
            };
            if let Some(slot) = self
                .graph
                .modules
                .get_mut(idx)
                .and_then(|it| it.imports.get_mut(k))
            {
                *slot = Some(t);
            }
            if new {
                stack.push((t, 0));
                self.chain.push(t);
            }
        }
    }

    /// The module the `k`th import of module `idx` names, and whether it was just added
    /// (to be visited); `None` when it cannot be resolved or read, or closes a cycle
    /// (diagnostic recorded).
    fn import(&mut self, idx: usize, k: usize) -> Option<(usize, bool)> {
        let module = self.graph.modules.get(idx)?;
        let import = module.ast.imports.get(k)?;
        let site = import.path.span().in_file(module.file);
        let resolved = self
            .resolver
            .resolve(&module.key, &module.root, &import.path);
        let target = match resolved {
            Ok(target) => target,
            Err(err) => {
                let diagnostic = import_error(self.sources, err, site);
                self.graph.diagnostics.push(diagnostic);
                return None;
            }
        };
        if let Some(t) = self.by_key.get(&target.key).copied() {
            if let Some(pos) = self.chain.iter().position(|it| *it == t) {
                let mut keys: Vec<&str> = self
                    .chain
                    .get(pos..)
                    .unwrap_or(&[])
                    .iter()
                    .filter_map(|it| self.graph.modules.get(*it))
                    .map(|it| it.key.as_str())
                    .collect();
                keys.push(&target.key);
                let message = format!("import cycle: {}", keys.join(" → "));
                self.graph.diagnostics.push(
                    Diagnostic::new(Code::M4002, message, site.file, site.span)
                        .with_primary_message("this import closes the cycle"),
                );
                return None;
            }
            return Some((t, false));
        }
        let key = target.key.clone();
        let text = match target.root {
            Root::Remote(_) => match self.remote_text(&key, site, &target.root) {
                Ok(Some(text)) => Some(text),
                Ok(None) => return None,
                Err(diagnostic) if diagnostic.code == Code::R3008 => {
                    // Stopped while fetching: the load's only diagnostic.
                    self.stopped = Some(diagnostic);
                    return None;
                }
                Err(diagnostic) => {
                    self.graph.diagnostics.push(diagnostic);
                    return None;
                }
            },
            _ => None,
        };
        let t = self.add_module(&key, key.clone(), target.root, Some((idx, site)), text)?;
        Some((t, true))
    }
}

fn import_error(sources: &mut SourceMap, err: ImportError, site: FileSpan) -> Diagnostic {
    match err {
        ImportError::NotFound { path, candidates } => {
            let mut d = Diagnostic::new(
                Code::M4001,
                format!("cannot find the module {path}"),
                site.file,
                site.span,
            );
            if candidates.is_empty() {
                d = d.with_note("no register root is configured");
            } else {
                d = d.with_note(format!("tried: {}", candidates.join(", ")));
            }
            d
        }
        ImportError::InvalidPath { path, reason } => Diagnostic::new(
            Code::M4003,
            format!("invalid import path \"{path}\": {reason}"),
            site.file,
            site.span,
        ),
        ImportError::EscapesRoot {
            path,
            resolved,
            root,
        } => Diagnostic::new(
            Code::M4006,
            format!(
                "the import path \"{path}\" leaves its root `{root}` (it resolves to `{resolved}`)"
            ),
            site.file,
            site.span,
        )
        .with_note(if remote::is_remote(&root) {
            "a remote module's relative imports stay inside its remote root: the directory of the URL a local file imported"
        } else {
            "imports never read outside the project root and the register roots"
        }),
        ImportError::RemoteConfined { path, root } => Diagnostic::new(
            Code::M4006,
            format!("a remote module cannot import the register module {path} (its root is `{root}`)"),
            site.file,
            site.span,
        )
        .with_note("a remote module imports only remote modules and `std`; it never reaches local files or registers"),
        ImportError::InvalidManifest {
            manifest,
            text,
            error,
        } => {
            let file = sources.add(manifest.clone(), text);
            Diagnostic::new(
                Code::M4007,
                format!("invalid register manifest `{manifest}`: {}", error.message),
                file,
                error.span,
            )
            .with_label(site.file, site.span, "needed by this import")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::loader::MemoryFs;

    fn keys(graph: &ModuleGraph) -> Vec<&str> {
        graph
            .order
            .iter()
            .filter_map(|idx| graph.modules.get(*idx))
            .map(|it| it.key.as_str())
            .collect()
    }

    #[test]
    fn canonical_order_is_depth_first_in_written_order() {
        let fs = MemoryFs::new()
            .with_file("main.lig", "import \"./a\";\nimport \"./b\";\nlet m = 1;\n")
            .with_file(
                "a.lig",
                "import \"./c\";\nimport std.core as core;\nlet a = 1;\n",
            )
            .with_file("b.lig", "import \"./c\";\nimport \"./d\";\nlet b = 1;\n")
            .with_file("c.lig", "let c = 1;\n")
            .with_file("d.lig", "let d = 1;\n");
        let mut sources = SourceMap::default();
        let graph = load(&fs, &mut sources, "main.lig", &LoadOptions::default());
        assert!(graph.diagnostics.is_empty(), "{:?}", graph.diagnostics);
        assert_eq!(
            keys(&graph),
            [
                "c.lig",
                "<std>/core.lig",
                "a.lig",
                "d.lig",
                "b.lig",
                "main.lig"
            ]
        );
        // Each module is read once, however often it is imported.
        assert_eq!(graph.modules.len(), 6);
        assert_eq!(sources.len(), 6);
    }

    /// Module depth does not depend on the host's stack (issue 17: in wasm a chain of about
    /// 400 imports ran out of it): 20,000 modules, each importing the next, load on a
    /// thread of 256 KiB, in canonical order, the last first.
    #[test]
    fn a_long_chain_of_imports_loads_on_a_small_stack() {
        const N: usize = 20_000;
        let mut fs = MemoryFs::new().with_file("main.lig", "import \"./m1\" as m;\nlet x = m.x;\n");
        for i in 1..N {
            let text = if i + 1 == N {
                "export let x = 0;\n".to_string()
            } else {
                format!("import \"./m{}\" as m;\nexport let x = m.x + 1;\n", i + 1)
            };
            fs.insert(&format!("m{i}.lig"), text.into_bytes());
        }
        let loaded = std::thread::Builder::new()
            .stack_size(256 << 10)
            .spawn(move || {
                let mut sources = SourceMap::default();
                let graph = load(&fs, &mut sources, "main.lig", &LoadOptions::default());
                let first = keys(&graph).first().map(|it| it.to_string());
                (
                    graph.diagnostics.len(),
                    graph.modules.len(),
                    graph.order.len(),
                    first,
                )
            })
            .expect("spawns")
            .join()
            .expect("loads without overflowing");
        let last = format!("m{}.lig", N - 1);
        assert_eq!(loaded, (0, N, N, Some(last)));
    }

    #[test]
    fn a_cycle_names_every_module_on_it() {
        let fs = MemoryFs::new()
            .with_file("main.lig", "import \"./x/a\";\n")
            .with_file("x/a.lig", "import \"../y/b\";\n")
            .with_file("y/b.lig", "import \"../x/a.lig\";\n");
        let mut sources = SourceMap::default();
        let graph = load(&fs, &mut sources, "main.lig", &LoadOptions::default());
        let messages: Vec<&str> = graph
            .diagnostics
            .iter()
            .map(|d| d.message.as_str())
            .collect();
        assert_eq!(messages, ["import cycle: x/a.lig → y/b.lig → x/a.lig"]);
    }

    #[test]
    fn the_project_root_defaults_to_the_entry_directory_outside_the_working_directory() {
        let fs = MemoryFs::new()
            .with_file(
                "../proj/main.lig",
                "import \"./lib\";\nimport \"../other\";\n",
            )
            .with_file("../proj/lib.lig", "let l = 1;\n")
            .with_file("../other.lig", "let o = 1;\n");
        let mut sources = SourceMap::default();
        let graph = load(
            &fs,
            &mut sources,
            "../proj/main.lig",
            &LoadOptions::default(),
        );
        let codes: Vec<&str> = graph.diagnostics.iter().map(|d| d.code.as_str()).collect();
        assert_eq!(codes, ["M4006"]);
        assert_eq!(graph.modules.len(), 2);
    }

    /// A host that fetches from a map (and records each round), or, with `hang`, waits
    /// until the run's interrupt fires, as a server that never answers would make it.
    struct Hosted {
        fs: MemoryFs,
        bodies: HashMap<String, Vec<u8>>,
        rounds: std::sync::Mutex<Vec<Vec<String>>>,
        hang: bool,
    }

    impl FileSystem for Hosted {
        fn read(&self, path: &str) -> Result<Vec<u8>, FsError> {
            self.fs.read(path)
        }

        fn fetcher(&self) -> Option<&dyn Fetcher> {
            Some(self)
        }
    }

    impl Fetcher for Hosted {
        fn fetch_all(
            &self,
            urls: &[String],
            interrupt: &Interrupt,
        ) -> Vec<Result<Vec<u8>, FetchError>> {
            if let Ok(mut rounds) = self.rounds.lock() {
                rounds.push(urls.to_vec());
            }
            if self.hang {
                while !interrupt.fired() {
                    std::thread::sleep(std::time::Duration::from_millis(2));
                }
                return urls.iter().map(|_| Err(FetchError::Interrupted)).collect();
            }
            urls.iter()
                .map(|url| {
                    self.bodies
                        .get(url)
                        .cloned()
                        .ok_or_else(|| FetchError::Failed("status 404".to_string()))
                })
                .collect()
        }
    }

    fn hosted(hang: bool) -> Hosted {
        let mut bodies = HashMap::new();
        for (url, text) in [
            (
                "https://h/lib/a.lig",
                "import \"./sub/c.lig\" as c;\nexport let a = c.c;\n",
            ),
            ("https://h/lib/sub/c.lig", "export let c = 1;\n"),
            ("https://h/b.lig", "export let b = 2;\n"),
        ] {
            bodies.insert(url.to_string(), text.as_bytes().to_vec());
        }
        Hosted {
            fs: MemoryFs::new()
                .with_file(
                    "main.lig",
                    "import \"https://h/lib/a.lig\" as a;\nimport \"./local\";\nlet m = a.a;\n",
                )
                .with_file(
                    "local.lig",
                    "import \"https://h/b.lig\" as b;\nlet l = b.b;\n",
                ),
            bodies,
            rounds: Default::default(),
            hang,
        }
    }

    #[test]
    fn remote_modules_are_asked_for_a_round_at_a_time_and_keep_the_canonical_order() {
        let host = hosted(false);
        let mut sources = SourceMap::default();
        let graph = load(&host, &mut sources, "main.lig", &LoadOptions::default());
        assert!(graph.diagnostics.is_empty(), "{:?}", graph.diagnostics);
        assert_eq!(
            keys(&graph),
            [
                "https://h/lib/sub/c.lig",
                "https://h/lib/a.lig",
                "https://h/b.lig",
                "local.lig",
                "main.lig"
            ]
        );
        let rounds = host.rounds.lock().map(|it| it.clone()).unwrap_or_default();
        assert_eq!(
            rounds,
            [
                vec![
                    "https://h/lib/a.lig".to_string(),
                    "https://h/b.lig".to_string()
                ],
                vec!["https://h/lib/sub/c.lig".to_string()],
            ]
        );
        // Only the last load's files are kept: each module once.
        assert_eq!(sources.len(), 5);
    }

    #[test]
    fn a_deadline_stops_a_fetch_that_never_ends_with_r3008_at_its_import() {
        // The deadline on the host's clock, no flag: the path a library caller's
        // `timeout_ms` takes (the CLI's `--timeout` sets the flag).
        // A clock that advances a millisecond per read (the library reads no clock itself).
        let host = hosted(true);
        let reads = Arc::new(std::sync::atomic::AtomicU64::new(0));
        let clock = {
            let reads = reads.clone();
            Arc::new(move || reads.fetch_add(1, std::sync::atomic::Ordering::SeqCst) as f64)
        };
        let options = LoadOptions {
            interrupt: Interrupt::new(None, Some(interrupt::Deadline { clock, at_ms: 50.0 })),
            ..LoadOptions::default()
        };
        let mut sources = SourceMap::default();
        let graph = load(&host, &mut sources, "main.lig", &options);
        assert!(reads.load(std::sync::atomic::Ordering::SeqCst) >= 50);
        let messages: Vec<(&str, &str)> = graph
            .diagnostics
            .iter()
            .map(|d| (d.code.as_str(), d.message.as_str()))
            .collect();
        assert_eq!(
            messages,
            [(
                "R3008",
                "the run timed out or was cancelled while fetching `https://h/lib/a.lig`"
            )]
        );
        // One round was asked for, and nothing after the stop.
        assert_eq!(host.rounds.lock().map(|it| it.len()).unwrap_or(0), 1);
    }

    #[test]
    fn a_host_that_does_not_fetch_makes_remote_imports_m4008() {
        let host = hosted(false);
        let mut sources = SourceMap::default();
        let graph = load(&host.fs, &mut sources, "main.lig", &LoadOptions::default());
        let codes: Vec<&str> = graph.diagnostics.iter().map(|d| d.code.as_str()).collect();
        assert_eq!(codes, ["M4008", "M4008"]);
        assert!(graph.diagnostics[0]
            .message
            .contains("this host does not fetch remote modules"));
    }
}
