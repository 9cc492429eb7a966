//! JSON rendering (section 11.4): two-space pretty printing, final newline.
//!
//! A host that renders the same records again and again (a session re-evaluating an edited
//! file) may pass [`Fragments`]: the text of a record at a given depth, once rendered, is
//! taken from it instead of being written again.

use std::cell::RefCell;
use std::fmt::Write;
use std::sync::{Arc, OnceLock};

use crate::eval::error::EvalErrorKind;
use crate::eval::export::{write_float, ExportLimits};
use crate::eval::machine::Splitter;
use crate::eval::value::{Record, Value};
use crate::syntax::ast::Name;

/// Rendered records that a host keeps between renderings. A fragment is exactly the text
/// [`render`] writes for the record at that depth (under the same limits), so using one
/// changes nothing in the output, nor in the errors: a record's text is followed by the
/// size check that ends every record, and a record that rendered once at a depth cannot
/// exceed the depth limit there.
pub trait Fragments: Sync {
    /// The key of `record`'s text at `depth`, if the host keeps it.
    fn key(&self, record: &Arc<Record>, depth: u32) -> Option<u64>;
    /// Appends the text of `key` to `out` if the host has it.
    fn get(&self, key: u64, out: &mut String) -> bool;
    fn put(&self, key: u64, text: &str);

    /// About how long the rendered text will be, when the host knows (to size the output
    /// once instead of growing it).
    fn size_hint(&self) -> usize {
        0
    }
}

/// Renders `v` as JSON.
pub fn render(v: &Value, limits: &ExportLimits) -> Result<String, EvalErrorKind> {
    render_with(v, limits, None)
}

/// Renders `v` as JSON, taking the text of records from `fragments` where it has them and
/// giving it the ones it keeps but lacks.
pub fn render_with(
    v: &Value,
    limits: &ExportLimits,
    fragments: Option<&dyn Fragments>,
) -> Result<String, EvalErrorKind> {
    let mut out = String::with_capacity(size_hint(v, limits, fragments, None));
    Writer::new(limits, fragments, None).write_value(v, &mut out, 0)?;
    out.push('\n');
    limits.check_size(&out)?;
    Ok(fit(out))
}

/// The capacity to start the output with: the host's hint, else [`estimate`] with an
/// eighth more for escapes, within the output limit.
/// With `split`, the lists it would split are left out (see [`estimate_from`]).
fn size_hint(
    v: &Value,
    limits: &ExportLimits,
    fragments: Option<&dyn Fragments>,
    split: Option<&dyn Splitter>,
) -> usize {
    let max = max_output(limits);
    let hint = match fragments.map_or(0, |f| f.size_hint()) {
        0 => {
            let cap = max.min(ESTIMATE_CAP);
            let walk = (&limits.interrupt, limits.max_depth);
            let guess = estimate_from(vec![(v, 0)], walk, cap, split);
            // Only for limits of the default's order: a host's limit of gigabytes would
            // reserve that much (more than the threaded wasm build's whole memory).
            if guess >= cap && cap < max && max <= RESERVE_UP_TO {
                // Bigger than the walk counts: room up to the output limit and an eighth
                // (the element that crosses it) at once (limits up to 256 MiB). Address space,
                // touched only as it is written; growing by doubling held the old buffer
                // too, and the element crossing an exactly reserved limit doubled it again
                // (a document stopped at 256 MiB peaked at 540 MB).
                return max.saturating_add(max / 8);
            }
            // The final newline, and an eighth for escapes.
            guess.saturating_add(1 + guess / 8)
        }
        hint => hint,
    };
    hint.min(max)
}

fn max_output(limits: &ExportLimits) -> usize {
    usize::try_from(limits.max_output()).unwrap_or(usize::MAX)
}

/// Output limits up to this are reserved whole when the estimate stops counting.
const RESERVE_UP_TO: usize = 256 << 20;

