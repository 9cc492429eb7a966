//! Exporting Ligature types as JSON Schema (draft 2020-12) and TypeScript declarations.
//!
//! Both exporters describe what the validator accepts, and are built from what it is
//! built from: the [`Shape`] of a type (`validate::ShapeBuilder`, the inverse of the data
//! model of LANGUAGE.md 11.3) and its refinement [`Plan`] (the lowered `where`/`with`
//! items that validation runs). The walk goes down the shape and the plan together, as
//! the validator's walk does (a record's field plan by name, a list's element plan, a
//! constructor's payload plan, a recursive union's knot):
//!
//! * a scalar, list, record or union shape becomes its JSON Schema (`integer` within
//!   the 64-bit range, `number`, `string`, `boolean`, `null`, `array`, a closed `object`,
//!   a `oneOf` of constructor names and one-member objects) or its TypeScript type;
//! * unions are named: each instantiation (and each refinement plan through it) is one
//!   `$defs` entry, reached by `$ref`, which is how recursive unions end; in TypeScript
//!   a union is declared once, generically, and referenced with its arguments;
//! * a refinement item is read back from its source text (re-parsed as the type it came
//!   from) and matched against the forms JSON Schema expresses exactly ([`Keyword`]):
//!   numeric bounds against literals, `length x` bounds, `pattern`/`regexp` regexes in
//!   the common subset of Rust's and ECMAScript's dialects ([`to_ecma_regex`]). Anything
//!   else is kept as text (`description`, `x-ligature-refinement`, `@refinement`) and
//!   listed in [`Unexpressed`]; the schema then accepts a superset of what validation
//!   accepts, never less.
//!
//! Output is deterministic: types in the order asked (or declared), `$defs` in the order
//! first reached, fields in the type's order.

use std::cell::Cell;
use std::collections::hash_map::Entry;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Arc;

use serde_json::{json, Value as Json};

use crate::eval::lower::{CheckItem, Knot, Plan};
use crate::hash::{HashMap, HashSet};
use crate::source::FileId;
use crate::syntax::ast;
use crate::types::env::{Env, Origin, TypeDef};
use crate::types::ty::SType;
use crate::validate::{Shape, ShapeBuilder, UnionShape};

pub use json_text::JsonText;
use json_text::{write_count, write_escaped, write_int, write_str};

mod json_text;

/// The JSON Schema dialect of the output.
pub const JSON_SCHEMA_DIALECT: &str = "https://json-schema.org/draft/2020-12/schema";

/// A refinement the output could not express exactly: kept as text.
#[derive(Clone, Debug, PartialEq, Eq, Hash, serde::Serialize)]
pub struct Unexpressed {
    /// The exported type (a requested type or a union's definition) it belongs to.
    #[serde(rename = "type")]
    pub type_name: String,
    /// Where inside that type: `$`, `$.port`, `$.items[]`, `$.Some`.
    pub path: String,
    /// The refinement as written (`where x % 2 == 0`, `with startsWith("https://")`).
    pub refinement: String,
}

/// One type to export: a type the entry declares or imports.
#[derive(Clone, Debug)]
pub struct ExportedType {
    pub name: String,
    /// Its definition in the entry's final environment.
    pub def: Arc<TypeDef>,
    /// Names of its parameters as declared (without the quote), when known.
    pub params: Vec<String>,
    /// Its refinement plan (a template over `Plan::Param` when it has parameters).
    pub plan: Option<Arc<Plan>>,
}

/// A top-level binding of the entry's document (LANGUAGE.md 11.1).
#[derive(Clone, Debug)]
pub struct DocumentBinding {
    /// The name importers see (an export list may rename it).
    pub name: String,
    pub ty: SType,
}

/// What both exporters read.
pub struct Input<'a> {
    pub env: &'a Env,
    /// The entry file: refinements written there are read in its final scope.
    pub entry: FileId,
    pub types: Vec<ExportedType>,
    /// The shapes of `types`, built beforehand by [`shapes`] (while their plans were
    /// lowered), taken by the exporter; `None`: the exporter builds them.
    pub shapes: Cell<Option<Shapes>>,
}

/// The shapes of the types to export, as one exporter reads them: they depend on the
/// types alone, not on their plans, so [`shapes`] can build them on another thread while
/// the plans are lowered.
pub struct Shapes(ShapesOf);

enum ShapesOf {
    /// One builder for every type (a union reached from several is one definition).
    Json {
        shapes: Vec<Shape>,
        unions: Vec<UnionShape>,
    },
    /// A builder per type, with its parameters as [`Shape::Param`].
    TypeScript(Vec<(Shape, Vec<UnionShape>)>),
}

/// The shapes of `types` for the JSON Schema export (`typescript: false`) or the
/// TypeScript one: what [`to_json_schema`] or [`to_typescript`] would build first.
pub fn shapes(env: &Env, types: &[ExportedType], typescript: bool) -> Shapes {
    if typescript {
        Shapes(ShapesOf::TypeScript(
            types.iter().map(|t| typescript_shape(env, t)).collect(),
        ))
    } else {
        let mut builder = ShapeBuilder::new(env);
        let shapes = types.iter().map(|t| json_shape(&mut builder, t)).collect();
        Shapes(ShapesOf::Json {
            shapes,
            unions: builder.unions,
        })
    }
}

/// A JSON Schema and what it could not express.
#[derive(Debug)]
pub struct JsonSchemaExport {
    pub schema: JsonText,
    pub unexpressed: Vec<Unexpressed>,
}

/// TypeScript declarations and what they could not express.
#[derive(Debug)]
pub struct TypeScriptExport {
    pub text: String,
    pub unexpressed: Vec<Unexpressed>,
}

// ---------------------------------------------------------------- refinements

/// A number as written in a bound.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Num {
    Int(i64),
    Float(f64),
}

impl Num {
    /// As JSON (`null` for a float that is not finite, as `serde_json` writes it).
    fn write_json(self, out: &mut String) {
        match self {
            Num::Int(n) => write_int(out, n),
            Num::Float(x) => out.push_str(&json!(x).to_string()),
        }
    }

    fn text(self) -> String {
        match self {
            Num::Int(n) => n.to_string(),
            Num::Float(x) => format!("{x:?}"),
        }
    }

    /// Whether `self` is at least as tight a lower bound as `other` (same kind).
    fn ge(self, other: Num) -> bool {
        match (self, other) {
            (Num::Int(a), Num::Int(b)) => a >= b,
            (Num::Float(a), Num::Float(b)) => a >= b,
            (Num::Int(a), Num::Float(b)) => (a as f64) >= b,
            (Num::Float(a), Num::Int(b)) => a >= b as f64,
        }
    }
}

/// A JSON Schema keyword that a refinement item expresses exactly.
#[derive(Clone, Debug, PartialEq)]
enum Keyword {
    Minimum(Num),
    Maximum(Num),
    ExclusiveMinimum(Num),
    ExclusiveMaximum(Num),
    MinLength(u64),
    MaxLength(u64),
    MinItems(u64),
    MaxItems(u64),
    /// An ECMAScript regex (unanchored search, as JSON Schema's `pattern`).
    Pattern(String),
    Const(Json),
}

impl Keyword {
    fn name(&self) -> &'static str {
        match self {
            Keyword::Minimum(_) => "minimum",
            Keyword::Maximum(_) => "maximum",
            Keyword::ExclusiveMinimum(_) => "exclusiveMinimum",
            Keyword::ExclusiveMaximum(_) => "exclusiveMaximum",
            Keyword::MinLength(_) => "minLength",
            Keyword::MaxLength(_) => "maxLength",
            Keyword::MinItems(_) => "minItems",
            Keyword::MaxItems(_) => "maxItems",
            Keyword::Pattern(_) => "pattern",
            Keyword::Const(_) => "const",
        }
    }

    fn value(&self) -> Val {
        match self {
            Keyword::Minimum(n)
            | Keyword::Maximum(n)
            | Keyword::ExclusiveMinimum(n)
            | Keyword::ExclusiveMaximum(n) => Val::Num(*n),
            Keyword::MinLength(n)
            | Keyword::MaxLength(n)
            | Keyword::MinItems(n)
            | Keyword::MaxItems(n) => Val::Count(*n),
            Keyword::Pattern(re) => Val::string(re),
            Keyword::Const(v) => Val::Text(v.to_string()),
        }
    }

    /// Writes the JSDoc tag (`@minimum 1`) to `out`.
    fn write_jsdoc(&self, out: &mut String) {
        out.push('@');
        out.push_str(self.name());
        out.push(' ');
        match self {
            Keyword::Minimum(n)
            | Keyword::Maximum(n)
            | Keyword::ExclusiveMinimum(n)
            | Keyword::ExclusiveMaximum(n) => match n {
                Num::Int(n) => write_int(out, *n),
                Num::Float(_) => out.push_str(&n.text()),
            },
            Keyword::Pattern(re) => out.push_str(re),
            other => other.value().write(out),
        }
    }
}

/// What the base of a refinement is, as far as keywords care.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Base {
    Int,
    Float,
    Str,
    List,
    Other,
}

