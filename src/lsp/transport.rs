//! The stdio transport: `lsp-server`'s [`Connection`] over threads of our own.
//!
//! `lsp-server`'s own stdio threads stop reading at the first body that is not a JSON-RPC
//! message, which ends the server; an editor's server must survive any input (issue 22).
//! This reader frames messages the same way (`Content-Length` headers, then the body),
//! skips a body that does not parse (with a line on stderr), and stops at end of input
//! or after the `exit` notification. The writer writes what the connection's sender gets.

use std::io::{BufRead, Read, Write};
use std::thread::JoinHandle;

use lsp_server::{Connection, Message};

/// The largest body read; a bigger announced length is skipped as garbage.
const MAX_BODY: usize = 1 << 30;

pub struct IoThreads {
    reader: JoinHandle<()>,
    writer: JoinHandle<()>,
}

impl IoThreads {
    pub fn join(self) {
        let _ = self.reader.join();
        let _ = self.writer.join();
    }
}

pub fn stdio() -> (Connection, IoThreads) {
    let (writer_sender, writer_receiver) = crossbeam_channel::unbounded::<Message>();
    let writer = std::thread::spawn(move || {
        let stdout = std::io::stdout();
        let mut stdout = stdout.lock();
        for message in writer_receiver {
            if message.write(&mut stdout).is_err() {
                break;
            }
            let _ = stdout.flush();
        }
    });
    let (reader_sender, reader_receiver) = crossbeam_channel::unbounded::<Message>();
    let reader = std::thread::spawn(move || {
        let stdin = std::io::stdin();
        let mut stdin = stdin.lock();
        while let Some(body) = read_body(&mut stdin) {
            let Some(body) = body else {
                continue;
            };
            let message = match serde_json::from_slice::<Message>(&body) {
                Ok(message) => message,
                Err(err) => {
                    eprintln!("ligature lsp: skipped a body that is no JSON-RPC message: {err}");
                    continue;
                }
            };
            let exit = matches!(&message, Message::Notification(it) if it.method == "exit");
            if reader_sender.send(message).is_err() || exit {
                break;
            }
        }
    });
    (
        Connection {
            sender: writer_sender,
            receiver: reader_receiver,
        },
        IoThreads { reader, writer },
    )
}

/// The next body: `None` at end of input, `Some(None)` for a message without a usable
/// length (skipped).
fn read_body(input: &mut impl BufRead) -> Option<Option<Vec<u8>>> {
    let mut length: Option<usize> = None;
    let mut saw_header = false;
    loop {
        let mut line = Vec::new();
        if input.read_until(b'\n', &mut line).ok()? == 0 {
            return None;
        }
        let line = String::from_utf8_lossy(&line);
        let line = line.trim();
        if line.is_empty() {
            if saw_header {
                break;
            }
            continue;
        }
        saw_header = true;
        if let Some((name, value)) = line.split_once(':') {
            if name.trim().eq_ignore_ascii_case("content-length") {
                length = value.trim().parse().ok();
            }
        }
    }
    let Some(length) = length.filter(|it| *it <= MAX_BODY) else {
        eprintln!("ligature lsp: skipped a message without a valid Content-Length");
        return Some(None);
    };
    // Read as it arrives: an announced length is no reason to allocate it up front.
    let mut body = Vec::new();
    input
        .by_ref()
        .take(length as u64)
        .read_to_end(&mut body)
        .ok()?;
    (body.len() == length).then_some(Some(body))
}
