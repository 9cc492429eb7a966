//! Checking declarations one at a time, in source order, against the environment of the
//! declarations before them (LANGUAGE.md section 4.1).

use crate::hash::HashMap;
use std::sync::Arc;

use super::elab::{DictExpr, Elaboration, InstanceRef};
use super::env::{
    ClassInfo, CtorInfo, Env, InstanceInfo, MethodInfo, Origin, Overlay, TypeDef, ValueInfo,
};
use super::infer::{Bound, Infer, Later, RegexChecks, SelfType, VarMode, VarScope};
use super::ty::{print_scheme, ClosedFindings, ClosedTypes, Node, Pred, SType, Scheme, TyId};
use super::{BinderType, BindingInfo, Checked};
use crate::diagnostic::{Code, Diagnostic};
use crate::interrupt::Interrupt;
use crate::source::{FileId, Span};
use crate::syntax::ast::{self, DeclKind, Ident, Name};

/// Names of all top-level declarations, for "declared later" notes and export lists
/// (value names are gathered when first asked: [`Later::value`]).
pub fn prescan(module: &ast::Module) -> Later<'_> {
    let mut later = Later::new(&module.decls);
    // Sized up front: a schema's 54,000 types would otherwise grow these maps a dozen
    // times, each time into fresh memory.
    let (types, _, ctors) = type_counts(module);
    later.types.reserve(types);
    later.ctors.reserve(ctors);
    for (i, decl) in module.decls.iter().enumerate() {
        let i = i as u32;
        match &decl.kind {
            DeclKind::Type(t) => {
                later
                    .types
                    .entry(t.name.name.clone())
                    .or_insert((i, t.name.span));
                let variants: Vec<&ast::Variant> = match &t.rhs {
                    ast::TypeRhs::Union(vs) => vs.iter().collect(),
                    ast::TypeRhs::Lone { variant, .. } => vec![variant],
                    ast::TypeRhs::Alias(_) => Vec::new(),
                };
                for v in variants {
                    later
                        .ctors
                        .entry(v.name.name.clone())
                        .or_insert((i, v.name.span));
                }
            }
            DeclKind::Class(c) => {
                later
                    .classes
                    .entry(c.name.name.clone())
                    .or_insert((i, c.name.span));
            }
            DeclKind::Let(_) | DeclKind::Instance(_) | DeclKind::Export(_) => {}
        }
    }
    later
}

/// How many type declarations `module` has, how many of them may be unions, and how many
/// constructors they declare at most: what the maps of types and constructors are sized
/// for.
fn type_counts(module: &ast::Module) -> (usize, usize, usize) {
    let (mut types, mut unions, mut ctors) = (0, 0, 0);
    for decl in &module.decls {
        if let DeclKind::Type(t) = &decl.kind {
            types += 1;
            match &t.rhs {
                ast::TypeRhs::Union(vs) => {
                    unions += 1;
                    ctors += vs.len();
                }
                ast::TypeRhs::Lone { .. } => {
                    unions += 1;
                    ctors += 1;
                }
                ast::TypeRhs::Alias(_) => {}
            }
        }
    }
    (types, unions, ctors)
}

/// Where [`ModuleChecker::check_binders`] records local binders: in the declaration (or
/// trailing expression) whose span holds `at` only. The lets before it are applied from
/// `known` (their schemes from an ordinary check's cache, by declaration index) when it has
/// them, and checked without recording when not; the declarations after it are not checked.
pub struct BinderFocus<'k> {
    pub at: Span,
    pub known: &'k dyn Fn(u32) -> Option<Arc<Scheme>>,
}

/// One `let` checked on its own, waiting to be applied to the module in source order.
#[derive(Debug)]
pub struct LetChecked {
    pub scheme: Arc<Scheme>,
    pub diagnostics: Vec<Diagnostic>,
    pub elab: Elaboration,
    /// What the inference learnt for the module's closed types.
    pub closed: ClosedFindings,
}

impl LetChecked {
    /// How later declarations of the same run see this binding.
    pub fn value_info(&self, i: u32) -> ValueInfo {
        ValueInfo {
            scheme: self.scheme.clone(),
            origin: Origin::Decl(i),
        }
    }
}

/// The module driver's state: the growing environment and the outputs.
pub struct ModuleChecker<'m> {
    pub file: FileId,
    pub env: Env,
    pub later: Later<'m>,
    pub elab: Elaboration,
    pub diags: Vec<Diagnostic>,
    pub bindings: Vec<BindingInfo>,
    /// Top-level value names declared in this module (lets and methods), with their spans.
    seen_values: HashMap<Name, Span>,
    seen_types: HashMap<Name, Span>,
    seen_classes: HashMap<Name, Span>,
    seen_ctors: HashMap<Name, Span>,
    /// Monomorphic schemes already seen, shared between bindings with the same type.
    mono_schemes: HashMap<SType, (Arc<Scheme>, Arc<str>)>,
    /// Schemes already applied, by address (schemes from the engine's cache are shared
    /// between bindings): their printed form without hashing the type again.
    printed: HashMap<usize, (Arc<Scheme>, Arc<str>)>,
    /// The last monomorphic scheme stored, with its printed form.
    last_mono: Option<(Arc<Scheme>, Arc<str>)>,
    /// The closed types of the top-level values lets have used, shared by the inference
    /// of every later let.
    closed: ClosedTypes,
    /// Nodes of the distinct schemes stored so far, and the most allowed (see
    /// `keep_new_scheme`); whether T2016 was reported for it.
    scheme_nodes: usize,
    scheme_budget: usize,
    over_scheme_budget: bool,
    /// Polled by each inference (LANGUAGE.md 12.3); the engine polls between declarations.
    pub interrupt: Option<&'m Interrupt>,
    /// Refinement regexes validated so far, shared by every inference of the module.
    regexes: RegexChecks,
    /// The local binders' types, when recording them ([`ModuleChecker::check_binders`]).
    binders: Option<Vec<BinderType>>,
}

