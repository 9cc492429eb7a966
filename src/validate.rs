//! Validating external data against a Ligature type (LANGUAGE.md 11.8).
//!
//! A [`Schema`] is compiled once per (schema file, type name) and reused for any number of
//! documents: the schema's module graph is checked, lowered and evaluated once (refinement
//! predicates may use its bindings and imports); the named type becomes a [`Shape`] (the
//! inverse of the data model of section 11.3, with refinements erased) and a validation
//! [`Plan`] (the refinements). Checking one document is then: parse JSON or YAML, convert it
//! along the shape into a [`Value`] collecting every C5004 mismatch with its JSON path, and,
//! when the shape fits, run the plan on the value, collecting a C5005 (or C5003) per failing
//! refined part. Nothing is re-checked or re-lowered per document.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::Arc;

use crate::diagnostic::Code;
use crate::eval::link::Evaluations;
use crate::eval::lower::Plan;
use crate::eval::{EvalError, EvalErrorKind, Limits, Machine, Value};
use crate::interrupt::{Interrupt, Poll};
use crate::source::{FileId, Span};
use crate::syntax::ast::Name;
use crate::types::env::{Env, TypeDef};
use crate::types::ty::SType;

mod deep_yaml;

/// One violation: where in the document, which code, and what.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Violation {
    /// A JSON path: `$`, `$.services[3].port`.
    pub path: String,
    pub code: String,
    pub message: String,
}

impl Violation {
    fn new(path: &str, code: Code, message: impl Into<String>) -> Violation {
        Violation {
            path: path.to_string(),
            code: code.as_str().to_string(),
            message: message.into(),
        }
    }
}

/// The shape of data a type accepts (refinements erased).
#[derive(Clone, Debug)]
pub enum Shape {
    Int,
    Float,
    Str,
    Bool,
    Unit,
    List(Box<Shape>),
    /// Fields in the type's order; `open` accepts further fields (a row variable).
    /// `names` are the fields' names, shared by every record value converted.
    Record {
        fields: Vec<(Name, Shape)>,
        names: Arc<[Name]>,
        open: bool,
    },
    /// An index into [`Schema::unions`] (unions may be recursive).
    Union(usize),
    /// A type variable: any data, converted by its own form.
    Any,
    /// A function type: no data has it.
    Function,
    /// The `k`-th parameter of the type being described: only from a [`ShapeBuilder`] with
    /// `params` set (the exporters' generic declarations); validation never builds it.
    Param(u32),
}

/// A union instantiated at its arguments: constructors in declaration order.
#[derive(Clone, Debug)]
pub struct UnionShape {
    pub name: String,
    /// The union's identity (its name plus declaring file, see `types::env::union_identity`).
    pub identity: Name,
    /// The shapes of the arguments it is instantiated at.
    pub args: Vec<Shape>,
    pub ctors: Vec<(Name, Option<Shape>)>,
}

/// A compiled schema: check many documents against one type.
#[derive(Debug)]
pub struct Schema {
    pub type_name: String,
    pub shape: Shape,
    pub unions: Vec<UnionShape>,
    pub plan: Option<Arc<Plan>>,
    pub file: FileId,
    pub evaluations: Evaluations,
    pub limits: Limits,
}

/// Builds the shape of `ty` (over the entry module's final environment).
pub struct ShapeBuilder<'a> {
    pub env: &'a Env,
    pub unions: Vec<UnionShape>,
    /// A parameter of the described type (`Gen` with no argument) becomes
    /// [`Shape::Param`] instead of [`Shape::Any`] (what the exporters' generic
    /// declarations need; validation describes closed types only).
    pub params: bool,
    memo: HashMap<String, usize>,
}

impl<'a> ShapeBuilder<'a> {
    pub fn new(env: &'a Env) -> ShapeBuilder<'a> {
        ShapeBuilder {
            env,
            unions: Vec::new(),
            params: false,
            memo: HashMap::new(),
        }
    }

    pub fn shape(&mut self, ty: &SType, args: &[SType], depth: u32) -> Shape {
        if depth > 200 {
            return Shape::Any;
        }
        match ty {
            SType::Gen(k) => match args.get(*k as usize) {
                Some(arg) => self.shape(arg, &[], depth + 1),
                None if self.params => Shape::Param(*k),
                None => Shape::Any,
            },
            SType::Free(_) | SType::Rigid(_) | SType::Error => Shape::Any,
            SType::Fun(..) => Shape::Function,
            SType::Record(fields, tail) => Shape::Record {
                fields: fields
                    .iter()
                    .map(|(name, t)| (name.clone(), self.shape(t, args, depth + 1)))
                    .collect(),
                names: fields.iter().map(|(name, _)| name.clone()).collect(),
                open: tail.is_some(),
            },
            SType::Con(name, targs) => {
                let targs: Vec<SType> = targs.iter().map(|t| subst(t, args)).collect();
                match name.as_str() {
                    "Integer" => return Shape::Int,
                    "Float" => return Shape::Float,
                    "String" => return Shape::Str,
                    "Bool" => return Shape::Bool,
                    "Unit" => return Shape::Unit,
                    "List" => {
                        return Shape::List(Box::new(match targs.first() {
                            Some(t) => self.shape(t, &[], depth + 1),
                            None => Shape::Any,
                        }))
                    }
                    _ => {}
                }
                match self.env.type_by_con(name).map(|it| &**it) {
                    Some(TypeDef::Union {
                        ctors, identity, ..
                    }) => {
                        // Constructors are found by the union's identity, whatever name
                        // reached it (the top-level type's declared name once lost every
                        // payload here).
                        let name = identity;
                        // `format!("{name}{targs:?}")`, without the formatting machinery
                        // for the common union without arguments.
                        let key = if targs.is_empty() {
                            let mut key = String::with_capacity(name.len() + 2);
                            key.push_str(name);
                            key.push_str("[]");
                            key
                        } else {
                            format!("{name}{targs:?}")
                        };
                        if let Some(idx) = self.memo.get(&key) {
                            return Shape::Union(*idx);
                        }
                        let idx = self.unions.len();
                        self.memo.insert(key, idx);
                        self.unions.push(UnionShape {
                            name: crate::types::env::display_name(name).to_string(),
                            identity: name.clone(),
                            args: Vec::new(),
                            ctors: Vec::new(),
                        });
                        let arg_shapes: Vec<Shape> = targs
                            .iter()
                            .map(|t| self.shape(t, &[], depth + 1))
                            .collect();
                        let mut out = Vec::new();
                        for ctor in ctors {
                            let payload = self
                                .env
                                .ctor_of(name, ctor)
                                .and_then(|info| info.payload.clone());
                            let shape = payload.map(|p| self.shape(&p, &targs, depth + 1));
                            out.push((ctor.clone(), shape));
                        }
                        if let Some(slot) = self.unions.get_mut(idx) {
                            slot.ctors = out;
                            slot.args = arg_shapes;
                        }
                        Shape::Union(idx)
                    }
                    Some(TypeDef::Alias { body, .. }) => self.shape(body, &targs, depth + 1),
                    _ => Shape::Any,
                }
            }
        }
    }
}

fn subst(ty: &SType, args: &[SType]) -> SType {
    if args.is_empty() {
        return ty.clone();
    }
    match ty {
        SType::Gen(k) => args.get(*k as usize).cloned().unwrap_or(SType::Error),
        SType::Con(name, targs) => {
            SType::Con(name.clone(), targs.iter().map(|t| subst(t, args)).collect())
        }
        SType::Fun(a, r) => SType::Fun(Box::new(subst(a, args)), Box::new(subst(r, args))),
        SType::Record(fields, tail) => SType::Record(
            fields
                .iter()
                .map(|(n, t)| (n.clone(), subst(t, args)))
                .collect(),
            tail.as_ref().map(|t| Box::new(subst(t, args))),
        ),
        other => other.clone(),
    }
}

/// The format of a data document.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DataFormat {
    Json,
    Yaml,
}

