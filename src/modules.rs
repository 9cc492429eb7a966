//! The pipeline over a module graph, one module at a time (LANGUAGE.md 7.3 and 9).
//!
//! [`loader::load`](crate::loader::load) gives the modules in canonical order (imports
//! first, the entry last). Each phase here is one call per module, in that order:
//! - [`check_module`]: builds the module's environment from the prelude and its imports'
//!   interfaces (`types::imports::import_env`), checks it (`types::check_module_in`) and
//!   takes its interface for its importers;
//! - [`lower_module`]: lowers it with its imports linked (`eval::link::imports`);
//! - [`eval_module`]: evaluates it once, reading imported values from the modules
//!   evaluated before it (`eval::link::run_module`).
//!
//! The concurrent engine does the work: [`check_graph`] checks independent modules in
//! parallel over the import DAG (a module starts when its imports are checked), and each
//! module's own declarations in parallel (`engine::check`); [`eval_module`] evaluates a
//! module's independent declarations in parallel (`engine::eval`). Modules are evaluated
//! one after another in canonical order, which keeps the step budget canonical across
//! modules. With a session cache, every `let` has a content key (`engine::keys`) that
//! includes the [`module_keys`] of everything its module imports, transitively.

use std::hash::{Hash, Hasher};
use std::sync::{Arc, OnceLock};

use crate::engine::{self, dag, keys::Key, Caches};
use crate::par::Par;

use crate::diagnostic::{self, Diagnostic};
use crate::eval::{self, link, lower, Program};
use crate::loader::{stdlib, LoadedModule, ModuleGraph};
use crate::source::SourceMap;
use crate::types::imports::{self, ImportedModule, Interface};
use crate::types::{self, env::Env, BinderType, Checked};

/// One checked module: the checker's output, the environment its imports built (lowering
/// needs it) and its interface.
#[derive(Debug)]
pub struct CheckedModule {
    pub checked: Checked,
    pub import_env: Env,
    pub interface: Interface,
    /// The environment after the module's declarations (kept for the entry only: data
    /// validation looks types up in it).
    pub final_env: Option<Env>,
    /// The layout of the declarations, when the session keeps this check for a re-check
    /// (`engine::check::CheckKept::layout`).
    pub layout: Option<u64>,
    /// Whether `checked` and `interface` came from the persistent module cache (the module
    /// was not checked: [`Stored`]).
    pub stored: bool,
    /// Whether checking it (or building its imports' environment) reported nothing.
    pub clean: bool,
}

/// A module's checked results and interface from the persistent module cache
/// (`engine::persist::checked`), by graph index: its check is taken from there instead of
/// done, when its imports' environment builds without a diagnostic. The entry they come
/// from is named by the module's key, which covers every file id they hold.
pub type Stored = Vec<std::sync::Mutex<Option<(Checked, Interface)>>>;

/// The session's pool and caches, as the pipeline passes them down.
#[derive(Clone, Copy)]
pub struct Engine<'a> {
    pub par: &'a Par,
    pub caches: Option<&'a Caches>,
    /// What stops the run (LANGUAGE.md 12.3): checking polls it between declarations.
    pub interrupt: Option<&'a eval::Interrupt>,
}

/// Content keys of the modules (by graph index): a module's path and text, and the keys of
/// the modules it imports. Computed in canonical order, imports first.
pub fn module_keys(graph: &ModuleGraph, sources: &SourceMap) -> Vec<Key> {
    let mut keys = vec![0; graph.modules.len()];
    for &idx in &graph.order {
        let Some(module) = graph.modules.get(idx) else {
            continue;
        };
        let mut h = engine::keys::key_hasher();
        module.key.hash(&mut h);
        // The file id names the module's unions and classes in every type its checked
        // results hold (`types::env::union_identity`); the same module may get another id
        // in another run (the entry of `compile_schema`, imported by an evaluated file).
        module.file.0.hash(&mut h);
        if let Some(source) = sources.get(module.file) {
            source.text.hash(&mut h);
        }
        for target in module.imports.iter().flatten() {
            keys.get(*target).copied().unwrap_or(0).hash(&mut h);
        }
        if let Some(slot) = keys.get_mut(idx) {
            *slot = h.finish();
        }
    }
    keys
}

