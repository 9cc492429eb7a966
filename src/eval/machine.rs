//! The evaluation machine: strict, call-by-value, left to right.
//!
//! Each function call gets a window of `n_slots` values on one shared value stack (no
//! allocation per call); captures are read from the running closure. Tail positions of
//! `let`, `if` and `match` loop instead of recursing, so long chains use no native stack.
//! Every node costs one step; the [`Interrupt`] (the host's cancel flag and deadline) is
//! polled every 4096 steps.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

use crate::eval::builtins;
use crate::eval::error::{EvalError, EvalErrorKind};
use crate::eval::lower::{
    CheckKind, Core, CoreCase, DeclKind, LambdaDef, Pat, Plan, Program, VarRef,
};
use crate::eval::ops;
use crate::eval::value::{Ctor, Func, Record, Value};
use crate::source::{FileId, FileSpan, Span};
use crate::syntax::ast::{Name, UnOp};

pub use crate::interrupt::{Deadline, Interrupt};

/// Evaluation limits (LANGUAGE.md section 12).
#[derive(Clone, Debug)]
pub struct Limits {
    pub max_steps: u64,
    pub max_depth: u32,
    pub max_output_bytes: Option<u64>,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_steps: 1_000_000_000,
            max_depth: 10_000,
            max_output_bytes: None,
        }
    }
}

/// The result of a sequential run.
#[derive(Debug)]
pub struct Evaluated {
    /// Value bindings in declaration order.
    pub globals: Vec<(Name, Value)>,
    pub body: Option<Value>,
    /// Total steps of the run.
    pub steps: u64,
    /// Steps spent by each declaration (index = declaration index), then the body last.
    pub decl_steps: Vec<u64>,
}

/// A host that runs the elements of a big list built-in on several threads (the engine).
/// Evaluation itself stays sequential code: it only asks.
pub trait Splitter: Sync {
    /// Whether a list of `len` elements should be split.
    fn worth_it(&self, len: usize) -> bool;
    /// Elements per chunk for a list of `len`.
    fn chunk_len(&self, len: usize) -> usize;
    /// Calls `job(c)` for every chunk `c` in `0..n`, possibly in parallel, and returns when
    /// all are done.
    fn for_each(&self, n: usize, job: &(dyn Fn(usize) + Sync));
    /// How many chunks may run at once (the workers).
    fn at_once(&self) -> usize {
        1
    }
}

/// Read access to already evaluated top-level declarations.
pub trait Globals {
    /// The value of declaration `idx` of the module being evaluated.
    fn global(&self, idx: u32) -> Option<Value>;

    /// The value of declaration `idx` of another (imported) module.
    fn imported(&self, _module: FileId, _idx: u32) -> Option<Value> {
        None
    }
}

impl Globals for Vec<OnceLock<Value>> {
    fn global(&self, idx: u32) -> Option<Value> {
        self.get(idx as usize).and_then(|it| it.get()).cloned()
    }
}

impl Globals for Vec<Option<Value>> {
    fn global(&self, idx: u32) -> Option<Value> {
        self.get(idx as usize).and_then(|it| it.clone())
    }
}

#[derive(Clone, Copy)]
struct Frame<'a> {
    base: usize,
    captures: &'a [Value],
    self_fn: Option<&'a Value>,
}

pub struct Machine<'g> {
    /// The file of the code running now: the module's own, or an imported closure's.
    pub(crate) file: FileId,
    /// The module being evaluated (where declaration-level errors point).
    home: FileId,
    globals: &'g (dyn Globals + Sync),
    /// Where big `map`/`filter`/`all`/`any` may run their elements (the engine's pool).
    splitter: Option<&'g dyn Splitter>,
    pub(crate) limits: Limits,
    interrupt: Interrupt,
    pub(crate) steps: u64,
    /// Steps allowed in this machine (the remaining budget).
    pub(crate) step_limit: u64,
    stack: Vec<Value>,
    calls: Vec<FileSpan>,
    /// The declaration being evaluated: the location of errors raised outside any call
    /// whose node has no span of its own.
    decl_span: Span,
    /// The path buffer of [`Machine::validate`], kept between checks (validating a
    /// document runs thousands of them).
    path: String,
    /// When evaluating declaration `.1` beside others: the lowest declaration known to have
    /// failed (`usize::MAX` while none has). A failure before this declaration decides the
    /// run's outcome, so this one stops (R3008, never reported) instead of running on.
    watch: Option<(&'g AtomicUsize, usize)>,
}

type R<T> = Result<T, EvalError>;

