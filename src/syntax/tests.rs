use super::*;
use crate::diagnostic::Code;
use crate::syntax::ast::ExprKind;

fn parse_str(src: &str) -> Parsed {
    parse(FileId(0), src)
}

fn errors(parsed: &Parsed) -> String {
    parsed
        .diagnostics
        .iter()
        .map(|it| {
            let span = it.primary().unwrap_or_default().span;
            format!("{} {}..{}: {}", it.code, span.start, span.end, it.message)
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Parses `src` (which must be error-free) and compares its dump with `expect`.
fn check(src: &str, expect: &str) {
    let parsed = parse_str(src);
    assert!(
        parsed.diagnostics.is_empty(),
        "unexpected errors for {src:?}:\n{}",
        errors(&parsed)
    );
    check_invariants(src, &parsed.module);
    let out = dump::dump(&parsed.module);
    assert_eq!(out.trim(), expect.trim(), "for {src:?}");
}

/// Parses `src` as an expression (the trailing expression of a file) and compares its dump.
fn check_expr(src: &str, expect: &str) {
    let parsed = parse_str(src);
    assert!(
        parsed.diagnostics.is_empty(),
        "unexpected errors for {src:?}:\n{}",
        errors(&parsed)
    );
    check_invariants(src, &parsed.module);
    let body = parsed
        .module
        .body
        .as_ref()
        .expect("test input has a trailing expression");
    assert_eq!(dump::dump_expr(body), expect.trim(), "for {src:?}");
}

/// Compares the diagnostics of `src` (`CODE start..end: message`, one per line).
fn check_err(src: &str, expect: &str) {
    let parsed = parse_str(src);
    check_invariants(src, &parsed.module);
    assert_eq!(errors(&parsed), expect.trim(), "for {src:?}");
}

#[test]
fn smoke() {
    check_expr("1 + 2 * 3", "(+ 1 (* 2 3))");
}

// ---------------------------------------------------------------- invariants

/// Every child span lies inside its parent's span and inside the text; expression ids are
/// distinct and below `n_exprs`.
fn check_invariants(src: &str, module: &ast::Module) {
    let mut walker = Walker {
        len: src.len() as u32,
        ids: vec![false; module.n_exprs as usize],
    };
    let whole = crate::source::Span::new(0, src.len() as u32);
    for import in &module.imports {
        walker.span(whole, import.span);
    }
    for decl in &module.decls {
        walker.decl(whole, decl);
    }
    if let Some(body) = &module.body {
        walker.expr(whole, body);
    }
}

struct Walker {
    len: u32,
    ids: Vec<bool>,
}

use crate::source::Span;

impl Walker {
    fn span(&mut self, parent: Span, span: Span) {
        assert!(
            span.start <= span.end && span.end <= self.len,
            "bad span {span:?}"
        );
        assert!(
            parent.start <= span.start && span.end <= parent.end,
            "span {span:?} outside its parent {parent:?}"
        );
    }

    fn decl(&mut self, parent: Span, decl: &ast::Decl) {
        self.span(parent, decl.span);
        let p = decl.span;
        match &decl.kind {
            ast::DeclKind::Let(it) => {
                self.span(p, it.name.span);
                if let Some(ann) = &it.ann {
                    self.ty(p, ann);
                }
                self.expr(p, &it.value);
            }
            ast::DeclKind::Type(it) => {
                self.span(p, it.name.span);
                match &it.rhs {
                    ast::TypeRhs::Union(variants) => {
                        variants.iter().for_each(|v| self.variant(p, v))
                    }
                    ast::TypeRhs::Alias(ty) => self.ty(p, ty),
                    ast::TypeRhs::Lone { variant, as_type } => {
                        // The two readings share expression ids: check only the variant's.
                        self.variant(p, variant);
                        self.span(p, as_type.span);
                    }
                }
            }
            ast::DeclKind::Class(it) => {
                for c in &it.superclasses {
                    self.constraint(p, c);
                }
                for m in &it.methods {
                    self.span(p, m.span);
                    self.ty(m.span, &m.ty);
                }
                for d in &it.defaults {
                    self.span(p, d.span);
                    self.expr(d.span, &d.value);
                }
            }
            ast::DeclKind::Instance(it) => {
                self.span(p, it.head_span);
                for c in &it.context {
                    self.constraint(p, c);
                }
                for a in &it.args {
                    self.ty(it.head_span, a);
                }
                for d in &it.methods {
                    self.span(p, d.span);
                    self.expr(d.span, &d.value);
                }
            }
            ast::DeclKind::Export(items) => items.iter().for_each(|it| self.span(p, it.span)),
        }
    }

    fn variant(&mut self, parent: Span, variant: &ast::Variant) {
        self.span(parent, variant.span);
        if let Some(ty) = &variant.payload {
            self.ty(variant.span, ty);
        }
    }

    fn constraint(&mut self, parent: Span, c: &ast::Constraint) {
        self.span(parent, c.span);
        for a in &c.args {
            self.ty(c.span, a);
        }
    }

    fn ty(&mut self, parent: Span, ty: &ast::Type) {
        self.span(parent, ty.span);
        let p = ty.span;
        match &ty.kind {
            ast::TypeKind::Con(_, args) => args.iter().for_each(|a| self.ty(p, a)),
            ast::TypeKind::Var(_) | ast::TypeKind::Error => {}
            ast::TypeKind::Fun(a, b) => {
                self.ty(p, a);
                self.ty(p, b);
            }
            ast::TypeKind::List(a) => self.ty(p, a),
            ast::TypeKind::Record { fields, .. } => fields.iter().for_each(|f| self.ty(p, &f.ty)),
            ast::TypeKind::Refined { base, items, pred } => {
                self.ty(p, base);
                for item in items {
                    self.span(p, item.span);
                    match &item.kind {
                        ast::ConstraintItemKind::Ge(e) | ast::ConstraintItemKind::Le(e) => {
                            self.expr(item.span, e)
                        }
                        ast::ConstraintItemKind::Call { args, .. } => {
                            args.iter().for_each(|a| self.expr(item.span, a))
                        }
                        _ => {}
                    }
                }
                if let Some(pred) = pred {
                    self.expr(p, pred);
                }
            }
            ast::TypeKind::Qualified { context, ty } => {
                context.iter().for_each(|c| self.constraint(p, c));
                self.ty(p, ty);
            }
        }
    }

    fn pat(&mut self, parent: Span, pat: &ast::Pattern) {
        self.span(parent, pat.span);
        let p = pat.span;
        match &pat.kind {
            ast::PatternKind::Ctor {
                payload: Some(payload),
                ..
            } => self.pat(p, payload),
            ast::PatternKind::Record { fields, .. } => {
                fields.iter().for_each(|f| self.pat(p, &f.pat))
            }
            ast::PatternKind::List(items) => items.iter().for_each(|it| self.pat(p, it)),
            _ => {}
        }
    }

    fn expr(&mut self, parent: Span, expr: &ast::Expr) {
        self.span(parent, expr.span);
        let slot = self
            .ids
            .get_mut(expr.id.0 as usize)
            .expect("expression id below n_exprs");
        assert!(!*slot, "expression id {:?} used twice", expr.id);
        *slot = true;
        let p = expr.span;
        match &expr.kind {
            ExprKind::Lambda { params, body } => {
                for param in params {
                    self.span(p, param.span);
                    if let Some(ann) = &param.ann {
                        self.ty(param.span, ann);
                    }
                }
                self.expr(p, body);
            }
            ExprKind::App { func, args } => {
                self.expr(p, func);
                args.iter().for_each(|a| self.expr(p, a));
            }
            ExprKind::Let {
                ann,
                value,
                body,
                name,
                ..
            } => {
                self.span(p, name.span);
                if let Some(ann) = ann {
                    self.ty(p, ann);
                }
                self.expr(p, value);
                self.expr(p, body);
            }
            ExprKind::If {
                cond,
                then_branch,
                else_branch,
            } => {
                self.expr(p, cond);
                self.expr(p, then_branch);
                self.expr(p, else_branch);
            }
            ExprKind::Match { scrutinee, cases } => {
                self.expr(p, scrutinee);
                for case in cases {
                    self.span(p, case.span);
                    self.pat(case.span, &case.pat);
                    if let Some(g) = &case.guard {
                        self.expr(case.span, g);
                    }
                    self.expr(case.span, &case.body);
                }
            }
            ExprKind::Binary {
                lhs, rhs, op_span, ..
            } => {
                self.span(p, *op_span);
                self.expr(p, lhs);
                self.expr(p, rhs);
            }
            ExprKind::Unary { operand, .. } => self.expr(p, operand),
            ExprKind::Field { expr, field } => {
                self.expr(p, expr);
                self.span(p, field.span);
            }
            ExprKind::Record { base, fields } => {
                if let Some(base) = base {
                    self.expr(p, base);
                }
                for f in fields {
                    self.span(p, f.name.span);
                    self.expr(p, &f.value);
                }
            }
            ExprKind::List(items) => items.iter().for_each(|it| self.expr(p, it)),
            ExprKind::Ann { expr, ty } => {
                self.expr(p, expr);
                self.ty(p, ty);
            }
            _ => {}
        }
    }
}
