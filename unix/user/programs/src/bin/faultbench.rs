//! `faultbench [icount|wall] [PAGES]`: the page-fault benchmarks measured
//! from ring 3, as Linux's figures are. Each sample times one access to a
//! page never touched before (`lfence; rdtsc` around it, the empty-sample
//! median subtracted), and prints a line like the kernel's in-kernel
//! benchmarks, with `"level":"user"`:
//!
//! - `fault_zero_fill`: first write to a page of a 64 MiB `.bss` array
//!   (anonymous zero-fill), PAGES samples (default 16384 = all of it);
//! - `fault_minor`: first read of a page of a 2 MiB initialised `.data`
//!   array: the page is resident (the module's file page), only the PTE is
//!   missing (512 samples);
//! - `fault_cow_copy`: first write to a page of another 2 MiB `.data` array:
//!   the private copy of a shared file page (512 samples);
//! - `memcpy_1MiB`: `memcpy` of 1 MiB between two touched buffers (64
//!   samples) — no fault; a yardstick for the CPU (Linux ≈ 262,000).
//!
//! Linux, same QEMU, user-level, in guest instructions: minor ≈ 2,100,
//! zero-fill ≈ 6,400, COW ≈ 11,100.

#![no_std]
#![no_main]

use core::cell::UnsafeCell;
use core::hint::black_box;
use ulibc::bench::{Mode, report, timestamp, timing_overhead};
use ulibc::prelude::*;
use ulibc::string::parse_u64;

ulibc::entry!(main);

const PAGE: usize = 4096;
const ZERO_PAGES: usize = 16384;
const DATA_PAGES: usize = 512;
const MIB: usize = 1 << 20;

#[repr(C, align(4096))]
struct Pages<const N: usize>(UnsafeCell<[u8; N]>);
// SAFETY: one thread; accesses go through raw pointers.
unsafe impl<const N: usize> Sync for Pages<N> {}

impl<const N: usize> Pages<N> {
    fn page(&self, i: usize) -> *mut u8 {
        debug_assert!(i * PAGE < N);
        // SAFETY: in bounds.
        unsafe { self.0.get().cast::<u8>().add(i * PAGE) }
    }
}

/// Zero-initialised: in `.bss`, anonymous zero-fill pages.
static ZERO: Pages<{ ZERO_PAGES * PAGE }> = Pages(UnsafeCell::new([0; ZERO_PAGES * PAGE]));
/// Initialised: in `.data`, backed by the module's file pages.
static DATA_READ: Pages<{ DATA_PAGES * PAGE }> = Pages(UnsafeCell::new([0x5A; DATA_PAGES * PAGE]));
/// Initialised, written: private copies of file pages.
static DATA_WRITE: Pages<{ DATA_PAGES * PAGE }> = Pages(UnsafeCell::new([0xA5; DATA_PAGES * PAGE]));
/// memcpy buffers (`.bss`).
static COPY_FROM: Pages<MIB> = Pages(UnsafeCell::new([0; MIB]));
static COPY_TO: Pages<MIB> = Pages(UnsafeCell::new([0; MIB]));

struct Samples(UnsafeCell<[u64; ZERO_PAGES]>);
// SAFETY: one thread.
unsafe impl Sync for Samples {}
static SAMPLES: Samples = Samples(UnsafeCell::new([0; ZERO_PAGES]));

fn main(args: Args) -> i32 {
    let Ok(mode) = Mode::from_arg(args.str(1)) else {
        eprintln!("usage: faultbench [icount|wall] [PAGES]");
        return 2;
    };
    let pages = args
        .bytes(2)
        .and_then(parse_u64)
        .map_or(ZERO_PAGES, |p| (p as usize).clamp(1, ZERO_PAGES));
    // SAFETY: the only reference to SAMPLES, in one thread.
    let all = unsafe { &mut *SAMPLES.0.get() };
    all.fill(1); // fault the sample array in before measuring
    let overhead = timing_overhead(&mut all[..pages]);
    let mut status = 0;

    // Zero-fill: first write.
    let samples = &mut all[..pages];
    for (i, s) in samples.iter_mut().enumerate() {
        let p = ZERO.page(i);
        let t0 = timestamp();
        // SAFETY: a page of ZERO, ours.
        unsafe { p.write_volatile(1) };
        *s = timestamp() - t0;
    }
    report(
        "fault_zero_fill",
        mode,
        samples,
        overhead,
        ",\"case\":\"first write to a .bss page\"",
    );

    // Minor: first read of a resident file page.
    let samples = &mut all[..DATA_PAGES];
    let mut sum = 0u64;
    for (i, s) in samples.iter_mut().enumerate() {
        let p = DATA_READ.page(i);
        let t0 = timestamp();
        // SAFETY: a page of DATA_READ, ours.
        let v = unsafe { p.read_volatile() };
        *s = timestamp() - t0;
        sum += u64::from(v);
    }
    if sum != 0x5A * DATA_PAGES as u64 {
        eprintln!("faultbench: .data pages read back wrong (sum {sum})");
        status = 1;
    }
    report(
        "fault_minor",
        mode,
        samples,
        overhead,
        ",\"case\":\"first read of a .data page\"",
    );

    // COW: first write to a shared file page.
    let samples = &mut all[..DATA_PAGES];
    for (i, s) in samples.iter_mut().enumerate() {
        let p = DATA_WRITE.page(i);
        let t0 = timestamp();
        // SAFETY: a page of DATA_WRITE, ours.
        unsafe { p.add(1).write_volatile(7) };
        *s = timestamp() - t0;
    }
    // The rest of each page must still hold the file's bytes.
    let intact = (0..DATA_PAGES).all(|i| {
        // SAFETY: pages of DATA_WRITE.
        unsafe {
            DATA_WRITE.page(i).read_volatile() == 0xA5
                && DATA_WRITE.page(i).add(1).read_volatile() == 7
        }
    });
    if !intact {
        eprintln!("faultbench: copied .data pages lost their contents");
        status = 1;
    }
    report(
        "fault_cow_copy",
        mode,
        samples,
        overhead,
        ",\"case\":\"first write to a .data page\"",
    );

    // memcpy of 1 MiB between touched buffers.
    // SAFETY: both buffers are ours, distinct, 1 MiB each.
    unsafe {
        COPY_FROM.page(0).write_bytes(0x11, MIB);
        COPY_TO.page(0).write_bytes(0, MIB);
    }
    let samples = &mut all[..64];
    for (i, s) in samples.iter_mut().enumerate() {
        // black_box: LTO must not drop copies nobody reads.
        let (from, to) = (black_box(COPY_FROM.page(0)), black_box(COPY_TO.page(0)));
        // SAFETY: a byte of COPY_FROM, ours.
        unsafe { from.add(i).write_volatile(i as u8) };
        let t0 = timestamp();
        // SAFETY: as above.
        unsafe { core::ptr::copy_nonoverlapping(from, to, MIB) };
        *s = timestamp() - t0;
        // SAFETY: a byte of COPY_TO, ours.
        if unsafe { to.add(i).read_volatile() } != i as u8 {
            eprintln!("faultbench: memcpy copied wrong bytes");
            status = 1;
        }
    }
    report("memcpy_1MiB", mode, samples, overhead, "");
    status
}
