//! Parsing a file again after a small edit, re-parsing only the declarations that changed.
//!
//! The text is cut into chunks at the starts of lines that begin with a declaration keyword
//! (`let`, `type`, `typeclass`, `instance`, `export`): the prefix before the first one
//! (header, imports, comments), then one chunk per such line up to the next. Each chunk is
//! parsed on its own, or taken from a [`ChunkCache`] by its exact text, with spans relative
//! to the chunk and expression ids from 0; the module is then assembled with every span
//! moved by the chunk's offset and every id by the number of ids before it.
//!
//! That is the tree a parse of the whole file gives when every chunk parses cleanly on its
//! own: a chunk that lexes and parses without a diagnostic ends between two tokens, after a
//! complete declaration, where the parser of the whole file is back at the top level in the
//! same state, and ids are handed out in the same order. So the assembled tree is used only
//! then: a prefix with nothing but a header and imports, chunks of declarations only (a
//! trailing expression only in the last), and not a single diagnostic anywhere. Otherwise
//! the whole file is parsed as usual, which is what the user sees while the file has an
//! error. `tests` compares both on every fixture.
//!
//! Cloning and moving 10,000 cached declarations costs about as much as the rest of the
//! assembly, and dropping the previous tree as much again; so the cache may also keep the
//! previous tree of a module ([`Previous`]), which the next parse of that module takes when
//! nobody else holds it: a declaration of a chunk that is still there is moved out of it
//! and moved by the difference of offsets and ids (often none), instead of being cloned.
//!
//! The common edit (as many chunks as before, one or a few of them changed) does not look
//! at the unchanged chunks at all ([`edit_in_place`]): the previous text is kept too, the
//! bytes both texts share at their start and end tell which chunks are unchanged, and the
//! previous tree is edited in place. A one-line edit of a 10,000-declaration file then
//! parses in a fifth of the time the chunk-by-chunk comparison took.

use std::sync::Arc;

use super::ast::{
    self, Decl, DeclKind, Expr, ExprId, ExprKind, Pattern, PatternKind, Type, TypeKind,
};
use super::{parse_until, Parsed};
use crate::diagnostic::Diagnostic;
use crate::hash::HashMap;
use crate::interrupt::{Interrupt, Poll};
use crate::source::{FileId, Span};

/// A chunk parsed on its own: its declarations and trailing expression, with spans from
/// the chunk's start and ids from 0.
#[derive(Debug)]
pub struct Chunk {
    /// The chunk's text (a hit must match it exactly).
    pub text: Arc<str>,
    pub decls: Vec<Decl>,
    pub body: Option<Expr>,
    pub n_exprs: u32,
}

/// Where parsed chunks are kept between parses, by their text.
pub trait ChunkCache {
    fn get(&self, text: &str) -> Option<Arc<Chunk>>;
    fn put(&self, chunk: Arc<Chunk>);

    /// Counts a chunk found in the previous tree without asking [`ChunkCache::get`].
    fn hit(&self) {}

    /// Counts `n` chunks found in the previous tree.
    fn hits(&self, n: u64) {
        (0..n).for_each(|_| self.hit());
    }

    /// The previous tree of the module `key`, if kept (taking it out).
    fn take_previous(&self, _key: &str) -> Option<Previous> {
        None
    }

    /// Keeps the tree of module `key` for its next parse.
    fn keep_previous(&self, _key: &str, _previous: Previous) {}
}

/// A tree assembled from chunks, with where each chunk's declarations went and the text
/// it was parsed from.
pub struct Previous {
    module: Arc<ast::Module>,
    placed: Vec<Placed>,
    text: Arc<str>,
}

/// Where a chunk went. What [`edit_in_place`] needs of the chunk is copied here, so that
/// the unchanged chunks of a large file are never touched.
struct Placed {
    chunk: Arc<Chunk>,
    start: u32,
    /// The chunk's text length.
    len: u32,
    ids: u32,
    n_exprs: u32,
    /// The chunk's first declaration in the module, and how many it has.
    first: usize,
    n_decls: usize,
}

impl Placed {
    fn new(chunk: Arc<Chunk>, start: u32, ids: u32, first: usize) -> Placed {
        Placed {
            len: chunk.text.len() as u32,
            n_exprs: chunk.n_exprs,
            n_decls: chunk.decls.len(),
            chunk,
            start,
            ids,
            first,
        }
    }
}

/// What a moved declaration leaves behind (allocates nothing).
fn taken_decl() -> Decl {
    Decl {
        kind: DeclKind::Export(Vec::new()),
        exported: false,
        span: Span::default(),
    }
}

/// The declarations of a previous tree, to be moved out chunk by chunk.
struct Reuse {
    /// The previous tree's declarations; a moved one leaves [`taken_decl`] behind.
    decls: Vec<Decl>,
    moved: Vec<bool>,
    placed: Vec<Placed>,
    /// Placements by chunk address: the first not yet taken, and the next of the same chunk
    /// (built on the first chunk not found at its expected place).
    by_chunk: Option<(HashMap<usize, usize>, Vec<usize>)>,
}

impl Reuse {
    fn new(previous: Previous) -> Option<Reuse> {
        let module = Arc::try_unwrap(previous.module).ok()?;
        let module_decls = module.decls;
        Some(Reuse {
            moved: vec![false; module_decls.len()],
            decls: module_decls,
            placed: previous.placed,
            by_chunk: None,
        })
    }

