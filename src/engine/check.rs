//! Type checking one module with its independent declarations in parallel.
//!
//! The checker (`types::decl::ModuleChecker`) is sequential code: it checks declarations
//! one at a time against the environment of the ones before. Types, classes and instances
//! change that environment for everything after them, so they are checked in order, on the
//! calling thread (they are few). Between two of them, a run of `let` declarations only
//! adds values, each seen by the lets after it that mention it: the run is a DAG, and its
//! lets are inferred in parallel against the environment frozen at the run's start, each
//! looking up the earlier lets it uses through an [`Overlay`] of once-cells filled as they
//! finish. The results are then applied to the checker in source order, so diagnostics,
//! schemes and the final environment are exactly those of the sequential check.

use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, OnceLock};

use super::cache::Cache;
use super::dag::{self, Dag};
use super::deps;
use super::kept::Kept;
use super::keys::Key;
use crate::hash::{BuildHasher, HashMap};
use crate::interrupt::{self, Interrupt, Poll};
use crate::par::{Par, Threads};
use crate::source::{FileId, Span};
use crate::syntax::ast::{self, DeclKind, Name};
use crate::types::decl::{LetChecked, ModuleChecker};
use crate::types::elab::Elaboration;
use crate::types::env::{Env, Origin, Overlay, ValueInfo};
use crate::types::ty::Scheme;
use crate::types::ty::{ClosedFindings, SType};
use crate::types::Checked;
use dashmap::DashMap;

/// Runs shorter than this are checked sequentially on the automatic parallel path (a forced
/// `Threads::Parallel` takes every run through the scheduler, which the tests rely on).
const MIN_RUN: usize = 64;

/// The session's scheme cache and the keys of the module's lets, with the schemes found for
/// them before checking (kept from the module's last check, see [`super::kept`], or in the
/// cache) and those cached during it: what the module keeps for its next check.
pub struct SchemeCache<'a> {
    keys: &'a [Option<Key>],
    schemes: &'a Cache<Key, Arc<Scheme>>,
    found: Vec<Option<Arc<Scheme>>>,
    /// By declaration: a let checked without diagnostics and elaboration.
    pure: Vec<bool>,
    /// The module's elaboration after its declarations (before the trailing expression's).
    lets_elab: Option<Elaboration>,
}

impl<'a> SchemeCache<'a> {
    pub fn new(
        keys: &'a [Option<Key>],
        schemes: &'a Cache<Key, Arc<Scheme>>,
        kept: Option<Kept<Arc<Scheme>>>,
    ) -> SchemeCache<'a> {
        let n = keys.len();
        let found = super::kept::find_all(keys, schemes, kept);
        SchemeCache {
            keys,
            schemes,
            found,
            pure: vec![false; n],
            lets_elab: None,
        }
    }

    /// What the module keeps for its next check.
    pub fn take_kept(&mut self) -> Kept<Arc<Scheme>> {
        Kept::new(self.keys.to_vec(), std::mem::take(&mut self.found))
    }

    fn key(&self, i: u32) -> Option<Key> {
        self.keys.get(i as usize).copied().flatten()
    }
}

/// Infers let `i`, or takes its scheme from the cache. Only results that depend on nothing
/// but the key are cached: no diagnostics (they carry spans) and no elaboration (it is
/// keyed by expression ids, which move when an earlier declaration changes).
fn infer_let(
    checker: &ModuleChecker,
    cache: Option<&SchemeCache<'_>>,
    i: u32,
    l: &ast::LetDecl,
    overlay: Option<&dyn Overlay>,
) -> Checked1 {
    cached_let(cache, i).unwrap_or_else(|| (checker.infer_let(i, l, overlay), false))
}

/// Let `i` from the cache, if it is there.
fn cached_let(cache: Option<&SchemeCache<'_>>, i: u32) -> Option<Checked1> {
    let scheme = cache?.found.get(i as usize)?.clone()?;
    let checked = LetChecked {
        scheme,
        diagnostics: Vec::new(),
        elab: Elaboration::default(),
        closed: ClosedFindings::default(),
    };
    Some((checked, true))
}

/// A checked let, and whether it came from the cache.
type Checked1 = (LetChecked, bool);

