//! From a place in a file's document back to the source that produced it.
//!
//! The playground selects the source of a key or value the user clicks in the rendered output
//! (issue 18, "output to source"). Given the document path of the click (`["web", "ports", 0]`:
//! a top-level binding or trailing-expression field, then record fields, list indexes and
//! constructor names, as in the JSON rendering of LANGUAGE.md 11.3), [`locate`] follows the
//! syntax tree as far as the path is statically known:
//! - a record literal (and its `...base` for fields it does not set), a list literal, a
//!   constructor applied to its payload;
//! - through annotations, `let ... in` bodies and names bound to known expressions (top-level
//!   `let`s, `let ... in`, and a lambda's parameters when the lambda is applied to arguments);
//! - into the body of a top-level function applied at the site (`mk 3 "web"`), so a field of a
//!   record built by a helper selects the field's expression in the helper.
//!
//! It stops at whatever depends on evaluation (`if`, `match`, field access, operators, imported
//! names) and answers the expression reached so far, with how many steps of the path it
//! matched. It is a walk over one parsed file and never evaluates.

use super::ast::{DeclKind, Expr, ExprKind, Module, Name};
use std::rc::Rc;

use crate::source::Span;

/// One step of a document path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PathKey {
    /// A record field, a top-level binding, or a constructor (the key of `{"C": payload}`).
    Key(String),
    /// A list element.
    Index(usize),
}

/// Where a path's value comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Located {
    /// The expression (or, for a bare top-level name, its whole declaration).
    pub span: Span,
    /// How many steps of the path the walk followed (the span is the source of that prefix).
    pub matched: usize,
}

/// Gives up on paths through more than this many names or calls (`let rec f = \x -> f x`).
const MAX_HOPS: usize = 1_000;

/// Names bound along the walk, innermost first: a persistent list, so that following a name
/// into the expression it stands for can move to the scope that expression is read in.
type Scope<'m> = Option<Rc<Binding<'m>>>;

struct Binding<'m> {
    name: &'m Name,
    value: &'m Expr,
    /// The scope `value` is read in (the caller's, for a parameter).
    value_scope: Scope<'m>,
    outer: Scope<'m>,
}

struct Walk<'m> {
    module: &'m Module,
    scope: Scope<'m>,
    hops: usize,
}

/// The source of the value at `path` in the document of `module` (see the module docs);
/// `None` when not even the first step names something of the file.
pub fn locate(module: &Module, path: &[PathKey]) -> Option<Located> {
    let mut walk = Walk {
        module,
        scope: None,
        hops: 0,
    };
    let (mut expr, mut matched, mut span) = match &module.body {
        Some(body) => (body, 0, body.span),
        None => {
            let PathKey::Key(first) = path.first()? else {
                return None;
            };
            let decl = module
                .decls
                .iter()
                .rev()
                .find_map(|decl| match &decl.kind {
                    DeclKind::Let(l) if l.name.name.as_str() == first => {
                        Some((decl.span, &l.value))
                    }
                    _ => None,
                })?;
            (decl.1, 1, decl.0)
        }
    };
    for key in &path[matched..] {
        let Some(next) = walk.step(expr, key) else {
            break;
        };
        expr = walk.known(next);
        matched += 1;
        span = expr.span;
    }
    Some(Located { span, matched })
}

impl<'m> Walk<'m> {
    /// The part of `expr`'s value at `key`, when the tree shows it.
    fn step(&mut self, expr: &'m Expr, key: &PathKey) -> Option<&'m Expr> {
        let expr = self.known(expr);
        self.hop()?;
        match (&expr.kind, key) {
            (ExprKind::Record { base, fields }, PathKey::Key(name)) => {
                match fields.iter().rev().find(|f| f.name.name.as_str() == name) {
                    Some(field) => Some(&field.value),
                    None => self.step(base.as_deref()?, key),
                }
            }
            (ExprKind::List(items), PathKey::Index(idx)) => items.get(*idx),
            (ExprKind::App { func, args }, PathKey::Key(name)) if is_ctor(func, name) => {
                args.first()
            }
            (ExprKind::App { func, args }, _) => {
                let body = self.enter_call(func, args)?;
                self.step(body, key)
            }
            _ => None,
        }
    }

    /// `expr` with what does not change its value peeled off: annotations, `let ... in`
    /// (binding its name), names bound to a known expression.
    fn known(&mut self, mut expr: &'m Expr) -> &'m Expr {
        loop {
            if self.hop().is_none() {
                return expr;
            }
            expr = match &expr.kind {
                ExprKind::Ann { expr: inner, .. } => inner,
                ExprKind::Let {
                    name, value, body, ..
                } => {
                    self.bind(&name.name, value, self.scope.clone());
                    body
                }
                ExprKind::Var(name) => match self.lookup(name) {
                    Some(value) => value,
                    None => return expr,
                },
                _ => return expr,
            };
        }
    }

    /// The body of the function `func` applied to `args`, its parameters bound to the
    /// arguments; `None` unless `func` is a lambda the tree shows, taking exactly `args`.
    fn enter_call(&mut self, func: &'m Expr, args: &'m [Expr]) -> Option<&'m Expr> {
        let caller = self.scope.clone();
        let func = self.known(func);
        let ExprKind::Lambda { params, body } = &func.kind else {
            return None;
        };
        if params.len() != args.len() {
            return None;
        }
        for (param, arg) in params.iter().zip(args) {
            if let Some(name) = &param.name {
                self.bind(&name.name, arg, caller.clone());
            }
        }
        Some(body)
    }

    fn bind(&mut self, name: &'m Name, value: &'m Expr, value_scope: Scope<'m>) {
        let outer = self.scope.take();
        self.scope = Some(Rc::new(Binding {
            name,
            value,
            value_scope,
            outer,
        }));
    }

    /// What `name` stands for: the innermost binding of the walk, else a top-level `let`.
    /// Following it moves to the scope it was bound in.
    fn lookup(&mut self, name: &Name) -> Option<&'m Expr> {
        let mut at = self.scope.clone();
        while let Some(binding) = at {
            if binding.name == name {
                self.scope = binding.value_scope.clone();
                return Some(binding.value);
            }
            at = binding.outer.clone();
        }
        self.module
            .decls
            .iter()
            .rev()
            .find_map(|decl| match &decl.kind {
                DeclKind::Let(l) if &l.name.name == name => {
                    self.scope = None;
                    Some(&l.value)
                }
                _ => None,
            })
    }

