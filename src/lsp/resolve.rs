//! Name resolution for the editor: which declaration each name of a file stands for.
//!
//! The checker resolves names too, but keeps no table of uses; an editor needs one (go to
//! definition, references, hover), so this module walks a parsed file once with the scoping
//! rules of LANGUAGE.md section 4.6: local binders (lambda parameters, `let ... in`, match
//! patterns) innermost, then the file's top-level declarations, then what its imports bring
//! (`{ items }`, everything of an `import P;`, `alias.member`), then the prelude. Imports are
//! resolved by the loader's own [`Resolver`](ligature::loader::resolve::Resolver), so a
//! definition is found where the checker would find it, in the workspace, a register or
//! `std`. Record fields are not resolved (that needs types).
//!
//! The walk records an [`Occurrence`] for every resolved name, declarations included, in
//! source order. A query about one position walks only the declaration that contains it.

use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};

use ligature::source::Span;
use ligature::syntax::ast::{self, DeclKind, ExprKind, Name, PatternKind, TypeKind};

use super::position::LineIndex;
use super::workspace::Snapshot;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DefKind {
    /// A top-level `let` or a class method.
    Value,
    /// A lambda parameter, a `let ... in` or a pattern variable.
    Local,
    Type,
    Ctor,
    Class,
    /// An import alias, or a whole module (span `0..0` of its file).
    Module,
    /// A built-in function of the prelude (no source).
    Builtin,
    /// A field of a record literal that a top-level `let` is bound to (`port` in
    /// `cfg.port` after `let cfg = { port = 8080 };`): its span is the field's name there.
    Field,
}

/// The most fields between a name and the field [`Walk::record_literal`] looks for.
const MAX_FIELD_CHAIN: usize = 64;

/// A declaration: the file it is in (a module key) and the span of its name.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Def {
    pub file: String,
    pub span: Span,
    pub name: Name,
    pub kind: DefKind,
}

/// A name in the file and what it stands for.
#[derive(Clone, Debug)]
pub struct Occurrence {
    pub span: Span,
    pub def: Def,
}

/// What a file declares at its top level, by namespace (ordered: completion lists them).
#[derive(Default, Debug)]
pub struct Tops {
    pub values: BTreeMap<Name, (Span, DefKind)>,
    pub ctors: BTreeMap<Name, Span>,
    pub types: BTreeMap<Name, (Span, DefKind)>,
}

/// A parsed file and its top-level names.
pub struct ModuleIndex {
    pub text: Arc<str>,
    pub lines: LineIndex,
    pub module: Arc<ast::Module>,
    pub tops: Tops,
    /// The index in `module.decls` of each top-level `let`, by name.
    lets: BTreeMap<Name, usize>,
}

impl ModuleIndex {
    /// Parses `text`, the module `key`, reusing the unchanged declarations of its previous
    /// parse kept in `chunks`.
    pub fn new(key: &str, text: Arc<str>, chunks: &ligature::engine::Caches) -> ModuleIndex {
        let (module, _) = ligature::syntax::chunks::parse_module_reusing(
            key,
            ligature::source::FileId(0),
            &text,
            chunks,
        );
        let mut tops = Tops::default();
        let mut lets = BTreeMap::new();
        for (idx, decl) in module.decls.iter().enumerate() {
            match &decl.kind {
                DeclKind::Let(it) => {
                    tops.values
                        .insert(it.name.name.clone(), (it.name.span, DefKind::Value));
                    lets.insert(it.name.name.clone(), idx);
                }
                DeclKind::Type(it) => {
                    tops.types
                        .insert(it.name.name.clone(), (it.name.span, DefKind::Type));
                    let variants: Vec<&ast::Variant> = match &it.rhs {
                        ast::TypeRhs::Union(variants) => variants.iter().collect(),
                        ast::TypeRhs::Lone { variant, .. } => vec![variant],
                        ast::TypeRhs::Alias(_) => Vec::new(),
                    };
                    for variant in variants {
                        tops.ctors
                            .insert(variant.name.name.clone(), variant.name.span);
                    }
                }
                DeclKind::Class(it) => {
                    tops.types
                        .insert(it.name.name.clone(), (it.name.span, DefKind::Class));
                    for method in &it.methods {
                        tops.values
                            .insert(method.name.name.clone(), (method.name.span, DefKind::Value));
                    }
                }
                DeclKind::Instance(_) | DeclKind::Export(_) => {}
            }
        }
        ModuleIndex {
            lines: LineIndex::new(&text),
            text,
            module,
            tops,
            lets,
        }
    }