/// A parsed document in JSON's data model, read straight from JSON or YAML text (or a JS
/// value) by its own `Deserialize`: objects are their members in order, in a `Vec`.
/// serde_json's `Value` keeps objects in an `IndexMap` hashed with SipHash, which was a
/// tenth of validating a document. The values are those serde_json's `Value` would hold:
/// a later duplicate key replaces the earlier value in its place, and a number that is not
/// finite (YAML's `.nan`, `.inf`) is null.
#[derive(Clone, Debug, PartialEq)]
pub enum Data {
    Null,
    Bool(bool),
    Int(i64),
    /// An integer above `i64::MAX`.
    UInt(u64),
    /// A number with a fraction or an exponent; always finite.
    Float(f64),
    Str(String),
    Array(Vec<Data>),
    Object(Members),
}

/// An object's members in order; large objects also have an index by key (hashed with
/// SipHash: the keys come from untrusted documents).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Members {
    items: Vec<(String, Data)>,
    index: Option<HashMap<String, usize>>,
}

/// Members up to which an object is searched by a scan, without an index.
const SCAN_MEMBERS: usize = 16;

impl Members {
    pub fn get(&self, key: &str) -> Option<&Data> {
        let at = match &self.index {
            Some(index) => *index.get(key)?,
            None => self.items.iter().position(|(k, _)| k == key)?,
        };
        self.items.get(at).map(|(_, v)| v)
    }

    /// Adds a member; a key already there gets the new value in its place.
    fn insert(&mut self, key: String, value: Data) {
        let known = match &self.index {
            Some(index) => index.get(&key).copied(),
            None => self.items.iter().position(|(k, _)| *k == key),
        };
        if let Some(slot) = known.and_then(|at| self.items.get_mut(at)) {
            slot.1 = value;
            return;
        }
        if let Some(index) = &mut self.index {
            index.insert(key.clone(), self.items.len());
        }
        self.items.push((key, value));
        if self.index.is_none() && self.items.len() > SCAN_MEMBERS {
            let index = self
                .items
                .iter()
                .enumerate()
                .map(|(at, (k, _))| (k.clone(), at));
            self.index = Some(index.collect());
        }
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = (&String, &Data)> {
        self.items.iter().map(|(k, v)| (k, v))
    }
}

impl<'de> serde::Deserialize<'de> for Data {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Data, D::Error> {
        deserializer.deserialize_any(DataVisitor)
    }
}

struct DataVisitor;

impl<'de> serde::de::Visitor<'de> for DataVisitor {
    type Value = Data;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("any valid JSON value")
    }

    fn visit_bool<E>(self, b: bool) -> Result<Data, E> {
        Ok(Data::Bool(b))
    }

    fn visit_i64<E>(self, n: i64) -> Result<Data, E> {
        Ok(Data::Int(n))
    }

    fn visit_u64<E>(self, n: u64) -> Result<Data, E> {
        Ok(i64::try_from(n).map_or(Data::UInt(n), Data::Int))
    }

    fn visit_f64<E>(self, x: f64) -> Result<Data, E> {
        Ok(if x.is_finite() {
            Data::Float(x)
        } else {
            Data::Null
        })
    }

    fn visit_str<E>(self, s: &str) -> Result<Data, E> {
        Ok(Data::Str(s.to_string()))
    }

    fn visit_string<E>(self, s: String) -> Result<Data, E> {
        Ok(Data::Str(s))
    }

    fn visit_none<E>(self) -> Result<Data, E> {
        Ok(Data::Null)
    }

    fn visit_unit<E>(self) -> Result<Data, E> {
        Ok(Data::Null)
    }

    fn visit_some<D: serde::Deserializer<'de>>(self, inner: D) -> Result<Data, D::Error> {
        serde::Deserialize::deserialize(inner)
    }

    fn visit_newtype_struct<D: serde::Deserializer<'de>>(self, inner: D) -> Result<Data, D::Error> {
        serde::Deserialize::deserialize(inner)
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Data, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Data::Array(items))
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Data, A::Error> {
        let mut members = Members::default();
        while let Some((key, value)) = map.next_entry::<String, Data>()? {
            members.insert(key, value);
        }
        Ok(Data::Object(members))
    }
}

impl Data {
    /// The document as a serde_json value.
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value as J;
        match self {
            Data::Null => J::Null,
            Data::Bool(b) => J::Bool(*b),
            Data::Int(i) => J::from(*i),
            Data::UInt(n) => J::from(*n),
            Data::Float(x) => J::from(*x),
            Data::Str(s) => J::from(s.as_str()),
            Data::Array(items) => J::Array(items.iter().map(Data::to_json).collect()),
            Data::Object(members) => J::Object(
                members
                    .iter()
                    .map(|(k, v)| (k.clone(), v.to_json()))
                    .collect(),
            ),
        }
    }
}

/// Parses a JSON or YAML document into [`Data`] (for hosts that hold documents as values);
/// a malformed one is a violation at `$` with its line and column. Checking text does not
/// go through this: [`Schema::check_text`] checks while it parses.
pub fn parse_data(text: &str, format: DataFormat) -> Result<Data, Violation> {
    let text = strip_bom(text);
    match format {
        // `Data`'s reader recurses without a bound of its own: serde_json's 128 levels stay.
        DataFormat::Json => serde_json::from_str(text).map_err(|err| json_error(&err)),
        DataFormat::Yaml => serde_yaml::from_str(text).map_err(|err| yaml_error(&err)),
    }
}

/// A UTF-8 byte order mark at the start of a document is not part of it.
fn strip_bom(text: &str) -> &str {
    text.strip_prefix('\u{feff}').unwrap_or(text)
}

fn json_error(err: &serde_json::Error) -> Violation {
    let what = err.to_string();
    let what = what.split(" at line ").next().unwrap_or(&what).to_string();
    Violation::new(
        "$",
        Code::C5004,
        format!(
            "malformed JSON at line {}, column {}: {what}",
            err.line(),
            err.column()
        ),
    )
}

