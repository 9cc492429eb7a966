// Copied from branch types (src/types/testparse.rs) for the evaluator's tests until the real
// parser lands on branch parser; test-only, to be deleted then.
//! A small parser used only by the checker's tests until the real parser lands.
//! It accepts the grammar of LANGUAGE.md section 3 for well-formed programs; it does no
//! error recovery and reports nothing (a syntax error makes it return `None`).

use crate::source::Span;
use crate::syntax::ast::*;

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    Int(i64),
    Float(f64),
    Str(String),
    Lower(String),
    Upper(String),
    TyVar(String),
    Sym(&'static str),
    Eof,
}

const SYMS: [&str; 36] = [
    "...", "..", "->", "=>", "==", "!=", "<=", ">=", "&&", "||", "++", "+", "-", "*", "/", "%",
    "<", ">", "!", "=", ":", ";", ",", ".", "|", "\\", "(", ")", "{", "}", "[", "]", "_", "'", "@",
    "#",
];

fn lex(src: &str) -> Option<Vec<(Tok, Span)>> {
    let b = src.as_bytes();
    let mut i = 0;
    let mut out = Vec::new();
    while i < b.len() {
        let c = b[i];
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        if src[i..].starts_with("//") || src[i..].starts_with("--") {
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
            continue;
        }
        if src[i..].starts_with("/*") {
            let end = src[i + 2..].find("*/")?;
            i = i + 2 + end + 2;
            continue;
        }
        let start = i;
        if c.is_ascii_digit() {
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
            let mut float = false;
            if i + 1 < b.len() && b[i] == b'.' && b[i + 1].is_ascii_digit() {
                float = true;
                i += 1;
                while i < b.len() && b[i].is_ascii_digit() {
                    i += 1;
                }
            }
            if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
                float = true;
                i += 1;
                if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
                    i += 1;
                }
                while i < b.len() && b[i].is_ascii_digit() {
                    i += 1;
                }
            }
            let text = &src[start..i];
            let tok = if float {
                Tok::Float(text.parse().ok()?)
            } else {
                Tok::Int(text.parse().ok()?)
            };
            out.push((tok, Span::new(start as u32, i as u32)));
            continue;
        }
        if c == b'"' {
            i += 1;
            let mut s = String::new();
            loop {
                let ch = src[i..].chars().next()?;
                i += ch.len_utf8();
                match ch {
                    '"' => break,
                    '\\' => {
                        let e = src[i..].chars().next()?;
                        i += 1;
                        s.push(match e {
                            'n' => '\n',
                            't' => '\t',
                            'r' => '\r',
                            '0' => '\0',
                            other => other,
                        });
                    }
                    other => s.push(other),
                }
            }
            out.push((Tok::Str(s), Span::new(start as u32, i as u32)));
            continue;
        }
        let ident = |j: usize| -> usize {
            let mut k = j;
            while k < b.len() && (b[k].is_ascii_alphanumeric() || b[k] == b'_') {
                k += 1;
            }
            k
        };
        if c == b'\'' {
            let end = ident(i + 1);
            out.push((
                Tok::TyVar(src[i + 1..end].to_string()),
                Span::new(start as u32, end as u32),
            ));
            i = end;
            continue;
        }
        if c.is_ascii_alphabetic()
            || (c == b'_'
                && i + 1 < b.len()
                && (b[i + 1].is_ascii_alphanumeric() || b[i + 1] == b'_'))
        {
            let end = ident(i);
            let text = &src[i..end];
            let tok = if text.as_bytes()[0].is_ascii_uppercase() {
                Tok::Upper(text.into())
            } else {
                Tok::Lower(text.into())
            };
            out.push((tok, Span::new(start as u32, end as u32)));
            i = end;
            continue;
        }
        let sym = SYMS.iter().find(|s| src[i..].starts_with(**s))?;
        i += sym.len();
        out.push((Tok::Sym(sym), Span::new(start as u32, i as u32)));
    }
    out.push((Tok::Eof, Span::new(b.len() as u32, b.len() as u32)));
    Some(out)
}

