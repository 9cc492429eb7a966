//! Run-time values.
//!
//! Values are immutable and shared through `Arc`, so a value computed on one thread can be
//! read on any other (the engine evaluates independent top-level bindings in parallel).
//! Cloning a value is at most one reference-count increment.

use std::sync::Arc;

use crate::eval::builtins::Builtin;
use crate::eval::lower::LambdaDef;
use crate::syntax::ast::Name;

/// A Ligature value.
#[derive(Clone, Debug)]
pub enum Value {
    Unit,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(Arc<str>),
    List(Arc<Vec<Value>>),
    Record(Arc<Record>),
    /// A constructor, with its payload if it has one.
    Ctor(Arc<Ctor>),
    /// Anything that can be applied.
    Func(Arc<Func>),
    /// A type-class dictionary: the methods in class order, then the superclass dictionaries.
    Dict(Arc<Vec<Value>>),
}

/// A record: field names (shared by every record built by one literal) and values.
#[derive(Debug)]
pub struct Record {
    pub names: Arc<[Name]>,
    pub values: Vec<Value>,
}

impl Record {
    pub fn get(&self, name: &str) -> Option<&Value> {
        let idx = self.names.iter().position(|it| it == name)?;
        self.values.get(idx)
    }
}

#[derive(Debug)]
pub struct Ctor {
    pub name: Name,
    pub payload: Option<Value>,
}

/// Applicable values.
#[derive(Debug)]
pub enum Func {
    /// A lambda with the values it captured.
    Closure {
        def: Arc<LambdaDef>,
        captures: Box<[Value]>,
    },
    /// A function applied to fewer arguments than its arity.
    Partial {
        head: Value,
        args: Vec<Value>,
    },
    Builtin(Builtin),
    /// A constructor that awaits its payload.
    CtorFn(Name),
}

const _: () = {
    const fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Value>();
};

impl Value {
    pub fn str(text: &str) -> Value {
        Value::Str(Arc::from(text))
    }

    pub fn ctor(name: &str, payload: Option<Value>) -> Value {
        Value::Ctor(Arc::new(Ctor {
            name: Name::new(name),
            payload,
        }))
    }

    pub fn some(value: Value) -> Value {
        Value::ctor("Some", Some(value))
    }

    pub fn none() -> Value {
        Value::ctor("None", None)
    }

    pub fn list(items: Vec<Value>) -> Value {
        Value::List(Arc::new(items))
    }

    /// A record from (name, value) pairs, for tests and built-ins.
    pub fn record(fields: Vec<(&str, Value)>) -> Value {
        let names: Arc<[Name]> = fields.iter().map(|(n, _)| Name::new(n)).collect();
        let values = fields.into_iter().map(|(_, v)| v).collect();
        Value::Record(Arc::new(Record { names, values }))
    }

    pub fn is_function(&self) -> bool {
        matches!(self, Value::Func(_) | Value::Dict(_))
    }

    /// Whether the value holds no function or dictionary anywhere: plain data, which does
    /// not refer to code, spans or declaration indices of the program that built it (so a
    /// cache may hand it to another version of the program). Iterative: values may nest
    /// deeper than the native stack.
    ///
    /// A part shared by several others is walked once (`let a1 = [a0, a0]; ...` is
    /// exponentially bigger than its memory), so the walk is linear in the value's memory.
    pub fn is_plain_data(&self) -> bool {
        let mut work = vec![self];
        let mut seen: std::collections::HashSet<usize> = std::collections::HashSet::new();
        // A part only one reference reaches cannot be met twice: only shared ones are kept.
        let mut first_visit = |ptr: usize, count: usize| count == 1 || seen.insert(ptr);
        while let Some(v) = work.pop() {
            match v {
                Value::Func(_) | Value::Dict(_) => return false,
                Value::List(items) => {
                    if first_visit(
                        Arc::as_ptr(items) as *const u8 as usize,
                        Arc::strong_count(items),
                    ) {
                        work.extend(items.iter());
                    }
                }
                Value::Record(r) => {
                    if first_visit(Arc::as_ptr(r) as *const u8 as usize, Arc::strong_count(r)) {
                        work.extend(r.values.iter());
                    }
                }
                Value::Ctor(c) => {
                    if first_visit(Arc::as_ptr(c) as *const u8 as usize, Arc::strong_count(c)) {
                        work.extend(c.payload.iter());
                    }
                }
                Value::Unit | Value::Bool(_) | Value::Int(_) | Value::Float(_) | Value::Str(_) => {}
            }
        }
        true
    }
}

/// Drops nested values with an explicit work list, so a value nested a million levels deep
/// (built by a fold, say) does not overflow the native stack when it is freed.
fn drop_iteratively(mut work: Vec<Value>) {
    while drop_batch(&mut work) {}
}

/// Values dropped per call of [`drop_batch`].
const DROP_BATCH: usize = 4096;

/// Drops at most [`DROP_BATCH`] values of `work`; answers whether some remain. A function
/// of its own for WebAssembly, where V8 swaps in optimised code only between calls: the
/// drop of a whole document would otherwise run in baseline code to its end (`wasm.mk`'s
/// `--no-inline` patterns, issue 17).
#[inline(never)]
fn drop_batch(work: &mut Vec<Value>) -> bool {
    for _ in 0..DROP_BATCH {
        let Some(v) = work.pop() else {
            return false;
        };
        match v {
            Value::Ctor(arc) => {
                if let Ok(mut inner) = Arc::try_unwrap(arc) {
                    if let Some(p) = inner.payload.take() {
                        work.push(p);
                    }
                }
            }
            Value::Record(arc) => {
                if let Ok(mut inner) = Arc::try_unwrap(arc) {
                    work.append(&mut inner.values);
                }
            }
            Value::List(arc) => {
                if let Ok(inner) = Arc::try_unwrap(arc) {
                    work.extend(inner);
                }
            }
            _ => {}
        }
    }
    !work.is_empty()
}

fn is_container(v: &Value) -> bool {
    matches!(v, Value::Ctor(_) | Value::Record(_) | Value::List(_))
}

impl Drop for Ctor {
    fn drop(&mut self) {
        if self.payload.as_ref().is_some_and(is_container) {
            if let Some(p) = self.payload.take() {
                drop_iteratively(vec![p]);
            }
        }
    }
}

impl Drop for Record {
    fn drop(&mut self) {
        if self.values.iter().any(is_container) {
            drop_iteratively(std::mem::take(&mut self.values));
        }
    }
}
