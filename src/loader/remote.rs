//! Remote modules (LANGUAGE.md 9.10): their paths, roots, and the host's fetcher.
//!
//! The core fetches nothing itself. A host that can fetch hands the loader a [`Fetcher`]
//! (through [`FileSystem::fetcher`](super::FileSystem::fetcher)); the loader asks it for
//! every remote module that the modules loaded so far import and that was not asked for
//! before, all at once, so that the host may fetch them concurrently, and hands it a
//! [`Discover`] callback that parses each body as it arrives and names the remote modules
//! it imports, which the host fetches in the same call ([`Fetcher::fetch_discovering`]; a
//! host without it is asked again one round at a time). The answers are stored by URL and
//! the graph is loaded again with them ([`graph::load_with`](super::graph::load_with)),
//! until a load needs nothing new. The load itself is the sequential depth-first walk of
//! local files, so the canonical order, the diagnostics and the answer never depend on the
//! order in which fetches complete.
//!
//! What the host decides (the CLI's `src/cli/remote.rs`): how to fetch (HTTP, status,
//! redirects, the size bound while reading), the lock file and its pins, the cache, and
//! `--frozen`/`--offline`. What the core decides: which strings are remote paths (M4003),
//! remote roots and confinement (M4006), that a body is UTF-8 and at most
//! [`MAX_BODY_BYTES`] (M4008), and the diagnostics at the import site.

use super::normalize;
use crate::interrupt::Interrupt;

/// The largest body that is a module (16 MiB, LANGUAGE.md 9.10).
pub const MAX_BODY_BYTES: u64 = 16 << 20;

/// At most this many redirects are followed for one fetch.
pub const MAX_REDIRECTS: usize = 5;

/// Why a remote module could not be had.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FetchError {
    /// M4008: connection, status, size, read, or not available offline; the reason.
    Failed(String),
    /// M4009: the body does not match its pin, or the URL is unpinned under a frozen lock.
    Integrity(String),
    /// The run was cancelled or timed out while fetching (R3008).
    Interrupted,
}

/// The host's access to remote modules. Implementations must be usable from several
/// threads at once.
pub trait Fetcher: Send + Sync {
    /// The bodies of `urls` (normalised remote paths, each once), in the same order, each
    /// answer independent of the others. A host may fetch them concurrently; the loader
    /// asks again only for URLs it has not asked for before. `interrupt` is the run's
    /// (LANGUAGE.md 12.3: the timeout covers fetching): once it fires, the host stops
    /// waiting and answers [`FetchError::Interrupted`] for what it has not got.
    fn fetch_all(&self, urls: &[String], interrupt: &Interrupt)
        -> Vec<Result<Vec<u8>, FetchError>>;

    /// [`Fetcher::fetch_all`] for `urls`, and for every URL that `discover` names when
    /// given a body (the remote modules that body imports, each named once): a host that
    /// fetches concurrently starts those as soon as the body that names them is there,
    /// without waiting for the others. Every URL asked for with its answer, in any order
    /// (the loader stores them by URL). The default asks `fetch_all` one round at a time.
    fn fetch_discovering(
        &self,
        urls: &[String],
        discover: &mut Discover<'_>,
        interrupt: &Interrupt,
    ) -> Vec<(String, Result<Vec<u8>, FetchError>)> {
        let mut out = Vec::new();
        let mut round = urls.to_vec();
        while !round.is_empty() {
            let answers = self.fetch_all(&round, interrupt);
            let mut next = Vec::new();
            for (url, answer) in round.into_iter().zip(answers) {
                if let Ok(body) = &answer {
                    next.extend(discover(&url, body));
                }
                out.push((url, answer));
            }
            round = next;
        }
        out
    }
}

/// What the loader gives [`Fetcher::fetch_discovering`]: called with each URL's body as it
/// arrives (on the thread that called `fetch_discovering`), it parses the module and
/// answers the remote URLs it imports that were not named before.
pub type Discover<'a> = dyn FnMut(&str, &[u8]) -> Vec<String> + 'a;

/// A [`Fetcher`] for hosts that fetch between loads rather than during one (the wasm builds:
/// JS's `fetch` is asynchronous, a call into the engine is not; the async API, whose fetches
/// run on the executor): it answers from the bodies and failures the host already has, and
/// records every other URL asked for, which the host fetches before loading again. A URL it
/// has no answer for is M4008 ("not fetched by the host"). With [`WithFetcher`] over the
/// host's files.
#[derive(Debug, Default)]
pub struct Answered {
    answers: Answers,
    misses: std::sync::Mutex<Vec<String>>,
}

