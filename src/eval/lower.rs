//! Lowering: AST plus the checker's elaboration to the evaluator's core.
//!
//! Names are resolved once, here, so evaluation never looks a name up:
//! - locals (lambda parameters, `let ... in`, pattern variables) become frame slots of the
//!   enclosing function; a lambda that uses a local of an enclosing function gets it as a
//!   *capture* (flat closure conversion: the closure copies the captured values when built);
//! - a `let rec` lambda refers to itself as [`Core::SelfFn`];
//! - top-level bindings become global indices (the declaration index in the module);
//! - constructors become constant values or constructor functions; built-ins become constants
//!   (unless shadowed: locals first, then globals, then the prelude);
//! - class methods select a slot of a dictionary, overloaded bindings take their dictionaries
//!   as leading parameters, instances become dictionary builders (see `types::elab`);
//! - type annotations that contain refinements become validation [`Plan`]s.

use crate::hash::HashMap;
use std::borrow::Cow;
use std::rc::Rc;
use std::sync::{Arc, OnceLock, Weak};

use regex::Regex;

use crate::diagnostic::{Code, Diagnostic, Severity};
use crate::eval::builtins::Builtin;
use crate::eval::value::{Func, Value};
use crate::interrupt::{self, Interrupt, Poll};
use crate::par::ForEach;
use crate::source::{FileId, Span};
use crate::syntax::ast::{self, BinOp, ExprId, Name, UnOp};
use crate::types::elab::{DictExpr, Elaboration};

/// Where a variable lives at run time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VarRef {
    Local(u32),
    Capture(u32),
    SelfFn,
}

/// A lambda after closure conversion.
#[derive(Debug)]
pub struct LambdaDef {
    /// The module the lambda is written in (errors inside it point there).
    pub file: FileId,
    pub arity: u32,
    /// Frame size: parameters first, then the slots of lets and pattern variables.
    pub n_slots: u32,
    /// How to fetch each captured value from the frame that builds the closure.
    pub captures: Vec<VarRef>,
    /// Validation of annotated parameters, per parameter.
    pub checks: Vec<Option<Arc<Plan>>>,
    pub body: Core,
    pub span: Span,
}

/// The core language.
#[derive(Debug)]
pub enum Core {
    Lit(Value),
    Var(VarRef),
    Global(u32),
    /// A top-level declaration of another module (imports; not produced yet).
    Imported {
        module: FileId,
        index: u32,
    },
    Lambda(Arc<LambdaDef>),
    App {
        func: Box<Core>,
        args: Vec<Core>,
        span: Span,
    },
    Let {
        slot: u32,
        value: Box<Core>,
        check: Option<Arc<Plan>>,
        body: Box<Core>,
        span: Span,
    },
    If {
        cond: Box<Core>,
        then_branch: Box<Core>,
        else_branch: Box<Core>,
    },
    Match {
        scrutinee: Box<Core>,
        cases: Vec<CoreCase>,
        span: Span,
    },
    Binary {
        op: BinOp,
        lhs: Box<Core>,
        rhs: Box<Core>,
        span: Span,
    },
    Unary {
        op: UnOp,
        operand: Box<Core>,
        span: Span,
    },
    Field {
        expr: Box<Core>,
        name: Name,
    },
    Record {
        names: Arc<[Name]>,
        values: Vec<Core>,
    },
    Spread {
        base: Box<Core>,
        names: Vec<Name>,
        values: Vec<Core>,
    },
    List(Vec<Core>),
    /// `(e : T)`: one step, and validation when `T` has refinements.
    Ann {
        expr: Box<Core>,
        plan: Option<Arc<Plan>>,
        span: Span,
    },
    /// Builds a dictionary: superclass dictionaries first, then the methods.
    MakeDict(Vec<Core>),
    DictGet {
        dict: Box<Core>,
        index: u32,
    },
}

#[derive(Debug)]
pub struct CoreCase {
    pub pat: Pat,
    pub guard: Option<Core>,
    pub body: Core,
}

#[derive(Debug)]
pub enum Pat {
    Wild,
    Bind(u32),
    Lit(Value),
    Ctor {
        name: Name,
        payload: Option<Box<Pat>>,
    },
    Record(Vec<(Name, Pat)>),
    List(Vec<Pat>),
}

/// A run-time validation plan for a type containing refinements.
#[derive(Clone, Debug)]
pub enum Plan {
    Refined {
        type_name: Name,
        base: Option<Box<Plan>>,
        items: Vec<CheckItem>,
    },
    Record(Vec<(Name, Plan)>),
    List(Box<Plan>),
    Union(Vec<(Name, Option<Plan>)>),
    /// In a type's template: the plan of its `k`-th argument (see [`Plan::instantiate`]).
    Param(u32),
    /// A recursive union (`type Tree = Leaf Port | Node (List Tree)`): its plan, in which
    /// its own occurrences are [`Plan::Back`] to this knot (§8.4 checks refinements through
    /// union payloads and lists, however deep the value).
    Knot(Arc<Knot>),
    /// An occurrence of an enclosing recursive union inside its own plan. Weak: the knot
    /// owns its plan, and the enclosing [`Plan::Knot`] keeps the knot alive while it is used.
    Back(Weak<Knot>),
}

/// The plan of a recursive union, set once when its body is lowered.
#[derive(Debug, Default)]
pub struct Knot {
    pub plan: OnceLock<Plan>,
}

impl Plan {
    /// Whether anything in this plan checks a value, `own` (a knot being tied) aside: its
    /// own occurrences check only what the rest of it checks.
    fn checks_beyond(&self, own: &Arc<Knot>) -> bool {
        match self {
            Plan::Refined { .. } | Plan::Param(_) | Plan::Knot(_) => true,
            Plan::Record(fields) => fields.iter().any(|(_, p)| p.checks_beyond(own)),
            Plan::List(inner) => inner.checks_beyond(own),
            Plan::Union(ctors) => ctors
                .iter()
                .any(|(_, p)| p.as_ref().is_some_and(|p| p.checks_beyond(own))),
            Plan::Back(w) => !std::ptr::eq(w.as_ptr(), Arc::as_ptr(own)),
        }
    }

    /// Ties `knot` around `body` (a recursive union's plan, whose own occurrences are
    /// [`Plan::Back`] to it): `None` when nothing in it checks a value.
    fn tie(knot: Arc<Knot>, body: Option<Plan>) -> Option<Plan> {
        let body = body.filter(|it| it.checks_beyond(&knot))?;
        let _ = knot.plan.set(body);
        Some(Plan::Knot(knot))
    }

    /// Fills a template's parameters with the plans of the arguments (`None`: nothing to
    /// check); `None` when nothing is left to check.
    pub fn instantiate(&self, args: &[Option<Arc<Plan>>]) -> Option<Plan> {
        self.instantiate_in(args, &mut Vec::new())
    }

    /// [`Plan::instantiate`] inside the knots being re-tied: each old knot with its new one.
    fn instantiate_in(
        &self,
        args: &[Option<Arc<Plan>>],
        knots: &mut Vec<(*const Knot, Arc<Knot>)>,
    ) -> Option<Plan> {
        match self {
            Plan::Knot(old) => {
                let new = Arc::new(Knot::default());
                knots.push((Arc::as_ptr(old), new.clone()));
                let body = old.plan.get().and_then(|it| it.instantiate_in(args, knots));
                knots.pop();
                Plan::tie(new, body)
            }
            Plan::Back(old) => knots
                .iter()
                .rev()
                .find(|(at, _)| std::ptr::eq(*at, old.as_ptr()))
                .map(|(_, new)| Plan::Back(Arc::downgrade(new))),
            Plan::Param(k) => args
                .get(*k as usize)
                .cloned()
                .flatten()
                .map(|it| (*it).clone()),
            Plan::Refined {
                type_name,
                base,
                items,
            } => Some(Plan::Refined {
                type_name: type_name.clone(),
                base: base
                    .as_ref()
                    .and_then(|it| it.instantiate_in(args, knots))
                    .map(Box::new),
                items: items.clone(),
            }),
            Plan::Record(fields) => {
                let out: Vec<(Name, Plan)> = fields
                    .iter()
                    .filter_map(|(name, plan)| {
                        Some((name.clone(), plan.instantiate_in(args, knots)?))
                    })
                    .collect();
                (!out.is_empty()).then_some(Plan::Record(out))
            }
            Plan::List(inner) => inner
                .instantiate_in(args, knots)
                .map(|it| Plan::List(Box::new(it))),
            Plan::Union(ctors) => {
                let out: Vec<(Name, Option<Plan>)> = ctors
                    .iter()
                    .map(|(name, plan)| {
                        (
                            name.clone(),
                            plan.as_ref().and_then(|it| it.instantiate_in(args, knots)),
                        )
                    })
                    .collect();
                out.iter()
                    .any(|(_, it)| it.is_some())
                    .then_some(Plan::Union(out))
            }
        }
    }
}

/// A declared type's validation template: the plan of `T 'p0 ... 'pn` with
/// [`Plan::Param`] for the parameters (`None` when it never needs checking).
#[derive(Clone, Debug)]
pub struct TypeTemplate {
    pub arity: u32,
    pub plan: Option<Arc<Plan>>,
}

/// An imported value, as lowering needs it.
#[derive(Clone, Debug)]
pub enum ImportedValue {
    /// A top-level binding of another module.
    Global { module: FileId, index: u32 },
    /// A prelude function or a native of the standard library, by name.
    Builtin(Name),
    /// A class method: slot `n_supers + index` of the dictionary.
    Method { n_supers: u32, index: u32 },
}

/// A class declared in another module.
#[derive(Clone, Debug)]
pub struct ImportedClass {
    pub n_supers: u32,
    pub methods: Vec<Name>,
    /// The module and declaration index of the class's default-method provider.
    pub defaults: Option<(FileId, u32)>,
}

