//! Lowered programs kept across calls, so that an edit of one `let` lowers that `let` only.
//!
//! Lowering a 10,000-declaration module binds every top-level name in a table and lowers
//! every declaration (a placeholder for each `let` whose value the cache has) and the
//! trailing expression: after an edit of one `let`, a fifth of the re-evaluation. A
//! module's program is kept, with its [`Tables`] and what it was lowered from, and the next
//! lowering starts from it when the declarations are certainly where they were:
//!
//! - the check of this run is a re-check (`check::recheck`) from the check the kept program
//!   was lowered after: the same *layout* (declaration count, kinds and names, the other
//!   declarations equal, expression ids in place, every scheme unchanged);
//! - the module and the graph's modules have the same files (lowered code names other
//!   modules' declarations by file) and the same `absolute` mode;
//! - at least one `let` has its old content key, so the module's context (its imports'
//!   contents, the declarations before) is what it was;
//! - every declaration other than a `let` has its old span.
//!
//! Then a `let` keeps its lowered code when its key and span are what they were (the code is
//! a function of its text, position and the layout; its key covers its text and what it
//! depends on) and the code is not a placeholder for a value the cache no longer has;
//! the others are lowered again against the kept tables, unless one mentions a name the
//! tables bind at or after it, as a value or a class method (its first lowering saw the
//! prelude's, or nothing); the
//! trailing expression is lowered again when its key or span changed. Otherwise the whole
//! module is lowered.

use super::deps;
use super::keys::Key;
use crate::diagnostic::Diagnostic;
use crate::eval::lower::{self, Imports, Program, Tables};
use crate::par::{ForEach, Par, Threads};
use crate::source::FileId;
use crate::syntax::ast::{self, DeclKind};
use crate::types::elab::Elaboration;

/// What a module's program was lowered from.
pub struct Lowering {
    /// The layout of the check it was lowered after (`check::CheckKept::layout`).
    layout: u64,
    /// The module's file and the files of the graph's modules in graph order, hashed.
    files: Key,
    absolute: bool,
    keys: Vec<Option<Key>>,
    body_key: Option<Key>,
    /// Whether each declaration was lowered in full, not as a placeholder for a value the
    /// host had.
    full: Vec<bool>,
    tables: Tables,
}

impl Lowering {
    /// What to keep for the next lowering, once the run is done with `program`.
    pub fn keep(self, program: Program) -> KeptProgram {
        KeptProgram {
            lowering: self,
            program,
        }
    }
}

/// A module's last program, and what it was lowered from.
pub struct KeptProgram {
    lowering: Lowering,
    program: Program,
}

/// A module to lower, as the pipeline has it.
pub struct Input<'a> {
    pub module: &'a ast::Module,
    pub elab: &'a Elaboration,
    pub file: FileId,
    pub source: &'a str,
    pub imports: &'a Imports,
    pub absolute: bool,
    /// The lets whose values the host has (lowered as placeholders).
    pub skip: &'a lower::Skip<'a>,
    /// Threads for long runs of lets (see [`spread`]).
    pub spread: Option<lower::Spread<'a>>,
    /// Polled before each declaration lowered (LANGUAGE.md 12.3).
    pub interrupt: &'a crate::eval::Interrupt,
}

/// Runs of lets shorter than this are lowered in order under [`Threads::Auto`]: a let of
/// the services workload lowers in about 0.5 us, a part of a run costs a hand-off and the
/// fresh memory a worker allocates its code in. Measured on 2 cores (2026-12-03):
/// services-100000 lowered in 44 ms instead of 53; the chain workload's 10,000 lets in
/// 7.5 ms instead of 3.6.
const AUTO_MIN_RUN: usize = 16 * 1024;

/// How lowering may use `par`'s threads, through `for_each` (which runs jobs on them).
pub fn spread<'a>(par: &Par, for_each: &'a ForEach<'a>) -> Option<lower::Spread<'a>> {
    let min_run = match par.threads() {
        _ if par.workers() < 2 => return None,
        Threads::Sequential => return None,
        // Forced parallel cuts every run, so that the tests cover the path.
        Threads::Parallel => 2,
        Threads::Auto => AUTO_MIN_RUN,
    };
    Some(lower::Spread {
        for_each,
        workers: par.workers(),
        min_run,
    })
}