const KEYWORDS: [&str; 21] = [
    "as",
    "else",
    "export",
    "false",
    "from",
    "if",
    "import",
    "in",
    "instance",
    "let",
    "match",
    "module",
    "rec",
    "superclass",
    "then",
    "true",
    "type",
    "typeclass",
    "when",
    "where",
    "with",
];

struct P {
    toks: Vec<(Tok, Span)>,
    pos: usize,
    next_id: u32,
    no_brace: bool,
}

type R<T> = Option<T>;

impl P {
    fn peek(&self) -> &Tok {
        &self.toks[self.pos.min(self.toks.len() - 1)].0
    }
    fn peek_at(&self, n: usize) -> &Tok {
        &self.toks[(self.pos + n).min(self.toks.len() - 1)].0
    }
    fn span(&self) -> Span {
        self.toks[self.pos.min(self.toks.len() - 1)].1
    }
    fn prev_end(&self) -> u32 {
        if self.pos == 0 {
            0
        } else {
            self.toks[self.pos - 1].1.end
        }
    }
    fn bump(&mut self) -> Tok {
        let t = self.peek().clone();
        self.pos += 1;
        t
    }
    fn is_sym(&self, s: &str) -> bool {
        matches!(self.peek(), Tok::Sym(x) if *x == s)
    }
    fn is_kw(&self, k: &str) -> bool {
        matches!(self.peek(), Tok::Lower(x) if x == k)
    }
    fn eat(&mut self, s: &str) -> bool {
        if self.is_sym(s) {
            self.pos += 1;
            true
        } else {
            false
        }
    }
    fn eat_kw(&mut self, k: &str) -> bool {
        if self.is_kw(k) {
            self.pos += 1;
            true
        } else {
            false
        }
    }
    fn expect(&mut self, s: &str) -> R<()> {
        self.eat(s).then_some(())
    }
    fn expect_kw(&mut self, k: &str) -> R<()> {
        self.eat_kw(k).then_some(())
    }
    fn lower(&mut self) -> R<Ident> {
        let span = self.span();
        match self.peek().clone() {
            Tok::Lower(x) if !KEYWORDS.contains(&x.as_str()) => {
                self.pos += 1;
                Some(Ident {
                    name: Name::new(x),
                    span,
                })
            }
            _ => None,
        }
    }
    fn upper(&mut self) -> R<Ident> {
        let span = self.span();
        match self.peek().clone() {
            Tok::Upper(x) => {
                self.pos += 1;
                Some(Ident {
                    name: Name::new(x),
                    span,
                })
            }
            _ => None,
        }
    }
    fn field_name(&mut self) -> R<Ident> {
        let span = self.span();
        match self.peek().clone() {
            Tok::Upper(x) | Tok::Lower(x) => {
                self.pos += 1;
                Some(Ident {
                    name: Name::new(x),
                    span,
                })
            }
            _ => None,
        }
    }
    fn mk(&mut self, kind: ExprKind, start: u32) -> Expr {
        let id = ExprId(self.next_id);
        self.next_id += 1;
        Expr {
            kind,
            span: Span::new(start, self.prev_end()),
            id,
        }
    }

    // ------------------------------------------------------------ declarations