    /// The previous tree's chunk `j` if its text is `text` and its declarations are still
    /// there: after an edit, most chunks are where they were, counted from the start
    /// (before the edit) or from the end (after it). Comparing texts in order is cheaper
    /// than a lookup in the cache for each chunk.
    fn same_at(&self, j: usize, text: &str) -> Option<Arc<Chunk>> {
        let p = self.placed.get(j)?;
        let range = p.first..p.first + p.n_decls;
        let free = self.moved.get(range)?.iter().all(|it| !*it);
        (free && *p.chunk.text == *text).then(|| p.chunk.clone())
    }

    fn by_chunk(&mut self) -> &mut (HashMap<usize, usize>, Vec<usize>) {
        let placed = &self.placed;
        self.by_chunk.get_or_insert_with(|| {
            let mut by_chunk = HashMap::default();
            by_chunk.reserve(placed.len());
            let mut next_same = vec![usize::MAX; placed.len()];
            for (j, p) in placed.iter().enumerate().rev() {
                if let Some(next) = by_chunk.insert(Arc::as_ptr(&p.chunk) as usize, j) {
                    if let Some(slot) = next_same.get_mut(j) {
                        *slot = next;
                    }
                }
            }
            (by_chunk, next_same)
        })
    }

    /// Moves the declarations of `chunk` (placed at `start` with ids from `ids`) out of the
    /// previous tree into `out`, if it had this chunk; returns how to move them.
    fn take(
        &mut self,
        chunk: &Arc<Chunk>,
        start: u32,
        ids: u32,
        out: &mut Vec<Decl>,
    ) -> Option<Shift> {
        let key = Arc::as_ptr(chunk) as usize;
        loop {
            let j = {
                let (by_chunk, next_same) = self.by_chunk();
                let j = *by_chunk.get(&key)?;
                match next_same.get(j).copied().filter(|it| *it != usize::MAX) {
                    Some(next) => by_chunk.insert(key, next),
                    None => by_chunk.remove(&key),
                };
                j
            };
            // A placement already taken in place is passed over.
            if let Some(shift) = self.take_at(j, start, ids, out) {
                return Some(shift);
            }
        }
    }

    /// Moves the declarations of the previous tree's chunk `j` into `out` (see [`take`]).
    fn take_at(&mut self, j: usize, start: u32, ids: u32, out: &mut Vec<Decl>) -> Option<Shift> {
        let p = self.placed.get(j)?;
        let range = p.first..p.first + p.n_decls;
        let moved = self.moved.get_mut(range.clone())?;
        let taken = self.decls.get_mut(range)?;
        if moved.iter().any(|it| *it) {
            return None;
        }
        moved.iter_mut().for_each(|it| *it = true);
        out.extend(
            taken
                .iter_mut()
                .map(|decl| std::mem::replace(decl, taken_decl())),
        );
        Some(Shift {
            by: start.wrapping_sub(p.start),
            ids: ids.wrapping_sub(p.ids),
            erase: false,
        })
    }
}

/// Keywords that start a top-level declaration at the start of a line.
const STARTS: [&str; 5] = ["let", "type", "typeclass", "instance", "export"];

fn starts_decl(line: &[u8]) -> bool {
    STARTS.iter().any(|kw| {
        line.starts_with(kw.as_bytes())
            && line
                .get(kw.len())
                .is_some_and(|b| matches!(b, b' ' | b'\t' | b'\r' | b'\n'))
    })
}

/// The byte offsets where chunks start: line starts that begin a declaration.
fn chunk_starts(text: &str) -> Vec<usize> {
    let bytes = text.as_bytes();
    let mut starts = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        let line = bytes.get(at..).unwrap_or(&[]);
        if starts_decl(line) {
            starts.push(at);
        }
        match line.iter().position(|&b| b == b'\n') {
            Some(n) => at += n + 1,
            None => break,
        }
    }
    starts
}

/// Parses `text` like [`parse`], reusing the chunks `cache` has.
pub fn parse_reusing(file: FileId, text: &str, cache: &dyn ChunkCache) -> Parsed {
    match assemble(file, text, cache, None, &Interrupt::default()) {
        Some((module, _)) => Parsed {
            module,
            diagnostics: Vec::new(),
        },
        None => super::parse(file, text),
    }
}

/// Parses module `key` like [`parse`], reusing the chunks `cache` has and the module's
/// previous tree if the cache kept it (and keeping this one).
pub fn parse_module_reusing(
    key: &str,
    file: FileId,
    text: &Arc<str>,
    cache: &dyn ChunkCache,
) -> (Arc<ast::Module>, Vec<Diagnostic>) {
    parse_module_reusing_until(key, file, text, cache, &Interrupt::default())
}