impl<'g> Machine<'g> {
    /// A machine that may spend `budget` steps.
    pub fn new(
        file: FileId,
        globals: &'g (dyn Globals + Sync),
        limits: Limits,
        budget: u64,
        interrupt: Interrupt,
    ) -> Machine<'g> {
        Machine {
            file,
            home: file,
            globals,
            splitter: None,
            limits,
            interrupt,
            steps: 0,
            step_limit: budget,
            stack: Vec::new(),
            calls: Vec::new(),
            decl_span: Span::default(),
            path: String::new(),
            watch: None,
        }
    }

    /// Stops this machine once `first_failure` (the lowest failed declaration of its run)
    /// falls below the declaration it evaluates (see [`Machine::evaluating`]).
    pub fn watching(mut self, first_failure: &'g AtomicUsize) -> Machine<'g> {
        // Declaration 0 until told otherwise: nothing comes before it, so a machine that is
        // never told (the canonical replay's) is never stopped.
        self.watch = Some((first_failure, 0));
        self
    }

    /// The declaration this machine evaluates next, for [`Machine::watching`].
    pub fn evaluating(&mut self, decl: usize) {
        if let Some((_, at)) = &mut self.watch {
            *at = decl;
        }
    }

    /// Whether an earlier declaration of the run has failed.
    fn superseded(&self) -> bool {
        self.watch
            .is_some_and(|(first, decl)| first.load(Ordering::Relaxed) < decl)
    }

    pub fn steps(&self) -> u64 {
        self.steps
    }

    /// Makes this machine like a new one that may spend `budget` steps, keeping its
    /// stacks' memory (evaluating many small declarations in a row).
    pub fn restart(&mut self, budget: u64) {
        self.file = self.home;
        self.steps = 0;
        self.step_limit = budget;
        self.stack.clear();
        self.calls.clear();
        self.decl_span = Span::default();
    }

    /// Lets big list built-ins hand their elements to `splitter`.
    pub fn with_splitter(mut self, splitter: Option<&'g dyn Splitter>) -> Machine<'g> {
        self.splitter = splitter;
        self
    }

    /// `f` applied to every element of `xs` on the splitter's threads, with exactly the
    /// outcome of the sequential loop of a list built-in (one step per element, then the
    /// call), or `None` when the sequential loop must run instead: the list is small, no
    /// splitter, or some element failed (an error, the step budget or the depth limit),
    /// so that the sequential loop reports exactly the error the canonical order meets.
    ///
    /// With `stop_at = Some(b)` (`all`/`any`), each chunk stops at its first element whose
    /// result is `Bool(b)`, and chunks after the first such one do not count: the result
    /// is cut after that element.
    pub(crate) fn par_apply(
        &mut self,
        f: &Value,
        xs: &[Value],
        span: Span,
        stop_at: Option<bool>,
    ) -> Option<Vec<Value>> {
        let splitter = self.splitter?;
        if !splitter.worth_it(xs.len()) {
            return None;
        }
        let chunk_len = splitter.chunk_len(xs.len()).max(1);
        let chunks: Vec<&[Value]> = xs.chunks(chunk_len).collect();
        let remaining = self.step_limit.saturating_sub(self.steps);
        let depth_left = self
            .limits
            .max_depth
            .saturating_sub(self.calls.len() as u32);
        let limits = Limits {
            max_depth: depth_left,
            ..self.limits.clone()
        };
        let (file, globals, interrupt) = (self.file, self.globals, self.interrupt.clone());
        let watch = self.watch;
        type ChunkResult = Option<(Vec<Value>, u64, bool)>;
        let results: Vec<OnceLock<ChunkResult>> = chunks.iter().map(|_| OnceLock::new()).collect();
        splitter.for_each(chunks.len(), &|c| {
            let Some(chunk) = chunks.get(c) else { return };
            let mut sub = Machine::new(file, globals, limits.clone(), remaining, interrupt.clone());
            sub.watch = watch;
            let mut out = Vec::with_capacity(chunk.len());
            let mut decided = false;
            let mut failed = false;
            for x in chunk.iter() {
                let r = sub
                    .charge(1, span)
                    .and_then(|()| sub.apply_to(f, [x.clone()], span));
                match r {
                    Ok(v) => {
                        let stop =
                            matches!((&v, stop_at), (Value::Bool(b), Some(want)) if *b == want);
                        out.push(v);
                        if stop {
                            decided = true;
                            break;
                        }
                    }
                    Err(_) => {
                        failed = true;
                        break;
                    }
                }
            }
            if let Some(slot) = results.get(c) {
                let _ = slot.set((!failed).then_some((out, sub.steps, decided)));
            }
        });
        let mut total = 0u64;
        let mut all = Vec::with_capacity(xs.len());
        for slot in results {
            let (out, steps, decided) = slot.into_inner().flatten()?;
            total = total.saturating_add(steps);
            all.extend(out);
            if decided {
                break;
            }
        }
        if total > remaining {
            return None;
        }
        self.steps += total;
        Some(all)
    }

    #[cold]
    #[inline(never)]
    pub(crate) fn err(&self, kind: EvalErrorKind, span: Span) -> EvalError {
        let at = if span == Span::default() {
            self.calls
                .last()
                .copied()
                .unwrap_or(self.decl_span.in_file(self.home))
        } else {
            span.in_file(self.file)
        };
        let mut err = EvalError::new(kind, at.file, at.span);
        let start = self.calls.len().saturating_sub(8);
        err.calls = self.calls.get(start..).unwrap_or(&[]).to_vec();
        err
    }

    #[cold]
    #[inline(never)]
    pub(crate) fn internal(&self, message: &str, span: Span) -> EvalError {
        self.err(
            EvalErrorKind::Internal {
                message: message.to_string(),
            },
            span,
        )
    }

    /// Charges `n` steps.
    #[inline]
    /// Steps this machine may still spend.
    pub(crate) fn remaining_steps(&self) -> u64 {
        self.step_limit.saturating_sub(self.steps)
    }

    pub(crate) fn interrupt(&self) -> &Interrupt {
        &self.interrupt
    }

    /// Spends `n` steps; every 4,096 steps, polls the host's interrupt and the run's
    /// earlier failures. The hot path stays small enough to inline into the evaluator's
    /// loop (with the polls inline it was not: +4.8% instructions on services-100000).
    #[inline]
    pub(crate) fn charge(&mut self, n: u64, span: Span) -> R<()> {
        let before = self.steps;
        self.steps = self.steps.saturating_add(n);
        if self.steps > self.step_limit {
            return Err(self.exhausted(span));
        }
        if (before >> 12) != (self.steps >> 12) {
            return self.poll(span);
        }
        Ok(())
    }

    #[cold]
    #[inline(never)]
    fn exhausted(&self, span: Span) -> EvalError {
        self.err(
            EvalErrorKind::BudgetExhausted {
                max: self.limits.max_steps,
            },
            span,
        )
    }

    #[cold]
    #[inline(never)]
    fn poll(&self, span: Span) -> R<()> {
        if self.interrupt.fired() || self.superseded() {
            return Err(self.err(EvalErrorKind::Cancelled, span));
        }
        Ok(())
    }

    /// Evaluates declaration `idx` of `program`.
    pub fn eval_decl(&mut self, program: &Program, idx: usize) -> R<Value> {
        let Some(decl) = program.decls.get(idx) else {
            return Err(self.internal("declaration index", Span::default()));
        };
        self.decl_span = decl.span;
        match &decl.kind {
            DeclKind::Value {
                value,
                n_slots,
                check,
                ann_span,
            } => {
                let v = self.eval_root(value, *n_slots)?;
                if let Some(plan) = check {
                    let name = decl.name.as_deref().unwrap_or("");
                    self.validate(plan, &v, *ann_span, name)?;
                }
                Ok(v)
            }
            DeclKind::Instance { value, n_slots } => self.eval_root(value, *n_slots),
            DeclKind::None => Ok(Value::Unit),
        }
    }

    /// Evaluates the trailing expression.
    pub fn eval_body(&mut self, program: &Program) -> R<Option<Value>> {
        match &program.body {
            Some((core, n_slots)) => {
                self.decl_span = program.body_span;
                Ok(Some(self.eval_root(core, *n_slots)?))
            }
            None => Ok(None),
        }
    }

    fn eval_root(&mut self, core: &Core, n_slots: u32) -> R<Value> {
        let base = self.stack.len();
        self.stack.resize(base + n_slots as usize, Value::Unit);
        let frame = Frame {
            base,
            captures: &[],
            self_fn: None,
        };
        let res = self.eval(core, frame);
        self.stack.truncate(base);
        res
    }

    fn set_slot(&mut self, frame: Frame<'_>, slot: u32, value: Value) {
        if let Some(it) = self.stack.get_mut(frame.base + slot as usize) {
            *it = value;
        }
    }

    fn read_var(&self, frame: Frame<'_>, var: VarRef) -> Option<Value> {
        match var {
            VarRef::Local(slot) => self.stack.get(frame.base + slot as usize).cloned(),
            VarRef::Capture(k) => frame.captures.get(k as usize).cloned(),
            VarRef::SelfFn => frame.self_fn.cloned(),
        }
    }

    fn eval(&mut self, core: &Core, frame: Frame<'_>) -> R<Value> {
        let mut core = core;
        loop {
            self.charge(1, Span::default())?;
            match core {
                Core::Lit(v) => return Ok(v.clone()),
                Core::Var(var) => {
                    return self
                        .read_var(frame, *var)
                        .ok_or_else(|| self.internal("unbound slot", Span::default()))
                }
                Core::Global(idx) => {
                    return self
                        .globals
                        .global(*idx)
                        .ok_or_else(|| self.internal("global not evaluated", Span::default()))
                }
                Core::Imported { module, index } => {
                    return self.globals.imported(*module, *index).ok_or_else(|| {
                        self.internal("imported value not evaluated", Span::default())
                    })
                }
                Core::Lambda(def) => return self.eval_lambda(def, frame),
                Core::App { func, args, span } => return self.eval_app(func, args, *span, frame),
                Core::Let {
                    slot,
                    value,
                    check,
                    body,
                    span,
                } => {
                    let v = self.eval(value, frame)?;
                    if let Some(plan) = check {
                        self.validate_in(plan, &v, *span, "", Some(frame))?;
                    }
                    self.set_slot(frame, *slot, v);
                    core = body;
                }
                Core::If {
                    cond,
                    then_branch,
                    else_branch,
                } => {
                    core = if self.eval_bool(cond, frame)? {
                        then_branch
                    } else {
                        else_branch
                    };
                }
                Core::Match {
                    scrutinee,
                    cases,
                    span,
                } => {
                    let v = self.eval(scrutinee, frame)?;
                    core = self.select_case(&v, cases, frame, *span)?;
                }
                Core::Binary { op, lhs, rhs, span } => {
                    use crate::syntax::ast::BinOp;
                    match op {
                        BinOp::And => {
                            if !self.eval_bool(lhs, frame)? {
                                return Ok(Value::Bool(false));
                            }
                            core = rhs;
                            continue;
                        }
                        BinOp::Or => {
                            if self.eval_bool(lhs, frame)? {
                                return Ok(Value::Bool(true));
                            }
                            core = rhs;
                            continue;
                        }
                        _ => {}
                    }
                    let a = self.eval(lhs, frame)?;
                    let b = self.eval(rhs, frame)?;
                    return self.binary(*op, &a, &b, *span);
                }
                Core::Unary { op, operand, span } => {
                    let v = self.eval(operand, frame)?;
                    return match (op, v) {
                        (UnOp::Not, Value::Bool(b)) => Ok(Value::Bool(!b)),
                        (UnOp::Neg, Value::Int(n)) => n
                            .checked_neg()
                            .map(Value::Int)
                            .ok_or_else(|| self.err(EvalErrorKind::Overflow { op: "-" }, *span)),
                        (UnOp::Neg, Value::Float(x)) => Ok(Value::Float(-x)),
                        _ => Err(self.internal("bad operand of a unary operator", *span)),
                    };
                }
                Core::Field { expr, name } => {
                    let v = self.eval(expr, frame)?;
                    return match &v {
                        Value::Record(r) => r
                            .get(name)
                            .cloned()
                            .ok_or_else(|| self.internal("missing field", Span::default())),
                        _ => Err(self.internal("field access on a non-record", Span::default())),
                    };
                }
                Core::Record { names, values } => return self.eval_record(names, values, frame),
                Core::Spread {
                    base,
                    names,
                    values,
                } => return self.eval_spread(base, names, values, frame),
                Core::List(items) => return self.eval_list(items, frame),
                Core::Ann { expr, plan, span } => {
                    let Some(plan) = plan else {
                        core = expr;
                        continue;
                    };
                    let v = self.eval(expr, frame)?;
                    self.validate_in(plan, &v, *span, "", Some(frame))?;
                    return Ok(v);
                }
                Core::MakeDict(parts) => {
                    let mut vals = Vec::with_capacity(parts.len());
                    for p in parts {
                        vals.push(self.eval(p, frame)?);
                    }
                    return Ok(Value::Dict(Arc::new(vals)));
                }
                Core::DictGet { dict, index } => {
                    let d = self.eval(dict, frame)?;
                    return match &d {
                        Value::Dict(items) => items
                            .get(*index as usize)
                            .cloned()
                            .ok_or_else(|| self.internal("dictionary slot", Span::default())),
                        _ => Err(self.internal("not a dictionary", Span::default())),
                    };
                }
            }
        }
    }

    #[inline(never)]
    fn eval_lambda(&mut self, def: &Arc<LambdaDef>, frame: Frame<'_>) -> R<Value> {
        let mut captures = Vec::with_capacity(def.captures.len());
        for var in &def.captures {
            captures.push(
                self.read_var(frame, *var)
                    .ok_or_else(|| self.internal("capture", def.span))?,
            );
        }
        Ok(Value::Func(Arc::new(Func::Closure {
            def: def.clone(),
            captures: captures.into_boxed_slice(),
        })))
    }

    #[inline(never)]
    fn eval_spread(
        &mut self,
        base: &Core,
        names: &[Name],
        values: &[Core],
        frame: Frame<'_>,
    ) -> R<Value> {
        let b = self.eval(base, frame)?;
        let Value::Record(r) = b else {
            return Err(self.internal("spread of a non-record", Span::default()));
        };
        let mut new_names: Vec<Name> = r.names.to_vec();
        let mut vals = r.values.clone();
        for (name, v) in names.iter().zip(values) {
            let v = self.eval(v, frame)?;
            match new_names.iter().position(|n| n == name) {
                Some(k) => {
                    if let Some(slot) = vals.get_mut(k) {
                        *slot = v;
                    }
                }
                None => {
                    new_names.push(name.clone());
                    vals.push(v);
                }
            }
        }
        Ok(Value::Record(Arc::new(Record {
            names: new_names.into(),
            values: vals,
        })))
    }

    /// Application. `f a b` is `(f a) b`: the function is applied as soon as it has all the
    /// arguments it needs, before later arguments are evaluated (canonical order, 7.3).
    /// A closure applied to exactly its arity runs without an intermediate argument vector.
    #[inline(never)]
    fn eval_app(&mut self, func: &Core, args: &[Core], span: Span, frame: Frame<'_>) -> R<Value> {
        let f = self.eval(func, frame)?;
        if let Value::Func(fc) = &f {
            if let Func::Closure { def, captures } = &**fc {
                if def.arity as usize == args.len() && def.checks.iter().all(Option::is_none) {
                    let base = self.stack.len();
                    for arg in args {
                        match self.eval(arg, frame) {
                            Ok(v) => self.stack.push(v),
                            Err(e) => {
                                self.stack.truncate(base);
                                return Err(e);
                            }
                        }
                    }
                    if let Err(e) = self.enter(span) {
                        self.stack.truncate(base);
                        return Err(e);
                    }
                    self.stack
                        .resize(base + (def.n_slots as usize).max(args.len()), Value::Unit);
                    let frame = Frame {
                        base,
                        captures,
                        self_fn: Some(&f),
                    };
                    let caller = std::mem::replace(&mut self.file, def.file);
                    let out = crate::par::with_stack(|| self.eval(&def.body, frame));
                    self.file = caller;
                    self.stack.truncate(base);
                    self.calls.pop();
                    return out;
                }
            }
        }
        // A built-in applied to all its arguments (`length s`, `contains s "@"`): the
        // arguments in an array instead of a `Vec`, the same steps and errors as `apply`.
        if let Value::Func(fc) = &f {
            if let Func::Builtin(b) = &**fc {
                let n = args.len();
                if b.arity() == n && n <= 3 {
                    let mut vals = [Value::Unit, Value::Unit, Value::Unit];
                    for (slot, arg) in vals.iter_mut().zip(args) {
                        *slot = self.eval(arg, frame)?;
                    }
                    self.enter(span)?;
                    let res = builtins::call(self, *b, vals.get(..n).unwrap_or(&[]), span);
                    self.calls.pop();
                    return res;
                }
            }
        }
        self.eval_app_general(f, args, span, frame)
    }

    #[inline(never)]
    fn eval_app_general(
        &mut self,
        f: Value,
        args: &[Core],
        span: Span,
        frame: Frame<'_>,
    ) -> R<Value> {
        let mut f = f;
        let mut needed = needed_now(&f);
        let mut vals = Vec::with_capacity(args.len());
        for arg in args {
            vals.push(self.eval(arg, frame)?);
            if vals.len() == needed {
                f = self.apply(f, std::mem::take(&mut vals), span)?;
                needed = needed_now(&f);
            }
        }
        if vals.is_empty() {
            return Ok(f);
        }
        self.apply(f, vals, span)
    }

    #[inline(never)]
    fn eval_record(&mut self, names: &Arc<[Name]>, values: &[Core], frame: Frame<'_>) -> R<Value> {
        let mut vals = Vec::with_capacity(values.len());
        for v in values {
            vals.push(self.eval(v, frame)?);
        }
        Ok(Value::Record(Arc::new(Record {
            names: names.clone(),
            values: vals,
        })))
    }

    #[inline(never)]
    fn eval_list(&mut self, items: &[Core], frame: Frame<'_>) -> R<Value> {
        let mut vals = Vec::with_capacity(items.len());
        for it in items {
            vals.push(self.eval(it, frame)?);
        }
        Ok(Value::List(Arc::new(vals)))
    }

    #[inline(never)]
    fn eval_bool(&mut self, core: &Core, frame: Frame<'_>) -> R<bool> {
        match self.eval(core, frame)? {
            Value::Bool(b) => Ok(b),
            _ => Err(self.internal("condition is not a Bool", Span::default())),
        }
    }

    #[inline(never)]
    fn select_case<'c>(
        &mut self,
        v: &Value,
        cases: &'c [CoreCase],
        frame: Frame<'_>,
        span: Span,
    ) -> R<&'c Core> {
        for case in cases {
            self.charge(1, span)?;
            if self.match_pat(&case.pat, v, frame)? {
                match &case.guard {
                    Some(g) => {
                        if self.eval_bool(g, frame)? {
                            return Ok(&case.body);
                        }
                    }
                    None => return Ok(&case.body),
                }
            }
        }
        let text = crate::eval::export::text::render_short(v, self.limits.max_depth);
        Err(self.err(EvalErrorKind::MatchFailure { value: text }, span))
    }

    fn match_pat(&mut self, pat: &Pat, v: &Value, frame: Frame<'_>) -> R<bool> {
        Ok(match (pat, v) {
            (Pat::Wild, _) => true,
            (Pat::Bind(slot), _) => {
                self.set_slot(frame, *slot, v.clone());
                true
            }
            (Pat::Lit(lit), _) => ops::equal(self, lit, v, Span::default())?,
            (Pat::Ctor { name, payload }, Value::Ctor(c)) => {
                if &c.name != name {
                    return Ok(false);
                }
                match (payload, &c.payload) {
                    (Some(p), Some(inner)) => self.match_pat(p, inner, frame)?,
                    (None, _) => true,
                    (Some(_), None) => false,
                }
            }
            (Pat::Record(fields), Value::Record(r)) => {
                for (name, p) in fields {
                    let Some(fv) = r.get(name) else {
                        return Ok(false);
                    };
                    if !self.match_pat(p, fv, frame)? {
                        return Ok(false);
                    }
                }
                true
            }
            (Pat::List(items), Value::List(xs)) => {
                if items.len() != xs.len() {
                    return Ok(false);
                }
                for (p, x) in items.iter().zip(xs.iter()) {
                    if !self.match_pat(p, x, frame)? {
                        return Ok(false);
                    }
                }
                true
            }
            _ => false,
        })
    }

    #[inline(never)]
    fn binary(
        &mut self,
        op: crate::syntax::ast::BinOp,
        a: &Value,
        b: &Value,
        span: Span,
    ) -> R<Value> {
        use crate::syntax::ast::BinOp;
        match op {
            BinOp::Eq => Ok(Value::Bool(ops::equal(self, a, b, span)?)),
            BinOp::Ne => Ok(Value::Bool(!ops::equal(self, a, b, span)?)),
            BinOp::Concat => ops::concat(self, a, b, span),
            BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => {
                let ord = ops::compare(a, b)
                    .ok_or_else(|| self.internal("values are not ordered", span))?;
                Ok(Value::Bool(match op {
                    BinOp::Lt => ord.is_lt(),
                    BinOp::Le => ord.is_le(),
                    BinOp::Gt => ord.is_gt(),
                    _ => ord.is_ge(),
                }))
            }
            _ => ops::arith(op, a, b).map_err(|kind| self.err(kind, span)),
        }
    }

    /// Applies a function value to arguments.
    #[inline(never)]
    pub(crate) fn apply(&mut self, f: Value, args: Vec<Value>, span: Span) -> R<Value> {
        let mut f = f;
        let mut args = args;
        // How many leading arguments were already checked against the closure's parameter
        // annotations: a partial application checks the arguments it is given (§8.3 with
        // §5.2: `\x y -> e` is `\x -> \y -> e`, each parameter checked when its lambda is
        // applied), so they are not checked again when the last argument comes.
        let mut checked = 0;
        loop {
            let Value::Func(func) = &f else {
                if let Value::Dict(_) = f {
                    return Err(self.internal("a dictionary applied", span));
                }
                return Err(self.internal("applied a non-function", span));
            };
            // `func` borrows `f` (no reference count touched: in the threaded wasm build
            // every count is an atomic read-modify-write, and this is the hottest call).
            let arity = match &**func {
                Func::Closure { def, .. } => def.arity as usize,
                Func::Partial { head, args: done } => {
                    checked = done.len();
                    let mut all = done.clone();
                    all.extend(args);
                    args = all;
                    let head = head.clone();
                    f = head;
                    continue;
                }
                Func::Builtin(b) => b.arity(),
                Func::CtorFn(_) => 1,
            };
            if args.len() < arity {
                if let Func::Closure { def, captures } = &**func {
                    self.check_params(def, captures, &f, &args, checked, span)?;
                }
                return Ok(Value::Func(Arc::new(Func::Partial { head: f, args })));
            }
            let rest = args.split_off(arity);
            let result = match &**func {
                Func::Closure { def, captures } => {
                    self.call_closure(def, captures, &f, args, checked, span)?
                }
                Func::Builtin(b) => {
                    self.enter(span)?;
                    let res = builtins::call(self, *b, &args, span);
                    self.calls.pop();
                    res?
                }
                Func::CtorFn(name) => {
                    let payload = args.into_iter().next();
                    Value::Ctor(Arc::new(Ctor {
                        name: name.clone(),
                        payload,
                    }))
                }
                Func::Partial { .. } => return Err(self.internal("partial", span)),
            };
            if rest.is_empty() {
                return Ok(result);
            }
            f = result;
            args = rest;
            checked = 0;
        }
    }

    /// Checks `args[from..]` against the closure's parameter annotations, in order.
    /// The arguments are laid out as a call would lay them, so that a predicate reading
    /// the closure's captures or earlier parameters finds them in the frame.
    fn check_params(
        &mut self,
        def: &LambdaDef,
        captures: &[Value],
        self_fn: &Value,
        args: &[Value],
        from: usize,
        span: Span,
    ) -> R<()> {
        let base = self.stack.len();
        self.stack.extend(args.iter().cloned());
        self.stack
            .resize(base + (def.n_slots as usize).max(args.len()), Value::Unit);
        let frame = Frame {
            base,
            captures,
            self_fn: Some(self_fn),
        };
        let mut res = Ok(());
        for (k, arg) in args.iter().enumerate().skip(from) {
            if let Some(Some(plan)) = def.checks.get(k) {
                res = self.validate_in(plan, arg, span, "", Some(frame));
                if res.is_err() {
                    break;
                }
            }
        }
        self.stack.truncate(base);
        res
    }

    /// `apply` for the built-ins' loops (`map`, `fold`, …): a closure of exactly `N`
    /// parameters is called on `f` by reference, without cloning it or allocating the
    /// arguments.
    pub(crate) fn apply_to<const N: usize>(
        &mut self,
        f: &Value,
        args: [Value; N],
        span: Span,
    ) -> R<Value> {
        if let Value::Func(func) = f {
            if let Func::Closure { def, captures } = &**func {
                if def.arity as usize == N {
                    return self.call_closure(def, captures, f, args, 0, span);
                }
            }
        }
        self.apply(f.clone(), args.into(), span)
    }

    fn enter(&mut self, span: Span) -> R<()> {
        if self.calls.len() >= self.limits.max_depth as usize {
            return Err(self.err(
                EvalErrorKind::DepthExceeded {
                    max: self.limits.max_depth,
                },
                span,
            ));
        }
        self.calls.push(span.in_file(self.file));
        Ok(())
    }

    fn call_closure(
        &mut self,
        def: &Arc<LambdaDef>,
        captures: &[Value],
        self_fn: &Value,
        args: impl IntoIterator<Item = Value, IntoIter: ExactSizeIterator>,
        checked: usize,
        span: Span,
    ) -> R<Value> {
        self.enter(span)?;
        let caller = self.file;
        let base = self.stack.len();
        let args = args.into_iter();
        let n_args = args.len();
        self.stack.extend(args);
        self.stack
            .resize(base + (def.n_slots as usize).max(n_args), Value::Unit);
        let mut res = Ok(());
        // The checks run in the lambda's own frame: their predicates may read its
        // captures and earlier parameters.
        let frame = Frame {
            base,
            captures,
            self_fn: Some(self_fn),
        };
        for (k, check) in def.checks.iter().enumerate().skip(checked) {
            if let Some(plan) = check {
                let v = self.stack.get(base + k).cloned().unwrap_or(Value::Unit);
                if let Err(e) = self.validate_in(plan, &v, span, "", Some(frame)) {
                    res = Err(e);
                    break;
                }
            }
        }
        let out = match res {
            Ok(()) => {
                self.file = def.file;
                crate::par::with_stack(|| self.eval(&def.body, frame))
            }
            Err(e) => Err(e),
        };
        self.stack.truncate(base);
        self.calls.pop();
        self.file = caller;
        out
    }

    // ------------------------------------------------------------ validation

    /// The closure of an open predicate: its captures read from `frame`, where the check
    /// runs (lowering resolved them there).
    fn open_pred(&self, def: &Arc<LambdaDef>, frame: Option<Frame<'_>>, span: Span) -> R<Value> {
        let Some(frame) = frame else {
            return Err(self.internal("an open predicate checked outside a frame", span));
        };
        let mut captures = Vec::with_capacity(def.captures.len());
        for var in &def.captures {
            match self.read_var(frame, *var) {
                Some(v) => captures.push(v),
                None => return Err(self.internal("an open predicate's capture", span)),
            }
        }
        Ok(Value::Func(Arc::new(Func::Closure {
            def: def.clone(),
            captures: captures.into_boxed_slice(),
        })))
    }

    /// Validates `v` against `plan`; `site` is the annotation span, `root` names the value.
    #[inline(never)]
    pub(crate) fn validate(&mut self, plan: &Plan, v: &Value, site: Span, root: &str) -> R<()> {
        self.validate_in(plan, v, site, root, None)
    }

    /// [`Machine::validate`] in `frame`, where the plan's open predicates
    /// ([`CheckKind::Open`]) find the locals they use.
    fn validate_in(
        &mut self,
        plan: &Plan,
        v: &Value,
        site: Span,
        root: &str,
        frame: Option<Frame<'_>>,
    ) -> R<()> {
        // A check inside a predicate finds the buffer taken and starts a new one.
        let mut path = std::mem::take(&mut self.path);
        path.clear();
        path.push_str(root);
        let res = self.validate_at(plan, v, site, &mut path, 0, frame);
        self.path = path;
        res
    }

    /// Checks the native stack every few levels (`par::deep`), then `validate_at_here`.
    fn validate_at(
        &mut self,
        plan: &Plan,
        v: &Value,
        site: Span,
        path: &mut String,
        depth: u32,
        frame: Option<Frame<'_>>,
    ) -> R<()> {
        crate::par::deep(depth, || {
            self.validate_at_here(plan, v, site, path, depth, frame)
        })
    }

    fn validate_at_here(
        &mut self,
        plan: &Plan,
        v: &Value,
        site: Span,
        path: &mut String,
        depth: u32,
        frame: Option<Frame<'_>>,
    ) -> R<()> {
        if depth > self.limits.max_depth {
            return Err(self.err(
                EvalErrorKind::DepthExceeded {
                    max: self.limits.max_depth,
                },
                site,
            ));
        }
        match (plan, v) {
            (
                Plan::Refined {
                    type_name,
                    base,
                    items,
                },
                _,
            ) => {
                if let Some(base) = base {
                    self.validate_at(base, v, site, path, depth + 1, frame)?;
                }
                for item in items {
                    self.charge(1, site)?;
                    let ok = match &item.kind {
                        CheckKind::Regex(re) => match v {
                            Value::Str(s) => re.is_match(s),
                            _ => true,
                        },
                        CheckKind::Unlowered => {
                            return Err(self.internal("unlowered refinement", site))
                        }
                        CheckKind::Pred(_) | CheckKind::Open(_) => {
                            let opened;
                            let f = match &item.kind {
                                CheckKind::Open(def) => {
                                    opened = self.open_pred(def, frame, item.span)?;
                                    &opened
                                }
                                CheckKind::Pred(f) => f,
                                CheckKind::Regex(_) | CheckKind::Unlowered => {
                                    return Err(self.internal("regex", site))
                                }
                            };
                            match self.apply_to(f, [v.clone()], item.span) {
                                Ok(Value::Bool(b)) => b,
                                Ok(_) => false,
                                Err(inner) => {
                                    if matches!(
                                        *inner.kind,
                                        EvalErrorKind::BudgetExhausted { .. }
                                            | EvalErrorKind::Cancelled
                                    ) {
                                        return Err(inner);
                                    }
                                    return Err(self.err(
                                        EvalErrorKind::PredicateError {
                                            type_name: type_name.to_string(),
                                            inner: Box::new(inner),
                                        },
                                        site,
                                    ));
                                }
                            }
                        }
                    };
                    if !ok {
                        let value =
                            crate::eval::export::text::render_short(v, self.limits.max_depth);
                        return Err(self.err(
                            EvalErrorKind::ConstraintViolated {
                                type_name: type_name.to_string(),
                                item: item.text.clone(),
                                value,
                                path: path.clone(),
                                item_span: item.span.in_file(item.file),
                            },
                            site,
                        ));
                    }
                }
                Ok(())
            }
            (Plan::Record(fields), Value::Record(r)) => {
                for (name, p) in fields {
                    if let Some(fv) = r.get(name) {
                        let len = path.len();
                        if !path.is_empty() {
                            path.push('.');
                        }
                        path.push_str(name);
                        self.validate_at(p, fv, site, path, depth + 1, frame)?;
                        path.truncate(len);
                    }
                }
                Ok(())
            }
            (Plan::List(p), Value::List(xs)) => {
                for (k, x) in xs.iter().enumerate() {
                    let len = path.len();
                    path.push_str(&format!("[{k}]"));
                    self.validate_at(p, x, site, path, depth + 1, frame)?;
                    path.truncate(len);
                }
                Ok(())
            }
            (Plan::Knot(knot), _) => match knot.plan.get() {
                Some(plan) => self.validate_at(plan, v, site, path, depth, frame),
                None => Ok(()),
            },
            (Plan::Back(knot), _) => match knot.upgrade() {
                Some(knot) => match knot.plan.get() {
                    Some(plan) => self.validate_at(plan, v, site, path, depth, frame),
                    None => Ok(()),
                },
                None => Ok(()),
            },
            (Plan::Union(ctors), Value::Ctor(c)) => {
                for (name, p) in ctors {
                    if name == &c.name {
                        if let (Some(p), Some(payload)) = (p, &c.payload) {
                            let len = path.len();
                            path.push_str(&format!("({name})"));
                            self.validate_at(p, payload, site, path, depth + 1, frame)?;
                            path.truncate(len);
                        }
                    }
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }
}

/// How many arguments to evaluate before applying `f`: all it needs, except that a closure
/// with annotated parameters takes them one at a time, so each is checked before the next
/// argument is evaluated (the order of `\x -> \y -> e`, §5.2 and §7.3).
fn needed_now(f: &Value) -> usize {
    let mut head = f;
    while let Value::Func(func) = head {
        match &**func {
            Func::Partial { head: h, .. } => head = h,
            Func::Closure { def, .. } if def.checks.iter().any(Option::is_some) => return 1,
            _ => break,
        }
    }
    remaining_arity(f)
}

/// How many more arguments `f` takes before it runs (0 for a non-function).
fn remaining_arity(f: &Value) -> usize {
    match f {
        Value::Func(func) => match &**func {
            Func::Closure { def, .. } => def.arity as usize,
            Func::Partial { head, args } => remaining_arity(head).saturating_sub(args.len()),
            Func::Builtin(b) => b.arity(),
            Func::CtorFn(_) => 1,
        },
        _ => 0,
    }
}

/// Evaluates every declaration of `program` in order, then its body.
pub fn run(
    program: &Program,
    limits: &Limits,
    interrupt: Interrupt,
) -> Result<Evaluated, EvalError> {
    let values: Vec<OnceLock<Value>> = (0..program.decls.len()).map(|_| OnceLock::new()).collect();
    let mut machine = Machine::new(
        program.file,
        &values,
        limits.clone(),
        limits.max_steps,
        interrupt,
    );
    run_in_order(&mut machine, program, &values)
}

/// Evaluates every declaration of `program` in order on `machine`, each value into its
/// slot of `slots` (which the machine's globals read), then the body.
pub(crate) fn run_in_order(
    machine: &mut Machine<'_>,
    program: &Program,
    slots: &[OnceLock<Value>],
) -> Result<Evaluated, EvalError> {
    let mut out = Vec::new();
    let mut decl_steps = Vec::with_capacity(program.decls.len() + 1);
    for (idx, decl) in program.decls.iter().enumerate() {
        let before = machine.steps();
        let v = machine.eval_decl(program, idx)?;
        decl_steps.push(machine.steps() - before);
        if let (Some(name), DeclKind::Value { .. }) = (&decl.name, &decl.kind) {
            out.push((name.clone(), v.clone()));
        }
        if let Some(slot) = slots.get(idx) {
            let _ = slot.set(v);
        }
    }
    let before = machine.steps();
    let body = machine.eval_body(program)?;
    decl_steps.push(machine.steps() - before);
    Ok(Evaluated {
        globals: out,
        body,
        steps: machine.steps(),
        decl_steps,
    })
}
