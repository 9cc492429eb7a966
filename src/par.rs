//! The only door to rayon: how much parallelism a run may use, and the few primitives the
//! engine needs (install a pool, spawn into a scope, split a range).
//!
//! Everything else in the library is sequential code. A [`Par`] says whether a run goes
//! parallel and on which pool: [`Threads::Sequential`] never touches rayon (one thread, the
//! caller's); [`Threads::Parallel`] always uses the pool; [`Threads::Auto`] (the default)
//! uses it only when the work is big enough to pay for the threads (see
//! [`Par::worth_it`]) and the pool has more than one worker. A single-threaded wasm build
//! has no threads at all and is always sequential.

use std::sync::Arc;

/// The caller's choice (`--sequential`, `--parallel`, neither).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Threads {
    /// Parallel above a measured amount of work, sequential below.
    #[default]
    Auto,
    /// Always one thread: the caller's.
    Sequential,
    /// Always the pool, whatever the size.
    Parallel,
}

/// Work units (top-level declarations, about a microsecond each to check or evaluate)
/// below which [`Threads::Auto`] stays on the calling thread. Measured on the services
/// workload: under a few hundred declarations the pool's wake-up and the scheduling
/// bookkeeping cost more than they save.
pub const AUTO_THRESHOLD: usize = 512;

/// Whether this build can run threads at all.
pub const HAS_THREADS: bool = cfg!(any(not(target_arch = "wasm32"), target_feature = "atomics"));

/// The parallelism of one run.
#[derive(Clone, Debug, Default)]
pub struct Par {
    threads: Threads,
    /// The pool, made on first use (a run that stays on one thread starts no threads).
    pool: Arc<Pool>,
}

/// Which pool a run uses, and the pool once made.
#[derive(Debug, Default)]
struct Pool {
    /// Workers of a dedicated pool (`--workers N`); `None`: the default pool.
    workers: Option<usize>,
    made: std::sync::OnceLock<Option<Arc<rayon::ThreadPool>>>,
}

impl Pool {
    fn get(&self) -> Option<&Arc<rayon::ThreadPool>> {
        self.made
            .get_or_init(|| match self.workers {
                Some(n) => build_pool(n),
                None => default_pool(),
            })
            .as_ref()
    }
}

impl Par {
    /// One thread, the caller's.
    pub fn sequential() -> Par {
        Par {
            threads: Threads::Sequential,
            pool: Arc::default(),
        }
    }

    /// `threads` on the default pool: natively, one worker per core, shared by every
    /// `Par` of the process; in the threaded wasm build, rayon's global pool, which
    /// `initThreadPool` makes.
    pub fn new(threads: Threads) -> Par {
        if threads == Threads::Sequential || !HAS_THREADS {
            return Par::sequential();
        }
        Par {
            threads,
            pool: Arc::default(),
        }
    }

    /// `threads` on a dedicated pool of `workers` threads. One worker means sequential.
    /// If the pool cannot be made (a host without threads), the run stays on the calling
    /// thread.
    pub fn with_workers(threads: Threads, workers: usize) -> Par {
        if workers <= 1 || !HAS_THREADS || threads == Threads::Sequential {
            return Par::sequential();
        }
        Par {
            threads,
            pool: Arc::new(Pool {
                workers: Some(workers),
                made: std::sync::OnceLock::new(),
            }),
        }
    }

    pub fn threads(&self) -> Threads {
        self.threads
    }

    /// Worker threads this run may use (1 when sequential).
    pub fn workers(&self) -> usize {
        if self.threads == Threads::Sequential || !HAS_THREADS {
            return 1;
        }
        match self.pool.workers {
            Some(n) => n,
            None => default_workers(),
        }
    }

    /// Whether `units` of work should go parallel.
    pub fn worth_it(&self, units: usize) -> bool {
        match self.threads {
            Threads::Sequential => false,
            Threads::Parallel => HAS_THREADS,
            Threads::Auto => units >= AUTO_THRESHOLD && self.workers() > 1,
        }
    }

    /// Like [`Par::worth_it`] for a dependency graph of `units` nodes whose longest path has
    /// `span` nodes: under [`Threads::Auto`] the graph must also offer parallelism
    /// (`units / span`, the average number of nodes that can run at once) of at least 1.5.
    /// A chain (span = units) stays on the calling thread: scheduling it on the pool costs
    /// bookkeeping and buys nothing.
    pub fn worth_it_graph(&self, units: usize, span: usize) -> bool {
        match self.threads {
            Threads::Auto => {
                self.worth_it(units) && units.saturating_mul(2) >= span.saturating_mul(3)
            }
            _ => self.worth_it(units),
        }
    }

    /// Runs `job(0..n)` on this run's pool (in any order), returning when all are done.
    pub fn for_each(&self, n: usize, job: &(dyn Fn(usize) + Sync)) {
        self.install(|| for_each_index(n, job));
    }

    /// Runs `job` on this run's pool (the default pool when the run is sequential) and
    /// returns at once: how the async API (`api::async_session`) hands a whole request to
    /// the pool, so that the caller's executor thread never runs or waits for it. The one
    /// unstructured spawn of the library, and native only: on single-threaded wasm rayon's
    /// fallback may never run a spawned job (rayon-rs/rayon#1323).
    #[cfg(not(target_arch = "wasm32"))]
    pub fn spawn(&self, job: impl FnOnce() + Send + 'static) {
        match self.pool.get() {
            Some(pool) => pool.spawn(job),
            None => rayon::spawn(job),
        }
    }

