//! Unit tests of the evaluator: values rendered, operators, built-ins and programs built as
//! ASTs (end-to-end tests from source live in `tests/fixtures/eval`).

use std::sync::Arc;

use crate::diagnostic::Code;
use crate::eval::builtins::parse_int;
use crate::eval::export::{self, format_float, ExportLimits};
use crate::eval::lower::lower;
use crate::eval::machine::{run, Interrupt, Limits};
use crate::eval::ops;
use crate::eval::value::Value;
use crate::source::{FileId, Span};
use crate::syntax::ast::*;
use crate::types::elab::Elaboration;

fn text(v: &Value) -> String {
    export::text::render(v, 10_000).expect("renders")
}

#[test]
fn floats_format_as_specified() {
    let cases = [
        (3.0, "3.0"),
        (0.001, "0.001"),
        (-2.5, "-2.5"),
        (1e16, "1e16"),
        (1.5e-7, "1.5e-7"),
        (0.0, "0.0"),
        (-0.0, "-0.0"),
        (0.1 + 0.2, "0.30000000000000004"),
        (1e6, "1000000.0"),
        (15.75, "15.75"),
        (1e-5, "0.00001"),
        (9.999999999999998e15, "9999999999999998.0"),
        (1.7976931348623157e308, "1.7976931348623157e308"),
    ];
    for (v, want) in cases {
        assert_eq!(format_float(v), want, "{v}");
    }
}

#[test]
fn integer_arithmetic_is_checked() {
    use crate::eval::EvalErrorKind;
    use EvalErrorKind as K;
    assert_eq!(ops::int_arith(BinOp::Div, -9, 4), Ok(-2));
    assert_eq!(ops::int_arith(BinOp::Rem, -9, 4), Ok(-1));
    assert_eq!(ops::int_arith(BinOp::Rem, 9, -4), Ok(1));
    assert_eq!(ops::int_arith(BinOp::Rem, i64::MIN, -1), Ok(0));
    assert!(matches!(
        ops::int_arith(BinOp::Div, i64::MIN, -1),
        Err(K::Overflow { .. })
    ));
    assert!(matches!(
        ops::int_arith(BinOp::Mul, 4611686018427387904, 2),
        Err(K::Overflow { .. })
    ));
    assert_eq!(ops::int_arith(BinOp::Div, 1, 0), Err(K::DivisionByZero));
    assert_eq!(ops::int_arith(BinOp::Rem, 1, 0), Err(K::DivisionByZero));
    assert_eq!(ops::float_arith(BinOp::Div, 7.0, 2.0), Ok(3.5));
    assert_eq!(ops::float_arith(BinOp::Rem, 5.5, 2.0), Ok(1.5));
    assert_eq!(
        ops::float_arith(BinOp::Div, 1.5, -0.0),
        Err(K::DivisionByZero)
    );
    assert!(matches!(
        ops::float_arith(BinOp::Mul, 1.0e308, 10.0),
        Err(K::Overflow { .. })
    ));
}

#[test]
fn parse_int_accepts_sign_and_digits_only() {
    assert_eq!(parse_int("-42"), Some(-42));
    assert_eq!(parse_int("+7"), Some(7));
    assert_eq!(parse_int("007"), Some(7));
    assert_eq!(parse_int("4x"), None);
    assert_eq!(parse_int(""), None);
    assert_eq!(parse_int("-"), None);
    assert_eq!(parse_int(" 1"), None);
    assert_eq!(parse_int("9223372036854775808"), None);
    assert_eq!(parse_int("-9223372036854775808"), Some(i64::MIN));
}

#[test]
fn text_rendering_parenthesises_payloads() {
    let v = Value::some(Value::some(Value::Int(1)));
    assert_eq!(text(&v), "Some (Some 1)");
    assert_eq!(text(&Value::some(Value::Int(-1))), "Some (-1)");
    assert_eq!(
        text(&Value::ctor("Ok", Some(Value::list(vec![Value::Int(1)])))),
        "Ok [1]"
    );
    assert_eq!(
        text(&Value::ctor(
            "Err",
            Some(Value::record(vec![("code", Value::Int(3))]))
        )),
        "Err { code = 3 }"
    );
    assert_eq!(text(&Value::some(Value::none())), "Some None");
    assert_eq!(text(&Value::record(vec![])), "{}");
    assert_eq!(
        text(&Value::str("a\"b\\c\n\u{1}\u{7f}é")),
        "\"a\\\"b\\\\c\\n\\u{1}\\u{7f}é\""
    );
    assert_eq!(text(&Value::Unit), "()");
    assert_eq!(text(&Value::Float(3.0)), "3.0");
}

fn sample() -> Value {
    Value::record(vec![
        ("total", Value::Int(42)),
        (
            "tags",
            Value::list(vec![Value::some(Value::str("x")), Value::none()]),
        ),
        ("empty", Value::list(vec![])),
        ("nested", Value::record(vec![])),
        ("unit", Value::Unit),
        ("f", Value::Float(0.5)),
    ])
}

#[test]
fn json_is_pretty_with_two_spaces() {
    let out = export::json::render(&sample(), &ExportLimits::default()).expect("json");
    let want = "{\n  \"total\": 42,\n  \"tags\": [\n    {\n      \"Some\": \"x\"\n    },\n    \"None\"\n  ],\n  \"empty\": [],\n  \"nested\": {},\n  \"unit\": null,\n  \"f\": 0.5\n}\n";
    assert_eq!(out, want);
    let s = export::json::render(
        &Value::str("q\"\\\n\r\t\u{8}\u{c}\u{1}é"),
        &ExportLimits::default(),
    )
    .expect("json");
    assert_eq!(s, "\"q\\\"\\\\\\n\\r\\t\\b\\f\\u0001é\"\n");
}

#[test]
fn json_rejects_functions_and_large_output() {
    let f = Value::Func(Arc::new(crate::eval::value::Func::Builtin(
        crate::eval::builtins::Builtin::Head,
    )));
    let err = export::json::render(&Value::list(vec![f]), &ExportLimits::default())
        .expect_err("function");
    assert!(matches!(
        err,
        crate::eval::EvalErrorKind::NotExportable { .. }
    ));
    let limits = ExportLimits {
        max_depth: 100,
        max_output_bytes: Some(10),
        ..ExportLimits::default()
    };
    let err = export::json::render(&sample(), &limits).expect_err("too large");
    assert!(matches!(
        err,
        crate::eval::EvalErrorKind::OutputTooLarge { .. }
    ));
}

