//! The environment of already-checked declarations, and the prelude.
//!
//! An [`Env`] is immutable while one declaration is checked; checking a declaration produces
//! additions that the module driver applies before the next one. Imports will seed an `Env`
//! from other modules' interfaces the same way the prelude does.

use crate::hash::HashMap;
use std::sync::Arc;

use super::elab::InstanceRef;
use super::ty::{Pred, SType, Scheme};
use crate::syntax::ast::Name;

/// Where a value comes from.
#[derive(Clone, Debug, PartialEq)]
pub enum Origin {
    Prelude,
    /// A top-level `let` of this module, by declaration index.
    Decl(u32),
    /// A class method (declared by the class at this declaration index, `u32::MAX` for the prelude).
    Method {
        class: Name,
        decl: u32,
    },
    /// A top-level `let` of another module (an import), by module and declaration index.
    Global {
        module: crate::source::FileId,
        decl: u32,
    },
}

#[derive(Clone, Debug)]
pub struct ValueInfo {
    pub scheme: Arc<Scheme>,
    pub origin: Origin,
}

#[derive(Clone, Debug)]
pub struct CtorInfo {
    /// The union's name.
    pub ty: Name,
    pub n_params: u32,
    /// The payload type over `Gen(0..n_params)`.
    pub payload: Option<SType>,
}

#[derive(Clone, Debug)]
pub enum TypeDef {
    /// `Integer`, `List`, ... (and the prelude unions, which are also `Union`).
    Builtin { arity: u32 },
    Union {
        arity: u32,
        ctors: Vec<Name>,
        /// The name its types carry: the declared name plus `@` and the declaring file
        /// (see [`union_identity`]); the prelude's unions keep their plain names.
        identity: Name,
    },
    /// A transparent alias; `body` is over `Gen(0..arity)` with refinements erased.
    Alias {
        arity: u32,
        body: SType,
        canonical: Option<Name>,
    },
}

impl TypeDef {
    pub fn arity(&self) -> u32 {
        match self {
            TypeDef::Builtin { arity }
            | TypeDef::Union { arity, .. }
            | TypeDef::Alias { arity, .. } => *arity,
        }
    }
}

#[derive(Clone, Debug)]
pub struct MethodInfo {
    pub name: Name,
    /// The full scheme: the class constraint first, over the class parameters `Gen(0..n)`.
    pub scheme: Arc<Scheme>,
    pub has_default: bool,
}

#[derive(Clone, Debug)]
pub struct ClassInfo {
    pub name: Name,
    pub n_params: u32,
    /// Superclass constraints over `Gen(0..n_params)`, in declaration order.
    pub supers: Vec<Pred>,
    pub methods: Vec<MethodInfo>,
    /// Built-in classes need no dictionaries and have closed instance sets.
    pub builtin: bool,
}

#[derive(Clone, Debug)]
pub struct InstanceInfo {
    pub class: Name,
    pub iref: InstanceRef,
    pub n_vars: u32,
    /// The head over `Gen(0..n_vars)`: constructors applied to distinct variables.
    pub head: Vec<SType>,
    pub context: Vec<Pred>,
}

impl InstanceInfo {
    /// The head's constructor names, which identify the instance (overlap, lookup).
    pub fn head_key(&self) -> Vec<Name> {
        self.head
            .iter()
            .map(|t| match t {
                SType::Con(n, _) => n.clone(),
                _ => Name::new("?"),
            })
            .collect()
    }
}

/// Top-level values that are being checked at the same time as the declaration that looks
/// them up: the concurrent engine checks a run of `let` declarations against one frozen
/// [`Env`] and answers lookups of the run's own earlier bindings from here.
pub trait Overlay: Sync {
    /// The value `name` bound by a top-level `let` of the current run declared before
    /// declaration `before`, if there is one (and its check is complete).
    fn value(&self, name: &Name, before: u32) -> Option<&ValueInfo>;
}

/// Everything a declaration can see.
#[derive(Clone, Debug, Default)]
pub struct Env {
    pub values: HashMap<Name, ValueInfo>,
    pub ctors: HashMap<Name, Arc<CtorInfo>>,
    pub types: HashMap<Name, Arc<TypeDef>>,
    pub classes: HashMap<Name, Arc<ClassInfo>>,
    pub instances: HashMap<Name, Vec<Arc<InstanceInfo>>>,
    /// Module aliases in scope (`import P as m;`), with the imported module's key. Members
    /// are stored under qualified keys `m.name` in the maps above.
    pub module_aliases: HashMap<Name, String>,
    /// Where imported types, constructors and classes are defined, by visible name
    /// (see [`super::imports`]); names declared in the module itself are absent.
    pub origins: HashMap<(Namespace, Name), DefId>,
}

