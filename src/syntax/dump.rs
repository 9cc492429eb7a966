//! A compact, deterministic S-expression dump of a syntax tree, for fixture tests.
//!
//! The tree is first turned into [`Sexp`] nodes that know their flat width; a node is printed
//! on one line when it fits in [`WIDTH`] columns, else its head (its leading atoms, or for a
//! top-level item everything up to its span) stays on the first line and each remaining child
//! goes on its own line, indented by two spaces. Only top-level items
//! show their spans (`@start..end`).

use std::fmt::Write as _;

use super::ast::{
    self, ConstraintItemKind, DeclKind, Expr, ExprKind, ImportKind, ImportPath, Literal, Pattern,
    PatternKind, Type, TypeKind, TypeRhs,
};

const WIDTH: usize = 96;

/// Dumps a module: one line group per top-level item, in source order.
pub fn dump(module: &ast::Module) -> String {
    let mut out = String::new();
    if let Some(header) = &module.header {
        render(
            &list(vec![atom("module"), atom(header.name.as_str())]),
            0,
            &mut out,
        );
        out.push('\n');
    }
    for import in &module.imports {
        render(&import_sexp(import), 0, &mut out);
        out.push('\n');
    }
    for decl in &module.decls {
        render(&decl_sexp(decl), 0, &mut out);
        out.push('\n');
    }
    if let Some(body) = &module.body {
        render(
            &list(vec![atom("body"), span_atom(body.span), expr_sexp(body)]),
            0,
            &mut out,
        );
        out.push('\n');
    }
    out
}

/// Dumps one expression on its own (for unit tests).
pub fn dump_expr(expr: &Expr) -> String {
    let mut out = String::new();
    render(&expr_sexp(expr), 0, &mut out);
    out
}

/// Dumps one type on its own (for unit tests).
pub fn dump_type(ty: &Type) -> String {
    let mut out = String::new();
    render(&type_sexp(ty), 0, &mut out);
    out
}

/// Dumps one pattern on its own (for unit tests).
pub fn dump_pattern(pat: &Pattern) -> String {
    let mut out = String::new();
    render(&pat_sexp(pat), 0, &mut out);
    out
}

// ---------------------------------------------------------------- S-expressions

enum Sexp {
    Atom(String),
    List { items: Vec<Sexp>, width: usize },
}

impl Sexp {
    fn width(&self) -> usize {
        match self {
            Sexp::Atom(text) => text.len(),
            Sexp::List { width, .. } => *width,
        }
    }
}

fn atom(text: impl Into<String>) -> Sexp {
    Sexp::Atom(text.into())
}

fn list(items: Vec<Sexp>) -> Sexp {
    let width = 2 + items.iter().map(Sexp::width).sum::<usize>() + items.len().saturating_sub(1);
    Sexp::List { items, width }
}

fn span_atom(span: crate::source::Span) -> Sexp {
    atom(format!("@{}..{}", span.start, span.end))
}

fn render(sexp: &Sexp, indent: usize, out: &mut String) {
    match sexp {
        Sexp::Atom(text) => out.push_str(text),
        Sexp::List { items, width } => {
            out.push('(');
            if indent + width <= WIDTH {
                for (idx, item) in items.iter().enumerate() {
                    if idx > 0 {
                        out.push(' ');
                    }
                    render(item, indent, out);
                }
            } else {
                // The head stays on the first line: a top-level item up to its span, any
                // other node its leading atoms.
                let head_len = items
                    .iter()
                    .position(|it| matches!(it, Sexp::Atom(text) if text.starts_with('@')))
                    .map(|idx| idx + 1);
                let mut leading = true;
                for (idx, item) in items.iter().enumerate() {
                    leading = match head_len {
                        Some(len) => idx < len,
                        None => leading && matches!(item, Sexp::Atom(_)),
                    };
                    if idx > 0 {
                        if leading {
                            out.push(' ');
                        } else {
                            out.push('\n');
                            for _ in 0..indent + 2 {
                                out.push(' ');
                            }
                        }
                    }
                    render(item, indent + 2, out);
                }
            }
            out.push(')');
        }
    }
}

// ---------------------------------------------------------------- items