/// What the session knows of the module besides its tree: the layout of its check (when
/// that check is kept), the graph's files, the content keys of its lets and trailing
/// expression.
pub struct Known<'a> {
    pub layout: Option<u64>,
    /// The module's file and the files of the graph's modules in graph order, hashed.
    pub files: Key,
    pub keys: &'a [Option<Key>],
    pub body_key: Option<Key>,
}

/// Lowers `input`, from `kept` when that certainly gives the program a whole lowering
/// would (see the module documentation); with what to keep for the next time, when the
/// check's layout is known.
pub fn lower(
    input: &Input<'_>,
    known: Known<'_>,
    kept: Option<KeptProgram>,
) -> Result<(Program, Option<Lowering>), Box<Diagnostic>> {
    let Input {
        module,
        elab,
        file,
        source,
        imports,
        absolute,
        skip,
        spread,
        interrupt,
    } = *input;
    let decls = &module.decls;
    let reused = match (kept, known.layout) {
        (Some(kept), Some(layout)) => redo(input, &known, kept, layout),
        _ => None,
    };
    let (program, tables, full) = match reused {
        Some((kept, redo, redo_body)) => {
            let KeptProgram { lowering, program } = kept;
            let mut full = lowering.full;
            let (program, tables) = lower::relower(
                module,
                elab,
                source,
                imports,
                absolute,
                skip,
                (program, lowering.tables),
                &redo,
                redo_body,
            )?;
            for i in redo {
                if let Some(slot) = full.get_mut(i) {
                    *slot = !skip(i as u32);
                }
            }
            (program, tables, full)
        }
        None => {
            let args = (imports, absolute, skip, spread);
            let (program, tables) =
                lower::lower_linked_until(module, elab, file, source, args, interrupt)?;
            let full = (0..decls.len()).map(|i| !skip(i as u32)).collect();
            (program, tables, full)
        }
    };
    let lowering = known.layout.map(|layout| Lowering {
        layout,
        files: known.files,
        absolute,
        keys: known.keys.to_vec(),
        body_key: known.body_key,
        full,
        tables,
    });
    Ok((program, lowering))
}

