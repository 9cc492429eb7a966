//! The persistent module cache (`--cache`): the session caches' entries of one module,
//! stored by the host between runs.
//!
//! A module's *module key* (`modules::module_keys`: its path, file id, text and its
//! imports' module keys, transitively) names one entry: [`entry_name`] hashes it with the
//! engine's version and [`FORMAT_VERSION`], so an entry can only ever be read back by the
//! run of the same engine on the same module with the same imports. The entry holds what
//! the session caches keyed by that module's let keys: the schemes of its pure lets
//! (checked without diagnostics and elaboration, see `check::infer_let`) and its lets'
//! plain-data values with their steps (see `eval::ValueCache`). A warm run puts them in
//! the session's caches before checking, where the ordinary cache paths find them: equal
//! keys mean equal results, so the output is the uncached run's. When the module's check
//! was clean, the entry holds its checked results instead of the schemes ([`checked`]):
//! the run then does not check the module at all.
//!
//! The bytes are `MAGIC`, a checksum of the rest (the fixed-seed content hasher), then a
//! postcard payload. Types and values are written as flat postfix node lists, built and
//! read with explicit stacks, so that no input (a deep value, or a file that is anything
//! at all) can exhaust the stack; decoding fails, never panics, on any byte string.
//! Nothing here does I/O: the host reads and writes through [`ModuleStore`].

pub mod checked;

use std::hash::{Hash, Hasher};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::keys::{key_hasher, Key};
use super::Caches;
use crate::eval::value::{Ctor, Record};
use crate::eval::Value;
use crate::syntax::ast::Name;
use crate::types::ty::{Pred, SType, Scheme, TyId};

/// Bumped whenever the stored layout or the meaning of a key changes.
pub const FORMAT_VERSION: u32 = 2;

/// The engine's version, part of every entry's name and header.
pub const ENGINE_VERSION: &str = env!("CARGO_PKG_VERSION");

const MAGIC: &[u8; 8] = b"LIGMOD\0\x01";

/// A value (or type) of more nodes than this is not stored: values may share parts, and
/// written out as a tree such a value could be exponentially bigger than its memory.
const MAX_NODES: usize = 1 << 20;

/// Where the host keeps entries (the CLI: files in its cache directory). Reads of a
/// missing or unreadable entry answer `None`; writes may fail silently (the cache is an
/// optimisation) but must never leave a partial entry where a reader finds it.
pub trait ModuleStore: Send + Sync {
    fn read(&self, name: &str) -> Option<Vec<u8>>;
    fn write(&self, name: &str, bytes: &[u8]);
}

/// The name of the entry of the module with module key `module_key`.
pub fn entry_name(module_key: Key) -> String {
    let mut h = key_hasher();
    (
        "ligature-module-entry",
        FORMAT_VERSION,
        ENGINE_VERSION,
        module_key,
    )
        .hash(&mut h);
    format!("{:016x}{:016x}", module_key, h.finish())
}

/// What a module's entry holds.
#[derive(Debug, Default)]
pub struct Entry {
    pub schemes: Vec<(Key, Arc<Scheme>)>,
    pub values: Vec<(Key, Value, u64)>,
    /// Whether the run that wrote it evaluated the module (a `typecheck` has no values).
    pub evaluated: bool,
    /// The module's checked results, when its check was clean ([`checked`]).
    pub check: Option<checked::StoredCheck>,
}

/// An entry's payload; `C` is the stored check (borrowed when writing). Texts are
/// borrowed from the bytes read (a warm run decodes thousands of strings), and written as
/// postcard writes a `String`.
#[derive(Serialize, Deserialize)]
struct Payload<'a, C> {
    engine: &'a str,
    format: u32,
    module_key: Key,
    evaluated: bool,
    schemes: Vec<SchemeDto>,
    #[serde(borrow)]
    values: Vec<ValueDto<'a>>,
    check: Option<C>,
}

#[derive(Serialize, Deserialize)]
struct SchemeDto {
    key: Key,
    n_gen: u32,
    /// Each constraint's class and number of arguments; the arguments are the first
    /// types of `types`, in order, then the scheme's type.
    constraints: Vec<(String, u32)>,
    types: Vec<TypeNode>,
}

#[derive(Debug, Serialize, Deserialize)]
enum TypeNode {
    Gen(u32),
    Free(u32),
    Rigid(String),
    /// A constructor and its number of arguments (the types before it).
    Con(String, u32),
    Fun,
    /// Field names (one type each, before it) and whether a row variable follows them.
    Record(Vec<String>, bool),
    Error,
}