/// The budget of distinct scheme nodes of a module: 10 million, or 5 per source byte for
/// bigger files. Real modules store few distinct types (100,000 services share one record
/// type; distinct records of 100 fields every 20 bytes would be 5 nodes a byte).
fn scheme_budget(module: &ast::Module) -> usize {
    let bytes = module
        .decls
        .last()
        .map(|d| d.span.end)
        .max(module.body.as_ref().map(|b| b.span.end))
        .unwrap_or(0) as usize;
    bytes.saturating_mul(5).max(10_000_000)
}

impl<'m> ModuleChecker<'m> {
    /// A checker starting from `env`: the prelude plus whatever the module imports.
    pub fn new(file: FileId, module: &'m ast::Module, mut env: Env) -> ModuleChecker<'m> {
        // Sized for the module up front: a large file would otherwise rehash these maps
        // a dozen times as they grow.
        let n = module.decls.len();
        env.values.reserve(n);
        let mut seen_values = HashMap::default();
        seen_values.reserve(n);
        // A union is in `env.types` under its name and its identity.
        let (types, unions, ctors) = type_counts(module);
        env.types.reserve(types + unions);
        env.ctors.reserve(ctors);
        let mut seen_types = HashMap::default();
        seen_types.reserve(types);
        let mut seen_ctors = HashMap::default();
        seen_ctors.reserve(ctors);
        ModuleChecker {
            file,
            env,
            later: prescan(module),
            elab: Elaboration::default(),
            diags: Vec::new(),
            bindings: Vec::with_capacity(n),
            seen_values,
            seen_types,
            seen_classes: HashMap::default(),
            seen_ctors,
            mono_schemes: HashMap::default(),
            printed: HashMap::default(),
            last_mono: None,
            closed: ClosedTypes::default(),
            scheme_nodes: 0,
            scheme_budget: scheme_budget(module),
            over_scheme_budget: false,
            interrupt: None,
            regexes: RegexChecks::default(),
            binders: None,
        }
    }

    pub fn check(self, module: &ast::Module) -> Checked {
        self.check_with_env(module).0
    }

    /// Checks every declaration; also returns the final environment (the module's own
    /// declarations on top of the starting one), from which an interface can be taken.
    pub fn check_with_env(mut self, module: &ast::Module) -> (Checked, Env) {
        for (i, decl) in module.decls.iter().enumerate() {
            self.check_decl(i as u32, decl);
        }
        self.finish(module)
    }

    /// Checks every declaration and the trailing expression, recording the types of the
    /// local binders (see [`super::binder_types`]).
    pub fn check_binders(
        mut self,
        module: &ast::Module,
        focus: Option<&BinderFocus<'_>>,
    ) -> Vec<BinderType> {
        self.binders = Some(Vec::new());
        let holds =
            |span: Span| focus.is_none_or(|it| span.start <= it.at.start && it.at.end <= span.end);
        for (i, decl) in module.decls.iter().enumerate() {
            let i = i as u32;
            if let Some(focus) = focus.filter(|_| !holds(decl.span)) {
                if decl.span.start >= focus.at.end {
                    // Nothing after the focus changes what it sees.
                    break;
                }
                // Outside the focus: only what later declarations see of it, from the
                // known scheme when there is one (as a cache hit of the ordinary check).
                if let DeclKind::Let(l) = &decl.kind {
                    if let Some(scheme) = (focus.known)(i) {
                        let checked = LetChecked {
                            scheme,
                            diagnostics: Vec::new(),
                            elab: Elaboration::default(),
                            closed: ClosedFindings::default(),
                        };
                        self.apply_let(i, l, checked, false);
                        continue;
                    }
                }
                let recording = self.binders.take();
                self.check_decl(i, decl);
                self.binders = recording;
                continue;
            }
            match &decl.kind {
                DeclKind::Let(l) => {
                    let like = self.last_mono.as_ref().map(|(scheme, _)| scheme);
                    let (checked, mut found) = self.infer_let_in(i, l, None, like, true);
                    if let Some(binders) = &mut self.binders {
                        binders.append(&mut found);
                    }
                    self.apply_let(i, l, checked, false);
                }
                _ => self.check_decl(i, decl),
            }
        }
        if let Some(body) = module.body.as_ref().filter(|it| holds(it.span)) {
            self.check_body(module.decls.len() as u32, body);
        }
        self.binders.unwrap_or_default()
    }

    /// Checks declaration `i` against everything before it and adds it to the environment.
    pub fn check_decl(&mut self, i: u32, decl: &ast::Decl) {
        match &decl.kind {
            DeclKind::Let(l) => {
                let checked = self.infer_let(i, l, None);
                self.apply_let(i, l, checked, false);
            }
            DeclKind::Type(t) => self.check_type_decl(i, t),
            DeclKind::Class(c) => self.check_class(i, c),
            DeclKind::Instance(inst) => self.check_instance(i, inst),
            DeclKind::Export(items) => self.check_export(items),
        }
    }

    /// After the declarations: checks the trailing expression and returns the results and
    /// the final environment.
    pub fn finish(mut self, module: &ast::Module) -> (Checked, Env) {
        let body_type = module
            .body
            .as_ref()
            .map(|body| self.check_body(module.decls.len() as u32, body));
        let checked = Checked {
            diagnostics: self.diags,
            elaboration: self.elab,
            bindings: self.bindings,
            body_type,
        };
        (checked, self.env)
    }

    fn duplicate(&mut self, kind: &str, ident: &Ident, previous: Option<Span>) {
        let mut d = Diagnostic::new(
            Code::T2006,
            format!("the {kind} `{}` is defined twice", ident.name),
            self.file,
            ident.span,
        );
        if let Some(prev) = previous {
            d = d.with_label(self.file, prev, "first defined here");
        }
        self.diags.push(d);
    }

    fn check_value_name(&mut self, ident: &Ident) -> bool {
        let prev = match self.seen_values.entry(ident.name.clone()) {
            std::collections::hash_map::Entry::Occupied(seen) => *seen.get(),
            std::collections::hash_map::Entry::Vacant(slot) => {
                slot.insert(ident.span);
                return true;
            }
        };
        self.duplicate("value", ident, Some(prev));
        false
    }

    /// Whether a top-level value (a `let` or a class method) named `name` is already
    /// declared in this module: a `let` of that name would be a duplicate (T2006).
    pub fn declares_value(&self, name: &Name) -> bool {
        self.seen_values.contains_key(name)
    }

    /// Infers the scheme of `let` declaration `i` against the environment (plus `overlay`,
    /// for the earlier `let`s of a run checked concurrently) without changing the checker:
    /// this is the part of checking a declaration that may run on several threads at once.
    pub fn infer_let(&self, i: u32, l: &ast::LetDecl, overlay: Option<&dyn Overlay>) -> LetChecked {
        // The previous let's scheme, when monomorphic: a run of lets of one type shares it.
        let like = self.last_mono.as_ref().map(|(scheme, _)| scheme);
        self.infer_let_like(i, l, overlay, like)
    }

    /// [`ModuleChecker::infer_let`], sharing `like` when the let's type is exactly that
    /// scheme (see `Infer::infer_binding_like`).
    pub fn infer_let_like(
        &self,
        i: u32,
        l: &ast::LetDecl,
        overlay: Option<&dyn Overlay>,
        like: Option<&Arc<Scheme>>,
    ) -> LetChecked {
        self.infer_let_in(i, l, overlay, like, false).0
    }

    /// [`ModuleChecker::infer_let_like`], with the types of the let's local binders when
    /// `record`.
    fn infer_let_in(
        &self,
        i: u32,
        l: &ast::LetDecl,
        overlay: Option<&dyn Overlay>,
        like: Option<&Arc<Scheme>>,
        record: bool,
    ) -> (LetChecked, Vec<BinderType>) {
        let mut inf = Infer::new(&self.env, &self.later, self.file, i)
            .polling(self.interrupt)
            .checking_regexes(&self.regexes)
            .recording_binders(record);
        inf.over_closed(&self.closed);
        inf.overlay = overlay;
        let scheme = match inf.infer_binding_like(l.rec, &l.name, l.ann.as_deref(), &l.value, like)
        {
            Bound::Own(scheme) => Arc::new(scheme),
            Bound::Same(scheme) => scheme,
        };
        let mut elab = Elaboration::default();
        inf.finish(&mut elab);
        let binders = inf.binder_types();
        let checked = LetChecked {
            scheme,
            diagnostics: inf.diags,
            elab,
            closed: inf.closed_found,
        };
        (checked, binders)
    }

    /// This checker without shared closed types: each let instantiates every scheme it
    /// uses, as before they existed (for tests comparing both).
    #[cfg(test)]
    pub fn without_closed_types(mut self) -> ModuleChecker<'m> {
        self.closed = ClosedTypes::at_most(0);
        self
    }

