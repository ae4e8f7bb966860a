//! `head [-n N] [FILE…]`: the first N lines (10 by default) of each FILE, or of
//! stdin without one. Exit 1 if a file could not be read, 2 on bad usage.

#![no_std]
#![no_main]

use ulibc::prelude::*;
use ulibc::string::parse_u64;
use ulibc::sys;

ulibc::entry!(main);

/// Copies the first `lines` lines of `fd` to stdout.
fn head(fd: Fd, lines: u64) -> Result<(), Errno> {
    let mut buf = [0u8; 4096];
    let mut left = lines;
    while left > 0 {
        let n = sys::read(fd, &mut buf)?;
        if n == 0 {
            return Ok(());
        }
        let mut end = n;
        for (i, &b) in buf[..n].iter().enumerate() {
            if b == b'\n' {
                left -= 1;
                if left == 0 {
                    end = i + 1;
                    break;
                }
            }
        }
        ulibc::io::write_all(STDOUT, &buf[..end])?;
    }
    Ok(())
}

fn main(args: Args) -> i32 {
    let mut lines = 10;
    let mut first = 1;
    if args.bytes(1) == Some(b"-n") {
        match args.bytes(2).and_then(parse_u64) {
            Some(n) => lines = n,
            None => {
                eprintln!("usage: head [-n N] [FILE…]");
                return 2;
            }
        }
        first = 3;
    }
    if args.len() <= first {
        return match head(STDIN, lines) {
            Ok(()) => 0,
            Err(e) => {
                eprintln!("head: {e}");
                1
            }
        };
    }
    let mut status = 0;
    for a in args.iter().skip(first) {
        let name = a.to_bytes();
        let r = File::open_bytes(name, O_RDONLY).and_then(|f| head(f.fd(), lines));
        if let Err(e) = r {
            eprintln!("head: {}: {e}", Bytes(name));
            status = 1;
        }
    }
    status
}