    fn module(&mut self) -> R<Module> {
        let mut m = Module::default();
        if self.eat_kw("module") {
            m.header = Some(self.upper()?);
            self.expect(";")?;
        }
        while self.is_kw("import") {
            while !self.eat(";") {
                if matches!(self.peek(), Tok::Eof) {
                    return None;
                }
                self.pos += 1;
            }
        }
        loop {
            if matches!(self.peek(), Tok::Eof) {
                break;
            }
            let start = self.span().start;
            let exported = self.is_kw("export")
                && matches!(self.peek_at(1), Tok::Lower(x) if x == "let" || x == "type" || x == "typeclass");
            if exported {
                self.pos += 1;
            }
            let kind = if self.is_kw("let") {
                let save = self.pos;
                self.pos += 1;
                let rec = self.eat_kw("rec");
                let name = self.lower()?;
                let ann = if self.eat(":") {
                    Some(self.ty()?)
                } else {
                    None
                };
                self.expect("=")?;
                let value = self.expr()?;
                if self.is_kw("in") {
                    self.pos = save;
                    m.body = Some(self.expr()?);
                    self.eat(";");
                    break;
                }
                self.expect(";")?;
                DeclKind::Let(LetDecl {
                    rec,
                    name,
                    ann,
                    value,
                })
            } else if self.eat_kw("type") {
                DeclKind::Type(self.type_decl()?)
            } else if self.eat_kw("typeclass") {
                DeclKind::Class(self.class_decl()?)
            } else if self.eat_kw("instance") {
                DeclKind::Instance(self.instance_decl()?)
            } else if self.eat_kw("export") {
                let braces = self.eat("{");
                let mut items = Vec::new();
                loop {
                    let name = self.field_name()?;
                    let alias = if self.eat_kw("as") {
                        Some(self.field_name()?)
                    } else {
                        None
                    };
                    let span = name.span;
                    items.push(RenameItem { name, alias, span });
                    if !self.eat(",") {
                        break;
                    }
                    if self.is_sym("}") || self.is_sym(";") {
                        break;
                    }
                }
                if braces {
                    self.expect("}")?;
                }
                self.expect(";")?;
                DeclKind::Export(items)
            } else {
                m.body = Some(self.expr()?);
                self.eat(";");
                break;
            };
            m.decls.push(Decl {
                kind,
                exported,
                span: Span::new(start, self.prev_end()),
            });
        }
        if !matches!(self.peek(), Tok::Eof) {
            return None;
        }
        m.n_exprs = self.next_id;
        Some(m)
    }

    fn tyvar(&mut self) -> R<Ident> {
        let span = self.span();
        match self.peek().clone() {
            Tok::TyVar(x) => {
                self.pos += 1;
                Some(Ident {
                    name: Name::new(x),
                    span,
                })
            }
            _ => self.lower(),
        }
    }

    fn type_decl(&mut self) -> R<TypeDecl> {
        let name = self.upper()?;
        let mut params = Vec::new();
        while !self.is_sym("=") {
            params.push(self.tyvar()?);
        }
        self.expect("=")?;
        let rhs = if self.is_sym("|") {
            TypeRhs::Union(self.variants()?)
        } else if matches!(self.peek(), Tok::Upper(_)) {
            let save = self.pos;
            let first = self.variant();
            match first {
                Some(v) if self.is_sym(";") => {
                    let end = self.pos;
                    self.pos = save;
                    let as_type = self.app_type()?;
                    self.pos = end;
                    TypeRhs::Lone {
                        variant: v,
                        as_type,
                    }
                }
                Some(_) if self.is_sym("|") => {
                    self.pos = save;
                    TypeRhs::Union(self.variants()?)
                }
                _ => {
                    self.pos = save;
                    TypeRhs::Alias(self.ty()?)
                }
            }
        } else {
            TypeRhs::Alias(self.ty()?)
        };
        self.expect(";")?;
        Some(TypeDecl { name, params, rhs })
    }

    fn variant(&mut self) -> R<Variant> {
        let name = self.upper()?;
        let payload = if self.starts_atype() {
            Some(self.atype()?)
        } else {
            None
        };
        let span = Span::new(name.span.start, self.prev_end());
        Some(Variant {
            name,
            payload,
            span,
        })
    }

    fn variants(&mut self) -> R<Vec<Variant>> {
        self.eat("|");
        let mut vs = vec![self.variant()?];
        while self.eat("|") {
            vs.push(self.variant()?);
        }
        Some(vs)
    }

    fn class_decl(&mut self) -> R<ClassDecl> {
        let name = self.upper()?;
        let mut params = Vec::new();
        while !self.is_kw("where") {
            params.push(self.tyvar()?);
        }
        self.expect_kw("where")?;
        let mut c = ClassDecl {
            name,
            params,
            superclasses: Vec::new(),
            methods: Vec::new(),
            defaults: Vec::new(),
        };
        loop {
            if self.eat_kw("superclass") {
                loop {
                    c.superclasses.push(self.constraint()?);
                    if !self.eat(",") {
                        break;
                    }
                }
                self.expect(";")?;
            } else if matches!(self.peek_at(1), Tok::Sym(":")) && self.is_lower_ident() {
                let start = self.span().start;
                let name = self.lower()?;
                self.expect(":")?;
                let ty = self.ty()?;
                self.expect(";")?;
                c.methods.push(MethodSig {
                    name,
                    ty,
                    span: Span::new(start, self.prev_end()),
                });
            } else if matches!(self.peek_at(1), Tok::Sym("=")) && self.is_lower_ident() {
                c.defaults.push(self.method_def()?);
            } else {
                break;
            }
        }
        Some(c)
    }

