//! `sh [-c COMMAND… | FILE]`: a small shell. Builtins (`help`, `echo`, `cat`,
//! `ls`, `stat`, `cd`, `pwd`, `write`, `uname`, `pid`, `maps`, `mem`, `date`,
//! `time`, `true`, `false`, `exit`: `help` describes them) and the programs of
//! `/bin` (or a path), in pipelines with redirections (see `pipeline`).
//!
//! Input: with no argument, lines from stdin (the console, with the kernel's
//! canonical line editing), a `$ ` prompt before each when stdin is a
//! terminal; `-c` runs the rest of the arguments joined by spaces as one
//! line (boot modules' command lines are split on spaces); a FILE argument
//! runs the lines of that file. End of input (Ctrl-D on an empty line, or a
//! `read` returning 0) ends the shell: with status 0 at a terminal, else
//! with the status of the last command.
//!
//! Lines: words split on blanks; `'…'` quotes literally, `"…"` too except
//! for `\"`, `\\`, `\$` and `$?`; a backslash outside quotes takes the next
//! byte literally; `$?` is the last status and `$$` the shell's pid (not in
//! single quotes); `$NAME` and `${NAME}` are variables (`NAME=value` sets one,
//! `export` passes it to programs, `unset` removes it); `;` separates commands; `|` joins them into a pipeline;
//! `<`, `>`, `>>` and `2>&1` redirect; `#` at the start of a word begins a
//! comment. Lines longer than [`LINE`] bytes are read to their end and
//! refused with a message. Relative paths start at the current directory
//! (`cd`, the kernel's `chdir`; `$HOME`, `/tmp`, the writable one, at start),
//! which the programs the shell runs inherit.
//!
//! Errors print `strerror`'s text; a command's status is 0 on success, 1 on
//! failure, 2 on bad usage, 127 for an unknown command.

#![no_std]
#![no_main]

extern crate alloc;

use core::fmt::Write;
use core::ops::Range;
use ulibc::bench::timestamp;
use ulibc::fs::{File, read_dir};
use ulibc::io::FdWriter;
use ulibc::prelude::*;
use ulibc::string::{PATH_BUF, parse_u64, with_cstr};
use ulibc::sys;
use ulibc::types::field_bytes;

ulibc::entry!(main);

/// Longest input line, newline included (the console's own limit is 1024).
pub(crate) const LINE: usize = 4096;
/// Most words (and `;`) in one line.
pub(crate) const MAX_WORDS: usize = 256;
/// The expanded words of a line (`$?` may make them longer than the line).
pub(crate) const WORDS_BUF: usize = 2 * LINE;
/// The shell's starting directory: the writable one.
pub(crate) const HOME: &[u8] = b"/tmp";

mod builtins;
mod input;
mod lexer;
mod pipeline;
mod vars;

use builtins::BUILTINS;
use input::*;
use lexer::*;

/// A path buffer: a path a builtin uses.
pub(crate) struct Path {
    pub(crate) buf: [u8; PATH_BUF],
    pub(crate) len: usize,
}

impl Path {
    pub(crate) fn new(init: &[u8]) -> Self {
        let mut p = Self {
            buf: [0; PATH_BUF],
            len: 0,
        };
        let n = init.len().min(PATH_BUF);
        p.buf[..n].copy_from_slice(&init[..n]);
        p.len = n;
        p
    }

    pub(crate) fn bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }

    /// Appends `/component`.
    pub(crate) fn push(&mut self, component: &[u8]) -> Result<(), Errno> {
        // Keep one byte for with_cstr's NUL.
        if self.len + 1 + component.len() >= PATH_BUF {
            return Err(Errno::ENAMETOOLONG);
        }
        self.buf[self.len] = b'/';
        self.buf[self.len + 1..self.len + 1 + component.len()].copy_from_slice(component);
        self.len += 1 + component.len();
        Ok(())
    }

    /// Runs `f` on the path as a C string (`/` if empty).
    pub(crate) fn with_c<T>(&self, f: impl FnOnce(&CStr) -> Result<T, Errno>) -> Result<T, Errno> {
        with_cstr(if self.len == 0 { b"/" } else { self.bytes() }, f)
    }
}

