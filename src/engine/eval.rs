//! Evaluating one module's top-level declarations in parallel, with the outcome of the
//! canonical sequential order (LANGUAGE.md 7.3, 7.4, 12.1).
//!
//! Lowering records which declarations each one references (`CoreDecl::deps`): that is the
//! DAG. Every declaration is evaluated once, by its own [`Machine`] on whichever worker
//! picks it up, into a once-cell that its dependents read (values are immutable and
//! `Send + Sync`). Each machine may spend the whole budget; the budget is then accounted
//! in source order: the first declaration whose own error, or whose steps added to those
//! of the declarations before it, ends the canonical run decides the outcome. When the
//! budget is what ends it, that declaration is evaluated once more with exactly the steps
//! the canonical run had left, so the R3007 points where the sequential run's would.
//! Hence values, the error reported and the step count are the same for any number of
//! threads; only the wall-clock timeout (R3008) depends on speed.

use std::sync::atomic::AtomicBool;
use std::sync::{Arc, OnceLock};

use super::dag::{self, Dag};
use crate::eval::lower::DeclKind;
use crate::eval::{self, EvalError, EvalErrorKind, Evaluated, Limits, Machine, Program, Value};
use crate::par::Par;

/// How one declaration's evaluation ended: its steps, and its error if it failed.
type Outcome = (u64, Option<EvalError>);

/// Evaluates `program` like [`eval::run`], on `par`'s threads when worth it.
pub fn run(
    par: &Par,
    program: &Program,
    limits: &Limits,
    interrupt: Option<Arc<AtomicBool>>,
) -> Result<Evaluated, EvalError> {
    let n = program.decls.len();
    if !par.worth_it(n) {
        return eval::run(program, limits, interrupt);
    }
    let values: Vec<OnceLock<Value>> = (0..n).map(|_| OnceLock::new()).collect();
    let outcomes: Vec<OnceLock<Outcome>> = (0..n).map(|_| OnceLock::new()).collect();
    let dag = Dag::new(program.decls.iter().map(|d| d.deps.clone()));
    let machine = |budget: u64| {
        Machine::new(
            program.file,
            &values,
            limits.clone(),
            budget,
            interrupt.clone(),
        )
    };
    dag::run(par, &dag, |i| {
        let mut m = machine(limits.max_steps);
        let result = m.eval_decl(program, i);
        let steps = m.steps();
        let ok = match result {
            Ok(value) => {
                if let Some(slot) = values.get(i) {
                    let _ = slot.set(value);
                }
                if let Some(slot) = outcomes.get(i) {
                    let _ = slot.set((steps, None));
                }
                true
            }
            Err(err) => {
                if let Some(slot) = outcomes.get(i) {
                    let _ = slot.set((steps, Some(err)));
                }
                false
            }
        };
        ok
    });

    // The canonical run, replayed from the outcomes.
    let mut total = 0u64;
    let mut decl_steps = Vec::with_capacity(n + 1);
    let mut globals = Vec::new();
    for (i, decl) in program.decls.iter().enumerate() {
        let remaining = limits.max_steps.saturating_sub(total);
        let (steps, error) = match outcomes.get(i).and_then(|o| o.get()) {
            Some((steps, error)) => (*steps, error.clone()),
            // Skipped only after an earlier failure, which returned above; evaluate it
            // here all the same rather than trust that.
            None => {
                let mut m = machine(remaining);
                let result = m.eval_decl(program, i);
                match result {
                    Ok(value) => {
                        if let Some(slot) = values.get(i) {
                            let _ = slot.set(value);
                        }
                        (m.steps(), None)
                    }
                    Err(err) => (m.steps(), Some(err)),
                }
            }
        };
        let cancelled = matches!(
            error.as_ref().map(|e| &*e.kind),
            Some(EvalErrorKind::Cancelled)
        );
        if steps > remaining && !cancelled {
            // The canonical run ran out of budget inside this declaration.
            let mut m = machine(remaining);
            return Err(match m.eval_decl(program, i) {
                Err(err) => err,
                Ok(_) => EvalError::new(
                    EvalErrorKind::BudgetExhausted {
                        max: limits.max_steps,
                    },
                    program.file,
                    decl.span,
                ),
            });
        }
        if let Some(err) = error {
            return Err(err);
        }
        total += steps;
        decl_steps.push(steps);
        if let (Some(name), DeclKind::Value { .. }) = (&decl.name, &decl.kind) {
            match values.get(i).and_then(|v| v.get()) {
                Some(value) => globals.push((name.clone(), value.clone())),
                None => {
                    return Err(EvalError::new(
                        EvalErrorKind::Internal {
                            message: format!("declaration {i} has no value"),
                        },
                        program.file,
                        decl.span,
                    ))
                }
            }
        }
    }
    let mut m = machine(limits.max_steps.saturating_sub(total));
    let body = m.eval_body(program)?;
    decl_steps.push(m.steps());
    Ok(Evaluated {
        globals,
        body,
        steps: total + m.steps(),
        decl_steps,
    })
}