    /// The value of the top-level `let` that `def` declares (a [`DefKind::Value`] of this
    /// file).
    fn let_value(&self, def: &Def) -> Option<&ast::Expr> {
        let idx = *self.lets.get(&def.name)?;
        match &self.module.decls.get(idx)?.kind {
            DeclKind::Let(it) if it.name.span == def.span => Some(&it.value),
            _ => None,
        }
    }
}

/// An import of the walked file, resolved.
struct ImportInfo<'a> {
    import: &'a ast::Import,
    /// The imported module's key and index, when it resolves and parses.
    target: Option<(String, Arc<ModuleIndex>)>,
}

pub struct Walk<'a> {
    file: &'a str,
    index: &'a ModuleIndex,
    imports: Vec<ImportInfo<'a>>,
    locals: Vec<(Name, Span)>,
    /// When set, only subtrees containing this offset are walked.
    only: Option<u32>,
    /// For [`Walk::scope_at`]: the offset, and the locals of the innermost scope around it.
    probe: Option<u32>,
    best: Vec<(Name, Span)>,
    pub out: Vec<Occurrence>,
}

impl<'a> Walk<'a> {
    pub fn new(snap: &Snapshot, file: &'a str, index: &'a ModuleIndex) -> Walk<'a> {
        let imports = index
            .module
            .imports
            .iter()
            .map(|import| ImportInfo {
                import,
                target: snap
                    .resolve_import(file, &import.path)
                    .and_then(|key| snap.index(&key).map(|it| (key, it))),
            })
            .collect();
        Walk {
            file,
            index,
            imports,
            locals: Vec::new(),
            only: None,
            probe: None,
            best: Vec::new(),
            out: Vec::new(),
        }
    }

    /// Every occurrence in the file.
    pub fn all(mut self) -> Vec<Occurrence> {
        self.walk_module();
        self.out
    }

    /// The occurrence at `offset`, if a resolved name is there.
    pub fn at(mut self, offset: u32) -> Option<Occurrence> {
        self.only = Some(offset);
        self.walk_module();
        self.out
            .into_iter()
            .filter(|it| it.span.start <= offset && offset <= it.span.end)
            .min_by_key(|it| it.span.len())
    }

    /// The names visible at `offset` (completion): locals innermost first, then the file's
    /// top-level values and constructors, then imported ones.
    pub fn scope_at(mut self, offset: u32) -> Vec<(Name, DefKind)> {
        self.only = Some(offset);
        let mut acc: Vec<(Name, DefKind)> = Vec::new();
        // Walk with a probe: the deepest scope containing the offset.
        self.probe = Some(offset);
        self.walk_module();
        for (name, _) in self.best.iter().rev() {
            acc.push((name.clone(), DefKind::Local));
        }
        for (name, (_, kind)) in &self.index.tops.values {
            acc.push((name.clone(), *kind));
        }
        for name in self.index.tops.ctors.keys() {
            acc.push((name.clone(), DefKind::Ctor));
        }
        for info in &self.imports {
            let Some((_, target)) = &info.target else {
                continue;
            };
            match &info.import.kind {
                ast::ImportKind::All => {
                    for (name, (_, kind)) in &target.tops.values {
                        acc.push((name.clone(), *kind));
                    }
                    for name in target.tops.ctors.keys() {
                        acc.push((name.clone(), DefKind::Ctor));
                    }
                }
                ast::ImportKind::Items(items) => {
                    for item in items {
                        let kind = if item.name.name.starts_with(char::is_uppercase) {
                            DefKind::Ctor
                        } else {
                            DefKind::Value
                        };
                        acc.push((item.local().name.clone(), kind));
                    }
                }
                ast::ImportKind::Alias(alias) => acc.push((alias.name.clone(), DefKind::Module)),
            }
        }
        acc
    }

    fn skip(&self, span: Span) -> bool {
        self.only
            .is_some_and(|offset| offset < span.start || offset > span.end)
    }

    fn here(&self, span: Span, name: &Name, kind: DefKind) -> Def {
        Def {
            file: self.file.to_string(),
            span,
            name: name.clone(),
            kind,
        }
    }

    fn push(&mut self, span: Span, def: Def) {
        self.out.push(Occurrence { span, def });
    }

    fn walk_module(&mut self) {
        let index = self.index;
        for (idx, import) in index.module.imports.iter().enumerate() {
            if self.skip(import.span) {
                continue;
            }
            let target = self.imports[idx].target.clone();
            if let Some((key, target)) = target {
                self.push(
                    import.path.span(),
                    Def {
                        file: key.clone(),
                        span: Span::default(),
                        name: Name::new(key.rsplit('/').next().unwrap_or_default()),
                        kind: DefKind::Module,
                    },
                );
                match &import.kind {
                    ast::ImportKind::Items(items) => {
                        for item in items {
                            if let Some(def) = member(&key, &target, &item.name.name) {
                                self.push(item.name.span, def.clone());
                                if let Some(alias) = &item.alias {
                                    self.push(alias.span, def);
                                }
                            }
                        }
                    }
                    ast::ImportKind::Alias(alias) => {
                        let def = self.here(alias.span, &alias.name, DefKind::Module);
                        self.push(alias.span, def);
                    }
                    ast::ImportKind::All => {}
                }
            }
        }
        for decl in &index.module.decls {
            if self.skip(decl.span) {
                continue;
            }
            self.walk_decl(decl);
        }
        if let Some(body) = &index.module.body {
            self.walk_expr(body);
        }
    }

    fn walk_decl(&mut self, decl: &ast::Decl) {
        match &decl.kind {
            DeclKind::Let(it) => {
                let def = self.here(it.name.span, &it.name.name, DefKind::Value);
                self.push(it.name.span, def);
                if let Some(ann) = &it.ann {
                    self.walk_type(ann);
                }
                self.walk_expr(&it.value);
            }
            DeclKind::Type(it) => {
                let def = self.here(it.name.span, &it.name.name, DefKind::Type);
                self.push(it.name.span, def);
                match &it.rhs {
                    ast::TypeRhs::Union(variants) => {
                        for variant in variants {
                            self.walk_variant(variant);
                        }
                    }
                    ast::TypeRhs::Alias(ty) => self.walk_type(ty),
                    ast::TypeRhs::Lone { variant, as_type } => {
                        // An alias when the name is a type in scope, else a constructor.
                        if self.lookup_type(None, &variant.name.name).is_some() {
                            self.walk_type(as_type);
                        } else {
                            self.walk_variant(variant);
                        }
                    }
                }
            }
            DeclKind::Class(it) => {
                let def = self.here(it.name.span, &it.name.name, DefKind::Class);
                self.push(it.name.span, def);
                for constraint in &it.superclasses {
                    self.walk_constraint(constraint);
                }
                for method in &it.methods {
                    let def = self.here(method.name.span, &method.name.name, DefKind::Value);
                    self.push(method.name.span, def);
                    self.walk_type(&method.ty);
                }
                for method in &it.defaults {
                    self.walk_method_def(method);
                }
            }
            DeclKind::Instance(it) => {
                for constraint in &it.context {
                    self.walk_constraint(constraint);
                }
                self.walk_qname(&it.class, false);
                for ty in &it.args {
                    self.walk_type(ty);
                }
                for method in &it.methods {
                    self.walk_method_def(method);
                }
            }
            DeclKind::Export(items) => {
                for item in items {
                    let name = &item.name.name;
                    let def = if name.starts_with(char::is_uppercase) {
                        self.lookup_type(None, name)
                            .or_else(|| self.lookup_ctor(None, name))
                    } else {
                        self.lookup_value(name)
                    };
                    if let Some(def) = def {
                        self.push(item.name.span, def);
                    }
                }
            }
        }
    }

    fn walk_method_def(&mut self, method: &ast::MethodDef) {
        if let Some(def) = self.lookup_value(&method.name.name) {
            self.push(method.name.span, def);
        }
        self.walk_expr(&method.value);
    }

    fn walk_variant(&mut self, variant: &ast::Variant) {
        let def = self.here(variant.name.span, &variant.name.name, DefKind::Ctor);
        self.push(variant.name.span, def);
        if let Some(payload) = &variant.payload {
            self.walk_type(payload);
        }
    }

    fn walk_constraint(&mut self, constraint: &ast::Constraint) {
        self.walk_qname(&constraint.class, false);
        for ty in &constraint.args {
            self.walk_type(ty);
        }
    }

    /// A possibly qualified upper name: a type or class (`ctor` false) or a constructor.
    fn walk_qname(&mut self, qname: &ast::QName, ctor: bool) {
        let module = qname.module.as_ref();
        if let Some(alias) = module {
            if let Some(def) = self.lookup_alias(&alias.name) {
                self.push(alias.span, def);
            }
        }
        let module = module.map(|it| &it.name);
        let def = if ctor {
            self.lookup_ctor(module, &qname.name.name)
        } else {
            self.lookup_type(module, &qname.name.name)
        };
        if let Some(def) = def {
            self.push(qname.name.span, def);
        }
    }

    fn walk_type(&mut self, ty: &ast::Type) {
        if self.skip(ty.span) {
            return;
        }
        match &ty.kind {
            TypeKind::Con(qname, args) => {
                self.walk_qname(qname, false);
                for arg in args {
                    self.walk_type(arg);
                }
            }
            TypeKind::Var(_) | TypeKind::Error => {}
            TypeKind::Fun(from, to) => {
                self.walk_type(from);
                self.walk_type(to);
            }
            TypeKind::List(elem) => self.walk_type(elem),
            TypeKind::Record { fields, .. } => {
                for field in fields {
                    self.walk_type(&field.ty);
                }
            }
            TypeKind::Refined { base, items, pred } => {
                self.walk_type(base);
                // Item arguments and the predicate see the refined value as `x`
                // (LANGUAGE.md 5.6), bound where the base type is written.
                self.locals.push((Name::new("x"), base.span));
                for item in items {
                    match &item.kind {
                        ast::ConstraintItemKind::Ge(expr) | ast::ConstraintItemKind::Le(expr) => {
                            self.walk_expr(expr)
                        }
                        ast::ConstraintItemKind::Call {
                            module, func, args, ..
                        } => {
                            let def = match module {
                                Some(alias) => self.lookup_member(&alias.name, &func.name),
                                None => self.lookup_value(&func.name),
                            };
                            if let Some(def) = def {
                                self.push(func.span, def);
                            }
                            for arg in args {
                                self.walk_expr(arg);
                            }
                        }
                        ast::ConstraintItemKind::Regexp(_)
                        | ast::ConstraintItemKind::Pattern(_) => {}
                    }
                }
                if let Some(pred) = pred {
                    self.walk_expr(pred);
                }
                self.locals.pop();
            }
            TypeKind::Qualified { context, ty } => {
                for constraint in context {
                    self.walk_constraint(constraint);
                }
                self.walk_type(ty);
            }
        }
    }

    fn bind(&mut self, ident: &ast::Ident) {
        let def = self.here(ident.span, &ident.name, DefKind::Local);
        self.push(ident.span, def);
        self.locals.push((ident.name.clone(), ident.span));
    }

    fn walk_pattern(&mut self, pat: &ast::Pattern) {
        match &pat.kind {
            PatternKind::Var(ident) => self.bind(ident),
            PatternKind::Ctor {
                module,
                name,
                payload,
            } => {
                if let Some(alias) = module {
                    if let Some(def) = self.lookup_alias(&alias.name) {
                        self.push(alias.span, def);
                    }
                }
                if let Some(def) = self.lookup_ctor(module.as_ref().map(|it| &it.name), &name.name)
                {
                    self.push(name.span, def);
                }
                if let Some(payload) = payload {
                    self.walk_pattern(payload);
                }
            }
            PatternKind::Record { fields, .. } => {
                for field in fields {
                    self.walk_pattern(&field.pat);
                }
            }
            PatternKind::List(items) => {
                for item in items {
                    self.walk_pattern(item);
                }
            }
            PatternKind::Wildcard | PatternKind::Lit(_) | PatternKind::Error => {}
        }
    }

    fn walk_expr(&mut self, expr: &ast::Expr) {
        if self.skip(expr.span) {
            return;
        }
        self.note_scope(expr.span);
        match &expr.kind {
            ExprKind::Var(name) => {
                if let Some(def) = self.lookup_value(name) {
                    self.push(expr.span, def);
                }
            }
            ExprKind::Ctor(name) => {
                if let Some(def) = self.lookup_ctor(None, name) {
                    self.push(expr.span, def);
                }
            }
            ExprKind::Lambda { params, body } => {
                let depth = self.locals.len();
                for param in params {
                    if let Some(ann) = &param.ann {
                        self.walk_type(ann);
                    }
                    if let Some(name) = &param.name {
                        self.bind(name);
                    }
                }
                self.walk_expr(body);
                self.locals.truncate(depth);
            }
            ExprKind::App { func, args } => {
                self.walk_expr(func);
                for arg in args {
                    self.walk_expr(arg);
                }
            }
            ExprKind::Let {
                rec,
                name,
                ann,
                value,
                body,
            } => {
                let depth = self.locals.len();
                if let Some(ann) = ann {
                    self.walk_type(ann);
                }
                if *rec {
                    self.bind(name);
                    self.walk_expr(value);
                } else {
                    self.walk_expr(value);
                    self.bind(name);
                }
                self.walk_expr(body);
                self.locals.truncate(depth);
            }
            ExprKind::If {
                cond,
                then_branch,
                else_branch,
            } => {
                self.walk_expr(cond);
                self.walk_expr(then_branch);
                self.walk_expr(else_branch);
            }
            ExprKind::Match { scrutinee, cases } => {
                self.walk_expr(scrutinee);
                for case in cases {
                    if self.skip(case.span) {
                        continue;
                    }
                    let depth = self.locals.len();
                    self.walk_pattern(&case.pat);
                    self.note_scope(case.span);
                    if let Some(guard) = &case.guard {
                        self.walk_expr(guard);
                    }
                    self.walk_expr(&case.body);
                    self.locals.truncate(depth);
                }
            }
            ExprKind::Binary { lhs, rhs, .. } => {
                self.walk_expr(lhs);
                self.walk_expr(rhs);
            }
            ExprKind::Unary { operand, .. } => self.walk_expr(operand),
            ExprKind::Field {
                expr: object,
                field,
            } => {
                if let Some(def) = self.field_def(object, field) {
                    self.push(field.span, def);
                }
                let qualified = expr.as_qualified().filter(|(alias, _, _)| {
                    !self.locals.iter().any(|(name, _)| name == *alias)
                        && self.lookup_alias(alias).is_some()
                });
                match qualified {
                    Some((alias, alias_span, member)) => {
                        if let Some(def) = self.lookup_alias(alias) {
                            self.push(alias_span, def);
                        }
                        if let Some(def) = self.lookup_member(alias, &member.name) {
                            self.push(member.span, def);
                        }
                    }
                    None => self.walk_expr(object),
                }
            }
            ExprKind::Record { base, fields } => {
                if let Some(base) = base {
                    self.walk_expr(base);
                }
                for field in fields {
                    self.walk_expr(&field.value);
                }
            }
            ExprKind::List(items) => {
                for item in items {
                    self.walk_expr(item);
                }
            }
            ExprKind::Ann { expr, ty } => {
                self.walk_expr(expr);
                self.walk_type(ty);
            }
            ExprKind::Int(_)
            | ExprKind::Float(_)
            | ExprKind::Str(_)
            | ExprKind::Bool(_)
            | ExprKind::Unit
            | ExprKind::Error => {}
        }
    }

    /// Remembers the locals in scope at the probe when `span` contains it.
    fn note_scope(&mut self, span: Span) {
        if let Some(offset) = self.probe {
            if span.start <= offset && offset <= span.end {
                self.best = self.locals.clone();
            }
        }
    }

    /// The field `field` of `object` when `object` is statically a record literal
    /// ([`Walk::record_literal`]) that has it.
    fn field_def(&self, object: &ast::Expr, field: &ast::Ident) -> Option<Def> {
        let (key, record) = self.record_literal(object)?;
        let ExprKind::Record { fields, .. } = &record.kind else {
            return None;
        };
        let found = fields.iter().find(|it| it.name.name == field.name)?;
        Some(def_in(
            &key,
            found.name.span,
            &found.name.name,
            DefKind::Field,
        ))
    }

    /// The record literal `expr` stands for, with the key of its file, when that is known
    /// from the text alone: a top-level `let` of this file or an imported one (`cfg`,
    /// `m.cfg`) bound directly to a record literal, or a field of such a literal whose
    /// value is one (`cfg.db`), up to [`MAX_FIELD_CHAIN`] fields deep (a loop, not a
    /// recursion: chains of fields may nest 10,000 deep).
    fn record_literal<'s>(&'s self, expr: &'s ast::Expr) -> Option<(String, &'s ast::Expr)> {
        // The fields from the base outwards, once the base is found.
        let mut path: Vec<&Name> = Vec::new();
        let mut base = expr;
        let def = loop {
            let ExprKind::Field { expr: inner, field } = &base.kind else {
                let ExprKind::Var(name) = &base.kind else {
                    return None;
                };
                break self.lookup_value(name)?;
            };
            let qualified = base.as_qualified().filter(|(alias, _, _)| {
                !self.locals.iter().any(|(name, _)| name == *alias)
                    && self.lookup_alias(alias).is_some()
            });
            if let Some((alias, _, member)) = qualified {
                break self.lookup_member(alias, &member.name)?;
            }
            if path.len() == MAX_FIELD_CHAIN {
                return None;
            }
            path.push(&field.name);
            base = inner;
        };
        if def.kind != DefKind::Value {
            return None;
        }
        let index: &ModuleIndex = if def.file == self.file {
            self.index
        } else {
            self.imports
                .iter()
                .filter_map(|info| info.target.as_ref())
                .find(|(key, _)| *key == def.file)
                .map(|(_, target)| &**target)?
        };
        let mut record = index.let_value(&def)?;
        for name in path.iter().rev() {
            let ExprKind::Record { fields, .. } = &record.kind else {
                return None;
            };
            record = &fields.iter().find(|it| it.name.name == **name)?.value;
        }
        matches!(record.kind, ExprKind::Record { .. }).then_some((def.file, record))
    }

    fn lookup_value(&self, name: &Name) -> Option<Def> {
        if let Some((_, span)) = self.locals.iter().rev().find(|(it, _)| it == name) {
            return Some(self.here(*span, name, DefKind::Local));
        }
        if let Some((span, kind)) = self.index.tops.values.get(name) {
            return Some(self.here(*span, name, *kind));
        }
        self.imported(name, |key, target, name| {
            target
                .tops
                .values
                .get(name)
                .map(|(span, kind)| def_in(key, *span, name, *kind))
        })
        .or_else(|| {
            builtins().contains_key(name).then(|| Def {
                file: String::new(),
                span: Span::default(),
                name: name.clone(),
                kind: DefKind::Builtin,
            })
        })
    }

    fn lookup_ctor(&self, module: Option<&Name>, name: &Name) -> Option<Def> {
        if let Some(alias) = module {
            return self.in_alias(alias, |key, target| {
                target
                    .tops
                    .ctors
                    .get(name)
                    .map(|span| def_in(key, *span, name, DefKind::Ctor))
            });
        }
        if let Some(span) = self.index.tops.ctors.get(name) {
            return Some(self.here(*span, name, DefKind::Ctor));
        }
        self.imported(name, |key, target, name| {
            target
                .tops
                .ctors
                .get(name)
                .map(|span| def_in(key, *span, name, DefKind::Ctor))
        })
    }

    fn lookup_type(&self, module: Option<&Name>, name: &Name) -> Option<Def> {
        if let Some(alias) = module {
            return self.in_alias(alias, |key, target| {
                target
                    .tops
                    .types
                    .get(name)
                    .map(|(span, kind)| def_in(key, *span, name, *kind))
            });
        }
        if let Some((span, kind)) = self.index.tops.types.get(name) {
            return Some(self.here(*span, name, *kind));
        }
        self.imported(name, |key, target, name| {
            target
                .tops
                .types
                .get(name)
                .map(|(span, kind)| def_in(key, *span, name, *kind))
        })
    }

    fn lookup_alias(&self, alias: &Name) -> Option<Def> {
        self.imports
            .iter()
            .find_map(|info| match &info.import.kind {
                ast::ImportKind::Alias(it) if it.name == *alias => {
                    Some(self.here(it.span, &it.name, DefKind::Module))
                }
                _ => None,
            })
    }

    fn lookup_member(&self, alias: &Name, name: &Name) -> Option<Def> {
        self.in_alias(alias, |key, target| member(key, target, name))
    }

    fn in_alias(
        &self,
        alias: &Name,
        find: impl Fn(&str, &ModuleIndex) -> Option<Def>,
    ) -> Option<Def> {
        self.imports
            .iter()
            .find_map(|info| match (&info.import.kind, &info.target) {
                (ast::ImportKind::Alias(it), Some((key, target))) if it.name == *alias => {
                    find(key, target)
                }
                _ => None,
            })
    }

    /// `name` brought by an import: an item (possibly renamed) or everything of a module.
    fn imported(
        &self,
        name: &Name,
        find: impl Fn(&str, &ModuleIndex, &Name) -> Option<Def>,
    ) -> Option<Def> {
        for info in &self.imports {
            let Some((key, target)) = &info.target else {
                continue;
            };
            match &info.import.kind {
                ast::ImportKind::Items(items) => {
                    if let Some(item) = items.iter().find(|it| it.local().name == *name) {
                        if let Some(def) = find(key, target, &item.name.name) {
                            return Some(def);
                        }
                    }
                }
                ast::ImportKind::All => {
                    if let Some(def) = find(key, target, name) {
                        return Some(def);
                    }
                }
                ast::ImportKind::Alias(_) => {}
            }
        }
        None
    }
}

/// The prelude's built-in functions and their printed types (LANGUAGE.md 10.2).
pub fn builtins() -> &'static BTreeMap<Name, String> {
    static BUILTINS: OnceLock<BTreeMap<Name, String>> = OnceLock::new();
    BUILTINS.get_or_init(|| {
        ligature::types::env::Env::prelude()
            .values
            .iter()
            .map(|(name, info)| {
                (
                    name.clone(),
                    ligature::types::ty::print_scheme(&info.scheme),
                )
            })
            .collect()
    })
}

fn def_in(file: &str, span: Span, name: &Name, kind: DefKind) -> Def {
    Def {
        file: file.to_string(),
        span,
        name: name.clone(),
        kind,
    }
}

/// A member of an imported module, in any namespace.
fn member(key: &str, target: &ModuleIndex, name: &Name) -> Option<Def> {
    if let Some((span, kind)) = target.tops.values.get(name) {
        return Some(def_in(key, *span, name, *kind));
    }
    if let Some((span, kind)) = target.tops.types.get(name) {
        return Some(def_in(key, *span, name, *kind));
    }
    target
        .tops
        .ctors
        .get(name)
        .map(|span| def_in(key, *span, name, DefKind::Ctor))
}
