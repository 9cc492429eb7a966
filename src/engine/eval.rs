//! Evaluating one module's top-level declarations in parallel, with the outcome of the
//! canonical sequential order (LANGUAGE.md 7.3, 7.4, 12.1).
//!
//! Lowering records which declarations each one references (`CoreDecl::deps`): that is the
//! DAG. Every declaration is evaluated once, by its own [`Machine`] on whichever worker
//! picks it up, into a once-cell that its dependents read (values are immutable and
//! `Send + Sync`). Each machine may spend the whole budget; the budget is then accounted
//! in source order: the first declaration whose own error, or whose steps added to those
//! of the declarations before it, ends the canonical run decides the outcome. When the
//! budget is what ends it, that declaration is evaluated once more with exactly the steps
//! the canonical run had left, so the R3007 points where the sequential run's would.
//! Hence values, the error reported and the step count are the same for any number of
//! threads; only the wall-clock timeout (R3008) depends on speed.

use std::sync::atomic::{AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};

use super::cache::Cache;
use super::dag::{self, Dag};
use super::kept::Kept;
use super::keys::Key;
use crate::eval::link::{self, Evaluations, Failed, Linked};
use crate::eval::lower::DeclKind;
use crate::eval::machine::Splitter;
use crate::eval::{
    EvalError, EvalErrorKind, Evaluated, Interrupt, Limits, Machine, Program, Value,
};
use crate::par::{self, Par, Threads};

/// How one declaration's evaluation ended: its steps, and its error if it failed.
type Outcome = (u64, Option<EvalError>);

/// How each declaration's evaluation ended, set once per declaration from any worker: its
/// steps, and apart the errors of the few that failed. A module of 100,000 declarations
/// holds 8 bytes for each rather than room for a whole error (64 bytes each was 6 MB of
/// memory touched for the first time, on a machine where that costs).
struct Outcomes {
    /// Steps by declaration; [`Outcomes::PENDING`] until its evaluation ended.
    steps: Vec<AtomicU64>,
    /// Set under this lock together with the declaration's steps.
    errors: Mutex<Vec<(usize, EvalError)>>,
}

impl Outcomes {
    const PENDING: u64 = u64::MAX;

    fn new(n: usize) -> Outcomes {
        Outcomes {
            steps: (0..n).map(|_| AtomicU64::new(Self::PENDING)).collect(),
            errors: Mutex::new(Vec::new()),
        }
    }

    /// Records how declaration `i` ended, unless that is already known.
    fn set(&self, i: usize, steps: u64, error: Option<EvalError>) {
        let Some(slot) = self.steps.get(i) else {
            return;
        };
        let steps = steps.min(Self::PENDING - 1);
        let first = || {
            slot.compare_exchange(Self::PENDING, steps, Ordering::AcqRel, Ordering::Acquire)
                .is_ok()
        };
        match error {
            None => {
                first();
            }
            Some(error) => {
                let mut errors = self.errors.lock().unwrap_or_else(|e| e.into_inner());
                if first() {
                    errors.push((i, error));
                }
            }
        }
    }

    /// The steps of declaration `i`, once its evaluation ended.
    fn steps(&self, i: usize) -> Option<u64> {
        let steps = self.steps.get(i)?.load(Ordering::Acquire);
        (steps != Self::PENDING).then_some(steps)
    }

    /// Whether declaration `i` ended with an error.
    fn failed(&self, i: usize) -> bool {
        self.errors
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .any(|(at, _)| *at == i)
    }

    /// What ended, once every worker is done: by declaration.
    fn into_ended(self) -> Ended {
        let mut errors = self.errors.into_inner().unwrap_or_else(|e| e.into_inner());
        errors.sort_unstable_by_key(|(at, _)| *at);
        Ended {
            steps: self.steps.into_iter().map(AtomicU64::into_inner).collect(),
            errors,
        }
    }
}

/// The declarations `0..len` that have all ended, with their steps: a declaration that
/// starts right after them knows the exact budget the canonical run has left for it. Only
/// a declaration ending at the front takes the lock.
#[derive(Default)]
struct Prefix {
    len: AtomicUsize,
    state: Mutex<PrefixState>,
}

#[derive(Default)]
struct PrefixState {
    steps: u64,
    /// Declarations that ran with exactly the canonical budget and failed: (index, budget).
    exact: Vec<(usize, u64)>,
}

