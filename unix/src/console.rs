//! The console: the [`Console`] trait the syscall layer reads and writes through, and
//! the canonical-mode line discipline ([`LineDiscipline`]) that turns bytes from the
//! serial port into lines, with echo and editing. [`Tty`] puts the two together over
//! any [`ConsoleOutput`] (the kernel's serial port).
//!
//! Reading never waits inside the kernel: [`Console::input`] says whether a line (or
//! an end-of-file mark) is ready; if not, `read` returns
//! [`crate::syscall::SyscallResult::Block`] having changed nothing, the kernel puts the
//! process to sleep "about to make this call", and runs the call again when input
//! arrives ([`LineDiscipline::receive`] returns `true`). Bytes are consumed only
//! after they reached user memory ([`Console::consume`]), so a fault loses nothing.
//!
//! Editing: printable bytes (and UTF-8) are echoed and collected; backspace and DEL
//! erase one character (echo `"\b \b"`); Ctrl-U erases the line; Ctrl-C discards it
//! (echo `"^C\n"`); CR or LF ends it (a line ends with `'\n'`; CR LF counts once);
//! Ctrl-D on an empty line is end-of-file (a read returns 0), elsewhere it hands the
//! line over without a newline. A read returns at most one line. Output is passed
//! through unchanged: the kernel's serial writer turns `'\n'` into CR LF.

use crate::abi::{Termios, Winsize};
use alloc::collections::VecDeque;
use alloc::vec::Vec;

/// Longest line being edited, newline included (further bytes are refused with BEL).
pub const LINE_MAX: usize = 1024;
/// Most bytes of completed lines waiting for a reader (further lines are refused).
pub const INPUT_MAX: usize = 4096;
/// Most completed inputs (lines and end-of-file marks) queued for readers: a
/// typist holding Ctrl-D queues no more than this.
pub const READY_MAX: usize = 256;

/// What the console has for a reader.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConsoleInput<'a> {
    /// Nothing yet: the reader must wait.
    Empty,
    /// (The rest of) the next line; a read returns a prefix of it.
    Line(&'a [u8]),
    /// End of file: a read returns 0 (and consumes the mark).
    Eof,
}

/// The console as the syscall layer sees it.
pub trait Console {
    /// Write `data` to the console (never blocks).
    fn write(&mut self, data: &[u8]);
    /// What input is ready, without consuming it.
    fn input(&self) -> ConsoleInput<'_>;
    /// Consume `n` bytes of the line [`Console::input`] returned, or the end-of-file
    /// mark.
    fn consume(&mut self, n: usize);
    /// The window size (`TIOCGWINSZ`).
    fn winsize(&self) -> Winsize {
        Winsize::CONSOLE
    }
    /// The terminal attributes (`TCGETS`).
    fn termios(&self) -> Termios {
        Termios::console()
    }
    /// The foreground process group (`TIOCGPGRP`; 0: none set): the one Ctrl-C
    /// and Ctrl-\ signal.
    fn foreground(&self) -> u32;
    /// Make `pgid` the foreground process group (`TIOCSPGRP`).
    fn set_foreground(&mut self, pgid: u32);
}

/// What one byte of input did (see [`Tty::receive`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Received {
    /// Nothing anyone waits for (an edit, an echo).
    Nothing,
    /// A line (or end of file) is ready: wake the readers.
    LineReady,
    /// Ctrl-C or Ctrl-\: send this signal to the foreground process group
    /// `pgid` (the line being edited is dropped).
    Signal {
        /// `SIGINT` or `SIGQUIT`.
        signal: u32,
        /// The foreground group (0: none set, nobody is signalled).
        pgid: u32,
    },
}

/// Where a [`Tty`] sends output and echo: the serial port.
pub trait ConsoleOutput {
    /// Write bytes.
    fn write_bytes(&mut self, data: &[u8]);
}

impl ConsoleOutput for Vec<u8> {
    fn write_bytes(&mut self, data: &[u8]) {
        self.extend_from_slice(data);
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Pending {
    Line(Vec<u8>),
    Eof,
}

/// The canonical-mode line discipline. See the module documentation.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LineDiscipline {
    edit: Vec<u8>,
    ready: VecDeque<Pending>,
    ready_bytes: usize,
    /// Bytes of the front line already read.
    front_off: usize,
    last_cr: bool,
}

const BEL: &[u8] = b"\x07";
const ERASE: &[u8] = b"\x08 \x08";

impl LineDiscipline {
    /// Nothing typed yet.
    pub fn new() -> LineDiscipline {
        LineDiscipline::default()
    }