/// serde_yaml's locations are 1-based; some errors (an empty stream, several documents)
/// have none, and then none is printed (never a made-up "line 0, column 0").
fn yaml_error(err: &serde_yaml::Error) -> Violation {
    let what = err.to_string();
    let what = what.split(" at line ").next().unwrap_or(&what).to_string();
    if what.starts_with("recursion limit exceeded") {
        // serde_yaml's own bound, which it does not let a caller lift: only `parse_data`
        // meets it (checking text reads deeper documents again, `deep_yaml`).
        return Violation::new(
            "$",
            Code::C5004,
            format!(
                "the YAML document is nested deeper than {YAML_MAX_DEPTH} levels, the most the YAML reader follows (JSON documents may nest {MAX_DATA_DEPTH})"
            ),
        );
    }
    let message = match err.location() {
        Some(at) if at.line() > 0 && at.column() > 0 => format!(
            "malformed YAML at line {}, column {}: {what}",
            at.line(),
            at.column()
        ),
        _ => format!("malformed YAML: {what}"),
    };
    Violation::new("$", Code::C5004, message)
}

fn is_recursion_limit(err: &serde_yaml::Error) -> bool {
    err.to_string().starts_with("recursion limit exceeded")
}

/// An error of the deep YAML reader, in [`yaml_error`]'s words.
fn deep_yaml_error(err: &deep_yaml::Error) -> Violation {
    let message = match err.at {
        Some((line, column)) if line > 0 && column > 0 => format!(
            "malformed YAML at line {line}, column {column}: {}",
            err.what
        ),
        _ => format!("malformed YAML: {}", err.what),
    };
    Violation::new("$", Code::C5004, message)
}

/// Levels of nesting a document may have (arrays and objects). Documents that `eval`
/// writes for values nested 10,000 deep (section 12.4) have up to two levels per value
/// level (a constructor's object around its payload), so this leaves room; beyond it the
/// document is C5004, never a crash.
#[cfg(not(target_arch = "wasm32"))]
pub const MAX_DATA_DEPTH: u32 = 100_000;

/// In WebAssembly the native stack is the host's (about 1 MB, docs/spec-notes.md 24) and
/// cannot be grown: the bound stays near serde_json's former 128.
#[cfg(target_arch = "wasm32")]
pub const MAX_DATA_DEPTH: u32 = 256;

/// Levels of nesting serde_yaml follows (fixed in serde_yaml 0.9): [`parse_data`]'s bound
/// for YAML. [`Schema::check_text`] reads deeper YAML documents with `deep_yaml`.
pub const YAML_MAX_DEPTH: u32 = 128;

/// A JSON path kept as steps, written out only for a violation: a document that conforms
/// never pays for its paths.
#[derive(Default)]
struct JsonPath {
    steps: Vec<Step>,
}

enum Step {
    Field(Name),
    Index(usize),
}

impl JsonPath {
    /// The path as text: `$`, `$.services[3].port`, `$["a key"]`.
    fn render(&self) -> String {
        let mut out = String::from("$");
        for step in &self.steps {
            match step {
                Step::Field(name) => push_field(&mut out, name),
                Step::Index(k) => {
                    let _ = write!(out, "[{k}]");
                }
            }
        }
        out
    }
}

fn push_field(path: &mut String, name: &str) {
    // Most names are ASCII: decided on bytes without decoding characters.
    let ascii = |b: &u8| b.is_ascii_alphanumeric() || *b == b'_';
    let plain = if name.is_ascii() {
        name.as_bytes()
            .first()
            .is_some_and(|b| b.is_ascii_alphabetic() || *b == b'_')
            && name.as_bytes().iter().all(ascii)
    } else {
        name.chars()
            .next()
            .is_some_and(|c| c.is_alphabetic() || c == '_')
            && name.chars().all(|c| c.is_alphanumeric() || c == '_')
    };
    if plain {
        path.push('.');
        path.push_str(name);
    } else {
        path.push_str(&format!("[{}]", serde_json::Value::from(name)));
    }
}

/// What a part of the document needs besides its shape.
#[derive(Clone, Copy)]
enum Need<'p> {
    /// Only the shape: nothing is built.
    Shape,
    /// The shape, and the refinements of this plan on the parts that have them: each
    /// refined part is built as a [`Value`], checked and dropped.
    Check(&'p Plan),
    /// The whole value (a refinement above checks it).
    Build,
}

impl<'p> Need<'p> {
    /// The need of a record's field, a list's element or a constructor's payload.
    fn field(self, name: &str) -> Need<'p> {
        match self {
            Need::Check(Plan::Record(fields)) => fields
                .iter()
                .find(|(n, _)| n == name)
                .map_or(Need::Shape, |(_, p)| Need::Check(p)),
            Need::Check(_) | Need::Shape => Need::Shape,
            Need::Build => Need::Build,
        }
    }

    fn element(self) -> Need<'p> {
        match self {
            Need::Check(Plan::List(inner)) => Need::Check(inner),
            Need::Check(_) | Need::Shape => Need::Shape,
            Need::Build => Need::Build,
        }
    }

    /// A recursive union's plan in place of its knot or of an occurrence of it (`knots`:
    /// every knot of the schema's plan, by address, with its plan).
    fn resolve(self, knots: &[(usize, &'p Plan)]) -> Need<'p> {
        let at = match self {
            Need::Check(Plan::Knot(knot)) => Arc::as_ptr(knot) as usize,
            Need::Check(Plan::Back(knot)) => knot.as_ptr() as usize,
            _ => return self,
        };
        knots
            .iter()
            .find(|(it, _)| *it == at)
            .map_or(Need::Shape, |(_, plan)| Need::Check(plan))
    }

    fn payload(self, ctor: &str) -> Need<'p> {
        match self {
            Need::Check(Plan::Union(ctors)) => ctors
                .iter()
                .find(|(n, _)| n == ctor)
                .and_then(|(_, p)| p.as_ref())
                .map_or(Need::Shape, Need::Check),
            Need::Check(_) | Need::Shape => Need::Shape,
            Need::Build => Need::Build,
        }
    }
}

/// The state of checking one document while it is parsed.
struct Walk<'g> {
    schema: &'g Schema,
    path: JsonPath,
    depth: u32,
    /// C5004: shape mismatches.
    errors: Vec<Violation>,
    /// C5005 / C5003: failing refinements (reported only when the shape fits everywhere).
    refinements: Vec<Violation>,
    machine: Option<Machine<'g>>,
    /// The document was nested beyond [`MAX_DATA_DEPTH`] (reported once).
    too_deep: bool,
    /// The knots of the schema's plan (see [`knots_of`]).
    knots: Vec<(usize, &'g Plan)>,
    /// Negative zeros seen (as floats: serde_json reads `-0` as `-0.0`), in document order.
    negative_zeros: usize,
    /// The ones that an Integer took, with their paths, to be told apart from `-0.0` by
    /// their text (section 11.8: a number with a fraction is no Integer).
    zero_integers: Vec<(usize, String)>,
    /// Polled at every value read (LANGUAGE.md 12.3).
    poll: Poll<'g>,
    /// The interrupt stopped the walk (or a refinement): the answer is R3008 alone.
    stopped: bool,
}

impl Walk<'_> {
    /// Whether the walk must stop here: then the parser is told to give up (an error of
    /// its own type, which [`Schema::check_with`] replaces with R3008).
    fn stop<E: serde::de::Error>(&mut self) -> Result<(), E> {
        if self.stopped || self.poll.stop() {
            self.stopped = true;
            return Err(E::custom("stopped"));
        }
        Ok(())
    }
}

