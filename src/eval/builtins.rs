//! The built-in functions of LANGUAGE.md section 10.2, plus native `validatePattern` (10.5).

use std::sync::Arc;

use crate::eval::error::{EvalError, EvalErrorKind};
use crate::eval::machine::Machine;
use crate::eval::ops;
use crate::eval::value::Value;
use crate::source::Span;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Builtin {
    ToString,
    Length,
    Contains,
    StartsWith,
    EndsWith,
    Split,
    Concat,
    ParseInt,
    ToFloat,
    Error,
    Range,
    Map,
    Filter,
    Fold,
    All,
    Any,
    Reverse,
    Append,
    Cons,
    Head,
    Tail,
    IsEmpty,
    /// `std.validation`'s native function (not in the prelude).
    ValidatePattern,
}

impl Builtin {
    /// The prelude function of this name.
    pub fn from_name(name: &str) -> Option<Builtin> {
        Some(match name {
            "toString" => Builtin::ToString,
            "length" => Builtin::Length,
            "contains" => Builtin::Contains,
            "startsWith" => Builtin::StartsWith,
            "endsWith" => Builtin::EndsWith,
            "split" => Builtin::Split,
            "concat" => Builtin::Concat,
            "parseInt" => Builtin::ParseInt,
            "toFloat" => Builtin::ToFloat,
            "error" => Builtin::Error,
            "range" => Builtin::Range,
            "map" => Builtin::Map,
            "filter" => Builtin::Filter,
            "fold" => Builtin::Fold,
            "all" => Builtin::All,
            "any" => Builtin::Any,
            "reverse" => Builtin::Reverse,
            "append" => Builtin::Append,
            "cons" => Builtin::Cons,
            "head" => Builtin::Head,
            "tail" => Builtin::Tail,
            "isEmpty" => Builtin::IsEmpty,
            _ => return None,
        })
    }

    /// A native function of the standard library (`validatePattern` of `std.validation`).
    pub fn from_native_name(name: &str) -> Option<Builtin> {
        match name {
            "validatePattern" => Some(Builtin::ValidatePattern),
            _ => None,
        }
    }

    pub fn arity(self) -> usize {
        match self {
            Builtin::ToString
            | Builtin::Length
            | Builtin::ParseInt
            | Builtin::ToFloat
            | Builtin::Error
            | Builtin::Reverse
            | Builtin::Head
            | Builtin::Tail
            | Builtin::IsEmpty => 1,
            Builtin::Fold => 3,
            _ => 2,
        }
    }
}

type R<T> = Result<T, EvalError>;

fn arg_str<'a>(m: &Machine<'_>, v: Option<&'a Value>, span: Span) -> R<&'a str> {
    match v {
        Some(Value::Str(s)) => Ok(s),
        _ => Err(m.internal("expected a String argument", span)),
    }
}

fn arg_list<'a>(m: &Machine<'_>, v: Option<&'a Value>, span: Span) -> R<&'a Arc<Vec<Value>>> {
    match v {
        Some(Value::List(xs)) => Ok(xs),
        _ => Err(m.internal("expected a List argument", span)),
    }
}

fn arg_int(m: &Machine<'_>, v: Option<&Value>, span: Span) -> R<i64> {
    match v {
        Some(Value::Int(n)) => Ok(*n),
        _ => Err(m.internal("expected an Integer argument", span)),
    }
}

