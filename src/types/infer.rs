//! Inference for one declaration: expressions, patterns, annotations, refinements, class
//! constraints and dictionary resolution.
//!
//! An [`Infer`] owns the arena of one declaration and reads the immutable [`Env`]. Class
//! constraints met while inferring are recorded as predicates; at each generalisation point
//! (a `let`, top level or local) the predicates created inside the binding are solved: on a
//! type constructor through an instance (which may add predicates for its context), on a
//! rigid variable through the givens (annotation contexts, instance contexts, the class
//! itself in defaults, with superclasses), on a generalisable variable by becoming a
//! constraint of the binding's scheme (a dictionary parameter), and on an outer variable by
//! waiting for the enclosing binding. Dictionary expressions are read off the solved
//! predicates when the declaration is finished.

use crate::hash::HashMap;
use std::sync::Arc;

use super::elab::{DictExpr, Elaboration, InstanceRef};
use super::env::{builtin_class_has, Env, InstanceInfo, Overlay, TypeDef, ValueInfo};
use super::ty::{
    print_type, Arena, ClosedFindings, ClosedTypes, Namer, Node, Pred, SType, Scheme, TyId,
    UnifyError,
};
use crate::diagnostic::{Code, Diagnostic};
use crate::interrupt::{Interrupt, Poll};
use crate::source::{FileId, Span};
use crate::syntax::ast::{self, BinOp, Expr, ExprId, ExprKind, Ident, Name, PatternKind, UnOp};

/// Names declared anywhere at top level, for "declared later" notes: the first declaration
/// of each name, with its index and span.
#[derive(Default)]
pub struct Later<'m> {
    /// The module's declarations, from which `values` is made when first asked.
    pub decls: &'m [ast::Decl],
    /// Value names (lets and class methods). Only errors, export lists and import clashes
    /// ask for them, so a module that has none of these never hashes its thousands of
    /// let names a second time.
    values: std::sync::OnceLock<HashMap<Name, (u32, Span)>>,
    pub types: HashMap<Name, (u32, Span)>,
    pub classes: HashMap<Name, (u32, Span)>,
    pub ctors: HashMap<Name, (u32, Span)>,
}

impl<'m> Later<'m> {
    /// Nothing declared yet, for the declarations `decls`.
    pub fn new(decls: &'m [ast::Decl]) -> Later<'m> {
        Later {
            decls,
            ..Later::default()
        }
    }

    /// The first top-level declaration of the value `name`.
    pub fn value(&self, name: &Name) -> Option<&(u32, Span)> {
        self.values
            .get_or_init(|| {
                let mut values = HashMap::default();
                for (i, decl) in self.decls.iter().enumerate() {
                    let i = i as u32;
                    match &decl.kind {
                        ast::DeclKind::Let(l) => {
                            values
                                .entry(l.name.name.clone())
                                .or_insert((i, l.name.span));
                        }
                        ast::DeclKind::Class(c) => {
                            for m in &c.methods {
                                values
                                    .entry(m.name.name.clone())
                                    .or_insert((i, m.name.span));
                            }
                        }
                        _ => {}
                    }
                }
                values
            })
            .get(name)
    }
}

#[derive(Clone)]
enum Local {
    Mono(TyId),
    Poly(Arc<Scheme>),
    /// A `let rec` binding inside its own right-hand side.
    Rec {
        ty: TyId,
        binder: ExprId,
    },
}

#[derive(Clone, Debug)]
enum Sol {
    Pending,
    Instance(InstanceRef, Vec<usize>),
    Dict(DictExpr),
    NoDict,
    Error,
}

struct PredState {
    class: Name,
    args: Vec<TyId>,
    span: Span,
    sol: Sol,
    /// How many instance contexts led to this predicate (0 for a use site's own).
    depth: u32,
    /// The predicate whose instance's context made this one, if any.
    parent: Option<usize>,
}

/// How many instances deep the resolution of one constraint may go (T2017). Resolution
/// through instance contexts need not terminate (`instance C (List 'a) => C (List 'a)`),
/// so it is bounded, as GHC's and rustc's solvers are. The bound is above the parser's
/// nesting limit, so that any value the parser accepts (a list nested 10,000 deep under
/// `instance R 'a => R (List 'a)`) resolves.
pub const MAX_INSTANCE_DEPTH: u32 = 2 * crate::syntax::MAX_NESTING;

/// How many predicates instance contexts may make while one binding's constraints are
/// solved (T2017): contexts with two constraints on the head's own type would otherwise
/// double the work at every level below the depth bound.
pub const MAX_INSTANCE_STEPS: usize = 100_000;

struct Given {
    class: Name,
    args: Vec<TyId>,
    dict: Option<DictExpr>,
}

/// How type variables of an annotation are read.
#[derive(Clone, Copy, PartialEq)]
pub enum VarMode {
    /// Each distinct variable is a fresh unknown (`(e : T)`, lambda parameters).
    Fresh,
    /// Each distinct variable is rigid (`let x : T`, instance heads).
    Rigid,
    /// Only the listed variables exist (type declaration right-hand sides).
    Fixed,
}

pub struct VarScope {
    pub mode: VarMode,
    pub vars: Vec<(Name, TyId)>,
}

impl VarScope {
    pub fn new(mode: VarMode) -> VarScope {
        VarScope {
            mode,
            vars: Vec::new(),
        }
    }
}

/// The type declaration being checked, which may mention itself (unions) or not (aliases).
pub struct SelfType {
    pub name: Name,
    /// The name the union's types carry (see `env::union_identity`).
    pub identity: Name,
    pub arity: u32,
    pub is_alias: bool,
}

/// The largest scheme type a binding may have, in nodes of its tree (`SType`). Real
/// configurations stay far below (a service record: about 20); see T2016.
pub const MAX_SCHEME_NODES: usize = 200_000;

/// The scheme of a binding: its own, or one it has exactly (`Infer::infer_binding_like`).
pub enum Bound {
    Own(Scheme),
    Same(Arc<Scheme>),
}

pub struct Infer<'a> {
    pub env: &'a Env,
    /// Earlier `let`s of the same run, when the engine checks a run concurrently.
    pub overlay: Option<&'a dyn Overlay>,
    pub later: &'a Later<'a>,
    pub file: FileId,
    pub decl_index: u32,
    pub arena: Arena<'a>,
    pub level: u32,
    pub diags: Vec<Diagnostic>,
    locals: HashMap<Name, Vec<Local>>,
    preds: Vec<PredState>,
    pending: Vec<usize>,
    givens: Vec<Given>,
    uses: Vec<(ExprId, Vec<usize>)>,
    rec_uses: Vec<(ExprId, ExprId)>,
    pub params: HashMap<ExprId, u32>,
    eq_checks: Vec<(TyId, Span)>,
    pub extra_instances: Vec<Arc<InstanceInfo>>,
    pub self_type: Option<SelfType>,
    /// Instantiations of monomorphic schemes, by scheme address: they can be shared.
    mono_cache: HashMap<usize, (Arc<Scheme>, TyId)>,
    /// The module's closed top-level types, when inferring one of its lets (see
    /// [`Infer::over_closed`]).
    closed: Option<&'a ClosedTypes>,
    /// What this inference learnt for the module's [`ClosedTypes`].
    pub closed_found: ClosedFindings,
    /// Polled at every expression (LANGUAGE.md 12.3); once stopped, every expression is
    /// the error type and the let's one diagnostic more is R3008 (so it is never cached).
    poll: Poll<'a>,
    /// The module's regexes validated so far (see [`Infer::checking_regexes`]).
    regexes: Option<&'a RegexChecks>,
    /// The local binders met so far, when recording them (see [`Infer::recording_binders`]);
    /// `None` for an ordinary check, which then pays one test per binder.
    binders: Option<Box<Binders>>,
}

/// The local binders of one declaration and their types as inference left them, printed
/// once the declaration is finished (the substitution is then final).
#[derive(Default)]
struct Binders {
    /// The declaration's own type, when it is a binding: its variables are named first, so
    /// that a binder's `'a` is the `'a` of the declaration's printed scheme.
    top: Option<TyId>,
    found: Vec<(Span, BinderTy)>,
}

enum BinderTy {
    /// A lambda parameter or a pattern variable.
    Mono(TyId),
    /// A `let ... in` binding.
    Poly(Arc<Scheme>),
}

/// The regexes of a module's refinements compiled so far to validate them, each with its
/// error when invalid: a schema's thousands of aliases of one refined type (`type Name0 =
/// String with pattern(...)`, ...) compile it once, not once each (7,700 times for a
/// 100,000-line schema, a sixth of its checking). Behind a lock: lets may be checked on
/// several threads.
#[derive(Debug, Default)]
pub struct RegexChecks(std::sync::Mutex<HashMap<String, Result<(), String>>>);

impl RegexChecks {
    /// `regex::Regex::new(re)`'s error as text, or `Ok` when `re` compiles.
    fn check(&self, re: &str) -> Result<(), String> {
        if let Some(found) = self.0.lock().ok().and_then(|it| it.get(re).cloned()) {
            return found;
        }
        let res = regex::Regex::new(re)
            .map(|_| ())
            .map_err(|err| err.to_string());
        if let Ok(mut memo) = self.0.lock() {
            memo.insert(re.to_string(), res.clone());
        }
        res
    }
}

impl<'a> Infer<'a> {
    pub fn new(env: &'a Env, later: &'a Later<'a>, file: FileId, decl_index: u32) -> Infer<'a> {
        Infer {
            env,
            overlay: None,
            later,
            file,
            decl_index,
            arena: Arena::with_capacity(64),
            level: 0,
            diags: Vec::new(),
            locals: HashMap::default(),
            preds: Vec::new(),
            pending: Vec::new(),
            givens: Vec::new(),
            uses: Vec::new(),
            rec_uses: Vec::new(),
            params: HashMap::default(),
            eq_checks: Vec::new(),
            extra_instances: Vec::new(),
            self_type: None,
            mono_cache: HashMap::default(),
            closed: None,
            closed_found: ClosedFindings::default(),
            poll: Poll::never(),
            regexes: None,
            binders: None,
        }
    }

    /// Records the type of every local binder (lambda parameters, `let ... in` bindings,
    /// pattern variables) for [`Infer::binder_types`], when `on`.
    pub fn recording_binders(mut self, on: bool) -> Infer<'a> {
        self.binders = on.then(Box::default);
        self
    }