/// Past this many bytes [`estimate`] stops counting: the output then grows as it goes.
/// The walk polls nothing, so the cap also bounds its time (about 60 ms).
const ESTIMATE_CAP: usize = 64 << 20;

/// The length of `v`'s text, exact but for escapes (not counted) and floats (counted at 24
/// bytes), counted up to `cap` and `max_depth`: a walk without writing, so that the output
/// is allocated once instead of doubling as it grows. Each doubling touches fresh pages
/// and copies what was written: for the 24 MB of services-100000, 64 MB touched and 32 MB
/// copied, where page faults cost more than the rendering itself on this machine. Every
/// part adds at least one byte, so the cap also bounds the walk (values that share parts
/// can be exponentially bigger than their memory).
#[cfg(test)]
fn estimate(v: &Value, max_depth: u32, cap: usize) -> usize {
    // The final newline.
    let none = crate::interrupt::Interrupt::default();
    estimate_from(vec![(v, 0)], (&none, max_depth), cap, None)
        .saturating_add(1)
        .min(cap)
}

/// [`estimate`] of the elements `xs` of a list at `depth` with their indentation and
/// separators: a chunk of a split list.
fn estimate_elements(xs: &[Value], depth: u32, limits: &ExportLimits, cap: usize) -> usize {
    let items = xs.iter().map(|x| (x, depth as usize)).collect();
    // Each element's indentation, ",\n" between them.
    let n = xs.len();
    let framing = n.saturating_mul(2 * depth as usize) + n.saturating_sub(1) * 2;
    let walk = (&limits.interrupt, limits.max_depth);
    estimate_from(items, walk, cap, None).saturating_add(framing)
}

/// The estimate of the values on `stack` (each with its depth), to `max_depth`, polling
/// `interrupt` at each part (stopped, the estimate so far: the rendering that follows
/// stops at its first tick). Lists that `split` would split count without their
/// elements: their chunks are estimated and reserved when they are joined.
fn estimate_from<'a>(
    mut stack: Vec<(&'a Value, usize)>,
    (interrupt, max_depth): (&crate::interrupt::Interrupt, u32),
    cap: usize,
    split: Option<&dyn Splitter>,
) -> usize {
    let mut total: usize = 0;
    let mut poll = crate::interrupt::Poll::new(interrupt);
    while let Some((v, depth)) = stack.pop() {
        if total >= cap {
            return cap;
        }
        if poll.stop() {
            return total.min(cap);
        }
        // The closing bracket's line, and each part's indentation, ",\n" between parts.
        let open_close = 2 + 1 + 2 * depth + 1;
        let inner = 2 * (depth + 1);
        if let Some(len) = scalar_len(v) {
            total += len;
            continue;
        }
        // The parts of a list or record: scalars counted here, the rest on the stack (most
        // parts are scalars, and a push and a pop each cost more than counting them).
        let mut parts = |xs: &'a [Value]| {
            if depth < max_depth as usize {
                for x in xs {
                    match scalar_len(x) {
                        Some(len) => total += len,
                        None => stack.push((x, depth + 1)),
                    }
                }
            }
        };
        let own = match v {
            Value::List(xs) if split.is_some_and(|s| s.worth_it(xs.len())) => open_close,
            Value::List(xs) => {
                parts(xs);
                open_close + xs.len() * (inner + 2) - 2
            }
            Value::Record(r) => {
                parts(&r.values);
                let keys: usize = r.names.iter().map(|k| k.len() + 4).sum();
                open_close + keys + r.values.len() * (inner + 2) - 2
            }
            Value::Ctor(c) => match &c.payload {
                None => c.name.len() + 2,
                Some(p) => {
                    if depth < max_depth as usize {
                        stack.push((p, depth + 1));
                    }
                    open_close + inner + c.name.len() + 4
                }
            },
            _ => 0,
        };
        total += own;
    }
    total.min(cap)
}

