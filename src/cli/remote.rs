//! Fetching remote modules for the CLI (LANGUAGE.md 9.10): HTTP, the lock file, the cache.
//!
//! [`HttpFetcher`] is the loader's [`Fetcher`]: the loader asks for the URLs its load is
//! missing, and this fetches them concurrently (at most `--fetch-jobs` at once, default
//! [`DEFAULT_FETCH_JOBS`]; `--async` names this default mode) with reqwest over rustls on a
//! current-thread tokio runtime made on first use (a run without remote imports never
//! starts it). Each body goes to the loader as it arrives (`fetch_discovering`), which
//! parses it and names the remote modules it imports; those start at once, so the whole
//! graph is one fetch rather than a round per level. For each URL:
//!
//! 1. pinned in `ligature.lock` and in the cache with that hash: the cached body, no fetch
//!    (a cache file whose hash differs is corrupt: it is ignored and fetched again);
//! 2. `--offline`: M4008; unpinned under `--frozen`: M4009;
//! 3. fetched (status 200 only, at most 5 redirects, each to `https:` or to the same
//!    loopback origin, at most 16 MiB read), then checked against its pin (M4009) or pinned;
//!    the body is written to the cache (temporary file and rename, so concurrent runs only
//!    ever see whole files).
//!
//! After a fetch that pinned new URLs, the lock file is written again (never with
//! `--frozen`): read afresh, the new pins added, written to a temporary file and renamed.
//! The run's interrupt (its cancel flag, `--timeout`, or a library caller's deadline) stops
//! every fetch in flight: the loader then reports R3008 and nothing else.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use ligature::interrupt::Interrupt;
use ligature::loader::remote::{self as lremote, FetchError, Fetcher};
use sha2::{Digest, Sha256};

/// Fetches in flight at once by default (`--fetch-jobs`).
pub const DEFAULT_FETCH_JOBS: u32 = 16;

/// The lock file's name, at the project root.
pub const LOCK_FILE: &str = "ligature.lock";

/// How remote modules are had: the CLI's `--fetch-jobs`, `--frozen` and `--offline`.
#[derive(Clone, Debug)]
pub struct FetchOptions {
    pub jobs: usize,
    pub frozen: bool,
    pub offline: bool,
    /// `ligature.lock`'s path.
    pub lock: PathBuf,
    /// The cache directory (`None`: no cache).
    pub cache: Option<PathBuf>,
    /// The bar that fetches advance (hidden unless stderr is a terminal: [`progress_bar`]).
    pub progress: indicatif::ProgressBar,
}

/// A progress bar on stderr when it is a terminal, else a hidden one. Drawn only once a
/// fetch starts: a run without remote imports, or with all of them cached, shows nothing.
pub fn progress_bar() -> indicatif::ProgressBar {
    use std::io::IsTerminal;
    if !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let bar =
        indicatif::ProgressBar::with_draw_target(Some(0), indicatif::ProgressDrawTarget::stderr());
    if let Ok(style) =
        indicatif::ProgressStyle::with_template("fetching {bar:30} {pos}/{len} {wide_msg}")
    {
        bar.set_style(style);
    }
    bar
}

/// Clears the bar if it was drawn (the run is over).
pub fn finish_progress(bar: &indicatif::ProgressBar) {
    if bar.length().unwrap_or(0) > 0 {
        bar.finish_and_clear();
    }
}

/// How a run's remote modules were had, for `ligature fetch`'s summary.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FetchCounts {
    /// Remote modules asked for (each URL once).
    pub modules: usize,
    /// Fetched over the network, with a body that passed the pin check.
    pub fetched: usize,
    /// Taken from the cache (pinned, and intact there).
    pub from_cache: usize,
    /// Pins this run added to the lock file.
    pub pinned: usize,
}

/// The cache directory: `$LIGATURE_CACHE_DIR`, else `$XDG_CACHE_HOME/ligature`, else
/// `~/.cache/ligature`.
pub fn cache_dir() -> Option<PathBuf> {
    let var = |name: &str| std::env::var_os(name).filter(|it| !it.is_empty());
    if let Some(dir) = var("LIGATURE_CACHE_DIR") {
        return Some(PathBuf::from(dir));
    }
    if let Some(dir) = var("XDG_CACHE_HOME") {
        return Some(PathBuf::from(dir).join("ligature"));
    }
    var("HOME").map(|home| PathBuf::from(home).join(".cache").join("ligature"))
}

/// `sha256-<64 lowercase hex digits>` of `bytes`.
pub fn pin_of(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    let mut text = String::with_capacity(7 + 64);
    text.push_str("sha256-");
    for byte in digest {
        text.push_str(&format!("{byte:02x}"));
    }
    text
}

