//! Checking the workspace and publishing its diagnostics, newest edit first.
//!
//! Every change to the open documents starts a new *generation*: the cancel flag of the
//! previous one is set (its checks stop at their next poll with R3008, LANGUAGE.md 12.3)
//! and a job checks every open document, as an entry, on a snapshot of the documents. The
//! Session's caches make that cheap for what did not change, and checking every open file
//! re-checks the files beside them that import an edited one. Once those diagnostics are
//! out, a second round checks the rest of the workspace's importers of the open documents,
//! in any directory and through other importers, and publishes theirs. The job publishes
//! only if its generation is still the newest, under the lock that a newer job takes to
//! publish: a stale result is never sent, even when it finishes after the fresh one.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use crossbeam_channel::Sender;
use lsp_server::{Message, Notification};
use lsp_types::notification::{Notification as _, PublishDiagnostics};
use lsp_types::{
    DiagnosticRelatedInformation, DiagnosticSeverity, Location, NumberOrString,
    PublishDiagnosticsParams,
};

use ligature::api::{Cancellation, EntryRequest};
use ligature::diagnostic::{Diagnostic, Severity};
use ligature::source::SourceMap;

use super::position::LineIndex;
use super::workspace::{BindingTypes, Snapshot};

pub struct Checker {
    generation: AtomicU64,
    cancel: Mutex<Arc<AtomicBool>>,
    /// The files that have diagnostics on the client, by the round that published them;
    /// guarded with publishing itself.
    published: Mutex<Published>,
    sender: Sender<Message>,
}

/// Which files have diagnostics on the client, by round. A file belongs to the first round
/// when a check of that round reported on it (or it is one of its entries), else to the
/// second; each round clears only its own files, so a closed importer's diagnostics do not
/// flicker away between the two rounds of an edit.
#[derive(Default)]
struct Published {
    near: BTreeSet<String>,
    wide: BTreeSet<String>,
}

/// The two rounds of a generation's check.
#[derive(Clone, Copy)]
enum Round<'a> {
    /// The open documents and the files beside them that import one: the round the
    /// latency from an edit to its diagnostics is measured on.
    Near,
    /// The workspace's other importers of those, transitively, after the first round's
    /// diagnostics are out; it leaves the files the first round published for (given) alone.
    Wide(&'a BTreeSet<String>),
}

impl Checker {
    pub fn new(sender: Sender<Message>) -> Checker {
        Checker {
            generation: AtomicU64::new(0),
            cancel: Mutex::new(Arc::new(AtomicBool::new(false))),
            published: Mutex::new(Published::default()),
            sender,
        }
    }

    /// Starts a generation: stops the previous one's work and gives the new one's number
    /// and cancel flag.
    pub fn start(&self) -> (u64, Arc<AtomicBool>) {
        let flag = Arc::new(AtomicBool::new(false));
        let mut cancel = self.cancel.lock().unwrap_or_else(|it| it.into_inner());
        cancel.store(true, Ordering::SeqCst);
        *cancel = Arc::clone(&flag);
        let generation = self.generation.fetch_add(1, Ordering::SeqCst) + 1;
        (generation, flag)
    }

    fn is_current(&self, generation: u64) -> bool {
        self.generation.load(Ordering::SeqCst) == generation
    }

    /// Checks every open document of `snap` (and its closed importers beside it) and
    /// publishes; then the workspace's other importers of them, and publishes theirs.
    /// Nothing is published once a newer generation started.
    pub fn check(&self, snap: &Snapshot, generation: u64, flag: &Arc<AtomicBool>) {
        let started = std::time::Instant::now();
        let entries = snap.check_entries();
        let Some(near) = self.check_round(snap, &entries, Round::Near, generation, flag) else {
            return;
        };
        trace(|| format!("generation {generation} published in {:.2} ms", ms(started)));
        // Parse the open documents and index their types for the requests that follow an
        // edit (hover, completion), after publishing: off the path from the edit to its
        // diagnostics.
        for entry in &entries {
            if flag.load(Ordering::SeqCst) {
                return;
            }
            if !snap.docs.contains_key(entry) {
                continue;
            }
            snap.index(entry);
            if let Some(types) = snap.shared.types.get(entry.as_str()) {
                types.get("");
            }
        }
        let wide = snap.workspace_importers(&entries, flag);
        let had_wide = !self
            .published
            .lock()
            .unwrap_or_else(|it| it.into_inner())
            .wide
            .is_empty();
        if (wide.is_empty() && !had_wide) || flag.load(Ordering::SeqCst) {
            return;
        }
        let wide: Vec<String> = wide.into_iter().filter(|it| !near.contains(it)).collect();
        if self
            .check_round(snap, &wide, Round::Wide(&near), generation, flag)
            .is_some()
        {
            trace(|| {
                format!(
                    "generation {generation} published {} more importers in {:.2} ms",
                    wide.len(),
                    ms(started)
                )
            });
        }
    }

