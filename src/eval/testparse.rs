//! Test helper: parse with the real parser, `None` if it reports any error.

use crate::source::FileId;
use crate::syntax::ast::Module;

pub fn parse(src: &str) -> Option<Module> {
    let parsed = crate::syntax::parse(FileId(0), src);
    (!crate::diagnostic::has_errors(&parsed.diagnostics)).then_some(parsed.module)
}