/// A scalar the document holds.
#[derive(Clone, Copy)]
enum Scalar<'a> {
    Null,
    Bool(bool),
    Int(i64),
    /// Beyond `i64` (an integer for YAML's 128-bit readers, or above `i64::MAX`).
    Big(i128),
    Float(f64),
    Str(&'a str),
}

fn describe_scalar(scalar: Scalar<'_>) -> String {
    match scalar {
        Scalar::Null => "null".into(),
        Scalar::Bool(_) => "a boolean".into(),
        Scalar::Float(x) if x.is_nan() => {
            ".nan, which is not a finite Float (Ligature has no NaN or infinity)".into()
        }
        Scalar::Float(x) if x.is_infinite() => format!(
            "{}, which is not a finite Float (Ligature has no NaN or infinity)",
            if x > 0.0 { ".inf" } else { "-.inf" }
        ),
        Scalar::Int(_) | Scalar::Big(_) | Scalar::Float(_) => "a number".into(),
        Scalar::Str(_) => "a string".into(),
    }
}

impl<'g> Walk<'g> {
    fn mismatch(&mut self, expected: &str, found: &str) -> Option<Value> {
        self.errors.push(Violation::new(
            &self.path.render(),
            Code::C5004,
            format!("expected {expected}, found {found}"),
        ));
        None
    }

    fn expected_union(&self, idx: usize) -> String {
        let Some(union) = self.schema.unions.get(idx) else {
            return "a constructor".into();
        };
        let names: Vec<String> = union
            .ctors
            .iter()
            .map(|(name, payload)| match payload {
                Some(_) => format!("{{\"{name}\": ...}}"),
                None => format!("\"{name}\""),
            })
            .collect();
        format!("`{}` (one of {})", union.name, names.join(", "))
    }

    /// A scalar against `shape`; the value when `need` builds one.
    fn scalar(&mut self, shape: &Shape, need: Need<'_>, scalar: Scalar<'_>) -> Option<Value> {
        if let Scalar::Float(x) = scalar {
            if x == 0.0 && x.is_sign_negative() {
                self.negative_zeros += 1;
                if matches!(shape, Shape::Int) {
                    // Taken as the integer 0 for now; `-0.0` is rejected once the text
                    // has told them apart.
                    self.zero_integers
                        .push((self.negative_zeros - 1, self.path.render()));
                    return Some(Value::Int(0));
                }
            }
            if !x.is_finite() && matches!(shape, Shape::Float | Shape::Int | Shape::Any) {
                let expected = if matches!(shape, Shape::Int) {
                    "an Integer"
                } else {
                    "a Float"
                };
                return self.mismatch(expected, &describe_scalar(scalar));
            }
        }
        let value = match (shape, scalar) {
            (Shape::Int, Scalar::Int(i)) => Value::Int(i),
            (Shape::Int, Scalar::Big(n)) => {
                self.errors.push(Violation::new(
                    &self.path.render(),
                    Code::C5004,
                    format!("the number {n} does not fit an Integer"),
                ));
                return None;
            }
            (Shape::Int, Scalar::Float(_)) => {
                return self.mismatch(
                    "an Integer (a number without fraction or exponent)",
                    "a number",
                )
            }
            (Shape::Float, Scalar::Int(i)) => Value::Float(i as f64),
            (Shape::Float, Scalar::Big(n)) => Value::Float(n as f64),
            (Shape::Float, Scalar::Float(x)) => Value::Float(x),
            (Shape::Str, Scalar::Str(s)) => {
                if matches!(need, Need::Shape) {
                    return None;
                }
                Value::str(s)
            }
            (Shape::Bool, Scalar::Bool(b)) => Value::Bool(b),
            (Shape::Unit, Scalar::Null) => Value::Unit,
            (Shape::Union(idx), Scalar::Str(s)) => {
                let found = self
                    .schema
                    .unions
                    .get(*idx)
                    .and_then(|u| u.ctors.iter().find(|(name, _)| name == s));
                match found {
                    Some((name, None)) => Value::ctor(name, None),
                    Some((name, Some(_))) => {
                        let expected = self.expected_union(*idx);
                        return self.mismatch(
                            &expected,
                            &format!("the string \"{name}\" (`{name}` takes a payload)"),
                        );
                    }
                    None => {
                        let expected = self.expected_union(*idx);
                        return self.mismatch(&expected, "a string that names no constructor");
                    }
                }
            }
            (Shape::Any, Scalar::Null) => Value::Unit,
            (Shape::Any, Scalar::Bool(b)) => Value::Bool(b),
            (Shape::Any, Scalar::Int(i)) => Value::Int(i),
            (Shape::Any, Scalar::Big(n)) => Value::Float(n as f64),
            (Shape::Any, Scalar::Float(x)) => Value::Float(x),
            (Shape::Any, Scalar::Str(s)) => Value::str(s),
            (shape, scalar) => {
                let expected = self.expected(shape);
                return self.mismatch(&expected, &describe_scalar(scalar));
            }
        };
        Some(value)
    }

    fn expected(&self, shape: &Shape) -> String {
        match shape {
            Shape::Int => "an Integer".into(),
            Shape::Float => "a Float".into(),
            Shape::Str => "a String".into(),
            Shape::Bool => "a Bool".into(),
            Shape::Unit => "null (Unit)".into(),
            Shape::List(_) => "an array (List)".into(),
            Shape::Record { .. } => "an object (record)".into(),
            Shape::Union(idx) => self.expected_union(*idx),
            Shape::Any | Shape::Param(_) => "any value".into(),
            Shape::Function => "a function (no data has this type)".into(),
        }
    }

    /// Runs the refinements of `plan` on the value built for the part here.
    fn refine(&mut self, plan: &Plan, value: &Value) {
        let Some(machine) = self.machine.as_mut() else {
            return;
        };
        // The machine's paths start at `$`; the path of this part replaces it.
        if let Err(err) = machine.validate(plan, value, Span::default(), "$") {
            if matches!(*err.kind, EvalErrorKind::Cancelled) {
                self.stopped = true;
                return;
            }
            self.refinements
                .push(violation_of(&err, &self.path.render()));
        }
    }
}

/// One part of the document to check against `shape`: a `DeserializeSeed` (and visitor)
/// that checks while the parser reads, building a [`Value`] only where a refinement needs
/// one. Nesting is followed with the native stack grown as needed (`par::deep`), up to
/// [`MAX_DATA_DEPTH`].
struct Part<'w, 'g, 's> {
    walk: &'w mut Walk<'g>,
    shape: &'s Shape,
    need: Need<'s>,
}

/// The shape of parts a type variable takes: anything.
static ANY: Shape = Shape::Any;

/// Consumes a part already found wrong (or an open record's further field) without
/// checking it, only counting its depth and negative zeros.
struct Skip<'w, 'g> {
    walk: &'w mut Walk<'g>,
}

fn enter<E>(walk: &mut Walk<'_>) -> Result<(), E> {
    walk.depth += 1;
    Ok(())
}

