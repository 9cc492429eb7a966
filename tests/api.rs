//! The library facade for multi-module programs and data validation, through `MemoryFs`.

use std::sync::Arc;

use ligature::api::{
    DataFormat, DataInput, EvalRequest, MemoryFs, Options, Schema, Session, ValidateRequest,
};

const _: () = {
    const fn assert_send_sync<T: Send + Sync>() {}
    // A compiled schema is shared by the threads that check documents.
    assert_send_sync::<Schema>();
};

fn session(files: &[(&str, &str)]) -> Session {
    let mut fs = MemoryFs::new();
    for (path, text) in files {
        fs.insert(path, text.as_bytes().to_vec());
    }
    Session::new(Options::default(), Arc::new(fs))
}

const SCHEMA: &str = r#"import std.validation { isValidEmail };
type Port = Integer where x >= 1024;
type Email = String where isValidEmail x;
type Service = { name: String, port: Port, owner: Email };
"#;

#[test]
fn validate_one_document_in_each_input_form() {
    let session = session(&[("schema.lig", SCHEMA)]);
    let request = |data| ValidateRequest {
        schema: "schema.lig".into(),
        type_name: "Service".into(),
        data,
    };
    let good = session.validate(&request(DataInput::Json(
        r#"{"name": "api", "port": 8080, "owner": "a@b.io"}"#.into(),
    )));
    assert!(good.ok, "{:?}", good.errors);
    let yaml = session.validate(&request(DataInput::Yaml(
        "name: api\nport: 80\nowner: nobody\n".into(),
    )));
    assert!(!yaml.ok);
    let paths: Vec<(&str, &str)> = yaml
        .errors
        .iter()
        .map(|it| (it.path.as_str(), it.code.as_str()))
        .collect();
    assert_eq!(paths, [("$.port", "C5005"), ("$.owner", "C5005")]);
    let value = session.validate(&request(DataInput::Value(serde_json::json!({
        "name": "api", "port": "8080", "owner": "a@b.io"
    }))));
    assert_eq!(value.errors.len(), 1);
    assert_eq!(value.errors[0].path, "$.port");
    assert_eq!(value.errors[0].code, "C5004");
    // The DTO serialises like the other outputs.
    let json = serde_json::to_value(&value).expect("serialises");
    assert_eq!(json["errors"][0]["path"], "$.port");
}

#[test]
fn a_compiled_schema_checks_many_documents() {
    let session = session(&[("schema.lig", SCHEMA)]);
    let schema = session
        .compile_schema("schema.lig", "Service")
        .expect("the schema compiles");
    let failing = (0..200)
        .filter(|i| {
            let text = format!(
                r#"{{"name": "s{i}", "port": {}, "owner": "a@b.io"}}"#,
                1000 + i
            );
            !schema.check_text(&text, DataFormat::Json).is_empty()
        })
        .count();
    assert_eq!(failing, 24); // ports 1000..1023
    let broken = schema.check_text("{\"name\": ", DataFormat::Json);
    assert_eq!(broken.len(), 1);
    assert!(broken[0].message.contains("line 1"), "{:?}", broken);
}

#[test]
fn schema_problems_are_diagnostics() {
    let session = session(&[("schema.lig", "type A = Integer;\nlet x = 1 + \"a\";\n")]);
    let err = session
        .compile_schema("schema.lig", "A")
        .expect_err("the schema has a type error");
    assert!(err.diagnostics.iter().any(|d| d.code.as_str() == "T2001"));
    let missing = session
        .compile_schema("nope.lig", "A")
        .expect_err("no file");
    assert!(missing
        .diagnostics
        .iter()
        .any(|d| d.code.as_str() == "M4001"));
}

#[test]
fn modules_evaluate_through_the_session() {
    let session = session(&[
        (
            "app/main.lig",
            "import \"./lib\" as lib;\nlet x = lib.twice 21;\n",
        ),
        ("app/lib.lig", "let twice = \\n -> n * 2;\n"),
    ]);
    let out = session.evaluate(&EvalRequest {
        entry: "app/main.lig".into(),
        ..EvalRequest::default()
    });
    assert!(out.ok(), "{:?}", out.diagnostics);
    assert_eq!(out.text.as_deref(), Some("{\n  \"x\": 42\n}\n"));
    let typed = session.typecheck("app/main.lig");
    assert_eq!(typed.types.len(), 1);
    assert_eq!(typed.types[0].ty, "Integer");
}