fn import_sexp(import: &ast::Import) -> Sexp {
    let mut items = vec![atom("import")];
    items.push(match &import.path {
        ImportPath::Register(segments) => atom(
            segments
                .iter()
                .map(|it| it.name.as_str())
                .collect::<Vec<_>>()
                .join("."),
        ),
        ImportPath::Relative(lit) => atom(format!("{:?}", lit.value.as_str())),
    });
    match &import.kind {
        ImportKind::All => {}
        ImportKind::Alias(alias) => items.push(list(vec![atom("as"), atom(alias.name.as_str())])),
        ImportKind::Items(names) => {
            let mut sub = vec![atom("items")];
            sub.extend(names.iter().map(rename_sexp));
            items.push(list(sub));
        }
    }
    items.push(span_atom(import.span));
    list(items)
}

fn rename_sexp(item: &ast::RenameItem) -> Sexp {
    match &item.alias {
        None => atom(item.name.name.as_str()),
        Some(alias) => list(vec![
            atom(item.name.name.as_str()),
            atom("as"),
            atom(alias.name.as_str()),
        ]),
    }
}

fn decl_sexp(decl: &ast::Decl) -> Sexp {
    let mut items = Vec::new();
    if decl.exported {
        items.push(atom("export"));
    }
    match &decl.kind {
        DeclKind::Let(it) => {
            items.push(atom("let"));
            if it.rec {
                items.push(atom("rec"));
            }
            items.push(atom(it.name.name.as_str()));
            items.push(span_atom(decl.span));
            if let Some(ann) = &it.ann {
                items.push(list(vec![atom(":"), type_sexp(ann)]));
            }
            items.push(expr_sexp(&it.value));
        }
        DeclKind::Type(it) => {
            items.push(atom("type"));
            items.push(atom(it.name.name.as_str()));
            items.extend(
                it.params
                    .iter()
                    .map(|param| atom(format!("'{}", param.name))),
            );
            items.push(span_atom(decl.span));
            items.push(match &it.rhs {
                TypeRhs::Union(variants) => {
                    let mut sub = vec![atom("union")];
                    sub.extend(variants.iter().map(variant_sexp));
                    list(sub)
                }
                TypeRhs::Alias(ty) => list(vec![atom("alias"), type_sexp(ty)]),
                TypeRhs::Lone { variant, as_type } => list(vec![
                    atom("lone"),
                    variant_sexp(variant),
                    type_sexp(as_type),
                ]),
            });
        }
        DeclKind::Class(it) => {
            items.push(atom("typeclass"));
            items.push(atom(it.name.name.as_str()));
            items.extend(
                it.params
                    .iter()
                    .map(|param| atom(format!("'{}", param.name))),
            );
            items.push(span_atom(decl.span));
            for constraint in &it.superclasses {
                items.push(list(vec![atom("superclass"), constraint_sexp(constraint)]));
            }
            for sig in &it.methods {
                items.push(list(vec![
                    atom("sig"),
                    atom(sig.name.name.as_str()),
                    type_sexp(&sig.ty),
                ]));
            }
            for def in &it.defaults {
                items.push(list(vec![
                    atom("default"),
                    atom(def.name.name.as_str()),
                    expr_sexp(&def.value),
                ]));
            }
        }
        DeclKind::Instance(it) => {
            items.push(atom("instance"));
            if !it.context.is_empty() {
                let mut sub = vec![atom("context")];
                sub.extend(it.context.iter().map(constraint_sexp));
                items.push(list(sub));
            }
            items.push(atom(qname(&it.class)));
            items.extend(it.args.iter().map(type_sexp));
            items.push(span_atom(decl.span));
            for def in &it.methods {
                items.push(list(vec![
                    atom("method"),
                    atom(def.name.name.as_str()),
                    expr_sexp(&def.value),
                ]));
            }
        }
        DeclKind::Export(names) => {
            items.push(atom("export-list"));
            items.extend(names.iter().map(rename_sexp));
            items.push(span_atom(decl.span));
        }
    }
    list(items)
}