    /// A scheme not seen before in this module, printed, counted against the module's
    /// budget of distinct scheme nodes: past it, T2016 (once) and the error type. Each
    /// scheme is bounded (`infer::MAX_SCHEME_NODES`), but a chain `let x_i = [x_{i-1}];`
    /// grows one node per binding, quadratic in all.
    fn keep_new_scheme(
        &mut self,
        scheme: Arc<Scheme>,
        l: &ast::LetDecl,
    ) -> (Arc<Scheme>, Arc<str>) {
        self.scheme_nodes = self.scheme_nodes.saturating_add(scheme.ty.size());
        if self.scheme_nodes <= self.scheme_budget {
            let printed: Arc<str> = print_scheme(&scheme).into();
            return (scheme, printed);
        }
        if !self.over_scheme_budget {
            self.over_scheme_budget = true;
            let mut d = Diagnostic::new(
                Code::T2016,
                format!(
                    "the types of this module are too large: more than {} parts in all when written out",
                    self.scheme_budget
                ),
                self.file,
                l.name.span,
            );
            d.help = Some(
                "each binding here has a type that contains the previous binding's type; \
                 the sum grows with the square of their number"
                    .into(),
            );
            self.diags.push(d);
        }
        let scheme = Arc::new(Scheme::mono(SType::Error));
        let printed: Arc<str> = print_scheme(&scheme).into();
        (scheme, printed)
    }