/// What a module's imports bring, for lowering: keys are the names as written in the
/// module (`x`, or `m.x` for a module alias `m`).
#[derive(Clone, Debug, Default)]
pub struct Imports {
    pub values: HashMap<Name, ImportedValue>,
    /// Constructors: whether each takes a payload.
    pub ctors: HashMap<Name, bool>,
    /// Classes (for instances of imported classes): superclass count, method names, and
    /// the declaration that provides the class's default methods (see
    /// [`Program::default_providers`]).
    pub classes: HashMap<Name, ImportedClass>,
    pub types: HashMap<Name, Arc<TypeTemplate>>,
    pub aliases: std::collections::HashSet<Name>,
}

#[derive(Clone, Debug)]
pub struct CheckItem {
    pub kind: CheckKind,
    /// The item as written, for messages (`with <= 12`).
    pub text: String,
    pub span: Span,
    /// The file that declares the item.
    pub file: FileId,
}

#[derive(Clone, Debug)]
pub enum CheckKind {
    /// Compiled regex; for `pattern` it is anchored already.
    Regex(Arc<Regex>),
    /// A closed function of `x` returning Bool: a closure value made once, so that a check
    /// allocates nothing to call it.
    Pred(Value),
    /// A function of `x` returning Bool that uses locals in scope where the type is written
    /// (LANGUAGE.md 8.1): its captures are read from the frame the check runs in (the
    /// enclosing function's at an annotation or a `let ... in`, the lambda's own at its
    /// parameters) when the check runs.
    Open(Arc<LambdaDef>),
    /// Not lowered: a plan made for the type exporters ([`lower_type_plans`]), which read
    /// only the item's text. Never run.
    Unlowered,
}

/// Whether a lowering compiles refinement predicates and regexes (to run them) or leaves
/// them as their text (plans for the type exporters).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Predicates {
    Lowered,
    Text,
}

/// One top-level declaration after lowering.
#[derive(Debug)]
pub struct CoreDecl {
    /// The bound name (`None` for declarations without a value: types, classes, exports).
    pub name: Option<Name>,
    pub kind: DeclKind,
    pub span: Span,
    /// The declarations of this module it references (sorted, each below its own index):
    /// its edges in the evaluation DAG.
    pub deps: Vec<u32>,
}

#[derive(Debug)]
pub enum DeclKind {
    /// A value binding: evaluate `value` in a frame of `n_slots`, then validate.
    Value {
        value: Core,
        n_slots: u32,
        check: Option<Arc<Plan>>,
        ann_span: Span,
    },
    /// An instance: its dictionary (or dictionary builder when it has a context).
    Instance { value: Core, n_slots: u32 },
    /// Nothing to evaluate.
    None,
}

/// A lowered module.
#[derive(Debug)]
pub struct Program {
    pub file: FileId,
    pub decls: Vec<CoreDecl>,
    pub body: Option<(Core, u32)>,
    pub body_span: Span,
    /// Validation templates of the types this module declares, for importers.
    pub types: HashMap<Name, Arc<TypeTemplate>>,
    /// Classes with default methods, by name: the declaration index whose value is the
    /// class's *default provider*, a dictionary holding, per method in class order, a
    /// function from a thunk of the instance's dictionary to the default (`()` for methods
    /// without one). Instances in other modules use it for the methods they leave out.
    pub default_providers: HashMap<Name, u32>,
}

// ---------------------------------------------------------------- lowering state

struct FnCtx {
    scopes: Vec<(Name, u32)>,
    next_slot: u32,
    max_slot: u32,
    captures: Vec<(Name, VarRef)>,
    self_name: Option<Name>,
}

impl FnCtx {
    fn new(self_name: Option<Name>) -> FnCtx {
        FnCtx {
            scopes: Vec::new(),
            next_slot: 0,
            max_slot: 0,
            captures: Vec::new(),
            self_name,
        }
    }
}

/// A declared type as plans read it: its parameters, and the index of its declaration in
/// the module, whose right-hand side plans read in place ([`Lowerer::type_body`]). Not a
/// copy of the syntax: copying every type's tree (a 100,000-line schema's 54,000 types)
/// was a fifth of exporting its types, most of it in fresh memory.
#[derive(Clone)]
enum TypeInfo {
    Alias { params: Arc<[Name]>, decl: u32 },
    Union { params: Arc<[Name]>, decl: u32 },
}

/// The right-hand side of a declared type, read in the module's tree.
enum TypeBody<'a> {
    Alias(&'a ast::Type),
    Union(&'a [ast::Variant]),
}

#[derive(Clone)]
struct ClassInfo {
    /// The class's declaration.
    decl: u32,
    n_supers: u32,
    methods: Vec<Name>,
    defaults: Vec<ast::MethodDef>,
}

struct Lowerer<'a> {
    /// The module lowered: the declarations [`TypeInfo`] points to.
    module: &'a ast::Module,
    elab: &'a Elaboration,
    source: &'a str,
    file: FileId,
    fns: Vec<FnCtx>,
    /// Where top-level names are bound: owned while declarations are lowered in order,
    /// borrowed (and never changed) by the workers lowering a run of lets (`lower_run`).
    t: Cow<'a, Tables>,
    /// Globals at or above this decl index are not visible (predicates of earlier types;
    /// the later lets of a run, whose names are bound up front).
    global_limit: u32,
    /// While lowering an instance: its decl index and context size.
    current_instance: Option<(u32, u32)>,
    /// Union names being expanded into plans (guards recursive unions).
    expanding: Vec<Expanding>,
    /// How many declared types' bodies the plan being built is inside: their predicates see
    /// only earlier top-level names (`global_limit`), never the locals of the use site.
    closed: u32,
    imports: &'a Imports,
    /// Refer to this module's own top-level bindings by module and index, because its
    /// closures may run inside other modules (every module but the entry).
    absolute: bool,
    /// While lowering a default provider: the instance's dictionary is `$self ()`.
    self_thunk: bool,
    default_providers: HashMap<Name, u32>,
    /// Top-level declarations of this module referenced by the declaration being lowered.
    deps: Vec<u32>,
    /// Lets whose values the host supplies (see [`lower_with`]).
    skip: &'a Skip<'a>,
    /// Polled before each declaration (LANGUAGE.md 12.3).
    interrupt: &'a Interrupt,
    poll: Poll<'a>,
    /// Regexes compiled so far, by source: a schema's many aliases of one refined type
    /// (`type Name0 = String with pattern(...)`, ...) compile it once.
    regexes: HashMap<String, Arc<Regex>>,
    predicates: Predicates,
}

type LResult<T> = Result<T, Box<Diagnostic>>;

/// Which lets the host supplies the values of (see [`lower_linked`]).
pub type Skip<'a> = dyn Fn(u32) -> bool + Sync + 'a;

/// How [`lower_linked`] may lower long runs of lets on several threads.
#[derive(Clone, Copy)]
pub struct Spread<'a> {
    /// Runs `job(0..n)`, in any order, maybe at once.
    pub for_each: &'a ForEach<'a>,
    /// Workers: a run is cut into four times as many parts.
    pub workers: usize,
    /// Runs of fewer consecutive lets are lowered in order.
    pub min_run: usize,
}

/// Lowers a checked module. `source` is the module's text (used to quote constraint items
/// in messages). Never panics; an unresolvable construct is a `Severity::Bug` diagnostic.
pub fn lower(
    module: &ast::Module,
    elab: &Elaboration,
    file: FileId,
    source: &str,
) -> Result<Program, Box<Diagnostic>> {
    lower_linked(
        module,
        elab,
        file,
        source,
        &Imports::default(),
        false,
        &|_| false,
        None,
    )
    .map(|(program, _)| program)
}

/// What lowering a module learnt of its declarations: where each top-level name is bound,
/// its types, constructors, classes and instances. Kept with the program, it lets
/// [`relower`] lower a few declarations again after an edit that left every declaration
/// in its place.
#[derive(Clone)]
pub struct Tables {
    globals: HashMap<Name, u32>,
    types: HashMap<Name, TypeInfo>,
    ctors: HashMap<Name, bool>,
    classes: HashMap<Name, ClassInfo>,
    methods: HashMap<Name, (Name, u32)>,
    instances: HashMap<u32, u32>,
}

impl Tables {
    fn new() -> Tables {
        let mut ctors = HashMap::default();
        for (name, payload) in [("Some", true), ("None", false), ("Ok", true), ("Err", true)] {
            ctors.insert(Name::new(name), payload);
        }
        Tables {
            globals: HashMap::default(),
            types: HashMap::default(),
            ctors,
            classes: HashMap::default(),
            methods: HashMap::default(),
            instances: HashMap::default(),
        }
    }

    /// Whether `name` is bound by declaration `idx` or a later one: a top-level value, or a
    /// method of a class declared there (lowering declaration `idx` first saw the
    /// prelude's or an import's `name`, or nothing).
    pub fn bound_at_or_after(&self, name: &Name, idx: u32) -> bool {
        let method_class = || {
            let (class, _) = self.methods.get(name)?;
            Some(self.classes.get(class)?.decl)
        };
        self.globals.get(name).is_some_and(|j| *j >= idx)
            || method_class().is_some_and(|j| j >= idx)
    }
}