/// [`parse_module_reusing`], polling `interrupt` between chunks and inside every parse
/// ([`super::parse_until`]): stopped, the diagnostics are only R3008, and nothing of the
/// stopped parse is kept.
pub fn parse_module_reusing_until(
    key: &str,
    file: FileId,
    text: &Arc<str>,
    cache: &dyn ChunkCache,
    interrupt: &Interrupt,
) -> (Arc<ast::Module>, Vec<Diagnostic>) {
    match assemble(file, text, cache, cache.take_previous(key), interrupt) {
        Some((module, placed)) => {
            let module = Arc::new(module);
            let previous = Previous {
                module: module.clone(),
                placed,
                text: text.clone(),
            };
            cache.keep_previous(key, previous);
            (module, Vec::new())
        }
        None => {
            let parsed = parse_until(file, text, interrupt);
            (Arc::new(parsed.module), parsed.diagnostics)
        }
    }
}

/// Parses `text` like [`parse`], in up to `pieces` pieces of about equal size cut at
/// declaration starts, which `for_each(n, job)` may parse on several threads (it runs
/// `job(0..n)`, in any order). The pieces are assembled as [`assemble`] assembles chunks,
/// under the same condition: every piece parses cleanly on its own (the first may hold the
/// header and imports; only the last a trailing expression); otherwise the text is parsed
/// whole, as it is when it has an error.
pub fn parse_in_pieces(
    file: FileId,
    text: &str,
    pieces: usize,
    for_each: &crate::par::ForEach<'_>,
) -> Parsed {
    parse_in_pieces_until(file, text, pieces, for_each, &Interrupt::default())
}

/// [`parse_in_pieces`], each piece polling `interrupt` ([`super::parse_until`]): when one
/// is stopped, so is the whole parse (R3008 only).
pub fn parse_in_pieces_until(
    file: FileId,
    text: &str,
    pieces: usize,
    for_each: &crate::par::ForEach<'_>,
    interrupt: &Interrupt,
) -> Parsed {
    let parse = |file, text: &str| parse_until(file, text, interrupt);
    let starts = piece_starts(text, pieces);
    if starts.len() < 2 || u32::try_from(text.len()).is_err() {
        return parse(file, text);
    }
    let parsed: Vec<std::sync::OnceLock<Parsed>> =
        starts.iter().map(|_| std::sync::OnceLock::new()).collect();
    for_each(starts.len(), &|k| {
        let (Some(&start), Some(slot)) = (starts.get(k), parsed.get(k)) else {
            return;
        };
        let end = starts.get(k + 1).copied().unwrap_or(text.len());
        if let Some(piece) = text.get(start..end) {
            let _ = slot.set(parse(file, piece));
        }
    });
    if let Some(stopped) = parsed
        .iter()
        .find_map(|it| it.get().filter(|it| it.cancelled()))
    {
        return Parsed {
            module: ast::Module::default(),
            diagnostics: stopped.diagnostics.clone(),
        };
    }
    let pieces = parsed.into_iter().map(std::sync::OnceLock::into_inner);
    match join_pieces(pieces.zip(starts.iter().copied())) {
        Some(module) => Parsed {
            module,
            diagnostics: Vec::new(),
        },
        None => parse(file, text),
    }
}

/// [`parse_in_pieces`] with the text's tokens, as [`super::parse_with_tokens`] gives them:
/// each piece's, moved by its offset, its `Eof` dropped but the last piece's. (A piece that
/// parses cleanly ends between two tokens, so the whole text's tokens are the pieces'.)
pub(crate) fn parse_in_pieces_with_tokens(
    file: FileId,
    text: &str,
    pieces: usize,
    for_each: &crate::par::ForEach<'_>,
) -> (Parsed, Vec<super::lexer::Token>) {
    let starts = piece_starts(text, pieces);
    if starts.len() < 2 || u32::try_from(text.len()).is_err() {
        return super::parse_with_tokens(file, text);
    }
    type Slot = std::sync::OnceLock<(Parsed, Vec<super::lexer::Token>)>;
    let parsed: Vec<Slot> = starts.iter().map(|_| Slot::new()).collect();
    for_each(starts.len(), &|k| {
        let (Some(&start), Some(slot)) = (starts.get(k), parsed.get(k)) else {
            return;
        };
        let end = starts.get(k + 1).copied().unwrap_or(text.len());
        if let Some(piece) = text.get(start..end) {
            let _ = slot.set(super::parse_with_tokens(file, piece));
        }
    });
    let last = starts.len() - 1;
    let mut tokens = Vec::new();
    let mut pieces = Vec::with_capacity(starts.len());
    for (k, (slot, &start)) in parsed.into_iter().zip(&starts).enumerate() {
        let Some((piece, piece_tokens)) = slot.into_inner() else {
            return super::parse_with_tokens(file, text);
        };
        if tokens.is_empty() {
            tokens.reserve(piece_tokens.len().saturating_mul(starts.len()) + 1);
        }
        let by = start as u32;
        tokens.extend(
            piece_tokens
                .into_iter()
                .filter(|t| k == last || t.kind != super::lexer::TokenKind::Eof)
                .map(|t| super::lexer::Token {
                    span: Span::new(t.span.start + by, t.span.end + by),
                    ..t
                }),
        );
        pieces.push((Some(piece), start));
    }
    match join_pieces(pieces.into_iter()) {
        Some(module) => (
            Parsed {
                module,
                diagnostics: Vec::new(),
            },
            tokens,
        ),
        None => super::parse_with_tokens(file, text),
    }
}