    /// Adds a checked `let` to the module, in source order: duplicate check, binding
    /// information, the environment of the declarations after it.
    /// With `keep`, returns the scheme as stored (shared with earlier bindings of the same
    /// monomorphic type). Reference counts are touched as little as possible: a module of
    /// 10,000 lets of one type updates one count 10,000 times per count touched here.
    pub fn apply_let(
        &mut self,
        i: u32,
        l: &ast::LetDecl,
        checked: LetChecked,
        keep: bool,
    ) -> Option<Arc<Scheme>> {
        let fresh = self.check_value_name(&l.name);
        let LetChecked {
            scheme,
            mut diagnostics,
            elab,
            closed,
        } = checked;
        let values = &self.env.values;
        self.closed
            .learn(closed, |name| values.get(name).map(|info| &info.scheme));
        self.diags.append(&mut diagnostics);
        // Most lets (and every one from the cache) have no elaboration: not even an empty
        // map is merged then, which cost a tenth of checking an edited file of 10,000 lets.
        if !elab.uses.is_empty() {
            self.elab.uses.extend(elab.uses);
        }
        if !elab.params.is_empty() {
            self.elab.params.extend(elab.params);
        }
        if !elab.instance_supers.is_empty() {
            self.elab.instance_supers.extend(elab.instance_supers);
        }
        let in_document = !matches!(scheme.ty, SType::Fun(..)) && scheme.constraints.is_empty();
        let known = self
            .printed
            .get(&(Arc::as_ptr(&scheme) as usize))
            .map(|(_, printed)| printed.clone());
        let mono = scheme.n_gen == 0 && scheme.constraints.is_empty();
        // A known scheme is already remembered under its own address: it is the stored one.
        let (scheme, printed) = if let Some(printed) = known {
            (scheme, printed)
        } else {
            let (scheme, printed) = if let Some(last) = self
                .last_mono
                .as_ref()
                .filter(|(last, _)| mono && last.ty == scheme.ty)
            {
                // Runs of bindings of one type are common (a list of services): an
                // equality test with the previous one is cheaper than hashing the type.
                last.clone()
            } else if mono {
                let shared = match self.mono_schemes.get(&scheme.ty) {
                    Some(shared) => shared.clone(),
                    None => {
                        let (scheme, printed) = self.keep_new_scheme(scheme, l);
                        self.mono_schemes
                            .insert(scheme.ty.clone(), (scheme.clone(), printed.clone()));
                        (scheme, printed)
                    }
                };
                self.last_mono = Some(shared.clone());
                shared
            } else {
                self.keep_new_scheme(scheme, l)
            };
            // Only the stored scheme is remembered: it lives in the environment anyway, so
            // its address cannot be reused while the map holds it.
            self.printed
                .entry(Arc::as_ptr(&scheme) as usize)
                .or_insert_with(|| (scheme.clone(), printed.clone()));
            (scheme, printed)
        };
        self.bindings.push(BindingInfo {
            name: l.name.name.clone(),
            decl: i,
            scheme: printed,
            in_document,
        });
        let kept = keep.then(|| scheme.clone());
        if fresh {
            self.env.values.insert(
                l.name.name.clone(),
                ValueInfo {
                    scheme,
                    origin: Origin::Decl(i),
                },
            );
        }
        kept
    }

    fn check_body(&mut self, i: u32, body: &ast::Expr) -> String {
        let mut inf = Infer::new(&self.env, &self.later, self.file, i)
            .polling(self.interrupt)
            .checking_regexes(&self.regexes)
            .recording_binders(self.binders.is_some());
        let name = Ident {
            name: Name::new(""),
            span: body.span,
        };
        let scheme = inf.infer_binding(false, &name, None, body);
        if !scheme.constraints.is_empty() {
            let shown = print_scheme(&scheme);
            inf.error(
                Code::T2012,
                format!("the trailing expression has unresolved constraints: `{shown}`"),
                body.span,
            )
            .help = Some("add a type annotation".into());
            inf.params.remove(&body.id);
        }
        inf.finish(&mut self.elab);
        if let Some(binders) = &mut self.binders {
            binders.append(&mut inf.binder_types());
        }
        self.diags.append(&mut inf.diags);
        print_scheme(&Scheme {
            constraints: Vec::new(),
            ..scheme
        })
    }

    fn check_export(&mut self, items: &[ast::RenameItem]) {
        for item in items {
            let name = &item.name.name;
            let upper = name.chars().next().is_some_and(|c| c.is_ascii_uppercase());
            if upper {
                let known = self.later.types.contains_key(name)
                    || self.later.classes.contains_key(name)
                    || self.env.types.contains_key(name)
                    || self.env.classes.contains_key(name);
                if !known {
                    self.diags.push(Diagnostic::new(
                        Code::T2004,
                        format!("unknown type or class `{name}`"),
                        self.file,
                        item.name.span,
                    ));
                }
            } else if self.later.value(name).is_none() && !self.env.values.contains_key(name) {
                self.diags.push(Diagnostic::new(
                    Code::T2003,
                    format!("unknown value `{name}`"),
                    self.file,
                    item.name.span,
                ));
            }
        }
    }

    // ------------------------------------------------------------ types