    /// Runs `f` inside this run's pool, so that [`scope`] and [`for_each_index`] spawn
    /// onto it.
    pub fn install<R: Send>(&self, f: impl FnOnce() -> R + Send) -> R {
        match self.pool.get() {
            Some(pool) => pool.install(f),
            None => f(),
        }
    }
}

/// Runs `job(0..n)`, in any order, maybe on several threads: how code outside the engine
/// (the parser, lowering) is handed a pool without depending on it.
pub type ForEach<'a> = dyn Fn(usize, &(dyn Fn(usize) + Sync)) + Sync + 'a;

/// Native stack of each worker. Checking and evaluation recurse on the native stack
/// (evaluation about 0.7 KB per Ligature call, bounded by the depth limit; checking by the
/// source nesting limit), as on the CLI's own big-stack thread: rayon's 2 MiB default would
/// overflow at the default limits. Reserved, not committed, until used.
pub const WORKER_STACK: usize = 256 << 20;

/// Runs `f`, the pipeline of one library call, on a stack as big as a worker's: in place
/// when enough of the caller's stack is left (the CLI's big-stack thread, a worker), else on
/// a segment allocated for the call (reserved, not committed, until used). So the default
/// limits (the source nesting limit, the call depth) hold on any caller's thread, not only
/// on the CLI's; an 8 MiB thread overflowed at a few thousand levels in debug builds.
#[cfg(not(target_arch = "wasm32"))]
pub fn on_pipeline_stack<R>(f: impl FnOnce() -> R) -> R {
    stacker::maybe_grow(WORKER_STACK / 2, WORKER_STACK, f)
}

/// wasm has one stack of the size fixed at link time.
#[cfg(target_arch = "wasm32")]
pub fn on_pipeline_stack<R>(f: impl FnOnce() -> R) -> R {
    f()
}

/// Stack that one step of a recursion may use before the next [`with_stack`] check: between
/// two calls of the evaluator lie at most `syntax::MAX_NESTING` nested expressions.
#[cfg(not(target_arch = "wasm32"))]
const STACK_RED_ZONE: usize = 32 << 20;

/// Runs `f` with at least [`STACK_RED_ZONE`] of native stack, on a new segment when less is
/// left. Every recursion bounded by a limit the user may raise (the call depth, the depth of
/// values walked by equality, export and validation) goes through it, so raising the limits
/// costs memory, never a stack overflow.
#[cfg(not(target_arch = "wasm32"))]
#[inline]
pub fn with_stack<R>(f: impl FnOnce() -> R) -> R {
    stacker::maybe_grow(STACK_RED_ZONE, WORKER_STACK, f)
}

#[cfg(target_arch = "wasm32")]
#[inline]
pub fn with_stack<R>(f: impl FnOnce() -> R) -> R {
    f()
}

/// [`with_stack`] every 256 levels of a walk over a value (the walks' frames are small).
#[inline]
pub fn deep<R>(depth: u32, f: impl FnOnce() -> R) -> R {
    if depth % 256 == 255 {
        with_stack(f)
    } else {
        f()
    }
}

fn build_pool(workers: usize) -> Option<Arc<rayon::ThreadPool>> {
    rayon::ThreadPoolBuilder::new()
        .num_threads(workers)
        .thread_name(|i| format!("ligature-worker-{i}"))
        .stack_size(WORKER_STACK)
        .build()
        .ok()
        .map(Arc::new)
}

/// The process-wide pool of the native builds: one worker per core, made on first use.
#[cfg(not(target_arch = "wasm32"))]
fn default_pool() -> Option<Arc<rayon::ThreadPool>> {
    static POOL: std::sync::OnceLock<Option<Arc<rayon::ThreadPool>>> = std::sync::OnceLock::new();
    POOL.get_or_init(|| build_pool(default_workers())).clone()
}

/// The default pool's size: one worker per core natively, asked once (the answer is the
/// pool's size for the life of the process; asking reads cgroup files, a tenth of a
/// millisecond that every run paid).
#[cfg(not(target_arch = "wasm32"))]
fn default_workers() -> usize {
    static WORKERS: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *WORKERS.get_or_init(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

/// In wasm, the size `initThreadPool` gave rayon's global pool.
#[cfg(target_arch = "wasm32")]
fn default_workers() -> usize {
    rayon::current_num_threads()
}

/// In wasm the pool is rayon's global one (wasm-bindgen-rayon's `initThreadPool`).
#[cfg(target_arch = "wasm32")]
fn default_pool() -> Option<Arc<rayon::ThreadPool>> {
    None
}

/// A rayon scope: tasks spawned in it may borrow from the caller and all finish before
/// `scope` returns.
pub fn scope<'s, R: Send>(f: impl FnOnce(&rayon::Scope<'s>) -> R + Send) -> R {
    let _section = parallel_section();
    rayon::scope(f)
}

/// In the threaded wasm build, small blocks come from per-thread caches while this lives
/// (`thread_alloc`); elsewhere the allocator needs nothing.
fn parallel_section() -> impl Sized {
    #[cfg(all(target_arch = "wasm32", target_feature = "atomics"))]
    return crate::thread_alloc::Parallel::enter();
}

/// Calls `f(i)` for every `i` in `0..n`, split across the pool by work stealing.
pub fn for_each_index(n: usize, f: impl Fn(usize) + Sync + Send) {
    use rayon::prelude::*;
    let _section = parallel_section();
    (0..n).into_par_iter().for_each(f);
}