/// The namespaces of LANGUAGE.md section 4.6 (values are identified by their origin).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Namespace {
    Value,
    Type,
    Ctor,
    Class,
}

/// The identity of a definition: the defining module (`None` for the prelude) and the
/// name it was declared with.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct DefId {
    pub module: Option<crate::source::FileId>,
    pub name: Name,
}

/// The name that the types of a union declared in `file` carry: unions are nominal, so two
/// unions of one declared name in different modules are different types. Printing shows
/// only the declared name ([`display_name`]).
pub fn union_identity(declared: &str, file: crate::source::FileId) -> Name {
    Name::new(format!("{declared}@{}", file.0))
}

/// A type name as users wrote it (without the `@file` of [`union_identity`]).
pub fn display_name(name: &str) -> &str {
    name.split('@').next().unwrap_or(name)
}

/// The key under which a union, constructor or class that is visible only qualified or
/// under another name is also stored, so that the checker can find it by the name that
/// types and predicates carry. `#` cannot start a user name.
pub fn hidden_key(name: &str) -> Name {
    Name::new(format!("#{name}"))
}

impl Env {
    /// A type by the name a `Con` carries (its declared name).
    pub fn type_by_con(&self, name: &str) -> Option<&Arc<TypeDef>> {
        self.types
            .get(name)
            .or_else(|| self.types.get(hidden_key(name).as_str()))
    }

    /// A class by its declared name.
    pub fn class_by_name(&self, name: &str) -> Option<&Arc<ClassInfo>> {
        self.classes
            .get(name)
            .or_else(|| self.classes.get(hidden_key(name).as_str()))
    }

    /// A constructor by its declared name.
    pub fn ctor_by_name(&self, name: &str) -> Option<&Arc<CtorInfo>> {
        self.ctors
            .get(name)
            .or_else(|| self.ctors.get(hidden_key(name).as_str()))
    }

    /// The constructor `name` of the union whose types carry `identity` (constructors of
    /// different unions may share a name when one is only visible qualified).
    pub fn ctor_of(&self, identity: &str, name: &str) -> Option<&Arc<CtorInfo>> {
        match self.ctor_by_name(name) {
            Some(info) if info.ty == identity => Some(info),
            _ => {
                let mut found: Vec<(&Name, &Arc<CtorInfo>)> = self
                    .ctors
                    .iter()
                    .filter(|(key, info)| {
                        info.ty == identity && key.rsplit(['.', '#']).next() == Some(name)
                    })
                    .collect();
                found.sort_by(|a, b| a.0.cmp(b.0));
                found.first().map(|it| it.1)
            }
        }
    }
}

pub const BUILTIN_CLASSES: [&str; 4] = ["Numeric", "Ordered", "Appendable", "Sized"];

/// The instance heads of the built-in classes.
pub fn builtin_class_has(class: &str, head: &str) -> bool {
    match class {
        "Numeric" => matches!(head, "Integer" | "Float"),
        "Ordered" => matches!(head, "Integer" | "Float" | "String"),
        "Appendable" | "Sized" => matches!(head, "String" | "List"),
        _ => false,
    }
}

fn g(i: u32) -> SType {
    SType::Gen(i)
}
fn con(name: &str, args: Vec<SType>) -> SType {
    SType::Con(Name::new(name), args)
}
fn t(name: &str) -> SType {
    con(name, Vec::new())
}
fn list(a: SType) -> SType {
    con("List", vec![a])
}
fn fun(a: SType, r: SType) -> SType {
    SType::Fun(Box::new(a), Box::new(r))
}
fn fun2(a: SType, b: SType, r: SType) -> SType {
    fun(a, fun(b, r))
}
fn fun3(a: SType, b: SType, c: SType, r: SType) -> SType {
    fun(a, fun(b, fun(c, r)))
}

impl Env {
    /// The prelude of LANGUAGE.md section 10.1. Built once per process and cloned: every
    /// module's check and import environment starts from it, and building it (about 300
    /// names and types) cost a module of the 1,000-module project as much as checking it.
    pub fn prelude() -> Env {
        static PRELUDE: std::sync::LazyLock<Env> = std::sync::LazyLock::new(Env::build_prelude);
        PRELUDE.clone()
    }