impl Prefix {
    /// The canonical budget left for declaration `i`, when everything before it has ended.
    fn exact_budget(&self, i: usize, budget: u64) -> Option<u64> {
        if self.len.load(Ordering::Acquire) != i {
            return None;
        }
        let state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        (self.len.load(Ordering::Acquire) == i).then(|| budget.saturating_sub(state.steps))
    }

    /// Declaration `i`, run with exactly the canonical `budget`, failed.
    fn exhausted_exactly(&self, i: usize, budget: u64) {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        state.exact.push((i, budget));
    }

    /// Whether declaration `i` failed running with exactly `budget`.
    fn was_exact(&self, i: usize, budget: u64) -> bool {
        let state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        state.exact.contains(&(i, budget))
    }

    /// Declaration `i` ended: the prefix grows over it and whatever ended after it.
    fn ended(&self, i: usize, outcomes: &Outcomes) {
        if self.len.load(Ordering::Acquire) != i {
            return;
        }
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let mut len = self.len.load(Ordering::Acquire);
        while let Some(steps) = outcomes.steps(len) {
            state.steps = state.steps.saturating_add(steps);
            len += 1;
        }
        self.len.store(len, Ordering::Release);
    }
}

/// [`Outcomes`] once every worker is done; the errors in declaration order.
struct Ended {
    steps: Vec<u64>,
    errors: Vec<(usize, EvalError)>,
}

impl Ended {
    /// How declaration `i` ended, if it did.
    fn get(&self, i: usize) -> Option<Outcome> {
        let steps = *self.steps.get(i).filter(|s| **s != Outcomes::PENDING)?;
        let error = self
            .errors
            .binary_search_by_key(&i, |(at, _)| *at)
            .ok()
            .and_then(|k| self.errors.get(k))
            .map(|(_, e)| e.clone());
        Some((steps, error))
    }
}

/// Lists shorter than this are mapped on one thread under [`Threads::Auto`]. An element
/// costs from a few tens of nanoseconds (a small arithmetic closure) upwards, a chunk
/// hand-off to another worker a few microseconds: chunks of at least a thousand elements
/// keep the overhead at a few percent in the worst case (`benches/run.py` has the
/// `bigmap` workload).
const AUTO_SPLIT_LEN: usize = 4096;

/// Big `map`/`filter`/`all`/`any`, and big lists in the rendered document, on the run's
/// pool.
pub struct ListSplitter<'a> {
    par: &'a Par,
    min_len: usize,
    min_chunk: usize,
}

impl<'a> ListSplitter<'a> {
    /// The splitter of a run on `par`; `None` when the run stays on one thread.
    pub fn new(par: &'a Par) -> Option<ListSplitter<'a>> {
        match par.threads() {
            _ if par.workers() <= 1 => None,
            Threads::Sequential => None,
            // Forced parallel splits everything, so the tests cover the path.
            Threads::Parallel => Some(ListSplitter {
                par,
                min_len: 2,
                min_chunk: 1,
            }),
            Threads::Auto => Some(ListSplitter {
                par,
                min_len: AUTO_SPLIT_LEN,
                min_chunk: AUTO_SPLIT_LEN / 4,
            }),
        }
    }
}

impl Splitter for ListSplitter<'_> {
    fn worth_it(&self, len: usize) -> bool {
        len >= self.min_len
    }

    fn chunk_len(&self, len: usize) -> usize {
        (len / (self.par.workers() * 4)).max(self.min_chunk)
    }

    fn for_each(&self, n: usize, job: &(dyn Fn(usize) + Sync)) {
        self.par.install(|| par::for_each_index(n, job));
    }

    fn at_once(&self) -> usize {
        self.par.workers()
    }
}

/// Declarations evaluated in source order under [`Threads::Auto`] before the rest is
/// scheduled, to learn what one costs.
const AUTO_SAMPLE: usize = 128;

/// The average steps per declaration below which [`Threads::Auto`] keeps a module's
/// declarations on one thread. Handing a declaration to another worker (a machine, a
/// once-cell, scheduling in batches, frees on another thread) costs about a dozen steps
/// natively. Measured on 2 cores (2026-12-03, `--workers 2`, eval phase of `--stats`):
/// services 100,000 (66 steps a declaration) 137 ms on one thread, 90 ms on the pool, the
/// whole run 0.38-0.42 s -> 0.34-0.35 s at equal peak memory; 100,000 lets `tI = I + 1`
/// (3 steps) 17.5 ms on one thread, 21 ms on the pool, so they stay. (With the kernel's
/// transparent huge pages off, an earlier night, services ran about as fast either way:
/// each worker then faulted in its own fresh 4 KB pages.)
#[cfg(not(target_arch = "wasm32"))]
const AUTO_MIN_STEPS: u64 = 32;

