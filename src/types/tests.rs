//! Unit tests of the checker on hand-built syntax trees.

use std::cell::Cell;

use super::check_module;
use crate::source::{FileId, Span};
use crate::syntax::ast::*;

/// Builds AST nodes with fresh expression ids.
#[derive(Default)]
struct B {
    next: Cell<u32>,
}

fn sp() -> Span {
    Span::default()
}

fn id(name: &str) -> Ident {
    Ident {
        name: Name::new(name),
        span: sp(),
    }
}

impl B {
    fn e(&self, kind: ExprKind) -> Expr {
        let n = self.next.get();
        self.next.set(n + 1);
        Expr {
            kind,
            span: Span::new(n, n + 1),
            id: ExprId(n),
        }
    }
    fn int(&self, n: i64) -> Expr {
        self.e(ExprKind::Int(n))
    }
    fn float(&self, n: f64) -> Expr {
        self.e(ExprKind::Float(n))
    }
    fn str(&self, s: &str) -> Expr {
        self.e(ExprKind::Str(Name::new(s)))
    }
    fn bool(&self, b: bool) -> Expr {
        self.e(ExprKind::Bool(b))
    }
    fn var(&self, n: &str) -> Expr {
        self.e(ExprKind::Var(Name::new(n)))
    }
    fn ctor(&self, n: &str) -> Expr {
        self.e(ExprKind::Ctor(Name::new(n)))
    }
    fn lam(&self, params: &[&str], body: Expr) -> Expr {
        let params = params
            .iter()
            .map(|p| Param {
                name: if *p == "_" { None } else { Some(id(p)) },
                ann: None,
                span: sp(),
            })
            .collect();
        self.e(ExprKind::Lambda {
            params,
            body: Box::new(body),
        })
    }
    fn lam_ann(&self, p: &str, ty: Type, body: Expr) -> Expr {
        self.e(ExprKind::Lambda {
            params: vec![Param {
                name: Some(id(p)),
                ann: Some(ty),
                span: sp(),
            }],
            body: Box::new(body),
        })
    }
    fn app(&self, f: Expr, args: Vec<Expr>) -> Expr {
        self.e(ExprKind::App {
            func: Box::new(f),
            args,
        })
    }
    fn bin(&self, op: BinOp, l: Expr, r: Expr) -> Expr {
        self.e(ExprKind::Binary {
            op,
            op_span: sp(),
            lhs: Box::new(l),
            rhs: Box::new(r),
        })
    }
    fn field(&self, e: Expr, f: &str) -> Expr {
        self.e(ExprKind::Field {
            expr: Box::new(e),
            field: id(f),
        })
    }
    fn rec(&self, fields: Vec<(&str, Expr)>) -> Expr {
        let fields = fields
            .into_iter()
            .map(|(n, v)| FieldInit {
                name: id(n),
                value: v,
            })
            .collect();
        self.e(ExprKind::Record { base: None, fields })
    }
    fn spread(&self, base: Expr, fields: Vec<(&str, Expr)>) -> Expr {
        let fields = fields
            .into_iter()
            .map(|(n, v)| FieldInit {
                name: id(n),
                value: v,
            })
            .collect();
        self.e(ExprKind::Record {
            base: Some(Box::new(base)),
            fields,
        })
    }
    fn list(&self, items: Vec<Expr>) -> Expr {
        self.e(ExprKind::List(items))
    }
    fn iff(&self, c: Expr, t: Expr, e: Expr) -> Expr {
        self.e(ExprKind::If {
            cond: Box::new(c),
            then_branch: Box::new(t),
            else_branch: Box::new(e),
        })
    }
    fn ann(&self, e: Expr, ty: Type) -> Expr {
        self.e(ExprKind::Ann {
            expr: Box::new(e),
            ty: Box::new(ty),
        })
    }
    fn let_in(&self, name: &str, value: Expr, body: Expr) -> Expr {
        self.e(ExprKind::Let {
            rec: false,
            name: id(name),
            ann: None,
            value: Box::new(value),
            body: Box::new(body),
        })
    }
    fn mat(&self, s: Expr, cases: Vec<(Pattern, Expr)>) -> Expr {
        let cases = cases
            .into_iter()
            .map(|(pat, body)| Case {
                pat,
                guard: None,
                body,
                span: sp(),
            })
            .collect();
        self.e(ExprKind::Match {
            scrutinee: Box::new(s),
            cases,
        })
    }
}

fn p(kind: PatternKind) -> Pattern {
    Pattern { kind, span: sp() }
}
fn pvar(n: &str) -> Pattern {
    p(PatternKind::Var(id(n)))
}
fn pwild() -> Pattern {
    p(PatternKind::Wildcard)
}
fn pctor(n: &str, payload: Option<Pattern>) -> Pattern {
    p(PatternKind::Ctor {
        module: None,
        name: id(n),
        payload: payload.map(Box::new),
    })
}

fn t(kind: TypeKind) -> Type {
    Type { kind, span: sp() }
}
fn tcon(n: &str, args: Vec<Type>) -> Type {
    t(TypeKind::Con(
        QName {
            module: None,
            name: id(n),
            span: sp(),
        },
        args,
    ))
}
fn tvar(n: &str) -> Type {
    t(TypeKind::Var(id(n)))
}
fn tfun(a: Type, r: Type) -> Type {
    t(TypeKind::Fun(Box::new(a), Box::new(r)))
}

fn decl(kind: DeclKind) -> Decl {
    Decl {
        kind,
        exported: false,
        span: sp(),
    }
}
fn let_(name: &str, value: Expr) -> Decl {
    decl(DeclKind::Let(LetDecl {
        rec: false,
        name: id(name),
        ann: None,
        value,
        mentions: Default::default(),
    }))
}
fn let_ann(name: &str, ann: Type, value: Expr) -> Decl {
    decl(DeclKind::Let(LetDecl {
        rec: false,
        name: id(name),
        ann: Some(Box::new(ann)),
        value,
        mentions: Default::default(),
    }))
}
fn let_rec(name: &str, value: Expr) -> Decl {
    decl(DeclKind::Let(LetDecl {
        rec: true,
        name: id(name),
        ann: None,
        value,
        mentions: Default::default(),
    }))
}
fn union(name: &str, params: &[&str], variants: Vec<(&str, Option<Type>)>) -> Decl {
    let variants = variants
        .into_iter()
        .map(|(n, payload)| Variant {
            name: id(n),
            payload,
            span: sp(),
        })
        .collect();
    decl(DeclKind::Type(Box::new(TypeDecl {
        name: id(name),
        params: params.iter().map(|p| id(p)).collect(),
        rhs: TypeRhs::Union(variants),
    })))
}
fn alias(name: &str, params: &[&str], ty: Type) -> Decl {
    decl(DeclKind::Type(Box::new(TypeDecl {
        name: id(name),
        params: params.iter().map(|p| id(p)).collect(),
        rhs: TypeRhs::Alias(ty),
    })))
}

/// Checks a module and prints every binding's scheme, then every diagnostic.
fn run(b: &B, decls: Vec<Decl>, body: Option<Expr>) -> String {
    let module = Module {
        header: None,
        imports: Vec::new(),
        decls,
        body,
        n_exprs: b.next.get(),
    };
    let checked = check_module(FileId(0), &module);
    let mut out = String::new();
    for binding in &checked.bindings {
        out.push_str(&format!("{} : {}\n", binding.name, binding.scheme));
    }
    if let Some(body) = &checked.body_type {
        out.push_str(&format!("body : {body}\n"));
    }
    for d in &checked.diagnostics {
        out.push_str(&format!("{}: {}\n", d.code, d.message));
    }
    out
}

fn check_ast(b: &B, decls: Vec<Decl>, expect: &str) {
    let got = run(b, decls, None);
    assert_eq!(got.trim(), expect.trim(), "\n--- got ---\n{got}");
}