fn is_pin(text: &str) -> bool {
    text.strip_prefix("sha256-").is_some_and(|hex| {
        hex.len() == 64
            && hex
                .bytes()
                .all(|it| it.is_ascii_digit() || (b'a'..=b'f').contains(&it))
    })
}

/// Reads a lock file: `Ok(empty)` when there is none, `Err` when it is not a valid one.
pub fn read_lock(path: &Path) -> Result<BTreeMap<String, String>, String> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(BTreeMap::new()),
        Err(err) => return Err(err.to_string()),
    };
    let table: toml::Table = text
        .parse()
        .map_err(|err: toml::de::Error| err.message().to_string())?;
    let mut pins = BTreeMap::new();
    match table.get("remote") {
        None => {}
        Some(toml::Value::Table(remote)) => {
            for (url, pin) in remote {
                match pin.as_str() {
                    Some(pin) if is_pin(pin) => {
                        pins.insert(url.clone(), pin.to_string());
                    }
                    _ => {
                        return Err(format!(
                            "the pin of `{url}` is not \"sha256-<64 lowercase hex digits>\""
                        ))
                    }
                }
            }
        }
        Some(_) => return Err("`remote` is not a table".to_string()),
    }
    Ok(pins)
}

/// The text of a lock file with `pins`, sorted by URL.
fn lock_text(pins: &BTreeMap<String, String>) -> String {
    let mut text = String::from(
        "# Pins of remote modules (LANGUAGE.md 9.10), written by ligature. Keep it under version control.\n[remote]\n",
    );
    for (url, pin) in pins {
        text.push('"');
        for ch in url.chars() {
            match ch {
                '"' => text.push_str("\\\""),
                '\\' => text.push_str("\\\\"),
                ch => text.push(ch),
            }
        }
        text.push_str("\" = \"");
        text.push_str(pin);
        text.push_str("\"\n");
    }
    text
}

/// Writes `bytes` to `path` through a temporary file in the same directory and a rename,
/// so that readers see the old file or the new one, never a part.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let dir = path.parent().filter(|it| !it.as_os_str().is_empty());
    if let Some(dir) = dir {
        std::fs::create_dir_all(dir)?;
    }
    let name = path
        .file_name()
        .map_or_else(Default::default, |it| it.to_os_string());
    let mut tmp_name = std::ffi::OsString::from(".");
    tmp_name.push(&name);
    tmp_name.push(format!(
        ".tmp-{}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    let tmp = match dir {
        Some(dir) => dir.join(tmp_name),
        None => PathBuf::from(tmp_name),
    };
    let res = std::fs::write(&tmp, bytes).and_then(|()| std::fs::rename(&tmp, path));
    if res.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    res
}

/// The loader's fetcher for the CLI (module docs).
pub struct HttpFetcher {
    options: FetchOptions,
    /// The lock file's pins, read on first use (`Err`: the file is invalid).
    pins: OnceLock<Result<BTreeMap<String, String>, String>>,
    /// Pins added by this run (written after each fetch that adds some).
    added: Mutex<BTreeMap<String, String>>,
    runtime: OnceLock<Result<(tokio::runtime::Runtime, reqwest::Client), String>>,
    counts: Mutex<FetchCounts>,
}

impl HttpFetcher {
    pub fn new(options: FetchOptions) -> HttpFetcher {
        HttpFetcher {
            options,
            pins: OnceLock::new(),
            added: Mutex::new(BTreeMap::new()),
            runtime: OnceLock::new(),
            counts: Mutex::default(),
        }
    }

    /// What this fetcher has done so far.
    pub fn counts(&self) -> FetchCounts {
        self.counts.lock().map(|it| *it).unwrap_or_default()
    }

    fn count(&self, add: impl FnOnce(&mut FetchCounts)) {
        if let Ok(mut counts) = self.counts.lock() {
            add(&mut counts);
        }
    }

    fn cache_path(&self, pin: &str) -> Option<PathBuf> {
        self.options
            .cache
            .as_ref()
            .map(|dir| dir.join("remote").join(format!("{pin}.lig")))
    }

    /// The cached body of `pin`, when the cache holds an intact one.
    fn cached(&self, pin: &str) -> Option<Vec<u8>> {
        let bytes = std::fs::read(self.cache_path(pin)?).ok()?;
        (pin_of(&bytes) == pin).then_some(bytes)
    }