/// In the threaded wasm build a hand-off costs more (Atomics.wait wake-ups, one shared
/// linear memory grown by `memory.grow`): services ran 1.3 times slower on its pool, the
/// compute workload (2,277 steps a declaration) 1.7 times faster.
#[cfg(target_arch = "wasm32")]
const AUTO_MIN_STEPS: u64 = 256;

/// A value from the session cache, with the steps its evaluation took.
pub type CachedValue = (Value, u64);

/// The session's value cache, the keys of the module's lets, and the values already taken
/// from the cache for this run (their declarations were lowered as placeholders).
#[derive(Clone, Copy)]
pub struct ValueCache<'a> {
    pub keys: &'a [Option<Key>],
    pub values: &'a Cache<Key, CachedValue>,
    pub found: &'a [Option<CachedValue>],
}

impl ValueCache<'_> {
    /// Looks up every let of the module: what [`lower_with`](crate::eval::lower::lower_with)
    /// may skip.
    /// `kept` is what the module's last run kept (see [`super::kept`]).
    pub fn prefetch(
        keys: &[Option<Key>],
        values: &Cache<Key, CachedValue>,
        kept: Option<Kept<CachedValue>>,
    ) -> Vec<Option<CachedValue>> {
        super::kept::find_all(keys, values, kept)
    }

    /// What to keep after a run: the values `found` in the cache before it, and those it
    /// put there.
    pub fn kept(
        keys: &[Option<Key>],
        values: &Cache<Key, CachedValue>,
        mut found: Vec<Option<CachedValue>>,
    ) -> Kept<CachedValue> {
        found.resize(keys.len(), None);
        for (slot, key) in found.iter_mut().zip(keys) {
            if let (None, Some(key)) = (&slot, key) {
                *slot = values.peek(key);
            }
        }
        Kept::new(keys.to_vec(), found)
    }
}

