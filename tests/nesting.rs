//! Source nesting (LANGUAGE.md section 12.4), generated: every construct nests 10,000 levels
//! through every phase (parse, check, lower, evaluate, render) and evaluates to the value it
//! should; far beyond the supported nesting it is E1009, never a crash; `let ... in` and
//! `else if` chains continue to the right and may be arbitrarily long.
//!
//! A level is one construct inside another, as the spec counts them: `((1))` is two levels,
//! and so are `[[1]]`, `{ a = { b = 1 } }`, `\x -> \y -> x` and `List (List Integer)`. A
//! construct that needs parentheses to nest (`(1 + (1 + 1))`, `(\x -> (\y -> y))`) counts one
//! level per parenthesised group.
//!
//! The library runs on a thread with an ordinary 8 MiB stack (as an embedding host's would
//! be), so the test also shows that a call needs no big stack from its caller (natively the
//! library moves each call onto a big stack segment, `par::on_pipeline_stack`; the wasm
//! builds' own stack is the subject of docs/wasm.md). Deep values are rendered by the list
//! and record cases; the others evaluate to something small, as pretty-printed output grows
//! with the square of the depth.

use std::sync::Arc;

use ligature::api::{self, EvalRequest, MemoryFs, Options, Session, Threads};

/// The nesting every construct must support.
const LEVELS: usize = 10_000;

/// Far beyond any supported nesting: E1009.
const TOO_DEEP: usize = 100_000;

/// A chain of this many links must work (it is not nesting).
const CHAIN: usize = 200_000;

/// The stack of the thread that calls the library.
const CALLER_STACK: usize = 8 << 20;

/// One nesting construct: its source at `n` levels and the document it evaluates to, with
/// white space removed.
struct Construct {
    name: &'static str,
    source: fn(usize) -> String,
    value: fn(usize) -> String,
}

fn rep(text: &str, n: usize) -> String {
    text.repeat(n)
}

/// `n` arguments for a curried function of `n` parameters: zeros, then a one.
fn args(n: usize) -> String {
    let mut s = rep("0 ", n - 1);
    s.push('1');
    s
}

fn one(_: usize) -> String {
    "1".into()
}

fn yes(_: usize) -> String {
    "true".into()
}

fn nested_lists(n: usize) -> String {
    format!("{}1{}", rep("[", n), rep("]", n))
}

fn nested_records(n: usize) -> String {
    format!("{}1{}", rep("{\"a\":", n), rep("}", n))
}