/// The module of a text from the parses of its pieces (each with its offset), when every
/// piece parsed cleanly: no diagnostic, a header and imports only in the first, a trailing
/// expression only in the last. The pieces' spans are moved by their offsets and their ids
/// by the ids before them.
fn join_pieces(
    pieces: impl ExactSizeIterator<Item = (Option<Parsed>, usize)>,
) -> Option<ast::Module> {
    let last = pieces.len().checked_sub(1)?;
    let mut module: Option<ast::Module> = None;
    for (k, (slot, start)) in pieces.enumerate() {
        let clean = slot.filter(|p| {
            let m = &p.module;
            p.diagnostics.is_empty()
                && (k == 0 || (m.header.is_none() && m.imports.is_empty()))
                && (k == last || m.body.is_none())
        });
        let Parsed { module: piece, .. } = clean?;
        let Some(whole) = module.as_mut() else {
            module = Some(piece);
            continue;
        };
        let shift = Shift {
            by: u32::try_from(start).ok()?,
            ids: whole.n_exprs,
            erase: false,
        };
        let n_exprs = whole.n_exprs.checked_add(piece.n_exprs)?;
        let first = whole.decls.len();
        whole.decls.extend(piece.decls);
        let mut stack = Vec::new();
        for decl in whole.decls.get_mut(first..).unwrap_or(&mut []) {
            shift.decl(decl, &mut stack);
        }
        if let Some(mut body) = piece.body {
            shift.expr(&mut body, &mut Vec::new());
            whole.body = Some(body);
        }
        whole.n_exprs = n_exprs;
    }
    module
}

/// Where the pieces of [`parse_in_pieces`] start: 0, then for each further piece the first
/// declaration start at or after its share of the text (fewer pieces when none is found).
fn piece_starts(text: &str, pieces: usize) -> Vec<usize> {
    let bytes = text.as_bytes();
    let mut starts = vec![0];
    for k in 1..pieces.max(1) {
        let target = text.len() / pieces * k;
        let from = starts.last().copied().unwrap_or(0).max(target);
        // The next line start from `from` on that begins a declaration.
        let mut at = match bytes
            .get(from..)
            .and_then(|b| b.iter().position(|&b| b == b'\n'))
        {
            Some(n) => from + n + 1,
            None => break,
        };
        let found = loop {
            let line = bytes.get(at..).unwrap_or(&[]);
            if line.is_empty() {
                break None;
            }
            if starts_decl(line) {
                break Some(at);
            }
            match line.iter().position(|&b| b == b'\n') {
                Some(n) => at += n + 1,
                None => break None,
            }
        };
        match found {
            Some(at) => starts.push(at),
            None => break,
        }
    }
    starts
}

/// The module from its chunks, or `None` when some chunk does not parse cleanly alone;
/// with where each chunk went.
fn assemble(
    file: FileId,
    text: &str,
    cache: &dyn ChunkCache,
    previous: Option<Previous>,
    interrupt: &Interrupt,
) -> Option<(ast::Module, Vec<Placed>)> {
    if u32::try_from(text.len()).is_err() {
        return None;
    }
    let starts = chunk_starts(text);
    let edit = |it| edit_in_place(file, text, &starts, cache, it, interrupt);
    let mut reuse = match previous.map(edit) {
        Some(Ok(assembled)) => return assembled,
        Some(Err(previous)) => Reuse::new(previous),
        None => None,
    };
    let first = starts.first().copied().unwrap_or(text.len());
    let prefix = parse_until(file, text.get(..first)?, interrupt);
    if !prefix.diagnostics.is_empty()
        || !prefix.module.decls.is_empty()
        || prefix.module.body.is_some()
        || prefix.module.n_exprs != 0
    {
        return None;
    }
    let mut module = prefix.module;
    module.decls.reserve(starts.len());
    // Where each chunk's declarations end, and how to move them: applied after cloning
    // them all, so that one walk stack serves every declaration.
    let mut shifts: Vec<(usize, Shift)> = Vec::with_capacity(starts.len());
    let mut placed: Vec<Placed> = Vec::with_capacity(starts.len());
    let mut poll = Poll::new(interrupt);
    for (k, &start) in starts.iter().enumerate() {
        if poll.stop() {
            return None;
        }
        let end = starts.get(k + 1).copied().unwrap_or(text.len());
        let chunk_text = text.get(start..end)?;
        // The previous tree's chunk at the same place, counted from the start or the end.
        let in_place = reuse.as_ref().and_then(|r| {
            let from_end = (k + r.placed.len()).checked_sub(starts.len());
            [Some(k), from_end]
                .into_iter()
                .flatten()
                .find_map(|j| Some((j, r.same_at(j, chunk_text)?)))
        });
        let chunk = match &in_place {
            Some((_, chunk)) => {
                cache.hit();
                chunk.clone()
            }
            None => match cache.get(chunk_text) {
                Some(chunk) => chunk,
                None => {
                    let chunk = Arc::new(parse_chunk(file, chunk_text, interrupt)?);
                    cache.put(chunk.clone());
                    chunk
                }
            },
        };
        if chunk.body.is_some() && k + 1 != starts.len() {
            return None;
        }
        let shift = Shift {
            by: start as u32,
            ids: module.n_exprs,
            erase: false,
        };
        let first = module.decls.len();
        let moved = reuse.as_mut().and_then(|r| match in_place {
            Some((j, _)) => r.take_at(j, shift.by, shift.ids, &mut module.decls),
            None => r.take(&chunk, shift.by, shift.ids, &mut module.decls),
        });
        match moved {
            Some(delta) => shifts.push((module.decls.len(), delta)),
            None => {
                module.decls.truncate(first);
                module.decls.extend(chunk.decls.iter().cloned());
                shifts.push((module.decls.len(), shift));
            }
        }
        placed.push(Placed::new(chunk.clone(), shift.by, shift.ids, first));
        if let Some(body) = &chunk.body {
            let mut body = body.clone();
            shift.expr(&mut body, &mut Vec::new());
            module.body = Some(body);
        }
        module.n_exprs = module.n_exprs.checked_add(chunk.n_exprs)?;
    }
    let mut stack = Vec::new();
    let mut decls = module.decls.iter_mut();
    let mut done = 0;
    for (end, shift) in &shifts {
        let n = end - done;
        if shift.by == 0 && shift.ids == 0 {
            decls.by_ref().take(n).for_each(drop);
        } else {
            for decl in decls.by_ref().take(n) {
                shift.decl(decl, &mut stack);
            }
        }
        done = *end;
    }
    drop(reuse);
    Some((module, placed))
}

