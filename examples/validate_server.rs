//! Validation and evaluation over HTTP with the async API (`ligature::api::AsyncSession`).
//!
//! ```sh
//! cargo run --release --example validate_server -- examples/deploy.lig 127.0.0.1:3000
//! curl -s -X POST --data '{"name": "api", "port": 80, "replicas": 2, "memoryMb": 512,
//!   "cpu": 0.5, "healthCheck": "https://api.example.com/health"}' \
//!   http://127.0.0.1:3000/validate/Service
//! curl -s -X POST -H 'content-type: application/yaml' --data-binary @service.yaml \
//!   http://127.0.0.1:3000/validate/Service
//! curl -s -X POST -H 'x-timeout-ms: 500' --data 'let x = 1 + 2; { x = x }' \
//!   http://127.0.0.1:3000/eval
//! ```
//!
//! - `POST /validate/{type}`: the body (JSON, or YAML when the content type says `yaml`) is
//!   checked against the type `{type}` of the schema file. 200 `{"ok": true, "errors": []}`,
//!   422 with every violation (`path`, `code`, `message`), 400 when the schema has no such
//!   type (its diagnostics as `--error-format json` gives them).
//! - `POST /eval`: the body is a Ligature program (which may import the schema file as
//!   `./schema`), evaluated with a timeout (`x-timeout-ms`, default 2,000 ms). 200 with the
//!   JSON document, 422 with the diagnostics (R3008 when the timeout ended it).
//!
//! Every request runs on the engine's pool: the server's threads only parse HTTP and wait
//! for futures. A client that disconnects drops its future, which cancels its run.
#![allow(clippy::print_stderr)]

use std::sync::Arc;
use std::time::Instant;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use ligature::api::{
    self, AsyncSession, Clock, DataInput, EvalRequest, Format, MemoryFs, Options, ValidateRequest,
};

/// The default timeout of an `/eval` request.
const DEFAULT_TIMEOUT_MS: f64 = 2000.0;

#[derive(Clone)]
struct App {
    /// The schema file as `schema.lig`, for validation.
    schemas: AsyncSession,
    /// For `/eval`: a session of its own (the engine's pool is shared, the caches are
    /// apart, so arbitrary programs do not evict the schema's entries).
    programs: AsyncSession,
    /// The schema's files, which each `/eval` program is laid beside.
    files: Arc<MemoryFs>,
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let schema_path = args.next().unwrap_or_else(|| "examples/deploy.lig".into());
    let addr = args.next().unwrap_or_else(|| "127.0.0.1:3000".into());
    let schema = std::fs::read(&schema_path)?;
    let files = Arc::new(MemoryFs::new().with_file("schema.lig", schema));
    // The library reads no clock: the host gives one, which timeouts are measured on.
    let start = Instant::now();
    let options = Options {
        clock: Some(Clock(Arc::new(move || {
            start.elapsed().as_secs_f64() * 1000.0
        }))),
        ..Options::default()
    };
    let app = App {
        schemas: AsyncSession::new(options.clone(), files.clone()),
        programs: AsyncSession::new(options, files.clone()),
        files,
    };
    let router = Router::new()
        .route("/validate/{type}", post(validate))
        .route("/eval", post(eval))
        .with_state(app);
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    eprintln!("validating against {schema_path} on http://{addr}");
    axum::serve(listener, router).await?;
    Ok(())
}

async fn validate(
    State(app): State<App>,
    Path(type_name): Path<String>,
    headers: HeaderMap,
    body: String,
) -> Response {
    let is_yaml = headers
        .get("content-type")
        .and_then(|it| it.to_str().ok())
        .is_some_and(|it| it.contains("yaml"));
    let data = if is_yaml {
        DataInput::Yaml(body)
    } else {
        DataInput::Json(body)
    };
    let output = app
        .schemas
        .validate(ValidateRequest {
            schema: "schema.lig".into(),
            type_name,
            data,
            cancellation: Default::default(),
        })
        .await;
    if !output.diagnostics.is_empty() {
        let dtos = api::diagnostics_to_dtos(&output.diagnostics, &output.sources);
        return (StatusCode::BAD_REQUEST, Json(dtos)).into_response();
    }
    let status = if output.ok {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    (status, Json(output)).into_response()
}

async fn eval(State(app): State<App>, headers: HeaderMap, program: String) -> Response {
    let timeout_ms = headers
        .get("x-timeout-ms")
        .and_then(|it| it.to_str().ok())
        .and_then(|it| it.parse::<f64>().ok())
        .filter(|it| it.is_finite() && *it >= 0.0)
        .unwrap_or(DEFAULT_TIMEOUT_MS);
    // The program beside the schema, in a file system of its own; the session (its pool
    // and caches) is shared by every `/eval`.
    let mut files = (*app.files).clone();
    files.insert("main.lig", program);
    let session = app.programs.with_file_system(Arc::new(files));
    let output = session
        .evaluate(EvalRequest {
            entry: "main.lig".into(),
            format: Format::Json,
            timeout_ms: Some(timeout_ms),
            ..EvalRequest::default()
        })
        .await;
    match output.text {
        Some(text) if output.ok() => {
            (StatusCode::OK, [("content-type", "application/json")], text).into_response()
        }
        _ => {
            let dtos = api::diagnostics_to_dtos(&output.diagnostics, &output.sources);
            (StatusCode::UNPROCESSABLE_ENTITY, Json(dtos)).into_response()
        }
    }
}
