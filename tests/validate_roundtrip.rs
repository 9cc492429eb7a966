//! Validation is the inverse of rendering (LANGUAGE.md 11.3 and 11.8), checked on generated
//! types and values: what `eval` writes as JSON and as YAML for a value of a type is accepted
//! by `validate` against that type, named at the top level, through an alias, inside lists,
//! records, options and (recursive) unions; and the same document with one fault at one
//! place (a near miss) is rejected. The types, values and faults come from a fixed seed, so
//! a failure reproduces; the failing program and document are printed.

use std::sync::Arc;

use ligature::api::{DataFormat, EvalRequest, Format, MemoryFs, Options, Session};

/// A small deterministic generator (xorshift64*).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

#[derive(Clone, Debug)]
enum Ty {
    Int,
    Float,
    Str,
    Bool,
    Unit,
    List(Box<Ty>),
    Rec(Vec<(String, Ty)>),
    Opt(Box<Ty>),
    /// A declared union `U{k} = A{k} P | B{k} | C{k} Q`.
    Union(usize),
    /// A declared alias `L{k} = T`.
    Alias(usize),
    /// `Tree = Leaf Integer | Node (List Tree)`.
    Tree,
}

/// The declarations a generated type refers to.
#[derive(Default)]
struct Decls {
    /// Payloads of `A{k}` and `C{k}`.
    unions: Vec<(Ty, Ty)>,
    aliases: Vec<Ty>,
    /// The declarations in the order they were made (each after those it names).
    lines: Vec<String>,
}

impl Decls {
    fn source(&self) -> String {
        let mut out = String::from("type Tree = Leaf Integer | Node (List Tree);\n");
        for line in &self.lines {
            out += line;
        }
        out
    }
}

fn arg(text: &str) -> String {
    if text.contains(' ') {
        format!("({text})")
    } else {
        text.to_string()
    }
}

fn ty_text(ty: &Ty) -> String {
    match ty {
        Ty::Int => "Integer".into(),
        Ty::Float => "Float".into(),
        Ty::Str => "String".into(),
        Ty::Bool => "Bool".into(),
        Ty::Unit => "Unit".into(),
        Ty::List(t) => format!("List {}", arg(&ty_text(t))),
        Ty::Opt(t) => format!("Option {}", arg(&ty_text(t))),
        Ty::Rec(fields) => {
            let inner: Vec<String> = fields
                .iter()
                .map(|(n, t)| format!("{n}: {}", ty_text(t)))
                .collect();
            format!("{{ {} }}", inner.join(", "))
        }
        Ty::Union(k) => format!("U{k}"),
        Ty::Alias(k) => format!("L{k}"),
        Ty::Tree => "Tree".into(),
    }
}

fn gen_ty(rng: &mut Rng, decls: &mut Decls, depth: u32) -> Ty {
    let leaf = depth >= 3;
    match rng.below(if leaf { 6 } else { 12 }) {
        0 => Ty::Int,
        1 => Ty::Float,
        2 => Ty::Str,
        3 => Ty::Bool,
        4 => Ty::Unit,
        5 => Ty::Tree,
        6 => Ty::List(Box::new(gen_ty(rng, decls, depth + 1))),
        7 => Ty::Opt(Box::new(gen_ty(rng, decls, depth + 1))),
        8 => {
            let n = 1 + rng.below(3);
            let fields = (0..n)
                .map(|i| {
                    let name = ["port", "name", "on", "a_b", "x1"][(i + rng.below(2)) % 5];
                    (format!("{name}{i}"), gen_ty(rng, decls, depth + 1))
                })
                .collect();
            Ty::Rec(fields)
        }
        9 | 10 => {
            let a = gen_ty(rng, decls, depth + 1);
            let c = gen_ty(rng, decls, depth + 1);
            let k = decls.unions.len();
            decls.lines.push(format!(
                "type U{k} = A{k} {} | B{k} | C{k} {};\n",
                arg(&ty_text(&a)),
                arg(&ty_text(&c))
            ));
            decls.unions.push((a, c));
            Ty::Union(k)
        }
        _ => {
            let body = gen_ty(rng, decls, depth + 1);
            let k = decls.aliases.len();
            decls
                .lines
                .push(format!("type L{k} = {};\n", ty_text(&body)));
            decls.aliases.push(body);
            Ty::Alias(k)
        }
    }
}