#[test]
fn section_6_9_examples() {
    let b = B::default();
    let twice = b.lam(
        &["f", "x"],
        b.app(b.var("f"), vec![b.app(b.var("f"), vec![b.var("x")])]),
    );
    let name = b.lam(&["r"], b.field(b.var("r"), "name"));
    let sq = b.lam(&["x"], b.bin(BinOp::Mul, b.var("x"), b.var("x")));
    let half = b.lam_ann(
        "x",
        tcon("Float", vec![]),
        b.bin(BinOp::Div, b.var("x"), b.float(2.0)),
    );
    let pairs = b.app(
        b.var("map"),
        vec![
            b.lam(
                &["n"],
                b.rec(vec![
                    ("n", b.var("n")),
                    (
                        "even",
                        b.bin(BinOp::Eq, b.bin(BinOp::Rem, b.var("n"), b.int(2)), b.int(0)),
                    ),
                ]),
            ),
            b.list(vec![b.int(1), b.int(2)]),
        ],
    );
    let selfapp = b.lam(&["x"], b.app(b.var("x"), vec![b.var("x")]));
    check_ast(
        &b,
        vec![
            let_("twice", twice),
            let_("name", name),
            let_("sq", sq),
            let_("half", half),
            let_("pairs", pairs),
            let_("self", selfapp),
        ],
        "twice : ('a -> 'a) -> 'a -> 'a
name : { name: 'a | 'b } -> 'a
sq : Numeric 'a => 'a -> 'a
half : Float -> Float
pairs : List { n: Integer, even: Bool }
self : 'a -> 'b
T2002: infinite type: expected `'a`, found `'a -> 'b`",
    );
}

#[test]
fn mismatches_accumulate() {
    let b = B::default();
    let a = b.bin(BinOp::Add, b.int(1), b.float(2.5));
    let c = b.bin(BinOp::Add, b.str("a"), b.str("b"));
    let d = b.app(b.lam(&["x"], b.var("x")), vec![b.int(1), b.int(2)]);
    let e = b.bin(BinOp::Add, b.var("later"), b.int(1));
    let rigid = b.lam(&["v"], b.bin(BinOp::Add, b.var("v"), b.int(1)));
    check_ast(
        &b,
        vec![
            let_("a", a),
            let_("c", c),
            let_("d", d),
            let_("e", e),
            let_("later", b.int(1)),
            let_ann("f", tfun(tvar("a"), tvar("a")), rigid),
        ],
        "a : Integer
c : String
d : ?
e : ?
later : Integer
f : 'a -> 'a
T2001: expected `Integer`, found `Float`
T2008: no instance of `Numeric` for `String`
T2001: expected a function, found `Integer`
T2003: unknown value `later`
T2001: expected `'a -> 'a`, found `Integer -> Integer`",
    );
}

