//! `echo [-n] ARGS…`: prints its arguments separated by spaces, then a
//! newline (none with `-n`), in one `write`.

#![no_std]
#![no_main]

use ulibc::io::FdWriter;
use ulibc::prelude::*;

ulibc::entry!(main);

fn main(args: Args) -> i32 {
    let mut words = args.iter().skip(1).peekable();
    let newline = words.next_if(|w| w.to_bytes() == b"-n").is_none();
    let mut out = FdWriter::<4096>::new(STDOUT);
    for (i, w) in words.enumerate() {
        if i > 0 {
            out.write_bytes(b" ");
        }
        out.write_bytes(w.to_bytes());
    }
    if newline {
        out.write_bytes(b"\n");
    }
    match out.finish() {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("echo: write error: {e}");
            1
        }
    }
}
