//! Module interfaces and the environments that imports build (LANGUAGE.md 9.2, 9.7, 9.9).
//!
//! After a module is checked, [`interface`] takes from its final [`Env`] the names it
//! exports (every declared value, type and class when it has no export declaration, else
//! exactly the listed ones, re-exports included), each with its *identity* (the defining
//! module and declared name), plus every instance visible in it. Before an importer is
//! checked, [`import_env`] seeds its environment from the prelude and its imports'
//! interfaces: unqualified names for `import P;` and item lists (M4004 for a name that is
//! not exported), qualified keys `m.name` for `import P as m;`. A name brought in that
//! equals a top-level declaration or another import's name with a different identity is
//! M4005. Unions, constructors and classes are also stored under a hidden key (`#Name`) so
//! that types and predicates, which carry declared names, can find them.

use std::collections::HashMap;
use std::sync::Arc;

use super::decl::prescan;
use super::env::{
    hidden_key, ClassInfo, CtorInfo, DefId, Env, InstanceInfo, Namespace, Origin, TypeDef,
    ValueInfo,
};
use super::ty::{SType, Scheme};
use crate::diagnostic::{Code, Diagnostic};
use crate::source::{FileId, Span};
use crate::syntax::ast::{self, DeclKind, Name};

/// What a module offers its importers.
#[derive(Clone, Debug, Default)]
pub struct Interface {
    pub module: Option<FileId>,
    /// The module's key (path), for messages.
    pub key: String,
    /// Exported values (class methods included): exported name, information (origins are
    /// absolute) and the name the value was declared with.
    pub values: Vec<(Name, ValueInfo, Name)>,
    pub types: Vec<(Name, Arc<TypeDef>, DefId)>,
    /// Constructors of exported unions, under their own names.
    pub ctors: Vec<(Name, Arc<CtorInfo>, DefId)>,
    pub classes: Vec<(Name, Arc<ClassInfo>, DefId)>,
    /// Every instance visible in the module (declared or imported).
    pub instances: Vec<Arc<InstanceInfo>>,
}

fn is_upper(name: &str) -> bool {
    name.starts_with(|c: char| c.is_ascii_uppercase())
}

/// The exported names with the names they are exported as, or `None` when the module has
/// no export declaration.
pub fn export_list(module: &ast::Module) -> Option<Vec<(Name, Name)>> {
    let mut any = false;
    let mut names = Vec::new();
    for decl in &module.decls {
        match &decl.kind {
            DeclKind::Export(items) => {
                any = true;
                for item in items {
                    names.push((item.name.name.clone(), item.local().name.clone()));
                }
            }
            DeclKind::Let(l) if decl.exported => {
                any = true;
                names.push((l.name.name.clone(), l.name.name.clone()));
            }
            DeclKind::Type(t) if decl.exported => {
                any = true;
                names.push((t.name.name.clone(), t.name.name.clone()));
            }
            DeclKind::Class(c) if decl.exported => {
                any = true;
                names.push((c.name.name.clone(), c.name.name.clone()));
            }
            _ => {}
        }
    }
    any.then_some(names)
}

/// The interface of a checked module from its final environment.
pub fn interface(file: FileId, key: &str, module: &ast::Module, env: &Env) -> Interface {
    let names = export_list(module).unwrap_or_else(|| {
        let mut names = Vec::new();
        for decl in &module.decls {
            let name = match &decl.kind {
                DeclKind::Let(l) => &l.name.name,
                DeclKind::Type(t) => &t.name.name,
                DeclKind::Class(c) => &c.name.name,
                DeclKind::Instance(_) | DeclKind::Export(_) => continue,
            };
            names.push((name.clone(), name.clone()));
        }
        names
    });
    let def_of = |ns: Namespace, name: &Name| -> DefId {
        if let Some(def) = env.origins.get(&(ns, name.clone())) {
            return def.clone();
        }
        let prelude = match ns {
            Namespace::Type => Env::is_prelude_type(name),
            Namespace::Ctor => Env::is_prelude_ctor(name),
            Namespace::Class => Env::is_builtin_class(name),
            Namespace::Value => false,
        };
        DefId {
            module: (!prelude).then_some(file),
            name: name.clone(),
        }
    };
    let mut out = Interface {
        module: Some(file),
        key: key.to_string(),
        ..Interface::default()
    };
    for (name, exported_as) in names {
        if !is_upper(&name) {
            if let Some(info) = env.values.get(&name) {
                let origin = match info.origin {
                    Origin::Decl(decl) => Origin::Global { module: file, decl },
                    ref other => other.clone(),
                };
                let original = env
                    .origins
                    .get(&(Namespace::Value, name.clone()))
                    .map_or_else(|| name.clone(), |it| it.name.clone());
                out.values.push((
                    exported_as,
                    ValueInfo {
                        scheme: info.scheme.clone(),
                        origin,
                    },
                    original,
                ));
            }
            continue;
        }
        if let Some(def) = env.types.get(&name) {
            let id = def_of(Namespace::Type, &name);
            if let TypeDef::Union { ctors, .. } = &**def {
                for ctor in ctors {
                    if let Some(info) = env.ctor_by_name(ctor) {
                        let cid = DefId {
                            module: id.module,
                            name: ctor.clone(),
                        };
                        out.ctors.push((ctor.clone(), info.clone(), cid));
                    }
                }
            }
            out.types.push((exported_as.clone(), def.clone(), id));
        }
        if let Some(class) = env.classes.get(&name) {
            let id = def_of(Namespace::Class, &name);
            for method in &class.methods {
                out.values.push((
                    method.name.clone(),
                    ValueInfo {
                        scheme: method.scheme.clone(),
                        origin: Origin::Method {
                            class: class.name.clone(),
                            decl: u32::MAX,
                        },
                    },
                    method.name.clone(),
                ));
            }
            out.classes.push((exported_as, class.clone(), id));
        }
    }
    let mut classes: Vec<&Name> = env.instances.keys().collect();
    classes.sort();
    for class in classes {
        out.instances
            .extend(env.instances.get(class).into_iter().flatten().cloned());
    }
    out
}