    /// The line being edited.
    pub fn editing(&self) -> &[u8] {
        &self.edit
    }

    /// Whether a reader would get something now.
    pub fn has_input(&self) -> bool {
        !self.ready.is_empty()
    }

    fn complete(&mut self, pending: Pending) -> bool {
        let len = match &pending {
            Pending::Line(l) => l.len(),
            Pending::Eof => 0,
        };
        if self.ready_bytes + len > INPUT_MAX || self.ready.len() >= READY_MAX {
            return false;
        }
        self.ready_bytes += len;
        self.ready.push_back(pending);
        true
    }

    /// Remove the last character (all bytes of a UTF-8 sequence) of the line being
    /// edited; whether there was one.
    fn erase_char(&mut self) -> bool {
        let Some(mut last) = self.edit.pop() else {
            return false;
        };
        while last & 0xc0 == 0x80 {
            match self.edit.last() {
                Some(&b) if b & 0x80 != 0 => {
                    last = b;
                    self.edit.pop();
                }
                _ => break,
            }
        }
        true
    }

    /// Drop the line being edited (Ctrl-C).
    pub fn discard_line(&mut self) {
        self.edit.clear();
    }

    /// One byte from the serial port; `echo` receives what to show. Returns `true`
    /// when input became available to readers (wake them).
    pub fn receive(&mut self, byte: u8, echo: &mut impl FnMut(&[u8])) -> bool {
        let after_cr = core::mem::replace(&mut self.last_cr, byte == b'\r');
        match byte {
            b'\n' if after_cr => false,
            b'\r' | b'\n' => {
                let mut line = core::mem::take(&mut self.edit);
                line.push(b'\n');
                if self.complete(Pending::Line(line.clone())) {
                    echo(b"\n");
                    true
                } else {
                    line.pop();
                    self.edit = line;
                    echo(BEL);
                    false
                }
            }
            0x04 => {
                let pending = if self.edit.is_empty() {
                    Pending::Eof
                } else {
                    Pending::Line(self.edit.clone())
                };
                if self.complete(pending) {
                    self.edit.clear();
                    true
                } else {
                    echo(BEL);
                    false
                }
            }
            0x08 | 0x7f => {
                if self.erase_char() {
                    echo(ERASE);
                }
                false
            }
            0x15 => {
                while self.erase_char() {
                    echo(ERASE);
                }
                false
            }
            0x03 => {
                self.edit.clear();
                echo(b"^C\n");
                false
            }
            b'\t' | 0x20..=0x7e | 0x80..=0xff => {
                if self.edit.len() + 1 < LINE_MAX {
                    self.edit.push(byte);
                    echo(&[byte]);
                } else {
                    echo(BEL);
                }
                false
            }
            _ => false,
        }
    }

    /// What a reader gets now.
    pub fn input(&self) -> ConsoleInput<'_> {
        match self.ready.front() {
            None => ConsoleInput::Empty,
            Some(Pending::Eof) => ConsoleInput::Eof,
            Some(Pending::Line(l)) => ConsoleInput::Line(l.get(self.front_off..).unwrap_or(&[])),
        }
    }

    /// Consume `n` bytes of the front line (the whole line at most), or the
    /// end-of-file mark.
    pub fn consume(&mut self, n: usize) {
        match self.ready.front() {
            None => {}
            Some(Pending::Eof) => {
                self.ready.pop_front();
            }
            Some(Pending::Line(l)) => {
                let left = l.len() - self.front_off;
                let n = n.min(left);
                self.front_off += n;
                self.ready_bytes -= n;
                if n == left {
                    self.ready.pop_front();
                    self.front_off = 0;
                }
            }
        }
    }

    /// Read up to `buf.len()` bytes of one line: `None` if nothing is ready (block),
    /// `Some(0)` at end of file.
    pub fn read(&mut self, buf: &mut [u8]) -> Option<usize> {
        let n = match self.input() {
            ConsoleInput::Empty => return None,
            ConsoleInput::Eof => 0,
            ConsoleInput::Line(l) => {
                let n = l.len().min(buf.len());
                buf[..n].copy_from_slice(&l[..n]);
                n
            }
        };
        if n > 0 || matches!(self.input(), ConsoleInput::Eof) {
            self.consume(n);
        }
        Some(n)
    }
}

