//! The requests: each takes a snapshot and its parameters, and answers from the parsed
//! files ([`super::resolve`]), the checker's binding types and, for local binders,
//! `Session::binder_types`.

use std::sync::Arc;

use lsp_types::{
    CompletionItem, CompletionItemKind, CompletionParams, CompletionResponse,
    DocumentFormattingParams, DocumentSymbol, DocumentSymbolParams, DocumentSymbolResponse,
    GotoDefinitionParams, GotoDefinitionResponse, Hover, HoverContents, HoverParams, Location,
    MarkupContent, MarkupKind, Position, Range, ReferenceParams, SymbolKind, TextEdit, Url,
};

use ligature::api::{Cancellation, EntryRequest};
use ligature::syntax::ast::{self, DeclKind};

use super::position::LineIndex;
use super::resolve::{self, Def, DefKind, ModuleIndex, Occurrence, Walk};
use super::workspace::{key_of, BinderTypes, Snapshot};

/// The keywords of LANGUAGE.md 2.4, offered by completion.
const KEYWORDS: &[&str] = &[
    "as",
    "else",
    "export",
    "false",
    "from",
    "if",
    "import",
    "in",
    "instance",
    "let",
    "match",
    "module",
    "rec",
    "superclass",
    "then",
    "true",
    "type",
    "typeclass",
    "when",
    "where",
    "with",
];

/// A document's key, parsed module and text, and the byte offset of a position in it.
struct At {
    key: String,
    index: Arc<ModuleIndex>,
    offset: u32,
}

fn at(snap: &Snapshot, uri: &Url, pos: Position) -> Option<At> {
    let key = key_of(uri)?;
    let index = snap.index(&key)?;
    let offset = index.lines.offset(&index.text, pos);
    Some(At { key, index, offset })
}

fn occurrence_at(snap: &Snapshot, at: &At) -> Option<Occurrence> {
    Walk::new(snap, &at.key, &at.index).at(at.offset)
}

fn location(snap: &Snapshot, file: &str, span: ligature::source::Span) -> Option<Location> {
    let uri = snap.uri_of(file)?;
    let index = snap.index(file)?;
    Some(Location {
        uri,
        range: index.lines.range(&index.text, span),
    })
}

pub fn hover(snap: &Snapshot, params: HoverParams) -> Option<Hover> {
    let pos = params.text_document_position_params;
    let at = at(snap, &pos.text_document.uri, pos.position)?;
    let occurrence = occurrence_at(snap, &at)?;
    let def = &occurrence.def;
    let text = match def.kind {
        DefKind::Builtin => {
            let ty = resolve::builtins().get(&def.name)?;
            format!("{} : {ty}", def.name)
        }
        DefKind::Value => match type_of(snap, &def.file, &def.name) {
            Some(ty) => format!("{} : {ty}", def.name),
            None => format!("{} (top-level binding)", def.name),
        },
        DefKind::Local => match binder_type(snap, def) {
            Some(ty) => format!("{} : {ty}", def.name),
            None => format!("{} (local binding)", def.name),
        },
        DefKind::Type => format!("type {}", def.name),
        DefKind::Class => format!("typeclass {}", def.name),
        DefKind::Ctor => format!("{} (constructor)", def.name),
        DefKind::Module => format!("module {}", def.file),
        DefKind::Field => format!("{} (record field)", def.name),
    };
    let index = &at.index.lines;
    Some(Hover {
        contents: HoverContents::Markup(MarkupContent {
            kind: MarkupKind::Markdown,
            value: format!("```ligature\n{text}\n```"),
        }),
        range: Some(index.range(&at.index.text, occurrence.span)),
    })
}

/// The checked type of the top-level binding `name` of `file`: from the last check of
/// the file, or a check now (cached by the session).
fn type_of(snap: &Snapshot, file: &str, name: &str) -> Option<String> {
    if let Some(types) = snap.shared.types.get(file) {
        if let Some(ty) = types.get(name) {
            return Some(ty.to_string());
        }
    }
    let output = snap.session().typecheck_with(&EntryRequest {
        entry: file.to_string(),
        cancellation: Cancellation::default(),
    });
    output
        .types
        .iter()
        .find(|it| it.name == name)
        .map(|it| it.ty.clone())
}