fn base_of(shape: &Shape) -> Base {
    match shape {
        Shape::Int => Base::Int,
        Shape::Float => Base::Float,
        Shape::Str => Base::Str,
        Shape::List(_) => Base::List,
        _ => Base::Other,
    }
}

/// The refinement items of one refined part: keywords for the exact ones, the text of
/// the rest.
#[derive(Debug, Default)]
struct Analysis {
    keywords: Vec<Keyword>,
    unexpressed: Vec<String>,
}

/// What one refinement item gives on one base.
#[derive(Debug)]
struct Memo {
    base: Base,
    /// The item is written in the entry file.
    own: bool,
    keywords: Vec<Keyword>,
    exact: bool,
}

/// Reads refinement items back from their source text.
struct Refinements<'a> {
    env: &'a Env,
    entry: FileId,
    /// By item text and base: the same alias is met many times.
    /// By item text: for each base and whether the item is the entry's, what it gives.
    memo: HashMap<String, Vec<Memo>>,
}

impl<'a> Refinements<'a> {
    fn new(env: &'a Env, entry: FileId) -> Refinements<'a> {
        Refinements {
            env,
            entry,
            memo: HashMap::default(),
        }
    }

    fn analyse(&mut self, items: &[CheckItem], base: Base, out: &mut Analysis) {
        for item in items {
            let own = item.file == self.entry;
            let known = self
                .memo
                .get(item.text.as_str())
                .and_then(|found| found.iter().find(|it| it.base == base && it.own == own));
            let exact = match known {
                Some(it) => {
                    out.keywords.extend(it.keywords.iter().cloned());
                    it.exact
                }
                None => {
                    let (keywords, exact) = self.item(item, base);
                    let memo = Memo {
                        base,
                        own,
                        keywords: keywords.clone(),
                        exact,
                    };
                    self.memo.entry(item.text.clone()).or_default().push(memo);
                    out.keywords.extend(keywords);
                    exact
                }
            };
            if !exact {
                out.unexpressed.push(item.text.clone());
            }
        }
    }

    /// The keywords an item implies, and whether they are exactly the item. A `where`
    /// conjunction may be expressed in part: its exact conjuncts give keywords (the
    /// schema stays a superset) and the whole predicate is kept as text.
    fn item(&self, item: &CheckItem, base: Base) -> (Vec<Keyword>, bool) {
        let Some(refined) = parse_item(&item.text) else {
            return (Vec::new(), false);
        };
        let ast::TypeKind::Refined { items, pred, .. } = &refined.kind else {
            return (Vec::new(), false);
        };
        // Whether `length` in this predicate is the prelude's (only known for the entry's
        // own types, read in its final scope).
        let length_is_prelude = item.file == self.entry
            && self
                .env
                .values
                .get("length")
                .is_some_and(|it| matches!(it.origin, Origin::Prelude));
        let mut keywords = Vec::new();
        let mut exact = true;
        for citem in items {
            match &citem.kind {
                ast::ConstraintItemKind::Regexp(lit) => match to_ecma_regex(&lit.value) {
                    Some(re) if base == Base::Str => keywords.push(Keyword::Pattern(re)),
                    _ => exact = false,
                },
                ast::ConstraintItemKind::Pattern(lit) => match to_ecma_regex(&lit.value) {
                    Some(re) if base == Base::Str => {
                        keywords.push(Keyword::Pattern(format!("^(?:{re})$")))
                    }
                    _ => exact = false,
                },
                ast::ConstraintItemKind::Ge(e) => {
                    match number(e).and_then(|n| bound(base, Subject::Value, ast::BinOp::Ge, n)) {
                        Some(k) => keywords.push(k),
                        None => exact = false,
                    }
                }
                ast::ConstraintItemKind::Le(e) => {
                    match number(e).and_then(|n| bound(base, Subject::Value, ast::BinOp::Le, n)) {
                        Some(k) => keywords.push(k),
                        None => exact = false,
                    }
                }
                ast::ConstraintItemKind::Call { .. } => exact = false,
            }
        }
        if let Some(pred) = pred {
            let mut atoms = Vec::new();
            conjuncts(pred, &mut atoms);
            for atom in atoms {
                match atom_keyword(atom, base, length_is_prelude) {
                    Some(k) => keywords.push(k),
                    None => exact = false,
                }
            }
        }
        (keywords, exact)
    }
}

/// Parses an item's text (`with <= 12`, `where x > 0`) as the refined type it came from.
fn parse_item(text: &str) -> Option<ast::Type> {
    let source = format!("type T_ = Unit {text};");
    let parsed = crate::syntax::parse(FileId(u32::MAX), &source);
    if crate::diagnostic::has_errors(&parsed.diagnostics) {
        return None;
    }
    let decl = parsed.module.decls.into_iter().next()?;
    match decl.kind {
        ast::DeclKind::Type(t) => match t.rhs {
            ast::TypeRhs::Alias(ty) => Some(ty),
            _ => None,
        },
        _ => None,
    }
}

fn conjuncts<'e>(expr: &'e ast::Expr, out: &mut Vec<&'e ast::Expr>) {
    let mut work = vec![expr];
    while let Some(e) = work.pop() {
        match &e.kind {
            ast::ExprKind::Binary {
                op: ast::BinOp::And,
                lhs,
                rhs,
                ..
            } => {
                work.push(rhs);
                work.push(lhs);
            }
            _ => out.push(e),
        }
    }
}

/// What a comparison constrains.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Subject {
    /// `x` itself.
    Value,
    /// `length x`.
    Length,
}

fn subject(expr: &ast::Expr, length_is_prelude: bool) -> Option<Subject> {
    match &expr.kind {
        ast::ExprKind::Var(name) if name == "x" => Some(Subject::Value),
        ast::ExprKind::App { func, args } if length_is_prelude => match (&func.kind, &args[..]) {
            (ast::ExprKind::Var(f), [arg])
                if f == "length" && matches!(&arg.kind, ast::ExprKind::Var(x) if x == "x") =>
            {
                Some(Subject::Length)
            }
            _ => None,
        },
        _ => None,
    }
}

/// A numeric literal, possibly negated.
fn number(expr: &ast::Expr) -> Option<Num> {
    match &expr.kind {
        ast::ExprKind::Int(n) => Some(Num::Int(*n)),
        ast::ExprKind::Float(x) => Some(Num::Float(*x)),
        ast::ExprKind::Unary {
            op: ast::UnOp::Neg,
            operand,
        } => match number(operand)? {
            Num::Int(n) => n.checked_neg().map(Num::Int),
            Num::Float(x) => Some(Num::Float(-x)),
        },
        _ => None,
    }
}

/// `lhs op rhs` with the subject on the left, or the operator mirrored.
fn atom_keyword(atom: &ast::Expr, base: Base, length_is_prelude: bool) -> Option<Keyword> {
    let ast::ExprKind::Binary { op, lhs, rhs, .. } = &atom.kind else {
        return None;
    };
    if *op == ast::BinOp::Eq {
        if subject(lhs, false)? != Subject::Value {
            return None;
        }
        return match (&rhs.kind, base) {
            (ast::ExprKind::Str(s), Base::Str) => Some(Keyword::Const(json!(s.as_str()))),
            _ => match (number(rhs)?, base) {
                (Num::Int(n), Base::Int) => Some(Keyword::Const(json!(n))),
                (Num::Float(x), Base::Float) => Some(Keyword::Const(json!(x))),
                _ => None,
            },
        };
    }
    let (subj, op, n) = match (subject(lhs, length_is_prelude), number(rhs)) {
        (Some(s), Some(n)) => (s, *op, n),
        _ => {
            let s = subject(rhs, length_is_prelude)?;
            let n = number(lhs)?;
            let mirrored = match op {
                ast::BinOp::Lt => ast::BinOp::Gt,
                ast::BinOp::Le => ast::BinOp::Ge,
                ast::BinOp::Gt => ast::BinOp::Lt,
                ast::BinOp::Ge => ast::BinOp::Le,
                _ => return None,
            };
            (s, mirrored, n)
        }
    };
    bound(base, subj, op, n)
}