#[test]
fn yaml_block_style_and_quoting() {
    let v = Value::record(vec![
        ("name", Value::str("api")),
        ("port", Value::str("8080")),
        ("flag", Value::str("true")),
        ("empty", Value::str("")),
        ("space", Value::str(" x")),
        (
            "list",
            Value::list(vec![
                Value::Int(1),
                Value::record(vec![("a", Value::Int(1)), ("b", Value::Unit)]),
            ]),
        ),
        (
            "nested",
            Value::list(vec![Value::list(vec![Value::Int(1), Value::Int(2)])]),
        ),
        ("ctor", Value::some(Value::Int(3))),
        ("none", Value::none()),
        ("e", Value::list(vec![])),
    ]);
    let out = export::yaml::render(&v, &ExportLimits::default()).expect("yaml");
    let want = "name: api\nport: \"8080\"\nflag: \"true\"\nempty: \"\"\nspace: \" x\"\nlist:\n  - 1\n  - a: 1\n    b: null\nnested:\n  - - 1\n    - 2\nctor:\n  Some: 3\nnone: None\ne: []\n";
    assert_eq!(out, want);
}

#[test]
fn toml_tables_after_plain_values() {
    let v = Value::record(vec![
        (
            "db",
            Value::record(vec![("host", Value::str("h")), ("port", Value::Int(5432))]),
        ),
        ("name", Value::str("x")),
        (
            "services",
            Value::list(vec![
                Value::record(vec![("n", Value::Int(1))]),
                Value::record(vec![("n", Value::Int(2))]),
            ]),
        ),
        ("ports", Value::list(vec![Value::Int(1), Value::Int(2)])),
        ("mode", Value::none()),
    ]);
    let out = export::toml::render(&v, &ExportLimits::default()).expect("toml");
    let want = "name = \"x\"\nports = [1, 2]\nmode = \"None\"\n\n[db]\nhost = \"h\"\nport = 5432\n\n[[services]]\nn = 1\n\n[[services]]\nn = 2\n";
    assert_eq!(out, want);
    let err = export::toml::render(
        &Value::record(vec![("u", Value::Unit)]),
        &ExportLimits::default(),
    );
    assert!(err.is_err());
    assert!(export::toml::render(&Value::Int(1), &ExportLimits::default()).is_err());
}

// ---------------------------------------------------------------- programs as ASTs

#[derive(Default)]
struct B {
    next: u32,
}

fn sp() -> Span {
    Span::new(0, 0)
}

fn id(name: &str) -> Ident {
    Ident {
        name: Name::new(name),
        span: sp(),
    }
}

impl B {
    fn e(&mut self, kind: ExprKind) -> Expr {
        self.next += 1;
        Expr {
            kind,
            span: sp(),
            id: ExprId(self.next),
        }
    }
    fn int(&mut self, n: i64) -> Expr {
        self.e(ExprKind::Int(n))
    }
    fn s(&mut self, t: &str) -> Expr {
        self.e(ExprKind::Str(Name::new(t)))
    }
    fn var(&mut self, n: &str) -> Expr {
        self.e(ExprKind::Var(Name::new(n)))
    }
    fn ctor(&mut self, n: &str) -> Expr {
        self.e(ExprKind::Ctor(Name::new(n)))
    }
    fn bin(&mut self, op: BinOp, a: Expr, b: Expr) -> Expr {
        self.e(ExprKind::Binary {
            op,
            op_span: sp(),
            lhs: Box::new(a),
            rhs: Box::new(b),
        })
    }
    fn app(&mut self, f: Expr, args: Vec<Expr>) -> Expr {
        self.e(ExprKind::App {
            func: Box::new(f),
            args,
        })
    }
    fn lam(&mut self, params: &[&str], body: Expr) -> Expr {
        let params = params
            .iter()
            .map(|p| Param {
                name: Some(id(p)),
                ann: None,
                span: sp(),
            })
            .collect();
        self.e(ExprKind::Lambda {
            params,
            body: Box::new(body),
        })
    }
    fn if_(&mut self, c: Expr, t: Expr, f: Expr) -> Expr {
        self.e(ExprKind::If {
            cond: Box::new(c),
            then_branch: Box::new(t),
            else_branch: Box::new(f),
        })
    }
    fn let_(&mut self, rec: bool, n: &str, v: Expr, body: Expr) -> Expr {
        self.e(ExprKind::Let {
            rec,
            name: id(n),
            ann: None,
            value: Box::new(v),
            body: Box::new(body),
        })
    }
    fn record(&mut self, fields: Vec<(&str, Expr)>) -> Expr {
        let fields = fields
            .into_iter()
            .map(|(n, value)| FieldInit { name: id(n), value })
            .collect();
        self.e(ExprKind::Record { base: None, fields })
    }
    fn list(&mut self, items: Vec<Expr>) -> Expr {
        self.e(ExprKind::List(items))
    }
    fn field(&mut self, e: Expr, f: &str) -> Expr {
        self.e(ExprKind::Field {
            expr: Box::new(e),
            field: id(f),
        })
    }
}

fn decl_let(rec: bool, name: &str, value: Expr) -> Decl {
    Decl {
        kind: DeclKind::Let(LetDecl {
            rec,
            name: id(name),
            ann: None,
            value,
            mentions: Default::default(),
        }),
        exported: false,
        span: sp(),
    }
}

type Outcome = Result<(Vec<(Name, Value)>, Option<Value>), Code>;

fn eval_module(module: &Module) -> Outcome {
    eval_module_with(module, &Limits::default())
}

fn eval_module_with(module: &Module, limits: &Limits) -> Outcome {
    let program = lower(module, &Elaboration::default(), FileId(0), "").map_err(|d| d.code)?;
    let res = run(&program, limits, Interrupt::default()).map_err(|e| e.code())?;
    Ok((res.globals, res.body))
}

fn body_text(module: Module) -> Result<String, Code> {
    let (_, body) = eval_module(&module)?;
    Ok(body.map(|v| text(&v)).unwrap_or_default())
}

/// Runs on a thread with a large stack, like the host does.
fn big_stack<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::Builder::new()
        .stack_size(256 << 20)
        .spawn(f)
        .expect("spawn")
        .join()
        .expect("join")
}