/// The checked type of the local binder `def` (by the span of its name): from this
/// snapshot's documents' answers for its file so far, or a check now of the declaration
/// that holds it (`Session::binder_types` with the span: the lets before it come from the
/// session's cache), whose binders are kept for the next hover.
fn binder_type(snap: &Snapshot, def: &Def) -> Option<String> {
    let key = (def.span.start, def.span.end);
    let cached = snap
        .shared
        .binders
        .get(&def.file)
        .map(|it| Arc::clone(&it))
        .filter(|it| Arc::ptr_eq(&it.docs, &snap.docs));
    // A type that is all error says nothing the fallback does not.
    let shown = |types: &BinderTypes| types.by_span.get(&key).filter(|ty| *ty != "?").cloned();
    if let Some(types) = &cached {
        if types.by_span.contains_key(&key) || types.asked.contains(&key) {
            return shown(types);
        }
    }
    let found = snap.session().binder_types(
        &EntryRequest {
            entry: def.file.clone(),
            cancellation: Cancellation::default(),
        },
        Some(def.span),
    );
    let (mut by_span, mut asked) = match &cached {
        Some(types) => (types.by_span.clone(), types.asked.clone()),
        None => Default::default(),
    };
    by_span.extend(
        found
            .into_iter()
            .map(|it| ((it.span.start, it.span.end), it.ty)),
    );
    asked.insert(key);
    let types = Arc::new(BinderTypes {
        docs: Arc::clone(&snap.docs),
        by_span,
        asked,
    });
    snap.shared
        .binders
        .insert(def.file.clone(), Arc::clone(&types));
    shown(&types)
}

pub fn definition(snap: &Snapshot, params: GotoDefinitionParams) -> Option<GotoDefinitionResponse> {
    let pos = params.text_document_position_params;
    let at = at(snap, &pos.text_document.uri, pos.position)?;
    let def = occurrence_at(snap, &at)?.def;
    if def.kind == DefKind::Builtin {
        return None;
    }
    location(snap, &def.file, def.span).map(GotoDefinitionResponse::Scalar)
}

/// The files references are looked for in: the open documents, the `.lig` files beside
/// them and beside the definition, and those of the workspace.
fn candidate_files(snap: &Snapshot, def: &Def) -> Vec<String> {
    let mut files = snap.neighbours(std::iter::once(def.file.as_str()));
    files.extend(snap.workspace_files());
    if !def.file.is_empty() {
        files.push(def.file.clone());
    }
    files.sort();
    files.dedup();
    files
}

pub fn references(snap: &Snapshot, params: ReferenceParams) -> Option<Vec<Location>> {
    let pos = params.text_document_position;
    let at = at(snap, &pos.text_document.uri, pos.position)?;
    let def = occurrence_at(snap, &at)?.def;
    let mut acc = Vec::new();
    for file in candidate_files(snap, &def) {
        let Some(index) = snap.index(&file) else {
            continue;
        };
        let line_index = &index.lines;
        let Some(uri) = snap.uri_of(&file) else {
            continue;
        };
        for occurrence in Walk::new(snap, &file, &index).all() {
            if occurrence.def != def {
                continue;
            }
            let is_declaration =
                occurrence.def.file == file && occurrence.def.span == occurrence.span;
            if is_declaration && !params.context.include_declaration {
                continue;
            }
            acc.push(Location {
                uri: uri.clone(),
                range: line_index.range(&index.text, occurrence.span),
            });
        }
    }
    acc.sort_by(|a, b| {
        (a.uri.as_str(), a.range.start.line, a.range.start.character).cmp(&(
            b.uri.as_str(),
            b.range.start.line,
            b.range.start.character,
        ))
    });
    acc.dedup();
    Some(acc)
}