/// An identity for clash checks: two names clash unless they denote the same definition.
/// (A value, not text: every import of every module builds one per name it brings.)
#[derive(Clone, Debug, PartialEq, Eq)]
enum Identity {
    /// A top-level `let` of a module, by declaration index.
    Global(FileId, u32),
    Prelude(Name),
    /// A class method: its class, its name and its scheme (by address).
    Method(Name, Name, usize),
    Decl(u32),
    /// A module alias, by the module's key.
    Module(String),
    /// A type, constructor or class, by its definition.
    Def(DefId),
}

fn value_identity(info: &ValueInfo, name: &Name) -> Identity {
    match &info.origin {
        Origin::Global { module, decl } => Identity::Global(*module, *decl),
        Origin::Prelude => Identity::Prelude(name.clone()),
        Origin::Method { class, .. } => Identity::Method(
            class.clone(),
            name.clone(),
            Arc::as_ptr(&info.scheme) as usize,
        ),
        Origin::Decl(decl) => Identity::Decl(*decl),
    }
}

fn def_identity(def: &DefId) -> Identity {
    Identity::Def(def.clone())
}

/// One import of the module being checked, with the interface of its target.
pub struct ImportedModule<'a> {
    pub import: &'a ast::Import,
    pub interface: &'a Interface,
}

struct Builder<'a> {
    file: FileId,
    later: super::infer::Later<'a>,
    env: Env,
    diags: Vec<Diagnostic>,
    /// Names brought in, per namespace: identity and the import that brought them.
    brought: HashMap<(Namespace, Name), (Identity, Span)>,
    /// Declared names of unions and classes met through imports: identity and import span.
    nominal: HashMap<Name, (Identity, Span)>,
    /// Top-level declarations already reported as clashing with an import.
    clashed: std::collections::HashSet<Name>,
    module: &'a ast::Module,
}

