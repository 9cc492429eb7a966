//! Linking modules for evaluation: what a module's imports mean to lowering, and running a
//! module whose code refers to other modules' top-level values.
//!
//! [`imports`] turns the checker's import environment (`types::imports::import_env`) into
//! lowering's [`Imports`]: each visible imported name becomes a reference to a top-level
//! declaration of its defining module ([`Core::Imported`](super::lower::Core)), a built-in,
//! a dictionary slot (class methods) or a constructor; imported types bring their
//! validation templates from their defining module's [`Program`]. [`run_module`] evaluates
//! one module with a [`Globals`] that answers for the modules evaluated before it.

use std::collections::HashMap;
use std::sync::OnceLock;

use super::lower::{ImportedClass, ImportedValue, Imports, Program};
use super::machine::{Evaluated, Globals, Interrupt, Limits, Machine};
use super::{EvalError, Value};
use crate::source::FileId;
use crate::types::env::{Env, Namespace, Origin};

/// Lowering's view of an import environment. `program` finds the lowered program of an
/// imported module (for type templates and class default providers).
// The loops only fill maps, so their order cannot show in any output.
#[allow(clippy::iter_over_hash_type)]
pub fn imports<'p>(env: &Env, program: &dyn Fn(FileId) -> Option<&'p Program>) -> Imports {
    let mut out = Imports::default();
    for (name, info) in &env.values {
        let imported = match &info.origin {
            Origin::Global { module, decl } => ImportedValue::Global {
                module: *module,
                index: *decl,
            },
            Origin::Prelude => {
                let original = env
                    .origins
                    .get(&(Namespace::Value, name.clone()))
                    .map_or_else(|| name.clone(), |it| it.name.clone());
                if original == *name {
                    continue; // lowering finds prelude names by themselves
                }
                ImportedValue::Builtin(original)
            }
            Origin::Method { class, .. } => {
                let Some(info) = env.class_by_name(class) else {
                    continue;
                };
                // The method's own name: an import may rename it (`{ render as show }`),
                // an alias qualifies it (`l.render`).
                let method = env
                    .origins
                    .get(&(Namespace::Value, name.clone()))
                    .map_or_else(|| name.rsplit('.').next().unwrap_or(name), |it| &it.name);
                let Some(index) = info.methods.iter().position(|m| m.name == *method) else {
                    continue;
                };
                ImportedValue::Method {
                    n_supers: info.supers.len() as u32,
                    index: index as u32,
                }
            }
            Origin::Decl(_) => continue,
        };
        out.values.insert(name.clone(), imported);
    }
    for (name, info) in &env.ctors {
        if !name.starts_with('#') {
            out.ctors.insert(name.clone(), info.payload.is_some());
        }
    }
    for (name, class) in &env.classes {
        if !class.builtin && !name.starts_with('#') {
            let methods = class.methods.iter().map(|m| m.name.clone()).collect();
            let defaults = env
                .origins
                .get(&(Namespace::Class, name.clone()))
                .and_then(|def| {
                    let module = def.module?;
                    let decl = program(module)?.default_providers.get(&def.name)?;
                    Some((module, *decl))
                });
            out.classes.insert(
                name.clone(),
                ImportedClass {
                    n_supers: class.supers.len() as u32,
                    methods,
                    defaults,
                },
            );
        }
    }
    for name in env.types.keys() {
        if name.starts_with('#') {
            continue;
        }
        let Some(def) = env.origins.get(&(Namespace::Type, name.clone())) else {
            continue;
        };
        if let Some(module) = def.module {
            if let Some(t) = program(module).and_then(|it| it.types.get(&def.name)) {
                out.types.insert(name.clone(), t.clone());
            }
        }
    }
    out.aliases = env.module_aliases.keys().cloned().collect();
    out
}

/// The values of evaluated modules, by file: one value per declaration (instances
/// included), so that [`Core::Imported`](super::lower::Core) can read them.
#[derive(Debug, Default)]
pub struct Evaluations {
    pub modules: HashMap<FileId, Vec<Value>>,
}

/// Globals that read only already evaluated modules (for validating data after a
/// schema's modules ran).
pub fn globals(done: &Evaluations) -> impl Globals + '_ {
    Linked {
        file: FileId(u32::MAX),
        own: &[],
        done,
    }
}

/// The globals of one module being evaluated: its own declarations (once-cells, filled
/// as they are evaluated) and the values of the modules evaluated before it.
pub struct Linked<'a> {
    pub file: FileId,
    pub own: &'a [OnceLock<Value>],
    pub done: &'a Evaluations,
}

impl Globals for Linked<'_> {
    fn global(&self, idx: u32) -> Option<Value> {
        self.own.get(idx as usize).and_then(|it| it.get()).cloned()
    }

    fn imported(&self, module: FileId, idx: u32) -> Option<Value> {
        if module == self.file {
            return self.global(idx);
        }
        self.done
            .modules
            .get(&module)
            .and_then(|it| it.get(idx as usize))
            .cloned()
    }
}

/// A module's evaluation that stopped with `error` after spending `steps` (in the canonical
/// order): what a failed run's stats report.
#[derive(Debug)]
pub struct Failed {
    pub error: EvalError,
    pub steps: u64,
    /// The values of a run that was stopped (R3008), for the host to free after it has
    /// answered (`api::Session::free_leftovers`); empty otherwise.
    pub leftovers: Vec<std::sync::OnceLock<super::Value>>,
}

/// Evaluates one module whose imports are in `done`, spending at most `budget` steps;
/// returns its evaluation and every declaration's value (for its importers).
pub fn run_module(
    program: &Program,
    done: &Evaluations,
    limits: &Limits,
    budget: u64,
    interrupt: Interrupt,
) -> Result<(Evaluated, Vec<Value>), Failed> {
    let own: Vec<OnceLock<Value>> = (0..program.decls.len()).map(|_| OnceLock::new()).collect();
    let globals = Linked {
        file: program.file,
        own: &own,
        done,
    };
    let mut machine = Machine::new(program.file, &globals, limits.clone(), budget, interrupt);
    let evaluated = match super::machine::run_in_order(&mut machine, program, &own) {
        Ok(it) => it,
        Err(error) => {
            return Err(Failed {
                error,
                steps: machine.steps().min(budget),
                leftovers: Vec::new(),
            })
        }
    };
    drop(machine);
    let values = own
        .into_iter()
        .map(|it| it.into_inner().unwrap_or(Value::Unit))
        .collect();
    Ok((evaluated, values))
}
