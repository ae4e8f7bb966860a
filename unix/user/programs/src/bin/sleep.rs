//! `sleep SECONDS`: sleeps that long (whole or fractional seconds, `0.5`)
//! without busy waiting. Exit 2 on bad usage.

#![no_std]
#![no_main]

use ulibc::prelude::*;
use ulibc::string::parse_u64;
use ulibc::sys;

ulibc::entry!(main);

fn main(args: Args) -> i32 {
    let Some(arg) = args.bytes(1) else {
        eprintln!("usage: sleep SECONDS");
        return 2;
    };
    let (whole, frac) = match arg.iter().position(|&b| b == b'.') {
        Some(dot) => (&arg[..dot], &arg[dot + 1..]),
        None => (arg, &b""[..]),
    };
    let secs = if whole.is_empty() {
        Some(0)
    } else {
        parse_u64(whole)
    };
    let mut nanos = 0u64;
    let mut scale = 100_000_000u64;
    for &d in frac.iter().take(9) {
        if !d.is_ascii_digit() {
            eprintln!("sleep: {}: not a number of seconds", Bytes(arg));
            return 2;
        }
        nanos += u64::from(d - b'0') * scale;
        scale /= 10;
    }
    let Some(secs) = secs else {
        eprintln!("sleep: {}: not a number of seconds", Bytes(arg));
        return 2;
    };
    let req = Timespec {
        tv_sec: secs.min(i32::MAX as u64) as _,
        tv_nsec: nanos as _,
    };
    match sys::nanosleep(&req) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("sleep: {e}");
            1
        }
    }
}