    fn pin_in_lock(&self, url: &str) -> Result<Option<String>, String> {
        let pins = self
            .pins
            .get_or_init(|| read_lock(&self.options.lock))
            .as_ref()
            .map_err(|err| format!("`{}` is not a valid lock file: {err}", LOCK_FILE))?;
        Ok(pins.get(url).cloned())
    }

    /// What the lock and the cache answer for `url` before any fetch: `Some` answer, or
    /// `None` to fetch it (with its pin, if any).
    fn before_fetch(&self, url: &str) -> Result<Option<Vec<u8>>, FetchError> {
        let pin = self.pin_in_lock(url).map_err(FetchError::Integrity)?;
        if let Some(body) = pin.as_deref().and_then(|pin| self.cached(pin)) {
            self.count(|it| it.from_cache += 1);
            return Ok(Some(body));
        }
        if self.options.offline {
            let reason = if pin.is_some() {
                "it is not in the cache, and the run is offline (--offline)"
            } else {
                "it is not pinned in `ligature.lock`, and the run is offline (--offline)"
            };
            return Err(FetchError::Failed(reason.to_string()));
        }
        if pin.is_none() && self.options.frozen {
            return Err(FetchError::Integrity(
                "it is not pinned, and the lock is frozen (--frozen)".to_string(),
            ));
        }
        Ok(None)
    }

    /// Checks a fetched body against its pin, pins it if it had none, caches it.
    fn after_fetch(&self, url: &str, body: Vec<u8>) -> Result<Vec<u8>, FetchError> {
        let pin = pin_of(&body);
        match self.pin_in_lock(url).map_err(FetchError::Integrity)? {
            Some(want) if want != pin => {
                return Err(FetchError::Integrity(format!(
                    "its body has {pin}, the lock pins {want}"
                )))
            }
            Some(_) => {}
            None => {
                if let Ok(mut added) = self.added.lock() {
                    added.insert(url.to_string(), pin.clone());
                }
            }
        }
        if let Some(path) = self.cache_path(&pin) {
            // A cache that cannot be written only costs a fetch next time.
            let _ = write_atomically(&path, &body);
        }
        self.count(|it| it.fetched += 1);
        Ok(body)
    }

    /// Adds this run's new pins to the lock file (read afresh: another run may have
    /// written it meanwhile).
    fn write_lock(&self) {
        if self.options.frozen {
            return;
        }
        let Ok(mut added) = self.added.lock() else {
            return;
        };
        if added.is_empty() {
            return;
        }
        let Ok(mut pins) = read_lock(&self.options.lock) else {
            return;
        };
        let before = pins.len();
        for (url, pin) in added.iter() {
            pins.entry(url.clone()).or_insert_with(|| pin.clone());
        }
        if pins.len() != before
            && write_atomically(&self.options.lock, lock_text(&pins).as_bytes()).is_ok()
        {
            self.count(|it| it.pinned += pins.len() - before);
        }
        added.clear();
    }

    fn runtime(&self) -> Result<&(tokio::runtime::Runtime, reqwest::Client), String> {
        self.runtime
            .get_or_init(|| {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_io()
                    .enable_time()
                    .build()
                    .map_err(|err| err.to_string())?;
                let client = reqwest::Client::builder()
                    .redirect(reqwest::redirect::Policy::custom(redirect))
                    .connect_timeout(Duration::from_secs(30))
                    .user_agent(concat!("ligature/", env!("CARGO_PKG_VERSION")))
                    .build()
                    .map_err(|err| error_chain(&err))?;
                Ok((runtime, client))
            })
            .as_ref()
            .map_err(Clone::clone)
    }

    /// Fetches `urls` concurrently, at most `jobs` at once; the answers in order.
    fn fetch_bodies(
        &self,
        urls: &[String],
        interrupt: &Interrupt,
    ) -> Vec<Result<Vec<u8>, FetchError>> {
        if urls.is_empty() {
            return Vec::new();
        }
        let (runtime, client) = match self.runtime() {
            Ok(it) => it,
            Err(err) => {
                let reason = format!("cannot start the HTTP client: {err}");
                return urls
                    .iter()
                    .map(|_| Err(FetchError::Failed(reason.clone())))
                    .collect();
            }
        };
        let permits = Arc::new(tokio::sync::Semaphore::new(self.options.jobs.max(1)));
        let bar = &self.options.progress;
        bar.inc_length(urls.len() as u64);
        runtime.block_on(async {
            let mut tasks = tokio::task::JoinSet::new();
            for (idx, url) in urls.iter().enumerate() {
                let (client, url, permits) = (client.clone(), url.clone(), permits.clone());
                let interrupt = interrupt.clone();
                tasks.spawn(async move {
                    (
                        idx,
                        fetch_bounded(&client, &url, &permits, &interrupt).await,
                    )
                });
            }
            let mut answers: Vec<Result<Vec<u8>, FetchError>> = urls
                .iter()
                .map(|_| Err(FetchError::Failed("the fetch did not finish".to_string())))
                .collect();
            while let Some(done) = tasks.join_next().await {
                bar.inc(1);
                if let Ok((idx, res)) = done {
                    if let Some(url) = urls.get(idx) {
                        bar.set_message(url.clone());
                    }
                    if let Some(slot) = answers.get_mut(idx) {
                        *slot = res;
                    }
                }
            }
            answers
        })
    }
}