    fn is_lower_ident(&self) -> bool {
        matches!(self.peek(), Tok::Lower(x) if !KEYWORDS.contains(&x.as_str()))
    }

    fn method_def(&mut self) -> R<MethodDef> {
        let start = self.span().start;
        let name = self.lower()?;
        self.expect("=")?;
        let value = self.expr()?;
        self.expect(";")?;
        Some(MethodDef {
            name,
            value,
            span: Span::new(start, self.prev_end()),
        })
    }

    fn qname(&mut self) -> R<QName> {
        let start = self.span().start;
        if self.is_lower_ident() && matches!(self.peek_at(1), Tok::Sym(".")) {
            let m = self.lower()?;
            self.pos += 1;
            let name = self.upper()?;
            return Some(QName {
                module: Some(m),
                name,
                span: Span::new(start, self.prev_end()),
            });
        }
        let name = self.upper()?;
        let span = name.span;
        Some(QName {
            module: None,
            name,
            span,
        })
    }

    fn constraint(&mut self) -> R<Constraint> {
        let start = self.span().start;
        let class = self.qname()?;
        let mut args = Vec::new();
        while self.starts_atype() {
            args.push(self.atype()?);
        }
        Some(Constraint {
            class,
            args,
            span: Span::new(start, self.prev_end()),
        })
    }

    fn context(&mut self) -> Option<Vec<Constraint>> {
        let save = self.pos;
        let res = (|| {
            let cs = if self.eat("(") {
                let mut cs = vec![self.constraint()?];
                while self.eat(",") {
                    cs.push(self.constraint()?);
                }
                self.expect(")")?;
                cs
            } else {
                vec![self.constraint()?]
            };
            self.expect("=>")?;
            Some(cs)
        })();
        if res.is_none() {
            self.pos = save;
        }
        res
    }

    fn instance_decl(&mut self) -> R<InstanceDecl> {
        let context = self.context().unwrap_or_default();
        let start = self.span().start;
        let class = self.qname()?;
        let mut args = Vec::new();
        while self.starts_atype() {
            args.push(self.atype()?);
        }
        let head_span = Span::new(start, self.prev_end());
        self.expect_kw("where")?;
        let mut methods = Vec::new();
        while self.is_lower_ident() && matches!(self.peek_at(1), Tok::Sym("=")) {
            methods.push(self.method_def()?);
        }
        Some(InstanceDecl {
            context,
            class,
            args,
            methods,
            head_span,
        })
    }

    // ------------------------------------------------------------ types

    fn starts_atype(&self) -> bool {
        match self.peek() {
            Tok::Upper(_) | Tok::TyVar(_) => true,
            Tok::Lower(x) => !KEYWORDS.contains(&x.as_str()),
            Tok::Sym(s) => matches!(*s, "(" | "[" | "{"),
            _ => false,
        }
    }