    fn build_prelude() -> Env {
        let mut env = Env::default();
        for name in ["Integer", "Float", "String", "Bool", "Unit"] {
            env.types
                .insert(Name::new(name), Arc::new(TypeDef::Builtin { arity: 0 }));
        }
        env.types
            .insert(Name::new("List"), Arc::new(TypeDef::Builtin { arity: 1 }));
        env.types.insert(
            Name::new("Int"),
            Arc::new(TypeDef::Alias {
                arity: 0,
                body: t("Integer"),
                canonical: None,
            }),
        );
        env.types.insert(
            Name::new("Boolean"),
            Arc::new(TypeDef::Alias {
                arity: 0,
                body: t("Bool"),
                canonical: None,
            }),
        );
        env.types.insert(
            Name::new("Option"),
            Arc::new(TypeDef::Union {
                arity: 1,
                ctors: vec![Name::new("Some"), Name::new("None")],
                identity: Name::new("Option"),
            }),
        );
        env.types.insert(
            Name::new("Result"),
            Arc::new(TypeDef::Union {
                arity: 2,
                ctors: vec![Name::new("Ok"), Name::new("Err")],
                identity: Name::new("Result"),
            }),
        );
        let ctor = |ty: &str, n: u32, payload: Option<SType>| {
            Arc::new(CtorInfo {
                ty: Name::new(ty),
                n_params: n,
                payload,
            })
        };
        env.ctors
            .insert(Name::new("Some"), ctor("Option", 1, Some(g(0))));
        env.ctors.insert(Name::new("None"), ctor("Option", 1, None));
        env.ctors
            .insert(Name::new("Ok"), ctor("Result", 2, Some(g(0))));
        env.ctors
            .insert(Name::new("Err"), ctor("Result", 2, Some(g(1))));
        for class in BUILTIN_CLASSES {
            env.classes.insert(
                Name::new(class),
                Arc::new(ClassInfo {
                    name: Name::new(class),
                    n_params: 1,
                    supers: Vec::new(),
                    methods: Vec::new(),
                    builtin: true,
                }),
            );
        }
        let s = || t("String");
        let b = || t("Bool");
        let i = || t("Integer");
        let fns: Vec<(&str, u32, Vec<Pred>, SType)> = vec![
            ("toString", 1, vec![], fun(g(0), s())),
            (
                "length",
                1,
                vec![Pred {
                    class: Name::new("Sized"),
                    args: vec![g(0)],
                }],
                fun(g(0), i()),
            ),
            ("contains", 0, vec![], fun2(s(), s(), b())),
            ("startsWith", 0, vec![], fun2(s(), s(), b())),
            ("endsWith", 0, vec![], fun2(s(), s(), b())),
            ("split", 0, vec![], fun2(s(), s(), list(s()))),
            ("concat", 0, vec![], fun2(s(), s(), s())),
            ("parseInt", 0, vec![], fun(s(), con("Option", vec![i()]))),
            ("toFloat", 0, vec![], fun(i(), t("Float"))),
            ("error", 1, vec![], fun(s(), g(0))),
            ("range", 0, vec![], fun2(i(), i(), list(i()))),
            (
                "map",
                2,
                vec![],
                fun2(fun(g(0), g(1)), list(g(0)), list(g(1))),
            ),
            (
                "filter",
                1,
                vec![],
                fun2(fun(g(0), b()), list(g(0)), list(g(0))),
            ),
            (
                "fold",
                2,
                vec![],
                fun3(fun2(g(0), g(1), g(0)), g(0), list(g(1)), g(0)),
            ),
            ("all", 1, vec![], fun2(fun(g(0), b()), list(g(0)), b())),
            ("any", 1, vec![], fun2(fun(g(0), b()), list(g(0)), b())),
            ("reverse", 1, vec![], fun(list(g(0)), list(g(0)))),
            (
                "append",
                1,
                vec![],
                fun2(list(g(0)), list(g(0)), list(g(0))),
            ),
            ("cons", 1, vec![], fun2(g(0), list(g(0)), list(g(0)))),
            (
                "head",
                1,
                vec![],
                fun(list(g(0)), con("Option", vec![g(0)])),
            ),
            (
                "tail",
                1,
                vec![],
                fun(list(g(0)), con("Option", vec![list(g(0))])),
            ),
            ("isEmpty", 1, vec![], fun(list(g(0)), b())),
        ];
        for (name, n_gen, constraints, ty) in fns {
            env.values.insert(
                Name::new(name),
                ValueInfo {
                    scheme: Arc::new(Scheme {
                        n_gen,
                        constraints,
                        ty,
                    }),
                    origin: Origin::Prelude,
                },
            );
        }
        env
    }

    pub fn is_prelude_type(name: &str) -> bool {
        matches!(
            name,
            "Integer"
                | "Int"
                | "Float"
                | "String"
                | "Bool"
                | "Boolean"
                | "Unit"
                | "List"
                | "Option"
                | "Result"
        )
    }

    pub fn is_prelude_ctor(name: &str) -> bool {
        matches!(name, "Some" | "None" | "Ok" | "Err")
    }

    pub fn is_builtin_class(name: &str) -> bool {
        BUILTIN_CLASSES.contains(&name)
    }
}
