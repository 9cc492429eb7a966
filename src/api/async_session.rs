//! The async API (native only): [`AsyncSession`], whose requests are futures.
//!
//! A request is handed whole to the session's rayon pool ([`Par::spawn`](crate::par::Par::spawn))
//! and its future is completed from there through a oneshot channel, so the executor that
//! polls the future never runs the pipeline and never waits for it: a thousand requests in
//! flight cost a thousand channel ends, not a thousand threads. Any executor works (the
//! channel is `tokio::sync::oneshot`, which needs no tokio runtime).
//!
//! - **Dropping a future cancels its run.** Each request has a cancel flag (the request's
//!   own, else a new one); dropping the future before it completed sets it. A run already on
//!   the pool stops at its next poll, in any phase (`crate::interrupt`); a run still queued
//!   never starts. Setting the flag ([`Running::cancel_flag`]) stops the run too, and the
//!   future still answers (R3008).
//! - **Timeouts** are the request's (`EvalRequest::timeout_ms`, `EntryRequest`'s
//!   `Cancellation::timeout_ms`) on the session's [`Options::clock`], which the host must give
//!   (the library reads no clock): they count from the call that made the future, so time
//!   spent queued behind other requests is inside them (LANGUAGE.md 12.3), and end the run
//!   with R3008.
//! - **Edits.** [`AsyncSession::set_file`] and [`AsyncSession::remove_file`] lay files over
//!   the session's file system. A request sees the files as they were when it was made,
//!   whatever is edited while it runs; every request shares the session's caches.
//! - **Remote imports.** With an [`AsyncFetcher`] ([`AsyncSession::with_async_fetcher`]),
//!   fetching is async: the request alternates loads on the pool, each of which records
//!   the remote URLs the loader asked for and did not have yet, with one
//!   [`AsyncFetcher::fetch_all`] future per round on the executor, until a load asks for
//!   nothing new; then the request runs on the pool with every answer. A waiting fetch
//!   holds no pool worker. The rounds are the loader's own (each level of remote imports
//!   once), so answers and diagnostics are those of a `Fetcher`. These rounds go as the
//!   future is polled (futures are lazy); without a fetcher, the request starts at the
//!   call. Without an `AsyncFetcher`, the file system's synchronous
//!   [`Fetcher`](crate::loader::remote::Fetcher) fetches inside the run: a round then
//!   occupies that pool worker while it waits, never the executor's threads. Either way the
//!   request's cancel flag and deadline stop the fetches in flight (the fetcher is handed
//!   the request's `Interrupt`), and a dropped future drops its fetch. The CLI's HTTP
//!   fetcher (lock file, cache) lives in the binary, since the library does no I/O; a host
//!   brings its own fetcher.

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use super::{
    Cancellation, CheckOutput, EntryRequest, EvalOutput, EvalRequest, Options, Session, Stats,
    ValidateOutput, ValidateRequest,
};
use crate::diagnostic::{Code, Diagnostic, Severity};
use crate::interrupt::Interrupt;
use crate::loader::remote::{Answered, FetchError, Fetcher, WithFetcher};
use crate::loader::{normalize, FileSystem, FsError};
use crate::source::{FileId, SourceMap, Span};

/// A [`Session`] whose requests are futures (module docs). Cheap to clone: clones share
/// the session (pool, caches) and its edited files.
#[derive(Clone)]
pub struct AsyncSession {
    shared: Arc<Shared>,
    /// Fetches rounds of remote modules on the executor instead of through the file
    /// system's `Fetcher` on the pool.
    fetcher: Option<Arc<dyn AsyncFetcher>>,
}

struct Shared {
    session: Session,
    /// Files laid over the session's file system by `set_file` (`None`: removed). A request
    /// takes the current map (an `Arc`); an edit copies it only while a request holds it.
    edits: Mutex<Arc<Edits>>,
}

type Edits = BTreeMap<String, Option<Arc<[u8]>>>;

impl AsyncSession {
    /// A session over `fs` (see [`Session::new`]). Give [`Options::clock`] for timeouts.
    pub fn new(options: Options, fs: Arc<dyn FileSystem>) -> AsyncSession {
        AsyncSession::from_session(Session::new(options, fs))
    }

    pub fn from_session(session: Session) -> AsyncSession {
        AsyncSession {
            shared: Arc::new(Shared {
                session,
                edits: Mutex::default(),
            }),
            fetcher: None,
        }
    }

    /// The underlying session, for blocking calls (with the session's own file system,
    /// without the edits) and its counters.
    pub fn session(&self) -> &Session {
        &self.shared.session
    }

