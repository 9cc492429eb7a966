//! Running the nodes of a dependency DAG, each once, after the nodes it depends on.
//!
//! Nodes are numbered in source order and depend only on lower numbers (LANGUAGE.md 4.1:
//! a declaration sees only the ones before it), so source order is always a valid
//! schedule: that is the sequential path. The parallel path counts, for every node, the
//! dependencies not yet done; a node whose count reaches zero is ready. Each rayon task
//! owns a local queue of ready nodes and runs them one after another (so a chain never
//! recurses and never spawns), and hands surplus ready nodes to new tasks in batches, which
//! idle workers steal. Results go into per-node slots owned by the caller, so the order in
//! which nodes finish never shows.
//!
//! A node may fail (its function returns `false`). Nothing after the earliest failure in
//! source order can change the outcome (LANGUAGE.md 7.4 reports the earliest failing
//! declaration), so nodes numbered above a known failure are skipped, and a failed node's
//! dependents never run.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};

use crate::par::{self, Par};

/// Ready nodes handed to one new task at a time.
const BATCH: usize = 32;

/// Dependencies in compressed rows: `deps(i)` are the nodes `i` depends on, all below `i`.
#[derive(Clone, Debug, Default)]
pub struct Dag {
    offsets: Vec<u32>,
    edges: Vec<u32>,
}

impl Dag {
    /// Builds the DAG from each node's dependencies. Entries that are not below their node
    /// (self references, forward references that the checker reports as errors) and
    /// repeated entries are dropped.
    pub fn new(deps: impl IntoIterator<Item = Vec<u32>>) -> Dag {
        let mut offsets = vec![0];
        let mut edges = Vec::new();
        for (i, mut ds) in deps.into_iter().enumerate() {
            ds.retain(|d| (*d as usize) < i);
            ds.sort_unstable();
            ds.dedup();
            edges.extend(ds);
            offsets.push(edges.len() as u32);
        }
        Dag { offsets, edges }
    }

    pub fn len(&self) -> usize {
        self.offsets.len() - 1
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn deps(&self, i: usize) -> &[u32] {
        let start = self.offsets.get(i).copied().unwrap_or(0) as usize;
        let end = self.offsets.get(i + 1).copied().unwrap_or(0) as usize;
        self.edges.get(start..end).unwrap_or(&[])
    }

    /// The longest dependency chain, in nodes (1 for independent nodes): how sequential the
    /// work is.
    pub fn depth(&self) -> usize {
        let mut level = vec![0u32; self.len()];
        let mut max = 0;
        for i in 0..self.len() {
            let l = self
                .deps(i)
                .iter()
                .map(|d| level.get(*d as usize).copied().unwrap_or(0))
                .max()
                .unwrap_or(0)
                + 1;
            if let Some(slot) = level.get_mut(i) {
                *slot = l;
            }
            max = max.max(l as usize);
        }
        max
    }

    /// The reverse edges: for each node, the nodes that depend on it.
    fn dependents(&self) -> Dag {
        let n = self.len();
        let mut count = vec![0u32; n + 1];
        for &d in &self.edges {
            if let Some(c) = count.get_mut(d as usize + 1) {
                *c += 1;
            }
        }
        for i in 0..n {
            let before = count.get(i).copied().unwrap_or(0);
            if let Some(c) = count.get_mut(i + 1) {
                *c += before;
            }
        }
        let offsets = count.clone();
        let mut fill = count;
        let mut edges = vec![0u32; self.edges.len()];
        for i in 0..n {
            for &d in self.deps(i) {
                if let Some(at) = fill.get_mut(d as usize) {
                    if let Some(e) = edges.get_mut(*at as usize) {
                        *e = i as u32;
                    }
                    *at += 1;
                }
            }
        }
        Dag { offsets, edges }
    }
}

/// Runs `node(i)` for every node of `dag` after its dependencies, in parallel when `par`
/// says so, else in source order on the calling thread. `node` returns whether it
/// succeeded; after a failure, nodes numbered above it are skipped.
pub fn run(par: &Par, dag: &Dag, node: impl Fn(usize) -> bool + Sync + Send) {
    if !par.worth_it(dag.len()) || !par.worth_it_graph(dag.len(), dag.depth()) {
        for i in 0..dag.len() {
            if !node(i) {
                break;
            }
        }
        return;
    }
    let dependents = dag.dependents();
    let pending: Vec<AtomicU32> = (0..dag.len())
        .map(|i| AtomicU32::new(dag.deps(i).len() as u32))
        .collect();
    let failed = AtomicUsize::new(usize::MAX);
    let state = State {
        dependents: &dependents,
        pending: &pending,
        failed: &failed,
        node: &node,
    };
    let roots: Vec<usize> = (0..dag.len()).filter(|i| dag.deps(*i).is_empty()).collect();
    par.install(|| {
        par::scope(|s| {
            for batch in roots.chunks(BATCH) {
                let batch = batch.to_vec();
                let state = &state;
                s.spawn(move |s| state.drain(s, batch));
            }
        })
    });
}

struct State<'a, F> {
    dependents: &'a Dag,
    pending: &'a [AtomicU32],
    failed: &'a AtomicUsize,
    node: &'a F,
}

