//! The formatter: one canonical layout for a Ligature file (`ligature fmt`).
//!
//! The algorithm has three steps.
//!
//! 1. **Parse, and find the comments.** The tree keeps no trivia, so the comments are found
//!    again in the gaps between the lexer's tokens (a gap holds only whitespace and
//!    comments once the file parses). Each comment remembers whether it began its own line
//!    and whether a blank line came before it.
//! 2. **Build a document** from the tree ([`Doc`], Wadler's "prettier printer" algebra:
//!    text, line breaks that are a space when their group fits, nesting, groups). Parentheses
//!    are put back from precedence alone, since the tree does not keep them. Comments are
//!    emitted at *flush points*: before each declaration, field, element, case and
//!    expression, every comment that starts before that position is printed there, a
//!    comment that followed code on its line stays at the end of that line, and a line
//!    comment always ends its line. Literals are printed as they were written (`007`,
//!    `1e6`, escapes), from their tokens.
//! 3. **Print** the document with the classic Wadler/Oppen loop: a group is printed flat
//!    when it fits in the rest of the line, else its line breaks become newlines.
//!
//! Documents are small copyable values whose parts live in one flat vector per top-level
//! item ([`Arena`]), cleared once the item is printed, and every concatenation, nest and
//! group knows its width printed flat, so `fits` does not walk a part it has measured. The
//! commonest declaration, a `let` bound to a literal, a name or a simple application that
//! fits on its line with no comment in or after it, is written straight to the output as
//! its document would be printed ([`Builder::flat_decl`]), without building the document.
//!
//! Then the result is checked: it must parse without errors to the same tree, spans and ids
//! aside, and hold the same comments in the same order. A formatter bug therefore becomes an
//! internal-error diagnostic, never a changed program.

use super::ast::{
    self, BinOp, ConstraintItemKind, DeclKind, Expr, ExprKind, ImportKind, ImportPath, Pattern,
    PatternKind, Type, TypeKind, TypeRhs, UnOp,
};
use super::lexer::{Token, TokenKind};
use crate::diagnostic::{Code, Diagnostic, Severity};
use crate::par::ForEach;
use crate::source::{FileId, Span};

/// The line width used when none is given.
pub const DEFAULT_WIDTH: usize = 100;

/// The deepest indentation's spaces.
const SPACES: &str = "                                                                                                                                ";

const _: () = assert!(SPACES.len() == MAX_INDENT as usize);

/// Spaces per indentation level.
const INDENT: u32 = 4;

/// The deepest indentation: nesting beyond 32 levels is laid out at this column, so that
/// the output of a deeply nested file stays linear in its size (10,000 nested records
/// would otherwise be indented by 200 MB of spaces).
const MAX_INDENT: u32 = 32 * INDENT;

/// Formats one file. Returns the diagnostics of the parse when the text has a syntax error,
/// and an internal-error diagnostic (severity `Bug`) when the result would not parse to the
/// same tree with the same comments (a formatter bug; nothing should be written then).
pub fn format(source: &str, width: usize) -> Result<String, Vec<Diagnostic>> {
    format_with(source, width, 1, &|n, job| (0..n).for_each(job))
}

/// [`format`], parsing the text in up to `pieces` pieces
/// ([`super::chunks::parse_in_pieces`]) and checking the result in pieces, which
/// `for_each(n, job)` may run on several threads (it runs `job(0..n)`, in any order).
pub fn format_with(
    source: &str,
    width: usize,
    pieces: usize,
    for_each: &ForEach<'_>,
) -> Result<String, Vec<Diagnostic>> {
    crate::par::on_pipeline_stack(|| format_on_stack(source, width, pieces, for_each))
}

impl<'a> Builder<'a> {
    fn new(
        src: &'a str,
        tokens: &'a [Token],
        comments: &'a [Comment],
        width: usize,
        piece_bytes: usize,
    ) -> Builder<'a> {
        Builder {
            src,
            tokens,
            comments,
            next: 0,
            cursor: std::cell::Cell::new(0),
            out: Out::new(src.len() + src.len() / 4),
            width: width.max(1),
            stacks: Stacks::default(),
            arena: Arena::default(),
            pool: Vec::new(),
            line: String::new(),
            direct: true,
            cuts: Vec::new(),
            piece_bytes,
            next_cut: piece_bytes,
        }
    }
}

fn format_on_stack(
    source: &str,
    width: usize,
    pieces: usize,
    for_each: &ForEach<'_>,
) -> Result<String, Vec<Diagnostic>> {
    let file = FileId::default();
    let (parsed, tokens) = if pieces > 1 {
        super::chunks::parse_in_pieces_with_tokens(file, source, pieces, for_each)
    } else {
        super::parse_with_tokens(file, source)
    };
    if crate::diagnostic::has_errors(&parsed.diagnostics) {
        return Err(parsed.diagnostics);
    }
    let comments = find_comments(source, &tokens);
    let halves = if pieces > 1 {
        build_in_halves(source, &tokens, &comments, &parsed.module, width, for_each)
    } else {
        None
    };
    let (text, cuts) = halves.unwrap_or_else(|| {
        build(
            source,
            &tokens,
            &comments,
            &parsed.module,
            width,
            VERIFY_PIECE_BYTES,
        )
    });
    drop(tokens);
    // A text that is its own layout parses to its own tree with its own comments.
    if text != source {
        verify(source, &text, parsed.module, &comments, &cuts, for_each)?;
    }
    Ok(text)
}

/// The formatted text of `module` and where the check may cut it (at least `piece_bytes`
/// apart).
fn build(
    source: &str,
    tokens: &[Token],
    comments: &[Comment],
    module: &ast::Module,
    width: usize,
    piece_bytes: usize,
) -> (String, Vec<Cut>) {
    let mut builder = Builder::new(source, tokens, comments, width, piece_bytes);
    builder.module(module);
    let Builder { out, cuts, .. } = builder;
    (out.finish(), cuts)
}

/// [`build`] in two halves, which `for_each` may lay out at once: the first up to the
/// declaration [`split_point`] chose, the second from it on, the way the first would have
/// gone on (see there). `None` when the module has no such point.
fn build_in_halves(
    source: &str,
    tokens: &[Token],
    comments: &[Comment],
    module: &ast::Module,
    width: usize,
    for_each: &ForEach<'_>,
) -> Option<(String, Vec<Cut>)> {
    let split = split_point(module, comments)?;
    let halves: [std::sync::OnceLock<(Out, Vec<Cut>)>; 2] = Default::default();
    for_each(2, &|k| {
        let mut builder = Builder::new(source, tokens, comments, width, VERIFY_PIECE_BYTES);
        if k == 0 {
            builder.module_part(module, 0..split, true, false);
        } else {
            // Where the first half leaves the comments and the output: every comment
            // before the split printed, and a line ending in text (the declaration before
            // the split ends with text, no comment and no space after it).
            builder.next = comments.partition_point(|c| c.span.start < split_start(module, split));
            builder.out.buf.push('x');
            builder.out.line_start = false;
            builder.out.col = 1;
            builder.module_part(module, split..module.decls.len(), false, true);
        }
        let Builder { out, cuts, .. } = builder;
        if let Some(slot) = halves.get(k) {
            let _ = slot.set((out, cuts));
        }
    });
    let [first, second] = halves;
    let (first, mut cuts) = first.into_inner()?;
    let (second, second_cuts) = second.into_inner()?;
    let mut text = first.buf;
    let shift = text.len().checked_sub(1)?;
    text.push_str(second.finish().get(1..)?);
    cuts.extend(second_cuts.into_iter().map(|c| Cut {
        at: c.at + shift,
        ..c
    }));
    Some((text, cuts))
}

fn split_start(module: &ast::Module, split: usize) -> u32 {
    module.decls.get(split).map_or(u32::MAX, |d| d.span.start)
}

/// A declaration near the middle of the module's where its layout may start afresh: no
/// comment lies between the start of the declaration before it and its own start, so the
/// first half prints every comment before it and ends with that declaration's last text
/// (never a space, a line break or a comment), and the second half starts as after any
/// such text: its first item begins on a new line, whatever column the line was at.
fn split_point(module: &ast::Module, comments: &[Comment]) -> Option<usize> {
    let n = module.decls.len();
    if n < 2 {
        return None;
    }
    (n / 2..n).chain((1..n / 2).rev()).find(|&m| {
        let (Some(prev), Some(next)) = (module.decls.get(m - 1), module.decls.get(m)) else {
            return false;
        };
        let first = comments.partition_point(|c| c.span.start < prev.span.start);
        comments
            .get(first)
            .is_none_or(|c| c.span.start >= next.span.start)
    })
}

/// The check parses the formatted text in pieces of about this many bytes (cut between
/// top-level items), each compared with its part of the tree and dropped before the next
/// is parsed: the whole second tree never exists, so the check touches little fresh memory
/// (services-100000's second tree and tokens were tens of megabytes of new pages), and big
/// texts are checked on the pool.
const VERIFY_PIECE_BYTES: usize = 128 << 10;

/// A place where the formatted text may be cut for the check: `at` bytes printed, after
/// the first `decls` declarations.
#[derive(Clone, Copy, Debug)]
struct Cut {
    at: usize,
    decls: usize,
}

/// Re-parses the formatted text and compares it with the original (tree and comments):
/// in pieces when it has cuts and they all check out, else whole (which also says what
/// differs).
fn verify(
    source: &str,
    text: &str,
    mut before: ast::Module,
    comments: &[Comment],
    cuts: &[Cut],
    for_each: &ForEach<'_>,
) -> Result<(), Vec<Diagnostic>> {
    super::chunks::erase_positions(&mut before);
    if !cuts.is_empty() && verified_in_pieces(source, text, &before, comments, cuts, for_each) {
        return Ok(());
    }
    verify_whole(source, text, before, comments)
}

