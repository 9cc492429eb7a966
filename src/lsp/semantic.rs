//! Semantic tokens (full document): the lexer's tokens, names classified by what they
//! resolve to ([`super::resolve`]), and the comments found between tokens.
//!
//! The protocol encodes each token relative to the previous one (line delta, start delta
//! in UTF-16 units, length, type, modifiers) and a token may not span lines, so a
//! multi-line string or block comment is sent as one token per line.

use std::collections::HashMap;

use lsp_types::{SemanticToken, SemanticTokenType, SemanticTokens, SemanticTokensLegend};

use ligature::source::{FileId, Span};
use ligature::syntax::lexer::{self, TokenKind};

use super::resolve::{DefKind, ModuleIndex, Walk};
use super::workspace::Snapshot;

/// The token types, in the order their indexes are sent.
const TYPES: &[SemanticTokenType] = &[
    SemanticTokenType::KEYWORD,
    SemanticTokenType::VARIABLE,
    SemanticTokenType::FUNCTION,
    SemanticTokenType::TYPE,
    SemanticTokenType::INTERFACE,
    SemanticTokenType::ENUM_MEMBER,
    SemanticTokenType::NAMESPACE,
    SemanticTokenType::STRING,
    SemanticTokenType::NUMBER,
    SemanticTokenType::TYPE_PARAMETER,
    SemanticTokenType::OPERATOR,
    SemanticTokenType::COMMENT,
    SemanticTokenType::PROPERTY,
];

const KEYWORD: u32 = 0;
const VARIABLE: u32 = 1;
const FUNCTION: u32 = 2;
const TYPE: u32 = 3;
const INTERFACE: u32 = 4;
const ENUM_MEMBER: u32 = 5;
const NAMESPACE: u32 = 6;
const STRING: u32 = 7;
const NUMBER: u32 = 8;
const TYPE_PARAMETER: u32 = 9;
const OPERATOR: u32 = 10;
const COMMENT: u32 = 11;
const PROPERTY: u32 = 12;

pub fn legend() -> SemanticTokensLegend {
    SemanticTokensLegend {
        token_types: TYPES.to_vec(),
        token_modifiers: Vec::new(),
    }
}

pub fn tokens(snap: &Snapshot, key: &str, index: &ModuleIndex) -> SemanticTokens {
    let text: &str = &index.text;
    let kinds: HashMap<u32, DefKind> = Walk::new(snap, key, index)
        .all()
        .into_iter()
        .map(|it| (it.span.start, it.def.kind))
        .collect();
    let lexed = lexer::lex(FileId(0), text);
    let mut encoder = Encoder::new(text);
    let mut previous_end = 0u32;
    let mut previous_kind = TokenKind::Eof;
    for token in &lexed.tokens {
        comments(text, previous_end, token.span.start, &mut encoder);
        previous_end = token.span.end;
        let kind = match token.kind {
            kind if kind.is_keyword() => KEYWORD,
            TokenKind::Int | TokenKind::Float => NUMBER,
            TokenKind::Str => STRING,
            TokenKind::TyVar => TYPE_PARAMETER,
            TokenKind::LIdent | TokenKind::UIdent => match kinds.get(&token.span.start) {
                Some(DefKind::Value | DefKind::Builtin) => FUNCTION,
                Some(DefKind::Local) => VARIABLE,
                Some(DefKind::Type) => TYPE,
                Some(DefKind::Class) => INTERFACE,
                Some(DefKind::Ctor) => ENUM_MEMBER,
                Some(DefKind::Module) => NAMESPACE,
                Some(DefKind::Field) => PROPERTY,
                None if previous_kind == TokenKind::Dot => PROPERTY,
                None if token.kind == TokenKind::UIdent => TYPE,
                None => VARIABLE,
            },
            TokenKind::Eof | TokenKind::Error => {
                previous_kind = token.kind;
                continue;
            }
            kind if kind
                .text()
                .is_some_and(|it| it.bytes().all(|b| b.is_ascii_punctuation()))
                && !matches!(
                    kind,
                    TokenKind::LParen
                        | TokenKind::RParen
                        | TokenKind::LBrace
                        | TokenKind::RBrace
                        | TokenKind::LBracket
                        | TokenKind::RBracket
                        | TokenKind::Comma
                        | TokenKind::Semi
                        | TokenKind::Dot
                ) =>
            {
                OPERATOR
            }
            _ => {
                previous_kind = token.kind;
                continue;
            }
        };
        previous_kind = token.kind;
        encoder.push(token.span, kind);
    }
    comments(text, previous_end, text.len() as u32, &mut encoder);
    SemanticTokens {
        result_id: None,
        data: encoder.data,
    }
}