#[allow(deprecated)] // `DocumentSymbol::deprecated` must be given.
pub fn document_symbols(
    snap: &Snapshot,
    params: DocumentSymbolParams,
) -> Option<DocumentSymbolResponse> {
    let key = key_of(&params.text_document.uri)?;
    let index = snap.index(&key)?;
    let text = &index.text;
    let line_index = &index.lines;
    let symbol = |name: &ast::Ident, kind, span, detail: Option<String>, children| DocumentSymbol {
        name: name.name.to_string(),
        detail,
        kind,
        tags: None,
        deprecated: None,
        range: line_index.range(text, span),
        selection_range: line_index.range(text, name.span),
        children,
    };
    let types = snap.shared.types.get(&key).map(|it| Arc::clone(&it));
    let mut acc = Vec::new();
    for decl in &index.module.decls {
        match &decl.kind {
            DeclKind::Let(it) => {
                let detail = types
                    .as_ref()
                    .and_then(|types| types.get(it.name.name.as_str()).map(str::to_string));
                let kind = if matches!(it.value.kind, ast::ExprKind::Lambda { .. }) {
                    SymbolKind::FUNCTION
                } else {
                    SymbolKind::VARIABLE
                };
                acc.push(symbol(&it.name, kind, decl.span, detail, None));
            }
            DeclKind::Type(it) => {
                let variants: Vec<&ast::Variant> = match &it.rhs {
                    ast::TypeRhs::Union(variants) => variants.iter().collect(),
                    ast::TypeRhs::Lone { variant, .. } => vec![variant],
                    ast::TypeRhs::Alias(_) => Vec::new(),
                };
                let children = variants
                    .iter()
                    .map(|it| symbol(&it.name, SymbolKind::ENUM_MEMBER, it.span, None, None))
                    .collect::<Vec<_>>();
                let kind = if children.is_empty() {
                    SymbolKind::STRUCT
                } else {
                    SymbolKind::ENUM
                };
                acc.push(symbol(
                    &it.name,
                    kind,
                    decl.span,
                    None,
                    (!children.is_empty()).then_some(children),
                ));
            }
            DeclKind::Class(it) => {
                let children = it
                    .methods
                    .iter()
                    .map(|it| symbol(&it.name, SymbolKind::METHOD, it.span, None, None))
                    .collect::<Vec<_>>();
                acc.push(symbol(
                    &it.name,
                    SymbolKind::INTERFACE,
                    decl.span,
                    None,
                    Some(children),
                ));
            }
            DeclKind::Instance(it) => {
                let name = ast::Ident {
                    name: ast::Name::new(&text[range_of(it.head_span, text)]),
                    span: it.head_span,
                };
                let children = it
                    .methods
                    .iter()
                    .map(|it| symbol(&it.name, SymbolKind::METHOD, it.span, None, None))
                    .collect::<Vec<_>>();
                acc.push(symbol(
                    &name,
                    SymbolKind::OBJECT,
                    decl.span,
                    None,
                    Some(children),
                ));
            }
            DeclKind::Export(_) => {}
        }
    }
    Some(DocumentSymbolResponse::Nested(acc))
}

/// A span as a byte range of `text`, clamped to it and to character boundaries.
fn range_of(span: ligature::source::Span, text: &str) -> std::ops::Range<usize> {
    let mut start = (span.start as usize).min(text.len());
    let mut end = (span.end as usize).clamp(start, text.len());
    while !text.is_char_boundary(start) {
        start -= 1;
    }
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    start..end.max(start)
}

pub fn completion(snap: &Snapshot, params: CompletionParams) -> Option<CompletionResponse> {
    let pos = params.text_document_position;
    let at = at(snap, &pos.text_document.uri, pos.position)?;
    let text = &at.index.text;
    let offset = at.offset as usize;
    // The identifier being typed, and what stands before it.
    let bytes = text.as_bytes();
    let mut start = offset.min(bytes.len());
    while start > 0 && (bytes[start - 1].is_ascii_alphanumeric() || bytes[start - 1] == b'_') {
        start -= 1;
    }
    let mut items = Vec::new();
    if start > 0 && bytes[start - 1] == b'.' {
        let mut object_start = start - 1;
        while object_start > 0
            && (bytes[object_start - 1].is_ascii_alphanumeric() || bytes[object_start - 1] == b'_')
        {
            object_start -= 1;
        }
        let object = &text[object_start..start - 1];
        members(snap, &at, object, &mut items);
        return Some(CompletionResponse::Array(items));
    }
    let mut seen = std::collections::HashSet::new();
    for (name, kind) in Walk::new(snap, &at.key, &at.index).scope_at(at.offset) {
        if !seen.insert(name.clone()) {
            continue;
        }
        let detail = match kind {
            DefKind::Value => type_of_cached(snap, &at.key, &name),
            _ => None,
        };
        items.push(CompletionItem {
            label: name.to_string(),
            kind: Some(item_kind(kind)),
            detail,
            ..CompletionItem::default()
        });
    }
    for (name, ty) in resolve::builtins() {
        if seen.insert(name.clone()) {
            items.push(CompletionItem {
                label: name.to_string(),
                kind: Some(CompletionItemKind::FUNCTION),
                detail: Some(ty.clone()),
                ..CompletionItem::default()
            });
        }
    }
    for keyword in KEYWORDS {
        items.push(CompletionItem {
            label: keyword.to_string(),
            kind: Some(CompletionItemKind::KEYWORD),
            ..CompletionItem::default()
        });
    }
    items.sort_by(|a, b| a.label.cmp(&b.label));
    Some(CompletionResponse::Array(items))
}

fn type_of_cached(snap: &Snapshot, file: &str, name: &str) -> Option<String> {
    snap.shared
        .types
        .get(file)
        .and_then(|it| it.get(name).map(str::to_string))
}

