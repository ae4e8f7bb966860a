//! `sbrkbench [icount|wall] [N]`: the cost of growing the heap by one page
//! and touching it, at three heap sizes. For each size S of
//! 1 MiB, 64 MiB and 1 GiB: the break first grows by S without touching
//! anything (untouched pages cost nothing), then N samples (default 10000,
//! at least 10000; each new page is memory: 10000 pages = 40 MiB) each time
//! one `sbrk(+4096)` (ulibc's, over syscall `brk`) followed by the first
//! write to the new page; then the break goes back to where it started, so
//! each size starts clean. Prints one line per size, like `faultbench`:
//! `{"bench":"sbrk_touch_1MiB","level":"user","mode":…,"unit":…,"median":…,
//! "p99":…,"n":…,"value":median,"heap":S,"case":…}` (empty-sample median
//! subtracted). A size whose initial growth `brk` refuses is skipped with a
//! message on stderr. The design goal: the cost does not depend on S (1 GiB
//! within 1.1× of 1 MiB). Linux, same QEMU: ≈ 11,600 instructions at every
//! size. Exit 0 if every size was measured and every page read back.

#![no_std]
#![no_main]

use core::cell::UnsafeCell;
use ulibc::bench::{Mode, Stats, report, timestamp, timing_overhead};
use ulibc::malloc::{brk, current_break, sbrk};
use ulibc::prelude::*;
use ulibc::string::{format_array, parse_u64};

ulibc::entry!(main);

const PAGE: usize = 4096;
const MIB: usize = 1 << 20;
const DEFAULT_SAMPLES: usize = 10_000;
const MAX_SAMPLES: usize = 32_768;

struct Samples(UnsafeCell<[u64; MAX_SAMPLES]>);
// SAFETY: one thread.
unsafe impl Sync for Samples {}
static SAMPLES: Samples = Samples(UnsafeCell::new([0; MAX_SAMPLES]));

/// Pages of the split measurement (`sbrk` alone, then the touch alone).
const SPLIT: usize = 1000;
struct Split(UnsafeCell<[[u64; SPLIT]; 2]>);
// SAFETY: one thread.
unsafe impl Sync for Split {}
static SPLIT_SAMPLES: Split = Split(UnsafeCell::new([[0; SPLIT]; 2]));

/// The medians (in `mode`'s unit, `overhead` subtracted) of `SPLIT` calls
/// of `sbrk(+4096)` alone, then of the first writes to those pages: where
/// the cost of a sample goes. `None` if `sbrk` failed.
fn split_costs(overhead: u64, mode: Mode) -> Option<(u64, u64)> {
    // SAFETY: the only reference to SPLIT_SAMPLES, in one thread (its
    // pages were touched in `main`).
    let [grow, touch] = unsafe { &mut *SPLIT_SAMPLES.0.get() };
    let first = current_break().ok()?;
    for s in grow.iter_mut() {
        let t0 = timestamp();
        let r = sbrk(PAGE as isize);
        *s = timestamp() - t0;
        r.ok()?;
    }
    for (i, s) in touch.iter_mut().enumerate() {
        let p = (first + i * PAGE) as *mut u32;
        let t0 = timestamp();
        // SAFETY: the page was added to the heap above.
        unsafe { p.write_volatile(1) };
        *s = timestamp() - t0;
    }
    let median = |v: &mut [u64]| {
        v.iter_mut().for_each(|x| *x = x.saturating_sub(overhead));
        mode.convert(Stats::of(v).median)
    };
    Some((median(grow), median(touch)))
}

/// The value written to the `i`-th new page.
fn stamp(i: usize) -> u32 {
    (i as u32).wrapping_mul(0x9E37_79B1) | 1
}

