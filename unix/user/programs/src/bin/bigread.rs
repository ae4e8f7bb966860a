//! `bigread [MiB]`: maps MiB (default 400) of fresh memory and reads
//! `/dev/zero` into all of it, again and again, forever (run it with the
//! kernel's `timeout=S`). After about a second of it, it reports as a
//! `{"test":"bigread",…}` line the longest single `read` call: the kernel
//! bounds a call's running time (it returns a partial count), so no call may
//! keep the CPU — and the timer — for long.

#![no_std]
#![no_main]

use ulibc::prelude::*;
use ulibc::string::{format_array, parse_u64};
use ulibc::sys;

ulibc::entry!(main);

fn now_ns() -> u64 {
    sys::clock_gettime(CLOCK_MONOTONIC).map_or(0, |t| t.as_nanos())
}

fn main(args: Args) -> i32 {
    let mib = args.bytes(1).and_then(parse_u64).unwrap_or(400) as usize;
    let len = mib << 20;
    let Ok(buf) = sys::mmap_anon(len, PROT_READ | PROT_WRITE) else {
        eprintln!("bigread: cannot map {mib} MiB");
        return 1;
    };
    let Ok(zero) = sys::open(c"/dev/zero", O_RDONLY, 0) else {
        eprintln!("bigread: cannot open /dev/zero");
        return 1;
    };
    let start = now_ns();
    let (mut longest, mut calls, mut bytes) = (0u64, 0u64, 0u64);
    let mut reported = false;
    loop {
        let mut off = 0;
        while off < len {
            let t0 = now_ns();
            // SAFETY: `buf` is `len` bytes of this process's private memory.
            let r = unsafe { sys::raw::read(zero, buf.add(off), len - off) };
            longest = longest.max(now_ns() - t0);
            calls += 1;
            match r {
                Ok(n) if n > 0 => {
                    off += n as usize;
                    bytes += u64::from(n);
                }
                other => {
                    eprintln!("bigread: read gave {other:?}");
                    return 1;
                }
            }
            if !reported && now_ns() - start > 1_000_000_000 {
                reported = true;
                let detail = format_array::<128>(format_args!(
                    "{calls} reads, {bytes} bytes, longest call {} ms",
                    longest / 1_000_000
                ));
                ulibc::io::test_line("bigread", longest < 200_000_000, detail.as_str());
            }
        }
    }
}