/// A fetch task's answer: the URL and what the network gave.
type Fetched = (String, Result<Vec<u8>, FetchError>);

impl HttpFetcher {
    /// Answers from the lock and the cache every URL of `queue` that needs no fetch (and
    /// the URLs their bodies import, through `discover`), into `out`; the others go to
    /// `to_fetch`.
    fn answer_local(
        &self,
        queue: &mut Vec<String>,
        out: &mut Vec<Fetched>,
        to_fetch: &mut Vec<String>,
        discover: &mut lremote::Discover<'_>,
        interrupt: &Interrupt,
    ) {
        while let Some(url) = queue.pop() {
            self.count(|it| it.modules += 1);
            if interrupt.fired() {
                out.push((url, Err(FetchError::Interrupted)));
                continue;
            }
            match self.before_fetch(&url) {
                Ok(None) => to_fetch.push(url),
                Ok(Some(body)) => {
                    let mut more = discover(&url, &body);
                    more.reverse();
                    queue.extend(more);
                    out.push((url, Ok(body)));
                }
                Err(err) => out.push((url, Err(err))),
            }
        }
    }
}

impl Fetcher for HttpFetcher {
    /// One fetch for the whole graph: each body is handed to `discover` as it arrives (the
    /// loader parses it), and the modules it imports start fetching at once, at most
    /// `jobs` in flight.
    fn fetch_discovering(
        &self,
        urls: &[String],
        discover: &mut lremote::Discover<'_>,
        interrupt: &Interrupt,
    ) -> Vec<Fetched> {
        let mut out = Vec::new();
        let mut queue: Vec<String> = urls.iter().rev().cloned().collect();
        let mut to_fetch = Vec::new();
        self.answer_local(&mut queue, &mut out, &mut to_fetch, discover, interrupt);
        if to_fetch.is_empty() {
            self.write_lock();
            return out;
        }
        let (runtime, client) = match self.runtime() {
            Ok(it) => it,
            Err(err) => {
                let reason = format!("cannot start the HTTP client: {err}");
                out.extend(
                    to_fetch
                        .into_iter()
                        .map(|url| (url, Err(FetchError::Failed(reason.clone())))),
                );
                return out;
            }
        };
        let permits = Arc::new(tokio::sync::Semaphore::new(self.options.jobs.max(1)));
        let bar = &self.options.progress;
        runtime.block_on(async {
            let mut tasks = tokio::task::JoinSet::new();
            loop {
                bar.inc_length(to_fetch.len() as u64);
                for url in to_fetch.drain(..) {
                    let (client, permits) = (client.clone(), permits.clone());
                    let interrupt = interrupt.clone();
                    tasks.spawn(async move {
                        let res = fetch_bounded(&client, &url, &permits, &interrupt).await;
                        (url, res)
                    });
                }
                let Some(done) = tasks.join_next().await else {
                    break;
                };
                bar.inc(1);
                let Ok((url, res)) = done else {
                    continue;
                };
                bar.set_message(url.clone());
                let answer = res.and_then(|body| self.after_fetch(&url, body));
                if let Ok(body) = &answer {
                    let mut more = discover(&url, body);
                    more.reverse();
                    queue.extend(more);
                    self.answer_local(&mut queue, &mut out, &mut to_fetch, discover, interrupt);
                }
                out.push((url, answer));
            }
        });
        self.write_lock();
        out
    }