impl<'a> Lowerer<'a> {
    #[allow(clippy::too_many_arguments)]
    fn new(
        module: &'a ast::Module,
        elab: &'a Elaboration,
        source: &'a str,
        file: FileId,
        imports: &'a Imports,
        absolute: bool,
        skip: &'a Skip<'a>,
        t: Cow<'a, Tables>,
        interrupt: &'a Interrupt,
    ) -> Lowerer<'a> {
        Lowerer {
            interrupt,
            poll: Poll::new(interrupt),
            module,
            elab,
            source,
            file,
            fns: Vec::new(),
            t,
            global_limit: u32::MAX,
            current_instance: None,
            expanding: Vec::new(),
            closed: 0,
            imports,
            absolute,
            self_thunk: false,
            default_providers: HashMap::default(),
            deps: Vec::new(),
            skip,
            regexes: HashMap::default(),
            predicates: Predicates::Lowered,
        }
    }

    /// A lowerer of the same module that borrows these tables (never changing them), for a
    /// worker lowering part of a run of lets.
    fn worker(&self) -> Lowerer<'_> {
        let mut worker = Lowerer::new(
            self.module,
            self.elab,
            self.source,
            self.file,
            self.imports,
            self.absolute,
            self.skip,
            Cow::Borrowed(&*self.t),
            self.interrupt,
        );
        worker.global_limit = self.global_limit;
        worker
    }

    /// Binds top-level `name` to declaration `idx`, unless a run bound it up front (the
    /// workers of a run borrow the tables and must not change them).
    fn bind_global(&mut self, name: &Name, idx: u32) {
        match &mut self.t {
            Cow::Owned(t) => {
                t.globals.insert(name.clone(), idx);
            }
            Cow::Borrowed(t) if t.globals.get(name) == Some(&idx) => {}
            Cow::Borrowed(_) => {
                self.t.to_mut().globals.insert(name.clone(), idx);
            }
        }
    }

    fn into_tables(self) -> Tables {
        self.t.into_owned()
    }

    /// Lowers declaration `idx`, with the declarations it references.
    fn lower_decl_with_deps(&mut self, idx: usize, decl: &ast::Decl) -> LResult<CoreDecl> {
        if self.poll.stop() {
            let at = Span::new(decl.span.start, decl.span.start);
            return Err(Box::new(interrupt::cancelled("lowering", self.file, at)));
        }
        let idx = u32::try_from(idx).map_err(|_| self.bug(decl.span, "too many declarations"))?;
        let mut lowered = self.lower_decl(idx, decl)?;
        let mut deps = std::mem::take(&mut self.deps);
        deps.sort_unstable();
        deps.dedup();
        lowered.deps = deps;
        Ok(lowered)
    }
}

/// Lowers a module that has imports. `absolute` makes references to the module's own
/// top-level bindings [`Core::Imported`] (for modules that others import: their closures
/// run in other modules' machines). The `let` declarations for which `skip` holds get a
/// placeholder body: the host supplies their values (the engine's value cache) and never
/// evaluates them.
/// With `spread`, runs of at least `min_run` consecutive lets are lowered on its threads
/// (see [`lower_run`]); the program is the same.
/// With the program come its [`Tables`], for [`relower`].
#[allow(clippy::too_many_arguments)]
pub fn lower_linked(
    module: &ast::Module,
    elab: &Elaboration,
    file: FileId,
    source: &str,
    imports: &Imports,
    absolute: bool,
    skip: &Skip<'_>,
    spread: Option<Spread<'_>>,
) -> Result<(Program, Tables), Box<Diagnostic>> {
    let none = Interrupt::default();
    let args = (imports, absolute, skip, spread);
    lower_linked_until(module, elab, file, source, args, &none)
}

/// [`lower_linked`] (its imports, `absolute`, `skip` and `spread` in one tuple), polling
/// `interrupt` before each declaration, on every worker: once it fires, the error is
/// R3008.
pub fn lower_linked_until(
    module: &ast::Module,
    elab: &Elaboration,
    file: FileId,
    source: &str,
    (imports, absolute, skip, spread): (&Imports, bool, &Skip<'_>, Option<Spread<'_>>),
    interrupt: &Interrupt,
) -> Result<(Program, Tables), Box<Diagnostic>> {
    let cx = Lowerer::new(
        module,
        elab,
        source,
        file,
        imports,
        absolute,
        skip,
        Cow::Owned(Tables::new()),
        interrupt,
    );
    lower_program(cx, module, spread)
}

/// The validation templates of a checked module's declared types (in
/// [`Program::types`]) for the type exporters, which read a plan's shape and its items'
/// text only: refinement predicates and regexes are not compiled
/// ([`CheckKind::Unlowered`]) and lets are not lowered (placeholders, as for values the
/// host has). A 100,000-line schema's predicates, lowered into closures, were most of
/// its lowering's time and memory.
pub fn lower_type_plans(
    module: &ast::Module,
    elab: &Elaboration,
    file: FileId,
    source: &str,
    imports: &Imports,
    interrupt: &Interrupt,
) -> Result<Program, Box<Diagnostic>> {
    let skip_lets = |_: u32| true;
    let mut cx = Lowerer::new(
        module,
        elab,
        source,
        file,
        imports,
        true,
        &skip_lets,
        Cow::Owned(Tables::new()),
        interrupt,
    );
    cx.predicates = Predicates::Text;
    lower_program(cx, module, None).map(|(program, _)| program)
}

/// Lowers `module`'s declarations, its trailing expression and (for a module lowered
/// `absolute`ly) its types' templates with `cx`.
fn lower_program(
    mut cx: Lowerer<'_>,
    module: &ast::Module,
    spread: Option<Spread<'_>>,
) -> Result<(Program, Tables), Box<Diagnostic>> {
    let file = cx.file;
    let absolute = cx.absolute;
    cx.t.to_mut().globals.reserve(module.decls.len());
    // Sized up front, as the checker's maps are: a schema's 54,000 types and their
    // constructors would otherwise grow these maps a dozen times.
    let (types, ctors) = module.decls.iter().fold((0, 0), |(t, c), d| match &d.kind {
        ast::DeclKind::Type(decl) => match &decl.rhs {
            ast::TypeRhs::Union(vs) => (t + 1, c + vs.len()),
            ast::TypeRhs::Lone { .. } => (t + 1, c + 1),
            ast::TypeRhs::Alias(_) => (t + 1, c),
        },
        _ => (t, c),
    });
    cx.t.to_mut().types.reserve(types);
    cx.t.to_mut().ctors.reserve(ctors);
    let all = &module.decls;
    let mut decls = Vec::with_capacity(all.len());
    let is_let = |d: &ast::Decl| matches!(d.kind, ast::DeclKind::Let(_));
    let mut idx = 0;
    let mut body = None;
    while idx < all.len() {
        let run = all
            .get(idx..)
            .unwrap_or(&[])
            .iter()
            .take_while(|d| is_let(d))
            .count();
        match spread.filter(|s| run >= s.min_run.max(2)) {
            Some(spread) => {
                // A run that ends the declarations takes the trailing expression along.
                let last = idx + run == all.len();
                let with = module.body.as_ref().filter(|_| last);
                body = lower_run(&mut cx, all, idx..idx + run, with, spread, &mut decls)?;
                idx += run;
            }
            None => {
                // The whole run in order (a run is looked at once, from its start).
                for (k, decl) in all.iter().enumerate().skip(idx).take(run.max(1)) {
                    decls.push(cx.lower_decl_with_deps(k, decl)?);
                }
                idx += run.max(1);
            }
        }
    }
    let body = match (body, &module.body) {
        (Some(body), _) => Some(body),
        (None, Some(expr)) => Some(cx.lower_root(None, |cx| cx.lower_expr(expr))?),
        (None, None) => None,
    };
    let body_span = module.body.as_ref().map(|it| it.span).unwrap_or_default();
    let types = if absolute {
        cx.templates()?
    } else {
        HashMap::default()
    };
    let default_providers = std::mem::take(&mut cx.default_providers);
    let program = Program {
        file,
        decls,
        body,
        body_span,
        types,
        default_providers,
    };
    Ok((program, cx.into_tables()))
}

/// Lowers the lets `run` of `all` on `spread`'s threads into `out`. Their names are bound
/// first; each let is then lowered by a worker that borrows the tables and sees, through
/// `global_limit`, only the lets before it, as lowering in order does (a run has no type,
/// class or instance declaration, the other things the tables hold). With `body` (the
/// trailing expression, when the run ends the declarations), it is lowered alongside,
/// seeing every let, and returned. The first failure in source order is the one reported.
fn lower_run(
    cx: &mut Lowerer<'_>,
    all: &[ast::Decl],
    run: std::ops::Range<usize>,
    body: Option<&ast::Expr>,
    spread: Spread<'_>,
    out: &mut Vec<CoreDecl>,
) -> LResult<Option<(Core, u32)>> {
    let lets = all.get(run.clone()).unwrap_or(&[]);
    {
        let globals = &mut cx.t.to_mut().globals;
        for (k, decl) in run.clone().zip(lets) {
            if let ast::DeclKind::Let(l) = &decl.kind {
                globals.insert(l.name.name.clone(), k as u32);
            }
        }
    }
    let part = (lets.len() / (spread.workers.max(1) * 4)).max(1);
    let n_parts = lets.len().div_ceil(part);
    let parts: Vec<OnceLock<LResult<Vec<CoreDecl>>>> =
        (0..n_parts).map(|_| OnceLock::new()).collect();
    let cx_ref: &Lowerer<'_> = cx;
    let lowered_body: OnceLock<LResult<(Core, u32)>> = OnceLock::new();
    // The trailing expression, the biggest job (it names every let), is job 0: started first.
    let first = usize::from(body.is_some());
    (spread.for_each)(n_parts + first, &|job| {
        let mut worker = cx_ref.worker();
        let Some(p) = job.checked_sub(first) else {
            if let Some(expr) = body {
                let _ = lowered_body.set(worker.lower_root(None, |cx| cx.lower_expr(expr)));
            }
            return;
        };
        let Some(slot) = parts.get(p) else {
            return;
        };
        let from = run.start + p * part;
        let to = (from + part).min(run.end);
        let mut lowered = Vec::with_capacity(to - from);
        let mut result = Ok(());
        for (k, decl) in all.iter().enumerate().take(to).skip(from) {
            worker.global_limit = k as u32;
            match worker.lower_decl_with_deps(k, decl) {
                Ok(d) => lowered.push(d),
                Err(e) => {
                    result = Err(e);
                    break;
                }
            }
        }
        let _ = slot.set(result.map(|()| lowered));
    });
    for slot in parts {
        match slot.into_inner() {
            Some(Ok(lowered)) => out.extend(lowered),
            Some(Err(e)) => return Err(e),
            None => return Err(cx.bug(Span::default(), "a part of a run was not lowered")),
        }
    }
    match (body, lowered_body.into_inner()) {
        (None, _) => Ok(None),
        (Some(_), Some(lowered)) => lowered.map(Some),
        (Some(expr), None) => Err(cx.bug(expr.span, "the trailing expression was not lowered")),
    }
}