#[test]
fn fib_with_let_rec_in() {
    let mut b = B::default();
    // let rec fib = \n -> if n < 2 then n else fib (n - 1) + fib (n - 2) in fib 10
    let n = b.var("n");
    let two = b.int(2);
    let cond = b.bin(BinOp::Lt, n, two);
    let n1 = b.var("n");
    let fib1 = b.var("fib");
    let n2 = b.var("n");
    let one = b.int(1);
    let sub1 = b.bin(BinOp::Sub, n2, one);
    let call1 = b.app(fib1, vec![sub1]);
    let fib2 = b.var("fib");
    let n3 = b.var("n");
    let two2 = b.int(2);
    let sub2 = b.bin(BinOp::Sub, n3, two2);
    let call2 = b.app(fib2, vec![sub2]);
    let sum = b.bin(BinOp::Add, call1, call2);
    let body = b.if_(cond, n1, sum);
    let lam = b.lam(&["n"], body);
    let fib = b.var("fib");
    let ten = b.int(10);
    let call = b.app(fib, vec![ten]);
    let e = b.let_(true, "fib", lam, call);
    assert_eq!(
        body_text(Module {
            body: Some(e),
            ..Module::default()
        }),
        Ok("55".to_string())
    );
}

#[test]
fn closures_capture_and_partial_application() {
    let mut b = B::default();
    // let k = 10 in let add = \a b -> a * k + b in map (add 4) [1, 2]
    let a = b.var("a");
    let k = b.var("k");
    let mul = b.bin(BinOp::Mul, a, k);
    let bb = b.var("b");
    let sum = b.bin(BinOp::Add, mul, bb);
    let add = b.lam(&["a", "b"], sum);
    let map = b.var("map");
    let addv = b.var("add");
    let four = b.int(4);
    let part = b.app(addv, vec![four]);
    let one = b.int(1);
    let two = b.int(2);
    let xs = b.list(vec![one, two]);
    let call = b.app(map, vec![part, xs]);
    let inner = b.let_(false, "add", add, call);
    let ten = b.int(10);
    let e = b.let_(false, "k", ten, inner);
    assert_eq!(
        body_text(Module {
            body: Some(e),
            ..Module::default()
        }),
        Ok("[41, 42]".to_string())
    );
}

#[test]
fn constructors_are_functions() {
    let mut b = B::default();
    let map = b.var("map");
    let some = b.ctor("Some");
    let one = b.int(1);
    let two = b.int(2);
    let xs = b.list(vec![one, two]);
    let e = b.app(map, vec![some, xs]);
    assert_eq!(
        body_text(Module {
            body: Some(e),
            ..Module::default()
        }),
        Ok("[Some 1, Some 2]".to_string())
    );
}

#[test]
fn builtins_examples() {
    type Build = Box<dyn Fn(&mut B) -> Expr>;
    let cases: Vec<(Build, &str)> = vec![
        (
            Box::new(|b: &mut B| {
                let f = b.var("split");
                let s = b.s("a,b,,c");
                let sep = b.s(",");
                b.app(f, vec![s, sep])
            }),
            "[\"a\", \"b\", \"\", \"c\"]",
        ),
        (
            Box::new(|b: &mut B| {
                let f = b.var("split");
                let s = b.s("ab");
                let sep = b.s("");
                b.app(f, vec![s, sep])
            }),
            "[\"a\", \"b\"]",
        ),
        (
            Box::new(|b: &mut B| {
                let f = b.var("tail");
                let one = b.int(1);
                let xs = b.list(vec![one]);
                b.app(f, vec![xs])
            }),
            "Some []",
        ),
        (
            Box::new(|b: &mut B| {
                let f = b.var("parseInt");
                let s = b.s("-42");
                b.app(f, vec![s])
            }),
            "Some (-42)",
        ),
        (
            Box::new(|b: &mut B| {
                let f = b.var("length");
                let s = b.s("héllo");
                b.app(f, vec![s])
            }),
            "5",
        ),
        (
            Box::new(|b: &mut B| {
                let cons = b.var("cons");
                let zero = b.int(0);
                let rev = b.var("reverse");
                let range = b.var("range");
                let one = b.int(1);
                let four = b.int(4);
                let r = b.app(range, vec![one, four]);
                let rr = b.app(rev, vec![r]);
                b.app(cons, vec![zero, rr])
            }),
            "[0, 3, 2, 1]",
        ),
        (
            Box::new(|b: &mut B| {
                let fold = b.var("fold");
                let acc = b.var("acc");
                let ten = b.int(10);
                let m = b.bin(BinOp::Mul, acc, ten);
                let n = b.var("n");
                let s = b.bin(BinOp::Add, m, n);
                let f = b.lam(&["acc", "n"], s);
                let z = b.int(0);
                let xs: Vec<Expr> = [4, 0, 2].iter().map(|n| b.int(*n)).collect();
                let xs = b.list(xs);
                b.app(fold, vec![f, z, xs])
            }),
            "402",
        ),
        (
            Box::new(|b: &mut B| {
                let ts = b.var("toString");
                let x = b.e(ExprKind::Float(3.0));
                b.app(ts, vec![x])
            }),
            "\"3.0\"",
        ),
    ];
    for (build, want) in cases {
        let mut b = B::default();
        let e = build(&mut b);
        assert_eq!(
            body_text(Module {
                body: Some(e),
                ..Module::default()
            }),
            Ok(want.to_string())
        );
    }
}

#[test]
fn runtime_error_codes() {
    let mut b = B::default();
    let one = b.int(1);
    let zero = b.int(0);
    let e = b.bin(BinOp::Div, one, zero);
    assert_eq!(
        body_text(Module {
            body: Some(e),
            ..Module::default()
        }),
        Err(Code::R3002)
    );

    let mut b = B::default();
    let f = b.var("error");
    let s = b.s("boom");
    let e = b.app(f, vec![s]);
    assert_eq!(
        body_text(Module {
            body: Some(e),
            ..Module::default()
        }),
        Err(Code::R3005)
    );

    let mut b = B::default();
    let f = b.var("range");
    let lo = b.int(0);
    let hi = b.int(5_000_000_000);
    let e = b.app(f, vec![lo, hi]);
    assert_eq!(
        body_text(Module {
            body: Some(e),
            ..Module::default()
        }),
        Err(Code::R3007)
    );

    let mut b = B::default();
    let f = b.lam(&["x"], b_int(&mut B { next: 1000 }, 1));
    let g = b.lam(&["x"], b_int(&mut B { next: 2000 }, 1));
    let e = b.bin(BinOp::Eq, f, g);
    assert_eq!(
        body_text(Module {
            body: Some(e),
            ..Module::default()
        }),
        Err(Code::R3004)
    );

    let mut b = B::default();
    let seven = b.int(7);
    let one = b.int(1);
    let s = b.s("one");
    let case = Case {
        pat: Pattern {
            kind: PatternKind::Lit(Literal::Int(1)),
            span: sp(),
        },
        guard: None,
        body: s,
        span: sp(),
    };
    let _ = one;
    let e = b.e(ExprKind::Match {
        scrutinee: Box::new(seven),
        cases: vec![case],
    });
    assert_eq!(
        body_text(Module {
            body: Some(e),
            ..Module::default()
        }),
        Err(Code::R3003)
    );
}