/// The common edit, done without looking at the unchanged chunks: the same number of
/// chunks as the previous tree, each either unchanged (it lies in the text the old and new
/// files share at their start or at their end, at the same place from that side) or parsed
/// again with as many declarations as before. The previous tree is then edited in place:
/// the changed chunks' declarations replaced, the others moved by the difference of
/// offsets and ids (often none). `Err` gives the previous tree back when the edit is not of
/// that kind, for [`assemble`]'s general path.
fn edit_in_place(
    file: FileId,
    text: &str,
    starts: &[usize],
    cache: &dyn ChunkCache,
    previous: Previous,
    interrupt: &Interrupt,
) -> Result<Option<(ast::Module, Vec<Placed>)>, Previous> {
    let (old, new) = (previous.text.as_bytes(), text.as_bytes());
    let first_same = |p: &Placed| starts.first().is_some_and(|s| *s == p.start as usize);
    if starts.len() != previous.placed.len() || !previous.placed.first().is_some_and(first_same) {
        return Err(previous);
    }
    let prefix = common_prefix(old, new);
    let suffix = common_suffix(old, new, old.len().min(new.len()) - prefix);
    // The text before the first chunk (header, imports) must be unchanged.
    if starts.first().is_some_and(|s| *s > prefix) {
        return Err(previous);
    }
    let mut changed: Vec<(usize, Arc<Chunk>)> = Vec::new();
    let mut poll = Poll::new(interrupt);
    for (k, (&start, p)) in starts.iter().zip(&previous.placed).enumerate() {
        if poll.stop() {
            return Err(previous);
        }
        let end = starts.get(k + 1).copied().unwrap_or(new.len());
        let (old_start, old_end) = (p.start as usize, p.start as usize + p.len as usize);
        let in_prefix = end <= prefix && old_start == start && old_end == end;
        let in_suffix = start + suffix >= new.len()
            && old_start + new.len() == start + old.len()
            && old_end + new.len() == end + old.len();
        if in_prefix || in_suffix {
            continue;
        }
        let Some(chunk_text) = text.get(start..end) else {
            return Err(previous);
        };
        let chunk = match cache.get(chunk_text) {
            Some(chunk) => chunk,
            None => match parse_chunk(file, chunk_text, interrupt) {
                Some(chunk) => {
                    let chunk = Arc::new(chunk);
                    cache.put(chunk.clone());
                    chunk
                }
                None => return Err(previous),
            },
        };
        if chunk.decls.len() != p.n_decls || (chunk.body.is_some() && k + 1 != starts.len()) {
            return Err(previous);
        }
        changed.push((k, chunk));
    }
    let mut module = match Arc::try_unwrap(previous.module) {
        Ok(module) => module,
        Err(module) => return Err(Previous { module, ..previous }),
    };
    cache.hits((starts.len() - changed.len()) as u64);
    let mut placed = previous.placed;
    let mut changed = changed.into_iter().peekable();
    // The prefix has no expressions: the first chunk's ids start where they did.
    let mut ids = placed.first().map_or(0, |p| p.ids);
    let mut stack = Vec::new();
    let mut rest = &mut module.decls[..];
    for (k, (&start, p)) in starts.iter().zip(&mut placed).enumerate() {
        let Some((decls, tail)) = std::mem::take(&mut rest).split_at_mut_checked(p.n_decls) else {
            return Ok(None);
        };
        rest = tail;
        let shift = match changed.next_if(|(j, _)| *j == k) {
            Some((_, chunk)) => {
                for (decl, new) in decls.iter_mut().zip(&chunk.decls) {
                    *decl = new.clone();
                }
                if k + 1 == starts.len() {
                    module.body = chunk.body.clone();
                }
                *p = Placed::new(chunk, 0, 0, p.first);
                Shift {
                    by: start as u32,
                    ids,
                    erase: false,
                }
            }
            None => Shift {
                by: (start as u32).wrapping_sub(p.start),
                ids: ids.wrapping_sub(p.ids),
                erase: false,
            },
        };
        if shift.by != 0 || shift.ids != 0 {
            decls.iter_mut().for_each(|d| shift.decl(d, &mut stack));
            if k + 1 == starts.len() {
                if let Some(body) = &mut module.body {
                    shift.expr(body, &mut Vec::new());
                }
            }
        }
        p.start = start as u32;
        p.ids = ids;
        let Some(next) = ids.checked_add(p.n_exprs) else {
            return Ok(None);
        };
        ids = next;
    }
    module.n_exprs = ids;
    Ok(Some((module, placed)))
}