/// Lowers again, in `program` (the module's last lowering, whose [`Tables`] are `tables`),
/// the `let` declarations `redo` names, and the trailing expression when `redo_body`. Only
/// for a module whose declarations are all where they were, with the same names and kinds,
/// and where no name a redone `let` mentions is bound at or after it (lowering it first saw
/// the prelude's, or nothing): the caller makes sure of both.
#[allow(clippy::too_many_arguments)]
pub fn relower(
    module: &ast::Module,
    elab: &Elaboration,
    source: &str,
    imports: &Imports,
    absolute: bool,
    skip: &Skip<'_>,
    (mut program, tables): (Program, Tables),
    redo: &[usize],
    redo_body: bool,
) -> Result<(Program, Tables), Box<Diagnostic>> {
    // A few declarations after an edit: not polled.
    let none = Interrupt::default();
    let mut cx = Lowerer::new(
        module,
        elab,
        source,
        program.file,
        imports,
        absolute,
        skip,
        Cow::Owned(tables),
        &none,
    );
    for &idx in redo {
        let (Some(decl), Some(slot)) = (module.decls.get(idx), program.decls.get_mut(idx)) else {
            return Err(cx.bug(Span::default(), "re-lowered declaration out of range"));
        };
        if !matches!(decl.kind, ast::DeclKind::Let(_)) {
            return Err(cx.bug(decl.span, "only lets are lowered again"));
        }
        *slot = cx.lower_decl_with_deps(idx, decl)?;
    }
    if redo_body {
        program.body = match &module.body {
            Some(expr) => Some(cx.lower_root(None, |cx| cx.lower_expr(expr))?),
            None => None,
        };
        program.body_span = module.body.as_ref().map(|it| it.span).unwrap_or_default();
    }
    Ok((program, cx.into_tables()))
}

impl<'a> Lowerer<'a> {
    /// The right-hand side of the declared type `info`, read in place in the module's
    /// tree (the declaration it was bound from).
    fn type_body(&self, info: &TypeInfo, at: Span) -> LResult<TypeBody<'a>> {
        let module: &'a ast::Module = self.module;
        let decl = match info {
            TypeInfo::Alias { decl, .. } | TypeInfo::Union { decl, .. } => *decl,
        };
        let rhs = match module.decls.get(decl as usize).map(|it| &it.kind) {
            Some(ast::DeclKind::Type(t)) => &t.rhs,
            _ => return Err(self.bug(at, "a type's declaration is not in its module")),
        };
        Ok(match (info, rhs) {
            (TypeInfo::Alias { .. }, ast::TypeRhs::Alias(ty))
            | (TypeInfo::Alias { .. }, ast::TypeRhs::Lone { as_type: ty, .. }) => {
                TypeBody::Alias(ty)
            }
            (TypeInfo::Union { .. }, ast::TypeRhs::Union(variants)) => TypeBody::Union(variants),
            (TypeInfo::Union { .. }, ast::TypeRhs::Lone { variant, .. }) => {
                TypeBody::Union(std::slice::from_ref(variant))
            }
            _ => return Err(self.bug(at, "a type's declaration changed kind")),
        })
    }
}

