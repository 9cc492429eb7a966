//! The parser: tokens to [`ast::Module`].
//!
//! Recursive descent for declarations, types and patterns; precedence climbing for the binary
//! operators of LANGUAGE.md section 2.6. The disambiguation rules of section 3 are applied
//! where they arise: the match-scrutinee flag (`no_brace_arg`, rule 2), the top-level `let`
//! that turns into the trailing expression (rule 3), class and instance bodies that end at the
//! first token that cannot start an item (rule 4), the union/alias/lone split of a type
//! right-hand side (rule 5), contexts found by their `=>` (rule 6) and so on.
//!
//! Errors are data. Every top-level item (import, declaration, trailing expression) is parsed
//! in one go; the first structural error inside it is reported and sets `in_error`, which
//! silences every further diagnostic of that item (no cascades). Parse functions always return
//! a node, with `Error` placeholders where something was missing, and never loop without
//! consuming a token. After an item with an error, the top level skips to the next `;` at
//! nesting level 0 or the next token that starts a declaration.
//!
//! Nesting is counted (`depth`): every bracket, block, type and pattern entered, every link of a
//! prefix-operator chain, of a binary-operator chain and of a field-access chain adds one
//! construct. A `let ... in` or `else if` chain is one construct however long: it continues to
//! the right instead of nesting (LANGUAGE.md section 12.4). Long chains are parsed with loops,
//! so the Rust stack only grows with bracket-like nesting. Beyond [`NESTING_BUDGET`] the
//! parser reports E1009 once and jumps to the end of the file.

use crate::diagnostic::{Code, Diagnostic};
use crate::interrupt::{self, Poll};
use crate::source::{FileId, Span};

use super::ast::{self, Expr, ExprId, ExprKind, Ident, Name, Pattern, PatternKind, Type, TypeKind};
use super::lexer::{self, Token, TokenKind as T};
use super::NESTING_BUDGET;

pub(crate) struct Parser<'a> {
    file: FileId,
    text: &'a str,
    tokens: Vec<Token>,
    pos: usize,
    diagnostics: Vec<Diagnostic>,
    next_id: u32,
    depth: u32,
    /// An error was reported in the current top-level item: further ones are dropped.
    in_error: bool,
    nesting_reported: bool,
    /// [`Parser::let_has_in`] for every token position, computed on its first use.
    let_in: Option<Vec<bool>>,
    /// Inside a `match` scrutinee and outside any brackets: `{` starts no argument (rule 2).
    no_brace_arg: bool,
    /// Polled at every token consumed; once it stops, the parser sees the end of the text.
    poll: Poll<'a>,
    /// The arguments and list items being parsed, innermost last: each application or list
    /// takes its own off the top into a vector of exactly their number (no growth, no
    /// shrinking, and no vector in the recursive frames).
    pending: Vec<Expr>,
    /// The lexer's count of `;` outside brackets.
    n_top_semis: usize,
}

/// A `let [rec] name [: T] = value` head, shared by declarations and `let ... in`.
struct LetHead {
    start: u32,
    rec: bool,
    name: Ident,
    ann: Option<Box<Type>>,
    value: Expr,
}

/// What a parenthesised group in argument position turned out to be.
enum Paren {
    One(Expr),
    /// `f(a, b)`: the argument list.
    Args(Vec<Expr>),
}

/// Binding levels of the binary operators (higher binds tighter).
const LEVEL_OR: u8 = 1;
const LEVEL_AND: u8 = 2;
const LEVEL_EQ: u8 = 3;
const LEVEL_CMP: u8 = 4;
const LEVEL_ADD: u8 = 5;
const LEVEL_MUL: u8 = 6;

fn binary_op(kind: T) -> Option<(ast::BinOp, u8)> {
    use ast::BinOp::*;
    let res = match kind {
        T::OrOr => (Or, LEVEL_OR),
        T::AndAnd => (And, LEVEL_AND),
        T::EqEq => (Eq, LEVEL_EQ),
        T::NotEq => (Ne, LEVEL_EQ),
        T::Lt => (Lt, LEVEL_CMP),
        T::LtEq => (Le, LEVEL_CMP),
        T::Gt => (Gt, LEVEL_CMP),
        T::GtEq => (Ge, LEVEL_CMP),
        T::Plus => (Add, LEVEL_ADD),
        T::Minus => (Sub, LEVEL_ADD),
        T::PlusPlus => (Concat, LEVEL_ADD),
        T::Star => (Mul, LEVEL_MUL),
        T::Slash => (Div, LEVEL_MUL),
        T::Percent => (Rem, LEVEL_MUL),
        _ => return None,
    };
    Some(res)
}

fn starts_block(kind: T) -> bool {
    matches!(kind, T::Backslash | T::Let | T::If | T::Match)
}

/// For each position `p` (a `let` there): whether, scanning the tokens after `p` with any
/// bracket counted as a level, an `in` at level 0 comes before a `;` at level 0 or the end
/// of the text; a bracket closing below level 0 (the `let` is inside it) also answers yes.
/// One backward pass with a stack of the answer at each open level.
fn let_in_answers(tokens: &[Token]) -> Vec<bool> {
    let mut answers = vec![false; tokens.len()];
    // The answer for the tokens before the current one, at each level entered (backward, a
    // closing bracket enters a level, an opening one leaves it).
    let mut levels: Vec<bool> = vec![false];
    for (idx, token) in tokens.iter().enumerate().rev() {
        let here = levels.last().copied().unwrap_or(false);
        if let Some(slot) = answers.get_mut(idx) {
            *slot = here;
        }
        match token.kind {
            T::In => {
                if let Some(top) = levels.last_mut() {
                    *top = true;
                }
            }
            T::Semi | T::Eof => {
                if let Some(top) = levels.last_mut() {
                    *top = false;
                }
            }
            // Inside the bracket, reaching it closes the `let`'s level: yes.
            T::RParen | T::RBrace | T::RBracket => levels.push(true),
            T::LParen | T::LBrace | T::LBracket => {
                if levels.len() > 1 {
                    levels.pop();
                } else if let Some(top) = levels.last_mut() {
                    // Never closed: a scan from before it runs to the end of the text.
                    *top = false;
                }
            }
            _ => {}
        }
    }
    answers
}

fn starts_decl(kind: T) -> bool {
    matches!(
        kind,
        T::Let | T::Type | T::Typeclass | T::Instance | T::Export
    )
}

fn starts_atype(kind: T) -> bool {
    matches!(
        kind,
        T::UIdent | T::LIdent | T::TyVar | T::LParen | T::LBracket | T::LBrace | T::Error
    )
}

fn starts_apat(kind: T) -> bool {
    matches!(
        kind,
        T::Underscore
            | T::LIdent
            | T::UIdent
            | T::Minus
            | T::Int
            | T::Float
            | T::Str
            | T::True
            | T::False
            | T::LParen
            | T::LBrace
            | T::LBracket
            | T::Error
    )
}