/// Builds a value of a type as Ligature source and as the JSON data the type accepts,
/// with one fault at the `fault`-th node when given.
struct Gen<'a> {
    rng: Rng,
    decls: &'a Decls,
    node: usize,
    fault: Option<usize>,
}

const STRINGS: &[&str] = &[
    "",
    "api",
    "a b",
    "on",
    "null",
    "42",
    "-0",
    "x\"y",
    "back\\slash",
    "é",
    "~",
    "1.0",
];

impl Gen<'_> {
    /// (Ligature expression, JSON text)
    fn value(&mut self, ty: &Ty, depth: u32) -> (String, String) {
        let here = self.node;
        self.node += 1;
        let faulty = self.fault == Some(here);
        let pick = self.rng.below(4);
        match ty {
            Ty::Int => {
                let n: i64 = match self.rng.below(5) {
                    0 => 0,
                    1 => -(self.rng.below(1000) as i64),
                    2 => i64::MAX - self.rng.below(10) as i64,
                    3 => i64::MIN + 1,
                    _ => self.rng.below(100_000) as i64,
                };
                if faulty {
                    let bad = [
                        "1.5",
                        "\"7\"",
                        "true",
                        "9223372036854775808",
                        "-0.0",
                        "null",
                    ];
                    return (String::new(), bad[self.rng.below(bad.len())].into());
                }
                let lig = if n < 0 {
                    format!("({n})")
                } else {
                    n.to_string()
                };
                (lig, n.to_string())
            }
            Ty::Float => {
                let x = (self.rng.below(4001) as f64 - 2000.0) / 8.0;
                if faulty {
                    let bad = ["\"1.0\"", "null", "[]", "false"];
                    return (String::new(), bad[self.rng.below(bad.len())].into());
                }
                let text = format!("{x:?}");
                let lig = if x < 0.0 {
                    format!("({text})")
                } else {
                    text.clone()
                };
                (lig, text)
            }
            Ty::Str => {
                let s = STRINGS[self.rng.below(STRINGS.len())];
                if faulty {
                    let bad = ["1", "null", "[\"a\"]", "{}"];
                    return (String::new(), bad[self.rng.below(bad.len())].into());
                }
                let json = serde_json::to_string(s).unwrap_or_default();
                (json.clone(), json)
            }
            Ty::Bool => {
                if faulty {
                    let bad = ["\"true\"", "1", "null"];
                    return (String::new(), bad[self.rng.below(bad.len())].into());
                }
                let b = if pick.is_multiple_of(2) {
                    "true"
                } else {
                    "false"
                };
                (b.into(), b.into())
            }
            Ty::Unit => {
                if faulty {
                    let bad = ["0", "{}", "\"()\"", "[]"];
                    return (String::new(), bad[self.rng.below(bad.len())].into());
                }
                ("()".into(), "null".into())
            }
            Ty::List(elem) => {
                if faulty {
                    let bad = ["{}", "\"[]\"", "1"];
                    return (String::new(), bad[self.rng.below(bad.len())].into());
                }
                let n = if depth > 4 { 0 } else { self.rng.below(4) };
                let items: Vec<(String, String)> =
                    (0..n).map(|_| self.value(elem, depth + 1)).collect();
                let lig: Vec<&str> = items.iter().map(|it| it.0.as_str()).collect();
                let json: Vec<&str> = items.iter().map(|it| it.1.as_str()).collect();
                (
                    format!("[{}]", lig.join(", ")),
                    format!("[{}]", json.join(", ")),
                )
            }
            Ty::Rec(fields) => {
                let items: Vec<(String, String)> = fields
                    .iter()
                    .map(|(_, t)| self.value(t, depth + 1))
                    .collect();
                let lig: Vec<String> = fields
                    .iter()
                    .zip(&items)
                    .map(|((n, _), v)| format!("{n} = {}", v.0))
                    .collect();
                let mut json: Vec<String> = fields
                    .iter()
                    .zip(&items)
                    .map(|((n, _), v)| format!("\"{n}\": {}", v.1))
                    .collect();
                if faulty {
                    match pick % 3 {
                        0 => {
                            json.remove(0);
                        }
                        1 => json.push("\"zz\": 1".into()),
                        _ => {
                            let first = json[0].clone();
                            json.push(first);
                        }
                    }
                }
                (
                    format!("{{ {} }}", lig.join(", ")),
                    format!("{{{}}}", json.join(", ")),
                )
            }
            Ty::Opt(inner) => {
                if pick.is_multiple_of(3) && !faulty {
                    return ("None".into(), "\"None\"".into());
                }
                let (lig, json) = self.value(inner, depth + 1);
                if faulty {
                    let bad = [
                        format!("{{\"Some\": {json}, \"None\": null}}"),
                        "\"Some\"".to_string(),
                        format!("{{\"Nothing\": {json}}}"),
                        "{\"None\": null}".to_string(),
                    ];
                    return (String::new(), bad[self.rng.below(bad.len())].clone());
                }
                (format!("Some ({lig})"), format!("{{\"Some\": {json}}}"))
            }
            Ty::Union(k) => {
                let (a, c) = &self.decls.unions[*k];
                let (lig, json) = match pick % 3 {
                    0 => (format!("B{k}"), format!("\"B{k}\"")),
                    1 => {
                        let (l, j) = self.value(a, depth + 1);
                        (format!("A{k} ({l})"), format!("{{\"A{k}\": {j}}}"))
                    }
                    _ => {
                        let (l, j) = self.value(c, depth + 1);
                        (format!("C{k} ({l})"), format!("{{\"C{k}\": {j}}}"))
                    }
                };
                if faulty {
                    let bad = [
                        format!("\"A{k}\""),
                        format!("{{\"B{k}\": null}}"),
                        "\"Zz\"".to_string(),
                        "{}".to_string(),
                        format!("{{\"B{k}\": 1, \"A{k}\": 1}}"),
                    ];
                    return (String::new(), bad[self.rng.below(bad.len())].clone());
                }
                (lig, json)
            }
            Ty::Alias(k) => {
                self.node -= 1;
                let body = self.decls.aliases[*k].clone();
                self.value(&body, depth)
            }
            Ty::Tree => {
                if faulty {
                    let bad = ["{\"Leaf\": \"x\"}", "{\"Node\": {}}", "\"Leaf\"", "[]"];
                    return (String::new(), bad[self.rng.below(bad.len())].into());
                }
                if depth > 4 || pick < 2 {
                    let n = self.rng.below(100);
                    return (format!("Leaf {n}"), format!("{{\"Leaf\": {n}}}"));
                }
                let n = self.rng.below(3);
                let items: Vec<(String, String)> =
                    (0..n).map(|_| self.value(&Ty::Tree, depth + 1)).collect();
                let lig: Vec<&str> = items.iter().map(|it| it.0.as_str()).collect();
                let json: Vec<&str> = items.iter().map(|it| it.1.as_str()).collect();
                (
                    format!("Node [{}]", lig.join(", ")),
                    format!("{{\"Node\": [{}]}}", json.join(", ")),
                )
            }
        }
    }
}