fn b_int(b: &mut B, n: i64) -> Expr {
    b.int(n)
}

fn down_module(n: i64) -> Module {
    let mut b = B::default();
    // let rec down = \n -> if n == 0 then 0 else down (n - 1);
    let nv = b.var("n");
    let z = b.int(0);
    let c = b.bin(BinOp::Eq, nv, z);
    let z2 = b.int(0);
    let d = b.var("down");
    let nv2 = b.var("n");
    let one = b.int(1);
    let s = b.bin(BinOp::Sub, nv2, one);
    let call = b.app(d, vec![s]);
    let body = b.if_(c, z2, call);
    let lam = b.lam(&["n"], body);
    let d2 = b.var("down");
    let arg = b.int(n);
    let a = b.app(d2, vec![arg]);
    Module {
        decls: vec![decl_let(true, "down", lam), decl_let(false, "a", a)],
        ..Module::default()
    }
}

#[test]
fn depth_limit_is_a_diagnostic() {
    let ok = big_stack(|| eval_module(&down_module(5000)).map(|(g, _)| g.len()));
    assert_eq!(ok, Ok(2));
    let at_limit = big_stack(|| eval_module(&down_module(9_999)).map(|(g, _)| g.len()));
    assert_eq!(at_limit, Ok(2));
    let err = big_stack(|| eval_module(&down_module(100_000)).map(|(g, _)| g.len()));
    assert_eq!(err, Err(Code::R3006));
}

#[test]
fn long_let_chain_and_else_if_chain() {
    let res = big_stack(|| {
        let mut b = B::default();
        let mut names = Vec::new();
        for k in 0..10_000 {
            names.push(format!("v{k}"));
        }
        let last = b.var("v9999");
        let mut e = last;
        for k in (0..10_000).rev() {
            let value = if k == 0 {
                b.int(0)
            } else {
                let prev = b.var(&names[k - 1]);
                let one = b.int(1);
                b.bin(BinOp::Add, prev, one)
            };
            e = b.let_(false, &names[k], value, e);
        }
        body_text(Module {
            body: Some(e),
            ..Module::default()
        })
    });
    assert_eq!(res, Ok("9999".to_string()));
}

#[test]
fn records_fields_and_spread() {
    let mut b = B::default();
    let h = b.s("h");
    let p = b.int(80);
    let base = b.record(vec![("host", h), ("port", p)]);
    let p2 = b.int(8080);
    let t = b.e(ExprKind::Bool(true));
    let e = b.e(ExprKind::Record {
        base: Some(Box::new(base)),
        fields: vec![
            FieldInit {
                name: id("port"),
                value: p2,
            },
            FieldInit {
                name: id("tls"),
                value: t,
            },
        ],
    });
    assert_eq!(
        body_text(Module {
            body: Some(e),
            ..Module::default()
        }),
        Ok("{ host = \"h\", port = 8080, tls = true }".to_string())
    );
    let mut b = B::default();
    let x = b.int(1);
    let y = b.int(2);
    let r1 = b.record(vec![("x", x), ("y", y)]);
    let y2 = b.int(2);
    let x2 = b.int(1);
    let r2 = b.record(vec![("y", y2), ("x", x2)]);
    let eq = b.bin(BinOp::Eq, r1, r2);
    assert_eq!(
        body_text(Module {
            body: Some(eq),
            ..Module::default()
        }),
        Ok("true".to_string())
    );
    let mut b = B::default();
    let two = b.int(2);
    let api = b.s("api");
    let r = b.record(vec![("name", api), ("replicas", two)]);
    let f = b.field(r, "replicas");
    assert_eq!(
        body_text(Module {
            body: Some(f),
            ..Module::default()
        }),
        Ok("2".to_string())
    );
}

