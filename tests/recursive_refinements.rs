//! Property test (§8.4): a value annotated with a recursive union is checked at every depth.
//! Random trees of `Tree Port` (through a parameter), `Rose` (through a record field) and a
//! parameterless union, with at most one leaf out of range: the run fails with C5005 exactly
//! when one is, and names its path.

use std::sync::Arc;

use ligature::api::{self, EvalRequest, MemoryFs, Options, Session};

const TYPES: &str = "type Port = Integer where x >= 1;\n\
type Tree 'a = Leaf 'a | Node (List (Tree 'a));\n\
type Rose = Rose { port: Port, kids: List Rose };\n\
type Bare = Tip Port | Fork { l: Bare, r: Bare };\n";

struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % n.max(1)
    }
}

/// A random value of `kind` with its leaves numbered from `next`; the leaf numbered `bad`
/// is 0 (out of range) and its path is written to `found`.
fn tree(
    rng: &mut Rng,
    kind: u8,
    depth: u32,
    path: &str,
    next: &mut u32,
    bad: u32,
    found: &mut Option<String>,
) -> String {
    let mut leaf = |path: String, next: &mut u32| {
        let n = *next;
        *next += 1;
        if n == bad {
            *found = Some(path);
            "0".to_string()
        } else {
            format!("{}", n + 1)
        }
    };
    let deeper = depth < 12 && rng.below(3) > 0;
    match kind {
        0 if deeper => {
            let kids: Vec<String> = (0..rng.below(4))
                .map(|k| {
                    tree(
                        rng,
                        0,
                        depth + 1,
                        &format!("{path}(Node)[{k}]"),
                        next,
                        bad,
                        found,
                    )
                })
                .collect();
            format!("Node [{}]", kids.join(", "))
        }
        0 => format!("Leaf {}", leaf(format!("{path}(Leaf)"), next)),
        1 => {
            let port = leaf(format!("{path}(Rose).port"), next);
            let n = if deeper { rng.below(3) } else { 0 };
            let kids: Vec<String> = (0..n)
                .map(|k| {
                    tree(
                        rng,
                        1,
                        depth + 1,
                        &format!("{path}(Rose).kids[{k}]"),
                        next,
                        bad,
                        found,
                    )
                })
                .collect();
            format!("Rose {{ port = {port}, kids = [{}] }}", kids.join(", "))
        }
        _ if deeper => {
            let l = tree(
                rng,
                2,
                depth + 1,
                &format!("{path}(Fork).l"),
                next,
                bad,
                found,
            );
            let r = tree(
                rng,
                2,
                depth + 1,
                &format!("{path}(Fork).r"),
                next,
                bad,
                found,
            );
            format!("Fork {{ l = {l}, r = {r} }}")
        }
        _ => format!("Tip {}", leaf(format!("{path}(Tip)"), next)),
    }
}

#[test]
fn recursive_unions_are_checked_at_every_depth() {
    let mut rng = Rng(0x5eed);
    let mut failures = 0;
    for case in 0..300 {
        let kind = (case % 3) as u8;
        let ty = ["Tree Port", "Rose", "Bare"][kind as usize];
        // About one case in four has every leaf in range.
        let bad = if rng.below(4) == 0 {
            u32::MAX
        } else {
            rng.below(5) as u32
        };
        let mut next = 0;
        let mut found = None;
        let value = tree(&mut rng, kind, 0, "v", &mut next, bad, &mut found);
        let source = format!("{TYPES}let v : {ty} = {value};\n");
        let fs = MemoryFs::new().with_file("main.lig", source.as_str());
        let out = Session::new(Options::default(), Arc::new(fs)).evaluate(&EvalRequest {
            entry: "main.lig".into(),
            ..EvalRequest::default()
        });
        let rendered = api::render_diagnostics(&out.diagnostics, &out.sources, false);
        match &found {
            None => assert!(out.ok(), "{source}\n{rendered}"),
            Some(path) => {
                failures += 1;
                let first = rendered.lines().next().unwrap_or_default();
                assert!(
                    first.contains("error[C5005]") && first.ends_with(&format!(" at {path}")),
                    "{source}\nwant C5005 at {path}, got:\n{rendered}"
                );
            }
        }
    }
    assert!(failures > 100, "{failures} cases with a leaf out of range");
}