fn item_kind(kind: DefKind) -> CompletionItemKind {
    match kind {
        DefKind::Value | DefKind::Builtin => CompletionItemKind::FUNCTION,
        DefKind::Local => CompletionItemKind::VARIABLE,
        DefKind::Type => CompletionItemKind::STRUCT,
        DefKind::Class => CompletionItemKind::INTERFACE,
        DefKind::Ctor => CompletionItemKind::ENUM_MEMBER,
        DefKind::Module => CompletionItemKind::MODULE,
        DefKind::Field => CompletionItemKind::FIELD,
    }
}

/// Completion after `object.`: the members of an imported module (`object` an alias), or
/// the fields of a record whose type the checker knows (`object` a top-level binding).
fn members(snap: &Snapshot, at: &At, object: &str, items: &mut Vec<CompletionItem>) {
    let alias = at
        .index
        .module
        .imports
        .iter()
        .find(|it| matches!(&it.kind, ast::ImportKind::Alias(alias) if alias.name == object));
    if let Some(import) = alias {
        let Some(key) = snap.resolve_import(&at.key, &import.path) else {
            return;
        };
        let Some(target) = snap.index(&key) else {
            return;
        };
        for (name, (_, kind)) in &target.tops.values {
            items.push(CompletionItem {
                label: name.to_string(),
                kind: Some(item_kind(*kind)),
                detail: type_of_cached(snap, &key, name),
                ..CompletionItem::default()
            });
        }
        for name in target.tops.ctors.keys() {
            items.push(CompletionItem {
                label: name.to_string(),
                kind: Some(CompletionItemKind::ENUM_MEMBER),
                ..CompletionItem::default()
            });
        }
        for (name, (_, kind)) in &target.tops.types {
            items.push(CompletionItem {
                label: name.to_string(),
                kind: Some(item_kind(*kind)),
                ..CompletionItem::default()
            });
        }
    } else if let Some(ty) = type_of_cached(snap, &at.key, object) {
        for (name, ty) in record_fields(&ty) {
            items.push(CompletionItem {
                label: name,
                kind: Some(CompletionItemKind::FIELD),
                detail: Some(ty),
                ..CompletionItem::default()
            });
        }
    }
    items.sort_by(|a, b| a.label.cmp(&b.label));
}

/// The fields of a printed record type `{ a : T, b : { c : U } }` (top level only).
fn record_fields(ty: &str) -> Vec<(String, String)> {
    let ty = ty.trim();
    let Some(inner) = ty.strip_prefix('{').and_then(|it| it.strip_suffix('}')) else {
        return Vec::new();
    };
    let mut fields = Vec::new();
    let mut depth = 0i32;
    let mut piece_start = 0;
    let mut pieces = Vec::new();
    for (idx, ch) in inner.char_indices() {
        match ch {
            '{' | '(' | '[' => depth += 1,
            '}' | ')' | ']' => depth -= 1,
            ',' | '|' if depth == 0 => {
                pieces.push(&inner[piece_start..idx]);
                piece_start = idx + 1;
            }
            _ => {}
        }
    }
    pieces.push(&inner[piece_start..]);
    for piece in pieces {
        if let Some((name, ty)) = piece.split_once(':') {
            let name = name.trim();
            if !name.is_empty()
                && name
                    .bytes()
                    .all(|it| it.is_ascii_alphanumeric() || it == b'_')
            {
                fields.push((name.to_string(), ty.trim().to_string()));
            }
        }
    }
    fields
}

pub fn formatting(snap: &Snapshot, params: DocumentFormattingParams) -> Option<Vec<TextEdit>> {
    let key = key_of(&params.text_document.uri)?;
    let text = snap.text(&key)?;
    let formatted = ligature::api::format(&text, ligature::syntax::format::DEFAULT_WIDTH).ok()?;
    if formatted == *text {
        return Some(Vec::new());
    }
    let index = LineIndex::new(&text);
    let end = index.position(&text, text.len() as u32);
    Some(vec![TextEdit {
        range: Range {
            start: Position::default(),
            end,
        },
        new_text: formatted,
    }])
}

#[cfg(test)]
mod tests {
    #[test]
    fn record_fields_of_printed_types() {
        assert_eq!(
            super::record_fields("{ host : String, port : Integer, tags : { a : List Integer } }"),
            vec![
                ("host".to_string(), "String".to_string()),
                ("port".to_string(), "Integer".to_string()),
                ("tags".to_string(), "{ a : List Integer }".to_string()),
            ]
        );
        assert!(super::record_fields("Integer -> Integer").is_empty());
    }
}