/// Applies a checked let and caches its scheme as stored (shared between bindings of the
/// same type) when the check was inferred just now and depends on nothing but its key.
fn apply_let(
    checker: &mut ModuleChecker,
    cache: Option<&mut SchemeCache<'_>>,
    i: u32,
    l: &ast::LetDecl,
    (checked, hit): Checked1,
) {
    let pure = checked.diagnostics.is_empty()
        && checked.elab.uses.is_empty()
        && checked.elab.params.is_empty();
    let mut cache = cache;
    if let Some(slot) = cache.as_mut().and_then(|c| c.pure.get_mut(i as usize)) {
        *slot = pure && checked.elab.instance_supers.is_empty();
    }
    let target = cache
        .filter(|_| pure && !hit)
        .and_then(|c| c.key(i).map(|k| (c, k)));
    if let Some(scheme) = checker.apply_let(i, l, checked, target.is_some()) {
        if let Some((cache, key)) = target {
            cache.schemes.insert(key, scheme.clone());
            if let Some(slot) = cache.found.get_mut(i as usize) {
                *slot = Some(scheme);
            }
        }
    }
}

/// Type-checks `module` against `env` (the prelude plus its imports); the same result as
/// [`crate::types::check_module_in`], computed on `par`'s threads when worth it, with the
/// schemes of unchanged lets taken from `cache`.
pub fn check_module(
    par: &Par,
    interrupt: Option<&Interrupt>,
    file: FileId,
    module: &ast::Module,
    env: Env,
    mut cache: Option<&mut SchemeCache<'_>>,
) -> (Checked, Env) {
    let mut checker = ModuleChecker::new(file, module, env);
    checker.interrupt = interrupt;
    let decls = &module.decls;
    // Polled before each declaration (and by each let of a run on the pool): a run
    // stopped by its host (LANGUAGE.md 12.3) reports R3008 from the check phase too.
    let none = Interrupt::default();
    let interrupt = interrupt.unwrap_or(&none);
    let mut poll = Poll::new(interrupt);
    let mut fired = || poll.stop();
    if !par.worth_it(decls.len()) {
        for (i, decl) in decls.iter().enumerate() {
            if fired() {
                return cancelled(checker, file);
            }
            check_decl(&mut checker, cache.as_deref_mut(), i as u32, decl);
        }
        if fired() {
            return cancelled(checker, file);
        }
        return finish(checker, module, cache);
    }
    let mut i = 0;
    while i < decls.len() {
        if fired() {
            return cancelled(checker, file);
        }
        let end = decls
            .iter()
            .skip(i)
            .position(|d| !matches!(d.kind, DeclKind::Let(_)))
            .map_or(decls.len(), |n| i + n);
        if end > i && (par.threads() == Threads::Parallel || worth_a_parallel_run(decls, i, end)) {
            let run = Run {
                decls,
                start: i,
                end,
            };
            if !check_run(par, &mut checker, cache.as_deref_mut(), run, interrupt) {
                return cancelled(checker, file);
            }
            i = end;
        } else {
            // A run not worth the pool, or the declaration that ends one: in order, here.
            let stop = end.max(i + 1);
            for (k, decl) in decls.iter().enumerate().take(stop).skip(i) {
                if k > i && fired() {
                    return cancelled(checker, file);
                }
                check_decl(&mut checker, cache.as_deref_mut(), k as u32, decl);
            }
            i = stop;
        }
    }
    if fired() {
        return cancelled(checker, file);
    }
    finish(checker, module, cache)
}

/// The check stopped by the host: what it found so far and R3008.
fn cancelled(checker: ModuleChecker, file: FileId) -> (Checked, Env) {
    let empty = ast::Module::default();
    let (mut checked, env) = checker.finish(&empty);
    checked.diagnostics = vec![interrupt::cancelled("checking", file, Span::default())];
    (checked, env)
}

/// Checks the trailing expression, having kept the elaboration of the declarations for a
/// re-check ([`recheck`]).
fn finish(
    checker: ModuleChecker,
    module: &ast::Module,
    cache: Option<&mut SchemeCache<'_>>,
) -> (Checked, Env) {
    if let Some(cache) = cache {
        cache.lets_elab = Some(checker.elab.clone());
    }
    checker.finish(module)
}