/// The keyword for `subject op n` on a value of `base`, when one says exactly that.
fn bound(base: Base, subj: Subject, op: ast::BinOp, n: Num) -> Option<Keyword> {
    use ast::BinOp::{Ge, Gt, Le, Lt};
    match (subj, base, n) {
        (Subject::Value, Base::Int, Num::Int(n)) => Some(match op {
            Ge => Keyword::Minimum(Num::Int(n)),
            Le => Keyword::Maximum(Num::Int(n)),
            Gt => match n.checked_add(1) {
                Some(m) => Keyword::Minimum(Num::Int(m)),
                None => Keyword::ExclusiveMinimum(Num::Int(n)),
            },
            Lt => match n.checked_sub(1) {
                Some(m) => Keyword::Maximum(Num::Int(m)),
                None => Keyword::ExclusiveMaximum(Num::Int(n)),
            },
            _ => return None,
        }),
        (Subject::Value, Base::Float, Num::Float(x)) => Some(match op {
            Ge => Keyword::Minimum(Num::Float(x)),
            Le => Keyword::Maximum(Num::Float(x)),
            Gt => Keyword::ExclusiveMinimum(Num::Float(x)),
            Lt => Keyword::ExclusiveMaximum(Num::Float(x)),
            _ => return None,
        }),
        (Subject::Length, Base::Str | Base::List, Num::Int(n)) => {
            // `length x >= n` with the least length n; a bound below 0 is always true
            // (no keyword needed: minimum 0) or never (not expressible as a length).
            let (min, at_least) = match op {
                Ge => (true, n),
                Gt => (true, n.checked_add(1)?),
                Le => (false, n),
                Lt => (false, n.checked_sub(1)?),
                _ => return None,
            };
            let count = u64::try_from(at_least.max(0)).ok()?;
            if !min && at_least < 0 {
                return None;
            }
            Some(match (min, base) {
                (true, Base::Str) => Keyword::MinLength(count),
                (false, Base::Str) => Keyword::MaxLength(count),
                (true, _) => Keyword::MinItems(count),
                (false, _) => Keyword::MaxItems(count),
            })
        }
        _ => None,
    }
}

/// The regex `re` (Rust `regex` syntax, Unicode on) as an ECMAScript regex with the `u`
/// flag that matches exactly the same strings, or `None` when the two dialects may
/// disagree on it. Conservative: literals, `.` (written `[^\n]`: ECMAScript's `.` also
/// stops at `\r`, U+2028 and U+2029), `^`, `$`, groups `( )` and `(?: )`, `|`, the
/// quantifiers `* + ? {n} {n,} {n,m}` (greedy or lazy), bracket classes of literals and
/// ranges (negated or not), and escapes of syntax characters and `\n \t \r`. Everything
/// whose meaning differs or might (`\d \w \s \b` are Unicode-aware in Rust and ASCII in
/// ECMAScript, flags, named groups, Unicode classes, nested or set-operation classes,
/// `\x`/`\u` escapes) is refused.
pub fn to_ecma_regex(re: &str) -> Option<String> {
    const SYNTAX: &str = "^$\\.*+?()[]{}|/";
    let chars: Vec<char> = re.chars().collect();
    let mut out = String::with_capacity(re.len() + 8);
    let mut at = 0;
    let mut depth = 0u32;
    // Whether the previous item can take a quantifier.
    let mut quantifiable = false;
    while let Some(&c) = chars.get(at) {
        at += 1;
        match c {
            '\\' => {
                let e = *chars.get(at)?;
                at += 1;
                match e {
                    'n' | 't' | 'r' => out.push_str(&format!("\\{e}")),
                    _ if SYNTAX.contains(e) => {
                        out.push('\\');
                        out.push(e);
                    }
                    _ => return None,
                }
                quantifiable = true;
            }
            '.' => {
                out.push_str("[^\\n]");
                quantifiable = true;
            }
            '^' | '$' => {
                out.push(c);
                quantifiable = false;
            }
            '(' => {
                if chars.get(at) == Some(&'?') {
                    if chars.get(at + 1) == Some(&':') {
                        at += 2;
                        out.push_str("(?:");
                    } else {
                        return None;
                    }
                } else {
                    out.push('(');
                }
                depth += 1;
                quantifiable = false;
            }
            ')' => {
                depth = depth.checked_sub(1)?;
                out.push(')');
                quantifiable = true;
            }
            '|' => {
                out.push('|');
                quantifiable = false;
            }
            '*' | '+' | '?' => {
                if !quantifiable {
                    return None;
                }
                out.push(c);
                if chars.get(at) == Some(&'?') {
                    at += 1;
                    out.push('?');
                }
                quantifiable = false;
            }
            '{' => {
                if !quantifiable {
                    return None;
                }
                let close = chars.get(at..)?.iter().position(|&ch| ch == '}')? + at;
                let inner: String = chars.get(at..close)?.iter().collect();
                let (lo, hi) = match inner.split_once(',') {
                    Some((lo, hi)) => (lo, Some(hi)),
                    None => (inner.as_str(), None),
                };
                let digits = |s: &str| !s.is_empty() && s.chars().all(|ch| ch.is_ascii_digit());
                if !digits(lo) || hi.is_some_and(|hi| !hi.is_empty() && !digits(hi)) {
                    return None;
                }
                out.push('{');
                out.push_str(&inner);
                out.push('}');
                at = close + 1;
                if chars.get(at) == Some(&'?') {
                    at += 1;
                    out.push('?');
                }
                quantifiable = false;
            }
            '[' => {
                at = bracket_class(&chars, at, &mut out)?;
                quantifiable = true;
            }
            ']' | '}' => return None,
            _ => {
                out.push(c);
                quantifiable = true;
            }
        }
    }
    (depth == 0).then_some(out)
}

/// A bracket class from just after its `[`: copied to `out`, returning the position after
/// its `]`; `None` for anything but literals and ranges.
fn bracket_class(chars: &[char], mut at: usize, out: &mut String) -> Option<usize> {
    out.push('[');
    if chars.get(at) == Some(&'^') {
        out.push('^');
        at += 1;
    }
    let mut first = true;
    loop {
        let c = *chars.get(at)?;
        at += 1;
        match c {
            ']' if !first => {
                out.push(']');
                return Some(at);
            }
            // Rust's nested classes, POSIX classes and set operations; `]` first is a
            // literal in Rust and an empty class in ECMAScript.
            '[' | ']' => return None,
            '&' | '~' | '-' if chars.get(at) == Some(&c) => return None,
            '\\' => {
                let e = *chars.get(at)?;
                at += 1;
                match e {
                    'n' | 't' | 'r' => out.push_str(&format!("\\{e}")),
                    '-' => out.push_str("\\-"),
                    _ if "^$\\.*+?()[]{}|/".contains(e) => {
                        out.push('\\');
                        out.push(e);
                    }
                    _ => return None,
                }
            }
            _ => out.push(c),
        }
        first = false;
    }
}

// ---------------------------------------------------------------- JSON Schema