    /// The same session (pool, caches) over another file system, without edits: a host
    /// that answers each request from its own files (see [`Session::with_file_system`]).
    pub fn with_file_system(&self, fs: Arc<dyn FileSystem>) -> AsyncSession {
        AsyncSession {
            fetcher: self.fetcher.clone(),
            ..AsyncSession::from_session(self.shared.session.with_file_system(fs))
        }
    }

    /// Adds or replaces the file at `path` for the requests made from now on.
    pub fn set_file(&self, path: &str, contents: impl Into<Vec<u8>>) {
        let contents: Arc<[u8]> = Arc::from(contents.into());
        if let Ok(mut edits) = self.shared.edits.lock() {
            Arc::make_mut(&mut edits).insert(normalize(path), Some(contents));
        }
    }

    /// Removes the file at `path` for the requests made from now on; returns whether it
    /// existed.
    pub fn remove_file(&self, path: &str) -> bool {
        let existed = self.file_system().exists(path);
        if let Ok(mut edits) = self.shared.edits.lock() {
            Arc::make_mut(&mut edits).insert(normalize(path), None);
        }
        existed
    }

    /// The files a request made now sees.
    fn file_system(&self) -> Arc<dyn FileSystem> {
        let base = Arc::clone(&self.shared.session.fs);
        let edits = match self.shared.edits.lock() {
            Ok(edits) => Arc::clone(&edits),
            Err(_) => return base,
        };
        if edits.is_empty() {
            return base;
        }
        Arc::new(Edited { base, edits })
    }

    /// When the call was made on the session's clock, for a timeout that counts from it.
    fn started_ms(&self, cancellation: &Cancellation) -> Option<f64> {
        let clock = self.shared.session.options.clock.as_ref()?;
        cancellation.timeout_ms?;
        Some(cancellation.started_ms.unwrap_or_else(|| clock.now_ms()))
    }

    /// Fetches remote modules with `fetcher` instead of the file system's `Fetcher`: each
    /// round of URLs is a future that the executor awaiting the request drives, between
    /// loads on the pool (module docs).
    pub fn with_async_fetcher(mut self, fetcher: Arc<dyn AsyncFetcher>) -> AsyncSession {
        self.fetcher = Some(fetcher);
        self
    }

    /// [`Session::evaluate`] as a future (module docs): run on the pool, cancelled when
    /// dropped, within the request's timeout.
    pub fn evaluate(&self, mut request: EvalRequest) -> Running<EvalOutput> {
        let cancel = Arc::clone(request.cancel.get_or_insert_with(Arc::default));
        let mut cancellation = request.cancellation();
        cancellation.started_ms = self.started_ms(&cancellation);
        let entry = request.entry.clone();
        self.run(
            entry,
            cancel,
            cancellation.clone(),
            move |session| match cancellation.started_ms {
                Some(started) => session.evaluate_from(&request, started),
                None => session.evaluate(&request),
            },
        )
    }

    /// [`Session::typecheck_with`] as a future (module docs).
    pub fn typecheck(&self, mut request: EntryRequest) -> Running<CheckOutput> {
        let cancel = Arc::clone(request.cancellation.cancel.get_or_insert_with(Arc::default));
        request.cancellation.started_ms = self.started_ms(&request.cancellation);
        let (entry, cancellation) = (request.entry.clone(), request.cancellation.clone());
        self.run(entry, cancel, cancellation, move |session| {
            session.typecheck_with(&request)
        })
    }

    /// [`Session::validate`] as a future (module docs): the schema compiled (from the
    /// session's caches when it was before) and the document checked on the pool.
    pub fn validate(&self, mut request: ValidateRequest) -> Running<ValidateOutput> {
        let cancel = Arc::clone(request.cancellation.cancel.get_or_insert_with(Arc::default));
        request.cancellation.started_ms = self.started_ms(&request.cancellation);
        let (entry, cancellation) = (request.schema.clone(), request.cancellation.clone());
        self.run(entry, cancel, cancellation, move |session| {
            session.validate(&request)
        })
    }