#[derive(Serialize, Deserialize)]
struct ValueDto<'a> {
    key: Key,
    steps: u64,
    #[serde(borrow)]
    nodes: Vec<ValueNode<'a>>,
}

#[derive(Serialize, Deserialize)]
enum ValueNode<'a> {
    Unit,
    Bool(bool),
    Int(i64),
    /// The bits of the float, so that it comes back exactly.
    Float(u64),
    Str(&'a str),
    List(u32),
    Record(#[serde(borrow)] Vec<&'a str>),
    Ctor(&'a str, bool),
}

/// The bytes of `entry` for the module of `module_key`. Values or schemes too big to
/// write out are left out (the next run computes them).
pub fn encode(module_key: Key, entry: &Entry) -> Vec<u8> {
    let payload = Payload {
        engine: ENGINE_VERSION,
        format: FORMAT_VERSION,
        module_key,
        evaluated: entry.evaluated,
        // A module whose check is stored is not checked, so its lets' schemes would only
        // cost the reading (were its check not usable, it is checked without them).
        schemes: match entry.check {
            Some(_) => Vec::new(),
            None => entry
                .schemes
                .iter()
                .filter_map(|(key, scheme)| encode_scheme(*key, scheme))
                .collect(),
        },
        values: entry
            .values
            .iter()
            .filter_map(|(key, value, steps)| {
                Some(ValueDto {
                    key: *key,
                    steps: *steps,
                    nodes: value_nodes(value)?,
                })
            })
            .collect(),
        check: entry.check.as_ref(),
    };
    framed(&postcard::to_allocvec(&payload).unwrap_or_default())
}

/// The entry in `bytes`, when they are one this engine wrote for `module_key`; `None` for
/// anything else (truncated, altered, another version's, another module's).
pub fn decode(module_key: Key, bytes: &[u8]) -> Option<Entry> {
    let payload: Payload<checked::StoredCheck> = postcard::from_bytes(unframed(bytes)?).ok()?;
    if payload.engine != ENGINE_VERSION
        || payload.format != FORMAT_VERSION
        || payload.module_key != module_key
    {
        return None;
    }
    let mut entry = Entry {
        evaluated: payload.evaluated,
        check: payload.check,
        ..Entry::default()
    };
    for dto in payload.schemes {
        entry.schemes.push((dto.key, Arc::new(decode_scheme(dto)?)));
    }
    for dto in payload.values {
        entry
            .values
            .push((dto.key, decode_value(dto.nodes)?, dto.steps));
    }
    Some(entry)
}

/// The name of the document entry of a run: the rendered output of an entry module of
/// module key `module_key` (which covers every module it imports, transitively) for a
/// request of fingerprint `request` (format, field, limits).
pub fn document_name(module_key: Key, request: Key) -> String {
    let mut h = key_hasher();
    (
        "ligature-document-entry",
        FORMAT_VERSION,
        ENGINE_VERSION,
        module_key,
        request,
    )
        .hash(&mut h);
    format!("d{:016x}", h.finish())
}

#[derive(Serialize, Deserialize)]
struct DocumentPayload {
    engine: String,
    format: u32,
    name: String,
    steps: u64,
    text: String,
}

/// The bytes of the document entry `name`: a run's output text and its steps.
pub fn encode_document(name: &str, steps: u64, text: &str) -> Vec<u8> {
    let payload = DocumentPayload {
        engine: ENGINE_VERSION.to_string(),
        format: FORMAT_VERSION,
        name: name.to_string(),
        steps,
        text: text.to_string(),
    };
    framed(&postcard::to_allocvec(&payload).unwrap_or_default())
}

/// The steps and text of document entry `name` in `bytes`, when they are one this engine
/// wrote under that name.
pub fn decode_document(name: &str, bytes: &[u8]) -> Option<(u64, String)> {
    let payload: DocumentPayload = postcard::from_bytes(unframed(bytes)?).ok()?;
    (payload.engine == ENGINE_VERSION && payload.format == FORMAT_VERSION && payload.name == name)
        .then_some((payload.steps, payload.text))
}

/// `MAGIC`, the checksum of `body`, `body`.
fn framed(body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len() + 16);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&checksum(body).to_le_bytes());
    out.extend_from_slice(body);
    out
}

/// The body of framed `bytes` whose checksum holds.
fn unframed(bytes: &[u8]) -> Option<&[u8]> {
    let rest = bytes.strip_prefix(MAGIC.as_slice())?;
    let (sum, body) = rest.split_first_chunk::<8>()?;
    (u64::from_le_bytes(*sum) == checksum(body)).then_some(body)
}

