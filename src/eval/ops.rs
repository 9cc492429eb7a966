//! Operators: arithmetic (checked), equality, ordering and concatenation (LANGUAGE.md 7.6-7.8).

use std::cmp::Ordering;
use std::sync::Arc;

use crate::eval::error::{EvalError, EvalErrorKind};
use crate::eval::machine::Machine;
use crate::eval::value::Value;
use crate::source::Span;
use crate::syntax::ast::BinOp;

/// Integer and Float arithmetic of section 7.6.
pub fn arith(op: BinOp, a: &Value, b: &Value) -> Result<Value, EvalErrorKind> {
    match (a, b) {
        (Value::Int(x), Value::Int(y)) => int_arith(op, *x, *y).map(Value::Int),
        (Value::Float(x), Value::Float(y)) => float_arith(op, *x, *y).map(Value::Float),
        _ => Err(EvalErrorKind::Internal {
            message: "arithmetic on mixed operands".to_string(),
        }),
    }
}

pub fn int_arith(op: BinOp, x: i64, y: i64) -> Result<i64, EvalErrorKind> {
    let overflow = || EvalErrorKind::Overflow { op: op.as_str() };
    match op {
        BinOp::Add => x.checked_add(y).ok_or_else(overflow),
        BinOp::Sub => x.checked_sub(y).ok_or_else(overflow),
        BinOp::Mul => x.checked_mul(y).ok_or_else(overflow),
        BinOp::Div => {
            if y == 0 {
                Err(EvalErrorKind::DivisionByZero)
            } else {
                x.checked_div(y).ok_or_else(overflow)
            }
        }
        BinOp::Rem => {
            if y == 0 {
                Err(EvalErrorKind::DivisionByZero)
            } else {
                Ok(x.checked_rem(y).unwrap_or(0))
            }
        }
        _ => Err(EvalErrorKind::Internal {
            message: format!("`{}` is not arithmetic", op.as_str()),
        }),
    }
}

pub fn float_arith(op: BinOp, x: f64, y: f64) -> Result<f64, EvalErrorKind> {
    let res = match op {
        BinOp::Add => x + y,
        BinOp::Sub => x - y,
        BinOp::Mul => x * y,
        BinOp::Div | BinOp::Rem if y == 0.0 => return Err(EvalErrorKind::DivisionByZero),
        BinOp::Div => x / y,
        BinOp::Rem => x % y,
        _ => {
            return Err(EvalErrorKind::Internal {
                message: format!("`{}` is not arithmetic", op.as_str()),
            })
        }
    };
    if res.is_finite() {
        Ok(res)
    } else {
        Err(EvalErrorKind::Overflow { op: op.as_str() })
    }
}

/// Ordering of section 7.7 (numbers, strings by scalar value = by UTF-8 bytes).
pub fn compare(a: &Value, b: &Value) -> Option<Ordering> {
    match (a, b) {
        (Value::Int(x), Value::Int(y)) => Some(x.cmp(y)),
        (Value::Float(x), Value::Float(y)) => x.partial_cmp(y),
        (Value::Str(x), Value::Str(y)) => Some(x.as_bytes().cmp(y.as_bytes())),
        _ => None,
    }
}

/// Structural equality, left to right, stopping at the first difference.
pub fn equal(m: &mut Machine<'_>, a: &Value, b: &Value, span: Span) -> Result<bool, EvalError> {
    equal_at(m, a, b, span, 0)
}

/// Checks the native stack every few levels (`par::deep`), then `equal_at_here`.
fn equal_at(
    m: &mut Machine<'_>,
    a: &Value,
    b: &Value,
    span: Span,
    depth: u32,
) -> Result<bool, EvalError> {
    crate::par::deep(depth, || equal_at_here(m, a, b, span, depth))
}

fn equal_at_here(
    m: &mut Machine<'_>,
    a: &Value,
    b: &Value,
    span: Span,
    depth: u32,
) -> Result<bool, EvalError> {
    if depth > m.limits.max_depth {
        return Err(m.err(
            EvalErrorKind::DepthExceeded {
                max: m.limits.max_depth,
            },
            span,
        ));
    }
    Ok(match (a, b) {
        (Value::Unit, Value::Unit) => true,
        (Value::Bool(x), Value::Bool(y)) => x == y,
        (Value::Int(x), Value::Int(y)) => x == y,
        (Value::Float(x), Value::Float(y)) => x == y,
        (Value::Str(x), Value::Str(y)) => x == y,
        (Value::List(xs), Value::List(ys)) => {
            if xs.len() != ys.len() {
                return Ok(false);
            }
            for (x, y) in xs.iter().zip(ys.iter()) {
                m.charge(1, span)?;
                if !equal_at(m, x, y, span, depth + 1)? {
                    return Ok(false);
                }
            }
            true
        }
        (Value::Record(x), Value::Record(y)) => {
            if x.values.len() != y.values.len() {
                return Ok(false);
            }
            for (name, xv) in x.names.iter().zip(x.values.iter()) {
                let Some(yv) = y.get(name) else {
                    return Ok(false);
                };
                if !equal_at(m, xv, yv, span, depth + 1)? {
                    return Ok(false);
                }
            }
            true
        }
        (Value::Ctor(x), Value::Ctor(y)) => {
            if x.name != y.name {
                return Ok(false);
            }
            match (&x.payload, &y.payload) {
                (Some(p), Some(q)) => equal_at(m, p, q, span, depth + 1)?,
                (None, None) => true,
                _ => false,
            }
        }
        (Value::Func(_) | Value::Dict(_), _) | (_, Value::Func(_) | Value::Dict(_)) => {
            return Err(m.err(EvalErrorKind::FunctionEquality, span))
        }
        _ => false,
    })
}

/// `++` on strings and lists; charges one step per byte or element before allocating.
pub fn concat(m: &mut Machine<'_>, a: &Value, b: &Value, span: Span) -> Result<Value, EvalError> {
    match (a, b) {
        (Value::Str(x), Value::Str(y)) => {
            m.charge((x.len() + y.len()) as u64, span)?;
            let mut s = String::with_capacity(x.len() + y.len());
            s.push_str(x);
            s.push_str(y);
            Ok(Value::Str(Arc::from(s)))
        }
        (Value::List(x), Value::List(y)) => {
            m.charge((x.len() + y.len()) as u64, span)?;
            if x.is_empty() {
                return Ok(b.clone());
            }
            if y.is_empty() {
                return Ok(a.clone());
            }
            let mut v = Vec::with_capacity(x.len() + y.len());
            v.extend(x.iter().cloned());
            v.extend(y.iter().cloned());
            Ok(Value::List(Arc::new(v)))
        }
        _ => Err(m.internal("`++` on values that are not strings or lists", span)),
    }
}