/// The lets to lower again in `kept`, and whether the trailing expression is to be; `None`
/// when the whole module is to be lowered.
fn redo(
    input: &Input<'_>,
    known: &Known<'_>,
    kept: KeptProgram,
    layout: u64,
) -> Option<(KeptProgram, Vec<usize>, bool)> {
    let old = &kept.lowering;
    let decls = &input.module.decls;
    let same_place = old.layout == layout
        && old.files == known.files
        && old.absolute == input.absolute
        && old.keys.len() == decls.len()
        && known.keys.len() == decls.len()
        && kept.program.decls.len() == decls.len();
    if !same_place {
        return None;
    }
    let mut redo = Vec::new();
    let mut same_lets = 0;
    for (i, (decl, lowered)) in decls.iter().zip(&kept.program.decls).enumerate() {
        let DeclKind::Let(l) = &decl.kind else {
            if lowered.span != decl.span {
                return None;
            }
            continue;
        };
        let key = known.keys.get(i).copied().flatten();
        let same_key = key.is_some() && old.keys.get(i).copied().flatten() == key;
        same_lets += usize::from(same_key);
        let usable = old.full.get(i).copied().unwrap_or(false) || (input.skip)(i as u32);
        if same_key && lowered.span == decl.span && usable {
            continue;
        }
        let bound_later = |n: &ast::Name| old.tables.bound_at_or_after(n, i as u32);
        if deps::mentions(l).iter().any(bound_later) {
            return None;
        }
        redo.push(i);
    }
    if same_lets == 0 {
        return None;
    }
    let body_span = input
        .module
        .body
        .as_ref()
        .map(|it| it.span)
        .unwrap_or_default();
    let redo_body = known.body_key.is_none()
        || known.body_key != old.body_key
        || kept.program.body_span != body_span
        || kept.program.body.is_some() != input.module.body.is_some();
    Some((kept, redo, redo_body))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::keys;
    use crate::syntax;

    /// Lowers `text` with the values of the lets `skip` names supplied, from `kept` when
    /// given (under one layout: the caller, `modules::lower_module`, passes the check's);
    /// the program's debug text and what to keep.
    fn lowered(
        text: &str,
        absolute: bool,
        skip: &lower::Skip<'_>,
        kept: Option<KeptProgram>,
    ) -> (String, KeptProgram) {
        let file = FileId(0);
        let parsed = syntax::parse(file, text);
        assert!(
            parsed.diagnostics.is_empty(),
            "{text}: {:?}",
            parsed.diagnostics
        );
        let module = parsed.module;
        let checked = crate::types::check_module(file, &module);
        assert!(
            checked.diagnostics.is_empty(),
            "{text}: {:?}",
            checked.diagnostics
        );
        let keys = keys::let_keys(&module, text, 0);
        let imports = Imports::default();
        let none = crate::eval::Interrupt::default();
        let input = Input {
            module: &module,
            elab: &checked.elaboration,
            file,
            source: text,
            imports: &imports,
            absolute,
            skip,
            spread: None,
            interrupt: &none,
        };
        let known = Known {
            layout: Some(7),
            files: 0,
            keys: &keys,
            body_key: keys::body_key(&module, text),
        };
        let (program, lowering) = lower(&input, known, kept).expect("lowers");
        let debug = format!("{program:?}");
        (debug, lowering.expect("a layout was given").keep(program))
    }

    /// Lowering `after` from the program of `before` gives what lowering it afresh does.
    fn same_as_fresh(
        before: &str,
        after: &str,
        skip_before: &lower::Skip<'_>,
        skip_after: &lower::Skip<'_>,
    ) {
        let (_, kept) = lowered(before, false, skip_before, None);
        let (again, _) = lowered(after, false, skip_after, Some(kept));
        let (fresh, _) = lowered(after, false, skip_after, None);
        assert_eq!(again, fresh, "{before}=>\n{after}");
    }

    #[test]
    fn lowering_from_the_last_program_gives_the_fresh_program() {
        let none = |_: u32| false;
        // `e` does not depend on `a`: its key stays, its place moves with `a`'s length.
        let lets = "let a = 1;\nlet b = a + 1;\nlet c = [b, 7];\nlet d = c;\nlet e = 5;\n";
        // The same text; an edit of the same length; one that moves what follows.
        same_as_fresh(lets, lets, &none, &none);
        same_as_fresh(lets, &lets.replace("= 1;", "= 2;"), &none, &none);
        same_as_fresh(
            &format!("{lets}{{ x = d }}\n"),
            &format!("{}{{ x = d }}\n", lets.replace("= 1;", "= 1000;")),
            &none,
            &none,
        );
        // The trailing expression changes, with its length or in place.
        same_as_fresh(
            &format!("{lets}{{ x = d }}\n"),
            &format!("{lets}{{ x = d, y = a }}\n"),
            &none,
            &none,
        );
        same_as_fresh(
            &format!("{lets}{{ x = d }}\n"),
            &format!("{lets}{{ x = a }}\n"),
            &none,
            &none,
        );
        // A type after the edit moves.
        same_as_fresh(
            "let a = 1;\nlet u = 3;\ntype T = Integer;\nlet b = (a : T);\n",
            "let a = 100;\nlet u = 3;\ntype T = Integer;\nlet b = (a : T);\n",
            &none,
            &none,
        );
        // Values the host had before and no longer has: their placeholders are lowered in
        // full, except where a name they mention is bound later (the prelude's `length`
        // here), where the tables after all declarations would say otherwise.
        same_as_fresh(lets, &lets.replace("= 1;", "= 2;"), &|i| i == 2, &none);
        let shadow = "let n = length [1, 2, 3];\nlet k = 1;\nlet length = \\xs -> 42;\n";
        same_as_fresh(
            shadow,
            &shadow.replace("k = 1", "k = 2"),
            &|i| i == 0,
            &none,
        );
        // The same with a method of a class declared later.
        let method = "let n = length [1, 2, 3];\ntypeclass Len 'a where\n    length : 'a -> Integer;\nlet k = 1;\n";
        same_as_fresh(
            method,
            &method.replace("k = 1", "k = 2"),
            &|i| i == 0,
            &none,
        );
        // Values the host has now: placeholders where the fresh lowering has them.
        same_as_fresh(lets, &lets.replace("= 1;", "= 2;"), &none, &|i| i == 3);
    }

    #[test]
    fn a_program_lowered_for_another_mode_is_not_reused() {
        let none = |_: u32| false;
        let text = "let a = 1;\nlet b = a + 1;\n";
        let (_, kept) = lowered(text, false, &none, None);
        let (again, _) = lowered(text, true, &none, Some(kept));
        let (fresh, _) = lowered(text, true, &none, None);
        assert_eq!(again, fresh);
    }
}