/// The length of `text`'s header: its `module` and `import` statements with the comments
/// and blanks around them, up to the first other declaration. A scan, not a parse: a
/// document entry is looked up from the imports the header names (`api`), and a header
/// this cuts wrongly only names another graph, whose key has no entry.
pub fn header_len(text: &str) -> usize {
    let bytes = text.as_bytes();
    let mut at = 0;
    let mut cut = 0;
    loop {
        while bytes.get(at).is_some_and(u8::is_ascii_whitespace) {
            at += 1;
        }
        let rest = bytes.get(at..).unwrap_or_default();
        if rest.starts_with(b"//") {
            at += rest.iter().position(|b| *b == b'\n').unwrap_or(rest.len());
            continue;
        }
        if rest.starts_with(b"/*") {
            let end = rest.windows(2).skip(2).position(|w| w == b"*/");
            at += end.map_or(rest.len(), |end| end + 4);
            continue;
        }
        let keyword = |word: &[u8]| {
            rest.starts_with(word)
                && !rest
                    .get(word.len())
                    .is_some_and(|b| b.is_ascii_alphanumeric() || *b == b'_')
        };
        if !(keyword(b"import") || keyword(b"module")) {
            return cut;
        }
        // To the statement's `;`, outside string literals.
        let mut in_string = false;
        let mut escaped = false;
        let mut end = None;
        for (i, b) in rest.iter().enumerate() {
            match (in_string, escaped, *b) {
                (true, true, _) => escaped = false,
                (true, false, b'\\') => escaped = true,
                (true, false, b'"') => in_string = false,
                (false, _, b'"') => in_string = true,
                (false, _, b';') => {
                    end = Some(i + 1);
                    break;
                }
                _ => {}
            }
        }
        let Some(end) = end else {
            return cut;
        };
        at += end;
        cut = at;
    }
}

fn checksum(bytes: &[u8]) -> u64 {
    let mut h = key_hasher();
    bytes.hash(&mut h);
    h.finish()
}

/// Puts `entry`'s schemes and values in `caches` (the let keys are the same as this run's
/// by construction: the entry's name covers everything they hash).
pub fn fill(caches: &Caches, entry: Entry) {
    for (key, scheme) in entry.schemes {
        caches.schemes.insert(key, scheme);
    }
    for (key, value, steps) in entry.values {
        caches.values.insert(key, (value, steps));
    }
}

/// What `caches` hold for the lets of `keys`: the entry of their module after a run,
/// with its checked results `check`.
pub fn collect(
    caches: &Caches,
    keys: &[Option<Key>],
    evaluated: bool,
    check: Option<checked::StoredCheck>,
) -> Entry {
    let mut entry = Entry {
        evaluated,
        check,
        ..Entry::default()
    };
    for key in keys.iter().flatten() {
        if let Some(scheme) = caches.schemes.peek(key) {
            entry.schemes.push((*key, scheme));
        }
        if let Some((value, steps)) = caches.values.peek(key) {
            entry.values.push((*key, value, steps));
        }
    }
    entry
}

fn encode_scheme(key: Key, scheme: &Scheme) -> Option<SchemeDto> {
    let mut types = Vec::new();
    let mut constraints = Vec::with_capacity(scheme.constraints.len());
    for pred in &scheme.constraints {
        constraints.push((pred.class.to_string(), pred.args.len() as u32));
        for arg in &pred.args {
            type_nodes(arg, &mut types)?;
        }
    }
    type_nodes(&scheme.ty, &mut types)?;
    Some(SchemeDto {
        key,
        n_gen: scheme.n_gen,
        constraints,
        types,
    })
}

/// Appends `ty`'s nodes in postfix order (children first, in order). A depth-first walk
/// that visits the last child first gives the reverse of that order.
fn type_nodes(ty: &SType, out: &mut Vec<TypeNode>) -> Option<()> {
    let start = out.len();
    let mut work = vec![ty];
    while let Some(ty) = work.pop() {
        if out.len() - start > MAX_NODES {
            return None;
        }
        let node = match ty {
            SType::Gen(n) => TypeNode::Gen(*n),
            SType::Free(id) => TypeNode::Free(id.0),
            SType::Rigid(name) => TypeNode::Rigid(name.to_string()),
            SType::Con(name, args) => {
                work.extend(args.iter());
                TypeNode::Con(name.to_string(), args.len() as u32)
            }
            SType::Fun(a, b) => {
                work.push(a);
                work.push(b);
                TypeNode::Fun
            }
            SType::Record(fields, rest) => {
                work.extend(fields.iter().map(|(_, ty)| ty));
                if let Some(rest) = rest {
                    work.push(rest);
                }
                TypeNode::Record(
                    fields.iter().map(|(name, _)| name.to_string()).collect(),
                    rest.is_some(),
                )
            }
            SType::Error => TypeNode::Error,
        };
        out.push(node);
    }
    out.get_mut(start..)?.reverse();
    Some(())
}

