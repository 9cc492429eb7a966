use super::*;
use crate::diagnostic::Code;
use crate::syntax::ast::ExprKind;

fn parse_str(src: &str) -> Parsed {
    parse(FileId(0), src)
}

fn errors(parsed: &Parsed) -> String {
    let mut diagnostics = parsed.diagnostics.clone();
    crate::diagnostic::sort_and_dedup(&mut diagnostics, |it| it.0);
    diagnostics
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
    assert_eq!(flat(&dump::dump_expr(body)), expect.trim(), "for {src:?}");
}

/// The dump on one line.
fn flat(text: &str) -> String {
    text.split('\n')
        .map(str::trim_start)
        .collect::<Vec<_>>()
        .join(" ")
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

// ---------------------------------------------------------------- precedence (section 2.6)

#[test]
fn field_access_binds_tighter_than_application() {
    check_expr("f r.port", "(app f (. r port))");
    check_expr("f a.b.c x", "(app f (. (. a b) c) x)");
    check_expr("(mk 4).port", "(. (app mk 4) port)");
    check_expr("{ a = 1 }.a", "(. (record (a 1)) a)");
    check_expr("r.type.if", "(. (. r type) if)");
    check_expr("m.Some 1", "(app (. m Some) 1)");
}

#[test]
fn application_is_left_assoc_and_flat() {
    check_expr("f a b", "(app f a b)");
    check_expr("f(a, b, c)", "(app f a b c)");
    check_expr("f(a)(b)", "(app f a b)");
    check_expr("f()", "(app f ())");
    check_expr("f(a, b,)", "(app f a b)");
    check_expr("f (a, b) c", "(app f a b c)");
    check_expr("(f a) b", "(app (app f a) b)");
    check_expr("Some [1, 2]", "(app Some (list 1 2))");
    check_expr("f (a).x", "(app f (. a x))");
    check_expr(
        "f { a = 1 } \"s\" 2.5 true",
        "(app f (record (a 1)) \"s\" 2.5 true)",
    );
}

#[test]
fn prefix_operators_bind_looser_than_application() {
    check_expr("-f 2", "(neg (app f 2))");
    check_expr("!f x", "(not (app f x))");
    check_expr("-a * b", "(* (neg a) b)");
    check_expr("- -2", "(neg (neg 2))");
    check_expr("!!b", "(not (not b))");
    check_expr("-r.x", "(neg (. r x))");
}

#[test]
fn minus_after_an_operand_is_subtraction() {
    check_expr("f -1", "(- f 1)");
    check_expr("n-1", "(- n 1)");
    check_expr("f (-1)", "(app f (neg 1))");
    check_expr("5 --2", "5");
    check_expr("5 - -2", "(- 5 (neg 2))");
}

#[test]
fn arithmetic_levels() {
    check_expr("a + b * c", "(+ a (* b c))");
    check_expr("a * b + c", "(+ (* a b) c)");
    check_expr("a - b - c", "(- (- a b) c)");
    check_expr("a / b % c * d", "(* (% (/ a b) c) d)");
    check_expr("a ++ b + c", "(+ (++ a b) c)");
    check_expr("\"a\" ++ \"b\" ++ \"c\"", "(++ (++ \"a\" \"b\") \"c\")");
}

#[test]
fn comparison_equality_and_logic_levels() {
    check_expr("a + 1 < b * 2", "(< (+ a 1) (* b 2))");
    check_expr("a < b == c >= d", "(== (< a b) (>= c d))");
    check_expr("a == b && c != d", "(&& (== a b) (!= c d))");
    check_expr("a || b && c", "(|| a (&& b c))");
    check_expr("a && b || c && d", "(|| (&& a b) (&& c d))");
    check_expr("a || b || c", "(|| (|| a b) c)");
    check_expr("a <= b", "(<= a b)");
    check_expr("a > b", "(> a b)");
    check_expr("!a && b", "(&& (not a) b)");
    check_expr("(a < b) < c", "(< (< a b) c)");
}

#[test]
fn blocks_extend_as_far_right_as_possible() {
    check_expr("1 + if c then 2 else 3 + 4", "(+ 1 (if c 2 (+ 3 4)))");
    check_expr("\\x -> x + 1", "(lambda (params x) (+ x 1))");
    check_expr("let x = 1 in x + 1", "(let x 1 (+ x 1))");
    check_expr("a || \\x -> x || y", "(|| a (lambda (params x) (|| x y)))");
    check_expr("match x { _ => 1 } ", "(match x (case _ 1))");
    check_expr(
        "twice \\s -> s ++ \"!\"",
        "(app twice (lambda (params s) (++ s \"!\")))",
    );
    check_expr("f a let x = 1 in x", "(app f a (let x 1 x))");
    check_expr("f if a then b else c", "(app f (if a b c))");
    check_expr("f match x { _ => 1 }", "(app f (match x (case _ 1)))");
    check_expr("-\\x -> x", "(neg (lambda (params x) x))");
}

#[test]
fn literals() {
    check_expr(
        "[007, 2.5e-3, 1e6, 0.25, \"caf\\u{e9}\\t\", true, false, ()]",
        r#"(list 7 0.0025 1000000.0 0.25 "café\t" true false ())"#,
    );
    check_expr("( )", "()");
    check_expr("9223372036854775807", "9223372036854775807");
    check_expr("\"a\nb\"", r#""a\nb""#);
    check_expr(r#""\"\\\n\t\r\0\u{1F600}""#, r#""\"\\\n\t\r\0😀""#);
    check_expr("\"// not -- a /* comment\"", r#""// not -- a /* comment""#);
}

#[test]
fn comments_and_bom() {
    check_expr("\u{feff}1 // c\n+ /* block\n */ 2 -- end", "(+ 1 2)");
    let parsed = parse_str("\u{feff}x");
    assert_eq!(parsed.module.body.map(|it| it.span), Some(Span::new(3, 4)));
}

#[test]
fn identifiers_that_contain_keywords() {
    check_expr(
        "[index, input, recipe, trueish, within, types, _port, _1, regexp]",
        "(list index input recipe trueish within types _port _1 regexp)",
    );
}

// ---------------------------------------------------------------- expressions

#[test]
fn lambdas() {
    check_expr("\\x y -> x", "(lambda (params x y) x)");
    check_expr("\\_ -> 1", "(lambda (params _) 1)");
    check_expr(
        "\\(n : Integer) (b : List 'a) _ -> n",
        "(lambda (params (: n Integer) (: b (List 'a)) _) n)",
    );
    check_expr("\\n : Integer -> n", "(lambda (params (: n Integer)) n)");
    check_expr(
        "\\xs : List 'a -> xs",
        "(lambda (params (: xs (List 'a))) xs)",
    );
    check_expr(
        "\\x -> \\y -> x",
        "(lambda (params x) (lambda (params y) x))",
    );
    check_expr(
        "(\\a b -> a * 10 + b) 4 2",
        "(app (lambda (params a b) (+ (* a 10) b)) 4 2)",
    );
}

#[test]
fn let_in_and_if() {
    check_expr(
        "let rec f = \\n -> f n in f 1",
        "(let rec f (lambda (params n) (app f n)) (app f 1))",
    );
    check_expr("let x : Integer = 1 in x", "(let x (: Integer) 1 x)");
    check_expr("let a = 1 in let b = a in b", "(let a 1 (let b a b))");
    check_expr("let a = let b = 1 in b in a", "(let a (let b 1 b) a)");
    check_expr(
        "let rec f = (\\x -> x) in f",
        "(let rec f (lambda (params x) x) f)",
    );
    check_expr("if a then b else if c then d else e", "(if a b (if c d e))");
    check_expr("if if a then b else c then d else e", "(if (if a b c) d e)");
}

#[test]
fn records_lists_annotations() {
    check_expr("{}", "(record)");
    check_expr("{ a = 1, b = 2, }", "(record (a 1) (b 2))");
    check_expr(
        "{ type = \"web\", if = 1, DB_URL = \"x\" }",
        r#"(record (type "web") (if 1) (DB_URL "x"))"#,
    );
    check_expr("{ ...base }", "(record (... base))");
    check_expr("{ ...base, }", "(record (... base))");
    check_expr(
        "{ ...{ host = \"h\" }, port = 8080, tls = true }",
        r#"(record (... (record (host "h"))) (port 8080) (tls true))"#,
    );
    check_expr("[]", "(list)");
    check_expr("[1, 2,]", "(list 1 2)");
    check_expr("[[1], []]", "(list (list 1) (list))");
    check_expr("(x : Integer)", "(: x Integer)");
    check_expr(
        "(x : Integer where x > 0)",
        "(: x (refined Integer (where (> x 0))))",
    );
    check_expr("f (x : T) y", "(app f (: x T) y)");
}

#[test]
fn match_expressions() {
    check_expr(
        "match x { 1 => a, _ => b, }",
        "(match x (case 1 a) (case _ b))",
    );
    check_expr("match f x { _ => 1 }", "(match (app f x) (case _ 1))");
    check_expr(
        "match { a = 1 } { { a } => a }",
        "(match (record (a 1)) (case (record-pat (a a)) a))",
    );
    check_expr(
        "match (f { a = 1 }) { _ => 1 }",
        "(match (app f (record (a 1))) (case _ 1))",
    );
    check_expr(
        "match [f { a = 1 }] { _ => 1 }",
        "(match (list (app f (record (a 1)))) (case _ 1))",
    );
    check_expr(
        "match x { _ => f { a = 1 } }",
        "(match x (case _ (app f (record (a 1)))))",
    );
    check_expr(
        "match x { a when a > 1 && b => \\y -> y, _ => 0 }",
        "(match x (case a (when (&& (> a 1) b)) (lambda (params y) y)) (case _ 0))",
    );
    check_expr(
        "match match x { _ => y } { _ => z }",
        "(match (match x (case _ y)) (case _ z))",
    );
}

#[test]
fn patterns() {
    check_expr(
        "match x { _ => 0, v => 0, 42 => 0, -1 => 0, -2.5 => 0, 0.5 => 0, \"s\" => 0, true => 0, () => 0 }",
        r#"(match x (case _ 0) (case v 0) (case 42 0) (case -1 0) (case -2.5 0) (case 0.5 0) (case "s" 0) (case true 0) (case () 0))"#,
    );
    check_expr("match x { None => 0, Some (Ok v) => v, Some(v) => v, m.C => 0, m.C p => p }",
        "(match x (case None 0) (case (Some (Ok v)) v) (case (Some v) v) (case m.C 0) (case (m.C p) p))");
    check_expr(
        "match x { Some None => 0, Some m.C => 1 }",
        "(match x (case (Some None) 0) (case (Some m.C) 1))",
    );
    check_expr("match x { { f = p, g, .. } => 0, { .. } => 1, {} => 2, { type = t } => t }",
        "(match x (case (record-pat (f p) (g g) ..) 0) (case (record-pat ..) 1) (case (record-pat) 2) (case (record-pat (type t)) t))");
    check_expr("match x { [] => 0, [a] => a, [a, [b, c],] => b, (v) => v }",
        "(match x (case (list-pat) 0) (case (list-pat a) a) (case (list-pat a (list-pat b c)) b) (case v v))");
    check_expr("match x { - 3 => 0 }", "(match x (case -3 0))");
}

#[test]
fn pattern_spans() {
    let parsed = parse_str("match x { -1 => 0, Some (Ok v) => v }");
    let Some(ast::Expr {
        kind: ExprKind::Match { cases, .. },
        ..
    }) = &parsed.module.body
    else {
        panic!("not a match");
    };
    assert_eq!(cases[0].pat.span, Span::new(10, 12));
    assert_eq!(cases[1].pat.span, Span::new(19, 30));
    assert_eq!(cases[0].span, Span::new(10, 17));
}

// ---------------------------------------------------------------- types

fn check_type(src: &str, expect: &str) {
    let text = format!("let x : {src} = 1;");
    let parsed = parse_str(&text);
    assert!(
        parsed.diagnostics.is_empty(),
        "unexpected errors for {src:?}:\n{}",
        errors(&parsed)
    );
    check_invariants(&text, &parsed.module);
    let Some(ast::Decl {
        kind: ast::DeclKind::Let(decl),
        ..
    }) = parsed.module.decls.first()
    else {
        panic!("no declaration");
    };
    let ty = decl.ann.as_ref().expect("annotation");
    assert_eq!(dump::dump_type(ty), expect, "for {src:?}");
}

#[test]
fn types() {
    check_type("Integer", "Integer");
    check_type("'a", "'a");
    check_type("a", "'a");
    check_type("List 'a", "(List 'a)");
    check_type("Map k (List v)", "(Map 'k (List 'v))");
    check_type("m.T 'a", "(m.T 'a)");
    check_type("m.T", "m.T");
    check_type("[String]", "([] String)");
    check_type("'a -> 'b -> 'c", "(-> 'a (-> 'b 'c))");
    check_type(
        "('a -> 'b) -> List 'a -> List 'b",
        "(-> (-> 'a 'b) (-> (List 'a) (List 'b)))",
    );
    check_type("{}", "(record-type)");
    check_type(
        "{ a: Integer, type: String, }",
        "(record-type (a Integer) (type String))",
    );
    check_type("{ a: Integer | 'r }", "(record-type (a Integer) (| 'r))");
    check_type("{ | r }", "(record-type (| 'r))");
    check_type(
        "Render 'a => 'a -> String",
        "(=> (context (Render 'a)) (-> 'a String))",
    );
    check_type(
        "(Eq 'a, m.Show 'b) => 'a",
        "(=> (context (Eq 'a) (m.Show 'b)) 'a)",
    );
    check_type("(Eq 'a) => 'a", "(=> (context (Eq 'a)) 'a)");
    check_type("(Integer)", "Integer");
    check_type("(Integer) -> Integer", "(-> Integer Integer)");
    check_type(
        "List (Integer where x > 0)",
        "(List (refined Integer (where (> x 0))))",
    );
    check_type(
        "Integer with >= 0 with <= 100",
        "(refined Integer (>= 0) (<= 100))",
    );
    check_type(
        "Integer with >= 1 + 2 where x % 2 == 0",
        "(refined Integer (>= (+ 1 2)) (where (== (% x 2) 0)))",
    );
    check_type(
        "String with pattern(\"[a-z]+\") with regexp(\"\\\\d\")",
        r#"(refined String (pattern "[a-z]+") (regexp "\\d"))"#,
    );
    check_type(
        "String with startsWith(\"https://\") with v.check(1, 2,) with f()",
        r#"(refined String (call startsWith "https://") (call v.check 1 2) (call f))"#,
    );
    check_type(
        "{ from: Integer, to: Integer } where x.from < x.to",
        "(refined (record-type (from Integer) (to Integer)) (where (< (. x from) (. x to))))",
    );
    check_type(
        "{ port: Integer where x > 0, host: String }",
        "(record-type (port (refined Integer (where (> x 0)))) (host String))",
    );
}

// ---------------------------------------------------------------- declarations

#[test]
fn type_declarations() {
    check(
        "type Env = Dev | Staging | Prod;",
        "(type Env @0..32 (union Dev Staging Prod))",
    );
    check("type T = | A;", "(type T @0..13 (union A))");
    check(
        "type S = | String String;",
        "(type S @0..25 (union (String String)))",
    );
    check(
        "type T 'a b = A 'a | B (List b) | C { x: 'a };",
        "(type T 'a 'b @0..46 (union (A 'a) (B (List 'b)) (C (record-type (x 'a)))))",
    );
    check(
        "type Id = Id Integer;",
        "(type Id @0..21 (lone (Id Integer) (Id Integer)))",
    );
    check(
        "type Count = Integer;",
        "(type Count @0..21 (lone Integer Integer))",
    );
    check(
        "type L = List (Option 'a);",
        "(type L @0..26 (lone (List (Option 'a)) (List (Option 'a))))",
    );
    check(
        "type M = Map String Integer;",
        "(type M @0..28 (alias (Map String Integer)))",
    );
    check("type Q = m.T;", "(type Q @0..13 (alias m.T))");
    check(
        "type F = Integer -> Integer;",
        "(type F @0..28 (alias (-> Integer Integer)))",
    );
    check(
        "type P = Integer where x > 0;",
        "(type P @0..29 (alias (refined Integer (where (> x 0)))))",
    );
    check(
        "type R = { a: Integer };",
        "(type R @0..24 (alias (record-type (a Integer))))",
    );
    check("type V = 'a;", "(type V @0..12 (alias 'a))");
}

#[test]
fn lone_variant_keeps_dense_ids_after_backtracking() {
    let parsed = parse_str("type P = Integer with >= 0 where x > 0; 1 + 2");
    assert!(parsed.diagnostics.is_empty(), "{}", errors(&parsed));
    check_invariants(
        "type P = Integer with >= 0 where x > 0; 1 + 2",
        &parsed.module,
    );
    assert_eq!(parsed.module.n_exprs, 7);
}

#[test]
fn classes_and_instances() {
    check(
        "typeclass Labelled 'a where superclass Render 'a, Show 'a; label : 'a -> String; label = \\v -> render v;",
        "(typeclass Labelled 'a @0..104\n  (superclass (Render 'a))\n  (superclass (Show 'a))\n  (sig label (-> 'a String))\n  (default label (lambda (params v) (app render v))))",
    );
    check(
        "typeclass C 'a 'b where\nlet x = 1;",
        "(typeclass C 'a 'b @0..23)\n(let x @24..34 1)",
    );
    check(
        "instance Render Integer where render = \\n -> toString n;",
        "(instance Render Integer @0..56 (method render (lambda (params n) (app toString n))))",
    );
    check(
        "instance (Eq 'a, Show 'a) => m.Show (Pair 'a) where\n1",
        "(instance (context (Eq 'a) (Show 'a)) m.Show (Pair 'a) @0..51)\n(body @52..53 1)",
    );
    check("instance Render 'a => Render (List 'a) where r = 1; s = 2;\nx",
        "(instance (context (Render 'a)) Render (List 'a) @0..58 (method r 1) (method s 2))\n(body @59..60 x)");
}

#[test]
fn lets_exports_imports() {
    check("let x = 1;\nlet rec f : Integer -> Integer = \\n -> f n;",
        "(let x @0..10 1)\n(let rec f @11..54 (: (-> Integer Integer)) (lambda (params n) (app f n)))");
    check("export let x = 1; export type T = A | B; export typeclass C 'a where c : 'a;",
        "(export let x @0..17 1)\n(export type T @18..40 (union A B))\n(export typeclass C 'a @41..76 (sig c 'a))");
    check("export a, B as c, d,;", "(export-list a (B as c) d @0..21)");
    check("export { a, b as c };", "(export-list a (b as c) @0..21)");
    check("module M;\nimport std;\nimport std.core as c;\nimport \"./a\" { x, y as z, };\nimport { A } from \"../b.lig\";",
        "(module M)\n(import std @10..21)\n(import std.core (as c) @22..43)\n(import \"./a\" (items x (y as z)) @44..72)\n(import \"../b.lig\" (items A) @73..102)");
}

#[test]
fn top_level_let_followed_by_in_is_the_trailing_expression() {
    check(
        "let a = 1;\nlet b = 2 in a + b",
        "(let a @0..10 1)\n(body @11..29 (let b 2 (+ a b)))",
    );
    check(
        "let b = 2 in let c = 3 in b;",
        "(body @0..27 (let b 2 (let c 3 b)))",
    );
    check("let x = 1;\nx;", "(let x @0..10 1)\n(body @11..12 x)");
    check("", "");
    check("// only a comment", "");
}

// ---------------------------------------------------------------- errors (section 13)

/// Each source with its expected diagnostics, `CODE start..end: message`.
fn check_errs(cases: &[(&str, &str)]) {
    for (src, expect) in cases {
        check_err(src, expect);
    }
}

#[test]
fn lexical_errors() {
    check_errs(&[
        ("\"abc", "E1002 0..1: unterminated string literal: missing the closing `\"`"),
        ("\"a\\", "E1002 0..1: unterminated string literal: missing the closing `\"`"),
        ("1 /* x", "E1003 2..4: unterminated block comment: `/*` without `*/`"),
        ("1 /* x */ /* y", "E1003 10..12: unterminated block comment: `/*` without `*/`"),
        ("99999999999999999999", "E1004 0..20: integer literal is too large: the largest Integer is 9223372036854775807"),
        ("9223372036854775808", "E1004 0..19: integer literal is too large: the largest Integer is 9223372036854775807"),
        ("12px", "E1005 0..4: malformed number `12px`"),
        ("1_000", "E1005 0..5: malformed number `1_000`"),
        ("1e", "E1005 0..2: malformed number `1e`"),
        ("1.2.3", "E1005 0..5: malformed number `1.2.3`"),
        ("1e400", "E1005 0..5: float literal is too large: it rounds to infinity"),
        ("0x10", "E1005 0..4: malformed number `0x10`"),
        ("a $ b", "E1006 2..3: invalid character `$`"),
        ("a & b", "E1006 2..3: invalid character `&`"),
        ("caf\u{e9}", "E1006 3..5: invalid character `\u{e9}`"),
        ("x \u{e9}\u{e8} y", "E1006 2..6: invalid characters `\u{e9}\u{e8}`"),
        ("'1", "E1006 0..1: expected a type variable name after `'`"),
        ("\"\\d\"", "E1008 1..3: invalid escape sequence `\\d`"),
        ("\"\\.\" ++ \"\\q\"", "E1008 1..3: invalid escape sequence `\\.`\nE1008 9..11: invalid escape sequence `\\q`"),
        ("\"\\u{D800}\"", "E1008 1..9: invalid unicode escape `\\u{D800}`: expected `\\u{H}` with 1 to 6 hex digits naming a Unicode scalar value"),
        ("\"\\u{110000}\"", "E1008 1..11: invalid unicode escape `\\u{110000}`: expected `\\u{H}` with 1 to 6 hex digits naming a Unicode scalar value"),
        ("\"\\u{}\"", "E1008 1..5: invalid unicode escape `\\u{}`: expected `\\u{H}` with 1 to 6 hex digits naming a Unicode scalar value"),
        ("\"\\u{0000001}\"", "E1008 1..12: invalid unicode escape `\\u{0000001}`: expected `\\u{H}` with 1 to 6 hex digits naming a Unicode scalar value"),
        ("\"\\u12\"", "E1008 1..3: invalid unicode escape `\\u`: expected `\\u{H}` with 1 to 6 hex digits naming a Unicode scalar value"),
        ("\"\\u{12\"", "E1008 1..6: invalid unicode escape `\\u{12`: expected `\\u{H}` with 1 to 6 hex digits naming a Unicode scalar value"),
    ]);
    check_expr("\"\\u{10FFFF}\\u{0}\"", r#""\u{10ffff}\0""#);
}

#[test]
fn lexical_errors_do_not_cascade_into_parse_errors() {
    // The invalid tokens stand in for an expression; the parser stays quiet.
    check_err(
        "let x = 12px + 1;\nlet y = \"\\d\";",
        "E1005 8..12: malformed number `12px`\nE1008 27..29: invalid escape sequence `\\d`",
    );
    check_err("let x = [1, 2e];", "E1005 12..14: malformed number `2e`");
    check_err("match x { 1x => 1 }", "E1005 10..12: malformed number `1x`");
    check_err(
        "let x : List 'a = 'b;",
        "E1001 18..20: expected an expression, found type variable `'b`",
    );
}

#[test]
fn chained_comparisons() {
    check_errs(&[
        ("a < b < c", "E1007 6..7: comparison operators cannot be chained"),
        ("a <= b > c >= d", "E1007 7..8: comparison operators cannot be chained"),
        ("a == b != c", "E1007 7..9: equality operators cannot be chained"),
        ("a == b == c && x < y < z", "E1007 7..9: equality operators cannot be chained\nE1007 21..22: comparison operators cannot be chained"),
        ("a < b == c < d", ""),
        ("(a < b) < c", ""),
        ("a < (b < c)", ""),
    ]);
}

#[test]
fn duplicate_names() {
    check_errs(&[
        ("{ a = 1, a = 2 }", "E1010 9..10: field `a` appears twice"),
        (
            "{ ...r, a = 1, b = 1, a = 2 }",
            "E1010 22..23: field `a` appears twice",
        ),
        ("\\x x -> x", "E1010 3..4: parameter `x` appears twice"),
        (
            "\\x (y : T) _ _ (x : U) -> x",
            "E1010 16..17: parameter `x` appears twice",
        ),
        (
            "match v { [a, Some { b = a }] => 1 }",
            "E1010 25..26: pattern variable `a` appears twice",
        ),
        (
            "match v { { a, b = a } => 1 }",
            "E1010 19..20: pattern variable `a` appears twice",
        ),
        ("match v { [a, b] => 1, [a, c] => 2 }", ""),
        (
            "let x : { a: Integer, a: String } = 1;",
            "E1010 22..23: field `a` appears twice",
        ),
        (
            "match v { { a = 1, a = 2 } => 1 }",
            "E1010 19..20: field `a` appears twice",
        ),
        ("match v { _ => 1, _ => 2 }", ""),
    ]);
    let many = (0..40)
        .map(|it| format!("f{it} = 1"))
        .collect::<Vec<_>>()
        .join(", ");
    check_err(
        &format!("{{ {many}, f7 = 2 }}"),
        "E1010 352..354: field `f7` appears twice",
    );
}

#[test]
fn rec_must_be_a_lambda() {
    check_errs(&[
        (
            "let rec count = 42;",
            "E1011 16..18: the right-hand side of `let rec` must be a lambda",
        ),
        (
            "let rec f = (\\x -> x : T) in f",
            "E1011 12..25: the right-hand side of `let rec` must be a lambda",
        ),
        (
            "let rec f = g \\x -> x in f",
            "E1011 12..21: the right-hand side of `let rec` must be a lambda",
        ),
        ("let rec f = ((\\x -> x));", ""),
        ("let rec f : Integer -> Integer = \\x -> x;", ""),
    ]);
}

#[test]
fn unexpected_tokens() {
    check_errs(&[
        ("let x = 1;\nimport std;", "E1001 11..17: unexpected `import` after a declaration"),
        ("(1, 2)", "E1001 2..3: expected `)`, found `,`"),
        ("let x = -(1, 2);", "E1001 11..12: expected `)`, found `,`"),
        ("(1, 2) x", "E1001 2..3: expected `)`, found `,`"),
        ("let x = 1\nlet y = 2;", "E1001 10..13: expected `;` after the declaration, found keyword `let`"),
        ("let x = f a\nlet y = 2;", "E1001 12..15: expected `;` after the declaration, found keyword `let`"),
        ("let x = if a then b;", "E1001 19..20: expected `else`, found `;`"),
        ("let x = if a b else c;", "E1001 15..19: expected `then` after the condition, found keyword `else`"),
        ("let type = 1;", "E1001 4..8: expected a name to bind, found keyword `type`"),
        ("let X = 1;", "E1001 4..5: expected a name to bind, found `X`"),
        ("type t = A;", "E1001 5..6: expected a type name, found `t`"),
        ("{ a: 1 }", "E1001 3..4: expected `=` after the field name, found `:`"),
        ("\\a b : T -> a", "E1001 5..6: expected `->`, found `:`"),
        ("\\ -> 1", "E1001 2..4: expected a parameter after `\\`, found `->`"),
        ("f x; g y", "E1001 5..6: expected end of file after the final expression, found `g`"),
        ("let x = 1 in x; let y = 2;", "E1001 16..19: expected end of file after the final expression, found keyword `let`"),
        ("type T = A | ;", "E1001 13..14: expected a constructor name, found `;`"),
        ("instance Eq 'a => Eq 'b => Eq (L 'a) where", "E1001 24..26: expected `where`, found `=>`"),
        ("match x { }", "E1001 10..11: expected a pattern, found `}`"),
        ("match x", "E1001 7..7: expected `{` after the scrutinee of `match`, found end of file"),
        ("match x { a -> 1 }", "E1001 12..14: expected `=>`, found `->`"),
        ("let x = ;", "E1001 8..9: expected an expression, found `;`"),
        ("export let x = 1 in x", "E1001 17..19: expected `;` after the exported declaration, found keyword `in`"),
        (")", "E1001 0..1: expected an expression, found `)`"),
        ("let x = 1;;", "E1001 10..11: expected a declaration or an expression, found `;`"),
        ("match x { (a, b) => 1 }", "E1001 12..13: expected `)`, found `,`"),
        ("let x : (A, B) = 1;", "E1001 10..11: expected `)`, found `,`"),
        ("type T = Integer with foo;", "E1001 25..26: expected `(` after the constraint function, found `;`"),
        ("type T = Integer with 5;", "E1001 22..23: expected a constraint after `with` (`>= e`, `<= e`, `regexp(\"...\")`, `pattern(\"...\")` or `f(...)`), found number `5`"),
        ("let x : 'a -> = 1;", "E1001 14..15: expected a type, found `=`"),
        ("let x : { a | 1 } = 1;", "E1001 12..13: expected `:`, found `|`"),
        ("let x : A -> B => C = 1;", "E1001 15..17: expected `=`, found `=>`"),
        ("let x : (A -> B) => C = 1;", "E1001 9..15: expected a class constraint such as `Render 'a` before `=>`"),
        ("[1, 2", "E1001 5..5: expected `]`, found end of file"),
        ("f (a b", "E1001 6..6: expected `)`, found end of file"),
        ("{ a = 1 ", "E1001 8..8: expected `}`, found end of file"),
        ("r.1", "E1001 2..3: expected a field name, found number `1`"),
        ("import std.core", "E1001 15..15: expected `;` after the import, found end of file"),
        ("import { a } \"x\";", "E1001 13..16: expected `from` after the import list, found a string literal"),
        ("import std as M;", "E1001 14..15: expected a module alias (a lower-case name), found `M`"),
        ("module m;", "E1001 7..8: expected a module name, found `m`"),
        ("let x = 1;\nmodule M;", "E1001 11..17: expected a declaration, found keyword `module`"),
        ("export instance;", "E1001 7..15: expected a name, found keyword `instance`"),
        ("typeclass C where", "E1001 12..17: expected a type variable (a class has at least one parameter), found keyword `where`"),
        ("typeclass C 'a\nlet x = 1;", "E1001 15..18: expected `where`, found keyword `let`"),
        ("match x { - a => 1 }", "E1001 12..13: expected a number after `-` in a pattern, found `a`"),
        ("match x { { A } => 1 }", "E1001 14..15: expected `=`, found `}`"),
        ("let x = { if };", "E1001 13..14: expected `=` after the field name, found `}`"),
    ]);
}

#[test]
fn messages_have_help_where_obvious() {
    let help = |src: &str| {
        let parsed = parse_str(src);
        parsed
            .diagnostics
            .first()
            .and_then(|it| it.help.clone())
            .unwrap_or_default()
    };
    assert_eq!(
        help("let x = 1\nlet y = 2;"),
        "add `;` to end the declaration"
    );
    assert_eq!(
        help("if a then b"),
        "an `if` expression needs an `else` branch"
    );
    assert_eq!(
        help("(1, 2)"),
        "Ligature has no tuples: use a record, or `f(a, b)` to pass several arguments"
    );
    assert_eq!(
        help("let x = 1;\nimport std;"),
        "move the imports to the top of the file"
    );
    assert_eq!(help("let if = 1;"), "`if` is a reserved word");
    let parsed = parse_str("[1, 2");
    let labels: Vec<_> = parsed.diagnostics[0]
        .labels
        .iter()
        .map(|it| (it.span.span, it.message.clone()))
        .collect();
    assert_eq!(
        labels[1],
        (Span::new(0, 1), "unclosed delimiter".to_owned())
    );
}

// ---------------------------------------------------------------- recovery

#[test]
fn recovery_reports_one_error_per_declaration() {
    check_err(
        "let x = (1 + ;\nlet y = [1, 2 let z = 3;\nlet w = 1 2 ) 4;\nlet ok = 1;",
        "E1001 13..14: expected an expression, found `;`\nE1001 29..32: expected `]`, found keyword `let`\nE1001 52..53: expected `;` after the declaration, found `)`",
    );
    let parsed = parse_str("let a = ;\nlet b = 1;\ntype T = ;\ntype U = A;\nlet c = 2");
    assert_eq!(errors(&parsed), "E1001 8..9: expected an expression, found `;`\nE1001 30..31: expected a type, found `;`\nE1001 53..53: expected `;` after the declaration, found end of file");
    let names: Vec<String> = parsed
        .module
        .decls
        .iter()
        .map(|it| match &it.kind {
            ast::DeclKind::Let(it) => it.name.name.to_string(),
            ast::DeclKind::Type(it) => it.name.name.to_string(),
            _ => String::new(),
        })
        .collect();
    assert_eq!(names, ["a", "b", "T", "U", "c"]);
}

#[test]
fn recovery_keeps_lexical_and_soft_errors() {
    check_err(
        "let a = { x = 1, x = 2 };\nlet b = \"\\d\" < 1 < 2;\nlet c = if;\nlet rec d = 1;",
        "E1010 17..18: field `x` appears twice\nE1008 35..37: invalid escape sequence `\\d`\nE1007 43..44: comparison operators cannot be chained\nE1001 58..59: expected an expression, found `;`\nE1011 72..73: the right-hand side of `let rec` must be a lambda",
    );
}

#[test]
fn recovery_in_class_bodies_and_imports() {
    check_err(
        "import std.core as;\nimport std;\ntypeclass C 'a where\n  f : 'a -> ;\n  g : 'a;\nlet x = 1;",
        "E1001 18..19: expected a module alias (a lower-case name), found `;`\nE1001 65..66: expected a type, found `;`",
    );
}

#[test]
fn error_placeholders_are_in_the_tree() {
    let parsed = parse_str("let x = 1 + ;\n");
    assert_eq!(
        dump::dump(&parsed.module).trim(),
        "(let x @0..13 (+ 1 <error>))"
    );
    let parsed = parse_str("let x : -> = 1;\n");
    assert_eq!(
        dump::dump(&parsed.module).trim(),
        "(let x @0..15 (: (-> <error> <error>)) 1)"
    );
    let parsed = parse_str("match x { [ => 1 }");
    assert!(dump::dump(&parsed.module).contains("<error>"));
}

// ---------------------------------------------------------------- nesting (section 12.4)

/// Runs `f` on a thread with a 128 MB stack: the parser alone, unoptimised, at its budget of
/// 20,100 nested constructs (the type parser's frames take about 3.5 KB a level in debug
/// builds). The library itself moves a call onto a big stack (`par::on_pipeline_stack`).
fn on_stack<R: Send + 'static>(f: impl FnOnce() -> R + Send + 'static) -> R {
    std::thread::Builder::new()
        .stack_size(128 << 20)
        .spawn(f)
        .expect("spawn test thread")
        .join()
        .expect("test thread panicked")
}

/// Every nesting construct at `n` levels (chains, which are not nesting, are in
/// `let_and_else_if_chains_are_not_nesting`).
fn deep_cases(n: usize) -> Vec<(&'static str, String)> {
    let rep = |s: &str, k: usize| s.repeat(k);
    vec![
        ("parens", format!("{}1{}", rep("(", n), rep(")", n))),
        ("lists", format!("{}1{}", rep("[", n), rep("]", n))),
        ("records", format!("{}1{}", rep("{ a = ", n), rep(" }", n))),
        (
            "let values",
            format!("{}1{}", rep("let x = ", n), rep(" in x", n)),
        ),
        (
            "if conditions",
            format!("{}c{}", rep("if ", n), rep(" then 1 else 2", n)),
        ),
        ("lambdas", format!("{}x", rep("\\x -> ", n))),
        (
            "matches",
            format!("{}x{}", rep("match x { _ => ", n), rep(" }", n)),
        ),
        ("negations", format!("{}x", rep("- ", n))),
        ("nots", format!("{}x", rep("!", n))),
        ("sums", format!("1{}", rep(" + 1", n - 1))),
        (
            "right sums",
            format!("{}1{}", rep("1 + (", n / 2), rep(")", n / 2)),
        ),
        ("fields", format!("r{}", rep(".f", n - 1))),
        ("args", format!("{}x{}", rep("f (", n), rep(")", n))),
        (
            "list patterns",
            format!("match x {{ {}a{} => 1 }}", rep("[", n - 1), rep("]", n - 1)),
        ),
        (
            "ctor patterns",
            format!(
                "match x {{ {}a{} => 1 }}",
                rep("C (", n - 1),
                rep(")", n - 1)
            ),
        ),
        (
            "list types",
            format!("let x : {}A{} = 1;", rep("[", n - 2), rep("]", n - 2)),
        ),
        (
            "arrow types",
            format!("let x : A{} = 1;", rep(" -> A", n - 2)),
        ),
        (
            "record types",
            format!("let x : {}A{} = 1;", rep("{ a: ", n - 2), rep(" }", n - 2)),
        ),
    ]
}

#[test]
fn ten_thousand_levels_are_accepted_in_every_construct() {
    on_stack(|| {
        for (name, src) in deep_cases(MAX_NESTING as usize) {
            let parsed = parse_str(&src);
            assert!(parsed.diagnostics.is_empty(), "{name}: {}", errors(&parsed));
        }
    });
}

#[test]
fn deeper_nesting_is_e1009_once() {
    on_stack(|| {
        for (name, src) in deep_cases(NESTING_BUDGET as usize + 10) {
            let parsed = parse_str(&src);
            let codes: Vec<_> = parsed.diagnostics.iter().map(|it| it.code).collect();
            assert_eq!(codes, vec![Code::E1009], "{name}: {}", errors(&parsed));
        }
        for (name, src) in [
            (
                "100k parens",
                "(".repeat(100_000) + "1" + &")".repeat(100_000),
            ),
            ("100k unclosed", "[".repeat(100_000)),
        ] {
            let parsed = parse_str(&src);
            let codes: Vec<_> = parsed.diagnostics.iter().map(|it| it.code).collect();
            assert_eq!(codes, vec![Code::E1009], "{name}: {}", errors(&parsed));
        }
    });
}

#[test]
fn let_and_else_if_chains_are_not_nesting() {
    on_stack(|| {
        for (name, src) in [
            ("100k let chain", "let x = 1 in ".repeat(100_000) + "x"),
            ("100k else if", "if c then 1 else ".repeat(100_000) + "0"),
        ] {
            let parsed = parse_str(&src);
            assert!(parsed.diagnostics.is_empty(), "{name}: {}", errors(&parsed));
        }
    });
}

#[test]
fn nesting_error_points_at_the_first_token_too_deep() {
    let n = NESTING_BUDGET as usize + 1;
    let src = "(".repeat(n) + "1" + &")".repeat(n);
    let parsed = on_stack(move || {
        let parsed = parse_str(&src);
        errors(&parsed)
    });
    let at = NESTING_BUDGET; // the 20,101st `(` starts at byte 20,100
    assert_eq!(
        parsed,
        format!(
            "E1009 {at}..{}: nesting too deep: more than 20100 nested constructs",
            at + 1
        )
    );
}

#[test]
fn huge_string_literal() {
    let src = format!("\"{}\"", "x".repeat(10 << 20));
    let parsed = parse_str(&src);
    assert!(parsed.diagnostics.is_empty());
    let Some(ast::Expr {
        kind: ExprKind::Str(value),
        ..
    }) = &parsed.module.body
    else {
        panic!("not a string");
    };
    assert_eq!(value.len(), 10 << 20);
}

// ---------------------------------------------------------------- robustness

/// A program touching most of the grammar, used for prefixes and mutations.
const SAMPLE: &str = r#"module Sample;
import std.core;
import std.validation as v;
import { a, b as c } from "./net";
type Env = Dev | Staging | Prod;
type Port = Integer where x >= 1 && x <= 65535;
type Check 'a = Pass | Fail { reason: String, value: 'a };
type Id = Id Integer;
type S = String with pattern("[a-z]+") with startsWith("x") with >= 1;
type R = { a: Integer, b: [String] | 'r };
typeclass Render 'a where
    superclass Show 'a;
    render : 'a -> String;
    render = \v -> "<" ++ show v ++ ">";
instance (Render 'a, Eq 'a) => Render (List 'a) where
    render = \xs -> fold (\acc x -> acc ++ render x) "" xs;
export let base = 8000;
let rec pow2 = \n -> if n == 0 then 1 else 2 * pow2 (n - 1);
let r = { type = "web", port = base + 80, tags = ["a", "b\n\u{e9}"] };
let s = { ...r, port = -1 };
let m = match Some 4 { Some n when n > 5 => "big", Some (Ok { a, .. }) => a, m.C [x, -2.5] => x, _ => "none" };
let f = \(x : Integer) _ -> (x : Integer) + f(1, 2) r.port;
/* block */ -- line
export a, b as c;
let x = 1 in let y = x in !y || -x < 3 && f() >= 2.5e3
"#;

/// Parses `src` and checks the tree invariants; any panic fails the test.
fn robust(src: &str) {
    let owned = src.to_owned();
    let res = std::panic::catch_unwind(move || {
        let parsed = parse_str(&owned);
        check_invariants(&owned, &parsed.module);
    });
    assert!(res.is_ok(), "failed on {src:?}");
    let parsed = parse_str(src);
    for diagnostic in &parsed.diagnostics {
        let span = diagnostic.primary().unwrap_or_default().span;
        assert!(
            span.start <= span.end && span.end as usize <= src.len(),
            "{src:?}: {diagnostic:?}"
        );
    }
}

struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

#[test]
fn sample_parses_cleanly() {
    let parsed = parse_str(SAMPLE);
    assert!(parsed.diagnostics.is_empty(), "{}", errors(&parsed));
    check_invariants(SAMPLE, &parsed.module);
}

#[test]
fn every_prefix_of_a_valid_program_parses_without_panic() {
    for end in 0..=SAMPLE.len() {
        if let Some(prefix) = SAMPLE.get(..end) {
            robust(prefix);
        }
    }
}

#[test]
fn token_soups_parse_without_panic() {
    const VOCAB: &[&str] = &[
        "let",
        "rec",
        "in",
        "if",
        "then",
        "else",
        "match",
        "when",
        "type",
        "typeclass",
        "instance",
        "where",
        "with",
        "superclass",
        "export",
        "import",
        "from",
        "as",
        "module",
        "true",
        "false",
        "x",
        "f",
        "C",
        "m",
        "_",
        "'a",
        "0",
        "12",
        "2.5",
        "1e3",
        "\"s\"",
        "\"\\u{41}\"",
        "(",
        ")",
        "[",
        "]",
        "{",
        "}",
        ",",
        ";",
        ":",
        ".",
        "..",
        "...",
        "=",
        "==",
        "!=",
        "<",
        "<=",
        ">",
        ">=",
        "+",
        "-",
        "*",
        "/",
        "%",
        "++",
        "&&",
        "||",
        "!",
        "->",
        "=>",
        "|",
        "\\",
        "regexp",
        "pattern",
        "\n",
        "// c\n",
        "/* c */",
        "12px",
        "\"\\d\"",
        "$",
        "'",
        "\u{e9}",
    ];
    let mut rng = Lcg(0x5eed);
    for _ in 0..4000 {
        let len = rng.below(40);
        let mut src = String::new();
        for _ in 0..len {
            src.push_str(VOCAB[rng.below(VOCAB.len())]);
            src.push(' ');
        }
        robust(&src);
    }
}

#[test]
fn mutated_programs_parse_without_panic() {
    let mut rng = Lcg(42);
    let bytes = SAMPLE.as_bytes();
    for _ in 0..1500 {
        let mut text = bytes.to_vec();
        for _ in 0..1 + rng.below(4) {
            let at = rng.below(text.len());
            match rng.below(3) {
                0 => {
                    text.remove(at);
                }
                1 => {
                    let byte = bytes[rng.below(bytes.len())];
                    text.insert(at, byte);
                }
                _ => {
                    let from = rng.below(text.len());
                    let byte = text[from];
                    text[at] = byte;
                }
            }
        }
        if let Ok(src) = std::str::from_utf8(&text) {
            robust(src);
        }
    }
}

#[test]
fn unbalanced_brackets_parse_without_panic() {
    for src in [
        "(((",
        ")))",
        "[[[",
        "]]]",
        "{{{",
        "}}}",
        "(]",
        "[)",
        "{)",
        "match x { (",
        "let x = (;",
        "\\(",
        "type T = (;",
    ] {
        robust(src);
        let deep = src.repeat(3000);
        on_stack(move || robust(&deep));
    }
}

// ---------------------------------------------------------------- fixtures

/// Every `ok` fixture parses without diagnostics and with sound spans; every `err` fixture
/// reports at least one. (The fixture harness compares the full outputs.)
#[test]
fn syntax_fixtures_have_the_expected_outcome() {
    on_stack(|| {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/syntax");
        for (dir, want_ok) in [("ok", true), ("err", false)] {
            let mut paths: Vec<_> = std::fs::read_dir(root.join(dir))
                .map(|it| it.filter_map(|it| it.ok().map(|it| it.path())).collect())
                .unwrap_or_default();
            paths.sort();
            assert!(!paths.is_empty(), "no fixtures in {dir}");
            for path in paths
                .iter()
                .filter(|it| it.extension().is_some_and(|ext| ext == "lig"))
            {
                let src = std::fs::read_to_string(path).unwrap_or_default();
                let parsed = parse_str(&src);
                check_invariants(&src, &parsed.module);
                assert_eq!(
                    parsed.diagnostics.is_empty(),
                    want_ok,
                    "{}:\n{}",
                    path.display(),
                    errors(&parsed)
                );
            }
        }
    });
}

/// The tree of a 100,000-binding file lives until lowering: every byte of `Expr` is
/// multiplied by about a million nodes. Box large, rare payloads (types) instead.
#[test]
fn expression_nodes_stay_small() {
    let size = std::mem::size_of::<crate::syntax::ast::Expr>();
    assert!(size <= 80, "Expr grew to {size} bytes");
}

/// The lexer runs in batches of tokens and the parser one item per call (for WebAssembly's
/// tiering, `Lexer::run_batch`, `Parser::parse_item`): a file of many batches lexes and
/// parses exactly as one read straight through would, across every boundary.
#[test]
fn batch_boundaries_change_nothing() {
    // 5 tokens per line: `let`, name, `=`, number, `;` (a level-zero `;` each).
    let n = 3 * 4096 + 17;
    let mut src = String::new();
    for i in 0..n {
        src.push_str(&format!("let x{i} = {i};\n"));
    }
    src.push_str("x0 + 1\n");
    let lexed = lexer::lex(FileId(0), &src);
    assert!(lexed.diagnostics.is_empty());
    assert_eq!(lexed.tokens.len(), 5 * n + 3 + 1);
    assert_eq!(lexed.n_top_semis, n);
    for (i, line) in lexed.tokens.chunks(5).take(n).enumerate() {
        let texts: Vec<&str> = line
            .iter()
            .map(|t| &src[t.span.start as usize..t.span.end as usize])
            .collect();
        assert_eq!(texts, ["let", &format!("x{i}"), "=", &i.to_string(), ";"]);
    }
    let parsed = parse_str(&src);
    assert!(parsed.diagnostics.is_empty(), "{}", errors(&parsed));
    assert_eq!(parsed.module.decls.len(), n);
    assert!(parsed.module.body.is_some());
    // An error in a late batch is found at its place, and the items after it still parse.
    let late = src.replacen("let x12300 = 12300;", "let x12300 = ;", 1);
    let parsed = parse_str(&late);
    assert_eq!(parsed.diagnostics.len(), 1, "{}", errors(&parsed));
    assert_eq!(parsed.module.decls.len(), n);
}
