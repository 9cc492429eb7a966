//! The abstract syntax tree of one Ligature file.
//!
//! The tree mirrors the grammar of LANGUAGE.md section 3 with light normalisation:
//! argument-list sugar `f(a, b)` and juxtaposition `f a b` both become [`ExprKind::App`];
//! a multi-parameter lambda keeps its parameter list; `if ... else if ...` stays nested.
//! Every node carries a byte [`Span`]. Every expression also carries an [`ExprId`], unique
//! within its module and dense (0..[`Module::n_exprs`]), so later phases can keep side
//! tables in vectors (the type checker's elaboration, see `types::elab`).
//!
//! Things the parser cannot decide are kept in a neutral form and decided later, by one
//! shared rule each:
//! - `m.x` and `m.C` parse as [`ExprKind::Field`] on a variable; whether `m` is a module
//!   alias is a scoping question ([`Expr::as_qualified`]).
//! - `type T = C X;` without `|` parses as [`TypeRhs::Lone`] (LANGUAGE.md section 4.3).

use smol_str::SmolStr;

use crate::source::Span;

/// Identifier and string storage: small strings inline, cheap clones.
pub type Name = SmolStr;

/// Dense per-module index of an expression node.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct ExprId(pub u32);

/// A name with its span.
#[derive(Clone, Debug, PartialEq)]
pub struct Ident {
    pub name: Name,
    pub span: Span,
}

/// A possibly module-qualified upper name: `Option`, `m.Service`, `m.Some`, `m.Render`.
#[derive(Clone, Debug, PartialEq)]
pub struct QName {
    pub module: Option<Ident>,
    pub name: Ident,
    pub span: Span,
}

/// A string literal's decoded value and its span (quotes included).
#[derive(Clone, Debug, PartialEq)]
pub struct StrLit {
    pub value: Name,
    pub span: Span,
}

/// One parsed file.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Module {
    /// `module Name;`, informational.
    pub header: Option<Ident>,
    pub imports: Vec<Import>,
    /// Declarations and export lists, in source order.
    pub decls: Vec<Decl>,
    /// The trailing expression, if any.
    pub body: Option<Expr>,
    /// Number of expression ids handed out: every `ExprId` in this module is below it.
    pub n_exprs: u32,
}

// ---------------------------------------------------------------- imports