/// The content keys of module `idx`'s lets, when the session caches.
pub fn let_keys(
    engine: Engine<'_>,
    graph: &ModuleGraph,
    idx: usize,
    sources: &SourceMap,
    module_keys: &[Key],
) -> Option<Vec<Option<Key>>> {
    engine.caches?;
    let module = graph.modules.get(idx)?;
    let text = sources.get(module.file)?.text.clone();
    // What the module's lets see besides its own declarations: its identity (unions are
    // nominal per module), its import statements (which names they bring, under which
    // aliases) and everything it imports, transitively. Not the rest of its own text: each
    // let's key covers the declarations before it.
    let mut h = engine::keys::key_hasher();
    module.key.hash(&mut h);
    // Its file id too: its unions' identities carry it (see `module_keys`).
    module.file.0.hash(&mut h);
    for import in &module.ast.imports {
        text.get(import.span.start as usize..import.span.end as usize)
            .hash(&mut h);
    }
    for target in module.imports.iter().flatten() {
        module_keys.get(*target).copied().unwrap_or(0).hash(&mut h);
    }
    Some(engine::keys::let_keys(&module.ast, &text, h.finish()))
}

/// The content key of module `idx`'s trailing expression, when the session caches.
pub fn body_key(
    engine: Engine<'_>,
    graph: &ModuleGraph,
    idx: usize,
    sources: &SourceMap,
) -> Option<Key> {
    engine.caches?;
    let module = graph.modules.get(idx)?;
    engine::keys::body_key(&module.ast, &sources.get(module.file)?.text)
}

/// Checks module `idx` of `graph`; `done` holds the modules checked before it (by graph
/// index), so every import of `idx` is there. `keep_env` keeps the final environment.
/// `stored` is the module's check from the persistent module cache, taken instead of
/// checking when its imports' environment builds cleanly.
#[allow(clippy::too_many_arguments)]
pub fn check_module(
    engine: Engine<'_>,
    graph: &ModuleGraph,
    idx: usize,
    done: &[OnceLock<CheckedModule>],
    keep_env: bool,
    keys: Option<&[Option<Key>]>,
    body_key: Option<Key>,
    stored: Option<(Checked, Interface)>,
) -> CheckedModule {
    let Some(module) = graph.modules.get(idx) else {
        return CheckedModule {
            checked: Checked::default(),
            import_env: Env::prelude(),
            interface: Interface::default(),
            final_env: None,
            layout: None,
            stored: false,
            clean: true,
        };
    };
    let (import_env, mut diagnostics) =
        import_env(module, |target| Some(&done.get(target)?.get()?.interface));
    let is_entry = graph.entry == Some(idx);
    if let Some((checked, interface)) = stored.filter(|_| diagnostics.is_empty() && !keep_env) {
        return CheckedModule {
            checked,
            import_env,
            interface,
            final_env: None,
            layout: None,
            stored: true,
            clean: true,
        };
    }
    // After an edit, only the changed lets when that is certainly the same
    // (`engine::check::recheck`); else the whole module, keeping what a re-check needs.
    let rechecked = match (engine.caches, keys) {
        (Some(caches), Some(keys)) if diagnostics.is_empty() => {
            caches.kept_checks.take(&module.key).and_then(|kept| {
                engine::check::recheck(
                    module.file,
                    &module.ast,
                    (keys, body_key),
                    &caches.schemes,
                    kept,
                )
            })
        }
        _ => None,
    };
    let (mut checked, env, kept) = match rechecked {
        Some((checked, kept)) if keep_env => (checked, Some(kept.into_env()), None),
        Some((checked, kept)) => (checked, None, Some(kept)),
        None => {
            let mut cache = match (engine.caches, keys) {
                (Some(caches), Some(keys)) => Some(engine::check::SchemeCache::new(
                    keys,
                    &caches.schemes,
                    caches.kept_schemes.take(&module.key),
                )),
                _ => None,
            };
            let (checked, env) = engine::check::check_module(
                engine.par,
                engine.interrupt,
                module.file,
                &module.ast,
                import_env.clone(),
                cache.as_mut(),
            );
            match (engine.caches, cache) {
                (Some(caches), Some(mut cache)) => {
                    caches.kept_schemes.keep(&module.key, cache.take_kept());
                    if keep_env || !diagnostics.is_empty() {
                        (checked, Some(env), None)
                    } else {
                        let kept = engine::check::CheckKept::new(
                            &module.ast,
                            cache,
                            body_key,
                            &checked,
                            env,
                        );
                        match kept {
                            Ok(kept) => (checked, None, Some(kept)),
                            Err(env) => (checked, Some(*env), None),
                        }
                    }
                }
                _ => (checked, Some(env), None),
            }
        }
    };
    diagnostics.append(&mut checked.diagnostics);
    checked.diagnostics = diagnostics;
    let final_env = env.as_ref().or(kept.as_ref().map(|k| k.env()));
    // Nothing imports the entry, so it needs no interface.
    let interface = match final_env {
        Some(env) if !is_entry => imports::interface(module.file, &module.key, &module.ast, env),
        _ => Interface::default(),
    };
    let layout = kept.as_ref().map(engine::check::CheckKept::layout);
    if let (Some(caches), Some(kept)) = (engine.caches, kept) {
        caches.kept_checks.keep(&module.key, kept);
    }
    let clean = checked.diagnostics.is_empty();
    CheckedModule {
        checked,
        import_env,
        interface,
        final_env: if keep_env { env } else { None },
        layout,
        stored: false,
        clean,
    }
}