/// A JSON Schema object being built: its members in order, each value compact JSON text,
/// except the numbers a later refinement may tighten. Written once, by [`Obj::into_text`]:
/// a parent takes its children as text.
#[derive(Debug, Default)]
struct Obj(Vec<(&'static str, Val)>);

/// The value of an [`Obj`] member.
#[derive(Debug)]
enum Val {
    /// Compact JSON text.
    Text(String),
    /// Compact JSON text known when compiled (`"integer"`, `false`).
    Static(&'static str),
    Num(Num),
    Count(u64),
    /// `allOf`: its members' compact texts.
    AllOf(Vec<String>),
}

impl Val {
    fn string(s: &str) -> Val {
        let mut out = String::with_capacity(s.len() + 2);
        write_str(&mut out, s);
        Val::Text(out)
    }

    fn write(&self, out: &mut String) {
        match self {
            Val::Text(text) => out.push_str(text),
            Val::Static(text) => out.push_str(text),
            Val::Num(n) => n.write_json(out),
            Val::Count(n) => write_count(out, *n),
            Val::AllOf(items) => {
                out.push('[');
                for (k, item) in items.iter().enumerate() {
                    if k > 0 {
                        out.push(',');
                    }
                    out.push_str(item);
                }
                out.push(']');
            }
        }
    }

    fn to_text(&self) -> String {
        let mut out = String::new();
        self.write(&mut out);
        out
    }

    /// At least the length of its text (room reserved once instead of grown into).
    fn len_hint(&self) -> usize {
        match self {
            Val::Text(text) => text.len(),
            Val::Static(text) => text.len(),
            Val::Num(_) | Val::Count(_) => 24,
            Val::AllOf(items) => items.iter().map(|it| it.len() + 1).sum::<usize>() + 2,
        }
    }

    /// The number a bound holds (`serde_json`'s `as_i64`, else `as_f64`).
    fn as_num(&self) -> Option<Num> {
        match self {
            Val::Num(Num::Int(n)) => Some(Num::Int(*n)),
            Val::Num(Num::Float(x)) if x.is_finite() => Some(Num::Float(*x)),
            Val::Count(n) => Some(i64::try_from(*n).map_or(Num::Float(*n as f64), Num::Int)),
            _ => None,
        }
    }

    /// A count a length bound holds (`serde_json`'s `as_u64`).
    fn as_u64(&self) -> Option<u64> {
        match self {
            Val::Count(n) => Some(*n),
            Val::Num(Num::Int(n)) => u64::try_from(*n).ok(),
            _ => None,
        }
    }
}

impl Obj {
    fn text(key: &'static str, text: String) -> Obj {
        Obj(vec![(key, Val::Text(text))])
    }

    fn get(&self, key: &str) -> Option<&Val> {
        self.0.iter().find(|(k, _)| *k == key).map(|(_, v)| v)
    }

    fn get_mut(&mut self, key: &str) -> Option<&mut Val> {
        self.0.iter_mut().find(|(k, _)| *k == key).map(|(_, v)| v)
    }

    /// Sets `key`, in its place when it is there already (as an ordered map does).
    fn insert(&mut self, key: &'static str, value: Val) {
        match self.get_mut(key) {
            Some(slot) => *slot = value,
            None => self.0.push((key, value)),
        }
    }

    /// At least the length of its text.
    fn len_hint(&self) -> usize {
        2 + self
            .0
            .iter()
            .map(|(key, value)| key.len() + 4 + value.len_hint())
            .sum::<usize>()
    }

    fn write(&self, out: &mut String) {
        out.reserve(self.len_hint());
        out.push('{');
        for (k, (key, value)) in self.0.iter().enumerate() {
            if k > 0 {
                out.push(',');
            }
            // Keys are this file's keyword names, which need no escapes.
            out.push('"');
            out.push_str(key);
            out.push_str("\":");
            value.write(out);
        }
        out.push('}');
    }

    fn into_text(self) -> String {
        let mut out = String::with_capacity(self.len_hint());
        self.write(&mut out);
        out
    }
}

/// `{"$ref":"#/$defs/NAME"}`.
fn ref_to(name: &str) -> Obj {
    Obj::text("$ref", ref_text(name))
}

/// `"#/$defs/NAME"`, as JSON text.
fn ref_text(name: &str) -> String {
    let mut text = String::with_capacity(name.len() + 10);
    text.push_str("\"#/$defs/");
    write_escaped(&mut text, name);
    text.push('"');
    text
}

/// Whether `obj`'s `$ref` is to the definition `name`.
fn refers_to(obj: &Obj, name: &str) -> bool {
    // Only a string's text starts with a quote, as the reference's does.
    matches!(obj.get("$ref"), Some(Val::Text(found)) if *found == ref_text(name))
}

/// The JSON Schema of `input.types`: one `$defs` entry per type (and per union reached),
/// the root a `$ref` to the only type, or just the `$defs` for several.
pub fn to_json_schema(input: &Input<'_>) -> JsonSchemaExport {
    let mut gen = JsonGen {
        refinements: Refinements::new(input.env, input.entry),
        defs: Vec::new(),
        keyed: HashMap::default(),
        unexpressed: Vec::new(),
        def_stack: Vec::new(),
        path: String::new(),
        claim: None,
        unions: Arc::from(Vec::new()),
        def_at: HashMap::default(),
        dropped: HashSet::default(),
        bodies: HashMap::default(),
        seen: HashSet::default(),
        suffix: HashMap::default(),
        knots: HashMap::default(),
        alone: HashMap::default(),
    };
    let reserved: HashSet<String> = input.types.iter().map(|t| t.name.clone()).collect();
    // Sized for a definition per type and about as many unions reached, instead of growing
    // into fresh memory a dozen times for a schema's 54,000 types.
    let n = input.types.len();
    gen.defs.reserve(2 * n);
    gen.def_at.reserve(2 * n);
    gen.keyed.reserve(n);
    for t in &input.types {
        gen.reserve(&t.name);
    }
    // One builder for every type: a union reached from several is one definition.
    let (shapes, unions) = match input.shapes.take() {
        Some(Shapes(ShapesOf::Json { shapes, unions })) if shapes.len() == n => (shapes, unions),
        _ => {
            let mut builder = ShapeBuilder::new(input.env);
            let shapes: Vec<Shape> = input
                .types
                .iter()
                .map(|t| json_shape(&mut builder, t))
                .collect();
            (shapes, builder.unions)
        }
    };
    let described: Vec<(Shape, Option<Arc<Plan>>)> = shapes
        .into_iter()
        .zip(&input.types)
        .map(|(shape, t)| (shape, instantiate_plan(t)))
        .collect();
    gen.unions = Arc::from(unions);
    let unions = Arc::clone(&gen.unions);
    // A requested union type names its union's definition.
    for (t, (shape, plan)) in input.types.iter().zip(&described) {
        if let (Shape::Union(idx), None) = (shape, plan) {
            if unions.get(*idx).is_some_and(|u| u.name == t.name) {
                gen.keyed.entry((*idx, 0)).or_insert_with(|| t.name.clone());
            }
        }
    }
    for (t, (shape, plan)) in input.types.iter().zip(&described) {
        let plan = plan.as_deref();
        gen.def_stack.push(t.name.clone());
        let body = match shape {
            Shape::Union(idx) if unions.get(*idx).is_some_and(|u| u.name == t.name) => {
                if gen.keyed.get(&(*idx, 0)) == Some(&t.name) && plan.is_none() {
                    // Pre-named: its body is built here.
                    let body = unions
                        .get(*idx)
                        .map_or_else(|| "{}".to_string(), |u| gen.union_body(u, None));
                    Some(body)
                } else {
                    gen.claim = Some(t.name.clone());
                    let res = gen.union_ref(*idx, plan);
                    gen.claim = None;
                    Some(res)
                        .filter(|it| !refers_to(it, &t.name))
                        .map(Obj::into_text)
                }
            }
            _ => Some(gen.schema(shape, plan))
                .filter(|it| !refers_to(it, &t.name))
                .map(Obj::into_text),
        };
        gen.def_stack.pop();
        // A body that is a reference to its own name was defined under it already.
        if let Some(body) = body {
            gen.set_def(&t.name, body);
        }
    }
    let JsonGen {
        mut defs,
        dropped,
        mut unexpressed,
        ..
    } = gen;
    defs.retain(|(name, _)| !dropped.contains(name));
    let merged = merge_twins(&mut defs, &reserved);
    for it in &mut unexpressed {
        if let Some(into) = merged.get(&it.type_name) {
            it.type_name = into.clone();
        }
    }
    let mut seen = HashSet::default();
    unexpressed.retain(|it| seen.insert(it.clone()));
    let size: usize = defs
        .iter()
        .map(|(name, body)| name.len() + body.len() + 4)
        .sum();
    let mut out = String::with_capacity(size + 128);
    out.push_str("{\"$schema\":");
    write_str(&mut out, JSON_SCHEMA_DIALECT);
    if let [only] = &input.types[..] {
        out.push_str(",\"$ref\":");
        out.push_str(&ref_text(&only.name));
    }
    out.push_str(",\"$defs\":{");
    // Names are unique in `defs` (a name is reserved once, or released and reserved
    // again); each body is dropped once copied.
    for (k, (name, body)) in defs.into_iter().enumerate() {
        if k > 0 {
            out.push(',');
        }
        write_str(&mut out, &name);
        out.push(':');
        out.push_str(&body);
    }
    out.push_str("}}");
    JsonSchemaExport {
        schema: JsonText(out),
        unexpressed,
    }
}

/// The shape of a type to export with its parameters as any data.
fn json_shape(builder: &mut ShapeBuilder<'_>, t: &ExportedType) -> Shape {
    let arity = t.def.arity();
    match &*t.def {
        TypeDef::Alias { body, .. } => builder.shape(body, &[], 0),
        TypeDef::Union { identity, .. } => {
            let args = vec![SType::Error; arity as usize];
            builder.shape(&SType::Con(identity.clone(), args), &[], 0)
        }
        TypeDef::Builtin { .. } => {
            let args = vec![SType::Error; arity as usize];
            builder.shape(&SType::Con(ast::Name::new(&t.name), args), &[], 0)
        }
    }
}

/// The plan of a type to export with nothing checked for its parameters.
fn instantiate_plan(t: &ExportedType) -> Option<Arc<Plan>> {
    let arity = t.def.arity();
    match (&t.plan, arity) {
        (Some(plan), 0) => Some(Arc::clone(plan)),
        (Some(plan), n) => plan.instantiate(&vec![None; n as usize]).map(Arc::new),
        (None, _) => None,
    }
}

/// The shape of a type to export with its parameters as [`Shape::Param`], and the unions
/// it reaches (its own builder's).
fn typescript_shape(env: &Env, t: &ExportedType) -> (Shape, Vec<UnionShape>) {
    let mut builder = ShapeBuilder::new(env);
    builder.params = true;
    let arity = t.def.arity() as usize;
    let shape = match &*t.def {
        TypeDef::Alias { body, .. } => builder.shape(body, &[], 0),
        TypeDef::Union { identity, .. } => {
            let args = (0..arity as u32).map(SType::Gen).collect();
            builder.shape(&SType::Con(identity.clone(), args), &[], 0)
        }
        TypeDef::Builtin { .. } => Shape::Any,
    };
    (shape, builder.unions)
}

struct JsonGen<'a> {
    refinements: Refinements<'a>,
    /// `$defs` in the order reached, as compact text (`null` while being built).
    defs: Vec<(String, String)>,
    /// The definition of a union per (union, identity of its plan).
    keyed: HashMap<(usize, usize), String>,
    unexpressed: Vec<Unexpressed>,
    /// The definitions being built, innermost last.
    def_stack: Vec<String>,
    /// Where inside the current definition, after its `$`: `.port[]`.
    path: String,
    /// A requested union type's name, for its union's definition.
    claim: Option<String>,
    /// Shared, so that a union's body is built while it is borrowed.
    unions: Arc<[UnionShape]>,
    /// Where each name is in `defs`.
    def_at: HashMap<String, usize>,
    /// Names reserved and then not used (a body equal to an earlier one's).
    dropped: HashSet<String>,
    /// Definitions of unions with refinements, by base name and body.
    bodies: HashMap<(String, String), String>,
    /// `unexpressed`, as a set.
    seen: HashSet<Unexpressed>,
    /// The next suffix to try for a definition's base name.
    suffix: HashMap<String, u32>,
    /// The knots defined so far per union, with their definitions' names.
    knots: HashMap<usize, Vec<(Arc<Knot>, String)>>,
    /// Per union, whether its payloads reach no union but itself.
    alone: HashMap<usize, bool>,
}

impl JsonGen<'_> {
    fn fresh_name(&mut self, base: &str) -> String {
        if let Some(claim) = self.claim.take() {
            if claim == base {
                return claim;
            }
            self.claim = Some(claim);
        }
        let name = if self.def_at.contains_key(base) {
            let next = self.suffix.entry(base.to_string()).or_insert(2);
            let mut name = format!("{base}_{next}");
            while self.def_at.contains_key(&name) {
                *next += 1;
                name = format!("{base}_{next}");
            }
            *next += 1;
            name
        } else {
            base.to_string()
        };
        self.reserve(&name);
        name
    }

    /// Gives back a name just taken and not used (a body equal to an earlier one's): the
    /// next name of its base is then the same again.
    fn release(&mut self, name: &str) {
        if self.defs.last().is_some_and(|(last, _)| last == name) {
            self.defs.pop();
            self.def_at.remove(name);
            if let Some((base, k)) = name.rsplit_once('_') {
                if let (Some(next), Ok(k)) = (self.suffix.get_mut(base), k.parse::<u32>()) {
                    if *next == k + 1 {
                        *next = k;
                    }
                }
            }
        } else {
            self.dropped.insert(name.to_string());
        }
    }

    /// Takes `name` for a definition (built later: `null` until then).
    fn reserve(&mut self, name: &str) {
        if !self.def_at.contains_key(name) {
            self.def_at.insert(name.to_string(), self.defs.len());
            self.defs.push((name.to_string(), "null".to_string()));
        }
    }

    fn set_def(&mut self, name: &str, body: String) {
        if let Some(slot) = self.def_at.get(name).and_then(|at| self.defs.get_mut(*at)) {
            slot.1 = body;
        }
    }

    fn path_text(&self) -> String {
        let mut out = String::with_capacity(self.path.len() + 1);
        out.push('$');
        out.push_str(&self.path);
        out
    }

    fn schema(&mut self, shape: &Shape, plan: Option<&Plan>) -> Obj {
        let (refined, plan) = refinements(plan);
        let mut out = self.plain(shape, plan);
        if refined.is_empty() {
            return out;
        }
        let mut analysis = Analysis::default();
        for items in refined.iter().rev() {
            self.refinements
                .analyse(items, base_of(shape), &mut analysis);
        }
        for keyword in &analysis.keywords {
            add_keyword(&mut out, keyword);
        }
        if !analysis.unexpressed.is_empty() {
            let text = analysis.unexpressed.join(" ");
            out.insert(
                "description",
                Val::string(&format!("Ligature refinement not expressed here: {text}")),
            );
            out.insert("x-ligature-refinement", Val::string(&text));
        }
        let type_name = self.def_stack.last().cloned().unwrap_or_default();
        let path = self.path_text();
        for text in analysis.unexpressed {
            let it = Unexpressed {
                type_name: type_name.clone(),
                path: path.clone(),
                refinement: text,
            };
            if self.seen.insert(it.clone()) {
                self.unexpressed.push(it);
            }
        }
        out
    }

    fn plain(&mut self, shape: &Shape, plan: Option<&Plan>) -> Obj {
        let type_is = |name: &'static str| ("type", Val::Static(name));
        match shape {
            Shape::Int => Obj(vec![
                type_is("\"integer\""),
                ("minimum", Val::Num(Num::Int(i64::MIN))),
                ("maximum", Val::Num(Num::Int(i64::MAX))),
            ]),
            Shape::Float => Obj(vec![type_is("\"number\"")]),
            Shape::Str => Obj(vec![type_is("\"string\"")]),
            Shape::Bool => Obj(vec![type_is("\"boolean\"")]),
            Shape::Unit => Obj(vec![type_is("\"null\"")]),
            Shape::List(elem) => {
                let elem_plan = match plan {
                    Some(Plan::List(inner)) => Some(&**inner),
                    _ => None,
                };
                let at = self.path.len();
                self.path.push_str("[]");
                let items = self.schema(elem, elem_plan);
                self.path.truncate(at);
                Obj(vec![
                    type_is("\"array\""),
                    ("items", Val::Text(items.into_text())),
                ])
            }
            Shape::Record { fields, open, .. } => {
                let mut properties = String::from("{");
                let mut required = String::from("[");
                for (k, (name, field)) in fields.iter().enumerate() {
                    let field_plan = field_plan(plan, name);
                    let at = self.path.len();
                    self.path.push('.');
                    self.path.push_str(name);
                    let schema = self.schema(field, field_plan);
                    self.path.truncate(at);
                    if k > 0 {
                        properties.push(',');
                        required.push(',');
                    }
                    write_str(&mut properties, name);
                    properties.push(':');
                    schema.write(&mut properties);
                    write_str(&mut required, name);
                }
                properties.push('}');
                required.push(']');
                let mut obj = Obj(vec![
                    type_is("\"object\""),
                    ("properties", Val::Text(properties)),
                    ("required", Val::Text(required)),
                ]);
                if !open {
                    obj.insert("additionalProperties", Val::Static("false"));
                }
                obj
            }
            Shape::Union(idx) => self.union_ref(*idx, plan),
            Shape::Any | Shape::Param(_) => Obj::default(),
            Shape::Function => Obj(vec![("not", Val::Static("{}"))]),
        }
    }

    /// A `$ref` to the definition of union `idx` under `plan`.
    fn union_ref(&mut self, idx: usize, plan: Option<&Plan>) -> Obj {
        let unions = Arc::clone(&self.unions);
        let Some(union) = unions.get(idx) else {
            return Obj::default();
        };
        // Recursive unions are named before their body is built; a knot (a recursive
        // union with refinements) by its address, which its occurrences share.
        let key = match plan {
            None | Some(Plan::Param(_)) => Some(0),
            Some(Plan::Knot(knot)) => Some(Arc::as_ptr(knot) as usize),
            Some(Plan::Back(knot)) => Some(knot.as_ptr() as usize),
            Some(_) => None,
        };
        if let Some(name) = key.and_then(|k| self.keyed.get(&(idx, k))) {
            return ref_to(name);
        }
        let body_plan: Option<&Plan> = match plan {
            Some(Plan::Knot(knot)) => knot.plan.get(),
            // An occurrence outside its knot: nothing is known of it (never built so).
            Some(Plan::Back(_)) | Some(Plan::Param(_)) | None => None,
            Some(other) => Some(other),
        };
        if let (Some(k), Some(Plan::Knot(knot))) = (key, plan) {
            if let Some(twin) = self.twin(idx, union, knot) {
                // The definition it would get is its twin's, which merging would have
                // found after building it (`merge_twins`): its name is taken and dropped
                // as it was then, so later names are the same.
                let name = self.fresh_name(&union.name);
                self.dropped.insert(name);
                self.keyed.insert((idx, k), twin.clone());
                return ref_to(&twin);
            }
        }
        if let Some(k) = key {
            let name = self.fresh_name(&union.name);
            self.keyed.insert((idx, k), name.clone());
            if let Some(Plan::Knot(knot)) = plan {
                let knots = self.knots.entry(idx).or_default();
                knots.push((Arc::clone(knot), name.clone()));
            }
            self.def_stack.push(name.clone());
            let saved = std::mem::take(&mut self.path);
            let body = self.union_body(union, body_plan);
            self.path = saved;
            self.def_stack.pop();
            self.set_def(&name, body);
            return ref_to(&name);
        }
        // A union with refinements in its payloads, not recursive: one definition per
        // distinct body.
        let name = self.fresh_name(&union.name);
        self.def_stack.push(name.clone());
        let saved = std::mem::take(&mut self.path);
        let listed = self.unexpressed.len();
        let body = self.union_body(union, body_plan);
        self.path = saved;
        self.def_stack.pop();
        let key = (union.name.clone(), body);
        let name = match self.bodies.get(&key).cloned() {
            Some(existing) => {
                // What this body listed, the existing one listed under its name.
                for it in self.unexpressed.drain(listed..) {
                    self.seen.remove(&it);
                }
                self.release(&name);
                existing
            }
            None => {
                self.set_def(&name, key.1.clone());
                self.bodies.insert(key, name.clone());
                name
            }
        };
        ref_to(&name)
    }

    /// The definition, finished, of an earlier knot of union `idx` whose plan is `knot`'s
    /// but for the knots' identities. Its body is the text `knot`'s would be, its own name
    /// aside, when the union reaches no other union (whose definitions the body would
    /// name or make): a recursive union met in many types is then defined once, instead of
    /// once per place that names it and merged afterwards by text.
    fn twin(&mut self, idx: usize, union: &UnionShape, knot: &Arc<Knot>) -> Option<String> {
        if self.claim.is_some() {
            return None;
        }
        let plan = knot.plan.get()?;
        let candidates = self.knots.get(&idx)?;
        let mut found = None;
        for (other, name) in candidates {
            let Some(other_plan) = other.plan.get() else {
                continue;
            };
            let mine = Arc::as_ptr(knot);
            let theirs = Arc::as_ptr(other);
            if !self.def_stack.contains(name) && same_plan(plan, other_plan, (mine, theirs)) {
                found = Some(name.clone());
                break;
            }
        }
        let found = found?;
        let alone = *self
            .alone
            .entry(idx)
            .or_insert_with(|| reaches_only(union, idx));
        alone.then_some(found)
    }

    /// A union's definition, as compact text.
    fn union_body(&mut self, union: &UnionShape, plan: Option<&Plan>) -> String {
        let mut alternatives: Vec<String> = Vec::new();
        let nullary: Vec<&str> = union
            .ctors
            .iter()
            .filter(|(_, p)| p.is_none())
            .map(|(n, _)| n.as_str())
            .collect();
        match &nullary[..] {
            [] => {}
            [one] => {
                let mut text = String::from("{\"const\":");
                write_str(&mut text, one);
                text.push('}');
                alternatives.push(text);
            }
            many => {
                let mut text = String::from("{\"enum\":[");
                for (k, name) in many.iter().enumerate() {
                    if k > 0 {
                        text.push(',');
                    }
                    write_str(&mut text, name);
                }
                text.push_str("]}");
                alternatives.push(text);
            }
        }
        for (ctor, payload) in &union.ctors {
            let Some(payload) = payload else { continue };
            let ctor_plan = match plan {
                Some(Plan::Union(ctors)) => ctors
                    .iter()
                    .find(|(n, _)| n == ctor)
                    .and_then(|(_, p)| p.as_ref()),
                _ => None,
            };
            let at = self.path.len();
            self.path.push('.');
            self.path.push_str(ctor);
            let schema = self.schema(payload, ctor_plan);
            self.path.truncate(at);
            let mut text = String::with_capacity(96 + 2 * ctor.len() + schema.len_hint());
            text.push_str("{\"type\":\"object\",\"properties\":{");
            write_str(&mut text, ctor);
            text.push(':');
            schema.write(&mut text);
            text.push_str("},\"required\":[");
            write_str(&mut text, ctor);
            text.push_str("],\"additionalProperties\":false}");
            alternatives.push(text);
        }
        match <[String; 1]>::try_from(alternatives) {
            Ok([only]) => only,
            Err(alternatives) => {
                let size: usize = alternatives.iter().map(|it| it.len() + 1).sum();
                let mut text = String::with_capacity(size + 12);
                text.push_str("{\"oneOf\":[");
                for (k, it) in alternatives.iter().enumerate() {
                    if k > 0 {
                        text.push(',');
                    }
                    text.push_str(it);
                }
                text.push_str("]}");
                text
            }
        }
    }
}

/// Whether `union`'s payloads name no union but `idx` (itself).
fn reaches_only(union: &UnionShape, idx: usize) -> bool {
    let mut work: Vec<&Shape> = union.ctors.iter().filter_map(|(_, p)| p.as_ref()).collect();
    while let Some(shape) = work.pop() {
        match shape {
            Shape::Union(j) if *j != idx => return false,
            Shape::List(elem) => work.push(elem),
            Shape::Record { fields, .. } => work.extend(fields.iter().map(|(_, f)| f)),
            _ => {}
        }
    }
    true
}

/// Whether plans `a` and `b` export alike, where `a`'s occurrences of knot `knots.0` are
/// `b`'s of `knots.1`: the same structure, and refinement items of the same text from the
/// same file (all the exporters read of them). Conservative: a knot inside either is
/// alike only when it is the same knot.
fn same_plan(a: &Plan, b: &Plan, knots: (*const Knot, *const Knot)) -> bool {
    match (a, b) {
        (
            Plan::Refined {
                base: a_base,
                items: a_items,
                ..
            },
            Plan::Refined {
                base: b_base,
                items: b_items,
                ..
            },
        ) => {
            a_items.len() == b_items.len()
                && a_items
                    .iter()
                    .zip(b_items)
                    .all(|(x, y)| x.text == y.text && x.file == y.file)
                && match (a_base, b_base) {
                    (Some(x), Some(y)) => same_plan(x, y, knots),
                    (None, None) => true,
                    _ => false,
                }
        }
        (Plan::Record(xs), Plan::Record(ys)) => {
            xs.len() == ys.len()
                && xs
                    .iter()
                    .zip(ys)
                    .all(|((n, x), (m, y))| n == m && same_plan(x, y, knots))
        }
        (Plan::List(x), Plan::List(y)) => same_plan(x, y, knots),
        (Plan::Union(xs), Plan::Union(ys)) => {
            xs.len() == ys.len()
                && xs.iter().zip(ys).all(|((n, x), (m, y))| {
                    n == m
                        && match (x, y) {
                            (Some(x), Some(y)) => same_plan(x, y, knots),
                            (None, None) => true,
                            _ => false,
                        }
                })
        }
        (Plan::Param(x), Plan::Param(y)) => x == y,
        (Plan::Knot(x), Plan::Knot(y)) => Arc::ptr_eq(x, y),
        (Plan::Back(x), Plan::Back(y)) => {
            let (x, y) = (x.as_ptr(), y.as_ptr());
            x == y || (x == knots.0 && y == knots.1)
        }
        _ => false,
    }
}

/// Merges definitions that are the same union under different plans of equal effect (a
/// recursive union's knot is one per place that names it): a later definition whose body,
/// with references to itself read as references to the earlier one, is the earlier body
/// goes, and references to it point to the earlier one. In rounds, until nothing changes
/// (a merge can make two more definitions equal). Returns where each merged name went.
fn merge_twins(
    defs: &mut Vec<(String, String)>,
    keep: &HashSet<String>,
) -> BTreeMap<String, String> {
    let mut merged: BTreeMap<String, String> = BTreeMap::new();
    loop {
        let mut round: HashMap<String, String> = HashMap::default();
        let mut seen: HashMap<(String, String), String> = HashMap::default();
        // Only names that share a base can merge.
        let mut per_base: HashMap<&str, usize> = HashMap::default();
        per_base.reserve(defs.len());
        for (name, _) in defs.iter() {
            *per_base.entry(def_base(name)).or_insert(0) += 1;
        }
        for (name, body) in defs.iter() {
            if per_base.get(def_base(name)).copied().unwrap_or(0) < 2 {
                continue;
            }
            let base = def_base(name).to_string();
            let own = format!("\"#/$defs/{name}\"");
            let text = body.replace(&own, "\"#/$defs/\u{0}\"");
            let mergeable = !keep.contains(name) && name.as_str() != base;
            match seen.entry((base, text)) {
                Entry::Occupied(earlier) => {
                    if mergeable {
                        round.insert(name.clone(), earlier.get().clone());
                    }
                }
                Entry::Vacant(slot) => {
                    slot.insert(name.clone());
                }
            }
        }
        if round.is_empty() {
            return merged;
        }
        defs.retain(|(name, _)| !round.contains_key(name));
        for (_, body) in defs.iter_mut() {
            retarget(body, &round);
        }
        for into in merged.values_mut() {
            if let Some(next) = round.get(into) {
                *into = next.clone();
            }
        }
        merged.extend(round);
    }
}

/// Points every `$ref` to a merged definition at the one it was merged into. In compact
/// text, `"$ref":"` only ever starts a member (inside a string its quotes are escaped),
/// and definition names need no escapes.
fn retarget(schema: &mut String, merges: &HashMap<String, String>) {
    const REF: &str = "\"$ref\":\"#/$defs/";
    if !schema.contains(REF) {
        return;
    }
    let mut out = String::with_capacity(schema.len());
    let mut rest = schema.as_str();
    while let Some(at) = rest.find(REF) {
        let (before, from) = rest.split_at(at + REF.len());
        out.push_str(before);
        let end = from.find('"').unwrap_or(from.len());
        let (name, after) = from.split_at(end);
        out.push_str(merges.get(name).map_or(name, String::as_str));
        rest = after;
    }
    out.push_str(rest);
    *schema = out;
}

/// A definition's name without the `_2` that told it apart.
fn def_base(name: &str) -> &str {
    match name.rsplit_once('_') {
        Some((base, k)) if !k.is_empty() && k.chars().all(|c| c.is_ascii_digit()) => base,
        _ => name,
    }
}

fn field_plan<'p>(plan: Option<&'p Plan>, name: &str) -> Option<&'p Plan> {
    match plan {
        Some(Plan::Record(fields)) => fields.iter().find(|(n, _)| n == name).map(|(_, p)| p),
        _ => None,
    }
}

