//! Fuzzes the parser: any UTF-8 input must parse without panicking, with every expression id
//! below `n_exprs` and every diagnostic span inside the text.
//!
//! Run with `cargo fuzz run parse` from the repository root (needs cargo-fuzz and nightly);
//! `tests/fixtures/syntax/ok/` makes a good seed corpus.

#![no_main]

use libfuzzer_sys::fuzz_target;
use ligature::source::FileId;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let text = text.to_owned();
    // Deeply nested input is legal up to the nesting limit: give the parser the large stack
    // the pipeline runs it on.
    let handle = std::thread::Builder::new()
        .stack_size(256 << 20)
        .spawn(move || {
            let parsed = ligature::syntax::parse(FileId(0), &text);
            for diagnostic in &parsed.diagnostics {
                if let Some(primary) = diagnostic.primary() {
                    assert!(primary.span.start <= primary.span.end);
                    assert!(primary.span.end as usize <= text.len());
                }
            }
            if let Some(body) = &parsed.module.body {
                assert!(body.id.0 < parsed.module.n_exprs);
            }
        })
        .expect("spawn the parser thread");
    if let Err(panic) = handle.join() {
        std::panic::resume_unwind(panic);
    }
});
