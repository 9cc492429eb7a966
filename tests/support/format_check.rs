//! Checks shared by the tests that run the formatter over generated programs
//! (`#[path]`-included): the layout is a fixed point, and the tree is the input's.

use ligature::api;
use ligature::source::FileId;
use ligature::syntax;

/// The syntax dump of `src` without its spans (`@start..end`, only top-level items have
/// them) and line breaks, or `None` when `src` has a syntax error.
pub fn spanless_dump(src: &str) -> Option<String> {
    let parsed = syntax::parse(FileId(0), src);
    if parsed.diagnostics.iter().any(|it| it.is_error()) {
        return None;
    }
    let dump = syntax::dump::dump(&parsed.module);
    let mut out = String::with_capacity(dump.len());
    let mut rest = dump.as_str();
    while let Some(at) = rest.find(" @") {
        out.push_str(&rest[..at]);
        let after = &rest[at + 2..];
        let len = after
            .find(|ch: char| !(ch.is_ascii_digit() || ch == '.'))
            .unwrap_or(after.len());
        if len > 0 && after[..len].contains("..") {
            rest = &after[len..];
        } else {
            out.push_str(" @");
            rest = after;
        }
    }
    out.push_str(rest);
    // Where the dump breaks its lines depends on the spans' widths: white space is one space.
    Some(out.split_whitespace().collect::<Vec<_>>().join(" "))
}

/// Formats `src` (which must parse), checks that formatting again changes nothing and that
/// the result has the same syntax tree, and returns the result.
pub fn format_faithfully(src: &str) -> Result<String, String> {
    let once = api::format(src, 100).map_err(|d| format!("format failed: {d:?}"))?;
    let twice = api::format(&once, 100).map_err(|d| format!("format again failed: {d:?}"))?;
    if twice != once {
        return Err(format!(
            "not idempotent\n--- once ---\n{once}\n--- twice ---\n{twice}"
        ));
    }
    // The dump recurses as deep as the program nests: on a big stack, as the CLI's.
    let same = std::thread::scope(|scope| {
        std::thread::Builder::new()
            .stack_size(1 << 30)
            .spawn_scoped(scope, || spanless_dump(src) == spanless_dump(&once))
            .expect("spawn a thread")
            .join()
            .expect("the dump does not panic")
    });
    if !same {
        return Err(format!("a different tree\n--- formatted ---\n{once}"));
    }
    Ok(once)
}