fn eval(session: &Session, format: Format) -> String {
    let out = session.evaluate(&EvalRequest {
        entry: "main.lig".into(),
        field: None,
        format,
        cancel: None,
        timeout_ms: None,
    });
    match out.text {
        Some(text) => text,
        None => panic!("eval failed: {:?}", out.diagnostics),
    }
}

#[test]
fn what_eval_writes_validates_and_near_misses_do_not() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut faults_rejected = 0;
    for case in 0..400 {
        let mut decls = Decls::default();
        let ty = gen_ty(&mut rng, &mut decls, 0);
        // The type is named as generated: a union or an alias at the top level is named
        // itself, anything else through the alias `Top`.
        let type_name = match &ty {
            Ty::Union(k) => format!("U{k}"),
            Ty::Alias(k) => format!("L{k}"),
            Ty::Tree => "Tree".to_string(),
            _ => "Top".to_string(),
        };
        let mut gen = Gen {
            rng: Rng(rng.next() | 1),
            decls: &decls,
            node: 0,
            fault: None,
        };
        let (lig, json) = gen.value(&ty, 0);
        let nodes = gen.node;
        let program = format!(
            "{}type Top = {};\nlet v : {type_name} = {lig};\nv\n",
            decls.source(),
            ty_text(&ty)
        );
        let mut fs = MemoryFs::new();
        fs.insert("main.lig", program.as_bytes().to_vec());
        let session = Session::new(Options::default(), Arc::new(fs));
        let schema = match session.compile_schema("main.lig", &type_name) {
            Ok(schema) => schema,
            Err(err) => panic!("case {case}: {program}\n{:?}", err.diagnostics),
        };
        let written = [
            (eval(&session, Format::Json), DataFormat::Json),
            (eval(&session, Format::Yaml), DataFormat::Yaml),
            (json.clone(), DataFormat::Json),
            (json.clone(), DataFormat::Yaml),
        ];
        for (text, format) in &written {
            let errors = schema.check_text(text, *format);
            if *format == DataFormat::Yaml {
                // The reader of YAML nested beyond serde_yaml's bound agrees with it.
                assert_eq!(
                    errors,
                    schema.check_yaml_by_events(text),
                    "case {case}\n{text}"
                );
            }
            assert!(
                errors.is_empty(),
                "case {case}: {format:?} of `{type_name}` refused\n{program}\n{text}\n{errors:?}"
            );
        }
        // One near miss per node of the value.
        for fault in 0..nodes {
            let mut gen = Gen {
                rng: Rng(rng.next() | 1),
                decls: &decls,
                node: 0,
                fault: Some(fault),
            };
            let (_, bad) = gen.value(&ty, 0);
            if gen.node <= fault {
                continue; // the fault fell in a part this value does not have
            }
            for format in [DataFormat::Json, DataFormat::Yaml] {
                let errors = schema.check_text(&bad, format);
                if format == DataFormat::Yaml {
                    assert_eq!(
                        errors,
                        schema.check_yaml_by_events(&bad),
                        "case {case}\n{bad}"
                    );
                }
                assert!(
                    !errors.is_empty(),
                    "case {case}: near miss accepted as {format:?} `{type_name}`\n{program}\n{bad}"
                );
                assert!(
                    errors
                        .iter()
                        .all(|it| it.code == "C5004" && it.path.starts_with('$')),
                    "{errors:?}"
                );
            }
            faults_rejected += 1;
        }
    }
    assert!(faults_rejected > 400, "{faults_rejected} near misses tried");
}