/// The last `n` items of `stack`, in order.
fn pop_n<T>(stack: &mut Vec<T>, n: u32) -> Option<Vec<T>> {
    let at = stack.len().checked_sub(n as usize)?;
    Some(stack.split_off(at))
}

fn decode_scheme(dto: SchemeDto) -> Option<Scheme> {
    let mut stack = decode_types(&dto.types)?;
    let ty = stack.pop()?;
    let mut args = stack.into_iter();
    let mut constraints = Vec::with_capacity(dto.constraints.len());
    for (class, n) in dto.constraints {
        let args: Vec<SType> = args.by_ref().take(n as usize).collect();
        if args.len() != n as usize {
            return None;
        }
        constraints.push(Pred {
            class: Name::from(class),
            args,
        });
    }
    if args.next().is_some() {
        return None;
    }
    Some(Scheme {
        n_gen: dto.n_gen,
        constraints,
        ty,
    })
}

/// The types whose postfix nodes `nodes` are, in order.
fn decode_types(nodes: &[TypeNode]) -> Option<Vec<SType>> {
    let mut stack: Vec<SType> = Vec::new();
    for node in nodes {
        let ty = match node {
            TypeNode::Gen(n) => SType::Gen(*n),
            TypeNode::Free(n) => SType::Free(TyId(*n)),
            TypeNode::Rigid(name) => SType::Rigid(Name::from(name.as_str())),
            TypeNode::Con(name, n) => SType::Con(Name::from(name.as_str()), pop_n(&mut stack, *n)?),
            TypeNode::Fun => {
                let b = stack.pop()?;
                let a = stack.pop()?;
                SType::Fun(Box::new(a), Box::new(b))
            }
            TypeNode::Record(names, has_rest) => {
                let rest = if *has_rest {
                    Some(Box::new(stack.pop()?))
                } else {
                    None
                };
                let tys = pop_n(&mut stack, u32::try_from(names.len()).ok()?)?;
                let fields = names
                    .iter()
                    .map(|it| Name::from(it.as_str()))
                    .zip(tys)
                    .collect();
                SType::Record(fields, rest)
            }
            TypeNode::Error => SType::Error,
        };
        stack.push(ty);
    }
    Some(stack)
}

/// `value`'s nodes in postfix order, or `None` when it is not plain data or too big.
fn value_nodes(value: &Value) -> Option<Vec<ValueNode<'_>>> {
    let mut out = Vec::new();
    let mut work = vec![value];
    while let Some(value) = work.pop() {
        if out.len() > MAX_NODES {
            return None;
        }
        let node = match value {
            Value::Unit => ValueNode::Unit,
            Value::Bool(b) => ValueNode::Bool(*b),
            Value::Int(n) => ValueNode::Int(*n),
            Value::Float(x) => ValueNode::Float(x.to_bits()),
            Value::Str(s) => ValueNode::Str(s),
            Value::List(items) => {
                work.extend(items.iter());
                ValueNode::List(u32::try_from(items.len()).ok()?)
            }
            Value::Record(record) => {
                work.extend(record.values.iter());
                ValueNode::Record(record.names.iter().map(|it| it.as_str()).collect())
            }
            Value::Ctor(ctor) => {
                if let Some(payload) = &ctor.payload {
                    work.push(payload);
                }
                ValueNode::Ctor(&ctor.name, ctor.payload.is_some())
            }
            Value::Func(_) | Value::Dict(_) => return None,
        };
        out.push(node);
    }
    out.reverse();
    Some(out)
}