    fn ty(&mut self) -> R<Type> {
        let start = self.span().start;
        if let Some(context) = self.context() {
            let ty = self.fun_type()?;
            return Some(Type {
                kind: TypeKind::Qualified {
                    context,
                    ty: Box::new(ty),
                },
                span: Span::new(start, self.prev_end()),
            });
        }
        let base = self.app_type()?;
        if self.is_kw("where") || self.is_kw("with") {
            let mut items = Vec::new();
            while self.eat_kw("with") {
                let istart = self.span().start;
                let kind = if self.eat(">=") {
                    ConstraintItemKind::Ge(self.binary(5)?)
                } else if self.eat("<=") {
                    ConstraintItemKind::Le(self.binary(5)?)
                } else {
                    let func = self.lower()?;
                    self.expect("(")?;
                    if func.name == "regexp" || func.name == "pattern" {
                        let span = self.span();
                        let Tok::Str(s) = self.bump() else {
                            return None;
                        };
                        self.expect(")")?;
                        let lit = StrLit {
                            value: Name::new(s),
                            span,
                        };
                        if func.name == "regexp" {
                            ConstraintItemKind::Regexp(lit)
                        } else {
                            ConstraintItemKind::Pattern(lit)
                        }
                    } else {
                        let mut args = Vec::new();
                        while !self.eat(")") {
                            args.push(self.expr()?);
                            self.eat(",");
                        }
                        ConstraintItemKind::Call {
                            module: None,
                            func,
                            args,
                        }
                    }
                };
                items.push(ConstraintItem {
                    kind,
                    span: Span::new(istart, self.prev_end()),
                });
            }
            let pred = if self.eat_kw("where") {
                Some(Box::new(self.expr()?))
            } else {
                None
            };
            return Some(Type {
                kind: TypeKind::Refined {
                    base: Box::new(base),
                    items,
                    pred,
                },
                span: Span::new(start, self.prev_end()),
            });
        }
        if self.eat("->") {
            let r = self.fun_type()?;
            return Some(Type {
                kind: TypeKind::Fun(Box::new(base), Box::new(r)),
                span: Span::new(start, self.prev_end()),
            });
        }
        Some(base)
    }

    fn fun_type(&mut self) -> R<Type> {
        let start = self.span().start;
        let a = self.app_type()?;
        if self.eat("->") {
            let r = self.fun_type()?;
            return Some(Type {
                kind: TypeKind::Fun(Box::new(a), Box::new(r)),
                span: Span::new(start, self.prev_end()),
            });
        }
        Some(a)
    }

    fn app_type(&mut self) -> R<Type> {
        let start = self.span().start;
        if matches!(self.peek(), Tok::Upper(_))
            || (self.is_lower_ident()
                && matches!(self.peek_at(1), Tok::Sym("."))
                && matches!(self.peek_at(2), Tok::Upper(_)))
        {
            let q = self.qname()?;
            let mut args = Vec::new();
            while self.starts_atype() {
                args.push(self.atype()?);
            }
            return Some(Type {
                kind: TypeKind::Con(q, args),
                span: Span::new(start, self.prev_end()),
            });
        }
        self.atype()
    }

    fn atype(&mut self) -> R<Type> {
        let start = self.span().start;
        let kind = if matches!(self.peek(), Tok::Upper(_)) {
            TypeKind::Con(self.qname()?, Vec::new())
        } else if self.eat("(") {
            let t = self.ty()?;
            self.expect(")")?;
            return Some(t);
        } else if self.eat("[") {
            let t = self.ty()?;
            self.expect("]")?;
            TypeKind::List(Box::new(t))
        } else if self.eat("{") {
            let mut fields = Vec::new();
            let mut rest = None;
            while !self.eat("}") {
                if self.eat("|") {
                    rest = Some(self.tyvar()?);
                    continue;
                }
                let name = self.field_name()?;
                self.expect(":")?;
                let ty = self.ty()?;
                fields.push(FieldType { name, ty });
                self.eat(",");
            }
            TypeKind::Record { fields, rest }
        } else {
            TypeKind::Var(self.tyvar()?)
        };
        Some(Type {
            kind,
            span: Span::new(start, self.prev_end()),
        })
    }

    // ------------------------------------------------------------ expressions

    fn expr(&mut self) -> R<Expr> {
        self.expr_nb(false)
    }

    fn expr_nb(&mut self, no_brace: bool) -> R<Expr> {
        let saved = self.no_brace;
        self.no_brace = no_brace;
        let res = self.binary(9);
        self.no_brace = saved;
        res
    }