/// The environment `module` starts from: the prelude and its imports' interfaces (by
/// graph index), with the diagnostics of building it.
fn import_env<'a>(
    module: &'a LoadedModule,
    interface_of: impl Fn(usize) -> Option<&'a Interface>,
) -> (Env, Vec<Diagnostic>) {
    let imported: Vec<ImportedModule<'_>> = module
        .ast
        .imports
        .iter()
        .zip(module.imports.iter())
        .filter_map(|(import, target)| {
            Some(ImportedModule {
                import,
                interface: interface_of((*target)?)?,
            })
        })
        .collect();
    let natives = module.key == stdlib::key("validation");
    imports::import_env(module.file, &module.ast, &imported, natives)
}

/// The types of the local binders of module `idx` (`types::binder_types`), checked again
/// against its imports' interfaces in `checked` (by graph index, as [`check_graph`] leaves
/// them). Empty when the module is not in the graph.
pub fn binder_types(
    graph: &ModuleGraph,
    idx: usize,
    checked: &[Option<CheckedModule>],
    focus: Option<&types::decl::BinderFocus<'_>>,
) -> Vec<BinderType> {
    let Some(module) = graph.modules.get(idx) else {
        return Vec::new();
    };
    let (env, _) = import_env(module, |target| {
        Some(&checked.get(target)?.as_ref()?.interface)
    });
    types::binder_types_in(module.file, &module.ast, env, focus)
}

/// Checks every module, independent ones in parallel, each after its imports; the
/// diagnostics of all of them in canonical order. `keep_entry_env` keeps the entry's final
/// environment (data validation needs it). `keys` are the lets' content keys per module
/// (by graph index) when the session caches, `body_keys` their trailing expressions';
/// `stored` the checks the persistent module cache holds (empty without one).
pub fn check_graph(
    engine: Engine<'_>,
    graph: &ModuleGraph,
    keep_entry_env: bool,
    keys: &[Option<Vec<Option<Key>>>],
    body_keys: &[Option<Key>],
    stored: &Stored,
) -> (Vec<Option<CheckedModule>>, Vec<Diagnostic>) {
    let done: Vec<OnceLock<CheckedModule>> =
        graph.modules.iter().map(|_| OnceLock::new()).collect();
    // The DAG's nodes are positions in canonical order: imports come first.
    let position: Vec<usize> = {
        let mut position = vec![usize::MAX; graph.modules.len()];
        for (at, idx) in graph.order.iter().enumerate() {
            if let Some(p) = position.get_mut(*idx) {
                *p = at;
            }
        }
        position
    };
    let dag = dag::Dag::new(graph.order.iter().map(|idx| {
        graph
            .modules
            .get(*idx)
            .map(|m| {
                m.imports
                    .iter()
                    .flatten()
                    .filter_map(|t| position.get(*t).map(|p| *p as u32))
                    .collect()
            })
            .unwrap_or_default()
    }));
    dag::run(engine.par, &dag, |at| {
        if let Some(&idx) = graph.order.get(at) {
            let keep_env = keep_entry_env && graph.entry == Some(idx);
            let module_keys = keys.get(idx).and_then(Option::as_deref);
            let body_key = body_keys.get(idx).copied().flatten();
            let stored = stored
                .get(idx)
                .and_then(|slot| slot.lock().ok()?.take())
                .filter(|_| graph.entry != Some(idx));
            let checked = check_module(
                engine,
                graph,
                idx,
                &done,
                keep_env,
                module_keys,
                body_key,
                stored,
            );
            // Stopped by the host: no other module is checked (those already running stop
            // at their next poll).
            let go_on = !crate::interrupt::is_cancelled(&checked.checked.diagnostics);
            if let Some(slot) = done.get(idx) {
                let _ = slot.set(checked);
            }
            return go_on;
        }
        true
    });
    let mut done: Vec<Option<CheckedModule>> = done.into_iter().map(OnceLock::into_inner).collect();
    let mut diagnostics = Vec::new();
    for &idx in &graph.order {
        if let Some(Some(checked)) = done.get_mut(idx) {
            diagnostics.append(&mut checked.checked.diagnostics);
        }
    }
    (done, diagnostics)
}