fn variant_sexp(variant: &ast::Variant) -> Sexp {
    match &variant.payload {
        None => atom(variant.name.name.as_str()),
        Some(ty) => list(vec![atom(variant.name.name.as_str()), type_sexp(ty)]),
    }
}

fn constraint_sexp(constraint: &ast::Constraint) -> Sexp {
    let mut items = vec![atom(qname(&constraint.class))];
    items.extend(constraint.args.iter().map(type_sexp));
    list(items)
}

fn qname(name: &ast::QName) -> String {
    match &name.module {
        Some(module) => format!("{}.{}", module.name, name.name.name),
        None => name.name.name.to_string(),
    }
}

// ---------------------------------------------------------------- types

fn type_sexp(ty: &Type) -> Sexp {
    match &ty.kind {
        TypeKind::Con(name, args) if args.is_empty() => atom(qname(name)),
        TypeKind::Con(name, args) => {
            let mut items = vec![atom(qname(name))];
            items.extend(args.iter().map(type_sexp));
            list(items)
        }
        TypeKind::Var(name) => atom(format!("'{}", name.name)),
        TypeKind::Fun(arg, res) => list(vec![atom("->"), type_sexp(arg), type_sexp(res)]),
        TypeKind::List(elem) => list(vec![atom("[]"), type_sexp(elem)]),
        TypeKind::Record { fields, rest } => {
            let mut items = vec![atom("record-type")];
            for field in fields {
                items.push(list(vec![
                    atom(field.name.name.as_str()),
                    type_sexp(&field.ty),
                ]));
            }
            if let Some(rest) = rest {
                items.push(list(vec![atom("|"), atom(format!("'{}", rest.name))]));
            }
            list(items)
        }
        TypeKind::Refined {
            base,
            items: citems,
            pred,
        } => {
            let mut items = vec![atom("refined"), type_sexp(base)];
            for item in citems {
                items.push(match &item.kind {
                    ConstraintItemKind::Regexp(lit) => list(vec![
                        atom("regexp"),
                        atom(format!("{:?}", lit.value.as_str())),
                    ]),
                    ConstraintItemKind::Pattern(lit) => list(vec![
                        atom("pattern"),
                        atom(format!("{:?}", lit.value.as_str())),
                    ]),
                    ConstraintItemKind::Ge(expr) => list(vec![atom(">="), expr_sexp(expr)]),
                    ConstraintItemKind::Le(expr) => list(vec![atom("<="), expr_sexp(expr)]),
                    ConstraintItemKind::Call {
                        module, func, args, ..
                    } => {
                        let name = match module {
                            Some(module) => format!("{}.{}", module.name, func.name),
                            None => func.name.to_string(),
                        };
                        let mut sub = vec![atom("call"), atom(name)];
                        sub.extend(args.iter().map(expr_sexp));
                        list(sub)
                    }
                });
            }
            if let Some(pred) = pred {
                items.push(list(vec![atom("where"), expr_sexp(pred)]));
            }
            list(items)
        }
        TypeKind::Qualified { context, ty } => {
            let mut ctx = vec![atom("context")];
            ctx.extend(context.iter().map(constraint_sexp));
            list(vec![atom("=>"), list(ctx), type_sexp(ty)])
        }
        TypeKind::Error => atom("<error>"),
    }
}

// ---------------------------------------------------------------- expressions