/// The whole formatted text parsed again and compared with `before` (positions erased).
fn verify_whole(
    source: &str,
    text: &str,
    before: ast::Module,
    comments: &[Comment],
) -> Result<(), Vec<Diagnostic>> {
    let file = FileId::default();
    let (again, tokens) = super::parse_with_tokens(file, text);
    if crate::diagnostic::has_errors(&again.diagnostics) {
        return Err(internal_error(
            "the formatted text does not parse; the file was left unchanged",
        ));
    }
    let mut after = again.module;
    super::chunks::erase_positions(&mut after);
    if before != after {
        return Err(internal_error(
            "the formatted text parses to a different tree; the file was left unchanged",
        ));
    }
    let found = find_comments(text, &tokens);
    if !same_comments(source, comments, text, &found) {
        return Err(internal_error(
            "the formatted text does not keep the comments; the file was left unchanged",
        ));
    }
    Ok(())
}

fn same_comments(source: &str, comments: &[Comment], text: &str, found: &[Comment]) -> bool {
    found.len() == comments.len()
        && found
            .iter()
            .zip(comments)
            .all(|(a, b)| comment_text(text, a).trim_end() == comment_text(source, b).trim_end())
}

/// What one piece of the formatted text held, once it parsed cleanly to its part of the
/// tree.
struct Piece {
    decls: usize,
    n_exprs: u32,
    /// Its comments, at their offsets in the whole text.
    comments: Vec<Comment>,
}

/// Whether the formatted text, cut at `cuts`, checks out piece by piece: every piece parses
/// with no diagnostic at all, to the declarations of `before` that the builder printed
/// there (the header and imports only in the first, the trailing expression only in the
/// last), the pieces' declarations tile `before`'s exactly, and the comments are the same.
/// Each cut must fall on a line break, so no token or comment spans two pieces (a string
/// or block comment left open makes its piece fail to lex), and the pieces' token streams
/// joined are the whole text's: the whole then parses to the pieces' trees joined, as
/// `chunks::parse_in_pieces` assembles them. `false` sends the caller to the whole check.
fn verified_in_pieces(
    source: &str,
    text: &str,
    before: &ast::Module,
    comments: &[Comment],
    cuts: &[Cut],
    for_each: &ForEach<'_>,
) -> bool {
    let bytes = text.as_bytes();
    let mut bounds = vec![Cut { at: 0, decls: 0 }];
    for cut in cuts {
        let last = bounds.last().copied().unwrap_or(Cut { at: 0, decls: 0 });
        if cut.at >= text.len() {
            break;
        }
        if bytes.get(cut.at) != Some(&b'\n') || cut.at <= last.at || cut.decls < last.decls {
            return false;
        }
        bounds.push(*cut);
    }
    let n = bounds.len();
    if n < 2 {
        return false;
    }
    let slots: Vec<std::sync::OnceLock<Option<Piece>>> =
        (0..n).map(|_| std::sync::OnceLock::new()).collect();
    for_each(n, &|k| {
        let (Some(from), Some(slot)) = (bounds.get(k), slots.get(k)) else {
            return;
        };
        let end = bounds.get(k + 1).map_or(text.len(), |b| b.at);
        let _ = slot.set(check_piece(text, from.at..end, from.decls, before, k, n));
    });
    let mut decls = 0usize;
    let mut n_exprs = 0u32;
    let mut found = Vec::new();
    for (k, slot) in slots.into_iter().enumerate() {
        let Some(Some(piece)) = slot.into_inner() else {
            return false;
        };
        let expected_end = bounds.get(k + 1).map_or(before.decls.len(), |b| b.decls);
        if bounds.get(k).map(|b| b.decls) != Some(decls) || decls + piece.decls != expected_end {
            return false;
        }
        decls = expected_end;
        let Some(sum) = n_exprs.checked_add(piece.n_exprs) else {
            return false;
        };
        n_exprs = sum;
        found.extend(piece.comments);
    }
    decls == before.decls.len()
        && n_exprs == before.n_exprs
        && same_comments(source, comments, text, &found)
}

/// Piece `k` of `n` (the bytes `range` of `text`), parsed and compared with the declarations
/// of `before` from `first_decl` on; `None` when it does not parse cleanly or differs.
fn check_piece(
    text: &str,
    range: std::ops::Range<usize>,
    first_decl: usize,
    before: &ast::Module,
    k: usize,
    n: usize,
) -> Option<Piece> {
    let start = range.start;
    let piece = text.get(range)?;
    let (parsed, tokens) = super::parse_with_tokens(FileId::default(), piece);
    if !parsed.diagnostics.is_empty() {
        return None;
    }
    let mut module = parsed.module;
    let (first, last) = (k == 0, k + 1 == n);
    if (!first && (module.header.is_some() || !module.imports.is_empty()))
        || (!last && module.body.is_some())
    {
        return None;
    }
    super::chunks::erase_positions(&mut module);
    if first && (module.header != before.header || module.imports != before.imports) {
        return None;
    }
    if last && module.body != before.body {
        return None;
    }
    let expected = before
        .decls
        .get(first_decl..first_decl.checked_add(module.decls.len())?)?;
    if module.decls.as_slice() != expected {
        return None;
    }
    let shift = u32::try_from(start).ok()?;
    let comments = find_comments(piece, &tokens)
        .into_iter()
        .map(|c| Comment {
            span: Span::new(c.span.start + shift, c.span.end + shift),
            ..c
        })
        .collect();
    Some(Piece {
        decls: module.decls.len(),
        n_exprs: module.n_exprs,
        comments,
    })
}

fn internal_error(message: &str) -> Vec<Diagnostic> {
    let mut diagnostic = Diagnostic::new(
        Code::E1001,
        format!("internal formatter error: {message}"),
        FileId::default(),
        Span::default(),
    );
    diagnostic.severity = Severity::Bug;
    vec![diagnostic]
}

// ---------------------------------------------------------------- comments

/// A comment found between two tokens.
#[derive(Clone, Copy, Debug)]
struct Comment {
    span: Span,
    /// Only whitespace lies between the start of its line and the comment (or it starts the
    /// file).
    own_line: bool,
    /// A blank line lies between the comment and the code or comment before it.
    blank_before: bool,
    /// A line break follows the comment before the next token or comment.
    newline_after: bool,
}

fn comment_text<'a>(src: &'a str, comment: &Comment) -> &'a str {
    src.get(comment.span.start as usize..comment.span.end as usize)
        .unwrap_or("")
}

/// The comments in the gaps between `tokens`, in order.
fn find_comments(src: &str, tokens: &[Token]) -> Vec<Comment> {
    let bytes = src.as_bytes();
    let mut res = Vec::new();
    let mut pos = if src.starts_with('\u{feff}') { 3 } else { 0 };
    let mut gap_start = pos;
    let mut first = true;
    for token in tokens {
        let end = (token.span.start as usize).min(bytes.len());
        while pos < end {
            // Only a `/` or a `-` may start a comment: skip the white space before one.
            match bytes
                .get(pos..end)
                .and_then(|gap| gap.iter().position(|&b| b == b'/' || b == b'-'))
            {
                Some(skip) => pos += skip,
                None => break,
            }
            let byte = bytes.get(pos).copied().unwrap_or(b' ');
            let next = bytes.get(pos + 1).copied().unwrap_or(0);
            let start = pos;
            let line = match (byte, next) {
                (b'/', b'/') | (b'-', b'-') => true,
                (b'/', b'*') => false,
                _ => {
                    pos += 1;
                    continue;
                }
            };
            pos = if line {
                bytes
                    .get(pos..end)
                    .and_then(|rest| rest.iter().position(|&b| b == b'\n'))
                    .map_or(end, |offset| pos + offset)
            } else {
                bytes
                    .get(pos + 2..end)
                    .and_then(|rest| rest.windows(2).position(|pair| pair == b"*/"))
                    .map_or(end, |offset| pos + 2 + offset + 2)
            };
            let before = bytes.get(gap_start..start).unwrap_or_default();
            let newlines = before.iter().filter(|&&b| b == b'\n').count();
            let after_end = bytes
                .get(pos..end)
                .and_then(|rest| rest.iter().position(|&b| !b.is_ascii_whitespace()))
                .map_or(end, |offset| pos + offset);
            let after = bytes.get(pos..after_end).unwrap_or_default();
            res.push(Comment {
                span: Span::new(start as u32, pos as u32),
                own_line: first || newlines > 0,
                blank_before: newlines > 1,
                newline_after: line || after.contains(&b'\n'),
            });
            first = false;
            gap_start = pos;
        }
        pos = (token.span.end as usize).max(pos);
        gap_start = pos;
        first = false;
    }
    res
}

// ---------------------------------------------------------------- documents

