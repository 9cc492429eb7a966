//! What stops a run from outside (LANGUAGE.md 12.3): the host's cancel flag and a deadline
//! on the host's clock, polled by every phase.
//!
//! The library reads no clock of its own: the clock is the host's closure (a monotonic clock
//! natively, `performance.now` in JS), so a single-threaded host with no timer beside the run
//! still gets a timeout. Every phase polls through a [`Poll`], one per loop and thread: the
//! flag every [`FLAG_EVERY`] polls (one atomic load; a poll in between only counts down) and
//! the clock every [`CLOCK_EVERY`] polls, where a
//! poll is a unit of work of a few hundred nanoseconds at most (a token lexed or consumed, a
//! node inferred or lowered, a declaration, a module, a data value read; evaluation polls
//! every 4,096 steps and rendering every list element and record field on their own
//! counters). A run is therefore stopped within a few thousand units of work of the
//! deadline on every thread that reads the clock, and within [`FLAG_EVERY`] units of a set
//! flag.
//! A stopped phase reports R3008 ([`cancelled`]) and nothing else: what it had not finished
//! is dropped, never reported as a parse or type error.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use crate::diagnostic::{Code, Diagnostic};
use crate::source::{FileId, Span};

/// Polls between two reads of the host's clock. A poll is a small unit of work (a token, a
/// node), so 1,024 of them take well under a millisecond natively; a clock read costs tens
/// of nanoseconds natively and about a microsecond in wasm.
pub const CLOCK_EVERY: u32 = 1024;

/// Polls between two reads of the flag. A poll that reads nothing is a decrement and a
/// branch, inlined into the loop: the lexer and the parser poll at every token, and reading
/// the flag out of line at each was an eighth of their instructions.
pub const FLAG_EVERY: u32 = 64;

/// What stops a run from outside: the host's cancel flag and/or a deadline on the host's
/// clock. Every thread of one run (per declaration, per split list chunk, per parsed piece)
/// polls a clone or a borrow. The first poll that finds the deadline passed trips a flag
/// shared by the clones, so every other poll, on any thread, stops at its next atomic
/// load instead of its next read of the clock.
#[derive(Clone, Default)]
pub struct Interrupt {
    pub flag: Option<Arc<AtomicBool>>,
    pub deadline: Option<Deadline>,
    tripped: Arc<AtomicBool>,
}

/// A point in time on the host's clock (milliseconds) after which the run stops.
#[derive(Clone)]
pub struct Deadline {
    pub clock: Arc<dyn Fn() -> f64 + Send + Sync>,
    pub at_ms: f64,
}

impl std::fmt::Debug for Interrupt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Interrupt")
            .field("flag", &self.flag)
            .field("deadline_ms", &self.deadline.as_ref().map(|it| it.at_ms))
            .finish()
    }
}

impl Interrupt {
    /// The host's cancel flag and/or deadline.
    pub fn new(flag: Option<Arc<AtomicBool>>, deadline: Option<Deadline>) -> Interrupt {
        Interrupt {
            flag,
            deadline,
            tripped: Arc::default(),
        }
    }

    /// Only the host's cancel flag.
    pub fn flag(flag: Arc<AtomicBool>) -> Interrupt {
        Interrupt::new(Some(flag), None)
    }

    /// Whether nothing can stop the run (no flag, no deadline): polls cost nothing then.
    pub fn is_none(&self) -> bool {
        self.flag.is_none() && self.deadline.is_none()
    }

    /// Whether the host's flag is set, or a poll found the deadline passed (atomic loads;
    /// no clock).
    pub fn flag_set(&self) -> bool {
        self.flag
            .as_ref()
            .is_some_and(|it| it.load(Ordering::Relaxed))
            || (self.deadline.is_some() && self.tripped.load(Ordering::Relaxed))
    }

    /// Whether the flag is set or the deadline has passed (reads the clock).
    pub fn fired(&self) -> bool {
        if self.flag_set() {
            return true;
        }
        let passed = self
            .deadline
            .as_ref()
            .is_some_and(|it| (it.clock)() >= it.at_ms);
        if passed {
            self.tripped.store(true, Ordering::Relaxed);
        }
        passed
    }
}

/// One loop's poll of an [`Interrupt`]: [`Poll::stop`] once per unit of work. The first
/// poll reads the flag and the clock (a phase that begins after the deadline stops at once);
/// then the flag is read every [`FLAG_EVERY`] polls and the clock every [`CLOCK_EVERY`].
/// Once stopped, it stays stopped.
#[derive(Debug)]
pub struct Poll<'a> {
    interrupt: Option<&'a Interrupt>,
    /// Polls until the next read of the flag: the poll that finds it at 1 reads it.
    until_flag: u32,
    /// Reads of the flag until the next read of the clock.
    until_clock: u32,
    stopped: bool,
}

impl<'a> Poll<'a> {
    pub fn new(interrupt: &'a Interrupt) -> Poll<'a> {
        let interrupt = (!interrupt.is_none()).then_some(interrupt);
        Poll {
            interrupt,
            until_flag: if interrupt.is_some() { 1 } else { u32::MAX },
            until_clock: 1,
            stopped: false,
        }
    }

    /// A poll whose first read of the clock comes after [`CLOCK_EVERY`] polls, for loops
    /// that start often (each let's inference): a small one reads only the flag, and the
    /// loop around it reads the clock.
    pub fn deferred(interrupt: &'a Interrupt) -> Poll<'a> {
        Poll {
            // The first poll reads the flag; the clock comes at the read after CLOCK_EVERY.
            until_clock: CLOCK_EVERY / FLAG_EVERY + 1,
            ..Poll::new(interrupt)
        }
    }

    /// A poll that never stops (for callers without an interrupt).
    pub fn never() -> Poll<'static> {
        Poll {
            interrupt: None,
            until_flag: u32::MAX,
            until_clock: 1,
            stopped: false,
        }
    }

    /// Whether the run must stop here.
    #[inline]
    pub fn stop(&mut self) -> bool {
        if self.until_flag > 1 {
            self.until_flag -= 1;
            return false;
        }
        self.poll()
    }

    /// Whether a poll has stopped the run (without polling again).
    pub fn stopped(&self) -> bool {
        self.stopped
    }

    // Out of line: `stop` is inlined into recursive functions (inference, lowering, the
    // parser), whose frames on a wasm host's small stack set how deep source may nest.
    #[inline(never)]
    fn poll(&mut self) -> bool {
        let Some(interrupt) = self.interrupt else {
            self.until_flag = u32::MAX;
            return false;
        };
        if self.stopped || interrupt.flag_set() {
            // Stays at 1: every later poll comes here and answers at once.
            self.stopped = true;
            return true;
        }
        self.until_flag = FLAG_EVERY;
        self.until_clock -= 1;
        if self.until_clock == 0 {
            self.until_clock = CLOCK_EVERY / FLAG_EVERY;
            self.stopped = interrupt.fired();
            if self.stopped {
                self.until_flag = 1;
            }
        }
        self.stopped
    }
}

/// The R3008 of a phase that `Interrupt` stopped (evaluation reports its own, at the
/// expression it was evaluating).
pub fn cancelled(phase: &str, file: FileId, span: Span) -> Diagnostic {
    Diagnostic::new(
        Code::R3008,
        format!("the run timed out or was cancelled while {phase}"),
        file,
        span,
    )
}

/// Whether `diagnostics` hold an R3008: the phase that made them was stopped, and nothing
/// else they say counts.
pub fn is_cancelled(diagnostics: &[Diagnostic]) -> bool {
    diagnostics.iter().any(|it| it.code == Code::R3008)
}