/// A console: a line discipline plus an output. The kernel feeds serial input to
/// [`Tty::receive`] (interrupts off while it holds the tty) and hands `&mut Tty` to
/// the syscall layer as its [`Console`].
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Tty<O> {
    /// Input editing.
    pub ldisc: LineDiscipline,
    /// Output and echo.
    pub out: O,
    /// What `TIOCGWINSZ` reports.
    pub winsize: Winsize,
    /// The foreground process group (0: none).
    pub foreground: u32,
}

impl<O: ConsoleOutput> Tty<O> {
    /// A console writing to `out`, 24 × 80.
    pub fn new(out: O) -> Tty<O> {
        Tty {
            ldisc: LineDiscipline::new(),
            out,
            winsize: Winsize::CONSOLE,
            foreground: 0,
        }
    }

    /// One byte from the serial port: an edit, a completed line, or Ctrl-C
    /// (`^C`: `SIGINT`) / Ctrl-\ (`^\`: `SIGQUIT`) for the foreground group,
    /// which drops the line being edited.
    pub fn receive(&mut self, byte: u8) -> Received {
        let signal = match byte {
            0x03 => Some((crate::abi::signal::SIGINT, &b"^C\n"[..])),
            0x1c => Some((crate::abi::signal::SIGQUIT, &b"^\\\n"[..])),
            _ => None,
        };
        if let Some((signal, echo)) = signal {
            self.ldisc.discard_line();
            self.out.write_bytes(echo);
            return Received::Signal {
                signal,
                pgid: self.foreground,
            };
        }
        let out = &mut self.out;
        if self.ldisc.receive(byte, &mut |b: &[u8]| out.write_bytes(b)) {
            Received::LineReady
        } else {
            Received::Nothing
        }
    }
}