/// Blocks compared at once before the byte that differs is looked for.
const BLOCK: usize = 64;

/// How many bytes `a` and `b` share at their start.
fn common_prefix(a: &[u8], b: &[u8]) -> usize {
    let n = a.len().min(b.len());
    let blocks = a
        .chunks_exact(BLOCK)
        .zip(b.chunks_exact(BLOCK))
        .take_while(|(x, y)| x == y)
        .count()
        * BLOCK;
    let (a, b) = (
        a.get(blocks..n).unwrap_or_default(),
        b.get(blocks..n).unwrap_or_default(),
    );
    blocks + a.iter().zip(b).take_while(|(x, y)| x == y).count()
}

/// How many bytes `a` and `b` share at their end, at most `max`.
fn common_suffix(a: &[u8], b: &[u8], max: usize) -> usize {
    let n = a.len().min(b.len());
    let blocks = a
        .rchunks_exact(BLOCK)
        .zip(b.rchunks_exact(BLOCK))
        .take_while(|(x, y)| x == y)
        .count()
        * BLOCK;
    let (a, b) = (
        a.get(..a.len() - blocks).unwrap_or_default(),
        b.get(..b.len() - blocks).unwrap_or_default(),
    );
    let tail = a
        .iter()
        .rev()
        .zip(b.iter().rev())
        .take_while(|(x, y)| x == y);
    (blocks + tail.take(n - blocks).count()).min(max)
}

/// One chunk on its own; `None` when it has a diagnostic (R3008 too) or more than
/// declarations and a trailing expression. Its parse reads the clock only once it is big
/// (`Poll::deferred`): the loops over chunks poll the clock between them.
fn parse_chunk(file: FileId, text: &str, interrupt: &Interrupt) -> Option<Chunk> {
    let parsed = super::parse_polling(file, text, Poll::deferred(interrupt));
    let m = parsed.module;
    if !parsed.diagnostics.is_empty() || m.header.is_some() || !m.imports.is_empty() {
        return None;
    }
    Some(Chunk {
        text: Arc::from(text),
        decls: m.decls,
        body: m.body,
        n_exprs: m.n_exprs,
    })
}

/// Moves spans by `by` bytes and expression ids by `ids`; with `erase`, sets every span
/// and id to zero instead (for comparing trees "spans aside": [`erase_positions`]).
#[derive(Clone, Copy)]
struct Shift {
    by: u32,
    ids: u32,
    erase: bool,
}

/// Sets every span and expression id of `module` to zero, so that two parses of texts that
/// differ only in layout and comments compare equal (the formatter's check, `format.rs`).
pub(crate) fn erase_positions(module: &mut ast::Module) {
    let erase = Shift {
        by: 0,
        ids: 0,
        erase: true,
    };
    let mut stack = Vec::new();
    if let Some(header) = &mut module.header {
        erase.ident(header);
    }
    for import in &mut module.imports {
        erase.span(&mut import.span);
        match &mut import.path {
            ast::ImportPath::Register(segments) => segments.iter_mut().for_each(|s| erase.ident(s)),
            ast::ImportPath::Relative(lit) => erase.str_lit(lit),
        }
        match &mut import.kind {
            ast::ImportKind::All => {}
            ast::ImportKind::Alias(alias) => erase.ident(alias),
            ast::ImportKind::Items(items) => items.iter_mut().for_each(|it| erase.rename_item(it)),
        }
    }
    for decl in &mut module.decls {
        erase.decl(decl, &mut stack);
    }
    if let Some(body) = &mut module.body {
        erase.expr(body, &mut stack);
    }
}

impl Shift {
    // Wrapping: moving back from a previous tree's offsets is a wrapped difference.
    fn span(&self, span: &mut Span) {
        if self.erase {
            *span = Span::default();
            return;
        }
        span.start = span.start.wrapping_add(self.by);
        span.end = span.end.wrapping_add(self.by);
    }

    fn id(&self, id: &mut ExprId) {
        id.0 = if self.erase {
            0
        } else {
            id.0.wrapping_add(self.ids)
        };
    }

    fn ident(&self, ident: &mut ast::Ident) {
        self.span(&mut ident.span);
    }

    fn qname(&self, q: &mut ast::QName) {
        if let Some(m) = &mut q.module {
            self.ident(m);
        }
        self.ident(&mut q.name);
        self.span(&mut q.span);
    }

    fn str_lit(&self, s: &mut ast::StrLit) {
        self.span(&mut s.span);
    }

    fn rename_item(&self, item: &mut ast::RenameItem) {
        self.ident(&mut item.name);
        if let Some(a) = &mut item.alias {
            self.ident(a);
        }
        self.span(&mut item.span);
    }