/// The length of a value's text when it has no parts (floats counted at 24 bytes).
fn scalar_len(v: &Value) -> Option<usize> {
    let len = match v {
        Value::Unit => 4,
        Value::Bool(b) => 4 + usize::from(!*b),
        Value::Int(n) => {
            let digits = n.unsigned_abs().checked_ilog10().unwrap_or(0) as usize + 1;
            digits + usize::from(*n < 0)
        }
        Value::Float(_) => 24,
        Value::Str(s) => s.len() + 2,
        Value::List(xs) if xs.is_empty() => 2,
        Value::Record(r) if r.values.is_empty() => 2,
        Value::Ctor(c) if c.payload.is_none() => c.name.len() + 2,
        Value::Func(_) | Value::Dict(_) => 0,
        Value::List(_) | Value::Record(_) | Value::Ctor(_) => return None,
    };
    Some(len)
}

/// The output without the room a hint that was too large left (a document smaller than the
/// last one, or one binding of it).
fn fit(mut out: String) -> String {
    if out.capacity() > 2 * out.len() + 4096 {
        out.shrink_to_fit();
    }
    out
}

/// [`render_with`], the elements of big lists in chunks that `splitter` may run on several
/// threads; the chunks are joined in order, so the text is [`render`]'s. Any error (rare: a
/// function in the document, a limit) renders again sequentially, so the error reported is
/// exactly the one the sequential order meets first.
pub fn render_split(
    v: &Value,
    limits: &ExportLimits,
    fragments: Option<&dyn Fragments>,
    splitter: Option<&dyn Splitter>,
) -> Result<String, EvalErrorKind> {
    if splitter.is_some() {
        let mut out = String::with_capacity(size_hint(v, limits, fragments, splitter));
        let writer = Writer::new(limits, fragments, splitter);
        match writer.write_value(v, &mut out, 0) {
            Ok(()) => {
                out.push('\n');
                if limits.check_size(&out).is_ok() {
                    return Ok(fit(out));
                }
            }
            // Met in document order (the text before it was all written): the sequential
            // rendering would stop there too, after writing as much again.
            Err(err @ EvalErrorKind::OutputTooLarge { .. }) => return Err(err),
            Err(_) => {}
        }
    }
    render_with(v, limits, fragments)
}

/// True when `b` must be escaped inside a JSON string.
fn needs_escape(b: u8) -> bool {
    b < 0x20 || b == b'"' || b == b'\\'
}

pub fn write_string(out: &mut String, s: &str) {
    let bytes = s.as_bytes();
    if !bytes.iter().any(|&b| needs_escape(b)) {
        out.reserve(s.len() + 2);
        out.push('"');
        out.push_str(s);
        out.push('"');
        return;
    }
    out.push('"');
    let mut start = 0;
    for (k, &b) in bytes.iter().enumerate() {
        let esc: Option<&str> = match b {
            b'"' => Some("\\\""),
            b'\\' => Some("\\\\"),
            b'\n' => Some("\\n"),
            b'\r' => Some("\\r"),
            b'\t' => Some("\\t"),
            0x08 => Some("\\b"),
            0x0c => Some("\\f"),
            0..=0x1f => None,
            _ => continue,
        };
        out.push_str(s.get(start..k).unwrap_or(""));
        match esc {
            Some(e) => out.push_str(e),
            None => {
                let _ = write!(out, "\\u{:04x}", b);
            }
        }
        start = k + 1;
    }
    out.push_str(s.get(start..).unwrap_or(""));
    out.push('"');
}

/// Two spaces per level.
fn indent(out: &mut String, depth: u32) {
    let n = depth as usize * 2;
    match BREAK_AND_SPACES.get(2..2 + n) {
        Some(spaces) => out.push_str(spaces),
        None => out.extend(std::iter::repeat_n(' ', n)),
    }
}

/// `",\n"` and 64 spaces: a separator and the next line's indentation in one push.
const BREAK_AND_SPACES: &str =
    ",\n                                                                ";