/// Adds `keyword`, tightening a bound already there (both hold: the tighter one is
/// exactly their conjunction); a second pattern or constant goes to `allOf`.
fn add_keyword(obj: &mut Obj, keyword: &Keyword) {
    let name = keyword.name();
    let value = keyword.value();
    let Some(old) = obj.get(name) else {
        obj.insert(name, value);
        return;
    };
    let tighter = match (keyword, old.as_num()) {
        (Keyword::Minimum(n) | Keyword::ExclusiveMinimum(n), Some(old)) => Some(n.ge(old)),
        (Keyword::Maximum(n) | Keyword::ExclusiveMaximum(n), Some(old)) => Some(old.ge(*n)),
        (Keyword::MinLength(n) | Keyword::MinItems(n), _) => old.as_u64().map(|o| *n >= o),
        (Keyword::MaxLength(n) | Keyword::MaxItems(n), _) => old.as_u64().map(|o| *n <= o),
        _ => None,
    };
    match tighter {
        Some(true) => obj.insert(name, value),
        Some(false) => {}
        None => {
            if old.to_text() == value.to_text() {
                return;
            }
            let mut extra = Obj::default();
            extra.insert(name, value);
            let extra = extra.into_text();
            match obj.get_mut("allOf") {
                Some(Val::AllOf(all)) => all.push(extra),
                _ => obj.insert("allOf", Val::AllOf(vec![extra])),
            }
        }
    }
}