    fn fetch_all(
        &self,
        urls: &[String],
        interrupt: &Interrupt,
    ) -> Vec<Result<Vec<u8>, FetchError>> {
        self.count(|it| it.modules += urls.len());
        let mut answers: Vec<Option<Result<Vec<u8>, FetchError>>> = Vec::new();
        let mut to_fetch = Vec::new();
        for url in urls {
            if interrupt.fired() {
                answers.push(Some(Err(FetchError::Interrupted)));
                continue;
            }
            match self.before_fetch(url) {
                Ok(None) => {
                    to_fetch.push(url.clone());
                    answers.push(None);
                }
                Ok(Some(body)) => answers.push(Some(Ok(body))),
                Err(err) => answers.push(Some(Err(err))),
            }
        }
        let mut fetched = self.fetch_bodies(&to_fetch, interrupt).into_iter();
        let mut names = to_fetch.iter();
        let res = answers
            .into_iter()
            .map(|answer| match answer {
                Some(answer) => answer,
                None => {
                    let url = names.next().map_or("", String::as_str);
                    match fetched.next() {
                        Some(Ok(body)) => self.after_fetch(url, body),
                        Some(Err(err)) => Err(err),
                        None => Err(FetchError::Failed("no answer".to_string())),
                    }
                }
            })
            .collect();
        self.write_lock();
        res
    }
}

/// Resolves once the run's interrupt fires (polled every 5 ms: its flag and its deadline
/// on the host's clock; the library reads no clock of its own).
/// One fetch once a permit is free (at most `--fetch-jobs` run at once), given up when the
/// run's interrupt fires.
async fn fetch_bounded(
    client: &reqwest::Client,
    url: &str,
    permits: &tokio::sync::Semaphore,
    interrupt: &Interrupt,
) -> Result<Vec<u8>, FetchError> {
    let fetch = async {
        let _permit = permits
            .acquire()
            .await
            .map_err(|err| FetchError::Failed(err.to_string()))?;
        fetch_one(client, url).await.map_err(FetchError::Failed)
    };
    tokio::select! {
        res = fetch => res,
        () = fired(interrupt) => Err(FetchError::Interrupted),
    }
}

async fn fired(interrupt: &Interrupt) {
    if interrupt.is_none() {
        return std::future::pending().await;
    }
    while !interrupt.fired() {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// The redirect rule: at most 5, each to `https:` or to the same loopback origin.
fn redirect(attempt: reqwest::redirect::Attempt<'_>) -> reqwest::redirect::Action {
    if attempt.previous().len() > lremote::MAX_REDIRECTS {
        return attempt.error(format!("more than {} redirects", lremote::MAX_REDIRECTS));
    }
    let url = attempt.url();
    if url.scheme() == "https" {
        return attempt.follow();
    }
    let same_loopback = attempt.previous().last().is_some_and(|from| {
        from.origin() == url.origin()
            && lremote::is_loopback(&url.host_str().unwrap_or("").to_ascii_lowercase())
    });
    if same_loopback {
        return attempt.follow();
    }
    let to = url.to_string();
    attempt.error(format!(
        "a redirect to `{to}`, which is neither `https:` nor the same loopback origin"
    ))
}

/// The error with its causes (`error sending request: connection refused`).
fn error_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        let more = cause.to_string();
        if !text.contains(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        source = cause.source();
    }
    text
}

/// One GET: status 200 only, the body read up to the size bound.
async fn fetch_one(client: &reqwest::Client, url: &str) -> Result<Vec<u8>, String> {
    let mut response = client
        .get(url)
        .send()
        .await
        .map_err(|err| error_chain(&err))?;
    let status = response.status();
    if status != reqwest::StatusCode::OK {
        return Err(format!("the server answered with status {status}"));
    }
    let too_big = || format!("the body is larger than {} bytes", lremote::MAX_BODY_BYTES);
    if response
        .content_length()
        .is_some_and(|it| it > lremote::MAX_BODY_BYTES)
    {
        return Err(too_big());
    }
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|err| format!("reading the body failed: {}", error_chain(&err)))?
    {
        if (body.len() + chunk.len()) as u64 > lremote::MAX_BODY_BYTES {
            return Err(too_big());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pins_are_sha256_in_lowercase_hex() {
        assert_eq!(
            pin_of(b""),
            "sha256-e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert!(is_pin(&pin_of(b"x")));
        assert!(!is_pin("sha256-ABC"));
    }

    #[test]
    fn lock_text_reads_back() {
        let mut pins = BTreeMap::new();
        pins.insert("https://h/a\".lig".to_string(), pin_of(b"a"));
        pins.insert("http://127.0.0.1:1/b.lig".to_string(), pin_of(b"b"));
        let dir = std::env::temp_dir().join(format!("ligature-lock-{}", std::process::id()));
        let path = dir.join(LOCK_FILE);
        write_atomically(&path, lock_text(&pins).as_bytes()).expect("writes");
        assert_eq!(read_lock(&path), Ok(pins));
        let _ = std::fs::remove_dir_all(dir);
    }
}
