//! Lexing and parsing: source text to [`ast::Module`] plus syntax diagnostics.
//!
//! [`lexer`] turns the text into a vector of tokens with byte spans (comments and whitespace
//! dropped); [`parser`] builds the tree by recursive descent, with precedence climbing for
//! binary operators. Both keep going after errors, so one run reports every syntax error it
//! can recover from (LANGUAGE.md section 13.2). [`dump`] prints a tree for fixture tests.
//!
//! Deep nesting never overflows the stack: the parser counts nesting levels and reports E1009
//! beyond [`MAX_NESTING`]; chains (`let ... in`, `else if`, operators) are parsed with loops.

pub mod ast;
pub mod chunks;
pub mod dump;
pub mod lexer;
mod parser;

#[cfg(test)]
mod tests;

use crate::diagnostic::Diagnostic;
use crate::source::FileId;

/// The deepest nesting the parser accepts (LANGUAGE.md section 12.4); deeper is E1009.
pub const MAX_NESTING: u32 = 10_000;

/// The result of parsing one file: the (possibly partial) tree and every syntax error found.
#[derive(Debug)]
pub struct Parsed {
    pub module: ast::Module,
    pub diagnostics: Vec<Diagnostic>,
}

/// Parses one file. Never panics; every `ExprId` in the tree is below `module.n_exprs`.
pub fn parse(file: FileId, text: &str) -> Parsed {
    let mut parser = parser::Parser::new(file, text);
    let module = parser.parse_module();
    Parsed {
        module,
        diagnostics: parser.finish(),
    }
}