/// Calls `b` with exactly `b.arity()` arguments.
pub fn call(m: &mut Machine<'_>, b: Builtin, args: &[Value], span: Span) -> R<Value> {
    let a0 = args.first();
    let a1 = args.get(1);
    match b {
        Builtin::ToString => {
            let v = a0.ok_or_else(|| m.internal("arity", span))?;
            if let Value::Str(_) = v {
                return Ok(v.clone());
            }
            if let Value::Int(n) = v {
                // The common case, with nothing to bound: at most 20 bytes.
                let mut out = String::with_capacity(20);
                crate::eval::export::json::write_int(&mut out, *n);
                m.charge(out.len() as u64, span)?;
                return Ok(Value::Str(Arc::from(out)));
            }
            // Each byte produced costs a step (§12.1): the text is never written past the
            // remaining budget, which ends the run there with R3007.
            let limits = crate::eval::export::ExportLimits {
                max_depth: m.limits.max_depth,
                max_output_bytes: Some(m.remaining_steps()),
                interrupt: m.interrupt().clone(),
                ticks: crate::eval::export::Ticks::default(),
            };
            let mut out = String::new();
            match crate::eval::export::text::render_into(v, &mut out, &limits) {
                Ok(()) => {}
                Err(EvalErrorKind::OutputTooLarge { .. }) => {
                    m.charge(u64::MAX, span)?;
                }
                Err(kind) => return Err(m.err(kind, span)),
            }
            m.charge(out.len() as u64, span)?;
            Ok(Value::Str(Arc::from(out)))
        }
        Builtin::Length => match a0 {
            Some(Value::Str(s)) => {
                m.charge(s.len() as u64, span)?;
                Ok(Value::Int(s.chars().count() as i64))
            }
            Some(Value::List(xs)) => Ok(Value::Int(xs.len() as i64)),
            _ => Err(m.internal("length of a non-sized value", span)),
        },
        Builtin::Contains | Builtin::StartsWith | Builtin::EndsWith => {
            let s = arg_str(m, a0, span)?;
            let t = arg_str(m, a1, span)?;
            m.charge((s.len() + t.len()) as u64, span)?;
            Ok(Value::Bool(match b {
                Builtin::Contains => s.contains(t),
                Builtin::StartsWith => s.starts_with(t),
                _ => s.ends_with(t),
            }))
        }
        Builtin::Split => {
            let s = arg_str(m, a0, span)?;
            let sep = arg_str(m, a1, span)?;
            m.charge(s.len() as u64 + 1, span)?;
            let parts: Vec<Value> = if sep.is_empty() {
                s.chars()
                    .map(|c| Value::str(c.encode_utf8(&mut [0; 4])))
                    .collect()
            } else {
                s.split(sep).map(Value::str).collect()
            };
            Ok(Value::List(Arc::new(parts)))
        }
        Builtin::Concat => {
            let (Some(x), Some(y)) = (a0, a1) else {
                return Err(m.internal("arity", span));
            };
            ops::concat(m, x, y, span)
        }
        Builtin::ParseInt => {
            let s = arg_str(m, a0, span)?;
            m.charge(s.len() as u64, span)?;
            Ok(match parse_int(s) {
                Some(n) => Value::some(Value::Int(n)),
                None => Value::none(),
            })
        }
        Builtin::ToFloat => Ok(Value::Float(arg_int(m, a0, span)? as f64)),
        Builtin::Error => {
            let s = arg_str(m, a0, span)?;
            Err(m.err(
                EvalErrorKind::User {
                    message: s.to_string(),
                },
                span,
            ))
        }
        Builtin::Range => {
            let lo = arg_int(m, a0, span)?;
            let hi = arg_int(m, a1, span)?;
            if hi <= lo {
                return Ok(Value::list(Vec::new()));
            }
            // Charged (and the cancel flag polled) a chunk at a time: a huge range must stop
            // promptly on a timeout, not after allocating and filling all of it.
            const CHUNK: i64 = 4096;
            let n = (hi as i128 - lo as i128) as u64;
            if m.steps.saturating_add(n) > m.step_limit {
                // Over budget whatever happens: fail before allocating anything.
                m.charge(n, span)?;
            }
            let mut v = Vec::with_capacity(usize::try_from(n).unwrap_or(usize::MAX).min(1 << 16));
            let mut k = lo;
            while k < hi {
                let end = hi.min(k.saturating_add(CHUNK));
                m.charge((end - k) as u64, span)?;
                v.extend((k..end).map(Value::Int));
                k = end;
            }
            Ok(Value::List(Arc::new(v)))
        }
        Builtin::Map => {
            let f = a0.cloned().unwrap_or(Value::Unit);
            let xs = arg_list(m, a1, span)?.clone();
            if let Some(out) = m.par_apply(&f, &xs, span, None) {
                return Ok(Value::List(Arc::new(out)));
            }
            let mut out = Vec::with_capacity(xs.len());
            for x in xs.iter() {
                m.charge(1, span)?;
                out.push(m.apply_to(&f, [x.clone()], span)?);
            }
            Ok(Value::List(Arc::new(out)))
        }
        Builtin::Filter => {
            let f = a0.cloned().unwrap_or(Value::Unit);
            let xs = arg_list(m, a1, span)?.clone();
            if let Some(keep) = m.par_apply(&f, &xs, span, None) {
                let out = xs
                    .iter()
                    .zip(keep)
                    .filter(|(_, k)| matches!(k, Value::Bool(true)))
                    .map(|(x, _)| x.clone())
                    .collect();
                return Ok(Value::List(Arc::new(out)));
            }
            let mut out = Vec::new();
            for x in xs.iter() {
                m.charge(1, span)?;
                if let Value::Bool(true) = m.apply_to(&f, [x.clone()], span)? {
                    out.push(x.clone());
                }
            }
            Ok(Value::List(Arc::new(out)))
        }
        Builtin::Fold => {
            let f = a0.cloned().unwrap_or(Value::Unit);
            let mut acc = a1.cloned().unwrap_or(Value::Unit);
            let xs = arg_list(m, args.get(2), span)?.clone();
            for x in xs.iter() {
                m.charge(1, span)?;
                acc = m.apply_to(&f, [acc, x.clone()], span)?;
            }
            Ok(acc)
        }
        Builtin::All | Builtin::Any => {
            let want = b == Builtin::Any;
            let f = a0.cloned().unwrap_or(Value::Unit);
            let xs = arg_list(m, a1, span)?.clone();
            if let Some(results) = m.par_apply(&f, &xs, span, Some(want)) {
                let decided = matches!(results.last(), Some(Value::Bool(r)) if *r == want);
                return Ok(Value::Bool(if decided { want } else { !want }));
            }
            for x in xs.iter() {
                m.charge(1, span)?;
                if let Value::Bool(r) = m.apply_to(&f, [x.clone()], span)? {
                    if r == want {
                        return Ok(Value::Bool(want));
                    }
                }
            }
            Ok(Value::Bool(!want))
        }
        Builtin::Reverse => {
            let xs = arg_list(m, a0, span)?;
            m.charge(xs.len() as u64, span)?;
            Ok(Value::List(Arc::new(xs.iter().rev().cloned().collect())))
        }
        Builtin::Append => {
            let (Some(x), Some(y)) = (a0, a1) else {
                return Err(m.internal("arity", span));
            };
            ops::concat(m, x, y, span)
        }
        Builtin::Cons => {
            let xs = arg_list(m, a1, span)?;
            m.charge(xs.len() as u64 + 1, span)?;
            let mut v = Vec::with_capacity(xs.len() + 1);
            v.push(a0.cloned().unwrap_or(Value::Unit));
            v.extend(xs.iter().cloned());
            Ok(Value::List(Arc::new(v)))
        }
        Builtin::Head => {
            let xs = arg_list(m, a0, span)?;
            Ok(match xs.first() {
                Some(x) => Value::some(x.clone()),
                None => Value::none(),
            })
        }
        Builtin::Tail => {
            let xs = arg_list(m, a0, span)?;
            match xs.get(1..) {
                Some(rest) if !xs.is_empty() => {
                    m.charge(rest.len() as u64, span)?;
                    Ok(Value::some(Value::List(Arc::new(rest.to_vec()))))
                }
                _ => Ok(Value::none()),
            }
        }
        Builtin::IsEmpty => Ok(Value::Bool(arg_list(m, a0, span)?.is_empty())),
        Builtin::ValidatePattern => {
            let s = arg_str(m, a0, span)?;
            let re = arg_str(m, a1, span)?;
            m.charge(s.len() as u64 + 1, span)?;
            let compiled = regex::Regex::new(&format!("^(?:{re})$")).map_err(|e| {
                // The regex crate's message spans lines; its last line names the problem.
                let text = e.to_string();
                let last = text.lines().last().unwrap_or("").trim();
                let message = last.strip_prefix("error: ").unwrap_or(last).to_string();
                m.err(EvalErrorKind::InvalidRegex { message }, span)
            })?;
            if compiled.is_match(s) {
                Ok(Value::ctor("Ok", Some(Value::str(s))))
            } else {
                let payload =
                    Value::record(vec![("value", Value::str(s)), ("pattern", Value::str(re))]);
                Ok(Value::ctor(
                    "Err",
                    Some(Value::ctor("InvalidFormat", Some(payload))),
                ))
            }
        }
    }
}

/// `parseInt`: optional sign, then ASCII digits only, in range.
pub fn parse_int(s: &str) -> Option<i64> {
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    s.parse::<i64>().ok()
}