    fn check_type_decl(&mut self, i: u32, t: &ast::TypeDecl) {
        let name = &t.name;
        let mut ok = true;
        if Env::is_prelude_type(&name.name) {
            self.diags.push(Diagnostic::new(
                Code::T2006,
                format!("the prelude type `{}` cannot be redefined", name.name),
                self.file,
                name.span,
            ));
            ok = false;
        } else if let Some(prev) = self.seen_types.get(&name.name).copied() {
            self.duplicate("type", name, Some(prev));
            ok = false;
        }
        let arity = t.params.len() as u32;
        enum Shape<'t> {
            Alias(&'t ast::Type),
            Union(Vec<&'t ast::Variant>),
        }
        let shape = match &t.rhs {
            ast::TypeRhs::Alias(ty) => Shape::Alias(ty),
            ast::TypeRhs::Union(vs) => Shape::Union(vs.iter().collect()),
            ast::TypeRhs::Lone { variant, as_type } => {
                if self.env.types.contains_key(&variant.name.name) {
                    Shape::Alias(as_type)
                } else {
                    Shape::Union(vec![variant])
                }
            }
        };
        let mut inf = Infer::new(&self.env, &self.later, self.file, i)
            .polling(self.interrupt)
            .checking_regexes(&self.regexes)
            .recording_binders(self.binders.is_some());
        inf.level = 1;
        let identity = super::env::union_identity(&name.name, self.file);
        inf.self_type = Some(SelfType {
            name: name.name.clone(),
            identity: identity.clone(),
            arity,
            is_alias: matches!(shape, Shape::Alias(_)),
        });
        let mut scope = VarScope::new(VarMode::Fixed);
        let mut params: Vec<TyId> = Vec::new();
        for p in &t.params {
            let v = inf.arena.fresh(1);
            scope.vars.push((p.name.clone(), v));
            params.push(v);
        }
        let mut new_ctors = Vec::new();
        let def = match shape {
            Shape::Alias(ty) => {
                let body = inf.convert_type(ty, &mut scope);
                let mut gens = params.clone();
                let body = inf.arena.export(body, 0, &mut gens);
                TypeDef::Alias {
                    arity,
                    body,
                    canonical: None,
                }
            }
            Shape::Union(variants) => {
                let mut names = Vec::new();
                for v in variants {
                    let payload = v.payload.as_ref().map(|p| {
                        let ty = inf.convert_type(p, &mut scope);
                        let mut gens = params.clone();
                        inf.arena.export(ty, 0, &mut gens)
                    });
                    if Env::is_prelude_ctor(&v.name.name) {
                        inf.diags.push(Diagnostic::new(
                            Code::T2006,
                            format!(
                                "the prelude constructor `{}` cannot be redefined",
                                v.name.name
                            ),
                            self.file,
                            v.name.span,
                        ));
                        continue;
                    }
                    if let Some(prev) = self.seen_ctors.get(&v.name.name).copied() {
                        let d = Diagnostic::new(
                            Code::T2006,
                            format!("the constructor `{}` is defined twice", v.name.name),
                            self.file,
                            v.name.span,
                        )
                        .with_label(self.file, prev, "first defined here");
                        inf.diags.push(d);
                        continue;
                    }
                    self.seen_ctors.insert(v.name.name.clone(), v.name.span);
                    names.push(v.name.name.clone());
                    new_ctors.push((
                        v.name.name.clone(),
                        CtorInfo {
                            ty: identity.clone(),
                            n_params: arity,
                            payload,
                        },
                    ));
                }
                TypeDef::Union {
                    arity,
                    ctors: names,
                    identity: identity.clone(),
                }
            }
        };
        inf.level = 0;
        inf.finish(&mut self.elab);
        if let Some(binders) = &mut self.binders {
            binders.append(&mut inf.binder_types());
        }
        let mut diags = std::mem::take(&mut inf.diags);
        drop(inf);
        self.diags.append(&mut diags);
        if ok {
            self.seen_types.insert(name.name.clone(), name.span);
            let def = Arc::new(def);
            if let TypeDef::Union { identity, .. } = &*def {
                self.env.types.insert(identity.clone(), def.clone());
            }
            self.env.types.insert(name.name.clone(), def);
            for (c, info) in new_ctors {
                self.env.ctors.insert(c, Arc::new(info));
            }
        }
    }

    // ------------------------------------------------------------ classes

    fn check_class(&mut self, i: u32, c: &ast::ClassDecl) {
        let name = &c.name;
        let mut ok = true;
        if Env::is_builtin_class(&name.name) {
            self.diags.push(Diagnostic::new(
                Code::T2006,
                format!("the prelude class `{}` cannot be redefined", name.name),
                self.file,
                name.span,
            ));
            ok = false;
        } else if let Some(prev) = self.seen_classes.get(&name.name).copied() {
            self.duplicate("class", name, Some(prev));
            ok = false;
        }
        let n_params = c.params.len() as u32;
        let mut inf = Infer::new(&self.env, &self.later, self.file, i)
            .polling(self.interrupt)
            .checking_regexes(&self.regexes)
            .recording_binders(self.binders.is_some());
        inf.level = 1;
        let mut scope = VarScope::new(VarMode::Rigid);
        let mut params = Vec::new();
        for p in &c.params {
            let v = inf.arena.rigid(1, p.name.clone());
            scope.vars.push((p.name.clone(), v));
            params.push(v);
        }
        let mut fixed = VarScope {
            mode: VarMode::Fixed,
            vars: scope.vars.clone(),
        };
        let supers_raw = inf.convert_context(&c.superclasses, &mut fixed);
        let supers: Vec<Pred> = supers_raw
            .iter()
            .map(|(class, args, _)| {
                let mut gens = params.clone();
                Pred {
                    class: class.clone(),
                    args: args
                        .iter()
                        .map(|a| inf.arena.export(*a, 0, &mut gens))
                        .collect(),
                }
            })
            .collect();
        let self_pred = Pred {
            class: name.name.clone(),
            args: (0..n_params).map(SType::Gen).collect(),
        };
        let mut methods = Vec::new();
        for sig in &c.methods {
            let mut mscope = VarScope {
                mode: VarMode::Rigid,
                vars: scope.vars.clone(),
            };
            let (ty, context) = inf.convert_type_top(&sig.ty, &mut mscope);
            let mut gens = params.clone();
            let sty = inf.arena.export(ty, 0, &mut gens);
            let mentions = contains_error(&sty) || (0..n_params).any(|p| mentions_gen(&sty, p));
            if !mentions {
                inf.error(
                    Code::T2007,
                    format!(
                        "the method `{}` does not mention the class variable",
                        sig.name.name
                    ),
                    sig.span,
                );
            }
            let mut constraints = vec![self_pred.clone()];
            for (class, args, _) in &context {
                constraints.push(Pred {
                    class: class.clone(),
                    args: args
                        .iter()
                        .map(|a| inf.arena.export(*a, 0, &mut gens))
                        .collect(),
                });
            }
            let scheme = Scheme {
                n_gen: gens.len() as u32,
                constraints,
                ty: sty,
            };
            let has_default = c.defaults.iter().any(|d| d.name.name == sig.name.name);
            methods.push(MethodInfo {
                name: sig.name.name.clone(),
                scheme: Arc::new(scheme),
                has_default,
            });
        }
        inf.level = 0;
        inf.finish(&mut self.elab);
        if let Some(binders) = &mut self.binders {
            binders.append(&mut inf.binder_types());
        }
        let mut diags = std::mem::take(&mut inf.diags);
        drop(inf);
        self.diags.append(&mut diags);
        if !ok {
            return;
        }
        for (m, sig) in methods.iter().zip(c.methods.iter()) {
            if self.check_value_name(&sig.name) {
                self.env.values.insert(
                    m.name.clone(),
                    ValueInfo {
                        scheme: m.scheme.clone(),
                        origin: Origin::Method {
                            class: name.name.clone(),
                            decl: i,
                        },
                    },
                );
            }
        }
        let info = ClassInfo {
            name: name.name.clone(),
            n_params,
            supers,
            methods: methods.clone(),
            builtin: false,
        };
        self.seen_classes.insert(name.name.clone(), name.span);
        self.env.classes.insert(name.name.clone(), Arc::new(info));
        // Defaults, checked with the class itself as the given dictionary.
        for def in &c.defaults {
            let Some(m) = methods.iter().find(|m| m.name == def.name.name) else {
                self.diags.push(Diagnostic::new(
                    Code::T2007,
                    format!(
                        "`{}` is not a method of the class `{}`",
                        def.name.name, name.name
                    ),
                    self.file,
                    def.name.span,
                ));
                continue;
            };
            let mut inf = Infer::new(&self.env, &self.later, self.file, i)
                .polling(self.interrupt)
                .checking_regexes(&self.regexes)
                .recording_binders(self.binders.is_some());
            inf.level = 1;
            let gens: Vec<TyId> = (0..m.scheme.n_gen)
                .map(|g| {
                    let n = c
                        .params
                        .get(g as usize)
                        .map(|p| p.name.clone())
                        .unwrap_or_else(|| Name::new(format!("t{g}")));
                    inf.arena.rigid(1, n)
                })
                .collect();
            let param_tys: Vec<TyId> = gens.iter().take(n_params as usize).copied().collect();
            inf.push_given(name.name.clone(), param_tys, Some(DictExpr::SelfDict));
            push_extra_givens(&mut inf, &m.scheme, &gens, def.value.id);
            let expected = inf.arena.instantiate(&m.scheme.ty, &gens);
            let found = inf.infer_expr(&def.value);
            inf.expect(
                expected,
                found,
                def.value.span,
                Some((def.name.span, "the method's signature is expected")),
            );
            inf.level = 0;
            inf.finish(&mut self.elab);
            if let Some(binders) = &mut self.binders {
                binders.append(&mut inf.binder_types());
            }
            self.diags.append(&mut inf.diags);
        }
    }

    fn check_instance(&mut self, i: u32, inst: &ast::InstanceDecl) {
        let mut class_key = inst.class.name.name.clone();
        if let Some(m) = &inst.class.module {
            if !self.env.module_aliases.contains_key(&m.name) {
                self.diags.push(Diagnostic::new(
                    Code::T2004,
                    format!("unknown module alias `{}`", m.name),
                    self.file,
                    m.span,
                ));
                return;
            }
            class_key = Name::new(format!("{}.{}", m.name, inst.class.name.name));
        }
        let Some(class) = self.env.classes.get(&class_key).cloned() else {
            let class_name = &class_key;
            let mut d = Diagnostic::new(
                Code::T2004,
                format!("unknown class `{class_name}`"),
                self.file,
                inst.class.span,
            );
            if let Some((_, span)) = self.later.classes.get(class_name) {
                d = d.with_label(
                    self.file,
                    *span,
                    format!("`{class_name}` is declared later, here"),
                );
            }
            self.diags.push(d);
            return;
        };
        // Instances are keyed by the class's declared name, whatever it is imported as.
        let class_name = &class.name.clone();
        if class.builtin {
            self.diags.push(Diagnostic::new(
                Code::T2007,
                format!("the built-in class `{class_name}` is closed: it cannot get new instances"),
                self.file,
                inst.head_span,
            ));
            return;
        }
        let mut inf = Infer::new(&self.env, &self.later, self.file, i)
            .polling(self.interrupt)
            .checking_regexes(&self.regexes)
            .recording_binders(self.binders.is_some());
        inf.level = 1;
        let mut scope = VarScope::new(VarMode::Rigid);
        let head: Vec<TyId> = inst
            .args
            .iter()
            .map(|a| inf.convert_type(a, &mut scope))
            .collect();
        let mut valid = true;
        if head.len() != class.n_params as usize {
            inf.error(
                Code::T2005,
                format!(
                    "class `{class_name}` takes {} argument(s), but {} were given",
                    class.n_params,
                    head.len()
                ),
                inst.head_span,
            );
            valid = false;
        }
        let mut seen_vars: Vec<TyId> = Vec::new();
        for (h, a) in head.iter().zip(inst.args.iter()) {
            let hr = inf.arena.find(*h);
            let good = match inf.arena.node(hr).clone() {
                Node::Con { args, .. } => args.iter().all(|x| {
                    let x = inf.arena.find(*x);
                    let is_var = matches!(inf.arena.node(x), Node::Var { .. });
                    let distinct = !seen_vars.contains(&x);
                    seen_vars.push(x);
                    is_var && distinct
                }),
                Node::Error => true,
                _ => false,
            };
            if !good {
                let shown = inf.show(*h);
                inf.error(
                    Code::T2007,
                    format!("invalid instance head `{shown}`: expected a type constructor applied to distinct type variables"),
                    a.span,
                );
                valid = false;
            }
        }
        // Context variables must occur in the head.
        for c in &inst.context {
            for a in &c.args {
                let mut names = Vec::new();
                type_var_names(a, &mut names);
                for n in names {
                    if !scope.vars.iter().any(|(v, _)| *v == n.name) {
                        inf.error(
                            Code::T2007,
                            format!(
                                "the context variable `'{}` does not occur in the instance head",
                                n.name
                            ),
                            n.span,
                        );
                        valid = false;
                    }
                }
            }
        }
        let mut ctx_scope = VarScope {
            mode: VarMode::Fresh,
            vars: scope.vars.clone(),
        };
        let context = inf.convert_context(&inst.context, &mut ctx_scope);
        let head_vars: Vec<TyId> = scope.vars.iter().map(|(_, t)| *t).collect();
        let mut gens = head_vars.clone();
        let head_s: Vec<SType> = head
            .iter()
            .map(|h| inf.arena.export(*h, 0, &mut gens))
            .collect();
        let context_s: Vec<Pred> = context
            .iter()
            .map(|(c, args, _)| Pred {
                class: c.clone(),
                args: args
                    .iter()
                    .map(|a| inf.arena.export(*a, 0, &mut gens))
                    .collect(),
            })
            .collect();
        let info = Arc::new(InstanceInfo {
            class: class_name.clone(),
            iref: InstanceRef {
                module: self.file,
                decl: i,
            },
            n_vars: gens.len() as u32,
            head: head_s,
            context: context_s,
        });
        if valid {
            let key = info.head_key();
            let overlap = self
                .env
                .instances
                .get(class_name)
                .into_iter()
                .flatten()
                .any(|other| other.head_key() == key);
            if overlap {
                inf.error(
                    Code::T2009,
                    format!(
                        "overlapping instances of `{class_name}` for `{}`",
                        key.iter()
                            .map(|it| super::env::display_name(it))
                            .collect::<Vec<_>>()
                            .join(" ")
                    ),
                    inst.head_span,
                );
                valid = false;
            } else {
                inf.extra_instances.push(info.clone());
            }
        }
        // The context, as givens for the methods and the superclasses.
        let mut n_user = 0u32;
        for (c, args, _) in &context {
            let dict = if inf.is_user_class(c) {
                n_user += 1;
                Some(DictExpr::Context { index: n_user - 1 })
            } else {
                None
            };
            inf.push_given(c.clone(), args.clone(), dict);
        }
        if valid {
            let mut supers = Vec::new();
            for sup in &class.supers {
                let args: Vec<TyId> = sup
                    .args
                    .iter()
                    .map(|a| inf.arena.instantiate(a, &head))
                    .collect();
                let before = inf.diags.len();
                let solved = inf.solve_now(sup.class.clone(), args, inst.head_span);
                for d in inf.diags.iter_mut().skip(before) {
                    d.notes
                        .push(format!("`{}` is a superclass of `{class_name}`", sup.class));
                }
                match solved {
                    Some(d) => supers.push(d),
                    None => supers.push(DictExpr::Context { index: u32::MAX }),
                }
            }
            self.elab.instance_supers.insert(i, supers);
        }
        // Methods.
        for def in &inst.methods {
            let Some(m) = class.methods.iter().find(|m| m.name == def.name.name) else {
                inf.error(
                    Code::T2007,
                    format!(
                        "`{}` is not a method of the class `{class_name}`",
                        def.name.name
                    ),
                    def.name.span,
                );
                continue;
            };
            let mut gens: Vec<TyId> = head.clone();
            for g in head.len() as u32..m.scheme.n_gen {
                gens.push(inf.arena.rigid(1, Name::new(format!("t{g}"))));
            }
            let mark = inf.n_givens();
            push_extra_givens(&mut inf, &m.scheme, &gens, def.value.id);
            let expected = inf.arena.instantiate(&m.scheme.ty, &gens);
            let found = inf.infer_expr(&def.value);
            inf.expect(
                expected,
                found,
                def.value.span,
                Some((def.name.span, "the method's signature is expected")),
            );
            let level = inf.level;
            inf.level = 0;
            inf.settle();
            inf.level = level;
            inf.truncate_givens(mark);
        }
        for m in &class.methods {
            if !m.has_default && !inst.methods.iter().any(|d| d.name.name == m.name) {
                inf.error(
                    Code::T2007,
                    format!("the instance lacks the method `{}`", m.name),
                    inst.head_span,
                );
            }
        }
        inf.level = 0;
        inf.finish(&mut self.elab);
        if let Some(binders) = &mut self.binders {
            binders.append(&mut inf.binder_types());
        }
        let mut diags = std::mem::take(&mut inf.diags);
        drop(inf);
        self.diags.append(&mut diags);
        if valid {
            self.env
                .instances
                .entry(class_name.clone())
                .or_default()
                .push(info);
        }
    }
}

/// The givens for a method's own constraints (after the class constraint): dictionary
/// parameters of the definition.
fn push_extra_givens(inf: &mut Infer, scheme: &Scheme, gens: &[TyId], binder: ast::ExprId) {
    let mut n_user = 0u32;
    for pred in scheme.constraints.iter().skip(1) {
        let args: Vec<TyId> = pred
            .args
            .iter()
            .map(|a| inf.arena.instantiate(a, gens))
            .collect();
        let dict = if inf.is_user_class(&pred.class) {
            n_user += 1;
            Some(DictExpr::Param {
                binder,
                index: n_user - 1,
            })
        } else {
            None
        };
        inf.push_given(pred.class.clone(), args, dict);
    }
    if n_user > 0 {
        inf.params.insert(binder, n_user);
    }
}

fn contains_error(ty: &SType) -> bool {
    match ty {
        SType::Error => true,
        SType::Con(_, args) => args.iter().any(contains_error),
        SType::Fun(a, r) => contains_error(a) || contains_error(r),
        SType::Record(fields, tail) => {
            fields.iter().any(|(_, t)| contains_error(t))
                || tail.as_deref().is_some_and(contains_error)
        }
        _ => false,
    }
}

fn mentions_gen(ty: &SType, g: u32) -> bool {
    match ty {
        SType::Gen(i) => *i == g,
        SType::Con(_, args) => args.iter().any(|a| mentions_gen(a, g)),
        SType::Fun(a, r) => mentions_gen(a, g) || mentions_gen(r, g),
        SType::Record(fields, tail) => {
            fields.iter().any(|(_, t)| mentions_gen(t, g))
                || tail.as_ref().is_some_and(|t| mentions_gen(t, g))
        }
        _ => false,
    }
}

fn type_var_names<'t>(ty: &'t ast::Type, out: &mut Vec<&'t Ident>) {
    match &ty.kind {
        ast::TypeKind::Var(i) => out.push(i),
        ast::TypeKind::Con(_, args) => args.iter().for_each(|a| type_var_names(a, out)),
        ast::TypeKind::Fun(a, r) => {
            type_var_names(a, out);
            type_var_names(r, out);
        }
        ast::TypeKind::List(a) => type_var_names(a, out),
        ast::TypeKind::Record { fields, rest } => {
            fields.iter().for_each(|f| type_var_names(&f.ty, out));
            out.extend(rest.iter());
        }
        ast::TypeKind::Refined { base, .. } => type_var_names(base, out),
        ast::TypeKind::Qualified { ty, .. } => type_var_names(ty, out),
        ast::TypeKind::Error => {}
    }
}