/// The separator between two parts (`",\n"`) and the indentation of the next.
fn separate(out: &mut String, depth: u32) {
    match BREAK_AND_SPACES.get(..2 + depth as usize * 2) {
        Some(text) => out.push_str(text),
        None => {
            out.push_str(",\n");
            indent(out, depth);
        }
    }
}

/// Writes `n` in decimal without going through `fmt`.
pub(crate) fn write_int(out: &mut String, n: i64) {
    out.push_str(itoa::Buffer::new().format(n));
}

/// The written keys (`"name": `) of the record shapes met last: records of one literal share
/// their names, so a document of many records of a few shapes writes each key once.
#[derive(Default)]
struct KeyTexts {
    /// By the address of the shape's names (alive while the value is written), most recent
    /// last; a handful at most.
    shapes: Vec<(*const Name, Arc<[String]>)>,
}

impl KeyTexts {
    const SHAPES: usize = 8;

    fn of(&mut self, names: &Arc<[Name]>) -> Arc<[String]> {
        let at = names.as_ptr();
        if let Some((_, texts)) = self.shapes.iter().rev().find(|(p, _)| *p == at) {
            return texts.clone();
        }
        let texts: Arc<[String]> = names
            .iter()
            .map(|name| {
                let mut text = String::with_capacity(name.len() + 4);
                write_string(&mut text, name);
                text.push_str(": ");
                text
            })
            .collect();
        if self.shapes.len() == Self::SHAPES {
            self.shapes.remove(0);
        }
        self.shapes.push((at, texts.clone()));
        texts
    }
}

struct Writer<'a> {
    limits: &'a ExportLimits,
    fragments: Option<&'a dyn Fragments>,
    /// Splits big lists across threads (only at the top of a parallel rendering).
    splitter: Option<&'a dyn Splitter>,
    keys: RefCell<KeyTexts>,
}