/// A tree nested 2,000 deep, as eval writes it, validates in both formats (JSON: 4,000
/// levels, YAML as many, beyond serde_yaml's 128; the spec's 10,000 source levels are
/// covered by the CLI test on data).
#[test]
fn a_deep_tree_round_trips() {
    let depth = 2_000;
    let program = format!(
        "type Tree = Leaf Integer | Node (List Tree);\nlet t : Tree = {}Leaf 1{};\nt\n",
        "Node [".repeat(depth),
        "]".repeat(depth)
    );
    let mut fs = MemoryFs::new();
    fs.insert("main.lig", program.into_bytes());
    let session = Session::new(Options::default(), Arc::new(fs));
    let schema = session
        .compile_schema("main.lig", "Tree")
        .expect("the schema compiles");
    let json = eval(&session, Format::Json);
    assert!(schema.check_text(&json, DataFormat::Json).is_empty());
    let yaml = eval(&session, Format::Yaml);
    let errors = schema.check_text(&yaml, DataFormat::Yaml);
    assert!(errors.is_empty(), "{:?}", errors.first());
}

/// Runs `f` on a thread with an 8 MiB stack (a caller's ordinary thread), failing after
/// `secs` seconds instead of hanging.
fn on_small_stack(secs: u64, f: impl FnOnce() + Send + 'static) {
    let (done, finished) = std::sync::mpsc::channel();
    let worker = std::thread::Builder::new()
        .stack_size(8 << 20)
        .spawn(move || {
            f();
            let _ = done.send(());
        })
        .expect("spawns");
    match finished.recv_timeout(std::time::Duration::from_secs(secs)) {
        Ok(()) => worker.join().expect("the check passes"),
        Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
            if let Err(panic) = worker.join() {
                std::panic::resume_unwind(panic);
            }
        }
        Err(std::sync::mpsc::RecvTimeoutError::Timeout) => panic!("not done within {secs} s"),
    }
}