#[cfg(test)]
mod budget_tests {
    use super::*;

    /// A chain of bindings whose types nest one level deeper each time: past the module's
    /// budget of scheme nodes, one T2016 at the binding that crosses it, and error types
    /// from there on (no further diagnostics).
    #[test]
    fn quadratic_type_growth_stops_at_the_module_budget() {
        let mut source = String::from("let x0 = 1;\n");
        for i in 1..200 {
            source.push_str(&format!("let x{i} = [x{}];\n", i - 1));
        }
        let module = crate::syntax::parse(FileId(0), &source).module;
        let mut checker = ModuleChecker::new(FileId(0), &module, Env::prelude());
        checker.scheme_budget = 1_000;
        for (i, decl) in module.decls.iter().enumerate() {
            checker.check_decl(i as u32, decl);
        }
        let (checked, _) = checker.finish(&module);
        let codes: Vec<Code> = checked.diagnostics.iter().map(|d| d.code).collect();
        assert_eq!(codes, vec![Code::T2016]);
        // 1 + 2 + ... + 44 = 990 nodes fit; x44 (45 nodes) crosses.
        let at = checked
            .diagnostics
            .first()
            .map(|d| d.labels.first().map(|l| l.span.span.start));
        let x44 = source.find("let x44").map(|p| p as u32 + 4);
        assert_eq!(at, Some(x44));
    }
}