/// At [`MAX_DATA_DEPTH`]: the part is reported (once) and skipped by the parser's own
/// skipping, which does not recurse (serde_json's and serde_yaml's), instead of failing the
/// parse: a failing parse makes serde_json compute a position at every level on the way
/// out, which on a deep document cost minutes.
fn too_deep(walk: &mut Walk<'_>) -> bool {
    if walk.depth < MAX_DATA_DEPTH {
        return false;
    }
    if !walk.too_deep {
        walk.too_deep = true;
        // Reported at `$`: the path down there is too long to print whole.
        let mut below = walk.path.render();
        if below.len() > 80 {
            let cut = (0..=80)
                .rev()
                .find(|at| below.is_char_boundary(*at))
                .unwrap_or(0);
            below.truncate(cut);
            below.push_str("...");
        }
        walk.errors.push(Violation::new(
            "$",
            Code::C5004,
            format!("the document is nested deeper than {MAX_DATA_DEPTH} levels (at {below})"),
        ));
    }
    true
}

impl<'de, 'w, 'g, 's> serde::de::DeserializeSeed<'de> for Part<'w, 'g, 's> {
    type Value = Option<Value>;

    fn deserialize<D: serde::Deserializer<'de>>(self, de: D) -> Result<Option<Value>, D::Error> {
        self.walk.stop()?;
        let depth = self.walk.depth;
        if too_deep(self.walk) {
            return de
                .deserialize_ignored_any(serde::de::IgnoredAny)
                .map(|_| None);
        }
        crate::par::deep(depth, move || {
            let need = self.need.resolve(&self.walk.knots);
            let shape = self.shape;
            match need {
                // A refined part: built, checked and dropped.
                Need::Check(plan @ Plan::Refined { .. }) => {
                    let walk = self.walk;
                    let before = walk.errors.len();
                    let value = de.deserialize_any(Part {
                        walk: &mut *walk,
                        shape,
                        need: Need::Build,
                    })?;
                    if let (Some(value), true) = (value, walk.errors.len() == before) {
                        walk.refine(plan, &value);
                    }
                    Ok(None)
                }
                _ => de.deserialize_any(Part { need, ..self }),
            }
        })
    }
}

impl<'de, 'w, 'g> serde::de::DeserializeSeed<'de> for Skip<'w, 'g> {
    type Value = ();

    fn deserialize<D: serde::Deserializer<'de>>(self, de: D) -> Result<(), D::Error> {
        self.walk.stop()?;
        let depth = self.walk.depth;
        if too_deep(self.walk) {
            return de.deserialize_ignored_any(serde::de::IgnoredAny).map(drop);
        }
        crate::par::deep(depth, move || de.deserialize_any(self))
    }
}

impl<'de, 'w, 'g> serde::de::Visitor<'de> for Skip<'w, 'g> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("any value")
    }

    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }

    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }

    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }

    fn visit_i128<E>(self, _: i128) -> Result<(), E> {
        Ok(())
    }

    fn visit_u128<E>(self, _: u128) -> Result<(), E> {
        Ok(())
    }

    fn visit_f64<E>(self, x: f64) -> Result<(), E> {
        if x == 0.0 && x.is_sign_negative() {
            self.walk.negative_zeros += 1;
        }
        Ok(())
    }

    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }

    fn visit_none<E>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_some<D: serde::Deserializer<'de>>(self, inner: D) -> Result<(), D::Error> {
        serde::de::DeserializeSeed::deserialize(self, inner)
    }

    fn visit_newtype_struct<D: serde::Deserializer<'de>>(self, inner: D) -> Result<(), D::Error> {
        serde::de::DeserializeSeed::deserialize(self, inner)
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        enter(self.walk)?;
        while seq
            .next_element_seed(Skip {
                walk: &mut *self.walk,
            })?
            .is_some()
        {}
        self.walk.depth -= 1;
        Ok(())
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        enter(self.walk)?;
        while map.next_key::<serde::de::IgnoredAny>()?.is_some() {
            map.next_value_seed(Skip {
                walk: &mut *self.walk,
            })?;
        }
        self.walk.depth -= 1;
        Ok(())
    }
}

/// A record's key, read without allocating when it names a field.
enum Key {
    Field(usize),
    Other(String),
}

struct KeySeed<'s> {
    fields: &'s [(Name, Shape)],
}

impl<'de, 's> serde::de::DeserializeSeed<'de> for KeySeed<'s> {
    type Value = Key;

    fn deserialize<D: serde::Deserializer<'de>>(self, de: D) -> Result<Key, D::Error> {
        de.deserialize_str(self)
    }
}

impl<'de, 's> serde::de::Visitor<'de> for KeySeed<'s> {
    type Value = Key;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a key")
    }

    fn visit_str<E>(self, key: &str) -> Result<Key, E> {
        Ok(match self.fields.iter().position(|(name, _)| name == key) {
            Some(at) => Key::Field(at),
            None => Key::Other(key.to_string()),
        })
    }

    // YAML keys that are not strings are read by their text, as serde_json's `Value` did.
    fn visit_bool<E: serde::de::Error>(self, b: bool) -> Result<Key, E> {
        self.visit_str(if b { "true" } else { "false" })
    }

    fn visit_i64<E: serde::de::Error>(self, n: i64) -> Result<Key, E> {
        self.visit_str(&n.to_string())
    }

    fn visit_u64<E: serde::de::Error>(self, n: u64) -> Result<Key, E> {
        self.visit_str(&n.to_string())
    }

    fn visit_f64<E: serde::de::Error>(self, x: f64) -> Result<Key, E> {
        self.visit_str(&x.to_string())
    }

    fn visit_unit<E: serde::de::Error>(self) -> Result<Key, E> {
        self.visit_str("null")
    }
}

/// A key of an object that is not a record (a constructor, or data for a type variable).
fn any_key<'de, A: serde::de::MapAccess<'de>>(map: &mut A) -> Result<Option<String>, A::Error> {
    Ok(map
        .next_key_seed(KeySeed { fields: &[] })?
        .map(|key| match key {
            Key::Other(key) => key,
            Key::Field(_) => String::new(),
        }))
}

impl<'g> Walk<'g> {
    fn duplicate(&mut self, key: &str) {
        let walk = self;
        walk.path.steps.push(Step::Field(Name::new(key)));
        walk.errors.push(Violation::new(
            &walk.path.render(),
            Code::C5004,
            format!("duplicate key `{key}`"),
        ));
        walk.path.steps.pop();
    }