fn decode_value(nodes: Vec<ValueNode<'_>>) -> Option<Value> {
    let mut stack: Vec<Value> = Vec::new();
    for node in nodes {
        let value = match node {
            ValueNode::Unit => Value::Unit,
            ValueNode::Bool(b) => Value::Bool(b),
            ValueNode::Int(n) => Value::Int(n),
            ValueNode::Float(bits) => Value::Float(f64::from_bits(bits)),
            ValueNode::Str(s) => Value::Str(Arc::from(s)),
            ValueNode::List(n) => Value::List(Arc::new(pop_n(&mut stack, n)?)),
            ValueNode::Record(names) => {
                let values = pop_n(&mut stack, u32::try_from(names.len()).ok()?)?;
                let names: Arc<[Name]> = names.into_iter().map(Name::from).collect();
                Value::Record(Arc::new(Record { names, values }))
            }
            ValueNode::Ctor(name, has_payload) => {
                let payload = if has_payload {
                    Some(stack.pop()?)
                } else {
                    None
                };
                Value::Ctor(Arc::new(Ctor {
                    name: Name::from(name),
                    payload,
                }))
            }
        };
        stack.push(value);
    }
    let value = stack.pop()?;
    stack.is_empty().then_some(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Entry {
        let record = Value::Record(Arc::new(Record {
            names: Arc::from(vec![Name::from("a"), Name::from("b")]),
            values: vec![
                Value::Int(1),
                Value::List(Arc::new(vec![
                    Value::Float(0.1),
                    Value::Str(Arc::from("x")),
                ])),
            ],
        }));
        let ctor = Value::Ctor(Arc::new(Ctor {
            name: Name::from("Some"),
            payload: Some(record),
        }));
        let scheme = Scheme {
            n_gen: 1,
            constraints: vec![Pred {
                class: Name::from("Show"),
                args: vec![SType::Gen(0)],
            }],
            ty: SType::Fun(
                Box::new(SType::Gen(0)),
                Box::new(SType::Record(
                    vec![(Name::from("a"), SType::Con(Name::from("Int"), vec![]))],
                    Some(Box::new(SType::Gen(0))),
                )),
            ),
        };
        Entry {
            schemes: vec![(7, Arc::new(scheme))],
            values: vec![(9, ctor, 12)],
            evaluated: true,
            check: None,
        }
    }

    #[test]
    fn an_entry_comes_back_as_written() {
        let bytes = encode(42, &sample());
        let back = decode(42, &bytes).expect("a fresh entry decodes");
        assert_eq!(back.schemes.len(), 1);
        assert_eq!(back.schemes[0].1, sample().schemes[0].1);
        assert_eq!(
            format!("{:?}", back.values),
            format!("{:?}", sample().values)
        );
        assert!(decode(43, &bytes).is_none(), "another module's entry");
    }

    #[test]
    fn any_change_to_the_bytes_is_refused_without_panicking() {
        let bytes = encode(42, &sample());
        for cut in 0..bytes.len() {
            assert!(decode(42, &bytes[..cut]).is_none());
        }
        for at in 0..bytes.len() {
            for bit in 0..8 {
                let mut flipped = bytes.clone();
                flipped[at] ^= 1 << bit;
                assert!(decode(42, &flipped).is_none());
            }
        }
    }

    #[test]
    fn a_header_is_its_module_and_import_statements() {
        let text =
            "// c\nmodule M;\nimport \"./a;b\" as a; /* x; */ import std.list;\nlet x = 1;\n";
        assert_eq!(
            &text[..header_len(text)],
            "// c\nmodule M;\nimport \"./a;b\" as a; /* x; */ import std.list;"
        );
        assert_eq!(header_len("let x = 1;"), 0);
        assert_eq!(header_len("importance;"), 0);
        assert_eq!(header_len("import \"./a\""), 0);
        assert_eq!(header_len("/* open"), 0);
    }

    #[test]
    fn a_document_comes_back_only_under_its_name() {
        let bytes = encode_document("d1", 5, "{}\n");
        assert_eq!(decode_document("d1", &bytes), Some((5, "{}\n".to_string())));
        assert_eq!(decode_document("d2", &bytes), None);
        assert_eq!(decode_document("d1", &bytes[..bytes.len() - 1]), None);
    }

    #[test]
    fn a_deep_value_is_written_and_read_without_recursion() {
        let mut value = Value::Unit;
        for _ in 0..200_000 {
            value = Value::List(Arc::new(vec![value]));
        }
        let nodes = value_nodes(&value).expect("plain data");
        let back = decode_value(nodes).expect("well formed");
        let mut depth = 0;
        let mut at = &back;
        while let Value::List(items) = at {
            depth += 1;
            at = &items[0];
        }
        assert_eq!(depth, 200_000);
        // Neither value is dropped recursively by the test's own stack.
        std::mem::forget(back);
        std::mem::forget(value);
    }
}
