//! The persistent module cache (`--cache`) through the binary: a 1,000-module project
//! evaluated cold, warm and after editing one leaf gives the uncached run's bytes each time,
//! and `--stats` shows what came from the cache; truncated or bit-flipped entries are
//! ignored and rewritten. No timing is asserted (`make bench-persist` measures).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Modules `m0` ... `m{N-1}` form a binary tree (`m{i}` imports `m{2i+1}` and `m{2i+2}`);
/// `main.lig` imports `m0`.
const N: usize = 1000;

/// Lets per module (each one a cached scheme).
const LETS: usize = 14;

/// Module `i`: a union, a record type, two exported functions, data built from its
/// children's values (a leaf's `base` ends in ` + 0;`).
fn module(i: usize, item_name: &str) -> String {
    let kids: Vec<usize> = [2 * i + 1, 2 * i + 2]
        .into_iter()
        .filter(|k| *k < N)
        .collect();
    let mut text = String::new();
    for k in &kids {
        text += &format!("import \"./m{k}\" as c{k};\n");
    }
    text += &format!("export type Color{i} = Red{i} | Green{i} | Custom{i} Integer;\n");
    text += &format!(
        "export type Item{i} = {{ id: Integer, name: String, color: Color{i}, tags: List String }};\n"
    );
    text += &format!("export let scale{i} = \\x -> x * {} + 1;\n", i % 7 + 2);
    text += &format!(
        "export let paint{i} = \\c -> match c {{ Red{i} => \"red\", Green{i} => \"green\", Custom{i} n => \"c\" ++ toString n }};\n"
    );
    let sum: Vec<String> = kids.iter().map(|k| format!("c{k}.total")).collect();
    let sum = if sum.is_empty() {
        "0".to_string()
    } else {
        sum.join(" + ")
    };
    text += &format!("export let base = {i} + {sum};\n");
    for j in 0..8 {
        text += &format!(
            "let item{j} : Item{i} = {{ id = base * 10 + {j}, name = \"{item_name}-{j}\", color = Custom{i} {j}, tags = [\"a{j}\", paint{i} (Custom{i} {j})] }};\n"
        );
    }
    let items: Vec<String> = (0..8).map(|j| format!("item{j}")).collect();
    text += &format!("export let items = [{}];\n", items.join(", "));
    text += &format!(
        "export let total = fold (\\acc it -> acc + it.id % 1000) base items + scale{i} 3;\n"
    );
    text += &format!(
        "export let summary = {{ module = \"m{i}\", total = total, first = paint{i} Red{i} }};\n"
    );
    text
}

struct Project {
    root: PathBuf,
    dir: PathBuf,
    cache: PathBuf,
}