/// Lowers module `idx`; `programs` holds its imports' programs (by graph index).
/// `absolute` refers to the module's own bindings by module (needed when its closures or
/// types are used elsewhere: imported modules, and a validation schema). With `kept`
/// (the session's kept programs, and the module's let and body keys), the module is
/// lowered again from its last program when that is the same (`engine::lowered`), and
/// what to keep of this lowering comes back with the program.
#[allow(clippy::too_many_arguments)]
pub fn lower_module(
    graph: &ModuleGraph,
    idx: usize,
    checked: &CheckedModule,
    programs: &[Option<Program>],
    sources: &SourceMap,
    absolute: bool,
    skip: &lower::Skip<'_>,
    kept: Option<KeptFor<'_>>,
    spread: Option<lower::Spread<'_>>,
    interrupt: &eval::Interrupt,
) -> Result<(Program, Option<engine::lowered::Lowering>), Box<Diagnostic>> {
    let Some(module) = graph.modules.get(idx) else {
        return Err(Box::new(Diagnostic::new(
            crate::diagnostic::Code::T2003,
            "internal: module index",
            crate::source::FileId::default(),
            crate::source::Span::default(),
        )));
    };
    let program =
        |file: crate::source::FileId| programs.iter().flatten().find(|it| it.file == file);
    let linked = link::imports(&checked.import_env, &program);
    let text = sources
        .get(module.file)
        .map(|it| it.text.clone())
        .unwrap_or_else(|| Arc::from(""));
    let input = engine::lowered::Input {
        module: &module.ast,
        elab: &checked.checked.elaboration,
        file: module.file,
        source: &text,
        imports: &linked,
        absolute,
        skip,
        spread,
        interrupt,
    };
    let Some((caches, keys, body_key, graph_files)) = kept else {
        let (program, _) = lower::lower_linked_until(
            &module.ast,
            &checked.checked.elaboration,
            module.file,
            &text,
            (&linked, absolute, skip, spread),
            interrupt,
        )?;
        return Ok((program, None));
    };
    let known = engine::lowered::Known {
        layout: checked.layout,
        files: {
            let mut h = engine::keys::key_hasher();
            (module.file, graph_files).hash(&mut h);
            h.finish()
        },
        keys,
        body_key,
    };
    engine::lowered::lower(&input, known, caches.kept_programs.take(&module.key))
}

/// Every module's types' validation templates for the type exporters, in canonical
/// order ([`lower::lower_type_plans`]: plans without their predicates compiled, lets not
/// lowered); stops at the first failure.
pub fn lower_type_plans(
    graph: &ModuleGraph,
    checked: &[Option<CheckedModule>],
    sources: &SourceMap,
    interrupt: &eval::Interrupt,
) -> Result<Vec<Option<Program>>, Box<Diagnostic>> {
    let mut programs: Vec<Option<Program>> = graph.modules.iter().map(|_| None).collect();
    for &idx in &graph.order {
        let (Some(Some(checked)), Some(module)) = (checked.get(idx), graph.modules.get(idx)) else {
            continue;
        };
        let text = sources
            .get(module.file)
            .map(|it| it.text.clone())
            .unwrap_or_else(|| Arc::from(""));
        let lowered = {
            let program =
                |file: crate::source::FileId| programs.iter().flatten().find(|it| it.file == file);
            let linked = link::imports(&checked.import_env, &program);
            lower::lower_type_plans(
                &module.ast,
                &checked.checked.elaboration,
                module.file,
                &text,
                &linked,
                interrupt,
            )?
        };
        if let Some(slot) = programs.get_mut(idx) {
            *slot = Some(lowered);
        }
    }
    Ok(programs)
}