#[derive(Clone, Debug, PartialEq)]
pub struct Import {
    pub path: ImportPath,
    pub kind: ImportKind,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum ImportPath {
    /// `std.core`, `net.tls`: the segments.
    Register(Vec<Ident>),
    /// `"./net/ports"`.
    Relative(StrLit),
}

impl ImportPath {
    pub fn span(&self) -> Span {
        match self {
            ImportPath::Register(segments) => match (segments.first(), segments.last()) {
                (Some(first), Some(last)) => first.span.to(last.span),
                _ => Span::default(),
            },
            ImportPath::Relative(lit) => lit.span,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum ImportKind {
    /// `import P;`: every exported name, unqualified.
    All,
    /// `import P as m;`
    Alias(Ident),
    /// `import P { a, b as c };` or `import { a, b as c } from P;`
    Items(Vec<RenameItem>),
}

/// `name` or `name as alias`, in import and export lists. `name` may be upper or lower.
#[derive(Clone, Debug, PartialEq)]
pub struct RenameItem {
    pub name: Ident,
    pub alias: Option<Ident>,
    pub span: Span,
}

impl RenameItem {
    /// The name this item is known by after renaming.
    pub fn local(&self) -> &Ident {
        self.alias.as_ref().unwrap_or(&self.name)
    }
}

// ---------------------------------------------------------------- declarations

#[derive(Clone, Debug, PartialEq)]
pub struct Decl {
    pub kind: DeclKind,
    /// True for the prefix form `export let/type/typeclass`.
    pub exported: bool,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum DeclKind {
    Let(LetDecl),
    /// Boxed: type declarations are few and large (a declaration is moved whole when a
    /// session parses an edited file again, and every byte of it counts 100,000 times).
    Type(Box<TypeDecl>),
    Class(ClassDecl),
    Instance(InstanceDecl),
    /// `export a, b as c;` or `export { a, b as c };`
    Export(Vec<RenameItem>),
}

/// `let [rec] name [: T] = value;`
#[derive(Clone, Debug, PartialEq)]
pub struct LetDecl {
    pub rec: bool,
    pub name: Ident,
    /// Boxed: most lets have none, and a `Type` is larger than the rest of the `let`.
    pub ann: Option<Box<Type>>,
    pub value: Expr,
    /// The names the declaration mentions, worked out once (`engine::deps`).
    pub mentions: Mentions,
}

/// A memo of the distinct names a `let` mentions, in order of first mention: filled on
/// first use by `engine::deps::names_in_let` and kept with the declaration, which a
/// session reuses from one parse to the next (`syntax::chunks`). Not part of the tree's
/// meaning: two trees are equal whether or not their memos are filled.
#[derive(Clone, Default)]
pub struct Mentions(std::sync::OnceLock<Box<[Name]>>);

impl Mentions {
    /// The names, worked out by `compute` the first time.
    pub fn get_or_init(&self, compute: impl FnOnce() -> Box<[Name]>) -> &[Name] {
        self.0.get_or_init(compute)
    }
}

impl PartialEq for Mentions {
    fn eq(&self, _other: &Mentions) -> bool {
        true
    }
}

impl std::fmt::Debug for Mentions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Mentions")
    }
}

/// `type Name 'p... = rhs;`
#[derive(Clone, Debug, PartialEq)]
pub struct TypeDecl {
    pub name: Ident,
    pub params: Vec<Ident>,
    pub rhs: TypeRhs,
}

#[derive(Clone, Debug, PartialEq)]
pub enum TypeRhs {
    /// Has a `|`: a union.
    Union(Vec<Variant>),
    /// Any other type: an alias.
    Alias(Type),
    /// `C` or `C T` (C unqualified, T an atype) without `|`: an alias when `C` names a type
    /// in scope, else a one-constructor union (LANGUAGE.md section 4.3). `as_type` is the
    /// same text parsed as a type, for the alias reading.
    Lone { variant: Variant, as_type: Type },
}

#[derive(Clone, Debug, PartialEq)]
pub struct Variant {
    pub name: Ident,
    pub payload: Option<Type>,
    pub span: Span,
}

/// `typeclass Name 'a ... where items`
#[derive(Clone, Debug, PartialEq)]
pub struct ClassDecl {
    pub name: Ident,
    pub params: Vec<Ident>,
    /// All `superclass` constraints, in written order.
    pub superclasses: Vec<Constraint>,
    pub methods: Vec<MethodSig>,
    pub defaults: Vec<MethodDef>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct MethodSig {
    pub name: Ident,
    pub ty: Type,
    pub span: Span,
}

/// `name = expr;` inside a class (default) or an instance.
#[derive(Clone, Debug, PartialEq)]
pub struct MethodDef {
    pub name: Ident,
    pub value: Expr,
    pub span: Span,
}

/// `instance [context =>] Class T... where defs`
#[derive(Clone, Debug, PartialEq)]
pub struct InstanceDecl {
    pub context: Vec<Constraint>,
    pub class: QName,
    pub args: Vec<Type>,
    pub methods: Vec<MethodDef>,
    /// Span of the head (`Render (List 'a)`), for messages.
    pub head_span: Span,
}

/// `Class T...` in contexts and superclass lists.
#[derive(Clone, Debug, PartialEq)]
pub struct Constraint {
    pub class: QName,
    pub args: Vec<Type>,
    pub span: Span,
}

// ---------------------------------------------------------------- types

#[derive(Clone, Debug, PartialEq)]
pub struct Type {
    pub kind: TypeKind,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum TypeKind {
    /// A named type applied to arguments (possibly none): `Integer`, `List 'a`, `m.T X`.
    Con(QName, Vec<Type>),
    /// `'a` or `a`; the name is stored without the quote.
    Var(Ident),
    Fun(Box<Type>, Box<Type>),
    /// `[T]`, sugar for `List T`.
    List(Box<Type>),
    /// `{ f: T, ... | 'r }`
    Record {
        fields: Vec<FieldType>,
        rest: Option<Ident>,
    },
    /// `T with items... where pred`
    Refined {
        base: Box<Type>,
        items: Vec<ConstraintItem>,
        pred: Option<Box<Expr>>,
    },
    /// `C 'a => T`
    Qualified {
        context: Vec<Constraint>,
        ty: Box<Type>,
    },
    /// Parser recovery placeholder.
    Error,
}

#[derive(Clone, Debug, PartialEq)]
pub struct FieldType {
    pub name: Ident,
    pub ty: Type,
}

/// One `with` item of a constraint type.
#[derive(Clone, Debug, PartialEq)]
pub struct ConstraintItem {
    pub kind: ConstraintItemKind,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum ConstraintItemKind {
    Regexp(StrLit),
    Pattern(StrLit),
    Ge(Expr),
    Le(Expr),
    /// `f(a1, ..., an)` or `m.f(...)`: holds when `f x a1 ... an` is true.
    Call {
        module: Option<Ident>,
        func: Ident,
        args: Vec<Expr>,
        /// The id under which the checker records the dictionaries `func` takes (an
        /// overloaded function or a class method), as for a `Var` expression.
        id: ExprId,
    },
}

// ---------------------------------------------------------------- expressions

#[derive(Clone, Debug, PartialEq)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
    pub id: ExprId,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
    Rem,
    Concat,
    Lt,
    Le,
    Gt,
    Ge,
    Eq,
    Ne,
    And,
    Or,
}

impl BinOp {
    pub fn as_str(self) -> &'static str {
        match self {
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "/",
            BinOp::Rem => "%",
            BinOp::Concat => "++",
            BinOp::Lt => "<",
            BinOp::Le => "<=",
            BinOp::Gt => ">",
            BinOp::Ge => ">=",
            BinOp::Eq => "==",
            BinOp::Ne => "!=",
            BinOp::And => "&&",
            BinOp::Or => "||",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum UnOp {
    Neg,
    Not,
}

#[derive(Clone, Debug, PartialEq)]
pub enum ExprKind {
    Int(i64),
    Float(f64),
    Str(Name),
    Bool(bool),
    Unit,
    /// A lower identifier.
    Var(Name),
    /// An upper identifier (a constructor).
    Ctor(Name),
    /// `\p1 p2 -> body`
    Lambda {
        params: Vec<Param>,
        body: Box<Expr>,
    },
    /// `f a b`, `f(a, b)`: `args` is never empty.
    App {
        func: Box<Expr>,
        args: Vec<Expr>,
    },
    /// `let [rec] name [: T] = value in body`
    Let {
        rec: bool,
        name: Ident,
        /// Boxed, like [`ExprKind::Ann`]'s type: types are large and rare in expressions,
        /// and the biggest variant sets the size of every node.
        ann: Option<Box<Type>>,
        value: Box<Expr>,
        body: Box<Expr>,
    },
    If {
        cond: Box<Expr>,
        then_branch: Box<Expr>,
        else_branch: Box<Expr>,
    },
    Match {
        scrutinee: Box<Expr>,
        cases: Vec<Case>,
    },
    Binary {
        op: BinOp,
        op_span: Span,
        lhs: Box<Expr>,
        rhs: Box<Expr>,
    },
    Unary {
        op: UnOp,
        operand: Box<Expr>,
    },
    /// `e.f`; also `m.x` / `m.C` for a module alias `m` (see [`Expr::as_qualified`]).
    Field {
        expr: Box<Expr>,
        field: Ident,
    },
    /// `{ f = e, ... }` or `{ ...base, f = e, ... }`
    Record {
        base: Option<Box<Expr>>,
        fields: Vec<FieldInit>,
    },
    List(Vec<Expr>),
    /// `(e : T)`
    Ann {
        expr: Box<Expr>,
        ty: Box<Type>,
    },
    /// Parser recovery placeholder: never evaluated (the program has a parse error).
    Error,
}

impl Expr {
    /// `m.name` where the object is a plain variable: the candidate module alias and the
    /// member. Whether `m` really is a module alias is decided by scope.
    pub fn as_qualified(&self) -> Option<(&Name, Span, &Ident)> {
        match &self.kind {
            ExprKind::Field { expr, field } => match &expr.kind {
                ExprKind::Var(module) => Some((module, expr.span, field)),
                _ => None,
            },
            _ => None,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Param {
    /// `None` for `_`.
    pub name: Option<Ident>,
    pub ann: Option<Type>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct FieldInit {
    pub name: Ident,
    pub value: Expr,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Case {
    pub pat: Pattern,
    pub guard: Option<Expr>,
    pub body: Expr,
    pub span: Span,
}

// ---------------------------------------------------------------- patterns

#[derive(Clone, Debug, PartialEq)]
pub struct Pattern {
    pub kind: PatternKind,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Literal {
    Int(i64),
    Float(f64),
    Str(Name),
    Bool(bool),
    Unit,
}

#[derive(Clone, Debug, PartialEq)]
pub enum PatternKind {
    Wildcard,
    Var(Ident),
    Lit(Literal),
    /// `C`, `C p`, `m.C`, `m.C p`
    Ctor {
        module: Option<Ident>,
        name: Ident,
        payload: Option<Box<Pattern>>,
    },
    /// `{ f = p, g, .. }`: `g` alone is stored as `g = g` (a `Var` pattern).
    Record {
        fields: Vec<FieldPattern>,
        open: bool,
    },
    List(Vec<Pattern>),
    /// Parser recovery placeholder.
    Error,
}

#[derive(Clone, Debug, PartialEq)]
pub struct FieldPattern {
    pub name: Ident,
    pub pat: Pattern,
}
