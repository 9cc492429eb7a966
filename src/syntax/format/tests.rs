use super::*;

/// Every `.lig` file of the corpus (fixtures, examples, the playground's examples).
fn corpus() -> Vec<(std::path::PathBuf, String)> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut dirs: Vec<_> = ["tests/fixtures", "examples", "www/examples"]
        .iter()
        .map(|d| root.join(d))
        .collect();
    let mut files = Vec::new();
    while let Some(dir) = dirs.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for path in entries.flatten().map(|e| e.path()) {
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "lig") {
                if let Ok(text) = std::fs::read_to_string(&path) {
                    files.push((path, text));
                }
            }
        }
    }
    assert!(files.len() > 100, "the corpus was not found");
    files
}

fn sequential(n: usize, job: &(dyn Fn(usize) + Sync)) {
    (0..n).for_each(job);
}

/// With a cut after every top-level declaration, every file of the corpus that formats
/// checks out piece by piece, and a tree that lacks a declaration or differs in its
/// trailing expression does not.
#[test]
fn the_check_in_pieces_accepts_what_the_whole_check_accepts_and_no_other_tree() {
    let mut checked = 0;
    for (path, source) in corpus() {
        // Deep trees are cloned, compared and dropped recursively.
        crate::par::on_pipeline_stack(|| check_in_pieces(&path, &source, &mut checked));
    }
    assert!(checked > 50, "only {checked} files were cut");
}

fn check_in_pieces(path: &std::path::Path, source: &str, checked: &mut usize) {
    let Ok(formatted) = format(source, DEFAULT_WIDTH) else {
        return;
    };
    let (parsed, tokens) = crate::syntax::parse_with_tokens(FileId::default(), source);
    let comments = find_comments(source, &tokens);
    let (text, cuts) = build(source, &tokens, &comments, &parsed.module, 100, 1);
    assert_eq!(text, formatted, "{}", path.display());
    let mut before = parsed.module;
    crate::syntax::chunks::erase_positions(&mut before);
    let accepted = |module: &ast::Module| {
        verified_in_pieces(source, &text, module, &comments, &cuts, &sequential)
    };
    if cuts.iter().any(|c| c.at < text.len()) {
        *checked += 1;
        assert!(accepted(&before), "{}", path.display());
    }
    if !before.decls.is_empty() {
        let mut fewer = before.clone();
        fewer.decls.pop();
        assert!(!accepted(&fewer), "{}", path.display());
    }
    if before.body.is_some() {
        let mut other = before.clone();
        other.body = None;
        assert!(!accepted(&other), "{}", path.display());
    }
}

/// Parsing in pieces gives the whole parse's tree and tokens, and formatting with it the
/// same text or the same diagnostics.
#[test]
fn formatting_parsed_in_pieces_is_formatting() {
    for (path, source) in corpus() {
        crate::par::on_pipeline_stack(|| same_in_pieces(&path, &source));
    }
}

fn same_in_pieces(path: &std::path::Path, source: &str) {
    let (whole, whole_tokens) = crate::syntax::parse_with_tokens(FileId::default(), source);
    let (pieces, tokens) = crate::syntax::chunks::parse_in_pieces_with_tokens(
        FileId::default(),
        source,
        3,
        &sequential,
    );
    assert_eq!(pieces.module, whole.module, "{}", path.display());
    assert_eq!(tokens, whole_tokens, "{}", path.display());
    assert_eq!(pieces.diagnostics, whole.diagnostics, "{}", path.display());
    assert_eq!(
        format_with(source, DEFAULT_WIDTH, 3, &sequential),
        format(source, DEFAULT_WIDTH),
        "{}",
        path.display()
    );
}

/// The layout of `source` in `width` columns, with the simple declarations laid out
/// straight (`direct`) or through their documents; `None` when it does not parse.
fn laid_out(source: &str, width: usize, direct: bool) -> Option<String> {
    let (parsed, tokens) = crate::syntax::parse_with_tokens(FileId::default(), source);
    if crate::diagnostic::has_errors(&parsed.diagnostics) {
        return None;
    }
    let comments = find_comments(source, &tokens);
    let mut builder = Builder::new(source, &tokens, &comments, width, VERIFY_PIECE_BYTES);
    builder.direct = direct;
    builder.module(&parsed.module);
    Some(builder.out.finish())
}

/// Declarations of the forms `Builder::flat_decl` lays out, next to ones it leaves to the
/// documents, at lengths around the widths tried.
fn simple_declarations() -> String {
    let mut text = String::from("let f = \\a b c d -> a;\n");
    for n in 0..60 {
        let pad = "x".repeat(n);
        for line in [
            format!("let s{n} = f 1 \"{pad}\" 2.5 true;"),
            format!("export let e{n} = f () false \"{pad}\" 7;"),
            format!("let rec r{n} = \\x -> f x \"{pad}\" 1 2;"),
            format!("let u{n} = f \"\u{e9}\u{e9}{pad}\" 31 1e6 Some;"),
            format!("let c{n} = Some \"{pad}\";"),
            format!("let p{n} = f (-1) \"{pad}\" (g 2) 3;"),
            format!("let q{n} = f [1] \"{pad}\" {{ a = 1 }} 3;"),
            format!("let v{n} = \"{pad}\"; // after"),
            format!("/* before */ let w{n} = f 1 \"{pad}\";"),
            format!("let   z{n}   =   f   1   \"{pad}\"    2   3  ;"),
        ] {
            text.push_str(&line);
            text.push('\n');
            if n % 7 == 0 {
                text.push('\n');
            }
        }
    }
    text.push_str("let m = \"a\\nb\";\n{ a = s1 }\n");
    text
}

/// Laying the simple declarations out straight gives the text their documents give, in
/// every file of the corpus and at every width around their lengths.
#[test]
fn the_direct_layout_is_the_documents_layout() {
    let simple = simple_declarations();
    assert!(laid_out(&simple, DEFAULT_WIDTH, true).is_some());
    for width in [1, 10, 20, 30, 40, 41, 50, 60, 79, 80, 100, 120] {
        assert_eq!(
            laid_out(&simple, width, true),
            laid_out(&simple, width, false),
            "width {width}"
        );
    }
    for (path, source) in corpus() {
        crate::par::on_pipeline_stack(|| {
            for width in [40, DEFAULT_WIDTH] {
                assert_eq!(
                    laid_out(&source, width, true),
                    laid_out(&source, width, false),
                    "{} at {width}",
                    path.display()
                );
            }
        });
    }
}