/// Evaluates one module like [`link::run_module`] (its imports' values in `done`, at most
/// `budget` steps), on `par`'s threads when worth it, taking the values of unchanged lets
/// from `cache` and storing the new plain-data ones. Returns the evaluation and every
/// declaration's value, for the module's importers.
pub fn run(
    par: &Par,
    program: &Program,
    done: &Evaluations,
    limits: &Limits,
    budget: u64,
    interrupt: Interrupt,
    cache: Option<ValueCache<'_>>,
) -> Result<(Evaluated, Vec<Value>), Failed> {
    let n = program.decls.len();
    let splitter = ListSplitter::new(par);
    if cache.is_none() && splitter.is_none() && !par.worth_it(n) {
        return link::run_module(program, done, limits, budget, interrupt);
    }
    let values: Vec<OnceLock<Value>> = (0..n).map(|_| OnceLock::new()).collect();
    let outcomes = Outcomes::new(n);
    // The lowest declaration that failed: later ones still running stop (their outcome
    // cannot matter), so a failure ends a parallel run as soon as a sequential one.
    let first_failure = AtomicUsize::new(usize::MAX);
    let prefix = Prefix::default();
    if let Some(cache) = cache {
        for (i, found) in cache.found.iter().enumerate() {
            if let (Some((value, steps)), Some(slot)) = (found, values.get(i)) {
                let _ = slot.set(value.clone());
                outcomes.set(i, *steps, None);
            }
        }
    }
    // Declarations the cache gave have ended already.
    prefix.ended(0, &outcomes);
    let globals = Linked {
        file: program.file,
        own: &values,
        done,
    };
    let machine = |budget: u64| {
        Machine::new(
            program.file,
            &globals,
            limits.clone(),
            budget,
            interrupt.clone(),
        )
        .with_splitter(splitter.as_ref().map(|s| s as &dyn Splitter))
        .watching(&first_failure)
    };
    // Evaluates declaration `i` into its slots with `m`; false when it failed. A declaration
    // whose predecessors have all ended gets exactly the budget the canonical run has left
    // there, so that when it exhausts it, its error is the canonical one (no second run
    // with that budget at the replay); the others may spend the whole budget.
    // Polled before each declaration (a machine polls every 4,096 of its own steps, and
    // most declarations take fewer): the flag at each, the clock every `CLOCK_EVERY`
    // declarations of the module, counted over the workers.
    let polls = AtomicU32::new(0);
    let stopped = || {
        interrupt.flag_set()
            || (interrupt.deadline.is_some()
                && polls
                    .fetch_add(1, Ordering::Relaxed)
                    .is_multiple_of(crate::interrupt::CLOCK_EVERY)
                && interrupt.fired())
    };
    let eval_in = |m: &mut Machine, i: usize| {
        let exact = prefix.exact_budget(i, budget);
        m.restart(exact.unwrap_or(budget));
        m.evaluating(i);
        let result = if stopped() {
            let span = program.decls.get(i).map(|it| it.span).unwrap_or_default();
            Err(EvalError::new(EvalErrorKind::Cancelled, program.file, span))
        } else {
            m.eval_decl(program, i)
        };
        let steps = m.steps();
        let advance = |error: Option<EvalError>| {
            let failed = error.is_some();
            outcomes.set(i, steps, error);
            if failed {
                if let Some(exact) = exact {
                    prefix.exhausted_exactly(i, exact);
                }
            }
            prefix.ended(i, &outcomes);
        };
        match result {
            Ok(value) => {
                let key = cache.and_then(|c| c.keys.get(i).copied().flatten().map(|k| (c, k)));
                if let Some((cache, key)) = key {
                    if value.is_plain_data() {
                        cache.values.insert(key, (value.clone(), steps));
                    }
                }
                if let Some(slot) = values.get(i) {
                    let _ = slot.set(value);
                }
                advance(None);
                true
            }
            Err(err) => {
                advance(Some(err));
                first_failure.fetch_min(i, Ordering::Relaxed);
                false
            }
        }
    };
    let eval_one = |i: usize| eval_in(&mut machine(budget), i);
    // One machine for the declarations evaluated in a row on this thread.
    let mut here = machine(budget);
    // Only what the cache did not give is evaluated (the others' values are already there).
    let mut todo: Vec<usize> = (0..n).filter(|i| outcomes.steps(*i).is_none()).collect();
    // Under Threads::Auto, the first declarations are evaluated in source order (always a
    // valid schedule) to learn what one costs: below AUTO_MIN_STEPS on average, handing
    // them to other workers costs about what they do, and the rest stays on this thread.
    let mut par = par;
    let sequential = Par::sequential();
    if par.threads() == Threads::Auto && par.worth_it(todo.len()) {
        // The sample ends as soon as its steps decide for the pool.
        let enough = AUTO_MIN_STEPS * AUTO_SAMPLE as u64;
        let mut steps = 0u64;
        let mut sampled = 0usize;
        for &i in todo.iter().take(AUTO_SAMPLE) {
            sampled += 1;
            if !eval_in(&mut here, i) {
                // Nothing after the earliest failure can change the outcome.
                break;
            }
            steps += outcomes.steps(i).unwrap_or(0);
            if steps >= enough {
                break;
            }
        }
        let failed = todo
            .get(sampled.saturating_sub(1))
            .is_some_and(|i| outcomes.failed(*i));
        if failed {
            todo.clear();
        } else {
            todo.drain(..sampled);
            if steps < enough {
                par = &sequential;
            }
        }
    }
    if std::ptr::eq(par, &sequential) || !par.worth_it(todo.len()) {
        // The rest in source order, on this thread.
        for &i in &todo {
            if !eval_in(&mut here, i) {
                break;
            }
        }
    } else {
        // The rest over the DAG of the edges between those declarations.
        let mut node_of = vec![u32::MAX; n];
        for (t, &i) in todo.iter().enumerate() {
            if let Some(slot) = node_of.get_mut(i) {
                *slot = t as u32;
            }
        }
        let dag = Dag::new(todo.iter().map(|&i| {
            program.decls.get(i).map_or_else(Vec::new, |d| {
                d.deps
                    .iter()
                    .filter_map(|dep| node_of.get(*dep as usize).copied())
                    .filter(|node| *node != u32::MAX)
                    .collect()
            })
        }));
        dag::run(par, &dag, |t| todo.get(t).is_none_or(|&i| eval_one(i)));
    }
    drop(here);

    // The canonical run, replayed from the outcomes (every worker is done with them).
    let outcomes = outcomes.into_ended();
    let mut total = 0u64;
    let mut decl_steps = Vec::with_capacity(n + 1);
    let mut named = Vec::new();
    for (i, decl) in program.decls.iter().enumerate() {
        let remaining = budget.saturating_sub(total);
        let (steps, error) = match outcomes.get(i) {
            Some((steps, error)) => (steps, error),
            // Skipped only after an earlier failure, which returned above; evaluate it
            // here all the same rather than trust that.
            None => {
                let mut m = machine(remaining);
                let result = m.eval_decl(program, i);
                match result {
                    Ok(value) => {
                        if let Some(slot) = values.get(i) {
                            let _ = slot.set(value);
                        }
                        (m.steps(), None)
                    }
                    Err(err) => (m.steps(), Some(err)),
                }
            }
        };
        let cancelled = matches!(
            error.as_ref().map(|e| &*e.kind),
            Some(EvalErrorKind::Cancelled)
        );
        if steps > remaining && !cancelled {
            // The canonical run ran out of budget inside this declaration: its own error
            // when it ran with exactly this budget, else that of a run with it.
            if let (Some(error), true) = (&error, prefix.was_exact(i, remaining)) {
                return Err(Failed {
                    error: error.clone(),
                    steps: total + remaining,
                    leftovers: Vec::new(),
                });
            }
            let mut m = machine(remaining);
            let error = match m.eval_decl(program, i) {
                Err(err) => err,
                Ok(_) => EvalError::new(
                    EvalErrorKind::BudgetExhausted {
                        max: limits.max_steps,
                    },
                    program.file,
                    decl.span,
                ),
            };
            return Err(Failed {
                error,
                steps: total + m.steps().min(remaining),
                leftovers: Vec::new(),
            });
        }
        if let Some(error) = error {
            // Stopped: the values made so far go to the host, to be freed after R3008.
            let leftovers = if cancelled { values } else { Vec::new() };
            return Err(Failed {
                error,
                steps: total + steps,
                leftovers,
            });
        }
        total += steps;
        decl_steps.push(steps);
        if let (Some(name), DeclKind::Value { .. }) = (&decl.name, &decl.kind) {
            match values.get(i).and_then(|v| v.get()) {
                Some(value) => named.push((name.clone(), value.clone())),
                None => {
                    return Err(Failed {
                        error: EvalError::new(
                            EvalErrorKind::Internal {
                                message: format!("declaration {i} has no value"),
                            },
                            program.file,
                            decl.span,
                        ),
                        steps: total,
                        leftovers: Vec::new(),
                    })
                }
            }
        }
    }
    let mut m = machine(budget.saturating_sub(total));
    let body = match m.eval_body(program) {
        Ok(it) => it,
        Err(error) => {
            return Err(Failed {
                error,
                steps: total + m.steps(),
                leftovers: Vec::new(),
            })
        }
    };
    decl_steps.push(m.steps());
    let steps = total + m.steps();
    drop(m);
    let values = values
        .into_iter()
        .map(|it| it.into_inner().unwrap_or(Value::Unit))
        .collect();
    let evaluated = Evaluated {
        globals: named,
        body,
        steps,
        decl_steps,
    };
    Ok((evaluated, values))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::{FileId, Span};

    fn error(message: &str) -> EvalError {
        EvalError::new(
            EvalErrorKind::Internal {
                message: message.into(),
            },
            FileId(0),
            Span::default(),
        )
    }

    /// Each declaration's outcome is set once (the first wins, error and all), read back
    /// by declaration, and pending until set.
    #[test]
    fn outcomes_are_set_once_and_read_by_declaration() {
        let outcomes = Outcomes::new(4);
        outcomes.set(2, 7, Some(error("two")));
        outcomes.set(0, 3, None);
        outcomes.set(2, 9, None);
        outcomes.set(0, 5, Some(error("again")));
        outcomes.set(3, u64::MAX, None);
        outcomes.set(9, 1, None);
        assert_eq!(outcomes.steps(0), Some(3));
        assert_eq!(outcomes.steps(1), None);
        assert!(outcomes.failed(2) && !outcomes.failed(0) && !outcomes.failed(1));
        let ended = outcomes.into_ended();
        let message =
            |o: Option<Outcome>| o.map(|(steps, e)| (steps, e.map(|e| format!("{:?}", e.kind))));
        assert_eq!(message(ended.get(0)), Some((3, None)));
        assert_eq!(message(ended.get(1)), None);
        let two = message(ended.get(2)).and_then(|(steps, e)| Some((steps, e?)));
        assert!(two.is_some_and(|(steps, e)| steps == 7 && e.contains("two")));
        // Steps are kept below the pending mark.
        assert_eq!(ended.get(3).map(|o| o.0), Some(u64::MAX - 1));
        assert!(ended.get(9).is_none());
    }
}
