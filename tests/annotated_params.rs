//! Property test: a lambda of several annotated parameters behaves exactly as the nested
//! lambdas of one parameter each (§5.2: `\x y -> e` is `\x -> \y -> e`; §8.3: a parameter is
//! checked when its lambda is applied), whatever the split of its arguments into
//! applications, whichever argument fails its check, and whatever fails while an argument
//! is evaluated. The outcome compared is the document or the first diagnostic's code,
//! message and position.

use std::sync::Arc;

use ligature::api::{self, EvalRequest, MemoryFs, Options, Session};

fn outcome(source: &str) -> String {
    let fs = MemoryFs::new().with_file("main.lig", source);
    let out = Session::new(Options::default(), Arc::new(fs)).evaluate(&EvalRequest {
        entry: "main.lig".into(),
        ..EvalRequest::default()
    });
    match out.text {
        Some(text) => text,
        None => {
            let first = out.diagnostics.first().expect("an error has a diagnostic");
            let rendered = api::render_diagnostics(&out.diagnostics[..1], &out.sources, false);
            // The excerpt names the definition's line, which differs between the two forms.
            let head = rendered.lines().next().unwrap_or_default().to_string();
            format!("{} {head}", first.code.as_str())
        }
    }
}

/// All ways to split `n` arguments into consecutive applications.
fn splits(n: usize) -> Vec<Vec<usize>> {
    if n == 0 {
        return vec![vec![]];
    }
    let mut out = Vec::new();
    for first in 1..=n {
        for mut rest in splits(n - first) {
            rest.insert(0, first);
            out.push(rest);
        }
    }
    out
}

fn check_case(arity: usize, mask: u32, split: &[usize], args: &[String]) {
    let param = |k: usize| {
        if mask & (1 << k) != 0 {
            format!("(p{k} : Pos)")
        } else {
            format!("p{k}")
        }
    };
    let body = (0..arity)
        .map(|k| format!("p{k}"))
        .collect::<Vec<_>>()
        .join(" + ");
    let multi = format!(
        "\\{} -> {body}",
        (0..arity).map(param).collect::<Vec<_>>().join(" ")
    );
    let nested = format!(
        "{}{body}",
        (0..arity)
            .map(|k| format!("\\{} -> ", param(k)))
            .collect::<String>()
    );
    let mut call = "f".to_string();
    let mut next = 0;
    for take in split {
        let these = args.get(next..next + take).unwrap_or_default().join(" ");
        call = format!("({call} {these})");
        next += take;
    }
    // A partial application is a function, which the document leaves out: `ok` shows that
    // the run got past it.
    let program = |f: &str| {
        format!("type Pos = Integer where x > 0;\nlet f = {f};\nlet r = {call};\nlet ok = 1;\n")
    };
    let (a, b) = (outcome(&program(&multi)), outcome(&program(&nested)));
    assert_eq!(
        a,
        b,
        "\n{}\nbehaves unlike\n{}",
        program(&multi),
        program(&nested)
    );
}

#[test]
fn several_annotated_parameters_behave_as_nested_lambdas() {
    let mut cases = 0;
    for arity in 1..=4usize {
        // Which parameters are annotated: every subset but the empty one.
        for mask in 1..(1u32 << arity) {
            // How many arguments are given (fewer than the arity leaves a partial
            // application), and how they are split into applications.
            for given in 1..=arity {
                for split in splits(given) {
                    // Argument `reject` fails its check (if annotated), argument `fail`
                    // fails to evaluate (division by zero); either may be absent.
                    for reject in 0..=given {
                        for fail in 0..=given {
                            if reject > 0 && reject == fail {
                                continue;
                            }
                            let args: Vec<String> = (1..=given)
                                .map(|k| {
                                    if k == reject {
                                        "(0 - 1)".to_string()
                                    } else if k == fail {
                                        "(1 / 0)".to_string()
                                    } else {
                                        format!("{k}")
                                    }
                                })
                                .collect();
                            check_case(arity, mask, &split, &args);
                            cases += 1;
                        }
                    }
                }
            }
        }
    }
    assert!(cases > 500, "{cases} cases");
}
