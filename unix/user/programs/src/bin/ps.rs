//! `ps`: one line per live process, from `/proc/<pid>/status` and `cmdline`:
//! `PID PPID PGID STAT RSS NAME ARGS` (RSS in resident pages, shared ones
//! included).

#![no_std]
#![no_main]

use ulibc::fs::read_dir;
use ulibc::prelude::*;
use ulibc::string::{format_array, with_cstr};

ulibc::entry!(main);

/// The contents of `path` (at most 4 KiB).
fn slurp<'b>(path: &[u8], buf: &'b mut [u8; 4096]) -> Option<&'b [u8]> {
    let f = with_cstr(path, File::open_read).ok()?;
    let n = f.read_full(buf).ok()?;
    Some(&buf[..n])
}

/// The value of `Name:\tvalue` in a status text.
fn field<'t>(text: &'t [u8], name: &[u8]) -> &'t [u8] {
    text.split(|&b| b == b'\n')
        .find_map(|line| line.strip_prefix(name)?.strip_prefix(b":\t"))
        .unwrap_or(b"?")
}

fn main(_args: Args) -> i32 {
    let dir = match read_dir(c"/proc") {
        Ok(d) => d,
        Err(e) => {
            eprintln!("ps: /proc: {e}");
            return 1;
        }
    };
    println!("  PID  PPID  PGID STAT   RSS NAME             ARGS");
    for entry in dir.flatten() {
        let name = entry.name();
        if name.is_empty() || !name.iter().all(u8::is_ascii_digit) {
            continue;
        }
        let mut status = [0u8; 4096];
        let path = format_array::<64>(format_args!("/proc/{}/status", Bytes(name)));
        let Some(text) = slurp(path.as_bytes(), &mut status) else {
            continue; // it ended meanwhile
        };
        let mut cmd = [0u8; 4096];
        let path = format_array::<64>(format_args!("/proc/{}/cmdline", Bytes(name)));
        let args = slurp(path.as_bytes(), &mut cmd).unwrap_or(b"");
        let state = field(text, b"State");
        print!(
            "{:>5} {:>5} {:>5} {:<4} {:>5} {:<16}",
            Bytes(name),
            Bytes(field(text, b"PPid")),
            Bytes(field(text, b"Pgid")),
            Bytes(&state[..state.len().min(1)]),
            Bytes(field(text, b"ResidentPages")),
            Bytes(field(text, b"Name")),
        );
        for a in args.split(|&b| b == 0).filter(|a| !a.is_empty()) {
            print!(" {}", Bytes(a));
        }
        println!();
    }
    0
}