impl<O: ConsoleOutput> Console for Tty<O> {
    fn write(&mut self, data: &[u8]) {
        self.out.write_bytes(data);
    }
    fn input(&self) -> ConsoleInput<'_> {
        self.ldisc.input()
    }
    fn consume(&mut self, n: usize) {
        self.ldisc.consume(n);
    }
    fn winsize(&self) -> Winsize {
        self.winsize
    }
    fn foreground(&self) -> u32 {
        self.foreground
    }
    fn set_foreground(&mut self, pgid: u32) {
        self.foreground = pgid;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feed(t: &mut Tty<Vec<u8>>, bytes: &[u8]) -> bool {
        let mut woke = false;
        for &b in bytes {
            woke |= t.receive(b) == Received::LineReady;
        }
        woke
    }

    #[test]
    fn ctrl_c_drops_the_line_and_signals_the_foreground_group() {
        let mut t = Tty::new(Vec::new());
        feed(&mut t, b"half a line");
        assert_eq!(
            t.receive(0x03),
            Received::Signal {
                signal: crate::abi::signal::SIGINT,
                pgid: 0
            }
        );
        t.set_foreground(7);
        assert_eq!(
            t.receive(0x1c),
            Received::Signal {
                signal: crate::abi::signal::SIGQUIT,
                pgid: 7
            }
        );
        assert!(feed(&mut t, b"next\n"));
        assert_eq!(
            read(&mut t, 64).unwrap(),
            b"next\n",
            "the half line is gone"
        );
        assert!(t.out.windows(3).any(|w| w == b"^C\n"));
    }

    fn read(t: &mut Tty<Vec<u8>>, n: usize) -> Option<Vec<u8>> {
        let mut buf = alloc::vec![0; n];
        let got = t.ldisc.read(&mut buf)?;
        buf.truncate(got);
        Some(buf)
    }

    #[test]
    fn lines_with_echo() {
        let mut t = Tty::new(Vec::new());
        assert_eq!(read(&mut t, 10), None);
        assert!(!feed(&mut t, b"hi"));
        assert_eq!(read(&mut t, 10), None);
        assert!(feed(&mut t, b"\r"));
        assert_eq!(t.out, b"hi\n");
        assert!(feed(&mut t, b"second\n"));
        assert_eq!(read(&mut t, 10).unwrap(), b"hi\n");
        // A read returns at most one line, and the rest of a line is kept.
        assert_eq!(read(&mut t, 3).unwrap(), b"sec");
        assert_eq!(read(&mut t, 100).unwrap(), b"ond\n");
        assert_eq!(read(&mut t, 100), None);
    }

    #[test]
    fn crlf_counts_once() {
        let mut t = Tty::new(Vec::new());
        feed(&mut t, b"a\r\nb\n\n");
        assert_eq!(read(&mut t, 10).unwrap(), b"a\n");
        assert_eq!(read(&mut t, 10).unwrap(), b"b\n");
        assert_eq!(read(&mut t, 10).unwrap(), b"\n");
        assert_eq!(read(&mut t, 10), None);
    }

    #[test]
    fn editing() {
        let mut t = Tty::new(Vec::new());
        feed(&mut t, b"abx\x7fc\x08\x08d\n");
        assert_eq!(read(&mut t, 10).unwrap(), b"ad\n");
        assert_eq!(t.out, b"abx\x08 \x08c\x08 \x08\x08 \x08d\n");
        t.out.clear();
        // Backspace on an empty line echoes nothing.
        feed(&mut t, b"\x7f\x7f");
        assert!(t.out.is_empty());
        // Ctrl-U kills the line.
        feed(&mut t, b"xyz\x15ok\n");
        assert_eq!(read(&mut t, 10).unwrap(), b"ok\n");
        // A UTF-8 character is erased whole.
        feed(&mut t, "aé".as_bytes());
        feed(&mut t, b"\x7f\n");
        assert_eq!(read(&mut t, 10).unwrap(), b"a\n");
        // Ctrl-C discards; other control bytes are ignored.
        t.out.clear();
        feed(&mut t, b"abc\x03\x01\x1bq\n");
        assert_eq!(read(&mut t, 10).unwrap(), b"q\n");
        assert_eq!(t.out, b"abc^C\nq\n");
    }

    #[test]
    fn ctrl_d() {
        let mut t = Tty::new(Vec::new());
        assert!(feed(&mut t, b"\x04"));
        assert_eq!(t.ldisc.input(), ConsoleInput::Eof);
        assert_eq!(read(&mut t, 10).unwrap(), b"");
        assert_eq!(read(&mut t, 10), None);
        // Ctrl-D after text hands the text over without a newline.
        assert!(feed(&mut t, b"ab\x04"));
        assert_eq!(read(&mut t, 10).unwrap(), b"ab");
        // A zero-length read at an end-of-file mark consumes it (it is that read).
        feed(&mut t, b"\x04x\n");
        assert_eq!(read(&mut t, 0).unwrap(), b"");
        assert_eq!(read(&mut t, 10).unwrap(), b"x\n");
    }

    #[test]
    fn limits() {
        let mut t = Tty::new(Vec::new());
        let long = alloc::vec![b'a'; LINE_MAX + 10];
        feed(&mut t, &long);
        assert_eq!(t.ldisc.editing().len(), LINE_MAX - 1);
        assert!(t.out.ends_with(BEL));
        assert!(feed(&mut t, b"\n"));
        assert_eq!(read(&mut t, 2 * LINE_MAX).unwrap().len(), LINE_MAX);
        // Fill the ready queue (4 × 1024 bytes): further lines are refused until a
        // reader drains it.
        let line = alloc::vec![b'b'; LINE_MAX - 1];
        for _ in 0..4 {
            feed(&mut t, &line);
            assert!(feed(&mut t, b"\n"));
        }
        feed(&mut t, b"c");
        assert!(!feed(&mut t, b"\n"));
        assert_eq!(t.ldisc.editing(), b"c");
        assert_eq!(read(&mut t, 2000).unwrap().len(), LINE_MAX);
        assert!(feed(&mut t, b"\n"));
    }

    #[test]
    fn console_trait_peek_and_consume() {
        let mut t = Tty::new(Vec::new());
        Console::write(&mut t, b"out");
        assert_eq!(t.out, b"out");
        feed(&mut t, b"abc\n");
        assert_eq!(t.input(), ConsoleInput::Line(b"abc\n"));
        t.consume(1);
        assert_eq!(t.input(), ConsoleInput::Line(b"bc\n"));
        t.consume(100);
        assert_eq!(t.input(), ConsoleInput::Empty);
        assert_eq!(t.winsize(), Winsize::CONSOLE);
    }

    #[test]
    fn end_of_file_marks_are_bounded() {
        let mut t = Tty::new(Vec::<u8>::new());
        for _ in 0..10_000 {
            t.receive(0x04);
        }
        assert_eq!(t.ldisc.ready.len(), READY_MAX);
        assert_eq!(t.ldisc.input(), ConsoleInput::Eof);
    }
}