fn expr_sexp(expr: &Expr) -> Sexp {
    match &expr.kind {
        ExprKind::Int(value) => atom(value.to_string()),
        ExprKind::Float(value) => atom(format!("{value:?}")),
        ExprKind::Str(value) => atom(format!("{:?}", value.as_str())),
        ExprKind::Bool(value) => atom(value.to_string()),
        ExprKind::Unit => atom("()"),
        ExprKind::Var(name) | ExprKind::Ctor(name) => atom(name.as_str()),
        ExprKind::Lambda { params, body } => {
            let mut ps = vec![atom("params")];
            for param in params {
                let name = param.name.as_ref().map_or("_", |it| it.name.as_str());
                ps.push(match &param.ann {
                    None => atom(name),
                    Some(ty) => list(vec![atom(":"), atom(name), type_sexp(ty)]),
                });
            }
            list(vec![atom("lambda"), list(ps), expr_sexp(body)])
        }
        ExprKind::App { func, args } => {
            let mut items = vec![atom("app"), expr_sexp(func)];
            items.extend(args.iter().map(expr_sexp));
            list(items)
        }
        ExprKind::Let {
            rec,
            name,
            ann,
            value,
            body,
        } => {
            let mut items = vec![atom("let")];
            if *rec {
                items.push(atom("rec"));
            }
            items.push(atom(name.name.as_str()));
            if let Some(ann) = ann {
                items.push(list(vec![atom(":"), type_sexp(ann)]));
            }
            items.push(expr_sexp(value));
            items.push(expr_sexp(body));
            list(items)
        }
        ExprKind::If {
            cond,
            then_branch,
            else_branch,
        } => list(vec![
            atom("if"),
            expr_sexp(cond),
            expr_sexp(then_branch),
            expr_sexp(else_branch),
        ]),
        ExprKind::Match { scrutinee, cases } => {
            let mut items = vec![atom("match"), expr_sexp(scrutinee)];
            for case in cases {
                let mut sub = vec![atom("case"), pat_sexp(&case.pat)];
                if let Some(guard) = &case.guard {
                    sub.push(list(vec![atom("when"), expr_sexp(guard)]));
                }
                sub.push(expr_sexp(&case.body));
                items.push(list(sub));
            }
            list(items)
        }
        ExprKind::Binary { op, lhs, rhs, .. } => {
            list(vec![atom(op.as_str()), expr_sexp(lhs), expr_sexp(rhs)])
        }
        ExprKind::Unary { op, operand } => {
            let name = match op {
                ast::UnOp::Neg => "neg",
                ast::UnOp::Not => "not",
            };
            list(vec![atom(name), expr_sexp(operand)])
        }
        ExprKind::Field { expr, field } => {
            list(vec![atom("."), expr_sexp(expr), atom(field.name.as_str())])
        }
        ExprKind::Record { base, fields } => {
            let mut items = vec![atom("record")];
            if let Some(base) = base {
                items.push(list(vec![atom("..."), expr_sexp(base)]));
            }
            for field in fields {
                items.push(list(vec![
                    atom(field.name.name.as_str()),
                    expr_sexp(&field.value),
                ]));
            }
            list(items)
        }
        ExprKind::List(elems) => {
            let mut items = vec![atom("list")];
            items.extend(elems.iter().map(expr_sexp));
            list(items)
        }
        ExprKind::Ann { expr, ty } => list(vec![atom(":"), expr_sexp(expr), type_sexp(ty)]),
        ExprKind::Error => atom("<error>"),
    }
}

// ---------------------------------------------------------------- patterns

fn literal(lit: &Literal) -> String {
    match lit {
        Literal::Int(value) => value.to_string(),
        Literal::Float(value) => format!("{value:?}"),
        Literal::Str(value) => format!("{:?}", value.as_str()),
        Literal::Bool(value) => value.to_string(),
        Literal::Unit => "()".to_owned(),
    }
}

fn pat_sexp(pat: &Pattern) -> Sexp {
    match &pat.kind {
        PatternKind::Wildcard => atom("_"),
        PatternKind::Var(name) => atom(name.name.as_str()),
        PatternKind::Lit(lit) => atom(literal(lit)),
        PatternKind::Ctor {
            module,
            name,
            payload,
        } => {
            let mut text = String::new();
            if let Some(module) = module {
                let _ = write!(text, "{}.", module.name);
            }
            text.push_str(name.name.as_str());
            match payload {
                None => atom(text),
                Some(payload) => list(vec![atom(text), pat_sexp(payload)]),
            }
        }
        PatternKind::Record { fields, open } => {
            let mut items = vec![atom("record-pat")];
            for field in fields {
                items.push(list(vec![
                    atom(field.name.name.as_str()),
                    pat_sexp(&field.pat),
                ]));
            }
            if *open {
                items.push(atom(".."));
            }
            list(items)
        }
        PatternKind::List(elems) => {
            let mut items = vec![atom("list-pat")];
            items.extend(elems.iter().map(pat_sexp));
            list(items)
        }
        PatternKind::Error => atom("<error>"),
    }
}
