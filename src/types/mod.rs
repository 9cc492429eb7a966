//! The static type checker (LANGUAGE.md sections 4 to 6, 8.2 and 11.1).
//!
//! The algorithm: declarations are checked one at a time in source order against an
//! immutable environment of the schemes, types, classes and instances before them
//! ([`decl`]); each check owns a fresh inference arena ([`ty`]) and does Hindley–Milner
//! inference with levels ([`infer`]): unification is union-find, binding a variable lowers
//! the levels in the bound type, and generalisation exports only the binding's own type,
//! so checking is linear in the program. Records are rows: a record node lists fields and a
//! tail that is closed or another row. Class constraints are predicates solved at
//! generalisation points; user classes are elaborated to dictionary passing
//! ([`elab::Elaboration`]), the four built-in classes need no dictionaries.
//!
//! Schemes print as in LANGUAGE.md section 6.9: variables `'a`, `'b`, ... in order of first
//! appearance in the type, constraints first: `Numeric 'a => 'a -> 'a`, or, with several,
//! `(Render 'a, Sized 'b) => 'a -> 'b -> String`, ordered by their first variable.

pub mod decl;
pub mod elab;
pub mod env;
pub mod imports;
pub mod infer;
pub mod ty;

#[cfg(test)]
mod testparse;
#[cfg(test)]
mod tests;

use crate::diagnostic::Diagnostic;
use crate::source::FileId;
use crate::syntax::ast;
use crate::syntax::ast::Name;

/// The result of checking one module.
#[derive(Debug, Default)]
pub struct Checked {
    /// All errors and warnings found.
    pub diagnostics: Vec<Diagnostic>,
    /// Dictionary passing information for the evaluator.
    pub elaboration: elab::Elaboration,
    /// Every top-level value binding (`let`), in declaration order.
    pub bindings: Vec<BindingInfo>,
    /// The printed type of the trailing expression, if there is one.
    pub body_type: Option<String>,
}

/// One top-level value binding.
#[derive(Clone, Debug, PartialEq)]
pub struct BindingInfo {
    pub name: Name,
    /// Index in `Module::decls`.
    pub decl: u32,
    /// The printed scheme, e.g. `('a -> 'b) -> List 'a -> List 'b`.
    pub scheme: std::sync::Arc<str>,
    /// Part of the document: not a function type and not overloaded (LANGUAGE.md 11.1).
    pub in_document: bool,
}

/// The type of a local binder (a lambda parameter, a `let ... in` binding, a pattern
/// variable), for an editor's hover: see [`binder_types`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BinderType {
    /// The binder's name where it is bound.
    pub span: crate::source::Span,
    /// Printed as diagnostics print types; a `let ... in` as its scheme.
    pub ty: String,
}

/// Type-checks one module that sees only the prelude.
pub fn check_module(file: FileId, module: &ast::Module) -> Checked {
    decl::ModuleChecker::new(file, module, env::Env::prelude()).check(module)
}

/// Type-checks one module against `env` (the prelude plus the names, types, classes and
/// instances its imports bring in) and returns the environment after its declarations,
/// from which importers' views are built. Name resolution only ever consults an
/// [`env::Env`], so imports plug in here.
pub fn check_module_in(file: FileId, module: &ast::Module, env: env::Env) -> (Checked, env::Env) {
    decl::ModuleChecker::new(file, module, env).check_with_env(module)
}

/// Checks `module` against `env` (as [`check_module_in`]) and answers the types of its local
/// binders, in source order. Binders inside a declaration whose inference
/// failed still have what inference found (`?` for the parts in error); a binder whose type
/// is too large to print is left out. Ordinary checks record nothing: this is a check of its
/// own, for an editor's hover on one module.
pub fn binder_types(file: FileId, module: &ast::Module, env: env::Env) -> Vec<BinderType> {
    binder_types_in(file, module, env, None)
}

/// [`binder_types`] of the one declaration `focus` names (the trailing expression's when it
/// holds `focus.at`): the other declarations are only checked as far as later ones need
/// them, and the lets among them not at all when `focus.known` has their schemes.
pub fn binder_types_in(
    file: FileId,
    module: &ast::Module,
    env: env::Env,
    focus: Option<&decl::BinderFocus<'_>>,
) -> Vec<BinderType> {
    let mut acc = decl::ModuleChecker::new(file, module, env).check_binders(module, focus);
    acc.sort_by_key(|it| it.span.start);
    acc
}