/// The comments in the gap `start..end` between two tokens (only whitespace and comments
/// lie there).
fn comments(text: &str, start: u32, end: u32, encoder: &mut Encoder) {
    let Some(gap) = text.get(start as usize..end as usize) else {
        return;
    };
    let bytes = gap.as_bytes();
    let mut idx = 0;
    while idx < bytes.len() {
        let rest = &bytes[idx..];
        let len = if rest.starts_with(b"//") || rest.starts_with(b"--") {
            rest.iter()
                .position(|&it| it == b'\n')
                .unwrap_or(rest.len())
        } else if rest.starts_with(b"/*") {
            gap[idx + 2..].find("*/").map_or(rest.len(), |it| it + 4)
        } else {
            idx += 1;
            continue;
        };
        let from = start + idx as u32;
        encoder.push(
            Span {
                start: from,
                end: from + len as u32,
            },
            COMMENT,
        );
        idx += len;
    }
}

struct Encoder<'a> {
    text: &'a str,
    data: Vec<SemanticToken>,
    /// Line and UTF-16 column of the previous token's start, and the current line's
    /// start offset with its line number (tokens arrive in order).
    prev_line: u32,
    prev_col: u32,
    line: u32,
    line_start: usize,
    scanned: usize,
}

impl<'a> Encoder<'a> {
    fn new(text: &'a str) -> Encoder<'a> {
        Encoder {
            text,
            data: Vec::new(),
            prev_line: 0,
            prev_col: 0,
            line: 0,
            line_start: 0,
            scanned: 0,
        }
    }

    /// Moves the line counter to the line of `offset` (never backwards).
    fn advance(&mut self, offset: usize) {
        let bytes = self.text.as_bytes();
        while self.scanned < offset.min(bytes.len()) {
            if bytes[self.scanned] == b'\n' {
                self.line += 1;
                self.line_start = self.scanned + 1;
            }
            self.scanned += 1;
        }
    }

    fn utf16(&self, from: usize, to: usize) -> u32 {
        self.text
            .get(from..to)
            .map_or(0, |it| it.encode_utf16().count() as u32)
    }

    fn push(&mut self, span: Span, kind: u32) {
        let (mut start, end) = (
            span.start as usize,
            (span.end as usize).min(self.text.len()),
        );
        if start < self.scanned || start >= end {
            return;
        }
        while start < end {
            self.advance(start);
            let Some(rest) = self.text.get(start..end) else {
                return;
            };
            let line_end = rest.find('\n').map_or(end, |it| start + it);
            let col = self.utf16(self.line_start, start);
            let length = self.utf16(start, line_end);
            if length > 0 {
                let delta_line = self.line - self.prev_line;
                let delta_start = if delta_line == 0 {
                    col - self.prev_col
                } else {
                    col
                };
                self.data.push(SemanticToken {
                    delta_line,
                    delta_start,
                    length,
                    token_type: kind,
                    token_modifiers_bitset: 0,
                });
                self.prev_line = self.line;
                self.prev_col = col;
            }
            start = line_end + 1;
        }
    }
}