    fn binary(&mut self, level: u8) -> R<Expr> {
        if level == 3 {
            return self.unary();
        }
        let start = self.span().start;
        let mut lhs = self.binary(level - 1)?;
        loop {
            let ops: &[(&str, BinOp)] = match level {
                4 => &[("*", BinOp::Mul), ("/", BinOp::Div), ("%", BinOp::Rem)],
                5 => &[("+", BinOp::Add), ("-", BinOp::Sub), ("++", BinOp::Concat)],
                6 => &[
                    ("<", BinOp::Lt),
                    ("<=", BinOp::Le),
                    (">", BinOp::Gt),
                    (">=", BinOp::Ge),
                ],
                7 => &[("==", BinOp::Eq), ("!=", BinOp::Ne)],
                8 => &[("&&", BinOp::And)],
                _ => &[("||", BinOp::Or)],
            };
            let Some((_, op)) = ops.iter().find(|(s, _)| self.is_sym(s)) else {
                break;
            };
            let op_span = self.span();
            self.pos += 1;
            let rhs = self.binary(level - 1)?;
            lhs = self.mk(
                ExprKind::Binary {
                    op: *op,
                    op_span,
                    lhs: Box::new(lhs),
                    rhs: Box::new(rhs),
                },
                start,
            );
            if level == 6 || level == 7 {
                break;
            }
        }
        Some(lhs)
    }

    fn unary(&mut self) -> R<Expr> {
        let start = self.span().start;
        if self.eat("-") {
            let e = self.unary()?;
            return Some(self.mk(
                ExprKind::Unary {
                    op: UnOp::Neg,
                    operand: Box::new(e),
                },
                start,
            ));
        }
        if self.eat("!") {
            let e = self.unary()?;
            return Some(self.mk(
                ExprKind::Unary {
                    op: UnOp::Not,
                    operand: Box::new(e),
                },
                start,
            ));
        }
        self.app()
    }

    fn starts_block(&self) -> bool {
        self.is_sym("\\") || self.is_kw("let") || self.is_kw("if") || self.is_kw("match")
    }

    fn starts_arg(&self) -> bool {
        match self.peek() {
            Tok::Int(_) | Tok::Float(_) | Tok::Str(_) | Tok::Upper(_) => true,
            Tok::Lower(x) => x == "true" || x == "false" || !KEYWORDS.contains(&x.as_str()),
            Tok::Sym(s) => *s == "(" || *s == "[" || (*s == "{" && !self.no_brace),
            _ => false,
        }
    }

    fn app(&mut self) -> R<Expr> {
        let start = self.span().start;
        if self.starts_block() {
            return self.block();
        }
        let f = self.postfix()?;
        let mut args = Vec::new();
        loop {
            if self.starts_block() {
                args.push(self.block()?);
                break;
            }
            if !self.starts_arg() {
                break;
            }
            if self.is_sym("(") {
                let save = self.pos;
                self.pos += 1;
                let first = self.expr_nb(false);
                if first.is_some() && self.is_sym(",") {
                    let mut items = vec![first?];
                    while self.eat(",") {
                        if self.is_sym(")") {
                            break;
                        }
                        items.push(self.expr_nb(false)?);
                    }
                    self.expect(")")?;
                    args.extend(items);
                    continue;
                }
                self.pos = save;
            }
            args.push(self.postfix()?);
        }
        if args.is_empty() {
            return Some(f);
        }
        Some(self.mk(
            ExprKind::App {
                func: Box::new(f),
                args,
            },
            start,
        ))
    }

    fn postfix(&mut self) -> R<Expr> {
        let start = self.span().start;
        let mut e = self.atom()?;
        while self.is_sym(".") {
            self.pos += 1;
            let field = self.field_name()?;
            e = self.mk(
                ExprKind::Field {
                    expr: Box::new(e),
                    field,
                },
                start,
            );
        }
        Some(e)
    }