// ---------------------------------------------------------------- TypeScript

/// TypeScript declarations of `input.types` (each generic over its parameters), of the
/// unions they reach, and, when `document` is given, of the file's document:
/// `declare const config: {...}; export default config;` plus a named export per binding
/// whose name is a valid JavaScript identifier.
pub fn to_typescript(input: &Input<'_>, document: Option<&Document>) -> TypeScriptExport {
    let mut gen = TsGen {
        refinements: Refinements::new(input.env, input.entry),
        names: HashMap::default(),
        taken: HashSet::default(),
        queue: Vec::new(),
        queued: HashSet::default(),
        seen: HashSet::default(),
        unexpressed: Vec::new(),
        current: String::new(),
        path: String::new(),
    };
    let mut out = String::from("// Generated by `ligature types --emit typescript`.\n");
    // Requested types keep their names; unions reached get theirs after.
    let requested: HashSet<&str> = input.types.iter().map(|t| t.name.as_str()).collect();
    for t in &input.types {
        gen.taken.insert(t.name.clone());
        if let TypeDef::Union { identity, .. } = &*t.def {
            gen.names.insert(identity.to_string(), t.name.clone());
        }
    }
    let mut built = match input.shapes.take() {
        Some(Shapes(ShapesOf::TypeScript(shapes))) if shapes.len() == input.types.len() => {
            Some(shapes.into_iter())
        }
        _ => None,
    };
    for t in &input.types {
        gen.current = t.name.clone();
        let arity = t.def.arity() as usize;
        let (shape, unions) = match built.as_mut().and_then(Iterator::next) {
            Some(it) => it,
            None => typescript_shape(input.env, t),
        };
        let (shape, unions): (&Shape, &[UnionShape]) = (&shape, &unions);
        // A parameter is never named as a type the declaration mentions.
        let mentioned: HashSet<&str> = if arity == 0 {
            HashSet::default()
        } else {
            unions.iter().map(|u| u.name.as_str()).collect()
        };
        let params: Vec<String> = (0..arity)
            .map(|k| {
                let mut name = param_name(t.params.get(k).map(String::as_str), k);
                while mentioned.contains(name.as_str()) || gen.taken.contains(&name) {
                    name.push('_');
                }
                name
            })
            .collect();
        let generics = if params.is_empty() {
            String::new()
        } else {
            format!("<{}>", params.join(", "))
        };
        let plan = t.plan.as_deref();
        out.push('\n');
        match (&*t.def, shape) {
            (TypeDef::Union { .. }, Shape::Union(idx)) => {
                let body = unions
                    .get(*idx)
                    .map(|u| gen.union_body(unions, u, plan, &params))
                    .unwrap_or_else(|| "never".into());
                push_all(
                    &mut out,
                    &["export type ", &t.name, &generics, " = ", &body, ";\n"],
                );
            }
            (_, Shape::Record { fields, open, .. }) if !refined_root(plan) => {
                push_all(&mut out, &["export interface ", &t.name, &generics, " {\n"]);
                let record = (unions, &fields[..], *open);
                gen.members(&mut out, record, plan, &params, Members::Lines);
                out.push_str("}\n");
            }
            _ => {
                let doc = gen.doc(shape, plan);
                let ty = gen.render(unions, shape, plan, &params);
                if !doc.is_empty() {
                    push_all(&mut out, &["/** ", &doc, " */\n"]);
                }
                push_all(
                    &mut out,
                    &["export type ", &t.name, &generics, " = ", &ty, ";\n"],
                );
            }
        }
    }
    // The document and its bindings (their unions are declared below with the rest).
    let mut doc_text = String::new();
    if let Some(document) = document {
        gen.current = "document".into();
        let mut builder = ShapeBuilder::new(input.env);
        let mut fields = Vec::new();
        for binding in &document.bindings {
            let shape = builder.shape(&binding.ty, &[], 0);
            fields.push((binding.name.clone(), shape));
        }
        let unions = builder.unions;
        let rendered: Vec<(String, String)> = fields
            .iter()
            .map(|(name, shape)| (name.clone(), gen.render(&unions, shape, None, &[])))
            .collect();
        doc_text.push('\n');
        let config = if document.has_body {
            "unknown".to_string()
        } else if rendered.is_empty() {
            "{}".to_string()
        } else {
            let mut text = String::from("{\n");
            for (name, ty) in &rendered {
                let _ = writeln!(text, "  {}: {ty};", property(name));
            }
            text.push('}');
            text
        };
        let _ = writeln!(doc_text, "declare const config: {config};");
        doc_text.push_str("export default config;\n");
        for (name, ty) in &rendered {
            if is_js_identifier(name) {
                let _ = writeln!(doc_text, "export declare const {name}: {ty};");
            }
        }
    }
    // The unions reached, each declared once, generically.
    let mut done = 0;
    while let Some(identity) = gen.queue.get(done).cloned() {
        done += 1;
        let Some(TypeDef::Union { arity, .. }) = input.env.type_by_con(&identity).map(|d| &**d)
        else {
            continue;
        };
        let name = gen.name_of(&identity);
        if requested.contains(name.as_str()) {
            continue;
        }
        let params: Vec<String> = (0..*arity as usize).map(|k| param_name(None, k)).collect();
        let mut builder = ShapeBuilder::new(input.env);
        builder.params = true;
        let args = (0..*arity).map(SType::Gen).collect();
        let shape = builder.shape(&SType::Con(identity.as_str().into(), args), &[], 0);
        let unions = builder.unions;
        gen.current = name.clone();
        let Shape::Union(idx) = shape else { continue };
        let Some(union) = unions.get(idx) else {
            continue;
        };
        let body = gen.union_body(&unions, union, None, &params);
        let generics = if params.is_empty() {
            String::new()
        } else {
            format!("<{}>", params.join(", "))
        };
        let _ = write!(out, "\nexport type {name}{generics} = {body};\n");
    }
    out.push_str(&doc_text);
    TypeScriptExport {
        text: out,
        unexpressed: gen.unexpressed,
    }
}