/// A document to lay out (Wadler's algebra plus what comments need). A document is a small
/// copyable value: the parts of a concatenation and the body of a nest or group live in the
/// builder's [`Arena`], one flat vector per top-level item that is cleared once the item is
/// printed, so building an item's document allocates next to nothing and dropping it is
/// free.
#[derive(Clone, Copy)]
enum Doc<'a> {
    /// A text and its width in columns ([`text_width`]: [`MULTILINE`] when it holds a
    /// line break).
    Text(&'a str, u32),
    /// One space, unless the output is at the start of a line or already ends with one.
    Space,
    /// A space in a flat group, a newline in a broken one.
    Line,
    /// Nothing in a flat group, a newline in a broken one.
    SoftLine,
    /// Text printed only when the enclosing group is broken.
    IfBreak(&'a str),
    /// A newline unless the output is at the start of a line; never fits flat.
    LineStart,
    /// A blank line before the next text; never fits flat.
    BlankLine,
    /// The next text starts a new line (after a line comment); never fits flat.
    EndLine,
    /// The arena's documents `start..start + len`, in turn.
    Concat { start: u32, len: u32, flat: Flat },
    /// The arena's document `at`, indented one more level when broken.
    Nest { at: u32, flat: Flat },
    /// The arena's document `at`, printed flat when it fits.
    Group { at: u32, flat: Flat },
}

/// What [`fits`] finds in a document printed flat, known when the document is built:
/// the columns it takes (all its parts flat), or that it can never be flat (a comment's
/// line break inside), or that it holds a text of several lines, whose columns depend on
/// where it starts (then `fits` walks it).
#[derive(Clone, Copy, PartialEq, Eq)]
struct Flat(usize);

impl Flat {
    /// A `LineStart`, `BlankLine` or `EndLine` inside: never fits flat.
    const NEVER: Flat = Flat(usize::MAX);
    /// A text of several lines inside: walk it.
    const WALK: Flat = Flat(usize::MAX - 1);
    /// The widest a known width is kept (anything wider fits in no line either).
    const WIDEST: usize = usize::MAX - 2;

    fn of(doc: &Doc<'_>) -> Flat {
        match doc {
            Doc::Text(_, MULTILINE) => Flat::WALK,
            Doc::Text(_, w) => Flat(*w as usize),
            Doc::Space | Doc::Line => Flat(1),
            Doc::SoftLine | Doc::IfBreak(_) => Flat(0),
            Doc::LineStart | Doc::BlankLine | Doc::EndLine => Flat::NEVER,
            Doc::Concat { flat, .. } | Doc::Nest { flat, .. } | Doc::Group { flat, .. } => *flat,
        }
    }

    /// Two documents in turn.
    fn then(self, other: Flat) -> Flat {
        if self == Flat::NEVER || other == Flat::NEVER {
            Flat::NEVER
        } else if self == Flat::WALK || other == Flat::WALK {
            Flat::WALK
        } else {
            Flat(self.0.saturating_add(other.0).min(Flat::WIDEST))
        }
    }
}

/// The parts of one top-level item's document (see [`Doc`]).
#[derive(Default)]
struct Arena<'a> {
    docs: Vec<Doc<'a>>,
}