impl Lowerer<'_> {
    /// A reference to this module's top-level binding `idx`, recorded as a dependency of
    /// the declaration being lowered (an edge of the evaluation DAG).
    fn global_ref(&mut self, idx: u32) -> Core {
        self.deps.push(idx);
        if self.absolute {
            Core::Imported {
                module: self.file,
                index: idx,
            }
        } else {
            Core::Global(idx)
        }
    }

    /// The validation templates of every declared type.
    fn templates(&mut self) -> LResult<HashMap<Name, Arc<TypeTemplate>>> {
        let mut names: Vec<(Name, u32)> = self
            .t
            .types
            .iter()
            .map(|(name, info)| {
                let arity = match info {
                    TypeInfo::Alias { params, .. } | TypeInfo::Union { params, .. } => {
                        params.len() as u32
                    }
                };
                (name.clone(), arity)
            })
            .collect();
        // Names are unique (map keys): an unstable sort of the texts is the same order as a
        // stable sort of the pairs, in about 1% fewer of a schema export's instructions.
        names.sort_unstable_by(|a, b| a.0.as_str().cmp(b.0.as_str()));
        let mut out = HashMap::default();
        out.reserve(names.len());
        for (name, arity) in names {
            let ident = |name: Name| ast::Ident {
                name,
                span: Span::default(),
            };
            let args = (0..arity)
                .map(|k| ast::Type {
                    kind: ast::TypeKind::Var(ident(Name::new(format!("$hole{k}")))),
                    span: Span::default(),
                })
                .collect();
            let ty = ast::Type {
                kind: ast::TypeKind::Con(
                    ast::QName {
                        module: None,
                        name: ident(name.clone()),
                        span: Span::default(),
                    },
                    args,
                ),
                span: Span::default(),
            };
            let plan = self.plan_of(&ty)?.map(Arc::new);
            out.insert(name, Arc::new(TypeTemplate { arity, plan }));
        }
        Ok(out)
    }

    fn bug(&self, span: Span, message: &str) -> Box<Diagnostic> {
        let mut diag =
            Diagnostic::new(Code::T2003, format!("internal: {message}"), self.file, span);
        diag.severity = Severity::Bug;
        Box::new(diag)
    }

    fn text(&self, span: Span) -> String {
        self.source_of(span).to_string()
    }

    fn source_of(&self, span: Span) -> &str {
        self.source
            .get(span.start as usize..span.end as usize)
            .unwrap_or("")
    }

    fn lower_decl(&mut self, idx: u32, decl: &ast::Decl) -> LResult<CoreDecl> {
        match &decl.kind {
            ast::DeclKind::Let(let_decl) if (self.skip)(idx) => {
                // The host already has this binding's value: only its name is needed.
                let name = let_decl.name.name.clone();
                self.bind_global(&name, idx);
                Ok(CoreDecl {
                    name: Some(name),
                    kind: DeclKind::Value {
                        value: Core::Lit(Value::Unit),
                        n_slots: 0,
                        check: None,
                        ann_span: decl.span,
                    },
                    span: decl.span,
                    deps: Vec::new(),
                })
            }
            ast::DeclKind::Let(let_decl) => {
                let name = let_decl.name.name.clone();
                let n_dicts = self.elab.n_params(let_decl.value.id);
                let self_name = let_decl.rec.then(|| name.clone());
                let check = match &let_decl.ann {
                    Some(ty) => self.plan_of(ty)?.map(Arc::new),
                    None => None,
                };
                let (value, n_slots) = self.lower_root(None, |cx| {
                    cx.lower_binding_rhs(&let_decl.value, n_dicts, self_name.clone())
                })?;
                self.bind_global(&name, idx);
                let ann_span = let_decl.ann.as_ref().map(|it| it.span).unwrap_or(decl.span);
                Ok(CoreDecl {
                    name: Some(name),
                    kind: DeclKind::Value {
                        value,
                        n_slots,
                        check,
                        ann_span,
                    },
                    span: decl.span,
                    deps: Vec::new(),
                })
            }
            ast::DeclKind::Type(type_decl) => {
                let params: Arc<[Name]> =
                    type_decl.params.iter().map(|it| it.name.clone()).collect();
                let union: Option<&[ast::Variant]> = match &type_decl.rhs {
                    ast::TypeRhs::Union(variants) => Some(variants),
                    ast::TypeRhs::Alias(_) => None,
                    ast::TypeRhs::Lone { variant, .. } => {
                        // As the checker decides (types::decl): an alias of any type in
                        // scope, imported ones included, else a one-constructor union.
                        let known = self.t.types.contains_key(&variant.name.name)
                            || self.imports.types.contains_key(&variant.name.name)
                            || is_prelude_type(&variant.name.name);
                        if known {
                            None
                        } else {
                            Some(std::slice::from_ref(variant))
                        }
                    }
                };
                let info = match (union, &type_decl.rhs) {
                    (Some(variants), _) => {
                        for variant in variants.iter() {
                            self.t
                                .to_mut()
                                .ctors
                                .insert(variant.name.name.clone(), variant.payload.is_some());
                        }
                        TypeInfo::Union { params, decl: idx }
                    }
                    (None, ast::TypeRhs::Alias(_) | ast::TypeRhs::Lone { .. }) => {
                        TypeInfo::Alias { params, decl: idx }
                    }
                    (None, ast::TypeRhs::Union(_)) => return Err(self.bug(decl.span, "union")),
                };
                self.t
                    .to_mut()
                    .types
                    .insert(type_decl.name.name.clone(), info);
                Ok(CoreDecl {
                    name: None,
                    kind: DeclKind::None,
                    span: decl.span,
                    deps: Vec::new(),
                })
            }
            ast::DeclKind::Class(class) => {
                let methods: Vec<Name> = class
                    .methods
                    .iter()
                    .map(|it| it.name.name.clone())
                    .collect();
                let n_supers = u32::try_from(class.superclasses.len()).unwrap_or(u32::MAX);
                for (k, method) in methods.iter().enumerate() {
                    let k = u32::try_from(k).unwrap_or(u32::MAX);
                    let t = self.t.to_mut();
                    t.methods
                        .insert(method.clone(), (class.name.name.clone(), k));
                    t.globals.remove(method);
                }
                self.t.to_mut().classes.insert(
                    class.name.name.clone(),
                    ClassInfo {
                        decl: idx,
                        n_supers,
                        methods: methods.clone(),
                        defaults: class.defaults.clone(),
                    },
                );
                if !self.absolute || class.defaults.is_empty() {
                    return Ok(CoreDecl {
                        name: None,
                        kind: DeclKind::None,
                        span: decl.span,
                        deps: Vec::new(),
                    });
                }
                let (value, n_slots) = self.lower_default_provider(&methods, &class.defaults)?;
                self.default_providers.insert(class.name.name.clone(), idx);
                Ok(CoreDecl {
                    name: None,
                    kind: DeclKind::Instance { value, n_slots },
                    span: decl.span,
                    deps: Vec::new(),
                })
            }
            ast::DeclKind::Instance(inst) => {
                let n_ctx = u32::try_from(inst.context.len()).unwrap_or(u32::MAX);
                self.t.to_mut().instances.insert(idx, n_ctx);
                self.current_instance = Some((idx, n_ctx));
                let res = self.lower_instance(idx, inst, n_ctx, decl.span);
                self.current_instance = None;
                let (value, n_slots) = res?;
                Ok(CoreDecl {
                    name: None,
                    kind: DeclKind::Instance { value, n_slots },
                    span: decl.span,
                    deps: Vec::new(),
                })
            }
            ast::DeclKind::Export(_) => Ok(CoreDecl {
                name: None,
                kind: DeclKind::None,
                span: decl.span,
                deps: Vec::new(),
            }),
        }
    }

    /// A class's default provider (see [`Program::default_providers`]).
    fn lower_default_provider(
        &mut self,
        methods: &[Name],
        defaults: &[ast::MethodDef],
    ) -> LResult<(Core, u32)> {
        self.lower_root(None, |cx| {
            let mut parts = Vec::with_capacity(methods.len());
            for method in methods {
                let Some(def) = defaults.iter().find(|it| &it.name.name == method) else {
                    parts.push(Core::Lit(Value::Unit));
                    continue;
                };
                let n = cx.elab.n_params(def.value.id);
                let saved = std::mem::replace(&mut cx.self_thunk, true);
                let res = cx.lower_lambda_with(
                    vec![Some(Name::new("$self"))],
                    vec![None],
                    None,
                    def.span,
                    |cx| cx.lower_binding_rhs(&def.value, n, None),
                );
                cx.self_thunk = saved;
                parts.push(res?);
            }
            Ok(Core::MakeDict(parts))
        })
    }

    fn lower_instance(
        &mut self,
        idx: u32,
        inst: &ast::InstanceDecl,
        n_ctx: u32,
        span: Span,
    ) -> LResult<(Core, u32)> {
        let class_name = inst.class.name.name.clone();
        let mut provider = None;
        let (methods, defaults) = match self.t.classes.get(&class_name) {
            Some(class) if inst.class.module.is_none() => {
                (class.methods.clone(), class.defaults.clone())
            }
            _ => {
                let key = match &inst.class.module {
                    Some(m) => Name::new(format!("{}.{class_name}", m.name)),
                    None => class_name.clone(),
                };
                let Some(class) = self.imports.classes.get(&key) else {
                    return Err(self.bug(span, "instance of an unknown class"));
                };
                provider = class.defaults;
                (class.methods.clone(), Vec::new())
            }
        };
        let supers: Vec<DictExpr> = self
            .elab
            .instance_supers
            .get(&idx)
            .cloned()
            .unwrap_or_default();
        self.lower_root(None, |cx| {
            let build = |cx: &mut Lowerer<'_>| -> LResult<Core> {
                let mut parts = Vec::new();
                for sup in &supers {
                    parts.push(cx.lower_dict(sup, span)?);
                }
                for method in &methods {
                    let def = inst
                        .methods
                        .iter()
                        .find(|it| &it.name.name == method)
                        .or_else(|| defaults.iter().find(|it| &it.name.name == method));
                    match (def, provider) {
                        (Some(def), _) => {
                            let n = cx.elab.n_params(def.value.id);
                            parts.push(cx.lower_binding_rhs(&def.value, n, None)?);
                        }
                        (None, Some((module, decl))) => {
                            // The class's default, given this instance's dictionary lazily.
                            let k = methods.iter().position(|m| m == method).unwrap_or(0);
                            let thunk =
                                cx.lower_lambda_with(vec![None], vec![None], None, span, |cx| {
                                    cx.lower_dict(&DictExpr::SelfDict, span)
                                })?;
                            parts.push(Core::App {
                                func: Box::new(Core::DictGet {
                                    dict: Box::new(Core::Imported {
                                        module,
                                        index: decl,
                                    }),
                                    index: k as u32,
                                }),
                                args: vec![thunk],
                                span,
                            });
                        }
                        (None, None) => parts.push(Core::Lit(Value::Unit)),
                    }
                }
                Ok(Core::MakeDict(parts))
            };
            if n_ctx == 0 {
                build(cx)
            } else {
                let names = (0..n_ctx)
                    .map(|k| Some(Name::new(format!("$ctx{k}"))))
                    .collect();
                cx.lower_lambda_with(names, vec![None; n_ctx as usize], None, span, build)
            }
        })
    }

    /// Lowers an expression in a fresh top-level frame.
    fn lower_root(
        &mut self,
        self_name: Option<Name>,
        f: impl FnOnce(&mut Self) -> LResult<Core>,
    ) -> LResult<(Core, u32)> {
        self.fns.push(FnCtx::new(self_name));
        let res = f(self);
        let ctx = self.fns.pop();
        let core = res?;
        Ok((core, ctx.map(|it| it.max_slot).unwrap_or(0)))
    }

    /// The right-hand side of a binding: dictionary parameters and `let rec` self-reference.
    fn lower_binding_rhs(
        &mut self,
        rhs: &ast::Expr,
        n_dicts: u32,
        self_name: Option<Name>,
    ) -> LResult<Core> {
        if n_dicts > 0 {
            let names = (0..n_dicts)
                .map(|k| Some(dict_param_name(rhs.id, k)))
                .collect();
            return self.lower_lambda_with(
                names,
                vec![None; n_dicts as usize],
                self_name,
                rhs.span,
                |cx| cx.lower_expr(rhs),
            );
        }
        match (&self_name, &rhs.kind) {
            (Some(_), ast::ExprKind::Lambda { params, body }) => {
                self.lower_lambda(params, body, self_name, rhs.span)
            }
            _ => self.lower_expr(rhs),
        }
    }

    fn lower_lambda(
        &mut self,
        params: &[ast::Param],
        body: &ast::Expr,
        self_name: Option<Name>,
        span: Span,
    ) -> LResult<Core> {
        let names = params
            .iter()
            .map(|p| p.name.as_ref().map(|it| it.name.clone()))
            .collect();
        let anns: Vec<Option<&ast::Type>> = params.iter().map(|p| p.ann.as_ref()).collect();
        self.lower_lambda_with(names, anns, self_name, span, |cx| cx.lower_expr(body))
    }

    /// A lambda of `params`; `anns` are the parameters' annotations, whose checks are
    /// lowered inside the lambda, each seeing the parameters before its own (as the checker
    /// does), so that their locals are the lambda's captures and earlier parameters.
    fn lower_lambda_with(
        &mut self,
        params: Vec<Option<Name>>,
        anns: Vec<Option<&ast::Type>>,
        self_name: Option<Name>,
        span: Span,
        body: impl FnOnce(&mut Self) -> LResult<Core>,
    ) -> LResult<Core> {
        let arity = u32::try_from(params.len()).map_err(|_| self.bug(span, "arity"))?;
        let mut ctx = FnCtx::new(self_name);
        ctx.next_slot = arity;
        ctx.max_slot = arity;
        self.fns.push(ctx);
        let mut checks = Vec::with_capacity(params.len());
        let mut res = Ok(());
        for (k, name) in params.into_iter().enumerate() {
            if let Some(Some(ty)) = anns.get(k) {
                match self.plan_of(ty) {
                    Ok(plan) => checks.push(plan.map(Arc::new)),
                    Err(e) => {
                        res = Err(e);
                        break;
                    }
                }
            } else {
                checks.push(None);
            }
            if let (Some(name), Some(ctx)) = (name, self.fns.last_mut()) {
                ctx.scopes.push((name, k as u32));
            }
        }
        let res = res.and_then(|()| body(self));
        let Some(ctx) = self.fns.pop() else {
            return Err(self.bug(span, "function stack"));
        };
        let body = res?;
        checks.resize(arity as usize, None);
        let def = LambdaDef {
            file: self.file,
            arity,
            n_slots: ctx.max_slot,
            captures: ctx.captures.into_iter().map(|(_, it)| it).collect(),
            checks,
            body,
            span,
        };
        Ok(Core::Lambda(Arc::new(def)))
    }

    fn resolve_local(&mut self, name: &str) -> Option<VarRef> {
        let level = self.fns.len().checked_sub(1)?;
        self.resolve_at(level, name)
    }

    fn resolve_at(&mut self, level: usize, name: &str) -> Option<VarRef> {
        let ctx = self.fns.get(level)?;
        if let Some((_, slot)) = ctx.scopes.iter().rev().find(|(n, _)| n == name) {
            return Some(VarRef::Local(*slot));
        }
        if ctx.self_name.as_deref() == Some(name) {
            return Some(VarRef::SelfFn);
        }
        if let Some(k) = ctx.captures.iter().position(|(n, _)| n == name) {
            return Some(VarRef::Capture(k as u32));
        }
        if level == 0 {
            return None;
        }
        let outer = self.resolve_at(level - 1, name)?;
        let ctx = self.fns.get_mut(level)?;
        ctx.captures.push((Name::new(name), outer));
        Some(VarRef::Capture((ctx.captures.len() - 1) as u32))
    }

    fn push_local(&mut self, name: Name) -> u32 {
        let Some(ctx) = self.fns.last_mut() else {
            return 0;
        };
        let slot = ctx.next_slot;
        ctx.scopes.push((name, slot));
        ctx.next_slot += 1;
        ctx.max_slot = ctx.max_slot.max(ctx.next_slot);
        slot
    }

    fn scope_mark(&self) -> (usize, u32) {
        self.fns
            .last()
            .map(|it| (it.scopes.len(), it.next_slot))
            .unwrap_or((0, 0))
    }

    fn scope_reset(&mut self, mark: (usize, u32)) {
        if let Some(ctx) = self.fns.last_mut() {
            ctx.scopes.truncate(mark.0);
            ctx.next_slot = mark.1;
        }
    }

    fn lower_var(&mut self, expr: &ast::Expr, name: &Name) -> LResult<Core> {
        let dicts = self.elab.dicts_at(expr.id);
        if let Some(var) = self.resolve_local(name) {
            return self.apply_dicts(Core::Var(var), dicts, expr.span);
        }
        if let Some(&idx) = self.t.globals.get(name) {
            if idx < self.global_limit {
                let head = self.global_ref(idx);
                return self.apply_dicts(head, dicts, expr.span);
            }
        }
        if !self.t.methods.contains_key(name) {
            if let Some(imported) = self.imports.values.get(name).cloned() {
                return self.lower_imported(imported, dicts, expr.span);
            }
        }
        if let Some((class, k)) = self.t.methods.get(name).cloned() {
            let n_supers = self
                .t
                .classes
                .get(&class)
                .map(|it| it.n_supers)
                .unwrap_or(0);
            let Some(dict) = dicts.first() else {
                return Err(self.bug(expr.span, "method without a dictionary"));
            };
            let dict = self.lower_dict(dict, expr.span)?;
            let get = Core::DictGet {
                dict: Box::new(dict),
                index: n_supers + k,
            };
            return self.apply_dicts(get, dicts.get(1..).unwrap_or(&[]), expr.span);
        }
        // The prelude, then natives of the standard library (the checker decides visibility).
        if let Some(builtin) = Builtin::from_name(name).or_else(|| Builtin::from_native_name(name))
        {
            return Ok(Core::Lit(Value::Func(Arc::new(Func::Builtin(builtin)))));
        }
        Err(self.bug(expr.span, &format!("unbound name `{name}`")))
    }

    fn lower_imported(
        &mut self,
        imported: ImportedValue,
        dicts: &[DictExpr],
        span: Span,
    ) -> LResult<Core> {
        match imported {
            ImportedValue::Global { module, index } => {
                self.apply_dicts(Core::Imported { module, index }, dicts, span)
            }
            ImportedValue::Builtin(name) => {
                match Builtin::from_name(&name).or_else(|| Builtin::from_native_name(&name)) {
                    Some(builtin) => Ok(Core::Lit(Value::Func(Arc::new(Func::Builtin(builtin))))),
                    None => Err(self.bug(span, &format!("unknown built-in `{name}`"))),
                }
            }
            ImportedValue::Method { n_supers, index } => {
                let Some(dict) = dicts.first() else {
                    return Err(self.bug(span, "method without a dictionary"));
                };
                let dict = self.lower_dict(dict, span)?;
                let get = Core::DictGet {
                    dict: Box::new(dict),
                    index: n_supers + index,
                };
                self.apply_dicts(get, dicts.get(1..).unwrap_or(&[]), span)
            }
        }
    }

    /// `m.x` or `m.C` for a module alias `m`, if `expr` is one.
    fn lower_qualified(&mut self, expr: &ast::Expr) -> LResult<Option<Core>> {
        let Some((alias, _, member)) = expr.as_qualified() else {
            return Ok(None);
        };
        if !self.imports.aliases.contains(alias) || self.resolve_local(alias).is_some() {
            return Ok(None);
        }
        let key = Name::new(format!("{alias}.{}", member.name));
        if let Some(&payload) = self.imports.ctors.get(&key) {
            return Ok(Some(if payload {
                Core::Lit(Value::Func(Arc::new(Func::CtorFn(member.name.clone()))))
            } else {
                Core::Lit(Value::ctor(&member.name, None))
            }));
        }
        match self.imports.values.get(&key).cloned() {
            Some(imported) => {
                let dicts = self.elab.dicts_at(expr.id);
                Ok(Some(self.lower_imported(imported, dicts, expr.span)?))
            }
            None => Err(self.bug(expr.span, &format!("unknown qualified name `{key}`"))),
        }
    }

    fn apply_dicts(&mut self, head: Core, dicts: &[DictExpr], span: Span) -> LResult<Core> {
        if dicts.is_empty() {
            return Ok(head);
        }
        let mut args = Vec::with_capacity(dicts.len());
        for dict in dicts {
            args.push(self.lower_dict(dict, span)?);
        }
        Ok(Core::App {
            func: Box::new(head),
            args,
            span,
        })
    }

    fn lower_dict(&mut self, dict: &DictExpr, span: Span) -> LResult<Core> {
        match dict {
            DictExpr::Instance { instance, args } => {
                let head = if instance.module == self.file {
                    self.global_ref(instance.decl)
                } else {
                    Core::Imported {
                        module: instance.module,
                        index: instance.decl,
                    }
                };
                let mut lowered = Vec::with_capacity(args.len());
                for arg in args {
                    lowered.push(self.lower_dict(arg, span)?);
                }
                if lowered.is_empty() {
                    Ok(head)
                } else {
                    Ok(Core::App {
                        func: Box::new(head),
                        args: lowered,
                        span,
                    })
                }
            }
            DictExpr::Param { binder, index } => {
                let name = dict_param_name(*binder, *index);
                match self.resolve_local(&name) {
                    Some(var) => Ok(Core::Var(var)),
                    None => Err(self.bug(span, "dictionary parameter not in scope")),
                }
            }
            DictExpr::Context { index } => match self.resolve_local(&format!("$ctx{index}")) {
                Some(var) => Ok(Core::Var(var)),
                None => Err(self.bug(span, "instance context not in scope")),
            },
            DictExpr::SelfDict if self.self_thunk => match self.resolve_local("$self") {
                Some(var) => Ok(Core::App {
                    func: Box::new(Core::Var(var)),
                    args: vec![Core::Lit(Value::Unit)],
                    span,
                }),
                None => Err(self.bug(span, "default provider without its dictionary")),
            },
            DictExpr::SelfDict => {
                let Some((idx, n_ctx)) = self.current_instance else {
                    return Err(self.bug(span, "self dictionary outside an instance"));
                };
                let args = (0..n_ctx)
                    .map(|k| DictExpr::Context { index: k })
                    .collect::<Vec<_>>();
                let mut lowered = Vec::new();
                for arg in &args {
                    lowered.push(self.lower_dict(arg, span)?);
                }
                if lowered.is_empty() {
                    Ok(self.global_ref(idx))
                } else {
                    Ok(Core::App {
                        func: Box::new(self.global_ref(idx)),
                        args: lowered,
                        span,
                    })
                }
            }
            DictExpr::Super { dict, index } => {
                let inner = self.lower_dict(dict, span)?;
                Ok(Core::DictGet {
                    dict: Box::new(inner),
                    index: *index,
                })
            }
        }
    }

    fn lower_exprs(&mut self, exprs: &[ast::Expr]) -> LResult<Vec<Core>> {
        let mut out = Vec::with_capacity(exprs.len());
        for expr in exprs {
            out.push(self.lower_expr(expr)?);
        }
        Ok(out)
    }

    fn lower_expr(&mut self, expr: &ast::Expr) -> LResult<Core> {
        if self.poll.stop() {
            let at = Span::new(expr.span.start, expr.span.start);
            return Err(Box::new(interrupt::cancelled("lowering", self.file, at)));
        }
        // Long `let ... in` chains are lowered iteratively and then nested back up.
        if let ast::ExprKind::Let { .. } = &expr.kind {
            return self.lower_let_chain(expr);
        }
        if let ast::ExprKind::Field { .. } = &expr.kind {
            if let Some(core) = self.lower_qualified(expr)? {
                return Ok(core);
            }
        }
        Ok(match &expr.kind {
            ast::ExprKind::Int(n) => Core::Lit(Value::Int(*n)),
            ast::ExprKind::Float(x) => Core::Lit(Value::Float(*x)),
            ast::ExprKind::Str(s) => Core::Lit(Value::str(s)),
            ast::ExprKind::Bool(b) => Core::Lit(Value::Bool(*b)),
            ast::ExprKind::Unit => Core::Lit(Value::Unit),
            ast::ExprKind::Var(name) => self.lower_var(expr, name)?,
            ast::ExprKind::Ctor(name) => self.lower_ctor(name, expr.span)?,
            ast::ExprKind::Lambda { params, body } => {
                self.lower_lambda(params, body, None, expr.span)?
            }
            ast::ExprKind::App { func, args } => {
                let func = self.lower_expr(func)?;
                let args = self.lower_exprs(args)?;
                Core::App {
                    func: Box::new(func),
                    args,
                    span: expr.span,
                }
            }
            ast::ExprKind::Let { .. } => return Err(self.bug(expr.span, "let")),
            ast::ExprKind::If {
                cond,
                then_branch,
                else_branch,
            } => {
                // `else if` chains: lower iteratively.
                let mut conds = Vec::new();
                let mut cur = expr;
                while let ast::ExprKind::If {
                    cond,
                    then_branch,
                    else_branch,
                } = &cur.kind
                {
                    conds.push((self.lower_expr(cond)?, self.lower_expr(then_branch)?));
                    cur = else_branch;
                }
                let _ = (cond, then_branch, else_branch);
                let mut acc = self.lower_expr(cur)?;
                while let Some((c, t)) = conds.pop() {
                    acc = Core::If {
                        cond: Box::new(c),
                        then_branch: Box::new(t),
                        else_branch: Box::new(acc),
                    };
                }
                acc
            }
            ast::ExprKind::Match { scrutinee, cases } => {
                let scrutinee = self.lower_expr(scrutinee)?;
                let mut out = Vec::with_capacity(cases.len());
                for case in cases {
                    let mark = self.scope_mark();
                    let pat = self.lower_pat(&case.pat)?;
                    let guard = match &case.guard {
                        Some(g) => Some(self.lower_expr(g)?),
                        None => None,
                    };
                    let body = self.lower_expr(&case.body)?;
                    self.scope_reset(mark);
                    out.push(CoreCase { pat, guard, body });
                }
                Core::Match {
                    scrutinee: Box::new(scrutinee),
                    cases: out,
                    span: expr.span,
                }
            }
            ast::ExprKind::Binary { op, lhs, rhs, .. } => Core::Binary {
                op: *op,
                lhs: Box::new(self.lower_expr(lhs)?),
                rhs: Box::new(self.lower_expr(rhs)?),
                span: expr.span,
            },
            ast::ExprKind::Unary { op, operand } => Core::Unary {
                op: *op,
                operand: Box::new(self.lower_expr(operand)?),
                span: expr.span,
            },
            ast::ExprKind::Field { expr: inner, field } => Core::Field {
                expr: Box::new(self.lower_expr(inner)?),
                name: field.name.clone(),
            },
            ast::ExprKind::Record { base, fields } => {
                let names: Vec<Name> = fields.iter().map(|f| f.name.name.clone()).collect();
                let mut values = Vec::with_capacity(fields.len());
                let base = match base {
                    Some(b) => Some(self.lower_expr(b)?),
                    None => None,
                };
                for field in fields {
                    values.push(self.lower_expr(&field.value)?);
                }
                match base {
                    Some(base) => Core::Spread {
                        base: Box::new(base),
                        names,
                        values,
                    },
                    None => Core::Record {
                        names: names.into(),
                        values,
                    },
                }
            }
            ast::ExprKind::List(items) => Core::List(self.lower_exprs(items)?),
            ast::ExprKind::Ann { expr: inner, ty } => {
                let inner = self.lower_expr(inner)?;
                let plan = self.plan_of(ty)?.map(Arc::new);
                Core::Ann {
                    expr: Box::new(inner),
                    plan,
                    span: ty.span,
                }
            }
            ast::ExprKind::Error => return Err(self.bug(expr.span, "parse error node")),
        })
    }

    fn lower_let_chain(&mut self, expr: &ast::Expr) -> LResult<Core> {
        let mark = self.scope_mark();
        let mut frames = Vec::new();
        let mut cur = expr;
        while let ast::ExprKind::Let {
            rec,
            name,
            ann,
            value,
            body,
        } = &cur.kind
        {
            let n_dicts = self.elab.n_params(value.id);
            let self_name = rec.then(|| name.name.clone());
            let check = match ann {
                Some(ty) => self.plan_of(ty)?.map(Arc::new),
                None => None,
            };
            let value = self.lower_binding_rhs(value, n_dicts, self_name)?;
            let slot = self.push_local(name.name.clone());
            frames.push((
                slot,
                value,
                check,
                ann.as_ref().map(|it| it.span).unwrap_or(cur.span),
            ));
            cur = body;
        }
        let mut acc = self.lower_expr(cur)?;
        self.scope_reset(mark);
        while let Some((slot, value, check, span)) = frames.pop() {
            acc = Core::Let {
                slot,
                value: Box::new(value),
                check,
                body: Box::new(acc),
                span,
            };
        }
        Ok(acc)
    }

    fn lower_ctor(&mut self, name: &Name, span: Span) -> LResult<Core> {
        match self
            .t
            .ctors
            .get(name)
            .or_else(|| self.imports.ctors.get(name))
        {
            Some(true) => Ok(Core::Lit(Value::Func(Arc::new(Func::CtorFn(name.clone()))))),
            Some(false) => Ok(Core::Lit(Value::ctor(name, None))),
            None => Err(self.bug(span, &format!("unknown constructor `{name}`"))),
        }
    }

    fn lower_pat(&mut self, pat: &ast::Pattern) -> LResult<Pat> {
        Ok(match &pat.kind {
            ast::PatternKind::Wildcard => Pat::Wild,
            ast::PatternKind::Var(id) => Pat::Bind(self.push_local(id.name.clone())),
            ast::PatternKind::Lit(lit) => Pat::Lit(match lit {
                ast::Literal::Int(n) => Value::Int(*n),
                ast::Literal::Float(x) => Value::Float(*x),
                ast::Literal::Str(s) => Value::str(s),
                ast::Literal::Bool(b) => Value::Bool(*b),
                ast::Literal::Unit => Value::Unit,
            }),
            ast::PatternKind::Ctor { name, payload, .. } => Pat::Ctor {
                name: name.name.clone(),
                payload: match payload {
                    Some(p) => Some(Box::new(self.lower_pat(p)?)),
                    None => None,
                },
            },
            ast::PatternKind::Record { fields, .. } => {
                let mut out = Vec::with_capacity(fields.len());
                for field in fields {
                    out.push((field.name.name.clone(), self.lower_pat(&field.pat)?));
                }
                Pat::Record(out)
            }
            ast::PatternKind::List(items) => {
                let mut out = Vec::with_capacity(items.len());
                for item in items {
                    out.push(self.lower_pat(item)?);
                }
                Pat::List(out)
            }
            ast::PatternKind::Error => return Err(self.bug(pat.span, "parse error pattern")),
        })
    }

    // ------------------------------------------------------------ validation plans

    /// The plan for `ty`, or `None` when the type contains no refinement.
    fn plan_of(&mut self, ty: &ast::Type) -> LResult<Option<Plan>> {
        self.plan_named(ty, &Rc::default(), None)
    }

    /// The plan of a declared type's argument, in the scope where the argument is written.
    fn plan_of_arg(&mut self, arg: &TypeArg<'_>) -> LResult<Option<Plan>> {
        let limit = std::mem::replace(&mut self.global_limit, arg.limit);
        let closed = std::mem::replace(&mut self.closed, arg.closed);
        let res = self.plan_named(arg.ty, &arg.subst, None);
        self.global_limit = limit;
        self.closed = closed;
        res
    }

    /// The plan of a declared type's body (`rhs` of an alias, a variant's payload): only
    /// the top-level names before `decl` are visible in it.
    fn plan_in_decl(
        &mut self,
        decl: u32,
        f: impl FnOnce(&mut Self) -> LResult<Option<Plan>>,
    ) -> LResult<Option<Plan>> {
        let limit = std::mem::replace(&mut self.global_limit, decl);
        self.closed += 1;
        let res = f(self);
        self.closed -= 1;
        self.global_limit = limit;
        res
    }

    /// The plan for `ty` read under `subst`. Type arguments are never substituted into
    /// syntax: a variable bound by an alias or union parameter is read where it was written,
    /// under the substitution of that place (`TypeArg`), so nested applications such as
    /// `L (L (... Integer))` cost time and memory linear in their size, not quadratic.
    fn plan_named<'t>(
        &mut self,
        ty: &'t ast::Type,
        subst: &Rc<Subst<'t>>,
        alias_name: Option<Name>,
    ) -> LResult<Option<Plan>> {
        match &ty.kind {
            ast::TypeKind::Var(v) => match subst.get(&v.name) {
                Some(Some(arg)) => {
                    let arg = arg.clone();
                    self.plan_of_arg(&arg)
                }
                _ => Ok(v
                    .name
                    .strip_prefix("$hole")
                    .and_then(|k| k.parse().ok())
                    .map(Plan::Param)),
            },
            ast::TypeKind::Fun(..) | ast::TypeKind::Error => Ok(None),
            ast::TypeKind::Qualified { ty, .. } => self.plan_named(ty, subst, alias_name),
            ast::TypeKind::List(inner) => Ok(self
                .plan_named(inner, subst, None)?
                .map(|p| Plan::List(Box::new(p)))),
            ast::TypeKind::Record { fields, .. } => {
                let mut out = Vec::new();
                let mut any = false;
                for field in fields {
                    if let Some(plan) = self.plan_named(&field.ty, subst, None)? {
                        any = true;
                        out.push((field.name.name.clone(), plan));
                    }
                }
                Ok(any.then_some(Plan::Record(out)))
            }
            ast::TypeKind::Refined { base, items, pred } => {
                let base_plan = self.plan_named(base, subst, None)?;
                let type_name = alias_name.unwrap_or_else(|| Name::new(self.text(ty.span)));
                let mut checks = Vec::new();
                for item in items {
                    checks.push(self.lower_item(item)?);
                }
                if let Some(pred) = pred {
                    let kind = self.lower_pred(pred.span, |cx| cx.lower_expr(pred))?;
                    checks.push(CheckItem {
                        kind,
                        text: prefixed("where ", self.source_of(pred.span)),
                        span: pred.span,
                        file: self.file,
                    });
                }
                Ok(Some(Plan::Refined {
                    type_name,
                    base: base_plan.map(Box::new),
                    items: checks,
                }))
            }
            ast::TypeKind::Con(qname, args) => {
                let name = &qname.name.name;
                // The arguments, each read under the substitution of this place.
                let arg_types: Vec<TypeArg<'t>> = args
                    .iter()
                    .map(|ty| TypeArg {
                        ty,
                        subst: subst.clone(),
                        limit: self.global_limit,
                        closed: self.closed,
                    })
                    .collect();
                if name == "List" {
                    let Some(inner) = arg_types.first() else {
                        return Ok(None);
                    };
                    return Ok(self.plan_of_arg(inner)?.map(|p| Plan::List(Box::new(p))));
                }
                if name == "Option" || name == "Result" {
                    let ctors: &[(&str, usize)] = if name == "Option" {
                        &[("Some", 0)]
                    } else {
                        &[("Ok", 0), ("Err", 1)]
                    };
                    let mut out = Vec::new();
                    let mut any = false;
                    for &(ctor, index) in ctors {
                        let plan = match arg_types.get(index) {
                            Some(arg) => self.plan_of_arg(arg)?,
                            None => None,
                        };
                        any |= plan.is_some();
                        out.push((Name::new(ctor), plan));
                    }
                    if name == "Option" {
                        out.push((Name::new("None"), None));
                    }
                    return Ok(any.then_some(Plan::Union(out)));
                }
                let local = if qname.module.is_none() {
                    self.t.types.get(name).cloned()
                } else {
                    None
                };
                let Some(info) = local else {
                    let key = match &qname.module {
                        Some(m) => Name::new(format!("{}.{name}", m.name)),
                        None => name.clone(),
                    };
                    let Some(template) = self.imports.types.get(&key).cloned() else {
                        return Ok(None);
                    };
                    let Some(plan) = &template.plan else {
                        return Ok(None);
                    };
                    let mut arg_plans = Vec::with_capacity(arg_types.len());
                    for arg in &arg_types {
                        arg_plans.push(self.plan_of_arg(arg)?.map(Arc::new));
                    }
                    return Ok(plan.instantiate(&arg_plans));
                };
                let (params, decl) = match &info {
                    TypeInfo::Alias { params, decl } | TypeInfo::Union { params, decl } => {
                        (params, *decl)
                    }
                };
                match self.type_body(&info, qname.span)? {
                    TypeBody::Alias(rhs) => {
                        let env = Rc::new(bind_params(params, arg_types));
                        let name = name.clone();
                        self.plan_in_decl(decl, |cx| cx.plan_named(rhs, &env, Some(name)))
                    }
                    TypeBody::Union(variants) => {
                        let here: Vec<(usize, usize)> =
                            arg_types.iter().map(TypeArg::resolved).collect();
                        if let Some(open) =
                            self.expanding.iter_mut().rev().find(|it| it.name == *name)
                        {
                            // An occurrence of the union inside its own plan: with the same
                            // arguments (regular recursion), the plan being tied; other
                            // arguments would unfold for ever and are not checked (spec
                            // note 30).
                            if open.args != here {
                                return Ok(None);
                            }
                            open.met = true;
                            return Ok(Some(Plan::Back(Arc::downgrade(&open.knot))));
                        }
                        let env = Rc::new(bind_params(params, arg_types));
                        self.expanding.push(Expanding {
                            name: name.clone(),
                            args: here,
                            knot: Arc::default(),
                            met: false,
                        });
                        let res = self.plan_in_decl(decl, |cx| {
                            let mut out = Vec::new();
                            let mut any = false;
                            for variant in variants.iter() {
                                let plan = match &variant.payload {
                                    Some(t) => cx.plan_named(t, &env, None)?,
                                    None => None,
                                };
                                any |= plan.is_some();
                                out.push((variant.name.name.clone(), plan));
                            }
                            Ok(any.then_some(Plan::Union(out)))
                        });
                        let open = self.expanding.pop();
                        let plan = res?;
                        Ok(match open {
                            Some(open) if open.met => Plan::tie(open.knot, plan),
                            _ => plan,
                        })
                    }
                }
            }
        }
    }

    /// A refinement predicate: a function of `x` (the value checked) lowered where its type
    /// is written. At a use site it sees every local in scope there (LANGUAGE.md 8.1) and
    /// is [`CheckKind::Open`] when it uses one; in a declared type's body it sees only the
    /// earlier top-level names and is closed.
    fn lower_pred(
        &mut self,
        span: Span,
        body: impl FnOnce(&mut Self) -> LResult<Core>,
    ) -> LResult<CheckKind> {
        if self.predicates == Predicates::Text {
            return Ok(CheckKind::Unlowered);
        }
        let x = vec![Some(Name::new("x"))];
        let res = if self.closed > 0 {
            let saved = std::mem::take(&mut self.fns);
            let res = self.lower_lambda_with(x, vec![None], None, span, body);
            self.fns = saved;
            res
        } else {
            self.lower_lambda_with(x, vec![None], None, span, body)
        };
        match res? {
            Core::Lambda(def) if def.captures.is_empty() => Ok(CheckKind::Pred(closed(def))),
            Core::Lambda(def) => Ok(CheckKind::Open(def)),
            _ => Err(self.bug(span, "predicate")),
        }
    }

    fn lower_item(&mut self, item: &ast::ConstraintItem) -> LResult<CheckItem> {
        let text = prefixed("with ", self.source_of(item.span));
        let kind = match &item.kind {
            ast::ConstraintItemKind::Regexp(_) | ast::ConstraintItemKind::Pattern(_)
                if self.predicates == Predicates::Text =>
            {
                CheckKind::Unlowered
            }
            ast::ConstraintItemKind::Regexp(lit) | ast::ConstraintItemKind::Pattern(lit) => {
                let anchored = matches!(item.kind, ast::ConstraintItemKind::Pattern(_));
                let source = if anchored {
                    format!("^(?:{})$", lit.value)
                } else {
                    lit.value.to_string()
                };
                let compiled = match self.regexes.get(&source) {
                    Some(re) => Ok(Arc::clone(re)),
                    None => Regex::new(&source).map(Arc::new),
                };
                match compiled {
                    Ok(re) => {
                        if self.regexes.len() < 4096 {
                            self.regexes.insert(source, Arc::clone(&re));
                        }
                        CheckKind::Regex(re)
                    }
                    Err(err) => {
                        return Err(Box::new(Diagnostic::new(
                            Code::C5001,
                            format!("invalid regular expression: {err}"),
                            self.file,
                            lit.span,
                        )))
                    }
                }
            }
            ast::ConstraintItemKind::Ge(e) | ast::ConstraintItemKind::Le(e) => {
                let op = if matches!(item.kind, ast::ConstraintItemKind::Ge(_)) {
                    BinOp::Ge
                } else {
                    BinOp::Le
                };
                let span = item.span;
                self.lower_pred(span, |cx| {
                    let bound = cx.lower_expr(e)?;
                    Ok(Core::Binary {
                        op,
                        lhs: Box::new(Core::Var(VarRef::Local(0))),
                        rhs: Box::new(bound),
                        span,
                    })
                })?
            }
            ast::ConstraintItemKind::Call {
                module,
                func,
                args,
                id,
            } => {
                let span = item.span;
                self.lower_pred(span, |cx| {
                    // The function as the checker saw it: `f` (a local, a global, an
                    // import, a method) or `m.f`, with its dictionaries at the item's id.
                    let f = match module {
                        None => {
                            let var = ast::Expr {
                                kind: ast::ExprKind::Var(func.name.clone()),
                                span: func.span,
                                id: *id,
                            };
                            cx.lower_expr(&var)?
                        }
                        Some(m) => {
                            let key = Name::new(format!("{}.{}", m.name, func.name));
                            let Some(imported) = cx.imports.values.get(&key).cloned() else {
                                return Err(
                                    cx.bug(func.span, &format!("unknown qualified name `{key}`"))
                                );
                            };
                            let dicts = cx.elab.dicts_at(*id);
                            cx.lower_imported(imported, dicts, func.span)?
                        }
                    };
                    let mut lowered = vec![Core::Var(VarRef::Local(0))];
                    lowered.extend(cx.lower_exprs(args)?);
                    Ok(Core::App {
                        func: Box::new(f),
                        args: lowered,
                        span,
                    })
                })?
            }
        };
        Ok(CheckItem {
            kind,
            text,
            span: item.span,
            file: self.file,
        })
    }
}

