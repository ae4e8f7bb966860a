//! `kill [-SIGNAL] PID…`: sends SIGNAL (a number or a name, `-9`, `-KILL`,
//! `-SIGINT`; default `TERM`) to each PID (negative: a process group). Exit 1
//! if a signal could not be sent, 2 on bad usage.

#![no_std]
#![no_main]

use ulibc::prelude::*;
use ulibc::string::parse_u64;
use ulibc::sys;

ulibc::entry!(main);

fn signal_number(spec: &[u8]) -> Option<u32> {
    if let Some(n) = parse_u64(spec) {
        return u32::try_from(n).ok().filter(|&n| n <= 31);
    }
    let name = spec.strip_prefix(b"SIG").unwrap_or(spec);
    ulibc::abi::signal::ALL
        .iter()
        .find(|(n, _)| n.as_bytes().strip_prefix(b"SIG") == Some(name))
        .map(|&(_, v)| v as u32)
}

fn main(args: Args) -> i32 {
    let mut sig = ulibc::abi::signal::SIGTERM;
    let mut status = 0;
    let mut any = false;
    for (i, a) in args.iter().enumerate().skip(1) {
        let a = a.to_bytes();
        if i == 1 && a.len() > 1 && a[0] == b'-' && !a[1].is_ascii_digit()
            || i == 1 && a.starts_with(b"-") && args.len() > 2
        {
            match signal_number(&a[1..]) {
                Some(s) => {
                    sig = s;
                    continue;
                }
                None => {
                    eprintln!("kill: {}: unknown signal", Bytes(a));
                    return 2;
                }
            }
        }
        let (negative, digits) = match a.strip_prefix(b"-") {
            Some(d) => (true, d),
            None => (false, a),
        };
        let Some(pid) = parse_u64(digits).and_then(|p| i32::try_from(p).ok()) else {
            eprintln!("kill: {}: not a process id", Bytes(a));
            return 2;
        };
        any = true;
        let target = if negative { -pid } else { pid };
        if let Err(e) = sys::kill(target, sig) {
            eprintln!("kill: ({}): {e}", target);
            status = 1;
        }
    }
    if !any {
        eprintln!("usage: kill [-SIGNAL] PID…");
        return 2;
    }
    status
}