impl<'a, F: Fn(usize) -> bool + Sync + Send> State<'a, F> {
    /// Runs ready nodes until the local queue is empty, lowest number first, spawning
    /// surplus batches (the highest numbers).
    fn drain<'s>(&'s self, s: &rayon::Scope<'s>, batch: Vec<usize>)
    where
        'a: 's,
    {
        // Lowest numbers first, the newly ready included: they are the ones an early failure
        // would make decisive, and a failure stops the later nodes still running (a queue
        // in push order ran `fib 40` declared after `1 / 0`, then reported the division).
        let mut queue: BinaryHeap<Reverse<usize>> = batch.into_iter().map(Reverse).collect();
        while let Some(Reverse(i)) = queue.pop() {
            if i > self.failed.load(Ordering::Relaxed) {
                continue;
            }
            if !(self.node)(i) {
                self.failed.fetch_min(i, Ordering::Relaxed);
                continue;
            }
            for &d in self.dependents.deps(i) {
                let ready = self
                    .pending
                    .get(d as usize)
                    .is_some_and(|p| p.fetch_sub(1, Ordering::AcqRel) == 1);
                if ready {
                    queue.push(Reverse(d as usize));
                }
            }
            if queue.len() > BATCH {
                // Ascending order: keep the first BATCH here, hand the rest over.
                let mut sorted: Vec<usize> = queue
                    .into_sorted_vec()
                    .into_iter()
                    .rev()
                    .map(|Reverse(it)| it)
                    .collect();
                let rest = sorted.split_off(BATCH);
                for batch in rest.chunks(BATCH) {
                    let batch = batch.to_vec();
                    s.spawn(move |s| self.drain(s, batch));
                }
                queue = sorted.into_iter().map(Reverse).collect();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::par::Threads;
    use std::sync::Mutex;

    fn check_order(par: &Par, dag: &Dag) -> Vec<usize> {
        let done: Vec<AtomicU32> = (0..dag.len()).map(|_| AtomicU32::new(0)).collect();
        let order = Mutex::new(Vec::new());
        run(par, dag, |i| {
            for &d in dag.deps(i) {
                assert_eq!(
                    done[d as usize].load(Ordering::Acquire),
                    1,
                    "{d} before {i}"
                );
            }
            assert_eq!(done[i].fetch_add(1, Ordering::AcqRel), 0, "{i} ran twice");
            order.lock().unwrap_or_else(|e| e.into_inner()).push(i);
            true
        });
        let mut order = order.into_inner().unwrap_or_else(|e| e.into_inner());
        order.sort_unstable();
        order
    }

    #[test]
    fn every_node_runs_once_after_its_dependencies() {
        // A fan (node 0 feeds everything), a chain and a random DAG.
        let fan = Dag::new((0..5000).map(|i| if i == 0 { vec![] } else { vec![0] }));
        let chain = Dag::new((0..5000u32).map(|i| if i == 0 { vec![] } else { vec![i - 1] }));
        let mut seed = 0x9e37_79b9_u64;
        let random = Dag::new((0..5000u32).map(|i| {
            (0..3)
                .filter_map(|_| {
                    seed ^= seed << 13;
                    seed ^= seed >> 7;
                    seed ^= seed << 17;
                    (i > 0).then(|| (seed % u64::from(i)) as u32)
                })
                .collect()
        }));
        let par = Par::with_workers(Threads::Parallel, 4);
        for dag in [&fan, &chain, &random] {
            assert_eq!(check_order(&par, dag), (0..dag.len()).collect::<Vec<_>>());
            assert_eq!(check_order(&Par::sequential(), dag).len(), dag.len());
        }
        assert_eq!(chain.depth(), 5000);
        assert_eq!(fan.depth(), 2);
    }

    #[test]
    fn nodes_after_a_failure_are_skipped_and_dependents_never_run() {
        let dag = Dag::new((0..2000u32).map(|i| if i == 0 { vec![] } else { vec![i / 2] }));
        let par = Par::with_workers(Threads::Parallel, 4);
        let ran: Vec<AtomicU32> = (0..dag.len()).map(|_| AtomicU32::new(0)).collect();
        run(&par, &dag, |i| {
            ran[i].fetch_add(1, Ordering::Relaxed);
            i != 10
        });
        // 10 failed: its dependents 20, 21 never ran; everything below 10 did.
        assert!((0..=10).all(|i| ran[i].load(Ordering::Relaxed) == 1));
        assert_eq!(ran[20].load(Ordering::Relaxed), 0);
        assert_eq!(ran[21].load(Ordering::Relaxed), 0);
    }

    /// Under `Auto`, a graph without parallelism (a chain) runs on the calling thread; a
    /// wide one goes to the pool.
    #[test]
    fn auto_keeps_chains_on_the_calling_thread() {
        let chain = Dag::new((0..5000u32).map(|i| if i == 0 { vec![] } else { vec![i - 1] }));
        let wide = Dag::new((0..5000u32).map(|i| if i < 2 { vec![] } else { vec![i % 2] }));
        let par = Par::with_workers(Threads::Auto, 2);
        let caller = std::thread::current().id();
        let threads_of = |dag: &Dag| {
            let seen = Mutex::new(std::collections::BTreeSet::new());
            run(&par, dag, |_| {
                let on_caller = std::thread::current().id() == caller;
                seen.lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .insert(on_caller);
                true
            });
            seen.into_inner().unwrap_or_else(|e| e.into_inner())
        };
        assert_eq!(threads_of(&chain), [true].into());
        assert!(threads_of(&wide).contains(&false));
    }
}