    fn decl<'t>(&self, d: &'t mut Decl, stack: &mut Vec<Item<'t>>) {
        self.span(&mut d.span);
        match &mut d.kind {
            DeclKind::Let(l) => {
                self.ident(&mut l.name);
                if let Some(t) = &mut l.ann {
                    self.ty(t, stack);
                }
                self.expr(&mut l.value, stack);
            }
            DeclKind::Type(t) => {
                self.ident(&mut t.name);
                t.params.iter_mut().for_each(|p| self.ident(p));
                match &mut t.rhs {
                    ast::TypeRhs::Union(vs) => vs.iter_mut().for_each(|v| self.variant(v, stack)),
                    ast::TypeRhs::Alias(ty) => self.ty(ty, stack),
                    ast::TypeRhs::Lone { variant, as_type } => {
                        self.variant(variant, stack);
                        self.ty(as_type, stack);
                    }
                }
            }
            DeclKind::Class(c) => {
                self.ident(&mut c.name);
                c.params.iter_mut().for_each(|p| self.ident(p));
                c.superclasses
                    .iter_mut()
                    .for_each(|s| self.constraint(s, stack));
                for m in &mut c.methods {
                    self.ident(&mut m.name);
                    self.ty(&mut m.ty, stack);
                    self.span(&mut m.span);
                }
                c.defaults
                    .iter_mut()
                    .for_each(|m| self.method_def(m, stack));
            }
            DeclKind::Instance(i) => {
                i.context.iter_mut().for_each(|c| self.constraint(c, stack));
                self.qname(&mut i.class);
                i.args.iter_mut().for_each(|t| self.ty(t, stack));
                i.methods.iter_mut().for_each(|m| self.method_def(m, stack));
                self.span(&mut i.head_span);
            }
            DeclKind::Export(items) => items.iter_mut().for_each(|it| self.rename_item(it)),
        }
    }

    fn variant<'t>(&self, v: &'t mut ast::Variant, stack: &mut Vec<Item<'t>>) {
        self.ident(&mut v.name);
        if let Some(t) = &mut v.payload {
            self.ty(t, stack);
        }
        self.span(&mut v.span);
    }

    fn method_def<'t>(&self, m: &'t mut ast::MethodDef, stack: &mut Vec<Item<'t>>) {
        self.ident(&mut m.name);
        self.expr(&mut m.value, stack);
        self.span(&mut m.span);
    }

    fn constraint<'t>(&self, c: &'t mut ast::Constraint, stack: &mut Vec<Item<'t>>) {
        self.qname(&mut c.class);
        c.args.iter_mut().for_each(|t| self.ty(t, stack));
        self.span(&mut c.span);
    }

    // Types and expressions nest as deep as the parser allows (E1009): walked with an
    // explicit stack, like `engine::deps`.
    fn ty<'t>(&self, t: &'t mut Type, stack: &mut Vec<Item<'t>>) {
        self.walk(Item::Type(t), stack);
    }

    fn expr<'t>(&self, e: &'t mut Expr, stack: &mut Vec<Item<'t>>) {
        self.walk(Item::Expr(e), stack);
    }

    fn walk<'t>(&self, start: Item<'t>, stack: &mut Vec<Item<'t>>) {
        stack.push(start);
        while let Some(item) = stack.pop() {
            match item {
                Item::Type(t) => {
                    self.span(&mut t.span);
                    match &mut t.kind {
                        TypeKind::Con(q, args) => {
                            self.qname(q);
                            stack.extend(args.iter_mut().map(Item::Type));
                        }
                        TypeKind::Var(v) => self.ident(v),
                        TypeKind::Fun(a, b) => {
                            stack.push(Item::Type(a));
                            stack.push(Item::Type(b));
                        }
                        TypeKind::List(t) => stack.push(Item::Type(t)),
                        TypeKind::Record { fields, rest } => {
                            for f in fields {
                                self.ident(&mut f.name);
                                stack.push(Item::Type(&mut f.ty));
                            }
                            if let Some(r) = rest {
                                self.ident(r);
                            }
                        }
                        TypeKind::Refined { base, items, pred } => {
                            stack.push(Item::Type(base));
                            for it in items {
                                self.span(&mut it.span);
                                match &mut it.kind {
                                    ast::ConstraintItemKind::Regexp(s)
                                    | ast::ConstraintItemKind::Pattern(s) => self.str_lit(s),
                                    ast::ConstraintItemKind::Ge(e)
                                    | ast::ConstraintItemKind::Le(e) => stack.push(Item::Expr(e)),
                                    ast::ConstraintItemKind::Call {
                                        module,
                                        func,
                                        args,
                                        id,
                                    } => {
                                        self.id(id);
                                        if let Some(m) = module {
                                            self.ident(m);
                                        }
                                        self.ident(func);
                                        stack.extend(args.iter_mut().map(Item::Expr));
                                    }
                                }
                            }
                            if let Some(p) = pred {
                                stack.push(Item::Expr(p));
                            }
                        }
                        TypeKind::Qualified { context, ty } => {
                            for c in context {
                                self.qname(&mut c.class);
                                stack.extend(c.args.iter_mut().map(Item::Type));
                                self.span(&mut c.span);
                            }
                            stack.push(Item::Type(ty));
                        }
                        TypeKind::Error => {}
                    }
                }
                Item::Pattern(p) => {
                    self.span(&mut p.span);
                    match &mut p.kind {
                        PatternKind::Wildcard | PatternKind::Lit(_) | PatternKind::Error => {}
                        PatternKind::Var(v) => self.ident(v),
                        PatternKind::Ctor {
                            module,
                            name,
                            payload,
                        } => {
                            if let Some(m) = module {
                                self.ident(m);
                            }
                            self.ident(name);
                            if let Some(p) = payload {
                                stack.push(Item::Pattern(p));
                            }
                        }
                        PatternKind::Record { fields, .. } => {
                            for f in fields {
                                self.ident(&mut f.name);
                                stack.push(Item::Pattern(&mut f.pat));
                            }
                        }
                        PatternKind::List(ps) => stack.extend(ps.iter_mut().map(Item::Pattern)),
                    }
                }
                Item::Expr(e) => {
                    self.span(&mut e.span);
                    self.id(&mut e.id);
                    match &mut e.kind {
                        ExprKind::Int(_)
                        | ExprKind::Float(_)
                        | ExprKind::Str(_)
                        | ExprKind::Bool(_)
                        | ExprKind::Unit
                        | ExprKind::Var(_)
                        | ExprKind::Ctor(_)
                        | ExprKind::Error => {}
                        ExprKind::Lambda { params, body } => {
                            for p in params {
                                if let Some(n) = &mut p.name {
                                    self.ident(n);
                                }
                                if let Some(t) = &mut p.ann {
                                    stack.push(Item::Type(t));
                                }
                                self.span(&mut p.span);
                            }
                            stack.push(Item::Expr(body));
                        }
                        ExprKind::App { func, args } => {
                            stack.push(Item::Expr(func));
                            stack.extend(args.iter_mut().map(Item::Expr));
                        }
                        ExprKind::Let {
                            name,
                            ann,
                            value,
                            body,
                            ..
                        } => {
                            self.ident(name);
                            if let Some(t) = ann {
                                stack.push(Item::Type(t));
                            }
                            stack.push(Item::Expr(value));
                            stack.push(Item::Expr(body));
                        }
                        ExprKind::If {
                            cond,
                            then_branch,
                            else_branch,
                        } => {
                            stack.push(Item::Expr(cond));
                            stack.push(Item::Expr(then_branch));
                            stack.push(Item::Expr(else_branch));
                        }
                        ExprKind::Match { scrutinee, cases } => {
                            stack.push(Item::Expr(scrutinee));
                            for c in cases {
                                self.span(&mut c.span);
                                stack.push(Item::Pattern(&mut c.pat));
                                if let Some(g) = &mut c.guard {
                                    stack.push(Item::Expr(g));
                                }
                                stack.push(Item::Expr(&mut c.body));
                            }
                        }
                        ExprKind::Binary {
                            op_span, lhs, rhs, ..
                        } => {
                            self.span(op_span);
                            stack.push(Item::Expr(lhs));
                            stack.push(Item::Expr(rhs));
                        }
                        ExprKind::Unary { operand, .. } => stack.push(Item::Expr(operand)),
                        ExprKind::Field { expr, field } => {
                            self.ident(field);
                            stack.push(Item::Expr(expr));
                        }
                        ExprKind::Record { base, fields } => {
                            if let Some(b) = base {
                                stack.push(Item::Expr(b));
                            }
                            for f in fields {
                                self.ident(&mut f.name);
                                stack.push(Item::Expr(&mut f.value));
                            }
                        }
                        ExprKind::List(xs) => stack.extend(xs.iter_mut().map(Item::Expr)),
                        ExprKind::Ann { expr, ty } => {
                            stack.push(Item::Expr(expr));
                            stack.push(Item::Type(ty));
                        }
                    }
                }
            }
        }
    }
}

