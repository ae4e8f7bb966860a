//! `sh [-c COMMAND… | FILE]`: a small shell. There is no fork/exec yet, so
//! every command is a builtin: `help`, `echo`, `cat`, `ls`, `stat`, `cd`,
//! `pwd`, `write`, `uname`, `pid`, `maps`, `mem`, `date`, `time`, `true`,
//! `false`, `exit` (`help` describes them).
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
//! single quotes); `;` separates commands; `#` at the start of a word begins
//! a comment. Lines longer than [`LINE`] bytes are read to their end and
//! refused with a message. Paths are relative to the shell's own current
//! directory (`cd`; `/tmp` at start, the writable one — the kernel has no
//! `chdir`), `.` and `..` resolved by the shell.
//!
//! Errors print `strerror`'s text; a command's status is 0 on success, 1 on
//! failure, 2 on bad usage, 127 for an unknown command.

#![no_std]
#![no_main]

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
const LINE: usize = 4096;
/// Most words (and `;`) in one line.
const MAX_WORDS: usize = 256;
/// The expanded words of a line (`$?` may make them longer than the line).
const WORDS_BUF: usize = 2 * LINE;
/// The shell's starting directory: the writable one.
const HOME: &[u8] = b"/tmp";

// ---------------------------------------------------------------------------
// Reading lines

/// What [`Reader::next_line`] found.
enum Line {
    /// A line (without its newline): a range of the reader's buffer.
    Text(Range<usize>),
    /// A line longer than the buffer, read to its end and dropped.
    TooLong,
    /// End of input.
    Eof,
    /// `read` failed.
    Error(Errno),
}

/// Splits what `read` returns into lines, whatever the reads' sizes.
struct Reader {
    fd: Fd,
    buf: [u8; LINE],
    start: usize,
    end: usize,
    eof: bool,
}

impl Reader {
    fn new(fd: Fd) -> Self {
        Self {
            fd,
            buf: [0; LINE],
            start: 0,
            end: 0,
            eof: false,
        }
    }