    fn atom(&mut self) -> R<Expr> {
        let start = self.span().start;
        let kind = match self.bump() {
            Tok::Int(n) => ExprKind::Int(n),
            Tok::Float(f) => ExprKind::Float(f),
            Tok::Str(s) => ExprKind::Str(Name::new(s)),
            Tok::Upper(c) => ExprKind::Ctor(Name::new(c)),
            Tok::Lower(x) if x == "true" => ExprKind::Bool(true),
            Tok::Lower(x) if x == "false" => ExprKind::Bool(false),
            Tok::Lower(x) if !KEYWORDS.contains(&x.as_str()) => ExprKind::Var(Name::new(x)),
            Tok::Sym("(") => {
                if self.eat(")") {
                    ExprKind::Unit
                } else {
                    let e = self.expr_nb(false)?;
                    if self.eat(":") {
                        let ty = self.ty()?;
                        self.expect(")")?;
                        ExprKind::Ann {
                            expr: Box::new(e),
                            ty,
                        }
                    } else {
                        self.expect(")")?;
                        return Some(e);
                    }
                }
            }
            Tok::Sym("[") => {
                let mut items = Vec::new();
                while !self.eat("]") {
                    items.push(self.expr_nb(false)?);
                    if !self.eat(",") {
                        self.expect("]")?;
                        break;
                    }
                }
                ExprKind::List(items)
            }
            Tok::Sym("{") => {
                let base = if self.eat("...") {
                    let b = self.expr_nb(false)?;
                    self.eat(",");
                    Some(Box::new(b))
                } else {
                    None
                };
                let mut fields = Vec::new();
                while !self.eat("}") {
                    let name = self.field_name()?;
                    self.expect("=")?;
                    let value = self.expr_nb(false)?;
                    fields.push(FieldInit { name, value });
                    if !self.eat(",") {
                        self.expect("}")?;
                        break;
                    }
                }
                ExprKind::Record { base, fields }
            }
            _ => return None,
        };
        Some(self.mk(kind, start))
    }

    fn block(&mut self) -> R<Expr> {
        let start = self.span().start;
        let saved = self.no_brace;
        self.no_brace = false;
        let res = self.block_inner(start);
        self.no_brace = saved;
        res
    }

    fn block_inner(&mut self, start: u32) -> R<Expr> {
        if self.eat("\\") {
            let mut params = Vec::new();
            while !self.eat("->") {
                let pstart = self.span().start;
                if self.eat("(") {
                    let name = if self.eat("_") {
                        None
                    } else {
                        Some(self.lower()?)
                    };
                    self.expect(":")?;
                    let ann = self.ty()?;
                    self.expect(")")?;
                    params.push(Param {
                        name,
                        ann: Some(ann),
                        span: Span::new(pstart, self.prev_end()),
                    });
                } else if self.eat("_") {
                    params.push(Param {
                        name: None,
                        ann: None,
                        span: Span::new(pstart, self.prev_end()),
                    });
                } else {
                    let name = self.lower()?;
                    let ann = if self.eat(":") {
                        Some(self.app_type()?)
                    } else {
                        None
                    };
                    params.push(Param {
                        name: Some(name),
                        ann,
                        span: Span::new(pstart, self.prev_end()),
                    });
                }
            }
            let body = self.expr()?;
            return Some(self.mk(
                ExprKind::Lambda {
                    params,
                    body: Box::new(body),
                },
                start,
            ));
        }
        if self.eat_kw("let") {
            let rec = self.eat_kw("rec");
            let name = self.lower()?;
            let ann = if self.eat(":") {
                Some(self.ty()?)
            } else {
                None
            };
            self.expect("=")?;
            let value = self.expr()?;
            self.expect_kw("in")?;
            let body = self.expr()?;
            return Some(self.mk(
                ExprKind::Let {
                    rec,
                    name,
                    ann,
                    value: Box::new(value),
                    body: Box::new(body),
                },
                start,
            ));
        }
        if self.eat_kw("if") {
            let cond = self.expr()?;
            self.expect_kw("then")?;
            let t = self.expr()?;
            self.expect_kw("else")?;
            let e = self.expr()?;
            return Some(self.mk(
                ExprKind::If {
                    cond: Box::new(cond),
                    then_branch: Box::new(t),
                    else_branch: Box::new(e),
                },
                start,
            ));
        }
        self.expect_kw("match")?;
        let scrutinee = if self.is_sym("{") {
            self.postfix()?
        } else {
            self.expr_nb(true)?
        };
        self.expect("{")?;
        let mut cases = Vec::new();
        while !self.eat("}") {
            let cstart = self.span().start;
            let pat = self.pattern()?;
            let guard = if self.eat_kw("when") {
                Some(self.expr()?)
            } else {
                None
            };
            self.expect("=>")?;
            let body = self.expr()?;
            cases.push(Case {
                pat,
                guard,
                body,
                span: Span::new(cstart, self.prev_end()),
            });
            if !self.eat(",") {
                self.expect("}")?;
                break;
            }
        }
        Some(self.mk(
            ExprKind::Match {
                scrutinee: Box::new(scrutinee),
                cases,
            },
            start,
        ))
    }