impl<'a> Parser<'a> {
    pub(crate) fn new(file: FileId, text: &'a str, mut poll: Poll<'a>) -> Parser<'a> {
        let lexed = lexer::lex_polling(file, text, &mut poll);
        Parser {
            n_top_semis: lexed.n_top_semis,
            poll,
            file,
            text,
            tokens: lexed.tokens,
            pos: 0,
            diagnostics: lexed.diagnostics,
            next_id: 0,
            depth: 0,
            in_error: false,
            nesting_reported: false,
            let_in: None,
            no_brace_arg: false,
            pending: Vec::new(),
        }
    }

    /// The diagnostics; only R3008 when the interrupt stopped the parse (the tree is then
    /// partial, and what went wrong at its cut-off end is no error of the text).
    /// [`Parser::finish`], also giving back the tokens (the formatter finds the comments
    /// between them).
    pub(crate) fn finish_with_tokens(mut self) -> (Vec<Diagnostic>, Vec<Token>) {
        let tokens = std::mem::take(&mut self.tokens);
        (self.finish(), tokens)
    }

    pub(crate) fn finish(self) -> Vec<Diagnostic> {
        if self.poll.stopped() {
            let at = self.prev_end();
            return vec![interrupt::cancelled(
                "parsing",
                self.file,
                Span::new(at, at),
            )];
        }
        self.diagnostics
    }

    // ------------------------------------------------------------ tokens

    fn nth(&self, n: usize) -> T {
        self.tokens.get(self.pos + n).map_or(T::Eof, |it| it.kind)
    }

    fn peek(&self) -> T {
        self.nth(0)
    }

    fn token(&self) -> Token {
        match self.tokens.get(self.pos) {
            Some(token) => *token,
            None => {
                let end = self.text.len() as u32;
                Token {
                    kind: T::Eof,
                    span: Span::new(end, end),
                }
            }
        }
    }

    fn span(&self) -> Span {
        self.token().span
    }

    fn start(&self) -> u32 {
        self.span().start
    }

    /// The end of the last consumed token (the start of the text before any).
    fn prev_end(&self) -> u32 {
        match self.pos.checked_sub(1).and_then(|idx| self.tokens.get(idx)) {
            Some(token) => token.span.end,
            None => self.span().start,
        }
    }

    /// The span from `start` to the end of the last consumed token.
    fn finish_span(&self, start: u32) -> Span {
        let end = self.prev_end();
        Span::new(start.min(end), end)
    }

    /// An empty span where a missing node would have been.
    fn missing_span(&self) -> Span {
        let end = self.prev_end();
        Span::new(end, end)
    }

    fn bump(&mut self) -> Token {
        let token = self.token();
        if token.kind != T::Eof {
            self.pos += 1;
            if self.poll.stop() {
                // Stopped: the rest of the text is not read (the tokens end with `Eof`).
                self.pos = self.tokens.len().saturating_sub(1);
            }
        }
        token
    }

    fn eat(&mut self, kind: T) -> bool {
        if self.peek() == kind {
            self.bump();
            true
        } else {
            false
        }
    }

    fn slice(&self, span: Span) -> &'a str {
        self.text
            .get(span.start as usize..span.end as usize)
            .unwrap_or("")
    }

    fn name_of(&self, token: Token) -> Ident {
        Ident {
            name: Name::new(self.slice(token.span)),
            span: token.span,
        }
    }

    fn placeholder_ident(&self) -> Ident {
        Ident {
            name: Name::default(),
            span: self.missing_span(),
        }
    }

    /// Describes the current token for messages: "`let`", "end of file", ...
    fn found(&self) -> String {
        let token = self.token();
        match token.kind {
            T::Eof => "end of file".to_owned(),
            T::Int | T::Float => format!("number `{}`", self.slice(token.span)),
            T::Str => "a string literal".to_owned(),
            T::LIdent | T::UIdent => format!("`{}`", self.slice(token.span)),
            T::TyVar => format!("type variable `{}`", self.slice(token.span)),
            T::Error => "an invalid token".to_owned(),
            kind if kind.is_keyword() => format!("keyword `{}`", kind.text().unwrap_or("")),
            kind => format!("`{}`", kind.text().unwrap_or("")),
        }
    }

    // ------------------------------------------------------------ diagnostics

    /// Reports a structural error: the first of the current item is kept, the rest dropped.
    /// An error at an invalid token is not reported again (the lexer did).
    fn report(&mut self, diagnostic: Diagnostic) {
        if !self.in_error && self.peek() != T::Error {
            self.diagnostics.push(diagnostic);
        }
        self.in_error = true;
    }

    /// Reports a problem that does not disturb parsing (E1007, E1010, E1011).
    fn report_soft(&mut self, diagnostic: Diagnostic) {
        if !self.in_error {
            self.diagnostics.push(diagnostic);
        }
    }

    fn unexpected(&mut self, expected: &str) {
        let message = format!("expected {expected}, found {}", self.found());
        let span = self.span();
        self.report(Diagnostic::new(Code::E1001, message, self.file, span));
    }

    fn unexpected_with_help(&mut self, expected: &str, help: &str) {
        let message = format!("expected {expected}, found {}", self.found());
        let span = self.span();
        self.report(Diagnostic::new(Code::E1001, message, self.file, span).with_help(help));
    }

    fn expect(&mut self, kind: T) -> bool {
        if self.eat(kind) {
            return true;
        }
        self.unexpected(&format!("`{}`", kind.text().unwrap_or("?")));
        false
    }

    /// Expects the closing bracket of the group opened at `open`.
    fn expect_closing(&mut self, kind: T, open: Span) -> bool {
        if self.eat(kind) {
            return true;
        }
        let message = format!(
            "expected `{}`, found {}",
            kind.text().unwrap_or("?"),
            self.found()
        );
        let span = self.span();
        let diagnostic = Diagnostic::new(Code::E1001, message, self.file, span).with_label(
            self.file,
            open,
            "unclosed delimiter",
        );
        self.report(diagnostic);
        false
    }

    fn expect_semi(&mut self, what: &str) -> bool {
        if self.eat(T::Semi) {
            return true;
        }
        self.unexpected_with_help(
            &format!("`;` after {what}"),
            &format!("add `;` to end {what}"),
        );
        false
    }

    fn expect_lident(&mut self, what: &str) -> Option<Ident> {
        self.expect_name(T::LIdent, what)
    }

    fn expect_uident(&mut self, what: &str) -> Option<Ident> {
        self.expect_name(T::UIdent, what)
    }

    /// A name of the given case. A keyword or a name of the other case is reported but
    /// consumed and returned, so that the rest of the item still parses.
    fn expect_name(&mut self, kind: T, what: &str) -> Option<Ident> {
        let found = self.peek();
        if found == kind {
            let token = self.bump();
            return Some(self.name_of(token));
        }
        if found.is_keyword() {
            let keyword = found.text().unwrap_or("");
            self.unexpected_with_help(what, &format!("`{keyword}` is a reserved word"));
        } else {
            self.unexpected(what);
        }
        if found.is_keyword() || matches!(found, T::LIdent | T::UIdent) {
            let token = self.bump();
            return Some(self.name_of(token));
        }
        None
    }

    /// FIELD: any identifier or keyword.
    fn expect_field(&mut self) -> Option<Ident> {
        let kind = self.peek();
        if matches!(kind, T::LIdent | T::UIdent) || kind.is_keyword() {
            let token = self.bump();
            return Some(self.name_of(token));
        }
        self.unexpected("a field name");
        None
    }

    /// Reports every name that occurs twice among `items` (E1010), pointing at the later
    /// occurrence. `name` picks an item's name (`None` for `_`).
    fn check_duplicates<I>(
        &mut self,
        items: &[I],
        name: impl Fn(&I) -> Option<&Ident>,
        what: &str,
    ) {
        if items.len() < 2 {
            return;
        }
        let report = |this: &mut Self, first: &Ident, again: &Ident| {
            let diagnostic = Diagnostic::new(
                Code::E1010,
                format!("{what} `{}` appears twice", again.name),
                this.file,
                again.span,
            )
            .with_label(this.file, first.span, "first used here");
            this.report_soft(diagnostic);
        };
        if items.len() <= 16 {
            for (idx, item) in items.iter().enumerate() {
                let Some(again) = name(item) else { continue };
                let earlier = items.get(..idx).unwrap_or_default();
                if let Some(first) = earlier
                    .iter()
                    .filter_map(&name)
                    .find(|it| it.name == again.name)
                {
                    report(self, first, again);
                }
            }
        } else {
            let mut seen: std::collections::HashMap<&str, &Ident> =
                std::collections::HashMap::with_capacity(items.len());
            for again in items.iter().filter_map(&name) {
                match seen.get(again.name.as_str()) {
                    Some(first) => report(self, first, again),
                    None => {
                        seen.insert(again.name.as_str(), again);
                    }
                }
            }
        }
    }

    // ------------------------------------------------------------ nesting

    /// Enters `n` levels of nesting; false (after reporting E1009 once and jumping to the end
    /// of the file) when that goes beyond the limit. The caller leaves the levels either way.
    fn enter(&mut self, n: u32) -> bool {
        self.depth = self.depth.saturating_add(n);
        if self.depth <= NESTING_BUDGET {
            return true;
        }
        if !self.nesting_reported {
            self.nesting_reported = true;
            let span = self.span();
            self.diagnostics.push(
                Diagnostic::new(
                    Code::E1009,
                    format!("nesting too deep: more than {NESTING_BUDGET} nested constructs"),
                    self.file,
                    span,
                )
                .with_help("split the expression into several declarations"),
            );
        }
        self.in_error = true;
        self.pos = self.tokens.len().saturating_sub(1);
        false
    }

    fn leave(&mut self, n: u32) {
        self.depth = self.depth.saturating_sub(n);
    }

    // ------------------------------------------------------------ node helpers

    fn mk(&mut self, kind: ExprKind, span: Span) -> Expr {
        let id = ExprId(self.next_id);
        self.next_id += 1;
        Expr { kind, span, id }
    }

    fn error_expr(&mut self) -> Expr {
        let span = self.missing_span();
        self.mk(ExprKind::Error, span)
    }

    // ------------------------------------------------------------ module

    pub(crate) fn parse_module(&mut self) -> ast::Module {
        let mut module = ast::Module::default();
        // Every declaration but a class ends with a `;` at bracket level 0: a close upper
        // bound that saves re-allocating a large vector of large declarations.
        module.decls.reserve(self.n_top_semis);
        if self.peek() == T::Module {
            self.in_error = false;
            let item_pos = self.pos;
            module.header = self.parse_header();
            self.sync(item_pos);
        }
        while self.peek() == T::Import {
            self.in_error = false;
            let item_pos = self.pos;
            let import = self.parse_import();
            module.imports.push(import);
            self.sync(item_pos);
        }
        while self.parse_item(&mut module) {}
        module.n_exprs = self.next_id;
        module
    }

    /// Parses one item after the imports (a declaration, a misplaced import or header, the
    /// final expression); `false` at the end of the file. A function of its own, called
    /// once per item, for WebAssembly: V8 replaces baseline code with optimised code only
    /// between calls, so a loop over a whole file would run all of its first call in
    /// baseline code (`Lexer::run_batch`, `wasm.mk`'s `--no-inline` patterns).
    #[inline(never)]
    fn parse_item(&mut self, module: &mut ast::Module) -> bool {
        self.in_error = false;
        let start = self.start();
        let item_pos = self.pos;
        match self.peek() {
            T::Eof => return false,
            T::Import => {
                let span = self.span();
                self.report(
                    Diagnostic::new(
                        Code::E1001,
                        "unexpected `import` after a declaration",
                        self.file,
                        span,
                    )
                    .with_help("move the imports to the top of the file"),
                );
                let import = self.parse_import();
                module.imports.push(import);
            }
            T::Module => {
                self.unexpected("a declaration");
                self.parse_header();
            }
            T::Semi => {
                self.unexpected("a declaration or an expression");
                self.bump();
            }
            T::Let => {
                if let Some(body) = self.parse_top_let(start, &mut module.decls) {
                    self.set_body(module, body);
                }
            }
            T::Type | T::Typeclass | T::Instance | T::Export => {
                let decl = self.parse_decl();
                module.decls.push(decl);
            }
            _ => {
                let body = self.parse_expr();
                self.set_body(module, body);
            }
        }
        self.sync(item_pos);
        if self.pos == item_pos {
            // Nothing consumed (a token that starts no item): skip it.
            self.bump();
        }
        true
    }

    /// Records the trailing expression, which must end the file (after an optional `;`).
    fn set_body(&mut self, module: &mut ast::Module, body: Expr) {
        if module.body.is_none() {
            module.body = Some(body);
        }
        self.eat(T::Semi);
        if self.peek() != T::Eof {
            let help = if starts_decl(self.peek()) {
                "the expression giving the file's value must come after all declarations"
            } else {
                "the file ends with at most one expression"
            };
            self.unexpected_with_help("end of file after the final expression", help);
        }
    }

    /// After an item with an error: skips to the next `;` at nesting level 0 (consumed) or the
    /// next token that starts a declaration.
    /// `item_pos` is where the item started: a `;` it consumed already ended it.
    fn sync(&mut self, item_pos: usize) {
        if !self.in_error {
            return;
        }
        let prev = self
            .pos
            .checked_sub(1)
            .and_then(|idx| self.tokens.get(idx))
            .map(|it| it.kind);
        if prev == Some(T::Semi) && self.pos > item_pos {
            return;
        }
        let mut level: u32 = 0;
        loop {
            match self.peek() {
                T::Eof => return,
                T::Semi if level == 0 => {
                    self.bump();
                    return;
                }
                kind if level == 0 && (starts_decl(kind) || kind == T::Import) => return,
                T::LParen | T::LBrace | T::LBracket => level += 1,
                T::RParen | T::RBrace | T::RBracket => level = level.saturating_sub(1),
                _ => {}
            }
            self.bump();
        }
    }

    fn parse_header(&mut self) -> Option<ast::Ident> {
        self.bump();
        let name = self.expect_uident("a module name");
        self.expect_semi("the module header");
        name
    }

    // ------------------------------------------------------------ imports

    fn parse_import(&mut self) -> ast::Import {
        let start = self.start();
        self.bump();
        let (path, kind) = if self.peek() == T::LBrace {
            let items = self.parse_braced_items();
            if !self.eat(T::From) {
                self.unexpected("`from` after the import list");
            }
            (self.parse_import_path(), ast::ImportKind::Items(items))
        } else {
            let path = self.parse_import_path();
            let kind = if self.eat(T::As) {
                match self.expect_lident("a module alias (a lower-case name)") {
                    Some(alias) => ast::ImportKind::Alias(alias),
                    None => ast::ImportKind::All,
                }
            } else if self.peek() == T::LBrace {
                ast::ImportKind::Items(self.parse_braced_items())
            } else {
                ast::ImportKind::All
            };
            (path, kind)
        };
        self.expect_semi("the import");
        ast::Import {
            path,
            kind,
            span: self.finish_span(start),
        }
    }

    fn parse_import_path(&mut self) -> ast::ImportPath {
        if self.peek() == T::Str {
            let token = self.bump();
            let value = lexer::unescape(self.slice(token.span));
            return ast::ImportPath::Relative(ast::StrLit {
                value,
                span: token.span,
            });
        }
        let mut segments = Vec::new();
        loop {
            if matches!(self.peek(), T::LIdent | T::UIdent) {
                let token = self.bump();
                segments.push(self.name_of(token));
            } else {
                self.unexpected("a module path");
                break;
            }
            if !self.eat(T::Dot) {
                break;
            }
        }
        ast::ImportPath::Register(segments)
    }

    /// `{ items }`.
    fn parse_braced_items(&mut self) -> Vec<ast::RenameItem> {
        let open = self.bump().span;
        let items = self.parse_items(T::RBrace);
        self.expect_closing(T::RBrace, open);
        items
    }

    /// `item { "," item } [ "," ]`, stopping before `end`.
    fn parse_items(&mut self, end: T) -> Vec<ast::RenameItem> {
        let mut items = Vec::new();
        loop {
            let kind = self.peek();
            if !matches!(kind, T::LIdent | T::UIdent) {
                if kind.is_keyword() {
                    // Consumed, so that it does not start the next item.
                    self.expect_name(T::LIdent, "a name");
                } else {
                    self.unexpected("a name");
                }
                break;
            }
            let token = self.bump();
            let name = self.name_of(token);
            let alias = if self.eat(T::As) {
                if matches!(self.peek(), T::LIdent | T::UIdent) {
                    let token = self.bump();
                    Some(self.name_of(token))
                } else {
                    self.unexpected("a name after `as`");
                    None
                }
            } else {
                None
            };
            let span = self.finish_span(name.span.start);
            items.push(ast::RenameItem { name, alias, span });
            if !self.eat(T::Comma) || self.peek() == end {
                break;
            }
        }
        items
    }

    // ------------------------------------------------------------ declarations

    /// A top-level `let`: a declaration, or (followed by `in`) the trailing expression.
    fn parse_top_let(&mut self, start: u32, decls: &mut Vec<ast::Decl>) -> Option<Expr> {
        let head = self.parse_let_head();
        if self.peek() == T::In {
            return Some(self.parse_let_chain(Some(head)));
        }
        self.expect_semi("the declaration");
        let LetHead {
            rec,
            name,
            ann,
            value,
            ..
        } = head;
        let kind = ast::DeclKind::Let(ast::LetDecl {
            rec,
            name,
            ann,
            value,
            mentions: ast::Mentions::default(),
        });
        decls.push(ast::Decl {
            kind,
            exported: false,
            span: self.finish_span(start),
        });
        None
    }

    fn parse_decl(&mut self) -> ast::Decl {
        let start = self.start();
        let exported =
            self.peek() == T::Export && { matches!(self.nth(1), T::Let | T::Type | T::Typeclass) };
        if exported {
            self.bump();
        }
        let kind = match self.peek() {
            T::Let => {
                let head = self.parse_let_head();
                if self.peek() == T::In {
                    self.unexpected_with_help(
                        "`;` after the exported declaration",
                        "an exported `let` is a declaration: end it with `;`",
                    );
                } else {
                    self.expect_semi("the declaration");
                }
                let LetHead {
                    rec,
                    name,
                    ann,
                    value,
                    ..
                } = head;
                ast::DeclKind::Let(ast::LetDecl {
                    rec,
                    name,
                    ann,
                    value,
                    mentions: ast::Mentions::default(),
                })
            }
            T::Type => self.parse_type_decl(),
            T::Typeclass => self.parse_class_decl(),
            T::Instance => self.parse_instance_decl(),
            _ => self.parse_export_list(),
        };
        ast::Decl {
            kind,
            exported,
            span: self.finish_span(start),
        }
    }

    fn parse_export_list(&mut self) -> ast::DeclKind {
        self.bump();
        let items = if self.peek() == T::LBrace {
            self.parse_braced_items()
        } else {
            self.parse_items(T::Semi)
        };
        self.expect_semi("the export list");
        ast::DeclKind::Export(items)
    }

    /// `let [rec] name [: T] = value`, at `let`.
    fn parse_let_head(&mut self) -> LetHead {
        let start = self.start();
        self.bump();
        let rec = self.eat(T::Rec);
        let name = self
            .expect_lident("a name to bind")
            .unwrap_or_else(|| self.placeholder_ident());
        let ann = if self.eat(T::Colon) {
            Some(Box::new(self.parse_type()))
        } else {
            None
        };
        let value = if self.expect(T::Eq) {
            self.parse_expr()
        } else {
            self.error_expr()
        };
        if rec && !matches!(value.kind, ExprKind::Lambda { .. } | ExprKind::Error) {
            self.report_rec_not_lambda(value.span);
        }
        LetHead {
            start,
            rec,
            name,
            ann,
            value,
        }
    }

    fn report_rec_not_lambda(&mut self, span: Span) {
        let diagnostic = Diagnostic::new(
            Code::E1011,
            "the right-hand side of `let rec` must be a lambda",
            self.file,
            span,
        )
        .with_help("write `let rec f = \\x -> ...`, or drop `rec`");
        self.report_soft(diagnostic);
    }

    fn parse_type_decl(&mut self) -> ast::DeclKind {
        self.bump();
        let name = self
            .expect_uident("a type name")
            .unwrap_or_else(|| self.placeholder_ident());
        let mut params = Vec::new();
        while matches!(self.peek(), T::TyVar | T::LIdent) {
            let token = self.bump();
            params.push(self.tyvar_ident(token));
        }
        let rhs = if self.expect(T::Eq) {
            self.parse_type_rhs()
        } else {
            ast::TypeRhs::Alias(Type {
                kind: TypeKind::Error,
                span: self.missing_span(),
            })
        };
        self.expect_semi("the type declaration");
        ast::DeclKind::Type(Box::new(ast::TypeDecl { name, params, rhs }))
    }

    /// `'a` or `a` as an identifier without the quote (span includes it).
    fn tyvar_ident(&self, token: Token) -> Ident {
        let text = self.slice(token.span);
        let name = text.strip_prefix('\'').unwrap_or(text);
        Ident {
            name: Name::new(name),
            span: token.span,
        }
    }

    fn parse_type_rhs(&mut self) -> ast::TypeRhs {
        if self.eat(T::Bar) {
            return ast::TypeRhs::Union(self.parse_variants(Vec::new()));
        }
        if self.peek() == T::UIdent && self.nth(1) != T::Dot {
            let saved = (
                self.pos,
                self.next_id,
                self.diagnostics.len(),
                self.in_error,
                self.depth,
            );
            let variant = self.parse_variant();
            match self.peek() {
                T::Bar => {
                    self.bump();
                    return ast::TypeRhs::Union(self.parse_variants(vec![variant]));
                }
                T::Semi | T::Eof => {
                    let q = ast::QName {
                        module: None,
                        name: variant.name.clone(),
                        span: variant.name.span,
                    };
                    let args = variant.payload.iter().cloned().collect();
                    let as_type = Type {
                        kind: TypeKind::Con(q, args),
                        span: variant.span,
                    };
                    return ast::TypeRhs::Lone { variant, as_type };
                }
                _ => {
                    // Not a variant after all: parse the same text again as a type.
                    (self.pos, self.next_id, _, self.in_error, self.depth) = saved;
                    self.diagnostics.truncate(saved.2);
                }
            }
        }
        ast::TypeRhs::Alias(self.parse_type())
    }

    fn parse_variants(&mut self, mut variants: Vec<ast::Variant>) -> Vec<ast::Variant> {
        loop {
            variants.push(self.parse_variant());
            if !self.eat(T::Bar) {
                break;
            }
        }
        variants
    }

    fn parse_variant(&mut self) -> ast::Variant {
        let start = self.start();
        let name = self
            .expect_uident("a constructor name")
            .unwrap_or_else(|| self.placeholder_ident());
        let payload = if starts_atype(self.peek()) {
            Some(self.parse_atype())
        } else {
            None
        };
        ast::Variant {
            name,
            payload,
            span: self.finish_span(start),
        }
    }

    fn parse_class_decl(&mut self) -> ast::DeclKind {
        self.bump();
        let name = self
            .expect_uident("a class name")
            .unwrap_or_else(|| self.placeholder_ident());
        let mut params = Vec::new();
        while matches!(self.peek(), T::TyVar | T::LIdent) {
            let token = self.bump();
            params.push(self.tyvar_ident(token));
        }
        if params.is_empty() {
            self.unexpected("a type variable (a class has at least one parameter)");
        }
        let mut class = ast::ClassDecl {
            name,
            params,
            superclasses: Vec::new(),
            methods: Vec::new(),
            defaults: Vec::new(),
        };
        if !self.expect(T::Where) {
            return ast::DeclKind::Class(class);
        }
        loop {
            let start = self.start();
            match (self.peek(), self.nth(1)) {
                (T::Superclass, _) => {
                    self.bump();
                    loop {
                        class.superclasses.push(self.parse_constraint());
                        if !self.eat(T::Comma) {
                            break;
                        }
                    }
                    self.expect_semi("the superclass list");
                }
                (T::LIdent, T::Colon) => {
                    let token = self.bump();
                    let name = self.name_of(token);
                    self.bump();
                    let ty = self.parse_type();
                    self.expect_semi("the method signature");
                    class.methods.push(ast::MethodSig {
                        name,
                        ty,
                        span: self.finish_span(start),
                    });
                }
                (T::LIdent, T::Eq) => class.defaults.push(self.parse_method_def()),
                _ => break,
            }
        }
        ast::DeclKind::Class(class)
    }

    /// `name = expr;`, at the name.
    fn parse_method_def(&mut self) -> ast::MethodDef {
        let start = self.start();
        let token = self.bump();
        let name = self.name_of(token);
        self.bump();
        let value = self.parse_expr();
        self.expect_semi("the method definition");
        ast::MethodDef {
            name,
            value,
            span: self.finish_span(start),
        }
    }

    fn parse_instance_decl(&mut self) -> ast::DeclKind {
        self.bump();
        let mut context = Vec::new();
        let head = if self.peek() == T::LParen {
            let open = self.bump().span;
            loop {
                context.push(self.parse_constraint());
                if !self.eat(T::Comma) {
                    break;
                }
            }
            self.expect_closing(T::RParen, open);
            self.expect(T::FatArrow);
            self.parse_constraint()
        } else {
            let first = self.parse_constraint();
            if self.eat(T::FatArrow) {
                context.push(first);
                self.parse_constraint()
            } else {
                first
            }
        };
        let mut instance = ast::InstanceDecl {
            context,
            class: head.class,
            args: head.args,
            methods: Vec::new(),
            head_span: head.span,
        };
        if self.peek() == T::FatArrow {
            self.unexpected_with_help(
                "`where`",
                "put several constraints in parentheses: `(C 'a, D 'b) =>`",
            );
            return ast::DeclKind::Instance(instance);
        }
        if !self.expect(T::Where) {
            return ast::DeclKind::Instance(instance);
        }
        loop {
            match (self.peek(), self.nth(1)) {
                (T::LIdent, T::Eq) => instance.methods.push(self.parse_method_def()),
                (T::LIdent, T::Colon) => self.parse_instance_signature(),
                _ => break,
            }
        }
        ast::DeclKind::Instance(instance)
    }

    /// `name : T;` in an instance (rule 4 makes it an item): reported and skipped.
    fn parse_instance_signature(&mut self) {
        self.bump();
        let span = self.span();
        self.report(
            Diagnostic::new(
                Code::E1001,
                "expected `=` after the method name, found `:`",
                self.file,
                span,
            )
            .with_help("an instance defines methods as `name = value;`: signatures belong in the typeclass"),
        );
        self.bump();
        self.parse_type();
        self.eat(T::Semi);
    }

    /// `qname atype { atype }`.
    fn parse_constraint(&mut self) -> ast::Constraint {
        let start = self.start();
        let class = self.parse_qname("a class name");
        let start = start.min(class.span.start);
        let mut args = Vec::new();
        while starts_atype(self.peek()) {
            args.push(self.parse_atype());
        }
        ast::Constraint {
            class,
            args,
            span: self.finish_span(start),
        }
    }

    /// `[ LIDENT "." ] UIDENT`.
    fn parse_qname(&mut self, what: &str) -> ast::QName {
        let start = self.start();
        let module =
            if self.peek() == T::LIdent && self.nth(1) == T::Dot && self.nth(2) == T::UIdent {
                let token = self.bump();
                self.bump();
                Some(self.name_of(token))
            } else {
                None
            };
        let name = self
            .expect_uident(what)
            .unwrap_or_else(|| self.placeholder_ident());
        ast::QName {
            module,
            name,
            span: self.finish_span(start),
        }
    }

    fn at_qname(&self) -> bool {
        match self.peek() {
            T::UIdent => true,
            T::LIdent => self.nth(1) == T::Dot && self.nth(2) == T::UIdent,
            _ => false,
        }
    }

    // ------------------------------------------------------------ types

    pub(crate) fn parse_type(&mut self) -> Type {
        if !self.enter(1) {
            self.leave(1);
            return Type {
                kind: TypeKind::Error,
                span: self.missing_span(),
            };
        }
        let ty = self.parse_type_inner();
        self.leave(1);
        ty
    }

    fn parse_type_inner(&mut self) -> Type {
        let start = self.start();
        let first = if self.peek() == T::LParen {
            let (types, comma) = self.parse_type_group();
            if self.peek() == T::FatArrow {
                return self.parse_qualified(start, types);
            }
            if let Some(comma) = comma {
                self.report_tuple_type(comma);
                Type {
                    kind: TypeKind::Error,
                    span: self.finish_span(start),
                }
            } else {
                types.into_iter().next().unwrap_or(Type {
                    kind: TypeKind::Error,
                    span: self.missing_span(),
                })
            }
        } else {
            let ty = self.parse_app_type();
            if self.peek() == T::FatArrow {
                return self.parse_qualified(start, vec![ty]);
            }
            ty
        };
        self.parse_type_tail(start, first)
    }

    fn report_tuple_type(&mut self, comma: Span) {
        self.report(
            Diagnostic::new(Code::E1001, "expected `)`, found `,`", self.file, comma)
                .with_help("Ligature has no tuples: use a record type"),
        );
    }

    /// `context => type`, at the `=>`.
    fn parse_qualified(&mut self, start: u32, constraints: Vec<Type>) -> Type {
        let context = constraints
            .into_iter()
            .filter_map(|it| self.type_to_constraint(it))
            .collect();
        self.bump();
        let first = self.parse_app_type();
        let ty = self.parse_type_tail(start, first);
        Type {
            kind: TypeKind::Qualified {
                context,
                ty: Box::new(ty),
            },
            span: self.finish_span(start),
        }
    }

    fn type_to_constraint(&mut self, ty: Type) -> Option<ast::Constraint> {
        match ty.kind {
            TypeKind::Con(class, args) => Some(ast::Constraint {
                class,
                args,
                span: ty.span,
            }),
            TypeKind::Error => None,
            _ => {
                self.report(Diagnostic::new(
                    Code::E1001,
                    "expected a class constraint such as `Render 'a` before `=>`",
                    self.file,
                    ty.span,
                ));
                None
            }
        }
    }

    /// After an `app_type`: `-> ...`, a refinement, or nothing.
    fn parse_type_tail(&mut self, start: u32, first: Type) -> Type {
        match self.peek() {
            T::Arrow => {
                let mut types = vec![first];
                let mut n_links = 0;
                while self.eat(T::Arrow) {
                    n_links += 1;
                    if !self.enter(1) {
                        break;
                    }
                    types.push(self.parse_app_type());
                }
                self.leave(n_links);
                let mut ty = types.pop().unwrap_or(Type {
                    kind: TypeKind::Error,
                    span: self.missing_span(),
                });
                while let Some(arg) = types.pop() {
                    let span = arg.span.to(ty.span);
                    ty = Type {
                        kind: TypeKind::Fun(Box::new(arg), Box::new(ty)),
                        span,
                    };
                }
                ty
            }
            T::Where | T::With => {
                let start = start.min(first.span.start);
                self.parse_refined(start, first)
            }
            _ => first,
        }
    }

    fn parse_refined(&mut self, start: u32, base: Type) -> Type {
        let saved = std::mem::replace(&mut self.no_brace_arg, false);
        let mut items = Vec::new();
        while self.eat(T::With) {
            items.push(self.parse_constraint_item());
        }
        let pred = if self.eat(T::Where) {
            Some(Box::new(self.parse_expr()))
        } else {
            None
        };
        self.no_brace_arg = saved;
        Type {
            kind: TypeKind::Refined {
                base: Box::new(base),
                items,
                pred,
            },
            span: self.finish_span(start),
        }
    }

    fn parse_constraint_item(&mut self) -> ast::ConstraintItem {
        let start = self.start();
        let kind = match self.peek() {
            T::GtEq => {
                self.bump();
                ast::ConstraintItemKind::Ge(self.parse_operand(LEVEL_ADD))
            }
            T::LtEq => {
                self.bump();
                ast::ConstraintItemKind::Le(self.parse_operand(LEVEL_ADD))
            }
            T::LIdent => {
                let token = self.bump();
                let word = self.slice(token.span);
                if matches!(word, "regexp" | "pattern")
                    && self.nth(0) == T::LParen
                    && self.nth(1) == T::Str
                {
                    self.bump();
                    let lit = self.bump();
                    let value = lexer::unescape(self.slice(lit.span));
                    let lit = ast::StrLit {
                        value,
                        span: lit.span,
                    };
                    self.expect(T::RParen);
                    if word == "regexp" {
                        ast::ConstraintItemKind::Regexp(lit)
                    } else {
                        ast::ConstraintItemKind::Pattern(lit)
                    }
                } else {
                    let mut module = None;
                    let mut func = self.name_of(token);
                    if self.peek() == T::Dot {
                        self.bump();
                        if let Some(name) = self.expect_lident("a function name") {
                            module = Some(std::mem::replace(&mut func, name));
                        }
                    }
                    let mut args = Vec::new();
                    if self.peek() == T::LParen {
                        let open = self.bump().span;
                        while self.peek() != T::RParen {
                            args.push(self.parse_expr());
                            if !self.eat(T::Comma) {
                                break;
                            }
                        }
                        self.expect_closing(T::RParen, open);
                    } else {
                        self.unexpected("`(` after the constraint function");
                    }
                    let id = ExprId(self.next_id);
                    self.next_id += 1;
                    ast::ConstraintItemKind::Call {
                        module,
                        func,
                        args,
                        id,
                    }
                }
            }
            _ => {
                self.unexpected("a constraint after `with` (`>= e`, `<= e`, `regexp(\"...\")`, `pattern(\"...\")` or `f(...)`)");
                let expr = self.error_expr();
                ast::ConstraintItemKind::Ge(expr)
            }
        };
        ast::ConstraintItem {
            kind,
            span: self.finish_span(start),
        }
    }

    /// `qname atype { atype } | atype`.
    fn parse_app_type(&mut self) -> Type {
        if !self.at_qname() {
            return self.parse_atype();
        }
        let start = self.start();
        let name = self.parse_qname("a type name");
        let mut args = Vec::new();
        while starts_atype(self.peek()) {
            args.push(self.parse_atype());
        }
        Type {
            kind: TypeKind::Con(name, args),
            span: self.finish_span(start),
        }
    }

    fn parse_atype(&mut self) -> Type {
        let start = self.start();
        match self.peek() {
            T::UIdent => {
                let name = self.parse_qname("a type name");
                Type {
                    kind: TypeKind::Con(name, Vec::new()),
                    span: self.finish_span(start),
                }
            }
            T::LIdent if self.at_qname() => {
                let name = self.parse_qname("a type name");
                Type {
                    kind: TypeKind::Con(name, Vec::new()),
                    span: self.finish_span(start),
                }
            }
            T::LIdent | T::TyVar => {
                let token = self.bump();
                Type {
                    kind: TypeKind::Var(self.tyvar_ident(token)),
                    span: token.span,
                }
            }
            T::LParen => {
                let (types, comma) = self.parse_type_group();
                if let Some(comma) = comma {
                    self.report_tuple_type(comma);
                    return Type {
                        kind: TypeKind::Error,
                        span: self.finish_span(start),
                    };
                }
                types.into_iter().next().unwrap_or(Type {
                    kind: TypeKind::Error,
                    span: self.missing_span(),
                })
            }
            T::LBracket => {
                let open = self.bump().span;
                let elem = self.parse_type();
                self.expect_closing(T::RBracket, open);
                Type {
                    kind: TypeKind::List(Box::new(elem)),
                    span: self.finish_span(start),
                }
            }
            T::LBrace => self.parse_record_type(),
            T::Error => {
                let token = self.bump();
                self.in_error = true;
                Type {
                    kind: TypeKind::Error,
                    span: token.span,
                }
            }
            _ => {
                self.unexpected("a type");
                Type {
                    kind: TypeKind::Error,
                    span: self.missing_span(),
                }
            }
        }
    }

    /// `( type { , type } )`: the types and the first comma, if any.
    fn parse_type_group(&mut self) -> (Vec<Type>, Option<Span>) {
        let open = self.bump().span;
        let mut types = vec![self.parse_type()];
        let mut comma = None;
        while self.peek() == T::Comma {
            let span = self.bump().span;
            comma.get_or_insert(span);
            types.push(self.parse_type());
        }
        self.expect_closing(T::RParen, open);
        (types, comma)
    }

    fn parse_record_type(&mut self) -> Type {
        let start = self.start();
        let open = self.bump().span;
        let mut fields: Vec<ast::FieldType> = Vec::new();
        while !matches!(self.peek(), T::RBrace | T::Bar | T::Eof) {
            let Some(name) = self.expect_field() else {
                break;
            };
            let ty = if self.expect(T::Colon) {
                self.parse_type()
            } else {
                Type {
                    kind: TypeKind::Error,
                    span: self.missing_span(),
                }
            };
            fields.push(ast::FieldType { name, ty });
            if !self.eat(T::Comma) {
                break;
            }
        }
        let rest = if self.eat(T::Bar) {
            if matches!(self.peek(), T::TyVar | T::LIdent) {
                let token = self.bump();
                Some(self.tyvar_ident(token))
            } else {
                self.unexpected("a row variable such as `'r` after `|`");
                None
            }
        } else {
            None
        };
        self.expect_closing(T::RBrace, open);
        self.check_duplicates(&fields, |it| Some(&it.name), "field");
        Type {
            kind: TypeKind::Record { fields, rest },
            span: self.finish_span(start),
        }
    }

    // ------------------------------------------------------------ expressions

    // The functions on the recursive path of expressions (`parse_expr` down to the bracket
    // and block forms) keep only a few locals: anything else (literals, diagnostics, node
    // assembly) lives in separate helpers, so that a nesting level costs little stack even
    // in unoptimised builds, where every local of a function has its own stack slot.

    pub(crate) fn parse_expr(&mut self) -> Expr {
        self.parse_operand(LEVEL_OR)
    }

    /// Precedence climbing over the binary operators binding at least as tight as `min`.
    fn parse_operand(&mut self, min: u8) -> Expr {
        let mut lhs = self.parse_unary();
        let mut last_non_assoc: Option<(u8, Span)> = None;
        let mut n_links = 0;
        while let Some((op, level)) = binary_op(self.peek()) {
            if level < min {
                break;
            }
            let op_span = self.bump().span;
            if level == LEVEL_EQ || level == LEVEL_CMP {
                match last_non_assoc {
                    // One report per chain: `a < b < c < d` is one mistake.
                    Some((prev_level, prev_span)) if prev_level == level => {
                        self.report_chained(level, op_span, prev_span);
                        last_non_assoc = Some((0, op_span));
                    }
                    Some((0, _)) => {}
                    _ => last_non_assoc = Some((level, op_span)),
                }
            }
            n_links += 1;
            if !self.enter(1) {
                break;
            }
            let rhs = self.parse_operand(level + 1);
            lhs = self.mk_binary(op, op_span, lhs, rhs);
        }
        self.leave(n_links);
        lhs
    }

    fn report_chained(&mut self, level: u8, op_span: Span, prev_span: Span) {
        let what = if level == LEVEL_EQ {
            "equality"
        } else {
            "comparison"
        };
        let diagnostic = Diagnostic::new(
            Code::E1007,
            format!("{what} operators cannot be chained"),
            self.file,
            op_span,
        )
        .with_label(self.file, prev_span, "previous operator")
        .with_help("use `&&` to combine comparisons, or add parentheses");
        self.report_soft(diagnostic);
    }

    fn mk_binary(&mut self, op: ast::BinOp, op_span: Span, lhs: Expr, rhs: Expr) -> Expr {
        let span = lhs.span.to(rhs.span);
        self.mk(
            ExprKind::Binary {
                op,
                op_span,
                lhs: Box::new(lhs),
                rhs: Box::new(rhs),
            },
            span,
        )
    }

    fn parse_unary(&mut self) -> Expr {
        if matches!(self.peek(), T::Minus | T::Bang) {
            self.parse_prefix_chain()
        } else {
            self.parse_app()
        }
    }

    /// A chain of prefix operators, parsed with a loop.
    fn parse_prefix_chain(&mut self) -> Expr {
        let mut ops = Vec::new();
        while matches!(self.peek(), T::Minus | T::Bang) {
            if !self.enter(1) {
                ops.push((ast::UnOp::Neg, self.start()));
                break;
            }
            let token = self.bump();
            let op = if token.kind == T::Minus {
                ast::UnOp::Neg
            } else {
                ast::UnOp::Not
            };
            ops.push((op, token.span.start));
        }
        let n_links = ops.len() as u32;
        let mut expr = self.parse_app();
        while let Some((op, start)) = ops.pop() {
            let span = Span::new(start, expr.span.end.max(start));
            expr = self.mk(
                ExprKind::Unary {
                    op,
                    operand: Box::new(expr),
                },
                span,
            );
        }
        self.leave(n_links);
        expr
    }

    fn starts_arg(&self, kind: T) -> bool {
        match kind {
            T::Int
            | T::Float
            | T::Str
            | T::True
            | T::False
            | T::LIdent
            | T::UIdent
            | T::LParen
            | T::LBracket
            | T::Error => true,
            T::LBrace => !self.no_brace_arg,
            _ => false,
        }
    }

    fn parse_app(&mut self) -> Expr {
        if starts_block(self.peek()) {
            return self.parse_block();
        }
        let head = self.parse_postfix();
        let base = self.pending.len();
        while self.parse_arg() {}
        if self.pending.len() == base {
            head
        } else {
            let args = self.take_pending(base);
            self.mk_app(head, args)
        }
    }

    /// The expressions pushed on `pending` since it held `base` of them, in a vector of
    /// exactly their number: the tree lives until lowering, and growth's slack would be a
    /// fifth of its memory.
    fn take_pending(&mut self, base: usize) -> Vec<Expr> {
        // One exact allocation and one copy (`drain().collect()` moved them one by one).
        self.pending.split_off(base)
    }

    /// Parses one argument (or an argument list, or a final block) onto `pending`; false
    /// when the application ends here.
    fn parse_arg(&mut self) -> bool {
        let kind = self.peek();
        if kind == T::LParen {
            match self.parse_paren(true) {
                Paren::One(expr) => {
                    let expr = self.parse_fields(expr);
                    self.pending.push(expr);
                }
                Paren::Args(list) => self.pending.extend(list),
            }
            true
        } else if self.starts_arg(kind) {
            let arg = self.parse_postfix();
            self.pending.push(arg);
            true
        } else if starts_block(kind) {
            // A `let` followed by `;` before any `in` is most likely the next declaration
            // after a missing `;`: the application ends here.
            if kind != T::Let || self.let_has_in() {
                let arg = self.parse_block();
                self.pending.push(arg);
            }
            false
        } else {
            false
        }
    }

    fn mk_app(&mut self, head: Expr, args: Vec<Expr>) -> Expr {
        let end = args.last().map_or(head.span.end, |it| it.span.end);
        let span = Span::new(head.span.start, end.max(head.span.end));
        self.mk(
            ExprKind::App {
                func: Box::new(head),
                args,
            },
            span,
        )
    }

    /// At a `let` in argument position: whether an `in` comes before any `;` at this
    /// bracket level, i.e. whether this can be a `let ... in` rather than a declaration.
    /// The answers for every position come from one backward pass, computed once: scanning
    /// forward at each such `let` was quadratic (a 39 KB input the fuzzer made, whose error
    /// recovery meets the same `let` at every one of 24,000 levels, parsed in 0.3 s, and
    /// four copies of it in 4.3 s).
    fn let_has_in(&mut self) -> bool {
        let pos = self.pos;
        let answers = self
            .let_in
            .get_or_insert_with(|| let_in_answers(&self.tokens));
        answers.get(pos).copied().unwrap_or(false)
    }

    fn parse_block(&mut self) -> Expr {
        match self.peek() {
            T::Backslash => self.parse_lambda(),
            T::Let => self.parse_let_chain(None),
            T::If => self.parse_if(),
            _ => self.parse_match(),
        }
    }

    fn parse_postfix(&mut self) -> Expr {
        let atom = self.parse_atom();
        if self.peek() == T::Dot {
            self.parse_fields(atom)
        } else {
            atom
        }
    }

    /// `{ "." FIELD }` after an atom.
    fn parse_fields(&mut self, mut expr: Expr) -> Expr {
        let mut n_links = 0;
        while self.peek() == T::Dot {
            self.bump();
            n_links += 1;
            if !self.enter(1) {
                break;
            }
            let Some(field) = self.expect_field() else {
                break;
            };
            let span = Span::new(expr.span.start, field.span.end);
            expr = self.mk(
                ExprKind::Field {
                    expr: Box::new(expr),
                    field,
                },
                span,
            );
        }
        self.leave(n_links);
        expr
    }

    fn parse_atom(&mut self) -> Expr {
        match self.peek() {
            T::LParen => match self.parse_paren(false) {
                Paren::One(expr) => expr,
                Paren::Args(_) => self.error_expr(),
            },
            T::LBracket => self.parse_list(),
            T::LBrace => self.parse_record(),
            _ => self.parse_simple_atom(),
        }
    }

    /// A literal or a name (or the error for a token that starts no expression).
    fn parse_simple_atom(&mut self) -> Expr {
        let token = self.token();
        let kind = match token.kind {
            T::Int => ExprKind::Int(self.slice(token.span).parse().unwrap_or(0)),
            T::Float => ExprKind::Float(self.slice(token.span).parse().unwrap_or(0.0)),
            T::Str => ExprKind::Str(lexer::unescape(self.slice(token.span))),
            T::True => ExprKind::Bool(true),
            T::False => ExprKind::Bool(false),
            T::LIdent => ExprKind::Var(Name::new(self.slice(token.span))),
            T::UIdent => ExprKind::Ctor(Name::new(self.slice(token.span))),
            T::Error => {
                self.in_error = true;
                ExprKind::Error
            }
            _ => {
                let expected = "an expression";
                if token.kind.is_keyword() && matches!(self.nth(1), T::Eq | T::Colon) {
                    let keyword = token.kind.text().unwrap_or("");
                    self.unexpected_with_help(
                        expected,
                        &format!("`{keyword}` is a reserved word and cannot be used as a name"),
                    );
                } else {
                    self.unexpected(expected);
                }
                return self.error_expr();
            }
        };
        self.bump();
        self.mk(kind, token.span)
    }

    /// A group starting with `(`: unit, a parenthesised expression, an annotation, or (only
    /// as an argument) an argument list.
    fn parse_paren(&mut self, in_arg: bool) -> Paren {
        if self.nth(1) == T::RParen {
            return Paren::One(self.parse_unit());
        }
        if !self.enter(1) {
            self.leave(1);
            return Paren::One(self.error_expr());
        }
        let open = self.bump().span;
        let saved = std::mem::replace(&mut self.no_brace_arg, false);
        let first = self.parse_expr();
        let res = match self.peek() {
            T::RParen => {
                self.bump();
                Paren::One(first)
            }
            _ => self.finish_paren(in_arg, open, first),
        };
        self.no_brace_arg = saved;
        self.leave(1);
        res
    }

    fn parse_unit(&mut self) -> Expr {
        let start = self.bump().span.start;
        self.bump();
        let span = self.finish_span(start);
        self.mk(ExprKind::Unit, span)
    }

    /// The rest of a parenthesised group after its first expression: an annotation, an
    /// argument list, or a missing `)`.
    fn finish_paren(&mut self, in_arg: bool, open: Span, first: Expr) -> Paren {
        if self.eat(T::Colon) {
            let ty = self.parse_type();
            self.expect_closing(T::RParen, open);
            let span = self.finish_span(open.start);
            return Paren::One(self.mk(
                ExprKind::Ann {
                    expr: Box::new(first),
                    ty: Box::new(ty),
                },
                span,
            ));
        }
        if self.peek() != T::Comma {
            self.expect_closing(T::RParen, open);
            return Paren::One(first);
        }
        let comma = self.span();
        let mut args = vec![first];
        while self.eat(T::Comma) {
            if self.peek() == T::RParen {
                break;
            }
            args.push(self.parse_expr());
        }
        self.expect_closing(T::RParen, open);
        if in_arg {
            return Paren::Args(args);
        }
        self.report(
            Diagnostic::new(Code::E1001, "expected `)`, found `,`", self.file, comma).with_help(
                "Ligature has no tuples: use a record, or `f(a, b)` to pass several arguments",
            ),
        );
        let span = self.finish_span(open.start);
        Paren::One(self.mk(ExprKind::Error, span))
    }

    fn parse_list(&mut self) -> Expr {
        if !self.enter(1) {
            self.leave(1);
            return self.error_expr();
        }
        let open = self.bump().span;
        let saved = std::mem::replace(&mut self.no_brace_arg, false);
        let base = self.pending.len();
        while !matches!(self.peek(), T::RBracket | T::Eof) {
            let item = self.parse_expr();
            self.pending.push(item);
            if !self.eat(T::Comma) {
                break;
            }
        }
        self.expect_closing(T::RBracket, open);
        self.no_brace_arg = saved;
        self.leave(1);
        let span = self.finish_span(open.start);
        let items = self.take_pending(base);
        self.mk(ExprKind::List(items), span)
    }

    fn parse_record(&mut self) -> Expr {
        if !self.enter(1) {
            self.leave(1);
            return self.error_expr();
        }
        let open = self.bump().span;
        let saved = std::mem::replace(&mut self.no_brace_arg, false);
        let mut base = None;
        let mut fields: Vec<ast::FieldInit> = Vec::new();
        let mut more = true;
        if self.eat(T::DotDotDot) {
            base = Some(Box::new(self.parse_expr()));
            more = self.eat(T::Comma);
        }
        while more && !matches!(self.peek(), T::RBrace | T::Eof) {
            let Some(field) = self.parse_field_init() else {
                break;
            };
            fields.push(field);
            more = self.eat(T::Comma);
        }
        self.expect_closing(T::RBrace, open);
        self.no_brace_arg = saved;
        self.leave(1);
        self.mk_record(open.start, base, fields)
    }

    /// `FIELD = expr`.
    fn parse_field_init(&mut self) -> Option<ast::FieldInit> {
        let name = self.expect_field()?;
        let value = if self.eat(T::Eq) {
            self.parse_expr()
        } else {
            let help = if self.peek() == T::Colon {
                "record fields are written `name = value`; `name: Type` is for record types"
            } else {
                "record fields are written `name = value`"
            };
            self.unexpected_with_help("`=` after the field name", help);
            self.error_expr()
        };
        Some(ast::FieldInit { name, value })
    }

    fn mk_record(
        &mut self,
        start: u32,
        base: Option<Box<Expr>>,
        mut fields: Vec<ast::FieldInit>,
    ) -> Expr {
        self.check_duplicates(&fields, |it| Some(&it.name), "field");
        let span = self.finish_span(start);
        fields.shrink_to_fit();
        self.mk(ExprKind::Record { base, fields }, span)
    }

    fn parse_lambda(&mut self) -> Expr {
        if !self.enter(1) {
            self.leave(1);
            return self.error_expr();
        }
        let start = self.bump().span.start;
        let params = self.parse_params();
        let body = self.parse_expr();
        self.leave(1);
        let span = self.finish_span(start);
        self.mk(
            ExprKind::Lambda {
                params,
                body: Box::new(body),
            },
            span,
        )
    }

    /// The parameters of a lambda and its `->`.
    fn parse_params(&mut self) -> Vec<ast::Param> {
        let mut params = Vec::new();
        loop {
            let token = self.token();
            match token.kind {
                T::LIdent => {
                    self.bump();
                    let name = self.name_of(token);
                    if self.peek() == T::Colon && params.is_empty() {
                        self.bump();
                        let ty = self.parse_app_type();
                        let span = self.finish_span(token.span.start);
                        params.push(ast::Param {
                            name: Some(name),
                            ann: Some(ty),
                            span,
                        });
                        break;
                    }
                    params.push(ast::Param {
                        name: Some(name),
                        ann: None,
                        span: token.span,
                    });
                }
                T::Underscore => {
                    self.bump();
                    params.push(ast::Param {
                        name: None,
                        ann: None,
                        span: token.span,
                    });
                }
                T::LParen => {
                    let open = self.bump().span;
                    let name = match self.peek() {
                        T::LIdent => {
                            let token = self.bump();
                            Some(self.name_of(token))
                        }
                        T::Underscore => {
                            self.bump();
                            None
                        }
                        _ => {
                            self.unexpected("a parameter name");
                            None
                        }
                    };
                    let ann = if self.expect(T::Colon) {
                        Some(self.parse_type())
                    } else {
                        None
                    };
                    self.expect_closing(T::RParen, open);
                    params.push(ast::Param {
                        name,
                        ann,
                        span: self.finish_span(open.start),
                    });
                }
                _ => break,
            }
        }
        if params.is_empty() {
            self.unexpected("a parameter after `\\`");
        } else if self.peek() == T::Colon {
            self.unexpected_with_help(
                "`->`",
                "with several parameters, annotate each in parentheses: `\\(a : T) (b : U) -> e`",
            );
        } else {
            self.expect(T::Arrow);
        }
        self.check_duplicates(&params, |it| it.name.as_ref(), "parameter");
        params
    }

    /// A chain `let ... in let ... in body`, parsed with a loop. `first` is a head already
    /// parsed (a top-level `let` followed by `in`).
    fn parse_let_chain(&mut self, first: Option<LetHead>) -> Expr {
        let mut heads = Vec::new();
        let mut next = first;
        // The chain is one level, however long: each link's body is the next link, which
        // continues to the right instead of nesting (LANGUAGE.md section 12.4).
        let entered = self.enter(1);
        let body = loop {
            if !entered {
                break self.error_expr();
            }
            let head = match next.take() {
                Some(head) => head,
                None => self.parse_let_head(),
            };
            heads.push(head);
            if !self.eat(T::In) {
                self.unexpected_with_help(
                    "`in` after the bound expression",
                    "a local binding is written `let x = e in body`",
                );
                break self.error_expr();
            }
            if self.peek() != T::Let {
                break self.parse_expr();
            }
        };
        self.leave(1);
        self.fold_lets(heads, body)
    }

    fn fold_lets(&mut self, mut heads: Vec<LetHead>, body: Expr) -> Expr {
        let mut expr = body;
        while let Some(LetHead {
            start,
            rec,
            name,
            ann,
            value,
        }) = heads.pop()
        {
            let span = Span::new(start, expr.span.end.max(start));
            let kind = ExprKind::Let {
                rec,
                name,
                ann,
                value: Box::new(value),
                body: Box::new(expr),
            };
            expr = self.mk(kind, span);
        }
        expr
    }

    /// A chain `if c then a else if d then b else e`, parsed with a loop.
    fn parse_if(&mut self) -> Expr {
        let mut arms = Vec::new();
        // One level for the whole `else if` chain, as for `let ... in` chains.
        let entered = self.enter(1);
        let else_branch = loop {
            if !entered {
                break self.error_expr();
            }
            let arm = self.parse_if_arm();
            arms.push(arm);
            if !self.eat(T::Else) {
                self.unexpected_with_help("`else`", "an `if` expression needs an `else` branch");
                break self.error_expr();
            }
            if self.peek() != T::If {
                break self.parse_expr();
            }
        };
        self.leave(1);
        self.fold_ifs(arms, else_branch)
    }

    /// `if c then a`, at `if`.
    fn parse_if_arm(&mut self) -> (u32, Expr, Expr) {
        let start = self.bump().span.start;
        let cond = self.parse_expr();
        let then_branch = if self.eat(T::Then) {
            self.parse_expr()
        } else {
            self.unexpected_with_help("`then` after the condition", "write `if c then a else b`");
            self.error_expr()
        };
        (start, cond, then_branch)
    }

    fn fold_ifs(&mut self, mut arms: Vec<(u32, Expr, Expr)>, else_branch: Expr) -> Expr {
        let mut expr = else_branch;
        while let Some((start, cond, then_branch)) = arms.pop() {
            let span = Span::new(start, expr.span.end.max(start));
            let kind = ExprKind::If {
                cond: Box::new(cond),
                then_branch: Box::new(then_branch),
                else_branch: Box::new(expr),
            };
            expr = self.mk(kind, span);
        }
        expr
    }

    fn parse_match(&mut self) -> Expr {
        if !self.enter(1) {
            self.leave(1);
            return self.error_expr();
        }
        let start = self.bump().span.start;
        let saved = std::mem::replace(&mut self.no_brace_arg, true);
        let scrutinee = self.parse_expr();
        self.no_brace_arg = false;
        let mut cases = Vec::new();
        if self.peek() == T::LBrace {
            let open = self.bump().span;
            loop {
                cases.push(self.parse_case());
                if !self.eat(T::Comma) || self.peek() == T::RBrace {
                    break;
                }
            }
            self.expect_closing(T::RBrace, open);
        } else {
            self.unexpected("`{` after the scrutinee of `match`");
        }
        self.no_brace_arg = saved;
        self.leave(1);
        let span = self.finish_span(start);
        self.mk(
            ExprKind::Match {
                scrutinee: Box::new(scrutinee),
                cases,
            },
            span,
        )
    }

    fn parse_case(&mut self) -> ast::Case {
        let start = self.start();
        let pat = self.parse_pattern_top();
        // A missing pattern sits just before `start`.
        let start = start.min(pat.span.start);
        let guard = if self.eat(T::When) {
            Some(self.parse_expr())
        } else {
            None
        };
        let body = if self.expect(T::FatArrow) {
            self.parse_expr()
        } else {
            self.error_expr()
        };
        ast::Case {
            pat,
            guard,
            body,
            span: self.finish_span(start),
        }
    }

    // ------------------------------------------------------------ patterns

    /// A whole pattern: its variables must be distinct.
    fn parse_pattern_top(&mut self) -> Pattern {
        let mut vars = Vec::new();
        let pat = self.parse_pattern_inner(&mut vars);
        self.check_duplicates(&vars, |it| Some(it), "pattern variable");
        pat
    }

    /// A nested pattern: one level deeper.
    fn parse_pattern(&mut self, vars: &mut Vec<Ident>) -> Pattern {
        if !self.enter(1) {
            self.leave(1);
            return Pattern {
                kind: PatternKind::Error,
                span: self.missing_span(),
            };
        }
        let pat = self.parse_pattern_inner(vars);
        self.leave(1);
        pat
    }

    fn parse_pattern_inner(&mut self, vars: &mut Vec<Ident>) -> Pattern {
        if !self.at_qname() {
            return self.parse_apat(vars);
        }
        let start = self.start();
        let name = self.parse_qname("a constructor");
        let payload = if starts_apat(self.peek()) {
            Some(Box::new(self.parse_apat(vars)))
        } else {
            None
        };
        let kind = PatternKind::Ctor {
            module: name.module,
            name: name.name,
            payload,
        };
        Pattern {
            kind,
            span: self.finish_span(start),
        }
    }

    fn parse_apat(&mut self, vars: &mut Vec<Ident>) -> Pattern {
        let start = self.start();
        let token = self.token();
        let kind = match token.kind {
            T::Underscore => PatternKind::Wildcard,
            T::LIdent | T::UIdent if self.at_qname() => {
                let name = self.parse_qname("a constructor");
                let kind = PatternKind::Ctor {
                    module: name.module,
                    name: name.name,
                    payload: None,
                };
                return Pattern {
                    kind,
                    span: self.finish_span(start),
                };
            }
            T::LIdent => {
                let ident = self.name_of(token);
                vars.push(ident.clone());
                PatternKind::Var(ident)
            }
            T::Int => PatternKind::Lit(ast::Literal::Int(
                self.slice(token.span).parse().unwrap_or(0),
            )),
            T::Float => PatternKind::Lit(ast::Literal::Float(
                self.slice(token.span).parse().unwrap_or(0.0),
            )),
            T::Str => PatternKind::Lit(ast::Literal::Str(lexer::unescape(self.slice(token.span)))),
            T::True => PatternKind::Lit(ast::Literal::Bool(true)),
            T::False => PatternKind::Lit(ast::Literal::Bool(false)),
            T::Error => {
                self.in_error = true;
                PatternKind::Error
            }
            T::Minus => {
                self.bump();
                let lit = self.token();
                let kind = match lit.kind {
                    T::Int => PatternKind::Lit(ast::Literal::Int(
                        self.slice(lit.span).parse::<i64>().map_or(0, |it| -it),
                    )),
                    T::Float => PatternKind::Lit(ast::Literal::Float(
                        -self.slice(lit.span).parse::<f64>().unwrap_or(0.0),
                    )),
                    T::Error => {
                        self.in_error = true;
                        PatternKind::Error
                    }
                    _ => {
                        self.unexpected("a number after `-` in a pattern");
                        return Pattern {
                            kind: PatternKind::Error,
                            span: self.finish_span(start),
                        };
                    }
                };
                self.bump();
                return Pattern {
                    kind,
                    span: self.finish_span(start),
                };
            }
            T::LParen => {
                let open = self.bump().span;
                if self.eat(T::RParen) {
                    return Pattern {
                        kind: PatternKind::Lit(ast::Literal::Unit),
                        span: self.finish_span(start),
                    };
                }
                let pat = self.parse_pattern(vars);
                if self.peek() == T::Comma {
                    let span = self.span();
                    self.report(
                        Diagnostic::new(Code::E1001, "expected `)`, found `,`", self.file, span)
                            .with_help("Ligature has no tuples: match a record or a list instead"),
                    );
                } else {
                    self.expect_closing(T::RParen, open);
                }
                return pat;
            }
            T::LBracket => return self.parse_list_pattern(vars),
            T::LBrace => return self.parse_record_pattern(vars),
            _ => {
                self.unexpected("a pattern");
                return Pattern {
                    kind: PatternKind::Error,
                    span: self.missing_span(),
                };
            }
        };
        self.bump();
        Pattern {
            kind,
            span: token.span,
        }
    }

    fn parse_list_pattern(&mut self, vars: &mut Vec<Ident>) -> Pattern {
        let start = self.start();
        let open = self.bump().span;
        let mut items = Vec::new();
        while !matches!(self.peek(), T::RBracket | T::Eof) {
            items.push(self.parse_pattern(vars));
            if !self.eat(T::Comma) {
                break;
            }
        }
        self.expect_closing(T::RBracket, open);
        Pattern {
            kind: PatternKind::List(items),
            span: self.finish_span(start),
        }
    }

    fn parse_record_pattern(&mut self, vars: &mut Vec<Ident>) -> Pattern {
        let start = self.start();
        let open = self.bump().span;
        let mut fields: Vec<ast::FieldPattern> = Vec::new();
        let mut open_rest = false;
        while !matches!(self.peek(), T::RBrace | T::Eof) {
            if self.eat(T::DotDot) {
                open_rest = true;
                break;
            }
            if self.peek() == T::LIdent && self.nth(1) != T::Eq {
                let token = self.bump();
                let name = self.name_of(token);
                vars.push(name.clone());
                let pat = Pattern {
                    kind: PatternKind::Var(name.clone()),
                    span: name.span,
                };
                fields.push(ast::FieldPattern { name, pat });
            } else {
                let Some(name) = self.expect_field() else {
                    break;
                };
                let pat = if self.expect(T::Eq) {
                    self.parse_pattern(vars)
                } else {
                    Pattern {
                        kind: PatternKind::Error,
                        span: self.missing_span(),
                    }
                };
                fields.push(ast::FieldPattern { name, pat });
            }
            if !self.eat(T::Comma) {
                break;
            }
        }
        self.expect_closing(T::RBrace, open);
        self.check_duplicates(&fields, |it| Some(&it.name), "field");
        Pattern {
            kind: PatternKind::Record {
                fields,
                open: open_rest,
            },
            span: self.finish_span(start),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The scan [`let_in_answers`] replaces, at one position.
    fn scan(tokens: &[Token], pos: usize) -> bool {
        let mut level: u32 = 0;
        for token in tokens.get(pos + 1..).unwrap_or_default() {
            match token.kind {
                T::In if level == 0 => return true,
                T::Semi if level == 0 => return false,
                T::Eof => return false,
                T::LParen | T::LBrace | T::LBracket => level += 1,
                T::RParen | T::RBrace | T::RBracket => match level.checked_sub(1) {
                    Some(it) => level = it,
                    None => return true,
                },
                _ => {}
            }
        }
        false
    }

    /// The backward pass answers as the forward scan does at every position of random
    /// token sequences (balanced or not).
    #[test]
    fn let_in_answers_equal_the_forward_scan() {
        let kinds = [
            T::In,
            T::Semi,
            T::LParen,
            T::RParen,
            T::LBrace,
            T::RBrace,
            T::LBracket,
            T::RBracket,
            T::Let,
            T::LIdent,
        ];
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        for _ in 0..2_000 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let len = (seed % 40) as usize;
            let mut tokens: Vec<Token> = (0..len)
                .map(|k| {
                    let pick = (seed.rotate_left(k as u32 * 5) % kinds.len() as u64) as usize;
                    Token {
                        kind: kinds[pick],
                        span: Span::new(0, 0),
                    }
                })
                .collect();
            tokens.push(Token {
                kind: T::Eof,
                span: Span::new(0, 0),
            });
            let answers = let_in_answers(&tokens);
            assert_eq!(answers.len(), tokens.len());
            for (pos, answer) in answers.iter().enumerate() {
                assert_eq!(
                    *answer,
                    scan(&tokens, pos),
                    "at {pos} of {:?}",
                    tokens.iter().map(|t| t.kind).collect::<Vec<_>>()
                );
            }
        }
    }
}
