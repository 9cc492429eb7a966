//! The lexer: source text to a vector of tokens with byte spans.
//!
//! The lexer is hand-written and works on bytes: every token starts with an ASCII byte, so
//! byte-wise scanning never splits a UTF-8 character except where a non-ASCII character
//! appears outside a string or comment, which is reported (E1006) with the span of the whole
//! character. Tokens carry no payload: the parser reads identifiers and numbers back from the
//! source slice and decodes string literals with [`unescape`], which is lenient because the
//! lexer has already reported every bad escape.
//!
//! The lexer never stops at an error. Invalid characters are reported and skipped; malformed
//! numbers and unterminated strings become [`TokenKind::Error`] tokens, which the parser
//! accepts as an error placeholder without reporting them a second time.

use crate::diagnostic::{Code, Diagnostic};
use crate::interrupt::Poll;
use crate::source::{FileId, Span};
use crate::syntax::ast::Name;

/// The kind of a token. Keywords and punctuation have one kind each.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TokenKind {
    Int,
    Float,
    Str,
    /// An identifier starting with `a`-`z` or `_` (but not a lone `_`).
    LIdent,
    /// An identifier starting with `A`-`Z`.
    UIdent,
    /// `'ident`.
    TyVar,
    /// A lone `_`.
    Underscore,
    // Keywords (LANGUAGE.md section 2.4).
    As,
    Else,
    Export,
    False,
    From,
    If,
    Import,
    In,
    Instance,
    Let,
    Match,
    Module,
    Rec,
    Superclass,
    Then,
    True,
    Type,
    Typeclass,
    When,
    Where,
    With,
    // Punctuation and operators.
    DotDotDot,
    DotDot,
    Arrow,
    FatArrow,
    EqEq,
    NotEq,
    LtEq,
    GtEq,
    AndAnd,
    OrOr,
    PlusPlus,
    Plus,
    Minus,
    Star,
    Slash,
    Percent,
    Lt,
    Gt,
    Bang,
    Eq,
    Colon,
    Semi,
    Comma,
    Dot,
    Bar,
    Backslash,
    LParen,
    RParen,
    LBrace,
    RBrace,
    LBracket,
    RBracket,
    /// A malformed number, an unterminated string or a lone `'`, already reported.
    Error,
    Eof,
}

impl TokenKind {
    /// The keyword spelled `text`, if any.
    pub fn keyword(text: &[u8]) -> Option<TokenKind> {
        use TokenKind::*;
        let kind = match text {
            b"as" => As,
            b"else" => Else,
            b"export" => Export,
            b"false" => False,
            b"from" => From,
            b"if" => If,
            b"import" => Import,
            b"in" => In,
            b"instance" => Instance,
            b"let" => Let,
            b"match" => Match,
            b"module" => Module,
            b"rec" => Rec,
            b"superclass" => Superclass,
            b"then" => Then,
            b"true" => True,
            b"type" => Type,
            b"typeclass" => Typeclass,
            b"when" => When,
            b"where" => Where,
            b"with" => With,
            _ => return None,
        };
        Some(kind)
    }

    pub fn is_keyword(self) -> bool {
        use TokenKind::*;
        matches!(
            self,
            As | Else
                | Export
                | False
                | From
                | If
                | Import
                | In
                | Instance
                | Let
                | Match
                | Module
                | Rec
                | Superclass
                | Then
                | True
                | Type
                | Typeclass
                | When
                | Where
                | With
        )
    }

    /// The fixed spelling of a keyword or punctuation token.
    pub fn text(self) -> Option<&'static str> {
        use TokenKind::*;
        let text = match self {
            As => "as",
            Else => "else",
            Export => "export",
            False => "false",
            From => "from",
            If => "if",
            Import => "import",
            In => "in",
            Instance => "instance",
            Let => "let",
            Match => "match",
            Module => "module",
            Rec => "rec",
            Superclass => "superclass",
            Then => "then",
            True => "true",
            Type => "type",
            Typeclass => "typeclass",
            When => "when",
            Where => "where",
            With => "with",
            DotDotDot => "...",
            DotDot => "..",
            Arrow => "->",
            FatArrow => "=>",
            EqEq => "==",
            NotEq => "!=",
            LtEq => "<=",
            GtEq => ">=",
            AndAnd => "&&",
            OrOr => "||",
            PlusPlus => "++",
            Plus => "+",
            Minus => "-",
            Star => "*",
            Slash => "/",
            Percent => "%",
            Lt => "<",
            Gt => ">",
            Bang => "!",
            Eq => "=",
            Colon => ":",
            Semi => ";",
            Comma => ",",
            Dot => ".",
            Bar => "|",
            Backslash => "\\",
            LParen => "(",
            RParen => ")",
            LBrace => "{",
            RBrace => "}",
            LBracket => "[",
            RBracket => "]",
            Underscore => "_",
            Int | Float | Str | LIdent | UIdent | TyVar | Error | Eof => return None,
        };
        Some(text)
    }
}