    fn record<'de, 's, A: serde::de::MapAccess<'de>>(
        &mut self,
        need: Need<'s>,
        mut map: A,
        fields: &'s [(Name, Shape)],
        names: &Arc<[Name]>,
        open: bool,
    ) -> Result<Option<Value>, A::Error> {
        let walk = self;
        let build = matches!(need, Need::Build);
        let before = walk.errors.len();
        let mut seen = vec![false; fields.len()];
        let mut values: Vec<Option<Value>> = if build {
            vec![None; fields.len()]
        } else {
            Vec::new()
        };
        let mut others: Vec<String> = Vec::new();
        while let Some(key) = map.next_key_seed(KeySeed { fields })? {
            match key {
                Key::Field(at) => {
                    let Some((name, shape)) = fields.get(at) else {
                        map.next_value_seed(Skip { walk: &mut *walk })?;
                        continue;
                    };
                    if std::mem::replace(&mut seen[at], true) {
                        walk.duplicate(name);
                        map.next_value_seed(Skip { walk: &mut *walk })?;
                        continue;
                    }
                    walk.path.steps.push(Step::Field(name.clone()));
                    let value = map.next_value_seed(Part {
                        walk: &mut *walk,
                        shape,
                        need: need.field(name),
                    })?;
                    walk.path.steps.pop();
                    if let Some(slot) = values.get_mut(at) {
                        *slot = value;
                    }
                }
                Key::Other(key) => {
                    if others.contains(&key) {
                        walk.duplicate(&key);
                    } else if !open {
                        walk.path.steps.push(Step::Field(Name::new(&key)));
                        walk.errors.push(Violation::new(
                            &walk.path.render(),
                            Code::C5004,
                            format!("unexpected field `{key}`"),
                        ));
                        walk.path.steps.pop();
                    }
                    others.push(key);
                    map.next_value_seed(Skip { walk: &mut *walk })?;
                }
            }
        }
        for ((name, _), seen) in fields.iter().zip(&seen) {
            if !seen {
                walk.path.steps.push(Step::Field(name.clone()));
                walk.errors.push(Violation::new(
                    &walk.path.render(),
                    Code::C5004,
                    format!("missing field `{name}`"),
                ));
                walk.path.steps.pop();
            }
        }
        if !build || walk.errors.len() != before {
            return Ok(None);
        }
        let values: Option<Vec<Value>> = values.into_iter().collect();
        Ok(values.map(|values| {
            Value::Record(Arc::new(crate::eval::value::Record {
                names: names.clone(),
                values,
            }))
        }))
    }

    fn union<'de, A: serde::de::MapAccess<'de>>(
        &mut self,
        need: Need<'_>,
        mut map: A,
        idx: usize,
    ) -> Result<Option<Value>, A::Error> {
        let walk = self;
        let Some(key) = any_key(&mut map)? else {
            let expected = walk.expected_union(idx);
            return Ok(walk.mismatch(&expected, "an empty object"));
        };
        let schema = walk.schema;
        let ctor = schema
            .unions
            .get(idx)
            .and_then(|u| u.ctors.iter().find(|(name, _)| *name == key));
        let mut value = None;
        let mut ok = true;
        match ctor {
            Some((name, Some(payload))) => {
                walk.path.steps.push(Step::Field(name.clone()));
                let before = walk.errors.len();
                let inner = map.next_value_seed(Part {
                    walk: &mut *walk,
                    shape: payload,
                    need: need.payload(name),
                })?;
                walk.path.steps.pop();
                if walk.errors.len() == before && matches!(need, Need::Build) {
                    value = inner.map(|inner| Value::ctor(name, Some(inner)));
                }
            }
            Some((name, None)) => {
                ok = false;
                let expected = walk.expected_union(idx);
                walk.mismatch(
                    &expected,
                    &format!("an object (`{name}` takes no payload: write \"{name}\")"),
                );
                map.next_value_seed(Skip { walk: &mut *walk })?;
            }
            None => {
                ok = false;
                let expected = walk.expected_union(idx);
                walk.mismatch(
                    &expected,
                    &format!("an object whose key `{key}` names no constructor"),
                );
                map.next_value_seed(Skip { walk: &mut *walk })?;
            }
        }
        let mut more = false;
        while let Some(other) = any_key(&mut map)? {
            if other == key {
                walk.duplicate(&other);
            } else if ok && !more {
                more = true;
                let expected = walk.expected_union(idx);
                walk.mismatch(&expected, "an object with more than one member");
            }
            map.next_value_seed(Skip { walk: &mut *walk })?;
        }
        Ok(value)
    }

    /// An object for a type variable: any members, each key once.
    fn any_object<'de, A: serde::de::MapAccess<'de>>(
        &mut self,
        need: Need<'_>,
        mut map: A,
    ) -> Result<Option<Value>, A::Error> {
        let walk = self;
        let build = matches!(need, Need::Build);
        let mut keys: Vec<String> = Vec::new();
        let mut index: Option<std::collections::HashSet<String>> = None;
        let mut values = Vec::new();
        let mut whole = true;
        while let Some(key) = any_key(&mut map)? {
            let known = match &index {
                Some(index) => index.contains(&key),
                None => keys.contains(&key),
            };
            if known {
                walk.duplicate(&key);
                map.next_value_seed(Skip { walk: &mut *walk })?;
                continue;
            }
            walk.path.steps.push(Step::Field(Name::new(&key)));
            let value = map.next_value_seed(Part {
                walk: &mut *walk,
                shape: &ANY,
                need,
            })?;
            walk.path.steps.pop();
            whole &= value.is_some();
            values.extend(value);
            if let Some(index) = &mut index {
                index.insert(key.clone());
            }
            keys.push(key);
            if index.is_none() && keys.len() > 16 {
                index = Some(keys.iter().cloned().collect());
            }
        }
        if !build || !whole {
            return Ok(None);
        }
        let names: Arc<[Name]> = keys.iter().map(Name::new).collect();
        Ok(Some(Value::Record(Arc::new(crate::eval::value::Record {
            names,
            values,
        }))))
    }
}

