//! Every way of naming a refined type checks its refinements (LANGUAGE.md 8.4: "an alias is
//! replaced by its definition"): declared here or imported (selectively, whole, through a
//! module alias), used directly, through a local alias (a lone name, which the checker and
//! the lowerer must both read as an alias when the type is in scope), an alias of an alias,
//! or an argument. Each form is evaluated with a value that breaks the refinement (C5005) and
//! one that keeps it (no diagnostic). The lowerer once read `type S = Service;` of an
//! imported `Service` as a one-constructor union and checked nothing.

use std::sync::Arc;

use ligature::api::{EvalRequest, MemoryFs, Options, Session};

const LIB: &str = "\
export type Port = Integer where x >= 1024;
export type Service = { name: String, port: Port };
export type Box a = { item: a };
";

/// The imports that bring `Port`, `Service` and `Box` into scope, and the prefix to name them.
const IMPORTS: [(&str, &str); 4] = [
    ("", ""),
    ("import \"./lib.lig\" { Port, Service, Box };\n", ""),
    ("import \"./lib.lig\";\n", ""),
    ("import \"./lib.lig\" as lib;\n", "lib."),
];

/// Declarations naming the type (with `{p}` for the prefix), the annotation, a breaking
/// value and a keeping one.
const FORMS: [(&str, &str, &str, &str); 8] = [
    ("", "{p}Port", "80", "8080"),
    ("type P = {p}Port;\n", "P", "80", "8080"),
    ("type P = {p}Port;\ntype Q = P;\n", "Q", "80", "8080"),
    (
        "",
        "{p}Service",
        "{ name = \"a\", port = 80 }",
        "{ name = \"a\", port = 8080 }",
    ),
    (
        "type S = {p}Service;\n",
        "S",
        "{ name = \"a\", port = 80 }",
        "{ name = \"a\", port = 8080 }",
    ),
    (
        "type S = {p}Service;\n",
        "List S",
        "[{ name = \"a\", port = 80 }]",
        "[]",
    ),
    ("", "{p}Box {p}Port", "{ item = 80 }", "{ item = 8080 }"),
    (
        "type B = {p}Box {p}Port;\n",
        "Option B",
        "Some { item = 80 }",
        "None",
    ),
];

fn codes(main: &str, local_lib: bool) -> Vec<String> {
    let mut fs = MemoryFs::new();
    fs.insert("lib.lig", LIB.as_bytes().to_vec());
    let main = if local_lib {
        format!("{}{main}", LIB.replace("export ", ""))
    } else {
        main.to_string()
    };
    fs.insert("main.lig", main.into_bytes());
    let out = Session::new(Options::default(), Arc::new(fs)).evaluate(&EvalRequest {
        entry: "main.lig".into(),
        ..EvalRequest::default()
    });
    out.diagnostics
        .iter()
        .map(|d| d.code.as_str().to_string())
        .collect()
}

#[test]
fn every_name_of_a_refined_type_checks_it() {
    let mut cases = 0;
    for (import, prefix) in IMPORTS {
        for (decls, ann, bad, good) in FORMS {
            let decls = decls.replace("{p}", prefix);
            let ann = ann.replace("{p}", prefix);
            let local = import.is_empty();
            for (value, want) in [(bad, vec!["C5005".to_string()]), (good, Vec::new())] {
                let main = format!("{import}{decls}let v : {ann} = {value};\n");
                assert_eq!(codes(&main, local), want, "\n{main}");
                cases += 1;
            }
        }
    }
    assert_eq!(cases, 64);
}