/// Measures one heap size; `Err` with a message if it could not.
fn measure(
    name: &str,
    size: usize,
    base: usize,
    samples: &mut [u64],
    overhead: u64,
    mode: Mode,
) -> Result<(), &'static str> {
    // Grow by `size` without touching.
    if let Err(e) = brk(base + size) {
        eprintln!(
            "sbrkbench: {name}: brk({:#x}) (+{} MiB, untouched) refused: {e}; size skipped",
            base + size,
            size / MIB
        );
        return Err("initial growth refused");
    }
    let top = base + size;
    let mut failed = None;
    let mut done = 0;
    for (i, s) in samples.iter_mut().enumerate() {
        let t0 = timestamp();
        let r = sbrk(PAGE as isize);
        if let Ok(page) = r {
            // SAFETY: [page, page + 4096) was just added to the heap.
            unsafe { (page as *mut u32).write_volatile(stamp(i)) };
        }
        let t1 = timestamp();
        match r {
            Ok(_) => *s = t1 - t0,
            Err(e) => {
                failed = Some(e);
                break;
            }
        }
        done = i + 1;
    }
    let mut status = Ok(());
    if let Some(e) = failed {
        eprintln!("sbrkbench: {name}: sbrk(+4096) failed after {done} pages: {e}");
        status = Err("sbrk failed");
    }
    // Every new page holds its stamp.
    let bad = (0..done)
        .filter(|&i| {
            // SAFETY: the page is still in the heap.
            unsafe { ((top + i * PAGE) as *const u32).read_volatile() != stamp(i) }
        })
        .count();
    if bad > 0 {
        eprintln!("sbrkbench: {name}: {bad} of {done} pages read back wrong");
        status = Err("pages read back wrong");
    }
    if done > 0 {
        // Where the time goes, at the same size (after the samples).
        let split = if failed.is_none() {
            split_costs(overhead, mode)
        } else {
            None
        };
        let extra = format_array::<256>(format_args!(
            ",\"heap\":{size},\"sbrk_only\":{},\"touch_only\":{},\"case\":\"sbrk(+4096) + first write, heap grown by {} untouched first\"",
            split.map_or(-1, |s| s.0 as i64),
            split.map_or(-1, |s| s.1 as i64),
            name.strip_prefix("sbrk_touch_").unwrap_or(name)
        ));
        report(name, mode, &mut samples[..done], overhead, extra.as_str());
    }
    // Back to the start, for the next size.
    if let Err(e) = brk(base) {
        eprintln!("sbrkbench: {name}: brk back to {base:#x} failed: {e}");
        return Err("shrink failed");
    }
    status
}

fn main(args: Args) -> i32 {
    let Ok(mode) = Mode::from_arg(args.str(1)) else {
        eprintln!("usage: sbrkbench [icount|wall] [N]");
        return 2;
    };
    let n = args
        .bytes(2)
        .and_then(parse_u64)
        .map_or(DEFAULT_SAMPLES, |v| v as usize)
        .clamp(DEFAULT_SAMPLES, MAX_SAMPLES);
    // SAFETY: the only reference to SAMPLES, in one thread.
    let samples = &mut unsafe { &mut *SAMPLES.0.get() }[..n];
    samples.fill(1); // fault the sample arrays in before measuring
    // SAFETY: the only reference to SPLIT_SAMPLES at this point.
    unsafe { &mut *SPLIT_SAMPLES.0.get() }
        .iter_mut()
        .for_each(|a| a.fill(1));
    let overhead = timing_overhead(samples);

    let start = match current_break() {
        Ok(b) => b,
        Err(e) => {
            eprintln!("sbrkbench: brk(0): {e}");
            return 1;
        }
    };
    // Whole pages from the first page boundary at or above the break.
    let base = start.next_multiple_of(PAGE);
    if base != start
        && let Err(e) = brk(base)
    {
        eprintln!("sbrkbench: brk({base:#x}): {e}");
        return 1;
    }
    // Warm the path up (the wrapper, the syscall, the page tables near the
    // break) with a few pages, then start clean.
    for _ in 0..16 {
        if let Ok(p) = sbrk(PAGE as isize) {
            // SAFETY: the page was just added to the heap.
            unsafe { (p as *mut u8).write_volatile(1) };
        }
    }
    if let Err(e) = brk(base) {
        eprintln!("sbrkbench: brk({base:#x}): {e}");
        return 1;
    }

    let mut status = 0;
    for (name, size) in [
        ("sbrk_touch_1MiB", MIB),
        ("sbrk_touch_64MiB", 64 * MIB),
        ("sbrk_touch_1GiB", 1024 * MIB),
    ] {
        if measure(name, size, base, samples, overhead, mode).is_err() {
            status = 1;
        }
    }
    if current_break() != Ok(base) {
        eprintln!("sbrkbench: the break did not come back to {base:#x}");
        status = 1;
    }
    let _ = brk(start);
    status
}