impl<'de, 'w, 'g, 's> serde::de::Visitor<'de> for Part<'w, 'g, 's> {
    type Value = Option<Value>;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON or YAML value")
    }

    fn visit_bool<E>(self, b: bool) -> Result<Option<Value>, E> {
        Ok(self.walk.scalar(self.shape, self.need, Scalar::Bool(b)))
    }

    fn visit_i64<E>(self, n: i64) -> Result<Option<Value>, E> {
        Ok(self.walk.scalar(self.shape, self.need, Scalar::Int(n)))
    }

    fn visit_u64<E>(self, n: u64) -> Result<Option<Value>, E> {
        let scalar = i64::try_from(n).map_or(Scalar::Big(i128::from(n)), Scalar::Int);
        Ok(self.walk.scalar(self.shape, self.need, scalar))
    }

    fn visit_i128<E>(self, n: i128) -> Result<Option<Value>, E> {
        let scalar = i64::try_from(n).map_or(Scalar::Big(n), Scalar::Int);
        Ok(self.walk.scalar(self.shape, self.need, scalar))
    }

    fn visit_u128<E: serde::de::Error>(self, n: u128) -> Result<Option<Value>, E> {
        let n = i128::try_from(n).unwrap_or(i128::MAX);
        self.visit_i128(n)
    }

    fn visit_f64<E>(self, x: f64) -> Result<Option<Value>, E> {
        Ok(self.walk.scalar(self.shape, self.need, Scalar::Float(x)))
    }

    fn visit_str<E>(self, s: &str) -> Result<Option<Value>, E> {
        Ok(self.walk.scalar(self.shape, self.need, Scalar::Str(s)))
    }

    fn visit_none<E>(self) -> Result<Option<Value>, E> {
        Ok(self.walk.scalar(self.shape, self.need, Scalar::Null))
    }

    fn visit_unit<E>(self) -> Result<Option<Value>, E> {
        Ok(self.walk.scalar(self.shape, self.need, Scalar::Null))
    }

    fn visit_some<D: serde::Deserializer<'de>>(self, inner: D) -> Result<Option<Value>, D::Error> {
        serde::de::DeserializeSeed::deserialize(self, inner)
    }

    fn visit_newtype_struct<D: serde::Deserializer<'de>>(
        self,
        inner: D,
    ) -> Result<Option<Value>, D::Error> {
        serde::de::DeserializeSeed::deserialize(self, inner)
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(
        self,
        mut seq: A,
    ) -> Result<Option<Value>, A::Error> {
        let walk = self.walk;
        enter(walk)?;
        let elem = match self.shape {
            Shape::List(elem) => Some(&**elem),
            Shape::Any => Some(&ANY),
            _ => None,
        };
        let Some(elem) = elem else {
            let expected = walk.expected(self.shape);
            walk.mismatch(&expected, "an array");
            while seq.next_element_seed(Skip { walk: &mut *walk })?.is_some() {}
            walk.depth -= 1;
            return Ok(None);
        };
        let build = matches!(self.need, Need::Build);
        let need = self.need.element();
        let before = walk.errors.len();
        let mut out = Vec::new();
        let mut k = 0;
        loop {
            walk.path.steps.push(Step::Index(k));
            let item = seq.next_element_seed(Part {
                walk: &mut *walk,
                shape: elem,
                need,
            })?;
            walk.path.steps.pop();
            match item {
                None => break,
                Some(value) => {
                    if build {
                        out.extend(value);
                    }
                }
            }
            k += 1;
        }
        walk.depth -= 1;
        Ok((build && walk.errors.len() == before && out.len() == k).then(|| Value::list(out)))
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(
        self,
        mut map: A,
    ) -> Result<Option<Value>, A::Error> {
        let walk = self.walk;
        enter(walk)?;
        let shape = self.shape;
        let value = match shape {
            Shape::Record {
                fields,
                names,
                open,
            } => walk.record(self.need, map, fields, names, *open)?,
            Shape::Union(idx) => walk.union(self.need, map, *idx)?,
            Shape::Any => walk.any_object(self.need, map)?,
            _ => {
                let expected = walk.expected(shape);
                walk.mismatch(&expected, "an object");
                while map.next_key::<serde::de::IgnoredAny>()?.is_some() {
                    map.next_value_seed(Skip { walk: &mut *walk })?;
                }
                walk.depth -= 1;
                return Ok(None);
            }
        };
        walk.depth -= 1;
        Ok(value)
    }
}

impl Schema {
    /// Checks one document given as a serde_json value.
    pub fn check_value(&self, data: &serde_json::Value) -> Vec<Violation> {
        self.check_value_until(data, &Interrupt::default())
    }

    /// [`Schema::check_value`], polling `interrupt` at every value (LANGUAGE.md 12.3):
    /// stopped, the only violation is R3008 at `$`.
    pub fn check_value_until(
        &self,
        data: &serde_json::Value,
        interrupt: &Interrupt,
    ) -> Vec<Violation> {
        self.check_with(None, interrupt, |part| {
            serde::de::DeserializeSeed::deserialize(part, data).map(drop)
        })
        .unwrap_or_else(|err| vec![Violation::new("$", Code::C5004, err.to_string())])
    }

    /// Checks one document already read into [`Data`].
    pub fn check_data(&self, data: &Data) -> Vec<Violation> {
        self.check_value(&data.to_json())
    }

    /// Checks one document given as text, while it is parsed: nothing but the parts that
    /// refinements check is built, so the memory is the text's and the walk's.
    pub fn check_text(&self, text: &str, format: DataFormat) -> Vec<Violation> {
        self.check_text_until(text, format, &Interrupt::default())
    }

    /// [`Schema::check_text`], polling `interrupt` at every value read (LANGUAGE.md 12.3):
    /// stopped, the only violation is R3008 at `$`. A YAML document is read whole before
    /// its values are (serde_yaml's reader), so that reading is not polled.
    pub fn check_text_until(
        &self,
        text: &str,
        format: DataFormat,
        interrupt: &Interrupt,
    ) -> Vec<Violation> {
        let text = strip_bom(text);
        match format {
            DataFormat::Json => {
                let res = self.check_with(Some(text), interrupt, |part| {
                    let mut de = serde_json::Deserializer::from_str(text);
                    de.disable_recursion_limit();
                    serde::de::DeserializeSeed::deserialize(part, &mut de)?;
                    de.end()
                });
                res.unwrap_or_else(|err| vec![json_error(&err)])
            }
            DataFormat::Yaml => {
                let res = self.check_with(None, interrupt, |part| {
                    serde::de::DeserializeSeed::deserialize(
                        part,
                        serde_yaml::Deserializer::from_str(text),
                    )
                    .map(drop)
                });
                match res {
                    Ok(violations) => violations,
                    // Nested beyond serde_yaml's fixed 128 levels: read again by an event
                    // parser without a bound, through the same walk.
                    Err(err) if is_recursion_limit(&err) => {
                        self.check_yaml_by_events_until(text, interrupt)
                    }
                    Err(err) => vec![yaml_error(&err)],
                }
            }
        }
    }

    /// Checks a YAML document read by the event parser (`deep_yaml`) instead of serde_yaml:
    /// what [`Schema::check_text`] does for YAML nested beyond serde_yaml's 128 levels. Public
    /// for the tests that hold both readers to the same violations.
    #[doc(hidden)]
    pub fn check_yaml_by_events(&self, text: &str) -> Vec<Violation> {
        self.check_yaml_by_events_until(text, &Interrupt::default())
    }

    fn check_yaml_by_events_until(&self, text: &str, interrupt: &Interrupt) -> Vec<Violation> {
        let text = strip_bom(text);
        self.check_with(None, interrupt, |part| {
            let document = deep_yaml::Document::load(text)?;
            serde::de::DeserializeSeed::deserialize(part, &mut document.deserializer()).map(drop)
        })
        .unwrap_or_else(|err| {
            if !err.flow_bound {
                return vec![deep_yaml_error(&err)];
            }
            // Flow collections nested beyond the event parser's bound: a document in JSON's
            // syntax (a YAML 1.2 document too) is read as JSON, without a bound of its own.
            let json = self.check_text_until(text, DataFormat::Json, interrupt);
            if json.iter().any(|v| v.message.starts_with("malformed JSON")) {
                vec![Violation::new(
                    "$",
                    Code::C5004,
                    format!(
                        "the YAML document nests flow collections ([...], {{...}}) deeper than {} levels, the most the YAML reader follows (block collections, and documents in JSON's syntax, may nest {MAX_DATA_DEPTH})",
                        deep_yaml::FLOW_DEPTH
                    ),
                )]
            } else {
                json
            }
        })
    }

    /// Runs `parse` with the part for the whole document; the violations, or the parser's
    /// error when the document is malformed. `json` is the text of a JSON document (its
    /// negative zeros are told apart by their text).
    fn check_with<E>(
        &self,
        json: Option<&str>,
        interrupt: &Interrupt,
        parse: impl FnOnce(Part<'_, '_, '_>) -> Result<(), E>,
    ) -> Result<Vec<Violation>, E> {
        let globals = self
            .plan
            .as_ref()
            .map(|_| crate::eval::link::globals(&self.evaluations));
        let machine = globals.as_ref().map(|globals| {
            Machine::new(
                self.file,
                globals,
                self.limits.clone(),
                self.limits.max_steps,
                interrupt.clone(),
            )
        });
        let mut walk = Walk {
            schema: self,
            path: JsonPath::default(),
            depth: 0,
            errors: Vec::new(),
            refinements: Vec::new(),
            machine,
            too_deep: false,
            negative_zeros: 0,
            zero_integers: Vec::new(),
            knots: self.plan.as_deref().map(knots_of).unwrap_or_default(),
            poll: Poll::new(interrupt),
            stopped: false,
        };
        let need = match &self.plan {
            Some(plan) => Need::Check(plan),
            None => Need::Shape,
        };
        let part = Part {
            walk: &mut walk,
            shape: &self.shape,
            need,
        };
        let parsed = crate::par::with_stack(|| parse(part));
        if walk.stopped {
            return Ok(vec![Violation::new(
                "$",
                Code::R3008,
                "the run timed out or was cancelled while validating",
            )]);
        }
        parsed?;
        if !walk.zero_integers.is_empty() {
            let integers = json.map(negative_zero_integers).unwrap_or_default();
            for (nth, path) in std::mem::take(&mut walk.zero_integers) {
                if !integers.get(nth).copied().unwrap_or(false) {
                    walk.errors.push(Violation::new(
                        &path,
                        Code::C5004,
                        "expected an Integer (a number without fraction or exponent), found a number",
                    ));
                }
            }
        }
        if walk.errors.is_empty() {
            Ok(walk.refinements)
        } else {
            Ok(walk.errors)
        }
    }
}

/// Every knot (recursive union) of `plan`, by address, with its plan: what a
/// [`Plan::Back`] in it stands for. An explicit stack: plans can be 10,000 levels deep.
fn knots_of(plan: &Plan) -> Vec<(usize, &Plan)> {
    let mut out = Vec::new();
    let mut work = vec![plan];
    while let Some(plan) = work.pop() {
        match plan {
            Plan::Knot(knot) => {
                if let Some(inner) = knot.plan.get() {
                    out.push((Arc::as_ptr(knot) as usize, inner));
                    work.push(inner);
                }
            }
            Plan::Refined { base, .. } => work.extend(base.as_deref()),
            Plan::Record(fields) => work.extend(fields.iter().map(|(_, p)| p)),
            Plan::List(inner) => work.push(inner),
            Plan::Union(ctors) => work.extend(ctors.iter().filter_map(|(_, p)| p.as_ref())),
            Plan::Param(_) | Plan::Back(_) => {}
        }
    }
    out
}

/// For each number of a JSON text whose value is negative zero, in order: whether it is
/// written as an integer (`-0`, the integer 0) rather than with a fraction or an exponent
/// (`-0.0`, `-0e3`, `-1e-400`). serde_json reads all of them as the float `-0.0`; this scan
/// runs only for documents where an Integer took one.
fn negative_zero_integers(text: &str) -> Vec<bool> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut at = 0;
    while let Some(&b) = bytes.get(at) {
        match b {
            b'"' => {
                at += 1;
                while let Some(&c) = bytes.get(at) {
                    at += 1;
                    match c {
                        b'\\' => at += 1,
                        b'"' => break,
                        _ => {}
                    }
                }
            }
            b'-' | b'0'..=b'9' => {
                let start = at;
                while bytes
                    .get(at)
                    .is_some_and(|c| matches!(c, b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9'))
                {
                    at += 1;
                }
                let token = text.get(start..at).unwrap_or("");
                if token.starts_with('-') {
                    if let Ok(x) = token.parse::<f64>() {
                        if x == 0.0 {
                            out.push(!token.contains(['.', 'e', 'E']));
                        }
                    }
                }
            }
            _ => at += 1,
        }
    }
    out
}

/// The violation `err` of the part at `path`; the paths the machine wrote start at `$`.
fn violation_of(err: &EvalError, path: &str) -> Violation {
    match &*err.kind {
        EvalErrorKind::ConstraintViolated {
            type_name,
            item,
            value,
            path: inner,
            ..
        } => Violation::new(
            &format!("{path}{}", inner.strip_prefix('$').unwrap_or(inner)),
            Code::C5005,
            format!("`{type_name}` rejects {value}: failing `{item}`"),
        ),
        EvalErrorKind::PredicateError { type_name, inner } => Violation::new(
            path,
            Code::C5003,
            format!("the predicate of `{type_name}` failed: {}", inner.message()),
        ),
        _ => Violation::new(path, err.code(), err.message()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Documents read straight into [`Data`] hold what serde_json's `Value` held: members
    /// in order, a repeated key's last value in its first place (in small and in indexed
    /// objects), integers beyond `i64`, floats, and YAML's non-finite numbers as null.
    #[test]
    fn data_parses_as_serde_json_values_do() {
        let many: String = (0..40)
            .map(|k| format!("\"k{k}\": {k}"))
            .chain(["\"k3\": \"again\"".to_string(), "\"k39\": null".to_string()])
            .collect::<Vec<_>>()
            .join(", ");
        let texts = [
            r#"{"b": 1, "a": [true, null, 2.5, -3, 18446744073709551615], "b": "x"}"#.to_string(),
            format!("{{{many}}}"),
            r#"[{"": {}}, [], "é\u0000", 1e3, 9223372036854775807, -9223372036854775808]"#
                .to_string(),
        ];
        for text in &texts {
            let direct = parse_data(text, DataFormat::Json).expect("parses");
            let value: serde_json::Value = serde_json::from_str(text).expect("parses");
            let via = <Data as serde::Deserialize>::deserialize(&value).expect("converts");
            assert_eq!(direct, via, "{text}");
            // Written back, the members are in serde_json's order with its values.
            assert_eq!(to_json(&direct), value, "{text}");
        }
        let yaml = "a: .nan\nb: .inf\nc: 1.5\n1: one\n";
        let direct = parse_data(yaml, DataFormat::Yaml).expect("parses");
        let value: serde_json::Value = serde_yaml::from_str(yaml).expect("parses");
        assert_eq!(to_json(&direct), value);
        let Data::Object(members) = &direct else {
            panic!("an object: {direct:?}");
        };
        assert_eq!(members.get("a"), Some(&Data::Null));
        assert_eq!(members.get("1"), Some(&Data::Str("one".into())));
    }

    /// The negative zeros of a JSON text, in order, and whether each is written as an
    /// integer; strings (with escaped quotes) are skipped.
    #[test]
    fn negative_zeros_are_told_apart_by_their_text() {
        let text = r#"["-0", "a\"-0", -0, -0.0, {"a": -0e1}, -1e-400, 10, -10, 0, -0]"#;
        assert_eq!(
            negative_zero_integers(text),
            [true, false, false, false, true]
        );
    }

    fn to_json(data: &Data) -> serde_json::Value {
        data.to_json()
    }
}
