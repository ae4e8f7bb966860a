//! `syscallbench [icount|wall] [N]`: the null-syscall benchmark,
//! `syscall_null` — `getpid` through the call gate, timed one call per
//! sample with `lfence; rdtsc`, N samples (default 16384, at least 10000),
//! the median of N empty samples subtracted. Prints one line
//! `{"bench":"syscall_null","level":"user","mode":…,"unit":"instructions"|"ns",
//! "median":…,"p99":…,"n":…,"value":median,"overhead":…}`.
//!
//! The mode must match how QEMU runs: `icount` under `-icount
//! shift=0,sleep=off` (figures are guest instructions), else `wall` (ns,
//! TSC rate measured against `CLOCK_MONOTONIC`). Compare with Linux's
//! `int 0x80` path, ≈ 370 guest instructions.

#![no_std]
#![no_main]

use core::cell::UnsafeCell;
use ulibc::bench::{Mode, report, timestamp, timing_overhead};
use ulibc::prelude::*;
use ulibc::string::parse_u64;
use ulibc::sys;

ulibc::entry!(main);

const MAX_SAMPLES: usize = 65536;

struct Samples(UnsafeCell<[u64; MAX_SAMPLES]>);
// SAFETY: one thread.
unsafe impl Sync for Samples {}
static SAMPLES: Samples = Samples(UnsafeCell::new([0; MAX_SAMPLES]));

fn main(args: Args) -> i32 {
    let Ok(mode) = Mode::from_arg(args.str(1)) else {
        eprintln!("usage: syscallbench [icount|wall] [N]");
        return 2;
    };
    let n = args
        .bytes(2)
        .and_then(parse_u64)
        .unwrap_or(16384)
        .clamp(10_000, MAX_SAMPLES as u64) as usize;
    // SAFETY: the only reference to SAMPLES, in one thread.
    let samples = &mut unsafe { &mut *SAMPLES.0.get() }[..n];
    // Touch every page of the sample array first: no page fault inside a
    // measurement, nor between them.
    samples.fill(1);
    let overhead = timing_overhead(samples);
    // Warm up the path (and its page tables).
    for _ in 0..100 {
        let _ = sys::getpid();
    }
    let mut ok = true;
    for s in samples.iter_mut() {
        let t0 = timestamp();
        let r = sys::getpid();
        let t1 = timestamp();
        ok &= r.is_ok();
        *s = t1 - t0;
    }
    if !ok {
        eprintln!("syscallbench: getpid failed: {}", ulibc::errno::errno());
        return 1;
    }
    let extra =
        ulibc::string::format_array::<64>(format_args!(",\"overhead\":{}", mode.convert(overhead)));
    report("syscall_null", mode, samples, overhead, extra.as_str());
    0
}