/// Appends `pieces` to `out`, in order.
fn push_all(out: &mut String, pieces: &[&str]) {
    for piece in pieces {
        out.push_str(piece);
    }
}

/// The document of a file, for [`to_typescript`].
#[derive(Clone, Debug, Default)]
pub struct Document {
    /// The bindings of the document record, in its order.
    pub bindings: Vec<DocumentBinding>,
    /// The file ends in an expression: the document is its value (typed `unknown`).
    pub has_body: bool,
}

fn refined_root(plan: Option<&Plan>) -> bool {
    matches!(plan, Some(Plan::Refined { .. }))
}

/// A TypeScript name for parameter `k` (declared `'a`: `A`).
fn param_name(declared: Option<&str>, k: usize) -> String {
    match declared {
        Some(name) if !name.is_empty() => {
            let mut chars = name.chars();
            let first = chars.next().map(|c| c.to_ascii_uppercase()).unwrap_or('T');
            format!("{first}{}", chars.as_str())
        }
        _ => {
            let letters = ["A", "B", "C", "D", "E", "F", "G", "H"];
            letters
                .get(k)
                .map_or_else(|| format!("T{k}"), |it| it.to_string())
        }
    }
}

/// A property name: Ligature field names are identifiers or keywords, which TypeScript
/// takes unquoted; anything else is quoted.
fn property(name: &str) -> String {
    let mut out = String::new();
    write_property(&mut out, name);
    out
}

/// Writes [`property`]`(name)` to `out`.
fn write_property(out: &mut String, name: &str) {
    let plain = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == '$')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$');
    if plain {
        out.push_str(name);
    } else {
        write_str(out, name);
    }
}