enum Item<'t> {
    Expr(&'t mut Expr),
    Type(&'t mut Type),
    Pattern(&'t mut Pattern),
}

#[cfg(test)]
mod tests {
    use super::{common_prefix, common_suffix};

    #[test]
    fn shared_starts_and_ends_are_the_bytes_in_common() {
        let naive_prefix = |a: &[u8], b: &[u8]| a.iter().zip(b).take_while(|(x, y)| x == y).count();
        let naive_suffix = |a: &[u8], b: &[u8], max: usize| {
            let n = a
                .iter()
                .rev()
                .zip(b.iter().rev())
                .take_while(|(x, y)| x == y)
                .count();
            n.min(max)
        };
        let base: Vec<u8> = (0..300u32).map(|i| (i * 7 % 26) as u8 + b'a').collect();
        for at in [0, 1, 63, 64, 65, 128, 200, 299] {
            for (insert, remove) in [(0, 1), (1, 0), (3, 2), (0, 0), (70, 0), (0, 70)] {
                let mut edited = base.clone();
                let remove = remove.min(edited.len() - at);
                edited.splice(at..at + remove, std::iter::repeat_n(b'#', insert));
                for (a, b) in [(&base, &edited), (&edited, &base)] {
                    let p = common_prefix(a, b);
                    assert_eq!(p, naive_prefix(a, b), "prefix at {at} +{insert} -{remove}");
                    let max = a.len().min(b.len()) - p;
                    let s = common_suffix(a, b, max);
                    assert_eq!(
                        s,
                        naive_suffix(a, b, max),
                        "suffix at {at} +{insert} -{remove}"
                    );
                }
            }
        }
    }
}
