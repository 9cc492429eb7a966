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

/// Parses a JSON or YAML document; a malformed one is a violation at `$` with its line
/// and column.
pub fn parse_data(text: &str, format: DataFormat) -> Result<serde_json::Value, Violation> {
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

fn describe(data: &serde_json::Value) -> &'static str {
    match data {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "an array",
        serde_json::Value::Object(_) => "an object",
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
    /// Checks one parsed document; every violation found (empty when it conforms).
    pub fn check_value(&self, data: &serde_json::Value) -> Vec<Violation> {
        let mut errors = Vec::new();
        let mut path = String::from("$");
        let value = self.convert(&self.shape, data, &mut path, &mut errors, 0);
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
            let mut path = String::from("$");
            run_plan(&mut machine, plan, &value, &mut path, &mut errors, 0);
        }
        errors
    }

    /// Checks one document given as text.
    pub fn check_text(&self, text: &str, format: DataFormat) -> Vec<Violation> {
        match parse_data(text, format) {
            Ok(data) => self.check_value(&data),
            Err(violation) => vec![violation],
        }
    }

    fn convert(
        &self,
        shape: &Shape,
        data: &serde_json::Value,
        path: &mut String,
        errors: &mut Vec<Violation>,
        depth: u32,
    ) -> Option<Value> {
        use serde_json::Value as J;
        if depth > self.limits.max_depth {
            errors.push(Violation::new(
                path,
                Code::R3006,
                "the data is nested too deeply",
            ));
            return None;
        }
        let mismatch = |errors: &mut Vec<Violation>, path: &str, expected: &str| {
            errors.push(Violation::new(
                path,
                Code::C5004,
                format!("expected {expected}, found {}", describe(data)),
            ));
            None
        };
        match (shape, data) {
            (Shape::Int, J::Number(n)) => match n.as_i64() {
                Some(i) if !n.is_f64() => Some(Value::Int(i)),
                _ if n.is_f64() => mismatch(
                    errors,
                    path,
                    "an Integer (a number without fraction or exponent)",
                ),
                _ => {
                    errors.push(Violation::new(
                        path,
                        Code::C5004,
                        format!("the number {n} does not fit an Integer"),
                    ));
                    None
                }
            },
            (Shape::Int, _) => mismatch(errors, path, "an Integer"),
            (Shape::Float, J::Number(n)) => match n.as_f64() {
                Some(x) if x.is_finite() => Some(Value::Float(x)),
                _ => mismatch(errors, path, "a finite Float"),
            },
            (Shape::Float, _) => mismatch(errors, path, "a Float"),
            (Shape::Str, J::String(s)) => Some(Value::str(s)),
            (Shape::Str, _) => mismatch(errors, path, "a String"),
            (Shape::Bool, J::Bool(b)) => Some(Value::Bool(*b)),
            (Shape::Bool, _) => mismatch(errors, path, "a Bool"),
            (Shape::Unit, J::Null) => Some(Value::Unit),
            (Shape::Unit, _) => mismatch(errors, path, "null (Unit)"),
            (Shape::List(elem), J::Array(items)) => {
                let mut out = Vec::with_capacity(items.len());
                for (k, item) in items.iter().enumerate() {
                    let len = path.len();
                    let _ = write!(path, "[{k}]");
                    let v = self.convert(elem, item, path, errors, depth + 1);
                    path.truncate(len);
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
                    let len = path.len();
                    push_field(path, name);
                    match member(members, name) {
                        Some(item) => {
                            values.extend(self.convert(field, item, path, errors, depth + 1))
                        }
                        None => errors.push(Violation::new(
                            path,
                            Code::C5004,
                            format!("missing field `{name}`"),
                        )),
                    }
                    path.truncate(len);
                }
                if !open {
                    for key in members.keys() {
                        if !fields.iter().any(|(name, _)| name == key) {
                            let len = path.len();
                            push_field(path, key);
                            errors.push(Violation::new(
                                path,
                                Code::C5004,
                                format!("unexpected field `{key}`"),
                            ));
                            path.truncate(len);
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
                    J::String(s) => match union.ctors.iter().find(|(name, _)| name == s) {
                        Some((name, None)) => Some(Value::ctor(name, None)),
                        _ => mismatch(errors, path, &expected()),
                    },
                    J::Object(members) if members.len() == 1 => {
                        let (key, inner) = members.iter().next()?;
                        match union.ctors.iter().find(|(name, _)| name == key) {
                            Some((name, Some(payload))) => {
                                let len = path.len();
                                push_field(path, key);
                                let v = self.convert(payload, inner, path, errors, depth + 1);
                                path.truncate(len);
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

/// The member `name` of a JSON object: a scan for the small objects of most documents
/// (the map hashes with SipHash), a lookup for the others.
fn member<'d>(
    members: &'d serde_json::Map<String, serde_json::Value>,
    name: &str,
) -> Option<&'d serde_json::Value> {
    if members.len() <= 16 {
        members.iter().find(|(key, _)| *key == name).map(|(_, v)| v)
    } else {
        members.get(name)
    }
}

/// Data converted without a type (for type variables).
fn generic(data: &serde_json::Value) -> Value {
    use serde_json::Value as J;
    match data {
        J::Null => Value::Unit,
        J::Bool(b) => Value::Bool(*b),
        J::Number(n) => match n.as_i64() {
            Some(i) if !n.is_f64() => Value::Int(i),
            _ => Value::Float(n.as_f64().unwrap_or(0.0)),
        },
        J::String(s) => Value::str(s),
        J::Array(items) => Value::list(items.iter().map(generic).collect()),
        J::Object(members) => {
            let names: Arc<[Name]> = members.keys().map(Name::new).collect();
            let values = members.values().map(generic).collect();
            Value::Record(Arc::new(crate::eval::value::Record { names, values }))
        }
    }
}

/// Runs `plan` on `value`, one violation per failing refined part.
fn run_plan(
    machine: &mut Machine<'_>,
    plan: &Plan,
    value: &Value,
    path: &mut String,
    errors: &mut Vec<Violation>,
    depth: u32,
) {
    if depth > 10_000 {
        return;
    }
    match (plan, value) {
        (Plan::Refined { .. }, _) => {
            if let Err(err) = machine.validate(plan, value, Span::default(), path) {
                errors.push(violation_of(&err, path));
            }
        }
        (Plan::Record(fields), Value::Record(record)) => {
            for (name, inner) in fields {
                if let Some(v) = record.get(name) {
                    let len = path.len();
                    push_field(path, name);
                    run_plan(machine, inner, v, path, errors, depth + 1);
                    path.truncate(len);
                }
            }
        }
        (Plan::List(inner), Value::List(items)) => {
            for (k, v) in items.iter().enumerate() {
                let len = path.len();
                let _ = write!(path, "[{k}]");
                run_plan(machine, inner, v, path, errors, depth + 1);
                path.truncate(len);
            }
        }
        (Plan::Union(ctors), Value::Ctor(ctor)) => {
            for (name, inner) in ctors {
                if *name == ctor.name {
                    if let (Some(inner), Some(payload)) = (inner, &ctor.payload) {
                        let len = path.len();
                        push_field(path, name);
                        run_plan(machine, inner, payload, path, errors, depth + 1);
                        path.truncate(len);
                    }
                }
            }
        }
        _ => {}
    }
}

fn violation_of(err: &EvalError, path: &str) -> Violation {
    match &*err.kind {
        EvalErrorKind::ConstraintViolated {
            type_name,
            item,
            value,
            path: inner,
            ..
        } => Violation::new(
            inner,
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