/// One token: its kind and its byte span in the original text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Token {
    pub kind: TokenKind,
    pub span: Span,
}

/// The tokens of a file (ending with [`TokenKind::Eof`]) and the lexical errors.
#[derive(Debug)]
pub struct Lexed {
    pub tokens: Vec<Token>,
    pub diagnostics: Vec<Diagnostic>,
    /// The `;` tokens outside any bracket: a close upper bound on the number of
    /// declarations, counted while lexing (a second pass over the tokens cost as much).
    pub n_top_semis: usize,
}

/// Splits `text` into tokens. The last token is always `Eof`.
pub fn lex(file: FileId, text: &str) -> Lexed {
    lex_polling(file, text, &mut Poll::never())
}

/// [`lex`], polling `poll` at every token and line: once it stops, the tokens end there
/// (with `Eof`) and `poll.stopped()` tells the caller that the text was not read to its end.
pub(crate) fn lex_polling(file: FileId, text: &str, poll: &mut Poll<'_>) -> Lexed {
    let mut lexer = Lexer {
        file,
        bytes: text.as_bytes(),
        text,
        pos: 0,
        tokens: Vec::with_capacity(text.len() / 3 + 1),
        diagnostics: Vec::new(),
        poll,
        level: 0,
        n_top_semis: 0,
    };
    if text.starts_with('\u{feff}') {
        lexer.pos = '\u{feff}'.len_utf8();
    }
    lexer.run();
    let end = text.len() as u32;
    lexer.tokens.push(Token {
        kind: TokenKind::Eof,
        span: Span::new(end, end),
    });
    Lexed {
        tokens: lexer.tokens,
        diagnostics: lexer.diagnostics,
        n_top_semis: lexer.n_top_semis,
    }
}

/// Tokens per call of `Lexer::run_batch`: enough that a call costs nothing against its work,
/// few enough that a big file's lexing makes hundreds of calls.
const BATCH_TOKENS: u32 = 4096;

struct Lexer<'a, 'p, 'i> {
    file: FileId,
    bytes: &'a [u8],
    text: &'a str,
    pos: usize,
    tokens: Vec<Token>,
    diagnostics: Vec<Diagnostic>,
    poll: &'p mut Poll<'i>,
    /// Brackets open at `pos` (never below zero) and the `;`s met at level zero.
    level: u32,
    n_top_semis: usize,
}

fn is_ident_start(byte: u8) -> bool {
    byte.is_ascii_alphabetic() || byte == b'_'
}

fn is_ident_continue(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || byte == b'_'
}

