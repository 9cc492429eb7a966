//! `ligature lsp`: a language server over stdio (issue 22).
//!
//! The transport is rust-analyzer's `lsp-server` (a reader and a writer thread, messages
//! as values), the protocol's types are `lsp-types`. The main loop below is the only
//! owner of the [`Workspace`] (the open documents) and never waits on work: every request
//! and every check runs on a small pool of worker threads, on a [`Snapshot`] of the
//! documents, and answers through the connection's sender. A handler that panics answers
//! an internal error; the server carries on.
//!
//! Checking (`diagnostics`) is generational: an edit stops the previous generation's
//! checks through the Session's cancellation (LANGUAGE.md 12.3) and only the newest
//! generation publishes. Requests read the parsed files (`resolve`), cached per text, and
//! the binding types of the last check of each file (`handlers`).
//!
//! The files: `workspace` (documents, the overlay file system, snapshots), `position`
//! (UTF-16 positions and byte offsets), `resolve` (name resolution), `handlers` (the
//! requests), `semantic` (semantic tokens), `diagnostics` (checking and publishing).

mod diagnostics;
mod handlers;
mod position;
mod resolve;
mod semantic;
mod transport;
mod workspace;

use std::collections::HashMap;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use crossbeam_channel::Sender;
use lsp_server::{Connection, ErrorCode, Message, Notification, Request, Response};
use lsp_types::notification::{
    DidChangeTextDocument, DidCloseTextDocument, DidOpenTextDocument, DidSaveTextDocument,
    Notification as _,
};
use lsp_types::request::{
    Completion, DocumentSymbolRequest, Formatting, GotoDefinition, HoverRequest, References,
    Request as _, SemanticTokensFullRequest,
};
use lsp_types::{
    CompletionOptions, HoverProviderCapability, InitializeParams, OneOf, SemanticTokensFullOptions,
    SemanticTokensOptions, SemanticTokensResult, SemanticTokensServerCapabilities,
    ServerCapabilities, TextDocumentSyncCapability, TextDocumentSyncKind,
};

use ligature::api::{Options, Session};

use diagnostics::Checker;
use workspace::{Shared, Snapshot, Workspace};

/// Threads answering requests and checking; the Session has its own pool for the
/// parallel phases of a check.
const WORKERS: usize = 4;

/// Stack of a worker thread (virtual memory; the library runs its own phases on a stack
/// segment of its own).
const WORKER_STACK: usize = 256 << 20;

/// Runs the server on stdin and stdout until the client's `exit`; the exit code.
pub fn run() -> i32 {
    let (connection, io_threads) = transport::stdio();
    let code = match serve(&connection) {
        Ok(()) => 0,
        Err(err) => {
            eprintln!("ligature lsp: {err}");
            1
        }
    };
    drop(connection);
    io_threads.join();
    code
}

fn serve(connection: &Connection) -> Result<(), String> {
    let capabilities = ServerCapabilities {
        text_document_sync: Some(TextDocumentSyncCapability::Kind(
            TextDocumentSyncKind::INCREMENTAL,
        )),
        hover_provider: Some(HoverProviderCapability::Simple(true)),
        definition_provider: Some(OneOf::Left(true)),
        references_provider: Some(OneOf::Left(true)),
        document_symbol_provider: Some(OneOf::Left(true)),
        document_formatting_provider: Some(OneOf::Left(true)),
        completion_provider: Some(CompletionOptions {
            trigger_characters: Some(vec![".".to_string()]),
            ..CompletionOptions::default()
        }),
        semantic_tokens_provider: Some(SemanticTokensServerCapabilities::SemanticTokensOptions(
            SemanticTokensOptions {
                legend: semantic::legend(),
                full: Some(SemanticTokensFullOptions::Bool(true)),
                range: None,
                ..SemanticTokensOptions::default()
            },
        )),
        ..ServerCapabilities::default()
    };
    let capabilities = serde_json::to_value(capabilities).map_err(|err| err.to_string())?;
    let params = connection
        .initialize(capabilities)
        .map_err(|err| err.to_string())?;
    let params: InitializeParams = serde_json::from_value(params).unwrap_or_default();
    #[allow(deprecated)] // `root_uri`: the clients that send no workspace folders.
    let root = params
        .workspace_folders
        .as_ref()
        .and_then(|it| it.first())
        .map(|it| &it.uri)
        .or(params.root_uri.as_ref())
        .and_then(workspace::key_of);
    let options = Options {
        project_root: root,
        ..Options::default()
    };
    let register_roots = options.register_roots.clone();
    let shared = Arc::new(Shared {
        project_root: options.project_root.clone(),
        session: Session::new(options, Arc::new(ligature::loader::MemoryFs::new())),
        register_roots,
        indexes: dashmap::DashMap::new(),
        types: dashmap::DashMap::new(),
        binders: dashmap::DashMap::new(),
        chunks: ligature::engine::Caches::new(ligature::api::DEFAULT_CACHE_CAPACITY),
        parsing: std::sync::Mutex::new(()),
        imports: dashmap::DashMap::new(),
    });
    let mut workspace = Workspace {
        docs: Arc::new(HashMap::new()),
        shared,
    };
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(WORKERS)
        .thread_name(|idx| format!("lsp-worker-{idx}"))
        // The name resolution walk recurses as deep as the parser's nesting limit allows.
        .stack_size(WORKER_STACK)
        .build()
        .map_err(|err| err.to_string())?;
    let checker = Arc::new(Checker::new(connection.sender.clone()));
    for message in &connection.receiver {
        match message {
            Message::Request(request) => {
                if connection
                    .handle_shutdown(&request)
                    .map_err(|err| err.to_string())?
                {
                    return Ok(());
                }
                let snap = workspace.snapshot();
                let sender = connection.sender.clone();
                pool.spawn(move || answer(&snap, request, &sender));
            }
            Message::Notification(notification) => {
                if notify(&mut workspace, notification) {
                    let (generation, flag) = checker.start();
                    let snap = workspace.snapshot();
                    let checker = Arc::clone(&checker);
                    pool.spawn(move || {
                        let run = std::panic::catch_unwind(AssertUnwindSafe(|| {
                            checker.check(&snap, generation, &flag)
                        }));
                        if run.is_err() {
                            eprintln!("ligature lsp: checking panicked");
                        }
                    });
                }
            }
            Message::Response(_) => {}
        }
    }
    Ok(())
}