const CONSTRUCTS: &[Construct] = &[
    Construct {
        name: "parentheses",
        source: |n| format!("{}1{}", rep("(", n), rep(")", n)),
        value: one,
    },
    Construct {
        name: "lists",
        source: |n| format!("{}1{}", rep("[", n), rep("]", n)),
        value: nested_lists,
    },
    Construct {
        name: "records",
        source: |n| format!("{}1{}", rep("{ a = ", n), rep(" }", n)),
        value: nested_records,
    },
    Construct {
        name: "record types",
        source: |n| {
            format!(
                "let x : {}Integer{} = {}1{};\nx{}",
                rep("{ a : ", n),
                rep(" }", n),
                rep("{ a = ", n),
                rep(" }", n),
                rep(".a", n)
            )
        },
        value: one,
    },
    Construct {
        name: "record types in an alias",
        source: |n| {
            format!(
                "type R = {}Integer{};\nlet x : R = {}1{};\ntrue",
                rep("{ a : ", n),
                rep(" }", n),
                rep("{ a = ", n),
                rep(" }", n)
            )
        },
        value: yes,
    },
    Construct {
        name: "lambdas",
        source: |n| format!("let f = {}x in f {}", rep("\\x -> ", n), args(n)),
        value: one,
    },
    Construct {
        name: "lambdas in parentheses",
        source: |n| {
            format!(
                "let f = {}x{} in f {}",
                rep("(\\x -> ", n),
                rep(")", n),
                args(n)
            )
        },
        value: one,
    },
    Construct {
        name: "lambdas with annotated parameters",
        source: |n| {
            format!(
                "let f = {}x in f {}",
                rep("\\(x : Integer) -> ", n),
                args(n)
            )
        },
        value: one,
    },
    Construct {
        name: "lambdas with one annotated parameter",
        source: |n| format!("let f = {}x in f {}", rep("\\x : Integer -> ", n), args(n)),
        value: one,
    },
    Construct {
        name: "application arguments",
        source: |n| format!("let f = \\x -> x in {}1{}", rep("f (", n), rep(")", n)),
        value: one,
    },
    Construct {
        name: "applied functions in parentheses",
        source: |n| format!("let f = \\x -> x in {}f{} 1", rep("(", n), rep(")", n)),
        value: one,
    },
    Construct {
        name: "annotations",
        source: |n| format!("{}1{}", rep("(", n), rep(" : Integer)", n)),
        value: one,
    },
    Construct {
        name: "List types",
        source: |n| {
            format!(
                "let x : {}List Integer{} = {};\nlength x",
                rep("List (", n - 1),
                rep(")", n - 1),
                nested_lists(n)
            )
        },
        value: one,
    },
    Construct {
        name: "bracketed list types",
        source: |n| {
            format!(
                "let x : {}Integer{} = {};\nlength x",
                rep("[", n),
                rep("]", n),
                nested_lists(n)
            )
        },
        value: one,
    },
    Construct {
        name: "alias applications",
        source: |n| {
            format!(
                "type L 'a = List 'a;\nlet x : {}Integer{} = {};\nlength x",
                rep("L (", n),
                rep(")", n),
                nested_lists(n)
            )
        },
        value: one,
    },
    Construct {
        name: "refined alias applications",
        source: |n| {
            format!(
                "type P = Integer where x > 0;\ntype L 'a = List 'a;\n\
                 let x : {}P{} = {};\nlength x",
                rep("L (", n),
                rep(")", n),
                nested_lists(n)
            )
        },
        value: one,
    },
    Construct {
        name: "parenthesised types",
        source: |n| format!("let x : {}Integer{} = 1;\nx", rep("(", n), rep(")", n)),
        value: one,
    },
    Construct {
        name: "function types",
        source: |n| {
            format!(
                "let f : {}Integer{} = \\{} -> 1;\nf {}",
                rep("Integer -> (", n),
                rep(")", n),
                rep("_ ", n),
                args(n)
            )
        },
        value: one,
    },
    Construct {
        name: "refinements in parentheses",
        source: |n| {
            format!(
                "let x : {}Integer where x > 0{} = 1;\nx",
                rep("(", n),
                rep(")", n)
            )
        },
        value: one,
    },
    Construct {
        name: "refinement predicates in parentheses",
        source: |n| {
            format!(
                "let x : Integer where {}x > 0{} = 1;\nx",
                rep("(", n),
                rep(")", n)
            )
        },
        value: one,
    },
    Construct {
        name: "if in the condition",
        source: |n| format!("{}true{}", rep("if ", n), rep(" then true else false", n)),
        value: yes,
    },
    Construct {
        name: "if in the then branch",
        source: |n| format!("{}1{}", rep("if true then ", n), rep(" else 0", n)),
        value: one,
    },
    Construct {
        name: "match scrutinees",
        source: |n| format!("{}1{}", rep("match ", n), rep(" { x => x }", n)),
        value: one,
    },
    Construct {
        name: "match case bodies",
        source: |n| format!("{}x{}", rep("match 1 { x => ", n), rep(" }", n)),
        value: one,
    },
    Construct {
        name: "constructor patterns",
        source: |n| {
            format!(
                "type Nat = Z | S Nat;\nlet v = fold (\\acc _ -> S acc) Z (range 0 {n});\n\
                 match v {{ {}Z{} => true, _ => false }}",
                rep("S (", n),
                rep(")", n)
            )
        },
        value: yes,
    },
    Construct {
        name: "list patterns",
        source: |n| {
            format!(
                "match {} {{ {}x{} => x, _ => 0 }}",
                nested_lists(n),
                rep("[", n),
                rep("]", n)
            )
        },
        value: one,
    },
    Construct {
        name: "record patterns",
        source: |n| {
            format!(
                "match {}1{} {{ {}x{} => x }}",
                rep("{ a = ", n),
                rep(" }", n),
                rep("{ a = ", n),
                rep(" }", n)
            )
        },
        value: one,
    },
    Construct {
        name: "parenthesised patterns",
        source: |n| format!("match 1 {{ {}x{} => x }}", rep("(", n), rep(")", n)),
        value: one,
    },
    Construct {
        name: "negations",
        source: |n| format!("{}1", rep("- ", n)),
        value: |n| if n % 2 == 0 { "1" } else { "-1" }.into(),
    },
    Construct {
        name: "negations in parentheses",
        source: |n| format!("{}1{}", rep("-(", n), rep(")", n)),
        value: |n| if n % 2 == 0 { "1" } else { "-1" }.into(),
    },
    Construct {
        name: "nots",
        source: |n| format!("{}true", rep("!", n)),
        value: |n| (n % 2 == 0).to_string(),
    },
    Construct {
        name: "sums nested to the right",
        source: |n| format!("{}1{}", rep("(1 + ", n), rep(")", n)),
        value: |n| (n + 1).to_string(),
    },
    Construct {
        name: "sums nested to the left",
        source: |n| format!("{}1{}", rep("(", n), rep(" + 1)", n)),
        value: |n| (n + 1).to_string(),
    },
    Construct {
        name: "concatenations",
        source: |n| format!("length {}[1]{}", rep("([1] ++ ", n), rep(")", n)),
        value: |n| (n + 1).to_string(),
    },
    Construct {
        name: "field accesses",
        source: |n| format!("{}1{}{}", rep("{ a = ", n), rep(" }", n), rep(".a", n)),
        value: one,
    },
    Construct {
        name: "spreads",
        source: |n| format!("{}{{ a = 1 }}{}", rep("{ ...", n), rep(" }", n)),
        value: |_| "{\"a\":1}".into(),
    },
    Construct {
        name: "lets in bound expressions",
        source: |n| format!("{}1{}", rep("let x = ", n), rep(" in x", n)),
        value: one,
    },
];