/// Lowers every module in canonical order; stops at the first failure. `entry_absolute`
/// lowers the entry like an imported module (for validation schemas). `found[idx]` are
/// the values of module `idx`'s lets already taken from the cache (lowered as
/// placeholders). With `kept` (the session's caches, and the let and body keys by graph
/// index), modules are lowered again from their last programs where that is the same,
/// and what to keep of each lowering comes back with the programs. `interrupt` is polled
/// before each declaration.
#[allow(clippy::too_many_arguments)]
pub fn lower_graph(
    graph: &ModuleGraph,
    checked: &[Option<CheckedModule>],
    sources: &SourceMap,
    entry_absolute: bool,
    found: &[Vec<Option<engine::eval::CachedValue>>],
    kept: Option<KeptForGraph<'_>>,
    spread: Option<lower::Spread<'_>>,
    interrupt: &eval::Interrupt,
) -> Result<Lowered, Box<Diagnostic>> {
    let graph_files = kept.map(|_| files_key(graph));
    let mut programs: Vec<Option<Program>> = graph.modules.iter().map(|_| None).collect();
    let mut lowerings: Vec<Option<engine::lowered::Lowering>> =
        graph.modules.iter().map(|_| None).collect();
    for &idx in &graph.order {
        let Some(Some(module)) = checked.get(idx) else {
            continue;
        };
        let absolute = entry_absolute || graph.entry != Some(idx);
        let cached = found.get(idx);
        let skip = |i: u32| {
            cached
                .and_then(|f| f.get(i as usize))
                .is_some_and(Option::is_some)
        };
        let module_kept = kept
            .zip(graph_files)
            .and_then(|((caches, keys, body_keys), files)| {
                let keys = keys.get(idx)?.as_deref()?;
                Some((caches, keys, body_keys.get(idx).copied().flatten(), files))
            });
        let (program, lowering) = lower_module(
            graph,
            idx,
            module,
            &programs,
            sources,
            absolute,
            &skip,
            module_kept,
            spread,
            interrupt,
        )?;
        if let Some(slot) = programs.get_mut(idx) {
            *slot = Some(program);
        }
        if let Some(slot) = lowerings.get_mut(idx) {
            *slot = lowering;
        }
    }
    Ok((programs, lowerings))
}

/// The session's caches with a module's let keys, its trailing expression's key and the
/// key of the graph's files ([`files_key`]): what lowering it again from its kept program
/// needs.
pub type KeptFor<'a> = (&'a Caches, &'a [Option<Key>], Option<Key>, Key);

/// The files of a graph's modules in graph order, hashed once per run (lowered code names
/// other modules' declarations by file).
fn files_key(graph: &ModuleGraph) -> Key {
    let mut h = engine::keys::key_hasher();
    for module in &graph.modules {
        module.file.hash(&mut h);
    }
    h.finish()
}

/// The session's caches with every module's let keys and trailing expression's key (by
/// graph index).
pub type KeptForGraph<'a> = (
    &'a Caches,
    &'a [Option<Vec<Option<Key>>>],
    &'a [Option<Key>],
);

/// The programs of a graph's modules, and what to keep of their lowering (by graph index).
pub type Lowered = (Vec<Option<Program>>, Vec<Option<engine::lowered::Lowering>>);

/// Keeps the programs of a run for the next lowering of their modules.
pub fn keep_programs(caches: &Caches, graph: &ModuleGraph, (programs, lowerings): Lowered) {
    for ((module, program), lowering) in graph.modules.iter().zip(programs).zip(lowerings) {
        if let (Some(program), Some(lowering)) = (program, lowering) {
            caches
                .kept_programs
                .keep(&module.key, lowering.keep(program));
        }
    }
}

/// Evaluates one module once, its independent declarations in parallel; its
/// declarations' values join `done` for its importers. `cache` is the value cache with the
/// module's let keys and the values already taken from it.
pub fn eval_module(
    engine: Engine<'_>,
    program: &Program,
    done: &mut link::Evaluations,
    limits: &eval::Limits,
    budget: u64,
    interrupt: eval::Interrupt,
    cache: Option<engine::eval::ValueCache<'_>>,
) -> Result<eval::Evaluated, eval::link::Failed> {
    // Polled before each module: a module of a few short declarations may never reach a
    // machine's poll (every 4,096 steps).
    if interrupt.fired() {
        let error = eval::EvalError::new(
            eval::EvalErrorKind::Cancelled,
            program.file,
            crate::source::Span::default(),
        );
        return Err(eval::link::Failed {
            error,
            steps: 0,
            leftovers: Vec::new(),
        });
    }
    let (evaluated, values) =
        engine::eval::run(engine.par, program, done, limits, budget, interrupt, cache)?;
    done.modules.insert(program.file, values);
    Ok(evaluated)
}

/// True when any of `diagnostics` is an error.
pub fn failed(diagnostics: &[Diagnostic]) -> bool {
    diagnostic::has_errors(diagnostics)
}