impl Lexer<'_, '_, '_> {
    fn at(&self, offset: usize) -> u8 {
        self.bytes.get(self.pos + offset).copied().unwrap_or(0)
    }

    fn push(&mut self, kind: TokenKind, start: usize) {
        self.tokens.push(Token {
            kind,
            span: Span::new(start as u32, self.pos as u32),
        });
    }

    fn error(&mut self, code: Code, message: impl Into<String>, start: usize, end: usize) {
        self.diagnostics.push(Diagnostic::new(
            code,
            message,
            self.file,
            Span::new(start as u32, end as u32),
        ));
    }

    fn run(&mut self) {
        while self.run_batch() {}
    }

    /// Lexes at most [`BATCH_TOKENS`] tokens (and lines); answers whether there is more to
    /// read. The lexer's loop is a function of its own, called once per batch, for
    /// WebAssembly: V8 replaces a function's baseline code with optimised code only
    /// between calls (wasm has no on-stack replacement), so one loop over a whole file ran
    /// all of its first call in baseline code (`docs/wasm.md`, issue 17). `inline(never)`
    /// here and `wasm.mk`'s `--no-inline` pattern keep it a function of its own.
    #[inline(never)]
    fn run_batch(&mut self) -> bool {
        let mut budget = BATCH_TOKENS;
        while let Some(&byte) = self.bytes.get(self.pos) {
            // Blanks within a line are skipped without polling: a poll per token and per
            // line bounds the work between two polls just as well.
            if matches!(byte, b' ' | b'\t' | b'\r') {
                self.pos += 1;
                continue;
            }
            if self.poll.stop() {
                return false;
            }
            if budget == 0 {
                return true;
            }
            budget -= 1;
            let start = self.pos;
            match byte {
                b'\n' => self.pos += 1,
                b'/' if self.at(1) == b'/' => self.skip_line(),
                b'-' if self.at(1) == b'-' => self.skip_line(),
                b'/' if self.at(1) == b'*' => self.skip_block_comment(),
                b'0'..=b'9' => self.lex_number(),
                b'"' => self.lex_string(),
                b'\'' => {
                    self.pos += 1;
                    if is_ident_start(self.at(0)) {
                        self.skip_ident_chars();
                        self.push(TokenKind::TyVar, start);
                    } else {
                        self.error(
                            Code::E1006,
                            "expected a type variable name after `'`",
                            start,
                            start + 1,
                        );
                        self.push(TokenKind::Error, start);
                    }
                }
                _ if is_ident_start(byte) => {
                    self.skip_ident_chars();
                    let word = self.bytes.get(start..self.pos).unwrap_or_default();
                    let kind = if word == b"_" {
                        TokenKind::Underscore
                    } else if let Some(keyword) = TokenKind::keyword(word) {
                        keyword
                    } else if byte.is_ascii_uppercase() {
                        TokenKind::UIdent
                    } else {
                        TokenKind::LIdent
                    };
                    self.push(kind, start);
                }
                _ => {
                    if let Some((kind, len)) = self.punct() {
                        self.pos += len;
                        self.push(kind, start);
                        match kind {
                            TokenKind::LParen | TokenKind::LBrace | TokenKind::LBracket => {
                                self.level += 1;
                            }
                            TokenKind::RParen | TokenKind::RBrace | TokenKind::RBracket => {
                                self.level = self.level.saturating_sub(1);
                            }
                            TokenKind::Semi if self.level == 0 => self.n_top_semis += 1,
                            _ => {}
                        }
                    } else {
                        self.invalid_chars();
                    }
                }
            }
        }
        false
    }

    /// Moves past the bytes from `pos` on that satisfy `keep`.
    fn skip_while(&mut self, keep: impl Fn(u8) -> bool) {
        let rest = self.bytes.get(self.pos..).unwrap_or_default();
        self.pos += rest.iter().position(|&b| !keep(b)).unwrap_or(rest.len());
    }

    fn skip_ident_chars(&mut self) {
        self.skip_while(is_ident_continue);
    }

    fn skip_line(&mut self) {
        match self
            .bytes
            .get(self.pos..)
            .and_then(|rest| rest.iter().position(|&b| b == b'\n'))
        {
            Some(offset) => self.pos += offset + 1,
            None => self.pos = self.bytes.len(),
        }
    }

    fn skip_block_comment(&mut self) {
        let start = self.pos;
        let body = self.bytes.get(start + 2..).unwrap_or_default();
        match body.windows(2).position(|pair| pair == b"*/") {
            Some(offset) => self.pos = start + 2 + offset + 2,
            None => {
                self.pos = self.bytes.len();
                self.error(
                    Code::E1003,
                    "unterminated block comment: `/*` without `*/`",
                    start,
                    start + 2,
                );
            }
        }
    }

    /// A run of characters that start no token, reported once.
    fn invalid_chars(&mut self) {
        let start = self.pos;
        while let Some(&byte) = self.bytes.get(self.pos) {
            if self.pos > start && (byte.is_ascii_whitespace() || self.starts_token(byte)) {
                break;
            }
            let len = self
                .text
                .get(self.pos..)
                .and_then(|rest| rest.chars().next())
                .map_or(1, char::len_utf8);
            self.pos += len;
        }
        let found = self.text.get(start..self.pos).unwrap_or("");
        let message = if found.chars().count() == 1 {
            format!("invalid character `{}`", found.escape_debug())
        } else {
            format!("invalid characters `{}`", found.escape_debug())
        };
        self.error(Code::E1006, message, start, self.pos);
    }

    /// Whether an ASCII byte starts a token, whitespace or comment.
    fn starts_token(&self, byte: u8) -> bool {
        byte.is_ascii_alphanumeric()
            || matches!(byte, b'_' | b'"' | b'\'' | b'/' | b'-')
            || self.punct().is_some()
    }

    fn punct(&self) -> Option<(TokenKind, usize)> {
        use TokenKind::*;
        let a = self.at(0);
        // Brackets and separators first: no token starts with them and goes on.
        let one = match a {
            b'(' => LParen,
            b')' => RParen,
            b'{' => LBrace,
            b'}' => RBrace,
            b'[' => LBracket,
            b']' => RBracket,
            b',' => Comma,
            b';' => Semi,
            b':' => Colon,
            _ => return self.punct_operator(a),
        };
        Some((one, 1))
    }

    /// [`Lexer::punct`] of the other punctuation, which may be one to three bytes long.
    fn punct_operator(&self, a: u8) -> Option<(TokenKind, usize)> {
        use TokenKind::*;
        let (b, c) = (self.at(1), self.at(2));
        let two = match (a, b) {
            (b'.', b'.') if c == b'.' => return Some((DotDotDot, 3)),
            (b'.', b'.') => Some(DotDot),
            (b'-', b'>') => Some(Arrow),
            (b'=', b'>') => Some(FatArrow),
            (b'=', b'=') => Some(EqEq),
            (b'!', b'=') => Some(NotEq),
            (b'<', b'=') => Some(LtEq),
            (b'>', b'=') => Some(GtEq),
            (b'&', b'&') => Some(AndAnd),
            (b'|', b'|') => Some(OrOr),
            (b'+', b'+') => Some(PlusPlus),
            _ => None,
        };
        if let Some(kind) = two {
            return Some((kind, 2));
        }
        let one = match a {
            b'+' => Plus,
            b'-' => Minus,
            b'*' => Star,
            b'/' => Slash,
            b'%' => Percent,
            b'<' => Lt,
            b'>' => Gt,
            b'!' => Bang,
            b'=' => Eq,
            b':' => Colon,
            b';' => Semi,
            b',' => Comma,
            b'.' => Dot,
            b'|' => Bar,
            b'\\' => Backslash,
            b'(' => LParen,
            b')' => RParen,
            b'{' => LBrace,
            b'}' => RBrace,
            b'[' => LBracket,
            b']' => RBracket,
            _ => return None,
        };
        Some((one, 1))
    }

    fn skip_digits(&mut self) {
        self.skip_while(|b| b.is_ascii_digit());
    }

    fn lex_number(&mut self) {
        let start = self.pos;
        self.skip_digits();
        let mut is_float = false;
        if self.at(0) == b'.' && self.at(1).is_ascii_digit() {
            is_float = true;
            self.pos += 1;
            self.skip_digits();
        }
        if matches!(self.at(0), b'e' | b'E') {
            let sign = usize::from(matches!(self.at(1), b'+' | b'-'));
            if self.at(1 + sign).is_ascii_digit() {
                is_float = true;
                self.pos += 1 + sign;
                self.skip_digits();
            }
        }
        // A number run into letters, `_`, or (for a Float) another `.digit`.
        let run_on = is_ident_continue(self.at(0))
            || (is_float && self.at(0) == b'.' && self.at(1).is_ascii_digit());
        if run_on {
            loop {
                if is_ident_continue(self.at(0)) {
                    self.pos += 1;
                } else if self.at(0) == b'.' && self.at(1).is_ascii_digit() {
                    self.pos += 2;
                } else {
                    break;
                }
            }
            let found = self.text.get(start..self.pos).unwrap_or("");
            self.error(
                Code::E1005,
                format!("malformed number `{found}`"),
                start,
                self.pos,
            );
            self.push(TokenKind::Error, start);
            return;
        }
        let literal = self.text.get(start..self.pos).unwrap_or("");
        if is_float {
            if literal.parse::<f64>().map_or(true, f64::is_infinite) {
                self.error(
                    Code::E1005,
                    "float literal is too large: it rounds to infinity",
                    start,
                    self.pos,
                );
            }
            self.push(TokenKind::Float, start);
        } else {
            // Eighteen digits or fewer always fit: only longer literals are parsed here.
            if literal.len() > 18 && literal.parse::<i64>().is_err() {
                self.error(
                    Code::E1004,
                    "integer literal is too large: the largest Integer is 9223372036854775807",
                    start,
                    self.pos,
                );
            }
            self.push(TokenKind::Int, start);
        }
    }

    fn lex_string(&mut self) {
        let start = self.pos;
        self.pos += 1;
        loop {
            let rest = self.bytes.get(self.pos..).unwrap_or_default();
            let Some(offset) = rest.iter().position(|&b| b == b'"' || b == b'\\') else {
                self.pos = self.bytes.len();
                self.error(
                    Code::E1002,
                    "unterminated string literal: missing the closing `\"`",
                    start,
                    start + 1,
                );
                self.push(TokenKind::Error, start);
                return;
            };
            self.pos += offset;
            if self.at(0) == b'"' {
                self.pos += 1;
                self.push(TokenKind::Str, start);
                return;
            }
            self.lex_escape();
        }
    }

    /// An escape sequence, at its backslash: checks it and moves past it.
    fn lex_escape(&mut self) {
        let start = self.pos;
        match self.at(1) {
            b'"' | b'\\' | b'n' | b't' | b'r' | b'0' => self.pos += 2,
            b'u' => {
                let (len, ok) = scan_unicode_escape(self.bytes.get(start..).unwrap_or_default());
                self.pos += len;
                if !ok {
                    let found = self.text.get(start..self.pos).unwrap_or("");
                    self.error(
                        Code::E1008,
                        format!(
                            "invalid unicode escape `{found}`: expected `\\u{{H}}` with 1 to 6 hex digits naming a Unicode scalar value"
                        ),
                        start,
                        self.pos,
                    );
                }
            }
            0 if self.pos + 1 >= self.bytes.len() => {
                // A backslash at the very end: the string is unterminated, reported next.
                self.pos += 1;
            }
            _ => {
                let len = self
                    .text
                    .get(start + 1..)
                    .and_then(|rest| rest.chars().next())
                    .map_or(1, char::len_utf8);
                self.pos += 1 + len;
                let found = self.text.get(start..self.pos).unwrap_or("");
                self.diagnostics.push(
                    Diagnostic::new(
                        Code::E1008,
                        format!("invalid escape sequence `\\{}`", found.get(1..).unwrap_or("").escape_debug()),
                        self.file,
                        Span::new(start as u32, self.pos as u32),
                    )
                    .with_help("valid escapes are \\\" \\\\ \\n \\t \\r \\0 and \\u{H}; write `\\\\` for a backslash"),
                );
            }
        }
    }
}