#[test]
fn records_and_spread() {
    let b = B::default();
    let base = b.rec(vec![("host", b.str("h")), ("port", b.int(80))]);
    let s = b.spread(base, vec![("port", b.str("8080")), ("tls", b.bool(true))]);
    let bad = b.lam(&["r"], b.spread(b.var("r"), vec![("a", b.int(1))]));
    let missing = b.field(b.rec(vec![("a", b.int(1))]), "b");
    let mk = b.lam(
        &["spec"],
        b.rec(vec![
            ("name", b.field(b.var("spec"), "name")),
            ("port", b.field(b.var("spec"), "port")),
            (
                "replicas",
                b.bin(BinOp::Mul, b.field(b.var("spec"), "base"), b.int(3)),
            ),
            ("memoryMb", b.field(b.var("spec"), "memoryMb")),
            (
                "cpu",
                b.bin(
                    BinOp::Mul,
                    b.float(0.25),
                    b.app(b.var("toFloat"), vec![b.field(b.var("spec"), "base")]),
                ),
            ),
            (
                "healthCheck",
                b.bin(
                    BinOp::Concat,
                    b.str("https://"),
                    b.bin(BinOp::Concat, b.field(b.var("spec"), "name"), b.str("x")),
                ),
            ),
        ]),
    );
    check_ast(
        &b,
        vec![let_("s", s), let_("bad", bad), let_("missing", missing), let_("mkService", mk)],
        "s : { host: String, port: String, tls: Bool }
bad : 'a -> ?
missing : ?
mkService : { name: String, port: 'a, base: Integer, memoryMb: 'b | 'c } -> { name: String, port: 'a, replicas: Integer, memoryMb: 'b, cpu: Float, healthCheck: String }
T2014: the base of a record spread must be a known closed record, found `'a`
T2001: expected a record with field `b`, found `{ a: Integer }`",
    );
}

#[test]
fn unions_and_matches() {
    let b = B::default();
    let env = union(
        "Env",
        &[],
        vec![("Dev", None), ("Staging", None), ("Prod", None)],
    );
    let check_t = union(
        "Check",
        &["a"],
        vec![
            ("Pass", None),
            (
                "Fail",
                Some(t(TypeKind::Record {
                    fields: vec![FieldType {
                        name: id("value"),
                        ty: tvar("a"),
                    }],
                    rest: None,
                })),
            ),
        ],
    );
    let f = b.lam(
        &["e"],
        b.mat(
            b.var("e"),
            vec![
                (pctor("Dev", None), b.int(1)),
                (pctor("Prod", None), b.int(3)),
            ],
        ),
    );
    let g = b.lam(
        &["o"],
        b.mat(
            b.var("o"),
            vec![
                (pctor("Some", Some(pvar("v"))), b.var("v")),
                (pwild(), b.int(0)),
            ],
        ),
    );
    let h = b.lam(
        &["o"],
        b.mat(
            b.var("o"),
            vec![
                (pctor("Some", None), b.int(1)),
                (pctor("None", Some(pvar("x"))), b.int(0)),
            ],
        ),
    );
    let fail = b.app(b.ctor("Fail"), vec![b.rec(vec![("value", b.int(3))])]);
    let nested = b.lam(
        &["o"],
        b.mat(
            b.var("o"),
            vec![
                (
                    pctor("Some", Some(pctor("Ok", Some(pvar("v"))))),
                    b.var("v"),
                ),
                (pctor("Some", Some(pctor("Err", Some(pwild())))), b.int(0)),
                (pctor("None", None), b.int(1)),
            ],
        ),
    );
    let port = alias("Port", &[], tcon("Int", vec![]));
    check_ast(
        &b,
        vec![
            env,
            check_t,
            let_("f", f),
            let_("g", g),
            let_("h", h),
            let_("fail", fail),
            let_("nested", nested),
            port,
            let_ann("p", tcon("Port", vec![]), b.int(8080)),
        ],
        "f : Env -> Integer
g : Option Integer -> Integer
h : Option 'a -> Integer
fail : Check Integer
nested : Option (Result Integer 'a) -> Integer
p : Integer
T2013: non-exhaustive match: `Staging` is not covered
T2011: the constructor `Some` needs a payload pattern
T2011: the constructor `None` has no payload",
    );
}

#[test]
fn let_polymorphism_and_rec() {
    let b = B::default();
    let poly = b.let_in(
        "id",
        b.lam(&["x"], b.var("x")),
        b.rec(vec![
            ("a", b.app(b.var("id"), vec![b.int(1)])),
            ("b", b.app(b.var("id"), vec![b.str("s")])),
        ]),
    );
    let pow2 = b.lam(
        &["n"],
        b.iff(
            b.bin(BinOp::Eq, b.var("n"), b.int(0)),
            b.int(1),
            b.bin(
                BinOp::Mul,
                b.int(2),
                b.app(b.var("pow2"), vec![b.bin(BinOp::Sub, b.var("n"), b.int(1))]),
            ),
        ),
    );
    let bad = b.lam(&["n"], b.app(b.var("bad"), vec![b.var("n")]));
    let feq = b.bin(
        BinOp::Eq,
        b.lam(&["x"], b.var("x")),
        b.lam(&["y"], b.var("y")),
    );
    let geq = b.lam(&["a", "c"], b.bin(BinOp::Eq, b.var("a"), b.var("c")));
    check_ast(
        &b,
        vec![
            let_("poly", poly),
            let_rec("pow2", pow2),
            let_("bad", bad),
            let_("feq", feq),
            let_("geq", geq),
        ],
        "poly : { a: Integer, b: String }
pow2 : Integer -> Integer
bad : 'a -> ?
feq : Bool
geq : 'a -> 'a -> Bool
T2003: unknown value `bad`
T2010: cannot compare values of type `'a -> 'a`: it contains a function",
    );
}

#[test]
fn annotations_are_fresh_in_expressions() {
    let b = B::default();
    let e = b.lam_ann("v", tvar("a"), b.bin(BinOp::Add, b.var("v"), b.int(1)));
    let z = b.bin(
        BinOp::Add,
        b.ann(b.int(1), tcon("Integer", vec![])),
        b.int(2),
    );
    let body = b.app(b.var("length"), vec![b.list(vec![])]);
    let got = run(&b, vec![let_("e", e), let_("z", z)], Some(body));
    assert_eq!(
        got.trim(),
        "e : Integer -> Integer\nz : Integer\nbody : Integer"
    );
}

fn qn(n: &str) -> QName {
    QName {
        module: None,
        name: id(n),
        span: sp(),
    }
}
fn constraint(class: &str, args: Vec<Type>) -> Constraint {
    Constraint {
        class: qn(class),
        args,
        span: sp(),
    }
}
fn class(
    name: &str,
    supers: Vec<Constraint>,
    methods: Vec<(&str, Type)>,
    defaults: Vec<(&str, Expr)>,
) -> Decl {
    decl(DeclKind::Class(ClassDecl {
        name: id(name),
        params: vec![id("a")],
        superclasses: supers,
        methods: methods
            .into_iter()
            .map(|(n, ty)| MethodSig {
                name: id(n),
                ty,
                span: sp(),
            })
            .collect(),
        defaults: defaults
            .into_iter()
            .map(|(n, value)| MethodDef {
                name: id(n),
                value,
                span: sp(),
            })
            .collect(),
    }))
}
fn instance(
    context: Vec<Constraint>,
    class: &str,
    args: Vec<Type>,
    methods: Vec<(&str, Expr)>,
) -> Decl {
    decl(DeclKind::Instance(InstanceDecl {
        context,
        class: qn(class),
        args,
        methods: methods
            .into_iter()
            .map(|(n, value)| MethodDef {
                name: id(n),
                value,
                span: sp(),
            })
            .collect(),
        head_span: sp(),
    }))
}

#[test]
fn classes_and_dictionaries() {
    use super::elab::{DictExpr, InstanceRef};
    let b = B::default();
    let s = || tcon("String", vec![]);
    let render_cls = class(
        "Render",
        vec![],
        vec![("render", tfun(tvar("a"), s()))],
        vec![],
    );
    let label_default = b.lam(
        &["v"],
        b.bin(
            BinOp::Concat,
            b.str("<"),
            b.app(b.var("render"), vec![b.var("v")]),
        ),
    );
    let labelled = class(
        "Labelled",
        vec![constraint("Render", vec![tvar("a")])],
        vec![("label", tfun(tvar("a"), s()))],
        vec![("label", label_default)],
    );
    let r_int = instance(
        vec![],
        "Render",
        vec![tcon("Integer", vec![])],
        vec![(
            "render",
            b.lam(&["n"], b.app(b.var("toString"), vec![b.var("n")])),
        )],
    );
    let list_render_use = b.var("render");
    let list_render_id = list_render_use.id;
    let r_list = instance(
        vec![constraint("Render", vec![tvar("a")])],
        "Render",
        vec![tcon("List", vec![tvar("a")])],
        vec![(
            "render",
            b.lam(
                &["xs"],
                b.app(
                    b.var("fold"),
                    vec![
                        b.lam(
                            &["acc", "x"],
                            b.bin(
                                BinOp::Concat,
                                b.var("acc"),
                                b.app(list_render_use, vec![b.var("x")]),
                            ),
                        ),
                        b.str(""),
                        b.var("xs"),
                    ],
                ),
            ),
        )],
    );
    let use_a = b.var("render");
    let use_a_id = use_a.id;
    let a = b.app(use_a, vec![b.list(vec![b.int(1), b.int(2)])]);
    let use_f = b.var("render");
    let use_f_id = use_f.id;
    let f_rhs = b.lam(&["x"], b.app(use_f, vec![b.var("x")]));
    let f_rhs_id = f_rhs.id;
    let g = b.lam(
        &["x"],
        b.bin(
            BinOp::Concat,
            b.app(b.var("label"), vec![b.var("x")]),
            b.app(b.var("render"), vec![b.var("x")]),
        ),
    );
    let h = b.app(b.var("render"), vec![b.float(1.5)]);
    let zero_cls = class("Zero", vec![], vec![("zero", tvar("a"))], vec![]);
    let zero_int = instance(
        vec![],
        "Zero",
        vec![tcon("Integer", vec![])],
        vec![("zero", b.int(0))],
    );
    let zero_use = b.var("zero");
    let zero_use_id = zero_use.id;
    let zz = b.bin(
        BinOp::Add,
        b.ann(zero_use, tcon("Integer", vec![])),
        b.int(1),
    );
    let amb = b.app(b.var("toString"), vec![b.var("zero")]);
    let bad_inst = instance(vec![], "Numeric", vec![s()], vec![]);
    let overlap = instance(
        vec![],
        "Zero",
        vec![tcon("Int", vec![])],
        vec![("zero", b.int(1))],
    );
    let missing = instance(vec![], "Zero", vec![s()], vec![]);
    let no_super = instance(vec![], "Labelled", vec![tcon("Bool", vec![])], vec![]);
    let bad_head = instance(
        vec![],
        "Render",
        vec![tvar("a")],
        vec![("render", b.lam(&["x"], b.str("")))],
    );
    let decls = vec![
        render_cls,
        labelled,
        r_int,
        r_list,
        let_("a", a),
        let_("f", f_rhs),
        let_("g", g),
        let_("h", h),
        zero_cls,
        zero_int,
        let_("zz", zz),
        let_("amb", amb),
        bad_inst,
        overlap,
        missing,
        no_super,
        bad_head,
    ];
    let module = Module {
        header: None,
        imports: Vec::new(),
        decls,
        body: None,
        n_exprs: b.next.get(),
    };
    let checked = check_module(FileId(0), &module);
    let mut out = String::new();
    for binding in &checked.bindings {
        out.push_str(&format!(
            "{} : {} {}\n",
            binding.name, binding.scheme, binding.in_document
        ));
    }
    for d in &checked.diagnostics {
        out.push_str(&format!("{}: {}\n", d.code, d.message));
    }
    assert_eq!(
        out.trim(),
        "a : String true
f : Render 'a => 'a -> String false
g : Labelled 'a => 'a -> String false
h : String true
zz : Integer true
amb : String true
T2008: no instance of `Render` for `Float`
T2012: ambiguous type: the constraint `Zero 'a` cannot be determined
T2007: the built-in class `Numeric` is closed: it cannot get new instances
T2009: overlapping instances of `Zero` for `Integer`
T2007: the instance lacks the method `zero`
T2008: no instance of `Render` for `Bool`
T2007: invalid instance head `'a`: expected a type constructor applied to distinct type variables"
    );
    let e = &checked.elaboration;
    let int_inst = DictExpr::Instance {
        instance: InstanceRef {
            module: FileId(0),
            decl: 2,
        },
        args: vec![],
    };
    assert_eq!(
        e.dicts_at(use_a_id),
        &[DictExpr::Instance {
            instance: InstanceRef {
                module: FileId(0),
                decl: 3
            },
            args: vec![int_inst]
        }]
    );
    assert_eq!(
        e.dicts_at(use_f_id),
        &[DictExpr::Param {
            binder: f_rhs_id,
            index: 0
        }]
    );
    assert_eq!(e.n_params(f_rhs_id), 1);
    assert_eq!(
        e.dicts_at(list_render_id),
        &[DictExpr::Context { index: 0 }]
    );
    assert_eq!(
        e.dicts_at(zero_use_id),
        &[DictExpr::Instance {
            instance: InstanceRef {
                module: FileId(0),
                decl: 9
            },
            args: vec![]
        }]
    );
}

#[test]
fn many_bindings_are_linear() {
    let b = B::default();
    let mut decls = Vec::new();
    let n = 100_000;
    for i in 0..n {
        let value = if i == 0 {
            b.rec(vec![("n", b.int(1)), ("s", b.str("x"))])
        } else {
            let prev = format!("x{}", i - 1);
            b.rec(vec![
                ("n", b.bin(BinOp::Add, b.field(b.var(&prev), "n"), b.int(1))),
                ("s", b.field(b.var(&prev), "s")),
            ])
        };
        decls.push(let_(&format!("x{i}"), value));
    }
    let module = Module {
        header: None,
        imports: Vec::new(),
        decls,
        body: None,
        n_exprs: b.next.get(),
    };
    // Timed outside the library's tests (which read no clock): about 0.2 s in release.
    let checked = check_module(FileId(0), &module);
    assert!(checked.diagnostics.is_empty());
    assert_eq!(checked.bindings.len(), n);
}

// ---------------------------------------------------------------- from source

/// Parses `src` with the test parser, checks it, and prints every binding's scheme, the
/// trailing expression's type and every diagnostic (code and message).
fn check_src(src: &str) -> String {
    let module = super::testparse::parse(src).expect("the test parser accepts this program");
    let checked = check_module(FileId(0), &module);
    let mut out = String::new();
    for binding in &checked.bindings {
        out.push_str(&format!("{} : {}\n", binding.name, binding.scheme));
    }
    if let Some(body) = &checked.body_type {
        out.push_str(&format!("body : {body}\n"));
    }
    for d in &checked.diagnostics {
        out.push_str(&format!("{}: {}\n", d.code, d.message));
    }
    out
}

fn check(src: &str, expect: &str) {
    let got = check_src(src);
    assert_eq!(got.trim(), expect.trim(), "\n--- got ---\n{got}");
}

/// The `types/ok` fixtures with their expected schemes (compiled in: the library's tests
/// read no files).
const OK_FIXTURES: &[(&str, &str, &str)] = &[
    (
        "classes_and_instances",
        include_str!("../../tests/fixtures/types/ok/classes_and_instances.lig"),
        include_str!("../../tests/fixtures/types/ok/classes_and_instances.out"),
    ),
    (
        "deploy_example",
        include_str!("../../tests/fixtures/types/ok/deploy_example.lig"),
        include_str!("../../tests/fixtures/types/ok/deploy_example.out"),
    ),
    (
        "records_rows_and_spread",
        include_str!("../../tests/fixtures/types/ok/records_rows_and_spread.lig"),
        include_str!("../../tests/fixtures/types/ok/records_rows_and_spread.out"),
    ),
    (
        "section_6_9_examples",
        include_str!("../../tests/fixtures/types/ok/section_6_9_examples.lig"),
        include_str!("../../tests/fixtures/types/ok/section_6_9_examples.out"),
    ),
    (
        "std_core_functions",
        include_str!("../../tests/fixtures/types/ok/std_core_functions.lig"),
        include_str!("../../tests/fixtures/types/ok/std_core_functions.out"),
    ),
    (
        "unions_aliases_refinements",
        include_str!("../../tests/fixtures/types/ok/unions_aliases_refinements.lig"),
        include_str!("../../tests/fixtures/types/ok/unions_aliases_refinements.out"),
    ),
];

/// The `errors/<CODE>.lig` fixtures of the check phase.
const ERROR_FIXTURES: &[(&str, &str)] = &[
    (
        "C5001",
        include_str!("../../tests/fixtures/errors/C5001.lig"),
    ),
    (
        "C5002",
        include_str!("../../tests/fixtures/errors/C5002.lig"),
    ),
    (
        "T2001",
        include_str!("../../tests/fixtures/errors/T2001.lig"),
    ),
    (
        "T2002",
        include_str!("../../tests/fixtures/errors/T2002.lig"),
    ),
    (
        "T2003",
        include_str!("../../tests/fixtures/errors/T2003.lig"),
    ),
    (
        "T2004",
        include_str!("../../tests/fixtures/errors/T2004.lig"),
    ),
    (
        "T2005",
        include_str!("../../tests/fixtures/errors/T2005.lig"),
    ),
    (
        "T2006",
        include_str!("../../tests/fixtures/errors/T2006.lig"),
    ),
    (
        "T2007",
        include_str!("../../tests/fixtures/errors/T2007.lig"),
    ),
    (
        "T2008",
        include_str!("../../tests/fixtures/errors/T2008.lig"),
    ),
    (
        "T2009",
        include_str!("../../tests/fixtures/errors/T2009.lig"),
    ),
    (
        "T2010",
        include_str!("../../tests/fixtures/errors/T2010.lig"),
    ),
    (
        "T2011",
        include_str!("../../tests/fixtures/errors/T2011.lig"),
    ),
    (
        "T2012",
        include_str!("../../tests/fixtures/errors/T2012.lig"),
    ),
    (
        "T2013",
        include_str!("../../tests/fixtures/errors/T2013.lig"),
    ),
    (
        "T2014",
        include_str!("../../tests/fixtures/errors/T2014.lig"),
    ),
    (
        "T2015",
        include_str!("../../tests/fixtures/errors/T2015.lig"),
    ),
];

#[test]
fn ok_fixtures_match_their_expected_schemes() {
    let mut failures = Vec::new();
    for (name, src, expected) in OK_FIXTURES {
        let got = check_src(src);
        if got != *expected {
            failures.push(format!("{name}:\n--- expected\n{expected}--- got\n{got}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn error_fixtures_trigger_exactly_their_code() {
    let mut failures = Vec::new();
    for (code, src) in ERROR_FIXTURES {
        let module = super::testparse::parse(src).expect("parses");
        let checked = check_module(FileId(0), &module);
        let codes: Vec<&str> = checked
            .diagnostics
            .iter()
            .map(|d| d.code.as_str())
            .collect();
        if codes != [*code] {
            let all: Vec<String> = checked
                .diagnostics
                .iter()
                .map(|d| format!("{} {}", d.code, d.message))
                .collect();
            failures.push(format!("{code}: {all:?}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn section_4_examples() {
    check(
        "let base = 8000;
let apiPort = base + 80;
let rec pow2 = \\n -> if n == 0 then 1 else 2 * pow2 (n - 1);
let limit = pow2 10;
let bad = \\n -> if n == 0 then 0 else bad (n - 1);",
        "base : Integer
apiPort : Integer
pow2 : Integer -> Integer
limit : Integer
bad : Integer -> Integer
T2003: unknown value `bad`",
    );
    check(
        "typeclass Render 'a where
    render : 'a -> String;
instance Render Integer where
    render = \\n -> toString n;
instance Render 'a => Render (List 'a) where
    render = \\xs -> \"[\" ++ fold (\\acc x -> if acc == \"\" then render x else acc ++ \";\" ++ render x) \"\" xs ++ \"]\";
instance Render 'a => Render (Option 'a) where
    render = \\o -> match o { Some v => \"Some \" ++ render v, None => \"None\" };
let a = render [1, 2, 3];
let b = render (Some 2);
let c = render (head []);
render (Some [1])",
        "a : String
b : String
c : String
body : String
T2012: ambiguous type: the constraint `Render 'a` cannot be determined",
    );
}

#[test]
fn section_5_11_examples() {
    check(
        "let a = (\\a b -> a * 10 + b) 4 2;
let b = let rec fib = \\n -> if n < 2 then n else fib (n - 1) + fib (n - 2) in fib 10;
let c = if 2 > 3 then \"a\" else if 2 == 2 then \"b\" else \"c\";
let d = [1, 2] ++ [3];
let e = map (\\n -> n * n) (range 1 4);
let f = match [3, 4] { [] => 0, [a] => a, [a, b] => a * b, _ => -1 };
let g = match Some 4 { Some n when n > 5 => \"big\", Some n => \"small \" ++ toString n, None => \"none\" };
let h = match { kind = \"db\", size = 3 } { { kind = \"db\", size = n } when n > 2 => \"big db\", { kind, .. } => kind };
let i = match 7 { 1 => \"one\", 2 => \"two\" };
let j = (\\x -> x) 1 2;
let k = { name = \"api\", replicas = 2 }.replicas;
let offset = 10 in let shift = \\v -> v + offset in let offset = 1000 in shift 5",
        "a : Integer
b : Integer
c : String
d : List Integer
e : List Integer
f : Integer
g : String
h : String
i : String
j : ?
k : Integer
body : Integer
T2001: expected a function, found `Integer`",
    );
}

#[test]
fn trailing_expression_and_classes_in_let_in() {
    check(
        "typeclass Describe 'a where
    describe : 'a -> String;
instance Describe Integer where
    describe = \\n -> toString n;
let twice = \\x -> let d = \\y -> describe y ++ describe y in d x;
let n = twice 3;
\\x -> x * x",
        "twice : Describe 'a => 'a -> String
n : String
body : 'a -> 'a
T2012: the trailing expression has unresolved constraints: `Numeric 'a => 'a -> 'a`",
    );
}

#[test]
fn duplicates_and_prelude_redefinitions() {
    check(
        "type Option 'a = Some 'a | Nope;
type Env = Dev | Prod;
type Env = Test;
type Other = Dev;
typeclass Numeric 'a where
    plus : 'a -> 'a;
typeclass Show 'a where
    show : 'a -> String;
let show = 1;
let map = 2;",
        "show : Integer
map : Integer
T2006: the prelude type `Option` cannot be redefined
T2006: the prelude constructor `Some` cannot be redefined
T2006: the type `Env` is defined twice
T2006: the constructor `Dev` is defined twice
T2006: the prelude class `Numeric` cannot be redefined
T2006: the value `show` is defined twice",
    );
}

#[test]
fn equality_on_functions_is_reported_only_when_known() {
    check(
        "let eq = \\a b -> a == b;
let ok = eq 1 2;
let bad = eq (\\x -> x) (\\y -> y);
let alsoBad = [\\x -> x + 1] == [];",
        "eq : 'a -> 'a -> Bool
ok : Bool
bad : Bool
alsoBad : Bool
T2010: cannot compare values of type `List (Integer -> Integer)`: it contains a function",
    );
}

#[test]
fn deep_nesting_does_not_overflow_a_big_stack() {
    let mut src = String::new();
    for i in 0..10_000 {
        src.push_str(&format!("let a{i} = {i} in "));
    }
    src.push_str("a9999");
    let nested = format!("let xs = {}1{};", "[".repeat(10_000), "]".repeat(10_000));
    let parsed = std::thread::Builder::new()
        .stack_size(1 << 30)
        .spawn(move || {
            (
                super::testparse::parse(&src),
                super::testparse::parse(&nested),
            )
        })
        .expect("spawn")
        .join()
        .expect("parse");
    let (Some(a), Some(b)) = parsed else {
        panic!("parse")
    };
    let out = std::thread::Builder::new()
        .stack_size(32 << 20)
        .spawn(move || {
            let x = check_module(FileId(0), &a);
            let y = check_module(FileId(0), &b);
            std::mem::forget(a);
            std::mem::forget(b);
            (x.body_type, y.bindings.len())
        })
        .expect("spawn")
        .join()
        .expect("no overflow");
    assert_eq!(out, (Some("Integer".to_string()), 1));
}

/// The `services` and `chain` workloads of `benches/gen.py` at 100,000 bindings.
fn bench_source(workload: &str, n: usize) -> String {
    let mut out = String::new();
    if workload == "services" {
        out.push_str(
            "let mk = \\i w -> {
    name = \"svc-\" ++ toString i,
    port = 8000 + i % 1000,
    replicas = if i % 3 == 0 then 3 else 1,
    weight = w,
    resources = { cpu = i % 4 + 1, memoryMb = (i % 8 + 1) * 256 },
    tags = [\"tier-\" ++ toString (i % 5), w]
};
",
        );
        for i in 0..n {
            out.push_str(&format!("let s{i} = mk {i} \"w{i}\";\n"));
        }
        out.push_str("{ services = [");
        out.push_str(
            &(0..n)
                .map(|i| format!("s{i}"))
                .collect::<Vec<_>>()
                .join(", "),
        );
        out.push_str("] }\n");
    } else {
        out.push_str("let c0 = { n = 0, label = \"c0\" };\n");
        for i in 1..n {
            out.push_str(&format!(
                "let c{i} = {{ n = c{}.n + {}, label = \"c{i}\" }};\n",
                i - 1,
                i % 7
            ));
        }
        out.push_str(&format!("{{ last = c{} }}\n", n - 1));
    }
    out
}

#[test]
fn benchmark_workloads_check_quickly() {
    for workload in ["services", "chain"] {
        let src = bench_source(workload, 100_000);
        let module = super::testparse::parse(&src).expect("parses");
        // Timed outside the library's tests: about 0.2 s each in release on this machine.
        let checked = check_module(FileId(0), &module);
        assert!(checked.diagnostics.is_empty(), "{workload}");
    }
}

/// Every `Var` expression of a module (in declarations, instance methods, defaults and
/// the body), as (id, name).
fn var_names(module: &Module) -> Vec<(ExprId, String)> {
    fn walk(e: &Expr, out: &mut Vec<(ExprId, String)>) {
        match &e.kind {
            ExprKind::Var(n) => out.push((e.id, n.to_string())),
            ExprKind::Lambda { body, .. } => walk(body, out),
            ExprKind::App { func, args } => {
                walk(func, out);
                args.iter().for_each(|a| walk(a, out));
            }
            ExprKind::Let { value, body, .. } => {
                walk(value, out);
                walk(body, out);
            }
            ExprKind::If {
                cond,
                then_branch,
                else_branch,
            } => {
                walk(cond, out);
                walk(then_branch, out);
                walk(else_branch, out);
            }
            ExprKind::Match { scrutinee, cases } => {
                walk(scrutinee, out);
                for c in cases {
                    if let Some(g) = &c.guard {
                        walk(g, out);
                    }
                    walk(&c.body, out);
                }
            }
            ExprKind::Binary { lhs, rhs, .. } => {
                walk(lhs, out);
                walk(rhs, out);
            }
            ExprKind::Unary { operand, .. } => walk(operand, out),
            ExprKind::Field { expr, .. } => walk(expr, out),
            ExprKind::Record { base, fields } => {
                if let Some(b) = base {
                    walk(b, out);
                }
                fields.iter().for_each(|f| walk(&f.value, out));
            }
            ExprKind::List(items) => items.iter().for_each(|i| walk(i, out)),
            ExprKind::Ann { expr, .. } => walk(expr, out),
            _ => {}
        }
    }
    let mut out = Vec::new();
    for d in &module.decls {
        match &d.kind {
            DeclKind::Let(l) => walk(&l.value, &mut out),
            DeclKind::Class(c) => c.defaults.iter().for_each(|m| walk(&m.value, &mut out)),
            DeclKind::Instance(i) => i.methods.iter().for_each(|m| walk(&m.value, &mut out)),
            _ => {}
        }
    }
    if let Some(b) = &module.body {
        walk(b, &mut out);
    }
    out
}

/// Prints the dictionaries passed at every use, in source order, with binders named by
/// the binding whose right-hand side they are (`@name`).
fn elaborate(src: &str) -> String {
    use super::elab::DictExpr;
    let module = super::testparse::parse(src).expect("parses");
    let checked = check_module(FileId(0), &module);
    let mut binders = std::collections::HashMap::new();
    for d in &module.decls {
        match &d.kind {
            DeclKind::Let(l) => {
                binders.insert(l.value.id, l.name.name.to_string());
            }
            DeclKind::Class(c) => c.defaults.iter().for_each(|m| {
                binders.insert(m.value.id, format!("default {}", m.name.name));
            }),
            DeclKind::Instance(i) => i.methods.iter().for_each(|m| {
                binders.insert(m.value.id, format!("method {}", m.name.name));
            }),
            _ => {}
        }
    }
    fn show(d: &DictExpr, binders: &std::collections::HashMap<ExprId, String>) -> String {
        match d {
            DictExpr::Instance { instance, args } => {
                let args: Vec<String> = args.iter().map(|a| show(a, binders)).collect();
                format!("inst{}({})", instance.decl, args.join(", "))
            }
            DictExpr::Param { binder, index } => {
                format!(
                    "param{index}@{}",
                    binders
                        .get(binder)
                        .cloned()
                        .unwrap_or_else(|| format!("{binder:?}"))
                )
            }
            DictExpr::Context { index } => format!("ctx{index}"),
            DictExpr::SelfDict => "self".into(),
            DictExpr::Super { dict, index } => format!("super{index}({})", show(dict, binders)),
        }
    }
    let mut out = String::new();
    for d in &checked.diagnostics {
        out.push_str(&format!("{}: {}\n", d.code, d.message));
    }
    for (id, name) in var_names(&module) {
        let dicts = checked.elaboration.dicts_at(id);
        if !dicts.is_empty() {
            let shown: Vec<String> = dicts.iter().map(|d| show(d, &binders)).collect();
            out.push_str(&format!("{name}: {}\n", shown.join(", ")));
        }
    }
    let mut params: Vec<String> = checked
        .elaboration
        .params
        .iter()
        .map(|(id, n)| {
            format!(
                "params {} = {n}",
                binders
                    .get(id)
                    .cloned()
                    .unwrap_or_else(|| format!("{id:?}"))
            )
        })
        .collect();
    params.sort();
    for p in params {
        out.push_str(&p);
        out.push('\n');
    }
    let mut supers: Vec<_> = checked.elaboration.instance_supers.iter().collect();
    supers.sort_by_key(|(k, _)| **k);
    for (decl, dicts) in supers {
        let shown: Vec<String> = dicts.iter().map(|d| show(d, &binders)).collect();
        out.push_str(&format!("supers inst{decl} = [{}]\n", shown.join(", ")));
    }
    out
}

#[test]
fn elaboration_follows_the_contract() {
    let got = elaborate(
        "typeclass Render 'a where
    render : 'a -> String;
typeclass Labelled 'a where
    superclass Render 'a;
    label : 'a -> String;
    label = \\v -> \"<\" ++ render v ++ \">\";
instance Render Integer where
    render = \\n -> toString n;
instance Render 'a => Render (List 'a) where
    render = \\xs -> fold (\\acc x -> acc ++ render x) \"\" xs;
instance Render 'a => Labelled (List 'a) where
instance Labelled Integer where
let show = \\x -> render x;
let shown = show [[1]];
let both = \\x -> label x ++ show [x];
let local = \\y -> let f = \\z -> render z ++ render y in f 1 ++ f y;
let rec loop = \\n x -> if n == 0 then render x else loop (n - 1) x;
let fromLabel : Labelled 'a => 'a -> String = \\x -> render x;
let final = both 3 ++ fromLabel [2];",
    );
    assert_eq!(
        got.trim(),
        "render: super0(self)
render: ctx0
render: param0@show
show: inst3(inst3(inst2()))
label: param0@both
show: inst3(super0(param0@both))
render: param0@ExprId(48)
render: param0@local
f: inst2()
f: param0@local
render: param0@loop
loop: param0@loop
render: super0(param0@fromLabel)
both: inst5()
fromLabel: inst4(inst2())
params ExprId(48) = 1
params both = 1
params fromLabel = 1
params local = 1
params loop = 1
params show = 1
supers inst2 = []
supers inst3 = []
supers inst4 = [inst3(ctx0)]
supers inst5 = [inst2()]"
    );
}

#[test]
fn builtins_operators_and_spec_examples() {
    check(
        "let a = length \"tab\\there\";
let b = toFloat 1 + 2.5;
let c = { x = 1, y = 2 } == { y = 2, x = 1 };
let d = fold (\\acc n -> acc * 10 + n) 0 [4, 0, 2];
let e = filter (\\s -> endsWith s \".lig\") [\"a.lig\", \"b.md\"];
let f = all (\\p -> p > 1023) [8080, 443];
let g = tail [1];
let h = cons 0 (reverse (range 1 4));
let i = parseInt \"-42\";
let j = \"n=\" ++ toString 5;
let k = -9 / 4;
let l = !true || 1 / 0 == 1;
let m = [1] < [2];
let n = true < false;
let o = \"n=\" ++ 5;
let p = length 3;
let q = map Some [1, 2];
let r = error \"boom\";
let s = \\(v : 'a) -> v + 1;",
        "a : Integer
b : Float
c : Bool
d : Integer
e : List String
f : Bool
g : Option (List Integer)
h : List Integer
i : Option Integer
j : String
k : Integer
l : Bool
m : Bool
n : Bool
o : String
p : Integer
q : List (Option Integer)
r : 'a
s : Integer -> Integer
T2008: no instance of `Ordered` for `List Integer`
T2008: no instance of `Ordered` for `Bool`
T2001: expected `String`, found `Integer`
T2008: no instance of `Sized` for `Integer`",
    );
}

#[test]
fn document_membership() {
    let module = super::testparse::parse(
        "typeclass Render 'a where
    render : 'a -> String;
let name = \"edge\";
let double = \\n -> n * 2;
let replicas = double 3;
let sq = \\x -> x * x;
let show = render;
let pair = { f = \\x -> x, n = 1 };",
    )
    .expect("parses");
    let checked = check_module(FileId(0), &module);
    let flags: Vec<(String, bool)> = checked
        .bindings
        .iter()
        .map(|b| (b.name.to_string(), b.in_document))
        .collect();
    let expect: Vec<(String, bool)> = [
        ("name", true),
        ("double", false),
        ("replicas", true),
        ("sq", false),
        ("show", false),
        ("pair", true),
    ]
    .iter()
    .map(|(n, b)| (n.to_string(), *b))
    .collect();
    assert_eq!(flags, expect);
    assert!(checked.diagnostics.is_empty());
}

#[test]
fn multi_parameter_classes_and_constrained_methods() {
    check(
        "typeclass Convert 'a 'b where
    convert : 'a -> 'b;
instance Convert Integer String where
    convert = \\n -> toString n;
typeclass Render 'a where
    render : 'a -> String;
typeclass Container 'f where
    describeWith : Render 'x => 'f -> 'x -> String;
instance Render Integer where
    render = \\n -> toString n;
instance Container Bool where
    describeWith = \\b x -> render x;
type L 'a = List 'a;
instance Render 'a => Render (L 'a) where
    render = \\xs -> \"list\";
let s : String = convert 1;
let d = describeWith true 3;
let r = render [1];
let bad = convert 1;",
        "s : String
d : String
r : String
bad : Convert Integer 'a => 'a",
    );
}

#[test]
fn annotations_with_contexts_and_rigid_variables() {
    check(
        "let f : Numeric 'a => 'a -> 'a = \\x -> x + x;
let g : 'a -> 'a = \\x -> x + x;
let id : 'a -> 'a = \\v -> v;
let k : a -> b -> a = \\x y -> x;
let wrong : a -> b -> a = \\x y -> y;
let local = let h : 'a -> List 'a = \\x -> [x] in { a = h 1, b = h \"s\" };
let n = f 2.5;",
        "f : Numeric 'a => 'a -> 'a
g : 'a -> 'a
id : 'a -> 'a
k : 'a -> 'b -> 'a
wrong : 'a -> 'b -> 'a
local : { a: List Integer, b: List String }
n : Float
T2008: no instance of `Numeric` for `'a`
T2001: expected `'a -> 'b -> 'a`, found `'a -> 'b -> 'b`",
    );
}

#[test]
fn rigid_variables_do_not_escape() {
    check(
        "let f = \\y -> let g : 'a -> 'a = \\x -> y in g;",
        "f : 'a -> 'b -> 'b
T2001: expected `'a -> 'a`, found `'a -> 'b`",
    );
}

#[test]
fn recovery_placeholders_never_cascade_or_panic() {
    let b = B::default();
    let err = || b.e(ExprKind::Error);
    let terr = || t(TypeKind::Error);
    let perr = || p(PatternKind::Error);
    let decls = vec![
        let_("a", b.app(err(), vec![b.int(1), err()])),
        let_("c", b.field(err(), "x")),
        let_("d", b.spread(err(), vec![("a", b.int(1))])),
        let_(
            "e",
            b.mat(
                err(),
                vec![(perr(), b.int(1)), (pctor("Some", Some(perr())), err())],
            ),
        ),
        let_ann("f", terr(), b.int(1)),
        let_("g", b.bin(BinOp::Add, err(), b.float(1.0))),
        let_("h", b.ann(err(), tcon("List", vec![terr()]))),
        let_(
            "i",
            b.lam_ann("x", terr(), b.bin(BinOp::Eq, b.var("x"), err())),
        ),
        alias("T", &[], terr()),
        union("U", &[], vec![("V", Some(terr()))]),
        let_("j", b.app(b.ctor("V"), vec![err()])),
        decl(DeclKind::Class(ClassDecl {
            name: id("K"),
            params: vec![id("a")],
            superclasses: vec![],
            methods: vec![MethodSig {
                name: id("m"),
                ty: terr(),
                span: sp(),
            }],
            defaults: vec![],
        })),
        decl(DeclKind::Instance(InstanceDecl {
            context: vec![],
            class: QName {
                module: None,
                name: id("K"),
                span: sp(),
            },
            args: vec![terr()],
            methods: vec![MethodDef {
                name: id("m"),
                value: err(),
                span: sp(),
            }],
            head_span: sp(),
        })),
    ];
    let out = run(&b, decls, Some(err()));
    assert_eq!(
        out.trim(),
        "a : ?
c : 'a
d : ?
e : Integer
f : ?
g : ?
h : List ?
i : ? -> Bool
j : U
body : ?"
    );
}

#[test]
fn diagnostics_carry_spans_and_secondary_labels() {
    let src = "let a = b + 1;\nlet b = 2;\nlet c : Integer = \"s\";\nlet d = if true then 1 else \"x\";\nlet p : Port = 1;\ntype Port = Integer;";
    let module = super::testparse::parse(src).expect("parses");
    let checked = check_module(FileId(0), &module);
    let shown: Vec<String> = checked
        .diagnostics
        .iter()
        .map(|d| {
            let labels: Vec<String> = d
                .labels
                .iter()
                .map(|l| {
                    let text = &src[l.span.span.start as usize..l.span.span.end as usize];
                    format!("{}{}:{}", if l.primary { "*" } else { "" }, text, l.message)
                })
                .collect();
            format!("{} {}", d.code, labels.join(" | "))
        })
        .collect();
    assert_eq!(
        shown,
        [
            "T2003 *b: | b:`b` is declared later, here",
            "T2001 *\"s\": | Integer:expected because of this annotation",
            "T2001 *\"x\": | 1:expected because of this branch",
            "T2004 *Port: | Port:`Port` is declared later, here",
        ]
    );
}

#[test]
fn recursive_bindings() {
    check(
        "let rec f : Integer -> Integer = \\n -> if n == 0 then 0 else f (n - 1);
let rec count : List 'a -> Integer = \\xs -> match xs { [] => 0, [_] => 1, _ => 2 };
let rec sum = \\xs acc -> match xs { [] => acc, _ => sum [] (acc + 1) };
let fib = let rec go = \\n -> if n < 2 then n else go (n - 1) + go (n - 2) in go;
let rec bad = \\n -> bad;",
        "f : Integer -> Integer
count : List 'a -> Integer
sum : List 'a -> Integer -> Integer
fib : Integer -> Integer
bad : 'a -> 'b
T2002: infinite type: expected `'a`, found `'b -> 'a`",
    );
}

#[test]
fn an_import_environment_plugs_in() {
    // Check a "library" module, then a module that sees its environment.
    let lib = super::testparse::parse(
        "typeclass Render 'a where
    render : 'a -> String;
instance Render Integer where
    render = \\n -> toString n;
let withDefault = \\d o -> match o { Some v => v, None => d };",
    )
    .expect("parses");
    let (lib_checked, env) = super::check_module_in(FileId(7), &lib, super::env::Env::prelude());
    assert!(lib_checked.diagnostics.is_empty());
    let user = super::testparse::parse("let x = render (withDefault 1 (Some 2));").expect("parses");
    let (checked, _) = super::check_module_in(FileId(8), &user, env);
    assert!(checked.diagnostics.is_empty());
    assert_eq!(&*checked.bindings[0].scheme, "String");
    let dicts: Vec<_> = checked.elaboration.uses.values().cloned().collect();
    assert_eq!(
        dicts,
        vec![vec![super::elab::DictExpr::Instance {
            instance: super::elab::InstanceRef {
                module: FileId(7),
                decl: 1
            },
            args: vec![]
        }]]
    );
}

#[test]
fn a_run_of_lets_of_one_closed_type_shares_its_scheme() {
    // Each let is compared with the previous monomorphic scheme (`Arena::is_exactly`)
    // instead of being written out: the printed types must be those of a fresh export, and
    // only lets whose type is exactly the previous one may share it.
    let src = "let mk = \\i w -> { name = w, port = i, tags = [w], res = { cpu = i } };
let a = mk 1 \"a\";
let b = mk 2 \"b\";
let c : { name: String, port: Integer, tags: List String, res: { cpu: Integer } } = mk 3 \"c\";
let d = { port = 1, name = \"d\", tags = [\"x\"], res = { cpu = 2 } };
let e = { name = \"e\", port = 1, tags = [\"x\"], res = { cpu = 2 } };
let f = { name = \"e\", port = 1, tags = [\"x\"], res = { cpu = 2.0 } };
let g = { name = \"e\", port = 1, tags = [\"x\"], res = { cpu = 2.0, mem = 1 } };
let h = { name = \"e\", port = 1, tags = [\"x\"], res = { cpu = 2.0 } };
let i = [];
let j = [];
let k = \\r -> r.port;
let l = \\r -> r.port;
let m = [[1]];
let n = [[\"1\"]];
let o = [1];
let p = { x = 1, y = 2 };
let q = { x = 1, z = 2 };
";
    let module = super::testparse::parse(src).expect("parses");
    let (checked, env) = super::check_module_in(FileId(0), &module, super::env::Env::prelude());
    let printed: Vec<String> = checked
        .bindings
        .iter()
        .map(|b| format!("{} : {}", b.name, b.scheme))
        .collect();
    assert_eq!(
        printed,
        [
            "mk : 'a -> 'b -> { name: 'b, port: 'a, tags: List 'b, res: { cpu: 'a } }",
            "a : { name: String, port: Integer, tags: List String, res: { cpu: Integer } }",
            "b : { name: String, port: Integer, tags: List String, res: { cpu: Integer } }",
            "c : { name: String, port: Integer, tags: List String, res: { cpu: Integer } }",
            "d : { port: Integer, name: String, tags: List String, res: { cpu: Integer } }",
            "e : { name: String, port: Integer, tags: List String, res: { cpu: Integer } }",
            "f : { name: String, port: Integer, tags: List String, res: { cpu: Float } }",
            "g : { name: String, port: Integer, tags: List String, res: { cpu: Float, mem: Integer } }",
            "h : { name: String, port: Integer, tags: List String, res: { cpu: Float } }",
            "i : List 'a",
            "j : List 'a",
            "k : { port: 'a | 'b } -> 'a",
            "l : { port: 'a | 'b } -> 'a",
            "m : List (List Integer)",
            "n : List (List String)",
            "o : List Integer",
            "p : { x: Integer, y: Integer }",
            "q : { x: Integer, z: Integer }",
        ]
    );
    assert!(checked.diagnostics.is_empty(), "{:?}", checked.diagnostics);
    let scheme = |name: &str| env.values[&Name::new(name)].scheme.clone();
    let same = |x: &str, y: &str| std::sync::Arc::ptr_eq(&scheme(x), &scheme(y));
    assert!(
        same("a", "b") && same("b", "c"),
        "a run of one type shares one scheme"
    );
    assert!(!same("c", "d") && !same("d", "e") && !same("e", "f") && !same("f", "g"));
    assert!(!same("m", "n") && !same("n", "o") && !same("p", "q"));
    assert_eq!(*scheme("a"), *scheme("e"));
}

/// Checks `module` with and without the module's shared closed types (`ClosedTypes`) and
/// returns both results, printed.
fn with_and_without_closed_types(module: &Module) -> (String, String) {
    let check = |shared: bool| {
        let checker =
            super::decl::ModuleChecker::new(FileId(0), module, super::env::Env::prelude());
        let checker = if shared {
            checker
        } else {
            checker.without_closed_types()
        };
        let checked = checker.check(module);
        format!(
            "{:#?}\n{:#?}\n{:?}\n{:#?}",
            checked.bindings, checked.diagnostics, checked.body_type, checked.elaboration
        )
    };
    (check(true), check(false))
}

#[test]
fn lets_sharing_closed_types_check_as_lets_that_do_not() {
    // Fixtures nest as deep as the parser allows: on the pipeline's stack, as in use.
    crate::par::on_pipeline_stack(closed_types_compared);
}

fn closed_types_compared() {
    // Closed top-level types are instantiated once per module and shared by later lets;
    // types, messages and elaboration must be exactly those of lets that instantiate
    // everything themselves. Closed values used as they are, through polymorphic and
    // row-polymorphic functions, in annotations that fail, in lists with other types,
    // compared, spread, and a run of one type (whose sharing is remembered).
    let src = "let mk = \\i w -> { name = w ++ \"\", port = i + 0, tags = [w], res = { cpu = i } };
let mkp = \\i w -> { name = w, port = i, tags = [w], res = { cpu = i } };
let t0 = mk 5 \"f\";
let n0 = 7;
let t1 = mk 6 \"g\";
let t2 = mk 7 \"h\";
let u0 = mkp 1 \"a\";
let u1 = mkp 1 \"a\";
let base = { name = \"b\", port = 1, tags = [\"t\"], res = { cpu = 1 } };
let one = 1;
let s0 = mk 1 \"a\";
let s1 = mk 2 \"b\";
let s2 = mk 3 \"c\";
let port = \\r -> r.port;
let p = port base + port s0 + one;
let ids = \\x -> x;
let q = ids base;
let bad : { name: String } = mk 4 \"d\";
let bad2 = [base, 1];
let bad3 = mk \"x\" 1;
let same = base == s1;
let more = { ...base, extra = one };
let pair = { l = base, r = s2 };
let nested = [[base], [s0, s1]];
let f = \\r -> { ...r, port = r.port + one };
let g = f base;
let h = (port (f s2)) + 1.5;
let i = mk one \"e\";
{ all = [s0, s1, s2, q, g, i, t0, t1, t2, u0, u1], p = p }
";
    let module = super::testparse::parse(src).expect("parses");
    let (shared, own) = with_and_without_closed_types(&module);
    assert_eq!(shared, own);
    assert!(
        shared.contains("T2001") || shared.contains("mismatch"),
        "{shared}"
    );
    // Every checker fixture too (those without imports).
    let mut compared = 0;
    for (path, module) in fixture_modules() {
        let (shared, own) = with_and_without_closed_types(&module);
        assert_eq!(shared, own, "{}", path.display());
        compared += 1;
    }
    assert!(compared >= 80, "only {compared} fixtures compared");
}

/// The checker's fixtures that parse and import nothing, with their paths, in order.
fn fixture_modules() -> Vec<(std::path::PathBuf, Module)> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut found = Vec::new();
    for dir in ["types/ok", "types/err", "eval", "errors"] {
        let mut paths: Vec<_> = std::fs::read_dir(root.join(dir))
            .expect("fixture directory")
            .map(|e| e.expect("entry").path())
            .filter(|p| p.extension().is_some_and(|e| e == "lig"))
            .collect();
        paths.sort();
        for path in paths {
            let text = std::fs::read_to_string(&path).expect("fixture");
            if let Some(module) = super::testparse::parse(&text) {
                if module.imports.is_empty() {
                    found.push((path, module));
                }
            }
        }
    }
    found
}

/// The local binders of `src` checked against `env`, as `name : type` in source order (the
/// name read from the source at the binder's span).
fn binders_in(src: &str, file: FileId, env: super::env::Env) -> Vec<String> {
    let module = super::testparse::parse(src).expect("parses");
    super::binder_types(file, &module, env)
        .iter()
        .map(|it| {
            let name = &src[it.span.start as usize..it.span.end as usize];
            format!("{name} : {}", it.ty)
        })
        .collect()
}

fn binders(src: &str) -> Vec<String> {
    binders_in(src, FileId(0), super::env::Env::prelude())
}

#[test]
fn binder_types_of_lambda_parameters() {
    assert_eq!(
        binders("let f = \\x y -> x + 1;\nlet g = \\(s : String) _ -> s;"),
        ["x : Integer", "y : 'a", "s : String"]
    );
    // Named as in the declaration's scheme `'a -> 'b -> 'a`.
    assert_eq!(binders("let k = \\a b -> a;"), ["a : 'a", "b : 'b"]);
}

#[test]
fn binder_types_of_nested_lambdas() {
    assert_eq!(
        binders("let f = \\x -> \\y -> \\z -> if z then x else y ++ \"!\";"),
        ["x : String", "y : String", "z : Bool"]
    );
}

#[test]
fn binder_types_of_let_in_mono_and_polymorphic() {
    assert_eq!(
        binders(
            "let cfg = let port = 8080 in let id = \\v -> v in { port = id port, host = id \"h\" };"
        ),
        ["port : Integer", "id : 'a -> 'a", "v : 'a"]
    );
    // A local scheme prints with its constraints and its own names; everything else shares
    // the names of the declaration's type (`f : 'a -> Integer`): `n`'s variable is not
    // `x`'s, so it is `'b`.
    assert_eq!(
        binders("let f = \\x -> let twice = \\n -> n + n in let y = x in twice 2;"),
        [
            "x : 'a",
            "twice : Numeric 'a => 'a -> 'a",
            "n : 'b",
            "y : 'a"
        ]
    );
}

#[test]
fn binder_types_fixed_later_in_the_declaration() {
    // `x` is unconstrained where it is bound; the rest of the declaration fixes it.
    assert_eq!(
        binders(
            "let main = let f = \\x -> x in (\\y -> y ++ \"a\") (let z = \\w -> w in z \"b\");"
        ),
        [
            "f : 'a -> 'a",
            "x : 'a",
            "y : String",
            "z : 'a -> 'a",
            "w : 'a"
        ]
    );
    assert_eq!(
        binders("let g = \\x -> let h = \\u -> x in h 1 ++ \"s\";"),
        ["x : String", "h : 'a -> String", "u : 'a"]
    );
}

#[test]
fn binder_types_of_pattern_variables() {
    let src = "type Shape = Circle Float | Rect { w: Float, h: Float };
let area = \\s -> match s {
    Circle r => r * r,
    Rect { w, h = height } => w * height,
};
let firstTwo = \\l -> match l { [a, b] => a ++ b, _ => \"\" };
let unwrap = \\o -> match o { Some v when v > 0 => v, _ => 0 };";
    assert_eq!(
        binders(src),
        [
            "s : Shape",
            "r : Float",
            "w : Float",
            "height : Float",
            "l : List String",
            "a : String",
            "b : String",
            "o : Option Integer",
            "v : Integer",
        ]
    );
}

#[test]
fn binder_types_in_instances_and_the_trailing_expression() {
    let src = "typeclass Render 'a where
    render : 'a -> String;
instance Render Bool where
    render = \\b -> if b then \"yes\" else \"no\";
let n = 1;
(\\m -> m + n) 2";
    assert_eq!(binders(src), ["b : Bool", "m : Integer"]);
}

#[test]
fn binder_types_with_an_import() {
    let lib_src = "let withDefault = \\d o -> match o { Some v => v, None => d };
let port = 8080;";
    let lib = super::testparse::parse(lib_src).expect("parses");
    let (_, lib_env) = super::check_module_in(FileId(7), &lib, super::env::Env::prelude());
    let interface = super::imports::interface(FileId(7), "lib.lig", &lib, &lib_env);
    let src = "import \"./lib\" { withDefault, port };
let main = \\x -> withDefault port x;";
    let user = super::testparse::parse(src).expect("parses");
    let imported = [super::imports::ImportedModule {
        import: &user.imports[0],
        interface: &interface,
    }];
    let (env, diagnostics) = super::imports::import_env(FileId(8), &user, &imported, false);
    assert!(diagnostics.is_empty(), "{diagnostics:?}");
    assert_eq!(binders_in(src, FileId(8), env), ["x : Option Integer"]);
}

#[test]
fn binder_types_survive_type_errors() {
    // The error's parts print as `?`; the binders inference fixed keep their types.
    assert_eq!(
        binders("let bad = \\x y -> if x then y + 1 else \"s\";\nlet ok = \\z -> z ++ \"\";"),
        ["x : Bool", "y : Integer", "z : String"]
    );
}

/// A hover's focused check (`binder_types_in` with a focus) answers, for every binder of
/// every fixture, exactly what the whole module's recording check answers for the binders of
/// the declaration holding it: with the earlier lets' schemes known (as the session's cache
/// gives them: pure lets only) and with none known.
#[test]
fn focused_binder_types_agree_with_the_whole_module() {
    // Some fixtures nest deeply: the checker runs on the pipeline's stack, as in the engine.
    crate::par::on_pipeline_stack(focused_binder_types_agree);
}

fn focused_binder_types_agree() {
    use super::decl::{BinderFocus, ModuleChecker};
    let (mut modules, mut binders) = (0, 0);
    for (path, module) in fixture_modules() {
        let env = super::env::Env::prelude;
        let all = super::binder_types(FileId(0), &module, env());
        // The pure lets' schemes, as an ordinary check caches them.
        let mut known: Vec<Option<std::sync::Arc<super::ty::Scheme>>> =
            vec![None; module.decls.len()];
        let mut checker = ModuleChecker::new(FileId(0), &module, env());
        for (i, decl) in module.decls.iter().enumerate() {
            match &decl.kind {
                DeclKind::Let(l) => {
                    let checked = checker.infer_let(i as u32, l, None);
                    let pure = checked.diagnostics.is_empty()
                        && checked.elab.uses.is_empty()
                        && checked.elab.params.is_empty();
                    known[i] = checker
                        .apply_let(i as u32, l, checked, pure)
                        .filter(|_| pure);
                }
                _ => checker.check_decl(i as u32, decl),
            }
        }
        let from_cache = |i: u32| known.get(i as usize).cloned().flatten();
        let none = |_: u32| None;
        // One focus per declaration with binders (any binder of it names it), the
        // first and the last alternately.
        let mut holders_seen = Vec::new();
        for (n, binder) in all.iter().enumerate() {
            let holder = module
                .decls
                .iter()
                .map(|it| it.span)
                .chain(module.body.iter().map(|it| it.span))
                .find(|it| it.start <= binder.span.start && binder.span.end <= it.end)
                .expect("a declaration holds the binder");
            if holders_seen.contains(&holder) && n + 1 != all.len() {
                continue;
            }
            holders_seen.push(holder);
            let expected: Vec<_> = all
                .iter()
                .filter(|it| holder.start <= it.span.start && it.span.end <= holder.end)
                .cloned()
                .collect();
            for known in [&from_cache as &dyn Fn(u32) -> _, &none] {
                let focus = BinderFocus {
                    at: binder.span,
                    known,
                };
                let got = super::binder_types_in(FileId(0), &module, env(), Some(&focus));
                assert_eq!(got, expected, "{} at {:?}", path.display(), binder.span);
            }
            binders += 1;
        }
        modules += 1;
    }
    assert!(
        modules >= 80 && binders >= 200,
        "{modules} modules, {binders} binders"
    );
}