/// Most changed lets a re-check takes on; more go through the whole check.
const MAX_RECHECKED: usize = 64;

/// What a module's check without diagnostics leaves for checking it again after an edit
/// ([`recheck`]): its lets' keys, where each declaration's expression ids end, the
/// declarations other than lets, which lets were checked without elaboration, and the
/// results: the final environment, the bindings and the declarations' elaboration.
pub struct CheckKept {
    /// Names the layout of the module's declarations (kinds, names, non-let declarations,
    /// expression ids) that this check saw: new for each whole check, the same through the
    /// re-checks that start from it, which keep that layout. Lowering keeps its program
    /// under it (`engine::lowered`).
    layout: u64,
    keys: Vec<Option<Key>>,
    roots: Vec<u32>,
    others: Vec<(usize, ast::Decl)>,
    pure: Vec<bool>,
    env: Env,
    bindings: Vec<crate::types::BindingInfo>,
    elab: Elaboration,
    /// The trailing expression: its key, where its ids end, its type and the whole
    /// module's elaboration with it.
    body: Option<(Key, u32, Option<String>, Elaboration)>,
}

impl CheckKept {
    /// What the check of `module` with `cache` leaves, with its final environment; the
    /// environment back when the check had diagnostics (a re-check starts from a clean one).
    pub fn new(
        module: &ast::Module,
        cache: SchemeCache<'_>,
        body_key: Option<Key>,
        checked: &Checked,
        env: Env,
    ) -> Result<CheckKept, Box<Env>> {
        let Some(elab) = cache.lets_elab.filter(|_| checked.diagnostics.is_empty()) else {
            return Err(Box::new(env));
        };
        let (roots, others) = shape(module);
        static LAYOUTS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
        Ok(CheckKept {
            layout: LAYOUTS.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
            keys: cache.keys.to_vec(),
            roots,
            others,
            pure: cache.pure,
            env,
            bindings: checked.bindings.clone(),
            elab,
            body: kept_body(module, body_key, checked),
        })
    }

    /// The final environment, for the module's interface.
    pub fn env(&self) -> &Env {
        &self.env
    }

    /// See the field: the layout of the declarations this check and its re-checks saw.
    pub fn layout(&self) -> u64 {
        self.layout
    }

    pub fn into_env(self) -> Env {
        self.env
    }
}

/// What a re-check may take of the trailing expression's check.
fn kept_body(
    module: &ast::Module,
    body_key: Option<Key>,
    checked: &Checked,
) -> Option<(Key, u32, Option<String>, Elaboration)> {
    let root = module.body.as_ref()?.id.0;
    Some((
        body_key?,
        root,
        checked.body_type.clone(),
        checked.elaboration.clone(),
    ))
}

/// Where each let's expression ids end (the id of its value, made last), and the other
/// declarations.
fn shape(module: &ast::Module) -> (Vec<u32>, Vec<(usize, ast::Decl)>) {
    let mut roots = Vec::with_capacity(module.decls.len());
    let mut others = Vec::new();
    for (i, decl) in module.decls.iter().enumerate() {
        match &decl.kind {
            DeclKind::Let(l) => roots.push(l.value.id.0),
            _ => {
                roots.push(u32::MAX);
                others.push((i, decl.clone()));
            }
        }
    }
    (roots, others)
}