/// Scans `\u{...}` at the start of `bytes` (which starts with `\u`): the length consumed and
/// whether the escape is valid. A missing `}` consumes only the hex digits.
fn scan_unicode_escape(bytes: &[u8]) -> (usize, bool) {
    if bytes.get(2) != Some(&b'{') {
        return (2, false);
    }
    let mut len = 3;
    let mut value: u32 = 0;
    let mut n_digits = 0;
    while let Some(&byte) = bytes.get(len) {
        let Some(digit) = (byte as char).to_digit(16) else {
            break;
        };
        value = value.saturating_mul(16).saturating_add(digit);
        n_digits += 1;
        len += 1;
    }
    if bytes.get(len) != Some(&b'}') {
        return (len, false);
    }
    len += 1;
    let ok = (1..=6).contains(&n_digits) && char::from_u32(value).is_some();
    (len, ok)
}

/// Decodes the body of a string literal token (quotes included). Invalid escapes, already
/// reported by the lexer, are kept as written.
pub fn unescape(literal: &str) -> Name {
    let body = literal.strip_prefix('"').unwrap_or(literal);
    let body = body.strip_suffix('"').unwrap_or(body);
    if !body.contains('\\') {
        return Name::new(body);
    }
    let mut out = String::with_capacity(body.len());
    let mut rest = body;
    while let Some(idx) = rest.find('\\') {
        out.push_str(rest.get(..idx).unwrap_or(""));
        let esc = rest.get(idx..).unwrap_or("");
        let bytes = esc.as_bytes();
        let (decoded, len) = match bytes.get(1) {
            Some(b'"') => (Some('"'), 2),
            Some(b'\\') => (Some('\\'), 2),
            Some(b'n') => (Some('\n'), 2),
            Some(b't') => (Some('\t'), 2),
            Some(b'r') => (Some('\r'), 2),
            Some(b'0') => (Some('\0'), 2),
            Some(b'u') => {
                let (len, ok) = scan_unicode_escape(bytes);
                let value = if ok {
                    esc.get(3..len - 1)
                        .and_then(|hex| u32::from_str_radix(hex, 16).ok())
                        .and_then(char::from_u32)
                } else {
                    None
                };
                (value, len)
            }
            Some(_) => (
                None,
                1 + esc
                    .get(1..)
                    .and_then(|it| it.chars().next())
                    .map_or(0, char::len_utf8),
            ),
            None => (None, 1),
        };
        match decoded {
            Some(ch) => out.push(ch),
            None => out.push_str(esc.get(..len).unwrap_or(esc)),
        }
        rest = esc.get(len..).unwrap_or("");
    }
    out.push_str(rest);
    Name::from(out)
}