/// A refinement predicate as the closure value a check calls (it captures nothing).
fn closed(def: Arc<LambdaDef>) -> Value {
    Value::Func(Arc::new(Func::Closure {
        def,
        captures: Box::new([]),
    }))
}

fn dict_param_name(binder: ExprId, index: u32) -> Name {
    Name::new(format!("$dict{}_{}", binder.0, index))
}

fn is_prelude_type(name: &str) -> bool {
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

/// A type argument: its syntax and the substitution its variables are read under.
#[derive(Clone)]
struct TypeArg<'t> {
    ty: &'t ast::Type,
    subst: Rc<Subst<'t>>,
    /// The scope it is written in: a predicate inside it sees what is in scope there
    /// (top-level names before `limit`; the use site's locals unless `closed`), not what
    /// the type's body sees.
    limit: u32,
    closed: u32,
}

impl TypeArg<'_> {
    /// Where the argument was written, through the variables bound to other arguments:
    /// two arguments with the same place (the type and its substitution) are the same type.
    fn resolved(&self) -> (usize, usize) {
        let (mut ty, mut subst) = (self.ty, self.subst.clone());
        while let ast::TypeKind::Var(v) = &ty.kind {
            let Some(Some(arg)) = subst.get(&v.name) else {
                break;
            };
            let next = arg.subst.clone();
            ty = arg.ty;
            subst = next;
        }
        (ty as *const ast::Type as usize, Rc::as_ptr(&subst) as usize)
    }
}

/// A union whose plan is being lowered: its arguments (resolved), the knot its own
/// occurrences point to, and whether one was met.
struct Expanding {
    name: Name,
    args: Vec<(usize, usize)>,
    knot: Arc<Knot>,
    met: bool,
}

/// Type variables bound to their arguments (`None`: a parameter given no argument).
type Subst<'t> = HashMap<Name, Option<TypeArg<'t>>>;

fn bind_params<'t>(params: &[Name], args: Vec<TypeArg<'t>>) -> Subst<'t> {
    let mut args = args.into_iter();
    params
        .iter()
        .map(|param| (param.clone(), args.next()))
        .collect()
}

/// `prefix` then `text`, without the formatting machinery (every refinement item of every
/// plan is named so).
fn prefixed(prefix: &str, text: &str) -> String {
    let mut out = String::with_capacity(prefix.len() + text.len());
    out.push_str(prefix);
    out.push_str(text);
    out
}