/// Applies a notification to the workspace; whether the documents changed.
fn notify(workspace: &mut Workspace, notification: Notification) -> bool {
    fn params<T: serde::de::DeserializeOwned>(notification: Notification) -> Option<T> {
        serde_json::from_value(notification.params).ok()
    }
    match notification.method.as_str() {
        DidOpenTextDocument::METHOD => {
            let Some(params) = params::<lsp_types::DidOpenTextDocumentParams>(notification) else {
                return false;
            };
            let doc = params.text_document;
            workspace.open(doc.uri, doc.version, doc.text);
            true
        }
        DidChangeTextDocument::METHOD => {
            let Some(params) = params::<lsp_types::DidChangeTextDocumentParams>(notification)
            else {
                return false;
            };
            let doc = params.text_document;
            workspace.change(&doc.uri, doc.version, params.content_changes);
            true
        }
        DidCloseTextDocument::METHOD => {
            let Some(params) = params::<lsp_types::DidCloseTextDocumentParams>(notification) else {
                return false;
            };
            workspace.close(&params.text_document.uri);
            true
        }
        // A saved file may be imported by others that read it from disk.
        DidSaveTextDocument::METHOD => true,
        _ => false,
    }
}

/// Answers one request on a worker thread.
fn answer(snap: &Snapshot, request: Request, sender: &Sender<Message>) {
    let id = request.id.clone();
    let run = std::panic::catch_unwind(AssertUnwindSafe(|| dispatch(snap, request)));
    let response = match run {
        Ok(response) => response,
        Err(_) => Response::new_err(
            id,
            ErrorCode::InternalError as i32,
            "the request failed inside the server".to_string(),
        ),
    };
    let _ = sender.send(Message::Response(response));
}

fn dispatch(snap: &Snapshot, request: Request) -> Response {
    fn run<P: serde::de::DeserializeOwned, R: serde::Serialize>(
        request: Request,
        handler: impl FnOnce(P) -> R,
    ) -> Response {
        match serde_json::from_value::<P>(request.params) {
            Ok(params) => Response::new_ok(request.id, handler(params)),
            Err(err) => Response::new_err(
                request.id,
                ErrorCode::InvalidParams as i32,
                format!("invalid parameters: {err}"),
            ),
        }
    }
    match request.method.as_str() {
        HoverRequest::METHOD => run(request, |params| handlers::hover(snap, params)),
        GotoDefinition::METHOD => run(request, |params| handlers::definition(snap, params)),
        References::METHOD => run(request, |params| handlers::references(snap, params)),
        DocumentSymbolRequest::METHOD => {
            run(request, |params| handlers::document_symbols(snap, params))
        }
        Completion::METHOD => run(request, |params| handlers::completion(snap, params)),
        Formatting::METHOD => run(request, |params| handlers::formatting(snap, params)),
        SemanticTokensFullRequest::METHOD => run(
            request,
            |params: lsp_types::SemanticTokensParams| -> Option<SemanticTokensResult> {
                let key = workspace::key_of(&params.text_document.uri)?;
                let index = snap.index(&key)?;
                Some(SemanticTokensResult::Tokens(semantic::tokens(
                    snap, &key, &index,
                )))
            },
        ),
        _ => Response::new_err(
            request.id,
            ErrorCode::MethodNotFound as i32,
            format!("unknown method {}", request.method),
        ),
    }
}