#[test]
fn refinement_validation_reports_path() {
    // type Port = Integer where x >= 1 && x <= 65535; let ps : List Port = [80, 70000];
    let mut b = B::default();
    let x = b.var("x");
    let one = b.int(1);
    let ge = b.bin(BinOp::Ge, x, one);
    let x2 = b.var("x");
    let max = b.int(65535);
    let le = b.bin(BinOp::Le, x2, max);
    let pred = b.bin(BinOp::And, ge, le);
    let int_ty = Type {
        kind: TypeKind::Con(
            QName {
                module: None,
                name: id("Integer"),
                span: sp(),
            },
            vec![],
        ),
        span: sp(),
    };
    let port = Type {
        kind: TypeKind::Refined {
            base: Box::new(int_ty),
            items: vec![],
            pred: Some(Box::new(pred)),
        },
        span: sp(),
    };
    let tdecl = Decl {
        kind: DeclKind::Type(Box::new(TypeDecl {
            name: id("Port"),
            params: vec![],
            rhs: TypeRhs::Alias(port),
        })),
        exported: false,
        span: sp(),
    };
    let port_ref = Type {
        kind: TypeKind::Con(
            QName {
                module: None,
                name: id("Port"),
                span: sp(),
            },
            vec![],
        ),
        span: sp(),
    };
    let ann = Type {
        kind: TypeKind::List(Box::new(port_ref)),
        span: sp(),
    };
    let a = b.int(80);
    let c = b.int(70000);
    let xs = b.list(vec![a, c]);
    let ldecl = Decl {
        kind: DeclKind::Let(LetDecl {
            rec: false,
            name: id("ps"),
            ann: Some(Box::new(ann)),
            value: xs,
            mentions: Default::default(),
        }),
        exported: false,
        span: sp(),
    };
    let module = Module {
        decls: vec![tdecl, ldecl],
        ..Module::default()
    };
    let program = lower(&module, &Elaboration::default(), FileId(0), "").expect("lowers");
    let err = run(&program, &Limits::default(), Interrupt::default()).expect_err("violates");
    assert_eq!(err.code(), Code::C5005);
    match &*err.kind {
        crate::eval::EvalErrorKind::ConstraintViolated {
            type_name,
            value,
            path,
            ..
        } => {
            assert_eq!(type_name, "Port");
            assert_eq!(value, "70000");
            assert_eq!(path, "ps[1]");
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn cancellation_and_budget() {
    let module = down_module(5000);
    let program = lower(&module, &Elaboration::default(), FileId(0), "").expect("lowers");
    let flag = Arc::new(std::sync::atomic::AtomicBool::new(true));
    let err = big_stack(move || {
        run(&program, &Limits::default(), Interrupt::flag(flag))
            .map(|_| ())
            .map_err(|e| e.code())
    });
    assert_eq!(err, Err(Code::R3008));
    let limits = Limits {
        max_steps: 100,
        ..Limits::default()
    };
    let res = big_stack(move || eval_module_with(&down_module(5000), &limits).map(|_| ()));
    assert_eq!(res, Err(Code::R3007));
}

/// A deadline on a host clock stops the run with R3008; the clock is read only every few
/// thousand steps, and not at all before the first poll.
#[test]
fn deadline_on_the_host_clock() {
    use std::sync::atomic::{AtomicU64, Ordering};
    let module = down_module(5000);
    let program = lower(&module, &Elaboration::default(), FileId(0), "").expect("lowers");
    let reads = Arc::new(AtomicU64::new(0));
    // Every read of this clock is one millisecond later than the last.
    let clock_reads = Arc::clone(&reads);
    let clock = Arc::new(move || clock_reads.fetch_add(1, Ordering::Relaxed) as f64);
    let interrupt = Interrupt::new(None, Some(crate::eval::Deadline { clock, at_ms: 3.0 }));
    let (res, program) = big_stack(move || {
        let res = run(&program, &Limits::default(), interrupt).map(|_| ());
        (res.map_err(|e| e.code()), program)
    });
    assert_eq!(res, Err(Code::R3008));
    // Polled at steps 4096, 8192, 12288 and 16384: the fourth read sees 3.0.
    assert_eq!(reads.load(Ordering::Relaxed), 4);
    // A deadline far away changes nothing.
    let clock = Arc::new(|| 0.0);
    let far = Interrupt::new(None, Some(crate::eval::Deadline { clock, at_ms: 1e9 }));
    let ok = big_stack(move || run(&program, &Limits::default(), far).map(|it| it.steps));
    assert!(matches!(ok, Ok(steps) if steps > 16_384), "{ok:?}");
}

#[test]
fn deeply_nested_values_drop_without_recursion() {
    let mut v = Value::none();
    for _ in 0..1_000_000 {
        v = Value::some(Value::record(vec![("a", v)]));
    }
    let v = big_stack(move || {
        assert!(export::json::render(&v, &ExportLimits::default()).is_err());
        v
    });
    drop(v);
}

#[test]
fn type_classes_pass_dictionaries() {
    use crate::types::elab::{DictExpr, InstanceRef};
    let mut b = B::default();
    let mut elab = Elaboration::default();
    let str_ty = Type {
        kind: TypeKind::Con(
            QName {
                module: None,
                name: id("String"),
                span: sp(),
            },
            vec![],
        ),
        span: sp(),
    };
    let a_ty = Type {
        kind: TypeKind::Var(id("a")),
        span: sp(),
    };
    let sig_ty = Type {
        kind: TypeKind::Fun(Box::new(a_ty), Box::new(str_ty)),
        span: sp(),
    };
    // twice = \v -> describe v ++ describe v   (default, uses the dictionary being built)
    let d1 = b.var("describe");
    elab.uses.insert(d1.id, vec![DictExpr::SelfDict]);
    let v1 = b.var("v");
    let c1 = b.app(d1, vec![v1]);
    let d2 = b.var("describe");
    elab.uses.insert(d2.id, vec![DictExpr::SelfDict]);
    let v2 = b.var("v");
    let c2 = b.app(d2, vec![v2]);
    let cat = b.bin(BinOp::Concat, c1, c2);
    let twice_def = b.lam(&["v"], cat);
    let class = ClassDecl {
        name: id("Describe"),
        params: vec![id("a")],
        superclasses: vec![],
        methods: vec![
            MethodSig {
                name: id("describe"),
                ty: sig_ty.clone(),
                span: sp(),
            },
            MethodSig {
                name: id("twice"),
                ty: sig_ty,
                span: sp(),
            },
        ],
        defaults: vec![MethodDef {
            name: id("twice"),
            value: twice_def,
            span: sp(),
        }],
    };
    // instance Describe Integer where describe = \n -> toString n;
    let ts = b.var("toString");
    let n = b.var("n");
    let call = b.app(ts, vec![n]);
    let describe_int = b.lam(&["n"], call);
    let int_ty = Type {
        kind: TypeKind::Con(
            QName {
                module: None,
                name: id("Integer"),
                span: sp(),
            },
            vec![],
        ),
        span: sp(),
    };
    let inst = InstanceDecl {
        context: vec![],
        class: QName {
            module: None,
            name: id("Describe"),
            span: sp(),
        },
        args: vec![int_ty],
        methods: vec![MethodDef {
            name: id("describe"),
            value: describe_int,
            span: sp(),
        }],
        head_span: sp(),
    };
    let int_dict = DictExpr::Instance {
        instance: InstanceRef {
            module: FileId(0),
            decl: 1,
        },
        args: vec![],
    };
    // let show2 = \x -> describe x ++ "!";   (overloaded: one dictionary parameter)
    let d3 = b.var("describe");
    let d3_id = d3.id;
    let x = b.var("x");
    let c3 = b.app(d3, vec![x]);
    let bang = b.s("!");
    let body = b.bin(BinOp::Concat, c3, bang);
    let show2 = b.lam(&["x"], body);
    elab.params.insert(show2.id, 1);
    elab.uses.insert(
        d3_id,
        vec![DictExpr::Param {
            binder: show2.id,
            index: 0,
        }],
    );
    // let out = show2 5; let out2 = twice 7;
    let s2 = b.var("show2");
    elab.uses.insert(s2.id, vec![int_dict.clone()]);
    let five = b.int(5);
    let out = b.app(s2, vec![five]);
    let tw = b.var("twice");
    elab.uses.insert(tw.id, vec![int_dict]);
    let seven = b.int(7);
    let out2 = b.app(tw, vec![seven]);
    let decl = |kind| Decl {
        kind,
        exported: false,
        span: sp(),
    };
    let module = Module {
        decls: vec![
            decl(DeclKind::Class(class)),
            decl(DeclKind::Instance(inst)),
            decl_let(false, "show2", show2),
            decl_let(false, "out", out),
            decl_let(false, "out2", out2),
        ],
        ..Module::default()
    };
    let program = lower(&module, &elab, FileId(0), "").expect("lowers");
    let res = run(&program, &Limits::default(), Interrupt::default()).expect("runs");
    let shown: Vec<String> = res.globals.iter().skip(1).map(|(_, v)| text(v)).collect();
    assert_eq!(shown, vec!["\"5!\"", "\"77\""]);
}

// ---------------------------------------------------------------- fixtures from source

/// Evaluates a fixture's source and renders its document like `ligature eval` would
/// (trailing expression, or the record of non-function value bindings; export lists and
/// overloaded bindings are not handled here: that is the api's document rule).
fn eval_source(src: &str) -> Result<String, String> {
    let module = crate::eval::testparse::parse(src).ok_or("parse error")?;
    let program =
        lower(&module, &Elaboration::default(), FileId(0), src).map_err(|d| format!("{d:?}"))?;
    let mut limits = Limits::default();
    let mut format = "json";
    let mut field = None;
    if let Some(rest) = src.lines().next().and_then(|l| l.strip_prefix("// args:")) {
        let words: Vec<&str> = rest.split_whitespace().collect();
        for pair in words.chunks(2) {
            match pair {
                ["--format", f] => format = f,
                ["--max-steps", n] => limits.max_steps = n.parse().map_err(|_| "bad")?,
                ["--max-output-bytes", n] => {
                    limits.max_output_bytes = Some(n.parse().map_err(|_| "bad")?)
                }
                ["--field", f] => field = Some(f.to_string()),
                _ => return Err("bad args".into()),
            }
        }
    }
    let res = run(&program, &limits, Interrupt::default()).map_err(|e| e.code().to_string())?;
    let exports: Option<Vec<Name>> = module.decls.iter().find_map(|d| match &d.kind {
        DeclKind::Export(items) => Some(items.iter().map(|it| it.name.name.clone()).collect()),
        _ => None,
    });
    let doc = match (field, res.body) {
        (Some(f), _) => res
            .globals
            .iter()
            .find(|(n, _)| *n == f)
            .map(|(_, v)| v.clone())
            .ok_or("no field")?,
        (None, Some(body)) => body,
        (None, None) => {
            let fields: Vec<(&str, Value)> = res
                .globals
                .iter()
                .filter(|(_, v)| !v.is_function())
                .filter(|(n, _)| exports.as_ref().is_none_or(|e| e.contains(n)))
                .map(|(n, v)| (n.as_str(), v.clone()))
                .collect();
            Value::record(fields)
        }
    };
    let limits = ExportLimits {
        max_depth: limits.max_depth,
        max_output_bytes: limits.max_output_bytes,
        ..ExportLimits::default()
    };
    let out = match format {
        "json" => export::json::render(&doc, &limits),
        "yaml" => export::yaml::render(&doc, &limits),
        "toml" => export::toml::render(&doc, &limits),
        _ => export::text::render_limited(&doc, &limits).map(|s| s + "\n"),
    };
    out.map_err(|k| {
        crate::eval::EvalError::new(k, FileId(0), Span::default())
            .code()
            .to_string()
    })
}

const FIXTURES: &[(&str, &str, Option<&str>)] = &[
    (
        "arithmetic",
        include_str!("../../tests/fixtures/eval/arithmetic.lig"),
        Some(include_str!("../../tests/fixtures/eval/arithmetic.out")),
    ),
    (
        "recursion",
        include_str!("../../tests/fixtures/eval/recursion.lig"),
        Some(include_str!("../../tests/fixtures/eval/recursion.out")),
    ),
    (
        "matching",
        include_str!("../../tests/fixtures/eval/matching.lig"),
        Some(include_str!("../../tests/fixtures/eval/matching.out")),
    ),
    (
        "records",
        include_str!("../../tests/fixtures/eval/records.lig"),
        Some(include_str!("../../tests/fixtures/eval/records.out")),
    ),
    (
        "strings",
        include_str!("../../tests/fixtures/eval/strings.lig"),
        Some(include_str!("../../tests/fixtures/eval/strings.out")),
    ),
    (
        "lists",
        include_str!("../../tests/fixtures/eval/lists.lig"),
        Some(include_str!("../../tests/fixtures/eval/lists.out")),
    ),
    (
        "floats",
        include_str!("../../tests/fixtures/eval/floats.lig"),
        Some(include_str!("../../tests/fixtures/eval/floats.out")),
    ),
    (
        "trailing_expression",
        include_str!("../../tests/fixtures/eval/trailing_expression.lig"),
        Some(include_str!(
            "../../tests/fixtures/eval/trailing_expression.out"
        )),
    ),
    (
        "document_skips_functions",
        include_str!("../../tests/fixtures/eval/document_skips_functions.lig"),
        Some(include_str!(
            "../../tests/fixtures/eval/document_skips_functions.out"
        )),
    ),
    (
        "unions",
        include_str!("../../tests/fixtures/eval/unions.lig"),
        Some(include_str!("../../tests/fixtures/eval/unions.out")),
    ),
    (
        "closures",
        include_str!("../../tests/fixtures/eval/closures.lig"),
        Some(include_str!("../../tests/fixtures/eval/closures.out")),
    ),
    (
        "refinements_ok",
        include_str!("../../tests/fixtures/eval/refinements_ok.lig"),
        Some(include_str!("../../tests/fixtures/eval/refinements_ok.out")),
    ),
    (
        "yaml_output",
        include_str!("../../tests/fixtures/eval/yaml_output.lig"),
        Some(include_str!("../../tests/fixtures/eval/yaml_output.out")),
    ),
    (
        "text_output",
        include_str!("../../tests/fixtures/eval/text_output.lig"),
        Some(include_str!("../../tests/fixtures/eval/text_output.out")),
    ),
    (
        "toml_output",
        include_str!("../../tests/fixtures/eval/toml_output.lig"),
        Some(include_str!("../../tests/fixtures/eval/toml_output.out")),
    ),
    (
        "deploy",
        include_str!("../../tests/fixtures/eval/deploy.lig"),
        Some(include_str!("../../tests/fixtures/eval/deploy.out")),
    ),
    (
        "overflow_mul",
        include_str!("../../tests/fixtures/eval/overflow_mul.lig"),
        Some("R3001"),
    ),
    (
        "overflow_float",
        include_str!("../../tests/fixtures/eval/overflow_float.lig"),
        Some("R3001"),
    ),
    (
        "overflow_neg_min",
        include_str!("../../tests/fixtures/eval/overflow_neg_min.lig"),
        Some("R3001"),
    ),
    (
        "overflow_div_min",
        include_str!("../../tests/fixtures/eval/overflow_div_min.lig"),
        Some("R3001"),
    ),
    (
        "division_by_zero",
        include_str!("../../tests/fixtures/eval/division_by_zero.lig"),
        Some("R3002"),
    ),
    (
        "remainder_by_zero",
        include_str!("../../tests/fixtures/eval/remainder_by_zero.lig"),
        Some("R3002"),
    ),
    (
        "float_division_by_zero",
        include_str!("../../tests/fixtures/eval/float_division_by_zero.lig"),
        Some("R3002"),
    ),
    (
        "match_failure",
        include_str!("../../tests/fixtures/eval/match_failure.lig"),
        Some("R3003"),
    ),
    (
        "match_failure_in_call",
        include_str!("../../tests/fixtures/eval/match_failure_in_call.lig"),
        Some("R3003"),
    ),
    (
        "function_equality",
        include_str!("../../tests/fixtures/eval/function_equality.lig"),
        Some("R3004"),
    ),
    (
        "user_error",
        include_str!("../../tests/fixtures/eval/user_error.lig"),
        Some("R3005"),
    ),
    (
        "depth_exceeded",
        include_str!("../../tests/fixtures/eval/depth_exceeded.lig"),
        Some("R3006"),
    ),
    (
        "budget_exhausted_range",
        include_str!("../../tests/fixtures/eval/budget_exhausted_range.lig"),
        Some("R3007"),
    ),
    (
        "budget_exhausted_steps",
        include_str!("../../tests/fixtures/eval/budget_exhausted_steps.lig"),
        Some("R3007"),
    ),
    (
        "not_exportable_toml_unit",
        include_str!("../../tests/fixtures/eval/not_exportable_toml_unit.lig"),
        Some("R3009"),
    ),
    (
        "not_exportable_toml_not_record",
        include_str!("../../tests/fixtures/eval/not_exportable_toml_not_record.lig"),
        Some("R3009"),
    ),
    (
        "not_exportable_function",
        include_str!("../../tests/fixtures/eval/not_exportable_function.lig"),
        Some("R3009"),
    ),
    (
        "output_too_large",
        include_str!("../../tests/fixtures/eval/output_too_large.lig"),
        Some("R3010"),
    ),
    (
        "constraint_violated",
        include_str!("../../tests/fixtures/eval/constraint_violated.lig"),
        Some("C5005"),
    ),
    (
        "constraint_violated_list_path",
        include_str!("../../tests/fixtures/eval/constraint_violated_list_path.lig"),
        Some("C5005"),
    ),
    (
        "constraint_violated_pattern",
        include_str!("../../tests/fixtures/eval/constraint_violated_pattern.lig"),
        Some("C5005"),
    ),
    (
        "constraint_violated_record",
        include_str!("../../tests/fixtures/eval/constraint_violated_record.lig"),
        Some("C5005"),
    ),
    (
        "constraint_violated_param",
        include_str!("../../tests/fixtures/eval/constraint_violated_param.lig"),
        Some("C5005"),
    ),
    (
        "constraint_violated_annotation",
        include_str!("../../tests/fixtures/eval/constraint_violated_annotation.lig"),
        Some("C5005"),
    ),
    (
        "constraint_violated_option",
        include_str!("../../tests/fixtures/eval/constraint_violated_option.lig"),
        Some("C5005"),
    ),
    (
        "deploy_replicas_violated",
        include_str!("../../tests/fixtures/eval/deploy_replicas_violated.lig"),
        Some("C5005"),
    ),
    (
        "predicate_error",
        include_str!("../../tests/fixtures/eval/predicate_error.lig"),
        Some("C5003"),
    ),
];

#[test]
fn fixtures_from_source() {
    let failures = big_stack(|| {
        let mut failures = Vec::new();
        for (name, src, want) in FIXTURES {
            let got = match eval_source(src) {
                Ok(out) => out,
                Err(code) => code,
            };
            let want = want.unwrap_or("");
            let ok = got == want;
            if !ok {
                failures.push(format!("--- {name}\nwant:\n{want}\ngot:\n{got}"));
            }
        }
        failures
    });
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Evaluates `src` (declarations and a trailing expression) and compares the text
/// rendering of its value, or the error code, with `expect`.
fn check(src: &str, expect: &str) {
    let src = src.to_string();
    let expect = expect.to_string();
    big_stack(move || {
        let module = crate::eval::testparse::parse(&src).expect("test parser accepts the source");
        let program = lower(&module, &Elaboration::default(), FileId(0), &src).expect("lowers");
        let got = match run(&program, &Limits::default(), Interrupt::default()) {
            Ok(res) => text(&res.body.expect("a trailing expression")),
            Err(err) => err.code().to_string(),
        };
        assert_eq!(got, expect, "for {src}");
    });
}

#[test]
fn spec_examples_section_5_11() {
    check("(\\a b -> a * 10 + b) 4 2", "42");
    check(
        "let rec fib = \\n -> if n < 2 then n else fib (n - 1) + fib (n - 2) in fib 10",
        "55",
    );
    check(
        "if 2 > 3 then \"a\" else if 2 == 2 then \"b\" else \"c\"",
        "\"b\"",
    );
    check("[1, 2] ++ [3]", "[1, 2, 3]");
    check("map (\\n -> n * n) (range 1 4)", "[1, 4, 9]");
    check(
        "match [3, 4] { [] => 0, [a] => a, [a, b] => a * b, _ => -1 }",
        "12",
    );
    check(
        "match Some 4 { Some n when n > 5 => \"big\", Some n => \"small \" ++ toString n, None => \"none\" }",
        "\"small 4\"",
    );
    check(
        "match { kind = \"db\", size = 3 } { { kind = \"db\", size = n } when n > 2 => \"big db\", { kind, .. } => kind }",
        "\"big db\"",
    );
    check("match 7 { 1 => \"one\", 2 => \"two\" }", "R3003");
    check(
        "let offset = 10 in let shift = \\v -> v + offset in let offset = 1000 in shift 5",
        "15",
    );
}

#[test]
fn spec_examples_sections_7_and_10() {
    check("0.1 + 0.2", "0.30000000000000004");
    check("-9 / 4", "-2");
    check("-9 % 4", "-1");
    check("9 % -4", "1");
    check("7.0 / 2.0", "3.5");
    check("5.5 % 2.0", "1.5");
    check("4611686018427387904 * 2", "R3001");
    check("1.0e308 * 10.0", "R3001");
    check("1 / 0", "R3002");
    check("1.5 / 0.0", "R3002");
    check("let m = -9223372036854775807 - 1 in m % -1", "0");
    check("let m = -9223372036854775807 - 1 in m / -1", "R3001");
    check("let m = -9223372036854775807 - 1 in -m", "R3001");
    check("0.0 == -0.0", "true");
    check("\"Z\" < \"a\"", "true");
    check("\"ab\" < \"b\"", "true");
    check("{ x = 1, y = 2 } == { y = 2, x = 1 }", "true");
    check("Some 1 == Some 1", "true");
    check("None == Some 1", "false");
    check("true || 1 / 0 == 1", "true");
    check("toFloat 1 + 2.5", "3.5");
    check("toString 3.0", "\"3.0\"");
    check("toString \"hi\"", "\"hi\"");
    check("parseInt \"-42\"", "Some (-42)");
    check("parseInt \"4x\"", "None");
    check("\"n=\" ++ toString 5", "\"n=5\"");
    check("split \"\" \",\"", "[\"\"]");
    check("fold (\\acc n -> acc * 10 + n) 0 [4, 0, 2]", "402");
    check(
        "filter (\\s -> endsWith s \".lig\") [\"a.lig\", \"b.md\"]",
        "[\"a.lig\"]",
    );
    check("all (\\p -> p > 1023) [8080, 443]", "false");
    check("tail [1]", "Some []");
    check("cons 0 (reverse (range 1 4))", "[0, 3, 2, 1]");
    check("map Some [1, 2]", "[Some 1, Some 2]");
    check(
        "{ ...{ host = \"h\", port = 80 }, port = 8080, tls = true }",
        "{ host = \"h\", port = 8080, tls = true }",
    );
    check("{ ...{ a = 1 }, a = \"one\" }", "{ a = \"one\" }");
    check("error \"boom\"", "R3005");
    check("range 0 5000000000", "R3007");
    check(
        "let same = \\a b -> a == b in same (\\x -> x) (\\x -> x)",
        "R3004",
    );
    check("let f = \\x -> x in toString f", "\"<function>\"");
    check("any (\\n -> 10 / n > 1) [0, 5]", "R3002");
    check("any (\\n -> 10 / n > 1) [5, 0]", "true");
    check(
        "let rec down = \\n -> if n == 0 then 0 else down (n - 1) in down 100000",
        "R3006",
    );
    check("fold (\\s n -> s + n) 0 (range 0 100000)", "4999950000");
}

#[test]
fn canonical_order_applies_before_later_arguments() {
    // `(f a) b`: the error inside `f a` comes before the one in `b`.
    check("(\\x -> \\y -> x) (error \"first\") (1 / 0)", "R3005");
    check("(\\x -> error \"body\") 1 (1 / 0)", "R3005");
}

#[test]
fn constraint_violation_names_type_item_value_and_path() {
    let src = include_str!("../../tests/fixtures/eval/deploy_replicas_violated.lig");
    let err = big_stack(move || {
        let module = crate::eval::testparse::parse(src).expect("parses");
        let program = lower(&module, &Elaboration::default(), FileId(0), src).expect("lowers");
        run(&program, &Limits::default(), Interrupt::default()).expect_err("violates")
    });
    let diag = err.to_diagnostic();
    assert_eq!(diag.code, Code::C5005);
    assert_eq!(
        diag.message,
        "`Replicas` rejects 15 at services[2].replicas"
    );
    assert!(
        diag.labels
            .iter()
            .any(|l| l.message == "failing: `with <= 12`"),
        "{diag:?}"
    );
}

#[test]
fn declarations_evaluate_separately_with_shared_globals() {
    use std::sync::OnceLock;
    let src = include_str!("../../tests/fixtures/eval/deploy.lig");
    let (values, steps, total) = big_stack(move || {
        let module = crate::eval::testparse::parse(src).expect("parses");
        let program = lower(&module, &Elaboration::default(), FileId(0), src).expect("lowers");
        let globals: Vec<OnceLock<Value>> =
            (0..program.decls.len()).map(|_| OnceLock::new()).collect();
        let mut steps = 0;
        for idx in 0..program.decls.len() {
            let mut machine = crate::eval::Machine::new(
                FileId(0),
                &globals,
                Limits::default(),
                u64::MAX,
                Interrupt::default(),
            );
            let v = machine.eval_decl(&program, idx).expect("evaluates");
            steps += machine.steps();
            let _ = globals[idx].set(v);
        }
        let seq = run(&program, &Limits::default(), Interrupt::default()).expect("runs");
        let values: Vec<String> = globals.iter().filter_map(|g| g.get()).map(text).collect();
        (values, steps, seq.steps)
    });
    assert_eq!(steps, total);
    assert!(values
        .iter()
        .any(|v| v == "\"checkout-oncall@example.com\""));
}

#[test]
fn yaml_escapes_characters_yaml_forbids() {
    let out =
        export::yaml::render(&Value::str("a\u{7f}b\u{1}"), &ExportLimits::default()).expect("yaml");
    assert_eq!(out, "\"a\\u007fb\\u0001\"\n");
}

#[test]
fn validate_pattern_is_native() {
    check(
        "validatePattern \"api-v2\" \"[a-z][a-z0-9-]*\"",
        "Ok \"api-v2\"",
    );
    check(
        "validatePattern \"API\" \"[a-z]+\"",
        "Err (InvalidFormat { value = \"API\", pattern = \"[a-z]+\" })",
    );
    check("validatePattern \"x\" \"(\"", "C5001");
}

#[test]
fn value_and_core_stay_small() {
    assert!(
        std::mem::size_of::<Value>() <= 24,
        "{}",
        std::mem::size_of::<Value>()
    );
    assert!(
        std::mem::size_of::<crate::eval::lower::Core>() <= 72,
        "{}",
        std::mem::size_of::<crate::eval::lower::Core>()
    );
    assert!(std::mem::size_of::<crate::eval::EvalError>() <= 48);
}
