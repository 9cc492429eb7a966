//! The elaboration: what type checking tells evaluation about type classes.
//!
//! Ligature's user-defined classes are implemented by dictionary passing (LANGUAGE.md
//! section 6.7). The checker decides, for every use of a class method or of an overloaded
//! binding, which dictionaries to pass, and, for every overloaded binding, how many
//! dictionary parameters it abstracts over. The lowering to the evaluator's core
//! (`eval::lower`) reads this table; nothing else about types reaches evaluation (the
//! built-in classes `Numeric`, `Ordered`, `Appendable` and `Sized` need no dictionaries:
//! values carry their representation).
//!
//! Keys are the [`ExprId`]s of the AST:
//! - `uses[id]` for the `Var` (or qualified `Field`) expression naming the method or binding;
//! - `params[id]` for the right-hand-side expression of the binding (top-level `let`,
//!   `let ... in`, instance method or class default), i.e. `LetDecl.value.id`,
//!   `ExprKind::Let.value.id`, `MethodDef.value.id`.

use crate::hash::HashMap;

use crate::source::FileId;
use crate::syntax::ast::ExprId;

/// Identifies an instance declaration: its module and its index in `Module::decls`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct InstanceRef {
    pub module: FileId,
    pub decl: u32,
}

/// How to obtain one dictionary at run time.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum DictExpr {
    /// The dictionary of an instance, built from the dictionaries of its context (in the
    /// order the instance's context is written).
    Instance {
        instance: InstanceRef,
        args: Vec<DictExpr>,
    },
    /// The `index`-th dictionary parameter of the binding whose right-hand side is `binder`.
    Param { binder: ExprId, index: u32 },
    /// Inside an instance declaration's methods: the `index`-th dictionary of its context.
    Context { index: u32 },
    /// Inside a class's default method: the dictionary being defined (the class at the
    /// instance's type).
    SelfDict,
    /// The `index`-th superclass dictionary (in the order the class declares its
    /// superclasses) of another dictionary.
    Super { dict: Box<DictExpr>, index: u32 },
}

/// The checker's output for evaluation.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Elaboration {
    /// Dictionary arguments at uses of methods and overloaded bindings, in parameter order.
    pub uses: HashMap<ExprId, Vec<DictExpr>>,
    /// Number of dictionary parameters of each overloaded binding (absent means zero).
    pub params: HashMap<ExprId, u32>,
    /// For each instance declaration of this module (by decl index): how to build the
    /// dictionaries of the class's superclasses at the instance's head, in class order,
    /// expressed with `DictExpr::Context`.
    pub instance_supers: HashMap<u32, Vec<DictExpr>>,
}

impl Elaboration {
    pub fn dicts_at(&self, id: ExprId) -> &[DictExpr] {
        self.uses.get(&id).map(Vec::as_slice).unwrap_or(&[])
    }

    pub fn n_params(&self, rhs: ExprId) -> u32 {
        self.params.get(&rhs).copied().unwrap_or(0)
    }
}
