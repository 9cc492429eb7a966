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
use crate::source::{FileId, Span};
use crate::syntax::ast::Name;
use crate::types::env::{Env, TypeDef};
use crate::types::ty::SType;

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
}

/// A union instantiated at its arguments: constructors in declaration order.
#[derive(Clone, Debug)]
pub struct UnionShape {
    pub name: String,
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
    memo: HashMap<String, usize>,
}

impl<'a> ShapeBuilder<'a> {
    pub fn new(env: &'a Env) -> ShapeBuilder<'a> {
        ShapeBuilder {
            env,
            unions: Vec::new(),
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
                    Some(TypeDef::Union { ctors, .. }) => {
                        let key = format!("{name}{targs:?}");
                        if let Some(idx) = self.memo.get(&key) {
                            return Shape::Union(*idx);
                        }
                        let idx = self.unions.len();
                        self.memo.insert(key, idx);
                        self.unions.push(UnionShape {
                            name: crate::types::env::display_name(name).to_string(),
                            ctors: Vec::new(),
                        });
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

/// Parses a JSON or YAML document; a malformed one is a violation at `$` with its line
/// and column.
pub fn parse_data(text: &str, format: DataFormat) -> Result<Data, Violation> {
    match format {
        DataFormat::Json => serde_json::from_str(text).map_err(|err| {
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
        }),
        DataFormat::Yaml => serde_yaml::from_str(text).map_err(|err| {
            let (line, column) = err.location().map_or((0, 0), |it| (it.line(), it.column()));
            let what = err.to_string();
            let what = what.split(" at line ").next().unwrap_or(&what).to_string();
            Violation::new(
                "$",
                Code::C5004,
                format!("malformed YAML at line {line}, column {column}: {what}"),
            )
        }),
    }
}

fn describe(data: &Data) -> &'static str {
    match data {
        Data::Null => "null",
        Data::Bool(_) => "a boolean",
        Data::Int(_) | Data::UInt(_) | Data::Float(_) => "a number",
        Data::Str(_) => "a string",
        Data::Array(_) => "an array",
        Data::Object(_) => "an object",
    }
}

/// Where the checker is in the document, kept as steps and written out only for a
/// violation: a document that conforms never pays for its paths (writing each one as the
/// walk went was a tenth of validating one).
#[derive(Default)]
struct JsonPath<'a> {
    steps: Vec<Step<'a>>,
}

#[derive(Clone, Copy)]
enum Step<'a> {
    Field(&'a str),
    Index(usize),
}

impl<'a> JsonPath<'a> {
    fn push(&mut self, step: Step<'a>) {
        self.steps.push(step);
    }

    fn pop(&mut self) {
        self.steps.pop();
    }

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

impl Schema {
    /// Checks one document given as a serde_json value.
    pub fn check_value(&self, data: &serde_json::Value) -> Vec<Violation> {
        match <Data as serde::Deserialize>::deserialize(data) {
            Ok(data) => self.check_data(&data),
            Err(err) => vec![Violation::new("$", Code::C5004, err.to_string())],
        }
    }

    /// Checks one parsed document; every violation found (empty when it conforms).
    pub fn check_data(&self, data: &Data) -> Vec<Violation> {
        let mut errors = Vec::new();
        let value = self.convert(&self.shape, data, &mut JsonPath::default(), &mut errors, 0);
        if !errors.is_empty() {
            return errors;
        }
        if let (Some(plan), Some(value)) = (&self.plan, value) {
            let globals = crate::eval::link::globals(&self.evaluations);
            let mut machine = Machine::new(
                self.file,
                &globals,
                self.limits.clone(),
                self.limits.max_steps,
                crate::eval::Interrupt::default(),
            );
            run_plan(
                &mut machine,
                plan,
                &value,
                &mut JsonPath::default(),
                &mut errors,
                0,
            );
        }
        errors
    }

    /// Checks one document given as text.
    pub fn check_text(&self, text: &str, format: DataFormat) -> Vec<Violation> {
        match parse_data(text, format) {
            Ok(data) => self.check_data(&data),
            Err(violation) => vec![violation],
        }
    }

    fn convert<'d>(
        &'d self,
        shape: &'d Shape,
        data: &'d Data,
        path: &mut JsonPath<'d>,
        errors: &mut Vec<Violation>,
        depth: u32,
    ) -> Option<Value> {
        use Data as J;
        if depth > self.limits.max_depth {
            errors.push(Violation::new(
                &path.render(),
                Code::R3006,
                "the data is nested too deeply",
            ));
            return None;
        }
        let mismatch = |errors: &mut Vec<Violation>, path: &JsonPath<'_>, expected: &str| {
            errors.push(Violation::new(
                &path.render(),
                Code::C5004,
                format!("expected {expected}, found {}", describe(data)),
            ));
            None
        };
        match (shape, data) {
            (Shape::Int, J::Int(i)) => Some(Value::Int(*i)),
            (Shape::Int, J::Float(_)) => mismatch(
                errors,
                path,
                "an Integer (a number without fraction or exponent)",
            ),
            (Shape::Int, J::UInt(n)) => {
                errors.push(Violation::new(
                    &path.render(),
                    Code::C5004,
                    format!("the number {n} does not fit an Integer"),
                ));
                None
            }
            (Shape::Int, _) => mismatch(errors, path, "an Integer"),
            (Shape::Float, J::Int(i)) => Some(Value::Float(*i as f64)),
            (Shape::Float, J::UInt(n)) => Some(Value::Float(*n as f64)),
            (Shape::Float, J::Float(x)) => Some(Value::Float(*x)),
            (Shape::Float, _) => mismatch(errors, path, "a Float"),
            (Shape::Str, J::Str(s)) => Some(Value::str(s)),
            (Shape::Str, _) => mismatch(errors, path, "a String"),
            (Shape::Bool, J::Bool(b)) => Some(Value::Bool(*b)),
            (Shape::Bool, _) => mismatch(errors, path, "a Bool"),
            (Shape::Unit, J::Null) => Some(Value::Unit),
            (Shape::Unit, _) => mismatch(errors, path, "null (Unit)"),
            (Shape::List(elem), J::Array(items)) => {
                let mut out = Vec::with_capacity(items.len());
                for (k, item) in items.iter().enumerate() {
                    path.push(Step::Index(k));
                    let v = self.convert(elem, item, path, errors, depth + 1);
                    path.pop();
                    out.extend(v);
                }
                (out.len() == items.len()).then(|| Value::list(out))
            }
            (Shape::List(_), _) => mismatch(errors, path, "an array (List)"),
            (
                Shape::Record {
                    fields,
                    names,
                    open,
                },
                J::Object(members),
            ) => {
                let before = errors.len();
                let mut values = Vec::with_capacity(fields.len());
                for (name, field) in fields {
                    path.push(Step::Field(name));
                    match members.get(name) {
                        Some(item) => {
                            values.extend(self.convert(field, item, path, errors, depth + 1))
                        }
                        None => errors.push(Violation::new(
                            &path.render(),
                            Code::C5004,
                            format!("missing field `{name}`"),
                        )),
                    }
                    path.pop();
                }
                if !open {
                    for (key, _) in members.iter() {
                        if !fields.iter().any(|(name, _)| name == key) {
                            path.push(Step::Field(key));
                            errors.push(Violation::new(
                                &path.render(),
                                Code::C5004,
                                format!("unexpected field `{key}`"),
                            ));
                            path.pop();
                        }
                    }
                }
                if errors.len() != before {
                    return None;
                }
                Some(Value::Record(Arc::new(crate::eval::value::Record {
                    names: names.clone(),
                    values,
                })))
            }
            (Shape::Record { .. }, _) => mismatch(errors, path, "an object (record)"),
            (Shape::Union(idx), data) => {
                let union = self.unions.get(*idx)?;
                let expected = || {
                    let names: Vec<String> = union
                        .ctors
                        .iter()
                        .map(|(name, payload)| match payload {
                            Some(_) => format!("{{\"{name}\": ...}}"),
                            None => format!("\"{name}\""),
                        })
                        .collect();
                    format!("`{}` (one of {})", union.name, names.join(", "))
                };
                match data {
                    J::Str(s) => match union.ctors.iter().find(|(name, _)| name == s) {
                        Some((name, None)) => Some(Value::ctor(name, None)),
                        _ => mismatch(errors, path, &expected()),
                    },
                    J::Object(members) if members.len() == 1 => {
                        let (key, inner) = members.iter().next()?;
                        match union.ctors.iter().find(|(name, _)| name == key) {
                            Some((name, Some(payload))) => {
                                path.push(Step::Field(key));
                                let v = self.convert(payload, inner, path, errors, depth + 1);
                                path.pop();
                                Some(Value::ctor(name, Some(v?)))
                            }
                            _ => mismatch(errors, path, &expected()),
                        }
                    }
                    _ => mismatch(errors, path, &expected()),
                }
            }
            (Shape::Any, data) => Some(generic(data)),
            (Shape::Function, _) => mismatch(errors, path, "a function (no data has this type)"),
        }
    }
}

/// Data converted without a type (for type variables).
fn generic(data: &Data) -> Value {
    use Data as J;
    match data {
        J::Null => Value::Unit,
        J::Bool(b) => Value::Bool(*b),
        J::Int(i) => Value::Int(*i),
        J::UInt(n) => Value::Float(*n as f64),
        J::Float(x) => Value::Float(*x),
        J::Str(s) => Value::str(s),
        J::Array(items) => Value::list(items.iter().map(generic).collect()),
        J::Object(members) => {
            let names: Arc<[Name]> = members.iter().map(|(k, _)| Name::new(k)).collect();
            let values = members.iter().map(|(_, v)| generic(v)).collect();
            Value::Record(Arc::new(crate::eval::value::Record { names, values }))
        }
    }
}

/// Runs `plan` on `value`, one violation per failing refined part.
fn run_plan<'v>(
    machine: &mut Machine<'_>,
    plan: &'v Plan,
    value: &'v Value,
    path: &mut JsonPath<'v>,
    errors: &mut Vec<Violation>,
    depth: u32,
) {
    if depth > 10_000 {
        return;
    }
    match (plan, value) {
        (Plan::Refined { .. }, _) => {
            // The machine's paths start at `$`; the path of this part replaces it when a
            // check fails.
            if let Err(err) = machine.validate(plan, value, Span::default(), "$") {
                errors.push(violation_of(&err, &path.render()));
            }
        }
        (Plan::Record(fields), Value::Record(record)) => {
            for (name, inner) in fields {
                if let Some(v) = record.get(name) {
                    path.push(Step::Field(name));
                    run_plan(machine, inner, v, path, errors, depth + 1);
                    path.pop();
                }
            }
        }
        (Plan::List(inner), Value::List(items)) => {
            for (k, v) in items.iter().enumerate() {
                path.push(Step::Index(k));
                run_plan(machine, inner, v, path, errors, depth + 1);
                path.pop();
            }
        }
        (Plan::Union(ctors), Value::Ctor(ctor)) => {
            for (name, inner) in ctors {
                if *name == ctor.name {
                    if let (Some(inner), Some(payload)) = (inner, &ctor.payload) {
                        path.push(Step::Field(name));
                        run_plan(machine, inner, payload, path, errors, depth + 1);
                        path.pop();
                    }
                }
            }
        }
        _ => {}
    }
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

    fn to_json(data: &Data) -> serde_json::Value {
        use serde_json::Value as J;
        match data {
            Data::Null => J::Null,
            Data::Bool(b) => J::Bool(*b),
            Data::Int(i) => J::from(*i),
            Data::UInt(n) => J::from(*n),
            Data::Float(x) => J::from(*x),
            Data::Str(s) => J::from(s.as_str()),
            Data::Array(items) => J::Array(items.iter().map(to_json).collect()),
            Data::Object(members) => J::Object(
                members
                    .iter()
                    .map(|(k, v)| (k.clone(), to_json(v)))
                    .collect(),
            ),
        }
    }
}