/// Evaluates `source` through the library, called from a thread with an 8 MiB stack; the
/// document (white space removed) or the codes of the errors.
fn evaluate(source: String) -> Result<String, Vec<String>> {
    std::thread::Builder::new()
        .stack_size(CALLER_STACK)
        .spawn(move || {
            let mut fs = MemoryFs::new();
            fs.insert("main.lig", source.into_bytes());
            let options = Options {
                threads: Threads::Sequential,
                cache_capacity: 0,
                ..Options::default()
            };
            let session = Session::new(options, Arc::new(fs));
            let out = session.evaluate(&EvalRequest {
                entry: "main.lig".into(),
                ..EvalRequest::default()
            });
            match out.text {
                Some(text) if out.ok() => Ok(without_white_space(&text)),
                _ => Err(out
                    .diagnostics
                    .iter()
                    .map(|it| it.code.as_str().to_string())
                    .collect()),
            }
        })
        .expect("spawn a thread with an 8 MiB stack")
        .join()
        .expect("the library neither panics nor overflows its stack")
}

/// `text` without its white space: a plain loop over bytes (iterator adapters over the 100 MB
/// of a 10,000-deep pretty-printed list took 23 s unoptimised).
fn without_white_space(text: &str) -> String {
    let mut out = Vec::with_capacity(text.len() / 4);
    for &byte in text.as_bytes() {
        if !byte.is_ascii_whitespace() {
            out.push(byte);
        }
    }
    String::from_utf8(out).expect("removing ASCII white space keeps UTF-8")
}

#[test]
fn every_construct_nests_ten_thousand_levels_in_every_phase() {
    assert!(CONSTRUCTS.len() >= 28);
    let mut failures = Vec::new();
    for construct in CONSTRUCTS {
        let want = (construct.value)(LEVELS);
        match evaluate((construct.source)(LEVELS)) {
            Ok(got) if got == want => {}
            res => failures.push(format!("{}: {:.120?}", construct.name, res)),
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

#[test]
fn every_construct_nested_far_beyond_the_limit_is_e1009() {
    let mut failures = Vec::new();
    for construct in CONSTRUCTS {
        match evaluate((construct.source)(TOO_DEEP)) {
            Err(codes) if codes == ["E1009"] => {}
            res => failures.push(format!("{}: {:.120?}", construct.name, res)),
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

#[test]
fn let_chains_are_not_nesting() {
    let mut source = String::new();
    for i in 0..CHAIN {
        source.push_str(&format!("let x{i} = {i} in\n"));
    }
    source.push_str(&format!("x{}\n", CHAIN - 1));
    assert_eq!(evaluate(source), Ok((CHAIN - 1).to_string()));
}

#[test]
fn else_if_chains_are_not_nesting() {
    let mut source = format!("let n = {} in ", CHAIN - 1);
    for i in 0..CHAIN {
        source.push_str(&format!("if n == {i} then {i} else "));
    }
    source.push_str("0\n");
    assert_eq!(evaluate(source), Ok((CHAIN - 1).to_string()));
}

#[test]
fn chains_inside_nesting_and_nesting_inside_chains() {
    // A chain at the bottom of 10,000 levels, and 10,000 levels in the last link of a chain.
    let chain = "let a = 1 in ".repeat(CHAIN / 10);
    let source = format!("{}{chain}a{}", rep("(", LEVELS), rep(")", LEVELS));
    assert_eq!(evaluate(source), Ok("1".into()));
    let source = format!("{chain}length {}a{}", rep("[", LEVELS), rep("]", LEVELS));
    assert_eq!(evaluate(source), Ok("1".into()));
}

/// `ligature fmt` of every construct at 10,000 levels, from a thread with an 8 MiB stack:
/// no crash, a fixed point, and the same document.
#[test]
fn every_construct_formats_at_ten_thousand_levels() {
    let mut failures = Vec::new();
    for construct in CONSTRUCTS {
        let source = (construct.source)(LEVELS);
        let formatted = std::thread::Builder::new()
            .stack_size(CALLER_STACK)
            .spawn(move || {
                let once = api::format(&source, 100).map_err(|d| format!("{d:?}"))?;
                let twice = api::format(&once, 100).map_err(|d| format!("{d:?}"))?;
                if once == twice {
                    Ok(once)
                } else {
                    Err("not a fixed point".to_string())
                }
            })
            .expect("spawn a thread with an 8 MiB stack")
            .join()
            .expect("the formatter neither panics nor overflows its stack");
        let want = (construct.value)(LEVELS);
        match formatted.map(evaluate) {
            Ok(Ok(got)) if got == want => {}
            res => failures.push(format!("{}: {:.120?}", construct.name, res)),
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}