/// Whether `name` can be an exported `const` (not a reserved word of JavaScript or
/// TypeScript's strict mode).
pub fn is_js_identifier(name: &str) -> bool {
    const RESERVED: &[&str] = &[
        "arguments",
        "await",
        "break",
        "case",
        "catch",
        "class",
        "const",
        "continue",
        "debugger",
        "default",
        "delete",
        "do",
        "else",
        "enum",
        "eval",
        "export",
        "extends",
        "false",
        "finally",
        "for",
        "function",
        "if",
        "implements",
        "import",
        "in",
        "instanceof",
        "interface",
        "let",
        "new",
        "null",
        "package",
        "private",
        "protected",
        "public",
        "return",
        "static",
        "super",
        "switch",
        "this",
        "throw",
        "true",
        "try",
        "typeof",
        "var",
        "void",
        "while",
        "with",
        "yield",
    ];
    property(name) == name && !RESERVED.contains(&name)
}

/// How [`TsGen::members`] lays a record's members out.
#[derive(Clone, Copy)]
enum Members {
    /// An interface's body: a line each, indented.
    Lines,
    /// An object type written inline: `{ a: number; b: string; }`.
    Inline,
}

struct TsGen<'a> {
    refinements: Refinements<'a>,
    /// TypeScript names of unions, by identity.
    names: HashMap<String, String>,
    taken: HashSet<String>,
    /// Unions to declare, by identity, in the order first reached.
    queue: Vec<String>,
    queued: HashSet<String>,
    seen: HashSet<Unexpressed>,
    unexpressed: Vec<Unexpressed>,
    current: String,
    /// Where inside the current definition, after its `$`: `.port[]`.
    path: String,
}

impl TsGen<'_> {
    fn name_of(&mut self, identity: &str) -> String {
        if let Some(name) = self.names.get(identity) {
            return name.clone();
        }
        let base = crate::types::env::display_name(identity).to_string();
        let name = if self.taken.contains(&base) {
            (2..)
                .map(|k| format!("{base}_{k}"))
                .find(|it| !self.taken.contains(it))
                .unwrap_or(base)
        } else {
            base
        };
        self.taken.insert(name.clone());
        self.names.insert(identity.to_string(), name.clone());
        name
    }

    /// The JSDoc tags of the refinements at the root of `plan` (a chain of them).
    fn doc(&mut self, shape: &Shape, plan: Option<&Plan>) -> String {
        let (refined, _) = refinements(plan);
        if refined.is_empty() {
            // Most parts of a type are not refined: nothing to say, nothing to allocate.
            return String::new();
        }
        let mut analysis = Analysis::default();
        for items in refined.iter().rev() {
            self.refinements
                .analyse(items, base_of(shape), &mut analysis);
        }
        // The tags, separated by spaces.
        let mut doc = String::with_capacity(32);
        for (k, keyword) in analysis.keywords.iter().enumerate() {
            if k > 0 {
                doc.push(' ');
            }
            keyword.write_jsdoc(&mut doc);
        }
        let mut first = analysis.keywords.is_empty();
        let path = if analysis.unexpressed.is_empty() {
            String::new()
        } else {
            let mut p = String::with_capacity(self.path.len() + 1);
            p.push('$');
            p.push_str(&self.path);
            p
        };
        for text in analysis.unexpressed {
            if !first {
                doc.push(' ');
            }
            first = false;
            doc.push_str("@refinement ");
            doc.push_str(&text);
            let it = Unexpressed {
                type_name: self.current.clone(),
                path: path.clone(),
                refinement: text,
            };
            if self.seen.insert(it.clone()) {
                self.unexpressed.push(it);
            }
        }
        // A comment cannot hold `*/`.
        if doc.contains("*/") {
            doc = doc.replace("*/", "*\\/");
        }
        doc
    }

    fn render(
        &mut self,
        unions: &[UnionShape],
        shape: &Shape,
        plan: Option<&Plan>,
        params: &[String],
    ) -> String {
        let mut out = String::new();
        self.render_to(&mut out, unions, shape, plan, params);
        out
    }

    /// Writes [`TsGen::render`]'s text to `out`.
    fn render_to(
        &mut self,
        out: &mut String,
        unions: &[UnionShape],
        shape: &Shape,
        plan: Option<&Plan>,
        params: &[String],
    ) {
        let mut plan = plan;
        while let Some(Plan::Refined { base, .. }) = plan {
            plan = base.as_deref();
        }
        match shape {
            Shape::Int | Shape::Float => out.push_str("number"),
            Shape::Str => out.push_str("string"),
            Shape::Bool => out.push_str("boolean"),
            Shape::Unit => out.push_str("null"),
            Shape::List(elem) => {
                let elem_plan = match plan {
                    Some(Plan::List(inner)) => Some(&**inner),
                    _ => None,
                };
                let at = self.path.len();
                self.path.push_str("[]");
                out.push_str("Array<");
                self.render_to(out, unions, elem, elem_plan, params);
                out.push('>');
                self.path.truncate(at);
            }
            Shape::Record { fields, open, .. } => {
                if fields.is_empty() && !open {
                    out.push_str("Record<string, never>");
                    return;
                }
                out.push_str("{ ");
                let record = (unions, &fields[..], *open);
                self.members(out, record, plan, params, Members::Inline);
                out.push('}');
            }
            Shape::Union(idx) => {
                let Some(union) = unions.get(*idx) else {
                    out.push_str("unknown");
                    return;
                };
                let identity = union.identity.to_string();
                let name = self.name_of(&identity);
                if self.queued.insert(identity.clone()) {
                    self.queue.push(identity);
                }
                out.push_str(&name);
                if union.args.is_empty() {
                    return;
                }
                out.push('<');
                for (k, arg) in union.args.iter().enumerate() {
                    if k > 0 {
                        out.push_str(", ");
                    }
                    self.render_to(out, unions, arg, None, params);
                }
                out.push('>');
            }
            Shape::Param(k) => {
                out.push_str(params.get(*k as usize).map_or("unknown", String::as_str))
            }
            Shape::Any => out.push_str("unknown"),
            Shape::Function => out.push_str("never"),
        }
    }

    /// The members of a record type `(unions, fields, open)` under `plan`: each field's
    /// JSDoc and its type, then the index signature of an open record.
    fn members(
        &mut self,
        out: &mut String,
        (unions, fields, open): (&[UnionShape], &[(ast::Name, Shape)], bool),
        plan: Option<&Plan>,
        params: &[String],
        layout: Members,
    ) {
        let (indent, end) = match layout {
            Members::Lines => ("  ", '\n'),
            Members::Inline => ("", ' '),
        };
        for (name, field) in fields {
            let field_plan = field_plan(plan, name);
            let at = self.path.len();
            self.path.push('.');
            self.path.push_str(name);
            let doc = self.doc(field, field_plan);
            if !doc.is_empty() {
                out.push_str(indent);
                out.push_str("/** ");
                out.push_str(&doc);
                out.push_str(" */");
                out.push(end);
            }
            out.push_str(indent);
            write_property(out, name);
            out.push_str(": ");
            self.render_to(out, unions, field, field_plan, params);
            self.path.truncate(at);
            out.push(';');
            out.push(end);
        }
        if open {
            let _ = write!(out, "{indent}[field: string]: unknown;{end}");
        }
    }

    /// `"None" | { Some: A }`.
    fn union_body(
        &mut self,
        unions: &[UnionShape],
        union: &UnionShape,
        plan: Option<&Plan>,
        params: &[String],
    ) -> String {
        let plan = match plan {
            Some(Plan::Knot(knot)) => knot.plan.get(),
            other => other,
        };
        let mut out = String::new();
        for (k, (ctor, payload)) in union.ctors.iter().enumerate() {
            if k > 0 {
                out.push_str(" | ");
            }
            match payload {
                None => write_str(&mut out, ctor),
                Some(payload) => {
                    let ctor_plan = match plan {
                        Some(Plan::Union(ctors)) => ctors
                            .iter()
                            .find(|(n, _)| n == ctor)
                            .and_then(|(_, p)| p.as_ref()),
                        _ => None,
                    };
                    let at = self.path.len();
                    self.path.push('.');
                    self.path.push_str(ctor);
                    let doc = self.doc(payload, ctor_plan);
                    out.push_str("{ ");
                    if !doc.is_empty() {
                        out.push_str("/** ");
                        out.push_str(&doc);
                        out.push_str(" */ ");
                    }
                    write_property(&mut out, ctor);
                    out.push_str(": ");
                    self.render_to(&mut out, unions, payload, ctor_plan, params);
                    self.path.truncate(at);
                    out.push_str(" }");
                }
            }
        }
        if union.ctors.is_empty() {
            return "never".into();
        }
        out
    }
}

#[cfg(test)]
mod tests;

/// The items of the chain of refinements at the root of `plan` (an alias of a refined alias
/// ...), outermost first, and the plan under them.
fn refinements(plan: Option<&Plan>) -> (Vec<&[CheckItem]>, Option<&Plan>) {
    let mut refined: Vec<&[CheckItem]> = Vec::new();
    let mut plan = plan;
    while let Some(Plan::Refined { base, items, .. }) = plan {
        refined.push(items);
        plan = base.as_deref();
    }
    (refined, plan)
}