/// Checks `module` again from what its last check left (`kept`), inferring only the lets
/// whose keys changed, when that certainly gives what the whole check would: the other
/// declarations are the same and come before every changed let, every expression id is
/// where it was (so the kept elaboration still applies), and each changed let has its old
/// name and scheme, no diagnostics and no elaboration, and mentions no declaration at or
/// after itself (it is inferred against the final environment, which holds them). Equal
/// schemes mean the lets after it, and the environment, are what they were (early
/// cutoff); the trailing expression is checked as always. `None` when any of this fails:
/// the caller checks the whole module.
pub fn recheck(
    file: FileId,
    module: &ast::Module,
    (keys, body_key): (&[Option<Key>], Option<Key>),
    schemes: &Cache<Key, Arc<Scheme>>,
    kept: CheckKept,
) -> Option<(Checked, CheckKept)> {
    let decls = &module.decls;
    if decls.len() != kept.keys.len() || keys.len() != decls.len() {
        return None;
    }
    let mut changed = Vec::new();
    let (mut same, mut lets) = (0, 0);
    for (i, decl) in decls.iter().enumerate() {
        if let DeclKind::Let(l) = &decl.kind {
            lets += 1;
            if kept.roots.get(i) != Some(&l.value.id.0) {
                return None;
            }
            match (keys.get(i), kept.keys.get(i)) {
                (Some(Some(k)), Some(Some(old))) if k == old => same += 1,
                _ => changed.push(i),
            }
            if changed.len() > MAX_RECHECKED {
                return None;
            }
        }
    }
    // An unchanged let means an unchanged context too: every key includes it.
    let first = changed.first().copied().unwrap_or(decls.len());
    let others_same = kept.others.len() == decls.len() - lets
        && kept
            .others
            .iter()
            .all(|(i, d)| *i < first && decls.get(*i) == Some(d));
    if same == 0 || !others_same {
        return None;
    }
    let mut kept = kept;
    let mut checker = ModuleChecker::new(file, module, std::mem::take(&mut kept.env));
    for &i in &changed {
        // The kept elaboration holds the old let's entries: only a let that had none may
        // be re-inferred alone (its entries' ids now belong to other expressions).
        let (Some(DeclKind::Let(l)), Some(true)) =
            (decls.get(i).map(|d| &d.kind), kept.pure.get(i))
        else {
            return None;
        };
        let ahead = |n: &ast::Name| {
            matches!(
                checker.env.values.get(n).map(|v| &v.origin),
                Some(Origin::Decl(j)) if *j as usize >= i
            )
        };
        if deps::mentions(l).iter().any(ahead) {
            return None;
        }
        let new = checker.infer_let(i as u32, l, None);
        let old = checker.env.values.get(&l.name.name)?;
        let unchanged = new.diagnostics.is_empty()
            && new.elab.uses.is_empty()
            && new.elab.params.is_empty()
            && new.elab.instance_supers.is_empty()
            && matches!(old.origin, Origin::Decl(j) if j as usize == i)
            && *old.scheme == *new.scheme;
        if !unchanged {
            return None;
        }
        if let Some(Some(key)) = keys.get(i) {
            schemes.insert(*key, old.scheme.clone());
        }
    }
    // Counted as the whole check would: a hit for each unchanged let, a miss for the rest.
    schemes.count_hits(same as u64);
    schemes.count_misses(changed.len() as u64);
    // Every scheme is what it was: the trailing expression's type too, if its text and ids
    // are the same; else it is checked again.
    let root = module.body.as_ref().map(|it| it.id.0);
    let body = kept
        .body
        .take()
        .filter(|(key, at, _, _)| Some(*key) == body_key && Some(*at) == root);
    let (checked, env, body) = match body {
        Some((key, at, body_type, full)) => {
            let checked = Checked {
                diagnostics: Vec::new(),
                elaboration: full.clone(),
                bindings: kept.bindings.clone(),
                body_type: body_type.clone(),
            };
            (checked, checker.env, Some((key, at, body_type, full)))
        }
        None => {
            checker.elab = kept.elab.clone();
            checker.bindings = kept.bindings.clone();
            let (checked, env) = checker.finish(module);
            let body = if checked.diagnostics.is_empty() {
                kept_body(module, body_key, &checked)
            } else {
                None
            };
            (checked, env, body)
        }
    };
    kept.keys = keys.to_vec();
    kept.env = env;
    kept.body = body;
    Some((checked, kept))
}

/// Source bytes per `let`, on average over a run, below which [`Threads::Auto`] checks the
/// run on the calling thread. Checking a let costs about its size; the parallel path adds a
/// fixed cost per let (buffered results applied in order, frees on another thread than the
/// allocation). Measured on 2 cores: lets of about 30 bytes (the services workload,
/// 100,000 of them) checked 3 to 20% slower in parallel; lets of 1.6 KB (30-field records)
/// 17% faster.
const AUTO_MIN_LET_BYTES: usize = 512;