/// A host's answers for remote modules, by URL.
pub type Answers = std::collections::BTreeMap<String, Result<Vec<u8>, FetchError>>;

impl Answered {
    pub fn new(
        answers: std::collections::BTreeMap<String, Result<Vec<u8>, FetchError>>,
    ) -> Answered {
        Answered {
            answers,
            misses: std::sync::Mutex::default(),
        }
    }

    /// The answers it was made with.
    pub fn answers(&self) -> &Answers {
        &self.answers
    }

    /// The answers and the misses, without copying the bodies.
    pub fn into_parts(self) -> (Answers, Vec<String>) {
        let misses = self
            .misses
            .into_inner()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        (self.answers, misses)
    }

    /// The URLs asked for without an answer, in the order first asked, each once.
    pub fn misses(&self) -> Vec<String> {
        self.misses
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }
}

impl Fetcher for Answered {
    fn fetch_all(
        &self,
        urls: &[String],
        _interrupt: &Interrupt,
    ) -> Vec<Result<Vec<u8>, FetchError>> {
        urls.iter()
            .map(|url| match self.answers.get(url) {
                Some(answer) => answer.clone(),
                None => {
                    let mut misses = self
                        .misses
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner);
                    if !misses.contains(url) {
                        misses.push(url.clone());
                    }
                    Err(FetchError::Failed("not fetched by the host".to_string()))
                }
            })
            .collect()
    }
}

/// A file system with a fetcher: the host's files, and its remote modules from `fetcher`.
pub struct WithFetcher<F> {
    pub base: std::sync::Arc<dyn super::FileSystem>,
    pub fetcher: F,
}

impl<F: Fetcher> super::FileSystem for WithFetcher<F> {
    fn read(&self, path: &str) -> Result<Vec<u8>, super::FsError> {
        self.base.read(path)
    }

    fn exists(&self, path: &str) -> bool {
        self.base.exists(path)
    }

    fn is_dir(&self, path: &str) -> bool {
        self.base.is_dir(path)
    }

    fn resolve_links(&self, path: &str) -> Option<String> {
        self.base.resolve_links(path)
    }

    fn fetcher(&self) -> Option<&dyn Fetcher> {
        Some(&self.fetcher)
    }
}

/// Whether an import string is meant as a remote path (and is then checked as one).
pub fn is_remote(text: &str) -> bool {
    text.starts_with("https://") || text.starts_with("http://")
}

/// A remote path split into its origin (`https://host:port`, scheme and host in lower
/// case) and its normalised absolute path (`/lib/v1/net.lig`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RemoteUrl {
    pub origin: String,
    pub path: String,
}

impl RemoteUrl {
    /// The module key: origin and path.
    pub fn key(&self) -> String {
        format!("{}{}", self.origin, self.path)
    }

    /// The directory of the URL, with its trailing `/` (`https://h/lib/v1/`).
    pub fn dir(&self) -> String {
        let dir = self.path.rsplit_once('/').map_or("", |it| it.0);
        format!("{}{dir}/", self.origin)
    }
}

/// Parses and checks a remote path (LANGUAGE.md 9.10); the error is M4003's reason.
pub fn parse_url(text: &str) -> Result<RemoteUrl, &'static str> {
    let (scheme, rest) = if let Some(rest) = text.strip_prefix("https://") {
        ("https", rest)
    } else if let Some(rest) = text.strip_prefix("http://") {
        ("http", rest)
    } else {
        return Err("a remote path starts with `https://`");
    };
    if text.contains('?') || text.contains('#') {
        return Err("a remote path has no query string or fragment");
    }
    if text.contains('\\') || text.chars().any(|ch| ch.is_whitespace() || ch.is_control()) {
        return Err("a remote path has no `\\`, spaces or control characters");
    }
    let (authority, path) = match rest.find('/') {
        Some(at) => rest.split_at(at),
        None => (rest, ""),
    };
    if authority.is_empty() {
        return Err("a remote path names a host");
    }
    if authority.contains('@') {
        return Err("a remote path carries no user name or password");
    }
    let authority = authority.to_ascii_lowercase();
    if scheme == "http" && !is_loopback(&authority) {
        return Err("`http://` is only for `localhost`, `127.0.0.1` and `[::1]`; use `https://`");
    }
    if !path.ends_with(".lig") {
        return Err("a remote path names one file, ending in `.lig`");
    }
    let path = normalize(path);
    if path == "/" || !path.ends_with(".lig") {
        return Err("a remote path names one file, ending in `.lig`");
    }
    Ok(RemoteUrl {
        origin: format!("{scheme}://{authority}"),
        path,
    })
}