impl<'a> Arena<'a> {
    fn at(&self, at: u32) -> Doc<'a> {
        self.docs
            .get(at as usize)
            .copied()
            .unwrap_or(Doc::Text("", 0))
    }

    fn parts(&self, start: u32, len: u32) -> &[Doc<'a>] {
        let start = start as usize;
        self.docs
            .get(start..start + len as usize)
            .unwrap_or_default()
    }

    fn push(&mut self, doc: Doc<'a>) -> u32 {
        let at = u32::try_from(self.docs.len()).unwrap_or(u32::MAX);
        self.docs.push(doc);
        at
    }

    fn concat(&mut self, docs: &[Doc<'a>]) -> Doc<'a> {
        let start = u32::try_from(self.docs.len()).unwrap_or(u32::MAX);
        let len = u32::try_from(docs.len()).unwrap_or(u32::MAX);
        let flat = docs
            .iter()
            .fold(Flat(0), |acc, doc| acc.then(Flat::of(doc)));
        self.docs.extend_from_slice(docs);
        Doc::Concat { start, len, flat }
    }

    fn nest(&mut self, doc: Doc<'a>) -> Doc<'a> {
        let flat = Flat::of(&doc);
        Doc::Nest {
            at: self.push(doc),
            flat,
        }
    }

    fn group(&mut self, doc: Doc<'a>) -> Doc<'a> {
        let flat = Flat::of(&doc);
        Doc::Group {
            at: self.push(doc),
            flat,
        }
    }

    /// `group(concat(docs))`.
    fn group_of(&mut self, docs: &[Doc<'a>]) -> Doc<'a> {
        let doc = self.concat(docs);
        self.group(doc)
    }

    /// `nest(concat(docs))`.
    fn nest_of(&mut self, docs: &[Doc<'a>]) -> Doc<'a> {
        let doc = self.concat(docs);
        self.nest(doc)
    }

    fn parens(&mut self, doc: Doc<'a>) -> Doc<'a> {
        self.concat(&[text("("), doc, text(")")])
    }

    fn clear(&mut self) {
        self.docs.clear();
    }
}

/// `concat([a, b, ...])` in the builder `b`'s arena (the parts are built first, so they
/// may use the builder).
macro_rules! cat {
    ($b:expr; $($doc:expr),* $(,)?) => {{
        let docs = [$($doc),*];
        $b.arena.concat(&docs)
    }};
}

/// `group(concat([a, b, ...]))` in the builder `b`'s arena.
macro_rules! group_cat {
    ($b:expr; $($doc:expr),* $(,)?) => {{
        let docs = [$($doc),*];
        $b.arena.group_of(&docs)
    }};
}

/// `nest(concat([a, b, ...]))` in the builder `b`'s arena.
macro_rules! nest_cat {
    ($b:expr; $($doc:expr),* $(,)?) => {{
        let docs = [$($doc),*];
        $b.arena.nest_of(&docs)
    }};
}

/// A vector of the documents `a, b, ...` from the builder `b`'s pool.
macro_rules! docs {
    ($b:expr; $($doc:expr),* $(,)?) => {{
        let items = [$($doc),*];
        let mut docs = $b.docs();
        docs.extend(items);
        docs
    }};
}

/// `(doc)` in the builder `b`'s arena.
macro_rules! parens {
    ($b:expr, $doc:expr) => {{
        let doc = $doc;
        $b.arena.parens(doc)
    }};
}

#[inline(always)]
fn text(s: &str) -> Doc<'_> {
    Doc::Text(s, text_width(s))
}

/// The width [`text_width`] gives a text that holds a line break.
const MULTILINE: u32 = u32::MAX;

/// The columns `s` takes (its characters, [`width_of`]), or [`MULTILINE`] when it holds a
/// line break. A plain loop, so that it is worked out while compiling for the builder's
/// many literal texts.
#[inline(always)]
fn text_width(s: &str) -> u32 {
    let mut w: u32 = 0;
    for &b in s.as_bytes() {
        if b == b'\n' {
            return MULTILINE;
        }
        // Every byte but a UTF-8 continuation byte starts a character.
        w = w.saturating_add(u32::from(b & 0xC0 != 0x80));
    }
    w.min(MULTILINE - 1)
}

// ---------------------------------------------------------------- printing

#[derive(Clone, Copy)]
struct Frame<'a> {
    indent: u32,
    flat: bool,
    doc: Doc<'a>,
}

struct Out {
    buf: String,
    /// Columns used on the current line (indentation included).
    col: usize,
    /// Nothing but indentation (not yet written) on the current line.
    line_start: bool,
    /// A line comment ended the line: the next text goes on a new line.
    end_line: bool,
    /// A blank line goes before the next text.
    blank: bool,
}

impl Out {
    fn newline(&mut self) {
        while self.buf.ends_with(' ') {
            self.buf.pop();
        }
        self.buf.push('\n');
        self.col = 0;
        self.line_start = true;
        self.end_line = false;
    }

    /// Writes `s`, whose width is `w` ([`text_width`]), at `indent` when it starts a line.
    fn text(&mut self, s: &str, w: u32, indent: u32) {
        if s.is_empty() {
            return;
        }
        if !(self.line_start || self.end_line || self.blank) {
            self.buf.push_str(s);
            self.advance(s, w);
            return;
        }
        if (self.end_line || self.blank) && !self.line_start {
            self.newline();
        }
        if self.blank {
            if !self.buf.is_empty() && !self.buf.ends_with("\n\n") {
                self.buf.push('\n');
            }
            self.blank = false;
        }
        if self.line_start {
            let spaces = SPACES.get(..indent as usize).unwrap_or(SPACES);
            self.buf.push_str(spaces);
            for _ in spaces.len()..indent as usize {
                self.buf.push(' ');
            }
            self.col = indent as usize;
            self.line_start = false;
        }
        self.buf.push_str(s);
        self.advance(s, w);
    }

    /// The column after `s` (of width `w`) was written.
    fn advance(&mut self, s: &str, w: u32) {
        if w != MULTILINE {
            self.col += w as usize;
            return;
        }
        match s.as_bytes().iter().rposition(|&b| b == b'\n') {
            Some(at) => self.col = width_of(s.get(at + 1..).unwrap_or("")),
            None => self.col += width_of(s),
        }
    }
}

fn width_of(s: &str) -> usize {
    if s.is_ascii() {
        s.len()
    } else {
        s.chars().count()
    }
}

impl Out {
    fn new(capacity: usize) -> Out {
        Out {
            buf: String::with_capacity(capacity),
            col: 0,
            line_start: true,
            end_line: false,
            blank: false,
        }
    }

    /// The text, ending with one line break (empty for an empty file).
    fn finish(mut self) -> String {
        if !self.line_start || self.end_line {
            self.newline();
        }
        while self.buf.ends_with("\n\n") {
            self.buf.pop();
        }
        if self.buf == "\n" {
            self.buf.clear();
        }
        self.buf
    }
}

/// The printing loop's two stacks, kept between items so that each item's printing
/// allocates nothing.
#[derive(Default)]
struct Stacks<'a> {
    frames: Vec<Frame<'a>>,
    scratch: Vec<(bool, Doc<'a>)>,
}

/// Lays `docs` (whose parts are in `arena`) out in turn in `width` columns after what
/// `out` holds.
fn print_into<'a>(
    out: &mut Out,
    docs: &[Doc<'a>],
    arena: &Arena<'a>,
    width: usize,
    stacks: &mut Stacks<'a>,
) {
    let Stacks { frames, scratch } = stacks;
    frames.clear();
    frames.extend(docs.iter().rev().map(|&doc| Frame {
        indent: 0,
        flat: false,
        doc,
    }));
    print_stack(out, frames, scratch, arena, width);
}

fn print_stack<'a>(
    out: &mut Out,
    stack: &mut Vec<Frame<'a>>,
    scratch: &mut Vec<(bool, Doc<'a>)>,
    arena: &Arena<'a>,
    width: usize,
) {
    while let Some(frame) = stack.pop() {
        match frame.doc {
            Doc::Text(s, w) => out.text(s, w, frame.indent),
            Doc::Space => {
                if !out.line_start && !out.end_line && !out.buf.ends_with(' ') {
                    out.text(" ", 1, frame.indent);
                }
            }
            Doc::Line | Doc::SoftLine if frame.flat => {
                // After a line comment, any line is a line break; after a comment's own
                // space, a flat line adds none.
                if out.end_line {
                    out.newline();
                } else if matches!(frame.doc, Doc::Line) && !out.buf.ends_with(' ') {
                    out.text(" ", 1, frame.indent);
                }
            }
            Doc::Line | Doc::SoftLine => {
                if !out.line_start {
                    out.newline();
                }
            }
            Doc::IfBreak(s) => {
                if !frame.flat {
                    out.text(s, text_width(s), frame.indent);
                }
            }
            Doc::LineStart => {
                if !out.line_start {
                    out.newline();
                }
            }
            Doc::BlankLine => out.blank = true,
            Doc::EndLine => out.end_line = true,
            Doc::Concat { start, len, .. } => stack.extend(
                arena
                    .parts(start, len)
                    .iter()
                    .rev()
                    .map(|&doc| Frame { doc, ..frame }),
            ),
            Doc::Nest { at, .. } => stack.push(Frame {
                indent: (frame.indent + INDENT).min(MAX_INDENT),
                doc: arena.at(at),
                ..frame
            }),
            Doc::Group { at, .. } => {
                let inner = arena.at(at);
                let flat = frame.flat
                    || fits(
                        width.saturating_sub(out.col),
                        width,
                        inner,
                        stack,
                        scratch,
                        arena,
                    );
                stack.push(Frame {
                    flat,
                    doc: inner,
                    ..frame
                });
            }
        }
    }
}

/// Whether `doc` printed flat, followed by the rest of the stack up to its next line break,
/// fits in `room` columns. A document printed flat whose [`Flat`] width is known is not
/// walked: flat, nothing in it ends the line or gives room back, so it fits exactly when
/// its width does.
fn fits<'a>(
    mut room: usize,
    width: usize,
    doc: Doc<'a>,
    rest: &[Frame<'a>],
    scratch: &mut Vec<(bool, Doc<'a>)>,
    arena: &Arena<'a>,
) -> bool {
    scratch.clear();
    scratch.push((true, doc));
    let mut rest = rest.iter().rev();
    loop {
        let (flat, doc) = match scratch.pop() {
            Some(it) => it,
            None => match rest.next() {
                Some(frame) => (frame.flat, frame.doc),
                None => return true,
            },
        };
        match doc {
            Doc::Concat { flat: known, .. }
            | Doc::Nest { flat: known, .. }
            | Doc::Group { flat: known, .. }
                if flat && known != Flat::WALK =>
            {
                if known == Flat::NEVER || known.0 > room {
                    return false;
                }
                room -= known.0;
            }
            Doc::Text(_, w) if w != MULTILINE => {
                let w = w as usize;
                if w > room {
                    return false;
                }
                room -= w;
            }
            Doc::Text(s, _) => {
                // A text of several lines (a string literal, a block comment) must fit
                // on its first line, and the rest goes on after its last.
                let mut lines = s.split('\n');
                let first = lines.next().unwrap_or("");
                if width_of(first) > room {
                    return false;
                }
                room -= width_of(first);
                if let Some(last) = lines.next_back() {
                    match width.checked_sub(width_of(last)) {
                        Some(left) => room = left,
                        None => return false,
                    }
                }
            }
            Doc::Space | Doc::Line if flat => {
                if room == 0 {
                    return false;
                }
                room -= 1;
            }
            Doc::Space => {
                if room == 0 {
                    return false;
                }
                room -= 1;
            }
            Doc::SoftLine if flat => {}
            Doc::Line | Doc::SoftLine => return true,
            Doc::IfBreak(s) => {
                if !flat {
                    let w = width_of(s);
                    if w > room {
                        return false;
                    }
                    room -= w;
                }
            }
            Doc::LineStart | Doc::BlankLine | Doc::EndLine => {
                if flat {
                    return false;
                }
                return true;
            }
            Doc::Concat { start, len, .. } => {
                scratch.extend(arena.parts(start, len).iter().rev().map(|&doc| (flat, doc)))
            }
            Doc::Nest { at, .. } | Doc::Group { at, .. } => scratch.push((flat, arena.at(at))),
        }
    }
}

// ---------------------------------------------------------------- building

struct Builder<'a> {
    src: &'a str,
    tokens: &'a [Token],
    comments: &'a [Comment],
    /// The first comment not yet printed.
    next: usize,
    /// Where the last token search ended ([`Builder::first_token_from`]).
    cursor: std::cell::Cell<usize>,
    /// The text so far.
    out: Out,
    width: usize,
    /// The printing loop's stacks, reused from item to item.
    stacks: Stacks<'a>,
    /// The parts of the current item's document.
    arena: Arena<'a>,
    /// Empty vectors for the parts of documents being built ([`Builder::docs`]).
    pool: Vec<Vec<Doc<'a>>>,
    /// A declaration laid out on one line ([`Builder::flat_decl`]).
    line: String,
    /// Whether simple declarations are laid out straight ([`Builder::flat_decl`]; the
    /// tests compare with their documents).
    direct: bool,
    /// Where the check may cut the text ([`VERIFY_PIECE_BYTES`] apart at least).
    cuts: Vec<Cut>,
    /// The least length of a piece between two cuts.
    piece_bytes: usize,
    /// The length of text from which the next cut is recorded.
    next_cut: usize,
}

/// How tightly an expression binds, loosest first (LANGUAGE.md 2.6).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Prec {
    /// A block (`\x ->`, `let`, `if`, `match`): its end extends as far right as it can.
    Block,
    Or,
    And,
    Eq,
    Cmp,
    Add,
    Mul,
    Unary,
    App,
    Atom,
}

fn binop_prec(op: BinOp) -> Prec {
    match op {
        BinOp::Or => Prec::Or,
        BinOp::And => Prec::And,
        BinOp::Eq | BinOp::Ne => Prec::Eq,
        BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => Prec::Cmp,
        BinOp::Add | BinOp::Sub | BinOp::Concat => Prec::Add,
        BinOp::Mul | BinOp::Div | BinOp::Rem => Prec::Mul,
    }
}

fn expr_prec(expr: &Expr) -> Prec {
    match &expr.kind {
        ExprKind::Lambda { .. }
        | ExprKind::Let { .. }
        | ExprKind::If { .. }
        | ExprKind::Match { .. } => Prec::Block,
        ExprKind::Binary { op, .. } => binop_prec(*op),
        ExprKind::Unary { .. } => Prec::Unary,
        ExprKind::App { .. } => Prec::App,
        _ => Prec::Atom,
    }
}

/// Whether an expression is laid out after `=`/`=>`/`->` on the same line when it breaks
/// (it opens a bracket of its own).
fn hugs(expr: &Expr) -> bool {
    match &expr.kind {
        ExprKind::Record { .. } | ExprKind::List(_) | ExprKind::Match { .. } => true,
        ExprKind::Lambda { .. } => true,
        ExprKind::App { args, .. } => args
            .last()
            .is_some_and(|it| matches!(it.kind, ExprKind::Record { .. } | ExprKind::List(_))),
        _ => false,
    }
}

/// Whether the printed expression starts with `{` (which a `match` scrutinee cannot have
/// in argument position: LANGUAGE.md 3, rule 2).
fn starts_with_brace(mut expr: &Expr) -> bool {
    loop {
        match &expr.kind {
            ExprKind::Record { .. } => return true,
            ExprKind::Field { expr: inner, .. } => expr = inner,
            _ => return false,
        }
    }
}

impl<'a> Builder<'a> {
    // ------------------------------------------------------------ document vectors

    /// An empty vector for the parts of a document, from the builder's pool.
    fn docs(&mut self) -> Vec<Doc<'a>> {
        self.pool.pop().unwrap_or_default()
    }

    /// `docs`, which goes back to the pool, as one concatenation in the arena.
    fn concat_vec(&mut self, mut docs: Vec<Doc<'a>>) -> Doc<'a> {
        let doc = self.arena.concat(&docs);
        docs.clear();
        self.pool.push(docs);
        doc
    }

    /// `group(concat(docs))`, `docs` going back to the pool.
    fn group_vec(&mut self, docs: Vec<Doc<'a>>) -> Doc<'a> {
        let doc = self.concat_vec(docs);
        self.arena.group(doc)
    }

    /// `nest(concat(docs))`, `docs` going back to the pool.
    fn nest_vec(&mut self, docs: Vec<Doc<'a>>) -> Doc<'a> {
        let doc = self.concat_vec(docs);
        self.arena.nest(doc)
    }
}

impl<'a> Builder<'a> {
    // ------------------------------------------------------------ comments

    /// The end of the last token that ends at or before `pos`.
    fn token_end_before(&self, pos: u32) -> u32 {
        let mut idx = self.first_token_from(pos);
        while let Some(prev) = idx.checked_sub(1).and_then(|i| self.tokens.get(i)) {
            if prev.span.end <= pos {
                return prev.span.end;
            }
            idx -= 1;
        }
        0
    }

    /// The index of the first token that starts at or after `pos`. The builder walks the
    /// file forwards, so the answer is usually at or just after the previous one.
    fn first_token_from(&self, pos: u32) -> usize {
        let starts_before = |i: usize| self.tokens.get(i).is_some_and(|t| t.span.start < pos);
        let mut idx = self.cursor.get();
        if idx > 0 && !starts_before(idx - 1) {
            idx = self.tokens.partition_point(|t| t.span.start < pos);
        } else {
            let mut steps = 0;
            while starts_before(idx) {
                idx += 1;
                steps += 1;
                if steps == 16 {
                    idx = self.tokens.partition_point(|t| t.span.start < pos);
                    break;
                }
            }
        }
        self.cursor.set(idx);
        idx
    }

    /// Whether a blank line lies between `pos` and the code or comment before it.
    fn blank_before(&self, pos: u32) -> bool {
        let mut from = self.token_end_before(pos);
        if let Some(prev) = self.next.checked_sub(1).and_then(|i| self.comments.get(i)) {
            if prev.span.end <= pos {
                from = from.max(prev.span.end);
            }
        }
        let gap = self
            .src
            .as_bytes()
            .get(from as usize..pos as usize)
            .unwrap_or_default();
        gap.iter().filter(|&&b| b == b'\n').count() > 1
    }

    fn comment_doc(&self, comment: &Comment, out: &mut Vec<Doc<'a>>) {
        if comment.own_line {
            if comment.blank_before {
                out.push(Doc::BlankLine);
            }
            out.push(Doc::LineStart);
        } else {
            out.push(Doc::Space);
        }
        out.push(text(comment_text(self.src, comment)));
        if comment.newline_after {
            out.push(Doc::EndLine);
        } else {
            out.push(Doc::Space);
        }
    }

    /// Every comment that starts before `pos`, for printing here.
    fn leading(&mut self, pos: u32, out: &mut Vec<Doc<'a>>) {
        while let Some(comment) = self.comments.get(self.next) {
            if comment.span.start >= pos {
                break;
            }
            self.next += 1;
            self.comment_doc(comment, out);
        }
    }

    /// The comments before `pos` that follow code on their line: they stay at its end.
    fn trailing(&mut self, pos: u32, out: &mut Vec<Doc<'a>>) {
        while let Some(comment) = self.comments.get(self.next) {
            if comment.span.start >= pos || comment.own_line {
                break;
            }
            self.next += 1;
            self.comment_doc(comment, out);
        }
    }

    /// `doc` preceded by the comments before `pos`.
    fn with_leading(&mut self, pos: u32, doc: impl FnOnce(&mut Self) -> Doc<'a>) -> Doc<'a> {
        if self
            .comments
            .get(self.next)
            .is_none_or(|c| c.span.start >= pos)
        {
            return doc(self);
        }
        let mut docs = self.docs();
        self.leading(pos, &mut docs);
        docs.push(doc(self));
        self.concat_vec(docs)
    }

    /// The source text of the first token of `kinds` inside `span`.
    fn literal(&self, span: Span, kinds: &[TokenKind]) -> &'a str {
        let idx = self.first_token_from(span.start);
        self.tokens
            .get(idx..)
            .unwrap_or_default()
            .iter()
            .take_while(|t| t.span.end <= span.end)
            .find(|t| kinds.contains(&t.kind))
            .and_then(|t| self.src.get(t.span.start as usize..t.span.end as usize))
            .unwrap_or("")
    }

    /// A bracketed, comma-separated sequence: `open items close`, flat when it fits, else
    /// one item per line. `close_at` is the position of the closing bracket (comments
    /// before it go inside).
    fn sequence<T: Copy>(
        &mut self,
        brackets: Brackets,
        items: &[T],
        start_of: impl Fn(&T) -> u32,
        close_at: u32,
        mut item: impl FnMut(&mut Self, T) -> Doc<'a>,
    ) -> Doc<'a> {
        let has_comments = self
            .comments
            .get(self.next)
            .is_some_and(|c| c.span.start < close_at);
        let Brackets {
            open,
            close,
            spaced,
        } = brackets;
        if items.is_empty() && !has_comments {
            return cat!(self; text(open), text(close));
        }
        let line = || if spaced { Doc::Line } else { Doc::SoftLine };
        let mut inner = self.docs();
        for (idx, it) in items.iter().enumerate() {
            let start = start_of(it);
            if idx == 0 {
                self.trailing(start, &mut inner);
                inner.push(line());
            }
            self.item_prefix(start, idx == 0, &mut inner);
            inner.push(item(self, *it));
            let next_start = items.get(idx + 1).map_or(close_at, &start_of);
            if idx + 1 < items.len() {
                inner.push(text(","));
            }
            self.trailing(next_start, &mut inner);
            if idx + 1 < items.len() {
                inner.push(Doc::Line);
            }
        }
        if items.is_empty() {
            inner.push(line());
        }
        self.leading(close_at, &mut inner);
        group_cat!(self;
            text(open),
            self.nest_vec(inner),
            line(),
            text(close),
        )
    }

    /// The comments before an item of a sequence at `pos`, with a blank line before and
    /// after them where the source had one or more (never before the first item).
    fn item_prefix(&mut self, pos: u32, first: bool, out: &mut Vec<Doc<'a>>) {
        if !first && self.next_comment_at_or_after(pos) && self.blank_before(pos) {
            out.push(Doc::BlankLine);
        }
        let before = self.next;
        self.leading(pos, out);
        if self.next > before && self.blank_before(pos) {
            out.push(Doc::BlankLine);
        }
    }

    /// Whether no unprinted comment lies before `pos` (a blank line before an item is only
    /// kept here when no comment carries it already).
    fn next_comment_at_or_after(&self, pos: u32) -> bool {
        self.comments
            .get(self.next)
            .is_none_or(|c| c.span.start >= pos)
    }

    // ------------------------------------------------------------ module

    /// Lays the module out into `self.out`, one top-level item at a time: no group spans
    /// two items, so each is printed (and its document dropped) before the next is built.
    fn module(&mut self, module: &'a ast::Module) {
        self.module_part(module, 0..module.decls.len(), true, true);
    }

    /// [`Builder::module`] for the declarations `decls` only, after the header and imports
    /// when `head`, before the trailing expression and last comments when `tail`.
    fn module_part(
        &mut self,
        module: &'a ast::Module,
        decls: std::ops::Range<usize>,
        head: bool,
        tail: bool,
    ) {
        let mut starts: Vec<u32> = Vec::new();
        starts.extend(module.header.iter().map(|h| h.span.start));
        starts.extend(module.imports.iter().map(|i| i.span.start));
        starts.extend(module.decls.iter().map(|d| d.span.start));
        starts.extend(module.body.iter().map(|b| b.span.start));
        let next_start = |idx: usize| starts.get(idx + 1).copied().unwrap_or(u32::MAX);
        let before_decls = usize::from(module.header.is_some()) + module.imports.len();
        // The index of the next item in the whole module (header, imports, declarations).
        let mut idx = decls.start + if head { 0 } else { before_decls };
        let mut docs = self.docs();
        if let Some(header) = module.header.as_ref().filter(|_| head) {
            self.item_prefix(header.span.start, idx == 0, &mut docs);
            docs.push(Doc::LineStart);
            docs.push(cat!(self; text("module "), text(&header.name), text(";")));
            self.trailing(next_start(idx), &mut docs);
            self.flush(&mut docs);
            idx += 1;
        }
        for import in module.imports.iter().filter(|_| head) {
            self.item_prefix(import.span.start, idx == 0, &mut docs);
            docs.push(Doc::LineStart);
            let doc = self.import(import);
            docs.push(doc);
            self.trailing(next_start(idx), &mut docs);
            self.flush(&mut docs);
            idx += 1;
        }
        for decl in module.decls.get(decls).unwrap_or_default() {
            self.item_prefix(decl.span.start, idx == 0, &mut docs);
            docs.push(Doc::LineStart);
            let flat = if self.direct && self.next_comment_at_or_after(next_start(idx)) {
                self.flat_decl(decl)
            } else {
                None
            };
            if let Some(width) = flat {
                // No comment before the next item: nothing follows on the line.
                if let [Doc::LineStart] = docs.as_slice() {
                    if !self.out.line_start {
                        self.out.newline();
                    }
                    docs.clear();
                } else {
                    self.flush(&mut docs);
                }
                let line = std::mem::take(&mut self.line);
                self.out.text(&line, width, 0);
                self.line = line;
            } else {
                let doc = self.decl(decl);
                docs.push(doc);
                self.trailing(next_start(idx), &mut docs);
                self.flush(&mut docs);
            }
            idx += 1;
            let at = self.out.buf.len();
            if at >= self.next_cut {
                self.cuts.push(Cut {
                    at,
                    decls: idx - before_decls,
                });
                self.next_cut = at + self.piece_bytes;
            }
        }
        if !tail {
            return;
        }
        if let Some(body) = &module.body {
            self.item_prefix(body.span.start, idx == 0, &mut docs);
            docs.push(Doc::LineStart);
            let doc = self.expr(body);
            docs.push(doc);
        }
        self.leading(u32::MAX, &mut docs);
        self.flush(&mut docs);
    }

    /// Lays a declaration of the simplest forms (`let x = f a "b";`: a `let` with no type,
    /// bound to a literal, a name or an application of one to such arguments) out straight
    /// into `self.line` when it fits on one line, without building its document. The caller
    /// has checked that no comment lies in or after it before the next item, and it starts
    /// a line (after `LineStart`): its document's outermost group would then be printed
    /// flat exactly when its flat width fits in the line width, and its flat layout is
    /// `self.line` (each `Line` a space, as no text before one ends with a space). Its width
    /// when it does; `None` (and `self.line` holds anything) for any other declaration, or
    /// one that does not fit.
    fn flat_decl(&mut self, decl: &'a ast::Decl) -> Option<u32> {
        let DeclKind::Let(l) = &decl.kind else {
            return None;
        };
        if l.ann.is_some() {
            return None;
        }
        let mut line = std::mem::take(&mut self.line);
        line.clear();
        if decl.exported {
            line.push_str("export ");
        }
        line.push_str(if l.rec { "let rec " } else { "let " });
        line.push_str(&l.name.name);
        line.push_str(" = ");
        let ok = self.flat_expr(&l.value, &mut line);
        line.push(';');
        let width = text_width(&line);
        self.line = line;
        (ok && width != MULTILINE && (width as usize) <= self.width).then_some(width)
    }

    /// `expr` laid out flat into `line` as [`Builder::expr`]'s document is printed flat,
    /// when it is a literal of one line, a name, or an application of a name to such
    /// arguments (no parentheses needed); `false` for anything else.
    fn flat_expr(&mut self, expr: &'a Expr, line: &mut String) -> bool {
        let text = match &expr.kind {
            ExprKind::Int(_) => self.literal(expr.span, &[TokenKind::Int]),
            ExprKind::Float(_) => self.literal(expr.span, &[TokenKind::Float]),
            ExprKind::Str(_) => self.literal(expr.span, &[TokenKind::Str]),
            ExprKind::Bool(true) => "true",
            ExprKind::Bool(false) => "false",
            ExprKind::Unit => "()",
            ExprKind::Var(name) | ExprKind::Ctor(name) => name,
            ExprKind::App { func, args } => {
                if !matches!(func.kind, ExprKind::Var(_) | ExprKind::Ctor(_)) {
                    return false;
                }
                if !self.flat_expr(func, line) {
                    return false;
                }
                for arg in args {
                    if expr_prec(arg) < Prec::Atom || matches!(arg.kind, ExprKind::App { .. }) {
                        return false;
                    }
                    line.push(' ');
                    if !self.flat_expr(arg, line) {
                        return false;
                    }
                }
                return true;
            }
            _ => return false,
        };
        // An empty text (a literal without its token) would swallow the space after it.
        if text.is_empty() || text.contains('\n') {
            return false;
        }
        line.push_str(text);
        true
    }

    fn flush(&mut self, docs: &mut Vec<Doc<'a>>) {
        print_into(
            &mut self.out,
            docs,
            &self.arena,
            self.width,
            &mut self.stacks,
        );
        docs.clear();
        self.arena.clear();
    }

    fn rename_items(&mut self, items: &'a [ast::RenameItem], close_at: u32) -> Doc<'a> {
        self.sequence(
            BRACES,
            &items.iter().collect::<Vec<_>>(),
            |it| it.span.start,
            close_at,
            |this, it| match &it.alias {
                Some(alias) => cat!(this; text(&it.name.name), text(" as "), text(&alias.name)),
                None => text(&it.name.name),
            },
        )
    }

    fn import(&mut self, import: &'a ast::Import) -> Doc<'a> {
        let path = match &import.path {
            ImportPath::Register(segments) => {
                let mut docs = self.docs();
                for (idx, seg) in segments.iter().enumerate() {
                    if idx > 0 {
                        docs.push(text("."));
                    }
                    docs.push(text(&seg.name));
                }
                self.concat_vec(docs)
            }
            ImportPath::Relative(lit) => text(self.lit_text(lit.span)),
        };
        let mut docs = docs![self; text("import "), path];
        match &import.kind {
            ImportKind::All => {}
            ImportKind::Alias(alias) => {
                docs.push(text(" as "));
                docs.push(text(&alias.name));
            }
            ImportKind::Items(items) => {
                docs.push(text(" "));
                let close_at = import.span.end.saturating_sub(2);
                docs.push(self.rename_items(items, close_at));
            }
        }
        docs.push(text(";"));
        self.group_vec(docs)
    }

    fn lit_text(&self, span: Span) -> &'a str {
        self.src
            .get(span.start as usize..span.end as usize)
            .unwrap_or("")
    }

    // ------------------------------------------------------------ declarations

    fn decl(&mut self, decl: &'a ast::Decl) -> Doc<'a> {
        let body = match &decl.kind {
            DeclKind::Let(l) => {
                let mut head = self.docs();
                head.push(text("let "));
                if l.rec {
                    head.push(text("rec "));
                }
                head.push(text(&l.name.name));
                if let Some(ann) = &l.ann {
                    head.push(text(" : "));
                    head.push(self.ty(ann, TyCtx::Full));
                }
                head.push(text(" ="));
                head.push(self.rhs(&l.value));
                head.push(text(";"));
                self.group_vec(head)
            }
            DeclKind::Type(t) => self.type_decl(t, decl.span.end),
            DeclKind::Class(c) => self.class_decl(c, decl.span.end),
            DeclKind::Instance(i) => self.instance_decl(i, decl.span.end),
            DeclKind::Export(items) => {
                let close_at = decl.span.end.saturating_sub(2);
                cat!(self;
                    text("export "),
                    self.rename_items(items, close_at),
                    text(";"),
                )
            }
        };
        if decl.exported {
            cat!(self; text("export "), body)
        } else {
            body
        }
    }

    /// ` value` after `=`, `=>` or `->`: on the same line when it opens a bracket, else on
    /// the next line, indented, when it does not fit.
    fn rhs(&mut self, value: &'a Expr) -> Doc<'a> {
        if hugs(value) {
            cat!(self; text(" "), self.expr(value))
        } else {
            nest_cat!(self; Doc::Line, self.expr(value))
        }
    }

    fn params(&mut self, params: &'a [ast::Ident]) -> Doc<'a> {
        let mut docs = self.docs();
        for p in params {
            docs.push(text(" '"));
            docs.push(text(&p.name));
        }
        self.concat_vec(docs)
    }

    fn type_decl(&mut self, t: &'a ast::TypeDecl, end: u32) -> Doc<'a> {
        let mut docs = docs![self; text("type "), text(&t.name.name), self.params(&t.params)];
        docs.push(text(" ="));
        match &t.rhs {
            TypeRhs::Union(variants) => {
                let mut inner = self.docs();
                for (idx, v) in variants.iter().enumerate() {
                    inner.push(Doc::Line);
                    let bar = if idx > 0 || variants.len() == 1 {
                        text("| ")
                    } else {
                        Doc::IfBreak("| ")
                    };
                    self.leading(v.span.start, &mut inner);
                    inner.push(bar);
                    inner.push(self.variant(v));
                    // The last variant's comments before the `;` stay before it.
                    let next = variants.get(idx + 1).map_or(end, |n| n.span.start);
                    self.trailing(next, &mut inner);
                }
                docs.push(self.nest_vec(inner));
            }
            TypeRhs::Alias(ty) => {
                if matches!(ty.kind, TypeKind::Record { .. }) {
                    docs.push(text(" "));
                    docs.push(self.ty(ty, TyCtx::Full));
                } else {
                    docs.push(nest_cat!(self; Doc::Line, self.ty(ty, TyCtx::Full)));
                }
            }
            TypeRhs::Lone { variant, .. } => {
                docs.push(nest_cat!(self; Doc::Line, self.variant(variant)));
            }
        }
        docs.push(text(";"));
        self.group_vec(docs)
    }

    fn variant(&mut self, v: &'a ast::Variant) -> Doc<'a> {
        match &v.payload {
            Some(payload) => cat!(self;
                text(&v.name.name),
                text(" "),
                self.ty(payload, TyCtx::Atom),
            ),
            None => text(&v.name.name),
        }
    }

    fn constraint(&mut self, c: &'a ast::Constraint) -> Doc<'a> {
        let mut docs = docs![self; self.qname(&c.class)];
        for arg in &c.args {
            docs.push(text(" "));
            docs.push(self.ty(arg, TyCtx::Atom));
        }
        self.concat_vec(docs)
    }

    fn qname(&mut self, q: &'a ast::QName) -> Doc<'a> {
        match &q.module {
            Some(m) => cat!(self; text(&m.name), text("."), text(&q.name.name)),
            None => text(&q.name.name),
        }
    }

    fn context(&mut self, context: &'a [ast::Constraint]) -> Doc<'a> {
        if let [one] = context {
            return self.constraint(one);
        }
        let mut docs = docs![self; text("(")];
        for (idx, c) in context.iter().enumerate() {
            if idx > 0 {
                docs.push(text(", "));
            }
            docs.push(self.constraint(c));
        }
        docs.push(text(")"));
        self.concat_vec(docs)
    }

    /// The items of a class or instance body, one per line, in source order.
    fn body_items(&mut self, mut items: Vec<(Span, BodyItem<'a>)>, end: u32) -> Doc<'a> {
        items.sort_by_key(|(span, _)| span.start);
        let mut inner = self.docs();
        for (idx, (span, it)) in items.iter().enumerate() {
            self.item_prefix(span.start, idx == 0, &mut inner);
            inner.push(Doc::LineStart);
            let doc = match it {
                BodyItem::Superclass(c) => {
                    cat!(self; text("superclass "), self.constraint(c), text(";"))
                }
                BodyItem::Sig(sig) => group_cat!(self;
                    text(&sig.name.name),
                    text(" : "),
                    self.ty(&sig.ty, TyCtx::Full),
                    text(";"),
                ),
                BodyItem::Def(def) => group_cat!(self;
                    text(&def.name.name),
                    text(" ="),
                    self.rhs(&def.value),
                    text(";"),
                ),
            };
            inner.push(doc);
            let next = items.get(idx + 1).map_or(end, |(s, _)| s.start);
            self.trailing(next, &mut inner);
        }
        self.nest_vec(inner)
    }

    fn class_decl(&mut self, c: &'a ast::ClassDecl, end: u32) -> Doc<'a> {
        let mut docs = docs![self;
            text("typeclass "),
            text(&c.name.name),
            self.params(&c.params),
        ];
        docs.push(text(" where"));
        let mut items = Vec::new();
        items.extend(
            c.superclasses
                .iter()
                .map(|s| (s.span, BodyItem::Superclass(s))),
        );
        items.extend(c.methods.iter().map(|m| (m.span, BodyItem::Sig(m))));
        items.extend(c.defaults.iter().map(|m| (m.span, BodyItem::Def(m))));
        docs.push(self.body_items(items, end));
        self.concat_vec(docs)
    }

    fn instance_decl(&mut self, i: &'a ast::InstanceDecl, end: u32) -> Doc<'a> {
        let mut docs = docs![self; text("instance ")];
        if !i.context.is_empty() {
            docs.push(self.context(&i.context));
            docs.push(text(" => "));
        }
        docs.push(self.qname(&i.class));
        for arg in &i.args {
            docs.push(text(" "));
            docs.push(self.ty(arg, TyCtx::Atom));
        }
        docs.push(text(" where"));
        let items = i
            .methods
            .iter()
            .map(|m| (m.span, BodyItem::Def(m)))
            .collect();
        docs.push(self.body_items(items, end));
        self.concat_vec(docs)
    }

    // ------------------------------------------------------------ types

    fn ty(&mut self, t: &'a Type, ctx: TyCtx) -> Doc<'a> {
        let needs = match (&t.kind, ctx) {
            (TypeKind::Con(_, args), TyCtx::Atom) => !args.is_empty(),
            (
                TypeKind::Fun(..) | TypeKind::Qualified { .. } | TypeKind::Refined { .. },
                TyCtx::Atom | TyCtx::App,
            ) => true,
            (TypeKind::Qualified { .. } | TypeKind::Refined { .. }, TyCtx::Fun) => true,
            _ => false,
        };
        let doc = self.with_leading(t.span.start, |this| this.ty_bare(t));
        if needs {
            parens!(self, doc)
        } else {
            doc
        }
    }

    fn ty_bare(&mut self, t: &'a Type) -> Doc<'a> {
        match &t.kind {
            TypeKind::Con(q, args) => {
                let mut docs = docs![self; self.qname(q)];
                for arg in args {
                    docs.push(text(" "));
                    docs.push(self.ty(arg, TyCtx::Atom));
                }
                self.concat_vec(docs)
            }
            TypeKind::Var(v) => cat!(self; text("'"), text(&v.name)),
            TypeKind::Fun(a, b) => {
                // A chain `a -> b -> c` is right-nested: walk it with a loop.
                let mut docs = docs![self; self.ty(a, TyCtx::App)];
                let mut rest: &Type = b;
                loop {
                    docs.push(text(" ->"));
                    match &rest.kind {
                        TypeKind::Fun(a, b) => {
                            docs.push(Doc::Line);
                            docs.push(self.ty(a, TyCtx::App));
                            rest = b;
                        }
                        _ => {
                            docs.push(Doc::Line);
                            docs.push(self.ty(rest, TyCtx::Fun));
                            break;
                        }
                    }
                }
                self.group_vec(docs)
            }
            TypeKind::List(inner) => {
                cat!(self; text("["), self.ty(inner, TyCtx::Full), text("]"))
            }
            TypeKind::Record { fields, rest } => {
                let close_at = t.span.end.saturating_sub(1);
                if fields.is_empty() {
                    return match rest {
                        Some(r) => cat!(self; text("{ | '"), text(&r.name), text(" }")),
                        None => text("{}"),
                    };
                }
                let seq = self.sequence(
                    BRACES,
                    &fields.iter().collect::<Vec<_>>(),
                    |f| f.name.span.start,
                    match rest {
                        Some(r) => r.span.start,
                        None => close_at,
                    },
                    |this, f| {
                        cat!(this;
                            text(&f.name.name),
                            text(": "),
                            this.ty(&f.ty, TyCtx::Full),
                        )
                    },
                );
                match rest {
                    // `{ a: T | 'r }`: the row variable goes before the closing brace.
                    Some(r) => {
                        let extra = cat!(self; text(" | '"), text(&r.name));
                        self.arena.insert_before_close(seq, extra)
                    }
                    None => seq,
                }
            }
            TypeKind::Refined { base, items, pred } => {
                let mut docs = docs![self; self.ty(base, TyCtx::App)];
                for item in items {
                    docs.push(Doc::Line);
                    docs.push(text("with "));
                    let doc = self.with_leading(item.span.start, |this| this.constraint_item(item));
                    docs.push(doc);
                }
                if let Some(pred) = pred {
                    docs.push(Doc::Line);
                    docs.push(text("where "));
                    docs.push(self.expr(pred));
                }
                group_cat!(self; self.nest_vec(docs))
            }
            TypeKind::Qualified { context, ty } => cat!(self;
                self.context(context),
                text(" => "),
                self.ty(ty, TyCtx::Fun),
            ),
            TypeKind::Error => text(self.lit_text(t.span)),
        }
    }

    fn constraint_item(&mut self, item: &'a ast::ConstraintItem) -> Doc<'a> {
        match &item.kind {
            ConstraintItemKind::Regexp(s) => cat!(self;
                text("regexp("),
                text(self.lit_text(s.span)),
                text(")"),
            ),
            ConstraintItemKind::Pattern(s) => cat!(self;
                text("pattern("),
                text(self.lit_text(s.span)),
                text(")"),
            ),
            ConstraintItemKind::Ge(e) => cat!(self; text(">= "), self.expr_at(e, Prec::Add)),
            ConstraintItemKind::Le(e) => cat!(self; text("<= "), self.expr_at(e, Prec::Add)),
            ConstraintItemKind::Call {
                module, func, args, ..
            } => {
                let mut docs = self.docs();
                if let Some(m) = module {
                    docs.push(text(&m.name));
                    docs.push(text("."));
                }
                docs.push(text(&func.name));
                docs.push(text("("));
                for (idx, arg) in args.iter().enumerate() {
                    if idx > 0 {
                        docs.push(text(", "));
                    }
                    docs.push(self.expr(arg));
                }
                docs.push(text(")"));
                self.concat_vec(docs)
            }
        }
    }

    // ------------------------------------------------------------ expressions

    /// An expression where anything binding at least as tightly as `min` may stand without
    /// parentheses.
    fn expr_at(&mut self, expr: &'a Expr, min: Prec) -> Doc<'a> {
        if expr_prec(expr) < min {
            parens!(self, self.expr(expr))
        } else {
            self.expr(expr)
        }
    }

    fn expr(&mut self, expr: &'a Expr) -> Doc<'a> {
        self.with_leading(expr.span.start, |this| this.expr_bare(expr))
    }

    fn expr_bare(&mut self, expr: &'a Expr) -> Doc<'a> {
        match &expr.kind {
            ExprKind::Int(_) => text(self.literal(expr.span, &[TokenKind::Int])),
            ExprKind::Float(_) => text(self.literal(expr.span, &[TokenKind::Float])),
            ExprKind::Str(_) => text(self.literal(expr.span, &[TokenKind::Str])),
            ExprKind::Bool(true) => text("true"),
            ExprKind::Bool(false) => text("false"),
            ExprKind::Unit => text("()"),
            ExprKind::Var(name) | ExprKind::Ctor(name) => text(name),
            ExprKind::Lambda { params, body } => {
                let mut docs = docs![self; text("\\")];
                for (idx, p) in params.iter().enumerate() {
                    if idx > 0 {
                        docs.push(text(" "));
                    }
                    let name = p.name.as_ref().map_or("_", |n| n.name.as_str());
                    match &p.ann {
                        Some(ann) => {
                            docs.push(text("("));
                            docs.push(text(name));
                            docs.push(text(" : "));
                            docs.push(self.ty(ann, TyCtx::Full));
                            docs.push(text(")"));
                        }
                        None => docs.push(text(name)),
                    }
                }
                docs.push(text(" ->"));
                docs.push(self.rhs(body));
                self.group_vec(docs)
            }
            ExprKind::App { func, args } => {
                let head = self.expr_at(func, Prec::Atom);
                let hug = hugs(expr);
                let mut docs = self.docs();
                let head = if hug {
                    docs.push(head);
                    None
                } else {
                    Some(head)
                };
                for arg in args {
                    docs.push(if hug { text(" ") } else { Doc::Line });
                    docs.push(self.expr_at(arg, Prec::Atom));
                }
                match head {
                    None => self.concat_vec(docs),
                    Some(head) => group_cat!(self; head, self.nest_vec(docs)),
                }
            }
            ExprKind::Let { .. } => self.let_chain(expr),
            ExprKind::If { .. } => self.if_chain(expr),
            ExprKind::Match { scrutinee, cases } => {
                let simple = match &scrutinee.kind {
                    ExprKind::App { func, args } => {
                        !starts_with_brace(func)
                            && args
                                .iter()
                                .all(|a| expr_prec(a) == Prec::Atom && !starts_with_brace(a))
                    }
                    _ => {
                        expr_prec(scrutinee) > Prec::Block
                            && !matches!(
                                scrutinee.kind,
                                ExprKind::Binary { .. } | ExprKind::Unary { .. }
                            )
                    }
                };
                let scrut = if simple {
                    self.expr(scrutinee)
                } else {
                    parens!(self, self.expr(scrutinee))
                };
                let cases_doc = self.sequence(
                    BRACES,
                    &cases.iter().collect::<Vec<_>>(),
                    |c| c.span.start,
                    expr.span.end.saturating_sub(1),
                    |this, c| this.case(c),
                );
                cat!(self; text("match "), scrut, text(" "), cases_doc)
            }
            ExprKind::Binary { .. } => self.binary_chain(expr),
            ExprKind::Unary { op, operand } => {
                let sym = match op {
                    UnOp::Neg => "-",
                    UnOp::Not => "!",
                };
                let inner = match operand.kind {
                    ExprKind::Unary { .. } => parens!(self, self.expr(operand)),
                    _ => self.expr_at(operand, Prec::Unary),
                };
                cat!(self; text(sym), inner)
            }
            ExprKind::Field { .. } => {
                // A chain `a.b.c` is left-nested: walk it with a loop.
                let mut fields = Vec::new();
                let mut base = expr;
                while let ExprKind::Field { expr: inner, field } = &base.kind {
                    fields.push(field);
                    base = inner;
                }
                let base_doc = match base.kind {
                    ExprKind::Var(_)
                    | ExprKind::Ctor(_)
                    | ExprKind::Str(_)
                    | ExprKind::Bool(_)
                    | ExprKind::Unit
                    | ExprKind::Record { .. }
                    | ExprKind::List(_)
                    | ExprKind::Ann { .. } => self.expr(base),
                    _ => parens!(self, self.expr(base)),
                };
                let mut docs = docs![self; base_doc];
                for field in fields.iter().rev() {
                    docs.push(text("."));
                    docs.push(text(&field.name));
                }
                self.concat_vec(docs)
            }
            ExprKind::Record {
                base: Some(base),
                fields,
            } if fields.is_empty() => cat!(self; text("{ ..."), self.expr(base), text(" }")),
            ExprKind::Record { base, fields } => {
                let close_at = expr.span.end.saturating_sub(1);
                // The spread is the first item, so comments around it are placed as
                // around a field.
                let items: Vec<RecordItem<'a>> = base
                    .iter()
                    .map(|b| RecordItem::Base(b))
                    .chain(fields.iter().map(RecordItem::Field))
                    .collect();
                self.sequence(
                    BRACES,
                    &items,
                    |it| match it {
                        RecordItem::Base(b) => b.span.start,
                        RecordItem::Field(f) => f.name.span.start,
                    },
                    close_at,
                    |this, it| match it {
                        RecordItem::Base(b) => cat!(this; text("..."), this.expr(b)),
                        RecordItem::Field(f) => group_cat!(this;
                            text(&f.name.name),
                            text(" ="),
                            this.rhs(&f.value),
                        ),
                    },
                )
            }
            ExprKind::List(items) => self.sequence(
                BRACKETS,
                &items.iter().collect::<Vec<_>>(),
                |e| e.span.start,
                expr.span.end.saturating_sub(1),
                |this, e| this.expr(e),
            ),
            ExprKind::Ann { expr: inner, ty } => cat!(self;
                text("("),
                self.expr(inner),
                text(" : "),
                self.ty(ty, TyCtx::Full),
                text(")"),
            ),
            ExprKind::Error => text(self.lit_text(expr.span)),
        }
    }

    fn case(&mut self, c: &'a ast::Case) -> Doc<'a> {
        let mut docs = docs![self; self.pattern(&c.pat, false)];
        if let Some(guard) = &c.guard {
            docs.push(text(" when "));
            docs.push(self.expr(guard));
        }
        docs.push(text(" =>"));
        docs.push(self.rhs(&c.body));
        self.group_vec(docs)
    }

    /// `let a = 1 in let b = 2 in body`: one line when it fits, else one `let` per line.
    fn let_chain(&mut self, mut expr: &'a Expr) -> Doc<'a> {
        let mut docs = self.docs();
        let mut first = true;
        while let ExprKind::Let {
            rec,
            name,
            ann,
            value,
            body,
        } = &expr.kind
        {
            if !first {
                docs.push(Doc::Line);
                self.leading(expr.span.start, &mut docs);
            }
            first = false;
            let mut head = docs![self; text("let ")];
            if *rec {
                head.push(text("rec "));
            }
            head.push(text(&name.name));
            if let Some(ann) = ann {
                head.push(text(" : "));
                head.push(self.ty(ann, TyCtx::Full));
            }
            head.push(text(" ="));
            head.push(self.rhs(value));
            head.push(text(" in"));
            docs.push(self.group_vec(head));
            expr = body;
        }
        docs.push(Doc::Line);
        docs.push(self.expr(expr));
        self.group_vec(docs)
    }

    /// `if a then x else if b then y else z`: one line when it fits, else each branch
    /// indented on its own line.
    fn if_chain(&mut self, mut expr: &'a Expr) -> Doc<'a> {
        let mut docs = self.docs();
        let mut first = true;
        while let ExprKind::If {
            cond,
            then_branch,
            else_branch,
        } = &expr.kind
        {
            if !first {
                self.leading(expr.span.start, &mut docs);
            }
            docs.push(text("if "));
            first = false;
            docs.push(self.expr(cond));
            docs.push(text(" then"));
            docs.push(nest_cat!(self; Doc::Line, self.expr(then_branch)));
            docs.push(Doc::Line);
            docs.push(text("else"));
            if matches!(else_branch.kind, ExprKind::If { .. }) {
                docs.push(text(" "));
                expr = else_branch;
            } else {
                docs.push(nest_cat!(self; Doc::Line, self.expr(else_branch)));
                break;
            }
        }
        self.group_vec(docs)
    }

    /// `a + b - c`: a left-nested chain of operators of one precedence, walked with a loop.
    fn binary_chain(&mut self, expr: &'a Expr) -> Doc<'a> {
        let ExprKind::Binary { op, .. } = &expr.kind else {
            return self.expr(expr);
        };
        let prec = binop_prec(*op);
        let assoc = !matches!(prec, Prec::Eq | Prec::Cmp);
        let mut rights = Vec::new();
        let mut left = expr;
        while let ExprKind::Binary { op, lhs, rhs, .. } = &left.kind {
            if binop_prec(*op) != prec || (!assoc && !rights.is_empty()) {
                break;
            }
            rights.push((*op, &**rhs));
            left = lhs;
        }
        let lhs_doc = if expr_prec(left) < prec || (!assoc && expr_prec(left) == prec) {
            parens!(self, self.expr(left))
        } else {
            self.expr(left)
        };
        let mut rest = self.docs();
        for (op, rhs) in rights.into_iter().rev() {
            rest.push(Doc::Line);
            rest.push(text(op.as_str()));
            rest.push(text(" "));
            let doc = if expr_prec(rhs) <= prec {
                parens!(self, self.expr(rhs))
            } else {
                self.expr(rhs)
            };
            rest.push(doc);
        }
        group_cat!(self; lhs_doc, self.nest_vec(rest))
    }

    // ------------------------------------------------------------ patterns

    /// A pattern; `atom` when it stands as a constructor's payload.
    fn pattern(&mut self, pat: &'a Pattern, atom: bool) -> Doc<'a> {
        let doc = self.with_leading(pat.span.start, |this| this.pattern_bare(pat));
        match &pat.kind {
            PatternKind::Ctor {
                payload: Some(_), ..
            } if atom => parens!(self, doc),
            _ => doc,
        }
    }

    fn pattern_bare(&mut self, pat: &'a Pattern) -> Doc<'a> {
        match &pat.kind {
            PatternKind::Wildcard => text("_"),
            PatternKind::Var(v) => text(&v.name),
            PatternKind::Lit(lit) => match lit {
                ast::Literal::Bool(true) => text("true"),
                ast::Literal::Bool(false) => text("false"),
                ast::Literal::Unit => text("()"),
                ast::Literal::Str(_) => text(self.literal(pat.span, &[TokenKind::Str])),
                ast::Literal::Int(_) | ast::Literal::Float(_) => {
                    let number = self.literal(pat.span, &[TokenKind::Int, TokenKind::Float]);
                    let negative = self.literal(pat.span, &[TokenKind::Minus]) == "-";
                    if negative {
                        cat!(self; text("-"), text(number))
                    } else {
                        text(number)
                    }
                }
            },
            PatternKind::Ctor {
                module,
                name,
                payload,
            } => {
                let mut docs = self.docs();
                if let Some(m) = module {
                    docs.push(text(&m.name));
                    docs.push(text("."));
                }
                docs.push(text(&name.name));
                if let Some(p) = payload {
                    docs.push(text(" "));
                    docs.push(self.pattern(p, true));
                }
                self.concat_vec(docs)
            }
            PatternKind::Record { fields, open } => {
                let close_at = pat.span.end.saturating_sub(1);
                if fields.is_empty() {
                    return if *open { text("{ .. }") } else { text("{}") };
                }
                let seq = self.sequence(
                    BRACES,
                    &fields.iter().collect::<Vec<_>>(),
                    |f| f.name.span.start,
                    close_at,
                    |this, f| match &f.pat.kind {
                        PatternKind::Var(v) if v.name == f.name.name => text(&f.name.name),
                        _ => cat!(this;
                            text(&f.name.name),
                            text(" = "),
                            this.pattern(&f.pat, false),
                        ),
                    },
                );
                if *open {
                    self.arena.insert_before_close(seq, text(", .."))
                } else {
                    seq
                }
            }
            PatternKind::List(items) => self.sequence(
                BRACKETS,
                &items.iter().collect::<Vec<_>>(),
                |p| p.span.start,
                pat.span.end.saturating_sub(1),
                |this, p| this.pattern(p, false),
            ),
            PatternKind::Error => text(self.lit_text(pat.span)),
        }
    }
}

/// The brackets of a sequence, and whether a flat one has spaces inside them.
#[derive(Clone, Copy)]
struct Brackets {
    open: &'static str,
    close: &'static str,
    spaced: bool,
}

const BRACES: Brackets = Brackets {
    open: "{",
    close: "}",
    spaced: true,
};

const BRACKETS: Brackets = Brackets {
    open: "[",
    close: "]",
    spaced: false,
};

/// An item of a record literal: the spread or a field.
#[derive(Clone, Copy)]
enum RecordItem<'a> {
    Base(&'a Expr),
    Field(&'a ast::FieldInit),
}

enum BodyItem<'a> {
    Superclass(&'a ast::Constraint),
    Sig(&'a ast::MethodSig),
    Def(&'a ast::MethodDef),
}

/// Where a type stands, which decides its parentheses.
#[derive(Clone, Copy)]
enum TyCtx {
    /// Anywhere a whole type may stand.
    Full,
    /// The right of `->` or of `=>`: no refinement or context without parentheses.
    Fun,
    /// An `app_type`: the left of `->`, a refinement's base.
    App,
    /// An argument of a type constructor, a payload.
    Atom,
}

impl<'a> Arena<'a> {
    /// `group([open, nest(inner), line, close])` with `extra` before the closing line.
    fn insert_before_close(&mut self, seq: Doc<'a>, extra: Doc<'a>) -> Doc<'a> {
        let Doc::Group { at, .. } = seq else {
            return seq;
        };
        let inner = self.at(at);
        let Doc::Concat { start, len, .. } = inner else {
            return self.group(inner);
        };
        let mut parts = self.parts(start, len).to_vec();
        if let Some(Doc::Nest { at: body, .. }) = parts.get(1).copied() {
            let body = self.at(body);
            let nested = self.nest_of(&[body, extra]);
            if let Some(slot) = parts.get_mut(1) {
                *slot = nested;
            }
        }
        self.group_of(&parts)
    }
}

#[cfg(test)]
mod tests;
