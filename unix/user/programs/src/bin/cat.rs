//! `cat [FILE…]`: copies each file (standard input if none, or for `-`) to
//! standard output. A file that cannot be opened or read prints
//! `cat: <path>: <strerror>` on standard error; the other files are still
//! copied and the exit status is 1. A write error on standard output stops
//! at once (status 1).

#![no_std]
#![no_main]

use ulibc::fs::{CopyError, copy};
use ulibc::prelude::*;

ulibc::entry!(main);

/// How copying one file went.
enum Outcome {
    Copied,
    ReadFailed,
    WriteFailed,
}

fn cat(name: &[u8], fd: Fd, buf: &mut [u8]) -> Outcome {
    match copy(fd, STDOUT, buf) {
        Ok(_) => Outcome::Copied,
        Err(CopyError::Read(e)) => {
            eprintln!("cat: {}: {}", Bytes(name), e);
            Outcome::ReadFailed
        }
        Err(CopyError::Write(e)) => {
            eprintln!("cat: write error: {}", e);
            Outcome::WriteFailed
        }
    }
}

fn main(args: Args) -> i32 {
    let mut buf = [0u8; 4096];
    let mut status = 0;
    let stdin_only = [c"-"];
    let paths: &mut dyn Iterator<Item = &CStr> = if args.len() <= 1 {
        &mut stdin_only.into_iter()
    } else {
        &mut args.iter().skip(1)
    };
    for path in paths {
        let name = path.to_bytes();
        let outcome = if name == b"-" {
            cat(name, STDIN, &mut buf)
        } else {
            match File::open_read(path) {
                Ok(f) => cat(name, f.fd(), &mut buf),
                Err(e) => {
                    eprintln!("cat: {}: {}", Bytes(name), e);
                    Outcome::ReadFailed
                }
            }
        };
        match outcome {
            Outcome::Copied => {}
            Outcome::ReadFailed => status = 1,
            Outcome::WriteFailed => return 1,
        }
    }
    status
}