/// A tree `depth` deep in the YAML eval writes (block style, two-space indentation), with
/// `leaf` as the innermost `Leaf`'s payload.
fn yaml_tree(depth: usize, leaf: &str) -> String {
    let mut out = String::from("Node:\n");
    for level in 1..depth {
        out.push_str(&" ".repeat(4 * level - 2));
        out.push_str("- Node:\n");
    }
    out.push_str(&" ".repeat(4 * depth - 2));
    out.push_str("- Leaf: ");
    out.push_str(leaf);
    out.push('\n');
    out
}

/// YAML documents nest as deep as JSON ones (docs/spec-notes.md 26): the 4,999-deep tree eval
/// writes validates, a 5,000-deep one with a bad leaf is rejected at the leaf's path, and
/// one beyond `MAX_DATA_DEPTH` is the clean bound, all on an 8 MiB thread.
#[test]
fn deep_yaml_validates_as_deep_json_does() {
    on_small_stack(300, || {
        let depth = 4_999;
        let program = format!(
            "type T = Leaf Integer | Node (List T);\nlet t : T = {}Leaf 1{};\nt\n",
            "Node [".repeat(depth),
            "]".repeat(depth)
        );
        let mut fs = MemoryFs::new();
        fs.insert("main.lig", program.into_bytes());
        let session = Session::new(Options::default(), Arc::new(fs));
        let schema = session
            .compile_schema("main.lig", "T")
            .expect("the schema compiles");
        let yaml = eval(&session, Format::Yaml);
        assert_eq!(yaml, yaml_tree(depth, "1"), "eval's YAML as generated here");
        let errors = schema.check_text(&yaml, DataFormat::Yaml);
        assert!(errors.is_empty(), "{:?}", errors.first());

        for (leaf, found) in [
            ("x", "expected an Integer, found a string"),
            (".inf", "found .inf, which is not a finite Float"),
            (
                "1.5",
                "expected an Integer (a number without fraction or exponent)",
            ),
        ] {
            let errors = schema.check_text(&yaml_tree(5_000, leaf), DataFormat::Yaml);
            assert_eq!(errors.len(), 1, "{leaf}: {errors:?}");
            assert_eq!(
                errors[0].path,
                format!("${}.Leaf", ".Node[0]".repeat(5_000))
            );
            assert_eq!(errors[0].code, "C5004");
            assert!(
                errors[0].message.contains(found),
                "{leaf}: {}",
                errors[0].message
            );
        }

        // A duplicate key deep down is still C5004 at its path.
        let dup = yaml_tree(300, "1").replace(
            "- Leaf: 1\n",
            &format!("- Leaf: 1\n{}Leaf: 2\n", " ".repeat(4 * 300)),
        );
        let errors = schema.check_text(&dup, DataFormat::Yaml);
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(
            errors[0].message.contains("duplicate key `Leaf`"),
            "{errors:?}"
        );

        // Nested lists in YAML's compact block form: 100,000 levels (the leaf's included, as
        // for JSON) are read, more are the bound (JSON's), never a crash.
        let mut fs = MemoryFs::new();
        fs.insert("s.lig", b"type L = List (List Integer);\n".to_vec());
        let session = Session::new(Options::default(), Arc::new(fs));
        let lists = session.compile_schema("s.lig", "L").expect("compiles");
        let within = format!("{}1\n", "- ".repeat(99_999));
        let errors = lists.check_text(&within, DataFormat::Yaml);
        assert!(
            !errors.iter().any(|e| e.message.contains("nested deeper")),
            "{errors:?}"
        );
        let beyond = format!("{}1\n", "- ".repeat(100_000));
        let errors = lists.check_text(&beyond, DataFormat::Yaml);
        assert!(
            errors.iter().any(|e| e.code == "C5004"
                && e.path == "$"
                && e.message
                    .starts_with("the document is nested deeper than 100000 levels")),
            "{errors:?}"
        );
        // Malformed YAML deep down keeps 1-based positions (an unclosed `[` on line 202 of
        // 202: the end of the text, line 203, column 1, as serde_yaml says for shallow ones).
        let bad = format!("{}x: [\n", yaml_tree(200, "1"));
        let errors = schema.check_text(&bad, DataFormat::Yaml);
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(
            errors[0]
                .message
                .starts_with("malformed YAML at line 203, column 1: "),
            "{errors:?}"
        );
    });
}