/// Whether the lets `decls[start..end]` are worth checking in parallel under `Auto`.
fn worth_a_parallel_run(decls: &[ast::Decl], start: usize, end: usize) -> bool {
    let n = end - start;
    let bytes: usize = decls
        .get(start..end)
        .unwrap_or(&[])
        .iter()
        .map(|d| (d.span.end - d.span.start) as usize)
        .sum();
    n >= MIN_RUN && bytes >= n * AUTO_MIN_LET_BYTES
}

fn check_decl(
    checker: &mut ModuleChecker,
    cache: Option<&mut SchemeCache<'_>>,
    i: u32,
    decl: &ast::Decl,
) {
    match &decl.kind {
        DeclKind::Let(l) => {
            let checked = infer_let(checker, cache.as_deref(), i, l, None);
            apply_let(checker, cache, i, l, checked);
        }
        _ => checker.check_decl(i, decl),
    }
}

/// The earlier lets of a run, as later lets of the same run see them.
struct RunOverlay<'a> {
    start: usize,
    /// The run's bindings that will enter the environment (first of each name, not
    /// duplicating an earlier declaration), by name.
    names: HashMap<&'a Name, u32>,
    infos: &'a [OnceLock<ValueInfo>],
}

impl Overlay for RunOverlay<'_> {
    fn value(&self, name: &Name, before: u32) -> Option<&ValueInfo> {
        let at = *self.names.get(name)?;
        if at >= before {
            return None;
        }
        self.infos.get(at as usize - self.start)?.get()
    }
}

/// The declarations `start..end` of `decls`: a run of lets.
struct Run<'a> {
    decls: &'a [ast::Decl],
    start: usize,
    end: usize,
}