impl core::fmt::Display for Path {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        if self.len == 0 {
            f.write_str("/")
        } else {
            write!(f, "{}", Bytes(self.bytes()))
        }
    }
}

pub(crate) struct Shell {
    /// The last command's status (`$?`).
    pub(crate) status: i32,
    /// Set by `exit`.
    pub(crate) exit: Option<i32>,
    pub(crate) pid: u32,
    /// At a terminal: jobs get the terminal (its foreground group) while they
    /// run, and Ctrl-C / Ctrl-\ end them, not the shell.
    pub(crate) interactive: bool,
    /// Background jobs: (job number, pid of its last process), 0 = free slot.
    pub(crate) jobs: [(u32, u32); MAX_JOBS],
    /// The number of the next background job.
    pub(crate) next_job: u32,
    /// Shell variables (the exported ones are the programs' environment).
    pub(crate) vars: vars::Vars,
    /// The process limit (`RLIMIT_NPROC`) the programs it runs get: the one
    /// it started with. The shell itself raises its own to the hard limit, so
    /// a fork bomb it started leaves it room to run `ps` and `kill`.
    pub(crate) job_nproc: ulibc::types::Rlimit,
}

/// Raises the shell's `RLIMIT_NPROC` soft limit to the hard one; returns
/// the limit it had (the one its jobs get).
fn raise_own_process_limit() -> ulibc::types::Rlimit {
    use ulibc::types::{RLIMIT_NPROC, Rlimit};
    let limit = sys::getrlimit(RLIMIT_NPROC).unwrap_or(Rlimit::INFINITE);
    let raised = Rlimit {
        rlim_cur: limit.rlim_max,
        ..limit
    };
    let _ = sys::setrlimit(RLIMIT_NPROC, raised);
    limit
}

/// Most background jobs at a time.
pub(crate) const MAX_JOBS: usize = 16;

impl Shell {
    pub(crate) fn new() -> Self {
        Self {
            status: 0,
            exit: None,
            pid: sys::getpid().unwrap_or(0),
            interactive: false,
            jobs: [(0, 0); MAX_JOBS],
            next_job: 1,
            vars: vars::Vars::from_environment(),
            job_nproc: raise_own_process_limit(),
        }
    }

    /// `path` for a builtin to use (the kernel resolves it against the current
    /// directory): `ENOENT` when empty, `ENAMETOOLONG` past the buffer.
    pub(crate) fn resolve(&self, path: &[u8]) -> Result<Path, Errno> {
        if path.is_empty() {
            return Err(Errno::ENOENT);
        }
        if path.len() >= PATH_BUF {
            return Err(Errno::ENAMETOOLONG);
        }
        Ok(Path::new(path))
    }

    /// Splits and runs one line: checks all of it first, then splits and
    /// runs one command at a time (so `$?` sees the command before it).
    pub(crate) fn run_line(&mut self, line: &[u8], words: &mut Words) {
        if let Err(e) = words.split(line, self.status, self.pid, &self.vars, false) {
            match e {
                SplitError::Quote(q) => {
                    eprintln!("sh: syntax error: unterminated {}", q as char)
                }
                SplitError::TooManyWords => {
                    eprintln!("sh: too many words (at most {MAX_WORDS})")
                }
                SplitError::TooLong => eprintln!("sh: line too long"),
            }
            self.status = 2;
            return;
        }
        let mut rest = line;
        // Whether the next command runs.
        let mut run_next = true;
        while !rest.is_empty() {
            let used = match words.split(rest, self.status, self.pid, &self.vars, true) {
                Ok(used) => used,
                Err(_) => {
                    // Only an expansion can make a command fail now.
                    eprintln!("sh: line too long");
                    self.status = 2;
                    return;
                }
            };
            rest = rest.get(used..).unwrap_or(&[]);
            let assigned = (words.count == 1)
                .then(|| vars::assignment(words.word(words.tokens[0])))
                .flatten()
                .map(|(n, v)| (n.to_vec(), v.to_vec()));
            if let (Some((name, value)), true) = (assigned, run_next) {
                self.vars.set(&name, &value, false);
                self.status = 0;
            } else if words.count > 0 && run_next {
                self.status = if words.end == End::Background {
                    self.run_background(words)
                } else {
                    self.run_command(words)
                };
            }
            // POSIX: after `&&` / `||` the status of the last command that ran
            // decides, whether or not the one just before was skipped.
            run_next = match words.end {
                End::And => self.status == 0,
                End::Or => self.status != 0,
                End::Then | End::Background => true,
            };
            if self.exit.is_some() || used == 0 {
                return;
            }
        }
    }
}