/// The environment of a module before its own declarations: the prelude plus its imports.
/// `natives` adds the native functions of the standard library (for `std.validation`).
pub fn import_env(
    file: FileId,
    module: &ast::Module,
    imports: &[ImportedModule<'_>],
    natives: bool,
) -> (Env, Vec<Diagnostic>) {
    let mut b = Builder {
        file,
        later: prescan(module),
        env: Env::prelude(),
        diags: Vec::new(),
        brought: HashMap::new(),
        nominal: HashMap::new(),
        clashed: std::collections::HashSet::new(),
        module,
    };
    if natives {
        add_natives(&mut b.env);
    }
    for imported in imports {
        b.add_import(imported);
    }
    b.check_local_nominal();
    (b.env, b.diags)
}

/// `validatePattern : String -> String -> Result String ValidationError` (section 10.5).
fn add_natives(env: &mut Env) {
    let s = || SType::Con(Name::new("String"), Vec::new());
    let result = SType::Con(
        Name::new("Result"),
        vec![s(), SType::Con(Name::new("ValidationError"), Vec::new())],
    );
    let ty = SType::Fun(
        Box::new(s()),
        Box::new(SType::Fun(Box::new(s()), Box::new(result))),
    );
    env.values.insert(
        Name::new("validatePattern"),
        ValueInfo {
            scheme: Arc::new(Scheme {
                n_gen: 0,
                constraints: Vec::new(),
                ty,
            }),
            origin: Origin::Prelude,
        },
    );
}

impl Builder<'_> {
    fn add_import(&mut self, imported: &ImportedModule<'_>) {
        let import = imported.import;
        let iface = imported.interface;
        let span = import.span;
        self.add_instances(iface, span);
        for (_, def, _) in &iface.types {
            // Types carry a union's identity; the checker finds the union by it.
            if let TypeDef::Union { identity, .. } = &**def {
                self.env
                    .types
                    .entry(identity.clone())
                    .or_insert_with(|| def.clone());
            }
        }
        for (_, class, id) in &iface.classes {
            self.note_nominal(&id.name, id, span);
            self.env
                .classes
                .entry(hidden_key(&class.name))
                .or_insert_with(|| class.clone());
        }
        for (name, info, _) in &iface.ctors {
            self.env
                .ctors
                .entry(hidden_key(name))
                .or_insert_with(|| info.clone());
        }
        match &import.kind {
            ast::ImportKind::All => {
                for (name, info, original) in &iface.values {
                    self.bring_value(name.clone(), info, original, span);
                }
                for (name, def, id) in &iface.types {
                    self.bring_type(name.clone(), def, id, span);
                }
                for (name, info, id) in &iface.ctors {
                    self.bring_ctor(name.clone(), info, id, span);
                }
                for (name, class, id) in &iface.classes {
                    self.bring_class(name.clone(), class, id, span);
                }
            }
            ast::ImportKind::Items(items) => {
                for item in items {
                    self.add_item(iface, item);
                }
            }
            ast::ImportKind::Alias(alias) => self.add_alias(iface, alias),
        }
    }

    fn add_item(&mut self, iface: &Interface, item: &ast::RenameItem) {
        let name = &item.name.name;
        let local = item.local().name.clone();
        let span = item.span;
        let mut found = false;
        if !is_upper(name) {
            if let Some((_, info, original)) = iface.values.iter().find(|(n, _, _)| n == name) {
                found = true;
                self.bring_value(local.clone(), info, original, span);
            }
        } else {
            if let Some((_, def, id)) = iface.types.iter().find(|(n, _, _)| n == name) {
                found = true;
                self.bring_type(local.clone(), def, id, span);
                if let TypeDef::Union { ctors, .. } = &**def {
                    for (cname, info, cid) in &iface.ctors {
                        if ctors.contains(cname) && cid.module == id.module {
                            self.bring_ctor(cname.clone(), info, cid, span);
                        }
                    }
                }
            }
            if let Some((_, class, id)) = iface.classes.iter().find(|(n, _, _)| n == name) {
                found = true;
                self.bring_class(local.clone(), class, id, span);
                for method in &class.methods {
                    if let Some((_, info, original)) =
                        iface.values.iter().find(|(n, _, _)| *n == method.name)
                    {
                        self.bring_value(method.name.clone(), info, original, span);
                    }
                }
            }
        }
        if !found {
            self.diags.push(
                Diagnostic::new(
                    Code::M4004,
                    format!("`{name}` is not exported by `{}`", iface.key),
                    self.file,
                    item.name.span,
                )
                .with_primary_message("not exported"),
            );
        }
    }

    fn add_alias(&mut self, iface: &Interface, alias: &ast::Ident) {
        let identity = Identity::Module(iface.key.clone());
        if !self.check_clash(Namespace::Value, &alias.name, identity, alias.span) {
            return;
        }
        self.env
            .module_aliases
            .insert(alias.name.clone(), iface.key.clone());
        // `alias.name`, qualified; one buffer for all (this runs for every member of every
        // import of every module).
        let mut buf = String::new();
        let mut q = |name: &Name| {
            buf.clear();
            buf.push_str(&alias.name);
            buf.push('.');
            buf.push_str(name);
            Name::new(&buf)
        };
        for (name, info, original) in &iface.values {
            let qualified = q(name);
            self.env.values.insert(qualified.clone(), info.clone());
            self.env.origins.insert(
                (Namespace::Value, qualified),
                DefId {
                    module: iface.module,
                    name: original.clone(),
                },
            );
        }
        for (name, def, id) in &iface.types {
            let qualified = q(name);
            self.env.types.insert(qualified.clone(), def.clone());
            self.env
                .origins
                .insert((Namespace::Type, qualified), id.clone());
        }
        for (name, info, id) in &iface.ctors {
            let qualified = q(name);
            self.env.ctors.insert(qualified.clone(), info.clone());
            self.env
                .origins
                .insert((Namespace::Ctor, qualified), id.clone());
        }
        for (name, class, id) in &iface.classes {
            let qualified = q(name);
            self.env.classes.insert(qualified.clone(), class.clone());
            self.env
                .origins
                .insert((Namespace::Class, qualified), id.clone());
        }
    }

    fn add_instances(&mut self, iface: &Interface, span: Span) {
        for inst in &iface.instances {
            let list = self.env.instances.entry(inst.class.clone()).or_default();
            if list.iter().any(|it| it.iref == inst.iref) {
                continue;
            }
            let key = inst.head_key();
            if list.iter().any(|it| it.head_key() == key) {
                self.diags.push(Diagnostic::new(
                    Code::T2009,
                    format!(
                        "overlapping instances of `{}` for `{}` meet through this import",
                        inst.class,
                        key.iter()
                            .map(|it| super::env::display_name(it))
                            .collect::<Vec<_>>()
                            .join(" ")
                    ),
                    self.file,
                    span,
                ));
                continue;
            }
            list.push(inst.clone());
        }
    }

    /// Records a class met through an import; two different ones with the same declared
    /// name cannot coexist (class constraints are identified by declared name).
    fn note_nominal(&mut self, name: &Name, id: &DefId, span: Span) {
        let identity = def_identity(id);
        match self.nominal.get(name) {
            Some((other, _)) if *other != identity => {
                self.diags.push(
                    Diagnostic::new(
                        Code::M4005,
                        format!("two different classes named `{name}` meet in this module"),
                        self.file,
                        span,
                    )
                    .with_note(
                        "classes are identified by their declared name, so two of the same name cannot be used in one module, even qualified",
                    ),
                );
            }
            Some(_) => {}
            None => {
                self.nominal.insert(name.clone(), (identity, span));
            }
        }
    }

    /// A class declared in this module must not share its name with an imported one.
    fn check_local_nominal(&mut self) {
        for decl in &self.module.decls {
            let DeclKind::Class(class) = &decl.kind else {
                continue;
            };
            let ident = &class.name;
            if self.clashed.contains(&ident.name) {
                continue;
            }
            if let Some((_, span)) = self.nominal.get(&ident.name) {
                self.diags.push(
                    Diagnostic::new(
                        Code::M4005,
                        format!(
                            "`{}` is declared here and also imported (qualified) from another module",
                            ident.name
                        ),
                        self.file,
                        ident.span,
                    )
                    .with_label(self.file, *span, "imported here")
                    .with_note(
                        "classes are identified by their declared name, so two of the same name cannot be used in one module, even qualified",
                    ),
                );
            }
        }
    }

    /// Reports M4005 when `name` clashes; returns whether it may be brought in.
    fn check_clash(&mut self, ns: Namespace, name: &Name, identity: Identity, span: Span) -> bool {
        let local = match ns {
            Namespace::Value => self.later.value(name),
            Namespace::Type => self.later.types.get(name),
            Namespace::Ctor => self.later.ctors.get(name),
            Namespace::Class => self.later.classes.get(name),
        };
        if let Some((_, decl_span)) = local {
            self.clashed.insert(name.clone());
            self.diags.push(
                Diagnostic::new(
                    Code::M4005,
                    format!("the imported name `{name}` clashes with a top-level declaration"),
                    self.file,
                    span,
                )
                .with_label(self.file, *decl_span, "declared here"),
            );
            return false;
        }
        let key = (ns, name.clone());
        match self.brought.get(&key) {
            Some((other, _)) if *other == identity => false,
            Some((_, other_span)) => {
                self.diags.push(
                    Diagnostic::new(
                        Code::M4005,
                        format!("`{name}` is brought in by two imports"),
                        self.file,
                        span,
                    )
                    .with_label(self.file, *other_span, "first imported here"),
                );
                false
            }
            None => {
                self.brought.insert(key, (identity, span));
                true
            }
        }
    }

    fn bring_value(&mut self, name: Name, info: &ValueInfo, original: &Name, span: Span) {
        let identity = value_identity(info, original);
        if self.check_clash(Namespace::Value, &name, identity, span) {
            self.env.origins.insert(
                (Namespace::Value, name.clone()),
                DefId {
                    module: None,
                    name: original.clone(),
                },
            );
            self.env.values.insert(name, info.clone());
        }
    }

    fn bring_type(&mut self, name: Name, def: &Arc<TypeDef>, id: &DefId, span: Span) {
        if self.check_clash(Namespace::Type, &name, def_identity(id), span) {
            self.env
                .origins
                .insert((Namespace::Type, name.clone()), id.clone());
            self.env.types.insert(name, def.clone());
        }
    }

    fn bring_ctor(&mut self, name: Name, info: &Arc<CtorInfo>, id: &DefId, span: Span) {
        if self.check_clash(Namespace::Ctor, &name, def_identity(id), span) {
            self.env
                .origins
                .insert((Namespace::Ctor, name.clone()), id.clone());
            self.env.ctors.insert(name, info.clone());
        }
    }

    fn bring_class(&mut self, name: Name, class: &Arc<ClassInfo>, id: &DefId, span: Span) {
        if self.check_clash(Namespace::Class, &name, def_identity(id), span) {
            self.env
                .origins
                .insert((Namespace::Class, name.clone()), id.clone());
            self.env.classes.insert(name, class.clone());
        }
    }
}