    /// Runs `job` on the pool over the files a request made now sees; with an async
    /// fetcher, first the fetch rounds of `entry`'s remote imports (module docs).
    fn run<T: Answer>(
        &self,
        entry: String,
        cancel: Arc<AtomicBool>,
        cancellation: Cancellation,
        job: impl FnOnce(Session) -> T + Send + 'static,
    ) -> Running<T> {
        let fs = self.file_system();
        let shared = Arc::clone(&self.shared);
        let answer: BoxFuture<T> = match self.fetcher.clone() {
            None => {
                let session = shared.session.with_file_system(fs);
                let answer = on_pool(&shared.session, move || job(session));
                Box::pin(async move { answer.await.unwrap_or_else(|_| no_answer()) })
            }
            Some(fetcher) => Box::pin(async move {
                let fetched = fetch_rounds(&shared, &fs, &*fetcher, entry, cancellation).await;
                let files = Arc::new(prefetched(fs, fetched));
                let session = shared.session.with_file_system(files);
                let answer = on_pool(&shared.session, move || job(session));
                answer.await.unwrap_or_else(|_| no_answer())
            }),
        };
        Running {
            answer,
            cancel,
            done: false,
        }
    }
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

/// The answers of a request's fetch rounds, by URL.
type Fetched = crate::loader::remote::Answers;

/// The request's files with the fetch rounds' answers: a URL answered before is answered
/// again; any other is recorded as asked and answered "not fetched by the host" (the
/// round's load is only for finding the URLs; its diagnostics are not used).
fn prefetched(base: Arc<dyn FileSystem>, fetched: Fetched) -> WithFetcher<Answered> {
    WithFetcher {
        base,
        fetcher: Answered::new(fetched),
    }
}

/// The async fetching of a request: load `entry` on the pool over the answers so far, which
/// records the URLs the loader asked for and did not have; fetch those on the executor;
/// repeat until a load asks for nothing new (or the run is stopped: its final run then
/// answers R3008). Each round is the loader's next level of remote imports, as the loader
/// would have asked them of a `Fetcher`.
async fn fetch_rounds(
    shared: &Arc<Shared>,
    fs: &Arc<dyn FileSystem>,
    fetcher: &dyn AsyncFetcher,
    entry: String,
    cancellation: Cancellation,
) -> Fetched {
    let interrupt = shared.session.interrupt(&cancellation);
    let mut fetched = Fetched::new();
    loop {
        let files = Arc::new(prefetched(Arc::clone(fs), fetched));
        let session = shared
            .session
            .with_file_system(Arc::clone(&files) as Arc<dyn FileSystem>);
        let request = EntryRequest {
            entry: entry.clone(),
            cancellation: cancellation.clone(),
        };
        let loaded = on_pool(&shared.session, move || {
            session.load_only_with(&request);
        });
        let stopped = loaded.await.is_err() || interrupt.fired();
        let (answers, asked) = match Arc::try_unwrap(files) {
            Ok(files) => files.fetcher.into_parts(),
            Err(files) => (files.fetcher.answers().clone(), files.fetcher.misses()),
        };
        fetched = answers;
        if stopped || asked.is_empty() {
            return fetched;
        }
        let answers = fetcher.fetch_all(asked.clone(), interrupt.clone()).await;
        let mut answers = answers.into_iter();
        for url in asked {
            let answer = answers
                .next()
                .unwrap_or_else(|| Err(FetchError::Failed("the fetcher gave no answer".into())));
            fetched.insert(url, answer);
        }
    }
}

/// Runs `job` on the session's pool unless the receiver is dropped by then. A panic (a
/// bug: nothing panics on user input) drops the sender, which the receiver sees as an
/// error, instead of taking the pool down.
fn on_pool<R: Send + 'static>(
    session: &Session,
    job: impl FnOnce() -> R + Send + 'static,
) -> tokio::sync::oneshot::Receiver<R> {
    let (sender, receiver) = tokio::sync::oneshot::channel();
    session.par.spawn(move || {
        // A dropped future: nobody waits for the answer. (A set flag with the future
        // still awaited runs, and its first poll answers R3008.)
        if sender.is_closed() {
            return;
        }
        let job = std::panic::AssertUnwindSafe(job);
        if let Ok(answer) = std::panic::catch_unwind(job) {
            let _ = sender.send(answer);
        }
    });
    receiver
}

fn no_answer<T: Answer>() -> T {
    T::internal_error("the request's run ended without an answer (a bug)")
}

/// The future of one [`AsyncFetcher::fetch_all`]: the answers in the order of the URLs.
pub type FetchRound = Pin<Box<dyn Future<Output = Vec<Result<Vec<u8>, FetchError>>> + Send>>;

/// Fetches a round of remote modules without blocking: the async counterpart of the
/// loader's [`Fetcher`], for [`AsyncSession::with_async_fetcher`].
pub trait AsyncFetcher: Send + Sync {
    /// The bodies of `urls` (normalised remote paths, each once), in the same order, each
    /// answer independent of the others; the implementation may fetch them concurrently.
    /// `interrupt` is the request's: once it fires ([`Interrupt::fired`]: its flag, or its
    /// deadline on the session's clock), stop waiting and answer
    /// [`FetchError::Interrupted`] for what is not there. A dropped request drops this
    /// future.
    fn fetch_all(&self, urls: Vec<String>, interrupt: Interrupt) -> FetchRound;
}

/// The future of one request of an [`AsyncSession`]: resolves to the request's output;
/// dropped before that, it cancels the run.
#[must_use = "a request's future does nothing useful unless awaited, and dropping it cancels the run"]
pub struct Running<T> {
    answer: BoxFuture<T>,
    cancel: Arc<AtomicBool>,
    done: bool,
}

