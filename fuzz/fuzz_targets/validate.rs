//! Fuzzes data validation: arbitrary bytes, as JSON or as YAML (the first byte picks), checked
//! against a fixed schema with records, lists, a recursive union, `Option`, floats and
//! refinements. Checking must never panic or hang, and every violation must carry a JSON path
//! and a code that is not an internal error (R3005).
//!
//! Run with `cargo fuzz run validate -- -max_total_time=600 -timeout=10` from the repository
//! root (see ARCHITECTURE.md, "Fuzzing").

#![no_main]

use std::sync::{Arc, OnceLock};

use libfuzzer_sys::fuzz_target;
use ligature::api::{DataFormat, Limits, MemoryFs, Options, Schema, Session, Threads};

const SCHEMA: &str = r#"
type Port = Integer where x >= 1 && x <= 65535;
type Name = String with regexp("^[a-z][a-z0-9-]*$");
type Tree = Leaf | Node { left: Tree, value: Integer, right: Tree };
type Service = {
  name: Name,
  port: Port,
  weight: Float,
  tags: List String,
  replicas: Option Integer,
  tree: Tree,
  nested: List (List { on: Bool, ratio: Float where x >= 0.0 }),
};
"#;

fn schema() -> &'static Schema {
    static SCHEMA_CELL: OnceLock<Schema> = OnceLock::new();
    SCHEMA_CELL.get_or_init(|| {
        let mut fs = MemoryFs::new();
        fs.insert("schema.lig", SCHEMA.as_bytes().to_vec());
        let options = Options {
            limits: Limits {
                max_steps: 100_000,
                max_depth: 200,
                max_output_bytes: Some(100_000),
            },
            threads: Threads::Sequential,
            cache_capacity: 0,
            ..Options::default()
        };
        let session = Session::new(options, Arc::new(fs));
        session
            .compile_schema("schema.lig", "Service")
            .unwrap_or_else(|err| panic!("the fuzz schema compiles: {:?}", err.diagnostics))
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&first, rest)) = data.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    let format = if first & 1 == 0 {
        DataFormat::Json
    } else {
        DataFormat::Yaml
    };
    for violation in schema().check_text(text, format) {
        assert!(violation.path.starts_with('$'), "{violation:?}");
        assert_ne!(violation.code, "R3005", "internal error: {violation:?}");
    }
});