    // ------------------------------------------------------------ patterns

    fn pattern(&mut self) -> R<Pattern> {
        let start = self.span().start;
        if matches!(self.peek(), Tok::Upper(_)) {
            let name = self.upper()?;
            let payload = if self.starts_apat() {
                Some(Box::new(self.apat()?))
            } else {
                None
            };
            return Some(Pattern {
                kind: PatternKind::Ctor {
                    module: None,
                    name,
                    payload,
                },
                span: Span::new(start, self.prev_end()),
            });
        }
        self.apat()
    }

    fn starts_apat(&self) -> bool {
        match self.peek() {
            Tok::Int(_) | Tok::Float(_) | Tok::Str(_) | Tok::Upper(_) => true,
            Tok::Lower(x) => x == "true" || x == "false" || !KEYWORDS.contains(&x.as_str()),
            Tok::Sym(s) => matches!(*s, "_" | "(" | "{" | "[" | "-"),
            _ => false,
        }
    }

    fn apat(&mut self) -> R<Pattern> {
        let start = self.span().start;
        let kind = match self.bump() {
            Tok::Sym("_") => PatternKind::Wildcard,
            Tok::Int(n) => PatternKind::Lit(Literal::Int(n)),
            Tok::Float(f) => PatternKind::Lit(Literal::Float(f)),
            Tok::Str(s) => PatternKind::Lit(Literal::Str(Name::new(s))),
            Tok::Sym("-") => match self.bump() {
                Tok::Int(n) => PatternKind::Lit(Literal::Int(-n)),
                Tok::Float(f) => PatternKind::Lit(Literal::Float(-f)),
                _ => return None,
            },
            Tok::Lower(x) if x == "true" => PatternKind::Lit(Literal::Bool(true)),
            Tok::Lower(x) if x == "false" => PatternKind::Lit(Literal::Bool(false)),
            Tok::Lower(x) => PatternKind::Var(Ident {
                name: Name::new(x),
                span: Span::new(start, self.prev_end()),
            }),
            Tok::Upper(c) => PatternKind::Ctor {
                module: None,
                name: Ident {
                    name: Name::new(c),
                    span: Span::new(start, self.prev_end()),
                },
                payload: None,
            },
            Tok::Sym("(") => {
                if self.eat(")") {
                    PatternKind::Lit(Literal::Unit)
                } else {
                    let p = self.pattern()?;
                    self.expect(")")?;
                    return Some(p);
                }
            }
            Tok::Sym("[") => {
                let mut items = Vec::new();
                while !self.eat("]") {
                    items.push(self.pattern()?);
                    if !self.eat(",") {
                        self.expect("]")?;
                        break;
                    }
                }
                PatternKind::List(items)
            }
            Tok::Sym("{") => {
                let mut fields = Vec::new();
                let mut open = false;
                while !self.eat("}") {
                    if self.eat("..") {
                        open = true;
                        continue;
                    }
                    let name = self.field_name()?;
                    let pat = if self.eat("=") {
                        self.pattern()?
                    } else {
                        Pattern {
                            kind: PatternKind::Var(name.clone()),
                            span: name.span,
                        }
                    };
                    fields.push(FieldPattern { name, pat });
                    self.eat(",");
                }
                PatternKind::Record { fields, open }
            }
            _ => return None,
        };
        Some(Pattern {
            kind,
            span: Span::new(start, self.prev_end()),
        })
    }
}

/// Parses a whole file, or `None` on a syntax error.
pub fn parse(src: &str) -> Option<Module> {
    let toks = lex(src)?;
    let mut p = P {
        toks,
        pos: 0,
        next_id: 0,
        no_brace: false,
    };
    p.module()
}