    fn hop(&mut self) -> Option<()> {
        self.hops += 1;
        (self.hops <= MAX_HOPS).then_some(())
    }
}

fn is_ctor(func: &Expr, name: &str) -> bool {
    matches!(&func.kind, ExprKind::Ctor(ctor) if ctor.as_str() == name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::FileId;

    fn key(k: &str) -> PathKey {
        PathKey::Key(k.to_string())
    }

    /// The source text `locate` selects for `path`, and how many steps it matched.
    fn pick(src: &str, path: &[PathKey]) -> Option<(String, usize)> {
        let parsed = crate::syntax::parse(FileId(0), src);
        assert!(parsed.diagnostics.is_empty(), "{:?}", parsed.diagnostics);
        let found = locate(&parsed.module, path)?;
        let text = &src[found.span.start as usize..found.span.end as usize];
        Some((text.to_string(), found.matched))
    }

    #[test]
    fn a_bare_binding_is_its_declaration() {
        let src = "let a = 1;\nlet b = { x = 2 };\n";
        assert_eq!(
            pick(src, &[key("b")]),
            Some(("let b = { x = 2 };".into(), 1))
        );
        assert_eq!(pick(src, &[key("zz")]), None);
        assert_eq!(pick(src, &[PathKey::Index(0)]), None);
    }

    #[test]
    fn record_fields_lists_and_constructors() {
        let src =
            "let web = { ports = [80, 8000 + 443], tls = Some { cert = \"c.pem\" }, mode = None };";
        assert_eq!(
            pick(src, &[key("web"), key("ports"), PathKey::Index(1)]),
            Some(("8000 + 443".into(), 3))
        );
        assert_eq!(
            pick(src, &[key("web"), key("tls"), key("Some"), key("cert")]),
            Some(("\"c.pem\"".into(), 4))
        );
        assert_eq!(
            pick(src, &[key("web"), key("mode")]),
            Some(("None".into(), 2))
        );
        // Past what the tree shows: the deepest known part, and how far it got.
        assert_eq!(
            pick(src, &[key("web"), key("ports"), PathKey::Index(7)]),
            Some(("[80, 8000 + 443]".into(), 2))
        );
    }

    #[test]
    fn through_names_helpers_and_record_bases() {
        let src = "\
let base = { replicas = 1, port = 80 };
let mk = \\name port -> { ...base, name = name, port = (port : Integer) };
let api = mk \"api\" 8080;
let also = let p = api in p;
";
        assert_eq!(
            pick(src, &[key("api"), key("name")]),
            Some(("\"api\"".into(), 2))
        );
        assert_eq!(
            pick(src, &[key("api"), key("port")]),
            Some(("8080".into(), 2))
        );
        assert_eq!(
            pick(src, &[key("api"), key("replicas")]),
            Some(("1".into(), 2))
        );
        assert_eq!(
            pick(src, &[key("also"), key("replicas")]),
            Some(("1".into(), 2))
        );
    }

    #[test]
    fn scopes_are_respected() {
        // `x` inside `f` is f's parameter, not the top-level x.
        let src = "let x = { a = 1 };\nlet f = \\x -> { inner = x };\nlet y = f { a = 2 };\n";
        assert_eq!(
            pick(src, &[key("y"), key("inner"), key("a")]),
            Some(("2".into(), 3))
        );
        // An argument is read in the caller's scope.
        let src = "let v = 5;\nlet g = \\v -> { w = v };\nlet h = \\v -> g v;\nlet out = h 7;\n";
        assert_eq!(pick(src, &[key("out"), key("w")]), Some(("7".into(), 2)));
    }

    #[test]
    fn a_trailing_expression_is_the_document() {
        let src = "let a = 2;\n{ total = a * 21, tags = [Some \"x\"] }\n";
        assert_eq!(pick(src, &[key("total")]), Some(("a * 21".into(), 1)));
        assert_eq!(
            pick(src, &[key("tags"), PathKey::Index(0), key("Some")]),
            Some(("\"x\"".into(), 3))
        );
        assert_eq!(
            pick(src, &[]),
            Some(("{ total = a * 21, tags = [Some \"x\"] }".into(), 0))
        );
    }

    #[test]
    fn what_depends_on_evaluation_stops_the_walk() {
        let src = "let c = true;\nlet r = if c then { a = 1 } else { a = 2 };\n";
        assert_eq!(
            pick(src, &[key("r"), key("a")]),
            Some(("let r = if c then { a = 1 } else { a = 2 };".into(), 1))
        );
        // Endless recursion through names ends.
        let src = "let rec f = \\x -> f x;\nlet y = f 1;\n";
        assert_eq!(
            pick(src, &[key("y"), key("a")]),
            Some(("let y = f 1;".into(), 1))
        );
        let src = "let a = b;\nlet b = a;\n";
        assert!(pick(src, &[key("a"), key("q")]).is_some());
    }
}