impl Project {
    fn new(name: &str) -> Project {
        let root =
            std::env::temp_dir().join(format!("ligature-persist-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        let dir = root.join("project");
        let cache = root.join("cache");
        std::fs::create_dir_all(&dir).expect("makes the project");
        for i in 0..N {
            std::fs::write(dir.join(format!("m{i}.lig")), module(i, &format!("m{i}")))
                .expect("writes a module");
        }
        std::fs::write(
            dir.join("main.lig"),
            "import \"./m0\" as root;\n{ total = root.total, summary = root.summary, items = root.items }\n",
        )
        .expect("writes main");
        Project { root, dir, cache }
    }

    fn eval(&self, cache: bool) -> (Vec<u8>, serde_json::Value) {
        let mut args = vec!["eval", "main.lig", "--stats"];
        if cache {
            args.push("--cache");
        }
        let out = self.run(&args);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let stderr = String::from_utf8_lossy(&out.stderr);
        let stats = stderr
            .lines()
            .find_map(|line| line.strip_prefix("stats: "))
            .expect("a stats line");
        (
            out.stdout,
            serde_json::from_str(stats).expect("stats are JSON"),
        )
    }

    fn run(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_ligature"))
            .args(args)
            .current_dir(&self.dir)
            .env("NO_COLOR", "1")
            .env("LIGATURE_CACHE_DIR", &self.cache)
            .output()
            .expect("the ligature binary runs")
    }

    fn entries(&self) -> Vec<PathBuf> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(self.cache.join("modules"))
            .map(|it| it.flatten().map(|entry| entry.path()).collect())
            .unwrap_or_default();
        files.sort();
        files
    }
}

impl Drop for Project {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

fn persist(stats: &serde_json::Value, field: &str) -> u64 {
    stats["persist"][field]
        .as_u64()
        .or_else(|| stats["persist"][field].as_bool().map(u64::from))
        .unwrap_or_else(|| panic!("persist.{field} in {stats}"))
}

fn scheme_misses(stats: &serde_json::Value) -> u64 {
    stats["cache"]["schemes"]["misses"]
        .as_u64()
        .expect("scheme counters")
}

/// The modules whose module key an edit of `m{leaf}` changes: it, its ancestors, main.
fn importers_of(leaf: usize) -> usize {
    let mut n = 1;
    let mut at = leaf;
    while at > 0 {
        at = (at - 1) / 2;
        n += 1;
    }
    n + 1
}

#[test]
fn cold_warm_and_edited_runs_give_the_uncached_output() {
    let project = Project::new("runs");
    let (reference, _) = project.eval(false);

    let (cold, stats) = project.eval(true);
    assert_eq!(cold, reference);
    assert_eq!(persist(&stats, "read"), 0);
    assert_eq!(persist(&stats, "written"), N as u64 + 1);
    assert_eq!(persist(&stats, "checked"), N as u64 + 1, "{stats}");
    assert_eq!(persist(&stats, "check_read"), 0, "{stats}");

    // Warm: the document of the unchanged graph; nothing is checked or evaluated.
    let (warm, stats) = project.eval(true);
    assert_eq!(warm, reference);
    assert_eq!(persist(&stats, "document"), 1, "{stats}");
    let phases: Vec<&str> = stats["phases"]
        .as_array()
        .map(|it| it.iter().filter_map(|p| p[0].as_str()).collect())
        .unwrap_or_default();
    assert!(
        !phases.contains(&"check") && !phases.contains(&"eval"),
        "{stats}"
    );

    // Edit one leaf: only it and its importers miss; only their lets are inferred anew.
    let leaf = N - 1;
    let edited = module(leaf, &format!("m{leaf}")).replace(" + 0;", " + 1;");
    assert_ne!(edited, module(leaf, &format!("m{leaf}")));
    std::fs::write(project.dir.join(format!("m{leaf}.lig")), edited).expect("edits the leaf");
    let (reference, _) = project.eval(false);
    assert_ne!(reference, warm);
    let (edited, stats) = project.eval(true);
    assert_eq!(edited, reference);
    let changed = importers_of(leaf) as u64;
    assert_eq!(changed, 11);
    assert_eq!(persist(&stats, "document"), 0);
    assert_eq!(persist(&stats, "missed"), changed, "{stats}");
    assert_eq!(persist(&stats, "read"), N as u64 + 1 - changed, "{stats}");
    assert_eq!(persist(&stats, "written"), changed, "{stats}");
    // Only the changed modules are checked: the others' checked interfaces and
    // elaborations come from their entries.
    assert_eq!(persist(&stats, "checked"), changed, "{stats}");
    assert_eq!(
        persist(&stats, "check_read"),
        N as u64 + 1 - changed,
        "{stats}"
    );
    // `main.lig` has no lets: the other changed modules have `LETS` each.
    assert_eq!(
        scheme_misses(&stats),
        (changed - 1) * LETS as u64,
        "{stats}"
    );

    let (again, stats) = project.eval(true);
    assert_eq!(again, reference);
    assert_eq!(persist(&stats, "document"), 1, "{stats}");
}

/// Stored checks name unions, classes and instances by file id, which depend on the order
/// modules are loaded in: a run that numbers the files differently finds no entry (the key
/// covers the ids) and checks everything, giving the uncached output; `typecheck` writes
/// the checks that a later `eval` takes.
#[test]
fn renumbered_files_miss_and_typecheck_fills_the_checks() {
    let project = Project::new("renumbered");
    let (_, stats) = project.eval(true);
    assert_eq!(persist(&stats, "checked"), N as u64 + 1, "{stats}");
    // A module loaded before m0 now: every m{i} gets another file id.
    std::fs::write(
        project.dir.join("extra.lig"),
        "export type Color0 = Red0 | Blue;\nexport let pick = \\c -> match c { Red0 => 1, Blue => 2 };\n",
    )
    .expect("writes extra");
    std::fs::write(
        project.dir.join("main.lig"),
        "import \"./extra\" as e;\nimport \"./m0\" as root;\n{ total = root.total + e.pick e.Blue, summary = root.summary, items = root.items }\n",
    )
    .expect("writes main");
    let (reference, _) = project.eval(false);
    let (renumbered, stats) = project.eval(true);
    assert_eq!(renumbered, reference);
    assert_eq!(persist(&stats, "check_read"), 0, "{stats}");
    assert_eq!(persist(&stats, "checked"), N as u64 + 2, "{stats}");

    // `typecheck --cache` in an empty cache stores the checks; `eval` checks only main.
    std::fs::remove_dir_all(&project.cache).expect("empties the cache");
    let out = project.run(&["typecheck", "main.lig", "--cache"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (evaluated, stats) = project.eval(true);
    assert_eq!(evaluated, reference);
    assert_eq!(persist(&stats, "checked"), 1, "{stats}");
    assert_eq!(persist(&stats, "check_read"), N as u64 + 1, "{stats}");
}

#[test]
fn truncated_or_bit_flipped_entries_are_ignored_and_rewritten() {
    let project = Project::new("corrupt");
    let (reference, _) = project.eval(false);
    let (cold, _) = project.eval(true);
    assert_eq!(cold, reference);
    let entries = project.entries();
    assert_eq!(entries.len(), N + 2, "a module entry each and the document");
    // Every entry altered: the even ones cut short, the odd ones with one bit flipped.
    for (n, path) in entries.iter().enumerate() {
        let mut bytes = std::fs::read(path).expect("reads an entry");
        if n % 2 == 0 {
            bytes.truncate(bytes.len() / 2);
        } else {
            let at = bytes.len() - 1 - n % (bytes.len() - 1);
            bytes[at] ^= 1 << (n % 8);
        }
        std::fs::write(path, bytes).expect("writes the altered entry");
    }
    let (after, stats) = project.eval(true);
    assert_eq!(after, reference);
    assert_eq!(persist(&stats, "document"), 0, "{stats}");
    assert_eq!(persist(&stats, "read"), 0, "{stats}");
    assert_eq!(persist(&stats, "rejected"), N as u64 + 1, "{stats}");
    assert_eq!(persist(&stats, "written"), N as u64 + 1, "{stats}");
    assert_eq!(persist(&stats, "checked"), N as u64 + 1, "{stats}");
    // Rewritten: the next run is warm again.
    let (warm, stats) = project.eval(true);
    assert_eq!(warm, reference);
    assert_eq!(persist(&stats, "document"), 1, "{stats}");
    // A file that is anything at all.
    for path in project.entries() {
        std::fs::write(&path, b"not an entry").expect("writes");
    }
    let (junk, _) = project.eval(true);
    assert_eq!(junk, reference);
    assert!(Path::new(&project.cache).exists());
}

#[test]
fn concurrent_runs_sharing_the_cache_each_give_the_uncached_output() {
    let project = Project::new("concurrent");
    let (reference, _) = project.eval(false);
    // Cold runs at once: each writes every entry (a temporary file, then a rename).
    let runs: Vec<std::process::Child> = (0..4)
        .map(|_| {
            Command::new(env!("CARGO_BIN_EXE_ligature"))
                .args(["eval", "main.lig", "--cache"])
                .current_dir(&project.dir)
                .env("LIGATURE_CACHE_DIR", &project.cache)
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .expect("the ligature binary starts")
        })
        .collect();
    for run in runs {
        let out = run.wait_with_output().expect("the run ends");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(out.stdout, reference);
    }
    // No temporary file is left, and the entries are whole: the next run is warm.
    assert_eq!(project.entries().len(), N + 2);
    let (warm, stats) = project.eval(true);
    assert_eq!(warm, reference);
    assert_eq!(persist(&stats, "document"), 1, "{stats}");
}

/// A module whose check warns has no stored check: every run checks it again and prints
/// the warning, byte for byte as the uncached run does; its clean neighbour is not checked.
#[test]
fn a_module_with_a_warning_is_checked_by_every_run() {
    let project = Project::new("warning");
    std::fs::write(
        project.dir.join("warns.lig"),
        "export type Dir = North | South;\nexport let name = \\d -> match d { North => \"n\" };\n",
    )
    .expect("writes warns");
    std::fs::write(project.dir.join("clean.lig"), "export let k = 40;\n").expect("writes clean");
    std::fs::write(
        project.dir.join("main.lig"),
        "import \"./warns\" as w;\nimport \"./clean\" as c;\n{ n = w.name w.North, k = c.k + 2 }\n",
    )
    .expect("writes main");
    let reference = project.run(&["eval", "main.lig"]);
    let warning = String::from_utf8_lossy(&reference.stderr).to_string();
    assert!(warning.contains("warning[T2013]"), "{warning}");
    for run in 0..3 {
        let out = project.run(&["eval", "main.lig", "--cache", "--stats"]);
        assert_eq!(out.stdout, reference.stdout, "run {run}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        let (diagnostics, stats) = stderr.split_once("stats: ").expect("a stats line");
        assert_eq!(diagnostics, warning, "run {run}");
        let stats: serde_json::Value = serde_json::from_str(stats.trim()).expect("JSON");
        let (checked, read) = if run == 0 { (3, 0) } else { (2, 1) };
        assert_eq!(persist(&stats, "checked"), checked, "run {run}: {stats}");
        assert_eq!(persist(&stats, "check_read"), read, "run {run}: {stats}");
    }
}