impl<'a> Writer<'a> {
    fn new(
        limits: &'a ExportLimits,
        fragments: Option<&'a dyn Fragments>,
        splitter: Option<&'a dyn Splitter>,
    ) -> Writer<'a> {
        Writer {
            limits,
            fragments,
            splitter,
            keys: RefCell::default(),
        }
    }

    /// Checks the native stack every few levels (`par::deep`), then `write_value_here`.
    fn write_value(&self, v: &Value, out: &mut String, depth: u32) -> Result<(), EvalErrorKind> {
        crate::par::deep(depth, || self.write_value_here(v, out, depth))
    }

    fn write_value_here(
        &self,
        v: &Value,
        out: &mut String,
        depth: u32,
    ) -> Result<(), EvalErrorKind> {
        let limits = self.limits;
        limits.check_depth(depth)?;
        match v {
            Value::Unit => out.push_str("null"),
            Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Value::Int(n) => write_int(out, *n),
            Value::Float(x) => write_float(out, *x),
            Value::Str(s) => {
                write_string(out, s);
                limits.check_size(out)?;
            }
            Value::List(xs) => {
                if xs.is_empty() {
                    out.push_str("[]");
                    return Ok(());
                }
                out.push_str("[\n");
                match self.splitter {
                    Some(splitter) if splitter.worth_it(xs.len()) => {
                        self.write_elements_split(xs, out, depth + 1, splitter)?;
                    }
                    _ => self.write_elements(xs, out, depth + 1)?,
                }
                out.push('\n');
                indent(out, depth);
                out.push(']');
            }
            Value::Record(r) => {
                if r.values.is_empty() {
                    out.push_str("{}");
                    return Ok(());
                }
                let key = self.fragments.and_then(|f| Some((f, f.key(r, depth)?)));
                if let Some((fragments, key)) = key {
                    if fragments.get(key, out) {
                        limits.check_size(out)?;
                        return Ok(());
                    }
                }
                let start = out.len();
                self.write_record(r, out, depth)?;
                if let Some((fragments, key)) = key {
                    fragments.put(key, out.get(start..).unwrap_or(""));
                }
            }
            Value::Ctor(c) => match &c.payload {
                None => write_string(out, &c.name),
                Some(p) => {
                    out.push_str("{\n");
                    indent(out, depth + 1);
                    write_string(out, &c.name);
                    out.push_str(": ");
                    self.write_value(p, out, depth + 1)?;
                    out.push('\n');
                    indent(out, depth);
                    out.push('}');
                }
            },
            Value::Func(_) | Value::Dict(_) => {
                return Err(EvalErrorKind::NotExportable {
                    reason: "a function cannot be rendered as JSON".to_string(),
                })
            }
        }
        Ok(())
    }

    /// Writes `xs` as list elements at `depth`, separated as in a list.
    fn write_elements(
        &self,
        xs: &[Value],
        out: &mut String,
        depth: u32,
    ) -> Result<(), EvalErrorKind> {
        for (k, x) in xs.iter().enumerate() {
            if k > 0 {
                separate(out, depth);
            } else {
                indent(out, depth);
            }
            self.write_value(x, out, depth)?;
            self.limits.tick(out)?;
        }
        Ok(())
    }

    /// The elements of a big list in chunks on `splitter`, joined in order. The chunks
    /// are estimated first (on the pool), the output reserved once; then they are rendered
    /// in waves of as many as run at once, each wave's texts joined and freed before the
    /// next: rendering all chunks before joining them held the whole list's text twice
    /// (services-100000: 24 MB more at the peak).
    fn write_elements_split(
        &self,
        xs: &[Value],
        out: &mut String,
        depth: u32,
        splitter: &dyn Splitter,
    ) -> Result<(), EvalErrorKind> {
        let chunk = splitter.chunk_len(xs.len()).max(1);
        let chunks: Vec<&[Value]> = xs.chunks(chunk).collect();
        let (limits, fragments) = (self.limits, self.fragments);
        let cap = max_output(limits).min(ESTIMATE_CAP);
        let estimates: Vec<OnceLock<usize>> = chunks.iter().map(|_| OnceLock::new()).collect();
        splitter.for_each(chunks.len(), &|c| {
            if let (Some(xs), Some(slot)) = (chunks.get(c), estimates.get(c)) {
                let guess = estimate_elements(xs, depth, limits, cap);
                let _ = slot.set(guess.saturating_add(guess / 8).min(cap));
            }
        });
        let estimates: Vec<usize> = estimates
            .into_iter()
            .map(|it| it.into_inner().unwrap_or(0))
            .collect();
        let joined = estimates
            .iter()
            .fold(2 * chunks.len(), |sum, it| sum.saturating_add(*it))
            .min(cap);
        // Keeping the room the document's estimate left for what follows the list.
        out.reserve(joined.saturating_add(out.capacity() - out.len()));
        let wave = splitter.at_once().max(1);
        for first in (0..chunks.len()).step_by(wave) {
            let n = wave.min(chunks.len() - first);
            // Each chunk of a wave may write its share of what the output limit leaves:
            // chunks written at once under the whole limit each held up to all of it (a
            // document far over the limit peaked at twice the limit). A chunk over its share
            // fails the split rendering, which the caller then renders sequentially, to the
            // exact outcome.
            let left = max_output(limits).saturating_sub(out.len());
            let chunk_limits = ExportLimits {
                max_output_bytes: Some((left / n) as u64),
                ..limits.clone()
            };
            let chunk_limits = &chunk_limits;
            // A chunk's error comes with the length it had written.
            type Written = Result<String, (EvalErrorKind, usize)>;
            let texts: Vec<OnceLock<Written>> = (0..n).map(|_| OnceLock::new()).collect();
            splitter.for_each(n, &|k| {
                let c = first + k;
                if let (Some(xs), Some(slot)) = (chunks.get(c), texts.get(k)) {
                    // A writer per chunk: its keys are its own; its text allocated once.
                    let mut text = String::with_capacity(estimates.get(c).copied().unwrap_or(0));
                    let written = Writer::new(chunk_limits, fragments, None)
                        .write_elements(xs, &mut text, depth);
                    let len = text.len();
                    let _ = slot.set(written.map(|()| text).map_err(|err| (err, len)));
                }
            });
            for (k, slot) in texts.into_iter().enumerate() {
                if first + k > 0 {
                    out.push_str(",\n");
                }
                match slot.into_inner() {
                    Some(Ok(text)) => out.push_str(&text),
                    // Over its share, and the text before it with the chunk's written
                    // part over the whole limit: the sequential rendering meets the limit
                    // there too, with nothing else before it (everything before was written
                    // without error, in order), so the outcome is known.
                    Some(Err((EvalErrorKind::OutputTooLarge { .. }, len)))
                        if out.len().saturating_add(len) as u64 > self.limits.max_output() =>
                    {
                        return Err(EvalErrorKind::OutputTooLarge {
                            max: self.limits.max_output(),
                        });
                    }
                    // Over its share only: the caller renders sequentially.
                    Some(Err((EvalErrorKind::OutputTooLarge { .. }, _))) => {
                        return Err(EvalErrorKind::Internal {
                            message: "a list chunk over its share of the output limit".into(),
                        })
                    }
                    Some(Err((err, _))) => return Err(err),
                    None => {
                        return Err(EvalErrorKind::Internal {
                            message: "a list chunk was not rendered".into(),
                        })
                    }
                }
                self.limits.check_size(out)?;
            }
        }
        Ok(())
    }

    /// A non-empty record, ending with the size check.
    fn write_record(&self, r: &Record, out: &mut String, depth: u32) -> Result<(), EvalErrorKind> {
        out.push_str("{\n");
        let texts = self.keys.borrow_mut().of(&r.names);
        for (k, (key, x)) in texts.iter().zip(r.values.iter()).enumerate() {
            if k > 0 {
                separate(out, depth + 1);
            } else {
                indent(out, depth + 1);
            }
            out.push_str(key);
            self.write_value(x, out, depth + 1)?;
            self.limits.tick(out)?;
        }
        out.push('\n');
        indent(out, depth);
        out.push('}');
        self.limits.check_size(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A host that expects a large document and keeps nothing.
    struct Expecting(usize);

    impl Fragments for Expecting {
        fn key(&self, _: &Arc<Record>, _: u32) -> Option<u64> {
            None
        }
        fn get(&self, _: u64, _: &mut String) -> bool {
            false
        }
        fn put(&self, _: u64, _: &str) {}
        fn size_hint(&self) -> usize {
            self.0
        }
    }

    #[test]
    fn the_estimate_is_the_length_of_text_without_escapes_or_floats() {
        let service = |i: i64| {
            Value::record(vec![
                ("name", Value::str(&format!("svc-{i}"))),
                ("port", Value::Int(8000 + i)),
                ("delta", Value::Int(-i * 1_000_003)),
                ("on", Value::Bool(i % 2 == 0)),
                ("none", Value::Unit),
                (
                    "tags",
                    Value::list(vec![Value::str("a"), Value::list(vec![])]),
                ),
                ("meta", Value::record(vec![])),
                ("mode", Value::ctor("Fast", None)),
                (
                    "wrapped",
                    Value::ctor("Some", Some(Value::record(vec![("x", Value::Int(0))]))),
                ),
            ])
        };
        let doc = Value::record(vec![
            ("services", Value::list((0..40).map(service).collect())),
            ("count", Value::Int(i64::MIN)),
        ]);
        for v in [doc, Value::Int(7), Value::list(vec![]), service(3)] {
            let text = render(&v, &ExportLimits::default()).expect("renders");
            assert_eq!(estimate(&v, 100, usize::MAX), text.len(), "{text}");
        }
        // A chunk of a split list, at any depth: its elements with their framing.
        let xs: Vec<Value> = (0..7).map(service).collect();
        let limits = ExportLimits {
            max_depth: 100,
            ..ExportLimits::default()
        };
        for depth in [0, 1, 3] {
            for chunk in [&xs[..], &xs[2..3], &xs[..0]] {
                let mut text = String::new();
                Writer::new(&limits, None, None)
                    .write_elements(chunk, &mut text, depth)
                    .expect("renders");
                let guess = estimate_elements(chunk, depth, &limits, usize::MAX);
                assert_eq!(guess, text.len(), "{text}");
            }
        }
    }

    #[test]
    fn keys_written_once_per_shape_read_as_serde_json_writes_them() {
        // Twelve shapes (more than the cache holds), interleaved and nested, keys that need
        // escapes: the text must be serde_json's pretty text of the same document.
        let key = |s: usize, f: usize| match f {
            0 => format!("plain{s}"),
            1 => format!("quote\"{s}"),
            2 => format!("line\nbreak\\{s}"),
            3 => format!("ü{s}\u{1}"),
            _ => format!("inner{s}"),
        };
        let names: Vec<Arc<[Name]>> = (0..12)
            .map(|s| (0..5).map(|f| Name::new(key(s, f))).collect())
            .collect();
        // A record of shape `s` (its last field holds `inner`), as a value and as JSON.
        let record = |s: usize, i: i64, inner: (Value, serde_json::Value)| {
            let mut values: Vec<Value> = (0..4).map(|_| Value::Int(i)).collect();
            values.push(inner.0);
            let mut json = serde_json::Map::new();
            for f in 0..4 {
                json.insert(key(s, f), serde_json::Value::from(i));
            }
            json.insert(key(s, 4), inner.1);
            let value = Value::Record(Arc::new(Record {
                names: names[s].clone(),
                values,
            }));
            (value, serde_json::Value::Object(json))
        };
        let (items, json): (Vec<Value>, Vec<serde_json::Value>) = (0..60)
            .map(|i: usize| {
                let leaf = (Value::Unit, serde_json::Value::Null);
                let inner = record((i * 5 + 1) % 12, -(i as i64), leaf);
                record((i * 7) % 12, i as i64, inner)
            })
            .unzip();
        let text = render(&Value::list(items), &ExportLimits::default()).expect("renders");
        let expected = serde_json::to_string_pretty(&json).expect("serialises") + "\n";
        assert!(
            text == expected,
            "--- got\n{text}\n--- serde_json\n{expected}"
        );
    }

    #[test]
    fn the_estimate_stops_at_its_cap_on_values_that_share_parts() {
        // 2^80 parts as text, a few hundred bytes in memory.
        let mut v = Value::Int(1);
        for _ in 0..80 {
            v = Value::record(vec![("l", v.clone()), ("r", v)]);
        }
        assert_eq!(estimate(&v, 1_000, 1 << 20), 1 << 20);
        let small = ExportLimits {
            max_output_bytes: Some(1 << 16),
            ..ExportLimits::default()
        };
        assert!(render(&v, &small).is_err());
    }

    #[test]
    fn a_size_hint_changes_neither_the_text_nor_what_the_output_holds_on_to() {
        let value = Value::list(vec![Value::Int(1), Value::str("two")]);
        let limits = ExportLimits::default();
        let plain = render(&value, &limits).expect("renders");
        let hinted = render_with(&value, &limits, Some(&Expecting(8 << 20))).expect("renders");
        assert_eq!(plain, hinted);
        assert!(hinted.capacity() < 8192, "capacity {}", hinted.capacity());
        // The hint never goes past the output limit, and the limit still applies.
        let small = ExportLimits {
            max_output_bytes: Some(4),
            ..ExportLimits::default()
        };
        assert!(render_with(&value, &small, Some(&Expecting(usize::MAX))).is_err());
    }
}