    fn record_binder(&mut self, span: Span, ty: BinderTy) {
        if let Some(binders) = &mut self.binders {
            binders.found.push((span, ty));
        }
    }

    /// The recorded binders' types, printed as diagnostics print types (the variables of
    /// the declaration's own type named as in its scheme, each `let ... in` scheme's own
    /// variables from `'a`). Called once the declaration is finished.
    pub fn binder_types(&mut self) -> Vec<super::BinderType> {
        let Some(binders) = self.binders.take() else {
            return Vec::new();
        };
        let mut gens = Vec::new();
        let mut namer = Namer::default();
        if let Some(top) = binders.top.filter(|it| self.displayable(*it)) {
            let st = self.arena.to_display(top, &mut gens);
            namer.reserve_rigid(&st);
            namer.visit(&st);
        }
        let mut acc = Vec::with_capacity(binders.found.len());
        for (span, ty) in binders.found {
            // A monomorphic `let ... in` shares the declaration's names, as a parameter.
            let ty = match ty {
                BinderTy::Poly(scheme) if scheme.n_gen == 0 && scheme.constraints.is_empty() => {
                    BinderTy::Mono(self.arena.instantiate(&scheme.ty, &[]))
                }
                ty => ty,
            };
            let ty = match ty {
                BinderTy::Mono(ty) if self.displayable(ty) => {
                    let st = self.arena.to_display(ty, &mut gens);
                    let mut namer = namer.clone();
                    namer.reserve_rigid(&st);
                    print_type(&st, &mut namer)
                }
                BinderTy::Poly(scheme) => match self.show_local_scheme(&scheme) {
                    Some(shown) => shown,
                    None => continue,
                },
                BinderTy::Mono(_) => continue,
            };
            acc.push(super::BinderType { span, ty });
        }
        acc
    }

    /// Whether `ty` is small enough to print: the arena shares parts, a printed type does
    /// not (the bound of a scheme, [`MAX_SCHEME_NODES`]).
    fn displayable(&mut self, ty: TyId) -> bool {
        let mut gens = Vec::new();
        self.arena
            .export_bounded(ty, u32::MAX, &mut gens, MAX_SCHEME_NODES)
            .is_some()
    }

    /// A local scheme printed with its constraints; its outer variables (monomorphic ones
    /// of the enclosing declaration) named after its own.
    fn show_local_scheme(&mut self, scheme: &Scheme) -> Option<String> {
        let gens: Vec<TyId> = (0..scheme.n_gen)
            .map(|_| self.arena.fresh(u32::MAX))
            .collect();
        let ty = self.arena.instantiate(&scheme.ty, &gens);
        if !self.displayable(ty) {
            return None;
        }
        let mut shown = Vec::new();
        let ty = self.arena.to_display(ty, &mut shown);
        let constraints = scheme
            .constraints
            .iter()
            .map(|pred| {
                let args = pred
                    .args
                    .iter()
                    .map(|a| {
                        let a = self.arena.instantiate(a, &gens);
                        self.arena.to_display(a, &mut shown)
                    })
                    .collect();
                Pred {
                    class: pred.class.clone(),
                    args,
                }
            })
            .collect();
        let mut namer = Namer::default();
        namer.reserve_rigid(&ty);
        Some(super::ty::print_scheme_with(
            &Scheme {
                n_gen: shown.len() as u32,
                constraints,
                ty,
            },
            namer,
        ))
    }