    /// Checks `entries` and publishes the diagnostics of the round's files; answers the
    /// files this round published for, or `None` when it was superseded.
    fn check_round(
        &self,
        snap: &Snapshot,
        entries: &[String],
        round: Round<'_>,
        generation: u64,
        flag: &Arc<AtomicBool>,
    ) -> Option<BTreeSet<String>> {
        let started = std::time::Instant::now();
        let session = snap.session();
        // File key -> its diagnostics, for every file a check reported on.
        let mut by_file: BTreeMap<String, Vec<lsp_types::Diagnostic>> = BTreeMap::new();
        for entry in entries {
            by_file.entry(entry.clone()).or_default();
        }
        let outputs: Vec<_> = {
            use rayon::prelude::*;
            entries
                .par_iter()
                .map(|entry| {
                    let request = EntryRequest {
                        entry: entry.clone(),
                        cancellation: Cancellation {
                            cancel: Some(Arc::clone(flag)),
                            ..Cancellation::default()
                        },
                    };
                    (entry.clone(), session.typecheck_with(&request))
                })
                .collect()
        };
        let stopped = outputs
            .iter()
            .any(|(_, it)| ligature::interrupt::is_cancelled(&it.diagnostics));
        if stopped || flag.load(Ordering::SeqCst) || !self.is_current(generation) {
            trace(|| {
                let how = if stopped { "stopped" } else { "finished" };
                format!(
                    "generation {generation} superseded ({how} after {:.2} ms)",
                    ms(started)
                )
            });
            return None;
        }
        let mut seen = HashSet::new();
        for (entry, mut output) in outputs {
            if output.ok() || !output.types.is_empty() {
                let types = BindingTypes::new(std::mem::take(&mut output.types));
                snap.shared.types.insert(entry.clone(), Arc::new(types));
            }
            let mut indexes = HashMap::new();
            for diagnostic in &output.diagnostics {
                let Some((file, converted)) =
                    to_lsp(snap, diagnostic, &output.sources, &mut indexes)
                else {
                    continue;
                };
                let key = (
                    file.clone(),
                    converted.range.start,
                    converted.message.clone(),
                );
                if seen.insert(format!("{key:?}")) {
                    by_file.entry(file).or_default().push(converted);
                }
            }
        }
        let mut published = self.published.lock().unwrap_or_else(|it| it.into_inner());
        if !self.is_current(generation) {
            trace(|| format!("generation {generation} superseded (finished, not published)"));
            return None;
        }
        // Files that had diagnostics from this round and have none now are cleared.
        match round {
            Round::Near => {
                for file in &published.near {
                    by_file.entry(file.clone()).or_default();
                }
                published.near.clear();
                // What the first round reports on is its own from now on.
                published.wide.retain(|it| !by_file.contains_key(it));
            }
            Round::Wide(near) => {
                by_file.retain(|file, _| !near.contains(file));
                for file in &published.wide {
                    if !near.contains(file) {
                        by_file.entry(file.clone()).or_default();
                    }
                }
                published.wide.clear();
            }
        }
        let owned: BTreeSet<String> = by_file.keys().cloned().collect();
        for (file, diagnostics) in by_file {
            let Some(uri) = snap.uri_of(&file) else {
                continue;
            };
            if !diagnostics.is_empty() {
                match round {
                    Round::Near => published.near.insert(file.clone()),
                    Round::Wide(_) => published.wide.insert(file.clone()),
                };
            }
            let params = PublishDiagnosticsParams {
                uri,
                diagnostics,
                version: snap.docs.get(&file).map(|it| it.version),
            };
            let _ = self.sender.send(Message::Notification(Notification::new(
                PublishDiagnostics::METHOD.to_string(),
                params,
            )));
        }
        Some(owned)
    }
}

/// A line on stderr when `LIGATURE_LSP_TRACE` is set (the benchmark and the tests read
/// what became of each generation).
fn trace(line: impl FnOnce() -> String) {
    if std::env::var_os("LIGATURE_LSP_TRACE").is_some() {
        eprintln!("ligature lsp: {}", line());
    }
}

fn ms(since: std::time::Instant) -> f64 {
    since.elapsed().as_secs_f64() * 1000.0
}

/// One library diagnostic in the protocol's terms, with the key of its file; the labels
/// other than the primary one become related information.
fn to_lsp(
    snap: &Snapshot,
    diagnostic: &Diagnostic,
    sources: &SourceMap,
    indexes: &mut HashMap<u32, LineIndex>,
) -> Option<(String, lsp_types::Diagnostic)> {
    let primary = diagnostic.primary()?;
    let mut range_of = |span: ligature::source::FileSpan| {
        let file = sources.get(span.file)?;
        let index = indexes
            .entry(span.file.0)
            .or_insert_with(|| LineIndex::new(&file.text));
        Some((file.name.clone(), index.range(&file.text, span.span)))
    };
    let (file, range) = range_of(primary)?;
    let mut related = Vec::new();
    for label in &diagnostic.labels {
        if label.primary && label.span == primary {
            continue;
        }
        let Some((label_file, label_range)) = range_of(label.span) else {
            continue;
        };
        let Some(uri) = snap.uri_of(&label_file) else {
            continue;
        };
        related.push(DiagnosticRelatedInformation {
            location: Location {
                uri,
                range: label_range,
            },
            message: label.message.clone(),
        });
    }
    let primary_message = diagnostic
        .labels
        .iter()
        .find(|it| it.primary && it.span == primary)
        .map(|it| it.message.as_str())
        .filter(|it| !it.is_empty());
    let mut message = diagnostic.message.clone();
    if let Some(label) = primary_message {
        message = format!("{message}: {label}");
    }
    for note in &diagnostic.notes {
        message = format!("{message}\nnote: {note}");
    }
    if let Some(help) = &diagnostic.help {
        message = format!("{message}\nhelp: {help}");
    }
    let severity = match diagnostic.severity {
        Severity::Error | Severity::Bug => DiagnosticSeverity::ERROR,
        Severity::Warning => DiagnosticSeverity::WARNING,
        Severity::Note => DiagnosticSeverity::INFORMATION,
    };
    Some((
        file,
        lsp_types::Diagnostic {
            range,
            severity: Some(severity),
            code: Some(NumberOrString::String(diagnostic.code.as_str().to_string())),
            source: Some("ligature".to_string()),
            message,
            related_information: (!related.is_empty()).then_some(related),
            ..lsp_types::Diagnostic::default()
        },
    ))
}