    fn next_line(&mut self) -> Line {
        let mut too_long = false;
        loop {
            let pending = self.buf.get(self.start..self.end).unwrap_or(&[]);
            if let Some(i) = pending.iter().position(|&b| b == b'\n') {
                let line = self.start..self.start + i;
                self.start += i + 1;
                return if too_long {
                    Line::TooLong
                } else {
                    Line::Text(line)
                };
            }
            if self.eof {
                // A last line without a newline still counts.
                if self.start < self.end {
                    let line = self.start..self.end;
                    self.start = self.end;
                    return if too_long {
                        Line::TooLong
                    } else {
                        Line::Text(line)
                    };
                }
                return if too_long { Line::TooLong } else { Line::Eof };
            }
            if self.start > 0 {
                self.buf.copy_within(self.start..self.end, 0);
                self.end -= self.start;
                self.start = 0;
            }
            if self.end == self.buf.len() {
                // No newline in a full buffer: drop it, keep reading to the
                // end of the line.
                too_long = true;
                self.end = 0;
            }
            match sys::read(self.fd, &mut self.buf[self.end..]) {
                Ok(0) => self.eof = true,
                Ok(n) => self.end = (self.end + n).min(self.buf.len()),
                Err(Errno::EINTR) => {}
                Err(e) => return Line::Error(e),
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Splitting words

/// One token of a line: a word (a range of the words buffer) or `;`.
#[derive(Clone, Copy)]
enum Token {
    Word(u16, u16),
    Semicolon,
}

/// Why a line could not be split.
#[derive(Debug, PartialEq, Eq)]
enum SplitError {
    Quote(u8),
    TooManyWords,
    TooLong,
}

/// The tokens of one line, their bytes unquoted and expanded.
struct Words {
    buf: [u8; WORDS_BUF],
    len: usize,
    tokens: [Token; MAX_WORDS],
    count: usize,
}

impl Words {
    fn new() -> Self {
        Self {
            buf: [0; WORDS_BUF],
            len: 0,
            tokens: [Token::Semicolon; MAX_WORDS],
            count: 0,
        }
    }

    fn push_byte(&mut self, b: u8) -> Result<(), SplitError> {
        let slot = self.buf.get_mut(self.len).ok_or(SplitError::TooLong)?;
        *slot = b;
        self.len += 1;
        Ok(())
    }

    fn push_bytes(&mut self, bytes: &[u8]) -> Result<(), SplitError> {
        bytes.iter().try_for_each(|&b| self.push_byte(b))
    }

    fn push_token(&mut self, t: Token) -> Result<(), SplitError> {
        let slot = self
            .tokens
            .get_mut(self.count)
            .ok_or(SplitError::TooManyWords)?;
        *slot = t;
        self.count += 1;
        Ok(())
    }

    /// Splits `line`; `status` and `pid` expand `$?` and `$$`. With
    /// `one`, stops after the first command (its `;` is not kept). Returns
    /// how many bytes of `line` it used.
    fn split(
        &mut self,
        line: &[u8],
        status: i32,
        pid: u32,
        one: bool,
    ) -> Result<usize, SplitError> {
        self.len = 0;
        self.count = 0;
        let mut i = 0;
        // Start of the word being built, if one is.
        let mut word: Option<usize> = None;
        while let Some(&b) = line.get(i) {
            i += 1;
            match b {
                b' ' | b'\t' | b'\r' | b'\x0b' | b'\x0c' | b';' => {
                    if let Some(start) = word.take() {
                        self.end_word(start)?;
                    }
                    if b == b';' {
                        if one {
                            return Ok(i);
                        }
                        self.push_token(Token::Semicolon)?;
                    }
                }
                b'#' if word.is_none() => {
                    i = line.len();
                    break;
                }
                b'\'' => {
                    word.get_or_insert(self.len);
                    let len = line[i..]
                        .iter()
                        .position(|&c| c == b'\'')
                        .ok_or(SplitError::Quote(b'\''))?;
                    self.push_bytes(&line[i..i + len])?;
                    i += len + 1;
                }
                b'"' => {
                    word.get_or_insert(self.len);
                    loop {
                        match line.get(i) {
                            None => return Err(SplitError::Quote(b'"')),
                            Some(b'"') => {
                                i += 1;
                                break;
                            }
                            Some(b'\\') if matches!(line.get(i + 1), Some(b'"' | b'\\' | b'$')) => {
                                self.push_byte(line[i + 1])?;
                                i += 2;
                            }
                            Some(b'$') if matches!(line.get(i + 1), Some(b'?' | b'$')) => {
                                self.push_var(line[i + 1], status, pid)?;
                                i += 2;
                            }
                            Some(&c) => {
                                self.push_byte(c)?;
                                i += 1;
                            }
                        }
                    }
                }
                b'\\' => {
                    word.get_or_insert(self.len);
                    // A trailing backslash stands for itself.
                    let c = line.get(i).copied().unwrap_or(b'\\');
                    self.push_byte(c)?;
                    i += 1;
                }
                b'$' if matches!(line.get(i), Some(b'?' | b'$')) => {
                    word.get_or_insert(self.len);
                    self.push_var(line[i], status, pid)?;
                    i += 1;
                }
                _ => {
                    word.get_or_insert(self.len);
                    self.push_byte(b)?;
                }
            }
        }
        if let Some(start) = word {
            self.end_word(start)?;
        }
        Ok(i)
    }

    fn end_word(&mut self, start: usize) -> Result<(), SplitError> {
        // WORDS_BUF < 65536: both fit.
        self.push_token(Token::Word(start as u16, (self.len - start) as u16))
    }

    fn push_var(&mut self, which: u8, status: i32, pid: u32) -> Result<(), SplitError> {
        let v = if which == b'?' { status as u32 } else { pid };
        let s = ulibc::string::format_array::<12>(format_args!("{v}"));
        self.push_bytes(s.as_bytes())
    }

    fn word(&self, t: Token) -> &[u8] {
        match t {
            Token::Word(start, len) => {
                let (s, l) = (usize::from(start), usize::from(len));
                self.buf.get(s..s + l).unwrap_or(&[])
            }
            Token::Semicolon => b";",
        }
    }
}

// ---------------------------------------------------------------------------
// The shell

/// A path buffer: the current directory and resolved paths.
struct Path {
    buf: [u8; PATH_BUF],
    len: usize,
}

impl Path {
    fn new(init: &[u8]) -> Self {
        let mut p = Self {
            buf: [0; PATH_BUF],
            len: 0,
        };
        let n = init.len().min(PATH_BUF);
        p.buf[..n].copy_from_slice(&init[..n]);
        p.len = n;
        p
    }

    fn bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }

    /// Appends `/component`.
    fn push(&mut self, component: &[u8]) -> Result<(), Errno> {
        // Keep one byte for with_cstr's NUL.
        if self.len + 1 + component.len() >= PATH_BUF {
            return Err(Errno::ENAMETOOLONG);
        }
        self.buf[self.len] = b'/';
        self.buf[self.len + 1..self.len + 1 + component.len()].copy_from_slice(component);
        self.len += 1 + component.len();
        Ok(())
    }

    /// Drops the last component (`..`); the root stays.
    fn pop(&mut self) {
        let cut = self.bytes().iter().rposition(|&b| b == b'/').unwrap_or(0);
        self.len = cut;
    }

    /// Runs `f` on the path as a C string (`/` if empty).
    fn with_c<T>(&self, f: impl FnOnce(&CStr) -> Result<T, Errno>) -> Result<T, Errno> {
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

struct Shell {
    /// The last command's status (`$?`).
    status: i32,
    /// Set by `exit`.
    exit: Option<i32>,
    /// The current directory, absolute and normalised, without a trailing
    /// `/` (empty for the root).
    cwd: Path,
    pid: u32,
}

type Builtin = fn(&mut Shell, &[&[u8]]) -> i32;

/// The builtins: name, usage, what it does, the function.
const BUILTINS: &[(&str, &str, &str, Builtin)] = &[
    ("help", "help", "this list", help),
    ("echo", "echo [-n] [ARG…]", "print the arguments", echo),
    (
        "cat",
        "cat [FILE…]",
        "print files (stdin without FILE or for -)",
        cat,
    ),
    (
        "ls",
        "ls [-l] [-a] [PATH…]",
        "list directories (/ after directories; -l: mode, size)",
        ls,
    ),
    ("stat", "stat PATH…", "a file's status", stat),
    (
        "cd",
        "cd [DIR]",
        "change the shell's directory (/tmp without DIR)",
        cd,
    ),
    ("pwd", "pwd", "print the shell's directory", pwd),
    (
        "write",
        "write FILE [TEXT…]",
        "create or overwrite FILE with TEXT and a newline (/tmp is writable)",
        write,
    ),
    (
        "uname",
        "uname [-a|-snrvm]",
        "the system's name (-a: everything)",
        uname,
    ),
    ("pid", "pid", "the shell's process id and its parent's", pid),
    (
        "maps",
        "maps",
        "the shell's address space (/proc/self/maps)",
        maps,
    ),
    (
        "mem",
        "mem",
        "the program break (brk(0)), the program's end, the stack and data limits",
        mem,
    ),
    ("date", "date", "the time of CLOCK_REALTIME (UTC)", date),
    (
        "time",
        "time [COMMAND…]",
        "time a command (without one: the uptime)",
        time,
    ),
    ("true", "true", "status 0", |_, _| 0),
    ("false", "false", "status 1", |_, _| 1),
    (
        "exit",
        "exit [N]",
        "leave the shell with status N (default: the last status)",
        exit,
    ),
];

impl Shell {
    fn new() -> Self {
        Self {
            status: 0,
            exit: None,
            cwd: Path::new(HOME),
            pid: sys::getpid().unwrap_or(0),
        }
    }

    /// `path` made absolute against the current directory, `.` and `..`
    /// resolved (`..` of the root is the root).
    fn resolve(&self, path: &[u8]) -> Result<Path, Errno> {
        let mut out = if path.first() == Some(&b'/') {
            Path::new(b"")
        } else {
            Path::new(self.cwd.bytes())
        };
        for c in path.split(|&b| b == b'/') {
            match c {
                b"" | b"." => {}
                b".." => out.pop(),
                c => out.push(c)?,
            }
        }
        Ok(out)
    }

    /// Splits and runs one line: checks all of it first, then splits and
    /// runs one command at a time (so `$?` sees the command before it).
    fn run_line(&mut self, line: &[u8], words: &mut Words) {
        if let Err(e) = words.split(line, self.status, self.pid, false) {
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
        while !rest.is_empty() {
            let used = match words.split(rest, self.status, self.pid, true) {
                Ok(used) => used,
                Err(_) => {
                    // Only an expansion can make a command fail now.
                    eprintln!("sh: line too long");
                    self.status = 2;
                    return;
                }
            };
            rest = rest.get(used..).unwrap_or(&[]);
            let mut argv: [&[u8]; MAX_WORDS] = [&[]; MAX_WORDS];
            let mut argc = 0;
            for &t in words.tokens.iter().take(words.count) {
                if let Token::Word(..) = t {
                    argv[argc] = words.word(t);
                    argc += 1;
                }
            }
            if argc > 0 {
                self.status = self.run(&argv[..argc]);
            }
            if self.exit.is_some() || used == 0 {
                return;
            }
        }
    }

    /// Runs one command.
    fn run(&mut self, argv: &[&[u8]]) -> i32 {
        let name = argv[0];
        match BUILTINS.iter().find(|b| b.0.as_bytes() == name) {
            Some(b) => (b.3)(self, argv),
            None => {
                eprintln!(
                    "sh: {}: command not found (no fork/exec yet: other programs run only as boot modules; try help)",
                    Bytes(name)
                );
                127
            }
        }
    }
}

/// Options (`-abc` words before the operands, up to `--`): the letters seen
/// among `allowed`; `Err(letter)` for any other. Returns the operands.
fn options<'a, 'b>(
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

fn usage(name: &str) -> i32 {
    if let Some(b) = BUILTINS.iter().find(|b| b.0 == name) {
        eprintln!("usage: {}", b.1);
    }
    2
}

// ---------------------------------------------------------------------------
// Builtins

fn help(_: &mut Shell, _: &[&[u8]]) -> i32 {
    let mut w = FdWriter::<2048>::new(STDOUT);
    let _ = writeln!(
        w,
        "phantom-unix sh: builtins only (no fork/exec yet; programs run as boot modules)"
    );
    for b in BUILTINS {
        let _ = writeln!(w, "  {:<22} {}", b.1, b.2);
    }
    let _ = writeln!(
        w,
        "quotes '…' \"…\", \\x, $? (last status), $$ (pid), ; between commands, # comments"
    );
    w.finish().map_or(1, |()| 0)
}

fn echo(_: &mut Shell, argv: &[&[u8]]) -> i32 {
    let (newline, words) = match argv.get(1) {
        Some(&b"-n") => (false, &argv[2..]),
        _ => (true, &argv[1..]),
    };
    let mut w = FdWriter::<1024>::new(STDOUT);
    for (i, a) in words.iter().enumerate() {
        if i > 0 {
            w.write_bytes(b" ");
        }
        w.write_bytes(a);
    }
    if newline {
        w.write_bytes(b"\n");
    }
    w.finish().map_or(1, |()| 0)
}

fn cat(sh: &mut Shell, argv: &[&[u8]]) -> i32 {
    let mut buf = [0u8; 4096];
    let stdin: &[&[u8]] = &[b"-"];
    let files = if argv.len() > 1 { &argv[1..] } else { stdin };
    let mut status = 0;
    for &f in files {
        let r = if f == b"-" {
            ulibc::fs::copy(STDIN, STDOUT, &mut buf)
        } else {
            match sh.resolve(f).and_then(|p| p.with_c(File::open_read)) {
                Ok(file) => ulibc::fs::copy(file.fd(), STDOUT, &mut buf),
                Err(e) => Err(ulibc::fs::CopyError::Read(e)),
            }
        };
        match r {
            Ok(_) => {}
            Err(ulibc::fs::CopyError::Read(e)) => {
                eprintln!("cat: {}: {e}", Bytes(f));
                status = 1;
            }
            Err(ulibc::fs::CopyError::Write(e)) => {
                eprintln!("cat: write error: {e}");
                return 1;
            }
        }
    }
    status
}

/// `-rw-r--r--` for a mode.
fn mode_string(mode: u16) -> [u8; 10] {
    let mut m = *b"----------";
    m[0] = match u32::from(mode) & S_IFMT {
        S_IFDIR => b'd',
        S_IFCHR => b'c',
        S_IFREG => b'-',
        _ => b'?',
    };
    for (i, c) in b"rwxrwxrwx".iter().enumerate() {
        if mode & (0o400 >> i) != 0 {
            m[1 + i] = *c;
        }
    }
    m
}

fn kind_name(st: &Stat) -> &'static str {
    match st.file_type() {
        S_IFREG if st.st_size == 0 => "regular empty file",
        S_IFREG => "regular file",
        S_IFDIR => "directory",
        S_IFCHR => "character special file",
        _ => "unknown",
    }
}

/// One `ls` line: `name` (with `/` for a directory), or with `long` the
/// mode, links, owner, size first.
fn ls_line(w: &mut FdWriter<2048>, name: &[u8], st: Result<Stat, Errno>, dir: bool, long: bool) {
    let slash = if dir { "/" } else { "" };
    if !long {
        let _ = writeln!(w, "{}{slash}", Bytes(name));
        return;
    }
    match st {
        Ok(st) => {
            let m = mode_string(st.st_mode);
            let _ = writeln!(
                w,
                "{} {:>2} {:>3} {:>3} {:>9} {}{slash}",
                Bytes(&m),
                st.st_nlink,
                st.st_uid,
                st.st_gid,
                st.st_size,
                Bytes(name)
            );
        }
        Err(e) => {
            let _ = writeln!(w, "?????????? (stat: {e}) {}{slash}", Bytes(name));
        }
    }
}

/// Most entries `ls` sorts (more are listed after them, unsorted).
const LS_MAX: usize = 512;
/// Bytes of names `ls` keeps for sorting.
const LS_NAMES: usize = 16384;

/// Directory entries kept for sorting: names in one buffer.
struct Listing {
    names: [u8; LS_NAMES],
    used: usize,
    entries: [(u16, u16, u8); LS_MAX],
    count: usize,
}

impl Listing {
    fn add(&mut self, name: &[u8], kind: u8) -> bool {
        if self.count == LS_MAX || self.used + name.len() > LS_NAMES {
            return false;
        }
        self.names[self.used..self.used + name.len()].copy_from_slice(name);
        self.entries[self.count] = (self.used as u16, name.len() as u16, kind);
        self.used += name.len();
        self.count += 1;
        true
    }

    fn name(&self, i: usize) -> &[u8] {
        let (off, len, _) = self.entries[i];
        &self.names[usize::from(off)..usize::from(off) + usize::from(len)]
    }
}

/// Lists one entry of directory `dir`.
fn ls_entry(w: &mut FdWriter<2048>, dir: &Path, name: &[u8], kind: u8, long: bool) {
    let st = if long || kind == DT_UNKNOWN {
        let mut p = Path::new(dir.bytes());
        p.push(name).and_then(|()| p.with_c(sys::stat))
    } else {
        Err(Errno::ENOSYS)
    };
    let is_dir = match kind {
        DT_UNKNOWN => st.map(|s| s.is_dir()).unwrap_or(false),
        k => k == DT_DIR,
    };
    ls_line(w, name, st, is_dir, long);
}

fn ls_dir(w: &mut FdWriter<2048>, dir: &Path, shown: &[u8], long: bool, all: bool) -> i32 {
    let entries = match dir.with_c(read_dir) {
        Ok(d) => d,
        Err(e) => {
            w.flush();
            eprintln!("ls: {}: {e}", Bytes(shown));
            return 1;
        }
    };
    let mut list = Listing {
        names: [0; LS_NAMES],
        used: 0,
        entries: [(0, 0, 0); LS_MAX],
        count: 0,
    };
    let mut status = 0;
    let mut overflow = false;
    for e in entries {
        let e = match e {
            Ok(e) => e,
            Err(err) => {
                w.flush();
                eprintln!("ls: reading {}: {err}", Bytes(shown));
                status = 1;
                break;
            }
        };
        if !all && e.name().first() == Some(&b'.') {
            continue;
        }
        if !overflow && list.add(e.name(), e.kind) {
            continue;
        }
        if !overflow {
            // Full: print the sorted part, then the rest as it comes.
            overflow = true;
            ls_sorted(w, dir, &mut list, long);
        }
        ls_entry(w, dir, e.name(), e.kind, long);
    }
    if !overflow {
        ls_sorted(w, dir, &mut list, long);
    }
    status
}

fn ls_sorted(w: &mut FdWriter<2048>, dir: &Path, list: &mut Listing, long: bool) {
    let mut order = [0u16; LS_MAX];
    for (i, o) in order.iter_mut().enumerate().take(list.count) {
        *o = i as u16;
    }
    let order = &mut order[..list.count];
    order.sort_unstable_by(|&a, &b| list.name(a.into()).cmp(list.name(b.into())));
    for &i in order.iter() {
        let kind = list.entries[usize::from(i)].2;
        ls_entry(w, dir, list.name(i.into()), kind, long);
    }
}

fn ls(sh: &mut Shell, argv: &[&[u8]]) -> i32 {
    let mut flags = [false; 2];
    let paths = match options(argv, b"la", &mut flags) {
        Ok(p) => p,
        Err(c) => {
            eprintln!("ls: invalid option -- '{}'", c as char);
            return usage("ls");
        }
    };
    let [long, all] = flags;
    let dot: &[&[u8]] = &[b"."];
    let paths = if paths.is_empty() { dot } else { paths };
    let mut w = FdWriter::<2048>::new(STDOUT);
    let mut status = 0;
    for (i, &p) in paths.iter().enumerate() {
        let path = match sh.resolve(p) {
            Ok(path) => path,
            Err(e) => {
                w.flush();
                eprintln!("ls: {}: {e}", Bytes(p));
                status = 1;
                continue;
            }
        };
        let st = match path.with_c(sys::stat) {
            Ok(st) => st,
            Err(e) => {
                w.flush();
                eprintln!("ls: {}: {e}", Bytes(p));
                status = 1;
                continue;
            }
        };
        if !st.is_dir() {
            ls_line(&mut w, p, Ok(st), false, long);
            continue;
        }
        if paths.len() > 1 {
            let _ = writeln!(w, "{}{}:", if i > 0 { "\n" } else { "" }, Bytes(p));
        }
        status |= ls_dir(&mut w, &path, p, long, all);
    }
    if w.finish().is_err() {
        return 1;
    }
    status
}

/// Days since 1970-01-01 → (year, month, day) (proleptic Gregorian).
fn civil(days: u32) -> (u32, u32, u32) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + u32::from(m <= 2);
    (y, m, d)
}

/// `YYYY-MM-DD HH:MM:SS` for seconds since the epoch.
struct DateTime(u64);

impl core::fmt::Display for DateTime {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let (y, mo, d) = civil((self.0 / 86_400) as u32);
        let t = self.0 % 86_400;
        write!(
            f,
            "{y:04}-{mo:02}-{d:02} {:02}:{:02}:{:02}",
            t / 3600,
            t / 60 % 60,
            t % 60
        )
    }
}

fn stat(sh: &mut Shell, argv: &[&[u8]]) -> i32 {
    if argv.len() < 2 {
        return usage("stat");
    }
    let mut status = 0;
    for &p in &argv[1..] {
        let st = match sh.resolve(p).and_then(|path| path.with_c(sys::stat)) {
            Ok(st) => st,
            Err(e) => {
                eprintln!("stat: cannot stat '{}': {e}", Bytes(p));
                status = 1;
                continue;
            }
        };
        let mut w = FdWriter::<1024>::new(STDOUT);
        let _ = writeln!(w, "  File: {}", Bytes(p));
        let _ = writeln!(w, "  Size: {:<10} {}", st.st_size, kind_name(&st));
        let _ = write!(
            w,
            "Device: {:<9} Inode: {:<10} Links: {}",
            st.st_dev, st.st_ino, st.st_nlink
        );
        if st.is_char_device() {
            let _ = write!(
                w,
                "  Device type: {},{}",
                st.st_rdev >> 8 & 0xfff,
                st.st_rdev & 0xff
            );
        }
        let _ = writeln!(w);
        let _ = writeln!(
            w,
            "Access: ({:04o}/{})  Uid: {}  Gid: {}",
            st.st_mode & 0o7777,
            Bytes(&mode_string(st.st_mode)),
            st.st_uid,
            st.st_gid
        );
        let _ = writeln!(w, "Access: {}", DateTime(st.st_atime));
        let _ = writeln!(w, "Modify: {}", DateTime(st.st_mtime));
        let _ = writeln!(w, "Change: {}", DateTime(st.st_ctime));
        if w.finish().is_err() {
            return 1;
        }
    }
    status
}

fn cd(sh: &mut Shell, argv: &[&[u8]]) -> i32 {
    if argv.len() > 2 {
        eprintln!("cd: too many arguments");
        return 2;
    }
    let target = argv.get(1).copied().unwrap_or(HOME);
    let r = sh.resolve(target).and_then(|p| {
        let st = p.with_c(sys::stat)?;
        if st.is_dir() {
            Ok(p)
        } else {
            Err(Errno::ENOTDIR)
        }
    });
    match r {
        Ok(p) => {
            sh.cwd = p;
            0
        }
        Err(e) => {
            eprintln!("cd: {}: {e}", Bytes(target));
            1
        }
    }
}

fn pwd(sh: &mut Shell, _: &[&[u8]]) -> i32 {
    println!("{}", sh.cwd);
    0
}

fn write(sh: &mut Shell, argv: &[&[u8]]) -> i32 {
    let Some(&name) = argv.get(1) else {
        return usage("write");
    };
    let file = sh
        .resolve(name)
        .and_then(|p| p.with_c(|c| File::open(c, O_WRONLY | O_CREAT | O_TRUNC, 0o644)));
    let file = match file {
        Ok(f) => f,
        Err(e) => {
            eprintln!("write: {}: {e}", Bytes(name));
            return 1;
        }
    };
    let mut text = [0u8; LINE + 2];
    let mut len = 0;
    for (i, word) in argv[2..].iter().enumerate() {
        let sep: &[u8] = if i > 0 { b" " } else { b"" };
        for part in [sep, word] {
            let Some(dst) = text.get_mut(len..len + part.len()) else {
                eprintln!("write: text too long");
                return 1;
            };
            dst.copy_from_slice(part);
            len += part.len();
        }
    }
    if argv.len() > 2 {
        text[len] = b'\n';
        len += 1;
    }
    match file.write_all(&text[..len]).and_then(|()| file.close()) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("write: {}: {e}", Bytes(name));
            1
        }
    }
}

fn uname(_: &mut Shell, argv: &[&[u8]]) -> i32 {
    let mut flags = [false; 6];
    let rest = match options(argv, b"asnrvm", &mut flags) {
        Ok(r) => r,
        Err(c) => {
            eprintln!("uname: invalid option -- '{}'", c as char);
            return usage("uname");
        }
    };
    if !rest.is_empty() {
        eprintln!("uname: extra operand '{}'", Bytes(rest[0]));
        return usage("uname");
    }
    let u = match sys::uname() {
        Ok(u) => u,
        Err(e) => {
            eprintln!("uname: {e}");
            return 1;
        }
    };
    let [all, mut sn, n, r, v, m] = flags;
    if !flags.iter().any(|&f| f) {
        sn = true;
    }
    let fields: [(bool, &[u8]); 5] = [
        (sn, &u.sysname),
        (n, &u.nodename),
        (r, &u.release),
        (v, &u.version),
        (m, &u.machine),
    ];
    let mut w = FdWriter::<512>::new(STDOUT);
    let mut first = true;
    for (on, field) in fields {
        if on || all {
            if !first {
                w.write_bytes(b" ");
            }
            w.write_bytes(field_bytes(field));
            first = false;
        }
    }
    w.write_bytes(b"\n");
    w.finish().map_or(1, |()| 0)
}

fn pid(sh: &mut Shell, _: &[&[u8]]) -> i32 {
    match (sys::getpid(), sys::getppid()) {
        (Ok(p), Ok(pp)) => {
            println!("pid {p} (parent {pp})");
            sh.pid = p;
            0
        }
        (Err(e), _) | (_, Err(e)) => {
            eprintln!("pid: {e}");
            1
        }
    }
}

fn maps(_: &mut Shell, _: &[&[u8]]) -> i32 {
    match File::open_read(c"/proc/self/maps") {
        Ok(f) => {
            let mut buf = [0u8; 4096];
            match ulibc::fs::copy(f.fd(), STDOUT, &mut buf) {
                Ok(_) => 0,
                Err(e) => {
                    eprintln!("maps: /proc/self/maps: {e:?}");
                    1
                }
            }
        }
        Err(Errno::ENOENT) => {
            eprintln!(
                "maps: /proc/self/maps: {} (the kernel does not provide it yet)",
                Errno::ENOENT
            );
            1
        }
        Err(e) => {
            eprintln!("maps: /proc/self/maps: {e}");
            1
        }
    }
}

unsafe extern "C" {
    /// The page-aligned end of `.bss` (`link.ld`).
    static _end: u8;
}

fn mem(_: &mut Shell, _: &[&[u8]]) -> i32 {
    let end = &raw const _end as usize;
    let esp = {
        let here = 0u8;
        core::hint::black_box(&raw const here) as usize
    };
    let status = match ulibc::malloc::brk_raw(0) {
        Ok(b) => {
            let b = b as usize;
            println!(
                "break {b:#010x} (program end {end:#010x}, heap {} KiB); stack near {esp:#010x}",
                b.saturating_sub(end) >> 10
            );
            0
        }
        Err(e) => {
            println!("program end {end:#010x}; stack near {esp:#010x}");
            eprintln!(
                "mem: brk: {e}{}",
                if e == Errno::ENOSYS {
                    " (the kernel has no brk yet)"
                } else {
                    ""
                }
            );
            1
        }
    };
    let limits = [("STACK", RLIMIT_STACK), ("DATA", RLIMIT_DATA)];
    for (name, r) in limits {
        if let Ok(l) = sys::getrlimit(r) {
            let mut w = FdWriter::<128>::new(STDOUT);
            let _ = write!(w, "RLIMIT_{}: ", name);
            for (i, v) in [l.rlim_cur, l.rlim_max].into_iter().enumerate() {
                let sep = if i == 0 { "" } else { " / hard " };
                if v == RLIM_INFINITY {
                    let _ = write!(w, "{sep}unlimited");
                } else {
                    let _ = write!(w, "{sep}{} KiB", v >> 10);
                }
            }
            let _ = writeln!(w);
        }
    }
    status
}

fn date(_: &mut Shell, _: &[&[u8]]) -> i32 {
    match sys::clock_gettime(CLOCK_REALTIME) {
        Ok(t) => {
            println!("{} UTC", DateTime(t.tv_sec.max(0) as u64));
            0
        }
        Err(e) => {
            eprintln!("date: clock_gettime: {e}");
            1
        }
    }
}

/// `{s}.{ms}s` for nanoseconds.
struct Secs(u64);

impl core::fmt::Display for Secs {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(
            f,
            "{}.{:06}s",
            self.0 / 1_000_000_000,
            self.0 % 1_000_000_000 / 1000
        )
    }
}

fn time(sh: &mut Shell, argv: &[&[u8]]) -> i32 {
    let now = || sys::clock_gettime(CLOCK_MONOTONIC).map(|t| t.as_nanos());
    if argv.len() < 2 {
        return match now() {
            Ok(ns) => {
                println!("up {} (CLOCK_MONOTONIC)", Secs(ns));
                0
            }
            Err(e) => {
                eprintln!("time: clock_gettime: {e}");
                1
            }
        };
    }
    let (t0, c0) = (now(), timestamp());
    let status = sh.run(&argv[1..]);
    let (c1, t1) = (timestamp(), now());
    match (t0, t1) {
        (Ok(t0), Ok(t1)) => eprintln!(
            "real {}  ({} TSC ticks)",
            Secs(t1.saturating_sub(t0)),
            c1.wrapping_sub(c0)
        ),
        (Err(e), _) | (_, Err(e)) => eprintln!("time: clock_gettime: {e}"),
    }
    status
}

fn exit(sh: &mut Shell, argv: &[&[u8]]) -> i32 {
    let code = match argv.get(1) {
        None => sh.status,
        Some(a) => {
            let (neg, digits) = match a.strip_prefix(b"-") {
                Some(d) => (true, d),
                None => (false, *a),
            };
            match parse_u64(digits) {
                Some(v) => {
                    let v = (v & 0xff) as i32;
                    if neg { (256 - v) & 0xff } else { v }
                }
                None => {
                    eprintln!("exit: {}: numeric argument required", Bytes(a));
                    2
                }
            }
        }
    };
    if argv.len() > 2 {
        eprintln!("exit: too many arguments");
        return 1;
    }
    sh.exit = Some(code);
    code
}

// ---------------------------------------------------------------------------

fn main(args: Args) -> i32 {
    let mut sh = Shell::new();
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
                println!("phantom-unix sh — builtins only; type help");
            }
            session(&mut sh, &mut words, STDIN, interactive)
        }
    }
}

/// Reads and runs lines from `fd` until end of input or `exit`.
fn session(sh: &mut Shell, words: &mut Words, fd: Fd, interactive: bool) -> i32 {
    let mut reader = Reader::new(fd);
    loop {
        if interactive {
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