impl<T> Running<T> {
    /// The run's cancel flag: setting it stops the run with R3008 (as dropping the future
    /// does, but the future still resolves).
    pub fn cancel_flag(&self) -> &Arc<AtomicBool> {
        &self.cancel
    }
}

impl<T: Answer> Future for Running<T> {
    type Output = T;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        let this = &mut *self;
        match this.answer.as_mut().poll(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(answer) => {
                this.done = true;
                Poll::Ready(answer)
            }
        }
    }
}

impl<T> Drop for Running<T> {
    fn drop(&mut self) {
        if !self.done {
            self.cancel.store(true, Ordering::Relaxed);
        }
    }
}

/// An output that can carry an internal error (sealed: the outputs of this module).
pub trait Answer: Send + 'static + sealed::Sealed {
    #[doc(hidden)]
    fn internal_error(message: &str) -> Self;
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for super::EvalOutput {}
    impl Sealed for super::CheckOutput {}
    impl Sealed for super::ValidateOutput {}
}

fn internal_error(message: &str) -> Vec<Diagnostic> {
    let mut diagnostic = Diagnostic::new(Code::R3005, message, FileId::default(), Span::default());
    diagnostic.severity = Severity::Bug;
    vec![diagnostic]
}

impl Answer for EvalOutput {
    fn internal_error(message: &str) -> EvalOutput {
        EvalOutput {
            text: None,
            diagnostics: internal_error(message),
            sources: Arc::new(SourceMap::default()),
            stats: Stats::default(),
        }
    }
}

impl Answer for CheckOutput {
    fn internal_error(message: &str) -> CheckOutput {
        CheckOutput {
            types: Vec::new(),
            diagnostics: internal_error(message),
            sources: Arc::new(SourceMap::default()),
            stats: Stats::default(),
        }
    }
}

impl Answer for ValidateOutput {
    fn internal_error(message: &str) -> ValidateOutput {
        ValidateOutput {
            ok: false,
            errors: Vec::new(),
            diagnostics: internal_error(message),
            sources: Arc::new(SourceMap::default()),
        }
    }
}

/// The session's file system with the edits laid over it.
struct Edited {
    base: Arc<dyn FileSystem>,
    edits: Arc<Edits>,
}

impl FileSystem for Edited {
    fn read(&self, path: &str) -> Result<Vec<u8>, FsError> {
        match self.edits.get(&normalize(path)) {
            Some(Some(contents)) => Ok(contents.to_vec()),
            Some(None) => Err(FsError::NotFound),
            None => self.base.read(path),
        }
    }

    fn exists(&self, path: &str) -> bool {
        match self.edits.get(&normalize(path)) {
            Some(edit) => edit.is_some(),
            None => self.base.exists(path),
        }
    }

    fn is_dir(&self, path: &str) -> bool {
        if self.base.is_dir(path) {
            return true;
        }
        let dir = normalize(path);
        let prefix = if dir == "." {
            String::new()
        } else {
            format!("{dir}/")
        };
        self.edits
            .range(prefix.clone()..)
            .take_while(|(key, _)| key.starts_with(&prefix))
            .any(|(_, edit)| edit.is_some())
    }

    fn resolve_links(&self, path: &str) -> Option<String> {
        match self.edits.get(&normalize(path)) {
            Some(_) => None,
            None => self.base.resolve_links(path),
        }
    }

    fn fetcher(&self) -> Option<&dyn Fetcher> {
        self.base.fetcher()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn futures_and_sessions_cross_threads() {
        fn send_sync<T: Send + Sync>() {}
        fn send<T: Send>() {}
        send_sync::<AsyncSession>();
        send::<Running<EvalOutput>>();
        send::<Running<CheckOutput>>();
        send::<Running<ValidateOutput>>();
    }

    #[test]
    fn edits_lie_over_the_base_files() {
        let base = crate::loader::MemoryFs::new()
            .with_file("a.lig", "1")
            .with_file("dir/b.lig", "2");
        let session = AsyncSession::new(Options::default(), Arc::new(base));
        session.set_file("./c.lig", "3");
        assert!(session.remove_file("dir/b.lig"));
        assert!(!session.remove_file("nowhere.lig"));
        let fs = session.file_system();
        assert_eq!(fs.read("a.lig"), Ok(b"1".to_vec()));
        assert_eq!(fs.read("c.lig"), Ok(b"3".to_vec()));
        assert_eq!(fs.read("dir/b.lig"), Err(FsError::NotFound));
        assert!(!fs.exists("dir/b.lig"));
        assert!(fs.is_dir("."));
    }
}
