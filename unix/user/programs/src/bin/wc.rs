//! `wc [-clw] [FILE…]`: counts lines, words and bytes of each FILE (stdin
//! without one, or for `-`), as POSIX `wc` prints them; with several files, a
//! total. `-c`, `-l`, `-w` choose the counts. Exit 1 if a file could not be
//! read.

#![no_std]
#![no_main]

use ulibc::prelude::*;
use ulibc::sys;

ulibc::entry!(main);

#[derive(Default, Clone, Copy)]
struct Counts {
    lines: u64,
    words: u64,
    bytes: u64,
}

fn count(fd: Fd) -> Result<Counts, Errno> {
    let mut c = Counts::default();
    let mut buf = [0u8; 4096];
    let mut in_word = false;
    loop {
        let n = sys::read(fd, &mut buf)?;
        if n == 0 {
            return Ok(c);
        }
        c.bytes += n as u64;
        for &b in &buf[..n] {
            if b == b'\n' {
                c.lines += 1;
            }
            let space = matches!(b, b' ' | b'\n' | b'\t' | b'\r' | b'\x0b' | b'\x0c');
            if !space && !in_word {
                c.words += 1;
            }
            in_word = !space;
        }
    }
}

fn show(c: Counts, which: [bool; 3], name: Option<&[u8]>) {
    let mut first = true;
    for (on, v) in which.into_iter().zip([c.lines, c.words, c.bytes]) {
        if on {
            if !first {
                print!(" ");
            }
            print!("{v}");
            first = false;
        }
    }
    match name {
        Some(n) => println!(" {}", Bytes(n)),
        None => println!(),
    }
}

fn main(args: Args) -> i32 {
    let mut which = [false; 3];
    let mut files: [&[u8]; 64] = [&[]; 64];
    let mut n = 0;
    for a in args.iter().skip(1) {
        let a = a.to_bytes();
        if a.len() > 1 && a[0] == b'-' {
            for &f in &a[1..] {
                match f {
                    b'l' => which[0] = true,
                    b'w' => which[1] = true,
                    b'c' => which[2] = true,
                    _ => {
                        eprintln!("usage: wc [-clw] [FILE…]");
                        return 2;
                    }
                }
            }
        } else if n < files.len() {
            files[n] = a;
            n += 1;
        }
    }
    if which == [false; 3] {
        which = [true; 3];
    }
    if n == 0 {
        return match count(STDIN) {
            Ok(c) => {
                show(c, which, None);
                0
            }
            Err(e) => {
                eprintln!("wc: {e}");
                1
            }
        };
    }
    let mut total = Counts::default();
    let mut status = 0;
    for &name in &files[..n] {
        let counted = if name == b"-" {
            count(STDIN)
        } else {
            File::open_bytes(name, O_RDONLY).and_then(|f| count(f.fd()))
        };
        match counted {
            Ok(c) => {
                show(c, which, Some(name));
                total.lines += c.lines;
                total.words += c.words;
                total.bytes += c.bytes;
            }
            Err(e) => {
                eprintln!("wc: {}: {e}", Bytes(name));
                status = 1;
            }
        }
    }
    if n > 1 {
        show(total, which, Some(b"total"));
    }
    status
}