    /// Validates the regexes of refinements through `regexes`, compiling each distinct one
    /// once.
    pub fn checking_regexes(mut self, regexes: &'a RegexChecks) -> Infer<'a> {
        self.regexes = Some(regexes);
        self
    }

    /// Polls `interrupt` while inferring (the clock only once the let is big: the module's
    /// loop over declarations reads it between lets).
    pub fn polling(mut self, interrupt: Option<&'a Interrupt>) -> Infer<'a> {
        if let Some(interrupt) = interrupt {
            self.poll = Poll::deferred(interrupt);
        }
        self
    }

    /// The error type once the interrupt stopped the inference, reporting R3008 the first
    /// time.
    #[cold]
    #[inline(never)]
    fn stopped(&mut self, span: Span) -> TyId {
        if !crate::interrupt::is_cancelled(&self.diags) {
            let at = Span::new(span.start, span.start);
            self.diags
                .push(crate::interrupt::cancelled("checking", self.file, at));
        }
        self.arena.error()
    }

    /// Uses the module's closed top-level types (before anything is inferred: the arena
    /// starts over them).
    pub fn over_closed(&mut self, closed: &'a ClosedTypes) {
        self.arena = std::mem::take(&mut self.arena).over(closed);
        self.closed = Some(closed);
    }

    // ------------------------------------------------------------ diagnostics

    pub fn error(&mut self, code: Code, message: impl Into<String>, span: Span) -> &mut Diagnostic {
        self.diags
            .push(Diagnostic::new(code, message, self.file, span));
        let last = self.diags.len() - 1;
        &mut self.diags[last]
    }

    pub fn show(&mut self, ty: TyId) -> String {
        let mut gens = Vec::new();
        let st = self.arena.to_display(ty, &mut gens);
        let mut namer = Namer::default();
        namer.reserve_rigid(&st);
        print_type(&st, &mut namer)
    }

    fn show_pair(&mut self, a: TyId, b: TyId) -> (String, String) {
        let mut gens = Vec::new();
        let sa = self.arena.to_display(a, &mut gens);
        let sb = self.arena.to_display(b, &mut gens);
        let mut namer = Namer::default();
        namer.reserve_rigid(&sa);
        namer.reserve_rigid(&sb);
        namer.visit(&sa);
        namer.visit(&sb);
        (print_type(&sa, &mut namer), print_type(&sb, &mut namer))
    }

    /// Unifies `expected` with `found`, reporting T2001/T2002 at `span` on failure.
    pub fn expect(
        &mut self,
        expected: TyId,
        found: TyId,
        span: Span,
        origin: Option<(Span, &str)>,
    ) -> bool {
        match self.arena.unify(expected, found) {
            Ok(()) => true,
            Err(err) => {
                let (e, f) = self.show_pair(expected, found);
                let file = self.file;
                let diag = match err {
                    UnifyError::Occurs => self.error(
                        Code::T2002,
                        format!("infinite type: expected `{e}`, found `{f}`"),
                        span,
                    ),
                    UnifyError::Mismatch => {
                        self.error(Code::T2001, format!("expected `{e}`, found `{f}`"), span)
                    }
                    UnifyError::MissingField(name) => {
                        let d =
                            self.error(Code::T2001, format!("expected `{e}`, found `{f}`"), span);
                        d.notes
                            .push(format!("the field `{name}` is missing on one side"));
                        d
                    }
                };
                if let Some((ospan, msg)) = origin {
                    *diag = diag.clone().with_label(file, ospan, msg);
                }
                if e == f {
                    diag.notes.push(
                        "these are different types with the same name, declared in different modules"
                            .into(),
                    );
                }
                false
            }
        }
    }

    fn later_note(
        diag: &mut Diagnostic,
        file: FileId,
        later: Option<&(u32, Span)>,
        decl_index: u32,
        what: &str,
    ) {
        if let Some((index, span)) = later {
            if *index > decl_index {
                diag.labels.push(crate::diagnostic::Label {
                    span: span.in_file(file),
                    message: format!("`{what}` is declared later, here"),
                    primary: false,
                });
            }
        }
    }

    // ------------------------------------------------------------ scopes

    fn push_local(&mut self, name: &Name, local: Local) {
        self.locals.entry(name.clone()).or_default().push(local);
    }

    fn pop_local(&mut self, name: &Name) {
        if let Some(stack) = self.locals.get_mut(name) {
            stack.pop();
            if stack.is_empty() {
                self.locals.remove(name);
            }
        }
    }

    pub fn push_mono(&mut self, name: &Name, ty: TyId) {
        self.push_local(name, Local::Mono(ty));
    }

    pub fn pop_mono(&mut self, name: &Name) {
        self.pop_local(name);
    }

    pub fn push_given(&mut self, class: Name, args: Vec<TyId>, dict: Option<DictExpr>) {
        self.givens.push(Given { class, args, dict });
    }

    pub fn truncate_givens(&mut self, len: usize) {
        self.givens.truncate(len);
    }

    pub fn n_givens(&self) -> usize {
        self.givens.len()
    }

    pub fn is_user_class(&self, class: &str) -> bool {
        self.env
            .class_by_name(class)
            .map(|c| !c.builtin)
            .unwrap_or(false)
    }

    // ------------------------------------------------------------ schemes

    /// Instantiates a shared scheme; monomorphic ones are built once per declaration.
    /// `top`: the name of a top-level value whose scheme this is (a local one may mention
    /// this inference's variables, and lives only as long as it).
    fn instantiate_shared(
        &mut self,
        scheme: &Arc<Scheme>,
        span: Span,
        id: ExprId,
        top: Option<&Name>,
    ) -> TyId {
        if scheme.n_gen == 0 && scheme.constraints.is_empty() {
            let closed = self.closed.filter(|_| top.is_some());
            if let Some(t) = closed.and_then(|c| c.get(scheme)) {
                return t;
            }
            // The cache holds the scheme alive, so its address cannot be reused.
            let key = Arc::as_ptr(scheme) as usize;
            if let Some((_, t)) = self.mono_cache.get(&key) {
                return *t;
            }
            let t = self.arena.instantiate(&scheme.ty, &[]);
            self.mono_cache.insert(key, (scheme.clone(), t));
            if let (Some(name), Some(_)) = (top, closed) {
                // By name: cloning the scheme would touch its count from every worker.
                self.closed_found.wanted.push((name.clone(), key));
            }
            return t;
        }
        self.instantiate(scheme, span, id)
    }

    /// Instantiates a scheme at a use site, recording its class constraints.
    pub fn instantiate(&mut self, scheme: &Scheme, span: Span, id: ExprId) -> TyId {
        let gens: Vec<TyId> = (0..scheme.n_gen)
            .map(|_| self.arena.fresh(self.level))
            .collect();
        let ty = self.arena.instantiate(&scheme.ty, &gens);
        let mut user = Vec::new();
        for pred in &scheme.constraints {
            let args = pred
                .args
                .iter()
                .map(|a| self.arena.instantiate(a, &gens))
                .collect();
            let pid = self.new_pred(pred.class.clone(), args, span);
            if self.is_user_class(&pred.class) {
                user.push(pid);
            }
        }
        if !user.is_empty() && id.0 != u32::MAX {
            self.uses.push((id, user));
        }
        ty
    }

    pub fn new_pred(&mut self, class: Name, args: Vec<TyId>, span: Span) -> usize {
        self.preds.push(PredState {
            class,
            args,
            span,
            sol: Sol::Pending,
            depth: 0,
            parent: None,
        });
        let pid = self.preds.len() - 1;
        self.pending.push(pid);
        pid
    }

    /// Checks a binding (top level or `let ... in`) and returns its scheme.
    /// The type of binding `name`'s scheme, or the error type (with T2016) when it is more
    /// than [`MAX_SCHEME_NODES`] nodes as a tree: types that double with every binding
    /// (`let a1 = { l = a0, r = a0 }`) would otherwise cost exponential time and memory.
    fn export_scheme_type(
        &mut self,
        ty: TyId,
        level: u32,
        gens: &mut Vec<TyId>,
        name: &Ident,
    ) -> SType {
        match self.arena.export_bounded(ty, level, gens, MAX_SCHEME_NODES) {
            Some(sty) => sty,
            None => {
                self.error(
                    Code::T2016,
                    format!(
                        "the type of `{}` is too large: more than {MAX_SCHEME_NODES} parts when written out",
                        name.name
                    ),
                    name.span,
                )
                .help = Some(
                    "a record or list that holds the same value twice has a type twice that \
                     value's size, so a chain of such bindings doubles at every step"
                        .into(),
                );
                SType::Error
            }
        }
    }

    pub fn infer_binding(
        &mut self,
        rec: bool,
        name: &Ident,
        ann: Option<&ast::Type>,
        value: &Expr,
    ) -> Scheme {
        match self.infer_binding_like(rec, name, ann, value, None) {
            Bound::Own(scheme) => scheme,
            Bound::Same(scheme) => (*scheme).clone(),
        }
    }

    /// [`Infer::infer_binding`], answering `like` itself when the binding's type is exactly
    /// that closed, monomorphic scheme (no constraint, no variable): the scheme is then shared
    /// rather than written out again, compared and dropped.
    pub fn infer_binding_like(
        &mut self,
        rec: bool,
        name: &Ident,
        ann: Option<&ast::Type>,
        value: &Expr,
        like: Option<&Arc<Scheme>>,
    ) -> Bound {
        let mark = self.pending.len();
        let outer = self.level;
        self.level += 1;
        let given_mark = self.givens.len();
        let mut ann_info = None;
        if let Some(ann) = ann {
            let mut scope = VarScope::new(VarMode::Rigid);
            let (ty, context) = self.convert_type_top(ann, &mut scope);
            let mut n_user = 0;
            for (class, args, _) in &context {
                let dict = if self.is_user_class(class) {
                    n_user += 1;
                    Some(DictExpr::Param {
                        binder: value.id,
                        index: n_user - 1,
                    })
                } else {
                    None
                };
                self.givens.push(Given {
                    class: class.clone(),
                    args: args.clone(),
                    dict,
                });
            }
            ann_info = Some((ty, context, ann.span, n_user));
        }
        let self_ty = if rec {
            let t = match &ann_info {
                Some((t, ..)) => *t,
                None => self.arena.fresh(self.level),
            };
            self.push_local(
                &name.name,
                Local::Rec {
                    ty: t,
                    binder: value.id,
                },
            );
            Some(t)
        } else {
            None
        };
        let found = self.infer_expr(value);
        if let Some(t) = self_ty {
            self.pop_local(&name.name);
            if ann_info.is_none() {
                self.expect(t, found, value.span, None);
            }
        }
        if let Some((t, _, span, _)) = &ann_info {
            let (t, span) = (*t, *span);
            self.expect(
                t,
                found,
                value.span,
                Some((span, "expected because of this annotation")),
            );
        }
        if outer == 0 {
            if let Some(binders) = &mut self.binders {
                binders.top = Some(found);
            }
        }
        self.level = outer;
        let gen_preds = self.solve(mark, outer);
        self.givens.truncate(given_mark);
        if let Some(like) = like {
            let ty = match &ann_info {
                Some((ty, context, ..)) => context.is_empty().then_some(*ty),
                None => Some(found),
            };
            let plain = like.n_gen == 0
                && like.constraints.is_empty()
                && gen_preds.is_empty()
                && !self.params.contains_key(&value.id);
            if let Some(ty) = ty.filter(|_| plain) {
                let ty = self.arena.find(ty);
                let base = self.closed.filter(|_| self.arena.in_base(ty));
                if base.is_some_and(|c| c.is_exactly(ty, like)) {
                    return Bound::Same(like.clone());
                }
                if self.arena.is_exactly(ty, &like.ty) {
                    if base.is_some() {
                        self.closed_found.exact = Some((ty, like.clone()));
                    }
                    return Bound::Same(like.clone());
                }
            }
        }
        let scheme = if let Some((ty, context, _, n_user)) = ann_info {
            for pid in gen_preds {
                self.report_ambiguous(pid);
            }
            let mut gens = Vec::new();
            let sty = self.export_scheme_type(ty, outer, &mut gens, name);
            let constraints = context
                .iter()
                .map(|(class, args, _)| Pred {
                    class: class.clone(),
                    args: args
                        .iter()
                        .map(|a| self.arena.export(*a, outer, &mut gens))
                        .collect(),
                })
                .collect();
            if n_user > 0 {
                self.params.insert(value.id, n_user);
            }
            Scheme {
                n_gen: gens.len() as u32,
                constraints,
                ty: sty,
            }
        } else {
            let mut gens = Vec::new();
            let sty = self.export_scheme_type(found, outer, &mut gens, name);
            let n_type_vars = gens.len();
            // Group the predicates by (class, exported args).
            let mut groups: Vec<(Pred, Vec<usize>, usize)> = Vec::new();
            for pid in gen_preds {
                let class = self.preds[pid].class.clone();
                let args: Vec<TyId> = self.preds[pid].args.clone();
                let args: Vec<SType> = args
                    .iter()
                    .map(|a| self.arena.export(*a, outer, &mut gens))
                    .collect();
                let ambiguous = args.iter().any(|a| {
                    max_gen(a)
                        .map(|g| g as usize >= n_type_vars)
                        .unwrap_or(false)
                });
                if ambiguous {
                    self.report_ambiguous(pid);
                    continue;
                }
                let key = Pred { class, args };
                match groups.iter_mut().find(|(p, _, _)| *p == key) {
                    Some((_, pids, _)) => pids.push(pid),
                    None => {
                        let order = key.args.iter().filter_map(min_gen).min().unwrap_or(0) as usize;
                        groups.push((key, vec![pid], order));
                    }
                }
            }
            groups.sort_by_key(|(_, _, order)| *order);
            // A constraint implied by another one through superclasses is not abstracted
            // over: its dictionary is reached from the other one's.
            let entailed: Vec<Option<(usize, Vec<u32>)>> = (0..groups.len())
                .map(|gi| {
                    (0..groups.len()).filter(|hi| *hi != gi).find_map(|hi| {
                        let path = self.super_path(&groups[hi].0, &groups[gi].0, 0)?;
                        // Keep the first of two mutually implied constraints.
                        let back = self.super_path(&groups[gi].0, &groups[hi].0, 0);
                        (back.is_none() || hi < gi).then_some((hi, path))
                    })
                })
                .collect();
            let mut n_user = 0u32;
            let mut constraints = Vec::new();
            let mut own: Vec<Option<DictExpr>> = Vec::new();
            for (gi, (pred, _, _)) in groups.iter().enumerate() {
                if entailed[gi].is_some() {
                    own.push(None);
                    continue;
                }
                if self.is_user_class(&pred.class) {
                    n_user += 1;
                    own.push(Some(DictExpr::Param {
                        binder: value.id,
                        index: n_user - 1,
                    }));
                } else {
                    own.push(None);
                }
                constraints.push(pred.clone());
            }
            for (gi, (pred, pids, _)) in groups.iter().enumerate() {
                let sol = match &entailed[gi] {
                    None => match &own[gi] {
                        Some(d) => Sol::Dict(d.clone()),
                        None => Sol::NoDict,
                    },
                    Some((hi, path)) => match (&own[*hi], self.is_user_class(&pred.class)) {
                        (Some(base), true) => {
                            let mut d = base.clone();
                            for index in path {
                                d = DictExpr::Super {
                                    dict: Box::new(d),
                                    index: *index,
                                };
                            }
                            Sol::Dict(d)
                        }
                        _ => Sol::NoDict,
                    },
                };
                for pid in pids {
                    self.preds[*pid].sol = sol.clone();
                }
            }
            if n_user > 0 {
                self.params.insert(value.id, n_user);
            }
            Scheme {
                n_gen: gens.len() as u32,
                constraints,
                ty: sty,
            }
        };
        let n_user = self.params.get(&value.id).copied().unwrap_or(0);
        let rec_uses: Vec<ExprId> = self
            .rec_uses
            .iter()
            .filter(|(_, b)| *b == value.id)
            .map(|(id, _)| *id)
            .collect();
        if n_user > 0 {
            for id in rec_uses {
                let dicts: Vec<usize> = (0..n_user)
                    .map(|index| {
                        self.preds.push(PredState {
                            class: Name::new(""),
                            args: Vec::new(),
                            span: Span::default(),
                            sol: Sol::Dict(DictExpr::Param {
                                binder: value.id,
                                index,
                            }),
                            depth: 0,
                            parent: None,
                        });
                        self.preds.len() - 1
                    })
                    .collect();
                self.uses.push((id, dicts));
            }
        }
        Bound::Own(scheme)
    }

    /// The superclass indices leading from `from` to `to` (same arguments), if `to` is a
    /// (transitive) superclass constraint of `from`.
    fn super_path(&self, from: &Pred, to: &Pred, depth: u32) -> Option<Vec<u32>> {
        if depth > 8 {
            return None;
        }
        let info = self.env.class_by_name(from.class.as_str())?;
        for (index, sup) in info.supers.iter().enumerate() {
            let args: Vec<SType> = sup.args.iter().map(|a| subst_gen(a, &from.args)).collect();
            let sup = Pred {
                class: sup.class.clone(),
                args,
            };
            if sup == *to {
                return Some(vec![index as u32]);
            }
            if let Some(mut rest) = self.super_path(&sup, to, depth + 1) {
                rest.insert(0, index as u32);
                return Some(rest);
            }
        }
        None
    }

    fn report_ambiguous(&mut self, pid: usize) {
        if matches!(self.preds[pid].sol, Sol::Error) {
            return;
        }
        self.preds[pid].sol = Sol::Error;
        let class = self.preds[pid].class.clone();
        let args = self.preds[pid].args.clone();
        let span = self.preds[pid].span;
        let shown: Vec<String> = args.iter().map(|a| self.show(*a)).collect();
        self.error(
            Code::T2012,
            format!(
                "ambiguous type: the constraint `{class} {}` cannot be determined",
                shown.join(" ")
            ),
            span,
        )
        .help = Some("add a type annotation".into());
    }

    /// Solves the predicates created since `mark`; returns those on variables that are
    /// generalised at `level` (their binding abstracts over them).
    fn solve(&mut self, mark: usize, level: u32) -> Vec<usize> {
        let mut work: Vec<usize> = self.pending.drain(mark.min(self.pending.len())..).collect();
        let mut deferred = Vec::new();
        let mut generalised = Vec::new();
        // Predicates made from instance contexts (bounded by MAX_INSTANCE_STEPS).
        let mut made = 0usize;
        let mut i = 0;
        while i < work.len() {
            let pid = work[i];
            i += 1;
            if !matches!(self.preds[pid].sol, Sol::Pending) {
                continue;
            }
            let class = self.preds[pid].class.clone();
            let args: Vec<TyId> = self.preds[pid]
                .args
                .iter()
                .map(|a| self.arena.find(*a))
                .collect();
            let span = self.preds[pid].span;
            let builtin = !self.is_user_class(&class);
            if args
                .iter()
                .any(|a| matches!(self.arena.node(*a), Node::Error))
            {
                self.preds[pid].sol = Sol::Error;
                continue;
            }
            let var = args
                .iter()
                .copied()
                .find(|a| matches!(self.arena.node(*a), Node::Var { .. }));
            if let Some(var) = var {
                if let Some(dict) = self.find_given(&class, &args, 0) {
                    self.preds[pid].sol = match dict {
                        Some(d) => Sol::Dict(d),
                        None => Sol::NoDict,
                    };
                    continue;
                }
                match self.arena.node(var).clone() {
                    Node::Var { rigid: Some(_), .. } => {
                        self.no_instance(pid, &class, &args, span);
                        let shown: Vec<String> = args.iter().map(|a| self.show(*a)).collect();
                        if let Some(d) = self.diags.last_mut() {
                            d.help = Some(format!(
                                "add `{class} {}` to the context of the annotation",
                                shown.join(" ")
                            ));
                        }
                    }
                    Node::Var { level: l, .. } if l > level => generalised.push(pid),
                    _ => deferred.push(pid),
                }
                continue;
            }
            let heads: Option<Vec<Name>> = args
                .iter()
                .map(|a| match self.arena.node(*a) {
                    Node::Con { name, .. } => Some(name.clone()),
                    _ => None,
                })
                .collect();
            let Some(heads) = heads else {
                self.no_instance(pid, &class, &args, span);
                continue;
            };
            if builtin {
                let ok = heads.len() == 1 && heads.iter().all(|h| builtin_class_has(&class, h));
                if ok {
                    self.preds[pid].sol = Sol::NoDict;
                } else {
                    self.no_instance(pid, &class, &args, span);
                }
                continue;
            }
            match self.find_instance(&class, &heads) {
                Some(inst) => {
                    let mut gens = vec![None; inst.n_vars as usize];
                    for (h, a) in inst.head.iter().zip(args.iter()) {
                        if let (SType::Con(_, hvars), Node::Con { args: aargs, .. }) =
                            (h, self.arena.node(*a).clone())
                        {
                            for (hv, av) in hvars.iter().zip(aargs.iter()) {
                                if let SType::Gen(g) = hv {
                                    if let Some(slot) = gens.get_mut(*g as usize) {
                                        *slot = Some(*av);
                                    }
                                }
                            }
                        }
                    }
                    let gens: Vec<TyId> = gens
                        .into_iter()
                        .map(|g| g.unwrap_or_else(|| self.arena.error()))
                        .collect();
                    let depth = self.preds[pid].depth + 1;
                    made += inst.context.len();
                    if !inst.context.is_empty()
                        && (depth > MAX_INSTANCE_DEPTH || made > MAX_INSTANCE_STEPS)
                    {
                        self.too_deep(pid, &inst, depth > MAX_INSTANCE_DEPTH);
                        // What is left of this resolution is abandoned with it.
                        for rest in work.drain(i..) {
                            if matches!(self.preds[rest].sol, Sol::Pending) {
                                self.preds[rest].sol = Sol::Error;
                            }
                        }
                        break;
                    }
                    let mut subs = Vec::new();
                    for pred in &inst.context {
                        let args = pred
                            .args
                            .iter()
                            .map(|a| self.arena.instantiate(a, &gens))
                            .collect();
                        self.preds.push(PredState {
                            class: pred.class.clone(),
                            args,
                            span,
                            sol: Sol::Pending,
                            depth,
                            parent: Some(pid),
                        });
                        let sub = self.preds.len() - 1;
                        if self.is_user_class(&pred.class) {
                            subs.push(sub);
                        }
                        work.push(sub);
                    }
                    self.preds[pid].sol = Sol::Instance(inst.iref, subs);
                }
                None => self.no_instance(pid, &class, &args, span),
            }
        }
        self.pending.extend(deferred);
        generalised
    }

    fn find_instance(&self, class: &str, heads: &[Name]) -> Option<Arc<InstanceInfo>> {
        let from_env = self.env.instances.get(class).into_iter().flatten();
        from_env
            .chain(self.extra_instances.iter())
            .find(|inst| inst.class == class && inst.head_key() == heads)
            .cloned()
    }

    /// Looks for `class args` among the givens and their superclasses.
    fn find_given(&mut self, class: &str, args: &[TyId], depth: u32) -> Option<Option<DictExpr>> {
        if depth > 0 {
            return None;
        }
        let n = self.givens.len();
        for gi in 0..n {
            let (gclass, gargs, gdict) = {
                let g = &self.givens[gi];
                (g.class.clone(), g.args.clone(), g.dict.clone())
            };
            if let Some(found) = self.search_given(class, args, &gclass, &gargs, gdict, 0) {
                return Some(found);
            }
        }
        None
    }

    fn search_given(
        &mut self,
        class: &str,
        args: &[TyId],
        gclass: &Name,
        gargs: &[TyId],
        gdict: Option<DictExpr>,
        depth: u32,
    ) -> Option<Option<DictExpr>> {
        if depth > 16 {
            return None;
        }
        if gclass == class && gargs.len() == args.len() {
            let same = gargs.iter().zip(args.iter()).all(|(a, b)| {
                let a = self.arena.find(*a);
                let b = self.arena.find(*b);
                a == b
            });
            if same {
                return Some(gdict);
            }
        }
        let info = self.env.class_by_name(gclass.as_str())?.clone();
        for (index, sup) in info.supers.iter().enumerate() {
            let sargs: Vec<TyId> = sup
                .args
                .iter()
                .map(|a| self.arena.instantiate(a, gargs))
                .collect();
            let sdict = gdict.clone().map(|d| DictExpr::Super {
                dict: Box::new(d),
                index: index as u32,
            });
            let sdict = if self.is_user_class(&sup.class) {
                sdict
            } else {
                None
            };
            if let Some(found) =
                self.search_given(class, args, &sup.class, &sargs, sdict, depth + 1)
            {
                return Some(found);
            }
        }
        None
    }

    /// Reports T2017: resolving predicate `pid` needs instance `inst` more than
    /// [`MAX_INSTANCE_DEPTH`] instances deep (`deep`), or more than [`MAX_INSTANCE_STEPS`]
    /// constraints. Names the constraint that started it and the
    /// instances of the chain.
    fn too_deep(&mut self, pid: usize, inst: &InstanceInfo, deep: bool) {
        let mut root = pid;
        let mut chain = vec![instance_text(inst)];
        let mut cur = Some(pid);
        while let Some(p) = cur {
            root = p;
            if let Sol::Instance(iref, _) = &self.preds[p].sol {
                let iref = *iref;
                let class = self.preds[p].class.clone();
                let found = self
                    .env
                    .instances
                    .get(class.as_str())
                    .into_iter()
                    .flatten()
                    .chain(self.extra_instances.iter())
                    .find(|it| it.iref == iref)
                    .map(|it| instance_text(it));
                if let Some(text) = found {
                    if !chain.contains(&text) {
                        chain.push(text);
                    }
                }
            }
            cur = self.preds[p].parent;
        }
        self.preds[pid].sol = Sol::Error;
        let class = self.preds[root].class.clone();
        let args = self.preds[root].args.clone();
        let span = self.preds[root].span;
        let shown: Vec<String> = args
            .iter()
            .map(|a| {
                let text = self.show(*a);
                if text.contains(' ') && !text.starts_with(['(', '[', '{']) {
                    format!("({text})")
                } else {
                    text
                }
            })
            .collect();
        let mut shown = shown.join(" ");
        if shown.chars().count() > 80 {
            shown = shown.chars().take(80).collect::<String>() + "...";
        }
        chain.reverse();
        let how = if deep {
            format!("goes more than {MAX_INSTANCE_DEPTH} instances deep")
        } else {
            format!("needs more than {MAX_INSTANCE_STEPS} constraints")
        };
        let d = self.error(
            Code::T2017,
            format!("resolving `{class} {shown}` {how}"),
            span,
        );
        d.notes.push(format!(
            "through {}",
            chain
                .iter()
                .map(|it| format!("`instance {it}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
        d.help = Some(
            "an instance whose context needs the same class at a type at least as big as its \
             head never finishes resolving"
                .into(),
        );
    }

    fn no_instance(&mut self, pid: usize, class: &str, args: &[TyId], span: Span) {
        self.preds[pid].sol = Sol::Error;
        let shown: Vec<String> = args.iter().map(|a| self.show(*a)).collect();
        self.error(
            Code::T2008,
            format!("no instance of `{class}` for `{}`", shown.join(" ")),
            span,
        );
    }

    /// Solves every pending predicate with the current givens; those left on unknown types
    /// are ambiguous.
    pub fn settle(&mut self) {
        let rest = self.solve(0, 0);
        for pid in rest {
            self.report_ambiguous(pid);
        }
    }

    /// Solves what remains, checks equality uses and returns the dictionary table.
    pub fn finish(&mut self, elab: &mut Elaboration) {
        self.settle();
        for pid in std::mem::take(&mut self.pending) {
            self.report_ambiguous(pid);
        }
        for (ty, span) in std::mem::take(&mut self.eq_checks) {
            if self.arena.contains_function(ty) {
                let shown = self.show(ty);
                self.error(
                    Code::T2010,
                    format!("cannot compare values of type `{shown}`: it contains a function"),
                    span,
                );
            }
        }
        for (id, pids) in std::mem::take(&mut self.uses) {
            // A failed resolution's dictionary is never built (the module does not run):
            // one that failed 20,000 instances deep (T2017) would be that deep.
            let dicts = pids
                .iter()
                .map(|p| {
                    if self.pred_ok(*p) {
                        self.dict_of(*p)
                    } else {
                        DictExpr::Context { index: u32::MAX }
                    }
                })
                .collect();
            elab.uses.insert(id, dicts);
        }
        elab.params.extend(std::mem::take(&mut self.params));
    }

    /// The dictionary that solves predicate `pid`. Built with an explicit stack: instance
    /// contexts may chain [`MAX_INSTANCE_DEPTH`] deep.
    pub fn dict_of(&self, pid: usize) -> DictExpr {
        let broken = || DictExpr::Context { index: u32::MAX };
        // (predicate, whether its arguments are built already)
        let mut todo = vec![(pid, false)];
        let mut built: Vec<DictExpr> = Vec::new();
        while let Some((p, ready)) = todo.pop() {
            match self.preds.get(p).map(|it| &it.sol) {
                Some(Sol::Instance(iref, subs)) => {
                    if ready {
                        let args = built.split_off(built.len().saturating_sub(subs.len()));
                        built.push(DictExpr::Instance {
                            instance: *iref,
                            args,
                        });
                    } else {
                        todo.push((p, true));
                        todo.extend(subs.iter().rev().map(|s| (*s, false)));
                    }
                }
                Some(Sol::Dict(d)) => built.push(d.clone()),
                _ => built.push(broken()),
            }
        }
        built.pop().unwrap_or_else(broken)
    }

    /// Solves `class args` right now (instance declarations' superclasses) and returns the
    /// dictionary, or `None` after reporting.
    pub fn solve_now(&mut self, class: Name, args: Vec<TyId>, span: Span) -> Option<DictExpr> {
        let mark = self.pending.len();
        let pid = self.new_pred(class, args, span);
        let left = self.solve(mark, u32::MAX);
        for p in left {
            self.report_ambiguous(p);
        }
        let rest: Vec<usize> = self.pending.drain(mark.min(self.pending.len())..).collect();
        for p in rest {
            self.report_ambiguous(p);
        }
        if self.pred_ok(pid) {
            Some(self.dict_of(pid))
        } else {
            None
        }
    }

    fn pred_ok(&self, pid: usize) -> bool {
        let mut todo = vec![pid];
        while let Some(p) = todo.pop() {
            match self.preds.get(p).map(|it| &it.sol) {
                Some(Sol::Instance(_, subs)) => todo.extend(subs.iter().copied()),
                Some(Sol::Dict(_)) | Some(Sol::NoDict) => {}
                _ => return false,
            }
        }
        true
    }

    // ------------------------------------------------------------ annotations

    /// Converts an annotation that may carry a context `C 'a => T`.
    pub fn convert_type_top(
        &mut self,
        ty: &ast::Type,
        scope: &mut VarScope,
    ) -> (TyId, Vec<(Name, Vec<TyId>, Span)>) {
        match &ty.kind {
            ast::TypeKind::Qualified { context, ty } => {
                let t = self.convert_type(ty, scope);
                let preds = self.convert_context(context, scope);
                (t, preds)
            }
            _ => (self.convert_type(ty, scope), Vec::new()),
        }
    }

    pub fn convert_context(
        &mut self,
        context: &[ast::Constraint],
        scope: &mut VarScope,
    ) -> Vec<(Name, Vec<TyId>, Span)> {
        let mut preds = Vec::new();
        for c in context {
            let args: Vec<TyId> = c.args.iter().map(|a| self.convert_type(a, scope)).collect();
            let Some(key) = self.qualified_key(c.class.module.as_ref(), &c.class.name) else {
                continue;
            };
            let name = &key;
            match self.env.classes.get(name.as_str()).cloned() {
                None => {
                    let later = self.later.classes.get(name);
                    let (file, index) = (self.file, self.decl_index);
                    let d =
                        self.error(Code::T2004, format!("unknown class `{name}`"), c.class.span);
                    Self::later_note(d, file, later, index, name);
                }
                Some(info) => {
                    if info.n_params as usize != args.len() {
                        let n = info.n_params;
                        self.error(
                            Code::T2005,
                            format!(
                                "class `{name}` takes {n} argument(s), but {} were given",
                                args.len()
                            ),
                            c.span,
                        );
                    } else {
                        preds.push((info.name.clone(), args, c.span));
                    }
                }
            }
        }
        preds
    }

    pub fn convert_type(&mut self, ty: &ast::Type, scope: &mut VarScope) -> TyId {
        match &ty.kind {
            ast::TypeKind::Error => self.arena.error(),
            ast::TypeKind::Var(ident) => self.type_var(ident, scope),
            ast::TypeKind::Fun(a, r) => {
                let a = self.convert_type(a, scope);
                let r = self.convert_type(r, scope);
                self.arena.push(Node::Fun(a, r))
            }
            ast::TypeKind::List(elem) => {
                let e = self.convert_type(elem, scope);
                self.arena.con("List", vec![e])
            }
            ast::TypeKind::Record { fields, rest } => {
                let fields = fields
                    .iter()
                    .map(|f| (f.name.name.clone(), self.convert_type(&f.ty, scope)))
                    .collect();
                let tail = rest.as_ref().map(|r| self.type_var(r, scope));
                self.arena.push(Node::Record { fields, tail })
            }
            ast::TypeKind::Refined { base, items, pred } => {
                let b = self.convert_type(base, scope);
                self.check_refinement(b, base.span, items, pred.as_deref());
                b
            }
            ast::TypeKind::Qualified { ty, .. } => self.convert_type(ty, scope),
            ast::TypeKind::Con(qname, args) => {
                let args: Vec<TyId> = args.iter().map(|a| self.convert_type(a, scope)).collect();
                self.type_con(qname, args, ty.span)
            }
        }
    }

    fn type_var(&mut self, ident: &Ident, scope: &mut VarScope) -> TyId {
        if let Some((_, t)) = scope.vars.iter().find(|(n, _)| *n == ident.name) {
            return *t;
        }
        let t = match scope.mode {
            VarMode::Fresh => self.arena.fresh(self.level),
            VarMode::Rigid => self.arena.rigid(self.level, ident.name.clone()),
            VarMode::Fixed => {
                self.error(
                    Code::T2004,
                    format!("unknown type variable `'{}`", ident.name),
                    ident.span,
                );
                return self.arena.error();
            }
        };
        scope.vars.push((ident.name.clone(), t));
        t
    }

    fn type_con(&mut self, qname: &ast::QName, args: Vec<TyId>, span: Span) -> TyId {
        let Some(key) = self.qualified_key(qname.module.as_ref(), &qname.name) else {
            return self.arena.error();
        };
        if let Some(m) = &qname.module {
            if !self.env.types.contains_key(&key) {
                let module = self
                    .env
                    .module_aliases
                    .get(&m.name)
                    .cloned()
                    .unwrap_or_default();
                self.not_exported(&module, &qname.name.name, qname.name.span);
                return self.arena.error();
            }
        }
        let name = &key;
        if let Some(st) = &self.self_type {
            if st.name == *name {
                if st.is_alias {
                    self.error(
                        Code::T2015,
                        format!("the alias `{name}` refers to itself"),
                        qname.span,
                    );
                    return self.arena.error();
                }
                let arity = st.arity;
                if arity as usize != args.len() {
                    self.arity_error(name, arity, args.len(), span);
                    return self.arena.error();
                }
                return self.arena.push(Node::Con {
                    name: st.identity.clone(),
                    args,
                });
            }
        }
        let Some(def) = self.env.types.get(name.as_str()).cloned() else {
            let later = self.later.types.get(name);
            let (file, index) = (self.file, self.decl_index);
            let d = self.error(Code::T2004, format!("unknown type `{name}`"), qname.span);
            Self::later_note(d, file, later, index, name);
            return self.arena.error();
        };
        if def.arity() as usize != args.len() {
            self.arity_error(name, def.arity(), args.len(), span);
            return self.arena.error();
        }
        match &*def {
            TypeDef::Builtin { .. } => self.arena.push(Node::Con {
                name: name.clone(),
                args,
            }),
            TypeDef::Union { identity, .. } => self.arena.push(Node::Con {
                name: identity.clone(),
                args,
            }),
            TypeDef::Alias { body, .. } => self.arena.instantiate(body, &args),
        }
    }

    fn arity_error(&mut self, name: &str, arity: u32, given: usize, span: Span) {
        self.error(
            Code::T2005,
            format!("type `{name}` takes {arity} argument(s), but {given} were given"),
            span,
        );
    }

    /// `base_span` is where the refined value `x` is bound for hover and go to definition
    /// (the language server resolves `x` to the base type, `lsp::resolve`).
    fn check_refinement(
        &mut self,
        base: TyId,
        base_span: Span,
        items: &[ast::ConstraintItem],
        pred: Option<&Expr>,
    ) {
        let base_r = self.arena.find(base);
        let base_name = match self.arena.node(base_r) {
            Node::Con { name, .. } => Some(name.clone()),
            _ => None,
        };
        let is_error = matches!(self.arena.node(base_r), Node::Error);
        let is_var = matches!(self.arena.node(base_r), Node::Var { .. });
        // `x` is the value being checked, in item arguments and in the predicate.
        let x = Name::new("x");
        self.push_mono(&x, base);
        self.record_binder(base_span, BinderTy::Mono(base));
        for item in items {
            match &item.kind {
                ast::ConstraintItemKind::Regexp(lit) | ast::ConstraintItemKind::Pattern(lit) => {
                    let anchored = matches!(item.kind, ast::ConstraintItemKind::Pattern(_));
                    if !is_error && base_name.as_deref() != Some("String") {
                        let shown = self.show(base);
                        let what = if anchored { "pattern" } else { "regexp" };
                        self.error(
                            Code::C5002,
                            format!("`{what}` needs a `String` base, found `{shown}`"),
                            item.span,
                        );
                    }
                    let re = if anchored {
                        format!("^(?:{})$", lit.value)
                    } else {
                        lit.value.to_string()
                    };
                    let checked = match self.regexes {
                        Some(memo) => memo.check(&re),
                        None => regex::Regex::new(&re)
                            .map(|_| ())
                            .map_err(|e| e.to_string()),
                    };
                    if let Err(msg) = checked {
                        let last = msg.lines().last().unwrap_or("").trim();
                        let last = last.strip_prefix("error: ").unwrap_or(last).to_string();
                        self.error(
                            Code::C5001,
                            format!("invalid regular expression: {last}"),
                            lit.span,
                        );
                    }
                }
                ast::ConstraintItemKind::Ge(e) | ast::ConstraintItemKind::Le(e) => {
                    let t = self.infer_expr(e);
                    if self.arena.unify(base, t).is_err() {
                        let (b, f) = self.show_pair(base, t);
                        self.error(
                            Code::C5002,
                            format!("the bound must have the base type `{b}`, found `{f}`"),
                            e.span,
                        );
                    }
                    let ordered = is_error
                        || is_var
                        || matches!(base_name.as_deref(), Some("Integer" | "Float" | "String"));
                    if !ordered {
                        let shown = self.show(base);
                        self.error(
                            Code::C5002,
                            format!("bounds need an ordered base type, found `{shown}`"),
                            item.span,
                        );
                    }
                }
                ast::ConstraintItemKind::Call {
                    module,
                    func,
                    args,
                    id,
                } => {
                    // `f` is a use of a value like any other (a local, an overloaded
                    // binding, a method): its dictionaries are recorded at the item's id.
                    let f = match module {
                        None => {
                            let fexpr = Expr {
                                kind: ExprKind::Var(func.name.clone()),
                                span: func.span,
                                id: *id,
                            };
                            self.infer_var(&func.name, &fexpr)
                        }
                        Some(m) => {
                            let key = Name::new(format!("{}.{}", m.name, func.name));
                            match self
                                .env
                                .values
                                .get(key.as_str())
                                .map(|it| it.scheme.clone())
                            {
                                Some(scheme) => self.instantiate(&scheme, func.span, *id),
                                None => {
                                    self.error(
                                        Code::T2003,
                                        format!("unknown value `{key}`"),
                                        func.span,
                                    );
                                    self.arena.error()
                                }
                            }
                        }
                    };
                    let arg_tys: Vec<TyId> = args.iter().map(|a| self.infer_expr(a)).collect();
                    let mut expected = self.arena.con("Bool", Vec::new());
                    for a in arg_tys.iter().rev() {
                        expected = self.arena.push(Node::Fun(*a, expected));
                    }
                    expected = self.arena.push(Node::Fun(base, expected));
                    if self.arena.unify(expected, f).is_err() {
                        let (e, found) = self.show_pair(expected, f);
                        self.error(
                            Code::C5002,
                            format!(
                                "the constraint `{}` must have type `{e}`, found `{found}`",
                                func.name
                            ),
                            item.span,
                        );
                    }
                }
            }
        }
        if let Some(p) = pred {
            let t = self.infer_expr(p);
            let b = self.arena.con("Bool", Vec::new());
            if self.arena.unify(b, t).is_err() {
                let shown = self.show(t);
                self.error(
                    Code::C5002,
                    format!("a refinement predicate must be `Bool`, found `{shown}`"),
                    p.span,
                );
            }
        }
        self.pop_mono(&x);
    }

    /// A top-level value in scope: an earlier `let` of the run being checked, else the
    /// environment (earlier declarations, imports, the prelude).
    fn top_value(&self, name: &Name) -> Option<&'a ValueInfo> {
        if let Some(overlay) = self.overlay {
            if let Some(info) = overlay.value(name, self.decl_index) {
                return Some(info);
            }
        }
        self.env.values.get(name)
    }

    // ------------------------------------------------------------ expressions

    fn prim(&mut self, name: &str) -> TyId {
        self.arena.con(name, Vec::new())
    }

    pub fn infer_expr(&mut self, expr: &Expr) -> TyId {
        if self.poll.stop() {
            return self.stopped(expr.span);
        }
        match &expr.kind {
            ExprKind::Int(_) => self.prim("Integer"),
            ExprKind::Float(_) => self.prim("Float"),
            ExprKind::Str(_) => self.prim("String"),
            ExprKind::Bool(_) => self.prim("Bool"),
            ExprKind::Unit => self.prim("Unit"),
            ExprKind::Error => self.arena.error(),
            ExprKind::Var(name) => self.infer_var(name, expr),
            ExprKind::Ctor(name) => self.infer_ctor(name, expr.span),
            ExprKind::Lambda { .. } => self.infer_lambda(expr),
            ExprKind::App { .. } => self.infer_app(expr),
            ExprKind::Let { .. } => self.infer_let(expr),
            ExprKind::If { .. } => self.infer_if(expr),
            ExprKind::Match { .. } => self.infer_match(expr),
            ExprKind::Binary { .. } => self.infer_binary(expr),
            ExprKind::Unary { .. } => self.infer_unary(expr),
            ExprKind::Field { .. } => self.infer_field(expr),
            ExprKind::Record { base: None, .. } => self.infer_record_literal(expr),
            ExprKind::Record { base: Some(_), .. } => self.infer_spread(expr),
            ExprKind::List(_) => self.infer_list(expr),
            ExprKind::Ann { .. } => self.infer_ann(expr),
        }
    }

    #[inline(never)]
    fn infer_let(&mut self, expr: &Expr) -> TyId {
        let ExprKind::Let {
            rec,
            name,
            ann,
            value,
            body,
        } = &expr.kind
        else {
            return self.arena.error();
        };
        // A chain `let ... in let ... in body` is a loop, not a recursion: it may be
        // arbitrarily long (LANGUAGE.md 12.4).
        let scheme = Arc::new(self.infer_binding(*rec, name, ann.as_deref(), value));
        self.record_let(name.span, &scheme);
        self.push_local(&name.name, Local::Poly(scheme));
        let mut names = vec![&name.name];
        let mut body = &**body;
        while let ExprKind::Let {
            rec,
            name,
            ann,
            value,
            body: next,
        } = &body.kind
        {
            let scheme = Arc::new(self.infer_binding(*rec, name, ann.as_deref(), value));
            self.record_let(name.span, &scheme);
            self.push_local(&name.name, Local::Poly(scheme));
            names.push(&name.name);
            body = next;
        }
        let t = self.infer_expr(body);
        while let Some(name) = names.pop() {
            self.pop_local(name);
        }
        t
    }

    fn record_let(&mut self, span: Span, scheme: &Arc<Scheme>) {
        if self.binders.is_some() {
            self.record_binder(span, BinderTy::Poly(scheme.clone()));
        }
    }

    #[inline(never)]
    fn infer_if(&mut self, expr: &Expr) -> TyId {
        let ExprKind::If {
            cond,
            then_branch,
            else_branch,
        } = &expr.kind
        else {
            return self.arena.error();
        };
        // An `else if` chain is a loop, not a recursion (it may be arbitrarily long,
        // LANGUAGE.md 12.4), with the unifications of the nested reading: innermost first,
        // each `if` taking the type of its `then` branch.
        let mut arms = Vec::new();
        let (mut cond, mut then_branch, mut else_branch) = (cond, then_branch, else_branch);
        loop {
            let c = self.infer_expr(cond);
            let b = self.prim("Bool");
            self.expect(b, c, cond.span, None);
            let t = self.infer_expr(then_branch);
            arms.push((t, then_branch.span, else_branch.span));
            match &else_branch.kind {
                ExprKind::If {
                    cond: c,
                    then_branch: t,
                    else_branch: e,
                } => (cond, then_branch, else_branch) = (c, t, e),
                _ => break,
            }
        }
        let mut acc = self.infer_expr(else_branch);
        while let Some((t, then_span, else_span)) = arms.pop() {
            self.expect(
                t,
                acc,
                else_span,
                Some((then_span, "expected because of this branch")),
            );
            acc = t;
        }
        acc
    }

    #[inline(never)]
    fn infer_binary(&mut self, expr: &Expr) -> TyId {
        let ExprKind::Binary {
            op,
            op_span,
            lhs,
            rhs,
        } = &expr.kind
        else {
            return self.arena.error();
        };
        let l = self.infer_expr(lhs);
        let r = self.infer_expr(rhs);
        match op {
            BinOp::And | BinOp::Or => {
                let b = self.prim("Bool");
                self.expect(b, l, lhs.span, None);
                self.expect(b, r, rhs.span, None);
                b
            }
            BinOp::Eq | BinOp::Ne => {
                self.expect(
                    l,
                    r,
                    rhs.span,
                    Some((lhs.span, "expected because of this operand")),
                );
                self.eq_checks.push((l, *op_span));
                self.prim("Bool")
            }
            _ => {
                self.expect(
                    l,
                    r,
                    rhs.span,
                    Some((lhs.span, "expected because of this operand")),
                );
                let (class, result) = match op {
                    BinOp::Concat => ("Appendable", l),
                    BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => ("Ordered", self.prim("Bool")),
                    _ => ("Numeric", l),
                };
                self.new_pred(Name::new(class), vec![l], expr.span);
                result
            }
        }
    }

    #[inline(never)]
    fn infer_spread(&mut self, expr: &Expr) -> TyId {
        let ExprKind::Record {
            base: Some(base),
            fields,
        } = &expr.kind
        else {
            return self.arena.error();
        };
        let b = self.infer_expr(base);
        let (mut known, tail) = self.arena.flatten_record(b);
        let br = self.arena.find(b);
        let ok = matches!(tail, Ok(None)) && matches!(self.arena.node(br), Node::Record { .. });
        let is_error = matches!(self.arena.node(br), Node::Error) || tail.is_err();
        if !ok && !is_error {
            let shown = self.show(b);
            self.error(
                Code::T2014,
                format!(
                    "the base of a record spread must be a known closed record, found `{shown}`"
                ),
                base.span,
            )
            .help = Some("annotate the base with its record type".into());
        }
        for f in fields {
            let t = self.infer_expr(&f.value);
            match known.iter_mut().find(|(n, _)| *n == f.name.name) {
                Some(slot) => slot.1 = t,
                None => known.push((f.name.name.clone(), t)),
            }
        }
        if ok {
            self.arena.push(Node::Record {
                fields: known,
                tail: None,
            })
        } else {
            self.arena.error()
        }
    }

    #[inline(never)]
    fn infer_lambda(&mut self, expr: &Expr) -> TyId {
        let ExprKind::Lambda { params, body } = &expr.kind else {
            return self.arena.error();
        };
        let mut tys = Vec::new();
        for p in params {
            let t = match &p.ann {
                Some(ann) => {
                    let mut scope = VarScope::new(VarMode::Fresh);
                    self.convert_type(ann, &mut scope)
                }
                None => self.arena.fresh(self.level),
            };
            if let Some(name) = &p.name {
                self.record_binder(name.span, BinderTy::Mono(t));
                self.push_mono(&name.name, t);
            }
            tys.push(t);
        }
        let mut t = self.infer_expr(body);
        for p in params.iter().rev() {
            if let Some(name) = &p.name {
                self.pop_mono(&name.name);
            }
        }
        for a in tys.into_iter().rev() {
            t = self.arena.push(Node::Fun(a, t));
        }
        t
    }

    #[inline(never)]
    fn infer_app(&mut self, expr: &Expr) -> TyId {
        let ExprKind::App { func, args } = &expr.kind else {
            return self.arena.error();
        };
        let mut f = self.infer_expr(func);
        let mut f_span = func.span;
        for arg in args {
            let a = self.infer_expr(arg);
            let fr = self.arena.find(f);
            f = match self.arena.node(fr).clone() {
                Node::Fun(p, r) => {
                    self.expect(
                        p,
                        a,
                        arg.span,
                        Some((f_span, "expected because of this function's type")),
                    );
                    r
                }
                Node::Var { rigid: None, .. } => {
                    let r = self.arena.fresh(self.level);
                    let ft = self.arena.push(Node::Fun(a, r));
                    self.expect(fr, ft, f_span, None);
                    r
                }
                Node::Error => fr,
                _ => {
                    let shown = self.show(fr);
                    let d = self.error(
                        Code::T2001,
                        format!("expected a function, found `{shown}`"),
                        f_span,
                    );
                    if let Some(label) = d.labels.first_mut() {
                        label.message = format!("`{shown}` is not a function");
                    }
                    self.arena.error()
                }
            };
            f_span = f_span.to(arg.span);
        }
        f
    }

    #[inline(never)]
    fn infer_match(&mut self, expr: &Expr) -> TyId {
        let ExprKind::Match { scrutinee, cases } = &expr.kind else {
            return self.arena.error();
        };
        let s = self.infer_expr(scrutinee);
        let result = self.arena.fresh(self.level);
        let mut first: Option<Span> = None;
        for case in cases {
            let mut bound = Vec::new();
            self.infer_pattern(&case.pat, s, &mut bound);
            for (name, t) in &bound {
                self.push_mono(name, *t);
            }
            if let Some(g) = &case.guard {
                let gt = self.infer_expr(g);
                let b = self.prim("Bool");
                self.expect(b, gt, g.span, None);
            }
            let bt = self.infer_expr(&case.body);
            match first {
                None => {
                    self.expect(result, bt, case.body.span, None);
                    first = Some(case.body.span);
                }
                Some(fs) => {
                    self.expect(
                        result,
                        bt,
                        case.body.span,
                        Some((fs, "expected because of the first case")),
                    );
                }
            }
            for (name, _) in bound.iter().rev() {
                self.pop_mono(name);
            }
        }
        self.check_exhaustive(s, cases, expr.span);
        result
    }

    #[inline(never)]
    fn infer_unary(&mut self, expr: &Expr) -> TyId {
        let ExprKind::Unary { op, operand } = &expr.kind else {
            return self.arena.error();
        };
        let t = self.infer_expr(operand);
        match op {
            UnOp::Not => {
                let b = self.prim("Bool");
                self.expect(b, t, operand.span, None);
                b
            }
            UnOp::Neg => {
                self.new_pred(Name::new("Numeric"), vec![t], expr.span);
                t
            }
        }
    }

    #[inline(never)]
    fn infer_field(&mut self, expr: &Expr) -> TyId {
        let ExprKind::Field { expr: inner, field } = &expr.kind else {
            return self.arena.error();
        };
        if let Some((alias, _, member)) = expr.as_qualified() {
            if !self.is_local(alias) {
                if let Some(module) = self.env.module_aliases.get(alias).cloned() {
                    return self.infer_qualified(alias, &module, member, expr);
                }
            }
        }
        let t = self.infer_expr(inner);
        let a = self.arena.fresh(self.level);
        let r = self.arena.fresh(self.level);
        let want = self.arena.push(Node::Record {
            fields: vec![(field.name.clone(), a)],
            tail: Some(r),
        });
        if self.arena.unify(want, t).is_err() {
            let shown = self.show(t);
            self.error(
                Code::T2001,
                format!(
                    "expected a record with field `{}`, found `{shown}`",
                    field.name
                ),
                field.span,
            );
            return self.arena.error();
        }
        a
    }

    fn is_local(&self, name: &Name) -> bool {
        self.locals.get(name).is_some_and(|it| !it.is_empty())
    }

    /// `m.x` or `m.C` for a module alias `m` (LANGUAGE.md 9.2).
    fn infer_qualified(&mut self, alias: &Name, module: &str, member: &Ident, expr: &Expr) -> TyId {
        let key = Name::new(format!("{alias}.{}", member.name));
        let upper = member.name.starts_with(|c: char| c.is_ascii_uppercase());
        if upper && self.env.ctors.contains_key(&key) {
            return self.infer_ctor(&key, expr.span);
        }
        if !upper {
            if let Some(info) = self.env.values.get(&key) {
                let scheme = info.scheme.clone();
                return self.instantiate_shared(&scheme, expr.span, expr.id, Some(&key));
            }
        }
        self.not_exported(module, &member.name, member.span);
        self.arena.error()
    }

    /// M4004 for a qualified name that the module does not export.
    pub fn not_exported(&mut self, module: &str, name: &str, span: Span) {
        self.error(
            Code::M4004,
            format!("`{name}` is not exported by `{module}`"),
            span,
        );
    }

    /// The key of a possibly qualified name in the environment's maps (`m.T` or `T`), or
    /// `None` (after reporting) when the qualifier is not a module alias.
    pub fn qualified_key(&mut self, module: Option<&Ident>, name: &Ident) -> Option<Name> {
        match module {
            None => Some(name.name.clone()),
            Some(m) => {
                if self.env.module_aliases.contains_key(&m.name) {
                    Some(Name::new(format!("{}.{}", m.name, name.name)))
                } else {
                    self.error(
                        Code::T2004,
                        format!("unknown module alias `{}`", m.name),
                        m.span,
                    );
                    None
                }
            }
        }
    }

    #[inline(never)]
    fn infer_record_literal(&mut self, expr: &Expr) -> TyId {
        let ExprKind::Record { base: None, fields } = &expr.kind else {
            return self.arena.error();
        };
        let fields = fields
            .iter()
            .map(|f| (f.name.name.clone(), self.infer_expr(&f.value)))
            .collect();
        self.arena.push(Node::Record { fields, tail: None })
    }

    #[inline(never)]
    fn infer_list(&mut self, expr: &Expr) -> TyId {
        let ExprKind::List(items) = &expr.kind else {
            return self.arena.error();
        };
        let elem = self.arena.fresh(self.level);
        let mut first: Option<Span> = None;
        for item in items {
            let t = self.infer_expr(item);
            let origin = first.map(|s| (s, "expected because of the first element"));
            self.expect(elem, t, item.span, origin);
            first.get_or_insert(item.span);
        }
        self.arena.con("List", vec![elem])
    }

    #[inline(never)]
    fn infer_ann(&mut self, expr: &Expr) -> TyId {
        let ExprKind::Ann { expr: inner, ty } = &expr.kind else {
            return self.arena.error();
        };
        let mut scope = VarScope::new(VarMode::Fresh);
        let a = self.convert_type(ty, &mut scope);
        let t = self.infer_expr(inner);
        self.expect(
            a,
            t,
            inner.span,
            Some((ty.span, "expected because of this annotation")),
        );
        a
    }

    fn infer_var(&mut self, name: &Name, expr: &Expr) -> TyId {
        if let Some(Some(local)) = self.locals.get(name).map(|s| s.last().cloned()) {
            return match local {
                Local::Mono(t) => t,
                Local::Rec { ty, binder } => {
                    self.rec_uses.push((expr.id, binder));
                    ty
                }
                Local::Poly(scheme) => self.instantiate_shared(&scheme, expr.span, expr.id, None),
            };
        }
        if let Some(info) = self.top_value(name) {
            let scheme = info.scheme.clone();
            return self.instantiate_shared(&scheme, expr.span, expr.id, Some(name));
        }
        if self.env.module_aliases.contains_key(name) {
            self.error(
                Code::T2003,
                format!("`{name}` is a module alias, not a value"),
                expr.span,
            )
            .help = Some(format!("use a member: `{name}.something`"));
            return self.arena.error();
        }
        let later = self.later.value(name);
        let (file, index) = (self.file, self.decl_index);
        let d = self.error(Code::T2003, format!("unknown value `{name}`"), expr.span);
        Self::later_note(d, file, later, index, name);
        if let Some((i, _)) = later {
            if *i == index {
                d.help = Some(format!(
                    "`{name}` is not in scope in its own definition; use `let rec`"
                ));
            }
        }
        self.arena.error()
    }

    fn infer_ctor(&mut self, name: &Name, span: Span) -> TyId {
        let Some(info) = self.env.ctors.get(name).cloned() else {
            let later = self.later.ctors.get(name);
            let (file, index) = (self.file, self.decl_index);
            let d = self.error(Code::T2003, format!("unknown constructor `{name}`"), span);
            Self::later_note(d, file, later, index, name);
            return self.arena.error();
        };
        let gens: Vec<TyId> = (0..info.n_params)
            .map(|_| self.arena.fresh(self.level))
            .collect();
        let result = self.arena.push(Node::Con {
            name: info.ty.clone(),
            args: gens.clone(),
        });
        match &info.payload {
            Some(p) => {
                let p = self.arena.instantiate(p, &gens);
                self.arena.push(Node::Fun(p, result))
            }
            None => result,
        }
    }

    // ------------------------------------------------------------ patterns

    fn infer_pattern(&mut self, pat: &ast::Pattern, expected: TyId, bound: &mut Vec<(Name, TyId)>) {
        match &pat.kind {
            PatternKind::Wildcard | PatternKind::Error => {}
            PatternKind::Var(ident) => {
                self.record_binder(ident.span, BinderTy::Mono(expected));
                bound.push((ident.name.clone(), expected));
            }
            PatternKind::Lit(lit) => {
                let t = match lit {
                    ast::Literal::Int(_) => self.prim("Integer"),
                    ast::Literal::Float(_) => self.prim("Float"),
                    ast::Literal::Str(_) => self.prim("String"),
                    ast::Literal::Bool(_) => self.prim("Bool"),
                    ast::Literal::Unit => self.prim("Unit"),
                };
                self.expect(expected, t, pat.span, None);
            }
            PatternKind::Ctor {
                module,
                name,
                payload,
            } => {
                let Some(key) = self.qualified_key(module.as_ref(), name) else {
                    return;
                };
                if let (Some(m), false) = (module, self.env.ctors.contains_key(&key)) {
                    let alias = self
                        .env
                        .module_aliases
                        .get(&m.name)
                        .cloned()
                        .unwrap_or_default();
                    self.not_exported(&alias, &name.name, name.span);
                    return;
                }
                let Some(info) = self.env.ctors.get(&key).cloned() else {
                    let later = self.later.ctors.get(&name.name);
                    let (file, index) = (self.file, self.decl_index);
                    let d = self.error(
                        Code::T2003,
                        format!("unknown constructor `{}`", name.name),
                        name.span,
                    );
                    Self::later_note(d, file, later, index, &name.name);
                    if let Some(p) = payload {
                        let e = self.arena.error();
                        self.infer_pattern(p, e, bound);
                    }
                    return;
                };
                let gens: Vec<TyId> = (0..info.n_params)
                    .map(|_| self.arena.fresh(self.level))
                    .collect();
                let t = self.arena.push(Node::Con {
                    name: info.ty.clone(),
                    args: gens.clone(),
                });
                self.expect(expected, t, pat.span, None);
                match (&info.payload, payload) {
                    (Some(p), Some(sub)) => {
                        let pt = self.arena.instantiate(p, &gens);
                        self.infer_pattern(sub, pt, bound);
                    }
                    (None, None) => {}
                    (Some(_), None) => {
                        self.error(
                            Code::T2011,
                            format!("the constructor `{}` needs a payload pattern", name.name),
                            pat.span,
                        );
                    }
                    (None, Some(sub)) => {
                        self.error(
                            Code::T2011,
                            format!("the constructor `{}` has no payload", name.name),
                            pat.span,
                        );
                        let e = self.arena.error();
                        self.infer_pattern(sub, e, bound);
                    }
                }
            }
            PatternKind::Record { fields, open } => {
                // The record's shape meets the expected type before its fields' patterns
                // are inferred (as for lists): a field's type is then usually known, and
                // nested patterns bind their variables to parts of it, instead of each level
                // walking the whole pattern type below it (quadratic in the depth).
                let field_types: Vec<TyId> = fields
                    .iter()
                    .map(|_| self.arena.fresh(self.level))
                    .collect();
                let fs = fields
                    .iter()
                    .zip(&field_types)
                    .map(|(f, t)| (f.name.name.clone(), *t))
                    .collect();
                let tail = if *open {
                    Some(self.arena.fresh(self.level))
                } else {
                    None
                };
                let t = self.arena.push(Node::Record { fields: fs, tail });
                self.expect(expected, t, pat.span, None);
                for (f, t) in fields.iter().zip(field_types) {
                    self.infer_pattern(&f.pat, t, bound);
                }
            }
            PatternKind::List(items) => {
                let elem = self.arena.fresh(self.level);
                let t = self.arena.con("List", vec![elem]);
                self.expect(expected, t, pat.span, None);
                for item in items {
                    self.infer_pattern(item, elem, bound);
                }
            }
        }
    }

    // ------------------------------------------------------------ exhaustiveness

    fn check_exhaustive(&mut self, scrutinee: TyId, cases: &[ast::Case], span: Span) {
        let pats: Vec<&ast::Pattern> = cases
            .iter()
            .filter(|c| c.guard.is_none())
            .map(|c| &c.pat)
            .collect();
        let s = self.arena.find(scrutinee);
        let is_candidate = match self.arena.node(s) {
            Node::Con { name, .. } => {
                name == "Bool"
                    || matches!(
                        self.env.type_by_con(name.as_str()).map(|d| &**d),
                        Some(TypeDef::Union { .. })
                    )
            }
            _ => false,
        };
        if !is_candidate {
            return;
        }
        if let Some(missing) = self.missing(&pats, scrutinee, 0) {
            self.error(
                Code::T2013,
                format!("non-exhaustive match: `{missing}` is not covered"),
                span,
            );
        }
    }

    /// A value shape not matched by any of `pats`, if one is found (conservatively `None`).
    fn missing(&mut self, pats: &[&ast::Pattern], ty: TyId, depth: u32) -> Option<String> {
        if depth > 32 || pats.iter().any(|p| irrefutable(p)) {
            return None;
        }
        let t = self.arena.find(ty);
        let (name, args) = match self.arena.node(t) {
            Node::Con { name, args } => (name.clone(), args.clone()),
            _ => return None,
        };
        if name == "Bool" {
            for b in [true, false] {
                let hit = pats
                    .iter()
                    .any(|p| matches!(&p.kind, PatternKind::Lit(ast::Literal::Bool(v)) if *v == b));
                if !hit {
                    return Some(b.to_string());
                }
            }
            return None;
        }
        let ctors = match self.env.type_by_con(name.as_str()).map(|d| &**d) {
            Some(TypeDef::Union { ctors, .. }) => ctors.clone(),
            _ => {
                return if pats.is_empty() {
                    Some("_".into())
                } else {
                    None
                };
            }
        };
        for ctor in ctors {
            let subs: Vec<&ast::Pattern> = pats
                .iter()
                .filter(|p| matches!(&p.kind, PatternKind::Ctor { name, .. } if name.name == ctor))
                .copied()
                .collect();
            let info = self.env.ctor_of(&name, &ctor).cloned();
            let Some(info) = info else { continue };
            if subs.is_empty() {
                return Some(if info.payload.is_some() {
                    format!("{ctor} _")
                } else {
                    ctor.to_string()
                });
            }
            if let Some(payload) = &info.payload {
                let payload_pats: Vec<&ast::Pattern> = subs
                    .iter()
                    .filter_map(|p| match &p.kind {
                        PatternKind::Ctor { payload, .. } => payload.as_deref(),
                        _ => None,
                    })
                    .collect();
                if payload_pats.len() < subs.len() {
                    continue;
                }
                let pt = self.arena.instantiate(payload, &args);
                if let Some(m) = self.missing(&payload_pats, pt, depth + 1) {
                    return Some(format!("{ctor} ({m})"));
                }
            }
        }
        None
    }
}

fn irrefutable(pat: &ast::Pattern) -> bool {
    match &pat.kind {
        PatternKind::Wildcard | PatternKind::Var(_) | PatternKind::Error => true,
        PatternKind::Record { fields, .. } => fields.iter().all(|f| irrefutable(&f.pat)),
        _ => false,
    }
}

/// Replaces `Gen(i)` by `args[i]`.
fn subst_gen(ty: &SType, args: &[SType]) -> SType {
    match ty {
        SType::Gen(i) => args.get(*i as usize).cloned().unwrap_or(SType::Error),
        SType::Con(n, xs) => SType::Con(n.clone(), xs.iter().map(|x| subst_gen(x, args)).collect()),
        SType::Fun(a, r) => SType::Fun(Box::new(subst_gen(a, args)), Box::new(subst_gen(r, args))),
        SType::Record(fields, tail) => SType::Record(
            fields
                .iter()
                .map(|(n, t)| (n.clone(), subst_gen(t, args)))
                .collect(),
            tail.as_ref().map(|t| Box::new(subst_gen(t, args))),
        ),
        other => other.clone(),
    }
}

fn max_gen(ty: &SType) -> Option<u32> {
    match ty {
        SType::Gen(i) => Some(*i),
        SType::Con(_, args) => args.iter().filter_map(max_gen).max(),
        SType::Fun(a, r) => max_gen(a).max(max_gen(r)),
        SType::Record(fields, tail) => fields
            .iter()
            .filter_map(|(_, t)| max_gen(t))
            .chain(tail.iter().filter_map(|t| max_gen(t)))
            .max(),
        _ => None,
    }
}

fn min_gen(ty: &SType) -> Option<u32> {
    match ty {
        SType::Gen(i) => Some(*i),
        SType::Con(_, args) => args.iter().filter_map(min_gen).min(),
        SType::Fun(a, r) => [min_gen(a), min_gen(r)].into_iter().flatten().min(),
        SType::Record(fields, tail) => fields
            .iter()
            .filter_map(|(_, t)| min_gen(t))
            .chain(tail.iter().filter_map(|t| min_gen(t)))
            .min(),
        _ => None,
    }
}

/// An instance as written: `C (List 'a)`, with its context (`C 'a => C (List 'a)`).
fn instance_text(inst: &InstanceInfo) -> String {
    fn var(k: u32) -> String {
        match char::from_u32(u32::from(b'a') + k).filter(|_| k < 26) {
            Some(c) => format!("'{c}"),
            None => format!("'t{k}"),
        }
    }
    fn atom(t: &SType) -> String {
        match t {
            SType::Gen(k) => var(*k),
            SType::Con(name, args) if args.is_empty() => name.to_string(),
            SType::Con(name, args) => {
                let args: Vec<String> = args.iter().map(atom).collect();
                format!("({name} {})", args.join(" "))
            }
            _ => "_".into(),
        }
    }
    let pred = |class: &Name, args: &[SType]| {
        let args: Vec<String> = args.iter().map(atom).collect();
        format!("{class} {}", args.join(" "))
    };
    let head = pred(&inst.class, &inst.head);
    if inst.context.is_empty() {
        return head;
    }
    let context: Vec<String> = inst
        .context
        .iter()
        .map(|p| pred(&p.class, &p.args))
        .collect();
    if context.len() == 1 {
        format!("{} => {head}", context.join(""))
    } else {
        format!("({}) => {head}", context.join(", "))
    }
}