/// Options (`-abc` words before the operands, up to `--`): the letters seen
/// among `allowed`; `Err(letter)` for any other. Returns the operands.
pub(crate) fn options<'a, 'b>(
    argv: &'b [&'a [u8]],
    allowed: &[u8],
    seen: &mut [bool],
) -> Result<&'b [&'a [u8]], u8> {
    let mut i = 1;
    while let Some(a) = argv.get(i) {
        if *a == b"--" {
            i += 1;
            break;
        }
        if a.len() < 2 || a[0] != b'-' {
            break;
        }
        for &c in &a[1..] {
            match allowed.iter().position(|&x| x == c) {
                Some(k) => seen[k] = true,
                None => return Err(c),
            }
        }
        i += 1;
    }
    Ok(argv.get(i..).unwrap_or(&[]))
}

pub(crate) fn usage(name: &str) -> i32 {
    if let Some(b) = BUILTINS.iter().find(|b| b.0 == name) {
        eprintln!("usage: {}", b.1);
    }
    2
}

fn main(args: Args) -> i32 {
    let mut sh = Shell::new();
    if sys::getppid() == Ok(0) {
        // Started by the kernel (a boot module), as by login: at home.
        let home = sh.vars.get(b"HOME").unwrap_or(HOME).to_vec();
        let _ = sys::chdir(&home);
    }
    let mut words = Words::new();
    match args.bytes(1) {
        Some(b"-c") => {
            // The module's command line was split on spaces: join it back.
            let mut line = [0u8; LINE];
            let mut len = 0;
            for (i, a) in args.iter().skip(2).enumerate() {
                let a = a.to_bytes();
                let need = a.len() + usize::from(i > 0);
                if len + need > LINE {
                    eprintln!("sh: -c: command too long");
                    return 2;
                }
                if i > 0 {
                    line[len] = b' ';
                    len += 1;
                }
                line[len..len + a.len()].copy_from_slice(a);
                len += a.len();
            }
            sh.run_line(&line[..len], &mut words);
            sh.exit.unwrap_or(sh.status)
        }
        Some(path) if path.first() != Some(&b'-') || path == b"-" => {
            let file = if path == b"-" {
                Ok(File::from_fd(STDIN))
            } else {
                sh.resolve(path).and_then(|p| p.with_c(File::open_read))
            };
            match file {
                Ok(f) => {
                    let fd = f.into_fd();
                    session(&mut sh, &mut words, fd, false)
                }
                Err(e) => {
                    eprintln!("sh: {}: {e}", Bytes(path));
                    127
                }
            }
        }
        Some(_) => {
            eprintln!("usage: sh [-c COMMAND… | FILE]");
            2
        }
        None => {
            let interactive = sys::isatty(STDIN);
            if interactive {
                sh.take_terminal();
                println!("phantom-unix sh — builtins and /bin; type help");
            }
            session(&mut sh, &mut words, STDIN, interactive)
        }
    }
}

/// Reads and runs lines from `fd` until end of input or `exit`.
pub(crate) fn session(sh: &mut Shell, words: &mut Words, fd: Fd, interactive: bool) -> i32 {
    let mut reader = Reader::new(fd);
    loop {
        if interactive {
            sh.report_done_jobs();
            print!("$ ");
        }
        match reader.next_line() {
            Line::Text(r) => {
                let line = reader.buf.get(r).unwrap_or(&[]);
                sh.run_line(line, words);
            }
            Line::TooLong => {
                eprintln!("sh: line too long (at most {} bytes): ignored", LINE - 1);
                sh.status = 2;
            }
            Line::Eof => {
                if interactive {
                    // Ctrl-D leaves the cursor after the prompt.
                    println!();
                    return 0;
                }
                return sh.status;
            }
            Line::Error(e) => {
                eprintln!("sh: read: {e}");
                return 1;
            }
        }
        if let Some(code) = sh.exit {
            return code;
        }
    }
}