/// Checks a run of lets on the pool; `false` when `interrupt` stopped it (each let polls
/// it before it is inferred; nothing of the run is applied then).
fn check_run(
    par: &Par,
    checker: &mut ModuleChecker,
    mut cache: Option<&mut SchemeCache<'_>>,
    run: Run<'_>,
    interrupt: &Interrupt,
) -> bool {
    let Run { decls, start, end } = run;
    let lets: Vec<&ast::LetDecl> = decls
        .get(start..end)
        .unwrap_or(&[])
        .iter()
        .filter_map(|d| match &d.kind {
            DeclKind::Let(l) => Some(l),
            _ => None,
        })
        .collect();
    let mut names: HashMap<&Name, u32> = HashMap::default();
    for (k, l) in lets.iter().enumerate() {
        let name = &l.name.name;
        if !checker.declares_value(name) && !names.contains_key(name) {
            names.insert(name, (start + k) as u32);
        }
    }
    let infos: Vec<OnceLock<ValueInfo>> = (0..lets.len()).map(|_| OnceLock::new()).collect();
    let results: Vec<OnceLock<Checked1>> = (0..lets.len()).map(|_| OnceLock::new()).collect();
    // Monomorphic schemes by type, shared as they are inferred: the results wait here until
    // they are applied in order, and 100,000 lets of one record type would otherwise hold
    // 100,000 copies of it (`apply_let` shares them too, but only once they are applied).
    let shared: DashMap<SType, Arc<Scheme>, BuildHasher> = DashMap::default();
    // The lets whose schemes the cache has are done before anything runs (their
    // information is known): only the others are scheduled, over the DAG of the edges
    // between them.
    let mut todo: Vec<usize> = Vec::new();
    let mut node_of: Vec<u32> = vec![u32::MAX; lets.len()];
    for k in 0..lets.len() {
        let i = (start + k) as u32;
        match cached_let(cache.as_deref(), i) {
            Some(checked) => {
                if let Some(slot) = infos.get(k) {
                    let _ = slot.set(checked.0.value_info(i));
                }
                if let Some(slot) = results.get(k) {
                    let _ = slot.set(checked);
                }
            }
            None => {
                if let Some(slot) = node_of.get_mut(k) {
                    *slot = todo.len() as u32;
                }
                todo.push(k);
            }
        }
    }
    let dag = Dag::new(todo.iter().map(|&k| {
        let mut ds = Vec::new();
        if let Some(l) = lets.get(k) {
            deps::names_in_let(l, &mut |n| {
                if let Some(at) = names.get(n) {
                    let node = node_of.get((*at as usize) - start).copied();
                    if let Some(node) = node.filter(|it| *it != u32::MAX) {
                        ds.push(node);
                    }
                }
            });
        }
        ds
    }));
    let overlay = RunOverlay {
        start,
        names,
        infos: &infos,
    };
    // The flag at every let, the clock every `CLOCK_EVERY` lets (counted over the workers).
    let polls = AtomicU32::new(0);
    let stopped = AtomicBool::new(false);
    {
        let checker = &*checker;
        dag::run(par, &dag, |t| {
            if !interrupt.is_none() {
                let n = polls.fetch_add(1, Ordering::Relaxed);
                let due = n.is_multiple_of(interrupt::CLOCK_EVERY);
                if stopped.load(Ordering::Relaxed)
                    || interrupt.flag_set()
                    || (due && interrupt.fired())
                {
                    stopped.store(true, Ordering::Relaxed);
                    return false;
                }
            }
            let Some(&k) = todo.get(t) else {
                return true;
            };
            if let Some(l) = lets.get(k) {
                let i = (start + k) as u32;
                // A neighbour's scheme when this worker (usually) has just inferred it (a
                // batch of ready lets runs from its end): a let of exactly that type shares
                // it without writing its own out, or hashing it below.
                let neighbour = |n: Option<usize>| {
                    let (prev, _) = results.get(n?)?.get()?;
                    Some(&prev.scheme).filter(|s| s.n_gen == 0 && s.constraints.is_empty())
                };
                let like = neighbour(Some(k + 1)).or_else(|| neighbour(k.checked_sub(1)));
                let inferred = checker.infer_let_like(i, l, Some(&overlay), like);
                let shared_with_neighbour =
                    like.is_some_and(|like| Arc::ptr_eq(like, &inferred.scheme));
                let mut checked = (inferred, false);
                let scheme = &checked.0.scheme;
                if !shared_with_neighbour && scheme.n_gen == 0 && scheme.constraints.is_empty() {
                    let known = shared.get(&scheme.ty).map(|it| it.value().clone());
                    match known {
                        Some(known) => checked.0.scheme = known,
                        None => {
                            shared.insert(scheme.ty.clone(), scheme.clone());
                        }
                    }
                }
                if let Some(slot) = infos.get(k) {
                    let _ = slot.set(checked.0.value_info(i));
                }
                if let Some(slot) = results.get(k) {
                    let _ = slot.set(checked);
                }
            }
            true
        });
    }
    drop(overlay);
    drop(infos);
    drop(shared);
    if stopped.into_inner() {
        return false;
    }
    for (k, (l, result)) in lets.iter().zip(results).enumerate() {
        let i = (start + k) as u32;
        match result.into_inner() {
            Some(checked) => apply_let(checker, cache.as_deref_mut(), i, l, checked),
            // Unreachable: checking never fails, so every node runs.
            None => {
                let checked = infer_let(checker, cache.as_deref(), i, l, None);
                apply_let(checker, cache.as_deref_mut(), i, l, checked);
            }
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decls(n: usize, body: &str) -> Vec<ast::Decl> {
        let source: String = (0..n).map(|i| format!("let x{i} = {body};\n")).collect();
        crate::syntax::parse(FileId(0), &source).module.decls
    }

    /// `Auto` sends a run of lets to the pool only when it is long enough and its lets are
    /// big enough for the work to outweigh the per-let cost of the parallel path.
    #[test]
    fn auto_checks_small_lets_on_the_calling_thread() {
        let big = format!("[{}]", vec!["1 + 2 * 3"; 60].join(", "));
        let small = decls(200, "1");
        let large = decls(200, &big);
        let few = decls(MIN_RUN - 1, &big);
        assert!(!worth_a_parallel_run(&small, 0, small.len()));
        assert!(worth_a_parallel_run(&large, 0, large.len()));
        assert!(!worth_a_parallel_run(&few, 0, few.len()));
    }
}