/// Whether an authority (`host[:port]`, lower case) is a loopback host that may be reached
/// over plain `http://`.
pub fn is_loopback(authority: &str) -> bool {
    let host = if authority.starts_with('[') {
        authority
            .find(']')
            .map_or(authority, |end| &authority[..=end])
    } else {
        authority.split(':').next().unwrap_or("")
    };
    matches!(host, "localhost" | "127.0.0.1" | "[::1]")
}

/// Whether `url` (a module key) lies inside the remote root `root` (a directory URL
/// ending in `/`).
pub fn is_inside_root(url: &str, root: &str) -> bool {
    url.starts_with(root)
}

/// The remote path that `text` (a relative path, already checked to start with `./` or
/// `../`) names inside the remote module `importer`.
pub fn join_relative(importer: &RemoteUrl, text: &str) -> RemoteUrl {
    let dir = importer.path.rsplit_once('/').map_or("", |it| it.0);
    RemoteUrl {
        origin: importer.origin.clone(),
        path: normalize(&format!("{dir}/{text}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answered_fetches_answer_what_the_host_has_and_record_the_rest() {
        let mut answers = std::collections::BTreeMap::new();
        answers.insert("https://h/a.lig".to_string(), Ok(b"let a = 1;".to_vec()));
        answers.insert(
            "https://h/b.lig".to_string(),
            Err(FetchError::Integrity("mismatch".to_string())),
        );
        let fetcher = Answered::new(answers);
        let urls = [
            "https://h/a.lig",
            "https://h/c.lig",
            "https://h/b.lig",
            "https://h/c.lig",
        ]
        .map(String::from);
        let got = fetcher.fetch_all(&urls, &Interrupt::default());
        assert_eq!(got[0], Ok(b"let a = 1;".to_vec()));
        assert!(matches!(&got[1], Err(FetchError::Failed(why)) if why.contains("not fetched")));
        assert_eq!(got[2], Err(FetchError::Integrity("mismatch".to_string())));
        assert_eq!(fetcher.misses(), vec!["https://h/c.lig".to_string()]);
    }

    #[test]
    fn remote_paths() {
        let url = parse_url("https://Example.COM/lib/./v1/../v2/net.lig").expect("valid");
        assert_eq!(url.origin, "https://example.com");
        assert_eq!(url.path, "/lib/v2/net.lig");
        assert_eq!(url.key(), "https://example.com/lib/v2/net.lig");
        assert_eq!(url.dir(), "https://example.com/lib/v2/");
        assert!(parse_url("http://127.0.0.1:8080/a.lig").is_ok());
        assert!(parse_url("http://localhost/a.lig").is_ok());
        assert!(parse_url("http://[::1]:9/a.lig").is_ok());
        for bad in [
            "http://example.com/a.lig",
            "http://localhost.evil.com/a.lig",
            "https://h/a",
            "https://h/a.lig?x=1",
            "https://h/a.lig#top",
            "https://user@h/a.lig",
            "https:///a.lig",
            "https://h",
            "https://h/a b.lig",
            "https://h/..",
        ] {
            assert!(parse_url(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn relative_paths_resolve_against_the_url() {
        let net = parse_url("https://h/lib/v1/net.lig").expect("valid");
        assert_eq!(
            join_relative(&net, "./tls/mod.lig").key(),
            "https://h/lib/v1/tls/mod.lig"
        );
        let up = join_relative(&net, "../../x.lig");
        assert_eq!(up.key(), "https://h/x.lig");
        assert!(!is_inside_root(&up.key(), &net.dir()));
        assert!(is_inside_root(
            "https://h/lib/v1/a.lig",
            "https://h/lib/v1/"
        ));
        assert!(!is_inside_root(
            "https://h/lib/v10/a.lig",
            "https://h/lib/v1/"
        ));
    }
}
